//! Router and prefix discovery for a host: the default router list with
//! preferences, more-specific routes, the on-link prefix list, next-hop
//! selection and the destination cache ([RFC 4861 §5.2], §6.3; [RFC 4191] as
//! a "type C" host), Router Solicitation timing ([RFC 7559]) and DNS
//! configuration ([RFC 8106]).
//!
//! Problems solved here:
//! - know which routers may forward our traffic, for how long, and which
//!   one to use for a destination: longest matching route, then
//!   preference, skipping routers NUD found unreachable ([RFC 4191 §3.2]),
//!   round-robin when every candidate is suspect ([RFC 4861 §6.3.6]);
//! - know which prefixes are on-link, so their destinations are resolved
//!   directly instead of through a router;
//! - keep all of it in fixed tables that a flood of forged advertisements
//!   cannot grow or take over ([RFC 6583]): a router we have actually
//!   reached is never displaced by a newcomer, and existing prefixes and
//!   routes are refreshed, never pushed out, when the tables are full.
//!
//! The tables are plain data with pure methods; [`crate::Stack`] applies
//! received messages to them and reports the changes as events.
//!
//! [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
//! [RFC 4191]: https://www.rfc-editor.org/rfc/rfc4191
//! [RFC 7559]: https://www.rfc-editor.org/rfc/rfc7559
//! [RFC 8106]: https://www.rfc-editor.org/rfc/rfc8106
//! [RFC 4191 §3.2]: https://www.rfc-editor.org/rfc/rfc4191#section-3.2
//! [RFC 4861 §6.3.6]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.6
//! [RFC 6583]: https://www.rfc-editor.org/rfc/rfc6583

pub(crate) mod dest;
#[cfg(feature = "dns")]
pub mod dns;
pub(crate) mod rs;

use core::net::Ipv6Addr;

use crate::time::{Clock, Duration, Expiry, Instant};
use crate::wire::{Lifetime, Preference, in_prefix};

/// Random delay before the first Router Solicitation, at most this
/// ([RFC 4861 §10], §6.3.7).
///
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const MAX_RTR_SOLICITATION_DELAY: Duration = Duration::from_secs(1);
/// First Router Solicitation retransmission timeout: [RFC 7559 §2]'s IRT,
/// equal to RTR_SOLICITATION_INTERVAL ([RFC 4861 §10]).
///
/// [RFC 7559 §2]: https://www.rfc-editor.org/rfc/rfc7559#section-2
/// [RFC 4861 §10]: https://www.rfc-editor.org/rfc/rfc4861#section-10
pub const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// Largest Router Solicitation retransmission timeout before
/// randomization: [RFC 7559 §2]'s MRT.
///
/// [RFC 7559 §2]: https://www.rfc-editor.org/rfc/rfc7559#section-2
pub const MAX_RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(3600);
/// Smallest link MTU IPv6 allows ([RFC 8200 §5]); smaller MTU options are
/// ignored ([RFC 4861 §6.3.4]).
///
/// [RFC 8200 §5]: https://www.rfc-editor.org/rfc/rfc8200#section-5
/// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
pub const MIN_LINK_MTU: u16 = 1280;
/// CurHopLimit until a router says otherwise ([RFC 4861 §6.3.2]: the IANA
/// default, 64).
///
/// [RFC 4861 §6.3.2]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.2
pub const DEFAULT_HOP_LIMIT: u8 = 64;

/// New routers, prefixes, routes and SLAAC addresses admitted at once
/// before [`NEWCOMER_REFILL`] paces them ([RFC 6583 §6]). Eight covers a
/// router with several prefixes and routes in one advertisement; a flood
/// of forged advertisements gets the same eight, then one entry per
/// refill, whatever its rate.
///
/// [RFC 6583 §6]: https://www.rfc-editor.org/rfc/rfc6583#section-6
pub const NEWCOMER_BURST: u16 = 8;
/// One more newcomer may enter after this long (see [`NEWCOMER_BURST`]).
/// A router that appears later, or a renumbering, waits at most this
/// long; entries already present are refreshed without limit.
pub const NEWCOMER_REFILL: Duration = Duration::from_secs(2);
/// Refused newcomers are summed up in one [`crate::Event::Refused`] at
/// most this often, so a flood cannot crowd the event queue.
pub const REFUSAL_REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// Newcomers not admitted, per table, since the last report
/// ([`crate::Event::Refused`]): the rate limit or a full table turned them
/// away ([RFC 6583 §6]).
///
/// [RFC 6583 §6]: https://www.rfc-editor.org/rfc/rfc6583#section-6
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Refusals {
    /// Default routers.
    pub routers: u16,
    /// On-link prefixes.
    pub prefixes: u16,
    /// More-specific routes.
    pub routes: u16,
    /// SLAAC addresses (new prefixes with A=1).
    pub addresses: u16,
}

