//! Change management without I/O: the request for change (RFC) and what it must say, its
//! types and workflow, CAB decisions, implementation outcomes, the environments a change is
//! promoted through, and the latent RFC of an emergency repair done first.
//! The CAB calendar, lead times, notice, windows, freezes and conflict detection are in
//! [`crate::change_schedule`].
use jiff::{SignedDuration, Timestamp};

use crate::error::DomainError;
use crate::problem::labelled_enum;
use crate::ticket::Status;

labelled_enum! {
    /// The four types of change (itil.md "Change management").
    ChangeType ("change type") {
        /// Recurring, low risk; pre-approved through a template CAB approved once.
        Standard = "standard" => ("Standard", "Standard"),
        /// Assessment, authorization, CAB approval, scheduling.
        Normal = "normal" => ("Normal", "Normal"),
        /// Emergency CAB (ECAB), expedited; operator-initiated ones in business hours only.
        UrgentOperational = "urgent_operational" => ("Urgent operational", "Opérationnel urgent"),
        /// Fixes a critical interruption; follows an incident.
        EmergencyRepair = "emergency_repair" => ("Emergency repair", "Réparation d'urgence"),
    }
}

impl ChangeType {
    /// Goes to the weekly CAB (normal changes only).
    pub fn needs_cab(self) -> bool {
        self == ChangeType::Normal
    }

    /// Approved by the emergency CAB.
    pub fn needs_ecab(self) -> bool {
        matches!(
            self,
            ChangeType::UrgentOperational | ChangeType::EmergencyRepair
        )
    }

    /// Held to the lead time and notice rules (expedited types are not, but are flagged).
    pub fn follows_lead_time(self) -> bool {
        matches!(self, ChangeType::Standard | ChangeType::Normal)
    }

    /// Refused in a freeze without an approved exception, and outside a window without the
    /// service owner's recorded approval. Urgent and emergency changes are flagged instead.
    pub fn refused_in_freeze(self) -> bool {
        matches!(self, ChangeType::Standard | ChangeType::Normal)
    }
}

labelled_enum! {
    /// Where an RFC is in its workflow.
    ChangeStatus ("change status") {
        Submitted = "submitted" => ("Submitted", "Soumise"),
        Assessed = "assessed" => ("Assessed", "Évaluée"),
        Authorized = "authorized" => ("Authorized", "Autorisée"),
        Scheduled = "scheduled" => ("Scheduled", "Planifiée"),
        Implemented = "implemented" => ("Implemented", "Mise en œuvre"),
        Reviewed = "reviewed" => ("Reviewed", "Revue"),
        Closed = "closed" => ("Closed", "Fermée"),
        Rejected = "rejected" => ("Rejected", "Rejetée"),
        Cancelled = "cancelled" => ("Cancelled", "Annulée"),
    }
}

impl ChangeStatus {
    /// No move leaves this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ChangeStatus::Closed | ChangeStatus::Rejected | ChangeStatus::Cancelled
        )
    }

    /// Approved (authorized or later, not rejected or cancelled): shown as approved on the
    /// change calendar.
    pub fn is_approved(self) -> bool {
        matches!(
            self,
            ChangeStatus::Authorized
                | ChangeStatus::Scheduled
                | ChangeStatus::Implemented
                | ChangeStatus::Reviewed
                | ChangeStatus::Closed
        )
    }

    /// Waiting for a decision: shown as pending on the change calendar.
    pub fn is_pending(self) -> bool {
        matches!(self, ChangeStatus::Submitted | ChangeStatus::Assessed)
    }

    /// The status the change's ticket shows in queues.
    pub fn ticket_status(self) -> Status {
        match self {
            ChangeStatus::Submitted => Status::New,
            ChangeStatus::Assessed | ChangeStatus::Authorized | ChangeStatus::Scheduled => {
                Status::InProgress
            }
            // The outcome is recorded: the change is resolved, closed after its review.
            ChangeStatus::Implemented | ChangeStatus::Reviewed => Status::Resolved,
            ChangeStatus::Closed | ChangeStatus::Rejected => Status::Closed,
            ChangeStatus::Cancelled => Status::Cancelled,
        }
    }

    /// The statuses a person may move an RFC of `kind` to from this one. Standard changes
    /// from an approved template skip assessment and authorization: they are authorized
    /// when submitted. Rejection is a decision (CAB or ECAB) recorded with reasons, and
    /// only before authorization. Cancelling is possible until implementation.
    pub fn next(self, kind: ChangeType) -> &'static [ChangeStatus] {
        use ChangeStatus::*;
        match (self, kind) {
            (Submitted, ChangeType::Standard) => &[Scheduled, Cancelled],
            (Submitted, _) => &[Assessed, Rejected, Cancelled],
            (Assessed, _) => &[Authorized, Rejected, Cancelled],
            (Authorized, _) => &[Scheduled, Cancelled],
            (Scheduled, _) => &[Implemented, Cancelled],
            (Implemented, _) => &[Reviewed],
            (Reviewed, _) => &[Closed],
            (Closed | Rejected | Cancelled, _) => &[],
        }
    }

    /// Checks a move, with the stable code `invalid_change_transition`.
    pub fn check_move(self, to: ChangeStatus, kind: ChangeType) -> Result<(), DomainError> {
        if self.next(kind).contains(&to) {
            Ok(())
        } else {
            Err(DomainError::field("invalid_change_transition", "status"))
        }
    }
}

