//! Router discovery as one part of the engine: the default router list,
//! the on-link prefixes, the more-specific routes, the DNS options, the
//! link parameters routers set (hop limit, MTU, M/O flags), the Router
//! Solicitation schedule, and the admission and reports of newcomers.
//! The options of a Router Advertisement that concern only these tables
//! are handled here, and its timers (lifetimes, solicitations, reports)
//! run here; it counts and reports for itself through [`Cx`], and what
//! a change means for the other parts (next hops to choose again) it
//! hands back to the `Stack`.

use core::net::Ipv6Addr;

use super::cx::Cx;
use super::{Event, TokenBucket};
#[cfg(feature = "dns")]
use crate::router::dns::{DnsServers, SearchDomain, SearchList};
use crate::router::rs::RsSchedule;
use crate::router::{
    DEFAULT_HOP_LIMIT, MIN_LINK_MTU, NEWCOMER_BURST, NEWCOMER_REFILL, Newcomer, PrefixList,
    REFUSAL_REPORT_INTERVAL, Refusals, Route, RouteTable, RouterList, Update,
};
use crate::stats::bump;
use crate::time::{Clock, Deadline, Instant};
#[cfg(feature = "route-info")]
use crate::wire::RouteInfo;
#[cfg(feature = "dns")]
use crate::wire::{Dnssl, Rdnss, UnicastAddr};
use crate::wire::{Lifetime, Preference, PrefixInfo, is_link_local};

/// What routers tell (RFC 4861 §6.3.4, RFC 4191, RFC 8106), the
/// solicitations that ask them (RFC 4861 §6.3.7, RFC 7559), and the
/// reports of newcomers refused (RFC 6583 §6).
#[derive(Debug, Clone)]
pub(super) struct Discovery {
    pub routers: RouterList,
    pub routes: RouteTable,
    pub prefixes: PrefixList,
    #[cfg(feature = "dns")]
    pub dns_servers: DnsServers,
    #[cfg(feature = "dns")]
    pub search: SearchList,
    pub rs: RsSchedule,
    /// Refused newcomers not yet reported, and when the next report may
    /// go out.
    pub refused: Refusals,
    pub refused_report_at: Instant,
    /// Admission of new routers, prefixes, routes and SLAAC addresses
    /// (RFC 6583 §6; [`crate::router::NEWCOMER_BURST`]).
    pub newcomers: TokenBucket,
    /// CurHopLimit (RFC 4861 §6.3.2).
    pub hop_limit: u8,
    /// The link MTU: the configured maximum until a router advertises a
    /// smaller one.
    pub link_mtu: u16,
    /// M and O flags of the last advertisement.
    pub flags: (bool, bool),
}

impl Deadline for Discovery {
    fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        [
            self.routers.next_deadline(),
            self.routes.next_deadline(clock),
            self.prefixes.next_deadline(clock),
            #[cfg(feature = "dns")]
            self.dns_servers.next_deadline(clock),
            #[cfg(feature = "dns")]
            self.search.next_deadline(clock),
            self.rs.next(),
            self.refused.any().then_some(self.refused_report_at),
        ]
        .into_iter()
        .flatten()
        .reduce(Instant::earlier)
    }
}

/// What a timer of [`Discovery`] changed that the other parts must
/// follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    /// A default router went: destinations through it choose again.
    Router(Ipv6Addr),
    /// A prefix or route went: computed next hops may be wrong.
    NextHops,
    /// Only reported (refusals, DNS).
    Reported,
}

impl Discovery {
    /// Empty tables, with the solicitations scheduled by `rs`, at `now`,
    /// on a link whose largest MTU is `link_mtu`.
    pub fn new(rs: RsSchedule, now: Instant, link_mtu: u16) -> Self {
        Discovery {
            routers: RouterList::default(),
            routes: RouteTable::default(),
            prefixes: PrefixList::default(),
            #[cfg(feature = "dns")]
            dns_servers: DnsServers::default(),
            #[cfg(feature = "dns")]
            search: SearchList::default(),
            rs,
            refused: Refusals::default(),
            refused_report_at: now,
            newcomers: TokenBucket::new(NEWCOMER_BURST, NEWCOMER_REFILL, now),
            hop_limit: DEFAULT_HOP_LIMIT,
            link_mtu,
            flags: (false, false),
        }
    }

