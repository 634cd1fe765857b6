//! Worked examples of due-time arithmetic: the spec's, and the edges around them (holidays on
//! weekends, daylight-saving changes, year ends, business days, limits).
use std::time::Duration;

use domain::calendar::{
    Calendar, CalendarDefinition, CalendarError, MAX_BUSINESS_DAYS, MAX_TARGET_MINUTES, Target,
    shipped_calendar,
};
use domain::due::{
    DayCause, OpenSpan, add_open_time, day_schedule, due, due_explained, is_open_at,
    open_time_between, target_open_time,
};
use jiff::Timestamp;
use jiff::civil::date;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn cal(name: &str) -> &'static Calendar {
    shipped_calendar(name).unwrap()
}

fn custom(json: &str) -> Calendar {
    let definition: CalendarDefinition = serde_json::from_str(json).unwrap();
    Calendar::new(definition).unwrap()
}

/// (calendar, start, target, expected due)
const TABLE: &[(&str, &str, Target, &str)] = &[
    // The spec's worked examples.
    (
        "business",
        "2026-01-16T16:30:00-05:00",
        Target::Hours(12),
        "2026-01-20T15:30:00Z",
    ),
    (
        "business",
        "2026-01-19T08:00:00-05:00",
        Target::Hours(9),
        "2026-01-19T22:00:00Z",
    ),
    (
        "business",
        "2025-12-24T16:00:00-05:00",
        Target::Hours(2),
        "2025-12-29T14:00:00Z",
    ),
    (
        "business",
        "2026-03-06T16:00:00-05:00",
        Target::Hours(4),
        "2026-03-09T15:00:00Z",
    ),
    (
        "tier1",
        "2025-11-01T15:00:00-04:00",
        Target::Hours(12),
        "2025-11-03T15:00:00Z",
    ),
    // Start outside hours counts from the next opening.
    (
        "business",
        "2026-01-17T10:00:00-05:00",
        Target::Hours(1),
        "2026-01-19T14:00:00Z",
    ),
    (
        "business",
        "2026-01-19T06:00:00-05:00",
        Target::Hours(1),
        "2026-01-19T14:00:00Z",
    ),
    (
        "business",
        "2026-01-19T17:00:00-05:00",
        Target::Minutes(1),
        "2026-01-20T13:01:00Z",
    ),
    // Used up exactly at closing: due at closing.
    (
        "business",
        "2026-01-19T16:59:00-05:00",
        Target::Minutes(1),
        "2026-01-19T22:00:00Z",
    ),
    (
        "business",
        "2026-01-16T08:00:00-05:00",
        Target::Hours(18),
        "2026-01-19T22:00:00Z",
    ),
    // Target 0 is the start itself, open or closed.
    (
        "business",
        "2026-01-19T10:00:00-05:00",
        Target::Minutes(0),
        "2026-01-19T15:00:00Z",
    ),
    (
        "business",
        "2026-01-18T10:00:00-05:00",
        Target::Minutes(0),
        "2026-01-18T15:00:00Z",
    ),
    (
        "business",
        "2026-01-18T10:00:00-05:00",
        Target::BusinessDays(0),
        "2026-01-18T15:00:00Z",
    ),
    // Any UTC offset: only the instant matters.
    (
        "business",
        "2026-01-16T21:30:00Z",
        Target::Hours(12),
        "2026-01-20T15:30:00Z",
    ),
    // Business days: N × the weekday's open hours.
    (
        "business",
        "2026-01-19T08:00:00-05:00",
        Target::BusinessDays(1),
        "2026-01-19T22:00:00Z",
    ),
    (
        "business",
        "2026-01-19T10:00:00-05:00",
        Target::BusinessDays(1),
        "2026-01-20T15:00:00Z",
    ),
    (
        "business",
        "2026-01-16T10:00:00-05:00",
        Target::BusinessDays(2),
        "2026-01-20T15:00:00Z",
    ),
    (
        "business",
        "2025-12-24T10:00:00-05:00",
        Target::BusinessDays(2),
        "2025-12-30T15:00:00Z",
    ),
    (
        "lra-team",
        "2026-01-19T08:00:00-05:00",
        Target::BusinessDays(1),
        "2026-01-19T21:00:00Z",
    ),
    (
        "lra-team",
        "2026-01-19T15:00:00-05:00",
        Target::BusinessDays(1),
        "2026-01-20T20:00:00Z",
    ),
    // 24x7: a business day is 24 h of elapsed time, even across a DST change.
    (
        "24x7",
        "2026-03-07T12:00:00-05:00",
        Target::BusinessDays(1),
        "2026-03-08T17:00:00Z",
    ),
    (
        "24x7",
        "2025-11-01T12:00:00-04:00",
        Target::Hours(24),
        "2025-11-02T16:00:00Z",
    ),
    (
        "24x7",
        "2025-12-24T16:00:00-05:00",
        Target::Minutes(20),
        "2025-12-24T21:20:00Z",
    ),
    // Fall back: Friday 16:00 EDT + 4 h = 1 h Friday + 3 h Monday (EST).
    (
        "business",
        "2025-10-31T16:00:00-04:00",
        Target::Hours(4),
        "2025-11-03T16:00:00Z",
    ),
    // Year end: Thursday 2026-12-31, New Year's Day Friday: Monday 2027-01-04.
    (
        "business",
        "2026-12-31T16:00:00-05:00",
        Target::Hours(2),
        "2027-01-04T14:00:00Z",
    ),
    // Christmas Saturday 2027, Boxing Day Sunday: closed Monday 27 and Tuesday 28.
    (
        "business",
        "2027-12-24T16:00:00-05:00",
        Target::Hours(2),
        "2027-12-29T14:00:00Z",
    ),
    // Christmas Sunday 2022, Boxing Day Monday: closed Monday 26 and Tuesday 27.
    (
        "business",
        "2022-12-23T16:00:00-05:00",
        Target::Hours(2),
        "2022-12-28T14:00:00Z",
    ),
    // New Year's Day 2028 on a Saturday: observed Monday January 3.
    (
        "business",
        "2027-12-31T16:00:00-05:00",
        Target::Hours(2),
        "2028-01-04T14:00:00Z",
    ),
    // Canada Day 2029 on a Sunday: observed Monday July 2.
    (
        "business",
        "2029-06-29T16:00:00-04:00",
        Target::Hours(2),
        "2029-07-03T13:00:00Z",
    ),
    // Easter 2026: Good Friday April 3 and Easter Monday April 6 closed.
    (
        "business",
        "2026-04-02T16:00:00-04:00",
        Target::Hours(2),
        "2026-04-07T13:00:00Z",
    ),
    // Victoria Day 2026 (May 18), Civic Holiday 2026 (August 3).
    (
        "business",
        "2026-05-15T16:00:00-04:00",
        Target::Hours(2),
        "2026-05-19T13:00:00Z",
    ),
    (
        "lra-team",
        "2026-07-31T15:00:00-04:00",
        Target::Hours(2),
        "2026-08-04T13:00:00Z",
    ),
    // tier1: holiday hours 08:00–16:00 on the observed day (Monday 2027-12-27).
    (
        "tier1",
        "2027-12-27T07:00:00-05:00",
        Target::Hours(1),
        "2027-12-27T14:00:00Z",
    ),
    (
        "tier1",
        "2027-12-24T22:00:00-05:00",
        Target::Hours(10),
        "2027-12-26T14:00:00Z",
    ),
    (
        "tier1",
        "2026-01-19T22:30:00-05:00",
        Target::Minutes(60),
        "2026-01-20T12:30:00Z",
    ),
    // Sub-second starts are taken at the whole second before.
    (
        "business",
        "2026-01-19T08:00:00.700-05:00",
        Target::Hours(1),
        "2026-01-19T14:00:00Z",
    ),
    (
        "business",
        "2026-01-19T09:59:59.999-05:00",
        Target::Minutes(0),
        "2026-01-19T14:59:59Z",
    ),
];

