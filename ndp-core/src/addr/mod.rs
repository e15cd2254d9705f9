//! The interface's own addresses: link-local and SLAAC, with Duplicate
//! Address Detection ([RFC 4862 §5.4]), Optimistic DAD ([RFC 4429]), enhanced
//! DAD nonces ([RFC 7527]), [RFC 7217] stable identifiers and their conflict
//! handling, and gratuitous neighbor advertisements ([RFC 9131]).
//!
//! Problems solved here:
//! - every address is checked for uniqueness before (or, when
//!   optimistic, while) it is used, and a conflict produces a new
//!   identifier rather than a dead interface;
//! - an address's state says exactly what it may be used for
//!   ([`Address::usable_as_source`], [`Address::can_receive`],
//!   [`Address::can_solicit`]);
//! - lifetimes follow [RFC 4862 §5.5.3], including the two-hour rule;
//! - a hostile link cannot make the table grow: [`ADDRESSES`] slots, and a
//!   prefix whose DAD keeps failing keeps its slot (a *tombstone*, for as
//!   long as the prefix is valid), so its advertisements do not start the
//!   fight again;
//! - nor can it take the addresses for good (the DAD denial of service
//!   of [RFC 3756 §4.1.3]): after [`IDGEN_RETRIES`] quick new identifiers
//!   the engine keeps trying, ever more slowly up to
//!   [`DAD_BACKOFF_MAX`], so an address is back within about that long
//!   after the attack stops.
//!
//! This module holds the table and per-address state machines as plain
//! data. Their timers run in `AddressTable::poll`, which says what was
//! due (a probe or announcement to send, an address assigned, deprecated
//! or expired, a duplicate to retry); [`crate::Stack`] writes the messages,
//! reports the events and feeds in what it receives.
//!
//! [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
//! [RFC 4429]: https://www.rfc-editor.org/rfc/rfc4429
//! [RFC 7527]: https://www.rfc-editor.org/rfc/rfc7527
//! [RFC 7217]: https://www.rfc-editor.org/rfc/rfc7217
//! [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
//! [RFC 4862 §5.5.3]: https://www.rfc-editor.org/rfc/rfc4862#section-5.5.3
//! [RFC 3756 §4.1.3]: https://www.rfc-editor.org/rfc/rfc3756#section-4.1.3

pub mod iid;

use core::net::Ipv6Addr;

use crate::neighbor::MAX_MULTICAST_SOLICIT;
use crate::rng::Rng;
use crate::time::{Clock, Duration, Expiry, Instant, Timer, sooner};
use crate::wire::{MulticastAddr, UnicastAddr, is_link_local};

/// Addresses the table holds: the link-local address and three SLAAC
/// addresses (or tombstones).
pub const ADDRESSES: usize = 4;
/// New identifiers tried quickly after DAD conflicts for one prefix
/// ([RFC 7217 §7]); later ones wait [`DAD_BACKOFF_BASE`] and more.
///
/// [RFC 7217 §7]: https://www.rfc-editor.org/rfc/rfc7217#section-7
pub const IDGEN_RETRIES: u8 = 3;
/// A new identifier is tried after a random delay of up to this
/// ([RFC 7217 §6], §7).
///
/// [RFC 7217 §6]: https://www.rfc-editor.org/rfc/rfc7217#section-6
pub const IDGEN_DELAY: Duration = Duration::from_secs(1);
/// After [`IDGEN_RETRIES`] identifiers conflicted (or at once, for a
/// MAC-based identifier, which cannot change), the next attempt waits
/// this long, doubling with every further conflict up to
/// [`DAD_BACKOFF_MAX`], plus up to a tenth more at random ([RFC 7559 §2]'s
/// backoff, applied to DAD).
///
/// [RFC 7559 §2]: https://www.rfc-editor.org/rfc/rfc7559#section-2
pub const DAD_BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Longest wait between DAD attempts under a DAD denial of service
/// (see [`DAD_BACKOFF_BASE`]). It bounds how long an address stays away
/// after the attack ends: at most this plus a tenth, plus one DAD.
pub const DAD_BACKOFF_MAX: Duration = Duration::from_secs(16);
/// Unsolicited advertisements sent for a new address ([RFC 4861 §10],
/// [RFC 9131 §6.1.2]).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
/// [RFC 9131 §6.1.2]: https://www.rfc-editor.org/rfc/rfc9131#section-6.1.2
pub const MAX_NEIGHBOR_ADVERTISEMENT: u8 = 3;
/// Bytes of a DAD nonce: the smallest the Nonce option allows ([RFC 3971]
/// §5.3.2), as Linux sends.
///
/// [RFC 3971]: https://www.rfc-editor.org/rfc/rfc3971
pub const DAD_NONCE_LEN: usize = 6;
/// Default number of times a looped-back probe may extend DAD by
/// MAX_MULTICAST_SOLICIT probes ([`crate::Config::dad_loopback_extensions`]).
/// [RFC 7527 §4.1] probes on while probes keep coming back and leaves
/// stopping to "manual intervention", which an unattended device does not
/// have: by default the address is assigned after two extensions rather
/// than staying tentative for as long as the link loops.
///
/// [RFC 7527 §4.1]: https://www.rfc-editor.org/rfc/rfc7527#section-4.1
pub const MAX_DAD_EXTENSIONS: u8 = 2;
/// Two hours, in seconds: the floor of the valid-lifetime rule of [RFC 4862 §5.5.3] (e).
///
/// [RFC 4862 §5.5.3]: https://www.rfc-editor.org/rfc/rfc4862#section-5.5.3
pub const TWO_HOURS_S: u32 = 2 * 3600;

