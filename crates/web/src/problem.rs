//! The API's errors: RFC 9457 problem documents, one shape for every
//! refusal, whether the guard's or a handler's.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem.
#[derive(Serialize, ToSchema, Debug)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Each reason a command was refused, with the field it is about
    /// (empty for other problems).
    pub errors: Vec<FieldError>,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

pub fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: impl Into<String>,
    errors: Vec<FieldError>,
) -> Response {
    let body = Problem {
        kind: format!("https://warden.example/problems/{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        errors,
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json,
    )
        .into_response()
}

pub fn unauthorised(detail: &str) -> Response {
    let mut res = problem(
        StatusCode::UNAUTHORIZED,
        "unauthorised",
        "Not signed in",
        detail,
        Vec::new(),
    );
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    res
}

pub fn forbidden() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Not allowed",
        "This token's holder may not do this for this council",
        Vec::new(),
    )
}
