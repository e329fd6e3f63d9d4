//! The control frameworks a rule can say it evidences: ISO/IEC 27001:2022
//! Annex A, the NCSC Cyber Assessment Framework v4.0 (its contributing
//! outcomes) and Cyber Essentials' five requirement areas. Identifiers and
//! short names only (`data/control-frameworks.json`), never a standard's text.

use serde::Deserialize;
use std::sync::OnceLock;

/// A framework of controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    Iso27001,
    Caf,
    CyberEssentials,
}

impl Framework {
    pub const ALL: [Framework; 3] = [
        Framework::Iso27001,
        Framework::Caf,
        Framework::CyberEssentials,
    ];

    /// Its key in a pack's `controls`.
    pub fn key(self) -> &'static str {
        match self {
            Framework::Iso27001 => "iso27001",
            Framework::Caf => "caf",
            Framework::CyberEssentials => "cyber_essentials",
        }
    }

    /// Its name as people read it.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Iso27001 => "ISO/IEC 27001:2022 Annex A",
            Framework::Caf => "NCSC Cyber Assessment Framework v4.0",
            Framework::CyberEssentials => "Cyber Essentials",
        }
    }

    /// What an identifier looks like, for an error.
    pub fn example(self) -> &'static str {
        match self {
            Framework::Iso27001 => "\"A.5.11\"",
            Framework::Caf => "\"B2.a\"",
            Framework::CyberEssentials => "\"user_access_control\"",
        }
    }

    /// Every control of the framework, (id, short name), in its order.
    pub fn controls(self) -> &'static [(String, String)] {
        let catalogue = catalogue();
        match self {
            Framework::Iso27001 => &catalogue.iso,
            Framework::Caf => &catalogue.caf,
            Framework::CyberEssentials => &catalogue.ce,
        }
    }

    /// The short name of a control, if the framework has it.
    pub fn title(self, id: &str) -> Option<&'static str> {
        self.controls()
            .iter()
            .find(|(c, _)| c == id)
            .map(|(_, t)| t.as_str())
    }
}

/// A control a rule evidences.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Control {
    pub framework: Framework,
    pub id: String,
}

struct Catalogue {
    iso: Vec<(String, String)>,
    caf: Vec<(String, String)>,
    ce: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "caf_4.0")]
    caf: Caf,
    iso27001_2022_annex_a: Vec<Iso>,
}

#[derive(Deserialize)]
struct Caf {
    contributing_outcomes: Vec<Outcome>,
}

#[derive(Deserialize)]
struct Outcome {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Iso {
    id: String,
    title: String,
}

const FILE: &str = include_str!("../../../../data/control-frameworks.json");

/// Cyber Essentials' requirement areas (NCSC, "Cyber Essentials:
/// Requirements for IT infrastructure").
const CYBER_ESSENTIALS: [(&str, &str); 5] = [
    ("firewalls", "Firewalls"),
    ("secure_configuration", "Secure configuration"),
    ("security_update_management", "Security update management"),
    ("user_access_control", "User access control"),
    ("malware_protection", "Malware protection"),
];

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // The file is compiled in and checked by a test; a file that does
        // not parse leaves the catalogue empty, and every id is refused.
        let file: Option<File> = serde_json::from_str(FILE).ok();
        let (iso, caf) = match file {
            Some(f) => (
                f.iso27001_2022_annex_a
                    .into_iter()
                    .map(|c| (format!("A.{}", c.id), c.title))
                    .collect(),
                f.caf
                    .contributing_outcomes
                    .into_iter()
                    .map(|o| (o.id, o.name))
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        Catalogue {
            iso,
            caf,
            ce: CYBER_ESSENTIALS
                .iter()
                .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
                .collect(),
        }
    })
}
