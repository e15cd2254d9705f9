//! Neighbor cache and Neighbor Unreachability Detection ([RFC 4861 §7.2],
//! §7.3, Appendix C).
//!
//! Problems solved here:
//! - map on-link IPv6 addresses to Ethernet addresses, resolving unknown
//!   ones with multicast solicitations (INCOMPLETE);
//! - notice when a neighbor we send to stops answering (REACHABLE → STALE
//!   → DELAY → PROBE → removed) without probing neighbors we do not use;
//! - apply the cache effects of every received NS, NA and RA exactly as
//!   [RFC 4861 §7.2.3], §7.2.5 and §6.3.4 specify;
//! - keep a fixed number of entries under attack ([RFC 6583 §6]): a full
//!   table gives up only STALE entries nobody is sending to, never a
//!   router or a REACHABLE entry, and INCOMPLETE entries are capped.
//!
//! Each `Entry` transition is a plain method, so the RFC tables can be
//! tested one row at a time without a network.
//!
//! Where Appendix C's summary and the normative text of §7.2.5 differ,
//! the text is followed (as Linux does): an NA with S=1 and no target
//! link-layer address makes a known entry REACHABLE, and an NA without
//! one for an INCOMPLETE entry is discarded, IsRouter untouched.
//!
//! [RFC 4861 §7.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2
//! [RFC 4861 §7.2.3]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.3
//! [RFC 6583 §6]: https://www.rfc-editor.org/rfc/rfc6583#section-6

pub(crate) mod queue;

use core::net::Ipv6Addr;

use crate::time::{Duration, Instant, Timer};
use crate::wire::MacAddr;

/// Multicast solicitations sent before resolution fails ([RFC 4861 §10]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const MAX_MULTICAST_SOLICIT: u8 = 3;
/// Unicast probes sent before a neighbor is declared unreachable
/// ([RFC 4861 §10]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const MAX_UNICAST_SOLICIT: u8 = 3;
/// Default BaseReachableTime ([RFC 4861 §10]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const REACHABLE_TIME: Duration = Duration::from_secs(30);
/// Default RetransTimer ([RFC 4861 §10]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const RETRANS_TIMER: Duration = Duration::from_secs(1);
/// Range a Router Advertisement's Reachable Time is clamped to.
///
/// [RFC 4861 §6.2.1] lets a router advertise at most MAX_REACHABLE_TIME
/// (3,600,000 ms), so the upper bound is the RFC's. It sets no lower
/// bound; Linux raises anything under 100 ms to 100 ms and takes values
/// up to its scheduler's limit (weeks). Our floor is 1 s: a
/// rogue router advertising a few milliseconds would otherwise put every
/// neighbor back into STALE, and so into DELAY and PROBE, after nearly
/// every packet ([RFC 6583 §4]: a host should not let the link dictate its
/// work). A real network needs less than 1 s of reachability confirmation
/// only on links ndp does not run on.
///
/// [RFC 4861 §6.2.1]: https://www.rfc-editor.org/rfc/rfc4861#section-6.2.1
/// [RFC 6583 §4]: https://www.rfc-editor.org/rfc/rfc6583#section-4
pub const RA_REACHABLE_TIME_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(3600));
/// Range a Router Advertisement's Retrans Timer is clamped to.
///
/// [RFC 4861] sets no bounds (§6.2.1: "the default is 0, unspecified");
/// Linux raises values under 10 ms to 10 ms and takes values up to its
/// scheduler's limit (weeks).
/// The timer paces address resolution, NUD probes and DAD ([RFC 4862]
/// §5.4.1), so an absurd value is a denial of service: 1,966,080 ms from
/// a rogue RA once kept addresses optimistic for more than 35 s. Ours: at
/// least 100 ms, so resolution and DAD do not burst (10 probes a second
/// at most), and at most 5 s, five times the RFC's RETRANS_TIMER, which
/// still leaves room for slow links while DAD ends within seconds.
///
/// [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
/// [RFC 4862]: https://www.rfc-editor.org/rfc/rfc4862
pub const RA_RETRANS_TIMER_RANGE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(5));

