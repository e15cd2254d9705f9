//! Attacks on a host without SEND, on the simulated link (issue 11):
//! THC-IPv6 style tools against one ndp-core device that shares its
//! segment with a router and legitimate peers.
//!
//! - ndpexhaust: thousands of spoofed on-link sources ping the device, so
//!   that it must resolve every one of them to answer (and more pings
//!   scan the rest of the /64 through its MAC);
//! - an RS flood (hosts silently discard Router Solicitations);
//! - an MLD flood: queries of both versions with absurd delays, other
//!   listeners' reports and dones, malformed ones;
//! - parasite6: every Neighbor Solicitation, DAD probes included, answered
//!   with an overriding advertisement for the attacker's MAC;
//! - kill_router6: Router Advertisements with lifetime 0 spoofing the
//!   real router.
//!
//! Without SEND (RFC 3971) nothing in a message tells a host whether it is
//! forged: the last two attacks succeed by design of RFC 4861 and these
//! scenarios pin down what the engine does about them, while the first
//! three must leave the device working. Each scenario writes its pcap to
//! `<target>/sim-pcap/` and its figures (println! and one line in
//! `<target>/sim-pcap/attack-figures.txt`, replaced on every run).

use core::net::Ipv6Addr;
use std::collections::BTreeSet;
use std::sync::Mutex;

use ndp_core::addr::{ADDRESSES, AddrState, Origin};
use ndp_core::neighbor::{MAX_MULTICAST_SOLICIT, Neighbor, NeighborState};
use ndp_core::rng::Rng;
use ndp_core::router::{PREFIXES, ROUTERS, ROUTES};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{
    AddrList, MacAddr, Message, MldQuery, MldQueryV2, MldRecord, MldV1, MldV2Report, MulticastAddr,
    NdOption, Options, Preference, RecordList, RecordType, RouterAdvert, RouterSolicit,
    parse_received,
};
use ndp_core::{Config, Dispatch, Event, RouteError, SendError, Stats};
use ndp_tests::frame::ETHERTYPE_IPV6;
use ndp_tests::packet::{self, ND_HOP_LIMIT, NH_ICMPV6};
use ndp_tests::sim::parasite::{Parasite, na_frame};
use ndp_tests::sim::router::DEFAULT_PREFIX;
use ndp_tests::sim::{
    EngineNode, LinkConfig, Node, RouterConfig, ScriptedHost, ScriptedRouter, Sim, pcap_dir,
};

/// The device under attack.
const HOST: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
const ROUTER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
const PEER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x11]);
const PEER2: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x12]);
const ATTACKER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x66]);
/// The listener that records what the device sends.
const TAP: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0xfe]);
/// The link's latency ([`LinkConfig::ideal`]).
const LATENCY: Duration = Duration::from_millis(1);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn ms(n: u32) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u32) -> Duration {
    Duration::from_secs(n)
}

/// An address in the router's on-link prefix with interface identifier
/// `iid`.
fn on_link(iid: u64) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(DEFAULT_PREFIX) | u128::from(iid))
}

/// A random unicast, locally administered MAC.
fn random_mac(rng: &mut Rng) -> MacAddr {
    let mut m = [0u8; 6];
    rng.fill(&mut m);
    m[0] = (m[0] & 0xfc) | 0x02;
    MacAddr(m)
}

/// A random link-local address.
fn random_link_local(rng: &mut Rng) -> Ipv6Addr {
    Ipv6Addr::from((0xfe80u128 << 112) | u128::from(rng.next_u64()))
}

/// The device's preferred SLAAC address.
fn global_of<const N: usize, const QS: usize, const QB: usize>(
    e: &EngineNode<N, QS, QB>,
) -> Ipv6Addr {
    e.stack()
        .addresses()
        .find(|x| x.origin == Origin::Slaac && x.state == AddrState::Preferred)
        .map(|x| x.addr.get())
        .expect("the device formed a global address")
}

fn neighbor<const N: usize, const QS: usize, const QB: usize>(
    e: &EngineNode<N, QS, QB>,
    addr: Ipv6Addr,
) -> Option<Neighbor> {
    e.stack().neighbors().find(|n| n.addr == addr)
}

/// A counter's growth since `before`.
fn delta(before: &Stats, after: &Stats, f: fn(&Stats) -> u32) -> u32 {
    f(after) - f(before)
}

/// A counter of the `rx_invalid` group by name.
fn invalid(s: &Stats, name: &str) -> u32 {
    s.iter()
        .find(|(g, n, _)| *g == "rx_invalid" && *n == name)
        .map(|(_, _, v)| v)
        .unwrap_or_else(|| panic!("no rx_invalid counter {name}"))
}

/// Print a scenario's figures and keep them, one line per scenario, in
/// `<target>/sim-pcap/attack-figures.txt` (sorted, so the file does not
/// depend on the order the tests ran in).
fn report(scenario: &str, figures: &str) {
    static FILE: Mutex<()> = Mutex::new(());
    let line = format!("{scenario}: {figures}");
    println!("{line}");
    let _guard = FILE.lock().unwrap_or_else(|e| e.into_inner());
    let path = pcap_dir().join("attack-figures.txt");
    let key = format!("{scenario}: ");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<&str> = old.lines().filter(|l| !l.starts_with(&key)).collect();
    lines.push(&line);
    lines.sort_unstable();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

// ------------------------------------------------------------------ the tap

/// What a frame of the device is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    /// A multicast Neighbor Solicitation: address resolution.
    ResolutionNs,
    /// A unicast Neighbor Solicitation: a NUD probe.
    ProbeNs,
    /// A Neighbor Solicitation from `::`.
    DadNs,
    Na,
    Rs,
    /// An MLDv2 report's records.
    MldV2(Vec<(RecordType, Ipv6Addr)>),
    MldV1Report(Ipv6Addr),
    MldV1Done(Ipv6Addr),
    /// An echo request to this MAC.
    EchoRequest(MacAddr),
    EchoReply,
    Other,
}

fn classify(frame: &[u8]) -> Sent {
    let Some(f) = packet::parse_icmpv6(frame) else {
        return Sent::Other;
    };
    if let Some(e) = packet::parse_echo(f.meta.src, f.meta.dst, f.icmp) {
        return if e.request {
            Sent::EchoRequest(f.dst_mac)
        } else {
            Sent::EchoReply
        };
    }
    match parse_received(&f.meta, f.icmp) {
        Ok(Message::NeighborSolicit(_)) if f.meta.src.is_unspecified() => Sent::DadNs,
        Ok(Message::NeighborSolicit(_)) if f.meta.dst.is_multicast() => Sent::ResolutionNs,
        Ok(Message::NeighborSolicit(_)) => Sent::ProbeNs,
        Ok(Message::NeighborAdvert(_)) => Sent::Na,
        Ok(Message::RouterSolicit(_)) => Sent::Rs,
        Ok(Message::MldV2Report(r)) => {
            Sent::MldV2(r.records.iter().map(|x| (x.record_type, x.group)).collect())
        }
        Ok(Message::MldV1Report(m)) => Sent::MldV1Report(m.group),
        Ok(Message::MldV1Done(m)) => Sent::MldV1Done(m.group),
        _ => Sent::Other,
    }
}

