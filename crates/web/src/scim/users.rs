//! SCIM Users: people. What a User says is compared with what the estate
//! holds of the person, and the difference recorded: joining (a new or
//! re-enabled user), leaving (disabled or deleted), a move (title,
//! department or manager).

use super::filter::get_ci;
use super::{
    ENTERPRISE, Scim, ScimError, USER, body_json, created, forget, keep, new_id, record, stamp,
    stored, stored_all,
};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::event::{PersonJoined, PersonLeft, PersonMoved};
use domain::{Estate, Event, EventKind, IdShape, PersonId, PersonKind};
use serde_json::{Value, json};

/// SCIM's Users.
pub struct Users;

impl super::Kind for Users {
    const NAME: &'static str = "User";
    const EXTENSIONS: &'static [&'static str] = &[ENTERPRISE];

    fn set(
        state: &AppState,
        scim: &Scim,
        id: &str,
        old: &Value,
        new: Value,
    ) -> impl Future<Output = Result<Value, ScimError>> + Send {
        set(state, scim, id, old, new)
    }
}

const USERS: &str = <Users as super::Kind>::NAME;

/// What a User says of a person, as the estate would hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonView {
    pub active: bool,
    pub name: String,
    pub kind: PersonKind,
    pub email: Option<String>,
    pub job: Option<String>,
    pub department: Option<String>,
    pub manager: Option<PersonId>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `active`, which Entra may send as the string `"False"`.
fn active_of(user: &Value) -> Result<bool, ScimError> {
    match get_ci(user, "active") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ScimError::bad(
            "invalidValue",
            format!("`active` is true or false, not {other}"),
        )),
    }
}

