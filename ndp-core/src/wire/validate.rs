//! Receive validation for a host ([RFC 4861 §6.1.1], §6.1.2, §7.1.1,
//! §7.1.2, §8.1; [RFC 3810 §5]).
//!
//! These are the checks that need the IPv6 header around the message:
//! hop limit (a Neighbor Discovery message with hop limit 255 cannot have
//! been forwarded, so it came from this link), source and destination
//! address kinds, and the code. Each failure has its own [`Invalid`]
//! reason so a receiver can count drops per reason.
//!
//! Rules that need state (is the Redirect from our current first hop for
//! that destination?) belong to the engine, not here.
//!
//! [RFC 4861 §6.1.1]: https://www.rfc-editor.org/rfc/rfc4861#section-6.1.1
//! [RFC 3810 §5]: https://www.rfc-editor.org/rfc/rfc3810#section-5

use core::net::Ipv6Addr;

use super::{Error, Message, MessageType, icmpv6, is_link_local, is_solicited_node, kind};

/// The IPv6 header fields validation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IpMeta {
    /// IPv6 source address.
    pub src: Ipv6Addr,
    /// IPv6 destination address.
    pub dst: Ipv6Addr,
    /// IPv6 hop limit as received.
    pub hop_limit: u8,
}

/// Hop limit every Neighbor Discovery message is sent with and must arrive
/// with ([RFC 4861 §6.1.1], §6.1.2, §7.1.1, §7.1.2, §8.1).
///
/// [RFC 4861 §6.1.1]: https://www.rfc-editor.org/rfc/rfc4861#section-6.1.1
pub const ND_HOP_LIMIT: u8 = 255;

/// Hop limit of every MLD message ([RFC 3810 §5], [RFC 2710 §3]).
///
/// [RFC 3810 §5]: https://www.rfc-editor.org/rfc/rfc3810#section-5
/// [RFC 2710 §3]: https://www.rfc-editor.org/rfc/rfc2710#section-3
pub const MLD_HOP_LIMIT: u8 = 1;

super::reasons! {
    /// A well-formed message that breaks a receive rule.
    #[non_exhaustive]
    pub enum Invalid {
        /// The source is a multicast address, which no packet may carry
        /// (RFC 4291 §2.7).
        SourceMulticast => "source_multicast" ("multicast source address"),
        /// A Neighbor Discovery message with hop limit other than 255: it
        /// may come from off-link (RFC 4861 §6.1.1, §6.1.2, §7.1.1,
        /// §7.1.2, §8.1).
        HopLimit => "hop_limit" ("neighbor discovery hop limit not 255"),
        /// A Neighbor Discovery message with a code other than 0 (same
        /// sections).
        Code => "code" ("neighbor discovery code not 0"),
        /// A Router Advertisement or Redirect whose source is not
        /// link-local (RFC 4861 §6.1.2, §8.1), or an MLD query whose
        /// source is not link-local (RFC 3810 §5.1.14).
        SourceNotLinkLocal => "source_not_link_local" ("source address not link-local"),
        /// A Neighbor Solicitation or Advertisement for a multicast target
        /// (RFC 4861 §7.1.1, §7.1.2).
        TargetMulticast => "target_multicast" ("multicast target address"),
        /// A Router or Neighbor Solicitation from `::` with a Source
        /// Link-Layer Address option (RFC 4861 §6.1.1, §7.1.1).
        UnspecifiedSourceWithLinkAddr => "unspecified_source_with_link_addr"
            ("unspecified source with a source link-layer address option"),
        /// A Neighbor Solicitation from `::` (a DAD probe) not sent to a
        /// solicited-node multicast address (RFC 4861 §7.1.1).
        DadNotToSolicitedNode => "dad_not_to_solicited_node"
            ("DAD probe not sent to a solicited-node address"),
        /// A Neighbor Advertisement with the Solicited flag sent to a
        /// multicast address (RFC 4861 §7.1.2).
        SolicitedToMulticast => "solicited_to_multicast"
            ("solicited advertisement sent to a multicast address"),
        /// A Redirect for a multicast destination (RFC 4861 §8.1).
        RedirectDestinationMulticast => "redirect_destination_multicast"
            ("redirect for a multicast destination"),
        /// A Redirect whose target is neither link-local nor the
        /// destination itself (RFC 4861 §8.1).
        RedirectTargetNotLinkLocal => "redirect_target_not_link_local"
            ("redirect target neither link-local nor the destination"),
        /// An MLD message with hop limit other than 1 (RFC 3810 §5).
        MldHopLimit => "mld_hop_limit" ("MLD hop limit not 1"),
        /// An MLD report whose source is neither link-local nor `::`
        /// (RFC 3810 §5.2.13).
        MldReportSource => "mld_report_source"
            ("MLD report source neither link-local nor unspecified"),
    }
}