#[test]
fn table_of_due_times() {
    for &(name, start, target, expected) in TABLE {
        let calendar = cal(name);
        let got = due(calendar, at(start), target).unwrap();
        assert_eq!(got.to_string(), expected, "{name} {start} + {target}");
        // The open time between start and due is the target.
        let used = open_time_between(calendar, at(start), got).unwrap();
        assert_eq!(
            used,
            target_open_time(calendar, target).unwrap(),
            "{name} {start}"
        );
        // The explanation agrees.
        let explained = due_explained(calendar, at(start), target).unwrap();
        assert_eq!(explained.due, got);
        let counted: i64 = explained
            .counted
            .iter()
            .map(|span| span.to.as_second() - span.from.as_second())
            .sum();
        assert_eq!(counted as u64, used.as_secs());
    }
}

#[test]
fn due_times_print_as_the_spec_format() {
    let got = due(
        cal("business"),
        at("2025-12-24T16:00:00-05:00"),
        Target::Hours(2),
    )
    .unwrap();
    assert_eq!(
        got.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "2025-12-29T14:00:00Z"
    );
    assert_eq!(got.to_string(), "2025-12-29T14:00:00Z");
}

#[test]
fn business_days_are_refused_on_tier1() {
    let error = due(
        cal("tier1"),
        at("2026-01-19T08:00:00Z"),
        Target::BusinessDays(1),
    )
    .unwrap_err();
    assert_eq!(error, CalendarError::BusinessDaysUndefined);
    assert_eq!(
        (error.code(), error.field()),
        ("business_days_undefined", "target")
    );
    // Minutes and hours are fine on tier1.
    assert!(
        due(
            cal("tier1"),
            at("2026-01-19T08:00:00Z"),
            Target::Minutes(20)
        )
        .is_ok()
    );
}

