//! Starters, movers and leavers, and the leaver checklist: what the pack's
//! rules require once `person_left` is recorded, each item a button that
//! records the event discharging it.

use crate::authz::Action;
use crate::council::Subject;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, JustRecorded, When, action_button, button, csrf, done, error_summary, optional,
    record, record_one, record_then, refused, select, text_input, unavailable, valid_id,
    when_input,
};
use crate::history::history;
use crate::layout::{
    claims_table, findings_table, not_found_page, status_tag, success_banner, titled, when,
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::event::{
    AccessChange, AgreementSigned, MfaEnrolled, PersonJoined, PersonLeft, PersonMoved, RoleChange,
    TrainingCompleted,
};
use domain::{Agreement, Course, EventKind, MfaMethod, PersonId, PersonKind, ResourceId, Role};
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
    job: String,
    department: String,
    manager: String,
    household: String,
    term_ends: String,
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
                (text_input("job", "Job title", &form.job, Some("Optional"), errors))
                (text_input("department", "Department", &form.department, Some("Optional"), errors))
                (text_input("manager", "Manager's person id", &form.manager, Some("Optional. Their manager sees and acts for their team"), errors))
                (text_input("household", "Household", &form.household, Some("Councillors: the household their broadband claims are for, for example h-0042. Optional"), errors))
                (text_input("term_ends", "Term of office ends", &form.term_ends, Some("Councillors: the date of the next election for their seat, for example 2027-05-06. Optional"), errors))
                (when_input(ctx, "when", &form.when, "When did they start?", errors))
                (button("Record the starter"))
            }
        },
    )
}

pub async fn starter_form(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    // Whoever may record starters only in their own team is their manager.
    let unmanaged = crate::authz::Resource::Person {
        council: &ctx.council.id,
        person: "",
        manager: None,
    };
    let form = if state
        .authz
        .allows_on(&ctx.user, Action::ManagePeople, &unmanaged)
    {
        StarterForm::default()
    } else {
        StarterForm {
            manager: ctx.user.person.to_string(),
            ..StarterForm::default()
        }
    };
    starter_page(&ctx, &state, &form, &Errors::default())
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
    let manager = optional(&form.manager);
    if manager.as_deref().is_some_and(|m| !valid_id(m)) {
        errors.add(
            "manager",
            "Enter the manager's person id, or leave it blank",
        );
    }
    let household = optional(&form.household);
    if household.as_deref().is_some_and(|h| !valid_id(h)) {
        errors.add(
            "household",
            "Enter a household id of letters, digits, hyphens, underscores or dots (at most 64), or leave it blank",
        );
    }
    let term_ends = match optional(&form.term_ends) {
        None => None,
        Some(text) => text
            .parse::<jiff::civil::Date>()
            .map(Some)
            .unwrap_or_else(|_| {
                errors.add(
                    "term_ends",
                    "Enter the date the term ends as year-month-day, for example 2027-05-06",
                );
                None
            }),
    };
    let at = form.when.at(&ctx).unwrap_or_else(|message| {
        errors.add("when", message);
        ctx.now
    });
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return refused(starter_page(&ctx, &state, &form, &errors));
    };
    let joined = EventKind::PersonJoined(PersonJoined {
        person: PersonId::from(person),
        name: form.name.trim().to_owned(),
        kind,
        email,
        household: household.map(domain::HouseholdId::from),
        term_ends,
        job: optional(&form.job),
        department: optional(&form.department),
        manager: manager.map(PersonId::from),
    });
    if !crate::guards::may_record(
        &state,
        &ctx.user,
        Action::ManagePeople,
        &ctx.council,
        &joined,
    ) {
        let errors = Errors::one(
            "manager",
            format!(
                "You record starters in your own team: enter your own person id ({}) as their manager",
                ctx.user.person
            ),
        );
        return refused(starter_page(&ctx, &state, &form, &errors));
    }
    // A refusal about the manager belongs beside the manager's field.
    let field = if form.manager.trim().is_empty() {
        "person"
    } else {
        "manager"
    };
    match record(&state, &ctx, vec![ctx.event(at, joined)], field).await {
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
    manager: String,
    #[serde(flatten)]
    when: When,
}

