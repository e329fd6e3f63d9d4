//! Policies: versions, approving body, review due dates, who has and has not
//! accepted the current version; publish a version, record a review.

use crate::authz::Action;
use crate::ctx::Ctx;
use crate::forms::{
    At, Errors, When, button, csrf, error_summary, optional, record_about, record_then, refused,
    text_area, text_input, when_input,
};
use crate::history::history;
use crate::layout::{not_found_page, status_tag, success_banner, table_head, titled, when};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use domain::event::{PolicyApproved, PolicyReviewed};
use domain::{EventKind, PolicyId};
use maud::{Markup, html};
use rules::pack::Policy;
use rules::{Finding, Status};
use serde::Deserialize;

/// The running or overdue review clock of a policy, if a rule keeps one.
fn review_clock<'a>(findings: &'a [Finding], policy: &str) -> Option<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.concerns.policy.as_deref() == Some(policy) && f.concerns.person.is_none())
        .find(|f| matches!(f.status, Status::Open | Status::Overdue))
}

pub async fn list(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    let view = ctx.council.view(ctx.now);
    let c = &ctx.council.id;
    let rows = ctx.council.with_estate(|e| {
        ctx.council
            .pack
            .policies
            .iter()
            .map(|p| {
                let version = ctx.council.pack.current_version(e, &p.id).to_owned();
                let (yes, no) = p.acceptance(e, &version);
                let st = e.policies.get(&p.id).cloned().unwrap_or_default();
                (p.clone(), version, st, yes.len(), no.len())
            })
            .collect::<Vec<_>>()
    });
    titled(
        "Policies",
        &ctx,
        &state,
        html! {
            p class="govuk-body" {
                a class="govuk-link" href=(format!("/c/{c}/pack")) { "The rules in words" }
                " · "
                a class="govuk-link" href=(format!("/c/{c}/pack/compare")) { "The councils side by side" }
                " · "
                a class="govuk-link" href=(format!("/c/{c}/what-if")) { "What if a rule were different?" }
            }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { "Policies" }
                (table_head(&["Policy", "Current version", "Approved by", "Last reviewed", "Review due", "Accepted"], &[]))
                tbody class="govuk-table__body" {
                    @for (p, version, st, yes, no) in &rows {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{c}/policies/{}", p.id)) { (p.title) } }
                            td class="govuk-table__cell" { (version) }
                            td class="govuk-table__cell" { (st.body.clone().or_else(|| p.approving_body.clone()).unwrap_or_default()) }
                            td class="govuk-table__cell" { (st.reviewed.or(st.approved).map(|t| when(&ctx, t)).unwrap_or_else(|| "Not recorded".into())) }
                            td class="govuk-table__cell" {
                                @if let Some(f) = review_clock(&view.findings, p.id.as_str()) {
                                    (status_tag(f.status)) " " (f.due.map(|d| when(&ctx, d)).unwrap_or_default())
                                }
                            }
                            td class="govuk-table__cell" {
                                @if p.accepted_by.is_empty() { "Not required" } @else { (yes) " of " (yes + no) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn policy_page(ctx: &Ctx, state: &AppState, id: &str, errors: &Errors, recorded: &str) -> Response {
    policy_page_typed(ctx, state, id, errors, recorded, &[])
}

/// How many people accepted `version` (present or not).
fn accepted_count(ctx: &Ctx, policy: &Policy, version: &str) -> usize {
    ctx.council.with_estate(|e| {
        e.people
            .values()
            .filter(|p| p.has_accepted(&policy.id, version))
            .count()
    })
}

/// A version as it goes in a path ("July 2021" has a space).
fn percent(version: &str) -> String {
    percent_encoding::utf8_percent_encode(version, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The policy's page; a refused publish keeps what was typed.
fn policy_page_typed(
    ctx: &Ctx,
    state: &AppState,
    id: &str,
    errors: &Errors,
    recorded: &str,
    typed: &[(&str, &str)],
) -> Response {
    let typed = |field: &str| crate::forms::typed(typed, field);
    let c = &ctx.council.id;
    let Some(policy) = ctx.policy(id) else {
        return not_found_page("No such policy");
    };
    let view = ctx.council.view(ctx.now);
    let (version, st, yes, no) = ctx.council.with_estate(|e| {
        let version = ctx.council.pack.current_version(e, &policy.id).to_owned();
        let (yes, no) = policy.acceptance(e, &version);
        (
            version.clone(),
            e.policies.get(&policy.id).cloned().unwrap_or_default(),
            yes,
            no,
        )
    });
    // What the pack's approval route asks of a new version, as a hint.
    let route_hint = ctx.council.pack.route(&policy.id).map(|r| {
        let mut hint = String::from("Comma-separated, for example audit_and_governance.");
        if !r.approved_by.is_empty() {
            hint.push_str(&format!(
                " This policy is approved by {}",
                r.approved_by.join(" or ")
            ));
            if !r.consulted.is_empty() {
                hint.push_str(&format!(" after consulting {}", r.consulted.join(" and ")));
            }
            hint.push('.');
        } else if !r.consulted.is_empty() {
            hint.push_str(&format!(" Consult {} first.", r.consulted.join(" and ")));
        }
        if !r.minor_approved_by.is_empty() {
            hint.push_str(&format!(
                " A minor amendment may be approved by {} after consulting {}.",
                r.minor_approved_by.join(" or "),
                r.minor_consulted.join(" and ")
            ));
        }
        hint
    });
    let informs = ctx.council.pack.rules.iter().any(|r| {
        matches!(&r.kind, rules::pack::RuleKind::Obligation(o)
            if o.discharged_by.iter().any(|m| m.event == domain::EventType::PolicyCommunicated))
    });
    let people = |list: &[(String, String)]| {
        html! {
            @if list.is_empty() { p class="govuk-body" { "No one." } }
            ul class="govuk-list" { @for (pid, name) in list.iter().take(200) {
                li { a class="govuk-link" href=(format!("/c/{c}/people/{pid}")) { (name) } " (" (pid) ")" }
            } }
            @if list.len() > 200 { p class="govuk-body" { "and " (list.len() - 200) " more." } }
        }
    };
    titled(&policy.title, ctx, state, html! {
        @if !recorded.is_empty() { (success_banner(crate::history::recorded_banner(recorded))) }
        (error_summary(errors))
        dl class="govuk-summary-list" {
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Current version" } dd class="govuk-summary-list__value" id="current-version" { (version) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Owner" } dd class="govuk-summary-list__value" { (policy.owner.clone().unwrap_or_default()) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Approved by" } dd class="govuk-summary-list__value" { (st.body.clone().or(policy.approving_body.clone()).unwrap_or_default()) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Approved" } dd class="govuk-summary-list__value" { (st.approved.map(|t| when(ctx, t)).unwrap_or_else(|| "Not recorded".into())) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Last reviewed" } dd class="govuk-summary-list__value" { (st.reviewed.map(|t| when(ctx, t)).unwrap_or_else(|| "Not recorded".into())) } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Review due" } dd class="govuk-summary-list__value" {
                @if let Some(f) = review_clock(&view.findings, id) { (status_tag(f.status)) " " (f.due.map(|d| when(ctx, d)).unwrap_or_default()) " (" (ctx.council.pack.rule_sentence(&f.rule)) ")" } @else { "No review clock running" }
            } }
            div class="govuk-summary-list__row" { dt class="govuk-summary-list__key" { "Text" } dd class="govuk-summary-list__value" {
                a class="govuk-link" href=(format!("/c/{c}/policies/{id}/versions/{}", percent(&version))) { "Read version " (version) }
            } }
        }
        h2 class="govuk-heading-m" { "Versions" }
        @if st.versions.is_empty() {
            p class="govuk-body" { "Version " (policy.version) " is the one the council's pack was written for; no other has been approved here." }
        } @else {
            table class="govuk-table" id="versions" {
                caption class="govuk-visually-hidden" { "Every version approved, newest first" }
                (table_head(&["Version", "Approved", "By", "Text (SHA-256)", "Accepted by"], &["Accepted by"]))
                tbody class="govuk-table__body" {
                    @for v in st.versions.iter().rev() {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" {
                                a class="govuk-link" href=(format!("/c/{c}/policies/{id}/versions/{}", percent(&v.version))) { (v.version) }
                            }
                            td class="govuk-table__cell" { (when(ctx, v.approved)) }
                            td class="govuk-table__cell" { (v.body) }
                            td class="govuk-table__cell warden-digest" {
                                @match &v.text_sha256 { Some(sha) => code { (sha.get(..12).unwrap_or(sha)) "…" }, None => "None given" }
                            }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (accepted_count(ctx, &policy, &v.version)) }
                        }
                    }
                }
            }
        }
        @if !policy.accepted_by.is_empty() {
            h2 class="govuk-heading-m" { "Not yet accepted version " (version) " (" (no.len()) ")" }
            div id="not-accepted" { (people(&no)) }
            h2 class="govuk-heading-m" { "Accepted version " (version) " (" (yes.len()) ")" }
            div id="accepted" { (people(&yes)) }
        }
        @if ctx.may(state, Action::ManagePolicies) {
            h2 class="govuk-heading-m" { "Publish a new version" }
            p class="govuk-body" { "Everyone who must accept the policy will need to accept the new version." }
            form method="post" action=(format!("/c/{c}/policies/{id}/publish")) novalidate {
                (csrf(ctx))
                (text_input("version", "New version", typed("version"), Some("A number not used before, for example 1.1"), errors))
                (text_input("body", "Approved by", typed("body").is_empty().then(|| policy.approving_body.clone().unwrap_or_default()).as_deref().unwrap_or(typed("body")), Some("For example council, cabinet, audit_and_governance"), errors))
                (text_area(("text", "The text of this version", typed("text"), Some("Markdown. This is what people are shown when they accept it; Warden keeps it by its SHA-256 beside the log.")), errors))
                (text_input("consulted", "Consulted before approval", typed("consulted"), route_hint.as_deref(), errors))
                div class="govuk-form-group" {
                    div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes" {
                        div class="govuk-checkboxes__item" {
                            input class="govuk-checkboxes__input" id="minor" name="minor" type="checkbox" value="yes";
                            label class="govuk-label govuk-checkboxes__label" for="minor" { "This is a minor amendment" }
                        }
                    }
                }
                @if !yes.is_empty() {
                    div class={ "govuk-form-group" @if errors.of("confirm").is_some() { " govuk-form-group--error" } } {
                        @if let Some(e) = errors.of("confirm") { p class="govuk-error-message" id="confirm-error" { span class="govuk-visually-hidden" { "Error: " } (e) } }
                        div class="govuk-checkboxes" data-module="govuk-checkboxes" {
                            div class="govuk-checkboxes__item" {
                                input class="govuk-checkboxes__input" id="confirm" name="confirm" type="checkbox" value="yes";
                                label class="govuk-label govuk-checkboxes__label" for="confirm" {
                                    "I understand the " (yes.len()) " people who accepted version " (version) " will need to accept the new version"
                                }
                            }
                        }
                    }
                }
                (when_input(ctx, "publish-when", &When::default(), "When was it approved?", errors))
                (button("Publish"))
            }
            @if informs {
                h2 class="govuk-heading-m" { "Record that version " (version) " was made known" }
                form method="post" action=(format!("/c/{c}/policies/{id}/communicated")) novalidate {
                    (csrf(ctx))
                    (text_input("to", "Made known to", "all_councillors", Some("Who the policy's RACI names as Informed"), errors))
                    (when_input(ctx, "communicated-when", &When::default(), "When was it made known?", errors))
                    (button("Record it"))
                }
            }
            h2 class="govuk-heading-m" { "Record a review" }
            p class="govuk-body" { "A review that changes nothing keeps everyone's acceptance." }
            form method="post" action=(format!("/c/{c}/policies/{id}/review")) novalidate {
                (csrf(ctx))
                (when_input(ctx, "review-when", &When::default(), "When was it reviewed?", errors))
                (button("Record a review with no change"))
            }
        }
        (history(ctx, state, &crate::council::Subject::Policy(id.into())))
    })
    .into_response()
}

crate::forms::subject_page!(policy => policy_page);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PublishForm {
    version: String,
    body: String,
    text: String,
    confirm: String,
    minor: String,
    consulted: String,
    #[serde(flatten)]
    when: When,
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<PublishForm>,
) -> Response {
    let Some(policy) = ctx.policy(&id) else {
        return not_found_page("No such policy");
    };
    let typed = [
        ("version", f.version.as_str()),
        ("body", f.body.as_str()),
        ("text", f.text.as_str()),
        ("consulted", f.consulted.as_str()),
    ];
    let refuse =
        |errors: &Errors| refused(policy_page_typed(&ctx, &state, &id, errors, "", &typed));
    let mut errors = Errors::default();
    let version = f.version.trim();
    let (current, accepted) = ctx.council.with_estate(|e| {
        let current = ctx.council.pack.current_version(e, &policy.id).to_owned();
        let accepted = policy.acceptance(e, &current).0.len();
        (current, accepted)
    });
    if version.is_empty() || version.chars().count() > 40 {
        errors.add(
            "version",
            "Enter the new version, for example 1.1 (at most 40 characters)",
        );
    } else if current == version {
        errors.add(
            "version",
            format!(
                "Version {version} is already current: enter a new version, or record a review"
            ),
        );
    } else if version == policy.version {
        errors.add(
            "version",
            format!("Version {version} is the one the council's pack was written for: enter a new version"),
        );
    }
    let body = optional(&f.body);
    if body.is_none() {
        errors.add(
            "body",
            "Enter the body that approved it, for example council",
        );
    }
    let text = f.text.trim();
    if text.is_empty() {
        errors.add(
            "text",
            "Enter the text of this version: it is what people accept",
        );
    } else if text.len() > 500_000 {
        errors.add(
            "text",
            "The text is longer than 500,000 characters: link to an annex instead",
        );
    }
    if accepted > 0 && f.confirm != "yes" {
        errors.add(
            "confirm",
            format!("Tick the box: the {accepted} people who accepted version {current} will need to accept the new one"),
        );
    }
    let Some(body) = body.filter(|_| errors.is_empty()) else {
        return refuse(&errors);
    };
    // The text is kept by its digest first; should the version then be
    // refused, the unused text harms nothing (it is content-addressed).
    let sha = match state.save_text(&ctx.council.id, text.to_owned()).await {
        Ok(sha) => sha,
        Err(e) => {
            tracing::error!(error = %e, "policy text not saved");
            return crate::forms::unavailable("The text could not be saved");
        }
    };
    let consulted: Vec<String> = f
        .consulted
        .split(',')
        .map(|c| c.trim().to_lowercase().replace([' ', '-'], "_"))
        .filter(|c| !c.is_empty())
        .collect();
    let kind = EventKind::PolicyApproved(PolicyApproved {
        policy: policy.id.clone(),
        version: version.to_owned(),
        body,
        text_sha256: Some(sha),
        minor: (f.minor == "yes").then_some(true),
        consulted: (!consulted.is_empty()).then_some(consulted),
    });
    let at = At::Form(&f.when, "publish-when");
    let next = format!("policies/{id}");
    record_then(&state, &ctx, (kind, "version", at), &next, refuse).await
}

async fn record(state: &AppState, ctx: &Ctx, id: &str, kind: EventKind, at: At<'_>) -> Response {
    record_about(
        state,
        ctx,
        (kind, "version", at),
        ("policies", id),
        policy_page,
    )
    .await
}

pub async fn review(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(when): Form<When>,
) -> Response {
    let kind = EventKind::PolicyReviewed(PolicyReviewed {
        policy: PolicyId::from(id.as_str()),
        version: None,
    });
    record(&state, &ctx, &id, kind, At::Form(&when, "review-when")).await
}

/// One version's text, as it was approved, with its SHA-256: what everyone
/// who accepted that version was shown.
pub async fn version(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id, version)): Path<(String, String, String)>,
) -> Response {
    let Some(policy) = ctx.policy(&id) else {
        return not_found_page("No such policy");
    };
    let text = match state.version_text(&ctx.council, &policy, &version).await {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, "policy text unreadable");
            return crate::forms::unavailable("The policy's text could not be read");
        }
    };
    let c = &ctx.council.id;
    let title = format!("{}, version {version}", policy.title);
    titled(&title, &ctx, &state, html! {
        @match &text {
            Some((markdown, sha)) => {
                div class="warden-policy-text" id="policy-text" { (crate::layout::markdown(markdown)) }
                p class="govuk-body-s warden-digest" { "Fingerprint of this text (SHA-256): " code id="text-sha256" { (sha) } }
            }
            None => {
                p class="govuk-body" { "The council has not supplied the text of version " (version) "." }
            }
        }
        a class="govuk-link" href=(format!("/c/{c}/policies/{id}")) { "Back to " (policy.title) }
    })
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommunicatedForm {
    to: String,
    #[serde(flatten)]
    when: When,
}

/// The current version made known to those the policy's RACI names as
/// Informed: what discharges a pack's "inform" clock.
pub async fn communicated(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    Form(f): Form<CommunicatedForm>,
) -> Response {
    let Some(policy) = ctx.policy(&id) else {
        return not_found_page("No such policy");
    };
    let Some(to) = optional(&f.to) else {
        let errors = Errors::one(
            "to",
            "Say who it was made known to, for example all_councillors",
        );
        return refused(policy_page(&ctx, &state, &id, &errors, ""));
    };
    let version = ctx
        .council
        .with_estate(|e| ctx.council.pack.current_version(e, &policy.id).to_owned());
    let kind = EventKind::PolicyCommunicated(domain::event::PolicyCommunicated {
        policy: policy.id.clone(),
        version,
        to,
    });
    record(
        &state,
        &ctx,
        &id,
        kind,
        At::Form(&f.when, "communicated-when"),
    )
    .await
}