impl Sent {
    fn is_mld(&self) -> bool {
        matches!(
            self,
            Sent::MldV2(_) | Sent::MldV1Report(_) | Sent::MldV1Done(_)
        )
    }
}

/// A silent station that records every frame the device sends, with the
/// time it was sent.
struct Tap {
    device: MacAddr,
    sent: Vec<(Instant, Sent)>,
}

impl Tap {
    fn new(device: MacAddr) -> Self {
        Tap {
            device,
            sent: Vec::new(),
        }
    }

    /// Frames sent in `[from, to)` that `f` selects.
    fn count(&self, from: Instant, to: Instant, f: impl Fn(&Sent) -> bool) -> usize {
        self.sent
            .iter()
            .filter(|(t, s)| (from..to).contains(t) && f(s))
            .count()
    }

    /// Times of the frames `f` selects.
    fn times(&self, f: impl Fn(&Sent) -> bool) -> Vec<Instant> {
        self.sent
            .iter()
            .filter(|(_, s)| f(s))
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Node for Tap {
    fn mac(&self) -> MacAddr {
        TAP
    }
    fn receive(&mut self, now: Instant, frame: &[u8]) {
        if frame.get(6..12) == Some(&self.device.0[..]) {
            self.sent.push((now - LATENCY, classify(frame)));
        }
    }
    fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
        None
    }
    fn poll_at(&self) -> Option<Instant> {
        None
    }
}

/// The most events of `times` (sorted) in any window of length `w`.
fn max_in_window(times: &[Instant], w: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].saturating_duration_since(times[start]) >= w {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

// ------------------------------------------------------------ 1. ndpexhaust

/// ndpexhaust (THC-IPv6's ndpexhaust6) sends packets to random addresses
/// of a /64 so that a router must resolve each. A host resolves only what
/// it sends to, so the same attack on a host pings it from random on-link
/// sources: each echo reply needs the address resolution of a spoofed
/// source that never answers. A quarter of the scan also goes through the
/// device's MAC to other addresses of the /64, which it must ignore.
///
/// RFC 6583 §6 defences in the engine: at most `max_incomplete` (half the
/// table) unresolved entries, a global budget of `ns_burst` multicast
/// solicitations refilled one per `ns_refill`, and a full table giving up
/// only STALE entries nobody uses, never a router or a REACHABLE entry.
///
/// Run against a device of `N` neighbor entries, `QS` queue slots and
/// `QB` queue bytes; returns the multicast solicitations postponed by the
/// budget.
fn ndpexhaust<const N: usize, const QS: usize, const QB: usize>(name: &str, seed: u64) -> u32 {
    type Dev<const N: usize, const QS: usize, const QB: usize> = EngineNode<N, QS, QB>;
    const SCAN: u32 = 20_000;
    const PER_MS: u32 = 2;
    let mut sim = Sim::new(name, seed, LinkConfig::ideal());
    let h = sim.add(Dev::<N, QS, QB>::with_config(Config::stable(
        HOST,
        seed * 10 + 1,
        [0; 16],
    )));
    sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(secs(30)),
            ..RouterConfig::default()
        },
    ));
    let peer_addr = on_link(0x99);
    let p = sim.add(ScriptedHost::new(PEER).with_address(peer_addr));
    let tap = sim.add(Tap::new(HOST));
    sim.run_for(secs(5));
    let global = global_of(sim.node::<Dev<N, QS, QB>>(h));
    let r_ll = packet::link_local(ROUTER);
    let capacity = N;

    // Every 100 ms: the device pings the peer and the router, the peer
    // pings the device.
    let mut round = 0u16;
    let mut pings = |sim: &mut Sim| {
        let now = sim.now();
        let dev = sim.node_mut::<Dev<N, QS, QB>>(h);
        dev.send_echo_from(now, global, peer_addr, 1, round)
            .unwrap();
        dev.send_echo(now, r_ll, 2, round).unwrap();
        sim.node_mut::<ScriptedHost>(p)
            .send_echo(now, global, HOST, 3, round);
        round += 1;
    };
    pings(&mut sim);
    sim.run_for(ms(100));
    let before = sim.node::<Dev<N, QS, QB>>(h).stack().stats().clone();
    let requests_before = sim.node::<Dev<N, QS, QB>>(h).echo_requests().len();
    let errors_before = sim.node::<Dev<N, QS, QB>>(h).send_errors().len();

    let mut rng = Rng::new(seed * 100 + 1);
    let start = sim.now();
    let mut nc_max = 0;
    let mut scanned = 0u32;
    let mut to_device = 0u32;
    while scanned < SCAN {
        for _ in 0..PER_MS {
            let src = on_link(rng.next_u64());
            let dst = if scanned % 4 == 3 {
                on_link(rng.next_u64())
            } else {
                to_device += 1;
                global
            };
            let icmp = packet::echo_request(src, dst, 0x5ca7, scanned as u16, b"ndpexhaust");
            sim.inject(packet::ipv6_frame(
                random_mac(&mut rng),
                HOST,
                src,
                dst,
                NH_ICMPV6,
                64,
                &icmp,
            ));
            scanned += 1;
        }
        sim.run_for(ms(1));
        if sim
            .now()
            .saturating_duration_since(start)
            .as_millis()
            .is_multiple_of(100)
        {
            pings(&mut sim);
        }
        // After every millisecond: the cache within its capacity, and
        // the router and the peer in it with their MACs.
        let dev = sim.node::<Dev<N, QS, QB>>(h);
        let n = dev.stack().neighbors().count();
        nc_max = nc_max.max(n);
        assert!(n <= capacity, "{n} entries at {}", sim.now());
        for (addr, mac) in [(r_ll, ROUTER), (peer_addr, PEER)] {
            let e = neighbor(dev, addr);
            assert_eq!(
                e.and_then(|e| e.mac),
                Some(mac),
                "{addr} at {}: {e:?}",
                sim.now()
            );
        }
    }
    let end = sim.now();
    // Let the last resolutions fail (later than MAX_MULTICAST_SOLICIT
    // RetransTimers when the budget postpones their solicitations) and
    // the last pings come back.
    let retrans = sim.node::<Dev<N, QS, QB>>(h).stack().retrans_timer();
    sim.run_for(retrans.saturating_mul(u32::from(MAX_MULTICAST_SOLICIT)) + secs(1));
    while sim
        .node::<Dev<N, QS, QB>>(h)
        .stack()
        .neighbors()
        .any(|n| n.state == NeighborState::Incomplete)
    {
        assert!(sim.now() < end + secs(60), "resolutions never end");
        sim.run_for(ms(100));
    }

    let dev = sim.node::<Dev<N, QS, QB>>(h);
    let s = dev.stack().stats();
    let d = |f: fn(&Stats) -> u32| delta(&before, s, f);
    // No ping lost, either way.
    let sent = usize::from(round);
    let replies = |src: Ipv6Addr, id: u16| {
        dev.echo_replies()
            .iter()
            .filter(|(_, from, e)| *from == src && e.id == id)
            .count()
    };
    let peer_replies = sim
        .node::<ScriptedHost>(p)
        .echo_replies()
        .iter()
        .filter(|(_, from, e)| *from == global && e.id == 3)
        .count();
    let lost = 3 * sent - replies(peer_addr, 1) - replies(r_ll, 2) - peer_replies;
    assert_eq!(lost, 0, "pings lost during the scan");

    // The device answered every ping to its address and ignored the rest
    // of the scan.
    let requests = dev.echo_requests().len() - requests_before;
    let spoofed = requests - (sent - 1);
    assert_eq!(spoofed, to_device as usize);
    // Each answer to a spoofed source was queued for resolution (which
    // failed: its packet counted in queue_unresolved, or replaced by a
    // newer one) or refused at once, so nothing is left over.
    let errors = &dev.send_errors()[errors_before..];
    let too_many = errors
        .iter()
        .filter(|(_, e)| *e == SendError::Route(RouteError::TooManyUnresolved))
        .count();
    assert_eq!(
        d(|s| s.queue_unresolved) as usize + d(|s| s.queue_overflow) as usize + errors.len(),
        spoofed,
        "{s:?}"
    );
    assert_eq!(d(|s| s.resolution_refused) as usize, too_many);
    assert!(too_many > spoofed / 2, "most were refused: {too_many}");
    assert_eq!(dev.stack().queued_packets(), 0);
    let failed: u32 = dev
        .events()
        .iter()
        .filter(|(t, _)| *t >= start)
        .filter_map(|(_, e)| match e {
            Event::ResolutionFailed { dropped, .. } => Some(u32::from(*dropped)),
            _ => None,
        })
        .sum();
    assert_eq!(failed, d(|s| s.queue_unresolved));

    // Multicast solicitations within the budget: at most ns_burst plus
    // one per ns_refill in any window.
    let config = dev.stack().config();
    let refill = config.ns_refill.as_millis();
    let burst = u32::from(config.ns_burst);
    let ns = sim
        .node::<Tap>(tap)
        .times(|s| *s == Sent::ResolutionNs)
        .into_iter()
        .filter(|t| *t >= start)
        .collect::<Vec<_>>();
    let per_s = max_in_window(&ns, secs(1));
    assert!(per_s as u32 <= burst + 1000 / refill, "{per_s} NS in 1 s");
    let span = sim.now().saturating_duration_since(start).as_millis();
    assert!(ns.len() as u32 <= burst + span / refill);
    assert_eq!(ns.len() as u32, d(|s| s.tx_ns_multicast));
    // Every resolution ran its course: MAX_MULTICAST_SOLICIT
    // solicitations, then failure.
    assert_eq!(
        d(|s| s.tx_ns_multicast) % u32::from(MAX_MULTICAST_SOLICIT),
        0
    );
    let scan_s = end.saturating_duration_since(start).as_millis() as f64 / 1000.0;
    let avg = ns.len() as f64 * 1000.0 / span as f64;
    report(
        name,
        &format!(
            "{SCAN} frames in {scan_s:.0} s ({to_device} pings to the device from spoofed on-link \
             sources), nc max {nc_max}/{capacity}, ping loss {lost}/{}, multicast NS {} \
             (avg {avg:.1}/s over {span} ms, max {per_s} in 1 s; budget {}/s + burst {burst}), resolution refused {}, \
             postponed by the budget {}, unresolved {}, queue overflow {}, nc evicted {}, \
             events_dropped {}",
            3 * sent,
            ns.len(),
            1000 / refill,
            d(|s| s.resolution_refused),
            d(|s| s.ns_rate_limited),
            d(|s| s.queue_unresolved),
            d(|s| s.queue_overflow),
            d(|s| s.nc_evicted),
            d(|s| s.events_dropped),
        ),
    );
    d(|s| s.ns_rate_limited)
}