/// Wait in DELAY before the first probe ([RFC 4861 §10]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const DELAY_FIRST_PROBE_TIME: Duration = Duration::from_secs(5);
/// ReachableTime is drawn from `[MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR] ×
/// BaseReachableTime` (RFC 4861 §6.3.2), here in percent.
pub const MIN_RANDOM_FACTOR_PERCENT: u32 = 50;
/// See [`MIN_RANDOM_FACTOR_PERCENT`].
pub const MAX_RANDOM_FACTOR_PERCENT: u32 = 150;
/// ReachableTime is redrawn at least this often, even when the base does
/// not change ([RFC 4861 §6.3.4]: "at least once every few hours").
///
/// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
pub const REACHABLE_TIME_REDRAW: Duration = Duration::from_secs(2 * 3600);

/// Reachability state of a neighbor ([RFC 4861 §7.3.2]).
///
/// [RFC 4861 §7.3.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.3.2
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

/// One cache entry and its NUD transitions. The fields are private: the
/// rest of the engine reads them and changes them only through the
/// transitions below, which keep state, timer and probe count
/// consistent (the `check_invariants` of the stack hold them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    addr: Ipv6Addr,
    /// Meaningless while INCOMPLETE.
    mac: MacAddr,
    state: NeighborState,
    is_router: bool,
    /// We sent traffic to it (or created it for our own traffic); unused
    /// entries are the first given up when the table is full.
    used: bool,
    probes: u8,
    /// Timer of the current state; off when there is none.
    deadline: Timer,
    /// Creation or last use, for choosing an eviction victim.
    touched: Instant,
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
    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    /// Meaningless while INCOMPLETE.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    pub fn state(&self) -> NeighborState {
        self.state
    }

    pub fn is_router(&self) -> bool {
        self.is_router
    }

    /// Solicitations sent in the current INCOMPLETE or PROBE phase.
    pub fn probes(&self) -> u8 {
        self.probes
    }

    /// Timer of the current state; off when there is none.
    pub fn deadline(&self) -> Timer {
        self.deadline
    }

    /// A Router Advertisement or Redirect says it is a router ([RFC 4861]
    /// §6.3.4, §8.3); only an advertisement's R flag clears it.
    ///
    /// [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
    pub fn mark_router(&mut self) {
        self.is_router = true;
    }

    /// Its timer's work cannot be done yet (a solicitation held back by
    /// the rate limit or by DAD): state and probe count stay, and the
    /// timer runs again at `at`.
    pub fn wait_until(&mut self, at: Instant) {
        self.deadline = Timer::at(at);
    }

    /// The address and timer, writable, for the tests that corrupt the
    /// cache on purpose to check the invariant checks.
    #[cfg(test)]
    pub fn raw_mut(&mut self) -> (&mut Ipv6Addr, &mut Timer) {
        (&mut self.addr, &mut self.deadline)
    }

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
            deadline: Timer::at(now),
            touched: now,
        }
    }

    /// A new entry learnt from a message carrying a link-layer address:
    /// STALE ([RFC 4861 §7.2.3], §6.3.4, §8.3).
    ///
    /// [RFC 4861 §7.2.3]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.3
    pub fn stale(addr: Ipv6Addr, mac: MacAddr, is_router: bool, now: Instant) -> Self {
        Entry {
            addr,
            mac,
            state: NeighborState::Stale,
            is_router,
            used: false,
            probes: 0,
            deadline: Timer::OFF,
            touched: now,
        }
    }

    pub fn view(&self) -> Neighbor {
        Neighbor {
            addr: self.addr,
            mac: (self.state != NeighborState::Incomplete).then_some(self.mac),
            state: self.state,
            is_router: self.is_router,
            deadline: self.deadline.get(),
            probes: self.probes,
        }
    }

    fn set(&mut self, state: NeighborState, deadline: Timer) {
        self.state = state;
        self.deadline = deadline;
        self.probes = 0;
    }

    fn make_reachable(&mut self, now: Instant, reachable: Duration) {
        self.set(NeighborState::Reachable, Timer::at(now + reachable));
    }

    fn make_stale(&mut self) {
        self.set(NeighborState::Stale, Timer::OFF);
    }

    /// A Neighbor Advertisement for this entry's address ([RFC 4861 §7.2.5]).
    /// Inlined into its one caller, the receive path.
    ///
    /// [RFC 4861 §7.2.5]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.5
    #[inline]
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

    /// A packet is sent to this neighbor ([RFC 4861 §7.3.3]): STALE becomes
    /// DELAY. Whether that set its timer.
    ///
    /// [RFC 4861 §7.3.3]: https://www.rfc-editor.org/rfc/rfc4861#section-7.3.3
    #[inline]
    pub fn on_send(&mut self, now: Instant) -> bool {
        self.used = true;
        self.touched = now;
        let stale = self.state == NeighborState::Stale;
        if stale {
            self.set(
                NeighborState::Delay,
                Timer::at(now + DELAY_FIRST_PROBE_TIME),
            );
        }
        stale
    }

    /// Confirm reachability now with unicast probes ([RFC 4191 §3.5]: a
    /// host may probe a router with a Neighbor Solicitation before using
    /// it): STALE and DELAY become PROBE, its first solicitation due at
    /// once. INCOMPLETE is being resolved already and REACHABLE needs no
    /// probe.
    ///
    /// [RFC 4191 §3.5]: https://www.rfc-editor.org/rfc/rfc4191#section-3.5
    pub fn probe_now(&mut self, now: Instant) {
        if matches!(self.state, NeighborState::Stale | NeighborState::Delay) {
            self.set(NeighborState::Probe, Timer::at(now));
        }
    }

    /// Upper-layer reachability confirmation ([RFC 4861 §7.3.1]): any state
    /// but INCOMPLETE becomes REACHABLE.
    ///
    /// [RFC 4861 §7.3.1]: https://www.rfc-editor.org/rfc/rfc4861#section-7.3.1
    pub fn on_confirm(&mut self, now: Instant, reachable: Duration) {
        if self.state != NeighborState::Incomplete {
            self.make_reachable(now, reachable);
        }
    }

    /// Run the timer if it is due (never before its deadline) and say what
    /// must be done. Silent transitions happen here; solicitations are
    /// recorded by [`Entry::solicited`] once actually sent. Without
    /// `sends`, a timer that asks for a solicitation is left due and
    /// untouched (`Stack::handle_timeout`).
    pub fn expire(&mut self, now: Instant, sends: bool) -> Due {
        if !self.deadline.due(now) {
            return Due::Nothing;
        }
        match self.state {
            // RFC 4861 §7.3.3: ReachableTime passed without confirmation.
            NeighborState::Reachable => {
                self.make_stale();
                Due::Nothing
            }
            NeighborState::Stale => {
                self.deadline = Timer::OFF;
                Due::Nothing
            }
            // RFC 4861 §7.2.2: retransmit every RetransTimer until
            // MAX_MULTICAST_SOLICIT solicitations went unanswered.
            NeighborState::Incomplete if self.probes >= MAX_MULTICAST_SOLICIT => {
                Due::ResolutionFailed
            }
            NeighborState::Incomplete if sends => Due::MulticastNs,
            // RFC 4861 §7.3.3: DELAY_FIRST_PROBE_TIME passed, start probing.
            NeighborState::Delay if sends => {
                self.set(NeighborState::Probe, Timer::at(now));
                Due::UnicastNs
            }
            NeighborState::Probe if self.probes >= MAX_UNICAST_SOLICIT => Due::Unreachable,
            NeighborState::Probe if sends => Due::UnicastNs,
            NeighborState::Incomplete | NeighborState::Delay | NeighborState::Probe => Due::Nothing,
        }
    }

    /// A solicitation for this entry went out: count it and wait
    /// RetransTimer for the next step.
    pub fn solicited(&mut self, now: Instant, retrans: Duration) {
        self.probes = self.probes.saturating_add(1);
        self.deadline = Timer::at(now + retrans);
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

/// End of a hash chain.
const NONE: u16 = u16::MAX;

/// A fixed-size table of entries. Slots keep their index for the life of
/// an entry, so the packet queue can refer to entries by index.
///
/// Per-packet work does not grow with the table: addresses are found
/// through hash chains (one bucket per slot), and the timers are only
/// scanned once a lower bound of all deadlines has passed.
#[derive(Debug, Clone)]
pub(crate) struct NeighborCache<const N: usize> {
    entries: [Option<Entry>; N],
    /// First slot of each bucket.
    heads: [u16; N],
    /// Next slot in a slot's bucket.
    next: [u16; N],
    /// No entry's deadline is earlier than this (off: no entry has one).
    earliest: Timer,
    /// Keys the bucket hash, so that a node on the link cannot pick
    /// addresses that all fall into one chain.
    key: u32,
}

/// Mutable access to an entry that keeps the cache's deadline bound.
pub(crate) struct EntryMut<'a> {
    entry: &'a mut Entry,
    earliest: &'a mut Timer,
}

