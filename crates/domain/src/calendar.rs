//! Calendars: when a support team's clock runs.
//!
//! A calendar is an IANA time zone, weekly open intervals, holiday rules, the hours that apply
//! on holidays, and one-off closures. It is described by a [`CalendarDefinition`] (plain data,
//! stored as JSON in policy packs) and used through a validated, immutable [`Calendar`], which
//! caches what due-time arithmetic needs (see [`crate::due`]).
//!
//! ```json
//! {"name": "tier1", "time_zone": "America/Toronto",
//!  "week": {"mon": [["07:00", "23:00"]], "sat": [["08:00", "16:00"]]},
//!  "holidays": "ontario-operator", "on_holidays": [["08:00", "16:00"]],
//!  "closures": [{"date": "2026-12-31", "name": "Inventory"}]}
//! ```
//!
//! Rules of a day's hours, in this order: a closure date is closed all day; a date on which a
//! holiday is *observed* has the holiday hours (`on_holidays`: `"closed"` or intervals); any
//! other date has the weekly hours of its weekday. When a holiday is moved off a weekend, its
//! own weekend date keeps its weekly hours.
//!
//! Open intervals are half-open wall-clock times, `[open, close)`, with `24:00` allowed as a
//! close. How a wall-clock time becomes an instant across daylight-saving changes is told in
//! [`crate::due`].
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::due::YearCache;
use crate::holiday::{self, HolidayRule, HolidayRules, HolidaySetName, ObservedHoliday};

/// First civil year (in a calendar's zone) that calendars compute.
pub const FIRST_SUPPORTED_YEAR: i16 = 1900;
/// Last civil year (in a calendar's zone) that calendars compute.
pub const LAST_SUPPORTED_YEAR: i16 = 2399;
/// Largest minute target: ten years of minutes (10 × 366 days). Hours are checked after
/// conversion to minutes.
pub const MAX_TARGET_MINUTES: u64 = 10 * 366 * 24 * 60;
/// Largest business-day target.
pub const MAX_BUSINESS_DAYS: u64 = 1000;
/// Most open intervals in one day's hours.
pub const MAX_INTERVALS_PER_DAY: usize = 24;
/// Most one-off closures a calendar may carry.
pub const MAX_CLOSURES: usize = 2000;
const MAX_NAME_CHARS: usize = 64;
const MAX_CLOSURE_NAME_CHARS: usize = 200;