/// The default device: its 4 unresolved entries at most (half of 8)
/// need fewer solicitations than the budget allows.
#[test]
fn ndpexhaust_spoofed_sources_cannot_fill_the_cache_or_stop_the_pings() {
    ndpexhaust::<8, 4, 3072>("attack-ndpexhaust", 71);
}

/// A device with 32 entries: 16 unresolved ones would solicit 16 times a
/// second, so the global budget is what holds the rate.
#[test]
fn ndpexhaust_on_a_larger_table_is_held_by_the_solicitation_budget() {
    let postponed = ndpexhaust::<32, 16, 8192>("attack-ndpexhaust-32", 77);
    assert!(postponed > 0);
}

// ------------------------------------------------------------- 2. RS flood

/// A Router Solicitation: from `src` (with SLLA when `slla`) to `dst`.
fn rs_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    slla: bool,
) -> Vec<u8> {
    let opts = [NdOption::SourceLinkAddr(src_mac)];
    let options = if slla {
        Options::from_list(&opts)
    } else {
        Options::EMPTY
    };
    let m = Message::RouterSolicit(RouterSolicit { options });
    packet::icmpv6_frame(src_mac, dst_mac, src, dst, ND_HOP_LIMIT, &m)
}

/// RFC 4861 §6.1.1: hosts silently discard Router Solicitations (only
/// routers process them, §6.2.6). A flood from many
/// sources, with link-layer options, must cost the device nothing: no
/// frame, no neighbor entry (the engine drops an RS before looking at its
/// options), each one counted.
///
/// Solicitations to ff02::2 never reach the engine: the device does not
/// listen to that group, so its NIC filter drops them.
#[test]
fn rs_flood_is_discarded_silently() {
    const FLOOD: u32 = 10_000;
    let name = "attack-rs-flood";
    let mut sim = Sim::new(name, 72, LinkConfig::ideal());
    let h = sim.add(EngineNode::new(HOST, 721));
    // The router answers solicitations at most every 3 s
    // (MIN_DELAY_BETWEEN_RAS, RFC 4861 §6.2.6).
    sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            solicited_delay: secs(3),
            ..RouterConfig::default()
        },
    ));
    let tap = sim.add(Tap::new(HOST));
    // Boot: DAD, MLD reports, gratuitous NAs are over after 10 s.
    sim.run_for(secs(10));
    let dev = sim.node::<EngineNode>(h);
    let ll = dev.link_local();
    let before = dev.stack().stats().clone();
    let cache_before: Vec<Neighbor> = dev.stack().neighbors().collect();
    let routers_before = dev.stack().routers().count();
    assert_eq!(routers_before, 1);

    let mut rng = Rng::new(7201);
    let all_nodes = MulticastAddr::ALL_NODES;
    let all_routers = MulticastAddr::ALL_ROUTERS;
    let start = sim.now();
    // Per kind: to ff02::2 (the NIC drops them), to ff02::1, to the
    // device's address, from :: without SLLA, and from :: with SLLA
    // (invalid, RFC 4861 §6.1.1).
    let mut sent = [0u32; 5];
    for i in 0..FLOOD {
        let mac = random_mac(&mut rng);
        let src = random_link_local(&mut rng);
        let u = Ipv6Addr::UNSPECIFIED;
        let kind = (i % 5) as usize;
        sim.inject(match kind {
            0 => rs_frame(mac, all_routers.mac(), src, all_routers.get(), true),
            1 => rs_frame(mac, all_nodes.mac(), src, all_nodes.get(), true),
            2 => rs_frame(mac, HOST, src, ll, true),
            3 => rs_frame(mac, all_nodes.mac(), u, all_nodes.get(), false),
            _ => rs_frame(mac, all_nodes.mac(), u, all_nodes.get(), true),
        });
        sent[kind] += 1;
        if i % 10 == 9 {
            sim.run_for(ms(1));
        }
    }
    let filtered = sent[0];
    let discarded = sent[1] + sent[2] + sent[3];
    let invalid_slla = sent[4];
    sim.run_for(secs(5));

    let dev = sim.node::<EngineNode>(h);
    let s = dev.stack().stats();
    let d = |f: fn(&Stats) -> u32| delta(&before, s, f);
    let frames = sim.node::<Tap>(tap).count(start, sim.now(), |_| true);
    assert_eq!(frames, 0, "the device answered a solicitation");
    assert_eq!(d(|s| s.rx_rs_ignored), discarded);
    assert_eq!(
        invalid(s, "unspecified_source_with_link_addr")
            - invalid(&before, "unspecified_source_with_link_addr"),
        invalid_slla
    );
    assert_eq!(s.dropped() - before.dropped(), u64::from(FLOOD - filtered));
    // No entry from their link-layer options, nothing else changed.
    assert_eq!(dev.stack().neighbors().collect::<Vec<_>>(), cache_before);
    assert_eq!(dev.stack().routers().count(), routers_before);
    assert_eq!(d(|s| s.nc_evicted) + d(|s| s.nc_create_refused), 0);
    // And it still answers.
    let now = sim.now();
    let r_ll = packet::link_local(ROUTER);
    sim.node_mut::<EngineNode>(h)
        .send_echo(now, r_ll, 1, 1)
        .unwrap();
    sim.run_for(ms(100));
    assert_eq!(sim.node::<EngineNode>(h).echo_replies().len(), 1);
    report(
        name,
        &format!(
            "{FLOOD} frames in {} ms, {filtered} dropped by the NIC filter (ff02::2), \
             rx_rs_ignored {discarded}, invalid (:: with SLLA) {invalid_slla}, frames sent 0, \
             neighbor cache unchanged ({} entries)",
            FLOOD / 10,
            cache_before.len()
        ),
    );
}

