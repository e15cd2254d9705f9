//! The driver embassy-net sees: frames in from the board's driver, sorted
//! between the engine and embassy-net; frames out from embassy-net, with
//! the engine's next hop for IPv6; the engine's own messages and timers.

use core::net::{Ipv4Addr, Ipv6Addr};
use core::pin::pin;
use core::task::{Context, Poll};

use embassy_net_driver::{Capabilities, HardwareAddress, LinkState, RxToken, TxToken};
use ndp_core::port::arp::{Arp, ArpGuard, Verdict};
use ndp_core::port::{self, RxIpv6, TxIpv6, write_frame};
use ndp_core::time::Instant as NdpInstant;
use ndp_core::wire::MacAddr;
use ndp_core::wire::ethernet::{EthernetHeader, HEADER_LEN};
use ndp_core::{Delivery, Stack};

use crate::{
    DriverStats, DropReason, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, Event, FRAME_LEN,
    MAX_FRAMES_PER_RECEIVE, NEXT_HOP_PLACEHOLDER, PRIME_REFRESH, State, TEACH_REFRESH, bump,
};

/// An Ethernet frame carrying an Ethernet/IPv4 ARP message (RFC 826).
pub(crate) const ARP_FRAME_LEN: usize = HEADER_LEN + 28;

/// The board's Ethernet driver with the ndp engine inside: give it to
/// `embassy_net::new` in place of the board's driver. Made by
/// [`crate::new`]; see the [crate documentation](crate).
///
/// `NEIGHBORS`, `QUEUE_SLOTS` and `QUEUE_BYTES` size the engine's
/// [`Stack`] (see [`crate::with_capacity`]).
pub struct NdpDriver<
    'd,
    D,
    const NEIGHBORS: usize = 8,
    const QUEUE_SLOTS: usize = 4,
    const QUEUE_BYTES: usize = 3072,
> {
    pub(crate) inner: D,
    /// A frame for embassy-net ([`Core::rx_len`] long).
    pub(crate) rx: [u8; FRAME_LEN],
    /// A made-up ARP reply for embassy-net, handed over before the frame
    /// in `rx` ([`Core::arp_ready`]).
    pub(crate) arp: [u8; ARP_FRAME_LEN],
    pub(crate) core: Core<'d, NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>,
}

/// Everything but the board's driver and the receive buffer, so that a
/// transmit token can hold it while a receive token holds the buffer.
pub(crate) struct Core<'d, const N: usize, const QS: usize, const QB: usize> {
    pub stack: Stack<N, QS, QB>,
    pub mac: MacAddr,
    pub now: NdpInstant,
    pub state: &'d State,
    /// The length of the frame for embassy-net in the receive buffer:
    /// received, an answer to its solicitation, or an engine error about
    /// one of its packets.
    pub rx_len: Option<usize>,
    pub tx: [u8; FRAME_LEN],
    /// smoltcp's Neighbor Solicitations to answer: (target, its source).
    pub solicited: heapless::Vec<(Ipv6Addr, Ipv6Addr), 2>,
    /// The multicast MACs the engine listens to, checked for every group
    /// frame.
    pub group_macs: heapless::Vec<MacAddr, { crate::MAX_MULTICAST_MACS }>,
    /// [`Stack::generation`] when the configuration and the groups were
    /// last looked at; `None` before the first look.
    pub published: Option<u32>,
    /// The next hop embassy-net was last told (the default router or
    /// [`NEXT_HOP_PLACEHOLDER`]), which smoltcp must know a MAC for.
    pub gateway: Ipv6Addr,
    /// When smoltcp is next told the gateway's MAC.
    pub prime_at: NdpInstant,
    /// The link state last seen; `None` before the first look.
    pub link: Option<LinkState>,
    /// The ARP buffer holds a frame for embassy-net.
    pub arp_ready: bool,
    /// IPv4 senders smoltcp was taught, and when.
    pub taught: heapless::Vec<(Ipv4Addr, MacAddr, NdpInstant), { crate::TAUGHT_SENDERS }>,
    /// Which ARP messages reach smoltcp.
    pub arp_guard: ArpGuard,
    /// smoltcp's IPv4 address, as its own ARP and IPv4 show it; `None`
    /// until then, and again after each DHCP answer (which may change
    /// it).
    pub ipv4: Option<Ipv4Addr>,
    pub stats: DriverStats,
}