/// A calendar rule broken, or an arithmetic request refused. [`CalendarError::code`] is
/// stable and machine-readable; [`CalendarError::field`] names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar name must be 1 to 64 characters, without control characters")]
    InvalidName,
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("{field}: interval {index} opens at {open}, not before its close {close}")]
    OpenNotBeforeClose {
        field: &'static str,
        index: usize,
        open: WallTime,
        close: WallTime,
    },
    #[error("{field}: interval {index} lies before the previous one; list intervals in order")]
    IntervalsOutOfOrder { field: &'static str, index: usize },
    #[error("{field}: interval {index} overlaps the previous one")]
    OverlappingIntervals { field: &'static str, index: usize },
    #[error("{field}: more than {MAX_INTERVALS_PER_DAY} intervals")]
    TooManyIntervals { field: &'static str },
    #[error("the week has no open hours")]
    NeverOpen,
    #[error("holiday rule {index}: {reason}")]
    InvalidHolidayRule { index: usize, reason: &'static str },
    #[error("more than {} holiday rules", holiday::MAX_HOLIDAY_RULES)]
    TooManyHolidayRules,
    #[error("closure {0} is listed twice")]
    DuplicateClosure(Date),
    #[error("closure {0}: name must be 1 to 200 characters, without control characters")]
    InvalidClosureName(Date),
    #[error("more than {MAX_CLOSURES} closures")]
    TooManyClosures,
    #[error("target larger than {MAX_TARGET_MINUTES} minutes or {MAX_BUSINESS_DAYS} business days")]
    TargetTooLarge,
    #[error("business days are not defined on a calendar whose open days differ in length")]
    BusinessDaysUndefined,
    #[error("{field}: outside the years {FIRST_SUPPORTED_YEAR} to {LAST_SUPPORTED_YEAR}")]
    OutOfRange { field: &'static str },
    #[error("the end of the period is before its start")]
    EndBeforeStart,
}

impl CalendarError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::InvalidName | CalendarError::InvalidClosureName(_) => "invalid_name",
            CalendarError::UnknownTimeZone(_) => "unknown_time_zone",
            CalendarError::OpenNotBeforeClose { .. } => "open_not_before_close",
            CalendarError::IntervalsOutOfOrder { .. } => "intervals_out_of_order",
            CalendarError::OverlappingIntervals { .. } => "overlapping_intervals",
            CalendarError::TooManyIntervals { .. }
            | CalendarError::TooManyHolidayRules
            | CalendarError::TooManyClosures => "too_many",
            CalendarError::NeverOpen => "never_open",
            CalendarError::InvalidHolidayRule { .. } => "invalid_holiday_rule",
            CalendarError::DuplicateClosure(_) => "duplicate_closure",
            CalendarError::TargetTooLarge => "target_too_large",
            CalendarError::BusinessDaysUndefined => "business_days_undefined",
            CalendarError::OutOfRange { .. } => "out_of_range",
            CalendarError::EndBeforeStart => "end_before_start",
        }
    }

    /// The input at fault: a definition field (`"week.mon"`, `"on_holidays"`, `"closures"`…)
    /// or an argument (`"start"`, `"target"`, `"to"`, `"year"`…).
    pub fn field(&self) -> &'static str {
        match self {
            CalendarError::InvalidName => "name",
            CalendarError::UnknownTimeZone(_) => "time_zone",
            CalendarError::OpenNotBeforeClose { field, .. }
            | CalendarError::IntervalsOutOfOrder { field, .. }
            | CalendarError::OverlappingIntervals { field, .. }
            | CalendarError::TooManyIntervals { field }
            | CalendarError::OutOfRange { field } => field,
            CalendarError::NeverOpen => "week",
            CalendarError::InvalidHolidayRule { .. } | CalendarError::TooManyHolidayRules => {
                "holidays"
            }
            CalendarError::DuplicateClosure(_)
            | CalendarError::InvalidClosureName(_)
            | CalendarError::TooManyClosures => "closures",
            CalendarError::TargetTooLarge | CalendarError::BusinessDaysUndefined => "target",
            CalendarError::EndBeforeStart => "to",
        }
    }
}

impl From<CalendarError> for DomainError {
    fn from(error: CalendarError) -> Self {
        DomainError::field(error.code(), error.field())
    }
}

/// A day of the week, written `"mon"` … `"sun"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayOfWeek {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl DayOfWeek {
    /// Monday to Sunday.
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Mon,
        DayOfWeek::Tue,
        DayOfWeek::Wed,
        DayOfWeek::Thu,
        DayOfWeek::Fri,
        DayOfWeek::Sat,
        DayOfWeek::Sun,
    ];

    /// The same day as jiff's weekday.
    pub fn to_jiff(self) -> Weekday {
        match self {
            DayOfWeek::Mon => Weekday::Monday,
            DayOfWeek::Tue => Weekday::Tuesday,
            DayOfWeek::Wed => Weekday::Wednesday,
            DayOfWeek::Thu => Weekday::Thursday,
            DayOfWeek::Fri => Weekday::Friday,
            DayOfWeek::Sat => Weekday::Saturday,
            DayOfWeek::Sun => Weekday::Sunday,
        }
    }

    /// The day of a jiff weekday.
    pub fn from_jiff(weekday: Weekday) -> Self {
        match weekday {
            Weekday::Monday => DayOfWeek::Mon,
            Weekday::Tuesday => DayOfWeek::Tue,
            Weekday::Wednesday => DayOfWeek::Wed,
            Weekday::Thursday => DayOfWeek::Thu,
            Weekday::Friday => DayOfWeek::Fri,
            Weekday::Saturday => DayOfWeek::Sat,
            Weekday::Sunday => DayOfWeek::Sun,
        }
    }

    /// The definition field holding this day's hours (`"week.mon"`).
    pub fn field(self) -> &'static str {
        match self {
            DayOfWeek::Mon => "week.mon",
            DayOfWeek::Tue => "week.tue",
            DayOfWeek::Wed => "week.wed",
            DayOfWeek::Thu => "week.thu",
            DayOfWeek::Fri => "week.fri",
            DayOfWeek::Sat => "week.sat",
            DayOfWeek::Sun => "week.sun",
        }
    }
}

