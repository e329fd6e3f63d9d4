//! The device register: register, issue, return, report lost or stolen,
//! approve removal from the premises, dispose.

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, When, button, csrf, done, error_summary, optional, parse_local, record,
    record_then, refused, select, text_input, valid_id, when_input,
};
use crate::history::history;
use crate::layout::{
    Paged, any, filter, findings_table, not_found_page, success_banner, table_head, titled, when,
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use domain::estate::Device;
use domain::event::{
    DeviceDisposed, DeviceIssued, DeviceLost, DeviceRegistered, DeviceRemovalApproved,
    DeviceReturned,
};
use domain::{DeviceId, DeviceKind, DeviceOwner, EventKind, PersonId};
use jiff::civil::Date;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

fn state_of(d: &Device) -> String {
    if d.disposed.is_some() {
        "Disposed".into()
    } else if let Some(l) = &d.lost {
        if l.stolen {
            "Stolen".into()
        } else {
            "Lost".into()
        }
    } else if let Some(h) = &d.holder {
        format!("Issued to {h}")
    } else {
        "In store".into()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    device: String,
    kind: String,
    owner: String,
    acquired: String,
    make: String,
    model: String,
    serial: String,
    person: String,
    #[serde(flatten)]
    when: When,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    /// held, store, lost or disposed.
    state: String,
    kind: String,
    owner: String,
    page: usize,
    #[serde(skip_serializing)]
    recorded: String,
}

impl ListQuery {
    /// Whether a device is among those the filters ask for (`needle` is
    /// the search text, lower-cased).
    fn matches(&self, needle: &str, id: &domain::DeviceId, d: &domain::estate::Device) -> bool {
        let owner = match d.owner {
            DeviceOwner::Council => "council",
            DeviceOwner::Personal => "personal",
        };
        (needle.is_empty()
            || id.as_str().to_lowercase().contains(needle)
            || d.holder
                .as_ref()
                .is_some_and(|h| h.as_str().to_lowercase().contains(needle)))
            && (self.state.is_empty() || d.state() == self.state)
            && (self.kind.is_empty() || d.kind.as_str() == self.kind)
            && (self.owner.is_empty() || owner == self.owner)
    }
}

/// The devices the register's filters show, as CSV.
pub async fn register_csv(
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<ListQuery>,
) -> axum::response::Response {
    use crate::lists::List;
    let needle = q.q.trim().to_lowercase();
    let shown: std::collections::HashSet<String> = ctx.council.with_estate(|e| {
        e.devices
            .iter()
            .filter(|(id, d)| q.matches(&needle, id, d))
            .map(|(id, _)| id.to_string())
            .collect()
    });
    let rows: Vec<_> = crate::lists::devices(&ctx.council)
        .into_iter()
        .filter(|r| shown.contains(&r.id))
        .collect();
    crate::layout::csv_download(
        &ctx,
        List::Devices,
        reports::csv::records(List::Devices.fields(), &rows),
    )
}

fn register_page(
    ctx: &Ctx,
    state: &AppState,
    q: &ListQuery,
    form: &RegisterForm,
    errors: &Errors,
) -> Markup {
    let c = &ctx.council.id;
    let needle = q.q.trim().to_lowercase();
    let (rows, paged, kinds) = ctx.council.with_estate(|e| {
        let mut kinds: Vec<String> = e
            .devices
            .values()
            .map(|d| d.kind.as_str().to_owned())
            .collect();
        kinds.sort();
        kinds.dedup();
        let mut rows: Vec<(String, String, String, String)> = e
            .devices
            .iter()
            .filter(|(id, d)| q.matches(&needle, id, d))
            .map(|(id, d)| {
                let owner = match d.owner {
                    DeviceOwner::Council => "council",
                    DeviceOwner::Personal => "personal",
                };
                (
                    id.to_string(),
                    d.kind.as_str().to_owned(),
                    owner.to_owned(),
                    state_of(d),
                )
            })
            .collect();
        rows.sort();
        let paged = Paged::of(rows.len(), q.page);
        let rows: Vec<_> = rows.drain(paged.rows.clone()).collect();
        (rows, paged, kinds)
    });
    let owners = vec![
        ("council".to_string(), "Council".to_string()),
        (
            "personal".to_string(),
            "Personal (bring your own)".to_string(),
        ),
    ];
    titled(
        "Devices",
        ctx,
        state,
        html! {
            @if !q.recorded.is_empty() { (success_banner(crate::history::recorded_banner(&q.recorded))) }
            (error_summary(errors))
            @if ctx.may(state, Action::ImportRecords) {
                a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/imports")) { "Import from a file" }
            }
            form method="get" action=(format!("/c/{c}/devices")) role="search" {
                div class="govuk-form-group" {
                    label class="govuk-label" for="q" { "Search by device id or holder" }
                    input class="govuk-input govuk-!-width-one-half" id="q" name="q" type="search" value=(q.q);
                }
                div class="govuk-grid-row" {
                    (filter("state", "State", any([("held", "Issued"), ("store", "In store"), ("lost", "Lost or stolen"), ("disposed", "Disposed")]), &q.state))
                    (filter("kind", "Kind", any(kinds.iter().map(|k| (k.as_str(), k.as_str()))), &q.kind))
                    (filter("owner", "Owner", any([("council", "Council"), ("personal", "Personal")]), &q.owner))
                }
                button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Search" }
            }
            p class="govuk-body" id="matching" { (paged.summary("devices")) " match." }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Devices" }
                (table_head(&["Device", "Kind", "Owner", "State"], &[]))
                tbody class="govuk-table__body" {
                    @for (id, kind, owner, st) in &rows {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/devices/{id}")) { (id) } }
                            td class="govuk-table__cell" { (kind) }
                            td class="govuk-table__cell" { (owner) }
                            td class="govuk-table__cell" { (st) }
                        }
                    }
                }
            }
            (paged.links(|n| format!("/c/{c}/devices?{}", serde_html_form::to_string(&ListQuery { page: n, ..q.clone() }).unwrap_or_default())))
            p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/devices.csv?{}", serde_html_form::to_string(q).unwrap_or_default())) { "Download these devices as CSV" } }
            @if ctx.may(state, Action::ManageDevices) {
                h2 class="govuk-heading-m" id="register" { "Register a device" }
                form method="post" action=(format!("/c/{c}/devices")) novalidate {
                    (csrf(ctx))
                    (text_input("device", "Device id", &form.device, Some("For example the asset tag, LAP-0042"), errors))
                    (text_input("kind", "Kind", &form.kind, Some("laptop, tablet, smartphone, token, or another word"), errors))
                    (select("owner", "Owner", &owners, &form.owner, errors))
                    (text_input("acquired", "Date acquired", &form.acquired, Some("YYYY-MM-DD; the replacement clock counts from it"), errors))
                    (text_input("make", "Make", &form.make, Some("Optional, for example Dell"), errors))
                    (text_input("model", "Model", &form.model, Some("Optional, for example Latitude 5440"), errors))
                    (text_input("serial", "Serial number", &form.serial, Some("Optional: the manufacturer's, not the asset tag"), errors))
                    (text_input("person", "Issue to (person id)", &form.person, Some("Optional"), errors))
                    (when_input(ctx, "when", &form.when, "When was it registered (and issued)?", errors))
                    (button("Register the device"))
                }
            }
        },
    )
}

