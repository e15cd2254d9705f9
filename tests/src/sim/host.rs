//! A scripted IPv6 host built on the wire codec (not on the engine): it
//! answers Neighbor Solicitations and pings for its addresses, records what
//! it receives, and sends what the test tells it to.

use core::net::Ipv6Addr;
use std::collections::{BTreeMap, VecDeque};

use ndp_core::time::Instant;
use ndp_core::wire::{
    MacAddr, Message, MulticastAddr, NdOption, NeighborAdvert, NeighborSolicit, Options, RxError,
    UnicastAddr, parse_received,
};

use super::Node;
use crate::frame::{self, Ipv6Frame};
use crate::packet::{self, Echo, ND_HOP_LIMIT, NH_ICMPV6};

/// Hop limit of the echo messages a scripted host sends.
pub const ECHO_HOP_LIMIT: u8 = 64;

/// Data carried by the echo requests of [`ScriptedHost::send_echo`].
pub const ECHO_DATA: &[u8] = b"ndp-sim echo....";

/// An IPv6 packet a scripted host accepted (addressed to one of its
/// addresses or groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// IPv6 source.
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// IPv6 hop limit as received.
    pub hop_limit: u8,
    /// Upper-layer protocol (after extension headers).
    pub next_header: u8,
    /// Upper-layer bytes.
    pub payload: Vec<u8>,
}

impl Received {
    /// The NDP/MLD message, checked as the engine would (checksum, parse,
    /// RFC 4861 validation); `None` if this is not ICMPv6.
    pub fn message(&self) -> Option<Result<Message<'_>, RxError>> {
        (self.next_header == NH_ICMPV6).then(|| {
            let meta = ndp_core::wire::IpMeta {
                src: self.src,
                dst: self.dst,
                hop_limit: self.hop_limit,
            };
            parse_received(&meta, &self.payload)
        })
    }

    /// The echo request or reply (checksum verified), if this is one.
    pub fn echo(&self) -> Option<Echo> {
        (self.next_header == NH_ICMPV6)
            .then(|| packet::parse_echo(self.src, self.dst, &self.payload))
            .flatten()
    }
}

/// A plain host: a MAC, its EUI-64 link-local address and any extra
/// addresses.
///
/// - Answers a Neighbor Solicitation for one of its addresses with a
///   solicited NA (S=1, O=1, TLLA) to the soliciting address, or, for a
///   DAD probe from `::`, with an NA to ff02::1 (S=0, O=1).
/// - Answers echo requests to its addresses.
/// - Records every IPv6 packet for its addresses and groups (ff02::1, its
///   solicited-node groups, groups it [joined](ScriptedHost::join)) in
///   its [inbox](ScriptedHost::inbox).
/// - Learns neighbors' MACs from the SLLA of solicitations and the TLLA
///   of advertisements; replies go to the learnt MAC, else to the frame's
///   source MAC.
///
/// Never panics on received frames: anything it cannot decode is ignored.
#[derive(Debug, Clone)]
pub struct ScriptedHost {
    mac: MacAddr,
    addrs: Vec<Ipv6Addr>,
    groups: Vec<Ipv6Addr>,
    neighbors: BTreeMap<Ipv6Addr, MacAddr>,
    /// Frames to send, each with the instant it is due.
    outbox: VecDeque<(Instant, Vec<u8>)>,
    inbox: Vec<Received>,
    /// Packets framed to our MAC for someone else's IPv6 address: what a
    /// router would forward.
    transit: Vec<Received>,
    silent: bool,
    answer_ns: bool,
    router_flag: bool,
}

impl ScriptedHost {
    /// A host with the EUI-64 link-local address of `mac`.
    pub fn new(mac: MacAddr) -> Self {
        ScriptedHost {
            mac,
            addrs: vec![packet::link_local(mac)],
            groups: vec![MulticastAddr::ALL_NODES.get()],
            neighbors: BTreeMap::new(),
            outbox: VecDeque::new(),
            inbox: Vec::new(),
            transit: Vec::new(),
            silent: false,
            answer_ns: true,
            router_flag: false,
        }
    }

    /// The same host with one more address.
    pub fn with_address(mut self, addr: Ipv6Addr) -> Self {
        self.add_address(addr);
        self
    }

    /// Add a unicast address (no DAD: it is usable at once).
    pub fn add_address(&mut self, addr: Ipv6Addr) {
        assert!(
            UnicastAddr::new(addr).is_some(),
            "{addr} is not a unicast address"
        );
        if !self.addrs.contains(&addr) {
            self.addrs.push(addr);
        }
    }

    /// Also accept packets sent to multicast `group`.
    pub fn join(&mut self, group: Ipv6Addr) {
        assert!(group.is_multicast(), "{group} is not a multicast address");
        if !self.groups.contains(&group) {
            self.groups.push(group);
        }
    }