/// A wall-clock time of day to the minute, `00:00` to `24:00` (the end of the day, only
/// meaningful as a close). Written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(u16);

impl WallTime {
    /// 00:00, the start of the day.
    pub const MIDNIGHT: WallTime = WallTime(0);
    /// 24:00, the end of the day (the start of the next).
    pub const END_OF_DAY: WallTime = WallTime(24 * 60);

    /// `hour` 0–23 with `minute` 0–59, or 24:00.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        let valid = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
        valid.then(|| WallTime(u16::from(hour) * 60 + u16::from(minute)))
    }

    /// Minutes since midnight, 0 to 1440.
    pub fn minute_of_day(self) -> u16 {
        self.0
    }

    /// The hour, 0 to 24.
    pub fn hour(self) -> u8 {
        // At most 24.
        (self.0 / 60) as u8
    }

    /// The minute within the hour, 0 to 59.
    pub fn minute(self) -> u8 {
        (self.0 % 60) as u8
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl FromStr for WallTime {
    type Err = &'static str;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a time HH:MM from 00:00 to 24:00";
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(EXPECTED);
        }
        let two_digits = |pair: &[u8]| -> Option<u8> {
            match pair {
                [tens @ b'0'..=b'9', ones @ b'0'..=b'9'] => Some((tens - b'0') * 10 + ones - b'0'),
                _ => None,
            }
        };
        match (two_digits(&bytes[..2]), two_digits(&bytes[3..])) {
            (Some(hour), Some(minute)) => WallTime::new(hour, minute).ok_or(EXPECTED),
            _ => Err(EXPECTED),
        }
    }
}

impl Serialize for WallTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WallTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(|expected: &str| {
            serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &expected)
        })
    }
}

/// A half-open wall-clock interval `[open, close)`, written `["08:00", "17:00"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "(WallTime, WallTime)", into = "(WallTime, WallTime)")]
pub struct OpenInterval {
    pub open: WallTime,
    pub close: WallTime,
}

impl OpenInterval {
    /// An interval; [`Calendar::new`] checks that `open` is before `close`.
    pub fn new(open: WallTime, close: WallTime) -> Self {
        Self { open, close }
    }

    /// Its length on the wall clock, in minutes (0 if not well ordered).
    pub fn minutes(self) -> u16 {
        self.close.0.saturating_sub(self.open.0)
    }
}

impl From<(WallTime, WallTime)> for OpenInterval {
    fn from((open, close): (WallTime, WallTime)) -> Self {
        Self { open, close }
    }
}

impl From<OpenInterval> for (WallTime, WallTime) {
    fn from(interval: OpenInterval) -> Self {
        (interval.open, interval.close)
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.open, self.close)
    }
}

/// Open intervals for each day of the week, in order; a missing day is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<OpenInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<OpenInterval>,
}

impl WeeklyHours {
    /// The same intervals on each of `days`, closed on the others.
    pub fn uniform(days: &[DayOfWeek], intervals: &[OpenInterval]) -> Self {
        let mut week = WeeklyHours::default();
        for &day in days {
            *week.on_mut(day) = intervals.to_vec();
        }
        week
    }

    /// The intervals of `day`.
    pub fn on(&self, day: DayOfWeek) -> &[OpenInterval] {
        match day {
            DayOfWeek::Mon => &self.mon,
            DayOfWeek::Tue => &self.tue,
            DayOfWeek::Wed => &self.wed,
            DayOfWeek::Thu => &self.thu,
            DayOfWeek::Fri => &self.fri,
            DayOfWeek::Sat => &self.sat,
            DayOfWeek::Sun => &self.sun,
        }
    }

