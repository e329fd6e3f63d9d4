//! The packs in `packs/`, compiled in: the five councils and the UK
//! baseline they include. The binary offers them by name; benchmarks and the
//! generator's tests load them without touching the file system.

use crate::pack::{PackSource, SourceFile};

pub const BUNDLED: &[(&str, &str)] = &[
    (
        "uk-baseline",
        include_str!("../../../packs/uk-baseline.toml"),
    ),
    ("southend", include_str!("../../../packs/southend.toml")),
    ("redditch", include_str!("../../../packs/redditch.toml")),
    ("sefton", include_str!("../../../packs/sefton.toml")),
    ("mid-devon", include_str!("../../../packs/mid-devon.toml")),
    (
        "leighton-linslade",
        include_str!("../../../packs/leighton-linslade.toml"),
    ),
];

/// Policy texts the bundled packs name (`text = ...`), by that name.
pub const TEXTS: &[(&str, &str)] = &[(
    "texts/southend-councillor-ict.md",
    include_str!("../../../packs/texts/southend-councillor-ict.md"),
)];

/// The councils' packs, in the order `warden generate` hands them out.
pub const COUNCILS: [&str; 5] = [
    "southend",
    "redditch",
    "sefton",
    "mid-devon",
    "leighton-linslade",
];

/// The bundled packs and nothing else.
pub struct Bundled;

impl PackSource for Bundled {
    fn read(&self, name: &str, _from: Option<&SourceFile>) -> Result<SourceFile, String> {
        if let Some((_, text)) = TEXTS.iter().find(|(n, _)| *n == name) {
            return Ok(SourceFile {
                name: format!("bundled:{name}"),
                text: (*text).into(),
            });
        }
        bundled(name).ok_or_else(|| {
            let names: Vec<_> = BUNDLED.iter().map(|(id, _)| *id).collect();
            format!(
                "no pack file `{name}` and no bundled pack of that name (bundled: {})",
                names.join(", ")
            )
        })
    }
}

/// The bundled pack called `name` (with or without `.toml`).
pub fn bundled(name: &str) -> Option<SourceFile> {
    let name = name.trim_end_matches(".toml");
    BUNDLED
        .iter()
        .find(|(id, _)| *id == name)
        .map(|(id, text)| SourceFile {
            name: format!("bundled:{id}"),
            text: (*text).into(),
        })
}
