//! The sans-IO facade: [`Stack`].
//!
//! The caller owns the network device, the clock and the buffers. It
//! drives the engine with four verbs:
//!
//! - [`Stack::receive`]: an ICMPv6 message arrived;
//! - [`Stack::poll_transmit`]: write the next packet to send (or to hand to
//!   the local IP stack) into a buffer; call until it returns `None`;
//! - [`Stack::poll_at`]: when to call `poll_transmit` next;
//! - [`Stack::poll_event`]: what changed (neighbors lost, and in later
//!   releases addresses, routers, prefixes, DNS).
//!
//! and the output path: [`Stack::send`] (or [`Stack::route`]) finds the
//! next hop of an outgoing packet and its link-layer address, queueing the
//! packet while the address is being resolved.
//!
//! A loop for a board looks like this:
//!
//! ```
//! use ndp_core::{Config, Stack, time::Instant, wire::MacAddr};
//!
//! let mut stack = Stack::new(Config::new(MacAddr([2, 0, 0, 0, 0, 1])), Instant::ZERO);
//! let mut buf = [0u8; 1500];
//! let now = Instant::from_millis(10);
//! // ... for each received ICMPv6 message: stack.receive(now, &meta, icmp);
//! while let Some(tx) = stack.poll_transmit(now, &mut buf) {
//!     let _packet = &buf[..tx.len]; // an IPv6 packet: frame it and send it
//! }
//! while let Some(_event) = stack.poll_event() {}
//! let _wake_at = stack.poll_at(); // sleep until then, or until a frame arrives
//! ```

use core::net::Ipv6Addr;

use heapless::Deque;

use crate::addr::{AddrState, Address, AddressTable, eui64_link_local};
use crate::config::Config;
use crate::neighbor::queue::{Owner, PacketQueue, Refused};
use crate::neighbor::{
    Admit, Due, Entry, MAX_RANDOM_FACTOR_PERCENT, MIN_RANDOM_FACTOR_PERCENT, Neighbor,
    NeighborCache, NeighborState, REACHABLE_TIME_REDRAW,
};
use crate::rng::Rng;
use crate::stats::{Stats, bump};
use crate::time::{Duration, Instant};
use crate::wire::icmpv6::NEXT_HEADER_ICMPV6;
use crate::wire::ipv6::Ipv6Header;
use crate::wire::validate::ND_HOP_LIMIT;
use crate::wire::{
    self, DestUnreachable, IpMeta, MacAddr, Message, MessageType, MulticastAddr, NdOption,
    NeighborAdvert, NeighborSolicit, Options, RxError, UnicastAddr, UnreachableCode, is_link_local,
    kind,
};

/// Answers (Neighbor Advertisements) waiting to be sent.
const ANSWERS: usize = 4;
/// Events waiting to be collected; older ones are dropped beyond this.
const EVENTS: usize = 8;
/// Hop limit of Destination Unreachable messages handed to the local stack.
const LOCAL_ERROR_HOP_LIMIT: u8 = 64;

/// The IPv6 header fields of a received ICMPv6 message, and the Ethernet
/// source of its frame when the caller has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RxMeta {
    /// IPv6 source.
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// IPv6 hop limit as received.
    pub hop_limit: u8,
    /// Ethernet source address of the frame.
    pub src_mac: Option<MacAddr>,
}

/// Something that changed, for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// Address resolution for `neighbor` failed; `dropped` queued packets
    /// were answered with Destination Unreachable (RFC 4861 §7.2.2).
    ResolutionFailed {
        /// The unresolved neighbor.
        neighbor: Ipv6Addr,
        /// Packets that were waiting for it.
        dropped: u16,
    },
    /// Neighbor Unreachability Detection gave up on `neighbor` and removed
    /// it (RFC 4861 §7.3.3).
    NeighborUnreachable {
        /// The lost neighbor.
        neighbor: Ipv6Addr,
        /// It was a router.
        was_router: bool,
    },
}

/// Where a packet from [`Stack::poll_transmit`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// Onto the link, in an Ethernet frame to this address.
    Link(MacAddr),
    /// To the local IP stack, as if received (an ICMPv6 error about one of
    /// its own packets).
    Local,
}

/// What a packet from [`Stack::poll_transmit`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransmitKind {
    /// A Neighbor Discovery message of the engine's own.
    Ndp,
    /// A packet that waited for address resolution.
    Released,
    /// A Destination Unreachable for a packet whose next hop could not be
    /// resolved.
    Unreachable,
}

