//! Property tests: the fast due-time arithmetic of `domain::due` against a slow reference
//! written separately here.
//!
//! The reference uses only a calendar's public description (zone name, weekly hours, holiday
//! hours, closures) and the public list of observed holidays, which has its own table tests.
//! It never converts a wall-clock time to an instant: it steps through time minute by minute
//! (second by second in one property), converts each instant to the zone's wall clock, keeps
//! the highest reading seen so far (the reading stands still while a fall-back hour repeats,
//! and a spring-forward jump skips readings), and calls an instant open when that reading lies
//! in an open interval of its date. This is the rule documented in `domain::due`.
//!
//! Stepping by minutes is exact here because every zone used has whole-minute offsets and
//! transitions in the years tested, and all calendar times are whole minutes: openness is
//! constant within each minute.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use domain::calendar::{
    Calendar, CalendarDefinition, Closure, DayOfWeek, HolidayHours, OpenInterval, Target, WallTime,
    WeeklyHours, shipped_calendar,
};
use domain::due::{add_open_time, due, due_explained, is_open_at, open_time_between};
use domain::holiday::{HolidayRules, HolidaySetName};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use proptest::prelude::*;

/// Years whose holidays the reference knows; starts are drawn well inside.
const REFERENCE_YEARS: std::ops::RangeInclusive<i16> = 2022..=2034;
/// 2024-01-01T00:00:00Z and 2031-12-31T00:00:00Z.
const FIRST_START: i64 = 1_704_067_200;
const LAST_START: i64 = 1_956_528_000;

/// A wall-clock reading: civil date and minute of the day.
type Reading = (Date, u16);

struct Reference {
    zone: TimeZone,
    week: HashMap<jiff::civil::Weekday, Vec<(u16, u16)>>,
    holiday_hours: Vec<(u16, u16)>,
    holiday_dates: HashSet<Date>,
    closure_dates: HashSet<Date>,
}

fn minutes(intervals: &[OpenInterval]) -> Vec<(u16, u16)> {
    intervals
        .iter()
        .map(|i| (i.open.minute_of_day(), i.close.minute_of_day()))
        .collect()
}

impl Reference {
    fn new(calendar: &Calendar) -> Self {
        let definition = calendar.definition();
        let mut holiday_dates = HashSet::new();
        for year in REFERENCE_YEARS {
            for holiday in calendar.holidays_in_year(year).unwrap() {
                holiday_dates.insert(holiday.observed);
            }
        }
        Reference {
            zone: TimeZone::get(&definition.time_zone).unwrap(),
            week: DayOfWeek::ALL
                .iter()
                .map(|&day| (day.to_jiff(), minutes(definition.week.on(day))))
                .collect(),
            holiday_hours: minutes(definition.on_holidays.intervals()),
            holiday_dates,
            closure_dates: definition.closures.iter().map(|c| c.date).collect(),
        }
    }

    fn reading(&self, second: i64) -> Reading {
        let civil = self
            .zone
            .to_datetime(Timestamp::from_second(second).unwrap());
        let minute = civil.hour() as u16 * 60 + civil.minute() as u16;
        (civil.date(), minute)
    }

    fn open_at_reading(&self, (date, minute): Reading) -> bool {
        let hours: &[(u16, u16)] = if self.closure_dates.contains(&date) {
            &[]
        } else if self.holiday_dates.contains(&date) {
            &self.holiday_hours
        } else {
            &self.week[&date.weekday()]
        };
        hours
            .iter()
            .any(|&(open, close)| open <= minute && minute < close)
    }

