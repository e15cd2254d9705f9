//! The Stack facade driven with real packets: address resolution, its
//! failure, answers to solicitations, queue limits, RFC 6583 limits,
//! and the poll_at contract.
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

use common::*;
use ndp_core::addr::AddrState;
use ndp_core::neighbor::{MAX_MULTICAST_SOLICIT, NeighborState};
use ndp_core::time::Instant;
use ndp_core::wire::{MacAddr, Message, UnreachableCode};
use ndp_core::{Delivery, Dispatch, Event, RouteError, SendError, Stack, TransmitKind};

#[test]
fn starts_with_its_eui64_link_local_address() {
    let mut s = stack();
    let addrs: Vec<_> = s.addresses().map(|a| a.addr.get()).collect();
    assert_eq!(addrs, [our_ll()]);
    // Its solicited-node group is reported (MLD) at once and once more
    // within a second; then nothing is scheduled on an idle link.
    let first = drain_all(&mut s, t(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1.dst, a("ff02::16"));
    let again = s.poll_at().unwrap();
    assert!(again <= t(1000));
    assert_eq!(drain_all(&mut s, again).len(), 1);
    assert_eq!(s.poll_at(), None, "nothing is scheduled on an idle link");
}

/// With the `optimistic-dad` feature a new address is usable while its
/// DAD runs (RFC 4429 §3.3); without it, it is tentative and unusable
/// until DAD passes (RFC 4862 §5.4), and the first probe waits for the
/// random delay of RFC 4862 §5.4.2.
#[test]
fn the_link_local_address_is_optimistic_only_with_the_feature() {
    let mut c = config();
    c.dad_transmits = 1;
    let s = Stack::new(c, Instant::ZERO);
    let ll = s.addresses().next().unwrap();
    if cfg!(feature = "optimistic-dad") {
        assert_eq!(ll.state, AddrState::Optimistic);
        assert!(ll.usable_as_source());
    } else {
        assert_eq!(ll.state, AddrState::Tentative);
        assert!(!ll.usable_as_source());
    }
}

#[test]
fn resolves_a_neighbor_and_releases_queued_packets_in_order() {
    let mut s = stack();
    let p1 = packet(our_ll(), peer(), 10, 1);
    let p2 = packet(our_ll(), peer(), 20, 2);
    assert_eq!(s.send(t(0), &p1), Ok(Dispatch::Queued));
    assert_eq!(s.send(t(1), &p2), Ok(Dispatch::Queued));
    // One multicast NS (RFC 4861 §7.2.2) from the prompting packet's
    // source, to the solicited-node group, hop limit 255, with our SLLA.
    let out = drain(&mut s, t(1));
    assert_eq!(out.len(), 1);
    let (tx, h, bytes) = &out[0];
    assert_eq!(
        tx.delivery,
        Delivery::Link(MacAddr([0x33, 0x33, 0xff, 0, 0, 0x20]))
    );
    assert_eq!(
        (h.src, h.dst, h.hop_limit),
        (our_ll(), a("ff02::1:ff00:20"), 255)
    );
    let Message::NeighborSolicit(ns) = icmp(bytes) else {
        panic!()
    };
    assert_eq!(ns.target, peer());
    assert_eq!(ns.options.source_link_addr(), Some(OUR_MAC));
    // Answer: solicited NA with TLLA -> REACHABLE, packets go out in order.
    rx_na(&mut s, t(5), peer(), true, true, false, Some(PEER_MAC));
    let out = drain(&mut s, t(5));
    assert_eq!(out.len(), 2);
    for ((tx, _, bytes), p) in out.iter().zip([&p1, &p2]) {
        assert_eq!(
            (tx.kind, tx.delivery),
            (TransmitKind::Released, Delivery::Link(PEER_MAC))
        );
        assert_eq!(bytes, p);
    }
    let n = s.neighbors().next().unwrap();
    assert_eq!((n.state, n.mac), (NeighborState::Reachable, Some(PEER_MAC)));
    // Further packets go straight out.
    assert_eq!(s.send(t(6), &p1), Ok(Dispatch::Transmit(PEER_MAC)));
    assert_eq!(s.stats().tx_released, 2);
}

/// `handle_timeout` runs the timers that change state and leaves those
/// that send to `poll_transmit`: a due retransmission is not consumed,
/// and giving up on a neighbor (RFC 4861 §7.2.2) happens, with its event,
/// while the Destination Unreachable waits for a buffer.
#[test]
fn handle_timeout_changes_state_and_leaves_the_sending_to_poll_transmit() {
    let mut s = stack();
    let p = packet(our_ll(), peer(), 8, 1);
    s.send(t(0), &p).unwrap();
    assert_eq!(drain(&mut s, t(0)).len(), 1, "the first solicitation");
    // The MLD reports of the link-local address's group go before 1 s.
    assert_eq!(drain(&mut s, t(999)).len(), 0);
    assert_eq!(s.poll_at(), Some(t(1000)));
    // The second solicitation is due at 1 s: handle_timeout leaves it, and
    // poll_at keeps saying it is due.
    s.handle_timeout(t(1000));
    assert_eq!(s.poll_at(), Some(t(1000)));
    assert_eq!(s.stats().tx_ns_multicast, 1);
    let out = drain(&mut s, t(1000));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.kind, TransmitKind::Ndp);
    assert_eq!(drain(&mut s, t(2000)).len(), 1, "the third solicitation");
    // At 3 s the neighbor is given up: the event comes from handle_timeout
    // alone, and the packet's error is written by the next poll_transmit.
    while s.poll_event().is_some() {}
    s.handle_timeout(t(3000));
    assert_eq!(
        s.poll_event(),
        Some(Event::ResolutionFailed {
            neighbor: peer(),
            dropped: 1,
        })
    );
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.neighbors().count(), 0);
    assert_eq!(s.queued_packets(), 1);
    let out = drain(&mut s, t(3000));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].0.kind, out[0].0.delivery),
        (TransmitKind::Unreachable, Delivery::Local)
    );
    assert_eq!(s.stats().tx_ns_multicast, 3);
}

