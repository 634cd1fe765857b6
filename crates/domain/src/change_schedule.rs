//! When a change may happen: the CAB calendar and its submission deadline, lead times by
//! impact, notice rules, standing maintenance windows, change freezes, the checks made
//! before CAB (conflicts) and when booking a change, and the change calendar's iCalendar
//! export. All of it is set by the policy pack's `[change]` section ([`ChangePolicy`]); the
//! defaults are the specification's (itil.md "CAB calendar and deadlines").
use std::fmt::Write as _;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;

use crate::calendar::{Calendar, CalendarError, DayOfWeek, WallTime};
use crate::change::{ChangeOrigin, ChangeType};
use crate::due::{day_schedule, is_open_at};
use crate::error::DomainError;
use crate::major_incident::end_of_business_days_after;
use crate::problem::labelled_enum;
use crate::text::Locale;

/// Longest walk in days when looking for a meeting or window (about three years).
const MAX_DAYS_SEARCHED: i64 = 1100;

/// The weekly CAB and its submission deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CabSchedule {
    pub weekday: DayOfWeek,
    pub start: WallTime,
    pub end: WallTime,
    /// When approval notices go out on the meeting's day.
    pub approvals_at: WallTime,
    pub deadline_weekday: DayOfWeek,
    pub deadline_time: WallTime,
}

/// How much notice a change must give, in business days or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "unit", content = "count", rename_all = "snake_case")]
pub enum NoticePeriod {
    BusinessDays(u32),
    CalendarDays(u32),
}

/// The notice rules, by who tells whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoticeRules {
    /// The operator tells partners of changes that may affect users or partner-owned items.
    pub operator_to_partners: NoticePeriod,
    /// Partners tell the operator of changes to items they own.
    pub partner_to_operator: NoticePeriod,
    /// A regional exchange asks its contributors for this much.
    pub exchange: NoticePeriod,
}

labelled_enum! {
    /// Which notice rule an RFC is held to.
    NoticeRule ("notice rule") {
        None = "none" => ("No notice required", "Aucun préavis requis"),
        OperatorToPartners = "operator_to_partners"
            => ("Operator to partners", "De l'exploitant aux partenaires"),
        PartnerToOperator = "partner_to_operator"
            => ("Partner to operator", "Du partenaire à l'exploitant"),
        Exchange = "exchange" => ("Regional exchange contributors", "Contributeurs d'un échange régional"),
    }
}

impl NoticeRule {
    /// The rule an RFC follows unless someone picks another: a partner's changes give the
    /// operator notice; the operator's give partners notice when notice is required.
    pub fn default_for(origin: ChangeOrigin, notice_required: bool) -> NoticeRule {
        match (origin, notice_required) {
            (ChangeOrigin::Partner, _) => NoticeRule::PartnerToOperator,
            (ChangeOrigin::Operator, true) => NoticeRule::OperatorToPartners,
            (ChangeOrigin::Operator, false) => NoticeRule::None,
        }
    }
}

/// A standing maintenance window: every `every_weeks` weeks on `weekday` from `start` to
/// `end` (on the same day), counted from the week of `first` when `every_weeks` > 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowRule {
    pub weekday: DayOfWeek,
    pub start: WallTime,
    pub end: WallTime,
    pub every_weeks: u32,
    pub first: Option<Date>,
    pub label_en: String,
    pub label_fr: String,
}

/// The change rules of a policy pack.
#[derive(Debug, Clone, Serialize)]
pub struct ChangePolicy {
    /// Business days, business hours (ECAB for operator-initiated urgent changes) and the
    /// time zone of meetings and windows.
    #[serde(serialize_with = "crate::sla::calendar_name")]
    pub calendar: Calendar,
    pub cab: CabSchedule,
    /// Lead time by impact 1 (extensive) to 4 (minor), in business days from submission.
    pub lead_time_business_days: [u32; 4],
    pub notice: NoticeRules,
    pub windows: Vec<WindowRule>,
    /// Freezes are announced at least this many calendar days ahead.
    pub freeze_notice_days: u32,
}

/// One CAB meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CabMeeting {
    /// The meeting's date in the calendar's zone: its identity.
    #[schema(value_type = String)]
    pub date: Date,
    #[schema(value_type = String)]
    pub starts_at: Timestamp,
    #[schema(value_type = String)]
    pub ends_at: Timestamp,
    /// Approval notices go out then.
    #[schema(value_type = String)]
    pub approvals_at: Timestamp,
    /// RFCs submitted by then go to this meeting.
    #[schema(value_type = String)]
    pub deadline: Timestamp,
}

/// One occurrence of a maintenance window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WindowOccurrence {
    /// Index of the rule in [`ChangePolicy::windows`].
    pub rule: usize,
    #[schema(value_type = String)]
    pub starts_at: Timestamp,
    #[schema(value_type = String)]
    pub ends_at: Timestamp,
}

