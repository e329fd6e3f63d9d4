//! The registers: dashboard, people, a person, findings.

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::layout::csv_download;
use crate::layout::{
    Paged, any, claims_table, filter, findings_table, status_tag, table_head, titled, when,
};
use crate::lists::{self, List};
use crate::state::AppState;
use crate::wire::FindingOut;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::{PersonId, PersonKind};
use jiff::SignedDuration;
use maud::{Markup, html};
use rules::{Finding, Status};
use serde::{Deserialize, Serialize};

/// `?date=YYYY-MM-DD` (and `known=YYYY-MM-DD`): the findings as they stood
/// at the end of that day in the council's time zone, from everything
/// recorded since (or only what had been recorded by the end of `known`).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct AsOf {
    date: String,
    known: String,
}

impl AsOf {
    /// The end of a council-time day, or an error for the field.
    fn end_of(ctx: &Ctx, text: &str) -> Result<Option<jiff::Timestamp>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let day: jiff::civil::Date = text
            .parse()
            .map_err(|_| format!("`{text}` is not a date: enter one as YYYY-MM-DD"))?;
        let end = day
            .tomorrow()
            .map_err(|e| e.to_string())?
            .to_zoned(ctx.council.pack.time_zone.clone())
            .map_err(|e| e.to_string())?
            .timestamp()
            - SignedDuration::from_nanos(1);
        Ok(Some(end.min(ctx.now)))
    }

    /// The view it asks for: the live one, or one evaluated again.
    fn view(&self, ctx: &Ctx) -> (std::sync::Arc<crate::council::View>, Option<String>) {
        match (
            Self::end_of(ctx, &self.date),
            Self::end_of(ctx, &self.known),
        ) {
            (Ok(None), Ok(None)) => (ctx.council.view(ctx.now), None),
            (Ok(at), Ok(known)) => {
                let at = at.unwrap_or(ctx.now);
                let view = ctx.council.view_as_known(at, known);
                (std::sync::Arc::new(view), None)
            }
            (Err(e), _) | (_, Err(e)) => (ctx.council.view(ctx.now), Some(e)),
        }
    }

    fn form(&self, ctx: &Ctx, action: &str, error: Option<&str>) -> Markup {
        html! {
            details class="govuk-details" open[!self.date.is_empty() || error.is_some()] {
                summary class="govuk-details__summary" { span class="govuk-details__summary-text" { "See an earlier day" } }
                div class="govuk-details__text" {
                    form method="get" action=(action) novalidate {
                        @if let Some(error) = error { p class="govuk-error-message" { (error) } }
                        div class="govuk-form-group" {
                            label class="govuk-label" for="date" { "As of the end of" }
                            div class="govuk-hint" { "The findings as that day ended, from everything recorded since, late records and corrections included" }
                            input class="govuk-input govuk-input--width-10" id="date" name="date" type="date" value=(self.date);
                        }
                        div class="govuk-form-group" {
                            label class="govuk-label" for="known" { "As known at the end of" }
                            div class="govuk-hint" { "Optional: only what had been recorded by then, so the page shows what Warden said that day" }
                            input class="govuk-input govuk-input--width-10" id="known" name="known" type="date" value=(self.known);
                        }
                        button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Show" }
                        " "
                        a class="govuk-link" href=(action) { "Back to now" }
                    }
                }
            }
            @let _ = ctx;
        }
    }
}

