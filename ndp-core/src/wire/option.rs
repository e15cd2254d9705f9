//! Neighbor Discovery options ([RFC 4861 §4.6] and the RFCs that add kinds).
//!
//! Problems solved here:
//! - a message carries any number of options, several of the same kind (an
//!   RA with eight prefixes): [`Options::iter`] yields every one, in order;
//! - option framing (type, length in units of 8 octets) is checked once,
//!   when a message is parsed: a zero length or an option running past the
//!   end makes the whole message invalid ([RFC 4861 §4.6]), while a known
//!   option with a malformed body is reported per option as an
//!   [`OptionError`] so the receiver can ignore just that option;
//! - unknown kinds are kept as [`NdOption::Unknown`] and skipped by
//!   receivers ([RFC 4861 §4.6]: "MUST silently ignore any options they do
//!   not recognize");
//! - an infinite lifetime (all ones) is [`Lifetime::Infinite`], never a big
//!   number;
//! - DNSSL domain names are decoded into a bounded [`DomainName`] with no
//!   allocation.
//!
//! Options to send are given as a slice of typed [`NdOption`]s
//! ([`Options::from_list`]); received options stay as the validated wire
//! bytes and are decoded lazily.
//!
//! [RFC 4861 §4.6]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6

use core::fmt;
use core::net::Ipv6Addr;

use super::addr::MacAddr;
use super::bytes;
use super::{Error, Result};

/// Option type values (IANA "IPv6 Neighbor Discovery Option Formats").
pub mod kind {
    /// Source Link-Layer Address ([RFC 4861 §4.6.1]).
    ///
    /// [RFC 4861 §4.6.1]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.1
    pub const SOURCE_LINK_ADDR: u8 = 1;
    /// Target Link-Layer Address ([RFC 4861 §4.6.1]).
    ///
    /// [RFC 4861 §4.6.1]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.1
    pub const TARGET_LINK_ADDR: u8 = 2;
    /// Prefix Information ([RFC 4861 §4.6.2]).
    ///
    /// [RFC 4861 §4.6.2]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.2
    pub const PREFIX_INFO: u8 = 3;
    /// Redirected Header ([RFC 4861 §4.6.3]).
    ///
    /// [RFC 4861 §4.6.3]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.3
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU ([RFC 4861 §4.6.4]).
    ///
    /// [RFC 4861 §4.6.4]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.4
    pub const MTU: u8 = 5;
    /// Nonce ([RFC 3971 §5.3.2], used for enhanced DAD by [RFC 7527]).
    ///
    /// [RFC 3971 §5.3.2]: https://www.rfc-editor.org/rfc/rfc3971#section-5.3.2
    /// [RFC 7527]: https://www.rfc-editor.org/rfc/rfc7527
    pub const NONCE: u8 = 14;
    /// Route Information ([RFC 4191 §2.3]).
    ///
    /// [RFC 4191 §2.3]: https://www.rfc-editor.org/rfc/rfc4191#section-2.3
    pub const ROUTE_INFO: u8 = 24;
    /// Recursive DNS Server ([RFC 8106 §5.1]).
    ///
    /// [RFC 8106 §5.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.1
    pub const RDNSS: u8 = 25;
    /// DNS Search List ([RFC 8106 §5.2]).
    ///
    /// [RFC 8106 §5.2]: https://www.rfc-editor.org/rfc/rfc8106#section-5.2
    pub const DNSSL: u8 = 31;
}

/// A lifetime in seconds where all ones means infinity ([RFC 4861 §4.6.2],
/// [RFC 4191 §2.3], [RFC 8106 §5.1]).
///
/// ```
/// use ndp_core::wire::Lifetime;
/// assert_eq!(Lifetime::from_wire(0xffff_ffff), Lifetime::Infinite);
/// assert_eq!(Lifetime::from_wire(600), Lifetime::Finite(600));
/// assert_eq!(Lifetime::Infinite.to_wire(), 0xffff_ffff);
/// ```
///
/// [RFC 4861 §4.6.2]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.2
/// [RFC 4191 §2.3]: https://www.rfc-editor.org/rfc/rfc4191#section-2.3
/// [RFC 8106 §5.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.1
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Lifetime {
    /// This many seconds. `Finite(u32::MAX)` cannot be sent (the value
    /// means infinity on the wire) and is emitted as `u32::MAX - 1`.
    Finite(u32),
    /// Never expires.
    Infinite,
}

impl Lifetime {
    /// Zero seconds: the thing described is to be removed (or, for a
    /// preferred lifetime, deprecated) at once.
    pub const ZERO: Lifetime = Lifetime::Finite(0);

    /// The wire value: all ones is infinity.
    pub const fn from_wire(v: u32) -> Self {
        if v == u32::MAX {
            Lifetime::Infinite
        } else {
            Lifetime::Finite(v)
        }
    }

    /// The value to send.
    pub const fn to_wire(self) -> u32 {
        match self {
            Lifetime::Infinite => u32::MAX,
            Lifetime::Finite(s) if s == u32::MAX => u32::MAX - 1,
            Lifetime::Finite(s) => s,
        }
    }

    /// Seconds, or `None` when infinite.
    pub const fn secs(self) -> Option<u32> {
        match self {
            Lifetime::Infinite => None,
            Lifetime::Finite(s) => Some(s),
        }
    }

    /// Infinite.
    pub const fn is_infinite(self) -> bool {
        matches!(self, Lifetime::Infinite)
    }
}

/// Router preference ([RFC 4191 §2.1]): two bits in the RA flags and in the
/// Route Information option.
///
/// [RFC 4191 §2.1]: https://www.rfc-editor.org/rfc/rfc4191#section-2.1
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Preference {
    /// `11`.
    Low,
    /// `00`, the default.
    Medium,
    /// `01`.
    High,
    /// `10`: an RA carrying it is treated as medium, a Route Information
    /// option carrying it is ignored (RFC 4191 §2.2, §3.1). Kept distinct
    /// so the receiver can apply those rules.
    Reserved,
}

impl Preference {
    /// From the two-bit field (only the low two bits of `bits` are used).
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b01 => Preference::High,
            0b00 => Preference::Medium,
            0b11 => Preference::Low,
            _ => Preference::Reserved,
        }
    }

    /// The two-bit field.
    pub const fn to_bits(self) -> u8 {
        match self {
            Preference::High => 0b01,
            Preference::Medium => 0b00,
            Preference::Low => 0b11,
            Preference::Reserved => 0b10,
        }
    }
}

