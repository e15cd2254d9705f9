//! # ndp-smoltcp
//!
//! Runs the [`ndp_core`] Neighbor Discovery and SLAAC engine underneath a
//! [smoltcp](https://docs.rs/smoltcp) `Interface` on Ethernet.
//!
//! smoltcp's own Neighbor Discovery is minimal (no NUD, no DAD, no queue
//! for unresolved neighbors), so the [`Adapter`] takes layer 2 over for
//! IPv6: it wraps the Ethernet [`Device`] (the NIC driver) and presents
//! `Medium::Ip` to smoltcp, which therefore never sends or sees a Neighbor
//! Discovery or MLD message.
//!
//! - Receive: frames are filtered by destination MAC (ours, broadcast, the
//!   groups the engine listens to); Neighbor Discovery and MLD go to the
//!   [`Stack`]; fragmented ones are dropped (RFC 6980 §5); every other
//!   IPv6 packet goes to smoltcp.
//! - Transmit: for each packet smoltcp produces, the [`Stack`] picks the
//!   next hop and its MAC, or keeps the packet until the neighbor is
//!   resolved.
//! - Sync: the engine's usable addresses (optimistic, preferred,
//!   deprecated; never tentative or duplicate) become smoltcp's addresses,
//!   its best default router smoltcp's default route, and its groups the
//!   NIC's multicast filter (through [`MulticastFilter`]).
//!
//! ```
//! use ndp_core::{Config, wire::MacAddr};
//! use ndp_smoltcp::Adapter;
//! use smoltcp::iface::{Interface, SocketSet, SocketStorage};
//! use smoltcp::phy::{Loopback, Medium};
//! use smoltcp::time::Instant;
//!
//! let mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
//! let nic = Loopback::new(Medium::Ethernet); // a board's Ethernet driver
//! let mut adapter: Adapter<_> = Adapter::new(nic, Config::new(mac, 7), Instant::ZERO);
//! let mut iface = Interface::new(adapter.interface_config(), &mut adapter, Instant::ZERO);
//! let mut storage = [SocketStorage::EMPTY; 2];
//! let mut sockets = SocketSet::new(&mut storage[..]);
//! // The main loop: poll, then sleep until `poll_delay` or a frame arrives.
//! let now = Instant::from_millis(10);
//! adapter.poll(now, &mut iface, &mut sockets);
//! while let Some(event) = adapter.stack_mut().poll_event() {
//!     let _ = event; // addresses, routers, DNS, ...
//! }
//! let _sleep = adapter.poll_delay(now, &mut iface, &sockets);
//! ```
//!
//! `ndp-smoltcp` is `no_std`, allocation-free and `#![forbid(unsafe_code)]`
//! like the engine. It needs smoltcp with `medium-ip` and `proto-ipv6`;
//! smoltcp's `proto-ipv6-slaac` and `multicast` features must stay off
//! (the engine does SLAAC and MLD).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::Ipv6Addr;

use ndp_core::addr::{AddrState, Address};
use ndp_core::time::Instant as NdpInstant;
use ndp_core::wire::ipv6::{NEXT_HEADER_ICMPV6, upper_layer};
use ndp_core::wire::{MacAddr, MessageType};
use ndp_core::{Config, Delivery, Dispatch, RouteError, RxMeta, SendError, Stack};
use smoltcp::iface::{Interface, PollResult, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpCidr, Ipv6Cidr};