/// Why a received ICMPv6 message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RxError {
    /// The bytes are not a well-formed message (or are not one of ours:
    /// [`Error::UnsupportedType`]).
    Malformed(Error),
    /// The message is well-formed but breaks a receive rule.
    Invalid(Invalid),
}

/// The reason itself is [`core::error::Error::source`].
impl core::fmt::Display for RxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RxError::Malformed(_) => "malformed message",
            RxError::Invalid(_) => "message breaks a receive rule",
        })
    }
}

impl core::error::Error for RxError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RxError::Malformed(e) => Some(e),
            RxError::Invalid(e) => Some(e),
        }
    }
}

impl From<Error> for RxError {
    fn from(e: Error) -> Self {
        RxError::Malformed(e)
    }
}

impl From<Invalid> for RxError {
    fn from(e: Invalid) -> Self {
        RxError::Invalid(e)
    }
}

/// Checksum, parse and validate a received ICMPv6 message in one call.
///
/// ```
/// use ndp_core::wire::{IpMeta, Invalid, RxError, parse_received};
/// // A Router Solicitation that arrived with hop limit 254.
/// let src = "fe80::1".parse().unwrap();
/// let dst = "ff02::2".parse().unwrap();
/// let mut rs = [133u8, 0, 0, 0, 0, 0, 0, 0];
/// ndp_core::wire::icmpv6::fill_checksum(&mut rs, &src, &dst).unwrap();
/// let meta = IpMeta { src, dst, hop_limit: 254 };
/// assert_eq!(parse_received(&meta, &rs), Err(RxError::Invalid(Invalid::HopLimit)));
/// ```
pub fn parse_received<'a>(meta: &IpMeta, icmp: &'a [u8]) -> Result<Message<'a>, RxError> {
    let packet = icmpv6::Packet::new_checked(icmp)?;
    if !packet.verify_checksum(&meta.src, &meta.dst) {
        return Err(Error::BadChecksum.into());
    }
    let msg = Message::parse(&packet)?;
    validate(meta, packet.code(), &msg)?;
    Ok(msg)
}

