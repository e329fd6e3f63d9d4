//! Conditions on events (`RawFilter` into `Filter`): each checked against
//! what the rule's event can carry, the event-field conditions through the
//! table in `pack/conditions.rs` the evaluator also reads.

use super::*;

impl Ctx<'_> {
    pub(super) fn filter(
        &mut self,
        raw: &RawFilter,
        target: Target,
        in_list: bool,
    ) -> Option<Filter> {
        let before = self.errors.len();
        if let (Some(event), false) = (&raw.event, in_list) {
            self.error(
                event.span(),
                "`event` belongs in a list of events; the rule's event is its `on`",
            );
        }
        let s = target.subjects;
        let about = match target.event {
            Some(e) => format!("`{e}` events"),
            None => "this rule's subject".to_owned(),
        };
        let applies = |this: &mut Self, ok: bool, field: &str, span: Range<usize>, needs: &str| {
            if !ok {
                this.error(
                    span,
                    format!("`{field}` cannot apply to {about}: it needs {needs}"),
                );
            }
        };
        let only = |event: EventType| target.event == Some(event);
        macro_rules! check {
            ($field:ident, $ok:expr, $needs:expr) => {
                if let Some(v) = &raw.$field {
                    applies(self, $ok, stringify!($field), v.span(), $needs);
                }
            };
        }
        check!(person_kind, s.person, "an event about a person");
        check!(person_left, s.person, "an event about a person");
        check!(
            device_kind,
            s.device || target.devices_held,
            "an event about a device, or each = \"device_held\""
        );
        check!(
            device_owner,
            s.device || target.devices_held,
            "an event about a device, or each = \"device_held\""
        );
        let mut flags = Vec::new();
        for field in EventFlag::ALL {
            if let Some(v) = field.raw(raw) {
                let on = field.event();
                applies(self, only(on), field.name(), v.span(), on.name());
                flags.push((field, *v.get_ref()));
            }
        }
        let mut texts = Vec::new();
        for field in EventText::ALL {
            if let Some(v) = field.raw(raw) {
                let on = field.event();
                applies(self, only(on), field.name(), v.span(), on.name());
                texts.push((field, v.get_ref().clone()));
            }
        }
        check!(policy, s.policy, "an event about a policy");
        check!(
            resource_prefix,
            s.resource,
            "access_granted or access_revoked"
        );
        check!(
            to_outside_mail_domains,
            only(EventType::EmailForwardingDetected),
            "email_forwarding_detected"
        );
        if let Some(v) = &raw.to_outside_mail_domains
            && *v.get_ref()
            && !self.has_mail_domains
        {
            self.error(
                v.span(),
                "the pack declares no `mail_domains`, so every address would count as outside",
            );
        }
        let policy = raw.policy.as_ref().map(|list| {
            list.get_ref()
                .iter()
                .map(|p| {
                    self.declared_policy(p);
                    PolicyId::from(p.get_ref().as_str())
                })
                .collect()
        });
        let value = |v: &Option<Spanned<bool>>| v.as_ref().map(|b| *b.get_ref());
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|t| t.get_ref().clone());
        let filter = Filter {
            person_kind: raw.person_kind.as_ref().map(|v| v.get_ref().clone()),
            person_left: value(&raw.person_left),
            device_kind: raw.device_kind.as_ref().map(|v| v.get_ref().clone()),
            device_owner: raw.device_owner.as_ref().map(|v| v.get_ref().clone()),
            flags,
            texts,
            policy,
            resource_prefix: text(&raw.resource_prefix),
            to_outside_mail_domains: value(&raw.to_outside_mail_domains),
        };
        (self.errors.len() == before).then_some(filter)
    }

    pub(super) fn declared_policy(&mut self, id: &Spanned<String>) {
        if !self.declared.contains(id.get_ref()) {
            let declared: Vec<_> = self.declared.iter().cloned().collect();
            let message = format!(
                "policy `{}` is not declared by this pack or its includes (declared: {})",
                id.get_ref(),
                declared.join(", ")
            );
            self.error(id.span(), message);
        }
    }
}
