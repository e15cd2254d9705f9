//! The adapter between two smoltcp interfaces on an in-memory Ethernet
//! cable, with real smoltcp UDP sockets: resolution and queueing through
//! the engine, receive filtering, address and route sync, RFC 6980.
//!
//! Time is virtual: every node is polled each millisecond.
// Test code may index, unwrap and panic: the workspace's no-panic lints
// are for the library.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;

use common::node::*;
use common::{Nic, cable, lone_nic};

use ndp_core::Event;
use ndp_core::addr::{AddrState, Origin};
use ndp_core::wire::{MacAddr, Message, NdOption, NeighborSolicit, Options, UnicastAddr};
use ndp_smoltcp::{Adapter, MulticastFilter, NEXT_HOP_PLACEHOLDER};
use ndp_tests::packet::{self, ND_HOP_LIMIT, NH_ICMPV6};
use smoltcp::iface::SocketSet;
use smoltcp::time::Instant;

// ------------------------------------------------------------- the tests

#[test]
fn udp_to_an_unresolved_neighbor_is_queued_and_delivered_once_resolved() {
    let (nic_a, nic_b) = cable();
    let mut na = Node::new(nic_a, config(MAC_A, 1));
    let mut nb = Node::new(nic_b, config(MAC_B, 2));
    run(&mut [&mut na, &mut nb], 0, 3000);
    let (ll_a, ll_b) = (na.link_local(), nb.link_local());
    assert_eq!(na.state(ll_a), Some(AddrState::Preferred));
    assert_eq!(nb.state(ll_b), Some(AddrState::Preferred));
    assert!(
        na.adapter.stack().neighbors().all(|n| n.addr != ll_b),
        "B is not known to A yet"
    );

    na.udp().send_slice(b"hello", (ll_b, PORT)).unwrap();
    let ns_before = na.adapter.stack().stats().tx_ns_multicast;
    na.poll(3000);
    // The datagram waits in the engine and A solicits B.
    assert_eq!(na.adapter.stats().tx_queued, 1);
    assert_eq!(na.adapter.stats().tx_ip, 0);
    assert_eq!(na.adapter.stack().queued_packets(), 1);
    let snm = UnicastAddr::new(ll_b).unwrap().solicited_node().get();
    assert!(na.sent_icmp().contains(&(snm, 135)), "no NS for B");
    assert!(na.adapter.stack().stats().tx_ns_multicast > ns_before);
    assert!(nb.received().is_empty());

    run(&mut [&mut na, &mut nb], 3001, 3010);
    assert_eq!(nb.received(), vec![(ll_a, b"hello".to_vec())]);
    assert_eq!(na.adapter.stack().queued_packets(), 0);
    // Answered from B's socket: resolved now, sent at once.
    nb.udp().send_slice(b"back", (ll_a, PORT)).unwrap();
    run(&mut [&mut na, &mut nb], 3010, 3020);
    assert_eq!(na.received(), vec![(ll_b, b"back".to_vec())]);
    assert_eq!(nb.adapter.stats().tx_ip, 1);
    assert_eq!(nb.adapter.stats().tx_queued, 0);
}

#[test]
fn a_multicast_frame_for_a_group_not_joined_is_dropped() {
    let mut n = Node::new(lone_nic(), config(MAC_A, 3));
    run(&mut [&mut n], 0, 3000);
    let src = a("fe80::1");
    let filtered = n.adapter.stats().rx_filtered;
    let group = a("ff02::99");
    n.inject.borrow_mut().push_back(udp_frame(
        packet::multicast_mac(group).unwrap(),
        src,
        group,
        b"not joined",
    ));
    n.poll(3000);
    assert_eq!(n.adapter.stats().rx_filtered, filtered + 1);
    assert!(n.received().is_empty());
    // The same datagram to ff02::1, which every node listens to, arrives:
    // the drop was the filter, not the datagram.
    let all = a("ff02::1");
    n.inject.borrow_mut().push_back(udp_frame(
        packet::multicast_mac(all).unwrap(),
        src,
        all,
        b"all nodes",
    ));
    n.poll(3001);
    assert_eq!(n.received(), vec![(src, b"all nodes".to_vec())]);
    assert_eq!(n.adapter.stats().rx_filtered, filtered + 1);
    // A unicast frame for another station is filtered too.
    n.inject
        .borrow_mut()
        .push_back(udp_frame(MAC_B, src, n.link_local(), b"other MAC"));
    n.poll(3002);
    assert_eq!(n.adapter.stats().rx_filtered, filtered + 2);
    assert!(n.received().is_empty());
}