/// The earliest an RFC may be implemented, and what sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Earliest {
    /// The latest of the three below.
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// End of the lead time (none for urgent and emergency changes).
    #[schema(value_type = Option<String>)]
    pub lead_time_ends: Option<Timestamp>,
    pub lead_time_business_days: Option<u32>,
    /// End of the notice period (none when no notice is required).
    #[schema(value_type = Option<String>)]
    pub notice_ends: Option<Timestamp>,
    /// Approval notices of its CAB (normal changes).
    #[schema(value_type = Option<String>)]
    pub cab_approvals_at: Option<Timestamp>,
}

fn out_of_range(_: impl std::fmt::Debug) -> CalendarError {
    CalendarError::OutOfRange { field: "at" }
}

impl ChangePolicy {
    /// The specification's defaults on `calendar` (normally the shipped `business`): CAB
    /// Wednesday 10:00-12:00, approvals 13:00, deadline Thursday 12:00, lead times
    /// 10/10/5/5 business days, notice 5 / 7 business days and 14 days, the Sunday
    /// 00:00-06:00 window, freezes announced 30 days ahead.
    pub fn spec_default(calendar: Calendar) -> ChangePolicy {
        let time = |hour, minute| WallTime::new(hour, minute).expect("valid wall time");
        ChangePolicy {
            calendar,
            cab: CabSchedule {
                weekday: DayOfWeek::Wed,
                start: time(10, 0),
                end: time(12, 0),
                approvals_at: time(13, 0),
                deadline_weekday: DayOfWeek::Thu,
                deadline_time: time(12, 0),
            },
            lead_time_business_days: [10, 10, 5, 5],
            notice: NoticeRules {
                operator_to_partners: NoticePeriod::BusinessDays(5),
                partner_to_operator: NoticePeriod::BusinessDays(7),
                exchange: NoticePeriod::CalendarDays(14),
            },
            windows: vec![WindowRule {
                weekday: DayOfWeek::Sun,
                start: time(0, 0),
                end: time(6, 0),
                every_weeks: 1,
                first: None,
                label_en: "Standing maintenance window".into(),
                label_fr: "Fenêtre de maintenance permanente".into(),
            }],
            freeze_notice_days: 30,
        }
    }

    fn zone(&self) -> &TimeZone {
        self.calendar.time_zone()
    }

    fn instant(&self, date: Date, time: WallTime) -> Result<Timestamp, CalendarError> {
        let civil = DateTime::from_parts(
            date,
            jiff::civil::time(time.hour() as i8, time.minute() as i8, 0, 0),
        );
        civil
            .to_zoned(self.zone().clone())
            .map(|zoned| zoned.timestamp())
            .map_err(out_of_range)
    }

    fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.zone().clone()).date()
    }

    fn is_business_day(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(!day_schedule(&self.calendar, date)?.open.is_empty())
    }

    /// The meeting whose submission deadline falls on `deadline_date`: the first CAB
    /// weekday after it, moved to the next business day when that day is closed (a
    /// holiday).
    fn meeting_after_deadline(&self, deadline_date: Date) -> Result<CabMeeting, CalendarError> {
        let deadline = self.instant(deadline_date, self.cab.deadline_time)?;
        let mut date = deadline_date.tomorrow().map_err(out_of_range)?;
        while date.weekday() != self.cab.weekday.to_jiff() {
            date = date.tomorrow().map_err(out_of_range)?;
        }
        for _ in 0..MAX_DAYS_SEARCHED {
            if self.is_business_day(date)? {
                return Ok(CabMeeting {
                    date,
                    starts_at: self.instant(date, self.cab.start)?,
                    ends_at: self.instant(date, self.cab.end)?,
                    approvals_at: self.instant(date, self.cab.approvals_at)?,
                    deadline,
                });
            }
            date = date.tomorrow().map_err(out_of_range)?;
        }
        Err(out_of_range(()))
    }

    /// The CAB an RFC submitted at `submitted_at` goes to: the one after the first
    /// submission deadline at or after it. With the defaults, an RFC in by Thursday 12:00
    /// is reviewed the following Wednesday; one at 12:01 a week later.
    pub fn cab_for(&self, submitted_at: Timestamp) -> Result<CabMeeting, CalendarError> {
        let mut date = self.date_of(submitted_at);
        for _ in 0..8 {
            if date.weekday() == self.cab.deadline_weekday.to_jiff()
                && self.instant(date, self.cab.deadline_time)? >= submitted_at
            {
                return self.meeting_after_deadline(date);
            }
            date = date.tomorrow().map_err(out_of_range)?;
        }
        Err(out_of_range(()))
    }

    /// Every meeting whose start falls in `[from, to)`, in order.
    pub fn meetings_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<CabMeeting>, CalendarError> {
        let mut meetings = Vec::new();
        // The deadline a week and a half before `from` covers a meeting moved by holidays.
        let mut deadline_date = self
            .date_of(from)
            .checked_sub(14.days())
            .map_err(out_of_range)?;
        while deadline_date.weekday() != self.cab.deadline_weekday.to_jiff() {
            deadline_date = deadline_date.tomorrow().map_err(out_of_range)?;
        }
        for _ in 0..(MAX_DAYS_SEARCHED / 7) {
            let meeting = self.meeting_after_deadline(deadline_date)?;
            if meeting.starts_at >= to {
                break;
            }
            if meeting.starts_at >= from && meetings.last() != Some(&meeting) {
                meetings.push(meeting);
            }
            deadline_date = deadline_date.checked_add(7.days()).map_err(out_of_range)?;
        }
        Ok(meetings)
    }

    /// The meeting held on `date`, if there is one.
    pub fn meeting_on(&self, date: Date) -> Result<Option<CabMeeting>, CalendarError> {
        let from = self.instant(date, WallTime::new(0, 0).expect("midnight"))?;
        let next = date.tomorrow().map_err(out_of_range)?;
        let to = self.instant(next, WallTime::new(0, 0).expect("midnight"))?;
        Ok(self.meetings_between(from, to)?.into_iter().next())
    }

    /// The lead time of an impact (1 to 4), in business days.
    pub fn lead_time(&self, impact: i64) -> u32 {
        let index = usize::try_from(impact.clamp(1, 4) - 1).unwrap_or(0);
        self.lead_time_business_days[index]
    }

    fn after_period(
        &self,
        at: Timestamp,
        period: NoticePeriod,
    ) -> Result<Timestamp, CalendarError> {
        match period {
            NoticePeriod::BusinessDays(days) => {
                end_of_business_days_after(&self.calendar, at, days)
            }
            NoticePeriod::CalendarDays(days) => at
                .checked_add(SignedDuration::from_hours(i64::from(days) * 24))
                .map_err(out_of_range),
        }
    }

    /// The notice period of a rule.
    pub fn notice_period(&self, rule: NoticeRule) -> Option<NoticePeriod> {
        match rule {
            NoticeRule::None => None,
            NoticeRule::OperatorToPartners => Some(self.notice.operator_to_partners),
            NoticeRule::PartnerToOperator => Some(self.notice.partner_to_operator),
            NoticeRule::Exchange => Some(self.notice.exchange),
        }
    }

    /// The earliest an RFC submitted at `submitted_at` may be implemented: after its lead
    /// time (standard and normal changes; business days skip weekends and holidays), its
    /// notice period and, for a normal change, its CAB's approval notices.
    pub fn earliest_implementation(
        &self,
        submitted_at: Timestamp,
        kind: ChangeType,
        impact: i64,
        notice: NoticeRule,
    ) -> Result<Earliest, CalendarError> {
        let lead_days = kind.follows_lead_time().then(|| self.lead_time(impact));
        let lead_time_ends = match lead_days {
            Some(days) => Some(end_of_business_days_after(
                &self.calendar,
                submitted_at,
                days,
            )?),
            None => None,
        };
        let notice_ends = match self.notice_period(notice) {
            Some(period) => Some(self.after_period(submitted_at, period)?),
            None => None,
        };
        let cab_approvals_at = match kind.needs_cab() {
            true => Some(self.cab_for(submitted_at)?.approvals_at),
            false => None,
        };
        let at = [lead_time_ends, notice_ends, cab_approvals_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(submitted_at)
            .max(submitted_at);
        Ok(Earliest {
            at,
            lead_time_ends,
            lead_time_business_days: lead_days,
            notice_ends,
            cab_approvals_at,
        })
    }

    /// Every window occurrence overlapping `[from, to)`, in order of start.
    pub fn windows_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<WindowOccurrence>, CalendarError> {
        let mut found = Vec::new();
        let mut date = self.date_of(from).yesterday().map_err(out_of_range)?;
        let last = self.date_of(to);
        let mut walked = 0;
        while date <= last {
            walked += 1;
            if walked > MAX_DAYS_SEARCHED * 3 {
                return Err(out_of_range(()));
            }
            for (index, rule) in self.windows.iter().enumerate() {
                if !rule.falls_on(date) {
                    continue;
                }
                let starts_at = self.instant(date, rule.start)?;
                let ends_at = self.instant(date, rule.end)?;
                if starts_at < to && ends_at > from {
                    found.push(WindowOccurrence {
                        rule: index,
                        starts_at,
                        ends_at,
                    });
                }
            }
            date = date.tomorrow().map_err(out_of_range)?;
        }
        found.sort_by_key(|window| window.starts_at);
        Ok(found)
    }

    /// The first window starting at or after `at`.
    pub fn next_window(&self, at: Timestamp) -> Result<Option<WindowOccurrence>, CalendarError> {
        let to = at
            .checked_add(SignedDuration::from_hours(24 * MAX_DAYS_SEARCHED))
            .map_err(out_of_range)?;
        let mut from = at;
        // Search in slices of 8 weeks so that a weekly window is found without a long walk.
        while from < to {
            let slice_end = from
                .checked_add(SignedDuration::from_hours(24 * 56))
                .map_err(out_of_range)?
                .min(to);
            if let Some(window) = self
                .windows_between(from, slice_end)?
                .into_iter()
                .find(|window| window.starts_at >= at)
            {
                return Ok(Some(window));
            }
            from = slice_end;
        }
        Ok(None)
    }

    /// Whether `[start, end)` lies wholly inside one window occurrence.
    pub fn within_window(&self, start: Timestamp, end: Timestamp) -> Result<bool, CalendarError> {
        Ok(self
            .windows_between(start, end)?
            .iter()
            .any(|window| window.starts_at <= start && end <= window.ends_at))
    }

    /// An operator-initiated urgent operational change goes to ECAB only in business hours.
    pub fn ecab_open(
        &self,
        kind: ChangeType,
        origin: ChangeOrigin,
        at: Timestamp,
    ) -> Result<bool, CalendarError> {
        if kind == ChangeType::UrgentOperational && origin == ChangeOrigin::Operator {
            is_open_at(&self.calendar, at)
        } else {
            Ok(true)
        }
    }

    /// A freeze must be announced at least [`ChangePolicy::freeze_notice_days`] calendar
    /// days before it starts (`freeze_notice_too_short`) and end after it starts
    /// (`end_before_start`).
    pub fn check_freeze(
        &self,
        announced_at: Timestamp,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> Result<(), DomainError> {
        if ends_at <= starts_at {
            return Err(DomainError::field("end_before_start", "ends_at"));
        }
        let notice = SignedDuration::from_hours(i64::from(self.freeze_notice_days) * 24);
        let earliest_start = announced_at.checked_add(notice).unwrap_or(Timestamp::MAX);
        if starts_at < earliest_start {
            return Err(DomainError::field("freeze_notice_too_short", "starts_at"));
        }
        Ok(())
    }
}

impl WindowRule {
    /// Whether an occurrence of the window is on `date`.
    pub fn falls_on(&self, date: Date) -> bool {
        if date.weekday() != self.weekday.to_jiff() {
            return false;
        }
        if self.every_weeks <= 1 {
            return true;
        }
        let Some(first) = self.first else {
            return true;
        };
        let days = (date - first).get_days();
        days >= 0 && (days / 7) % i32::try_from(self.every_weeks).unwrap_or(1) == 0
    }

    pub fn label(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.label_en,
            Locale::Fr => &self.label_fr,
        }
    }
}

