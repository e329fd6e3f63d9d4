//! The guards below every route. Every route is added through [`Routes`],
//! which records its method, path and what guards it, so the authorisation
//! matrix test can enumerate the router: a route added without a rule
//! cannot exist. A page guard finds the session, checks the Cedar policy
//! and the CSRF token, and hands the handler a [`Ctx`].

use crate::accounts::{Scope, parse_token};
use crate::authz::{Action, Resource, User, WebRole};
use crate::council::Council;
use crate::ctx::Ctx;
use crate::layout;
use crate::outage;
use crate::problem::{forbidden, problem, unauthorised};
use crate::sessions::{COOKIE, Stage};
use crate::state::AppState;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use domain::PersonId;
use std::sync::Arc;

/// Who may reach a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: sign-in, health, assets, the OpenAPI document.
    Public,
    /// A signed-in browser session of the council in the path, allowed the
    /// action; POSTs must carry the session's CSRF token.
    Page(Action),
    /// An API token of the council in the path, allowed the action.
    Api(Action),
    /// A metrics scraper holding the service's metrics token (`/metrics`
    /// names every council, so it is not public).
    Scraper,
    /// An identity provider holding a provisioning token, whose holder may
    /// still manage accounts: the SCIM server of the token's council.
    Provisioning,
}

#[derive(Clone, Debug)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
}

pub struct Routes {
    state: AppState,
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    pub(crate) fn new(state: AppState) -> Routes {
        Routes {
            state,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        guard: Guard,
        route: MethodRouter<AppState>,
    ) -> Self {
        let state = self.state.clone();
        let route = match guard {
            Guard::Public => route,
            Guard::Page(action) => route.route_layer(middleware::from_fn_with_state(
                state,
                move |s: State<AppState>, req: Request, next: Next| {
                    guard_page(s, action, req, next)
                },
            )),
            Guard::Api(action) => route.route_layer(middleware::from_fn_with_state(
                state,
                move |s: State<AppState>, req: Request, next: Next| guard_api(s, action, req, next),
            )),
            Guard::Scraper => {
                route.route_layer(middleware::from_fn_with_state(state, guard_scraper))
            }
            Guard::Provisioning => {
                route.route_layer(middleware::from_fn_with_state(state, guard_scim))
            }
        };
        self.router = self.router.route(path, route);
        self.table.push(RouteInfo {
            method,
            path,
            guard,
        });
        self
    }

    pub fn public_get<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, Guard::Public, get(h))
    }

    pub fn public_post<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, Guard::Public, post(h))
    }

    /// A GET for a metrics scraper holding the metrics token.
    pub fn scraper_get<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, Guard::Scraper, get(h))
    }

    pub fn get<H, T>(self, path: &'static str, action: Action, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, Guard::Page(action), get(h))
    }

    pub fn post<H, T>(self, path: &'static str, action: Action, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, Guard::Page(action), post(h))
    }

    /// A POST of a file upload (multipart), up to `UPLOAD_LIMIT`.
    pub fn upload<H, T>(self, path: &'static str, action: Action, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let route = post(h).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT));
        self.add(Method::POST, path, Guard::Page(action), route)
    }

    pub fn api_get<H, T>(self, path: &'static str, action: Action, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, Guard::Api(action), get(h))
    }

    /// A SCIM route (`/scim/v2/...`), for a provisioning token.
    pub fn scim(self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Self {
        self.add(method, path, Guard::Provisioning, route)
    }

    /// The router and the route table, once every route is added.
    pub(crate) fn finish(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }

    pub fn api_post<H, T>(self, path: &'static str, action: Action, h: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, Guard::Api(action), post(h))
    }
}

/// A table of guarded routes, one a line: method (`get`, `post`, `api_get`,
/// `api_post`), path, the `Action` that guards it, handler. Each line is a
/// call on the `Routes` the table starts from.
macro_rules! table {
    ($r:expr; $($method:ident $path:literal $action:ident => $handler:path;)*) => {{
        let r = $r;
        $(let r = r.$method($path, $crate::authz::Action::$action, $handler);)*
        r
    }};
}
pub(crate) use table;

/// The session id from the request's cookie.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The council named by a `/c/{council}/...` or `/api/v1/councils/{council}/...` path.
pub fn council_in_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/c/")
        .or_else(|| path.strip_prefix("/api/v1/councils/"))?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

/// The person named by a `.../people/{person}...` path.
pub fn person_in_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/c/")
        .or_else(|| path.strip_prefix("/api/v1/councils/"))?;
    let mut parts = rest.split('/');
    parts.next()?;
    if parts.next()? != "people" {
        return None;
    }
    parts.next().filter(|s| !s.is_empty())
}

