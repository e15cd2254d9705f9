//! Output path: next hop, address resolution and queueing.

use core::net::Ipv6Addr;

use super::{Dispatch, NextHop, RouteError, SendError, Stack};
use crate::addr::AddrState;
use crate::neighbor::queue::Refused;
use crate::neighbor::{Admit, Entry, NeighborState};
use crate::router::Reach;
use crate::stats::bump;
use crate::time::Instant;
use crate::wire::ipv6::Ipv6Header;
use crate::wire::{MacAddr, MulticastAddr, is_link_local};

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// The next hop for `dst` ([RFC 4861 §5.2]) and its link-layer address,
    /// starting address resolution when it is unknown. Sending to the
    /// result counts as use for NUD (a STALE neighbor moves to DELAY), so
    /// call this only for a packet that is actually sent.
    ///
    /// Link-local destinations and those covered by an on-link prefix are
    /// their own next hop; others go to the router chosen by
    /// [`Stack::next_hop`]'s rules, and the choice is kept in the
    /// destination cache.
    ///
    /// [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
    #[must_use = "the next hop says where to send the packet"]
    #[inline(never)]
    pub fn route(&mut self, now: Instant, dst: Ipv6Addr) -> Result<NextHop, RouteError> {
        self.advance(now);
        // RFC 4862 §5.4.5: a disabled interface sends nothing.
        if self.disabled {
            return Err(RouteError::Disabled);
        }
        if let Some(group) = MulticastAddr::new(dst) {
            return Ok(NextHop::Multicast(group.mac()));
        }
        let Some(hop) = self.choose_next_hop(dst) else {
            bump(&mut self.stats.send_no_route);
            return Err(RouteError::NoRoute);
        };
        let r = self.resolve(hop).map(|(_, hop)| hop);
        // A full table is counted where the entry was refused.
        if r == Err(RouteError::TooManyUnresolved) {
            bump(&mut self.stats.resolution_refused);
        }
        r
    }

    /// Next-hop determination ([RFC 4861 §5.2]) for unicast `dst`, without
    /// resolving it: the destination cache first; else `dst` itself when
    /// it is link-local or under an on-link prefix; else a router chosen as
    /// a type C host does ([RFC 4191 §3.2]: longest matching route, then
    /// preference, skipping suspect routers), which the destination cache
    /// keeps. `None` when there is no route ([RFC 4191 §3.2]: no matching
    /// route means no route to destination).
    ///
    /// A destination it chooses a router for is kept in the destination
    /// cache, as [`Stack::route`] and [`Stack::send`] keep it, so `now`
    /// is the time of the call, as for them.
    ///
    /// [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
    /// [RFC 4191 §3.2]: https://www.rfc-editor.org/rfc/rfc4191#section-3.2
    pub fn next_hop(&mut self, now: Instant, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        self.advance(now);
        self.choose_next_hop(dst)
    }

    /// [`Stack::next_hop`] at the engine's latest time.
    fn choose_next_hop(&mut self, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        if let Some(hop) = self.dests.lookup(&dst, self.clock.now) {
            return Some(hop);
        }
        if is_link_local(&dst) {
            return Some(dst);
        }
        // RFC 4291 §2.5.2, §2.5.3: the unspecified address is never a
        // destination, and the loopback address never leaves the node
        // (neither is ever in the destination cache). `::` and `::1` are
        // the two addresses whose value is at most 1.
        if dst.to_bits() <= 1 {
            return None;
        }
        if self.discovery.prefixes.on_link(&dst) {
            return Some(dst);
        }
        let hop = self.choose_router(&dst, true)?;
        self.dests.insert(dst, hop, false, self.clock.now);
        Some(hop)
    }

    /// [`Stack::next_hop`] without touching the destination cache or the
    /// round-robin position: what a Redirect's source is checked against
    /// (RFC 4861 §8.1).
    pub(super) fn peek_next_hop(&mut self, dst: &Ipv6Addr) -> Option<Ipv6Addr> {
        if let Some(hop) = self.dests.peek(dst) {
            return Some(hop);
        }
        if is_link_local(dst) || self.discovery.prefixes.on_link(dst) {
            return Some(*dst);
        }
        self.choose_router(dst, false)
    }

    /// The router that traffic with no more-specific route goes to now:
    /// the best default router by preference and reachability ([RFC 4191]
    /// §3.2), or `None` without one. For mirroring into another IP stack's
    /// route table; [`Stack::send`] chooses per destination by itself.
    ///
    /// [RFC 4191]: https://www.rfc-editor.org/rfc/rfc4191
    pub fn default_router(&self) -> Option<Ipv6Addr> {
        self.select(&Ipv6Addr::UNSPECIFIED, None)
    }

    fn choose_router(&mut self, dst: &Ipv6Addr, advance: bool) -> Option<Ipv6Addr> {
        let mut rotation = self.router_rotation;
        let pick = self.select(dst, advance.then_some(&mut rotation));
        self.router_rotation = rotation;
        pick
    }

    fn select(&self, dst: &Ipv6Addr, rotation: Option<&mut usize>) -> Option<Ipv6Addr> {
        let neighbors = &self.neighbors;
        let routers = &self.discovery.routers;
        let suspect = |r: &Ipv6Addr| routers.is_suspect(r);
        let on_probation = |r: &Ipv6Addr| routers.iter().any(|x| x.addr == *r && !x.proven);
        let reach = |r: &Ipv6Addr| match neighbors.lookup(r) {
            // RFC 4861 §6.3.6: any state but INCOMPLETE is (probably)
            // reachable; INCOMPLETE is suspect.
            Some(e) if e.state() != NeighborState::Incomplete => Reach::Yes,
            Some(_) => Reach::Suspect,
            // No entry: suspect if NUD lost it, else assumed reachable
            // (RFC 4191 §3.2).
            None if suspect(r) => Reach::Suspect,
            None => Reach::Unknown,
        };
        // RFC 6583 §6: a router still on probation (its admission probe
        // unanswered, RFC 4191 §3.5) comes after every usable proven
        // router, whatever preference it claims.
        let reach = |r: &Ipv6Addr| match reach(r) {
            Reach::Yes | Reach::Unknown if on_probation(r) => Reach::Probation,
            x => x,
        };
        crate::router::select_router(
            &self.discovery.routers,
            &self.discovery.routes,
            dst,
            reach,
            rotation,
        )
    }

    /// Look up or create the entry for on-link `neighbor`.
    fn resolve(&mut self, neighbor: Ipv6Addr) -> Result<(usize, NextHop), RouteError> {
        let now = self.clock.now;
        if let Some(i) = self.neighbors.find(&neighbor) {
            let Some(e) = self.neighbors.sent_to(i, now) else {
                return Err(RouteError::TableFull);
            };
            if e.state() == NeighborState::Incomplete {
                return Ok((i, NextHop::Resolving { neighbor }));
            }
            return Ok((
                i,
                NextHop::Resolved {
                    neighbor,
                    mac: e.mac(),
                },
            ));
        }
        let max_incomplete = self.config.max_incomplete.unwrap_or(NEIGHBORS / 2).max(1);
        if self.neighbors.incomplete() >= max_incomplete {
            return Err(RouteError::TooManyUnresolved);
        }
        match self.admit(Entry::incomplete(neighbor, now), Admit::Resolve) {
            Some(i) => Ok((i, NextHop::Resolving { neighbor })),
            None => Err(RouteError::TableFull),
        }
    }

    /// Send an IPv6 packet: find its next hop and either say which MAC to
    /// frame it to, or keep a copy until the next hop is resolved
    /// ([RFC 4861 §7.2.2]). Every refusal is counted in [`Stats`](crate::Stats).
    ///
    /// [RFC 4861 §7.2.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.2
    #[must_use = "on `Dispatch::Transmit` the caller sends the packet itself"]
    #[inline(never)]
    pub fn send(&mut self, now: Instant, packet: &[u8]) -> Result<Dispatch, SendError> {
        self.advance(now);
        let Ok((header, _)) = Ipv6Header::parse(packet) else {
            bump(&mut self.stats.send_malformed);
            return Err(SendError::Malformed);
        };
        if cfg!(feature = "optimistic-dad")
            && !self.disabled
            && let Some(mac) = self.optimistic_detour(&header)
        {
            return Ok(Dispatch::Transmit(mac));
        }
        let hop = match self.route(now, header.dst) {
            Ok(NextHop::Multicast(mac)) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolved { mac, .. }) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolving { neighbor }) => neighbor,
            // Counted by `route`.
            Err(e) => return Err(SendError::Route(e)),
        };
        let Some(owner) = self
            .neighbors
            .find(&hop)
            .and_then(|i| u16::try_from(i).ok())
        else {
            bump(&mut self.stats.queue_no_space);
            return Err(SendError::QueueFull);
        };
        match self
            .queue
            .push(owner, packet, self.config.queue_per_neighbor)
        {
            Ok(replaced) => {
                if replaced {
                    bump(&mut self.stats.queue_overflow);
                }
                Ok(Dispatch::Queued)
            }
            Err(Refused::TooBig) => {
                bump(&mut self.stats.queue_no_space);
                Err(SendError::TooBig)
            }
            Err(Refused::NoSpace) => {
                bump(&mut self.stats.queue_no_space);
                Err(SendError::QueueFull)
            }
        }
    }

    /// RFC 4429 §3.2: a packet from an optimistic address to a neighbor
    /// whose link-layer address is unknown must not start address
    /// resolution; it goes to a default router whose link-layer address is
    /// known, "in the hope that the packet will be redirected". `None`
    /// when no detour is needed (or none exists: then the packet waits,
    /// and its resolution waits for the address's DAD, see `solicit`).
    fn optimistic_detour(&mut self, h: &Ipv6Header) -> Option<MacAddr> {
        if h.dst.is_multicast() {
            return None;
        }
        let (_, src) = self.local.addrs.find(&h.src)?;
        if src.state != AddrState::Optimistic {
            return None;
        }
        let hop = self.peek_next_hop(&h.dst)?;
        let neighbors = &self.neighbors;
        let resolved = |a: &Ipv6Addr| {
            neighbors
                .lookup(a)
                .is_some_and(|e| e.state() != NeighborState::Incomplete)
        };
        if resolved(&hop) {
            return None;
        }
        let router = self
            .discovery
            .routers
            .iter()
            .map(|r| r.addr)
            .find(|r| resolved(r))?;
        let now = self.clock.now;
        let mut e = self.neighbors.lookup_mut(&router)?;
        e.on_send(now);
        Some(e.mac())
    }

    /// Upper-layer reachability confirmation ([RFC 4861 §7.3.1]): the caller
    /// saw forward progress with `neighbor` (a TCP ACK for new data, say).
    ///
    /// [RFC 4861 §7.3.1]: https://www.rfc-editor.org/rfc/rfc4861#section-7.3.1
    pub fn confirm_reachable(&mut self, now: Instant, neighbor: &Ipv6Addr) {
        self.advance(now);
        let reachable = self.reachable.get(self.clock.now, &mut self.rng);
        let now = self.clock.now;
        let reached = self.neighbors.lookup_mut(neighbor).is_some_and(|mut e| {
            e.on_confirm(now, reachable);
            e.state() == NeighborState::Reachable
        });
        if reached {
            self.router_reached(neighbor);
        }
    }
}

#[cfg(test)]
mod error_tests {
    use core::error::Error as _;
    use std::string::{String, ToString};

    use super::{RouteError, SendError};

    #[test]
    fn route_error_display() {
        assert_eq!(
            RouteError::NoRoute.to_string(),
            "no route to the destination"
        );
        assert_eq!(
            RouteError::TooManyUnresolved.to_string(),
            "too many neighbors being resolved"
        );
        assert!(RouteError::TableFull.source().is_none());
    }

    #[test]
    fn send_error_display_and_source() {
        assert_eq!(SendError::QueueFull.to_string(), "packet queue full");
        assert!(SendError::TooBig.source().is_none());
        let e = SendError::Route(RouteError::Disabled);
        assert_eq!(e.to_string(), "no next hop for the packet");
        let source: Option<String> = e.source().map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("IPv6 is disabled on the interface"));
    }
}