/// Length of an Ethernet II header: destination, source, EtherType.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// EtherType of IPv6 (RFC 2464 §3).
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Largest IPv6 packet the adapter carries: the Ethernet MTU (RFC 2464
/// §2). The adapter holds one receive and one transmit buffer of this
/// size.
pub const IP_MTU: usize = 1500;
/// Most multicast MACs the adapter asks a NIC to accept: ff02::1 and the
/// engine's solicited-node groups.
pub const MAX_MULTICAST_MACS: usize = 9;
/// Most frames taken from the NIC per [`Device::receive`] call while
/// looking for one that smoltcp should see; bounds the work one call does
/// on a link flooded with Neighbor Discovery.
pub const MAX_FRAMES_PER_RECEIVE: usize = 64;

/// Programs a NIC's multicast filter.
///
/// The adapter calls it whenever the set of multicast MAC addresses the
/// engine needs changes (ff02::1's 33:33:00:00:00:01 and one
/// 33:33:ff:xx:xx:xx per solicited-node group). A driver that can filter
/// implements it for its device; [`AcceptAllMulticast`] is for NICs left
/// accepting every multicast frame (the adapter filters in software
/// either way).
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
    /// group the engine listens to.
    rx_filtered,
    /// Dropped: not IPv6 (the adapter carries IPv6 only).
    rx_not_ipv6,
    /// Dropped: a malformed IPv6 header or extension header chain.
    rx_malformed,
    /// Dropped: Neighbor Discovery or MLD in a fragmented packet
    /// (RFC 6980 §5).
    rx_fragmented_nd,
    /// Neighbor Discovery and MLD messages handed to the engine.
    rx_nd,
    /// IPv6 packets handed to smoltcp.
    rx_ip,
    /// Packets from smoltcp sent at once.
    tx_ip,
    /// Packets from smoltcp kept by the engine until their next hop is
    /// resolved.
    tx_queued,
    /// Dropped packets from smoltcp: no route to the destination.
    tx_no_route,
    /// Dropped packets from smoltcp: the engine's queue or neighbor table
    /// had no room, or too many neighbors were being resolved.
    tx_no_room,
    /// Dropped packets from smoltcp: not a well-formed IPv6 packet.
    tx_malformed,
    /// Dropped packets from smoltcp: larger than [`IP_MTU`] (smoltcp never
    /// sends those: it is told the MTU).
    tx_oversize,
    /// Dropped packets from smoltcp: IPv6 is disabled on the interface
    /// (duplicate MAC-derived address, RFC 4862 §5.4.5).
    tx_disabled,
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
    /// Times the default route could not be installed (smoltcp's route
    /// table full).
    route_no_room,
}

fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// Convert smoltcp's clock (microseconds since an arbitrary origin) to the
/// engine's (milliseconds); times before the origin read as zero.
pub fn ndp_instant(t: Instant) -> NdpInstant {
    NdpInstant::from_millis(u64::try_from(t.total_millis()).unwrap_or(0))
}

/// The engine under a smoltcp `Interface`: see the [crate documentation].
///
/// `D` is the Ethernet NIC, `F` its multicast filter; `NEIGHBORS`,
/// `QUEUE_SLOTS` and `QUEUE_BYTES` size the engine's [`Stack`].
///
/// [crate documentation]: crate
pub struct Adapter<
    D,
    F = AcceptAllMulticast,
    const NEIGHBORS: usize = 8,
    const QUEUE_SLOTS: usize = 4,
    const QUEUE_BYTES: usize = 3072,
> {
    device: D,
    filter: F,
    stack: Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>,
    mac: MacAddr,
    now: NdpInstant,
    /// A packet for smoltcp: received, or an engine error about one of its
    /// packets.
    rx: [u8; IP_MTU],
    rx_len: Option<usize>,
    tx: [u8; IP_MTU],
    /// The multicast MACs last given to `filter`; `None` before the first.
    programmed: Option<heapless::Vec<MacAddr, MAX_MULTICAST_MACS>>,
    /// The default router last given to smoltcp.
    route: Option<Ipv6Addr>,
    /// [`Stack::generation`] at the last sync; `None` before the first.
    synced: Option<u32>,
    /// [`Stack::generation`] when the multicast filter was last brought
    /// in line; `None` before the first time.
    filter_synced: Option<u32>,
    /// [`Stack::poll_at`] as of the end of the last poll; `None` when the
    /// engine may have changed since (then it is asked again).
    wake_at: Option<Option<NdpInstant>>,
    stats: AdapterStats,
}

