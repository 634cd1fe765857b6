//! Instants are stored in UTC as fixed-width RFC 3339 text with microseconds, so that text
//! order is time order on every backend and values round-trip exactly.
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};

/// How far this process's clock is ahead of the wall clock, in microseconds: zero unless a
/// test moved it to see what happens in two weeks.
static AHEAD_MICROS: AtomicI64 = AtomicI64::new(0);

/// The current instant, as every rule and every stored time sees it.
pub fn now() -> Timestamp {
    let ahead = SignedDuration::from_micros(AHEAD_MICROS.load(Ordering::Relaxed));
    truncate(
        Timestamp::now()
            .saturating_add(ahead)
            .unwrap_or(Timestamp::MAX),
    )
}

/// Moves this process's clock forward by `by` (tests of schedules: maintenance notices a
/// week ahead, reminders). Every instant from [`now`] is then that much later.
pub fn advance(by: SignedDuration) {
    let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
    AHEAD_MICROS.fetch_add(micros, Ordering::Relaxed);
}

/// PostgreSQL and our text format keep microseconds; drop the rest.
pub fn truncate(ts: Timestamp) -> Timestamp {
    let micros = ts.as_microsecond();
    Timestamp::from_microsecond(micros).expect("in range")
}

pub fn to_db(ts: Timestamp) -> String {
    let micros = ts.as_microsecond();
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let whole = Timestamp::from_second(secs).expect("in range");
    format!("{}.{frac:06}Z", whole.strftime("%Y-%m-%dT%H:%M:%S"))
}

pub fn from_db(value: &str) -> Option<Timestamp> {
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact_and_sortable() {
        let a: Timestamp = "2026-03-08T06:59:59.123456789Z".parse().unwrap();
        let stored = to_db(a);
        assert_eq!(stored, "2026-03-08T06:59:59.123456Z");
        assert_eq!(from_db(&stored).unwrap(), truncate(a));
        let b: Timestamp = "2026-03-08T07:00:00Z".parse().unwrap();
        assert!(to_db(a) < to_db(b));
        assert_eq!(to_db(b), "2026-03-08T07:00:00.000000Z");
    }
}
