//! Address autoconfiguration through the Stack, driven with real packets:
//! the link-local address (RFC 4862 §5.3, RFC 7217), Duplicate Address
//! Detection (RFC 4862 §5.4, RFC 7527), optimistic DAD (RFC 4429),
//! conflict handling (RFC 7217 §6, RFC 4862 §5.4.5), answers for our
//! addresses (RFC 4861 §7.2.4), SLAAC from Router Advertisements
//! (RFC 4862 §5.5.3-5.5.4), gratuitous advertisements (RFC 9131 §6.1.2)
//! and the MLD listener for the solicited-node groups (RFC 3810, RFC 3590,
//! RFC 2710).
//!
//! Expectations come from the RFC text; each test names its section.
//! Time is virtual and followed through `poll_at`, so "exactly at" means
//! to the millisecond.
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

use core::net::Ipv6Addr;

use common::{OTHER_MAC, OUR_MAC, PEER_MAC, a, emit};
use ndp_core::addr::iid::{self, IidMode, stable_iid};
use ndp_core::addr::{AddrState, Address, DAD_BACKOFF_BASE, DAD_BACKOFF_MAX, Origin};
use ndp_core::time::{Duration, Expiry, Instant};
use ndp_core::wire::ipv6::Ipv6Header;
use ndp_core::wire::{
    AddrList, Lifetime, MacAddr, Message, MldQuery, MldQueryV2, NdOption, NeighborAdvert,
    NeighborSolicit, Options, Preference, PrefixInfo, RecordType, RouterAdvert, UnicastAddr,
    icmpv6,
};
use ndp_core::{
    Config, Delivery, DisableReason, Dispatch, Event, RouteError, RxMeta, Stack, Transmit,
};

// ------------------------------------------------------------------ setup

/// RFC 7217 secret_key used throughout: 00 01 02 … 0f.
const SECRET: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// Independently computed RFC 7217 addresses for SECRET and OUR_MAC
/// (HMAC-SHA256 vectors from Python's hmac/hashlib, as documented in
/// `ndp_core::addr::iid`): fe80::/64 with DAD_Counter 0 and 1, and
/// 2001:db8:1::/64 with DAD_Counter 0.
const LL: &str = "fe80::8ed9:b4c9:aaa2:52cf";
const LL1: &str = "fe80::5d60:1e0d:a98c:4da1";
const P1: &str = "2001:db8:1::";
const G1: &str = "2001:db8:1:0:2a97:c2b9:9caf:7d17";
const P2: &str = "2001:db8:2::";
const P3: &str = "2001:db8:3::";
const P4: &str = "2001:db8:4::";

/// The router and another node on the link.
const ROUTER: &str = "fe80::1";
const ROUTER_MAC: MacAddr = PEER_MAC;
const NEIGHBOR: &str = "fe80::20";
const NEIGHBOR_MAC: MacAddr = OTHER_MAC;
/// The node that owns (or also probes) our address in conflict tests.
const RIVAL_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x99]);

fn t(ms: u32) -> Instant {
    Instant::from_millis(ms)
}

fn ms(ms: u32) -> Duration {
    Duration::from_millis(ms)
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(s)
}

/// Stable IIDs with SECRET, DAD on (one probe), optimistic DAD on,
/// gratuitous NAs on, no Router Solicitations.
fn config(seed: u64) -> Config {
    let mut c = Config::stable(OUR_MAC, seed, SECRET);
    c.optimistic_dad = true;
    c.dad_transmits = 1;
    c.gratuitous_na = 3;
    c.router_solicitations = false;
    c
}

fn config_tentative(seed: u64) -> Config {
    let mut c = config(seed);
    c.optimistic_dad = false;
    c
}

/// `prefix`/64 with the RFC 7217 IID for `counter` (as computed by the
/// library's PRF, before any reserved-IID check).
fn stable(prefix: &str, counter: u8) -> Ipv6Addr {
    iid::with_iid(
        &a(prefix),
        stable_iid(&SECRET, &a(prefix), OUR_MAC, counter),
    )
}

/// Solicited-node group of `addr` (RFC 4291 §2.7.1).
fn snm(addr: Ipv6Addr) -> Ipv6Addr {
    UnicastAddr::new(addr).unwrap().solicited_node().get()
}

/// Its Ethernet address (RFC 2464 §7).
fn snm_mac(addr: Ipv6Addr) -> MacAddr {
    UnicastAddr::new(addr).unwrap().solicited_node().mac()
}

fn pio(prefix: &str, len: u8, on_link: bool, auto: bool, valid: u32, pref: u32) -> PrefixInfo {
    PrefixInfo {
        prefix_len: len,
        on_link,
        autonomous: auto,
        valid_lifetime: Lifetime::from_wire(valid),
        preferred_lifetime: Lifetime::from_wire(pref),
        prefix: a(prefix),
    }
}

const INF: u32 = u32::MAX;
const HOUR: u32 = 3600;

// ------------------------------------------------------ transmitted packets

/// One packet the stack sent, parsed.
#[derive(Debug, Clone)]
struct Out {
    at: Instant,
    tx: Transmit,
    h: Ipv6Header,
    /// The Hop-by-Hop Options header, if any (MLD).
    hbh: Option<Vec<u8>>,
    icmp: Vec<u8>,
}

impl Out {
    fn parse(at: Instant, tx: Transmit, bytes: &[u8]) -> Out {
        let (h, payload) = Ipv6Header::parse(bytes).unwrap();
        assert_eq!(bytes.len(), 40 + usize::from(h.payload_len));
        let (hbh, icmp) = if h.next_header == 0 {
            assert_eq!(payload[0], 58, "Hop-by-Hop header followed by ICMPv6");
            let len = (usize::from(payload[1]) + 1) * 8;
            (Some(payload[..len].to_vec()), payload[len..].to_vec())
        } else {
            assert_eq!(h.next_header, 58);
            (None, payload.to_vec())
        };
        Out {
            at,
            tx,
            h,
            hbh,
            icmp,
        }
    }

    fn msg(&self) -> Message<'_> {
        Message::parse_checked(&self.h.src, &self.h.dst, &self.icmp).expect("valid ICMPv6")
    }

    fn mac(&self) -> MacAddr {
        match self.tx.delivery {
            Delivery::Link(m) => m,
            Delivery::Local => panic!("not sent on the link: {self:?}"),
        }
    }

    /// The target of a DAD probe (an NS from ::).
    fn probe(&self) -> Option<Ipv6Addr> {
        match self.msg() {
            Message::NeighborSolicit(ns) if self.h.src.is_unspecified() => Some(ns.target),
            _ => None,
        }
    }

    /// The nonce of a solicitation.
    fn nonce(&self) -> Option<Vec<u8>> {
        match self.msg() {
            Message::NeighborSolicit(ns) => ns.options.nonce().map(<[u8]>::to_vec),
            _ => None,
        }
    }

    /// An address-resolution or NUD solicitation (NS not from ::).
    fn resolution_ns(&self) -> Option<NeighborSolicit<'_>> {
        match self.msg() {
            Message::NeighborSolicit(ns) if !self.h.src.is_unspecified() => Some(ns),
            _ => None,
        }
    }

    fn na(&self) -> Option<NeighborAdvert<'_>> {
        match self.msg() {
            Message::NeighborAdvert(na) => Some(na),
            _ => None,
        }
    }

    fn is_rs(&self) -> bool {
        matches!(self.msg(), Message::RouterSolicit(_))
    }

    fn is_mld(&self) -> bool {
        matches!(
            self.msg(),
            Message::MldV2Report(_) | Message::MldV1Report(_) | Message::MldV1Done(_)
        )
    }

    /// The records of an MLDv2 report: (type, group, number of sources).
    fn records(&self) -> Vec<(RecordType, Ipv6Addr, usize)> {
        match self.msg() {
            Message::MldV2Report(r) => r
                .records
                .iter()
                .map(|r| (r.record_type, r.group, r.sources.len()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// An MLDv2 report with a record of `kind` for `group`.
    fn reports(&self, kind: RecordType, group: Ipv6Addr) -> bool {
        self.records().iter().any(|r| r.0 == kind && r.1 == group)
    }
}

// ------------------------------------------------------------ the harness

/// A stack, the virtual clock, and everything it sent and said.
struct Node {
    s: Stack,
    now: Instant,
    out: Vec<Out>,
    events: Vec<(Instant, Event)>,
    /// ROUTER answers the solicitations that probe it, as a real router
    /// does (RFC 4861 §7.2.4), at once.
    router_answers: bool,
}

impl Node {
    fn new(c: Config) -> Node {
        let mut n = Node {
            s: Stack::new(c, Instant::ZERO),
            now: Instant::ZERO,
            out: Vec::new(),
            events: Vec::new(),
            router_answers: true,
        };
        n.collect_events();
        n
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.s.poll_event() {
            self.events.push((self.now, e));
        }
    }

    /// Everything due now.
    fn drain(&mut self) {
        let mut buf = [0u8; 1500];
        let mut n = 0;
        while let Some(tx) = self.s.poll_transmit(self.now, &mut buf) {
            let o = Out::parse(self.now, tx, &buf[..tx.len]);
            let probe = matches!(o.msg(), Message::NeighborSolicit(ns) if ns.target == a(ROUTER));
            if self.router_answers && probe && !o.h.src.is_unspecified() {
                let b = router_na(o.h.src);
                let m = meta(a(ROUTER), o.h.src, 255, ROUTER_MAC);
                assert!(self.s.receive(self.now, &m, &b));
            }
            self.out.push(o);
            n += 1;
            assert!(n < 1000, "poll_transmit never ends");
        }
        self.collect_events();
        if let Some(at) = self.s.poll_at() {
            assert!(
                at > self.now,
                "poll_at {at} <= now {} after draining",
                self.now
            );
        }
    }

    /// Run to `to`, waking at every `poll_at`; returns what was sent.
    fn run_until(&mut self, to: Instant) -> Vec<Out> {
        let start = self.out.len();
        self.drain();
        while let Some(next) = self.s.poll_at() {
            if next > to {
                break;
            }
            self.now = next;
            self.drain();
        }
        if to > self.now {
            self.now = to;
            self.drain();
        }
        self.out[start..].to_vec()
    }

    fn run_for(&mut self, d: Duration) -> Vec<Out> {
        self.run_until(self.now + d)
    }

    /// Hand over a received message without polling afterwards.
    fn receive(&mut self, meta: RxMeta, icmp: &[u8]) {
        assert!(self.s.receive(self.now, &meta, icmp), "not taken as ND/MLD");
        self.collect_events();
    }

    /// Receive, then send whatever is due now; returns it.
    fn rx(&mut self, meta: RxMeta, icmp: &[u8]) -> Vec<Out> {
        self.receive(meta, icmp);
        self.run_until(self.now)
    }

    /// A DAD probe for `target` from another node (RFC 4862 §5.4.2).
    fn rival_probe(&mut self, target: Ipv6Addr, nonce: Option<[u8; 6]>) -> Vec<Out> {
        let (m, b) = dad_ns(target, nonce.as_ref().map(|n| &n[..]));
        self.rx(m, &b)
    }

    /// An NS for `target` from NEIGHBOR (with its SLLA) to `dst`.
    fn neighbor_ns(&mut self, target: Ipv6Addr, dst: Ipv6Addr) -> Vec<Out> {
        let src = a(NEIGHBOR);
        let opts = [NdOption::SourceLinkAddr(NEIGHBOR_MAC)];
        let b = ns_bytes(target, src, dst, &opts);
        self.rx(meta(src, dst, 255, NEIGHBOR_MAC), &b)
    }

    /// An RA from ROUTER to ff02::1 with these prefixes, with or without
    /// the router's SLLA.
    fn ra(&mut self, pios: &[PrefixInfo], slla: bool) -> Vec<Out> {
        let b = ra_bytes(pios, slla, 0);
        self.rx(meta(a(ROUTER), a("ff02::1"), 255, ROUTER_MAC), &b)
    }

    /// Whole seconds left of a lifetime (`None`: infinite).
    fn left(&self, e: Expiry) -> Option<u32> {
        self.s.time_left(e)
    }

    fn addr(&self, addr: Ipv6Addr) -> Option<Address> {
        self.s.addresses().find(|x| x.addr.get() == addr)
    }

    fn state(&self, addr: Ipv6Addr) -> Option<AddrState> {
        self.addr(addr).map(|x| x.state)
    }

    fn slaac(&self) -> Vec<Address> {
        self.s
            .addresses()
            .filter(|x| x.origin == Origin::Slaac)
            .collect()
    }

    /// When `addr` was reported in `state`.
    fn when(&self, addr: Ipv6Addr, state: AddrState) -> Option<Instant> {
        self.events.iter().find_map(|(at, e)| match e {
            Event::Address {
                addr: x, state: s, ..
            } if *x == addr && *s == state => Some(*at),
            _ => None,
        })
    }

    /// Every `AddressFailed` event: (prefix, attempts).
    fn failures(&self) -> Vec<(Ipv6Addr, u8)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::AddressFailed { prefix, attempts } => Some((*prefix, *attempts)),
                _ => None,
            })
            .collect()
    }

    fn removed_at(&self, addr: Ipv6Addr) -> Option<Instant> {
        self.events.iter().find_map(|(at, e)| match e {
            Event::AddressRemoved { addr: x, .. } if *x == addr => Some(*at),
            _ => None,
        })
    }

    fn had_event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }

    fn probes_for(&self, target: Ipv6Addr) -> Vec<Out> {
        self.out
            .iter()
            .filter(|o| o.probe() == Some(target))
            .cloned()
            .collect()
    }

    fn joined(&self, group: Ipv6Addr) -> bool {
        self.s.multicast_groups().any(|g| g.get() == group)
    }
}

fn meta(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, mac: MacAddr) -> RxMeta {
    RxMeta {
        src,
        dst,
        hop_limit,
        src_mac: Some(mac),
    }
}

fn ns_bytes(target: Ipv6Addr, src: Ipv6Addr, dst: Ipv6Addr, opts: &[NdOption<'_>]) -> Vec<u8> {
    let m = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: Options::from_list(opts),
    });
    emit(&m, src, dst)
}

/// A DAD probe for `target`: from ::, to its solicited-node group, hop
/// limit 255, no SLLA, an optional nonce.
fn dad_ns(target: Ipv6Addr, nonce: Option<&[u8]>) -> (RxMeta, Vec<u8>) {
    let opts: Vec<NdOption<'_>> = nonce.map(NdOption::Nonce).into_iter().collect();
    let dst = snm(target);
    let b = ns_bytes(target, Ipv6Addr::UNSPECIFIED, dst, &opts);
    (meta(Ipv6Addr::UNSPECIFIED, dst, 255, RIVAL_MAC), b)
}

fn na_bytes(
    target: Ipv6Addr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    solicited: bool,
    override_flag: bool,
    tlla: Option<MacAddr>,
) -> Vec<u8> {
    let opts: Vec<NdOption<'_>> = tlla.map(NdOption::TargetLinkAddr).into_iter().collect();
    let m = Message::NeighborAdvert(NeighborAdvert {
        router_flag: false,
        solicited_flag: solicited,
        override_flag,
        target,
        options: Options::from_list(&opts),
    });
    emit(&m, src, dst)
}

