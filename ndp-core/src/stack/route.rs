//! Output path: next hop, address resolution and queueing.

use super::*;

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// The next hop for `dst` (RFC 4861 §5.2) and its link-layer address,
    /// starting address resolution when it is unknown. Sending to the
    /// result counts as use for NUD (a STALE neighbor moves to DELAY), so
    /// call this only for a packet that is actually sent.
    ///
    /// Link-local destinations are on-link; routers and on-link prefixes
    /// come with router discovery, until then anything else is
    /// [`RouteError::NoRoute`].
    pub fn route(&mut self, now: Instant, dst: Ipv6Addr) -> Result<NextHop, RouteError> {
        self.advance(now);
        if let Some(group) = MulticastAddr::new(dst) {
            return Ok(NextHop::Multicast(group.mac()));
        }
        if !is_link_local(&dst) {
            return Err(RouteError::NoRoute);
        }
        self.resolve(dst).map(|(_, hop)| hop)
    }

    /// Look up or create the entry for on-link `neighbor`.
    fn resolve(&mut self, neighbor: Ipv6Addr) -> Result<(usize, NextHop), RouteError> {
        let now = self.now;
        if let Some(i) = self.neighbors.find(&neighbor) {
            let Some(e) = self.neighbors.get_mut(i) else {
                return Err(RouteError::TableFull);
            };
            e.on_send(now);
            if e.state == NeighborState::Incomplete {
                return Ok((i, NextHop::Resolving { neighbor }));
            }
            return Ok((
                i,
                NextHop::Resolved {
                    neighbor,
                    mac: e.mac,
                },
            ));
        }
        let max_incomplete = self.config.max_incomplete.unwrap_or(NEIGHBORS / 2).max(1);
        if self.neighbors.incomplete() >= max_incomplete {
            return Err(RouteError::TooManyUnresolved);
        }
        let queue = &self.queue;
        let busy = |i: usize| u16::try_from(i).is_ok_and(|i| queue.count(Owner::Neighbor(i)) > 0);
        match self
            .neighbors
            .insert(Entry::incomplete(neighbor, now), Admit::Resolve, busy)
        {
            Some((i, evicted)) => {
                if evicted {
                    bump(&mut self.stats.nc_evicted);
                }
                Ok((i, NextHop::Resolving { neighbor }))
            }
            None => Err(RouteError::TableFull),
        }
    }

    /// Send an IPv6 packet: find its next hop and either say which MAC to
    /// frame it to, or keep a copy until the next hop is resolved
    /// (RFC 4861 §7.2.2). Every refusal is counted in [`Stats`].
    pub fn send(&mut self, now: Instant, packet: &[u8]) -> Result<Dispatch, SendError> {
        self.advance(now);
        let Ok((header, _)) = Ipv6Header::parse(packet) else {
            bump(&mut self.stats.send_malformed);
            return Err(SendError::Malformed);
        };
        let hop = match self.route(now, header.dst) {
            Ok(NextHop::Multicast(mac)) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolved { mac, .. }) => return Ok(Dispatch::Transmit(mac)),
            Ok(NextHop::Resolving { neighbor }) => neighbor,
            Err(e) => {
                bump(match e {
                    RouteError::NoRoute => &mut self.stats.send_no_route,
                    RouteError::TableFull => &mut self.stats.nc_create_refused,
                    RouteError::TooManyUnresolved => &mut self.stats.resolution_refused,
                });
                return Err(SendError::Route(e));
            }
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

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1): the caller
    /// saw forward progress with `neighbor` (a TCP ACK for new data, say).
    pub fn confirm_reachable(&mut self, now: Instant, neighbor: &Ipv6Addr) {
        self.advance(now);
        let reachable = self.reachable.get(self.now, &mut self.rng);
        let now = self.now;
        if let Some(e) = self
            .neighbors
            .find(neighbor)
            .and_then(|i| self.neighbors.get_mut(i))
        {
            e.on_confirm(now, reachable);
        }
    }
}
