//! SLA clocks, derived from a ticket's history rather than kept as counters.
//!
//! Each ticket has a **response clock** and a **resolution clock**, measured in open time of
//! a calendar (see [`crate::due`]). Both are recomputed from the status history whenever they
//! are shown, so they are never out of step with the record.
//!
//! # Rules
//! - A clock **runs** while the ticket is open and not pending (`new`, `in_progress`),
//!   **pauses** while it is pending (`pending_customer`, `pending_vendor`, `pending_change`),
//!   and is **stopped** while it is `resolved`, `closed` or `cancelled`.
//! - The response clock also stops, for good, at the first public response by an agent.
//! - A reopen (`resolved` → `in_progress`) restarts the resolution clock from where it stopped:
//!   the time already used is kept, because used time is the sum over the whole history.
//! - Only the calendar's open time counts: running time outside open hours adds nothing.
//! - A priority change is handled by passing the *current* target: the due time follows from
//!   the new target and the time already used. When the change also changed the calendar,
//!   pass the earlier calendars ([`ClockInput::earlier_calendars`]) so that each stretch of
//!   the history is measured on the calendar then in force.
//!
//! # Due, met and breached
//! The **due** instant is the first instant at which the used open time reaches the target
//! (as in [`crate::due`]: a target used up at closing time is due at closing time; a target of
//! zero is due at the ticket's creation). A clock is **met** when it stops at or before its due
//! instant, and **breached** as soon as it goes on (running, or paused, or still waiting to be
//! stopped outside open hours) past its due instant. So stopping exactly at the due instant is
//! met; a business-hours ticket still open on Saturday morning whose target was used up on
//! Friday at 17:00 is breached even though no open time has passed since (its `used` equals the
//! target and `remaining` is zero). Once breached, a clock stays breached, paused or not; a
//! reopened ticket can turn a met resolution clock into a breached one.
//!
//! # Instants
//! Sub-second parts are dropped, as everywhere in due-time arithmetic. Status changes later
//! than `now` are ignored (the clock is evaluated *as of* `now`); a `now` earlier than the
//! creation is read as the creation instant.
use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize, Serializer};

use crate::calendar::{Calendar, CalendarError};
use crate::due::{add_open_time, open_time_between};
use crate::role::string_enum;
use crate::ticket::Status;

/// A share of a target, to the basis point (0.01 %): `0.75` is the default warning, `1.5` the
/// second escalation. Written as a fraction in policy files and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Share(u32);

impl Share {
    /// The whole target.
    pub const ONE: Share = Share(10_000);
    /// The largest share accepted from a fraction: a hundred times the target.
    pub const MAX: Share = Share(1_000_000);

    /// A share of `basis_points` ten-thousandths (7500 = 75 %).
    pub const fn from_basis_points(basis_points: u32) -> Self {
        Share(basis_points)
    }

    /// A fraction (`0.75`), rounded to the basis point; `None` when not finite, negative or
    /// above [`Share::MAX`].
    pub fn from_fraction(fraction: f64) -> Option<Self> {
        if !fraction.is_finite() || fraction < 0.0 {
            return None;
        }
        let basis_points = (fraction * 10_000.0).round();
        // Bounded just below, so the cast is exact.
        (basis_points <= f64::from(Share::MAX.0)).then_some(Share(basis_points as u32))
    }

    /// Ten-thousandths of the target.
    pub fn basis_points(self) -> u32 {
        self.0
    }

    /// The share as a fraction (`0.75`).
    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }

    /// The open time at which this share of `target` is reached, in whole seconds rounded up:
    /// the first whole second at which the used time is at least share × target.
    pub fn of(self, target: Duration) -> Duration {
        let product = u128::from(target.as_secs()) * u128::from(self.0);
        let seconds = product.div_ceil(10_000);
        Duration::from_secs(u64::try_from(seconds).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.0 / 100, self.0 % 100);
        if hundredths == 0 {
            write!(f, "{whole} %")
        } else {
            write!(f, "{whole}.{hundredths:02} %")
        }
    }
}

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_fraction())
    }
}

string_enum! {
    /// Whom an SLA notification goes to: the assignee and their support group (the
    /// warning), or the lead of the assigned group (escalations).
    Notify {
        AssigneeAndGroup = "assignee_and_group",
        GroupLead = "group_lead",
    }
}

/// One rung of the escalation ladder: notify `notify` when `at_share` of the target is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscalationStep {
    pub at_share: Share,
    pub notify: Notify,
}

/// When people hear about a clock: the assignee and group are warned at `warning_share`
/// (below 1), then each step escalates, in increasing order of share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationLadder {
    pub warning_share: Share,
    pub steps: Vec<EscalationStep>,
}

impl EscalationLadder {
    /// The default warning share, 75 %.
    pub const DEFAULT_WARNING_SHARE: Share = Share(7_500);
}

impl Default for EscalationLadder {
    /// Warn at 75 %; escalate to the group lead at 100 % (breach) and again at 150 %.
    fn default() -> Self {
        EscalationLadder {
            warning_share: Self::DEFAULT_WARNING_SHARE,
            steps: vec![
                EscalationStep {
                    at_share: Share::ONE,
                    notify: Notify::GroupLead,
                },
                EscalationStep {
                    at_share: Share(15_000),
                    notify: Notify::GroupLead,
                },
            ],
        }
    }
}

string_enum! {
    /// A clock's state, shown wherever the ticket appears:
    /// - `on_track`: running, below the warning share;
    /// - `at_risk`: running, with at least the warning share of the target used;
    /// - `breached`: went on past its due instant without stopping (stays so, even paused);
    /// - `paused`: pending (customer, vendor or change), not breached;
    /// - `met`: stopped at or before its due instant.
    SlaState {
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Breached = "breached",
        Paused = "paused",
        Met = "met",
    }
}

impl SlaState {
    /// Sort key for queues, most pressing first: breached, at risk, on track, paused, met.
    pub fn urgency_order(self) -> u8 {
        match self {
            SlaState::Breached => 0,
            SlaState::AtRisk => 1,
            SlaState::OnTrack => 2,
            SlaState::Paused => 3,
            SlaState::Met => 4,
        }
    }
}

string_enum! {
    /// Which of a ticket's two clocks: `response` runs until the first public response by an
    /// agent, `resolution` until the ticket is resolved (service requests: fulfilled).
    ClockKind {
        Response = "response",
        Resolution = "resolution",
    }
}

string_enum! {
    /// What a clock did during a segment of the history.
    SegmentKind {
        Running = "running",
        Paused = "paused",
        Stopped = "stopped",
    }
}

