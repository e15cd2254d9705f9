//! Ethernet II framing: the 14-byte header in front of every packet on an
//! Ethernet link (IPv6 over Ethernet: [RFC 2464 §3]).
//!
//! The engine itself works on IPv6 packets; this is for the code around
//! it, so an adapter (ndp-smoltcp), the test simulator and a board with
//! its own IP stack read and write frames the same way.
//!
//! ```
//! use ndp_core::wire::MacAddr;
//! use ndp_core::wire::ethernet::{ETHERTYPE_IPV6, EthernetHeader, HEADER_LEN};
//!
//! let header = EthernetHeader {
//!     dst: MacAddr([0x33, 0x33, 0, 0, 0, 1]),
//!     src: MacAddr([2, 0, 0, 0, 0, 1]),
//!     ethertype: ETHERTYPE_IPV6,
//! };
//! let mut frame = [0u8; HEADER_LEN + 4];
//! header.emit(&mut frame).unwrap();
//! let (got, body) = EthernetHeader::parse(&frame).unwrap();
//! assert_eq!((got, body.len()), (header, 4));
//! ```
//!
//! [RFC 2464 §3]: https://www.rfc-editor.org/rfc/rfc2464#section-3

use super::{Error, MacAddr, Result};

/// Length of the header: destination, source, EtherType.
pub const HEADER_LEN: usize = 14;
/// EtherType of IPv4 ([RFC 894]).
///
/// [RFC 894]: https://www.rfc-editor.org/rfc/rfc894
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP ([RFC 826]).
///
/// [RFC 826]: https://www.rfc-editor.org/rfc/rfc826
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6 ([RFC 2464 §3]).
///
/// [RFC 2464 §3]: https://www.rfc-editor.org/rfc/rfc2464#section-3
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EthernetHeader {
    /// Destination MAC address.
    pub dst: MacAddr,
    /// Source MAC address.
    pub src: MacAddr,
    /// What the payload is ([`ETHERTYPE_IPV6`], ...).
    pub ethertype: u16,
}

impl EthernetHeader {
    /// The header of `frame` and the bytes after it (the payload, with any
    /// padding the sender added to reach the 60-byte minimum); a frame
    /// shorter than the header is [`super::Error::Truncated`].
    pub fn parse(frame: &[u8]) -> Result<(Self, &[u8])> {
        let (header, body) = frame
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(Error::Truncated)?;
        let [d0, d1, d2, d3, d4, d5, s0, s1, s2, s3, s4, s5, t0, t1] = *header;
        let header = EthernetHeader {
            dst: MacAddr([d0, d1, d2, d3, d4, d5]),
            src: MacAddr([s0, s1, s2, s3, s4, s5]),
            ethertype: u16::from_be_bytes([t0, t1]),
        };
        Ok((header, body))
    }

    /// Write the header at the start of `buf`; a buffer shorter than the
    /// header is [`super::Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let [t0, t1] = self.ethertype.to_be_bytes();
        let [d0, d1, d2, d3, d4, d5] = self.dst.0;
        let [s0, s1, s2, s3, s4, s5] = self.src.0;
        let header = buf
            .first_chunk_mut::<HEADER_LEN>()
            .ok_or(Error::BufferTooSmall)?;
        *header = [d0, d1, d2, d3, d4, d5, s0, s1, s2, s3, s4, s5, t0, t1];
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_frames_and_buffers_are_errors() {
        assert_eq!(EthernetHeader::parse(&[0; 13]), Err(Error::Truncated));
        let (h, body) = EthernetHeader::parse(&[0; 14]).unwrap();
        assert_eq!((h.ethertype, body.len()), (0, 0));
        let h = EthernetHeader {
            dst: MacAddr::BROADCAST,
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            ethertype: ETHERTYPE_ARP,
        };
        assert_eq!(h.emit(&mut [0; 13]), Err(Error::BufferTooSmall));
        let mut buf = [0; 14];
        h.emit(&mut buf).unwrap();
        assert_eq!(
            buf,
            [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06
            ]
        );
    }
}