impl<D: Device, const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Adapter<D, AcceptAllMulticast, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// An adapter for `device`, whose NIC accepts all multicast, with an
    /// engine set up from `config` (`config.mac` must be the NIC's MAC).
    pub fn new(device: D, config: Config, now: Instant) -> Self {
        Self::with_filter(device, AcceptAllMulticast, config, now)
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
    /// An adapter for `device` that programs the NIC's multicast filter
    /// with `filter`.
    pub fn with_filter(device: D, filter: F, config: Config, now: Instant) -> Self {
        let mac = config.mac;
        let now = ndp_instant(now);
        Adapter {
            device,
            filter,
            stack: Stack::with_capacity(config, now),
            mac,
            now,
            rx: [0; IP_MTU],
            rx_len: None,
            tx: [0; IP_MTU],
            programmed: None,
            route: None,
            synced: None,
            filter_synced: None,
            wake_at: None,
            stats: AdapterStats::default(),
        }
    }

    /// The smoltcp `Interface` configuration to create the interface over
    /// this adapter with: `Medium::Ip` (so smoltcp's own Neighbor
    /// Discovery is off), SLAAC off, and smoltcp's random seed from the
    /// engine's.
    pub fn interface_config(&self) -> smoltcp::iface::Config {
        let mut c = smoltcp::iface::Config::new(smoltcp::wire::HardwareAddress::Ip);
        c.random_seed = self.stack.config().seed;
        c
    }

    /// Run smoltcp and the engine: receive and dispatch frames, send what
    /// smoltcp and the engine have to send, run the engine's timers, and
    /// bring smoltcp's addresses, default route and the NIC's multicast
    /// filter in line with the engine. Call it whenever a frame arrives
    /// or [`Adapter::poll_delay`] runs out.
    pub fn poll(
        &mut self,
        now: Instant,
        iface: &mut Interface,
        sockets: &mut SocketSet<'_>,
    ) -> PollResult {
        self.advance(now);
        let mut result = PollResult::None;
        // Timers first when some are due, so that smoltcp sees addresses
        // made usable by them before it processes packets for them.
        if self.engine_wake_at().is_some_and(|at| at <= self.now) {
            self.flush(now);
            self.sync(iface);
        }
        // Engine errors about smoltcp's own packets go back to smoltcp,
        // which may send more: a few rounds, bounded.
        for _ in 0..4 {
            if iface.poll(now, self, sockets) == PollResult::SocketStateChanged {
                result = PollResult::SocketStateChanged;
            }
            self.flush(now);
            self.sync(iface);
            if self.rx_len.is_none() {
                break;
            }
        }
        self.wake_at = Some(self.stack.poll_at());
        result
    }

    /// The engine's next deadline, from the last poll when nothing has
    /// touched the engine since.
    fn engine_wake_at(&mut self) -> Option<NdpInstant> {
        match self.wake_at {
            Some(at) => at,
            None => {
                let at = self.stack.poll_at();
                self.wake_at = Some(at);
                at
            }
        }
    }

    /// How long the caller may sleep before the next [`Adapter::poll`] if
    /// no frame arrives: the sooner of smoltcp's and the engine's
    /// deadlines; `None` when neither has one.
    pub fn poll_delay(
        &mut self,
        now: Instant,
        iface: &mut Interface,
        sockets: &SocketSet<'_>,
    ) -> Option<Duration> {
        if self.rx_len.is_some() {
            return Some(Duration::ZERO);
        }
        let engine = self.engine_wake_at().map(|at| {
            let wait = at.saturating_duration_since(ndp_instant(now));
            Duration::from_millis(wait.as_millis())
        });
        match (iface.poll_delay(now, sockets), engine) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The engine: addresses, neighbors, routers, DNS servers, counters,
    /// and its events ([`Stack::poll_event`]).
    pub fn stack(&self) -> &Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES> {
        &self.stack
    }

    /// The engine, mutably: to take its events, or confirm reachability.
    pub fn stack_mut(&mut self) -> &mut Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES> {
        self.wake_at = None;
        &mut self.stack
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
        &self.stats
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(ndp_instant(now));
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
                // The engine keeps its packets until the NIC has room.
                if self.stack.poll_at().is_some_and(|at| at <= self.now) {
                    bump(&mut self.stats.tx_device_busy);
                }
                return;
            };
            let Some(t) = self.stack.poll_transmit(self.now, &mut self.tx) else {
                return;
            };
            let packet = self.tx.get(..t.len).unwrap_or(&[]);
            match t.delivery {
                Delivery::Link(dst) => {
                    send_frame(token, dst, self.mac, packet);
                    bump(&mut self.stats.tx_engine);
                }
                Delivery::Local => {
                    drop(token);
                    if self.rx_len.is_none()
                        && let Some(slot) = self.rx.get_mut(..packet.len())
                    {
                        slot.copy_from_slice(packet);
                        self.rx_len = Some(packet.len());
                        bump(&mut self.stats.local_delivered);
                    } else {
                        bump(&mut self.stats.local_dropped);
                    }
                }
            }
        }
    }

    /// Bring smoltcp's addresses and default route and the NIC's filter in
    /// line with the engine.
    fn sync(&mut self, iface: &mut Interface) {
        // Nothing mirrored changed since the last sync.
        let generation = self.stack.generation();
        if self.synced == Some(generation) {
            return;
        }
        self.synced = Some(generation);
        self.sync_addresses(iface);
        let router = self.stack.default_router();
        if router != self.route {
            let _ = iface.routes_mut().remove_default_ipv6_route();
            self.route = None;
            if let Some(r) = router {
                if iface.routes_mut().add_default_ipv6_route(r).is_ok() {
                    self.route = Some(r);
                } else {
                    bump(&mut self.stats.route_no_room);
                }
            }
        }
        self.sync_filter();
    }

    /// Program the NIC's multicast filter with the engine's groups when
    /// they differ from what it was last given. The groups change only
    /// with [`Stack::generation`], so an unchanged generation costs one
    /// comparison (this runs before every frame the engine sends).
    fn sync_filter(&mut self) {
        let generation = self.stack.generation();
        if self.filter_synced == Some(generation) {
            return;
        }
        self.filter_synced = Some(generation);
        let macs: heapless::Vec<MacAddr, MAX_MULTICAST_MACS> = self
            .stack
            .multicast_groups()
            .map(|g| g.mac())
            .take(MAX_MULTICAST_MACS)
            .collect();
        if self.programmed.as_ref() != Some(&macs) {
            self.filter.set_multicast_macs(&mut self.device, &macs);
            self.programmed = Some(macs);
        }
    }

    fn sync_addresses(&mut self, iface: &mut Interface) {
        let stack = &self.stack;
        // RFC 4862 §5.4.5: a disabled interface has no addresses.
        let disabled = stack.is_disabled();
        let wanted = || {
            // Preferred first, then optimistic, then deprecated: smoltcp's
            // source selection keeps the earlier of equally good
            // candidates (RFC 6724 rule 3 avoids deprecated addresses;
            // RFC 4429 §3.3 ranks optimistic ones with them).
            [
                AddrState::Preferred,
                AddrState::Optimistic,
                AddrState::Deprecated,
            ]
            .into_iter()
            .flat_map(move |state| stack.addresses().filter(move |a| a.state == state))
            .filter(move |_| !disabled)
            .map(cidr)
        };
        let current = iface.ip_addrs().iter().filter_map(|c| match c {
            IpCidr::Ipv6(c) => Some(*c),
            #[allow(unreachable_patterns)]
            _ => None,
        });
        let capacity = smoltcp::config::IFACE_MAX_ADDR_COUNT;
        let unchanged = current.eq(wanted().take(capacity));
        let overflow = wanted().count() > capacity;
        if overflow {
            bump(&mut self.stats.addr_no_room);
        }
        if unchanged {
            return;
        }
        iface.update_ip_addrs(|addrs| {
            addrs.retain(|c| !matches!(c, IpCidr::Ipv6(_)));
            for c in wanted() {
                if addrs.push(IpCidr::Ipv6(c)).is_err() {
                    break;
                }
            }
        });
    }
}

