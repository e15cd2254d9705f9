//! Self-checks of a [`Stack`]'s internal consistency, for the stateful
//! fuzz target (`ndp-core/fuzz/fuzz_targets/stack_ops.rs`) and tests.
//!
//! Every check is cheap (the tables hold a handful of entries), reads
//! state without changing it and never panics: a violation is reported as
//! a static description.

use super::Stack;
use crate::addr::{ADDRESSES, AddrState, Origin};
use crate::neighbor::queue::Owner;
use crate::neighbor::{
    MAX_MULTICAST_SOLICIT, MAX_RANDOM_FACTOR_PERCENT, MAX_UNICAST_SOLICIT,
    MIN_RANDOM_FACTOR_PERCENT, NeighborState,
};
use crate::router::MIN_LINK_MTU;
use crate::router::dest::Destination;
use crate::time::{Duration, Instant};
use crate::wire::ipv6::Ipv6Header;

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Check the engine's invariants; `Err` names the first one broken.
    ///
    /// Always: the policy caps hold (INCOMPLETE entries, packets per
    /// neighbor), every neighbor entry is reachable through its hash chain
    /// and in a legal state with a timer that fits it, no neighbor,
    /// address, SLAAC prefix, group, router, prefix, route, destination,
    /// DNS server or search domain is held twice, every queued packet
    /// belongs to an existing entry, every address's DAD timer fits its
    /// state and only usable addresses have advertisements to send, every
    /// listening address's solicited-node group is joined, the scalars
    /// learnt from routers are within their ranges, and
    /// [`Stack::poll_at`] is never later than any pending timer.
    ///
    /// With `drained` (`poll_transmit` just returned `None`, nothing else
    /// called since): nothing is left due at the engine's time, so
    /// `poll_at` is `None` or later than it, and nothing is kept past its
    /// lifetime. A disabled interface ([RFC 4862 §5.4.5]) runs only its
    /// link-local address's DAD and holds no other address.
    ///
    /// Not part of the API: for fuzzing and tests.
    ///
    /// [RFC 4862 §5.4.5]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.5
    #[doc(hidden)]
    pub fn check_invariants(&self, drained: bool) -> Result<(), &'static str> {
        self.check_neighbors()?;
        self.check_queue()?;
        self.check_addresses()?;
        self.check_tables()?;
        self.check_scalars()?;
        self.check_deadlines()?;
        if drained {
            self.check_drained()?;
        }
        Ok(())
    }

    fn check_neighbors(&self) -> Result<(), &'static str> {
        let mut earliest: Option<Instant> = None;
        let mut incomplete = 0usize;
        for (i, e) in self.neighbors.iter() {
            // Also proves that no address has two entries.
            if self.neighbors.find(&e.addr()) != Some(i) {
                return Err("a neighbor entry is not found at its slot by its address");
            }
            let timed = e.deadline().is_set();
            let legal = match e.state() {
                NeighborState::Incomplete => timed && e.probes() <= MAX_MULTICAST_SOLICIT,
                NeighborState::Probe => timed && e.probes() <= MAX_UNICAST_SOLICIT,
                NeighborState::Reachable | NeighborState::Delay => timed && e.probes() == 0,
                NeighborState::Stale => !timed && e.probes() == 0,
            };
            if !legal {
                return Err("a neighbor entry's timer or probe count does not fit its state");
            }
            if e.state() == NeighborState::Incomplete {
                incomplete = incomplete.saturating_add(1);
            }
            earliest = match (earliest, e.deadline().get()) {
                (Some(x), Some(d)) => Some(x.earlier(d)),
                (x, d) => x.or(d),
            };
        }
        let max_incomplete = self.config.max_incomplete.unwrap_or(NEIGHBORS / 2).max(1);
        if incomplete > max_incomplete {
            return Err("more INCOMPLETE neighbor entries than max_incomplete");
        }
        let bound = self.neighbors.next_deadline();
        if earliest.is_some_and(|e| bound.is_none_or(|b| b.is_after(e))) {
            return Err("the neighbor cache's timer bound is later than an entry's deadline");
        }
        Ok(())
    }

    fn check_queue(&self) -> Result<(), &'static str> {
        let per_neighbor = self.config.queue_per_neighbor.max(1);
        for slot in 0..self.queue.len() {
            if Ipv6Header::parse(self.queue.packet(slot)).is_err() {
                return Err("a queued packet is not the IPv6 packet that was queued");
            }
        }
        let orphan = self.queue.find(|o| match o {
            Owner::Neighbor(i) => self.neighbors.get(usize::from(i)).is_none(),
            Owner::Failed => false,
        });
        if orphan.is_some() {
            return Err("a queued packet waits for a neighbor entry that does not exist");
        }
        for (i, _) in self.neighbors.iter() {
            let owner = u16::try_from(i).map(Owner::Neighbor);
            if owner.is_ok_and(|o| self.queue.count(o) > per_neighbor) {
                return Err("more packets queued for one neighbor than queue_per_neighbor");
            }
        }
        Ok(())
    }

    fn check_addresses(&self) -> Result<(), &'static str> {
        if !unique(|| self.local.addrs.iter().map(|a| a.addr)) {
            return Err("an address is held twice");
        }
        let slaac_prefixes = || {
            self.local
                .addrs
                .iter()
                .filter(|a| a.origin == Origin::Slaac)
                .map(|a| crate::wire::prefix_of(&a.addr.get(), 64))
        };
        if !unique(slaac_prefixes) {
            return Err("two SLAAC addresses share a /64 prefix");
        }
        let link_locals = self
            .local
            .addrs
            .iter()
            .filter(|a| a.origin == Origin::LinkLocal)
            .count();
        if link_locals != 1 {
            return Err("not exactly one link-local address");
        }
        for i in 0..ADDRESSES {
            let Some(s) = self.local.addrs.slot(i) else {
                continue;
            };
            let a = s.address();
            // RFC 4862 §5.3, §5.5.3 (d): 64 for what the engine forms; the
            // application chooses for its own.
            match a.origin {
                Origin::Static => {
                    if a.prefix_len > 128 {
                        return Err("a static address's prefix length is over 128");
                    }
                    if !self
                        .app
                        .statics
                        .iter()
                        .any(|(x, len)| *x == a.addr && *len == a.prefix_len)
                    {
                        return Err("a static address the application did not set");
                    }
                }
                _ if a.prefix_len != 64 => {
                    return Err("a link-local or SLAAC address's prefix length is not 64");
                }
                _ => {}
            }
            let probing = matches!(a.state, AddrState::Tentative | AddrState::Optimistic);
            if probing != s.dad_running() {
                return Err("an address's DAD timer does not fit its state");
            }
            // RFC 9131 §6.1.2 announces optimistic and preferred addresses;
            // a tentative or duplicate one must not be advertised.
            let unusable = matches!(a.state, AddrState::Tentative | AddrState::Duplicate);
            if unusable && s.announcements_left() > 0 {
                return Err("a tentative or duplicate address has advertisements to send");
            }
            if a.origin == Origin::LinkLocal
                && !(a.valid_until.is_never() && a.preferred_until.is_never())
            {
                return Err("the link-local address has a finite lifetime");
            }
            if a.listens()
                && !self
                    .local
                    .mld
                    .joined()
                    .any(|g| g == a.addr.solicited_node())
            {
                return Err("an address's solicited-node group is not joined");
            }
        }
        if !unique(|| self.local.mld.joined()) {
            return Err("a multicast group is joined twice");
        }
        // The application's groups are listened to (and reported).
        if self
            .app
            .groups
            .iter()
            .any(|g| !self.local.mld.joined().any(|j| j == *g))
        {
            return Err("an application group is not listened to");
        }
        Ok(())
    }

    fn check_tables(&self) -> Result<(), &'static str> {
        if !unique(|| self.discovery.routers.iter().map(|r| r.addr)) {
            return Err("a router is held twice");
        }
        if !unique(|| self.discovery.prefixes.iter().map(|p| (p.prefix, p.len))) {
            return Err("an on-link prefix is held twice");
        }
        if !unique(|| {
            self.discovery
                .routes
                .iter()
                .map(|r| (r.prefix, r.len, r.router))
        }) {
            return Err("a route is held twice");
        }
        if !unique(|| self.dests.iter().map(|d: &Destination| d.dst)) {
            return Err("a destination is cached twice");
        }
        #[cfg(feature = "dns")]
        if !unique(|| self.discovery.dns_servers.iter()) {
            return Err("a DNS server is held twice");
        }
        #[cfg(feature = "dns")]
        if !unique(|| self.discovery.search.iter()) {
            return Err("a search domain is held twice");
        }
        Ok(())
    }

    fn check_scalars(&self) -> Result<(), &'static str> {
        let within = |d: Duration, (lo, hi): (Duration, Duration)| lo <= d && d <= hi;
        if self.discovery.hop_limit == 0 {
            return Err("the hop limit is zero");
        }
        let mtu_ok = if self.config.link_mtu >= MIN_LINK_MTU {
            (MIN_LINK_MTU..=self.config.link_mtu).contains(&self.discovery.link_mtu)
        } else {
            self.discovery.link_mtu == self.config.link_mtu
        };
        if !mtu_ok {
            return Err("the link MTU is outside [1280, the configured maximum]");
        }
        let ra_retrans = crate::neighbor::RA_RETRANS_TIMER_RANGE;
        if self.retrans_timer != self.config.retrans_timer
            && !within(self.retrans_timer, ra_retrans)
        {
            return Err("RetransTimer is neither configured nor within the RA clamp");
        }
        let base = self.reachable.base;
        let ra_reachable = crate::neighbor::RA_REACHABLE_TIME_RANGE;
        if base != self.config.base_reachable_time && !within(base, ra_reachable) {
            return Err("BaseReachableTime is neither configured nor within the RA clamp");
        }
        let ms = base.as_millis();
        let lo = Duration::from_millis(ms.saturating_mul(MIN_RANDOM_FACTOR_PERCENT) / 100);
        let hi = Duration::from_millis(ms.saturating_mul(MAX_RANDOM_FACTOR_PERCENT) / 100);
        if !within(self.reachable.current, (lo, hi)) {
            return Err("ReachableTime is outside [0.5, 1.5] x BaseReachableTime");
        }
        if self.disabled && !self.answers.is_empty() {
            return Err("a disabled interface has answers to send");
        }
        if self.disabled
            && self
                .local
                .addrs
                .iter()
                .any(|a| a.origin != Origin::LinkLocal)
        {
            return Err("a disabled interface holds more than its link-local address");
        }
        Ok(())
    }

    /// `poll_at` (and the deadlines the timed parts remember) never later
    /// than a timer.
    fn check_deadlines(&self) -> Result<(), &'static str> {
        let poll_at = self.poll_at_unchanged();
        if self.disabled {
            // Only the link-local address's DAD runs (RFC 4862 §5.4.5).
            let dad = self
                .local
                .addrs
                .next_deadline(&self.clock)
                .map(|d| d.later(self.clock.now));
            if dad.is_some_and(|d| poll_at.is_none_or(|at| at.is_after(d))) {
                return Err("poll_at is later than a disabled interface's DAD timer");
            }
            return Ok(());
        }
        let clock = &self.clock;
        let parts = [
            (self.local.remembered(), self.local.exact(clock)),
            (self.discovery.remembered(), self.discovery.exact(clock)),
        ];
        for (remembered, exact) in parts {
            if let Some(at) = remembered
                && let Some(exact) = exact
                && at.is_none_or(|at| at.is_after(exact))
            {
                return Err("a timed part's remembered deadline is later than its earliest timer");
            }
        }
        let neighbors = self
            .neighbors
            .iter()
            .filter_map(|(_, e)| e.deadline().get())
            .reduce(Instant::earlier);
        // A timer already overdue (time moved on without a poll) is served
        // by "now".
        let due = [self.timed_deadline_exact(), neighbors]
            .into_iter()
            .flatten()
            .reduce(Instant::earlier)
            .map(|d| d.later(self.clock.now));
        if due.is_some_and(|due| poll_at.is_none_or(|at| at.is_after(due))) {
            return Err("poll_at is later than a pending timer");
        }
        Ok(())
    }

    /// [`Stack::poll_at`], which fills the deadlines the timed parts
    /// remember, with them put back: checking changes nothing.
    fn poll_at_unchanged(&self) -> Option<Instant> {
        let remembered = (self.local.remembered(), self.discovery.remembered());
        let poll_at = self.poll_at();
        self.local.set_remembered(remembered.0);
        self.discovery.set_remembered(remembered.1);
        poll_at
    }

    /// The earliest deadline of the timed parts, computed from the parts
    /// themselves, not remembered.
    fn timed_deadline_exact(&self) -> Option<Instant> {
        crate::time::sooner(
            self.local.exact(&self.clock),
            self.discovery.exact(&self.clock),
        )
    }

    /// After `poll_transmit` returned `None`: nothing due at `self.clock.now`.
    fn check_drained(&self) -> Result<(), &'static str> {
        let now = self.clock.now;
        let late = self.poll_at_unchanged().is_some_and(|at| now.reached(at));
        // A disabled interface runs its link-local address's DAD only
        // (RFC 4862 §5.4.5).
        if self.disabled {
            if self
                .local
                .addrs
                .next_deadline(&self.clock)
                .is_some_and(|d| now.reached(d))
            {
                return Err("a disabled interface's DAD timer is due after draining");
            }
            if late {
                return Err("poll_at is not in the future after draining");
            }
            return Ok(());
        }
        if !self.answers.is_empty() {
            return Err("answers are left after draining");
        }
        let ready = self.queue.find(|o| match o {
            Owner::Failed => true,
            Owner::Neighbor(i) => self
                .neighbors
                .get(usize::from(i))
                .is_none_or(|e| e.state() != NeighborState::Incomplete),
        });
        if ready.is_some() {
            return Err("a resolved or failed packet is left after draining");
        }
        if self.neighbors.iter().any(|(_, e)| e.deadline().due(now)) {
            return Err("a neighbor timer is due after draining");
        }
        if self.timed_deadline_exact().is_some_and(|d| now.reached(d)) {
            return Err(
                "an address, router, prefix, route, DNS, MLD or RS timer is due after draining",
            );
        }
        let over = |e| self.clock.expired(e);
        let expired = self.local.addrs.iter().any(|a| {
            over(a.valid_until) || (a.state == AddrState::Preferred && over(a.preferred_until))
        }) || self
            .discovery
            .routers
            .iter()
            .any(|r| now.reached(r.expires))
            || self.discovery.prefixes.iter().any(|p| over(p.expires))
            || self.discovery.routes.iter().any(|r| over(r.expires));
        if expired {
            return Err("something is kept past its lifetime after draining");
        }
        if late {
            return Err("poll_at is not in the future after draining");
        }
        Ok(())
    }
}

