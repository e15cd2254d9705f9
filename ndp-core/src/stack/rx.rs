//! Receive path: what each received message does.

use super::*;

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Hand the engine a received ICMPv6 message (`icmp`, from its type
    /// field on) with its IPv6 header fields.
    ///
    /// Returns `true` when the message was Neighbor Discovery or MLD and so
    /// belongs to the engine, whatever it did with it (malformed and
    /// invalid messages are counted in [`Stats`], never a panic), and
    /// `false` for anything else (echo, errors), which the caller passes to
    /// its IP stack.
    pub fn receive(&mut self, now: Instant, meta: &RxMeta, icmp: &[u8]) -> bool {
        self.advance(now);
        let ty = icmp.first().and_then(|t| MessageType::from_u8(*t));
        if !ty.is_some_and(|t| t.is_ndp() || t.is_mld()) {
            return false;
        }
        let ip = IpMeta {
            src: meta.src,
            dst: meta.dst,
            hop_limit: meta.hop_limit,
        };
        let msg = match wire::parse_received(&ip, icmp) {
            Ok(msg) => msg,
            Err(RxError::Malformed(e)) => {
                self.stats.malformed(e);
                return true;
            }
            Err(RxError::Invalid(e)) => {
                self.stats.invalid(e);
                return true;
            }
        };
        if !self.addrs.accepts(&meta.dst) {
            bump(&mut self.stats.rx_not_for_us);
            return true;
        }
        match msg {
            // RFC 4861 §6.1.1: hosts silently discard Router Solicitations.
            Message::RouterSolicit(_) => bump(&mut self.stats.rx_rs_ignored),
            Message::RouterAdvert(ra) => self.on_router_advert(meta, &ra.options),
            Message::NeighborSolicit(ns) => self.on_neighbor_solicit(meta, &ns),
            Message::NeighborAdvert(na) => self.on_neighbor_advert(&na),
            _ => bump(&mut self.stats.rx_unhandled),
        }
        true
    }

    /// The well-formed link-layer address option of `kind`; `Err` when
    /// one is present but malformed (such a message is dropped, as Linux
    /// does: its sender cannot be reached at that address).
    fn link_addr(&mut self, options: &Options<'_>, kind: u8) -> Result<Option<MacAddr>, ()> {
        let mut found = None;
        for o in options.iter() {
            match o {
                Ok(NdOption::SourceLinkAddr(m)) if kind == kind::SOURCE_LINK_ADDR => {
                    found = found.or(Some(m));
                }
                Ok(NdOption::TargetLinkAddr(m)) if kind == kind::TARGET_LINK_ADDR => {
                    found = found.or(Some(m));
                }
                Err(e) if e.kind == kind => {
                    self.stats.malformed(e.error);
                    return Err(());
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// Router Advertisement: its effect on the neighbor cache
    /// (RFC 4861 §6.3.4). Router and prefix processing comes later.
    fn on_router_advert(&mut self, meta: &RxMeta, options: &Options<'_>) {
        let Ok(slla) = self.link_addr(options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_ra);
        match slla {
            // Record the address, create the entry if needed (STALE), and
            // set IsRouter.
            Some(mac) => self.learn(meta.src, mac, true, Admit::Router),
            // Without one, an existing entry still becomes a router.
            None => {
                if let Some(e) = self
                    .neighbors
                    .find(&meta.src)
                    .and_then(|i| self.neighbors.get_mut(i))
                {
                    e.is_router = true;
                }
            }
        }
    }

    /// Record `mac` for `addr` from an NS, RA or Redirect (RFC 4861 §7.2.3,
    /// §6.3.4, §8.3), creating a STALE entry if there is none.
    fn learn(&mut self, addr: Ipv6Addr, mac: MacAddr, router: bool, admit: Admit) {
        let now = self.now;
        if let Some(e) = self
            .neighbors
            .find(&addr)
            .and_then(|i| self.neighbors.get_mut(i))
        {
            e.on_link_addr(mac);
            if router {
                e.is_router = true;
            }
            return;
        }
        let queue = &self.queue;
        let busy = |i: usize| u16::try_from(i).is_ok_and(|i| queue.count(Owner::Neighbor(i)) > 0);
        match self
            .neighbors
            .insert(Entry::stale(addr, mac, router, now), admit, busy)
        {
            Some((_, evicted)) => {
                if evicted {
                    bump(&mut self.stats.nc_evicted);
                }
            }
            None => bump(&mut self.stats.nc_create_refused),
        }
    }

    /// Neighbor Solicitation (RFC 4861 §7.2.3, §7.2.4).
    fn on_neighbor_solicit(&mut self, meta: &RxMeta, ns: &NeighborSolicit<'_>) {
        let Ok(slla) = self.link_addr(&ns.options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_ns);
        // RFC 4861 §7.2.3: only solicitations for our own addresses count.
        if self.addrs.find(&ns.target).is_none() {
            bump(&mut self.stats.rx_ns_not_for_us);
            return;
        }
        let target = ns.target;
        if meta.src.is_unspecified() {
            // Someone is probing an address we hold (RFC 4862 §5.4.3):
            // defend it with an advertisement to all nodes, S=0 (RFC 4861
            // §7.2.4).
            let all = MulticastAddr::ALL_NODES;
            self.answer(Answer {
                dst: all.get(),
                dst_mac: all.mac(),
                target,
                solicited: false,
                override_flag: true,
            });
            return;
        }
        // RFC 4861 §7.2.3: record the source's link-layer address.
        if let Some(mac) = slla {
            self.learn(meta.src, mac, false, Admit::Unsolicited);
        }
        // RFC 4861 §7.2.4: answer the source with S=1. The answer goes to
        // the address it told us, else the cached one, else the frame's
        // source; sending it does not start NUD, so a flood of
        // solicitations cannot make us probe every spoofed source.
        let cached = self
            .neighbors
            .find(&meta.src)
            .and_then(|i| self.neighbors.get(i))
            .and_then(|e| e.view().mac);
        match slla.or(cached).or(meta.src_mac) {
            Some(dst_mac) => {
                self.answer(Answer {
                    dst: meta.src,
                    dst_mac,
                    target,
                    solicited: true,
                    override_flag: true,
                });
            }
            None => bump(&mut self.stats.tx_answer_dropped),
        }
    }

    fn answer(&mut self, a: Answer) {
        if self.answers.push_back(a).is_err() {
            bump(&mut self.stats.tx_answer_dropped);
        }
    }

    /// Neighbor Advertisement (RFC 4861 §7.2.5).
    fn on_neighbor_advert(&mut self, na: &NeighborAdvert<'_>) {
        let Ok(tlla) = self.link_addr(&na.options, kind::TARGET_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_na);
        if self.addrs.find(&na.target).is_some() {
            bump(&mut self.stats.rx_na_for_own_address);
            return;
        }
        // RFC 4861 §7.2.5: no entry, no effect; a host never creates one
        // from an advertisement.
        let Some(i) = self.neighbors.find(&na.target) else {
            bump(&mut self.stats.rx_na_no_entry);
            return;
        };
        let reachable = self.reachable.get(self.now, &mut self.rng);
        let now = self.now;
        let Some(e) = self.neighbors.get_mut(i) else {
            return;
        };
        let effect = e.on_na(
            na.solicited_flag,
            na.override_flag,
            na.router_flag,
            tlla,
            now,
            reachable,
        );
        if effect.discarded {
            bump(&mut self.stats.rx_na_incomplete_no_lladdr);
        }
        // Queued packets of a resolved entry leave on the next poll.
    }
}
