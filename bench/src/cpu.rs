//! Per-operation workloads, run under callgrind by `cargo xtask bench`.
//!
//! Each workload is set up first, warmed up with one step, then stepped
//! `iterations` times through [`measure`], the only function callgrind
//! collects in (`--toggle-collect=ndp_bench::cpu::measure`), so the count
//! divided by the iterations is the cost of one operation, callees
//! included. Nothing in a measured step allocates.

use std::hint::black_box;
use std::net::Ipv6Addr;

use ndp_core::time::Instant;
use ndp_core::wire::{Message, NdOption, NeighborAdvert, NeighborSolicit, Options, UnicastAddr};
use ndp_core::{Config, RxMeta, Stack};
use ndp_tests::packet;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};

use crate::{MAC, PEER_MAC};

/// One operation, repeatable.
pub trait Workload {
    fn step(&mut self, i: u64);
}

/// The one function callgrind counts in.
#[inline(never)]
pub fn measure(w: &mut dyn Workload, i: u64) {
    w.step(i);
}

/// Run `name` for `iterations` steps after one warm-up step; `None` for
/// an unknown name.
pub fn run(name: &str, iterations: u64) -> Option<()> {
    let mut w = workload(name)?;
    w.step(0);
    for i in 1..=iterations {
        measure(w.as_mut(), i);
    }
    black_box(&w);
    Some(())
}

/// Every workload name, in report order.
pub const NAMES: &[&str] = &[
    "ns-na-8",
    "ns-na-64",
    "ns-na-512",
    "na-8",
    "ra-8",
    "route-8",
    "route-64",
    "route-512",
    "proxy-ns-na-8",
    "adapter-ns-na",
    "smoltcp-ns-na",
    "adapter-echo4",
    "smoltcp-echo4",
];

fn workload(name: &str) -> Option<Box<dyn Workload>> {
    Some(match name {
        "ns-na-8" => Box::new(NsNa::<8>::new()),
        "ns-na-64" => Box::new(NsNa::<64>::new()),
        "ns-na-512" => Box::new(NsNa::<512>::new()),
        "na-8" => Box::new(Na::new()),
        "ra-8" => Box::new(Ra::new()),
        "route-8" => Box::new(RouteLookup::<8>::new()),
        "route-64" => Box::new(RouteLookup::<64>::new()),
        "route-512" => Box::new(RouteLookup::<512>::new()),
        "proxy-ns-na-8" => Box::new(ProxyNsNa::new()),
        "adapter-ns-na" => Box::new(AdapterNsNa::new()),
        "smoltcp-ns-na" => Box::new(SmoltcpNsNa::new()),
        "adapter-echo4" => Box::new(Echo4::adapter()),
        "smoltcp-echo4" => Box::new(Echo4::plain()),
        _ => return None,
    })
}

/// Milliseconds after start at which measurement begins: start-up
/// traffic (MLD reports) is over by then.
const T0: u64 = 10_000;

fn at(i: u64) -> Instant {
    Instant::wrapping_from_millis(T0 + i)
}

fn config() -> Config {
    let mut c = Config::stable(MAC, 1, [0; 16]);
    c.secret = [0x5a; 16];
    // The link-local address is preferred at once; no solicitations of
    // our own disturb the figures.
    c.dad_transmits = 0;
    c.router_solicitations = false;
    c
}

/// Neighbor `k` of the filled caches.
fn neighbor(k: usize) -> (Ipv6Addr, ndp_core::wire::MacAddr) {
    let addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 1, (k >> 16) as u16, k as u16);
    let mac = ndp_core::wire::MacAddr([0x02, 0x01, 0, (k >> 16) as u8, (k >> 8) as u8, k as u8]);
    (addr, mac)
}

fn link_local<const N: usize>(s: &Stack<N, 4, 3072>) -> Ipv6Addr {
    s.addresses()
        .map(|a| a.addr.get())
        .find(|a| a.segments()[0] == 0xfe80)
        .expect("a link-local address")
}

fn drain<const N: usize>(s: &mut Stack<N, 4, 3072>, now: Instant, out: &mut [u8]) {
    while let Some(t) = s.poll_transmit(now, out) {
        black_box(t);
    }
    while let Some(e) = s.poll_event() {
        black_box(e);
    }
}

