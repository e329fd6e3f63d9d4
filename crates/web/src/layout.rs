//! The frame every page shares and the pieces pages are built of that are
//! not forms: headings, tags, tables of findings, links to events, times
//! in the council's zone, the council's Markdown, and the error pages.

use crate::authz::{Action, User};
use crate::ctx::Ctx;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rules::{Finding, Status};

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
                                            button class="govuk-service-navigation__link warden-link-button" { "Sign out" span class="govuk-visually-hidden" { " " (ctx.user.name) } }
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
/// A table's head row: one column header per name, those in `numeric`
/// aligned as numbers.
pub fn table_head(columns: &[&str], numeric: &[&str]) -> Markup {
    html! {
        thead class="govuk-table__head" {
            tr class="govuk-table__row" {
                @for column in columns {
                    @if numeric.contains(column) {
                        th scope="col" class="govuk-table__header govuk-table__header--numeric" { (column) }
                    } @else {
                        th scope="col" class="govuk-table__header" { (column) }
                    }
                }
            }
        }
    }
}

pub fn findings_table(ctx: &Ctx, findings: &[&Finding], caption: &str) -> Markup {
    let c = &ctx.council.id;
    html! {
        table class="govuk-table" {
            caption class="govuk-table__caption govuk-table__caption--m" { (caption) }
            (table_head(&["Status", "What the policy asks", "About", "Due", "What happened"], &[]))
            tbody class="govuk-table__body" {
                @for f in findings {
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { (status_tag(f.status)) }
                        td class="govuk-table__cell" {
                            span class="govuk-body-s govuk-!-font-weight-bold" { (ctx.council.pack.rule_sentence(&f.rule)) }
                            br;
                            span class="govuk-body-s" { (f.cite) }
                            br;
                            span class="govuk-body-s warden-rule-id" { "Rule " (f.rule) }
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
                            (f.sentence_in_words())
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

/// Expense claims, newest first: when, who, what, how much, household.
pub fn claims_table(ctx: &Ctx, claims: &[domain::estate::ExpenseClaim], caption: &str) -> Markup {
    let c = &ctx.council.id;
    html! {
        @if claims.is_empty() {
            p class="govuk-body" { "No claims." }
        } @else {
            table class="govuk-table" id="claims" {
                caption class="govuk-table__caption govuk-table__caption--m" { (caption) }
                (table_head(&["Dated", "Claimant", "For", "Amount", "Household"], &["Amount"]))
                tbody class="govuk-table__body" {
                    @for claim in claims.iter().rev() {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (when(ctx, claim.at)) }
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/people/{}", claim.person)) { (claim.person) } }
                            td class="govuk-table__cell" { (claim.category) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (claim.amount) }
                            td class="govuk-table__cell" { (claim.household) }
                        }
                    }
                }
            }
        }
    }
}

/// Rows a register shows on one page.
pub const PAGE: usize = 100;

/// One page of a register: which page (1-based), how many there are, and
/// which rows it shows.
pub struct Paged {
    pub page: usize,
    pub pages: usize,
    pub rows: std::ops::Range<usize>,
    pub total: usize,
}

impl Paged {
    /// Page `page` of `total` rows (a page past the end shows the last).
    pub fn of(total: usize, page: usize) -> Paged {
        let pages = total.div_ceil(PAGE).max(1);
        let page = page.clamp(1, pages);
        let start = (page - 1) * PAGE;
        Paged {
            page,
            pages,
            rows: start..(start + PAGE).min(total),
            total,
        }
    }

    /// "201 to 300 of 398 people" (or "398 people" on a single page).
    pub fn summary(&self, noun: &str) -> String {
        if self.pages == 1 {
            format!("{} {noun}", self.total)
        } else {
            format!(
                "{} to {} of {} {noun}",
                self.rows.start + 1,
                self.rows.end,
                self.total
            )
        }
    }

    /// The GOV.UK pagination links; `href(n)` is page n's address (the
    /// register's filters kept).
    pub fn links(&self, href: impl Fn(usize) -> String) -> Markup {
        html! {
            @if self.pages > 1 {
                nav class="govuk-pagination" aria-label="Pages" {
                    @if self.page > 1 {
                        div class="govuk-pagination__prev" {
                            a class="govuk-link govuk-pagination__link" href=(href(self.page - 1)) rel="prev" {
                                span class="govuk-pagination__link-title" { "Previous" span class="govuk-visually-hidden" { " page" } }
                            }
                        }
                    }
                    ul class="govuk-pagination__list" {
                        @for n in 1..=self.pages {
                            @if n == 1 || n == self.pages || n.abs_diff(self.page) <= 2 {
                                li class={ "govuk-pagination__item" @if n == self.page { " govuk-pagination__item--current" } } {
                                    a class="govuk-link govuk-pagination__link" href=(href(n)) aria-label=(format!("Page {n}")) aria-current=[(n == self.page).then_some("page")] { (n) }
                                }
                            } @else if n.abs_diff(self.page) == 3 {
                                li class="govuk-pagination__item govuk-pagination__item--ellipses" { "⋯" }
                            }
                        }
                    }
                    @if self.page < self.pages {
                        div class="govuk-pagination__next" {
                            a class="govuk-link govuk-pagination__link" href=(href(self.page + 1)) rel="next" {
                                span class="govuk-pagination__link-title" { "Next" span class="govuk-visually-hidden" { " page" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A filter above a register: a select, in a third of the row, that keeps
/// what was chosen.
pub fn filter<'a>(
    name: &str,
    label: &str,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    chosen: &str,
) -> Markup {
    // Its own id: a page may also hold a form with a field of this name
    // (the device register's `kind` and `owner`), and two ids alike tie a
    // label to the wrong control.
    let id = format!("filter-{name}");
    html! {
        div class="govuk-grid-column-one-third" { div class="govuk-form-group" {
            label class="govuk-label" for=(id) { (label) }
            select class="govuk-select" id=(id) name=(name) {
                @for (value, text) in options { option value=(value) selected[chosen == value] { (text) } }
            }
        } }
    }
}

/// Options led by "Any" (no filter).
pub fn any<'a>(
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    std::iter::once(("", "Any")).chain(options)
}

/// A list as a CSV download named for the council and the list, or 500
/// with the reason if it could not be written.
pub fn csv_download(
    ctx: &Ctx,
    list: crate::lists::List,
    text: Result<String, reports::csv::CsvError>,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    match text {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{}.csv\"",
                        ctx.council.id,
                        list.name()
                    ),
                ),
            ],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
