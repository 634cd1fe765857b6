//! SLA clock evaluations per second on one thread: `cargo bench -p domain --bench sla`.
//!
//! One ticket's two clocks and its notification schedule from a short history (creation,
//! a pending spell, back in progress, at times resolved and reopened), on `business`, from
//! creations spread over 2026–2027 (year tables warmed first, as in a running service). A
//! queue page evaluates about 50 tickets.
use std::hint::black_box;
use std::time::{Duration, Instant};

use domain::calendar::shipped_calendar;
use domain::sla::{
    ClockInput, EscalationLadder, StatusChange, notification_schedule, resolution_clock,
    response_clock,
};
use domain::ticket::Status;
use jiff::{SignedDuration, Timestamp};

/// 2026-01-01T00:00:00Z.
const FIRST_START: i64 = 1_767_225_600;
const CASES: usize = 100_000;
const ROUNDS: usize = 5;

struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }
}

struct Case {
    history: Vec<StatusChange>,
    response: Option<Timestamp>,
    now: Timestamp,
}

fn main() {
    let business = shipped_calendar("business").unwrap();
    let ladder = EscalationLadder::default();
    let mut random = SplitMix(0x51A);
    let statuses = [
        Status::InProgress,
        Status::PendingCustomer,
        Status::InProgress,
        Status::Resolved,
        Status::InProgress,
    ];
    let cases: Vec<Case> = (0..CASES)
        .map(|_| {
            let mut at =
                Timestamp::from_second(FIRST_START + random.below(700 * 86_400) as i64).unwrap();
            let mut history = vec![StatusChange::new(at, Status::New)];
            let changes = random.below(statuses.len() as u64 + 1) as usize;
            for &status in &statuses[..changes] {
                at += SignedDuration::from_secs(random.below(2 * 86_400) as i64);
                history.push(StatusChange::new(at, status));
            }
            let response = (random.below(2) == 0)
                .then(|| history[0].at + SignedDuration::from_secs(random.below(7200) as i64));
            let now = at + SignedDuration::from_secs(random.below(86_400) as i64);
            Case {
                history,
                response,
                now,
            }
        })
        .collect();
    let evaluate = |case: &Case| {
        let clock = ClockInput {
            calendar: business,
            earlier_calendars: &[],
            target: Duration::from_secs(12 * 3600),
            history: &case.history,
            warning_share: ladder.warning_share,
            now: case.now,
        };
        let response = response_clock(
            &ClockInput {
                target: Duration::from_secs(2 * 3600),
                ..clock
            },
            case.response,
        )
        .unwrap();
        let resolution = resolution_clock(&clock).unwrap();
        let schedule = notification_schedule(&resolution, &ladder).unwrap();
        (response, resolution, schedule)
    };
    for case in &cases {
        black_box(evaluate(case));
    }
    let best = (0..ROUNDS)
        .map(|_| {
            let began = Instant::now();
            for case in &cases {
                black_box(evaluate(black_box(case)));
            }
            began.elapsed().as_secs_f64() / CASES as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "one ticket (response + resolution clocks + schedule), best of {ROUNDS} rounds of {CASES}: {:.2} µs",
        best * 1e6
    );
}