labelled_enum! {
    /// How the implementation went.
    ChangeOutcome ("change outcome") {
        Successful = "successful" => ("Successful", "Réussie"),
        BackedOut = "backed_out" => ("Backed out or cancelled", "Annulée ou retour arrière"),
        Failed = "failed" => ("Failed", "Échouée"),
    }
}

labelled_enum! {
    /// A CAB (or ECAB) decision on one RFC.
    CabDecision ("CAB decision") {
        Approved = "approved" => ("Approved", "Approuvée"),
        Rejected = "rejected" => ("Rejected", "Rejetée"),
        /// Moved to a later CAB (more information needed).
        Deferred = "deferred" => ("Deferred", "Reportée"),
    }
}

impl CabDecision {
    /// Rejections and deferrals must say why.
    pub fn needs_reason(self) -> bool {
        matches!(self, CabDecision::Rejected | CabDecision::Deferred)
    }
}

labelled_enum! {
    /// Who asks for the change. Partner RFCs carry the partner's internal approval and
    /// single point of contact, and are presented at CAB by the operator's service owner or
    /// deployment lead (partners do not attend).
    ChangeOrigin ("change origin") {
        Operator = "operator" => ("Operator", "Exploitant"),
        Partner = "partner" => ("Partner", "Partenaire"),
    }
}

labelled_enum! {
    /// The RFC's risk.
    ChangeRisk ("change risk") {
        High = "high" => ("High", "Élevé"),
        Medium = "medium" => ("Medium", "Moyen"),
        Low = "low" => ("Low", "Faible"),
    }
}

labelled_enum! {
    /// The environments a change is promoted through, in order. Production is supported
    /// 24x7; the lower environments in business hours.
    Environment ("environment") {
        Development = "development" => ("Development / integration", "Développement / intégration"),
        SystemTest = "system_test" => ("System test", "Essais de système"),
        PreProduction = "pre_production" => ("Pre-production", "Préproduction"),
        PartnerSelfTest = "partner_self_test" => ("Partner self-test", "Autoévaluation des partenaires"),
        Production = "production" => ("Production", "Production"),
    }
}

labelled_enum! {
    /// Where a change is in one environment of its promotion path.
    PromotionState ("promotion state") {
        Pending = "pending" => ("Pending", "En attente"),
        InProgress = "in_progress" => ("In progress", "En cours"),
        Passed = "passed" => ("Passed", "Réussi"),
        Failed = "failed" => ("Failed", "Échoué"),
        /// Not part of this change's path.
        Skipped = "skipped" => ("Not applicable", "Sans objet"),
    }
}

/// One step of a promotion path.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct PromotionStep {
    pub environment: Environment,
    pub state: PromotionState,
}

/// The default path of a new RFC: every environment pending.
pub fn default_promotion_path() -> Vec<PromotionStep> {
    Environment::ALL
        .iter()
        .map(|&environment| PromotionStep {
            environment,
            state: PromotionState::Pending,
        })
        .collect()
}