impl Refusals {
    pub(crate) fn any(&self) -> bool {
        *self != Refusals::default()
    }

    /// Count one refused newcomer of `kind`.
    pub(crate) fn count(&mut self, kind: Newcomer) {
        let n = match kind {
            Newcomer::Router => &mut self.routers,
            Newcomer::Prefix => &mut self.prefixes,
            Newcomer::Route => &mut self.routes,
            Newcomer::Address => &mut self.addresses,
        };
        *n = n.saturating_add(1);
    }

    pub(crate) fn add(&mut self, o: &Refusals) {
        self.routers = self.routers.saturating_add(o.routers);
        self.prefixes = self.prefixes.saturating_add(o.prefixes);
        self.routes = self.routes.saturating_add(o.routes);
        self.addresses = self.addresses.saturating_add(o.addresses);
    }
}

/// What kind of newcomer was refused: which count of [`Refusals`] it
/// adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Newcomer {
    Router,
    Prefix,
    /// Only with the `route-info` feature (a type A host takes none).
    #[cfg_attr(not(feature = "route-info"), allow(dead_code))]
    Route,
    Address,
}

/// Default routers kept ([RFC 4861 §6.3.4]: at least two).
///
/// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
pub const ROUTERS: usize = 3;
/// On-link prefixes kept.
pub const PREFIXES: usize = 4;
/// More-specific routes (Route Information options) kept; none without
/// the `route-info` feature.
pub const ROUTES: usize = if cfg!(feature = "route-info") { 4 } else { 0 };
/// Destination cache entries.
pub const DESTINATIONS: usize = 4;

/// A preference as a number that orders High > Medium > Low; the reserved
/// value counts as medium (RFC 4191 §2.2).
pub(crate) fn rank(p: Preference) -> u8 {
    match p {
        Preference::High => 2,
        Preference::Medium | Preference::Reserved => 1,
        Preference::Low => 0,
    }
}

/// What an update did to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Update {
    /// A new entry; `evicted` names an entry given up for it.
    Added { evicted: Option<Ipv6Addr> },
    /// An existing entry changed something other than its expiry.
    Changed,
    /// An existing entry only got a new expiry.
    Refreshed,
    /// An existing entry was removed (lifetime zero).
    Removed,
    /// Nothing to do (lifetime zero for an unknown entry).
    Ignored,
    /// The table is full and nothing could be given up.
    Refused,
}

impl Update {
    /// The set of next hops may have changed.
    pub fn changes_routing(self) -> bool {
        matches!(
            self,
            Update::Added { .. } | Update::Changed | Update::Removed
        )
    }
}

/// A default router ([RFC 4861 §6.3.4]), as seen by [`crate::Stack::routers`].
///
/// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Router {
    /// Its link-local address.
    pub addr: Ipv6Addr,
    /// Its default router preference (reserved read as medium).
    pub preference: Preference,
    /// When its router lifetime runs out.
    pub expires: Instant,
    /// Neighbor Unreachability Detection lost it since its last
    /// advertisement: other routers go first (RFC 4191 §3.2).
    pub suspect: bool,
    /// It has been REACHABLE at least once (it answered its admission
    /// probe, or NUD or upper-layer hints confirmed it): proven to exist,
    /// so a newcomer cannot displace it from a full list, and it is chosen
    /// before routers still on probation.
    pub proven: bool,
}

/// The default router list.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouterList {
    entries: heapless::Vec<Router, ROUTERS>,
}

