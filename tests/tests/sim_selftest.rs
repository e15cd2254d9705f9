//! Tests of the simulator itself, with scripted peers only (no engine):
//! resolution and ping between scripted hosts, the link model (loss,
//! duplication, reordering), determinism, the no-spin and runaway guards,
//! and the scripted router. Every scenario writes its pcap to
//! target/sim-pcap/, which `cargo xtask test` checks with tshark.

use core::net::Ipv6Addr;

use ndp_core::rng::Rng;
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{MacAddr, Message, NdOption, UnicastAddr};
use ndp_tests::packet;
use ndp_tests::pcap;
use ndp_tests::sim::{
    LinkConfig, Node, NodeId, RouterConfig, ScriptedHost, ScriptedRouter, Sim, router,
};

fn mac(n: u8) -> MacAddr {
    MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, n])
}

fn ms(n: u32) -> Duration {
    Duration::from_millis(n)
}

/// Two hosts on a segment: (sim, a, b).
fn two_hosts(name: &str, seed: u64, link: LinkConfig) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(name, seed, link);
    let a = sim.add(ScriptedHost::new(mac(0x10)));
    let b = sim.add(ScriptedHost::new(mac(0x20)));
    (sim, a, b)
}

fn host(sim: &mut Sim, id: NodeId) -> &mut ScriptedHost {
    sim.node_mut::<ScriptedHost>(id)
}

/// Sequence numbers of the echo requests in a host's inbox, in arrival order.
fn request_seqs(h: &ScriptedHost) -> Vec<u16> {
    h.inbox()
        .iter()
        .filter_map(|r| r.echo().filter(|e| e.request).map(|e| e.seq))
        .collect()
}

/// `from` pings `to` `count` times at once, by MAC (no resolution).
fn burst(sim: &mut Sim, from: NodeId, to: NodeId, count: u16) {
    let now = sim.now();
    let (dst, dst_mac) = {
        let h = sim.node::<ScriptedHost>(to);
        (h.link_local(), h.mac())
    };
    for seq in 0..count {
        host(sim, from).send_echo(now, dst, dst_mac, 1, seq);
    }
}

#[test]
fn two_hosts_resolve_each_other_and_ping() {
    let (mut sim, a, b) = two_hosts("selftest-ping", 1, LinkConfig::ideal());
    let (a_ll, b_ll) = (
        sim.node::<ScriptedHost>(a).link_local(),
        sim.node::<ScriptedHost>(b).link_local(),
    );
    for (from, to, to_ll) in [(a, b, b_ll), (b, a, a_ll)] {
        let now = sim.now();
        host(&mut sim, from).send_ns(now, to_ll);
        sim.run_for(ms(10));
        let learnt = sim.node::<ScriptedHost>(from).neighbor(to_ll);
        assert_eq!(
            learnt,
            Some(sim.node::<ScriptedHost>(to).mac()),
            "NA with TLLA"
        );
        for seq in 0..3 {
            let now = sim.now();
            host(&mut sim, from).send_echo(now, to_ll, learnt.unwrap(), 7, seq);
            sim.run_for(Duration::from_secs(1));
        }
    }
    for (id, peer) in [(a, b_ll), (b, a_ll)] {
        let replies = sim.node::<ScriptedHost>(id).echo_replies();
        let seqs: Vec<u16> = replies.iter().map(|(_, _, e)| e.seq).collect();
        assert_eq!(seqs, [0, 1, 2]);
        assert!(replies.iter().all(|(_, src, e)| *src == peer && e.id == 7));
        assert_eq!(request_seqs(sim.node::<ScriptedHost>(id)), [0, 1, 2]);
    }
    // The NS was answered by a solicited NA; ping round trips take 2 ms.
    let na = sim.node::<ScriptedHost>(a).inbox()[0].clone();
    match na.message() {
        Some(Ok(Message::NeighborAdvert(na))) => {
            assert!(na.solicited_flag && na.override_flag && !na.router_flag);
            assert_eq!(na.target, b_ll);
        }
        other => panic!("expected a NA first, got {other:?}"),
    }
    let replies = sim.node::<ScriptedHost>(a).echo_replies();
    assert_eq!(replies[0].0, Instant::from_millis(10 + 2));
    let c = sim.counters();
    assert_eq!((c.sent, c.delivered, c.lost), (16, 16, 0));
}

