//! The imports page: an ICT administrator uploads an export of a system the
//! council already runs (an HR file, Entra ID's users, Intune's or
//! Snipe-IT's devices), sees what it would record, row by row, and records
//! it as history, all or nothing. The same reading and planning as `warden
//! import-csv` (the `imports` crate); the file is sent again with the
//! second press, and planned again against the estate as it then stands.

use crate::ctx::Ctx;
use crate::forms::{Errors, When, button, csrf, error_summary, file_input, refused, when_input};
use crate::layout::{table_head, titled, when};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use imports::{Format, Plan, ReadError};
use maud::{Markup, html};

/// What the upload form sent.
#[derive(Default)]
struct Sent {
    /// The file's name, as the browser gave it.
    name: String,
    content: String,
    format: String,
    /// A mapping file's TOML, for any other CSV.
    mapping: String,
    as_of: When,
    complete: bool,
    /// The second press: record what was shown.
    apply: bool,
}

async fn read_form(mut form: Multipart) -> Result<Sent, String> {
    let mut sent = Sent::default();
    let bad =
        |e: axum::extract::multipart::MultipartError| format!("The upload could not be read: {e}");
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    sent.name = file_name;
                    sent.content = String::from_utf8(bytes.to_vec()).map_err(|e| {
                        format!(
                            "The file is not UTF-8 text (byte {}): save the export as CSV UTF-8",
                            e.utf8_error().valid_up_to()
                        )
                    })?;
                }
            }
            "content" => {
                let text = field.text().await.map_err(bad)?;
                if sent.content.is_empty() {
                    sent.content = text;
                }
            }
            "file_name" => {
                let text = field.text().await.map_err(bad)?;
                if sent.name.is_empty() {
                    sent.name = text;
                }
            }
            "format" => sent.format = field.text().await.map_err(bad)?,
            "mapping_file" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    sent.mapping = String::from_utf8(bytes.to_vec())
                        .map_err(|_| "The mapping file is not UTF-8 text".to_owned())?;
                }
            }
            "mapping" => {
                let text = field.text().await.map_err(bad)?;
                if sent.mapping.is_empty() {
                    sent.mapping = text;
                }
            }
            "when_date" => sent.as_of.when_date = field.text().await.map_err(bad)?,
            "when_time" => sent.as_of.when_time = field.text().await.map_err(bad)?,
            "when_default" => sent.as_of.when_default = field.text().await.map_err(bad)?,
            "complete" => sent.complete = field.text().await.map_err(bad)? == "yes",
            "apply" => sent.apply = field.text().await.map_err(bad)? == "yes",
            _ => {}
        }
    }
    Ok(sent)
}

fn formats() -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Work it out from the header".to_owned())];
    options.extend(Format::ALL.map(|f| (f.name().to_owned(), f.name().to_owned())));
    options
}

fn upload_form(ctx: &Ctx, sent: &Sent, errors: &Errors) -> Markup {
    let c = &ctx.council.id;
    html! {
        form method="post" action=(format!("/c/{c}/imports")) enctype="multipart/form-data" novalidate {
            (csrf(ctx))
            (file_input("file", "Export file (CSV)", "An HR starters, movers and leavers file, Entra ID's \"Download users\", Intune's device export, or Snipe-IT's users or assets. See the formats in docs/imports.md.", ".csv,text/csv", errors))
            (crate::forms::select("format", "Format", &formats(), &sent.format, errors))
            (file_input("mapping_file", "Mapping file (optional, for any other CSV)", "A TOML file naming which column holds each field, how the file writes its values and dates. With one, the format above is not used. See docs/imports.md.", ".toml,text/plain", errors))
            (when_input(ctx, "as_of", &sent.as_of, "When the file's state held (what it does not date is dated then)", errors))
            div class="govuk-form-group" {
                div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes" {
                    div class="govuk-checkboxes__item" {
                        input class="govuk-checkboxes__input" id="complete" name="complete" type="checkbox" value="yes" checked[sent.complete];
                        label class="govuk-label govuk-checkboxes__label" for="complete" {
                            "The file lists everyone: a person it leaves out has left"
                        }
                    }
                }
            }
            (button("Check the file"))
        }
    }
}

