//! Helpers shared by the Stack tests: build received messages, read
//! transmitted ones.
#![allow(dead_code)]

use core::net::Ipv6Addr;

use ndp_core::time::{Duration, Instant};
use ndp_core::wire::ipv6::Ipv6Header;
use ndp_core::wire::{
    MacAddr, Message, NdOption, NeighborAdvert, NeighborSolicit, Options, RouterAdvert,
};
use ndp_core::{Config, RxMeta, Stack, Transmit};

pub const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x10]);
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x20]);
pub const OTHER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x30]);

pub fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Our EUI-64 link-local address for OUR_MAC.
pub fn our_ll() -> Ipv6Addr {
    a("fe80::5eff:fe00:5310")
}

pub fn peer() -> Ipv6Addr {
    a("fe80::20")
}

pub fn t(ms: u32) -> Instant {
    Instant::from_millis(ms)
}

/// A stack for neighbor-cache and router tests: Router Solicitations and
/// DAD are off and the link-local address is EUI-64 (preferred at once),
/// so that only the traffic under test comes out.
pub fn stack() -> Stack {
    Stack::new(config(), Instant::ZERO)
}

pub fn config() -> Config {
    let mut c = Config::eui64(OUR_MAC, 42);
    c.router_solicitations = false;
    c.dad_transmits = 0;
    c
}

pub fn emit(msg: &Message<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut b = vec![0u8; msg.buffer_len()];
    msg.emit(&src, &dst, &mut b).unwrap();
    b
}

pub fn meta(src: Ipv6Addr, dst: Ipv6Addr) -> RxMeta {
    RxMeta {
        src,
        dst,
        hop_limit: 255,
        src_mac: None,
    }
}

/// Deliver `msg` from `src` to `dst` with hop limit 255.
pub fn rx<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
    msg: &Message<'_>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) -> bool {
    s.receive(now, &meta(src, dst), &emit(msg, src, dst))
}

/// Deliver an NA for `target` from `target` to our link-local address.
pub fn rx_na<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
    target: Ipv6Addr,
    solicited: bool,
    override_flag: bool,
    router: bool,
    tlla: Option<MacAddr>,
) {
    let opts: Vec<NdOption<'_>> = tlla.map(NdOption::TargetLinkAddr).into_iter().collect();
    let m = Message::NeighborAdvert(NeighborAdvert {
        router_flag: router,
        solicited_flag: solicited,
        override_flag,
        target,
        options: Options::from_list(&opts),
    });
    let dst = if solicited { our_ll() } else { a("ff02::1") };
    assert!(rx(s, now, &m, target, dst));
}

/// Deliver an NS from `src` (with SLLA `mac`) for our link-local address.
pub fn rx_ns<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
    src: Ipv6Addr,
    mac: Option<MacAddr>,
) {
    let opts: Vec<NdOption<'_>> = mac.map(NdOption::SourceLinkAddr).into_iter().collect();
    let m = Message::NeighborSolicit(NeighborSolicit {
        target: our_ll(),
        options: Options::from_list(&opts),
    });
    assert!(rx(s, now, &m, src, a("ff02::1:ff00:5310")));
}

/// Deliver an RA from `src` with optional SLLA.
pub fn rx_ra<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
    src: Ipv6Addr,
    mac: Option<MacAddr>,
) {
    rx_ra_lifetime(s, now, src, mac, 1800);
}

/// As [`rx_ra`], with this router lifetime (0: not a default router).
pub fn rx_ra_lifetime<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
    src: Ipv6Addr,
    mac: Option<MacAddr>,
    router_lifetime: u16,
) {
    let opts: Vec<NdOption<'_>> = mac.map(NdOption::SourceLinkAddr).into_iter().collect();
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other_config: false,
        preference: ndp_core::wire::Preference::Medium,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&opts),
    });
    assert!(rx(s, now, &m, src, a("ff02::1")));
}

/// An IPv6 packet (UDP-less: next header 59) from `src` to `dst` with a
/// payload of `n` bytes of `fill`.
pub fn packet(src: Ipv6Addr, dst: Ipv6Addr, n: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![0u8; 40 + n];
    Ipv6Header {
        src,
        dst,
        next_header: 59,
        hop_limit: 64,
        payload_len: n as u16,
    }
    .emit(&mut p)
    .unwrap();
    p[40..].fill(fill);
    p
}

/// Everything poll_transmit has now except MLD reports (which these tests
/// are not about; they carry a Hop-by-Hop header): (transmit, header,
/// bytes).
pub fn drain<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
) -> Vec<(Transmit, Ipv6Header, Vec<u8>)> {
    drain_all(s, now)
        .into_iter()
        .filter(|(_, h, _)| h.next_header != 0)
        .collect()
}

/// Everything poll_transmit has now, parsed: (transmit, header, bytes).
pub fn drain_all<const N: usize, const S: usize, const B: usize>(
    s: &mut Stack<N, S, B>,
    now: Instant,
) -> Vec<(Transmit, Ipv6Header, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1500];
    while let Some(tx) = s.poll_transmit(now, &mut buf) {
        let bytes = buf[..tx.len].to_vec();
        let (h, _) = Ipv6Header::parse(&bytes).unwrap();
        out.push((tx, h, bytes));
        assert!(out.len() < 10_000, "poll_transmit never ends");
    }
    // Contract: after draining, nothing is due now.
    if let Some(at) = s.poll_at() {
        assert!(
            at > now,
            "poll_at {at} <= now {now} with nothing to send (spin)"
        );
    }
    out
}

/// The ICMPv6 message of a transmitted packet.
pub fn icmp(bytes: &[u8]) -> Message<'_> {
    let (h, payload) = Ipv6Header::parse(bytes).unwrap();
    assert_eq!(h.next_header, 58);
    Message::parse_checked(&h.src, &h.dst, payload).unwrap()
}

pub fn secs(s: u32) -> Duration {
    Duration::from_secs(s)
}
