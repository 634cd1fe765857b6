//! Due-time arithmetic on a [`Calendar`]: when a target of open time is used up, how much open
//! time lies between two instants, and why.
//!
//! # Rules
//! - **Open time** is time during the calendar's open intervals. Intervals are half-open,
//!   `[open, close)`. A start outside open hours counts from the next opening.
//! - **Due** is the *first instant* at which the target is used up: a target used up exactly at
//!   closing time is due at closing time (Mon 08:00 + 9 h = Mon 17:00, not Tue 08:00). So a
//!   target of 0 is due at the start itself, open or not (the first instant at which nothing
//!   has been used is the start).
//! - **Resolution**: whole seconds. The sub-second part of an instant given to these
//!   functions is dropped (rounded down to the whole second at or before it); results carry
//!   whole seconds.
//! - **Targets** are whole minutes, hours (60 minutes) or business days (see
//!   [`Calendar::business_day`]); at most [`MAX_TARGET_MINUTES`] minutes or
//!   [`MAX_BUSINESS_DAYS`] business days. Instants must lie in the civil years
//!   [`FIRST_SUPPORTED_YEAR`]–[`LAST_SUPPORTED_YEAR`] of the calendar's zone.
//! - **Wall clock and daylight saving.** An interval `[open, close)` of civil date D is open
//!   from the first instant at which the zone's clock reads D `open` or later, until the first
//!   instant at which it reads D `close` or later (`24:00` is the start of the next day). So an
//!   interval is as long as the wall clock says (08:00–17:00 is always 9 h), and at the
//!   transitions:
//!   - *spring forward* (clocks jump from 02:00 to 03:00): a skipped time is reached at the
//!     jump; 01:00–03:00 is 1 h of open time, an interval wholly inside the skipped hour is
//!     empty, 02:30–05:00 opens at 03:00;
//!   - *fall back* (clocks go from 02:00 back to 01:00): a time shown twice is reached at its
//!     first showing; 01:00–03:00 is 3 h, 00:00–01:30 closes at the first 01:30, and
//!     01:30–03:00 is 2½ h, open through the repeated hour.
//!
//!   Put differently: an instant is open when the *latest wall-clock reading shown so far*
//!   (which stands still while the clock repeats an hour) lies in an open interval of its date.
//!
//! # Speed
//! Each calendar keeps, per civil year, the instants at which each day starts, the day's open
//! spans as instants, and running totals of open seconds. A due computation finds the start's
//! day, walks that day's spans, then binary-searches the running totals for the day on which
//! the target is used up: no stepping through minutes, and no time-zone conversion once a
//! year's table is built.
use std::sync::OnceLock;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::calendar::{
    Calendar, CalendarError, CalendarInner, DayOfWeek, FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR,
    MAX_BUSINESS_DAYS, MAX_TARGET_MINUTES, OpenInterval, Target,
};
use crate::holiday;

/// The open time a target stands for on `calendar`: minutes × 60 s, hours × 3600 s, or
/// business days × the calendar's business day.
pub fn target_open_time(calendar: &Calendar, target: Target) -> Result<Duration, CalendarError> {
    let minutes = match target {
        Target::Minutes(minutes) => minutes,
        Target::Hours(hours) => hours.saturating_mul(60),
        Target::BusinessDays(days) => {
            let day = calendar
                .inner
                .business_day_seconds
                .ok_or(CalendarError::BusinessDaysUndefined)?;
            if days > MAX_BUSINESS_DAYS {
                return Err(CalendarError::TargetTooLarge);
            }
            return Ok(Duration::from_secs(days * day));
        }
    };
    if minutes > MAX_TARGET_MINUTES {
        return Err(CalendarError::TargetTooLarge);
    }
    Ok(Duration::from_secs(minutes * 60))
}

