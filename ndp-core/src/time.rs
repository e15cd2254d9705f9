//! Caller-supplied time.
//!
//! The engine never reads a clock: every call that can change state takes
//! `now`, an [`Instant`] in milliseconds chosen by the caller (a hardware
//! timer on an MCU, `std::time::Instant` on Linux, virtual time in the
//! simulator).
//!
//! # Time wraps
//!
//! An [`Instant`] is a 32-bit count of milliseconds that wraps every
//! 2^32 ms (49.7 days), so a free-running 32-bit millisecond counter can
//! be handed over as it is. Two instants are compared by their
//! difference, as TCP compares sequence numbers ([RFC 1982 §3.2]): `a` is
//! before `b` when `b - a`, taken modulo 2^32, is below 2^31. The engine's
//! own timers are never further away than [`Duration::MAX_TIMER`] (24.8
//! days), and [`crate::Stack::poll_at`] never further than [`MAX_SLEEP`]
//! (a day) while any lifetime runs, so that comparison is always right.
//!
//! What the caller must do: call the engine when
//! [`crate::Stack::poll_at`] says (late is harmless up to 24.8 days; a
//! timer overdue by more reads as not due yet), and, when it says nothing
//! is scheduled, at least once every 49 days (any received packet will
//! do). A time slightly earlier than the last one given (up to
//! [`BACKWARD_TOLERANCE`]) is read as no time passing; one further back
//! can only mean the clock went round.
//!
//! Lifetimes from Router Advertisements can be longer (a valid lifetime is
//! a 32-bit count of seconds, 136 years). They count on a second clock the
//! engine keeps itself, in whole seconds since the [`crate::Stack`] was
//! made, and end at an [`Expiry`] on it.
//!
//! A device with a 64-bit clock converts with
//! [`Instant::wrapping_from_millis`].
//!
//! [RFC 1982 §3.2]: https://www.rfc-editor.org/rfc/rfc1982#section-3.2

use core::fmt;
use core::ops::{Add, Sub};

/// A point in time: milliseconds since an arbitrary origin, modulo 2^32
/// (see [the module docs](self) for how instants compare).
///
/// ```
/// use ndp_core::time::{Duration, Instant};
/// let before_wrap = Instant::from_millis(u32::MAX - 10);
/// let after_wrap = before_wrap + Duration::from_millis(20);
/// assert_eq!(after_wrap, Instant::from_millis(9));
/// assert!(before_wrap.is_before(after_wrap));
/// assert_eq!(after_wrap.saturating_duration_since(before_wrap), Duration::from_millis(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u32);

/// The longest the engine asks to sleep while a lifetime runs:
/// [`crate::Stack::poll_at`] is then never further away than this (one
/// day), so the engine's clocks stay in step across wraps even when
/// nothing else happens.
pub const MAX_SLEEP: Duration = Duration::from_secs(86_400);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u32) -> Self {
        Instant(ms)
    }

    /// A 64-bit millisecond clock's reading, modulo 2^32.
    ///
    /// ```
    /// use ndp_core::time::Instant;
    /// assert_eq!(Instant::wrapping_from_millis((1 << 32) + 5), Instant::from_millis(5));
    /// ```
    pub const fn wrapping_from_millis(ms: u64) -> Self {
        // Truncation is the point: the engine's clock is this modulo 2^32.
        #[allow(clippy::cast_possible_truncation)]
        Instant(ms as u32)
    }

    /// `s` seconds after the origin, modulo 2^32 ms.
    pub const fn from_secs(s: u32) -> Self {
        Instant(s.wrapping_mul(1000))
    }

    /// Milliseconds since the origin, modulo 2^32.
    pub const fn as_millis(self) -> u32 {
        self.0
    }

    /// The signed distance from `other` to `self`.
    const fn offset_from(self, other: Instant) -> i32 {
        // Reading the difference as two's complement is the comparison
        // (RFC 1982 §3.2).
        #[allow(clippy::cast_possible_wrap)]
        let d = self.0.wrapping_sub(other.0) as i32;
        d
    }

    /// `self` comes before `other` (less than 2^31 ms before it).
    pub const fn is_before(self, other: Instant) -> bool {
        self.offset_from(other) < 0
    }

    /// `self` comes after `other`.
    pub const fn is_after(self, other: Instant) -> bool {
        other.is_before(self)
    }

    /// Whether a timer set for `deadline` is due at `self`.
    pub const fn reached(self, deadline: Instant) -> bool {
        !self.is_before(deadline)
    }

    /// A deadline this has been past for more than `max` becomes `now`:
    /// still past, but a timer the engine leaves alone for weeks (those
    /// of a disabled interface, say) must not drift 2^31 ms behind and
    /// read as in the future.
    pub(crate) fn catch_up(&mut self, now: Instant, max: Duration) {
        if now.saturating_duration_since(*self) > max {
            *self = now;
        }
    }

    /// A "last used" time older than `max` becomes `max` before `now`
    /// (its order among older ones is lost), so that no stored time is
    /// old enough to compare wrongly once the clock has moved 2^31 ms on.
    pub(crate) fn age_at_most(&mut self, now: Instant, max: Duration) {
        if now.wrapping_duration_since(*self) > max {
            *self = now - max;
        }
    }

    /// The later of the two.
    pub const fn later(self, other: Instant) -> Instant {
        if self.is_before(other) { other } else { self }
    }

    /// The earlier of the two.
    pub const fn earlier(self, other: Instant) -> Instant {
        if other.is_before(self) { other } else { self }
    }

    /// Time from `earlier` to `self` for an `earlier` known to be in the
    /// past, such as a stored "last used" time: right for up to 2^32 ms
    /// (49.7 days), where the signed comparisons stop at 2^31.
    pub const fn wrapping_duration_since(self, earlier: Instant) -> Duration {
        Duration(self.0.wrapping_sub(earlier.0))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        let d = self.offset_from(earlier);
        Duration(if d < 0 { 0 } else { d.unsigned_abs() })
    }
}