#[test]
fn total_loss_delivers_nothing() {
    let link = LinkConfig {
        loss_ppm: 1_000_000,
        ..LinkConfig::ideal()
    };
    let (mut sim, a, b) = two_hosts("selftest-loss", 2, link);
    burst(&mut sim, a, b, 5);
    sim.run_for(Duration::from_secs(1));
    assert!(sim.node::<ScriptedHost>(b).inbox().is_empty());
    let c = sim.counters();
    assert_eq!((c.sent, c.delivered, c.lost), (5, 0, 5));
}

#[test]
fn total_duplication_delivers_twice() {
    let link = LinkConfig {
        duplicate_ppm: 1_000_000,
        ..LinkConfig::ideal()
    };
    let (mut sim, a, b) = two_hosts("selftest-duplicate", 3, link);
    burst(&mut sim, a, b, 1);
    sim.run_for(Duration::from_secs(1));
    let b_in = sim.node::<ScriptedHost>(b).inbox();
    assert_eq!(request_seqs(sim.node::<ScriptedHost>(b)), [0, 0]);
    assert_eq!(b_in[1].at, b_in[0].at + ms(1), "the copy comes 1 ms later");
    // Each request copy is answered, and each answer arrives twice.
    assert_eq!(sim.node::<ScriptedHost>(a).echo_replies().len(), 4);
    let c = sim.counters();
    assert_eq!((c.sent, c.delivered, c.duplicated), (3, 6, 3));
}

#[test]
fn reordering_lets_later_frames_overtake() {
    let link = LinkConfig {
        reorder_ppm: 300_000,
        ..LinkConfig::ideal()
    };
    let (mut sim, a, b) = two_hosts("selftest-reorder", 4, link);
    burst(&mut sim, a, b, 20);
    sim.run_for(Duration::from_secs(1));
    let seqs = request_seqs(sim.node::<ScriptedHost>(b));
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(sorted, (0..20).collect::<Vec<_>>(), "nothing lost");
    assert_ne!(seqs, sorted, "some frames were overtaken");
    assert!(sim.counters().reordered > 0);

    let (mut sim, a, b) = two_hosts("selftest-no-reorder", 4, LinkConfig::ideal());
    burst(&mut sim, a, b, 20);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        request_seqs(sim.node::<ScriptedHost>(b)),
        (0..20).collect::<Vec<_>>(),
        "equal delivery times keep sending order"
    );
}

/// A busy, lossy scenario; returns its pcap bytes.
fn lossy_scenario(name: &str, seed: u64) -> Vec<u8> {
    let link = LinkConfig {
        latency: ms(2),
        jitter: ms(5),
        loss_ppm: 100_000,
        duplicate_ppm: 100_000,
        reorder_ppm: 100_000,
    };
    let (mut sim, a, b) = two_hosts(name, seed, link);
    let r = sim.add(ScriptedRouter::new(
        mac(0x01),
        RouterConfig {
            interval: Some(Duration::from_secs(3)),
            ..RouterConfig::default()
        },
    ));
    let r_ll = sim.node::<ScriptedRouter>(r).link_local();
    for round in 0..10 {
        burst(&mut sim, a, b, 5);
        let now = sim.now();
        host(&mut sim, b).send_ns(now, r_ll);
        if round % 3 == 0 {
            host(&mut sim, a).send_rs(now);
        }
        sim.run_for(Duration::from_secs(1));
    }
    let path = sim.pcap_path().to_path_buf();
    let sent = sim.counters().sent;
    drop(sim);
    let bytes = std::fs::read(&path).unwrap();
    let cap = pcap::read(&bytes[..]).unwrap();
    assert_eq!(
        cap.records.len() as u64,
        sent,
        "every frame is in the pcap once"
    );
    bytes
}

#[test]
fn same_seed_gives_identical_pcaps() {
    let one = lossy_scenario("selftest-determinism-1", 42);
    let two = lossy_scenario("selftest-determinism-2", 42);
    assert!(one.len() > 24 + 100 * 60, "the scenario exchanged frames");
    assert!(one == two, "same seed, different pcap bytes");
}