#[test]
fn a_packet_from_the_loopback_address_never_reaches_smoltcp() {
    // RFC 4291 §2.5.3: ::1 never comes from a link. Linux sends from it
    // before any of its addresses has passed DAD; answered, the reply
    // would leave the node.
    let mut n = Node::new(lone_nic(), config(MAC_A, 3));
    run(&mut [&mut n], 0, 3000);
    let ll = n.link_local();
    n.inject
        .borrow_mut()
        .push_back(udp_frame(MAC_A, a("::1"), ll, b"from loopback"));
    n.poll(3000);
    assert!(n.received().is_empty());
    assert_eq!(n.adapter.stats().rx_loopback, 1);
    // The same datagram from a real source arrives.
    n.inject
        .borrow_mut()
        .push_back(udp_frame(MAC_A, a("fe80::1"), ll, b"from fe80::1"));
    n.poll(3001);
    assert_eq!(n.received(), vec![(a("fe80::1"), b"from fe80::1".to_vec())]);
}

#[test]
fn smoltcp_never_sees_a_tentative_address() {
    // RFC 4862 §5.4: a tentative address is not assigned; it neither
    // sources nor receives packets other than DAD's.
    let mut c = config(MAC_A, 4);
    c.optimistic_dad = false;
    c.dad_transmits = 3;
    let mut n = Node::new(lone_nic(), c);
    let mut first_in_smoltcp = None;
    let mut echo_sent_while_tentative = false;
    for ms in 0..6000 {
        n.poll(ms);
        let ll = n.link_local();
        let state = n.state(ll);
        let in_smoltcp = n.smoltcp_addrs().contains(&ll);
        assert_eq!(
            in_smoltcp,
            state == Some(AddrState::Preferred),
            "at {ms} ms: {state:?}, in smoltcp: {in_smoltcp}"
        );
        if in_smoltcp && first_in_smoltcp.is_none() {
            first_in_smoltcp = Some(ms);
        }
        if state == Some(AddrState::Tentative) && !echo_sent_while_tentative && ms > 10 {
            // An echo request to the tentative address is not answered.
            let echo = packet::echo_request(a("fe80::1"), ll, 1, 1, b"x");
            n.inject
                .borrow_mut()
                .push_back(frame_to(MAC_A, a("fe80::1"), ll, NH_ICMPV6, &echo));
            echo_sent_while_tentative = true;
        }
    }
    assert!(echo_sent_while_tentative);
    // smoltcp produced no reply (it would wait for fe80::1's resolution
    // in the engine's queue, or be on the wire).
    assert_eq!(n.adapter.stats().tx_queued + n.adapter.stats().tx_ip, 0);
    assert!(
        !n.sent_icmp()
            .iter()
            .any(|(_, ty)| *ty == packet::ECHO_REPLY),
        "echo answered from a tentative address"
    );
    let preferred_at = n
        .events
        .iter()
        .find(|(_, e)| {
            matches!(
                e,
                Event::Address {
                    state: AddrState::Preferred,
                    ..
                }
            )
        })
        .map(|(ms, _)| *ms)
        .expect("the link-local address became preferred");
    assert_eq!(first_in_smoltcp, Some(preferred_at));
    // Once preferred, the same echo is answered.
    let ll = n.link_local();
    let echo = packet::echo_request(a("fe80::1"), ll, 1, 2, b"x");
    n.inject
        .borrow_mut()
        .push_back(frame_to(MAC_A, a("fe80::1"), ll, NH_ICMPV6, &echo));
    n.poll(6000);
    // The reply waits for fe80::1 to be resolved.
    assert_eq!(n.adapter.stats().tx_queued, 1, "{:?}", n.adapter.stats());
    let snm = UnicastAddr::new(a("fe80::1"))
        .unwrap()
        .solicited_node()
        .get();
    assert!(n.sent_icmp().contains(&(snm, 135)));
}