/// State of an address ([RFC 4862 §2], [RFC 4429 §1.3]).
///
/// [RFC 4862 §2]: https://www.rfc-editor.org/rfc/rfc4862#section-2
/// [RFC 4429 §1.3]: https://www.rfc-editor.org/rfc/rfc4429#section-1.3
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddrState {
    /// Being checked for uniqueness; not usable, not answered for.
    Tentative,
    /// Being checked, but usable with RFC 4429's restrictions: no
    /// solicitations from it, advertisements for it carry O=0.
    Optimistic,
    /// Usable without restriction.
    Preferred,
    /// Valid, but not to be used for new communication (RFC 4862 §5.5.4).
    Deprecated,
    /// DAD found it in use elsewhere; never used.
    Duplicate,
}

impl AddrState {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            AddrState::Tentative => "tentative",
            AddrState::Optimistic => "optimistic",
            AddrState::Preferred => "preferred",
            AddrState::Deprecated => "deprecated",
            AddrState::Duplicate => "duplicate",
        }
    }
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Origin {
    /// The link-local address formed at start (RFC 4862 §5.3).
    LinkLocal,
    /// Stateless autoconfiguration from a Prefix Information option
    /// (RFC 4862 §5.5.3).
    Slaac,
    /// Set by the application ([`crate::Stack::add_static_address`]).
    Static,
}

/// One of the interface's addresses, as seen by [`crate::Stack::addresses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Address {
    /// The address.
    pub addr: UnicastAddr,
    /// Length of its prefix: 64 for link-local and SLAAC addresses,
    /// the application's choice for static ones.
    pub prefix_len: u8,
    /// Its state.
    pub state: AddrState,
    /// Where it came from.
    pub origin: Origin,
    /// When it becomes invalid ([`Expiry::NEVER`]: never;
    /// [`crate::Stack::time_left`] says how long that is).
    pub valid_until: Expiry,
    /// When it becomes deprecated ([`Expiry::NEVER`]: never).
    pub preferred_until: Expiry,
    /// The RFC 7217 DAD_Counter its identifier was generated with.
    pub dad_counter: u8,
}

impl Address {
    /// May be the source of new packets: optimistic (with restrictions)
    /// or preferred ([RFC 4429 §3.3], [RFC 4862 §5.5.4]).
    ///
    /// [RFC 4429 §3.3]: https://www.rfc-editor.org/rfc/rfc4429#section-3.3
    /// [RFC 4862 §5.5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.5.4
    pub fn usable_as_source(&self) -> bool {
        matches!(self.state, AddrState::Optimistic | AddrState::Preferred)
    }

    /// Packets to it are accepted: optimistic, preferred or deprecated
    /// ([RFC 4862 §5.4]: tentative addresses are not assigned; §5.5.4:
    /// deprecated ones still receive).
    ///
    /// [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
    pub fn can_receive(&self) -> bool {
        matches!(
            self.state,
            AddrState::Optimistic | AddrState::Preferred | AddrState::Deprecated
        )
    }

    /// May be the source of solicitations (NS, or RS with our link-layer
    /// address): preferred or deprecated, never optimistic ([RFC 4429 §3.2]).
    ///
    /// [RFC 4429 §3.2]: https://www.rfc-editor.org/rfc/rfc4429#section-3.2
    pub fn can_solicit(&self) -> bool {
        matches!(self.state, AddrState::Preferred | AddrState::Deprecated)
    }

    /// Its solicited-node group is listened to: any state but duplicate
    /// ([RFC 4862 §5.4.2]: joined before probing).
    ///
    /// [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
    pub fn listens(&self) -> bool {
        self.state != AddrState::Duplicate
    }

    /// Global scope (global unicast or ULA), as opposed to link-local.
    pub fn is_global(&self) -> bool {
        !self.addr.is_link_local()
    }
}

/// The modified EUI-64 link-local address of `mac` ([RFC 4291 §2.5.6],
/// Appendix A; [RFC 4862 §5.3]).
///
/// ```
/// use ndp_core::addr::eui64_link_local;
/// use ndp_core::wire::MacAddr;
/// let a = eui64_link_local(MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x20]));
/// assert_eq!(a.get(), "fe80::5eff:fe00:5320".parse::<core::net::Ipv6Addr>().unwrap());
/// ```
///
/// [RFC 4291 §2.5.6]: https://www.rfc-editor.org/rfc/rfc4291#section-2.5.6
/// [RFC 4862 §5.3]: https://www.rfc-editor.org/rfc/rfc4862#section-5.3
pub fn eui64_link_local(mac: crate::wire::MacAddr) -> UnicastAddr {
    UnicastAddr::link_local(mac.modified_eui64())
}

/// What an address's DAD timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DadStep {
    /// Not due.
    Wait,
    /// Send a probe (NS from `::` with a fresh nonce).
    Probe,
    /// RetransTimer passed after the last probe with no conflict: unique.
    Done,
}