/// Serial-number order (RFC 1982 §3.2), as TCP sequence numbers compare:
/// `a < b` when `b` is less than 2^31 ms after `a`, modulo 2^32. Two
/// instants exactly 2^31 ms apart are unordered. The order is only
/// transitive among instants within 2^31 ms of each other, so `Instant`
/// is not `Ord` and cannot be sorted; the engine never compares instants
/// further apart than that (see [the module docs](self)).
impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Instant) -> Option<core::cmp::Ordering> {
        let d = self.offset_from(*other);
        if d == i32::MIN { None } else { Some(d.cmp(&0)) }
    }
}

/// `self + d`. A span longer than [`Duration::MAX_TIMER`] is cut to it, so
/// that the result still compares as after `self`.
impl Add<Duration> for Instant {
    type Output = Instant;
    #[inline]
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.wrapping_add(d.0.min(Duration::MAX_TIMER.0)))
    }
}

/// `self - d`, wrapping (cut like `+`).
impl Sub<Duration> for Instant {
    type Output = Instant;
    #[inline]
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.wrapping_sub(d.0.min(Duration::MAX_TIMER.0)))
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
pub struct Duration(u32);

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration(0);
    /// The longest span an [`Instant`] can be moved by and still compare
    /// as later: 2^31 − 1 ms, 24.8 days.
    pub const MAX_TIMER: Duration = Duration(i32::MAX.unsigned_abs());

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u32) -> Self {
        Duration(ms)
    }

    /// `s` seconds (saturating).
    pub const fn from_secs(s: u32) -> Self {
        Duration(s.saturating_mul(1000))
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u32 {
        self.0
    }

    /// `self * n`, saturating.
    pub const fn saturating_mul(self, n: u32) -> Self {
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

/// When a lifetime ends, in whole seconds on the engine's lifetime clock
/// (seconds since the [`crate::Stack`] was made; see [the module
/// docs](self)). [`crate::Stack::time_left`] turns it into seconds from
/// now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expiry(u32);

impl Expiry {
    /// Never: an infinite lifetime.
    pub const NEVER: Expiry = Expiry(u32::MAX);
    /// The latest finite expiry; the lifetime clock stops here (136 years).
    const LAST: Expiry = Expiry(u32::MAX - 1);

    /// The lifetime is infinite.
    pub const fn is_never(self) -> bool {
        self.0 == u32::MAX
    }
}

/// The sooner of two optional deadlines (`None`: none).
#[inline]
pub(crate) fn sooner(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.earlier(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A timer that may be off, in four bytes: the value `u32::MAX` means
/// off, so a deadline falling on that very millisecond is kept 1 ms
/// later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timer(u32);

impl Timer {
    /// Not running.
    pub const OFF: Timer = Timer(u32::MAX);

    /// Due at `t`.
    pub const fn at(t: Instant) -> Timer {
        Timer(if t.0 == u32::MAX { 0 } else { t.0 })
    }

    /// When it is due; `None` when off.
    pub const fn get(self) -> Option<Instant> {
        if self.0 == u32::MAX {
            None
        } else {
            Some(Instant(self.0))
        }
    }

    /// The sooner of two timers; one that is off never is.
    #[inline]
    pub const fn sooner(self, other: Timer) -> Timer {
        if self.0 == u32::MAX
            || (other.0 != u32::MAX && Instant(other.0).is_before(Instant(self.0)))
        {
            other
        } else {
            self
        }
    }

    /// It runs.
    pub const fn is_set(self) -> bool {
        self.0 != u32::MAX
    }

    /// It runs and is due at `now`.
    pub const fn due(self, now: Instant) -> bool {
        self.is_set() && now.reached(Instant(self.0))
    }

    /// If it has been due for more than `max`, make it due at `now`
    /// instead: still due, and not so old that it reads as in the future
    /// once 2^31 ms have gone by (see [`Instant::catch_up`]).
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        if let Some(mut t) = self.get() {
            t.catch_up(now, max);
            *self = Timer::at(t);
        }
    }
}

/// A part of the engine with timers: it says when the earliest is due.
pub(crate) trait Deadline {
    /// The earliest timer; `None` when none runs.
    fn next_deadline(&self, clock: &Clock) -> Option<Instant>;
}

/// A part of the engine whose earliest deadline is remembered, so asking
/// costs one load: the part is read through `Deref` and changed only
/// through `DerefMut`, which forgets the deadline. No change, however it
/// is made, can leave a remembered deadline later than a timer, and none
/// of the engine's paths has to say what it may have changed.
///
/// A change that sets no timer only costs one recomputation, at the next
/// [`Timed::next_deadline`].
#[derive(Debug, Clone)]
pub(crate) struct Timed<T> {
    part: T,
    /// The earliest deadline as last computed (itself `None` when no
    /// timer runs); `None`: not known. Exact: a `Timer` would keep a
    /// deadline on its one reserved millisecond 1 ms late.
    next: core::cell::Cell<Option<Option<Instant>>>,
}

impl<T: Deadline> Timed<T> {
    pub const fn new(part: T) -> Self {
        Timed {
            part,
            next: core::cell::Cell::new(None),
        }
    }

    /// The part's earliest timer: remembered, or computed and remembered.
    #[inline]
    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        match self.next.get() {
            Some(at) => at,
            None => self.compute(clock),
        }
    }

    #[inline(never)]
    fn compute(&self, clock: &Clock) -> Option<Instant> {
        let at = self.part.next_deadline(clock);
        self.next.set(Some(at));
        at
    }

    /// Whether a timer of the part is due; if so, its deadline is
    /// forgotten, as the caller is about to run the part's timers (which
    /// may find nothing to do: a deadline can be a day's cap, see
    /// [`MAX_SLEEP`]).
    #[inline]
    pub fn take_due(&mut self, clock: &Clock) -> bool {
        let due = self
            .next_deadline(clock)
            .is_some_and(|d| clock.now.reached(d));
        if due {
            *self.next.get_mut() = None;
        }
        due
    }

    /// The earliest timer, computed from the part, not remembered: for
    /// the invariant checks.
    pub fn exact(&self, clock: &Clock) -> Option<Instant> {
        self.part.next_deadline(clock)
    }

    /// The remembered deadline (`None`: not known), for the invariant
    /// checks, which put it back with [`Timed::set_remembered`] after
    /// asking.
    pub fn remembered(&self) -> Option<Option<Instant>> {
        self.next.get()
    }

    /// Remember `t`: what [`Timed::remembered`] returned, or, to test the
    /// checks, something wrong.
    pub fn set_remembered(&self, t: Option<Option<Instant>>) {
        self.next.set(t);
    }
}

impl<T> core::ops::Deref for Timed<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.part
    }
}