/// Whether `user` may take `action` on what `path` is about: one person
/// (whose recorded manager decides a manager's reach), else the council.
pub fn allowed(
    state: &AppState,
    user: &User,
    action: Action,
    council: &Council,
    path: &str,
) -> bool {
    match person_in_path(path) {
        Some(person) => allowed_on_person(state, user, action, council, &PersonId::from(person)),
        None => state.authz.allows(user, action, &council.id),
    }
}

/// Whether `user` may take `action` on `person` of `council`.
pub fn allowed_on_person(
    state: &AppState,
    user: &User,
    action: Action,
    council: &Council,
    person: &PersonId,
) -> bool {
    let manager = council.with_estate(|e| {
        e.people
            .get(person)
            .and_then(|p| p.manager.as_ref().map(|m| m.to_string()))
    });
    let resource = Resource::Person {
        council: &council.id,
        person: person.as_str(),
        manager: manager.as_deref(),
    };
    state.authz.allows_on(user, action, &resource)
}

/// Whether `user` may record `event` about people: a starter within their
/// reach (a manager's own team: the starter names them as manager), or a
/// change to someone they may manage. Other events are the council's.
pub fn may_record(
    state: &AppState,
    user: &User,
    action: Action,
    council: &Council,
    event: &domain::EventKind,
) -> bool {
    match (event, event.person()) {
        (domain::EventKind::PersonJoined(starter), _) => {
            let resource = Resource::Person {
                council: &council.id,
                person: starter.person.as_str(),
                manager: starter.manager.as_ref().map(PersonId::as_str),
            };
            state.authz.allows_on(user, action, &resource)
        }
        (_, Some(person)) if action == Action::ManagePeople => {
            allowed_on_person(state, user, action, council, person)
        }
        _ => state.authz.allows(user, action, &council.id),
    }
}

/// The signed-in user behind a session, if it is still good: signed in, the
/// account unchanged since (no password change), and the person not left.
pub async fn signed_in(state: &AppState, session_id: &str) -> Option<(User, Arc<Council>, String)> {
    let now = state.now();
    let session = state.sessions.get(session_id, now)?;
    let Stage::SignedIn {
        council,
        person,
        generation,
    } = session.stage
    else {
        return None;
    };
    let c = state.council(&council)?;
    let account = match state.account(&council, person.as_str()).await {
        Ok(account) => account?,
        Err(e) => {
            // The store is away: the session may be good, but this request
            // cannot be answered (a 503 with Retry-After, not a sign-in page).
            tracing::warn!(error = %e, "could not read an account");
            outage::store_failed();
            return None;
        }
    };
    let user = user_of(&c, &person)?;
    if account.generation != generation || account.is_disabled() {
        state.sessions.end(session_id);
        return None;
    }
    Some((user, c, session.csrf))
}

/// A person as a user, if they are present in the estate.
pub fn user_of(council: &Council, person: &domain::PersonId) -> Option<User> {
    council.with_estate(|estate| {
        let p = estate.people.get(person).filter(|p| p.is_present())?;
        Some(User {
            council: council.id.clone(),
            person: person.clone(),
            name: p.name.clone(),
            roles: WebRole::of(p),
        })
    })
}

async fn guard_page(
    State(state): State<AppState>,
    action: Action,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let Some(sid) = session_id(req.headers()) else {
        return to_sign_in(&path);
    };
    let Some((user, council, csrf)) = signed_in(&state, &sid).await else {
        return to_sign_in(&path);
    };
    let target = council_in_path(&path).unwrap_or_default().to_owned();
    let Some(target_council) = state.council(&target) else {
        return layout::forbidden(&user).into_response();
    };
    if target_council.id != council.id || !allowed(&state, &user, action, &council, &path) {
        tracing::info!(person = %user.person, action = action.name(), %path, "denied");
        return layout::forbidden(&user).into_response();
    }
    let req = if req.method() == Method::POST {
        match check_csrf(req, &csrf).await {
            Ok(req) => req,
            Err(res) => return res,
        }
    } else {
        req
    };
    let mut req = req;
    let now = state.now();
    req.extensions_mut().insert(Ctx {
        user,
        council,
        csrf,
        session: Some(sid),
        now,
    });
    next.run(req).await
}

fn to_sign_in(path: &str) -> Response {
    let next = url_component(path);
    Redirect::to(&format!("/sign-in?next={next}")).into_response()
}

