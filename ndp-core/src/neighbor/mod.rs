//! Neighbor cache and Neighbor Unreachability Detection (RFC 4861 §7.2,
//! §7.3, Appendix C).
//!
//! Problems solved here:
//! - map on-link IPv6 addresses to Ethernet addresses, resolving unknown
//!   ones with multicast solicitations (INCOMPLETE);
//! - notice when a neighbor we send to stops answering (REACHABLE → STALE
//!   → DELAY → PROBE → removed) without probing neighbors we do not use;
//! - apply the cache effects of every received NS, NA and RA exactly as
//!   RFC 4861 §7.2.3, §7.2.5 and §6.3.4 specify;
//! - keep a fixed number of entries under attack (RFC 6583 §6): a full
//!   table gives up only STALE entries nobody is sending to, never a
//!   router or a REACHABLE entry, and INCOMPLETE entries are capped.
//!
//! Each [`Entry`] transition is a plain method, so the RFC tables can be
//! tested one row at a time without a network.
//!
//! Where Appendix C's summary and the normative text of §7.2.5 differ,
//! the text is followed (as Linux does): an NA with S=1 and no target
//! link-layer address makes a known entry REACHABLE, and an NA without
//! one for an INCOMPLETE entry is discarded, IsRouter untouched.

pub(crate) mod queue;

use core::net::Ipv6Addr;

use crate::time::{Duration, Instant};
use crate::wire::MacAddr;

/// Multicast solicitations sent before resolution fails (RFC 4861 §10).
pub const MAX_MULTICAST_SOLICIT: u8 = 3;
/// Unicast probes sent before a neighbor is declared unreachable
/// (RFC 4861 §10).
pub const MAX_UNICAST_SOLICIT: u8 = 3;
/// Default BaseReachableTime (RFC 4861 §10).
pub const REACHABLE_TIME: Duration = Duration::from_secs(30);
/// Default RetransTimer (RFC 4861 §10).
pub const RETRANS_TIMER: Duration = Duration::from_secs(1);
/// Wait in DELAY before the first probe (RFC 4861 §10).
pub const DELAY_FIRST_PROBE_TIME: Duration = Duration::from_secs(5);
/// ReachableTime is drawn from `[MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR] ×
/// BaseReachableTime` (RFC 4861 §6.3.2), here in percent.
pub const MIN_RANDOM_FACTOR_PERCENT: u64 = 50;
/// See [`MIN_RANDOM_FACTOR_PERCENT`].
pub const MAX_RANDOM_FACTOR_PERCENT: u64 = 150;
/// ReachableTime is redrawn at least this often, even when the base does
/// not change (RFC 4861 §6.3.4: "at least once every few hours").
pub const REACHABLE_TIME_REDRAW: Duration = Duration::from_secs(2 * 3600);

/// Reachability state of a neighbor (RFC 4861 §7.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NeighborState {
    /// Address resolution in progress: no link-layer address yet.
    Incomplete,
    /// Known to be reachable within the last ReachableTime.
    Reachable,
    /// Not known to be reachable; nothing is done until a packet is sent.
    Stale,
    /// A packet was sent while STALE; waiting for upper-layer confirmation
    /// before probing.
    Delay,
    /// Sending unicast solicitations to confirm reachability.
    Probe,
}

impl NeighborState {
    /// Lower-case name, as in `ip -6 neigh`.
    pub const fn name(self) -> &'static str {
        match self {
            NeighborState::Incomplete => "incomplete",
            NeighborState::Reachable => "reachable",
            NeighborState::Stale => "stale",
            NeighborState::Delay => "delay",
            NeighborState::Probe => "probe",
        }
    }
}

