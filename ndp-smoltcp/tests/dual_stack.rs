//! The adapter on a real LAN's terms (issue 12): IPv4 beside IPv6 on one
//! Ethernet interface, the ARP guard, application multicast groups,
//! multicast acceptance at the IP level, the RA's hop limit, static
//! addresses, smoltcp's address slots, and failures that are reported
//! rather than silent.
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

use std::net::{Ipv4Addr, Ipv6Addr};

use common::node::*;
use common::{Nic, cable, lone_nic};

use ndp_core::addr::{AddrState, Origin};
use ndp_core::wire::{MacAddr, Message, RecordType, UnicastAddr};
use ndp_smoltcp::{Adapter, DropReason, Error, Event as AdapterEvent, NEXT_HOP_PLACEHOLDER};
use ndp_tests::packet::{self, NH_ICMPV6};
use smoltcp::iface::SocketSet;
use smoltcp::phy::{Device, Medium};
use smoltcp::socket::{dhcpv4, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Cidr};

const V4_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const V4_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn set_ipv4(n: &mut Node, addr: Ipv4Addr) {
    n.iface.update_ip_addrs(|a| {
        a.push(IpCidr::Ipv4(Ipv4Cidr::new(addr, 24))).unwrap();
    });
}

/// An ARP request for `target` from `sender_ip` at `sender_mac`.
fn arp_request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    packet::arp_request(sender_mac, sender_ip, target)
}

/// Frames a node sent, as (destination MAC, EtherType, payload).
fn sent_frames(n: &Node) -> Vec<(MacAddr, u16, Vec<u8>)> {
    n.sent
        .borrow()
        .iter()
        .map(|f| {
            (
                MacAddr(f[0..6].try_into().unwrap()),
                u16::from_be_bytes([f[12], f[13]]),
                f[14..].to_vec(),
            )
        })
        .collect()
}

/// IPv4 UDP frames a node sent: (destination MAC, destination address,
/// destination port).
fn sent_udp4(n: &Node) -> Vec<(MacAddr, Ipv4Addr, u16)> {
    sent_frames(n)
        .into_iter()
        .filter(|(_, et, p)| *et == 0x0800 && p[9] == 17)
        .map(|(mac, _, p)| {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
            (mac, dst, u16::from_be_bytes([p[ihl + 2], p[ihl + 3]]))
        })
        .collect()
}