#[test]
fn different_seed_with_jitter_gives_different_pcaps() {
    let one = lossy_scenario("selftest-seed-1", 42);
    let other = lossy_scenario("selftest-seed-2", 43);
    assert!(one != other, "the seed does not reach the link model");
}

#[test]
fn pcap_timestamps_are_virtual_time() {
    let (mut sim, a, b) = two_hosts("selftest-timestamps", 5, LinkConfig::ideal());
    sim.run_until(Instant::from_secs(3600));
    burst(&mut sim, a, b, 1);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.now(), Instant::from_secs(3610));
    let path = sim.pcap_path().to_path_buf();
    drop(sim);
    let cap = pcap::read(std::fs::File::open(path).unwrap()).unwrap();
    let times: Vec<u64> = cap.records.iter().map(|r| r.time_ns).collect();
    assert_eq!(times, [3_600_000_000_000, 3_600_001_000_000]);
}

#[test]
fn virtual_time_jumps_over_idle_periods() {
    let mut sim = Sim::new("selftest-router-periodic", 6, LinkConfig::ideal());
    let r = sim.add(ScriptedRouter::new(mac(0x01), RouterConfig::default()));
    let h = sim.add(ScriptedHost::new(mac(0x10)));
    sim.run_for(Duration::from_secs(24 * 3600));
    // One at start, then every 200 s: at 0, 200, ..., 86400. Events at the
    // end instant are processed, so the last RA is sent but still in flight.
    assert_eq!(sim.node::<ScriptedRouter>(r).ras_sent(), 433);
    assert_eq!(sim.counters().sent, 433);
    assert_eq!(sim.node::<ScriptedHost>(h).inbox().len(), 432);
    sim.run_for(ms(1));
    assert_eq!(sim.node::<ScriptedHost>(h).inbox().len(), 433);
}

#[test]
fn router_answers_rs_with_ra() {
    let mut sim = Sim::new("selftest-router-rs", 7, LinkConfig::ideal());
    let config = RouterConfig {
        interval: None,
        solicited_delay: ms(500),
        mtu: Some(1480),
        router_lifetime: 600,
        ..RouterConfig::default()
    };
    let r = sim.add(ScriptedRouter::new(mac(0x01), config));
    let h = sim.add(ScriptedHost::new(mac(0x10)));
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.counters().sent, 0, "no unsolicited RAs");

    let now = sim.now();
    host(&mut sim, h).send_rs(now);
    sim.run_for(Duration::from_secs(10));
    let router = sim.node::<ScriptedRouter>(r);
    assert_eq!((router.rs_received(), router.ras_sent()), (1, 1));
    let r_ll = router.link_local();
    let inbox = sim.node::<ScriptedHost>(h).inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].at, Instant::from_secs(10) + ms(1 + 500 + 1));
    assert_eq!(inbox[0].src, r_ll);
    let Some(Ok(Message::RouterAdvert(ra))) = inbox[0].message() else {
        panic!("expected a valid RA, got {:?}", inbox[0].message());
    };
    assert_eq!((ra.router_lifetime, ra.cur_hop_limit), (600, 64));
    assert_eq!(ra.options.source_link_addr(), Some(mac(0x01)));
    let opts: Vec<_> = ra.options.iter().map(Result::unwrap).collect();
    assert!(opts.contains(&NdOption::Mtu(1480)));
    assert!(opts.iter().any(|o| matches!(o,
        NdOption::PrefixInfo(p) if p.prefix == router::DEFAULT_PREFIX && p.autonomous)));

    // Retire the router: lifetime 0, announced at once.
    let router = sim.node_mut::<ScriptedRouter>(r);
    router.config_mut().router_lifetime = 0;
    router.advertise_now();
    sim.run_for(Duration::from_secs(1));
    let last = sim.node::<ScriptedHost>(h).inbox().last().unwrap().clone();
    let Some(Ok(Message::RouterAdvert(ra))) = last.message() else {
        panic!("expected an RA");
    };
    assert_eq!(ra.router_lifetime, 0);
}

