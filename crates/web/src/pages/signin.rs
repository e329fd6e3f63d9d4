//! Sign-in: person id or email and password, then a TOTP code (or a
//! recovery code), or enrolment in TOTP when the person must have it and
//! has not yet. Failures are throttled per account and per client address.

use crate::accounts::{Account, new_totp_secret, otpauth_url, qr_svg};
use crate::authz::{Action, User, WebRole};
use crate::council::Council;
use crate::forms::{
    Errors, button, error_summary, password_input, select, text_input, unavailable,
};
use crate::guards::{Routes, constant_time_eq, session_id, signed_in, user_of};
use crate::layout::page;
use crate::sessions::{
    ACCOUNT_ANYWHERE_LIMIT, ACCOUNT_LIMIT, ADDRESS_LIMIT, COOKIE, Session, Stage,
};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::PersonId;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes(r: Routes) -> Routes {
    r.public_get("/", home)
        .public_get("/sign-in", sign_in_form)
        .public_post("/sign-in", sign_in)
        .public_get("/sign-in/code", code_form)
        .public_post("/sign-in/code", code)
        .public_get("/sign-in/setup", setup_form)
        .public_post("/sign-in/setup", setup)
        .public_post("/sign-out", sign_out)
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(sid) = session_id(&headers)
        && let Some((user, council, _)) = signed_in(&state, &sid).await
    {
        return Redirect::to(&landing(&state, &user, &council)).into_response();
    }
    Redirect::to("/sign-in").into_response()
}

/// Where a user starts: the dashboard if they may see it, else My Warden.
fn landing(state: &AppState, user: &User, council: &Council) -> String {
    if state.authz.allows(user, Action::ViewRegisters, &council.id) {
        format!("/c/{}", council.id)
    } else {
        format!("/c/{}/me", council.id)
    }
}

fn cookie(state: &AppState, id: &str) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The request's session, or a new anonymous one (with its cookie to set).
fn session(state: &AppState, headers: &HeaderMap) -> (String, Session, Option<HeaderValue>) {
    let now = state.now();
    if let Some(id) = session_id(headers)
        && let Some(s) = state.sessions.get(&id, now)
    {
        return (id, s, None);
    }
    let (id, s) = state.sessions.start(now);
    let set = cookie(state, &id);
    (id, s, Some(set))
}

fn with_cookie(set: Option<HeaderValue>, res: impl IntoResponse) -> Response {
    let mut res = res.into_response();
    if let Some(v) = set {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A path on this site to return to after sign-in; anything else is
/// ignored. Only the characters of a URL path and query are allowed: a tab,
/// a newline or a backslash, which browsers drop or read as `/`, could
/// otherwise turn `/\t/evil.example` into `//evil.example`, another site (and
/// a newline cannot go in a `Location` header at all).
fn safe_next(next: &str) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c);
    let mut chars = next.chars();
    let local = chars.next() == Some('/') && chars.next() != Some('/');
    (local && next.len() <= 2048 && next.chars().all(allowed)).then_some(next)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Next {
    next: String,
}

/// A visit to a sign-in step's page: the request's session (begun if it
/// has none) and where to go once signed in.
struct Visit {
    session: (String, Session, Option<HeaderValue>),
    next: String,
}

impl axum::extract::FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // A `next` that does not read is no `next`: the step's page still shows.
        let next = Query::<Next>::try_from_uri(&parts.uri)
            .map(|q| q.0.next)
            .unwrap_or_default();
        Ok(Visit {
            session: session(state, &parts.headers),
            next,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    csrf: String,
    council: String,
    username: String,
    password: String,
    next: String,
}

fn sign_in_page(state: &AppState, csrf: &str, form: &SignInForm, errors: &Errors) -> Markup {
    let councils: Vec<(String, String)> = state
        .councils
        .values()
        .map(|c| (c.id.clone(), c.pack.council.clone()))
        .collect();
    let fields = html! {
        @if councils.len() > 1 {
            (select("council", "Council", &councils, &form.council, errors))
        } @else if let Some((id, name)) = councils.first() {
            input type="hidden" name="council" value=(id);
            p class="govuk-body" { (name) }
        }
        (text_input("username", "Person id or email address", &form.username, None, errors))
        (password_input("password", "Password", "current-password", errors))
        (button("Continue"))
    };
    let heading = ("Sign in", "Sign in to Warden");
    step_page(heading, ("/sign-in", csrf, &form.next), errors, fields)
}

/// A sign-in step's page: its title and heading, and a form posting to
/// its address with the session's CSRF token and where to go once signed
/// in, around the step's own fields.
fn step_page(
    (title, heading): (&str, &str),
    (action, csrf, next): (&str, &str, &str),
    errors: &Errors,
    fields: Markup,
) -> Markup {
    page(
        title,
        None,
        None,
        html! {
            (error_summary(errors))
            h1 class="govuk-heading-l" { (heading) }
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                (fields)
            }
        },
    )
}

async fn sign_in_form(State(state): State<AppState>, visit: Visit) -> Response {
    let (_, s, set) = visit.session;
    let next = Next { next: visit.next };
    let form = SignInForm {
        next: next.next,
        ..Default::default()
    };
    with_cookie(
        set,
        sign_in_page(&state, &s.csrf, &form, &Errors::default()),
    )
}

fn find_person(council: &Council, username: &str) -> Option<PersonId> {
    let username = username.trim();
    council.with_estate(|estate| {
        let by_id = PersonId::from(username);
        if estate.people.contains_key(&by_id) {
            return Some(by_id);
        }
        estate
            .people
            .iter()
            .find(|(_, p)| {
                p.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(username))
            })
            .map(|(id, _)| id.clone())
    })
}

