//! The public status page's rules, without I/O: component, incident and maintenance states,
//! the page's overall indicator, the 90-day uptime bars, when maintenance notices go out, and
//! the Atom, RSS and iCalendar feeds.
//!
//! State names and the overall indicator follow the widely used hosted status-page API v2, so
//! that aggregators and chat bots read ours unchanged.
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::due::day_schedule;
use crate::text::Locale;

/// A text that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {text:?}; expected one of: {}", .accepted.join(", "))]
pub struct UnknownValue {
    /// What was being read (`"component status"`).
    pub kind: &'static str,
    pub text: String,
    pub accepted: &'static [&'static str],
}

/// A closed set of states written in snake_case, with English and French labels.
macro_rules! page_enum {
    (@unit $variant:ident) => { () };
    (
        $(#[$meta:meta])*
        $name:ident ($kind:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal => ($en:literal, $fr:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; <[()]>::len(&[$(page_enum!(@unit $variant)),+])] =
                [$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value as written in JSON and configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The label shown to people.
            pub fn label(self, lang: Locale) -> &'static str {
                match self {
                    $($name::$variant => lang.pick($en, $fr),)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        text: text.to_owned(),
                        accepted: $name::NAMES,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

page_enum! {
    /// The state of one component (a live solution such as "CCD Query").
    ComponentStatus ("component status") {
        Operational = "operational" => ("Operational", "Opérationnel"),
        DegradedPerformance = "degraded_performance"
            => ("Degraded Performance", "Performances dégradées"),
        PartialOutage = "partial_outage" => ("Partial Outage", "Panne partielle"),
        MajorOutage = "major_outage" => ("Major Outage", "Panne majeure"),
        UnderMaintenance = "under_maintenance" => ("Under Maintenance", "En maintenance"),
    }
}

/// Share of a partial outage's time counted as downtime in the uptime percentage: a partial
/// outage leaves most users served, so a full hour of it costs 18 minutes of uptime.
pub const PARTIAL_OUTAGE_DOWNTIME_PERCENT: u64 = 30;
/// Share of a major outage's time counted as downtime in the uptime percentage.
pub const MAJOR_OUTAGE_DOWNTIME_PERCENT: u64 = 100;

impl ComponentStatus {
    /// Rank for "worst of": operational 0, under maintenance 1, degraded performance 2,
    /// partial outage 3, major outage 4. Maintenance ranks lowest after operational because
    /// it was announced and is not a failure.
    pub fn severity(self) -> u8 {
        match self {
            ComponentStatus::Operational => 0,
            ComponentStatus::UnderMaintenance => 1,
            ComponentStatus::DegradedPerformance => 2,
            ComponentStatus::PartialOutage => 3,
            ComponentStatus::MajorOutage => 4,
        }
    }

    /// Partial and major outages are downtime; degraded performance and maintenance are not.
    pub fn is_downtime(self) -> bool {
        self.downtime_percent() > 0
    }

    /// How much of this status's time counts as downtime in the uptime percentage, in
    /// percent: [`MAJOR_OUTAGE_DOWNTIME_PERCENT`], [`PARTIAL_OUTAGE_DOWNTIME_PERCENT`] or 0.
    pub fn downtime_percent(self) -> u64 {
        match self {
            ComponentStatus::MajorOutage => MAJOR_OUTAGE_DOWNTIME_PERCENT,
            ComponentStatus::PartialOutage => PARTIAL_OUTAGE_DOWNTIME_PERCENT,
            _ => 0,
        }
    }

    /// The worse of two statuses (by [`ComponentStatus::severity`]).
    pub fn worse(self, other: ComponentStatus) -> ComponentStatus {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

page_enum! {
    /// How bad an incident is; ordered from none to critical.
    #[derive(PartialOrd, Ord)]
    IncidentImpact ("incident impact") {
        None = "none" => ("None", "Aucun"),
        Minor = "minor" => ("Minor", "Mineur"),
        Major = "major" => ("Major", "Majeur"),
        Critical = "critical" => ("Critical", "Critique"),
    }
}

page_enum! {
    /// Where an incident stands.
    IncidentStatus ("incident status") {
        Investigating = "investigating" => ("Investigating", "Analyse en cours"),
        Identified = "identified" => ("Identified", "Cause identifiée"),
        Monitoring = "monitoring" => ("Monitoring", "Sous surveillance"),
        Resolved = "resolved" => ("Resolved", "Résolu"),
        Postmortem = "postmortem" => ("Postmortem", "Analyse post-incident"),
    }
}

impl IncidentStatus {
    /// Resolved, or resolved with a postmortem published.
    pub fn is_resolved(self) -> bool {
        matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }
}

page_enum! {
    /// Where a scheduled maintenance stands.
    MaintenanceStatus ("maintenance status") {
        Scheduled = "scheduled" => ("Scheduled", "Planifiée"),
        InProgress = "in_progress" => ("In Progress", "En cours"),
        Verifying = "verifying" => ("Verifying", "Vérification en cours"),
        Completed = "completed" => ("Completed", "Terminée"),
        Cancelled = "cancelled" => ("Cancelled", "Annulée"),
    }
}

impl MaintenanceStatus {
    /// Under way: the work or its verification.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            MaintenanceStatus::InProgress | MaintenanceStatus::Verifying
        )
    }

    /// Completed or cancelled.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            MaintenanceStatus::Completed | MaintenanceStatus::Cancelled
        )
    }
}

page_enum! {
    /// The page's overall state, `status.indicator` of the hosted status-page API v2.
    Indicator ("status indicator") {
        None = "none" => ("None", "Aucun"),
        Minor = "minor" => ("Minor", "Mineur"),
        Major = "major" => ("Major", "Majeur"),
        Critical = "critical" => ("Critical", "Critique"),
        Maintenance = "maintenance" => ("Maintenance", "Maintenance"),
    }
}

impl Indicator {
    /// The page's headline for this state, `status.description` of the API.
    pub fn description(self, lang: Locale) -> &'static str {
        match self {
            Indicator::None => lang.pick(
                "All Systems Operational",
                "Tous les systèmes sont opérationnels",
            ),
            Indicator::Minor => {
                lang.pick("Minor Service Outage", "Perturbation mineure du service")
            }
            Indicator::Major => lang.pick("Partial System Outage", "Panne partielle des systèmes"),
            Indicator::Critical => lang.pick("Major System Outage", "Panne majeure des systèmes"),
            Indicator::Maintenance => {
                lang.pick("Service Under Maintenance", "Service en maintenance")
            }
        }
    }
}

/// The page's overall state with its headline in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overall {
    pub indicator: Indicator,
    pub description_en: &'static str,
    pub description_fr: &'static str,
}

/// The page's overall state from the components' statuses, the impacts of the unresolved
/// incidents and whether a maintenance is under way. The worst signal wins: outages and
/// incidents before maintenance, so a maintenance never hides a failure.
pub fn overall(
    components: &[ComponentStatus],
    unresolved_impacts: &[IncidentImpact],
    maintenance_active: bool,
) -> Overall {
    let worst_component = components
        .iter()
        .fold(ComponentStatus::Operational, |worst, &status| {
            worst.worse(status)
        });
    let worst_impact = unresolved_impacts
        .iter()
        .copied()
        .max()
        .unwrap_or(IncidentImpact::None);
    let indicator = if worst_component == ComponentStatus::MajorOutage
        || worst_impact == IncidentImpact::Critical
    {
        Indicator::Critical
    } else if worst_component == ComponentStatus::PartialOutage
        || worst_impact == IncidentImpact::Major
    {
        Indicator::Major
    } else if worst_component == ComponentStatus::DegradedPerformance
        || worst_impact == IncidentImpact::Minor
    {
        Indicator::Minor
    } else if worst_component == ComponentStatus::UnderMaintenance || maintenance_active {
        Indicator::Maintenance
    } else {
        Indicator::None
    };
    Overall {
        indicator,
        description_en: indicator.description(Locale::En),
        description_fr: indicator.description(Locale::Fr),
    }
}

// ---------------------------------------------------------------------------------------
// Uptime bars
// ---------------------------------------------------------------------------------------

/// A component's status from `at` until its next change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: Timestamp,
    pub status: ComponentStatus,
}

/// One bar of the uptime history: a calendar day in the page's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UptimeDay {
    pub date: Date,
    /// The worst status held for some time that day (operational on a day without data).
    pub worst: ComponentStatus,
    pub major_seconds: u64,
    pub partial_seconds: u64,
    pub degraded_seconds: u64,
    pub maintenance_seconds: u64,
    /// Seconds of the day that were measured: the whole day (23 h or 25 h on a daylight-saving
    /// change), today only up to now, the component's first day only from its creation.
    pub observed_seconds: u64,
    /// The day lies entirely before the component existed; it counts for nothing.
    pub no_data: bool,
}