/// The first instant at which `target` of open time has been used, counting from `start`.
///
/// ```
/// use domain::calendar::{shipped_calendar, Target};
/// use domain::due::due;
/// let business = shipped_calendar("business").unwrap();
/// // Friday 16:30 + 12 h of business hours: 0.5 h Friday + 9 h Monday + 2.5 h Tuesday.
/// let start = "2026-01-16T16:30:00-05:00".parse().unwrap();
/// let at = due(business, start, Target::Hours(12)).unwrap();
/// assert_eq!(at.to_string(), "2026-01-20T15:30:00Z"); // Tuesday 10:30 EST
/// ```
pub fn due(
    calendar: &Calendar,
    start: Timestamp,
    target: Target,
) -> Result<Timestamp, CalendarError> {
    add_open_time(calendar, start, target_open_time(calendar, target)?)
}

/// The first instant at which `open_time` (whole seconds; any fraction dropped) of open time
/// has been used, counting from `start`. For clocks that resume with part of a target left.
pub fn add_open_time(
    calendar: &Calendar,
    start: Timestamp,
    open_time: Duration,
) -> Result<Timestamp, CalendarError> {
    let seconds = open_time.as_secs();
    if seconds > MAX_TARGET_MINUTES * 60 {
        return Err(CalendarError::TargetTooLarge);
    }
    // At most ten years of seconds: fits an i64.
    let seconds = i64::try_from(seconds).map_err(|_| CalendarError::TargetTooLarge)?;
    let due = calendar.add_open_seconds(whole_second(start), seconds)?;
    timestamp(due, "target")
}

/// The open time in `[from, to)`, in whole seconds. `to` before `from` is refused.
pub fn open_time_between(
    calendar: &Calendar,
    from: Timestamp,
    to: Timestamp,
) -> Result<Duration, CalendarError> {
    let (from, to) = (whole_second(from), whole_second(to));
    if to < from {
        return Err(CalendarError::EndBeforeStart);
    }
    let (from_table, from_before) = calendar.open_seconds_before(from, "from")?;
    let (to_table, to_before) = calendar.open_seconds_before(to, "to")?;
    let mut total = to_before - from_before;
    for year in from_table.year..to_table.year {
        total += calendar.year_table(year, "to")?.open_seconds();
    }
    Ok(Duration::from_secs(u64::try_from(total).unwrap_or(0)))
}

/// Whether `instant` lies in open hours.
pub fn is_open_at(calendar: &Calendar, instant: Timestamp) -> Result<bool, CalendarError> {
    let at = whole_second(instant);
    let (table, day) = calendar.locate(at, "instant")?;
    Ok(table
        .spans_of(day)
        .iter()
        .any(|span| span.start <= at && at < span.end))
}

/// An interval of instants, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpenSpan {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Why a day does not have its weekly hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayCause {
    /// A holiday observed that day; `date` is its own date (different when substituted).
    Holiday {
        name_en: String,
        name_fr: String,
        date: Date,
    },
    /// A one-off closure; `name_fr` is its French name, when it has one.
    Closure {
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_fr: Option<String>,
    },
}

/// A day whose weekly hours were replaced, and the hours that applied (empty: closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialDay {
    pub date: Date,
    pub cause: DayCause,
    pub hours: Vec<OpenInterval>,
}

/// A due time with its workings, for showing to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueExplanation {
    /// The start, to the whole second.
    pub start: Timestamp,
    pub due: Timestamp,
    /// The open time counted, in seconds.
    pub open_seconds: u64,
    /// The open intervals counted between start and due, in order; touching intervals are
    /// joined.
    pub counted: Vec<OpenSpan>,
    /// Holidays and closures from the start's date to the due's date (a date may appear once
    /// per cause).
    pub special_days: Vec<SpecialDay>,
}