/// What the address table's timers did or ask for, the first that was
/// due: [`AddressTable::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrDue {
    /// The valid lifetime ended: the address is gone (RFC 4862 §5.5.4).
    Expired(Address),
    /// The duplicate in this slot has waited long enough: form its next
    /// identifier (RFC 7217 §6).
    Regenerate(usize),
    /// Send this DAD probe (RFC 4862 §5.4.2, RFC 7527 §4.1): an NS from
    /// `::` for `target`, with this nonce, already recorded as sent.
    Probe {
        target: UnicastAddr,
        nonce: [u8; DAD_NONCE_LEN],
    },
    /// DAD passed (RFC 4862 §5.4): the address, now preferred or
    /// deprecated.
    Assigned(Address),
    /// The preferred lifetime ended: deprecated (RFC 4862 §5.5.4).
    Deprecated(Address),
    /// Send this gratuitous advertisement (RFC 9131 §6.1.2), already
    /// recorded as sent.
    Announce(UnicastAddr),
}

/// The gratuitous advertisements still owed for an address ([RFC 9131]
/// §6.1.2): how many, and when the next is due. With the `gratuitous-na`
/// feature; without it a type of no size that never announces, so the
/// compiler leaves out the whole announcement path.
///
/// [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
#[cfg(feature = "gratuitous-na")]
#[derive(Debug, Clone, Copy)]
struct Announcements {
    left: u8,
    next: Timer,
}

#[cfg(feature = "gratuitous-na")]
impl Announcements {
    const NONE: Self = Announcements {
        left: 0,
        next: Timer::OFF,
    };

    /// `count` announcements, the first at `now`; zero stops them.
    fn start(&mut self, count: u8, now: Instant) {
        self.left = count;
        self.next = if count > 0 {
            Timer::at(now)
        } else {
            Timer::OFF
        };
    }

    fn due(&self, now: Instant) -> bool {
        self.left > 0 && self.next.due(now)
    }

    fn left(&self) -> u8 {
        self.left
    }

    /// One went out at `now`; the next follows `retrans` later (RFC 9131
    /// §6.1.2 spaces them RetransTimer apart).
    fn sent(&mut self, now: Instant, retrans: Duration) {
        self.left = self.left.saturating_sub(1);
        self.next = if self.left > 0 {
            Timer::at(now + retrans)
        } else {
            Timer::OFF
        };
    }

    fn deadline(&self) -> Option<Instant> {
        if self.left > 0 { self.next.get() } else { None }
    }

    fn catch_up(&mut self, now: Instant, max: Duration) {
        self.next.catch_up(now, max);
    }
}

/// Without the `gratuitous-na` feature: nothing is ever announced.
#[cfg(not(feature = "gratuitous-na"))]
#[derive(Debug, Clone, Copy)]
struct Announcements;

#[cfg(not(feature = "gratuitous-na"))]
impl Announcements {
    const NONE: Self = Announcements;

    fn start(&mut self, _count: u8, _now: Instant) {}

    fn due(&self, _now: Instant) -> bool {
        false
    }

    fn left(&self) -> u8 {
        0
    }

    fn sent(&mut self, _now: Instant, _retrans: Duration) {}

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn catch_up(&mut self, _now: Instant, _max: Duration) {}
}

/// An address and the machinery around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    a: Address,
    /// The identifier came from the MAC (modified EUI-64).
    eui64: bool,
    /// DAD timer; off when DAD is not running.
    dad_next: Timer,
    dad_sent: u8,
    dad_target: u8,
    dad_extensions: u8,
    /// Nonces of the latest probes, for spotting loopback (RFC 7527 §4.2).
    nonces: [[u8; DAD_NONCE_LEN]; 3],
    nonce_at: u8,
    /// Gratuitous advertisements still to send (see [`Slot::announce`]).
    gna: Announcements,
    /// DAD conflicts so far for this prefix.
    conflicts: u8,
    /// A duplicate waiting for a new identifier: when to try; off when
    /// given up (a tombstone).
    regen_at: Timer,
}

impl Slot {
    /// A slot for `a`, which has had `conflicts` DAD conflicts so far;
    /// `eui64`: its identifier came from the MAC.
    pub fn new(a: Address, eui64: bool, conflicts: u8) -> Self {
        Slot {
            a,
            eui64,
            dad_next: Timer::OFF,
            dad_sent: 0,
            dad_target: 0,
            dad_extensions: 0,
            nonces: [[0; DAD_NONCE_LEN]; 3],
            nonce_at: 0,
            gna: Announcements::NONE,
            conflicts,
            regen_at: Timer::OFF,
        }
    }

    /// The address.
    #[inline]
    pub fn address(&self) -> &Address {
        &self.a
    }

    /// The address, to corrupt on purpose in the invariant tests.
    #[cfg(test)]
    pub fn raw_mut(&mut self) -> &mut Address {
        &mut self.a
    }

    /// The identifier came from the MAC (modified EUI-64).
    pub fn eui64(&self) -> bool {
        self.eui64
    }

    /// DAD conflicts so far for this prefix.
    pub fn conflicts(&self) -> u8 {
        self.conflicts
    }

    /// When the next DAD step (probe or completion) is due; `None` when
    /// DAD is not running.
    pub fn dad_deadline(&self) -> Option<Instant> {
        self.dad_next.get()
    }

    /// (Re)start DAD as the link comes up ([RFC 4862 §5.4.2]): optimistic
    /// ([RFC 4429 §3.3]) from `now`, announced to the routers with
    /// `announcements` gratuitous advertisements if global ([RFC 9131]
    /// §6.1.2), or tentative from `first`, not announced ([RFC 4862 §5.4]:
    /// a tentative address is never advertised, so announcements left
    /// from before the link went down are dropped: found by the stack_ops
    /// fuzz target). Returns the new state.
    ///
    /// [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
    /// [RFC 4429 §3.3]: https://www.rfc-editor.org/rfc/rfc4429#section-3.3
    /// [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
    /// [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
    pub fn restart_dad(
        &mut self,
        optimistic: bool,
        first: Instant,
        transmits: u8,
        announcements: u8,
        now: Instant,
    ) -> AddrState {
        let state = if optimistic {
            AddrState::Optimistic
        } else {
            AddrState::Tentative
        };
        self.start_dad(if optimistic { now } else { first }, transmits);
        self.a.state = state;
        if self.a.is_global() && optimistic {
            self.announce(announcements, now);
        } else {
            self.stop_announcing();
        }
        state
    }