pub async fn register(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<ListQuery>,
) -> Markup {
    register_page(
        &ctx,
        &state,
        &q,
        &RegisterForm::default(),
        &Errors::default(),
    )
}

pub async fn add(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Form(form): Form<RegisterForm>,
) -> Response {
    let mut errors = Errors::default();
    let device = form.device.trim();
    if !valid_id(device) {
        errors.add(
            "device",
            "Enter a device id of letters, digits, hyphens, underscores or dots (at most 64)",
        );
    }
    let kind = form.kind.trim().to_lowercase();
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        errors.add(
            "kind",
            "Enter the kind in lower-case letters, for example laptop",
        );
    }
    let owner = match form.owner.as_str() {
        "council" => Some(DeviceOwner::Council),
        "personal" => Some(DeviceOwner::Personal),
        _ => {
            errors.add("owner", "Choose council or personal");
            None
        }
    };
    let acquired = match optional(&form.acquired) {
        None => None,
        Some(text) => match text.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add(
                    "acquired",
                    "Enter the date as YYYY-MM-DD, for example 2025-04-01",
                );
                None
            }
        },
    };
    let at = form.when.at(&ctx).unwrap_or_else(|message| {
        errors.add("when", message);
        ctx.now
    });
    let (Some(owner), true) = (owner, errors.is_empty()) else {
        return refused(register_page(
            &ctx,
            &state,
            &ListQuery::default(),
            &form,
            &errors,
        ));
    };
    let mut events = vec![ctx.event(
        at,
        EventKind::DeviceRegistered(DeviceRegistered {
            device: DeviceId::from(device),
            kind: DeviceKind(kind),
            owner,
            acquired,
            make: optional(&form.make),
            model: optional(&form.model),
            serial: optional(&form.serial),
        }),
    )];
    if let Some(person) = optional(&form.person) {
        events.push(ctx.event(
            at,
            EventKind::DeviceIssued(DeviceIssued {
                device: DeviceId::from(device),
                person: PersonId::from(person.as_str()),
            }),
        ));
    }
    match record(&state, &ctx, events, "device").await {
        Ok(_) => done(format!(
            "/c/{}/devices/{device}?recorded=device_registered",
            ctx.council.id
        )),
        Err(errors) => refused(register_page(
            &ctx,
            &state,
            &ListQuery::default(),
            &form,
            &errors,
        )),
    }
}

