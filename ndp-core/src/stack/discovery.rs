//! Router discovery as one part of the engine: the default router list,
//! the on-link prefixes, the more-specific routes, the DNS options, the
//! Router Solicitation schedule and the reports of refused newcomers.
//! Its timers (lifetimes, solicitations, reports) run here and it
//! reports its own events through [`Cx`]; what they mean for the other
//! parts (next hops to choose again) it hands back to the `Stack`.

use core::net::Ipv6Addr;

use super::Event;
use super::cx::Cx;
#[cfg(feature = "dns")]
use crate::router::dns::{DnsServers, SearchList};
use crate::router::rs::RsSchedule;
use crate::router::{
    Newcomer, PrefixList, REFUSAL_REPORT_INTERVAL, Refusals, Route, RouteTable, RouterList,
};
use crate::time::{Clock, Deadline, Instant};
use crate::wire::{Lifetime, Preference};

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
    /// Empty tables, with the solicitations scheduled by `rs`, at `now`.
    pub fn new(rs: RsSchedule, now: Instant) -> Self {
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
        }
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
        let mut d = Discovery::new(RsSchedule::off(), Instant::ZERO);
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
