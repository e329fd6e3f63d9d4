//! Incidents: report, assess (notifiable or not), notify the regulator,
//! close; the 72-hour clock shown while it runs.

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, When, button, csrf, done, error_summary, optional, parse_local, record_about,
    record_one, refused, select, text_area, text_input, valid_id, when_input,
};
use crate::history::history;
use crate::layout::{
    findings_table, not_found_page, status_tag, success_banner, table_head, titled, when,
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use domain::event::{IncidentAssessed, IncidentNotified, IncidentOnly, IncidentReported};
use domain::{DeviceId, EventKind, IncidentId, PersonId, Severity};
use maud::{Markup, html};
use serde::Deserialize;

/// Every incident, as CSV.
pub async fn list_csv(Extension(ctx): Extension<Ctx>) -> axum::response::Response {
    use crate::lists::List;
    crate::layout::csv_download(
        &ctx,
        List::Incidents,
        List::Incidents
            .csv(&ctx.council, &[])
            .map_err(reports::csv::CsvError),
    )
}

pub async fn list(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    let c = &ctx.council.id;
    let mut rows = ctx.council.with_estate(|e| {
        e.incidents
            .iter()
            .map(|(id, i)| {
                (
                    i.reported,
                    id.to_string(),
                    i.kind.clone(),
                    i.personal_data,
                    i.notifiable,
                    i.closed.is_some(),
                )
            })
            .collect::<Vec<_>>()
    });
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    titled(
        "Incidents",
        &ctx,
        &state,
        html! {
            a class="govuk-button" href=(format!("/c/{c}/incidents/new")) { "Report an incident" }
            p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/incidents.csv")) { "Download every incident as CSV" } }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Incidents, newest first" }
                (table_head(&["Incident", "Reported", "Kind", "Personal data", "Notifiable", "State"], &[]))
                tbody class="govuk-table__body" {
                    @for (at, id, kind, personal, notifiable, closed) in rows.iter().take(200) {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/incidents/{id}")) { (id) } }
                            td class="govuk-table__cell" { (when(&ctx, *at)) }
                            td class="govuk-table__cell" { (kind) }
                            td class="govuk-table__cell" { @if *personal { "Yes" } @else { "No" } }
                            td class="govuk-table__cell" { @match notifiable { Some(true) => "Yes", Some(false) => "No", None => "Not assessed" } }
                            td class="govuk-table__cell" { @if *closed { "Closed" } @else { "Open" } }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReportForm {
    incident: String,
    kind: String,
    discovered: String,
    personal_data: String,
    person: String,
    device: String,
    description: String,
    severity: String,
    people_affected: String,
    #[serde(flatten)]
    when: When,
}

fn report_page(ctx: &Ctx, state: &AppState, form: &ReportForm, errors: &Errors) -> Markup {
    let c = &ctx.council.id;
    let radio_error = errors.of("personal_data");
    titled(
        "Report an incident",
        ctx,
        state,
        html! {
            (error_summary(errors))
            form method="post" action=(format!("/c/{c}/incidents/new")) novalidate {
                (csrf(ctx))
                (text_input("incident", "Reference", &form.incident, Some("Leave blank and Warden gives it the council's next reference, such as INC-2026-0007; or enter one the council already uses"), errors))
                (text_input("kind", "What happened", &form.kind, Some("For example: email sent to the wrong person, laptop stolen"), errors))
                (text_input("discovered", "When it was discovered", &form.discovered, Some("YYYY-MM-DD HH:MM, council time; leave blank for now. The 72-hour clock for the regulator starts here."), errors))
                div class={ "govuk-form-group" @if radio_error.is_some() { " govuk-form-group--error" } } {
                    fieldset class="govuk-fieldset" {
                        legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Is personal data involved?" }
                        @if let Some(e) = radio_error { p class="govuk-error-message" id="personal_data-error" { span class="govuk-visually-hidden" { "Error: " } (e) } }
                        div class="govuk-radios govuk-radios--inline" data-module="govuk-radios" {
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" id="personal_data" name="personal_data" type="radio" value="yes" checked[form.personal_data == "yes"];
                                label class="govuk-label govuk-radios__label" for="personal_data" { "Yes" }
                            }
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" id="personal_data-no" name="personal_data" type="radio" value="no" checked[form.personal_data == "no"];
                                label class="govuk-label govuk-radios__label" for="personal_data-no" { "No" }
                            }
                        }
                    }
                }
                (text_input("person", "Person involved (id)", &form.person, Some("Optional"), errors))
                (text_input("device", "Device involved (id)", &form.device, Some("Optional"), errors))
                (text_area(("description", "Description", &form.description, Some("Optional: what happened, in your words")), errors))
                (select("severity", "Severity", &severities(), &form.severity, errors))
                (text_input("people_affected", "People affected", &form.people_affected, Some("Optional: how many people's data it touched, as far as you know"), errors))
                (when_input(ctx, "when", &form.when, "When was it reported to you?", errors))
                (button("Report"))
            }
        },
    )
}

pub async fn report_form(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    report_page(&ctx, &state, &ReportForm::default(), &Errors::default())
}

pub async fn report(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(form): Form<ReportForm>,
) -> Response {
    let now = ctx.now;
    let mut errors = Errors::default();
    let given = form.incident.trim();
    if !given.is_empty() && !valid_id(given) {
        errors.add(
            "incident",
            "Enter a reference of letters, digits, hyphens, underscores or dots (at most 64)",
        );
    }
    if form.kind.trim().is_empty() {
        errors.add("kind", "Say what happened");
    }
    let discovered = parse_local(&ctx, &form.discovered, now)
        .map_err(|m| errors.add("discovered", m))
        .ok();
    let personal = match form.personal_data.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.add("personal_data", "Say whether personal data is involved");
            None
        }
    };
    let severity = match form.severity.as_str() {
        "" => None,
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        _ => {
            errors.add("severity", "Choose low, medium or high, or leave it blank");
            None
        }
    };
    let people_affected = match optional(&form.people_affected) {
        None => None,
        Some(n) => n.parse::<u32>().map(Some).unwrap_or_else(|_| {
            errors.add(
                "people_affected",
                "Enter the number of people as a whole number, for example 12, or leave it blank",
            );
            None
        }),
    };
    let at = form.when.at(&ctx).map_err(|m| errors.add("when", m)).ok();
    let (Some(discovered), Some(personal_data), Some(at), true) =
        (discovered, personal, at, errors.is_empty())
    else {
        return refused(report_page(&ctx, &state, &form, &errors));
    };
    // A reference Warden gives is the next free one when the report is
    // recorded; should another report take it first, the next after that.
    let mut attempts = 0;
    loop {
        let incident = if given.is_empty() {
            next_reference(&ctx, at)
        } else {
            given.to_owned()
        };
        let kind = EventKind::IncidentReported(IncidentReported {
            incident: IncidentId::from(incident.as_str()),
            kind: form.kind.trim().to_owned(),
            discovered,
            personal_data,
            person: optional(&form.person).map(|p| PersonId::from(p.as_str())),
            device: optional(&form.device).map(|d| DeviceId::from(d.as_str())),
            description: optional(&form.description),
            severity,
            people_affected,
        });
        let refusal = match record_one(&state, &ctx, kind, "incident", At::Time(at)).await {
            Ok(name) if ctx.may(&state, Action::ViewRegisters) => {
                return done(format!(
                    "/c/{}/incidents/{incident}?recorded={name}",
                    ctx.council.id
                ));
            }
            Ok(name) => return done(format!("/c/{}/me?recorded={name}", ctx.council.id)),
            Err(errors) => errors,
        };
        attempts += 1;
        let taken = ctx.council.with_estate(|e| {
            e.incidents
                .contains_key(&IncidentId::from(incident.as_str()))
        });
        if !(given.is_empty() && taken && attempts < 5) {
            return refused(report_page(&ctx, &state, &form, &refusal));
        }
    }
}

/// The severity choices, blank first (not judged yet).
fn severities() -> Vec<(String, String)> {
    [
        ("", "Not judged yet"),
        ("low", "Low"),
        ("medium", "Medium"),
        ("high", "High"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect()
}

/// The council's next incident reference for the year of `at`:
/// `INC-2026-0007`, the first number no incident of the year holds.
fn next_reference(ctx: &Ctx, at: jiff::Timestamp) -> String {
    let year = at.to_zoned(ctx.council.pack.time_zone.clone()).year();
    let prefix = format!("INC-{year}-");
    ctx.council.with_estate(|e| {
        let used = e
            .incidents
            .keys()
            .filter(|id| id.as_str().starts_with(&prefix))
            .count();
        (used + 1..)
            .map(|n| format!("{prefix}{n:04}"))
            .find(|id| !e.incidents.contains_key(&IncidentId::from(id.as_str())))
            .unwrap_or_else(|| format!("{prefix}{}", used + 1))
    })
}

fn incident_page(
    ctx: &Ctx,
    state: &AppState,
    id: &str,
    errors: &Errors,
    recorded: &str,
) -> Response {
    let c = &ctx.council.id;
    let Some(i) = ctx
        .council
        .with_estate(|e| e.incidents.get(&IncidentId::from(id)).cloned())
    else {
        return not_found_page("No such incident");
    };
    let view = ctx.council.view(ctx.now);
    let findings: Vec<&rules::Finding> = view
        .findings
        .iter()
        .filter(|f| f.concerns.incident.as_deref() == Some(id))
        .collect();
    let open = i.closed.is_none();
    titled(&format!("Incident {id}"), ctx, state, html! {
        @if !recorded.is_empty() { (success_banner(crate::history::recorded_banner(recorded))) }
        (error_summary(errors))
        @for f in findings.iter().filter(|f| f.due.is_some()) {
            div class="govuk-inset-text" id="clock" {
                (status_tag(f.status)) " "
                @match f.status {
                    rules::Status::Open => { "The regulator must be told by " strong { (f.due.map(|d| when(ctx, d)).unwrap_or_default()) } }
                    rules::Status::Overdue => { "The deadline to tell the regulator passed at " strong { (f.due.map(|d| when(ctx, d)).unwrap_or_default()) } }
                    _ => { "Deadline " (f.due.map(|d| when(ctx, d)).unwrap_or_default()) }
                }
                br; span class="govuk-body-s" { (ctx.council.pack.rule_sentence(&f.rule)) " " (f.cite) }
            }
        }
        dl class="govuk-summary-list" {
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "What happened" } dd class="govuk-summary-list__value" { (i.kind) } }
            @if let Some(text) = &i.description {
                div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Description" } dd class="govuk-summary-list__value" { (text) } }
            }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Severity" } dd class="govuk-summary-list__value" { (i.severity.map_or("Not judged", Severity::as_str)) } }
            @if let Some(n) = i.people_affected {
                div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "People affected" } dd class="govuk-summary-list__value" { (n) } }
            }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Discovered" } dd class="govuk-summary-list__value" { (when(ctx, i.discovered)) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Reported" } dd class="govuk-summary-list__value" { (when(ctx, i.reported)) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Personal data" } dd class="govuk-summary-list__value" { @if i.personal_data { "Yes" } @else { "No" } } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Notifiable" } dd class="govuk-summary-list__value" id="notifiable-state" { @match i.notifiable { Some(true) => "Yes", Some(false) => "No", None => "Not assessed" } } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Regulator told" } dd class="govuk-summary-list__value" {
                (i.regulator_notified.map(|t| when(ctx, t)).unwrap_or_else(|| "No".into()))
                @if let Some(r) = &i.regulator_reference { ", reference " (r) }
            } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Closed" } dd class="govuk-summary-list__value" { (i.closed.map(|t| when(ctx, t)).unwrap_or_else(|| "Open".into())) } }
        }
        // A closed incident can still be put right: assessed, and the
        // regulator's notification recorded.
        @if i.notifiable.is_none() && ctx.may(state, Action::AssessIncident) {
            h2 class="govuk-heading-m" { "Assess" }
            form method="post" action=(format!("/c/{c}/incidents/{id}/assess")) novalidate {
                (csrf(ctx))
                div class="govuk-form-group" {
                    fieldset class="govuk-fieldset" {
                        legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Must the Information Commissioner be told?" }
                        div class="govuk-hint" { "Yes if the breach is likely to result in a risk to people's rights and freedoms (UK GDPR Art. 33)." }
                        div class="govuk-radios" data-module="govuk-radios" {
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" id="notifiable" name="notifiable" type="radio" value="yes";
                                label class="govuk-label govuk-radios__label" for="notifiable" { "Yes, it is notifiable" }
                            }
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" id="notifiable-no" name="notifiable" type="radio" value="no";
                                label class="govuk-label govuk-radios__label" for="notifiable-no" { "No, it is unlikely to result in a risk" }
                            }
                        }
                    }
                }
                (when_input(ctx, "assess-when", &When::default(), "When was it decided?", errors))
                (button("Record the assessment"))
            }
        }
        @if ctx.may(state, Action::HandleIncident) {
            @if i.regulator_notified.is_none() && i.notifiable != Some(false) {
                h2 class="govuk-heading-m" { "The Information Commissioner" }
                form method="post" action=(format!("/c/{c}/incidents/{id}/notify")) novalidate {
                    (csrf(ctx))
                    (text_input("reference", "The regulator's reference", "", Some("Optional: the case number the ICO gave, for example IC-123456-A1B2"), errors))
                    (when_input(ctx, "notify-when", &When::default(), "When was the regulator told?", errors))
                    (button("Record the regulator told"))
                }
            }
            @if open {
                h2 class="govuk-heading-m" { "Close" }
                @if i.personal_data && i.notifiable.is_none() {
                    p class="govuk-body" { "Record whether it must be notified before closing it." }
                }
                form method="post" action=(format!("/c/{c}/incidents/{id}/close")) novalidate {
                    (csrf(ctx))
                    (when_input(ctx, "close-when", &When::default(), "When was it closed?", errors))
                    button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Close the incident" }
                }
            }
        }
        (findings_table(ctx, &findings, "Findings about this incident"))
        (history(ctx, state, &crate::council::Subject::Incident(id.into())))
    })
    .into_response()
}

