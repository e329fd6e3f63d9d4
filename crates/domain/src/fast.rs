//! The fast way to decode an event: straight into its typed fields, with no
//! intermediate `serde_json::Value`. A first pass over the text finds
//! `type` (skipping every other value without allocating); the second
//! decodes the type's fields struct from the same text, through a thin
//! adapter that lifts `at`, `by` and `type` out of the object before the
//! struct (still `deny_unknown_fields`) sees it.
//!
//! Anything unusual (a missing or malformed envelope field, an escaped key,
//! any error at all) returns `None`, and `parse_event` takes the careful path
//! that explains what is wrong. So this changes speed, never meaning.

use crate::event::{Event, EventKind, EventType};
use crate::ids::{EventRef, PersonId};
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// The envelope fields, caught on the way past.
#[derive(Default)]
pub(crate) struct Envelope<'de> {
    at: Option<&'de str>,
    recorded: Option<&'de str>,
    id: Option<&'de str>,
    by: Option<Option<&'de str>>,
}

pub(crate) fn parse(text: &str) -> Option<Event> {
    #[derive(Deserialize)]
    struct TypeOnly<'a> {
        #[serde(rename = "type", borrow)]
        kind: &'a str,
    }
    let event_type = EventType::from_name(
        type_name(text).or_else(|| serde_json::from_str::<TypeOnly>(text).ok().map(|t| t.kind))?,
    )?;
    let mut envelope = Envelope::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let kind = EventKind::decode_typed(
        event_type,
        Lift {
            inner: &mut de,
            envelope: &mut envelope,
        },
    )
    .ok()?;
    de.end().ok()?;
    let at = envelope.at?.parse::<Timestamp>().ok()?;
    let recorded = match envelope.recorded {
        Some(text) => Some(text.parse::<Timestamp>().ok()?),
        None => None,
    };
    let id = match envelope.id {
        Some(text) => Some(text.parse::<EventRef>().ok()?),
        None => None,
    };
    let by = envelope.by.flatten().map(PersonId::from);
    Some(Event {
        at,
        recorded,
        id,
        by,
        kind,
    })
}

/// The `type` of an event by a scan rather than a parse. The raw sequence
/// `"type":"` can only be the key: inside a JSON string its quotes would be
/// escaped. An event written with spaces around the colon falls back to a
/// parse; a wrong answer is impossible, since the typed decode that follows
/// would then fail and the careful path take over.
fn type_name(text: &str) -> Option<&str> {
    let start = text.find("\"type\":\"")? + "\"type\":\"".len();
    let rest = text.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// A deserializer that hands a struct visitor the object's fields minus the
/// envelope.
pub(crate) struct Lift<'a, 'de, D> {
    pub(crate) inner: D,
    pub(crate) envelope: &'a mut Envelope<'de>,
}

impl<'a, 'de, D: Deserializer<'de>> Deserializer<'de> for Lift<'a, 'de, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(LiftVisitor {
            visitor,
            envelope: self.envelope,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct LiftVisitor<'a, 'de, V> {
    visitor: V,
    envelope: &'a mut Envelope<'de>,
}

impl<'a, 'de, V: Visitor<'de>> Visitor<'de> for LiftVisitor<'a, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(LiftMap {
            map,
            envelope: self.envelope,
        })
    }
}

struct LiftMap<'a, 'de, A> {
    map: A,
    envelope: &'a mut Envelope<'de>,
}

impl<'a, 'de, A: MapAccess<'de>> MapAccess<'de> for LiftMap<'a, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<&'de str>()? else {
                return Ok(None);
            };
            match key {
                "at" => self.envelope.at = Some(self.map.next_value::<&'de str>()?),
                "recorded" => self.envelope.recorded = Some(self.map.next_value::<&'de str>()?),
                "id" => self.envelope.id = Some(self.map.next_value::<&'de str>()?),
                "by" => self.envelope.by = Some(self.map.next_value::<Option<&'de str>>()?),
                "type" => {
                    self.map.next_value::<IgnoredAny>()?;
                }
                field => {
                    return seed
                        .deserialize(de::value::BorrowedStrDeserializer::new(field))
                        .map(Some);
                }
            }
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn careful(text: &str) -> Option<Event> {
        crate::log::parse_event_carefully(text).ok()
    }

    #[test]
    fn agrees_with_the_careful_path_on_every_example_event() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut seen = 0;
        for path in example_logs(&root) {
            let text = std::fs::read_to_string(path).expect("example");
            for line in text.lines() {
                let fast = parse(line);
                assert!(
                    fast.is_some(),
                    "the fast path should take every well-formed event: {line}"
                );
                assert_eq!(fast, careful(line), "{line}");
                seen += 1;
            }
        }
        assert!(seen > 1_000, "read the examples ({seen})");
    }

    #[test]
    fn declines_what_it_cannot_decode_and_agrees_on_the_rest() {
        let cases = [
            // fields in any order, `by` present or null, `type` not first
            r#"{"person":"p1","by":"p2","at":"2025-04-01T09:00:00+01:00","type":"person_left"}"#,
            r#"{"at":"2025-04-01T09:00:00Z","by":null,"type":"person_left","person":"p1"}"#,
            // mistakes: all must be declined, so the careful path explains them
            r#"{"at":"2025-04-01T09:00:00","type":"person_left","person":"p1"}"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","persn":"p1"}"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left"}"#,
            r#"{"type":"person_left","person":"p1"}"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","person":"p1","by":7}"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"nope","person":"p1"}"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","person":"p1"} trailing"#,
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","pers\u006fn":"p1"}"#,
        ];
        for text in cases {
            let fast = parse(text);
            if fast.is_some() {
                assert_eq!(fast, careful(text), "{text}");
            } else {
                let careful_ok = careful(text).is_some();
                // Declining is always allowed; only an escaped key may be
                // declined by the fast path yet accepted by the careful one.
                assert!(
                    !careful_ok || text.contains("\\u"),
                    "declined a sound event: {text}"
                );
            }
        }
        assert!(parse(cases[0]).is_some() && parse(cases[1]).is_some());
    }

    /// Every line of the committed examples takes the fast path: a replay's
    /// speed depends on it, and a decline costs a second, slower parse.
    #[test]
    fn every_example_line_takes_the_fast_path() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut lines = 0;
        for path in example_logs(&dir) {
            let text = std::fs::read_to_string(&path).expect("example");
            for line in text.lines() {
                lines += 1;
                assert!(parse(line).is_some(), "{}: declined {line}", path.display());
            }
        }
        assert!(lines > 1_000);
    }

    /// The example logs (`examples/*.jsonl`; `examples/imports/` holds CSV).
    fn example_logs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .expect("examples")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        logs.sort();
        assert_eq!(logs.len(), 5, "the five councils' examples");
        logs
    }
}