impl UptimeDay {
    /// Seconds of partial or major outage, shown on hover.
    pub fn downtime_seconds(&self) -> u64 {
        self.major_seconds + self.partial_seconds
    }
}

/// Uptime bars, oldest day first, and the percentage over the whole window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uptime {
    pub days: Vec<UptimeDay>,
    /// 100 × (1 − weighted downtime ÷ observed time), to two decimals; 100 when nothing was
    /// observed. Any downtime at all shows at most 99.99, never a rounded-up 100.
    pub percent: f64,
}

/// A date or instant beyond what the time zone arithmetic supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field}: outside the supported range of dates")]
pub struct OutOfRange {
    pub field: &'static str,
}

/// The uptime bars of one component for the `days` calendar days in `tz` that end with today
/// (the day of `now`), today counting only up to `now`.
///
/// `history` holds the component's status changes; before the first one the component is
/// operational, and changes after `now` are ignored. It need not be sorted (changes at the
/// same instant keep their order: the last one holds). `since` is when the component was
/// created: time before it is not measured, and days wholly before it are `no_data`.
/// Instants are taken to the whole second at or before them.
pub fn uptime(
    history: &[StatusChange],
    since: Option<Timestamp>,
    now: Timestamp,
    tz: &TimeZone,
    days: u16,
) -> Result<Uptime, OutOfRange> {
    let mut changes: Vec<(i64, ComponentStatus)> = history
        .iter()
        .map(|change| (whole_second(change.at), change.status))
        .collect();
    changes.sort_by_key(|&(at, _)| at);

    let now_second = whole_second(now);
    let since_second = since.map(whole_second);
    let today = now.to_zoned(tz.clone()).date();
    let mut date = match days.checked_sub(1) {
        Some(before_today) => today
            .checked_sub(i64::from(before_today).days())
            .map_err(|_| OutOfRange { field: "days" })?,
        None => {
            return Ok(Uptime {
                days: Vec::new(),
                percent: 100.0,
            });
        }
    };

    let mut bars = Vec::with_capacity(usize::from(days));
    let mut current = ComponentStatus::Operational;
    let mut next_change = 0;
    let mut day_start = start_of_day(date, tz, "days")?;
    for _ in 0..days {
        let next_date = date.tomorrow().map_err(|_| OutOfRange { field: "now" })?;
        let next_day_start = start_of_day(next_date, tz, "now")?;
        let observed_from = since_second.map_or(day_start, |since| since.max(day_start));
        let observed_to = next_day_start.min(now_second);
        let no_data = since_second.is_some_and(|since| since > day_start && since >= observed_to);

        while let Some(&(at, status)) = changes.get(next_change) {
            if at > observed_from {
                break;
            }
            current = status;
            next_change += 1;
        }

        let mut bar = UptimeDay {
            date,
            worst: ComponentStatus::Operational,
            major_seconds: 0,
            partial_seconds: 0,
            degraded_seconds: 0,
            maintenance_seconds: 0,
            observed_seconds: 0,
            no_data,
        };
        if !no_data {
            let mut cursor = observed_from;
            if observed_from >= observed_to {
                bar.worst = current;
            }
            while cursor < observed_to {
                let segment_end = match changes.get(next_change) {
                    Some(&(at, _)) if at < observed_to => at,
                    _ => observed_to,
                };
                bar.add(current, seconds_between(cursor, segment_end));
                cursor = segment_end;
                if let Some(&(at, status)) = changes.get(next_change)
                    && at <= cursor
                {
                    current = status;
                    next_change += 1;
                }
            }
        }
        bars.push(bar);
        date = next_date;
        day_start = next_day_start;
    }

    let observed: u64 = bars.iter().map(|bar| bar.observed_seconds).sum();
    let weighted_downtime: u64 = bars
        .iter()
        .map(|bar| {
            bar.major_seconds * MAJOR_OUTAGE_DOWNTIME_PERCENT
                + bar.partial_seconds * PARTIAL_OUTAGE_DOWNTIME_PERCENT
        })
        .sum();
    Ok(Uptime {
        days: bars,
        percent: uptime_percent(observed, weighted_downtime),
    })
}

impl UptimeDay {
    fn add(&mut self, status: ComponentStatus, seconds: u64) {
        if seconds == 0 {
            return;
        }
        self.observed_seconds += seconds;
        self.worst = self.worst.worse(status);
        match status {
            ComponentStatus::MajorOutage => self.major_seconds += seconds,
            ComponentStatus::PartialOutage => self.partial_seconds += seconds,
            ComponentStatus::DegradedPerformance => self.degraded_seconds += seconds,
            ComponentStatus::UnderMaintenance => self.maintenance_seconds += seconds,
            ComponentStatus::Operational => {}
        }
    }
}

/// Exact integer arithmetic in hundredths of a percent, so that the result does not depend
/// on floating-point rounding of large second counts.
fn uptime_percent(observed_seconds: u64, weighted_downtime_percent_seconds: u64) -> f64 {
    if observed_seconds == 0 {
        return 100.0;
    }
    let whole = u128::from(observed_seconds) * 100;
    let down = u128::from(weighted_downtime_percent_seconds).min(whole);
    let up = whole - down;
    let mut hundredths = (up * 10_000 * 2 + whole) / (whole * 2);
    if down > 0 {
        hundredths = hundredths.min(9_999);
    }
    // At most 10 000: exact in an f64.
    hundredths as f64 / 100.0
}

fn start_of_day(date: Date, tz: &TimeZone, field: &'static str) -> Result<i64, OutOfRange> {
    date.to_zoned(tz.clone())
        .and_then(|zoned| zoned.start_of_day())
        .map(|zoned| zoned.timestamp().as_second())
        .map_err(|_| OutOfRange { field })
}

/// The whole second at or before `instant`, as Unix seconds.
fn whole_second(instant: Timestamp) -> i64 {
    let seconds = instant.as_second();
    if instant.subsec_nanosecond() < 0 {
        seconds - 1
    } else {
        seconds
    }
}

fn seconds_between(from: i64, to: i64) -> u64 {
    u64::try_from(to - from).unwrap_or(0)
}

/// A downtime length for people: `"2 h 5 min"`, `"45 min"`, `"30 s"` under a minute (so a
/// short outage never reads as none), and "no downtime" / "aucune interruption" for 0.
/// Seconds beyond whole minutes are dropped. French uses the same unit symbols.
pub fn format_duration(seconds: u64, lang: Locale) -> String {
    if seconds == 0 {
        return lang.pick("no downtime", "aucune interruption").to_owned();
    }
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let hours = seconds / 3600;
    let minutes = seconds % 3600 / 60;
    match (hours, minutes) {
        (0, minutes) => format!("{minutes} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    }
}

// ---------------------------------------------------------------------------------------
// Maintenance notices
// ---------------------------------------------------------------------------------------

/// The offsets notices use when a policy pack sets none: 1 week before, 1 hour before, at
/// start and at completion (the "scheduled" notice is always sent).
pub const DEFAULT_OFFSETS: &[&str] = &["7d", "1h", "start", "completion"];

/// Largest calendar-day offset: a year ahead.
pub const MAX_OFFSET_DAYS: u32 = 366;
/// Largest business-day offset.
pub const MAX_OFFSET_BUSINESS_DAYS: u32 = 261;
/// Largest hour offset.
pub const MAX_OFFSET_HOURS: u32 = MAX_OFFSET_DAYS * 24;
/// Largest minute offset.
pub const MAX_OFFSET_MINUTES: u32 = MAX_OFFSET_HOURS * 60;

/// When a maintenance notice goes, as configured: a lead before the start (`"7d"`,
/// `"5bd"`, `"1h"`, `"30m"`), or an event (`"start"`, `"completion"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeOffset {
    Before(Lead),
    Start,
    Completion,
}

/// How long before a maintenance's start a notice goes: a whole number from 1, written
/// without leading zeros and followed by its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lead {
    /// `"7d"`: calendar days, at the start's wall time.
    Days(u32),
    /// `"5bd"`: open days of the business calendar, at the start's wall time.
    BusinessDays(u32),
    /// `"1h"`: elapsed hours.
    Hours(u32),
    /// `"30m"`: elapsed minutes.
    Minutes(u32),
}

/// A notice offset that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "notice offset {text:?} is not understood: expected \"start\", \"completion\" or a \
     number from 1 followed by d, bd, h or m (\"7d\", \"5bd\", \"1h\", \"30m\"), at most a year"
)]
pub struct BadNoticeOffset {
    pub text: String,
}

