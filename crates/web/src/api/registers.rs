//! The registers and the log as the pages show them: devices, policies
//! with every version, incidents, claims, acceptances, and the log itself,
//! page by page, with each entry's id, recording time and hash.

use super::{json, local_rfc3339, not_found};
use crate::ctx::Ctx;
use crate::problem::{Problem, problem};
use crate::state::AppState;
use crate::wire::{AcceptanceOut, ClaimOut, DeviceOut, IncidentOut, device_out, incident_out};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{DeviceId, IncidentId, PolicyId};
use serde::Serialize;
use utoipa::ToSchema;

/// The asset register.
#[utoipa::path(get, path = "/api/v1/councils/{council}/devices",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<DeviceOut>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn devices(Extension(ctx): Extension<Ctx>) -> Response {
    let out: Vec<DeviceOut> = ctx
        .council
        .with_estate(|e| e.devices.iter().map(|(id, d)| device_out(id, d)).collect());
    json(StatusCode::OK, &out)
}

/// One device, with every finding about it.
#[utoipa::path(get, path = "/api/v1/councils/{council}/devices/{device}",
    params(("council" = String, Path), ("device" = String, Path)),
    responses(
        (status = 200, body = DeviceOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn device(
    Extension(ctx): Extension<Ctx>,
    Path(path): Path<(String, String)>,
) -> Response {
    let id = DeviceId::from(path.1.as_str());
    let Some(mut out) = ctx
        .council
        .with_estate(|e| e.devices.get(&id).map(|d| device_out(&id, d)))
    else {
        return not_found("device", id.as_str());
    };
    let view = ctx.council.view(ctx.now);
    let about = view
        .findings
        .iter()
        .filter(|f| f.concerns.device.as_deref() == Some(id.as_str()));
    out.findings = Some(super::all(&ctx, about));
    json(StatusCode::OK, &out)
}

#[derive(Serialize, ToSchema)]
pub struct VersionOut {
    pub version: String,
    /// The body that approved it.
    pub body: String,
    pub approved: String,
    /// SHA-256 (hex) of its text, when it was published with one.
    pub text_sha256: Option<String>,
    /// How many people have accepted it.
    pub accepted_by: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyOut {
    pub id: String,
    pub title: String,
    pub current_version: String,
    /// The body that approved the current version (or the pack's approving body).
    pub approved_by: Option<String>,
    pub approved: Option<String>,
    pub reviewed: Option<String>,
    /// Present people who must accept it and have accepted the current version.
    pub accepted: usize,
    /// Present people who must accept it and have not.
    pub not_accepted: usize,
    /// Every version approved in the log, oldest first.
    pub versions: Vec<VersionOut>,
}

fn policy_out(ctx: &Ctx, policy: &rules::pack::Policy) -> PolicyOut {
    let tz = &ctx.council.pack.time_zone;
    ctx.council.with_estate(|e| {
        let current = ctx.council.pack.current_version(e, &policy.id).to_owned();
        let (yes, no) = policy.acceptance(e, &current);
        let st = e.policies.get(&policy.id).cloned().unwrap_or_default();
        let accepted_by = |version: &str| {
            e.people
                .values()
                .filter(|p| p.has_accepted(&policy.id, version))
                .count()
        };
        PolicyOut {
            id: policy.id.to_string(),
            title: policy.title.clone(),
            approved_by: st.body.clone().or_else(|| policy.approving_body.clone()),
            approved: st.approved.map(|t| local_rfc3339(t, tz)),
            reviewed: st.reviewed.map(|t| local_rfc3339(t, tz)),
            accepted: yes.len(),
            not_accepted: no.len(),
            versions: st
                .versions
                .iter()
                .map(|v| VersionOut {
                    version: v.version.clone(),
                    body: v.body.clone(),
                    approved: local_rfc3339(v.approved, tz),
                    text_sha256: v.text_sha256.clone(),
                    accepted_by: accepted_by(&v.version),
                })
                .collect(),
            current_version: current,
        }
    })
}

/// The council's policies, each with its current version and every version
/// approved.
#[utoipa::path(get, path = "/api/v1/councils/{council}/policies",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<PolicyOut>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn policies(Extension(ctx): Extension<Ctx>) -> Response {
    let out: Vec<PolicyOut> = ctx
        .council
        .pack
        .policies
        .iter()
        .map(|p| policy_out(&ctx, p))
        .collect();
    json(StatusCode::OK, &out)
}

/// One policy with its versions.
#[utoipa::path(get, path = "/api/v1/councils/{council}/policies/{policy}",
    params(("council" = String, Path), ("policy" = String, Path)),
    responses(
        (status = 200, body = PolicyOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn policy(
    Extension(ctx): Extension<Ctx>,
    Path(path): Path<(String, String)>,
) -> Response {
    match ctx.council.pack.policy(&PolicyId::from(path.1.as_str())) {
        Some(p) => json(StatusCode::OK, &policy_out(&ctx, p)),
        None => not_found("policy", &path.1),
    }
}

/// Every incident reported.
#[utoipa::path(get, path = "/api/v1/councils/{council}/incidents",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<IncidentOut>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn incidents(Extension(ctx): Extension<Ctx>) -> Response {
    let out: Vec<IncidentOut> = ctx.council.with_estate(|e| {
        e.incidents
            .iter()
            .map(|(id, i)| incident_out(&ctx.council.pack.time_zone, id, i))
            .collect()
    });
    json(StatusCode::OK, &out)
}

/// One incident, with its 72-hour clock and every finding about it.
#[utoipa::path(get, path = "/api/v1/councils/{council}/incidents/{incident}",
    params(("council" = String, Path), ("incident" = String, Path)),
    responses(
        (status = 200, body = IncidentOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn incident(
    Extension(ctx): Extension<Ctx>,
    Path(path): Path<(String, String)>,
) -> Response {
    let id = IncidentId::from(path.1.as_str());
    let Some(mut out) = ctx.council.with_estate(|e| {
        e.incidents
            .get(&id)
            .map(|i| incident_out(&ctx.council.pack.time_zone, &id, i))
    }) else {
        return not_found("incident", id.as_str());
    };
    let view = ctx.council.view(ctx.now);
    let about = view
        .findings
        .iter()
        .filter(|f| f.concerns.incident.as_deref() == Some(id.as_str()));
    out.findings = Some(super::all(&ctx, about));
    json(StatusCode::OK, &out)
}

/// Every expense claim, oldest first.
#[utoipa::path(get, path = "/api/v1/councils/{council}/claims",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<ClaimOut>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn claims(Extension(ctx): Extension<Ctx>) -> Response {
    json(StatusCode::OK, &crate::lists::claims(&ctx.council))
}

/// Every acceptance of every policy version, by person.
#[utoipa::path(get, path = "/api/v1/councils/{council}/acceptances",
    params(("council" = String, Path)),
    responses(
        (status = 200, body = Vec<AcceptanceOut>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn acceptances(Extension(ctx): Extension<Ctx>) -> Response {
    json(StatusCode::OK, &crate::lists::acceptances(&ctx.council))
}

#[derive(Serialize, ToSchema)]
pub struct EntryOut {
    pub seq: u64,
    /// The SHA-256 chain hash stored with it (hex): see docs/storage.md.
    pub hash: String,
    /// The event as stored, canonical JSON: `at`, `recorded`, `id`, `by`,
    /// `type` and its fields.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct LogOut {
    pub entries: Vec<EntryOut>,
    /// The `after` that reads the next page; null at the end of the log.
    pub next: Option<u64>,
}

/// The log itself, in recording order, a page at a time: each entry with
/// its sequence number, its chain hash and the event as stored.
#[utoipa::path(get, path = "/api/v1/councils/{council}/events",
    params(("council" = String, Path),
        ("after" = Option<u64>, Query, description = "Entries after this sequence number (default 0: from the start)"),
        ("limit" = Option<u64>, Query, description = "At most this many entries, 1 to 1000 (default 100)")),
    responses(
        (status = 200, body = LogOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    // A map, not a struct: a repeated or malformed parameter is answered
    // as a problem below, not by the extractor's plain-text rejection.
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    // A whole number from `min` to `max`, or what to say about it.
    let number =
        |name: &str, text: &Option<String>, default: u64, (min, max): (u64, u64)| match text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => Ok(default),
            Some(t) => t
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    format!("`{name}` is `{t}`: expected a whole number from {min} to {max}")
                }),
        };
    let (after, limit) = match (
        number("after", &q.get("after").cloned(), 0, (0, u64::MAX >> 1)),
        number("limit", &q.get("limit").cloned(), 100, (1, 1_000)),
    ) {
        (Ok(after), Ok(limit)) => (after, limit),
        (Err(why), _) | (_, Err(why)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "Bad parameter",
                why,
                Vec::new(),
            );
        }
    };
    let council = ctx.council.id.clone();
    let wanted = usize::try_from(limit).unwrap_or(1_000);
    let rows = state
        .blocking(move |log| {
            let mut rows = Vec::with_capacity(wanted);
            log.read_after(&council, after, store::Columns::WithHashes, &mut |chunk| {
                rows.extend(chunk.into_rows().into_iter().take(wanted - rows.len()));
                rows.len() < wanted
            })?;
            Ok(rows)
        })
        .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "log unreadable");
            return crate::forms::unavailable("The log could not be read");
        }
    };
    let head = ctx.council.head();
    let next = rows
        .last()
        .map(|r| r.seq)
        .filter(|last| *last < head && rows.len() == wanted);
    let entries = rows
        .into_iter()
        .map(|r| EntryOut {
            seq: r.seq,
            event: serde_json::from_str(&r.event).unwrap_or(serde_json::Value::Null),
            hash: r.hash,
        })
        .collect();
    json(StatusCode::OK, &LogOut { entries, next })
}