/// No two items of `items()` are equal (the tables hold a handful:
/// quadratic is fine).
fn unique<T: PartialEq, I: Iterator<Item = T>>(items: impl Fn() -> I) -> bool {
    items()
        .enumerate()
        .all(|(i, a)| items().skip(i.saturating_add(1)).all(|b| b != a))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::stack::Answer;
    use crate::stack::Dispatch;
    use crate::stack::Event;
    use crate::stack::RxMeta;
    use crate::wire::MacAddr;
    use crate::wire::Message;
    use crate::wire::MulticastAddr;
    use crate::wire::NdOption;
    use crate::wire::NeighborSolicit;
    use crate::wire::Options;
    use crate::wire::Preference;
    use crate::wire::PrefixInfo;
    use crate::wire::RouterAdvert;
    use crate::wire::UnicastAddr;
    use core::net::Ipv6Addr;
    use std::vec::Vec;

    use super::*;
    use crate::time::Timer;
    use crate::wire::Lifetime;

    const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x10]);

    /// The device's configuration: stable identifiers where the build has
    /// them, as a device would.
    fn config() -> Config {
        #[cfg(feature = "stable-iid")]
        return Config::stable(MAC, 7, [0; 16]);
        #[cfg(not(feature = "stable-iid"))]
        return Config::eui64(MAC, 7);
    }
    const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn emit(msg: &Message<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut b = std::vec![0u8; msg.buffer_len()];
        msg.emit(&src, &dst, &mut b).unwrap();
        b
    }

    fn rx(s: &mut Stack, now: Instant, msg: &Message<'_>, src: Ipv6Addr, dst: Ipv6Addr) {
        let meta = RxMeta {
            src,
            dst,
            hop_limit: 255,
            src_mac: None,
        };
        assert!(s.receive(now, &meta, &emit(msg, src, dst)));
    }

    fn drain(s: &mut Stack, now: Instant) -> usize {
        let mut buf = [0u8; 1500];
        let mut n = 0;
        while s.poll_transmit(now, &mut buf).is_some() {
            n += 1;
            assert!(n < 100);
        }
        n
    }

    fn ra(s: &mut Stack, now: Instant, prefix: &str) {
        ra_from(s, now, a("fe80::1"), prefix);
    }

    fn ra_from(s: &mut Stack, now: Instant, src: Ipv6Addr, prefix: &str) {
        let opts = [
            NdOption::SourceLinkAddr(ROUTER_MAC),
            NdOption::PrefixInfo(PrefixInfo {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: Lifetime::Finite(600),
                preferred_lifetime: Lifetime::Finite(300),
                prefix: a(prefix),
            }),
        ];
        ra_with(s, now, src, 1800, &opts);
    }

    /// An advertisement from `src` with this router lifetime and options.
    fn ra_with(s: &mut Stack, now: Instant, src: Ipv6Addr, lifetime: u16, opts: &[NdOption<'_>]) {
        let m = Message::RouterAdvert(RouterAdvert {
            cur_hop_limit: 64,
            managed: false,
            other_config: false,
            preference: Preference::Medium,
            router_lifetime: lifetime,
            reachable_time: 0,
            retrans_timer: 0,
            options: Options::from_list(opts),
        });
        rx(s, now, &m, src, a("ff02::1"));
    }

    /// A stack with a router, a SLAAC address, a neighbor being resolved
    /// with a packet queued for it, and timers everywhere.
    fn busy() -> (Stack, Instant) {
        let mut s = Stack::new(config(), Instant::ZERO);
        // Past the link-local address's DAD: done at 1 s when optimistic,
        // after RFC 4862 §5.4.2's random delay too without the
        // `optimistic-dad` feature.
        let mut now = Instant::ZERO;
        while s.addresses().any(|x| x.state != AddrState::Preferred) {
            drain(&mut s, now);
            now = s.poll_at().unwrap();
        }
        let at_least = Instant::from_millis(1500);
        if at_least.is_after(now) {
            now = at_least;
        }
        drain(&mut s, now);
        ra(&mut s, now, "2001:db8:1::");
        s.add_static_address(now, a("fd00::10"), 48).unwrap();
        s.join_group(now, a("ff02::fb")).unwrap();
        drain(&mut s, now);
        // From the link-local address, preferred by now: an optimistic
        // source would detour through the router (RFC 4429 §3.2).
        let src = s.addresses().next().unwrap().addr.get();
        let mut packet = [0u8; 48];
        Ipv6Header {
            src,
            dst: a("2001:db8:1::99"),
            next_header: 17,
            hop_limit: 64,
            payload_len: 8,
        }
        .emit(&mut packet)
        .unwrap();
        assert_eq!(s.send(now, &packet), Ok(Dispatch::Queued));
        now = now + Duration::from_millis(10);
        drain(&mut s, now);
        (s, now)
    }

    /// Neighbor traffic only reads the timed parts, so their deadlines
    /// stay remembered on the per-packet path; a message that may set a
    /// timer in one forgets that part's deadline, and `poll_at` then has
    /// the new timer.
    #[test]
    fn timed_parts_forget_their_deadline_only_when_changed() {
        let (mut s, mut now) = busy();
        let remembered = |s: &Stack| (s.local.remembered(), s.discovery.remembered());
        let _ = s.poll_at();
        let before = remembered(&s);
        assert!(before.0.is_some() && before.1.is_some());
        // A solicitation for our link-local address from a neighbor, and
        // the answer going out.
        let ours = s.addresses().next().unwrap().addr.get();
        let ns = Message::NeighborSolicit(NeighborSolicit {
            target: ours,
            options: Options::from_list(&[NdOption::SourceLinkAddr(ROUTER_MAC)]),
        });
        rx(&mut s, now, &ns, a("fe80::77"), ours);
        assert_eq!(drain(&mut s, now), 1);
        let _ = s.poll_at();
        assert_eq!(remembered(&s), before);
        // A DAD probe for our own tentative address changes `Local` (it
        // is a duplicate: RFC 4862 §5.4.3), not `Discovery`.
        assert_eq!(s.add_static_address(now, a("fd00::20"), 64), Ok(()));
        let _ = s.poll_at();
        let probe = Message::NeighborSolicit(NeighborSolicit {
            target: a("fd00::20"),
            options: Options::EMPTY,
        });
        let group = UnicastAddr::new(a("fd00::20")).unwrap().solicited_node();
        let kept = s.discovery.remembered();
        rx(&mut s, now, &probe, Ipv6Addr::UNSPECIFIED, group.get());
        assert_eq!(s.local.remembered(), None);
        assert_eq!(s.discovery.remembered(), kept);
        // An advertisement from a new router changes `Discovery`: its
        // router lifetime is a timer sooner than any before it, which
        // `poll_at` has at once.
        let _ = s.poll_at();
        now = now + Duration::from_millis(10);
        ra_with(&mut s, now, a("fe80::2"), 1, &[]);
        assert_eq!(s.discovery.remembered(), None);
        let expiry = now + Duration::from_secs(1);
        assert!(s.poll_at().is_some_and(|at| !at.is_after(expiry)));
        assert_eq!(s.check_invariants(false), Ok(()));
    }

    #[test]
    fn timers_left_alone_for_a_month_still_come_due() {
        // A disabled interface runs only its link-local address's DAD
        // (RFC 4862 §5.4.5); its other timers wait. A month on, past the
        // 2^31 ms a wrapping comparison spans, they must still read as due
        // (found by the stack_ops fuzz target when time became 32-bit).
        let mut s = Stack::new(config(), Instant::ZERO);
        // Past the link-local address's DAD, so that solicitations may go.
        let mut now = Instant::ZERO;
        while s.addresses().any(|x| x.state != AddrState::Preferred) {
            drain(&mut s, now);
            now = s.poll_at().unwrap();
        }
        let neighbor = a("fe80::99");
        assert!(s.route(now, neighbor).is_ok());
        drain(&mut s, now);
        let probes = |s: &Stack| s.neighbors.lookup(&neighbor).map(|e| e.probes());
        assert_eq!(probes(&s), Some(1), "the first solicitation went out");
        s.disabled = true;
        for _ in 0..30 * 24 {
            now = now + Duration::from_secs(3600);
            drain(&mut s, now);
        }
        s.disabled = false;
        drain(&mut s, now);
        assert_eq!(probes(&s), Some(2), "the retransmission went out at once");
        assert_eq!(s.check_invariants(true), Ok(()));
    }

    #[test]
    fn a_working_stack_passes_at_every_step() {
        let mut s = Stack::new(config(), Instant::ZERO);
        assert_eq!(s.check_invariants(false), Ok(()));
        let mut now = Instant::ZERO;
        for step in 0..400u64 {
            if step == 3 {
                ra(&mut s, now, "2001:db8:1::");
                assert_eq!(s.check_invariants(false), Ok(()));
            }
            if step == 5 {
                ra(&mut s, now, "fd00:1234::");
                let _ = s.route(now, a("2001:db8:1::99"));
                assert_eq!(s.check_invariants(false), Ok(()));
            }
            drain(&mut s, now);
            assert_eq!(s.check_invariants(true), Ok(()), "at {now}");
            // Wake exactly when asked: every timer runs, through the
            // lifetimes' end.
            now = s.poll_at().unwrap_or(now + Duration::from_secs(60));
        }
        assert!(
            now.is_after(Instant::from_secs(600)),
            "the lifetimes ran out"
        );
        assert_eq!(s.addresses().count(), 1);
    }

    #[test]
    fn a_disabled_stack_passes_until_enabled_again() {
        // Another node probes our MAC-based link-local address: IPv6 goes
        // off (RFC 4862 §5.4.5) and DAD retries until it passes.
        let mut c = config();
        c.iid_mode = crate::addr::iid::IidMode::Eui64;
        let mut s = Stack::new(c, Instant::ZERO);
        let mut now = Instant::ZERO;
        drain(&mut s, now);
        let ll = s.addresses().next().unwrap().addr;
        let nonce = [1, 2, 3, 4, 5, 6];
        let opts = [NdOption::Nonce(&nonce)];
        let probe = Message::NeighborSolicit(NeighborSolicit {
            target: ll.get(),
            options: Options::from_list(&opts),
        });
        let group = ll.solicited_node().get();
        rx(&mut s, now, &probe, Ipv6Addr::UNSPECIFIED, group);
        assert!(s.is_disabled());
        for _ in 0..50 {
            assert_eq!(s.check_invariants(false), Ok(()), "at {now}");
            drain(&mut s, now);
            assert_eq!(s.check_invariants(true), Ok(()), "at {now}");
            if !s.is_disabled() {
                return;
            }
            now = s.poll_at().expect("a disabled stack keeps probing");
        }
        panic!("still disabled at {now}");
    }

    #[test]
    fn before_draining_due_work_is_not_a_violation() {
        let (mut s, now) = busy();
        assert_eq!(s.check_invariants(true), Ok(()));
        // The resolution timer is due a second later: past it, that is
        // fine until drained.
        let later = now + Duration::from_millis(1500);
        s.advance(later);
        assert_eq!(s.check_invariants(false), Ok(()));
        assert_eq!(
            s.check_invariants(true),
            Err("a neighbor timer is due after draining")
        );
        // With an answer ready too, `poll_at` says "now", which serves the
        // overdue timer as well.
        let target = s.addresses().next().unwrap().addr.get();
        let _ = s.answers.push(Answer {
            dst: a("fe80::1"),
            dst_mac: ROUTER_MAC,
            target,
            solicited: true,
            override_flag: false,
            tlla: false,
            #[cfg(feature = "proxy")]
            proxied: false,
        });
        assert_eq!(s.poll_at(), Some(later));
        assert_eq!(s.check_invariants(false), Ok(()));
        drain(&mut s, later);
        assert_eq!(s.check_invariants(true), Ok(()));
    }

    #[test]
    fn checking_changes_nothing() {
        let (s, _) = busy();
        s.local.set_remembered(None);
        s.discovery.set_remembered(None);
        assert_eq!(s.check_invariants(true), Ok(()));
        assert_eq!(s.local.remembered(), None);
        assert_eq!(s.discovery.remembered(), None);
    }

    #[test]
    fn each_broken_invariant_is_reported() {
        type Corrupt = fn(&mut Stack);
        #[cfg_attr(not(feature = "gratuitous-na"), allow(unused_mut))]
        let mut cases: std::vec::Vec<(&str, Corrupt)> = std::vec![
            ("an address is held twice", |s| {
                let first = s.local.addrs.slot(0).unwrap().address().addr;
                s.local.addrs.slot_mut(1).unwrap().raw_mut().addr = first;
            }),
            ("not exactly one link-local address", |s| {
                s.local.addrs.slot_mut(1).unwrap().raw_mut().origin = Origin::LinkLocal;
            }),
            ("an address's DAD timer does not fit its state", |s| {
                let slot = s.local.addrs.slot_mut(1).unwrap();
                slot.raw_mut().state = if slot.dad_running() {
                    AddrState::Preferred
                } else {
                    AddrState::Tentative
                };
            }),
            (
                "a link-local or SLAAC address's prefix length is not 64",
                |s| s.local.addrs.slot_mut(0).unwrap().raw_mut().prefix_len = 48,
            ),
            ("a static address's prefix length is over 128", |s| {
                let i = s.local.addrs.find(&a("fd00::10")).unwrap().0;
                s.local.addrs.slot_mut(i).unwrap().raw_mut().prefix_len = 129;
            }),
            ("a static address the application did not set", |s| {
                s.app.statics.clear();
            }),
            ("an application group is not listened to", |s| {
                let g = MulticastAddr::new(a("ff02::99")).unwrap();
                s.app.groups.push(g).unwrap();
            }),
            ("an address's solicited-node group is not joined", |s| {
                s.local.mld.set_groups(&[], s.clock.now, s.clock.now);
            }),
            (
                "a neighbor entry's timer or probe count does not fit its state",
                |s| {
                    // STALE has no timer; every other state has one.
                    let i = s.neighbors.find(&a("fe80::1")).unwrap();
                    let mut e = s.neighbors.get_mut(i).unwrap();
                    let stale = e.state() == NeighborState::Stale;
                    *e.raw_mut().1 = if stale {
                        Timer::at(s.clock.now)
                    } else {
                        Timer::OFF
                    };
                },
            ),
            (
                "a neighbor entry is not found at its slot by its address",
                |s| {
                    let i = s.neighbors.find(&a("fe80::1")).unwrap();
                    *s.neighbors.get_mut(i).unwrap().raw_mut().0 = a("2001:db8:1::99");
                },
            ),
            (
                "the neighbor cache's timer bound is later than an entry's deadline",
                |s| {
                    // Only possible by skipping the guard that keeps it.
                    s.neighbors.refresh_earliest();
                    let i = s.neighbors.find(&a("2001:db8:1::99")).unwrap();
                    let mut e = s.neighbors.get_mut(i).unwrap();
                    *e.raw_mut().1 = Timer::at(s.clock.now);
                    core::mem::forget(e);
                },
            ),
            (
                "more packets queued for one neighbor than queue_per_neighbor",
                |s| {
                    s.config.queue_per_neighbor = 1;
                    let i = s.neighbors.find(&a("2001:db8:1::99")).unwrap();
                    let p: Vec<u8> = s.queue.packet(0).to_vec();
                    s.queue.push(u16::try_from(i).unwrap(), &p, 5).unwrap();
                },
            ),
            (
                "a queued packet waits for a neighbor entry that does not exist",
                |s| {
                    let i = s.neighbors.find(&a("2001:db8:1::99")).unwrap();
                    s.neighbors.remove(i);
                },
            ),
            ("a router is held twice", |s| {
                let now = s.clock.now;
                ra_from(s, now, a("fe80::2"), "2001:db8:1::");
                s.discovery.routers.get_mut(&a("fe80::2")).unwrap().addr = a("fe80::1");
            }),
            ("the hop limit is zero", |s| s.discovery.hop_limit = 0),
            (
                "ReachableTime is outside [0.5, 1.5] x BaseReachableTime",
                |s| s.reachable.current = Duration::from_secs(3600),
            ),
            ("a disabled interface has answers to send", |s| {
                s.disabled = true;
                let _ = s.answers.push(Answer {
                    dst: a("fe80::1"),
                    dst_mac: ROUTER_MAC,
                    target: a("fe80::1"),
                    solicited: true,
                    override_flag: false,
                    tlla: false,
                    #[cfg(feature = "proxy")]
                    proxied: false,
                });
            }),
            (
                "a disabled interface holds more than its link-local address",
                |s| s.disabled = true,
            ),
            (
                "a timed part's remembered deadline is later than its earliest timer",
                |s| s.local.set_remembered(Some(None)),
            ),
            (
                "a timed part's remembered deadline is later than its earliest timer",
                |s| s.discovery.set_remembered(Some(None)),
            ),
        ];
        // Only a build that announces can hold announcements.
        #[cfg(feature = "gratuitous-na")]
        cases.push((
            "a tentative or duplicate address has advertisements to send",
            |s| {
                let now = s.clock.now;
                let slot = s.local.addrs.slot_mut(1).unwrap();
                slot.start_dad(now + Duration::from_secs(1), 1);
                slot.raw_mut().state = AddrState::Tentative;
                slot.announce(1, now);
            },
        ));
        for (want, corrupt) in cases {
            let (mut s, _) = busy();
            assert_eq!(s.check_invariants(true), Ok(()), "before: {want}");
            corrupt(&mut s);
            assert_eq!(s.check_invariants(false), Err(want));
        }
    }

    #[test]
    fn poll_at_later_than_a_timer_is_reported() {
        // Whatever makes it so (here a neighbor bound that skipped its
        // guard, which `check_neighbors` reports first), the end-to-end
        // check sees it too.
        let (mut s, _) = busy();
        s.neighbors.refresh_earliest();
        let i = s.neighbors.find(&a("2001:db8:1::99")).unwrap();
        let mut e = s.neighbors.get_mut(i).unwrap();
        *e.raw_mut().1 = Timer::at(s.clock.now);
        core::mem::forget(e);
        assert_eq!(
            s.check_deadlines(),
            Err("poll_at is later than a pending timer")
        );
    }

    /// RFC 8106 options are used with the `dns` feature and ignored
    /// without it: either way the rest of the advertisement is applied
    /// and nothing counts as malformed.
    #[test]
    fn dns_options_follow_the_dns_feature() {
        use crate::wire::{AddrList, Dnssl, DomainList, DomainName, Rdnss};
        let mut s = Stack::new(config(), Instant::ZERO);
        let now = Instant::from_millis(1500);
        drain(&mut s, now);
        while s.poll_event().is_some() {}
        let servers = [a("2001:db8::53")];
        let names = [DomainName::new("example.com").unwrap()];
        let opts = [
            NdOption::SourceLinkAddr(ROUTER_MAC),
            NdOption::Rdnss(Rdnss {
                lifetime: Lifetime::Finite(600),
                servers: AddrList::new(&servers),
            }),
            NdOption::Dnssl(Dnssl {
                lifetime: Lifetime::Finite(600),
                domains: DomainList::new(&names),
            }),
        ];
        ra_with(&mut s, now, a("fe80::1"), 1800, &opts);
        assert_eq!(s.routers().count(), 1);
        assert_eq!(s.stats().ra_option_malformed, 0);
        let events: Vec<Event> = core::iter::from_fn(|| s.poll_event()).collect();
        #[cfg(feature = "dns")]
        {
            assert!(events.contains(&Event::Dns), "{events:?}");
            assert!(s.dns_servers().eq(servers));
            assert!(
                s.search_domains()
                    .map(|d| d.as_str() == "example.com")
                    .eq([true])
            );
        }
        #[cfg(not(feature = "dns"))]
        assert!(!events.contains(&Event::Dns), "{events:?}");
    }

    /// RFC 4191 Route Information options steer traffic with the
    /// `route-info` feature (a type C host) and are ignored without it (a
    /// type A host): the destination then goes to the default router.
    #[test]
    fn route_information_follows_the_route_info_feature() {
        use crate::wire::RouteInfo;
        let mut s = Stack::new(config(), Instant::ZERO);
        let now = Instant::from_millis(1500);
        drain(&mut s, now);
        ra_from(&mut s, now, a("fe80::1"), "2001:db8:1::");
        let opts = [
            NdOption::SourceLinkAddr(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x02])),
            NdOption::RouteInfo(RouteInfo {
                prefix_len: 48,
                preference: Preference::High,
                lifetime: Lifetime::Finite(600),
                prefix: a("2001:db8:99::"),
            }),
        ];
        // Not a default router: only the route.
        ra_with(&mut s, now, a("fe80::2"), 0, &opts);
        assert_eq!(s.stats().ra_option_malformed, 0);
        let hop = s.next_hop(now, a("2001:db8:99::1"));
        #[cfg(feature = "route-info")]
        {
            assert_eq!(hop, Some(a("fe80::2")));
            assert_eq!(s.routes().count(), 1);
        }
        #[cfg(not(feature = "route-info"))]
        assert_eq!(hop, Some(a("fe80::1")));
        // Elsewhere: the default router either way.
        assert_eq!(s.next_hop(now, a("2001:db8:5::1")), Some(a("fe80::1")));
    }

    /// A valid Redirect from the first-hop router moves the destination
    /// to the better router with the `redirect` feature; without it the
    /// Redirect is counted as ignored and nothing changes.
    #[test]
    fn redirects_follow_the_redirect_feature() {
        use crate::wire::Redirect;
        let mut s = Stack::new(config(), Instant::ZERO);
        let mut now = Instant::from_millis(1500);
        drain(&mut s, now);
        ra_from(&mut s, now, a("fe80::1"), "2001:db8:1::");
        // Our link-local address, preferred once its DAD is over.
        now = now + Duration::from_secs(5);
        drain(&mut s, now);
        let ours = s
            .addresses()
            .find(|x| x.addr.get().segments()[0] == 0xfe80)
            .unwrap()
            .addr
            .get();
        let dst = a("2001:db8:5::7");
        assert_eq!(s.next_hop(now, dst), Some(a("fe80::1")));
        let tlla = [NdOption::TargetLinkAddr(MacAddr([
            0x02, 0, 0x5e, 0, 0x53, 0x02,
        ]))];
        let m = Message::Redirect(Redirect {
            target: a("fe80::2"),
            destination: dst,
            options: Options::from_list(&tlla),
        });
        rx(&mut s, now, &m, a("fe80::1"), ours);
        let hop = s.next_hop(now, dst);
        #[cfg(feature = "redirect")]
        {
            assert_eq!(hop, Some(a("fe80::2")));
            assert_eq!(s.stats().rx_redirect, 1);
        }
        #[cfg(not(feature = "redirect"))]
        {
            assert_eq!(hop, Some(a("fe80::1")));
            assert_eq!(s.stats().rx_redirect_ignored, 1);
        }
    }
}
