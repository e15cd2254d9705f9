//! The driver against a fake board driver: what embassy-net sees and what
//! reaches the wire. (embassy-net itself, radvd and Linux are in
//! boards/embassy-tap/tests/interop.rs.)

extern crate std;

use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

use core::net::{Ipv4Addr, Ipv6Addr};
use core::task::{Context, Waker};

use embassy_net_driver::{
    Capabilities, Driver, HardwareAddress, LinkState, RxToken as _, TxToken as _,
};
use ndp_core::addr::AddrState;
use ndp_core::time::Instant as NdpInstant;
use ndp_core::wire::{MacAddr, Message, NdOption, NeighborSolicit, Options};
use ndp_tests::packet;

use crate::{Config, Control, NdpDriver, State};

const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0xfe]);
const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x77]);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[derive(Default)]
struct Nic {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl embassy_net_driver::RxToken for Rx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, f: F) -> R {
        f(&mut self.0)
    }
}

impl embassy_net_driver::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut b = vec![0; len];
        let r = f(&mut b);
        self.0.push(b);
        r
    }
}

impl Driver for Nic {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;
    fn receive(&mut self, _: &mut Context<'_>) -> Option<(Rx, Tx<'_>)> {
        let f = self.rx.pop_front()?;
        Some((Rx(f), Tx(&mut self.tx)))
    }
    fn transmit(&mut self, _: &mut Context<'_>) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }
    fn link_state(&mut self, _: &mut Context<'_>) -> LinkState {
        LinkState::Up
    }
    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::default();
        c.max_transmission_unit = 1514;
        c
    }
    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(MAC.0)
    }
}

struct Bench<'d> {
    drv: NdpDriver<'d, Nic>,
    control: Control<'d>,
    now_ms: u32,
    /// Frames the driver sent since the last look.
    sent: Vec<Vec<u8>>,
}

impl<'d> Bench<'d> {
    fn new(state: &'d State) -> Self {
        let (drv, control) = crate::new(Nic::default(), Config::eui64(MAC, 1), state).unwrap();
        Bench {
            drv,
            control,
            now_ms: 0,
            sent: Vec::new(),
        }
    }

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    /// A frame arrives from the link.
    fn arrive(&mut self, frame: Vec<u8>) {
        self.drv.inner.rx.push_back(frame);
    }

    /// embassy-net takes every frame the driver has for it.
    fn for_embassy(&mut self) -> Vec<Vec<u8>> {
        let mut cx = Self::cx();
        let mut out = Vec::new();
        while let Some((rx, _tx)) = self.drv.receive(&mut cx) {
            out.push(rx.consume(|f| f.to_vec()));
        }
        out
    }

    /// embassy-net sends `frame`.
    fn embassy_sends(&mut self, frame: &[u8]) {
        let mut cx = Self::cx();
        let tx = self.drv.transmit(&mut cx).unwrap();
        tx.consume(frame.len(), |b| b.copy_from_slice(frame));
    }

    /// Run the driver's service (as embassy-net's link_state call does)
    /// every 10 ms up to `ms`.
    fn run_to(&mut self, ms: u32) {
        let mut cx = Self::cx();
        while self.now_ms < ms {
            self.now_ms += 10;
            self.drv
                .core
                .advance_to(NdpInstant::from_millis(self.now_ms));
            self.drv.service(&mut cx, LinkState::Up);
            let _ = self.for_embassy();
            // The router answers the engine's solicitations for it.
            let sent = core::mem::take(&mut self.drv.inner.tx);
            for f in &sent {
                if let Some(ns) = solicits(f, a("fe80::1")) {
                    self.arrive(router_advert_for(ns));
                }
            }
            self.sent.extend(sent);
        }
    }

    fn wire(&mut self) -> Vec<Vec<u8>> {
        let mut all = core::mem::take(&mut self.sent);
        all.append(&mut self.drv.inner.tx);
        all
    }
}

/// The source of `frame` if it is a Neighbor Solicitation for `target`.
fn solicits(frame: &[u8], target: Ipv6Addr) -> Option<Ipv6Addr> {
    let f = ndp_tests::frame::parse(frame)?;
    match Message::parse_checked(&f.src, &f.dst, f.icmpv6()?).ok()? {
        Message::NeighborSolicit(ns) if ns.target == target => Some(f.src),
        _ => None,
    }
}