impl<'d, const N: usize, const QS: usize, const QB: usize> Core<'d, N, QS, QB> {
    /// Move the engine's clock to embassy-time's now (never backwards).
    pub fn advance(&mut self) {
        let now = embassy_time::Instant::now().as_millis();
        self.advance_to(NdpInstant::wrapping_from_millis(now));
    }

    pub fn advance_to(&mut self, now: NdpInstant) {
        self.now = self.now.later(now);
    }

    /// A packet embassy-net sent, dropped: counted, and reported.
    fn dropped(&mut self, reason: DropReason) {
        bump(match reason {
            DropReason::NoRoute => &mut self.stats.tx_no_route,
            DropReason::Disabled => &mut self.stats.tx_disabled,
            DropReason::Malformed => &mut self.stats.tx_malformed,
            _ => &mut self.stats.tx_no_room,
        });
        self.state
            .with(|s| s.push_event(Event::Dropped { reason, count: 1 }));
    }

    /// Put the next frame for embassy-net into `rx`: an answer to one of
    /// smoltcp's solicitations, or a received frame it should see.
    fn next_frame<D: embassy_net_driver::Driver>(
        &mut self,
        inner: &mut D,
        rx: &mut [u8],
        arp: &mut [u8; ARP_FRAME_LEN],
        cx: &mut Context<'_>,
    ) {
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
            let Some((token, _)) = inner.receive(cx) else {
                return;
            };
            let mut answer: Option<Arp> = None;
            let got = token.consume(|frame| self.receive_frame(frame, rx, arp, &mut answer));
            // An ARP request for our address beyond what smoltcp may learn
            // from: answered here (RFC 826), smoltcp none the wiser.
            if let Some(request) = answer
                && let Some(t) = inner.transmit(cx)
            {
                send_frame(
                    t,
                    request.sender_mac,
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
        // More frames wait: embassy-net asks again at once.
        cx.waker().wake_by_ref();
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
    /// frame of `len` bytes, copied to `rx`, for embassy-net.
    fn receive_frame(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        arp: &mut [u8; ARP_FRAME_LEN],
        answer: &mut Option<Arp>,
    ) -> Option<usize> {
        bump(&mut self.stats.rx_frames);
        let Ok((eth, body)) = EthernetHeader::parse(frame) else {
            bump(&mut self.stats.rx_runt);
            return None;
        };
        // The board's driver may pass every multicast frame.
        let dst = eth.dst;
        if !port::wanted(&self.stack, dst, eth.ethertype, self.mac, &self.group_macs) {
            bump(&mut self.stats.rx_filtered);
            return None;
        }
        let len = match eth.ethertype {
            ETHERTYPE_IPV6 => self.receive_ipv6(body, eth.src)?,
            ETHERTYPE_IPV4 => {
                if to_dhcp_client(body) {
                    // It may give embassy-net an address, and smoltcp then
                    // forgets its neighbors (`update_ip_addrs`), and may
                    // have another address.
                    self.taught.clear();
                    self.ipv4 = None;
                } else if dst == self.mac {
                    self.teach_sender(body, eth.src, arp);
                }
                bump(&mut self.stats.rx_ipv4);
                body.len()
            }
            ETHERTYPE_ARP => self.receive_arp(body, answer)?,
            _ => {
                bump(&mut self.stats.rx_unknown_ethertype);
                return None;
            }
        };
        // The frame without Ethernet padding (IPv6), or whole (IPv4 and
        // ARP, which smoltcp measures itself).
        let len = len.checked_add(HEADER_LEN)?;
        let (Some(bytes), Some(slot)) = (frame.get(..len), rx.get_mut(..len)) else {
            bump(&mut self.stats.rx_malformed);
            return None;
        };
        slot.copy_from_slice(bytes);
        Some(len)
    }

    /// An ARP message through the guard ([`ArpGuard`]): its length when
    /// smoltcp should see it; a request to answer here is left in
    /// `answer`. Until smoltcp's address is known every target counts as
    /// ours, and a request beyond the burst is dropped rather than
    /// answered (it might be for another host).
    fn receive_arp(&mut self, body: &[u8], answer: &mut Option<Arp>) -> Option<usize> {
        let Some(arp) = Arp::parse(body) else {
            bump(&mut self.stats.rx_arp_malformed);
            return None;
        };
        let ipv4 = self.ipv4;
        let ours = |ip| ipv4.is_none_or(|o| o == ip);
        let counter = match self.arp_guard.check(&arp, ours, self.now) {
            Verdict::Pass => {
                bump(&mut self.stats.rx_arp);
                return Some(body.len());
            }
            Verdict::Answer if ipv4.is_some() => {
                *answer = Some(arp);
                return None;
            }
            Verdict::Answer => &mut self.stats.rx_arp_unanswered,
            Verdict::NotForUs => &mut self.stats.rx_arp_not_for_us,
            Verdict::Unsolicited => &mut self.stats.rx_arp_unsolicited,
            Verdict::BadSender => &mut self.stats.rx_arp_bad_sender,
        };
        bump(counter);
        None
    }

    /// smoltcp learns an IPv4 neighbor's MAC only from ARP, and drops,
    /// rather than keeps, a reply it makes (an echo reply) while it asks:
    /// the first ping from a host it has not talked to would go
    /// unanswered. So before a unicast IPv4 packet from a sender not
    /// taught in the last [`TEACH_REFRESH`], embassy-net is handed a
    /// made-up ARP reply from that sender to the packet's destination
    /// (RFC 826 lets a host merge what is aimed at it); smoltcp checks
    /// that the destination is its address and the sender on its subnet,
    /// and answers nothing. At most [`crate::TAUGHT_SENDERS`] senders per
    /// [`TEACH_REFRESH`], so a flood of made-up senders cannot push the
    /// hosts smoltcp talks to out of its cache.
    fn teach_sender(&mut self, ip: &[u8], src_mac: MacAddr, arp: &mut [u8; ARP_FRAME_LEN]) {
        let addr = |at: usize| {
            ip.get(at..at.checked_add(4)?)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(Ipv4Addr::from)
        };
        let (Some(src), Some(dst)) = (addr(12), addr(16)) else {
            return;
        };
        let unicast = |a: Ipv4Addr| !(a.is_unspecified() || a.is_broadcast() || a.is_multicast());
        if !unicast(src) || !unicast(dst) || src_mac.is_multicast() {
            return;
        }
        let now = self.now;
        let fresh = |t: NdpInstant| now.saturating_duration_since(t) < TEACH_REFRESH;
        if self
            .taught
            .iter()
            .any(|(ip, mac, t)| *ip == src && *mac == src_mac && fresh(*t))
        {
            return;
        }
        // A slot: this sender's, a free one, or one no longer fresh.
        let slot = self
            .taught
            .iter()
            .position(|(ip, _, t)| *ip == src || !fresh(*t));
        let entry = (src, src_mac, now);
        match slot {
            Some(i) => {
                if let Some(e) = self.taught.get_mut(i) {
                    *e = entry;
                }
            }
            None => {
                if self.taught.push(entry).is_err() {
                    bump(&mut self.stats.arp_teach_limited);
                    return;
                }
            }
        }
        // RFC 826 reply from the sender to the packet's destination.
        let reply = Arp {
            request: false,
            sender_mac: src_mac,
            sender_ip: src,
            target_ip: dst,
        }
        .emit(self.mac.0);
        write_frame(arp, self.mac, src_mac, ETHERTYPE_ARP, &reply);
        self.arp_ready = true;
        bump(&mut self.stats.arp_taught);
    }

    /// An IPv6 packet: Neighbor Discovery and MLD to the engine; others
    /// to embassy-net (their length) unless dropped
    /// ([`port::receive_ipv6`]).
    fn receive_ipv6(&mut self, ip: &[u8], src_mac: MacAddr) -> Option<usize> {
        let counter = match port::receive_ipv6(&mut self.stack, self.now, ip, src_mac) {
            RxIpv6::Host(len) => {
                bump(&mut self.stats.rx_ip);
                return Some(len);
            }
            RxIpv6::Engine => &mut self.stats.rx_nd,
            RxIpv6::FragmentedNd => &mut self.stats.rx_fragmented_nd,
            RxIpv6::Loopback => &mut self.stats.rx_loopback,
            RxIpv6::UnjoinedGroup => &mut self.stats.rx_unjoined_group,
            RxIpv6::Malformed => &mut self.stats.rx_malformed,
        };
        bump(counter);
        None
    }

    /// A frame embassy-net wrote into `tx[..len]`: send it, hand it to the
    /// engine, or keep it from the wire.
    fn transmit_frame<T: TxToken>(&mut self, inner: T, len: usize) {
        let ethertype = self
            .tx
            .get(12..14)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes);
        if ethertype == Some(ETHERTYPE_IPV6) {
            self.transmit_ipv6(inner, len);
            return;
        }
        let body = self.tx.get(HEADER_LEN..len).unwrap_or(&[]);
        // smoltcp's own address, from what it sends: the sender of its
        // ARP, the source of its IPv4 (not DHCP's 0.0.0.0).
        let sender = match ethertype {
            Some(ETHERTYPE_ARP) => Arp::parse(body).map(|a| {
                if a.request {
                    self.arp_guard.asked(a.target_ip, self.now);
                }
                a.sender_ip
            }),
            Some(ETHERTYPE_IPV4) => body
                .get(12..16)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(Ipv4Addr::from),
            _ => None,
        };
        if let Some(ip) =
            sender.filter(|ip| !(ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast()))
        {
            self.ipv4 = Some(ip);
        }
        let frame = self.tx.get(..len).unwrap_or(&[]);
        inner.consume(frame.len(), |buf| {
            if let Some(b) = buf.get_mut(..frame.len()) {
                b.copy_from_slice(frame);
            }
        });
        bump(&mut self.stats.tx_ipv4);
    }

    /// An IPv6 frame embassy-net wrote ([`port::transmit_ipv6`]): smoltcp's
    /// own Neighbor Discovery and MLD stay here (the groups its reports
    /// name go to [`crate::Control`], which asks embassy-net's Stack:
    /// smoltcp 0.13 swaps the record types), the rest goes to the
    /// engine's next hop.
    fn transmit_ipv6<T: TxToken>(&mut self, inner: T, len: usize) {
        let Some(ip) = self.tx.get_mut(HEADER_LEN..len) else {
            return;
        };
        let (state, stats) = (self.state, &mut self.stats);
        let (verdict, hop_limit_set) = port::transmit_ipv6(&mut self.stack, self.now, ip, |g| {
            if state.with(|s| s.hear(g)) != Some(true) {
                bump(&mut stats.group_no_room);
            }
        });
        if hop_limit_set {
            bump(&mut self.stats.tx_hop_limit_set);
        }
        match verdict {
            TxIpv6::Send(dst) => {
                let ip = self.tx.get(HEADER_LEN..len).unwrap_or(&[]);
                send_frame(inner, dst, self.mac, ETHERTYPE_IPV6, ip);
                bump(&mut self.stats.tx_ip);
            }
            TxIpv6::Queued => bump(&mut self.stats.tx_queued),
            TxIpv6::Solicit { target, src } => {
                if self.solicited.iter().all(|(t, _)| *t != target) {
                    let _ = self.solicited.push((target, src));
                }
            }
            TxIpv6::HostNd => bump(&mut self.stats.smoltcp_mld_dropped),
            TxIpv6::Malformed => self.dropped(DropReason::Malformed),
            TxIpv6::Error(e) => self.dropped(DropReason::of(e)),
        }
    }
}

impl<'d, D: embassy_net_driver::Driver, const N: usize, const QS: usize, const QB: usize>
    NdpDriver<'d, D, N, QS, QB>
{
    /// The engine's work between embassy-net's polls: follow the link,
    /// apply the application's group changes, send what the engine has to
    /// send, hand its news to [`crate::Control`], teach smoltcp the
    /// gateway's MAC, and arm a wake-up for the engine's next deadline.
    pub(crate) fn service(&mut self, cx: &mut Context<'_>, link: LinkState) {
        let core = &mut self.core;
        let now = core.now;
        // The link state at the first look is the baseline; a later
        // Down → Up is a new link (RFC 4862 §5.4: DAD again; RFC 4861
        // §6.3.7: solicit routers).
        if core.link == Some(LinkState::Down) && link == LinkState::Up {
            core.stack.link_up(now);
            bump(&mut core.stats.link_ups);
        }
        core.link = Some(link);
        // What Control learned from embassy-net: groups joined or left,
        // and that embassy-net took a new configuration (which empties
        // smoltcp's neighbor cache).
        let mut changes: heapless::Vec<(Ipv6Addr, bool), { crate::HEARD_GROUPS }> =
            heapless::Vec::new();
        let reprime = core.state.with(|s| {
            s.driver_waker = Some(cx.waker().clone());
            changes = core::mem::take(&mut s.group_changes);
            core::mem::take(&mut s.reconfigured)
        });
        let reprime = reprime == Some(true);
        if reprime {
            // smoltcp forgot its neighbors with its new address: teach it
            // now (`now`, not a fixed instant: instants compare modulo
            // 2^32 ms, see ndp_core::time).
            core.prime_at = now;
            core.taught.clear();
        }
        for (group, joined) in changes {
            let listening = core.stack.app_groups().any(|g| g.get() == group);
            if joined && !listening {
                if core.stack.join_group(now, group).is_err() {
                    bump(&mut core.stats.group_no_room);
                    core.state.with(|s| {
                        s.push_event(Event::GroupNoRoom { group });
                    });
                }
            } else if !joined && listening {
                core.stack.leave_group(now, group);
            }
        }
        self.flush(cx);
        self.publish();
        let core = &mut self.core;
        // smoltcp learns the gateway's MAC before it has anything to send:
        // a reply it makes to a received packet (an echo reply) is
        // dropped, not kept, when its next hop is unknown.
        if now >= core.prime_at {
            let gateway = core.gateway;
            if core.solicited.iter().any(|(t, _)| *t == gateway)
                || core
                    .solicited
                    .push((gateway, Ipv6Addr::UNSPECIFIED))
                    .is_ok()
            {
                core.prime_at = now + PRIME_REFRESH;
            }
        }
        // Answers and engine errors for smoltcp: another poll at once.
        if core.rx_len.is_some() || !core.solicited.is_empty() {
            cx.waker().wake_by_ref();
            return;
        }
        // The engine's next deadline, and the next refresh.
        let at = core
            .stack
            .poll_at()
            .map_or(core.prime_at, |at| at.earlier(core.prime_at));
        if at <= now {
            // Due but not sent: the NIC had no room, and wakes us when it
            // has.
            bump(&mut core.stats.tx_device_busy);
            return;
        }
        let wait = at.saturating_duration_since(now);
        let deadline = embassy_time::Instant::now()
            .checked_add(embassy_time::Duration::from_millis(u64::from(
                wait.as_millis(),
            )))
            .unwrap_or(embassy_time::Instant::MAX);
        let timer = pin!(embassy_time::Timer::at(deadline));
        if timer.poll(cx) == Poll::Ready(()) {
            cx.waker().wake_by_ref();
        }
    }

    /// Send what the engine has to send: its own messages and released
    /// packets onto the link, its errors about smoltcp's packets back to
    /// embassy-net.
    fn flush(&mut self, cx: &mut Context<'_>) {
        let core = &mut self.core;
        loop {
            // RFC 4862 §5.4.2: the groups (all-nodes, the solicited-node
            // group of a tentative address) are listened to before a
            // message that may draw an answer to them leaves.
            sync_groups(core);
            let Some(token) = self.inner.transmit(cx) else {
                // The engine keeps its packets until the NIC has room, but
                // its state goes on: lifetimes end and neighbors are given
                // up on time.
                core.stack.handle_timeout(core.now);
                return;
            };
            let Some(t) = core.stack.poll_transmit(core.now, &mut core.tx) else {
                return;
            };
            let packet = core.tx.get(..t.len).unwrap_or(&[]);
            match t.delivery {
                Delivery::Link(dst) => {
                    send_frame(token, dst, core.mac, ETHERTYPE_IPV6, packet);
                    bump(&mut core.stats.tx_engine);
                }
                Delivery::Local => {
                    drop(token);
                    let len = packet.len().saturating_add(HEADER_LEN);
                    if core.rx_len.is_none()
                        && let Some(frame) = self.rx.get_mut(..len)
                    {
                        write_frame(frame, core.mac, core.mac, ETHERTYPE_IPV6, packet);
                        core.rx_len = Some(len);
                        bump(&mut core.stats.local_delivered);
                    } else {
                        bump(&mut core.stats.local_dropped);
                    }
                }
            }
        }
    }

    /// Hand the engine's events, and its configuration when it changed,
    /// to [`crate::Control`].
    fn publish(&mut self) {
        let core = &mut self.core;
        let generation = core.stack.generation();
        let changed = core.published != Some(generation);
        core.published = Some(generation);
        let config = changed.then(|| crate::config_of(&core.stack));
        if let Some(Some(c)) = &config {
            core.gateway = c.gateway.unwrap_or(NEXT_HOP_PLACEHOLDER);
        }
        let stack = &mut core.stack;
        let stats = &core.stats;
        core.state.with(|s| {
            if let Some(config) = config {
                s.offer_config(config);
            }
            while s.has_room() {
                let Some(e) = stack.poll_event() else {
                    break;
                };
                s.push_event(Event::Engine(e));
            }
            s.stats = stats.clone();
            s.wake_control();
        });
    }
}

/// Bring the multicast MACs the software filter passes in line with the
/// engine's groups.
pub(crate) fn sync_groups<const N: usize, const QS: usize, const QB: usize>(
    core: &mut Core<'_, N, QS, QB>,
) {
    let groups = || core.stack.multicast_groups().map(|g| g.mac());
    if groups().eq(core.group_macs.iter().copied()) {
        return;
    }
    core.group_macs = groups().take(crate::MAX_MULTICAST_MACS).collect();
}

impl<'d, D: embassy_net_driver::Driver, const N: usize, const QS: usize, const QB: usize>
    embassy_net_driver::Driver for NdpDriver<'d, D, N, QS, QB>
{
    type RxToken<'a>
        = FrameRx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = FrameTx<'a, 'd, D::TxToken<'a>, N, QS, QB>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let NdpDriver {
            inner,
            rx,
            arp,
            core,
        } = self;
        core.advance();
        core.next_frame(inner, &mut rx[..], arp, cx);
        let len = core.rx_len?;
        // A reply needs a transmit buffer; without one the frame waits.
        let token = inner.transmit(cx)?;
        // The made-up ARP reply goes first, then the packet it is for.
        let frame = if core.arp_ready {
            core.arp_ready = false;
            &mut arp[..]
        } else {
            core.rx_len = None;
            rx.get_mut(..len).unwrap_or(&mut [])
        };
        Some((FrameRx { frame }, FrameTx { inner: token, core }))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        let NdpDriver { inner, core, .. } = self;
        core.advance();
        let token = inner.transmit(cx)?;
        Some(FrameTx { inner: token, core })
    }