/// Checks a state change on the path: an environment may pass only when every earlier
/// environment on the path has passed or is skipped (`promotion_out_of_order`), and
/// production may be skipped by no change (`production_required`).
pub fn check_promotion(
    path: &[PromotionStep],
    environment: Environment,
    state: PromotionState,
) -> Result<(), DomainError> {
    if environment == Environment::Production && state == PromotionState::Skipped {
        return Err(DomainError::field("production_required", "environment"));
    }
    if matches!(state, PromotionState::Passed | PromotionState::InProgress) {
        let earlier_open = path.iter().any(|step| {
            step.environment < environment
                && !matches!(step.state, PromotionState::Passed | PromotionState::Skipped)
        });
        if earlier_open {
            return Err(DomainError::field("promotion_out_of_order", "environment"));
        }
    }
    Ok(())
}

/// The promotion path's current environment: the first one not yet passed or skipped.
pub fn current_environment(path: &[PromotionStep]) -> Option<Environment> {
    path.iter()
        .find(|step| !matches!(step.state, PromotionState::Passed | PromotionState::Skipped))
        .map(|step| step.environment)
}

/// What an RFC says, as far as the required fields of the spec go (itil.md "The RFC").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RfcFacts {
    pub kind: Option<ChangeType>,
    pub origin: Option<ChangeOrigin>,
    pub reason: String,
    pub description: String,
    pub summary: String,
    /// Answered (yes or no) — the three questions below likewise.
    pub notice_required: Option<bool>,
    pub disaster_recovery_exists: Option<bool>,
    pub training_documents_exist: Option<bool>,
    pub tested_in_lower_environments: Option<bool>,
    pub risk: Option<ChangeRisk>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub users_affected: Option<bool>,
    /// How users are affected; required when they are.
    pub users_affected_how: String,
    pub outage_required: Option<bool>,
    /// Required when an outage is.
    pub outage_start: Option<Timestamp>,
    pub outage_end: Option<Timestamp>,
    /// Service codes; at least one.
    pub affected_services: usize,
    pub requested_start: Option<Timestamp>,
    pub requested_end: Option<Timestamp>,
    pub product_category: String,
    /// CMDB codes; at least one.
    pub configuration_items: usize,
    pub implementer: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    /// Partner RFCs: the partner's internal approval (who, when) and their SPOC.
    pub partner_approval: String,
    pub has_partner_spoc: bool,
    /// Emergency repairs: the incident they follow.
    pub has_incident: bool,
}

/// The required fields an RFC lacks, in the order of the form (names are the API's).
pub fn missing_fields(facts: &RfcFacts) -> Vec<&'static str> {
    let blank = |text: &str| text.trim().is_empty();
    let partner = facts.origin == Some(ChangeOrigin::Partner);
    let checks = [
        (facts.kind.is_none(), "change_type"),
        (facts.origin.is_none(), "origin"),
        (blank(&facts.summary), "summary"),
        (blank(&facts.description), "description"),
        (blank(&facts.reason), "reason"),
        (facts.notice_required.is_none(), "notice_required"),
        (
            facts.disaster_recovery_exists.is_none(),
            "disaster_recovery_exists",
        ),
        (
            facts.training_documents_exist.is_none(),
            "training_documents_exist",
        ),
        (
            facts.tested_in_lower_environments.is_none(),
            "tested_in_lower_environments",
        ),
        (facts.risk.is_none(), "risk"),
        (facts.impact.is_none(), "impact"),
        (facts.urgency.is_none(), "urgency"),
        (facts.users_affected.is_none(), "users_affected"),
        (
            facts.users_affected == Some(true) && blank(&facts.users_affected_how),
            "users_affected_how",
        ),
        (facts.outage_required.is_none(), "outage_required"),
        (
            facts.outage_required == Some(true) && facts.outage_start.is_none(),
            "outage_start",
        ),
        (
            facts.outage_required == Some(true) && facts.outage_end.is_none(),
            "outage_end",
        ),
        (facts.affected_services == 0, "affected_services"),
        (facts.requested_start.is_none(), "requested_start"),
        (facts.requested_end.is_none(), "requested_end"),
        (blank(&facts.product_category), "product_category"),
        (facts.configuration_items == 0, "configuration_items"),
        (blank(&facts.implementer), "implementer"),
        (blank(&facts.implementation_plan), "implementation_plan"),
        (blank(&facts.backout_plan), "backout_plan"),
        (
            partner && blank(&facts.partner_approval),
            "partner_approval",
        ),
        (partner && !facts.has_partner_spoc, "partner_spoc"),
        (
            facts.kind == Some(ChangeType::EmergencyRepair) && !facts.has_incident,
            "incident",
        ),
    ];
    checks
        .into_iter()
        .filter(|(missing, _)| *missing)
        .map(|(_, field)| field)
        .collect()
}

