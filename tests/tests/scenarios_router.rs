//! Router discovery scenarios on the simulated link (issue 4): failover
//! between preferred routers by NUD, renumbering, Redirect (real and
//! forged), RS backoff with no router, and a flood of forged Router
//! Advertisements. Each writes its pcap to target/sim-pcap/.

use core::net::Ipv6Addr;

use ndp_core::Config;
use ndp_core::neighbor::{DELAY_FIRST_PROBE_TIME, MAX_UNICAST_SOLICIT};
use ndp_core::router::{MAX_RTR_SOLICITATION_DELAY, PREFIXES, ROUTERS, ROUTES};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{
    Lifetime, MacAddr, Message, MulticastAddr, NdOption, Options, Preference, PrefixInfo, Redirect,
    RouteInfo, RouterAdvert,
};
use ndp_tests::packet::{self, ND_HOP_LIMIT};
use ndp_tests::sim::{EngineNode, LinkConfig, RouterConfig, ScriptedHost, ScriptedRouter, Sim};

const HOST: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
const R1: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
const R2: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x02]);
const H: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x11]);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// The host's global source for test traffic (the engine does not check
/// sources; SLAAC comes later).
fn src() -> Ipv6Addr {
    a("2001:db8:1::a")
}

fn router(preference: Preference) -> RouterConfig {
    RouterConfig {
        preference,
        interval: Some(Duration::from_secs(10)),
        ..RouterConfig::default()
    }
}

fn host(sim: &mut Sim, seed: u64) -> ndp_tests::sim::NodeId {
    sim.add(EngineNode::from_config(Config::stable(HOST, seed, [0; 16])))
}

#[test]
fn traffic_moves_to_the_low_preference_router_when_the_high_one_goes_silent() {
    let mut sim = Sim::new("router-failover", 10, LinkConfig::ideal());
    let h = host(&mut sim, 101);
    let r1 = sim.add(ScriptedRouter::new(R1, router(Preference::High)));
    let r2 = sim.add(ScriptedRouter::new(R2, router(Preference::Low)));
    let dst = a("2001:db8:99::1");
    // Off-link traffic every 100 ms for 60 s: all through R1.
    let mut seq = 0u16;
    let mut tick = |sim: &mut Sim, until: Instant| {
        while sim.now() < until {
            let now = sim.now();
            let _ = sim
                .node_mut::<EngineNode>(h)
                .send_echo_from(now, src(), dst, 1, seq);
            seq = seq.wrapping_add(1);
            sim.run_for(Duration::from_millis(100));
        }
    };
    tick(&mut sim, Instant::from_secs(60));
    let via = |sim: &Sim, r| sim.node::<ScriptedRouter>(r).host().transit().len();
    assert!(via(&sim, r1) > 500, "R1 carried {}", via(&sim, r1));
    assert_eq!(via(&sim, r2), 0);

    // R1 goes silent: no more advertisements, no answers to probes.
    sim.node_mut::<ScriptedRouter>(r1).set_silent(true);
    let silent_at = sim.now();
    let stack = sim.node::<EngineNode>(h).stack();
    let bound = stack.reachable_time()
        + DELAY_FIRST_PROBE_TIME
        + Duration::from_millis(stack.retrans_timer().as_millis() * u32::from(MAX_UNICAST_SOLICIT))
        + Duration::from_millis(200);
    tick(&mut sim, silent_at + bound + Duration::from_secs(5));
    let first_via_r2 = sim
        .node::<ScriptedRouter>(r2)
        .host()
        .transit()
        .first()
        .map(|p| p.at);
    let switched = first_via_r2.expect("traffic never moved to R2");
    let took = switched.saturating_duration_since(silent_at);
    println!("router-failover: switched after {took} (bound {bound})");
    assert!(took <= bound, "took {took}, bound {bound}");
    // And stays there.
    let after = via(&sim, r2);
    let until = sim.now() + Duration::from_secs(10);
    tick(&mut sim, until);
    assert!(via(&sim, r2) >= after + 90);
    let routers = sim
        .node::<EngineNode>(h)
        .stack()
        .routers()
        .collect::<Vec<_>>();
    assert!(
        routers
            .iter()
            .any(|r| r.addr == packet::link_local(R1) && r.suspect)
    );
}

