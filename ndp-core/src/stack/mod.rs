//! The sans-IO facade: [`Stack`].
//!
//! The caller owns the network device, the clock and the buffers. It
//! drives the engine with four verbs:
//!
//! - [`Stack::receive`]: an ICMPv6 message arrived;
//! - [`Stack::poll_transmit`]: write the next packet to send (or to hand to
//!   the local IP stack) into a buffer; call until it returns `None`. It
//!   runs the timers that are due on the way; [`Stack::handle_timeout`]
//!   runs those that send nothing, for a caller without a buffer at hand;
//! - [`Stack::poll_at`]: when to call `poll_transmit` next;
//! - [`Stack::poll_event`]: what changed ([`Event`]): address states,
//!   routers, prefixes, routes, DNS, MTU, hop limit, M/O flags, neighbors
//!   lost, refused newcomers, the interface disabled or enabled.
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
//! let mut stack = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
//! let mut buf = [0u8; 1500];
//! let now = Instant::from_millis(10);
//! // ... for each received ICMPv6 message: stack.receive(now, &meta, icmp);
//! while let Some(tx) = stack.poll_transmit(now, &mut buf) {
//!     let _packet = &buf[..tx.len]; // an IPv6 packet: frame it and send it
//! }
//! while let Some(_event) = stack.poll_event() {}
//! let _wake_at = stack.poll_at(); // sleep until then, or until a frame arrives
//! ```

/// The [`cx::Cx`] of a `Stack`: its clock, random stream, counters and
/// event queue, borrowed field by field so the parts stay free to borrow.
macro_rules! cx {
    ($s:expr) => {
        $crate::stack::cx::Cx {
            clock: &$s.clock,
            rng: &mut $s.rng,
            stats: &mut $s.stats,
            events: &mut $s.events,
        }
    };
}

mod addr;
mod app;
mod cx;
mod discovery;
// `Stack::ram_parts` and `ram_per_entry`: with the `testing` feature.
#[cfg(any(test, feature = "testing"))]
mod footprint;
mod invariants;
mod route;
mod rx;
mod tx;

pub use app::{APP_GROUPS, GroupError, STATIC_ADDRESSES, StaticAddressError};
use cx::Events;
use discovery::Discovery;

use core::net::Ipv6Addr;

use crate::addr::{AddrState, Address, AddressTable};
use crate::config::Config;
use crate::mld::Mld;
use crate::neighbor::queue::{Owner, PacketQueue};
use crate::neighbor::{
    Admit, Entry, MAX_RANDOM_FACTOR_PERCENT, MIN_RANDOM_FACTOR_PERCENT, Neighbor, NeighborCache,
    REACHABLE_TIME_REDRAW,
};
use crate::rng::Rng;
#[cfg(feature = "route-info")]
use crate::router::Route;
use crate::router::dest::{DestCache, Destination};
#[cfg(feature = "dns")]
use crate::router::dns::SearchDomain;
use crate::router::rs::RsSchedule;
use crate::router::{OnLinkPrefix, Refusals, Router};
use crate::stats::{Stats, bump};
use crate::time::{Clock, Deadline, Duration, Expiry, Instant, Timed, sooner};
use crate::wire::{Lifetime, MacAddr, MulticastAddr, Preference};

