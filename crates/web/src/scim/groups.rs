//! SCIM Groups. A group is kept as the provider sent it; when the council's
//! mapping names its display name (or the name is itself a role Warden
//! knows, such as `ict_admin`), its members hold that role: joining the
//! group records `role_granted`, leaving it `role_revoked`.

use super::filter::get_ci;
use super::{
    GROUP, Scim, ScimError, body_json, created, forget, keep, new_id, record, stamp, stored,
    stored_all,
};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::event::RoleChange;
use domain::{Estate, Event, EventKind, IdShape, PersonId, Role};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// SCIM's Groups.
pub struct Groups;

impl super::Kind for Groups {
    const NAME: &'static str = "Group";
    const EXTENSIONS: &'static [&'static str] = &[];

    fn set(
        state: &AppState,
        scim: &Scim,
        id: &str,
        old: &Value,
        new: Value,
    ) -> impl Future<Output = Result<Value, ScimError>> + Send {
        set(state, scim, id, Some(old), new)
    }
}

const GROUPS: &str = <Groups as super::Kind>::NAME;

/// The role a group's members hold, if its name maps to one.
fn role_of(state: &AppState, council: &str, group: &Value) -> Option<Role> {
    let name = get_ci(group, "displayName")?.as_str()?.trim();
    let mapped = state
        .scim_groups
        .get(council)
        .and_then(|m| m.iter().find(|(g, _)| g.eq_ignore_ascii_case(name)))
        .map(|(_, role)| role.as_str());
    let role = mapped.or_else(|| {
        crate::authz::WebRole::ESTATE_ROLES
            .into_iter()
            .find(|r| r.eq_ignore_ascii_case(name))
    })?;
    IdShape::Name.admits(role).then(|| Role::from(role))
}

/// The ids of a group's members.
fn members(group: &Value) -> BTreeSet<String> {
    get_ci(group, "members")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| get_ci(m, "value").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The role events that take the estate from `before` (a role, its
/// members) to `after`: each present person gains the new role if they
/// lack it, and loses the old one if they held it and no longer should.
fn role_changes(
    estate: &Estate,
    before: Option<(&Role, &BTreeSet<String>)>,
    after: Option<(&Role, &BTreeSet<String>)>,
    now: jiff::Timestamp,
) -> Vec<Event> {
    let holds = |person: &str, role: &Role| {
        estate
            .people
            .get(&PersonId::from(person))
            .filter(|p| p.is_present())
            .map(|p| p.roles.iter().any(|r| r == role))
    };
    let change = |person: &str, role: &Role| RoleChange {
        person: PersonId::from(person),
        role: role.clone(),
    };
    let mut events = Vec::new();
    if let Some((role, gone)) = before {
        for person in gone {
            let stays = after.is_some_and(|(r, m)| r == role && m.contains(person));
            if !stays && holds(person, role) == Some(true) {
                events.push(Event::new(
                    now,
                    EventKind::RoleRevoked(change(person, role)),
                ));
            }
        }
    }
    if let Some((role, members)) = after {
        for person in members {
            if holds(person, role) == Some(false) {
                events.push(Event::new(
                    now,
                    EventKind::RoleGranted(change(person, role)),
                ));
            }
        }
    }
    events
}

fn check(group: &Value) -> Result<(), ScimError> {
    match get_ci(group, "displayName").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => Ok(()),
        _ => Err(ScimError::bad(
            "invalidValue",
            "a Group has a `displayName`",
        )),
    }
}

fn same_name(a: &Value, b: &Value) -> bool {
    let name = |g: &Value| {
        get_ci(g, "displayName")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_lowercase())
    };
    name(a).is_some() && name(a) == name(b)
}

/// Records what the group's change means for roles, then keeps it.
async fn set(
    state: &AppState,
    scim: &Scim,
    id: &str,
    old: Option<&Value>,
    mut group: Value,
) -> Result<Value, ScimError> {
    check(&group)?;
    let all = stored_all(state, scim, GROUPS).await?;
    if all.iter().any(|g| g["id"] != id && same_name(g, &group)) {
        return Err(ScimError::conflict("another Group has that displayName"));
    }
    let council = &scim.council.id;
    let before = old.and_then(|g| role_of(state, council, g).map(|r| (r, members(g))));
    let after = role_of(state, council, &group).map(|r| (r, members(&group)));
    let events = scim.council.with_estate(|estate| {
        role_changes(
            estate,
            before.as_ref().map(|(r, m)| (r, m)),
            after.as_ref().map(|(r, m)| (r, m)),
            scim.now,
        )
    });
    record(state, scim, events).await?;
    if let Some(object) = group.as_object_mut() {
        object.insert("schemas".into(), json!([GROUP]));
    }
    let created_at = old
        .and_then(|g| g.get("meta"))
        .and_then(|m| m.get("created"))
        .cloned();
    stamp(&mut group, GROUPS, id, scim.now, created_at);
    keep(state, scim, GROUPS, id, &group).await?;
    Ok(group)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let group = body_json(&body)?;
    check(&group)?;
    if stored_all(&state, &scim, GROUPS)
        .await?
        .iter()
        .any(|g| same_name(g, &group))
    {
        return Err(ScimError::conflict("a Group with that displayName exists"));
    }
    let id = new_id();
    let group = set(&state, &scim, &id, None, group).await?;
    let location = group["meta"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(created(&group, &location))
}

pub async fn remove(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let old = stored(&state, &scim, GROUPS, &id).await?;
    let before = role_of(&state, &scim.council.id, &old).map(|r| (r, members(&old)));
    let events = scim.council.with_estate(|estate| {
        role_changes(estate, before.as_ref().map(|(r, m)| (r, m)), None, scim.now)
    });
    record(&state, &scim, events).await?;
    forget(&state, &scim, GROUPS, &id).await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}