/// The router's solicited Neighbor Advertisement to `asker`.
fn router_advert_for(asker: Ipv6Addr) -> Vec<u8> {
    let na = Message::NeighborAdvert(ndp_core::wire::NeighborAdvert {
        router_flag: true,
        solicited_flag: true,
        override_flag: true,
        target: a("fe80::1"),
        options: Options::from_list(&[NdOption::TargetLinkAddr(ROUTER_MAC)]),
    });
    packet::icmpv6_frame(ROUTER_MAC, MAC, a("fe80::1"), asker, 255, &na)
}

/// An RA from fe80::1 (ROUTER_MAC) with 2001:db8:1::/64 and a Cur Hop
/// Limit.
fn ra(cur_hop_limit: u8) -> Vec<u8> {
    packet::prefix_ra(ROUTER_MAC, 1800, cur_hop_limit)
}

fn global() -> Ipv6Addr {
    packet::eui64_addr(a("2001:db8:1::"), MAC)
}

#[test]
fn neighbor_discovery_goes_to_the_engine_and_not_to_embassy_net() {
    let state = State::new();
    let mut b = Bench::new(&state);
    b.arrive(ra(64));
    assert!(b.for_embassy().is_empty(), "embassy-net saw the RA");
    assert_eq!(b.drv.stats().rx_nd, 1);
    assert_eq!(b.drv.stack().default_router(), Some(a("fe80::1")));
}

#[test]
fn the_engines_configuration_reaches_control_once_dad_passes() {
    let state = State::new();
    let mut b = Bench::new(&state);
    b.run_to(100);
    assert_eq!(b.control.config_v6(), None);
    b.arrive(ra(64));
    b.run_to(5000);
    // RFC 4862 §5.4: the global address was probed (an NS from ::) before
    // embassy-net was given it.
    let probes = b
        .wire()
        .iter()
        .filter_map(|f| ndp_tests::frame::parse(f))
        .filter(|f| f.src.is_unspecified())
        .count();
    assert!(
        probes >= 2,
        "DAD probes for the link-local and global address"
    );
    let c = b.control.config_v6().expect("a configuration");
    assert_eq!(c.address, global());
    assert_eq!(c.prefix_len, 64);
    assert_eq!(c.gateway, Some(a("fe80::1")));
    let e = c.to_embassy();
    assert_eq!(e.address.prefix_len(), 128);
    assert_eq!(e.gateway, Some(a("fe80::1")));
    assert!(
        b.drv
            .stack()
            .addresses()
            .any(|x| x.addr.get() == global() && x.state == AddrState::Preferred)
    );
}

#[test]
fn smoltcps_solicitation_is_answered_inside_and_never_sent() {
    let state = State::new();
    let mut b = Bench::new(&state);
    b.run_to(3000);
    let _ = b.wire();
    let src = a("2001:db8:1::5");
    let ns = Message::NeighborSolicit(NeighborSolicit {
        target: a("fe80::1"),
        options: Options::from_list(&[NdOption::SourceLinkAddr(MAC)]),
    });
    let group = a("ff02::1:ff00:1");
    let frame = packet::icmpv6_frame(
        MAC,
        packet::multicast_mac(group).unwrap(),
        src,
        group,
        255,
        &ns,
    );
    let answered = b.drv.stats().smoltcp_ns_answered;
    b.embassy_sends(&frame);
    assert!(b.wire().is_empty(), "smoltcp's NS reached the wire");
    let got = b.for_embassy();
    assert_eq!(got.len(), 1);
    let f = ndp_tests::frame::parse(&got[0]).unwrap();
    // smoltcp files the answer under the IPv6 source: the target.
    assert_eq!(f.src, a("fe80::1"));
    assert_eq!(f.dst, src);
    let icmp = f.icmpv6().unwrap();
    match Message::parse_checked(&f.src, &f.dst, icmp).unwrap() {
        Message::NeighborAdvert(na) => {
            assert_eq!(na.target, a("fe80::1"));
            assert!(na.solicited_flag);
            assert!(
                na.options
                    .iter()
                    .any(|o| o == Ok(NdOption::TargetLinkAddr(MAC)))
            );
        }
        m => panic!("not an NA: {m:?}"),
    }
    assert_eq!(b.drv.stats().smoltcp_ns_answered, answered + 1);
}

