//! Caller-supplied time.
//!
//! The engine never reads a clock: every call that can change state takes
//! `now`, a monotonic [`Instant`] in milliseconds chosen by the caller (a
//! hardware timer on an MCU, `std::time::Instant` on Linux, virtual time in
//! the simulator). Arithmetic saturates, so no input overflows.

use core::fmt;
use core::ops::{Add, Sub};

/// A point in time: milliseconds since an arbitrary, fixed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);
    /// Later than any real time; used for "never".
    pub const MAX: Instant = Instant(u64::MAX);

    /// `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// `s` seconds after the origin (saturating).
    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1000))
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(u64);

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration(0);

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms)
    }

    /// `s` seconds (saturating).
    pub const fn from_secs(s: u64) -> Self {
        Duration(s.saturating_mul(1000))
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self * n`, saturating.
    pub const fn saturating_mul(self, n: u64) -> Self {
        Duration(self.0.saturating_mul(n))
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_millis(1), Instant::ZERO);
        assert_eq!(
            Duration::from_secs(u64::MAX),
            Duration::from_millis(u64::MAX)
        );
        let t = Instant::from_secs(2);
        assert_eq!(
            t.saturating_duration_since(Instant::from_millis(500)),
            Duration::from_millis(1500)
        );
        assert_eq!(Instant::ZERO.saturating_duration_since(t), Duration::ZERO);
    }
}

/// smoltcp's clock (microseconds since an arbitrary origin) in the
/// engine's milliseconds; times before the origin read as zero.
///
/// ```
/// use ndp_core::time::Instant;
/// let t: Instant = smoltcp::time::Instant::from_millis(1500).into();
/// assert_eq!(t, Instant::from_millis(1500));
/// assert_eq!(Instant::from(smoltcp::time::Instant::from_millis(-5)), Instant::ZERO);
/// ```
#[cfg(feature = "smoltcp")]
impl From<smoltcp::time::Instant> for Instant {
    fn from(t: smoltcp::time::Instant) -> Self {
        Instant::from_millis(u64::try_from(t.total_millis()).unwrap_or(0))
    }
}

/// The engine's clock in smoltcp's (saturating at smoltcp's largest).
///
/// ```
/// use ndp_core::time::Instant;
/// let t: smoltcp::time::Instant = Instant::from_millis(1500).into();
/// assert_eq!(t.total_millis(), 1500);
/// ```
#[cfg(feature = "smoltcp")]
impl From<Instant> for smoltcp::time::Instant {
    fn from(t: Instant) -> Self {
        // smoltcp counts microseconds in an i64.
        let ms = t.as_millis().min(i64::MAX.unsigned_abs() / 1000);
        smoltcp::time::Instant::from_millis(i64::try_from(ms).unwrap_or(0))
    }
}

/// smoltcp's Duration in the engine's milliseconds (rounded down).
#[cfg(feature = "smoltcp")]
impl From<smoltcp::time::Duration> for Duration {
    fn from(d: smoltcp::time::Duration) -> Self {
        Duration::from_millis(d.total_millis())
    }
}

/// The engine's Duration in smoltcp's.
#[cfg(feature = "smoltcp")]
impl From<Duration> for smoltcp::time::Duration {
    fn from(d: Duration) -> Self {
        // smoltcp counts microseconds in a u64.
        smoltcp::time::Duration::from_millis(d.as_millis().min(u64::MAX / 1000))
    }
}

#[cfg(all(test, feature = "smoltcp"))]
mod smoltcp_tests {
    use super::*;

    #[test]
    fn conversions_round_trip_and_saturate() {
        for ms in [0u64, 1, 999, 1_000, 86_400_000] {
            let t = Instant::from_millis(ms);
            let s: smoltcp::time::Instant = t.into();
            assert_eq!(Instant::from(s), t);
            let d = Duration::from_millis(ms);
            let sd: smoltcp::time::Duration = d.into();
            assert_eq!(Duration::from(sd), d);
        }
        // Before smoltcp's origin: zero, not a wrapped huge time.
        assert_eq!(
            Instant::from(smoltcp::time::Instant::from_micros(-1)),
            Instant::ZERO
        );
        // Sub-millisecond parts are dropped.
        assert_eq!(
            Instant::from(smoltcp::time::Instant::from_micros(1_999)),
            Instant::from_millis(1)
        );
        // The engine's far future fits smoltcp's range (no overflow).
        let far: smoltcp::time::Instant = Instant::MAX.into();
        assert_eq!(far.total_millis(), i64::MAX / 1000);
        let long: smoltcp::time::Duration = Duration::from_millis(u64::MAX).into();
        assert_eq!(long.total_millis(), u64::MAX / 1000);
    }
}