/// Whether the person must use a second factor: every role but plain
/// self-service, and everyone when the pack requires MFA anywhere.
pub fn needs_mfa(council: &Council, user: &User) -> bool {
    user.roles.iter().any(|r| *r != WebRole::Member)
        || council
            .pack
            .rules
            .iter()
            .any(|r| matches!(&r.kind, rules::pack::RuleKind::Precondition(p) if p.require.mfa))
}

fn too_many(until: jiff::Timestamp) -> Response {
    let body = html! {
        h1 class="govuk-heading-l" { "Too many attempts" }
        p class="govuk-body" { "For your security, signing in is slowed after several wrong attempts. Try again after "
            (until.strftime("%H:%M:%S UTC")) "." }
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        page("Too many attempts", None, None, body),
    )
        .into_response()
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let now = state.now();
    let Some(sid) = session_id(&headers) else {
        return crate::layout::csrf_refused().into_response();
    };
    let Some(s) = state.sessions.get(&sid, now) else {
        return crate::layout::csrf_refused().into_response();
    };
    if !constant_time_eq(form.csrf.as_bytes(), s.csrf.as_bytes()) {
        return crate::layout::csrf_refused().into_response();
    }
    let account = format!("{}/{}", form.council, form.username.trim().to_lowercase());
    let client = crate::guards::client_address(&state, peer.ip(), &headers);
    let pair_key = format!("account:{account}@{client}");
    let account_key = format!("account:{account}");
    let peer_key = format!("peer:{client}");
    let keys = [
        (&pair_key, ACCOUNT_LIMIT),
        (&account_key, ACCOUNT_ANYWHERE_LIMIT),
        (&peer_key, ADDRESS_LIMIT),
    ];
    for (key, free) in keys {
        if let Some(until) = state.throttle.blocked_until(key, free, now) {
            return too_many(until);
        }
    }
    let found = match state.council(&form.council) {
        Some(council) => match find_person(&council, &form.username) {
            Some(person) => match state.account(&council.id, person.as_str()).await {
                Ok(Some(account))
                    if !account.is_disabled() && account.password_matches(&form.password) =>
                {
                    user_of(&council, &person).map(|user| (council, user, account))
                }
                _ => None,
            },
            None => None,
        },
        None => None,
    };
    let Some((council, user, account)) = found else {
        for (key, _) in keys {
            state.throttle.fail(key, now);
        }
        let errors = Errors::one(
            "username",
            "Enter a correct person id or email address and password",
        );
        let form = SignInForm {
            password: String::new(),
            ..form
        };
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_page(&state, &s.csrf, &form, &errors),
        )
            .into_response();
    };
    state.throttle.clear(&pair_key);
    let next = safe_next(&form.next).map(str::to_owned);
    let (stage, to) = match (account.has_totp(), needs_mfa(&council, &user)) {
        (true, _) => (
            Stage::Password {
                council: council.id.clone(),
                person: user.person.clone(),
            },
            "/sign-in/code".to_owned(),
        ),
        (false, true) => (
            Stage::Enrol {
                council: council.id.clone(),
                person: user.person.clone(),
                secret: new_totp_secret(),
            },
            "/sign-in/setup".to_owned(),
        ),
        (false, false) => (
            Stage::SignedIn {
                council: council.id.clone(),
                person: user.person.clone(),
                generation: account.generation,
            },
            next.clone()
                .unwrap_or_else(|| landing(&state, &user, &council)),
        ),
    };
    let to = match (&stage, next) {
        (Stage::SignedIn { .. }, _) | (_, None) => to,
        (_, Some(next)) => format!("{to}?next={}", crate::guards::url_component(&next)),
    };
    let id = state.sessions.advance(&sid, stage, now);
    with_cookie(Some(cookie(&state, &id)), Redirect::to(&to))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    csrf: String,
    code: String,
    next: String,
}

