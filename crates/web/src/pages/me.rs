//! Self-service ("My Warden"): my devices, my obligations, accepting a
//! policy, reporting a lost device, claiming broadband, my password and my
//! API tokens. Every command here is about the signed-in person only.

use super::devices::parse_local;
use super::people::optional;
use super::policies::current_version;
use super::{
    Errors, Recorded, action_button, button, csrf, done, error_summary, findings_table, markdown,
    password_input, refused, select, success_banner, text_input, titled, unprocessable,
};
use crate::accounts::{ApiToken, Scope, random_hex, sha256_hex};
use crate::routes::Ctx;
use crate::sessions::Stage;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::event::{DeviceLost, ExpenseClaimed, PolicyAccepted};
use domain::{DeviceId, EventKind, HouseholdId, Pence, PolicyId};
use maud::{Markup, html};
use rules::Status;
use serde::Deserialize;

pub async fn home(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(r): Query<Recorded>,
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
            .map(|pol| (pol, current_version(e, pol)))
            .filter(|(pol, v)| !p.has_accepted(&pol.id, v))
            .map(|(pol, v)| (pol.id.to_string(), pol.title.clone(), v))
            .collect();
        Some((p, to_accept))
    }) else {
        return super::not_found_page("No such person");
    };
    titled(&format!("My Warden: {}", person.name), &ctx, &state, html! {
        @if !r.recorded.is_empty() { (success_banner(&format!("Recorded: {}", r.recorded.replace('_', " ")))) }
        @if !to_accept.is_empty() {
            h2 class="govuk-heading-m" { "Policies to accept" }
            ul class="govuk-list" id="to-accept" {
                @for (id, title, version) in &to_accept {
                    li { a class="govuk-link" href=(format!("/c/{c}/me/policies/{id}")) { "Read and accept " (title) " version " (version) } }
                }
            }
        }
        h2 class="govuk-heading-m" { "My devices" }
        @if person.devices_held.is_empty() { p class="govuk-body" { "You hold no devices." } }
        ul class="govuk-list" id="my-devices" { @for d in person.devices_held.iter() { li { (d) } } }
        div class="warden-actions" {
            a class="govuk-button govuk-button--warning" href=(format!("/c/{c}/me/lost")) { "Report a lost or stolen device" }
            a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/me/broadband")) { "Claim broadband" }
            a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/incidents/new")) { "Report an incident" }
        }
        (findings_table(&ctx, &mine, "My obligations: open, overdue or broken"))
        h2 class="govuk-heading-m" { "My account" }
        ul class="govuk-list" {
            li { a class="govuk-link" href=(format!("/c/{c}/me/password")) { "Change my password" } }
            li { a class="govuk-link" href=(format!("/c/{c}/me/tokens")) { "My API tokens" } }
        }
    })
    .into_response()
}

fn policy_page(ctx: &Ctx, state: &AppState, id: &str, errors: &Errors) -> Response {
    let c = &ctx.council.id;
    let Some(policy) = ctx.council.pack.policy(&PolicyId::from(id)).cloned() else {
        return super::not_found_page("No such policy");
    };
    let version = ctx.council.with_estate(|e| current_version(e, &policy));
    let Some(text) = &policy.text else {
        return titled(&policy.title, ctx, state, html! {
            p class="govuk-body" { "The council has not supplied the text of this policy yet, so it cannot be accepted here. Ask your information governance officer." }
        })
        .into_response();
    };
    let sha = sha256_hex(&text.markdown);
    titled(&format!("{} (version {version})", policy.title), ctx, state, html! {
        (error_summary(errors))
        div class="warden-policy-text" id="policy-text" { (markdown(&text.markdown)) }
        p class="govuk-body-s" { "Fingerprint of this text (SHA-256): " code id="text-sha256" { (sha) } }
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
    })
    .into_response()
}