impl<T> core::ops::DerefMut for Timed<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        *self.next.get_mut() = None;
        &mut self.part
    }
}

/// How far back a time given to the engine may be from the latest and
/// still be read as the same moment (a caller's clocks out of step), not
/// as the millisecond clock having gone round: one minute.
pub const BACKWARD_TOLERANCE: Duration = Duration::from_secs(60);

/// The engine's two clocks: the caller's wrapping milliseconds and the
/// lifetime clock in seconds, which the milliseconds drive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// The latest time given to the engine.
    pub now: Instant,
    /// Whole seconds since the start; stops one short of
    /// [`Expiry::NEVER`] (136 years).
    secs: u32,
    /// Milliseconds past `secs` (below 1000; a u32 costs no more room
    /// than a u16 here, and saves conversions on the hot path).
    sub_ms: u32,
}

impl Clock {
    pub const fn new(now: Instant) -> Self {
        Clock {
            now,
            secs: 0,
            sub_ms: 0,
        }
    }

    /// Move to `now`; true when a new hour of the lifetime clock began.
    /// Time never runs backwards inside the engine: a time up to
    /// [`BACKWARD_TOLERANCE`] before the latest is ignored, and one further
    /// back can only be the clock having gone round, so it counts as up
    /// to 49.7 days later.
    #[inline]
    pub fn advance(&mut self, now: Instant) -> bool {
        let elapsed = now.wrapping_duration_since(self.now).0;
        // Zero, or within the tolerance behind (modulo 2^32): one test, as
        // this runs on every call into the engine.
        if elapsed.wrapping_sub(1) >= u32::MAX - BACKWARD_TOLERANCE.0 {
            return false;
        }
        self.now = now;
        // sub_ms < 1000, so this only saturates past 2^32 − 1000 ms.
        let ms = self.sub_ms.saturating_add(elapsed);
        if ms < 1000 {
            self.sub_ms = ms;
            return false;
        }
        let hour = self.secs / 3600;
        self.secs = self.secs.saturating_add(ms / 1000).min(Expiry::LAST.0);
        self.sub_ms = ms % 1000;
        self.secs / 3600 != hour
    }