/// A read-only view of one neighbor cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Neighbor {
    /// The neighbor's IPv6 address.
    pub addr: Ipv6Addr,
    /// Its link-layer address; `None` while INCOMPLETE.
    pub mac: Option<MacAddr>,
    /// Reachability state.
    pub state: NeighborState,
    /// IsRouter flag (RFC 4861 §5.1).
    pub is_router: bool,
    /// When the entry's timer fires; `None` in STALE, which has no timer.
    pub deadline: Option<Instant>,
    /// Solicitations sent in the current INCOMPLETE or PROBE phase.
    pub probes: u8,
}

/// One cache entry and its NUD transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub addr: Ipv6Addr,
    /// Meaningless while INCOMPLETE.
    pub mac: MacAddr,
    pub state: NeighborState,
    pub is_router: bool,
    /// We sent traffic to it (or created it for our own traffic); unused
    /// entries are the first given up when the table is full.
    pub used: bool,
    pub probes: u8,
    /// Timer of the current state; `Instant::MAX` when there is none.
    pub deadline: Instant,
    /// Creation or last use, for choosing an eviction victim.
    pub touched: Instant,
}

/// What an advertisement did to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NaEffect {
    /// The entry was INCOMPLETE and now has a link-layer address: its
    /// queued packets can go (RFC 4861 §7.2.5).
    pub resolved: bool,
    /// IsRouter went from true to false: the neighbor must leave the
    /// default router list (RFC 4861 §7.2.5).
    pub router_cleared: bool,
    /// INCOMPLETE entry and no target link-layer address: discarded.
    pub discarded: bool,
}

/// Work an entry's timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Nothing (not due, or a silent transition such as REACHABLE → STALE).
    Nothing,
    /// Send a multicast solicitation (INCOMPLETE).
    MulticastNs,
    /// Send a unicast probe (PROBE).
    UnicastNs,
    /// Resolution failed after MAX_MULTICAST_SOLICIT solicitations.
    ResolutionFailed,
    /// No answer to MAX_UNICAST_SOLICIT probes.
    Unreachable,
}

impl Entry {
    /// A new entry for resolving `addr` (Appendix C: "Packet to send").
    /// Its timer is due at once so the first solicitation goes out on the
    /// next poll.
    pub fn incomplete(addr: Ipv6Addr, now: Instant) -> Self {
        Entry {
            addr,
            mac: MacAddr::default(),
            state: NeighborState::Incomplete,
            is_router: false,
            used: true,
            probes: 0,
            deadline: now,
            touched: now,
        }
    }

    /// A new entry learnt from a message carrying a link-layer address:
    /// STALE (RFC 4861 §7.2.3, §6.3.4, §8.3).
    pub fn stale(addr: Ipv6Addr, mac: MacAddr, is_router: bool, now: Instant) -> Self {
        Entry {
            addr,
            mac,
            state: NeighborState::Stale,
            is_router,
            used: false,
            probes: 0,
            deadline: Instant::MAX,
            touched: now,
        }
    }

    pub fn view(&self) -> Neighbor {
        Neighbor {
            addr: self.addr,
            mac: (self.state != NeighborState::Incomplete).then_some(self.mac),
            state: self.state,
            is_router: self.is_router,
            deadline: (self.deadline != Instant::MAX).then_some(self.deadline),
            probes: self.probes,
        }
    }

    fn set(&mut self, state: NeighborState, deadline: Instant) {
        self.state = state;
        self.deadline = deadline;
        self.probes = 0;
    }

    fn make_reachable(&mut self, now: Instant, reachable: Duration) {
        self.set(NeighborState::Reachable, now + reachable);
    }

    fn make_stale(&mut self) {
        self.set(NeighborState::Stale, Instant::MAX);
    }