/// The MLDv2 records a node put on the wire.
fn mld_records(n: &Node) -> Vec<(RecordType, Ipv6Addr)> {
    n.sent
        .borrow()
        .iter()
        .filter_map(|f| packet::parse_icmpv6(f))
        .filter_map(
            |m| match Message::parse_checked(&m.meta.src, &m.meta.dst, m.icmp) {
                Ok(Message::MldV2Report(r)) => Some(
                    r.records
                        .iter()
                        .map(|r| (r.record_type, r.group))
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            },
        )
        .flatten()
        .collect()
}

fn settled_pair() -> (Node, Node) {
    let (nic_a, nic_b) = cable();
    let mut na = Node::new(nic_a, config(MAC_A, 1));
    let mut nb = Node::new(nic_b, config(MAC_B, 2));
    run(&mut [&mut na, &mut nb], 0, 3000);
    (na, nb)
}

// ------------------------------------------------------------ dual stack

#[test]
fn ipv4_and_ipv6_travel_side_by_side() {
    let (mut na, mut nb) = settled_pair();
    set_ipv4(&mut na, V4_A);
    set_ipv4(&mut nb, V4_B);
    let (ll_a, ll_b) = (na.link_local(), nb.link_local());
    na.udp().send_slice(b"over v4", (V4_B, PORT)).unwrap();
    na.udp().send_slice(b"over v6", (ll_b, PORT)).unwrap();
    run(&mut [&mut na, &mut nb], 3000, 3100);
    let mut got = nb.received_any();
    got.sort_by_key(|(_, d)| d.clone());
    assert_eq!(
        got,
        vec![
            (IpAddress::Ipv4(V4_A), b"over v4".to_vec()),
            (IpAddress::Ipv6(ll_a), b"over v6".to_vec()),
        ]
    );
    // ARP went through smoltcp: A asked, B answered and learned A.
    assert!(na.adapter.stats().tx_ipv4 >= 2, "{:?}", na.adapter.stats());
    assert!(na.adapter.stats().rx_arp >= 1);
    assert!(nb.adapter.stats().rx_arp >= 1);
    // And back, over both.
    nb.udp().send_slice(b"back v4", (V4_A, PORT)).unwrap();
    nb.udp().send_slice(b"back v6", (ll_a, PORT)).unwrap();
    run(&mut [&mut na, &mut nb], 3100, 3200);
    assert_eq!(na.received_any().len(), 2);
    // The IPv6 addresses are the engine's; the IPv4 one stays.
    assert!(
        na.iface
            .ip_addrs()
            .contains(&IpCidr::Ipv4(Ipv4Cidr::new(V4_A, 24)))
    );
}

#[test]
fn smoltcps_dhcpv4_client_runs_over_the_adapter() {
    // smoltcp 0.14's DHCPv4 socket panics on a non-Ethernet interface;
    // the adapter presents Ethernet, so it runs and broadcasts DISCOVER.
    let mut n = Node::new(lone_nic(), config(MAC_A, 3));
    let dhcp = n.sockets.add(dhcpv4::Socket::new());
    run(&mut [&mut n], 0, 100);
    let discover = sent_udp4(&n)
        .into_iter()
        .find(|(_, _, port)| *port == 67)
        .expect("a DHCP DISCOVER");
    assert_eq!(discover.0, MacAddr::BROADCAST);
    assert_eq!(discover.1, Ipv4Addr::BROADCAST);
    assert!(!matches!(
        n.sockets.get_mut::<dhcpv4::Socket>(dhcp).poll(),
        Some(dhcpv4::Event::Configured(_))
    ));
}

#[test]
fn an_arp_flood_leaves_the_ipv4_gateway_and_ipv6_usable() {
    let (mut na, mut nb) = settled_pair();
    set_ipv4(&mut na, V4_A);
    set_ipv4(&mut nb, V4_B);
    na.iface.routes_mut().add_default_ipv4_route(V4_B).unwrap();
    let ll_b = nb.link_local();
    let far = Ipv4Addr::new(198, 51, 100, 7);
    let mut rng = 0x1234_5678u32;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng
    };
    let mut sent = 0;
    let mut v6 = 0;
    for ms in 3000..8000u64 {
        // Five ARP requests a millisecond for A's address, each from a
        // new sender on A's subnet.
        for _ in 0..5 {
            let r = next();
            let mac = MacAddr([0x02, 0x66, r as u8, (r >> 8) as u8, (r >> 16) as u8, 1]);
            let ip = Ipv4Addr::new(192, 0, 2, 2 + (r % 250) as u8);
            na.inject.borrow_mut().push_back(arp_request(mac, ip, V4_A));
        }
        if ms % 100 == 0 {
            na.udp().send_slice(b"off-link v4", (far, PORT)).unwrap();
            na.udp().send_slice(b"v6", (ll_b, PORT)).unwrap();
            sent += 1;
        }
        na.poll(ms);
        nb.poll(ms);
        v6 += nb
            .received_any()
            .into_iter()
            .filter(|(src, _)| matches!(src, IpAddress::Ipv6(_)))
            .count();
    }
    run(&mut [&mut na, &mut nb], 8000, 8100);
    // Every off-link IPv4 datagram went to the gateway's MAC.
    let to_gateway = sent_udp4(&na)
        .into_iter()
        .filter(|(mac, dst, _)| *mac == MAC_B && *dst == far)
        .count();
    assert_eq!(to_gateway, sent, "{:?}", na.adapter.stats());
    // Every IPv6 datagram arrived.
    v6 += nb.received_any().len();
    assert_eq!(v6, sent, "{:?}", na.adapter.stats());
    // smoltcp learned from a bounded number of them; the rest were
    // answered by the adapter.
    let s = na.adapter.stats();
    eprintln!(
        "ARP flood: {} ARP messages reached smoltcp (the gateway's reply among them), \
         {} requests answered by the adapter; {to_gateway}/{sent} IPv4 to the gateway, \
         {v6}/{sent} IPv6 delivered",
        s.rx_arp, s.arp_answered
    );
    assert!(s.rx_arp < 20, "{s:?}");
    assert!(s.arp_answered > 10_000, "{s:?}");
}

/// An ICMPv4 echo request from B (MAC_B, V4_B) to A, as a frame.
fn echo4_from_b() -> Vec<u8> {
    let ip = packet::echo4_request(V4_B, V4_A, 7, 1, b"ping");
    packet::ethernet(MAC_A, MAC_B, packet::ETHERTYPE_IPV4, &ip)
}

