//! `[[reminder]]`: who is told of which findings, and when. Every mistake is
//! named where it is written: an unknown rule or kind, an offset that is
//! negative or not in hours, days or weeks, a share that is not a per cent.

use super::*;
use jiff::SignedDuration;

const KINDS: [&str; 2] = ["obligation", "recurrence"];

impl Ctx<'_> {
    pub(super) fn reminder(
        &mut self,
        raw: &RawReminder,
        rules: &[Rule],
        pack: &str,
    ) -> Option<ReminderPolicy> {
        let before_errors = self.errors.len();
        let applies = self.applies(raw, rules);
        let tell = self.recipients(&raw.tell);
        if tell.is_empty() {
            self.error(raw.tell.span(), "`tell` names no one: expected \"subject\", \"manager\" or a role such as \"ict_admin\"");
        }
        let otherwise = match &raw.otherwise {
            Some(list) => self.recipients(list),
            None => vec![Recipient::Role(Role::from("ict_admin"))],
        };
        let mut before: Vec<SignedDuration> =
            raw.before.iter().filter_map(|o| self.offset(o)).collect();
        before.sort_by(|a, b| b.cmp(a));
        before.dedup();
        let before_share = raw.before_share.as_ref().and_then(|share| {
            let value = *share.get_ref();
            let fits = (1..=99).contains(&value);
            if !fits {
                self.error(
                    share.span(),
                    format!("`before_share` is {value}: expected a per cent from 1 to 99"),
                );
            }
            u8::try_from(value).ok().filter(|_| fits)
        });
        let overdue_every = raw.overdue_every.as_ref().and_then(|o| self.offset(o));
        if let (Some(every), Some(raw_every)) = (overdue_every, &raw.overdue_every)
            && every.is_zero()
        {
            self.error(
                raw_every.span(),
                "`overdue_every` must be longer than nothing",
            );
        }
        let escalate_after = match &raw.escalate_after {
            None => 0,
            Some(n) => match u32::try_from(*n.get_ref()) {
                Ok(n) => n,
                Err(_) => {
                    self.error(
                        n.span(),
                        "`escalate_after` is a count of overdue reminders: expected 0 or more",
                    );
                    0
                }
            },
        };
        let escalate_to = raw
            .escalate_to
            .as_ref()
            .map(|list| self.recipients(list))
            .unwrap_or_default();
        if escalate_to.is_empty()
            && let Some(n) = &raw.escalate_after
        {
            self.error(
                n.span(),
                "`escalate_after` without `escalate_to`: say who is told",
            );
        }
        (self.errors.len() == before_errors).then(|| ReminderPolicy {
            applies: applies.unwrap_or(Applies::Every),
            tell,
            otherwise,
            before,
            before_share,
            overdue_every,
            escalate_after,
            escalate_to,
            pack: pack.to_owned(),
        })
    }

    fn applies(&mut self, raw: &RawReminder, rules: &[Rule]) -> Option<Applies> {
        let chosen = [
            raw.rules.as_ref().map(|r| r.span()),
            raw.kinds.as_ref().map(|k| k.span()),
            raw.digest.as_ref().map(|d| d.span()),
        ];
        if chosen.iter().flatten().count() > 1
            && let Some(span) = chosen.into_iter().flatten().nth(1)
        {
            self.error(
                span,
                "a reminder is for `rules`, for `kinds` or a `digest`: one of them",
            );
            return None;
        }
        if let Some(list) = &raw.rules {
            for id in list.get_ref() {
                match rules.iter().find(|r| r.id == *id.get_ref()) {
                    None => self.error(
                        id.span(),
                        format!("unknown rule `{}`: expected the id of a rule of this pack or one it includes", id.get_ref()),
                    ),
                    Some(rule) if !KINDS.contains(&rule.kind.name()) => self.error(
                        id.span(),
                        format!(
                            "rule `{}` is a {}: it has no due time to remind anyone of (reminders are for obligations and recurrences)",
                            rule.id,
                            rule.kind.name()
                        ),
                    ),
                    Some(_) => {}
                }
            }
            let ids = list.get_ref().iter().map(|s| s.get_ref().clone()).collect();
            return Some(Applies::Rules(ids));
        }
        if let Some(list) = &raw.kinds {
            for kind in list.get_ref() {
                if !KINDS.contains(&kind.get_ref().as_str()) {
                    self.error(
                        kind.span(),
                        format!(
                            "`{}` is not a kind with a due time: expected \"obligation\" or \"recurrence\"",
                            kind.get_ref()
                        ),
                    );
                }
            }
            let kinds = list.get_ref().iter().map(|s| s.get_ref().clone()).collect();
            return Some(Applies::Kinds(kinds));
        }
        if let Some(digest) = &raw.digest {
            if digest.get_ref() != "daily" {
                self.error(
                    digest.span(),
                    format!("unknown digest `{}`: expected \"daily\"", digest.get_ref()),
                );
            }
            return Some(Applies::DailyDigest);
        }
        Some(Applies::Every)
    }

    fn recipients(&mut self, list: &Spanned<Vec<Spanned<String>>>) -> Vec<Recipient> {
        let mut out = Vec::new();
        for name in list.get_ref() {
            let text = name.get_ref().as_str();
            let recipient = match text {
                "subject" => Recipient::Subject,
                "manager" => Recipient::Manager,
                role if !role.is_empty()
                    && role.len() <= 64
                    && role
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
                {
                    Recipient::Role(Role::from(role))
                }
                other => {
                    self.error(
                        name.span(),
                        format!("`{other}` is not someone to tell: expected \"subject\", \"manager\" or a role such as \"ict_admin\" (lower-case letters, digits and `_`)"),
                    );
                    continue;
                }
            };
            out.push(recipient);
        }
        out
    }

    /// An offset from a due time: hours, days or weeks, never negative.
    fn offset(&mut self, text: &Spanned<String>) -> Option<SignedDuration> {
        let written = text.get_ref().trim();
        if written.starts_with('-') {
            self.error(
                text.span(),
                format!("`{written}` is negative: an offset counts back from the due time (\"7 days\", \"24h\")"),
            );
            return None;
        }
        let hours = match written.parse::<Duration>() {
            Ok(Duration::Hours(h)) => i64::from(h),
            Ok(Duration::Calendar {
                amount,
                unit: crate::duration::CalendarUnit::Days,
            }) => i64::from(amount) * 24,
            Ok(Duration::Calendar {
                amount,
                unit: crate::duration::CalendarUnit::Weeks,
            }) => i64::from(amount) * 24 * 7,
            Ok(_) | Err(_) => {
                self.error(
                    text.span(),
                    format!("`{written}` is not an offset: expected hours, days or weeks, such as \"4h\", \"1 day\" or \"2 weeks\""),
                );
                return None;
            }
        };
        Some(SignedDuration::from_hours(hours))
    }
}