    /// A Neighbor Advertisement for this entry's address (RFC 4861 §7.2.5).
    pub fn on_na(
        &mut self,
        solicited: bool,
        override_flag: bool,
        router: bool,
        tlla: Option<MacAddr>,
        now: Instant,
        reachable: Duration,
    ) -> NaEffect {
        let mut effect = NaEffect::default();
        if self.state == NeighborState::Incomplete {
            // RFC 4861 §7.2.5: without a target link-layer address the
            // advertisement is silently discarded.
            let Some(mac) = tlla else {
                effect.discarded = true;
                return effect;
            };
            // Record the address; S=1 makes it REACHABLE, S=0 STALE; send
            // the queued packets; IsRouter from the R flag.
            self.mac = mac;
            if solicited {
                self.make_reachable(now, reachable);
            } else {
                self.make_stale();
            }
            effect.router_cleared = self.is_router && !router;
            self.is_router = router;
            effect.resolved = true;
            return effect;
        }
        let different = tlla.is_some_and(|m| m != self.mac);
        if !override_flag && different {
            // RFC 4861 §7.2.5 (a)/(b): a REACHABLE entry becomes STALE and
            // is not otherwise updated; any other state ignores the NA.
            if self.state == NeighborState::Reachable {
                self.make_stale();
            }
            return effect;
        }
        // O=1, or same address, or no TLLA: the advertisement updates the
        // entry (RFC 4861 §7.2.5).
        if let Some(mac) = tlla {
            self.mac = mac;
        }
        if solicited {
            self.make_reachable(now, reachable);
        } else if different {
            self.make_stale();
        }
        effect.router_cleared = self.is_router && !router;
        self.is_router = router;
        effect
    }

    /// A message other than an NA that carries this neighbor's link-layer
    /// address: NS (§7.2.3), RA (§6.3.4) or Redirect (§8.3), not DAD.
    /// Returns true when the entry was INCOMPLETE and is now resolved.
    pub fn on_link_addr(&mut self, mac: MacAddr) -> bool {
        if self.state == NeighborState::Incomplete {
            self.mac = mac;
            self.make_stale();
            return true;
        }
        // A different address replaces the cached one and the entry
        // becomes STALE; the same address changes nothing.
        if mac != self.mac {
            self.mac = mac;
            self.make_stale();
        }
        false
    }

    /// A packet is sent to this neighbor (RFC 4861 §7.3.3): STALE becomes
    /// DELAY.
    pub fn on_send(&mut self, now: Instant) {
        self.used = true;
        self.touched = now;
        if self.state == NeighborState::Stale {
            self.set(NeighborState::Delay, now + DELAY_FIRST_PROBE_TIME);
        }
    }

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1): any state
    /// but INCOMPLETE becomes REACHABLE.
    pub fn on_confirm(&mut self, now: Instant, reachable: Duration) {
        if self.state != NeighborState::Incomplete {
            self.make_reachable(now, reachable);
        }
    }

    /// Run the timer if it is due (never before its deadline) and say what
    /// must be done. Silent transitions happen here; solicitations are
    /// recorded by [`Entry::solicited`] once actually sent.
    pub fn expire(&mut self, now: Instant) -> Due {
        if self.deadline > now {
            return Due::Nothing;
        }
        match self.state {
            // RFC 4861 §7.3.3: ReachableTime passed without confirmation.
            NeighborState::Reachable => {
                self.make_stale();
                Due::Nothing
            }
            NeighborState::Stale => {
                self.deadline = Instant::MAX;
                Due::Nothing
            }
            // RFC 4861 §7.2.2: retransmit every RetransTimer until
            // MAX_MULTICAST_SOLICIT solicitations went unanswered.
            NeighborState::Incomplete if self.probes >= MAX_MULTICAST_SOLICIT => {
                Due::ResolutionFailed
            }
            NeighborState::Incomplete => Due::MulticastNs,
            // RFC 4861 §7.3.3: DELAY_FIRST_PROBE_TIME passed, start probing.
            NeighborState::Delay => {
                self.set(NeighborState::Probe, now);
                Due::UnicastNs
            }
            NeighborState::Probe if self.probes >= MAX_UNICAST_SOLICIT => Due::Unreachable,
            NeighborState::Probe => Due::UnicastNs,
        }
    }

    /// A solicitation for this entry went out: count it and wait
    /// RetransTimer for the next step.
    pub fn solicited(&mut self, now: Instant, retrans: Duration) {
        self.probes = self.probes.saturating_add(1);
        self.deadline = now + retrans;
    }
}