#[test]
fn ipv6_from_embassy_net_gets_the_engines_next_hop_and_the_ras_hop_limit() {
    let state = State::new();
    let mut b = Bench::new(&state);
    b.arrive(ra(100));
    b.run_to(5000);
    let _ = b.wire();
    // Off-link: to the router, whose MAC the RA gave; smoltcp put its
    // default 64 and our own MAC (its made-up neighbor's).
    let udp = packet::udp(global(), a("2001:db8:99::1"), 4000, 7, b"hi");
    let frame = packet::ipv6_frame(MAC, MAC, global(), a("2001:db8:99::1"), 17, 64, &udp);
    b.embassy_sends(&frame);
    let sent = b.wire();
    assert_eq!(sent.len(), 1);
    let f = ndp_tests::frame::parse(&sent[0]).unwrap();
    assert_eq!(f.dst_mac, ROUTER_MAC);
    // RFC 4861 §6.3.4: the advertised Cur Hop Limit.
    assert_eq!(f.hop_limit, 100);
    assert_eq!(b.drv.stats().tx_ip, 1);
    assert_eq!(b.drv.stats().tx_hop_limit_set, 1);
}

/// An IPv4 echo request to us from `src` at `mac`.
fn ping4(src: Ipv4Addr, mac: MacAddr) -> Vec<u8> {
    let ip = packet::echo4_request(src, Ipv4Addr::new(192, 0, 2, 100), 1, 1, b"x");
    packet::ethernet(MAC, mac, crate::ETHERTYPE_IPV4, &ip)
}

#[test]
fn an_ipv4_senders_first_packet_comes_after_a_made_up_arp_reply() {
    let state = State::new();
    let mut b = Bench::new(&state);
    let peer = Ipv4Addr::new(192, 0, 2, 1);
    b.arrive(ping4(peer, PEER_MAC));
    let got = b.for_embassy();
    assert_eq!(got.len(), 2, "{got:?}");
    // RFC 826 reply from the peer to the packet's destination.
    let arp = &got[0];
    assert_eq!(&arp[12..14], &[0x08, 0x06]);
    assert_eq!(&arp[14..22], &[0, 1, 8, 0, 6, 4, 0, 2]);
    assert_eq!(&arp[22..28], &PEER_MAC.0);
    assert_eq!(&arp[28..32], &peer.octets());
    assert_eq!(&arp[32..38], &MAC.0);
    assert_eq!(&arp[38..42], &[192, 0, 2, 100]);
    assert_eq!(got[1], ping4(peer, PEER_MAC));
    // Taught once: the next packet comes alone.
    b.arrive(ping4(peer, PEER_MAC));
    assert_eq!(b.for_embassy().len(), 1);
    assert_eq!(b.drv.stats().arp_taught, 1);
    // Nothing of it reached the wire.
    assert!(b.wire().is_empty());
}

#[test]
fn ipv4_teaching_is_bounded_and_forgotten_with_a_dhcp_answer() {
    let state = State::new();
    let mut b = Bench::new(&state);
    for i in 1..=(crate::TAUGHT_SENDERS as u8 + 1) {
        b.arrive(ping4(
            Ipv4Addr::new(192, 0, 2, i),
            MacAddr([2, 0, 0, 0, 0, i]),
        ));
    }
    let got = b.for_embassy();
    // Four taught (an ARP reply and the packet), the fifth passed alone.
    assert_eq!(got.len(), 2 * crate::TAUGHT_SENDERS + 1);
    assert_eq!(b.drv.stats().arp_taught, crate::TAUGHT_SENDERS as u32);
    assert_eq!(b.drv.stats().arp_teach_limited, 1);
    // A DHCP answer (UDP to port 68) may change embassy-net's address,
    // after which smoltcp has forgotten its neighbors: taught again.
    let mut udp = vec![0, 67, 0, 68, 0, 8, 0, 0];
    udp.extend_from_slice(&[0; 4]);
    let dhcp = packet::ipv4(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::BROADCAST, 17, &udp);
    b.arrive(packet::ethernet(
        MacAddr::BROADCAST,
        PEER_MAC,
        crate::ETHERTYPE_IPV4,
        &dhcp,
    ));
    assert_eq!(b.for_embassy().len(), 1);
    b.arrive(ping4(
        Ipv4Addr::new(192, 0, 2, 1),
        MacAddr([2, 0, 0, 0, 0, 1]),
    ));
    assert_eq!(b.for_embassy().len(), 2);
}