#[test]
fn the_ipv4_gateway_is_asked_for_before_any_traffic_needs_it() {
    // smoltcp keeps no IPv4 packet while it resolves a next hop: a router
    // that learned our MAC from DHCP (and so never ARPed us) pings, and
    // the first reply would be lost. The adapter asks for the gateway as
    // soon as it is set, and again whenever smoltcp's cache is emptied.
    let (mut na, mut nb) = settled_pair();
    set_ipv4(&mut nb, V4_B);
    set_ipv4(&mut na, V4_A);
    na.iface.routes_mut().add_default_ipv4_route(V4_B).unwrap();
    run(&mut [&mut na, &mut nb], 3000, 3010);
    assert_eq!(na.adapter.stats().arp_gateway_asked, 1);
    // B pings A without having asked for A's MAC: answered at once.
    na.inject.borrow_mut().push_back(echo4_from_b());
    na.poll(3010);
    let replies = sent_frames(&na)
        .into_iter()
        .filter(|(mac, et, p)| *mac == MAC_B && *et == 0x0800 && p[9] == 1 && p[20] == 0)
        .count();
    assert_eq!(replies, 1, "{:?}", na.adapter.stats());
    // An engine address change empties smoltcp's cache: asked again.
    na.inject.borrow_mut().push_back(ra_frame(1800));
    run(&mut [&mut na, &mut nb], 3011, 3100);
    assert!(na.adapter.stats().arp_gateway_asked >= 2);
    na.inject.borrow_mut().push_back(echo4_from_b());
    na.poll(3100);
    let replies = sent_frames(&na)
        .into_iter()
        .filter(|(mac, et, p)| *mac == MAC_B && *et == 0x0800 && p[9] == 1 && p[20] == 0)
        .count();
    assert_eq!(replies, 2, "{:?}", na.adapter.stats());
}

#[test]
fn a_gateway_set_after_the_address_is_asked_for_too() {
    // DHCP, or the application, may add the route in a later step than
    // the address: it is noticed within GATEWAY_CHECK.
    let (mut na, mut nb) = settled_pair();
    set_ipv4(&mut nb, V4_B);
    set_ipv4(&mut na, V4_A);
    run(&mut [&mut na, &mut nb], 3000, 3200);
    assert_eq!(na.adapter.stats().arp_gateway_asked, 0, "no gateway yet");
    na.iface.routes_mut().add_default_ipv4_route(V4_B).unwrap();
    let check = u64::from(ndp_smoltcp::GATEWAY_CHECK.as_millis());
    run(&mut [&mut na, &mut nb], 3200, 3201 + check);
    assert_eq!(na.adapter.stats().arp_gateway_asked, 1);
    na.inject.borrow_mut().push_back(echo4_from_b());
    na.poll(3202 + check);
    let replies = sent_frames(&na)
        .into_iter()
        .filter(|(mac, et, p)| *mac == MAC_B && *et == 0x0800 && p[9] == 1 && p[20] == 0)
        .count();
    assert_eq!(replies, 1, "{:?}", na.adapter.stats());
}

#[test]
fn arp_for_any_of_smoltcps_ipv4_addresses_is_for_us() {
    let mut n = Node::new(lone_nic(), config(MAC_A, 12));
    let third = Ipv4Addr::new(198, 51, 100, 3);
    set_ipv4(&mut n, V4_A);
    set_ipv4(&mut n, Ipv4Addr::new(203, 0, 113, 2));
    set_ipv4(&mut n, third);
    run(&mut [&mut n], 0, 10);
    let stranger = MacAddr([0x02, 0x66, 0, 0, 0, 1]);
    n.inject
        .borrow_mut()
        .push_back(arp_request(stranger, Ipv4Addr::new(198, 51, 100, 9), third));
    n.poll(10);
    let s = n.adapter.stats();
    assert_eq!((s.rx_arp, s.rx_arp_not_for_us), (1, 0), "{s:?}");
}