/// Answers (Neighbor Advertisements) waiting to be sent.
const ANSWERS: usize = 4;
/// Events waiting to be collected (see [`Stack::poll_event`] for what
/// makes room beyond this). One Router Advertisement like radvd's yields
/// about ten.
const EVENTS: usize = 16;
/// The oldest a stored "last used" time is kept: see
/// `Stack::refresh_stamps`.
const MAX_STAMP_AGE: Duration = Duration::from_secs(86_400);
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
    /// A default router appeared, changed preference or recovered
    /// (`lifetime_s` > 0), or was removed (`lifetime_s` == 0: lifetime zero
    /// or expired, R flag cleared, or displaced from a full list).
    Router {
        /// Its link-local address.
        addr: Ipv6Addr,
        /// Router lifetime in seconds as advertised; 0 when removed.
        lifetime_s: u16,
        /// Its preference.
        preference: Preference,
    },
    /// An on-link prefix appeared (`valid` its valid lifetime) or went
    /// (`valid` is zero).
    Prefix {
        /// The prefix.
        prefix: Ipv6Addr,
        /// Its length.
        len: u8,
        /// Valid lifetime as advertised; zero when removed.
        valid: Lifetime,
    },
    /// A more-specific route appeared or changed (`lifetime` non-zero) or
    /// went (`lifetime` zero). With the `route-info` feature.
    Route {
        /// Destination prefix.
        prefix: Ipv6Addr,
        /// Its length.
        len: u8,
        /// Next-hop router.
        router: Ipv6Addr,
        /// Route preference.
        preference: Preference,
        /// Route lifetime as advertised; zero when removed.
        lifetime: Lifetime,
    },
    /// The DNS servers or search domains changed: read
    /// `Stack::dns_servers` and `Stack::search_domains` (feature `dns`;
    /// never reported without it).
    Dns,
    /// The link MTU changed (RFC 4861 §6.3.4 MTU option).
    Mtu(u16),
    /// The hop limit for outgoing packets changed (RFC 4861 §6.3.4).
    HopLimit(u8),
    /// One of our addresses appeared or changed state (tentative,
    /// optimistic, preferred, deprecated, duplicate).
    Address {
        /// The address.
        addr: Ipv6Addr,
        /// Its prefix length.
        prefix_len: u8,
        /// Its new state.
        state: AddrState,
    },
    /// One of our addresses went away (valid lifetime over, or a
    /// duplicate replaced by a new identifier).
    AddressRemoved {
        /// The address.
        addr: Ipv6Addr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// DAD kept finding duplicates: after `attempts` identifiers for
    /// `prefix`, no address is configured from it (RFC 7217 §6). Other
    /// addresses keep working.
    AddressFailed {
        /// The prefix (`fe80::` for the link-local address).
        prefix: Ipv6Addr,
        /// Identifiers tried.
        attempts: u8,
    },
    /// IPv6 is disabled on this interface (RFC 4862 §5.4.5): nothing is
    /// sent or received but the link-local address's DAD, which goes on
    /// with a capped backoff ([`crate::addr::DAD_BACKOFF_MAX`]) until it
    /// succeeds; then [`Event::InterfaceEnabled`] follows.
    InterfaceDisabled {
        /// Why.
        reason: DisableReason,
    },
    /// The link-local address passed DAD after the interface was
    /// disabled: IPv6 runs again, routers are solicited again.
    InterfaceEnabled,
    /// Newcomers turned away since the last such event: new routers,
    /// prefixes, routes or addresses beyond the admission rate or a full
    /// table (RFC 6583 §6). One summary at most every
    /// [`REFUSAL_REPORT_INTERVAL`](crate::router::REFUSAL_REPORT_INTERVAL),
    /// instead of one event per forged advertisement.
    Refused(Refusals),
    /// The M (managed address) or O (other configuration) flag changed:
    /// DHCPv6 is available for addresses or for other information.
    ConfigFlags {
        /// M flag.
        managed: bool,
        /// O flag.
        other: bool,
    },
}

/// Why IPv6 was disabled on the interface ([`Event::InterfaceDisabled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DisableReason {
    /// The link-local address formed from the MAC (modified EUI-64) is in
    /// use by another node, so the MAC itself is probably duplicated
    /// (RFC 4862 §5.4.5).
    DuplicateMacAddress,
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
#[non_exhaustive]
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

/// The next hop of a destination ([RFC 4861 §5.2]).
///
/// [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
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
#[non_exhaustive]
pub enum RouteError {
    /// The destination is not on-link and there is no default router.
    NoRoute,
    /// The neighbor table is full of entries that may not be given up.
    TableFull,
    /// Too many addresses are already being resolved (RFC 6583 §6).
    TooManyUnresolved,
    /// IPv6 is disabled on the interface (RFC 4862 §5.4.5).
    Disabled,
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
#[non_exhaustive]
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

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RouteError::NoRoute => "no route to the destination",
            RouteError::TableFull => "neighbor table full",
            RouteError::TooManyUnresolved => "too many neighbors being resolved",
            RouteError::Disabled => "IPv6 is disabled on the interface",
        })
    }
}

