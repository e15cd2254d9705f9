//! The Ethernet device smoltcp sees: frames in from the NIC, sorted
//! between the engine, smoltcp and the bin; frames out from smoltcp,
//! with the engine's next hop for IPv6.

use core::net::{Ipv4Addr, Ipv6Addr};

use ndp_core::Stack;
use ndp_core::port::{self, RxIpv6, TxIpv6};
use ndp_core::time::Instant as NdpInstant;
use ndp_core::wire::MacAddr;
use ndp_core::wire::ethernet::EthernetHeader;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpCidr};

use crate::{
    Adapter, AdapterStats, DropReason, ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4,
    ETHERTYPE_IPV6, Event, FRAME_LEN, MAX_FRAMES_PER_RECEIVE, MulticastFilter, bump,
};
use ndp_core::port::arp::{ARP_LEN, Arp, ArpGuard, Verdict};

/// The adapter's state that smoltcp's tokens reach: everything but the
/// NIC and its filter.
pub(crate) struct Core<const N: usize, const QS: usize, const QB: usize> {
    pub stack: Stack<N, QS, QB>,
    pub mac: MacAddr,
    pub now: NdpInstant,
    /// The length of the frame for smoltcp in the adapter's receive
    /// buffer: received, an answer to its solicitation, or an engine
    /// error about one of its packets.
    pub rx_len: Option<usize>,
    pub tx: [u8; FRAME_LEN],
    /// smoltcp's Neighbor Solicitations to answer: (target, its source).
    pub solicited: heapless::Vec<(Ipv6Addr, Ipv6Addr), 2>,
    /// Groups smoltcp reported a change for since the last look.
    pub heard: heapless::Vec<IpAddress, { crate::HEARD_GROUPS }>,
    /// When smoltcp is next told where [`crate::NEXT_HOP_PLACEHOLDER`]
    /// is.
    pub prime_at: NdpInstant,
    /// The multicast MACs we listen to (what the NIC's filter was last
    /// given): checked for every group frame, so kept rather than derived.
    pub group_macs: heapless::Vec<MacAddr, { crate::MAX_MULTICAST_MACS }>,
    /// smoltcp's addresses as last seen (the ARP guard's IPv4 ones
    /// included: DHCP changes them without the engine).
    pub addrs: heapless::Vec<IpCidr, { smoltcp::config::IFACE_MAX_ADDR_COUNT }>,
    pub arp: ArpGuard,
    /// [`Stack::poll_at`] as of the end of the last poll; `None` when the
    /// engine may have changed since (then it is asked again).
    pub wake_at: Option<Option<NdpInstant>>,
    pub events: heapless::Deque<Event, { crate::ADAPTER_EVENTS }>,
    pub stats: AdapterStats,
}

impl<const N: usize, const QS: usize, const QB: usize> Core<N, QS, QB> {
    pub fn advance(&mut self, now: Instant) {
        self.now = self.now.later(NdpInstant::from(now));
    }

    pub fn push_event(&mut self, event: Event) {
        queue_event(&mut self.events, &mut self.stats, event);
    }

    /// A packet smoltcp sent, dropped: counted, and reported.
    fn dropped(&mut self, reason: DropReason) {
        bump(match reason {
            DropReason::NoRoute => &mut self.stats.tx_no_route,
            DropReason::Disabled => &mut self.stats.tx_disabled,
            DropReason::Malformed => &mut self.stats.tx_malformed,
            _ => &mut self.stats.tx_no_room,
        });
        self.push_event(Event::Dropped { reason, count: 1 });
    }

    /// Put the next frame for smoltcp into `rx`: an answer to one of its
    /// solicitations, or a received frame it should see.
    fn next_frame<D: Device>(&mut self, device: &mut D, rx: &mut [u8], timestamp: Instant) {
        if self.rx_len.is_some() {
            return;
        }
        if let Some((target, asker)) = self.solicited.pop() {
            self.rx_len = self.write_advert(rx, target, asker);
            if self.rx_len.is_some() {
                return;
            }
        }
        for _ in 0..MAX_FRAMES_PER_RECEIVE {
            let Some((token, _)) = device.receive(timestamp) else {
                return;
            };
            let mut reply: Option<Arp> = None;
            let got =
                phy::RxToken::consume(token, |frame| self.receive_frame(frame, rx, &mut reply));
            if let Some(request) = reply
                && let Some(t) = device.transmit(timestamp)
            {
                send_frame(
                    t,
                    MacAddr(request.sender_mac.0),
                    self.mac,
                    ETHERTYPE_ARP,
                    &request.reply(self.mac),
                );
                bump(&mut self.stats.arp_answered);
            }
            if let Some(len) = got {
                self.rx_len = Some(len);
                return;
            }
        }
    }