string_enum! {
    /// Why a clock is stopped.
    StopCause {
        FirstResponse = "first_response",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

/// A status change: from `at` on, the ticket has `status`. A history lists them in time
/// order, the first being the creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub at: Timestamp,
    pub status: Status,
}

impl StatusChange {
    pub fn new(at: Timestamp, status: Status) -> Self {
        Self { at, status }
    }
}

impl From<(Timestamp, Status)> for StatusChange {
    fn from((at, status): (Timestamp, Status)) -> Self {
        Self { at, status }
    }
}

/// A calendar that measured the clock before a priority change: from the end of the previous
/// earlier calendar (or the creation) until `until`.
#[derive(Debug, Clone, Copy)]
pub struct EarlierCalendar<'a> {
    pub calendar: &'a Calendar,
    pub until: Timestamp,
}

/// What a clock is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ClockInput<'a> {
    /// The calendar of the current priority.
    pub calendar: &'a Calendar,
    /// Calendars of earlier priorities, in time order, when a priority change changed the
    /// calendar; usually empty. Open time before the last `until` is measured on these,
    /// after it on `calendar`.
    pub earlier_calendars: &'a [EarlierCalendar<'a>],
    /// The current target as open time (see [`crate::due::target_open_time`]), whole seconds.
    pub target: Duration,
    /// The status history in time order; the first entry is the creation.
    pub history: &'a [StatusChange],
    /// The share of the target at which the clock is at risk (the policy's warning share).
    pub warning_share: Share,
    /// The instant of evaluation.
    pub now: Timestamp,
}

/// A stretch of the history in which the clock did one thing, for the explain panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockSegment {
    pub from: Timestamp,
    /// The end; `None` for the current segment, which lasts until the evaluation instant.
    pub to: Option<Timestamp>,
    pub kind: SegmentKind,
    /// The ticket's status during the segment.
    pub status: Status,
    /// The calendar measuring the segment.
    #[serde(serialize_with = "calendar_name")]
    pub calendar: Calendar,
    /// Open time of the calendar within the segment, counted or not.
    #[serde(serialize_with = "seconds")]
    pub open_time: Duration,
    /// Open time added to the clock: `open_time` when running, zero otherwise.
    #[serde(serialize_with = "seconds")]
    pub open_time_counted: Duration,
}

/// A clock evaluated at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockReport {
    pub clock: ClockKind,
    pub state: SlaState,
    /// The target as open time.
    #[serde(serialize_with = "seconds")]
    pub target: Duration,
    /// Open time used so far.
    #[serde(serialize_with = "seconds")]
    pub used: Duration,
    /// Target minus used: zero or negative once used up.
    #[serde(serialize_with = "signed_seconds")]
    pub remaining: SignedDuration,
    /// The first instant at which the target is (or was) used up. Running: projected from
    /// now; stopped before using it up: when it would have been due had it kept running;
    /// paused before using it up: `None` (see `due_if_resumed_now`).
    pub due: Option<Timestamp>,
    /// For a paused clock not yet due: the due instant if it resumed at the evaluation
    /// instant.
    pub due_if_resumed_now: Option<Timestamp>,
    /// The first instant at which the warning share is (or was) reached; projected when
    /// running, `None` when paused or stopped before reaching it.
    pub warn_at: Option<Timestamp>,
    /// The due instant, when the clock went on past it (state breached).
    pub breached_at: Option<Timestamp>,
    /// When stopped: the instant it last stopped.
    pub stopped_at: Option<Timestamp>,
    pub stop_cause: Option<StopCause>,
    /// The evaluation instant (`now`, or the creation if `now` was earlier).
    pub evaluated_at: Timestamp,
    /// The history as the clock saw it, in order, covering creation to the evaluation instant.
    pub segments: Vec<ClockSegment>,
}

/// A clock that cannot be computed. [`SlaError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    #[error("the status history is empty: its first entry is the ticket's creation")]
    EmptyHistory,
    #[error("status change {index} is earlier than the one before it")]
    HistoryOutOfOrder { index: usize },
    #[error("earlier calendar {index} ends before the one before it")]
    CalendarsOutOfOrder { index: usize },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl SlaError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SlaError::EmptyHistory => "empty_history",
            SlaError::HistoryOutOfOrder { .. } => "history_out_of_order",
            SlaError::CalendarsOutOfOrder { .. } => "calendars_out_of_order",
            SlaError::Calendar(error) => error.code(),
        }
    }

    /// The input at fault.
    pub fn field(&self) -> &'static str {
        match self {
            SlaError::EmptyHistory | SlaError::HistoryOutOfOrder { .. } => "history",
            SlaError::CalendarsOutOfOrder { .. } => "earlier_calendars",
            SlaError::Calendar(error) => error.field(),
        }
    }
}

/// The response clock: runs from creation while the ticket is open and not pending, until
/// the first public response by an agent (`first_public_response`; `None` if there is none
/// yet). A response before the creation counts as at the creation; one after `now` is
/// ignored.
pub fn response_clock(
    input: &ClockInput<'_>,
    first_public_response: Option<Timestamp>,
) -> Result<ClockReport, SlaError> {
    evaluate(ClockKind::Response, input, first_public_response)
}

/// The resolution clock: runs from creation while the ticket is open and not pending, stops
/// while it is resolved, closed or cancelled, and continues from the time used if it is
/// reopened.
///
/// ```
/// use std::time::Duration;
/// use domain::calendar::shipped_calendar;
/// use domain::sla::{ClockInput, EscalationLadder, SlaState, StatusChange, resolution_clock};
/// use domain::ticket::Status;
/// // A P3 logged Friday 16:30 with 12 h of business hours to restore.
/// let history = [StatusChange::new("2026-01-16T16:30:00-05:00".parse().unwrap(), Status::New)];
/// let report = resolution_clock(&ClockInput {
///     calendar: shipped_calendar("business").unwrap(),
///     earlier_calendars: &[],
///     target: Duration::from_secs(12 * 3600),
///     history: &history,
///     warning_share: EscalationLadder::DEFAULT_WARNING_SHARE,
///     now: "2026-01-16T16:45:00-05:00".parse().unwrap(),
/// })
/// .unwrap();
/// assert_eq!(report.state, SlaState::OnTrack);
/// assert_eq!(report.due.unwrap().to_string(), "2026-01-20T15:30:00Z"); // Tuesday 10:30 EST
/// ```
pub fn resolution_clock(input: &ClockInput<'_>) -> Result<ClockReport, SlaError> {
    evaluate(ClockKind::Resolution, input, None)
}

string_enum! {
    /// A notification on a clock's escalation ladder:
    /// - `warning`: the warning share is reached; tell the assignee and group;
    /// - `breach`: the target is used up (the due instant): the clock is breached from the
    ///   next instant unless it stops now. It has no recipient of its own: a ladder step at
    ///   100 % says whom to tell;
    /// - `escalation`: a step of the ladder.
    NotificationStep {
        Warning = "warning",
        Breach = "breach",
        Escalation = "escalation",
    }
}