/// A router's lifetime ends through `handle_timeout` alone (RFC 4861
/// §6.3.5), with its event and nothing written.
#[test]
fn handle_timeout_expires_a_router_without_a_buffer() {
    let mut s = stack();
    let router = a("fe80::1");
    rx_ra_lifetime(&mut s, t(0), router, Some(PEER_MAC), 2);
    drain(&mut s, t(0));
    while s.poll_event().is_some() {}
    assert_eq!(s.routers().count(), 1);
    s.handle_timeout(t(1_999));
    assert_eq!(s.routers().count(), 1);
    s.handle_timeout(t(2_000));
    assert_eq!(s.routers().count(), 0);
    assert!(
        std::iter::from_fn(|| s.poll_event())
            .any(|e| matches!(e, Event::Router { addr, lifetime_s: 0, .. } if addr == router))
    );
}

#[test]
fn failed_resolution_answers_each_queued_packet_with_address_unreachable() {
    let mut s = stack();
    let p1 = packet(our_ll(), peer(), 8, 1);
    let p2 = packet(our_ll(), peer(), 9, 2);
    s.send(t(0), &p1).unwrap();
    s.send(t(0), &p2).unwrap();
    // MAX_MULTICAST_SOLICIT solicitations, RetransTimer (1 s) apart.
    let mut ns_times = Vec::new();
    let mut errors = Vec::new();
    let mut now = t(0);
    loop {
        for (tx, _, b) in drain(&mut s, now) {
            match tx.kind {
                TransmitKind::Ndp => ns_times.push(now.as_millis()),
                _ => errors.push((tx, b)),
            }
        }
        match s.poll_at() {
            Some(at) => now = at,
            None => break,
        }
    }
    assert_eq!(ns_times, [0, 1000, 2000]);
    assert_eq!(ns_times.len(), MAX_MULTICAST_SOLICIT as usize);
    // RFC 4861 §7.2.2: one Destination Unreachable, code 3, per packet,
    // handed to the local stack, quoting the packet.
    assert_eq!(now, t(3000));
    assert_eq!(errors.len(), 2);
    for ((tx, bytes), p) in errors.iter().zip([&p1, &p2]) {
        assert_eq!(
            (tx.kind, tx.delivery),
            (TransmitKind::Unreachable, Delivery::Local)
        );
        let Message::DestUnreachable(d) = icmp(bytes) else {
            panic!()
        };
        assert_eq!(d.code, UnreachableCode::AddressUnreachable);
        assert_eq!(d.invoking, &p[..]);
    }
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        events.contains(&Event::ResolutionFailed {
            neighbor: peer(),
            dropped: 2
        }),
        "{events:?}"
    );
    assert_eq!(s.neighbors().count(), 0);
    assert_eq!(
        (s.stats().queue_unresolved, s.stats().tx_unreachable),
        (2, 2)
    );
    assert_eq!(s.queued_packets(), 0);
}