// ---- Conflicts ------------------------------------------------------------------------------

/// A change as the conflict checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    pub ticket_id: i64,
    pub number: String,
    pub kind: ChangeType,
    pub origin: ChangeOrigin,
    pub impact: i64,
    pub notice: NoticeRule,
    pub submitted_at: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Service codes.
    pub services: Vec<String>,
    /// CMDB codes.
    pub configuration_items: Vec<String>,
    /// The service owner approved it outside a window.
    pub window_approved: bool,
    /// Freezes (by id) this change has an approved exception to.
    pub freeze_exceptions: Vec<i64>,
}

/// A freeze as the conflict checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezePeriod {
    pub id: i64,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Service codes it covers; empty: every service.
    pub services: Vec<String>,
}

impl FreezePeriod {
    pub fn covers(&self, change: &PlannedChange) -> bool {
        self.starts_at < change.end
            && change.start < self.ends_at
            && (self.services.is_empty()
                || change
                    .services
                    .iter()
                    .any(|service| self.services.contains(service)))
    }
}

/// Something wrong with a change's timing, found before CAB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ChangeFlag {
    /// Overlaps another open change on a shared service or configuration item.
    Overlap {
        number: String,
        /// The shared service or configuration item codes.
        on: Vec<String>,
    },
    /// Not wholly inside a maintenance window.
    OutsideWindow { approved: bool },
    /// Inside a freeze.
    InFreeze {
        freeze_id: i64,
        name: String,
        exception: bool,
    },
    /// Starts before its lead time ends.
    LeadTime {
        business_days: u32,
        #[schema(value_type = String)]
        earliest: Timestamp,
    },
    /// Starts before its notice period ends.
    Notice {
        rule: NoticeRule,
        #[schema(value_type = String)]
        earliest: Timestamp,
    },
}