// ------------------------------------------------------------ 3. MLD flood

/// An MLD message as hosts and routers send it: hop limit `hop_limit`
/// (1 unless broken on purpose) and a Hop-by-Hop Router Alert
/// (RFC 3810 §5, RFC 2711).
fn mld_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Message<'_>,
) -> Vec<u8> {
    let icmp = packet::icmpv6_bytes(src, dst, msg);
    // Next header, length 0 (8 octets), Router Alert (MLD), PadN of 0.
    let mut payload = vec![NH_ICMPV6, 0, 5, 2, 0, 0, 1, 0];
    payload.extend_from_slice(&icmp);
    let ip = packet::ipv6(src, dst, 0, hop_limit, &payload);
    packet::ethernet(dst_mac, src_mac, ETHERTYPE_IPV6, &ip)
}

fn query(group: Ipv6Addr, code: u16, v2: bool) -> Message<'static> {
    Message::MldQuery(MldQuery {
        max_response_code: code,
        group,
        v2: v2.then(|| MldQueryV2 {
            suppress_router_processing: false,
            robustness: 2,
            qqic: 125,
            sources: AddrList::new(&[]),
        }),
    })
}

/// RFC 3810 §6.2: a listener answers a query after a random delay within
/// its Maximum Response Delay; one pending answer to general queries
/// (the earliest wins) and one per group (`ndp_core::mld`). With an
/// MLDv1 querier it answers with one MLDv1 report per group (§8.2.1).
/// Reports and dones of other listeners are ignored (§6).
///
/// So however many queries arrive, the device sends no more reports than
/// it accepted queries, and between two arrivals of queries at most one
/// report per pending timer: in MLDv2, one for general queries plus one
/// per joined group (timers due together share one report); in MLDv1,
/// where a general query is answered group by group, two per group. It
/// says nothing about groups it does not listen to and never leaves one;
/// when the queries stop, what is pending drains within the longest
/// delay and the device falls silent.
///
/// The flood, 5 messages per ms from random link-local sources: general
/// and group-specific queries (for its groups, and for others) with
/// Maximum Response Codes from 0 to 0xffff (8,387 s in MLDv2's
/// floating-point form), MLDv1 and MLDv2 reports and dones for its
/// groups, queries from a global source and with hop limit 255 (both
/// invalid). The first half is MLDv2 only; the second half mixes in
/// MLDv1 queries.
#[test]
fn mld_flood_gets_bounded_answers_and_leaves_the_groups_joined() {
    const PER_PHASE: u32 = 10_000;
    const PER_MS: u32 = 5;
    let name = "attack-mld-flood";
    let mut sim = Sim::new(name, 73, LinkConfig::ideal());
    let h = sim.add(EngineNode::new(HOST, 731));
    sim.add(ScriptedRouter::new(ROUTER, RouterConfig::default()));
    let tap = sim.add(Tap::new(HOST));
    sim.run_for(secs(10));
    let dev = sim.node::<EngineNode>(h);
    let groups: BTreeSet<MulticastAddr> = dev.stack().multicast_groups().collect();
    let reported: Vec<Ipv6Addr> = groups
        .iter()
        .filter(|g| **g != MulticastAddr::ALL_NODES)
        .map(|g| g.get())
        .collect();
    assert!(!reported.is_empty());
    let joined = reported.len();
    let before = dev.stack().stats().clone();

    let mut rng = Rng::new(7301);
    let all_nodes = MulticastAddr::ALL_NODES;
    // Destinations as (MAC, address).
    let all = (all_nodes.mac(), all_nodes.get());
    let mld_routers = (
        MulticastAddr::ALL_MLDV2_ROUTERS.mac(),
        MulticastAddr::ALL_MLDV2_ROUTERS.get(),
    );
    let routers = (
        MulticastAddr::ALL_ROUTERS.mac(),
        MulticastAddr::ALL_ROUTERS.get(),
    );
    let any = Ipv6Addr::UNSPECIFIED;
    let codes = [0u16, 1, 10, 1_000, 10_000, 0x8000, 0xffff];
    let foreign = a("ff02::1:ff00:1234");
    // Arrivals at the device (injection + latency) of valid queries.
    let mut arrivals: Vec<Instant> = Vec::new();
    let (mut filtered, mut ignored, mut bad) = (0u32, 0u32, 0u32);
    let start = sim.now();
    let mut phase_b = start;
    for i in 0..2 * PER_PHASE {
        if i == PER_PHASE {
            phase_b = sim.now();
        }
        let v2 = i < PER_PHASE || (i / 10) % 2 == 0;
        let mac = random_mac(&mut rng);
        let src = random_link_local(&mut rng);
        let ours = reported[(i as usize / 10) % joined];
        let ours_mac = MulticastAddr::new(ours).unwrap().mac();
        let code = codes[(i as usize / 10) % codes.len()];
        let records = |record_type| {
            [MldRecord {
                record_type,
                group: ours,
                sources: AddrList::new(&[]),
                aux_data: &[],
            }]
        };
        let (current, leave) = (
            records(RecordType::ModeIsExclude),
            records(RecordType::ChangeToInclude),
        );
        let v2_report = |r| {
            Message::MldV2Report(MldV2Report {
                records: RecordList::new(r),
            })
        };
        // (destination, source, hop limit, message)
        let (to, from, hop, msg) = match i % 10 {
            // Valid queries: general, for one of its groups, for another.
            0 => (all, src, 1, query(any, code, v2)),
            1 => ((ours_mac, ours), src, 1, query(ours, code, v2)),
            2 => (all, src, 1, query(foreign, code, true)),
            // Other listeners' reports and dones.
            3 => (mld_routers, src, 1, v2_report(&current)),
            4 => (all, src, 1, v2_report(&leave)),
            5 => (
                (ours_mac, ours),
                src,
                1,
                Message::MldV1Report(MldV1 { group: ours }),
            ),
            6 => (routers, src, 1, Message::MldV1Done(MldV1 { group: ours })),
            7 => (all, src, 1, Message::MldV1Done(MldV1 { group: ours })),
            // Invalid queries: global source (RFC 3810 §5.1.14), hop limit
            // 255 (§5).
            8 => (all, on_link(rng.next_u64()), 1, query(any, 0, true)),
            _ => (all, src, 255, query(any, 0, true)),
        };
        match i % 10 {
            0..=2 => arrivals.push(sim.now() + LATENCY),
            3 | 6 => filtered += 1,
            4 | 5 | 7 => ignored += 1,
            _ => bad += 1,
        }
        sim.inject(mld_frame(mac, to.0, from, to.1, hop, &msg));
        if i % PER_MS == PER_MS - 1 {
            sim.run_for(ms(1));
        }
    }
    let end = sim.now();
    // Whatever is pending drains within the largest delay (8,387 s).
    let longest = secs(8_388);
    sim.run_for(secs(3 * 3600));

    let dev = sim.node::<EngineNode>(h);
    let s = dev.stack().stats();
    let d = |f: fn(&Stats) -> u32| delta(&before, s, f);
    let now = sim.now();
    let t = sim.node::<Tap>(tap);
    // Still listening to the same groups.
    assert_eq!(
        dev.stack().multicast_groups().collect::<BTreeSet<_>>(),
        groups
    );
    // Accounting.
    assert_eq!(d(|s| s.rx_mld_query) as usize, arrivals.len());
    assert_eq!(d(|s| s.rx_mld_ignored), ignored);
    let invalid_d = |name| invalid(s, name) - invalid(&before, name);
    assert_eq!(
        invalid_d("source_not_link_local") + invalid_d("mld_hop_limit"),
        bad
    );
    // Only answers about joined groups: current state (MODE_IS_EXCLUDE)
    // or MLDv1 reports; no leave, no other frame.
    let frames: Vec<(Instant, Sent)> = t
        .sent
        .iter()
        .filter(|(at, _)| *at >= start)
        .cloned()
        .collect();
    for (at, f) in &frames {
        match f {
            Sent::MldV2(records) => assert!(
                records
                    .iter()
                    .all(|(k, g)| *k == RecordType::ModeIsExclude && reported.contains(g)),
                "at {at}: {records:?}"
            ),
            Sent::MldV1Report(g) => assert!(reported.contains(g), "at {at}: {g}"),
            other => panic!("at {at}: the device sent {other:?}"),
        }
    }
    let reports: Vec<Instant> = frames.iter().map(|(at, _)| *at).collect();
    let v2 = frames
        .iter()
        .filter(|(_, f)| matches!(f, Sent::MldV2(_)))
        .count();
    let v1 = frames.len() - v2;
    // No more answers than valid queries; and between two arrivals of
    // queries at most one report per pending timer: MLDv2, one for
    // general queries plus one per group (due together, they go in one
    // report); MLDv1, where a general query is answered group by group,
    // two per group.
    assert!(reports.len() <= arrivals.len());
    let mut bounds = arrivals.clone();
    bounds.dedup();
    // After every report.
    bounds.push(sim.now() + Duration::from_millis(1));
    let mut worst = 0;
    for w in bounds.windows(2) {
        let (from, to) = (w[0], w[1]);
        let n = reports.iter().filter(|t| (from..to).contains(t)).count();
        let cap = if from >= phase_b {
            2 * joined
        } else {
            1 + joined
        };
        assert!(n <= cap, "{n} reports in [{from}, {to})");
        worst = worst.max(n);
    }
    // Silent once the longest delay has passed.
    assert_eq!(t.count(end + longest, now, |_| true), 0);
    let after = t.count(end, now, Sent::is_mld);
    let flood_ms = end.saturating_duration_since(start).as_millis();
    let per_s = max_in_window(&reports, secs(1));
    report(
        name,
        &format!(
            "{} frames in {flood_ms} ms ({} valid queries, {ignored} reports/dones ignored, \
             {bad} invalid, {filtered} dropped by the NIC filter), device reports {} \
             ({v2} MLDv2, {v1} MLDv1; max {per_s} in 1 s, max {worst} between two query \
             arrivals, {after} after the flood), {joined} groups still joined, \
             events_dropped {}",
            2 * PER_PHASE,
            arrivals.len(),
            reports.len(),
            d(|s| s.events_dropped),
        ),
    );
}