/// A notification due at a future instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScheduledNotification {
    pub step: NotificationStep,
    /// For escalations, the rung (1 = first step of the ladder); 0 otherwise.
    pub level: u8,
    pub share: Share,
    pub notify: Option<Notify>,
    pub at: Timestamp,
}

/// The notifications still to come on a clock, in time order: the warning, the breach and
/// each escalation step whose share of the target has not been used yet, each at the first
/// instant the clock reaches it if it keeps running.
///
/// Only a running clock has any (a paused, stopped or met clock yields none). The instants
/// come from [`add_open_time`], so on a business-hours calendar each lies inside an open
/// interval or at its close, never in closed hours. They are projections from the current
/// history: recompute them whenever the history (status, first response, priority or
/// policy) changes, and send each step at most once per ticket and clock.
pub fn notification_schedule(
    report: &ClockReport,
    ladder: &EscalationLadder,
) -> Result<Vec<ScheduledNotification>, SlaError> {
    let Some(last) = report.segments.last() else {
        return Ok(Vec::new());
    };
    if last.kind != SegmentKind::Running || last.to.is_some() {
        return Ok(Vec::new());
    }
    let used = report.used.as_secs();
    let used_before = used.saturating_sub(last.open_time_counted.as_secs());
    let mut rungs = vec![
        (
            NotificationStep::Warning,
            0,
            ladder.warning_share,
            Some(Notify::AssigneeAndGroup),
        ),
        (NotificationStep::Breach, 0, Share::ONE, None),
    ];
    rungs.extend(ladder.steps.iter().enumerate().map(|(index, step)| {
        let level = u8::try_from(index + 1).unwrap_or(u8::MAX);
        (
            NotificationStep::Escalation,
            level,
            step.at_share,
            Some(step.notify),
        )
    }));
    let mut schedule = Vec::with_capacity(rungs.len());
    for (step, level, share, notify) in rungs {
        let threshold = share.of(report.target).as_secs();
        if threshold <= used {
            continue;
        }
        let at = add_open_time(
            &last.calendar,
            last.from,
            Duration::from_secs(threshold - used_before),
        )?;
        schedule.push(ScheduledNotification {
            step,
            level,
            share,
            notify,
            at,
        });
    }
    schedule.sort_by_key(|notification| notification.at);
    Ok(schedule)
}

/// What the clock does while the ticket has `status`.
fn segment_kind(status: Status) -> SegmentKind {
    if !status.is_open() {
        SegmentKind::Stopped
    } else if status.is_pending() {
        SegmentKind::Paused
    } else {
        SegmentKind::Running
    }
}

fn stop_cause(status: Status) -> Option<StopCause> {
    match status {
        Status::Resolved => Some(StopCause::Resolved),
        Status::Closed => Some(StopCause::Closed),
        Status::Cancelled => Some(StopCause::Cancelled),
        _ => None,
    }
}

/// A stretch of constant status (and clock kind) before it is measured.
struct Stretch {
    from: Timestamp,
    to: Option<Timestamp>,
    status: Status,
    kind: SegmentKind,
    cause: Option<StopCause>,
}

fn evaluate(
    clock: ClockKind,
    input: &ClockInput<'_>,
    final_stop: Option<Timestamp>,
) -> Result<ClockReport, SlaError> {
    let history = input.history;
    let first = history.first().ok_or(SlaError::EmptyHistory)?;
    for (index, pair) in history.windows(2).enumerate() {
        if pair[1].at < pair[0].at {
            return Err(SlaError::HistoryOutOfOrder { index: index + 1 });
        }
    }
    for (index, pair) in input.earlier_calendars.windows(2).enumerate() {
        if pair[1].until < pair[0].until {
            return Err(SlaError::CalendarsOutOfOrder { index: index + 1 });
        }
    }
    let created = first.at;
    let now = input.now.max(created);
    let final_stop = final_stop.map(|at| at.max(created)).filter(|&at| at <= now);

    let stretches = stretches(history, now, final_stop);
    let target = input.target.as_secs();
    let warn_threshold = input.warning_share.of(input.target).as_secs();
    let calendar_at = |at: Timestamp| -> &Calendar {
        input
            .earlier_calendars
            .iter()
            .find(|earlier| at < earlier.until)
            .map_or(input.calendar, |earlier| earlier.calendar)
    };

    // A zero target is used up at the creation; so is a zero warning threshold.
    let mut due_at = (target == 0).then_some(created);
    let mut warn_at = (warn_threshold == 0).then_some(created);
    let mut used = 0_u64;
    let mut segments = Vec::with_capacity(stretches.len() + 1);
    for stretch in &stretches {
        // Split the stretch where the measuring calendar changes.
        let end = stretch.to.unwrap_or(now);
        let mut from = stretch.from;
        loop {
            let calendar = calendar_at(from);
            let boundary = input
                .earlier_calendars
                .iter()
                .map(|earlier| earlier.until)
                .find(|&until| from < until && until < end);
            let piece_end = boundary.unwrap_or(end);
            let open_time = open_time_between(calendar, from, piece_end)?;
            let counted = if stretch.kind == SegmentKind::Running {
                let before = used;
                used += open_time.as_secs();
                for (threshold, reached) in [(target, &mut due_at), (warn_threshold, &mut warn_at)]
                {
                    if reached.is_none() && used >= threshold {
                        let rest = Duration::from_secs(threshold - before);
                        *reached = Some(add_open_time(calendar, from, rest)?);
                    }
                }
                open_time
            } else {
                Duration::ZERO
            };
            segments.push(ClockSegment {
                from,
                to: boundary.or(stretch.to),
                kind: stretch.kind,
                status: stretch.status,
                calendar: calendar.clone(),
                open_time,
                open_time_counted: counted,
            });
            match boundary {
                Some(boundary) => from = boundary,
                None => break,
            }
        }
    }

    // The trailing run of stopped segments: when and why the clock last stopped.
    let stop = stretches
        .iter()
        .rev()
        .take_while(|stretch| stretch.kind == SegmentKind::Stopped)
        .last()
        .map(|stretch| (stretch.from, stretch.cause));
    let current = stretches.last().map_or(SegmentKind::Running, |s| s.kind);
    let end = stop.map_or(now, |(at, _)| at);
    let breached = due_at.is_some_and(|due| due < end);
    let state = match current {
        SegmentKind::Stopped if breached => SlaState::Breached,
        SegmentKind::Stopped => SlaState::Met,
        _ if breached => SlaState::Breached,
        SegmentKind::Paused => SlaState::Paused,
        SegmentKind::Running if warn_at.is_some() => SlaState::AtRisk,
        SegmentKind::Running => SlaState::OnTrack,
    };

    let left = target.saturating_sub(used);
    let last = segments.last();
    // Project from the start of the current running segment, with the time used before it.
    let project = |threshold: u64| -> Result<Option<Timestamp>, SlaError> {
        match last {
            Some(segment) if segment.kind == SegmentKind::Running => {
                let before = used - segment.open_time_counted.as_secs();
                let rest = Duration::from_secs(threshold.saturating_sub(before));
                Ok(Some(add_open_time(&segment.calendar, segment.from, rest)?))
            }
            _ => Ok(None),
        }
    };
    let mut due_if_resumed_now = None;
    let due = match (due_at, current) {
        (Some(due), _) => Some(due),
        (None, SegmentKind::Running) => project(target)?,
        (None, SegmentKind::Paused) => {
            due_if_resumed_now = Some(add_open_time(
                calendar_at(now),
                now,
                Duration::from_secs(left),
            )?);
            None
        }
        (None, SegmentKind::Stopped) => match stop {
            Some((at, _)) => Some(add_open_time(
                calendar_at(at),
                at,
                Duration::from_secs(left),
            )?),
            None => None,
        },
    };
    let warn_at = match (warn_at, current) {
        (Some(warn), _) => Some(warn),
        (None, SegmentKind::Running) => project(warn_threshold)?,
        (None, _) => None,
    };
    let signed = |seconds: u64| i64::try_from(seconds).unwrap_or(i64::MAX);
    Ok(ClockReport {
        clock,
        state,
        target: Duration::from_secs(target),
        used: Duration::from_secs(used),
        remaining: SignedDuration::from_secs(signed(target) - signed(used)),
        due,
        due_if_resumed_now,
        warn_at,
        breached_at: if breached { due_at } else { None },
        stopped_at: stop.map(|(at, _)| at),
        stop_cause: stop.and_then(|(_, cause)| cause),
        evaluated_at: now,
        segments,
    })
}

