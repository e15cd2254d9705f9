//! The interface's own addresses.
//!
//! For now this holds the link-local address the stack configures at
//! start (modified EUI-64, assigned without Duplicate Address Detection);
//! SLAAC, DAD, optimistic DAD and stable identifiers build on this table.

use core::net::Ipv6Addr;

use crate::wire::{MacAddr, MulticastAddr, UnicastAddr, is_link_local};

/// Addresses the table holds.
pub const ADDRESSES: usize = 4;

/// State of an address (RFC 4862 §2, RFC 4429 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddrState {
    /// Being checked for uniqueness; may not be used.
    Tentative,
    /// Being checked, but usable with the restrictions of RFC 4429 §3.
    Optimistic,
    /// Usable without restriction.
    Preferred,
    /// Usable for existing communication, not for new.
    Deprecated,
}

impl AddrState {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            AddrState::Tentative => "tentative",
            AddrState::Optimistic => "optimistic",
            AddrState::Preferred => "preferred",
            AddrState::Deprecated => "deprecated",
        }
    }
}

/// One of the interface's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Address {
    /// The address.
    pub addr: UnicastAddr,
    /// Length of its on-link prefix.
    pub prefix_len: u8,
    /// Its state.
    pub state: AddrState,
}

impl Address {
    /// May be the source of solicitations and other ND messages: preferred
    /// or deprecated (never tentative, and never optimistic, RFC 4429 §3.2).
    pub fn can_solicit(&self) -> bool {
        matches!(self.state, AddrState::Preferred | AddrState::Deprecated)
    }
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 §2.5.6,
/// Appendix A; RFC 4862 §5.3).
///
/// ```
/// use ndp_core::addr::eui64_link_local;
/// use ndp_core::wire::MacAddr;
/// let a = eui64_link_local(MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x20]));
/// assert_eq!(a.get(), "fe80::5eff:fe00:5320".parse::<core::net::Ipv6Addr>().unwrap());
/// ```
pub fn eui64_link_local(mac: MacAddr) -> UnicastAddr {
    UnicastAddr::link_local(mac.modified_eui64())
}

#[derive(Debug, Clone)]
pub(crate) struct AddressTable {
    entries: heapless::Vec<Address, ADDRESSES>,
}

impl AddressTable {
    pub fn new() -> Self {
        AddressTable {
            entries: heapless::Vec::new(),
        }
    }

    /// Add an address; false when the table is full or holds it already.
    pub fn add(&mut self, a: Address) -> bool {
        if self.find(&a.addr.get()).is_some() {
            return false;
        }
        self.entries.push(a).is_ok()
    }

    pub fn find(&self, addr: &Ipv6Addr) -> Option<(usize, &Address)> {
        self.entries
            .iter()
            .enumerate()
            .find(|(_, a)| a.addr.get() == *addr)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Address> {
        self.entries.iter()
    }

    /// Whether packets to `dst` are for this interface: one of its
    /// addresses, all-nodes, or the solicited-node group of an address.
    pub fn accepts(&self, dst: &Ipv6Addr) -> bool {
        *dst == MulticastAddr::ALL_NODES.get()
            || self
                .entries
                .iter()
                .any(|a| a.addr.get() == *dst || a.addr.solicited_node().get() == *dst)
    }

    /// A source for a solicitation to `target`: `preferred` if it is ours
    /// and may solicit (RFC 4861 §7.2.2), else one of the same scope, else
    /// any that may solicit.
    pub fn solicit_source(
        &self,
        target: &Ipv6Addr,
        preferred: Option<Ipv6Addr>,
    ) -> Option<Ipv6Addr> {
        let ok = |a: &&Address| a.can_solicit();
        if let Some(p) = preferred
            && self.entries.iter().filter(ok).any(|a| a.addr.get() == p)
        {
            return Some(p);
        }
        let ll = is_link_local(target);
        self.entries
            .iter()
            .filter(ok)
            .find(|a| a.addr.is_link_local() == ll)
            .or_else(|| self.entries.iter().find(ok))
            .map(|a| a.addr.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> UnicastAddr {
        UnicastAddr::new(s.parse().unwrap()).unwrap()
    }

    #[test]
    fn solicit_source_prefers_the_prompting_packet_source() {
        let mut t = AddressTable::new();
        t.add(Address {
            addr: a("fe80::1"),
            prefix_len: 64,
            state: AddrState::Preferred,
        });
        t.add(Address {
            addr: a("2001:db8::1"),
            prefix_len: 64,
            state: AddrState::Preferred,
        });
        t.add(Address {
            addr: a("2001:db8::2"),
            prefix_len: 64,
            state: AddrState::Optimistic,
        });
        let g: Ipv6Addr = "2001:db8::99".parse().unwrap();
        let ll: Ipv6Addr = "fe80::99".parse().unwrap();
        assert_eq!(
            t.solicit_source(&g, Some("fe80::1".parse().unwrap())),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(
            t.solicit_source(&g, None),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            t.solicit_source(&ll, None),
            Some("fe80::1".parse().unwrap())
        );
        // An optimistic address is never a solicitation source (RFC 4429 §3.2).
        assert_eq!(
            t.solicit_source(&g, Some("2001:db8::2".parse().unwrap())),
            Some("2001:db8::1".parse().unwrap())
        );
        assert!(t.accepts(&"ff02::1:ff00:2".parse().unwrap()));
        assert!(t.accepts(&"ff02::1".parse().unwrap()));
        assert!(!t.accepts(&"ff02::2".parse().unwrap()));
        assert!(!t.add(Address {
            addr: a("fe80::1"),
            prefix_len: 64,
            state: AddrState::Preferred
        }));
    }
}