#[test]
fn answers_solicitations_for_its_address_and_learns_the_sender() {
    let mut s = stack();
    rx_ns(&mut s, t(0), peer(), Some(PEER_MAC));
    let out = drain(&mut s, t(0));
    assert_eq!(out.len(), 1);
    let (tx, h, bytes) = &out[0];
    // RFC 4861 §7.2.4: to the solicitation's source, S=1, O=1, TLLA.
    assert_eq!(tx.delivery, Delivery::Link(PEER_MAC));
    assert_eq!((h.src, h.dst, h.hop_limit), (our_ll(), peer(), 255));
    let Message::NeighborAdvert(na) = icmp(bytes) else {
        panic!()
    };
    assert!(na.solicited_flag && na.override_flag && !na.router_flag);
    assert_eq!(
        (na.target, na.options.target_link_addr()),
        (our_ll(), Some(OUR_MAC))
    );
    // RFC 4861 §7.2.3: the sender is now STALE with its address, and the
    // answer did not start NUD for it.
    let n = s.neighbors().next().unwrap();
    assert_eq!(
        (n.addr, n.state, n.mac, n.is_router),
        (peer(), NeighborState::Stale, Some(PEER_MAC), false)
    );
}

#[test]
fn defends_its_address_against_a_dad_probe() {
    let mut s = stack();
    let m = Message::NeighborSolicit(ndp_core::wire::NeighborSolicit {
        target: our_ll(),
        options: ndp_core::wire::Options::EMPTY,
    });
    assert!(rx(&mut s, t(0), &m, a("::"), a("ff02::1:ff00:5310")));
    let out = drain(&mut s, t(0));
    let (tx, h, bytes) = &out[0];
    // RFC 4861 §7.2.4: to all-nodes, S=0.
    assert_eq!(
        tx.delivery,
        Delivery::Link(MacAddr([0x33, 0x33, 0, 0, 0, 1]))
    );
    assert_eq!(h.dst, a("ff02::1"));
    let Message::NeighborAdvert(na) = icmp(bytes) else {
        panic!()
    };
    assert!(!na.solicited_flag && na.override_flag);
    assert_eq!(s.neighbors().count(), 0, "a DAD probe creates no entry");
}

#[test]
fn solicitation_for_another_target_is_ignored() {
    let mut s = stack();
    let m = Message::NeighborSolicit(ndp_core::wire::NeighborSolicit {
        target: a("fe80::99"),
        options: ndp_core::wire::Options::EMPTY,
    });
    // Sent to our solicited-node group by accident of the low 24 bits? No:
    // to all-nodes, which we accept; the target is not ours.
    assert!(rx(&mut s, t(0), &m, peer(), a("ff02::1")));
    assert!(drain(&mut s, t(0)).is_empty());
    assert_eq!(s.stats().rx_ns_not_for_us, 1);
    // And to a group we did not join.
    assert!(rx(&mut s, t(0), &m, peer(), a("ff02::1:ff00:99")));
    assert_eq!(s.stats().rx_not_for_us, 1);
}