#[test]
fn optimistic_addresses_are_in_smoltcp_at_once_and_leave_on_a_conflict() {
    // RFC 4429 §3.3: usable at once; §3.4 (via RFC 4862 §5.4.3): a
    // probe from another node makes it a duplicate, no longer usable.
    let mut n = Node::new(lone_nic(), config(MAC_A, 5));
    n.poll(0);
    let ll = n.link_local();
    assert_eq!(n.state(ll), Some(AddrState::Optimistic));
    assert_eq!(n.smoltcp_addrs(), vec![ll]);
    let target = UnicastAddr::new(ll).unwrap();
    let probe = Message::NeighborSolicit(NeighborSolicit {
        target: ll,
        options: Options::from_list(&[NdOption::Nonce(&[9, 9, 9, 9, 9, 9])]),
    });
    let snm = target.solicited_node();
    n.inject.borrow_mut().push_back(packet::icmpv6_frame(
        MAC_B,
        snm.mac(),
        Ipv6Addr::UNSPECIFIED,
        snm.get(),
        ND_HOP_LIMIT,
        &probe,
    ));
    n.poll(1);
    assert_ne!(n.state(ll), Some(AddrState::Optimistic));
    assert!(!n.smoltcp_addrs().contains(&ll), "{:?}", n.smoltcp_addrs());
}

#[test]
fn routes_addresses_and_multicast_filter_follow_the_engine() {
    // smoltcp resolves every IPv6 destination through one placeholder
    // default route (the adapter sets each frame's MAC from the engine);
    // the engine's default router follows the RAs.
    let mut n = Node::new(lone_nic(), config(MAC_A, 6));
    run(&mut [&mut n], 0, 3000);
    let ll = n.link_local();
    let smoltcp_route = |n: &Node| {
        n.iface
            .routes()
            .get_default_ipv6_route()
            .map(|r| r.via_router)
    };
    let placeholder = Some(smoltcp::wire::IpAddress::Ipv6(NEXT_HOP_PLACEHOLDER));
    assert_eq!(smoltcp_route(&n), placeholder);
    assert_eq!(n.adapter.stack().default_router(), None);
    n.inject.borrow_mut().push_back(ra_frame(1800));
    n.poll(3000);
    assert_eq!(n.adapter.stack().default_router(), Some(a("fe80::1")));
    assert_eq!(smoltcp_route(&n), placeholder);
    let global = n
        .adapter
        .stack()
        .addresses()
        .find(|x| x.origin != Origin::LinkLocal)
        .map(|x| x.addr.get())
        .expect("SLAAC address from the RA");
    assert_eq!(n.state(global), Some(AddrState::Optimistic));
    // Preferred link-local first, then the optimistic global; as /128:
    // on-link is the engine's call (RFC 5942).
    assert_eq!(n.smoltcp_addrs(), vec![ll, global]);
    assert!(
        n.iface.ip_addrs().iter().all(|c| c.prefix_len() == 128),
        "{:?}",
        n.iface.ip_addrs()
    );
    // The NIC was asked for ff02::1, both solicited-node groups and IPv4
    // all-systems.
    let mac = |x: Ipv6Addr| packet::multicast_mac(x).unwrap();
    let snm = |x: Ipv6Addr| UnicastAddr::new(x).unwrap().solicited_node().get();
    let mut last = n.filter.0.borrow().last().cloned().unwrap();
    last.sort();
    let mut want = vec![
        mac(a("ff02::1")),
        mac(snm(ll)),
        mac(snm(global)),
        MacAddr([0x01, 0, 0x5e, 0, 0, 1]),
    ];
    want.sort();
    want.dedup();
    assert_eq!(last, want);
    let calls = n.filter.0.borrow().len();
    // Nothing changes, nothing is reprogrammed.
    run(&mut [&mut n], 3001, 3100);
    assert_eq!(n.filter.0.borrow().len(), calls);

    // RFC 4861 §6.3.4: router lifetime 0 removes the default router.
    n.inject.borrow_mut().push_back(ra_frame(0));
    n.poll(3100);
    assert_eq!(n.adapter.stack().default_router(), None);
}

/// A NIC with no room to transmit holds the engine's messages back, but
/// not its state: a router whose lifetime ends is removed, and reported,
/// while the NIC stays busy (`Stack::handle_timeout`), so what the
/// application and smoltcp see does not wait for the NIC.
#[test]
fn a_busy_nic_does_not_stop_lifetimes() {
    let nic = lone_nic();
    let busy = nic.busy.clone();
    let mut n = Node::new(nic, config(MAC_A, 6));
    run(&mut [&mut n], 0, 3000);
    n.inject.borrow_mut().push_back(ra_frame(10));
    n.poll(3000);
    assert_eq!(n.adapter.stack().default_router(), Some(a("fe80::1")));
    busy.set(true);
    let sent = n.sent.borrow().len();
    for s in 4..=14 {
        n.poll(s * 1000);
    }
    let gone = n.events.iter().any(
        |(_, e)| matches!(e, Event::Router { addr, lifetime_s: 0, .. } if *addr == a("fe80::1")),
    );
    assert!(
        gone,
        "the router's expiry waited for the NIC: {:?}",
        n.events
    );
    assert_eq!(n.adapter.stack().routers().count(), 0);
    assert_eq!(n.sent.borrow().len(), sent, "nothing sent while busy");
    assert!(n.adapter.stats().tx_device_busy > 0);
}

