//! What the SCIM server says of itself (RFC 7644 §4): its configuration,
//! its resource types and their schemas. The schemas list the attributes
//! Warden acts on; a provider may send others, which are kept and given
//! back but mean nothing to the rules.

use super::{ENTERPRISE, GROUP, ScimError, USER, found, list_of, scim_json};
use axum::extract::Path;
use axum::response::Response;
use serde_json::{Value, json};

const BASE: &str = "/scim/v2";

pub async fn config() -> Response {
    scim_json(
        axum::http::StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/warden/warden/blob/main/docs/imports.md#scim",
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": super::MAX_RESULTS},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Warden provisioning token",
                "description": "A provisioning token made by an ICT administrator (My API tokens, scope: provisioning), sent as `Authorization: Bearer TOKEN`.",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig")}
        }),
    )
}

fn resource_types() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users",
            "description": "A person of the council: joining, moving and leaving are recorded in its log",
            "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "A group whose members hold a role in Warden, when the council maps its name to one",
            "schema": GROUP,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/Group")}
        }),
    ]
}

pub async fn types() -> Response {
    list_of(resource_types())
}

pub async fn resource_type(Path(id): Path<String>) -> Result<Response, ScimError> {
    resource_types()
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(|t| found(&t))
        .ok_or_else(|| ScimError::not_found(format!("no resource type `{id}`")))
}

fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description,
        "required": false, "caseExact": false, "mutability": "readWrite",
        "returned": "default", "uniqueness": "none"
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(a), Value::Object(changes)) = (attribute.as_object_mut(), changes) {
        a.extend(changes);
    }
    attribute
}

fn schemas() -> Vec<Value> {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER, "name": "User", "description": "A person of the council",
        "attributes": [
            with(attribute("userName", "string", "The sign-in name (a UPN); unique"),
                json!({"required": true, "uniqueness": "server"})),
            attribute("displayName", "string", "The person's name as Warden shows it"),
            attribute("title", "string", "Their job title: a change is a move"),
            attribute("userType", "string", "`Guest` is a third party; anyone else an employee"),
            attribute("active", "boolean", "False: the person has left (their devices are due back)"),
            with(attribute("emails", "complex", "Email addresses: the primary (else the first) is the person's"),
                json!({"multiValued": true, "subAttributes": [
                    attribute("value", "string", "The address"),
                    attribute("type", "string", "work, home or other"),
                    attribute("primary", "boolean", "The address Warden uses"),
                ]})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{BASE}/Schemas/{USER}")}
    });
    let enterprise = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE, "name": "EnterpriseUser", "description": "A person's place in the council",
        "attributes": [
            attribute("department", "string", "Their department: a change is a move"),
            with(attribute("manager", "complex", "Their manager: a manager sees and acts for their team"),
                json!({"subAttributes": [
                    attribute("value", "string", "The manager's id"),
                ]})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{BASE}/Schemas/{ENTERPRISE}")}
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP, "name": "Group", "description": "A group of people; its name may map to a role",
        "attributes": [
            with(attribute("displayName", "string", "The group's name, as the council's mapping names it"),
                json!({"required": true})),
            with(attribute("members", "complex", "The group's members: Users"),
                json!({"multiValued": true, "subAttributes": [
                    with(attribute("value", "string", "The member's id"), json!({"mutability": "immutable", "caseExact": true})),
                    with(attribute("$ref", "reference", "The member's URI"),
                        json!({"mutability": "immutable", "referenceTypes": ["User"]})),
                    with(attribute("type", "string", "User"), json!({"mutability": "immutable", "canonicalValues": ["User"]})),
                ]})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{BASE}/Schemas/{GROUP}")}
    });
    vec![user, enterprise, group]
}

pub async fn all_schemas() -> Response {
    list_of(schemas())
}

pub async fn schema(Path(id): Path<String>) -> Result<Response, ScimError> {
    schemas()
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| found(&s))
        .ok_or_else(|| ScimError::not_found(format!("no schema `{id}`")))
}
