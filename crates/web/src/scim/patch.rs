//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON, with what Entra ID
//! sends besides the RFC: `op` in any case (`Replace`), a whole object with
//! no `path`, `emails[type eq "work"].value` for an email there is not yet,
//! and members removed by a `value` array on the plain `members` path.

use super::filter::{Filter, get_ci};
use serde_json::{Map, Value};

/// Why a PATCH could not be applied: the SCIM `scimType` and a detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError {
    pub scim_type: &'static str,
    pub detail: String,
}

fn bad(scim_type: &'static str, detail: impl Into<String>) -> PatchError {
    PatchError {
        scim_type,
        detail: detail.into(),
    }
}

/// Applies every operation of a PatchOp body to `resource`, in order; on
/// any error, the resource is as it was (the caller keeps its copy).
pub fn apply(resource: &mut Value, body: &Value, extensions: &[&str]) -> Result<(), PatchError> {
    let operations = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("invalidSyntax", "a PATCH body has an `Operations` array"))?;
    for (i, operation) in operations.iter().enumerate() {
        let op = get_ci(operation, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| bad("invalidSyntax", format!("operation {i} has no `op`")))?;
        let path = get_ci(operation, "path").and_then(Value::as_str);
        let value = get_ci(operation, "value");
        match (op.as_str(), path) {
            ("add" | "replace", None) => {
                let Some(Value::Object(fields)) = value else {
                    return Err(bad(
                        "invalidValue",
                        format!(
                            "operation {i}: with no `path`, the `value` is an object of attributes"
                        ),
                    ));
                };
                for (name, v) in fields {
                    let target = Target::parse(name, extensions)?;
                    target.set(resource, v.clone(), op == "add")?;
                }
            }
            ("add" | "replace", Some(path)) => {
                let value = value.ok_or_else(|| {
                    bad(
                        "invalidValue",
                        format!("operation {i}: `{op}` needs a `value`"),
                    )
                })?;
                Target::parse(path, extensions)?.set(resource, value.clone(), op == "add")?;
            }
            ("remove", Some(path)) => Target::parse(path, extensions)?.remove(resource, value)?,
            ("remove", None) => {
                return Err(bad(
                    "noTarget",
                    format!("operation {i}: `remove` needs a `path`"),
                ));
            }
            (other, _) => {
                return Err(bad(
                    "invalidSyntax",
                    format!("operation {i}: `{other}` is not add, replace or remove"),
                ));
            }
        }
    }
    Ok(())
}

/// Where an operation points: an attribute of the resource or of one of its
/// extensions, perhaps only the elements a filter picks, perhaps one
/// sub-attribute.
struct Target {
    /// The extension's URN the attribute is in, if not the core schema.
    extension: Option<String>,
    /// None: the extension object itself.
    attribute: Option<String>,
    filter: Option<Filter>,
    sub: Option<String>,
}

impl Target {
    fn parse(path: &str, extensions: &[&str]) -> Result<Target, PatchError> {
        let mut rest = path;
        let mut extension = None;
        for urn in extensions {
            if path.eq_ignore_ascii_case(urn) {
                return Ok(Target {
                    extension: Some((*urn).to_owned()),
                    attribute: None,
                    filter: None,
                    sub: None,
                });
            }
            if path.len() > urn.len()
                && path[..urn.len()].eq_ignore_ascii_case(urn)
                && path.as_bytes()[urn.len()] == b':'
            {
                extension = Some((*urn).to_owned());
                rest = &path[urn.len() + 1..];
            }
        }
        if extension.is_none() && path.starts_with("urn:") {
            // The core schema's URN before the attribute
            // (`urn:ietf:params:scim:schemas:core:2.0:User:userName`).
            rest = path.rsplit_once(':').map_or(path, |(_, attr)| attr);
        }
        let (attribute, filter, sub) = match rest.split_once('[') {
            Some((attribute, after)) => {
                let (filter, after) = after.split_once(']').ok_or_else(|| {
                    bad("invalidPath", format!("`{path}`: a `[` without its `]`"))
                })?;
                let filter = Filter::parse(filter)
                    .map_err(|e| bad("invalidFilter", format!("`{path}`: {e}")))?;
                let sub = after.strip_prefix('.').map(str::to_owned);
                (attribute.to_owned(), Some(filter), sub)
            }
            None => match rest.split_once('.') {
                Some((attribute, sub)) => (attribute.to_owned(), None, Some(sub.to_owned())),
                None => (rest.to_owned(), None, None),
            },
        };
        if attribute.is_empty() {
            return Err(bad("invalidPath", format!("`{path}` names no attribute")));
        }
        Ok(Target {
            extension,
            attribute: Some(attribute),
            filter,
            sub,
        })
    }

