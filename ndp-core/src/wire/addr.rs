//! Addresses: Ethernet MACs, typed IPv6 address kinds and the multicast
//! mappings Neighbor Discovery needs.
//!
//! Problems solved here:
//! - a neighbor solicitation must go to the *solicited-node* group of its
//!   target ([RFC 4291 §2.7.1]), which is easy to get subtly wrong by hand;
//! - every IPv6 multicast group maps to an Ethernet group address
//!   33:33:xx:xx:xx:xx ([RFC 2464 §7]), needed both to send and to program a
//!   NIC's multicast filter;
//! - functions that need a unicast or multicast address take a typed
//!   [`UnicastAddr`] or [`MulticastAddr`], so the check happens once at the
//!   boundary instead of at every use.
//!
//! [RFC 4291 §2.7.1]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7.1
//! [RFC 2464 §7]: https://www.rfc-editor.org/rfc/rfc2464#section-7

use core::fmt;
use core::net::Ipv6Addr;

/// An IEEE 802 (Ethernet) MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Group (multicast or broadcast) address: I/G bit set (IEEE 802 §8.2).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Individual (unicast) address: I/G bit clear.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Locally administered: U/L bit set.
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The modified EUI-64 interface identifier of [RFC 4291] Appendix A:
    /// `ff:fe` inserted in the middle and the U/L bit inverted.
    ///
    /// ```
    /// use ndp_core::wire::MacAddr;
    /// let mac = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x20]);
    /// assert_eq!(mac.modified_eui64(), [0x00, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x20]);
    /// ```
    ///
    /// [RFC 4291]: https://www.rfc-editor.org/rfc/rfc4291
    pub const fn modified_eui64(&self) -> [u8; 8] {
        let m = self.0;
        [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// `fe80::/10`, the link-local unicast prefix ([RFC 4291 §2.5.6]).
///
/// [RFC 4291 §2.5.6]: https://www.rfc-editor.org/rfc/rfc4291#section-2.5.6
pub const fn is_link_local(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    o[0] == 0xfe && (o[1] & 0xc0) == 0x80
}

/// Whether the first `len` bits of `addr` equal those of `prefix`
/// (`len` above 128 counts as 128).
///
/// ```
/// use ndp_core::wire::in_prefix;
/// let p = "2001:db8:ff::".parse().unwrap();
/// assert!(in_prefix(&"2001:db8:ff:1::9".parse().unwrap(), &p, 48));
/// assert!(!in_prefix(&"2001:db8:fe::9".parse().unwrap(), &p, 48));
/// assert!(in_prefix(&"2001:db8:fe::9".parse().unwrap(), &p, 0));
/// ```
pub fn in_prefix(addr: &Ipv6Addr, prefix: &Ipv6Addr, len: u8) -> bool {
    super::bytes::mask_prefix(*addr, len) == super::bytes::mask_prefix(*prefix, len)
}

/// `addr` with every bit after the first `len` cleared: its prefix.
///
/// ```
/// use ndp_core::wire::prefix_of;
/// let a = "2001:db8:1:2:3:4:5:6".parse().unwrap();
/// assert_eq!(prefix_of(&a, 64), "2001:db8:1:2::".parse::<core::net::Ipv6Addr>().unwrap());
/// ```
pub fn prefix_of(addr: &Ipv6Addr, len: u8) -> Ipv6Addr {
    super::bytes::mask_prefix(*addr, len)
}

/// `ff02::1:ff00:0/104`, a solicited-node multicast address
/// ([RFC 4291 §2.7.1]).
///
/// [RFC 4291 §2.7.1]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7.1
pub const fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    let p = SOLICITED_NODE_PREFIX;
    o[0] == p[0]
        && o[1] == p[1]
        && o[2] == 0
        && o[3] == 0
        && o[4] == 0
        && o[5] == 0
        && o[6] == 0
        && o[7] == 0
        && o[8] == 0
        && o[9] == 0
        && o[10] == 0
        && o[11] == p[11]
        && o[12] == p[12]
}

/// The first 13 octets of every solicited-node address.
const SOLICITED_NODE_PREFIX: [u8; 13] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff];

