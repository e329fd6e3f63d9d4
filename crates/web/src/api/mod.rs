//! The JSON API under `/api/v1`: the same reads and commands as the pages,
//! for other systems (an HR system's leavers feed, a reporting tool). It
//! authenticates with API tokens, answers errors as RFC 9457 problem
//! details, and describes itself in an OpenAPI 3.1 document generated from
//! these handlers.

use crate::authz::Action;
use crate::council::CommandError;
use crate::ctx::Ctx;
use crate::guards::Routes;
use crate::problem::{FieldError, Problem, forbidden, problem};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{EventKind, PersonId};
use rules::{Finding, Status};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{OpenApi, ToSchema};

mod event_schema;
mod registers;

use crate::wire::kind_name;
pub use crate::wire::{FindingOut, local_rfc3339};

pub fn routes(r: Routes) -> Routes {
    crate::guards::table! { r.public_get("/api/v1/openapi.json", openapi);
        api_get  "/api/v1/councils/{council}/summary" ViewRegisters => summary;
        api_get  "/api/v1/councils/{council}/findings" ViewFindings => findings;
        api_get  "/api/v1/councils/{council}/people" ViewRegisters => people;
        api_get  "/api/v1/councils/{council}/people/{person}" ViewRegisters => person;
        api_get  "/api/v1/councils/{council}/me" SelfService => me;
        api_get  "/api/v1/councils/{council}/devices" ViewRegisters => registers::devices;
        api_get  "/api/v1/councils/{council}/devices/{device}" ViewRegisters => registers::device;
        api_get  "/api/v1/councils/{council}/policies" ViewRegisters => registers::policies;
        api_get  "/api/v1/councils/{council}/policies/{policy}" ViewRegisters => registers::policy;
        api_get  "/api/v1/councils/{council}/incidents" ViewRegisters => registers::incidents;
        api_get  "/api/v1/councils/{council}/incidents/{incident}" ViewRegisters => registers::incident;
        api_get  "/api/v1/councils/{council}/claims" ViewRegisters => registers::claims;
        api_get  "/api/v1/councils/{council}/acceptances" ViewRegisters => registers::acceptances;
        api_get  "/api/v1/councils/{council}/events" ViewRegisters => registers::events;
        api_post "/api/v1/councils/{council}/events" SelfService => record;
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Warden API", version = "1", description = "A council's ICT security policies as findings, and the events that change them. Authenticate with an API token from My Warden > My API tokens, sent as `Authorization: Bearer TOKEN`."),
    paths(summary, findings, people, person, me, record, registers::devices, registers::device,
        registers::policies, registers::policy, registers::incidents, registers::incident,
        registers::claims, registers::acceptances, registers::events),
    components(schemas(Problem, FieldError, Summary, FindingOut, PersonSummary, PersonOut, Recorded,
        crate::wire::DeviceOut, registers::PolicyOut, registers::VersionOut, crate::wire::IncidentOut,
        crate::wire::ClaimOut, crate::wire::AcceptanceOut, registers::EntryOut, registers::LogOut)),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, as JSON: what utoipa generates from the handlers,
/// with the body of `POST events` described type by type from the
/// vocabulary (`event_schema`).
pub fn document() -> String {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(doc) => doc,
        Err(e) => return format!("{{\"error\":\"{e}\"}}"),
    };
    event_schema::add_to(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct Summary {
    pub council: String,
    /// The instant the findings are as of (RFC 3339).
    pub as_of: String,
    /// Events recorded so far.
    pub events: u64,
    /// How many findings have each status.
    pub counts: HashMap<String, usize>,
}

/// Findings for the wire, their events named by the council's ledger.
fn all<'f>(ctx: &Ctx, findings: impl Iterator<Item = &'f Finding>) -> Vec<FindingOut> {
    FindingOut::of(&ctx.council, findings)
}

/// `at` and `known_at` (RFC 3339): the findings as of `at`, from what had
/// been recorded by `known_at`. Either absent: now.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AsKnown {
    at: Option<String>,
    known_at: Option<String>,
}

impl AsKnown {
    /// The view asked for, or the parameter that is not an instant.
    fn view(&self, ctx: &Ctx) -> Result<std::sync::Arc<crate::council::View>, BadParameter> {
        let parse = |name: &'static str, text: &Option<String>| match text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| BadParameter {
                name,
                text: t.to_owned(),
            }),
        };
        let at = parse("at", &self.at)?;
        let known_at = parse("known_at", &self.known_at)?;
        Ok(match (at, known_at) {
            (None, None) => ctx.council.view(ctx.now),
            (at, known_at) => std::sync::Arc::new(
                ctx.council
                    .view_as_known(at.unwrap_or(ctx.now).min(ctx.now), known_at),
            ),
        })
    }
}

