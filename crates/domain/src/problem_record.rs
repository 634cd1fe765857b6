//! The problem record and the monthly problem review, without I/O: the values a record
//! holds, what a new problem must say, which notices a workflow move sends to the
//! partner's single point of contact, how a problem ticket's own status follows its
//! workflow, and which section of a partner's review agenda each problem belongs to.
//! The workflow itself and the known-error rule are in [`crate::problem`].
use jiff::Timestamp;
use jiff::civil::Date;

use crate::error::DomainError;
use crate::problem::{ProblemStatus, labelled_enum};
use crate::ticket::Status;

labelled_enum! {
    /// How a problem came to be logged.
    ProblemSource ("problem source") {
        Manual = "manual" => ("Logged by a person", "Enregistré par une personne"),
        MajorIncident = "major_incident"
            => ("Major incident without a root cause", "Incident majeur sans cause fondamentale"),
        Trend = "trend" => ("Trend detection", "Détection de tendance"),
    }
}

impl ProblemSource {
    /// Where the workflow starts: a proposed trend still has to be confirmed.
    pub fn first_status(self) -> ProblemStatus {
        match self {
            ProblemSource::Trend => ProblemStatus::Detection,
            ProblemSource::Manual | ProblemSource::MajorIncident => ProblemStatus::Logging,
        }
    }
}

labelled_enum! {
    /// What kind of cause a problem is about (its classification with impact, urgency and
    /// priority).
    ProblemCategory ("problem category") {
        Application = "application" => ("Application", "Application"),
        Interface = "interface" => ("Interface and data feed", "Interface et flux de données"),
        Network = "network" => ("Network and connectivity", "Réseau et connectivité"),
        Infrastructure = "infrastructure" => ("Infrastructure", "Infrastructure"),
        Security = "security" => ("Security and access", "Sécurité et accès"),
        DataQuality = "data_quality" => ("Data quality", "Qualité des données"),
        Process = "process" => ("Process", "Processus"),
        Vendor = "vendor" => ("Vendor product", "Produit d'un fournisseur"),
        Other = "other" => ("Other", "Autre"),
    }
}

labelled_enum! {
    /// What the verification of a resolution found.
    VerificationOutcome ("verification outcome") {
        Worked = "worked" => ("The resolution worked", "La résolution a fonctionné"),
        Failed = "failed" => ("The resolution did not work", "La résolution n'a pas fonctionné"),
    }
}

labelled_enum! {
    /// The moments the partner's single point of contact hears about a problem.
    NoticeStage ("notice stage") {
        Created = "created" => ("Problem logged", "Problème enregistré"),
        Diagnosis = "diagnosis" => ("Diagnosis", "Diagnostic"),
        Resolution = "resolution" => ("Resolution", "Résolution"),
        Closure = "closure" => ("Closure", "Fermeture"),
    }
}

impl NoticeStage {
    /// The mail template of the stage.
    pub fn template(self) -> &'static str {
        match self {
            NoticeStage::Created => "problem-created",
            NoticeStage::Diagnosis => "problem-diagnosis",
            NoticeStage::Resolution => "problem-resolution",
            NoticeStage::Closure => "problem-closure",
        }
    }
}

/// The notices a change to a problem sends: diagnosis on entering investigation and
/// diagnosis or when a root cause is first recorded, resolution on entering resolution,
/// closure on closing. (Each is sent once per problem and recipient whatever happens
/// after: moving back to investigation sends no second diagnosis notice.)
pub fn notices_for_change(
    moved: Option<(ProblemStatus, ProblemStatus)>,
    root_cause_before: bool,
    root_cause_after: bool,
) -> Vec<NoticeStage> {
    let mut stages = Vec::new();
    let to = moved.map(|(_, to)| to);
    if to == Some(ProblemStatus::Investigation) || (!root_cause_before && root_cause_after) {
        stages.push(NoticeStage::Diagnosis);
    }
    match to {
        Some(ProblemStatus::Resolution) => stages.push(NoticeStage::Resolution),
        Some(ProblemStatus::Closed) => stages.push(NoticeStage::Closure),
        _ => {}
    }
    stages
}

/// The status the problem's ticket shows in queues and lists: new until someone is
/// assigned, in progress while it is worked, then closed or cancelled.
pub fn ticket_status(status: ProblemStatus) -> Status {
    match status {
        ProblemStatus::Detection | ProblemStatus::Logging => Status::New,
        ProblemStatus::Assignment
        | ProblemStatus::Investigation
        | ProblemStatus::Resolution
        | ProblemStatus::Verification => Status::InProgress,
        ProblemStatus::Closed => Status::Closed,
        ProblemStatus::Cancelled => Status::Cancelled,
    }
}