#[test]
fn fragmented_neighbor_discovery_is_dropped() {
    // RFC 6980 §5: "hosts MUST silently ignore ... Neighbor Discovery
    // messages that use IPv6 fragmentation".
    let mut n = Node::new(lone_nic(), config(MAC_A, 7));
    run(&mut [&mut n], 0, 3000);
    let ll = n.link_local();
    let src = a("fe80::1");
    let ns = Message::NeighborSolicit(NeighborSolicit {
        target: ll,
        options: Options::from_list(&[NdOption::SourceLinkAddr(ROUTER_MAC)]),
    });
    let icmp = packet::icmpv6_bytes(src, ll, &ns);
    // An atomic fragment (offset 0, M=0) in front of the NS.
    let mut frag = vec![NH_ICMPV6, 0, 0, 0, 0, 0, 0, 1];
    frag.extend_from_slice(&icmp);
    let frame = packet::ipv6_frame(ROUTER_MAC, MAC_A, src, ll, 44, ND_HOP_LIMIT, &frag);
    let rx_ns = n.adapter.stack().stats().rx_ns;
    n.inject.borrow_mut().push_back(frame);
    n.poll(3000);
    assert_eq!(n.adapter.stats().rx_fragmented_nd, 1);
    assert_eq!(n.adapter.stack().stats().rx_ns, rx_ns);
    assert!(
        !n.sent_icmp().contains(&(src, 136)),
        "answered a fragmented NS"
    );
    // The same NS unfragmented is answered.
    let frame = packet::ipv6_frame(ROUTER_MAC, MAC_A, src, ll, NH_ICMPV6, ND_HOP_LIMIT, &icmp);
    n.inject.borrow_mut().push_back(frame);
    n.poll(3001);
    assert_eq!(n.adapter.stack().stats().rx_ns, rx_ns + 1);
    assert!(n.sent_icmp().contains(&(src, 136)));
}

#[test]
fn a_failed_resolution_reaches_smoltcp_as_destination_unreachable() {
    // RFC 4861 §7.2.2: after MAX_MULTICAST_SOLICIT unanswered NS, the
    // queued packet is answered with Destination Unreachable (code 3),
    // delivered to the local stack as if received.
    let mut n = Node::new(lone_nic(), config(MAC_A, 8));
    run(&mut [&mut n], 0, 3000);
    n.udp().send_slice(b"lost", (a("fe80::99"), PORT)).unwrap();
    run(&mut [&mut n], 3000, 7000);
    assert_eq!(n.adapter.stats().tx_queued, 1);
    assert_eq!(n.adapter.stats().local_delivered, 1);
    assert!(
        n.events
            .iter()
            .any(|(_, e)| matches!(e, Event::ResolutionFailed { dropped: 1, .. }))
    );
}

/// A multicast filter that notes, with each programming, how many frames
/// the NIC had sent by then.
#[derive(Default, Clone)]
struct OrderRecorder(Rc<RefCell<Vec<Programming>>>);

/// Frames sent before a programming, and the MACs it accepted.
type Programming = (usize, Vec<MacAddr>);

impl MulticastFilter<Nic> for OrderRecorder {
    fn set_multicast_macs(&mut self, nic: &mut Nic, macs: &[MacAddr]) {
        let sent = nic.sent.borrow().len();
        self.0.borrow_mut().push((sent, macs.to_vec()));
    }
}