/// ROUTER's solicited answer to a solicitation from `dst`.
fn router_na(dst: Ipv6Addr) -> Vec<u8> {
    let opts = [NdOption::TargetLinkAddr(ROUTER_MAC)];
    let m = Message::NeighborAdvert(NeighborAdvert {
        router_flag: true,
        solicited_flag: true,
        override_flag: true,
        target: a(ROUTER),
        options: Options::from_list(&opts),
    });
    emit(&m, a(ROUTER), dst)
}

fn ra_bytes(pios: &[PrefixInfo], slla: bool, retrans_ms: u32) -> Vec<u8> {
    let mut opts: Vec<NdOption<'_>> = Vec::new();
    if slla {
        opts.push(NdOption::SourceLinkAddr(ROUTER_MAC));
    }
    opts.extend(pios.iter().map(|p| NdOption::PrefixInfo(*p)));
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 0,
        managed: false,
        other_config: false,
        preference: Preference::Medium,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_timer: retrans_ms,
        options: Options::from_list(&opts),
    });
    emit(&m, a(ROUTER), a("ff02::1"))
}

/// An MLD query from ROUTER (link-local, hop limit 1) to `dst`.
fn query(group: Ipv6Addr, max_response_code: u16, v2: bool, dst: Ipv6Addr) -> (RxMeta, Vec<u8>) {
    let m = Message::MldQuery(MldQuery {
        max_response_code,
        group,
        v2: v2.then(|| MldQueryV2 {
            suppress_router_processing: false,
            robustness: 2,
            qqic: 125,
            sources: AddrList::new(&[]),
        }),
    });
    (
        meta(a(ROUTER), dst, 1, ROUTER_MAC),
        emit(&m, a(ROUTER), dst),
    )
}

/// A node whose link-local address is preferred (optimistic DAD, done
/// after one probe and RetransTimer).
fn settled(c: Config) -> Node {
    let mut n = Node::new(c);
    n.run_until(t(3000));
    let ll = n.s.addresses().find(|x| x.origin == Origin::LinkLocal);
    assert_eq!(ll.map(|x| x.state), Some(AddrState::Preferred));
    n
}

/// A node whose tentative link-local address has sent its first probe
/// (optimistic DAD off, two probes): returns it and that probe.
fn tentative_after_first_probe(seed: u64) -> (Node, Out) {
    let mut c = config_tentative(seed);
    c.dad_transmits = 2;
    let mut n = Node::new(c);
    loop {
        let out = n.run_for(ms(1));
        if let Some(p) = out.into_iter().find(|o| o.probe() == Some(a(LL))) {
            assert_eq!(n.state(a(LL)), Some(AddrState::Tentative));
            return (n, p);
        }
        assert!(
            n.now <= t(1000),
            "no probe within MAX_RTR_SOLICITATION_DELAY"
        );
    }
}

// =====================================================================
// 1. The link-local address (RFC 4862 §5.3, RFC 7217 §5)
// =====================================================================

#[test]
fn link_local_is_fe80_64_with_the_rfc7217_iid_and_infinite_lifetimes() {
    // RFC 4862 §5.3: fe80::/64 + IID, infinite lifetimes; RFC 7217 §5: the
    // IID comes from F(prefix, Net_Iface, DAD_Counter = 0, secret_key).
    let mut n = Node::new(config(1));
    let addrs: Vec<Address> = n.s.addresses().collect();
    assert_eq!(addrs.len(), 1);
    let ll = addrs[0];
    let iid = stable_iid(&SECRET, &a("fe80::"), OUR_MAC, 0);
    assert_eq!(ll.addr.get(), iid::with_iid(&a("fe80::"), iid));
    assert_eq!(ll.addr.get(), a(LL), "the independently computed vector");
    assert_eq!(ll.prefix_len, 64);
    assert_eq!(ll.origin, Origin::LinkLocal);
    assert_eq!(ll.dad_counter, 0);
    assert_eq!(
        (ll.valid_until, ll.preferred_until),
        (Expiry::NEVER, Expiry::NEVER)
    );
    // RFC 4429 §3.3: with optimistic DAD it is usable at once.
    assert_eq!(ll.state, AddrState::Optimistic);
    assert_eq!(
        n.events,
        [(
            t(0),
            Event::Address {
                addr: a(LL),
                prefix_len: 64,
                state: AddrState::Optimistic
            }
        )]
    );
    // "it is never timed out": 30 days, a day at a time (instants compare
    // within 24.8 days of each other; the engine's clock wraps at 49.7).
    for day in 1..=30 {
        n.run_until(t(day * 24 * 3600 * 1000));
    }
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    assert_eq!(n.removed_at(a(LL)), None);
}

#[test]
fn link_local_is_tentative_without_optimistic_dad() {
    // RFC 4862 §5.4: tentative until DAD completes.
    let n = Node::new(config_tentative(1));
    assert_eq!(n.state(a(LL)), Some(AddrState::Tentative));
    assert_eq!(n.when(a(LL), AddrState::Tentative), Some(t(0)));
    assert_eq!(n.when(a(LL), AddrState::Optimistic), None);
    // RFC 4862 §5.4.2: all-nodes and the tentative address's
    // solicited-node group are received from the start, delay included.
    assert!(n.joined(a("ff02::1")));
    assert!(n.joined(snm(a(LL))));
}

#[test]
fn eui64_mode_gives_the_modified_eui64_link_local() {
    // RFC 4862 §5.3, RFC 4291 Appendix A: 02:00:5e:00:53:10 gives
    // 0000:5eff:fe00:5310 (universal/local bit inverted).
    let mut c = config(1);
    c.iid_mode = IidMode::Eui64;
    let n = Node::new(c);
    let ll: Vec<Ipv6Addr> = n.s.addresses().map(|x| x.addr.get()).collect();
    assert_eq!(ll, [a("fe80::5eff:fe00:5310")]);
}

#[test]
fn stable_iids_depend_on_secret_and_interface_and_nothing_else() {
    // RFC 7217 §5: the same inputs give the same address after every
    // restart; another secret_key or Net_Iface gives another one.
    let ll = |c: Config| Node::new(c).s.addresses().next().unwrap().addr.get();
    assert_eq!(ll(config(1)), ll(config(99)), "the seed is not an input");
    let mut other_secret = config(1);
    other_secret.secret = [0xff; 16];
    assert_ne!(ll(other_secret), a(LL));
    let mut other_mac = config(1);
    other_mac.mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x11]);
    assert_ne!(ll(other_mac), a(LL));
}

#[test]
fn reserved_interface_identifiers_are_recognised() {
    // RFC 7217 §5: generated IIDs are compared against the reserved ones
    // of RFC 5453 §3 and the IANA registry (RFC 6543 §3 among them).
    let iid = |v: u64| v.to_be_bytes();
    for reserved in [
        0,
        0xfdff_ffff_ffff_ff80,
        0xfdff_ffff_ffff_ffc0,
        0xfdff_ffff_ffff_ffff,
        0x0200_5eff_fe00_5213,
    ] {
        assert!(iid::is_reserved_iid(&iid(reserved)), "{reserved:x}");
    }
    for ok in [1, 0xfdff_ffff_ffff_ff7f, 0x0200_5eff_fd00_5213] {
        assert!(!iid::is_reserved_iid(&iid(ok)), "{ok:x}");
    }
    // And what the stack configured is none of them.
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    for x in n.s.addresses() {
        let o = x.addr.get().octets();
        assert!(!iid::is_reserved_iid(&o[8..].try_into().unwrap()));
    }
}

// =====================================================================
// 2. DAD probes (RFC 4862 §5.4.2, RFC 7527 §4.1)
// =====================================================================

#[test]
fn dad_probe_is_an_ns_from_unspecified_to_the_solicited_node_group_with_a_nonce() {
    // RFC 4862 §5.4.2, RFC 4861 §4.3 and §7.1.1, RFC 7527 §4.1,
    // RFC 3971 §5.3.2.
    let mut n = Node::new(config(1));
    let out = n.run_until(t(0));
    let probes: Vec<&Out> = out.iter().filter(|o| o.probe().is_some()).collect();
    assert_eq!(probes.len(), 1);
    let p = probes[0];
    let ll = a(LL);
    assert_eq!(snm(ll), a("ff02::1:ffa2:52cf"));
    assert_eq!(p.h.src, Ipv6Addr::UNSPECIFIED);
    assert_eq!(p.h.dst, a("ff02::1:ffa2:52cf"));
    assert_eq!(p.mac(), MacAddr([0x33, 0x33, 0xff, 0xa2, 0x52, 0xcf]));
    assert_eq!(p.mac(), snm_mac(ll));
    assert_eq!(p.h.hop_limit, 255);
    assert!(p.hbh.is_none());
    let Message::NeighborSolicit(ns) = p.msg() else {
        panic!()
    };
    assert_eq!(ns.target, ll);
    assert!(
        ns.options.source_link_addr().is_none(),
        "no SLLA from :: (RFC 4861 §4.3)"
    );
    let opts: Vec<_> = ns.options.iter().collect();
    assert_eq!(opts.len(), 1, "just the nonce: {opts:?}");
    // The Nonce option on the wire: type 14, length 1 (8 octets), 6 bytes.
    assert_eq!(p.icmp.len(), 24 + 8);
    assert_eq!(&p.icmp[24..26], &[14, 1]);
    assert_eq!(ns.options.nonce().unwrap().len(), 6);
    assert_eq!(n.s.stats().tx_dad_probe, 1);
}

#[test]
fn probes_are_retrans_timer_apart_with_fresh_nonces_then_preferred_exactly_retrans_timer_later() {
    // RFC 4862 §5.1, §5.4, §5.4.2: DupAddrDetectTransmits probes,
    // RetransTimer apart; unique once RetransTimer passed after the last.
    // RFC 7527 §4.1: a new nonce in each probe.
    for seed in 0..4 {
        let mut c = config_tentative(seed);
        c.dad_transmits = 3;
        c.retrans_timer = ms(700);
        let mut n = Node::new(c);
        n.run_until(t(4000));
        let probes = n.probes_for(a(LL));
        assert_eq!(probes.len(), 3, "seed {seed}");
        let t0 = probes[0].at;
        assert_eq!(probes[1].at, t0 + ms(700));
        assert_eq!(probes[2].at, t0 + ms(1400));
        let nonces: Vec<_> = probes.iter().map(|p| p.nonce().unwrap()).collect();
        assert!(
            nonces[0] != nonces[1] && nonces[1] != nonces[2] && nonces[0] != nonces[2],
            "{nonces:?}"
        );
        assert_eq!(n.when(a(LL), AddrState::Preferred), Some(t0 + ms(2100)));
    }
    // And not a millisecond before, stepping the clock by hand.
    let mut c = config(5);
    c.dad_transmits = 2;
    let mut n = Node::new(c);
    n.run_until(t(1999));
    assert_eq!(n.state(a(LL)), Some(AddrState::Optimistic));
    n.run_until(t(2000));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    assert_eq!(n.when(a(LL), AddrState::Preferred), Some(t(2000)));
    assert_eq!(
        n.probes_for(a(LL)).iter().map(|p| p.at).collect::<Vec<_>>(),
        [t(0), t(1000)]
    );
}

#[test]
fn dad_transmits_zero_means_preferred_at_once_and_no_probe() {
    // RFC 4862 §5.1, §5.4: DupAddrDetectTransmits = 0 turns DAD off.
    let mut c = config(1);
    c.dad_transmits = 0;
    let mut n = Node::new(c);
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    assert_eq!(n.when(a(LL), AddrState::Preferred), Some(t(0)));
    n.run_until(t(2000));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    n.run_until(t(10_000));
    assert!(n.out.iter().all(|o| o.probe().is_none()));
    assert_eq!(n.s.stats().tx_dad_probe, 0);
}

#[test]
fn dad_uses_the_retrans_timer_a_router_advertises() {
    // RFC 4862 §5.1: DAD uses RetransTimer as defined in RFC 4861, which
    // a Router Advertisement may set (RFC 4861 §6.3.4).
    let mut c = config(1);
    c.dad_transmits = 2;
    let mut n = Node::new(c);
    n.run_until(t(3000));
    let b = ra_bytes(&[pio(P1, 64, true, true, INF, INF)], true, 2500);
    n.rx(meta(a(ROUTER), a("ff02::1"), 255, ROUTER_MAC), &b);
    assert_eq!(n.s.retrans_timer(), ms(2500));
    n.run_until(t(20_000));
    let times: Vec<Instant> = n.probes_for(a(G1)).iter().map(|p| p.at).collect();
    assert_eq!(times, [t(3000), t(5500)]);
    assert_eq!(n.when(a(G1), AddrState::Preferred), Some(t(8000)));
}

#[test]
fn the_mld_report_for_the_group_precedes_the_first_probe() {
    // RFC 4862 §5.4.2: "Before sending a Neighbor Solicitation, an
    // interface MUST join ... the solicited-node multicast address of the
    // tentative address" (the join being the MLD report).
    for seed in 0..6 {
        for c in [config(seed), config_tentative(seed)] {
            let mut n = Node::new(c);
            n.run_until(t(2500));
            n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
            n.run_until(t(6000));
            for target in [a(LL), a(G1)] {
                let probe = n
                    .out
                    .iter()
                    .position(|o| o.probe() == Some(target))
                    .unwrap();
                let report = n
                    .out
                    .iter()
                    .position(|o| o.reports(RecordType::ChangeToExclude, snm(target)))
                    .unwrap();
                assert!(report < probe, "seed {seed} {target}: {:?}", n.out);
            }
        }
    }
}

// =====================================================================
// 3. Random delay (RFC 4862 §5.4.2, RFC 4429 §3.3)
// =====================================================================

#[test]
fn tentative_link_local_waits_a_random_delay_of_up_to_one_second() {
    // RFC 4862 §5.4.2: the first message after initialization is delayed
    // (joining, hence the report, and so the probe) by a random delay in
    // [0, MAX_RTR_SOLICITATION_DELAY = 1 s].
    let mut probes = Vec::new();
    let mut reports = Vec::new();
    for seed in 0..16 {
        let mut n = Node::new(config_tentative(seed));
        n.run_until(t(3000));
        let p = n.probes_for(a(LL))[0].at;
        let r = n
            .out
            .iter()
            .find(|o| o.reports(RecordType::ChangeToExclude, snm(a(LL))))
            .unwrap()
            .at;
        assert!(p <= t(1000) && r <= p, "seed {seed}: report {r}, probe {p}");
        probes.push(p);
        reports.push(r);
    }
    probes.sort_by_key(|t| t.as_millis());
    probes.dedup();
    reports.sort_by_key(|t| t.as_millis());
    reports.dedup();
    assert!(probes.len() >= 8, "probe times are spread: {probes:?}");
    assert!(reports.len() >= 8, "report times are spread: {reports:?}");
    assert!(probes.iter().any(|p| *p > t(0)));
}

