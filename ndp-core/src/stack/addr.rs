//! Address configuration: the link-local address and SLAAC addresses
//! ([RFC 4862]), DAD with nonces ([RFC 7527]), optimistic addresses
//! ([RFC 4429]), [RFC 7217] identifiers and conflict handling, gratuitous
//! advertisements ([RFC 9131]), and the MLD reports for the addresses'
//! solicited-node groups ([RFC 3810]).
//!
//! [RFC 4862]: https://www.rfc-editor.org/rfc/rfc4862
//! [RFC 7527]: https://www.rfc-editor.org/rfc/rfc7527
//! [RFC 4429]: https://www.rfc-editor.org/rfc/rfc4429
//! [RFC 7217]: https://www.rfc-editor.org/rfc/rfc7217
//! [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
//! [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810

use core::net::Ipv6Addr;

use super::tx::{Timers, write_icmp};
use super::{Delivery, DisableReason, Event, Stack, Transmit, TransmitKind};
use crate::addr::iid::{self, IidMode};
use crate::addr::{
    ADDRESSES, AddrDue, AddrState, Address, DAD_BACKOFF_BASE, DAD_BACKOFF_MAX, IDGEN_DELAY,
    IDGEN_RETRIES, Origin, Slot,
};
use crate::mld::MldOut;
use crate::neighbor::NeighborState;
use crate::router::rs::RsSchedule;
use crate::router::{MAX_RTR_SOLICITATION_DELAY, Newcomer};
use crate::stack::app::APP_GROUPS;
use crate::stats::bump;
use crate::time::{Duration, Expiry, Instant};
use crate::wire;
use crate::wire::icmpv6::NEXT_HEADER_ICMPV6;
use crate::wire::ipv6::{
    Ipv6Header, NEXT_HEADER_HOP_BY_HOP, ROUTER_ALERT_HBH_LEN, emit_router_alert_hbh,
};
use crate::wire::validate::{MLD_HOP_LIMIT, ND_HOP_LIMIT};
use crate::wire::{
    Lifetime, MacAddr, Message, MldRecord, MldV1, MldV2Report, MulticastAddr, NdOption,
    NeighborAdvert, NeighborSolicit, Options, PrefixInfo, RecordList, UnicastAddr, is_link_local,
};

/// `fe80::/64` (RFC 4291 §2.5.6).
const LINK_LOCAL_PREFIX: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0);

