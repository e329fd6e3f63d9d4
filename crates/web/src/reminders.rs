//! Reminders from the service: a council as the `notify::Outbox` a
//! reminder run works through (its findings, what its people have been
//! told, the one way in), the schedule `warden serve` runs them on, and the
//! calendar feeds people subscribe to with a token of their own.

use crate::accounts::{Scope, sha256_hex};
use crate::authz::Action;
use crate::council::Council;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{Event, PersonId};
use jiff::Timestamp;
use notify::{Outbox, Pending};
use rules::PolicyPack;
use rules::reminders::Plan;
use std::sync::{Arc, Weak};

/// A council and the store it records to.
pub struct CouncilOutbox<'a> {
    pub council: &'a Council,
    pub store: &'a store::Pool,
}

impl Outbox for CouncilOutbox<'_> {
    fn council(&self) -> &str {
        &self.council.id
    }

    fn pack(&self) -> &PolicyPack {
        self.council.pack
    }

    fn plan(&self, at: Timestamp) -> Plan {
        // The service's cached view when `at` is now (the schedule); an
        // earlier instant (`remind --at`) is evaluated again from the log.
        let live = self.council.view(at);
        let plan = |findings: &[rules::Finding]| {
            self.council.with_estate(|estate| {
                rules::reminders::plan(self.council.pack, estate, findings, at)
            })
        };
        if live.at == at {
            plan(&live.findings)
        } else {
            plan(&self.council.view_as_known(at, None).findings)
        }
    }

    fn pending(&self) -> Vec<Pending> {
        let waiting: Vec<(PersonId, domain::EventId)> = self.council.with_estate(|estate| {
            estate
                .people
                .iter()
                .flat_map(|(person, p)| {
                    p.reminders_pending
                        .keys()
                        .map(move |id| (person.clone(), id.clone()))
                })
                .collect()
        });
        waiting
            .into_iter()
            .filter_map(|(person, id)| {
                let reference = domain::EventRef::Id(id.clone());
                let recorded = self.council.with_ledger(|l| {
                    l.find(&reference)
                        .map(|logged| logged.event.recorded_or_at())
                })?;
                Some(Pending {
                    person,
                    id,
                    recorded,
                })
            })
            .collect()
    }

    fn record(&self, events: Vec<Event>, now: Timestamp) -> Result<(), Vec<String>> {
        self.council
            .record(self.store, events, now)
            .map(|_| ())
            .map_err(|e| match e {
                crate::council::CommandError::Refused(reasons) => {
                    reasons.into_iter().map(|r| r.message).collect()
                }
                other => vec![other.to_string()],
            })
    }
}

/// Runs every council's reminders every `every`, on a thread of its own,
/// until the service ends. Each run decides through the log, so several
/// nodes may run the schedule at once.
pub fn schedule(state: &AppState, mail: notify::Mail, every: std::time::Duration) {
    let service: Weak<crate::state::Shared> = Arc::downgrade(state);
    let spawned = std::thread::Builder::new()
        .name("warden-remind".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(service) = service.upgrade() else {
                    return;
                };
                for council in service.councils.values() {
                    let outbox = CouncilOutbox {
                        council,
                        store: &service.store,
                    };
                    let clock = || service.now();
                    let report =
                        notify::remind(&outbox, notify::Sending::Mail(&mail), clock(), &clock);
                    log_report(&council.id, &report);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the reminder schedule");
    }
}

fn log_report(council: &str, report: &notify::Report) {
    if !report.sent.is_empty() || !report.failed.is_empty() || report.abandoned > 0 {
        tracing::info!(
            council,
            sent = report.sent.len(),
            failed = report.failed.len(),
            taken_by_another = report.taken,
            abandoned = report.abandoned,
            "reminders"
        );
    }
    for (person, why) in &report.failed {
        tracing::warn!(council, %person, reason = %why, "a reminder could not be sent");
    }
    for why in &report.unrecorded {
        tracing::error!(council, reason = %why, "a reminder's outcome could not be recorded");
    }
}

/// `/feeds/{council}/{person}/{token}/{file}`: `mine.ics` (the holder's
/// own deadlines) or `council.ics` (every open deadline, for those allowed
/// to see every finding). The token is a calendar token of the person's
/// (made on their API tokens page, revoked there); anything else is 404,
/// so a feed's address says nothing to someone guessing.
pub async fn feed(
    State(state): State<AppState>,
    Path((council, person, token, file)): Path<(String, String, String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let missing = || (StatusCode::NOT_FOUND, "no such calendar\n").into_response();
    let Some(c) = state.council(&council) else {
        return missing();
    };
    let Ok(Some(account)) = state.account(&council, &person).await else {
        return missing();
    };
    let digest = sha256_hex(&token);
    let valid = !account.is_disabled()
        && account
            .tokens
            .iter()
            .any(|t| t.scope == Scope::Calendar && t.revoked.is_none() && t.sha256 == digest);
    if !valid {
        return missing();
    }
    let id = PersonId::from(person.as_str());
    let whole_council = match file.as_str() {
        "mine.ics" => false,
        "council.ics" => true,
        _ => return missing(),
    };
    let Some(user) = crate::guards::user_of(&c, &id) else {
        return missing();
    };
    if whole_council && !state.authz.allows(&user, Action::ViewFindings, &c.id) {
        return missing();
    }
    let link = state.link_for(&headers);
    let now = state.now();
    let view = c.view(now);
    let findings: Vec<rules::Finding> = if whole_council {
        view.findings.clone()
    } else {
        view.about(id.as_str()).cloned().collect()
    };
    let name = c.with_estate(|e| e.people.get(&id).map(|p| p.name.clone()));
    let feed = notify::calendar::Feed {
        pack: c.pack,
        council: &c.id,
        link: &link,
        name: match (whole_council, name) {
            (true, _) => format!("Warden: {}", c.pack.council),
            (false, Some(n)) => format!("Warden: {n}"),
            (false, None) => "Warden".to_owned(),
        },
        made: now,
    };
    let body = notify::calendar::ics(&feed, &findings);
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}
