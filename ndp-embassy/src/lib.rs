//! # ndp-embassy
//!
//! Runs the [`ndp_core`] Neighbor Discovery and SLAAC engine under
//! [embassy-net](https://docs.rs/embassy-net) on Ethernet, with IPv4
//! alongside.
//!
//! embassy-net's own IPv6 is one static address, or smoltcp's minimal
//! SLAAC: no Duplicate Address Detection, no Neighbor Unreachability
//! Detection, no queue for unresolved neighbors, no router preference, no
//! RFC 7217 addresses. This crate gives an embassy-net application the
//! engine's instead, without touching embassy-net: it wraps the board's
//! Ethernet driver (any [`embassy_net_driver::Driver`]) in an
//! [`NdpDriver`], which embassy-net runs like any driver.
//!
//! - **IPv4 is embassy-net's.** IPv4 and embassy-net's DHCPv4 client pass
//!   through; the wrapper presents an Ethernet device, which embassy-net's
//!   DHCPv4 needs. ARP passes through the guard ndp-smoltcp uses
//!   ([`ndp_core::port::arp`]), so a flood cannot churn smoltcp's neighbor
//!   cache; smoltcp's IPv4 address, which the guard needs, is read from
//!   what smoltcp sends. Before a new IPv4 sender's first packet smoltcp
//!   is handed a made-up ARP reply from it (at most
//!   [`TAUGHT_SENDERS`] per [`TEACH_REFRESH`]): smoltcp would otherwise
//!   drop its answer to that packet while it asks.
//! - **IPv6 Neighbor Discovery and MLD are the engine's.** Every ND and
//!   MLD message received goes to the engine and never to embassy-net.
//!   What smoltcp (inside embassy-net) would send of its own never
//!   reaches the wire: its Neighbor Solicitation is answered inside the
//!   wrapper at once by a made-up Neighbor Advertisement, and the
//!   destination MAC of every IPv6 frame it sends is then set from the
//!   engine's next-hop decision ([`Stack::send`]), or the engine keeps
//!   the packet while it resolves the neighbor. So DAD, NUD, router
//!   preference, Redirects and the resolution queue apply to embassy-net's
//!   traffic.
//! - **Configuration.** [`Control::run`], a task of its own, gives
//!   embassy-net the engine's first preferred global address, its default
//!   router and up to three DNS servers (RFC 8106) with
//!   `Stack::set_config_v6(ConfigV6::Static(..))` whenever they change,
//!   and hands the application the engine's events.
//! - **Multicast.** Groups the application joins on embassy-net's `Stack`
//!   (`join_multicast_group`: mDNS `ff02::fb`, its own) are noticed from
//!   the report smoltcp tries to send, checked with the `Stack` by
//!   [`Control::run`], and reported by the engine's MLDv2 listener. IPv6
//!   packets to groups the interface has not joined are dropped before
//!   embassy-net sees them ([RFC 4291 §2.7]).
//! - **Hop limit.** The Cur Hop Limit of the latest Router Advertisement
//!   replaces smoltcp's fixed 64 ([RFC 4861 §6.3.4]).
//!
//! ## What embassy-net's single-address model loses
//!
//! embassy-net holds one IPv6 address and one default route. The engine
//! holds up to [`ndp_core::addr::ADDRESSES`] addresses; embassy-net gets
//! one of them:
//!
//! - **The link-local address is not embassy-net's.** The engine forms it,
//!   defends it and uses it for Neighbor Discovery, but embassy-net's
//!   sockets cannot send from it or receive on it. Packets to it for
//!   embassy-net (a UDP socket, an echo request) are dropped by smoltcp.
//! - **A second prefix** (two routers, or a ULA beside a global prefix)
//!   forms addresses in the engine that embassy-net never uses; a deprecated
//!   address is replaced by the next preferred one, and without a
//!   preferred global address embassy-net has no IPv6 configuration.
//! - **The prefix length embassy-net sees is /128**, and its gateway is the
//!   default router (or [`NEXT_HOP_PLACEHOLDER`] when there is none). So
//!   smoltcp sends every packet through one next hop whose MAC the wrapper
//!   keeps in smoltcp's cache, and a reply smoltcp makes to a received
//!   packet (an echo reply) is never dropped for want of a neighbor entry.
//!   What is on-link is the engine's decision ([RFC 4861 §5.2], [RFC
//!   5942]), made per frame. [`Control::config_v6`] has the real prefix
//!   length.
//! - **Static IPv6 configuration on the `Stack`** would be overwritten by
//!   [`Control::run`]; give the engine static addresses instead
//!   ([`Config`]), so that they pass DAD.
//!
//! ## Wiring it
//!
//! ```no_run
//! use embassy_executor::Spawner;
//! use embassy_net::{Stack, StackResources};
//! use embassy_net_tuntap::TunTapDevice;
//! use ndp_embassy::{Config, Control, MacAddr, NdpDriver, State};
//! use static_cell::StaticCell;
//!
//! // A board's Ethernet driver; here a Linux TAP device.
//! type Nic = TunTapDevice;
//!
//! #[embassy_executor::task]
//! async fn net_task(mut runner: embassy_net::Runner<'static, NdpDriver<'static, Nic>>) -> ! {
//!     runner.run().await
//! }
//!
//! #[embassy_executor::task]
//! async fn ndp_task(control: Control<'static>, stack: Stack<'static>) -> ! {
//!     control.run(stack, |event| println!("{event:?}")).await
//! }
//!
//! #[embassy_executor::main]
//! async fn main(spawner: Spawner) {
//!     let nic = TunTapDevice::new("tap0").unwrap();
//!     let mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
//!     // RFC 7217 identifiers from the device's secret, kept in flash
//!     // (Config::eui64 forms them from the MAC instead).
//!     let config = Config::stable(mac, 7, *b"device's secret!");
//!     static NDP: StaticCell<State> = StaticCell::new();
//!     let (driver, control) = ndp_embassy::new(nic, config, NDP.init(State::new())).unwrap();
//!
//!     // IPv4 from DHCP as usual; IPv6 is the engine's (Control::run).
//!     let net_config = embassy_net::Config::dhcpv4(Default::default());
//!     static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
//!     let (stack, runner) =
//!         embassy_net::new(driver, net_config, RESOURCES.init(StackResources::new()), 7);
//!     spawner.spawn(net_task(runner)).unwrap();
//!     spawner.spawn(ndp_task(control, stack)).unwrap();
//!
//!     stack.wait_config_up().await;
//!     // Sockets as usual: UDP, TCP, DNS over the engine's addresses.
//! }
//! ```
//!
//! On a microcontroller the board's driver takes the TAP device's place
//! (`embassy_stm32::eth::Ethernet`, `embassy_net_wiznet`, ...), the tasks
//! are the same, and the executor is `embassy_executor` on Cortex-M.
//!
//! ## embassy-net features
//!
//! ndp-embassy turns on embassy-net's `proto-ipv6`, `medium-ethernet` and
//! `multicast`. embassy-net's `slaac` must stay off (the engine does
//! SLAAC). Applications add `proto-ipv4`, `dhcpv4`, `udp`, `tcp`, `dns`
//! as usual.
//!
//! `ndp-embassy` is `no_std`, allocation-free and `#![forbid(unsafe_code)]`
//! like the engine. It needs an embassy-time driver (every embassy HAL
//! has one).
//!
//! ## Features
//!
//! `stable-iid`, `dns`, `route-info`, `mldv1`, `redirect`,
//! `optimistic-dad` and `gratuitous-na` (all on by default) turn on the
//! `ndp-core` feature of the same name; `ndp-core`'s crate docs say what
//! each does and what it costs in flash. Without `dns`, embassy-net gets
//! no DNS servers from Router Advertisements. `defmt` derives
//! `defmt::Format` for this crate's types and the engine's. `proxy` turns
//! on the engine's ND proxy (configured through
//! [`NdpDriver::stack_mut`] before the driver goes to embassy-net); while
//! it has prefixes the software filter passes every solicited-node
//! group, and the board's driver must pass all multicast.
//!
//! [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
//! [RFC 5942]: https://www.rfc-editor.org/rfc/rfc5942
//! [RFC 4291 §2.7]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7
//! [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The no-panic lints are the workspace's `[workspace.lints.clippy]`;
// unit tests may.
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod driver;
#[cfg(test)]
mod tests;