#[test]
fn router_answers_ns_as_a_router_and_silence_stops_it() {
    let mut sim = Sim::new("selftest-router-ns", 8, LinkConfig::ideal());
    let r = sim.add(ScriptedRouter::new(mac(0x01), RouterConfig::default()));
    let h = sim.add(ScriptedHost::new(mac(0x10)));
    let r_ll = sim.node::<ScriptedRouter>(r).link_local();
    sim.run_for(ms(10));
    let now = sim.now();
    host(&mut sim, h).send_ns(now, r_ll);
    sim.run_for(ms(10));
    let na = sim.node::<ScriptedHost>(h).inbox().last().unwrap().clone();
    let Some(Ok(Message::NeighborAdvert(na))) = na.message() else {
        panic!("expected an NA");
    };
    assert!(na.router_flag && na.solicited_flag);

    sim.node_mut::<ScriptedRouter>(r).set_silent(true);
    let before = sim.counters().sent;
    let now = sim.now();
    host(&mut sim, h).send_ns(now, r_ll);
    host(&mut sim, h).send_rs(now);
    sim.run_for(Duration::from_secs(1000));
    assert_eq!(sim.counters().sent, before + 2, "only the host's NS and RS");
}

#[test]
fn dad_probe_is_answered_to_all_nodes() {
    let (mut sim, a, b) = two_hosts("selftest-dad", 9, LinkConfig::ideal());
    let b_ll = sim.node::<ScriptedHost>(b).link_local();
    let group = UnicastAddr::new(b_ll).unwrap().solicited_node();
    let probe = Message::NeighborSolicit(ndp_core::wire::NeighborSolicit {
        target: b_ll,
        options: ndp_core::wire::Options::EMPTY,
    });
    let frame = packet::icmpv6_frame(
        mac(0x10),
        group.mac(),
        Ipv6Addr::UNSPECIFIED,
        group.get(),
        255,
        &probe,
    );
    host(&mut sim, a).send_raw(frame);
    sim.run_for(ms(10));
    let got = sim.node::<ScriptedHost>(a).inbox()[0].clone();
    assert_eq!(got.dst, "ff02::1".parse::<Ipv6Addr>().unwrap());
    let Some(Ok(Message::NeighborAdvert(na))) = got.message() else {
        panic!("expected an NA");
    };
    assert!(!na.solicited_flag && na.override_flag);
    assert_eq!(na.options.target_link_addr(), Some(mac(0x20)));
}

#[test]
fn silent_host_and_ns_knob() {
    let (mut sim, a, b) = two_hosts("selftest-silent", 10, LinkConfig::ideal());
    let b_ll = sim.node::<ScriptedHost>(b).link_local();
    host(&mut sim, b).set_answer_ns(false);
    let now = sim.now();
    host(&mut sim, a).send_ns(now, b_ll);
    sim.run_for(ms(10));
    assert_eq!(sim.node::<ScriptedHost>(a).neighbor(b_ll), None);
    assert_eq!(sim.node::<ScriptedHost>(b).inbox().len(), 1, "recorded");

    host(&mut sim, b).set_silent(true);
    burst(&mut sim, a, b, 3);
    sim.run_for(ms(10));
    assert_eq!(sim.node::<ScriptedHost>(b).inbox().len(), 1, "nothing new");
    assert!(sim.node::<ScriptedHost>(a).echo_replies().is_empty());
}

