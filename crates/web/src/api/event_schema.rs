//! The body of `POST events` in the OpenAPI document: one object schema per
//! event type, built from the vocabulary itself (`EventType::fields`), and
//! a `oneOf` over them discriminated by `type`. Clients can be generated
//! from it, and schemathesis generates bodies that are events, not only
//! ones that are refused.

use domain::EventType;
use serde_json::{Value, json};

/// An id: letters, digits, `.`, `_` and `-`, starting with a letter or
/// digit (the domain also admits ids that start with `.`, `_` or `-`; the
/// schema asks for the usual ones).
const NAME: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
const PATH: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._-]{0,63})*$";

/// The JSON Schema of a field of type `base` (as the vocabulary writes it),
/// if Warden knows the type.
pub fn field_schema(base: &str) -> Option<Value> {
    let id = || json!({"type": "string", "pattern": NAME, "maxLength": 64});
    Some(match base {
        "PersonId" | "DeviceId" | "IncidentId" | "PolicyId" | "Role" | "Agreement" | "Course"
        | "HouseholdId" => id(),
        "ResourceId" => json!({"type": "string", "pattern": PATH, "maxLength": 128}),
        "EventRef" => json!({"type": "string", "description": "The event's own id, or #SEQ"}),
        "String" => json!({"type": "string", "maxLength": 10000}),
        "bool" => json!({"type": "boolean"}),
        "Vec<String>" => json!({"type": "array", "items": {"type": "string", "pattern": NAME}}),
        "Vec<Told>" => {
            json!({"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 300,
            "pattern": "^[A-Za-z0-9._:-]+(/[A-Za-z0-9._:-]+){3,}$"}})
        }
        "Channel" => json!({"type": "string", "enum": ["email"]}),
        "u32" => json!({"type": "integer", "minimum": 0, "maximum": 4_294_967_295u64}),
        "Timestamp" => json!({"type": "string", "format": "date-time"}),
        "Date" => json!({"type": "string", "format": "date"}),
        "Pence" => json!({"type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$",
            "description": "Pounds, at most two decimal places: \"49.99\""}),
        "PersonKind" => {
            json!({"type": "string", "enum": ["councillor", "employee", "third_party"]})
        }
        "DeviceOwner" => json!({"type": "string", "enum": ["council", "personal"]}),
        "MfaMethod" => {
            json!({"type": "string", "enum": ["authenticator_app", "sms", "hardware_token"]})
        }
        "Severity" => json!({"type": "string", "enum": ["low", "medium", "high"]}),
        "DeviceKind" => json!({"type": "string", "pattern": "^[a-z_]{1,40}$"}),
        _ => return None,
    })
}

/// The component name of an event type's schema: `event_person_left`.
pub fn component(event: EventType) -> String {
    format!("event_{}", event.name())
}

/// The schema of one event type: its envelope and its fields, nothing else.
pub fn event_schema(event: EventType) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert(
        "type".into(),
        json!({"type": "string", "const": event.name()}),
    );
    properties.insert(
        "at".into(),
        json!({"type": "string", "format": "date-time", "description": "When it happened; now if absent"}),
    );
    properties.insert(
        "id".into(),
        json!({"type": "string", "pattern": NAME, "description": "The council's own name for the event"}),
    );
    let mut required = vec![json!("type")];
    for field in event.fields() {
        let schema = field_schema(&field.base()).unwrap_or_else(|| json!({"type": "string"}));
        properties.insert(field.name.into(), schema);
        if field.required() {
            required.push(json!(field.name));
        }
    }
    json!({
        "type": "object",
        "title": event.name(),
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Puts the per-type schemas and their `oneOf` into `doc` (an OpenAPI
/// document as JSON) and makes it the body of `POST events`.
pub fn add_to(doc: &mut Value) {
    let mut one_of = Vec::new();
    let mut mapping = serde_json::Map::new();
    for event in EventType::ALL {
        let name = component(*event);
        let reference = format!("#/components/schemas/{name}");
        doc["components"]["schemas"][&name] = event_schema(*event);
        one_of.push(json!({"$ref": reference}));
        mapping.insert(event.name().into(), json!(reference));
    }
    doc["components"]["schemas"]["Event"] = json!({
        "description": "One event of the v1 vocabulary (docs/events.md)",
        "oneOf": one_of,
        "discriminator": {"propertyName": "type", "mapping": mapping},
    });
    let body = &mut doc["paths"]["/api/v1/councils/{council}/events"]["post"]["requestBody"];
    body["content"]["application/json"]["schema"] = json!({"$ref": "#/components/schemas/Event"});
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field type of the vocabulary has a schema, and every enum's
    /// values are the ones the domain reads.
    #[test]
    fn every_field_of_the_vocabulary_has_a_schema() {
        for event in EventType::ALL {
            for field in event.fields() {
                assert!(
                    field_schema(&field.base()).is_some(),
                    "{}.{}: no schema for {}",
                    event.name(),
                    field.name,
                    field.ty
                );
            }
        }
        for (base, read) in [
            (
                "PersonKind",
                (|v| serde_json::from_value::<domain::PersonKind>(v).is_ok()) as fn(Value) -> bool,
            ),
            ("DeviceOwner", |v| {
                serde_json::from_value::<domain::DeviceOwner>(v).is_ok()
            }),
            ("MfaMethod", |v| {
                serde_json::from_value::<domain::MfaMethod>(v).is_ok()
            }),
            ("Severity", |v| {
                serde_json::from_value::<domain::Severity>(v).is_ok()
            }),
        ] {
            let schema = field_schema(base).expect("a schema");
            for value in schema["enum"].as_array().expect("an enum") {
                assert!(read(value.clone()), "{base}: {value}");
            }
        }
    }

    #[test]
    fn a_required_field_is_required_and_an_optional_one_is_not() {
        let left = event_schema(EventType::PersonLeft);
        assert_eq!(left["required"], json!(["type", "person"]));
        assert!(left["properties"]["reason"].is_object());
        let joined = event_schema(EventType::PersonJoined);
        let required: Vec<&str> = joined["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, ["type", "person", "name", "kind"]);
    }
}