    /// DAD passed (RFC 4862 §5.4): preferred, or deprecated if its
    /// preferred lifetime is over (RFC 4429 §3.3). Without optimistic DAD
    /// a global address is announced as it becomes preferred (RFC 9131
    /// §6.1.2), with `announcements` advertisements from `now`.
    fn dad_passed(&mut self, clock: &Clock, announcements: u8) -> Address {
        self.stop_dad();
        let was_optimistic = self.a.state == AddrState::Optimistic;
        self.a.state = if clock.expired(self.a.preferred_until) {
            AddrState::Deprecated
        } else {
            AddrState::Preferred
        };
        if !was_optimistic && self.a.is_global() && self.a.state == AddrState::Preferred {
            self.announce(announcements, clock.now);
        }
        self.a
    }

    /// Announce the address with `count` gratuitous advertisements (RFC
    /// 9131 §6.1.2), the first at `now`; zero stops them.
    pub fn announce(&mut self, count: u8, now: Instant) {
        self.gna.start(count, now);
    }

    /// Stop announcing: the address is tentative again or duplicate (RFC
    /// 4862 §5.4: never advertised while tentative).
    pub fn stop_announcing(&mut self) {
        self.announce(0, Instant::ZERO);
    }

    /// Whether an announcement is due at `now`.
    pub fn announcement_due(&self, now: Instant) -> bool {
        self.gna.due(now)
    }

    /// Announcements left to send.
    pub fn announcements_left(&self) -> u8 {
        self.gna.left()
    }

    /// One announcement went out at `now`; the next, if any, follows
    /// RetransTimer later ([RFC 9131 §6.1.2]).
    ///
    /// [RFC 9131 §6.1.2]: https://www.rfc-editor.org/rfc/rfc9131#section-6.1.2
    pub fn announced(&mut self, now: Instant, retrans: Duration) {
        self.gna.sent(now, retrans);
    }

    /// DAD found the address in use ([RFC 4862 §5.4.5]): it stops probing
    /// and announcing, becomes DUPLICATE, and its next attempt is due at
    /// `retry_at`. Returns the conflicts so far, this one included.
    ///
    /// [RFC 4862 §5.4.5]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.5
    pub fn mark_duplicate(&mut self, retry_at: Instant) -> u8 {
        self.stop_dad();
        self.stop_announcing();
        self.a.state = AddrState::Duplicate;
        self.regen_at = Timer::at(retry_at);
        self.conflicts = self.conflicts.saturating_add(1);
        self.conflicts
    }

    /// Start DAD with `transmits` probes, the first at `first`.
    pub fn start_dad(&mut self, first: Instant, transmits: u8) {
        self.dad_next = Timer::at(first);
        self.dad_sent = 0;
        self.dad_target = transmits;
        self.dad_extensions = 0;
        self.nonces = [[0; DAD_NONCE_LEN]; 3];
    }

    pub fn dad_running(&self) -> bool {
        self.dad_next.is_set()
    }

    /// [RFC 4862 §5.4.2]: `DupAddrDetectTransmits` probes RetransTimer
    /// apart, then unique if nothing was heard RetransTimer after the last.
    ///
    /// [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
    pub fn dad_step(&self, now: Instant) -> DadStep {
        if !self.dad_next.due(now) {
            DadStep::Wait
        } else if self.dad_sent < self.dad_target {
            DadStep::Probe
        } else {
            DadStep::Done
        }
    }

    /// A probe with `nonce` went out.
    pub fn probe_sent(&mut self, now: Instant, retrans: Duration, nonce: [u8; DAD_NONCE_LEN]) {
        let i = usize::from(self.nonce_at)
            .checked_rem(self.nonces.len())
            .unwrap_or(0);
        if let Some(n) = self.nonces.get_mut(i) {
            *n = nonce;
        }
        self.nonce_at = self.nonce_at.wrapping_add(1);
        self.dad_sent = self.dad_sent.saturating_add(1);
        self.dad_next = Timer::at(now + retrans);
    }

    /// The nonce is one of ours: the probe looped back.
    pub fn sent_nonce(&self, nonce: &[u8]) -> bool {
        self.dad_sent > 0 && self.nonces.iter().any(|n| n.as_slice() == nonce)
    }

    /// [RFC 7527 §4.1]: a looped-back probe extends DAD by
    /// MAX_MULTICAST_SOLICIT probes, at most `limit` times.
    ///
    /// [RFC 7527 §4.1]: https://www.rfc-editor.org/rfc/rfc7527#section-4.1
    pub fn extend_dad(&mut self, limit: u8) {
        if self.dad_running() && self.dad_extensions < limit {
            self.dad_extensions = self.dad_extensions.saturating_add(1);
            self.dad_target = self.dad_target.saturating_add(MAX_MULTICAST_SOLICIT);
        }
    }

    pub fn stop_dad(&mut self) {
        self.dad_next = Timer::OFF;
    }