// ------------------------------------------------------------- 4. parasite6

/// parasite6 against a booting device: every DAD probe is answered, so
/// every address it tries is a duplicate (RFC 4862 §5.4.4). Without SEND
/// a host cannot tell a real owner from a liar; what it can do is not
/// storm, keep its tables bounded and report the failure, which the DAD
/// recovery (being reworked) is about. So this scenario only records
/// figures, asserting no more than that the device does not storm.
#[test]
fn parasite6_answering_dad_probes_makes_addresses_duplicate_until_it_stops() {
    let name = "attack-parasite6-dad";
    let mut sim = Sim::new(name, 74, LinkConfig::ideal());
    let h = sim.add(EngineNode::new(HOST, 741));
    sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(secs(30)),
            ..RouterConfig::default()
        },
    ));
    let atk = sim.add(
        Parasite::new(ATTACKER)
            .answering_resolution()
            .answering_dad(true),
    );
    let tap = sim.add(Tap::new(HOST));
    const RUN_S: u32 = 120;
    sim.run_for(secs(RUN_S));
    let dev = sim.node::<EngineNode>(h);
    let s = dev.stack().stats();
    let frames = sim.node::<Tap>(tap).sent.len();
    let answered = sim.node::<Parasite>(atk).answered;
    assert!(answered > 0);
    assert!(
        frames as u64 <= 10 * u64::from(RUN_S),
        "{frames} frames in {RUN_S} s: a storm"
    );
    assert!(dev.stack().addresses().count() <= ADDRESSES);
    let states: Vec<String> = dev
        .stack()
        .addresses()
        .map(|x| format!("{} {}", x.addr.get(), x.state.name()))
        .collect();
    let duplicate = dev
        .stack()
        .addresses()
        .filter(|x| x.state == AddrState::Duplicate)
        .count();
    let failed = dev
        .events()
        .iter()
        .filter(|(_, e)| matches!(e, Event::AddressFailed { .. }))
        .count();
    report(
        name,
        &format!(
            "{RUN_S} s, attacker answered {answered} probes, DAD probes sent {}, dad_conflicts {}, \
             dad_gave_up {}, AddressFailed events {failed}, addresses duplicate {duplicate}/{} \
             [{}], interface disabled {}, device frames {frames}",
            s.tx_dad_probe,
            s.dad_conflicts,
            s.dad_gave_up,
            dev.stack().addresses().count(),
            states.join(", "),
            dev.stack().is_disabled(),
        ),
    );
    // Every DAD fails while it answers; nothing is given up for good
    // (capped backoff, issue 11): once it stops, the link-local and a
    // global address are back within 30 s.
    assert!(!dev.stack().is_disabled());
    {
        let p = sim.node_mut::<Parasite>(atk);
        p.resolution = false;
        p.dad = false;
    }
    let stopped = sim.now();
    while sim.now().saturating_duration_since(stopped) < secs(30) {
        let dev = sim.node::<EngineNode>(h);
        let usable = |ll: bool| {
            dev.stack()
                .addresses()
                .any(|x| (x.origin == Origin::LinkLocal) == ll && x.usable_as_source())
        };
        if usable(true) && usable(false) {
            break;
        }
        sim.run_for(ms(100));
    }
    let back = sim.now().saturating_duration_since(stopped);
    assert!(
        back < secs(30),
        "no usable addresses 30 s after parasite6 stopped"
    );
    report(
        &format!("{name}-recovery"),
        &format!(
            "link-local and global usable {} ms after it stopped",
            back.as_millis()
        ),
    );
}

