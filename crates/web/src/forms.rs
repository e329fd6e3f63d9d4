//! Forms: GOV.UK inputs with their errors, the "when did this happen"
//! fields, what a form's text means (optional text, ids, local times), and
//! the one way a form records events: `record_one` for a single event,
//! `record` for several, either refused back onto the page with 422.

use crate::council::{self, CommandError, Reason};
use crate::ctx::Ctx;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Event, EventKind};
use jiff::Timestamp;
use jiff::civil::DateTime;
use maud::{Markup, html};
use serde::Deserialize;

/// Errors of a form, by field, in the order they are to be shown.
#[derive(Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    /// One error, on `field`.
    pub fn one(field: &str, message: impl Into<String>) -> Errors {
        let mut errors = Errors::default();
        errors.add(field, message);
        errors
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    /// The errors with those of field `from` moved to field `to` (the "when"
    /// of a command onto the form on the page that sent it).
    pub fn renamed(mut self, from: &str, to: &str) -> Errors {
        for (field, _) in &mut self.0 {
            if field == from {
                *field = to.to_owned();
            }
        }
        self
    }

    /// A refused command's reasons, each on its field (or on `fallback`).
    pub fn from_command(e: CommandError, fallback: &str) -> Errors {
        let mut errors = Errors::default();
        match e {
            CommandError::Refused(reasons) => {
                for Reason { field, message } in reasons {
                    errors.add(field.unwrap_or(fallback), message);
                }
            }
            CommandError::Store(e) => {
                tracing::error!(error = %e, "store failed during a command");
                crate::outage::store_failed();
                errors.add(
                    fallback,
                    "Warden could not save this just now. Nothing was recorded; try again.",
                );
            }
        }
        errors
    }
}

/// The GOV.UK error summary: shown at the top of a form that was refused.
pub fn error_summary(errors: &Errors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="govuk-error-summary" data-module="govuk-error-summary" {
                div role="alert" {
                    h2 class="govuk-error-summary__title" { "There is a problem" }
                    div class="govuk-error-summary__body" {
                        ul class="govuk-list govuk-error-summary__list" {
                            @for (field, message) in &errors.0 {
                                li { a href=(format!("#{field}")) { (message) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A labelled text input with its hint and error.
pub fn text_input(
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    errors: &Errors,
) -> Markup {
    text_control(false, (name, label, value, hint), errors)
}

/// A labelled one-line input or (`lines`) textarea: GOV.UK's markup for
/// either, with its hint and error.
fn text_control(
    lines: bool,
    (name, label, value, hint): (&str, &str, &str, Option<&str>),
    errors: &Errors,
) -> Markup {
    field(name, label, hint, errors, |described, has_error| {
        html! {
            @if lines {
                textarea class={ "govuk-textarea" @if has_error { " govuk-textarea--error" } } id=(name) name=(name) rows="5"
                    aria-describedby=[described] { (value) }
            } @else {
                input class={ "govuk-input" @if has_error { " govuk-input--error" } } id=(name) name=(name) type="text"
                    value=(value) aria-describedby=[described];
            }
        }
    })
}

/// What a refused form had typed in `field`, to show in it again ("" if
/// nothing).
pub fn typed<'a>(typed: &[(&str, &'a str)], field: &str) -> &'a str {
    typed
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("", |(_, v)| *v)
}

/// A multi-line text field (GOV.UK textarea): name, label, value and hint.
pub fn text_area(field: (&str, &str, &str, Option<&str>), errors: &Errors) -> Markup {
    text_control(true, field, errors)
}

pub fn password_input(name: &str, label: &str, autocomplete: &str, errors: &Errors) -> Markup {
    field(name, label, None, errors, |described, has_error| {
        html! {
            input class={ "govuk-input govuk-!-width-one-half" @if has_error { " govuk-input--error" } } id=(name) name=(name)
                type="password" autocomplete=(autocomplete) aria-describedby=[described];
        }
    })
}

/// A labelled file input with its hint and error (a multipart form's).
pub fn file_input(name: &str, label: &str, hint: &str, accept: &str, errors: &Errors) -> Markup {
    field(name, label, Some(hint), errors, |described, has_error| {
        html! {
            input class={ "govuk-file-upload" @if has_error { " govuk-file-upload--error" } } id=(name) name=(name)
                type="file" accept=(accept) aria-describedby=[described];
        }
    })
}

pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    field(name, label, None, errors, |described, has_error| {
        html! {
            select class={ "govuk-select" @if has_error { " govuk-select--error" } } id=(name) name=(name) aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[value == chosen] { (text) }
                }
            }
        }
    })
}

fn field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    errors: &Errors,
    control: impl FnOnce(Option<String>, bool) -> Markup,
) -> Markup {
    let error = errors.of(name);
    let mut described = Vec::new();
    if hint.is_some() {
        described.push(format!("{name}-hint"));
    }
    if error.is_some() {
        described.push(format!("{name}-error"));
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            label class="govuk-label" for=(name) { (label) }
            @if let Some(hint) = hint { div class="govuk-hint" id=(format!("{name}-hint")) { (hint) } }
            @if let Some(error) = error {
                p class="govuk-error-message" id=(format!("{name}-error")) {
                    span class="govuk-visually-hidden" { "Error: " } (error)
                }
            }
            (control(described, error.is_some()))
        }
    }
}