/// A packet [`Stack::poll_transmit`] wrote: a whole IPv6 packet in
/// `buf[..len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Bytes written.
    pub len: usize,
    /// Where it goes.
    pub delivery: Delivery,
    /// What it is.
    pub kind: TransmitKind,
}

/// The next hop of a destination (RFC 4861 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NextHop {
    /// A neighbor whose link-layer address is known.
    Resolved {
        /// The neighbor's address.
        neighbor: Ipv6Addr,
        /// Its link-layer address.
        mac: MacAddr,
    },
    /// A neighbor being resolved: queue the packet ([`Stack::send`] does).
    Resolving {
        /// The neighbor's address.
        neighbor: Ipv6Addr,
    },
    /// A multicast destination, sent to its group MAC (RFC 2464 §7).
    Multicast(MacAddr),
}

/// Why no next hop could be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteError {
    /// The destination is not on-link and there is no default router.
    NoRoute,
    /// The neighbor table is full of entries that may not be given up.
    TableFull,
    /// Too many addresses are already being resolved (RFC 6583 §6).
    TooManyUnresolved,
}

/// What [`Stack::send`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Dispatch {
    /// Send it now in a frame to this address.
    Transmit(MacAddr),
    /// The engine kept a copy; it comes out of [`Stack::poll_transmit`]
    /// once resolved, or is answered with a Destination Unreachable.
    Queued,
}

/// Why [`Stack::send`] dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// Not a well-formed IPv6 packet.
    Malformed,
    /// See [`RouteError`].
    Route(RouteError),
    /// Larger than the queue's whole byte budget.
    TooBig,
    /// The queue has no room for it now.
    QueueFull,
}

/// A Neighbor Advertisement to send.
#[derive(Debug, Clone, Copy)]
struct Answer {
    dst: Ipv6Addr,
    dst_mac: MacAddr,
    /// The advertised address (ours when the answer was queued).
    target: Ipv6Addr,
    solicited: bool,
    override_flag: bool,
}

/// ReachableTime, randomized around BaseReachableTime (RFC 4861 §6.3.2).
#[derive(Debug, Clone)]
struct ReachableTime {
    base: Duration,
    current: Duration,
    redraw_at: Instant,
}

impl ReachableTime {
    fn new(base: Duration, now: Instant, rng: &mut Rng) -> Self {
        let mut r = ReachableTime {
            base,
            current: base,
            redraw_at: now,
        };
        r.redraw(now, rng);
        r
    }

    /// A new value uniformly in [MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR] ×
    /// base (RFC 4861 §6.3.2).
    fn redraw(&mut self, now: Instant, rng: &mut Rng) {
        let base = self.base.as_millis();
        let lo = base.saturating_mul(MIN_RANDOM_FACTOR_PERCENT) / 100;
        let hi = base.saturating_mul(MAX_RANDOM_FACTOR_PERCENT) / 100;
        self.current = Duration::from_millis(rng.in_range(lo, hi));
        self.redraw_at = now + REACHABLE_TIME_REDRAW;
    }

    /// The value to use now, redrawn when it is hours old (RFC 4861 §6.3.4).
    fn get(&mut self, now: Instant, rng: &mut Rng) -> Duration {
        if now >= self.redraw_at {
            self.redraw(now, rng);
        }
        self.current
    }
}

/// Global budget for multicast solicitations (RFC 6583 §6).
#[derive(Debug, Clone)]
struct TokenBucket {
    tokens: u16,
    burst: u16,
    refill: Duration,
    last: Instant,
}

impl TokenBucket {
    fn new(burst: u16, refill: Duration, now: Instant) -> Self {
        TokenBucket {
            tokens: burst,
            burst,
            refill,
            last: now,
        }
    }

    /// Take a token, or say when the next one comes.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let step = self.refill.as_millis();
        if step == 0 || self.burst == 0 {
            return Ok(());
        }
        let elapsed = now.saturating_duration_since(self.last).as_millis();
        let earned = elapsed.checked_div(step).unwrap_or(0);
        if earned > 0 {
            let earned16 = u16::try_from(earned).unwrap_or(u16::MAX);
            self.tokens = self.tokens.saturating_add(earned16).min(self.burst);
            self.last = if self.tokens == self.burst {
                now
            } else {
                self.last + Duration::from_millis(earned.saturating_mul(step))
            };
        }
        if self.tokens == 0 {
            return Err(self.last + self.refill);
        }
        self.tokens = self.tokens.saturating_sub(1);
        if self.tokens.saturating_add(1) == self.burst {
            // The bucket was full: refilling starts now.
            self.last = now;
        }
        Ok(())
    }
}