#[test]
fn renumbering_stops_on_link_routing_for_the_old_prefix() {
    let mut sim = Sim::new("renumbering", 11, LinkConfig::ideal());
    let h = host(&mut sim, 111);
    let r = sim.add(ScriptedRouter::new(R1, router(Preference::Medium)));
    let neighbor = a("2001:db8:1::99");
    let n = sim.add(ScriptedHost::new(H).with_address(neighbor));
    sim.run_for(Duration::from_secs(2));
    // On-link: the ping goes straight to the neighbor.
    let now = sim.now();
    sim.node_mut::<EngineNode>(h)
        .send_echo_from(now, src(), neighbor, 2, 1)
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    let direct = |sim: &Sim| {
        sim.node::<ScriptedHost>(n)
            .inbox()
            .iter()
            .filter(|p| p.echo().is_some_and(|e| e.request))
            .count()
    };
    assert_eq!(direct(&sim), 1);
    assert_eq!(sim.node::<ScriptedRouter>(r).host().transit().len(), 0);

    // The router withdraws the prefix: valid lifetime 0.
    sim.node_mut::<ScriptedRouter>(r).config_mut().prefixes[0].valid_lifetime = Lifetime::ZERO;
    sim.node_mut::<ScriptedRouter>(r).advertise_now();
    sim.run_for(Duration::from_millis(100));
    assert_eq!(sim.node::<EngineNode>(h).stack().prefixes().count(), 0);
    let now = sim.now();
    sim.node_mut::<EngineNode>(h)
        .send_echo_from(now, src(), neighbor, 2, 2)
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    // No longer on-link: it goes to the router, not to the neighbor.
    assert_eq!(direct(&sim), 1);
    let via_router = sim.node::<ScriptedRouter>(r).host().transit();
    assert_eq!(via_router.len(), 1);
    assert_eq!(via_router[0].dst, neighbor);
}

#[test]
fn redirect_to_a_better_router_is_followed_and_a_forged_one_ignored() {
    let mut sim = Sim::new("redirect", 12, LinkConfig::ideal());
    let h = host(&mut sim, 121);
    let r1 = sim.add(ScriptedRouter::new(R1, router(Preference::Medium)));
    // R2: a router on the link that does not advertise itself as default.
    let r2 = sim.add(ScriptedRouter::new(
        R2,
        RouterConfig {
            router_lifetime: 0,
            interval: None,
            advertise_at_start: false,
            ..RouterConfig::default()
        },
    ));
    let liar = sim.add(ScriptedHost::new(H));
    let dst = a("2001:db8:99::1");
    sim.run_for(Duration::from_secs(2));
    let ping = |sim: &mut Sim, seq| {
        let now = sim.now();
        sim.node_mut::<EngineNode>(h)
            .send_echo_from(now, src(), dst, 3, seq)
            .unwrap();
        sim.run_for(Duration::from_millis(500));
    };
    ping(&mut sim, 1);
    assert_eq!(sim.node::<ScriptedRouter>(r1).host().transit().len(), 1);

    // R1, the first hop for dst, redirects it to R2 (RFC 4861 §8).
    let host_ll = sim.node::<EngineNode>(h).link_local();
    let redirect = |from_mac: MacAddr, from: Ipv6Addr, target: Ipv6Addr, tlla: MacAddr| {
        let opts = [NdOption::TargetLinkAddr(tlla)];
        let m = Message::Redirect(Redirect {
            target,
            destination: dst,
            options: Options::from_list(&opts),
        });
        packet::icmpv6_frame(from_mac, HOST, from, host_ll, ND_HOP_LIMIT, &m)
    };
    sim.inject(redirect(
        R1,
        packet::link_local(R1),
        packet::link_local(R2),
        R2,
    ));
    sim.run_for(Duration::from_millis(10));
    ping(&mut sim, 2);
    assert_eq!(
        sim.node::<ScriptedRouter>(r1).host().transit().len(),
        1,
        "not through R1 any more"
    );
    assert_eq!(sim.node::<ScriptedRouter>(r2).host().transit().len(), 1);

    // A host that is not the first hop forges a redirect to itself.
    let liar_ll = packet::link_local(H);
    sim.inject(redirect(H, liar_ll, liar_ll, H));
    sim.run_for(Duration::from_millis(10));
    ping(&mut sim, 3);
    assert_eq!(
        sim.node::<ScriptedRouter>(r2).host().transit().len(),
        2,
        "still through R2"
    );
    assert!(sim.node::<ScriptedHost>(liar).transit().is_empty());
    assert_eq!(
        sim.node::<EngineNode>(h)
            .stack()
            .stats()
            .rx_redirect_not_first_hop,
        1
    );
}

