//! Ethernet + IPv6 frame decoding for tests: from a captured frame to the
//! ICMPv6 message inside, with the IPv6 fields the codec's validation
//! needs, through ndp-core's own framing and header walk.

use core::net::Ipv6Addr;

use ndp_core::wire::MacAddr;

pub use ndp_core::wire::ethernet::ETHERTYPE_IPV6;
use ndp_core::wire::ethernet::EthernetHeader;
use ndp_core::wire::ipv6::{NEXT_HEADER_ICMPV6, upper_layer};

/// An IPv6 packet in an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Frame<'a> {
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// IPv6 source.
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// IPv6 hop limit.
    pub hop_limit: u8,
    /// A Fragment header was on the way to the upper layer.
    pub fragmented: bool,
    /// A Hop-by-Hop header carried a Router Alert option (RFC 2711).
    pub router_alert: bool,
    /// Upper-layer protocol after the extension headers.
    pub next_header: u8,
    /// Upper-layer bytes (as far as the IPv6 payload length says).
    pub payload: &'a [u8],
}

impl<'a> Ipv6Frame<'a> {
    /// The ICMPv6 message, if that is the upper layer.
    pub fn icmpv6(&self) -> Option<&'a [u8]> {
        (self.next_header == NEXT_HEADER_ICMPV6).then_some(self.payload)
    }
}

/// Decode an Ethernet frame carrying IPv6; `None` for anything else or
/// anything malformed. Read with the framing and extension-header walk the
/// adapters use ([`EthernetHeader::parse`], [`upper_layer`]).
pub fn parse(frame: &[u8]) -> Option<Ipv6Frame<'_>> {
    let (eth, ip) = EthernetHeader::parse(frame).ok()?;
    if eth.ethertype != ETHERTYPE_IPV6 {
        return None;
    }
    let up = upper_layer(ip).ok()?;
    Some(Ipv6Frame {
        dst_mac: eth.dst,
        src_mac: eth.src,
        src: up.header.src,
        dst: up.header.dst,
        hop_limit: up.header.hop_limit,
        fragmented: up.fragment,
        router_alert: up.router_alert,
        next_header: up.protocol,
        payload: up.payload,
    })
}