/// The engine: neighbor cache, address table, queues and timers for one
/// Ethernet interface.
///
/// Capacities are type parameters with defaults: `NEIGHBORS` neighbor
/// entries (default 8), and a resolution queue of `QUEUE_SLOTS` packets
/// (default 4) sharing `QUEUE_BYTES` bytes (default 3072). RAM per
/// neighbor entry is `size_of::<Option<Entry>>()` (48 bytes on a 32-bit
/// MCU); each queue slot costs 4 bytes plus its share of `QUEUE_BYTES`.
///
/// ```
/// use ndp_core::{Config, Stack, time::Instant, wire::MacAddr};
/// // Defaults:
/// let s = Stack::new(Config::new(MacAddr([2, 0, 0, 0, 0, 1])), Instant::ZERO);
/// assert_eq!(s.addresses().count(), 1); // the link-local address
/// // A bigger neighbor table and queue:
/// let big: Stack<32, 16, 8192> = Stack::with_capacity(Config::new(MacAddr([2, 0, 0, 0, 0, 1])), Instant::ZERO);
/// # let _ = big;
/// ```
#[derive(Debug, Clone)]
pub struct Stack<
    const NEIGHBORS: usize = 8,
    const QUEUE_SLOTS: usize = 4,
    const QUEUE_BYTES: usize = 3072,
> {
    config: Config,
    rng: Rng,
    /// Latest time seen; time never goes backwards inside the engine.
    now: Instant,
    neighbors: NeighborCache<NEIGHBORS>,
    queue: PacketQueue<QUEUE_SLOTS, QUEUE_BYTES>,
    addrs: AddressTable,
    answers: Deque<Answer, ANSWERS>,
    events: Deque<Event, EVENTS>,
    stats: Stats,
    reachable: ReachableTime,
    retrans_timer: Duration,
    ns_budget: TokenBucket,
}