fn cidr(a: Address) -> Ipv6Cidr {
    Ipv6Cidr::new(a.addr.get(), a.prefix_len)
}

/// Frame `packet` to `dst` and hand it to the NIC.
fn send_frame<T: phy::TxToken>(token: T, dst: MacAddr, src: MacAddr, packet: &[u8]) {
    let len = ETHERNET_HEADER_LEN.saturating_add(packet.len());
    token.consume(len, |frame| write_frame(frame, dst, src, packet));
}

fn write_frame(frame: &mut [u8], dst: MacAddr, src: MacAddr, packet: &[u8]) {
    let [d0, d1, d2, d3, d4, d5] = dst.0;
    let [s0, s1, s2, s3, s4, s5] = src.0;
    let [t0, t1] = ETHERTYPE_IPV6.to_be_bytes();
    let header = [d0, d1, d2, d3, d4, d5, s0, s1, s2, s3, s4, s5, t0, t1];
    if let Some(h) = frame.get_mut(..ETHERNET_HEADER_LEN) {
        h.copy_from_slice(&header);
    }
    let end = ETHERNET_HEADER_LEN.saturating_add(packet.len());
    if let Some(body) = frame.get_mut(ETHERNET_HEADER_LEN..end) {
        body.copy_from_slice(packet);
    }
}