/// Prefix Information option body ([RFC 4861 §4.6.2]).
///
/// Bits of `prefix` after `prefix_len` are cleared on parse, since the
/// receiver must ignore them.
///
/// [RFC 4861 §4.6.2]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6.2
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PrefixInfo {
    /// Number of leading bits of `prefix` that are valid, 0..=128.
    pub prefix_len: u8,
    /// L flag: the prefix can be used for on-link determination.
    pub on_link: bool,
    /// A flag: the prefix can be used for stateless address configuration
    /// (RFC 4862 §5.5.3).
    pub autonomous: bool,
    /// How long the prefix is valid for on-link determination.
    pub valid_lifetime: Lifetime,
    /// How long addresses generated from it stay preferred (RFC 4862).
    pub preferred_lifetime: Lifetime,
    /// The prefix.
    pub prefix: Ipv6Addr,
}

/// Route Information option body ([RFC 4191 §2.3]).
///
/// Received with Length 1, 2 or 3; always emitted with Length 3 (the full
/// 16-byte prefix), as radvd does.
///
/// [RFC 4191 §2.3]: https://www.rfc-editor.org/rfc/rfc4191#section-2.3
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouteInfo {
    /// Number of leading bits of `prefix` that are valid, 0..=128.
    pub prefix_len: u8,
    /// Preference of this route over others to the same prefix.
    pub preference: Preference,
    /// How long the route is valid.
    pub lifetime: Lifetime,
    /// The destination prefix (bits after `prefix_len` are zero).
    pub prefix: Ipv6Addr,
}

/// Recursive DNS Server option body ([RFC 8106 §5.1]).
///
/// [RFC 8106 §5.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.1
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rdnss<'a> {
    /// How long the servers may be used.
    pub lifetime: Lifetime,
    /// One or more server addresses.
    pub servers: AddrList<'a>,
}

/// DNS Search List option body ([RFC 8106 §5.2]).
///
/// [RFC 8106 §5.2]: https://www.rfc-editor.org/rfc/rfc8106#section-5.2
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dnssl<'a> {
    /// How long the domains may be used.
    pub lifetime: Lifetime,
    /// One or more search domains.
    pub domains: DomainList<'a>,
}

/// One Neighbor Discovery option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NdOption<'a> {
    /// Source Link-Layer Address (RFC 4861 §4.6.1), Ethernet only.
    SourceLinkAddr(MacAddr),
    /// Target Link-Layer Address (RFC 4861 §4.6.1), Ethernet only.
    TargetLinkAddr(MacAddr),
    /// Prefix Information (RFC 4861 §4.6.2).
    PrefixInfo(PrefixInfo),
    /// Redirected Header (RFC 4861 §4.6.3): as much of the redirected
    /// packet as fits. Parsed data includes the zero padding up to the
    /// option's 8-octet boundary; emitted data is padded the same way.
    RedirectedHeader(&'a [u8]),
    /// MTU (RFC 4861 §4.6.4).
    Mtu(u32),
    /// Nonce (RFC 3971 §5.3.2; RFC 7527 §4.1 uses 6 bytes): the bytes
    /// after type and length. Emitted data is zero-padded to the option's
    /// 8-octet boundary, so send 6 + 8·k bytes.
    Nonce(&'a [u8]),
    /// Route Information (RFC 4191 §2.3).
    RouteInfo(RouteInfo),
    /// Recursive DNS Server (RFC 8106 §5.1).
    Rdnss(Rdnss<'a>),
    /// DNS Search List (RFC 8106 §5.2).
    Dnssl(Dnssl<'a>),
    /// Any other kind: its type and the bytes after type and length
    /// (zero-padded to the 8-octet boundary when emitted). Receivers skip
    /// it (RFC 4861 §4.6).
    Unknown {
        /// Option type.
        kind: u8,
        /// Option body.
        data: &'a [u8],
    },
}

/// A known option whose body is malformed. The message's other options
/// are still usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OptionError {
    /// Type of the offending option.
    pub kind: u8,
    /// What is wrong with it.
    pub error: Error,
}

impl From<OptionError> for Error {
    fn from(e: OptionError) -> Error {
        e.error
    }
}

/// What is wrong is [`core::error::Error::source`].
impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed option of type {}", self.kind)
    }
}

impl core::error::Error for OptionError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Offsets within an option body, i.e. after the type and length octets.
mod field {
    pub mod prefix_info {
        pub const PREFIX_LEN: usize = 0;
        pub const FLAGS: usize = 1;
        pub const VALID: usize = 2;
        pub const PREFERRED: usize = 6;
        pub const PREFIX: usize = 14;
        pub const BODY_LEN: usize = 30;
        pub const FLAG_L: u8 = 0x80;
        pub const FLAG_A: u8 = 0x40;
    }
    pub mod route_info {
        pub const PREFIX_LEN: usize = 0;
        pub const FLAGS: usize = 1;
        pub const LIFETIME: usize = 2;
        pub const PREFIX: usize = 6;
        pub const PRF_SHIFT: u32 = 3;
    }
    pub mod mtu {
        pub const MTU: usize = 2;
        pub const BODY_LEN: usize = 6;
    }
    /// RDNSS and DNSSL share the first 6 bytes: reserved(2), lifetime(4).
    pub mod dns {
        pub const LIFETIME: usize = 2;
        pub const DATA: usize = 6;
    }
    pub mod redirected {
        pub const DATA: usize = 6;
    }
}

/// Octets of an Ethernet link-layer address option body (RFC 4861 §4.6.1
/// with an IEEE 802 address: Length 1).
const LINK_ADDR_BODY_LEN: usize = 6;

