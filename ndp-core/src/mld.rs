//! Multicast Listener Discovery for the groups the engine needs: the
//! solicited-node groups of its addresses ([RFC 3810] as a listener, with
//! MLDv1 host compatibility per §8.2.1 and [RFC 2710]).
//!
//! Problems solved here:
//! - MLD-snooping switches forward a solicited-node group only to ports
//!   that reported it; without reports, DAD and address resolution fail
//!   on such networks ([RFC 4862 §5.4.2]);
//! - state changes are reported [`ROBUSTNESS`] times, CHANGE_TO_EXCLUDE({})
//!   on joining and CHANGE_TO_INCLUDE({}) on leaving ([RFC 3810 §6.1]);
//! - queries are answered after a random delay within their maximum
//!   response delay, combined as §6.2 requires, so a link full of hosts
//!   does not answer at once;
//! - with an MLDv1 querier present, MLDv1 Reports and Dones are sent
//!   instead (§8.2.1), with the `mldv1` feature. Without it, MLDv1
//!   queries get MLDv2 reports, which an MLDv1-only router or snooping
//!   switch ignores: on such a link, multicast to our groups may stop
//!   reaching us (lwIP's choice is the opposite: MLDv1 only).
//!
//! ff02::1 is never reported ([RFC 3810 §6]). The groups here are always
//! in EXCLUDE mode with no sources, so records never carry sources.
//!
//! [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
//! [RFC 2710]: https://www.rfc-editor.org/rfc/rfc2710
//! [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
//! [RFC 3810 §6.1]: https://www.rfc-editor.org/rfc/rfc3810#section-6.1
//! [RFC 3810 §6]: https://www.rfc-editor.org/rfc/rfc3810#section-6

use core::net::Ipv6Addr;

use crate::rng::Rng;
use crate::time::{Duration, Instant, Timer, sooner};
use crate::wire::{MldQuery, MulticastAddr, RecordType};

/// Robustness Variable ([RFC 3810 §9.1]): state changes are reported this
/// many times.
///
/// [RFC 3810 §9.1]: https://www.rfc-editor.org/rfc/rfc3810#section-9.1
pub const ROBUSTNESS: u8 = 2;
/// Unsolicited Report Interval ([RFC 3810 §9.11]): retransmissions of a
/// state change are spread over this.
///
/// [RFC 3810 §9.11]: https://www.rfc-editor.org/rfc/rfc3810#section-9.11
pub const UNSOLICITED_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Older Version Querier Present Timeout with the defaults of [RFC 3810]
/// §9.12: Robustness × Query Interval (125 s) + Query Response Interval
/// (10 s). An MLDv1 query carries no interval of its own.
///
/// [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
pub const OLDER_VERSION_QUERIER_TIMEOUT: Duration = Duration::from_secs(2 * 125 + 10);
/// Groups tracked: joined ones (solicited-node groups of the addresses,
/// and the application's) and ones still being reported as left. When
/// the table is full, a new group takes the place of one still being
/// reported as left: its remaining Done reports are not sent, and
/// routers forget it after their Multicast Listener Interval ([RFC 3810]
/// §9.4) as for a listener that left without a word.
///
/// [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
pub const GROUPS: usize = 2 * crate::addr::ADDRESSES + crate::stack::APP_GROUPS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    addr: MulticastAddr,
    /// False: left, and the leave is still being reported.
    joined: bool,
    /// State-change reports still to send.
    changes_left: u8,
    /// When the next one is due (meaningless when none is left).
    change_at: Instant,
    /// A pending answer to a group-specific query.
    query_at: Timer,
}

/// What to send: one MLD message.
// A value that lives only between `poll` and the encoder, on the stack;
// the v2 records are the point of it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MldOut {
    /// An MLDv2 report with these records (type, group), to ff02::16.
    V2(heapless::Vec<(RecordType, MulticastAddr), GROUPS>),
    /// An MLDv1 report for a group, to that group.
    V1Report(MulticastAddr),
    /// An MLDv1 done for a group, to ff02::2.
    V1Done(MulticastAddr),
}

#[derive(Debug, Clone)]
pub(crate) struct Mld {
    groups: heapless::Vec<Group, GROUPS>,
    /// Pending answer to a general query.
    general_at: Timer,
    /// MLDv1 compatibility until then (off: MLDv2).
    v1_until: Timer,
}