/// What the adapter did with a received frame.
enum Received {
    /// Handled here (given to the engine, or dropped and counted).
    Done,
    /// An IPv6 packet of this length, copied to `rx`, for smoltcp.
    ForSmoltcp(usize),
}

/// Filter, classify and dispatch one received frame.
fn receive_frame<const N: usize, const QS: usize, const QB: usize>(
    frame: &[u8],
    stack: &mut Stack<N, QS, QB>,
    own: MacAddr,
    now: NdpInstant,
    rx: &mut [u8; IP_MTU],
    stats: &mut AdapterStats,
) -> Received {
    bump(&mut stats.rx_frames);
    let (Some(dst), Some(src), Some(ethertype), Some(ip)) = (
        frame.get(0..6).and_then(|b| <[u8; 6]>::try_from(b).ok()),
        frame.get(6..12).and_then(|b| <[u8; 6]>::try_from(b).ok()),
        frame.get(12..14).and_then(|b| <[u8; 2]>::try_from(b).ok()),
        frame.get(ETHERNET_HEADER_LEN..),
    ) else {
        bump(&mut stats.rx_runt);
        return Received::Done;
    };
    let dst = MacAddr(dst);
    let wanted =
        dst == own || dst == MacAddr::BROADCAST || stack.multicast_groups().any(|g| g.mac() == dst);
    if !wanted {
        bump(&mut stats.rx_filtered);
        return Received::Done;
    }
    if u16::from_be_bytes(ethertype) != ETHERTYPE_IPV6 {
        bump(&mut stats.rx_not_ipv6);
        return Received::Done;
    }
    let Ok(up) = upper_layer(ip) else {
        bump(&mut stats.rx_malformed);
        return Received::Done;
    };
    let nd = up.protocol == NEXT_HEADER_ICMPV6
        && !up.later_fragment
        && up
            .payload
            .first()
            .and_then(|t| MessageType::from_u8(*t))
            .is_some_and(|t| t.is_ndp() || t.is_mld());
    if nd {
        // RFC 6980 §5: fragmented Neighbor Discovery is silently ignored.
        if up.fragment {
            bump(&mut stats.rx_fragmented_nd);
            return Received::Done;
        }
        let meta = RxMeta {
            src: up.header.src,
            dst: up.header.dst,
            hop_limit: up.header.hop_limit,
            src_mac: Some(MacAddr(src)),
        };
        stack.receive(now, &meta, up.payload);
        bump(&mut stats.rx_nd);
        return Received::Done;
    }
    // The packet without Ethernet padding.
    let len =
        usize::from(up.header.payload_len).saturating_add(ndp_core::wire::ipv6::Ipv6Header::LEN);
    match (ip.get(..len), rx.get_mut(..len)) {
        (Some(packet), Some(slot)) => {
            slot.copy_from_slice(packet);
            bump(&mut stats.rx_ip);
            Received::ForSmoltcp(len)
        }
        _ => {
            bump(&mut stats.rx_malformed);
            Received::Done
        }
    }
}

impl<
    D: Device,
    F: MulticastFilter<D>,
    const NEIGHBORS: usize,
    const QUEUE_SLOTS: usize,
    const QUEUE_BYTES: usize,