/// The committee report as of the dashboard's day (now without one): a
/// tagged PDF, typeset on the blocking pool.
pub async fn committee_report(
    Extension(ctx): Extension<Ctx>,
    Query(as_of): Query<AsOf>,
) -> Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let (Ok(at), Ok(known_at)) = (
        AsOf::end_of(&ctx, &as_of.date),
        AsOf::end_of(&ctx, &as_of.known),
    ) else {
        return (StatusCode::BAD_REQUEST, "enter dates as YYYY-MM-DD").into_response();
    };
    let ask = crate::committee::Ask {
        at: at.unwrap_or(ctx.now),
        known_at,
        months: 12,
    };
    let council = ctx.council.clone();
    let made = tokio::task::spawn_blocking(move || {
        let figures = crate::committee::gather(&council, &ask);
        reports::committee::pdf(&figures).map(|pdf| (pdf, figures.as_of))
    })
    .await;
    match made {
        Ok(Ok((pdf, as_of))) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-committee-report-{}.pdf\"",
                        ctx.council.id,
                        as_of.replace(' ', "-")
                    ),
                ),
            ],
            pdf,
        )
            .into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the report could not be typeset: {e}"),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(as_of): Query<AsOf>,
) -> Markup {
    let (view, date_error) = as_of.view(&ctx);
    let now = view.at;
    let c = &ctx.council.id;
    let soon = now + SignedDuration::from_hours(14 * 24);
    // The view keeps these in order; a page shows the first few.
    let overdue: Vec<&Finding> = view
        .overdue
        .iter()
        .take(20)
        .map(|i| &view.findings[*i])
        .collect();
    let soon_count = view
        .open_by_due
        .iter()
        .take_while(|i| view.findings[**i].due.is_some_and(|d| d <= soon))
        .count();
    let due_soon: Vec<&Finding> = view.open_by_due[..soon_count]
        .iter()
        .take(20)
        .map(|i| &view.findings[*i])
        .collect();
    let people: Vec<(&str, usize)> = view
        .most_failing
        .iter()
        .take(10)
        .map(|(p, n)| (&**p, *n))
        .collect();
    let by_rule = &view.by_rule;
    let names = ctx.council.with_estate(|e| {
        people
            .iter()
            .map(|(p, _)| {
                e.people
                    .get(&PersonId::from(*p))
                    .map(|x| x.name.clone())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    });
    titled(
        "Dashboard",
        &ctx,
        &state,
        html! {
            p class="govuk-body" { "As of " (when(&ctx, view.at)) ", from " (view.head) " recorded events." }
            (as_of.form(&ctx, &format!("/c/{c}"), date_error.as_deref()))
            @if ctx.may(&state, Action::ViewFindings) {
                p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/report.pdf?{}", serde_html_form::to_string(&as_of).unwrap_or_default())) { "Download the committee report (PDF)" } }
            }
            div class="warden-counts" {
                @for (i, status) in Status::ALL.iter().enumerate() {
                    div {
                        a class="govuk-link govuk-link--no-underline" href=(format!("/c/{c}/findings?status={}", status.name())) {
                            span class="warden-count" data-status=(status.name()) { (view.counts[i]) }
                            (status_tag(*status))
                        }
                    }
                }
            }
            h2 class="govuk-heading-m govuk-!-margin-top-6" { "Overdue now (" (view.overdue.len()) ")" }
            @if overdue.is_empty() { p class="govuk-body" { "Nothing is overdue." } }
            @else {
                (findings_table(&ctx, &overdue, &if overdue.len() < view.overdue.len() {
                    format!("The {} most overdue of {}", overdue.len(), view.overdue.len())
                } else {
                    "Most overdue first".to_owned()
                }))
                @if overdue.len() < view.overdue.len() {
                    p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/findings?status=overdue")) { "See all " (view.overdue.len()) " overdue findings" } }
                }
            }
            h2 class="govuk-heading-m" { "Due in the next 14 days (" (soon_count) ")" }
            @if due_soon.is_empty() { p class="govuk-body" { "Nothing falls due in the next 14 days." } }
            @else { (findings_table(&ctx, &due_soon, "Soonest first")) }
            h2 class="govuk-heading-m" { "By rule" }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Findings by rule and status" }
                thead class="govuk-table__head" { tr class="govuk-table__row" {
                    th scope="col" class="govuk-table__header" { "Rule" }
                    @for s in Status::ALL { th scope="col" class="govuk-table__header govuk-table__header--numeric" { (s.name()) } }
                } }
                tbody class="govuk-table__body" {
                    @for (rule, counts) in by_rule {
                        tr class="govuk-table__row" {
                            th scope="row" class="govuk-table__header" {
                                a class="govuk-link" href=(format!("/c/{c}/findings?rule={rule}")) { (ctx.council.pack.rule_sentence(rule)) }
                            }
                            @for n in counts { td class="govuk-table__cell govuk-table__cell--numeric" { (n) } }
                        }
                    }
                }
            }
            h2 class="govuk-heading-m" { "People with the most overdue or violated findings" }
            @if people.is_empty() { p class="govuk-body" { "No one." } }
            ul class="govuk-list" {
                @for ((p, n), name) in people.iter().zip(&names) {
                    li { a class="govuk-link" href=(format!("/c/{c}/people/{p}")) { (name) " (" (p) ")" } ": " (n) }
                }
            }
            p class="govuk-body" { a class="govuk-link" href=(format!("/c/{c}/claims")) { "Expense claims" } }
        },
    )
}

/// Every expense claim of the council, newest first.
pub async fn claims(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    let claims = ctx.council.with_estate(|e| e.claims.clone());
    titled(
        "Expense claims",
        &ctx,
        &state,
        html! {
            p class="govuk-body" { a class="govuk-link" href=(format!("/c/{}/claims.csv", ctx.council.id)) { "Download every claim as CSV" } }
            (claims_table(&ctx, &claims, "Claims, newest first"))
        },
    )
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct PeopleQuery {
    q: String,
    kind: String,
    department: String,
    status: String,
    page: usize,
}

impl PeopleQuery {
    /// Whether a person is among those the filters ask for (`needle` is
    /// the search text, lower-cased).
    fn matches(
        &self,
        needle: &str,
        id: &domain::PersonId,
        p: &domain::estate::Person,
        view: &crate::council::View,
    ) -> bool {
        let failing = || view.about(id.as_str()).any(|f| f.status.is_failure());
        (needle.is_empty()
            || p.name.to_lowercase().contains(needle)
            || id.as_str().to_lowercase().contains(needle)
            || p.email
                .as_deref()
                .is_some_and(|m| m.to_lowercase().contains(needle)))
            && (self.kind.is_empty() || kind_name(p.kind) == self.kind)
            && (self.department.is_empty()
                || p.department.as_deref() == Some(self.department.as_str()))
            && match self.status.as_str() {
                "present" => p.is_present(),
                "left" => !p.is_present(),
                "failing" => failing(),
                _ => true,
            }
    }
}

/// The people the page's filters show, as CSV.
pub async fn people_csv(Extension(ctx): Extension<Ctx>, Query(q): Query<PeopleQuery>) -> Response {
    let view = ctx.council.view(ctx.now);
    let needle = q.q.trim().to_lowercase();
    let shown: std::collections::HashSet<String> = ctx.council.with_estate(|e| {
        e.people
            .iter()
            .filter(|(id, p)| q.matches(&needle, id, p, &view))
            .map(|(id, _)| id.to_string())
            .collect()
    });
    let rows: Vec<_> = lists::people(&ctx.council)
        .into_iter()
        .filter(|r| shown.contains(&r.id))
        .collect();
    csv_download(
        &ctx,
        List::People,
        reports::csv::records(List::People.fields(), &rows),
    )
}

/// The findings the page's filters show, as CSV.
pub async fn findings_csv(
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<FindingsQuery>,
) -> Response {
    let (view, _) = q.as_of.view(&ctx);
    let rows = FindingOut::of(&ctx.council, view.findings.iter().filter(|f| q.matches(f)));
    csv_download(
        &ctx,
        List::Findings,
        reports::csv::records(List::Findings.fields(), &rows),
    )
}

/// Every claim, as CSV.
pub async fn claims_csv(Extension(ctx): Extension<Ctx>) -> Response {
    csv_download(
        &ctx,
        List::Claims,
        List::Claims
            .csv(&ctx.council, &[])
            .map_err(reports::csv::CsvError),
    )
}

fn kind_name(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Councillor => "councillor",
        PersonKind::Employee => "employee",
        PersonKind::ThirdParty => "third_party",
    }
}

pub async fn people(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<PeopleQuery>,
) -> Markup {
    let now = ctx.now;
    let view = ctx.council.view(now);
    let c = &ctx.council.id;
    let needle = q.q.trim().to_lowercase();
    let (rows, paged, departments) = ctx.council.with_estate(|e| {
        let mut departments: Vec<String> = e
            .people
            .values()
            .filter_map(|p| p.department.clone())
            .collect();
        departments.sort();
        departments.dedup();
        let mut rows: Vec<(String, String, &'static str, String, bool, usize)> = e
            .people
            .iter()
            .filter(|(id, p)| q.matches(&needle, id, p, &view))
            .map(|(id, p)| {
                let failing = view
                    .about(id.as_str())
                    .filter(|f| f.status.is_failure())
                    .count();
                (
                    id.to_string(),
                    p.name.clone(),
                    kind_name(p.kind),
                    p.department.clone().unwrap_or_default(),
                    p.is_present(),
                    failing,
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let paged = Paged::of(rows.len(), q.page);
        let rows: Vec<_> = rows.drain(paged.rows.clone()).collect();
        (rows, paged, departments)
    });
    let kinds = [
        ("", "Any"),
        ("councillor", "Councillor"),
        ("employee", "Employee"),
        ("third_party", "Third party"),
    ];
    let statuses = [
        ("", "Any"),
        ("present", "Still here"),
        ("left", "Left"),
        ("failing", "Has overdue or violated findings"),
    ];
    titled(
        "People",
        &ctx,
        &state,
        html! {
            div class="govuk-button-group" {
                @if ctx.may(&state, Action::ManagePeople) {
                    a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/starters")) { "Record a starter" }
                }
                @if ctx.may(&state, Action::ImportRecords) {
                    a class="govuk-button govuk-button--secondary" href=(format!("/c/{c}/imports")) { "Import from a file" }
                }
            }
            form method="get" action=(format!("/c/{c}/people")) role="search"
                hx-get=(format!("/c/{c}/people")) hx-trigger="input changed delay:300ms from:#q, change" hx-target="#people-results" hx-select="#people-results" hx-push-url="true" {
                div class="govuk-form-group" {
                    label class="govuk-label" for="q" { "Search by name, id or email" }
                    input class="govuk-input govuk-!-width-one-half" id="q" name="q" type="search" value=(q.q);
                }
                div class="govuk-grid-row" {
                    (filter("kind", "Kind", kinds.iter().map(|(v, t)| (*v, *t)), &q.kind))
                    (filter("department", "Department", any(departments.iter().map(|d| (d.as_str(), d.as_str()))), &q.department))
                    (filter("status", "Status", statuses.iter().map(|(v, t)| (*v, *t)), &q.status))
                }
                button type="submit" class="govuk-button" data-module="govuk-button" { "Filter" }
            }
            div id="people-results" {
                p class="govuk-body" id="matching" { (paged.summary("people")) " match." }
                table class="govuk-table" {
                    caption class="govuk-visually-hidden" { "People" }
                    (table_head(&["Name", "Id", "Kind", "Department", "Status", "Overdue or violated"], &["Overdue or violated"]))
                    tbody class="govuk-table__body" {
                        @for (id, name, kind, dept, present, failing) in &rows {
                            tr class="govuk-table__row" {
                                td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/people/{id}")) { (name) } }
                                td class="govuk-table__cell" { (id) }
                                td class="govuk-table__cell" { (kind) }
                                td class="govuk-table__cell" { (dept) }
                                td class="govuk-table__cell" { @if *present { "Still here" } @else { "Left" } }
                                td class="govuk-table__cell govuk-table__cell--numeric" { (failing) }
                            }
                        }
                    }
                }
                (paged.links(|n| page_href(&format!("/c/{c}/people"), &PeopleQuery { page: n, ..q.clone() })))
                p class="govuk-body" { a class="govuk-link" href=(page_href(&format!("/c/{c}/people.csv"), &q)) { "Download these people as CSV" } }
            }
        },
    )
}

/// A register's address with its filters and a page.
fn page_href(path: &str, query: &impl Serialize) -> String {
    format!(
        "{path}?{}",
        serde_html_form::to_string(query).unwrap_or_default()
    )
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct FindingsQuery {
    status: String,
    rule: String,
    q: String,
    #[serde(flatten)]
    as_of: AsOf,
    page: usize,
}

impl FindingsQuery {
    /// Whether a finding is among those the filters ask for.
    fn matches(&self, f: &Finding) -> bool {
        let needle = self.q.trim();
        (self.status.is_empty() || f.status.name() == self.status)
            && (self.rule.is_empty() || *f.rule == *self.rule)
            && (needle.is_empty()
                || [
                    &f.concerns.person,
                    &f.concerns.device,
                    &f.concerns.incident,
                    &f.concerns.policy,
                ]
                .iter()
                .any(|x| x.as_deref() == Some(needle)))
    }
}

pub async fn findings(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<FindingsQuery>,
) -> Markup {
    let (view, date_error) = q.as_of.view(&ctx);
    let c = &ctx.council.id;
    let matching: Vec<&Finding> = view.findings.iter().filter(|f| q.matches(f)).collect();
    let mut rules: Vec<&str> = ctx
        .council
        .pack
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    rules.sort();
    titled(
        "Findings",
        &ctx,
        &state,
        html! {
            form method="get" action=(format!("/c/{c}/findings")) {
                div class="govuk-grid-row" {
                    (filter("status", "Status", any(Status::ALL.iter().map(|s| (s.name(), s.name()))), &q.status))
                    (filter("rule", "Rule", any(rules.iter().map(|r| (*r, ctx.council.pack.rule_sentence(r)))), &q.rule))
                    div class="govuk-grid-column-one-third" { div class="govuk-form-group" {
                        label class="govuk-label" for="q" { "Person, device, incident or policy id" }
                        input class="govuk-input" id="q" name="q" type="text" value=(q.q);
                    } }
                }
                input type="hidden" name="date" value=(q.as_of.date);
                input type="hidden" name="known" value=(q.as_of.known);
                button type="submit" class="govuk-button" data-module="govuk-button" { "Filter" }
            }
            (q.as_of.form(&ctx, &format!("/c/{c}/findings"), date_error.as_deref()))
            p class="govuk-body" { "As of " (when(&ctx, view.at)) "." }
            @let paged = Paged::of(matching.len(), q.page);
            p class="govuk-body" id="matching" { (paged.summary("findings")) " match." }
            (findings_table(&ctx, &matching[paged.rows.clone()], "Findings"))
            (paged.links(|n| page_href(&format!("/c/{c}/findings"), &FindingsQuery { page: n, ..q.clone() })))
            p class="govuk-body" { a class="govuk-link" href=(page_href(&format!("/c/{c}/findings.csv"), &q)) { "Download these findings as CSV" } }
        },
    )
}