impl<'a> NdOption<'a> {
    /// The option's type value.
    pub const fn kind(&self) -> u8 {
        match self {
            NdOption::SourceLinkAddr(_) => kind::SOURCE_LINK_ADDR,
            NdOption::TargetLinkAddr(_) => kind::TARGET_LINK_ADDR,
            NdOption::PrefixInfo(_) => kind::PREFIX_INFO,
            NdOption::RedirectedHeader(_) => kind::REDIRECTED_HEADER,
            NdOption::Mtu(_) => kind::MTU,
            NdOption::Nonce(_) => kind::NONCE,
            NdOption::RouteInfo(_) => kind::ROUTE_INFO,
            NdOption::Rdnss(_) => kind::RDNSS,
            NdOption::Dnssl(_) => kind::DNSSL,
            NdOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Decode one option from its type and body (the `8 * length - 2`
    /// bytes after type and length).
    pub fn parse(kind: u8, body: &'a [u8]) -> Result<Self> {
        Ok(match kind {
            kind::SOURCE_LINK_ADDR => NdOption::SourceLinkAddr(parse_link_addr(body)?),
            kind::TARGET_LINK_ADDR => NdOption::TargetLinkAddr(parse_link_addr(body)?),
            kind::PREFIX_INFO => NdOption::PrefixInfo(parse_prefix_info(body)?),
            kind::REDIRECTED_HEADER => {
                NdOption::RedirectedHeader(bytes::rest(body, field::redirected::DATA)?)
            }
            kind::MTU => NdOption::Mtu(parse_mtu(body)?),
            // RFC 3971 §5.3.2: at least 6 bytes, which any non-zero length gives.
            kind::NONCE => NdOption::Nonce(body),
            kind::ROUTE_INFO => NdOption::RouteInfo(parse_route_info(body)?),
            kind::RDNSS => NdOption::Rdnss(parse_rdnss(body)?),
            kind::DNSSL => NdOption::Dnssl(parse_dnssl(body)?),
            kind => NdOption::Unknown { kind, data: body },
        })
    }

    /// Bytes this option takes on the wire, a multiple of 8.
    pub fn buffer_len(&self) -> usize {
        let len = match self {
            NdOption::SourceLinkAddr(_) | NdOption::TargetLinkAddr(_) | NdOption::Mtu(_) => 8,
            NdOption::PrefixInfo(_) => 32,
            NdOption::RouteInfo(_) => 24,
            NdOption::RedirectedHeader(d) => d.len().saturating_add(8),
            NdOption::Nonce(d) | NdOption::Unknown { data: d, .. } => d.len().saturating_add(2),
            NdOption::Rdnss(r) => r.servers.len().saturating_mul(16).saturating_add(8),
            NdOption::Dnssl(d) => d.domains.wire_len().saturating_add(8),
        };
        bytes::round_up8(len).unwrap_or(usize::MAX)
    }

    /// Write the option at the start of `buf`; returns the bytes written.
    /// With the `emit` feature.
    ///
    /// Fails with `BufferTooSmall`, or `OptionTooLong` when the option
    /// would need more than 255 units of 8 octets.
    #[cfg(any(test, feature = "emit"))]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        self.encode(buf)
    }

    /// [`NdOption::buffer_len`] as the engine's encoder sees it: without
    /// the `emit` feature only the kinds it encodes (see
    /// [`NdOption::encode`]) have one, and the others are
    /// [`Error::UnsupportedType`], so that a firmware does not link their
    /// length rules.
    pub(crate) fn encoded_len(&self) -> Result<usize> {
        #[cfg(any(test, feature = "emit"))]
        {
            Ok(self.buffer_len())
        }
        #[cfg(not(any(test, feature = "emit")))]
        match self {
            NdOption::SourceLinkAddr(_) | NdOption::TargetLinkAddr(_) => Ok(8),
            NdOption::Nonce(d) | NdOption::Unknown { data: d, .. } => {
                Ok(bytes::round_up8(d.len().saturating_add(2)).unwrap_or(usize::MAX))
            }
            _ => Err(Error::UnsupportedType),
        }
    }

    /// [`NdOption::emit`], the engine's own encoder: without the `emit`
    /// feature, only the options a host sends (link-layer addresses,
    /// Nonce, and unknown ones as raw bytes); the others fail with
    /// [`Error::UnsupportedType`].
    pub(crate) fn encode(&self, buf: &mut [u8]) -> Result<usize> {
        // Refuses the kinds it does not encode.
        let total = self.encoded_len()?;
        let units = u8::try_from(total / 8).map_err(|_| Error::OptionTooLong)?;
        let out = bytes::slice_mut(buf, 0, total)?;
        out.fill(0);
        bytes::put_u8(out, 0, self.kind())?;
        bytes::put_u8(out, 1, units)?;
        let body = bytes::slice_mut(out, 2, total.saturating_sub(2))?;
        match self {
            NdOption::SourceLinkAddr(mac) | NdOption::TargetLinkAddr(mac) => {
                bytes::put(body, 0, &mac.0)?;
            }
            #[cfg(any(test, feature = "emit"))]
            NdOption::PrefixInfo(p) => {
                use field::prefix_info as f;
                let mut flags = 0;
                if p.on_link {
                    flags |= f::FLAG_L;
                }
                if p.autonomous {
                    flags |= f::FLAG_A;
                }
                bytes::put_u8(body, f::PREFIX_LEN, p.prefix_len)?;
                bytes::put_u8(body, f::FLAGS, flags)?;
                bytes::put_u32(body, f::VALID, p.valid_lifetime.to_wire())?;
                bytes::put_u32(body, f::PREFERRED, p.preferred_lifetime.to_wire())?;
                bytes::put_addr(body, f::PREFIX, &p.prefix)?;
            }
            #[cfg(any(test, feature = "emit"))]
            NdOption::RedirectedHeader(d) => bytes::put(body, field::redirected::DATA, d)?,
            #[cfg(any(test, feature = "emit"))]
            NdOption::Mtu(mtu) => bytes::put_u32(body, field::mtu::MTU, *mtu)?,
            NdOption::Nonce(d) | NdOption::Unknown { data: d, .. } => bytes::put(body, 0, d)?,
            #[cfg(any(test, feature = "emit"))]
            NdOption::RouteInfo(r) => {
                use field::route_info as f;
                bytes::put_u8(body, f::PREFIX_LEN, r.prefix_len)?;
                bytes::put_u8(body, f::FLAGS, r.preference.to_bits() << f::PRF_SHIFT)?;
                bytes::put_u32(body, f::LIFETIME, r.lifetime.to_wire())?;
                bytes::put_addr(body, f::PREFIX, &r.prefix)?;
            }
            #[cfg(any(test, feature = "emit"))]
            NdOption::Rdnss(r) => {
                bytes::put_u32(body, field::dns::LIFETIME, r.lifetime.to_wire())?;
                let mut at = field::dns::DATA;
                for a in r.servers.iter() {
                    bytes::put_addr(body, at, &a)?;
                    at = at.saturating_add(16);
                }
            }
            #[cfg(any(test, feature = "emit"))]
            NdOption::Dnssl(d) => {
                bytes::put_u32(body, field::dns::LIFETIME, d.lifetime.to_wire())?;
                let mut at = field::dns::DATA;
                for name in d.domains.iter() {
                    at = at.saturating_add(name.emit_wire(body, at)?);
                }
            }
            // Refused above.
            #[cfg(not(any(test, feature = "emit")))]
            _ => {}
        }
        Ok(total)
    }
}

pub(crate) fn parse_mtu(body: &[u8]) -> Result<u32> {
    if body.len() != field::mtu::BODY_LEN {
        return Err(Error::BadOptionLength);
    }
    bytes::u32_at(body, field::mtu::MTU)
}

pub(crate) fn parse_link_addr(body: &[u8]) -> Result<MacAddr> {
    // RFC 4861 §4.6.1: for IEEE 802 addresses the option Length is 1.
    if body.len() != LINK_ADDR_BODY_LEN {
        return Err(Error::BadOptionLength);
    }
    Ok(MacAddr(bytes::array::<6>(body, 0)?))
}

pub(crate) fn parse_prefix_info(body: &[u8]) -> Result<PrefixInfo> {
    use field::prefix_info as f;
    // RFC 4861 §4.6.2: Length 4.
    if body.len() != f::BODY_LEN {
        return Err(Error::BadOptionLength);
    }
    let prefix_len = bytes::u8_at(body, f::PREFIX_LEN)?;
    if prefix_len > 128 {
        return Err(Error::BadPrefixLength);
    }
    let flags = bytes::u8_at(body, f::FLAGS)?;
    Ok(PrefixInfo {
        prefix_len,
        on_link: flags & f::FLAG_L != 0,
        autonomous: flags & f::FLAG_A != 0,
        valid_lifetime: Lifetime::from_wire(bytes::u32_at(body, f::VALID)?),
        preferred_lifetime: Lifetime::from_wire(bytes::u32_at(body, f::PREFERRED)?),
        prefix: bytes::mask_prefix(bytes::addr_at(body, f::PREFIX)?, prefix_len),
    })
}

pub(crate) fn parse_route_info(body: &[u8]) -> Result<RouteInfo> {
    use field::route_info as f;
    let prefix_len = bytes::u8_at(body, f::PREFIX_LEN)?;
    // RFC 4191 §2.3: Length 1, 2 or 3; a prefix longer than 64 bits needs
    // Length 3, a non-zero prefix at least Length 2.
    let prefix_bytes = body.len().saturating_sub(f::PREFIX);
    let fits = match prefix_bytes {
        0 => prefix_len == 0,
        8 => prefix_len <= 64,
        16 => prefix_len <= 128,
        _ => false,
    };
    if prefix_len > 128 {
        return Err(Error::BadPrefixLength);
    }
    if body.len() < f::PREFIX || !fits {
        return Err(Error::BadOptionLength);
    }
    let mut prefix = [0u8; 16];
    let given = bytes::rest(body, f::PREFIX)?;
    for (dst, src) in prefix.iter_mut().zip(given) {
        *dst = *src;
    }
    let flags = bytes::u8_at(body, f::FLAGS)?;
    Ok(RouteInfo {
        prefix_len,
        preference: Preference::from_bits(flags >> f::PRF_SHIFT),
        lifetime: Lifetime::from_wire(bytes::u32_at(body, f::LIFETIME)?),
        prefix: bytes::mask_prefix(Ipv6Addr::from(prefix), prefix_len),
    })
}

pub(crate) fn parse_rdnss(body: &[u8]) -> Result<Rdnss<'_>> {
    use field::dns as f;
    let addrs = bytes::rest(body, f::DATA)?;
    // RFC 8106 §5.1: Length 3 for one address, +2 per additional address.
    if addrs.is_empty() || addrs.len() % 16 != 0 {
        return Err(Error::BadOptionLength);
    }
    Ok(Rdnss {
        lifetime: Lifetime::from_wire(bytes::u32_at(body, f::LIFETIME)?),
        servers: AddrList(AddrInner::Wire(addrs)),
    })
}

pub(crate) fn parse_dnssl(body: &[u8]) -> Result<Dnssl<'_>> {
    use field::dns as f;
    // RFC 8106 §5.2: Length at least 2 (one 8-octet unit of names).
    if body.len() < f::DATA.saturating_add(8) {
        return Err(Error::BadOptionLength);
    }
    let names = bytes::rest(body, f::DATA)?;
    let count = validate_domain_names(names)?;
    if count == 0 {
        // RFC 8106 §5.2: "One or more domain names".
        return Err(Error::BadDomainName);
    }
    Ok(Dnssl {
        lifetime: Lifetime::from_wire(bytes::u32_at(body, f::LIFETIME)?),
        domains: DomainList(DomainInner::Wire(names)),
    })
}

