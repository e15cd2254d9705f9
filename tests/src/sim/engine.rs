//! The engine under test as a simulator node: an ndp-core [`Stack`] plus
//! the few things an adapter and an application would do around it.
//!
//! - Frames for our MAC, broadcast and the groups the stack listens to
//!   are accepted (a NIC with its multicast filter programmed). Each is
//!   read with the framing and classifier every adapter uses
//!   ([`ndp_core::wire::ethernet`], [`ndp_core::wire::ipv6::classify`],
//!   as ndp-smoltcp does): Neighbor Discovery and MLD go to the Stack,
//!   fragmented ones are dropped (RFC 6980 §5, counted in
//!   [`EngineNode::fragmented_nd`]), and ICMPv6 for us (echo) goes to the
//!   app.
//! - The app answers echo requests to any of our addresses and ff02::1,
//!   can ping ([`EngineNode::send_echo`]), and records echo replies,
//!   locally delivered ICMPv6 errors and engine events. An echo reply
//!   counts as upper-layer reachability confirmation (RFC 4861 §7.3.1)
//!   unless switched off.

use core::net::Ipv6Addr;
use std::collections::VecDeque;

use ndp_core::time::Instant;
use ndp_core::wire::{MacAddr, is_link_local};
use ndp_core::{Config, Delivery, Dispatch, Event, RxMeta, SendError, Stack};

use super::Node;
use ndp_core::wire::ethernet::{ETHERTYPE_IPV6, EthernetHeader};
use ndp_core::wire::ipv6::{Inbound, classify};

use crate::packet::{self, Echo, NH_ICMPV6};

/// Hop limit of the app's echo messages.
const ECHO_HOP_LIMIT: u8 = 64;

/// A locally delivered packet (a Destination Unreachable from the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPacket {
    /// When the engine produced it.
    pub at: Instant,
    /// The whole IPv6 packet.
    pub bytes: Vec<u8>,
}

/// An ndp-core Stack on the simulated link.
#[derive(Debug)]
pub struct EngineNode<const N: usize = 8, const QS: usize = 4, const QB: usize = 3072> {
    stack: Stack<N, QS, QB>,
    mac: MacAddr,
    now: Instant,
    out: VecDeque<Vec<u8>>,
    replies: Vec<(Instant, Ipv6Addr, Echo)>,
    requests: Vec<(Instant, Ipv6Addr, Ipv6Addr, Echo)>,
    local: Vec<LocalPacket>,
    events: Vec<(Instant, Event)>,
    send_errors: Vec<(Instant, SendError)>,
    fragmented_nd: usize,
    /// Echo replies confirm reachability of their sender's next hop.
    pub confirm_on_reply: bool,
}

impl EngineNode {
    /// An engine with default capacities and `Config::stable(mac, seed,
    /// [0; 16])`: RFC 7217 identifiers, as a device forms them.
    pub fn new(mac: MacAddr, seed: u64) -> Self {
        Self::with_config(Config::stable(mac, seed, [0; 16]))
    }

    /// An engine with default capacities and this configuration.
    pub fn from_config(config: Config) -> Self {
        Self::with_config(config)
    }
}

impl<const N: usize, const QS: usize, const QB: usize> EngineNode<N, QS, QB> {
    /// An engine with this configuration, started at time zero.
    pub fn with_config(config: Config) -> Self {
        let mac = config.mac;
        EngineNode {
            stack: Stack::with_capacity(config, Instant::ZERO),
            mac,
            now: Instant::ZERO,
            out: VecDeque::new(),
            replies: Vec::new(),
            requests: Vec::new(),
            local: Vec::new(),
            events: Vec::new(),
            send_errors: Vec::new(),
            fragmented_nd: 0,
            confirm_on_reply: true,
        }
    }

    /// The engine.
    pub fn stack(&self) -> &Stack<N, QS, QB> {
        &self.stack
    }

    /// The engine, mutably.
    pub fn stack_mut(&mut self) -> &mut Stack<N, QS, QB> {
        &mut self.stack
    }

    /// Our link-local address.
    pub fn link_local(&self) -> Ipv6Addr {
        self.stack
            .addresses()
            .map(|a| a.addr.get())
            .find(is_link_local)
            .expect("the stack always has a link-local address")
    }

    /// Send an IPv6 packet through the engine's output path, as an
    /// adapter would: frame it now, or let the engine queue it.
    pub fn send_ip(&mut self, now: Instant, packet: Vec<u8>) -> Result<Dispatch, SendError> {
        self.now = self.now.later(now);
        let r = self.stack.send(now, &packet);
        match r {
            Ok(Dispatch::Transmit(mac)) => self.out.push_back(eth(mac, self.mac, &packet)),
            Ok(Dispatch::Queued) => {}
            Err(e) => self.send_errors.push((now, e)),
        }
        r
    }

    /// Ping `dst` from our link-local address.
    pub fn send_echo(
        &mut self,
        now: Instant,
        dst: Ipv6Addr,
        id: u16,
        seq: u16,
    ) -> Result<Dispatch, SendError> {
        let src = self.link_local();
        self.send_echo_from(now, src, dst, id, seq)
    }