pub fn button(text: &str) -> Markup {
    html! { button type="submit" class="govuk-button" data-module="govuk-button" { (text) } }
}

/// A one-button form that records something (a checklist item, say).
pub fn action_button(
    ctx: &Ctx,
    action: &str,
    text: &str,
    fields: &[(&str, &str)],
    secondary: bool,
) -> Markup {
    html! {
        form method="post" action=(action) class="warden-inline" {
            (csrf(ctx))
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" class={ "govuk-button govuk-!-margin-bottom-0" @if secondary { " govuk-button--secondary" } } data-module="govuk-button" { (text) }
        }
    }
}

/// Where a successful form goes next (POST, redirect, GET).
pub fn done(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// `?recorded=EVENT_TYPE`: what the form before the redirect recorded, for
/// the success banner.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct JustRecorded {
    pub recorded: String,
}

/// Defines the GET handler of a subject's page (a device, an incident, a
/// policy, a person): the page as `$page` draws it for the subject in the
/// path, with no errors and the banner for what the form before the
/// redirect recorded. One definition, so every subject page reads its path
/// and query alike.
macro_rules! subject_page {
    ($(#[$doc:meta])* $name:ident => $page:expr) => {
        $(#[$doc])*
        pub async fn $name(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            axum::Extension(ctx): axum::Extension<$crate::ctx::Ctx>,
            axum::extract::Path((_, id)): axum::extract::Path<(String, String)>,
            axum::extract::Query(r): axum::extract::Query<$crate::forms::JustRecorded>,
        ) -> axum::response::Response {
            ($page)(&ctx, &state, &id, &$crate::forms::Errors::default(), &r.recorded)
        }
    };
}
pub(crate) use subject_page;

/// When the event a form records happened.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// A time the handler settled (now, or one the form gave in a field of
    /// its own).
    Time(Timestamp),
    /// What a form's "when" fields say (`When`), shown on the page as the
    /// fields named by the `&str`: their errors go there.
    Form(&'a When, &'a str),
}

/// Records one event the signed-in person did (or records), at `at`: how
/// every form that records a single event records it. On success, the
/// event type's name (for `?recorded=`); on refusal, the reasons as form
/// errors, `field` taking those that name no field.
pub async fn record_one(
    state: &AppState,
    ctx: &Ctx,
    kind: EventKind,
    field: &str,
    at: At<'_>,
) -> Result<&'static str, Errors> {
    let name = kind.event_type().name();
    let (at, form) = match at {
        At::Time(at) => (at, None),
        At::Form(when, form) => (when.at(ctx).map_err(|m| Errors::one(form, m))?, Some(form)),
    };
    let refused = record(state, ctx, vec![ctx.event(at, kind)], field).await;
    match (refused, form) {
        (Ok(_), _) => Ok(name),
        (Err(errors), Some(form)) => Err(errors.renamed("when", form)),
        (Err(errors), None) => Err(errors),
    }
}

/// Records `events` as one command, all or nothing: what was recorded, or
/// the reasons of a refusal as form errors, `field` taking those that name
/// no field.
pub async fn record(
    state: &AppState,
    ctx: &Ctx,
    events: Vec<Event>,
    field: &str,
) -> Result<council::Recorded, Errors> {
    state
        .record(&ctx.council, events)
        .await
        .map_err(|e| Errors::from_command(e, field))
}