    /// The Neighbor Advertisement smoltcp's solicitation for `target`
    /// (sent from `asker`) waits for, as an Ethernet frame in `rx`
    /// ([`port::write_advert`]).
    fn write_advert(&mut self, rx: &mut [u8], target: Ipv6Addr, asker: Ipv6Addr) -> Option<usize> {
        let len = port::write_advert(rx, self.mac, target, asker)?;
        bump(&mut self.stats.smoltcp_ns_answered);
        Some(len)
    }

    /// Filter, classify and dispatch one received frame; `Some(len)`: a
    /// frame of `len` bytes, copied to `rx`, for smoltcp. An ARP request
    /// to answer here is left in `reply`.
    fn receive_frame(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        reply: &mut Option<Arp>,
    ) -> Option<usize> {
        bump(&mut self.stats.rx_frames);
        let Ok((eth, body)) = EthernetHeader::parse(frame) else {
            bump(&mut self.stats.rx_runt);
            return None;
        };
        let EthernetHeader {
            dst,
            src,
            ethertype,
        } = eth;
        if !port::wanted(&self.stack, dst, ethertype, self.mac, &self.group_macs) {
            bump(&mut self.stats.rx_filtered);
            return None;
        }
        let len = match ethertype {
            ETHERTYPE_IPV6 => self.receive_ipv6(body, src)?,
            _ => self.receive_other(ethertype, body, reply)?,
        };
        // The frame without Ethernet padding.
        let len = len.checked_add(ETHERNET_HEADER_LEN)?;
        let (Some(bytes), Some(slot)) = (frame.get(..len), rx.get_mut(..len)) else {
            bump(&mut self.stats.rx_malformed);
            return None;
        };
        slot.copy_from_slice(bytes);
        Some(len)
    }

    /// IPv4 and ARP (and the rest): the length to hand smoltcp, or `None`
    /// when dropped or answered here. Out of line: the IPv6 path, which
    /// every Neighbor Discovery message takes, stays small.
    #[inline(never)]
    fn receive_other(
        &mut self,
        ethertype: u16,
        body: &[u8],
        reply: &mut Option<Arp>,
    ) -> Option<usize> {
        match ethertype {
            ETHERTYPE_IPV4 => {
                let Some(len) = ipv4_len(body) else {
                    bump(&mut self.stats.rx_ipv4_malformed);
                    return None;
                };
                bump(&mut self.stats.rx_ipv4);
                Some(len)
            }
            ETHERTYPE_ARP => {
                let Some(arp) = Arp::parse(body) else {
                    bump(&mut self.stats.rx_arp_malformed);
                    return None;
                };
                let addrs = &self.addrs;
                let ours = |ip| addrs.iter().any(|c| c.address() == IpAddress::Ipv4(ip));
                let counter = match self.arp.check(&arp, ours, self.now) {
                    Verdict::Pass => {
                        bump(&mut self.stats.rx_arp);
                        return Some(ARP_LEN);
                    }
                    Verdict::Answer => {
                        *reply = Some(arp);
                        return None;
                    }
                    Verdict::NotForUs => &mut self.stats.rx_arp_not_for_us,
                    Verdict::Unsolicited => &mut self.stats.rx_arp_unsolicited,
                    Verdict::BadSender => &mut self.stats.rx_arp_bad_sender,
                };
                bump(counter);
                None
            }
            _ => {
                bump(&mut self.stats.rx_unknown_ethertype);
                None
            }
        }
    }

    /// An IPv6 packet: Neighbor Discovery and MLD to the engine; others
    /// to smoltcp (their length) unless dropped ([`port::receive_ipv6`]).
    fn receive_ipv6(&mut self, ip: &[u8], src_mac: MacAddr) -> Option<usize> {
        let stats = &mut self.stats;
        match port::receive_ipv6(&mut self.stack, self.now, ip, src_mac) {
            RxIpv6::Host(len) => {
                bump(&mut stats.rx_ip);
                return Some(len);
            }
            RxIpv6::Engine => {
                self.wake_at = None;
                bump(&mut stats.rx_nd);
            }
            RxIpv6::FragmentedNd => bump(&mut stats.rx_fragmented_nd),
            RxIpv6::Loopback => bump(&mut stats.rx_loopback),
            RxIpv6::UnjoinedGroup => bump(&mut stats.rx_unjoined_group),
            RxIpv6::Malformed => bump(&mut stats.rx_malformed),
        }
        None
    }

