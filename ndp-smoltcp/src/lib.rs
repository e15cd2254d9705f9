//! # ndp-smoltcp
//!
//! Runs the [`ndp_core`] Neighbor Discovery and SLAAC engine underneath a
//! [smoltcp](https://docs.rs/smoltcp) `Interface` on Ethernet, with IPv4
//! alongside.
//!
//! smoltcp's own IPv6 Neighbor Discovery is minimal (no NUD, no DAD, no
//! queue for unresolved neighbors, no router preference), so the
//! [`Adapter`] takes it over while leaving everything else to smoltcp.
//! It wraps the board's Ethernet driver (a [`smoltcp::phy::Device`]) and
//! shows smoltcp an Ethernet device of its own:
//!
//! - **IPv4 is smoltcp's.** ARP, IPv4, ICMPv4, UDP, TCP, IGMP and the
//!   DHCPv4 socket pass through untouched, except for the ARP guard (see
//!   below). smoltcp's DHCPv4 socket needs an Ethernet interface, which is
//!   why the adapter presents one.
//! - **IPv6 Neighbor Discovery and MLD are the engine's.** Every ND and
//!   MLD message received goes to the [`Stack`] and never to smoltcp.
//!   What smoltcp would send of its own (its Neighbor Solicitations and
//!   MLD reports) never reaches the wire:
//!   - smoltcp's Neighbor Solicitation is answered inside the adapter at
//!     once by a made-up Neighbor Advertisement, so smoltcp hands over its
//!     packet without waiting;
//!   - the destination MAC of every IPv6 frame smoltcp sends is then set
//!     from the engine's next-hop decision ([`Stack::send`]), or the
//!     engine keeps the packet while it resolves the neighbor. So NUD,
//!     router preference, Redirect and the resolution queue apply to
//!     smoltcp's traffic, and a change takes effect on the next frame.
//!   - To keep that to one entry in smoltcp's neighbor cache, smoltcp gets
//!     the engine's addresses as /128 and one default route through
//!     [`NEXT_HOP_PLACEHOLDER`]: which destinations are on-link is the
//!     engine's decision ([RFC 4861 §5.2], [RFC 5942]), not smoltcp's. For
//!     the same reason IPv6 routes set on smoltcp's `Interface` do not
//!     choose next hops: the engine's router list, its Route Information
//!     ([RFC 4191]) and Redirects do.
//! - **Multicast.** Groups the application joins on the smoltcp
//!   `Interface` (`join_multicast_group`: mDNS `ff02::fb`, LLMNR
//!   `ff02::1:3`, its own) are noticed by the adapter from the report
//!   smoltcp tries to send, joined in the engine, reported by the
//!   engine's MLDv2 listener, and programmed into the NIC's filter
//!   ([`MulticastFilter`]). IPv6 packets to groups the interface has not
//!   joined are dropped before smoltcp sees them ([RFC 4291 §2.7]).
//! - **Hop limit.** The Cur Hop Limit of the latest Router Advertisement
//!   replaces smoltcp's fixed 64 in every IPv6 packet it sends with 64
//!   ([RFC 4861 §6.3.4]). A socket that sets 64 explicitly gets the RA's
//!   value too; any other explicit value is kept.
//! - **Addresses.** The engine's usable addresses are kept in smoltcp
//!   (preferred global ones first, so a small `IFACE_MAX_ADDR_COUNT` with
//!   an IPv4 address still gets the global address); addresses the
//!   application set itself (IPv4, or IPv6 with `update_ip_addrs`) are
//!   left alone. IPv6 addresses should be added with
//!   [`Adapter::add_static_address`] instead, so that they pass DAD
//!   ([RFC 4862 §5.4]) and neighbors can resolve them.
//!
//! ```
//! use ndp_smoltcp::{Adapter, Config, MacAddr};
//! use smoltcp::iface::{SocketSet, SocketStorage};
//! use smoltcp::phy::{Loopback, Medium};
//! use smoltcp::time::Instant;
//!
//! let mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
//! let nic = Loopback::new(Medium::Ethernet); // a board's Ethernet driver
//! // RFC 7217 identifiers with the device's secret, kept in flash
//! // (Config::eui64 forms them from the MAC instead).
//! let secret = *b"device's secret!";
//! let mut adapter = Adapter::new(nic, Config::stable(mac, 7, secret), Instant::ZERO)?;
//! let mut iface = adapter.new_interface(Instant::ZERO);
//! let mut storage = [SocketStorage::EMPTY; 2];
//! let mut sockets = SocketSet::new(&mut storage[..]);
//! // The main loop: poll, then sleep until `poll_delay` or a frame arrives.
//! let now = Instant::from_millis(10);
//! adapter.poll(now, &mut iface, &mut sockets);
//! while let Some(event) = adapter.poll_event() {
//!     let _ = event; // addresses, routers, DNS, drops, ...
//! }
//! let _sleep = adapter.poll_delay(now, &mut iface, &sockets);
//! # Ok::<(), ndp_smoltcp::Error>(())
//! ```
//!
//! ## smoltcp features
//!
//! ndp-smoltcp turns on smoltcp's `medium-ethernet`, `proto-ipv4`,
//! `proto-ipv6`, `multicast` and `socket-udp`. smoltcp's
//! `proto-ipv6-slaac` must stay off (the engine does SLAAC). Raise
//! `iface-max-addr-count-N` to hold the engine's addresses and yours:
//! with the default of 2 and an IPv4 address, only one IPv6 address fits
//! (the global one; [`AdapterStats::addr_no_room`] and
//! [`Event::AddressNoRoom`] say so). `iface-max-addr-count-5` holds an
//! IPv4 address and every address the engine forms. The application's
//! multicast groups have smoltcp's whole group table
//! (`iface-max-multicast-group-count-N`, 4 by default): the adapter
//! takes the solicited-node groups smoltcp joins for its addresses out
//! of it again, since the engine listens to those.
//!
//! `ndp-smoltcp` is `no_std`, allocation-free and `#![forbid(unsafe_code)]`
//! like the engine.
//!
//! ## Features
//!
//! `stable-iid`, `dns`, `route-info`, `mldv1`, `redirect`,
//! `optimistic-dad` and `gratuitous-na` (all on by default) turn on the
//! `ndp-core` feature of the same name; `ndp-core`'s crate docs say what
//! each does and what it costs in flash. With `dns`, [`ConfigV6`] carries
//! the DNS servers. `defmt` derives `defmt::Format` for the adapter's
//! types and the engine's. `proxy` turns on the engine's ND proxy
//! (configured through [`Adapter::stack_mut`]); while it has prefixes
//! the adapter's software filter passes every solicited-node group, and
//! the board's NIC must pass them too (all multicast: the
//! [`MulticastFilter`] is given only the engine's own groups). The adapter itself adds about 5 KB of flash to
//! the engine and smoltcp (the QEMU board's image, by `cargo xtask
//! size`).
//!
//! [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
//! [RFC 5942]: https://www.rfc-editor.org/rfc/rfc5942
//! [RFC 4191]: https://www.rfc-editor.org/rfc/rfc4191
//! [RFC 4291 §2.7]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7
//! [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
//! [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
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

