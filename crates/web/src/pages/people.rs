//! Starters, movers and leavers, and the leaver checklist: what the pack's
//! rules require once `person_left` is recorded, each item a button that
//! records the event discharging it.

use crate::council::Subject;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, JustRecorded, When, button, csrf, done, error_summary, optional, record,
    record_one, refused, select, text_input, unavailable, valid_id, when_input,
};
use crate::layout::{not_found_page, status_tag, success_banner, titled, when};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::event::{AccessChange, PersonJoined, PersonLeft, PersonMoved};
use domain::{EventKind, PersonId, PersonKind, ResourceId};
use maud::{Markup, html};
use rules::Status;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StarterForm {
    person: String,
    name: String,
    kind: String,
    email: String,
    department: String,
    #[serde(flatten)]
    when: When,
}

fn starter_page(ctx: &Ctx, state: &AppState, form: &StarterForm, errors: &Errors) -> Markup {
    let kinds: Vec<(String, String)> = [
        ("employee", "Employee"),
        ("councillor", "Councillor"),
        ("third_party", "Third party"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    titled(
        "Record a starter",
        ctx,
        state,
        html! {
            (error_summary(errors))
            form method="post" action=(format!("/c/{}/starters", ctx.council.id)) novalidate {
                (csrf(ctx))
                (text_input("person", "Person id", &form.person, Some("The council's own id for them, for example their payroll number"), errors))
                (text_input("name", "Full name", &form.name, None, errors))
                (select("kind", "Kind", &kinds, &form.kind, errors))
                (text_input("email", "Email address", &form.email, Some("Optional"), errors))
                (text_input("department", "Department", &form.department, Some("Optional"), errors))
                (when_input(ctx, "when", &form.when, "When did they start?", errors))
                (button("Record the starter"))
            }
        },
    )
}

pub async fn starter_form(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    starter_page(&ctx, &state, &StarterForm::default(), &Errors::default())
}

fn parse_kind(kind: &str) -> Option<PersonKind> {
    match kind {
        "employee" => Some(PersonKind::Employee),
        "councillor" => Some(PersonKind::Councillor),
        "third_party" => Some(PersonKind::ThirdParty),
        _ => None,
    }
}

pub async fn starter(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(form): Form<StarterForm>,
) -> Response {
    let mut errors = Errors::default();
    let person = form.person.trim();
    if !valid_id(person) {
        errors.add(
            "person",
            "Enter a person id of letters, digits, hyphens, underscores or dots (at most 64)",
        );
    }
    if form.name.trim().is_empty() {
        errors.add("name", "Enter the person's full name");
    }
    let kind = parse_kind(&form.kind);
    if kind.is_none() {
        errors.add("kind", "Choose employee, councillor or third party");
    }
    let email = optional(&form.email);
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        errors.add(
            "email",
            "Enter an email address like name@council.gov.uk, or leave it blank",
        );
    }
    let at = form.when.at(&ctx).unwrap_or_else(|message| {
        errors.add("when", message);
        ctx.now
    });
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return refused(starter_page(&ctx, &state, &form, &errors));
    };
    let mut events = vec![ctx.event(
        at,
        EventKind::PersonJoined(PersonJoined {
            person: PersonId::from(person),
            name: form.name.trim().to_owned(),
            kind,
            email,
            household: None,
            term_ends: None,
        }),
    )];
    if let Some(department) = optional(&form.department) {
        events.push(ctx.event(
            at,
            EventKind::PersonMoved(PersonMoved {
                person: PersonId::from(person),
                department: Some(department),
                job: None,
            }),
        ));
    }
    match record(&state, &ctx, events, "person").await {
        Ok(_) => done(format!(
            "/c/{}/people/{person}?recorded=person_joined",
            ctx.council.id
        )),
        Err(errors) => refused(starter_page(&ctx, &state, &form, &errors)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    department: String,
    job: String,
    #[serde(flatten)]
    when: When,
}

pub async fn mover(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Response {
    let kind = EventKind::PersonMoved(PersonMoved {
        person: PersonId::from(person.as_str()),
        department: optional(&form.department),
        job: optional(&form.job),
    });
    let errors = if form.department.trim().is_empty() && form.job.trim().is_empty() {
        Errors::one("department", "Enter a new department or a new job title")
    } else {
        match record_one(
            &state,
            &ctx,
            kind,
            "department",
            At::Form(&form.when, "department"),
        )
        .await
        {
            Ok(name) => {
                return done(format!(
                    "/c/{}/people/{person}?recorded={name}",
                    ctx.council.id
                ));
            }
            Err(errors) => errors,
        }
    };
    let page = titled(
        "The move was not recorded",
        &ctx,
        &state,
        html! {
            (error_summary(&errors))
            a class="govuk-link" href=(format!("/c/{}/people/{person}", ctx.council.id)) { "Back to the person" }
        },
    );
    refused(page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LeaveForm {
    reason: String,
    #[serde(flatten)]
    when: When,
}

fn leaver_page(
    ctx: &Ctx,
    state: &AppState,
    person: &str,
    form: &LeaveForm,
    errors: &Errors,
    recorded: &str,
) -> Response {
    let c = &ctx.council.id;
    let id = PersonId::from(person);
    let Some(p) = ctx.council.with_estate(|e| e.people.get(&id).cloned()) else {
        return not_found_page("No such person");
    };
    if p.is_present() {
        return titled(&format!("Record {} leaving", p.name), ctx, state, html! {
            (error_summary(errors))
            p class="govuk-body" { "Once recorded, Warden shows the checklist the council's policies require: devices to return and access to revoke, each with its deadline." }
            form method="post" action=(format!("/c/{c}/people/{person}/leave")) novalidate {
                (csrf(ctx))
                (text_input("reason", "Reason", &form.reason, Some("Optional, for example: resigned, not re-elected"), errors))
                (when_input(ctx, "when", &form.when, "When did they leave?", errors))
                button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Record leaving" }
            }
        })
        .into_response();
    }
    let view = ctx.council.view(ctx.now);
    // What leaving started: the running clocks whose evidence begins with
    // the person's latest `person_left`.
    let left = ctx
        .council
        .history(&Subject::Person(id.0.clone()))
        .into_iter()
        .rev()
        .find(|l| l.is_live() && matches!(l.event.kind, EventKind::PersonLeft(_)))
        .map(|l| l.seq);
    let about: Vec<&rules::Finding> = view
        .about(person)
        .filter(|f| {
            matches!(f.status, Status::Open | Status::Overdue)
                && left.is_some()
                && f.events.from() == left
        })
        .collect();
    let clock_for = |device: Option<&str>, resource: Option<&str>| {
        about.iter().find(|f| {
            (device.is_some() && f.concerns.device.as_deref() == device)
                || (resource.is_some() && f.concerns.resource.as_deref() == resource)
        })
    };
    let devices: Vec<String> = p.devices_held.iter().map(|d| d.to_string()).collect();
    let access: Vec<String> = p.access.iter().map(|(r, _)| r.to_string()).collect();
    let others: Vec<&&rules::Finding> = about
        .iter()
        .filter(|f| f.concerns.device.is_none() && f.concerns.resource.is_none())
        .collect();
    let item = |what: Markup, finding: Option<&&rules::Finding>, button: Markup| {
        html! {
            li class="govuk-task-list__item govuk-task-list__item--with-link" {
                div class="govuk-task-list__name-and-hint" {
                    (what)
                    @if let Some(f) = finding {
                        div class="govuk-task-list__hint" {
                            "Due " (f.due.map(|d| when(ctx, d)).unwrap_or_default()) " under " (f.rule) ". " (f.cite)
                        }
                    }
                }
                div class="govuk-task-list__status" {
                    @if let Some(f) = finding { (status_tag(f.status)) " " }
                    (button)
                }
            }
        }
    };
    titled(&format!("Leaver checklist: {}", p.name), ctx, state, html! {
        @if !recorded.is_empty() { (success_banner(crate::history::recorded_banner(recorded))) }
        @if !errors.is_empty() { (error_summary(errors)) }
        p class="govuk-body" { (p.name) " left on " (p.left.map(|l| when(ctx, l)).unwrap_or_default()) "." }
        @if devices.is_empty() && access.is_empty() && others.is_empty() {
            p class="govuk-body" id="checklist-complete" { "Nothing is outstanding: every device is back and all access is revoked." }
        }
        ul class="govuk-task-list" id="checklist" {
            @for (i, d) in devices.iter().enumerate() {
                (item(html! { "Return device " a class="govuk-link" href=(format!("/c/{c}/devices/{d}")) { (d) } },
                    clock_for(Some(d), None),
                    checklist_form(ctx, &format!("/c/{c}/devices/{d}/return"), &format!("when-device-{i}"), "Record returned", &[("person", person), ("back", "checklist")])))
            }
            @for (i, r) in access.iter().enumerate() {
                (item(html! { "Revoke access to " (r) },
                    clock_for(None, Some(r)),
                    checklist_form(ctx, &format!("/c/{c}/people/{person}/access/revoke"), &format!("when-access-{i}"), "Record revoked", &[("resource", r), ("back", "checklist")])))
            }
            @for f in &others {
                (item(html! { (f.detail.to_string()) }, Some(f), html! {}))
            }
        }
        a class="govuk-link" href=(format!("/c/{c}/people/{person}")) { "Back to " (p.name) }
    })
    .into_response()
}

/// One checklist item's form: when it was done (now by default) and a button.
fn checklist_form(
    ctx: &Ctx,
    action: &str,
    id: &str,
    text: &str,
    fields: &[(&str, &str)],
) -> Markup {
    html! {
        form method="post" action=(action) class="warden-checklist-form" novalidate {
            (csrf(ctx))
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            (when_input(ctx, id, &When::default(), "Done when?", &Errors::default()))
            button type="submit" class="govuk-button govuk-!-margin-bottom-0" data-module="govuk-button" { (text) }
        }
    }
}

pub async fn leaver_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Query(r): Query<JustRecorded>,
) -> Response {
    leaver_page(
        &ctx,
        &state,
        &person,
        &LeaveForm::default(),
        &Errors::default(),
        &r.recorded,
    )
}

pub async fn leaver(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<LeaveForm>,
) -> Response {
    if !ctx.council.is_present(&PersonId::from(person.as_str())) {
        let errors = Errors::one("reason", "This person has already left");
        return refused(leaver_page(&ctx, &state, &person, &form, &errors, ""));
    }
    let kind = EventKind::PersonLeft(PersonLeft {
        person: PersonId::from(person.as_str()),
        reason: optional(&form.reason),
    });
    match record_one(&state, &ctx, kind, "reason", At::Form(&form.when, "when")).await {
        Ok(name) => done(format!(
            "/c/{}/people/{person}/leave?recorded={name}",
            ctx.council.id
        )),
        Err(errors) => refused(leaver_page(&ctx, &state, &person, &form, &errors, "")),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccessForm {
    resource: String,
    requested_by: String,
    back: String,
    #[serde(flatten)]
    when: When,
}

async fn access(
    state: AppState,
    ctx: Ctx,
    person: String,
    form: AccessForm,
    grant: bool,
) -> Response {
    let c = ctx.council.id.clone();
    let resource = form.resource.trim();
    let mut errors = Errors::default();
    if resource.is_empty() || resource.len() > 200 {
        errors.add(
            "resource",
            "Enter the resource, for example email or restricted/finance",
        );
    }
    let requested_by = optional(&form.requested_by).map(|p| PersonId::from(p.as_str()));
    if errors.is_empty() {
        let change = AccessChange {
            person: PersonId::from(person.as_str()),
            resource: ResourceId::from(resource),
            requested_by,
            approved_by: Some(ctx.user.person.clone()),
        };
        let kind = if grant {
            EventKind::AccessGranted(change)
        } else {
            if !ctx.council.with_estate(|e| {
                e.people
                    .get(&PersonId::from(person.as_str()))
                    .is_some_and(|p| p.access.contains_key(&ResourceId::from(resource)))
            }) {
                errors.add(
                    "resource",
                    format!("{person} has no access to {resource} to revoke"),
                );
            }
            EventKind::AccessRevoked(change)
        };
        if errors.is_empty() {
            match record_one(
                &state,
                &ctx,
                kind,
                "resource",
                At::Form(&form.when, "resource"),
            )
            .await
            {
                Ok(name) if form.back == "checklist" => {
                    return done(format!("/c/{c}/people/{person}/leave?recorded={name}"));
                }
                Ok(_) => return done(format!("/c/{c}/people/{person}")),
                Err(refused) => errors = refused,
            }
        }
    }
    refused(titled(
        if grant {
            "Access was not granted"
        } else {
            "Access was not revoked"
        },
        &ctx,
        &state,
        html! {
            (error_summary(&errors))
            a class="govuk-link" href=(format!("/c/{c}/people/{person}")) { "Back to the person" }
        },
    ))
}

pub async fn grant_access(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<AccessForm>,
) -> Response {
    access(state, ctx, person, form, true).await
}

pub async fn revoke_access(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<AccessForm>,
) -> Response {
    access(state, ctx, person, form, false).await
}

/// Sets up (or resets) a person's sign-in: a new random password shown once,
/// the second factor cleared so they enrol again, every session ended.
pub async fn set_up_account(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
) -> Response {
    let c = ctx.council.id.clone();
    if !ctx.council.is_present(&PersonId::from(person.as_str())) {
        return not_found_page("No such person here");
    }
    let password = crate::accounts::random_hex::<10>();
    let account = match state.account(&c, &person).await {
        Ok(Some(mut old)) => {
            if let Err(e) = old.set_password(&password) {
                tracing::error!(error = %e, "could not set a password");
            }
            old.clear_totp();
            old.disabled = None;
            old
        }
        Ok(None) => match crate::accounts::Account::new(&password) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "could not make an account");
                return (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "could not make the account",
                )
                    .into_response();
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "account read failed");
            return unavailable("The account could not be read");
        }
    };
    if state.save_account(&c, &person, &account).await.is_err() {
        return unavailable("The account could not be saved");
    }
    titled("One-time password", &ctx, &state, html! {
        p class="govuk-body" { "Give this password to " (person) " in person or by phone. Warden keeps only its Argon2id hash and cannot show it again." }
        p class="govuk-body govuk-!-font-weight-bold" id="one-time-password" { (password) }
        a class="govuk-link" href=(format!("/c/{c}/people/{person}")) { "Back to the person" }
    })
    .into_response()
}