/// Check a DNSSL name area: names in RFC 1035 §3.1 form without
/// compression, then zero padding to the end (RFC 8106 §5.2). Returns the
/// number of names.
fn validate_domain_names(mut area: &[u8]) -> Result<usize> {
    let mut count = 0usize;
    while let Some(&first) = area.first() {
        if first == 0 {
            // Padding: every remaining byte must be zero.
            return if area.iter().all(|&b| b == 0) {
                Ok(count)
            } else {
                Err(Error::BadDomainName)
            };
        }
        let (_, used) = DomainName::parse_wire(area)?;
        area = bytes::rest(area, used)?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// A list of IPv6 addresses: either received wire bytes or a slice to send.
#[derive(Clone, Copy)]
pub struct AddrList<'a>(AddrInner<'a>);

#[derive(Clone, Copy)]
enum AddrInner<'a> {
    /// A multiple of 16 bytes (checked by the parser).
    Wire(&'a [u8]),
    Slice(&'a [Ipv6Addr]),
}

impl<'a> AddrList<'a> {
    /// A list to send.
    pub const fn new(addrs: &'a [Ipv6Addr]) -> Self {
        AddrList(AddrInner::Slice(addrs))
    }

    /// Wire bytes, 16 per address; a trailing partial address is ignored.
    pub(crate) const fn from_wire(raw: &'a [u8]) -> Self {
        AddrList(AddrInner::Wire(raw))
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self.0 {
            AddrInner::Wire(b) => b.len() / 16,
            AddrInner::Slice(s) => s.len(),
        }
    }

    /// No addresses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses in order.
    pub fn iter(&self) -> AddrIter<'a> {
        match self.0 {
            AddrInner::Wire(b) => AddrIter::Wire(b.chunks_exact(16)),
            AddrInner::Slice(s) => AddrIter::Slice(s.iter()),
        }
    }
}

impl PartialEq for AddrList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for AddrList<'_> {}

impl fmt::Debug for AddrList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for AddrList<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for a in self.iter() {
            defmt::write!(f, "{} ", a);
        }
        defmt::write!(f, "]");
    }
}

/// Iterator over an [`AddrList`].
#[derive(Debug, Clone)]
pub enum AddrIter<'a> {
    #[doc(hidden)]
    Wire(core::slice::ChunksExact<'a, u8>),
    #[doc(hidden)]
    Slice(core::slice::Iter<'a, Ipv6Addr>),
}

impl Iterator for AddrIter<'_> {
    type Item = Ipv6Addr;
    fn next(&mut self) -> Option<Ipv6Addr> {
        match self {
            AddrIter::Wire(c) => c
                .next()
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(Ipv6Addr::from),
            AddrIter::Slice(s) => s.next().copied(),
        }
    }
}