#[test]
fn unsolicited_advertisements_never_create_entries() {
    // RFC 4861 §7.2.5.
    let mut s = stack();
    rx_na(&mut s, t(0), peer(), false, true, false, Some(PEER_MAC));
    assert_eq!(s.neighbors().count(), 0);
    assert_eq!(s.stats().rx_na_no_entry, 1);
}

#[test]
fn router_advertisement_creates_a_stale_router_entry() {
    // RFC 4861 §6.3.4. Router lifetime 0: a default router would also be
    // probed at once (router.rs, a_new_default_router_is_probed_at_once).
    let mut s = stack();
    let r = a("fe80::1");
    rx_ra_lifetime(&mut s, t(0), r, Some(OTHER_MAC), 0);
    let n = s.neighbors().next().unwrap();
    assert_eq!(
        (n.addr, n.state, n.mac, n.is_router),
        (r, NeighborState::Stale, Some(OTHER_MAC), true)
    );
    // Without SLLA an existing entry becomes a router.
    rx_ns(&mut s, t(1), peer(), Some(PEER_MAC));
    rx_ra(&mut s, t(2), peer(), None);
    assert!(s.neighbors().find(|n| n.addr == peer()).unwrap().is_router);
}

#[test]
fn a_group_mac_in_a_link_layer_address_option_is_refused() {
    // RFC 2464 §7: only multicast IPv6 maps to group MACs; a neighbor or
    // router "at" one would have its unicasts flooded to every port.
    let group = MacAddr([0x03, 0, 0x5e, 0, 0x53, 0x01]);
    let mut s = stack();
    rx_ns(&mut s, t(0), peer(), Some(group));
    rx_ra(&mut s, t(0), a("fe80::1"), Some(group));
    assert_eq!(s.neighbors().count(), 0);
    assert_eq!(s.routers().count(), 0);
    assert_eq!(s.stats().rx_lladdr_not_unicast, 2);
    assert!(
        drain(&mut s, t(0))
            .iter()
            .all(|(tx, _, _)| match tx.delivery {
                Delivery::Link(mac) => mac != group,
                Delivery::Local => true,
            })
    );
    // An NA pointing a known neighbor at a group MAC changes nothing.
    rx_ns(&mut s, t(1), peer(), Some(PEER_MAC));
    rx_na(&mut s, t(2), peer(), false, true, false, Some(group));
    let n = s.neighbors().find(|n| n.addr == peer()).unwrap();
    assert_eq!(n.mac, Some(PEER_MAC));
    assert_eq!(s.stats().rx_lladdr_not_unicast, 3);
}

#[test]
fn host_discards_router_solicitations() {
    // RFC 4861 §6.1.1.
    let mut s = stack();
    let m = Message::RouterSolicit(ndp_core::wire::RouterSolicit {
        options: ndp_core::wire::Options::EMPTY,
    });
    assert!(rx(&mut s, t(0), &m, peer(), a("ff02::1")));
    assert_eq!(s.stats().rx_rs_ignored, 1);
    assert!(drain(&mut s, t(0)).is_empty());
}

#[test]
fn per_neighbor_queue_keeps_the_newest_two() {
    // RFC 4861 §7.2.2: the new arrival replaces the oldest.
    let mut s = stack();
    let ps: Vec<_> = (0..3).map(|i| packet(our_ll(), peer(), 10, i)).collect();
    for p in &ps {
        assert_eq!(s.send(t(0), p), Ok(Dispatch::Queued));
    }
    assert_eq!(s.stats().queue_overflow, 1);
    drain(&mut s, t(0));
    rx_na(&mut s, t(1), peer(), true, false, false, Some(PEER_MAC));
    let out: Vec<_> = drain(&mut s, t(1)).into_iter().map(|(_, _, b)| b).collect();
    assert_eq!(out, [ps[1].clone(), ps[2].clone()]);
}

