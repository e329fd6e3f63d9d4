//! The log as people read it: a subject's history (each event in the
//! council's words, when it happened, when it was recorded and by whom,
//! voided entries struck through with who voided them, when and why), one
//! event's page, and corrections: voiding an entry, or voiding it and
//! recording the right one in one step. Nothing is ever rewritten.

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::forms::{
    Errors, JustRecorded, When, button, csrf, done, error_summary, record, refused, text_input,
    when_input,
};
use crate::layout::{not_found_page, success_banner, titled, when};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::event::EventVoided;
use domain::{Event, EventKind, EventRef, Logged, Seq};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

/// An instant as a form's "when" fields show it, in the council's time zone.
fn local_when(ctx: &Ctx, at: jiff::Timestamp) -> When {
    let local = at.to_zoned(ctx.council.pack.time_zone.clone());
    When {
        when_date: local.strftime("%Y-%m-%d").to_string(),
        when_time: local.strftime("%H:%M").to_string(),
        when_default: String::new(),
    }
}

/// A field's name as a label: `approved_by` reads "Approved by".
fn label(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `{event}` in a path: a sequence number, `#SEQ`, or the event's own id.
fn find(ctx: &Ctx, reference: &str) -> Option<Logged> {
    let reference = reference.trim();
    let parsed = match reference.parse::<Seq>() {
        Ok(seq) => Some(EventRef::Seq(seq)),
        Err(_) => reference.parse::<EventRef>().ok(),
    }?;
    ctx.council.with_ledger(|l| l.find(&parsed).cloned())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CorrectForm {
    reason: String,
    /// The corrected event's fields, `f_NAME`.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

fn event_page(
    ctx: &Ctx,
    state: &AppState,
    logged: &Logged,
    form: &CorrectForm,
    errors: &Errors,
    recorded: &str,
) -> Markup {
    let event = &logged.event;
    let void = logged
        .voided_by
        .and_then(|v| ctx.council.with_ledger(|l| l.get(v).cloned()));
    let fields = match event.kind.to_fields() {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let live = logged.is_live();
    let value = |name: &str, original: &serde_json::Value| -> String {
        form.rest
            .get(&format!("f_{name}"))
            .cloned()
            .unwrap_or_else(|| match original {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    };
    let original_when = local_when(ctx, event.at);
    let sent_when = When {
        when_date: form.rest.get("when_date").cloned().unwrap_or_default(),
        when_time: form.rest.get("when_time").cloned().unwrap_or_default(),
        when_default: form.rest.get("when_default").cloned().unwrap_or_default(),
    };
    let shown_when = if sent_when.when_date.is_empty() {
        original_when
    } else {
        sent_when
    };
    let c = &ctx.council.id;
    let row = |k: &str, v: Markup| {
        html! {
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { (k) } dd class="govuk-summary-list__value" { (v) } }
        }
    };
    titled(
        &format!("Entry {}", logged.reference()),
        ctx,
        state,
        html! {
            @if !recorded.is_empty() { (success_banner("The entry was corrected")) }
            (error_summary(errors))
            p class="govuk-body-l" {
                @if void.is_some() { del { (crate::history::describe(&event.kind)) } } @else { (crate::history::describe(&event.kind)) }
            }
            dl class="govuk-summary-list" {
                (row("Happened", html! { (when(ctx, event.at)) }))
                (row("Recorded", html! { (when(ctx, event.recorded_or_at())) @if event.recorded.is_none() { " (as it happened)" } }))
                (row("Recorded by", html! { (event.by.as_ref().map(|b| b.to_string()).unwrap_or_else(|| "Not recorded".into())) }))
                (row("Place in the log", html! { "#" (logged.seq) }))
                @if let Some(id) = event.own_id() { (row("Council's id", html! { (id) })) }
                (row("Type", html! { (event.kind.event_type().name()) }))
                @for (name, v) in &fields {
                    (row(&label(name), html! { (match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }) }))
                }
                @if let Some(void) = &void {
                    (row("Voided", html! {
                        "On " (when(ctx, void.event.recorded_or_at()))
                        @if let Some(by) = &void.event.by { " by " (by) }
                        @if let EventKind::EventVoided(v) = &void.event.kind { ": " (v.reason) }
                        " (" a class="govuk-link" href=(crate::history::event_path(ctx, void.seq)) { "#" (void.seq) } ")"
                    }))
                }
            }
            @if !ctx.council.history(&crate::council::Subject::Reminded(logged.seq)).is_empty() {
                (crate::history::reminders(ctx, &crate::council::Subject::Reminded(logged.seq), "Who was told"))
            }
            @if live && ctx.may(state, Action::CorrectRecords) {
                h2 class="govuk-heading-m" { "Correct this entry" }
                p class="govuk-body" { "Nothing is rewritten: the entry is voided (it stays in the log, struck through, with your reason) and, if you change anything below, the corrected entry is recorded in its place. Both happen together or not at all." }
                form method="post" action=(format!("/c/{c}/events/{}/correct", logged.seq)) novalidate {
                    (csrf(ctx))
                    (text_input("reason", "Why is it being corrected?", &form.reason, Some("For example: typed in error, issued to the wrong person"), errors))
                    @for (name, original) in &fields {
                        (text_input(&format!("f_{name}"), &label(name), &value(name, original), None, errors))
                    }
                    (when_input(ctx, "when", &shown_when, "When did it happen?", errors))
                    div class="govuk-button-group" {
                        (button("Void and record the corrected entry"))
                        button type="submit" name="void_only" value="yes" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Void only" }
                    }
                }
            }
        },
    )
}

pub async fn event(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, reference)): Path<(String, String)>,
    Query(q): Query<JustRecorded>,
) -> Response {
    match find(&ctx, &reference) {
        Some(logged) => event_page(
            &ctx,
            &state,
            &logged,
            &CorrectForm::default(),
            &Errors::default(),
            &q.recorded,
        )
        .into_response(),
        None => not_found_page("No such entry"),
    }
}

/// The corrected event from the form: the original's type, with each field
/// as typed (a `true`/`false` field read as such; a blank optional field
/// left out) and the time the `when` fields give.
fn corrected(
    ctx: &Ctx,
    original: &Event,
    form: &CorrectForm,
    errors: &mut Errors,
) -> Option<Event> {
    let serde_json::Value::Object(fields) = original.kind.to_fields() else {
        return None;
    };
    let mut object = serde_json::Map::new();
    for (name, was) in &fields {
        let typed = form
            .rest
            .get(&format!("f_{name}"))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        let value = match was {
            serde_json::Value::Bool(_) => match typed.as_str() {
                "true" | "yes" => serde_json::Value::Bool(true),
                "false" | "no" => serde_json::Value::Bool(false),
                _ => {
                    errors.add(
                        &format!("f_{name}"),
                        format!("Enter true or false for {name}"),
                    );
                    continue;
                }
            },
            _ if typed.is_empty() => continue,
            _ => serde_json::Value::String(typed),
        };
        object.insert(name.clone(), value);
    }
    let when = When {
        when_date: form.rest.get("when_date").cloned().unwrap_or_default(),
        when_time: form.rest.get("when_time").cloned().unwrap_or_default(),
        // Not "now": left as shown, the time is the original's, to the second.
        when_default: String::new(),
    };
    let original_when = local_when(ctx, original.at);
    let at = if (when.when_date.trim(), when.when_time.trim())
        == (
            original_when.when_date.as_str(),
            original_when.when_time.as_str(),
        ) {
        original.at
    } else {
        match when.at(ctx) {
            Ok(at) => at,
            Err(message) => {
                errors.add("when", message);
                return None;
            }
        }
    };
    let kind = match EventKind::from_fields(original.kind.event_type(), object) {
        Ok(kind) => kind,
        Err(e) => {
            errors.add("reason", format!("The corrected entry is not valid: {e}"));
            return None;
        }
    };
    if kind == original.kind && at == original.at {
        errors.add(
            "reason",
            "Nothing was changed: change a field or the time, or choose Void only",
        );
        return None;
    }
    Some(ctx.event(at, kind))
}

pub async fn correct(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, reference)): Path<(String, String)>,
    Form(form): Form<CorrectForm>,
) -> Response {
    let Some(logged) = find(&ctx, &reference) else {
        return not_found_page("No such entry");
    };
    let mut errors = Errors::default();
    let reason = form.reason.trim();
    if reason.is_empty() {
        errors.add("reason", "Say why the entry is being corrected");
    }
    let void_only = form.rest.get("void_only").is_some_and(|v| v == "yes");
    let replacement = if void_only {
        None
    } else {
        corrected(&ctx, &logged.event, &form, &mut errors)
    };
    if !errors.is_empty() {
        return refused(event_page(&ctx, &state, &logged, &form, &errors, ""));
    }
    let void = ctx.event(
        ctx.now,
        EventKind::EventVoided(EventVoided {
            event: EventRef::Seq(logged.seq),
            reason: reason.to_owned(),
        }),
    );
    let mut events = vec![void];
    events.extend(replacement);
    match record(&state, &ctx, events, "reason").await {
        Ok(recorded) => {
            // Show the corrected entry, or the voided one.
            let seq = recorded.seqs.get(1).copied().unwrap_or(logged.seq);
            done(format!(
                "{}?recorded=corrected",
                crate::history::event_path(&ctx, seq)
            ))
        }
        Err(errors) => refused(event_page(&ctx, &state, &logged, &form, &errors, "")),
    }
}