/// What a person logging a problem said, as far as the required fields go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewProblemFacts {
    pub has_organization: bool,
    pub summary: String,
    pub description: String,
    pub impact_description: String,
    pub submitter_role: String,
    pub has_category: bool,
    pub has_investigating_group: bool,
    pub has_impact: bool,
    pub has_urgency: bool,
    pub related_incidents: usize,
    pub configuration_items: usize,
}

/// The required fields a new problem lacks, in the order of the form. Related incidents
/// and configuration items are one requirement: a problem names at least one of them.
pub fn missing_fields(facts: &NewProblemFacts) -> Vec<&'static str> {
    let blank = |text: &str| text.trim().is_empty();
    let checks = [
        (!facts.has_organization, "organization_id"),
        (blank(&facts.summary), "summary"),
        (blank(&facts.description), "description"),
        (blank(&facts.impact_description), "impact_description"),
        (blank(&facts.submitter_role), "submitter_role"),
        (!facts.has_category, "category"),
        (!facts.has_impact, "impact"),
        (!facts.has_urgency, "urgency"),
        (!facts.has_investigating_group, "investigating_group_id"),
        (
            facts.related_incidents + facts.configuration_items == 0,
            "related",
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(missing, field)| missing.then_some(field))
        .collect()
}

/// A review month written `YYYY-MM`: its first day.
pub fn parse_month(text: &str) -> Result<Date, DomainError> {
    let invalid = || DomainError::field("invalid_month", "month");
    let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(invalid());
    }
    let year: i16 = year.parse().map_err(|_| invalid())?;
    let month: i8 = month.parse().map_err(|_| invalid())?;
    if !(2000..=2200).contains(&year) {
        return Err(invalid());
    }
    Date::new(year, month, 1).map_err(|_| invalid())
}

labelled_enum! {
    /// The parts of a partner's monthly problem review.
    AgendaSection ("agenda section") {
        Confirm = "confirm"
            => ("Open problems and known errors to confirm (validity, category, priority, assignment) and their progress",
                "Problèmes ouverts et erreurs connues à confirmer (validité, catégorie, priorité, affectation) et leur avancement"),
        ResolvedProblems = "resolved_problems"
            => ("Resolved problems: was the root cause found? did the workaround work?",
                "Problèmes résolus : la cause fondamentale a-t-elle été trouvée? la solution de contournement a-t-elle fonctionné?"),
        ResolvedKnownErrors = "resolved_known_errors"
            => ("Resolved known errors: did the permanent fix work?",
                "Erreurs connues résolues : la correction permanente a-t-elle fonctionné?"),
        Closures = "closures" => ("Closures to validate", "Fermetures à valider"),
    }
}

/// What the agenda needs of a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaFacts {
    pub status: ProblemStatus,
    pub known_error: bool,
    pub closure_acknowledged_at: Option<Timestamp>,
}

