//! The pages: server-rendered HTML in the GOV.UK Frontend style, each
//! usable without JavaScript (htmx only boosts links and the people search).
//! Handlers turn forms into domain events and hand them to
//! `Council::record`; a refusal comes back next to its field and nothing is
//! written.

mod devices;
pub mod events;
mod incidents;
mod me;
mod people;
mod policies;
mod registers;
mod signin;

use crate::authz::{Action, User};
use crate::council::{CommandError, Reason};
use crate::routes::{Ctx, Routes};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rules::{Finding, Status};
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    use Action::*;
    let r = signin::routes(r);
    r.get("/c/{council}", ViewRegisters, registers::dashboard)
        .get("/c/{council}/people", ViewRegisters, registers::people)
        .get(
            "/c/{council}/people/{person}",
            ViewRegisters,
            registers::person,
        )
        .get("/c/{council}/findings", ViewFindings, registers::findings)
        .get("/c/{council}/starters", ManagePeople, people::starter_form)
        .post("/c/{council}/starters", ManagePeople, people::starter)
        .post(
            "/c/{council}/people/{person}/move",
            ManagePeople,
            people::mover,
        )
        .get(
            "/c/{council}/people/{person}/leave",
            ManagePeople,
            people::leaver_form,
        )
        .post(
            "/c/{council}/people/{person}/leave",
            ManagePeople,
            people::leaver,
        )
        .post(
            "/c/{council}/people/{person}/access/revoke",
            ManageAccess,
            people::revoke_access,
        )
        .post(
            "/c/{council}/people/{person}/access/grant",
            ManageAccess,
            people::grant_access,
        )
        .post(
            "/c/{council}/people/{person}/account",
            ManageAccounts,
            people::set_up_account,
        )
        .get("/c/{council}/devices", ViewRegisters, devices::register)
        .post("/c/{council}/devices", ManageDevices, devices::add)
        .get(
            "/c/{council}/devices/{device}",
            ViewRegisters,
            devices::device,
        )
        .post(
            "/c/{council}/devices/{device}/issue",
            ManageDevices,
            devices::issue,
        )
        .post(
            "/c/{council}/devices/{device}/return",
            ManageDevices,
            devices::give_back,
        )
        .post(
            "/c/{council}/devices/{device}/lost",
            ManageDevices,
            devices::lost,
        )
        .post(
            "/c/{council}/devices/{device}/removal",
            ApproveRemoval,
            devices::removal,
        )
        .post(
            "/c/{council}/devices/{device}/dispose",
            ManageDevices,
            devices::dispose,
        )
        .get("/c/{council}/events/{event}", ViewRegisters, events::event)
        .post(
            "/c/{council}/events/{event}/correct",
            CorrectRecords,
            events::correct,
        )
        .get("/c/{council}/policies", ViewRegisters, policies::list)
        .get(
            "/c/{council}/policies/{policy}",
            ViewRegisters,
            policies::policy,
        )
        .post(
            "/c/{council}/policies/{policy}/publish",
            ManagePolicies,
            policies::publish,
        )
        .post(
            "/c/{council}/policies/{policy}/review",
            ManagePolicies,
            policies::review,
        )
        .get("/c/{council}/incidents", ViewRegisters, incidents::list)
        .get(
            "/c/{council}/incidents/new",
            ReportIncident,
            incidents::report_form,
        )
        .post(
            "/c/{council}/incidents/new",
            ReportIncident,
            incidents::report,
        )
        .get(
            "/c/{council}/incidents/{incident}",
            ViewRegisters,
            incidents::incident,
        )
        .post(
            "/c/{council}/incidents/{incident}/assess",
            AssessIncident,
            incidents::assess,
        )
        .post(
            "/c/{council}/incidents/{incident}/notify",
            HandleIncident,
            incidents::notify,
        )
        .post(
            "/c/{council}/incidents/{incident}/close",
            HandleIncident,
            incidents::close,
        )
        .get("/c/{council}/me", SelfService, me::home)
        .get(
            "/c/{council}/me/policies/{policy}",
            SelfService,
            me::policy_form,
        )
        .post("/c/{council}/me/policies/{policy}", SelfService, me::accept)
        .get("/c/{council}/me/lost", SelfService, me::lost_form)
        .post("/c/{council}/me/lost", SelfService, me::lost)
        .get("/c/{council}/me/broadband", SelfService, me::broadband_form)
        .post("/c/{council}/me/broadband", SelfService, me::broadband)
        .get("/c/{council}/me/password", SelfService, me::password_form)
        .post("/c/{council}/me/password", SelfService, me::password)
        .get("/c/{council}/me/tokens", SelfService, me::tokens)
        .post("/c/{council}/me/tokens", SelfService, me::new_token)
        .post(
            "/c/{council}/me/tokens/{token}/revoke",
            SelfService,
            me::revoke_token,
        )
}