impl ChangeFlag {
    pub fn code(&self) -> &'static str {
        match self {
            ChangeFlag::Overlap { .. } => "overlap",
            ChangeFlag::OutsideWindow { .. } => "outside_window",
            ChangeFlag::InFreeze { .. } => "in_freeze",
            ChangeFlag::LeadTime { .. } => "lead_time",
            ChangeFlag::Notice { .. } => "notice",
        }
    }

    /// Cleared by a recorded approval or exception: still shown, no longer blocking.
    pub fn is_cleared(&self) -> bool {
        match self {
            ChangeFlag::OutsideWindow { approved } => *approved,
            ChangeFlag::InFreeze { exception, .. } => *exception,
            _ => false,
        }
    }

    /// The reason in words, with times in `zone`.
    pub fn reason(&self, locale: Locale, zone: &TimeZone) -> String {
        let when = |at: &Timestamp| {
            at.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        };
        match (self, locale) {
            (ChangeFlag::Overlap { number, on }, Locale::En) => {
                format!("Overlaps {number} on {}", on.join(", "))
            }
            (ChangeFlag::Overlap { number, on }, Locale::Fr) => {
                format!("Chevauche {number} sur {}", on.join(", "))
            }
            (ChangeFlag::OutsideWindow { approved: false }, Locale::En) => {
                "Outside the maintenance windows, without the service owner's approval".into()
            }
            (ChangeFlag::OutsideWindow { approved: false }, Locale::Fr) => {
                "Hors des fenêtres de maintenance, sans l'approbation du propriétaire du service"
                    .into()
            }
            (ChangeFlag::OutsideWindow { approved: true }, Locale::En) => {
                "Outside the maintenance windows; the service owner approved it".into()
            }
            (ChangeFlag::OutsideWindow { approved: true }, Locale::Fr) => {
                "Hors des fenêtres de maintenance; le propriétaire du service l'a approuvée".into()
            }
            (
                ChangeFlag::InFreeze {
                    name, exception, ..
                },
                Locale::En,
            ) => match exception {
                true => format!("In the freeze \"{name}\"; an exception was approved"),
                false => format!("In the freeze \"{name}\", without an approved exception"),
            },
            (
                ChangeFlag::InFreeze {
                    name, exception, ..
                },
                Locale::Fr,
            ) => match exception {
                true => format!("Dans le gel « {name} »; une exception a été approuvée"),
                false => format!("Dans le gel « {name} », sans exception approuvée"),
            },
            (
                ChangeFlag::LeadTime {
                    business_days,
                    earliest,
                },
                Locale::En,
            ) => format!(
                "Not enough lead time: {business_days} business days, so not before {}",
                when(earliest)
            ),
            (
                ChangeFlag::LeadTime {
                    business_days,
                    earliest,
                },
                Locale::Fr,
            ) => format!(
                "Délai insuffisant : {business_days} jours ouvrables, donc pas avant le {}",
                when(earliest)
            ),
            (ChangeFlag::Notice { rule, earliest }, Locale::En) => format!(
                "Not enough notice ({}): not before {}",
                rule.label(Locale::En).to_lowercase(),
                when(earliest)
            ),
            (ChangeFlag::Notice { rule, earliest }, Locale::Fr) => format!(
                "Préavis insuffisant ({}) : pas avant le {}",
                rule.label(Locale::Fr).to_lowercase(),
                when(earliest)
            ),
        }
    }
}

/// Everything wrong with `change`'s timing: overlaps with `others` (open changes, the
/// change itself excluded) on a shared service or configuration item, time outside the
/// windows, freezes it falls in, and lead time or notice it lacks.
pub fn flags(
    policy: &ChangePolicy,
    change: &PlannedChange,
    others: &[PlannedChange],
    freezes: &[FreezePeriod],
) -> Result<Vec<ChangeFlag>, CalendarError> {
    let mut flags = Vec::new();
    for other in others {
        if other.ticket_id == change.ticket_id
            || other.start >= change.end
            || change.start >= other.end
        {
            continue;
        }
        let mut shared: Vec<String> = change
            .services
            .iter()
            .filter(|service| other.services.contains(service))
            .chain(
                change
                    .configuration_items
                    .iter()
                    .filter(|item| other.configuration_items.contains(item)),
            )
            .cloned()
            .collect();
        shared.dedup();
        if !shared.is_empty() {
            flags.push(ChangeFlag::Overlap {
                number: other.number.clone(),
                on: shared,
            });
        }
    }
    if !policy.within_window(change.start, change.end)? {
        flags.push(ChangeFlag::OutsideWindow {
            approved: change.window_approved,
        });
    }
    for freeze in freezes.iter().filter(|freeze| freeze.covers(change)) {
        flags.push(ChangeFlag::InFreeze {
            freeze_id: freeze.id,
            name: freeze.name.clone(),
            exception: change.freeze_exceptions.contains(&freeze.id),
        });
    }
    let earliest = policy.earliest_implementation(
        change.submitted_at,
        change.kind,
        change.impact,
        change.notice,
    )?;
    if let (Some(ends), Some(days)) = (earliest.lead_time_ends, earliest.lead_time_business_days)
        && change.start < ends
    {
        flags.push(ChangeFlag::LeadTime {
            business_days: days,
            earliest: ends,
        });
    }
    if let Some(ends) = earliest.notice_ends
        && change.start < ends
    {
        flags.push(ChangeFlag::Notice {
            rule: change.notice,
            earliest: ends,
        });
    }
    Ok(flags)
}

