//! The IPv6 header ([RFC 8200 §3]) and the Hop-by-Hop Router Alert that MLD
//! messages carry ([RFC 2711], [RFC 3810 §5]).
//!
//! The engine writes whole IPv6 packets (so an adapter only adds the
//! Ethernet header) and reads the destination of packets it is asked to
//! send.
//!
//! [RFC 8200 §3]: https://www.rfc-editor.org/rfc/rfc8200#section-3
//! [RFC 2711]: https://www.rfc-editor.org/rfc/rfc2711
//! [RFC 3810 §5]: https://www.rfc-editor.org/rfc/rfc3810#section-5

use core::net::Ipv6Addr;

use super::bytes;
use super::icmpv6::MessageType;
use super::{Error, Result};

mod field {
    pub const VERSION_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
    pub const PAYLOAD: usize = 40;
}

/// Next Header value of the Hop-by-Hop Options header ([RFC 8200 §4.3]).
///
/// [RFC 8200 §4.3]: https://www.rfc-editor.org/rfc/rfc8200#section-4.3
pub const NEXT_HEADER_HOP_BY_HOP: u8 = 0;

/// Length of a Hop-by-Hop header holding only a Router Alert ([RFC 2711]):
/// next header, length 0, the 4-byte option, and a 2-byte PadN.
///
/// [RFC 2711]: https://www.rfc-editor.org/rfc/rfc2711
pub const ROUTER_ALERT_HBH_LEN: usize = 8;

/// The fields of a fixed IPv6 header the engine uses. Traffic class and
/// flow label are sent as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ipv6Header {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Protocol of what follows the header.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Bytes after the 40-byte header.
    pub payload_len: u16,
}

impl Ipv6Header {
    /// Length of the fixed header.
    pub const LEN: usize = field::PAYLOAD;

    /// Read the header at the start of `packet`; fails when the buffer is
    /// shorter than the header, the version is not 6, or the payload length
    /// runs past the buffer. Returns the header and the payload.
    pub fn parse(packet: &[u8]) -> Result<(Self, &[u8])> {
        let first = bytes::u8_at(packet, field::VERSION_TC_FLOW)?;
        if first >> 4 != 6 {
            return Err(Error::BadLength);
        }
        let payload_len = bytes::u16_at(packet, field::PAYLOAD_LEN)?;
        let h = Ipv6Header {
            src: bytes::addr_at(packet, field::SRC)?,
            dst: bytes::addr_at(packet, field::DST)?,
            next_header: bytes::u8_at(packet, field::NEXT_HEADER)?,
            hop_limit: bytes::u8_at(packet, field::HOP_LIMIT)?,
            payload_len,
        };
        let payload = bytes::slice(packet, field::PAYLOAD, usize::from(payload_len))?;
        Ok((h, payload))
    }

    /// Write the header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        bytes::put(buf, field::VERSION_TC_FLOW, &[0x60, 0, 0, 0])?;
        bytes::put_u16(buf, field::PAYLOAD_LEN, self.payload_len)?;
        bytes::put_u8(buf, field::NEXT_HEADER, self.next_header)?;
        bytes::put_u8(buf, field::HOP_LIMIT, self.hop_limit)?;
        bytes::put_addr(buf, field::SRC, &self.src)?;
        bytes::put_addr(buf, field::DST, &self.dst)
    }
}

/// Write a Hop-by-Hop Options header carrying a Router Alert with value 0
/// ("Multicast Listener Discovery message", [RFC 2711 §2.1]) at the start of
/// `buf`, followed by `next_header`.
///
/// [RFC 2711 §2.1]: https://www.rfc-editor.org/rfc/rfc2711#section-2.1
pub fn emit_router_alert_hbh(buf: &mut [u8], next_header: u8) -> Result<()> {
    // Next header, Hdr Ext Len 0 (8 bytes), option type 5, length 2, value
    // 0, then PadN with length 0 to fill the 8 bytes (RFC 8200 §4.2).
    bytes::put(buf, 0, &[next_header, 0, 5, 2, 0, 0, 1, 0])
}

