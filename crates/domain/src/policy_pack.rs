//! Policy packs: an exchange's priorities, SLA targets, calendars and escalation ladder, in
//! one versioned TOML file.
//!
//! A pack is read with [`PolicyPack::parse_toml`], which checks everything and builds each
//! calendar once; a bad file gives one [`PolicyError`] (stable code, field path, line) and
//! nothing else. The store keeps the file text ([`PolicyPack::source_text`]) with its
//! `version`, so that a ticket keeps the policy it was measured under. Two packs ship in
//! `policies/`: the default `priority` pack and the `severity` pack ([`shipped_pack`]).
//!
//! ```toml
//! code = "priority"
//! version = 1
//! name_en = "Priority model"
//! name_fr = "Modèle de priorités"
//! warning_share = 0.75                      # default 0.75
//!
//! [[escalations]]                           # default: 1.0 and 1.5 to the group lead
//! at_share = 1.0
//! notify = "group_lead"
//!
//! [matrix]                                  # rows: impact 1–4; columns: urgency 1–4
//! incident = [["P1", "P1", "P2", "P3"], ["P1", "P2", "P3", "P3"],
//!             ["P2", "P2", "P3", "P4"], ["P3", "P3", "P4", "P4"]]
//!
//! [[priorities]]
//! code = "P1"
//! rank = 1                                  # 1 = most urgent
//! label_en = "Critical"
//! label_fr = "Critique"
//! incident = { calendar = "24x7", respond = "20m", resolve = "2h" }
//! service_request = { calendar = "business", respond = "4h", resolve = "2bd" }
//! ```
//!
//! Targets are a whole number and a unit: `m` (minutes), `h` (hours) or `bd` (business days
//! of the priority's calendar), e.g. `"20m"`, `"4h"`, `"5bd"`; `"0m"` means immediately. For
//! service requests, `resolve` is the fulfilment target.
//!
//! # Which targets a ticket gets
//! Incidents, privacy incidents and security incidents use the incident matrix and targets;
//! service requests and privacy requests use the service-request ones. Problems, changes and
//! enhancement requests carry no SLA clock (they follow their own schedules: CAB dates,
//! review cycles), so lookups for them give `None`. A pack may leave out the service-request
//! matrix (the severity pack does): service requests then carry no SLA under that pack.
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use crate::calendar::{
    Calendar, CalendarDefinition, CalendarError, Closure, DayOfWeek, SHIPPED_CALENDARS, Target,
    WallTime, shipped_calendar,
};
use crate::change_schedule::{CabSchedule, ChangePolicy, NoticePeriod, NoticeRules, WindowRule};
use crate::due::target_open_time;
use crate::role::string_enum;
use crate::sla::{EscalationLadder, EscalationStep, Notify, Share, calendar_name, seconds};
use crate::ticket::TicketKind;

/// Largest pack file accepted.
pub const MAX_PACK_BYTES: usize = 1 << 20;
/// Most priorities (or severities) in a pack.
pub const MAX_PRIORITIES: usize = 64;
/// Most calendars a pack may define besides the shipped ones.
pub const MAX_EXTRA_CALENDARS: usize = 32;
/// Most escalation steps.
pub const MAX_ESCALATION_STEPS: usize = 8;
/// Most communication duties per priority and ticket family.
pub const MAX_DUTIES: usize = 16;
/// Most levels of the email objective.
pub const MAX_OBJECTIVE_LEVELS: usize = 8;
/// Largest rank.
pub const MAX_RANK: u32 = 1000;
/// Largest escalation share: ten times the target.
pub const MAX_ESCALATION_SHARE: Share = Share::from_basis_points(100_000);
/// Impact and urgency levels: 1 (extensive / critical) to 4 (minor / low).
pub const LEVELS: usize = 4;
const MAX_CODE_CHARS: usize = 16;
const MAX_PACK_CODE_CHARS: usize = 40;
const MAX_LABEL_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 2000;

string_enum! {
    /// The targets a ticket kind is measured against: `incident` (incidents, privacy
    /// incidents, security incidents) or `service_request` (service requests, privacy
    /// requests).
    SlaFamily {
        Incident = "incident",
        ServiceRequest = "service_request",
    }
}

impl SlaFamily {
    /// The family of a ticket kind; `None` for kinds without an SLA clock (problems,
    /// changes, enhancement requests).
    pub fn of(kind: TicketKind) -> Option<SlaFamily> {
        match kind {
            TicketKind::Incident | TicketKind::PrivacyIncident | TicketKind::SecurityIncident => {
                Some(SlaFamily::Incident)
            }
            TicketKind::ServiceRequest | TicketKind::PrivacyRequest => {
                Some(SlaFamily::ServiceRequest)
            }
            TicketKind::Problem | TicketKind::Change | TicketKind::EnhancementRequest => None,
        }
    }
}

string_enum! {
    /// A communication duty of a severity:
    /// - `login_banner`: banner (message of the day) on the login page;
    /// - `home_page_banner`: banner on the affected environment's home page;
    /// - `community_email`: email to the user community;
    /// - `update_email`: status email to the user community (at its `at` time);
    /// - `resolution_email`: email to the user community on resolution;
    /// - `work_with_customer`: work directly with the customer;
    /// - `incident_report_email`: incident report emailed to the customer.
    DutyKind {
        LoginBanner = "login_banner",
        HomePageBanner = "home_page_banner",
        CommunityEmail = "community_email",
        UpdateEmail = "update_email",
        ResolutionEmail = "resolution_email",
        WorkWithCustomer = "work_with_customer",
        IncidentReportEmail = "incident_report_email",
    }
}

/// When a communication duty falls. Written `"start"`, `"+1h"` (elapsed wall-clock time
/// since the ticket was logged, whatever the calendar: outages are reported on the clock),
/// `"resolution"` or `"throughout"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DutyTiming {
    AtStart,
    After(Duration),
    AtResolution,
    Throughout,
}

impl fmt::Display for DutyTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DutyTiming::AtStart => f.write_str("start"),
            DutyTiming::AtResolution => f.write_str("resolution"),
            DutyTiming::Throughout => f.write_str("throughout"),
            DutyTiming::After(elapsed) => {
                let minutes = elapsed.as_secs() / 60;
                if minutes % 60 == 0 {
                    write!(f, "+{}h", minutes / 60)
                } else {
                    write!(f, "+{minutes}m")
                }
            }
        }
    }
}

impl Serialize for DutyTiming {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What the desk must tell whom, and when, for a severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunicationDuty {
    pub kind: DutyKind,
    pub at: DutyTiming,
    pub text_en: String,
    pub text_fr: String,
}

/// A priority's targets for one ticket family. Built by [`PolicyPack::parse_toml`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityTargets {
    /// `P1`, `P10`, `S2`…
    pub code: String,
    /// Sort order, 1 = most urgent.
    pub rank: u32,
    pub label_en: String,
    pub label_fr: String,
    pub family: SlaFamily,
    /// The calendar both clocks run on.
    #[serde(serialize_with = "calendar_name")]
    pub calendar: Calendar,
    /// First response target.
    pub respond: Target,
    /// Restore (incidents) or fulfil (service requests) target.
    pub resolve: Target,
    /// `respond` as open time of `calendar`.
    #[serde(serialize_with = "seconds")]
    pub respond_open_time: Duration,
    /// `resolve` as open time of `calendar`.
    #[serde(serialize_with = "seconds")]
    pub resolve_open_time: Duration,
    /// Worked on a best-effort basis outside the calendar's hours (severity 2); the clocks
    /// still count only the calendar's open time.
    pub best_effort_after_hours: bool,
    pub description_en: Option<String>,
    pub description_fr: Option<String>,
    pub communications: Vec<CommunicationDuty>,
}

impl PriorityTargets {
    /// Whether the priority carries a duty of this kind (a banner on the login page…).
    pub fn has_duty(&self, kind: DutyKind) -> bool {
        self.communications.iter().any(|duty| duty.kind == kind)
    }
}

/// An impact × urgency matrix of priority codes: `cells[impact - 1][urgency - 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorityMatrix {
    pub cells: [[String; LEVELS]; LEVELS],
}

impl PriorityMatrix {
    /// The code for `impact` and `urgency` (each 1 to 4); `None` outside that range.
    pub fn code(&self, impact: i64, urgency: i64) -> Option<&str> {
        let (row, column) = level_indices(impact, urgency)?;
        Some(&self.cells[row][column])
    }
}

/// One level of the email objective: `share` of email-opened incidents get a first response
/// within `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ObjectiveLevel {
    pub within: Target,
    #[serde(serialize_with = "seconds")]
    pub within_open_time: Duration,
    pub share: Share,
}

/// The first-response objective for email-opened incidents, which carry no SLA clock;
/// reported monthly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailObjective {
    #[serde(serialize_with = "calendar_name")]
    pub calendar: Calendar,
    /// In increasing order of time and share.
    pub first_response: Vec<ObjectiveLevel>,
}

/// A checked policy pack. See the [module documentation](self) for the file format.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPack {
    code: String,
    version: u32,
    name_en: String,
    name_fr: String,
    /// Calendars the pack defines besides the shipped ones.
    calendars: Vec<Calendar>,
    /// Every priority's targets per family, by rank then family.
    targets: Vec<PriorityTargets>,
    incident_matrix: PriorityMatrix,
    service_request_matrix: Option<PriorityMatrix>,
    ladder: EscalationLadder,
    email_objective: Option<EmailObjective>,
    /// When subscribers hear of a scheduled maintenance (`7d`, `1h`, `5bd`, `start`,
    /// `completion`); the status page's default when the pack says nothing.
    maintenance_notices: Vec<crate::status_page::NoticeOffset>,
    /// CAB calendar, lead times, notice, windows and freezes (`[change]`).
    change: ChangePolicy,
    #[serde(skip)]
    incident_cells: [[usize; LEVELS]; LEVELS],
    #[serde(skip)]
    service_request_cells: Option<[[usize; LEVELS]; LEVELS]>,
    #[serde(skip)]
    source: String,
}

impl PolicyPack {
    /// Reads and checks a pack file. Every calendar the pack uses is built here, once.
    pub fn parse_toml(text: &str) -> Result<PolicyPack, PolicyError> {
        if text.len() > MAX_PACK_BYTES {
            return Err(PolicyError {
                problem: PolicyProblem::TooLarge,
                field: String::new(),
                line: None,
            });
        }
        let raw: RawPack = toml::from_str(text).map_err(|error| {
            let span = error.span();
            PolicyError {
                problem: PolicyProblem::Syntax(error.message().trim().to_owned()),
                field: span
                    .as_ref()
                    .map_or_else(String::new, |span| field_path_at(text, span.start)),
                line: span.map(|span| line_at(text, span.start)),
            }
        })?;
        Checker { text }.pack(raw)
    }