impl RouterList {
    /// Apply an advertisement's router lifetime and preference
    /// ([RFC 4861 §6.3.4], [RFC 4191 §2.2]).
    ///
    /// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
    /// [RFC 4191 §2.2]: https://www.rfc-editor.org/rfc/rfc4191#section-2.2
    pub fn update(
        &mut self,
        addr: Ipv6Addr,
        lifetime_s: u16,
        preference: Preference,
        now: Instant,
    ) -> Update {
        // RFC 4191 §2.2: a reserved preference is treated as medium.
        let preference = if preference == Preference::Reserved {
            Preference::Medium
        } else {
            preference
        };
        let expires = now + Duration::from_secs(u32::from(lifetime_s));
        if let Some(i) = self.entries.iter().position(|r| r.addr == addr) {
            // RFC 4861 §6.3.4: lifetime zero times the entry out at once,
            // otherwise the timer restarts.
            if lifetime_s == 0 {
                self.entries.remove(i);
                return Update::Removed;
            }
            let Some(r) = self.entries.get_mut(i) else {
                return Update::Ignored;
            };
            r.expires = expires;
            // An advertisement is evidence of life.
            let was_suspect = core::mem::replace(&mut r.suspect, false);
            if r.preference != preference || was_suspect {
                r.preference = preference;
                return Update::Changed;
            }
            return Update::Refreshed;
        }
        if lifetime_s == 0 {
            return Update::Ignored;
        }
        let new = Router {
            addr,
            preference,
            expires,
            suspect: false,
            proven: false,
        };
        let mut evicted = None;
        if self.entries.is_full() {
            // RFC 6583 §6 lets a host choose who keeps a full table under
            // attack, and RFC 4861 §6.3.4 only asks for two routers. A
            // proven router never gives way. Routers still on probation
            // share the remaining slots first come, first served, and the
            // newest of them makes room: its preference and lifetime are
            // the newcomer's own claims (flood_router26 claims high and
            // 65535 s), so they decide nothing here. Under a flood the
            // older probationers keep their place until their admission
            // probe (RFC 4191 §3.5) concludes.
            let victim = self.entries.iter().rposition(|r| !r.proven);
            let Some(v) = victim else {
                return Update::Refused;
            };
            evicted = Some(self.entries.remove(v).addr);
        }
        if self.entries.push(new).is_err() {
            return Update::Refused;
        }
        Update::Added { evicted }
    }

    pub fn remove(&mut self, addr: &Ipv6Addr) -> bool {
        let Some(i) = self.entries.iter().position(|r| r.addr == *addr) else {
            return false;
        };
        self.entries.remove(i);
        true
    }

    /// For the tests that set or corrupt a router on purpose.
    #[cfg(test)]
    pub fn get_mut(&mut self, addr: &Ipv6Addr) -> Option<&mut Router> {
        self.entries.iter_mut().find(|r| r.addr == *addr)
    }

    /// `addr` is in the list on probation or suspect: finding it
    /// REACHABLE would change how it ranks.
    pub fn doubted(&self, addr: &Ipv6Addr) -> bool {
        self.entries
            .iter()
            .any(|r| r.addr == *addr && (r.suspect || !r.proven))
    }

    /// `addr` was found REACHABLE: proven, and no longer suspect ([RFC 6583]
    /// §6, [RFC 4191 §3.2]).
    ///
    /// [RFC 6583]: https://www.rfc-editor.org/rfc/rfc6583
    /// [RFC 4191 §3.2]: https://www.rfc-editor.org/rfc/rfc4191#section-3.2
    pub fn reached(&mut self, addr: &Ipv6Addr) {
        if let Some(r) = self.entries.iter_mut().find(|r| r.addr == *addr) {
            r.proven = true;
            r.suspect = false;
        }
    }

    /// NUD lost `addr` ([RFC 4191 §3.2]: other routers go first until it
    /// advertises again). `Some(proven)` when it is in the list.
    ///
    /// [RFC 4191 §3.2]: https://www.rfc-editor.org/rfc/rfc4191#section-3.2
    pub fn lost(&mut self, addr: &Ipv6Addr) -> Option<bool> {
        let r = self.entries.iter_mut().find(|r| r.addr == *addr)?;
        r.suspect = true;
        Some(r.proven)
    }

    pub fn contains(&self, addr: &Ipv6Addr) -> bool {
        self.entries.iter().any(|r| r.addr == *addr)
    }

    pub fn is_suspect(&self, addr: &Ipv6Addr) -> bool {
        self.entries.iter().any(|r| r.addr == *addr && r.suspect)
    }

    /// Remove one router whose lifetime ran out ([RFC 4861 §6.3.5]).
    ///
    /// [RFC 4861 §6.3.5]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.5
    pub fn expire(&mut self, now: Instant) -> Option<Router> {
        let i = self.entries.iter().position(|r| now.reached(r.expires))?;
        Some(self.entries.remove(i))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries
            .iter()
            .map(|r| r.expires)
            .reduce(Instant::earlier)
    }