#[test]
fn queue_byte_budget_is_a_hard_limit() {
    let mut c = config();
    c.queue_per_neighbor = 4;
    let mut s: Stack<8, 4, 256> = Stack::with_capacity(c, Instant::ZERO);
    assert_eq!(
        s.send(t(0), &packet(our_ll(), peer(), 300, 0)),
        Err(SendError::TooBig)
    );
    assert_eq!(
        s.send(t(0), &packet(our_ll(), peer(), 100, 0)),
        Ok(Dispatch::Queued)
    );
    assert_eq!(
        s.send(t(0), &packet(our_ll(), peer(), 60, 0)),
        Ok(Dispatch::Queued)
    );
    assert_eq!(
        s.send(t(0), &packet(our_ll(), peer(), 60, 0)),
        Err(SendError::QueueFull)
    );
    assert_eq!(s.stats().queue_no_space, 2);
    assert_eq!(s.queued_packets(), 2);
}

#[test]
fn incomplete_entries_are_capped() {
    // RFC 6583 §6: at most half the table (4 of 8) unresolved at once.
    let mut s = stack();
    for i in 1..=4u16 {
        let dst = core::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i);
        assert_eq!(
            s.send(t(0), &packet(our_ll(), dst, 1, 0)),
            Ok(Dispatch::Queued)
        );
    }
    let fifth = packet(our_ll(), a("fe80::5"), 1, 0);
    assert_eq!(
        s.send(t(0), &fifth),
        Err(SendError::Route(RouteError::TooManyUnresolved))
    );
    assert_eq!(s.stats().resolution_refused, 1);
    assert_eq!(s.neighbors().count(), 4);
}

#[test]
fn multicast_solicitations_share_a_global_budget() {
    let mut c = config();
    c.max_incomplete = Some(32);
    c.ns_burst = 4;
    c.ns_refill = ndp_core::time::Duration::from_millis(250);
    let mut s: Stack<32, 4, 3072> = Stack::with_capacity(c, Instant::ZERO);
    for i in 1..=12u16 {
        let dst = core::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i);
        assert_eq!(
            s.route(t(0), dst),
            Ok(ndp_core::NextHop::Resolving { neighbor: dst })
        );
    }
    // Follow poll_at for 2 s and record when multicast NS go out.
    let mut sent = Vec::new();
    let mut now = t(0);
    while now < t(2000) {
        for (_, h, _) in drain(&mut s, now) {
            assert!(h.dst.is_multicast());
            sent.push(now.as_millis());
        }
        now = s.poll_at().unwrap();
    }
    // A burst of 4, then one per 250 ms, never faster.
    assert_eq!(&sent[..4], &[0, 0, 0, 0]);
    for w in sent[4..].windows(2) {
        assert!(w[1] - w[0] >= 250, "{sent:?}");
    }
    let in_first_2s = sent.iter().filter(|&&t| t < 2000).count();
    assert!(in_first_2s <= 4 + 2000 / 250, "{sent:?}");
    assert!(s.stats().ns_rate_limited > 0);
}

#[test]
fn sends_to_multicast_and_refuses_off_link_destinations() {
    let mut s = stack();
    assert_eq!(
        s.send(t(0), &packet(our_ll(), a("ff02::1"), 4, 0)),
        Ok(Dispatch::Transmit(MacAddr([0x33, 0x33, 0, 0, 0, 1])))
    );
    assert_eq!(
        s.send(t(0), &packet(our_ll(), a("2001:db8::1"), 4, 0)),
        Err(SendError::Route(RouteError::NoRoute))
    );
    assert_eq!(s.send(t(0), &[0u8; 10]), Err(SendError::Malformed));
    assert_eq!((s.stats().send_no_route, s.stats().send_malformed), (1, 1));
}