async fn code_form(visit: Visit) -> Response {
    let (_, s, _) = visit.session;
    let next = Next { next: visit.next };
    if !matches!(s.stage, Stage::Password { .. }) {
        return Redirect::to("/sign-in").into_response();
    }
    code_page(&s.csrf, &next.next, &Errors::default()).into_response()
}

fn code_page(csrf: &str, next: &str, errors: &Errors) -> Markup {
    let fields = html! {
        (text_input("code", "Six-digit code", "", Some("Or one of your recovery codes, such as 1a2b3-c4d5e"), errors))
        (button("Sign in"))
    };
    let heading = (
        "Enter your code",
        "Enter the code from your authenticator app",
    );
    step_page(heading, ("/sign-in/code", csrf, next), errors, fields)
}

/// A code posted to a pending sign-in step (the second factor, or setting
/// one up): the session it continues, checked against the form's CSRF
/// token, and the form. A request without one is answered before the
/// handler runs.
struct Pending {
    sid: String,
    session: Session,
    form: CodeForm,
}

impl axum::extract::FromRequest<AppState> for Pending {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let Form(form) = Form::<CodeForm>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let sid =
            session_id(&headers).ok_or_else(|| crate::layout::csrf_refused().into_response())?;
        let session = state
            .sessions
            .get(&sid, state.now())
            .ok_or_else(|| Redirect::to("/sign-in").into_response())?;
        if !constant_time_eq(form.csrf.as_bytes(), session.csrf.as_bytes()) {
            return Err(crate::layout::csrf_refused().into_response());
        }
        Ok(Pending { sid, session, form })
    }
}

async fn code(State(state): State<AppState>, step: Pending) -> Response {
    let (sid, s, form, now) = (step.sid, step.session, step.form, state.now());
    let Stage::Password { council, person } = s.stage.clone() else {
        return Redirect::to("/sign-in").into_response();
    };
    let key = format!("code:{council}/{person}");
    if let Some(until) = state.throttle.blocked_until(&key, ACCOUNT_LIMIT, now) {
        return too_many(until);
    }
    let Some(c) = state.council(&council) else {
        return Redirect::to("/sign-in").into_response();
    };
    let Ok(Some(mut account)) = state.account(&council, person.as_str()).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let ok = account.accept_totp(&form.code, now, person.as_str(), &state.totp_keys)
        || account.use_recovery_code(&form.code);
    if !ok {
        state.throttle.fail(&key, now);
        let errors = Errors::one(
            "code",
            "Enter the current six-digit code from your authenticator app, or an unused recovery code",
        );
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            code_page(&s.csrf, &form.next, &errors),
        )
            .into_response();
    }
    state.throttle.clear(&key);
    if let Err(e) = state
        .save_account(&council, person.as_str(), &account)
        .await
    {
        tracing::error!(error = %e, "could not save the account after sign-in");
        return unavailable("Warden could not sign you in just now");
    }
    finish(&state, &sid, &c, &person, &account, &form.next)
}

fn finish(
    state: &AppState,
    sid: &str,
    council: &Arc<Council>,
    person: &PersonId,
    account: &Account,
    next: &str,
) -> Response {
    let Some(user) = user_of(council, person) else {
        return Redirect::to("/sign-in").into_response();
    };
    let stage = Stage::SignedIn {
        council: council.id.clone(),
        person: person.clone(),
        generation: account.generation,
    };
    let id = state.sessions.advance(sid, stage, state.now());
    let to = safe_next(next)
        .map(str::to_owned)
        .unwrap_or_else(|| landing(state, &user, council));
    with_cookie(Some(cookie(state, &id)), Redirect::to(&to))
}

