//! Builders and a parser for test traffic: Ethernet frames carrying IPv6,
//! ICMPv6 messages emitted through the codec, and echo request/reply.
//!
//! Everything built here has correct lengths and checksums, so a frame
//! that tshark flags was broken on purpose or by the engine, never by the
//! test harness.

use core::net::Ipv6Addr;

use ndp_core::wire::{
    IpMeta, Lifetime, MacAddr, Message, MulticastAddr, NdOption, Options, Preference, PrefixInfo,
    RouterAdvert, icmpv6,
};

use crate::frame::{self, ETHERTYPE_IPV6};

/// Next Header value of ICMPv6.
pub const NH_ICMPV6: u8 = icmpv6::NEXT_HEADER_ICMPV6;
/// ICMPv6 type of an Echo Request (RFC 4443 §4.1).
pub const ECHO_REQUEST: u8 = 128;
/// ICMPv6 type of an Echo Reply (RFC 4443 §4.2).
pub const ECHO_REPLY: u8 = 129;
/// Hop limit of every Neighbor Discovery message (RFC 4861).
pub const ND_HOP_LIMIT: u8 = 255;

/// An Ethernet II frame: destination, source, EtherType, payload (no FCS).
pub fn ethernet(dst_mac: MacAddr, src_mac: MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0; ndp_core::wire::ethernet::HEADER_LEN];
    ndp_core::wire::ethernet::EthernetHeader {
        dst: dst_mac,
        src: src_mac,
        ethertype,
    }
    .emit(&mut f)
    .expect("a header-sized buffer");
    f.extend_from_slice(payload);
    f
}

/// An IPv6 packet: the 40-byte header (traffic class and flow label zero)
/// followed by `payload`, whose length goes into Payload Length.
///
/// Panics when `payload` does not fit in 65535 bytes (no jumbograms here).
pub fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("IPv6 payload longer than 65535 bytes");
    let mut p = Vec::with_capacity(40 + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&len.to_be_bytes());
    p.push(next_header);
    p.push(hop_limit);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// An Ethernet frame carrying an IPv6 packet.
pub fn ipv6_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let ip = ipv6(src, dst, next_header, hop_limit, payload);
    ethernet(dst_mac, src_mac, ETHERTYPE_IPV6, &ip)
}

/// The bytes of an ICMPv6 message emitted by the codec, checksum filled
/// for this source and destination.
pub fn icmpv6_bytes(src: Ipv6Addr, dst: Ipv6Addr, msg: &Message<'_>) -> Vec<u8> {
    let mut buf = vec![0; msg.buffer_len()];
    let n = msg
        .emit(&src, &dst, &mut buf)
        .unwrap_or_else(|e| panic!("codec cannot emit {msg:?}: {e:?}"));
    buf.truncate(n);
    buf
}

/// A whole frame carrying an ICMPv6 message emitted by the codec.
pub fn icmpv6_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Message<'_>,
) -> Vec<u8> {
    let icmp = icmpv6_bytes(src, dst, msg);
    ipv6_frame(src_mac, dst_mac, src, dst, NH_ICMPV6, hop_limit, &icmp)
}

/// A Router Advertisement from fe80::1 (link-layer address `router_mac`)
/// to all-nodes, as the adapters' tests' router sends it: 2001:db8:1::/64
/// on-link and autonomous (valid 86,400 s, preferred 14,400 s), with
/// this router lifetime and Cur Hop Limit.
pub fn prefix_ra(router_mac: MacAddr, router_lifetime: u16, cur_hop_limit: u8) -> Vec<u8> {
    let pio = PrefixInfo {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: Lifetime::from_wire(86400),
        preferred_lifetime: Lifetime::from_wire(14400),
        prefix: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
    };
    let opts = [
        NdOption::SourceLinkAddr(router_mac),
        NdOption::PrefixInfo(pio),
    ];
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit,
        managed: false,
        other_config: false,
        preference: Preference::Medium,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&opts),
    });
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let group =
        MulticastAddr::new(all_nodes).map_or(MacAddr([0x33, 0x33, 0, 0, 0, 1]), |g| g.mac());
    let router = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    icmpv6_frame(router_mac, group, router, all_nodes, ND_HOP_LIMIT, &m)
}