impl core::error::Error for RouteError {}

/// For [`SendError::Route`], the [`RouteError`] is
/// [`core::error::Error::source`].
impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SendError::Malformed => "not a well-formed IPv6 packet",
            SendError::Route(_) => "no next hop for the packet",
            SendError::TooBig => "packet larger than the whole queue",
            SendError::QueueFull => "packet queue full",
        })
    }
}

impl core::error::Error for SendError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SendError::Route(e) => Some(e),
            _ => None,
        }
    }
}

/// A Neighbor Advertisement to send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer {
    dst: Ipv6Addr,
    dst_mac: MacAddr,
    /// The advertised address (ours when the answer was queued, unless
    /// `proxied`).
    target: Ipv6Addr,
    solicited: bool,
    override_flag: bool,
    /// Include our link-layer address.
    tlla: bool,
    /// An answer for a proxied target ([`crate::proxy`]), sent from our
    /// link-local address.
    #[cfg(feature = "proxy")]
    proxied: bool,
}

/// ReachableTime, randomized around BaseReachableTime (RFC 4861 §6.3.2).
#[derive(Debug, Clone)]
struct ReachableTime {
    base: Duration,
    current: Duration,
    /// When `current` was drawn.
    drawn_at: Instant,
}

impl ReachableTime {
    fn new(base: Duration, now: Instant, rng: &mut Rng) -> Self {
        let mut r = ReachableTime {
            base,
            current: base,
            drawn_at: now,
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
        self.drawn_at = now;
    }

    /// A router advertised BaseReachableTime: a different value means a
    /// new random ReachableTime (RFC 4861 §6.3.4).
    fn set_base(&mut self, base: Duration, now: Instant, rng: &mut Rng) {
        if base != self.base {
            self.base = base;
            self.redraw(now, rng);
        }
    }

    /// The value to use now, redrawn when it is hours old (RFC 4861 §6.3.4).
    fn get(&mut self, now: Instant, rng: &mut Rng) -> Duration {
        // An age, not a deadline: right however long nothing asked.
        if now.wrapping_duration_since(self.drawn_at) >= REACHABLE_TIME_REDRAW {
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

    /// Add the tokens earned up to `now`.
    fn settle(&mut self, now: Instant) {
        if self.tokens >= self.burst {
            // Full: nothing to earn, and the time of the last refill no
            // longer matters.
            self.last = now;
            return;
        }
        let step = self.refill.as_millis();
        // `last` is in the past: an age, right for 49 days.
        let elapsed = now.wrapping_duration_since(self.last).as_millis();
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
    }

    /// Take a token, or say when the next one comes.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        if self.refill.as_millis() == 0 || self.burst == 0 {
            return Ok(());
        }
        self.settle(now);
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
/// neighbor entry is 40 bytes (36 for the entry, 4 for its hash chain;
/// `cargo xtask size` reports these, through `Stack::ram_per_entry`
/// with the `testing` feature); each queue slot costs 4 bytes plus its
/// share of `QUEUE_BYTES`.
///
/// ```
/// use ndp_core::{Config, Stack, time::Instant, wire::MacAddr};
/// // Defaults:
/// let s = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
/// assert_eq!(s.addresses().count(), 1); // the link-local address
/// // A bigger neighbor table and queue:
/// let big: Stack<32, 16, 8192> = Stack::with_capacity(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
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
    /// Latest time seen (time never goes backwards inside the engine),
    /// and the lifetime clock.
    clock: Clock,
    neighbors: NeighborCache<NEIGHBORS>,
    queue: PacketQueue<QUEUE_SLOTS, QUEUE_BYTES>,
    /// The interface's addresses and groups: one timed part.
    local: Timed<Local>,
    /// Oldest first (a short Vec, as `events`).
    answers: heapless::Vec<Answer, ANSWERS>,
    /// The events for the application, and the generation counter.
    events: Events,
    stats: Stats,
    reachable: ReachableTime,
    retrans_timer: Duration,
    ns_budget: TokenBucket,
    /// Which targets are answered for as a proxy, and how fast.
    #[cfg(feature = "proxy")]
    proxy: crate::proxy::Proxy,
    #[cfg(feature = "proxy")]
    proxy_budget: crate::proxy::AnswerBudget,
    /// The neighbor cache may hold an address under a proxied prefix: a
    /// target's solicitation then needs the cache looked at (a target of
    /// this link answers for itself). Set on admitting such an entry,
    /// counted again when the proxy changes and with every hourly
    /// refresh; never clear while such an entry exists.
    #[cfg(feature = "proxy")]
    proxied_neighbors: bool,
    /// What routers tell: one timed part.
    discovery: Timed<Discovery>,
    /// Round-robin position among suspect routers (RFC 4861 §6.3.6).
    router_rotation: usize,
    dests: DestCache,
    /// Groups and static addresses the application set.
    app: app::AppState,
    /// IPv6 is off on this interface (RFC 4862 §5.4.5).
    disabled: bool,
}

/// The interface's own addresses and multicast groups: their DAD and
/// announcements (RFC 4862, RFC 9131) and their MLD reports (RFC 3810).
#[derive(Debug, Clone)]
pub(super) struct Local {
    addrs: AddressTable,
    mld: Mld,
}

impl Deadline for Local {
    fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        sooner(self.addrs.next_deadline(clock), self.mld.next_deadline())
    }
}

impl Stack {
    /// A stack with default capacities. It forms its `fe80::/64`
    /// link-local address at once, with the interface identifier that
    /// `config.iid_mode` asks for, and starts its DAD (with the
    /// defaults, and the `optimistic-dad` feature, the address is
    /// optimistic, so usable at once):
    ///
    /// - [`Config::stable`]: an [RFC 7217] stable identifier, HMAC-SHA256
    ///   keyed with `config.secret` over the prefix, `config.mac` and a
    ///   DAD counter (see [`crate::addr::iid`]);
    /// - [`Config::eui64`]: the modified EUI-64 of `config.mac`.
    ///
    /// [RFC 7217]: https://www.rfc-editor.org/rfc/rfc7217
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
        let rs = if config.router_solicitations {
            RsSchedule::start(now, &mut rng)
        } else {
            RsSchedule::off()
        };
        // The neighbor hash key: from the secret and the seed, unknown to
        // the link (and without taking from the random stream).
        let key = config
            .secret
            .chunks_exact(4)
            .filter_map(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_le_bytes)
            .fold((config.seed ^ (config.seed >> 32)) as u32, |k, w| {
                k.rotate_left(7) ^ w
            });
        let mut stack = Stack {
            rng,
            clock: Clock::new(now),
            neighbors: NeighborCache::new(key),
            queue: PacketQueue::new(),
            local: Timed::new(Local {
                addrs: AddressTable::new(),
                mld: Mld::new(),
            }),
            answers: heapless::Vec::new(),
            events: Events::default(),
            stats: Stats::default(),
            reachable,
            retrans_timer: config.retrans_timer,
            ns_budget: TokenBucket::new(config.ns_burst, config.ns_refill, now),
            #[cfg(feature = "proxy")]
            proxy: crate::proxy::Proxy::new(),
            #[cfg(feature = "proxy")]
            proxy_budget: crate::proxy::AnswerBudget::new(now),
            #[cfg(feature = "proxy")]
            proxied_neighbors: false,
            discovery: Timed::new(Discovery::new(rs, now, config.link_mtu)),
            router_rotation: 0,
            dests: DestCache::default(),
            app: app::AppState::default(),
            disabled: false,
            config,
        };
        // RFC 4862 §5.3: a link-local address as the interface comes up;
        // its DAD may be the first message sent (RFC 4862 §5.4.2).
        stack.add_link_local(true);
        stack
    }