/// A domain name in dotted text form, at most [`DomainName::MAX_LEN`]
/// characters, stored inline (no allocation).
///
/// Labels are 1–63 characters of letters, digits, `-` and `_`; anything
/// else in a received DNSSL makes that option invalid, so applications
/// never see control characters or dots inside labels.
///
/// ```
/// use ndp_core::wire::DomainName;
/// let d = DomainName::new("lab.example.org.").unwrap();
/// assert_eq!(d.as_str(), "lab.example.org");
/// assert!(DomainName::new("a..b").is_err());
/// ```
#[derive(Clone, Copy)]
pub struct DomainName {
    len: u8,
    text: [u8; DomainName::MAX_LEN],
}

impl DomainName {
    /// Longest name in text form ([RFC 1035 §2.3.4]: 255 octets on the wire).
    ///
    /// [RFC 1035 §2.3.4]: https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4
    pub const MAX_LEN: usize = 253;
    /// Longest label ([RFC 1035 §2.3.4]).
    ///
    /// [RFC 1035 §2.3.4]: https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4
    pub const MAX_LABEL_LEN: usize = 63;

    /// A name from dotted text; one trailing dot is accepted and dropped.
    pub fn new(s: &str) -> Result<Self> {
        let s = s.strip_suffix('.').unwrap_or(s);
        let mut name = DomainName {
            len: 0,
            text: [0; Self::MAX_LEN],
        };
        if s.is_empty() {
            return Err(Error::BadDomainName);
        }
        for label in s.split('.') {
            name.push_label(label.as_bytes())?;
        }
        Ok(name)
    }

    /// The name as dotted text, without a trailing dot.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    fn as_bytes(&self) -> &[u8] {
        self.text.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn push_label(&mut self, label: &[u8]) -> Result<()> {
        let ok = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
        if label.is_empty() || label.len() > Self::MAX_LABEL_LEN || !label.iter().all(ok) {
            return Err(Error::BadDomainName);
        }
        let mut at = usize::from(self.len);
        if at > 0 {
            bytes::put(&mut self.text, at, b".").map_err(|_| Error::BadDomainName)?;
            at = at.saturating_add(1);
        }
        bytes::put(&mut self.text, at, label).map_err(|_| Error::BadDomainName)?;
        self.len =
            u8::try_from(at.saturating_add(label.len())).map_err(|_| Error::BadDomainName)?;
        Ok(())
    }

    /// Bytes in [RFC 1035] wire form: a length octet per label, the labels,
    /// and the terminating zero.
    ///
    /// [RFC 1035]: https://www.rfc-editor.org/rfc/rfc1035
    pub fn wire_len(&self) -> usize {
        usize::from(self.len).saturating_add(2)
    }

    /// Decode one name in RFC 1035 §3.1 form (no compression) from the
    /// start of `buf`; returns it and the bytes it used.
    fn parse_wire(buf: &[u8]) -> Result<(Self, usize)> {
        let mut name = DomainName {
            len: 0,
            text: [0; Self::MAX_LEN],
        };
        let mut at = 0usize;
        loop {
            let n = usize::from(bytes::u8_at(buf, at).map_err(|_| Error::BadDomainName)?);
            at = at.saturating_add(1);
            if n == 0 {
                return if name.len == 0 {
                    Err(Error::BadDomainName)
                } else {
                    Ok((name, at))
                };
            }
            // Lengths of 64 and above are compression pointers or extended
            // label types, which RFC 8106 §5.2 does not allow here.
            if n > Self::MAX_LABEL_LEN {
                return Err(Error::BadDomainName);
            }
            let label = bytes::slice(buf, at, n).map_err(|_| Error::BadDomainName)?;
            name.push_label(label)?;
            at = at.saturating_add(n);
        }
    }

    /// Write the wire form at `buf[at..]`; returns the bytes written.
    #[cfg(any(test, feature = "emit"))]
    fn emit_wire(&self, buf: &mut [u8], at: usize) -> Result<usize> {
        let mut pos = at;
        for label in self.as_str().split('.') {
            let n = u8::try_from(label.len()).map_err(|_| Error::BadDomainName)?;
            bytes::put_u8(buf, pos, n)?;
            bytes::put(buf, pos.saturating_add(1), label.as_bytes())?;
            pos = pos.saturating_add(1).saturating_add(label.len());
        }
        bytes::put_u8(buf, pos, 0)?;
        Ok(pos.saturating_add(1).saturating_sub(at))
    }
}

impl PartialEq for DomainName {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DomainName {}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DomainName {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}

/// A list of domain names: either validated wire bytes or a slice to send.
#[derive(Clone, Copy)]
pub struct DomainList<'a>(DomainInner<'a>);

#[derive(Clone, Copy)]
enum DomainInner<'a> {
    /// Names followed by zero padding, validated by the parser.
    Wire(&'a [u8]),
    Slice(&'a [DomainName]),
}

impl<'a> DomainList<'a> {
    /// A list to send.
    pub const fn new(names: &'a [DomainName]) -> Self {
        DomainList(DomainInner::Slice(names))
    }

    /// The names in order.
    pub fn iter(&self) -> DomainIter<'a> {
        match self.0 {
            DomainInner::Wire(b) => DomainIter::Wire(b),
            DomainInner::Slice(s) => DomainIter::Slice(s.iter()),
        }
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// No names.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Bytes of the names in wire form, without padding.
    fn wire_len(&self) -> usize {
        self.iter()
            .fold(0usize, |n, d| n.saturating_add(d.wire_len()))
    }
}

impl PartialEq for DomainList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for DomainList<'_> {}

impl fmt::Debug for DomainList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DomainList<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for d in self.iter() {
            defmt::write!(f, "{} ", d);
        }
        defmt::write!(f, "]");
    }
}

/// Iterator over a [`DomainList`].
#[derive(Debug, Clone)]
pub enum DomainIter<'a> {
    #[doc(hidden)]
    Wire(&'a [u8]),
    #[doc(hidden)]
    Slice(core::slice::Iter<'a, DomainName>),
}

impl Iterator for DomainIter<'_> {
    type Item = DomainName;
    fn next(&mut self) -> Option<DomainName> {
        match self {
            DomainIter::Slice(s) => s.next().copied(),
            DomainIter::Wire(b) => {
                if b.first().is_none_or(|&c| c == 0) {
                    return None;
                }
                match DomainName::parse_wire(b) {
                    Ok((name, used)) => {
                        *b = b.get(used..).unwrap_or(&[]);
                        Some(name)
                    }
                    Err(_) => {
                        *b = &[];
                        None
                    }
                }
            }
        }
    }
}