impl NoticeOffset {
    /// The offset as written in configuration; parses back to itself.
    pub fn as_str(&self) -> Cow<'static, str> {
        match self {
            NoticeOffset::Before(Lead::Days(n)) => Cow::Owned(format!("{n}d")),
            NoticeOffset::Before(Lead::BusinessDays(n)) => Cow::Owned(format!("{n}bd")),
            NoticeOffset::Before(Lead::Hours(n)) => Cow::Owned(format!("{n}h")),
            NoticeOffset::Before(Lead::Minutes(n)) => Cow::Owned(format!("{n}m")),
            NoticeOffset::Start => Cow::Borrowed("start"),
            NoticeOffset::Completion => Cow::Borrowed("completion"),
        }
    }

    /// The stable key of its notice: `"before:7d"`, `"start"`, `"completion"`.
    pub fn notice_key(&self) -> String {
        match self {
            NoticeOffset::Before(_) => format!("before:{}", self.as_str()),
            NoticeOffset::Start | NoticeOffset::Completion => self.as_str().into_owned(),
        }
    }
}

impl Lead {
    /// The instant `self` before `starts_at`. Days are counted on the wall clock of the
    /// calendar's zone: the notice goes at the same wall time as the start, N calendar days
    /// (or N open days of the calendar, not counting the start's own date) earlier; N
    /// business days before a Saturday 02:00 start is thus 02:00 on the Monday, leaving the
    /// five working days in between. On a date where that wall time is skipped or repeated
    /// by a daylight-saving change, the earlier reading is used, so the notice is never
    /// short. Hours and minutes are elapsed time.
    pub fn before(
        self,
        starts_at: Timestamp,
        calendar: &Calendar,
    ) -> Result<Timestamp, ScheduleError> {
        let elapsed = |seconds: i64| {
            starts_at
                .checked_sub(seconds.seconds())
                .map_err(|_| ScheduleError::OutOfRange)
        };
        let tz = calendar.time_zone();
        let start = starts_at.to_zoned(tz.clone());
        let date = match self {
            Lead::Minutes(n) => return elapsed(i64::from(n) * 60),
            Lead::Hours(n) => return elapsed(i64::from(n) * 3600),
            Lead::Days(n) => start
                .date()
                .checked_sub(i64::from(n).days())
                .map_err(|_| ScheduleError::OutOfRange)?,
            Lead::BusinessDays(n) => open_days_before(calendar, start.date(), n)?,
        };
        let wall = DateTime::from_parts(date, start.time());
        tz.to_ambiguous_timestamp(wall)
            .earlier()
            .map_err(|_| ScheduleError::OutOfRange)
    }
}

/// The date `count` open days (days with open hours in `calendar`) before `date`.
fn open_days_before(calendar: &Calendar, date: Date, count: u32) -> Result<Date, ScheduleError> {
    let mut day = date;
    let mut counted = 0;
    while counted < count {
        day = day.yesterday().map_err(|_| ScheduleError::OutOfRange)?;
        // Errors once past the calendar's supported years, which ends the walk.
        if !day_schedule(calendar, day)?.open.is_empty() {
            counted += 1;
        }
    }
    Ok(day)
}

impl fmt::Display for NoticeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl FromStr for NoticeOffset {
    type Err = BadNoticeOffset;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadNoticeOffset {
            text: text.to_owned(),
        };
        match text {
            "start" => return Ok(NoticeOffset::Start),
            "completion" => return Ok(NoticeOffset::Completion),
            _ => {}
        }
        let digits_end = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = text.split_at(digits_end);
        if digits.is_empty() || digits.starts_with('0') || digits.len() > 6 {
            return Err(bad());
        }
        let amount: u32 = digits.parse().map_err(|_| bad())?;
        let (lead, max) = match unit {
            "d" => (Lead::Days(amount), MAX_OFFSET_DAYS),
            "bd" => (Lead::BusinessDays(amount), MAX_OFFSET_BUSINESS_DAYS),
            "h" => (Lead::Hours(amount), MAX_OFFSET_HOURS),
            "m" => (Lead::Minutes(amount), MAX_OFFSET_MINUTES),
            _ => return Err(bad()),
        };
        if amount > max {
            return Err(bad());
        }
        Ok(NoticeOffset::Before(lead))
    }
}