fn page(ctx: &Ctx, state: &AppState, sent: &Sent, errors: &Errors, body: Markup) -> Markup {
    titled(
        "Import an export",
        ctx,
        state,
        html! {
            (error_summary(errors))
            (body)
            p class="govuk-body" {
                "Warden compares the file with what it holds and shows what it would record: who joined, moved or left, which devices came, changed hands or went. Nothing is recorded until you say so. Running the same file again records nothing."
            }
            (upload_form(ctx, sent, errors))
        },
    )
}

pub async fn form(State(state): State<AppState>, Extension(ctx): Extension<Ctx>) -> Markup {
    page(&ctx, &state, &Sent::default(), &Errors::default(), html! {})
}

/// Every problem of a file, by line: the page's error table.
fn problems(errors: &[ReadError]) -> Markup {
    html! {
        table class="govuk-table" id="import-problems" {
            caption class="govuk-table__caption govuk-table__caption--m" { "What is wrong with the file" }
            (table_head(&["Line", "Column", "Problem"], &[]))
            tbody class="govuk-table__body" {
                @for e in errors {
                    @let (line, column, message) = match e {
                        ReadError::Line { line, message } => (*line, String::new(), message.clone()),
                        ReadError::Cell { line, column, message } => (*line, column.clone(), message.clone()),
                    };
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { (line) }
                        td class="govuk-table__cell" { (column) }
                        td class="govuk-table__cell" { (message) }
                    }
                }
            }
        }
    }
}

/// The plan, in the council's words: how many of each, the first rows of
/// each, and what was read but not acted on.
fn plan_table(ctx: &Ctx, plan: &Plan) -> Markup {
    html! {
        @if plan.events.is_empty() {
            p class="govuk-body" id="import-nothing" { "Nothing to record: Warden already holds what the file says." }
        }
        @for (name, count) in plan.counts() {
            @let words = domain::EventType::from_name(name).map_or(name, |t| t.words());
            h3 class="govuk-heading-s" { (count) " × " (words) }
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { (words) }
                (table_head(&["Line", "Who or what", "When"], &[]))
                tbody class="govuk-table__body" {
                    @for (line, event) in plan.events.iter().filter(|(_, e)| e.kind.event_type().name() == name).take(5) {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { @if *line == 0 { "(not in the file)" } @else { (line) } }
                            td class="govuk-table__cell" {
                                (event.kind.device().map(|d| d.to_string()).or_else(|| event.kind.person().map(|p| p.to_string())).unwrap_or_default())
                            }
                            td class="govuk-table__cell" { (when(ctx, event.at)) }
                        }
                    }
                }
            }
        }
        @if !plan.notes.is_empty() {
            h3 class="govuk-heading-s" { "Read but not acted on" }
            ul class="govuk-list govuk-list--bullet" id="import-notes" {
                @for (line, note) in &plan.notes { li { "Line " (line) ": " (note) } }
            }
        }
    }
}