    /// Openness of each step of `step` seconds from `from` (aligned to `step`) on.
    fn steps(&self, from: i64, step: i64) -> impl Iterator<Item = (i64, bool)> + '_ {
        let first = from.div_euclid(step) * step;
        // Warm the high-water reading over the day before.
        let mut highest = (first - 26 * 3600..first)
            .step_by(60)
            .map(|second| self.reading(second))
            .max()
            .unwrap();
        (0..).map(move |k| {
            let at = first + k * step;
            highest = highest.max(self.reading(at));
            (at, self.open_at_reading(highest))
        })
    }

    fn is_open(&self, at: i64) -> bool {
        self.steps(at, 60).next().unwrap().1
    }

    /// First instant at which `target` open seconds have passed since `start`.
    fn due(&self, start: i64, target: i64, step: i64) -> i64 {
        if target == 0 {
            return start;
        }
        let mut remaining = target;
        for (count, (at, open)) in self.steps(start, step).enumerate() {
            assert!(count < 400_000, "reference ran too long");
            if !open {
                continue;
            }
            let from = at.max(start);
            let available = at + step - from;
            if remaining <= available {
                return from + remaining;
            }
            remaining -= available;
        }
        unreachable!()
    }

    /// Open seconds in `[from, to)`.
    fn open_between(&self, from: i64, to: i64) -> i64 {
        self.steps(from, 60)
            .take_while(|(at, _)| *at < to)
            .filter(|(_, open)| *open)
            .map(|(at, _)| (at + 60).min(to) - at.max(from))
            .sum()
    }
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

// ---------------------------------------------------------------- strategies

const ZONES: &[&str] = &[
    "America/Toronto",
    "UTC",
    "Europe/London",
    "Australia/Lord_Howe", // 30-minute daylight saving
    "America/St_Johns",    // −03:30
    "America/Santiago",    // changes at midnight
    "America/Havana",      // changes at midnight/01:00
    "Pacific/Chatham",     // +12:45
    "Asia/Kolkata",
];

fn time(quarter: u16) -> WallTime {
    let minutes = quarter * 15;
    WallTime::new((minutes / 60) as u8, (minutes % 60) as u8).unwrap()
}

/// Up to three ordered, non-overlapping intervals on a 15-minute grid (sometimes touching).
fn day_hours() -> impl Strategy<Value = Vec<OpenInterval>> {
    (
        0usize..=3,
        proptest::collection::btree_set(0u16..=96, 6),
        any::<bool>(),
    )
        .prop_map(|(count, points, touch)| {
            let points: Vec<u16> = points.into_iter().collect();
            let mut intervals: Vec<OpenInterval> = points
                .chunks(2)
                .take(count)
                .filter(|pair| pair.len() == 2)
                .map(|pair| OpenInterval::new(time(pair[0]), time(pair[1])))
                .collect();
            if touch && intervals.len() >= 2 {
                intervals[1].open = intervals[0].close;
            }
            intervals
        })
}

fn random_calendar() -> impl Strategy<Value = Calendar> {
    (
        proptest::sample::select(ZONES),
        proptest::collection::vec(day_hours(), 7),
        proptest::sample::select(vec![
            HolidaySetName::None,
            HolidaySetName::OntarioStatutory,
            HolidaySetName::OntarioOperator,
        ]),
        prop_oneof![Just(None), day_hours().prop_map(Some)],
        proptest::collection::btree_set(0i64..8 * 366, 0..6),
    )
        .prop_map(|(zone, days, holidays, holiday_hours, closures)| {
            let mut week = WeeklyHours::default();
            for (day, hours) in DayOfWeek::ALL.into_iter().zip(days) {
                *week.on_mut(day) = hours;
            }
            if DayOfWeek::ALL.iter().all(|&day| week.on(day).is_empty()) {
                week.mon = vec![OpenInterval::new(time(36), time(68))];
            }
            let first = jiff::civil::date(2024, 1, 1);
            let definition = CalendarDefinition {
                name: "random".into(),
                time_zone: zone.into(),
                week,
                holidays: HolidayRules::Named(holidays),
                on_holidays: holiday_hours.map_or(HolidayHours::Closed, HolidayHours::Hours),
                closures: closures
                    .into_iter()
                    .map(|days| Closure {
                        date: first.checked_add(jiff::Span::new().days(days)).unwrap(),
                        name: None,
                        name_fr: None,
                    })
                    .collect(),
            };
            Calendar::new(definition).unwrap()
        })
}