#[test]
fn absurd_targets_are_refused() {
    let start = at("2026-01-19T08:00:00Z");
    let business = cal("business");
    for target in [
        Target::Minutes(MAX_TARGET_MINUTES + 1),
        Target::Hours(MAX_TARGET_MINUTES / 60 + 1),
        Target::Hours(u64::MAX),
        Target::Minutes(u64::MAX),
        Target::BusinessDays(MAX_BUSINESS_DAYS + 1),
        Target::BusinessDays(u64::MAX),
    ] {
        assert_eq!(
            due(business, start, target),
            Err(CalendarError::TargetTooLarge),
            "{target}"
        );
    }
    assert_eq!(
        add_open_time(business, start, Duration::from_secs(u64::MAX)),
        Err(CalendarError::TargetTooLarge)
    );
    // The largest targets are accepted, and consistent.
    for target in [
        Target::Minutes(MAX_TARGET_MINUTES),
        Target::BusinessDays(MAX_BUSINESS_DAYS),
    ] {
        let got = due(business, start, target).unwrap();
        let used = open_time_between(business, start, got).unwrap();
        assert_eq!(used, target_open_time(business, target).unwrap());
    }
}

#[test]
fn one_hundred_twenty_five_business_days() {
    let business = cal("business");
    let start = at("2026-02-02T13:00:00Z"); // Monday 08:00 EST
    let got = due(business, start, Target::BusinessDays(125)).unwrap();
    // 26 weeks of weekdays from Monday Feb 2 2026 are 130 days, of which Family Day, Good
    // Friday, Easter Monday, Victoria Day and Canada Day are holidays: the 125th working day
    // is Friday 31 July, due at its closing.
    assert_eq!(got, at("2026-07-31T21:00:00Z"));
    assert_eq!(
        open_time_between(business, start, got).unwrap(),
        Duration::from_secs(125 * 9 * 3600)
    );
}

#[test]
fn instants_outside_the_supported_years_are_refused() {
    let business = cal("business");
    let error = due(business, at("2400-06-01T12:00:00Z"), Target::Hours(1)).unwrap_err();
    assert_eq!(error, CalendarError::OutOfRange { field: "start" });
    let error = due(
        business,
        at("2399-12-31T12:00:00Z"),
        Target::BusinessDays(10),
    )
    .unwrap_err();
    assert_eq!(error, CalendarError::OutOfRange { field: "target" });
    assert!(due(business, at("1899-06-01T12:00:00Z"), Target::Hours(1)).is_err());
    // Just inside: the last evening of 2399 in Toronto is 2400 in UTC.
    let late = at("2400-01-01T03:00:00Z");
    assert_eq!(
        due(cal("24x7"), late, Target::Minutes(30)).unwrap(),
        at("2400-01-01T03:30:00Z")
    );
}

#[test]
fn open_time_between_counts_only_open_hours() {
    let business = cal("business");
    let between = |from: &str, to: &str| open_time_between(business, at(from), at(to)).unwrap();
    assert_eq!(
        between("2026-01-16T16:30:00-05:00", "2026-01-20T10:30:00-05:00"),
        Duration::from_secs(12 * 3600)
    );
    assert_eq!(
        between("2026-01-17T00:00:00Z", "2026-01-18T00:00:00Z"),
        Duration::ZERO
    );
    assert_eq!(
        between("2026-01-19T12:00:00Z", "2026-01-19T12:00:00Z"),
        Duration::ZERO
    );
    // Across a year: 2026 has 261 weekdays, of which 12 are observed holidays (Boxing Day
    // observed Monday 28).
    assert_eq!(
        between("2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00"),
        Duration::from_secs((261 - 12) * 9 * 3600)
    );
    assert_eq!(
        open_time_between(
            business,
            at("2026-01-02T00:00:00Z"),
            at("2026-01-01T00:00:00Z")
        ),
        Err(CalendarError::EndBeforeStart)
    );
    // 24x7 counts elapsed time, 23 h on the spring-forward day.
    assert_eq!(
        open_time_between(
            cal("24x7"),
            at("2026-03-08T00:00:00-05:00"),
            at("2026-03-09T00:00:00-04:00")
        )
        .unwrap(),
        Duration::from_secs(23 * 3600)
    );
}