/// The second press: the file and the choices again, hidden, and the button.
fn record_form(ctx: &Ctx, sent: &Sent, count: usize) -> Markup {
    let c = &ctx.council.id;
    html! {
        form method="post" action=(format!("/c/{c}/imports")) enctype="multipart/form-data" {
            (csrf(ctx))
            input type="hidden" name="content" value=(sent.content);
            input type="hidden" name="file_name" value=(sent.name);
            input type="hidden" name="format" value=(sent.format);
            input type="hidden" name="mapping" value=(sent.mapping);
            input type="hidden" name="when_date" value=(sent.as_of.when_date);
            input type="hidden" name="when_time" value=(sent.as_of.when_time);
            input type="hidden" name="when_default" value=(sent.as_of.when_default);
            @if sent.complete { input type="hidden" name="complete" value="yes"; }
            input type="hidden" name="apply" value="yes";
            (button(&format!("Record these {count} events")))
        }
    }
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    form: Multipart,
) -> Response {
    let sent = match read_form(form).await {
        Ok(sent) => sent,
        Err(message) => {
            let errors = Errors::one("file", message);
            return refused(page(&ctx, &state, &Sent::default(), &errors, html! {}));
        }
    };
    let again = |errors: &Errors, body: Markup| refused(page(&ctx, &state, &sent, errors, body));
    if sent.content.trim().is_empty() {
        return again(
            &Errors::one("file", "Choose a CSV file to upload"),
            html! {},
        );
    }
    let format = match sent.format.as_str() {
        "" => None,
        name => match Format::from_name(name) {
            Some(f) => Some(f),
            None => {
                return again(
                    &Errors::one("format", "Choose one of the formats"),
                    html! {},
                );
            }
        },
    };
    let as_of = match sent.as_of.at(&ctx) {
        Ok(at) => at,
        Err(e) => return again(&Errors::one("as_of", e), html! {}),
    };
    let file_errors = |errors: Vec<ReadError>| {
        let summary = Errors::one(
            "file",
            format!(
                "{} has {} problems: nothing was recorded",
                name_of(&sent),
                errors.len()
            ),
        );
        again(&summary, problems(&errors))
    };
    let (format, read_as, rows) = if sent.mapping.trim().is_empty() {
        match imports::read(sent.content.as_bytes(), format) {
            Ok((format, rows)) => (
                format.name().to_owned(),
                format!("read as {}", format.name()),
                rows,
            ),
            Err(errors) => return file_errors(errors),
        }
    } else {
        let mapping = match imports::Mapping::parse(&sent.mapping) {
            Ok(m) => m,
            Err(errors) => {
                let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
                let message = format!("The mapping file: {}", said.join("; "));
                return again(&Errors::one("mapping_file", message), html! {});
            }
        };
        match imports::read_mapped(sent.content.as_bytes(), &mapping) {
            Ok(rows) => (String::new(), "read with the mapping file".to_owned(), rows),
            Err(errors) => return file_errors(errors),
        }
    };
    let options = imports::Options {
        as_of: Some(as_of),
        complete: sent.complete,
        tz: ctx.council.pack.time_zone.clone(),
        now: ctx.now,
    };
    let plan = match ctx
        .council
        .with_estate(|estate| imports::plan(estate, &rows, &options))
    {
        Ok(plan) => plan,
        Err(errors) => return file_errors(errors),
    };
    let read = html! {
        p class="govuk-body" id="import-read" {
            (name_of(&sent)) ": " (read_as) ", " (rows.len()) " rows."
        }
    };
    if !sent.apply || plan.events.is_empty() {
        let count = plan.events.len();
        let body = html! {
            (read)
            h2 class="govuk-heading-m" { "What it would record" }
            (plan_table(&ctx, &plan))
            @if count > 0 { (record_form(&ctx, &Sent { format: format.clone(), ..sent_copy(&sent) }, count)) }
            h2 class="govuk-heading-m" { "Check another file" }
        };
        return page(&ctx, &state, &Sent::default(), &Errors::default(), body).into_response();
    }
    let events: Vec<domain::Event> = plan.events.iter().map(|(_, e)| e.clone()).collect();
    match state.record_history(&ctx.council, events).await {
        Ok(recorded) => {
            let c = &ctx.council.id;
            let body = html! {
                div class="govuk-panel govuk-panel--confirmation" id="import-recorded" {
                    h2 class="govuk-panel__title" { "Recorded " (recorded.seqs.len()) " events" }
                    div class="govuk-panel__body" { "from " (name_of(&sent)) }
                }
                @if recorded.violations > 0 {
                    p class="govuk-body" {
                        (recorded.violations) " of them broke a rule when they happened: see "
                        a class="govuk-link" href=(format!("/c/{c}/findings")) { "the findings" } "."
                    }
                }
                h2 class="govuk-heading-m" { "Import another file" }
            };
            page(&ctx, &state, &Sent::default(), &Errors::default(), body).into_response()
        }
        Err(e) => {
            let errors = Errors::from_command(e, "file");
            again(&errors, read)
        }
    }
}

fn name_of(sent: &Sent) -> String {
    if sent.name.is_empty() {
        "The file".to_owned()
    } else {
        sent.name.clone()
    }
}

fn sent_copy(sent: &Sent) -> Sent {
    Sent {
        name: sent.name.clone(),
        content: sent.content.clone(),
        format: sent.format.clone(),
        mapping: sent.mapping.clone(),
        as_of: sent.as_of.clone(),
        complete: sent.complete,
        apply: false,
    }
}
