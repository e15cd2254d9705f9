//! Redirect ([RFC 4861 §4.5]).
//!
//! [RFC 4861 §4.5]: https://www.rfc-editor.org/rfc/rfc4861#section-4.5

use core::net::Ipv6Addr;

use super::bytes;
use super::{Error, Options, Result};

mod field {
    #[cfg(any(test, feature = "emit"))]
    pub const RESERVED: usize = 4;
    pub const TARGET: usize = 8;
    pub const DESTINATION: usize = 24;
    pub const OPTIONS: usize = 40;
}

/// A Redirect: the first-hop router tells a host of a better first hop
/// for a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Redirect<'a> {
    /// The better first hop: a router's link-local address, or
    /// `destination` itself when the destination is on-link.
    pub target: Ipv6Addr,
    /// The destination being redirected.
    pub destination: Ipv6Addr,
    /// Options in order (Target Link-Layer Address, Redirected Header).
    pub options: Options<'a>,
}

impl<'a> Redirect<'a> {
    /// Shortest valid message ([RFC 4861 §8.1]: 40 or more octets).
    ///
    /// [RFC 4861 §8.1]: https://www.rfc-editor.org/rfc/rfc4861#section-8.1
    pub const MIN_LEN: usize = field::OPTIONS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        Ok(Redirect {
            target: bytes::addr_at(msg, field::TARGET)?,
            destination: bytes::addr_at(msg, field::DESTINATION)?,
            options: Options::parse(bytes::rest(msg, field::OPTIONS)?)?,
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        field::OPTIONS.saturating_add(self.options.buffer_len())
    }

    #[cfg(any(test, feature = "emit"))]
    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::zero(msg, field::RESERVED, 4)?;
        bytes::put_addr(msg, field::TARGET, &self.target)?;
        bytes::put_addr(msg, field::DESTINATION, &self.destination)?;
        self.options
            .encode(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}