/// An ICMPv6 Echo Request body (type 128) with its checksum for `src` →
/// `dst`.
pub fn echo_request(src: Ipv6Addr, dst: Ipv6Addr, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    echo(ECHO_REQUEST, src, dst, id, seq, data)
}

/// An ICMPv6 Echo Reply body (type 129) with its checksum for `src` →
/// `dst`.
pub fn echo_reply(src: Ipv6Addr, dst: Ipv6Addr, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    echo(ECHO_REPLY, src, dst, id, seq, data)
}

fn echo(ty: u8, src: Ipv6Addr, dst: Ipv6Addr, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    icmpv6::fill_checksum(&mut m, &src, &dst).expect("an echo message holds its header");
    m
}

/// A decoded echo request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// True for a request (type 128), false for a reply (type 129).
    pub request: bool,
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
    /// Data after the sequence number.
    pub data: Vec<u8>,
}

/// Decode an ICMPv6 echo request or reply, checking its checksum for
/// `src` → `dst`; `None` for anything else.
pub fn parse_echo(src: Ipv6Addr, dst: Ipv6Addr, icmp: &[u8]) -> Option<Echo> {
    let packet = icmpv6::Packet::new_checked(icmp).ok()?;
    let request = match (packet.msg_type(), packet.code()) {
        (ECHO_REQUEST, 0) => true,
        (ECHO_REPLY, 0) => false,
        _ => return None,
    };
    if !packet.verify_checksum(&src, &dst) {
        return None;
    }
    let body = packet.body();
    Some(Echo {
        request,
        id: u16::from_be_bytes(body.get(0..2)?.try_into().ok()?),
        seq: u16::from_be_bytes(body.get(2..4)?.try_into().ok()?),
        data: body.get(4..)?.to_vec(),
    })
}

/// An ICMPv6 message in a frame, with what the codec's receive validation
/// needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6In<'a> {
    /// IPv6 source, destination and hop limit.
    pub meta: IpMeta,
    /// The ICMPv6 message.
    pub icmp: &'a [u8],
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
}

/// Decode a frame down to its ICMPv6 message (walking extension headers);
/// `None` for anything else or anything malformed.
pub fn parse_icmpv6(frame: &[u8]) -> Option<Icmpv6In<'_>> {
    let f = frame::parse(frame)?;
    Some(Icmpv6In {
        meta: IpMeta {
            src: f.src,
            dst: f.dst,
            hop_limit: f.hop_limit,
        },
        icmp: f.icmpv6()?,
        src_mac: f.src_mac,
        dst_mac: f.dst_mac,
    })
}

/// `prefix` (its first 64 bits) with the modified EUI-64 interface
/// identifier of `mac` (RFC 4291 Appendix A, RFC 4862 §5.3).
pub fn eui64_addr(prefix: Ipv6Addr, mac: MacAddr) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&mac.modified_eui64());
    Ipv6Addr::from(o)
}

/// The EUI-64 link-local address of `mac`: fe80::/64 plus the modified
/// EUI-64 interface identifier.
pub fn link_local(mac: MacAddr) -> Ipv6Addr {
    eui64_addr(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// Next Header value of UDP.
pub const NH_UDP: u8 = 17;

/// A UDP datagram (header and payload) from `src`:`sport` to
/// `dst`:`dport`, with its checksum over the IPv6 pseudo-header (RFC 8200
/// §8.1, where UDP's checksum is mandatory).
pub fn udp(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("UDP datagram longer than 65535 bytes");
    let mut d = Vec::with_capacity(usize::from(len));
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&len.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for c in bytes.chunks(2) {
            let word = u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]);
            sum += u32::from(word);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&u32::from(len).to_be_bytes());
    add(&[0, 0, 0, NH_UDP]);
    add(&d);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // RFC 768: a computed zero is sent as all ones.
    let c = match !(sum as u16) {
        0 => 0xffff,
        c => c,
    };
    d[6..8].copy_from_slice(&c.to_be_bytes());
    d
}

/// The Ethernet destination for an IPv6 multicast destination
/// (33:33 + low 32 bits); `None` for a unicast address.
pub fn multicast_mac(dst: Ipv6Addr) -> Option<MacAddr> {
    MulticastAddr::new(dst).map(|g| g.mac())
}

#[cfg(test)]
mod tests {
    use ndp_core::wire::{NdOption, NeighborSolicit, Options, UnicastAddr, parse_received};

    use super::*;