/// A query parameter that should be an instant and is not.
struct BadParameter {
    name: &'static str,
    text: String,
}

impl IntoResponse for BadParameter {
    fn into_response(self) -> Response {
        let BadParameter { name, text } = self;
        problem(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            "Bad parameter",
            format!(
                "`{name}` is `{text}`, not an RFC 3339 timestamp with an offset, e.g. 2026-03-31T23:59:59+01:00"
            ),
            vec![FieldError {
                field: Some(name.to_owned()),
                message: "expected an RFC 3339 timestamp with an offset".to_owned(),
            }],
        )
    }
}

#[derive(Serialize, ToSchema)]
pub struct PersonSummary {
    pub id: String,
    pub name: String,
    /// councillor, employee or third_party.
    pub kind: String,
    pub present: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub present: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Their recorded manager's person id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    pub roles: Vec<String>,
    pub devices_held: Vec<String>,
    pub access: Vec<String>,
    pub findings: Vec<FindingOut>,
}

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    /// The event's sequence number in the council's log.
    pub seq: u64,
    /// How the log names it: its own `id`, or `#SEQ`.
    pub id: String,
    /// When Warden recorded it (RFC 3339): the server's clock.
    pub recorded: String,
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            e.to_string(),
            Vec::new(),
        ),
    }
}

/// 404 for a `what` (device, policy, incident) the council does not have.
fn not_found(what: &str, id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        &format!("No such {what}"),
        format!("No {what} `{id}` in this council"),
        Vec::new(),
    )
}

/// Counts of findings by status, as of now (or as of `at`, as known at `known_at`).
#[utoipa::path(get, path = "/api/v1/councils/{council}/summary",
    params(("council" = String, Path, description = "The council's id"),
        ("at" = Option<String>, Query, description = "As of this instant (RFC 3339): what had happened by then"),
        ("known_at" = Option<String>, Query, description = "Only what had been recorded by this instant (RFC 3339): what Warden said then")),
    responses(
        (status = 200, body = Summary),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn summary(Extension(ctx): Extension<Ctx>, Query(q): Query<AsKnown>) -> Response {
    let view = match q.view(&ctx) {
        Ok(view) => view,
        Err(bad) => return bad.into_response(),
    };
    let counts = Status::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name().to_owned(), view.counts[i]))
        .collect();
    json(
        StatusCode::OK,
        &Summary {
            council: ctx.council.id.clone(),
            as_of: view.at.to_string(),
            events: view.head,
            counts,
        },
    )
}