    /// The intervals of `day`, to change.
    pub fn on_mut(&mut self, day: DayOfWeek) -> &mut Vec<OpenInterval> {
        match day {
            DayOfWeek::Mon => &mut self.mon,
            DayOfWeek::Tue => &mut self.tue,
            DayOfWeek::Wed => &mut self.wed,
            DayOfWeek::Thu => &mut self.thu,
            DayOfWeek::Fri => &mut self.fri,
            DayOfWeek::Sat => &mut self.sat,
            DayOfWeek::Sun => &mut self.sun,
        }
    }
}

/// The hours on a day where a holiday is observed: `"closed"`, or intervals
/// (`[["08:00","16:00"]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HolidayHours {
    #[default]
    Closed,
    Hours(Vec<OpenInterval>),
}

impl HolidayHours {
    /// The intervals (none when closed).
    pub fn intervals(&self) -> &[OpenInterval] {
        match self {
            HolidayHours::Closed => &[],
            HolidayHours::Hours(intervals) => intervals,
        }
    }
}

impl Serialize for HolidayHours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            HolidayHours::Closed => serializer.serialize_str("closed"),
            HolidayHours::Hours(intervals) => intervals.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for HolidayHours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = HolidayHours;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"closed\" or an array of [open, close] intervals")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                if text == "closed" {
                    Ok(HolidayHours::Closed)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(text), &self))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<OpenInterval>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(HolidayHours::Hours)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A one-off closure added by an administrator: closed all day on `date` (civil date in the
/// calendar's zone). `name` is shown in English, `name_fr` (when given) in French.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub date: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_fr: Option<String>,
}

/// The plain description of a calendar, as stored in policy packs. Check it with
/// [`Calendar::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDefinition {
    pub name: String,
    /// IANA time zone name (`"America/Toronto"`, `"UTC"`).
    pub time_zone: String,
    pub week: WeeklyHours,
    /// Holiday rules; none when absent.
    #[serde(default)]
    pub holidays: HolidayRules,
    /// Hours on the days where a holiday is observed; closed when absent.
    #[serde(default)]
    pub on_holidays: HolidayHours,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closures: Vec<Closure>,
}

/// A validated calendar. Cheap to clone (shared), safe to share between threads; its
/// per-year tables are built on first use and kept.
#[derive(Clone)]
pub struct Calendar {
    pub(crate) inner: Arc<CalendarInner>,
}

pub(crate) struct CalendarInner {
    pub(crate) definition: CalendarDefinition,
    pub(crate) time_zone: TimeZone,
    pub(crate) rules: Vec<HolidayRule>,
    /// Closure dates with their names (English, French).
    pub(crate) closures: BTreeMap<Date, (Option<String>, Option<String>)>,
    /// Length of one business day in seconds, when defined.
    pub(crate) business_day_seconds: Option<u64>,
    pub(crate) years: YearCache,
}

