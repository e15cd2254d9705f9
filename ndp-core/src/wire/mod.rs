//! The NDP and MLD wire codec.
//!
//! Problems solved here:
//! - turn untrusted bytes into typed messages without panicking, reading
//!   out of bounds or allocating: every malformed input is an [`Error`];
//! - keep every option of a message, in order, including unknown ones
//!   ([`Options`]);
//! - check the ICMPv6 checksum over the IPv6 pseudo-header on receive and
//!   fill it on send ([`icmpv6`]);
//! - apply the receive validation rules of [RFC 4861] (§6.1.1, §6.1.2,
//!   §7.1.1, §7.1.2, §8.1) and [RFC 3810], each failure with its own
//!   [`Invalid`] reason ([`validate`]);
//! - compute solicited-node groups and their Ethernet addresses
//!   ([`UnicastAddr::solicited_node`], [`MulticastAddr::mac`]).
//!
//! Each message is a plain struct (the *repr*): parse it from bytes with
//! [`Message::parse`], build one by hand and write it with
//! [`Message::emit`].
//!
//! ```
//! use core::net::Ipv6Addr;
//! use ndp_core::wire::{IpMeta, MacAddr, Message, NdOption, NeighborSolicit, Options};
//!
//! let src: Ipv6Addr = "fe80::1".parse().unwrap();
//! let target: Ipv6Addr = "fe80::2".parse().unwrap();
//! let dst: Ipv6Addr = "ff02::1:ff00:2".parse().unwrap();
//! let opts = [NdOption::SourceLinkAddr(MacAddr([2, 0, 0, 0, 0, 1]))];
//! let ns = Message::NeighborSolicit(NeighborSolicit { target, options: Options::from_list(&opts) });
//!
//! let mut buf = [0u8; 64];
//! let n = ns.emit(&src, &dst, &mut buf).unwrap();
//! assert_eq!(n, 32);
//!
//! // On receive: checksum, parse and RFC 4861 §7.1.1 checks in one call.
//! let meta = IpMeta { src, dst, hop_limit: 255 };
//! let got = ndp_core::wire::parse_received(&meta, &buf[..n]).unwrap();
//! assert_eq!(got, ns);
//! ```
//!
//! [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
//! [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810

mod addr;
mod bytes;
pub mod ethernet;
pub mod icmpv6;
pub mod ipv6;
mod mld;
mod na;
mod ns;
mod option;
mod ra;
mod redirect;
mod rs;
mod unreachable;
pub mod validate;

use core::net::Ipv6Addr;

pub use addr::{
    MacAddr, MulticastAddr, UnicastAddr, in_prefix, is_link_local, is_solicited_node, prefix_of,
};
pub use icmpv6::MessageType;
pub use mld::{
    MldQuery, MldQueryV2, MldRecord, MldV1, MldV2Report, RecordIter, RecordList, RecordType,
};
pub use na::{AdvertFlags, NeighborAdvert, emit_advert};
pub use ns::NeighborSolicit;
pub use option::{
    AddrIter, AddrList, Dnssl, DomainIter, DomainList, DomainName, Lifetime, NdOption, OptionError,
    OptionIter, Options, Preference, PrefixInfo, Rdnss, RouteInfo, kind, option_kind,
};
// The engine's option parsers, one per kind it acts on (see
// `Options::raw`).
#[cfg(feature = "route-info")]
pub(crate) use option::parse_route_info;
#[cfg(feature = "dns")]
pub(crate) use option::{parse_dnssl, parse_rdnss};
pub(crate) use option::{parse_link_addr, parse_mtu, parse_prefix_info};
pub use ra::RouterAdvert;
pub use redirect::Redirect;
pub use rs::RouterSolicit;
pub use unreachable::{DestUnreachable, UnreachableCode};
pub use validate::{Invalid, IpMeta, RxError, parse_received};

