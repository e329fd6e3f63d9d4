//! Conditions on a field that one event type carries (`personal_data` of an
//! `incident_reported`, `course` of a `training_completed`, ...): one table,
//! read by the loader (the key a pack writes, and the one event type it may
//! apply to) and by the evaluator (what it reads of an event), so the two
//! cannot disagree. A new condition of this sort is a variant here and a
//! field in `RawFilter`.

use super::raw::RawFilter;
use domain::{EventKind, EventType};
use toml::Spanned;

/// A yes/no field of one event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFlag {
    PersonalData,
    Notifiable,
    Stolen,
    Wiped,
}

/// A text field of one event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventText {
    Category,
    Course,
    Agreement,
}

impl EventFlag {
    pub const ALL: [EventFlag; 4] = [
        EventFlag::PersonalData,
        EventFlag::Notifiable,
        EventFlag::Stolen,
        EventFlag::Wiped,
    ];

    /// The key a pack writes.
    pub fn name(self) -> &'static str {
        match self {
            EventFlag::PersonalData => "personal_data",
            EventFlag::Notifiable => "notifiable",
            EventFlag::Stolen => "stolen",
            EventFlag::Wiped => "wiped",
        }
    }

    /// The one event type that carries it.
    pub fn event(self) -> EventType {
        match self {
            EventFlag::PersonalData => EventType::IncidentReported,
            EventFlag::Notifiable => EventType::IncidentAssessed,
            EventFlag::Stolen => EventType::DeviceLost,
            EventFlag::Wiped => EventType::DeviceDisposed,
        }
    }

    /// What `kind` says (None for an event of another type).
    pub fn of(self, kind: &EventKind) -> Option<bool> {
        match (self, kind) {
            (EventFlag::PersonalData, EventKind::IncidentReported(e)) => Some(e.personal_data),
            (EventFlag::Notifiable, EventKind::IncidentAssessed(e)) => Some(e.notifiable),
            (EventFlag::Stolen, EventKind::DeviceLost(e)) => Some(e.stolen),
            (EventFlag::Wiped, EventKind::DeviceDisposed(e)) => Some(e.wiped),
            _ => None,
        }
    }

    /// What the pack wrote for it.
    pub(super) fn raw(self, raw: &RawFilter) -> Option<&Spanned<bool>> {
        match self {
            EventFlag::PersonalData => raw.personal_data.as_ref(),
            EventFlag::Notifiable => raw.notifiable.as_ref(),
            EventFlag::Stolen => raw.stolen.as_ref(),
            EventFlag::Wiped => raw.wiped.as_ref(),
        }
    }
}

impl EventText {
    pub const ALL: [EventText; 3] = [EventText::Category, EventText::Course, EventText::Agreement];

    /// The key a pack writes.
    pub fn name(self) -> &'static str {
        match self {
            EventText::Category => "category",
            EventText::Course => "course",
            EventText::Agreement => "agreement",
        }
    }

    /// The one event type that carries it.
    pub fn event(self) -> EventType {
        match self {
            EventText::Category => EventType::ExpenseClaimed,
            EventText::Course => EventType::TrainingCompleted,
            EventText::Agreement => EventType::AgreementSigned,
        }
    }

    /// What `kind` says (None for an event of another type).
    pub fn of(self, kind: &EventKind) -> Option<&str> {
        match (self, kind) {
            (EventText::Category, EventKind::ExpenseClaimed(e)) => Some(e.category.as_str()),
            (EventText::Course, EventKind::TrainingCompleted(e)) => Some(e.course.as_str()),
            (EventText::Agreement, EventKind::AgreementSigned(e)) => Some(e.agreement.as_str()),
            _ => None,
        }
    }

    /// What the pack wrote for it.
    pub(super) fn raw(self, raw: &RawFilter) -> Option<&Spanned<String>> {
        match self {
            EventText::Category => raw.category.as_ref(),
            EventText::Course => raw.course.as_ref(),
            EventText::Agreement => raw.agreement.as_ref(),
        }
    }
}