impl Calendar {
    /// Check a definition and build the calendar.
    pub fn new(definition: CalendarDefinition) -> Result<Self, CalendarError> {
        let name = definition.name.trim();
        if name.is_empty()
            || definition.name.chars().count() > MAX_NAME_CHARS
            || definition.name.chars().any(char::is_control)
        {
            return Err(CalendarError::InvalidName);
        }
        let time_zone = TimeZone::get(&definition.time_zone)
            .map_err(|_| CalendarError::UnknownTimeZone(definition.time_zone.clone()))?;
        for day in DayOfWeek::ALL {
            validate_intervals(definition.week.on(day), day.field())?;
        }
        validate_intervals(definition.on_holidays.intervals(), "on_holidays")?;
        if DayOfWeek::ALL
            .iter()
            .all(|&day| definition.week.on(day).is_empty())
        {
            return Err(CalendarError::NeverOpen);
        }
        let rules = definition.holidays.rules().into_owned();
        holiday::validate_rules(&rules)?;
        if definition.closures.len() > MAX_CLOSURES {
            return Err(CalendarError::TooManyClosures);
        }
        let mut closures = BTreeMap::new();
        for closure in &definition.closures {
            if !(FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&closure.date.year()) {
                return Err(CalendarError::OutOfRange { field: "closures" });
            }
            for name in [&closure.name, &closure.name_fr].into_iter().flatten() {
                if name.trim().is_empty()
                    || name.chars().count() > MAX_CLOSURE_NAME_CHARS
                    || name.chars().any(char::is_control)
                {
                    return Err(CalendarError::InvalidClosureName(closure.date));
                }
            }
            if closures
                .insert(
                    closure.date,
                    (closure.name.clone(), closure.name_fr.clone()),
                )
                .is_some()
            {
                return Err(CalendarError::DuplicateClosure(closure.date));
            }
        }
        let business_day_seconds = business_day_minutes(&definition).map(|m| u64::from(m) * 60);
        Ok(Calendar {
            inner: Arc::new(CalendarInner {
                definition,
                time_zone,
                rules,
                closures,
                business_day_seconds,
                years: YearCache::new(),
            }),
        })
    }

    /// The description it was built from.
    pub fn definition(&self) -> &CalendarDefinition {
        &self.inner.definition
    }

    /// Its name (`"business"`).
    pub fn name(&self) -> &str {
        &self.inner.definition.name
    }

    /// Its time zone, in which open hours are wall-clock times.
    pub fn time_zone(&self) -> &TimeZone {
        &self.inner.time_zone
    }

    /// The holiday rules in force (a named set expanded).
    pub fn holiday_rules(&self) -> &[HolidayRule] {
        &self.inner.rules
    }

    /// The holidays whose own date falls in `year`, with their observed dates.
    pub fn holidays_in_year(&self, year: i16) -> Result<Vec<ObservedHoliday>, CalendarError> {
        holiday::holidays_in_year(&self.inner.rules, year)
    }

    /// The length of one business day of this calendar, if defined: the open time of a day
    /// of the week that has open hours, when all such days (and the holiday hours, if they
    /// are not "closed") have the same wall-clock length. `business`: 9 h; `24x7`: 24 h;
    /// `tier1`: none.
    pub fn business_day(&self) -> Option<std::time::Duration> {
        self.inner
            .business_day_seconds
            .map(std::time::Duration::from_secs)
    }
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Calendar")
            .field(&self.inner.definition)
            .finish()
    }
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.inner.definition == other.inner.definition
    }
}

impl Eq for Calendar {}

impl TryFrom<CalendarDefinition> for Calendar {
    type Error = CalendarError;
    fn try_from(definition: CalendarDefinition) -> Result<Self, Self::Error> {
        Calendar::new(definition)
    }
}

impl Serialize for Calendar {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.definition.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Calendar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let definition = CalendarDefinition::deserialize(deserializer)?;
        Calendar::new(definition).map_err(serde::de::Error::custom)
    }
}

fn validate_intervals(
    intervals: &[OpenInterval],
    field: &'static str,
) -> Result<(), CalendarError> {
    if intervals.len() > MAX_INTERVALS_PER_DAY {
        return Err(CalendarError::TooManyIntervals { field });
    }
    for (index, interval) in intervals.iter().enumerate() {
        if interval.open >= interval.close {
            return Err(CalendarError::OpenNotBeforeClose {
                field,
                index,
                open: interval.open,
                close: interval.close,
            });
        }
        if index > 0 {
            let previous = intervals[index - 1];
            if interval.close <= previous.open {
                return Err(CalendarError::IntervalsOutOfOrder { field, index });
            }
            if interval.open < previous.close {
                return Err(CalendarError::OverlappingIntervals { field, index });
            }
        }
    }
    Ok(())
}

