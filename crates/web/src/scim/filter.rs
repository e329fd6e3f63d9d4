//! SCIM filters (RFC 7644 §3.4.2.2) as identity providers send them: one or
//! more `attribute eq value` joined by `and`. That is what Entra ID and
//! Okta send (`userName eq "a@b"`, `externalId eq "…"`, `displayName eq
//! "…"`); anything else is refused as `invalidFilter`, not guessed at.

use serde_json::Value;

/// A parsed filter: every comparison must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub all: Vec<Comparison>,
}

/// `path eq value`, the path as written (`userName`, `emails.value`,
/// `members.value`).
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub path: String,
    pub value: Value,
}

/// Why a filter was refused, for the SCIM error's detail.
pub type FilterError = String;

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut rest = text.trim();
        let mut all = Vec::new();
        loop {
            let (path, after) =
                word(rest).ok_or_else(|| format!("`{text}`: expected an attribute name"))?;
            let (op, after) = word(after)
                .ok_or_else(|| format!("`{text}`: expected an operator after `{path}`"))?;
            if !op.eq_ignore_ascii_case("eq") {
                return Err(format!(
                    "`{text}`: the operator `{op}` is not supported; Warden filters with `eq`, joined by `and`"
                ));
            }
            let (value, after) = literal(after).ok_or_else(|| {
                format!("`{text}`: expected a quoted string, true, false or null after `eq`")
            })?;
            all.push(Comparison {
                path: path.to_owned(),
                value,
            });
            let after = after.trim_start();
            if after.is_empty() {
                return Ok(Filter { all });
            }
            match word(after) {
                Some((and, next)) if and.eq_ignore_ascii_case("and") => rest = next,
                _ => {
                    return Err(format!(
                        "`{text}`: expected `and` or the end after a comparison; Warden filters with `eq`, joined by `and`"
                    ));
                }
            }
        }
    }

    /// Whether `resource` (a JSON object) satisfies every comparison.
    /// Attribute names are matched without regard to case, and string
    /// values too, but for ids (`id`, `externalId`, `value`), which are
    /// exact (RFC 7643's `caseExact`).
    pub fn matches(&self, resource: &Value) -> bool {
        self.all.iter().all(|c| {
            let exact = c.path.rsplit('.').next().is_some_and(|last| {
                ["id", "externalid", "value"].contains(&last.to_ascii_lowercase().as_str())
            });
            values_at(resource, &c.path)
                .iter()
                .any(|v| equal(v, &c.value, exact))
        })
    }
}

/// The values at a dotted path, through arrays (`emails.value` gives every
/// email's value).
pub fn values_at<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![resource];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            let items: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Some(found) = get_ci(item, part) {
                    match found {
                        Value::Array(inner) => next.extend(inner.iter()),
                        other => next.push(other),
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// A member of an object by name, without regard to case.
pub fn get_ci<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn equal(found: &Value, wanted: &Value, exact: bool) -> bool {
    match (found, wanted) {
        (Value::String(a), Value::String(b)) if !exact => a.eq_ignore_ascii_case(b),
        // Entra sends booleans as strings where a boolean is stored.
        (Value::Bool(a), Value::String(b)) => {
            b.eq_ignore_ascii_case(if *a { "true" } else { "false" })
        }
        (a, b) => a == b,
    }
}

/// The next word (an attribute path or an operator) and what follows.
fn word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let end = text.find(|c: char| c.is_whitespace()).unwrap_or(text.len());
    (end > 0).then(|| (&text[..end], &text[end..]))
}

/// A JSON literal at the start of `text`: a quoted string (with JSON's
/// escapes), true, false or null.
fn literal(text: &str) -> Option<(Value, &str)> {
    let text = text.trim_start();
    if text.starts_with('"') {
        let mut escaped = false;
        for (i, c) in text.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    let value: String = serde_json::from_str(&text[..=i]).ok()?;
                    return Some((Value::String(value), &text[i + 1..]));
                }
                _ => escaped = false,
            }
        }
        return None;
    }
    let (w, rest) = word(text)?;
    let value = match w.to_ascii_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => return None,
    };
    Some((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entra_s_filters_are_read_and_matched() {
        let user = json!({"userName": "Jo.Evans@Example.gov.uk", "externalId": "abc", "emails": [{"value": "jo@example.gov.uk"}]});
        let f = Filter::parse(r#"userName eq "jo.evans@example.gov.uk""#).expect("parse");
        assert!(f.matches(&user), "userName is not case-exact");
        let f = Filter::parse(r#"externalId eq "ABC""#).expect("parse");
        assert!(!f.matches(&user), "externalId is case-exact");
        let f = Filter::parse(r#"externalId eq "abc" and emails.value eq "jo@example.gov.uk""#)
            .expect("parse");
        assert!(f.matches(&user));
        let f = Filter::parse(r#"displayName eq "say \"hi\"""#).expect("parse");
        assert_eq!(f.all[0].value, json!("say \"hi\""));
    }

    #[test]
    fn other_operators_and_bad_syntax_are_refused_with_a_reason() {
        for bad in [
            r#"userName co "jo""#,
            r#"userName eq "jo" or displayName eq "x""#,
            r#"userName eq jo"#,
            r#"userName eq "unterminated"#,
            "",
        ] {
            let err = Filter::parse(bad).expect_err(bad);
            assert!(
                err.contains("expected") || err.contains("not supported"),
                "{bad}: {err}"
            );
        }
    }
}