#[test]
fn is_open_follows_half_open_intervals() {
    let business = cal("business");
    let open = |text: &str| is_open_at(business, at(text)).unwrap();
    assert!(open("2026-01-19T08:00:00-05:00"));
    assert!(open("2026-01-19T16:59:59-05:00"));
    assert!(!open("2026-01-19T17:00:00-05:00"));
    assert!(!open("2026-01-19T07:59:59-05:00"));
    assert!(!open("2026-01-17T12:00:00-05:00"));
    assert!(!open("2025-12-25T12:00:00-05:00"));
    assert!(!open("2026-12-28T12:00:00-05:00")); // Boxing Day observed
    assert!(open("2026-12-24T12:00:00-05:00"));
    let tier1 = cal("tier1");
    assert!(is_open_at(tier1, at("2026-12-28T15:59:00-05:00")).unwrap());
    assert!(!is_open_at(tier1, at("2026-12-28T16:00:00-05:00")).unwrap());
    assert!(is_open_at(tier1, at("2026-12-29T22:59:00-05:00")).unwrap());
}

#[test]
fn explanation_lists_the_intervals_and_the_holidays_skipped() {
    let business = cal("business");
    let explained =
        due_explained(business, at("2025-12-24T16:00:00-05:00"), Target::Hours(2)).unwrap();
    assert_eq!(explained.due, at("2025-12-29T14:00:00Z"));
    assert_eq!(explained.open_seconds, 7200);
    assert_eq!(
        explained.counted,
        vec![
            OpenSpan {
                from: at("2025-12-24T21:00:00Z"),
                to: at("2025-12-24T22:00:00Z")
            },
            OpenSpan {
                from: at("2025-12-29T13:00:00Z"),
                to: at("2025-12-29T14:00:00Z")
            },
        ]
    );
    let names: Vec<(jiff::civil::Date, &str)> = explained
        .special_days
        .iter()
        .map(|day| match &day.cause {
            DayCause::Holiday { name_en, .. } => (day.date, name_en.as_str()),
            DayCause::Closure { .. } => (day.date, "closure"),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (date(2025, 12, 25), "Christmas Day"),
            (date(2025, 12, 26), "Boxing Day")
        ]
    );
    assert!(
        explained
            .special_days
            .iter()
            .all(|day| day.hours.is_empty())
    );
    let json = serde_json::to_string(&explained).unwrap();
    assert!(
        json.contains(r#""kind":"holiday","name_en":"Christmas Day""#),
        "{json}"
    );

    // A substituted holiday names its own date.
    let explained =
        due_explained(business, at("2027-12-24T16:00:00-05:00"), Target::Hours(2)).unwrap();
    let boxing = &explained.special_days[1];
    assert_eq!(boxing.date, date(2027, 12, 28));
    assert!(
        matches!(&boxing.cause, DayCause::Holiday { date: own, .. } if *own == date(2027, 12, 26))
    );

    // 24x7: one continuous interval.
    let explained = due_explained(
        cal("24x7"),
        at("2026-03-07T12:00:00Z"),
        Target::BusinessDays(3),
    )
    .unwrap();
    assert_eq!(explained.counted.len(), 1);
    assert!(explained.special_days.is_empty());

    // Target 0: nothing counted.
    let explained =
        due_explained(business, at("2026-01-18T12:00:00Z"), Target::Minutes(0)).unwrap();
    assert_eq!(explained.due, at("2026-01-18T12:00:00Z"));
    assert!(explained.counted.is_empty());
}

#[test]
fn closures_close_the_whole_day_and_are_explained() {
    let calendar = custom(
        r#"{"name":"closing","time_zone":"America/Toronto","week":{"mon":[["08:00","17:00"]],"tue":[["08:00","17:00"]],"wed":[["08:00","17:00"]],"thu":[["08:00","17:00"]],"fri":[["08:00","17:00"]]},"holidays":"ontario-operator","closures":[{"date":"2026-12-31","name":"Inventory"},{"date":"2026-12-30"}]}"#,
    );
    let got = due(&calendar, at("2026-12-29T16:00:00-05:00"), Target::Hours(2)).unwrap();
    assert_eq!(got, at("2027-01-04T14:00:00Z"));
    let explained =
        due_explained(&calendar, at("2026-12-29T16:00:00-05:00"), Target::Hours(2)).unwrap();
    let causes: Vec<_> = explained
        .special_days
        .iter()
        .map(|d| (d.date, d.cause.clone()))
        .collect();
    assert_eq!(
        causes,
        vec![
            (
                date(2026, 12, 30),
                DayCause::Closure {
                    name: None,
                    name_fr: None
                }
            ),
            (
                date(2026, 12, 31),
                DayCause::Closure {
                    name: Some("Inventory".into()),
                    name_fr: None
                }
            ),
            (
                date(2027, 1, 1),
                DayCause::Holiday {
                    name_en: "New Year's Day".into(),
                    name_fr: "Jour de l'An".into(),
                    date: date(2027, 1, 1)
                }
            ),
        ]
    );
}

#[test]
fn day_schedules_show_holiday_hours_on_the_observed_day() {
    let tier1 = cal("tier1");
    let monday = day_schedule(tier1, date(2027, 12, 27)).unwrap();
    assert_eq!(monday.hours.len(), 1);
    assert_eq!(monday.hours[0].to_string(), "08:00-16:00");
    assert!(
        matches!(&monday.causes[..], [DayCause::Holiday { name_en, .. }] if name_en == "Christmas Day")
    );
    // The Saturday itself keeps its weekly (weekend) hours.
    let saturday = day_schedule(tier1, date(2027, 12, 25)).unwrap();
    assert!(saturday.causes.is_empty());
    assert_eq!(saturday.hours[0].to_string(), "08:00-16:00");
    let ordinary = day_schedule(tier1, date(2027, 12, 29)).unwrap();
    assert_eq!(ordinary.hours[0].to_string(), "07:00-23:00");
    assert_eq!(ordinary.open[0].from, at("2027-12-29T12:00:00Z"));
    let closed = day_schedule(cal("business"), date(2027, 12, 28)).unwrap();
    assert!(closed.hours.is_empty() && closed.open.is_empty());
}

#[test]
fn wall_clock_intervals_across_daylight_saving_changes() {
    let night = custom(
        r#"{"name":"night","time_zone":"America/Toronto","week":{"sun":[["01:00","03:00"]]}}"#,
    );
    let open_on = |day: &str| {
        let (from, to) = (
            at(&format!("{day}T00:00:00Z")),
            at(&format!("{day}T23:59:59Z")),
        );
        open_time_between(&night, from, to).unwrap()
    };
    // Spring forward, Sunday 2026-03-08: 02:00–03:00 does not exist: 1 h.
    assert_eq!(open_on("2026-03-08"), Duration::from_secs(3600));
    // Fall back, Sunday 2026-11-01: 01:00–02:00 happens twice: 3 h.
    assert_eq!(open_on("2026-11-01"), Duration::from_secs(3 * 3600));
    // An ordinary Sunday: 2 h.
    assert_eq!(open_on("2026-06-07"), Duration::from_secs(2 * 3600));
    assert_eq!(
        due(&night, at("2026-03-08T00:00:00-05:00"), Target::Minutes(90)).unwrap(),
        at("2026-03-15T05:30:00Z") // the first Sunday's 1 h, then 01:30 EDT a week later
    );

    let edges = custom(
        r#"{"name":"edges","time_zone":"America/Toronto","week":{"sun":[["00:00","01:30"],["02:15","02:45"],["02:45","05:00"]]}}"#,
    );
    let schedule = day_schedule(&edges, date(2026, 3, 8)).unwrap();
    // 02:15–02:45 is skipped; 02:45–05:00 opens at the jump (03:00 EDT).
    assert_eq!(
        schedule.open,
        vec![
            OpenSpan {
                from: at("2026-03-08T05:00:00Z"),
                to: at("2026-03-08T06:30:00Z")
            },
            OpenSpan {
                from: at("2026-03-08T07:00:00Z"),
                to: at("2026-03-08T09:00:00Z")
            },
        ]
    );
    let schedule = day_schedule(&edges, date(2026, 11, 1)).unwrap();
    // 00:00–01:30 closes at the first 01:30 (EDT); 02:15 and later are after the repeat.
    assert_eq!(
        schedule.open,
        vec![
            OpenSpan {
                from: at("2026-11-01T04:00:00Z"),
                to: at("2026-11-01T05:30:00Z")
            },
            OpenSpan {
                from: at("2026-11-01T07:15:00Z"),
                to: at("2026-11-01T10:00:00Z")
            },
        ]
    );
}

#[test]
fn calendars_are_shared_between_threads() {
    let business = cal("business").clone();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let calendar = business.clone();
            std::thread::spawn(move || {
                let start = Timestamp::from_second(1_900_000_000 + i * 1_000_000).unwrap();
                due(&calendar, start, Target::BusinessDays(30)).unwrap()
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}
