//! The ICMPv6 header shared by every message ([RFC 4443 §2.1]) and its
//! checksum over the IPv6 pseudo-header ([RFC 4443 §2.3], [RFC 8200 §8.1]).
//!
//! [RFC 4443 §2.1]: https://www.rfc-editor.org/rfc/rfc4443#section-2.1
//! [RFC 4443 §2.3]: https://www.rfc-editor.org/rfc/rfc4443#section-2.3
//! [RFC 8200 §8.1]: https://www.rfc-editor.org/rfc/rfc8200#section-8.1

use core::net::Ipv6Addr;

use super::bytes;
use super::{Error, Result};

/// Next Header value of ICMPv6 ([RFC 8200 §4], IANA protocol numbers).
///
/// [RFC 8200 §4]: https://www.rfc-editor.org/rfc/rfc8200#section-4
pub const NEXT_HEADER_ICMPV6: u8 = 58;

/// ICMPv6 message types this codec knows (IANA ICMPv6 parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum MessageType {
    /// Destination Unreachable (RFC 4443 §3.1).
    DestUnreachable = 1,
    /// Multicast Listener Query, MLDv1 and MLDv2 (RFC 2710 §3, RFC 3810 §5.1).
    MldQuery = 130,
    /// MLDv1 Multicast Listener Report (RFC 2710 §3).
    MldV1Report = 131,
    /// MLDv1 Multicast Listener Done (RFC 2710 §3).
    MldV1Done = 132,
    /// Router Solicitation (RFC 4861 §4.1).
    RouterSolicit = 133,
    /// Router Advertisement (RFC 4861 §4.2).
    RouterAdvert = 134,
    /// Neighbor Solicitation (RFC 4861 §4.3).
    NeighborSolicit = 135,
    /// Neighbor Advertisement (RFC 4861 §4.4).
    NeighborAdvert = 136,
    /// Redirect (RFC 4861 §4.5).
    Redirect = 137,
    /// Version 2 Multicast Listener Report (RFC 3810 §5.2).
    MldV2Report = 143,
}

impl MessageType {
    /// The type for a wire value, `None` for types this codec does not
    /// handle (echo, other errors, ...).
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::DestUnreachable,
            130 => Self::MldQuery,
            131 => Self::MldV1Report,
            132 => Self::MldV1Done,
            133 => Self::RouterSolicit,
            134 => Self::RouterAdvert,
            135 => Self::NeighborSolicit,
            136 => Self::NeighborAdvert,
            137 => Self::Redirect,
            143 => Self::MldV2Report,
            _ => return None,
        })
    }

    /// Part of Neighbor Discovery proper ([RFC 4861]), as opposed to MLD or
    /// ICMPv6 errors: these must arrive with hop limit 255 and code 0.
    ///
    /// [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
    pub const fn is_ndp(self) -> bool {
        matches!(
            self,
            Self::RouterSolicit
                | Self::RouterAdvert
                | Self::NeighborSolicit
                | Self::NeighborAdvert
                | Self::Redirect
        )
    }

    /// Part of MLD ([RFC 2710], [RFC 3810]): sent with hop limit 1.
    ///
    /// [RFC 2710]: https://www.rfc-editor.org/rfc/rfc2710
    /// [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
    pub const fn is_mld(self) -> bool {
        matches!(
            self,
            Self::MldQuery | Self::MldV1Report | Self::MldV1Done | Self::MldV2Report
        )
    }
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    /// Where the message body starts.
    pub const BODY: usize = 4;
}

/// Length of the ICMPv6 header (type, code, checksum).
pub const HEADER_LEN: usize = field::BODY;

/// A read-only view of an ICMPv6 message: header fields and body.
///
/// `new_checked` is the only constructor and proves the 4-byte header is
/// there; the body is whatever follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A view of `buf`, or `Truncated` when it cannot hold the header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        if buf.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buf })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Total ICMPv6 length (header and body).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Never true: a checked packet holds at least its header.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Type field ([RFC 4443 §2.1]).
    ///
    /// [RFC 4443 §2.1]: https://www.rfc-editor.org/rfc/rfc4443#section-2.1
    pub fn msg_type(&self) -> u8 {
        bytes::u8_at(self.buf, field::TYPE).unwrap_or(0)
    }

    /// Code field ([RFC 4443 §2.1]).
    ///
    /// [RFC 4443 §2.1]: https://www.rfc-editor.org/rfc/rfc4443#section-2.1
    pub fn code(&self) -> u8 {
        bytes::u8_at(self.buf, field::CODE).unwrap_or(0)
    }

    /// Checksum field as sent.
    pub fn checksum(&self) -> u16 {
        bytes::u16_at(self.buf, field::CHECKSUM).unwrap_or(0)
    }

    /// Everything after the 4-byte header.
    pub fn body(&self) -> &'a [u8] {
        self.buf.get(field::BODY..).unwrap_or(&[])
    }

    /// True when the checksum is right for this source and destination
    /// ([RFC 4443 §2.3]: the sum over pseudo-header and message, checksum
    /// field included, is all ones).
    ///
    /// [RFC 4443 §2.3]: https://www.rfc-editor.org/rfc/rfc4443#section-2.3
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        ones_complement_sum(src, dst, self.buf) == 0xffff
    }
}

/// Write type and code into an ICMPv6 buffer.
pub(crate) fn emit_header(buf: &mut [u8], msg_type: u8, code: u8) -> Result<()> {
    bytes::put_u8(buf, field::TYPE, msg_type)?;
    bytes::put_u8(buf, field::CODE, code)?;
    bytes::put_u16(buf, field::CHECKSUM, 0)
}