fn device_page(ctx: &Ctx, state: &AppState, id: &str, errors: &Errors, recorded: &str) -> Response {
    let c = &ctx.council.id;
    let Some(d) = ctx
        .council
        .with_estate(|e| e.devices.get(&DeviceId::from(id)).cloned())
    else {
        return not_found_page("No such device");
    };
    let view = ctx.council.view(ctx.now);
    let findings: Vec<&rules::Finding> = view
        .findings
        .iter()
        .filter(|f| f.concerns.device.as_deref() == Some(id))
        .collect();
    let manage = ctx.may(state, Action::ManageDevices);
    let no = Errors::default();
    let live = d.disposed.is_none();
    // The disposal as recorded: whether it was wiped, and its certificate.
    let disposal = ctx
        .council
        .history(&crate::council::Subject::Device(id.into()))
        .into_iter()
        .filter(|l| l.is_live())
        .find_map(|l| match l.event.kind {
            EventKind::DeviceDisposed(e) => Some((l.event.at, e)),
            _ => None,
        });
    titled(&format!("Device {id}"), ctx, state, html! {
        @if !recorded.is_empty() { (success_banner(crate::history::recorded_banner(recorded))) }
        @if recorded == "device_lost" {
            div class="govuk-inset-text" id="report-incident" {
                "If it held council or personal data, or could reach council systems, "
                a class="govuk-link" href=(format!("/c/{c}/incidents/new")) { "report it as an incident" }
                " too."
            }
        }
        (error_summary(errors))
        dl class="govuk-summary-list" {
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Kind" } dd class="govuk-summary-list__value" { (d.kind.as_str()) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "State" } dd class="govuk-summary-list__value" { (state_of(&d)) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Acquired" } dd class="govuk-summary-list__value" { (d.acquired.map(|a| a.to_string()).unwrap_or_else(|| "Not recorded".into())) } }
            @if let Some(details) = &d.details {
                @for (key, value) in [("Make", &details.make), ("Model", &details.model), ("Serial number", &details.serial)] {
                    @if let Some(value) = value {
                        div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { (key) } dd class="govuk-summary-list__value" { (value) } }
                    }
                }
            }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Registered" } dd class="govuk-summary-list__value" { (when(ctx, d.registered)) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Removal approved by" } dd class="govuk-summary-list__value" { (d.removal_approved_by.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")) } }
            @if let Some((at, disposal)) = &disposal {
                div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Disposed of" } dd class="govuk-summary-list__value" id="disposal" {
                    (when(ctx, *at)) ", "
                    @if disposal.wiped { "wiped" } @else { strong { "not wiped" } }
                    @if let Some(certificate) = &disposal.certificate { "; certificate " (certificate) }
                } }
            }
        }
        @if manage && live && d.holder.is_some() {
            h2 class="govuk-heading-m" { "Return" }
            form method="post" action=(format!("/c/{c}/devices/{id}/return")) novalidate {
                (csrf(ctx))
                (when_input(ctx, "return-when", &When::default(), "When was it handed back?", errors))
                (button("Record returned"))
            }
        }
        @if ctx.may(state, Action::ApproveRemoval) && live {
            h2 class="govuk-heading-m" { "Removal from the premises" }
            form method="post" action=(format!("/c/{c}/devices/{id}/removal")) novalidate {
                (csrf(ctx))
                (select("approved_by", "Approved by", &removal_approvers(ctx), ctx.user.person.as_str(), errors))
                (when_input(ctx, "removal-when", &When::default(), "When was the removal approved?", errors))
                button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Approve removal from the premises" }
            }
        }
        @if manage && live && d.holder.is_none() && d.lost.is_none() {
            h2 class="govuk-heading-m" { "Issue" }
            form method="post" action=(format!("/c/{c}/devices/{id}/issue")) novalidate {
                (csrf(ctx))
                (text_input("person", "Issue to (person id)", "", None, errors))
                (when_input(ctx, "issue-when", &When::default(), "When was it issued?", errors))
                (button("Issue the device"))
            }
        }
        @if manage && live && d.lost.is_none() {
            h2 class="govuk-heading-m" { "Report lost or stolen" }
            form method="post" action=(format!("/c/{c}/devices/{id}/lost")) novalidate {
                (csrf(ctx))
                (text_input("discovered", "When the loss was discovered", "", Some("YYYY-MM-DD HH:MM, council time; leave blank for now"), errors))
                (when_input(ctx, "lost-when", &When::default(), "When was the loss reported?", errors))
                div class="govuk-checkboxes govuk-!-margin-bottom-4" data-module="govuk-checkboxes" {
                    div class="govuk-checkboxes__item" {
                        input class="govuk-checkboxes__input" id="stolen" name="stolen" type="checkbox" value="yes";
                        label class="govuk-label govuk-checkboxes__label" for="stolen" { "It was stolen" }
                    }
                }
                (button("Record the loss"))
            }
        }
        @if manage && live && d.holder.is_none() {
            h2 class="govuk-heading-m" { "Dispose" }
            form method="post" action=(format!("/c/{c}/devices/{id}/dispose")) novalidate {
                (csrf(ctx))
                div class="govuk-checkboxes govuk-!-margin-bottom-4" data-module="govuk-checkboxes" {
                    div class="govuk-checkboxes__item" {
                        input class="govuk-checkboxes__input" id="wiped" name="wiped" type="checkbox" value="yes";
                        label class="govuk-label govuk-checkboxes__label" for="wiped" { "Its data was wiped" }
                    }
                }
                (text_input("certificate", "Disposal certificate", "", Some("Optional: the WEEE or data destruction certificate number"), &no))
                (when_input(ctx, "dispose-when", &When::default(), "When was it disposed of?", errors))
                (button("Record disposal"))
            }
        }
        (findings_table(ctx, &findings, "Findings about this device"))
        (history(ctx, state, &crate::council::Subject::Device(id.into())))
    })
    .into_response()
}