    #[inline]
    fn advance(&mut self, now: Instant) {
        if self.clock.advance(now) {
            self.refresh_stamps();
        }
    }

    /// Keep every stored time within a day of now: "last used" times, and
    /// timers that have been due for longer, so none is old enough to
    /// compare wrongly once the millisecond clock has moved 2^31 ms on
    /// (see [`crate::time`]). Runs once an hour of engine time; the engine
    /// asks to be polled at least daily ([`crate::time::MAX_SLEEP`]).
    fn refresh_stamps(&mut self) {
        let now = self.clock.now;
        self.ns_budget.settle(now);
        #[cfg(feature = "proxy")]
        {
            self.proxy_budget.settle(now);
            self.recount_proxied_neighbors();
        }
        self.discovery.newcomers.settle(now);
        self.reachable.get(now, &mut self.rng);
        self.neighbors.age_stamps(now, MAX_STAMP_AGE);
        self.dests.age_stamps(now, MAX_STAMP_AGE);
        // Timers left overdue: only those a disabled interface does not
        // run (RFC 4862 §5.4.5), or those of a caller that polls late.
        let max = MAX_STAMP_AGE;
        self.discovery.refused_report_at.catch_up(now, max);
        self.neighbors.catch_up(now, max);
        self.local.mld.catch_up(now, max);
        self.discovery.rs.catch_up(now, max);
        self.local.addrs.catch_up(now, max);
        self.discovery.routers.catch_up(now, max);
    }

