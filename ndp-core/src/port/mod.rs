//! What an adapter between the engine and a host IP stack on Ethernet
//! does with whole frames: the part `ndp-smoltcp` (smoltcp's `Device`)
//! and `ndp-embassy` (embassy-net's `Driver`) share. Feature `port`.
//!
//! Such an adapter sits between the NIC and the host stack, and:
//!
//! - on receive, passes a frame only when it is for us ([`wanted`]),
//!   gives every Neighbor Discovery and MLD message to the engine and
//!   every other IPv6 packet to the host stack, unless it must be
//!   dropped ([`receive_ipv6`]);
//! - on transmit, keeps the host stack's own Neighbor Discovery and MLD
//!   off the wire, answering its Neighbor Solicitations with a made-up
//!   advertisement ([`write_advert`]) and noting the groups its reports
//!   name, and sets every other IPv6 frame's destination from the
//!   engine's next hop ([`transmit_ipv6`]).
//!
//! IPv4 passes through; ARP passes through the [`arp`] guard, which keeps
//! a flood from churning the host stack's neighbor cache. Every function
//! here is bounded and panic-free on any input, and reports what happened
//! as a value the adapter counts.

pub mod arp;

use core::net::Ipv6Addr;

use crate::time::Instant;
use crate::wire::ethernet::{ETHERTYPE_IPV4, EthernetHeader, HEADER_LEN};
use crate::wire::ipv6::{Inbound, Ipv6Header, NEXT_HEADER_ICMPV6, classify, upper_layer};
use crate::wire::{
    self, MacAddr, Message, MessageType, MulticastAddr, RecordType, is_solicited_node,
};
use crate::{Dispatch, RouteError, RxMeta, SendError, Stack};

/// The hop limit smoltcp (and so embassy-net) puts on what it
/// originates without a per-socket one; [`transmit_ipv6`] replaces it
/// with the Router Advertisement's.
pub const HOST_DEFAULT_HOP_LIMIT: u8 = 64;

/// Whether a frame to `dst` with `ethertype` is for us: our `mac`,
/// broadcast, a group in `group_macs` (the engine's), any IPv4
/// multicast (01:00:5e), which the host stack checks itself, or, while
/// `stack` proxies (feature `proxy`), any solicited-node group
/// (33:33:ff:xx:xx:xx): solicitations for the proxied targets go to
/// groups the stack does not join (RFC 4861 §7.2.8).
#[inline]
pub fn wanted<const N: usize, const QS: usize, const QB: usize>(
    stack: &Stack<N, QS, QB>,
    dst: MacAddr,
    ethertype: u16,
    mac: MacAddr,
    group_macs: &[MacAddr],
) -> bool {
    dst == mac
        || dst == MacAddr::BROADCAST
        || (ethertype == ETHERTYPE_IPV4 && dst.0[..3] == [0x01, 0x00, 0x5e])
        || group_macs.contains(&dst)
        || proxied_group(stack, dst)
}

/// A solicited-node group's MAC while the stack proxies.
#[inline]
fn proxied_group<const N: usize, const QS: usize, const QB: usize>(
    stack: &Stack<N, QS, QB>,
    dst: MacAddr,
) -> bool {
    #[cfg(feature = "proxy")]
    return dst.0[..3] == [0x33, 0x33, 0xff] && stack.proxy().is_active();
    #[cfg(not(feature = "proxy"))]
    {
        let _ = (stack, dst);
        false
    }
}

/// What became of a received IPv6 packet ([`receive_ipv6`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RxIpv6 {
    /// A Neighbor Discovery or MLD message, given to the engine.
    Engine,
    /// For the host stack: the packet's length without link padding.
    Host(usize),
    /// Dropped: a malformed IPv6 header or extension header chain.
    Malformed,
    /// Dropped: Neighbor Discovery or MLD in a fragmented packet
    /// (RFC 6980 §5).
    FragmentedNd,
    /// Dropped: from or to the loopback address (RFC 4291 §2.5.3).
    Loopback,
    /// Dropped: to a multicast group the interface has not joined
    /// (RFC 4291 §2.7).
    UnjoinedGroup,
}