use core::cell::RefCell;
use core::future::poll_fn;
use core::net::Ipv6Addr;
use core::task::{Poll, Waker};

use embassy_net_driver::HardwareAddress;
use ndp_core::addr::AddrState;
use ndp_core::time::Instant as NdpInstant;

pub use driver::{FrameRx, FrameTx, NdpDriver};
pub use ndp_core::port::DropReason;
pub use ndp_core::wire::MacAddr;
pub use ndp_core::wire::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
pub use ndp_core::{self, Config, Stack};

/// Length of an Ethernet II header: destination, source, EtherType.
pub const ETHERNET_HEADER_LEN: usize = ndp_core::wire::ethernet::HEADER_LEN;
/// Largest IP packet the wrapper carries: the Ethernet MTU ([RFC 2464]
/// §2).
///
/// [RFC 2464]: https://www.rfc-editor.org/rfc/rfc2464
pub const IP_MTU: usize = 1500;
/// Largest frame: [`IP_MTU`] plus the Ethernet header. The wrapper holds
/// one receive and one transmit buffer of this size.
pub const FRAME_LEN: usize = IP_MTU + ETHERNET_HEADER_LEN;
/// The smallest IP MTU the board's driver must carry: IPv6's minimum
/// link MTU ([RFC 8200 §5]).
///
/// [RFC 8200 §5]: https://www.rfc-editor.org/rfc/rfc8200#section-5
pub const MIN_IP_MTU: usize = 1280;
/// Most multicast MACs the software filter passes for the engine's
/// groups: all-nodes, the solicited-node groups of its addresses, the
/// application's IPv6 groups.
pub const MAX_MULTICAST_MACS: usize = 1 + ndp_core::addr::ADDRESSES + ndp_core::APP_GROUPS;
/// Most frames taken from the board's driver per receive call while
/// looking for one embassy-net should see; bounds the work one call does
/// on a link flooded with Neighbor Discovery.
pub const MAX_FRAMES_PER_RECEIVE: usize = 64;
/// The next hop embassy-net is given when there is no default router: it
/// then reaches on-link destinations only, through the engine. Nothing is
/// ever sent to it: every frame's destination is the engine's next hop.
/// (`fe80::ffff:ffff:ffff:fffe`, an identifier [RFC 5453] reserves.)
///
/// [RFC 5453]: https://www.rfc-editor.org/rfc/rfc5453
pub const NEXT_HOP_PLACEHOLDER: Ipv6Addr =
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0xffff, 0xffff, 0xffff, 0xfffe);
/// How often smoltcp is told again the MAC of its gateway, well within the
/// 60 s smoltcp keeps a neighbor.
pub const PRIME_REFRESH: ndp_core::time::Duration = ndp_core::time::Duration::from_secs(10);
/// How long smoltcp is trusted to remember an IPv4 sender it was taught
/// (it keeps neighbors 60 s); see [`DriverStats::arp_taught`].
pub const TEACH_REFRESH: ndp_core::time::Duration = ndp_core::time::Duration::from_secs(20);
/// Most IPv4 senders smoltcp is taught per [`TEACH_REFRESH`].
pub const TAUGHT_SENDERS: usize = 4;
/// Events kept for [`Control`] before the newest are dropped.
pub const EVENTS: usize = 8;
/// Group changes smoltcp reports between two runs of [`Control::run`]
/// that are followed; more are counted in [`DriverStats::group_no_room`].
pub const HEARD_GROUPS: usize = 4;

