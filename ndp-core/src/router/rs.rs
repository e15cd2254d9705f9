//! When to send Router Solicitations ([RFC 4861 §6.3.7], [RFC 7559]).
//!
//! The first goes after a random delay of up to
//! MAX_RTR_SOLICITATION_DELAY. Retransmissions follow [RFC 7559 §2], which
//! uses [RFC 3315 §14]'s exponential backoff with IRT = 4 s, MRT = 3600 s
//! and no count or duration limit:
//!
//! ```text
//! RT = IRT + RAND*IRT            first retransmission
//! RT = 2*RTprev + RAND*RTprev    each later one
//! if RT > MRT: RT = MRT + RAND*MRT
//! ```
//!
//! with RAND uniform in [-0.1, +0.1]. They stop once an advertisement with
//! a non-zero router lifetime arrives ([RFC 7559 §2.1]); if one arrives
//! before the first solicitation, that first one is still sent
//! ([RFC 4861 §6.3.7]: "SHOULD send at least one solicitation").
//!
//! [RFC 4861 §6.3.7]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.7
//! [RFC 7559]: https://www.rfc-editor.org/rfc/rfc7559
//! [RFC 7559 §2]: https://www.rfc-editor.org/rfc/rfc7559#section-2
//! [RFC 3315 §14]: https://www.rfc-editor.org/rfc/rfc3315#section-14
//! [RFC 7559 §2.1]: https://www.rfc-editor.org/rfc/rfc7559#section-2.1

use super::{MAX_RTR_SOLICITATION_DELAY, MAX_RTR_SOLICITATION_INTERVAL, RTR_SOLICITATION_INTERVAL};
use crate::rng::Rng;
use crate::time::{Duration, Instant, Timer};

#[derive(Debug, Clone)]
pub(crate) struct RsSchedule {
    /// When the next solicitation is due; off when none is.
    next: Timer,
    /// The last retransmission timeout, zero before the first.
    rt: Duration,
    /// Solicitations sent.
    sent: u32,
    /// A router was found: stop after the current solicitation.
    found: bool,
}

/// `x * (1 + RAND)` in milliseconds, RAND uniform in [-0.1, +0.1].
fn randomized(x: u32, times: u32, rng: &mut Rng) -> u32 {
    // x*times + RAND*x with RAND in thousandths: [-100, +100] / 1000.
    let base = x.saturating_mul(times);
    let rand = rng.in_range(0, 200);
    let jitter = x.saturating_mul(rand) / 1000;
    base.saturating_add(jitter).saturating_sub(x / 10)
}

impl RsSchedule {
    /// No solicitations.
    pub fn off() -> Self {
        RsSchedule {
            next: Timer::OFF,
            rt: Duration::ZERO,
            sent: 0,
            found: false,
        }
    }

    /// Solicitations scheduled from `now`, the first after a random delay.
    pub fn start(now: Instant, rng: &mut Rng) -> Self {
        let delay = rng.in_range(0, MAX_RTR_SOLICITATION_DELAY.as_millis());
        RsSchedule {
            next: Timer::at(now + Duration::from_millis(delay)),
            rt: Duration::ZERO,
            sent: 0,
            found: false,
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        self.next.due(now)
    }

    pub fn next(&self) -> Option<Instant> {
        self.next.get()
    }

    /// Bring the timer to `now` if due for more than `max` (see
    /// `Timer::catch_up`).
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        self.next.catch_up(now, max);
    }

    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// A solicitation went out: schedule the next per [RFC 3315 §14].
    ///
    /// [RFC 3315 §14]: https://www.rfc-editor.org/rfc/rfc3315#section-14
    pub fn on_sent(&mut self, now: Instant, rng: &mut Rng) {
        self.sent = self.sent.saturating_add(1);
        if self.found {
            self.next = Timer::OFF;
            return;
        }
        let mut rt = if self.rt == Duration::ZERO {
            randomized(RTR_SOLICITATION_INTERVAL.as_millis(), 1, rng)
        } else {
            randomized(self.rt.as_millis(), 2, rng)
        };
        let mrt = MAX_RTR_SOLICITATION_INTERVAL.as_millis();
        if rt > mrt {
            rt = randomized(mrt, 1, rng);
        }
        self.rt = Duration::from_millis(rt);
        self.next = Timer::at(now + self.rt);
    }

    /// An advertisement with a non-zero router lifetime arrived.
    pub fn router_found(&mut self) {
        self.found = true;
        if self.sent > 0 {
            self.next = Timer::OFF;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_rfc7559() {
        let mut rng = Rng::new(5);
        let mut s = RsSchedule::start(Instant::ZERO, &mut rng);
        let first = s.next().unwrap();
        assert!(!first.is_after(Instant::ZERO + MAX_RTR_SOLICITATION_DELAY));
        let mut now = first;
        let mut prev: Option<u32> = None;
        let mut capped = 0;
        for _ in 0..20 {
            s.on_sent(now, &mut rng);
            let next = s.next().unwrap();
            let rt = next.saturating_duration_since(now).as_millis();
            match prev {
                None => assert!((3600..=4400).contains(&rt), "first RT {rt}"),
                Some(p) if p * 19 / 10 > 3_600_000 || rt >= 3_240_000 => {
                    // Capped: MRT ± 10%.
                    assert!((3_240_000..=3_960_000).contains(&rt), "capped RT {rt}");
                    capped += 1;
                }
                Some(p) => assert!(p * 19 / 10 <= rt && rt <= p * 21 / 10, "RT {rt} after {p}"),
            }
            prev = Some(rt);
            now = next;
        }
        assert!(capped >= 8);
    }

    #[test]
    fn stops_after_a_router_but_sends_at_least_one() {
        let mut rng = Rng::new(1);
        let mut s = RsSchedule::start(Instant::ZERO, &mut rng);
        s.router_found();
        assert!(s.next().is_some(), "the first solicitation still goes");
        let t = s.next().unwrap();
        s.on_sent(t, &mut rng);
        assert_eq!(s.next(), None);
        let mut s = RsSchedule::start(Instant::ZERO, &mut rng);
        s.on_sent(Instant::ZERO, &mut rng);
        s.router_found();
        assert_eq!(s.next(), None);
        assert_eq!(s.sent(), 1);
    }
}