    /// The pack's code (`"priority"`, `"severity"`).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The pack's version, from 1.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn name_en(&self) -> &str {
        &self.name_en
    }

    pub fn name_fr(&self) -> &str {
        &self.name_fr
    }

    /// The file text the pack was read from, comments included.
    pub fn source_text(&self) -> &str {
        &self.source
    }

    /// The calendars the pack defines besides the shipped ones.
    pub fn extra_calendars(&self) -> &[Calendar] {
        &self.calendars
    }

    /// A calendar by name: one the pack defines, or a shipped one.
    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars
            .iter()
            .find(|calendar| calendar.name() == name)
            .or_else(|| shipped_calendar(name))
    }

    /// Every priority's targets, by rank then family (incident first).
    pub fn all_targets(&self) -> &[PriorityTargets] {
        &self.targets
    }

    /// The priorities defined for a family, by rank.
    pub fn targets_of(&self, family: SlaFamily) -> impl Iterator<Item = &PriorityTargets> {
        self.targets
            .iter()
            .filter(move |targets| targets.family == family)
    }

    /// The matrix of a family, if the pack has one.
    pub fn matrix(&self, family: SlaFamily) -> Option<&PriorityMatrix> {
        match family {
            SlaFamily::Incident => Some(&self.incident_matrix),
            SlaFamily::ServiceRequest => self.service_request_matrix.as_ref(),
        }
    }

    /// The priority a new ticket gets from its impact and urgency (each 1 to 4), by its
    /// family's matrix. `None` for kinds without an SLA clock, a family without a matrix in
    /// this pack, or levels outside 1 to 4.
    ///
    /// ```
    /// use domain::policy_pack::shipped_pack;
    /// use domain::sla::{ClockInput, StatusChange, response_clock};
    /// use domain::ticket::{Status, TicketKind};
    /// let pack = shipped_pack("priority").unwrap();
    /// // Significant impact, medium urgency: P3, 2 h to respond in business hours.
    /// let p3 = pack.priority_for(TicketKind::Incident, 2, 3).unwrap();
    /// assert_eq!((p3.code.as_str(), p3.calendar.name()), ("P3", "business"));
    /// let created = "2026-01-19T09:00:00-05:00".parse().unwrap();
    /// let history = [StatusChange::new(created, Status::New)];
    /// let clock = ClockInput {
    ///     calendar: &p3.calendar,
    ///     earlier_calendars: &[],
    ///     target: p3.respond_open_time,
    ///     history: &history,
    ///     warning_share: pack.ladder().warning_share,
    ///     now: created,
    /// };
    /// let report = response_clock(&clock, None).unwrap();
    /// assert_eq!(report.due.unwrap().to_string(), "2026-01-19T16:00:00Z"); // 11:00 EST
    /// ```
    pub fn priority_for(
        &self,
        kind: TicketKind,
        impact: i64,
        urgency: i64,
    ) -> Option<&PriorityTargets> {
        let cells = match SlaFamily::of(kind)? {
            SlaFamily::Incident => &self.incident_cells,
            SlaFamily::ServiceRequest => self.service_request_cells.as_ref()?,
        };
        let (row, column) = level_indices(impact, urgency)?;
        self.targets.get(cells[row][column])
    }

    /// The targets of priority `code` for a ticket kind (incidents and requests share codes
    /// P1–P4 with different targets). `None` when the pack defines none for that kind.
    pub fn targets(&self, kind: TicketKind, code: &str) -> Option<&PriorityTargets> {
        self.targets_in(SlaFamily::of(kind)?, code)
    }

    /// The targets of priority `code` in a family.
    pub fn targets_in(&self, family: SlaFamily, code: &str) -> Option<&PriorityTargets> {
        self.targets
            .iter()
            .find(|targets| targets.family == family && targets.code == code)
    }

    /// The calendar the clocks of priority `code` run on, for a ticket kind.
    pub fn calendar_for(&self, kind: TicketKind, code: &str) -> Option<&Calendar> {
        self.targets(kind, code).map(|targets| &targets.calendar)
    }

    /// The warning share and escalation steps.
    pub fn ladder(&self) -> &EscalationLadder {
        &self.ladder
    }

    /// The first-response objective for email-opened incidents, if the pack sets one.
    pub fn email_objective(&self) -> Option<&EmailObjective> {
        self.email_objective.as_ref()
    }

    /// When a scheduled maintenance's subscribers are told (`7d`, `1h`, `start`, …).
    pub fn maintenance_notices(&self) -> &[crate::status_page::NoticeOffset] {
        &self.maintenance_notices
    }

    /// The change rules: CAB calendar, lead times, notice, windows and freezes. A pack
    /// without a `[change]` section has the specification's defaults on `business`.
    pub fn change_policy(&self) -> &ChangePolicy {
        &self.change
    }

    /// The same pack with one-off closures added to its calendars. Each closure names the
    /// calendar it applies to (`Some("business")`), or `None` for every calendar that follows
    /// holiday rules (`business`, `tier1`, `lra-team` and the pack's own calendars with
    /// holidays; not `24x7`). A closure closes its date all day, also on a calendar that has
    /// special hours on holidays (`tier1`). A date the pack's calendar already closes, or
    /// listed twice, counts once (the first name is kept).
    ///
    /// Closures are calendar data kept outside pack versions: the pack's code, version and
    /// source text are unchanged. Every calendar that gets closures is rebuilt (shared by the
    /// priorities that use it), and the targets' open times worked out again.
    ///
    /// ```
    /// use domain::calendar::Closure;
    /// use domain::policy_pack::{SlaFamily, shipped_pack};
    /// let pack = shipped_pack("priority").unwrap();
    /// let day = jiff::civil::date(2026, 3, 9);
    /// let closed = pack
    ///     .with_closures(&[(None, Closure { date: day, name: Some("Move".into()), name_fr: None })])
    ///     .unwrap();
    /// let p3 = closed.targets_in(SlaFamily::Incident, "P3").unwrap();
    /// assert_eq!(p3.calendar.definition().closures.len(), 1);
    /// let p1 = closed.targets_in(SlaFamily::Incident, "P1").unwrap();
    /// assert!(p1.calendar.definition().closures.is_empty()); // 24x7
    /// ```
    pub fn with_closures(
        &self,
        closures: &[(Option<String>, Closure)],
    ) -> Result<PolicyPack, PolicyError> {
        let mut pack = self.clone();
        if closures.is_empty() {
            return Ok(pack);
        }
        let mut rebuilt: HashMap<String, Calendar> = HashMap::new();
        let mut rebuild = |calendar: &Calendar| -> Result<Calendar, PolicyError> {
            if let Some(done) = rebuilt.get(calendar.name()) {
                return Ok(done.clone());
            }
            let follows_holidays = !calendar.holiday_rules().is_empty();
            let mut definition = calendar.definition().clone();
            let before = definition.closures.len();
            for (scope, closure) in closures {
                let applies = match scope {
                    Some(name) => name == calendar.name(),
                    None => follows_holidays,
                };
                if applies && definition.closures.iter().all(|c| c.date != closure.date) {
                    definition.closures.push(closure.clone());
                }
            }
            let result = if definition.closures.len() == before {
                calendar.clone()
            } else {
                Calendar::new(definition).map_err(|error| PolicyError {
                    field: format!("closures ({})", calendar.name()),
                    problem: PolicyProblem::Calendar(error),
                    line: None,
                })?
            };
            rebuilt.insert(calendar.name().to_owned(), result.clone());
            Ok(result)
        };
        let open_time = |calendar: &Calendar, target: Target| {
            target_open_time(calendar, target).map_err(|error| PolicyError {
                field: format!("closures ({})", calendar.name()),
                problem: PolicyProblem::Calendar(error),
                line: None,
            })
        };
        for calendar in &mut pack.calendars {
            *calendar = rebuild(calendar)?;
        }
        for targets in &mut pack.targets {
            let calendar = rebuild(&targets.calendar)?;
            targets.respond_open_time = open_time(&calendar, targets.respond)?;
            targets.resolve_open_time = open_time(&calendar, targets.resolve)?;
            targets.calendar = calendar;
        }
        if let Some(objective) = &mut pack.email_objective {
            let calendar = rebuild(&objective.calendar)?;
            for level in &mut objective.first_response {
                level.within_open_time = open_time(&calendar, level.within)?;
            }
            objective.calendar = calendar;
        }
        pack.change.calendar = rebuild(&pack.change.calendar)?;
        Ok(pack)
    }
}

/// Codes of the packs shipped in `policies/`.
pub const SHIPPED_PACKS: [&str; 2] = ["priority", "severity"];

/// The text of a shipped pack file (`"priority"`, `"severity"`), to store as version 1.
pub fn shipped_pack_text(code: &str) -> Option<&'static str> {
    match code {
        "priority" => Some(include_str!("../../../policies/priority.toml")),
        "severity" => Some(include_str!("../../../policies/severity.toml")),
        _ => None,
    }
}

static SHIPPED: LazyLock<Vec<PolicyPack>> = LazyLock::new(|| {
    SHIPPED_PACKS
        .iter()
        .filter_map(|code| shipped_pack_text(code))
        .filter_map(|text| PolicyPack::parse_toml(text).ok())
        .collect()
});

/// A shipped pack, parsed once per process (tests hold that both parse).
pub fn shipped_pack(code: &str) -> Option<&'static PolicyPack> {
    SHIPPED.iter().find(|pack| pack.code == code)
}

/// What is wrong with a pack file. The stable code is [`PolicyError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyProblem {
    #[error("the file is larger than {MAX_PACK_BYTES} bytes")]
    TooLarge,
    #[error("{0}")]
    Syntax(String),
    #[error("the version must be a whole number from 1")]
    InvalidVersion,
    #[error(
        "invalid code {0:?}: pack codes are 1 to 40 lowercase letters, digits and dashes; \
         priority codes 1 to 16 letters, digits, dashes and underscores"
    )]
    InvalidCode(String),
    #[error("the text must be 1 to {max} characters, without control characters")]
    InvalidText { max: usize },
    #[error("{}", invalid_target_message(.0))]
    InvalidTarget(String),
    #[error("target {0:?} is negative")]
    NegativeTarget(String),
    #[error(
        "{0:?} is not a time: write \"start\", \"+1h\", \"+30m\", \"resolution\" or \"throughout\""
    )]
    InvalidTiming(String),
    #[error("priority {code:?} has no {which} target")]
    MissingTarget { code: String, which: &'static str },
    #[error(
        "priority {0:?} applies to no ticket kind: give it incident or service_request targets"
    )]
    NoTargets(String),
    #[error("priority {0:?} is defined twice")]
    DuplicatePriority(String),
    #[error("rank must be a whole number from 1 to {MAX_RANK}")]
    InvalidRank,
    #[error("rank {0} is given to two priorities")]
    DuplicateRank(u32),
    #[error("{code:?} is not a priority with {family} targets")]
    UnknownPriority { code: String, family: SlaFamily },
    #[error("a matrix has 4 rows (impact 1 to 4) of 4 priorities (urgency 1 to 4)")]
    MatrixShape,
    #[error("no calendar named {0:?} (shipped: 24x7, business, tier1, lra-team)")]
    UnknownCalendar(String),
    #[error("calendar {0:?} is defined twice or has the name of a shipped calendar")]
    DuplicateCalendar(String),
    #[error(transparent)]
    Calendar(CalendarError),
    #[error("the share must be above {low} and {high}")]
    InvalidShare {
        low: &'static str,
        high: &'static str,
    },
    #[error("escalation steps must come after the warning share, in increasing order")]
    EscalationsNotIncreasing,
    #[error("objective levels must increase in both time and share")]
    ObjectiveNotIncreasing,
    #[error("the respond target is longer than the resolve target")]
    RespondAfterResolve,
    #[error("more than {max} {what}")]
    TooMany { what: &'static str, max: usize },
    #[error("{0}")]
    InvalidChangeRule(String),
    #[error(
        "{0:?} is not a notice time: write \"7d\" (days), \"5bd\" (business days), \"1h\", \"30m\", \"start\" or \"completion\""
    )]
    InvalidNotice(String),
}

/// A pack file refused: what, where (a field path such as `priorities[2].incident.resolve`
/// or `matrix.incident[1][3]`, indices from 0) and on which line (from 1).
///
/// For syntax errors (invalid TOML, unknown or missing keys, wrong types) the field path is
/// worked out from the surrounding table headers and is a best effort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    problem: PolicyProblem,
    field: String,
    line: Option<u32>,
}

