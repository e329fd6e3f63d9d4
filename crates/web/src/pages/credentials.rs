//! My sign-in: changing my password and my API tokens. These are account
//! changes kept beside the log, not events in it (see `accounts.rs`).

use crate::accounts::{ApiToken, Scope, random_hex, sha256_hex};
use crate::ctx::Ctx;
use crate::forms::{
    Errors, action_button, button, csrf, done, error_summary, password_input, refused, select,
    text_input, unavailable,
};
use crate::layout::{not_found_page, success_banner, table_head, titled};
use crate::sessions::Stage;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

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
        return unavailable("Your account could not be read");
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
        return unavailable("Your password could not be saved");
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
    let mut scopes = vec![
        ("read".to_string(), "Read only".to_string()),
        ("write".to_string(), "Read and record events".to_string()),
        (
            "calendar".to_string(),
            "Calendar feed: my deadlines in Outlook or Google Calendar".to_string(),
        ),
    ];
    if may_provision(state, ctx) {
        scopes.push((
            "provisioning".to_string(),
            "Provisioning: SCIM for Entra ID or Okta".to_string(),
        ));
    }
    titled(
        "My API tokens and calendar feed",
        ctx,
        state,
        html! {
            (error_summary(errors))
            @if let Some(token) = new {
                div class="govuk-panel govuk-panel--confirmation" {
                    h2 class="govuk-panel__title" { "Your new token" }
                    div class="govuk-panel__body" { code id="new-token" { (token) } }
                }
                @if token.contains("/feeds/") {
                    p class="govuk-body" { "Copy this address now and subscribe to it in Outlook (Add calendar, From internet) or Google Calendar (Other calendars, From URL): Warden keeps only a fingerprint of it and cannot show it again. It lists your own deadlines; ending it in " code { "council.ics" } " instead of " code { "mine.ics" } " lists every open deadline of the council, if you may see them all. Revoke it here to stop it working." }
                } @else {
                    p class="govuk-body" { "Copy it now: Warden keeps only a fingerprint of it and cannot show it again. Send it as " code { "Authorization: Bearer TOKEN" } "." }
                }
            }
            p class="govuk-body" { "A token acts as you, within what you may do, on " a class="govuk-link" href="/api/v1/openapi.json" { "the API" } "." }
            @if may_provision(state, ctx) {
                p class="govuk-body" { "A provisioning token is for your identity provider: give it with the tenant URL " code { "/scim/v2" } " on this site, and people and groups come in as they change there. It works only while you may manage accounts." }
            }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Tokens" }
                (table_head(&["Name", "Scope", "Created", "State"], &[]))
                tbody class="govuk-table__body" {
                    @for t in tokens {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (t.name) }
                            td class="govuk-table__cell" { @match t.scope { Scope::Read => "read", Scope::Write => "write", Scope::Provisioning => "provisioning (SCIM)", Scope::Calendar => "calendar feed" } }
                            td class="govuk-table__cell" { (crate::layout::when(ctx, t.created)) }
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
        _ => unavailable("Your account could not be read"),
    }
}

pub async fn new_token(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: axum::http::HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    let (c, p) = (ctx.council.id.clone(), ctx.user.person.to_string());
    let Ok(Some(mut account)) = state.account(&c, &p).await else {
        return unavailable("Your account could not be read");
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
        "provisioning" if may_provision(&state, &ctx) => Some(Scope::Provisioning),
        "calendar" => Some(Scope::Calendar),
        _ => {
            errors.add("scope", "Choose read only, or read and record events");
            None
        }
    };
    let (Some(scope), true) = (scope, errors.is_empty()) else {
        return refused(tokens_page(&ctx, &state, &account.tokens, None, &errors));
    };
    let secret = random_hex::<32>();
    let text = match scope {
        // A calendar program cannot send a header: the feed's address holds it.
        Scope::Calendar => format!(
            "{}/feeds/{c}/{p}/{secret}/mine.ics",
            state.link_for(&headers)
        ),
        _ => crate::accounts::token_text(&c, &p, &secret),
    };
    account.tokens.push(ApiToken {
        id: random_hex::<8>(),
        name: name.to_owned(),
        sha256: sha256_hex(&secret),
        scope,
        created: ctx.now,
        revoked: None,
    });
    if state.save_account(&c, &p, &account).await.is_err() {
        return unavailable("The token could not be saved");
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
        return unavailable("Your account could not be read");
    };
    let now = ctx.now;
    let Some(t) = account
        .tokens
        .iter_mut()
        .find(|t| t.id == token && t.revoked.is_none())
    else {
        return not_found_page("No such token");
    };
    t.revoked = Some(now);
    if state.save_account(&c, &p, &account).await.is_err() {
        return unavailable("The token could not be revoked");
    }
    done(format!("/c/{c}/me/tokens"))
}

/// Whether the signed-in person may make a provisioning (SCIM) token: an
/// identity provider's changes are accounts and roles.
fn may_provision(state: &AppState, ctx: &Ctx) -> bool {
    state.authz.allows(
        &ctx.user,
        crate::authz::Action::ManageAccounts,
        &ctx.council.id,
    )
}