/// A specified, non-multicast IPv6 address: something that can name one
/// interface, such as a neighbor or the target of a solicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnicastAddr(Ipv6Addr);

impl UnicastAddr {
    /// `Some` when `addr` is neither `::` nor multicast.
    ///
    /// ```
    /// use ndp_core::wire::UnicastAddr;
    /// assert!(UnicastAddr::new("fe80::1".parse().unwrap()).is_some());
    /// assert!(UnicastAddr::new("ff02::1".parse().unwrap()).is_none());
    /// assert!(UnicastAddr::new("::".parse().unwrap()).is_none());
    /// ```
    pub const fn new(addr: Ipv6Addr) -> Option<Self> {
        if addr.is_unspecified() || addr.is_multicast() {
            None
        } else {
            Some(UnicastAddr(addr))
        }
    }

    /// The address.
    pub const fn get(&self) -> Ipv6Addr {
        self.0
    }

    /// The link-local address `fe80::/64` + `iid` ([RFC 4291 §2.5.6]), which
    /// is always unicast.
    ///
    /// [RFC 4291 §2.5.6]: https://www.rfc-editor.org/rfc/rfc4291#section-2.5.6
    pub const fn link_local(iid: [u8; 8]) -> Self {
        let i = iid;
        UnicastAddr(Ipv6Addr::from_octets([
            0xfe, 0x80, 0, 0, 0, 0, 0, 0, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7],
        ]))
    }

    /// Link-local (`fe80::/10`).
    pub const fn is_link_local(&self) -> bool {
        is_link_local(&self.0)
    }

    /// The solicited-node multicast group of this address: `ff02::1:ff`
    /// followed by the low 24 bits of the address ([RFC 4291 §2.7.1]).
    ///
    /// ```
    /// use ndp_core::wire::UnicastAddr;
    /// let a = UnicastAddr::new("2001:db8::5eff:fe00:5320".parse().unwrap()).unwrap();
    /// assert_eq!(a.solicited_node().get(), "ff02::1:ff00:5320".parse::<core::net::Ipv6Addr>().unwrap());
    /// ```
    ///
    /// [RFC 4291 §2.7.1]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7.1
    pub const fn solicited_node(&self) -> MulticastAddr {
        let o = self.0.octets();
        let p = SOLICITED_NODE_PREFIX;
        MulticastAddr(Ipv6Addr::from_octets([
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], o[13],
            o[14], o[15],
        ]))
    }
}

impl fmt::Display for UnicastAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<UnicastAddr> for Ipv6Addr {
    fn from(a: UnicastAddr) -> Ipv6Addr {
        a.0
    }
}

/// An IPv6 multicast address (`ff00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MulticastAddr(Ipv6Addr);