#[test]
fn optimistic_addresses_probe_without_delay() {
    // RFC 4429 §3.3: "The host SHOULD NOT delay before sending Neighbor
    // Solicitation messages."
    for seed in 0..8 {
        let mut n = Node::new(config(seed));
        n.run_until(t(3000));
        assert_eq!(n.probes_for(a(LL))[0].at, t(0), "seed {seed}");
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        n.run_until(t(6000));
        assert_eq!(n.probes_for(a(G1))[0].at, t(3000), "seed {seed}");
    }
}

#[test]
fn tentative_slaac_address_from_a_multicast_ra_waits_a_random_delay() {
    // RFC 4862 §5.4.2: "Even if the Neighbor Solicitation is not going to
    // be the first message sent, the node SHOULD delay joining ... if the
    // address being checked is configured by a router advertisement
    // message sent to a multicast address."
    let mut delays = Vec::new();
    for seed in 0..12 {
        let mut n = Node::new(config_tentative(seed));
        n.run_until(t(5000));
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        assert_eq!(n.state(a(G1)), Some(AddrState::Tentative));
        n.run_until(t(9000));
        let p = n.probes_for(a(G1))[0].at;
        assert!(t(5000) <= p && p <= t(6000), "seed {seed}: {p}");
        delays.push(p);
    }
    delays.sort_by_key(|t| t.as_millis());
    delays.dedup();
    assert!(delays.len() >= 6, "delays are spread: {delays:?}");
}

// =====================================================================
// 4. Which messages count in DAD (RFC 4862 §5.4.1, §5.4.3, §5.4.4,
//    RFC 7527 §4.2): TAHI-style
// =====================================================================

/// The tentative link-local address completed DAD untouched.
fn assert_dad_completed(n: &mut Node) {
    n.run_for(secs(5));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    assert!(!n.had_event(|e| matches!(
        e,
        Event::Address {
            state: AddrState::Duplicate,
            ..
        }
    )));
    assert_eq!(n.s.stats().dad_conflicts, 0);
}