    /// The Ethernet address.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// The EUI-64 link-local address.
    pub fn link_local(&self) -> Ipv6Addr {
        self.addrs[0]
    }

    /// Every address, link-local first.
    pub fn addresses(&self) -> &[Ipv6Addr] {
        &self.addrs
    }

    /// A silent host ignores every frame: it records nothing and answers
    /// nothing (frames queued with `send_*` still go out).
    pub fn set_silent(&mut self, silent: bool) {
        self.silent = silent;
    }

    /// Whether [`ScriptedHost::set_silent`] is on.
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Whether to answer Neighbor Solicitations (default true).
    pub fn set_answer_ns(&mut self, answer: bool) {
        self.answer_ns = answer;
    }

    /// Set the R flag in the advertisements it sends (routers do).
    pub(crate) fn set_router_flag(&mut self, router: bool) {
        self.router_flag = router;
    }

    /// Every packet received so far, oldest first.
    pub fn inbox(&self) -> &[Received] {
        &self.inbox
    }

    /// Packets framed to this host's MAC but addressed to an IPv6 address
    /// it does not have: for a router, the traffic it was asked to forward.
    pub fn transit(&self) -> &[Received] {
        &self.transit
    }

    /// Take the inbox, leaving it empty.
    pub fn take_inbox(&mut self) -> Vec<Received> {
        std::mem::take(&mut self.inbox)
    }

    /// The echo replies received so far, as (arrival, source, reply).
    pub fn echo_replies(&self) -> Vec<(Instant, Ipv6Addr, Echo)> {
        self.inbox
            .iter()
            .filter_map(|r| r.echo().filter(|e| !e.request).map(|e| (r.at, r.src, e)))
            .collect()
    }

    /// The MAC learnt for `addr`, if any.
    pub fn neighbor(&self, addr: Ipv6Addr) -> Option<MacAddr> {
        self.neighbors.get(&addr).copied()
    }

    /// Queue an echo request to `dst` via `dst_mac`, due at `now` (pass a
    /// later instant to send it then). It comes from the link-local
    /// address when `dst` is link-local or multicast, else from the first
    /// other address (if any).
    pub fn send_echo(&mut self, now: Instant, dst: Ipv6Addr, dst_mac: MacAddr, id: u16, seq: u16) {
        let src = self.source_for(dst);
        let icmp = packet::echo_request(src, dst, id, seq, ECHO_DATA);
        let f = packet::ipv6_frame(
            self.mac,
            dst_mac,
            src,
            dst,
            NH_ICMPV6,
            ECHO_HOP_LIMIT,
            &icmp,
        );
        self.outbox.push_back((now, f));
    }

    /// Queue a Neighbor Solicitation for `target` (address resolution:
    /// from the link-local address, with SLLA, to the solicited-node
    /// group). The answer's TLLA lands in [`ScriptedHost::neighbor`].
    pub fn send_ns(&mut self, now: Instant, target: Ipv6Addr) {
        let group = UnicastAddr::new(target)
            .unwrap_or_else(|| panic!("cannot solicit {target}: not unicast"))
            .solicited_node();
        let opts = [NdOption::SourceLinkAddr(self.mac)];
        let ns = Message::NeighborSolicit(NeighborSolicit {
            target,
            options: Options::from_list(&opts),
        });
        let (src, dst) = (self.link_local(), group.get());
        let f = packet::icmpv6_frame(self.mac, group.mac(), src, dst, ND_HOP_LIMIT, &ns);
        self.outbox.push_back((now, f));
    }

    /// Queue a Router Solicitation from the link-local address (with SLLA)
    /// to ff02::2.
    pub fn send_rs(&mut self, now: Instant) {
        let opts = [NdOption::SourceLinkAddr(self.mac)];
        let rs = Message::RouterSolicit(ndp_core::wire::RouterSolicit {
            options: Options::from_list(&opts),
        });
        let dst = MulticastAddr::ALL_ROUTERS;
        let f = packet::icmpv6_frame(
            self.mac,
            dst.mac(),
            self.link_local(),
            dst.get(),
            ND_HOP_LIMIT,
            &rs,
        );
        self.outbox.push_back((now, f));
    }

    /// Queue any frame, sent on the next poll.
    pub fn send_raw(&mut self, frame: Vec<u8>) {
        self.outbox.push_back((Instant::ZERO, frame));
    }

    fn source_for(&self, dst: Ipv6Addr) -> Ipv6Addr {
        if ndp_core::wire::is_link_local(&dst) || dst.is_multicast() {
            return self.link_local();
        }
        self.addrs.get(1).copied().unwrap_or(self.link_local())
    }

