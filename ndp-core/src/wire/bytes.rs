//! Bounds-checked reads and writes on packet buffers.
//!
//! Every access to packet data in the codec goes through these helpers, so
//! a short or lying buffer becomes [`Error::Truncated`] (on read) or
//! [`Error::BufferTooSmall`] (on write) instead of a panic.

use core::net::Ipv6Addr;

use super::{Error, Result};

/// `buf[at..at + len]`, or `Truncated`.
pub(crate) fn slice(buf: &[u8], at: usize, len: usize) -> Result<&[u8]> {
    let end = at.checked_add(len).ok_or(Error::Truncated)?;
    buf.get(at..end).ok_or(Error::Truncated)
}

/// `buf[at..]`, or `Truncated`.
pub(crate) fn rest(buf: &[u8], at: usize) -> Result<&[u8]> {
    buf.get(at..).ok_or(Error::Truncated)
}

pub(crate) fn array<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N]> {
    let s = slice(buf, at, N)?;
    <[u8; N]>::try_from(s).map_err(|_| Error::Truncated)
}

pub(crate) fn u8_at(buf: &[u8], at: usize) -> Result<u8> {
    buf.get(at).copied().ok_or(Error::Truncated)
}

pub(crate) fn u16_at(buf: &[u8], at: usize) -> Result<u16> {
    array::<2>(buf, at).map(u16::from_be_bytes)
}

pub(crate) fn u32_at(buf: &[u8], at: usize) -> Result<u32> {
    array::<4>(buf, at).map(u32::from_be_bytes)
}

pub(crate) fn addr_at(buf: &[u8], at: usize) -> Result<Ipv6Addr> {
    array::<16>(buf, at).map(Ipv6Addr::from)
}

/// `buf[at..at + len]` for writing, or `BufferTooSmall`.
pub(crate) fn slice_mut(buf: &mut [u8], at: usize, len: usize) -> Result<&mut [u8]> {
    let end = at.checked_add(len).ok_or(Error::BufferTooSmall)?;
    buf.get_mut(at..end).ok_or(Error::BufferTooSmall)
}

pub(crate) fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> Result<()> {
    slice_mut(buf, at, bytes.len())?.copy_from_slice(bytes);
    Ok(())
}

pub(crate) fn put_u8(buf: &mut [u8], at: usize, v: u8) -> Result<()> {
    put(buf, at, &[v])
}

pub(crate) fn put_u16(buf: &mut [u8], at: usize, v: u16) -> Result<()> {
    put(buf, at, &v.to_be_bytes())
}

// Only router-sent messages and options have 32-bit fields to write.
#[cfg(any(test, feature = "emit"))]
pub(crate) fn put_u32(buf: &mut [u8], at: usize, v: u32) -> Result<()> {
    put(buf, at, &v.to_be_bytes())
}

pub(crate) fn put_addr(buf: &mut [u8], at: usize, a: &Ipv6Addr) -> Result<()> {
    put(buf, at, &a.octets())
}

/// Zero `buf[at..at + len]`.
pub(crate) fn zero(buf: &mut [u8], at: usize, len: usize) -> Result<()> {
    slice_mut(buf, at, len)?.fill(0);
    Ok(())
}

/// `n` rounded up to a multiple of 8, or `None` on overflow.
pub(crate) fn round_up8(n: usize) -> Option<usize> {
    n.checked_add(7).map(|m| m & !7)
}

/// Zero every bit of `addr` after the first `len` bits (RFC 4861 §4.6.2:
/// bits after the prefix length are ignored by the receiver).
pub(crate) fn mask_prefix(addr: Ipv6Addr, len: u8) -> Ipv6Addr {
    // In two 64-bit halves: u128 shifts are long sequences on a 32-bit
    // MCU, and a mask per half is two instructions on any target.
    let mask = |bits: u8| -> u64 {
        match bits {
            0 => 0,
            b if b >= 64 => u64::MAX,
            b => u64::MAX << 64u32.saturating_sub(u32::from(b)),
        }
    };
    let bits = u128::from(addr);
    let hi = ((bits >> 64) as u64) & mask(len);
    let lo = (bits as u64) & mask(len.saturating_sub(64));
    Ipv6Addr::from((u128::from(hi) << 64) | u128::from(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_end_are_truncated() {
        let b = [1u8, 2, 3];
        assert_eq!(u16_at(&b, 1), Ok(0x0203));
        assert_eq!(u16_at(&b, 2), Err(Error::Truncated));
        assert_eq!(slice(&b, usize::MAX, 2), Err(Error::Truncated));
        assert_eq!(addr_at(&b, 0), Err(Error::Truncated));
    }

    #[test]
    fn writes_past_end_fail() {
        let mut b = [0u8; 3];
        assert_eq!(put_u32(&mut b, 0, 1), Err(Error::BufferTooSmall));
        assert_eq!(put_u16(&mut b, 1, 0xabcd), Ok(()));
        assert_eq!(b, [0, 0xab, 0xcd]);
    }

    #[test]
    fn prefix_masking() {
        let a: Ipv6Addr = "2001:db8:ffff:ffff:ffff::1".parse().unwrap();
        assert_eq!(
            mask_prefix(a, 48),
            "2001:db8:ffff::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(mask_prefix(a, 0), Ipv6Addr::UNSPECIFIED);
        assert_eq!(mask_prefix(a, 128), a);
        assert_eq!(mask_prefix(a, 200), a);
    }

    #[test]
    fn prefix_masking_keeps_exactly_the_first_len_bits_for_every_length() {
        // Against the definition, bit by bit, for lengths off byte
        // boundaries too.
        for a in [
            Ipv6Addr::from(u128::MAX),
            "2001:db8:ffff:ffff:ffff::1".parse().unwrap(),
        ] {
            let bits = u128::from(a);
            for len in 0..=255u8 {
                let want = (0..128u32)
                    .filter(|i| *i < u32::from(len) && bits & (1u128 << (127 - i)) != 0)
                    .fold(0u128, |acc, i| acc | 1u128 << (127 - i));
                assert_eq!(u128::from(mask_prefix(a, len)), want, "{a}/{len}");
            }
        }
    }
}