/// Percent-encodes a path for a `next=` query parameter.
pub fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads the form body, checks its `csrf` field against the session's
/// token, and hands the request on with the same body.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("multipart/form-data"))
        .map(str::to_owned);
    // An upload (the imports page) may be larger than a typed form.
    let limit = if multipart.is_some() {
        UPLOAD_LIMIT
    } else {
        256 * 1024
    };
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "The form was too large").into_response())?;
    let given: Option<String> = match &multipart {
        Some(content_type) => multipart_field(content_type, bytes.clone(), "csrf").await,
        None => serde_urlencoded_field(&bytes, "csrf"),
    };
    if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), expected.as_bytes())) {
        return Err(layout::csrf_refused().into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The most an uploaded form may hold: a council's export of people or
/// devices is far smaller (a million rows go through `warden import-csv`).
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// A text field of a multipart form.
async fn multipart_field(content_type: &str, body: Bytes, name: &str) -> Option<String> {
    use axum::extract::FromRequest;
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .ok()?;
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

fn serde_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The API's guard: a live token whose holder is still present, a write
/// scope for anything but GET, and Cedar's permission for the route's action
/// on the council in the path.
async fn guard_api(
    State(state): State<AppState>,
    action: Action,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(bearer) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return unauthorised("Send an API token as `Authorization: Bearer TOKEN`");
    };
    let Some((council, person, secret)) = parse_token(bearer.trim()) else {
        return unauthorised("The token is not a Warden API token");
    };
    let Some(c) = state.council(&council) else {
        return unauthorised("The token is not valid");
    };
    let account = match state.account(&council, &person).await {
        Ok(Some(a)) => a,
        Ok(None) => return unauthorised("The token is not valid"),
        Err(e) => {
            tracing::error!(error = %e, "account read failed");
            return outage::retry_later(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Try again",
                "The store could not be read",
                Vec::new(),
            ));
        }
    };
    let Some(token) = account
        .token(&secret)
        .filter(|t| !matches!(t.scope, Scope::Provisioning | Scope::Calendar))
    else {
        return unauthorised("The token is not valid, or has been revoked");
    };
    let Some(user) = user_of(&c, &PersonId::from(person.as_str())) else {
        return unauthorised("The token's holder has left the council");
    };
    if req.method() != Method::GET && token.scope != Scope::Write {
        return problem(
            StatusCode::FORBIDDEN,
            "read-only-token",
            "Read-only token",
            "This token may only read; create a write token to record events",
            Vec::new(),
        );
    }
    let path = req.uri().path().to_owned();
    let target = council_in_path(&path).unwrap_or_default().to_owned();
    if target != c.id || !allowed(&state, &user, action, &c, &path) {
        return forbidden();
    }
    let now = state.now();
    req.extensions_mut().insert(Ctx {
        user,
        council: c,
        csrf: String::new(),
        session: None,
        now,
    });
    next.run(req).await
}

/// The SCIM guard: a live provisioning token whose holder is present and
/// may still manage accounts; the council is the token's. Refusals are
/// SCIM errors, which is what a provider's log shows.
async fn guard_scim(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    use crate::scim::ScimError;
    let refuse = |detail: &str| {
        let mut res = ScimError {
            status: StatusCode::UNAUTHORIZED,
            scim_type: None,
            detail: detail.to_owned(),
        }
        .into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        res
    };
    let Some((council, person, secret)) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| parse_token(t.trim()))
    else {
        return refuse("send a provisioning token as `Authorization: Bearer TOKEN`");
    };
    let Some(c) = state.council(&council) else {
        return refuse("the token is not valid");
    };
    let account = match state.account(&council, &person).await {
        Ok(Some(a)) => a,
        Ok(None) => return refuse("the token is not valid"),
        Err(e) => {
            tracing::error!(error = %e, "account read failed");
            return ScimError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                scim_type: None,
                detail: "the store could not be read: try again".into(),
            }
            .into_response();
        }
    };
    if account.token(&secret).map(|t| t.scope) != Some(Scope::Provisioning) {
        return refuse("the token is not a live provisioning token");
    }
    let Some(user) = user_of(&c, &PersonId::from(person.as_str())) else {
        return refuse("the token's holder has left the council");
    };
    if !state.authz.allows(&user, Action::ManageAccounts, &c.id) {
        return refuse("the token's holder may no longer manage accounts");
    }
    let now = state.now();
    req.extensions_mut()
        .insert(crate::scim::Scim { council: c, now });
    next.run(req).await
}

/// The scraper's guard: `Authorization: Bearer TOKEN` with the service's
/// metrics token; with none configured, the route is not served.
async fn guard_scraper(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = &state.metrics_token else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are not served: set metrics_token (docs/operations.md)\n",
        )
            .into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send the metrics token as `Authorization: Bearer TOKEN`\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// The client's address: the socket's peer, or, when the peer is a trusted
/// reverse proxy, the last address in `X-Forwarded-For` that is not one
/// (a client can write anything before it; only the proxies' own entries
/// are believed).
pub fn client_address(
    state: &AppState,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> std::net::IpAddr {
    if !state.trusted_proxies.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .rev()
        .find(|a| !state.trusted_proxies.contains(a))
        .unwrap_or(peer)
}