/// Records one event from a subject's form and answers as every such form
/// does: on to `next` (a path within the council) with the banner for what
/// was recorded, or the form's page again, drawn by `redraw` with the
/// refusal beside its field, as a 422.
pub async fn record_then(
    state: &AppState,
    ctx: &Ctx,
    (kind, field, at): (EventKind, &str, At<'_>),
    next: &str,
    redraw: impl FnOnce(&Errors) -> Response,
) -> Response {
    match record_one(state, ctx, kind, field, at).await {
        Ok(name) => done(format!("/c/{}/{next}?recorded={name}", ctx.council.id)),
        Err(errors) => refused(redraw(&errors)),
    }
}

/// How a subject's page is drawn: for the subject with this id, with these
/// errors, under the banner for what was just recorded.
pub type SubjectPage = fn(&Ctx, &AppState, &str, &Errors, &str) -> Response;

/// `record_then` for a form on a subject's own page (`register/id`): back
/// to that page, or that page again with the refusal.
pub async fn record_about(
    state: &AppState,
    ctx: &Ctx,
    event: (EventKind, &str, At<'_>),
    (register, id): (&str, &str),
    page: SubjectPage,
) -> Response {
    let next = format!("{register}/{id}");
    record_then(state, ctx, event, &next, |errors| {
        page(ctx, state, id, errors, "")
    })
    .await
}

/// A form's "when did this happen" fields: a date and a time in the
/// council's time zone, filled in with now. Left as they were shown, they
/// mean the moment the form is sent.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct When {
    pub when_date: String,
    pub when_time: String,
    /// What the fields were filled in with, "DATE TIME".
    pub when_default: String,
}

impl When {
    /// The instant the fields name; an error for the `when` field if they
    /// name none, or one in the future.
    pub fn at(&self, ctx: &Ctx) -> Result<Timestamp, String> {
        let (date, time) = (self.when_date.trim(), self.when_time.trim());
        let shown = format!("{date} {time}");
        if (date.is_empty() && time.is_empty()) || shown == self.when_default {
            return Ok(ctx.now);
        }
        let date: jiff::civil::Date = date
            .parse()
            .map_err(|_| "Enter the date it happened, for example 2026-11-27".to_owned())?;
        let time: jiff::civil::Time = if time.is_empty() {
            jiff::civil::Time::midnight()
        } else {
            time.parse()
                .map_err(|_| "Enter the time it happened as HH:MM, for example 17:30".to_owned())?
        };
        let at = date
            .to_datetime(time)
            .to_zoned(ctx.council.pack.time_zone.clone())
            .map_err(|e| e.to_string())?
            .timestamp();
        if at > ctx.now + domain::CLOCK_SKEW {
            return Err("Enter a time that is not in the future".to_owned());
        }
        Ok(at)
    }
}

/// The "when did this happen" fields, filled in with now in the council's
/// time zone (or what was sent, when the form comes back with errors).
///
/// `id` names the fields on the page (a page may hold several such forms)
/// and the errors they show.
pub fn when_input(ctx: &Ctx, id: &str, sent: &When, legend: &str, errors: &Errors) -> Markup {
    let local = ctx.now.to_zoned(ctx.council.pack.time_zone.clone());
    let (now_date, now_time) = (
        local.strftime("%Y-%m-%d").to_string(),
        local.strftime("%H:%M").to_string(),
    );
    let sent_any = !sent.when_date.is_empty() || !sent.when_time.is_empty();
    let (date, time) = if sent_any {
        (sent.when_date.as_str(), sent.when_time.as_str())
    } else {
        (now_date.as_str(), now_time.as_str())
    };
    let default = if sent_any && !sent.when_default.is_empty() {
        sent.when_default.clone()
    } else {
        format!("{now_date} {now_time}")
    };
    let error = errors.of(id);
    let hint = format!("{id}-hint");
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            fieldset class="govuk-fieldset" role="group" aria-describedby=(hint) {
                legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (legend) }
                div class="govuk-hint" id=(hint) {
                    "In " (ctx.council.pack.time_zone_name) " time. Leave as it is if it happened just now; change it if it happened earlier and is being recorded late."
                }
                @if let Some(error) = error {
                    p class="govuk-error-message" id=(format!("{id}-error")) { span class="govuk-visually-hidden" { "Error: " } (error) }
                }
                input type="hidden" name="when_default" value=(default);
                div class="govuk-date-input" {
                    div class="govuk-date-input__item" {
                        div class="govuk-form-group" {
                            label class="govuk-label govuk-date-input__label" for=(id) { "Date" }
                            input class={ "govuk-input govuk-date-input__input" @if error.is_some() { " govuk-input--error" } } id=(id) name="when_date" type="date" value=(date);
                        }
                    }
                    div class="govuk-date-input__item" {
                        div class="govuk-form-group" {
                            label class="govuk-label govuk-date-input__label" for=(format!("{id}-time")) { "Time" }
                            input class={ "govuk-input govuk-date-input__input" @if error.is_some() { " govuk-input--error" } } id=(format!("{id}-time")) name="when_time" type="time" value=(time);
                        }
                    }
                }
            }
        }
    }
}

/// A refused form: the page again, with its errors, and 422.
pub fn refused(page: impl IntoResponse) -> Response {
    let mut res = page.into_response();
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// The store could not be reached for an account: say so, change nothing.
pub fn unavailable(what: &str) -> Response {
    crate::outage::retry_later(format!("{what}; nothing was changed. Try again.").into_response())
}

/// Optional text: blank means absent.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// An id the council types: the domain's one rule for ids, whatever way
/// they come in (no spaces or slashes that would break an address).
pub fn valid_id(text: &str) -> bool {
    domain::IdShape::Name.admits(text)
}

/// A council-time "YYYY-MM-DD HH:MM" (or blank for now), never in the future.
pub fn parse_local(ctx: &Ctx, text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(now);
    }
    let dt = text
        .replace('T', " ")
        .parse::<DateTime>()
        .or_else(|_| DateTime::strptime("%Y-%m-%d %H:%M", text.replace('T', " ")))
        .map_err(|_| {
            "Enter the date and time as YYYY-MM-DD HH:MM, for example 2026-11-20 14:30".to_owned()
        })?;
    let at = dt
        .to_zoned(ctx.council.pack.time_zone.clone())
        .map_err(|e| e.to_string())?
        .timestamp();
    if at > now {
        return Err("The time cannot be in the future".to_owned());
    }
    Ok(at)
}