    /// Bring lifetimes over for more than `max` to `now` (see
    /// `Instant::catch_up`).
    pub fn catch_up(&mut self, now: Instant, max: Duration) {
        for r in self.entries.iter_mut() {
            r.expires.catch_up(now, max);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Router> {
        self.entries.iter()
    }
}

/// A more-specific route from a Route Information option ([RFC 4191 §2.3]),
/// as seen by [`crate::Stack::routes`].
///
/// [RFC 4191 §2.3]: https://www.rfc-editor.org/rfc/rfc4191#section-2.3
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Route {
    /// Destination prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// The router that advertised it (the next hop).
    pub router: Ipv6Addr,
    /// Route preference.
    pub preference: Preference,
    /// When it expires ([`Expiry::NEVER`]: never).
    pub expires: Expiry,
}

/// Routes learnt from Route Information options.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteTable {
    entries: heapless::Vec<Route, ROUTES>,
}

impl RouteTable {
    /// Apply one Route Information option from `router` ([RFC 4191 §3.1]):
    /// located by prefix, length and router; lifetime zero removes it.
    /// Callers drop options with the reserved preference first (§2.3).
    /// A full table refuses newcomers; see [`RouteTable::evict`].
    ///
    /// [RFC 4191 §3.1]: https://www.rfc-editor.org/rfc/rfc4191#section-3.1
    #[cfg(feature = "route-info")]
    pub fn update(
        &mut self,
        prefix: Ipv6Addr,
        len: u8,
        router: Ipv6Addr,
        preference: Preference,
        lifetime: Lifetime,
        clock: &Clock,
    ) -> Update {
        let expires = clock.expiry(lifetime);
        let found = self
            .entries
            .iter()
            .position(|r| r.prefix == prefix && r.len == len && r.router == router);
        match (found, lifetime) {
            (Some(i), Lifetime::Finite(0)) => {
                self.entries.remove(i);
                Update::Removed
            }
            (Some(i), _) => {
                let Some(r) = self.entries.get_mut(i) else {
                    return Update::Ignored;
                };
                r.expires = expires;
                if r.preference != preference {
                    r.preference = preference;
                    return Update::Changed;
                }
                Update::Refreshed
            }
            (None, Lifetime::Finite(0)) => Update::Ignored,
            // First come, first served: a full table refuses newcomers.
            (None, _) => match self.entries.push(Route {
                prefix,
                len,
                router,
                preference,
                expires,
            }) {
                Ok(()) => Update::Added { evicted: None },
                Err(_) => Update::Refused,
            },
        }
    }

    /// Give up the newest route through a router `may_go` names, to make
    /// room ([RFC 6583 §6]: the caller lets a proven router's routes
    /// displace those of routers never proven).
    ///
    /// [RFC 6583 §6]: https://www.rfc-editor.org/rfc/rfc6583#section-6
    pub fn evict(&mut self, may_go: impl Fn(&Ipv6Addr) -> bool) -> Option<Route> {
        let i = self.entries.iter().rposition(|r| may_go(&r.router))?;
        Some(self.entries.remove(i))
    }

    pub fn expire(&mut self, clock: &Clock) -> Option<Route> {
        let i = self.entries.iter().position(|r| clock.expired(r.expires))?;
        Some(self.entries.remove(i))
    }

    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        let first = self.entries.iter().map(|r| r.expires).min()?;
        clock.deadline(first)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.entries.iter()
    }
}

/// An on-link prefix ([RFC 4861 §6.3.4]), as seen by
/// [`crate::Stack::prefixes`].
///
/// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OnLinkPrefix {
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// When its valid lifetime ends ([`Expiry::NEVER`]: never).
    pub expires: Expiry,
}

/// The prefix list for on-link determination.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixList {
    entries: heapless::Vec<OnLinkPrefix, PREFIXES>,
}

impl PrefixList {
    /// Apply a Prefix Information option with L=1 ([RFC 4861 §6.3.4]). The
    /// caller has already ignored the link-local prefix.
    ///
    /// [RFC 4861 §6.3.4]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.4
    pub fn update(&mut self, prefix: Ipv6Addr, len: u8, valid: Lifetime, clock: &Clock) -> Update {
        let expires = clock.expiry(valid);
        let found = self
            .entries
            .iter()
            .position(|p| p.prefix == prefix && p.len == len);
        match (found, valid) {
            // Present, lifetime zero: time it out at once.
            (Some(i), Lifetime::Finite(0)) => {
                self.entries.remove(i);
                Update::Removed
            }
            // Present: reset its timer (no two-hour rule for on-link
            // determination, §6.3.4).
            (Some(i), _) => {
                if let Some(p) = self.entries.get_mut(i) {
                    p.expires = expires;
                }
                Update::Refreshed
            }
            // Absent, lifetime zero: ignore.
            (None, Lifetime::Finite(0)) => Update::Ignored,
            // Absent: create it; first come, first served when full.
            (None, _) => match self.entries.push(OnLinkPrefix {
                prefix,
                len,
                expires,
            }) {
                Ok(()) => Update::Added { evicted: None },
                Err(_) => Update::Refused,
            },
        }
    }