    /// Ping `dst` from `src` (any address: the engine does not check
    /// sources).
    pub fn send_echo_from(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        id: u16,
        seq: u16,
    ) -> Result<Dispatch, SendError> {
        let icmp = packet::echo_request(src, dst, id, seq, b"ndp engine ping!");
        self.send_ip(
            now,
            packet::ipv6(src, dst, NH_ICMPV6, ECHO_HOP_LIMIT, &icmp),
        )
    }

    /// Echo replies received: (time, source, reply).
    pub fn echo_replies(&self) -> &[(Instant, Ipv6Addr, Echo)] {
        &self.replies
    }

    /// Echo requests received: (time, source, destination, request).
    pub fn echo_requests(&self) -> &[(Instant, Ipv6Addr, Ipv6Addr, Echo)] {
        &self.requests
    }

    /// Packets the engine handed to the local IP stack.
    pub fn local_packets(&self) -> &[LocalPacket] {
        &self.local
    }

    /// Events the engine reported.
    pub fn events(&self) -> &[(Instant, Event)] {
        &self.events
    }

    /// Packets the engine refused to send.
    pub fn send_errors(&self) -> &[(Instant, SendError)] {
        &self.send_errors
    }

    fn on_app_icmp(&mut self, now: Instant, from: Ipv6Addr, to: Ipv6Addr, icmp: &[u8]) {
        let Some(echo) = packet::parse_echo(from, to, icmp) else {
            return;
        };
        if echo.request {
            self.requests.push((now, from, to, echo.clone()));
            // Answer from the address pinged, or from our link-local
            // address for a multicast ping.
            let src = if to.is_multicast() {
                self.link_local()
            } else {
                to
            };
            let reply = packet::echo_reply(src, from, echo.id, echo.seq, &echo.data);
            let _ = self.send_ip(
                now,
                packet::ipv6(src, from, NH_ICMPV6, ECHO_HOP_LIMIT, &reply),
            );
        } else {
            if self.confirm_on_reply {
                // Forward progress with the sender (on-link here).
                self.stack.confirm_reachable(now, &from);
            }
            self.replies.push((now, from, echo));
        }
    }

    /// Fragmented Neighbor Discovery and MLD messages dropped (RFC 6980
    /// §5).
    pub fn fragmented_nd(&self) -> usize {
        self.fragmented_nd
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.stack.poll_event() {
            self.events.push((self.now, e));
        }
    }
}

/// An IPv6 packet in an Ethernet frame (written by ndp-core's
/// [`EthernetHeader::emit`], as every adapter writes them).
fn eth(dst: MacAddr, src: MacAddr, ipv6: &[u8]) -> Vec<u8> {
    packet::ethernet(dst, src, ETHERTYPE_IPV6, ipv6)
}

impl<const N: usize, const QS: usize, const QB: usize> Node for EngineNode<N, QS, QB> {
    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn receive(&mut self, now: Instant, bytes: &[u8]) {
        self.now = self.now.later(now);
        // A NIC with its multicast filter programmed from the groups the
        // stack listens to (ndp-smoltcp does the same on real hardware):
        // decided on the destination MAC before anything is parsed.
        let Ok((eth, ip)) = EthernetHeader::parse(bytes) else {
            return;
        };
        let wanted = eth.dst == self.mac
            || eth.dst == MacAddr::BROADCAST
            || self.stack.multicast_groups().any(|g| g.mac() == eth.dst);
        if !wanted || eth.ethertype != ETHERTYPE_IPV6 {
            return;
        }
        match classify(ip) {
            Ok(Inbound::Engine(up)) => {
                let meta = RxMeta {
                    src: up.header.src,
                    dst: up.header.dst,
                    hop_limit: up.header.hop_limit,
                    src_mac: Some(eth.src),
                };
                self.stack.receive(now, &meta, up.payload);
            }
            Ok(Inbound::FragmentedNd) => self.fragmented_nd += 1,
            Ok(Inbound::Other(up)) => {
                let (from, to) = (up.header.src, up.header.dst);
                let ours = to.is_multicast() || self.stack.addresses().any(|a| a.addr.get() == to);
                if up.protocol == NH_ICMPV6 && !up.later_fragment && ours {
                    self.on_app_icmp(now, from, to, up.payload);
                }
            }
            Err(_) => {}
        }
        self.collect_events();
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.now = self.now.later(now);
        if let Some(f) = self.out.pop_front() {
            return Some(f);
        }
        let mut buf = [0u8; 1600];
        loop {
            let tx = self.stack.poll_transmit(now, &mut buf);
            self.collect_events();
            let tx = tx?;
            let packet = &buf[..tx.len];
            match tx.delivery {
                Delivery::Link(mac) => return Some(eth(mac, self.mac, packet)),
                Delivery::Local => self.local.push(LocalPacket {
                    at: now,
                    bytes: packet.to_vec(),
                }),
            }
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        if !self.out.is_empty() {
            return Some(self.now);
        }
        self.stack.poll_at()
    }
}