impl PersonView {
    /// What `user` says, the manager only if the estate knows them.
    pub fn of(user: &Value, estate: &Estate, me: &PersonId) -> Result<PersonView, ScimError> {
        let user_name = text(get_ci(user, "userName"));
        let name = text(get_ci(user, "displayName"))
            .or_else(|| get_ci(user, "name").and_then(|n| text(get_ci(n, "formatted"))))
            .or_else(|| {
                let n = get_ci(user, "name")?;
                let parts: Vec<String> =
                    [text(get_ci(n, "givenName")), text(get_ci(n, "familyName"))]
                        .into_iter()
                        .flatten()
                        .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .or_else(|| user_name.clone())
            .ok_or_else(|| ScimError::bad("invalidValue", "a User has a `userName`"))?;
        let emails = get_ci(user, "emails").and_then(Value::as_array);
        let email = emails
            .and_then(|list| {
                list.iter()
                    .find(|e| get_ci(e, "primary").and_then(Value::as_bool) == Some(true))
                    .or_else(|| list.first())
            })
            .and_then(|e| text(get_ci(e, "value")))
            .or_else(|| user_name.filter(|u| u.contains('@')));
        let kind = match text(get_ci(user, "userType")) {
            Some(t) if t.eq_ignore_ascii_case("guest") => PersonKind::ThirdParty,
            _ => PersonKind::Employee,
        };
        let extension = get_ci(user, ENTERPRISE);
        let manager = extension
            .and_then(|x| get_ci(x, "manager"))
            .and_then(|m| text(get_ci(m, "value")).or_else(|| text(Some(m))))
            .map(|m| PersonId::from(m.as_str()))
            .filter(|m| m != me && estate.people.get(m).is_some_and(|p| p.is_present()));
        Ok(PersonView {
            active: active_of(user)?,
            name,
            kind,
            email,
            job: text(get_ci(user, "title")),
            department: extension.and_then(|x| text(get_ci(x, "department"))),
            manager,
        })
    }

    /// What the estate holds of a present person.
    fn held(estate: &Estate, id: &PersonId) -> Option<PersonView> {
        let p = estate.people.get(id).filter(|p| p.is_present())?;
        Some(PersonView {
            active: true,
            name: p.name.clone(),
            kind: p.kind,
            email: p.email.clone(),
            job: p.job.clone(),
            department: p.department.clone(),
            manager: p.manager.clone(),
        })
    }
}

/// The events that take the estate from what it holds of `id` (None: not
/// present) to what the provider says, each at `now`.
pub fn changes(
    id: &PersonId,
    held: Option<&PersonView>,
    said: &PersonView,
    now: jiff::Timestamp,
) -> Vec<Event> {
    let kind = match (held, said.active) {
        (None, true) => Some(EventKind::PersonJoined(PersonJoined {
            person: id.clone(),
            name: said.name.clone(),
            kind: said.kind,
            email: said.email.clone(),
            household: None,
            term_ends: None,
            job: said.job.clone(),
            department: said.department.clone(),
            manager: said.manager.clone(),
        })),
        (Some(_), false) => Some(EventKind::PersonLeft(PersonLeft {
            person: id.clone(),
            reason: Some(PersonLeft::ACCOUNT_DISABLED.into()),
        })),
        (Some(held), true) => {
            let changed = |new: &Option<String>, old: &Option<String>| {
                new.as_ref().filter(|n| Some(*n) != old.as_ref()).cloned()
            };
            let department = changed(&said.department, &held.department);
            let job = changed(&said.job, &held.job);
            let manager = said
                .manager
                .clone()
                .filter(|m| Some(m) != held.manager.as_ref());
            (department.is_some() || job.is_some() || manager.is_some()).then(|| {
                EventKind::PersonMoved(PersonMoved {
                    person: id.clone(),
                    department,
                    job,
                    manager,
                })
            })
        }
        (None, false) => None,
    };
    kind.map(|k| Event::new(now, k)).into_iter().collect()
}

/// The body as stored and returned: `active`, where given, a boolean (an
/// absent one means active, and stays absent); the schemas named.
fn normalised(mut user: Value, active: bool) -> Value {
    if let Some(object) = user.as_object_mut() {
        if let Some(key) = object
            .keys()
            .find(|k| k.eq_ignore_ascii_case("active"))
            .cloned()
        {
            object.remove(&key);
            object.insert("active".into(), json!(active));
        }
        let mut schemas = vec![json!(USER)];
        if object.keys().any(|k| k.eq_ignore_ascii_case(ENTERPRISE)) {
            schemas.push(json!(ENTERPRISE));
        }
        object.insert("schemas".into(), Value::Array(schemas));
    }
    user
}

/// The person id for a new user: the `externalId` (Entra's object id, the
/// same id an `entra-users` import keys on) when it is one and free, else
/// a new one.
fn id_for(user: &Value, estate: &Estate, taken: &[Value]) -> PersonId {
    let free = |id: &str| !taken.iter().any(|u| u["id"] == id);
    text(get_ci(user, "externalId"))
        .filter(|x| IdShape::Name.admits(x) && free(x))
        .map(|x| PersonId::from(x.as_str()))
        .unwrap_or_else(|| {
            loop {
                let id = PersonId::from(format!("scim-{}", new_id()).as_str());
                if !estate.people.contains_key(&id) {
                    break id;
                }
            }
        })
}

fn same_user_name(a: &Value, b: &Value) -> bool {
    match (text(get_ci(a, "userName")), text(get_ci(b, "userName"))) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let user = body_json(&body)?;
    if text(get_ci(&user, "userName")).is_none() {
        return Err(ScimError::bad("invalidValue", "a User has a `userName`"));
    }
    let all = stored_all(&state, &scim, USERS).await?;
    if all.iter().any(|u| same_user_name(u, &user)) {
        return Err(ScimError::conflict("a User with that userName exists"));
    }
    let (id, said, held) = scim.council.with_estate(|estate| {
        let id = id_for(&user, estate, &all);
        let said = PersonView::of(&user, estate, &id);
        (id.clone(), said, PersonView::held(estate, &id))
    });
    let said = said?;
    record(&state, &scim, changes(&id, held.as_ref(), &said, scim.now)).await?;
    let mut user = normalised(user, said.active);
    stamp(&mut user, USERS, id.as_str(), scim.now, None);
    keep(&state, &scim, USERS, id.as_str(), &user).await?;
    let location = user["meta"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(created(&user, &location))
}

/// Sets a stored user to `user`, recording what changed; the user kept.
async fn set(
    state: &AppState,
    scim: &Scim,
    id: &str,
    old: &Value,
    user: Value,
) -> Result<Value, ScimError> {
    if text(get_ci(&user, "userName")).is_none() {
        return Err(ScimError::bad("invalidValue", "a User has a `userName`"));
    }
    let all = stored_all(state, scim, USERS).await?;
    if all
        .iter()
        .any(|u| u["id"] != id && same_user_name(u, &user))
    {
        return Err(ScimError::conflict("another User has that userName"));
    }
    let person = PersonId::from(id);
    let (said, held) = scim.council.with_estate(|estate| {
        (
            PersonView::of(&user, estate, &person),
            PersonView::held(estate, &person),
        )
    });
    let said = said?;
    record(
        state,
        scim,
        changes(&person, held.as_ref(), &said, scim.now),
    )
    .await?;
    let mut user = normalised(user, said.active);
    stamp(
        &mut user,
        USERS,
        id,
        scim.now,
        old.get("meta").and_then(|m| m.get("created")).cloned(),
    );
    keep(state, scim, USERS, id, &user).await?;
    Ok(user)
}

pub async fn remove(
    State(state): State<AppState>,
    Extension(scim): Extension<Scim>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    stored(&state, &scim, USERS, &id).await?;
    let person = PersonId::from(id.as_str());
    let held = scim
        .council
        .with_estate(|estate| PersonView::held(estate, &person));
    if let Some(held) = held {
        let gone = PersonView {
            active: false,
            ..held.clone()
        };
        record(
            &state,
            &scim,
            changes(&person, Some(&held), &gone, scim.now),
        )
        .await?;
    }
    forget(&state, &scim, USERS, &id).await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}