pub async fn mover(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Response {
    let typed = [
        ("department", form.department.as_str()),
        ("job", form.job.as_str()),
        ("manager", form.manager.as_str()),
    ];
    let kind = EventKind::PersonMoved(PersonMoved {
        person: PersonId::from(person.as_str()),
        department: optional(&form.department),
        job: optional(&form.job),
        manager: optional(&form.manager).map(PersonId::from),
    });
    if [&form.department, &form.job, &form.manager]
        .iter()
        .all(|f| f.trim().is_empty())
    {
        let errors = Errors::one("department", "Enter a new department, job title or manager");
        return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
    }
    // A refusal about the manager (not someone the log knows) goes beside
    // that field.
    let field = if form.manager.trim().is_empty() {
        "department"
    } else {
        "manager"
    };
    let at = At::Form(&form.when, "move-when");
    on_person(&state, &ctx, &person, kind, field, at, &typed).await
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
                            "Due " (f.due.map(|d| when(ctx, d)).unwrap_or_default()) ". " (ctx.council.pack.rule_sentence(&f.rule)) " " (f.cite)
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
                (item(html! { (f.detail.in_words()) }, Some(f), html! {}))
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
    let typed = [
        ("resource", form.resource.as_str()),
        ("requested_by", form.requested_by.as_str()),
    ];
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
                At::Form(&form.when, "grant-when"),
            )
            .await
            {
                Ok(name) if form.back == "checklist" => {
                    return done(format!("/c/{c}/people/{person}/leave?recorded={name}"));
                }
                Ok(name) => return done(format!("/c/{c}/people/{person}?recorded={name}")),
                Err(refused) => errors = refused,
            }
        }
    }
    refused(person_page(&ctx, &state, &person, &errors, "", &typed))
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

crate::forms::subject_page!(person => |ctx, state, person, errors, recorded| {
    person_page(ctx, state, person, errors, recorded, &[])
});

/// Which of the person page's forms an error belongs to, so that form is
/// shown open with it.
fn errors_in(errors: &Errors, fields: &[&str]) -> bool {
    fields.iter().any(|f| errors.of(f).is_some())
}