    /// A frame smoltcp wrote into `tx[..len]`: send it, hand it to the
    /// engine, or keep it from the wire.
    fn transmit_frame<T: phy::TxToken>(&mut self, inner: T, len: usize) {
        // `FrameTx::consume` checked the length (and counted an oversize
        // frame).
        let Some(frame) = self.tx.get_mut(..len) else {
            return;
        };
        let ethertype = frame
            .get(12..14)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes);
        match ethertype {
            Some(ETHERTYPE_IPV6) => self.transmit_ipv6(inner, len),
            other => {
                if other == Some(ETHERTYPE_ARP)
                    && let Some(arp) = frame.get(ETHERNET_HEADER_LEN..).and_then(Arp::parse)
                    && arp.request
                {
                    self.arp.asked(arp.target_ip, self.now);
                }
                if other == Some(ETHERTYPE_IPV4) {
                    self.heard_igmp(len);
                }
                let frame = self.tx.get(..len).unwrap_or(&[]);
                inner.consume(len, |buf| {
                    if let Some(b) = buf.get_mut(..frame.len()) {
                        b.copy_from_slice(frame);
                    }
                });
                bump(&mut self.stats.tx_ipv4);
            }
        }
    }

    /// An IGMP message smoltcp sends names a group the application joined
    /// or left (RFC 2236 §2: the group is in the message).
    fn heard_igmp(&mut self, len: usize) {
        let ip = self.tx.get(ETHERNET_HEADER_LEN..len).unwrap_or(&[]);
        let ihl = usize::from(ip.first().map_or(0, |b| b & 0x0f)).saturating_mul(4);
        if ip.get(9) != Some(&2) {
            return;
        }
        let group = ip
            .get(ihl.saturating_add(4)..ihl.saturating_add(8))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(Ipv4Addr::from);
        if let Some(g) = group.filter(|g| g.is_multicast()) {
            heard_group(
                &mut self.heard,
                &mut self.stats,
                &mut self.events,
                IpAddress::Ipv4(g),
            );
        }
    }

    /// An IPv6 frame smoltcp wrote ([`port::transmit_ipv6`]): its own
    /// Neighbor Discovery and MLD stay here, the rest goes to the
    /// engine's next hop.
    fn transmit_ipv6<T: phy::TxToken>(&mut self, inner: T, len: usize) {
        let Some(ip) = self.tx.get_mut(ETHERNET_HEADER_LEN..len) else {
            return;
        };
        let (heard, stats, events) = (&mut self.heard, &mut self.stats, &mut self.events);
        let (verdict, hop_limit_set) = port::transmit_ipv6(&mut self.stack, self.now, ip, |g| {
            heard_group(heard, stats, events, IpAddress::Ipv6(g));
        });
        if hop_limit_set {
            bump(&mut self.stats.tx_hop_limit_set);
        }
        match verdict {
            TxIpv6::Send(dst) => {
                let ip = self.tx.get(ETHERNET_HEADER_LEN..len).unwrap_or(&[]);
                send_frame(inner, dst, self.mac, ETHERTYPE_IPV6, ip);
                bump(&mut self.stats.tx_ip);
            }
            TxIpv6::Queued => bump(&mut self.stats.tx_queued),
            TxIpv6::Solicit { target, src } => {
                if self.solicited.iter().all(|(t, _)| *t != target) {
                    let _ = self.solicited.push((target, src));
                }
                return;
            }
            TxIpv6::HostNd => {
                bump(&mut self.stats.smoltcp_mld_dropped);
                return;
            }
            TxIpv6::Malformed => self.dropped(DropReason::Malformed),
            TxIpv6::Error(e) => self.dropped(DropReason::of(e)),
        }
        self.wake_at = None;
    }
}

/// Note that smoltcp reported a change for `group`.
fn heard_group(
    heard: &mut heapless::Vec<IpAddress, { crate::HEARD_GROUPS }>,
    stats: &mut AdapterStats,
    events: &mut heapless::Deque<Event, { crate::ADAPTER_EVENTS }>,
    group: IpAddress,
) {
    if !heard.contains(&group) && heard.push(group).is_err() {
        // More changes in one poll than followed: this one is lost.
        bump(&mut stats.group_no_room);
        queue_event(events, stats, Event::GroupNoRoom { group });
    }
}