    /// Take an admission for one newcomer of this `kind` (RFC 6583 §6),
    /// or count it refused.
    pub fn admit(&mut self, kind: Newcomer, cx: &mut Cx<'_>) -> bool {
        if self.newcomers.take(cx.clock.now).is_ok() {
            return true;
        }
        self.refuse(kind, cx);
        false
    }

    /// The hop limit and the M and O flags of an advertisement ([RFC 4861
    /// §6.3.4]): a zero hop limit is unspecified and leaves ours alone.
    ///
    /// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
    pub fn on_params(&mut self, cx: &mut Cx<'_>, cur_hop_limit: u8, flags: (bool, bool)) {
        if cur_hop_limit != 0 && cur_hop_limit != self.hop_limit {
            self.hop_limit = cur_hop_limit;
            cx.report(Event::HopLimit(cur_hop_limit));
        }
        if flags != self.flags {
            self.flags = flags;
            cx.report(Event::ConfigFlags {
                managed: flags.0,
                other: flags.1,
            });
        }
    }

    /// The MTU option: accepted within [1280, `max`], the link's largest
    /// ([RFC 4861 §6.3.4], RFC 8200 §5, RFC 2464 §2).
    ///
    /// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
    pub fn on_mtu(&mut self, cx: &mut Cx<'_>, mtu: u32, max: u16) {
        let Some(mtu) = u16::try_from(mtu)
            .ok()
            .filter(|m| (MIN_LINK_MTU..=max).contains(m))
        else {
            bump(&mut cx.stats.ra_mtu_ignored);
            return;
        };
        if mtu != self.link_mtu {
            self.link_mtu = mtu;
            cx.report(Event::Mtu(mtu));
        }
    }

    /// A Prefix Information option with L=1 ([RFC 4861 §6.3.4]); true when
    /// the on-link prefixes changed, so next hops are chosen again.
    ///
    /// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
    pub fn on_link_prefix(&mut self, cx: &mut Cx<'_>, p: &PrefixInfo) -> bool {
        // The link-local prefix is ignored.
        if is_link_local(&p.prefix) {
            bump(&mut cx.stats.ra_link_local_prefix);
            return false;
        }
        let known = self
            .prefixes
            .iter()
            .any(|q| q.prefix == p.prefix && q.len == p.prefix_len);
        // RFC 6583 §6: new prefixes enter at a bounded rate.
        if !known && p.valid_lifetime != Lifetime::ZERO && !self.admit(Newcomer::Prefix, cx) {
            return false;
        }
        let valid = match self
            .prefixes
            .update(p.prefix, p.prefix_len, p.valid_lifetime, cx.clock)
        {
            Update::Added { .. } => p.valid_lifetime,
            Update::Removed => Lifetime::ZERO,
            Update::Refused => {
                bump(&mut cx.stats.ra_prefix_refused);
                self.refuse(Newcomer::Prefix, cx);
                return false;
            }
            Update::Changed | Update::Refreshed | Update::Ignored => return false,
        };
        cx.report(Event::Prefix {
            prefix: p.prefix,
            len: p.prefix_len,
            valid,
        });
        true
    }

    /// A Route Information option from `router` ([RFC 4191 §3.1]); true
    /// when the routes changed, so next hops are chosen again (RFC 4191
    /// §3.3).
    ///
    /// [RFC 4191 §3.1]: https://www.rfc-editor.org/rfc/rfc4191#section-3.1
    #[cfg(feature = "route-info")]
    pub fn on_route_info(&mut self, cx: &mut Cx<'_>, router: Ipv6Addr, r: &RouteInfo) -> bool {
        // RFC 4191 §2.3: the reserved preference makes the option ignored.
        if r.preference == Preference::Reserved {
            bump(&mut cx.stats.ra_route_reserved_preference);
            return false;
        }
        let known = self
            .routes
            .iter()
            .any(|x| x.prefix == r.prefix && x.len == r.prefix_len && x.router == router);
        // RFC 6583 §6: new routes enter at a bounded rate.
        if !known && r.lifetime != Lifetime::ZERO && !self.admit(Newcomer::Route, cx) {
            return false;
        }
        let clock = cx.clock;
        let update_route = |routes: &mut RouteTable| {
            routes.update(
                r.prefix,
                r.prefix_len,
                router,
                r.preference,
                r.lifetime,
                clock,
            )
        };
        let mut update = update_route(&mut self.routes);
        let mut changed = false;
        // RFC 6583 §6: a proven router's route may displace one through a
        // router never proven (or no longer in the list).
        if update == Update::Refused && self.routers.iter().any(|x| x.addr == router && x.proven) {
            let routers = &self.routers;
            let unproven = |n: &Ipv6Addr| !routers.iter().any(|x| x.addr == *n && x.proven);
            if let Some(old) = self.routes.evict(unproven) {
                route_gone(old, cx);
                changed = true;
                update = update_route(&mut self.routes);
            }
        }
        if update == Update::Refused {
            bump(&mut cx.stats.ra_route_refused);
            self.refuse(Newcomer::Route, cx);
        }
        if update.changes_routing() {
            let lifetime = if update == Update::Removed {
                Lifetime::ZERO
            } else {
                r.lifetime
            };
            cx.report(Event::Route {
                prefix: r.prefix,
                len: r.prefix_len,
                router,
                preference: r.preference,
                lifetime,
            });
            changed = true;
        }
        changed
    }