mod port;

use core::net::{Ipv4Addr, Ipv6Addr};

use ndp_core::addr::{AddrState, Address};
use ndp_core::time::Instant as NdpInstant;
use ndp_core::wire::UnicastAddr;
use ndp_core::{Delivery, Stack};
use smoltcp::iface::{Interface, PollResult, SocketSet};
use smoltcp::phy::{Device, Medium};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpCidr, Ipv6Cidr};

pub use ndp_core::port::DropReason;
pub use ndp_core::port::arp::{ARP_LEARN_BURST, ARP_LEARN_REFILL, ARP_PENDING, ARP_PENDING_TIME};
pub use ndp_core::wire::MacAddr;
pub use ndp_core::{self, Config, StaticAddressError};
pub use smoltcp;

use ndp_core::port::arp::{self, ArpGuard};
use port::{Core, Port};

/// Length of an Ethernet II header: destination, source, EtherType.
pub const ETHERNET_HEADER_LEN: usize = ndp_core::wire::ethernet::HEADER_LEN;
pub use ndp_core::wire::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
/// Largest IP packet the adapter carries: the Ethernet MTU ([RFC 2464]
/// §2, [RFC 894]).
///
/// [RFC 2464]: https://www.rfc-editor.org/rfc/rfc2464
/// [RFC 894]: https://www.rfc-editor.org/rfc/rfc894
pub const IP_MTU: usize = 1500;
/// Largest frame: [`IP_MTU`] plus the Ethernet header. The adapter holds
/// one receive and one transmit buffer of this size.
pub const FRAME_LEN: usize = IP_MTU + ETHERNET_HEADER_LEN;
/// The smallest IP MTU the NIC must carry: IPv6's minimum link MTU
/// ([RFC 8200 §5]).
///
/// [RFC 8200 §5]: https://www.rfc-editor.org/rfc/rfc8200#section-5
pub const MIN_IP_MTU: usize = 1280;
/// Most IPv4 multicast groups the adapter follows for the NIC's filter.
pub const MAX_IPV4_GROUPS: usize = 4;
/// Most multicast MACs the adapter asks a NIC to accept: every group the
/// engine listens to (all-nodes, the solicited-node groups of its
/// addresses, the application's IPv6 groups) and the IPv4 groups.
pub const MAX_MULTICAST_MACS: usize =
    1 + ndp_core::addr::ADDRESSES + ndp_core::APP_GROUPS + 1 + MAX_IPV4_GROUPS;
/// Most frames taken from the NIC per receive call while looking for one
/// that smoltcp should see; bounds the work one call does on a link
/// flooded with Neighbor Discovery or ARP.
pub const MAX_FRAMES_PER_RECEIVE: usize = 64;
/// The one IPv6 neighbor smoltcp knows: its default route points here,
/// and the adapter answers smoltcp's solicitation for it. Nothing is ever
/// sent to it: the adapter sets every frame's destination from the
/// engine's next hop. (`fe80::ffff:ffff:ffff:fffe`, not an address any
/// interface forms: [RFC 5453] reserves the identifier.)
///
/// [RFC 5453]: https://www.rfc-editor.org/rfc/rfc5453
pub const NEXT_HOP_PLACEHOLDER: Ipv6Addr =
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0xffff, 0xffff, 0xffff, 0xfffe);
/// How often smoltcp is told again where [`NEXT_HOP_PLACEHOLDER`] is,
/// well within the 60 s smoltcp keeps a neighbor, and often enough that
/// neighbors learned from ARP do not push it out of smoltcp's cache.
pub const PLACEHOLDER_REFRESH: ndp_core::time::Duration = ndp_core::time::Duration::from_secs(10);
/// How soon a new IPv4 default route in smoltcp (set without an address
/// change) is noticed, and its gateway's MAC asked for.
pub const GATEWAY_CHECK: ndp_core::time::Duration = ndp_core::time::Duration::from_millis(100);
/// Most group changes smoltcp reports in one poll that the adapter
/// follows (smoltcp's group table, up to 16); more are counted in
/// [`AdapterStats::group_no_room`] and reported as [`Event::GroupNoRoom`].
pub const HEARD_GROUPS: usize = if smoltcp::config::IFACE_MAX_MULTICAST_GROUP_COUNT < 16 {
    smoltcp::config::IFACE_MAX_MULTICAST_GROUP_COUNT
} else {
    16
};
/// Adapter events queued before the application takes them.
pub const ADAPTER_EVENTS: usize = 4;