/// A stack past its start-up, link-local address preferred.
fn settled<const N: usize>() -> (Box<Stack<N, 4, 3072>>, [u8; 1600]) {
    let mut s = Box::new(Stack::<N, 4, 3072>::with_capacity(config(), Instant::ZERO));
    let mut out = [0u8; 1600];
    for ms in (0..T0).step_by(100) {
        drain(&mut s, Instant::wrapping_from_millis(ms), &mut out);
    }
    (s, out)
}

/// A multicast NS for `target` from `src` with its SLLA, as address
/// resolution sends it: (meta, ICMPv6 bytes, whole Ethernet frame).
fn ns(
    target: Ipv6Addr,
    src: Ipv6Addr,
    src_mac: ndp_core::wire::MacAddr,
) -> (RxMeta, Vec<u8>, Vec<u8>) {
    let snm = UnicastAddr::new(target).expect("unicast").solicited_node();
    let opts = [NdOption::SourceLinkAddr(src_mac)];
    let m = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: Options::from_list(&opts),
    });
    let icmp = packet::icmpv6_bytes(src, snm.get(), &m);
    let frame = packet::ipv6_frame(
        src_mac,
        snm.mac(),
        src,
        snm.get(),
        packet::NH_ICMPV6,
        255,
        &icmp,
    );
    let meta = RxMeta {
        src,
        dst: snm.get(),
        hop_limit: 255,
        src_mac: Some(src_mac),
    };
    (meta, icmp, frame)
}

/// Received messages: header fields and ICMPv6 bytes.
type Messages = Vec<(RxMeta, Vec<u8>)>;

/// A stack whose cache holds `N` STALE neighbors (each sent it an NS),
/// and those NSes.
fn filled<const N: usize>() -> (Box<Stack<N, 4, 3072>>, [u8; 1600], Messages) {
    let (mut s, mut out) = settled::<N>();
    let ll = link_local(&s);
    let mut msgs = Vec::with_capacity(N);
    for k in 0..N {
        let (addr, mac) = neighbor(k);
        let (meta, icmp, _) = ns(ll, addr, mac);
        let now = Instant::wrapping_from_millis(T0 - 1);
        s.receive(now, &meta, &icmp);
        drain(&mut s, now, &mut out);
        msgs.push((meta, icmp));
    }
    assert_eq!(s.neighbors().count(), N, "the cache is full");
    (s, out, msgs)
}

/// Receive a multicast NS for our address from one of `N` known
/// neighbors (in turn) and produce the NA.
struct NsNa<const N: usize> {
    s: Box<Stack<N, 4, 3072>>,
    out: [u8; 1600],
    msgs: Messages,
}

impl<const N: usize> NsNa<N> {
    fn new() -> Self {
        let (s, out, msgs) = filled::<N>();
        NsNa { s, out, msgs }
    }
}

impl<const N: usize> Workload for NsNa<N> {
    fn step(&mut self, i: u64) {
        let (meta, icmp) = &self.msgs[i as usize % self.msgs.len()];
        let now = at(i);
        self.s.receive(now, meta, icmp);
        let mut sent = 0;
        while let Some(t) = self.s.poll_transmit(now, &mut self.out) {
            black_box(t);
            sent += 1;
        }
        assert_eq!(sent, 1, "one NA per NS");
    }
}

/// Receive a multicast NS from one of 8 known neighbors (in turn) for an
/// address of a proxied prefix, and produce the proxy's NA. Steps are
/// 20 ms apart: the proxy's answer rate (`PROXY_ANSWERS` a second) never
/// binds.
struct ProxyNsNa {
    s: Box<Stack<8, 4, 3072>>,
    out: [u8; 1600],
    msgs: Messages,
}

impl ProxyNsNa {
    fn new() -> Self {
        let (mut s, out, _) = filled::<8>();
        let prefix = ndp_core::proxy::ProxyRule::new("2001:db8:2::".parse().expect("prefix"), 64)
            .expect("a proxiable prefix");
        s.configure_proxy(|p| p.add_prefix(prefix)).expect("room");
        let msgs = (0..8u16)
            .map(|k| {
                let (src, mac) = neighbor(usize::from(k));
                let target = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, k);
                let (meta, icmp, _) = ns(target, src, mac);
                (meta, icmp)
            })
            .collect();
        ProxyNsNa { s, out, msgs }
    }
}