#[test]
fn scripted_peers_survive_a_flood_of_garbage() {
    let mut sim = Sim::new("selftest-garbage", 11, LinkConfig::ideal());
    let r = sim.add(ScriptedRouter::new(mac(0x01), RouterConfig::default()));
    let h = sim.add(ScriptedHost::new(mac(0x10)));
    let (r_ll, h_ll) = (
        sim.node::<ScriptedRouter>(r).link_local(),
        sim.node::<ScriptedHost>(h).link_local(),
    );
    // Valid frames the peers react to, to mutate.
    let mut templates = Vec::new();
    for target in [r_ll, h_ll] {
        let mut tmp = ScriptedHost::new(mac(0x30));
        tmp.send_ns(Instant::ZERO, target);
        tmp.send_rs(Instant::ZERO);
        tmp.send_echo(Instant::ZERO, target, mac(0x01), 1, 1);
        while let Some(f) = tmp.poll_transmit(Instant::ZERO) {
            templates.push(f);
        }
    }
    let mut rng = Rng::new(99);
    for i in 0..3000 {
        let mut f = if i % 4 == 0 {
            let mut f = vec![0; rng.below(120) as usize];
            rng.fill(&mut f);
            f
        } else {
            templates[rng.below(templates.len() as u32) as usize].clone()
        };
        for _ in 0..rng.in_range(1, 4) {
            match rng.below(3) {
                0 if !f.is_empty() => {
                    let at = rng.below(f.len() as u32) as usize;
                    f[at] ^= 1 << rng.below(8);
                }
                1 => f.truncate(rng.below(f.len() as u32 + 1) as usize),
                _ => f.push(rng.next_u64() as u8),
            }
        }
        sim.inject_broken(f);
        if i % 100 == 0 {
            sim.run_for(ms(1));
        }
    }
    sim.run_for(Duration::from_secs(1));
    // Still working: a clean NS is answered.
    let now = sim.now();
    host(&mut sim, h).send_ns(now, r_ll);
    sim.run_for(ms(10));
    assert_eq!(sim.node::<ScriptedHost>(h).neighbor(r_ll), Some(mac(0x01)));
    let broken = sim.pcap_path().with_extension("broken-frames");
    drop(sim);
    let listed = std::fs::read_to_string(broken).unwrap();
    assert_eq!(listed.lines().filter(|l| !l.starts_with('#')).count(), 3000);
}

/// Asks to be woken at time zero forever and never sends anything.
struct Spinner;

impl Node for Spinner {
    fn mac(&self) -> MacAddr {
        mac(0x99)
    }
    fn receive(&mut self, _: Instant, _: &[u8]) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Vec<u8>> {
        None
    }
    fn poll_at(&self) -> Option<Instant> {
        Some(Instant::ZERO)
    }
}

#[test]
#[should_panic(expected = "asks to be woken at 0.000s <= now (0.000s) but has nothing to do: spin")]
fn spinning_node_is_caught() {
    let mut sim = Sim::new("selftest-spin", 12, LinkConfig::ideal());
    sim.add(ScriptedHost::new(mac(0x10)));
    sim.add(Spinner);
    sim.run_for(Duration::from_secs(1));
}

/// Sends one echo request at start, then re-sends every frame it receives.
struct Parrot {
    mac: MacAddr,
    out: Vec<Vec<u8>>,
}

impl Parrot {
    fn new(mac: MacAddr, peer: MacAddr) -> Self {
        let (src, dst) = (packet::link_local(mac), packet::link_local(peer));
        let icmp = packet::echo_request(src, dst, 1, 1, b"loop");
        let f = packet::ipv6_frame(mac, peer, src, dst, packet::NH_ICMPV6, 64, &icmp);
        Parrot { mac, out: vec![f] }
    }
}

impl Node for Parrot {
    fn mac(&self) -> MacAddr {
        self.mac
    }
    fn receive(&mut self, _: Instant, frame: &[u8]) {
        self.out.push(frame.to_vec());
    }
    fn poll_transmit(&mut self, _: Instant) -> Option<Vec<u8>> {
        self.out.pop()
    }
    fn poll_at(&self) -> Option<Instant> {
        None
    }
}

#[test]
#[should_panic(expected = "runaway: more than 1000 events")]
fn endless_ping_pong_is_stopped() {
    let link = LinkConfig {
        latency: Duration::ZERO,
        ..LinkConfig::ideal()
    };
    let mut sim = Sim::new("selftest-runaway", 13, link);
    sim.set_event_limit(1000);
    sim.add(Parrot::new(mac(0x10), mac(0x20)));
    sim.add(Parrot::new(mac(0x20), mac(0x10)));
    sim.run_for(Duration::from_secs(1));
}

#[test]
#[should_panic(
    expected = "is a ndp_tests::sim::host::ScriptedHost, not a ndp_tests::sim::router::ScriptedRouter"
)]
fn wrong_node_type_is_a_clear_panic() {
    let (mut sim, a, _) = two_hosts("selftest-wrong-type", 14, LinkConfig::ideal());
    sim.node_mut::<ScriptedRouter>(a);
}
