//! Two councils' packs side by side, rule aligned with rule by what it does
//! (`align::Signature`), and where they differ: the clock, who it is for,
//! what it requires, and the rules only one of them has, each with its
//! clause. The same alignment over any number of packs makes the seed
//! councils' comparison page.

use super::align::{Signature, aspects, described, signature};
use super::explain::{explain, source};
use crate::pack::{PolicyPack, Rule};
use serde::Serialize;
use std::collections::BTreeMap;

/// One side of a comparison: a rule, in words, with its clause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Side {
    pub rule: String,
    pub sentence: String,
    pub source: String,
    pub cite: String,
    /// Each aspect that can differ, in words (`within`: "48 hours").
    pub aspects: Vec<(&'static str, String)>,
}

/// One aspect on which two aligned rules differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub aspect: &'static str,
    pub a: String,
    pub b: String,
}

/// Two rules that do the same thing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pair {
    /// What both do: "after leaving, for each device held: the device returned or a loss reported".
    pub what: String,
    pub kind: &'static str,
    pub a: Side,
    pub b: Side,
    /// Empty when the two say the same.
    pub differences: Vec<Difference>,
}

/// A rule the other pack has nothing like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alone {
    pub what: String,
    pub kind: &'static str,
    pub side: Side,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackDiff {
    pub a: String,
    pub b: String,
    pub pairs: Vec<Pair>,
    pub only_a: Vec<Alone>,
    pub only_b: Vec<Alone>,
}

impl PackDiff {
    /// Whether the two packs ask the same things in the same terms.
    pub fn is_empty(&self) -> bool {
        self.only_a.is_empty()
            && self.only_b.is_empty()
            && self.pairs.iter().all(|p| p.differences.is_empty())
    }

    /// The pairs that differ.
    pub fn differing(&self) -> impl Iterator<Item = &Pair> {
        self.pairs.iter().filter(|p| !p.differences.is_empty())
    }
}

fn side(rule: &Rule, pack: &PolicyPack) -> Side {
    let e = explain(rule, pack);
    Side {
        rule: rule.id.clone(),
        sentence: e.sentence,
        source: source(&rule.cite),
        cite: rule.cite.clone(),
        aspects: aspects(rule, pack),
    }
}

fn differences(a: &Side, b: &Side) -> Vec<Difference> {
    a.aspects
        .iter()
        .zip(&b.aspects)
        .filter(|((_, x), (_, y))| x != y)
        .map(|((aspect, x), (_, y))| Difference {
            aspect,
            a: x.clone(),
            b: y.clone(),
        })
        .collect()
}

/// The rules of each pack by what they do, in pack order.
fn by_signature(pack: &PolicyPack) -> BTreeMap<Signature, Vec<&Rule>> {
    let mut groups: BTreeMap<Signature, Vec<&Rule>> = BTreeMap::new();
    for rule in &pack.rules {
        groups.entry(signature(&rule.kind)).or_default().push(rule);
    }
    groups
}

/// `a` against `b`. Where several rules of each do the same thing, each is
/// paired with the one it differs from least.
pub fn diff(a: &PolicyPack, b: &PolicyPack) -> PackDiff {
    let (groups_a, mut groups_b) = (by_signature(a), by_signature(b));
    let mut out = PackDiff {
        a: a.id.clone(),
        b: b.id.clone(),
        pairs: Vec::new(),
        only_a: Vec::new(),
        only_b: Vec::new(),
    };
    for (sig, rules_a) in groups_a {
        let mut rest_b: Vec<Side> = groups_b
            .remove(&sig)
            .unwrap_or_default()
            .into_iter()
            .map(|r| side(r, b))
            .collect();
        for rule in rules_a {
            let what = described(&rule.kind);
            let kind = rule.kind.name();
            let sa = side(rule, a);
            let best = (0..rest_b.len()).min_by_key(|&i| differences(&sa, &rest_b[i]).len());
            match best {
                Some(i) => {
                    let sb = rest_b.remove(i);
                    let differences = differences(&sa, &sb);
                    out.pairs.push(Pair {
                        what,
                        kind,
                        a: sa,
                        b: sb,
                        differences,
                    });
                }
                None => out.only_a.push(Alone {
                    what,
                    kind,
                    side: sa,
                }),
            }
        }
        for sb in rest_b {
            let rule = b.rule(&sb.rule).map(|r| &r.kind);
            out.only_b.push(Alone {
                what: rule.map(described).unwrap_or_default(),
                kind: rule.map_or("", |k| k.name()),
                side: sb,
            });
        }
    }
    for rules_b in groups_b.into_values() {
        for rule in rules_b {
            out.only_b.push(Alone {
                what: described(&rule.kind),
                kind: rule.kind.name(),
                side: side(rule, b),
            });
        }
    }
    out
}

/// The diff as text: what differs, then what only one pack has.
pub fn render_text(d: &PackDiff) -> String {
    let mut out = String::new();
    for p in d.differing() {
        out.push_str(&format!("~ {} ({})\n", p.what, p.kind));
        for diff in &p.differences {
            out.push_str(&format!("    {}: {} | {}\n", diff.aspect, diff.a, diff.b));
        }
        out.push_str(&format!("    {}: {} ({})\n", d.a, p.a.rule, p.a.source));
        out.push_str(&format!("    {}: {} ({})\n", d.b, p.b.rule, p.b.source));
    }
    for (pack, alone, sign) in [(&d.a, &d.only_a, '-'), (&d.b, &d.only_b, '+')] {
        for x in alone {
            out.push_str(&format!(
                "{sign} only {pack}: {} ({})\n    {}\n    {} ({})\n",
                x.what, x.kind, x.side.sentence, x.side.rule, x.side.source
            ));
        }
    }
    let same = d.pairs.len() - d.differing().count();
    out.push_str(&format!(
        "{} vs {}: {} rule{} alike, {} differing, {} only in {}, {} only in {}\n",
        d.a,
        d.b,
        same,
        if same == 1 { "" } else { "s" },
        d.differing().count(),
        d.only_a.len(),
        d.a,
        d.only_b.len(),
        d.b
    ));
    out
}

/// One row of a side-by-side comparison of many packs: what the rules do,
/// and each pack's rules that do it (none, one, or several).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub what: String,
    pub kind: &'static str,
    pub cells: Vec<Vec<Side>>,
}

/// Every pack's rules aligned by what they do: one row per idea, one column
/// per pack. Rows that every pack has come first.
pub fn side_by_side(packs: &[&PolicyPack]) -> Vec<Row> {
    let mut rows: BTreeMap<Signature, Row> = BTreeMap::new();
    for (column, pack) in packs.iter().enumerate() {
        for rule in &pack.rules {
            let row = rows.entry(signature(&rule.kind)).or_insert_with(|| Row {
                what: described(&rule.kind),
                kind: rule.kind.name(),
                cells: vec![Vec::new(); packs.len()],
            });
            row.cells[column].push(side(rule, pack));
        }
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.cells.iter().filter(|c| !c.is_empty()).count()));
    rows
}