pub async fn policy_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    policy_page(&ctx, &state, &id, &Errors::default())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    version: String,
    text_sha256: String,
    confirm: String,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<AcceptForm>,
) -> Response {
    let mut errors = Errors::default();
    let Some(policy) = ctx
        .council
        .pack
        .policy(&PolicyId::from(id.as_str()))
        .cloned()
    else {
        return super::not_found_page("No such policy");
    };
    let version = ctx.council.with_estate(|e| current_version(e, &policy));
    let sha = policy.text.as_ref().map(|t| sha256_hex(&t.markdown));
    if f.confirm != "yes" {
        errors.add(
            "confirm",
            "Tick the box to confirm you have read and accept the policy",
        );
    }
    if f.version != version || sha.as_deref() != Some(f.text_sha256.as_str()) {
        errors.add(
            "confirm",
            "The policy changed while you were reading it: read this version and accept again",
        );
    }
    if !errors.is_empty() {
        return unprocessable(policy_page(&ctx, &state, &id, &errors));
    }
    let event = ctx.event(
        ctx.now,
        EventKind::PolicyAccepted(PolicyAccepted {
            person: ctx.user.person.clone(),
            policy: policy.id.clone(),
            version,
            text_sha256: sha,
        }),
    );
    match state.record(&ctx.council, vec![event]).await {
        Ok(_) => done(format!("/c/{}/me?recorded=policy_accepted", ctx.council.id)),
        Err(e) => unprocessable(policy_page(
            &ctx,
            &state,
            &id,
            &Errors::from_command(e, "confirm"),
        )),
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
                p.devices_held
                    .iter()
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
            @if devices.is_empty() { p class="govuk-body" { "You hold no devices." } }
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
    let event = ctx.event(
        now,
        EventKind::DeviceLost(DeviceLost {
            device,
            discovered,
            stolen: f.stolen == "yes",
        }),
    );
    match state.record(&ctx.council, vec![event]).await {
        Ok(_) => done(format!("/c/{}/me?recorded=device_lost", ctx.council.id)),
        Err(e) => refused(lost_page(
            &ctx,
            &state,
            &f,
            &Errors::from_command(e, "device"),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BroadbandForm {
    amount: String,
    household: String,
    #[serde(flatten)]
    when: super::When,
}

fn broadband_page(ctx: &Ctx, state: &AppState, form: &BroadbandForm, errors: &Errors) -> Markup {
    let c = &ctx.council.id;
    let household = if form.household.is_empty() {
        ctx.council
            .with_estate(|e| {
                e.people
                    .get(&ctx.user.person)
                    .and_then(|p| p.household.clone())
            })
            .map(|h| h.to_string())
            .unwrap_or_default()
    } else {
        form.household.clone()
    };
    titled(
        "Claim broadband",
        ctx,
        state,
        html! {
            (error_summary(errors))
            form method="post" action=(format!("/c/{c}/me/broadband")) novalidate {
                (csrf(ctx))
                (text_input("amount", "Amount in pounds", &form.amount, Some("For example 45.50"), errors))
                (text_input("household", "Household", &household, Some("The council's reference for your household; one claim allowance per household"), errors))
                (super::when_input(ctx, "when", &form.when, "When is the claim dated?", errors))
                (button("Claim"))
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
    let household = optional(&f.household);
    if household.is_none() {
        errors.add("household", "Enter your household reference");
    }
    let at = f.when.at(&ctx).map_err(|m| errors.add("when", m)).ok();
    let (Some(amount), Some(household), Some(at), true) =
        (amount, household, at, errors.is_empty())
    else {
        return refused(broadband_page(&ctx, &state, &f, &errors));
    };
    let event = ctx.event(
        at,
        EventKind::ExpenseClaimed(ExpenseClaimed {
            person: ctx.user.person.clone(),
            category: "broadband".to_owned(),
            amount,
            household: HouseholdId::from(household.as_str()),
        }),
    );
    match state.record(&ctx.council, vec![event]).await {
        Ok(_) => done(format!("/c/{}/me?recorded=expense_claimed", ctx.council.id)),
        Err(e) => refused(broadband_page(
            &ctx,
            &state,
            &f,
            &Errors::from_command(e, "amount"),
        )),
    }
}

fn password_page(ctx: &Ctx, state: &AppState, errors: &Errors, changed: bool) -> Markup {
    titled(
        "Change my password",
        ctx,
        state,
        html! {
            @if changed { (success_banner("Your password was changed. You have been signed out everywhere else.")) }
            (error_summary(errors))
            form method="post" action=(format!("/c/{}/me/password", ctx.council.id)) novalidate {
                (csrf(ctx))
                (password_input("current", "Current password", "current-password", errors))
                (password_input("new", "New password (at least 12 characters)", "new-password", errors))
                (password_input("confirm", "New password again", "new-password", errors))
                (button("Change password"))
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Changed {
    changed: String,
}

pub async fn password_form(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<Changed>,
) -> Markup {
    password_page(&ctx, &state, &Errors::default(), !q.changed.is_empty())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn password(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let (c, p) = (ctx.council.id.clone(), ctx.user.person.to_string());
    let mut errors = Errors::default();
    let Ok(Some(mut account)) = state.account(&c, &p).await else {
        return super::unavailable("Your account could not be read");
    };
    if !account.password_matches(&f.current) {
        errors.add("current", "Your current password is not right");
    }
    if f.new != f.confirm {
        errors.add("confirm", "The two new passwords are not the same");
    }
    if errors.is_empty()
        && let Err(message) = account.set_password(&f.new)
    {
        errors.add("new", message);
    }
    if !errors.is_empty() {
        return refused(password_page(&ctx, &state, &errors, false));
    }
    if state.save_account(&c, &p, &account).await.is_err() {
        return super::unavailable("Your password could not be saved");
    }
    // Every other session of this person is now stale (its generation is
    // old); this one carries on under a new id.
    let mut res = done(format!("/c/{c}/me/password?changed=yes"));
    if let Some(sid) = &ctx.session {
        let id = state.sessions.advance(
            sid,
            Stage::SignedIn {
                council: c.clone(),
                person: ctx.user.person.clone(),
                generation: account.generation,
            },
            ctx.now,
        );
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
            "{}={id}; Path=/; HttpOnly; SameSite=Lax{secure}",
            crate::sessions::COOKIE
        )) {
            res.headers_mut().insert(axum::http::header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    scope: String,
}

fn tokens_page(
    ctx: &Ctx,
    state: &AppState,
    tokens: &[ApiToken],
    new: Option<&str>,
    errors: &Errors,
) -> Markup {
    let c = &ctx.council.id;
    let scopes = vec![
        ("read".to_string(), "Read only".to_string()),
        ("write".to_string(), "Read and record events".to_string()),
    ];
    titled(
        "My API tokens",
        ctx,
        state,
        html! {
            (error_summary(errors))
            @if let Some(token) = new {
                div class="govuk-panel govuk-panel--confirmation" {
                    h2 class="govuk-panel__title" { "Your new token" }
                    div class="govuk-panel__body" { code id="new-token" { (token) } }
                }
                p class="govuk-body" { "Copy it now: Warden keeps only a fingerprint of it and cannot show it again. Send it as " code { "Authorization: Bearer TOKEN" } "." }
            }
            p class="govuk-body" { "A token acts as you, within what you may do, on " a class="govuk-link" href="/api/v1/openapi.json" { "the API" } "." }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Tokens" }
                thead class="govuk-table__head" { tr class="govuk-table__row" {
                    th scope="col" class="govuk-table__header" { "Name" }
                    th scope="col" class="govuk-table__header" { "Scope" }
                    th scope="col" class="govuk-table__header" { "Created" }
                    th scope="col" class="govuk-table__header" { "State" }
                } }
                tbody class="govuk-table__body" {
                    @for t in tokens {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (t.name) }
                            td class="govuk-table__cell" { @match t.scope { Scope::Read => "read", Scope::Write => "write" } }
                            td class="govuk-table__cell" { (super::when(ctx, t.created)) }
                            td class="govuk-table__cell" {
                                @if t.revoked.is_some() { "Revoked" }
                                @else { (action_button(ctx, &format!("/c/{c}/me/tokens/{}/revoke", t.id), "Revoke", &[], true)) }
                            }
                        }
                    }
                }
            }
            h2 class="govuk-heading-m" { "Create a token" }
            form method="post" action=(format!("/c/{c}/me/tokens")) novalidate {
                (csrf(ctx))
                (text_input("name", "Name", "", Some("What it is for, for example: HR system leavers feed"), errors))
                (select("scope", "Scope", &scopes, "read", errors))
                (button("Create token"))
            }
        },
    )
}

pub async fn tokens(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    match state
        .account(&ctx.council.id, ctx.user.person.as_str())
        .await
    {
        Ok(Some(a)) => {
            tokens_page(&ctx, &state, &a.tokens, None, &Errors::default()).into_response()
        }
        _ => super::unavailable("Your account could not be read"),
    }
}

pub async fn new_token(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<TokenForm>,
) -> Response {
    let (c, p) = (ctx.council.id.clone(), ctx.user.person.to_string());
    let Ok(Some(mut account)) = state.account(&c, &p).await else {
        return super::unavailable("Your account could not be read");
    };
    let mut errors = Errors::default();
    let name = f.name.trim();
    if name.is_empty() || name.len() > 100 {
        errors.add(
            "name",
            "Enter a name for the token (at most 100 characters)",
        );
    }
    let scope = match f.scope.as_str() {
        "read" => Some(Scope::Read),
        "write" => Some(Scope::Write),
        _ => {
            errors.add("scope", "Choose read only, or read and record events");
            None
        }
    };
    let (Some(scope), true) = (scope, errors.is_empty()) else {
        return refused(tokens_page(&ctx, &state, &account.tokens, None, &errors));
    };
    let secret = random_hex::<32>();
    let text = crate::accounts::token_text(&c, &p, &secret);
    account.tokens.push(ApiToken {
        id: random_hex::<8>(),
        name: name.to_owned(),
        sha256: sha256_hex(&secret),
        scope,
        created: ctx.now,
        revoked: None,
    });
    if state.save_account(&c, &p, &account).await.is_err() {
        return super::unavailable("The token could not be saved");
    }
    tokens_page(
        &ctx,
        &state,
        &account.tokens,
        Some(&text),
        &Errors::default(),
    )
    .into_response()
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, token)): Path<(String, String)>,
) -> Response {
    let (c, p) = (ctx.council.id.clone(), ctx.user.person.to_string());
    let Ok(Some(mut account)) = state.account(&c, &p).await else {
        return super::unavailable("Your account could not be read");
    };
    let now = ctx.now;
    let Some(t) = account
        .tokens
        .iter_mut()
        .find(|t| t.id == token && t.revoked.is_none())
    else {
        return super::not_found_page("No such token");
    };
    t.revoked = Some(now);
    if state.save_account(&c, &p, &account).await.is_err() {
        return super::unavailable("The token could not be revoked");
    }
    done(format!("/c/{c}/me/tokens"))
}