/// Sort the IPv6 packet `ip` (the body of a frame from `src_mac`):
/// Neighbor Discovery and MLD go to the engine, other packets to the
/// host stack unless they must be dropped.
#[inline]
pub fn receive_ipv6<const N: usize, const QS: usize, const QB: usize>(
    stack: &mut Stack<N, QS, QB>,
    now: Instant,
    ip: &[u8],
    src_mac: MacAddr,
) -> RxIpv6 {
    let up = match classify(ip) {
        Ok(Inbound::Engine(up)) => {
            let meta = RxMeta {
                src: up.header.src,
                dst: up.header.dst,
                hop_limit: up.header.hop_limit,
                src_mac: Some(src_mac),
            };
            stack.receive(now, &meta, up.payload);
            return RxIpv6::Engine;
        }
        // RFC 6980 §5: fragmented Neighbor Discovery is silently ignored.
        Ok(Inbound::FragmentedNd) => return RxIpv6::FragmentedNd,
        Ok(Inbound::Other(up)) => up,
        Err(_) => return RxIpv6::Malformed,
    };
    // RFC 4291 §2.5.3: the loopback address never comes from a link, as
    // source or destination (an answer to it would leave).
    if up.header.src.is_loopback() || up.header.dst.is_loopback() {
        return RxIpv6::Loopback;
    }
    // RFC 4291 §2.7: a host accepts packets only to the groups it listens
    // to (smoltcp compares only the low bits of some).
    let group = up.header.dst;
    if group.is_multicast() && !stack.multicast_groups().any(|g| g.get() == group) {
        return RxIpv6::UnjoinedGroup;
    }
    match usize::from(up.header.payload_len).checked_add(Ipv6Header::LEN) {
        Some(len) => RxIpv6::Host(len),
        None => RxIpv6::Malformed,
    }
}

/// The Neighbor Advertisement the host stack's solicitation for
/// `target` (sent from `asker`) waits for, as an Ethernet frame in
/// `frame`; its length, or `None` when `frame` is too short. The
/// link-layer address in it is `mac`, ours: the host stack needs one to
/// send, and the adapter sets every frame's destination from the
/// engine's next hop anyway. The IPv6 source is `target`, under which
/// smoltcp files the answer. With an unspecified or multicast `asker`
/// it goes to all-nodes: an unsolicited answer that teaches the host
/// stack `target` before it asks.
pub fn write_advert(
    frame: &mut [u8],
    mac: MacAddr,
    target: Ipv6Addr,
    asker: Ipv6Addr,
) -> Option<usize> {
    let dst = if asker.is_unspecified() || asker.is_loopback() || asker.is_multicast() {
        MulticastAddr::ALL_NODES.get()
    } else {
        asker
    };
    let ip = frame.get_mut(HEADER_LEN..)?;
    let flags = wire::AdvertFlags {
        router: false,
        solicited: !dst.is_multicast(),
        override_flag: true,
    };
    let icmp_len = wire::emit_advert(
        ip.get_mut(Ipv6Header::LEN..)?,
        &target,
        &dst,
        flags,
        &target,
        Some(mac),
    )
    .ok()?;
    Ipv6Header {
        src: target,
        dst,
        next_header: NEXT_HEADER_ICMPV6,
        hop_limit: 255,
        payload_len: u16::try_from(icmp_len).ok()?,
    }
    .emit(ip)
    .ok()?;
    write_eth(frame, mac, mac, wire::ethernet::ETHERTYPE_IPV6);
    HEADER_LEN
        .checked_add(Ipv6Header::LEN)?
        .checked_add(icmp_len)
}

/// Why a packet the host stack sent was dropped: its `send` had returned
/// `Ok`, so the adapter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DropReason {
    /// No route to the destination: no router, and not on-link.
    NoRoute,
    /// The engine's queue or neighbor table had no room.
    NoRoom,
    /// IPv6 is disabled on the interface (duplicate MAC-derived address,
    /// RFC 4862 §5.4.5).
    Disabled,
    /// Not a well-formed IPv6 packet, or too large.
    Malformed,
}

impl DropReason {
    /// Why [`Stack::send`] refused a packet.
    pub fn of(e: SendError) -> Self {
        match e {
            SendError::Route(RouteError::NoRoute) => DropReason::NoRoute,
            SendError::Route(RouteError::Disabled) => DropReason::Disabled,
            SendError::Malformed => DropReason::Malformed,
            _ => DropReason::NoRoom,
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DropReason::NoRoute => "no route to the destination",
            DropReason::NoRoom => "no room to queue the packet",
            DropReason::Disabled => "IPv6 is disabled on the interface",
            DropReason::Malformed => "not a well-formed IPv6 packet",
        })
    }
}