/// The options of one message, yielded in order by [`Options::iter`].
///
/// Received options are the message's own bytes, framing already checked;
/// options to send are a slice of [`NdOption`]s. Two `Options` are equal
/// when they yield the same sequence.
///
/// ```
/// use ndp_core::wire::{MacAddr, NdOption, Options};
/// let mac = MacAddr([2, 0, 0x5e, 0, 0x53, 1]);
/// let list = [NdOption::SourceLinkAddr(mac)];
/// let opts = Options::from_list(&list);
/// let mut buf = [0u8; 8];
/// assert_eq!(opts.emit(&mut buf), Ok(8));
/// assert_eq!(buf, [1, 1, 2, 0, 0x5e, 0, 0x53, 1]);
/// let parsed = Options::parse(&buf).unwrap();
/// assert_eq!(parsed, opts);
/// assert_eq!(parsed.source_link_addr(), Some(mac));
/// ```
#[derive(Clone, Copy)]
pub struct Options<'a>(OptInner<'a>);

#[derive(Clone, Copy)]
enum OptInner<'a> {
    /// Framing validated by `Options::parse`.
    Wire(&'a [u8]),
    List(&'a [NdOption<'a>]),
}

impl<'a> Options<'a> {
    /// No options.
    pub const EMPTY: Options<'static> = Options(OptInner::List(&[]));

    /// Options to send.
    pub const fn from_list(list: &'a [NdOption<'a>]) -> Self {
        Options(OptInner::List(list))
    }

    /// Check the framing of received option bytes ([RFC 4861 §4.6]): every
    /// option has a non-zero length and ends within `buf`.
    ///
    /// [RFC 4861 §4.6]: https://www.rfc-editor.org/rfc/rfc4861#section-4.6
    pub fn parse(buf: &'a [u8]) -> Result<Self> {
        let mut rest = buf;
        while !rest.is_empty() {
            let (_, _, next) = split_option(rest)?;
            rest = next;
        }
        Ok(Options(OptInner::Wire(buf)))
    }

    /// Every option in order; known options with a malformed body come out
    /// as `Err` and iteration continues with the next one.
    pub fn iter(&self) -> OptionIter<'a> {
        match self.0 {
            OptInner::Wire(b) => OptionIter::Wire(b),
            OptInner::List(l) => OptionIter::List(l.iter()),
        }
    }

    /// The received bytes, for options that came off the wire.
    pub fn as_wire(&self) -> Option<&'a [u8]> {
        match self.0 {
            OptInner::Wire(b) => Some(b),
            OptInner::List(_) => None,
        }
    }

    /// Bytes the options take on the wire.
    pub fn buffer_len(&self) -> usize {
        match self.0 {
            OptInner::Wire(b) => b.len(),
            OptInner::List(l) => l
                .iter()
                .fold(0usize, |n, o| n.saturating_add(o.buffer_len())),
        }
    }

    /// Write the options at the start of `buf`; returns the bytes written.
    /// With the `emit` feature.
    #[cfg(any(test, feature = "emit"))]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        self.encode(buf)
    }

    /// [`Options::buffer_len`] as the engine's encoder sees it (see
    /// [`NdOption::encoded_len`]).
    pub(crate) fn encoded_len(&self) -> Result<usize> {
        match self.0 {
            OptInner::Wire(b) => Ok(b.len()),
            OptInner::List(l) => l
                .iter()
                .try_fold(0usize, |n, o| Ok(n.saturating_add(o.encoded_len()?))),
        }
    }

    /// [`Options::emit`], the engine's own encoder (see
    /// [`NdOption::encode`]).
    pub(crate) fn encode(&self, buf: &mut [u8]) -> Result<usize> {
        match self.0 {
            OptInner::Wire(b) => {
                bytes::put(buf, 0, b)?;
                Ok(b.len())
            }
            OptInner::List(l) => {
                let mut at = 0usize;
                for o in l {
                    let out = buf.get_mut(at..).ok_or(Error::BufferTooSmall)?;
                    at = at.saturating_add(o.encode(out)?);
                }
                Ok(at)
            }
        }
    }

    /// Whether any option (well-formed or not) has this type.
    pub fn contains_kind(&self, kind: u8) -> bool {
        match self.0 {
            OptInner::Wire(_) => self.raw().any(|(k, _)| k == kind),
            OptInner::List(l) => l.iter().any(|o| o.kind() == kind),
        }
    }

    /// Type and body of each received option, unparsed (nothing for
    /// options built to send): the engine's walk, which parses only the
    /// kinds it acts on, so a firmware links only their parsers.
    pub(crate) fn raw(&self) -> RawOptions<'a> {
        match self.0 {
            OptInner::Wire(b) => RawOptions(b),
            OptInner::List(_) => RawOptions(&[]),
        }
    }

    /// The first well-formed Source Link-Layer Address option.
    pub fn source_link_addr(&self) -> Option<MacAddr> {
        self.iter().find_map(|o| match o {
            Ok(NdOption::SourceLinkAddr(m)) => Some(m),
            _ => None,
        })
    }

    /// The first well-formed Target Link-Layer Address option.
    pub fn target_link_addr(&self) -> Option<MacAddr> {
        self.iter().find_map(|o| match o {
            Ok(NdOption::TargetLinkAddr(m)) => Some(m),
            _ => None,
        })
    }

    /// The first Nonce option ([RFC 7527]).
    ///
    /// [RFC 7527]: https://www.rfc-editor.org/rfc/rfc7527
    pub fn nonce(&self) -> Option<&'a [u8]> {
        self.iter().find_map(|o| match o {
            Ok(NdOption::Nonce(n)) => Some(n),
            _ => None,
        })
    }
}

/// Type of an option as yielded by [`OptionIter`], malformed or not.
pub fn option_kind(item: &core::result::Result<NdOption<'_>, OptionError>) -> u8 {
    match item {
        Ok(o) => o.kind(),
        Err(e) => e.kind,
    }
}

/// Split off the first option: (type, body, rest).
fn split_option(buf: &[u8]) -> Result<(u8, &[u8], &[u8])> {
    let kind = bytes::u8_at(buf, 0).map_err(|_| Error::OptionTruncated)?;
    let units = bytes::u8_at(buf, 1).map_err(|_| Error::OptionTruncated)?;
    // RFC 4861 §4.6: "Nodes MUST silently discard an ND packet that
    // contains an option with length zero."
    if units == 0 {
        return Err(Error::OptionLengthZero);
    }
    let total = usize::from(units).saturating_mul(8);
    let whole = bytes::slice(buf, 0, total).map_err(|_| Error::OptionTruncated)?;
    let body = whole.get(2..).unwrap_or(&[]);
    let rest = buf.get(total..).unwrap_or(&[]);
    Ok((kind, body, rest))
}