    /// RDNSS ([RFC 8106 §5.3.1], §6.2); true if the server list changed.
    ///
    /// [RFC 8106 §5.3.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.3.1
    #[cfg(feature = "dns")]
    pub fn on_rdnss(&mut self, cx: &mut Cx<'_>, r: &Rdnss<'_>) -> bool {
        let expires = (r.lifetime != Lifetime::ZERO).then(|| cx.clock.expiry(r.lifetime));
        let mut unusable = 0u32;
        let servers = r.servers.iter().filter(|a| {
            // RFC 8106 §5.3.1: the addresses should be unicast.
            let ok = UnicastAddr::new(*a).is_some();
            if !ok {
                unusable = unusable.saturating_add(1);
            }
            ok
        });
        let changed = self.dns_servers.update(servers, expires);
        cx.stats.dns_server_not_unicast = cx.stats.dns_server_not_unicast.saturating_add(unusable);
        changed
    }

    /// DNSSL ([RFC 8106 §5.3.1], §6.3); true if the search list changed.
    ///
    /// [RFC 8106 §5.3.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.3.1
    #[cfg(feature = "dns")]
    pub fn on_dnssl(&mut self, cx: &mut Cx<'_>, d: &Dnssl<'_>) -> bool {
        let expires = (d.lifetime != Lifetime::ZERO).then(|| cx.clock.expiry(d.lifetime));
        let mut too_long = 0u32;
        let names = d.domains.iter().filter_map(|n| {
            let s = SearchDomain::new(&n);
            if s.is_none() {
                too_long = too_long.saturating_add(1);
            }
            s
        });
        let changed = self.search.update(names, expires);
        cx.stats.dns_domain_too_long = cx.stats.dns_domain_too_long.saturating_add(too_long);
        changed
    }

    /// Remove the first thing whose lifetime ended, or send the refusal
    /// report that is due ([RFC 4861 §6.3.5], [RFC 4191 §3.1],
    /// [RFC 8106 §6.2]), reporting it; `None` when nothing was due.
    /// `solicit`: routers are solicited when the last one goes.
    ///
    /// [RFC 4861 §6.3.5]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.5
    /// [RFC 4191 §3.1]: https://www.rfc-editor.org/rfc/rfc4191#section-3.1
    /// [RFC 8106 §6.2]: https://www.rfc-editor.org/rfc/rfc8106#section-6.2
    pub fn expire(&mut self, cx: &mut Cx<'_>, solicit: bool) -> Option<Expired> {
        let now = cx.clock.now;
        if let Some(r) = self.routers.expire(now) {
            self.router_gone(r.addr, cx, solicit);
            return Some(Expired::Router(r.addr));
        }
        if let Some(p) = self.prefixes.expire(cx.clock) {
            cx.report(Event::Prefix {
                prefix: p.prefix,
                len: p.len,
                valid: Lifetime::ZERO,
            });
            return Some(Expired::NextHops);
        }
        if let Some(r) = self.routes.expire(cx.clock) {
            route_gone(r, cx);
            return Some(Expired::NextHops);
        }
        if self.refused.any() && now.reached(self.refused_report_at) {
            self.report_refusals(cx);
            return Some(Expired::Reported);
        }
        #[cfg(feature = "dns")]
        {
            let servers = self.dns_servers.expire(cx.clock);
            let search = self.search.expire(cx.clock);
            if servers || search {
                cx.report(Event::Dns);
                return Some(Expired::Reported);
            }
        }
        None
    }