pub use super::icmpv6::NEXT_HEADER_ICMPV6;
/// Next Header value of the Routing header ([RFC 8200 §4.4]).
///
/// [RFC 8200 §4.4]: https://www.rfc-editor.org/rfc/rfc8200#section-4.4
pub const NEXT_HEADER_ROUTING: u8 = 43;
/// Next Header value of the Fragment header ([RFC 8200 §4.5]).
///
/// [RFC 8200 §4.5]: https://www.rfc-editor.org/rfc/rfc8200#section-4.5
pub const NEXT_HEADER_FRAGMENT: u8 = 44;
/// Next Header value of the Authentication Header ([RFC 4302 §2]).
///
/// [RFC 4302 §2]: https://www.rfc-editor.org/rfc/rfc4302#section-2
pub const NEXT_HEADER_AUTH: u8 = 51;
/// Next Header value of the Destination Options header ([RFC 8200 §4.6]).
///
/// [RFC 8200 §4.6]: https://www.rfc-editor.org/rfc/rfc8200#section-4.6
pub const NEXT_HEADER_DEST_OPTS: u8 = 60;

/// Most extension headers walked before giving up on a packet: a chain
/// longer than this is not something a host needs to read to find its
/// Neighbor Discovery messages ([RFC 7112] bounds it by the first fragment).
///
/// [RFC 7112]: https://www.rfc-editor.org/rfc/rfc7112
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Where a received packet's upper-layer header starts, after its
/// extension headers ([RFC 8200 §4]).
///
/// [RFC 8200 §4]: https://www.rfc-editor.org/rfc/rfc8200#section-4
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpperLayer<'a> {
    /// The fixed header.
    pub header: Ipv6Header,
    /// Protocol of `payload` (58 for ICMPv6).
    pub protocol: u8,
    /// The upper-layer bytes (the whole ICMPv6 message for ICMPv6).
    pub payload: &'a [u8],
    /// A Fragment header was present: the packet is (part of) a fragmented
    /// one. RFC 6980 §5: hosts silently ignore fragmented Neighbor
    /// Discovery messages.
    pub fragment: bool,
    /// A non-first fragment: `payload` is the middle of a packet, not an
    /// upper-layer header.
    pub later_fragment: bool,
    /// The Hop-by-Hop header carried a Router Alert (RFC 2711), which MLD
    /// messages must have (RFC 3810 §5).
    pub router_alert: bool,
}

/// Find the upper-layer protocol of the IPv6 packet `packet` by walking its
/// Hop-by-Hop (first only), Routing, Fragment, Destination Options and
/// Authentication headers.
///
/// Stops at the first other Next Header value (that is the upper layer), at
/// a non-first fragment, or fails with [`Error::Truncated`] when a header
/// runs past the packet and [`Error::BadLength`] for a chain longer than
/// [`MAX_EXTENSION_HEADERS`] or a packet that is not IPv6.
///
/// ```
/// use ndp_core::wire::ipv6::{upper_layer, NEXT_HEADER_ICMPV6};
/// // An MLD report as Linux sends it: fixed header, Hop-by-Hop with a
/// // Router Alert, then ICMPv6 (first 4 bytes only here).
/// let mut p = [0u8; 52];
/// p[0] = 0x60;
/// p[5] = 12; // payload length
/// p[6] = 0; // Hop-by-Hop
/// p[40..48].copy_from_slice(&[NEXT_HEADER_ICMPV6, 0, 5, 2, 0, 0, 1, 0]);
/// p[48] = 143; // MLDv2 report
/// let up = upper_layer(&p).unwrap();
/// assert_eq!(up.protocol, NEXT_HEADER_ICMPV6);
/// assert!(up.router_alert && !up.fragment);
/// assert_eq!(up.payload.len(), 4);
/// ```
pub fn upper_layer(packet: &[u8]) -> Result<UpperLayer<'_>> {
    let (header, mut rest) = Ipv6Header::parse(packet)?;
    let mut up = UpperLayer {
        header,
        protocol: header.next_header,
        payload: rest,
        fragment: false,
        later_fragment: false,
        router_alert: false,
    };
    let mut next = header.next_header;
    for i in 0..=MAX_EXTENSION_HEADERS {
        let len = match next {
            // RFC 8200 §4.1: Hop-by-Hop only immediately after the fixed
            // header; elsewhere it is treated as an unknown upper layer.
            NEXT_HEADER_HOP_BY_HOP if i == 0 => ext_len(rest, 8)?,
            NEXT_HEADER_ROUTING | NEXT_HEADER_DEST_OPTS => ext_len(rest, 8)?,
            // RFC 4302 §2.2: Payload Len in 4-octet units, minus 2.
            NEXT_HEADER_AUTH => usize::from(bytes::u8_at(rest, 1)?)
                .saturating_add(2)
                .saturating_mul(4),
            NEXT_HEADER_FRAGMENT => 8,
            _ => {
                up.protocol = next;
                up.payload = rest;
                return Ok(up);
            }
        };
        let this = bytes::slice(rest, 0, len)?;
        if next == NEXT_HEADER_HOP_BY_HOP {
            up.router_alert = has_router_alert(bytes::rest(this, 2)?);
        }
        if next == NEXT_HEADER_FRAGMENT {
            up.fragment = true;
            // RFC 8200 §4.5: the offset is the upper 13 bits.
            if bytes::u16_at(this, 2)? >> 3 != 0 {
                up.later_fragment = true;
                up.protocol = bytes::u8_at(this, 0)?;
                up.payload = bytes::rest(rest, len)?;
                return Ok(up);
            }
        }
        next = bytes::u8_at(this, 0)?;
        rest = bytes::rest(rest, len)?;
    }
    Err(Error::BadLength)
}

