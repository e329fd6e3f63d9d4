//! Operations: liveness, readiness, Prometheus metrics, request logging and
//! the static assets.

use crate::clock;
use crate::guards::Routes;
use crate::outage::retry_later;
use crate::state::AppState;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub fn routes(r: Routes) -> Routes {
    r.public_get("/healthz", healthz)
        .public_get("/readyz", readyz)
        .scraper_get("/metrics", metrics)
        .public_get("/assets/{file}", asset)
        .public_get(
            "/feeds/{council}/{person}/{token}/{file}",
            crate::reminders::feed,
        )
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers and every council is current with its
/// stored log (what other nodes appended, caught up now if need be): a load
/// balancer sends no traffic to a node that would answer from stale state.
async fn readyz(State(state): State<AppState>) -> Response {
    let service = state.clone();
    let result = tokio::task::spawn_blocking(move || service.catch_up())
        .await
        .unwrap_or_else(|e| Err(store::StoreError::Unavailable(e.to_string())));
    match result {
        Ok(true) => (StatusCode::OK, "ready\n").into_response(),
        Ok(false) => retry_later("behind the stored log\n".into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            retry_later("the store is not answering\n".into_response())
        }
    }
}

/// Prometheus text, for a scraper holding the metrics token
/// (`Guard::Scraper`): the figures name every council of the service.
async fn metrics(State(state): State<AppState>) -> Response {
    for council in state.councils.values() {
        metrics::gauge!("warden_events", "council" => council.id.clone())
            .set(council.head() as f64);
    }
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are off\n").into_response(),
    }
}

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "govuk-frontend.min.css",
        "text/css",
        include_bytes!("../assets/govuk-frontend.min.css"),
    ),
    (
        "govuk-frontend.min.js",
        "text/javascript",
        include_bytes!("../assets/govuk-frontend.min.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript",
        include_bytes!("../assets/htmx.min.js"),
    ),
    (
        "init.js",
        "text/javascript",
        include_bytes!("../assets/init.js"),
    ),
    (
        "warden.css",
        "text/css",
        include_bytes!("../assets/warden.css"),
    ),
    (
        "static.txt",
        "text/plain",
        b"A static file, served as the floor for benchmarks.\n",
    ),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

/// Counts and times every request by route and status, and logs it.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = clock::instant();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let seconds = started.elapsed().as_secs_f64();
    metrics::counter!("warden_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.clone()).increment(1);
    metrics::histogram!("warden_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone()).record(seconds);
    tracing::info!(%method, %route, %status, ms = seconds * 1000.0, "request");
    res
}