    /// `dst` is covered by an on-link prefix.
    pub fn on_link(&self, dst: &Ipv6Addr) -> bool {
        self.entries
            .iter()
            .any(|p| in_prefix(dst, &p.prefix, p.len))
    }

    pub fn expire(&mut self, clock: &Clock) -> Option<OnLinkPrefix> {
        let i = self.entries.iter().position(|p| clock.expired(p.expires))?;
        Some(self.entries.remove(i))
    }

    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        let first = self.entries.iter().map(|p| p.expires).min()?;
        clock.deadline(first)
    }

    pub fn iter(&self) -> impl Iterator<Item = &OnLinkPrefix> {
        self.entries.iter()
    }
}

/// What a host knows of a router's reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Reachable or probably reachable: a neighbor entry in any state but
    /// INCOMPLETE (RFC 4861 §6.3.6).
    Yes,
    /// Nothing known: assumed reachable (RFC 4191 §3.2).
    Unknown,
    /// Probably reachable, but a router still on probation: chosen only
    /// when no proven router is (RFC 6583 §6), whatever it claims.
    Probation,
    /// Being resolved (INCOMPLETE) or found unreachable by NUD.
    Suspect,
}

/// Choose the router for an off-link destination, as a type C host
/// (RFC 4191 §3.2): among the routes matching `dst` (more-specific routes
/// and the default routes of the router list), the longest prefix, then the
/// highest preference, skipping routers that are suspect, and routers on
/// probation while a proven one is usable (RFC 6583 §6). When every
/// matching route points to a suspect router, rotate among the routers of
/// the best matching prefix length (RFC 4861 §6.3.6) so that NUD gets to
/// probe each of them: `rotation` is the position, moved when given.
pub(crate) fn select_router(
    routers: &RouterList,
    routes: &RouteTable,
    dst: &Ipv6Addr,
    reach: impl Fn(&Ipv6Addr) -> Reach,
    rotation: Option<&mut usize>,
) -> Option<Ipv6Addr> {
    // (prefix length, preference rank, router), in table order: the
    // more-specific routes matching `dst`, then the router list.
    let mut candidates: heapless::Vec<(u8, u8, Ipv6Addr), { ROUTES + ROUTERS }> =
        heapless::Vec::new();
    for r in routes.iter().filter(|r| in_prefix(dst, &r.prefix, r.len)) {
        let _ = candidates.push((r.len, rank(r.preference), r.router));
    }
    for r in routers.iter() {
        // RFC 4191 §3.1: a ::/0 route from the same router overrides the
        // advertisement header's preference and lifetime.
        let overridden = routes.iter().any(|x| x.len == 0 && x.router == r.addr);
        if !overridden {
            let _ = candidates.push((0, rank(r.preference), r.addr));
        }
    }
    // One pass: reachable (or unknown) routers before those on
    // probation, suspect ones never; then the longest prefix, then the
    // highest preference; ties go to the earliest in table order.
    let mut best: Option<((u8, u8, u8), Ipv6Addr)> = None;
    for &(len, pref, router) in &candidates {
        let class = match reach(&router) {
            Reach::Yes | Reach::Unknown => 2,
            Reach::Probation => 1,
            Reach::Suspect => continue,
        };
        let key = (class, len, pref);
        if best.is_none_or(|(b, _)| key > b) {
            best = Some((key, router));
        }
    }
    if let Some((_, router)) = best {
        return Some(router);
    }
    // All suspect: rotate among the routers of the best prefix length,
    // by preference, then in table order.
    let best_len = candidates.iter().map(|c| c.0).max()?;
    let n = candidates.iter().filter(|c| c.0 == best_len).count();
    let mut k = rotation.as_deref().copied().unwrap_or(0).checked_rem(n)?;
    if let Some(r) = rotation {
        *r = r.wrapping_add(1);
    }
    for pref in (0..=rank(Preference::High)).rev() {
        for c in candidates.iter().filter(|c| c.0 == best_len && c.1 == pref) {
            if k == 0 {
                return Some(c.2);
            }
            k = k.saturating_sub(1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }
    const T0: Instant = Instant::from_secs(10);

    /// The engine's clocks at T0.
    fn c0() -> Clock {
        clock(T0)
    }

    fn clock(t: Instant) -> Clock {
        let mut c = Clock::new(Instant::ZERO);
        c.advance(t);
        c
    }

    #[test]
    fn router_lifetime_creates_refreshes_and_removes() {
        // RFC 4861 §6.3.4.
        let mut l = RouterList::default();
        assert_eq!(
            l.update(a("fe80::1"), 0, Preference::Medium, T0),
            Update::Ignored
        );
        assert_eq!(
            l.update(a("fe80::1"), 1800, Preference::Medium, T0),
            Update::Added { evicted: None }
        );
        let later = T0 + Duration::from_secs(100);
        assert_eq!(
            l.update(a("fe80::1"), 1800, Preference::Medium, later),
            Update::Refreshed
        );
        assert_eq!(
            l.iter().next().unwrap().expires,
            later + Duration::from_secs(1800)
        );
        assert_eq!(
            l.update(a("fe80::1"), 1800, Preference::High, later),
            Update::Changed
        );
        assert_eq!(
            l.update(a("fe80::1"), 0, Preference::High, later),
            Update::Removed
        );
        assert_eq!(l.iter().count(), 0);
    }

    #[test]
    fn reaching_a_router_proves_it_and_losing_it_makes_it_suspect() {
        let mut l = RouterList::default();
        l.update(a("fe80::1"), 60, Preference::Medium, T0);
        let r = |l: &RouterList| *l.iter().next().unwrap();
        assert!(!r(&l).proven && !r(&l).suspect);
        // Lost while on probation: the caller drops it (RFC 6583 §6).
        assert_eq!(l.lost(&a("fe80::1")), Some(false));
        assert!(r(&l).suspect && l.is_suspect(&a("fe80::1")));
        // Reached: proven and cleared, a change of rank.
        assert!(l.doubted(&a("fe80::1")));
        l.reached(&a("fe80::1"));
        assert!(r(&l).proven && !r(&l).suspect);
        // Reaching it again would change nothing.
        assert!(!l.doubted(&a("fe80::1")));
        // Lost once proven: suspect, kept; back when reached.
        assert_eq!(l.lost(&a("fe80::1")), Some(true));
        assert!(l.doubted(&a("fe80::1")));
        l.reached(&a("fe80::1"));
        assert!(!l.doubted(&a("fe80::1")));
        // Not in the list.
        assert_eq!(l.lost(&a("fe80::9")), None);
        assert!(!l.doubted(&a("fe80::9")));
        l.reached(&a("fe80::9"));
        assert_eq!(l.iter().count(), 1);
    }

    #[test]
    fn reserved_router_preference_is_medium() {
        // RFC 4191 §2.2.
        let mut l = RouterList::default();
        l.update(a("fe80::1"), 60, Preference::Reserved, T0);
        assert_eq!(l.iter().next().unwrap().preference, Preference::Medium);
    }

    #[test]
    fn router_expiry_is_exact() {
        // RFC 4861 §6.3.5.
        let mut l = RouterList::default();
        l.update(a("fe80::1"), 30, Preference::Medium, T0);
        assert_eq!(l.expire(T0 + Duration::from_millis(29_999)), None);
        assert_eq!(
            l.expire(T0 + Duration::from_secs(30)).map(|r| r.addr),
            Some(a("fe80::1"))
        );
    }

    #[test]
    fn full_router_list_gives_up_only_unproven_routers() {
        let mut l = RouterList::default();
        for (i, p, life) in [
            (1, Preference::Low, 60),
            (2, Preference::Low, 30),
            (3, Preference::High, 65535),
        ] {
            l.update(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i), life, p, T0);
        }
        l.get_mut(&a("fe80::2")).unwrap().proven = true;
        // RFC 6583 §6: the newest unproven router (::3) makes room, though
        // it claims more preference and lifetime than ::1; ::2 is the
        // least preferred and soonest to expire but proven.
        assert_eq!(
            l.update(a("fe80::4"), 60, Preference::High, T0),
            Update::Added {
                evicted: Some(a("fe80::3"))
            }
        );
        // The next newcomer takes the probation slot again: ::1, the
        // oldest probationer, keeps its place.
        assert_eq!(
            l.update(a("fe80::6"), 65535, Preference::High, T0),
            Update::Added {
                evicted: Some(a("fe80::4"))
            }
        );
        assert!(l.contains(&a("fe80::1")));
        l.remove(&a("fe80::6"));
        l.update(a("fe80::4"), 60, Preference::Low, T0);
        for r in [1, 4] {
            l.get_mut(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, r))
                .unwrap()
                .proven = true;
        }
        assert_eq!(
            l.update(a("fe80::5"), 60, Preference::High, T0),
            Update::Refused
        );
    }

    #[test]
    #[cfg(feature = "route-info")]
    fn selection_prefers_longest_match_then_preference_then_reachability() {
        // RFC 4191 §3.6's example: W ::/0 medium, X 2002::/16 medium,
        // Y 2001:db8::/32 high, Z 2001:db8::/32 low.
        let (w, x, y, z) = (a("fe80::a"), a("fe80::b"), a("fe80::c"), a("fe80::d"));
        let mut routers = RouterList::default();
        routers.update(w, 1800, Preference::Medium, T0);
        let mut routes = RouteTable::default();
        routes.update(
            a("2002::"),
            16,
            x,
            Preference::Medium,
            Lifetime::Infinite,
            &c0(),
        );
        routes.update(
            a("2001:db8::"),
            32,
            y,
            Preference::High,
            Lifetime::Infinite,
            &c0(),
        );
        routes.update(
            a("2001:db8::"),
            32,
            z,
            Preference::Low,
            Lifetime::Infinite,
            &c0(),
        );
        let dst = a("2001:db8::1");
        let all = |_: &Ipv6Addr| Reach::Yes;
        assert_eq!(select_router(&routers, &routes, &dst, all, None), Some(y));
        let no_y = |r: &Ipv6Addr| if *r == y { Reach::Suspect } else { Reach::Yes };
        assert_eq!(select_router(&routers, &routes, &dst, no_y, None), Some(z));
        let only_w = |r: &Ipv6Addr| if *r == w { Reach::Yes } else { Reach::Suspect };
        assert_eq!(
            select_router(&routers, &routes, &dst, only_w, None),
            Some(w)
        );
        // Unknown reachability counts as reachable (RFC 4191 §3.2).
        let unknown = |_: &Ipv6Addr| Reach::Unknown;
        assert_eq!(
            select_router(&routers, &routes, &dst, unknown, None),
            Some(y)
        );
        // X is never chosen for this destination; ::/0 catches the rest.
        assert_eq!(
            select_router(&routers, &routes, &a("2003::1"), all, None),
            Some(w)
        );
        assert_eq!(
            select_router(&routers, &routes, &a("2002::1"), all, None),
            Some(x)
        );
    }

    #[test]
    fn routers_on_probation_come_after_usable_proven_ones() {
        // RFC 6583 §6: a high-preference router on probation loses to a
        // usable low-preference one, and wins over a suspect one.
        let (real, rogue) = (a("fe80::1"), a("fe80::66"));
        let mut routers = RouterList::default();
        routers.update(real, 1800, Preference::Low, T0);
        routers.update(rogue, 65535, Preference::High, T0);
        let routes = RouteTable::default();
        let dst = a("2001:db8::1");
        let pick = |real_reach: Reach| {
            let reach = |r: &Ipv6Addr| {
                if *r == real {
                    real_reach
                } else {
                    Reach::Probation
                }
            };
            select_router(&routers, &routes, &dst, reach, None)
        };
        assert_eq!(pick(Reach::Yes), Some(real));
        assert_eq!(pick(Reach::Unknown), Some(real));
        assert_eq!(pick(Reach::Suspect), Some(rogue));
    }

    #[test]
    fn all_suspect_rotates_among_the_best_matches() {
        // RFC 4861 §6.3.6: round-robin when none is (probably) reachable.
        let mut routers = RouterList::default();
        for i in 1..=3u16 {
            routers.update(
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i),
                60,
                Preference::Medium,
                T0,
            );
        }
        let routes = RouteTable::default();
        let none = |_: &Ipv6Addr| Reach::Suspect;
        let dst = a("2001:db8::1");
        let mut rr = 0;
        let picks: Vec<_> = (0..6)
            .map(|_| select_router(&routers, &routes, &dst, none, Some(&mut rr)).unwrap())
            .collect();
        assert_eq!(
            picks[..3]
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3,
            "{picks:?}"
        );
        assert_eq!(picks[..3], picks[3..]);
        // Without a rotation to move, the choice stays.
        let p = select_router(&routers, &routes, &dst, none, None);
        assert_eq!(p, select_router(&routers, &routes, &dst, none, None));
        assert_eq!(
            select_router(&RouterList::default(), &routes, &dst, none, Some(&mut rr)),
            None
        );
    }

    #[test]
    #[cfg(feature = "route-info")]
    fn default_route_option_overrides_the_header() {
        // RFC 4191 §3.1: a ::/0 RIO overrides the RA header's preference.
        let (r1, r2) = (a("fe80::1"), a("fe80::2"));
        let mut routers = RouterList::default();
        routers.update(r1, 1800, Preference::High, T0);
        routers.update(r2, 1800, Preference::Medium, T0);
        let mut routes = RouteTable::default();
        routes.update(
            Ipv6Addr::UNSPECIFIED,
            0,
            r1,
            Preference::Low,
            Lifetime::Finite(100),
            &c0(),
        );
        let all = |_: &Ipv6Addr| Reach::Yes;
        assert_eq!(
            select_router(&routers, &routes, &a("2001:db8::1"), all, None),
            Some(r2)
        );
    }

    #[test]
    #[cfg(feature = "route-info")]
    fn routes_follow_their_lifetimes() {
        let mut routes = RouteTable::default();
        let (p, r) = (a("2001:db8:ff::"), a("fe80::1"));
        assert_eq!(
            routes.update(p, 48, r, Preference::Low, Lifetime::ZERO, &c0()),
            Update::Ignored
        );
        assert_eq!(
            routes.update(p, 48, r, Preference::Low, Lifetime::Finite(10), &c0()),
            Update::Added { evicted: None }
        );
        assert_eq!(
            routes.update(p, 48, r, Preference::High, Lifetime::Finite(10), &c0()),
            Update::Changed
        );
        assert_eq!(
            routes.next_deadline(&c0()),
            Some(T0 + Duration::from_secs(10))
        );
        assert_eq!(
            routes.update(p, 48, r, Preference::High, Lifetime::ZERO, &c0()),
            Update::Removed
        );
    }

    #[test]
    fn prefixes_follow_their_lifetimes() {
        let mut prefixes = PrefixList::default();
        let q = a("2001:db8:1::");
        assert_eq!(
            prefixes.update(q, 64, Lifetime::ZERO, &c0()),
            Update::Ignored
        );
        assert_eq!(
            prefixes.update(q, 64, Lifetime::Infinite, &c0()),
            Update::Added { evicted: None }
        );
        assert!(prefixes.on_link(&a("2001:db8:1::99")));
        assert!(!prefixes.on_link(&a("2001:db8:2::99")));
        assert_eq!(
            prefixes.next_deadline(&c0()),
            None,
            "infinite never expires"
        );
        // A short lifetime applies as is for on-link determination.
        assert_eq!(
            prefixes.update(q, 64, Lifetime::Finite(5), &c0()),
            Update::Refreshed
        );
        assert_eq!(
            prefixes
                .expire(&clock(T0 + Duration::from_secs(5)))
                .map(|p| p.prefix),
            Some(q)
        );
        assert!(!prefixes.on_link(&a("2001:db8:1::99")));
    }

    #[test]
    fn full_tables_refuse_newcomers_and_keep_existing_entries() {
        let mut prefixes = PrefixList::default();
        for i in 0..PREFIXES as u16 {
            prefixes.update(
                Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
                64,
                Lifetime::Finite(60),
                &c0(),
            );
        }
        assert_eq!(
            prefixes.update(a("2001:db8:ff::"), 64, Lifetime::Finite(60), &c0()),
            Update::Refused
        );
        assert_eq!(
            prefixes.update(a("2001:db8::"), 64, Lifetime::Finite(90), &c0()),
            Update::Refreshed
        );
    }

    #[test]
    #[cfg(feature = "route-info")]
    fn a_full_route_table_refuses_newcomers_until_one_is_evicted() {
        let mut routes = RouteTable::default();
        for i in 0..ROUTES as u16 {
            routes.update(
                Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
                48,
                a("fe80::1"),
                Preference::Medium,
                Lifetime::Finite(60),
                &c0(),
            );
        }
        let r = routes.update(
            a("2001:db8:ff::"),
            48,
            a("fe80::1"),
            Preference::High,
            Lifetime::Finite(60),
            &c0(),
        );
        assert_eq!(r, Update::Refused);
        // RFC 6583 §6: room is made from the newest route through a
        // router the caller names.
        assert_eq!(routes.evict(|r| *r == a("fe80::2")), None);
        let gone = routes.evict(|r| *r == a("fe80::1")).unwrap();
        assert_eq!(gone.prefix, a("2001:db8:3::"));
        assert_eq!(
            routes.update(
                a("2001:db8:ff::"),
                48,
                a("fe80::2"),
                Preference::High,
                Lifetime::Finite(60),
                &c0(),
            ),
            Update::Added { evicted: None }
        );
        let via_1 = core::iter::from_fn(|| routes.evict(|r| *r == a("fe80::1"))).count();
        assert_eq!(via_1, ROUTES - 1);
        assert_eq!(routes.iter().count(), 1);
    }
}