    const MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x20]);

    #[test]
    fn udp_checksum_matches_a_worked_example() {
        // Checked with Python: the one's complement of the 16-bit sum of
        // the pseudo-header and the datagram, for fe80::1 port 7 to
        // fe80::2 port 7 carrying "hi".
        let d = udp(
            "fe80::1".parse().unwrap(),
            "fe80::2".parse().unwrap(),
            7,
            7,
            b"hi",
        );
        assert_eq!(d.len(), 10);
        assert_eq!(&d[..6], &[0, 7, 0, 7, 0, 10]);
        assert_eq!(u16::from_be_bytes([d[6], d[7]]), 0x9a5e);
    }

    #[test]
    fn link_local_from_mac() {
        let ll: Ipv6Addr = "fe80::5eff:fe00:5320".parse().unwrap();
        assert_eq!(link_local(MAC), ll);
    }

    #[test]
    fn icmpv6_frame_round_trips() {
        let src = link_local(MAC);
        let target: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst = UnicastAddr::new(target).unwrap().solicited_node();
        let opts = [NdOption::SourceLinkAddr(MAC)];
        let msg = Message::NeighborSolicit(NeighborSolicit {
            target,
            options: Options::from_list(&opts),
        });
        let f = icmpv6_frame(MAC, dst.mac(), src, dst.get(), ND_HOP_LIMIT, &msg);
        let got = parse_icmpv6(&f).unwrap();
        assert_eq!((got.src_mac, got.dst_mac), (MAC, dst.mac()));
        assert_eq!(parse_received(&got.meta, got.icmp).unwrap(), msg);
    }

    #[test]
    fn echo_round_trips_and_checks_checksum() {
        let (a, b) = (link_local(MAC), "fe80::1".parse().unwrap());
        let m = echo_request(a, b, 7, 9, b"hi");
        let e = parse_echo(a, b, &m).unwrap();
        assert_eq!(
            (e.request, e.id, e.seq, &e.data[..]),
            (true, 7, 9, &b"hi"[..])
        );
        assert!(
            !parse_echo(a, b, &echo_reply(a, b, 7, 9, b"hi"))
                .unwrap()
                .request
        );
        let other = "fe80::3".parse().unwrap();
        assert_eq!(parse_echo(a, other, &m), None, "wrong pseudo-header");
    }
}

/// EtherType of IPv4 (RFC 894).
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP (RFC 826).
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// The Internet checksum (RFC 1071) of `data`.
fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ARP request (RFC 826) from `sender_mac` at `sender_ip` for
/// `target`, broadcast.
pub fn arp_request(
    sender_mac: MacAddr,
    sender_ip: core::net::Ipv4Addr,
    target: core::net::Ipv4Addr,
) -> Vec<u8> {
    let mut body = vec![0, 1, 8, 0, 6, 4, 0, 1];
    body.extend_from_slice(&sender_mac.0);
    body.extend_from_slice(&sender_ip.octets());
    body.extend_from_slice(&[0; 6]);
    body.extend_from_slice(&target.octets());
    ethernet(MacAddr::BROADCAST, sender_mac, ETHERTYPE_ARP, &body)
}

/// An IPv4 packet (RFC 791: a 20-byte header, TTL 64, with its checksum)
/// carrying `payload` of protocol `protocol`.
pub fn ipv4(
    src: core::net::Ipv4Addr,
    dst: core::net::Ipv4Addr,
    protocol: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("IPv4 packet longer than 65535 bytes");
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 64, protocol, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let sum = internet_checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An ICMPv4 echo request (RFC 792) from `src` to `dst`.
pub fn echo4_request(
    src: core::net::Ipv4Addr,
    dst: core::net::Ipv4Addr,
    id: u16,
    seq: u16,
    data: &[u8],
) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(data);
    let sum = internet_checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    ipv4(src, dst, 1, &icmp)
}

#[cfg(test)]
mod ipv4_tests {
    use super::*;

    #[test]
    fn the_internet_checksum_of_rfc1071s_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn a_built_ipv4_header_checks_out() {
        let p = echo4_request(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.10".parse().unwrap(),
            7,
            1,
            b"ping",
        );
        // Summing a header with its checksum gives zero (RFC 1071).
        assert_eq!(internet_checksum(&p[..20]), 0);
        assert_eq!(internet_checksum(&p[20..]), 0);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
    }
}