/// How an address is to be started.
struct Plan {
    prefix: Ipv6Addr,
    /// A static address: this address and prefix length instead of one
    /// formed from `prefix` and an identifier.
    fixed: Option<(UnicastAddr, u8)>,
    origin: Origin,
    counter: u8,
    conflicts: u8,
    preferred_until: Expiry,
    valid_until: Expiry,
    /// May be optimistic (RFC 4429 §3.3).
    optimistic_ok: bool,
    /// A tentative address waits a random delay before joining its group
    /// and probing (RFC 4862 §5.4.2).
    delay: bool,
}

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Form the link-local address (RFC 4862 §5.3): infinite lifetimes,
    /// the same identifier scheme as global addresses (RFC 7217 §5).
    pub(super) fn add_link_local(&mut self, first_message: bool) {
        self.configure(
            Plan {
                prefix: LINK_LOCAL_PREFIX,
                fixed: None,
                origin: Origin::LinkLocal,
                counter: 0,
                conflicts: 0,
                preferred_until: Expiry::NEVER,
                valid_until: Expiry::NEVER,
                optimistic_ok: true,
                delay: first_message,
            },
            None,
        );
    }

    /// Form an address from `plan` and start DAD for it, in slot
    /// `replace` or a new one.
    fn configure(&mut self, plan: Plan, replace: Option<usize>) {
        let now = self.clock.now;
        let mode = self.config.iid_mode;
        let (addr, prefix_len, counter) = if let Some((addr, prefix_len)) = plan.fixed {
            (addr, prefix_len, 0)
        } else {
            let generated = iid::generate(
                mode,
                &self.config.secret,
                &plan.prefix,
                self.config.mac,
                plan.counter,
            );
            let Some((id, counter)) = generated else {
                // The DAD counter ran out: RFC 7217 §6 forbids falling
                // back to another scheme.
                self.event(Event::AddressFailed {
                    prefix: plan.prefix,
                    attempts: plan.conflicts,
                });
                return;
            };
            let Some(addr) = UnicastAddr::new(iid::with_iid(&plan.prefix, id)) else {
                bump(&mut self.stats.slaac_ignored);
                return;
            };
            (addr, 64, counter)
        };
        let dad = self.config.dad_transmits > 0;
        let optimistic = dad && self.config.optimistic() && plan.optimistic_ok;
        let state = if !dad {
            if self.clock.expired(plan.preferred_until) {
                AddrState::Deprecated
            } else {
                AddrState::Preferred
            }
        } else if optimistic {
            AddrState::Optimistic
        } else {
            AddrState::Tentative
        };
        let mut slot = Slot::new(
            Address {
                addr,
                prefix_len,
                state,
                origin: plan.origin,
                valid_until: plan.valid_until,
                preferred_until: plan.preferred_until,
                dad_counter: counter,
            },
            mode == IidMode::Eui64 && plan.fixed.is_none(),
            plan.conflicts,
        );
        // RFC 4862 §5.4.2: a tentative address joins and probes after a
        // random delay; RFC 4429 §3.3: an optimistic one does not wait.
        let start = if plan.delay && state == AddrState::Tentative {
            now + Duration::from_millis(
                self.rng.in_range(0, MAX_RTR_SOLICITATION_DELAY.as_millis()),
            )
        } else {
            now
        };
        if dad {
            slot.start_dad(start, self.config.dad_transmits);
        }
        // RFC 9131 §6.1.2: announce a new global address to the routers
        // when it is assigned optimistic (or, without DAD, preferred).
        let a = slot.address();
        if a.is_global() && a.usable_as_source() {
            self.announce(&mut slot);
        }
        let placed = match replace {
            Some(i) => self.local.addrs.slot_mut(i).map(|s| *s = slot).is_some(),
            None => self.local.addrs.add(slot).is_some(),
        };
        if !placed {
            bump(&mut self.stats.slaac_refused);
            return;
        }
        self.event(Event::Address {
            addr: addr.get(),
            prefix_len,
            state,
        });
        self.sync_groups(start);
    }

    /// Form the static address `addr` and start its DAD
    /// ([`Stack::add_static_address`]): at once, as for an address
    /// configured while the interface is up (the random delay of RFC 4862
    /// §5.4.2 is for the first message after the interface comes up);
    /// optimistic where allowed (RFC 4429 §3.1 covers manual
    /// configuration too).
    pub(super) fn add_static_slot(&mut self, addr: UnicastAddr, prefix_len: u8) {
        let optimistic_ok = addr.is_link_local() || self.router_link_addr_known();
        self.configure(
            Plan {
                prefix: crate::wire::prefix_of(&addr.get(), prefix_len),
                fixed: Some((addr, prefix_len)),
                origin: Origin::Static,
                counter: 0,
                conflicts: 0,
                preferred_until: Expiry::NEVER,
                valid_until: Expiry::NEVER,
                optimistic_ok,
                delay: false,
            },
            None,
        );
    }

    /// The link came back after being down: a cable plugged in again, a
    /// switch port re-enabled, a Wi-Fi bridge re-associated. While it was
    /// down another node may have taken one of our addresses, or the
    /// device may now be on another link altogether, so, like Linux on
    /// carrier up:
    ///
    /// - DAD runs again for every address ([RFC 4862 §5.4]: an address is
    ///   checked whenever the interface is (re)initialized). Addresses stay
    ///   usable while it runs where optimistic DAD allows it ([RFC 4429]
    ///   §3.3: a SLAAC address only once a router's link-layer address is
    ///   known); otherwise, and for deprecated addresses, they are
    ///   tentative until it ends. A conflict is handled as at boot
    ///   ([RFC 7217 §6]).
    /// - Global addresses are announced to the routers again ([RFC 9131]).
    /// - The solicited-node groups are reported again ([RFC 3810 §6.1]: a
    ///   router on a new link has never heard them).
    /// - Routers are solicited again, after the random initial delay and
    ///   with [RFC 7559]'s backoff ([RFC 4861 §6.3.7]: the interface became
    ///   enabled).
    ///
    /// Neighbors, routers, prefixes and lifetimes are kept: NUD and the
    /// next advertisements correct them if the link changed. Nothing needs
    /// to be called when the link goes down: what is sent meanwhile is
    /// lost, as on any cable, and the engine's timers go on.
    ///
    /// [RFC 4862 §5.4]: https://www.rfc-editor.org/rfc/rfc4862#section-5.4
    /// [RFC 4429]: https://www.rfc-editor.org/rfc/rfc4429
    /// [RFC 7217 §6]: https://www.rfc-editor.org/rfc/rfc7217#section-6
    /// [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
    /// [RFC 3810 §6.1]: https://www.rfc-editor.org/rfc/rfc3810#section-6.1
    /// [RFC 7559]: https://www.rfc-editor.org/rfc/rfc7559
    /// [RFC 4861 §6.3.7]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.7
    #[inline(never)]
    pub fn link_up(&mut self, now: Instant) {
        self.advance(now);
        // RFC 4862 §5.4.5: a disabled interface stays disabled.
        if self.disabled {
            return;
        }
        let now = self.clock.now;
        let transmits = self.config.dad_transmits;
        let router_known = self.router_link_addr_known();
        let gna = self.config.announcements();
        let mut changed: heapless::Vec<(Ipv6Addr, u8, AddrState), ADDRESSES> = heapless::Vec::new();
        for i in 0..ADDRESSES {
            // RFC 4862 §5.4.2: after (re)initialization a tentative
            // address joins and probes after a random delay; RFC 4429
            // §3.3: an optimistic one does not wait.
            let delay =
                Duration::from_millis(self.rng.in_range(0, MAX_RTR_SOLICITATION_DELAY.as_millis()));
            let Some(slot) = self.local.addrs.slot_mut(i) else {
                continue;
            };
            let old = slot.address().state;
            if old == AddrState::Duplicate || transmits == 0 {
                continue;
            }
            let optimistic = self.config.optimistic()
                && old != AddrState::Deprecated
                && (slot.address().origin == Origin::LinkLocal || router_known);
            let state = slot.restart_dad(optimistic, now + delay, transmits, gna, now);
            if state != old {
                let a = slot.address();
                let _ = changed.push((a.addr.get(), a.prefix_len, state));
            }
        }
        for (addr, prefix_len, state) in changed {
            self.event(Event::Address {
                addr,
                prefix_len,
                state,
            });
        }
        self.local.mld.rereport(now);
        if self.config.router_solicitations {
            self.discovery.rs = RsSchedule::start(now, &mut self.rng);
        }
        self.events.changed();
    }

    /// Schedule the gratuitous advertisements of RFC 9131 for `slot`.
    fn announce(&self, slot: &mut Slot) {
        slot.announce(self.config.announcements(), self.clock.now);
    }

    /// Listen to the solicited-node groups of our addresses, joining new
    /// ones no earlier than `join_at` (RFC 4862 §5.4.2).
    pub(super) fn sync_groups(&mut self, join_at: Instant) {
        let mut wanted: heapless::Vec<MulticastAddr, { ADDRESSES + APP_GROUPS }> =
            heapless::Vec::new();
        for g in self
            .local
            .addrs
            .groups()
            .chain(self.app.groups.iter().copied())
        {
            if !wanted.contains(&g) {
                let _ = wanted.push(g);
            }
        }
        self.local.mld.set_groups(&wanted, self.clock.now, join_at);
    }

    /// A Prefix Information option with A=1 (RFC 4862 §5.5.3).
    pub(super) fn slaac(&mut self, p: &PrefixInfo, router_link_addr_known: bool) {
        let longer = |a: Lifetime, b: Lifetime| match (a, b) {
            (Lifetime::Infinite, Lifetime::Infinite) => false,
            (Lifetime::Infinite, _) => true,
            (_, Lifetime::Infinite) => false,
            (Lifetime::Finite(x), Lifetime::Finite(y)) => x > y,
        };
        // (b) the link-local prefix, (c) preferred > valid, (d) a prefix
        // that does not leave 64 bits for the identifier: ignored.
        if is_link_local(&p.prefix)
            || longer(p.preferred_lifetime, p.valid_lifetime)
            || p.prefix_len != 64
        {
            bump(&mut self.stats.slaac_ignored);
            return;
        }
        let preferred = self.clock.expiry(p.preferred_lifetime);
        let valid = self.clock.expiry(p.valid_lifetime);
        // (e) an address (or tombstone) for this prefix already exists.
        if let Some(i) = self.local.addrs.find_prefix(&p.prefix) {
            let Some(slot) = self.local.addrs.slot_mut(i) else {
                return;
            };
            // RFC 4862 §5.5.3 (e).
            if let Some(state) = slot.refresh(preferred, valid, &self.clock) {
                let a = *slot.address();
                self.event(Event::Address {
                    addr: a.addr.get(),
                    prefix_len: a.prefix_len,
                    state,
                });
            }
            return;
        }
        // (d) a new prefix with a non-zero valid lifetime: a new address.
        if p.valid_lifetime == Lifetime::ZERO {
            return;
        }
        if self.local.addrs.len() >= ADDRESSES {
            bump(&mut self.stats.slaac_refused);
            self.discovery.refuse(Newcomer::Address, &mut cx!(self));
            return;
        }
        // RFC 6583 §6: new addresses enter at a bounded rate, so forged
        // prefixes cannot keep DAD and the address table busy.
        if !self.discovery.admit(Newcomer::Address, &mut cx!(self)) {
            return;
        }
        self.configure(
            Plan {
                prefix: p.prefix,
                fixed: None,
                origin: Origin::Slaac,
                counter: 0,
                conflicts: 0,
                preferred_until: preferred,
                valid_until: valid,
                // RFC 4429 §3.3: not optimistic without the router's
                // link-layer address.
                optimistic_ok: router_link_addr_known,
                // RFC 4862 §5.4.2: configured from a multicast RA.
                delay: true,
            },
            None,
        );
    }

    /// DAD found the address in slot `i` in use elsewhere (RFC 4862
    /// §5.4.3-5, RFC 4429 §3.3, RFC 7217 §6).
    pub(super) fn dad_conflict(&mut self, i: usize) {
        let now = self.clock.now;
        let delay = Duration::from_millis(self.rng.in_range(0, IDGEN_DELAY.as_millis()));
        let Some(slot) = self.local.addrs.slot_mut(i) else {
            return;
        };
        if !matches!(
            slot.address().state,
            AddrState::Tentative | AddrState::Optimistic
        ) {
            return;
        }
        let a = *slot.address();
        let mac_based_link_local = a.origin == Origin::LinkLocal && slot.eui64();
        // The same address comes back on every attempt.
        let fixed = slot.eui64() || a.origin == Origin::Static;
        // RFC 7217 §6: retry with DAD_Counter + 1 after a random delay,
        // IDGEN_RETRIES times. Then, and at once for a MAC-based
        // identifier (the same address again), keep trying with a capped
        // backoff rather than give up for good: a node that answers every
        // probe (RFC 3756 §4.1.3) must not lock the device out after it
        // stops. Each new attempt is reported by its Address event.
        let quick = !fixed && slot.conflicts() < IDGEN_RETRIES;
        let slow_step = if !fixed {
            slot.conflicts().saturating_sub(IDGEN_RETRIES)
        } else {
            slot.conflicts()
        };
        let retry_in = if quick {
            delay
        } else {
            let wait = DAD_BACKOFF_BASE
                .saturating_mul(1 << slow_step.min(3))
                .min(DAD_BACKOFF_MAX);
            wait + Duration::from_millis(self.rng.in_range(0, wait.as_millis() / 10))
        };
        let attempts = slot.mark_duplicate(now + retry_in);
        bump(&mut self.stats.dad_conflicts);
        self.event(Event::Address {
            addr: a.addr.get(),
            prefix_len: a.prefix_len,
            state: AddrState::Duplicate,
        });
        self.sync_groups(now);
        if mac_based_link_local {
            // RFC 4862 §5.4.5: the MAC itself is probably duplicated.
            if !self.disabled {
                self.disable(DisableReason::DuplicateMacAddress);
            }
        } else if attempts == IDGEN_RETRIES.saturating_add(1) || (fixed && attempts == 1) {
            // The quick attempts are over: say so once; the slow ones
            // follow.
            bump(&mut self.stats.dad_gave_up);
            let prefix = crate::wire::prefix_of(&a.addr.get(), a.prefix_len);
            self.event(Event::AddressFailed { prefix, attempts });
        }
    }

    /// Stop IPv6 operation on the interface (RFC 4862 §5.4.5): nothing is
    /// sent or received but the link-local address's DAD, which goes on
    /// with the backoff; the addresses other than the link-local one go.
    /// A clean DAD of the link-local address enables the interface again
    /// ([`Event::InterfaceEnabled`]): an unattended device has no
    /// administrator to do it (RFC 4862 §5.4.5 leaves that open).
    fn disable(&mut self, reason: DisableReason) {
        self.disabled = true;
        self.answers.clear();
        self.event(Event::InterfaceDisabled { reason });
        while let Some(i) = (0..self.local.addrs.len()).find(|&i| {
            self.local
                .addrs
                .slot(i)
                .is_some_and(|s| s.address().origin != Origin::LinkLocal)
        }) {
            if let Some(old) = self.local.addrs.remove(i) {
                self.event(Event::AddressRemoved {
                    addr: old.address().addr.get(),
                    prefix_len: old.address().prefix_len,
                });
            }
        }
        self.sync_groups(self.clock.now);
    }

    /// The link-local address passed DAD while the interface was
    /// disabled: IPv6 runs again, and starts over as when the link comes
    /// up (routers solicited, groups reported).
    fn enable(&mut self) {
        let now = self.clock.now;
        self.disabled = false;
        self.event(Event::InterfaceEnabled);
        self.restore_static_addresses();
        if self.config.router_solicitations {
            self.discovery.rs = RsSchedule::start(now, &mut self.rng);
        }
        self.local.mld.rereport(now);
    }

    /// A new identifier for the duplicate in slot `i` (RFC 7217 §6).
    fn regenerate(&mut self, i: usize) {
        let Some(old) = self.local.addrs.slot(i).copied() else {
            return;
        };
        self.event(Event::AddressRemoved {
            addr: old.address().addr.get(),
            prefix_len: old.address().prefix_len,
        });
        let prefix = crate::wire::prefix_of(&old.address().addr.get(), old.address().prefix_len);
        // A static address cannot change: the same one again.
        let fixed = (old.address().origin == Origin::Static)
            .then_some((old.address().addr, old.address().prefix_len));
        // While disabled the address is not used: plain DAD.
        let router_known =
            !self.disabled && (old.address().addr.is_link_local() || self.router_link_addr_known());
        self.configure(
            Plan {
                prefix,
                fixed,
                origin: old.address().origin,
                // An 8-bit counter (RFC 7217 §5): after 255 it starts
                // over, so a long attack cannot exhaust it.
                counter: old.address().dad_counter.checked_add(1).unwrap_or(0),
                conflicts: old.conflicts(),
                preferred_until: old.address().preferred_until,
                valid_until: old.address().valid_until,
                optimistic_ok: router_known,
                // The IDGEN_DELAY wait served as the random delay.
                delay: false,
            },
            Some(i),
        );
    }

    /// Some default router's link-layer address is known (RFC 4429 §3.3).
    pub(super) fn router_link_addr_known(&self) -> bool {
        self.discovery.routers.iter().any(|r| {
            self.neighbors
                .lookup(&r.addr)
                .is_some_and(|e| e.state() != NeighborState::Incomplete)
        })
    }

    /// The address passed DAD (RFC 4862 §5.4) and is `a` now: reported;
    /// the link-local address enables a disabled interface and has the
    /// groups reported again from it.
    fn dad_done(&mut self, a: Address) {
        self.event(Event::Address {
            addr: a.addr.get(),
            prefix_len: a.prefix_len,
            state: a.state,
        });
        if a.origin == Origin::LinkLocal {
            if self.disabled {
                self.enable();
            }
            // RFC 3810 §5.2.13, RFC 3590 §4: reports sent from :: do not
            // count with routers; report again from the link-local address.
            self.local.mld.rereport(self.clock.now);
        }
    }

    /// Address timers: lifetimes, regeneration, DAD, announcements. The
    /// address table runs them (`AddressTable::poll`); this writes what
    /// they send and reports what they changed. Without `buf`, only those
    /// that send nothing (`Stack::handle_timeout`).
    pub(super) fn address_timers(&mut self, buf: Option<&mut [u8]>) -> Timers {
        let due = self.local.addrs.poll(
            &self.clock,
            self.retrans_timer,
            self.config.announcements(),
            &mut self.rng,
            buf.is_some(),
        );
        match due {
            None => Timers::Idle,
            Some(AddrDue::Expired(a)) => {
                self.event(Event::AddressRemoved {
                    addr: a.addr.get(),
                    prefix_len: a.prefix_len,
                });
                self.sync_groups(self.clock.now);
                Timers::Again
            }
            Some(AddrDue::Regenerate(i)) => {
                self.regenerate(i);
                Timers::Again
            }
            // Asked for only with a buffer.
            Some(AddrDue::Probe { target, nonce }) => match buf {
                Some(buf) => self.send_dad_probe(target, &nonce, buf),
                None => Timers::Idle,
            },
            Some(AddrDue::Assigned(a)) => {
                self.dad_done(a);
                Timers::Again
            }
            Some(AddrDue::Deprecated(a)) => {
                self.event(Event::Address {
                    addr: a.addr.get(),
                    prefix_len: a.prefix_len,
                    state: AddrState::Deprecated,
                });
                Timers::Again
            }
            Some(AddrDue::Announce(target)) => match buf {
                Some(buf) => self.send_gratuitous_na(target, buf),
                None => Timers::Idle,
            },
        }
    }

    /// A DAD probe (RFC 4862 §5.4.2, RFC 7527 §4.1): NS from `::` to the
    /// solicited-node group, no source link-layer address, a fresh nonce.
    fn send_dad_probe(&mut self, target: UnicastAddr, nonce: &[u8], buf: &mut [u8]) -> Timers {
        let group = target.solicited_node();
        let opts = [NdOption::Nonce(nonce)];
        let msg = Message::NeighborSolicit(NeighborSolicit {
            target: target.get(),
            options: Options::from_list(&opts),
        });
        let written = write_icmp(buf, Ipv6Addr::UNSPECIFIED, group.get(), ND_HOP_LIMIT, &msg);
        self.written(
            written,
            Delivery::Link(group.mac()),
            TransmitKind::Ndp,
            |s| &mut s.tx_dad_probe,
        )
        .map_or(Timers::Again, Timers::Sent)
    }

    /// A gratuitous advertisement (RFC 9131 §6.1.2): to ff02::2, S=0,
    /// O=0 (never set, for optimistic or preferred addresses), R=0, our
    /// link-layer address (RFC 4861 §7.2.6); RetransTimer apart.
    fn send_gratuitous_na(&mut self, target: UnicastAddr, buf: &mut [u8]) -> Timers {
        let target = target.get();
        let routers = MulticastAddr::ALL_ROUTERS;
        let opts = [NdOption::TargetLinkAddr(self.config.mac)];
        let msg = Message::NeighborAdvert(NeighborAdvert {
            router_flag: false,
            solicited_flag: false,
            override_flag: false,
            target,
            options: Options::from_list(&opts),
        });
        let written = write_icmp(buf, target, routers.get(), ND_HOP_LIMIT, &msg);
        self.written(
            written,
            Delivery::Link(routers.mac()),
            TransmitKind::Ndp,
            |s| &mut s.tx_gratuitous_na,
        )
        .map_or(Timers::Again, Timers::Sent)
    }

    /// The next MLD message due (RFC 3810 §6), with hop limit 1 and a
    /// Router Alert (§5), from the link-local address once it is valid,
    /// from `::` before (§5.2.13).
    pub(super) fn poll_mld(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let out = self.local.mld.poll(self.clock.now, &mut self.rng)?;
        let src = self
            .local
            .addrs
            .link_local()
            .filter(|a| a.can_solicit())
            .map_or(Ipv6Addr::UNSPECIFIED, |a| a.addr.get());
        let mut records: heapless::Vec<MldRecord<'_>, { crate::mld::GROUPS }> =
            heapless::Vec::new();
        let (dst, msg) = match out {
            MldOut::V2(rs) => {
                for (record_type, group) in rs {
                    let _ = records.push(MldRecord {
                        record_type,
                        group: group.get(),
                        sources: crate::wire::AddrList::new(&[]),
                        aux_data: &[],
                    });
                }
                (
                    crate::mld::ALL_MLDV2_ROUTERS,
                    Message::MldV2Report(MldV2Report {
                        records: RecordList::new(&records),
                    }),
                )
            }
            MldOut::V1Report(g) => (g.get(), Message::MldV1Report(MldV1 { group: g.get() })),
            MldOut::V1Done(g) => (
                MulticastAddr::ALL_ROUTERS.get(),
                Message::MldV1Done(MldV1 { group: g.get() }),
            ),
        };
        let mac = MulticastAddr::new(dst).map_or(MacAddr::BROADCAST, |g| g.mac());
        let written = write_mld(buf, src, dst, &msg);
        self.written(written, Delivery::Link(mac), TransmitKind::Ndp, |s| {
            &mut s.tx_mld
        })
    }
}

/// Write an MLD message as an IPv6 packet with a Hop-by-Hop Router Alert
/// (RFC 3810 §5, RFC 2711); returns its length.
fn write_mld(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    msg: &Message<'_>,
) -> Result<usize, wire::Error> {
    let icmp_len = msg.encoded_len()?;
    let payload = ROUTER_ALERT_HBH_LEN.saturating_add(icmp_len);
    let payload_len = u16::try_from(payload).map_err(|_| wire::Error::BufferTooSmall)?;
    Ipv6Header {
        src,
        dst,
        next_header: NEXT_HEADER_HOP_BY_HOP,
        hop_limit: MLD_HOP_LIMIT,
        payload_len,
    }
    .emit(buf)?;
    let hbh = buf
        .get_mut(Ipv6Header::LEN..)
        .ok_or(wire::Error::BufferTooSmall)?;
    emit_router_alert_hbh(hbh, NEXT_HEADER_ICMPV6)?;
    let body = hbh
        .get_mut(ROUTER_ALERT_HBH_LEN..)
        .ok_or(wire::Error::BufferTooSmall)?;
    msg.encode(&src, &dst, body)?;
    Ok(Ipv6Header::LEN.saturating_add(payload))
}
