//! Policy intelligence for information governance officers: the council's
//! rules as sentences with the guidance they depart from, the five seed
//! councils side by side, and "what if" the council's log were run under
//! another pack or an edited rule. The work is `rules::intel`'s; these
//! pages read the council and render.

use crate::ctx::Ctx;
use crate::layout::{status_tag, table_head, titled, when};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Query, State};
use maud::{Markup, html};
use rules::PolicyPack;
use rules::bundled::{Bundled, COUNCILS};
use rules::intel::whatif::{Override, load_with_overrides};
use rules::intel::{diff, explain, lint, whatif};
use serde::Deserialize;

/// The pack, rule by rule in words, and what the linter says of it.
pub async fn rules_in_words(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Markup {
    let pack = ctx.council.pack;
    let c = &ctx.council.id;
    let explained = explain::explain_pack(pack);
    let warnings = lint::lint(pack);
    titled(
        "The rules in words",
        &ctx,
        &state,
        html! {
            p class="govuk-body" {
                "Each rule of the " (pack.council) " pack (" code { (pack.id) } "), written out from what the rule does, "
                "so that it can be checked against the policy document without reading the pack."
            }
            p class="govuk-body" {
                a class="govuk-link" href=(format!("/c/{c}/pack/compare")) { "Compare with the other councils" }
                " · "
                a class="govuk-link" href=(format!("/c/{c}/what-if")) { "What if a rule were different?" }
            }
            dl class="govuk-summary-list" {
                @for e in &explained {
                    div class="govuk-summary-list__row" {
                        dt class="govuk-summary-list__key" { (e.source) }
                        dd class="govuk-summary-list__value" {
                            p class="govuk-body" { (e.sentence) }
                            p class="govuk-body-s" { code { (e.rule) } " · " (e.kind) @if e.pack != pack.id { " · from " (e.pack) } }
                        }
                    }
                }
            }
            h2 class="govuk-heading-m" { "Against published guidance" }
            @if warnings.is_empty() {
                p class="govuk-body" { "Nothing to point out." }
            } @else {
                p class="govuk-body" {
                    (warnings.len()) " point" @if warnings.len() != 1 { "s" } " where the pack differs from published guidance. "
                    "A council may differ knowingly; each says where the guidance is."
                }
                @for w in &warnings {
                    div class="govuk-warning-text" {
                        span class="govuk-warning-text__icon" aria-hidden="true" { "!" }
                        div class="govuk-warning-text__text" {
                            span class="govuk-visually-hidden" { "Warning" }
                            (w.message)
                            @if let Some(rule) = &w.rule { " (" code { (rule) } ")" }
                            p class="govuk-body-s" { "Guidance: " (w.guidance) }
                            p class="govuk-body-s" { "Suggested: " (w.suggestion) }
                        }
                    }
                }
            }
        },
    )
}

/// The seed councils' packs loaded from the binary.
fn seed_packs() -> Vec<PolicyPack> {
    COUNCILS
        .iter()
        .filter_map(|name| rules::load_pack(name, &Bundled).ok())
        .collect()
}

/// The five seed councils side by side, rules aligned by what they do.
pub async fn compare(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    let packs = seed_packs();
    let refs: Vec<&PolicyPack> = packs.iter().collect();
    let rows = diff::side_by_side(&refs);
    titled(
        "The councils side by side",
        &ctx,
        &state,
        html! {
            p class="govuk-body" {
                "The five councils' packs, each rule placed beside the others' rules that do the same thing "
                "(the same kind of rule, started and met by the same events), whatever they are called. "
                "A blank cell: that council's pack has no such rule."
            }
            div class="warden-scroll" tabindex="0" role="region" aria-label="The councils side by side" {
                table class="govuk-table" {
                    caption class="govuk-table__caption govuk-table__caption--m" { "Rules by what they do" }
                    thead class="govuk-table__head" {
                        tr class="govuk-table__row" {
                            th scope="col" class="govuk-table__header" { "What the rule does" }
                            @for p in &packs { th scope="col" class="govuk-table__header" { (p.council) } }
                        }
                    }
                    tbody class="govuk-table__body" {
                        @for row in &rows {
                            tr class="govuk-table__row" {
                                th scope="row" class="govuk-table__header" { (row.what) }
                                @for cell in &row.cells {
                                    td class="govuk-table__cell" {
                                        @for side in cell {
                                            p class="govuk-body-s" {
                                                @for (aspect, value) in &side.aspects {
                                                    strong { (aspect) ": " } (value) br;
                                                }
                                                span class="govuk-hint" { (side.source) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct WhatIfQuery {
    /// Another pack to run the log under (a bundled name).
    #[serde(default)]
    pack: String,
    /// A rule of the council's pack to change...
    #[serde(default)]
    rule: String,
    /// ...which of its fields...
    #[serde(default)]
    field: String,
    /// ...to what.
    #[serde(default)]
    value: String,
}

/// The what-if form, and its answer when it has been asked.
pub async fn what_if(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<WhatIfQuery>,
) -> Markup {
    let pack = ctx.council.pack;
    let asked = !q.pack.is_empty() || !q.value.is_empty();
    let answer = asked.then(|| answer(&ctx, &q));
    titled(
        "What if",
        &ctx,
        &state,
        html! {
            p class="govuk-body" {
                "Run this council's records under another council's pack, or with one rule changed, and see which findings "
                "would appear, disappear or change, and how many would have been failing at each quarter's end."
            }
            form method="get" action=(format!("/c/{}/what-if", ctx.council.id)) novalidate {
                div class="govuk-form-group" {
                    label class="govuk-label" for="pack" { "Another council's pack" }
                    select class="govuk-select" id="pack" name="pack" {
                        option value="" { "This council's pack" }
                        @for name in COUNCILS {
                            option value=(name) selected[q.pack == *name] { (name) }
                        }
                    }
                }
                div class="govuk-form-group" {
                    label class="govuk-label" for="rule" { "Change a rule" }
                    select class="govuk-select" id="rule" name="rule" {
                        option value="" { "No change" }
                        @for r in &pack.rules {
                            option value=(r.id) selected[q.rule == r.id] { (r.id) }
                        }
                    }
                }
                div class="govuk-form-group" {
                    label class="govuk-label" for="field" { "Field" }
                    div class="govuk-hint" id="field-hint" { "For example every, within, max_total" }
                    input class="govuk-input govuk-input--width-10" id="field" name="field" type="text" value=(q.field) aria-describedby="field-hint";
                }
                div class="govuk-form-group" {
                    label class="govuk-label" for="value" { "New value" }
                    div class="govuk-hint" id="value-hint" { "For example 12 months, 48h, 5 working days" }
                    input class="govuk-input govuk-input--width-20" id="value" name="value" type="text" value=(q.value) aria-describedby="value-hint";
                }
                button class="govuk-button" data-module="govuk-button" { "Compare" }
            }
            @if let Some(answer) = answer { (answer) }
        },
    )
}

fn answer(ctx: &Ctx, q: &WhatIfQuery) -> Markup {
    let base = ctx.council.pack;
    let mut overrides = Vec::new();
    if !q.rule.is_empty() || !q.value.is_empty() {
        match Override::parse(&format!("{}.{}={}", q.rule, q.field, q.value)) {
            Ok(o) => overrides.push(o),
            Err(e) => return problem(&e.to_string()),
        }
    }
    let name = if q.pack.is_empty() {
        base.id.clone()
    } else {
        q.pack.clone()
    };
    if !COUNCILS.contains(&name.as_str()) && name != base.id {
        return problem(&format!("no bundled pack `{name}`"));
    }
    let alternative = match load_with_overrides(&name, &Bundled, &overrides) {
        Ok(p) => p,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return problem(&text.join("; "));
        }
    };
    let calendar = rules::Calendar::new(
        alternative.time_zone.clone(),
        alternative.division,
        &rules::HolidayFile::bundled(),
    );
    let events = ctx.council.with_ledger(|l| l.events());
    let w = whatif::compare(
        &events,
        (base, ctx.council.calendar),
        (&alternative, &calendar),
        ctx.now,
        None,
    );
    let other = if overrides.is_empty() {
        alternative.council.clone()
    } else {
        format!("{} with {} set to {}", alternative.id, q.field, q.value)
    };
    html! {
        h2 class="govuk-heading-l" { "Under " (other) }
        @if w.is_empty() {
            p class="govuk-body" { "No finding would differ." }
        }
        @for r in &w.rules {
            h3 class="govuk-heading-m" { code { (r.rule) } }
            p class="govuk-body" {
                "Overdue, broken or met late: " strong { (r.failing_base) } " now, "
                strong { (r.failing_alternative) } " under " (other) "."
            }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Findings that would differ" }
                (table_head(&["Change", "Now", "Would be", "Finding", "Due"], &[]))
                tbody class="govuk-table__body" {
                    @for f in &r.appear {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { "Would appear" }
                            td class="govuk-table__cell" { "–" }
                            td class="govuk-table__cell" { (status_tag(f.status)) }
                            td class="govuk-table__cell" { (f.sentence) }
                            td class="govuk-table__cell" { (f.due.map(|d| when(ctx, d)).unwrap_or_default()) }
                        }
                    }
                    @for f in &r.disappear {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { "Would go" }
                            td class="govuk-table__cell" { (status_tag(f.status)) }
                            td class="govuk-table__cell" { "–" }
                            td class="govuk-table__cell" { (f.sentence) }
                            td class="govuk-table__cell" { (f.due.map(|d| when(ctx, d)).unwrap_or_default()) }
                        }
                    }
                    @for (b, a) in &r.changed {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { "Would change" }
                            td class="govuk-table__cell" { (status_tag(b.status)) }
                            td class="govuk-table__cell" { (status_tag(a.status)) }
                            td class="govuk-table__cell" { (a.sentence) }
                            td class="govuk-table__cell" {
                                (a.due.map(|d| when(ctx, d)).unwrap_or_default())
                                @if a.due != b.due { br; span class="govuk-hint" { "now " (b.due.map(|d| when(ctx, d)).unwrap_or_default()) } }
                            }
                        }
                    }
                }
            }
        }
        @if !w.quarters.is_empty() && !w.is_empty() {
            table class="govuk-table" {
                caption class="govuk-table__caption govuk-table__caption--m" { "Overdue or broken at each quarter's end (now → would be)" }
                thead class="govuk-table__head" {
                    tr class="govuk-table__row" {
                        th scope="col" class="govuk-table__header" { "Quarter end" }
                        @for r in &w.rules { th scope="col" class="govuk-table__header" { code { (r.rule) } } }
                    }
                }
                tbody class="govuk-table__body" {
                    @for q in &w.quarters {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (when(ctx, q.end)) }
                            @for r in &w.rules {
                                @let (b, a) = q.by_rule.get(&r.rule).copied().unwrap_or_default();
                                td class="govuk-table__cell" { (b) " → " (a) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn problem(message: &str) -> Markup {
    html! {
        div class="govuk-error-summary" data-module="govuk-error-summary" {
            div role="alert" {
                h2 class="govuk-error-summary__title" { "There is a problem" }
                div class="govuk-error-summary__body" {
                    p class="govuk-body" { (message) }
                }
            }
        }
    }
}
