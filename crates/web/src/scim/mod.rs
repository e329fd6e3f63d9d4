//! A SCIM 2.0 server (RFC 7643, RFC 7644) at `/scim/v2`, so that Entra ID
//! or Okta provisioning pushes people as they change. The provisioning
//! token says which council. A User is a person: creating or enabling one
//! records `person_joined`, disabling or deleting it `person_left`, a new
//! title, department or manager `person_moved`. A Group whose name the
//! council maps to a role gives that role to its members (`role_granted`,
//! `role_revoked`). Every change goes through the one way in, as any
//! command does. What the provider sent is kept beside the log
//! (`store::Provisioned`) so that it reads back as sent.

mod discovery;
mod filter;
mod groups;
mod patch;
mod users;

use crate::council::{CommandError, Council};
use crate::guards::Routes;
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch as patch_route, post, put};
use filter::Filter;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The most resources one page of a list holds.
pub const MAX_RESULTS: usize = 200;

/// The council a provisioning token is for, and the time by the service's
/// clock: what the SCIM guard hands a handler.
#[derive(Clone)]
pub struct Scim {
    pub council: Arc<Council>,
    pub now: Timestamp,
}

pub fn routes(r: Routes) -> Routes {
    use Method as M;
    r.scim(
        M::GET,
        "/scim/v2/ServiceProviderConfig",
        get(discovery::config),
    )
    .scim(M::GET, "/scim/v2/ResourceTypes", get(discovery::types))
    .scim(
        M::GET,
        "/scim/v2/ResourceTypes/{id}",
        get(discovery::resource_type),
    )
    .scim(M::GET, "/scim/v2/Schemas", get(discovery::all_schemas))
    .scim(M::GET, "/scim/v2/Schemas/{id}", get(discovery::schema))
    .scim(M::GET, "/scim/v2/Users", get(list::<users::Users>))
    .scim(M::POST, "/scim/v2/Users", post(users::create))
    .scim(M::GET, "/scim/v2/Users/{id}", get(one::<users::Users>))
    .scim(M::PUT, "/scim/v2/Users/{id}", put(replace::<users::Users>))
    .scim(
        M::PATCH,
        "/scim/v2/Users/{id}",
        patch_route(modify::<users::Users>),
    )
    .scim(M::DELETE, "/scim/v2/Users/{id}", delete(users::remove))
    .scim(M::GET, "/scim/v2/Groups", get(list::<groups::Groups>))
    .scim(M::POST, "/scim/v2/Groups", post(groups::create))
    .scim(M::GET, "/scim/v2/Groups/{id}", get(one::<groups::Groups>))
    .scim(
        M::PUT,
        "/scim/v2/Groups/{id}",
        put(replace::<groups::Groups>),
    )
    .scim(
        M::PATCH,
        "/scim/v2/Groups/{id}",
        patch_route(modify::<groups::Groups>),
    )
    .scim(M::DELETE, "/scim/v2/Groups/{id}", delete(groups::remove))
    .scim(
        M::POST,
        "/scim/v2/Users/.search",
        post(search::<users::Users>),
    )
    .scim(
        M::POST,
        "/scim/v2/Groups/.search",
        post(search::<groups::Groups>),
    )
    .scim(M::POST, "/scim/v2/.search", post(search_all))
    .scim(M::GET, "/scim/v2/{*rest}", get(no_such_endpoint))
}

/// A type of resource the server keeps: its name in the store and in
/// `meta.resourceType`.
pub trait Kind {
    const NAME: &'static str;
    /// The schema extensions a PATCH path may name.
    const EXTENSIONS: &'static [&'static str];
    /// Records what putting `new` in place of `old` means, and keeps it:
    /// the resource as kept.
    fn set(
        state: &AppState,
        scim: &Scim,
        id: &str,
        old: &Value,
        new: Value,
    ) -> impl Future<Output = Result<Value, ScimError>> + Send;
}

/// PUT: the resource replaced by the body.
async fn replace<K: Kind>(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let old = stored(&state, &scim, K::NAME, &id).await?;
    let new = body_json(&body)?;
    Ok(found(&K::set(&state, &scim, &id, &old, new).await?))
}

/// PATCH: the body's operations applied to the resource, all or none.
async fn modify<K: Kind>(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let old = stored(&state, &scim, K::NAME, &id).await?;
    let operations = body_json(&body)?;
    let mut new = old.clone();
    patch::apply(&mut new, &operations, K::EXTENSIONS)
        .map_err(|e| ScimError::bad(e.scim_type, e.detail))?;
    Ok(found(&K::set(&state, &scim, &id, &old, new).await?))
}