impl MulticastAddr {
    /// `ff02::1`, all nodes on the link ([RFC 4291 §2.7.1]).
    ///
    /// [RFC 4291 §2.7.1]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7.1
    pub const ALL_NODES: MulticastAddr = MulticastAddr(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1));
    /// `ff02::2`, all routers on the link ([RFC 4291 §2.7.1]).
    ///
    /// [RFC 4291 §2.7.1]: https://www.rfc-editor.org/rfc/rfc4291#section-2.7.1
    pub const ALL_ROUTERS: MulticastAddr =
        MulticastAddr(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2));
    /// `ff02::16`, all MLDv2-capable routers, where MLDv2 reports go
    /// ([RFC 3810 §5.2.14]).
    ///
    /// [RFC 3810 §5.2.14]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2.14
    pub const ALL_MLDV2_ROUTERS: MulticastAddr =
        MulticastAddr(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16));

    /// `Some` when `addr` is multicast.
    pub const fn new(addr: Ipv6Addr) -> Option<Self> {
        if addr.is_multicast() {
            Some(MulticastAddr(addr))
        } else {
            None
        }
    }

    /// The address.
    pub const fn get(&self) -> Ipv6Addr {
        self.0
    }

    /// A solicited-node group (`ff02::1:ff00:0/104`).
    pub const fn is_solicited_node(&self) -> bool {
        is_solicited_node(&self.0)
    }

    /// The Ethernet group address this group is sent to: `33:33` followed
    /// by the low 32 bits of the address ([RFC 2464 §7]).
    ///
    /// ```
    /// use ndp_core::wire::{MacAddr, MulticastAddr};
    /// assert_eq!(MulticastAddr::ALL_NODES.mac(), MacAddr([0x33, 0x33, 0, 0, 0, 1]));
    /// ```
    ///
    /// [RFC 2464 §7]: https://www.rfc-editor.org/rfc/rfc2464#section-7
    pub const fn mac(&self) -> MacAddr {
        let o = self.0.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for MulticastAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<MulticastAddr> for Ipv6Addr {
    fn from(a: MulticastAddr) -> Ipv6Addr {
        a.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn solicited_node_takes_low_24_bits() {
        // RFC 4291 §2.7.1 example shape; values from the radvd capture.
        let u = UnicastAddr::new(a("fe80::4ef8:abfd:3ec:e44d")).unwrap();
        assert_eq!(u.solicited_node().get(), a("ff02::1:ffec:e44d"));
        let u = UnicastAddr::new(a("2001:db8:1:0:769:5b2d:89ff:6ff4")).unwrap();
        assert_eq!(u.solicited_node().get(), a("ff02::1:ffff:6ff4"));
        assert!(u.solicited_node().is_solicited_node());
    }

    #[test]
    fn solicited_node_recognition() {
        assert!(is_solicited_node(&a("ff02::1:ff00:0")));
        assert!(is_solicited_node(&a("ff02::1:ffff:ffff")));
        assert!(!is_solicited_node(&a("ff02::1")));
        assert!(!is_solicited_node(&a("ff02::1:fe00:1")));
        assert!(!is_solicited_node(&a("ff05::1:ff00:1")));
        assert!(!is_solicited_node(&a("ff02:0:0:0:1:1:ff00:1")));
    }

    #[test]
    fn multicast_mac_mapping() {
        // RFC 2464 §7: 33:33 followed by the last four octets.
        let g = MulticastAddr::new(a("ff02::1:ff28:9c5a")).unwrap();
        assert_eq!(g.mac(), MacAddr([0x33, 0x33, 0xff, 0x28, 0x9c, 0x5a]));
        assert_eq!(
            MulticastAddr::ALL_MLDV2_ROUTERS.mac(),
            MacAddr([0x33, 0x33, 0, 0, 0, 0x16])
        );
        assert!(g.mac().is_multicast());
    }

    #[test]
    fn link_local_is_fe80_slash_10() {
        assert!(is_link_local(&a("fe80::1")));
        assert!(is_link_local(&a("febf::1")));
        assert!(!is_link_local(&a("fec0::1")));
        assert!(!is_link_local(&a("2001:db8::1")));
    }

    #[test]
    fn typed_kinds_reject_wrong_addresses() {
        assert!(UnicastAddr::new(Ipv6Addr::UNSPECIFIED).is_none());
        assert!(UnicastAddr::new(a("ff02::2")).is_none());
        assert!(MulticastAddr::new(a("fe80::1")).is_none());
        assert_eq!(
            MulticastAddr::new(a("ff02::2")),
            Some(MulticastAddr::ALL_ROUTERS)
        );
    }

    #[test]
    fn mac_formatting_and_bits() {
        let m = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x01]);
        assert_eq!(std::format!("{m}"), "02:00:5e:00:53:01");
        assert!(m.is_unicast() && m.is_local());
        assert!(MacAddr::BROADCAST.is_multicast());
    }
}
