//! Transmit path: answers, released packets, errors and timers.

use core::net::Ipv6Addr;

use super::discovery::Expired;
use super::{Answer, Delivery, Event, LOCAL_ERROR_HOP_LIMIT, Stack, Transmit, TransmitKind};
use crate::addr::AddrState;
use crate::neighbor::queue::Owner;
use crate::neighbor::{Due, NeighborState};
use crate::stats::{Stats, bump, bump_hot};
use crate::time::Instant;
use crate::wire;
use crate::wire::icmpv6::NEXT_HEADER_ICMPV6;
use crate::wire::ipv6::Ipv6Header;
use crate::wire::validate::ND_HOP_LIMIT;
use crate::wire::{
    DestUnreachable, MacAddr, Message, MulticastAddr, NdOption, NeighborSolicit, Options,
    RouterSolicit, UnicastAddr, UnreachableCode, is_link_local,
};

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Run the timers due at `now` that change state without sending
    /// anything, each to completion: address lifetimes and the end of DAD,
    /// neighbors given up ([RFC 4861 §7.2.2], §7.3.3; their queued packets
    /// turn into Destination Unreachables to send), neighbor entries going
    /// STALE, router, prefix, route and DNS lifetimes, and the summary of
    /// refused newcomers. What they changed is then in
    /// [`Stack::poll_event`]. Messages whose time has come (probes,
    /// solicitations, reports, announcements) stay due for
    /// [`Stack::poll_transmit`].
    ///
    /// `poll_transmit` runs these timers too (with those that send), so a
    /// loop that calls it needs nothing else; this is for a caller that
    /// wants the engine's state current without a buffer to send from (a
    /// wake-up with the network device busy, or an application reading
    /// addresses on a timer).
    ///
    /// ```
    /// use ndp_core::{Config, Stack, time::Instant, wire::MacAddr};
    /// let mut s = Stack::new(Config::eui64(MacAddr([2, 0, 0, 0, 0, 1]), 7), Instant::ZERO);
    /// // The first message due: the link-local address's MLD report.
    /// let at = s.poll_at().unwrap();
    /// s.handle_timeout(at);
    /// // Still due, and written by poll_transmit.
    /// assert_eq!(s.poll_at(), Some(at));
    /// let mut buf = [0u8; 1500];
    /// assert!(s.poll_transmit(at, &mut buf).is_some());
    /// ```
    ///
    /// [RFC 4861 §7.2.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.2
    #[inline(never)]
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        let _ = self.pump(None);
    }

    /// Write the next packet to send into `buf` and say where it goes;
    /// `None` when there is nothing to send now. Call it until it returns
    /// `None` after every `receive`, `send` and wake-up. It writes, in
    /// this order: answers to solicitations, packets released by address
    /// resolution, Destination Unreachables, and the messages of the
    /// timers that are due; it runs the other due timers on the way (those
    /// of [`Stack::handle_timeout`]).
    ///
    /// Anything that does not fit `buf` is dropped and counted
    /// (`tx_buffer_too_small`); a 1500-byte buffer always suffices for the
    /// engine's own messages.
    #[must_use = "a returned packet is in `buf` and must be sent or delivered"]
    #[inline(never)]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.advance(now);
        self.pump(Some(buf))
    }

    /// The work of [`Stack::poll_transmit`] into `buf`; without one, that
    /// of [`Stack::handle_timeout`]: the due timers that send nothing, to
    /// completion. One body for both, so neither repeats the other.
    fn pump(&mut self, mut buf: Option<&mut [u8]>) -> Option<Transmit> {
        // RFC 4862 §5.4.5: a disabled interface sends nothing but the
        // DAD probes that may enable it again.
        while self.disabled {
            match self.address_timers(buf.as_deref_mut()) {
                Timers::Sent(tx) => return Some(tx),
                // Enabled again when its DAD passed: on to the rest.
                Timers::Again => {}
                Timers::Idle => return None,
            }
        }
        loop {
            if let Some(buf) = buf.as_deref_mut()
                && let Some(tx) = self.write_queued(buf)
            {
                return Some(tx);
            }
            // The timers of the interface's addresses and groups, then
            // the neighbors' and the routers': each part runs its timers
            // when its earliest is due (`Timed`).
            if self.local.take_due(&self.clock) {
                // MLD before DAD: a group is reported before it is probed
                // (RFC 4862 §5.4.2).
                if let Some(buf) = buf.as_deref_mut()
                    && let Some(tx) = self.poll_mld(buf)
                {
                    return Some(tx);
                }
                match self.address_timers(buf.as_deref_mut()) {
                    Timers::Sent(tx) => return Some(tx),
                    Timers::Again => continue,
                    Timers::Idle => {}
                }
            }
            match self.run_timers(buf.as_deref_mut()) {
                Timers::Sent(tx) => return Some(tx),
                Timers::Again => continue,
                Timers::Idle => return None,
            }
        }
    }

    /// The packets waiting to be written, oldest kind first: answers,
    /// released packets, then Destination Unreachables.
    #[inline(always)]
    fn write_queued(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        while !self.answers.is_empty() {
            let a = self.answers.remove(0);
            let w = self.write_answer(&a, buf);
            // A proxy's answer needs our link-local address as its source
            // (RFC 4861 §7.2.4): none yet (DAD runs), not answered.
            #[cfg(feature = "proxy")]
            if a.proxied {
                let s = &mut self.proxy.stats;
                bump(if w.is_some() {
                    &mut s.answered
                } else {
                    &mut s.limited
                });
            }
            // None: the address went since the answer was queued.
            if let Some(w) = w
                && let Some(tx) =
                    self.written(w, Delivery::Link(a.dst_mac), TransmitKind::Ndp, |s| {
                        &mut s.tx_na
                    })
            {
                return Some(tx);
            }
        }
        if let Some(tx) = self.pop_released(buf) {
            return Some(tx);
        }
        self.pop_unreachable(buf)
    }

    /// The outcome of writing a packet into the caller's buffer: counted
    /// in `counter` and handed out when written, counted in
    /// `tx_buffer_too_small` and dropped when it did not fit. Every message
    /// the engine writes goes through here (released packets are copies).
    /// Inlined: a shared copy, with `counter` a function pointer, measured
    /// 240 B larger.
    #[inline(always)]
    pub(super) fn written(
        &mut self,
        written: Result<usize, wire::Error>,
        delivery: Delivery,
        kind: TransmitKind,
        counter: impl FnOnce(&mut Stats) -> &mut u32,
    ) -> Option<Transmit> {
        match written {
            Ok(len) => {
                bump_hot(counter(&mut self.stats));
                Some(Transmit {
                    len,
                    delivery,
                    kind,
                })
            }
            Err(_) => {
                bump(&mut self.stats.tx_buffer_too_small);
                None
            }
        }
    }

    fn write_answer(&self, a: &Answer, buf: &mut [u8]) -> Option<Result<usize, wire::Error>> {
        #[cfg(feature = "proxy")]
        if a.proxied {
            return self.write_proxy_answer(a, buf);
        }
        // The address may have gone, or lost DAD, since the answer was
        // queued; an optimistic one never sets O (RFC 4429 §3.3).
        let (_, addr) = self.local.addrs.find(&a.target)?;
        if !addr.can_receive() {
            return None;
        }
        let override_flag = a.override_flag && addr.state != AddrState::Optimistic;
        let target = addr.addr.get();
        let tlla = a.tlla.then_some(self.config.mac);
        let flags = wire::AdvertFlags {
            router: false,
            solicited: a.solicited,
            override_flag,
        };
        Some(write_advert(buf, &target, &a.dst, &target, flags, tlla))
    }

    /// A proxy's answer ([`crate::proxy`]): for a target not ours, from
    /// our preferred link-local address (RFC 4861 §7.2.4), Override
    /// clear (§7.2.8), the Router flag as the proxy is configured.
    #[cfg(feature = "proxy")]
    fn write_proxy_answer(&self, a: &Answer, buf: &mut [u8]) -> Option<Result<usize, wire::Error>> {
        let src = self
            .local
            .addrs
            .link_local()
            .filter(|x| x.state == AddrState::Preferred)?
            .addr
            .get();
        let flags = wire::AdvertFlags {
            router: self.proxy.router(),
            solicited: a.solicited,
            override_flag: false,
        };
        let tlla = Some(self.config.mac);
        Some(write_advert(buf, &src, &a.dst, &a.target, flags, tlla))
    }

    /// A Destination Unreachable (code 3) for the oldest packet whose
    /// resolution failed (RFC 4861 §7.2.2), addressed to its sender.
    fn pop_unreachable(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let (slot, _) = self.queue.find(|o| o == Owner::Failed)?;
            let packet = self.queue.packet(slot);
            let written = Ipv6Header::parse(packet).ok().map(|(h, _)| {
                let err = DestUnreachable::new(UnreachableCode::AddressUnreachable, packet);
                write_icmp(
                    buf,
                    h.src,
                    h.src,
                    LOCAL_ERROR_HOP_LIMIT,
                    &Message::DestUnreachable(err),
                )
            });
            self.queue.remove(slot);
            // None: queued packets were checked on the way in.
            if let Some(w) = written
                && let Some(tx) = self.written(w, Delivery::Local, TransmitKind::Unreachable, |s| {
                    &mut s.tx_unreachable
                })
            {
                return Some(tx);
            }
        }
    }

    /// The oldest queued packet whose neighbor now has a link-layer address.
    fn pop_released(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let neighbors = &self.neighbors;
            let (slot, owner) = self.queue.find(|o| match o {
                Owner::Neighbor(i) => neighbors
                    .get(usize::from(i))
                    .is_none_or(|e| e.state() != NeighborState::Incomplete),
                Owner::Failed => false,
            })?;
            let Owner::Neighbor(i) = owner else {
                return None;
            };
            let now = self.clock.now;
            let Some(mut entry) = self.neighbors.get_mut(usize::from(i)) else {
                // Its entry vanished: cannot happen (entries with queued
                // packets are never evicted), but never lose a packet
                // silently: it gets its Destination Unreachable.
                self.queue.fail(i);
                continue;
            };
            let packet = self.queue.packet(slot);
            let len = packet.len();
            let fits = buf
                .get_mut(..len)
                .map(|out| out.copy_from_slice(packet))
                .is_some();
            self.queue.remove(slot);
            if !fits {
                bump(&mut self.stats.tx_buffer_too_small);
                continue;
            }
            // Sending to a STALE entry starts NUD (RFC 4861 §7.3.3); only a
            // packet that actually leaves counts.
            entry.on_send(now);
            bump_hot(&mut self.stats.tx_released);
            return Some(Transmit {
                len,
                delivery: Delivery::Link(entry.mac()),
                kind: TransmitKind::Released,
            });
        }
    }

    /// Run every due neighbor timer, then those of the router, prefix,
    /// route and DNS tables; with `buf`, send at most one solicitation.
    fn run_timers(&mut self, mut buf: Option<&mut [u8]>) -> Timers {
        let now = self.clock.now;
        if self.neighbors.may_be_due(now) {
            if let Some(t) = self.neighbor_timers(buf.as_deref_mut()) {
                return t;
            }
            self.neighbors.refresh_earliest();
        }
        if !self.discovery.take_due(&self.clock) {
            return Timers::Idle;
        }
        if self.expire_tables() {
            return Timers::Again;
        }
        if let Some(buf) = buf
            && self.discovery.rs.due(now)
        {
            return self.solicit_router(buf);
        }
        Timers::Idle
    }

    /// The first neighbor timer that is due, handled; with `buf`, one that
    /// sends too (see `Entry::expire`).
    fn neighbor_timers(&mut self, mut buf: Option<&mut [u8]>) -> Option<Timers> {
        let now = self.clock.now;
        let sends = buf.is_some();
        for i in 0..NEIGHBORS {
            let Some(mut entry) = self.neighbors.get_mut(i) else {
                continue;
            };
            match entry.expire(now, sends) {
                Due::Nothing => {}
                Due::MulticastNs => {
                    // RFC 6583 §6: a global budget for multicast
                    // solicitations; a postponed one keeps its count.
                    if let Err(next) = self.ns_budget.take(now) {
                        entry.wait_until(next);
                        bump(&mut self.stats.ns_rate_limited);
                        continue;
                    }
                    drop(entry);
                    return buf.as_deref_mut().map(|b| self.solicit(i, true, b));
                }
                Due::UnicastNs => {
                    drop(entry);
                    return buf.as_deref_mut().map(|b| self.solicit(i, false, b));
                }
                Due::ResolutionFailed => {
                    drop(entry);
                    self.neighbor_lost(i, true);
                    return Some(Timers::Again);
                }
                Due::Unreachable => {
                    drop(entry);
                    self.neighbor_lost(i, false);
                    return Some(Timers::Again);
                }
            }
        }
        None
    }

    /// Entry `i` is gone: resolution failed, or NUD found it unreachable
    /// (RFC 4861 §7.2.2, §7.3.3). Its queued packets are answered with
    /// Destination Unreachable, and destinations through it choose their
    /// next hop again; a router among them is suspect until it shows life
    /// (RFC 4191 §3.2).
    fn neighbor_lost(&mut self, i: usize, resolution_failed: bool) {
        let Some(entry) = self.neighbors.remove(i) else {
            return;
        };
        let addr = entry.addr();
        let n = u16::try_from(i).map_or(0, |i| self.queue.fail(i));
        let dropped = u16::try_from(n).unwrap_or(u16::MAX);
        self.stats.queue_unresolved = self
            .stats
            .queue_unresolved
            .saturating_add(u32::from(dropped));
        let failed_probation = self.discovery.routers.lost(&addr) == Some(false);
        self.dests.forget_next_hop(&addr);
        self.dests.flush_computed();
        // RFC 6583 §6: a router that never answered, not even its
        // admission probe (RFC 4191 §3.5), leaves the list with its
        // routes, making room for real ones; it may come back with its
        // next advertisement, as a newcomer.
        if failed_probation && self.discovery.routers.remove(&addr) {
            bump(&mut self.stats.router_probation_failed);
            while let Some(r) = self.discovery.routes.evict(|n| *n == addr) {
                self.route_gone(r);
            }
            self.router_gone(addr);
        }
        if resolution_failed {
            self.event(Event::ResolutionFailed {
                neighbor: addr,
                dropped,
            });
        } else {
            bump(&mut self.stats.nud_unreachable);
            self.event(Event::NeighborUnreachable {
                neighbor: addr,
                was_router: entry.is_router(),
            });
        }
    }

    /// Remove what expired from the router, route, prefix and DNS tables
    /// (`Discovery::expire`), and have destinations choose their next hop
    /// again where it changed them; true if anything was due.
    fn expire_tables(&mut self) -> bool {
        let solicit = self.config.router_solicitations;
        let mut cx = cx!(self);
        let Some(expired) = self.discovery.expire(&mut cx, solicit) else {
            return false;
        };
        match expired {
            Expired::Router(addr) => {
                self.dests.forget_next_hop(&addr);
                self.dests.flush_computed();
            }
            Expired::NextHops => self.dests.flush_computed(),
            Expired::Reported => {}
        }
        true
    }

    /// A Router Solicitation to all routers (RFC 4861 §6.3.7): from our
    /// link-local address with our link-layer address when it may be used
    /// for that (not tentative, not optimistic: RFC 4429 §3.2), otherwise
    /// from `::` without one.
    fn solicit_router(&mut self, buf: &mut [u8]) -> Timers {
        self.discovery.rs.on_sent(self.clock.now, &mut self.rng);
        let all_routers = MulticastAddr::ALL_ROUTERS;
        let src = self
            .local
            .addrs
            .solicit_source(&all_routers.get(), None)
            .filter(is_link_local);
        let slla = [NdOption::SourceLinkAddr(self.config.mac)];
        let options = if src.is_some() {
            Options::from_list(&slla)
        } else {
            Options::EMPTY
        };
        let msg = Message::RouterSolicit(RouterSolicit { options });
        let src = src.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let written = write_icmp(buf, src, all_routers.get(), ND_HOP_LIMIT, &msg);
        self.written(
            written,
            Delivery::Link(all_routers.mac()),
            TransmitKind::Ndp,
            |s| &mut s.tx_rs,
        )
        .map_or(Timers::Again, Timers::Sent)
    }

    /// Send a solicitation for entry `i`: multicast to its solicited-node
    /// group (address resolution, RFC 4861 §7.2.2) or unicast to it (NUD
    /// probe, §7.3.3), with our link-layer address (§4.3).
    fn solicit(&mut self, i: usize, multicast: bool, buf: &mut [u8]) -> Timers {
        let now = self.clock.now;
        let retrans = self.retrans_timer;
        let Some(entry) = self.neighbors.get(i).copied() else {
            return Timers::Again;
        };
        // RFC 4861 §7.2.2: prefer the source of the packet that prompted
        // the solicitation.
        let prompting = u16::try_from(i)
            .ok()
            .and_then(|o| self.queue.find(|x| x == Owner::Neighbor(o)))
            .and_then(|(slot, _)| Ipv6Header::parse(self.queue.packet(slot)).ok())
            .map(|(h, _)| h.src);
        // RFC 4429 §3.2: a packet from an optimistic address must not
        // start address resolution: its resolution waits for the address's
        // DAD ("buffer the packet until DAD is complete").
        if cfg!(feature = "optimistic-dad")
            && let Some((j, a)) = prompting.and_then(|p| self.local.addrs.find(&p))
            && a.state == AddrState::Optimistic
            && let Some(dad) = self.local.addrs.slot(j).and_then(|s| s.dad_deadline())
            && let Some(mut e) = self.neighbors.get_mut(i)
        {
            e.wait_until(dad.later(now));
            return Timers::Again;
        }
        let src = self.local.addrs.solicit_source(&entry.addr(), prompting);
        let target = UnicastAddr::new(entry.addr());
        // No address may solicit while the only ones are optimistic or
        // tentative (RFC 4429 §3.2): the solicitation waits for DAD, and
        // the packets with it (RFC 4429 §3.2: "buffer the packet until DAD
        // is complete").
        if src.is_none()
            && let Some(dad) = self.local.addrs.next_dad_event()
            && let Some(mut e) = self.neighbors.get_mut(i)
        {
            e.wait_until(dad.later(now));
            return Timers::Again;
        }
        if let Some(mut e) = self.neighbors.get_mut(i) {
            e.solicited(now, retrans);
        }
        let (Some(src), Some(target)) = (src, target) else {
            // No address may solicit and none will (or the entry is not
            // unicast): the attempt counts, so resolution still ends.
            bump(&mut self.stats.tx_ns_no_source);
            return Timers::Again;
        };
        let (dst, mac) = if multicast {
            let group = target.solicited_node();
            (group.get(), group.mac())
        } else {
            (entry.addr(), entry.mac())
        };
        let opts = [NdOption::SourceLinkAddr(self.config.mac)];
        let msg = Message::NeighborSolicit(NeighborSolicit {
            target: target.get(),
            options: Options::from_list(&opts),
        });
        let written = write_icmp(buf, src, dst, ND_HOP_LIMIT, &msg);
        self.written(written, Delivery::Link(mac), TransmitKind::Ndp, |s| {
            if multicast {
                &mut s.tx_ns_multicast
            } else {
                &mut s.tx_ns_unicast
            }
        })
        .map_or(Timers::Again, Timers::Sent)
    }

    /// When to call [`Stack::poll_transmit`] next: the earliest timer, or
    /// the latest time given to the engine when something is ready now.
    /// `None` when nothing is scheduled. While a lifetime runs it is at
    /// most [`crate::time::MAX_SLEEP`] (a day) away, however long the
    /// lifetime: the engine's clock wraps, and it keeps count by being
    /// called (see [`crate::time`] for what the caller must do).
    #[must_use = "the deadline is when to call `poll_transmit` next"]
    #[inline(never)]
    pub fn poll_at(&self) -> Option<Instant> {
        if self.disabled {
            return self.local.addrs.next_deadline(&self.clock);
        }
        let ready_now = !self.answers.is_empty()
            || self
                .queue
                .find(|o| match o {
                    Owner::Failed => true,
                    Owner::Neighbor(i) => self
                        .neighbors
                        .get(usize::from(i))
                        .is_none_or(|e| e.state() != NeighborState::Incomplete),
                })
                .is_some();
        if ready_now {
            return Some(self.clock.now);
        }
        let clock = &self.clock;
        [
            self.neighbors.next_deadline(),
            self.local.next_deadline(clock),
            self.discovery.next_deadline(clock),
        ]
        .into_iter()
        .flatten()
        .reduce(Instant::earlier)
    }

    /// The next event, oldest first.
    ///
    /// The queue holds a fixed number of events, and a hostile link must
    /// not push out the ones that matter, so:
    ///
    /// - an event about something an event still queued is about (the
    ///   same address, router, prefix or route; the DNS, MTU, hop limit,
    ///   flags or interface state) replaces that one where it stands: an
    ///   application reads the current state, and gets it;
    /// - [`Event::Refused`] reports add up in one;
    /// - when the queue is full, the oldest event of the least important
    ///   kind makes room: neighbor events first, then prefixes, routes
    ///   and refusals; address, router, interface and link-parameter
    ///   events last. An event less important than everything queued is
    ///   the one dropped. Either way `events_dropped` counts it.
    ///
    /// With the newcomer rate ([`crate::router::NEWCOMER_BURST`]) a flood
    /// of forged advertisements makes a few events, not one per message.
    #[must_use = "a returned event is taken off the queue and lost if ignored"]
    #[inline(never)]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// Report `e` (see [`Stack::poll_event`] for the queue's rules).
    pub(super) fn event(&mut self, e: Event) {
        self.events.push(e, &mut self.stats);
    }
}