#[test]
fn router_solicitations_back_off_per_rfc7559_and_stop_at_the_first_advertisement() {
    let mut sim = Sim::new("rs-backoff", 13, LinkConfig::ideal());
    host(&mut sim, 131);
    // A listener on ff02::2 records every solicitation.
    let mut ear = ScriptedHost::new(H);
    ear.join(MulticastAddr::ALL_ROUTERS.get());
    let ear = sim.add(ear);
    // Four hours: long enough to see the retransmission timeout capped.
    sim.run_until(Instant::from_secs(4 * 3600));
    let times: Vec<u32> = sim
        .node::<ScriptedHost>(ear)
        .inbox()
        .iter()
        .filter(|p| matches!(p.message(), Some(Ok(Message::RouterSolicit(_)))))
        .map(|p| p.at.as_millis())
        .collect();
    println!("rs-backoff: {} solicitations at {times:?} ms", times.len());
    // The first within MAX_RTR_SOLICITATION_DELAY (plus 1 ms of link).
    assert!(times[0] <= MAX_RTR_SOLICITATION_DELAY.as_millis() + 1);
    // Then RT = IRT ± 10%, doubling ± 10%, capped at MRT ± 10%.
    let gaps: Vec<u32> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!((3_600..=4_400).contains(&gaps[0]), "{gaps:?}");
    for w in gaps.windows(2) {
        let (prev, rt) = (w[0], w[1]);
        let capped = (3_240_000..=3_960_000).contains(&rt);
        assert!(
            capped || (prev * 19 / 10 <= rt && rt <= prev * 21 / 10),
            "{prev} -> {rt}: {gaps:?}"
        );
        assert!(rt <= 3_960_000);
    }
    // Doubling from 4 s: the first two hours hold 11 or 12 solicitations
    // (4 s × (2^11 − 1) ≈ 2.3 h), then the cap (about an hour) takes over
    // and they never stop.
    let in_two_hours = times.iter().filter(|&&t| t < 2 * 3600 * 1000).count();
    assert!((11..=12).contains(&in_two_hours), "{in_two_hours}");
    assert!(
        gaps.iter().any(|g| *g >= 3_240_000),
        "the cap was reached: {gaps:?}"
    );

    // A router appears and advertises: the solicitations stop for good.
    sim.add(ScriptedRouter::new(R1, router(Preference::Medium)));
    sim.run_for(Duration::from_secs(3 * 3600));
    let after = sim
        .node::<ScriptedHost>(ear)
        .inbox()
        .iter()
        .filter(|p| {
            p.at > Instant::from_secs(4 * 3600)
                && matches!(p.message(), Some(Ok(Message::RouterSolicit(_))))
        })
        .count();
    assert_eq!(after, 0);
}

