//! What every handler shares: the store, the councils, sessions, the
//! authoriser. Store calls block, so they go through [`Shared::blocking`].

use crate::accounts::Account;
use crate::authz::Authorizer;
use crate::council::{Council, SharedStore};
use crate::sessions::{Sessions, Throttle};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Weak;
use store::StoreError;

pub type AppState = Arc<Shared>;

pub struct Shared {
    pub store: SharedStore,
    pub councils: BTreeMap<String, Arc<Council>>,
    pub sessions: Sessions,
    pub throttle: Throttle,
    pub authz: Authorizer,
    /// Mark cookies `Secure`. Off only for plain-HTTP use on loopback
    /// (the demo and the tests); see docs/operations.md.
    pub secure_cookies: bool,
    /// The keys TOTP secrets are sealed with (docs/operations.md).
    pub totp_keys: crate::accounts::TotpKeys,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The bearer token `/metrics` asks for (none: metrics are not served).
    pub metrics_token: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The service's time; tests set it.
    pub clock: crate::clock::Clock,
    /// Each council's SCIM group names and the roles they give.
    pub scim_groups: BTreeMap<String, BTreeMap<String, String>>,
    /// Where the service is reached, for links in mail and calendars
    /// (`[mail] link`); without it, the address a request came to.
    pub link: Option<String>,
}

impl Shared {
    /// Where the service is reached: `[mail] link`, else the `Host` a
    /// request came to.
    pub fn link_for(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(link) = &self.link {
            return link.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1:8080");
        let scheme = if self.secure_cookies { "https" } else { "http" };
        format!("{scheme}://{host}")
    }

    /// The time now, by the service's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    pub fn council(&self, id: &str) -> Option<Arc<Council>> {
        self.councils.get(id).cloned()
    }

    /// Runs a store call on the blocking pool, on a connection from the
    /// store's pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn store::Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut log = store.get()?;
            work(&mut *log)
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("store task failed: {e}"))))
    }

    /// Brings every council up to its stored head: what other nodes (or a
    /// command beside this service) appended. `Ok(true)` when every council
    /// is current.
    pub fn catch_up(&self) -> Result<bool, StoreError> {
        let mut log = self.store.get()?;
        let mut current = true;
        for (id, seq) in log.heads()? {
            if let Some(council) = self.councils.get(&id)
                && council.head() < seq
            {
                council.catch_up(&mut *log)?;
                current &= council.head() >= seq;
            }
        }
        Ok(current)
    }

    pub async fn account(
        &self,
        council: &str,
        person: &str,
    ) -> Result<Option<Account>, StoreError> {
        let (c, p) = (council.to_owned(), person.to_owned());
        let json = self.blocking(move |log| log.account(&c, &p)).await?;
        Ok(json.and_then(|j| match serde_json::from_str(&j) {
            Ok(account) => Some(account),
            Err(e) => {
                tracing::error!(council, person, error = %e, "stored account unreadable; treated as none");
                None
            }
        }))
    }

    pub async fn save_account(
        &self,
        council: &str,
        person: &str,
        account: &Account,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(account).map_err(|e| StoreError::Corrupt {
            council: council.to_owned(),
            seq: 0,
            message: format!("the account of {person} does not serialise: {e}"),
        })?;
        let (c, p) = (council.to_owned(), person.to_owned());
        self.blocking(move |log| log.save_account(&c, &p, &json))
            .await
    }

    /// Keeps a policy text beside the council's log; its SHA-256 (hex).
    pub async fn save_text(&self, council: &str, text: String) -> Result<String, StoreError> {
        let c = council.to_owned();
        self.blocking(move |log| log.save_text(&c, &text)).await
    }

    /// The policy text kept under `sha256`, if there is one.
    pub async fn text(&self, council: &str, sha256: &str) -> Result<Option<String>, StoreError> {
        let (c, s) = (council.to_owned(), sha256.to_owned());
        self.blocking(move |log| log.text(&c, &s)).await
    }

    /// The text of `version` of `policy` and its SHA-256: the one it was
    /// published with (kept beside the log), or for the pack's own version
    /// the pack's text. None when the council never supplied it.
    pub async fn version_text(
        &self,
        council: &crate::council::Council,
        policy: &rules::pack::Policy,
        version: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let published = council.with_estate(|e| {
            e.policies.get(&policy.id).and_then(|p| {
                p.versions
                    .iter()
                    .rev()
                    .find(|v| v.version == version)
                    .map(|v| v.text_sha256.clone())
            })
        });
        match published {
            Some(Some(sha)) => Ok(self.text(&council.id, &sha).await?.map(|text| (text, sha))),
            // Approved without a text of its own (a record of the past): the
            // pack's text, if this is the version the pack was written for.
            _ if version == policy.version => Ok(policy
                .text
                .as_ref()
                .map(|t| (t.markdown.to_string(), store::text_sha256(&t.markdown)))),
            _ => Ok(None),
        }
    }

    /// Records events for a council on the blocking pool, each recorded now.
    /// What other nodes appended is followed first, under the store's
    /// lock, so the command is checked against the log as it will stand
    /// (`Council::record`).
    pub async fn record(
        &self,
        council: &Arc<Council>,
        events: Vec<domain::Event>,
    ) -> Result<crate::council::Recorded, crate::council::CommandError> {
        self.on_council(council, move |c, store, now| c.record(store, events, now))
            .await
    }

    /// Records a history (an uploaded export) for a council on the blocking
    /// pool: `Council::record_history`.
    pub async fn record_history(
        &self,
        council: &Arc<Council>,
        events: Vec<domain::Event>,
    ) -> Result<crate::council::Recorded, crate::council::CommandError> {
        self.on_council(council, move |c, store, now| {
            c.record_history(store, events, now)
        })
        .await
    }

    /// Runs a recording on the blocking pool, with the store and the time.
    async fn on_council(
        &self,
        council: &Arc<Council>,
        run: impl FnOnce(
            &Council,
            &store::Pool,
            jiff::Timestamp,
        ) -> Result<crate::council::Recorded, crate::council::CommandError>
        + Send
        + 'static,
    ) -> Result<crate::council::Recorded, crate::council::CommandError> {
        let council = council.clone();
        let store = self.store.clone();
        let now = self.now();
        tokio::task::spawn_blocking(move || run(&council, &store, now))
            .await
            .unwrap_or_else(|e| {
                Err(crate::council::CommandError::Store(
                    StoreError::Unavailable(format!("recording task failed: {e}")),
                ))
            })
    }
}

/// Keeps every council of the service current with its stored log, on a
/// thread of its own: woken by an append anywhere (PostgreSQL's
/// notifications), and in any case every second, so that a notification
/// missed while the connection was down costs at most a second. Ends when
/// the service does.
pub fn follow(state: &AppState) {
    let service: Weak<Shared> = Arc::downgrade(state);
    let mut listener = state.store.listener();
    let spawned = std::thread::Builder::new()
        .name("warden-follow".into())
        .spawn(move || {
            let second = std::time::Duration::from_secs(1);
            loop {
                match &mut listener {
                    Some(listener) => {
                        if let Err(e) = listener.wait(second) {
                            tracing::warn!(error = %e, "not hearing other nodes' appends; polling");
                            std::thread::sleep(second);
                        }
                    }
                    None => std::thread::sleep(second),
                }
                let Some(service) = service.upgrade() else {
                    return;
                };
                if let Err(e) = service.catch_up() {
                    tracing::warn!(error = %e, "could not catch up with the store");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start following the store");
    }
}
