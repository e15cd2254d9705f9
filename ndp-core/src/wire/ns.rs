//! Neighbor Solicitation ([RFC 4861 §4.3]).
//!
//! [RFC 4861 §4.3]: https://www.rfc-editor.org/rfc/rfc4861#section-4.3

use core::net::Ipv6Addr;

use super::bytes;
use super::{Error, Options, Result};

mod field {
    pub const RESERVED: usize = 4;
    pub const TARGET: usize = 8;
    pub const OPTIONS: usize = 24;
}

/// A Neighbor Solicitation: address resolution, reachability probe, or,
/// from `::`, a Duplicate Address Detection probe ([RFC 4862 §5.4.2]).
///
/// [RFC 4862 §5.4.2]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4.2
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NeighborSolicit<'a> {
    /// The address being resolved or probed; never multicast in a valid
    /// message (RFC 4861 §7.1.1).
    pub target: Ipv6Addr,
    /// Options in order (Source Link-Layer Address, Nonce).
    pub options: Options<'a>,
}

impl<'a> NeighborSolicit<'a> {
    /// Shortest valid message ([RFC 4861 §7.1.1]: 24 or more octets).
    ///
    /// [RFC 4861 §7.1.1]: https://www.rfc-editor.org/rfc/rfc4861#section-7.1.1
    pub const MIN_LEN: usize = field::OPTIONS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        Ok(NeighborSolicit {
            target: bytes::addr_at(msg, field::TARGET)?,
            options: Options::parse(bytes::rest(msg, field::OPTIONS)?)?,
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        field::OPTIONS.saturating_add(self.options.buffer_len())
    }

    /// [`Self::buffer_len`] for the engine's encoder.
    pub(crate) fn encoded_len(&self) -> Result<usize> {
        Ok(field::OPTIONS.saturating_add(self.options.encoded_len()?))
    }

    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::zero(msg, field::RESERVED, 4)?;
        bytes::put_addr(msg, field::TARGET, &self.target)?;
        self.options
            .encode(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}