/// A delay in (0, `max`]: RFC 3810 §6.2 chooses it "in the range (0,
/// [Maximum Response Delay])", and §6.3 forbids answering a General
/// Query at the instant it arrives; 1 ms is the smallest step here.
fn random_within(rng: &mut Rng, max: Duration) -> Duration {
    Duration::from_millis(rng.in_range(1, max.as_millis().max(1)))
}

impl Mld {
    pub fn new() -> Self {
        Mld {
            groups: heapless::Vec::new(),
            general_at: Timer::OFF,
            v1_until: Timer::OFF,
        }
    }

    /// In MLDv1 compatibility mode (RFC 3810 §8.2.1); a timer that ran out
    /// is switched off, so it cannot read as running again once the
    /// clock wraps. Never without the `mldv1` feature, which leaves the
    /// MLDv1 code out of the build.
    fn v1(&mut self, now: Instant) -> bool {
        if !cfg!(feature = "mldv1") {
            return false;
        }
        if self.v1_until.due(now) {
            self.v1_until = Timer::OFF;
        }
        self.v1_until.is_set()
    }

    /// Listen to exactly `wanted` (ff02::1 excepted, never reported):
    /// join the new ones no earlier than `join_at` ([RFC 4862 §5.4.2]'s
    /// delay), leave the others now ([RFC 3810 §6.1]). Returns false if a
    /// group could not be tracked (table full).
    ///
    /// [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
    /// [RFC 3810 §6.1]: https://www.rfc-editor.org/rfc/rfc3810#section-6.1
    pub fn set_groups(&mut self, wanted: &[MulticastAddr], now: Instant, join_at: Instant) -> bool {
        let mut ok = true;
        for g in self.groups.iter_mut() {
            if g.joined && !wanted.contains(&g.addr) {
                g.joined = false;
                g.changes_left = ROBUSTNESS;
                g.change_at = now;
                g.query_at = Timer::OFF;
            }
        }
        for w in wanted.iter().filter(|w| **w != MulticastAddr::ALL_NODES) {
            match self.groups.iter_mut().find(|g| g.addr == *w) {
                Some(g) if g.joined => {}
                Some(g) => {
                    g.joined = true;
                    g.changes_left = ROBUSTNESS;
                    g.change_at = now.later(join_at);
                }
                None => {
                    let g = Group {
                        addr: *w,
                        joined: true,
                        changes_left: ROBUSTNESS,
                        change_at: now.later(join_at),
                        query_at: Timer::OFF,
                    };
                    if let Err(g) = self.groups.push(g) {
                        match self.groups.iter_mut().find(|x| !x.joined) {
                            Some(left) => *left = g,
                            None => ok = false,
                        }
                    }
                }
            }
        }
        ok
    }

    /// Report every joined group again, as after a valid link-local
    /// address appears ([RFC 3810 §5.2.13], [RFC 3590 §4]): reports sent from
    /// `::` are discarded by routers.
    ///
    /// [RFC 3810 §5.2.13]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2.13
    /// [RFC 3590 §4]: https://www.rfc-editor.org/rfc/rfc3590#section-4
    pub fn rereport(&mut self, now: Instant) {
        for g in self.groups.iter_mut().filter(|g| g.joined) {
            // A report already scheduled sooner stands; an old time of a
            // finished one does not count.
            if g.changes_left == 0 || now.is_before(g.change_at) {
                g.change_at = now;
            }
            g.changes_left = ROBUSTNESS;
        }
    }