    /// The object the attribute is in, made if it is not there yet.
    fn container<'a>(
        &self,
        resource: &'a mut Value,
    ) -> Result<&'a mut Map<String, Value>, PatchError> {
        let root = resource
            .as_object_mut()
            .ok_or_else(|| bad("invalidValue", "the resource is not an object"))?;
        match &self.extension {
            None => Ok(root),
            Some(urn) => {
                let key = key_ci(root, urn).unwrap_or_else(|| urn.clone());
                let ext = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if !ext.is_object() {
                    *ext = Value::Object(Map::new());
                }
                ext.as_object_mut()
                    .ok_or_else(|| bad("invalidValue", "the extension is not an object"))
            }
        }
    }

    fn set(&self, resource: &mut Value, value: Value, add: bool) -> Result<(), PatchError> {
        let Some(attribute) = &self.attribute else {
            // The whole extension: merge its attributes.
            let Value::Object(fields) = value else {
                return Err(bad("invalidValue", "an extension's value is an object"));
            };
            let container = self.container(resource)?;
            for (k, v) in fields {
                let key = key_ci(container, &k).unwrap_or(k);
                container.insert(key, v);
            }
            return Ok(());
        };
        let container = self.container(resource)?;
        let key = key_ci(container, attribute).unwrap_or_else(|| attribute.clone());
        match (&self.filter, &self.sub) {
            (None, None) => {
                let current = container.get_mut(&key);
                match (current, value) {
                    // `add` to a multi-valued attribute adds its values,
                    // leaving out any already there.
                    (Some(Value::Array(items)), Value::Array(new)) if add => {
                        for v in new {
                            if !items.contains(&v) {
                                items.push(v);
                            }
                        }
                    }
                    (Some(Value::Object(fields)), Value::Object(new)) if add => {
                        fields.extend(new);
                    }
                    (_, value) => {
                        container.insert(key, value);
                    }
                }
            }
            (None, Some(sub)) => {
                let object = container
                    .entry(key)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !object.is_object() {
                    *object = Value::Object(Map::new());
                }
                if let Some(fields) = object.as_object_mut() {
                    let sub_key = key_ci(fields, sub).unwrap_or_else(|| sub.clone());
                    fields.insert(sub_key, value);
                }
            }
            (Some(filter), sub) => {
                let items = container
                    .entry(key)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !items.is_array() {
                    *items = Value::Array(Vec::new());
                }
                let Some(items) = items.as_array_mut() else {
                    return Ok(());
                };
                let mut found = false;
                for item in items.iter_mut().filter(|item| filter.matches(item)) {
                    found = true;
                    set_in(item, sub.as_deref(), value.clone());
                }
                // Entra replaces `emails[type eq "work"].value` on a user
                // with no work email yet: the element the filter describes
                // is made.
                if !found {
                    let mut item = Map::new();
                    for c in &filter.all {
                        item.insert(c.path.clone(), c.value.clone());
                    }
                    let mut item = Value::Object(item);
                    set_in(&mut item, sub.as_deref(), value);
                    items.push(item);
                }
            }
        }
        Ok(())
    }

    fn remove(&self, resource: &mut Value, value: Option<&Value>) -> Result<(), PatchError> {
        let Some(attribute) = &self.attribute else {
            if let (Some(urn), Some(root)) = (&self.extension, resource.as_object_mut())
                && let Some(key) = key_ci(root, urn)
            {
                root.remove(&key);
            }
            return Ok(());
        };
        let container = self.container(resource)?;
        let Some(key) = key_ci(container, attribute) else {
            return Ok(());
        };
        match (&self.filter, &self.sub, value) {
            // Entra without its 2020 fix: `members` with the members to
            // take out as the value.
            (None, None, Some(Value::Array(gone))) => {
                if let Some(Value::Array(items)) = container.get_mut(&key) {
                    items.retain(|item| {
                        !gone.iter().any(|g| {
                            g == item
                                || (g.get("value").is_some() && g.get("value") == item.get("value"))
                        })
                    });
                }
            }
            (None, None, _) => {
                container.remove(&key);
            }
            (None, Some(sub), _) => {
                if let Some(Value::Object(fields)) = container.get_mut(&key)
                    && let Some(sub_key) = key_ci(fields, sub)
                {
                    fields.remove(&sub_key);
                }
            }
            (Some(filter), sub, _) => {
                if let Some(Value::Array(items)) = container.get_mut(&key) {
                    match sub {
                        None => items.retain(|item| !filter.matches(item)),
                        Some(sub) => {
                            for item in items.iter_mut().filter(|item| filter.matches(item)) {
                                if let Some(fields) = item.as_object_mut()
                                    && let Some(sub_key) = key_ci(fields, sub)
                                {
                                    fields.remove(&sub_key);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Sets `value` in `item`, at `sub` if given, else as the whole item (an
/// object merged into it).
fn set_in(item: &mut Value, sub: Option<&str>, value: Value) {
    match (sub, item.as_object_mut()) {
        (Some(sub), Some(fields)) => {
            let key = key_ci(fields, sub).unwrap_or_else(|| sub.to_owned());
            fields.insert(key, value);
        }
        (None, Some(fields)) => {
            if let Value::Object(new) = value {
                fields.extend(new);
            } else {
                *item = value;
            }
        }
        (_, None) => *item = value,
    }
}

/// The key of `map` equal to `name` without regard to case.
fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn patched(mut resource: Value, body: Value) -> Value {
        apply(&mut resource, &body, &[ENTERPRISE]).expect("patch");
        resource
    }

    #[test]
    fn entra_s_capitalised_ops_and_string_booleans_are_taken() {
        let user = json!({"userName": "jo", "active": true});
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        assert_eq!(patched(user, body)["active"], json!("False"));
    }

    #[test]
    fn a_filtered_path_sets_the_element_it_describes_making_it_if_need_be() {
        let user = json!({"userName": "jo"});
        let body = json!({"Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jo@example.gov.uk"}]});
        let user = patched(user, body);
        assert_eq!(
            user["emails"],
            json!([{"type": "work", "value": "jo@example.gov.uk"}])
        );
        let body = json!({"Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "jo.e@example.gov.uk"}]});
        assert_eq!(
            patched(user, body)["emails"],
            json!([{"type": "work", "value": "jo.e@example.gov.uk"}])
        );
    }

    #[test]
    fn members_come_and_go_by_filter_or_by_a_value_array() {
        let group = json!({"displayName": "ICT", "members": [{"value": "a"}]});
        let add = json!({"Operations": [{"op": "Add", "path": "members", "value": [{"value": "b"}, {"value": "a"}]}]});
        let group = patched(group, add);
        assert_eq!(group["members"], json!([{"value": "a"}, {"value": "b"}]));
        let by_filter =
            json!({"Operations": [{"op": "Remove", "path": "members[value eq \"a\"]"}]});
        let group = patched(group, by_filter);
        assert_eq!(group["members"], json!([{"value": "b"}]));
        let by_value =
            json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "b"}]}]});
        assert_eq!(patched(group, by_value)["members"], json!([]));
    }

    #[test]
    fn an_extension_s_attribute_is_set_by_its_urn_path_or_in_a_pathless_value() {
        let user = json!({"userName": "jo"});
        let body = json!({"Operations": [
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "ICT"},
            {"op": "Replace", "value": {"title": "Head of ICT", "displayName": "Jo"}}]});
        let user = patched(user, body);
        assert_eq!(user[ENTERPRISE]["department"], json!("ICT"));
        assert_eq!(user["title"], json!("Head of ICT"));
        let body =
            json!({"Operations": [{"op": "remove", "path": format!("{ENTERPRISE}:department")}]});
        assert_eq!(patched(user, body)[ENTERPRISE], json!({}));
    }

    #[test]
    fn a_bad_operation_is_refused_with_its_scim_type() {
        let mut user = json!({"userName": "jo"});
        for (body, scim_type) in [
            (json!({}), "invalidSyntax"),
            (
                json!({"Operations": [{"op": "move", "path": "x", "value": 1}]}),
                "invalidSyntax",
            ),
            (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
            (
                json!({"Operations": [{"op": "add", "value": "x"}]}),
                "invalidValue",
            ),
            (
                json!({"Operations": [{"op": "add", "path": "emails[type zz \"w\"]", "value": "x"}]}),
                "invalidFilter",
            ),
        ] {
            let err = apply(&mut user, &body, &[ENTERPRISE]).expect_err("refused");
            assert_eq!(err.scim_type, scim_type, "{body}");
        }
    }
}