/// Where a partner's problem goes on the agenda of a review whose month starts at
/// `month_start`; `None` when it is not on it: a cancelled problem, or a closure the
/// partner acknowledged before the month began (validated at an earlier review).
///
/// Open problems (detection to investigation) are to confirm, with their progress;
/// problems in resolution or verification are resolved problems, or resolved known
/// errors when a root cause or workaround is documented; closed ones are closures to
/// validate.
pub fn agenda_section(facts: &AgendaFacts, month_start: Timestamp) -> Option<AgendaSection> {
    use ProblemStatus::*;
    match facts.status {
        Cancelled => None,
        Closed => match facts.closure_acknowledged_at {
            Some(at) if at < month_start => None,
            _ => Some(AgendaSection::Closures),
        },
        Resolution | Verification if facts.known_error => Some(AgendaSection::ResolvedKnownErrors),
        Resolution | Verification => Some(AgendaSection::ResolvedProblems),
        Detection | Logging | Assignment | Investigation => Some(AgendaSection::Confirm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn values_round_trip_in_both_languages() {
        for source in ProblemSource::ALL {
            assert_eq!(ProblemSource::from_str(source.as_str()), Ok(source));
        }
        for category in ProblemCategory::ALL {
            assert_eq!(ProblemCategory::from_str(category.as_str()), Ok(category));
            assert_ne!(
                category.label(crate::text::Locale::Fr),
                "",
                "{category} has a French label"
            );
        }
        assert!(ProblemCategory::from_str("Interface").is_err());
        assert_eq!(
            ProblemSource::Trend.first_status(),
            ProblemStatus::Detection
        );
        assert_eq!(
            ProblemSource::MajorIncident.first_status(),
            ProblemStatus::Logging
        );
    }

    #[test]
    fn notices_follow_the_workflow() {
        use ProblemStatus::*;
        let moved = |from, to| Some((from, to));
        assert_eq!(
            notices_for_change(moved(Assignment, Investigation), false, false),
            [NoticeStage::Diagnosis]
        );
        // A root cause recorded later, or earlier, is the diagnosis too.
        assert_eq!(
            notices_for_change(None, false, true),
            [NoticeStage::Diagnosis]
        );
        assert!(notices_for_change(None, true, true).is_empty());
        assert!(notices_for_change(moved(Logging, Assignment), false, false).is_empty());
        assert_eq!(
            notices_for_change(moved(Investigation, Resolution), false, true),
            [NoticeStage::Diagnosis, NoticeStage::Resolution]
        );
        assert_eq!(
            notices_for_change(moved(Verification, Closed), true, true),
            [NoticeStage::Closure]
        );
        assert!(notices_for_change(moved(Logging, Cancelled), false, false).is_empty());
        assert_eq!(NoticeStage::Closure.template(), "problem-closure");
    }

    #[test]
    fn the_ticket_status_follows_the_workflow() {
        use ProblemStatus::*;
        let statuses: Vec<Status> = ProblemStatus::ALL
            .iter()
            .map(|s| ticket_status(*s))
            .collect();
        assert_eq!(
            statuses,
            [
                Status::New,
                Status::New,
                Status::InProgress,
                Status::InProgress,
                Status::InProgress,
                Status::InProgress,
                Status::Closed,
                Status::Cancelled
            ]
        );
        assert!(ticket_status(Verification).is_open());
        assert!(!ticket_status(Closed).is_open());
    }

    #[test]
    fn every_missing_field_is_named() {
        assert_eq!(
            missing_fields(&NewProblemFacts::default()),
            [
                "organization_id",
                "summary",
                "description",
                "impact_description",
                "submitter_role",
                "category",
                "impact",
                "urgency",
                "investigating_group_id",
                "related"
            ]
        );
        let complete = NewProblemFacts {
            has_organization: true,
            summary: "HL7 feed timeouts".into(),
            description: "The lab feed times out every night.".into(),
            impact_description: "Lab results arrive hours late.".into(),
            submitter_role: "Problem manager".into(),
            has_category: true,
            has_investigating_group: true,
            has_impact: true,
            has_urgency: true,
            related_incidents: 0,
            configuration_items: 1,
        };
        assert!(missing_fields(&complete).is_empty());
        let blank = NewProblemFacts {
            description: "  ".into(),
            configuration_items: 0,
            ..complete
        };
        assert_eq!(missing_fields(&blank), ["description", "related"]);
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(parse_month("2026-11"), Ok(Date::new(2026, 11, 1).unwrap()));
        assert_eq!(parse_month(" 2026-01 "), Ok(Date::new(2026, 1, 1).unwrap()));
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "1999-12", "abcd-ef",
        ] {
            assert_eq!(
                parse_month(bad),
                Err(DomainError::field("invalid_month", "month")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn each_problem_has_one_place_on_the_agenda() {
        use ProblemStatus::*;
        let start: Timestamp = "2026-11-01T04:00:00Z".parse().unwrap();
        let facts = |status, known_error, ack: Option<&str>| AgendaFacts {
            status,
            known_error,
            closure_acknowledged_at: ack.map(|a| a.parse().unwrap()),
        };
        let section = |f: AgendaFacts| agenda_section(&f, start);
        for open in [Detection, Logging, Assignment, Investigation] {
            assert_eq!(
                section(facts(open, false, None)),
                Some(AgendaSection::Confirm)
            );
            assert_eq!(
                section(facts(open, true, None)),
                Some(AgendaSection::Confirm)
            );
        }
        assert_eq!(
            section(facts(Resolution, false, None)),
            Some(AgendaSection::ResolvedProblems)
        );
        assert_eq!(
            section(facts(Verification, true, None)),
            Some(AgendaSection::ResolvedKnownErrors)
        );
        assert_eq!(
            section(facts(Closed, true, None)),
            Some(AgendaSection::Closures)
        );
        assert_eq!(
            section(facts(Closed, true, Some("2026-11-03T15:00:00Z"))),
            Some(AgendaSection::Closures),
            "acknowledged during the month: still reported"
        );
        assert_eq!(
            section(facts(Closed, false, Some("2026-10-30T15:00:00Z"))),
            None,
            "validated before the month"
        );
        assert_eq!(section(facts(Cancelled, false, None)), None);
    }
}