/// [`due`], with the intervals counted and the holidays and closures met on the way.
pub fn due_explained(
    calendar: &Calendar,
    start: Timestamp,
    target: Target,
) -> Result<DueExplanation, CalendarError> {
    let open = target_open_time(calendar, target)?;
    let due_at = add_open_time(calendar, start, open)?;
    let (start, due_s) = (whole_second(start), due_at.as_second());
    let (first_table, first_day) = calendar.locate(start, "start")?;
    let (last_table, last_day) = calendar.locate(start.max(due_s - 1), "target")?;
    let mut counted: Vec<(i64, i64)> = Vec::new();
    let mut special_days = Vec::new();
    for year in first_table.year..=last_table.year {
        let table = calendar.year_table(year, "target")?;
        let from_day = if year == first_table.year {
            first_day
        } else {
            0
        };
        let to_day = if year == last_table.year {
            last_day
        } else {
            table.days() - 1
        };
        for day in from_day..=to_day {
            for span in table.spans_of(day) {
                let (from, to) = (span.start.max(start), span.end.min(due_s));
                if from >= to {
                    continue;
                }
                match counted.last_mut() {
                    Some(last) if last.1 == from => last.1 = to,
                    _ => counted.push((from, to)),
                }
            }
        }
        special_days.extend(
            table
                .special
                .iter()
                .filter(|(day, _)| (from_day..=to_day).contains(day))
                .map(|(_, special)| special.clone()),
        );
    }
    let counted = counted
        .into_iter()
        .map(|(from, to)| {
            Ok(OpenSpan {
                from: timestamp(from, "start")?,
                to: timestamp(to, "target")?,
            })
        })
        .collect::<Result<_, CalendarError>>()?;
    Ok(DueExplanation {
        start: timestamp(start, "start")?,
        due: due_at,
        open_seconds: open.as_secs(),
        counted,
        special_days,
    })
}

/// The hours in force on one civil date of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaySchedule {
    pub date: Date,
    /// Wall-clock intervals in force (empty: closed).
    pub hours: Vec<OpenInterval>,
    /// Holidays and closure that replaced the weekly hours, if any.
    pub causes: Vec<DayCause>,
    /// The open intervals as instants (shorter or longer than `hours` on a DST change day).
    pub open: Vec<OpenSpan>,
}