    fn accepts(&self, f: &Ipv6Frame<'_>) -> bool {
        let ip_ok = self.addrs.contains(&f.dst)
            || self.groups.contains(&f.dst)
            || self
                .addrs
                .iter()
                .any(|a| UnicastAddr::new(*a).is_some_and(|u| u.solicited_node().get() == f.dst));
        let mac_ok = f.dst_mac == self.mac
            || f.dst_mac == MacAddr::BROADCAST
            || Some(f.dst_mac) == packet::multicast_mac(f.dst);
        ip_ok && mac_ok
    }

    /// Receive a frame: filter, record, answer. Returns the decoded packet
    /// when it was accepted (for the router built on top).
    pub(crate) fn handle<'a>(&mut self, now: Instant, frame: &'a [u8]) -> Option<Ipv6Frame<'a>> {
        if self.silent {
            return None;
        }
        let f = frame::parse(frame)?;
        if !self.accepts(&f) {
            if f.dst_mac == self.mac && !f.dst.is_multicast() {
                self.transit.push(Received {
                    at: now,
                    src: f.src,
                    dst: f.dst,
                    hop_limit: f.hop_limit,
                    next_header: f.next_header,
                    payload: f.payload.to_vec(),
                });
            }
            return None;
        }
        self.inbox.push(Received {
            at: now,
            src: f.src,
            dst: f.dst,
            hop_limit: f.hop_limit,
            next_header: f.next_header,
            payload: f.payload.to_vec(),
        });
        if f.fragmented {
            return Some(f);
        }
        if let Some(icmp) = f.icmpv6() {
            if let Some(e) = packet::parse_echo(f.src, f.dst, icmp) {
                if e.request {
                    self.answer_echo(now, &f, &e);
                }
                return Some(f);
            }
            let meta = ndp_core::wire::IpMeta {
                src: f.src,
                dst: f.dst,
                hop_limit: f.hop_limit,
            };
            match parse_received(&meta, icmp) {
                Ok(Message::NeighborSolicit(ns)) => self.answer_ns(now, &f, &ns),
                Ok(Message::NeighborAdvert(na)) => {
                    if let Some(mac) = na.options.target_link_addr() {
                        self.neighbors.insert(na.target, mac);
                    }
                }
                _ => {}
            }
        }
        Some(f)
    }

    fn answer_echo(&mut self, now: Instant, f: &Ipv6Frame<'_>, e: &Echo) {
        // Only pings to one of its unicast addresses, from a unicast source.
        if !self.addrs.contains(&f.dst) || UnicastAddr::new(f.src).is_none() {
            return;
        }
        let icmp = packet::echo_reply(f.dst, f.src, e.id, e.seq, &e.data);
        let dst_mac = self.neighbor(f.src).unwrap_or(f.src_mac);
        let reply = packet::ipv6_frame(
            self.mac,
            dst_mac,
            f.dst,
            f.src,
            NH_ICMPV6,
            ECHO_HOP_LIMIT,
            &icmp,
        );
        self.outbox.push_back((now, reply));
    }

    fn answer_ns(&mut self, now: Instant, f: &Ipv6Frame<'_>, ns: &NeighborSolicit<'_>) {
        let slla = ns.options.source_link_addr();
        if !f.src.is_unspecified()
            && let Some(mac) = slla
        {
            self.neighbors.insert(f.src, mac);
        }
        if !self.answer_ns || !self.addrs.contains(&ns.target) {
            return;
        }
        let dad = f.src.is_unspecified();
        let (dst, dst_mac) = if dad {
            let all = MulticastAddr::ALL_NODES;
            (all.get(), all.mac())
        } else {
            (f.src, slla.unwrap_or(f.src_mac))
        };
        let opts = [NdOption::TargetLinkAddr(self.mac)];
        let na = Message::NeighborAdvert(NeighborAdvert {
            router_flag: self.router_flag,
            solicited_flag: !dad,
            override_flag: true,
            target: ns.target,
            options: Options::from_list(&opts),
        });
        let frame = packet::icmpv6_frame(self.mac, dst_mac, ns.target, dst, ND_HOP_LIMIT, &na);
        self.outbox.push_back((now, frame));
    }

    /// The first queued frame due by `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        let i = self.outbox.iter().position(|(at, _)| *at <= now)?;
        self.outbox.remove(i).map(|(_, f)| f)
    }

    /// When the earliest queued frame is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.outbox
            .iter()
            .map(|(at, _)| *at)
            .reduce(Instant::earlier)
    }
}

impl Node for ScriptedHost {
    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn receive(&mut self, now: Instant, frame: &[u8]) {
        let _ = self.handle(now, frame);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.pop_due(now)
    }

    fn poll_at(&self) -> Option<Instant> {
        self.next_due()
    }
}