#[test]
fn unsolicited_and_malformed_arp_never_reaches_smoltcp() {
    let mut n = Node::new(lone_nic(), config(MAC_A, 4));
    set_ipv4(&mut n, V4_A);
    run(&mut [&mut n], 0, 100);
    let stranger = MacAddr([0x02, 0x66, 0, 0, 0, 1]);
    // A reply nobody asked for.
    let mut reply = arp_request(stranger, V4_B, V4_A);
    reply[21] = 2;
    n.inject.borrow_mut().push_back(reply);
    // Truncated, wrong hardware type, for someone else, from broadcast.
    let good = arp_request(stranger, V4_B, V4_A);
    n.inject.borrow_mut().push_back(good[..30].to_vec());
    let mut bad_hw = good.clone();
    bad_hw[15] = 6;
    n.inject.borrow_mut().push_back(bad_hw);
    n.inject
        .borrow_mut()
        .push_back(arp_request(stranger, V4_B, Ipv4Addr::new(192, 0, 2, 77)));
    n.inject
        .borrow_mut()
        .push_back(arp_request(MacAddr::BROADCAST, V4_B, V4_A));
    n.poll(100);
    let s = n.adapter.stats();
    assert_eq!(
        (
            s.rx_arp_unsolicited,
            s.rx_arp_malformed,
            s.rx_arp_not_for_us,
            s.rx_arp_bad_sender,
            s.rx_arp
        ),
        (1, 2, 1, 1, 0),
        "{s:?}"
    );
    // The good request is answered.
    n.inject.borrow_mut().push_back(good);
    n.poll(101);
    let replies = sent_frames(&n)
        .into_iter()
        .filter(|(mac, et, p)| *mac == stranger && *et == 0x0806 && p[7] == 2)
        .count();
    assert_eq!(replies, 1);
}

// ------------------------------------------------------------- multicast

#[test]
fn a_group_joined_on_smoltcp_is_reported_by_the_engine_and_reaches_its_socket() {
    let mdns = a("ff02::fb");
    let mut n = Node::new(lone_nic(), config(MAC_A, 5));
    let buf = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0; 2048]);
    let mut socket = udp::Socket::new(buf(), buf());
    socket.bind(5353).unwrap();
    let mdns_socket = n.sockets.add(socket);
    run(&mut [&mut n], 0, 3000);
    n.iface.join_multicast_group(mdns).unwrap();
    run(&mut [&mut n], 3000, 6000);
    // The engine listens to it and reports it (RFC 3810 §6.1:
    // CHANGE_TO_EXCLUDE({}) on joining); smoltcp's own report, which says
    // CHANGE_TO_INCLUDE for a join, never left.
    assert!(n.adapter.stack().app_groups().any(|g| g.get() == mdns));
    let records = mld_records(&n);
    assert!(
        records.contains(&(RecordType::ChangeToExclude, mdns)),
        "{records:?}"
    );
    assert!(
        !records.contains(&(RecordType::ChangeToInclude, mdns)),
        "{records:?}"
    );
    assert!(n.adapter.stats().smoltcp_mld_dropped > 0);
    // The NIC accepts its MAC.
    let last = n.filter.0.borrow().last().cloned().unwrap();
    assert!(
        last.contains(&MacAddr([0x33, 0x33, 0, 0, 0, 0xfb])),
        "{last:?}"
    );
    // A datagram to the group reaches the socket.
    let src = a("fe80::99");
    let d = packet::udp(src, mdns, 5353, 5353, b"query");
    n.inject.borrow_mut().push_back(packet::ipv6_frame(
        ROUTER_MAC,
        MacAddr([0x33, 0x33, 0, 0, 0, 0xfb]),
        src,
        mdns,
        17,
        255,
        &d,
    ));
    n.poll(6000);
    let (data, meta) = n
        .sockets
        .get_mut::<udp::Socket>(mdns_socket)
        .recv()
        .map(|(d, m)| (d.to_vec(), m))
        .expect("the mDNS datagram");
    assert_eq!(data, b"query");
    assert_eq!(meta.endpoint.addr, IpAddress::Ipv6(src));
    // Leaving is reported by the engine too.
    n.iface.leave_multicast_group(mdns).unwrap();
    run(&mut [&mut n], 6001, 9000);
    assert!(!n.adapter.stack().app_groups().any(|g| g.get() == mdns));
    assert!(mld_records(&n).contains(&(RecordType::ChangeToInclude, mdns)));
}