    /// The router `addr` left the list (the `Stack` chooses next hops
    /// again): reported, and, as the last one, solicited again when
    /// `solicit`.
    pub fn router_gone(&mut self, addr: Ipv6Addr, cx: &mut Cx<'_>, solicit: bool) {
        cx.report(Event::Router {
            addr,
            lifetime_s: 0,
            preference: Preference::Medium,
        });
        // The last default router went (lifetime zero, expiry, NUD, or a
        // forged kill_router6 advertisement): solicit again (RFC 4861
        // §6.3.7 allows it when routers are needed) instead of waiting
        // for the next periodic advertisement, which radvd sends up to
        // 600 s apart. RFC 7559's backoff paces it; a schedule already
        // running is left alone, so at most one solicitation follows
        // each loss.
        if solicit && self.routers.iter().next().is_none() && self.rs.next().is_none() {
            self.rs = RsSchedule::start(cx.clock.now, cx.rng);
        }
    }

    /// Count a refused newcomer (RFC 6583 §6) for the next
    /// [`Event::Refused`].
    pub fn refuse(&mut self, kind: Newcomer, cx: &mut Cx<'_>) {
        bump(&mut cx.stats.newcomers_refused);
        self.refused.count(kind);
        self.report_refusals(cx);
    }

    /// Report refused newcomers once the report interval has passed since
    /// the last report; until then they add up.
    fn report_refusals(&mut self, cx: &mut Cx<'_>) {
        let now = cx.clock.now;
        if self.refused.any() && now.reached(self.refused_report_at) {
            let summary = core::mem::take(&mut self.refused);
            self.refused_report_at = now + REFUSAL_REPORT_INTERVAL;
            cx.report(Event::Refused(summary));
        }
    }
}

/// A more-specific route left the table: reported ([RFC 4191 §3.3]; the
/// `Stack` chooses next hops again).
///
/// [RFC 4191 §3.3]: https://www.rfc-editor.org/rfc/rfc4191#section-3.3
pub(super) fn route_gone(r: Route, cx: &mut Cx<'_>) {
    cx.report(Event::Route {
        prefix: r.prefix,
        len: r.len,
        router: r.router,
        preference: r.preference,
        lifetime: Lifetime::ZERO,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::stack::cx::Events;
    use crate::stats::Stats;
    use crate::time::Duration;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// The part runs its own timers and reports through its context,
    /// without a `Stack`: a prefix, then the last router, expire; the
    /// router's loss restarts the solicitations (RFC 4861 §6.3.7), and
    /// what the other parts must do is handed back.
    #[test]
    fn lifetimes_expire_and_report_without_a_stack() {
        let mut clock = Clock::new(Instant::ZERO);
        let (mut rng, mut stats, mut events) = (Rng::new(1), Stats::default(), Events::default());
        let mut d = Discovery::new(RsSchedule::off(), Instant::ZERO, 1500);
        d.routers
            .update(a("fe80::1"), 20, Preference::Medium, clock.now);
        d.prefixes
            .update(a("2001:db8::"), 64, Lifetime::Finite(10), &clock);
        let next = d.next_deadline(&clock);
        assert_eq!(next, Some(Instant::ZERO + Duration::from_secs(10)));
        let mut run = |clock: &Clock, d: &mut Discovery| {
            let mut cx = Cx {
                clock,
                rng: &mut rng,
                stats: &mut stats,
                events: &mut events,
            };
            d.expire(&mut cx, true)
        };
        assert_eq!(run(&clock, &mut d), None);
        clock.advance(Instant::ZERO + Duration::from_secs(10));
        assert_eq!(run(&clock, &mut d), Some(Expired::NextHops));
        assert_eq!(run(&clock, &mut d), None);
        clock.advance(Instant::ZERO + Duration::from_secs(20));
        assert_eq!(run(&clock, &mut d), Some(Expired::Router(a("fe80::1"))));
        assert!(d.rs.next().is_some(), "the last router's loss solicits");
        assert_eq!(run(&clock, &mut d), None);
        let reported: heapless::Vec<Event, 4> = core::iter::from_fn(|| events.pop()).collect();
        assert_eq!(
            reported.as_slice(),
            [
                Event::Prefix {
                    prefix: a("2001:db8::"),
                    len: 64,
                    valid: Lifetime::ZERO
                },
                Event::Router {
                    addr: a("fe80::1"),
                    lifetime_s: 0,
                    preference: Preference::Medium
                }
            ]
        );
    }
}