impl Workload for ProxyNsNa {
    fn step(&mut self, i: u64) {
        let (meta, icmp) = &self.msgs[i as usize % self.msgs.len()];
        let now = Instant::wrapping_from_millis(T0 + i * 20);
        self.s.receive(now, meta, icmp);
        let mut sent = 0;
        while let Some(t) = self.s.poll_transmit(now, &mut self.out) {
            black_box(t);
            sent += 1;
        }
        assert_eq!(sent, 1, "one proxy NA per NS");
    }
}

/// Receive a solicited NA with TLLA for a REACHABLE neighbor.
struct Na {
    s: Box<Stack<8, 4, 3072>>,
    out: [u8; 1600],
    meta: RxMeta,
    icmp: Vec<u8>,
}

impl Na {
    fn new() -> Self {
        let (mut s, mut out) = settled::<8>();
        let ll = link_local(&s);
        let (peer, _) = neighbor(1);
        let now = Instant::wrapping_from_millis(T0 - 1);
        // INCOMPLETE, then the answer makes it REACHABLE.
        let _ = s.route(now, peer);
        drain(&mut s, now, &mut out);
        let opts = [NdOption::TargetLinkAddr(PEER_MAC)];
        let m = Message::NeighborAdvert(NeighborAdvert {
            router_flag: false,
            solicited_flag: true,
            override_flag: true,
            target: peer,
            options: Options::from_list(&opts),
        });
        let icmp = packet::icmpv6_bytes(peer, ll, &m);
        let meta = RxMeta {
            src: peer,
            dst: ll,
            hop_limit: 255,
            src_mac: Some(PEER_MAC),
        };
        s.receive(now, &meta, &icmp);
        drain(&mut s, now, &mut out);
        Na { s, out, meta, icmp }
    }
}

impl Workload for Na {
    fn step(&mut self, i: u64) {
        let now = at(i);
        self.s.receive(now, &self.meta, &self.icmp);
        while let Some(t) = self.s.poll_transmit(now, &mut self.out) {
            black_box(t);
        }
    }
}

/// Receive radvd's 254-byte Router Advertisement from the capture
/// (prefix, RDNSS, DNSSL, MTU...), then take the events and packets it
/// causes.
struct Ra {
    s: Box<Stack<8, 4, 3072>>,
    out: [u8; 1600],
    meta: RxMeta,
    icmp: Vec<u8>,
}

impl Ra {
    fn new() -> Self {
        let (s, out) = settled::<8>();
        let path = ndp_tests::capture_path("linux-radvd.pcap");
        let file = std::fs::File::open(&path).expect("the capture");
        let cap = ndp_tests::pcap::read(file).expect("a pcap");
        let (meta, icmp) = cap
            .records
            .iter()
            .filter(|r| r.data.len() == 254)
            .find_map(|r| {
                let f = ndp_tests::frame::parse(&r.data)?;
                let icmp = f.icmpv6()?;
                (icmp.first() == Some(&134)).then(|| {
                    let meta = RxMeta {
                        src: f.src,
                        dst: f.dst,
                        hop_limit: f.hop_limit,
                        src_mac: Some(f.src_mac),
                    };
                    (meta, icmp.to_vec())
                })
            })
            .expect("a 254-byte RA in the capture");
        Ra { s, out, meta, icmp }
    }
}

impl Workload for Ra {
    fn step(&mut self, i: u64) {
        let now = at(i);
        self.s.receive(now, &self.meta, &self.icmp);
        drain(&mut self.s, now, &mut self.out);
    }
}

/// `route()` to one of `N` cached neighbors (in turn).
struct RouteLookup<const N: usize> {
    s: Box<Stack<N, 4, 3072>>,
    dsts: Vec<Ipv6Addr>,
}

impl<const N: usize> RouteLookup<N> {
    fn new() -> Self {
        let (s, _, msgs) = filled::<N>();
        RouteLookup {
            s,
            dsts: msgs.iter().map(|(m, _)| m.src).collect(),
        }
    }
}

impl<const N: usize> Workload for RouteLookup<N> {
    fn step(&mut self, i: u64) {
        let dst = self.dsts[i as usize % self.dsts.len()];
        let hop = self.s.route(at(i), dst);
        assert!(hop.is_ok(), "{hop:?}");
        let _ = black_box(hop);
    }
}

/// A NIC that hands over the same frame each time it is armed and keeps
/// what is sent in a fixed buffer: no allocation per step.
struct OneFrame {
    frame: Vec<u8>,
    armed: bool,
    tx: [u8; 1600],
    sent: u64,
}