/// Queue an adapter event. One `Dropped` event per reason: later drops
/// add to it. A full queue drops the new event, counted.
fn queue_event(
    events: &mut heapless::Deque<Event, { crate::ADAPTER_EVENTS }>,
    stats: &mut AdapterStats,
    event: Event,
) {
    if let Event::Dropped { reason, count } = event
        && let Some(Event::Dropped { count: queued, .. }) = events
            .iter_mut()
            .find(|e| matches!(e, Event::Dropped { reason: r, .. } if *r == reason))
    {
        *queued = queued.saturating_add(count);
        return;
    }
    if events.push_back(event).is_err() {
        bump(&mut stats.events_dropped);
    }
}

/// The length of the IPv4 packet at the start of `b` (its Total Length),
/// if its header is sound: version 4, a header of at least 20 bytes that
/// fits, a total length that covers the header and fits (RFC 791 §3.1).
fn ipv4_len(b: &[u8]) -> Option<usize> {
    let vihl = *b.first()?;
    let ihl = usize::from(vihl & 0x0f).checked_mul(4)?;
    let total = usize::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
    (vihl >> 4 == 4 && ihl >= 20 && total >= ihl && total <= b.len()).then_some(total)
}

pub(crate) use port::write_frame;

/// Frame `payload` to `dst` and hand it to the NIC.
pub(crate) fn send_frame<T: phy::TxToken>(
    token: T,
    dst: MacAddr,
    src: MacAddr,
    ethertype: u16,
    payload: &[u8],
) {
    let len = ETHERNET_HEADER_LEN.saturating_add(payload.len());
    token.consume(len, |frame| {
        write_frame(frame, dst, src, ethertype, payload)
    });
}

/// The adapter as the Ethernet device smoltcp polls; only
/// [`Adapter::poll`] and [`Adapter::new_interface`] make one.
pub(crate) struct Port<'a, D, F, const N: usize, const QS: usize, const QB: usize>(
    pub &'a mut Adapter<D, F, N, QS, QB>,
);

impl<D: Device, F: MulticastFilter<D>, const N: usize, const QS: usize, const QB: usize> Device
    for Port<'_, D, F, N, QS, QB>
{
    type RxToken<'b>
        = FrameRx<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = FrameTx<'b, D::TxToken<'b>, N, QS, QB>
    where
        Self: 'b;

    fn receive(&mut self, timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let Adapter {
            device, rx, core, ..
        } = &mut *self.0;
        core.advance(timestamp);
        core.next_frame(device, &mut rx[..], timestamp);
        let len = core.rx_len?;
        // A reply needs a transmit buffer; without one the frame waits.
        let inner = device.transmit(timestamp)?;
        core.rx_len = None;
        Some((
            FrameRx {
                frame: rx.get(..len).unwrap_or(&[]),
            },
            FrameTx { inner, core },
        ))
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<Self::TxToken<'_>> {
        let Adapter { device, core, .. } = &mut *self.0;
        core.advance(timestamp);
        let inner = device.transmit(timestamp)?;
        Some(FrameTx { inner, core })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let inner = self.0.device.capabilities();
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = inner.max_transmission_unit.min(FRAME_LEN);
        caps.max_burst_size = inner.max_burst_size;
        caps.checksum = inner.checksum;
        caps
    }
}

/// A received frame for smoltcp.
pub(crate) struct FrameRx<'a> {
    frame: &'a [u8],
}

impl phy::RxToken for FrameRx<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.frame)
    }
}

/// A transmit buffer for smoltcp: what smoltcp writes goes through the
/// engine's next-hop choice (IPv6) or straight out (IPv4, ARP).
pub(crate) struct FrameTx<'a, T, const N: usize, const QS: usize, const QB: usize> {
    inner: T,
    core: &'a mut Core<N, QS, QB>,
}

impl<T: phy::TxToken, const N: usize, const QS: usize, const QB: usize> phy::TxToken
    for FrameTx<'_, T, N, QS, QB>
{
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let core = self.core;
        let Some(buf) = core.tx.get_mut(..len) else {
            // smoltcp never asks for more than the MTU it was told. Should
            // it, smoltcp writes straight into the NIC's buffer (there is
            // no other to give it); an IPv6 frame then carries the MAC
            // smoltcp knows, our own, which no other station accepts.
            bump(&mut core.stats.tx_oversize);
            return self.inner.consume(len, f);
        };
        let r = f(buf);
        core.transmit_frame(self.inner, len);
        r
    }
}