/// The history up to `now` as stretches of constant status and clock kind, with the clock
/// stopped for good from `final_stop` on. Zero-length stretches are dropped, except the
/// current one.
fn stretches(
    history: &[StatusChange],
    now: Timestamp,
    final_stop: Option<Timestamp>,
) -> Vec<Stretch> {
    let mut stretches: Vec<Stretch> = Vec::with_capacity(history.len() + 1);
    let mut push = |from: Timestamp, status: Status, stopped_for_good: bool| {
        let kind = if stopped_for_good {
            SegmentKind::Stopped
        } else {
            segment_kind(status)
        };
        if let Some(last) = stretches.last_mut() {
            if last.status == status && last.kind == kind {
                return;
            }
            last.to = Some(from);
            if last.from == from {
                // Replaced in the same instant: drop it, and rejoin the one before if the
                // status comes back to it.
                stretches.pop();
                if let Some(before) = stretches.last_mut()
                    && before.status == status
                    && before.kind == kind
                {
                    before.to = None;
                    return;
                }
            }
        }
        let cause = match kind {
            SegmentKind::Stopped => stop_cause(status).or(Some(StopCause::FirstResponse)),
            _ => None,
        };
        stretches.push(Stretch {
            from,
            to: None,
            status,
            kind,
            cause,
        });
    };
    let mut pending_stop = final_stop;
    let mut status = Status::New;
    for change in history.iter().take_while(|change| change.at <= now) {
        if let Some(stop) = pending_stop
            && stop < change.at
        {
            push(stop, status, true);
            pending_stop = None;
        }
        status = change.status;
        push(
            change.at,
            status,
            pending_stop.is_none() && final_stop.is_some(),
        );
    }
    if let Some(stop) = pending_stop {
        push(stop, status, true);
    }
    stretches
}

pub(crate) fn seconds<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

fn signed_seconds<S: Serializer>(
    duration: &SignedDuration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(duration.as_secs())
}

pub(crate) fn calendar_name<S: Serializer>(
    calendar: &Calendar,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(calendar.name())
}

/// How a clock is stored between changes: what it was doing at the last change of the
/// ticket's history. Whether a running clock is at risk or breached depends on the time of
/// the question, so those are not stored: see [`state_at`].
pub fn stored_clock(report: &ClockReport) -> &'static str {
    let running = report
        .segments
        .last()
        .is_some_and(|segment| segment.kind == SegmentKind::Running);
    match (running, report.state) {
        (true, _) => "running",
        (false, SlaState::Met) => "met",
        (false, SlaState::Breached) => "breached",
        (false, _) => "paused",
    }
}