impl PolicyError {
    /// Stable machine-readable code (`"unknown_calendar"`, `"syntax"`…; a calendar problem
    /// has the calendar error's code, e.g. `"business_days_undefined"`).
    pub fn code(&self) -> &'static str {
        match &self.problem {
            PolicyProblem::TooLarge => "too_large",
            PolicyProblem::Syntax(_) => "syntax",
            PolicyProblem::InvalidVersion => "invalid_version",
            PolicyProblem::InvalidCode(_) => "invalid_code",
            PolicyProblem::InvalidText { .. } => "invalid_text",
            PolicyProblem::InvalidTarget(_) => "invalid_target",
            PolicyProblem::NegativeTarget(_) => "negative_target",
            PolicyProblem::InvalidTiming(_) => "invalid_timing",
            PolicyProblem::MissingTarget { .. } | PolicyProblem::NoTargets(_) => "missing_target",
            PolicyProblem::DuplicatePriority(_) => "duplicate_priority",
            PolicyProblem::InvalidRank => "invalid_rank",
            PolicyProblem::DuplicateRank(_) => "duplicate_rank",
            PolicyProblem::UnknownPriority { .. } => "unknown_priority",
            PolicyProblem::MatrixShape => "matrix_shape",
            PolicyProblem::UnknownCalendar(_) => "unknown_calendar",
            PolicyProblem::DuplicateCalendar(_) => "duplicate_calendar",
            PolicyProblem::Calendar(error) => error.code(),
            PolicyProblem::InvalidShare { .. } => "invalid_share",
            PolicyProblem::EscalationsNotIncreasing => "escalations_not_increasing",
            PolicyProblem::ObjectiveNotIncreasing => "objective_not_increasing",
            PolicyProblem::RespondAfterResolve => "respond_after_resolve",
            PolicyProblem::TooMany { .. } => "too_many",
            PolicyProblem::InvalidNotice(_) => "invalid_notice",
            PolicyProblem::InvalidChangeRule(_) => "invalid_change_rule",
        }
    }

    /// The field at fault, as a path (`priorities[2].incident.resolve`); empty when the
    /// whole file is at fault.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The line of the file at fault, from 1.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// What is wrong, in detail.
    pub fn problem(&self) -> &PolicyProblem {
        &self.problem
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.problem)
    }
}

impl std::error::Error for PolicyError {}

// ---------------------------------------------------------------------------------------------
// The file as written.