#[test]
fn ipv6_to_a_group_not_joined_is_dropped() {
    let state = State::new();
    let mut b = Bench::new(&state);
    let group = a("ff02::1234");
    let udp = packet::udp(a("fe80::9"), group, 4000, 7, b"hi");
    b.arrive(packet::ipv6_frame(
        PEER_MAC,
        packet::multicast_mac(group).unwrap(),
        a("fe80::9"),
        group,
        17,
        1,
        &udp,
    ));
    assert!(b.for_embassy().is_empty());
    // Not even the MAC passes the software filter.
    assert_eq!(b.drv.stats().rx_filtered, 1);
}

#[test]
fn ipv6_from_or_to_the_loopback_address_is_dropped() {
    // RFC 4291 §2.5.3.
    let state = State::new();
    let mut b = Bench::new(&state);
    let ll = packet::link_local(MAC);
    for (src, dst) in [(a("::1"), ll), (a("fe80::9"), a("::1"))] {
        let udp = packet::udp(src, dst, 4000, 7, b"hi");
        b.arrive(packet::ipv6_frame(PEER_MAC, MAC, src, dst, 17, 64, &udp));
    }
    assert!(b.for_embassy().is_empty());
    assert_eq!(b.drv.stats().rx_loopback, 2);
    let udp = packet::udp(a("fe80::9"), ll, 4000, 7, b"hi");
    b.arrive(packet::ipv6_frame(
        PEER_MAC,
        MAC,
        a("fe80::9"),
        ll,
        17,
        64,
        &udp,
    ));
    assert_eq!(b.for_embassy().len(), 1);
}

#[test]
fn a_group_smoltcp_reports_is_joined_in_the_engine_once_control_confirms_it() {
    use ndp_core::wire::{AddrList, MldRecord, MldV2Report, RecordList, RecordType};
    let state = State::new();
    let mut b = Bench::new(&state);
    b.run_to(100);
    let _ = b.wire();
    let mdns = a("ff02::fb");
    // smoltcp 0.13 joins with CHANGE_TO_INCLUDE (it swaps the types), so
    // the type cannot be trusted: Control asks embassy-net's Stack.
    let records = [MldRecord {
        record_type: RecordType::ChangeToInclude,
        group: mdns,
        sources: AddrList::new(&[]),
        aux_data: &[],
    }];
    let report = Message::MldV2Report(MldV2Report {
        records: RecordList::new(&records),
    });
    let mld = a("ff02::16");
    let frame = packet::icmpv6_frame(
        MAC,
        packet::multicast_mac(mld).unwrap(),
        packet::link_local(MAC),
        mld,
        1,
        &report,
    );
    b.embassy_sends(&frame);
    // smoltcp's report never leaves; the group waits for Control.
    assert!(b.wire().is_empty());
    assert_eq!(state.shared.borrow().heard.as_slice(), &[mdns]);
    assert!(b.drv.stack().app_groups().all(|g| g.get() != mdns));
    // Control found the group joined on the Stack.
    state.shared.borrow_mut().heard.clear();
    state
        .shared
        .borrow_mut()
        .group_changes
        .push((mdns, true))
        .unwrap();
    b.run_to(200);
    assert!(b.drv.stack().app_groups().any(|g| g.get() == mdns));
    // RFC 3810 §6.1: the engine reports the join itself.
    let joins = b
        .wire()
        .iter()
        .filter_map(|f| ndp_tests::frame::parse(f))
        .filter(|f| f.dst == mld)
        .filter(|f| {
            matches!(Message::parse_checked(&f.src, &f.dst, f.icmpv6().unwrap()),
                Ok(Message::MldV2Report(r)) if r.records.iter().any(|rec| rec.group == mdns))
        })
        .count();
    assert!(joins >= 1);
    // And a datagram to the group now reaches embassy-net.
    let udp = packet::udp(a("fe80::9"), mdns, 5353, 5353, b"q");
    b.arrive(packet::ipv6_frame(
        PEER_MAC,
        packet::multicast_mac(mdns).unwrap(),
        a("fe80::9"),
        mdns,
        17,
        255,
        &udp,
    ));
    assert_eq!(b.for_embassy().len(), 1);
    // Left on the Stack: the engine leaves too.
    state
        .shared
        .borrow_mut()
        .group_changes
        .push((mdns, false))
        .unwrap();
    b.run_to(300);
    assert!(b.drv.stack().app_groups().all(|g| g.get() != mdns));
}