/// Defines a fieldless enum of reasons with a stable `snake_case` name and
/// an index for each variant, so counters can be kept in an array and
/// printed by name, and a short human message (its `Display`) for each;
/// the enum is also a `core::error::Error`.
macro_rules! reasons {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ($message:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order ([`Self::index`] order).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable `snake_case` name, for logs and counters.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// Every [`Self::name`] in [`Self::ALL`] order, each followed
            /// by one space (the counters' names, compactly).
            #[cfg(feature = "counter-names")]
            pub(crate) const NAMES: &'static str = concat!($( $text, " ", )+);

            /// Position in [`Self::ALL`].
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        /// A short lower-case message; [`Self::name`] is the stable key.
        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(match self {
                    $( $name::$variant => $message, )+
                })
            }
        }

        impl core::error::Error for $name {}
    };
}
pub(crate) use reasons;

reasons! {
    /// Why bytes are not a well-formed message (or could not be written).
    #[non_exhaustive]
    pub enum Error {
        /// Shorter than the message's fixed part, or than what its own
        /// fields announce (sources, records).
        Truncated => "truncated" ("message truncated"),
        /// The ICMPv6 checksum does not match (RFC 4443 §2.3).
        BadChecksum => "bad_checksum" ("bad ICMPv6 checksum"),
        /// A length that matches no form of the message (an MLD query of
        /// 25–27 octets, RFC 3810 §8.1), or an IPv6 header whose version
        /// is not 6.
        BadLength => "bad_length" ("bad message length or IP version"),
        /// An ICMPv6 type this codec does not handle (echo, other errors).
        /// Inside the engine, built without the `emit` feature: a message
        /// or option only routers send, which it never encodes.
        UnsupportedType => "unsupported_type" ("unsupported ICMPv6 type"),
        /// An option with length zero (RFC 4861 §4.6): the whole message
        /// is invalid.
        OptionLengthZero => "option_length_zero" ("option with length zero"),
        /// An option running past the end of the message.
        OptionTruncated => "option_truncated" ("option runs past the end of the message"),
        /// A known option whose length does not fit its kind.
        BadOptionLength => "bad_option_length" ("bad option length for its type"),
        /// A prefix length above 128.
        BadPrefixLength => "bad_prefix_length" ("prefix length above 128"),
        /// A DNSSL domain name that is malformed, compressed, too long, or
        /// uses characters outside letters, digits, `-` and `_`.
        BadDomainName => "bad_domain_name" ("bad domain name"),
        /// On emit: an option needing more than 255 units of 8 octets.
        OptionTooLong => "option_too_long" ("option too long to encode"),
        /// On emit: more records, sources or aux data than the count
        /// fields can express.
        TooManyRecords => "too_many_records" ("too many records, sources or aux data to encode"),
        /// On emit: the output buffer is shorter than `buffer_len()`.
        BufferTooSmall => "buffer_too_small" ("output buffer too small"),
    }
}

/// Result of codec operations.
pub type Result<T> = core::result::Result<T, Error>;

