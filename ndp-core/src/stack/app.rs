//! What the application sets on the interface beside the engine's own
//! state: multicast groups it listens to (mDNS, LLMNR, its own) and
//! static addresses.
//!
//! Both go through the same machinery as the engine's: application groups
//! are reported by the MLDv2 listener ([RFC 3810]) and answered in queries;
//! static addresses join their solicited-node group and pass DAD before
//! they are used ([RFC 4862 §5.4]: "Duplicate Address Detection MUST be
//! performed on all unicast addresses prior to assigning them to an
//! interface, regardless of whether they are obtained through stateless
//! autoconfiguration, DHCPv6, or manual configuration").
//!
//! [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
//! [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4

use core::net::Ipv6Addr;

use super::{Event, Stack};
use crate::addr::{ADDRESSES, Origin};
use crate::time::Instant;
use crate::wire::{MulticastAddr, UnicastAddr};

/// Most multicast groups the application may join at once, besides
/// all-nodes and the solicited-node groups the engine joins itself.
pub const APP_GROUPS: usize = 4;
/// Most static addresses the application may set. They share the
/// address table ([`ADDRESSES`] slots) with the link-local and SLAAC
/// addresses.
pub const STATIC_ADDRESSES: usize = 2;

/// Why [`Stack::join_group`] refused a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum GroupError {
    /// Not a multicast address.
    NotMulticast,
    /// Reserved or interface-local scope (0 or 1): never on the link, and
    /// never reported (RFC 3810 §6).
    NotOnLink,
    /// [`APP_GROUPS`] groups are joined already.
    TableFull,
}

impl core::fmt::Display for GroupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            GroupError::NotMulticast => "not a multicast address",
            GroupError::NotOnLink => "a reserved or interface-local multicast scope",
            GroupError::TableFull => "the application multicast group table is full",
        })
    }
}

impl core::error::Error for GroupError {}

/// Why [`Stack::add_static_address`] refused an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StaticAddressError {
    /// Not a unicast address (multicast, unspecified or loopback).
    NotUnicast,
    /// A prefix length over 128.
    BadPrefixLen,
    /// The interface has this address already.
    Exists,
    /// [`STATIC_ADDRESSES`] static addresses are set already, or the
    /// address table has no free slot.
    TableFull,
    /// IPv6 is disabled on the interface (RFC 4862 §5.4.5).
    Disabled,
}

impl core::fmt::Display for StaticAddressError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            StaticAddressError::NotUnicast => "not a unicast address",
            StaticAddressError::BadPrefixLen => "a prefix length over 128",
            StaticAddressError::Exists => "the interface has this address already",
            StaticAddressError::TableFull => "no room for another address",
            StaticAddressError::Disabled => "IPv6 is disabled on the interface",
        })
    }
}

impl core::error::Error for StaticAddressError {}