struct RxT<'a>(&'a [u8]);
struct TxT<'a>(&'a mut [u8; 1600], &'a mut u64);

impl phy::RxToken for RxT<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxT<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        *self.1 += 1;
        f(&mut self.0[..len])
    }
}

impl Device for OneFrame {
    type RxToken<'a> = RxT<'a>;
    type TxToken<'a> = TxT<'a>;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(RxT<'_>, TxT<'_>)> {
        if !self.armed {
            return None;
        }
        self.armed = false;
        Some((RxT(&self.frame), TxT(&mut self.tx, &mut self.sent)))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<TxT<'_>> {
        Some(TxT(&mut self.tx, &mut self.sent))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
}

fn smoltcp_at(i: u64) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis((T0 + i) as i64)
}

/// The engine's address and the NS frame both smoltcp paths get.
fn shared_frame() -> (Ipv6Addr, Vec<u8>) {
    let (s, _) = settled::<8>();
    let ll = link_local(&s);
    let (addr, mac) = neighbor(1);
    let (_, _, frame) = ns(ll, addr, mac);
    (ll, frame)
}

/// The same NS frame through ndp-smoltcp and smoltcp: the adapter filters
/// and classifies it, the engine answers, the adapter frames the NA.
struct AdapterNsNa {
    adapter: Box<ndp_smoltcp::Adapter<OneFrame>>,
    iface: smoltcp::iface::Interface,
    sockets: smoltcp::iface::SocketSet<'static>,
}

impl AdapterNsNa {
    fn new() -> Self {
        let (_, frame) = shared_frame();
        let nic = OneFrame {
            frame,
            armed: false,
            tx: [0; 1600],
            sent: 0,
        };
        let t = |ms: u64| smoltcp::time::Instant::from_millis(ms as i64);
        let mut adapter =
            Box::new(ndp_smoltcp::Adapter::new(nic, config(), t(0)).expect("an Ethernet NIC"));
        let mut iface = adapter.new_interface(t(0));
        let mut sockets = smoltcp::iface::SocketSet::new(vec![]);
        for ms in (0..T0).step_by(100) {
            adapter.poll(t(ms), &mut iface, &mut sockets);
        }
        AdapterNsNa {
            adapter,
            iface,
            sockets,
        }
    }
}

impl Workload for AdapterNsNa {
    fn step(&mut self, i: u64) {
        self.adapter.device_mut().armed = true;
        let before = self.adapter.device().sent;
        self.adapter
            .poll(smoltcp_at(i), &mut self.iface, &mut self.sockets);
        assert_eq!(self.adapter.device().sent, before + 1, "one NA per NS");
    }
}

/// The same NS frame through plain smoltcp with its own Neighbor
/// Discovery (`Medium::Ethernet`), configured with the same address.
struct SmoltcpNsNa {
    nic: OneFrame,
    iface: smoltcp::iface::Interface,
    sockets: smoltcp::iface::SocketSet<'static>,
}

impl SmoltcpNsNa {
    fn new() -> Self {
        let (ll, frame) = shared_frame();
        let mut nic = OneFrame {
            frame,
            armed: false,
            tx: [0; 1600],
            sent: 0,
        };
        let hw = smoltcp::wire::HardwareAddress::Ethernet(smoltcp::wire::EthernetAddress(MAC.0));
        let mut iface = smoltcp::iface::Interface::new(
            smoltcp::iface::Config::new(hw),
            &mut nic,
            smoltcp::time::Instant::ZERO,
        );
        iface.update_ip_addrs(|a| {
            a.push(smoltcp::wire::IpCidr::new(ll.into(), 64))
                .expect("room");
        });
        let mut sockets = smoltcp::iface::SocketSet::new(vec![]);
        // With smoltcp's `multicast` feature (ndp-smoltcp turns it on),
        // the first poll reports the solicited-node group: before the
        // measurement, as for the adapter.
        iface.poll(smoltcp_at(0), &mut nic, &mut sockets);
        SmoltcpNsNa {
            nic,
            iface,
            sockets,
        }
    }
}

impl Workload for SmoltcpNsNa {
    fn step(&mut self, i: u64) {
        self.nic.armed = true;
        let before = self.nic.sent;
        self.iface
            .poll(smoltcp_at(i), &mut self.nic, &mut self.sockets);
        assert_eq!(self.nic.sent, before + 1, "one NA per NS");
    }
}