/// Programs a NIC's multicast filter.
///
/// The adapter calls it whenever the set of multicast MAC addresses it
/// needs changes: `33:33:00:00:00:01` (all-nodes), `33:33:ff:xx:xx:xx` for
/// each solicited-node group, one per IPv6 group the application joined,
/// `01:00:5e:00:00:01` (IPv4 all-systems) and one per IPv4 group. A
/// driver whose NIC filters implements it for its device;
/// [`AcceptAllMulticast`] is for NICs left accepting every multicast
/// frame (the adapter filters in software either way).
///
/// ```
/// use ndp_smoltcp::{MacAddr, MulticastFilter};
///
/// /// A NIC with a 64-bit hash filter over the CRC of the address.
/// struct Nic { hash: u64 }
/// struct HashFilter;
///
/// impl MulticastFilter<Nic> for HashFilter {
///     fn set_multicast_macs(&mut self, nic: &mut Nic, macs: &[MacAddr]) {
///         nic.hash = macs
///             .iter()
///             .map(|m| 1u64 << (m.0[5] & 63)) // a real NIC hashes the CRC
///             .fold(0, |h, bit| h | bit);
///     }
/// }
/// let mut nic = Nic { hash: 0 };
/// HashFilter.set_multicast_macs(&mut nic, &[MacAddr([0x33, 0x33, 0, 0, 0, 1])]);
/// assert_eq!(nic.hash, 1 << 1);
/// ```
pub trait MulticastFilter<D> {
    /// Accept exactly these multicast MACs from now on (plus the NIC's own
    /// unicast address and broadcast).
    fn set_multicast_macs(&mut self, device: &mut D, macs: &[MacAddr]);
}

/// The fallback [`MulticastFilter`]: the NIC accepts all multicast and
/// the adapter drops what is not for us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptAllMulticast;

impl<D> MulticastFilter<D> for AcceptAllMulticast {
    fn set_multicast_macs(&mut self, _device: &mut D, _macs: &[MacAddr]) {}
}

/// Why an adapter could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The NIC's IP MTU (its `max_transmission_unit` less the Ethernet
    /// header) is below IPv6's minimum of [`MIN_IP_MTU`]; a driver that
    /// leaves `max_transmission_unit` at its default of 0 lands here.
    MtuTooSmall {
        /// The NIC's `max_transmission_unit`.
        mtu: usize,
    },
    /// The NIC is not an Ethernet device.
    NotEthernet,
    /// `config.mac` is not a unicast address.
    NotUnicastMac,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::MtuTooSmall { mtu } => write!(
                f,
                "the NIC's max_transmission_unit is {mtu}; IPv6 needs at least {}",
                MIN_IP_MTU + ETHERNET_HEADER_LEN
            ),
            Error::NotEthernet => f.write_str("the NIC is not an Ethernet device"),
            Error::NotUnicastMac => f.write_str("the MAC address is not a unicast address"),
        }
    }
}

impl core::error::Error for Error {}

/// What [`Adapter::poll_event`] reports: the engine's events, and the
/// adapter's own about smoltcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// An event of the engine.
    Engine(ndp_core::Event),
    /// A usable address could not be given to smoltcp: its address table
    /// (`IFACE_MAX_ADDR_COUNT`) is full. Raise smoltcp's
    /// `iface-max-addr-count-N` feature.
    AddressNoRoom {
        /// The address left out.
        addr: Ipv6Addr,
    },
    /// A group the application joined on smoltcp's `Interface` could not
    /// be listened to: the engine has [`ndp_core::APP_GROUPS`] IPv6
    /// groups, and the adapter [`MAX_IPV4_GROUPS`] IPv4 ones.
    GroupNoRoom {
        /// The group.
        group: IpAddress,
    },
    /// IPv6 packets smoltcp sent were dropped (a socket's `send` had
    /// returned `Ok`). Consecutive drops for one reason are summed.
    Dropped {
        /// Why.
        reason: DropReason,
        /// How many since the last such event.
        count: u32,
    },
}

/// The IPv6 configuration the engine reached, in the shape of
/// embassy-net's `StaticConfigV6`: see [`Adapter::config_v6`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigV6 {
    /// The first preferred global address.
    pub address: Ipv6Cidr,
    /// The default router, if there is one.
    pub gateway: Option<Ipv6Addr>,
    /// DNS servers from Router Advertisements (RFC 8106), best first;
    /// always empty without the `dns` feature.
    pub dns_servers: heapless::Vec<Ipv6Addr, 3>,
}