/// Compute and store the checksum of the ICMPv6 message `buf` (whose
/// checksum field is overwritten) for this source and destination.
pub fn fill_checksum(buf: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<()> {
    bytes::put_u16(buf, field::CHECKSUM, 0)?;
    let sum = checksum(src, dst, buf);
    bytes::put_u16(buf, field::CHECKSUM, sum)
}

/// The ICMPv6 checksum of `msg` (with its checksum field taken as it is)
/// over the IPv6 pseudo-header of [RFC 8200 §8.1]: source, destination,
/// upper-layer length (32 bits), three zero bytes and next header 58.
///
/// ```
/// use ndp_core::wire::icmpv6;
/// let src = "fe80::1".parse().unwrap();
/// let dst = "ff02::2".parse().unwrap();
/// // A Router Solicitation with its checksum field zeroed.
/// let mut rs = [133u8, 0, 0, 0, 0, 0, 0, 0];
/// icmpv6::fill_checksum(&mut rs, &src, &dst).unwrap();
/// assert!(icmpv6::Packet::new_checked(&rs).unwrap().verify_checksum(&src, &dst));
/// ```
///
/// [RFC 8200 §8.1]: https://www.rfc-editor.org/rfc/rfc8200#section-8.1
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    !ones_complement_sum(src, dst, msg)
}

fn ones_complement_sum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    // RFC 1071 §2(B): the sum may be taken 32 bits at a time and folded,
    // since 2^16 ≡ 1 modulo 2^16 - 1; half the additions of 16-bit words.
    // Each 32-bit word is below 2^32, so a u64 accumulator cannot overflow
    // for any message that fits in memory (wrapping_add keeps that free
    // of panics even in theory).
    fn add(acc: u64, data: &[u8]) -> u64 {
        let mut acc = acc;
        let mut words = data.chunks_exact(4);
        for w in words.by_ref() {
            if let [a, b, c, d] = *w {
                acc = acc.wrapping_add(u64::from(u32::from_be_bytes([a, b, c, d])));
            }
        }
        // 0 to 3 bytes left, padded with zeros to a 32-bit word (RFC 4443
        // §2.3 pads the message to a multiple of 16 bits).
        let mut last = [0u8; 4];
        for (d, s) in last.iter_mut().zip(words.remainder()) {
            *d = *s;
        }
        acc.wrapping_add(u64::from(u32::from_be_bytes(last)))
    }
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let mut acc = add(0, &src.octets());
    acc = add(acc, &dst.octets());
    acc = add(acc, &len.to_be_bytes());
    acc = add(acc, &[0, 0, 0, NEXT_HEADER_ICMPV6]);
    acc = add(acc, msg);
    while acc > 0xffff {
        acc = (acc & 0xffff).wrapping_add(acc >> 16);
    }
    u16::try_from(acc).unwrap_or(0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_known_router_solicitation() {
        // RS from the radvd capture (frame 27), fe80::5eff:fe00:5320 -> ff02::2.
        let src: Ipv6Addr = "fe80::5eff:fe00:5320".parse().unwrap();
        let dst: Ipv6Addr = "ff02::2".parse().unwrap();
        let mut rs = [
            133u8, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x02, 0x00, 0x5e, 0x00, 0x53, 0x20,
        ];
        fill_checksum(&mut rs, &src, &dst).unwrap();
        let p = Packet::new_checked(&rs).unwrap();
        assert!(p.verify_checksum(&src, &dst));
        // A different pseudo-header must not verify.
        let other: Ipv6Addr = "fe80::5eff:fe00:5321".parse().unwrap();
        assert!(!p.verify_checksum(&other, &dst));
    }

    #[test]
    fn odd_length_is_padded_with_zero() {
        let a = Ipv6Addr::UNSPECIFIED;
        // One trailing byte counts as its high half.
        let s1 = checksum(&a, &a, &[0x12]);
        let s2 = checksum(&a, &a, &[0x12, 0x00]);
        // Same data words, but different upper-layer length.
        assert_ne!(s1, s2);
        let mut m = [1u8, 0, 0, 0, 0xab];
        fill_checksum(&mut m, &a, &a).unwrap();
        assert!(Packet::new_checked(&m).unwrap().verify_checksum(&a, &a));
    }

    #[test]
    fn sum_of_32_bit_words_equals_rfc_1071_sum_of_16_bit_words() {
        // The reference: RFC 1071's 16-bit one's complement sum over the
        // RFC 8200 §8.1 pseudo-header and the message padded to 16 bits.
        fn reference(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
            let mut data = std::vec::Vec::new();
            data.extend_from_slice(&src.octets());
            data.extend_from_slice(&dst.octets());
            data.extend_from_slice(&(msg.len() as u32).to_be_bytes());
            data.extend_from_slice(&[0, 0, 0, 58]);
            data.extend_from_slice(msg);
            if data.len() % 2 == 1 {
                data.push(0);
            }
            let mut sum: u32 = 0;
            for w in data.chunks(2) {
                sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
                sum = (sum & 0xffff) + (sum >> 16);
            }
            !(sum as u16)
        }
        let src: Ipv6Addr = "fe80::1:ffff:ffff".parse().unwrap();
        let dst: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
        let mut x: u32 = 1;
        for len in 0..300 {
            let msg: std::vec::Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 24) as u8
                })
                .collect();
            assert_eq!(
                checksum(&src, &dst, &msg),
                reference(&src, &dst, &msg),
                "length {len}"
            );
        }
        // All ones: the folding carries at every step.
        let ff = [0xffu8; 257];
        assert_eq!(checksum(&src, &dst, &ff), reference(&src, &dst, &ff));
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(Packet::new_checked(&[133, 0, 0]), Err(Error::Truncated));
    }
}