/// parasite6 against a device that is up: forged advertisements for its
/// neighbors. RFC 4861 §7.2.5 fixes what a host does with them, and only
/// SEND (RFC 3971) could tell them from real ones:
///
/// - O=0 with a different link-layer address: a REACHABLE entry becomes
///   STALE and keeps its address (the next packet still goes to the
///   real owner, whose answer confirms it);
/// - O=1: the entry takes the attacker's address; S=1 makes it
///   REACHABLE. The neighbor's traffic goes to the attacker, and NUD
///   probes, sent to the attacker's MAC, are answered by it: the hijack
///   lasts until the real owner advertises again (O=1 unsolicited);
/// - address resolution answered by both owner and attacker: the last
///   advertisement wins;
/// - R=0 for a router: it leaves the default router list until its next
///   advertisement.
#[test]
fn parasite6_overriding_advertisements_redirect_as_rfc4861_requires() {
    let name = "attack-parasite6-na";
    let mut sim = Sim::new(name, 75, LinkConfig::ideal());
    let h = sim.add(EngineNode::new(HOST, 751));
    let r = sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(secs(600)),
            ..RouterConfig::default()
        },
    ));
    let p = sim.add(ScriptedHost::new(PEER));
    let p2 = sim.add(ScriptedHost::new(PEER2));
    let atk = sim.add(Parasite::new(ATTACKER));
    let tap = sim.add(Tap::new(HOST));
    sim.run_for(secs(5));
    let ll = sim.node::<EngineNode>(h).link_local();
    let (p_ll, p2_ll, r_ll) = (
        packet::link_local(PEER),
        packet::link_local(PEER2),
        packet::link_local(ROUTER),
    );
    let before = sim.node::<EngineNode>(h).stack().stats().clone();
    let all = MulticastAddr::ALL_NODES;
    let mut seq = 0u16;
    // Ping `dst` and give the reply 100 ms.
    let mut ping = |sim: &mut Sim, dst: Ipv6Addr| {
        let now = sim.now();
        seq += 1;
        let _ = sim.node_mut::<EngineNode>(h).send_echo(now, dst, 4, seq);
        sim.run_for(ms(100));
    };
    let replies = |sim: &Sim, src: Ipv6Addr| {
        sim.node::<EngineNode>(h)
            .echo_replies()
            .iter()
            .filter(|(_, from, _)| *from == src)
            .count()
    };
    let state =
        |sim: &Sim, addr| neighbor(sim.node::<EngineNode>(h), addr).map(|n| (n.state, n.mac));

    // The peer in use: REACHABLE.
    ping(&mut sim, p_ll);
    assert_eq!(replies(&sim, p_ll), 1);
    assert_eq!(
        state(&sim, p_ll),
        Some((NeighborState::Reachable, Some(PEER)))
    );

    // O=0, different address: STALE, address kept (§7.2.5 (a)).
    sim.inject(na_frame(
        ATTACKER,
        all.mac(),
        all.get(),
        p_ll,
        (false, false, false),
    ));
    sim.run_for(ms(10));
    assert_eq!(state(&sim, p_ll), Some((NeighborState::Stale, Some(PEER))));
    ping(&mut sim, p_ll);
    assert_eq!(replies(&sim, p_ll), 2, "still reaches the peer");
    assert_eq!(
        state(&sim, p_ll),
        Some((NeighborState::Reachable, Some(PEER)))
    );

    // O=1, S=1: the attacker's address, REACHABLE (§7.2.5).
    sim.inject(na_frame(ATTACKER, HOST, ll, p_ll, (false, true, true)));
    sim.run_for(ms(10));
    assert_eq!(
        state(&sim, p_ll),
        Some((NeighborState::Reachable, Some(ATTACKER)))
    );
    let hijack_at = sim.now();
    ping(&mut sim, p_ll);
    assert_eq!(replies(&sim, p_ll), 2, "the ping went to the attacker");
    let to_attacker = sim
        .node::<Tap>(tap)
        .count(hijack_at, sim.now(), |s| *s == Sent::EchoRequest(ATTACKER));
    assert_eq!(to_attacker, 1);

    // The peer advertises itself (unsolicited, O=1): back to its address,
    // STALE (§7.2.5), and reachable again.
    let repair = na_frame(PEER, all.mac(), all.get(), p_ll, (false, false, true));
    sim.node_mut::<ScriptedHost>(p).send_raw(repair);
    sim.run_for(ms(10));
    assert_eq!(state(&sim, p_ll), Some((NeighborState::Stale, Some(PEER))));
    ping(&mut sim, p_ll);
    assert_eq!(replies(&sim, p_ll), 3);

    // parasite6 proper: every solicitation answered. Resolving a new
    // neighbor, both answer (S=1, O=1) and the attacker's answer arrives
    // last: it wins.
    sim.node_mut::<Parasite>(atk).resolution = true;
    ping(&mut sim, p2_ll);
    let race = state(&sim, p2_ll);
    assert_eq!(race, Some((NeighborState::Reachable, Some(ATTACKER))));
    // NUD probes go to the attacker's MAC and it answers them: the
    // hijack holds for as long as the attacker runs.
    let from = sim.now();
    let rounds = 60;
    for _ in 0..rounds {
        ping(&mut sim, p2_ll);
        sim.run_for(ms(900));
    }
    let probes = sim
        .node::<Tap>(tap)
        .count(from, sim.now(), |s| *s == Sent::ProbeNs);
    assert!(probes > 0, "NUD ran");
    assert_eq!(state(&sim, p2_ll).and_then(|s| s.1), Some(ATTACKER));
    let p2_lost = rounds + 1 - replies(&sim, p2_ll);
    assert_eq!(p2_lost, rounds + 1);
    assert!(
        sim.node::<ScriptedHost>(p2)
            .inbox()
            .iter()
            .all(|x| x.echo().is_none()),
        "the peer never saw a ping"
    );

    // R=0 for the router: it leaves the default router list (§7.2.5),
    // and off-link traffic has no route until its next advertisement.
    sim.node_mut::<Parasite>(atk).resolution = false;
    assert!(
        sim.node::<EngineNode>(h)
            .stack()
            .routers()
            .any(|x| x.addr == r_ll)
    );
    sim.inject(na_frame(
        ATTACKER,
        all.mac(),
        all.get(),
        r_ll,
        (false, false, true),
    ));
    sim.run_for(ms(10));
    let dev = sim.node::<EngineNode>(h);
    assert_eq!(dev.stack().routers().count(), 0);
    assert_eq!(
        neighbor(dev, r_ll).map(|n| (n.is_router, n.mac)),
        Some((false, Some(ATTACKER)))
    );
    let now = sim.now();
    let global = global_of(sim.node::<EngineNode>(h));
    let off_link = a("2001:db8:99::1");
    assert_eq!(
        sim.node_mut::<EngineNode>(h)
            .send_echo_from(now, global, off_link, 5, 1),
        Err(SendError::Route(RouteError::NoRoute))
    );
    sim.node_mut::<ScriptedRouter>(r).advertise_now();
    sim.run_for(ms(10));
    let dev = sim.node::<EngineNode>(h);
    assert!(dev.stack().routers().any(|x| x.addr == r_ll));
    assert_eq!(
        neighbor(dev, r_ll).map(|n| (n.is_router, n.mac)),
        Some((true, Some(ROUTER)))
    );
    let now = sim.now();
    assert_eq!(
        sim.node_mut::<EngineNode>(h)
            .send_echo_from(now, global, off_link, 5, 2),
        Ok(Dispatch::Transmit(ROUTER))
    );

    let dev = sim.node::<EngineNode>(h);
    let s = dev.stack().stats();
    let d = |f: fn(&Stats) -> u32| delta(&before, s, f);
    report(
        name,
        &format!(
            "O=0 NA: REACHABLE->STALE, MAC kept; O=1 NA: MAC -> attacker (1/1 ping diverted) \
             until the owner's O=1 NA; resolution race won by the last answer (attacker); \
             hijack held {rounds} s by answering {probes} NUD probes ({p2_lost}/{} pings lost); \
             R=0 NA removed the router until its next RA; attacker answered {}, rx_na {}, \
             unicast NS {}",
            rounds + 1,
            sim.node::<Parasite>(atk).answered,
            d(|s| s.rx_na),
            d(|s| s.tx_ns_unicast),
        ),
    );
}