/// A page in the service's frame. `ctx` is None before sign-in.
pub fn page(title: &str, ctx: Option<&Ctx>, state: Option<&AppState>, body: Markup) -> Markup {
    let nav: Vec<(&str, String)> = match (ctx, state) {
        (Some(ctx), Some(state)) => {
            let c = &ctx.council.id;
            let mut items = Vec::new();
            if ctx.may(state, Action::ViewRegisters) {
                items.push(("Dashboard", format!("/c/{c}")));
                items.push(("People", format!("/c/{c}/people")));
                items.push(("Devices", format!("/c/{c}/devices")));
                items.push(("Policies", format!("/c/{c}/policies")));
                items.push(("Incidents", format!("/c/{c}/incidents")));
                items.push(("Findings", format!("/c/{c}/findings")));
            }
            items.push(("My Warden", format!("/c/{c}/me")));
            items
        }
        _ => Vec::new(),
    };
    html! {
        (DOCTYPE)
        html lang="en" class="govuk-template" {
            head {
                meta charset="utf-8";
                title { (title) " – Warden" }
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="stylesheet" href="/assets/govuk-frontend.min.css";
                link rel="stylesheet" href="/assets/warden.css";
                // htmx swaps refused forms (422) and error pages too, and adds no inline styles.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;
            }
            body class="govuk-template__body" hx-boost="true" {
                a href="#main-content" class="govuk-skip-link" data-module="govuk-skip-link" { "Skip to main content" }
                header class="govuk-header" data-module="govuk-header" {
                    div class="govuk-header__container govuk-width-container" {
                        div class="govuk-header__logo" {
                            a href="/" class="govuk-header__link govuk-header__link--homepage" {
                                span class="govuk-header__logotype-text" { "Warden" }
                            }
                        }
                        @if let Some(ctx) = ctx {
                            div class="govuk-header__content" {
                                span class="govuk-header__service-name" { (ctx.council.pack.council) }
                            }
                        }
                    }
                }
                @if let Some(ctx) = ctx {
                    nav class="govuk-service-navigation" aria-label="Menu" data-module="govuk-service-navigation" {
                        div class="govuk-width-container" {
                            div class="govuk-service-navigation__container" {
                                ul class="govuk-service-navigation__list" id="navigation" {
                                    @for (label, href) in &nav {
                                        li class="govuk-service-navigation__item" {
                                            a class="govuk-service-navigation__link" href=(href) { (label) }
                                        }
                                    }
                                    li class="govuk-service-navigation__item" {
                                        form method="post" action="/sign-out" class="warden-inline" {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            button class="govuk-service-navigation__link warden-link-button" { "Sign out " (ctx.user.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="govuk-width-container" {
                    main class="govuk-main-wrapper" id="main-content" {
                        (body)
                    }
                }
                footer class="govuk-footer" {
                    div class="govuk-width-container" {
                        p class="govuk-body-s" {
                            "Warden runs the council's ICT security policies as software. Every finding names the clause that requires it."
                        }
                    }
                }
                script src="/assets/htmx.min.js" {}
                script type="module" src="/assets/govuk-frontend.min.js" {}
                script type="module" src="/assets/init.js" {}
            }
        }
    }
}

/// A page with a heading, in the frame.
pub fn titled(title: &str, ctx: &Ctx, state: &AppState, body: Markup) -> Markup {
    page(
        title,
        Some(ctx),
        Some(state),
        html! { h1 class="govuk-heading-l" { (title) } (body) },
    )
}

pub fn forbidden(user: &User) -> (StatusCode, Markup) {
    let body = html! {
        h1 class="govuk-heading-l" { "You do not have permission to do that" }
        p class="govuk-body" { "Signed in as " (user.name) ". If you need this, ask your ICT administrator." }
        p class="govuk-body" { a class="govuk-link" href=(format!("/c/{}/me", user.council)) { "Go to My Warden" } }
    };
    (StatusCode::FORBIDDEN, page("Forbidden", None, None, body))
}

pub fn csrf_refused() -> (StatusCode, Markup) {
    let body = html! {
        h1 class="govuk-heading-l" { "This form has expired" }
        p class="govuk-body" { "Nothing was recorded. Go back, reload the page and try again." }
    };
    (
        StatusCode::FORBIDDEN,
        page("Form expired", None, None, body),
    )
}

pub async fn not_found() -> (StatusCode, Markup) {
    (StatusCode::NOT_FOUND, missing("Page not found"))
}

pub fn missing(what: &str) -> Markup {
    page(
        what,
        None,
        None,
        html! {
            h1 class="govuk-heading-l" { (what) }
            p class="govuk-body" { "Check the address, or " a class="govuk-link" href="/" { "start again" } "." }
        },
    )
}

pub fn not_found_page(what: &str) -> Response {
    (StatusCode::NOT_FOUND, missing(what)).into_response()
}

/// Errors of a form, by field, in the order they are to be shown.
#[derive(Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    /// The errors with those of field `from` moved to field `to` (the "when"
    /// of a command onto the form on the page that sent it).
    pub fn renamed(mut self, from: &str, to: &str) -> Errors {
        for (field, _) in &mut self.0 {
            if field == from {
                *field = to.to_owned();
            }
        }
        self
    }

    /// A refused command's reasons, each on its field (or on `fallback`).
    pub fn from_command(e: CommandError, fallback: &str) -> Errors {
        let mut errors = Errors::default();
        match e {
            CommandError::Refused(reasons) => {
                for Reason { field, message } in reasons {
                    errors.add(field.unwrap_or(fallback), message);
                }
            }
            CommandError::Store(e) => {
                tracing::error!(error = %e, "store failed during a command");
                crate::ops::store_failed();
                errors.add(
                    fallback,
                    "Warden could not save this just now. Nothing was recorded; try again.",
                );
            }
        }
        errors
    }
}

/// The GOV.UK error summary: shown at the top of a form that was refused.
pub fn error_summary(errors: &Errors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="govuk-error-summary" data-module="govuk-error-summary" {
                div role="alert" {
                    h2 class="govuk-error-summary__title" { "There is a problem" }
                    div class="govuk-error-summary__body" {
                        ul class="govuk-list govuk-error-summary__list" {
                            @for (field, message) in &errors.0 {
                                li { a href=(format!("#{field}")) { (message) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A labelled text input with its hint and error.
pub fn text_input(
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    errors: &Errors,
) -> Markup {
    field(name, label, hint, errors, |described, has_error| {
        html! {
            input class={ "govuk-input" @if has_error { " govuk-input--error" } } id=(name) name=(name) type="text"
                value=(value) aria-describedby=[described];
        }
    })
}

pub fn password_input(name: &str, label: &str, autocomplete: &str, errors: &Errors) -> Markup {
    field(name, label, None, errors, |described, has_error| {
        html! {
            input class={ "govuk-input govuk-!-width-one-half" @if has_error { " govuk-input--error" } } id=(name) name=(name)
                type="password" autocomplete=(autocomplete) aria-describedby=[described];
        }
    })
}

pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    field(name, label, None, errors, |described, has_error| {
        html! {
            select class={ "govuk-select" @if has_error { " govuk-select--error" } } id=(name) name=(name) aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[value == chosen] { (text) }
                }
            }
        }
    })
}

fn field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    errors: &Errors,
    control: impl FnOnce(Option<String>, bool) -> Markup,
) -> Markup {
    let error = errors.of(name);
    let mut described = Vec::new();
    if hint.is_some() {
        described.push(format!("{name}-hint"));
    }
    if error.is_some() {
        described.push(format!("{name}-error"));
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            label class="govuk-label" for=(name) { (label) }
            @if let Some(hint) = hint { div class="govuk-hint" id=(format!("{name}-hint")) { (hint) } }
            @if let Some(error) = error {
                p class="govuk-error-message" id=(format!("{name}-error")) {
                    span class="govuk-visually-hidden" { "Error: " } (error)
                }
            }
            (control(described, error.is_some()))
        }
    }
}

pub fn button(text: &str) -> Markup {
    html! { button type="submit" class="govuk-button" data-module="govuk-button" { (text) } }
}

/// A one-button form that records something (a checklist item, say).
pub fn action_button(
    ctx: &Ctx,
    action: &str,
    text: &str,
    fields: &[(&str, &str)],
    secondary: bool,
) -> Markup {
    html! {
        form method="post" action=(action) class="warden-inline" {
            (csrf(ctx))
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" class={ "govuk-button govuk-!-margin-bottom-0" @if secondary { " govuk-button--secondary" } } data-module="govuk-button" { (text) }
        }
    }
}

pub fn status_tag(status: Status) -> Markup {
    let colour = match status {
        Status::Overdue | Status::Violated => "govuk-tag--red",
        Status::Open => "govuk-tag--blue",
        Status::Late => "govuk-tag--orange",
        Status::Met => "govuk-tag--green",
    };
    html! { strong class=(format!("govuk-tag {colour}")) { (status.name()) } }
}

/// A timestamp as the council reads it, in the pack's time zone.
pub fn when(ctx: &Ctx, at: Timestamp) -> String {
    at.to_zoned(ctx.council.pack.time_zone.clone())
        .strftime("%-d %b %Y %H:%M")
        .to_string()
}

pub fn success_banner(text: &str) -> Markup {
    html! {
        div class="govuk-notification-banner govuk-notification-banner--success" role="alert"
            aria-labelledby="banner-title" data-module="govuk-notification-banner" {
            div class="govuk-notification-banner__header" {
                h2 class="govuk-notification-banner__title" id="banner-title" { "Success" }
            }
            div class="govuk-notification-banner__content" {
                p class="govuk-notification-banner__heading" { (text) }
            }
        }
    }
}

/// The findings table: status, rule and clause, who or what, due, detail.
pub fn findings_table(ctx: &Ctx, findings: &[&Finding], caption: &str) -> Markup {
    let c = &ctx.council.id;
    html! {
        table class="govuk-table" {
            caption class="govuk-table__caption govuk-table__caption--m" { (caption) }
            thead class="govuk-table__head" {
                tr class="govuk-table__row" {
                    th scope="col" class="govuk-table__header" { "Status" }
                    th scope="col" class="govuk-table__header" { "Rule and clause" }
                    th scope="col" class="govuk-table__header" { "About" }
                    th scope="col" class="govuk-table__header" { "Due" }
                    th scope="col" class="govuk-table__header" { "What happened" }
                }
            }
            tbody class="govuk-table__body" {
                @for f in findings {
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { (status_tag(f.status)) }
                        td class="govuk-table__cell" {
                            span class="govuk-body-s govuk-!-font-weight-bold" { (f.rule) }
                            br;
                            span class="govuk-body-s" { (f.cite) }
                        }
                        td class="govuk-table__cell" {
                            @if let Some(p) = &f.concerns.person {
                                a class="govuk-link" href=(format!("/c/{c}/people/{p}")) { (p) } " "
                            }
                            @if let Some(d) = &f.concerns.device {
                                a class="govuk-link" href=(format!("/c/{c}/devices/{d}")) { (d) } " "
                            }
                            @if let Some(i) = &f.concerns.incident {
                                a class="govuk-link" href=(format!("/c/{c}/incidents/{i}")) { (i) } " "
                            }
                            @if let Some(p) = &f.concerns.policy { (p) " " }
                            @if let Some(r) = &f.concerns.resource { (r) }
                        }
                        td class="govuk-table__cell" { @if let Some(due) = f.due { (when(ctx, due)) } }
                        td class="govuk-table__cell govuk-body-s" {
                            (f.sentence())
                            @if f.events.seqs().next().is_some() {
                                br;
                                "Events: "
                                @for (i, seq) in f.events.seqs().enumerate() {
                                    @if i > 0 { ", " }
                                    (event_link(ctx, seq))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A link to an event's page, named as the log names it (its own id, or #SEQ).
pub fn event_link(ctx: &Ctx, seq: domain::Seq) -> Markup {
    let name = ctx
        .council
        .with_ledger(|l| l.get(seq).map(|e| e.reference().to_string()))
        .unwrap_or_else(|| format!("#{seq}"));
    html! { a class="govuk-link" href=(format!("/c/{}/events/{seq}", ctx.council.id)) { (name) } }
}

/// Where a successful form goes next (POST, redirect, GET).
pub fn done(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// `?recorded=EVENT_TYPE`: what the form before the redirect recorded, for
/// the success banner.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Recorded {
    pub recorded: String,
}

/// Records one event the signed-in person did (or records), at the time a
/// form's "when" fields give (`when`, shown on the page as the fields named
/// `form`). On success, the event type's name (for `?recorded=`); on
/// refusal, the reasons as form errors, `field` taking those that name no
/// field and `form` those about the time.
pub async fn record_one(
    state: &AppState,
    ctx: &Ctx,
    kind: domain::EventKind,
    field: &str,
    (when, form): (&When, &str),
) -> Result<&'static str, Errors> {
    let name = kind.event_type().name();
    let at = when.at(ctx).map_err(|message| {
        let mut errors = Errors::default();
        errors.add(form, message);
        errors
    })?;
    let event = ctx.event(at, kind);
    match state.record(&ctx.council, vec![event]).await {
        Ok(_) => Ok(name),
        Err(e) => Err(Errors::from_command(e, field).renamed("when", form)),
    }
}

impl Ctx {
    /// An event the signed-in person did or records, that happened at `at`.
    pub fn event(&self, at: Timestamp, kind: domain::EventKind) -> domain::Event {
        domain::Event {
            by: Some(self.user.person.clone()),
            ..domain::Event::new(at, kind)
        }
    }
}

/// A form's "when did this happen" fields: a date and a time in the
/// council's time zone, filled in with now. Left as they were shown, they
/// mean the moment the form is sent.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct When {
    pub when_date: String,
    pub when_time: String,
    /// What the fields were filled in with, "DATE TIME".
    pub when_default: String,
}

impl When {
    /// The instant the fields name; an error for the `when` field if they
    /// name none, or one in the future.
    pub fn at(&self, ctx: &Ctx) -> Result<Timestamp, String> {
        let (date, time) = (self.when_date.trim(), self.when_time.trim());
        let shown = format!("{date} {time}");
        if (date.is_empty() && time.is_empty()) || shown == self.when_default {
            return Ok(ctx.now);
        }
        let date: jiff::civil::Date = date
            .parse()
            .map_err(|_| "Enter the date it happened, for example 2026-11-27".to_owned())?;
        let time: jiff::civil::Time = if time.is_empty() {
            jiff::civil::Time::midnight()
        } else {
            time.parse()
                .map_err(|_| "Enter the time it happened as HH:MM, for example 17:30".to_owned())?
        };
        let at = date
            .to_datetime(time)
            .to_zoned(ctx.council.pack.time_zone.clone())
            .map_err(|e| e.to_string())?
            .timestamp();
        if at > ctx.now + domain::CLOCK_SKEW {
            return Err("Enter a time that is not in the future".to_owned());
        }
        Ok(at)
    }
}

/// The "when did this happen" fields, filled in with now in the council's
/// time zone (or what was sent, when the form comes back with errors).
///
/// `id` names the fields on the page (a page may hold several such forms)
/// and the errors they show.
pub fn when_input(ctx: &Ctx, id: &str, sent: &When, legend: &str, errors: &Errors) -> Markup {
    let local = ctx.now.to_zoned(ctx.council.pack.time_zone.clone());
    let (now_date, now_time) = (
        local.strftime("%Y-%m-%d").to_string(),
        local.strftime("%H:%M").to_string(),
    );
    let sent_any = !sent.when_date.is_empty() || !sent.when_time.is_empty();
    let (date, time) = if sent_any {
        (sent.when_date.as_str(), sent.when_time.as_str())
    } else {
        (now_date.as_str(), now_time.as_str())
    };
    let default = if sent_any && !sent.when_default.is_empty() {
        sent.when_default.clone()
    } else {
        format!("{now_date} {now_time}")
    };
    let error = errors.of(id);
    let hint = format!("{id}-hint");
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            fieldset class="govuk-fieldset" role="group" aria-describedby=(hint) {
                legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (legend) }
                div class="govuk-hint" id=(hint) {
                    "In " (ctx.council.pack.time_zone_name) " time. Leave as it is if it happened just now; change it if it happened earlier and is being recorded late."
                }
                @if let Some(error) = error {
                    p class="govuk-error-message" id=(format!("{id}-error")) { span class="govuk-visually-hidden" { "Error: " } (error) }
                }
                input type="hidden" name="when_default" value=(default);
                div class="govuk-date-input" {
                    div class="govuk-date-input__item" {
                        div class="govuk-form-group" {
                            label class="govuk-label govuk-date-input__label" for=(id) { "Date" }
                            input class={ "govuk-input govuk-date-input__input" @if error.is_some() { " govuk-input--error" } } id=(id) name="when_date" type="date" value=(date);
                        }
                    }
                    div class="govuk-date-input__item" {
                        div class="govuk-form-group" {
                            label class="govuk-label govuk-date-input__label" for=(format!("{id}-time")) { "Time" }
                            input class={ "govuk-input govuk-date-input__input" @if error.is_some() { " govuk-input--error" } } id=(format!("{id}-time")) name="when_time" type="time" value=(time);
                        }
                    }
                }
            }
        }
    }
}

/// A page answering a refused command: 422, whatever the page says.
pub fn unprocessable(mut res: Response) -> Response {
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// The store could not be reached for an account: say so, change nothing.
pub fn unavailable(what: &str) -> Response {
    crate::ops::retry_later(format!("{what}; nothing was changed. Try again.").into_response())
}

/// A refused form: the page again, with the errors, and 422.
pub fn refused(markup: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response()
}

/// Renders Markdown a council supplied (its policy texts); raw HTML in it is
/// shown as text, not obeyed.
pub fn markdown(text: &str) -> Markup {
    use pulldown_cmark::{Event, Parser};
    let parser = Parser::new(text).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    PreEscaped(out)
}