/// The state at `now` of a clock stored as [`stored_clock`] with its due and warning
/// instants; `None` for a ticket without an SLA. The same rules as [`resolution_clock`]: a
/// running clock is at risk from its warning instant and through its due instant, breached
/// after it.
pub fn state_at(
    clock: &str,
    due: Option<Timestamp>,
    warn_at: Option<Timestamp>,
    now: Timestamp,
) -> Option<SlaState> {
    match clock {
        "running" => Some(match (due, warn_at) {
            (Some(due), _) if now > due => SlaState::Breached,
            (_, Some(warn)) if now >= warn => SlaState::AtRisk,
            _ => SlaState::OnTrack,
        }),
        "paused" => Some(SlaState::Paused),
        "met" => Some(SlaState::Met),
        "breached" => Some(SlaState::Breached),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::shipped_calendar;
    use crate::due::is_open_at;
    use proptest::prelude::*;

    /// A wall-clock time in Toronto in January 2026 (EST), `"2026-01-16 16:30"`.
    fn est(text: &str) -> Timestamp {
        format!("{}:00-05:00", text.replace(' ', "T"))
            .parse()
            .unwrap()
    }

    fn business() -> &'static Calendar {
        shipped_calendar("business").unwrap()
    }

    fn always() -> &'static Calendar {
        shipped_calendar("24x7").unwrap()
    }

    fn hours(n: u64) -> Duration {
        Duration::from_secs(n * 3600)
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    fn history(changes: &[(&str, Status)]) -> Vec<StatusChange> {
        changes
            .iter()
            .map(|&(at, status)| StatusChange::new(est(at), status))
            .collect()
    }

    fn input<'a>(
        calendar: &'a Calendar,
        target: Duration,
        history: &'a [StatusChange],
        now: &str,
    ) -> ClockInput<'a> {
        ClockInput {
            calendar,
            earlier_calendars: &[],
            target,
            history,
            warning_share: EscalationLadder::DEFAULT_WARNING_SHARE,
            now: est(now),
        }
    }

    fn resolution(
        calendar: &Calendar,
        target: Duration,
        history: &[StatusChange],
        now: &str,
    ) -> ClockReport {
        resolution_clock(&input(calendar, target, history, now)).unwrap()
    }

    #[test]
    fn a_business_hours_clock_runs_only_in_open_hours() {
        // The spec's example: a P3 logged Friday 16:30 with 12 h to restore is due Tuesday
        // 10:30 (0.5 h Friday + 9 h Monday + 2.5 h Tuesday).
        let changes = history(&[("2026-01-16 16:30", Status::New)]);
        let report = resolution(business(), hours(12), &changes, "2026-01-16 16:45");
        assert_eq!(report.state, SlaState::OnTrack);
        assert_eq!(report.due, Some(est("2026-01-20 10:30")));
        assert_eq!(report.used, minutes(15));
        assert_eq!(report.remaining, SignedDuration::from_mins(11 * 60 + 45));
        // 75 % of 12 h = 9 h: 0.5 h Friday + 8.5 h Monday.
        assert_eq!(report.warn_at, Some(est("2026-01-19 16:30")));
        assert_eq!(report.breached_at, None);
        assert_eq!(report.stopped_at, None);
        assert_eq!(report.segments.len(), 1);
        assert_eq!(report.segments[0].kind, SegmentKind::Running);
        assert_eq!(report.segments[0].to, None);
        // Over the weekend nothing is used.
        let saturday = resolution(business(), hours(12), &changes, "2026-01-17 12:00");
        assert_eq!(saturday.used, minutes(30));
        assert_eq!(saturday.due, report.due);
    }

    #[test]
    fn a_pause_moves_the_due_time_by_the_open_time_paused() {
        let unpaused = history(&[("2026-01-16 16:30", Status::New)]);
        let due_unpaused = resolution(business(), hours(12), &unpaused, "2026-01-16 16:45")
            .due
            .unwrap();
        let changes = history(&[
            ("2026-01-16 16:30", Status::New),
            ("2026-01-19 09:00", Status::InProgress),
            ("2026-01-19 10:00", Status::PendingCustomer),
            ("2026-01-21 10:00", Status::InProgress),
        ]);
        // While paused: no due time, but the one it would have on resuming now.
        let paused = resolution(business(), hours(12), &changes, "2026-01-20 12:00");
        assert_eq!(paused.state, SlaState::Paused);
        assert_eq!(paused.due, None);
        assert_eq!(paused.warn_at, None);
        assert_eq!(paused.used, minutes(150));
        assert_eq!(paused.due_if_resumed_now, Some(est("2026-01-21 12:30")));
        // Back in progress: Monday 10:00 to Wednesday 10:00 held 7 + 9 + 2 = 18 h of open time.
        let report = resolution(business(), hours(12), &changes, "2026-01-21 11:00");
        assert_eq!(report.state, SlaState::OnTrack);
        let paused_segment = &report.segments[2];
        assert_eq!(paused_segment.kind, SegmentKind::Paused);
        assert_eq!(paused_segment.status, Status::PendingCustomer);
        assert_eq!(paused_segment.open_time, hours(18));
        assert_eq!(paused_segment.open_time_counted, Duration::ZERO);
        let moved = add_open_time(business(), due_unpaused, paused_segment.open_time).unwrap();
        assert_eq!(report.due, Some(moved));
        assert_eq!(report.due, Some(est("2026-01-22 10:30")));
        assert_eq!(report.due_if_resumed_now, None);
        let kinds: Vec<(SegmentKind, Status)> = report
            .segments
            .iter()
            .map(|segment| (segment.kind, segment.status))
            .collect();
        assert_eq!(
            kinds,
            [
                (SegmentKind::Running, Status::New),
                (SegmentKind::Running, Status::InProgress),
                (SegmentKind::Paused, Status::PendingCustomer),
                (SegmentKind::Running, Status::InProgress),
            ]
        );
        let counted: Duration = report.segments.iter().map(|s| s.open_time_counted).sum();
        assert_eq!(counted, report.used);
    }

    #[test]
    fn a_reopen_continues_from_the_time_used() {
        let mut changes = history(&[
            ("2026-01-16 10:00", Status::New),
            ("2026-01-16 11:00", Status::Resolved),
            ("2026-01-16 15:00", Status::InProgress),
        ]);
        let met = resolution(always(), hours(2), &changes[..2], "2026-01-16 11:30");
        assert_eq!(met.state, SlaState::Met);
        assert_eq!(met.used, hours(1));
        assert_eq!(met.stopped_at, Some(est("2026-01-16 11:00")));
        assert_eq!(met.stop_cause, Some(StopCause::Resolved));
        // Had it kept running, it would have been due at 12:00.
        assert_eq!(met.due, Some(est("2026-01-16 12:00")));
        assert_eq!(met.warn_at, None);

        let reopened = resolution(always(), hours(2), &changes, "2026-01-16 15:30");
        assert_eq!(reopened.used, minutes(90));
        assert_eq!(reopened.due, Some(est("2026-01-16 16:00")));
        assert_eq!(reopened.warn_at, Some(est("2026-01-16 15:30")));
        assert_eq!(reopened.state, SlaState::AtRisk);
        assert_eq!(reopened.stopped_at, None);

        changes.push(StatusChange::new(est("2026-01-16 17:00"), Status::Resolved));
        changes.push(StatusChange::new(est("2026-01-16 18:00"), Status::Closed));
        let late = resolution(always(), hours(2), &changes, "2026-01-16 19:00");
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.breached_at, Some(est("2026-01-16 16:00")));
        assert_eq!(late.used, hours(3));
        assert_eq!(late.remaining, SignedDuration::from_hours(-1));
        // It last stopped at the resolution; closing does not move that.
        assert_eq!(late.stopped_at, Some(est("2026-01-16 17:00")));
        assert_eq!(late.stop_cause, Some(StopCause::Resolved));
    }

    #[test]
    fn the_response_clock_stops_at_the_first_public_response() {
        let changes = history(&[
            ("2026-01-19 09:00", Status::New),
            ("2026-01-19 09:30", Status::PendingCustomer),
            ("2026-01-19 10:30", Status::InProgress),
            ("2026-01-19 12:00", Status::Resolved),
            ("2026-01-19 13:00", Status::InProgress),
        ]);
        let clock = input(business(), hours(2), &changes, "2026-01-19 14:00");
        let report = response_clock(&clock, Some(est("2026-01-19 11:00"))).unwrap();
        assert_eq!(report.clock, ClockKind::Response);
        assert_eq!(report.state, SlaState::Met);
        assert_eq!(report.used, hours(1));
        assert_eq!(report.stopped_at, Some(est("2026-01-19 11:00")));
        assert_eq!(report.stop_cause, Some(StopCause::FirstResponse));
        // Later status changes leave it stopped.
        assert!(
            report
                .segments
                .iter()
                .filter(|segment| segment.from >= est("2026-01-19 11:00"))
                .all(|segment| segment.kind == SegmentKind::Stopped)
        );
        assert_eq!(report.segments.last().unwrap().status, Status::InProgress);

        // No response yet: it runs, paused while pending.
        let clock = input(business(), hours(2), &changes, "2026-01-19 11:00");
        let running = response_clock(&clock, None).unwrap();
        assert_eq!(running.state, SlaState::OnTrack);
        assert_eq!(running.used, hours(1));
        assert_eq!(running.due, Some(est("2026-01-19 12:00")));
        // A response after `now` has not happened yet.
        let future = response_clock(&clock, Some(est("2026-01-19 11:30"))).unwrap();
        assert_eq!(future, running);
        // A response stamped before the creation counts as at the creation.
        let early = response_clock(&clock, Some(est("2026-01-19 08:59"))).unwrap();
        assert_eq!(early.state, SlaState::Met);
        assert_eq!(early.used, Duration::ZERO);
        assert_eq!(early.stopped_at, Some(est("2026-01-19 09:00")));
        assert!(
            early
                .segments
                .iter()
                .all(|segment| segment.kind == SegmentKind::Stopped)
        );

        // Resolved without a response: the clock stops at the resolution and stays stopped
        // after a later response, whatever happens next.
        let changes = history(&[
            ("2026-01-19 09:00", Status::New),
            ("2026-01-19 09:30", Status::Resolved),
            ("2026-01-19 10:30", Status::InProgress),
        ]);
        let clock = input(business(), hours(2), &changes, "2026-01-19 11:00");
        let report = response_clock(&clock, Some(est("2026-01-19 10:00"))).unwrap();
        assert_eq!(report.state, SlaState::Met);
        assert_eq!(report.used, minutes(30));
        assert_eq!(report.stopped_at, Some(est("2026-01-19 09:30")));
        assert_eq!(report.stop_cause, Some(StopCause::Resolved));
    }

    #[test]
    fn at_risk_and_breached_begin_at_the_right_instants() {
        let changes = history(&[("2026-01-16 16:30", Status::New)]);
        let state_at = |now: &str| resolution(business(), hours(12), &changes, now);
        assert_eq!(state_at("2026-01-19 16:29").state, SlaState::OnTrack);
        let warned = state_at("2026-01-19 16:30");
        assert_eq!(warned.state, SlaState::AtRisk);
        assert_eq!(warned.warn_at, Some(est("2026-01-19 16:30")));
        // At the due instant itself the clock is used up but not yet breached.
        let at_due = state_at("2026-01-20 10:30");
        assert_eq!(at_due.state, SlaState::AtRisk);
        assert_eq!(at_due.remaining, SignedDuration::ZERO);
        assert_eq!(at_due.breached_at, None);
        let mut after = input(business(), hours(12), &changes, "2026-01-20 10:30");
        after.now = est("2026-01-20 10:30") + SignedDuration::from_secs(1);
        let breached = resolution_clock(&after).unwrap();
        assert_eq!(breached.state, SlaState::Breached);
        assert_eq!(breached.breached_at, Some(est("2026-01-20 10:30")));
        assert_eq!(breached.due, Some(est("2026-01-20 10:30")));
        assert_eq!(breached.remaining, SignedDuration::from_secs(-1));
        // Once breached, a pause does not hide it.
        let mut paused = changes.clone();
        paused.push(StatusChange::new(
            est("2026-01-20 11:00"),
            Status::PendingVendor,
        ));
        let report = resolution(business(), hours(12), &paused, "2026-01-20 12:00");
        assert_eq!(report.state, SlaState::Breached);
    }

    #[test]
    fn stopping_exactly_at_due_is_met() {
        let resolved_at = |at: &str| {
            let changes = history(&[("2026-01-16 16:30", Status::New), (at, Status::Resolved)]);
            resolution(business(), hours(12), &changes, "2026-01-21 09:00")
        };
        let on_time = resolved_at("2026-01-20 10:30");
        assert_eq!(on_time.state, SlaState::Met);
        assert_eq!(on_time.remaining, SignedDuration::ZERO);
        assert_eq!(on_time.due, Some(est("2026-01-20 10:30")));
        assert_eq!(on_time.breached_at, None);
        let mut changes = history(&[("2026-01-16 16:30", Status::New)]);
        changes.push(StatusChange::new(
            est("2026-01-20 10:30") + SignedDuration::from_secs(1),
            Status::Resolved,
        ));
        let late = resolution(business(), hours(12), &changes, "2026-01-21 09:00");
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.breached_at, Some(est("2026-01-20 10:30")));
    }

    #[test]
    fn a_clock_left_running_past_a_closing_due_time_is_breached() {
        // Mon 08:00 + 9 h is due Mon 17:00, at closing.
        let changes = history(&[("2026-01-19 08:00", Status::InProgress)]);
        let evening = resolution(business(), hours(9), &changes, "2026-01-19 18:00");
        assert_eq!(evening.due, Some(est("2026-01-19 17:00")));
        assert_eq!(evening.used, hours(9));
        assert_eq!(evening.remaining, SignedDuration::ZERO);
        assert_eq!(evening.state, SlaState::Breached);
        assert_eq!(evening.breached_at, Some(est("2026-01-19 17:00")));
        let stopped = |at: &str| {
            let mut changes = changes.clone();
            changes.push(StatusChange::new(est(at), Status::Resolved));
            resolution(business(), hours(9), &changes, "2026-01-20 09:00").state
        };
        assert_eq!(stopped("2026-01-19 17:00"), SlaState::Met);
        assert_eq!(stopped("2026-01-19 17:30"), SlaState::Breached);
    }

    #[test]
    fn a_priority_change_measures_the_new_target_against_the_time_used() {
        // Logged Monday 08:00; by Tuesday 10:00, 11 h of business hours are used.
        let changes = history(&[("2026-01-19 08:00", Status::New)]);
        let with_target = |target| resolution(business(), target, &changes, "2026-01-20 10:00");
        let p4 = with_target(hours(18));
        assert_eq!(p4.used, hours(11));
        assert_eq!(p4.due, Some(est("2026-01-20 17:00")));
        assert_eq!(p4.state, SlaState::OnTrack);
        let p3 = with_target(hours(12));
        assert_eq!(p3.due, Some(est("2026-01-20 11:00")));
        assert_eq!(p3.state, SlaState::AtRisk);
        // A target already used up: breached since the instant it was.
        let shorter = with_target(hours(10));
        assert_eq!(shorter.state, SlaState::Breached);
        assert_eq!(shorter.breached_at, Some(est("2026-01-20 09:00")));

        // Logged Friday 18:00 as a business-hours P4, raised to a 24x7 P1 on Monday 09:00:
        // the weekend was closed under the P4's calendar.
        let changes = history(&[("2026-01-16 18:00", Status::New)]);
        let earlier = [EarlierCalendar {
            calendar: business(),
            until: est("2026-01-19 09:00"),
        }];
        let mut clock = input(always(), hours(2), &changes, "2026-01-19 09:30");
        clock.earlier_calendars = &earlier;
        let report = resolution_clock(&clock).unwrap();
        assert_eq!(report.used, minutes(90));
        assert_eq!(report.due, Some(est("2026-01-19 10:00")));
        assert_eq!(report.state, SlaState::AtRisk);
        let calendars: Vec<(&str, Duration)> = report
            .segments
            .iter()
            .map(|segment| (segment.calendar.name(), segment.open_time_counted))
            .collect();
        assert_eq!(calendars, [("business", hours(1)), ("24x7", minutes(30))]);
        assert_eq!(report.segments[0].to, Some(est("2026-01-19 09:00")));
        // Measured on 24x7 throughout, the weekend would count.
        clock.earlier_calendars = &[];
        let whole = resolution_clock(&clock).unwrap();
        assert_eq!(whole.used, minutes(63 * 60 + 30));
        assert_eq!(whole.state, SlaState::Breached);
    }

    #[test]
    fn notifications_are_scheduled_on_the_running_clock() {
        let changes = history(&[("2026-01-16 16:30", Status::New)]);
        let ladder = EscalationLadder::default();
        let schedule = |now: &str| {
            let report = resolution(business(), hours(12), &changes, now);
            notification_schedule(&report, &ladder).unwrap()
        };
        let steps: Vec<(NotificationStep, u8, Option<Notify>, Timestamp)> =
            schedule("2026-01-16 16:45")
                .into_iter()
                .map(|n| (n.step, n.level, n.notify, n.at))
                .collect();
        assert_eq!(
            steps,
            [
                (
                    NotificationStep::Warning,
                    0,
                    Some(Notify::AssigneeAndGroup),
                    est("2026-01-19 16:30")
                ),
                (NotificationStep::Breach, 0, None, est("2026-01-20 10:30")),
                (
                    NotificationStep::Escalation,
                    1,
                    Some(Notify::GroupLead),
                    est("2026-01-20 10:30")
                ),
                // 150 % = 18 h: 0.5 h Friday + 9 h Monday + 8.5 h Tuesday.
                (
                    NotificationStep::Escalation,
                    2,
                    Some(Notify::GroupLead),
                    est("2026-01-20 16:30")
                ),
            ]
        );
        // Steps already reached are not repeated.
        let later: Vec<NotificationStep> = schedule("2026-01-20 09:00")
            .into_iter()
            .map(|n| n.step)
            .collect();
        assert_eq!(
            later,
            [
                NotificationStep::Breach,
                NotificationStep::Escalation,
                NotificationStep::Escalation
            ]
        );
        assert_eq!(schedule("2026-01-20 12:00").len(), 1);
        assert!(schedule("2026-01-21 09:00").is_empty());
        // Paused or stopped clocks have none.
        let paused = history(&[
            ("2026-01-16 16:30", Status::New),
            ("2026-01-19 09:00", Status::PendingChange),
        ]);
        let report = resolution(business(), hours(12), &paused, "2026-01-19 10:00");
        assert!(notification_schedule(&report, &ladder).unwrap().is_empty());
        let resolved = history(&[
            ("2026-01-16 16:30", Status::New),
            ("2026-01-19 09:00", Status::Resolved),
        ]);
        let report = resolution(business(), hours(12), &resolved, "2026-01-19 10:00");
        assert!(notification_schedule(&report, &ladder).unwrap().is_empty());
    }

    #[test]
    fn a_zero_target_is_due_at_creation() {
        // "Immediately": met only by a response in the creation's second.
        let changes = history(&[("2026-01-17 03:00", Status::New)]);
        let clock = input(always(), Duration::ZERO, &changes, "2026-01-17 03:10");
        let met = response_clock(&clock, Some(est("2026-01-17 03:00"))).unwrap();
        assert_eq!(met.state, SlaState::Met);
        let late = response_clock(&clock, Some(est("2026-01-17 03:01"))).unwrap();
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.breached_at, Some(est("2026-01-17 03:00")));
        let clock = input(always(), Duration::ZERO, &changes, "2026-01-17 03:00");
        let now = response_clock(&clock, None).unwrap();
        assert_eq!(now.state, SlaState::AtRisk);
        assert_eq!(now.due, Some(est("2026-01-17 03:00")));
    }

    #[test]
    fn the_clock_is_evaluated_as_of_now() {
        let changes = history(&[
            ("2026-01-19 09:00", Status::New),
            ("2026-01-19 10:00", Status::Resolved),
        ]);
        let before = resolution(business(), hours(4), &changes, "2026-01-19 09:30");
        assert_eq!(before.state, SlaState::OnTrack);
        assert_eq!(before.used, minutes(30));
        assert_eq!(before.segments.len(), 1);
        let early = resolution(business(), hours(4), &changes, "2026-01-19 08:00");
        assert_eq!(early.evaluated_at, est("2026-01-19 09:00"));
        assert_eq!(early.used, Duration::ZERO);
        assert_eq!(early.due, Some(est("2026-01-19 13:00")));
    }

    #[test]
    fn changes_in_the_same_instant_leave_one_segment() {
        let changes = history(&[
            ("2026-01-19 09:00", Status::New),
            ("2026-01-19 09:00", Status::InProgress),
            ("2026-01-19 10:00", Status::PendingCustomer),
            ("2026-01-19 10:00", Status::InProgress),
            ("2026-01-19 10:30", Status::InProgress),
        ]);
        let report = resolution(business(), hours(4), &changes, "2026-01-19 11:00");
        assert_eq!(report.segments.len(), 1);
        assert_eq!(report.segments[0].status, Status::InProgress);
        assert_eq!(report.segments[0].from, est("2026-01-19 09:00"));
        assert_eq!(report.used, hours(2));
        // A change exactly at `now` is in force; a zero-length current segment is kept.
        let report = resolution(business(), hours(4), &changes[..3], "2026-01-19 10:00");
        assert_eq!(report.state, SlaState::Paused);
        assert_eq!(
            report.segments.last().unwrap().from,
            est("2026-01-19 10:00")
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_code() {
        let clock = input(business(), hours(4), &[], "2026-01-19 09:30");
        let error = resolution_clock(&clock).unwrap_err();
        assert_eq!((error.code(), error.field()), ("empty_history", "history"));
        let changes = history(&[
            ("2026-01-19 09:00", Status::New),
            ("2026-01-19 10:00", Status::InProgress),
            ("2026-01-19 08:00", Status::Resolved),
        ]);
        let clock = input(business(), hours(4), &changes, "2026-01-19 11:00");
        let error = resolution_clock(&clock).unwrap_err();
        assert_eq!(error, SlaError::HistoryOutOfOrder { index: 2 });
        assert_eq!(error.code(), "history_out_of_order");
        let earlier = [
            EarlierCalendar {
                calendar: business(),
                until: est("2026-01-19 10:00"),
            },
            EarlierCalendar {
                calendar: business(),
                until: est("2026-01-19 09:30"),
            },
        ];
        let mut clock = input(always(), hours(4), &changes[..2], "2026-01-19 11:00");
        clock.earlier_calendars = &earlier;
        let error = resolution_clock(&clock).unwrap_err();
        assert_eq!(error.code(), "calendars_out_of_order");
        let mut clock = input(always(), hours(4), &changes[..2], "2026-01-19 11:00");
        clock.target = Duration::from_secs(u64::MAX);
        assert_eq!(
            resolution_clock(&clock).unwrap_err().code(),
            "target_too_large"
        );
    }

    #[test]
    fn reports_serialize_in_seconds() {
        let changes = history(&[("2026-01-16 16:30", Status::New)]);
        let report = resolution(business(), hours(12), &changes, "2026-01-16 16:45");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["state"], "on_track");
        assert_eq!(json["clock"], "resolution");
        assert_eq!(json["target"], 43_200);
        assert_eq!(json["used"], 900);
        assert_eq!(json["remaining"], 42_300);
        assert_eq!(json["due"], "2026-01-20T15:30:00Z");
        assert_eq!(json["segments"][0]["calendar"], "business");
        assert_eq!(json["segments"][0]["to"], serde_json::Value::Null);
        assert_eq!(SlaState::Breached.urgency_order(), 0);
        assert_eq!(Share::from_fraction(0.755).unwrap().to_string(), "75.50 %");
        assert_eq!(Share::ONE.to_string(), "100 %");
    }

    #[test]
    fn shares_round_up_to_the_second() {
        let share = Share::from_fraction(0.75).unwrap();
        assert_eq!(share.basis_points(), 7500);
        assert_eq!(share.of(Duration::from_secs(10)), Duration::from_secs(8));
        assert_eq!(share.of(hours(12)), hours(9));
        assert_eq!(Share::ONE.of(minutes(20)), minutes(20));
        assert_eq!(Share::from_fraction(1.5).unwrap().of(hours(2)), hours(3));
        assert_eq!(Share::from_fraction(f64::NAN), None);
        assert_eq!(Share::from_fraction(-0.1), None);
        assert_eq!(Share::from_fraction(101.0), None);
    }

    const STATUSES: [Status; 6] = [
        Status::New,
        Status::InProgress,
        Status::PendingCustomer,
        Status::PendingVendor,
        Status::Resolved,
        Status::InProgress,
    ];

    /// 2026-01-01T00:00:00Z.
    const YEAR_START: i64 = 1_767_225_600;

    fn arbitrary_history(start: i64, gaps: &[(i64, usize)]) -> Vec<StatusChange> {
        let mut at = YEAR_START + start;
        let mut changes = vec![StatusChange::new(
            Timestamp::from_second(at).unwrap(),
            Status::New,
        )];
        for &(gap, status) in gaps {
            at += gap;
            changes.push(StatusChange::new(
                Timestamp::from_second(at).unwrap(),
                STATUSES[status],
            ));
        }
        changes
    }

    proptest! {
        #[test]
        fn business_hours_instants_are_never_outside_open_hours(
            start in 0_i64..366 * 86_400,
            target_minutes in 1_u64..6_000,
            share in 1_u32..10_000,
            gaps in proptest::collection::vec((0_i64..300_000, 0_usize..6), 0..6),
            after in 0_i64..3_000_000,
        ) {
            let changes = arbitrary_history(start, &gaps);
            let now = changes.last().unwrap().at + SignedDuration::from_secs(after);
            let clock = ClockInput {
                calendar: business(),
                earlier_calendars: &[],
                target: minutes(target_minutes),
                history: &changes,
                warning_share: Share::from_basis_points(share),
                now,
            };
            let report = resolution_clock(&clock).unwrap();
            let open_just_before = |at: Timestamp| {
                is_open_at(business(), at - SignedDuration::from_secs(1)).unwrap()
            };
            // Every instant derived from open time ends an open second: never 00:00, never a
            // weekend, never after closing.
            for instant in [report.due, report.warn_at, report.breached_at, report.due_if_resumed_now]
                .into_iter()
                .flatten()
            {
                prop_assert!(open_just_before(instant), "{instant} {report:#?}");
            }
            let ladder = EscalationLadder {
                warning_share: Share::from_basis_points(share),
                ..EscalationLadder::default()
            };
            let schedule = notification_schedule(&report, &ladder).unwrap();
            for notification in &schedule {
                prop_assert!(notification.at > report.evaluated_at);
                prop_assert!(open_just_before(notification.at), "{notification:?}");
            }
            prop_assert!(schedule.windows(2).all(|pair| pair[0].at <= pair[1].at));
            // Used time is the counted open time of the running segments, and the segments
            // tile the history.
            let counted: Duration = report.segments.iter().map(|s| s.open_time_counted).sum();
            prop_assert_eq!(counted, report.used);
            for pair in report.segments.windows(2) {
                prop_assert_eq!(pair[0].to, Some(pair[1].from));
            }
            prop_assert_eq!(report.segments.last().unwrap().to, None);
            // States agree with the numbers.
            let current = report.segments.last().unwrap().kind;
            match report.state {
                SlaState::Met => prop_assert!(current == SegmentKind::Stopped && report.breached_at.is_none()),
                SlaState::Breached => prop_assert!(report.breached_at.is_some() && report.used >= report.target),
                SlaState::Paused => prop_assert!(current == SegmentKind::Paused && report.used <= report.target),
                SlaState::AtRisk => prop_assert!(current == SegmentKind::Running && report.used <= report.target),
                SlaState::OnTrack => prop_assert!(current == SegmentKind::Running && report.used < report.target),
            }
            if current == SegmentKind::Running {
                prop_assert_eq!(schedule.is_empty(), report.used >= Share::from_basis_points(15_000).of(report.target));
            } else {
                prop_assert!(schedule.is_empty());
            }
            if let (Some(warn), Some(due)) = (report.warn_at, report.due) {
                prop_assert!(warn <= due);
            }
        }
    }
}
