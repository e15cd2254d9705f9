//! Engine scenarios on the simulated link (issue 3): address resolution
//! between two engines, NUD walking a silent neighbor out of the cache,
//! and a solicitation flood against a host in active use. Each writes its
//! pcap to target/sim-pcap/.

use core::net::Ipv6Addr;

use ndp_core::neighbor::{
    DELAY_FIRST_PROBE_TIME, MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT, NeighborState,
};
use ndp_core::time::Duration;
use ndp_core::wire::{
    MacAddr, Message, NdOption, NeighborSolicit, Options, UnicastAddr, UnreachableCode,
};
use ndp_core::{Dispatch, Event};
use ndp_tests::packet::{self, ND_HOP_LIMIT};
use ndp_tests::sim::{EngineNode, LinkConfig, ScriptedHost, Sim};

const MAC_A: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x0a]);
const MAC_B: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x0b]);
const MAC_H: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x11]);

fn state_of(e: &EngineNode, addr: Ipv6Addr) -> Option<NeighborState> {
    e.stack()
        .neighbors()
        .find(|n| n.addr == addr)
        .map(|n| n.state)
}

#[test]
fn two_engines_resolve_each_other_and_exchange_packets() {
    for (name, seed, link) in [
        ("two-engines-ideal", 1, LinkConfig::ideal()),
        (
            "two-engines-lossy",
            2,
            LinkConfig {
                latency: Duration::from_millis(2),
                jitter: Duration::from_millis(3),
                loss_ppm: 100_000,
                duplicate_ppm: 50_000,
                reorder_ppm: 50_000,
            },
        ),
    ] {
        let mut sim = Sim::new(name, seed, link);
        let a = sim.add(EngineNode::new(MAC_A, seed * 10 + 1));
        let b = sim.add(EngineNode::new(MAC_B, seed * 10 + 2));
        let ll_a = sim.node::<EngineNode>(a).link_local();
        let ll_b = sim.node::<EngineNode>(b).link_local();
        // A pings B once a second for 20 s.
        for seq in 0..20u16 {
            let now = sim.now();
            let r = sim.node_mut::<EngineNode>(a).send_echo(now, ll_b, 1, seq);
            assert!(r.is_ok(), "{name}: {r:?}");
            sim.run_for(Duration::from_secs(1));
        }
        sim.run_for(Duration::from_secs(1));
        let (na, nb) = (sim.node::<EngineNode>(a), sim.node::<EngineNode>(b));
        let replies = na.echo_replies().len();
        if seed == 1 {
            // Ideal link: every ping answered, both sides resolved.
            assert_eq!(replies, 20, "{name}");
            assert_eq!(state_of(na, ll_b), Some(NeighborState::Reachable), "{name}");
            assert!(state_of(nb, ll_a).is_some(), "{name}: B learnt A");
            let a_mac = nb
                .stack()
                .neighbors()
                .find(|n| n.addr == ll_a)
                .and_then(|n| n.mac);
            assert_eq!(a_mac, Some(MAC_A), "{name}");
            // One multicast NS resolved B: no retransmission needed.
            assert_eq!(na.stack().stats().tx_ns_multicast, 1, "{name}");
        } else {
            // 10% loss each way: most pings still come back, and the
            // engines recover from lost solicitations.
            assert!(replies >= 12, "{name}: only {replies} replies");
            assert!(state_of(na, ll_b).is_some(), "{name}");
        }
        assert!(
            na.local_packets().is_empty(),
            "{name}: no resolution failure"
        );
    }
}

