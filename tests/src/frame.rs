//! Ethernet + IPv6 frame decoding for tests: from a captured frame to the
//! ICMPv6 message inside, with the IPv6 fields the codec's validation
//! needs.

use core::net::Ipv6Addr;

use ndp_core::wire::MacAddr;

/// EtherType of IPv6 (RFC 2464 §3).
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

const NH_HOP_BY_HOP: u8 = 0;
const NH_ROUTING: u8 = 43;
const NH_FRAGMENT: u8 = 44;
const NH_ICMPV6: u8 = 58;
const NH_DEST_OPTS: u8 = 60;

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
        (self.next_header == NH_ICMPV6).then_some(self.payload)
    }
}

/// Decode an Ethernet frame carrying IPv6; `None` for anything else or
/// anything malformed.
pub fn parse(frame: &[u8]) -> Option<Ipv6Frame<'_>> {
    let dst_mac = MacAddr(frame.get(0..6)?.try_into().ok()?);
    let src_mac = MacAddr(frame.get(6..12)?.try_into().ok()?);
    if u16::from_be_bytes(frame.get(12..14)?.try_into().ok()?) != ETHERTYPE_IPV6 {
        return None;
    }
    let ip = frame.get(14..)?;
    if ip.first()? >> 4 != 6 {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes(ip.get(4..6)?.try_into().ok()?));
    let mut next = *ip.get(6)?;
    let hop_limit = *ip.get(7)?;
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
    let mut rest = ip.get(40..40 + payload_len)?;
    let mut fragmented = false;
    let mut router_alert = false;
    loop {
        match next {
            NH_HOP_BY_HOP | NH_ROUTING | NH_DEST_OPTS => {
                let len = (usize::from(*rest.get(1)?) + 1) * 8;
                if next == NH_HOP_BY_HOP {
                    router_alert |= has_router_alert(rest.get(2..len)?);
                }
                next = *rest.first()?;
                rest = rest.get(len..)?;
            }
            NH_FRAGMENT => {
                fragmented = true;
                next = *rest.first()?;
                rest = rest.get(8..)?;
            }
            _ => break,
        }
    }
    Some(Ipv6Frame {
        dst_mac,
        src_mac,
        src,
        dst,
        hop_limit,
        fragmented,
        router_alert,
        next_header: next,
        payload: rest,
    })
}

/// Whether TLV options contain a Router Alert (type 5, RFC 2711).
fn has_router_alert(mut opts: &[u8]) -> bool {
    while let Some(&t) = opts.first() {
        if t == 0 {
            opts = &opts[1..];
            continue;
        }
        let Some(&len) = opts.get(1) else {
            return false;
        };
        if t == 5 {
            return true;
        }
        opts = opts.get(2 + usize::from(len)..).unwrap_or(&[]);
    }
    false
}
