//! When to poll next: pure arithmetic, tested on its own.
//!
//! While the agent is CREATING we poll every few seconds (agents usually
//! start within a minute, and the comment should say so). Once it runs, the
//! wait grows exponentially from `poll-interval` up to `max-poll-interval`,
//! and each wait is drawn at random from the top quarter of the current
//! envelope. That spreads the polls of concurrent runs at no cost in notice
//! delay: the median delay is half the mean wait as long as every wait is
//! longer than it, as a fixed interval's is. "Full jitter" (waits from
//! `poll-interval` to the envelope) would make ~117 requests per agent-hour
//! at the defaults (median delay 19 s), over the target of 80; this makes 78
//! (26 s). Figures: `cargo bench --bench polling`.

use std::time::Duration;

/// While CREATING, at most this long between polls.
pub(crate) const CREATING_INTERVAL: Duration = Duration::from_secs(5);
/// After this long in CREATING, the running schedule applies anyway.
pub(crate) const CREATING_FAST_FOR: Duration = Duration::from_secs(120);
/// Each wait is drawn from `[envelope * (1 - JITTER), envelope]`.
pub(crate) const JITTER: f64 = 0.25;
/// The envelope doubles after each poll.
pub(crate) const GROWTH: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
}

/// Where the agent is, for scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// CREATING, for this long so far.
    Creating { for_: Duration },
    /// Running (or any non-creating status); `polls` made since it started.
    Running { polls: u32 },
}

impl PollSchedule {
    pub fn new(poll_interval: Duration, max_poll_interval: Duration) -> Self {
        Self {
            poll_interval,
            max_poll_interval: max_poll_interval.max(poll_interval),
        }
    }

    /// The largest wait after the `polls`-th poll of a running agent.
    pub fn envelope(&self, polls: u32) -> Duration {
        let factor = GROWTH.checked_pow(polls.min(31)).unwrap_or(u32::MAX);
        self.poll_interval
            .saturating_mul(factor)
            .min(self.max_poll_interval)
    }

    /// The bounds `[low, high]` of the next wait.
    pub fn bounds(&self, phase: Phase) -> (Duration, Duration) {
        match phase {
            Phase::Creating { for_ } if for_ < CREATING_FAST_FOR => {
                let high = CREATING_INTERVAL.min(self.poll_interval);
                (high.mul_f64(1.0 - JITTER), high)
            }
            Phase::Creating { .. } => self.bounds(Phase::Running { polls: 0 }),
            Phase::Running { polls } => {
                let high = self.envelope(polls);
                let low = high.mul_f64(1.0 - JITTER).max(self.poll_interval.min(high));
                (low, high)
            }
        }
    }

    /// The next wait; `unit` is a uniform random number in `[0, 1)`.
    pub fn delay(&self, phase: Phase, unit: f64) -> Duration {
        let (low, high) = self.bounds(phase);
        low + (high - low).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn defaults() -> PollSchedule {
        PollSchedule::new(Duration::from_secs(10), Duration::from_secs(60))
    }

    #[test]
    fn defaults_grow_from_10s_to_60s() {
        let s = defaults();
        let env: Vec<u64> = (0..6).map(|n| s.envelope(n).as_secs()).collect();
        assert_eq!(env, vec![10, 20, 40, 60, 60, 60]);
        assert_eq!(
            s.bounds(Phase::Running { polls: 0 }),
            (Duration::from_secs(10), Duration::from_secs(10))
        );
        assert_eq!(
            s.bounds(Phase::Running { polls: 9 }),
            (Duration::from_secs(45), Duration::from_secs(60))
        );
        assert_eq!(
            s.bounds(Phase::Creating {
                for_: Duration::ZERO
            })
            .1,
            Duration::from_secs(5)
        );
        assert_eq!(
            s.bounds(Phase::Creating {
                for_: Duration::from_secs(300)
            }),
            s.bounds(Phase::Running { polls: 0 })
        );
    }

    proptest! {
        #[test]
        fn envelope_is_monotone_until_the_cap(poll in 1u64..600, max in 1u64..3600, n in 0u32..100) {
            let s = PollSchedule::new(Duration::from_secs(poll), Duration::from_secs(max));
            let (a, b) = (s.envelope(n), s.envelope(n + 1));
            prop_assert!(b >= a);
            prop_assert!(b <= s.max_poll_interval);
            prop_assert!(a >= s.poll_interval.min(s.max_poll_interval));
            if a < s.max_poll_interval {
                prop_assert!(b > a, "grows strictly until the cap");
            }
        }

        #[test]
        fn jitter_stays_within_bounds(poll in 1u64..600, max in 1u64..3600, n in 0u32..100, unit in 0.0f64..1.0, creating in proptest::bool::ANY, for_ in 0u64..600) {
            let s = PollSchedule::new(Duration::from_secs(poll), Duration::from_secs(max));
            let phase = if creating { Phase::Creating { for_: Duration::from_secs(for_) } } else { Phase::Running { polls: n } };
            let (low, high) = s.bounds(phase);
            let d = s.delay(phase, unit);
            prop_assert!(low <= d && d <= high);
            prop_assert!(high <= s.max_poll_interval);
            prop_assert!(d > Duration::ZERO);
            prop_assert!(low >= high.mul_f64(1.0 - JITTER) - Duration::from_nanos(1));
        }
    }
}