/// An ARP message (RFC 826) from `mac` at `ip` about `target`: a
/// request (broadcast) or a reply (to us).
fn arp(request: bool, mac: MacAddr, ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let body = ndp_core::port::arp::Arp {
        request,
        sender_mac: mac,
        sender_ip: ip,
        target_ip: target,
    }
    .emit(if request { [0; 6] } else { MAC.0 });
    let dst = if request { MacAddr::BROADCAST } else { MAC };
    packet::ethernet(dst, mac, crate::ETHERTYPE_ARP, &body)
}

#[test]
fn arp_reaches_smoltcp_through_the_guard() {
    use ndp_core::port::arp::ARP_LEARN_BURST;
    let state = State::new();
    let mut b = Bench::new(&state);
    let ours = Ipv4Addr::new(192, 0, 2, 100);
    let gateway = Ipv4Addr::new(192, 0, 2, 1);
    // Before smoltcp's address is known, a request passes (smoltcp checks
    // the target itself)...
    b.arrive(arp(true, PEER_MAC, gateway, ours));
    assert_eq!(b.for_embassy().len(), 1);
    // ...and its answer tells the wrapper the address.
    b.embassy_sends(&arp(false, MAC, ours, gateway));
    assert_eq!(b.drv.core.ipv4, Some(ours));
    assert_eq!(b.wire().len(), 1, "smoltcp's reply leaves");
    // Not about us, or a reply nobody asked for: dropped.
    b.arrive(arp(true, PEER_MAC, gateway, Ipv4Addr::new(192, 0, 2, 200)));
    b.arrive(arp(false, PEER_MAC, Ipv4Addr::new(192, 0, 2, 7), ours));
    assert!(b.for_embassy().is_empty());
    assert_eq!(b.drv.stats().rx_arp_not_for_us, 1);
    assert_eq!(b.drv.stats().rx_arp_unsolicited, 1);
    // smoltcp asks for the gateway: the answer passes.
    let mut req = arp(true, MAC, ours, gateway);
    req[32..38].fill(0);
    b.embassy_sends(&req);
    let _ = b.wire();
    b.arrive(arp(false, PEER_MAC, gateway, ours));
    assert_eq!(b.for_embassy().len(), 1);
    // A flood of requests for our address: smoltcp learns from the rest
    // of the burst (one was taken above), the others are answered here.
    let flood = 10u8;
    for i in 0..flood {
        let asker = MacAddr([2, 0, 0, 0, 1, i]);
        b.arrive(arp(true, asker, Ipv4Addr::new(192, 0, 2, 10 + i), ours));
    }
    let passed = b.for_embassy().len();
    assert_eq!(passed, usize::from(ARP_LEARN_BURST) - 1);
    let answers = b.wire();
    assert_eq!(answers.len(), usize::from(flood) - passed);
    for a in &answers {
        // RFC 826: a reply with our MAC for our address, to the asker.
        let parsed = ndp_core::port::arp::Arp::parse(&a[14..]).unwrap();
        assert!(!parsed.request);
        assert_eq!((parsed.sender_mac, parsed.sender_ip), (MAC, ours));
        assert_eq!(&a[0..6], &a[32..38]);
    }
    assert_eq!(b.drv.stats().arp_answered, answers.len() as u32);
    // A DHCP answer may change the address: known no longer.
    let udp = [0, 67, 0, 68, 0, 8, 0, 0];
    let dhcp = packet::ipv4(gateway, Ipv4Addr::BROADCAST, 17, &udp);
    b.arrive(packet::ethernet(
        MacAddr::BROADCAST,
        PEER_MAC,
        crate::ETHERTYPE_IPV4,
        &dhcp,
    ));
    let _ = b.for_embassy();
    assert_eq!(b.drv.core.ipv4, None);
}

#[test]
fn before_the_address_is_known_a_flood_is_dropped_not_answered() {
    let state = State::new();
    let mut b = Bench::new(&state);
    for i in 0..8u8 {
        let asker = MacAddr([2, 0, 0, 0, 1, i]);
        b.arrive(arp(
            true,
            asker,
            Ipv4Addr::new(192, 0, 2, 10 + i),
            Ipv4Addr::new(192, 0, 2, 100),
        ));
    }
    let passed = b.for_embassy().len();
    assert_eq!(passed, usize::from(ndp_core::port::arp::ARP_LEARN_BURST));
    // Never answered for an address that may not be ours.
    assert!(b.wire().is_empty());
    assert_eq!(b.drv.stats().rx_arp_unanswered, 8 - passed as u32);
}