type Cells = Spanned<Vec<Spanned<Vec<Spanned<String>>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    code: Spanned<String>,
    version: Spanned<i64>,
    name_en: Spanned<String>,
    name_fr: Spanned<String>,
    #[serde(default)]
    warning_share: Option<Spanned<f64>>,
    #[serde(default)]
    escalations: Option<Vec<Spanned<RawEscalation>>>,
    #[serde(default)]
    calendars: Vec<Spanned<CalendarDefinition>>,
    matrix: RawMatrices,
    priorities: Vec<Spanned<RawPriority>>,
    #[serde(default)]
    email_objective: Option<Spanned<RawEmailObjective>>,
    #[serde(default)]
    status_page: Option<Spanned<RawStatusPage>>,
    #[serde(default)]
    change: Option<Spanned<RawChange>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    calendar: Spanned<String>,
    cab: RawCab,
    lead_time_business_days: Spanned<Vec<i64>>,
    notice: RawNotice,
    #[serde(default)]
    windows: Vec<Spanned<RawWindow>>,
    freeze_notice_days: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCab {
    weekday: DayOfWeek,
    start: WallTime,
    end: WallTime,
    approvals: WallTime,
    deadline_weekday: DayOfWeek,
    deadline: WallTime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    operator_to_partners: Spanned<String>,
    partner_to_operator: Spanned<String>,
    exchange: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    weekday: DayOfWeek,
    start: WallTime,
    end: WallTime,
    #[serde(default)]
    every_weeks: Option<Spanned<i64>>,
    #[serde(default)]
    first: Option<Spanned<String>>,
    label_en: Spanned<String>,
    label_fr: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatusPage {
    maintenance_notices: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    at_share: Spanned<f64>,
    notify: Notify,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrices {
    incident: Cells,
    #[serde(default)]
    service_request: Option<Cells>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriority {
    code: Spanned<String>,
    rank: Spanned<i64>,
    label_en: Spanned<String>,
    label_fr: Spanned<String>,
    #[serde(default)]
    incident: Option<Spanned<RawTargets>>,
    #[serde(default)]
    service_request: Option<Spanned<RawTargets>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    calendar: Spanned<String>,
    #[serde(default)]
    respond: Option<Spanned<String>>,
    #[serde(default)]
    resolve: Option<Spanned<String>>,
    #[serde(default)]
    best_effort_after_hours: bool,
    #[serde(default)]
    description_en: Option<Spanned<String>>,
    #[serde(default)]
    description_fr: Option<Spanned<String>>,
    #[serde(default)]
    communications: Vec<Spanned<RawDuty>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuty {
    kind: DutyKind,
    at: Spanned<String>,
    text_en: Spanned<String>,
    text_fr: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmailObjective {
    calendar: Spanned<String>,
    first_response: Vec<Spanned<RawObjectiveLevel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjectiveLevel {
    within: Spanned<String>,
    share: Spanned<f64>,
}

// ---------------------------------------------------------------------------------------------
// Checks.

struct Checker<'t> {
    text: &'t str,
}

impl Checker<'_> {
    fn error(&self, problem: PolicyProblem, field: String, span: Range<usize>) -> PolicyError {
        PolicyError {
            problem,
            field,
            line: Some(line_at(self.text, span.start)),
        }
    }

    fn pack(&self, raw: RawPack) -> Result<PolicyPack, PolicyError> {
        let code = raw.code.get_ref().trim();
        if code.is_empty()
            || code.chars().count() > MAX_PACK_CODE_CHARS
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(self.error(
                PolicyProblem::InvalidCode(code.to_owned()),
                "code".into(),
                raw.code.span(),
            ));
        }
        let version = u32::try_from(*raw.version.get_ref())
            .ok()
            .filter(|&version| version >= 1)
            .ok_or_else(|| {
                self.error(
                    PolicyProblem::InvalidVersion,
                    "version".into(),
                    raw.version.span(),
                )
            })?;
        let name_en = self.label(&raw.name_en, "name_en".into())?;
        let name_fr = self.label(&raw.name_fr, "name_fr".into())?;
        let calendars = self.calendars(&raw.calendars)?;
        let ladder = self.ladder(raw.warning_share.as_ref(), raw.escalations.as_deref())?;
        let mut targets = self.priorities(&raw.priorities, &calendars)?;
        targets.sort_by_key(|targets| (targets.rank, targets.family));
        let (incident_matrix, incident_cells) =
            self.matrix(&raw.matrix.incident, SlaFamily::Incident, &targets)?;
        let service_request = match &raw.matrix.service_request {
            Some(cells) => Some(self.matrix(cells, SlaFamily::ServiceRequest, &targets)?),
            None => None,
        };
        let (service_request_matrix, service_request_cells) = service_request.unzip();
        let email_objective = match &raw.email_objective {
            Some(objective) => Some(self.email_objective(objective, &calendars)?),
            None => None,
        };
        let maintenance_notices = match &raw.status_page {
            Some(section) => self.maintenance_notices(section)?,
            None => crate::status_page::DEFAULT_OFFSETS
                .iter()
                .filter_map(|text| text.parse().ok())
                .collect(),
        };
        let change = match &raw.change {
            Some(section) => self.change(section, &calendars)?,
            None => ChangePolicy::spec_default(
                shipped_calendar("business")
                    .expect("the business calendar ships")
                    .clone(),
            ),
        };
        Ok(PolicyPack {
            code: code.to_owned(),
            version,
            name_en,
            name_fr,
            calendars,
            targets,
            incident_matrix,
            service_request_matrix,
            ladder,
            email_objective,
            maintenance_notices,
            change,
            incident_cells,
            service_request_cells,
            source: self.text.to_owned(),
        })
    }

    /// A one-line label: trimmed, 1 to 200 characters, no control characters.
    fn label(&self, value: &Spanned<String>, field: String) -> Result<String, PolicyError> {
        self.text_value(value, field, MAX_LABEL_CHARS, false)
    }

    fn text_value(
        &self,
        value: &Spanned<String>,
        field: String,
        max: usize,
        multiline: bool,
    ) -> Result<String, PolicyError> {
        let text = value.get_ref().trim();
        let bad_char = |c: char| c.is_control() && !(multiline && c == '\n');
        if text.is_empty() || text.chars().count() > max || text.chars().any(bad_char) {
            return Err(self.error(PolicyProblem::InvalidText { max }, field, value.span()));
        }
        Ok(text.to_owned())
    }

    fn calendars(&self, raw: &[Spanned<CalendarDefinition>]) -> Result<Vec<Calendar>, PolicyError> {
        let mut calendars: Vec<Calendar> = Vec::with_capacity(raw.len());
        for (index, definition) in raw.iter().enumerate() {
            let field = |suffix: &str| format!("calendars[{index}].{suffix}");
            if index >= MAX_EXTRA_CALENDARS {
                return Err(self.error(
                    PolicyProblem::TooMany {
                        what: "calendars",
                        max: MAX_EXTRA_CALENDARS,
                    },
                    format!("calendars[{index}]"),
                    definition.span(),
                ));
            }
            let name = definition.get_ref().name.as_str();
            if SHIPPED_CALENDARS.contains(&name)
                || calendars.iter().any(|calendar| calendar.name() == name)
            {
                return Err(self.error(
                    PolicyProblem::DuplicateCalendar(name.to_owned()),
                    field("name"),
                    definition.span(),
                ));
            }
            let calendar = Calendar::new(definition.get_ref().clone()).map_err(|error| {
                let at = field(error.field());
                self.error(PolicyProblem::Calendar(error), at, definition.span())
            })?;
            calendars.push(calendar);
        }
        Ok(calendars)
    }

    fn find_calendar(
        &self,
        name: &Spanned<String>,
        calendars: &[Calendar],
        field: String,
    ) -> Result<Calendar, PolicyError> {
        let wanted = name.get_ref().as_str();
        calendars
            .iter()
            .find(|calendar| calendar.name() == wanted)
            .or_else(|| shipped_calendar(wanted))
            .cloned()
            .ok_or_else(|| {
                self.error(
                    PolicyProblem::UnknownCalendar(wanted.to_owned()),
                    field,
                    name.span(),
                )
            })
    }

    fn ladder(
        &self,
        warning_share: Option<&Spanned<f64>>,
        escalations: Option<&[Spanned<RawEscalation>]>,
    ) -> Result<EscalationLadder, PolicyError> {
        let defaults = EscalationLadder::default();
        let warning_share = match warning_share {
            None => defaults.warning_share,
            Some(share) => Share::from_fraction(*share.get_ref())
                .filter(|share| (1..Share::ONE.basis_points()).contains(&share.basis_points()))
                .ok_or_else(|| {
                    self.error(
                        PolicyProblem::InvalidShare {
                            low: "0",
                            high: "below 1",
                        },
                        "warning_share".into(),
                        share.span(),
                    )
                })?,
        };
        let Some(escalations) = escalations else {
            return Ok(EscalationLadder {
                warning_share,
                steps: defaults.steps,
            });
        };
        let mut steps: Vec<EscalationStep> = Vec::with_capacity(escalations.len());
        for (index, step) in escalations.iter().enumerate() {
            let field = format!("escalations[{index}].at_share");
            let raw_share = &step.get_ref().at_share;
            if index >= MAX_ESCALATION_STEPS {
                return Err(self.error(
                    PolicyProblem::TooMany {
                        what: "escalation steps",
                        max: MAX_ESCALATION_STEPS,
                    },
                    format!("escalations[{index}]"),
                    step.span(),
                ));
            }
            let at_share = Share::from_fraction(*raw_share.get_ref())
                .filter(|share| share.basis_points() > 0 && *share <= MAX_ESCALATION_SHARE)
                .ok_or_else(|| {
                    self.error(
                        PolicyProblem::InvalidShare {
                            low: "0",
                            high: "at most 10",
                        },
                        field.clone(),
                        raw_share.span(),
                    )
                })?;
            let previous = steps.last().map_or(warning_share, |step| step.at_share);
            if at_share <= previous {
                return Err(self.error(
                    PolicyProblem::EscalationsNotIncreasing,
                    field,
                    raw_share.span(),
                ));
            }
            steps.push(EscalationStep {
                at_share,
                notify: step.get_ref().notify,
            });
        }
        Ok(EscalationLadder {
            warning_share,
            steps,
        })
    }

    fn priorities(
        &self,
        raw: &[Spanned<RawPriority>],
        calendars: &[Calendar],
    ) -> Result<Vec<PriorityTargets>, PolicyError> {
        let mut targets = Vec::with_capacity(raw.len() * 2);
        let mut codes = HashSet::new();
        let mut ranks = HashMap::new();
        for (index, spanned) in raw.iter().enumerate() {
            let priority = spanned.get_ref();
            let field = |suffix: &str| format!("priorities[{index}].{suffix}");
            if index >= MAX_PRIORITIES {
                return Err(self.error(
                    PolicyProblem::TooMany {
                        what: "priorities",
                        max: MAX_PRIORITIES,
                    },
                    format!("priorities[{index}]"),
                    spanned.span(),
                ));
            }
            let code = priority.code.get_ref().trim();
            let valid_code = !code.is_empty()
                && code.len() <= MAX_CODE_CHARS
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_code {
                return Err(self.error(
                    PolicyProblem::InvalidCode(code.to_owned()),
                    field("code"),
                    priority.code.span(),
                ));
            }
            if !codes.insert(code.to_ascii_uppercase()) {
                return Err(self.error(
                    PolicyProblem::DuplicatePriority(code.to_owned()),
                    field("code"),
                    priority.code.span(),
                ));
            }
            let rank = u32::try_from(*priority.rank.get_ref())
                .ok()
                .filter(|rank| (1..=MAX_RANK).contains(rank))
                .ok_or_else(|| {
                    self.error(
                        PolicyProblem::InvalidRank,
                        field("rank"),
                        priority.rank.span(),
                    )
                })?;
            if ranks.insert(rank, index).is_some() {
                return Err(self.error(
                    PolicyProblem::DuplicateRank(rank),
                    field("rank"),
                    priority.rank.span(),
                ));
            }
            let label_en = self.label(&priority.label_en, field("label_en"))?;
            let label_fr = self.label(&priority.label_fr, field("label_fr"))?;
            let families = [
                (SlaFamily::Incident, &priority.incident),
                (SlaFamily::ServiceRequest, &priority.service_request),
            ];
            if families.iter().all(|(_, raw)| raw.is_none()) {
                return Err(self.error(
                    PolicyProblem::NoTargets(code.to_owned()),
                    format!("priorities[{index}]"),
                    spanned.span(),
                ));
            }
            for (family, raw_targets) in families {
                let Some(raw_targets) = raw_targets else {
                    continue;
                };
                let prefix = format!("priorities[{index}].{family}");
                let common = Common {
                    code,
                    rank,
                    label_en: &label_en,
                    label_fr: &label_fr,
                };
                targets.push(self.targets(raw_targets, family, &prefix, common, calendars)?);
            }
        }
        Ok(targets)
    }

    fn targets(
        &self,
        spanned: &Spanned<RawTargets>,
        family: SlaFamily,
        prefix: &str,
        common: Common<'_>,
        calendars: &[Calendar],
    ) -> Result<PriorityTargets, PolicyError> {
        let raw = spanned.get_ref();
        let field = |suffix: &str| format!("{prefix}.{suffix}");
        let calendar = self.find_calendar(&raw.calendar, calendars, field("calendar"))?;
        let target = |value: &Option<Spanned<String>>, which: &'static str| {
            let value = value.as_ref().ok_or_else(|| {
                self.error(
                    PolicyProblem::MissingTarget {
                        code: common.code.to_owned(),
                        which,
                    },
                    field(which),
                    spanned.span(),
                )
            })?;
            self.target(value, &calendar, field(which))
        };
        let (respond, respond_open_time) = target(&raw.respond, "respond")?;
        let (resolve, resolve_open_time) = target(&raw.resolve, "resolve")?;
        if respond_open_time > resolve_open_time {
            let span = raw.respond.as_ref().map_or(spanned.span(), Spanned::span);
            return Err(self.error(PolicyProblem::RespondAfterResolve, field("respond"), span));
        }
        let description = |value: &Option<Spanned<String>>, name: &str| {
            value
                .as_ref()
                .map(|value| self.text_value(value, field(name), MAX_TEXT_CHARS, true))
                .transpose()
        };
        let description_en = description(&raw.description_en, "description_en")?;
        let description_fr = description(&raw.description_fr, "description_fr")?;
        let mut communications = Vec::with_capacity(raw.communications.len());
        for (index, duty) in raw.communications.iter().enumerate() {
            let field = |suffix: &str| format!("{prefix}.communications[{index}].{suffix}");
            if index >= MAX_DUTIES {
                return Err(self.error(
                    PolicyProblem::TooMany {
                        what: "communication duties",
                        max: MAX_DUTIES,
                    },
                    format!("{prefix}.communications[{index}]"),
                    duty.span(),
                ));
            }
            let duty = duty.get_ref();
            let at = parse_timing(duty.at.get_ref())
                .map_err(|problem| self.error(problem, field("at"), duty.at.span()))?;
            communications.push(CommunicationDuty {
                kind: duty.kind,
                at,
                text_en: self.text_value(&duty.text_en, field("text_en"), MAX_TEXT_CHARS, true)?,
                text_fr: self.text_value(&duty.text_fr, field("text_fr"), MAX_TEXT_CHARS, true)?,
            });
        }
        Ok(PriorityTargets {
            code: common.code.to_owned(),
            rank: common.rank,
            label_en: common.label_en.to_owned(),
            label_fr: common.label_fr.to_owned(),
            family,
            calendar,
            respond,
            resolve,
            respond_open_time,
            resolve_open_time,
            best_effort_after_hours: raw.best_effort_after_hours,
            description_en,
            description_fr,
            communications,
        })
    }

    /// A target and its open time on `calendar`.
    fn target(
        &self,
        value: &Spanned<String>,
        calendar: &Calendar,
        field: String,
    ) -> Result<(Target, Duration), PolicyError> {
        let target = parse_target(value.get_ref())
            .map_err(|p| self.error(p, field.clone(), value.span()))?;
        let open_time = target_open_time(calendar, target)
            .map_err(|e| self.error(PolicyProblem::Calendar(e), field, value.span()))?;
        Ok((target, open_time))
    }

    fn matrix(
        &self,
        raw: &Cells,
        family: SlaFamily,
        targets: &[PriorityTargets],
    ) -> Result<(PriorityMatrix, [[usize; LEVELS]; LEVELS]), PolicyError> {
        let name = format!("matrix.{family}");
        let shape =
            |field: String, span: Range<usize>| self.error(PolicyProblem::MatrixShape, field, span);
        let rows = raw.get_ref();
        if rows.len() != LEVELS {
            return Err(shape(name, raw.span()));
        }
        let mut codes: [[String; LEVELS]; LEVELS] = Default::default();
        let mut cells = [[0_usize; LEVELS]; LEVELS];
        for (row, spanned_row) in rows.iter().enumerate() {
            let columns = spanned_row.get_ref();
            if columns.len() != LEVELS {
                return Err(shape(format!("{name}[{row}]"), spanned_row.span()));
            }
            for (column, cell) in columns.iter().enumerate() {
                let code = cell.get_ref();
                let index = targets
                    .iter()
                    .position(|targets| targets.family == family && &targets.code == code)
                    .ok_or_else(|| {
                        self.error(
                            PolicyProblem::UnknownPriority {
                                code: code.clone(),
                                family,
                            },
                            format!("{name}[{row}][{column}]"),
                            cell.span(),
                        )
                    })?;
                codes[row][column] = code.clone();
                cells[row][column] = index;
            }
        }
        Ok((PriorityMatrix { cells: codes }, cells))
    }

    fn change(
        &self,
        spanned: &Spanned<RawChange>,
        calendars: &[Calendar],
    ) -> Result<ChangePolicy, PolicyError> {
        const MAX_WINDOWS: usize = 16;
        const MAX_DAYS: i64 = 366;
        let raw = spanned.get_ref();
        let invalid = |what: &str, span: Range<usize>, field: &str| {
            self.error(
                PolicyProblem::InvalidChangeRule(what.to_owned()),
                format!("change.{field}"),
                span,
            )
        };
        let calendar = self.find_calendar(&raw.calendar, calendars, "change.calendar".into())?;
        if calendar.business_day().is_none() && calendar.holiday_rules().is_empty() {
            return Err(invalid(
                "the change calendar needs business days (e.g. \"business\")",
                raw.calendar.span(),
                "calendar",
            ));
        }
        let cab = CabSchedule {
            weekday: raw.cab.weekday,
            start: raw.cab.start,
            end: raw.cab.end,
            approvals_at: raw.cab.approvals,
            deadline_weekday: raw.cab.deadline_weekday,
            deadline_time: raw.cab.deadline,
        };
        if cab.end <= cab.start || cab.approvals_at < cab.end {
            return Err(invalid(
                "the CAB ends after it starts and approvals go out after it ends",
                spanned.span(),
                "cab",
            ));
        }
        let leads = raw.lead_time_business_days.get_ref();
        let lead_time_business_days: [u32; 4] = leads
            .iter()
            .map(|&days| {
                u32::try_from(days)
                    .ok()
                    .filter(|&d| i64::from(d) <= MAX_DAYS)
            })
            .collect::<Option<Vec<u32>>>()
            .and_then(|days| days.try_into().ok())
            .ok_or_else(|| {
                invalid(
                    "four lead times (impact 1 to 4), 0 to 366 business days",
                    raw.lead_time_business_days.span(),
                    "lead_time_business_days",
                )
            })?;
        let period = |text: &Spanned<String>, field: &str| -> Result<NoticePeriod, PolicyError> {
            let value = text.get_ref().trim();
            let parsed = if let Some(days) = value.strip_suffix("bd") {
                days.parse::<u32>().ok().map(NoticePeriod::BusinessDays)
            } else if let Some(days) = value.strip_suffix('d') {
                days.parse::<u32>().ok().map(NoticePeriod::CalendarDays)
            } else {
                None
            };
            parsed
                .filter(|period| match period {
                    NoticePeriod::BusinessDays(days) | NoticePeriod::CalendarDays(days) => {
                        i64::from(*days) <= MAX_DAYS
                    }
                })
                .ok_or_else(|| {
                    invalid(
                        "write a notice as \"5bd\" (business days) or \"14d\" (days), up to 366",
                        text.span(),
                        field,
                    )
                })
        };
        let notice = NoticeRules {
            operator_to_partners: period(
                &raw.notice.operator_to_partners,
                "notice.operator_to_partners",
            )?,
            partner_to_operator: period(
                &raw.notice.partner_to_operator,
                "notice.partner_to_operator",
            )?,
            exchange: period(&raw.notice.exchange, "notice.exchange")?,
        };
        if raw.windows.len() > MAX_WINDOWS {
            return Err(self.error(
                PolicyProblem::TooMany {
                    what: "maintenance windows",
                    max: MAX_WINDOWS,
                },
                "change.windows".into(),
                spanned.span(),
            ));
        }
        let mut windows = Vec::with_capacity(raw.windows.len());
        for (index, window) in raw.windows.iter().enumerate() {
            let field = |suffix: &str| format!("windows[{index}].{suffix}");
            let rule = window.get_ref();
            if rule.end <= rule.start {
                return Err(invalid(
                    "a window ends after it starts, on the same day",
                    window.span(),
                    &field("end"),
                ));
            }
            let every_weeks = match &rule.every_weeks {
                None => 1,
                Some(weeks) => u32::try_from(*weeks.get_ref())
                    .ok()
                    .filter(|weeks| (1..=52).contains(weeks))
                    .ok_or_else(|| {
                        invalid(
                            "every_weeks is 1 to 52",
                            weeks.span(),
                            &field("every_weeks"),
                        )
                    })?,
            };
            let first = match &rule.first {
                None => None,
                Some(text) => Some(
                    text.get_ref()
                        .parse::<jiff::civil::Date>()
                        .ok()
                        .filter(|date| date.weekday() == rule.weekday.to_jiff())
                        .ok_or_else(|| {
                            invalid(
                                "first is a date (YYYY-MM-DD) on the window's weekday",
                                text.span(),
                                &field("first"),
                            )
                        })?,
                ),
            };
            if every_weeks > 1 && first.is_none() {
                return Err(invalid(
                    "a window every few weeks names its first date",
                    window.span(),
                    &field("first"),
                ));
            }
            windows.push(WindowRule {
                weekday: rule.weekday,
                start: rule.start,
                end: rule.end,
                every_weeks,
                first,
                label_en: self.label(&rule.label_en, format!("change.{}", field("label_en")))?,
                label_fr: self.label(&rule.label_fr, format!("change.{}", field("label_fr")))?,
            });
        }
        let freeze_notice_days = u32::try_from(*raw.freeze_notice_days.get_ref())
            .ok()
            .filter(|&days| i64::from(days) <= MAX_DAYS)
            .ok_or_else(|| {
                invalid(
                    "freeze_notice_days is 0 to 366",
                    raw.freeze_notice_days.span(),
                    "freeze_notice_days",
                )
            })?;
        Ok(ChangePolicy {
            calendar,
            cab,
            lead_time_business_days,
            notice,
            windows,
            freeze_notice_days,
        })
    }

    fn maintenance_notices(
        &self,
        spanned: &Spanned<RawStatusPage>,
    ) -> Result<Vec<crate::status_page::NoticeOffset>, PolicyError> {
        const MAX_NOTICES: usize = 12;
        let raw = spanned.get_ref();
        if raw.maintenance_notices.len() > MAX_NOTICES {
            return Err(self.error(
                PolicyProblem::TooMany {
                    what: "maintenance notices",
                    max: MAX_NOTICES,
                },
                "status_page.maintenance_notices".into(),
                spanned.span(),
            ));
        }
        raw.maintenance_notices
            .iter()
            .enumerate()
            .map(|(index, text)| {
                text.get_ref().parse().map_err(|_| {
                    self.error(
                        PolicyProblem::InvalidNotice(text.get_ref().clone()),
                        format!("status_page.maintenance_notices[{index}]"),
                        text.span(),
                    )
                })
            })
            .collect()
    }

    fn email_objective(
        &self,
        spanned: &Spanned<RawEmailObjective>,
        calendars: &[Calendar],
    ) -> Result<EmailObjective, PolicyError> {
        let raw = spanned.get_ref();
        let calendar =
            self.find_calendar(&raw.calendar, calendars, "email_objective.calendar".into())?;
        if raw.first_response.is_empty() || raw.first_response.len() > MAX_OBJECTIVE_LEVELS {
            return Err(self.error(
                PolicyProblem::TooMany {
                    what: "objective levels, or none",
                    max: MAX_OBJECTIVE_LEVELS,
                },
                "email_objective.first_response".into(),
                spanned.span(),
            ));
        }
        let mut levels: Vec<ObjectiveLevel> = Vec::with_capacity(raw.first_response.len());
        for (index, level) in raw.first_response.iter().enumerate() {
            let field = |suffix: &str| format!("email_objective.first_response[{index}].{suffix}");
            let level = level.get_ref();
            let (within, within_open_time) =
                self.target(&level.within, &calendar, field("within"))?;
            let share = Share::from_fraction(*level.share.get_ref())
                .filter(|share| share.basis_points() > 0 && *share <= Share::ONE)
                .ok_or_else(|| {
                    self.error(
                        PolicyProblem::InvalidShare {
                            low: "0",
                            high: "at most 1",
                        },
                        field("share"),
                        level.share.span(),
                    )
                })?;
            if let Some(previous) = levels.last()
                && (within_open_time <= previous.within_open_time || share <= previous.share)
            {
                return Err(self.error(
                    PolicyProblem::ObjectiveNotIncreasing,
                    field("within"),
                    level.within.span(),
                ));
            }
            levels.push(ObjectiveLevel {
                within,
                within_open_time,
                share,
            });
        }
        Ok(EmailObjective {
            calendar,
            first_response: levels,
        })
    }
}

/// What a priority's targets share across families.
#[derive(Clone, Copy)]
struct Common<'a> {
    code: &'a str,
    rank: u32,
    label_en: &'a str,
    label_fr: &'a str,
}

/// What is wrong with a target that does not read: names the unit when a number is
/// followed by one that is not m, h or bd.
fn invalid_target_message(text: &str) -> String {
    let digits = text.trim_start_matches('-');
    let unit = digits.trim_start_matches(|c: char| c.is_ascii_digit());
    if unit.len() < digits.len() && !unit.is_empty() {
        format!(
            "unknown unit {unit:?} in {text:?}: write m (minutes), h (hours) or bd (business days)"
        )
    } else {
        format!(
            "{text:?} is not a target: write a whole number and m (minutes), h (hours) or \
             bd (business days), e.g. \"20m\", \"4h\", \"5bd\""
        )
    }
}

/// Reads `"20m"`, `"4h"`, `"5bd"`.
pub fn parse_target(text: &str) -> Result<Target, PolicyProblem> {
    let invalid = || PolicyProblem::InvalidTarget(text.to_owned());
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits_end = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    let (digits, unit) = unsigned.split_at(digits_end);
    if digits.is_empty() || !matches!(unit, "m" | "h" | "bd") {
        return Err(invalid());
    }
    if negative {
        return Err(PolicyProblem::NegativeTarget(text.to_owned()));
    }
    let amount: u64 = digits
        .parse()
        .map_err(|_| PolicyProblem::Calendar(CalendarError::TargetTooLarge))?;
    Ok(match unit {
        "m" => Target::Minutes(amount),
        "h" => Target::Hours(amount),
        _ => Target::BusinessDays(amount),
    })
}

/// Reads a duty's time: `"start"`, `"+1h"`, `"+30m"`, `"resolution"`, `"throughout"`.
fn parse_timing(text: &str) -> Result<DutyTiming, PolicyProblem> {
    let invalid = || PolicyProblem::InvalidTiming(text.to_owned());
    match text {
        "start" => Ok(DutyTiming::AtStart),
        "resolution" => Ok(DutyTiming::AtResolution),
        "throughout" => Ok(DutyTiming::Throughout),
        _ => {
            let elapsed = text.strip_prefix('+').ok_or_else(invalid)?;
            let minutes = match parse_target(elapsed).map_err(|_| invalid())? {
                Target::Minutes(minutes) => minutes,
                Target::Hours(hours) => hours.saturating_mul(60),
                Target::BusinessDays(_) => return Err(invalid()),
            };
            if minutes == 0 || minutes > crate::calendar::MAX_TARGET_MINUTES {
                return Err(invalid());
            }
            Ok(DutyTiming::After(Duration::from_secs(minutes * 60)))
        }
    }
}

/// Row and column of `impact` and `urgency`, each 1 to 4.
fn level_indices(impact: i64, urgency: i64) -> Option<(usize, usize)> {
    let index = |level: i64| {
        usize::try_from(level - 1)
            .ok()
            .filter(|&index| index < LEVELS)
    };
    Some((index(impact)?, index(urgency)?))
}

/// The line (from 1) holding byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// A best-effort field path for byte `offset`: the table headers above it (with the index of
/// each array-of-tables element) and the key of its line, e.g. `priorities[3].incident` or
/// `escalations[1].notify`. Headers are recognised as lines `[a.b]` / `[[a.b]]` of bare keys.
fn field_path_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    // Elements seen so far per array-of-tables name (dotted, as written).
    let mut arrays: Vec<(String, usize)> = Vec::new();
    let mut table = String::new();
    let mut key = None;
    let mut line_start = 0;
    for line in text.split('\n') {
        let trimmed = line.trim();
        let holds_offset = offset <= line_start + line.len();
        if let Some(name) = header(trimmed, "[[", "]]") {
            let child = format!("{name}.");
            arrays.retain(|(array, _)| !array.starts_with(&child));
            match arrays.iter_mut().find(|(array, _)| *array == name) {
                Some((_, count)) => *count += 1,
                None => arrays.push((name.clone(), 1)),
            }
            table = table_path(&name, &arrays);
        } else if let Some(name) = header(trimmed, "[", "]") {
            table = table_path(&name, &arrays);
        } else if holds_offset {
            key = trimmed
                .split_once('=')
                .map(|(name, _)| name.trim().trim_matches('"').to_owned())
                .filter(|name| !name.is_empty());
        }
        if holds_offset {
            break;
        }
        line_start += line.len() + 1;
    }
    match key {
        Some(key) if table.is_empty() => key,
        Some(key) => format!("{table}.{key}"),
        None => table,
    }
}