/// Starts anywhere in 2024–2031, or within days of a daylight-saving change or a year end,
/// with whole seconds or on the minute.
fn start_for(zone: TimeZone) -> impl Strategy<Value = i64> {
    let transitions: Vec<i64> = zone
        .following(ts(FIRST_START))
        .map(|t| t.timestamp().as_second())
        .take_while(|&t| t < LAST_START)
        .collect();
    let year_ends: Vec<i64> = (2024..=2031)
        .map(|y| {
            jiff::civil::date(y, 12, 31)
                .to_zoned(zone.clone())
                .unwrap()
                .timestamp()
                .as_second()
        })
        .collect();
    let near = |instants: Vec<i64>| {
        (
            proptest::sample::select(instants),
            -4 * 86_400i64..=2 * 86_400,
        )
            .prop_map(|(at, offset)| at + offset)
    };
    let anywhere = (FIRST_START..LAST_START).boxed();
    let chosen = if transitions.is_empty() {
        prop_oneof![anywhere, near(year_ends)].boxed()
    } else {
        prop_oneof![anywhere, near(transitions), near(year_ends)].boxed()
    };
    (chosen, any::<bool>()).prop_map(|(at, on_minute)| {
        if on_minute {
            at - at.rem_euclid(60)
        } else {
            at
        }
    })
}

fn calendar_and_start() -> impl Strategy<Value = (Calendar, i64)> {
    random_calendar().prop_flat_map(|calendar| {
        let zone = calendar.time_zone().clone();
        (Just(calendar), start_for(zone))
    })
}

fn weekly_open_seconds(calendar: &Calendar) -> u64 {
    DayOfWeek::ALL
        .iter()
        .flat_map(|&day| calendar.definition().week.on(day))
        .map(|i| u64::from(i.minutes()) * 60)
        .sum()
}

fn shipped(name: &str) -> Calendar {
    shipped_calendar(name).unwrap().clone()
}

fn shipped_and_start() -> impl Strategy<Value = (Calendar, i64)> {
    proptest::sample::select(vec!["business", "tier1", "24x7", "lra-team"]).prop_flat_map(|name| {
        let calendar = shipped(name);
        let zone = calendar.time_zone().clone();
        (Just(calendar), start_for(zone))
    })
}

// ---------------------------------------------------------------- properties