impl core::ops::Deref for EntryMut<'_> {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        self.entry
    }
}

impl core::ops::DerefMut for EntryMut<'_> {
    fn deref_mut(&mut self) -> &mut Entry {
        self.entry
    }
}

impl Drop for EntryMut<'_> {
    fn drop(&mut self) {
        *self.earliest = self.earliest.sooner(self.entry.deadline);
    }
}

impl<const N: usize> NeighborCache<N> {
    /// Slot indices are u16 with one value reserved.
    const FITS: () = assert!(N < NONE as usize, "at most 65534 neighbor entries");

    pub fn new(key: u32) -> Self {
        let () = Self::FITS;
        NeighborCache {
            entries: [None; N],
            heads: [NONE; N],
            next: [NONE; N],
            earliest: Timer::OFF,
            key,
        }
    }

    fn bucket(&self, addr: &Ipv6Addr) -> usize {
        let x = u128::from_be_bytes(addr.octets());
        let mut h = self.key;
        for part in [
            (x >> 96) as u32,
            (x >> 64) as u32,
            (x >> 32) as u32,
            x as u32,
        ] {
            h = (h ^ part).wrapping_mul(0x9e37_79b1);
            h ^= h >> 15;
        }
        usize::try_from(h)
            .ok()
            .and_then(|h| h.checked_rem(N))
            .unwrap_or(0)
    }