#[test]
fn silent_neighbor_is_probed_removed_and_then_unreachable() {
    let mut sim = Sim::new("silent-neighbor", 3, LinkConfig::ideal());
    let a = sim.add(EngineNode::new(MAC_A, 31));
    let h = sim.add(ScriptedHost::new(MAC_H));
    let ll_h = packet::link_local(MAC_H);

    // Let A finish DAD for its link-local address (optimistic addresses
    // may not solicit, RFC 4429 §3.2), then resolve H and make it
    // REACHABLE.
    sim.run_for(Duration::from_secs(2));
    let now = sim.now();
    sim.node_mut::<EngineNode>(a)
        .send_echo(now, ll_h, 1, 0)
        .unwrap();
    sim.run_for(Duration::from_millis(100));
    assert_eq!(sim.node::<EngineNode>(a).echo_replies().len(), 1);
    assert_eq!(state_of(sim.node(a), ll_h), Some(NeighborState::Reachable));
    let reachable_at = sim.now();

    // H goes silent.
    sim.node_mut::<ScriptedHost>(h).set_silent(true);

    // REACHABLE -> STALE exactly at its deadline (confirmation time +
    // ReachableTime), not a millisecond earlier.
    let n = sim
        .node::<EngineNode>(a)
        .stack()
        .neighbors()
        .find(|n| n.addr == ll_h)
        .unwrap();
    let stale_at = n.deadline.expect("REACHABLE has a timer");
    let reachable_time = sim.node::<EngineNode>(a).stack().reachable_time();
    assert!(stale_at <= reachable_at + reachable_time);
    sim.run_until(stale_at - Duration::from_millis(1));
    assert_eq!(state_of(sim.node(a), ll_h), Some(NeighborState::Reachable));
    sim.run_until(stale_at);
    assert_eq!(state_of(sim.node(a), ll_h), Some(NeighborState::Stale));
    // STALE has no timer: nothing happens for a while.
    sim.run_for(Duration::from_secs(10));
    assert_eq!(state_of(sim.node(a), ll_h), Some(NeighborState::Stale));

    // A packet to the STALE neighbor goes out at once (cached MAC) and
    // starts NUD; follow the engine's own timers from there.
    let send_at = sim.now();
    assert_eq!(
        sim.node_mut::<EngineNode>(a).send_echo(send_at, ll_h, 1, 1),
        Ok(Dispatch::Transmit(MAC_H))
    );
    let mut timeline = vec![(send_at, state_of(sim.node(a), ll_h))];
    while state_of(sim.node(a), ll_h).is_some() {
        let next = sim
            .node::<EngineNode>(a)
            .stack()
            .poll_at()
            .expect("a timer runs while probing");
        sim.run_until(next);
        let s = state_of(sim.node(a), ll_h);
        if timeline.last().map(|x| x.1) != Some(s) {
            timeline.push((sim.now(), s));
        }
        assert!(
            sim.now() < send_at + Duration::from_secs(60),
            "never removed: {timeline:?}"
        );
    }
    // DELAY on sending, PROBE after DELAY_FIRST_PROBE_TIME, removed
    // MAX_UNICAST_SOLICIT RetransTimers later.
    let retrans = sim.node::<EngineNode>(a).stack().retrans_timer();
    let probes = Duration::from_millis(retrans.as_millis() * u32::from(MAX_UNICAST_SOLICIT));
    assert_eq!(
        timeline,
        [
            (send_at, Some(NeighborState::Delay)),
            (send_at + DELAY_FIRST_PROBE_TIME, Some(NeighborState::Probe)),
            (send_at + DELAY_FIRST_PROBE_TIME + probes, None),
        ]
    );
    let stats = sim.node::<EngineNode>(a).stack().stats().clone();
    assert_eq!(stats.tx_ns_unicast, u32::from(MAX_UNICAST_SOLICIT));
    assert_eq!(stats.nud_unreachable, 1);
    assert!(sim.node::<EngineNode>(a).events().iter().any(|(_, e)| *e
        == Event::NeighborUnreachable {
            neighbor: ll_h,
            was_router: false
        }));

    // With the entry gone, new packets wait for resolution, which fails:
    // each is answered with Destination Unreachable, code 3.
    let t0 = sim.now();
    for seq in 2..4 {
        assert_eq!(
            sim.node_mut::<EngineNode>(a).send_echo(t0, ll_h, 1, seq),
            Ok(Dispatch::Queued)
        );
    }
    sim.run_for(Duration::from_secs(5));
    let node = sim.node::<EngineNode>(a);
    assert_eq!(
        node.stack().stats().tx_ns_multicast,
        1 + u32::from(MAX_MULTICAST_SOLICIT)
    );
    let errors = node.local_packets();
    assert_eq!(errors.len(), 2);
    for (e, seq) in errors.iter().zip(2u16..) {
        assert_eq!(
            e.at,
            t0 + Duration::from_millis(retrans.as_millis() * u32::from(MAX_MULTICAST_SOLICIT))
        );
        let (h, body) = ndp_core::wire::ipv6::Ipv6Header::parse(&e.bytes).unwrap();
        let Ok(Message::DestUnreachable(d)) = Message::parse_checked(&h.src, &h.dst, body) else {
            panic!()
        };
        assert_eq!(d.code, UnreachableCode::AddressUnreachable);
        // It quotes our echo request with that sequence number.
        let (qh, qbody) = ndp_core::wire::ipv6::Ipv6Header::parse(d.invoking).unwrap();
        assert_eq!(qh.dst, ll_h);
        let echo = packet::parse_echo(qh.src, qh.dst, qbody).unwrap();
        assert_eq!((echo.request, echo.seq), (true, seq));
    }
    assert!(node.events().iter().any(|(_, e)| *e
        == Event::ResolutionFailed {
            neighbor: ll_h,
            dropped: 2
        }));
}