/// Any message this codec handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Message<'a> {
    /// Router Solicitation (RFC 4861 §4.1).
    RouterSolicit(RouterSolicit<'a>),
    /// Router Advertisement (RFC 4861 §4.2).
    RouterAdvert(RouterAdvert<'a>),
    /// Neighbor Solicitation (RFC 4861 §4.3).
    NeighborSolicit(NeighborSolicit<'a>),
    /// Neighbor Advertisement (RFC 4861 §4.4).
    NeighborAdvert(NeighborAdvert<'a>),
    /// Redirect (RFC 4861 §4.5).
    Redirect(Redirect<'a>),
    /// Multicast Listener Query, MLDv1 or MLDv2 (RFC 3810 §5.1).
    MldQuery(MldQuery<'a>),
    /// MLDv1 Multicast Listener Report (RFC 2710 §3).
    MldV1Report(MldV1),
    /// MLDv1 Multicast Listener Done (RFC 2710 §3).
    MldV1Done(MldV1),
    /// Version 2 Multicast Listener Report (RFC 3810 §5.2).
    MldV2Report(MldV2Report<'a>),
    /// Destination Unreachable (RFC 4443 §3.1).
    DestUnreachable(DestUnreachable<'a>),
}

impl<'a> Message<'a> {
    /// Parse an ICMPv6 message without looking at its checksum (for
    /// callers whose NIC verified it, and for tests). Most callers want
    /// [`Message::parse_checked`] or [`parse_received`].
    pub fn parse(packet: &icmpv6::Packet<'a>) -> Result<Self> {
        let msg = packet.as_bytes();
        let Some(ty) = MessageType::from_u8(packet.msg_type()) else {
            return Err(Error::UnsupportedType);
        };
        Ok(match ty {
            MessageType::RouterSolicit => Message::RouterSolicit(RouterSolicit::parse(msg)?),
            MessageType::RouterAdvert => Message::RouterAdvert(RouterAdvert::parse(msg)?),
            MessageType::NeighborSolicit => Message::NeighborSolicit(NeighborSolicit::parse(msg)?),
            MessageType::NeighborAdvert => Message::NeighborAdvert(NeighborAdvert::parse(msg)?),
            MessageType::Redirect => Message::Redirect(Redirect::parse(msg)?),
            MessageType::MldQuery => Message::MldQuery(MldQuery::parse(msg)?),
            MessageType::MldV1Report => Message::MldV1Report(MldV1::parse(msg)?),
            MessageType::MldV1Done => Message::MldV1Done(MldV1::parse(msg)?),
            MessageType::MldV2Report => Message::MldV2Report(MldV2Report::parse(msg)?),
            MessageType::DestUnreachable => {
                Message::DestUnreachable(DestUnreachable::parse(msg, packet.code())?)
            }
        })
    }

    /// Verify the checksum of `icmp` for this source and destination, then
    /// parse it.
    pub fn parse_checked(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &'a [u8]) -> Result<Self> {
        let packet = icmpv6::Packet::new_checked(icmp)?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        Self::parse(&packet)
    }

    /// The ICMPv6 type.
    pub fn msg_type(&self) -> MessageType {
        match self {
            Message::RouterSolicit(_) => MessageType::RouterSolicit,
            Message::RouterAdvert(_) => MessageType::RouterAdvert,
            Message::NeighborSolicit(_) => MessageType::NeighborSolicit,
            Message::NeighborAdvert(_) => MessageType::NeighborAdvert,
            Message::Redirect(_) => MessageType::Redirect,
            Message::MldQuery(_) => MessageType::MldQuery,
            Message::MldV1Report(_) => MessageType::MldV1Report,
            Message::MldV1Done(_) => MessageType::MldV1Done,
            Message::MldV2Report(_) => MessageType::MldV2Report,
            Message::DestUnreachable(_) => MessageType::DestUnreachable,
        }
    }

    /// The ICMPv6 code this message is sent with: 0 except for errors.
    pub fn code(&self) -> u8 {
        match self {
            Message::DestUnreachable(d) => d.code.to_u8(),
            _ => 0,
        }
    }

    /// The options, for the messages that carry them.
    pub fn options(&self) -> Option<&Options<'a>> {
        match self {
            Message::RouterSolicit(m) => Some(&m.options),
            Message::RouterAdvert(m) => Some(&m.options),
            Message::NeighborSolicit(m) => Some(&m.options),
            Message::NeighborAdvert(m) => Some(&m.options),
            Message::Redirect(m) => Some(&m.options),
            _ => None,
        }
    }

    /// Bytes of the whole ICMPv6 message, header included.
    pub fn buffer_len(&self) -> usize {
        match self {
            Message::RouterSolicit(m) => m.buffer_len(),
            Message::RouterAdvert(m) => m.buffer_len(),
            Message::NeighborSolicit(m) => m.buffer_len(),
            Message::NeighborAdvert(m) => m.buffer_len(),
            Message::Redirect(m) => m.buffer_len(),
            Message::MldQuery(m) => m.buffer_len(),
            Message::MldV1Report(_) | Message::MldV1Done(_) => MldV1::LEN,
            Message::MldV2Report(m) => m.buffer_len(),
            Message::DestUnreachable(m) => m.buffer_len(),
        }
    }

    /// Write the message (header, body, options) at the start of `buf`
    /// with its checksum for this source and destination; returns the
    /// bytes written, [`Message::buffer_len`]. With the `emit` feature.
    #[cfg(any(test, feature = "emit"))]
    pub fn emit(&self, src: &Ipv6Addr, dst: &Ipv6Addr, buf: &mut [u8]) -> Result<usize> {
        self.encode(src, dst, buf)
    }

    /// [`Message::buffer_len`] as the engine's encoder sees it: without
    /// the `emit` feature the messages only routers send, and options the
    /// engine does not encode, are [`Error::UnsupportedType`].
    pub(crate) fn encoded_len(&self) -> Result<usize> {
        match self {
            Message::RouterSolicit(m) => m.encoded_len(),
            Message::NeighborSolicit(m) => m.encoded_len(),
            Message::NeighborAdvert(m) => m.encoded_len(),
            Message::MldV1Report(_) | Message::MldV1Done(_) => Ok(MldV1::LEN),
            Message::MldV2Report(m) => Ok(m.buffer_len()),
            Message::DestUnreachable(m) => Ok(m.buffer_len()),
            #[cfg(any(test, feature = "emit"))]
            Message::RouterAdvert(_) | Message::Redirect(_) | Message::MldQuery(_) => {
                Ok(self.buffer_len())
            }
            #[cfg(not(any(test, feature = "emit")))]
            Message::RouterAdvert(_) | Message::Redirect(_) | Message::MldQuery(_) => {
                Err(Error::UnsupportedType)
            }
        }
    }

    /// [`Message::emit`], the engine's own encoder. Without the `emit`
    /// feature it encodes only what a host sends: the messages only
    /// routers send (Router Advertisement, Redirect, MLD Query) and their
    /// options fail with [`Error::UnsupportedType`], so that a firmware
    /// does not carry their encoders.
    pub(crate) fn encode(&self, src: &Ipv6Addr, dst: &Ipv6Addr, buf: &mut [u8]) -> Result<usize> {
        // Refuses what it does not encode.
        let len = self.encoded_len()?;
        let msg = bytes::slice_mut(buf, 0, len)?;
        icmpv6::emit_header(msg, self.msg_type() as u8, self.code())?;
        match self {
            Message::RouterSolicit(m) => m.emit_body(msg)?,
            Message::NeighborSolicit(m) => m.emit_body(msg)?,
            Message::NeighborAdvert(m) => m.emit_body(msg)?,
            Message::MldV1Report(m) | Message::MldV1Done(m) => m.emit_body(msg)?,
            Message::MldV2Report(m) => m.emit_body(msg)?,
            Message::DestUnreachable(m) => m.emit_body(msg)?,
            #[cfg(any(test, feature = "emit"))]
            Message::RouterAdvert(m) => m.emit_body(msg)?,
            #[cfg(any(test, feature = "emit"))]
            Message::Redirect(m) => m.emit_body(msg)?,
            #[cfg(any(test, feature = "emit"))]
            Message::MldQuery(m) => m.emit_body(msg)?,
            // Refused by encoded_len.
            #[cfg(not(any(test, feature = "emit")))]
            Message::RouterAdvert(_) | Message::Redirect(_) | Message::MldQuery(_) => {
                return Err(Error::UnsupportedType);
            }
        }
        icmpv6::fill_checksum(msg, src, dst)?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's encoder (without the `emit` feature in a firmware
    /// build) writes what a host sends: a Router Solicitation with its
    /// link-layer address comes back whole.
    #[test]
    fn the_engine_encodes_what_a_host_sends() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "ff02::2".parse().unwrap();
        let slla = [NdOption::SourceLinkAddr(MacAddr([2, 0, 0, 0, 0, 1]))];
        let rs = Message::RouterSolicit(RouterSolicit {
            options: Options::from_list(&slla),
        });
        let mut buf = [0u8; 64];
        let len = rs.encode(&src, &dst, &mut buf).unwrap();
        assert_eq!(len, 16);
        assert_eq!(Message::parse_checked(&src, &dst, &buf[..len]), Ok(rs));
    }
}