crate::forms::subject_page!(incident => incident_page);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssessForm {
    notifiable: String,
    #[serde(flatten)]
    when: When,
}

pub async fn assess(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<AssessForm>,
) -> Response {
    let notifiable = match f.notifiable.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            let errors = Errors::one("notifiable", "Say whether the regulator must be told");
            return refused(incident_page(&ctx, &state, &id, &errors, ""));
        }
    };
    let kind = EventKind::IncidentAssessed(IncidentAssessed {
        incident: IncidentId::from(id.as_str()),
        notifiable,
    });
    record(&state, &ctx, &id, kind, At::Form(&f.when, "assess-when")).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NotifyForm {
    reference: String,
    #[serde(flatten)]
    when: When,
}

pub async fn notify(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<NotifyForm>,
) -> Response {
    let kind = EventKind::IncidentRegulatorNotified(IncidentNotified {
        incident: IncidentId::from(id.as_str()),
        reference: optional(&f.reference),
    });
    record(&state, &ctx, &id, kind, At::Form(&f.when, "notify-when")).await
}

pub async fn close(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(when): Form<When>,
) -> Response {
    // Whether the incident may be closed is the domain's to say
    // (`Estate::check_command`): not before it is assessed, and not twice.
    record_step(
        &state,
        &ctx,
        &id,
        EventKind::IncidentClosed,
        At::Form(&when, "close-when"),
    )
    .await
}

/// A step in an incident's handling that says nothing but which incident.
async fn record_step(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: fn(IncidentOnly) -> EventKind,
    at: At<'_>,
) -> Response {
    let kind = step(IncidentOnly {
        incident: IncidentId::from(id),
    });
    record(state, ctx, id, kind, at).await
}

async fn record(state: &AppState, ctx: &Ctx, id: &str, kind: EventKind, at: At<'_>) -> Response {
    let subject = ("incidents", id);
    record_about(state, ctx, (kind, "notifiable", at), subject, incident_page).await
}