/// Findings as of now (or as of `at`, as known at `known_at`), optionally
/// only one status or one person's.
#[utoipa::path(get, path = "/api/v1/councils/{council}/findings",
    params(("council" = String, Path), ("status" = Option<String>, Query, description = "overdue, violated, open, late or met"), ("person" = Option<String>, Query),
        ("at" = Option<String>, Query, description = "As of this instant (RFC 3339): what had happened by then"),
        ("known_at" = Option<String>, Query, description = "Only what had been recorded by this instant (RFC 3339): what Warden said then")),
    responses(
        (status = 200, body = Vec<FindingOut>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn findings(
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let as_known = AsKnown {
        at: q.get("at").cloned(),
        known_at: q.get("known_at").cloned(),
    };
    let view = match as_known.view(&ctx) {
        Ok(view) => view,
        Err(bad) => return bad.into_response(),
    };
    let status = q.get("status").filter(|s| !s.is_empty());
    let person = q.get("person").filter(|s| !s.is_empty());
    let out = all(
        &ctx,
        view.findings
            .iter()
            .filter(|f| status.is_none_or(|s| f.status.name() == s))
            .filter(|f| person.is_none_or(|p| f.concerns.person.as_deref() == Some(p.as_str()))),
    );
    json(StatusCode::OK, &out)
}

/// Everyone the council has recorded.
#[utoipa::path(get, path = "/api/v1/councils/{council}/people",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<PersonSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn people(Extension(ctx): Extension<Ctx>) -> Response {
    let mut out: Vec<PersonSummary> = ctx.council.with_estate(|e| {
        e.people
            .iter()
            .map(|(id, p)| PersonSummary {
                id: id.to_string(),
                name: p.name.clone(),
                kind: kind_name(p.kind),
                present: p.is_present(),
            })
            .collect()
    });
    out.sort_by(|a, b| a.id.cmp(&b.id));
    json(StatusCode::OK, &out)
}

fn person_out(ctx: &Ctx, id: &str) -> Option<PersonOut> {
    let view = ctx.council.view(ctx.now);
    let p = ctx
        .council
        .with_estate(|e| e.people.get(&PersonId::from(id)).cloned())?;
    let row = crate::lists::PersonRow::of(id, &p);
    Some(PersonOut {
        id: row.id,
        name: row.name,
        kind: row.kind,
        present: row.present,
        department: row.department,
        job: row.job,
        manager: row.manager,
        roles: row.roles,
        devices_held: row.devices_held,
        access: row.access,
        findings: all(ctx, view.about(id)),
    })
}

/// One person: roles, devices, access, and every finding about them.
#[utoipa::path(get, path = "/api/v1/councils/{council}/people/{person}",
    params(("council" = String, Path), ("person" = String, Path)),
    responses(
        (status = 200, body = PersonOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn person(Extension(ctx): Extension<Ctx>, Path(path): Path<(String, String)>) -> Response {
    person_answer(&ctx, &path.1)
}

/// The token holder's own record and findings.
#[utoipa::path(get, path = "/api/v1/councils/{council}/me",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = PersonOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn me(Extension(ctx): Extension<Ctx>) -> Response {
    person_answer(&ctx, ctx.user.person.as_str())
}

/// One person as the API answers: their record and findings, or 404.
fn person_answer(ctx: &Ctx, id: &str) -> Response {
    match person_out(ctx, id) {
        Some(p) => json(StatusCode::OK, &p),
        None => not_found("person", id),
    }
}

/// What recording this event asks of its author. Self-service covers only
/// the author's own acceptances, claims and lost devices.
fn action_for(ctx: &Ctx, kind: &EventKind) -> Action {
    use EventKind::*;
    let me = &ctx.user.person;
    match kind {
        PersonJoined(_) | PersonMoved(_) | PersonLeft(_) | AgreementSigned(_)
        | TrainingCompleted(_) | MfaEnrolled(_) | PasswordChanged(_) => Action::ManagePeople,
        RoleGranted(_) | RoleRevoked(_) => Action::ManageAccounts,
        AccessGranted(_) | AccessRevoked(_) | AccessReviewed(_) | EmailForwardingDetected(_) => {
            Action::ManageAccess
        }
        PolicyApproved(_) | PolicyReviewed(_) | PolicyCommunicated(_) => Action::ManagePolicies,
        PolicyAccepted(e) if &e.person == me => Action::SelfService,
        PolicyAccepted(_) => Action::ManagePolicies,
        ExpenseClaimed(e) if &e.person == me => Action::SelfService,
        ExpenseClaimed(_) => Action::ManagePeople,
        DeviceLost(e)
            if ctx.council.with_estate(|s| {
                s.devices
                    .get(&e.device)
                    .is_some_and(|d| d.holder.as_ref() == Some(me))
            }) =>
        {
            Action::SelfService
        }
        DeviceRemovalApproved(_) => Action::ApproveRemoval,
        DeviceRegistered(_) | DeviceIssued(_) | DeviceReturned(_) | DeviceLost(_)
        | DeviceDisposed(_) => Action::ManageDevices,
        IncidentReported(_) => Action::ReportIncident,
        IncidentAssessed(_) => Action::AssessIncident,
        IncidentRegulatorNotified(_) | IncidentClosed(_) => Action::HandleIncident,
        EventVoided(_) => Action::CorrectRecords,
        // Warden's own record of what it told people; an integration that
        // sends reminders itself records them as the ICT team would.
        ReminderQueued(_) | ReminderSent(_) | ReminderFailed(_) => Action::ManageAccounts,
    }
}

/// Records one event of the vocabulary (docs/events.md), checked as the
/// pages check it: at its place in time, against the estate and the pack's
/// rules. `at` (when it happened) defaults to now, may be earlier than
/// events already recorded (a late record), and may not be in the future;
/// `recorded` is the server's clock and `by` the token's holder. An
/// `event_voided` corrects an entry.
#[utoipa::path(post, path = "/api/v1/councils/{council}/events",
    params(("council" = String, Path)),
    request_body(content = Object, description = "One event of the v1 vocabulary, for example {\"type\":\"person_left\",\"person\":\"p1\"}", content_type = "application/json"),
    responses(
        (status = 201, body = Recorded),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "Not an event: the detail names the field"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An event that does not fit the estate or breaks a rule; nothing was recorded")),
    security(("bearer" = [])))]
async fn record(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Response {
    let bad = |detail: String| {
        problem(
            StatusCode::BAD_REQUEST,
            "not-an-event",
            "Not an event",
            detail,
            Vec::new(),
        )
    };
    let now = ctx.now;
    let mut value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("the body is not JSON: {e}")),
    };
    let Some(object) = value.as_object_mut() else {
        return bad("the body must be a JSON object: one event".to_owned());
    };
    if object.contains_key("recorded") {
        return bad(
            "`recorded` is set by Warden, from its own clock: leave it out (`at` says when it happened)"
                .to_owned(),
        );
    }
    object
        .entry("at")
        .or_insert_with(|| serde_json::Value::String(now.to_string()));
    object.insert(
        "by".to_owned(),
        serde_json::Value::String(ctx.user.person.to_string()),
    );
    let event = match domain::parse_event(&value.to_string()) {
        Ok(e) => e,
        Err(e) => return bad(e.to_string()),
    };
    if event.at > now + domain::CLOCK_SKEW {
        return bad("`at` is in the future: record events once they have happened".to_owned());
    }
    let action = action_for(&ctx, &event.kind);
    if !crate::guards::may_record(&state, &ctx.user, action, &ctx.council, &event.kind) {
        return forbidden();
    }
    match state.record(&ctx.council, vec![event]).await {
        Ok(recorded) => {
            let seq = recorded.seqs.first().copied().unwrap_or_default();
            let (id, at) = ctx.council.with_ledger(|l| {
                l.get(seq).map_or_else(
                    || (format!("#{seq}"), String::new()),
                    |e| {
                        (
                            e.reference().to_string(),
                            e.event.recorded_or_at().to_string(),
                        )
                    },
                )
            });
            json(
                StatusCode::CREATED,
                &Recorded {
                    seq,
                    id,
                    recorded: at,
                },
            )
        }
        Err(CommandError::Refused(reasons)) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            "Not recorded",
            "The event does not fit the council's records or breaks one of its rules; nothing was recorded",
            reasons
                .into_iter()
                .map(|r| FieldError {
                    // A page's "when" is the API's `at`.
                    field: r
                        .field
                        .map(|f| if f == "when" { "at" } else { f }.to_owned()),
                    message: r.message,
                })
                .collect(),
        ),
        Err(CommandError::Store(e)) => {
            tracing::error!(error = %e, "store failed");
            crate::outage::retry_later(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Try again",
                "The event could not be stored; nothing was recorded",
                Vec::new(),
            ))
        }
    }
}