#[test]
fn the_applications_groups_have_smoltcps_whole_group_table() {
    // smoltcp joins the solicited-node group of every address it holds,
    // in the table (4 groups by default) the application's groups share.
    // The engine listens to those itself, so smoltcp leaves them, and the
    // application can still join four groups with three addresses set.
    let mut n = Node::new(lone_nic(), config(MAC_A, 11));
    run(&mut [&mut n], 0, 3000);
    n.inject.borrow_mut().push_back(ra_frame(1800));
    n.adapter
        .add_static_address(Instant::from_millis(3000), a("fd00::10"), 64)
        .unwrap();
    run(&mut [&mut n], 3000, 6000);
    assert_eq!(n.smoltcp_addrs().len(), 3, "{:?}", n.smoltcp_addrs());
    let groups = ["ff02::fb", "ff02::1:3", "ff05::fb", "ff02::1234"];
    for g in groups {
        n.iface.join_multicast_group(a(g)).unwrap();
        run(&mut [&mut n], 6000, 6002);
    }
    run(&mut [&mut n], 6002, 6100);
    let mut joined: Vec<_> = n.adapter.stack().app_groups().map(|g| g.get()).collect();
    joined.sort();
    let mut want: Vec<_> = groups.iter().map(|g| a(g)).collect();
    want.sort();
    assert_eq!(joined, want);
}

#[test]
fn packets_to_groups_the_host_has_not_joined_are_dropped_before_smoltcp() {
    // RFC 4291 §2.7: a host accepts only the groups it listens to.
    // ff05::1:ffXX:XXXX and ff02::1:ffXX:XXXX share a MAC, as do ff05::1
    // and ff02::1; smoltcp would compare only the low bits.
    let mut n = Node::new(lone_nic(), config(MAC_A, 6));
    run(&mut [&mut n], 0, 3000);
    let ll = n.link_local();
    let snm = UnicastAddr::new(ll).unwrap().solicited_node();
    let mut o = snm.get().octets();
    o[1] = 0x05;
    let site_snm = Ipv6Addr::from(o);
    let src = a("fe80::1");
    for (group, mac) in [
        (site_snm, snm.mac()),
        (a("ff05::1"), MacAddr([0x33, 0x33, 0, 0, 0, 1])),
    ] {
        let echo = packet::echo_request(src, group, 1, 1, b"x");
        n.inject.borrow_mut().push_back(packet::ipv6_frame(
            ROUTER_MAC, mac, src, group, NH_ICMPV6, 64, &echo,
        ));
    }
    let before = n.adapter.stats().clone();
    run(&mut [&mut n], 3000, 3100);
    let s = n.adapter.stats();
    assert_eq!(s.rx_unjoined_group, before.rx_unjoined_group + 2);
    assert_eq!(s.rx_ip, before.rx_ip);
    assert_eq!(
        s.tx_queued + s.tx_ip,
        before.tx_queued + before.tx_ip,
        "answered"
    );
    // ff02::1 itself is joined: its echo reaches smoltcp, which answers.
    let all = a("ff02::1");
    let echo = packet::echo_request(src, all, 1, 2, b"x");
    n.inject.borrow_mut().push_back(packet::ipv6_frame(
        ROUTER_MAC,
        MacAddr([0x33, 0x33, 0, 0, 0, 1]),
        src,
        all,
        NH_ICMPV6,
        64,
        &echo,
    ));
    n.poll(3100);
    assert_eq!(n.adapter.stats().rx_ip, before.rx_ip + 1);
    assert_eq!(n.adapter.stats().tx_queued, before.tx_queued + 1);
}

// ------------------------------------------------------------- hop limit

/// Hop limits of the IPv6 packets a node sent with this next header and
/// first payload byte (ICMPv6 type), or any first byte for `None`.
fn hop_limits(n: &Node, next_header: u8, first: Option<u8>) -> Vec<u8> {
    sent_frames(n)
        .into_iter()
        .filter(|(_, et, p)| *et == 0x86dd && p[6] == next_header)
        .filter(|(_, _, p)| first.is_none_or(|f| p[40] == f))
        .map(|(_, _, p)| p[7])
        .collect()
}