/// The application's part of the interface.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppState {
    pub groups: heapless::Vec<MulticastAddr, APP_GROUPS>,
    /// Static addresses and their prefix lengths, kept to form them again
    /// when IPv6 is enabled again after a duplicate MAC.
    pub statics: heapless::Vec<(UnicastAddr, u8), STATIC_ADDRESSES>,
}

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Listen to `group` on behalf of the application, e.g. mDNS's
    /// `ff02::fb` or LLMNR's `ff02::1:3`. The MLDv2 listener reports it
    /// ([RFC 3810 §6.1]) and includes it in its answers to queries, and
    /// [`Stack::multicast_groups`] lists it for the NIC's filter.
    /// Joining a group that is already listened to (all-nodes, or one
    /// joined before) does nothing.
    ///
    /// ```
    /// use ndp_core::{Config, Stack, time::Instant, wire::{MacAddr, MulticastAddr}};
    /// let mut s = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
    /// let mdns = MulticastAddr::new("ff02::fb".parse().unwrap()).unwrap();
    /// s.join_group(Instant::ZERO, mdns.get()).unwrap();
    /// assert!(s.multicast_groups().any(|g| g == mdns));
    /// ```
    ///
    /// [RFC 3810 §6.1]: https://www.rfc-editor.org/rfc/rfc3810#section-6.1
    pub fn join_group(&mut self, now: Instant, group: Ipv6Addr) -> Result<(), GroupError> {
        self.advance(now);
        let g = MulticastAddr::new(group).ok_or(GroupError::NotMulticast)?;
        // RFC 3810 §6: scopes 0 and 1 are never reported; they never
        // reach the link either.
        if group.octets().get(1).is_none_or(|b| b & 0x0f <= 1) {
            return Err(GroupError::NotOnLink);
        }
        if g == MulticastAddr::ALL_NODES || self.app.groups.contains(&g) {
            return Ok(());
        }
        self.app.groups.push(g).map_err(|_| GroupError::TableFull)?;
        self.sync_groups(self.clock.now);
        // The MLD table makes room from groups being left; should it have
        // none, the group is not listened to.
        if !self.local.mld.joined().any(|j| j == g) {
            self.app.groups.pop();
            return Err(GroupError::TableFull);
        }
        self.events.changed();
        Ok(())
    }

    /// Stop listening to `group` for the application; the leave is
    /// reported ([RFC 3810 §6.1]) unless the engine itself still needs the
    /// group. Returns false if the application had not joined it.
    ///
    /// [RFC 3810 §6.1]: https://www.rfc-editor.org/rfc/rfc3810#section-6.1
    pub fn leave_group(&mut self, now: Instant, group: Ipv6Addr) -> bool {
        self.advance(now);
        let Some(i) = self.app.groups.iter().position(|g| g.get() == group) else {
            return false;
        };
        self.app.groups.swap_remove(i);
        self.sync_groups(self.clock.now);
        self.events.changed();
        true
    }

    /// Which targets the stack answers Neighbor Solicitations for as a
    /// proxy (feature `proxy`; empty unless configured).
    #[cfg(feature = "proxy")]
    pub fn proxy(&self) -> &crate::proxy::Proxy {
        &self.proxy
    }

    /// Change the proxy's prefixes and lists in `f` (a configuration
    /// reload: [`crate::proxy::Proxy::clear`], then add again); returns
    /// what `f` returns. Takes effect with the next solicitation.
    ///
    /// ```
    /// use ndp_core::proxy::ProxyRule;
    /// use ndp_core::{Config, Stack};
    /// use ndp_core::time::Instant;
    /// use ndp_core::wire::MacAddr;
    ///
    /// let mut stack: Stack = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
    /// let prefix = ProxyRule::new("2001:db8:2::".parse().unwrap(), 64).unwrap();
    /// stack.configure_proxy(|p| p.add_prefix(prefix)).unwrap();
    /// assert!(stack.proxy().is_active());
    /// ```
    #[cfg(feature = "proxy")]
    pub fn configure_proxy<R>(&mut self, f: impl FnOnce(&mut crate::proxy::Proxy) -> R) -> R {
        let r = f(&mut self.proxy);
        self.recount_proxied_neighbors();
        r
    }

    /// The groups the application joined ([`Stack::join_group`]).
    pub fn app_groups(&self) -> impl Iterator<Item = MulticastAddr> + '_ {
        self.app.groups.iter().copied()
    }

    /// Add a manually configured address. Like every address it is
    /// tentative until DAD passes ([RFC 4862 §5.4]; optimistic where
    /// [`Config::optimistic_dad`](crate::Config::optimistic_dad) allows it, [RFC 4429 §3.1]), joins its
    /// solicited-node group first (§5.4.2), and is defended and answered
    /// for once assigned. Its lifetimes are infinite and Router
    /// Advertisements never change them ([RFC 4862 §5.5.3] concerns
    /// autoconfigured addresses only). A conflict marks it duplicate and
    /// reports [`Event::AddressFailed`]; DAD is then tried again with the
    /// same capped backoff as a MAC-based address, since a static address
    /// cannot pick another identifier. It comes back by itself when IPv6
    /// is enabled again after a duplicate MAC.
    ///
    /// ```
    /// use ndp_core::{Config, Stack, addr::{AddrState, Origin}, time::Instant, wire::MacAddr};
    /// let mut s = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
    /// s.add_static_address(Instant::ZERO, "fd00::10".parse().unwrap(), 64).unwrap();
    /// let a = s.addresses().find(|a| a.origin == Origin::Static).unwrap();
    /// // No router's link-layer address is known yet, so not optimistic.
    /// assert_eq!(a.state, AddrState::Tentative);
    /// ```
    ///
    /// [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
    /// [RFC 4429 §3.1]: https://www.rfc-editor.org/rfc/rfc4429#section-3.1
    /// [RFC 4862 §5.5.3]: https://www.rfc-editor.org/rfc/rfc4862#section-5.5.3
    pub fn add_static_address(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), StaticAddressError> {
        self.advance(now);
        let a = UnicastAddr::new(addr)
            .filter(|a| !a.get().is_loopback())
            .ok_or(StaticAddressError::NotUnicast)?;
        if prefix_len > 128 {
            return Err(StaticAddressError::BadPrefixLen);
        }
        if self.disabled {
            return Err(StaticAddressError::Disabled);
        }
        if self.local.addrs.find(&addr).is_some() {
            return Err(StaticAddressError::Exists);
        }
        if self.local.addrs.len() >= ADDRESSES {
            return Err(StaticAddressError::TableFull);
        }
        self.app
            .statics
            .push((a, prefix_len))
            .map_err(|_| StaticAddressError::TableFull)?;
        self.add_static_slot(a, prefix_len);
        Ok(())
    }

    /// Remove a static address set with [`Stack::add_static_address`].
    /// Returns false if there is no such static address.
    pub fn remove_static_address(&mut self, now: Instant, addr: Ipv6Addr) -> bool {
        self.advance(now);
        let Some(i) = self.app.statics.iter().position(|(a, _)| a.get() == addr) else {
            return false;
        };
        self.app.statics.swap_remove(i);
        if let Some((slot, _)) = self
            .local
            .addrs
            .find(&addr)
            .filter(|(_, a)| a.origin == Origin::Static)
            && let Some(old) = self.local.addrs.remove(slot)
        {
            self.event(Event::AddressRemoved {
                addr: old.address().addr.get(),
                prefix_len: old.address().prefix_len,
            });
            self.sync_groups(self.clock.now);
        }
        true
    }

    /// Form the static addresses again (IPv6 enabled again).
    pub(super) fn restore_static_addresses(&mut self) {
        let statics = self.app.statics.clone();
        for (a, prefix_len) in statics {
            if self.local.addrs.find(&a.get()).is_none() {
                self.add_static_slot(a, prefix_len);
            }
        }
    }
}