/// What a received IPv6 packet is to a host running the engine: see
/// [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Inbound<'a> {
    /// A Neighbor Discovery or MLD message, unfragmented: the engine's
    /// (`payload` is the ICMPv6 message for [`crate::Stack::receive`]).
    Engine(UpperLayer<'a>),
    /// Neighbor Discovery or MLD in a fragmented packet, which hosts
    /// silently ignore (RFC 6980 §5).
    FragmentedNd,
    /// Anything else: the host's IP stack's, echo requests and ICMPv6
    /// errors included.
    Other(UpperLayer<'a>),
}

/// Decide whose a received IPv6 packet is: the engine's (Neighbor
/// Discovery and MLD), nobody's (fragmented Neighbor Discovery: [RFC 6980]
/// §5) or the host IP stack's. Errors are [`upper_layer`]'s.
///
/// Every adapter classifies with this, so they agree on what the engine
/// sees: an ICMPv6 type the engine handles, in the first (or only)
/// fragment.
///
/// ```
/// use ndp_core::wire::ipv6::{classify, Inbound, NEXT_HEADER_ICMPV6};
/// let mut p = [0u8; 48];
/// p[0] = 0x60;
/// p[5] = 8; // payload length
/// p[6] = NEXT_HEADER_ICMPV6;
/// p[40] = 135; // Neighbor Solicitation
/// assert!(matches!(classify(&p), Ok(Inbound::Engine(_))));
/// p[40] = 128; // Echo Request
/// assert!(matches!(classify(&p), Ok(Inbound::Other(_))));
/// ```
///
/// [RFC 6980]: https://www.rfc-editor.org/rfc/rfc6980
#[inline]
pub fn classify(packet: &[u8]) -> Result<Inbound<'_>> {
    let up = upper_layer(packet)?;
    let nd = up.protocol == NEXT_HEADER_ICMPV6
        && !up.later_fragment
        && up
            .payload
            .first()
            .and_then(|&t| MessageType::from_u8(t))
            .is_some_and(|t| t.is_ndp() || t.is_mld());
    Ok(match (nd, up.fragment) {
        // RFC 6980 §5: "hosts MUST silently ignore" fragmented ND.
        (true, true) => Inbound::FragmentedNd,
        (true, false) => Inbound::Engine(up),
        (false, _) => Inbound::Other(up),
    })
}