/// RFC 6980 §5: "hosts MUST silently ignore" fragmented Neighbor
/// Discovery. The simulated device reads frames with the classifier every
/// adapter uses, so a solicitation in an atomic fragment gets no answer,
/// and the same one unfragmented does.
#[test]
fn fragmented_solicitations_are_ignored() {
    let mut sim = Sim::new("fragmented-ns", 5, LinkConfig::ideal());
    let a = sim.add(EngineNode::new(MAC_A, 43));
    sim.add(ScriptedHost::new(MAC_H));
    let ll_a = sim.node::<EngineNode>(a).link_local();
    let ll_h = packet::link_local(MAC_H);
    sim.run_for(Duration::from_secs(2));
    let ns = Message::NeighborSolicit(NeighborSolicit {
        target: ll_a,
        options: Options::from_list(&[NdOption::SourceLinkAddr(MAC_H)]),
    });
    let icmp = packet::icmpv6_bytes(ll_h, ll_a, &ns);
    // Fragment header: ICMPv6 next, offset 0, M=0, identification 1.
    let mut fragment = vec![packet::NH_ICMPV6, 0, 0, 0, 0, 0, 0, 1];
    fragment.extend_from_slice(&icmp);
    let rx_ns = |sim: &Sim| sim.node::<EngineNode>(a).stack().stats().rx_ns;
    let before = rx_ns(&sim);
    sim.inject(packet::ipv6_frame(
        MAC_H,
        MAC_A,
        ll_h,
        ll_a,
        44,
        ND_HOP_LIMIT,
        &fragment,
    ));
    sim.run_for(Duration::from_millis(100));
    let node = sim.node::<EngineNode>(a);
    assert_eq!(node.fragmented_nd(), 1);
    assert_eq!(rx_ns(&sim), before);
    assert_eq!(state_of(node, ll_h), None, "learnt from a fragment");
    // The same solicitation unfragmented: received, and H is learnt from
    // its source link-layer address (RFC 4861 §7.2.3).
    sim.inject(packet::ipv6_frame(
        MAC_H,
        MAC_A,
        ll_h,
        ll_a,
        packet::NH_ICMPV6,
        ND_HOP_LIMIT,
        &icmp,
    ));
    sim.run_for(Duration::from_millis(100));
    let node = sim.node::<EngineNode>(a);
    assert_eq!(rx_ns(&sim), before + 1);
    assert_eq!(node.fragmented_nd(), 1);
    assert_eq!(state_of(node, ll_h), Some(NeighborState::Stale));
}