    /// Groups listened to (for a NIC's multicast filter).
    pub fn joined(&self) -> impl Iterator<Item = MulticastAddr> + '_ {
        self.groups.iter().filter(|g| g.joined).map(|g| g.addr)
    }

    /// A valid query arrived ([RFC 3810 §6.2], §8.2.1).
    ///
    /// [RFC 3810 §6.2]: https://www.rfc-editor.org/rfc/rfc3810#section-6.2
    pub fn on_query(&mut self, q: &MldQuery<'_>, now: Instant, rng: &mut Rng) {
        // Without the `mldv1` feature an MLDv1 query is answered like an
        // MLDv2 one, with MLDv2 reports.
        if cfg!(feature = "mldv1") && q.v2.is_none() {
            // §8.2.1: an MLDv1 querier; switching mode cancels what was
            // pending.
            if !self.v1(now) {
                self.cancel_pending();
            }
            self.v1_until = Timer::at(now + OLDER_VERSION_QUERIER_TIMEOUT);
        }
        let delay = now + random_within(rng, Duration::from_millis(q.max_response_delay_ms()));
        if q.is_general() {
            // Rule 1: a general answer already due sooner stands.
            if !self.general_at.due(delay) {
                // Rule 2: otherwise schedule (replacing any later one).
                self.general_at = Timer::at(delay);
            }
            return;
        }
        if self.general_at.due(delay) {
            return;
        }
        // Rules 3 and 4: group-specific (and, with our EXCLUDE({}) state,
        // source-specific ones are answered the same way), earliest wins.
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.joined && g.addr.get() == q.group)
            && !g.query_at.due(delay)
        {
            g.query_at = Timer::at(delay);
        }
    }

    fn cancel_pending(&mut self) {
        self.general_at = Timer::OFF;
        for g in self.groups.iter_mut() {
            g.query_at = Timer::OFF;
            if g.joined {
                g.changes_left = 0;
            }
        }
        self.groups.retain(|g| g.joined);
    }

    /// Bring timers due for more than `max` to `now` (see
    /// `Timer::catch_up`).
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        self.general_at.catch_up(now, max);
        self.v1_until.catch_up(now, max);
        for g in self.groups.iter_mut() {
            g.query_at.catch_up(now, max);
            g.change_at.catch_up(now, max);
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let mut next = sooner(self.general_at.get(), self.v1_until.get());
        for g in self.groups.iter() {
            if g.changes_left > 0 {
                next = sooner(next, Some(g.change_at));
            }
            next = sooner(next, g.query_at.get());
        }
        next
    }

    /// The next message due at `now`, updating the timers as if it were
    /// sent; `None` when nothing is due.
    pub fn poll(&mut self, now: Instant, rng: &mut Rng) -> Option<MldOut> {
        // Nothing due is the common case: one pass, nothing built.
        let due = self.general_at.due(now)
            || self.v1_until.due(now)
            || self
                .groups
                .iter()
                .any(|g| (g.changes_left > 0 && now.reached(g.change_at)) || g.query_at.due(now));
        if !due {
            return None;
        }
        if self.v1(now) {
            return self.poll_v1(now, rng);
        }
        let mut records: heapless::Vec<(RecordType, MulticastAddr), GROUPS> = heapless::Vec::new();
        // State changes (§6.1, §6.3 item 4).
        for g in self
            .groups
            .iter_mut()
            .filter(|g| g.changes_left > 0 && now.reached(g.change_at))
        {
            let kind = if g.joined {
                RecordType::ChangeToExclude
            } else {
                RecordType::ChangeToInclude
            };
            let _ = records.push((kind, g.addr));
            g.changes_left = g.changes_left.saturating_sub(1);
            g.change_at = now + random_within(rng, UNSOLICITED_REPORT_INTERVAL);
        }
        // Answers to queries (§6.3 items 1 and 2): current state, EXCLUDE({}).
        let general = self.general_at.due(now);
        if general {
            self.general_at = Timer::OFF;
        }
        for g in self.groups.iter_mut().filter(|g| g.joined) {
            if general || g.query_at.due(now) {
                g.query_at = Timer::OFF;
                if !records.iter().any(|r| r.1 == g.addr) {
                    let _ = records.push((RecordType::ModeIsExclude, g.addr));
                }
            }
        }
        self.groups.retain(|g| g.joined || g.changes_left > 0);
        (!records.is_empty()).then_some(MldOut::V2(records))
    }

    /// MLDv1 mode: one Report per joined group due, one Done per group
    /// left (RFC 2710 §4).
    fn poll_v1(&mut self, now: Instant, rng: &mut Rng) -> Option<MldOut> {
        let general = self.general_at.due(now);
        if general {
            self.general_at = Timer::OFF;
            for g in self.groups.iter_mut().filter(|g| g.joined) {
                g.query_at = Timer::at(now);
            }
        }
        for i in 0..self.groups.len() {
            let Some(g) = self.groups.get_mut(i) else {
                break;
            };
            if !g.joined && g.changes_left > 0 {
                // A single Done suffices (RFC 2710 §4).
                let addr = g.addr;
                self.groups.remove(i);
                return Some(MldOut::V1Done(addr));
            }
            let change_due = g.changes_left > 0 && now.reached(g.change_at);
            if g.joined && (change_due || g.query_at.due(now)) {
                if change_due {
                    g.changes_left = g.changes_left.saturating_sub(1);
                    g.change_at = now + random_within(rng, UNSOLICITED_REPORT_INTERVAL);
                }
                if g.query_at.due(now) {
                    g.query_at = Timer::OFF;
                }
                return Some(MldOut::V1Report(g.addr));
            }
        }
        None
    }
}