#[test]
fn ra_flood_cannot_displace_the_router_in_use_or_grow_the_tables() {
    const RAS: u32 = 10_000;
    const SOURCES: u32 = 1_000;
    let mut sim = Sim::new("ra-flood", 14, LinkConfig::ideal());
    let h = host(&mut sim, 141);
    sim.add(ScriptedRouter::new(
        R1,
        RouterConfig {
            interval: Some(Duration::from_secs(3)),
            ..router(Preference::Medium)
        },
    ));
    let r_ll = packet::link_local(R1);
    sim.run_for(Duration::from_secs(2));
    // The host uses its router (pings it), so the router is proven.
    let now = sim.now();
    sim.node_mut::<EngineNode>(h)
        .send_echo(now, r_ll, 4, 0)
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    assert!(
        sim.node::<EngineNode>(h)
            .stack()
            .routers()
            .any(|x| x.addr == r_ll && x.proven)
    );

    // 10,000 RAs from 1,000 link-local sources, each with 17 PIOs and 8
    // RIOs of random prefixes (like THC's flood_router26), 10 per ms.
    let mut rng = ndp_core::rng::Rng::new(77);
    let rand_prefix = |rng: &mut ndp_core::rng::Rng| {
        let mut o = [0u8; 16];
        rng.fill(&mut o[..8]);
        o[0] = 0x20;
        Ipv6Addr::from(o)
    };
    for i in 0..RAS {
        let n = (i % SOURCES) as u16;
        let mac = MacAddr([0x02, 0xbb, 0, 0, (n >> 8) as u8, n as u8]);
        let src = packet::link_local(mac);
        let mut opts = vec![NdOption::SourceLinkAddr(mac)];
        for _ in 0..17 {
            opts.push(NdOption::PrefixInfo(PrefixInfo {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: Lifetime::Finite(86_400),
                preferred_lifetime: Lifetime::Finite(14_400),
                prefix: rand_prefix(&mut rng),
            }));
        }
        for _ in 0..8 {
            opts.push(NdOption::RouteInfo(RouteInfo {
                prefix_len: 48,
                preference: Preference::High,
                lifetime: Lifetime::Finite(86_400),
                prefix: rand_prefix(&mut rng),
            }));
        }
        let m = Message::RouterAdvert(RouterAdvert {
            cur_hop_limit: 64,
            managed: false,
            other_config: false,
            preference: Preference::High,
            router_lifetime: 9000,
            reachable_time: 0,
            retrans_timer: 0,
            options: Options::from_list(&opts),
        });
        sim.inject(packet::icmpv6_frame(
            mac,
            MulticastAddr::ALL_NODES.mac(),
            src,
            MulticastAddr::ALL_NODES.get(),
            ND_HOP_LIMIT,
            &m,
        ));
        if i % 10 == 9 {
            sim.run_for(Duration::from_millis(1));
        }
    }
    sim.run_for(Duration::from_secs(5));

    let node = sim.node::<EngineNode>(h);
    let s = node.stack();
    // Every RA was processed or dropped by the newcomer rate (RFC 6583).
    assert!(s.stats().rx_ra + s.stats().rx_ra_rate_limited >= RAS);
    assert!(s.stats().rx_ra_rate_limited > RAS / 2);
    // Caps hold.
    assert!(s.routers().count() <= ROUTERS);
    assert!(s.prefixes().count() <= PREFIXES);
    assert!(s.routes().count() <= ROUTES);
    assert!(s.neighbors().count() <= 8);
    // The router in use and its prefix survived.
    assert!(
        s.routers().any(|x| x.addr == r_ll),
        "{:?}",
        s.routers().collect::<Vec<_>>()
    );
    assert!(
        s.prefixes()
            .any(|p| p.prefix == ndp_tests::sim::router::DEFAULT_PREFIX)
    );
    assert!(s.neighbors().any(|n| n.addr == r_ll && n.is_router));
    println!(
        "ra-flood: {} RAs processed, {} rate-limited; routers evicted {} refused {}, prefixes refused {}, routes refused {}, newcomers refused {}, probation failed {}, neighbor evictions {}",
        s.stats().rx_ra,
        s.stats().rx_ra_rate_limited,
        s.stats().ra_router_evicted,
        s.stats().ra_router_refused,
        s.stats().ra_prefix_refused,
        s.stats().ra_route_refused,
        s.stats().newcomers_refused,
        s.stats().router_probation_failed,
        s.stats().nc_evicted
    );
    // The host can still resolve new neighbors and reach its router.
    let now = sim.now();
    sim.node_mut::<EngineNode>(h)
        .send_echo(now, r_ll, 4, 1)
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.node::<EngineNode>(h).echo_replies().len(), 2);
}
