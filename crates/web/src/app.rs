//! The application, assembled in one place that no page or API module
//! imports: the route tables of operations, pages and the API, added
//! through the guards, and the layers every response passes.

use crate::guards::{RouteInfo, Routes};
use crate::state::AppState;
use crate::{api, layout, ops, outage, pages};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;

/// The whole application and its route table.
pub fn app(state: AppState) -> (Router, Vec<RouteInfo>) {
    let routes = Routes::new(state.clone());
    let routes = ops::routes(routes);
    let routes = pages::routes(routes);
    let routes = api::routes(routes);
    let routes = crate::scim::routes(routes);
    let (router, table) = routes.finish();
    let router = router
        .fallback(layout::not_found)
        .layer(middleware::from_fn(outage::store_failures))
        .layer(middleware::from_fn(ops::observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(state);
    (router, table)
}

/// Headers every response carries: no framing, no sniffing, a strict
/// content security policy (all scripts and styles are served by Warden).
/// For htmx's boosted requests, the address to show: a form's POST is
/// followed to the page it redirects to, and that page's own address is
/// the one to keep in the history, not the form's action.
async fn security_headers(req: Request, next: Next) -> Response {
    let push = (req.headers().contains_key("hx-request") && req.method() == Method::GET)
        .then(|| req.uri().to_string())
        .and_then(|uri| axum::http::HeaderValue::from_str(&uri).ok());
    let mut res = next.run(req).await;
    if let Some(uri) = push {
        res.headers_mut().insert("hx-push-url", uri);
    }
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, axum::http::HeaderValue::from_static(v));
    };
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    res
}