/// The hours in force on `date`: weekly hours, holiday hours, or closed, with the reasons.
pub fn day_schedule(calendar: &Calendar, date: Date) -> Result<DaySchedule, CalendarError> {
    let table = calendar.year_table(date.year(), "date")?;
    let day = usize::try_from(date.day_of_year() - 1).unwrap_or(0);
    let specials: Vec<&SpecialDay> = table
        .special
        .iter()
        .filter(|(index, _)| *index == day)
        .map(|(_, special)| special)
        .collect();
    let hours = match specials.first() {
        Some(special) => special.hours.clone(),
        None => calendar
            .definition()
            .week
            .on(DayOfWeek::from_jiff(date.weekday()))
            .to_vec(),
    };
    let open = table
        .spans_of(day)
        .iter()
        .map(|span| {
            Ok(OpenSpan {
                from: timestamp(span.start, "date")?,
                to: timestamp(span.end, "date")?,
            })
        })
        .collect::<Result<_, CalendarError>>()?;
    Ok(DaySchedule {
        date,
        hours,
        causes: specials.into_iter().map(|s| s.cause.clone()).collect(),
        open,
    })
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

fn timestamp(second: i64, field: &'static str) -> Result<Timestamp, CalendarError> {
    Timestamp::from_second(second).map_err(|_| CalendarError::OutOfRange { field })
}

/// Per-year tables of one calendar, built on first use (a slot is empty when the year cannot
/// be computed, which only happens at the far ends of the supported years).
pub(crate) struct YearCache {
    slots: Box<[OnceLock<Option<Box<YearTable>>>]>,
}

impl YearCache {
    pub(crate) fn new() -> Self {
        Self {
            slots: (FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }
}

/// Open time of one civil day, as Unix seconds `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    end: i64,
}

/// One civil year of a calendar: day `i` (0 = January 1) starts at `day_start[i]` and ends at
/// `day_start[i + 1]`, has the open spans `spans[first_span[i]..first_span[i + 1]]`, and is
/// preceded by `open_before[i]` open seconds since the year began.
pub(crate) struct YearTable {
    year: i16,
    day_start: Box<[i64]>,
    first_span: Box<[u32]>,
    spans: Box<[Span]>,
    open_before: Box<[i64]>,
    /// Days whose weekly hours were replaced, by day index, in date order.
    special: Vec<(usize, SpecialDay)>,
}

impl YearTable {
    fn days(&self) -> usize {
        self.day_start.len() - 1
    }

    fn spans_of(&self, day: usize) -> &[Span] {
        &self.spans[self.first_span[day] as usize..self.first_span[day + 1] as usize]
    }

    fn open_seconds(&self) -> i64 {
        self.open_before[self.days()]
    }

    /// The day containing `at`, which must lie within the year.
    fn day_of(&self, at: i64) -> usize {
        let guess = usize::try_from((at - self.day_start[0]) / 86_400).unwrap_or(0);
        let mut day = guess.min(self.days() - 1);
        while day > 0 && self.day_start[day] > at {
            day -= 1;
        }
        while day + 1 < self.days() && self.day_start[day + 1] <= at {
            day += 1;
        }
        day
    }
}

impl Calendar {
    fn year_table(&self, year: i16, field: &'static str) -> Result<&YearTable, CalendarError> {
        if !(FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&year) {
            return Err(CalendarError::OutOfRange { field });
        }
        let slot = &self.inner.years.slots[(year - FIRST_SUPPORTED_YEAR) as usize];
        slot.get_or_init(|| build_year(&self.inner, year).ok().map(Box::new))
            .as_deref()
            .ok_or(CalendarError::OutOfRange { field })
    }

    /// The year table and day index holding the instant `at`.
    fn locate(&self, at: i64, field: &'static str) -> Result<(&YearTable, usize), CalendarError> {
        // The zone's civil year is the UTC year or a neighbour.
        let utc_year = civil_year_of_unix_day(at.div_euclid(86_400));
        let mut year = utc_year.clamp(
            i64::from(FIRST_SUPPORTED_YEAR),
            i64::from(LAST_SUPPORTED_YEAR),
        ) as i16;
        for _ in 0..3 {
            let table = self.year_table(year, field)?;
            if at < table.day_start[0] {
                year -= 1;
            } else if at >= table.day_start[table.days()] {
                year += 1;
            } else {
                return Ok((table, table.day_of(at)));
            }
        }
        Err(CalendarError::OutOfRange { field })
    }

    /// Open seconds from the start of the year holding `at` until `at`.
    fn open_seconds_before(
        &self,
        at: i64,
        field: &'static str,
    ) -> Result<(&YearTable, i64), CalendarError> {
        let (table, day) = self.locate(at, field)?;
        let mut before = table.open_before[day];
        for span in table.spans_of(day) {
            if span.start >= at {
                break;
            }
            before += span.end.min(at) - span.start;
        }
        Ok((table, before))
    }

    /// The first instant at which `remaining` open seconds have been used from `start`.
    fn add_open_seconds(&self, start: i64, mut remaining: i64) -> Result<i64, CalendarError> {
        if remaining == 0 {
            return Ok(start);
        }
        let (mut table, day) = self.locate(start, "start")?;
        for span in table.spans_of(day) {
            if span.end <= start {
                continue;
            }
            let from = span.start.max(start);
            let available = span.end - from;
            if remaining <= available {
                return Ok(from + remaining);
            }
            remaining -= available;
        }
        let mut next_day = day + 1;
        loop {
            let before = table.open_before[next_day];
            if remaining <= table.open_seconds() - before {
                // The first day by whose end `remaining` more seconds are open.
                let ends = &table.open_before[next_day + 1..];
                let day = next_day + ends.partition_point(|&end| end - before < remaining);
                remaining -= table.open_before[day] - before;
                for span in table.spans_of(day) {
                    let available = span.end - span.start;
                    if remaining <= available {
                        return Ok(span.start + remaining);
                    }
                    remaining -= available;
                }
                // Unreachable: the day's spans add up to at least `remaining`.
                return Err(CalendarError::OutOfRange { field: "target" });
            }
            remaining -= table.open_seconds() - before;
            table = self.year_table(table.year + 1, "target")?;
            next_day = 0;
        }
    }
}

/// The proleptic Gregorian year of a day counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil_year_of_unix_day(day: i64) -> i64 {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if month_from_march >= 10 {
        year + 1
    } else {
        year
    }
}