fn business_day_minutes(definition: &CalendarDefinition) -> Option<u32> {
    let day_minutes = |intervals: &[OpenInterval]| {
        intervals
            .iter()
            .map(|i| u32::from(i.minutes()))
            .sum::<u32>()
    };
    let mut lengths = DayOfWeek::ALL
        .iter()
        .map(|&day| day_minutes(definition.week.on(day)))
        .filter(|&minutes| minutes > 0)
        .chain(
            Some(day_minutes(definition.on_holidays.intervals())).filter(|&minutes| minutes > 0),
        );
    let first = lengths.next()?;
    lengths.all(|minutes| minutes == first).then_some(first)
}

/// A due-time target: a whole number of minutes or hours of open time, or of business days.
/// Written `{"minutes": 20}`, `{"hours": 4}`, `{"business_days": 5}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Minutes(u64),
    Hours(u64),
    BusinessDays(u64),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Minutes(n) => write!(f, "{n} min"),
            Target::Hours(n) => write!(f, "{n} h"),
            Target::BusinessDays(1) => f.write_str("1 business day"),
            Target::BusinessDays(n) => write!(f, "{n} business days"),
        }
    }
}

/// Names of the calendars shipped by default.
pub const SHIPPED_CALENDARS: [&str; 4] = ["24x7", "business", "tier1", "lra-team"];

fn hours(open: &str, close: &str) -> OpenInterval {
    // Literals below are valid times.
    let parse = |text: &str| text.parse().unwrap_or(WallTime::MIDNIGHT);
    OpenInterval::new(parse(open), parse(close))
}

/// The definition of a shipped calendar, as a starting point for a policy pack:
/// - `24x7`: always open, America/Toronto, no holidays;
/// - `business`: Mon–Fri 08:00–17:00 America/Toronto, closed on Ontario holidays
///   (statutory and the operator's);
/// - `tier1`: Mon–Fri 07:00–23:00; Sat, Sun and holidays (observed days) 08:00–16:00;
/// - `lra-team`: Mon–Fri 08:00–16:00 America/Toronto, closed on holidays.
pub fn shipped_definition(name: &str) -> Option<CalendarDefinition> {
    use DayOfWeek::*;
    const WEEKDAYS: [DayOfWeek; 5] = [Mon, Tue, Wed, Thu, Fri];
    let toronto = "America/Toronto".to_owned();
    let operator = HolidayRules::Named(HolidaySetName::OntarioOperator);
    let (week, holidays, on_holidays) = match name {
        "24x7" => (
            WeeklyHours::uniform(&DayOfWeek::ALL, &[hours("00:00", "24:00")]),
            HolidayRules::Named(HolidaySetName::None),
            HolidayHours::Closed,
        ),
        "business" => (
            WeeklyHours::uniform(&WEEKDAYS, &[hours("08:00", "17:00")]),
            operator,
            HolidayHours::Closed,
        ),
        "tier1" => {
            let mut week = WeeklyHours::uniform(&WEEKDAYS, &[hours("07:00", "23:00")]);
            week.sat = vec![hours("08:00", "16:00")];
            week.sun = vec![hours("08:00", "16:00")];
            (
                week,
                operator,
                HolidayHours::Hours(vec![hours("08:00", "16:00")]),
            )
        }
        "lra-team" => (
            WeeklyHours::uniform(&WEEKDAYS, &[hours("08:00", "16:00")]),
            operator,
            HolidayHours::Closed,
        ),
        _ => return None,
    };
    Some(CalendarDefinition {
        name: name.to_owned(),
        time_zone: toronto,
        week,
        holidays,
        on_holidays,
        closures: Vec::new(),
    })
}

static SHIPPED: LazyLock<Vec<Calendar>> = LazyLock::new(|| {
    SHIPPED_CALENDARS
        .iter()
        .filter_map(|name| shipped_definition(name))
        .filter_map(|definition| Calendar::new(definition).ok())
        .collect()
});

