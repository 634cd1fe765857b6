//! What a major incident's notices are made of, without I/O: who is engaged in which role,
//! which update a notice key is (the first update's wording differs from the later ones),
//! who receives a notice once each, and the reminders of the review targets.
//!
//! The cadence itself (which notice is due when) is [`crate::major_incident`]'s.
use jiff::{SignedDuration, Timestamp};

use crate::major_incident::{
    CommunicationPlan, DECLARATION_KEY, NoticeKind, RESOLUTION_KEY, ReviewTargets,
};
use crate::problem::labelled_enum;

labelled_enum! {
    /// Why someone is engaged on a major incident.
    ContactRole ("contact role") {
        Coordinator = "coordinator" => ("Incident coordinator", "Coordonnateur de l'incident"),
        EscalationContact = "escalation_contact"
            => ("Escalation contact", "Personne-ressource d'escalade"),
        VendorContact = "vendor_contact" => ("Vendor contact", "Personne-ressource du fournisseur"),
    }
}

/// The kind of the notice a plan key names: `declaration`, `resolution`, else an update.
pub fn kind_of_key(key: &str) -> NoticeKind {
    match key {
        DECLARATION_KEY => NoticeKind::ServiceInterruption,
        RESOLUTION_KEY => NoticeKind::ServiceRestoration,
        _ => NoticeKind::Update,
    }
}

/// The rank of the update a key names (1 = the first update), `None` for the interruption
/// and restoration notices or a key the plan does not make.
pub fn update_rank(plan: &CommunicationPlan, key: &str) -> Option<u64> {
    if let Some(rank) = key.strip_prefix("update:") {
        return rank.parse().ok().filter(|rank| *rank > 0);
    }
    plan.timed_updates
        .iter()
        .position(|update| update.key == key)
        .map(|index| index as u64 + 1)
}

/// When the update a key names is due, counted from the declaration.
pub fn update_due(
    plan: &CommunicationPlan,
    declared_at: Timestamp,
    key: &str,
) -> Option<Timestamp> {
    let rank = update_rank(plan, key)?;
    let timed = plan.timed_updates.len() as u64;
    let offset = if rank <= timed {
        plan.timed_updates
            .get(usize::try_from(rank - 1).ok()?)?
            .after
    } else {
        let last = plan
            .timed_updates
            .last()
            .map_or(SignedDuration::ZERO, |update| update.after);
        let steps = i32::try_from(rank - timed).ok()?;
        last.checked_add(plan.continuing_interval.checked_mul(steps)?)?
    };
    declared_at.checked_add(offset).ok()
}

/// One address a notice goes to, with the recipient's language when known (`None`: both
/// languages in one message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecipient {
    pub email: String,
    pub locale: Option<String>,
}

/// Each address once (compared without case, kept in lower case), in the order first seen;
/// a person's known language wins over an address whose language is unknown. Entries that
/// are not addresses are dropped.
pub fn merge_recipients(
    candidates: impl IntoIterator<Item = NoticeRecipient>,
) -> Vec<NoticeRecipient> {
    let mut merged: Vec<NoticeRecipient> = Vec::new();
    for candidate in candidates {
        let email = candidate.email.trim().to_lowercase();
        if !email.contains('@') || email.chars().any(char::is_whitespace) {
            continue;
        }
        match merged.iter_mut().find(|known| known.email == email) {
            Some(known) => {
                if known.locale.is_none() {
                    known.locale = candidate.locale;
                }
            }
            None => merged.push(NoticeRecipient {
                email,
                locale: candidate.locale,
            }),
        }
    }
    merged
}

/// How long before a review target the coordinator is reminded.
pub const REVIEW_REMINDER_LEAD: SignedDuration = SignedDuration::from_hours(24);

/// A reminder of a review target: `key` is `review` or `report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReminder {
    pub key: &'static str,
    pub due: Timestamp,
    pub remind_at: Timestamp,
}