/// Why a driver could not be wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The driver's IP MTU (its `max_transmission_unit` less the Ethernet
    /// header) is below IPv6's minimum of [`MIN_IP_MTU`].
    MtuTooSmall {
        /// The driver's `max_transmission_unit`.
        mtu: usize,
    },
    /// The driver is not an Ethernet driver.
    NotEthernet,
    /// `config.mac` is not a unicast address.
    NotUnicastMac,
    /// `config.mac` is not the driver's hardware address.
    MacMismatch {
        /// The driver's address.
        driver: MacAddr,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::MtuTooSmall { mtu } => write!(
                f,
                "the driver's max_transmission_unit is {mtu}; IPv6 needs at least {}",
                MIN_IP_MTU + ETHERNET_HEADER_LEN
            ),
            Error::NotEthernet => f.write_str("the driver is not an Ethernet driver"),
            Error::NotUnicastMac => f.write_str("the MAC address is not a unicast address"),
            Error::MacMismatch { driver } => {
                write!(f, "the MAC address is not the driver's ({driver})")
            }
        }
    }
}

impl core::error::Error for Error {}

/// What [`Control::run`] reports: the engine's events, and the wrapper's
/// own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// An event of the engine.
    Engine(ndp_core::Event),
    /// embassy-net was given a new IPv6 configuration; `None`: none (no
    /// preferred global address).
    Configured(Option<ConfigV6>),
    /// A group the application joined on embassy-net's `Stack` could not
    /// be listened to: the engine has [`ndp_core::APP_GROUPS`] groups.
    GroupNoRoom {
        /// The group.
        group: Ipv6Addr,
    },
    /// IPv6 packets embassy-net sent were dropped. Consecutive drops for
    /// one reason are summed.
    Dropped {
        /// Why.
        reason: DropReason,
        /// How many since the last such event.
        count: u32,
    },
}

