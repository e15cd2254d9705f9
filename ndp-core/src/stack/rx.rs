//! Receive path: what each received message does.

use core::net::Ipv6Addr;

use super::discovery::route_gone;
use super::{Answer, Event, RxMeta, Stack};
use crate::addr::AddrState;
use crate::neighbor::{
    Admit, Entry, NeighborState, RA_REACHABLE_TIME_RANGE, RA_RETRANS_TIMER_RANGE,
};
use crate::router::{Newcomer, Route, Update};
use crate::stats::{bump, bump_hot};
use crate::time::{Duration, Instant};
use crate::wire;
#[cfg(feature = "redirect")]
use crate::wire::Redirect;
use crate::wire::{
    IpMeta, MacAddr, Message, MessageType, MulticastAddr, NdOption, NeighborAdvert,
    NeighborSolicit, Options, RouterAdvert, RxError, is_link_local, kind,
};

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Hand the engine a received ICMPv6 message (`icmp`, from its type
    /// field on) with its IPv6 header fields.
    ///
    /// Returns `true` when the message was Neighbor Discovery or MLD and so
    /// belongs to the engine, whatever it did with it (malformed and
    /// invalid messages are counted in [`Stats`](crate::Stats), never a panic), and
    /// `false` for anything else (echo, errors), which the caller passes to
    /// its IP stack.
    ///
    /// The engine on its own, without smoltcp: a router's advertisement
    /// (built here with the [`wire`](crate::wire) codec) goes in; the
    /// router, packets to send and events come out.
    ///
    /// ```
    /// use core::net::Ipv6Addr;
    /// use ndp_core::wire::{MacAddr, Message, NdOption, Options, Preference, RouterAdvert};
    /// use ndp_core::{Config, Delivery, Event, RxMeta, Stack, time::Instant};
    ///
    /// let config = Config::eui64(MacAddr([2, 0, 0x5e, 0, 0x53, 1]), 7); // MAC, PRNG seed
    /// let mut stack = Stack::new(config, Instant::ZERO);
    /// let router: Ipv6Addr = "fe80::1".parse().unwrap();
    /// let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
    /// let slla = [NdOption::SourceLinkAddr(MacAddr([2, 0, 0x5e, 0, 0x53, 0xfe]))];
    /// let ra = Message::RouterAdvert(RouterAdvert {
    ///     cur_hop_limit: 64,
    ///     managed: false,
    ///     other_config: false,
    ///     preference: Preference::Medium,
    ///     router_lifetime: 1800,
    ///     reachable_time: 0,
    ///     retrans_timer: 0,
    ///     options: Options::from_list(&slla),
    /// });
    /// let mut icmp = [0u8; 64];
    /// let n = ra.emit(&router, &all_nodes, &mut icmp).unwrap();
    ///
    /// let now = Instant::from_millis(100);
    /// let meta = RxMeta { src: router, dst: all_nodes, hop_limit: 255, src_mac: None };
    /// assert!(stack.receive(now, &meta, &icmp[..n])); // Neighbor Discovery: the engine's
    /// assert!(stack.routers().any(|r| r.addr == router));
    ///
    /// // MLD report, DAD probe, Router Solicitation, ...: IPv6 packets to frame.
    /// let mut buf = [0u8; 1500];
    /// let mut sent = 0;
    /// while let Some(tx) = stack.poll_transmit(now, &mut buf) {
    ///     assert!(matches!(tx.delivery, Delivery::Link(_)));
    ///     sent += 1;
    /// }
    /// assert!(sent > 0);
    /// let mut events = core::iter::from_fn(|| stack.poll_event());
    /// assert!(events.any(|e| matches!(e, Event::Router { addr, .. } if addr == router)));
    /// ```
    #[inline(never)]
    pub fn receive(&mut self, now: Instant, meta: &RxMeta, icmp: &[u8]) -> bool {
        self.advance(now);
        let ty = icmp.first().and_then(|t| MessageType::from_u8(*t));
        if !ty.is_some_and(|t| t.is_ndp() || t.is_mld()) {
            return false;
        }
        // RFC 4862 §5.4.5: a disabled interface drops everything (but
        // what its link-local address's DAD needs, below).
        let neighbor_msg = ty.is_some_and(|t| {
            matches!(
                t,
                MessageType::NeighborSolicit | MessageType::NeighborAdvert
            )
        });
        if self.disabled && !neighbor_msg {
            bump(&mut self.stats.rx_disabled);
            return true;
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
        // RFC 3810 §5.1.15: a Multicast-Address-Specific Query goes to
        // the group itself, the application's groups included.
        // A proxy looks at every solicitation first: most of those it sees
        // are for groups and addresses not ours.
        if !self.proxy_may_answer(meta, &msg)
            && !self.local.addrs.accepts(&meta.dst)
            && !self.app.groups.iter().any(|g| g.get() == meta.dst)
        {
            bump(&mut self.stats.rx_not_for_us);
            return true;
        }
        // Disabled: only a DAD probe or an advertisement for the
        // link-local address, whose DAD goes on.
        if self.disabled {
            let target = match &msg {
                Message::NeighborSolicit(ns) if meta.src.is_unspecified() => Some(ns.target),
                Message::NeighborAdvert(na) => Some(na.target),
                _ => None,
            };
            if !target.is_some_and(|t| is_link_local(&t) && self.local.addrs.find(&t).is_some()) {
                bump(&mut self.stats.rx_disabled);
                return true;
            }
        }
        match msg {
            // RFC 4861 §6.1.1: hosts silently discard Router Solicitations.
            Message::RouterSolicit(_) => bump(&mut self.stats.rx_rs_ignored),
            Message::RouterAdvert(ra) => self.on_router_advert(meta, &ra),
            #[cfg(feature = "redirect")]
            Message::Redirect(r) => self.on_redirect(meta, &r),
            // Built without the feature, the engine follows no Redirect:
            // they only shorten the first hop, and the router still
            // forwards (as Linux with accept_redirects off).
            #[cfg(not(feature = "redirect"))]
            Message::Redirect(_) => bump(&mut self.stats.rx_redirect_ignored),
            Message::MldQuery(q) => {
                bump(&mut self.stats.rx_mld_query);
                self.local.mld.on_query(&q, self.clock.now, &mut self.rng);
            }
            // RFC 3810 §6: listeners ignore other listeners' reports.
            Message::MldV2Report(_) | Message::MldV1Report(_) | Message::MldV1Done(_) => {
                bump(&mut self.stats.rx_mld_ignored)
            }
            Message::NeighborSolicit(ns) => self.on_neighbor_solicit(meta, &ns),
            Message::NeighborAdvert(na) => self.on_neighbor_advert(&na),
            Message::DestUnreachable(_) => {}
        }
        true
    }

    /// The well-formed link-layer address option of `kind`; `Err` when
    /// one is present but malformed (such a message is dropped, as Linux
    /// does: its sender cannot be reached at that address).
    fn link_addr(&mut self, options: &Options<'_>, kind: u8) -> Result<Option<MacAddr>, ()> {
        let mut found = None;
        for (_, body) in options.raw().filter(|(k, _)| *k == kind) {
            match wire::parse_link_addr(body) {
                Ok(m) => found = found.or(Some(m)),
                Err(e) => {
                    self.stats.malformed(e);
                    return Err(());
                }
            }
        }
        // A group address (I/G bit set) is nobody's own: unicasts to it
        // would be flooded to every port (RFC 2464 §7 maps only multicast
        // IPv6 to group MACs). Dropped like a malformed option, as smoltcp
        // does (found by the stack_ops fuzz target).
        if found.is_some_and(|m| !m.is_unicast()) {
            bump(&mut self.stats.rx_lladdr_not_unicast);
            return Err(());
        }
        Ok(found)
    }

    /// Router Advertisement (RFC 4861 §6.3.4, RFC 4191 §3.1, RFC 8106).
    fn on_router_advert(&mut self, meta: &RxMeta, ra: &RouterAdvert<'_>) {
        let Ok(slla) = self.link_addr(&ra.options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        let now = self.clock.now;
        let src = meta.src;
        // RFC 6583 §6: a router not yet in the list is a newcomer, and
        // newcomers enter at a bounded rate. Beyond it the whole
        // advertisement is ignored: a flood of forged routers then costs
        // neither table entries nor parameter changes nor probes.
        if ra.router_lifetime != 0
            && !self.discovery.routers.contains(&src)
            && !self.discovery.admit(Newcomer::Router, &mut cx!(self))
        {
            bump(&mut self.stats.rx_ra_rate_limited);
            return;
        }
        bump(&mut self.stats.rx_ra);
        // Neighbor cache: record the address, create the entry if needed
        // (STALE), set IsRouter; without SLLA an existing entry still
        // becomes a router.
        match slla {
            Some(mac) => self.learn(src, mac, true, Admit::Router),
            None => {
                if let Some(mut e) = self.neighbors.lookup_mut(&src) {
                    e.mark_router();
                }
            }
        }
        // Default router list (lifetime, preference; reserved = medium).
        let update = self
            .discovery
            .routers
            .update(src, ra.router_lifetime, ra.preference, now);
        self.router_update(src, ra.router_lifetime, update);
        // RFC 7559 §2.1: an advertisement with a non-zero router lifetime
        // ends the solicitations.
        if ra.router_lifetime != 0 {
            self.discovery.rs.router_found();
        }
        // Unspecified (zero) values leave our variables alone.
        self.discovery.on_params(
            &mut cx!(self),
            ra.cur_hop_limit,
            (ra.managed, ra.other_config),
        );
        // Each clamped to a documented range, so a rogue router cannot
        // make NUD, resolution or DAD absurdly fast or slow (RFC 6583 §4;
        // the ranges' reasons are on the constants).
        if ra.reachable_time != 0 {
            let base = self.clamp_ra_value(ra.reachable_time, RA_REACHABLE_TIME_RANGE);
            self.reachable.set_base(base, now, &mut self.rng);
        }
        if ra.retrans_timer != 0 {
            self.retrans_timer = self.clamp_ra_value(ra.retrans_timer, RA_RETRANS_TIMER_RANGE);
        }
        #[cfg_attr(not(feature = "dns"), allow(unused_mut))]
        let mut dns_changed = false;
        for (k, body) in ra.options.raw() {
            // Only the kinds acted on here are parsed (and so linked);
            // the link-layer address was read above, and the rest are
            // skipped (unrecognized ones as RFC 4861 §4.6 requires).
            let opt = match k {
                kind::PREFIX_INFO => wire::parse_prefix_info(body).map(NdOption::PrefixInfo),
                kind::MTU => wire::parse_mtu(body).map(NdOption::Mtu),
                #[cfg(feature = "route-info")]
                kind::ROUTE_INFO => wire::parse_route_info(body).map(NdOption::RouteInfo),
                #[cfg(feature = "dns")]
                kind::RDNSS => wire::parse_rdnss(body).map(NdOption::Rdnss),
                #[cfg(feature = "dns")]
                kind::DNSSL => wire::parse_dnssl(body).map(NdOption::Dnssl),
                _ => continue,
            };
            match opt {
                Ok(NdOption::PrefixInfo(p)) => {
                    // On-link and address configuration are separate
                    // functions of the same option (RFC 4861 §6.3.4 note).
                    if p.on_link && self.discovery.on_link_prefix(&mut cx!(self), &p) {
                        self.dests.flush_computed();
                    }
                    if p.autonomous {
                        self.slaac(&p, slla.is_some() || self.router_link_addr_known());
                    }
                }
                Ok(NdOption::Mtu(mtu)) => {
                    let max = self.config.link_mtu;
                    self.discovery.on_mtu(&mut cx!(self), mtu, max);
                }
                #[cfg(feature = "route-info")]
                Ok(NdOption::RouteInfo(r)) => {
                    // RFC 4191 §3.3: redo next-hop determination.
                    if self.discovery.on_route_info(&mut cx!(self), src, &r) {
                        self.dests.flush_computed();
                    }
                }
                #[cfg(feature = "dns")]
                Ok(NdOption::Rdnss(r)) => {
                    dns_changed |= self.discovery.on_rdnss(&mut cx!(self), &r)
                }
                #[cfg(feature = "dns")]
                Ok(NdOption::Dnssl(d)) => {
                    dns_changed |= self.discovery.on_dnssl(&mut cx!(self), &d)
                }
                Ok(_) => {}
                Err(_) => bump(&mut self.stats.ra_option_malformed),
            }
        }
        if dns_changed {
            self.event(Event::Dns);
        }
    }

    /// Report a router list change and keep the destination cache in step
    /// (RFC 4861 §6.3.5, RFC 4191 §3.3).
    pub(super) fn router_update(&mut self, addr: Ipv6Addr, lifetime_s: u16, update: Update) {
        match update {
            Update::Added { evicted } => {
                if let Some(old) = evicted {
                    bump(&mut self.stats.ra_router_evicted);
                    self.router_gone(old);
                }
            }
            Update::Removed => {
                self.router_gone(addr);
                return;
            }
            Update::Refused => {
                bump(&mut self.stats.ra_router_refused);
                self.discovery.refuse(Newcomer::Router, &mut cx!(self));
            }
            Update::Changed | Update::Refreshed | Update::Ignored => {}
        }
        if let Update::Added { .. } = update {
            self.probe_router(addr);
        }
        if update.changes_routing() {
            self.dests.flush_computed();
            let preference = self
                .discovery
                .routers
                .iter()
                .find(|r| r.addr == addr)
                .map(|r| r.preference);
            if let Some(preference) = preference {
                self.event(Event::Router {
                    addr,
                    lifetime_s,
                    preference,
                });
            }
        }
    }

    /// A router left the default router list: traffic through it chooses
    /// again (RFC 4861 §6.3.5).
    pub(super) fn router_gone(&mut self, addr: Ipv6Addr) {
        self.dests.forget_next_hop(&addr);
        self.dests.flush_computed();
        let solicit = self.config.router_solicitations;
        let mut cx = cx!(self);
        self.discovery.router_gone(addr, &mut cx, solicit);
    }

    /// A more-specific route left the table: report it and choose next
    /// hops again (RFC 4191 §3.3).
    pub(super) fn route_gone(&mut self, r: Route) {
        self.dests.flush_computed();
        route_gone(r, &mut cx!(self));
    }

    /// A router entered the list on probation: confirm at once that it
    /// exists (RFC 4191 §3.5 allows probing a router with a Neighbor
    /// Solicitation). A real router answers within a round trip and is
    /// proven; a forged one never answers and is dropped when NUD gives
    /// up (RFC 6583 §6). A router that left out its link-layer address
    /// (RFC 4861 §4.2 allows it) is not probed: it is resolved, within the
    /// cap on unresolved entries, once traffic goes its way, and stays on
    /// probation until then.
    fn probe_router(&mut self, addr: Ipv6Addr) {
        let now = self.clock.now;
        if let Some(mut e) = self.neighbors.lookup_mut(&addr) {
            e.probe_now(now);
        }
    }

    /// Redirect (RFC 4861 §8.1, §8.3).
    #[cfg(feature = "redirect")]
    fn on_redirect(&mut self, meta: &RxMeta, r: &Redirect<'_>) {
        let Ok(tlla) = self.link_addr(&r.options, kind::TARGET_LINK_ADDR) else {
            return;
        };
        bump(&mut self.stats.rx_redirect);
        // RFC 4861 §8.1: only the current first-hop router for the
        // destination may redirect it.
        if self.peek_next_hop(&r.destination) != Some(meta.src) {
            bump(&mut self.stats.rx_redirect_not_first_hop);
            return;
        }
        // §8.3: a target other than the destination is a router; one equal
        // to it is the destination itself, on-link.
        let to_router = r.target != r.destination;
        match tlla {
            Some(mac) => self.learn(r.target, mac, to_router, Admit::Resolve),
            None if to_router => {
                if let Some(mut e) = self.neighbors.lookup_mut(&r.target) {
                    e.mark_router();
                }
            }
            None => {}
        }
        self.dests
            .insert(r.destination, r.target, true, self.clock.now);
    }

    /// Record `mac` for `addr` from an NS, RA or Redirect (RFC 4861 §7.2.3,
    /// §6.3.4, §8.3), creating a STALE entry if there is none.
    #[inline]
    fn learn(&mut self, addr: Ipv6Addr, mac: MacAddr, router: bool, admit: Admit) {
        let now = self.clock.now;
        if let Some(mut e) = self.neighbors.lookup_mut(&addr) {
            e.on_link_addr(mac);
            if router {
                e.mark_router();
            }
            return;
        }
        self.admit(Entry::stale(addr, mac, router, now), admit);
    }

    /// Neighbor Solicitation (RFC 4861 §7.2.3, §7.2.4).
    fn on_neighbor_solicit(&mut self, meta: &RxMeta, ns: &NeighborSolicit<'_>) {
        let Ok(slla) = self.link_addr(&ns.options, kind::SOURCE_LINK_ADDR) else {
            return;
        };
        bump_hot(&mut self.stats.rx_ns);
        // RFC 4861 §7.2.3: only solicitations for our own addresses count
        // (and, as a proxy, for the addresses we answer for).
        let Some((i, a)) = self.local.addrs.find(&ns.target).map(|(i, a)| (i, *a)) else {
            // (Without a prefix the proxy counts it as not for us too.)
            #[cfg(feature = "proxy")]
            self.on_proxied_solicit(meta, ns, slla);
            #[cfg(not(feature = "proxy"))]
            bump(&mut self.stats.rx_ns_not_for_us);
            return;
        };
        let target = ns.target;
        let dad = meta.src.is_unspecified();
        match a.state {
            AddrState::Duplicate => {
                bump(&mut self.stats.rx_ns_not_for_us);
                return;
            }
            AddrState::Tentative | AddrState::Optimistic if dad => {
                // RFC 7527 §4.2: our own probe, looped back: drop it and
                // probe some more (§4.1).
                let ours = ns
                    .options
                    .raw()
                    .find(|(k, _)| *k == kind::NONCE)
                    .is_some_and(|(_, n)| {
                        self.local.addrs.slot(i).is_some_and(|s| s.sent_nonce(n))
                    });
                if ours {
                    bump(&mut self.stats.rx_dad_loopback);
                    if let Some(s) = self.local.addrs.slot_mut(i) {
                        s.extend_dad(self.config.dad_loopback_extensions);
                    }
                    return;
                }
                // RFC 4862 §5.4.3, RFC 4429 §3.3: another node is probing
                // the same address: a duplicate.
                self.dad_conflict(i);
                return;
            }
            // RFC 4862 §5.4.3: address resolution for a tentative target
            // is ignored, and never answered.
            AddrState::Tentative => {
                bump(&mut self.stats.rx_ns_for_tentative);
                return;
            }
            _ if dad => {
                // Someone probes an address we hold (RFC 4862 §5.4.3):
                // defend it with an advertisement to all nodes, S=0, O=1,
                // with our link-layer address (RFC 4861 §7.2.4).
                let all = MulticastAddr::ALL_NODES;
                self.answer(Answer {
                    dst: all.get(),
                    dst_mac: all.mac(),
                    target,
                    solicited: false,
                    override_flag: true,
                    tlla: true,
                    #[cfg(feature = "proxy")]
                    proxied: false,
                });
                return;
            }
            _ => {}
        }
        // RFC 4861 §7.2.3: record the source's link-layer address.
        if let Some(mac) = slla {
            self.learn(meta.src, mac, false, Admit::Unsolicited);
        }
        // RFC 4861 §7.2.4: answer the source with S=1; the target's
        // link-layer address when the solicitation was multicast (it may be
        // left out otherwise, as Linux does), and O=1 only with it and never
        // for an optimistic address (RFC 4429 §3.3). The answer goes to the
        // address the solicitation told us, else the cached one, else the
        // frame's source; sending it does not start NUD, so a flood of
        // solicitations cannot make us probe every spoofed source.
        let multicast = meta.dst.is_multicast();
        let neighbors = &self.neighbors;
        let cached = || neighbors.lookup(&meta.src).and_then(|e| e.view().mac);
        match slla.or_else(cached).or(meta.src_mac) {
            Some(dst_mac) => {
                self.answer(Answer {
                    dst: meta.src,
                    dst_mac,
                    target,
                    solicited: true,
                    override_flag: multicast,
                    tlla: multicast,
                    #[cfg(feature = "proxy")]
                    proxied: false,
                });
            }
            None => bump(&mut self.stats.tx_answer_dropped),
        }
    }

    /// Whether `msg`, sent to a destination that is not ours, is a Neighbor
    /// Solicitation a proxy may answer: sent to its target's
    /// solicited-node group (resolution) or to the target itself (NUD,
    /// RFC 4861 §7.3.3), neither of them ours. [`Self::on_proxied_solicit`]
    /// decides by the target.
    #[cfg(feature = "proxy")]
    fn proxy_may_answer(&self, meta: &RxMeta, msg: &Message<'_>) -> bool {
        self.proxy.is_active()
            && matches!(msg, Message::NeighborSolicit(ns)
                if wire::is_solicited_node(&meta.dst) || meta.dst == ns.target)
    }

    #[cfg(not(feature = "proxy"))]
    #[inline(always)]
    fn proxy_may_answer(&self, _: &RxMeta, _: &Message<'_>) -> bool {
        false
    }

    /// A Neighbor Solicitation for a target that is not ours, with a
    /// proxy configured: answer it if the target is one we proxy (see
    /// [`crate::proxy`] for what is answered, and why).
    #[cfg(feature = "proxy")]
    fn on_proxied_solicit(
        &mut self,
        meta: &RxMeta,
        ns: &NeighborSolicit<'_>,
        slla: Option<MacAddr>,
    ) {
        use crate::proxy::Decision;
        let target = ns.target;
        let decision = self.proxy.decide(&target);
        let stats = &mut self.proxy.stats;
        let counter = match decision {
            // As without a proxy (RFC 4861 §7.2.3).
            Decision::NotCovered => &mut self.stats.rx_ns_not_for_us,
            Decision::Denied => &mut stats.denied,
            // A DAD probe: not answered, or a host of this link could
            // never use an address of the prefix (RFC 4862 §5.4.4).
            Decision::Answer if meta.src.is_unspecified() => &mut stats.dad,
            // The target lives on this link: it answers for itself. (The
            // cache is only looked at when it may hold such an address.)
            Decision::Answer
                if self.proxied_neighbors
                    && self
                        .neighbors
                        .lookup(&target)
                        .is_some_and(|e| e.view().mac.is_some()) =>
            {
                &mut stats.on_link
            }
            Decision::Answer => {
                if !self.proxy_budget.take(self.clock.now) {
                    &mut stats.limited
                } else {
                    // RFC 4861 §7.2.3: the source's link-layer address, as
                    // for a solicitation for an address of our own.
                    if let Some(mac) = slla {
                        self.learn(meta.src, mac, false, Admit::Unsolicited);
                    }
                    let neighbors = &self.neighbors;
                    let cached = || neighbors.lookup(&meta.src).and_then(|e| e.view().mac);
                    match slla.or_else(cached).or(meta.src_mac) {
                        // RFC 4861 §7.2.8: Override clear, so that the
                        // target's own answer wins; §7.2.4: Solicited, to
                        // the source, with our link-layer address.
                        // (Counted as answered once written: see
                        // `write_proxy_answer`.)
                        Some(dst_mac) => {
                            self.answer(Answer {
                                dst: meta.src,
                                dst_mac,
                                target,
                                solicited: true,
                                override_flag: false,
                                tlla: true,
                                proxied: true,
                            });
                            return;
                        }
                        None => &mut self.proxy.stats.no_destination,
                    }
                }
            }
        };
        bump(counter);
    }

    fn answer(&mut self, a: Answer) {
        if self.answers.push(a).is_err() {
            bump(&mut self.stats.tx_answer_dropped);
        }
    }

    /// Neighbor Advertisement (RFC 4861 §7.2.5).
    fn on_neighbor_advert(&mut self, na: &NeighborAdvert<'_>) {
        let Ok(tlla) = self.link_addr(&na.options, kind::TARGET_LINK_ADDR) else {
            return;
        };
        bump_hot(&mut self.stats.rx_na);
        if let Some((i, a)) = self.local.addrs.find(&na.target).map(|(i, a)| (i, *a)) {
            // One of our own advertisements, looped back.
            if tlla == Some(self.config.mac) {
                bump(&mut self.stats.rx_own_advert);
                return;
            }
            match a.state {
                // RFC 4862 §5.4.4: an advertisement for a tentative (or
                // optimistic, RFC 4429 §3.3) address: not unique.
                AddrState::Tentative | AddrState::Optimistic => self.dad_conflict(i),
                // §5.4.4 (2): beyond its scope; counted.
                _ => bump(&mut self.stats.rx_na_for_own_address),
            }
            return;
        }
        // RFC 4861 §7.2.5: no entry, no effect; a host never creates one
        // from an advertisement.
        let Some(i) = self.neighbors.find(&na.target) else {
            bump(&mut self.stats.rx_na_no_entry);
            return;
        };
        let reachable = self.reachable.get(self.clock.now, &mut self.rng);
        let now = self.clock.now;
        let Some(mut e) = self.neighbors.get_mut(i) else {
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
        let reachable_now = e.state() == NeighborState::Reachable;
        drop(e);
        if effect.discarded {
            bump(&mut self.stats.rx_na_incomplete_no_lladdr);
        }
        if reachable_now {
            self.router_reached(&na.target);
        }
        // RFC 4861 §7.2.5: a router that became a host leaves the default
        // router list.
        if effect.router_cleared && self.discovery.routers.remove(&na.target) {
            self.router_gone(na.target);
        }
        // Queued packets of a resolved entry leave on the next poll.
    }
}

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// `ms` from a Router Advertisement, within `range`; a value outside
    /// it is counted (`ra_value_clamped`).
    fn clamp_ra_value(&mut self, ms: u32, (min, max): (Duration, Duration)) -> Duration {
        let d = Duration::from_millis(ms);
        if d < min || d > max {
            bump(&mut self.stats.ra_value_clamped);
        }
        d.max(min).min(max)
    }
}