/// The reminders of the review and report targets: [`REVIEW_REMINDER_LEAD`] before each,
/// never before the resolution. A review already held needs no reminder of its own.
pub fn target_reminders(
    targets: ReviewTargets,
    resolved_at: Timestamp,
    review_held: bool,
) -> Vec<TargetReminder> {
    let remind = |key, due: Timestamp| TargetReminder {
        key,
        due,
        remind_at: due
            .checked_sub(REVIEW_REMINDER_LEAD)
            .map_or(resolved_at, |at| at.max(resolved_at)),
    };
    let mut reminders = Vec::new();
    if !review_held {
        reminders.push(remind("review", targets.review_due));
    }
    reminders.push(remind("report", targets.report_due));
    reminders
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_pack::{SlaFamily, shipped_pack};
    use crate::text::Locale;

    fn plan(pack: &str, code: &str) -> CommunicationPlan {
        let targets = shipped_pack(pack)
            .unwrap()
            .targets_in(SlaFamily::Incident, code)
            .unwrap();
        CommunicationPlan::from_duties(&targets.communications)
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn keys_name_their_kind_and_update_rank() {
        let severity = plan("severity", "S1");
        assert_eq!(kind_of_key("declaration"), NoticeKind::ServiceInterruption);
        assert_eq!(kind_of_key("resolution"), NoticeKind::ServiceRestoration);
        assert_eq!(kind_of_key("+2h"), NoticeKind::Update);
        assert_eq!(update_rank(&severity, "+1h"), Some(1));
        assert_eq!(update_rank(&severity, "+2h"), Some(2));
        assert_eq!(update_rank(&severity, "update:3"), Some(3));
        assert_eq!(update_rank(&severity, "declaration"), None);
        assert_eq!(update_rank(&severity, "update:0"), None);
        assert_eq!(update_rank(&severity, "+5h"), None);
        let priority = plan("priority", "P1");
        assert_eq!(update_rank(&priority, "update:1"), Some(1));
    }

    #[test]
    fn update_due_times_follow_the_plan() {
        let declared = ts("2026-03-10T14:00:00Z");
        let severity = plan("severity", "S1");
        assert_eq!(
            update_due(&severity, declared, "+2h"),
            Some(ts("2026-03-10T16:00:00Z"))
        );
        assert_eq!(
            update_due(&severity, declared, "update:4"),
            Some(ts("2026-03-10T18:00:00Z"))
        );
        let priority = plan("priority", "P2");
        assert_eq!(
            update_due(&priority, declared, "update:1"),
            Some(ts("2026-03-10T15:00:00Z"))
        );
        assert_eq!(update_due(&priority, declared, "resolution"), None);
        assert_eq!(update_due(&priority, Timestamp::MAX, "update:1"), None);
    }

    #[test]
    fn recipients_are_merged_by_address_and_keep_a_known_language() {
        let r = |email: &str, locale: Option<&str>| NoticeRecipient {
            email: email.into(),
            locale: locale.map(str::to_owned),
        };
        let merged = merge_recipients([
            r("Desk@Hospital.example", None),
            r("ann@vendor.example", Some("fr")),
            r("desk@hospital.example", Some("en")),
            r("ANN@vendor.example", Some("en")),
            r("not an address", None),
            r("nobody", Some("en")),
        ]);
        assert_eq!(
            merged,
            [
                r("desk@hospital.example", Some("en")),
                r("ann@vendor.example", Some("fr")),
            ]
        );
    }

    #[test]
    fn review_reminders_come_a_day_ahead_but_not_before_resolution() {
        let resolved = ts("2026-03-10T19:00:00Z");
        let targets = ReviewTargets {
            review_due: ts("2026-03-12T21:00:00Z"),
            report_due: ts("2026-03-17T21:00:00Z"),
        };
        let reminders = target_reminders(targets, resolved, false);
        assert_eq!(reminders.len(), 2);
        assert_eq!(reminders[0].key, "review");
        assert_eq!(reminders[0].remind_at, ts("2026-03-11T21:00:00Z"));
        assert_eq!(reminders[1].remind_at, ts("2026-03-16T21:00:00Z"));
        let soon = ReviewTargets {
            review_due: ts("2026-03-10T22:00:00Z"),
            report_due: ts("2026-03-10T23:00:00Z"),
        };
        let reminders = target_reminders(soon, resolved, true);
        assert_eq!(reminders.len(), 1);
        assert_eq!(reminders[0].key, "report");
        assert_eq!(reminders[0].remind_at, resolved);
    }

    #[test]
    fn contact_roles_have_both_labels() {
        for role in ContactRole::ALL {
            assert_ne!(role.label(Locale::En), role.label(Locale::Fr));
            assert_eq!(role.as_str().parse::<ContactRole>(), Ok(role));
        }
    }
}