/// A shipped calendar by name (`"24x7"`, `"business"`, `"tier1"`, `"lra-team"`). Shared by
/// the whole process, so its tables are built once.
pub fn shipped_calendar(name: &str) -> Option<&'static Calendar> {
    SHIPPED.iter().find(|calendar| calendar.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn definition(json: &str) -> CalendarDefinition {
        serde_json::from_str(json).unwrap()
    }

    fn error(json: &str) -> CalendarError {
        Calendar::new(definition(json)).unwrap_err()
    }

    #[test]
    fn every_shipped_calendar_is_valid_and_found_by_name() {
        for name in SHIPPED_CALENDARS {
            let calendar = shipped_calendar(name).unwrap();
            assert_eq!(calendar.name(), name);
            assert_eq!(calendar.time_zone().iana_name(), Some("America/Toronto"));
        }
        assert!(shipped_calendar("nights").is_none());
        let hour = |h: u64| Some(std::time::Duration::from_secs(h * 3600));
        assert_eq!(
            shipped_calendar("business").unwrap().business_day(),
            hour(9)
        );
        assert_eq!(
            shipped_calendar("lra-team").unwrap().business_day(),
            hour(8)
        );
        assert_eq!(shipped_calendar("24x7").unwrap().business_day(), hour(24));
        assert_eq!(shipped_calendar("tier1").unwrap().business_day(), None);
    }

    #[test]
    fn calendars_round_trip_through_json() {
        let json = r#"{"name":"tier1","time_zone":"America/Toronto","week":{"mon":[["07:00","12:00"],["13:00","24:00"]],"sat":[["08:00","16:00"]]},"holidays":"ontario-operator","on_holidays":[["08:00","16:00"]],"closures":[{"date":"2026-12-31","name":"Inventory"},{"date":"2027-01-04"}]}"#;
        let calendar: Calendar = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&calendar).unwrap(), json);
        assert_eq!(calendar.definition().closures[0].date, date(2026, 12, 31));
        for name in SHIPPED_CALENDARS {
            let calendar = shipped_calendar(name).unwrap();
            let text = serde_json::to_string(calendar).unwrap();
            let back: Calendar = serde_json::from_str(&text).unwrap();
            assert_eq!(&back, calendar);
        }
        let business = serde_json::to_string(shipped_calendar("business").unwrap()).unwrap();
        assert_eq!(
            business,
            r#"{"name":"business","time_zone":"America/Toronto","week":{"mon":[["08:00","17:00"]],"tue":[["08:00","17:00"]],"wed":[["08:00","17:00"]],"thu":[["08:00","17:00"]],"fri":[["08:00","17:00"]]},"holidays":"ontario-operator","on_holidays":"closed"}"#
        );
    }

    #[test]
    fn defaults_are_no_holidays_and_closed_on_holidays() {
        let def =
            definition(r#"{"name":"x","time_zone":"UTC","week":{"mon":[["09:00","10:00"]]}}"#);
        assert_eq!(def.holidays, HolidayRules::Named(HolidaySetName::None));
        assert_eq!(def.on_holidays, HolidayHours::Closed);
        assert!(Calendar::new(def).is_ok());
    }

    #[test]
    fn validation_names_the_field() {
        let e = error(
            r#"{"name":"x","time_zone":"America/Torono","week":{"mon":[["09:00","10:00"]]}}"#,
        );
        assert_eq!(e, CalendarError::UnknownTimeZone("America/Torono".into()));
        assert_eq!((e.code(), e.field()), ("unknown_time_zone", "time_zone"));

        let e = error(r#"{"name":"x","time_zone":"UTC","week":{"tue":[["10:00","10:00"]]}}"#);
        assert_eq!((e.code(), e.field()), ("open_not_before_close", "week.tue"));

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"wed":[["08:00","12:00"],["11:00","13:00"]]}}"#,
        );
        assert_eq!(
            e,
            CalendarError::OverlappingIntervals {
                field: "week.wed",
                index: 1
            }
        );

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"fri":[["13:00","17:00"],["08:00","12:00"]]}}"#,
        );
        assert_eq!(
            (e.code(), e.field()),
            ("intervals_out_of_order", "week.fri")
        );

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"on_holidays":[["12:00","09:00"]]}"#,
        );
        assert_eq!(
            (e.code(), e.field()),
            ("open_not_before_close", "on_holidays")
        );

        let e = error(r#"{"name":"x","time_zone":"UTC","week":{}}"#);
        assert_eq!((e.code(), e.field()), ("never_open", "week"));

        let e = error(r#"{"name":" ","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]}}"#);
        assert_eq!((e.code(), e.field()), ("invalid_name", "name"));

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"closures":[{"date":"2026-01-02"},{"date":"2026-01-02","name":"again"}]}"#,
        );
        assert_eq!(e, CalendarError::DuplicateClosure(date(2026, 1, 2)));
        assert_eq!(e.field(), "closures");

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"closures":[{"date":"2500-01-02"}]}"#,
        );
        assert_eq!((e.code(), e.field()), ("out_of_range", "closures"));

        let e = error(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"holidays":[{"name_en":"A","name_fr":"B","date":{"kind":"fixed","month":2,"day":30}}]}"#,
        );
        assert_eq!((e.code(), e.field()), ("invalid_holiday_rule", "holidays"));

        let domain: DomainError = e.into();
        assert_eq!(
            domain,
            DomainError::field("invalid_holiday_rule", "holidays")
        );
    }

    #[test]
    fn adjacent_intervals_and_24_00_are_accepted() {
        let def = definition(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["00:00","12:00"],["12:00","24:00"]]}}"#,
        );
        assert!(Calendar::new(def).is_ok());
    }

    #[test]
    fn malformed_json_is_refused_by_serde() {
        for json in [
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["8:00","12:00"]]}}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["24:30","12:00"]]}}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:60","12:00"]]}}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00"]]}}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"monday":[["08:00","12:00"]]}}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"on_holidays":"open"}"#,
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]]},"colour":"red"}"#,
        ] {
            assert!(
                serde_json::from_str::<CalendarDefinition>(json).is_err(),
                "{json}"
            );
        }
        // Validation errors surface through serde too, with their message.
        let message = serde_json::from_str::<Calendar>(
            r#"{"name":"x","time_zone":"Mars/Base","week":{"mon":[["08:00","12:00"]]}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(message.contains("unknown time zone"), "{message}");
    }

    #[test]
    fn wall_times_parse_and_print() {
        assert_eq!("00:00".parse::<WallTime>(), Ok(WallTime::MIDNIGHT));
        assert_eq!("24:00".parse::<WallTime>(), Ok(WallTime::END_OF_DAY));
        assert_eq!("07:30".parse::<WallTime>().unwrap().minute_of_day(), 450);
        assert_eq!(WallTime::new(23, 59).unwrap().to_string(), "23:59");
        for bad in [
            "24:01", "7:30", "07:3", "07-30", "ab:cd", "25:00", "", "07:30:00",
        ] {
            assert!(bad.parse::<WallTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn business_days_need_equal_open_days() {
        let cal = |json: &str| Calendar::new(definition(json)).unwrap();
        let split = cal(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"],["13:00","18:00"]],"tue":[["09:00","18:00"]]}}"#,
        );
        assert_eq!(
            split.business_day(),
            Some(std::time::Duration::from_secs(9 * 3600))
        );
        let uneven = cal(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","12:00"]],"tue":[["09:00","18:00"]]}}"#,
        );
        assert_eq!(uneven.business_day(), None);
        let short_holidays = cal(
            r#"{"name":"x","time_zone":"UTC","week":{"mon":[["08:00","17:00"]]},"on_holidays":[["08:00","12:00"]]}"#,
        );
        assert_eq!(short_holidays.business_day(), None);
    }

    #[test]
    fn targets_are_written_as_units() {
        assert_eq!(
            serde_json::to_string(&Target::BusinessDays(5)).unwrap(),
            r#"{"business_days":5}"#
        );
        assert_eq!(
            serde_json::from_str::<Target>(r#"{"hours":4}"#).unwrap(),
            Target::Hours(4)
        );
        assert!(serde_json::from_str::<Target>(r#"{"minutes":-1}"#).is_err());
        assert!(serde_json::from_str::<Target>(r#"{"minutes":1.5}"#).is_err());
        assert_eq!(Target::BusinessDays(2).to_string(), "2 business days");
    }
}
