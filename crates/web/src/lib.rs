//! Warden as a web service: server-rendered pages for council staff and
//! councillors, sign-in with a second factor, authorisation by Cedar
//! policies, and a JSON API. This crate is an adapter: what a page or an
//! API call does is turned into domain events, checked by `domain` and
//! `rules`, and stored by `store`. See docs/ARCHITECTURE.md.

pub mod accounts;
pub mod api;
mod app;
pub mod authz;
pub mod clock;
pub mod committee;
pub mod council;
mod ctx;
pub mod demo;
mod forms;
pub mod guards;
mod history;
mod layout;
pub mod lists;
mod ops;
mod outage;
mod pages;
mod problem;
pub mod reminders;
pub mod scim;
pub mod sessions;
pub mod state;
pub mod wire;

pub use app::app;
pub use clock::now;
pub use guards::{Guard, RouteInfo};
pub use history::describe;

use authz::Authorizer;
use council::Council;
use rules::{Calendar, HolidayFile, PolicyPack};
use state::{AppState, Shared};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Policies(#[from] authz::BadPolicies),
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// How the service is set up, beyond its store and packs.
pub struct Settings {
    /// Mark cookies `Secure` (off only for plain HTTP on loopback).
    pub secure_cookies: bool,
    /// The keys TOTP secrets are sealed with.
    pub totp_keys: accounts::TotpKeys,
    /// The bearer token `/metrics` asks for; without one, metrics are not
    /// served (they name every council of the service).
    pub metrics_token: Option<String>,
    /// The reverse proxies in front of the service, whose `X-Forwarded-For`
    /// names the client (sign-in throttling counts clients, not the proxy).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// For each council, the SCIM group display names whose members hold a
    /// role, and the role (docs/imports.md#scim).
    pub scim_groups: BTreeMap<String, BTreeMap<String, String>>,
    /// The mail settings; with `remind_every`, the service runs the
    /// reminders on that schedule (docs/reminders.md).
    pub mail: Option<notify::Mail>,
}

/// Loads every council of the store (each with its pack, already loaded
/// by the caller) into a service state.
pub fn state(
    store: store::Pool,
    packs: Vec<(String, PolicyPack)>,
    holidays: &HolidayFile,
    settings: Settings,
) -> Result<AppState, StartError> {
    let mut councils = BTreeMap::new();
    {
        let mut log = store.get()?;
        for (id, pack) in packs {
            let calendar = Calendar::new(pack.time_zone.clone(), pack.division, holidays);
            let council = Council::load(&mut *log, &id, pack, calendar)?;
            councils.insert(id, Arc::new(council));
        }
    }
    let state = Arc::new(Shared {
        store: Arc::new(store),
        councils,
        sessions: Default::default(),
        throttle: Default::default(),
        authz: Authorizer::new()?,
        secure_cookies: settings.secure_cookies,
        totp_keys: settings.totp_keys,
        metrics: metrics_handle(),
        metrics_token: settings.metrics_token,
        trusted_proxies: settings.trusted_proxies,
        clock: Default::default(),
        scim_groups: settings.scim_groups,
        link: settings.mail.as_ref().map(|m| m.link.clone()),
    });
    state::follow(&state);
    if let Some(mail) = settings.mail
        && let Some(every) = mail.remind_every
    {
        reminders::schedule(&state, mail, every);
    }
    Ok(state)
}

/// The process's one Prometheus recorder.
fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Starts structured logging (RUST_LOG filters, `info` by default).
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal: a file or a journal gets
    // plain text it can search.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (router, _) = app(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(StartError::Serve)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Binds and serves on a new multi-threaded runtime, until Ctrl-C or
/// SIGTERM. `ready` is called with the bound address before serving.
pub fn run(
    state: AppState,
    listen: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Serve)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|error| StartError::Listen {
                addr: listen,
                error,
            })?;
        let addr = listener.local_addr().map_err(StartError::Serve)?;
        ready(addr);
        serve(state, listener, shutdown_signal()).await
    })
}