impl Stack {
    /// A stack with default capacities. It configures the modified EUI-64
    /// link-local address of `config.mac` at once.
    pub fn new(config: Config, now: Instant) -> Self {
        Self::with_capacity(config, now)
    }
}

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// A stack with the capacities of its type parameters.
    pub fn with_capacity(config: Config, now: Instant) -> Self {
        let mut rng = Rng::new(config.seed);
        let reachable = ReachableTime::new(config.base_reachable_time, now, &mut rng);
        let mut addrs = AddressTable::new();
        addrs.add(Address {
            addr: eui64_link_local(config.mac),
            prefix_len: 64,
            state: AddrState::Preferred,
        });
        Stack {
            rng,
            now,
            neighbors: NeighborCache::new(),
            queue: PacketQueue::new(),
            addrs,
            answers: Deque::new(),
            events: Deque::new(),
            stats: Stats::default(),
            reachable,
            retrans_timer: config.retrans_timer,
            ns_budget: TokenBucket::new(config.ns_burst, config.ns_refill, now),
            config,
        }
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    // ---------------------------------------------------------------- receive

    /// Hand the engine a received ICMPv6 message (`icmp`, from its type
    /// field on) with its IPv6 header fields.
    ///
    /// Returns `true` when the message was Neighbor Discovery or MLD and so
    /// belongs to the engine, whatever it did with it (malformed and
    /// invalid messages are counted in [`Stats`], never a panic), and
    /// `false` for anything else (echo, errors), which the caller passes to
    /// its IP stack.
    pub fn receive(&mut self, now: Instant, meta: &RxMeta, icmp: &[u8]) -> bool {
        self.advance(now);
        let ty = icmp.first().and_then(|t| MessageType::from_u8(*t));
        if !ty.is_some_and(|t| t.is_ndp() || t.is_mld()) {
            return false;
        }
        let ip = IpMeta {
            src: meta.src,
            dst: meta.dst,
            hop_limit: meta.hop_limit,
        };
        let msg = match wire::parse_received(&ip, icmp) {
            Ok(msg) => msg,
            Err(RxError::Malformed(e)) => {
                self.stats.malformed(e);
                return true;
            }
            Err(RxError::Invalid(e)) => {
                self.stats.invalid(e);
                return true;
            }
        };
        if !self.addrs.accepts(&meta.dst) {
            bump(&mut self.stats.rx_not_for_us);
            return true;
        }
        match msg {
            // RFC 4861 §6.1.1: hosts silently discard Router Solicitations.
            Message::RouterSolicit(_) => bump(&mut self.stats.rx_rs_ignored),
            Message::RouterAdvert(ra) => self.on_router_advert(meta, &ra.options),
            Message::NeighborSolicit(ns) => self.on_neighbor_solicit(meta, &ns),
            Message::NeighborAdvert(na) => self.on_neighbor_advert(&na),
            _ => bump(&mut self.stats.rx_unhandled),
        }
        true
    }

    /// The well-formed link-layer address option of `kind`; `Err` when
    /// one is present but malformed (such a message is dropped, as Linux
    /// does: its sender cannot be reached at that address).
    fn link_addr(&mut self, options: &Options<'_>, kind: u8) -> Result<Option<MacAddr>, ()> {
        let mut found = None;
        for o in options.iter() {
            match o {
                Ok(NdOption::SourceLinkAddr(m)) if kind == kind::SOURCE_LINK_ADDR => {
                    found = found.or(Some(m));
                }
                Ok(NdOption::TargetLinkAddr(m)) if kind == kind::TARGET_LINK_ADDR => {
                    found = found.or(Some(m));
                }
                Err(e) if e.kind == kind => {
                    self.stats.malformed(e.error);
                    return Err(());
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// Router Advertisement: its effect on the neighbor cache
    /// (RFC 4861 §6.3.4). Router and prefix processing comes later.
    fn on_router_advert(&mut self, meta: &RxMeta, options: &Options<'_>) {
        let Ok(slla) = self.link_addr(options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_ra);
        match slla {
            // Record the address, create the entry if needed (STALE), and
            // set IsRouter.
            Some(mac) => self.learn(meta.src, mac, true, Admit::Router),
            // Without one, an existing entry still becomes a router.
            None => {
                if let Some(e) = self
                    .neighbors
                    .find(&meta.src)
                    .and_then(|i| self.neighbors.get_mut(i))
                {
                    e.is_router = true;
                }
            }
        }
    }

    /// Record `mac` for `addr` from an NS, RA or Redirect (RFC 4861 §7.2.3,
    /// §6.3.4, §8.3), creating a STALE entry if there is none.
    fn learn(&mut self, addr: Ipv6Addr, mac: MacAddr, router: bool, admit: Admit) {
        let now = self.now;
        if let Some(e) = self
            .neighbors
            .find(&addr)
            .and_then(|i| self.neighbors.get_mut(i))
        {
            e.on_link_addr(mac);
            if router {
                e.is_router = true;
            }
            return;
        }
        let queue = &self.queue;
        let busy = |i: usize| u16::try_from(i).is_ok_and(|i| queue.count(Owner::Neighbor(i)) > 0);
        match self
            .neighbors
            .insert(Entry::stale(addr, mac, router, now), admit, busy)
        {
            Some((_, evicted)) => {
                if evicted {
                    bump(&mut self.stats.nc_evicted);
                }
            }
            None => bump(&mut self.stats.nc_create_refused),
        }
    }

    /// Neighbor Solicitation (RFC 4861 §7.2.3, §7.2.4).
    fn on_neighbor_solicit(&mut self, meta: &RxMeta, ns: &NeighborSolicit<'_>) {
        let Ok(slla) = self.link_addr(&ns.options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_ns);
        // RFC 4861 §7.2.3: only solicitations for our own addresses count.
        if self.addrs.find(&ns.target).is_none() {
            bump(&mut self.stats.rx_ns_not_for_us);
            return;
        }
        let target = ns.target;
        if meta.src.is_unspecified() {
            // Someone is probing an address we hold (RFC 4862 §5.4.3):
            // defend it with an advertisement to all nodes, S=0 (RFC 4861
            // §7.2.4).
            let all = MulticastAddr::ALL_NODES;
            self.answer(Answer {
                dst: all.get(),
                dst_mac: all.mac(),
                target,
                solicited: false,
                override_flag: true,
            });
            return;
        }
        // RFC 4861 §7.2.3: record the source's link-layer address.
        if let Some(mac) = slla {
            self.learn(meta.src, mac, false, Admit::Unsolicited);
        }
        // RFC 4861 §7.2.4: answer the source with S=1. The answer goes to
        // the address it told us, else the cached one, else the frame's
        // source; sending it does not start NUD, so a flood of
        // solicitations cannot make us probe every spoofed source.
        let cached = self
            .neighbors
            .find(&meta.src)
            .and_then(|i| self.neighbors.get(i))
            .and_then(|e| e.view().mac);
        match slla.or(cached).or(meta.src_mac) {
            Some(dst_mac) => {
                self.answer(Answer {
                    dst: meta.src,
                    dst_mac,
                    target,
                    solicited: true,
                    override_flag: true,
                });
            }
            None => bump(&mut self.stats.tx_answer_dropped),
        }
    }

    fn answer(&mut self, a: Answer) {
        if self.answers.push_back(a).is_err() {
            bump(&mut self.stats.tx_answer_dropped);
        }
    }

    /// Neighbor Advertisement (RFC 4861 §7.2.5).
    fn on_neighbor_advert(&mut self, na: &NeighborAdvert<'_>) {
        let Ok(tlla) = self.link_addr(&na.options, kind::TARGET_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_na);
        if self.addrs.find(&na.target).is_some() {
            bump(&mut self.stats.rx_na_for_own_address);
            return;
        }
        // RFC 4861 §7.2.5: no entry, no effect; a host never creates one
        // from an advertisement.
        let Some(i) = self.neighbors.find(&na.target) else {
            bump(&mut self.stats.rx_na_no_entry);
            return;
        };
        let reachable = self.reachable.get(self.now, &mut self.rng);
        let now = self.now;
        let Some(e) = self.neighbors.get_mut(i) else {
            return;
        };
        let effect = e.on_na(
            na.solicited_flag,
            na.override_flag,
            na.router_flag,
            tlla,
            now,
            reachable,
        );
        if effect.discarded {
            bump(&mut self.stats.rx_na_incomplete_no_lladdr);
        }
        // Queued packets of a resolved entry leave on the next poll.
    }

    // ------------------------------------------------------------- transmit

    /// Write the next packet to send into `buf` and say where it goes;
    /// `None` when there is nothing to send now. Call it until it returns
    /// `None` after every `receive`, `send` and wake-up: it also runs the
    /// timers that are due.
    ///
    /// Anything that does not fit `buf` is dropped and counted
    /// (`tx_buffer_too_small`); a 1500-byte buffer always suffices for the
    /// engine's own messages.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.advance(now);
        loop {
            if let Some(a) = self.answers.pop_front() {
                match self.write_answer(&a, buf) {
                    Some(Ok(len)) => {
                        bump(&mut self.stats.tx_na);
                        return Some(Transmit {
                            len,
                            delivery: Delivery::Link(a.dst_mac),
                            kind: TransmitKind::Ndp,
                        });
                    }
                    Some(Err(_)) => bump(&mut self.stats.tx_buffer_too_small),
                    None => {}
                }
                continue;
            }
            if let Some(tx) = self.pop_released(buf) {
                return Some(tx);
            }
            if let Some(tx) = self.pop_unreachable(buf) {
                return Some(tx);
            }
            match self.run_timers(buf) {
                Timers::Sent(tx) => return Some(tx),
                Timers::Again => continue,
                Timers::Idle => return None,
            }
        }
    }

    fn write_answer(&self, a: &Answer, buf: &mut [u8]) -> Option<Result<usize, wire::Error>> {
        // The address may have gone since the answer was queued.
        let target = self.addrs.find(&a.target)?.1.addr.get();
        let opts = [NdOption::TargetLinkAddr(self.config.mac)];
        let msg = Message::NeighborAdvert(NeighborAdvert {
            router_flag: false,
            solicited_flag: a.solicited,
            override_flag: a.override_flag,
            target,
            options: Options::from_list(&opts),
        });
        Some(write_icmp(buf, target, a.dst, ND_HOP_LIMIT, &msg))
    }

    /// A Destination Unreachable (code 3) for the oldest packet whose
    /// resolution failed (RFC 4861 §7.2.2), addressed to its sender.
    fn pop_unreachable(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let (slot, _) = self.queue.find(|o| o == Owner::Failed)?;
            let packet = self.queue.packet(slot);
            let written = Ipv6Header::parse(packet).ok().map(|(h, _)| {
                let err = DestUnreachable::new(UnreachableCode::AddressUnreachable, packet);
                write_icmp(
                    buf,
                    h.src,
                    h.src,
                    LOCAL_ERROR_HOP_LIMIT,
                    &Message::DestUnreachable(err),
                )
            });
            self.queue.remove(slot);
            match written {
                Some(Ok(len)) => {
                    bump(&mut self.stats.tx_unreachable);
                    return Some(Transmit {
                        len,
                        delivery: Delivery::Local,
                        kind: TransmitKind::Unreachable,
                    });
                }
                Some(Err(_)) => bump(&mut self.stats.tx_buffer_too_small),
                // Queued packets were checked on the way in; nothing to do.
                None => {}
            }
        }
    }

    /// The oldest queued packet whose neighbor now has a link-layer address.
    fn pop_released(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let neighbors = &self.neighbors;
            let (slot, owner) = self.queue.find(|o| match o {
                Owner::Neighbor(i) => neighbors
                    .get(usize::from(i))
                    .is_none_or(|e| e.state != NeighborState::Incomplete),
                Owner::Failed => false,
            })?;
            let Owner::Neighbor(i) = owner else {
                return None;
            };
            let now = self.now;
            let Some(entry) = self.neighbors.get_mut(usize::from(i)) else {
                // Its entry vanished: cannot happen (entries with queued
                // packets are never evicted), but never lose a packet
                // silently: it gets its Destination Unreachable.
                self.queue.fail(i);
                continue;
            };
            let packet = self.queue.packet(slot);
            let len = packet.len();
            let fits = buf
                .get_mut(..len)
                .map(|out| out.copy_from_slice(packet))
                .is_some();
            self.queue.remove(slot);
            if !fits {
                bump(&mut self.stats.tx_buffer_too_small);
                continue;
            }
            // Sending to a STALE entry starts NUD (RFC 4861 §7.3.3); only a
            // packet that actually leaves counts.
            entry.on_send(now);
            bump(&mut self.stats.tx_released);
            return Some(Transmit {
                len,
                delivery: Delivery::Link(entry.mac),
                kind: TransmitKind::Released,
            });
        }
    }

    /// Run every due neighbor timer; send at most one solicitation.
    fn run_timers(&mut self, buf: &mut [u8]) -> Timers {
        let now = self.now;
        for i in 0..NEIGHBORS {
            let Some(entry) = self.neighbors.get_mut(i) else {
                continue;
            };
            match entry.expire(now) {
                Due::Nothing => {}
                Due::MulticastNs => {
                    // RFC 6583 §6: a global budget for multicast
                    // solicitations; a postponed one keeps its count.
                    if let Err(next) = self.ns_budget.take(now) {
                        entry.deadline = next;
                        bump(&mut self.stats.ns_rate_limited);
                        continue;
                    }
                    return self.solicit(i, true, buf);
                }
                Due::UnicastNs => return self.solicit(i, false, buf),
                Due::ResolutionFailed => {
                    let addr = entry.addr;
                    self.neighbors.remove(i);
                    let n = u16::try_from(i).map_or(0, |i| self.queue.fail(i));
                    let dropped = u16::try_from(n).unwrap_or(u16::MAX);
                    self.stats.queue_unresolved = self
                        .stats
                        .queue_unresolved
                        .saturating_add(u32::from(dropped));
                    self.event(Event::ResolutionFailed {
                        neighbor: addr,
                        dropped,
                    });
                    return Timers::Again;
                }
                Due::Unreachable => {
                    let (addr, was_router) = (entry.addr, entry.is_router);
                    self.neighbors.remove(i);
                    if let Ok(i) = u16::try_from(i) {
                        let n = self.queue.fail(i);
                        self.stats.queue_unresolved = self
                            .stats
                            .queue_unresolved
                            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                    }
                    bump(&mut self.stats.nud_unreachable);
                    self.event(Event::NeighborUnreachable {
                        neighbor: addr,
                        was_router,
                    });
                    return Timers::Again;
                }
            }
        }
        Timers::Idle
    }

    /// Send a solicitation for entry `i`: multicast to its solicited-node
    /// group (address resolution, RFC 4861 §7.2.2) or unicast to it (NUD
    /// probe, §7.3.3), with our link-layer address (§4.3).
    fn solicit(&mut self, i: usize, multicast: bool, buf: &mut [u8]) -> Timers {
        let now = self.now;
        let retrans = self.retrans_timer;
        let Some(entry) = self.neighbors.get(i).copied() else {
            return Timers::Again;
        };
        // RFC 4861 §7.2.2: prefer the source of the packet that prompted
        // the solicitation.
        let prompting = u16::try_from(i)
            .ok()
            .and_then(|o| self.queue.find(|x| x == Owner::Neighbor(o)))
            .and_then(|(slot, _)| Ipv6Header::parse(self.queue.packet(slot)).ok())
            .map(|(h, _)| h.src);
        let src = self.addrs.solicit_source(&entry.addr, prompting);
        let target = UnicastAddr::new(entry.addr);
        if let Some(e) = self.neighbors.get_mut(i) {
            e.solicited(now, retrans);
        }
        let (Some(src), Some(target)) = (src, target) else {
            // No address may solicit yet (or the entry is not unicast):
            // the attempt counts, so resolution still ends.
            bump(&mut self.stats.tx_ns_no_source);
            return Timers::Again;
        };
        let (dst, mac) = if multicast {
            let group = target.solicited_node();
            (group.get(), group.mac())
        } else {
            (entry.addr, entry.mac)
        };
        let opts = [NdOption::SourceLinkAddr(self.config.mac)];
        let msg = Message::NeighborSolicit(NeighborSolicit {
            target: target.get(),
            options: Options::from_list(&opts),
        });
        match write_icmp(buf, src, dst, ND_HOP_LIMIT, &msg) {
            Ok(len) => {
                bump(if multicast {
                    &mut self.stats.tx_ns_multicast
                } else {
                    &mut self.stats.tx_ns_unicast
                });
                Timers::Sent(Transmit {
                    len,
                    delivery: Delivery::Link(mac),
                    kind: TransmitKind::Ndp,
                })
            }
            Err(_) => {
                bump(&mut self.stats.tx_buffer_too_small);
                Timers::Again
            }
        }
    }

    /// When to call [`Stack::poll_transmit`] next: the earliest timer, or
    /// the latest time given to the engine when something is ready now.
    /// `None` when nothing is scheduled.
    pub fn poll_at(&self) -> Option<Instant> {
        let ready_now = !self.answers.is_empty()
            || self
                .queue
                .find(|o| match o {
                    Owner::Failed => true,
                    Owner::Neighbor(i) => self
                        .neighbors
                        .get(usize::from(i))
                        .is_none_or(|e| e.state != NeighborState::Incomplete),
                })
                .is_some();
        if ready_now {
            return Some(self.now);
        }
        self.neighbors.next_deadline()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn event(&mut self, e: Event) {
        if self.events.is_full() {
            self.events.pop_front();
            bump(&mut self.stats.events_dropped);
        }
        // Cannot fail: room was just made.
        let _ = self.events.push_back(e);
    }

    // ---------------------------------------------------------- output path

    /// The next hop for `dst` (RFC 4861 §5.2) and its link-layer address,
    /// starting address resolution when it is unknown. Sending to the
    /// result counts as use for NUD (a STALE neighbor moves to DELAY), so
    /// call this only for a packet that is actually sent.
    ///
    /// Link-local destinations are on-link; routers and on-link prefixes
    /// come with router discovery, until then anything else is
    /// [`RouteError::NoRoute`].
    pub fn route(&mut self, now: Instant, dst: Ipv6Addr) -> Result<NextHop, RouteError> {
        self.advance(now);
        if let Some(group) = MulticastAddr::new(dst) {
            return Ok(NextHop::Multicast(group.mac()));
        }
        if !is_link_local(&dst) {
            return Err(RouteError::NoRoute);
        }
        self.resolve(dst).map(|(_, hop)| hop)
    }

    /// Look up or create the entry for on-link `neighbor`.
    fn resolve(&mut self, neighbor: Ipv6Addr) -> Result<(usize, NextHop), RouteError> {
        let now = self.now;
        if let Some(i) = self.neighbors.find(&neighbor) {
            let Some(e) = self.neighbors.get_mut(i) else {
                return Err(RouteError::TableFull);
            };
            e.on_send(now);
            if e.state == NeighborState::Incomplete {
                return Ok((i, NextHop::Resolving { neighbor }));
            }
            return Ok((
                i,
                NextHop::Resolved {
                    neighbor,
                    mac: e.mac,
                },
            ));
        }
        let max_incomplete = self.config.max_incomplete.unwrap_or(NEIGHBORS / 2).max(1);
        if self.neighbors.incomplete() >= max_incomplete {
            return Err(RouteError::TooManyUnresolved);
        }
        let queue = &self.queue;
        let busy = |i: usize| u16::try_from(i).is_ok_and(|i| queue.count(Owner::Neighbor(i)) > 0);
        match self
            .neighbors
            .insert(Entry::incomplete(neighbor, now), Admit::Resolve, busy)
        {
            Some((i, evicted)) => {
                if evicted {
                    bump(&mut self.stats.nc_evicted);
                }
                Ok((i, NextHop::Resolving { neighbor }))
            }
            None => Err(RouteError::TableFull),
        }
    }

    /// Send an IPv6 packet: find its next hop and either say which MAC to
    /// frame it to, or keep a copy until the next hop is resolved
    /// (RFC 4861 §7.2.2). Every refusal is counted in [`Stats`].
    pub fn send(&mut self, now: Instant, packet: &[u8]) -> Result<Dispatch, SendError> {
        self.advance(now);
        let Ok((header, _)) = Ipv6Header::parse(packet) else {
            bump(&mut self.stats.send_malformed);
            return Err(SendError::Malformed);
        };
        let hop = match self.route(now, header.dst) {
            Ok(NextHop::Multicast(mac)) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolved { mac, .. }) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolving { neighbor }) => neighbor,
            Err(e) => {
                bump(match e {
                    RouteError::NoRoute => &mut self.stats.send_no_route,
                    RouteError::TableFull => &mut self.stats.nc_create_refused,
                    RouteError::TooManyUnresolved => &mut self.stats.resolution_refused,
                });
                return Err(SendError::Route(e));
            }
        };
        let Some(owner) = self
            .neighbors
            .find(&hop)
            .and_then(|i| u16::try_from(i).ok())
        else {
            bump(&mut self.stats.queue_no_space);
            return Err(SendError::QueueFull);
        };
        match self
            .queue
            .push(owner, packet, self.config.queue_per_neighbor)
        {
            Ok(replaced) => {
                if replaced {
                    bump(&mut self.stats.queue_overflow);
                }
                Ok(Dispatch::Queued)
            }
            Err(Refused::TooBig) => {
                bump(&mut self.stats.queue_no_space);
                Err(SendError::TooBig)
            }
            Err(Refused::NoSpace) => {
                bump(&mut self.stats.queue_no_space);
                Err(SendError::QueueFull)
            }
        }
    }

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1): the caller
    /// saw forward progress with `neighbor` (a TCP ACK for new data, say).
    pub fn confirm_reachable(&mut self, now: Instant, neighbor: &Ipv6Addr) {
        self.advance(now);
        let reachable = self.reachable.get(self.now, &mut self.rng);
        let now = self.now;
        if let Some(e) = self
            .neighbors
            .find(neighbor)
            .and_then(|i| self.neighbors.get_mut(i))
        {
            e.on_confirm(now, reachable);
        }
    }

    // ---------------------------------------------------------------- views

    /// The neighbor cache.
    pub fn neighbors(&self) -> impl Iterator<Item = Neighbor> + '_ {
        self.neighbors.iter().map(|(_, e)| e.view())
    }

    /// The interface's addresses.
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.addrs.iter().copied()
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration the stack was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current ReachableTime (randomized, RFC 4861 §6.3.2).
    pub fn reachable_time(&self) -> Duration {
        self.reachable.current
    }

    /// Current RetransTimer.
    pub fn retrans_timer(&self) -> Duration {
        self.retrans_timer
    }

    /// Packets waiting for address resolution (or for their error).
    pub fn queued_packets(&self) -> usize {
        self.queue.len()
    }
}

/// Outcome of running the timers.
enum Timers {
    Sent(Transmit),
    /// State changed (an entry was removed): look for output again.
    Again,
    Idle,
}

/// Write an IPv6 packet carrying `msg` into `buf`; returns its length.
fn write_icmp(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Message<'_>,
) -> Result<usize, wire::Error> {
    let len = msg.buffer_len();
    let payload_len = u16::try_from(len).map_err(|_| wire::Error::BufferTooSmall)?;
    Ipv6Header {
        src,
        dst,
        next_header: NEXT_HEADER_ICMPV6,
        hop_limit,
        payload_len,
    }
    .emit(buf)?;
    let body = buf
        .get_mut(Ipv6Header::LEN..)
        .ok_or(wire::Error::BufferTooSmall)?;
    msg.emit(&src, &dst, body)?;
    Ok(Ipv6Header::LEN.saturating_add(len))
}