> Device for Adapter<D, F, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    type RxToken<'a>
        = IpRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = IpTxToken<'a, D::TxToken<'a>, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
    where
        Self: 'a;

    fn receive(&mut self, timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.advance(timestamp);
        self.wake_at = None;
        if self.rx_len.is_none() {
            for _ in 0..MAX_FRAMES_PER_RECEIVE {
                let (stack, rx, stats, own, now) = (
                    &mut self.stack,
                    &mut self.rx,
                    &mut self.stats,
                    self.mac,
                    self.now,
                );
                let Some((token, _)) = self.device.receive(timestamp) else {
                    break;
                };
                let got = phy::RxToken::consume(token, |frame| {
                    receive_frame(frame, stack, own, now, rx, stats)
                });
                if let Received::ForSmoltcp(len) = got {
                    self.rx_len = Some(len);
                    break;
                }
            }
        }
        let len = self.rx_len?;
        // A reply needs a transmit buffer; without one the packet waits.
        let inner = self.device.transmit(timestamp)?;
        self.rx_len = None;
        Some((
            IpRxToken {
                packet: self.rx.get(..len).unwrap_or(&[]),
            },
            IpTxToken {
                inner,
                stack: &mut self.stack,
                buf: &mut self.tx,
                mac: self.mac,
                now: self.now,
                stats: &mut self.stats,
            },
        ))
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<Self::TxToken<'_>> {
        self.advance(timestamp);
        self.wake_at = None;
        let inner = self.device.transmit(timestamp)?;
        Some(IpTxToken {
            inner,
            stack: &mut self.stack,
            buf: &mut self.tx,
            mac: self.mac,
            now: self.now,
            stats: &mut self.stats,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let inner = self.device.capabilities();
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = inner
            .max_transmission_unit
            .saturating_sub(ETHERNET_HEADER_LEN)
            .min(IP_MTU);
        caps.max_burst_size = inner.max_burst_size;
        caps.checksum = inner.checksum;
        caps
    }
}

/// A received IPv6 packet for smoltcp.
pub struct IpRxToken<'a> {
    packet: &'a [u8],
}

impl phy::RxToken for IpRxToken<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.packet)
    }
}

/// A transmit buffer for smoltcp: what smoltcp writes goes through the
/// engine's next-hop choice.
pub struct IpTxToken<'a, T, const N: usize, const QS: usize, const QB: usize> {
    inner: T,
    stack: &'a mut Stack<N, QS, QB>,
    buf: &'a mut [u8; IP_MTU],
    mac: MacAddr,
    now: NdpInstant,
    stats: &'a mut AdapterStats,
}

impl<T: phy::TxToken, const N: usize, const QS: usize, const QB: usize> phy::TxToken
    for IpTxToken<'_, T, N, QS, QB>
{
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let Some(packet) = self.buf.get_mut(..len) else {
            // smoltcp never asks for more than the MTU it was told; should
            // anything else, the frame leaves addressed to ourselves, which
            // no other station accepts.
            bump(&mut self.stats.tx_oversize);
            let mac = self.mac;
            return self
                .inner
                .consume(len.saturating_add(ETHERNET_HEADER_LEN), |frame| {
                    let (header, body) = frame.split_at_mut(ETHERNET_HEADER_LEN.min(frame.len()));
                    let r = f(body);
                    write_frame(header, mac, mac, &[]);
                    r
                });
        };
        let r = f(packet);
        match self.stack.send(self.now, packet) {
            Ok(Dispatch::Transmit(dst)) => {
                send_frame(self.inner, dst, self.mac, packet);
                bump(&mut self.stats.tx_ip);
            }
            Ok(Dispatch::Queued) => bump(&mut self.stats.tx_queued),
            Err(SendError::Route(RouteError::NoRoute)) => bump(&mut self.stats.tx_no_route),
            Err(SendError::Route(RouteError::Disabled)) => bump(&mut self.stats.tx_disabled),
            Err(SendError::Malformed) => bump(&mut self.stats.tx_malformed),
            Err(_) => bump(&mut self.stats.tx_no_room),
        }
        r
    }
}