#[test]
fn a_new_configuration_teaches_smoltcp_its_gateway_at_once_even_after_24_days() {
    // Instants compare modulo 2^32 ms: past 2^31 ms of uptime a fixed
    // "at once" instant (zero) would lie in the future for 24.8 days.
    // (The driver's own reads of embassy-time are left out: this test's
    // clock is far from the host's.)
    let state = State::new();
    let mut b = Bench::new(&state);
    let mut cx = Bench::cx();
    let prime = (crate::NEXT_HOP_PLACEHOLDER, Ipv6Addr::UNSPECIFIED);
    for ms in [1_500_000_000u32, 3_000_000_000] {
        b.drv.core.advance_to(NdpInstant::from_millis(ms));
        b.drv.service(&mut cx, LinkState::Up);
        // Taught on schedule (then handed over: taken from the list).
        assert!(b.drv.core.solicited.contains(&prime), "at {ms} ms");
        b.drv.core.solicited.clear();
    }
    // A second later embassy-net takes a new configuration (Control says
    // so) and empties its neighbor cache: it is taught again at once, not
    // at the next refresh.
    state.shared.borrow_mut().reconfigured = true;
    b.drv
        .core
        .advance_to(NdpInstant::from_millis(3_000_001_000));
    b.drv.service(&mut cx, LinkState::Up);
    assert!(b.drv.core.solicited.contains(&prime));
}

#[test]
fn a_driver_with_another_mac_is_refused() {
    let state = State::new();
    let other = Config::eui64(MacAddr([0x02, 0, 0, 0, 0, 9]), 1);
    assert_eq!(
        crate::new(Nic::default(), other, &state).err(),
        Some(crate::Error::MacMismatch { driver: MAC })
    );
}

/// RFC 4861 §7.2.8: a gateway proxying a prefix hears solicitations for
/// its targets, sent to solicited-node groups nobody here joined: the
/// software filter passes that range while the stack proxies (and only
/// then), and the engine answers with our MAC.
#[test]
fn a_proxying_gateway_hears_and_answers_solicitations_for_its_targets() {
    let state = State::new();
    let mut b = Bench::new(&state);
    b.run_to(3000);
    let _ = b.wire();
    let (asker, target) = (a("2001:db8:1::5"), a("2001:db8:2::42"));
    let group = ndp_core::wire::UnicastAddr::new(target)
        .unwrap()
        .solicited_node()
        .get();
    let ns = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: Options::from_list(&[NdOption::SourceLinkAddr(PEER_MAC)]),
    });
    let frame = packet::icmpv6_frame(
        PEER_MAC,
        packet::multicast_mac(group).unwrap(),
        asker,
        group,
        255,
        &ns,
    );
    let answers = |frames: &[Vec<u8>]| -> Vec<(MacAddr, Ipv6Addr, Option<MacAddr>, bool)> {
        frames
            .iter()
            .filter_map(|f| {
                let p = packet::parse_icmpv6(f)?;
                match Message::parse_checked(&p.meta.src, &p.meta.dst, p.icmp).ok()? {
                    Message::NeighborAdvert(na) if na.target == target => Some((
                        p.dst_mac,
                        p.meta.dst,
                        na.options.target_link_addr(),
                        na.override_flag,
                    )),
                    _ => None,
                }
            })
            .collect()
    };
    // No proxy: the frame stops at the filter.
    let filtered = b.drv.stats().rx_filtered;
    b.arrive(frame.clone());
    let _ = b.for_embassy();
    b.run_to(3010);
    assert_eq!(b.drv.stats().rx_filtered, filtered + 1);
    assert!(answers(&b.wire()).is_empty());

    let rule = ndp_core::proxy::ProxyRule::new(a("2001:db8:2::"), 64).unwrap();
    b.drv
        .stack_mut()
        .configure_proxy(|p| p.add_prefix(rule))
        .unwrap();
    b.arrive(frame);
    assert!(
        b.for_embassy().is_empty(),
        "the engine's, not embassy-net's"
    );
    b.run_to(3020);
    assert_eq!(b.drv.stats().rx_filtered, filtered + 1, "passed the filter");
    assert_eq!(
        answers(&b.wire()),
        vec![(PEER_MAC, asker, Some(MAC), false)],
        "one answer to the asker, with our MAC, Override clear"
    );
}