/// Apply the receive rules for `msg`, which arrived with `meta` and ICMPv6
/// code `code`. Destination Unreachable has no rules here.
pub fn validate(meta: &IpMeta, code: u8, msg: &Message<'_>) -> Result<(), Invalid> {
    let ty = msg.msg_type();
    // RFC 4291 §2.7: multicast addresses are never a source.
    if meta.src.is_multicast() {
        return Err(Invalid::SourceMulticast);
    }
    if ty.is_ndp() {
        // RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1: hop limit 255.
        if meta.hop_limit != ND_HOP_LIMIT {
            return Err(Invalid::HopLimit);
        }
        // Same sections: ICMP Code is 0.
        if code != 0 {
            return Err(Invalid::Code);
        }
    }
    if ty.is_mld() && ty != MessageType::MldQuery && meta.hop_limit != MLD_HOP_LIMIT {
        return Err(Invalid::MldHopLimit);
    }
    match msg {
        Message::RouterSolicit(rs) => {
            // RFC 4861 §6.1.1: no source link-layer option from ::.
            if meta.src.is_unspecified() && rs.options.contains_kind(kind::SOURCE_LINK_ADDR) {
                return Err(Invalid::UnspecifiedSourceWithLinkAddr);
            }
        }
        Message::RouterAdvert(_) => {
            // RFC 4861 §6.1.2: the source is link-local.
            if !is_link_local(&meta.src) {
                return Err(Invalid::SourceNotLinkLocal);
            }
        }
        Message::NeighborSolicit(ns) => {
            // RFC 4861 §7.1.1: the target is not multicast.
            if ns.target.is_multicast() {
                return Err(Invalid::TargetMulticast);
            }
            if meta.src.is_unspecified() {
                // RFC 4861 §7.1.1: a DAD probe goes to a solicited-node
                // group and carries no source link-layer option.
                if !is_solicited_node(&meta.dst) {
                    return Err(Invalid::DadNotToSolicitedNode);
                }
                if ns.options.contains_kind(kind::SOURCE_LINK_ADDR) {
                    return Err(Invalid::UnspecifiedSourceWithLinkAddr);
                }
            }
        }
        Message::NeighborAdvert(na) => {
            // RFC 4861 §7.1.2: the target is not multicast.
            if na.target.is_multicast() {
                return Err(Invalid::TargetMulticast);
            }
            // RFC 4861 §7.1.2: to a multicast destination, S is zero.
            if meta.dst.is_multicast() && na.solicited_flag {
                return Err(Invalid::SolicitedToMulticast);
            }
        }
        Message::Redirect(r) => {
            // RFC 4861 §8.1: from a link-local source, for a unicast
            // destination, to a link-local target or the destination.
            if !is_link_local(&meta.src) {
                return Err(Invalid::SourceNotLinkLocal);
            }
            if r.destination.is_multicast() {
                return Err(Invalid::RedirectDestinationMulticast);
            }
            if !is_link_local(&r.target) && r.target != r.destination {
                return Err(Invalid::RedirectTargetNotLinkLocal);
            }
        }
        Message::MldQuery(_) => {
            // RFC 3810 §5.1.14: queries come from a link-local source.
            if !is_link_local(&meta.src) {
                return Err(Invalid::SourceNotLinkLocal);
            }
            // RFC 3810 §5: sent with hop limit 1.
            if meta.hop_limit != MLD_HOP_LIMIT {
                return Err(Invalid::MldHopLimit);
            }
        }
        Message::MldV2Report(_) | Message::MldV1Report(_) | Message::MldV1Done(_) => {
            // RFC 3810 §5.2.13: link-local, or :: before one exists.
            if !is_link_local(&meta.src) && !meta.src.is_unspecified() {
                return Err(Invalid::MldReportSource);
            }
        }
        Message::DestUnreachable(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod error_tests {
    use core::error::Error as _;
    use std::string::{String, ToString};

    use super::{Error, Invalid, RxError};

    #[test]
    fn reason_display() {
        assert_eq!(Error::BadChecksum.to_string(), "bad ICMPv6 checksum");
        assert_eq!(
            Invalid::HopLimit.to_string(),
            "neighbor discovery hop limit not 255"
        );
        // Every reason has its own message, not its counter name, with no
        // trailing period.
        let messages = Error::ALL.iter().map(|e| (e.to_string(), e.name()));
        let messages = messages.chain(Invalid::ALL.iter().map(|e| (e.to_string(), e.name())));
        let mut seen = std::vec::Vec::new();
        for (message, name) in messages {
            assert!(
                !message.is_empty() && !message.ends_with('.'),
                "{name}: {message:?}"
            );
            assert_ne!(message, name);
            assert!(!seen.contains(&message), "{name}: {message:?} twice");
            seen.push(message);
        }
    }

    #[test]
    fn rx_error_display_and_source() {
        let e = RxError::Malformed(Error::Truncated);
        assert_eq!(e.to_string(), "malformed message");
        let source: Option<String> = e.source().map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("message truncated"));
        let e = RxError::Invalid(Invalid::TargetMulticast);
        assert_eq!(e.to_string(), "message breaks a receive rule");
        let source: Option<String> = e.source().map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("multicast target address"));
    }
}