/// `default` cases, or `REFERENCE_CASES` for a longer run
/// (`REFERENCE_CASES=20000 cargo nextest run -p domain --release --test calendar_reference`).
fn cases(default: u32) -> u32 {
    std::env::var("REFERENCE_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// Shipped calendars: minute targets up to 50 h, against the reference.
    #[test]
    fn shipped_due_matches_reference(
        (calendar, start) in shipped_and_start(),
        target_minutes in prop_oneof![0u64..=120, 0u64..=3000],
    ) {
        let reference = Reference::new(&calendar);
        let fast = due(&calendar, ts(start), Target::Minutes(target_minutes)).unwrap();
        let slow = reference.due(start, target_minutes as i64 * 60, 60);
        prop_assert_eq!(fast.as_second(), slow, "{} from {}", calendar.name(), ts(start));
    }

    /// Business days on the calendars that have them.
    #[test]
    fn business_days_match_reference(
        name in proptest::sample::select(vec!["business", "lra-team", "24x7"]),
        start in FIRST_START..LAST_START,
        days in 0u64..=4,
    ) {
        let calendar = shipped(name);
        let reference = Reference::new(&calendar);
        let fast = due(&calendar, ts(start), Target::BusinessDays(days)).unwrap();
        let day = calendar.business_day().unwrap().as_secs() as i64;
        prop_assert_eq!(fast.as_second(), reference.due(start, days as i64 * day, 60));
    }

    /// Random calendars (zones with odd offsets and midnight changes, split days, touching
    /// intervals, holiday hours, closures): due against the reference.
    #[test]
    fn random_calendar_due_matches_reference(
        (calendar, start) in calendar_and_start(),
        share in 0u64..=2000,
    ) {
        // Up to two weeks of the calendar's open time, at most 5000 minutes.
        let target = (weekly_open_seconds(&calendar) * share / 1000 / 60).min(5000);
        let reference = Reference::new(&calendar);
        let fast = due(&calendar, ts(start), Target::Minutes(target)).unwrap();
        let slow = reference.due(start, target as i64 * 60, 60);
        prop_assert_eq!(
            fast.as_second(), slow,
            "{} from {}: {}", target, ts(start), serde_json::to_string(&calendar).unwrap()
        );
    }

    /// Random calendars: open time between two instants against the reference.
    #[test]
    fn random_calendar_open_time_matches_reference(
        (calendar, start) in calendar_and_start(),
        length in prop_oneof![0i64..=3600, 0i64..=10 * 86_400],
    ) {
        let reference = Reference::new(&calendar);
        let fast = open_time_between(&calendar, ts(start), ts(start + length)).unwrap();
        let slow = reference.open_between(start, start + length);
        prop_assert_eq!(
            fast.as_secs() as i64, slow,
            "{} + {}: {}", ts(start), length, serde_json::to_string(&calendar).unwrap()
        );
    }

    /// Random calendars: whether an instant is open.
    #[test]
    fn random_calendar_is_open_matches_reference((calendar, at) in calendar_and_start()) {
        let reference = Reference::new(&calendar);
        prop_assert_eq!(is_open_at(&calendar, ts(at)).unwrap(), reference.is_open(at));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// Second by second, with targets in seconds, on random calendars: checks the
    /// minute-stepping reference's own assumption as well.
    #[test]
    fn due_matches_second_by_second_reference(
        (calendar, start) in calendar_and_start(),
        target in 0u64..=5400,
    ) {
        let fast = add_open_time(&calendar, ts(start), Duration::from_secs(target)).unwrap();
        // Stepping seconds is slow: leave sparse calendars to the minute-stepping properties.
        if fast.as_second() - start > 36 * 3600 {
            return Ok(());
        }
        let reference = Reference::new(&calendar);
        let slow = reference.due(start, target as i64, 1);
        prop_assert_eq!(fast.as_second(), slow, "{}", serde_json::to_string(&calendar).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// The open time from start to due is the target, up to 125 business days.
    #[test]
    fn open_time_to_due_is_the_target(
        (calendar, start) in prop_oneof![shipped_and_start(), calendar_and_start()],
        target in prop_oneof![
            (0u64..=10_000).prop_map(Target::Minutes),
            (0u64..=500).prop_map(Target::Hours),
            (0u64..=125).prop_map(Target::BusinessDays),
        ],
    ) {
        let Ok(due_at) = due(&calendar, ts(start), target) else {
            // Only business days on a calendar without them may be refused.
            prop_assert!(matches!(target, Target::BusinessDays(_)));
            prop_assert!(calendar.business_day().is_none());
            return Ok(());
        };
        let used = open_time_between(&calendar, ts(start), due_at).unwrap();
        let expected = domain::due::target_open_time(&calendar, target).unwrap();
        prop_assert_eq!(used, expected);
        // Due is the first such instant: one second earlier, not yet used up.
        if expected > Duration::ZERO {
            prop_assert!(due_at.as_second() > start);
            let before = open_time_between(&calendar, ts(start), ts(due_at.as_second() - 1)).unwrap();
            prop_assert_eq!(before + Duration::from_secs(1), expected);
            // And the second before due was open.
            prop_assert!(is_open_at(&calendar, ts(due_at.as_second() - 1)).unwrap());
        }
        let explained = due_explained(&calendar, ts(start), target).unwrap();
        prop_assert_eq!(explained.due, due_at);
        let counted: i64 = explained.counted.iter().map(|s| s.to.as_second() - s.from.as_second()).sum();
        prop_assert_eq!(counted as u64, expected.as_secs());
        for pair in explained.counted.windows(2) {
            prop_assert!(pair[0].to < pair[1].from);
        }
    }

    /// Later starts and larger targets never give earlier due times.
    #[test]
    fn due_is_monotonic(
        (calendar, start) in prop_oneof![shipped_and_start(), calendar_and_start()],
        delay in 0i64..=7 * 86_400,
        a in 0u64..=20_000,
        b in 0u64..=20_000,
    ) {
        let (small, large) = (a.min(b), a.max(b));
        let at = |start: i64, minutes: u64| due(&calendar, ts(start), Target::Minutes(minutes)).unwrap();
        prop_assert!(at(start, small) <= at(start, large));
        prop_assert!(at(start, small) <= at(start + delay, small));
        prop_assert!(at(start, small).as_second() >= start);
    }

    /// Open time is additive over adjacent periods.
    #[test]
    fn open_time_is_additive(
        (calendar, start) in prop_oneof![shipped_and_start(), calendar_and_start()],
        first in 0i64..=400 * 86_400,
        second in 0i64..=400 * 86_400,
    ) {
        let between = |from: i64, to: i64| open_time_between(&calendar, ts(from), ts(to)).unwrap();
        let middle = start + first;
        let end = middle + second;
        prop_assert_eq!(between(start, middle) + between(middle, end), between(start, end));
    }
}

/// Every daylight-saving change of 2025–2026 in every test zone, with calendars whose
/// intervals start and end all around the usual change times: minute by minute, the fast
/// openness, open time and due times agree with the reference.
#[test]
fn every_transition_day_matches_reference() {
    let quarters = |pairs: &[(u16, u16)]| -> Vec<OpenInterval> {
        pairs
            .iter()
            .map(|&(open, close)| OpenInterval::new(time(open), time(close)))
            .collect()
    };
    let layouts = [
        quarters(&[(0, 3), (4, 6), (7, 9), (10, 12), (13, 16), (92, 96)]),
        quarters(&[(1, 5), (6, 8), (9, 11), (11, 14), (30, 70)]),
        quarters(&[(0, 96)]),
    ];
    let mut transition_days = 0;
    for zone_name in ZONES {
        let zone = TimeZone::get(zone_name).unwrap();
        let from = jiff::civil::date(2025, 1, 1)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp();
        let transitions: Vec<i64> = zone
            .following(from)
            .map(|t| t.timestamp().as_second())
            .take_while(|&t| t < 1_798_761_600) // 2027-01-01
            .collect();
        for hours in &layouts {
            let definition = CalendarDefinition {
                name: "sweep".into(),
                time_zone: (*zone_name).into(),
                week: WeeklyHours::uniform(&DayOfWeek::ALL, hours),
                holidays: HolidayRules::Named(HolidaySetName::None),
                on_holidays: HolidayHours::Closed,
                closures: Vec::new(),
            };
            let calendar = Calendar::new(definition).unwrap();
            let reference = Reference::new(&calendar);
            for &transition in &transitions {
                transition_days += 1;
                let start = transition - transition.rem_euclid(60) - 30 * 3600;
                let end = start + 60 * 3600;
                let mut used = 0;
                for (at, open) in reference.steps(start, 60).take_while(|(at, _)| *at < end) {
                    assert_eq!(
                        is_open_at(&calendar, ts(at)).unwrap(),
                        open,
                        "{zone_name} {} {hours:?}",
                        ts(at)
                    );
                    assert_eq!(
                        open_time_between(&calendar, ts(start), ts(at))
                            .unwrap()
                            .as_secs(),
                        used,
                        "{zone_name} {}",
                        ts(at)
                    );
                    if open {
                        used += 60;
                        // The due of exactly the open time so far is the end of this minute.
                        let due_at =
                            add_open_time(&calendar, ts(start), Duration::from_secs(used)).unwrap();
                        assert_eq!(due_at.as_second(), at + 60, "{zone_name} {}", ts(at));
                    }
                }
            }
        }
    }
    // Toronto, London, Lord Howe, St John's, Santiago, Havana, Chatham: 4 changes each.
    assert_eq!(transition_days, 3 * 7 * 4);
}