#[test]
fn the_ras_hop_limit_applies_to_what_smoltcp_originates() {
    // RFC 4861 §6.3.4: Cur Hop Limit, when not 0, becomes the default
    // for outgoing packets.
    let mut n = Node::new(lone_nic(), config(MAC_A, 7));
    run(&mut [&mut n], 0, 3000);
    let router = a("fe80::1");
    // Queued while the router is resolved, with smoltcp's 64.
    n.udp().send_slice(b"before", (router, PORT)).unwrap();
    n.poll(3000);
    assert_eq!(n.adapter.stats().tx_queued, 1);
    n.inject.borrow_mut().push_back(ra_frame_with(1800, 100));
    run(&mut [&mut n], 3001, 3010);
    assert_eq!(n.adapter.stack().hop_limit(), 100);
    n.udp().send_slice(b"after", (router, PORT)).unwrap();
    let echo = packet::echo_request(router, n.link_local(), 9, 9, b"ping");
    let ll = n.link_local();
    n.inject.borrow_mut().push_back(packet::ipv6_frame(
        ROUTER_MAC, MAC_A, router, ll, NH_ICMPV6, 64, &echo,
    ));
    run(&mut [&mut n], 3010, 3020);
    // A socket's explicit hop limit is its own.
    n.udp().set_hop_limit(Some(7));
    n.udp().send_slice(b"explicit", (router, PORT)).unwrap();
    run(&mut [&mut n], 3020, 3030);
    let udp = hop_limits(&n, 17, None);
    // "before" was queued before the RA and leaves with it (its SLLA
    // resolves the router), as written then.
    assert_eq!(udp, vec![64, 100, 7], "{:?}", n.adapter.stats());
    assert_eq!(
        hop_limits(&n, NH_ICMPV6, Some(packet::ECHO_REPLY)),
        vec![100]
    );
    // Neighbor Discovery keeps 255 (RFC 4861 §7.1).
    assert!(
        hop_limits(&n, NH_ICMPV6, Some(135))
            .iter()
            .all(|h| *h == 255)
    );
}

// ------------------------------------------------------------- addresses

#[test]
fn a_static_address_passes_dad_and_application_addresses_stay() {
    let mut c = config(MAC_A, 8);
    c.optimistic_dad = false;
    let mut n = Node::new(lone_nic(), c);
    run(&mut [&mut n], 0, 3000);
    // One the application set on smoltcp directly: kept through every
    // sync (an RA, a SLAAC address, DAD).
    let own = a("fd00::20");
    n.iface.update_ip_addrs(|x| {
        x.push(IpCidr::new(IpAddress::Ipv6(own), 64)).unwrap();
    });
    let fixed = a("fd00::10");
    n.adapter
        .add_static_address(Instant::from_millis(3000), fixed, 64)
        .unwrap();
    n.poll(3000);
    let state = |n: &Node| n.state(fixed);
    assert_eq!(state(&n), Some(AddrState::Tentative));
    assert!(!n.smoltcp_addrs().contains(&fixed), "tentative in smoltcp");
    n.inject.borrow_mut().push_back(ra_frame(1800));
    run(&mut [&mut n], 3001, 6000);
    assert_eq!(state(&n), Some(AddrState::Preferred));
    let probes: Vec<_> = n
        .sent
        .borrow()
        .iter()
        .filter_map(|f| packet::parse_icmpv6(f))
        .filter(|m| {
            m.meta.src.is_unspecified() && m.icmp[0] == 135 && m.icmp[8..24] == fixed.octets()
        })
        .map(|m| m.meta.dst)
        .collect();
    assert_eq!(probes.len(), 1, "one DAD probe (RFC 4862 §5.4)");
    let addrs = n.smoltcp_addrs();
    assert!(addrs.contains(&fixed), "{addrs:?}");
    assert!(addrs.contains(&own), "{addrs:?}");
    assert_eq!(
        n.adapter
            .stack()
            .addresses()
            .filter(|x| x.origin == Origin::Slaac)
            .count(),
        1
    );
    assert!(
        n.adapter
            .remove_static_address(Instant::from_millis(6000), fixed)
    );
    n.poll(6000);
    assert!(!n.smoltcp_addrs().contains(&fixed));
    assert!(n.smoltcp_addrs().contains(&own));
}

