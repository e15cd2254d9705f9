//! Neighbor Advertisement (RFC 4861 §4.4).

use core::net::Ipv6Addr;

use super::bytes;
use super::{Error, Options, Result};

mod field {
    pub const FLAGS: usize = 4;
    pub const TARGET: usize = 8;
    pub const OPTIONS: usize = 24;

    pub const FLAG_R: u8 = 0x80;
    pub const FLAG_S: u8 = 0x40;
    pub const FLAG_O: u8 = 0x20;
}

/// A Neighbor Advertisement, solicited or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NeighborAdvert<'a> {
    /// R flag: the sender is a router.
    pub router_flag: bool,
    /// S flag: sent in response to a Neighbor Solicitation; zero when sent
    /// to a multicast destination (RFC 4861 §7.1.2).
    pub solicited_flag: bool,
    /// O flag: override an existing cache entry's link-layer address.
    pub override_flag: bool,
    /// The address whose link-layer address is advertised.
    pub target: Ipv6Addr,
    /// Options in order (Target Link-Layer Address).
    pub options: Options<'a>,
}

impl<'a> NeighborAdvert<'a> {
    /// Shortest valid message (RFC 4861 §7.1.2: 24 or more octets).
    pub const MIN_LEN: usize = field::OPTIONS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        let flags = bytes::u8_at(msg, field::FLAGS)?;
        Ok(NeighborAdvert {
            router_flag: flags & field::FLAG_R != 0,
            solicited_flag: flags & field::FLAG_S != 0,
            override_flag: flags & field::FLAG_O != 0,
            target: bytes::addr_at(msg, field::TARGET)?,
            options: Options::parse(bytes::rest(msg, field::OPTIONS)?)?,
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        field::OPTIONS.saturating_add(self.options.buffer_len())
    }

    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        let mut flags = 0;
        if self.router_flag {
            flags |= field::FLAG_R;
        }
        if self.solicited_flag {
            flags |= field::FLAG_S;
        }
        if self.override_flag {
            flags |= field::FLAG_O;
        }
        bytes::zero(msg, field::FLAGS, 4)?;
        bytes::put_u8(msg, field::FLAGS, flags)?;
        bytes::put_addr(msg, field::TARGET, &self.target)?;
        self.options
            .emit(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}