/// Checks the facts that are present: impact and urgency 1 to 4 (`invalid_level`), the
/// requested end after its start and the outage likewise (`end_before_start`).
pub fn check_values(facts: &RfcFacts) -> Result<(), DomainError> {
    for (level, field) in [(facts.impact, "impact"), (facts.urgency, "urgency")] {
        if level.is_some_and(|level| !(1..=4).contains(&level)) {
            return Err(DomainError::field("invalid_level", field));
        }
    }
    if let (Some(start), Some(end)) = (facts.requested_start, facts.requested_end)
        && end <= start
    {
        return Err(DomainError::field("end_before_start", "requested_end"));
    }
    if let (Some(start), Some(end)) = (facts.outage_start, facts.outage_end)
        && end <= start
    {
        return Err(DomainError::field("end_before_start", "outage_end"));
    }
    Ok(())
}

// ---- Latent RFCs --------------------------------------------------------------------------

/// A P1/P2 emergency repair may be done first; its RFC is filed within this long.
pub const LATENT_RFC_HOURS: i64 = 24;

/// Incident priority ranks whose emergency repair may be done before its RFC (P1, P2).
pub fn may_change_first(incident_priority_rank: i64) -> bool {
    (1..=2).contains(&incident_priority_rank)
}

/// When the latent RFC of a repair done at `implemented_at` is due.
pub fn latent_rfc_due(implemented_at: Timestamp) -> Timestamp {
    implemented_at
        .checked_add(SignedDuration::from_hours(LATENT_RFC_HOURS))
        .unwrap_or(Timestamp::MAX)
}

/// Reminders before a latent RFC is due: 8 h and 1 h before.
pub const LATENT_RFC_REMINDERS: [SignedDuration; 2] =
    [SignedDuration::from_hours(8), SignedDuration::from_hours(1)];

/// Where a latent RFC stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatentRfcState {
    /// Not filed yet; due later.
    Open,
    /// Not filed and past due: a breach.
    Overdue,
    /// Filed by the due time.
    FiledOnTime,
    /// Filed after the due time: a breach, reported with how late.
    FiledLate,
}

impl LatentRfcState {
    pub fn of(due: Timestamp, filed_at: Option<Timestamp>, now: Timestamp) -> Self {
        match filed_at {
            Some(filed) if filed <= due => LatentRfcState::FiledOnTime,
            Some(_) => LatentRfcState::FiledLate,
            None if now > due => LatentRfcState::Overdue,
            None => LatentRfcState::Open,
        }
    }