#[test]
fn the_preferred_global_address_gets_smoltcps_last_slot() {
    // The test build has iface-max-addr-count-5: the application holds
    // four, one is left. The engine's preferred global address takes it
    // (it reaches beyond the link); the link-local one is left out, and
    // that is counted and reported.
    let mut n = Node::new(lone_nic(), config(MAC_A, 9));
    n.iface.update_ip_addrs(|x| {
        x.push(IpCidr::Ipv4(Ipv4Cidr::new(V4_A, 24))).unwrap();
        for i in 1..=3u16 {
            let addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100 + i);
            x.push(IpCidr::new(IpAddress::Ipv6(addr), 64)).unwrap();
        }
    });
    run(&mut [&mut n], 0, 3000);
    n.inject.borrow_mut().push_back(ra_frame(1800));
    run(&mut [&mut n], 3000, 8000);
    let global = n
        .adapter
        .stack()
        .addresses()
        .find(|x| x.origin == Origin::Slaac)
        .unwrap();
    assert_eq!(global.state, AddrState::Preferred);
    let addrs = n.smoltcp_addrs();
    assert!(addrs.contains(&global.addr.get()), "{addrs:?}");
    assert!(!addrs.contains(&n.link_local()), "{addrs:?}");
    assert_eq!(n.iface.ip_addrs().len(), 5);
    assert!(n.adapter.stats().addr_no_room > 0);
    assert!(
        n.adapter_events().contains(&AdapterEvent::AddressNoRoom {
            addr: n.link_local()
        }),
        "{:?}",
        n.adapter_events()
    );
}

// --------------------------------------------------- what smoltcp sends

#[test]
fn smoltcps_own_solicitations_never_reach_the_wire() {
    let (mut na, mut nb) = settled_pair();
    let ll_b = nb.link_local();
    na.udp().send_slice(b"x", (ll_b, PORT)).unwrap();
    run(&mut [&mut na, &mut nb], 3000, 3100);
    assert_eq!(nb.received().len(), 1);
    assert!(na.adapter.stats().smoltcp_ns_answered >= 1);
    let to_placeholder = na
        .sent
        .borrow()
        .iter()
        .filter_map(|f| packet::parse_icmpv6(f))
        .filter(|m| m.icmp[0] == 135 && m.icmp[8..24] == NEXT_HOP_PLACEHOLDER.octets())
        .count();
    assert_eq!(to_placeholder, 0);
}

#[test]
fn packets_smoltcp_sends_that_are_dropped_are_reported() {
    // send_slice returns Ok; the drop happens below smoltcp, so it is
    // reported as an event (summed per reason), not only counted.
    let mut n = Node::new(lone_nic(), config(MAC_A, 10));
    run(&mut [&mut n], 0, 3000);
    for _ in 0..3 {
        n.udp()
            .send_slice(b"nowhere", (a("2001:db8::1"), PORT))
            .unwrap();
    }
    run(&mut [&mut n], 3000, 3010);
    assert_eq!(n.adapter.stats().tx_no_route, 3);
    assert_eq!(
        n.adapter_events(),
        vec![AdapterEvent::Dropped {
            reason: DropReason::NoRoute,
            count: 3
        }]
    );
}

// ---------------------------------------------------------------- misuse

/// A NIC that reports a given medium and MTU.
struct Caps(Nic, Medium, usize);

impl Device for Caps {
    type RxToken<'a> = <Nic as Device>::RxToken<'a>;
    type TxToken<'a> = <Nic as Device>::TxToken<'a>;
    fn receive(&mut self, t: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.0.receive(t)
    }
    fn transmit(&mut self, t: Instant) -> Option<Self::TxToken<'_>> {
        self.0.transmit(t)
    }
    fn capabilities(&self) -> smoltcp::phy::DeviceCapabilities {
        let mut c = smoltcp::phy::DeviceCapabilities::default();
        c.medium = self.1;
        c.max_transmission_unit = self.2;
        c
    }
}

#[test]
fn a_nic_that_cannot_carry_ipv6_is_refused() {
    let make = |medium, mtu| {
        Adapter::new(
            Caps(lone_nic(), medium, mtu),
            config(MAC_A, 1),
            Instant::ZERO,
        )
        .err()
    };
    // A driver that never set max_transmission_unit.
    assert_eq!(
        make(Medium::Ethernet, 0),
        Some(Error::MtuTooSmall { mtu: 0 })
    );
    assert_eq!(
        make(Medium::Ethernet, 1293),
        Some(Error::MtuTooSmall { mtu: 1293 })
    );
    assert_eq!(make(Medium::Ethernet, 1294), None);
    assert_eq!(make(Medium::Ip, 1514), Some(Error::NotEthernet));
    let group = Adapter::new(
        lone_nic(),
        config(MacAddr([0x33, 0x33, 0, 0, 0, 1]), 1),
        Instant::ZERO,
    );
    assert_eq!(group.err(), Some(Error::NotUnicastMac));
    assert!(Error::MtuTooSmall { mtu: 0 }.to_string().contains("1294"));
    let _: SocketSet<'_> = SocketSet::new(vec![]);
}