/// Why an entry may be created, which decides what it may displace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// We want to send to it: may displace STALE non-router entries.
    Resolve,
    /// A router told us its address (RA): same as `Resolve`.
    Router,
    /// Someone else's message (NS, Redirect) told us its address: may only
    /// displace STALE entries we never sent to.
    Unsolicited,
}

/// A fixed-size table of entries. Slots keep their index for the life of
/// an entry, so the packet queue can refer to entries by index.
#[derive(Debug, Clone)]
pub(crate) struct NeighborCache<const N: usize> {
    entries: [Option<Entry>; N],
}

impl<const N: usize> NeighborCache<N> {
    pub fn new() -> Self {
        NeighborCache { entries: [None; N] }
    }

    pub fn find(&self, addr: &Ipv6Addr) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.addr == *addr))
    }

    pub fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        self.entries.get_mut(i).and_then(Option::as_mut)
    }

    pub fn remove(&mut self, i: usize) -> Option<Entry> {
        self.entries.get_mut(i).and_then(Option::take)
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e)))
    }

    pub fn incomplete(&self) -> usize {
        self.iter()
            .filter(|(_, e)| e.state == NeighborState::Incomplete)
            .count()
    }

    /// Earliest timer of any entry.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.iter()
            .map(|(_, e)| e.deadline)
            .filter(|d| *d != Instant::MAX)
            .min()
    }

    /// Place `entry` (whose address must not be in the table) in a free
    /// slot, or in place of an entry that `admit` may displace (RFC 6583
    /// §6). `keep(i, entry)` names entries that must stay whatever their
    /// state: those with queued packets, and routers in the default router
    /// list. Returns the slot and whether an entry was evicted, or `None`
    /// when nothing could be given up.
    pub fn insert(
        &mut self,
        entry: Entry,
        admit: Admit,
        keep: impl Fn(usize, &Entry) -> bool,
    ) -> Option<(usize, bool)> {
        if let Some(i) = self.entries.iter().position(Option::is_none) {
            let slot = self.entries.get_mut(i)?;
            *slot = Some(entry);
            return Some((i, false));
        }
        // Only STALE entries can go: never REACHABLE, DELAY or PROBE (in
        // use), never INCOMPLETE (being resolved for us), never what
        // `keep` protects. Unused ones go first, oldest first; entries
        // learnt from others' messages may only displace unused ones.
        let victim = self
            .iter()
            .filter(|(i, e)| {
                e.state == NeighborState::Stale
                    && !keep(*i, e)
                    && (admit != Admit::Unsolicited || !e.used)
            })
            .min_by_key(|(_, e)| (e.used, e.touched))
            .map(|(i, _)| i)?;
        let slot = self.entries.get_mut(victim)?;
        *slot = Some(entry);
        Some((victim, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(100);
    const RT: Duration = Duration::from_secs(30);
    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb]);

    fn addr() -> Ipv6Addr {
        "fe80::1".parse().unwrap()
    }

    fn entry(state: NeighborState) -> Entry {
        let mut e = Entry::stale(addr(), A, false, Instant::ZERO);
        e.state = state;
        e.deadline = match state {
            NeighborState::Stale => Instant::MAX,
            _ => T0 + Duration::from_secs(1),
        };
        if state == NeighborState::Incomplete {
            e.mac = MacAddr::default();
        }
        e
    }

    #[test]
    fn entry_size_matches_the_documented_ram_cost() {
        // Stack's rustdoc promises 48 bytes per neighbor slot: 16 (address)
        // + 6 (MAC) + 4 (state, flags, probes) + 2 padding + 2 × 8 (timers);
        // the state's spare values hold Option's tag. u64 is 8-aligned on
        // both x86_64 and the ARM EABI, so the host figure is the MCU one.
        assert_eq!(core::mem::size_of::<Option<Entry>>(), 48);
    }

    #[test]
    fn timers_never_fire_early() {
        for s in [
            NeighborState::Incomplete,
            NeighborState::Reachable,
            NeighborState::Delay,
            NeighborState::Probe,
        ] {
            let mut e = entry(s);
            let before = e;
            assert_eq!(
                e.expire(e.deadline - Duration::from_millis(1)),
                Due::Nothing
            );
            assert_eq!(e, before, "{s:?} changed before its deadline");
        }
    }

    #[test]
    fn incomplete_sends_max_multicast_solicit_then_fails() {
        // Appendix C: retransmit while fewer than N, then discard.
        let mut e = Entry::incomplete(addr(), T0);
        let mut t = T0;
        for n in 1..=MAX_MULTICAST_SOLICIT {
            assert_eq!(e.expire(t), Due::MulticastNs);
            e.solicited(t, RETRANS_TIMER);
            assert_eq!(e.probes, n);
            assert_eq!(e.deadline, t + RETRANS_TIMER);
            t = e.deadline;
        }
        assert_eq!(e.expire(t), Due::ResolutionFailed);
        assert_eq!(t, T0 + RETRANS_TIMER.saturating_mul(3));
    }

    #[test]
    fn silent_neighbor_walks_reachable_stale_delay_probe_gone() {
        let mut e = entry(NeighborState::Reachable);
        e.make_reachable(T0, RT);
        // REACHABLE -> STALE after ReachableTime (RFC 4861 §7.3.3).
        assert_eq!(e.expire(T0 + RT), Due::Nothing);
        assert_eq!(e.state, NeighborState::Stale);
        assert_eq!(e.deadline, Instant::MAX);
        // STALE -> DELAY on sending (§7.3.3).
        let t = T0 + Duration::from_secs(40);
        e.on_send(t);
        assert_eq!(
            (e.state, e.deadline),
            (NeighborState::Delay, t + DELAY_FIRST_PROBE_TIME)
        );
        // DELAY -> PROBE after DELAY_FIRST_PROBE_TIME, first unicast probe.
        let mut t = e.deadline;
        assert_eq!(e.expire(t), Due::UnicastNs);
        assert_eq!(e.state, NeighborState::Probe);
        for n in 1..=MAX_UNICAST_SOLICIT {
            if n > 1 {
                assert_eq!(e.expire(t), Due::UnicastNs);
            }
            e.solicited(t, RETRANS_TIMER);
            assert_eq!(e.probes, n);
            t = e.deadline;
        }
        assert_eq!(e.expire(t), Due::Unreachable);
    }

    #[test]
    fn upper_layer_confirmation() {
        // Appendix C: !INCOMPLETE + confirmation -> REACHABLE.
        for s in [
            NeighborState::Stale,
            NeighborState::Delay,
            NeighborState::Probe,
            NeighborState::Reachable,
        ] {
            let mut e = entry(s);
            e.on_confirm(T0, RT);
            assert_eq!(
                (e.state, e.deadline, e.probes),
                (NeighborState::Reachable, T0 + RT, 0)
            );
        }
        let mut e = entry(NeighborState::Incomplete);
        e.on_confirm(T0, RT);
        assert_eq!(e.state, NeighborState::Incomplete);
    }

    #[test]
    fn sending_only_moves_stale() {
        for s in [
            NeighborState::Reachable,
            NeighborState::Delay,
            NeighborState::Probe,
            NeighborState::Incomplete,
        ] {
            let mut e = entry(s);
            let deadline = e.deadline;
            e.on_send(T0);
            assert_eq!((e.state, e.deadline), (s, deadline));
            assert!(e.used);
        }
    }

    /// One row of the NA table: in-state, S, O, TLLA (None / Same / Diff),
    /// expected state, expected MAC.
    #[derive(Debug, Clone, Copy)]
    enum L {
        None,
        Same,
        Diff,
    }

    #[test]
    fn neighbor_advertisement_matrix() {
        use NeighborState::*;
        // Expected results from RFC 4861 §7.2.5 (text) and Appendix C.
        // Cached address is A; "Diff" advertises B.
        #[rustfmt::skip]
        let rows: &[(NeighborState, bool, bool, L, NeighborState, MacAddr)] = &[
            // INCOMPLETE: TLLA recorded, S picks REACHABLE or STALE; no TLLA -> discarded.
            (Incomplete, true,  false, L::Diff, Reachable,  B),
            (Incomplete, true,  true,  L::Diff, Reachable,  B),
            (Incomplete, false, false, L::Diff, Stale,      B),
            (Incomplete, false, true,  L::Diff, Stale,      B),
            (Incomplete, true,  true,  L::None, Incomplete, MacAddr([0; 6])),
            (Incomplete, false, false, L::None, Incomplete, MacAddr([0; 6])),
        ];
        let mut rows = rows.to_vec();
        for s in [Reachable, Stale, Delay, Probe] {
            #[rustfmt::skip]
            rows.extend_from_slice(&[
                // S=1, O=0: same or none -> REACHABLE; different -> REACHABLE
                // becomes STALE, others unchanged, address kept.
                (s, true,  false, L::Same, Reachable, A),
                (s, true,  false, L::None, Reachable, A),
                (s, true,  false, L::Diff, if s == Reachable { Stale } else { s }, A),
                // S=1, O=1: record (if different), REACHABLE.
                (s, true,  true,  L::Same, Reachable, A),
                (s, true,  true,  L::None, Reachable, A),
                (s, true,  true,  L::Diff, Reachable, B),
                // S=0, O=0: different -> REACHABLE becomes STALE (text
                // §7.2.5 a), others unchanged; same/none unchanged.
                (s, false, false, L::Same, s, A),
                (s, false, false, L::None, s, A),
                (s, false, false, L::Diff, if s == Reachable { Stale } else { s }, A),
                // S=0, O=1: different -> record, STALE; same/none unchanged.
                (s, false, true,  L::Same, s, A),
                (s, false, true,  L::None, s, A),
                (s, false, true,  L::Diff, Stale, B),
            ]);
        }
        for (i, &(from, s, o, l, to, mac)) in rows.iter().enumerate() {
            for router in [false, true] {
                for was_router in [false, true] {
                    let mut e = entry(from);
                    e.is_router = was_router;
                    let tlla = match l {
                        L::None => None,
                        L::Same => Some(A),
                        L::Diff => Some(B),
                    };
                    let effect = e.on_na(s, o, router, tlla, T0, RT);
                    let ctx = std::format!(
                        "row {i}: {from:?} S={s} O={o} {l:?} R={router} was_router={was_router}"
                    );
                    assert_eq!(e.state, to, "{ctx}");
                    if to != Incomplete {
                        assert_eq!(e.mac, mac, "{ctx}");
                    }
                    // Timers consistent with the new state.
                    match to {
                        Reachable if from != Reachable || s => {
                            assert_eq!(e.deadline, T0 + RT, "{ctx}")
                        }
                        Stale => assert_eq!(e.deadline, Instant::MAX, "{ctx}"),
                        _ => {}
                    }
                    // IsRouter follows R whenever the NA is accepted; an
                    // ignored or discarded NA leaves it alone.
                    let ignored = matches!(l, L::Diff) && !o && from != Incomplete
                        || matches!(l, L::None) && from == Incomplete;
                    let expect_router = if ignored { was_router } else { router };
                    assert_eq!(e.is_router, expect_router, "{ctx}");
                    assert_eq!(
                        effect.router_cleared,
                        !ignored && was_router && !router,
                        "{ctx}"
                    );
                    assert_eq!(
                        effect.resolved,
                        from == Incomplete && !matches!(l, L::None),
                        "{ctx}"
                    );
                    assert_eq!(
                        effect.discarded,
                        from == Incomplete && matches!(l, L::None),
                        "{ctx}"
                    );
                }
            }
        }
        assert_eq!(rows.len(), 6 + 4 * 12);
    }

    #[test]
    fn link_address_messages() {
        use NeighborState::*;
        // Appendix C rows for NS, RS, RA, Redirect (not DAD) with a
        // link-layer address.
        let mut e = entry(Incomplete);
        assert!(e.on_link_addr(B));
        assert_eq!((e.state, e.mac, e.deadline), (Stale, B, Instant::MAX));
        for s in [Reachable, Stale, Delay, Probe] {
            let mut e = entry(s);
            let before = e;
            assert!(!e.on_link_addr(A));
            assert_eq!(e, before, "{s:?}: same address changes nothing");
            assert!(!e.on_link_addr(B));
            assert_eq!(
                (e.state, e.mac, e.deadline),
                (Stale, B, Instant::MAX),
                "{s:?}"
            );
        }
    }

    #[test]
    fn full_table_gives_up_only_unused_stale_entries() {
        let t = |s| Instant::from_secs(s);
        let a = |n: u16| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n);
        // The Stack keeps routers of its default router list (here: every
        // router) and entries with queued packets (here: slot `busy`).
        let keep = |busy: Option<usize>| move |i: usize, e: &Entry| e.is_router || Some(i) == busy;
        let mut nc = NeighborCache::<4>::new();
        let router = Entry::stale(a(1), A, true, t(1));
        let mut reachable = Entry::stale(a(2), A, false, t(2));
        reachable.make_reachable(t(2), RT);
        let mut used = Entry::stale(a(3), A, false, t(3));
        used.used = true;
        let unused = Entry::stale(a(4), A, false, t(4));
        for e in [router, reachable, used, unused] {
            assert_eq!(
                nc.insert(e, Admit::Resolve, keep(None)).map(|x| x.1),
                Some(false)
            );
        }
        // A flood entry may only replace the unused STALE one.
        let flood = |n, s| Entry::stale(a(n), B, false, t(s));
        let (i, evicted) = nc
            .insert(flood(5, 5), Admit::Unsolicited, keep(None))
            .unwrap();
        assert!(evicted);
        assert_eq!(nc.get(i).unwrap().addr, a(5));
        assert!(nc.find(&a(4)).is_none());
        // ...and then the flood entry it created, never the used one.
        let (i, _) = nc
            .insert(flood(6, 6), Admit::Unsolicited, keep(None))
            .unwrap();
        assert_eq!(nc.get(i).unwrap().addr, a(6));
        assert!(nc.find(&a(3)).is_some());
        // Unless that one is kept (queued packets).
        let busy = Some(nc.find(&a(6)).unwrap());
        assert!(
            nc.insert(flood(7, 7), Admit::Unsolicited, keep(busy))
                .is_none()
        );
        // Our own traffic may displace the used STALE entry too, but never
        // the kept router or the REACHABLE one.
        let (_, evicted) = nc
            .insert(Entry::incomplete(a(8), t(8)), Admit::Resolve, keep(busy))
            .unwrap();
        assert!(evicted);
        assert!(nc.find(&a(3)).is_none());
        assert!(
            nc.insert(Entry::incomplete(a(9), t(9)), Admit::Resolve, keep(busy))
                .is_none()
        );
        assert!(nc.find(&a(1)).is_some() && nc.find(&a(2)).is_some());
        assert_eq!(nc.iter().count(), 4);
        assert_eq!(nc.incomplete(), 1);
        // A STALE router that is not kept (not in the router list) is just
        // another unused entry.
        let mut nc = NeighborCache::<1>::new();
        nc.insert(Entry::stale(a(1), A, true, t(1)), Admit::Router, |_, _| {
            false
        })
        .unwrap();
        assert!(
            nc.insert(flood(2, 2), Admit::Unsolicited, |_, _| false)
                .is_some_and(|x| x.1)
        );
    }
}
