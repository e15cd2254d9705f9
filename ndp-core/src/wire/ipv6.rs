//! The IPv6 header (RFC 8200 §3) and the Hop-by-Hop Router Alert that MLD
//! messages carry (RFC 2711, RFC 3810 §5).
//!
//! The engine writes whole IPv6 packets (so an adapter only adds the
//! Ethernet header) and reads the destination of packets it is asked to
//! send.

use core::net::Ipv6Addr;

use super::bytes;
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

/// Next Header value of the Hop-by-Hop Options header (RFC 8200 §4.3).
pub const NEXT_HEADER_HOP_BY_HOP: u8 = 0;

/// Length of a Hop-by-Hop header holding only a Router Alert (RFC 2711):
/// next header, length 0, the 4-byte option, and a 2-byte PadN.
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
/// ("Multicast Listener Discovery message", RFC 2711 §2.1) at the start of
/// `buf`, followed by `next_header`.
pub fn emit_router_alert_hbh(buf: &mut [u8], next_header: u8) -> Result<()> {
    // Next header, Hdr Ext Len 0 (8 bytes), option type 5, length 2, value
    // 0, then PadN with length 0 to fill the 8 bytes (RFC 8200 §4.2).
    bytes::put(buf, 0, &[next_header, 0, 5, 2, 0, 0, 1, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

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