#[test]
fn invalid_dad_solicitations_do_not_make_a_tentative_address_duplicate() {
    // RFC 4862 §5.4.1: invalid solicitations (RFC 4861 §7.1.1) are
    // silently discarded.
    let ll = a(LL);
    let un = Ipv6Addr::UNSPECIFIED;
    // Hop limit 254.
    let (mut n, _) = tentative_after_first_probe(1);
    let b = ns_bytes(ll, un, snm(ll), &[]);
    n.rx(meta(un, snm(ll), 254, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
    // ICMP code 1.
    let (mut n, _) = tentative_after_first_probe(2);
    let mut b = ns_bytes(ll, un, snm(ll), &[]);
    b[1] = 1;
    icmpv6::fill_checksum(&mut b, &un, &snm(ll)).unwrap();
    n.rx(meta(un, snm(ll), 255, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
    // From :: to a destination that is not a solicited-node group: the
    // tentative address itself, and all-nodes.
    for dst in [ll, a("ff02::1")] {
        let (mut n, _) = tentative_after_first_probe(3);
        let b = ns_bytes(ll, un, dst, &[]);
        n.rx(meta(un, dst, 255, RIVAL_MAC), &b);
        assert_dad_completed(&mut n);
    }
    // From :: with a source link-layer address option.
    let (mut n, _) = tentative_after_first_probe(4);
    let b = ns_bytes(ll, un, snm(ll), &[NdOption::SourceLinkAddr(RIVAL_MAC)]);
    n.rx(meta(un, snm(ll), 255, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
}

#[test]
fn invalid_or_misaddressed_advertisements_do_not_make_a_tentative_address_duplicate() {
    let ll = a(LL);
    // RFC 4861 §7.1.2: S=1 to a multicast destination is invalid.
    let (mut n, _) = tentative_after_first_probe(1);
    let b = na_bytes(ll, ll, a("ff02::1"), true, true, Some(RIVAL_MAC));
    n.rx(meta(ll, a("ff02::1"), 255, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
    // RFC 4862 §5.4: packets (NS and NA included) addressed to the
    // tentative address itself are silently discarded.
    let (mut n, _) = tentative_after_first_probe(2);
    let b = na_bytes(ll, a(NEIGHBOR), ll, true, true, Some(RIVAL_MAC));
    n.rx(meta(a(NEIGHBOR), ll, 255, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
    // Hop limit 254.
    let (mut n, _) = tentative_after_first_probe(3);
    let b = na_bytes(ll, ll, a("ff02::1"), false, true, Some(RIVAL_MAC));
    n.rx(meta(ll, a("ff02::1"), 254, RIVAL_MAC), &b);
    assert_dad_completed(&mut n);
}

fn assert_duplicate_at(n: &Node, addr: Ipv6Addr, at: Instant) {
    assert_eq!(
        n.when(addr, AddrState::Duplicate),
        Some(at),
        "{:?}",
        n.events
    );
    assert_eq!(n.s.stats().dad_conflicts, 1);
}

#[test]
fn a_probe_from_another_node_makes_the_tentative_address_duplicate() {
    // RFC 4862 §5.4.3: an NS from :: for our tentative address, from
    // another node, means a duplicate; RFC 7527 §4.2: with no nonce, or a
    // nonce that is not one we sent.
    for nonce in [None, Some([1, 2, 3, 4, 5, 6])] {
        let (mut n, probe) = tentative_after_first_probe(1);
        assert_ne!(nonce.map(|x| x.to_vec()), probe.nonce());
        let at = n.now;
        let out = n.rival_probe(a(LL), nonce);
        assert_duplicate_at(&n, a(LL), at);
        assert_eq!(n.state(a(LL)), Some(AddrState::Duplicate));
        // RFC 4862 §5.4.3: never answered; §5.4.5: not assigned.
        assert!(out.iter().all(|o| o.na().is_none()));
        n.run_for(secs(5));
        assert_eq!(n.probes_for(a(LL)).len(), 1, "no more probes for it");
        assert_eq!(n.when(a(LL), AddrState::Preferred), None);
    }
}

#[test]
fn a_probe_received_before_ours_is_sent_makes_the_address_duplicate() {
    // RFC 4862 §5.4.3: "If a Neighbor Solicitation for a tentative address
    // is received before one is sent, the tentative address is a
    // duplicate"; §5.4.2: datagrams to the solicited-node group are
    // processed during the delay period.
    let mut n = Node::new(config_tentative(3));
    n.rival_probe(a(LL), Some([9, 9, 9, 9, 9, 9]));
    assert_duplicate_at(&n, a(LL), t(0));
    n.run_until(t(5000));
    assert!(n.probes_for(a(LL)).is_empty());
}

#[test]
fn an_advertisement_for_the_tentative_address_makes_it_duplicate() {
    // RFC 4862 §5.4.4: a valid NA whose target is tentative.
    let (mut n, _) = tentative_after_first_probe(1);
    let at = n.now;
    let b = na_bytes(a(LL), a(LL), a("ff02::1"), false, true, Some(RIVAL_MAC));
    n.rx(meta(a(LL), a("ff02::1"), 255, RIVAL_MAC), &b);
    assert_duplicate_at(&n, a(LL), at);
}

#[test]
fn our_own_probe_looped_back_is_not_a_duplicate_and_dad_goes_on() {
    // RFC 4862 §5.4.3 (a solicitation from the node itself is not a
    // duplicate), RFC 7527 §4.2 (matching nonce: dropped, counted) and
    // §4.1 (another MAX_MULTICAST_SOLICIT = 3 probes, RetransTimer apart,
    // each with a new nonce; assigned RetransTimer after the last).
    let mut n = Node::new(config_tentative(6));
    let probe = loop {
        let out = n.run_for(ms(1));
        if let Some(p) = out.into_iter().find(|o| o.probe() == Some(a(LL))) {
            break p;
        }
    };
    let t0 = probe.at;
    n.rx(
        meta(Ipv6Addr::UNSPECIFIED, snm(a(LL)), 255, OUR_MAC),
        &probe.icmp,
    );
    assert_eq!(n.s.stats().rx_dad_loopback, 1);
    assert_eq!(n.s.stats().dad_conflicts, 0);
    assert_eq!(n.state(a(LL)), Some(AddrState::Tentative));
    n.run_for(secs(10));
    let probes = n.probes_for(a(LL));
    let times: Vec<Instant> = probes.iter().map(|p| p.at).collect();
    assert_eq!(times, [t0, t0 + secs(1), t0 + secs(2), t0 + secs(3)]);
    let mut nonces: Vec<_> = probes.iter().map(|p| p.nonce().unwrap()).collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a fresh nonce in every probe");
    assert_eq!(n.when(a(LL), AddrState::Preferred), Some(t0 + secs(4)));
    assert_eq!(n.when(a(LL), AddrState::Duplicate), None);
}

#[test]
fn probing_goes_on_as_long_as_probes_are_looped_back() {
    // RFC 7527 §4.1: each time a probe is looped back, "the interface
    // continues with another MAX_MULTICAST_SOLICIT number of NS(DAD)
    // messages"; only "If no probe is looped back within RetransTimer
    // milliseconds after MAX_MULTICAST_SOLICIT NS(DAD) messages are sent,
    // the probing stops" (or by manual intervention).
    // The RFC's unbounded behaviour, selected by configuration (the default
    // bounds it: see the next test).
    let mut c = config_tentative(6);
    c.dad_loopback_extensions = u8::MAX;
    let mut n = Node::new(c);
    let mut looped = 0;
    while n.now < t(30_000) {
        let out = n.run_for(ms(100));
        for p in out.iter().filter(|o| o.probe() == Some(a(LL))) {
            n.rx(
                meta(Ipv6Addr::UNSPECIFIED, snm(a(LL)), 255, OUR_MAC),
                &p.icmp,
            );
            looped += 1;
        }
    }
    assert!(looped >= 25, "{looped} probes in 30 s");
    assert_eq!(n.s.stats().rx_dad_loopback, looped);
    assert_eq!(n.state(a(LL)), Some(AddrState::Tentative));
}

#[test]
fn by_default_looped_back_probes_extend_dad_at_most_twice() {
    // Config::dad_loopback_extensions (default 2): on a link that loops
    // every probe back, RFC 7527 §4.1 would probe forever; an unattended
    // device assigns the address after 1 + 2 × MAX_MULTICAST_SOLICIT
    // probes instead.
    let mut n = Node::new(config_tentative(6));
    let mut looped = 0u32;
    while n.now < t(30_000) {
        let out = n.run_for(ms(100));
        for p in out.iter().filter(|o| o.probe() == Some(a(LL))) {
            n.rx(
                meta(Ipv6Addr::UNSPECIFIED, snm(a(LL)), 255, OUR_MAC),
                &p.icmp,
            );
            looped += 1;
        }
    }
    assert_eq!(looped, 1 + 2 * 3);
    assert_eq!(n.s.stats().dad_conflicts, 0);
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
}

#[test]
fn our_own_advertisement_coming_back_is_not_a_duplicate() {
    // RFC 4862 §5.4.4 concerns advertisements from other nodes; one with
    // our own link-layer address is ours, looped back (RFC 4862 Appendix
    // A).
    let mut n = settled(config(1));
    let out = n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    let gna = out.iter().find(|o| o.na().is_some()).unwrap().clone();
    // The gratuitous NA exactly as sent, looped back ...
    n.rx(meta(gna.h.src, gna.h.dst, 255, OUR_MAC), &gna.icmp);
    // ... and as an unsolicited NA to all nodes.
    let b = na_bytes(a(G1), a(G1), a("ff02::1"), false, false, Some(OUR_MAC));
    n.rx(meta(a(G1), a("ff02::1"), 255, OUR_MAC), &b);
    assert!(n.s.stats().rx_own_advert >= 1);
    n.run_for(secs(3));
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    assert_eq!(n.s.stats().dad_conflicts, 0);
}

// =====================================================================
// 5. After a conflict (RFC 7217 §6-7, RFC 4862 §5.4.5)
// =====================================================================

#[test]
fn a_duplicate_stable_address_is_replaced_with_dad_counter_plus_one_after_a_random_delay() {
    // RFC 7217 §6: DAD_Counter + 1, a new IID, after a random delay in
    // [0, IDGEN_DELAY = 1 s]. RFC 4862 §5.4.5: the duplicate is not
    // assigned (not answered for, not defended).
    let mut delays = Vec::new();
    for seed in 0..10 {
        let mut n = Node::new(config(seed));
        n.run_until(t(100));
        let (m, b) = dad_ns(a(LL), None);
        n.receive(m, &b);
        assert_duplicate_at(&n, a(LL), t(100));
        assert_eq!(n.state(a(LL)), Some(AddrState::Duplicate));
        // Not answered for, before anything else happens.
        let src = a(NEIGHBOR);
        let b = ns_bytes(
            a(LL),
            src,
            snm(a(LL)),
            &[NdOption::SourceLinkAddr(NEIGHBOR_MAC)],
        );
        n.receive(meta(src, snm(a(LL)), 255, NEIGHBOR_MAC), &b);
        n.receive(m, &b);
        let out = n.run_until(t(100));
        assert!(out.iter().all(|o| o.na().is_none()), "seed {seed}: {out:?}");
        n.run_until(t(5000));
        let removed = n.removed_at(a(LL)).unwrap();
        let new_at = n.when(a(LL1), AddrState::Optimistic).unwrap();
        assert_eq!(removed, new_at);
        assert!(
            t(100) <= new_at && new_at <= t(1100),
            "seed {seed}: {new_at}"
        );
        delays.push(new_at);
        let new = n.addr(a(LL1)).unwrap();
        assert_eq!(new.addr.get(), stable("fe80::", 1));
        assert_eq!(new.dad_counter, 1);
        assert_eq!(new.origin, Origin::LinkLocal);
        assert_eq!(new.state, AddrState::Preferred);
        assert!(n.addr(a(LL)).is_none());
        // The new address was checked too.
        assert_eq!(n.probes_for(a(LL1))[0].at, new_at);
    }
    delays.sort_by_key(|t| t.as_millis());
    delays.dedup();
    assert!(delays.len() >= 5, "IDGEN delays are random: {delays:?}");
}

/// Wait for the SLAAC address of `prefix` with DAD_Counter `counter` to
/// appear optimistic, then make it a duplicate; returns the address.
fn conflict_slaac(n: &mut Node, prefix: &str, counter: u8) -> Ipv6Addr {
    let (iid, c) = iid::generate(IidMode::Stable, &SECRET, &a(prefix), OUR_MAC, counter).unwrap();
    assert_eq!(c, counter, "no reserved IID skipped for these inputs");
    let addr = iid::with_iid(&a(prefix), iid);
    assert_eq!(addr, stable(prefix, counter));
    let deadline = n.now + secs(2);
    while n.state(addr) != Some(AddrState::Optimistic) {
        assert!(n.now < deadline, "no address {addr} (counter {counter})");
        n.run_for(ms(50));
    }
    assert_eq!(n.addr(addr).unwrap().dad_counter, counter);
    n.rival_probe(addr, None);
    assert_eq!(n.state(addr), Some(AddrState::Duplicate));
    addr
}

/// The DAD backoff window for the `step`th attempt after the quick ones:
/// [wait, wait + a tenth], wait = DAD_BACKOFF_BASE doubled `step` times,
/// at most DAD_BACKOFF_MAX.
fn backoff_window(step: u32) -> (Duration, Duration) {
    let wait = DAD_BACKOFF_BASE
        .saturating_mul(1 << step.min(3))
        .min(DAD_BACKOFF_MAX);
    (wait, wait + Duration::from_millis(wait.as_millis() / 10))
}

/// Run until an address of `prefix` other than the duplicates appears;
/// returns it and when.
fn next_candidate(n: &mut Node, prefix: &str, limit: Duration) -> (Ipv6Addr, Instant) {
    let deadline = n.now + limit;
    loop {
        if let Some(x) = n.s.addresses().find(|x| {
            ndp_core::wire::in_prefix(&x.addr.get(), &a(prefix), 64)
                && x.state != AddrState::Duplicate
        }) {
            return (x.addr.get(), n.now);
        }
        assert!(n.now < deadline, "no new candidate for {prefix}");
        let next = n.s.poll_at().unwrap().earlier(deadline);
        n.run_until(next);
    }
}

#[test]
fn a_prefix_under_a_dad_attack_is_retried_with_a_capped_backoff() {
    // RFC 7217 §6-7: IDGEN_RETRIES = 3 quick new addresses. Then, against
    // a node that claims every address (RFC 3756 §4.1.3), slower and
    // slower attempts up to DAD_BACKOFF_MAX, never giving up, so the
    // prefix comes back once the attack stops; other addresses keep
    // working throughout.
    let mut n = settled(config(4));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    let mut tried = Vec::new();
    for counter in 0..4 {
        assert!(
            !n.had_event(|e| matches!(e, Event::AddressFailed { .. })),
            "failed after {counter} conflicts"
        );
        tried.push(conflict_slaac(&mut n, P1, counter));
    }
    assert_eq!(tried[0], a(G1));
    assert_eq!(n.failures(), [(a(P1), 4)]);
    assert_eq!(n.s.stats().dad_gave_up, 1);
    // Slow attempts: each waits its backoff, the router's advertisements
    // notwithstanding; each is a new identifier, reported.
    for step in 0..5u32 {
        let conflict_at = n.now;
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        let (addr, at) = next_candidate(&mut n, P1, secs(30));
        let (lo, hi) = backoff_window(step);
        let waited = at.saturating_duration_since(conflict_at);
        assert!(waited >= lo && waited <= hi, "step {step}: {waited}");
        assert!(!tried.contains(&addr));
        assert!(n.had_event(|e| matches!(e, Event::Address { addr: x, .. } if *x == addr)));
        // The link-local address still works meanwhile.
        let out = n.neighbor_ns(a(LL), snm(a(LL)));
        assert_eq!(out.iter().filter(|o| o.na().is_some()).count(), 1);
        n.rival_probe(addr, None);
        assert_eq!(n.state(addr), Some(AddrState::Duplicate));
        tried.push(addr);
    }
    assert_eq!(n.failures(), [(a(P1), 4)], "reported once");
    assert_eq!(n.s.stats().dad_conflicts, 9);
    // The attack stops: the next attempt, at most DAD_BACKOFF_MAX and a
    // tenth later, is assigned.
    let stopped = n.now;
    let (addr, _) = next_candidate(&mut n, P1, secs(30));
    n.run_for(secs(2));
    assert_eq!(n.state(addr), Some(AddrState::Preferred));
    let back = n.when(addr, AddrState::Optimistic).unwrap();
    assert!(back.saturating_duration_since(stopped) <= backoff_window(9).1);
    // Another prefix was never affected.
    n.ra(&[pio(P2, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(stable(P2, 0)), Some(AddrState::Optimistic));
}

#[test]
fn the_link_local_prefix_is_retried_after_idgen_retries_further_conflicts() {
    // RFC 7217 §6-7 applies to link-local addresses too (§5: "including
    // IPv6 global, link-local, and unique-local addresses"); RFC 4862
    // §5.4.5: a link-local duplicate not based on the hardware address
    // need not disable the interface.
    let mut n = Node::new(config(8));
    n.run_until(t(10));
    let mut tried = Vec::new();
    for counter in 0..4 {
        let addr = stable("fe80::", counter);
        let deadline = n.now + secs(2);
        while n.state(addr) != Some(AddrState::Optimistic) {
            assert!(n.now < deadline, "no address {addr} (counter {counter})");
            n.run_for(ms(50));
        }
        assert_eq!(n.addr(addr).unwrap().dad_counter, counter);
        n.rival_probe(addr, None);
        tried.push(addr);
    }
    assert_eq!(&tried[..2], &[a(LL), a(LL1)]);
    let conflict_at = n.now;
    let (lo, hi) = backoff_window(0);
    n.run_until(conflict_at + lo - ms(1));
    assert_eq!(n.failures(), [(a("fe80::"), 4)]);
    assert!(!n.s.is_disabled());
    assert!(
        n.s.addresses().all(|x| x.state == AddrState::Duplicate),
        "{:?}",
        n.s.addresses().collect::<Vec<_>>()
    );
    // The backoff over, a fifth identifier; nobody claims it.
    let (addr, at) = next_candidate(&mut n, "fe80::", secs(5));
    assert!(at.saturating_duration_since(conflict_at) <= hi);
    assert_eq!(addr, stable("fe80::", 4));
    n.run_for(secs(2));
    assert_eq!(n.state(addr), Some(AddrState::Preferred));
}

#[test]
fn a_duplicate_eui64_link_local_address_disables_the_interface_until_dad_passes() {
    // RFC 4862 §5.4.5: a duplicate link-local address formed from the
    // hardware address: IP operation SHOULD be disabled: nothing sent but
    // the link-local address's own DAD, retried with the capped backoff,
    // everything else received dropped. Once a DAD passes (the clone left)
    // the interface comes back by itself, as an unattended device must.
    for optimistic in [false, true] {
        let mut c = config(2);
        c.iid_mode = IidMode::Eui64;
        c.optimistic_dad = optimistic;
        c.router_solicitations = true;
        let ll = a("fe80::5eff:fe00:5310");
        let mut n = Node::new(c);
        let defend = |n: &mut Node| {
            let b = na_bytes(ll, ll, a("ff02::1"), false, true, Some(RIVAL_MAC));
            n.rx(meta(ll, a("ff02::1"), 255, RIVAL_MAC), &b);
        };
        if optimistic {
            // Defended by its owner with an advertisement.
            n.run_until(t(10));
            defend(&mut n);
        } else {
            n.rival_probe(ll, None);
        }
        let disabled_at = n.now;
        assert!(n.s.is_disabled());
        assert!(n.had_event(|e| *e
            == Event::InterfaceDisabled {
                reason: DisableReason::DuplicateMacAddress
            }));
        assert_eq!(n.state(ll), Some(AddrState::Duplicate));
        // Until the backoff is over: nothing sent, nothing learnt.
        let mark = n.out.len();
        let (lo, hi) = backoff_window(0);
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        n.neighbor_ns(ll, snm(ll));
        n.run_until(disabled_at + lo - ms(1));
        assert!(n.out[mark..].is_empty(), "{:?}", &n.out[mark..]);
        assert_eq!(n.slaac(), []);
        assert_eq!(n.s.route(n.now, a(NEIGHBOR)), Err(RouteError::Disabled));
        // Then a probe for the same address, tentative.
        n.run_until(disabled_at + hi);
        let probes: Vec<Out> = n.out[mark..].to_vec();
        assert_eq!(probes.len(), 1, "{probes:?}");
        assert_eq!(probes[0].probe(), Some(ll));
        assert_eq!(n.state(ll), Some(AddrState::Tentative));
        // Defended again: still disabled, the next probe twice as late.
        defend(&mut n);
        assert!(n.s.is_disabled());
        let again = n.now;
        let before = n.probes_for(ll).len();
        let (lo, hi) = backoff_window(1);
        n.run_until(again + lo - ms(1));
        assert_eq!(n.probes_for(ll).len(), before);
        n.run_until(again + hi);
        assert_eq!(n.probes_for(ll).len(), before + 1);
        // Nobody defends it this time: assigned, and IPv6 runs again.
        n.run_for(secs(2));
        assert_eq!(n.state(ll), Some(AddrState::Preferred));
        assert!(!n.s.is_disabled());
        assert!(n.had_event(|e| *e == Event::InterfaceEnabled));
        assert!(n.out.iter().any(|o| o.is_rs() && o.at > again));
        assert!(n.s.route(n.now, a(NEIGHBOR)).is_ok());
        let out = n.neighbor_ns(ll, snm(ll));
        assert_eq!(out.iter().filter(|o| o.na().is_some()).count(), 1);
    }
}

#[test]
fn a_duplicate_eui64_global_address_is_probed_again_after_the_backoff() {
    // RFC 4862 §5.4.5: the duplicate is not assigned, and only a MAC-based
    // link-local duplicate disables the interface. There is no other
    // identifier to try (RFC 7217 §6), so the same address is probed again
    // after the backoff, until its holder is gone.
    let mut c = config(2);
    c.iid_mode = IidMode::Eui64;
    let mut n = settled(c);
    let ll = a("fe80::5eff:fe00:5310");
    let g = a("2001:db8:1::5eff:fe00:5310");
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(g), Some(AddrState::Optimistic));
    n.rival_probe(g, None);
    let conflict_at = n.now;
    assert_eq!(n.state(g), Some(AddrState::Duplicate));
    assert!(!n.s.is_disabled());
    assert!(n.had_event(|e| matches!(e, Event::AddressFailed { attempts: 1, .. })));
    let (lo, hi) = backoff_window(0);
    n.run_until(conflict_at + lo - ms(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.probes_for(g).len(), 1);
    let out = n.neighbor_ns(ll, snm(ll));
    assert_eq!(out.iter().filter(|o| o.na().is_some()).count(), 1);
    n.run_until(conflict_at + hi);
    assert_eq!(n.probes_for(g).len(), 2);
    n.run_for(secs(2));
    assert_eq!(n.state(g), Some(AddrState::Preferred));
}

// =====================================================================
// 6. Optimistic addresses (RFC 4429 §3.2-3.3)
// =====================================================================

#[test]
fn an_ns_for_an_optimistic_address_from_a_unicast_source_is_answered_with_o_0() {
    // RFC 4429 §3.3: "MUST reply ... but the reply MUST have the Override
    // flag cleared"; RFC 4861 §7.2.4: TLLA included for a multicast NS.
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = Node::new(c);
    n.run_until(t(500));
    assert_eq!(n.state(a(LL)), Some(AddrState::Optimistic));
    for dst in [snm(a(LL)), a(LL)] {
        let out = n.neighbor_ns(a(LL), dst);
        let nas: Vec<&Out> = out.iter().filter(|o| o.na().is_some()).collect();
        assert_eq!(nas.len(), 1, "to {dst}: {out:?}");
        let o = nas[0];
        let na = o.na().unwrap();
        assert_eq!((o.h.src, o.h.dst, o.h.hop_limit), (a(LL), a(NEIGHBOR), 255));
        assert_eq!(o.mac(), NEIGHBOR_MAC);
        assert_eq!(na.target, a(LL));
        assert!(na.solicited_flag && !na.router_flag);
        assert!(!na.override_flag, "O=0 for an optimistic address");
        if dst.is_multicast() {
            assert_eq!(na.options.target_link_addr(), Some(OUR_MAC));
        }
    }
    assert_eq!(n.state(a(LL)), Some(AddrState::Optimistic));
}

#[test]
fn a_probe_for_an_optimistic_address_makes_it_duplicate_and_is_not_answered() {
    // RFC 4429 §3.3: "MUST NOT reply to a Neighbor Solicitation for an
    // Optimistic Address from the unspecified address. Receipt of such an
    // NS indicates that the address is a duplicate".
    let mut n = Node::new(config(1));
    n.run_until(t(400));
    let out = n.rival_probe(a(LL), Some([7; 6]));
    assert!(out.iter().all(|o| o.na().is_none()), "{out:?}");
    assert_duplicate_at(&n, a(LL), t(400));
}

#[test]
fn an_advertisement_for_an_optimistic_address_makes_it_duplicate() {
    // RFC 4429 §4.2: "When an NA is received from the collidee defending
    // the address, the ON immediately stops using the address".
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_for(ms(300));
    let at = n.now;
    let b = na_bytes(a(G1), a(G1), a("ff02::1"), false, true, Some(RIVAL_MAC));
    n.rx(meta(a(G1), a("ff02::1"), 255, RIVAL_MAC), &b);
    assert_duplicate_at(&n, a(G1), at);
}

/// The instant a duplicate is found, its solicited-node group is left: a
/// CHANGE_TO_INCLUDE record goes out at once (RFC 3810 §6.1), before the
/// DAD probe that was next due.
fn assert_left_at_once(out: &[Out], addr: Ipv6Addr, at: Instant) {
    let leave = out
        .iter()
        .find(|o| o.reports(RecordType::ChangeToInclude, snm(addr)))
        .unwrap_or_else(|| panic!("no report leaving {addr}'s group at once: {out:?}"));
    assert_eq!(leave.at, at);
}

#[test]
fn a_conflict_found_by_a_probe_is_acted_on_at_once() {
    // RFC 4862 §5.4.3 with RFC 4429 §3.3: the optimistic global address is
    // a duplicate when another node probes for it; the group goes at once
    // although the next DAD timer is later.
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = settled(c);
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_for(ms(300));
    let at = n.now;
    let out = n.rival_probe(a(G1), Some([7; 6]));
    assert_duplicate_at(&n, a(G1), at);
    assert_left_at_once(&out, a(G1), at);
}

#[test]
fn a_conflict_found_by_an_advertisement_is_acted_on_at_once() {
    // RFC 4862 §5.4.4, RFC 4429 §4.2: the same when the owner defends it.
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = settled(c);
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_for(ms(300));
    let at = n.now;
    let b = na_bytes(a(G1), a(G1), a("ff02::1"), false, true, Some(RIVAL_MAC));
    let out = n.rx(meta(a(G1), a("ff02::1"), 255, RIVAL_MAC), &b);
    assert_duplicate_at(&n, a(G1), at);
    assert_left_at_once(&out, a(G1), at);
}

#[test]
fn no_solicitation_is_sent_from_an_optimistic_address() {
    // RFC 4429 §3.2: "A node MUST NOT use an Optimistic Address as the
    // source address of a Neighbor Solicitation"; the packet waits until
    // DAD completes.
    let mut c = config(1);
    c.dad_transmits = 2;
    let mut n = Node::new(c);
    n.run_until(t(100));
    let p = common::packet(a(LL), a(NEIGHBOR), 8, 1);
    assert_eq!(n.s.send(n.now, &p), Ok(Dispatch::Queued));
    n.run_until(t(6000));
    let preferred = n.when(a(LL), AddrState::Preferred).unwrap();
    assert_eq!(preferred, t(2000));
    let ns: Vec<&Out> = n
        .out
        .iter()
        .filter(|o| o.resolution_ns().is_some())
        .collect();
    assert!(!ns.is_empty(), "resolution proceeds once DAD is done");
    for o in &ns {
        assert!(o.at >= preferred, "NS while optimistic: {o:?}");
        assert_eq!(o.h.src, a(LL));
    }
    // A global optimistic address beside a preferred link-local one:
    // whatever is solicited, never from the optimistic address.
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = Node::new(c);
    n.run_until(t(3500));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_for(ms(10));
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    let p = common::packet(a(G1), a("2001:db8:1::99"), 8, 1);
    let _ = n.s.send(n.now, &p);
    n.run_for(secs(10));
    let g_preferred = n.when(a(G1), AddrState::Preferred).unwrap();
    for o in n.out.iter().filter(|o| o.resolution_ns().is_some()) {
        assert!(
            o.h.src != a(G1) || o.at >= g_preferred,
            "NS from the optimistic address: {o:?}"
        );
    }
}

#[test]
fn a_packet_from_an_optimistic_address_does_not_start_address_resolution() {
    // RFC 4429 §3.2: "When a node has a unicast packet to send from an
    // Optimistic Address to a neighbor, but does not know the neighbor's
    // link-layer address, it MUST NOT perform Address Resolution. It
    // SHOULD forward the packet to a default router ... Otherwise, it
    // SHOULD buffer the packet until DAD is complete."
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = Node::new(c);
    n.run_until(t(3500));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    let dst = a("2001:db8:1::99");
    let p = common::packet(a(G1), dst, 8, 1);
    let sent = n.s.send(n.now, &p);
    assert!(
        matches!(sent, Ok(Dispatch::Transmit(ROUTER_MAC) | Dispatch::Queued)),
        "{sent:?}"
    );
    n.run_for(secs(10));
    let g_preferred = n.when(a(G1), AddrState::Preferred).unwrap();
    for o in &n.out {
        if let Some(ns) = o.resolution_ns() {
            assert!(
                ns.target != dst || o.at >= g_preferred,
                "address resolution for a packet from an optimistic address: {o:?}"
            );
        }
    }
}

#[test]
fn a_packet_from_an_optimistic_address_goes_via_a_router_whose_address_is_known() {
    // RFC 4429 §3.2: "It SHOULD forward the packet to a default router on
    // the link in the hope that the packet will be redirected."
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = Node::new(c);
    n.run_until(t(3500));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    let p = common::packet(a(G1), a("2001:db8:1::99"), 8, 1);
    assert_eq!(n.s.send(n.now, &p), Ok(Dispatch::Transmit(ROUTER_MAC)));
    // The same packet from the preferred link-local address resolves the
    // on-link destination as usual.
    let p = common::packet(a(LL), a("2001:db8:1::99"), 8, 1);
    assert_eq!(n.s.send(n.now, &p), Ok(Dispatch::Queued));
}

#[test]
fn without_a_known_router_a_packet_from_an_optimistic_address_waits_for_dad() {
    // RFC 4429 §3.2: "Otherwise, it SHOULD buffer the packet until DAD is
    // complete": no NS for its destination while its source is optimistic.
    let mut c = config(2);
    c.dad_transmits = 2;
    let mut n = Node::new(c);
    assert_eq!(n.state(a(LL)), Some(AddrState::Optimistic));
    let dst = a("fe80::99");
    assert_eq!(
        n.s.send(n.now, &common::packet(a(LL), dst, 8, 1)),
        Ok(Dispatch::Queued)
    );
    n.run_for(secs(5));
    let preferred = n.when(a(LL), AddrState::Preferred).unwrap();
    let ns: Vec<Instant> = n
        .out
        .iter()
        .filter(|o| o.resolution_ns().is_some_and(|x| x.target == dst))
        .map(|o| o.at)
        .collect();
    assert!(
        !ns.is_empty(),
        "resolution happens once the source is preferred"
    );
    assert!(
        ns.iter().all(|at| *at >= preferred),
        "{ns:?} before {preferred}"
    );
}

#[test]
fn resolution_for_a_packet_from_an_optimistic_address_waits_even_when_another_address_could_solicit()
 {
    // RFC 4429 §3.2 again, with a preferred link-local address that could
    // source the NS: the packet's own source decides, so resolution still
    // waits for the optimistic global address's DAD.
    let mut c = config(1);
    c.dad_transmits = 3;
    let mut n = Node::new(c);
    n.run_until(t(3500));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    // The router says it is no longer a router (RFC 4861 §7.2.5): it
    // leaves the default router list, so there is no detour either.
    let b = na_bytes(a(ROUTER), a(ROUTER), a(LL), false, false, None);
    n.rx(meta(a(ROUTER), a(LL), 255, ROUTER_MAC), &b);
    assert_eq!(n.s.routers().count(), 0);
    let dst = a("2001:db8:1::99");
    assert_eq!(
        n.s.send(n.now, &common::packet(a(G1), dst, 8, 1)),
        Ok(Dispatch::Queued)
    );
    n.run_for(secs(10));
    let preferred = n.when(a(G1), AddrState::Preferred).unwrap();
    let ns: Vec<&Out> = n
        .out
        .iter()
        .filter(|o| o.resolution_ns().is_some_and(|x| x.target == dst))
        .collect();
    assert!(
        !ns.is_empty(),
        "resolution happens once the source is preferred"
    );
    for o in ns {
        assert!(o.at >= preferred, "NS before {preferred:?}: {o:?}");
    }
}

#[test]
fn router_solicitations_never_carry_a_slla_from_an_optimistic_or_tentative_address() {
    // RFC 4429 §3.2: "A node MUST NOT send a Router Solicitation with a
    // SLLAO from an Optimistic Address"; RFC 4861 §4.1: no SLLA from ::;
    // RFC 4862 §5.4: a tentative address is not assigned, so not a source.
    for optimistic in [true, false] {
        for seed in 0..4 {
            let mut c = config(seed);
            c.optimistic_dad = optimistic;
            c.dad_transmits = 3;
            c.router_solicitations = true;
            let mut n = Node::new(c);
            n.run_until(t(15_000));
            let preferred = n.when(a(LL), AddrState::Preferred).unwrap();
            let rs: Vec<&Out> = n.out.iter().filter(|o| o.is_rs()).collect();
            assert!(rs.iter().any(|o| o.at < preferred), "an RS during DAD");
            assert!(rs.iter().any(|o| o.at >= preferred), "an RS after DAD");
            for o in rs {
                let Message::RouterSolicit(m) = o.msg() else {
                    panic!()
                };
                assert_eq!((o.h.dst, o.h.hop_limit), (a("ff02::2"), 255));
                if o.at < preferred {
                    let ok = o.h.src.is_unspecified() || (optimistic && o.h.src == a(LL));
                    assert!(ok, "RS source during DAD: {o:?}");
                    assert!(m.options.source_link_addr().is_none(), "{o:?}");
                } else {
                    // Once preferred: from it, with our link-layer address
                    // (RFC 4861 §4.1 SHOULD).
                    assert_eq!(o.h.src, a(LL));
                    assert_eq!(m.options.source_link_addr(), Some(OUR_MAC));
                }
            }
        }
    }
}

#[test]
fn a_new_address_is_not_optimistic_while_the_router_link_layer_address_is_unknown() {
    // RFC 4429 §3.3: "A host that does not know the SLLAO of its router
    // SHOULD NOT configure a new address as Optimistic."
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], false);
    assert_eq!(n.state(a(G1)), Some(AddrState::Tentative));
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
}

// =====================================================================
// 7. Answering solicitations (RFC 4861 §7.2.4, RFC 4862 §5.4.3)
// =====================================================================

#[test]
fn a_multicast_ns_for_a_preferred_address_gets_s1_o1_with_tlla() {
    // RFC 4861 §7.2.4: to the source, S=1; multicast NS: TLLA MUST be
    // included, and then O SHOULD be 1; R=0 for a host.
    let mut n = settled(config(1));
    let out = n.neighbor_ns(a(LL), snm(a(LL)));
    assert_eq!(out.len(), 1, "{out:?}");
    let o = &out[0];
    let na = o.na().unwrap();
    assert_eq!((o.h.src, o.h.dst, o.h.hop_limit), (a(LL), a(NEIGHBOR), 255));
    assert_eq!(o.mac(), NEIGHBOR_MAC);
    assert_eq!(na.target, a(LL));
    assert!(na.solicited_flag && na.override_flag && !na.router_flag);
    assert_eq!(na.options.target_link_addr(), Some(OUR_MAC));
}

#[test]
fn a_unicast_ns_for_a_preferred_address_gets_s1_and_o_only_with_tlla() {
    // RFC 4861 §7.2.4: TLLA MAY be omitted for a unicast NS; "If ... the
    // Target Link-Layer Address option is not included, the Override flag
    // SHOULD be set to zero. Otherwise, the Override flag SHOULD be set to
    // one."
    let mut n = settled(config(1));
    let out = n.neighbor_ns(a(LL), a(LL));
    assert_eq!(out.len(), 1, "{out:?}");
    let o = &out[0];
    let na = o.na().unwrap();
    assert_eq!((o.h.src, o.h.dst), (a(LL), a(NEIGHBOR)));
    assert_eq!(o.mac(), NEIGHBOR_MAC);
    assert!(na.solicited_flag && !na.router_flag);
    let tlla = na.options.target_link_addr();
    assert_eq!(na.override_flag, tlla.is_some(), "{na:?}");
    assert!(tlla.is_none_or(|m| m == OUR_MAC));
}

#[test]
fn a_probe_for_a_preferred_address_is_defended_to_all_nodes() {
    // RFC 4861 §7.2.4: source :: → S=0, multicast to all-nodes; TLLA
    // (multicast NS) and O=1. RFC 4862 §5.4.3: not tentative, so processed
    // as in RFC 4861, and the address stays ours.
    let mut n = settled(config(1));
    let out = n.rival_probe(a(LL), Some([3; 6]));
    assert_eq!(out.len(), 1, "{out:?}");
    let o = &out[0];
    let na = o.na().unwrap();
    assert_eq!(
        (o.h.src, o.h.dst, o.h.hop_limit),
        (a(LL), a("ff02::1"), 255)
    );
    assert_eq!(o.mac(), MacAddr([0x33, 0x33, 0, 0, 0, 1]));
    assert_eq!(na.target, a(LL));
    assert!(!na.solicited_flag && na.override_flag && !na.router_flag);
    assert_eq!(na.options.target_link_addr(), Some(OUR_MAC));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
}

#[test]
fn an_ns_for_a_tentative_address_from_a_unicast_source_is_ignored() {
    // RFC 4862 §5.4.3: "the solicitation should be silently ignored ...
    // a node MUST NOT respond to a Neighbor Solicitation for a tentative
    // address"; it is address resolution, not a conflict.
    let (mut n, _) = tentative_after_first_probe(1);
    let out = n.neighbor_ns(a(LL), snm(a(LL)));
    assert!(out.is_empty(), "{out:?}");
    let out = n.neighbor_ns(a(LL), a(LL));
    assert!(out.is_empty(), "{out:?}");
    assert_dad_completed(&mut n);
}

#[test]
fn an_ns_for_a_deprecated_address_is_still_answered() {
    // RFC 4862 §5.5.4: a deprecated address is still valid: datagrams to
    // it are accepted and it is defended/answered as assigned.
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, 0)], true);
    n.run_for(secs(3));
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
    let out = n.neighbor_ns(a(G1), snm(a(G1)));
    let nas: Vec<_> = out.iter().filter_map(|o| o.na()).collect();
    assert_eq!(nas.len(), 1, "{out:?}");
    assert!(nas[0].solicited_flag && nas[0].target == a(G1));
}

// =====================================================================
// 8. SLAAC (RFC 4862 §5.5.3, §5.5.4)
// =====================================================================

#[test]
fn a_prefix_without_the_a_flag_forms_no_address() {
    // RFC 4862 §5.5.3 (a); the L flag still makes it on-link.
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, false, INF, INF)], true);
    n.run_for(secs(3));
    assert_eq!(n.slaac(), []);
    assert!(n.s.prefixes().any(|p| p.prefix == a(P1) && p.len == 64));
}

#[test]
fn the_link_local_prefix_forms_no_address() {
    // RFC 4862 §5.5.3 (b).
    let mut n = settled(config(1));
    n.ra(&[pio("fe80::", 64, false, true, INF, INF)], true);
    n.run_for(secs(3));
    assert_eq!(n.s.addresses().count(), 1);
    assert_eq!(n.s.stats().slaac_ignored, 1);
}

#[test]
fn a_preferred_lifetime_above_the_valid_lifetime_forms_no_address() {
    // RFC 4862 §5.5.3 (c).
    let mut n = settled(config(1));
    n.ra(
        &[
            pio(P1, 64, false, true, 100, 200),
            pio(P2, 64, false, true, 100, INF),
        ],
        true,
    );
    n.run_for(secs(3));
    assert_eq!(n.slaac(), []);
    assert_eq!(n.s.stats().slaac_ignored, 2);
}

#[test]
fn a_prefix_length_other_than_64_forms_no_address_but_is_still_on_link() {
    // RFC 4862 §5.5.3 (d): prefix length + 64-bit IID != 128: ignored for
    // SLAAC; RFC 4861 §6.3.4: on-link determination uses it regardless.
    let mut n = settled(config(1));
    n.ra(
        &[
            pio("2001:db8:10::", 48, true, true, INF, INF),
            pio("2001:db8:20::", 96, true, true, INF, INF),
        ],
        true,
    );
    n.run_for(secs(3));
    assert_eq!(n.slaac(), []);
    assert_eq!(n.s.stats().slaac_ignored, 2);
    assert!(
        n.s.prefixes()
            .any(|p| p.prefix == a("2001:db8:10::") && p.len == 48)
    );
    assert!(
        n.s.prefixes()
            .any(|p| p.prefix == a("2001:db8:20::") && p.len == 96)
    );
}

#[test]
fn a_new_prefix_forms_an_address_with_the_option_lifetimes() {
    // RFC 4862 §5.5.3 (d): prefix + IID (RFC 7217 §5 for that prefix),
    // lifetimes initialized from the option.
    let mut n = settled(config(1));
    let at = n.now;
    n.ra(
        &[
            pio(P1, 64, true, true, 7200, 3600),
            pio(P2, 64, true, true, INF, INF),
        ],
        true,
    );
    let g = n.addr(a(G1)).unwrap();
    assert_eq!(g.addr.get(), stable(P1, 0));
    assert_eq!(g.prefix_len, 64);
    assert_eq!(g.origin, Origin::Slaac);
    assert_eq!(g.dad_counter, 0);
    assert_eq!(n.now, at);
    assert_eq!(n.left(g.valid_until), Some(7200));
    assert_eq!(n.left(g.preferred_until), Some(3600));
    assert_eq!(n.when(a(G1), AddrState::Optimistic), Some(at));
    let g2 = n.addr(stable(P2, 0)).unwrap();
    assert_eq!(
        (g2.valid_until, g2.preferred_until),
        (Expiry::NEVER, Expiry::NEVER)
    );
}

#[test]
fn a_zero_valid_lifetime_for_an_unknown_prefix_forms_nothing() {
    // RFC 4862 §5.5.3 (d): "and if the Valid Lifetime is not 0".
    let mut n = settled(config(1));
    let mark = n.out.len();
    n.ra(&[pio(P1, 64, true, true, 0, 0)], true);
    n.run_for(secs(3));
    assert_eq!(n.slaac(), []);
    assert!(!n.had_event(|e| matches!(
        e,
        Event::Address { addr, .. } | Event::AddressRemoved { addr, .. } if *addr == a(G1)
    )));
    // Nothing at all about it on the wire: no report, probe or
    // announcement. The one frame is the new router's admission probe
    // (RFC 4191 §3.5), answered.
    let out = &n.out[mark..];
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(matches!(out[0].msg(), Message::NeighborSolicit(ns) if ns.target == a(ROUTER)));
    assert!(n.s.routers().all(|r| r.proven));
}

/// A node with a preferred SLAAC address for P1 with these lifetimes.
fn with_slaac(valid: u32, pref: u32) -> Node {
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, valid, pref)], true);
    n.run_for(secs(2));
    assert!(n.addr(a(G1)).is_some());
    n
}

#[test]
fn the_preferred_lifetime_of_an_existing_address_is_always_reset() {
    // RFC 4862 §5.5.3 (e): "the preferred lifetime of the address is reset
    // to the Preferred Lifetime in the received advertisement", shorter
    // or longer.
    let mut n = with_slaac(10 * HOUR, HOUR);
    n.ra(&[pio(P1, 64, true, true, 10 * HOUR, 600)], true);
    assert_eq!(n.left(n.addr(a(G1)).unwrap().preferred_until), Some(600));
    n.run_for(secs(1));
    n.ra(&[pio(P1, 64, true, true, 10 * HOUR, 5 * HOUR)], true);
    assert_eq!(
        n.left(n.addr(a(G1)).unwrap().preferred_until),
        Some(5 * 3600)
    );
}

#[test]
fn two_hour_rule_a_valid_lifetime_above_two_hours_is_taken() {
    // RFC 4862 §5.5.3 (e) 1: greater than 2 hours: taken, even if shorter
    // than what remains.
    let mut n = with_slaac(10 * HOUR, HOUR);
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, HOUR)], true);
    assert_eq!(n.left(n.addr(a(G1)).unwrap().valid_until), Some(3 * 3600));
}