fn setup_page(csrf: &str, secret: &str, label: &str, next: &str, errors: &Errors) -> Markup {
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    page(
        "Set up your authenticator app",
        None,
        None,
        html! {
            (error_summary(errors))
            h1 class="govuk-heading-l" { "Set up your authenticator app" }
            p class="govuk-body" { "Your role needs a second factor. In an authenticator app (for example Microsoft Authenticator or Google Authenticator), add Warden:" }
            @if let Some(svg) = otpauth_url(secret, label).as_deref().and_then(qr_svg) {
                div class="warden-qr" role="img" aria-label="QR code of the key below, for the app's camera" {
                    (PreEscaped(svg))
                }
                p class="govuk-body" { "Scan this code with the app, or type in this key:" }
            }
            p class="govuk-body govuk-!-font-weight-bold" id="totp-secret" { (grouped.join(" ")) }
            details class="govuk-details" {
                summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "Set-up address for apps that take one" } }
                div class="govuk-details__text" { code { (otpauth_url(secret, label).unwrap_or_default()) } }
            }
            form method="post" action="/sign-in/setup" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                (text_input("code", "Six-digit code the app now shows", "", None, errors))
                (button("Continue"))
            }
        },
    )
}

async fn setup_form(visit: Visit) -> Response {
    let (_, s, _) = visit.session;
    let next = Next { next: visit.next };
    let Stage::Enrol { person, secret, .. } = &s.stage else {
        return Redirect::to("/sign-in").into_response();
    };
    setup_page(
        &s.csrf,
        secret,
        person.as_str(),
        &next.next,
        &Errors::default(),
    )
    .into_response()
}

async fn setup(State(state): State<AppState>, step: Pending) -> Response {
    let (sid, s, form, now) = (step.sid, step.session, step.form, state.now());
    let Stage::Enrol {
        council,
        person,
        secret,
    } = s.stage.clone()
    else {
        return Redirect::to("/sign-in").into_response();
    };
    let (Some(c), Ok(Some(mut account))) = (
        state.council(&council),
        state.account(&council, person.as_str()).await,
    ) else {
        return Redirect::to("/sign-in").into_response();
    };
    let codes = account.enrol_totp(&secret, &state.totp_keys);
    if !account.accept_totp(&form.code, now, person.as_str(), &state.totp_keys) {
        let errors = Errors::one(
            "code",
            "Enter the six-digit code your authenticator app shows for Warden",
        );
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            setup_page(&s.csrf, &secret, person.as_str(), &form.next, &errors),
        )
            .into_response();
    }
    if let Err(e) = state
        .save_account(&council, person.as_str(), &account)
        .await
    {
        tracing::error!(error = %e, "could not save the enrolment");
        return unavailable("Warden could not save your authenticator just now");
    }
    let Some(user) = user_of(&c, &person) else {
        return Redirect::to("/sign-in").into_response();
    };
    let stage = Stage::SignedIn {
        council: council.clone(),
        person: person.clone(),
        generation: account.generation,
    };
    let id = state.sessions.advance(&sid, stage, now);
    let to = safe_next(&form.next)
        .map(str::to_owned)
        .unwrap_or_else(|| landing(&state, &user, &c));
    let body = html! {
        h1 class="govuk-heading-l" { "Save your recovery codes" }
        p class="govuk-body" { "If you lose your phone, each of these codes signs you in once instead of the app. They are shown only now: keep them somewhere safe." }
        ul class="govuk-list govuk-list--bullet" id="recovery-codes" { @for code in &codes { li { code { (code) } } } }
        a class="govuk-button" href=(to) { "Continue" }
    };
    with_cookie(
        Some(cookie(&state, &id)),
        page("Recovery codes", None, None, body),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignOutForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    if let Some(sid) = session_id(&headers)
        && let Some(s) = state.sessions.get(&sid, state.now())
    {
        if !constant_time_eq(form.csrf.as_bytes(), s.csrf.as_bytes()) {
            return crate::layout::csrf_refused().into_response();
        }
        state.sessions.end(&sid);
    }
    Redirect::to("/sign-in").into_response()
}
