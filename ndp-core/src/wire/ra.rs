//! Router Advertisement ([RFC 4861 §4.2], flags from [RFC 4191 §2.2]).
//!
//! [RFC 4861 §4.2]: https://www.rfc-editor.org/rfc/rfc4861#section-4.2
//! [RFC 4191 §2.2]: https://www.rfc-editor.org/rfc/rfc4191#section-2.2

use super::bytes;
use super::{Error, Options, Preference, Result};

mod field {
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: usize = 6;
    pub const REACHABLE_TIME: usize = 8;
    pub const RETRANS_TIMER: usize = 12;
    pub const OPTIONS: usize = 16;

    pub const FLAG_M: u8 = 0x80;
    pub const FLAG_O: u8 = 0x40;
    pub const PRF_SHIFT: u32 = 3;
}

/// A Router Advertisement.
///
/// Flag bits other than M, O and the preference (H, P, reserved) are not
/// kept; they are sent as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouterAdvert<'a> {
    /// Hop limit for outgoing packets; 0 means unspecified by this router.
    pub cur_hop_limit: u8,
    /// M flag: addresses are available via DHCPv6.
    pub managed: bool,
    /// O flag: other configuration is available via DHCPv6.
    pub other_config: bool,
    /// Default router preference (RFC 4191 §2.2).
    pub preference: Preference,
    /// Seconds this router may be used as default router; 0 means it is
    /// not a default router (RFC 4861 §4.2).
    pub router_lifetime: u16,
    /// BaseReachableTime in milliseconds; 0 means unspecified.
    pub reachable_time: u32,
    /// RetransTimer in milliseconds; 0 means unspecified.
    pub retrans_timer: u32,
    /// Options in order (prefixes, MTU, routes, DNS, link-layer address).
    pub options: Options<'a>,
}

impl<'a> RouterAdvert<'a> {
    /// Shortest valid message ([RFC 4861 §6.1.2]: 16 or more octets).
    ///
    /// [RFC 4861 §6.1.2]: https://www.rfc-editor.org/rfc/rfc4861#section-6.1.2
    pub const MIN_LEN: usize = field::OPTIONS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        let flags = bytes::u8_at(msg, field::FLAGS)?;
        Ok(RouterAdvert {
            cur_hop_limit: bytes::u8_at(msg, field::CUR_HOP_LIMIT)?,
            managed: flags & field::FLAG_M != 0,
            other_config: flags & field::FLAG_O != 0,
            preference: Preference::from_bits(flags >> field::PRF_SHIFT),
            router_lifetime: bytes::u16_at(msg, field::ROUTER_LIFETIME)?,
            reachable_time: bytes::u32_at(msg, field::REACHABLE_TIME)?,
            retrans_timer: bytes::u32_at(msg, field::RETRANS_TIMER)?,
            options: Options::parse(bytes::rest(msg, field::OPTIONS)?)?,
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        field::OPTIONS.saturating_add(self.options.buffer_len())
    }

    #[cfg(any(test, feature = "emit"))]
    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        let mut flags = self.preference.to_bits() << field::PRF_SHIFT;
        if self.managed {
            flags |= field::FLAG_M;
        }
        if self.other_config {
            flags |= field::FLAG_O;
        }
        bytes::put_u8(msg, field::CUR_HOP_LIMIT, self.cur_hop_limit)?;
        bytes::put_u8(msg, field::FLAGS, flags)?;
        bytes::put_u16(msg, field::ROUTER_LIFETIME, self.router_lifetime)?;
        bytes::put_u32(msg, field::REACHABLE_TIME, self.reachable_time)?;
        bytes::put_u32(msg, field::RETRANS_TIMER, self.retrans_timer)?;
        self.options
            .encode(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}