    /// Apply a Prefix Information option's lifetimes to this SLAAC
    /// address ([RFC 4862 §5.5.3] e): the preferred lifetime always, the
    /// valid lifetime by the two-hour rule.
    ///
    /// Returns the new state when the preferred lifetime changed it: a
    /// new one revives a deprecated address, and a zero one deprecates a
    /// preferred address at once.
    ///
    /// [RFC 4862 §5.5.3]: https://www.rfc-editor.org/rfc/rfc4862#section-5.5.3
    pub fn refresh(
        &mut self,
        preferred: Expiry,
        valid: Expiry,
        clock: &Clock,
    ) -> Option<AddrState> {
        self.a.preferred_until = preferred;
        // Seconds left; `None` is infinite.
        let remaining = clock.secs_left(self.a.valid_until);
        let received = clock.secs_left(valid);
        match (received, remaining) {
            // 1. Infinite, more than two hours, or more than what remains:
            //    take it.
            (None, _) => self.a.valid_until = valid,
            (Some(r), _) if r > TWO_HOURS_S => self.a.valid_until = valid,
            (Some(r), Some(left)) if r > left => self.a.valid_until = valid,
            // 2. At most two hours left: ignore (advertisements are not
            //    authenticated here).
            (Some(_), Some(left)) if left <= TWO_HOURS_S => {}
            // 3. Otherwise: two hours.
            (Some(_), _) => self.a.valid_until = clock.expiry_in(TWO_HOURS_S),
        }
        let over = clock.expired(preferred);
        let state = match self.a.state {
            AddrState::Deprecated if !over => AddrState::Preferred,
            AddrState::Preferred if over => AddrState::Deprecated,
            _ => return None,
        };
        self.a.state = state;
        Some(state)
    }

    /// The next time anything about this slot needs attention: each timer
    /// counts only while its state says it runs.
    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        let duplicate = self.a.state == AddrState::Duplicate;
        let mut next = self.dad_next.get();
        if duplicate {
            next = sooner(next, self.regen_at.get());
        } else {
            next = sooner(next, self.gna.deadline());
        }
        // The lifetimes: compared as expiries first, so one is converted.
        let life = if self.a.state == AddrState::Preferred {
            self.a.preferred_until.min(self.a.valid_until)
        } else {
            self.a.valid_until
        };
        sooner(next, clock.deadline(life))
    }
}

/// The address table.
#[derive(Debug, Clone)]
pub(crate) struct AddressTable {
    slots: heapless::Vec<Slot, ADDRESSES>,
}

impl AddressTable {
    pub fn new() -> Self {
        AddressTable {
            slots: heapless::Vec::new(),
        }
    }

    /// Add a slot; `None` when the table is full or holds the address.
    pub fn add(&mut self, slot: Slot) -> Option<usize> {
        if self.find(&slot.a.addr.get()).is_some() {
            return None;
        }
        self.slots.push(slot).ok()?;
        self.slots.len().checked_sub(1)
    }

    pub fn remove(&mut self, i: usize) -> Option<Slot> {
        (i < self.slots.len()).then(|| self.slots.remove(i))
    }

    pub fn find(&self, addr: &Ipv6Addr) -> Option<(usize, &Address)> {
        self.slots
            .iter()
            .enumerate()
            .find(|(_, s)| s.a.addr.get() == *addr)
            .map(|(i, s)| (i, &s.a))
    }

    pub fn slot(&self, i: usize) -> Option<&Slot> {
        self.slots.get(i)
    }