async fn list<K: Kind>(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ScimError> {
    page(stored_all(&state, &scim, K::NAME).await?, &q)
}

/// POST `.search` on one type: a list whose query is in the body.
async fn search<K: Kind>(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    body: Bytes,
) -> Result<Response, ScimError> {
    page(
        stored_all(&state, &scim, K::NAME).await?,
        &ListQuery::searched(&body)?,
    )
}

async fn one<K: Kind>(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ScimError> {
    let resource = stored(&state, &scim, K::NAME, &id).await?;
    Ok(found(&Shown::from(&q).apply(resource)))
}

/// POST `/.search` (RFC 7644 §3.4.3): Users and Groups together.
async fn search_all(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let query = ListQuery::searched(&body)?;
    let mut all = stored_all(&state, &scim, "User").await?;
    all.extend(stored_all(&state, &scim, "Group").await?);
    page(all, &query)
}

async fn no_such_endpoint() -> ScimError {
    ScimError::not_found(
        "no such SCIM endpoint: Warden serves /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas",
    )
}

/// A SCIM error response (RFC 7644 §3.12).
#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError {
            status: StatusCode::BAD_REQUEST,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError {
            status: StatusCode::NOT_FOUND,
            scim_type: None,
            detail: detail.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        ScimError {
            status: StatusCode::CONFLICT,
            scim_type: Some("uniqueness"),
            detail: detail.into(),
        }
    }

    fn unavailable(e: &store::StoreError) -> Self {
        tracing::error!(error = %e, "SCIM: the store failed");
        crate::outage::store_failed();
        ScimError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            scim_type: None,
            detail: "the store could not be reached: try again".into(),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let res = scim_json(self.status, &body);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            crate::outage::retry_later(res)
        } else {
            res
        }
    }
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    res
}

fn found(body: &Value) -> Response {
    scim_json(StatusCode::OK, body)
}

/// A whole list, unpaged (the discovery endpoints).
fn list_of(resources: Vec<Value>) -> Response {
    found(&json!({
        "schemas": [LIST],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
}

/// The query of a list: `filter`, `startIndex`, `count`, `attributes`,
/// `excludedAttributes`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl ListQuery {
    /// The query a SearchRequest body (RFC 7644 §3.4.3) holds.
    pub fn searched(body: &[u8]) -> Result<ListQuery, ScimError> {
        let body = body_json(body)?;
        let text = |name: &str| -> Option<String> {
            match filter::get_ci(&body, name)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Array(items) => Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => None,
            }
        };
        Ok(ListQuery {
            filter: text("filter"),
            start_index: text("startIndex"),
            count: text("count"),
            attributes: text("attributes"),
            excluded_attributes: text("excludedAttributes"),
        })
    }
}

/// Which attributes a response holds (RFC 7644 §3.4.2.5).
#[derive(Default)]
pub struct Shown {
    attributes: Option<String>,
    excluded: Option<String>,
}

impl From<&ListQuery> for Shown {
    fn from(q: &ListQuery) -> Self {
        Shown {
            attributes: q.attributes.clone(),
            excluded: q.excluded_attributes.clone(),
        }
    }
}

impl Shown {
    /// `resource` with only the attributes asked for (`id` and `schemas`
    /// always), or without those excluded.
    fn apply(&self, mut resource: Value) -> Value {
        let names = |list: &Option<String>| -> Option<Vec<String>> {
            list.as_ref().map(|l| {
                l.split(',')
                    .map(|n| {
                        n.trim()
                            .rsplit(':')
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase()
                    })
                    .filter(|n| !n.is_empty())
                    .collect()
            })
        };
        let Some(object) = resource.as_object_mut() else {
            return resource;
        };
        if let Some(keep) = names(&self.attributes) {
            object.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                k == "id"
                    || k == "schemas"
                    || keep
                        .iter()
                        .any(|n| *n == k || k.ends_with(&format!(":{n}")))
            });
        }
        if let Some(drop) = names(&self.excluded) {
            object.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                k == "id" || k == "schemas" || !drop.contains(&k)
            });
        }
        resource
    }
}