// ---------------------------------------------------------- 5. kill_router6

/// A Router Advertisement with router lifetime 0 from the router's
/// link-local address, as THC-IPv6's kill_router6 sends, from the
/// attacker's MAC, with `slla` as source link-layer address.
fn kill_ra(slla: MacAddr) -> Vec<u8> {
    let opts = [NdOption::SourceLinkAddr(slla)];
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other_config: false,
        preference: Preference::Medium,
        router_lifetime: 0,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&opts),
    });
    let all = MulticastAddr::ALL_NODES;
    packet::icmpv6_frame(
        ATTACKER,
        all.mac(),
        packet::link_local(ROUTER),
        all.get(),
        ND_HOP_LIMIT,
        &m,
    )
}

/// kill_router6: without SEND a host cannot tell a forged advertisement
/// from its router's, and RFC 4861 §6.3.4 says a router lifetime of zero
/// times the router out at once. So the router leaves the default router
/// list immediately and off-link traffic has no route. What the engine
/// can do is not wait for the router's next periodic advertisement: with
/// its last router gone it solicits at once (RFC 4861 §6.3.7), so each
/// forged RA costs one solicitation and about a round trip plus the
/// random solicitation delay, not an advertisement interval. An attacker
/// repeating it still takes that share of the time. The on-link prefix
/// stays (lifetimes of prefixes are separate).
#[test]
fn kill_router6_removes_the_router_until_a_solicitation_brings_it_back() {
    const INTERVAL_S: u32 = 10;
    let name = "attack-kill-router6";
    let mut sim = Sim::new(name, 76, LinkConfig::ideal());
    let h = sim.add(EngineNode::new(HOST, 761));
    let r = sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(secs(INTERVAL_S)),
            ..RouterConfig::default()
        },
    ));
    let tap = sim.add(Tap::new(HOST));
    let r_ll = packet::link_local(ROUTER);
    let off_link = a("2001:db8:99::1");
    sim.run_for(secs(5));
    let global = global_of(sim.node::<EngineNode>(h));
    let before = sim.node::<EngineNode>(h).stack().stats().clone();

    // Off-link pings every 100 ms; each one either leaves through the
    // router or has no route. `attack(t)` names the SLLA of a forged RA
    // to send at t.
    let mut seq = 0u16;
    let mut results: Vec<(Instant, bool)> = Vec::new();
    let mut run = |sim: &mut Sim,
                   results: &mut Vec<(Instant, bool)>,
                   until: Instant,
                   attack: &dyn Fn(Instant) -> Option<MacAddr>| {
        while sim.now() < until {
            let now = sim.now();
            if let Some(slla) = attack(now) {
                sim.inject(kill_ra(slla));
            }
            seq = seq.wrapping_add(1);
            let r = sim
                .node_mut::<EngineNode>(h)
                .send_echo_from(now, global, off_link, 6, seq);
            match r {
                Ok(Dispatch::Transmit(mac)) => {
                    assert_eq!(mac, ROUTER);
                    results.push((now, true));
                }
                Err(SendError::Route(RouteError::NoRoute)) => results.push((now, false)),
                other => panic!("at {now}: {other:?}"),
            }
            sim.run_for(ms(100));
        }
    };
    let attack_at = Instant::from_millis(5_500);
    run(&mut sim, &mut results, Instant::from_secs(20), &|t| {
        (t == attack_at).then_some(ROUTER)
    });
    // The router advertises at 0, 10, 20... s, and answers the device's
    // solicitations.
    let dev = sim.node::<EngineNode>(h);
    let removed = dev.events().iter().find(|(t, e)| {
        *t > attack_at && matches!(e, Event::Router { addr, lifetime_s: 0, .. } if *addr == r_ll)
    });
    assert_eq!(removed.map(|x| x.0), Some(attack_at + LATENCY));
    let restored = dev.events().iter().find(|(t, e)| {
        *t > attack_at
            && matches!(e, Event::Router { addr, lifetime_s, .. } if *addr == r_ll && *lifetime_s > 0)
    });
    let back_at = restored.expect("the router came back").0;
    let outage = back_at.saturating_duration_since(attack_at + LATENCY);
    // The solicitation's random delay (at most 1 s) and the router's
    // answer: far less than the advertisement interval.
    assert!(outage <= secs(2), "{outage}");
    let rs_after_kill = sim
        .node::<Tap>(tap)
        .count(attack_at, back_at, |s| *s == Sent::Rs);
    assert_eq!(rs_after_kill, 1);
    // Every ping from the attack to the next advertisement had no route;
    // every other one left.
    for (t, ok) in &results {
        let dark = (attack_at + LATENCY..back_at).contains(t);
        assert_eq!(*ok, !dark, "ping at {t}");
    }
    let lost1 = results.iter().filter(|x| !x.1).count();
    assert_eq!(
        neighbor(dev, r_ll).and_then(|n| n.mac),
        Some(ROUTER),
        "this RA carried the router's own MAC"
    );
    assert_eq!(dev.stack().prefixes().count(), 1, "the prefix stays");
    assert!(dev.stack().prefixes().count() <= PREFIXES);

    // Sustained: a forged RA every second (now with the attacker's MAC as
    // SLLA) for a minute, while the router advertises every 10 s.
    let from = Instant::from_secs(20);
    let stop = Instant::from_secs(80);
    results.clear();
    run(&mut sim, &mut results, Instant::from_secs(100), &|t| {
        (t >= from && t < stop && t.as_millis() % 1000 == 500).then_some(ATTACKER)
    });
    let during: Vec<bool> = results
        .iter()
        .filter(|(t, _)| (from..stop).contains(t))
        .map(|x| x.1)
        .collect();
    let up = during.iter().filter(|x| **x).count();
    // Down from each forged RA until the solicited answer, up until the
    // next forged one (RFC 4861 §6.3.4 allows no better without SEND).
    let available = up as f64 / during.len() as f64;
    assert!(available >= 0.3, "{up}/{}", during.len());
    // At most one solicitation per forged RA.
    let rs_during = sim
        .node::<Tap>(tap)
        .count(from, stop + secs(1), |s| *s == Sent::Rs);
    assert!(rs_during <= 60, "{rs_during}");
    // After the attack stops, traffic resumes within one interval.
    let first_after = results
        .iter()
        .find(|(t, ok)| *t >= stop && *ok)
        .map(|x| x.0)
        .expect("traffic resumed");
    let resumed = first_after.saturating_duration_since(stop);
    assert!(resumed <= secs(2), "{resumed}");
    assert!(
        results
            .iter()
            .filter(|(t, _)| *t >= first_after)
            .all(|x| x.1)
    );
    let dev = sim.node::<EngineNode>(h);
    assert_eq!(
        neighbor(dev, r_ll).and_then(|n| n.mac),
        Some(ROUTER),
        "the real RA restored the router's MAC"
    );
    let s = dev.stack().stats();
    assert!(dev.stack().routers().count() <= ROUTERS);
    assert!(dev.stack().routes().count() <= ROUTES);
    let d = |f: fn(&Stats) -> u32| delta(&before, s, f);
    let transit = sim.node::<ScriptedRouter>(r).host().transit().len();
    let rs = sim
        .node::<Tap>(tap)
        .count(attack_at, sim.now(), |s| *s == Sent::Rs);
    assert_eq!(rs as u32, d(|s| s.tx_rs));
    report(
        name,
        &format!(
            "one forged RA: outage {outage} (RA interval {INTERVAL_S} s), {lost1} pings without \
             route; one per second for 60 s: off-link available {up}/{} pings ({:.0}%), \
             resumed {resumed} after the attack stopped; RS sent after the attacks {rs}, \
             pings through the router {transit}",
            during.len(),
            available * 100.0,
        ),
    );
}