    /// The current second, as an expiry: lifetimes at or before it have
    /// ended.
    #[cfg(test)]
    pub const fn second(&self) -> Expiry {
        Expiry(self.secs)
    }

    /// The end of a lifetime of `secs` seconds from now: rounded up to
    /// the clock's next whole second, so a lifetime never ends early.
    #[inline]
    pub fn expiry_in(&self, secs: u32) -> Expiry {
        let start = self.secs.saturating_add(u32::from(self.sub_ms > 0));
        Expiry(start.saturating_add(secs).min(Expiry::LAST.0))
    }

    /// The end of `lifetime` from now ([`Expiry::NEVER`] for infinity).
    #[inline]
    pub fn expiry(&self, lifetime: crate::wire::Lifetime) -> Expiry {
        match lifetime {
            crate::wire::Lifetime::Infinite => Expiry::NEVER,
            crate::wire::Lifetime::Finite(s) => self.expiry_in(s),
        }
    }

    /// The lifetime ending at `e` is over.
    #[inline]
    pub const fn expired(&self, e: Expiry) -> bool {
        e.0 <= self.secs
    }

    /// Whole seconds until `e`, rounded down; `None` for never.
    pub const fn secs_left(&self, e: Expiry) -> Option<u32> {
        if e.is_never() {
            None
        } else {
            // `e` is on a whole second; now is `sub_ms` past `secs`.
            let whole = e.0.saturating_sub(self.secs);
            Some(if self.sub_ms > 0 {
                whole.saturating_sub(1)
            } else {
                whole
            })
        }
    }