/// `priorities.incident` as a path, with the current index of each array-of-tables prefix:
/// `priorities[2].incident`.
fn table_path(name: &str, arrays: &[(String, usize)]) -> String {
    let mut path = String::new();
    let mut prefix = String::new();
    for (index, segment) in name.split('.').enumerate() {
        if index > 0 {
            prefix.push('.');
            path.push('.');
        }
        prefix.push_str(segment);
        path.push_str(segment);
        if let Some((_, count)) = arrays.iter().find(|(array, _)| *array == prefix) {
            path.push_str(&format!("[{}]", count.saturating_sub(1)));
        }
    }
    path
}

/// The dotted name inside a table header line `open name close` (spaces around dots
/// removed), if `line` is one.
fn header(line: &str, open: &str, close: &str) -> Option<String> {
    let line = match line.find('#') {
        Some(comment) => line[..comment].trim_end(),
        None => line,
    };
    let name = line.strip_prefix(open)?.strip_suffix(close)?.trim();
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' '));
    bare.then(|| name.split('.').map(str::trim).collect::<Vec<_>>().join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::MAX_TARGET_MINUTES;
    use crate::ticket::default_priority;

    const PRIORITY: &str = include_str!("../../../policies/priority.toml");
    const SEVERITY: &str = include_str!("../../../policies/severity.toml");

    const MINIMAL: &str = r#"code = "test"
version = 3
name_en = "Test"
name_fr = "Essai"

[matrix]
incident = [
  ["P1", "P1", "P2", "P2"],
  ["P1", "P2", "P2", "P2"],
  ["P2", "P2", "P2", "P2"],
  ["P2", "P2", "P2", "P2"],
]

[[priorities]]
code = "P1"
rank = 1
label_en = "Critical"
label_fr = "Critique"
incident = { calendar = "24x7", respond = "20m", resolve = "2h" }

[[priorities]]
code = "P2"
rank = 2
label_en = "High"
label_fr = "Élevée"
incident = { calendar = "business", respond = "1h", resolve = "1bd" }
"#;

    fn hours(n: u64) -> Duration {
        Duration::from_secs(n * 3600)
    }

    /// The line of the first occurrence of `needle` in `text`.
    fn line_of(text: &str, needle: &str) -> u32 {
        let at = text.find(needle).expect("needle in text");
        line_at(text, at)
    }

    /// Parses `text`, which must be refused, and checks code, field and line.
    #[track_caller]
    fn refused(text: &str, code: &str, field: &str, line: u32) -> PolicyError {
        let error = PolicyPack::parse_toml(text).expect_err("refused");
        assert_eq!(
            (error.code(), error.field(), error.line()),
            (code, field, Some(line)),
            "{error}"
        );
        error
    }

    /// `MINIMAL` with `from` replaced by `to` (which must occur).
    fn edited(from: &str, to: &str) -> String {
        assert!(MINIMAL.contains(from), "{from}");
        MINIMAL.replacen(from, to, 1)
    }

    #[test]
    fn the_priority_pack_ships_the_spec_defaults() {
        let pack = PolicyPack::parse_toml(PRIORITY).unwrap();
        assert_eq!((pack.code(), pack.version()), ("priority", 1));
        assert_eq!(pack.name_fr(), "Modèle de priorités (P1-P4)");
        assert_eq!(pack.source_text(), PRIORITY);
        // The matrix is the one the ticket module hard-codes, for incidents and requests.
        for family in SlaFamily::ALL.iter().copied() {
            let matrix = pack.matrix(family).unwrap();
            for impact in 1..=4 {
                for urgency in 1..=4 {
                    let expected = format!("P{}", default_priority(impact, urgency));
                    assert_eq!(matrix.code(impact, urgency), Some(expected.as_str()));
                }
            }
        }
        // Incident SLA.
        let incident = |code: &str| pack.targets(TicketKind::Incident, code).unwrap();
        let rows = [
            ("P1", "24x7", Target::Minutes(20), Target::Hours(2)),
            ("P2", "24x7", Target::Minutes(20), Target::Hours(4)),
            ("P3", "business", Target::Hours(2), Target::Hours(12)),
            ("P4", "business", Target::Hours(4), Target::Hours(18)),
        ];
        for (code, calendar, respond, resolve) in rows {
            let targets = incident(code);
            assert_eq!(targets.calendar.name(), calendar, "{code}");
            assert_eq!(
                (targets.respond, targets.resolve),
                (respond, resolve),
                "{code}"
            );
        }
        assert_eq!(incident("P3").resolve_open_time, hours(12));
        assert_eq!(
            incident("P1").respond_open_time,
            Duration::from_secs(20 * 60)
        );
        assert_eq!(
            (
                incident("P1").label_en.as_str(),
                incident("P1").label_fr.as_str()
            ),
            ("Critical", "Critique")
        );
        assert!(pack.targets(TicketKind::Incident, "P10").is_none());
        // Service-request SLA, all on business hours (a business day is 9 h).
        let requests = [
            ("P1", Target::Hours(4), 2),
            ("P2", Target::BusinessDays(2), 5),
            ("P3", Target::BusinessDays(2), 10),
            ("P4", Target::BusinessDays(2), 15),
            ("P10", Target::BusinessDays(3), 20),
            ("P20", Target::BusinessDays(3), 35),
            ("P30", Target::BusinessDays(3), 85),
            ("P40", Target::BusinessDays(3), 125),
        ];
        for (code, respond, fulfil_days) in requests {
            let targets = pack.targets(TicketKind::ServiceRequest, code).unwrap();
            assert_eq!(targets.calendar.name(), "business", "{code}");
            assert_eq!(targets.respond, respond, "{code}");
            assert_eq!(targets.resolve, Target::BusinessDays(fulfil_days), "{code}");
            assert_eq!(targets.resolve_open_time, hours(9 * fulfil_days), "{code}");
        }
        let codes: Vec<&str> = pack
            .targets_of(SlaFamily::ServiceRequest)
            .map(|t| t.code.as_str())
            .collect();
        assert_eq!(codes, ["P1", "P2", "P3", "P4", "P10", "P20", "P30", "P40"]);
        // Ladder and email objective.
        assert_eq!(pack.ladder(), &EscalationLadder::default());
        let objective = pack.email_objective().unwrap();
        assert_eq!(objective.calendar.name(), "business");
        let levels: Vec<(Target, u32)> = objective
            .first_response
            .iter()
            .map(|level| (level.within, level.share.basis_points()))
            .collect();
        assert_eq!(levels, [(Target::Hours(2), 8000), (Target::Hours(8), 9800)]);
        assert!(pack.extra_calendars().is_empty());
    }

    #[test]
    fn lookups_follow_the_ticket_kind() {
        let pack = shipped_pack("priority").unwrap();
        let found = |kind, impact, urgency| {
            pack.priority_for(kind, impact, urgency)
                .map(|t| (t.code.as_str(), t.family))
        };
        assert_eq!(
            found(TicketKind::Incident, 1, 1),
            Some(("P1", SlaFamily::Incident))
        );
        assert_eq!(
            found(TicketKind::SecurityIncident, 3, 4),
            Some(("P4", SlaFamily::Incident))
        );
        assert_eq!(
            found(TicketKind::PrivacyIncident, 2, 2),
            Some(("P2", SlaFamily::Incident))
        );
        assert_eq!(
            found(TicketKind::ServiceRequest, 1, 2),
            Some(("P1", SlaFamily::ServiceRequest))
        );
        assert_eq!(
            found(TicketKind::PrivacyRequest, 4, 4),
            Some(("P4", SlaFamily::ServiceRequest))
        );
        for kind in [
            TicketKind::Problem,
            TicketKind::Change,
            TicketKind::EnhancementRequest,
        ] {
            assert_eq!(found(kind, 1, 1), None, "{kind}");
            assert!(pack.targets(kind, "P1").is_none());
        }
        assert_eq!(found(TicketKind::Incident, 0, 1), None);
        assert_eq!(found(TicketKind::Incident, 1, 5), None);
        // Same code, different targets per family.
        let incident = pack.priority_for(TicketKind::Incident, 1, 1).unwrap();
        let request = pack.priority_for(TicketKind::ServiceRequest, 1, 1).unwrap();
        assert_eq!(incident.resolve, Target::Hours(2));
        assert_eq!(request.resolve, Target::BusinessDays(2));
        assert_eq!(
            pack.calendar_for(TicketKind::Incident, "P1")
                .unwrap()
                .name(),
            "24x7"
        );
        assert_eq!(
            pack.calendar_for(TicketKind::ServiceRequest, "P1")
                .unwrap()
                .name(),
            "business"
        );
        assert!(pack.calendar_for(TicketKind::Incident, "P9").is_none());
        assert_eq!(pack.calendar("tier1").unwrap().name(), "tier1");
        assert!(pack.calendar("nights").is_none());
        // Ranked: incident P1, request P1, incident P2…
        let order: Vec<(&str, SlaFamily)> = pack
            .all_targets()
            .iter()
            .take(3)
            .map(|t| (t.code.as_str(), t.family))
            .collect();
        assert_eq!(
            order,
            [
                ("P1", SlaFamily::Incident),
                ("P1", SlaFamily::ServiceRequest),
                ("P2", SlaFamily::Incident)
            ]
        );
    }

    #[test]
    fn the_severity_pack_ships_the_spec_model() {
        let pack = PolicyPack::parse_toml(SEVERITY).unwrap();
        assert_eq!((pack.code(), pack.version()), ("severity", 1));
        let sev = |code: &str| pack.targets(TicketKind::Incident, code).unwrap();
        assert_eq!(sev("S1").calendar.name(), "24x7");
        assert_eq!(sev("S1").respond_open_time, Duration::ZERO);
        assert_eq!(sev("S1").resolve, Target::Minutes(60));
        assert_eq!(sev("S2").calendar.name(), "business");
        assert!(sev("S2").best_effort_after_hours);
        assert!(!sev("S1").best_effort_after_hours);
        assert_eq!(sev("S2").respond_open_time, Duration::ZERO);
        assert_eq!(sev("S2").resolve_open_time, hours(4));
        assert_eq!(sev("S3").resolve_open_time, hours(72));
        assert_eq!(sev("S4").resolve, Target::BusinessDays(5));
        assert_eq!(sev("S4").resolve_open_time, hours(45));
        // Communication duties.
        for code in ["S1", "S2"] {
            let s = sev(code);
            assert!(s.has_duty(DutyKind::LoginBanner), "{code}");
            assert!(s.has_duty(DutyKind::CommunityEmail), "{code}");
            assert!(s.has_duty(DutyKind::ResolutionEmail), "{code}");
            assert!(!s.has_duty(DutyKind::WorkWithCustomer), "{code}");
            let updates: Vec<DutyTiming> = s
                .communications
                .iter()
                .filter(|duty| duty.kind == DutyKind::UpdateEmail)
                .map(|duty| duty.at)
                .collect();
            assert_eq!(
                updates,
                [DutyTiming::After(hours(1)), DutyTiming::After(hours(2))]
            );
        }
        assert!(sev("S3").has_duty(DutyKind::HomePageBanner));
        assert!(!sev("S3").has_duty(DutyKind::LoginBanner));
        assert!(sev("S3").has_duty(DutyKind::WorkWithCustomer));
        assert!(sev("S4").has_duty(DutyKind::IncidentReportEmail));
        assert!(sev("S4").has_duty(DutyKind::WorkWithCustomer));
        let update = &sev("S1").communications[2];
        assert_eq!(
            update.text_en,
            "Down; working to restore; next update within the hour."
        );
        assert!(update.text_fr.starts_with("Service en panne"));
        // Matrix of severities; no service-request SLA in this pack.
        let matrix = pack.matrix(SlaFamily::Incident).unwrap();
        assert_eq!(matrix.code(1, 1), Some("S1"));
        assert_eq!(matrix.code(4, 4), Some("S4"));
        assert_eq!(matrix.code(3, 1), Some("S2"));
        assert_eq!(
            pack.priority_for(TicketKind::SecurityIncident, 2, 1)
                .map(|t| t.code.as_str()),
            Some("S1")
        );
        assert!(pack.matrix(SlaFamily::ServiceRequest).is_none());
        assert!(
            pack.priority_for(TicketKind::ServiceRequest, 1, 1)
                .is_none()
        );
        // Email-reported incidents may wait up to one business day.
        let objective = pack.email_objective().unwrap();
        assert_eq!(objective.first_response.len(), 1);
        assert_eq!(objective.first_response[0].within_open_time, hours(9));
        assert_eq!(objective.first_response[0].share, Share::ONE);
        assert_eq!(pack.ladder(), &EscalationLadder::default());
    }

    #[test]
    fn change_sections_set_the_cab_calendar_and_windows() {
        let priority = PolicyPack::parse_toml(PRIORITY).unwrap();
        let change = priority.change_policy();
        assert_eq!(change.lead_time_business_days, [10, 10, 5, 5]);
        assert_eq!(change.cab.deadline_weekday, DayOfWeek::Thu);
        assert_eq!(change.windows.len(), 1);
        assert_eq!(change.windows[0].weekday, DayOfWeek::Sun);
        let severity = PolicyPack::parse_toml(SEVERITY).unwrap();
        let window = &severity.change_policy().windows[0];
        assert_eq!((window.weekday, window.every_weeks), (DayOfWeek::Wed, 6));
        // Without a section: the specification's defaults.
        let minimal = PolicyPack::parse_toml(MINIMAL).unwrap();
        assert_eq!(minimal.change_policy().freeze_notice_days, 30);
        assert_eq!(minimal.change_policy().windows.len(), 1);
    }

    #[test]
    fn bad_change_sections_are_refused_with_their_field() {
        let section = |body: &str| format!("{MINIMAL}\n[change]\n{body}");
        let base = r#"calendar = "business"
cab = { weekday = "wed", start = "10:00", end = "12:00", approvals = "13:00", deadline_weekday = "thu", deadline = "12:00" }
notice = { operator_to_partners = "5bd", partner_to_operator = "7bd", exchange = "14d" }
freeze_notice_days = 30
"#;
        let error = PolicyPack::parse_toml(&section(&format!(
            "{base}lead_time_business_days = [10, 10, 5]\n"
        )))
        .unwrap_err();
        assert_eq!(error.code(), "invalid_change_rule");
        assert_eq!(error.field(), "change.lead_time_business_days");
        let error = PolicyPack::parse_toml(&section(&format!(
            "{}lead_time_business_days = [10, 10, 5, 5]\n",
            base.replace("\"7bd\"", "\"7 weeks\"")
        )))
        .unwrap_err();
        assert_eq!(error.field(), "change.notice.partner_to_operator");
        let window = "lead_time_business_days = [10, 10, 5, 5]\n[[change.windows]]\nweekday = \"wed\"\nstart = \"20:00\"\nend = \"23:00\"\nevery_weeks = 6\nlabel_en = \"R\"\nlabel_fr = \"R\"\n";
        let error = PolicyPack::parse_toml(&section(&format!("{base}{window}"))).unwrap_err();
        assert_eq!(error.field(), "change.windows[0].first");
    }

    #[test]
    fn shipped_packs_are_found_by_code() {
        for code in SHIPPED_PACKS {
            let pack = shipped_pack(code).unwrap();
            assert_eq!(pack.code(), code);
            assert_eq!(Some(pack.source_text()), shipped_pack_text(code));
        }
        assert!(shipped_pack("nope").is_none());
        assert!(shipped_pack_text("nope").is_none());
    }

    #[test]
    fn defaults_apply_when_sections_are_left_out() {
        let pack = PolicyPack::parse_toml(MINIMAL).unwrap();
        assert_eq!(pack.version(), 3);
        assert_eq!(pack.ladder(), &EscalationLadder::default());
        assert!(pack.email_objective().is_none());
        assert!(pack.matrix(SlaFamily::ServiceRequest).is_none());
        let targets = pack.targets(TicketKind::Incident, "P2").unwrap();
        assert_eq!(targets.resolve_open_time, hours(9));
        assert!(targets.communications.is_empty());
        assert_eq!(targets.description_en, None);
        // An empty ladder is allowed: warn only.
        let text = format!("warning_share = 0.5\nescalations = []\n{MINIMAL}");
        let pack = PolicyPack::parse_toml(&text).unwrap();
        assert_eq!(pack.ladder().warning_share.basis_points(), 5000);
        assert!(pack.ladder().steps.is_empty());
    }

    #[test]
    fn a_pack_may_define_calendars() {
        let text = format!(
            r#"{MINIMAL}
[[calendars]]
name = "nights"
time_zone = "America/Vancouver"
holidays = "ontario-statutory"
closures = [{{ date = "2026-12-31", name = "Inventory" }}]
  [calendars.week]
  mon = [["00:00", "06:00"], ["18:00", "24:00"]]
  tue = [["00:00", "06:00"], ["18:00", "24:00"]]

[[priorities]]
code = "N1"
rank = 5
label_en = "Night"
label_fr = "Nuit"
incident = {{ calendar = "nights", respond = "1h", resolve = "2bd" }}
"#
        );
        let pack = PolicyPack::parse_toml(&text).unwrap();
        let nights = pack.calendar_for(TicketKind::Incident, "N1").unwrap();
        assert_eq!(nights.name(), "nights");
        assert_eq!(nights.time_zone().iana_name(), Some("America/Vancouver"));
        assert_eq!(pack.extra_calendars().len(), 1);
        assert_eq!(pack.calendar("nights"), Some(nights));
        // Two business days of 12 h.
        let n1 = pack.targets(TicketKind::Incident, "N1").unwrap();
        assert_eq!(n1.resolve_open_time, hours(24));
    }

    #[test]
    fn the_pack_serializes_for_the_api() {
        let pack = shipped_pack("severity").unwrap();
        let json = serde_json::to_value(pack).unwrap();
        assert_eq!(json["code"], "severity");
        let s1 = &json["targets"][0];
        assert_eq!(s1["code"], "S1");
        assert_eq!(s1["calendar"], "24x7");
        assert_eq!(s1["resolve"], serde_json::json!({"minutes": 60}));
        assert_eq!(s1["resolve_open_time"], 3600);
        assert_eq!(s1["communications"][2]["at"], "+1h");
        assert_eq!(json["ladder"]["warning_share"], 0.75);
        assert_eq!(json["ladder"]["steps"][1]["notify"], "group_lead");
        assert!(json.get("source").is_none());
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let text = edited("version = 3", "version = ");
        let error = refused(&text, "syntax", "version", 2);
        assert!(
            error.to_string().starts_with("line 2: version: "),
            "{error}"
        );
        // Unknown keys and wrong types are found where they are written.
        let text = edited(
            "label_en = \"High\"",
            "label_en = \"High\"\ncolour = \"red\"",
        );
        let error = refused(
            &text,
            "syntax",
            "priorities[1].colour",
            line_of(&text, "colour"),
        );
        assert!(
            error.to_string().contains("unknown field `colour`"),
            "{error}"
        );
        let text = edited("rank = 2", "rank = \"2\"");
        refused(
            &text,
            "syntax",
            "priorities[1].rank",
            line_of(&text, "rank = \"2\""),
        );
        let text = edited("version = 3", "version = 3\nwarning_share = \"high\"");
        refused(&text, "syntax", "warning_share", 3);
        // A missing key is reported at its table.
        let text = edited("label_fr = \"Critique\"\n", "");
        refused(
            &text,
            "syntax",
            "priorities[0]",
            line_of(&text, "[[priorities]]"),
        );
        // Unknown notify value.
        let text = format!("{MINIMAL}\n[[escalations]]\nat_share = 1.0\nnotify = \"boss\"\n");
        refused(
            &text,
            "syntax",
            "escalations[0].notify",
            line_of(&text, "notify = \"boss\""),
        );
    }

    #[test]
    fn matrices_must_name_defined_priorities() {
        let text = edited(
            "[\"P1\", \"P2\", \"P2\", \"P2\"],",
            "[\"P1\", \"P2\", \"P2\", \"P7\"],",
        );
        let error = refused(
            &text,
            "unknown_priority",
            "matrix.incident[1][3]",
            line_of(&text, "\"P7\""),
        );
        assert!(error.to_string().contains("\"P7\""), "{error}");
        // A code defined only for service requests is not an incident priority.
        let text = edited(
            "incident = { calendar = \"24x7\", respond = \"20m\", resolve = \"2h\" }",
            "service_request = { calendar = \"24x7\", respond = \"20m\", resolve = \"2h\" }",
        );
        refused(
            &text,
            "unknown_priority",
            "matrix.incident[0][0]",
            line_of(&text, "[\"P1\""),
        );
        let text = edited("  [\"P2\", \"P2\", \"P2\", \"P2\"],\n]", "]");
        refused(&text, "matrix_shape", "matrix.incident", 7);
        let text = edited(
            "[\"P1\", \"P1\", \"P2\", \"P2\"],",
            "[\"P1\", \"P1\", \"P2\"],",
        );
        refused(&text, "matrix_shape", "matrix.incident[0]", 8);
    }

    #[test]
    fn priorities_are_checked() {
        // Missing targets.
        let text = edited(", respond = \"1h\"", "");
        let error = refused(
            &text,
            "missing_target",
            "priorities[1].incident.respond",
            line_of(&text, "incident = { calendar = \"business\""),
        );
        assert!(error.to_string().contains("no respond target"), "{error}");
        let text = edited(", resolve = \"2h\"", "");
        refused(
            &text,
            "missing_target",
            "priorities[0].incident.resolve",
            line_of(&text, "incident = { calendar = \"24x7\""),
        );
        let text = edited(
            "incident = { calendar = \"business\", respond = \"1h\", resolve = \"1bd\" }\n",
            "",
        );
        refused(
            &text,
            "missing_target",
            "priorities[1]",
            line_of(&text, "[[priorities]]\ncode = \"P2\""),
        );
        // Duplicates.
        let text = edited("code = \"P2\"", "code = \"p1\"");
        refused(
            &text,
            "duplicate_priority",
            "priorities[1].code",
            line_of(&text, "code = \"p1\""),
        );
        let text = edited("rank = 2", "rank = 1");
        refused(&text, "duplicate_rank", "priorities[1].rank", 23);
        let text = edited("rank = 2", "rank = 0");
        refused(&text, "invalid_rank", "priorities[1].rank", 23);
        let text = edited("code = \"P2\"", "code = \"P 2\"");
        refused(&text, "invalid_code", "priorities[1].code", 22);
        let text = edited("label_fr = \"Élevée\"", "label_fr = \"  \"");
        refused(&text, "invalid_text", "priorities[1].label_fr", 25);
        // Calendars.
        let text = edited("calendar = \"business\"", "calendar = \"busness\"");
        let error = refused(
            &text,
            "unknown_calendar",
            "priorities[1].incident.calendar",
            26,
        );
        assert!(error.to_string().contains("\"busness\""), "{error}");
        let text = edited("calendar = \"business\"", "calendar = \"tier1\"");
        refused(
            &text,
            "business_days_undefined",
            "priorities[1].incident.resolve",
            26,
        );
        let text = edited("respond = \"1h\"", "respond = \"2bd\"");
        refused(
            &text,
            "respond_after_resolve",
            "priorities[1].incident.respond",
            26,
        );
    }

    #[test]
    fn targets_are_checked() {
        let cases = [
            ("\"2 h\"", "invalid_target"),
            ("\"2x\"", "invalid_target"),
            ("\"h\"", "invalid_target"),
            ("\"\"", "invalid_target"),
            ("\"2.5h\"", "invalid_target"),
            ("\"-5m\"", "negative_target"),
            ("\"99999999h\"", "target_too_large"),
            ("\"99999999999999999999999m\"", "target_too_large"),
            ("\"1001bd\"", "target_too_large"),
        ];
        for (written, code) in cases {
            let text = edited("resolve = \"1bd\"", &format!("resolve = {written}"));
            refused(&text, code, "priorities[1].incident.resolve", 26);
        }
    }

    #[test]
    fn parse_target_reads_units() {
        assert_eq!(parse_target("20m"), Ok(Target::Minutes(20)));
        assert_eq!(parse_target("0m"), Ok(Target::Minutes(0)));
        assert_eq!(parse_target("4h"), Ok(Target::Hours(4)));
        assert_eq!(parse_target("125bd"), Ok(Target::BusinessDays(125)));
        for bad in [
            "", "m", "4", "4 h", " 4h", "4H", "4d", "+4h", "4hbd", "4.0h",
        ] {
            assert!(
                matches!(parse_target(bad), Err(PolicyProblem::InvalidTarget(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_target("-1bd"),
            Err(PolicyProblem::NegativeTarget("-1bd".into()))
        );
        assert_eq!(
            parse_timing("+90m"),
            Ok(DutyTiming::After(Duration::from_secs(5400)))
        );
        assert_eq!(
            DutyTiming::After(Duration::from_secs(5400)).to_string(),
            "+90m"
        );
        for bad in [
            "+0m",
            "+1bd",
            "1h",
            "soon",
            &format!("+{}m", MAX_TARGET_MINUTES + 1),
        ] {
            assert!(parse_timing(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ladders_are_checked() {
        for share in ["0", "1", "1.0", "1.2", "-0.5", "0.00001"] {
            let text = edited(
                "version = 3",
                &format!("version = 3\nwarning_share = {share}"),
            );
            refused(&text, "invalid_share", "warning_share", 3);
        }
        let ladder = |steps: &[&str]| {
            let steps: String = steps
                .iter()
                .map(|share| {
                    format!("\n[[escalations]]\nat_share = {share}\nnotify = \"group_lead\"\n")
                })
                .collect();
            format!("{MINIMAL}{steps}")
        };
        let text = ladder(&["1.5", "1.0"]);
        refused(
            &text,
            "escalations_not_increasing",
            "escalations[1].at_share",
            line_of(&text, "at_share = 1.0"),
        );
        let text = ladder(&["1.0", "1.0"]);
        let second = text.rfind("at_share = 1.0").unwrap();
        refused(
            &text,
            "escalations_not_increasing",
            "escalations[1].at_share",
            line_at(&text, second),
        );
        // A step at or below the warning share.
        let text = ladder(&["0.75"]);
        refused(
            &text,
            "escalations_not_increasing",
            "escalations[0].at_share",
            line_of(&text, "at_share = 0.75"),
        );
        let text = ladder(&["11"]);
        refused(
            &text,
            "invalid_share",
            "escalations[0].at_share",
            line_of(&text, "at_share = 11"),
        );
        let pack = PolicyPack::parse_toml(&ladder(&["0.9", "1", "2"])).unwrap();
        let shares: Vec<u32> = pack
            .ladder()
            .steps
            .iter()
            .map(|step| step.at_share.basis_points())
            .collect();
        assert_eq!(shares, [9000, 10_000, 20_000]);
    }

    #[test]
    fn pack_fields_are_checked() {
        for version in ["0", "-1", "4294967296"] {
            let text = edited("version = 3", &format!("version = {version}"));
            refused(&text, "invalid_version", "version", 2);
        }
        let text = edited("code = \"test\"", "code = \"Test pack\"");
        refused(&text, "invalid_code", "code", 1);
        let text = edited("name_en = \"Test\"", "name_en = \"Te\\u0007st\"");
        refused(&text, "invalid_text", "name_en", 3);
        let big = format!("{MINIMAL}#{}", "x".repeat(MAX_PACK_BYTES));
        let error = PolicyPack::parse_toml(&big).unwrap_err();
        assert_eq!((error.code(), error.line()), ("too_large", None));
    }

    #[test]
    fn extra_calendars_are_checked() {
        let with_calendar =
            |body: &str| format!("{MINIMAL}\n[[calendars]]\nname = \"extra\"\n{body}\n");
        let text = with_calendar(
            "time_zone = \"UTC\"\nweek = { wed = [[\"08:00\", \"12:00\"], [\"11:00\", \"13:00\"]] }",
        );
        let error = refused(
            &text,
            "overlapping_intervals",
            "calendars[0].week.wed",
            line_of(&text, "[[calendars]]"),
        );
        assert!(matches!(
            error.problem(),
            PolicyProblem::Calendar(CalendarError::OverlappingIntervals { .. })
        ));
        let text = with_calendar(
            "time_zone = \"Mars/Olympus\"\nweek = { mon = [[\"08:00\", \"12:00\"]] }",
        );
        refused(
            &text,
            "unknown_time_zone",
            "calendars[0].time_zone",
            line_of(&text, "[[calendars]]"),
        );
        let text = format!(
            "{MINIMAL}\n[[calendars]]\nname = \"business\"\ntime_zone = \"UTC\"\nweek = {{ mon = [[\"08:00\", \"12:00\"]] }}\n"
        );
        refused(
            &text,
            "duplicate_calendar",
            "calendars[0].name",
            line_of(&text, "[[calendars]]"),
        );
        // Malformed hours are a syntax error on their line.
        let text = with_calendar("time_zone = \"UTC\"\nweek = { mon = [[\"8:00\", \"12:00\"]] }");
        refused(
            &text,
            "syntax",
            "calendars[0].week",
            line_of(&text, "week = "),
        );
    }

    #[test]
    fn email_objectives_are_checked() {
        let with = |levels: &str| {
            format!(
                "{MINIMAL}\n[email_objective]\ncalendar = \"business\"\nfirst_response = [{levels}]\n"
            )
        };
        let text = with("{ within = \"8h\", share = 0.98 }, { within = \"2h\", share = 0.99 }");
        refused(
            &text,
            "objective_not_increasing",
            "email_objective.first_response[1].within",
            line_of(&text, "first_response"),
        );
        let text = with("{ within = \"2h\", share = 1.5 }");
        refused(
            &text,
            "invalid_share",
            "email_objective.first_response[0].share",
            line_of(&text, "first_response"),
        );
        let text = with("");
        refused(
            &text,
            "too_many",
            "email_objective.first_response",
            line_of(&text, "[email_objective]"),
        );
        let text = with("{ within = \"1bd\", share = 0.5 }")
            .replace("\"business\"\nfirst", "\"tier1\"\nfirst");
        refused(
            &text,
            "business_days_undefined",
            "email_objective.first_response[0].within",
            line_of(&text, "first_response"),
        );
    }

    #[test]
    fn communication_duties_are_checked() {
        let text = edited(
            "incident = { calendar = \"24x7\", respond = \"20m\", resolve = \"2h\" }",
            "[priorities.incident]\ncalendar = \"24x7\"\nrespond = \"0m\"\nresolve = \"2h\"\n\
             [[priorities.incident.communications]]\nkind = \"login_banner\"\nat = \"soon\"\n\
             text_en = \"Banner\"\ntext_fr = \"Bannière\"\n",
        );
        refused(
            &text,
            "invalid_timing",
            "priorities[0].incident.communications[0].at",
            line_of(&text, "at = \"soon\""),
        );
        let text = text.replace("at = \"soon\"", "at = \"start\"");
        let pack = PolicyPack::parse_toml(&text).unwrap();
        let p1 = pack.targets(TicketKind::Incident, "P1").unwrap();
        assert!(p1.has_duty(DutyKind::LoginBanner));
        assert_eq!(p1.communications[0].at, DutyTiming::AtStart);
        let text = text.replace("kind = \"login_banner\"", "kind = \"fax\"");
        refused(
            &text,
            "syntax",
            "priorities[0].incident.communications[0].kind",
            line_of(&text, "kind = \"fax\""),
        );
    }

    #[test]
    fn field_paths_follow_table_headers() {
        let text = "a = 1\n[[p]]\nx = 1\n[[p]]\n[p.q]\ny = 2\n[[p.r]]\nz = 3\n[[p]]\n[[p.r]]\nw = 4\n[m]\nrows = [\n  [\"a\"],\n]\n";
        let path = |needle: &str| field_path_at(text, text.find(needle).unwrap());
        assert_eq!(path("a = 1"), "a");
        assert_eq!(path("x = 1"), "p[0].x");
        assert_eq!(path("y = 2"), "p[1].q.y");
        assert_eq!(path("z = 3"), "p[1].r[0].z");
        assert_eq!(path("w = 4"), "p[2].r[0].w");
        assert_eq!(path("[\"a\"]"), "m");
        assert_eq!(field_path_at(text, text.len() + 10), "m");
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, text.find("y = 2").unwrap()), 6);
    }

    #[test]
    fn closures_apply_to_calendars_that_follow_holidays() {
        use crate::calendar::Closure;
        let pack = PolicyPack::parse_toml(PRIORITY).unwrap();
        let monday = jiff::civil::date(2026, 3, 9);
        let closure = |name: &str| Closure {
            date: monday,
            name: Some(name.into()),
            name_fr: Some(format!("{name} (fr)")),
        };
        // Friday 16:30 EST, 12 h to restore: Tuesday 10:30 without the closure, Wednesday
        // 10:30 with Monday closed.
        let start: jiff::Timestamp = "2026-03-06T16:30:00-05:00".parse().unwrap();
        let due = |pack: &PolicyPack| {
            let p3 = pack.targets_in(SlaFamily::Incident, "P3").unwrap();
            crate::due::add_open_time(&p3.calendar, start, p3.resolve_open_time).unwrap()
        };
        assert_eq!(due(&pack).to_string(), "2026-03-10T14:30:00Z");
        let closed = pack.with_closures(&[(None, closure("Move"))]).unwrap();
        assert_eq!(due(&closed).to_string(), "2026-03-11T14:30:00Z");
        assert_eq!(
            (closed.code(), closed.version()),
            (pack.code(), pack.version())
        );
        // The original is untouched, and the 24x7 calendar ignores closures for all.
        assert_eq!(due(&pack).to_string(), "2026-03-10T14:30:00Z");
        let p1 = closed.targets_in(SlaFamily::Incident, "P1").unwrap();
        assert!(p1.calendar.definition().closures.is_empty());
        // Priorities on the same calendar share the rebuilt one.
        let p4 = closed.targets_in(SlaFamily::Incident, "P4").unwrap();
        let p3 = closed.targets_in(SlaFamily::Incident, "P3").unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &p3.calendar.inner,
            &p4.calendar.inner
        ));
        // A closure for another calendar leaves business alone; one named for business
        // applies; the same date twice counts once.
        let other = pack
            .with_closures(&[(Some("lra-team".into()), closure("Team day"))])
            .unwrap();
        assert_eq!(due(&other).to_string(), "2026-03-10T14:30:00Z");
        let twice = pack
            .with_closures(&[
                (Some("business".into()), closure("First")),
                (None, closure("Second")),
            ])
            .unwrap();
        assert_eq!(due(&twice).to_string(), "2026-03-11T14:30:00Z");
        let p3 = twice.targets_in(SlaFamily::Incident, "P3").unwrap();
        assert_eq!(p3.calendar.definition().closures.len(), 1);
        assert_eq!(
            p3.calendar.definition().closures[0].name.as_deref(),
            Some("First")
        );
        // The explanation names the closure in both languages.
        let explained = crate::due::due_explained(&p3.calendar, start, Target::Hours(12)).unwrap();
        assert!(explained.special_days.iter().any(|d| d.date == monday
            && d.cause
                == crate::due::DayCause::Closure {
                    name: Some("First".into()),
                    name_fr: Some("First (fr)".into()),
                }));
        // tier1 has holiday hours, but a closure closes the day entirely.
        let tier1 = crate::calendar::shipped_calendar("tier1").unwrap();
        let severity = PolicyPack::parse_toml(SEVERITY).unwrap();
        let closed = severity.with_closures(&[(None, closure("Move"))]).unwrap();
        for targets in closed.all_targets() {
            let has = !targets.calendar.definition().closures.is_empty();
            assert_eq!(
                has,
                !targets.calendar.holiday_rules().is_empty(),
                "{}",
                targets.calendar.name()
            );
        }
        // A P3 on tier1 (Saturday 08:00-16:00) logged Saturday 15:00 with 12 h: 1 h on
        // Saturday, 8 h on Sunday, 3 h on Monday: 10:00. With Sunday closed: Monday 18:00.
        let text = PRIORITY.replacen(
            "  [priorities.incident]\n  calendar = \"business\"\n  respond = \"2h\"\n  resolve = \"12h\"",
            "  [priorities.incident]\n  calendar = \"tier1\"\n  respond = \"2h\"\n  resolve = \"12h\"",
            1,
        );
        let on_tier1 = PolicyPack::parse_toml(&text).unwrap();
        assert_eq!(
            on_tier1
                .targets_in(SlaFamily::Incident, "P3")
                .unwrap()
                .calendar
                .name(),
            tier1.name()
        );
        let saturday: jiff::Timestamp = "2026-03-14T15:00:00-04:00".parse().unwrap();
        let due_on = |pack: &PolicyPack| {
            let p3 = pack.targets_in(SlaFamily::Incident, "P3").unwrap();
            crate::due::add_open_time(&p3.calendar, saturday, p3.resolve_open_time)
                .unwrap()
                .to_string()
        };
        assert_eq!(due_on(&on_tier1), "2026-03-16T14:00:00Z");
        let sunday = Closure {
            date: jiff::civil::date(2026, 3, 15),
            name: None,
            name_fr: None,
        };
        let closed = on_tier1
            .with_closures(&[(Some("tier1".into()), sunday)])
            .unwrap();
        assert_eq!(due_on(&closed), "2026-03-16T22:00:00Z");
        // A bad closure is refused with the calendar named.
        let bad = Closure {
            date: monday,
            name: Some(" ".into()),
            name_fr: None,
        };
        let e = pack.with_closures(&[(None, bad)]).unwrap_err();
        assert_eq!(e.code(), "invalid_name");
        assert!(e.field().starts_with("closures ("), "{e}");
    }
}