/// A person: what the estate holds about them, the forms that record what
/// happens to them (each showing its own errors when it was refused), their
/// findings, claims and history.
pub fn person_page(
    ctx: &Ctx,
    state: &AppState,
    person: &str,
    errors: &Errors,
    recorded: &str,
    typed: &[(&str, &str)],
) -> Response {
    // What a refused form had typed, shown in it again.
    let typed = |field: &str| crate::forms::typed(typed, field);
    let now = ctx.now;
    let view = ctx.council.view(now);
    let c = &ctx.council.id;
    let id = PersonId::from(person);
    let Some(p) = ctx.council.with_estate(|e| e.people.get(&id).cloned()) else {
        return not_found_page("No such person");
    };
    // A device reported lost or stolen is no longer held: shown apart.
    let (lost, held): (Vec<String>, Vec<String>) = ctx.council.with_estate(|e| {
        p.devices_held.iter().map(|d| d.to_string()).partition(|d| {
            e.devices
                .get(&domain::DeviceId::from(d.as_str()))
                .is_some_and(|x| x.lost.is_some())
        })
    });
    let mut findings: Vec<&rules::Finding> = view.about(person).collect();
    findings.sort_by_key(|f| (!f.status.is_failure(), f.status != Status::Open));
    let row = |k: &str, v: Markup| {
        html! {

            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { (k) } dd class="govuk-summary-list__value" { (v) } }
        }
    };
    let list = |items: Vec<String>| {
        html! {
            @if items.is_empty() { "None" } @else { ul class="govuk-list" { @for i in &items { li { (i) } } } }
        }
    };
    let departments_hint = "Leave blank to keep as it is";
    let claims: Vec<domain::estate::ExpenseClaim> = ctx.council.with_estate(|e| {
        e.claims
            .iter()
            .filter(|claim| claim.person == id)
            .cloned()
            .collect()
    });
    titled(
        &p.name,
        ctx,
        state,
        html! {
            @if !recorded.is_empty() { (success_banner(crate::history::recorded_banner(recorded))) }
            (error_summary(errors))
            span class="govuk-caption-m" { (person) }
            dl class="govuk-summary-list" {
                (row("Kind", html! { (crate::history::kind_words(&p.kind)) }))
                (row("Email", html! { (p.email.clone().unwrap_or_default()) }))
                (row("Department", html! { (p.department.clone().unwrap_or_default()) }))
                (row("Job", html! { (p.job.clone().unwrap_or_default()) }))
                @if let Some(h) = &p.household { (row("Household", html! { (h) })) }
                @if let Some(t) = p.term_ends { (row("Term of office ends", html! { (t) })) }
                (row("Manager", html! {
                    @if let Some(m) = &p.manager {
                        a class="govuk-link" href=(format!("/c/{}/people/{m}", ctx.council.id)) { (m) }
                    }
                }))
                (row("Joined", html! { (when(ctx, p.joined)) }))
                (row("Left", html! { @if let Some(l) = p.left { (when(ctx, l)) } @else { "Still here" } }))
                (row("Roles", list(p.roles.iter().map(|r| r.to_string()).collect())))
                (row("Devices held", html! {
                    @if held.is_empty() { "None" }
                    ul class="govuk-list" id="devices-held" { @for d in &held { li { a class="govuk-link" href=(format!("/c/{c}/devices/{d}")) { (d) } } } }
                }))
                @if !lost.is_empty() {
                    (row("Reported lost or stolen", html! {
                        ul class="govuk-list" id="devices-lost" { @for d in &lost { li { a class="govuk-link" href=(format!("/c/{c}/devices/{d}")) { (d) } } } }
                    }))
                }
                (row("Access", list(p.access.iter().map(|(r, g)| format!("{r} (since {})", when(ctx, g.granted))).collect())))
                (row("Policies accepted", list(p.acceptances.iter().flat_map(|(pol, versions)| versions.iter().map(move |(v, at)| (pol, v, at))).map(|(pol, v, at)| format!("{pol} version {v} on {}", when(ctx, *at))).collect())))
                (row("Training", list(p.training.iter().map(|(course, at)| format!("{course}, {}", when(ctx, *at))).collect())))
                (row("MFA", list(p.mfa.iter().map(|m| serde_json::to_value(m).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()).collect())))
                (row("Password last changed", html! { @if let Some(t) = p.password_changed { (when(ctx, t)) } @else { "Not recorded" } }))
            }
            @if ctx.may(state, Action::ManagePeople) && p.is_present() {
                div class="warden-actions" {
                    a class="govuk-button govuk-button--warning" href=(format!("/c/{c}/people/{person}/leave")) { "Record this person leaving" }
                }
                details class="govuk-details" open[errors_in(errors, &["department", "job", "manager", "move-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Record a move (new department or job)" } }
                    div class="govuk-details__text" {
                        form method="post" action=(format!("/c/{c}/people/{person}/move")) novalidate {
                            (csrf(ctx))
                            (text_input("department", "New department", typed("department"), Some(departments_hint), errors))
                            (text_input("job", "New job title", typed("job"), Some(departments_hint), errors))
                            (text_input("manager", "New manager's person id", typed("manager"), Some("Leave blank to keep their manager"), errors))
                            (when_input(ctx, "move-when", &When::default(), "When did they move?", errors))
                            (button("Record the move"))
                        }
                    }
                }
                details class="govuk-details" open[errors_in(errors, &["method", "mfa-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Record a second factor (MFA) set up" } }
                    div class="govuk-details__text" {
                        form method="post" action=(format!("/c/{c}/people/{person}/mfa")) novalidate {
                            (csrf(ctx))
                            (select("method", "Second factor", &mfa_methods(), "authenticator_app", errors))
                            (when_input(ctx, "mfa-when", &When::default(), "When was it set up?", errors))
                            (button("Record the second factor"))
                        }
                    }
                }
                details class="govuk-details" open[errors_in(errors, &["course", "training-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Record training completed" } }
                    div class="govuk-details__text" {
                        form method="post" action=(format!("/c/{c}/people/{person}/training")) novalidate {
                            (csrf(ctx))
                            (text_input("course", "Course", typed("course"), Some(&named_in_pack(ctx, "Courses the council's policy names", courses(ctx))), errors))
                            (when_input(ctx, "training-when", &When::default(), "When was it completed?", errors))
                            (button("Record the training"))
                        }
                    }
                }
                details class="govuk-details" open[errors_in(errors, &["agreement", "agreement-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Record an agreement signed" } }
                    div class="govuk-details__text" {
                        form method="post" action=(format!("/c/{c}/people/{person}/agreement")) novalidate {
                            (csrf(ctx))
                            (text_input("agreement", "Agreement", typed("agreement"), Some(&named_in_pack(ctx, "Agreements the council's policy names", agreements(ctx))), errors))
                            (when_input(ctx, "agreement-when", &When::default(), "When was it signed?", errors))
                            (button("Record the agreement"))
                        }
                    }
                }
            }
            @if !p.is_present() && ctx.may(state, Action::ManagePeople) {
                a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/people/{person}/leave")) { "Leaver checklist" }
            }
            @if ctx.may(state, Action::ManageAccess) && p.is_present() {
                details class="govuk-details" open[errors_in(errors, &["resource", "requested_by", "grant-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Grant access to a resource" } }
                    div class="govuk-details__text" {
                        form method="post" action=(format!("/c/{c}/people/{person}/access/grant")) novalidate {
                            (csrf(ctx))
                            (text_input("resource", "Resource", typed("resource"), Some("For example email, or restricted/finance for a restricted folder"), errors))
                            (text_input("requested_by", "Requested by (person id)", typed("requested_by"), Some("Optional; some packs allow only named roles to request restricted access"), errors))
                            (when_input(ctx, "grant-when", &When::default(), "When was access granted?", errors))
                            (button("Grant access"))
                        }
                    }
                }
            }
            @if ctx.may(state, Action::ManageAccounts) && p.is_present() {
                details class="govuk-details" open[errors_in(errors, &["role", "role-when"])] {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Grant or take away a role" } }
                    div class="govuk-details__text" {
                        p class="govuk-body" { "Roles are what the council's policy and Warden's permissions name, such as ict_admin, dpo, siro, head_of_service or town_clerk." }
                        form method="post" action=(format!("/c/{c}/people/{person}/role")) novalidate {
                            (csrf(ctx))
                            (text_input("role", "Role", typed("role"), None, errors))
                            (select("change", "Grant or take away", &[("grant".to_owned(), "Grant".to_owned()), ("revoke".to_owned(), "Take away".to_owned())], "grant", errors))
                            (when_input(ctx, "role-when", &When::default(), "When did it change?", errors))
                            (button("Record the role"))
                        }
                    }
                }
            }
            @if ctx.may(state, Action::ManageAccounts) && p.is_present() {
                details class="govuk-details" {
                    summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Set up or reset sign-in" } }
                    div class="govuk-details__text" {
                        p class="govuk-body" { "Gives " (p.name) " a new one-time password, shown once. Their other sessions end, and they set up their authenticator app again at their next sign-in." }
                        (action_button(ctx, &format!("/c/{c}/people/{person}/account"), "Make a one-time password", &[], true))
                    }
                }
            }
            (findings_table(ctx, &findings, "Findings about this person"))
            h2 class="govuk-heading-m" { "Claims" }
            (claims_table(ctx, &claims, "Expense claims by this person"))
            (crate::history::reminders(ctx, &crate::council::Subject::Person(id.0.clone()), "Reminders sent to them"))
            (history(ctx, state, &crate::council::Subject::Person(id.0.clone())))
        },
    )
    .into_response()
}

