//! When the store is away: the request it failed becomes a 503 with
//! `Retry-After`, whatever page or answer it shows. Below every route, so
//! pages, forms, guards and the API all say so the same way.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// How long a client is told to wait before trying again when the store
/// is not answering (seconds, for `Retry-After`).
pub const RETRY_AFTER_SECONDS: &str = "5";

/// A response made a 503 that says when to try again: the store is away.
pub fn retry_later(mut res: Response) -> Response {
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    res
}

tokio::task_local! {
    /// Set while a request is handled when the store failed it: the form
    /// that comes back says so, and the response becomes a 503.
    static STORE_FAILED: std::cell::Cell<bool>;
}

/// Marks the request being handled as failed by the store (see `retry_later`).
pub fn store_failed() {
    let _ = STORE_FAILED.try_with(|failed| failed.set(true));
}

/// Wraps each request: a response to a request the store failed becomes a
/// 503 with `Retry-After`, whatever page it shows.
pub async fn store_failures(req: Request, next: Next) -> Response {
    STORE_FAILED
        .scope(std::cell::Cell::new(false), async move {
            let res = next.run(req).await;
            if STORE_FAILED.with(|f| f.get()) {
                retry_later(res)
            } else {
                res
            }
        })
        .await
}