/// The IPv6 configuration the engine reached: see [`Control::config_v6`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConfigV6 {
    /// The first preferred global address.
    pub address: Ipv6Addr,
    /// Its prefix length (embassy-net is given /128; see the crate docs).
    pub prefix_len: u8,
    /// The default router, if there is one.
    pub gateway: Option<Ipv6Addr>,
    /// DNS servers from Router Advertisements (RFC 8106), best first, up
    /// to three (embassy-net's limit); always empty without `dns`.
    pub dns_servers: [Option<Ipv6Addr>; 3],
}

impl ConfigV6 {
    /// What embassy-net is given: the address as /128, the default router
    /// or [`NEXT_HOP_PLACEHOLDER`] as gateway, the DNS servers.
    pub fn to_embassy(&self) -> embassy_net::StaticConfigV6 {
        embassy_net::StaticConfigV6 {
            address: embassy_net::Ipv6Cidr::new(self.address, 128),
            gateway: Some(self.gateway.unwrap_or(NEXT_HOP_PLACEHOLDER)),
            dns_servers: self.dns_servers.iter().flatten().copied().collect(),
        }
    }
}

/// The configuration to give embassy-net for the engine's state.
fn config_of<const N: usize, const QS: usize, const QB: usize>(
    stack: &Stack<N, QS, QB>,
) -> Option<ConfigV6> {
    if stack.is_disabled() {
        return None;
    }
    let a = stack
        .addresses()
        .find(|a| a.is_global() && a.state == AddrState::Preferred)?;
    #[allow(unused_mut)]
    let mut dns_servers = [None; 3];
    #[cfg(feature = "dns")]
    for (slot, s) in dns_servers.iter_mut().zip(stack.dns_servers()) {
        *slot = Some(s);
    }
    Some(ConfigV6 {
        address: a.addr.get(),
        prefix_len: a.prefix_len,
        gateway: stack.default_router(),
        dns_servers,
    })
}

