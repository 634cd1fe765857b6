//! Due computations per second on one thread: `cargo bench -p domain --bench due`.
//!
//! A mix of minute and hour targets on `business`, `tier1` and `24x7`, and business days up
//! to 125 on `business`, from starts spread over 2025–2030 (whole seconds). Year tables are
//! built in a warm-up pass first, as they would be in a running service.
use std::hint::black_box;
use std::time::Instant;

use domain::calendar::{Calendar, Target, shipped_calendar, shipped_definition};
use domain::due::{due, open_time_between};
use jiff::Timestamp;

/// 2025-01-01T00:00:00Z and 2031-01-01T00:00:00Z.
const FIRST_START: i64 = 1_735_689_600;
const LAST_START: i64 = 1_924_992_000;
const CASES: usize = 1 << 20;
const ROUNDS: usize = 5;

/// A small deterministic generator (SplitMix64), so runs compare.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

struct Case {
    calendar: &'static Calendar,
    start: Timestamp,
    target: Target,
}

fn cases(kind: &str, random: &mut SplitMix) -> Vec<Case> {
    let business = shipped_calendar("business").unwrap();
    let tier1 = shipped_calendar("tier1").unwrap();
    let always = shipped_calendar("24x7").unwrap();
    let span = (LAST_START - FIRST_START) as u64;
    (0..CASES)
        .map(|_| {
            let start = Timestamp::from_second(FIRST_START + random.below(span) as i64).unwrap();
            let minutes_or_hours = |random: &mut SplitMix| match random.below(3) {
                0 => Target::Minutes([20, 60, 120, 240][random.below(4) as usize]),
                1 => Target::Hours([2, 4, 12, 18][random.below(4) as usize]),
                _ => Target::Minutes(random.below(3000)),
            };
            let (calendar, target) = match kind {
                "business hours" => (business, minutes_or_hours(random)),
                "tier1 hours" => (tier1, minutes_or_hours(random)),
                "24x7 hours" => (always, minutes_or_hours(random)),
                "business days" => (business, Target::BusinessDays(1 + random.below(125))),
                _ => match random.below(4) {
                    0 => (business, minutes_or_hours(random)),
                    1 => (tier1, minutes_or_hours(random)),
                    2 => (always, minutes_or_hours(random)),
                    _ => (business, Target::BusinessDays(1 + random.below(125))),
                },
            };
            Case {
                calendar,
                start,
                target,
            }
        })
        .collect()
}

/// Best computations per second over the rounds.
fn measure(cases: &[Case]) -> f64 {
    // Warm-up: builds the year tables touched.
    for case in cases {
        black_box(due(case.calendar, case.start, case.target).unwrap());
    }
    (0..ROUNDS)
        .map(|_| {
            let began = Instant::now();
            for case in cases {
                black_box(due(case.calendar, black_box(case.start), case.target).unwrap());
            }
            cases.len() as f64 / began.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn main() {
    let mut random = SplitMix(0x5EED);
    println!("due computations per second, one thread, best of {ROUNDS} rounds of {CASES}:");
    for kind in [
        "mix",
        "business hours",
        "tier1 hours",
        "24x7 hours",
        "business days",
    ] {
        let cases = cases(kind, &mut random);
        println!("  {kind:<15} {:>12.0} /s", measure(&cases));
    }

    let business = shipped_calendar("business").unwrap();
    let pairs: Vec<(Timestamp, Timestamp)> = (0..CASES)
        .map(|_| {
            let from = FIRST_START + random.below((LAST_START - FIRST_START) as u64) as i64;
            let to = from + random.below(180 * 86_400) as i64;
            (
                Timestamp::from_second(from).unwrap(),
                Timestamp::from_second(to).unwrap(),
            )
        })
        .collect();
    let began = Instant::now();
    for &(from, to) in &pairs {
        black_box(open_time_between(business, black_box(from), to).unwrap());
    }
    println!(
        "  open_time_between (business, up to 180 days) {:>12.0} /s",
        pairs.len() as f64 / began.elapsed().as_secs_f64()
    );

    // Cold: the first computation in a year builds that year's table.
    let start = Timestamp::from_second(1_811_000_000).unwrap(); // mid-2027
    for name in ["business", "tier1"] {
        let fresh: Vec<Calendar> = (0..200)
            .map(|_| Calendar::new(shipped_definition(name).unwrap()).unwrap())
            .collect();
        let began = Instant::now();
        for calendar in &fresh {
            black_box(due(calendar, start, Target::Hours(1)).unwrap());
        }
        println!(
            "  first computation of a year on a new {name} calendar (builds the year) {:>6.0} µs",
            began.elapsed().as_secs_f64() * 1e6 / fresh.len() as f64
        );
    }
}