crate::forms::subject_page!(device => device_page);

/// Records one event about a device, done at the time the form's `when`
/// fields give (shown on the form `form`, e.g. `issue-when`), and shows the
/// device (or the leaver checklist it came from) again.
async fn command(
    state: AppState,
    ctx: Ctx,
    id: String,
    kind: EventKind,
    field: &str,
    back: Option<String>,
    when: At<'_>,
) -> Response {
    // From a leaver's checklist, back to it; otherwise to the device.
    let next = match back {
        Some(person) => format!("people/{person}/leave"),
        None => format!("devices/{id}"),
    };
    record_then(&state, &ctx, (kind, field, when), &next, |errors| {
        device_page(&ctx, &state, &id, errors, "")
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PersonField {
    person: String,
    back: String,
    #[serde(flatten)]
    when: When,
}

pub async fn issue(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<PersonField>,
) -> Response {
    if f.person.trim().is_empty() {
        let errors = Errors::one("person", "Enter the id of the person to issue it to");
        return refused(device_page(&ctx, &state, &id, &errors, ""));
    }
    let kind = EventKind::DeviceIssued(DeviceIssued {
        device: DeviceId::from(id.as_str()),
        person: PersonId::from(f.person.trim()),
    });
    let at = At::Form(&f.when, "issue-when");
    command(state, ctx, id, kind, "person", None, at).await
}

pub async fn give_back(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<PersonField>,
) -> Response {
    let holder = ctx.council.with_estate(|e| {
        e.devices
            .get(&DeviceId::from(id.as_str()))
            .and_then(|d| d.holder.clone())
    });
    let kind = EventKind::DeviceReturned(DeviceReturned {
        device: DeviceId::from(id.as_str()),
        person: optional(&f.person)
            .map(|p| PersonId::from(p.as_str()))
            .or(holder),
    });
    let back = (f.back == "checklist").then(|| f.person.trim().to_owned());
    let at = At::Form(&f.when, "return-when");
    command(state, ctx, id, kind, "device", back, at).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LostForm {
    discovered: String,
    stolen: String,
    #[serde(flatten)]
    when: When,
}

pub async fn lost(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<LostForm>,
) -> Response {
    let now = ctx.now;
    let discovered = match parse_local(&ctx, &f.discovered, now) {
        Ok(t) => t,
        Err(message) => {
            let errors = Errors::one("discovered", message);
            return refused(device_page(&ctx, &state, &id, &errors, ""));
        }
    };
    let kind = EventKind::DeviceLost(DeviceLost {
        device: DeviceId::from(id.as_str()),
        discovered,
        stolen: f.stolen == "yes",
    });
    let at = At::Form(&f.when, "lost-when");
    command(state, ctx, id, kind, "discovered", None, at).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemovalForm {
    approved_by: String,
    #[serde(flatten)]
    when: When,
}

/// Who may be named as approving a removal: the person recording it, and
/// everyone present holding a role the pack's permission for removals
/// names (Leighton-Linslade: the Town Clerk or a Head of Service).
fn removal_approvers(ctx: &Ctx) -> Vec<(String, String)> {
    let roles: Vec<domain::Role> = ctx
        .council
        .pack
        .rules
        .iter()
        .filter_map(|rule| match &rule.kind {
            rules::pack::RuleKind::Permission(p)
                if p.on.event == domain::EventType::DeviceRemovalApproved =>
            {
                Some(p.roles.clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    let me = (
        ctx.user.person.to_string(),
        format!("{} (me)", ctx.user.name),
    );
    let mut others: Vec<(String, String)> = ctx.council.with_estate(|e| {
        e.people
            .iter()
            .filter(|(id, p)| {
                p.is_present()
                    && **id != ctx.user.person
                    && roles.iter().any(|r| p.roles.contains(r))
            })
            .map(|(id, p)| (id.to_string(), format!("{} ({id})", p.name)))
            .collect()
    });
    others.sort();
    std::iter::once(me).chain(others).collect()
}

/// Records a removal approved by the person the form names (the recorder
/// by default): the pack's permission decides whether they may approve it.
pub async fn removal(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<RemovalForm>,
) -> Response {
    let approved_by = optional(&form.approved_by)
        .map(|p| PersonId::from(p.as_str()))
        .unwrap_or_else(|| ctx.user.person.clone());
    let kind = EventKind::DeviceRemovalApproved(DeviceRemovalApproved {
        device: DeviceId::from(id.as_str()),
        approved_by,
    });
    let at = At::Form(&form.when, "removal-when");
    command(state, ctx, id, kind, "approved_by", None, at).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DisposeForm {
    wiped: String,
    certificate: String,
    #[serde(flatten)]
    when: When,
}

pub async fn dispose(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<DisposeForm>,
) -> Response {
    let kind = EventKind::DeviceDisposed(DeviceDisposed {
        device: DeviceId::from(id.as_str()),
        wiped: f.wiped == "yes",
        certificate: optional(&f.certificate),
    });
    let at = At::Form(&f.when, "dispose-when");
    command(state, ctx, id, kind, "device", None, at).await
}