/// The first instant (Unix seconds) at which the clock of `zone` reads `date` at
/// `minute_of_day` (0–1439) or later: a time skipped by a forward jump is reached at the jump,
/// a time shown twice at its first showing.
fn first_reach(zone: &TimeZone, date: Date, minute_of_day: u16) -> Result<i64, CalendarError> {
    let out_of_range = |_| CalendarError::OutOfRange { field: "year" };
    let hour = i8::try_from(minute_of_day / 60)
        .map_err(|_| CalendarError::OutOfRange { field: "year" })?;
    let minute = i8::try_from(minute_of_day % 60).unwrap_or(0);
    let datetime = date.at(hour, minute, 0, 0);
    let ambiguous = zone.to_ambiguous_timestamp(datetime);
    let instant = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().map_err(out_of_range)?
        }
        AmbiguousOffset::Gap { before, after } => {
            // Read with the offset after the jump, the time lies before the jump; read with
            // the offset before it, after. The jump is the transition in between.
            let ahead = after.to_timestamp(datetime).map_err(out_of_range)?;
            let behind = before.to_timestamp(datetime).map_err(out_of_range)?;
            zone.following(ahead)
                .next()
                .map(|transition| transition.timestamp())
                .filter(|jump| *jump > ahead && *jump <= behind)
                .unwrap_or(behind)
        }
    };
    Ok(instant.as_second())
}