/// The second factors a person may have set up, for the select.
fn mfa_methods() -> Vec<(String, String)> {
    [
        ("authenticator_app", "Authenticator app"),
        ("hardware_token", "Hardware token"),
        ("sms", "Text message (SMS)"),
    ]
    .iter()
    .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
    .collect()
}

/// Every event condition of the pack's rules, for the names they hold.
fn pack_matches(ctx: &Ctx) -> Vec<&rules::pack::EventMatch> {
    use rules::pack::RuleKind;
    let mut matches = Vec::new();
    for rule in &ctx.council.pack.rules {
        match &rule.kind {
            RuleKind::Obligation(o) => {
                matches.push(&o.trigger);
                matches.extend(&o.discharged_by);
            }
            RuleKind::Recurrence(r) => {
                matches.extend(&r.done_by);
                matches.extend(&r.counted_from);
            }
            RuleKind::Precondition(p) => matches.push(&p.on),
            RuleKind::Permission(p) => matches.push(&p.on),
            RuleKind::Limit(l) => matches.push(&l.on),
            RuleKind::Prohibition(p) => matches.push(&p.on),
        }
    }
    matches
}

/// The courses the council's pack names.
fn courses(ctx: &Ctx) -> Vec<String> {
    let mut names: Vec<String> = pack_matches(ctx)
        .into_iter()
        .flat_map(|m| m.filter.texts.iter())
        .filter(|(field, _)| *field == rules::pack::EventText::Course)
        .map(|(_, name)| name.clone())
        .chain(ctx.council.pack.rules.iter().filter_map(|r| match &r.kind {
            rules::pack::RuleKind::Precondition(p) => {
                p.require.training.as_ref().map(|c| c.to_string())
            }
            _ => None,
        }))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The agreements the council's pack names.
fn agreements(ctx: &Ctx) -> Vec<String> {
    let mut names: Vec<String> = pack_matches(ctx)
        .into_iter()
        .flat_map(|m| m.filter.texts.iter())
        .filter(|(field, _)| *field == rules::pack::EventText::Agreement)
        .map(|(_, name)| name.clone())
        .chain(ctx.council.pack.rules.iter().filter_map(|r| match &r.kind {
            rules::pack::RuleKind::Precondition(p) => {
                p.require.agreement.as_ref().map(|a| a.to_string())
            }
            _ => None,
        }))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A hint naming what the pack names, if it names any.
fn named_in_pack(_ctx: &Ctx, what: &str, names: Vec<String>) -> String {
    if names.is_empty() {
        "The council's own name for it, in lower case with underscores".to_owned()
    } else {
        format!("{what}: {}", names.join(", "))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MfaForm {
    method: String,
    #[serde(flatten)]
    when: When,
}

/// Records that the person set up a second factor (an access grant the
/// pack refused for want of MFA can then be made).
pub async fn record_mfa(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<MfaForm>,
) -> Response {
    let typed: [(&str, &str); 0] = [];
    let method = match form.method.as_str() {
        "authenticator_app" => MfaMethod::AuthenticatorApp,
        "hardware_token" => MfaMethod::HardwareToken,
        "sms" => MfaMethod::Sms,
        _ => {
            let errors = Errors::one("method", "Choose the second factor that was set up");
            return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
        }
    };
    let kind = EventKind::MfaEnrolled(MfaEnrolled {
        person: PersonId::from(person.as_str()),
        method,
    });
    on_person(
        &state,
        &ctx,
        &person,
        kind,
        "method",
        At::Form(&form.when, "mfa-when"),
        &typed,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NamedForm {
    course: String,
    agreement: String,
    #[serde(flatten)]
    when: When,
}

/// Records a course the person completed.
pub async fn record_training(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<NamedForm>,
) -> Response {
    let typed = [("course", form.course.as_str())];
    let course = form.course.trim();
    if !valid_id(course) {
        let errors = Errors::one("course", "Enter the course, for example data_protection");
        return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
    }
    let kind = EventKind::TrainingCompleted(TrainingCompleted {
        person: PersonId::from(person.as_str()),
        course: Course::from(course),
    });
    on_person(
        &state,
        &ctx,
        &person,
        kind,
        "course",
        At::Form(&form.when, "training-when"),
        &typed,
    )
    .await
}

/// Records an agreement the person signed.
pub async fn record_agreement(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<NamedForm>,
) -> Response {
    let typed = [("agreement", form.agreement.as_str())];
    let agreement = form.agreement.trim();
    if !valid_id(agreement) {
        let errors = Errors::one(
            "agreement",
            "Enter the agreement, for example third_party_compliance",
        );
        return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
    }
    let kind = EventKind::AgreementSigned(AgreementSigned {
        person: PersonId::from(person.as_str()),
        agreement: Agreement::from(agreement),
    });
    on_person(
        &state,
        &ctx,
        &person,
        kind,
        "agreement",
        At::Form(&form.when, "agreement-when"),
        &typed,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
    change: String,
    #[serde(flatten)]
    when: When,
}

/// Grants or takes away one of the person's roles (what Warden's
/// permissions and the pack's rules are given by).
pub async fn change_role(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, person)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Response {
    let typed = [("role", form.role.as_str())];
    let role = form.role.trim();
    if !valid_id(role) {
        let errors = Errors::one("role", "Enter the role, for example ict_admin");
        return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
    }
    let change = RoleChange {
        person: PersonId::from(person.as_str()),
        role: Role::from(role),
    };
    let holds = ctx.council.with_estate(|e| {
        e.people
            .get(&change.person)
            .is_some_and(|p| p.roles.contains(&change.role))
    });
    let kind = match (form.change.as_str(), holds) {
        ("revoke", true) => EventKind::RoleRevoked(change),
        ("revoke", false) => {
            let errors = Errors::one("role", format!("{person} does not hold the role {role}"));
            return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
        }
        (_, true) => {
            let errors = Errors::one("role", format!("{person} already holds the role {role}"));
            return refused(person_page(&ctx, &state, &person, &errors, "", &typed));
        }
        _ => EventKind::RoleGranted(change),
    };
    on_person(
        &state,
        &ctx,
        &person,
        kind,
        "role",
        At::Form(&form.when, "role-when"),
        &typed,
    )
    .await
}

/// Records one event about a person from a form on their page: back to the
/// page with the banner, or the page again with the form's errors.
async fn on_person(
    state: &AppState,
    ctx: &Ctx,
    person: &str,
    kind: EventKind,
    field: &str,
    at: At<'_>,
    typed: &[(&str, &str)],
) -> Response {
    let next = format!("people/{person}");
    record_then(state, ctx, (kind, field, at), &next, |errors| {
        person_page(ctx, state, person, errors, "", typed)
    })
    .await
}