/// Whether the scheduler may book `change` given its flags. A standard or normal change is
/// refused inside a freeze without an approved exception (`change_in_freeze`), outside a
/// window without the service owner's recorded approval (`outside_window_without_approval`)
/// and before its lead time or notice ends (`lead_time_not_met`, `notice_not_met`). Urgent
/// and emergency changes are booked with their flags shown.
pub fn check_booking(kind: ChangeType, flags: &[ChangeFlag]) -> Result<(), DomainError> {
    if !kind.refused_in_freeze() {
        return Ok(());
    }
    for flag in flags {
        let code = match flag {
            ChangeFlag::InFreeze {
                exception: false, ..
            } => "change_in_freeze",
            ChangeFlag::OutsideWindow { approved: false } => "outside_window_without_approval",
            ChangeFlag::LeadTime { .. } => "lead_time_not_met",
            ChangeFlag::Notice { .. } => "notice_not_met",
            _ => continue,
        };
        return Err(DomainError::field(code, "requested_start"));
    }
    Ok(())
}

// ---- iCalendar ------------------------------------------------------------------------------

/// One event of the change calendar's iCalendar export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    /// Unique and stable: `chg-000012@triage`, `window-0-20261213@triage`, `freeze-3@triage`.
    pub uid: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: String,
    pub description: String,
    /// `CHANGE`, `WINDOW`, `FREEZE`.
    pub category: &'static str,
    /// `CONFIRMED` (approved), `TENTATIVE` (pending), `CANCELLED`.
    pub status: &'static str,
    pub url: Option<String>,
}

