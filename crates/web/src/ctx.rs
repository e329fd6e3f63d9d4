//! What a guarded handler knows about the request: who, which council,
//! when. Set by the guards (`guards.rs`), read by every page and API call.

use crate::authz::{Action, User};
use crate::council::Council;
use crate::state::AppState;
use jiff::Timestamp;
use std::sync::Arc;

/// What a guarded handler knows about the request.
#[derive(Clone)]
pub struct Ctx {
    pub user: User,
    pub council: Arc<Council>,
    pub csrf: String,
    pub session: Option<String>,
    /// The time of the request, by the service's clock: what a form records
    /// as "now" and the findings are as of.
    pub now: Timestamp,
}

impl Ctx {
    /// An event the signed-in person did or records, that happened at `at`.
    pub fn event(&self, at: Timestamp, kind: domain::EventKind) -> domain::Event {
        domain::Event {
            by: Some(self.user.person.clone()),
            ..domain::Event::new(at, kind)
        }
    }

    /// The council's policy with this id (from a path), if its pack
    /// declares one.
    pub fn policy(&self, id: &str) -> Option<rules::pack::Policy> {
        self.council
            .pack
            .policy(&domain::PolicyId::from(id))
            .cloned()
    }

    /// Whether the user may also take `action` (to show or hide a button).
    pub fn may(&self, state: &AppState, action: Action) -> bool {
        state.authz.allows(&self.user, action, &self.council.id)
    }
}
