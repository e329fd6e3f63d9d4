//! Self-service ("My Warden"): my devices, my obligations, accepting a
//! policy, reporting a lost device, claiming broadband. Every command here
//! is about the signed-in person only (my password and API tokens are in
//! `credentials.rs`).

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, JustRecorded, When, button, csrf, done, error_summary, parse_local, record_one,
    refused, select, text_input, when_input,
};
use crate::layout::{
    claims_table, findings_table, markdown, not_found_page, success_banner, titled,
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::event::{DeviceLost, ExpenseClaimed, PolicyAccepted};
use domain::{DeviceId, EventKind, Pence};
use maud::{Markup, html};
use rules::Status;
use serde::Deserialize;

pub async fn home(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(r): Query<JustRecorded>,
) -> Response {
    let c = &ctx.council.id;
    let me = ctx.user.person.clone();
    let view = ctx.council.view(ctx.now);
    let mut mine: Vec<&rules::Finding> = view
        .about(me.as_str())
        .filter(|f| matches!(f.status, Status::Open | Status::Overdue | Status::Violated))
        .collect();
    mine.sort_by_key(|f| f.due);
    let Some((person, to_accept)) = ctx.council.with_estate(|e| {
        let p = e.people.get(&me)?.clone();
        let to_accept: Vec<(String, String, String)> = ctx
            .council
            .pack
            .policies
            .iter()
            .filter(|pol| pol.accepted_by.contains(&p.kind))
            .map(|pol| (pol, ctx.council.pack.current_version(e, &pol.id).to_owned()))
            .filter(|(pol, v)| !p.has_accepted(&pol.id, v))
            .map(|(pol, v)| (pol.id.to_string(), pol.title.clone(), v))
            .collect();
        Some((p, to_accept))
    }) else {
        return not_found_page("No such person");
    };
    let manages = ctx.may(&state, Action::ViewTeam);
    let team_size = if manages {
        team_of(&ctx, &view).len()
    } else {
        0
    };
    // Each device with its kind, and, once reported lost or stolen, when.
    let my_devices: Vec<(String, String, Option<String>)> = ctx.council.with_estate(|e| {
        person
            .devices_held
            .iter()
            .map(|d| {
                let device = e.devices.get(d);
                let kind = device.map_or_else(String::new, |dev| dev.kind.as_str().to_owned());
                let lost = device.and_then(|dev| dev.lost.as_ref()).map(|loss| {
                    let how = if loss.stolen { "stolen" } else { "lost" };
                    format!(
                        "reported {how} {}",
                        crate::layout::when(&ctx, loss.reported)
                    )
                });
                (d.to_string(), kind, lost)
            })
            .collect()
    });
    // API tokens are for officers' systems; a councillor has no use for one.
    let uses_api = ctx.may(&state, crate::authz::Action::ViewRegisters);
    let my_claims: Vec<domain::estate::ExpenseClaim> = ctx.council.with_estate(|e| {
        e.claims
            .iter()
            .filter(|claim| claim.person == me)
            .cloned()
            .collect()
    });
    titled(&format!("My Warden: {}", person.name), &ctx, &state, html! {
        @if !r.recorded.is_empty() { (success_banner(crate::history::recorded_banner(&r.recorded))) }
        @if r.recorded == "device_lost" {
            div class="govuk-inset-text" id="report-incident" {
                "If the device held council or personal data, or could reach council systems, "
                a class="govuk-link" href=(format!("/c/{c}/incidents/new")) { "report it as an incident" }
                " too: the clock for telling the Information Commissioner may already be running."
            }
        }
        @if !to_accept.is_empty() {
            h2 class="govuk-heading-m" { "Policies to accept" }
            ul class="govuk-list" id="to-accept" {
                @for (id, title, version) in &to_accept {
                    li { a class="govuk-link" href=(format!("/c/{c}/me/policies/{id}")) { "Read and accept " (title) " version " (version) } }
                }
            }
        }
        h2 class="govuk-heading-m" { "My devices" }
        @if my_devices.iter().all(|(_, _, lost)| lost.is_some()) { p class="govuk-body" { "You hold no devices." } }
        ul class="govuk-list" id="my-devices" {
            @for (d, kind, _) in my_devices.iter().filter(|(_, _, lost)| lost.is_none()) {
                li data-device=(d) { (kind) " " (d) }
            }
        }
        // A device reported lost or stolen is no longer held: listed apart,
        // with when it was reported, until it is found and handed back.
        @if my_devices.iter().any(|(_, _, lost)| lost.is_some()) {
            h3 class="govuk-heading-s" { "Reported lost or stolen" }
            ul class="govuk-list" id="my-lost-devices" {
                @for (d, kind, lost) in my_devices.iter().filter(|(_, _, lost)| lost.is_some()) {
                    li data-device=(d) { (kind) " " (d) " (" (lost.as_deref().unwrap_or_default()) ")" }
                }
            }
        }
        div class="warden-actions" {
            a class="govuk-button govuk-button--warning" href=(format!("/c/{c}/me/lost")) { "Report a lost or stolen device" }
            a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/me/broadband")) { "Claim broadband" }
            a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/incidents/new")) { "Report an incident" }
        }
        (findings_table(&ctx, &mine, "My obligations: open, overdue or broken"))
        @if mine.is_empty() { p class="govuk-body" { "Nothing is due from you." } }
        @if manages {
            h2 class="govuk-heading-m" { "My team" }
            p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/team")) { "The " (team_size) " people you manage" } }
        }
        h2 class="govuk-heading-m" { "My claims" }
        (claims_table(&ctx, &my_claims, "My expense claims"))
        h2 class="govuk-heading-m" { "My account" }
        ul class="govuk-list" {
            li { a class="govuk-link" href=(format!("/c/{c}/me/password")) { "Change my password" } }
            @if uses_api { li { a class="govuk-link" href=(format!("/c/{c}/me/tokens")) { "My API tokens and calendar feed" } } }
            @else { li { a class="govuk-link" href=(format!("/c/{c}/me/tokens")) { "My deadlines in my calendar" } } }
        }
        (crate::history::reminders(&ctx, &crate::council::Subject::Person(ctx.user.person.0.clone()), "Reminders sent to me"))
    })
    .into_response()
}

/// The policy, its current version and that version's text with its
/// SHA-256 (None when the council has not supplied it).
type Current = (rules::pack::Policy, String, Option<(String, String)>);

async fn current(ctx: &Ctx, state: &AppState, id: &str) -> Result<Option<Current>, Response> {
    let Some(policy) = ctx.policy(id) else {
        return Ok(None);
    };
    let version = ctx
        .council
        .with_estate(|e| ctx.council.pack.current_version(e, &policy.id).to_owned());
    match state.version_text(&ctx.council, &policy, &version).await {
        Ok(text) => Ok(Some((policy, version, text))),
        Err(e) => {
            tracing::error!(error = %e, "policy text unreadable");
            Err(crate::forms::unavailable(
                "The policy's text could not be read",
            ))
        }
    }
}

fn policy_page(ctx: &Ctx, state: &AppState, current: &Current, errors: &Errors) -> Response {
    let c = &ctx.council.id;
    let (policy, version, text) = current;
    let id = policy.id.as_str();
    let Some((text, sha)) = text else {
        return titled(&policy.title, ctx, state, html! {
            p class="govuk-body" { "The council has not supplied the text of version " (version) " of this policy yet, so it cannot be accepted here. Ask your information governance officer." }
        })
        .into_response();
    };
    let accepted = ctx.council.with_estate(|e| {
        e.people
            .get(&ctx.user.person)
            .and_then(|p| p.acceptances.get(&policy.id))
            .and_then(|versions| versions.get(version.as_str()).copied())
    });
    titled(&format!("{} (version {version})", policy.title), ctx, state, html! {
        (error_summary(errors))
        @if let Some(at) = accepted {
            div class="govuk-panel govuk-panel--confirmation" id="accepted" {
                h2 class="govuk-panel__title" { "You have accepted version " (version) }
                div class="govuk-panel__body" { "on " (crate::layout::when(ctx, at)) }
            }
        }
        div class="warden-policy-text" id="policy-text" { (markdown(text)) }
        p class="govuk-body-s" { "Fingerprint of this text (SHA-256): " code id="text-sha256" { (sha) } }
        @if accepted.is_none() {
        form method="post" action=(format!("/c/{c}/me/policies/{id}")) novalidate {
            (csrf(ctx))
            input type="hidden" name="version" value=(version);
            input type="hidden" name="text_sha256" value=(sha);
            div class={ "govuk-form-group" @if errors.of("confirm").is_some() { " govuk-form-group--error" } } {
                @if let Some(e) = errors.of("confirm") { p class="govuk-error-message" id="confirm-error" { span class="govuk-visually-hidden" { "Error: " } (e) } }
                div class="govuk-checkboxes" data-module="govuk-checkboxes" {
                    div class="govuk-checkboxes__item" {
                        input class="govuk-checkboxes__input" id="confirm" name="confirm" type="checkbox" value="yes";
                        label class="govuk-label govuk-checkboxes__label" for="confirm" { "I have read this policy and I accept it" }
                    }
                }
            }
            (button("Accept"))
        }
        }
    })
    .into_response()
}

pub async fn policy_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match current(&ctx, &state, &id).await {
        Ok(Some(current)) => policy_page(&ctx, &state, &current, &Errors::default()),
        Ok(None) => not_found_page("No such policy"),
        Err(unavailable) => unavailable,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    /// The version the page showed.
    version: String,
    /// The SHA-256 of the text the page showed: if the policy changed
    /// while it was read, the acceptance is refused, not recorded unread.
    text_sha256: String,
    /// "yes" when the box is ticked; absent when it is not.
    confirm: Option<String>,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<AcceptForm>,
) -> Response {
    let current = match current(&ctx, &state, &id).await {
        Ok(Some(current)) => current,
        Ok(None) => return not_found_page("No such policy"),
        Err(unavailable) => return unavailable,
    };
    let (policy, version, text) = &current;
    let mut errors = Errors::default();
    if f.confirm.as_deref() != Some("yes") {
        errors.add(
            "confirm",
            "Tick the box to confirm you have read and accept the policy",
        );
    }
    let sha = text.as_ref().map(|(_, sha)| sha.clone());
    if f.version != *version || sha.as_deref() != Some(f.text_sha256.as_str()) {
        errors.add(
            "confirm",
            "The policy changed while you were reading it: read this version and accept again",
        );
    }
    if !errors.is_empty() {
        return refused(policy_page(&ctx, &state, &current, &errors));
    }
    let kind = EventKind::PolicyAccepted(PolicyAccepted {
        person: ctx.user.person.clone(),
        policy: policy.id.clone(),
        version: version.clone(),
        text_sha256: sha,
    });
    match record_one(&state, &ctx, kind, "confirm", At::Time(ctx.now)).await {
        Ok(name) => done(format!(
            "/c/{}/me/policies/{id}?recorded={name}",
            ctx.council.id
        )),
        Err(errors) => refused(policy_page(&ctx, &state, &current, &errors)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LostForm {
    device: String,
    discovered: String,
    stolen: String,
}

fn lost_page(ctx: &Ctx, state: &AppState, form: &LostForm, errors: &Errors) -> Markup {
    let c = &ctx.council.id;
    let devices: Vec<(String, String)> = ctx.council.with_estate(|e| {
        e.people
            .get(&ctx.user.person)
            .map(|p| {
                // One already reported lost is not offered again.
                p.devices_held
                    .iter()
                    .filter(|d| e.devices.get(d).is_some_and(|dev| dev.lost.is_none()))
                    .map(|d| (d.to_string(), d.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    });
    titled(
        "Report a lost or stolen device",
        ctx,
        state,
        html! {
            (error_summary(errors))
            p class="govuk-body" { "Report it within 24 hours of discovering the loss, even if you are not sure. Recording it here tells ICT at once." }
            @if devices.is_empty() { p class="govuk-body" id="nothing-to-report" { "You hold no device that is not already reported lost or stolen." } }
            @else {
                form method="post" action=(format!("/c/{c}/me/lost")) novalidate {
                    (csrf(ctx))
                    (select("device", "Which device", &devices, &form.device, errors))
                    (text_input("discovered", "When you discovered the loss", &form.discovered, Some("YYYY-MM-DD HH:MM; leave blank for now"), errors))
                    div class="govuk-checkboxes govuk-!-margin-bottom-4" data-module="govuk-checkboxes" {
                        div class="govuk-checkboxes__item" {
                            input class="govuk-checkboxes__input" id="stolen" name="stolen" type="checkbox" value="yes" checked[form.stolen == "yes"];
                            label class="govuk-label govuk-checkboxes__label" for="stolen" { "I think it was stolen" }
                        }
                    }
                    button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Report the loss" }
                }
            }
        },
    )
}

pub async fn lost_form(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    lost_page(&ctx, &state, &LostForm::default(), &Errors::default())
}

pub async fn lost(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<LostForm>,
) -> Response {
    let now = ctx.now;
    let mut errors = Errors::default();
    let device = DeviceId::from(f.device.trim());
    let mine = ctx.council.with_estate(|e| {
        e.devices
            .get(&device)
            .is_some_and(|d| d.holder.as_ref() == Some(&ctx.user.person) && d.lost.is_none())
    });
    if !mine {
        errors.add("device", "Choose a device you hold");
    }
    let discovered = parse_local(&ctx, &f.discovered, now)
        .map_err(|m| errors.add("discovered", m))
        .ok();
    let (Some(discovered), true) = (discovered, errors.is_empty()) else {
        return refused(lost_page(&ctx, &state, &f, &errors));
    };
    let kind = EventKind::DeviceLost(DeviceLost {
        device,
        discovered,
        stolen: f.stolen == "yes",
    });
    match record_one(&state, &ctx, kind, "device", At::Time(now)).await {
        Ok(name) => done(format!("/c/{}/me?recorded={name}", ctx.council.id)),
        Err(errors) => refused(lost_page(&ctx, &state, &f, &errors)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BroadbandForm {
    amount: String,
    #[serde(flatten)]
    when: When,
}

/// The pack's limits on broadband claims, in its own words.
fn claim_limits(ctx: &Ctx) -> Vec<String> {
    ctx.council
        .pack
        .rules
        .iter()
        .filter(|rule| match &rule.kind {
            rules::pack::RuleKind::Limit(limit) => {
                limit.on.event == domain::EventType::ExpenseClaimed
            }
            _ => false,
        })
        .map(|rule| rule.cite.clone())
        .collect()
}

fn broadband_page(ctx: &Ctx, state: &AppState, form: &BroadbandForm, errors: &Errors) -> Markup {
    let c = &ctx.council.id;
    let household = ctx.council.with_estate(|e| {
        e.people
            .get(&ctx.user.person)
            .and_then(|p| p.household.clone())
    });
    let limits = claim_limits(ctx);
    titled(
        "Claim broadband",
        ctx,
        state,
        html! {
            (error_summary(errors))
            @match &household {
                None => p class="govuk-body" id="no-household" {
                    "No household is recorded for you, so a claim cannot be made yet. Ask your ICT administrator to record it."
                },
                Some(household) => {
                    @if limits.is_empty() {
                        p class="govuk-body" { "The council's policy sets no limit on broadband claims." }
                    } @else {
                        div class="govuk-inset-text" id="limits" {
                            p class="govuk-body" { "The council's policy limits these claims:" }
                            ul class="govuk-list govuk-list--bullet" { @for limit in &limits { li { (limit) } } }
                        }
                    }
                    form method="post" action=(format!("/c/{c}/me/broadband")) novalidate {
                        (csrf(ctx))
                        (text_input("amount", "Amount in pounds", &form.amount, Some("For example 45.50"), errors))
                        dl class="govuk-summary-list" {
                            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Household" } dd class="govuk-summary-list__value" { (household) } }
                        }
                        (when_input(ctx, "when", &form.when, "When is the claim dated?", errors))
                        (button("Claim"))
                    }
                }
            }
        },
    )
}

pub async fn broadband_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Markup {
    broadband_page(&ctx, &state, &BroadbandForm::default(), &Errors::default())
}

/// A claim for the claimant's own household, as recorded: the form does not
/// ask for it, and the domain refuses any other.
pub async fn broadband(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<BroadbandForm>,
) -> Response {
    let mut errors = Errors::default();
    let amount = match f.amount.trim().trim_start_matches('£').parse::<Pence>() {
        Ok(p) if p.0 > 0 => Some(p),
        _ => {
            errors.add(
                "amount",
                "Enter an amount in pounds with at most two decimals, for example 45.50",
            );
            None
        }
    };
    let household = ctx.council.with_estate(|e| {
        e.people
            .get(&ctx.user.person)
            .and_then(|p| p.household.clone())
    });
    if household.is_none() {
        errors.add(
            "amount",
            "No household is recorded for you: ask your ICT administrator to record it",
        );
    }
    let at = f.when.at(&ctx).map_err(|m| errors.add("when", m)).ok();
    let (Some(amount), Some(household), Some(at), true) =
        (amount, household, at, errors.is_empty())
    else {
        return refused(broadband_page(&ctx, &state, &f, &errors));
    };
    let kind = EventKind::ExpenseClaimed(ExpenseClaimed {
        person: ctx.user.person.clone(),
        category: "broadband".to_owned(),
        amount,
        household,
    });
    match record_one(&state, &ctx, kind, "amount", At::Time(at)).await {
        Ok(name) => done(format!("/c/{}/me?recorded={name}", ctx.council.id)),
        Err(errors) => refused(broadband_page(&ctx, &state, &f, &errors)),
    }
}

/// A manager's team: the present people who name them as manager, each
/// with how many of their findings are overdue or broken, by name.
fn team_of(ctx: &Ctx, view: &crate::council::View) -> Vec<(String, String, usize)> {
    let me = &ctx.user.person;
    let members: Vec<(String, String)> = ctx.council.with_estate(|e| {
        e.people
            .iter()
            .filter(|(_, p)| p.is_present() && p.manager.as_ref() == Some(me))
            .map(|(id, p)| (p.name.clone(), id.to_string()))
            .collect()
    });
    let mut team: Vec<(String, String, usize)> = members
        .into_iter()
        .map(|(name, id)| {
            let failing = view
                .about(&id)
                .filter(|f| matches!(f.status, Status::Overdue | Status::Violated))
                .count();
            (name, id, failing)
        })
        .collect();
    team.sort();
    team
}

/// The people a manager manages, and a way to record a starter among them.
pub async fn team(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    let c = &ctx.council.id;
    let view = ctx.council.view(ctx.now);
    let team = team_of(&ctx, &view);
    titled(
        "My team",
        &ctx,
        &state,
        html! {
            @if team.is_empty() {
                p class="govuk-body" { "Nobody is recorded as managed by you. A starter's or a mover's manager is recorded with them." }
            } @else {
                table class="govuk-table" id="my-team" {
                    caption class="govuk-visually-hidden" { "The people you manage" }
                    (crate::layout::table_head(&["Name", "Id", "Overdue or broken"], &["Overdue or broken"]))
                    tbody class="govuk-table__body" {
                        @for (name, id, failing) in &team {
                            tr class="govuk-table__row" {
                                td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/people/{id}")) { (name) } }
                                td class="govuk-table__cell" { (id) }
                                td class="govuk-table__cell govuk-table__cell--numeric" { (failing) }
                            }
                        }
                    }
                }
            }
            a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/starters")) { "Record a starter in my team" }
        },
    )
}