fn ics_time(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn ics_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// The events as an iCalendar (RFC 5545) document: CRLF lines folded at 75 octets, text
/// escaped, times in UTC.
pub fn ics_calendar(name: &str, events: &[IcsEvent], stamp: Timestamp) -> String {
    let mut out = String::new();
    let mut line = |text: String| fold(&text, &mut out);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Triage//Change calendar//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", ics_text(name)));
    for event in events {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", ics_text(&event.uid)));
        line(format!("DTSTAMP:{}", ics_time(stamp)));
        line(format!("DTSTART:{}", ics_time(event.start)));
        line(format!("DTEND:{}", ics_time(event.end)));
        line(format!("SUMMARY:{}", ics_text(&event.summary)));
        if !event.description.is_empty() {
            line(format!("DESCRIPTION:{}", ics_text(&event.description)));
        }
        line(format!("CATEGORIES:{}", event.category));
        line(format!("STATUS:{}", event.status));
        if let Some(url) = &event.url {
            line(format!("URL:{}", ics_text(url)));
        }
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    let mut document = String::new();
    let _ = write!(document, "{out}");
    document
}

/// The Monday starting the week of `date`.
pub fn week_start(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(back.days()).unwrap_or(date)
}

/// Day of week helper for views: Monday first.
pub fn weekday_index(weekday: Weekday) -> usize {
    usize::try_from(weekday.to_monday_zero_offset()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::shipped_calendar;

    fn policy() -> ChangePolicy {
        ChangePolicy::spec_default(shipped_calendar("business").unwrap().clone())
    }

    fn toronto(text: &str) -> Timestamp {
        let civil: DateTime = text.parse().unwrap();
        civil
            .to_zoned(TimeZone::get("America/Toronto").unwrap())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn thursday_noon_is_the_deadline_for_next_wednesdays_cab() {
        let policy = policy();
        // Thursday 2026-12-03.
        let in_time = policy.cab_for(toronto("2026-12-03T11:59")).unwrap();
        assert_eq!(in_time.date, jiff::civil::date(2026, 12, 9));
        assert_eq!(in_time.starts_at, toronto("2026-12-09T10:00"));
        assert_eq!(in_time.approvals_at, toronto("2026-12-09T13:00"));
        assert_eq!(in_time.deadline, toronto("2026-12-03T12:00"));
        let at_noon = policy.cab_for(toronto("2026-12-03T12:00")).unwrap();
        assert_eq!(at_noon.date, jiff::civil::date(2026, 12, 9));
        let late = policy.cab_for(toronto("2026-12-03T12:01")).unwrap();
        assert_eq!(late.date, jiff::civil::date(2026, 12, 16));
        // Any day before Thursday goes to the same meeting as Thursday morning.
        let monday = policy.cab_for(toronto("2026-11-30T09:00")).unwrap();
        assert_eq!(monday.date, jiff::civil::date(2026, 12, 9));
    }

    #[test]
    fn a_cab_on_a_holiday_meets_the_next_business_day() {
        let policy = policy();
        // Christmas 2030 is a Wednesday; its deadline is Thursday 2030-12-19.
        let meeting = policy.cab_for(toronto("2030-12-19T10:00")).unwrap();
        assert_eq!(meeting.date, jiff::civil::date(2030, 12, 27));
        let listed = policy
            .meetings_between(toronto("2030-12-20T00:00"), toronto("2031-01-10T00:00"))
            .unwrap();
        let dates: Vec<Date> = listed.iter().map(|meeting| meeting.date).collect();
        assert_eq!(
            dates,
            [
                jiff::civil::date(2030, 12, 27),
                jiff::civil::date(2031, 1, 2),
                jiff::civil::date(2031, 1, 8)
            ]
        );
    }

    #[test]
    fn lead_times_skip_weekends_and_holidays() {
        let policy = policy();
        // Submitted Thursday 2027-03-25; Good Friday 2027-03-26 and Easter Monday (operator
        // holiday? not in Ontario's statutory set) — count on the business calendar.
        let submitted = toronto("2027-03-25T09:00");
        let minor = policy
            .earliest_implementation(submitted, ChangeType::Standard, 4, NoticeRule::None)
            .unwrap();
        let open_days: Vec<Date> = (1..=14)
            .map(|n| {
                jiff::civil::date(2027, 3, 25)
                    .checked_add(n.days())
                    .unwrap()
            })
            .filter(|date| policy.is_business_day(*date).unwrap())
            .collect();
        assert!(
            !open_days.contains(&jiff::civil::date(2027, 3, 26)),
            "Good Friday"
        );
        let fifth = open_days[4];
        assert_eq!(policy.date_of(minor.lead_time_ends.unwrap()), fifth);
        assert_eq!(minor.at, minor.lead_time_ends.unwrap());

        // Christmas: submitted Friday 2026-12-18, 10 business days skip Dec 25, 28 (Boxing
        // Day observed) and Jan 1.
        let extensive = policy
            .earliest_implementation(
                toronto("2026-12-18T15:00"),
                ChangeType::Normal,
                1,
                NoticeRule::None,
            )
            .unwrap();
        assert_eq!(extensive.lead_time_business_days, Some(10));
        assert_eq!(
            policy.date_of(extensive.lead_time_ends.unwrap()),
            jiff::civil::date(2027, 1, 6)
        );
    }

    #[test]
    fn notice_and_cab_can_set_the_earliest_date() {
        let policy = policy();
        let submitted = toronto("2026-12-03T11:00");
        let partner = policy
            .earliest_implementation(
                submitted,
                ChangeType::Normal,
                4,
                NoticeRule::PartnerToOperator,
            )
            .unwrap();
        // 7 business days after Thursday Dec 3: Dec 14.
        assert_eq!(
            policy.date_of(partner.notice_ends.unwrap()),
            jiff::civil::date(2026, 12, 14)
        );
        assert_eq!(partner.at, partner.notice_ends.unwrap());
        let exchange = policy
            .earliest_implementation(submitted, ChangeType::Normal, 4, NoticeRule::Exchange)
            .unwrap();
        assert_eq!(exchange.notice_ends, Some(toronto("2026-12-17T11:00")));
        let emergency = policy
            .earliest_implementation(submitted, ChangeType::EmergencyRepair, 1, NoticeRule::None)
            .unwrap();
        assert_eq!(emergency.at, submitted);
        assert_eq!(emergency.cab_approvals_at, None);
    }

    #[test]
    fn windows_recur_weekly_or_every_six_weeks() {
        let policy = policy();
        let windows = policy
            .windows_between(toronto("2026-12-01T00:00"), toronto("2026-12-31T00:00"))
            .unwrap();
        assert_eq!(windows.len(), 4);
        assert_eq!(windows[0].starts_at, toronto("2026-12-06T00:00"));
        assert_eq!(windows[0].ends_at, toronto("2026-12-06T06:00"));
        assert!(
            policy
                .within_window(toronto("2026-12-13T01:00"), toronto("2026-12-13T03:00"))
                .unwrap()
        );
        assert!(
            !policy
                .within_window(toronto("2026-12-13T05:00"), toronto("2026-12-13T07:00"))
                .unwrap()
        );
        let rule = WindowRule {
            weekday: DayOfWeek::Wed,
            start: WallTime::new(20, 0).unwrap(),
            end: WallTime::new(23, 0).unwrap(),
            every_weeks: 6,
            first: Some(jiff::civil::date(2026, 1, 7)),
            label_en: "Release window".into(),
            label_fr: "Fenêtre de mise en production".into(),
        };
        assert!(rule.falls_on(jiff::civil::date(2026, 1, 7)));
        assert!(!rule.falls_on(jiff::civil::date(2026, 1, 14)));
        assert!(rule.falls_on(jiff::civil::date(2026, 2, 18)));
        let next = policy
            .next_window(toronto("2026-12-06T07:00"))
            .unwrap()
            .unwrap();
        assert_eq!(next.starts_at, toronto("2026-12-13T00:00"));
    }

    #[test]
    fn freezes_need_thirty_days_notice() {
        let policy = policy();
        let announced = toronto("2026-12-01T09:00");
        assert_eq!(
            policy
                .check_freeze(
                    announced,
                    toronto("2026-12-30T09:00"),
                    toronto("2027-01-05T00:00")
                )
                .unwrap_err()
                .code,
            "freeze_notice_too_short"
        );
        assert!(
            policy
                .check_freeze(
                    announced,
                    toronto("2026-12-31T09:00"),
                    toronto("2027-01-05T00:00")
                )
                .is_ok()
        );
    }

    fn planned(id: i64, start: &str, end: &str) -> PlannedChange {
        PlannedChange {
            ticket_id: id,
            number: format!("CHG-{id:06}"),
            kind: ChangeType::Normal,
            origin: ChangeOrigin::Operator,
            impact: 3,
            notice: NoticeRule::None,
            submitted_at: toronto("2026-11-02T09:00"),
            start: toronto(start),
            end: toronto(end),
            services: vec!["viewer".into()],
            configuration_items: vec!["viewer-app-01".into()],
            window_approved: false,
            freeze_exceptions: vec![],
        }
    }

    #[test]
    fn a_normal_change_in_a_freeze_is_refused_unless_excepted() {
        let policy = policy();
        let freeze = FreezePeriod {
            id: 7,
            name: "Year-end".into(),
            starts_at: toronto("2026-12-12T00:00"),
            ends_at: toronto("2026-12-20T00:00"),
            services: vec![],
        };
        let mut change = planned(1, "2026-12-13T01:00", "2026-12-13T03:00");
        let found = flags(&policy, &change, &[], std::slice::from_ref(&freeze)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            check_booking(ChangeType::Normal, &found).unwrap_err().code,
            "change_in_freeze"
        );
        assert!(check_booking(ChangeType::EmergencyRepair, &found).is_ok());
        change.freeze_exceptions.push(7);
        let found = flags(&policy, &change, &[], &[freeze]).unwrap();
        assert!(found[0].is_cleared());
        assert!(check_booking(ChangeType::Normal, &found).is_ok());
    }

    #[test]
    fn conflicts_are_found_with_reasons() {
        let policy = policy();
        let mut change = planned(1, "2026-11-04T12:00", "2026-11-04T14:00");
        change.submitted_at = toronto("2026-11-02T09:00");
        let other = planned(2, "2026-11-04T13:00", "2026-11-04T15:00");
        let found = flags(&policy, &change, &[other, change.clone()], &[]).unwrap();
        let codes: Vec<&str> = found.iter().map(ChangeFlag::code).collect();
        assert_eq!(codes, ["overlap", "outside_window", "lead_time"]);
        let zone = policy.calendar.time_zone();
        assert_eq!(
            found[0].reason(Locale::En, zone),
            "Overlaps CHG-000002 on viewer, viewer-app-01"
        );
        assert!(
            found[2]
                .reason(Locale::Fr, zone)
                .starts_with("Délai insuffisant : 5 jours")
        );
        assert_eq!(
            check_booking(ChangeType::Normal, &found).unwrap_err().code,
            "outside_window_without_approval"
        );
    }

    #[test]
    fn operator_urgent_changes_reach_ecab_in_business_hours_only() {
        let policy = policy();
        let night = toronto("2026-12-03T22:00");
        assert!(
            !policy
                .ecab_open(ChangeType::UrgentOperational, ChangeOrigin::Operator, night)
                .unwrap()
        );
        assert!(
            policy
                .ecab_open(ChangeType::UrgentOperational, ChangeOrigin::Partner, night)
                .unwrap()
        );
        assert!(
            policy
                .ecab_open(
                    ChangeType::UrgentOperational,
                    ChangeOrigin::Operator,
                    toronto("2026-12-03T10:00")
                )
                .unwrap()
        );
    }

    #[test]
    fn ics_lines_are_escaped_and_folded() {
        let event = IcsEvent {
            uid: "chg-000001@triage".into(),
            start: toronto("2026-12-13T01:00"),
            end: toronto("2026-12-13T03:00"),
            summary: "CHG-000001 Viewer patch; part 1, with a long title that goes beyond the seventy-five octet limit é".into(),
            description: "Line one\nLine two".into(),
            category: "CHANGE",
            status: "CONFIRMED",
            url: None,
        };
        let text = ics_calendar("Changes", &[event], toronto("2026-12-01T00:00"));
        assert!(text.contains("DTSTART:20261213T060000Z\r\n"));
        assert!(text.contains("Viewer patch\\; part 1\\, with"));
        assert!(text.contains("DESCRIPTION:Line one\\nLine two\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }
}