impl PartialEq for Options<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Options<'_> {}

impl fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Options<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for o in self.iter() {
            defmt::write!(f, "{} ", o);
        }
        defmt::write!(f, "]");
    }
}

/// See [`Options::raw`].
pub(crate) struct RawOptions<'a>(&'a [u8]);

impl<'a> Iterator for RawOptions<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        // The framing was checked by `Options::parse`; bytes that would
        // fail it end the walk.
        let (kind, body, rest) = split_option(self.0).ok()?;
        self.0 = rest;
        Some((kind, body))
    }
}

/// Iterator over [`Options`].
#[derive(Debug, Clone)]
pub enum OptionIter<'a> {
    #[doc(hidden)]
    Wire(&'a [u8]),
    #[doc(hidden)]
    List(core::slice::Iter<'a, NdOption<'a>>),
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = core::result::Result<NdOption<'a>, OptionError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            OptionIter::List(l) => l.next().copied().map(Ok),
            OptionIter::Wire(b) => {
                if b.is_empty() {
                    return None;
                }
                let first_kind = b.first().copied().unwrap_or(0);
                match split_option(b) {
                    Ok((kind, body, rest)) => {
                        *b = rest;
                        Some(
                            NdOption::parse(kind, body)
                                .map_err(|error| OptionError { kind, error }),
                        )
                    }
                    // Only reachable for bytes that skipped `Options::parse`.
                    Err(error) => {
                        *b = &[];
                        Some(Err(OptionError {
                            kind: first_kind,
                            error,
                        }))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_error_display_and_source() {
        use core::error::Error as _;
        use std::string::{String, ToString};
        let e = OptionError {
            kind: kind::PREFIX_INFO,
            error: Error::BadPrefixLength,
        };
        assert_eq!(e.to_string(), "malformed option of type 3");
        let source: Option<String> = e.source().map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("prefix length above 128"));
    }

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn one(bytes: &[u8]) -> core::result::Result<NdOption<'_>, OptionError> {
        let opts = Options::parse(bytes).unwrap();
        let mut it = opts.iter();
        let o = it.next().unwrap();
        assert!(it.next().is_none());
        o
    }

    #[test]
    fn zero_length_option_invalidates_the_message() {
        // RFC 4861 §4.6.
        assert_eq!(
            Options::parse(&[1, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::OptionLengthZero)
        );
        let mut two = [0u8; 16];
        two[..8].copy_from_slice(&[1, 1, 2, 0, 0x5e, 0, 0x53, 1]);
        two[8] = 99;
        assert_eq!(Options::parse(&two), Err(Error::OptionLengthZero));
    }

    #[test]
    fn option_running_past_the_end_is_rejected() {
        assert_eq!(
            Options::parse(&[3, 4, 0, 0, 0, 0, 0, 0]),
            Err(Error::OptionTruncated)
        );
        assert_eq!(Options::parse(&[1]), Err(Error::OptionTruncated));
        assert_eq!(Options::parse(&[]).map(|o| o.iter().count()), Ok(0));
    }

    #[test]
    fn link_addr_with_wrong_length_is_an_option_error() {
        let b = [1u8, 2, 2, 0, 0x5e, 0, 0x53, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            one(&b),
            Err(OptionError {
                kind: 1,
                error: Error::BadOptionLength
            })
        );
        // The message still frames, and the kind is visible for validation.
        assert!(
            Options::parse(&b)
                .unwrap()
                .contains_kind(kind::SOURCE_LINK_ADDR)
        );
        assert_eq!(Options::parse(&b).unwrap().source_link_addr(), None);
    }

    #[test]
    fn unknown_options_are_kept_and_skipped() {
        let b = [200u8, 1, 1, 2, 3, 4, 5, 6, 2, 1, 2, 0, 0x5e, 0, 0x53, 1];
        let opts = Options::parse(&b).unwrap();
        let items: std::vec::Vec<_> = opts.iter().collect();
        assert_eq!(
            items[0],
            Ok(NdOption::Unknown {
                kind: 200,
                data: &[1, 2, 3, 4, 5, 6]
            })
        );
        assert_eq!(
            opts.target_link_addr(),
            Some(MacAddr([2, 0, 0x5e, 0, 0x53, 1]))
        );
    }

    #[test]
    fn every_prefix_option_is_yielded() {
        // Eight PIOs: smoltcp would keep only the last.
        let mut list = std::vec::Vec::new();
        for i in 0..8u16 {
            list.push(NdOption::PrefixInfo(PrefixInfo {
                prefix_len: 64,
                on_link: true,
                autonomous: i % 2 == 0,
                valid_lifetime: Lifetime::Infinite,
                preferred_lifetime: Lifetime::Finite(u32::from(i)),
                prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
            }));
        }
        let opts = Options::from_list(&list);
        let mut buf = [0u8; 256];
        let n = opts.emit(&mut buf).unwrap();
        assert_eq!(n, 8 * 32);
        let parsed = Options::parse(&buf[..n]).unwrap();
        let got: std::vec::Vec<_> = parsed.iter().map(|o| o.unwrap()).collect();
        assert_eq!(got, list);
    }

    #[test]
    fn prefix_info_fields_and_infinite_lifetime() {
        let b = [
            3u8, 4, 64, 0xc0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0x20, 0x01,
            0x0d, 0xb8, 0, 1, 0, 0, 0xde, 0xad, 0, 0, 0, 0, 0, 0,
        ];
        let Ok(NdOption::PrefixInfo(p)) = one(&b) else {
            panic!("not a PIO")
        };
        assert_eq!(p.prefix_len, 64);
        assert!(p.on_link && p.autonomous);
        assert_eq!(p.valid_lifetime, Lifetime::Infinite);
        assert_eq!(p.preferred_lifetime, Lifetime::Finite(3600));
        // Bits after the prefix length are ignored (RFC 4861 §4.6.2).
        assert_eq!(p.prefix, a("2001:db8:1::"));
    }

    #[test]
    fn prefix_info_bad_lengths() {
        let mut b = [0u8; 32];
        b[0] = 3;
        b[1] = 4;
        b[2] = 129;
        assert_eq!(one(&b).unwrap_err().error, Error::BadPrefixLength);
        let mut b = [0u8; 24];
        b[0] = 3;
        b[1] = 3;
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
    }

    #[test]
    fn route_info_lengths_follow_rfc4191() {
        // Length 1, prefix length 0: default route.
        let b = [24u8, 1, 0, 0x08, 0, 0, 0x07, 0x08];
        let Ok(NdOption::RouteInfo(r)) = one(&b) else {
            panic!()
        };
        assert_eq!(r.prefix_len, 0);
        assert_eq!(r.preference, Preference::High);
        assert_eq!(r.lifetime, Lifetime::Finite(1800));
        // Length 1 cannot carry a non-zero prefix length.
        let b = [24u8, 1, 48, 0, 0, 0, 0, 0];
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        // Length 2 carries up to 64 bits.
        let b = [
            24u8, 2, 48, 0x18, 0, 0, 0, 1, 0x20, 1, 0x0d, 0xb8, 0, 0xff, 0xaa, 0xbb,
        ];
        let Ok(NdOption::RouteInfo(r)) = one(&b) else {
            panic!()
        };
        assert_eq!(r.prefix, a("2001:db8:ff::"));
        assert_eq!(r.preference, Preference::Low);
        let b = [24u8, 2, 65, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        // Length 4 is never valid.
        let mut b = [0u8; 32];
        b[0] = 24;
        b[1] = 4;
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        let mut b = [0u8; 24];
        b[0] = 24;
        b[1] = 3;
        b[2] = 129;
        assert_eq!(one(&b).unwrap_err().error, Error::BadPrefixLength);
    }

    #[test]
    fn reserved_preference_is_kept() {
        let b = [24u8, 1, 0, 0x10, 0, 0, 0, 1];
        let Ok(NdOption::RouteInfo(r)) = one(&b) else {
            panic!()
        };
        assert_eq!(r.preference, Preference::Reserved);
    }

    #[test]
    fn rdnss_lengths() {
        let mut b = [0u8; 40];
        b[0] = 25;
        b[1] = 5;
        b[4..8].copy_from_slice(&600u32.to_be_bytes());
        b[8..24].copy_from_slice(&a("2001:db8:1::53").octets());
        b[24..40].copy_from_slice(&a("2001:db8:1::54").octets());
        let Ok(NdOption::Rdnss(r)) = one(&b) else {
            panic!()
        };
        assert_eq!(r.lifetime, Lifetime::Finite(600));
        assert_eq!(r.servers.len(), 2);
        let got: std::vec::Vec<_> = r.servers.iter().collect();
        assert_eq!(got, [a("2001:db8:1::53"), a("2001:db8:1::54")]);
        // Length 2 holds no whole address; Length 4 holds one and a half.
        let mut b = [0u8; 16];
        b[0] = 25;
        b[1] = 2;
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        let mut b = [0u8; 32];
        b[0] = 25;
        b[1] = 4;
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        let b = [25u8, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
    }

    fn dnssl(names: &[u8]) -> std::vec::Vec<u8> {
        let mut v = std::vec![31u8, 0, 0, 0, 0, 0, 2, 0x58];
        v.extend_from_slice(names);
        while v.len() % 8 != 0 {
            v.push(0);
        }
        v[1] = (v.len() / 8) as u8;
        v
    }

    #[test]
    fn dnssl_names_decode() {
        let b = dnssl(b"\x07example\x03com\x00\x03lab\x07example\x03org\x00");
        let Ok(NdOption::Dnssl(d)) = one(&b) else {
            panic!()
        };
        assert_eq!(d.lifetime, Lifetime::Finite(600));
        let got: std::vec::Vec<_> = d.domains.iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_str(), "example.com");
        assert_eq!(got[1].as_str(), "lab.example.org");
    }

    #[test]
    fn dnssl_rejects_bad_names() {
        // Compression pointer.
        let b = dnssl(b"\x07example\xc0\x0c");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
        // Label running past the end of the option.
        let b = dnssl(b"\x3fabc");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
        // Non-zero bytes in the padding.
        let b = dnssl(b"\x03com\x00\x00\x01");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
        // A control character inside a label.
        let b = dnssl(b"\x03c\x01m\x00");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
        // No names at all.
        let b = dnssl(b"\x00");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
        // A name without its terminating zero.
        let b = dnssl(b"\x03com\x03org");
        assert_eq!(one(&b).unwrap_err().error, Error::BadDomainName);
    }

    #[test]
    fn domain_name_bounds() {
        let label63 = "a".repeat(63);
        assert!(DomainName::new(&label63).is_ok());
        assert_eq!(DomainName::new(&"a".repeat(64)), Err(Error::BadDomainName));
        // 4 labels of 63 = 255 characters with dots: too long.
        let long = [label63.as_str(); 4].join(".");
        assert_eq!(DomainName::new(&long), Err(Error::BadDomainName));
        let ok = [
            label63.as_str(),
            label63.as_str(),
            label63.as_str(),
            &"b".repeat(61),
        ]
        .join(".");
        assert_eq!(ok.len(), 253);
        let d = DomainName::new(&ok).unwrap();
        assert_eq!(d.wire_len(), 255);
        assert_eq!(DomainName::new(""), Err(Error::BadDomainName));
        assert_eq!(DomainName::new("."), Err(Error::BadDomainName));
    }

    #[test]
    fn mtu_and_nonce() {
        let b = [5u8, 1, 0, 0, 0, 0, 0x05, 0xc8];
        assert_eq!(one(&b), Ok(NdOption::Mtu(1480)));
        let b = [5u8, 2, 0, 0, 0, 0, 0x05, 0xc8, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(one(&b).unwrap_err().error, Error::BadOptionLength);
        let b = [14u8, 1, 0x70, 0x6e, 0xc5, 0x97, 0x60, 0x8f];
        assert_eq!(
            one(&b),
            Ok(NdOption::Nonce(&[0x70, 0x6e, 0xc5, 0x97, 0x60, 0x8f]))
        );
        assert_eq!(Options::parse(&b).unwrap().nonce(), Some(&b[2..]));
    }

    #[test]
    fn too_long_option_is_refused_on_emit() {
        let addrs = [Ipv6Addr::LOCALHOST; 128];
        let o = NdOption::Rdnss(Rdnss {
            lifetime: Lifetime::ZERO,
            servers: AddrList::new(&addrs),
        });
        let mut buf = [0u8; 4096];
        assert_eq!(o.emit(&mut buf), Err(Error::OptionTooLong));
        let o = NdOption::Rdnss(Rdnss {
            lifetime: Lifetime::ZERO,
            servers: AddrList::new(&addrs[..127]),
        });
        assert_eq!(o.emit(&mut buf), Ok(2040));
        assert_eq!(o.emit(&mut buf[..2039]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn lifetime_clamps_finite_max() {
        assert_eq!(Lifetime::Finite(u32::MAX).to_wire(), u32::MAX - 1);
        assert_eq!(
            Lifetime::from_wire(u32::MAX - 1),
            Lifetime::Finite(u32::MAX - 1)
        );
        assert_eq!(Lifetime::Infinite.secs(), None);
    }
}
