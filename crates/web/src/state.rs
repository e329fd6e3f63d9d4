//! What every handler shares: the store, the councils, sessions, the
//! authoriser. Store calls block, so they go through [`Shared::blocking`].

use crate::accounts::Account;
use crate::authz::Authorizer;
use crate::council::{Council, SharedStore};
use crate::sessions::{Sessions, Throttle};
use std::collections::BTreeMap;
use std::sync::Arc;
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
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The service's time; tests set it.
    pub clock: crate::clock::Clock,
}

impl Shared {
    /// The time now, by the service's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    pub fn council(&self, id: &str) -> Option<Arc<Council>> {
        self.councils.get(id).cloned()
    }

    /// Runs a store call on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn store::EventLog) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut log = store.lock().unwrap_or_else(|p| p.into_inner());
            work(log.as_mut())
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Postgres(format!("store task failed: {e}"))))
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
        let json =
            serde_json::to_string(account).map_err(|e| StoreError::Postgres(e.to_string()))?;
        let (c, p) = (council.to_owned(), person.to_owned());
        self.blocking(move |log| log.save_account(&c, &p, &json))
            .await
    }

    /// Records events for a council on the blocking pool, each recorded now.
    pub async fn record(
        &self,
        council: &Arc<Council>,
        events: Vec<domain::Event>,
    ) -> Result<crate::council::Recorded, crate::council::CommandError> {
        let council = council.clone();
        let store = self.store.clone();
        let now = self.now();
        tokio::task::spawn_blocking(move || council.record(&store, events, now))
            .await
            .unwrap_or_else(|e| {
                Err(crate::council::CommandError::Store(StoreError::Postgres(
                    format!("command task failed: {e}"),
                )))
            })
    }
}