/// What to do with an IPv6 packet the host stack sent ([`transmit_ipv6`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TxIpv6 {
    /// Send it now to this MAC.
    Send(MacAddr),
    /// The engine keeps it until its next hop is resolved.
    Queued,
    /// The host stack's Neighbor Solicitation for `target`, from `src`:
    /// kept off the wire; answer it with [`write_advert`].
    Solicit {
        /// What it asks for.
        target: Ipv6Addr,
        /// Its IPv6 source.
        src: Ipv6Addr,
    },
    /// The host stack's own MLD report or other Neighbor Discovery: kept
    /// off the wire (the engine reports and discovers). The groups an
    /// MLDv2 report named went to the caller's `on_group`.
    HostNd,
    /// Not sent: not a well-formed IPv6 packet.
    Malformed,
    /// Not sent: the engine's error.
    Error(SendError),
}

/// Decide the fate of the IPv6 packet `ip` the host stack sent. Its own
/// Neighbor Discovery and MLD stay off the wire (each group an MLDv2
/// report names, but the engine's own, goes to `on_group`: the
/// application joined or left it on the host stack). Every other packet
/// gets the Router Advertisement's Cur Hop Limit in place of
/// [`HOST_DEFAULT_HOP_LIMIT`] (the second value: whether it did), and
/// its next hop from [`Stack::send`], which may keep it while it
/// resolves the neighbor.
pub fn transmit_ipv6<const N: usize, const QS: usize, const QB: usize>(
    stack: &mut Stack<N, QS, QB>,
    now: Instant,
    ip: &mut [u8],
    mut on_group: impl FnMut(Ipv6Addr),
) -> (TxIpv6, bool) {
    let hop_limit = stack.hop_limit();
    let Ok(up) = upper_layer(ip) else {
        return (TxIpv6::Malformed, false);
    };
    if up.protocol == NEXT_HEADER_ICMPV6
        && let Some(t) = up.payload.first().and_then(|t| MessageType::from_u8(*t))
        && (t.is_ndp() || t.is_mld())
    {
        let verdict = match Message::parse_checked(&up.header.src, &up.header.dst, up.payload) {
            Ok(Message::NeighborSolicit(ns)) => TxIpv6::Solicit {
                target: ns.target,
                src: up.header.src,
            },
            Ok(Message::MldV2Report(r)) => {
                // The engine's own groups are not the application's.
                for rec in r.records.iter() {
                    if !is_solicited_node(&rec.group)
                        && rec.group != MulticastAddr::ALL_NODES.get()
                        && !matches!(rec.record_type, RecordType::Other(_))
                    {
                        on_group(rec.group);
                    }
                }
                TxIpv6::HostNd
            }
            _ => TxIpv6::HostNd,
        };
        return (verdict, false);
    }
    // RFC 4861 §6.3.4: the advertised Cur Hop Limit for what we
    // originate, in place of the host stack's fixed default.
    let mut hop_limit_set = false;
    if up.header.hop_limit == HOST_DEFAULT_HOP_LIMIT
        && hop_limit != HOST_DEFAULT_HOP_LIMIT
        && let Some(h) = ip.get_mut(7)
    {
        *h = hop_limit;
        hop_limit_set = true;
    }
    let verdict = match stack.send(now, ip) {
        Ok(Dispatch::Transmit(dst)) => TxIpv6::Send(dst),
        Ok(Dispatch::Queued) => TxIpv6::Queued,
        Err(e) => TxIpv6::Error(e),
    };
    (verdict, hop_limit_set)
}

/// Write an Ethernet header into the start of `frame` (nothing when it is
/// too short).
pub fn write_eth(frame: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16) {
    let _ = EthernetHeader {
        dst,
        src,
        ethertype,
    }
    .emit(frame);
}

