//! Neighbor Advertisement ([RFC 4861 §4.4]).
//!
//! [RFC 4861 §4.4]: https://www.rfc-editor.org/rfc/rfc4861#section-4.4

use core::net::Ipv6Addr;

use super::bytes;
use super::{Error, MacAddr, Options, Result};

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
    /// Shortest valid message ([RFC 4861 §7.1.2]: 24 or more octets).
    ///
    /// [RFC 4861 §7.1.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.1.2
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

    /// [`Self::buffer_len`] for the engine's encoder.
    pub(crate) fn encoded_len(&self) -> Result<usize> {
        Ok(field::OPTIONS.saturating_add(self.options.encoded_len()?))
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
            .encode(msg.get_mut(field::OPTIONS..).ok_or(Error::BufferTooSmall)?)?;
        Ok(())
    }
}

/// The three flags of a Neighbor Advertisement ([RFC 4861 §4.4]), for
/// [`emit_advert`].
///
/// [RFC 4861 §4.4]: https://www.rfc-editor.org/rfc/rfc4861#section-4.4
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdvertFlags {
    /// R: the sender is a router.
    pub router: bool,
    /// S: an answer to a solicitation from the destination.
    pub solicited: bool,
    /// O: replace a cached link-layer address.
    pub override_flag: bool,
}

/// Write a whole Neighbor Advertisement as a host sends it (R clear;
/// ICMPv6 header, body, an optional Target Link-Layer Address option,
/// checksum for `src` and `dst`) at the start of `buf` in one pass;
/// returns its length. The engine answers every Neighbor Solicitation
/// with one, so this skips the generic encoder's option machinery, and it
/// needs no `emit` feature. The bytes are those of `Message::emit` for
/// the same advertisement (tested below).
///
/// ```
/// use core::net::Ipv6Addr;
/// use ndp_core::wire::{self, MacAddr, Message};
///
/// let target: Ipv6Addr = "fe80::1".parse().unwrap();
/// let asker: Ipv6Addr = "fe80::2".parse().unwrap();
/// let mac = MacAddr([2, 0, 0, 0, 0, 1]);
/// let mut buf = [0u8; 64];
/// let flags = wire::AdvertFlags { router: false, solicited: true, override_flag: true };
/// let len = wire::emit_advert(&mut buf, &target, &asker, flags, &target, Some(mac)).unwrap();
/// let Ok(Message::NeighborAdvert(na)) = Message::parse_checked(&target, &asker, &buf[..len]) else {
///     panic!("not an NA");
/// };
/// assert!(na.solicited_flag && na.override_flag && !na.router_flag);
/// assert_eq!(na.options.target_link_addr(), Some(mac));
/// ```
pub fn emit_advert(
    buf: &mut [u8],
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    flags: AdvertFlags,
    target: &Ipv6Addr,
    tlla: Option<MacAddr>,
) -> Result<usize> {
    let flags = if flags.router { field::FLAG_R } else { 0 }
        | if flags.solicited { field::FLAG_S } else { 0 }
        | if flags.override_flag {
            field::FLAG_O
        } else {
            0
        };
    let [
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        t6,
        t7,
        t8,
        t9,
        t10,
        t11,
        t12,
        t13,
        t14,
        t15,
    ] = target.octets();
    let (opt, [m0, m1, m2, m3, m4, m5]) = match tlla {
        // RFC 4861 §4.6.1: type 2, length 1 (in units of 8 octets).
        Some(mac) => ([2, 1], mac.0),
        None => ([0, 0], [0; 6]),
    };
    #[rustfmt::skip]
    let msg: [u8; field::OPTIONS + 8] = [
        super::MessageType::NeighborAdvert as u8, 0, 0, 0,
        flags, 0, 0, 0,
        t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15,
        opt[0], opt[1], m0, m1, m2, m3, m4, m5,
    ];
    let len = if tlla.is_some() {
        msg.len()
    } else {
        field::OPTIONS
    };
    let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    out.copy_from_slice(msg.get(..len).ok_or(Error::BufferTooSmall)?);
    super::icmpv6::fill_checksum(out, src, dst)?;
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Message, NdOption};

    #[test]
    fn the_one_pass_advert_is_the_generic_emitters_bytes() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let target: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mac = MacAddr([2, 0, 0x5e, 0, 0x53, 1]);
        for (router, solicited, override_flag, tlla) in [
            (false, false, false, None),
            (false, true, false, Some(mac)),
            (false, false, true, Some(mac)),
            (false, true, true, None),
            (true, true, false, Some(mac)),
            (true, false, true, None),
        ] {
            let opts = [NdOption::TargetLinkAddr(mac)];
            let generic = Message::NeighborAdvert(NeighborAdvert {
                router_flag: router,
                solicited_flag: solicited,
                override_flag,
                target,
                options: if tlla.is_some() {
                    Options::from_list(&opts)
                } else {
                    Options::EMPTY
                },
            });
            let mut want = [0xaa; 64];
            let n = generic.emit(&src, &dst, &mut want).unwrap();
            let mut got = [0x55; 64];
            let flags = AdvertFlags {
                router,
                solicited,
                override_flag,
            };
            let m = emit_advert(&mut got, &src, &dst, flags, &target, tlla).unwrap();
            assert_eq!(got[..m], want[..n], "{flags:?} {tlla:?}");
        }
        let mut small = [0u8; 31];
        assert_eq!(
            emit_advert(
                &mut small,
                &src,
                &dst,
                AdvertFlags::default(),
                &target,
                Some(mac)
            ),
            Err(Error::BufferTooSmall)
        );
    }
}