    pub fn is_breach(self) -> bool {
        matches!(self, LatentRfcState::Overdue | LatentRfcState::FiledLate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> RfcFacts {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        RfcFacts {
            kind: Some(ChangeType::Normal),
            origin: Some(ChangeOrigin::Operator),
            reason: "Vendor patch".into(),
            description: "Apply the viewer patch".into(),
            summary: "Viewer patch 4.2".into(),
            notice_required: Some(true),
            disaster_recovery_exists: Some(true),
            training_documents_exist: Some(false),
            tested_in_lower_environments: Some(true),
            risk: Some(ChangeRisk::Low),
            impact: Some(3),
            urgency: Some(3),
            users_affected: Some(false),
            users_affected_how: String::new(),
            outage_required: Some(false),
            outage_start: None,
            outage_end: None,
            affected_services: 1,
            requested_start: Some(at("2026-12-13T05:00:00Z")),
            requested_end: Some(at("2026-12-13T07:00:00Z")),
            product_category: "Viewer".into(),
            configuration_items: 1,
            implementer: "Deployment team".into(),
            implementation_plan: "1. Stop 2. Patch 3. Start".into(),
            backout_plan: "Restore the snapshot".into(),
            partner_approval: String::new(),
            has_partner_spoc: false,
            has_incident: false,
        }
    }

    #[test]
    fn a_complete_rfc_misses_nothing() {
        assert!(missing_fields(&complete()).is_empty());
        assert_eq!(check_values(&complete()), Ok(()));
    }

    #[test]
    fn a_missing_backout_plan_is_named() {
        let facts = RfcFacts {
            backout_plan: "  ".into(),
            ..complete()
        };
        assert_eq!(missing_fields(&facts), ["backout_plan"]);
    }

    #[test]
    fn conditional_fields_are_required_when_they_apply() {
        let facts = RfcFacts {
            origin: Some(ChangeOrigin::Partner),
            users_affected: Some(true),
            outage_required: Some(true),
            kind: Some(ChangeType::EmergencyRepair),
            ..complete()
        };
        assert_eq!(
            missing_fields(&facts),
            [
                "users_affected_how",
                "outage_start",
                "outage_end",
                "partner_approval",
                "partner_spoc",
                "incident"
            ]
        );
    }

    #[test]
    fn bad_levels_and_reversed_times_are_refused() {
        let facts = RfcFacts {
            impact: Some(5),
            ..complete()
        };
        assert_eq!(check_values(&facts).unwrap_err().code, "invalid_level");
        let facts = RfcFacts {
            requested_end: complete().requested_start,
            ..complete()
        };
        assert_eq!(check_values(&facts).unwrap_err().code, "end_before_start");
    }

    #[test]
    fn the_workflow_runs_in_order() {
        use ChangeStatus::*;
        let path = [
            Submitted,
            Assessed,
            Authorized,
            Scheduled,
            Implemented,
            Reviewed,
            Closed,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].check_move(pair[1], ChangeType::Normal), Ok(()));
        }
        assert!(Submitted.check_move(Scheduled, ChangeType::Normal).is_err());
        assert!(
            Submitted
                .check_move(Scheduled, ChangeType::Standard)
                .is_ok()
        );
        assert!(Authorized.check_move(Rejected, ChangeType::Normal).is_err());
        assert!(
            Implemented
                .check_move(Cancelled, ChangeType::Normal)
                .is_err()
        );
        for done in [Closed, Rejected, Cancelled] {
            assert!(done.is_final() && done.next(ChangeType::Normal).is_empty());
        }
    }

    #[test]
    fn promotion_goes_in_order_and_keeps_production() {
        let mut path = default_promotion_path();
        assert_eq!(current_environment(&path), Some(Environment::Development));
        assert_eq!(
            check_promotion(&path, Environment::SystemTest, PromotionState::Passed)
                .unwrap_err()
                .code,
            "promotion_out_of_order"
        );
        path[0].state = PromotionState::Passed;
        path[1].state = PromotionState::Skipped;
        assert_eq!(
            check_promotion(&path, Environment::PreProduction, PromotionState::Passed),
            Ok(())
        );
        assert_eq!(current_environment(&path), Some(Environment::PreProduction));
        assert_eq!(
            check_promotion(&path, Environment::Production, PromotionState::Skipped)
                .unwrap_err()
                .code,
            "production_required"
        );
    }

    #[test]
    fn latent_rfcs_are_due_in_24_hours() {
        let done: Timestamp = "2026-12-04T02:00:00Z".parse().unwrap();
        let due = latent_rfc_due(done);
        assert_eq!(due, "2026-12-05T02:00:00Z".parse().unwrap());
        let before: Timestamp = "2026-12-05T01:00:00Z".parse().unwrap();
        let after: Timestamp = "2026-12-05T03:00:00Z".parse().unwrap();
        assert_eq!(LatentRfcState::of(due, None, before), LatentRfcState::Open);
        assert_eq!(
            LatentRfcState::of(due, None, after),
            LatentRfcState::Overdue
        );
        assert_eq!(
            LatentRfcState::of(due, Some(before), after),
            LatentRfcState::FiledOnTime
        );
        assert!(LatentRfcState::of(due, Some(after), after).is_breach());
        assert!(may_change_first(2) && !may_change_first(3));
    }
}