#[test]
fn two_hour_rule_a_valid_lifetime_above_the_remaining_one_is_taken() {
    // RFC 4862 §5.5.3 (e) 1: greater than RemainingLifetime: taken.
    let mut n = with_slaac(1800, 600);
    n.ra(&[pio(P1, 64, true, true, 3600, 600)], true);
    assert_eq!(n.left(n.addr(a(G1)).unwrap().valid_until), Some(3600));
}

#[test]
fn two_hour_rule_a_short_lifetime_is_ignored_when_at_most_two_hours_remain() {
    // RFC 4862 §5.5.3 (e) 2: RemainingLifetime <= 2 hours: the valid
    // lifetime is left alone (unauthenticated RA), the preferred one is
    // still reset.
    let mut n = with_slaac(HOUR, 600);
    let before = n.addr(a(G1)).unwrap().valid_until;
    n.ra(&[pio(P1, 64, true, true, 60, 30)], true);
    let g = n.addr(a(G1)).unwrap();
    assert_eq!(g.valid_until, before);
    assert_eq!(n.left(g.preferred_until), Some(30));
    // Exactly two hours remaining (well, a second under) counts too.
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, 7200, 600)], true);
    let before = n.addr(a(G1)).unwrap().valid_until;
    n.run_for(secs(1));
    n.ra(&[pio(P1, 64, true, true, 0, 0)], true);
    assert_eq!(n.addr(a(G1)).unwrap().valid_until, before);
}