    /// The entry for `addr`.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<&Entry> {
        self.find(addr).and_then(|i| self.get(i))
    }

    /// The entry for `addr`, to change.
    pub fn lookup_mut(&mut self, addr: &Ipv6Addr) -> Option<EntryMut<'_>> {
        let i = self.find(addr)?;
        self.get_mut(i)
    }

    pub fn find(&self, addr: &Ipv6Addr) -> Option<usize> {
        let mut i = *self.heads.get(self.bucket(addr))?;
        // A chain visits each slot at most once.
        for _ in 0..N {
            if i == NONE {
                return None;
            }
            let slot = usize::from(i);
            if self.get(slot).is_some_and(|e| e.addr == *addr) {
                return Some(slot);
            }
            i = *self.next.get(slot)?;
        }
        None
    }

    /// Put slot `i` (holding `addr`) at the head of its bucket.
    fn link(&mut self, i: usize, addr: &Ipv6Addr) {
        let b = self.bucket(addr);
        let (Ok(slot), Some(head)) = (u16::try_from(i), self.heads.get(b).copied()) else {
            return;
        };
        if let (Some(next), Some(h)) = (self.next.get_mut(i), self.heads.get_mut(b)) {
            *next = head;
            *h = slot;
        }
    }

    /// Take slot `i` (holding `addr`) out of its bucket.
    fn unlink(&mut self, i: usize, addr: &Ipv6Addr) {
        let b = self.bucket(addr);
        let Ok(slot) = u16::try_from(i) else { return };
        let after = self.next.get(i).copied().unwrap_or(NONE);
        if self.heads.get(b) == Some(&slot) {
            if let Some(h) = self.heads.get_mut(b) {
                *h = after;
            }
            return;
        }
        let mut at = self.heads.get(b).copied().unwrap_or(NONE);
        for _ in 0..N {
            if at == NONE {
                return;
            }
            let cur = usize::from(at);
            let next = self.next.get(cur).copied().unwrap_or(NONE);
            if next == slot {
                if let Some(n) = self.next.get_mut(cur) {
                    *n = after;
                }
                return;
            }
            at = next;
        }
    }

    pub fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<EntryMut<'_>> {
        let entry = self.entries.get_mut(i).and_then(Option::as_mut)?;
        Some(EntryMut {
            entry,
            earliest: &mut self.earliest,
        })
    }

    /// Entry `i` has been sent to ([`Entry::on_send`]): the output path's
    /// call, without [`NeighborCache::get_mut`]'s guard, as only a STALE
    /// entry's timer changes.
    pub fn sent_to(&mut self, i: usize, now: Instant) -> Option<&Entry> {
        let e = self.entries.get_mut(i).and_then(Option::as_mut)?;
        if e.on_send(now) {
            self.earliest = self.earliest.sooner(e.deadline);
        }
        Some(e)
    }

    pub fn remove(&mut self, i: usize) -> Option<Entry> {
        let e = self.entries.get_mut(i).and_then(Option::take)?;
        self.unlink(i, &e.addr);
        Some(e)
    }

    /// Whether some entry's timer may be due at `now` (the bound has
    /// passed): only then are the entries scanned.
    pub fn may_be_due(&self, now: Instant) -> bool {
        self.earliest.due(now)
    }

    /// Make the bound exact again after a scan found nothing due.
    pub fn refresh_earliest(&mut self) {
        self.earliest = self
            .entries
            .iter()
            .flatten()
            .map(|e| e.deadline)
            .fold(Timer::OFF, Timer::sooner);
    }

    /// Bring every entry's last-use time to at most `max` before `now`
    /// (eviction order among older ones is then arbitrary), so that none
    /// is old enough to compare wrongly once the clock wraps.
    pub fn age_stamps(&mut self, now: Instant, max: Duration) {
        for e in self.entries.iter_mut().flatten() {
            e.touched.age_at_most(now, max);
        }
    }

    /// Bring timers due for more than `max` to `now` (see
    /// `Timer::catch_up`), and make the bound exact: an entry less late
    /// keeps its deadline, which the bound must not pass.
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        for e in self.entries.iter_mut().flatten() {
            e.deadline.catch_up(now, max);
        }
        self.refresh_earliest();
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

    /// When the earliest timer may fire: never later than the earliest
    /// entry deadline, possibly earlier (a deadline moved later since the
    /// last scan), in which case a poll finds nothing due and makes the
    /// bound exact again.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.earliest.get()
    }

    /// Place `entry` (whose address must not be in the table) in a free
    /// slot, or in place of an entry that `admit` may displace ([RFC 6583]
    /// §6). `keep(i, entry)` names entries that must stay whatever their
    /// state: those with queued packets, and routers in the default router
    /// list. Returns the slot and whether an entry was evicted, or `None`
    /// when nothing could be given up.
    ///
    /// [RFC 6583]: https://www.rfc-editor.org/rfc/rfc6583
    pub fn insert(
        &mut self,
        entry: Entry,
        admit: Admit,
        keep: impl Fn(usize, &Entry) -> bool,
    ) -> Option<(usize, bool)> {
        self.earliest = self.earliest.sooner(entry.deadline);
        if let Some(i) = self.entries.iter().position(Option::is_none) {
            let slot = self.entries.get_mut(i)?;
            *slot = Some(entry);
            self.link(i, &entry.addr);
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
            // The largest age, modulo 2^32 ms (right for 49 days).
            .max_by_key(|(_, e)| {
                let age = (entry.touched.as_millis()).wrapping_sub(e.touched.as_millis());
                (!e.used, age)
            })
            .map(|(i, _)| i)?;
        self.remove(victim)?;
        let slot = self.entries.get_mut(victim)?;
        *slot = Some(entry);
        self.link(victim, &entry.addr);
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
            NeighborState::Stale => Timer::OFF,
            _ => Timer::at(T0 + Duration::from_secs(1)),
        };
        if state == NeighborState::Incomplete {
            e.mac = MacAddr::default();
        }
        e
    }

    #[test]
    fn entry_size_matches_the_documented_ram_cost() {
        // Stack's rustdoc promises 36 bytes per neighbor entry: 16
        // (address) + 6 (MAC) + 4 (state, flags, probes) + 2 padding + 2 × 4
        // (32-bit times); the state's spare values hold Option's tag. Every
        // field is at most 4-aligned, so the host figure is the MCU one.
        assert_eq!(core::mem::size_of::<Option<Entry>>(), 36);
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
                e.expire(e.deadline.get().unwrap() - Duration::from_millis(1), true),
                Due::Nothing
            );
            assert_eq!(e, before, "{s:?} changed before its deadline");
        }
    }

    /// Without `sends` (`Stack::handle_timeout`) a due solicitation is
    /// left due and the entry untouched, while silent transitions and
    /// giving up still happen.
    #[test]
    fn without_sends_only_state_changes_run() {
        for s in [
            NeighborState::Incomplete,
            NeighborState::Delay,
            NeighborState::Probe,
        ] {
            let mut e = entry(s);
            let before = e;
            let t = e.deadline.get().unwrap();
            assert_eq!(e.expire(t, false), Due::Nothing, "{s:?}");
            assert_eq!(e, before, "{s:?} changed without sending");
            assert_ne!(e.expire(t, true), Due::Nothing, "{s:?} is still due");
        }
        // REACHABLE -> STALE is silent (RFC 4861 §7.3.3).
        let mut e = entry(NeighborState::Reachable);
        e.make_reachable(T0, RT);
        assert_eq!(e.expire(T0 + RT, false), Due::Nothing);
        assert_eq!(e.state, NeighborState::Stale);
        // Out of probes: given up either way (RFC 4861 §7.2.2).
        let mut e = Entry::incomplete(addr(), T0);
        for _ in 0..MAX_MULTICAST_SOLICIT {
            e.solicited(T0, RETRANS_TIMER);
        }
        assert_eq!(e.expire(T0 + RETRANS_TIMER, false), Due::ResolutionFailed);
    }

    #[test]
    fn incomplete_sends_max_multicast_solicit_then_fails() {
        // Appendix C: retransmit while fewer than N, then discard.
        let mut e = Entry::incomplete(addr(), T0);
        let mut t = T0;
        for n in 1..=MAX_MULTICAST_SOLICIT {
            assert_eq!(e.expire(t, true), Due::MulticastNs);
            e.solicited(t, RETRANS_TIMER);
            assert_eq!(e.probes, n);
            assert_eq!(e.deadline, Timer::at(t + RETRANS_TIMER));
            t = e.deadline.get().unwrap();
        }
        assert_eq!(e.expire(t, true), Due::ResolutionFailed);
        assert_eq!(t, T0 + RETRANS_TIMER.saturating_mul(3));
    }

    #[test]
    fn silent_neighbor_walks_reachable_stale_delay_probe_gone() {
        let mut e = entry(NeighborState::Reachable);
        e.make_reachable(T0, RT);
        // REACHABLE -> STALE after ReachableTime (RFC 4861 §7.3.3).
        assert_eq!(e.expire(T0 + RT, true), Due::Nothing);
        assert_eq!(e.state, NeighborState::Stale);
        assert_eq!(e.deadline, Timer::OFF);
        // STALE -> DELAY on sending (§7.3.3).
        let t = T0 + Duration::from_secs(40);
        assert!(e.on_send(t));
        assert_eq!(
            (e.state, e.deadline),
            (NeighborState::Delay, Timer::at(t + DELAY_FIRST_PROBE_TIME))
        );
        // DELAY -> PROBE after DELAY_FIRST_PROBE_TIME, first unicast probe.
        let mut t = e.deadline.get().unwrap();
        assert_eq!(e.expire(t, true), Due::UnicastNs);
        assert_eq!(e.state, NeighborState::Probe);
        for n in 1..=MAX_UNICAST_SOLICIT {
            if n > 1 {
                assert_eq!(e.expire(t, true), Due::UnicastNs);
            }
            e.solicited(t, RETRANS_TIMER);
            assert_eq!(e.probes, n);
            t = e.deadline.get().unwrap();
        }
        assert_eq!(e.expire(t, true), Due::Unreachable);
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
                (NeighborState::Reachable, Timer::at(T0 + RT), 0)
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
            assert!(!e.on_send(T0));
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
                            assert_eq!(e.deadline, Timer::at(T0 + RT), "{ctx}")
                        }
                        Stale => assert_eq!(e.deadline, Timer::OFF, "{ctx}"),
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
        assert_eq!((e.state, e.mac, e.deadline), (Stale, B, Timer::OFF));
        for s in [Reachable, Stale, Delay, Probe] {
            let mut e = entry(s);
            let before = e;
            assert!(!e.on_link_addr(A));
            assert_eq!(e, before, "{s:?}: same address changes nothing");
            assert!(!e.on_link_addr(B));
            assert_eq!(
                (e.state, e.mac, e.deadline),
                (Stale, B, Timer::OFF),
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
        let mut nc = NeighborCache::<4>::new(0);
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
        let mut nc = NeighborCache::<1>::new(0);
        nc.insert(Entry::stale(a(1), A, true, t(1)), Admit::Router, |_, _| {
            false
        })
        .unwrap();
        assert!(
            nc.insert(flood(2, 2), Admit::Unsolicited, |_, _| false)
                .is_some_and(|x| x.1)
        );
    }

    #[test]
    fn find_agrees_with_a_linear_search_through_inserts_and_removals() {
        // The hash chains must find exactly what a scan finds, whatever
        // the key and whatever collides. A small LCG drives the sequence.
        let a = |n: u32| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, (n >> 16) as u16, n as u16);
        for key in [0u32, 1, 0xdead_beef] {
            let mut nc = NeighborCache::<16>::new(key);
            let mut x: u32 = key ^ 12345;
            for step in 0..4000u32 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let n = (x >> 8) % 40;
                match nc.find(&a(n)) {
                    Some(i) if x.is_multiple_of(3) => {
                        assert_eq!(nc.remove(i).unwrap().addr, a(n));
                    }
                    Some(_) => {}
                    None => {
                        let e = Entry::stale(a(n), A, false, Instant::from_millis(step));
                        let _ = nc.insert(e, Admit::Resolve, |_, _| false);
                    }
                }
                for m in 0..40 {
                    let linear = nc.iter().find(|(_, e)| e.addr == a(m)).map(|(i, _)| i);
                    assert_eq!(
                        nc.find(&a(m)),
                        linear,
                        "key {key:#x}, step {step}, address {m}"
                    );
                }
            }
        }
    }

    #[test]
    fn catching_up_late_timers_keeps_the_bound_below_every_deadline() {
        // Stack::refresh_stamps brings timers more than a day late to now;
        // one less late keeps its deadline, and the bound must stay at or
        // below it (found by stack_ops).
        let a = |n: u16| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n);
        let hour = Duration::from_secs(3600);
        let t0 = Instant::from_secs(100);
        let mut nc = NeighborCache::<4>::new(7);
        for (n, at) in [(1, t0), (2, t0 + hour + hour)] {
            nc.insert(Entry::incomplete(a(n), at), Admit::Resolve, |_, _| false)
                .unwrap();
        }
        let now = t0 + Duration::from_secs(25 * 3600);
        nc.catch_up(now, Duration::from_secs(24 * 3600));
        let deadline = |n| nc.lookup(&a(n)).unwrap().deadline.get().unwrap();
        assert_eq!(deadline(1), now, "a day and an hour late: now");
        assert_eq!(deadline(2), t0 + hour + hour, "23 hours late: kept");
        assert_eq!(nc.next_deadline(), Some(deadline(2)));
    }

    #[test]
    fn the_deadline_bound_is_never_later_than_any_deadline() {
        // A timer must never be missed: the bound stays at or below every
        // entry's deadline through inserts and changes, and a refresh
        // makes it exact.
        let a = |n: u16| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n);
        let t = |ms| Instant::from_millis(ms);
        let mut nc = NeighborCache::<4>::new(7);
        assert_eq!(nc.next_deadline(), None);
        nc.insert(Entry::incomplete(a(1), t(1000)), Admit::Resolve, |_, _| {
            false
        })
        .unwrap();
        let d1 = nc.get(0).unwrap().deadline.get().unwrap();
        assert_eq!(nc.next_deadline(), Some(d1));
        assert!(!nc.may_be_due(d1 - Duration::from_millis(1)) && nc.may_be_due(d1));
        // An earlier deadline set through get_mut lowers the bound.
        let i = nc.find(&a(1)).unwrap();
        nc.get_mut(i).unwrap().deadline = Timer::at(t(5));
        assert_eq!(nc.next_deadline(), Some(t(5)));
        // A later one leaves a bound that is early, never late...
        nc.get_mut(i).unwrap().deadline = Timer::at(t(50_000));
        assert_eq!(nc.next_deadline(), Some(t(5)));
        // ...until a scan makes it exact.
        nc.refresh_earliest();
        assert_eq!(nc.next_deadline(), Some(t(50_000)));
        // STALE entries have no timer.
        nc.get_mut(i).unwrap().deadline = Timer::OFF;
        nc.get_mut(i).unwrap().state = NeighborState::Stale;
        nc.refresh_earliest();
        assert_eq!(nc.next_deadline(), None);
        // Sending to it (the output path's call, which has no guard)
        // starts DELAY and brings the bound down to its timer.
        let e = nc.sent_to(i, t(60_000)).unwrap();
        assert_eq!(e.state, NeighborState::Delay);
        assert_eq!(nc.next_deadline(), Some(t(60_000) + DELAY_FIRST_PROBE_TIME));
        // Sending again changes neither the timer nor the bound.
        nc.sent_to(i, t(61_000)).unwrap();
        assert_eq!(nc.next_deadline(), Some(t(60_000) + DELAY_FIRST_PROBE_TIME));
        assert!(nc.sent_to(3, t(61_000)).is_none());
    }
}
