//! Router Solicitation ([RFC 4861 §4.1]).
//!
//! [RFC 4861 §4.1]: https://www.rfc-editor.org/rfc/rfc4861#section-4.1

use super::bytes;
use super::{Error, Options, Result};

mod field {
    pub const OPTIONS: usize = 8;
}

/// A Router Solicitation: a host asks routers to advertise now.
///
/// Its only option of interest is the Source Link-Layer Address, which
/// must be absent when the source is `::` ([RFC 4861 §4.1]) or an optimistic
/// address ([RFC 4429 §3.2]).
///
/// [RFC 4861 §4.1]: https://www.rfc-editor.org/rfc/rfc4861#section-4.1
/// [RFC 4429 §3.2]: https://www.rfc-editor.org/rfc/rfc4429#section-3.2
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouterSolicit<'a> {
    /// Options in order.
    pub options: Options<'a>,
}

impl<'a> RouterSolicit<'a> {
    /// Shortest valid message ([RFC 4861 §6.1.1]: 8 or more octets).
    ///
    /// [RFC 4861 §6.1.1]: https://www.rfc-editor.org/rfc/rfc4861#section-6.1.1
    pub const MIN_LEN: usize = field::OPTIONS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        Ok(RouterSolicit {
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

    /// Write everything after the ICMPv6 header.
    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::zero(msg, 4, 4)?;
        self.options
            .encode(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}