#[test]
fn confirmation_and_nud_probes() {
    let mut s = stack();
    // Make the peer REACHABLE.
    s.route(t(0), peer()).unwrap();
    drain(&mut s, t(0));
    rx_na(&mut s, t(10), peer(), true, true, false, Some(PEER_MAC));
    let rt = s.reachable_time();
    // RFC 4861 §6.3.2: ReachableTime within [0.5, 1.5] × 30 s.
    assert!((15_000..=45_000).contains(&rt.as_millis()), "{rt}");
    // Confirmation keeps it REACHABLE past its first deadline.
    let mid = t(10) + rt - ndp_core::time::Duration::from_millis(1);
    s.confirm_reachable(mid, &peer());
    drain(&mut s, t(10) + rt);
    assert_eq!(
        s.neighbors().next().unwrap().state,
        NeighborState::Reachable
    );
    // Left alone it goes STALE; a send moves it to DELAY; then a unicast
    // probe to its cached MAC after DELAY_FIRST_PROBE_TIME.
    let stale_at = mid + rt;
    drain(&mut s, stale_at);
    assert_eq!(s.neighbors().next().unwrap().state, NeighborState::Stale);
    assert_eq!(
        s.route(stale_at, peer()).unwrap(),
        ndp_core::NextHop::Resolved {
            neighbor: peer(),
            mac: PEER_MAC
        }
    );
    assert_eq!(s.neighbors().next().unwrap().state, NeighborState::Delay);
    assert!(
        drain(
            &mut s,
            stale_at + secs(5) - ndp_core::time::Duration::from_millis(1)
        )
        .is_empty()
    );
    let out = drain(&mut s, stale_at + secs(5));
    let (tx, h, _) = &out[0];
    assert_eq!((tx.delivery, h.dst), (Delivery::Link(PEER_MAC), peer()));
    assert_eq!(s.neighbors().next().unwrap().state, NeighborState::Probe);
}

#[test]
fn time_going_backwards_is_harmless() {
    let mut s = stack();
    drain_all(&mut s, t(0));
    drain_all(&mut s, t(1000));
    s.route(t(5000), peer()).unwrap();
    drain(&mut s, t(5000));
    // An earlier `now` is treated as the latest seen.
    assert!(drain(&mut s, t(10)).is_empty());
    assert_eq!(s.poll_at(), Some(t(6000)));
}

#[test]
fn malformed_link_address_option_drops_the_message() {
    let mut s = stack();
    let m = Message::NeighborSolicit(ndp_core::wire::NeighborSolicit {
        target: our_ll(),
        options: ndp_core::wire::Options::EMPTY,
    });
    let mut bytes = emit(&m, peer(), our_ll());
    // SLLA with length 2 (16 bytes): not an Ethernet address.
    bytes.extend_from_slice(&[1, 2, 2, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0]);
    ndp_core::wire::icmpv6::fill_checksum(&mut bytes, &peer(), &our_ll()).unwrap();
    assert!(s.receive(t(0), &meta(peer(), our_ll()), &bytes));
    assert!(drain(&mut s, t(0)).is_empty());
    assert_eq!(
        s.stats().rx_malformed[ndp_core::wire::Error::BadOptionLength.index()],
        1
    );
}

#[test]
fn non_ndp_icmp_is_left_to_the_caller() {
    let mut s = stack();
    let mut echo = vec![128u8, 0, 0, 0, 0, 1, 0, 1];
    ndp_core::wire::icmpv6::fill_checksum(&mut echo, &peer(), &our_ll()).unwrap();
    assert!(!s.receive(t(0), &meta(peer(), our_ll()), &echo));
    assert!(!s.receive(t(0), &meta(peer(), our_ll()), &[]));
}