#[test]
fn solicitation_flood_leaves_the_peer_in_use_intact() {
    const FLOOD: u32 = 10_000;
    let mut sim = Sim::new("ns-flood", 4, LinkConfig::ideal());
    let a = sim.add(EngineNode::new(MAC_A, 41));
    sim.add(ScriptedHost::new(MAC_H));
    let (ll_a, ll_h) = (
        sim.node::<EngineNode>(a).link_local(),
        packet::link_local(MAC_H),
    );
    let group = UnicastAddr::new(ll_a).unwrap().solicited_node();

    // A boots (DAD), then talks to H before and during the flood.
    sim.run_for(Duration::from_secs(2));
    let now = sim.now();
    sim.node_mut::<EngineNode>(a)
        .send_echo(now, ll_h, 7, 0)
        .unwrap();
    sim.run_for(Duration::from_millis(100));
    let before = sim.node::<EngineNode>(a).stack().stats().clone();

    // 10,000 solicitations for A's address from distinct spoofed sources,
    // each with a source link-layer option, 10 per millisecond, while A
    // pings H every 100 ms.
    let mut rng = ndp_core::rng::Rng::new(99);
    let mut sent = 0u32;
    let mut seq = 1u16;
    while sent < FLOOD {
        for _ in 0..10 {
            let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1000, 0, (sent >> 16) as u16, sent as u16);
            let mut m = [0u8; 6];
            rng.fill(&mut m);
            m[0] = (m[0] & 0xfc) | 0x02; // unicast, locally administered
            let mac = MacAddr(m);
            let opts = [NdOption::SourceLinkAddr(mac)];
            let ns = Message::NeighborSolicit(NeighborSolicit {
                target: ll_a,
                options: Options::from_list(&opts),
            });
            sim.inject(packet::icmpv6_frame(
                mac,
                group.mac(),
                src,
                group.get(),
                ND_HOP_LIMIT,
                &ns,
            ));
            sent += 1;
        }
        if sent.is_multiple_of(1000) {
            let now = sim.now();
            sim.node_mut::<EngineNode>(a)
                .send_echo(now, ll_h, 7, seq)
                .unwrap();
            seq += 1;
        }
        sim.run_for(Duration::from_millis(1));
    }
    sim.run_for(Duration::from_millis(100));

    let node = sim.node::<EngineNode>(a);
    let stats = node.stack().stats();
    let entries: Vec<_> = node.stack().neighbors().collect();
    // The table is at its cap and holds H, REACHABLE, with its MAC.
    assert_eq!(entries.len(), 8);
    let peer = entries
        .iter()
        .find(|n| n.addr == ll_h)
        .expect("H survived the flood");
    assert_eq!(
        (peer.state, peer.mac),
        (NeighborState::Reachable, Some(MAC_H))
    );
    // Every ping during the flood was answered.
    assert_eq!(node.echo_replies().len(), usize::from(seq));
    // Accounting: each flooded solicitation was received and either got a
    // table entry (still there, or evicted later by another) or was
    // refused one; and was either answered or its answer dropped.
    let d = |f: fn(&ndp_core::Stats) -> u32| f(stats) - f(&before);
    assert_eq!(d(|s| s.rx_ns), FLOOD);
    let flood_entries = entries
        .iter()
        .filter(|n| n.addr.segments()[4] == 0x1000)
        .count() as u32;
    assert_eq!(
        flood_entries + d(|s| s.nc_evicted) + d(|s| s.nc_create_refused),
        FLOOD
    );
    assert_eq!(d(|s| s.tx_na) + d(|s| s.tx_answer_dropped), FLOOD);
    // No solicitation made A probe or resolve anyone.
    assert_eq!(d(|s| s.tx_ns_unicast) + d(|s| s.tx_ns_multicast), 0);
    println!(
        "ns-flood: {} answered, {} answers dropped, {} evictions, {} refused, {} flood entries left",
        d(|s| s.tx_na),
        d(|s| s.tx_answer_dropped),
        d(|s| s.nc_evicted),
        d(|s| s.nc_create_refused),
        flood_entries
    );
}