/// Write an Ethernet frame carrying `payload` into `frame` (as much as
/// fits).
pub fn write_frame(frame: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) {
    write_eth(frame, dst, src, ethertype);
    let end = HEADER_LEN.saturating_add(payload.len());
    if let Some(body) = frame.get_mut(HEADER_LEN..end) {
        body.copy_from_slice(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV6};

    const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);

    fn stack() -> Stack {
        Stack::new(crate::Config::eui64(MAC, 1), Instant::ZERO)
    }

    #[test]
    fn wanted_frames_are_ours_broadcast_our_groups_or_ipv4_multicast() {
        let s = stack();
        let wanted = |dst, ty, groups: &[MacAddr]| wanted(&s, dst, ty, MAC, groups);
        let group = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
        let other = MacAddr([0x02, 0, 0, 0, 0, 9]);
        let v4_group = MacAddr([0x01, 0x00, 0x5e, 0, 0, 0xfb]);
        assert!(wanted(MAC, ETHERTYPE_IPV6, &[]));
        assert!(wanted(MacAddr::BROADCAST, ETHERTYPE_ARP, &[]));
        assert!(wanted(group, ETHERTYPE_IPV6, &[group]));
        assert!(!wanted(group, ETHERTYPE_IPV6, &[]));
        assert!(!wanted(other, ETHERTYPE_IPV6, &[group]));
        // IPv4 multicast is the host stack's to check, but only as IPv4.
        assert!(wanted(v4_group, ETHERTYPE_IPV4, &[]));
        assert!(!wanted(v4_group, ETHERTYPE_IPV6, &[]));
        // A solicited-node group not joined: not without a proxy.
        let solicited = MacAddr([0x33, 0x33, 0xff, 0, 0, 0x42]);
        assert!(!wanted(solicited, ETHERTYPE_IPV6, &[group]));
    }

    /// RFC 4861 §7.2.8: a proxy hears the solicitations for its targets,
    /// which go to solicited-node groups nobody here joined.
    #[cfg(feature = "proxy")]
    #[test]
    fn a_proxy_wants_every_solicited_node_group() {
        let mut s = stack();
        let solicited = MacAddr([0x33, 0x33, 0xff, 0, 0, 0x42]);
        let other_group = MacAddr([0x33, 0x33, 0, 0, 0, 0x42]);
        assert!(!wanted(&s, solicited, ETHERTYPE_IPV6, MAC, &[]));
        let rule = crate::proxy::ProxyRule::new("2001:db8:2::".parse().unwrap(), 64).unwrap();
        s.configure_proxy(|p| p.add_prefix(rule)).unwrap();
        assert!(wanted(&s, solicited, ETHERTYPE_IPV6, MAC, &[]));
        assert!(
            !wanted(&s, other_group, ETHERTYPE_IPV6, MAC, &[]),
            "only that range"
        );
        s.configure_proxy(|p| p.clear());
        assert!(
            !wanted(&s, solicited, ETHERTYPE_IPV6, MAC, &[]),
            "not after the prefixes go"
        );
    }

    #[test]
    fn a_made_up_advert_needs_room_and_never_panics() {
        let target: Ipv6Addr = "fe80::1".parse().unwrap();
        let asker: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let mut frame = [0u8; 128];
        let len = write_advert(&mut frame, MAC, target, asker).unwrap();
        // Ethernet, IPv6, an NA of 24 bytes with an 8-byte TLLA.
        assert_eq!(len, HEADER_LEN + Ipv6Header::LEN + 32);
        let (eth, ip) = EthernetHeader::parse(&frame[..len]).unwrap();
        assert_eq!(eth.ethertype, wire::ethernet::ETHERTYPE_IPV6);
        let (h, icmp) = Ipv6Header::parse(ip).unwrap();
        assert_eq!((h.src, h.dst, h.hop_limit), (target, asker, 255));
        match Message::parse_checked(&h.src, &h.dst, icmp).unwrap() {
            Message::NeighborAdvert(na) => {
                assert!(na.solicited_flag && na.override_flag);
                assert_eq!(na.target, target);
            }
            m => panic!("{m:?}"),
        }
        // Unsolicited (to all-nodes) when nobody asked.
        let len = write_advert(&mut frame, MAC, target, Ipv6Addr::UNSPECIFIED).unwrap();
        let (_, ip) = EthernetHeader::parse(&frame[..len]).unwrap();
        assert_eq!(
            Ipv6Header::parse(ip).unwrap().0.dst,
            MulticastAddr::ALL_NODES.get()
        );
        for short in 0..len {
            assert_eq!(write_advert(&mut frame[..short], MAC, target, asker), None);
        }
    }
}