    /// When to look at `e` again: the instant it ends, or [`MAX_SLEEP`]
    /// from now if that is sooner; `None` for never.
    #[inline]
    pub fn deadline(&self, e: Expiry) -> Option<Instant> {
        if e.is_never() {
            return None;
        }
        let ms =
            e.0.saturating_sub(self.secs)
                .saturating_mul(1000)
                .saturating_sub(self.sub_ms)
                .min(MAX_SLEEP.0);
        Some(self.now + Duration(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Lifetime;

    /// A part with one timer, for `Timed`.
    struct OneTimer(Option<Instant>);

    impl Deadline for OneTimer {
        fn next_deadline(&self, _: &Clock) -> Option<Instant> {
            self.0
        }
    }

    #[test]
    fn a_timed_part_remembers_its_deadline_until_changed() {
        let mut clock = Clock::new(Instant::from_millis(100));
        let mut part = Timed::new(OneTimer(Some(Instant::from_millis(500))));
        assert_eq!(part.remembered(), None);
        assert_eq!(part.next_deadline(&clock), Some(Instant::from_millis(500)));
        assert_eq!(part.remembered(), Some(Some(Instant::from_millis(500))));
        // Read through `Deref`: still remembered.
        assert_eq!(part.0, Some(Instant::from_millis(500)));
        assert!(part.remembered().is_some());
        // Any change through `DerefMut` forgets it; the next ask has it.
        part.0 = Some(Instant::from_millis(200));
        assert_eq!(part.remembered(), None);
        assert_eq!(part.next_deadline(&clock), Some(Instant::from_millis(200)));
        // Not due yet: kept. Due: forgotten, as the caller runs the timers.
        assert!(!part.take_due(&clock));
        assert!(part.remembered().is_some());
        clock.advance(Instant::from_millis(200));
        assert!(part.take_due(&clock));
        assert_eq!(part.remembered(), None);
        // No timer: remembered as none, never due.
        part.0 = None;
        assert_eq!(part.next_deadline(&clock), None);
        assert_eq!(part.remembered(), Some(None));
        assert!(!part.take_due(&clock));
        // A deadline on the millisecond a `Timer` reserves is kept exact.
        let last = Instant::from_millis(u32::MAX);
        part.0 = Some(last);
        assert_eq!(part.next_deadline(&clock), Some(last));
        assert_eq!(part.remembered(), Some(Some(last)));
    }

    #[test]
    fn instants_compare_across_the_wrap() {
        let last = Instant::from_millis(u32::MAX);
        let first = last + Duration::from_millis(1);
        assert_eq!(first, Instant::ZERO);
        assert!(last.is_before(first) && first.is_after(last));
        assert!(first.reached(last) && !last.reached(first));
        assert_eq!(last.later(first), first);
        assert_eq!(first.earlier(last), last);
        assert_eq!(
            first.saturating_duration_since(last),
            Duration::from_millis(1)
        );
        // Backwards reads as zero, not as 49 days.
        assert_eq!(last.saturating_duration_since(first), Duration::ZERO);
        assert_eq!(first - Duration::from_millis(1), last);
        // The operators follow the same order.
        assert!(last < first);
        assert!(first > last);
        let half = Instant::from_millis(1 << 31);
        assert_eq!(Instant::ZERO.partial_cmp(&half), None);
        assert_eq!(half.partial_cmp(&Instant::ZERO), None);
    }

    #[test]
    fn a_timer_never_lands_in_the_past() {
        // A span longer than 2^31 ms would wrap to "before now"; it is cut.
        let now = Instant::from_millis(123);
        let far = now + Duration::from_secs(40 * 86_400);
        assert!(far.is_after(now));
        assert_eq!(far.saturating_duration_since(now), Duration::MAX_TIMER);
        assert_eq!(
            Duration::from_secs(u32::MAX),
            Duration::from_millis(u32::MAX)
        );
        assert_eq!(
            Duration::from_secs(5).saturating_mul(u32::MAX),
            Duration::from_millis(u32::MAX)
        );
    }

    #[test]
    fn the_lifetime_clock_follows_the_wrapping_one() {
        let start = Instant::from_millis(u32::MAX - 499);
        let mut c = Clock::new(start);
        // 2.7 s, across the wrap.
        c.advance(start + Duration::from_millis(2_700));
        assert_eq!(c.second(), Expiry(2));
        assert_eq!(c.now, Instant::from_millis(2_200));
        // Backwards is ignored.
        c.advance(Instant::from_millis(1_000));
        assert_eq!(
            (c.now, c.second()),
            (Instant::from_millis(2_200), Expiry(2))
        );
        // A lifetime of 10 s rounds up to whole seconds: never early.
        let e = c.expiry(Lifetime::Finite(10));
        assert_eq!(e, Expiry(13));
        assert_eq!(c.secs_left(e), Some(10));
        assert_eq!(c.deadline(e), Some(c.now + Duration::from_millis(10_300)));
        assert!(!c.expired(e));
        c.advance(c.now + Duration::from_millis(10_299));
        assert!(!c.expired(e));
        c.advance(c.now + Duration::from_millis(1));
        assert!(c.expired(e));
        assert_eq!(c.deadline(e), Some(c.now));
        // Infinity never ends and never asks for a wake-up.
        let never = c.expiry(Lifetime::Infinite);
        assert!(never.is_never() && !c.expired(never));
        assert_eq!((c.secs_left(never), c.deadline(never)), (None, None));
        // A long lifetime asks to be looked at within MAX_SLEEP.
        let long = c.expiry(Lifetime::Finite(100 * 86_400));
        assert_eq!(c.deadline(long), Some(c.now + MAX_SLEEP));
        // The largest finite lifetime stays finite.
        assert!(!c.expiry(Lifetime::Finite(u32::MAX - 1)).is_never());
    }

    #[test]
    fn timers_are_off_or_due() {
        let t = Timer::at(Instant::from_millis(5));
        assert!(t.is_set() && !t.due(Instant::from_millis(4)) && t.due(Instant::from_millis(5)));
        assert!(!Timer::OFF.is_set() && !Timer::OFF.due(Instant::from_millis(7)));
        assert_eq!(Timer::OFF.get(), None);
        // The one instant that reads as "off" is kept a millisecond later.
        let edge = Timer::at(Instant::from_millis(u32::MAX));
        assert_eq!(edge.get(), Some(Instant::ZERO));
    }

    #[test]
    fn the_lifetime_clock_counts_past_many_wraps() {
        let mut c = Clock::new(Instant::ZERO);
        let e = c.expiry(Lifetime::Finite(200 * 86_400));
        // 200 days in steps of a day: four wraps of the millisecond clock.
        for _ in 0..199 {
            c.advance(c.now + MAX_SLEEP);
            assert!(!c.expired(e));
        }
        c.advance(c.now + MAX_SLEEP);
        assert!(c.expired(e));
        assert_eq!(c.second(), Expiry(200 * 86_400));
    }
}

/// smoltcp's clock (microseconds since an arbitrary origin) in the
/// engine's milliseconds, modulo 2^32.
///
/// ```
/// use ndp_core::time::Instant;
/// let t: Instant = smoltcp::time::Instant::from_millis(1500).into();
/// assert_eq!(t, Instant::from_millis(1500));
/// ```
#[cfg(feature = "smoltcp")]
impl From<smoltcp::time::Instant> for Instant {
    fn from(t: smoltcp::time::Instant) -> Self {
        // Two's complement: a time before smoltcp's origin is a time before
        // the engine's, modulo 2^32 like every other.
        #[allow(clippy::cast_sign_loss)]
        Instant::wrapping_from_millis(t.total_millis() as u64)
    }
}

/// smoltcp's Duration in the engine's milliseconds (rounded down,
/// saturating at 49.7 days).
#[cfg(feature = "smoltcp")]
impl From<smoltcp::time::Duration> for Duration {
    fn from(d: smoltcp::time::Duration) -> Self {
        Duration::from_millis(u32::try_from(d.total_millis()).unwrap_or(u32::MAX))
    }
}

/// The engine's Duration in smoltcp's.
#[cfg(feature = "smoltcp")]
impl From<Duration> for smoltcp::time::Duration {
    fn from(d: Duration) -> Self {
        smoltcp::time::Duration::from_millis(u64::from(d.as_millis()))
    }
}

#[cfg(all(test, feature = "smoltcp"))]
mod smoltcp_tests {
    use super::*;

    #[test]
    fn conversions_round_trip_and_wrap() {
        for ms in [0u32, 1, 999, 1_000, 86_400_000, u32::MAX] {
            let t = Instant::from_millis(ms);
            let s = smoltcp::time::Instant::from_millis(i64::from(ms));
            assert_eq!(Instant::from(s), t);
            let d = Duration::from_millis(ms);
            let sd: smoltcp::time::Duration = d.into();
            assert_eq!(Duration::from(sd), d);
        }
        // Past 2^32 ms smoltcp's clock goes on; the engine's wraps.
        let late = smoltcp::time::Instant::from_millis((1i64 << 32) + 7);
        assert_eq!(Instant::from(late), Instant::from_millis(7));
        // Before smoltcp's origin: just before the engine's, wrapped.
        assert_eq!(
            Instant::from(smoltcp::time::Instant::from_millis(-1)),
            Instant::from_millis(u32::MAX)
        );
        // Sub-millisecond parts are dropped.
        assert_eq!(
            Instant::from(smoltcp::time::Instant::from_micros(1_999)),
            Instant::from_millis(1)
        );
        let long = smoltcp::time::Duration::from_secs(60 * 86_400);
        assert_eq!(Duration::from(long), Duration::from_millis(u32::MAX));
    }
}