macro_rules! counters {
    ($( $(#[$m:meta])* $field:ident, )+) => {
        /// The adapter's own counters (the engine's are in
        /// [`ndp_core::Stats`]). All saturate at `u32::MAX`.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct AdapterStats {
            $( $(#[$m])* pub $field: u32, )+
        }

        impl AdapterStats {
            /// Every counter as `(name, value)`.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
                [$( (stringify!($field), self.$field), )+].into_iter()
            }
        }
    };
}

counters! {
    /// Frames taken from the NIC.
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
    /// IPv6 packets handed to smoltcp.
    rx_ip,
    /// IPv4 packets handed to smoltcp.
    rx_ipv4,
    /// Dropped: a malformed IPv4 header (version, header length, total
    /// length).
    rx_ipv4_malformed,
    /// ARP messages handed to smoltcp.
    rx_arp,
    /// Dropped: a malformed or non-Ethernet/IPv4 ARP message.
    rx_arp_malformed,
    /// Dropped: ARP not about one of our IPv4 addresses.
    rx_arp_not_for_us,
    /// Dropped: an ARP reply smoltcp had not asked for.
    rx_arp_unsolicited,
    /// Dropped: ARP from a group, broadcast or zero sender.
    rx_arp_bad_sender,
    /// ARP requests answered by the adapter without smoltcp learning the
    /// sender (beyond [`ARP_LEARN_BURST`]).
    arp_answered,
    /// smoltcp's Neighbor Solicitations answered inside the adapter.
    smoltcp_ns_answered,
    /// smoltcp's own MLD reports, not sent (the engine reports).
    smoltcp_mld_dropped,
    /// ARP requests the adapter sent for smoltcp's IPv4 gateway, after
    /// it changed or smoltcp's neighbor cache was emptied.
    arp_gateway_asked,
    /// IPv6 packets from smoltcp sent at once.
    tx_ip,
    /// IPv6 packets from smoltcp kept by the engine until their next hop
    /// is resolved.
    tx_queued,
    /// IPv6 packets from smoltcp whose hop limit was set from the RA.
    tx_hop_limit_set,
    /// Dropped packets from smoltcp: no route to the destination.
    tx_no_route,
    /// Dropped packets from smoltcp: the engine's queue or neighbor table
    /// had no room, or too many neighbors were being resolved.
    tx_no_room,
    /// Dropped packets from smoltcp: not a well-formed IPv6 packet.
    tx_malformed,
    /// Dropped packets from smoltcp: larger than [`FRAME_LEN`] (smoltcp
    /// never sends those: it is told the MTU).
    tx_oversize,
    /// Dropped packets from smoltcp: IPv6 is disabled on the interface
    /// (duplicate MAC-derived address, RFC 4862 §5.4.5).
    tx_disabled,
    /// IPv4 and ARP frames from smoltcp sent unchanged.
    tx_ipv4,
    /// Frames the engine sent: Neighbor Discovery, MLD and released
    /// packets.
    tx_engine,
    /// Engine errors about smoltcp's packets (Destination Unreachable)
    /// handed back to smoltcp.
    local_delivered,
    /// Such errors dropped because a received packet was still waiting
    /// for smoltcp.
    local_dropped,
    /// Times the NIC had no transmit buffer for the engine.
    tx_device_busy,
    /// Usable addresses smoltcp had no room for
    /// (`smoltcp::config::IFACE_MAX_ADDR_COUNT`), counted per sync.
    addr_no_room,
    /// Times the placeholder default route could not be installed
    /// (smoltcp's route table full).
    route_no_room,
    /// Groups joined on smoltcp's `Interface` the adapter could not
    /// follow ([`Event::GroupNoRoom`]).
    group_no_room,
    /// Adapter events dropped because the application did not take them.
    events_dropped,
}

fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// The checks [`Adapter::new`] makes, for a caller that wants to keep the
/// device when they fail: the NIC is Ethernet, carries IPv6's minimum MTU
/// (its driver set `max_transmission_unit`), and `config.mac` is unicast.
pub fn check<D: Device>(device: &D, config: &Config) -> Result<(), Error> {
    let caps = device.capabilities();
    if caps.medium != Medium::Ethernet {
        return Err(Error::NotEthernet);
    }
    let mtu = caps.max_transmission_unit;
    if mtu < MIN_IP_MTU + ETHERNET_HEADER_LEN {
        return Err(Error::MtuTooSmall { mtu });
    }
    if config.mac.is_multicast() {
        return Err(Error::NotUnicastMac);
    }
    Ok(())
}

/// The engine under a smoltcp `Interface`: see the [crate documentation].
///
/// `D` is the Ethernet NIC, `F` its multicast filter; `NEIGHBORS`,
/// `QUEUE_SLOTS` and `QUEUE_BYTES` size the engine's [`Stack`] (see
/// [`Adapter::with_capacity`]).
///
/// The adapter is not a smoltcp `Device` itself: smoltcp's
/// `iface.poll(now, &mut device, sockets)` would run without the engine,
/// and nothing would happen. Drive it with [`Adapter::poll`], and make
/// the `Interface` with [`Adapter::new_interface`]. The usual smoltcp
/// call does not compile:
///
/// ```compile_fail
/// # use ndp_smoltcp::{Adapter, Config, MacAddr};
/// # use smoltcp::iface::{SocketSet, SocketStorage};
/// # use smoltcp::phy::{Loopback, Medium};
/// # use smoltcp::time::Instant;
/// # let config = Config::eui64(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]), 7);
/// # let mut adapter = Adapter::new(Loopback::new(Medium::Ethernet), config, Instant::ZERO).unwrap();
/// # let mut iface = adapter.new_interface(Instant::ZERO);
/// # let mut storage = [SocketStorage::EMPTY; 1];
/// # let mut sockets = SocketSet::new(&mut storage[..]);
/// iface.poll(Instant::ZERO, &mut adapter, &mut sockets); // Adapter is not a Device
/// ```
///
/// ```
/// use ndp_smoltcp::{Adapter, Config, MacAddr, Event};
/// use ndp_smoltcp::ndp_core::Event as EngineEvent;
/// use smoltcp::iface::{SocketSet, SocketStorage};
/// use smoltcp::phy::{Loopback, Medium};
/// use smoltcp::time::Instant;
///
/// let mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
/// let mut adapter = Adapter::new(Loopback::new(Medium::Ethernet), Config::eui64(mac, 7), Instant::ZERO)?;
/// let mut iface = adapter.new_interface(Instant::ZERO);
/// let mut storage = [SocketStorage::EMPTY; 1];
/// let mut sockets = SocketSet::new(&mut storage[..]);
/// let mut link_local = None;
/// for ms in 0..3000 {
///     adapter.poll(Instant::from_millis(ms), &mut iface, &mut sockets);
///     while let Some(e) = adapter.poll_event() {
///         if let Event::Engine(EngineEvent::Address { addr, .. }) = e {
///             link_local = Some(addr);
///         }
///     }
/// }
/// // The link-local address passed DAD and is smoltcp's too.
/// let ll = link_local.unwrap();
/// assert!(iface.ip_addrs().iter().any(|c| c.address() == ll.into()));
/// # Ok::<(), ndp_smoltcp::Error>(())
/// ```
pub struct Adapter<
    D,
    F = AcceptAllMulticast,
    const NEIGHBORS: usize = 8,
    const QUEUE_SLOTS: usize = 4,
    const QUEUE_BYTES: usize = 3072,
> {
    device: D,
    filter: F,
    /// A frame for smoltcp ([`Core::rx_len`] long).
    rx: [u8; FRAME_LEN],
    core: Core<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>,
    /// [`Stack::generation`] when the filter was last brought in line;
    /// `None`: look again (the IPv4 groups changed).
    filter_synced: Option<u32>,
    /// The IPv6 addresses the adapter put into smoltcp.
    installed: heapless::Vec<Ipv6Addr, { ndp_core::addr::ADDRESSES }>,
    /// IPv4 groups the application joined on smoltcp's Interface.
    ipv4_groups: heapless::Vec<Ipv4Addr, MAX_IPV4_GROUPS>,
    /// [`Stack::generation`] at the last sync; `None` before the first.
    synced: Option<u32>,
    /// smoltcp's IPv4 default gateway as last seen, our address in its
    /// subnet, and whether to ask for its MAC.
    gateway: Option<Ipv4Addr>,
    ask_gateway: bool,
    /// When to look at smoltcp's route table next.
    gateway_check_at: NdpInstant,
}

impl<D: Device> Adapter<D> {
    /// An adapter for `device`, whose NIC accepts all multicast, with an
    /// engine of the default capacities set up from `config`
    /// (`config.mac` must be the NIC's MAC).
    ///
    /// Fails if the NIC is not Ethernet, cannot carry IPv6's minimum MTU
    /// (a driver must set `max_transmission_unit`), or `config.mac` is a
    /// group address.
    pub fn new(device: D, config: Config, now: Instant) -> Result<Self, Error> {
        Self::with_capacity(device, AcceptAllMulticast, config, now)
    }
}

impl<D: Device, F: MulticastFilter<D>> Adapter<D, F> {
    /// An adapter for `device` that programs the NIC's multicast filter
    /// with `filter`; otherwise as [`Adapter::new`].
    pub fn with_filter(device: D, filter: F, config: Config, now: Instant) -> Result<Self, Error> {
        Self::with_capacity(device, filter, config, now)
    }
}

impl<
    D: Device,
    F: MulticastFilter<D>,
    const NEIGHBORS: usize,
    const QUEUE_SLOTS: usize,
    const QUEUE_BYTES: usize,
> Adapter<D, F, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// An adapter whose engine has the capacities of the type's
    /// parameters; otherwise as [`Adapter::with_filter`].
    ///
    /// ```
    /// use ndp_smoltcp::{AcceptAllMulticast, Adapter, Config, MacAddr};
    /// use smoltcp::phy::{Loopback, Medium};
    /// use smoltcp::time::Instant;
    ///
    /// let config = Config::eui64(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]), 7);
    /// // 32 neighbors, 8 queued packets in 6 KiB.
    /// let adapter: Adapter<_, _, 32, 8, 6144> =
    ///     Adapter::with_capacity(Loopback::new(Medium::Ethernet), AcceptAllMulticast, config, Instant::ZERO)?;
    /// # let _ = adapter;
    /// # Ok::<(), ndp_smoltcp::Error>(())
    /// ```
    pub fn with_capacity(
        device: D,
        filter: F,
        config: Config,
        now: Instant,
    ) -> Result<Self, Error> {
        check(&device, &config)?;
        let mac = config.mac;
        let now = NdpInstant::from(now);
        Ok(Adapter {
            device,
            filter,
            rx: [0; FRAME_LEN],
            core: Core {
                stack: Stack::with_capacity(config, now),
                mac,
                now,
                rx_len: None,
                tx: [0; FRAME_LEN],
                solicited: heapless::Vec::new(),
                prime_at: now,
                heard: heapless::Vec::new(),
                group_macs: heapless::Vec::new(),
                addrs: heapless::Vec::new(),
                arp: ArpGuard::new(now),
                wake_at: None,
                events: heapless::Deque::new(),
                stats: AdapterStats::default(),
            },
            filter_synced: None,
            installed: heapless::Vec::new(),
            ipv4_groups: heapless::Vec::new(),
            synced: None,
            gateway: None,
            ask_gateway: false,
            gateway_check_at: now,
        })
    }

    /// The smoltcp `Interface` to run over this adapter: Ethernet, with
    /// the engine's MAC, and smoltcp's random seed from the engine's
    /// seed. smoltcp's SLAAC stays off.
    pub fn new_interface(&mut self, now: Instant) -> Interface {
        let mut c = smoltcp::iface::Config::new(smoltcp::wire::HardwareAddress::Ethernet(
            smoltcp::wire::EthernetAddress(self.core.mac.0),
        ));
        c.random_seed = self.core.stack.config().seed;
        let mut iface = Interface::new(c, &mut Port(self), now);
        self.synced = None;
        self.watch_addresses(&iface);
        self.sync(&mut iface);
        iface
    }

    /// Run smoltcp and the engine: receive and dispatch frames, send what
    /// smoltcp and the engine have to send, run the engine's timers, and
    /// bring smoltcp's addresses and the NIC's multicast filter in line
    /// with the engine. Call it whenever a frame arrives or
    /// [`Adapter::poll_delay`] runs out.
    pub fn poll(
        &mut self,
        now: Instant,
        iface: &mut Interface,
        sockets: &mut SocketSet<'_>,
    ) -> PollResult {
        self.core.advance(now);
        let mut result = PollResult::None;
        // Timers first when some are due, so that smoltcp sees addresses
        // made usable by them before it processes packets for them.
        if self.engine_wake_at().is_some_and(|at| at <= self.core.now) {
            self.flush(now);
        }
        // What the application changed on smoltcp since the last poll
        // (its addresses: the ARP guard needs the IPv4 ones). Nothing in
        // smoltcp's own poll changes them.
        self.watch_addresses(iface);
        self.sync(iface);
        self.ask_for_gateway(now);
        // Engine errors about smoltcp's own packets, and answers to its
        // solicitations, go back to smoltcp, which may send more: a few
        // rounds, bounded.
        for _ in 0..4 {
            if iface.poll(now, &mut Port(self), sockets) == PollResult::SocketStateChanged {
                result = PollResult::SocketStateChanged;
            }
            self.flush(now);
            self.sync(iface);
            if self.core.rx_len.is_none() && self.core.solicited.is_empty() {
                break;
            }
        }
        self.core.wake_at = Some(self.core.stack.poll_at());
        result
    }

    /// The engine's next deadline, from the last poll when nothing has
    /// touched the engine since.
    fn engine_wake_at(&mut self) -> Option<NdpInstant> {
        match self.core.wake_at {
            Some(at) => at,
            None => {
                let at = self.core.stack.poll_at();
                self.core.wake_at = Some(at);
                at
            }
        }
    }

    /// How long the caller may sleep before the next [`Adapter::poll`] if
    /// no frame arrives: the sooner of smoltcp's and the engine's
    /// deadlines; `None` when neither has one (poll at least every 49
    /// days even then: the engine's clock is 32-bit milliseconds, see
    /// [`ndp_core::time`]).
    #[must_use]
    pub fn poll_delay(
        &mut self,
        now: Instant,
        iface: &mut Interface,
        sockets: &SocketSet<'_>,
    ) -> Option<Duration> {
        if self.core.rx_len.is_some() || !self.core.solicited.is_empty() {
            return Some(Duration::ZERO);
        }
        let engine = self.engine_wake_at().map(|at| {
            let wait = at.saturating_duration_since(NdpInstant::from(now));
            Duration::from_millis(u64::from(wait.as_millis()))
        });
        match (iface.poll_delay(now, sockets), engine) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next event: the adapter's own first, then the engine's
    /// ([`Stack::poll_event`]).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(e) = self.core.events.pop_front() {
            return Some(e);
        }
        self.stack_mut().poll_event().map(Event::Engine)
    }

    /// The engine: addresses, neighbors, routers, DNS servers, counters.
    pub fn stack(&self) -> &Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES> {
        &self.core.stack
    }

    /// The engine, mutably: to confirm reachability, join groups or set
    /// static addresses directly.
    pub fn stack_mut(&mut self) -> &mut Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES> {
        self.core.wake_at = None;
        &mut self.core.stack
    }

    /// Add a static IPv6 address. It goes through DAD like every address
    /// ([RFC 4862 §5.4]) and reaches smoltcp once usable; see
    /// [`Stack::add_static_address`].
    ///
    /// [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
    pub fn add_static_address(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), StaticAddressError> {
        let now = NdpInstant::from(now);
        self.stack_mut().add_static_address(now, addr, prefix_len)
    }

    /// Remove a static IPv6 address set with
    /// [`Adapter::add_static_address`]; false if there is none.
    pub fn remove_static_address(&mut self, now: Instant, addr: Ipv6Addr) -> bool {
        let now = NdpInstant::from(now);
        self.stack_mut().remove_static_address(now, addr)
    }

    /// The first preferred global address, with the default router and
    /// the DNS servers; `None` until there is such an address.
    pub fn config_v6(&self) -> Option<ConfigV6> {
        let a = self
            .core
            .stack
            .addresses()
            .find(|a| a.is_global() && a.state == AddrState::Preferred)?;
        Some(ConfigV6 {
            address: cidr(&a),
            gateway: self.core.stack.default_router(),
            #[cfg(feature = "dns")]
            dns_servers: self.core.stack.dns_servers().take(3).collect(),
            #[cfg(not(feature = "dns"))]
            dns_servers: heapless::Vec::new(),
        })
    }

    /// The NIC.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The NIC, mutably.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// The adapter's counters.
    pub fn stats(&self) -> &AdapterStats {
        &self.core.stats
    }

    /// Send what the engine has to send: its own messages and released
    /// packets onto the link, its errors about smoltcp's packets back to
    /// smoltcp.
    fn flush(&mut self, now: Instant) {
        loop {
            // RFC 4862 §5.4.2: the groups (all-nodes, the solicited-node
            // group of a tentative address) are joined before a message
            // that may draw an answer to them leaves: a fast router (slirp
            // answers inside the transmit) must not meet a closed filter.
            self.sync_filter();
            let Some(token) = self.device.transmit(now) else {
                // The engine keeps its packets until the NIC has room, but
                // its state goes on: lifetimes end and neighbors are given
                // up on time, so what smoltcp and the application see does
                // not wait for the NIC.
                self.core.stack.handle_timeout(self.core.now);
                if self
                    .core
                    .stack
                    .poll_at()
                    .is_some_and(|at| at <= self.core.now)
                {
                    bump(&mut self.core.stats.tx_device_busy);
                }
                return;
            };
            let Some(t) = self
                .core
                .stack
                .poll_transmit(self.core.now, &mut self.core.tx)
            else {
                return;
            };
            let packet = self.core.tx.get(..t.len).unwrap_or(&[]);
            match t.delivery {
                Delivery::Link(dst) => {
                    port::send_frame(token, dst, self.core.mac, ETHERTYPE_IPV6, packet);
                    bump(&mut self.core.stats.tx_engine);
                }
                Delivery::Local => {
                    drop(token);
                    let len = packet.len().saturating_add(ETHERNET_HEADER_LEN);
                    if self.core.rx_len.is_none()
                        && let Some(frame) = self.rx.get_mut(..len)
                    {
                        port::write_frame(
                            frame,
                            self.core.mac,
                            self.core.mac,
                            ETHERTYPE_IPV6,
                            packet,
                        );
                        self.core.rx_len = Some(len);
                        bump(&mut self.core.stats.local_delivered);
                    } else {
                        bump(&mut self.core.stats.local_dropped);
                    }
                }
            }
        }
    }

    /// Bring smoltcp's addresses and default route, the groups and the
    /// NIC's filter in line with the engine.
    /// Cheap when nothing changed, which is nearly always: it runs after
    /// every round of smoltcp's poll.
    #[inline(always)]
    fn sync(&mut self, iface: &mut Interface) {
        if self.core.heard.is_empty()
            && self.synced == Some(self.core.stack.generation())
            && self.core.now < self.core.prime_at
        {
            return;
        }
        self.sync_changed(iface);
    }

    #[inline(never)]
    fn sync_changed(&mut self, iface: &mut Interface) {
        if !self.core.heard.is_empty() {
            self.sync_app_groups(iface);
        }
        // Nothing mirrored changed since the last sync.
        let generation = self.core.stack.generation();
        if self.synced != Some(generation) {
            self.synced = Some(generation);
            self.sync_addresses(iface);
            self.watch_addresses(iface);
            // smoltcp resolves every IPv6 destination through one default
            // route (the application's, if it set one); the engine picks
            // the real next hop of each frame.
            let routes = iface.routes_mut();
            if routes.get_default_ipv6_route().is_none()
                && routes.add_default_ipv6_route(NEXT_HOP_PLACEHOLDER).is_err()
            {
                bump(&mut self.core.stats.route_no_room);
            }
            self.sync_filter();
        }
        // smoltcp learns the placeholder's MAC before it has anything to
        // send: a reply it makes to a received packet (an echo reply) is
        // dropped, not kept, when its next hop is unknown. The answer is
        // the next frame smoltcp receives.
        let now = self.core.now;
        if now >= self.core.prime_at {
            let queued = self
                .core
                .solicited
                .iter()
                .any(|(t, _)| *t == NEXT_HOP_PLACEHOLDER);
            if queued
                || self
                    .core
                    .solicited
                    .push((NEXT_HOP_PLACEHOLDER, Ipv6Addr::UNSPECIFIED))
                    .is_ok()
            {
                self.core.prime_at = now + PLACEHOLDER_REFRESH;
            }
        }
    }

    /// Notice changes to smoltcp's addresses, whoever made them: each one
    /// empties smoltcp's neighbor cache (`update_ip_addrs`), so the
    /// placeholder must be taught again; and the ARP guard needs the
    /// current IPv4 addresses (DHCP changes them without the engine).
    fn watch_addresses(&mut self, iface: &Interface) {
        let addrs_changed = iface.ip_addrs() != self.core.addrs.as_slice();
        // The route table is looked at with every address change, and
        // otherwise at most every GATEWAY_CHECK: this runs on every poll.
        if !addrs_changed && self.core.now < self.gateway_check_at {
            return;
        }
        self.gateway_check_at = self.core.now + GATEWAY_CHECK;
        let gateway = iface
            .routes()
            .get_default_ipv4_route()
            .and_then(|r| match r.via_router {
                IpAddress::Ipv4(g) => Some(g),
                #[allow(unreachable_patterns)]
                _ => None,
            });
        if gateway != self.gateway || addrs_changed {
            // smoltcp keeps no IPv4 packet while it asks for a next hop,
            // and `update_ip_addrs` empties its neighbor cache: a reply to
            // a host that learned our MAC without asking (a DHCP server)
            // would be lost. Ask for the gateway ahead of any traffic.
            self.gateway = gateway;
            self.ask_gateway = gateway.is_some();
        }
        if !addrs_changed {
            return;
        }
        self.core.addrs = iface.ip_addrs().iter().copied().collect();
        // At once: `now`, not a fixed instant, which would be in the
        // future for half of every 49.7 days (instants compare modulo
        // 2^32 ms, see ndp_core::time).
        self.core.prime_at = self.core.now;
    }

    /// Send the ARP request for the IPv4 gateway that [`Self::watch_addresses`]
    /// asked for, as smoltcp would (from our address in the gateway's
    /// subnet), and let its answer through the ARP guard.
    fn ask_for_gateway(&mut self, now: Instant) {
        if !self.ask_gateway {
            return;
        }
        // From our address in the gateway's subnet, as smoltcp would ask.
        let source = self.gateway.and_then(|g| {
            self.core.addrs.iter().find_map(|c| match c {
                IpCidr::Ipv4(c) if c.contains_addr(&g) => Some(c.address()),
                _ => None,
            })
        });
        let (Some(gateway), Some(source)) = (self.gateway, source) else {
            self.ask_gateway = false;
            return;
        };
        let Some(token) = self.device.transmit(now) else {
            return;
        };
        self.ask_gateway = false;
        let request = arp::Arp::request(self.core.mac, source, gateway);
        port::send_frame(
            token,
            MacAddr::BROADCAST,
            self.core.mac,
            ETHERTYPE_ARP,
            &request,
        );
        self.core.arp.asked(gateway, self.core.now);
        bump(&mut self.core.stats.arp_gateway_asked);
    }

    /// Follow the groups smoltcp reported a change for: listen to those
    /// the application joined on smoltcp's Interface, stop for those it
    /// left.
    fn sync_app_groups(&mut self, iface: &mut Interface) {
        let now = self.core.now;
        while let Some(group) = self.core.heard.pop() {
            let joined = iface.has_multicast_group(group);
            match group {
                IpAddress::Ipv6(g) => {
                    let listening = self.core.stack.app_groups().any(|a| a.get() == g);
                    if joined && !listening {
                        if self.core.stack.join_group(now, g).is_err() {
                            bump(&mut self.core.stats.group_no_room);
                            self.core.push_event(Event::GroupNoRoom { group });
                        }
                    } else if !joined && listening {
                        self.core.stack.leave_group(now, g);
                    }
                }
                IpAddress::Ipv4(g) => {
                    let at = self.ipv4_groups.iter().position(|x| *x == g);
                    match (joined, at) {
                        (true, None) if self.ipv4_groups.push(g).is_err() => {
                            bump(&mut self.core.stats.group_no_room);
                            self.core.push_event(Event::GroupNoRoom { group });
                        }
                        (false, Some(i)) => {
                            self.ipv4_groups.swap_remove(i);
                        }
                        _ => {}
                    }
                    self.filter_synced = None;
                }
            }
        }
        self.core.wake_at = None;
        self.sync_filter();
    }

    /// Program the NIC's multicast filter when the groups differ from
    /// what it was last given. The engine's groups change only with
    /// [`Stack::generation`], so this is cheap when nothing changed (it
    /// runs before every frame the engine sends).
    fn sync_filter(&mut self) {
        let generation = self.core.stack.generation();
        if self.filter_synced == Some(generation) {
            return;
        }
        self.filter_synced = Some(generation);
        let macs: heapless::Vec<MacAddr, MAX_MULTICAST_MACS> = self
            .core
            .stack
            .multicast_groups()
            .map(|g| g.mac())
            .chain(
                core::iter::once(Ipv4Addr::new(224, 0, 0, 1))
                    .chain(self.ipv4_groups.iter().copied())
                    .map(ipv4_group_mac),
            )
            .take(MAX_MULTICAST_MACS)
            .collect();
        // Never empty (all-nodes, all-systems): the first call programs.
        if self.core.group_macs != macs {
            self.filter.set_multicast_macs(&mut self.device, &macs);
            self.core.group_macs = macs;
        }
    }

    fn sync_addresses(&mut self, iface: &mut Interface) {
        let stack = &self.core.stack;
        // RFC 4862 §5.4.5: a disabled interface has no addresses.
        let disabled = stack.is_disabled();
        // Preferred global addresses first: with little room they are
        // the ones that matter (a link-local address reaches only the
        // link). Then the preferred link-local one, optimistic ones,
        // deprecated ones. smoltcp's source selection keeps the earlier
        // of equally good candidates (RFC 6724 rule 3 avoids deprecated
        // addresses; RFC 4429 §3.3 ranks optimistic ones with them).
        let rank = |a: &Address| match (a.state, a.is_global()) {
            (AddrState::Preferred, true) => Some(0),
            (AddrState::Preferred, false) => Some(1),
            (AddrState::Optimistic, _) => Some(2),
            (AddrState::Deprecated, _) => Some(3),
            _ => None,
        };
        let mut wanted: heapless::Vec<(u8, Ipv6Addr), { ndp_core::addr::ADDRESSES }> = stack
            .addresses()
            .filter(|_| !disabled)
            .filter_map(|a| rank(&a).map(|r| (r, a.addr.get())))
            .collect();
        wanted.sort_unstable_by_key(|(r, _)| *r);
        let installed = &self.installed;
        let mut now_installed: heapless::Vec<Ipv6Addr, { ndp_core::addr::ADDRESSES }> =
            heapless::Vec::new();
        let mut left_out: Option<Ipv6Addr> = None;
        // Unchanged: nothing to do (smoltcp redoes its groups on every
        // update).
        let current = iface.ip_addrs().iter().filter_map(|c| match c {
            IpCidr::Ipv6(c) if installed.contains(&c.address()) => Some(c.address()),
            _ => None,
        });
        if current.eq(wanted.iter().map(|(_, w)| *w)) {
            return;
        }
        iface.update_ip_addrs(|addrs| {
            // Ours go, and come back in rank order; the application's stay.
            addrs.retain(|c| !matches!(c, IpCidr::Ipv6(c) if installed.contains(&c.address())));
            for (_, w) in &wanted {
                if addrs.iter().any(|c| c.address() == IpAddress::Ipv6(*w)) {
                    continue;
                }
                if addrs.push(IpCidr::Ipv6(Ipv6Cidr::new(*w, 128))).is_ok() {
                    let _ = now_installed.push(*w);
                } else {
                    left_out = left_out.or(Some(*w));
                }
            }
        });
        self.installed = now_installed;
        // smoltcp joins the solicited-node group of every address it is
        // given, into the table the application's groups share
        // (`iface-max-multicast-group-count`, 4 by default); the engine
        // listens to those groups itself, so smoltcp leaves them again.
        // (smoltcp still accepts the groups of its own addresses.)
        for a in self.installed.iter().filter_map(|a| UnicastAddr::new(*a)) {
            let _ = iface.leave_multicast_group(IpAddress::Ipv6(a.solicited_node().get()));
        }
        if let Some(addr) = left_out {
            bump(&mut self.core.stats.addr_no_room);
            self.core.push_event(Event::AddressNoRoom { addr });
        }
    }
}

/// An address as an IPv6 CIDR with its own prefix length.
fn cidr(a: &Address) -> Ipv6Cidr {
    Ipv6Cidr::new(a.addr.get(), a.prefix_len)
}

/// The Ethernet group address of an IPv4 group: `01:00:5e` and the low
/// 23 bits (RFC 1112 §6.4).
fn ipv4_group_mac(g: Ipv4Addr) -> MacAddr {
    let [_, b, c, d] = g.octets();
    MacAddr([0x01, 0x00, 0x5e, b & 0x7f, c, d])
}