/// One page of `resources` that pass the query's filter.
fn page(resources: Vec<Value>, q: &ListQuery) -> Result<Response, ScimError> {
    let filter = match q.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(text) => Some(Filter::parse(text).map_err(|e| ScimError::bad("invalidFilter", e))?),
        None => None,
    };
    let number = |text: &Option<String>, name: &str| -> Result<Option<i64>, ScimError> {
        text.as_deref()
            .map(|t| {
                t.trim().parse::<i64>().map_err(|_| {
                    ScimError::bad(
                        "invalidValue",
                        format!("`{name}` is a whole number, not `{t}`"),
                    )
                })
            })
            .transpose()
    };
    let start = number(&q.start_index, "startIndex")?.unwrap_or(1).max(1) as usize;
    let count = number(&q.count, "count")?
        .unwrap_or(MAX_RESULTS as i64)
        .clamp(0, MAX_RESULTS as i64) as usize;
    let matching: Vec<Value> = resources
        .into_iter()
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
        .collect();
    let total = matching.len();
    let shown = Shown::from(q);
    let page: Vec<Value> = matching
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|r| shown.apply(r))
        .collect();
    Ok(found(&json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    })))
}

/// The request's body as a JSON object, or `invalidSyntax`.
fn body_json(bytes: &[u8]) -> Result<Value, ScimError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ScimError::bad("invalidSyntax", "the body is a JSON object"));
    }
    Ok(value)
}

/// The stored resources of one type.
async fn stored_all(
    state: &AppState,
    scim: &Scim,
    resource: &'static str,
) -> Result<Vec<Value>, ScimError> {
    let council = scim.council.id.clone();
    let rows = state
        .blocking(move |log| log.resources(&council, resource))
        .await
        .map_err(|e| ScimError::unavailable(&e))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, body)| match serde_json::from_str(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(resource, id, error = %e, "stored SCIM resource unreadable; left out");
                None
            }
        })
        .collect())
}

async fn stored(
    state: &AppState,
    scim: &Scim,
    resource: &'static str,
    id: &str,
) -> Result<Value, ScimError> {
    let (council, key) = (scim.council.id.clone(), id.to_owned());
    let body = state
        .blocking(move |log| log.resource(&council, resource, &key))
        .await
        .map_err(|e| ScimError::unavailable(&e))?;
    body.and_then(|b| serde_json::from_str(&b).ok())
        .ok_or_else(|| ScimError::not_found(format!("no {resource} `{id}`")))
}

async fn keep(
    state: &AppState,
    scim: &Scim,
    resource: &'static str,
    id: &str,
    body: &Value,
) -> Result<(), ScimError> {
    let (council, key, text) = (scim.council.id.clone(), id.to_owned(), body.to_string());
    state
        .blocking(move |log| log.save_resource(&council, resource, &key, &text))
        .await
        .map_err(|e| ScimError::unavailable(&e))
}

async fn forget(
    state: &AppState,
    scim: &Scim,
    resource: &'static str,
    id: &str,
) -> Result<(), ScimError> {
    let (council, key) = (scim.council.id.clone(), id.to_owned());
    state
        .blocking(move |log| log.delete_resource(&council, resource, &key))
        .await
        .map(|_| ())
        .map_err(|e| ScimError::unavailable(&e))
}

/// Records what a change means, through the one way in.
async fn record(
    state: &AppState,
    scim: &Scim,
    events: Vec<domain::Event>,
) -> Result<(), ScimError> {
    if events.is_empty() {
        return Ok(());
    }
    match state.record(&scim.council, events).await {
        Ok(_) => Ok(()),
        Err(CommandError::Refused(reasons)) => Err(ScimError::bad(
            "invalidValue",
            reasons
                .iter()
                .map(|r| r.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(CommandError::Store(e)) => Err(ScimError::unavailable(&e)),
    }
}

/// The resource's `meta`, made or brought up to date.
fn stamp(resource: &mut Value, kind: &str, id: &str, now: Timestamp, created: Option<Value>) {
    let endpoint = if kind == "User" { "Users" } else { "Groups" };
    let created = created.unwrap_or_else(|| json!(now.to_string()));
    resource["id"] = json!(id);
    resource["meta"] = json!({
        "resourceType": kind,
        "created": created,
        "lastModified": now.to_string(),
        "location": format!("/scim/v2/{endpoint}/{id}"),
    });
}

fn created(resource: &Value, location: &str) -> Response {
    let mut res = scim_json(StatusCode::CREATED, resource);
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// A new random resource id.
fn new_id() -> String {
    crate::accounts::random_hex::<12>()
}