    /// The board's link state. embassy-net asks after each of its polls,
    /// so the engine's work is done here too.
    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        let link = self.inner.link_state(cx);
        self.core.advance();
        self.service(cx, link);
        link
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.max_transmission_unit = caps.max_transmission_unit.min(FRAME_LEN);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.core.mac.0)
    }
}

/// A received frame for embassy-net.
pub struct FrameRx<'a> {
    frame: &'a mut [u8],
}

impl RxToken for FrameRx<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        f(self.frame)
    }
}

/// A transmit buffer for embassy-net: what smoltcp writes goes through
/// the engine's next-hop choice (IPv6) or straight out (IPv4, ARP).
pub struct FrameTx<'a, 'd, T, const N: usize, const QS: usize, const QB: usize> {
    inner: T,
    core: &'a mut Core<'d, N, QS, QB>,
}

impl<T: TxToken, const N: usize, const QS: usize, const QB: usize> TxToken
    for FrameTx<'_, '_, T, N, QS, QB>
{
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let core = self.core;
        let Some(buf) = core.tx.get_mut(..len) else {
            // embassy-net never asks for more than the MTU it was told.
            // Should it, it writes straight into the NIC's buffer; an
            // IPv6 frame then carries our own MAC, which no other station
            // accepts.
            bump(&mut core.stats.tx_oversize);
            return self.inner.consume(len, f);
        };
        let r = f(buf);
        core.transmit_frame(self.inner, len);
        r
    }
}

/// A UDP datagram to the DHCPv4 client port, 68 (RFC 2131 §4.1).
fn to_dhcp_client(ip: &[u8]) -> bool {
    let ihl = usize::from(ip.first().map_or(0, |b| b & 0x0f)).saturating_mul(4);
    ip.get(9) == Some(&17)
        && ip.get(ihl.saturating_add(2)..ihl.saturating_add(4)) == Some(&[0, 68][..])
}

/// Frame `payload` to `dst` and hand it to the board's driver.
fn send_frame<T: TxToken>(token: T, dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) {
    let len = HEADER_LEN.saturating_add(payload.len());
    token.consume(len, |frame| {
        write_frame(frame, dst, src, ethertype, payload)
    });
}
