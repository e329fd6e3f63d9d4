//! Shared test support: packs read from the repository's `packs/` folder.

use rules::{Calendar, HolidayFile, PackSource, PolicyPack, SourceFile};
use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Packs by name from `packs/`, and test packs held in memory.
pub struct TestPacks {
    pub extra: Vec<(String, String)>,
}

impl PackSource for TestPacks {
    fn read(&self, name: &str, _from: Option<&SourceFile>) -> Result<SourceFile, String> {
        if let Some((n, text)) = self.extra.iter().find(|(n, _)| n == name) {
            return Ok(SourceFile {
                name: n.clone(),
                text: text.as_str().into(),
            });
        }
        // A pack by name; anything with an extension (a policy text) as it is.
        let file = if Path::new(name).extension().is_some() {
            name.to_owned()
        } else {
            format!("{name}.toml")
        };
        let path = repo_root().join("packs").join(&file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(SourceFile {
            name: file,
            text: text.into(),
        })
    }
}

pub fn pack(name: &str) -> PolicyPack {
    match rules::load_pack(name, &TestPacks { extra: Vec::new() }) {
        Ok(pack) => pack,
        Err(errors) => panic!("pack {name} does not load: {errors:#?}"),
    }
}

pub fn calendar(pack: &PolicyPack) -> Calendar {
    Calendar::new(
        pack.time_zone.clone(),
        pack.division,
        &HolidayFile::bundled(),
    )
}

pub const PACKS: [&str; 6] = [
    "uk-baseline",
    "southend",
    "redditch",
    "sefton",
    "mid-devon",
    "leighton-linslade",
];