#[test]
fn two_hour_rule_a_short_lifetime_becomes_two_hours_when_more_remains() {
    // RFC 4862 §5.5.3 (e) 3: otherwise, two hours (this defeats a bogus
    // RA with a short valid lifetime, zero included).
    for (valid, pref) in [(60, 30), (0, 0), (7200, 0)] {
        let mut n = with_slaac(10 * HOUR, HOUR);
        n.ra(&[pio(P1, 64, true, true, valid, pref)], true);
        assert_eq!(
            n.left(n.addr(a(G1)).unwrap().valid_until),
            Some(7200),
            "valid {valid}"
        );
    }
}

#[test]
fn two_hour_rule_with_infinite_lifetimes() {
    // RFC 4862 §5.5.3 (e): infinity is greater than 2 hours (rule 1);
    // a short lifetime against an infinite remaining one gives 2 hours
    // (rule 3).
    let mut n = with_slaac(HOUR, 600);
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    let g = n.addr(a(G1)).unwrap();
    assert_eq!(
        (g.valid_until, g.preferred_until),
        (Expiry::NEVER, Expiry::NEVER)
    );
    n.run_for(secs(1));
    n.ra(&[pio(P1, 64, true, true, 60, 30)], true);
    assert_eq!(n.left(n.addr(a(G1)).unwrap().valid_until), Some(7200));
    n.run_for(secs(1));
    n.ra(&[pio(P1, 64, true, true, INF, 30)], true);
    assert_eq!(n.addr(a(G1)).unwrap().valid_until, Expiry::NEVER);
    n.run_for(secs(1));
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, 30)], true);
    assert_eq!(
        n.left(n.addr(a(G1)).unwrap().valid_until),
        Some(3 * 3600),
        "rule 1 applies to a finite value above two hours"
    );
}

#[test]
fn an_address_is_deprecated_at_its_preferred_lifetime_and_removed_at_its_valid_lifetime() {
    // RFC 4862 §5.5.4: deprecated when the preferred lifetime expires,
    // invalid (gone) when the valid lifetime expires; RFC 3810 §6.1: its
    // solicited-node group is left with CHANGE_TO_INCLUDE({}), Robustness
    // times within the Unsolicited Report Interval.
    let mut n = settled(config(1));
    let t0 = n.now;
    n.ra(&[pio(P1, 64, true, true, 20, 10)], true);
    let group = snm(a(G1));
    n.run_until(t0 + secs(10) - ms(1));
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    n.run_until(t0 + secs(10));
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
    assert_eq!(n.when(a(G1), AddrState::Deprecated), Some(t0 + secs(10)));
    n.run_until(t0 + secs(20) - ms(1));
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
    assert!(n.joined(group));
    n.run_until(t0 + secs(20));
    assert_eq!(n.addr(a(G1)), None);
    assert_eq!(n.removed_at(a(G1)), Some(t0 + secs(20)));
    assert!(!n.joined(group));
    n.run_until(t0 + secs(30));
    let leaves: Vec<Instant> = n
        .out
        .iter()
        .filter(|o| o.reports(RecordType::ChangeToInclude, group))
        .map(|o| o.at)
        .collect();
    assert_eq!(leaves.len(), 2, "{leaves:?}");
    assert_eq!(leaves[0], t0 + secs(20));
    assert!(leaves[1] > leaves[0] && leaves[1] <= leaves[0] + secs(1));
    // "MUST NOT be recognized as a destination": not answered for.
    let out = n.neighbor_ns(a(G1), group);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn leaving_a_group_ends_the_retransmissions_of_its_join() {
    // RFC 3810 §6.1: a further change to the same group is reported at
    // once, and "terminates retransmissions of the earlier State Change
    // Reports for the same multicast address".
    for seed in 0..8 {
        let mut n = settled(config(seed));
        let t0 = n.now;
        n.ra(&[pio(P1, 64, true, true, 1, 1)], true);
        n.run_until(t0 + secs(5));
        let group = snm(a(G1));
        assert_eq!(n.removed_at(a(G1)), Some(t0 + secs(1)));
        let removed = t0 + secs(1);
        let joins_after: Vec<&Out> = n
            .out
            .iter()
            .filter(|o| o.at >= removed && o.reports(RecordType::ChangeToExclude, group))
            .collect();
        assert!(joins_after.is_empty(), "seed {seed}: {joins_after:?}");
        let leave = n
            .out
            .iter()
            .find(|o| o.reports(RecordType::ChangeToInclude, group))
            .unwrap();
        assert_eq!(leave.at, removed, "seed {seed}: reported at once");
    }
}

#[test]
fn a_new_preferred_lifetime_revives_a_deprecated_address() {
    // RFC 4862 §5.5.3 (e): the preferred lifetime is reset; a deprecated
    // address with a preferred lifetime left is preferred (§5.5.4).
    let mut n = settled(config(1));
    let t0 = n.now;
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, 10)], true);
    n.run_until(t0 + secs(15));
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
    let at = n.now;
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, 600)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    let revived = n.events.iter().rev().find_map(|(when, e)| match e {
        Event::Address {
            addr,
            state: AddrState::Preferred,
            ..
        } if *addr == a(G1) => Some(*when),
        _ => None,
    });
    assert_eq!(revived, Some(at));
    assert_eq!(n.now, at);
    assert_eq!(n.left(n.addr(a(G1)).unwrap().preferred_until), Some(600));
    n.run_until(at + secs(600));
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
}

#[test]
fn a_zero_preferred_lifetime_deprecates_a_preferred_address_at_once() {
    // RFC 4862 §5.5.3 (e): preferred lifetime reset to 0 → expired now
    // (§5.5.4).
    let mut n = with_slaac(3 * HOUR, HOUR);
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    let at = n.now;
    n.ra(&[pio(P1, 64, true, true, 3 * HOUR, 0)], true);
    assert_eq!(n.state(a(G1)), Some(AddrState::Deprecated));
    assert_eq!(n.when(a(G1), AddrState::Deprecated), Some(at));
}

#[test]
fn a_full_address_table_refuses_further_slaac_addresses() {
    // Fixed memory: the link-local address and three SLAAC addresses.
    let mut n = settled(config(1));
    n.ra(
        &[
            pio(P1, 64, true, true, INF, INF),
            pio(P2, 64, true, true, INF, INF),
            pio(P3, 64, true, true, INF, INF),
        ],
        true,
    );
    assert_eq!(n.slaac().len(), 3);
    n.run_for(secs(1));
    n.ra(&[pio(P4, 64, true, true, INF, INF)], true);
    n.run_for(secs(3));
    assert_eq!(n.s.stats().slaac_refused, 1);
    assert_eq!(n.s.addresses().count(), 4);
    assert!(n.addr(stable(P4, 0)).is_none());
    assert!(n.probes_for(stable(P4, 0)).is_empty());
    assert!(n.slaac().iter().all(|x| x.state == AddrState::Preferred));
}

// =====================================================================
// 9. Gratuitous neighbor advertisements (RFC 9131 §6.1.2, RFC 4861 §7.2.6)
// =====================================================================

/// The unsolicited NAs sent for `target`.
fn gratuitous(n: &Node, target: Ipv6Addr) -> Vec<Out> {
    n.out
        .iter()
        .filter(|o| {
            o.na()
                .is_some_and(|na| na.target == target && !na.solicited_flag)
        })
        .cloned()
        .collect()
}

fn assert_gratuitous_format(o: &Out, target: Ipv6Addr) {
    let na = o.na().unwrap();
    assert_eq!(o.h.dst, a("ff02::2"), "to all routers");
    assert_eq!(o.mac(), MacAddr([0x33, 0x33, 0, 0, 0, 2]));
    assert_eq!(o.h.hop_limit, 255);
    assert_eq!(o.h.src, target);
    assert_eq!(na.target, target);
    assert!(!na.solicited_flag, "S MUST be 0");
    assert!(!na.router_flag, "a host");
    assert!(!na.override_flag, "O not set (MUST NOT while optimistic)");
    assert_eq!(na.options.target_link_addr(), Some(OUR_MAC));
}

#[test]
fn a_new_optimistic_global_address_is_announced_to_the_routers() {
    // RFC 9131 §6.1.2: up to MAX_NEIGHBOR_ADVERTISEMENT NAs, the first as
    // soon as the optimistic address is assigned, at least RetransTimer
    // apart, to ff02::2, O=0; RFC 4861 §7.2.6: S=0, R=0, TLLA.
    let mut c = config(1);
    c.retrans_timer = ms(1500);
    let mut n = Node::new(c);
    n.run_until(t(5000));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    let at = n.now;
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    n.run_for(secs(20));
    let gnas = gratuitous(&n, a(G1));
    assert_eq!(gnas.len(), 3, "{gnas:?}");
    assert_eq!(gnas[0].at, at);
    for w in gnas.windows(2) {
        assert!(w[1].at >= w[0].at + ms(1500), "{:?} {:?}", w[0].at, w[1].at);
    }
    for o in &gnas {
        assert_gratuitous_format(o, a(G1));
    }
}

#[test]
fn without_optimistic_dad_the_announcement_waits_for_the_preferred_state() {
    // RFC 9131 §6.1.2: "If Optimistic DAD is not used: An address changes
    // the state from tentative to preferred."
    for seed in 0..4 {
        let mut n = Node::new(config_tentative(seed));
        n.run_until(t(3000));
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        assert_eq!(n.state(a(G1)), Some(AddrState::Tentative));
        n.run_for(secs(20));
        let preferred = n.when(a(G1), AddrState::Preferred).unwrap();
        let gnas = gratuitous(&n, a(G1));
        assert_eq!(gnas.len(), 3, "seed {seed}: {gnas:?}");
        assert_eq!(gnas[0].at, preferred, "none while tentative, first at once");
        for w in gnas.windows(2) {
            assert!(w[1].at >= w[0].at + secs(1));
        }
        for o in &gnas {
            assert_gratuitous_format(o, a(G1));
        }
    }
}

#[test]
fn gratuitous_na_zero_sends_none() {
    // The count is "up to MAX_NEIGHBOR_ADVERTISEMENT"; configured 0: none.
    for optimistic in [true, false] {
        let mut c = config(1);
        c.gratuitous_na = 0;
        c.optimistic_dad = optimistic;
        let mut n = Node::new(c);
        n.run_until(t(3000));
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        n.run_for(secs(20));
        assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
        assert!(gratuitous(&n, a(G1)).is_empty());
        assert_eq!(n.s.stats().tx_gratuitous_na, 0);
    }
}

#[test]
fn the_link_local_address_is_never_announced() {
    // RFC 9131 §6.1.2: for "a new global IPv6 address".
    for optimistic in [true, false] {
        let mut c = config(1);
        c.optimistic_dad = optimistic;
        let mut n = Node::new(c);
        n.run_until(t(20_000));
        assert!(gratuitous(&n, a(LL)).is_empty());
        assert!(n.out.iter().all(|o| o.na().is_none()));
    }
}

#[test]
fn announcements_stop_when_the_address_turns_out_duplicate() {
    // RFC 4862 §5.4.5 / RFC 4429 §4.2: a duplicate is not used, so not
    // advertised any more.
    let mut n = settled(config(1));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    assert_eq!(gratuitous(&n, a(G1)).len(), 1);
    n.run_for(ms(300));
    n.rival_probe(a(G1), None);
    n.run_for(secs(10));
    assert_eq!(gratuitous(&n, a(G1)).len(), 1);
}