    pub fn slot_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.slots.get_mut(i)
    }

    /// The SLAAC slot (address or tombstone) for this /64 prefix.
    pub fn find_prefix(&self, prefix: &Ipv6Addr) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.a.origin == Origin::Slaac && crate::wire::in_prefix(&s.a.addr.get(), prefix, 64)
        })
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Address> {
        self.slots.iter().map(|s| &s.a)
    }

    /// Whether packets to `dst` are for this interface: an address that
    /// can receive, all-nodes, or the solicited-node group of any address
    /// that is not a duplicate (DAD needs tentative ones).
    pub fn accepts(&self, dst: &Ipv6Addr) -> bool {
        if *dst == MulticastAddr::ALL_NODES.get() {
            return true;
        }
        // A solicited-node group matches on its low 24 bits (RFC 4291
        // §2.7.1): one test of the prefix, then three bytes per address.
        if crate::wire::is_solicited_node(dst) {
            let [.., d13, d14, d15] = dst.octets();
            return self.slots.iter().any(|s| {
                let [.., a13, a14, a15] = s.a.addr.get().octets();
                s.a.listens() && [a13, a14, a15] == [d13, d14, d15]
            });
        }
        self.slots
            .iter()
            .any(|s| s.a.addr.get() == *dst && s.a.can_receive())
    }

    /// The solicited-node groups to listen to.
    pub fn groups(&self) -> impl Iterator<Item = MulticastAddr> + '_ {
        self.slots
            .iter()
            .filter(|s| s.a.listens())
            .map(|s| s.a.addr.solicited_node())
    }

    /// A source for a solicitation to `target`: `preferred` if it is ours
    /// and may solicit ([RFC 4861 §7.2.2]), else one of the same scope, else
    /// any that may solicit. Never optimistic or tentative.
    ///
    /// [RFC 4861 §7.2.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.2
    pub fn solicit_source(
        &self,
        target: &Ipv6Addr,
        preferred: Option<Ipv6Addr>,
    ) -> Option<Ipv6Addr> {
        let ok = |a: &&Address| a.can_solicit();
        if let Some(p) = preferred
            && self.iter().filter(ok).any(|a| a.addr.get() == p)
        {
            return Some(p);
        }
        let ll = is_link_local(target);
        self.iter()
            .filter(ok)
            .find(|a| a.addr.is_link_local() == ll)
            .or_else(|| self.iter().find(ok))
            .map(|a| a.addr.get())
    }

    /// The link-local address, whatever its state.
    pub fn link_local(&self) -> Option<&Address> {
        self.iter().find(|a| a.origin == Origin::LinkLocal)
    }

    /// Run the first address timer that is due (lifetimes, regeneration,
    /// DAD, announcements) and say what it did or asks for; `None` when
    /// none is due. Without `sends`, only the timers that change state
    /// without a message to send (`Stack::handle_timeout`): probes and
    /// announcements stay due. Probes and announcements are recorded as
    /// sent here, `retrans` apart ([RFC 4861 §10] RetransTimer), with a
    /// nonce from `rng`; `announcements` is how many a newly preferred
    /// address gets.
    ///
    /// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
    pub fn poll(
        &mut self,
        clock: &Clock,
        retrans: Duration,
        announcements: u8,
        rng: &mut Rng,
        sends: bool,
    ) -> Option<AddrDue> {
        let now = clock.now;
        for i in 0..self.slots.len() {
            let slot = self.slots.get_mut(i)?;
            // RFC 4862 §5.5.4: invalid when the valid lifetime ends.
            if clock.expired(slot.a.valid_until) {
                return self.remove(i).map(|old| AddrDue::Expired(old.a));
            }
            if slot.a.state == AddrState::Duplicate {
                if slot.regen_at.due(now) {
                    return Some(AddrDue::Regenerate(i));
                }
                continue;
            }
            match slot.dad_step(now) {
                DadStep::Probe if sends => {
                    let mut nonce = [0u8; DAD_NONCE_LEN];
                    rng.fill(&mut nonce);
                    slot.probe_sent(now, retrans, nonce);
                    return Some(AddrDue::Probe {
                        target: slot.a.addr,
                        nonce,
                    });
                }
                DadStep::Done => {
                    return Some(AddrDue::Assigned(slot.dad_passed(clock, announcements)));
                }
                DadStep::Probe | DadStep::Wait => {}
            }
            // RFC 4862 §5.5.4: deprecated when the preferred lifetime ends.
            if slot.a.state == AddrState::Preferred && clock.expired(slot.a.preferred_until) {
                slot.a.state = AddrState::Deprecated;
                return Some(AddrDue::Deprecated(slot.a));
            }
            if sends && slot.announcement_due(now) {
                slot.announced(now, retrans);
                return Some(AddrDue::Announce(slot.a.addr));
            }
        }
        None
    }

    /// When the next DAD step (probe or completion) of any address is due.
    pub fn next_dad_event(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.dad_next.get())
            .reduce(Instant::earlier)
    }

    /// Bring timers due for more than `max` to `now` (see
    /// `Timer::catch_up`).
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        for s in self.slots.iter_mut() {
            s.dad_next.catch_up(now, max);
            s.gna.catch_up(now, max);
            s.regen_at.catch_up(now, max);
        }
    }

    /// The earliest deadline of any slot.
    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        self.slots
            .iter()
            .fold(None, |next, s| sooner(next, s.next_deadline(clock)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> UnicastAddr {
        UnicastAddr::new(s.parse().unwrap()).unwrap()
    }

    fn addr(s: &str, state: AddrState) -> Slot {
        Slot::new(
            Address {
                addr: a(s),
                prefix_len: 64,
                state,
                origin: if s.starts_with("fe80") {
                    Origin::LinkLocal
                } else {
                    Origin::Slaac
                },
                valid_until: Expiry::NEVER,
                preferred_until: Expiry::NEVER,
                dad_counter: 0,
            },
            false,
            0,
        )
    }

    #[test]
    fn what_each_state_may_do() {
        use AddrState::*;
        // (state, source, receive, solicit, listen)
        for (s, src, rcv, sol, lst) in [
            (Tentative, false, false, false, true),
            (Optimistic, true, true, false, true),
            (Preferred, true, true, true, true),
            (Deprecated, false, true, true, true),
            (Duplicate, false, false, false, false),
        ] {
            let x = addr("2001:db8::1", s).a;
            assert_eq!(
                (
                    x.usable_as_source(),
                    x.can_receive(),
                    x.can_solicit(),
                    x.listens()
                ),
                (src, rcv, sol, lst),
                "{s:?}"
            );
        }
    }

    /// The table runs an address's life from its timers alone: DAD
    /// probes RetransTimer apart (RFC 4862 §5.4.2), assignment, the
    /// announcements of a newly preferred global address (RFC 9131
    /// §6.1.2), deprecation and expiry (RFC 4862 §5.5.4).
    #[test]
    fn poll_runs_dad_announcements_and_lifetimes() {
        let retrans = Duration::from_secs(1);
        let mut rng = Rng::new(1);
        let mut clock = Clock::new(Instant::ZERO);
        let mut t = AddressTable::new();
        let mut slot = addr("2001:db8::1", AddrState::Tentative);
        slot.a.preferred_until = clock.expiry_in(10);
        slot.a.valid_until = clock.expiry_in(20);
        slot.start_dad(Instant::ZERO, 2);
        t.add(slot);
        let mut poll =
            |t: &mut AddressTable, clock: &Clock| t.poll(clock, retrans, 2, &mut rng, true);
        let at = |ms| Instant::from_millis(ms);
        // Two probes, each with a nonce the slot remembers.
        for ms in [0, 1000] {
            clock.advance(at(ms));
            let Some(AddrDue::Probe { target, nonce }) = poll(&mut t, &clock) else {
                panic!("a probe at {ms} ms");
            };
            assert_eq!(target, a("2001:db8::1"));
            assert!(t.slot(0).unwrap().sent_nonce(&nonce));
            assert_eq!(poll(&mut t, &clock), None);
        }
        // RetransTimer after the last: assigned, and announced twice
        // (never without the `gratuitous-na` feature).
        let announce = cfg!(feature = "gratuitous-na").then(|| AddrDue::Announce(a("2001:db8::1")));
        clock.advance(at(1999));
        assert_eq!(poll(&mut t, &clock), None);
        clock.advance(at(2000));
        let Some(AddrDue::Assigned(x)) = poll(&mut t, &clock) else {
            panic!("assigned");
        };
        assert_eq!(x.state, AddrState::Preferred);
        assert_eq!(poll(&mut t, &clock), announce);
        assert_eq!(poll(&mut t, &clock), None);
        clock.advance(at(3000));
        assert_eq!(poll(&mut t, &clock), announce);
        clock.advance(at(4000));
        assert_eq!(poll(&mut t, &clock), None);
        // The lifetimes.
        clock.advance(at(10_000));
        let Some(AddrDue::Deprecated(x)) = poll(&mut t, &clock) else {
            panic!("deprecated");
        };
        assert_eq!(t.slot(0).unwrap().address().state, AddrState::Deprecated);
        assert_eq!(poll(&mut t, &clock), None);
        clock.advance(at(20_000));
        assert_eq!(
            poll(&mut t, &clock),
            Some(AddrDue::Expired(Address {
                state: AddrState::Deprecated,
                ..x
            }))
        );
        assert_eq!(t.len(), 0);
    }

    /// A duplicate waits for its retry time, then asks for a new
    /// identifier (RFC 7217 §6); restarting DAD as the link comes up drops
    /// the announcements of a tentative address (RFC 4862 §5.4).
    #[test]
    fn poll_regenerates_a_duplicate_when_its_wait_is_over() {
        let mut rng = Rng::new(1);
        let mut clock = Clock::new(Instant::ZERO);
        let mut t = AddressTable::new();
        let mut slot = addr("2001:db8::1", AddrState::Optimistic);
        slot.announce(3, Instant::ZERO);
        assert_eq!(
            slot.restart_dad(false, Instant::from_millis(500), 1, 3, Instant::ZERO),
            AddrState::Tentative
        );
        assert_eq!(slot.announcements_left(), 0);
        assert_eq!(slot.mark_duplicate(Instant::from_millis(100)), 1);
        t.add(slot);
        let retrans = Duration::from_secs(1);
        assert_eq!(t.poll(&clock, retrans, 0, &mut rng, true), None);
        clock.advance(Instant::from_millis(100));
        assert_eq!(
            t.poll(&clock, retrans, 0, &mut rng, true),
            Some(AddrDue::Regenerate(0))
        );
    }

    #[test]
    fn solicit_source_never_picks_optimistic_or_tentative() {
        let mut t = AddressTable::new();
        t.add(addr("fe80::1", AddrState::Preferred));
        t.add(addr("2001:db8::1", AddrState::Preferred));
        t.add(addr("2001:db8::2", AddrState::Optimistic));
        t.add(addr("2001:db8::3", AddrState::Tentative));
        let g: Ipv6Addr = "2001:db8::99".parse().unwrap();
        let ll: Ipv6Addr = "fe80::99".parse().unwrap();
        assert_eq!(
            t.solicit_source(&g, Some("fe80::1".parse().unwrap())),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(
            t.solicit_source(&g, None),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            t.solicit_source(&ll, None),
            Some("fe80::1".parse().unwrap())
        );
        // RFC 4429 §3.2: never from an optimistic address.
        assert_eq!(
            t.solicit_source(&g, Some("2001:db8::2".parse().unwrap())),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            t.solicit_source(&g, Some("2001:db8::3".parse().unwrap())),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn accepted_destinations() {
        let mut t = AddressTable::new();
        t.add(addr("fe80::1", AddrState::Preferred));
        t.add(addr("2001:db8::2", AddrState::Tentative));
        t.add(addr("2001:db8::3", AddrState::Duplicate));
        assert!(t.accepts(&"ff02::1".parse().unwrap()));
        assert!(t.accepts(&"fe80::1".parse().unwrap()));
        // Tentative: its group yes (DAD), the address itself no.
        assert!(t.accepts(&"ff02::1:ff00:2".parse().unwrap()));
        assert!(!t.accepts(&"2001:db8::2".parse().unwrap()));
        // Duplicate: neither.
        assert!(!t.accepts(&"ff02::1:ff00:3".parse().unwrap()));
        assert!(!t.accepts(&"2001:db8::3".parse().unwrap()));
        assert!(!t.accepts(&"ff02::2".parse().unwrap()));
        assert_eq!(t.groups().count(), 2);
    }

    #[test]
    fn dad_probes_then_waits_retrans_timer() {
        // RFC 4862 §5.4.2 and §5.1.
        let mut s = addr("2001:db8::1", AddrState::Tentative);
        let t0 = Instant::from_secs(1);
        let rt = Duration::from_secs(1);
        s.start_dad(t0, 2);
        assert_eq!(s.dad_step(t0 - Duration::from_millis(1)), DadStep::Wait);
        assert_eq!(s.dad_step(t0), DadStep::Probe);
        s.probe_sent(t0, rt, [1; 6]);
        assert_eq!(
            s.dad_step(t0 + rt - Duration::from_millis(1)),
            DadStep::Wait
        );
        assert_eq!(s.dad_step(t0 + rt), DadStep::Probe);
        s.probe_sent(t0 + rt, rt, [2; 6]);
        assert_eq!(s.dad_step(t0 + rt + rt), DadStep::Done);
        assert!(s.sent_nonce(&[1; 6]) && s.sent_nonce(&[2; 6]) && !s.sent_nonce(&[3; 6]));
    }

    #[test]
    fn loopback_extends_dad_a_bounded_number_of_times() {
        // RFC 7527 §4.1.
        let mut s = addr("2001:db8::1", AddrState::Tentative);
        s.start_dad(Instant::ZERO, 1);
        s.extend_dad(MAX_DAD_EXTENSIONS);
        assert_eq!(s.dad_target, 1 + MAX_MULTICAST_SOLICIT);
        for _ in 0..10 {
            s.extend_dad(MAX_DAD_EXTENSIONS);
        }
        assert_eq!(s.dad_target, 1 + MAX_MULTICAST_SOLICIT * MAX_DAD_EXTENSIONS);
    }

    #[test]
    fn two_hour_rule() {
        // RFC 4862 §5.5.3 (e), each branch.
        let mut clock = Clock::new(Instant::ZERO);
        clock.advance(Instant::from_secs(1_000_000));
        let clock = clock;
        let h = |x: u32| clock.expiry_in(x * 3600);
        let s_ = |x: u32| clock.expiry_in(x);
        let mut s = addr("2001:db8::1", AddrState::Preferred);
        // 1. Received > 2 h: taken, even when shorter than remaining.
        s.a.valid_until = h(10);
        s.refresh(h(1), h(3), &clock);
        assert_eq!(s.a.valid_until, h(3));
        // 1. Received > remaining: taken.
        s.a.valid_until = s_(600);
        s.refresh(h(1), s_(1200), &clock);
        assert_eq!(s.a.valid_until, s_(1200));
        // 2. Remaining <= 2 h and received shorter: ignored.
        s.a.valid_until = h(2);
        s.refresh(h(1), s_(60), &clock);
        assert_eq!(s.a.valid_until, h(2));
        // 3. Remaining > 2 h, received short: two hours.
        s.a.valid_until = h(5);
        s.refresh(h(1), s_(60), &clock);
        assert_eq!(s.a.valid_until, h(2));
        // Infinite received: taken; infinite remaining and short received:
        // two hours.
        s.refresh(h(1), Expiry::NEVER, &clock);
        assert_eq!(s.a.valid_until, Expiry::NEVER);
        s.refresh(h(1), s_(60), &clock);
        assert_eq!(s.a.valid_until, h(2));
        // The preferred lifetime is always taken.
        s.refresh(s_(0), h(4), &clock);
        assert_eq!(s.a.preferred_until, s_(0));
    }

    #[test]
    #[cfg(feature = "gratuitous-na")]
    fn announcements_go_retrans_timer_apart_then_stop() {
        // RFC 9131 §6.1.2: the count given, RetransTimer apart.
        let mut s = addr("2001:db8::1", AddrState::Preferred);
        let t0 = Instant::from_millis(10_000);
        let retrans = Duration::from_millis(1000);
        s.announce(2, t0);
        assert!(s.announcement_due(t0));
        s.announced(t0, retrans);
        assert_eq!(s.announcements_left(), 1);
        assert!(!s.announcement_due(t0 + Duration::from_millis(999)));
        assert!(s.announcement_due(t0 + retrans));
        s.announced(t0 + retrans, retrans);
        assert_eq!(s.announcements_left(), 0);
        assert!(!s.announcement_due(t0 + Duration::from_secs(100)));
        // Stopping drops what is left; zero announces nothing.
        s.announce(3, t0);
        s.stop_announcing();
        assert!(!s.announcement_due(t0));
        s.announce(0, t0);
        assert!(!s.announcement_due(t0));
    }

    /// Without the `gratuitous-na` feature an address is never announced,
    /// and keeps no state for it.
    #[test]
    #[cfg(not(feature = "gratuitous-na"))]
    fn without_the_feature_nothing_is_announced() {
        let mut s = addr("2001:db8::1", AddrState::Preferred);
        let t0 = Instant::from_millis(10_000);
        s.announce(3, t0);
        assert!(!s.announcement_due(t0));
        assert_eq!(s.announcements_left(), 0);
        assert_eq!(s.next_deadline(&Clock::new(t0)), None);
        assert_eq!(core::mem::size_of::<Announcements>(), 0);
    }

    #[test]
    fn a_duplicate_stops_probing_and_announcing_and_waits_to_retry() {
        // RFC 4862 §5.4.5.
        let mut s = addr("2001:db8::1", AddrState::Optimistic);
        let t0 = Instant::from_millis(10_000);
        s.start_dad(t0, 3);
        s.announce(3, t0);
        let retry = t0 + Duration::from_secs(2);
        assert_eq!(s.mark_duplicate(retry), 1);
        assert_eq!(s.a.state, AddrState::Duplicate);
        assert_eq!(s.dad_next, Timer::OFF);
        assert!(!s.announcement_due(t0));
        assert_eq!(s.regen_at, Timer::at(retry));
        assert_eq!(s.mark_duplicate(retry), 2);
    }
}