macro_rules! counters {
    ($( $(#[$m:meta])* $field:ident, )+) => {
        /// The wrapper's own counters (the engine's are in
        /// [`ndp_core::Stats`]). All saturate at `u32::MAX`.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct DriverStats {
            $( $(#[$m])* pub $field: u32, )+
        }

        impl DriverStats {
            /// Every counter at zero.
            pub const ZERO: Self = Self { $( $field: 0, )+ };

            /// Every counter as `(name, value)`.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
                [$( (stringify!($field), self.$field), )+].into_iter()
            }
        }
    };
}

counters! {
    /// Frames taken from the board's driver.
    rx_frames,
    /// Dropped: shorter than an Ethernet header.
    rx_runt,
    /// Dropped: addressed to a MAC that is neither ours, broadcast, nor a
    /// group we listen to.
    rx_filtered,
    /// Dropped: an EtherType that is not IPv6, IPv4 or ARP.
    rx_unknown_ethertype,
    /// Dropped: a malformed IPv6 header or extension header chain.
    rx_malformed,
    /// Dropped: Neighbor Discovery or MLD in a fragmented packet
    /// (RFC 6980 §5).
    rx_fragmented_nd,
    /// Dropped: an IPv6 packet to a multicast group the interface has not
    /// joined (RFC 4291 §2.7).
    rx_unjoined_group,
    /// Dropped: an IPv6 packet from or to the loopback address, which
    /// never comes from a link (RFC 4291 §2.5.3).
    rx_loopback,
    /// Neighbor Discovery and MLD messages handed to the engine.
    rx_nd,
    /// IPv6 packets handed to embassy-net.
    rx_ip,
    /// IPv4 packets handed to embassy-net.
    rx_ipv4,
    /// ARP messages handed to embassy-net.
    rx_arp,
    /// Dropped: a malformed or non-Ethernet/IPv4 ARP message.
    rx_arp_malformed,
    /// Dropped: ARP not about smoltcp's IPv4 address.
    rx_arp_not_for_us,
    /// Dropped: an ARP reply smoltcp had not asked for.
    rx_arp_unsolicited,
    /// Dropped: ARP from a group, broadcast or zero sender.
    rx_arp_bad_sender,
    /// Dropped: an ARP request beyond what smoltcp may learn from, while
    /// its address is not yet known (so it cannot be answered here).
    rx_arp_unanswered,
    /// ARP requests for smoltcp's address answered by the wrapper without
    /// smoltcp learning the sender (beyond
    /// [`ndp_core::port::arp::ARP_LEARN_BURST`]).
    arp_answered,
    /// Made-up ARP replies that taught smoltcp the MAC of an IPv4 sender
    /// before its first packet, so that smoltcp can answer it at once.
    arp_taught,
    /// IPv4 senders not taught: [`TAUGHT_SENDERS`] were taught in the
    /// last [`TEACH_REFRESH`] (smoltcp asks with ARP itself).
    arp_teach_limited,
    /// smoltcp's Neighbor Solicitations answered inside the wrapper
    /// (and unsolicited answers that teach it its gateway).
    smoltcp_ns_answered,
    /// smoltcp's own MLD reports, not sent (the engine reports).
    smoltcp_mld_dropped,
    /// IPv6 packets from embassy-net sent at once.
    tx_ip,
    /// IPv6 packets from embassy-net kept by the engine until their next
    /// hop is resolved.
    tx_queued,
    /// IPv6 packets from embassy-net whose hop limit was set from the RA.
    tx_hop_limit_set,
    /// Dropped packets from embassy-net: no route to the destination.
    tx_no_route,
    /// Dropped packets from embassy-net: the engine's queue or neighbor
    /// table had no room.
    tx_no_room,
    /// Dropped packets from embassy-net: not a well-formed IPv6 packet.
    tx_malformed,
    /// Packets from embassy-net larger than [`FRAME_LEN`], sent unchanged
    /// (embassy-net never sends those: it is told the MTU).
    tx_oversize,
    /// Dropped packets from embassy-net: IPv6 is disabled on the
    /// interface (RFC 4862 §5.4.5).
    tx_disabled,
    /// IPv4 and ARP frames from embassy-net sent unchanged.
    tx_ipv4,
    /// Frames the engine sent: Neighbor Discovery, MLD and released
    /// packets.
    tx_engine,
    /// Engine errors about embassy-net's packets (Destination
    /// Unreachable) handed back to embassy-net.
    local_delivered,
    /// Such errors dropped because a received frame was still waiting
    /// for embassy-net.
    local_dropped,
    /// Times the engine had something due and the board's driver had no
    /// transmit buffer.
    tx_device_busy,
    /// Link Down → Up transitions, each starting DAD and router
    /// solicitation again.
    link_ups,
    /// Group changes from embassy-net not followed: more than
    /// [`HEARD_GROUPS`] between two runs of [`Control::run`], or the
    /// engine's application groups full.
    group_no_room,
    /// Events dropped because [`Control::run`] did not take them.
    events_dropped,
}

fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// What the driver (inside embassy-net's runner) and [`Control`] (in the
/// application's task) share. Make one per interface, in a `static`
/// (`StaticCell`), and pass it to [`new`].
pub struct State {
    shared: RefCell<Shared>,
}

impl State {
    /// An empty state.
    pub const fn new() -> Self {
        State {
            shared: RefCell::new(Shared {
                config: None,
                config_fresh: false,
                reconfigured: false,
                events: heapless::Deque::new(),
                heard: heapless::Vec::new(),
                group_changes: heapless::Vec::new(),
                stats: DriverStats::ZERO,
                events_dropped: 0,
                groups_lost: 0,
                control_waker: None,
                driver_waker: None,
            }),
        }
    }

    /// Run `f` on the shared part. Never nested: neither side calls out
    /// while it holds it. Should it be held anyway, `f` is not run and
    /// the result is `None` (the work waits for the next poll).
    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> Option<R> {
        let mut s = self.shared.try_borrow_mut().ok()?;
        Some(f(&mut s))
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

struct Shared {
    /// The configuration the engine reached, as last offered.
    config: Option<ConfigV6>,
    /// `config` is not yet given to embassy-net.
    config_fresh: bool,
    /// embassy-net took a new configuration: teach smoltcp its gateway.
    reconfigured: bool,
    events: heapless::Deque<Event, EVENTS>,
    /// Groups smoltcp reported a change for, for Control to look up.
    heard: heapless::Vec<Ipv6Addr, HEARD_GROUPS>,
    /// What Control found: (group, joined on embassy-net's Stack).
    group_changes: heapless::Vec<(Ipv6Addr, bool), HEARD_GROUPS>,
    /// The driver's counters as of its last poll.
    stats: DriverStats,
    events_dropped: u32,
    /// Group changes Control found with no room to pass them on.
    groups_lost: u32,
    control_waker: Option<Waker>,
    driver_waker: Option<Waker>,
}

impl Shared {
    fn has_room(&self) -> bool {
        !self.events.is_full()
    }

    /// Queue an event. One `Dropped` event per reason: later drops add to
    /// it. A full queue drops the new event, counted.
    fn push_event(&mut self, event: Event) {
        if let Event::Dropped { reason, count } = event
            && let Some(Event::Dropped { count: queued, .. }) = self
                .events
                .iter_mut()
                .find(|e| matches!(e, Event::Dropped { reason: r, .. } if *r == reason))
        {
            *queued = queued.saturating_add(count);
            return;
        }
        if self.events.push_back(event).is_err() {
            bump(&mut self.events_dropped);
        }
    }

    fn offer_config(&mut self, config: Option<ConfigV6>) {
        if config != self.config {
            self.config = config;
            self.config_fresh = true;
        }
    }

    /// Note a group smoltcp reported; `false` when there was no room.
    fn hear(&mut self, group: Ipv6Addr) -> bool {
        self.heard.contains(&group) || self.heard.push(group).is_ok()
    }

    fn wake_control(&mut self) {
        if (self.config_fresh || !self.events.is_empty() || !self.heard.is_empty())
            && let Some(w) = self.control_waker.take()
        {
            w.wake();
        }
    }

    fn wake_driver(&mut self) {
        if let Some(w) = self.driver_waker.take() {
            w.wake();
        }
    }
}

/// Wrap `driver` (the board's Ethernet driver, whose MAC is `config.mac`)
/// with an engine of the default capacities set up from `config`.
/// Returns the driver to give `embassy_net::new`, and the [`Control`] to
/// run in a task of its own.
///
/// Fails if the driver is not Ethernet, has another MAC, cannot carry
/// IPv6's minimum MTU, or `config.mac` is a group address.
pub fn new<D: embassy_net_driver::Driver>(
    driver: D,
    config: Config,
    state: &State,
) -> Result<(NdpDriver<'_, D>, Control<'_>), Error> {
    with_capacity(driver, config, state)
}

/// [`new`] with an engine whose capacities are the type's parameters:
/// `NEIGHBORS` neighbors, `QUEUE_SLOTS` packets queued in `QUEUE_BYTES`
/// while their next hop is resolved.
///
/// ```
/// # use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};
/// # use core::task::Context;
/// # struct Nic;
/// # struct Tok;
/// # impl embassy_net_driver::RxToken for Tok { fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R { f(&mut []) } }
/// # impl embassy_net_driver::TxToken for Tok { fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, _l: usize, f: F) -> R { f(&mut []) } }
/// # impl Driver for Nic {
/// #     type RxToken<'a> = Tok; type TxToken<'a> = Tok;
/// #     fn receive(&mut self, _: &mut Context) -> Option<(Tok, Tok)> { None }
/// #     fn transmit(&mut self, _: &mut Context) -> Option<Tok> { None }
/// #     fn link_state(&mut self, _: &mut Context) -> LinkState { LinkState::Up }
/// #     fn capabilities(&self) -> Capabilities { let mut c = Capabilities::default(); c.max_transmission_unit = 1514; c }
/// #     fn hardware_address(&self) -> HardwareAddress { HardwareAddress::Ethernet([0x02, 0, 0x5e, 0, 0x53, 0x01]) }
/// # }
/// use ndp_embassy::{Config, MacAddr, NdpDriver, State};
///
/// let state = State::new();
/// let config = Config::eui64(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]), 7);
/// // 32 neighbors, 8 queued packets in 6 KiB.
/// let (driver, control): (NdpDriver<'_, Nic, 32, 8, 6144>, _) =
///     ndp_embassy::with_capacity(Nic, config, &state)?;
/// # let _ = (driver, control);
/// # Ok::<(), ndp_embassy::Error>(())
/// ```
pub fn with_capacity<
    D: embassy_net_driver::Driver,
    const NEIGHBORS: usize,
    const QUEUE_SLOTS: usize,
    const QUEUE_BYTES: usize,
>(
    driver: D,
    config: Config,
    state: &State,
) -> Result<
    (
        NdpDriver<'_, D, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>,
        Control<'_>,
    ),
    Error,
> {
    let HardwareAddress::Ethernet(hw) = driver.hardware_address() else {
        return Err(Error::NotEthernet);
    };
    let mtu = driver.capabilities().max_transmission_unit;
    if mtu < MIN_IP_MTU + ETHERNET_HEADER_LEN {
        return Err(Error::MtuTooSmall { mtu });
    }
    if config.mac.is_multicast() {
        return Err(Error::NotUnicastMac);
    }
    if config.mac.0 != hw {
        return Err(Error::MacMismatch {
            driver: MacAddr(hw),
        });
    }
    let mac = config.mac;
    let now = NdpInstant::wrapping_from_millis(embassy_time::Instant::now().as_millis());
    let mut driver = NdpDriver {
        inner: driver,
        rx: [0; FRAME_LEN],
        arp: [0; driver::ARP_FRAME_LEN],
        core: driver::Core {
            stack: Stack::with_capacity(config, now),
            mac,
            now,
            state,
            rx_len: None,
            tx: [0; FRAME_LEN],
            solicited: heapless::Vec::new(),
            group_macs: heapless::Vec::new(),
            published: None,
            gateway: NEXT_HOP_PLACEHOLDER,
            prime_at: now,
            link: None,
            arp_ready: false,
            taught: heapless::Vec::new(),
            arp_guard: ndp_core::port::arp::ArpGuard::new(now),
            ipv4: None,
            stats: DriverStats::default(),
        },
    };
    // The software filter passes all-nodes from the first frame on.
    driver::sync_groups(&mut driver.core);
    Ok((driver, Control { state }))
}

impl<D, const N: usize, const QS: usize, const QB: usize> NdpDriver<'_, D, N, QS, QB> {
    /// The engine: addresses, neighbors, routers, DNS servers, counters.
    /// Once the driver is embassy-net's, [`Control`] reports instead.
    pub fn stack(&self) -> &Stack<N, QS, QB> {
        &self.core.stack
    }

    /// The engine, mutably: static addresses and groups before the
    /// driver is given to embassy-net.
    pub fn stack_mut(&mut self) -> &mut Stack<N, QS, QB> {
        &mut self.core.stack
    }

    /// The wrapper's counters.
    pub fn stats(&self) -> &DriverStats {
        &self.core.stats
    }

    /// The board's driver.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

/// The application's side of an [`NdpDriver`]: run [`Control::run`] in a
/// task of its own.
#[derive(Clone, Copy)]
pub struct Control<'d> {
    state: &'d State,
}

impl Control<'_> {
    /// Keep embassy-net's IPv6 configuration and multicast groups in line
    /// with the engine, and hand each event to `on_event` (log it, or
    /// ignore it). Never returns.
    ///
    /// Each new configuration goes to `stack.set_config_v6` (see
    /// [`ConfigV6::to_embassy`]); when the engine has no preferred global
    /// address, embassy-net gets `ConfigV6::None`.
    pub async fn run(&self, stack: embassy_net::Stack<'_>, mut on_event: impl FnMut(Event)) -> ! {
        loop {
            poll_fn(|cx| {
                let ready = self.state.with(|s| {
                    let ready = s.config_fresh || !s.events.is_empty() || !s.heard.is_empty();
                    if !ready {
                        s.control_waker = Some(cx.waker().clone());
                    }
                    ready
                });
                match ready {
                    Some(true) => Poll::Ready(()),
                    Some(false) => Poll::Pending,
                    // Held by the driver, which cannot be: try again.
                    None => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                }
            })
            .await;
            // Taken under the borrow, handled after it: `on_event` may
            // call back into Control.
            let mut events: heapless::Vec<Event, { EVENTS + 1 }> = heapless::Vec::new();
            let mut heard: heapless::Vec<Ipv6Addr, HEARD_GROUPS> = heapless::Vec::new();
            let config = self
                .state
                .with(|s| {
                    while let Some(e) = s.events.pop_front() {
                        let _ = events.push(e);
                    }
                    heard = core::mem::take(&mut s.heard);
                    core::mem::take(&mut s.config_fresh).then_some(s.config)
                })
                .flatten();
            if let Some(config) = config {
                stack.set_config_v6(match &config {
                    Some(c) => embassy_net::ConfigV6::Static(c.to_embassy()),
                    None => embassy_net::ConfigV6::None,
                });
                let _ = events.insert(0, Event::Configured(config));
            }
            let changes: heapless::Vec<(Ipv6Addr, bool), HEARD_GROUPS> = heard
                .iter()
                .map(|g| (*g, stack.has_multicast_group(*g)))
                .collect();
            self.state.with(|s| {
                s.reconfigured |= config.is_some();
                for c in changes {
                    if !s.group_changes.contains(&c) && s.group_changes.push(c).is_err() {
                        bump(&mut s.groups_lost);
                    }
                }
                s.wake_driver();
            });
            for e in events {
                on_event(e);
            }
        }
    }

    /// The IPv6 configuration the engine reached, with the address's real
    /// prefix length; `None` before a global address is preferred.
    pub fn config_v6(&self) -> Option<ConfigV6> {
        self.state.with(|s| s.config).flatten()
    }

    /// The driver's counters as of its last poll, and how many events
    /// were dropped for want of a run of [`Control::run`].
    pub fn stats(&self) -> DriverStats {
        self.state
            .with(|s| {
                let mut stats = s.stats.clone();
                stats.events_dropped = s.events_dropped;
                stats.group_no_room = stats.group_no_room.saturating_add(s.groups_lost);
                stats
            })
            .unwrap_or_default()
    }
}
