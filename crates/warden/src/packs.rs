//! Where `--pack` finds packs: a file path, a file beside the including
//! pack, or one of the packs compiled into the binary, so `--pack southend`
//! works from any directory.

use rules::{PackSource, SourceFile};
use std::path::{Path, PathBuf};

pub use rules::bundled::BUNDLED;

pub struct Packs;

impl PackSource for Packs {
    fn read(&self, name: &str, from: Option<&SourceFile>) -> Result<SourceFile, String> {
        for path in candidates(name, from) {
            if path.is_file() {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                return Ok(SourceFile {
                    name: path.display().to_string(),
                    text: text.into(),
                });
            }
        }
        rules::bundled::Bundled.read(name, from)
    }
}

/// Files that `name` may mean: itself, and beside the including file.
fn candidates(name: &str, from: Option<&SourceFile>) -> Vec<PathBuf> {
    let with_ext = |p: PathBuf| {
        if p.extension().is_some() {
            p
        } else {
            p.with_extension("toml")
        }
    };
    match from {
        None => vec![PathBuf::from(name)],
        Some(file) if file.name.starts_with("bundled:") => Vec::new(),
        Some(file) => {
            let dir = Path::new(&file.name).parent().unwrap_or(Path::new("."));
            vec![with_ext(dir.join(name))]
        }
    }
}