/// RFC 4862 §5.4.2: the all-nodes group and the tentative address's
/// solicited-node group are joined before the first message leaves. With
/// the NIC's filter still closed, a router that answers the first Router
/// Solicitation at once (QEMU's slirp answers inside the transmit) had its
/// RA dropped by the NIC, and the boot waited for the next solicitation,
/// about 4 s later (found by the firmware's boot-time test, seed 320).
#[test]
fn the_multicast_filter_is_open_before_the_first_frame_leaves() {
    for seed in [1, 320, 7777] {
        let nic = lone_nic();
        let sent = nic.sent.clone();
        let filter = OrderRecorder::default();
        let mut adapter =
            Adapter::with_filter(nic, filter.clone(), config(MAC_A, seed), Instant::ZERO).unwrap();
        let mut iface = adapter.new_interface(Instant::ZERO);
        let mut sockets = SocketSet::new(vec![]);
        for ms in 0..1500 {
            adapter.poll(Instant::from_millis(ms), &mut iface, &mut sockets);
        }
        let frames = sent.borrow().len();
        assert!(
            frames >= 3,
            "seed {seed}: MLD, DAD and RS expected, got {frames}"
        );
        let ll = adapter
            .stack()
            .addresses()
            .find(|x| x.origin == Origin::LinkLocal)
            .map(|x| x.addr)
            .unwrap();
        let all_nodes = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
        let solicited = ll.solicited_node().mac();
        let calls = filter.0.borrow();
        let (first_sent, macs) = calls.first().expect("the filter was programmed");
        assert_eq!(
            *first_sent, 0,
            "seed {seed}: {first_sent} frames left before the filter was set"
        );
        assert!(macs.contains(&all_nodes), "seed {seed}: {macs:?}");
        assert!(macs.contains(&solicited), "seed {seed}: {macs:?}");
    }
}

/// smoltcp empties its neighbor cache whenever its addresses change, and
/// the adapter teaches it the placeholder again at once. "At once" must
/// not be a fixed instant: instants compare modulo 2^32 ms, and past
/// 2^31 ms of uptime (24.8 days) instant zero lies in the future.
#[test]
fn the_placeholder_is_taught_at_once_after_an_address_change_past_24_days() {
    let mut n = Node::new(lone_nic(), config(MAC_A, 8));
    run(&mut [&mut n], 0, 3000);
    // Far on, in steps the wrapping clock follows (each under 2^31 ms).
    n.poll(1_500_000_000);
    n.poll(3_000_000_000);
    let answered = n.adapter.stats().smoltcp_ns_answered;
    // One second later an address appears: smoltcp's addresses change.
    n.adapter
        .add_static_address(
            smoltcp::time::Instant::from_millis(3_000_001_000i64),
            a("2001:db8:9::1"),
            64,
        )
        .unwrap();
    for ms in (3_000_001_000..3_000_004_000).step_by(10) {
        n.poll(ms);
    }
    assert!(n.smoltcp_addrs().contains(&a("2001:db8:9::1")));
    // Taught again at the change, well before the next refresh (10 s).
    assert!(
        n.adapter.stats().smoltcp_ns_answered > answered,
        "{:?}",
        n.adapter.stats()
    );
}

/// RFC 4861 §7.2.8: a gateway proxying a prefix hears solicitations for
/// its targets, which go to solicited-node groups nobody here joined:
/// the adapter's software filter passes that range while the stack
/// proxies (and only then), and the engine answers with our MAC.
#[test]
fn a_proxying_gateway_hears_and_answers_solicitations_for_its_targets() {
    let mut n = Node::new(lone_nic(), config(MAC_A, 3));
    run(&mut [&mut n], 0, 3000);
    let (asker, target) = (a("2001:db8:1::5"), a("2001:db8:2::42"));
    let group = UnicastAddr::new(target).unwrap().solicited_node().get();
    let opts = [NdOption::SourceLinkAddr(ROUTER_MAC)];
    let ns = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: Options::from_list(&opts),
    });
    let frame = packet::icmpv6_frame(
        ROUTER_MAC,
        packet::multicast_mac(group).unwrap(),
        asker,
        group,
        ND_HOP_LIMIT,
        &ns,
    );
    let answers = |n: &Node| {
        n.sent
            .borrow()
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
            .collect::<Vec<_>>()
    };
    // No proxy: the frame stops at the filter.
    let filtered = n.adapter.stats().rx_filtered;
    n.inject.borrow_mut().push_back(frame.clone());
    n.poll(3000);
    assert_eq!(n.adapter.stats().rx_filtered, filtered + 1);
    assert!(answers(&n).is_empty());

    let rule = ndp_core::proxy::ProxyRule::new(a("2001:db8:2::"), 64).unwrap();
    n.adapter
        .stack_mut()
        .configure_proxy(|p| p.add_prefix(rule))
        .unwrap();
    n.inject.borrow_mut().push_back(frame);
    n.poll(3001);
    n.poll(3002);
    assert_eq!(
        n.adapter.stats().rx_filtered,
        filtered + 1,
        "passed the filter"
    );
    assert_eq!(
        answers(&n),
        vec![(ROUTER_MAC, asker, Some(MAC_A), false)],
        "one answer to the asker, with our MAC, Override clear"
    );
}