    /// Put `entry` in the neighbor cache (RFC 6583 §6 policy), counting an
    /// eviction or a refusal. Entries with queued packets and routers of
    /// the default router list are never given up.
    fn admit(&mut self, entry: Entry, admit: Admit) -> Option<usize> {
        #[cfg(feature = "proxy")]
        if self.proxy.covers(&entry.addr()) {
            self.proxied_neighbors = true;
        }
        let queue = &self.queue;
        let routers = &self.discovery.routers;
        let keep = |i: usize, e: &Entry| {
            u16::try_from(i).is_ok_and(|i| queue.count(Owner::Neighbor(i)) > 0)
                || (e.is_router() && routers.contains(&e.addr()))
        };
        match self.neighbors.insert(entry, admit, keep) {
            Some((i, evicted)) => {
                if evicted {
                    bump(&mut self.stats.nc_evicted);
                }
                Some(i)
            }
            None => {
                bump(&mut self.stats.nc_create_refused);
                None
            }
        }
    }

    /// Whether the neighbor cache holds an address under a proxied prefix
    /// ([`Self::proxied_neighbors`]), counted afresh.
    #[cfg(feature = "proxy")]
    pub(crate) fn recount_proxied_neighbors(&mut self) {
        let proxy = &self.proxy;
        self.proxied_neighbors =
            proxy.is_active() && self.neighbors.iter().any(|(_, e)| proxy.covers(&e.addr()));
    }

    /// `addr`'s neighbor entry is REACHABLE: if it is a router, it is
    /// proven, and no longer suspect.
    fn router_reached(&mut self, addr: &Ipv6Addr) {
        // Off probation, or back from suspicion: it may now be chosen
        // before others. Asked first, read-only: most confirmations are
        // of hosts or of proven routers, and a change made through
        // `DerefMut` has the part's deadline computed again.
        if self.discovery.routers.doubted(addr) {
            self.discovery.routers.reached(addr);
            self.dests.flush_computed();
            // The default router choice may change, without an event.
            self.events.changed();
        }
    }

    // ---------------------------------------------------------------- views

