//! Destination Unreachable ([RFC 4443 §3.1]), which a host sends to its own
//! upper layer when address resolution for queued packets fails
//! ([RFC 4861 §7.2.2]: code 3, address unreachable).
//!
//! [RFC 4443 §3.1]: https://www.rfc-editor.org/rfc/rfc4443#section-3.1
//! [RFC 4861 §7.2.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.2

use super::bytes;
use super::{Error, Result};

mod field {
    pub const UNUSED: usize = 4;
    pub const INVOKING: usize = 8;
}

/// Destination Unreachable codes ([RFC 4443 §3.1], [RFC 4443] errata codes 5–6).
///
/// [RFC 4443 §3.1]: https://www.rfc-editor.org/rfc/rfc4443#section-3.1
/// [RFC 4443]: https://www.rfc-editor.org/rfc/rfc4443
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UnreachableCode {
    /// 0: no route to destination.
    NoRoute,
    /// 1: communication administratively prohibited.
    AdminProhibited,
    /// 2: beyond scope of source address.
    BeyondScope,
    /// 3: address unreachable (failed address resolution).
    AddressUnreachable,
    /// 4: port unreachable.
    PortUnreachable,
    /// 5: source address failed ingress/egress policy.
    SourcePolicy,
    /// 6: reject route to destination.
    RejectRoute,
    /// Any other code.
    Other(u8),
}

impl UnreachableCode {
    /// From the wire value.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::NoRoute,
            1 => Self::AdminProhibited,
            2 => Self::BeyondScope,
            3 => Self::AddressUnreachable,
            4 => Self::PortUnreachable,
            5 => Self::SourcePolicy,
            6 => Self::RejectRoute,
            v => Self::Other(v),
        }
    }

    /// The wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::NoRoute => 0,
            Self::AdminProhibited => 1,
            Self::BeyondScope => 2,
            Self::AddressUnreachable => 3,
            Self::PortUnreachable => 4,
            Self::SourcePolicy => 5,
            Self::RejectRoute => 6,
            Self::Other(v) => v,
        }
    }
}

/// A Destination Unreachable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DestUnreachable<'a> {
    /// Why the packet could not be delivered.
    pub code: UnreachableCode,
    /// As much of the invoking packet (from its IPv6 header on) as fits.
    pub invoking: &'a [u8],
}

impl<'a> DestUnreachable<'a> {
    /// Most invoking-packet bytes an error may carry: the whole error must
    /// fit the minimum IPv6 MTU ([RFC 4443 §3.1]), 1280 − 40 − 8.
    ///
    /// [RFC 4443 §3.1]: https://www.rfc-editor.org/rfc/rfc4443#section-3.1
    pub const MAX_INVOKING_LEN: usize = 1232;

    /// An error quoting `invoking`, cut to [`Self::MAX_INVOKING_LEN`].
    ///
    /// ```
    /// use ndp_core::wire::{DestUnreachable, UnreachableCode};
    /// let big = [0u8; 1500];
    /// let e = DestUnreachable::new(UnreachableCode::AddressUnreachable, &big);
    /// assert_eq!(e.invoking.len(), 1232);
    /// ```
    pub fn new(code: UnreachableCode, invoking: &'a [u8]) -> Self {
        let n = invoking.len().min(Self::MAX_INVOKING_LEN);
        DestUnreachable {
            code,
            invoking: invoking.get(..n).unwrap_or(&[]),
        }
    }

    pub(crate) fn parse(msg: &'a [u8], code: u8) -> Result<Self> {
        if msg.len() < field::INVOKING {
            return Err(Error::Truncated);
        }
        Ok(DestUnreachable {
            code: UnreachableCode::from_u8(code),
            invoking: bytes::rest(msg, field::INVOKING)?,
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        field::INVOKING.saturating_add(self.invoking.len())
    }

    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::zero(msg, field::UNUSED, 4)?;
        bytes::put(msg, field::INVOKING, self.invoking)
    }
}