impl Serialize for NoticeOffset {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for NoticeOffset {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A notice to send about one maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedNotice {
    /// Stable, for "sent once": `"scheduled"`, `"before:7d"`, `"start"`, `"completion"`.
    pub key: String,
    pub send_at: Timestamp,
    /// Sent sooner than configured: a "scheduled" notice that stands in for a reminder whose
    /// time had passed when the maintenance was scheduled, or a start or completion notice
    /// for an event already past then.
    pub late: bool,
}

/// Why notices cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the maintenance must end after it starts")]
    EndNotAfterStart,
    #[error("a notice time is outside the supported range of dates")]
    OutOfRange,
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The notices of a maintenance scheduled at `scheduled_at` for `[starts_at, ends_at)`, in
/// sending order. Pure: when the maintenance is rescheduled or really completes at another
/// time, the caller plans again and sends the keys not yet sent.
///
/// - "scheduled" goes at `scheduled_at`, always.
/// - Each lead before the start goes at the start minus the lead (see [`Lead::before`] for
///   days and business days, counted on `calendar`).
/// - A lead whose time is at or before `scheduled_at` would go at once, together with the
///   "scheduled" notice, which already announces the maintenance and its start: it is merged
///   into "scheduled" (one mail, not several at once), which is then marked `late` if that
///   lead's time had passed.
/// - "start" and "completion" (when listed) go at `starts_at` and `ends_at`, or at
///   `scheduled_at` and marked `late` when already past; they are never merged, as they tell
///   something else.
/// - An offset listed twice is planned once. Notices at the same instant keep the order
///   scheduled, leads (longest first), start, completion.
pub fn notice_schedule(
    offsets: &[NoticeOffset],
    scheduled_at: Timestamp,
    starts_at: Timestamp,
    ends_at: Timestamp,
    calendar: &Calendar,
) -> Result<Vec<PlannedNotice>, ScheduleError> {
    if ends_at <= starts_at {
        return Err(ScheduleError::EndNotAfterStart);
    }
    let mut scheduled = PlannedNotice {
        key: "scheduled".to_owned(),
        send_at: scheduled_at,
        late: false,
    };
    let mut leads = Vec::new();
    let mut events = Vec::new();
    for (index, offset) in offsets.iter().enumerate() {
        if offsets[..index].contains(offset) {
            continue;
        }
        let at_event = |at: Timestamp| PlannedNotice {
            key: offset.notice_key(),
            send_at: at.max(scheduled_at),
            late: at < scheduled_at,
        };
        match offset {
            NoticeOffset::Start => events.push(at_event(starts_at)),
            NoticeOffset::Completion => events.push(at_event(ends_at)),
            NoticeOffset::Before(lead) => {
                let send_at = lead.before(starts_at, calendar)?;
                if send_at <= scheduled_at {
                    scheduled.late |= send_at < scheduled_at;
                } else {
                    leads.push(PlannedNotice {
                        key: offset.notice_key(),
                        send_at,
                        late: false,
                    });
                }
            }
        }
    }
    let mut notices = vec![scheduled];
    notices.append(&mut leads);
    notices.append(&mut events);
    // Stable: equal instants keep the order above.
    notices.sort_by_key(|notice| notice.send_at);
    Ok(notices)
}

// ---------------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------------

/// An Atom or RSS feed of the page's incidents and maintenances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub title: String,
    /// The status page, for people.
    pub page_url: String,
    /// This feed's own address.
    pub feed_url: String,
    pub updated: Timestamp,
    /// In the order to show, usually newest first.
    pub entries: Vec<FeedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Stable URL of the incident or maintenance; the entry's identity in feed readers.
    pub id: String,
    pub title: String,
    pub link: String,
    pub published: Timestamp,
    pub updated: Timestamp,
    /// HTML, written escaped in the feed (not in CDATA, which cannot hold `]]>`).
    pub html_summary: String,
}

/// The feed as Atom 1.0 (RFC 4287). The feed's author is its title, as Atom requires one.
pub fn atom(feed: &Feed) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    push_element(&mut out, 1, "id", &feed.feed_url);
    push_element(&mut out, 1, "title", &feed.title);
    push_element(&mut out, 1, "updated", &rfc3339(feed.updated));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape_xml(&feed.page_url)
    ));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape_xml(&feed.feed_url)
    ));
    out.push_str("  <author>\n");
    push_element(&mut out, 2, "name", &feed.title);
    out.push_str("  </author>\n");
    for entry in &feed.entries {
        out.push_str("  <entry>\n");
        push_element(&mut out, 2, "id", &entry.id);
        push_element(&mut out, 2, "title", &entry.title);
        push_element(&mut out, 2, "published", &rfc3339(entry.published));
        push_element(&mut out, 2, "updated", &rfc3339(entry.updated));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            escape_xml(&entry.link)
        ));
        out.push_str(&format!(
            "    <summary type=\"html\">{}</summary>\n",
            escape_xml(&entry.html_summary)
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The feed as RSS 2.0. The channel's description is its title (the feed has no other).
pub fn rss(feed: &Feed) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str("  <channel>\n");
    push_element(&mut out, 2, "title", &feed.title);
    push_element(&mut out, 2, "link", &feed.page_url);
    push_element(&mut out, 2, "description", &feed.title);
    out.push_str(&format!(
        "    <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        escape_xml(&feed.feed_url)
    ));
    push_element(&mut out, 2, "lastBuildDate", &rfc2822(feed.updated));
    for entry in &feed.entries {
        out.push_str("    <item>\n");
        push_element(&mut out, 3, "title", &entry.title);
        push_element(&mut out, 3, "link", &entry.link);
        out.push_str(&format!(
            "      <guid isPermaLink=\"true\">{}</guid>\n",
            escape_xml(&entry.id)
        ));
        push_element(&mut out, 3, "pubDate", &rfc2822(entry.published));
        push_element(&mut out, 3, "description", &entry.html_summary);
        out.push_str("    </item>\n");
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}

fn push_element(out: &mut String, depth: usize, name: &str, text: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str(&format!("<{name}>{}</{name}>\n", escape_xml(text)));
}

/// Text or attribute value for XML 1.0. Characters XML cannot hold at all (control
/// characters other than tab and line ends, U+FFFE, U+FFFF) are dropped.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn rfc2822(at: Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// The maintenances as an iCalendar feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceCalendar {
    pub name: String,
    pub entries: Vec<MaintenanceEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceEvent {
    /// Stable across changes (`"maintenance-42@status.example.org"`).
    pub uid: String,
    /// Raised on each reschedule, so that calendars replace the old times.
    pub sequence: u32,
    pub summary: String,
    pub description: String,
    pub url: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub status: MaintenanceStatus,
    pub updated: Timestamp,
}

/// The maintenances as iCalendar (RFC 5545), published for subscription: CRLF line ends,
/// lines folded at 75 octets, times in UTC. DTSTAMP is the event's `updated`, not the time of
/// rendering, so the same data gives the same bytes (cacheable, no spurious changes).
pub fn icalendar(calendar: &MaintenanceCalendar) -> String {
    let mut out = String::new();
    let mut line =
        |name: &str, value: &str| fold_content_line(&mut out, &format!("{name}:{value}"));
    line("BEGIN", "VCALENDAR");
    line("PRODID", "-//Triage//Status//EN");
    line("VERSION", "2.0");
    line("CALSCALE", "GREGORIAN");
    line("METHOD", "PUBLISH");
    line("X-WR-CALNAME", &escape_ical_text(&calendar.name));
    for event in &calendar.entries {
        let status = if event.status == MaintenanceStatus::Cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        line("BEGIN", "VEVENT");
        line("UID", &escape_ical_text(&event.uid));
        line("SEQUENCE", &event.sequence.to_string());
        line("DTSTAMP", &ical_utc(event.updated));
        line("LAST-MODIFIED", &ical_utc(event.updated));
        line("DTSTART", &ical_utc(event.starts_at));
        line("DTEND", &ical_utc(event.ends_at));
        line("SUMMARY", &escape_ical_text(&event.summary));
        line("DESCRIPTION", &escape_ical_text(&event.description));
        // A URI value: TEXT escaping would corrupt its commas; only line breaks are removed.
        line("URL", &without_controls(&event.url));
        line("STATUS", status);
        line("END", "VEVENT");
    }
    line("END", "VCALENDAR");
    out
}

fn ical_utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT value escaping: `\` `;` `,` and line breaks (CRLF, CR or LF become `\n`); other
/// control characters, which TEXT may not hold, are dropped.
fn escape_ical_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn without_controls(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Writes a content line, folded so that no line exceeds 75 octets before its CRLF
/// (continuation lines start with a space, which counts), never inside a UTF-8 character.
fn fold_content_line(out: &mut String, line: &str) {
    const MAX_OCTETS: usize = 75;
    let mut rest = line;
    let mut room = MAX_OCTETS;
    while rest.len() > room {
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        room = MAX_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::shipped_calendar;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn toronto() -> TimeZone {
        TimeZone::get("America/Toronto").unwrap()
    }

    // ---- enums ----------------------------------------------------------------------

    fn check_enum<T>(all: &[T])
    where
        T: Copy + fmt::Debug + PartialEq + FromStr<Err = UnknownValue> + Serialize + fmt::Display,
        T: for<'de> Deserialize<'de>,
    {
        for &value in all {
            let text = value.to_string();
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{text}\"")
            );
            assert_eq!(text.parse::<T>().unwrap(), value);
            let back: T = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn enums_round_trip_as_snake_case() {
        check_enum(&ComponentStatus::ALL);
        check_enum(&IncidentImpact::ALL);
        check_enum(&IncidentStatus::ALL);
        check_enum(&MaintenanceStatus::ALL);
        check_enum(&Indicator::ALL);
        assert_eq!(ComponentStatus::ALL.len(), 5);
        assert_eq!(IncidentImpact::ALL.len(), 4);
        assert_eq!(IncidentStatus::ALL.len(), 5);
        assert_eq!(MaintenanceStatus::ALL.len(), 5);
        assert_eq!(Indicator::ALL.len(), 5);
        assert_eq!(
            ComponentStatus::DegradedPerformance.as_str(),
            "degraded_performance"
        );
        assert_eq!(MaintenanceStatus::InProgress.as_str(), "in_progress");
    }

    #[test]
    fn unknown_values_name_the_accepted_ones() {
        let error = "down".parse::<ComponentStatus>().unwrap_err();
        assert_eq!(error.text, "down");
        assert_eq!(
            error.to_string(),
            "unknown component status \"down\"; expected one of: operational, \
             degraded_performance, partial_outage, major_outage, under_maintenance"
        );
        let error = "Resolved".parse::<IncidentStatus>().unwrap_err();
        assert!(error.to_string().contains("postmortem"), "{error}");
        assert!("".parse::<Indicator>().is_err());
        assert!("in progress".parse::<MaintenanceStatus>().is_err());
        assert!(serde_json::from_str::<IncidentImpact>("\"severe\"").is_err());
    }

    #[test]
    fn component_severity_orders_worst_of() {
        use ComponentStatus::*;
        let ranked = [
            Operational,
            UnderMaintenance,
            DegradedPerformance,
            PartialOutage,
            MajorOutage,
        ];
        for (rank, status) in ranked.iter().enumerate() {
            assert_eq!(usize::from(status.severity()), rank);
        }
        assert_eq!(
            UnderMaintenance.worse(DegradedPerformance),
            DegradedPerformance
        );
        assert_eq!(MajorOutage.worse(Operational), MajorOutage);
        assert_eq!(
            ComponentStatus::ALL
                .iter()
                .filter(|status| status.is_downtime())
                .collect::<Vec<_>>(),
            [&PartialOutage, &MajorOutage]
        );
        assert_eq!(PartialOutage.downtime_percent(), 30);
        assert_eq!(MajorOutage.downtime_percent(), 100);
        assert_eq!(UnderMaintenance.downtime_percent(), 0);
    }

    #[test]
    fn impacts_are_ordered_and_states_classified() {
        use IncidentImpact::*;
        assert!(None < Minor && Minor < Major && Major < Critical);
        let resolved: Vec<_> = IncidentStatus::ALL
            .into_iter()
            .filter(|s| s.is_resolved())
            .collect();
        assert_eq!(
            resolved,
            [IncidentStatus::Resolved, IncidentStatus::Postmortem]
        );
        let active: Vec<_> = MaintenanceStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(
            active,
            [MaintenanceStatus::InProgress, MaintenanceStatus::Verifying]
        );
        let finished: Vec<_> = MaintenanceStatus::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .collect();
        assert_eq!(
            finished,
            [MaintenanceStatus::Completed, MaintenanceStatus::Cancelled]
        );
    }

    #[test]
    fn every_value_has_both_labels() {
        let labels: Vec<(&str, &str)> = ComponentStatus::ALL
            .iter()
            .map(|s| (s.label(Locale::En), s.label(Locale::Fr)))
            .chain(
                IncidentImpact::ALL
                    .iter()
                    .map(|s| (s.label(Locale::En), s.label(Locale::Fr))),
            )
            .chain(
                IncidentStatus::ALL
                    .iter()
                    .map(|s| (s.label(Locale::En), s.label(Locale::Fr))),
            )
            .chain(
                MaintenanceStatus::ALL
                    .iter()
                    .map(|s| (s.label(Locale::En), s.label(Locale::Fr))),
            )
            .chain(
                Indicator::ALL
                    .iter()
                    .map(|s| (s.label(Locale::En), s.label(Locale::Fr))),
            )
            .collect();
        for (en, fr) in labels {
            assert!(!en.is_empty() && !fr.is_empty());
        }
        assert_eq!(
            ComponentStatus::PartialOutage.label(Locale::Fr),
            "Panne partielle"
        );
        assert_eq!(MaintenanceStatus::Verifying.label(Locale::En), "Verifying");
    }

    // ---- overall --------------------------------------------------------------------

    #[test]
    fn overall_all_operational() {
        use ComponentStatus::*;
        let o = overall(&[Operational, Operational], &[IncidentImpact::None], false);
        assert_eq!(o.indicator, Indicator::None);
        assert_eq!(o.description_en, "All Systems Operational");
        assert_eq!(o.description_fr, "Tous les systèmes sont opérationnels");
        assert_eq!(overall(&[], &[], false).indicator, Indicator::None);
    }

    #[test]
    fn overall_critical_from_major_outage_or_critical_incident() {
        use ComponentStatus::*;
        let o = overall(&[Operational, MajorOutage, UnderMaintenance], &[], true);
        assert_eq!(o.indicator, Indicator::Critical);
        assert_eq!(o.description_en, "Major System Outage");
        assert_eq!(o.description_fr, "Panne majeure des systèmes");
        let o = overall(
            &[Operational],
            &[IncidentImpact::Minor, IncidentImpact::Critical],
            false,
        );
        assert_eq!(o.indicator, Indicator::Critical);
    }

    #[test]
    fn overall_major_from_partial_outage_or_major_incident() {
        use ComponentStatus::*;
        let o = overall(&[DegradedPerformance, PartialOutage], &[], false);
        assert_eq!(o.indicator, Indicator::Major);
        assert_eq!(o.description_en, "Partial System Outage");
        assert_eq!(o.description_fr, "Panne partielle des systèmes");
        let o = overall(&[Operational], &[IncidentImpact::Major], true);
        assert_eq!(o.indicator, Indicator::Major);
    }

    #[test]
    fn overall_minor_from_degraded_or_minor_incident() {
        use ComponentStatus::*;
        let o = overall(&[DegradedPerformance, UnderMaintenance], &[], true);
        assert_eq!(o.indicator, Indicator::Minor);
        assert_eq!(o.description_en, "Minor Service Outage");
        assert_eq!(o.description_fr, "Perturbation mineure du service");
        let o = overall(&[Operational], &[IncidentImpact::Minor], false);
        assert_eq!(o.indicator, Indicator::Minor);
    }

    #[test]
    fn overall_maintenance_only_when_nothing_is_failing() {
        use ComponentStatus::*;
        let o = overall(&[Operational, UnderMaintenance], &[], false);
        assert_eq!(o.indicator, Indicator::Maintenance);
        assert_eq!(o.description_en, "Service Under Maintenance");
        assert_eq!(o.description_fr, "Service en maintenance");
        let o = overall(&[Operational], &[IncidentImpact::None], true);
        assert_eq!(o.indicator, Indicator::Maintenance);
    }

    // ---- uptime ---------------------------------------------------------------------

    fn change(at: &str, status: ComponentStatus) -> StatusChange {
        StatusChange { at: ts(at), status }
    }

    #[test]
    fn no_history_is_all_operational() {
        let up = uptime(&[], None, ts("2026-05-10T12:00:00Z"), &TimeZone::UTC, 90).unwrap();
        assert_eq!(up.days.len(), 90);
        assert_eq!(up.days[0].date, date(2026, 2, 10));
        assert_eq!(up.days[89].date, date(2026, 5, 10));
        assert_eq!(up.days[89].observed_seconds, 12 * 3600);
        assert_eq!(up.days[0].observed_seconds, 86_400);
        assert!(
            up.days
                .iter()
                .all(|d| d.worst == ComponentStatus::Operational
                    && d.downtime_seconds() == 0
                    && !d.no_data)
        );
        assert_eq!(up.percent, 100.0);
    }

    #[test]
    fn an_outage_across_midnight_is_split_between_days() {
        use ComponentStatus::*;
        let history = [
            change("2026-05-08T23:00:00Z", MajorOutage),
            change("2026-05-09T01:30:00Z", PartialOutage),
            change("2026-05-09T02:00:00Z", Operational),
            change("2026-05-09T10:00:00Z", UnderMaintenance),
            change("2026-05-09T11:00:00Z", DegradedPerformance),
            change("2026-05-09T11:05:00Z", Operational),
        ];
        let up = uptime(
            &history,
            None,
            ts("2026-05-10T00:00:00Z"),
            &TimeZone::UTC,
            3,
        )
        .unwrap();
        let [may8, may9, may10] = up.days.as_slice() else {
            panic!("three days")
        };
        assert_eq!(may8.major_seconds, 3600);
        assert_eq!(may8.worst, MajorOutage);
        assert_eq!(may9.major_seconds, 5400);
        assert_eq!(may9.partial_seconds, 1800);
        assert_eq!(may9.maintenance_seconds, 3600);
        assert_eq!(may9.degraded_seconds, 300);
        assert_eq!(may9.downtime_seconds(), 7200);
        assert_eq!(may9.worst, MajorOutage);
        // Today has just begun: nothing observed yet, status in force shown.
        assert_eq!(may10.observed_seconds, 0);
        assert_eq!(may10.worst, Operational);
        // 1 h + 1.5 h major, 0.5 h partial at 30 %: 9 540 s of 172 800 s.
        let expected: f64 = 100.0 * (1.0 - 9_540.0 / 172_800.0);
        assert_eq!(up.percent, (expected * 100.0).round() / 100.0);
        assert_eq!(up.percent, 94.48);
    }

    #[test]
    fn ongoing_outage_counts_until_now() {
        use ComponentStatus::*;
        let history = [change("2026-05-10T06:00:00Z", PartialOutage)];
        let up = uptime(
            &history,
            None,
            ts("2026-05-10T08:30:00Z"),
            &TimeZone::UTC,
            1,
        )
        .unwrap();
        assert_eq!(up.days.len(), 1);
        assert_eq!(up.days[0].partial_seconds, 9000);
        assert_eq!(up.days[0].observed_seconds, 30_600);
        assert_eq!(up.days[0].worst, PartialOutage);
        // 9000 × 0.3 = 2700 of 30 600 s down.
        assert_eq!(up.percent, 91.18);
    }

    #[test]
    fn history_before_the_window_sets_the_starting_status() {
        use ComponentStatus::*;
        let history = [
            change("2026-01-01T00:00:00Z", MajorOutage),
            change("2026-05-09T12:00:00Z", Operational),
            change("2026-05-11T00:00:00Z", MajorOutage), // after now: ignored
        ];
        let up = uptime(
            &history,
            None,
            ts("2026-05-10T12:00:00Z"),
            &TimeZone::UTC,
            2,
        )
        .unwrap();
        assert_eq!(up.days[0].major_seconds, 12 * 3600);
        assert_eq!(up.days[1].worst, Operational);
        assert_eq!(up.days[1].observed_seconds, 12 * 3600);
    }

    #[test]
    fn unsorted_history_is_read_in_time_order() {
        use ComponentStatus::*;
        let sorted = [
            change("2026-05-09T01:00:00Z", MajorOutage),
            change("2026-05-09T02:00:00Z", Operational),
        ];
        let unsorted = [sorted[1], sorted[0]];
        let now = ts("2026-05-10T00:00:00Z");
        assert_eq!(
            uptime(&unsorted, None, now, &TimeZone::UTC, 2).unwrap(),
            uptime(&sorted, None, now, &TimeZone::UTC, 2).unwrap()
        );
    }

    #[test]
    fn a_new_component_is_measured_from_its_creation() {
        use ComponentStatus::*;
        let since = ts("2026-05-08T18:00:00Z");
        let history = [
            change("2026-05-08T18:00:00Z", Operational),
            change("2026-05-09T00:00:00Z", MajorOutage),
            change("2026-05-09T06:00:00Z", Operational),
        ];
        let now = ts("2026-05-10T00:00:00Z");
        let up = uptime(&history, Some(since), now, &TimeZone::UTC, 90).unwrap();
        assert_eq!(up.days.len(), 90);
        let before: Vec<_> = up.days.iter().filter(|d| d.no_data).collect();
        assert_eq!(before.len(), 87);
        assert!(
            before
                .iter()
                .all(|d| d.worst == Operational && d.observed_seconds == 0)
        );
        let may8 = &up.days[87];
        assert_eq!(may8.date, date(2026, 5, 8));
        assert!(!may8.no_data);
        assert_eq!(may8.observed_seconds, 6 * 3600);
        // 6 h down out of 30 h measured.
        assert_eq!(up.percent, 80.0);
        // Created at a day's start: that day is wholly measured.
        let up = uptime(
            &[],
            Some(ts("2026-05-09T00:00:00Z")),
            now,
            &TimeZone::UTC,
            3,
        )
        .unwrap();
        let flags: Vec<bool> = up.days.iter().map(|d| d.no_data).collect();
        assert_eq!(flags, [true, false, false]);
        // Created after now: nothing measured.
        let up = uptime(
            &[],
            Some(ts("2026-06-01T00:00:00Z")),
            now,
            &TimeZone::UTC,
            3,
        )
        .unwrap();
        assert!(up.days.iter().all(|d| d.no_data));
        assert_eq!(up.percent, 100.0);
    }

    #[test]
    fn spring_forward_day_has_23_hours() {
        use ComponentStatus::*;
        // Toronto skips 02:00–03:00 on Sunday 8 March 2026.
        let history = [
            change("2026-03-08T05:00:00Z", MajorOutage), // 00:00 EST
            change("2026-03-09T04:00:00Z", Operational), // 00:00 EDT
        ];
        let up = uptime(&history, None, ts("2026-03-10T12:00:00Z"), &toronto(), 3).unwrap();
        let days: Vec<_> = up
            .days
            .iter()
            .map(|d| (d.date, d.observed_seconds))
            .collect();
        assert_eq!(
            days,
            [
                (date(2026, 3, 8), 23 * 3600),
                (date(2026, 3, 9), 24 * 3600),
                (date(2026, 3, 10), 8 * 3600), // 08:00 EDT
            ]
        );
        assert_eq!(up.days[0].major_seconds, 23 * 3600);
        assert_eq!(up.days[0].worst, MajorOutage);
        assert_eq!(up.days[1].worst, Operational);
    }

    #[test]
    fn fall_back_day_has_25_hours() {
        use ComponentStatus::*;
        // Toronto repeats 01:00–02:00 on Sunday 1 November 2026.
        let history = [
            change("2026-11-01T05:00:00Z", PartialOutage), // 01:00 EDT, first showing
            change("2026-11-01T07:00:00Z", Operational),   // 02:00 EST
        ];
        let up = uptime(&history, None, ts("2026-11-02T05:00:00Z"), &toronto(), 2).unwrap();
        assert_eq!(up.days[0].date, date(2026, 11, 1));
        assert_eq!(up.days[0].observed_seconds, 25 * 3600);
        // 01:00 to 02:00 on the wall clock, through the repeated hour: 2 h.
        assert_eq!(up.days[0].partial_seconds, 2 * 3600);
        assert_eq!(up.days[1].date, date(2026, 11, 2));
        assert_eq!(up.days[1].observed_seconds, 0);
        assert_eq!(up.percent, 97.6); // 2 h × 30 % of 25 h = 2.4 %
    }

    #[test]
    fn tiny_downtime_never_shows_100_percent() {
        use ComponentStatus::*;
        let history = [
            change("2026-05-01T00:00:00Z", MajorOutage),
            change("2026-05-01T00:00:01Z", Operational),
        ];
        let up = uptime(
            &history,
            None,
            ts("2026-05-10T12:00:00Z"),
            &TimeZone::UTC,
            90,
        )
        .unwrap();
        assert_eq!(up.percent, 99.99);
        assert_eq!(uptime_percent(100, 0), 100.0);
        assert_eq!(uptime_percent(100, 100 * 100), 0.0);
        assert_eq!(uptime_percent(0, 0), 100.0);
        assert_eq!(uptime_percent(3, 100), 66.67);
    }

    #[test]
    fn zero_days_is_an_empty_window() {
        let up = uptime(&[], None, ts("2026-05-10T12:00:00Z"), &TimeZone::UTC, 0).unwrap();
        assert!(up.days.is_empty());
        assert_eq!(up.percent, 100.0);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0, Locale::En), "no downtime");
        assert_eq!(format_duration(0, Locale::Fr), "aucune interruption");
        assert_eq!(format_duration(45, Locale::En), "45 s");
        assert_eq!(format_duration(300, Locale::Fr), "5 min");
        assert_eq!(format_duration(7200, Locale::En), "2 h");
        assert_eq!(format_duration(7500, Locale::En), "2 h 5 min");
        assert_eq!(format_duration(7559, Locale::Fr), "2 h 5 min");
        assert_eq!(format_duration(90_000, Locale::En), "25 h");
    }

    fn any_status() -> impl Strategy<Value = ComponentStatus> {
        prop::sample::select(ComponentStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn uptime_invariants(
            now_offset in 0_i64..400 * 86_400,
            changes in prop::collection::vec((-20_i64 * 86_400..400 * 86_400, any_status()), 0..40),
            since_offset in prop::option::of(-20_i64 * 86_400..420 * 86_400),
            days in 0_u16..120,
            zone in prop::sample::select(vec!["America/Toronto", "UTC", "Australia/Lord_Howe"]),
        ) {
            let tz = TimeZone::get(zone).unwrap();
            let origin = ts("2026-01-01T00:00:00Z");
            let at = |offset: i64| origin.checked_add(offset.seconds()).unwrap();
            let now = at(now_offset);
            let history: Vec<StatusChange> = changes
                .iter()
                .map(|&(offset, status)| StatusChange { at: at(offset), status })
                .collect();
            let since = since_offset.map(at);
            let up = uptime(&history, since, now, &tz, days).unwrap();

            prop_assert!((0.0..=100.0).contains(&up.percent));
            prop_assert_eq!(up.days.len(), usize::from(days));
            for day in &up.days {
                let next = day.date.tomorrow().unwrap();
                let length = start_of_day(next, &tz, "t").unwrap()
                    - start_of_day(day.date, &tz, "t").unwrap();
                prop_assert!(day.observed_seconds <= u64::try_from(length).unwrap());
                prop_assert!(
                    day.major_seconds + day.partial_seconds + day.degraded_seconds
                        + day.maintenance_seconds <= day.observed_seconds
                );
                if day.no_data {
                    prop_assert_eq!(day.observed_seconds, 0);
                    prop_assert_eq!(day.worst, ComponentStatus::Operational);
                }
            }
            for pair in up.days.windows(2) {
                prop_assert_eq!(pair[0].date.tomorrow().unwrap(), pair[1].date);
            }
            if let Some(first) = up.days.first() {
                prop_assert_eq!(up.days.last().unwrap().date, now.to_zoned(tz.clone()).date());
                let window_start = start_of_day(first.date, &tz, "t").unwrap();
                let from = since.map_or(window_start, |s| s.as_second().max(window_start));
                let expected = u64::try_from(now.as_second() - from).unwrap_or(0);
                let observed: u64 = up.days.iter().map(|d| d.observed_seconds).sum();
                prop_assert_eq!(observed, expected);
            }
        }
    }

    // ---- notices --------------------------------------------------------------------

    fn offsets(texts: &[&str]) -> Vec<NoticeOffset> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    fn business() -> &'static Calendar {
        shipped_calendar("business").unwrap()
    }

    fn plan(
        texts: &[&str],
        scheduled_at: &str,
        starts_at: &str,
        ends_at: &str,
    ) -> Vec<(String, String, bool)> {
        notice_schedule(
            &offsets(texts),
            ts(scheduled_at),
            ts(starts_at),
            ts(ends_at),
            business(),
        )
        .unwrap()
        .into_iter()
        .map(|n| (n.key, n.send_at.to_string(), n.late))
        .collect()
    }

    fn row(key: &str, at: &str, late: bool) -> (String, String, bool) {
        (key.to_owned(), at.to_owned(), late)
    }

    #[test]
    fn offsets_parse_and_print_back() {
        for text in [
            "7d",
            "2d",
            "1h",
            "30m",
            "5bd",
            "start",
            "completion",
            "366d",
            "261bd",
        ] {
            let offset: NoticeOffset = text.parse().unwrap();
            assert_eq!(offset.as_str(), text);
            assert_eq!(
                serde_json::to_string(&offset).unwrap(),
                format!("\"{text}\"")
            );
        }
        assert_eq!(
            "5bd".parse(),
            Ok(NoticeOffset::Before(Lead::BusinessDays(5)))
        );
        assert_eq!(
            NoticeOffset::Before(Lead::Days(7)).notice_key(),
            "before:7d"
        );
        assert_eq!(NoticeOffset::Start.notice_key(), "start");
        for bad in [
            "",
            "7",
            "d",
            "0d",
            "07d",
            "7 d",
            " 7d",
            "7D",
            "-1h",
            "1w",
            "1.5h",
            "5bdx",
            "367d",
            "262bd",
            "Start",
            "99999999999d",
        ] {
            let error = bad.parse::<NoticeOffset>().unwrap_err();
            assert_eq!(error.text, bad);
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
        assert!(serde_json::from_str::<Vec<NoticeOffset>>(r#"["7d","1x"]"#).is_err());
        let defaults: Vec<NoticeOffset> =
            DEFAULT_OFFSETS.iter().map(|t| t.parse().unwrap()).collect();
        assert_eq!(
            defaults,
            [
                NoticeOffset::Before(Lead::Days(7)),
                NoticeOffset::Before(Lead::Hours(1)),
                NoticeOffset::Start,
                NoticeOffset::Completion
            ]
        );
    }

    #[test]
    fn maintenance_two_weeks_ahead_gets_every_notice() {
        // Saturday 30 May 2026, 02:00–04:00 EDT.
        let notices = plan(
            DEFAULT_OFFSETS,
            "2026-05-16T14:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-05-16T14:00:00Z", false),
                row("before:7d", "2026-05-23T06:00:00Z", false),
                row("before:1h", "2026-05-30T05:00:00Z", false),
                row("start", "2026-05-30T06:00:00Z", false),
                row("completion", "2026-05-30T08:00:00Z", false),
            ]
        );
    }

    #[test]
    fn a_missed_reminder_is_merged_into_the_scheduled_notice() {
        let notices = plan(
            DEFAULT_OFFSETS,
            "2026-05-27T14:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-05-27T14:00:00Z", true),
                row("before:1h", "2026-05-30T05:00:00Z", false),
                row("start", "2026-05-30T06:00:00Z", false),
                row("completion", "2026-05-30T08:00:00Z", false),
            ]
        );
    }

    #[test]
    fn several_missed_reminders_make_one_notice() {
        let notices = plan(
            &["14d", "7d", "2d", "1h", "start"],
            "2026-05-29T14:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-05-29T14:00:00Z", true),
                row("before:1h", "2026-05-30T05:00:00Z", false),
                row("start", "2026-05-30T06:00:00Z", false),
            ]
        );
        // A reminder due exactly when the maintenance is scheduled is that notice, on time.
        let notices = plan(
            &["7d"],
            "2026-05-23T06:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(notices, [row("scheduled", "2026-05-23T06:00:00Z", false)]);
    }

    #[test]
    fn events_already_past_are_sent_at_once_but_not_merged() {
        let notices = plan(
            DEFAULT_OFFSETS,
            "2026-05-30T07:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-05-30T07:00:00Z", true),
                row("start", "2026-05-30T07:00:00Z", true),
                row("completion", "2026-05-30T08:00:00Z", false),
            ]
        );
    }

    #[test]
    fn business_days_skip_weekends_and_ontario_holidays() {
        // Wednesday 18 February 2026, 02:00 EST; Monday 16 is Family Day.
        let notices = plan(
            &["5bd", "start"],
            "2026-01-05T14:00:00Z",
            "2026-02-18T07:00:00Z",
            "2026-02-18T09:00:00Z",
        );
        // Tue 17, (Mon 16 holiday, weekend), Fri 13, Thu 12, Wed 11, Tue 10: 02:00 EST.
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-01-05T14:00:00Z", false),
                row("before:5bd", "2026-02-10T07:00:00Z", false),
                row("start", "2026-02-18T07:00:00Z", false),
            ]
        );
        // Tuesday 7 April 2026, 22:00 EDT: Easter Monday and Good Friday are closed.
        let notices = plan(
            &["2bd"],
            "2026-03-01T14:00:00Z",
            "2026-04-08T02:00:00Z",
            "2026-04-08T04:00:00Z",
        );
        assert_eq!(notices[1], row("before:2bd", "2026-04-02T02:00:00Z", false)); // Wed 1, 22:00 EDT
    }

    #[test]
    fn calendar_days_keep_the_wall_time_across_daylight_saving() {
        // Saturday 14 March 2026, 02:00 EDT; a week earlier is 02:00 EST.
        let notices = plan(
            &["7d", "168h"],
            "2026-02-01T14:00:00Z",
            "2026-03-14T06:00:00Z",
            "2026-03-14T08:00:00Z",
        );
        assert_eq!(
            notices,
            [
                row("scheduled", "2026-02-01T14:00:00Z", false),
                row("before:168h", "2026-03-07T06:00:00Z", false),
                row("before:7d", "2026-03-07T07:00:00Z", false),
            ]
        );
        // Wall time skipped on the notice's date (02:30 on 8 March): the earlier reading.
        let notices = plan(
            &["1d"],
            "2026-02-01T14:00:00Z",
            "2026-03-09T06:30:00Z",
            "2026-03-09T08:00:00Z",
        );
        assert_eq!(notices[1], row("before:1d", "2026-03-08T06:30:00Z", false));
    }

    #[test]
    fn repeated_offsets_are_planned_once_and_bad_periods_refused() {
        let notices = plan(
            &["1h", "1h", "start", "start"],
            "2026-05-01T00:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(notices.len(), 3);
        for ends in ["2026-05-30T06:00:00Z", "2026-05-30T05:00:00Z"] {
            assert_eq!(
                notice_schedule(
                    &[],
                    ts("2026-05-01T00:00:00Z"),
                    ts("2026-05-30T06:00:00Z"),
                    ts(ends),
                    business(),
                ),
                Err(ScheduleError::EndNotAfterStart)
            );
        }
        // Only the "scheduled" notice without offsets.
        let notices = plan(
            &[],
            "2026-05-01T00:00:00Z",
            "2026-05-30T06:00:00Z",
            "2026-05-30T08:00:00Z",
        );
        assert_eq!(notices, [row("scheduled", "2026-05-01T00:00:00Z", false)]);
    }

    fn any_offset() -> impl Strategy<Value = NoticeOffset> {
        prop_oneof![
            (1_u32..=30).prop_map(|n| NoticeOffset::Before(Lead::Days(n))),
            (1_u32..=30).prop_map(|n| NoticeOffset::Before(Lead::BusinessDays(n))),
            (1_u32..=500).prop_map(|n| NoticeOffset::Before(Lead::Hours(n))),
            (1_u32..=5000).prop_map(|n| NoticeOffset::Before(Lead::Minutes(n))),
            Just(NoticeOffset::Start),
            Just(NoticeOffset::Completion),
        ]
    }

    proptest! {
        #[test]
        fn notice_schedule_invariants(
            offsets in prop::collection::vec(any_offset(), 0..8),
            scheduled_offset in 0_i64..60 * 86_400,
            start_offset in 0_i64..60 * 86_400,
            length in 1_i64..3 * 86_400,
        ) {
            let origin = ts("2026-02-01T00:00:00Z");
            let at = |offset: i64| origin.checked_add(offset.seconds()).unwrap();
            let (scheduled_at, starts_at) = (at(scheduled_offset), at(start_offset));
            let ends_at = at(start_offset + length);
            let notices =
                notice_schedule(&offsets, scheduled_at, starts_at, ends_at, business()).unwrap();
            prop_assert_eq!(&notices[0].key, "scheduled");
            prop_assert_eq!(notices[0].send_at, scheduled_at);
            prop_assert!(notices.windows(2).all(|pair| pair[0].send_at <= pair[1].send_at));
            for notice in &notices[1..] {
                prop_assert!(notice.send_at >= scheduled_at);
                prop_assert!(notice.key != "scheduled");
                if notice.key.starts_with("before:") {
                    prop_assert!(notice.send_at > scheduled_at && notice.send_at < starts_at);
                    prop_assert!(!notice.late);
                }
            }
            let mut keys: Vec<&str> = notices.iter().map(|n| n.key.as_str()).collect();
            keys.sort_unstable();
            let count = keys.len();
            keys.dedup();
            prop_assert_eq!(keys.len(), count);
        }
    }

    // ---- feeds ----------------------------------------------------------------------

    /// Checks that `xml` is well formed as far as these feeds go: one root, tags nested and
    /// closed in order, attributes quoted, no raw `<` or `&` outside markup and entities.
    fn assert_well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
            .expect("declaration");
        let mut open: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = body;
        while let Some(lt) = rest.find('<') {
            check_text(&rest[..lt]);
            let gt = rest[lt..].find('>').expect("tag closed") + lt;
            let tag = &rest[lt + 1..gt];
            assert!(!tag.contains('<'), "{tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "closing {name}");
            } else {
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let (name, attributes) = tag.split_once(' ').unwrap_or((tag, ""));
                check_attributes(attributes);
                if open.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    open.push(name);
                }
            }
            rest = &rest[gt + 1..];
        }
        check_text(rest);
        assert!(open.is_empty(), "unclosed {open:?}");
        assert_eq!(roots, 1);
    }

    fn check_text(text: &str) {
        assert!(!text.contains('>'), "raw > in {text:?}");
        for (index, _) in text.match_indices('&') {
            let entity = &text[index..text[index..].find(';').expect("entity ends") + index + 1];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "{entity}"
            );
        }
    }

    fn check_attributes(attributes: &str) {
        let mut rest = attributes.trim();
        while !rest.is_empty() {
            let (name, value) = rest.split_once("=\"").expect("quoted attribute");
            assert!(!name.trim().is_empty() && !name.contains(' '));
            let end = value.find('"').expect("attribute closed");
            check_text(&value[..end]);
            rest = value[end + 1..].trim_start();
        }
    }

    fn sample_feed() -> Feed {
        Feed {
            title: "Status & Santé".into(),
            page_url: "https://status.example.org/?lang=en&x=1".into(),
            feed_url: "https://status.example.org/history.atom".into(),
            updated: ts("2026-05-10T12:30:45.5Z"),
            entries: vec![FeedEntry {
                id: "https://status.example.org/incidents/7".into(),
                title: "CCD Query <slow> \"again\"".into(),
                link: "https://status.example.org/incidents/7?a=1&b=2".into(),
                published: ts("2026-05-10T11:00:00Z"),
                updated: ts("2026-05-10T12:00:00Z"),
                html_summary: "<p>Messages are <b>queuing</b> ]]> &amp; more\u{1}</p>".into(),
            }],
        }
    }

    #[test]
    fn atom_feed_is_well_formed_and_escaped() {
        let xml = atom(&sample_feed());
        assert_well_formed(&xml);
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
        assert!(xml.contains("<title>Status &amp; Santé</title>"));
        assert!(xml.contains("<updated>2026-05-10T12:30:45Z</updated>"));
        assert!(xml.contains("<id>https://status.example.org/history.atom</id>"));
        assert!(xml.contains(
            "<link rel=\"self\" type=\"application/atom+xml\" \
             href=\"https://status.example.org/history.atom\"/>"
        ));
        assert!(xml.contains("href=\"https://status.example.org/?lang=en&amp;x=1\""));
        assert!(xml.contains("<id>https://status.example.org/incidents/7</id>"));
        assert!(xml.contains("<title>CCD Query &lt;slow&gt; &quot;again&quot;</title>"));
        assert!(xml.contains("<published>2026-05-10T11:00:00Z</published>"));
        assert!(xml.contains("<updated>2026-05-10T12:00:00Z</updated>"));
        assert!(xml.contains(
            "<summary type=\"html\">&lt;p&gt;Messages are &lt;b&gt;queuing&lt;/b&gt; ]]&gt; \
             &amp;amp; more&lt;/p&gt;</summary>"
        ));
        assert!(!xml.contains('\u{1}'));
        assert!(!xml.contains("CDATA"));
    }

    #[test]
    fn rss_feed_is_well_formed_and_escaped() {
        let xml = rss(&sample_feed());
        assert_well_formed(&xml);
        assert!(xml.contains("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">"));
        assert!(xml.contains("<lastBuildDate>Sun, 10 May 2026 12:30:45 +0000</lastBuildDate>"));
        assert!(
            xml.contains(
                "<guid isPermaLink=\"true\">https://status.example.org/incidents/7</guid>"
            )
        );
        assert!(xml.contains("<pubDate>Sun, 10 May 2026 11:00:00 +0000</pubDate>"));
        assert!(xml.contains("<link>https://status.example.org/incidents/7?a=1&amp;b=2</link>"));
        assert!(xml.contains("<description>&lt;p&gt;Messages are"));
        assert!(xml.contains(
            "<atom:link href=\"https://status.example.org/history.atom\" rel=\"self\" \
             type=\"application/rss+xml\"/>"
        ));
    }

    #[test]
    fn empty_feeds_are_well_formed() {
        let mut feed = sample_feed();
        feed.entries.clear();
        assert_well_formed(&atom(&feed));
        assert_well_formed(&rss(&feed));
    }

    #[test]
    fn xml_escaping_covers_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape_xml("a<b>&\"c'\u{0}\u{1F}\t\n\u{FFFE}é"),
            "a&lt;b&gt;&amp;&quot;c&apos;\t\né"
        );
    }

    fn event(uid: &str, status: MaintenanceStatus) -> MaintenanceEvent {
        MaintenanceEvent {
            uid: uid.into(),
            sequence: 2,
            summary: "HL7 processing".into(),
            description: "Upgrade".into(),
            url: "https://status.example.org/maintenances/42".into(),
            starts_at: ts("2026-05-30T06:00:00Z"),
            ends_at: ts("2026-05-30T08:00:00Z"),
            status,
            updated: ts("2026-05-20T13:14:15Z"),
        }
    }

    #[test]
    fn icalendar_exact_output() {
        let calendar = MaintenanceCalendar {
            name: "Triage maintenance".into(),
            entries: vec![
                event(
                    "maintenance-42@status.example.org",
                    MaintenanceStatus::Scheduled,
                ),
                event(
                    "maintenance-43@status.example.org",
                    MaintenanceStatus::Cancelled,
                ),
            ],
        };
        let expected = "BEGIN:VCALENDAR\r\n\
            PRODID:-//Triage//Status//EN\r\n\
            VERSION:2.0\r\n\
            CALSCALE:GREGORIAN\r\n\
            METHOD:PUBLISH\r\n\
            X-WR-CALNAME:Triage maintenance\r\n\
            BEGIN:VEVENT\r\n\
            UID:maintenance-42@status.example.org\r\n\
            SEQUENCE:2\r\n\
            DTSTAMP:20260520T131415Z\r\n\
            LAST-MODIFIED:20260520T131415Z\r\n\
            DTSTART:20260530T060000Z\r\n\
            DTEND:20260530T080000Z\r\n\
            SUMMARY:HL7 processing\r\n\
            DESCRIPTION:Upgrade\r\n\
            URL:https://status.example.org/maintenances/42\r\n\
            STATUS:CONFIRMED\r\n\
            END:VEVENT\r\n\
            BEGIN:VEVENT\r\n\
            UID:maintenance-43@status.example.org\r\n\
            SEQUENCE:2\r\n\
            DTSTAMP:20260520T131415Z\r\n\
            LAST-MODIFIED:20260520T131415Z\r\n\
            DTSTART:20260530T060000Z\r\n\
            DTEND:20260530T080000Z\r\n\
            SUMMARY:HL7 processing\r\n\
            DESCRIPTION:Upgrade\r\n\
            URL:https://status.example.org/maintenances/42\r\n\
            STATUS:CANCELLED\r\n\
            END:VEVENT\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(icalendar(&calendar), expected);
    }

    #[test]
    fn icalendar_text_is_escaped() {
        let mut maintenance = event("m-1@h", MaintenanceStatus::InProgress);
        maintenance.summary = "Viewer; access, passwords \\ tools".into();
        maintenance.description = "Line one\r\nLine two\nLine three\rend\u{7}".into();
        maintenance.url = "https://status.example.org/m?a=1,2;b".into();
        let text = icalendar(&MaintenanceCalendar {
            name: "A, B".into(),
            entries: vec![maintenance],
        });
        assert!(text.contains("\r\nX-WR-CALNAME:A\\, B\r\n"));
        assert!(text.contains("\r\nSUMMARY:Viewer\\; access\\, passwords \\\\ tools\r\n"));
        assert!(text.contains("\r\nDESCRIPTION:Line one\\nLine two\\nLine three\\nend\r\n"));
        assert!(text.contains("\r\nURL:https://status.example.org/m?a=1,2;b\r\n"));
        assert!(text.contains("\r\nSTATUS:CONFIRMED\r\n"));
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']));
    }

    #[test]
    fn long_french_lines_fold_at_75_octets_between_characters() {
        let mut maintenance = event("m-1@h", MaintenanceStatus::Scheduled);
        maintenance.description = "Mise à niveau du système de messagerie sécurisée : \
            l'accès au dossier médical électronique sera interrompu pendant la fenêtre \
            prévue, veuillez prévenir les équipes concernées é à è ç"
            .into();
        let text = icalendar(&MaintenanceCalendar {
            name: "Maintenances".into(),
            entries: vec![maintenance.clone()],
        });
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines.iter().all(|line| line.len() <= 75), "{lines:#?}");
        let start = lines
            .iter()
            .position(|line| line.starts_with("DESCRIPTION:"))
            .unwrap();
        let mut unfolded = lines[start].to_owned();
        let mut continuation = 0;
        for line in &lines[start + 1..] {
            match line.strip_prefix(' ') {
                Some(rest) => {
                    unfolded.push_str(rest);
                    continuation += 1;
                }
                None => break,
            }
        }
        assert!(continuation >= 2);
        assert_eq!(
            unfolded,
            format!("DESCRIPTION:{}", escape_ical_text(&maintenance.description))
        );
        // A two-octet character straddling octet 75 moves whole to the next line.
        let mut out = String::new();
        fold_content_line(&mut out, &format!("{}é{}", "a".repeat(74), "b".repeat(10)));
        assert_eq!(
            out,
            format!("{}\r\n é{}\r\n", "a".repeat(74), "b".repeat(10))
        );
        let mut out = String::new();
        fold_content_line(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
        let mut out = String::new();
        fold_content_line(&mut out, &"x".repeat(76 + 74));
        assert_eq!(
            out,
            format!("{}\r\n {}\r\n x\r\n", "x".repeat(75), "x".repeat(74))
        );
    }
}
