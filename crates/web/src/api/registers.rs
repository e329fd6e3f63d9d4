//! The registers and the log as the pages show them: devices, policies
//! with every version, incidents, claims, acceptances, and the log itself,
//! page by page, with each entry's id, recording time and hash.

use super::{FindingOut, json, local_rfc3339, not_found};
use crate::ctx::Ctx;
use crate::problem::{Problem, problem};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::estate::{Device, Incident};
use domain::{DeviceId, IncidentId, PolicyId};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct DeviceOut {
    pub id: String,
    /// laptop, tablet, smartphone, or the council's own word.
    pub kind: String,
    /// council or personal.
    pub owner: String,
    /// held, store, lost or disposed.
    pub state: String,
    pub holder: Option<String>,
    /// When it was bought (YYYY-MM-DD), if recorded.
    pub acquired: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// Whether a loss was reported as a theft.
    pub stolen: Option<bool>,
    /// Findings about it (only in one device's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
}

fn device_out(id: &DeviceId, d: &Device) -> DeviceOut {
    let details = d.details.as_deref();
    let detail = |f: fn(&domain::estate::DeviceDetails) -> &Option<String>| {
        details.and_then(|x| f(x).clone())
    };
    DeviceOut {
        id: id.to_string(),
        kind: d.kind.as_str().to_owned(),
        owner: serde_json::to_value(d.owner)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        state: d.state().to_owned(),
        holder: d.holder.as_ref().map(|h| h.to_string()),
        acquired: d.acquired.map(|a| a.to_string()),
        make: detail(|x| &x.make),
        model: detail(|x| &x.model),
        serial: detail(|x| &x.serial),
        stolen: d.lost.as_ref().map(|l| l.stolen),
        findings: None,
    }
}

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
    out.findings = Some(FindingOut::all(&ctx, about));
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

#[derive(Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: String,
    /// What happened, in a few words.
    pub kind: String,
    pub description: Option<String>,
    /// low, medium or high.
    pub severity: Option<String>,
    pub people_affected: Option<u32>,
    pub discovered: String,
    pub reported: String,
    pub personal_data: bool,
    /// Whether it must be notified to the regulator; null until assessed.
    pub notifiable: Option<bool>,
    pub regulator_notified: Option<String>,
    /// The regulator's reference, given when it was told.
    pub regulator_reference: Option<String>,
    pub closed: Option<String>,
    pub person: Option<String>,
    pub device: Option<String>,
    /// Findings about it (only in one incident's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
}

fn incident_out(ctx: &Ctx, id: &IncidentId, i: &Incident) -> IncidentOut {
    let time = |t| local_rfc3339(t, &ctx.council.pack.time_zone);
    IncidentOut {
        id: id.to_string(),
        kind: i.kind.clone(),
        description: i.description.clone(),
        severity: i.severity.map(|s| s.as_str().to_owned()),
        people_affected: i.people_affected,
        discovered: time(i.discovered),
        reported: time(i.reported),
        personal_data: i.personal_data,
        notifiable: i.notifiable,
        regulator_notified: i.regulator_notified.map(time),
        regulator_reference: i.regulator_reference.clone(),
        closed: i.closed.map(time),
        person: i.person.as_ref().map(|p| p.to_string()),
        device: i.device.as_ref().map(|d| d.to_string()),
        findings: None,
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
            .map(|(id, i)| incident_out(&ctx, id, i))
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
    let Some(mut out) = ctx
        .council
        .with_estate(|e| e.incidents.get(&id).map(|i| incident_out(&ctx, &id, i)))
    else {
        return not_found("incident", id.as_str());
    };
    let view = ctx.council.view(ctx.now);
    let about = view
        .findings
        .iter()
        .filter(|f| f.concerns.incident.as_deref() == Some(id.as_str()));
    out.findings = Some(FindingOut::all(&ctx, about));
    json(StatusCode::OK, &out)
}

#[derive(Serialize, ToSchema)]
pub struct ClaimOut {
    pub at: String,
    pub person: String,
    pub category: String,
    /// In pence: GBP 100 is 10000.
    pub amount_pence: i64,
    pub household: String,
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
    let tz = &ctx.council.pack.time_zone;
    let out: Vec<ClaimOut> = ctx.council.with_estate(|e| {
        e.claims
            .iter()
            .map(|c| ClaimOut {
                at: local_rfc3339(c.at, tz),
                person: c.person.to_string(),
                category: c.category.clone(),
                amount_pence: c.amount.0,
                household: c.household.to_string(),
            })
            .collect()
    });
    json(StatusCode::OK, &out)
}

#[derive(Serialize, ToSchema)]
pub struct AcceptanceOut {
    pub person: String,
    pub policy: String,
    pub version: String,
    pub at: String,
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
    let tz = &ctx.council.pack.time_zone;
    let mut out: Vec<AcceptanceOut> = ctx.council.with_estate(|e| {
        e.people
            .iter()
            .flat_map(|(person, p)| {
                p.acceptances.iter().flat_map(move |(policy, versions)| {
                    versions.iter().map(move |(version, at)| AcceptanceOut {
                        person: person.to_string(),
                        policy: policy.to_string(),
                        version: version.clone(),
                        at: local_rfc3339(*at, tz),
                    })
                })
            })
            .collect()
    });
    out.sort_by(|a, b| (&a.person, &a.policy, &a.at).cmp(&(&b.person, &b.policy, &b.at)));
    json(StatusCode::OK, &out)
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
