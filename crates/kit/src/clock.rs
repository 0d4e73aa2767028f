//! Time, scaled. Every wait in the action and in the simulator goes through a
//! [`Clock`], so tests can compress an hour-long agent into a second (a scale
//! factor) or run in virtual time (`tokio::time::pause` with scale 1).

use std::future::Future;
use std::ops::{Add, Sub};
use std::time::Duration;
use tokio::time::Instant;

/// A point in the clock's (scaled) time, measured from the clock's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment(Duration);

impl Moment {
    pub const ZERO: Moment = Moment(Duration::ZERO);

    pub fn since_start(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Moment) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Moment {
    type Output = Moment;
    fn add(self, rhs: Duration) -> Moment {
        Moment(self.0.saturating_add(rhs))
    }
}

impl Sub<Moment> for Moment {
    type Output = Duration;
    fn sub(self, rhs: Moment) -> Duration {
        self.saturating_since(rhs)
    }
}

/// A clock whose durations are `scale` times longer than real (tokio) time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    /// The wall clock when `start` was taken: [`Clock::wall`] moves on
    /// with the clock (virtual in tests), not with the machine's.
    start_wall: std::time::SystemTime,
    scale: u32,
}

impl Clock {
    /// Real time (or virtual time when tokio's clock is paused).
    pub fn real() -> Self {
        Self::scaled(1)
    }

    /// Every wait lasts `1/scale` of its nominal duration.
    pub fn scaled(scale: u32) -> Self {
        // One wall-clock origin per process: every clock's wall time moves
        // with tokio's (virtual, in tests) time, so a record written by one
        // run reads right to a later one.
        static ORIGIN: std::sync::OnceLock<(Instant, std::time::SystemTime)> =
            std::sync::OnceLock::new();
        let (origin, origin_wall) =
            *ORIGIN.get_or_init(|| (Instant::now(), std::time::SystemTime::now()));
        let start = Instant::now();
        Self {
            start,
            start_wall: origin_wall + start.saturating_duration_since(origin),
            scale: scale.max(1),
        }
    }

    pub fn scale(&self) -> u32 {
        self.scale
    }

    pub fn now(&self) -> Moment {
        Moment(self.start.elapsed().saturating_mul(self.scale))
    }

    /// The wall-clock time now, as this clock tells it.
    pub fn wall(&self) -> std::time::SystemTime {
        self.start_wall + self.now().since_start()
    }

    /// Seconds since the Unix epoch, now (for records others read later).
    pub fn unix_secs(&self) -> u64 {
        self.wall()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn real_duration(&self, nominal: Duration) -> Duration {
        nominal / self.scale
    }

    pub async fn sleep(&self, nominal: Duration) {
        tokio::time::sleep(self.real_duration(nominal)).await;
    }

    pub async fn sleep_until(&self, moment: Moment) {
        let remaining = moment.saturating_since(self.now());
        self.sleep(remaining).await;
    }

    /// Runs `fut` for at most `nominal` clock time.
    pub async fn timeout<F: Future>(
        &self,
        nominal: Duration,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        tokio::time::timeout(self.real_duration(nominal), fut)
            .await
            .map_err(|_| Elapsed)
    }
}

/// A clock timeout expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Elapsed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn scaled_sleep_advances_scaled_time() {
        let clock = Clock::scaled(60);
        let before = tokio::time::Instant::now();
        clock.sleep(Duration::from_secs(60)).await;
        assert_eq!(before.elapsed(), Duration::from_secs(1));
        assert_eq!(clock.now().since_start(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_uses_nominal_time() {
        let clock = Clock::scaled(10);
        let r = clock
            .timeout(
                Duration::from_secs(10),
                tokio::time::sleep(Duration::from_secs(5)),
            )
            .await;
        assert_eq!(r, Err(Elapsed));
        assert_eq!(clock.now().since_start(), Duration::from_secs(10));
    }

    #[test]
    fn moments_saturate() {
        let a = Moment::ZERO + Duration::from_secs(5);
        assert_eq!(Moment::ZERO - a, Duration::ZERO);
        assert_eq!(a - Moment::ZERO, Duration::from_secs(5));
    }
}
