//! When to try a failed delivery again: exponential back-off from a first delay, capped,
//! until the message is older than the give-up limit.
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; each further failure doubles it.
    pub first_delay: SignedDuration,
    /// The longest wait between two attempts.
    pub max_delay: SignedDuration,
    /// A message not delivered this long after it was queued is given up.
    pub give_up_after: SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: SignedDuration::from_secs(30),
            max_delay: SignedDuration::from_hours(1),
            give_up_after: SignedDuration::from_hours(48),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(Timestamp),
    GiveUp,
}

impl RetryPolicy {
    /// `attempts` counts the attempt that just failed (1 after the first). A permanent
    /// refusal (an SMTP 5xx) is given up at once.
    pub fn after_failure(
        &self,
        attempts: i64,
        queued_at: Timestamp,
        now: Timestamp,
        permanent: bool,
    ) -> AfterFailure {
        if permanent {
            return AfterFailure::GiveUp;
        }
        let exponent = attempts.clamp(1, 40) - 1;
        let delay = self
            .first_delay
            .checked_mul(1i32 << exponent.min(30))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let at = now.saturating_add(delay).unwrap_or(now);
        let deadline = queued_at.saturating_add(self.give_up_after).unwrap_or(now);
        if now >= deadline {
            AfterFailure::GiveUp
        } else {
            // The last try comes at the deadline, not after it.
            AfterFailure::RetryAt(at.min(deadline))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        let q = t("2026-12-04T10:00:00Z");
        let delays: Vec<i64> = (1..=9)
            .map(|n| match p.after_failure(n, q, q, false) {
                AfterFailure::RetryAt(at) => at.duration_since(q).as_secs(),
                AfterFailure::GiveUp => -1,
            })
            .collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn gives_up_after_the_limit_and_on_permanent_refusals() {
        let p = RetryPolicy::default();
        let q = t("2026-12-04T10:00:00Z");
        assert_eq!(
            p.after_failure(50, q, t("2026-12-06T10:00:00Z"), false),
            AfterFailure::GiveUp
        );
        assert_eq!(
            p.after_failure(1, q, q, true),
            AfterFailure::GiveUp,
            "a 5xx is not retried"
        );
        // Close to the deadline the next try is at the deadline, then it gives up.
        assert_eq!(
            p.after_failure(20, q, t("2026-12-06T09:59:00Z"), false),
            AfterFailure::RetryAt(t("2026-12-06T10:00:00Z"))
        );
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let p = RetryPolicy::default();
        let q = t("2026-12-04T10:00:00Z");
        assert!(matches!(
            p.after_failure(i64::MAX, q, q, false),
            AfterFailure::RetryAt(_)
        ));
    }
}