fn build_year(calendar: &CalendarInner, year: i16) -> Result<YearTable, CalendarError> {
    let out_of_range = |_| CalendarError::OutOfRange { field: "year" };
    let zone = &calendar.time_zone;
    let january_first = Date::new(year, 1, 1).map_err(out_of_range)?;
    let days = usize::try_from(january_first.days_in_year()).unwrap_or(365);
    let observed = holiday::observed_during_year(&calendar.rules, year)?;
    let mut observed = observed.into_iter().peekable();

    let mut day_start = Vec::with_capacity(days + 1);
    let mut first_span = Vec::with_capacity(days + 1);
    let mut open_before = Vec::with_capacity(days + 1);
    let mut spans: Vec<Span> = Vec::with_capacity(days * 2);
    let mut special = Vec::new();
    let mut open_total = 0;

    let mut date = january_first;
    let mut start = first_reach(zone, date, 0)?;
    for day in 0..days {
        let next_date = date.checked_add(1.day()).map_err(out_of_range)?;
        let end = first_reach(zone, next_date, 0)?.max(start);
        day_start.push(start);
        first_span.push(u32::try_from(spans.len()).unwrap_or(u32::MAX));
        open_before.push(open_total);

        let closure = calendar.closures.get(&date);
        let mut holidays = Vec::new();
        while let Some(holiday) = observed.next_if(|holiday| holiday.observed <= date) {
            if holiday.observed == date {
                holidays.push(holiday);
            }
        }
        let hours: &[OpenInterval] = if closure.is_some() {
            &[]
        } else if !holidays.is_empty() {
            calendar.definition.on_holidays.intervals()
        } else {
            calendar
                .definition
                .week
                .on(DayOfWeek::from_jiff(date.weekday()))
        };
        if let Some((name, name_fr)) = closure {
            special.push((
                day,
                SpecialDay {
                    date,
                    cause: DayCause::Closure {
                        name: name.clone(),
                        name_fr: name_fr.clone(),
                    },
                    hours: Vec::new(),
                },
            ));
        }
        for holiday in holidays {
            special.push((
                day,
                SpecialDay {
                    date,
                    cause: DayCause::Holiday {
                        name_en: holiday.name_en,
                        name_fr: holiday.name_fr,
                        date: holiday.date,
                    },
                    hours: hours.to_vec(),
                },
            ));
        }

        let day_first_span = spans.len();
        for interval in hours {
            let open = match interval.open.minute_of_day() {
                0 => start,
                minute => first_reach(zone, date, minute)?.clamp(start, end),
            };
            let close = match interval.close.minute_of_day() {
                1440 => end,
                minute => first_reach(zone, date, minute)?.clamp(start, end),
            };
            if close <= open {
                continue;
            }
            open_total += close - open;
            let joins_previous = spans.len() > day_first_span;
            match spans.last_mut() {
                Some(last) if joins_previous && last.end == open => last.end = close,
                _ => spans.push(Span {
                    start: open,
                    end: close,
                }),
            }
        }
        start = end;
        date = next_date;
    }
    day_start.push(start);
    first_span.push(u32::try_from(spans.len()).unwrap_or(u32::MAX));
    open_before.push(open_total);
    Ok(YearTable {
        year,
        day_start: day_start.into(),
        first_span: first_span.into(),
        spans: spans.into(),
        open_before: open_before.into(),
        special,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_year_matches_jiff_around_year_ends() {
        for year in [1900_i16, 1969, 1970, 2000, 2024, 2100, 2399] {
            for (month, day) in [(1, 1), (12, 31), (2, 29), (3, 1)] {
                let Ok(date) = Date::new(year, month, day) else {
                    continue;
                };
                let unix_day = date
                    .to_zoned(TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_second()
                    .div_euclid(86_400);
                assert_eq!(civil_year_of_unix_day(unix_day), i64::from(year), "{date}");
            }
        }
    }

    #[test]
    fn whole_second_rounds_down() {
        let t: Timestamp = "2026-01-01T00:00:00.999Z".parse().unwrap();
        assert_eq!(whole_second(t), 1_767_225_600);
        let before_epoch: Timestamp = "1969-12-31T23:59:59.5Z".parse().unwrap();
        assert_eq!(whole_second(before_epoch), -1);
    }

    #[test]
    fn first_reach_resolves_gaps_at_the_jump_and_folds_at_the_first_showing() {
        let toronto = TimeZone::get("America/Toronto").unwrap();
        let at = |text: &str| text.parse::<Timestamp>().unwrap().as_second();
        let spring = jiff::civil::date(2026, 3, 8);
        assert_eq!(
            first_reach(&toronto, spring, 2 * 60 + 30).unwrap(),
            at("2026-03-08T07:00:00Z")
        );
        assert_eq!(
            first_reach(&toronto, spring, 3 * 60).unwrap(),
            at("2026-03-08T07:00:00Z")
        );
        assert_eq!(
            first_reach(&toronto, spring, 60 + 59).unwrap(),
            at("2026-03-08T06:59:00Z")
        );
        let fall = jiff::civil::date(2026, 11, 1);
        assert_eq!(
            first_reach(&toronto, fall, 60 + 30).unwrap(),
            at("2026-11-01T05:30:00Z")
        );
        assert_eq!(
            first_reach(&toronto, fall, 2 * 60).unwrap(),
            at("2026-11-01T07:00:00Z")
        );
    }

    #[test]
    fn day_lengths_follow_the_clock_on_transition_days() {
        let calendar = crate::calendar::shipped_calendar("24x7").unwrap();
        let table = calendar.year_table(2026, "year").unwrap();
        let length = |date: Date| {
            let day = (date.day_of_year() - 1) as usize;
            table.day_start[day + 1] - table.day_start[day]
        };
        assert_eq!(length(jiff::civil::date(2026, 3, 8)), 23 * 3600);
        assert_eq!(length(jiff::civil::date(2026, 11, 1)), 25 * 3600);
        assert_eq!(length(jiff::civil::date(2026, 6, 1)), 24 * 3600);
        assert_eq!(table.open_seconds(), 365 * 86_400);
    }
}