// =====================================================================
// 10. MLDv2 listener (RFC 3810, RFC 3590, RFC 2710)
// =====================================================================

/// RFC 3810 §5: hop limit 1, Router Alert (RFC 2711: option type 5,
/// length 2, value 0) in a Hop-by-Hop header.
fn assert_mld_framing(o: &Out) {
    assert_eq!(o.h.hop_limit, 1, "{o:?}");
    assert_eq!(o.h.next_header, 0);
    let hbh = o.hbh.as_ref().expect("a Hop-by-Hop header");
    let mut opts = &hbh[2..];
    let mut router_alert = None;
    while !opts.is_empty() {
        if opts[0] == 0 {
            opts = &opts[1..];
            continue;
        }
        let len = usize::from(opts[1]);
        if opts[0] == 5 {
            router_alert = Some(opts[2..2 + len].to_vec());
        }
        opts = &opts[2 + len..];
    }
    assert_eq!(router_alert, Some(vec![0, 0]), "{hbh:?}");
    // RFC 3810 §6, RFC 2710 §5: never a message about ff02::1.
    for r in o.records() {
        assert_ne!(r.1, a("ff02::1"));
    }
    if let Message::MldV1Report(m) | Message::MldV1Done(m) = o.msg() {
        assert_ne!(m.group, a("ff02::1"));
    }
}

fn mld(out: &[Out]) -> Vec<Out> {
    let m: Vec<Out> = out.iter().filter(|o| o.is_mld()).cloned().collect();
    m.iter().for_each(assert_mld_framing);
    m
}

#[test]
fn joins_are_reported_to_ff02_16_robustness_times_with_change_to_exclude() {
    // RFC 3810 §5, §5.2.14 (to ff02::16), §6.1 (TO_EX({}) on joining,
    // Robustness Variable = 2 transmissions, the retransmission within
    // (0, Unsolicited Report Interval = 1 s]), §6 (never ff02::1).
    for seed in 0..6 {
        let mut c = config(seed);
        c.dad_transmits = 0;
        let mut n = Node::new(c);
        let out = mld(&n.run_until(t(5000)));
        assert_eq!(out.len(), 2, "seed {seed}: {out:?}");
        for o in &out {
            assert_eq!((o.h.src, o.h.dst), (a(LL), a("ff02::16")));
            assert_eq!(o.mac(), MacAddr([0x33, 0x33, 0, 0, 0, 0x16]));
            assert_eq!(o.records(), [(RecordType::ChangeToExclude, snm(a(LL)), 0)]);
        }
        assert_eq!(out[0].at, t(0));
        assert!(out[1].at > out[0].at && out[1].at <= out[0].at + secs(1));
        // A new address: its group, the same way.
        let at = n.now;
        let mut out = n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        out.extend(n.run_for(secs(5)));
        let out = mld(&out);
        assert_eq!(out.len(), 2, "seed {seed}: {out:?}");
        assert!(
            out.iter()
                .all(|o| o.reports(RecordType::ChangeToExclude, snm(a(G1))))
        );
        assert_eq!(out[0].at, at);
        assert!(out[1].at > out[0].at && out[1].at <= at + secs(1));
        assert!(n.joined(snm(a(G1))) && n.joined(snm(a(LL))));
    }
}

#[test]
fn reports_come_from_unspecified_until_the_link_local_address_is_valid_then_again_from_it() {
    // RFC 3810 §5.2.13, RFC 3590 §4: from :: while no valid link-local
    // address exists; once one is, report all joined groups again from it.
    for optimistic in [true, false] {
        let mut c = config(3);
        c.optimistic_dad = optimistic;
        c.dad_transmits = 2;
        let mut n = Node::new(c);
        n.run_until(t(500));
        n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
        n.run_until(t(8000));
        let ll_ok = n.when(a(LL), AddrState::Preferred).unwrap();
        let out = mld(&n.out);
        let before: Vec<&Out> = out.iter().filter(|o| o.at < ll_ok).collect();
        assert!(!before.is_empty());
        for o in &before {
            assert_eq!(o.h.src, Ipv6Addr::UNSPECIFIED, "{o:?}");
        }
        let after: Vec<&Out> = out
            .iter()
            .filter(|o| o.at >= ll_ok && o.at <= ll_ok + secs(1))
            .collect();
        for o in &after {
            assert_eq!(o.h.src, a(LL));
        }
        for group in [snm(a(LL)), snm(a(G1))] {
            assert!(
                after
                    .iter()
                    .any(|o| o.records().iter().any(|r| r.1 == group)),
                "{group} reported again from the link-local address: {after:?}"
            );
        }
    }
}

fn settled_mld(seed: u64) -> Node {
    let mut c = config(seed);
    c.dad_transmits = 0;
    let mut n = Node::new(c);
    n.run_until(t(100));
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_until(t(5000));
    n
}

#[test]
fn a_general_query_is_answered_with_mode_is_exclude_for_every_group_within_the_delay() {
    // RFC 3810 §6.2 (a delay chosen at random within the Maximum Response
    // Delay), §6.3 item 1 (one Current State Record per group, packed),
    // §5.2.12 (MODE_IS_EXCLUDE, no sources).
    let mut times = Vec::new();
    for seed in 0..12 {
        let mut n = settled_mld(seed);
        let q_at = n.now;
        let (m, b) = query(Ipv6Addr::UNSPECIFIED, 4000, true, a("ff02::1"));
        let out = n.rx(m, &b);
        assert!(mld(&out).is_empty(), "seed {seed}: not at once");
        let out = mld(&n.run_for(secs(10)));
        assert_eq!(out.len(), 1, "seed {seed}: {out:?}");
        let o = &out[0];
        assert_eq!((o.h.src, o.h.dst), (a(LL), a("ff02::16")));
        let mut recs = o.records();
        recs.sort_by_key(|r| r.1);
        let mut want = vec![
            (RecordType::ModeIsExclude, snm(a(LL)), 0),
            (RecordType::ModeIsExclude, snm(a(G1)), 0),
        ];
        want.sort_by_key(|r| r.1);
        assert_eq!(recs, want);
        assert!(o.at <= q_at + ms(4000), "seed {seed}: {}", o.at);
        times.push(o.at.saturating_duration_since(q_at).as_millis());
    }
    times.sort();
    times.dedup();
    assert!(times.len() >= 8, "responses are spread: {times:?}");
}

#[test]
fn a_general_query_is_never_answered_at_the_instant_it_arrives() {
    // RFC 3810 §6.2: the delay is chosen "in the range (0, [Maximum
    // Response Delay])"; §6.3: implementations "MUST NOT send a Report
    // immediately upon reception of a General Query". A 3 ms Maximum
    // Response Delay makes a zero draw likely if zero is allowed.
    for seed in 0..30 {
        let mut n = settled_mld(seed);
        let q_at = n.now;
        let (m, b) = query(Ipv6Addr::UNSPECIFIED, 3, true, a("ff02::1"));
        n.receive(m, &b);
        let out = mld(&n.run_for(secs(1)));
        assert_eq!(out.len(), 1);
        assert!(
            out[0].at > q_at && out[0].at <= q_at + ms(3),
            "seed {seed}: answered at +{}",
            out[0].at.saturating_duration_since(q_at)
        );
    }
}

#[test]
fn invalid_queries_are_ignored() {
    // RFC 3810 §6.2: a query whose source is not link-local or whose hop
    // limit is not 1 is dropped; §5.1.14 and RFC 3590 §4: from :: too.
    let mut n = settled_mld(1);
    let q = Message::MldQuery(MldQuery {
        max_response_code: 1000,
        group: Ipv6Addr::UNSPECIFIED,
        v2: Some(MldQueryV2 {
            suppress_router_processing: false,
            robustness: 2,
            qqic: 125,
            sources: AddrList::new(&[]),
        }),
    });
    let all = a("ff02::1");
    for (src, hop) in [
        (a(ROUTER), 255),
        (a("2001:db8:1::1"), 1),
        (Ipv6Addr::UNSPECIFIED, 1),
    ] {
        let b = emit(&q, src, all);
        n.receive(meta(src, all, hop, ROUTER_MAC), &b);
        let out = mld(&n.run_for(secs(3)));
        assert!(out.is_empty(), "from {src} hop limit {hop}: {out:?}");
    }
    // The same query, valid, is answered.
    let (m, b) = query(Ipv6Addr::UNSPECIFIED, 1000, true, all);
    n.receive(m, &b);
    assert_eq!(mld(&n.run_for(secs(3))).len(), 1);
}

#[test]
fn a_multicast_address_specific_query_is_answered_for_that_group_only() {
    // RFC 3810 §6.2 rule 3, §6.3 item 2; §5.1.15: sent to the group.
    let mut times = Vec::new();
    for seed in 0..8 {
        let mut n = settled_mld(seed);
        let q_at = n.now;
        let g = snm(a(G1));
        let (m, b) = query(g, 2000, true, g);
        n.receive(m, &b);
        let out = mld(&n.run_for(secs(5)));
        assert_eq!(out.len(), 1, "seed {seed}: {out:?}");
        assert_eq!(out[0].records(), [(RecordType::ModeIsExclude, g, 0)]);
        assert!(out[0].at <= q_at + ms(2000));
        times.push(out[0].at);
    }
    times.sort_by_key(|t| t.as_millis());
    times.dedup();
    assert!(times.len() >= 4, "{times:?}");
}

#[test]
fn a_query_for_a_group_we_do_not_listen_to_is_not_answered() {
    // RFC 3810 §6.2: a report only if there is listening state for the
    // queried address; §5.1.15: a query to any of our addresses (ff02::1
    // included) is processed, but still concerns that group only.
    let mut n = settled_mld(1);
    let other = a("ff02::1:ff12:3456");
    assert!(!n.joined(other));
    for dst in [other, a("ff02::1")] {
        let (m, b) = query(other, 1000, true, dst);
        assert!(n.s.receive(n.now, &m, &b));
        let out = mld(&n.run_for(secs(3)));
        assert!(out.is_empty(), "{out:?}");
    }
}

// RFC 3810 §8.2.1 compatibility is the `mldv1` feature; the lib tests
// check what a build without it does.
#[cfg(feature = "mldv1")]
#[test]
fn an_mldv1_query_switches_to_mldv1_reports_and_done() {
    // RFC 3810 §8.2.1: an MLDv1 query puts the host in MLDv1 mode; RFC
    // 2710 §4, §8 (and RFC 3810 §5.2.14): Reports to the group itself,
    // Done to ff02::2 on leaving; hop limit 1 and Router Alert.
    let mut c = config(2);
    c.dad_transmits = 0;
    let mut n = Node::new(c);
    n.run_until(t(100));
    n.ra(&[pio(P1, 64, true, true, 60, 30)], true);
    n.run_until(t(5000));
    let (m, b) = query(Ipv6Addr::UNSPECIFIED, 1000, false, a("ff02::1"));
    n.rx(m, &b);
    let out = mld(&n.run_for(secs(3)));
    let mut groups = Vec::new();
    for o in &out {
        let Message::MldV1Report(r) = o.msg() else {
            panic!("only MLDv1 Reports in MLDv1 mode: {o:?}")
        };
        assert_eq!(o.h.dst, r.group, "to the group itself");
        assert_eq!(
            o.mac(),
            ndp_core::wire::MulticastAddr::new(r.group).unwrap().mac()
        );
        assert_eq!(o.h.src, a(LL));
        assert!(o.at <= t(6000));
        groups.push(r.group);
    }
    groups.sort();
    let mut want = vec![snm(a(LL)), snm(a(G1))];
    want.sort();
    assert_eq!(groups, want);
    // The address expires 60 s after the RA at 0.1 s, counted on the
    // engine's lifetime clock in whole seconds, so at 61 s: its group is
    // left with a Done.
    n.run_until(t(70_000));
    assert_eq!(n.removed_at(a(G1)), Some(t(61_000)));
    let out = mld(&n.out[..]);
    let after: Vec<&Out> = out.iter().filter(|o| o.at >= t(61_000)).collect();
    assert!(!after.is_empty());
    for o in &after {
        let Message::MldV1Done(d) = o.msg() else {
            panic!("only an MLDv1 Done: {o:?}")
        };
        assert_eq!(d.group, snm(a(G1)));
        assert_eq!((o.h.src, o.h.dst), (a(LL), a("ff02::2")));
        assert_eq!(o.mac(), MacAddr([0x33, 0x33, 0, 0, 0, 2]));
    }
    // Still MLDv1 255 s after the query: a join is an unsolicited MLDv1
    // Report (RFC 2710 §4).
    n.run_until(t(260_000));
    let g2 = stable(P2, 0);
    let mut out = n.ra(&[pio(P2, 64, true, true, INF, INF)], true);
    out.extend(n.run_for(secs(5)));
    let out = mld(&out);
    assert!(!out.is_empty());
    for o in &out {
        let Message::MldV1Report(r) = o.msg() else {
            panic!("MLDv1 mode: {o:?}")
        };
        assert_eq!((r.group, o.h.dst), (snm(g2), snm(g2)));
    }
    // RFC 3810 §8.2.1, §9.12: after the Older Version Querier Present
    // Timeout (2 × 125 s + 10 s with the defaults) MLDv2 again.
    n.run_until(t(275_000));
    let g3 = stable(P3, 0);
    let mut out = n.ra(&[pio(P3, 64, true, true, INF, INF)], true);
    out.extend(n.run_for(secs(5)));
    let out = mld(&out);
    assert!(!out.is_empty());
    for o in &out {
        assert_eq!(o.records(), [(RecordType::ChangeToExclude, snm(g3), 0)]);
        assert_eq!(o.h.dst, a("ff02::16"));
    }
}

// ------------------------------------------------------------ link up

/// A settled node with the link-local address and G1 preferred, G1 from
/// an RA that carried the router's link-layer address.
fn settled_with_global(c: Config) -> Node {
    let mut n = settled(c);
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    n.run_for(secs(3));
    assert_eq!(n.state(a(G1)), Some(AddrState::Preferred));
    n
}