/// Our IPv4 address and the peer's, for the IPv4 workloads.
const V4_OURS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 0, 2, 10);
const V4_PEER: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 0, 2, 1);

/// An Ethernet frame from the peer to us carrying `payload`.
fn v4_frame(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    packet::ethernet(MAC, PEER_MAC, ethertype, payload)
}

/// The peer's ARP request for our address (so that smoltcp learns the
/// peer's MAC before the measured echoes).
fn arp_request() -> Vec<u8> {
    packet::arp_request(PEER_MAC, V4_PEER, V4_OURS)
}

/// An ICMPv4 echo request from the peer, 32 bytes of data.
fn echo4_request() -> Vec<u8> {
    v4_frame(
        packet::ETHERTYPE_IPV4,
        &packet::echo4_request(V4_PEER, V4_OURS, 1, 1, &[0x5a; 32]),
    )
}

/// An ICMPv4 echo request frame → echo reply frame, through ndp-smoltcp
/// (the IPv4 path: classified, passed to smoltcp untouched) or through
/// plain smoltcp: what the dual stack costs IPv4.
enum Echo4 {
    Adapter {
        adapter: Box<ndp_smoltcp::Adapter<OneFrame>>,
        iface: smoltcp::iface::Interface,
        sockets: smoltcp::iface::SocketSet<'static>,
    },
    Plain {
        nic: Box<OneFrame>,
        iface: smoltcp::iface::Interface,
        sockets: smoltcp::iface::SocketSet<'static>,
    },
}

fn one_frame(frame: Vec<u8>) -> OneFrame {
    OneFrame {
        frame,
        armed: false,
        tx: [0; 1600],
        sent: 0,
    }
}

fn with_v4(iface: &mut smoltcp::iface::Interface) {
    iface.update_ip_addrs(|a| {
        a.push(smoltcp::wire::IpCidr::new(V4_OURS.into(), 24))
            .expect("room");
    });
}

impl Echo4 {
    fn adapter() -> Self {
        let t = |ms: u64| smoltcp::time::Instant::from_millis(ms as i64);
        let mut adapter = Box::new(
            ndp_smoltcp::Adapter::new(one_frame(arp_request()), config(), t(0))
                .expect("an Ethernet NIC"),
        );
        let mut iface = adapter.new_interface(t(0));
        with_v4(&mut iface);
        let mut sockets = smoltcp::iface::SocketSet::new(vec![]);
        for ms in (0..T0).step_by(100) {
            adapter.poll(t(ms), &mut iface, &mut sockets);
        }
        adapter.device_mut().armed = true;
        adapter.poll(t(T0 - 1), &mut iface, &mut sockets);
        adapter.device_mut().frame = echo4_request();
        Echo4::Adapter {
            adapter,
            iface,
            sockets,
        }
    }

    fn plain() -> Self {
        let mut nic = Box::new(one_frame(arp_request()));
        let hw = smoltcp::wire::HardwareAddress::Ethernet(smoltcp::wire::EthernetAddress(MAC.0));
        let mut iface = smoltcp::iface::Interface::new(
            smoltcp::iface::Config::new(hw),
            nic.as_mut(),
            smoltcp::time::Instant::ZERO,
        );
        with_v4(&mut iface);
        let mut sockets = smoltcp::iface::SocketSet::new(vec![]);
        nic.armed = true;
        iface.poll(smoltcp_at(0), nic.as_mut(), &mut sockets);
        nic.frame = echo4_request();
        Echo4::Plain {
            nic,
            iface,
            sockets,
        }
    }
}

impl Workload for Echo4 {
    fn step(&mut self, i: u64) {
        match self {
            Echo4::Adapter {
                adapter,
                iface,
                sockets,
            } => {
                adapter.device_mut().armed = true;
                let before = adapter.device().sent;
                adapter.poll(smoltcp_at(i), iface, sockets);
                assert_eq!(adapter.device().sent, before + 1, "one echo reply");
            }
            Echo4::Plain {
                nic,
                iface,
                sockets,
            } => {
                nic.armed = true;
                let before = nic.sent;
                iface.poll(smoltcp_at(i), nic.as_mut(), sockets);
                assert_eq!(nic.sent, before + 1, "one echo reply");
            }
        }
    }
}