    /// The neighbor cache.
    pub fn neighbors(&self) -> impl Iterator<Item = Neighbor> + '_ {
        self.neighbors.iter().map(|(_, e)| e.view())
    }

    /// The interface's addresses.
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.local.addrs.iter().copied()
    }

    /// Whole seconds left until `e` (rounded down; 0 once over), or `None`
    /// for an infinite lifetime: how long an [`Address`], [`Route`] or
    /// [`OnLinkPrefix`] has left.
    ///
    /// ```
    /// use ndp_core::{Config, Stack, time::Instant, wire::MacAddr};
    /// let s = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
    /// let ll = s.addresses().next().unwrap();
    /// assert_eq!(s.time_left(ll.valid_until), None, "link-local: forever");
    /// ```
    pub fn time_left(&self, e: Expiry) -> Option<u32> {
        self.clock.secs_left(e)
    }

    /// The lifetime ending at `e` is over (as of the latest time given to
    /// the engine).
    pub fn expired(&self, e: Expiry) -> bool {
        self.clock.expired(e)
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration the stack was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current ReachableTime (randomized, [RFC 4861 §6.3.2]).
    ///
    /// [RFC 4861 §6.3.2]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.2
    pub fn reachable_time(&self) -> Duration {
        self.reachable.current
    }

    /// Current RetransTimer.
    pub fn retrans_timer(&self) -> Duration {
        self.retrans_timer
    }

    /// The default router list.
    pub fn routers(&self) -> impl Iterator<Item = Router> + '_ {
        self.discovery.routers.iter().copied()
    }

    /// More-specific routes ([RFC 4191]). With the `route-info` feature.
    ///
    /// [RFC 4191]: https://www.rfc-editor.org/rfc/rfc4191
    #[cfg(feature = "route-info")]
    pub fn routes(&self) -> impl Iterator<Item = Route> + '_ {
        self.discovery.routes.iter().copied()
    }

    /// On-link prefixes.
    pub fn prefixes(&self) -> impl Iterator<Item = OnLinkPrefix> + '_ {
        self.discovery.prefixes.iter().copied()
    }

    /// The destination cache.
    pub fn destinations(&self) -> impl Iterator<Item = Destination> + '_ {
        self.dests.iter().copied()
    }

    /// DNS servers in preference order ([RFC 8106]). With the `dns`
    /// feature.
    ///
    /// [RFC 8106]: https://www.rfc-editor.org/rfc/rfc8106
    #[cfg(feature = "dns")]
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.discovery.dns_servers.iter().copied()
    }

    /// DNS search domains in preference order ([RFC 8106]). With the `dns`
    /// feature.
    ///
    /// [RFC 8106]: https://www.rfc-editor.org/rfc/rfc8106
    #[cfg(feature = "dns")]
    pub fn search_domains(&self) -> impl Iterator<Item = SearchDomain> + '_ {
        self.discovery.search.iter().copied()
    }

    /// The link MTU: the configured maximum until a router advertises a
    /// smaller one.
    pub fn link_mtu(&self) -> u16 {
        self.discovery.link_mtu
    }

    /// Hop limit for outgoing packets (CurHopLimit, [RFC 4861 §6.3.2]).
    ///
    /// [RFC 4861 §6.3.2]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.2
    pub fn hop_limit(&self) -> u8 {
        self.discovery.hop_limit
    }

    /// The M and O flags of the latest Router Advertisement.
    pub fn config_flags(&self) -> (bool, bool) {
        self.discovery.flags
    }

    /// Router Solicitations sent so far.
    pub fn router_solicitations_sent(&self) -> u32 {
        self.discovery.rs.sent()
    }

    /// Multicast groups the interface listens to: ff02::1, the joined
    /// solicited-node groups and the application's groups
    /// ([`Stack::join_group`]). A NIC's multicast filter should pass these
    /// (their Ethernet addresses: [`MulticastAddr::mac`]), and packets to
    /// any other group are not for this host ([RFC 4291 §2.7]).
    ///
    /// [RFC 4291 §2.7]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7
    pub fn multicast_groups(&self) -> impl Iterator<Item = MulticastAddr> + '_ {
        core::iter::once(MulticastAddr::ALL_NODES).chain(self.local.mld.joined())
    }

    /// A number that changes (wrapping) whenever something another IP
    /// stack mirrors may have changed: addresses and their states, the
    /// groups listened to, routers and the default router choice, DNS,
    /// MTU. Every [`Event`] changes it. An adapter compares it with the
    /// value at its last sync instead of comparing the tables.
    pub fn generation(&self) -> u32 {
        self.events.generation()
    }

    /// IPv6 was disabled after a duplicate MAC-based link-local address
    /// ([RFC 4862 §5.4.5]).
    ///
    /// [RFC 4862 §5.4.5]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.5
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// Packets waiting for address resolution (or for their error).
    pub fn queued_packets(&self) -> usize {
        self.queue.len()
    }
}