/// Length of an extension header whose second octet counts `unit`-octet
/// units beyond the first (RFC 8200 §4.3, §4.4, §4.6).
fn ext_len(rest: &[u8], unit: usize) -> Result<usize> {
    Ok(usize::from(bytes::u8_at(rest, 1)?)
        .saturating_add(1)
        .saturating_mul(unit))
}

/// A Router Alert option (type 5, RFC 2711) among Hop-by-Hop options.
fn has_router_alert(mut opts: &[u8]) -> bool {
    while let Some((&ty, tail)) = opts.split_first() {
        if ty == 0 {
            // Pad1: a single octet (RFC 8200 §4.2).
            opts = tail;
            continue;
        }
        let Some((&len, tail)) = tail.split_first() else {
            return false;
        };
        if ty == 5 {
            return true;
        }
        opts = tail.get(usize::from(len)..).unwrap_or(&[]);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, ext: &[u8], upper: &[u8]) -> std::vec::Vec<u8> {
        let mut p = std::vec![0u8; 40];
        p[0] = 0x60;
        let len = (ext.len() + upper.len()) as u16;
        p[4..6].copy_from_slice(&len.to_be_bytes());
        p[6] = next;
        p[7] = 255;
        p.extend_from_slice(ext);
        p.extend_from_slice(upper);
        p
    }

    /// RFC 6980 §5: fragmented Neighbor Discovery (and MLD) is nobody's;
    /// unfragmented it is the engine's; everything else is the host's.
    #[test]
    fn classify_separates_engine_fragmented_nd_and_the_rest() {
        let engine = |p: &[u8]| matches!(classify(p), Ok(Inbound::Engine(_)));
        let other = |p: &[u8]| matches!(classify(p), Ok(Inbound::Other(_)));
        let dropped = |p: &[u8]| classify(p) == Ok(Inbound::FragmentedNd);
        for ty in [133, 134, 135, 136, 137, 130, 131, 132, 143] {
            assert!(engine(&packet(58, &[], &[ty, 0, 0, 0])), "type {ty}");
        }
        // Echo, an ICMPv6 error the engine does not handle, and UDP.
        assert!(other(&packet(58, &[], &[128, 0, 0, 0])));
        assert!(other(&packet(58, &[], &[3, 0, 0, 0])));
        assert!(other(&packet(17, &[], &[135, 0, 0, 0])));
        // An atomic fragment, and a first fragment, of an NS and an MLD
        // report: dropped; of an echo request: the host's.
        let atomic = [58, 0, 0, 0, 0, 0, 0, 1];
        let first = [58, 0, 0x00, 0x01, 0, 0, 0, 7];
        for frag in [atomic, first] {
            assert!(dropped(&packet(44, &frag, &[135, 0, 0, 0])));
            assert!(dropped(&packet(44, &frag, &[143, 0, 0, 0])));
            assert!(other(&packet(44, &frag, &[128, 0, 0, 0])));
        }
        // A later fragment: its first byte is the middle of a packet,
        // whatever its value.
        let later = [58, 0, 0x00, 0x10, 0, 0, 0, 7];
        assert!(other(&packet(44, &later, &[135, 0, 0, 0])));
        // Malformed stays an error.
        assert_eq!(classify(&[0x60; 39]), Err(Error::Truncated));
    }

    #[test]
    fn upper_layer_without_extension_headers() {
        let p = packet(58, &[], &[135, 0, 0, 0]);
        let up = upper_layer(&p).unwrap();
        assert_eq!((up.protocol, up.payload), (58, &[135u8, 0, 0, 0][..]));
        assert!(!up.fragment && !up.later_fragment && !up.router_alert);
    }

    #[test]
    fn upper_layer_walks_hop_by_hop_destination_options_and_routing() {
        let hbh_ra = [60, 0, 5, 2, 0, 0, 1, 0];
        let dest = [43, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let routing = [58, 0, 0, 0, 0, 0, 0, 0];
        let ext: std::vec::Vec<u8> = [&hbh_ra[..], &dest, &routing].concat();
        let p = packet(0, &ext, &[136, 0]);
        let up = upper_layer(&p).unwrap();
        assert_eq!((up.protocol, up.payload), (58, &[136u8, 0][..]));
        assert!(up.router_alert && !up.fragment);
        // A Hop-by-Hop header with only padding has no Router Alert.
        let hbh_pad = [58, 0, 1, 4, 0, 0, 0, 0];
        let p = packet(0, &hbh_pad, &[143]);
        let up = upper_layer(&p).unwrap();
        assert!(!up.router_alert);
        assert_eq!(up.protocol, 58);
    }

    #[test]
    fn hop_by_hop_after_the_first_header_is_an_unknown_upper_layer() {
        // RFC 8200 §4.1.
        let dest = [0, 0, 1, 4, 0, 0, 0, 0];
        let hbh = [58, 0, 5, 2, 0, 0, 1, 0];
        let ext: std::vec::Vec<u8> = [&dest[..], &hbh].concat();
        let p = packet(60, &ext, &[143]);
        let up = upper_layer(&p).unwrap();
        assert_eq!(up.protocol, 0);
        assert!(!up.router_alert);
    }

    #[test]
    fn fragments_are_flagged_and_later_fragments_not_parsed() {
        // First fragment (offset 0, M=1): the ICMPv6 header is visible.
        let first = [58, 0, 0x00, 0x01, 0, 0, 0, 7];
        let p = packet(44, &first, &[136, 0]);
        let up = upper_layer(&p).unwrap();
        assert_eq!(up.protocol, 58);
        assert!(up.fragment && !up.later_fragment);
        // Offset 8 octets: the payload is not an upper-layer header.
        let later = [58, 0, 0x00, 0x08, 0, 0, 0, 7];
        let p = packet(44, &later, &[1, 2]);
        let up = upper_layer(&p).unwrap();
        assert!(up.fragment && up.later_fragment);
        assert_eq!(up.payload, &[1, 2]);
    }

    #[test]
    fn authentication_header_length_is_in_four_octet_units() {
        // RFC 4302 §2.2: Payload Len 1 = (1 + 2) * 4 = 12 octets.
        let ah = [58, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let p = packet(51, &ah, &[135]);
        let up = upper_layer(&p).unwrap();
        assert_eq!((up.protocol, up.payload), (58, &[135u8][..]));
    }

    #[test]
    fn truncated_and_endless_chains_are_errors() {
        // Destination Options claiming 16 octets with 8 present.
        let dest = [58, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(upper_layer(&packet(60, &dest, &[])), Err(Error::Truncated));
        // A header cut before its length octet.
        assert_eq!(upper_layer(&packet(60, &[58], &[])), Err(Error::Truncated));
        // Nine Destination Options headers in a row.
        let mut ext = std::vec::Vec::new();
        for _ in 0..=MAX_EXTENSION_HEADERS {
            ext.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert_eq!(upper_layer(&packet(60, &ext, &[])), Err(Error::BadLength));
        // Exactly the maximum is fine.
        let mut ext = std::vec::Vec::new();
        for i in 0..MAX_EXTENSION_HEADERS {
            let next = if i + 1 == MAX_EXTENSION_HEADERS {
                58
            } else {
                60
            };
            ext.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
        }
        let p = packet(60, &ext, &[135]);
        assert_eq!(upper_layer(&p).unwrap().protocol, 58);
    }

    #[test]
    fn header_round_trip_and_bounds() {
        let h = Ipv6Header {
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::1".parse().unwrap(),
            next_header: 58,
            hop_limit: 255,
            payload_len: 4,
        };
        let mut b = [0u8; 44];
        h.emit(&mut b).unwrap();
        b[40..].copy_from_slice(&[1, 2, 3, 4]);
        let (p, payload) = Ipv6Header::parse(&b).unwrap();
        assert_eq!(p, h);
        assert_eq!(payload, &[1, 2, 3, 4]);
        // Payload length larger than the buffer.
        assert_eq!(Ipv6Header::parse(&b[..43]), Err(Error::Truncated));
        // Not version 6.
        b[0] = 0x45;
        assert_eq!(Ipv6Header::parse(&b), Err(Error::BadLength));
        assert_eq!(h.emit(&mut [0u8; 39]), Err(Error::BufferTooSmall));
    }
}