/// RFC 4862 §5.4, RFC 4429 §3.3: when the link comes back, every address
/// is checked again, and stays usable (optimistic) while it is; the
/// solicited-node groups are reported again (RFC 3810 §6.1) and G1 is
/// announced to the routers again (RFC 9131 §6.1.2).
#[test]
fn link_up_runs_dad_again_and_keeps_addresses_usable() {
    let mut n = settled_with_global(config(1));
    let up = n.now;
    let before = n.events.len();
    n.s.link_up(up);
    n.collect_events();
    assert_eq!(n.state(a(LL)), Some(AddrState::Optimistic));
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    let sent = n.run_for(ms(10));
    for addr in [a(LL), a(G1)] {
        assert!(
            sent.iter().any(|o| o.probe() == Some(addr) && o.at == up),
            "no DAD probe for {addr} at link up: {sent:?}"
        );
    }
    assert!(
        sent.iter().any(|o| o.is_mld()
            && (o.reports(RecordType::ChangeToExclude, snm(a(G1)))
                || o.reports(RecordType::ModeIsExclude, snm(a(G1))))),
        "the groups are reported again: {sent:?}"
    );
    assert!(
        sent.iter().any(|o| o.h.dst == a("ff02::2")
            && o.na()
                .is_some_and(|na| na.target == a(G1) && !na.override_flag)),
        "G1 is announced again with O=0: {sent:?}"
    );
    // One probe (DupAddrDetectTransmits = 1), RetransTimer (1 s), done.
    n.run_for(secs(2));
    let after: Vec<&Event> = n.events[before..].iter().map(|(_, e)| e).collect();
    for addr in [a(LL), a(G1)] {
        assert!(
            after.iter().any(|e| matches!(e, Event::Address { addr: x, state: AddrState::Preferred, .. } if *x == addr)),
            "{addr} preferred again: {after:?}"
        );
    }
    assert!(!n.had_event(|e| matches!(e, Event::AddressRemoved { .. })));
}

/// Without optimistic DAD the addresses are tentative again until DAD
/// ends, and the first probe waits a random delay of up to
/// MAX_RTR_SOLICITATION_DELAY (RFC 4862 §5.4.2).
#[test]
fn link_up_without_optimistic_dad_makes_addresses_tentative() {
    let mut n = settled_with_global(config_tentative(2));
    let up = n.now;
    n.s.link_up(up);
    n.collect_events();
    assert_eq!(n.state(a(LL)), Some(AddrState::Tentative));
    assert_eq!(n.state(a(G1)), Some(AddrState::Tentative));
    assert!(n.s.addresses().all(|x| !x.usable_as_source()));
    n.run_for(secs(4));
    for addr in [a(LL), a(G1)] {
        let probes: Vec<Instant> = n
            .probes_for(addr)
            .iter()
            .map(|o| o.at)
            .filter(|at| *at >= up)
            .collect();
        assert!(!probes.is_empty(), "no probe for {addr}");
        assert!(
            probes[0] <= up + secs(1),
            "first probe for {addr} at {}",
            probes[0]
        );
        assert_eq!(n.state(addr), Some(AddrState::Preferred));
    }
}

/// A node that took G1 while the link was down defends it: the re-run
/// DAD finds it, and G1 gives way to the next stable identifier
/// (RFC 4429 §4.2, RFC 7217 §6).
#[test]
fn a_conflict_found_after_link_up_moves_to_the_next_identifier() {
    let mut n = settled_with_global(config(3));
    n.s.link_up(n.now);
    n.run_for(ms(5));
    let at = n.now;
    let b = na_bytes(a(G1), a(G1), a("ff02::1"), false, true, Some(RIVAL_MAC));
    n.rx(meta(a(G1), a("ff02::1"), 255, RIVAL_MAC), &b);
    assert_duplicate_at(&n, a(G1), at);
    n.run_for(secs(5));
    let next = stable(P1, 1);
    assert_eq!(n.state(next), Some(AddrState::Preferred));
    assert_eq!(n.state(a(LL)), Some(AddrState::Preferred));
}

/// RFC 4861 §6.3.7: routers are solicited again when the link comes
/// back, within MAX_RTR_SOLICITATION_DELAY, even though one was known.
#[test]
fn link_up_solicits_routers_again() {
    let mut c = config(4);
    c.router_solicitations = true;
    let mut n = settled_with_global(c);
    // The RA stopped the solicitations.
    let quiet = n.run_for(secs(60));
    assert!(!quiet.iter().any(Out::is_rs), "{quiet:?}");
    let up = n.now;
    n.s.link_up(up);
    let sent = n.run_for(secs(1));
    let rs: Vec<&Out> = sent.iter().filter(|o| o.is_rs()).collect();
    assert_eq!(rs.len(), 1, "{sent:?}");
    assert!(rs[0].at >= up && rs[0].at <= up + secs(1));
}

/// RFC 4862 §5.4: a tentative address is never advertised. Without
/// optimistic DAD a global address announces itself when it becomes
/// preferred (RFC 9131 §6.1.2); when the link comes back in the middle of
/// those announcements it is tentative again, and the rest are dropped
/// (the stack_ops fuzz target's `gratuitous-na-for-tentative-after-link-up`).
#[test]
fn link_up_drops_the_announcements_of_an_address_that_becomes_tentative() {
    let mut c = config_tentative(7);
    c.gratuitous_na = 3;
    let mut n = settled(c);
    let g = a(G1);
    n.ra(&[pio(P1, 64, true, true, INF, INF)], true);
    let nas_for_g = |n: &Node| {
        n.out
            .iter()
            .filter(|o| o.na().is_some_and(|na| na.target == g))
            .map(|o| o.at)
            .collect::<Vec<_>>()
    };
    while nas_for_g(&n).is_empty() {
        assert!(n.now < t(20_000), "never announced");
        let next = n.s.poll_at().unwrap();
        n.run_until(next);
    }
    assert_eq!(n.state(g), Some(AddrState::Preferred));
    assert_eq!(nas_for_g(&n).len(), 1, "the first of three");
    let up = n.now;
    n.s.link_up(up);
    assert_eq!(n.state(g), Some(AddrState::Tentative));
    while n.state(g) == Some(AddrState::Tentative) {
        assert!(n.now < up + secs(10), "DAD never ended");
        let next = n.s.poll_at().unwrap();
        n.run_until(next);
    }
    let preferred_again = n.now;
    let after_link_up = &nas_for_g(&n)[1..];
    assert!(
        after_link_up.iter().all(|at| *at >= preferred_again),
        "an NA for {g} while tentative (link up at {up}, preferred at {preferred_again}): {after_link_up:?}"
    );
}

/// RFC 4862 §5.4.5: a disabled interface stays disabled when its link
/// comes back: only a DAD of its link-local address that passes, on the
/// backoff's schedule, enables it again.
#[test]
fn link_up_does_not_revive_a_disabled_interface() {
    let mut c = config(5);
    c.iid_mode = IidMode::Eui64;
    let mut n = Node::new(c);
    n.run_for(ms(1));
    let ll = n.s.addresses().next().map(|x| x.addr.get()).unwrap();
    let b = na_bytes(ll, ll, a("ff02::1"), false, true, Some(RIVAL_MAC));
    n.rx(meta(ll, a("ff02::1"), 255, RIVAL_MAC), &b);
    assert!(n.s.is_disabled());
    let disabled_at = n.now;
    n.s.link_up(n.now);
    let (lo, _) = backoff_window(0);
    let sent = n.run_until(disabled_at + lo - ms(1));
    assert!(sent.is_empty(), "{sent:?}");
    assert!(n.s.is_disabled());
}

/// The attack the Retrans Timer clamp answers (RFC 6583 §4): an RA with
/// Retrans Timer 1,966,080 ms and a prefix. DAD paces itself by
/// RetransTimer (RFC 4862 §5.4.1), so unclamped the address would stay
/// optimistic for half an hour; clamped to 5 s it is preferred within
/// one probe and 5 s.
#[test]
fn a_rogue_retrans_timer_cannot_stall_dad() {
    let mut n = settled(config(6));
    let at = n.now;
    let b = ra_bytes(&[pio(P1, 64, true, true, INF, INF)], true, 1_966_080);
    n.rx(meta(a(ROUTER), a("ff02::1"), 255, ROUTER_MAC), &b);
    assert_eq!(n.state(a(G1)), Some(AddrState::Optimistic));
    n.run_for(secs(10));
    let preferred = n.when(a(G1), AddrState::Preferred).expect("G1 preferred");
    assert!(preferred <= at + secs(6), "preferred at {preferred}");
    assert_eq!(n.s.stats().ra_value_clamped, 1);
}

// =====================================================================
// Application groups and static addresses
// =====================================================================

const MDNS: &str = "ff02::fb";

#[test]
fn an_application_group_is_reported_answered_in_queries_and_left() {
    // RFC 3810 §6.1: joining is reported as CHANGE_TO_EXCLUDE({}),
    // Robustness Variable times; leaving as CHANGE_TO_INCLUDE({}).
    let mut n = settled(config(1));
    n.s.join_group(n.now, a(MDNS)).unwrap();
    assert!(n.joined(a(MDNS)));
    assert_eq!(
        n.s.app_groups().map(|g| g.get()).collect::<Vec<_>>(),
        [a(MDNS)]
    );
    let out = n.run_for(secs(3));
    let joins = out
        .iter()
        .filter(|o| o.reports(RecordType::ChangeToExclude, a(MDNS)))
        .count();
    assert_eq!(joins, 2, "{out:?}");
    // RFC 3810 §5.1.15, §6.2: a query for the group, sent to the group,
    // is answered with its current state.
    let (m, b) = query(a(MDNS), 1000, true, a(MDNS));
    n.rx(m, &b);
    let out = n.run_for(secs(2));
    assert!(
        out.iter()
            .any(|o| o.reports(RecordType::ModeIsExclude, a(MDNS))),
        "{out:?}"
    );
    assert!(n.s.leave_group(n.now, a(MDNS)));
    assert!(!n.joined(a(MDNS)));
    assert!(!n.s.leave_group(n.now, a(MDNS)), "left already");
    let out = n.run_for(secs(3));
    assert!(
        out.iter()
            .any(|o| o.reports(RecordType::ChangeToInclude, a(MDNS))),
        "{out:?}"
    );
}

#[test]
fn join_group_refuses_what_it_cannot_listen_to() {
    use ndp_core::{APP_GROUPS, GroupError};
    let mut n = settled(config(1));
    let now = n.now;
    assert_eq!(
        n.s.join_group(now, a("2001:db8::1")),
        Err(GroupError::NotMulticast)
    );
    // RFC 3810 §6: scopes 0 and 1 never reach the link.
    assert_eq!(
        n.s.join_group(now, a("ff01::fb")),
        Err(GroupError::NotOnLink)
    );
    assert_eq!(
        n.s.join_group(now, a("ff00::fb")),
        Err(GroupError::NotOnLink)
    );
    // All-nodes is always joined; joining twice is harmless.
    n.s.join_group(now, a("ff02::1")).unwrap();
    assert_eq!(n.s.app_groups().count(), 0);
    for i in 0..APP_GROUPS {
        let g = Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 0x100 + i as u16);
        n.s.join_group(now, g).unwrap();
        n.s.join_group(now, g).unwrap();
    }
    assert_eq!(n.s.app_groups().count(), APP_GROUPS);
    assert_eq!(n.s.join_group(now, a(MDNS)), Err(GroupError::TableFull));
    assert!(!n.joined(a(MDNS)));
}

#[test]
fn a_static_address_passes_dad_before_use_and_is_then_answered_for() {
    // RFC 4862 §5.4: DAD on every unicast address, manual ones included;
    // §5.4.2: its solicited-node group is joined first.
    let mut n = settled(config_tentative(1));
    let addr = a("fd00::10");
    n.s.add_static_address(n.now, addr, 64).unwrap();
    let x = n.addr(addr).unwrap();
    assert_eq!(
        (x.state, x.origin, x.prefix_len),
        (AddrState::Tentative, Origin::Static, 64)
    );
    assert_eq!(
        (x.valid_until, x.preferred_until),
        (Expiry::NEVER, Expiry::NEVER)
    );
    assert!(n.joined(snm(addr)));
    // Not answered for while tentative (RFC 4862 §5.4.3).
    assert!(
        n.neighbor_ns(addr, snm(addr))
            .iter()
            .all(|o| o.na().is_none())
    );
    n.run_for(secs(2));
    assert_eq!(n.probes_for(addr).len(), 1);
    assert_eq!(n.state(addr), Some(AddrState::Preferred));
    let out = n.neighbor_ns(addr, snm(addr));
    let na = out
        .iter()
        .find_map(|o| o.na())
        .expect("an NA for the static address");
    assert_eq!(na.target, addr);
    // Removing it says so and leaves its group.
    assert!(n.s.remove_static_address(n.now, addr));
    n.collect_events();
    assert!(n.addr(addr).is_none());
    assert!(n.removed_at(addr).is_some());
    assert!(!n.joined(snm(addr)));
    assert!(!n.s.remove_static_address(n.now, addr));
}

#[test]
fn a_duplicate_static_address_is_reported_once_and_retried_unchanged() {
    // RFC 4862 §5.4.5: a duplicate is not used; a static address has no
    // other identifier to try, so DAD is retried on the same address with
    // the capped backoff.
    let mut n = settled(config_tentative(1));
    let addr = a("fd00::10");
    n.s.add_static_address(n.now, addr, 64).unwrap();
    n.rival_probe(addr, None);
    assert_eq!(n.state(addr), Some(AddrState::Duplicate));
    assert_eq!(n.failures(), [(a("fd00::"), 1)]);
    let conflict_at = n.now;
    let out = n.run_for(DAD_BACKOFF_MAX + secs(3));
    let retry = out
        .iter()
        .find(|o| o.probe() == Some(addr))
        .expect("retried");
    assert!(retry.at >= conflict_at + DAD_BACKOFF_BASE, "{:?}", retry.at);
    assert_eq!(n.state(addr), Some(AddrState::Preferred));
    assert_eq!(
        n.s.addresses()
            .filter(|x| x.origin == Origin::Static)
            .count(),
        1
    );
}

#[test]
fn router_advertisements_leave_a_static_address_alone() {
    // RFC 4862 §5.5.3 (e) updates only autoconfigured addresses: a static
    // address in an advertised prefix keeps its infinite lifetimes, and
    // SLAAC forms its own address beside it.
    let mut n = settled(config(1));
    let addr = a("2001:db8:1::10");
    n.s.add_static_address(n.now, addr, 64).unwrap();
    n.run_for(secs(2));
    n.ra(&[pio(P1, 64, true, true, 30, 20)], true);
    n.run_for(secs(2));
    assert_eq!(n.slaac().len(), 1, "SLAAC beside the static address");
    n.ra(&[pio(P1, 64, true, true, 0, 0)], true);
    n.run_for(secs(60));
    let x = n.addr(addr).unwrap();
    assert_eq!(
        (x.state, x.valid_until),
        (AddrState::Preferred, Expiry::NEVER)
    );
}

#[test]
fn add_static_address_refuses_what_it_cannot_hold() {
    use ndp_core::StaticAddressError as E;
    let mut n = settled(config(1));
    let now = n.now;
    assert_eq!(
        n.s.add_static_address(now, a("ff02::10"), 64),
        Err(E::NotUnicast)
    );
    assert_eq!(
        n.s.add_static_address(now, a("::1"), 128),
        Err(E::NotUnicast)
    );
    assert_eq!(
        n.s.add_static_address(now, a("fd00::1"), 129),
        Err(E::BadPrefixLen)
    );
    assert_eq!(n.s.add_static_address(now, a(LL), 64), Err(E::Exists));
    n.s.add_static_address(now, a("fd00::1"), 64).unwrap();
    n.s.add_static_address(now, a("fd00::2"), 64).unwrap();
    assert_eq!(
        n.s.add_static_address(now, a("fd00::3"), 64),
        Err(E::TableFull)
    );
}