/// Outcome of running the timers.
pub(super) enum Timers {
    Sent(Transmit),
    /// State changed (an entry was removed): look for output again.
    Again,
    Idle,
}

/// Write an IPv6 packet carrying `msg` into `buf`; returns its length.
/// A Neighbor Advertisement for `target` from `src` to `dst`, IPv6
/// header included: the commonest message the engine sends (an answer,
/// ours or a proxy's), written in one pass.
#[inline(always)]
fn write_advert(
    buf: &mut [u8],
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    target: &Ipv6Addr,
    flags: wire::AdvertFlags,
    tlla: Option<MacAddr>,
) -> Result<usize, wire::Error> {
    buf.get_mut(Ipv6Header::LEN..)
        .ok_or(wire::Error::BufferTooSmall)
        .and_then(|body| wire::emit_advert(body, src, dst, flags, target, tlla))
        .and_then(|len| {
            let payload_len = u16::try_from(len).map_err(|_| wire::Error::BufferTooSmall)?;
            Ipv6Header {
                src: *src,
                dst: *dst,
                next_header: NEXT_HEADER_ICMPV6,
                hop_limit: ND_HOP_LIMIT,
                payload_len,
            }
            .emit(buf)?;
            Ok(Ipv6Header::LEN.saturating_add(len))
        })
}

pub(super) fn write_icmp(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Message<'_>,
) -> Result<usize, wire::Error> {
    // The message first: emitting it gives its length for the header.
    let body = buf
        .get_mut(Ipv6Header::LEN..)
        .ok_or(wire::Error::BufferTooSmall)?;
    let len = msg.encode(&src, &dst, body)?;
    let payload_len = u16::try_from(len).map_err(|_| wire::Error::BufferTooSmall)?;
    Ipv6Header {
        src,
        dst,
        next_header: NEXT_HEADER_ICMPV6,
        hop_limit,
        payload_len,
    }
    .emit(buf)?;
    Ok(Ipv6Header::LEN.saturating_add(len))
}