/// The destination of an MLDv2 report ([RFC 3810 §5.2.14]).
///
/// [RFC 3810 §5.2.14]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2.14
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = MulticastAddr::ALL_MLDV2_ROUTERS.get();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AddrList, MldQueryV2};
    use std::vec::Vec;

    fn g(n: u16) -> MulticastAddr {
        MulticastAddr::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, n)).unwrap()
    }

    fn t(ms: u32) -> Instant {
        Instant::from_millis(ms)
    }

    /// Send everything pending, following the timers.
    fn settle(m: &mut Mld, rng: &mut Rng) -> Instant {
        let mut last = Instant::ZERO;
        while let Some(at) = m.next_deadline() {
            while m.poll(at, rng).is_some() {}
            last = at;
        }
        last
    }

    fn records(out: Option<MldOut>) -> Vec<(RecordType, MulticastAddr)> {
        match out {
            Some(MldOut::V2(r)) => r.into_iter().collect(),
            other => panic!("{other:?}"),
        }
    }

    fn query(group: Ipv6Addr, max_ms: u16, v2: bool) -> MldQuery<'static> {
        MldQuery {
            max_response_code: max_ms,
            group,
            v2: v2.then(|| MldQueryV2 {
                suppress_router_processing: false,
                robustness: 2,
                qqic: 125,
                sources: AddrList::new(&[]),
            }),
        }
    }

    #[test]
    fn a_full_table_makes_room_from_groups_being_left_not_joined_ones() {
        let mut m = Mld::new();
        let all: Vec<MulticastAddr> = (0..GROUPS as u16).map(g).collect();
        assert!(m.set_groups(&all, t(0), t(0)));
        // Leave half; their leaves are still being reported.
        let half = &all[..GROUPS / 2];
        assert!(m.set_groups(half, t(1), t(1)));
        assert_eq!(m.groups.len(), GROUPS);
        // New groups take the place of the ones left...
        let mut wanted = half.to_vec();
        wanted.extend((100..100 + (GROUPS / 2) as u16).map(g));
        assert!(m.set_groups(&wanted, t(2), t(2)));
        let mut joined: Vec<_> = m.joined().collect();
        joined.sort_by_key(|a| a.get());
        wanted.sort_by_key(|a| a.get());
        assert_eq!(joined, wanted);
        // ...never of joined ones: with none left, the new one is refused.
        wanted.push(g(200));
        assert!(!m.set_groups(&wanted, t(3), t(3)));
        assert!(!m.joined().any(|x| x == g(200)));
        assert_eq!(m.joined().count(), GROUPS);
    }

    #[test]
    fn joins_are_reported_robustness_times_and_never_ff02_1() {
        // RFC 3810 §6.1, §6.
        let mut m = Mld::new();
        let mut rng = Rng::new(1);
        m.set_groups(&[MulticastAddr::ALL_NODES, g(1)], t(0), t(500));
        assert_eq!(
            m.poll(t(499), &mut rng),
            None,
            "join waits for the DAD delay"
        );
        assert_eq!(
            records(m.poll(t(500), &mut rng)),
            [(RecordType::ChangeToExclude, g(1))]
        );
        let next = m.next_deadline().unwrap();
        assert!(!next.is_after(t(500) + UNSOLICITED_REPORT_INTERVAL));
        assert_eq!(
            records(m.poll(next, &mut rng)),
            [(RecordType::ChangeToExclude, g(1))]
        );
        assert_eq!(
            m.next_deadline(),
            None,
            "ROBUSTNESS = 2 reports, then quiet"
        );
        assert_eq!(m.joined().collect::<Vec<_>>(), [g(1)]);
    }

    #[test]
    fn leaving_is_reported_as_change_to_include() {
        let mut m = Mld::new();
        let mut rng = Rng::new(2);
        m.set_groups(&[g(1), g(2)], t(0), t(0));
        records(m.poll(t(0), &mut rng));
        m.set_groups(&[g(2)], t(1), t(1));
        let r = records(m.poll(t(1), &mut rng));
        assert!(r.contains(&(RecordType::ChangeToInclude, g(1))), "{r:?}");
        assert_eq!(m.joined().collect::<Vec<_>>(), [g(2)]);
    }

    #[test]
    fn general_query_is_answered_within_the_delay_for_all_groups() {
        // RFC 3810 §6.2 rules 1-2, §6.3 item 1.
        let mut m = Mld::new();
        let mut rng = Rng::new(3);
        m.set_groups(&[g(1), g(2)], t(0), t(0));
        assert!(!settle(&mut m, &mut rng).is_after(t(1000)));
        m.on_query(
            &query(Ipv6Addr::UNSPECIFIED, 10_000, true),
            t(10_000),
            &mut rng,
        );
        let at = m.next_deadline().unwrap();
        assert!(at.reached(t(10_000)) && t(20_000).reached(at));
        assert_eq!(m.poll(at - Duration::from_millis(1), &mut rng), None);
        let mut r = records(m.poll(at, &mut rng));
        r.sort_by_key(|x| x.1);
        assert_eq!(
            r,
            [
                (RecordType::ModeIsExclude, g(1)),
                (RecordType::ModeIsExclude, g(2))
            ]
        );
        // A group-specific query for a group we do not listen to: nothing.
        m.on_query(&query(g(9).get(), 1000, true), t(30_000), &mut rng);
        assert_eq!(m.next_deadline(), None);
        m.on_query(&query(g(2).get(), 1000, true), t(30_000), &mut rng);
        let at = m.next_deadline().unwrap();
        assert_eq!(
            records(m.poll(at, &mut rng)),
            [(RecordType::ModeIsExclude, g(2))]
        );
    }

    #[test]
    #[cfg(not(feature = "mldv1"))]
    fn without_mldv1_an_mldv1_query_gets_an_mldv2_report() {
        let mut m = Mld::new();
        let mut rng = Rng::new(4);
        m.set_groups(&[g(1)], t(0), t(0));
        settle(&mut m, &mut rng);
        m.on_query(
            &query(Ipv6Addr::UNSPECIFIED, 1000, false),
            t(10_000),
            &mut rng,
        );
        let at = m.next_deadline().unwrap();
        assert_eq!(
            records(m.poll(at, &mut rng)),
            [(RecordType::ModeIsExclude, g(1))]
        );
        // Leaving is reported the MLDv2 way too.
        m.set_groups(&[], t(11_000), t(11_000));
        assert_eq!(
            records(m.poll(t(11_000), &mut rng)),
            [(RecordType::ChangeToInclude, g(1))]
        );
    }

    #[test]
    #[cfg(feature = "mldv1")]
    fn mldv1_querier_switches_to_v1_reports_and_done() {
        // RFC 3810 §8.2.1, RFC 2710.
        let mut m = Mld::new();
        let mut rng = Rng::new(4);
        m.set_groups(&[g(1)], t(0), t(0));
        settle(&mut m, &mut rng);
        m.on_query(
            &query(Ipv6Addr::UNSPECIFIED, 1000, false),
            t(10_000),
            &mut rng,
        );
        let at = m.next_deadline().unwrap();
        assert_eq!(m.poll(at, &mut rng), Some(MldOut::V1Report(g(1))));
        m.set_groups(&[], t(11_000), t(11_000));
        assert_eq!(m.poll(t(11_000), &mut rng), Some(MldOut::V1Done(g(1))));
        assert_eq!(m.poll(t(11_000), &mut rng), None);
        // After the timeout, MLDv2 again.
        m.set_groups(&[g(2)], t(10_000) + OLDER_VERSION_QUERIER_TIMEOUT, t(0));
        let r = m.poll(t(10_000) + OLDER_VERSION_QUERIER_TIMEOUT, &mut rng);
        assert_eq!(records(r), [(RecordType::ChangeToExclude, g(2))]);
    }
}
