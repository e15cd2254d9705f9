//! The destination cache ([RFC 4861 §5.2]): the next hop chosen for each
//! off-link destination, and the next hops Redirects taught us (§8.3).
//!
//! Entries computed by next-hop determination are dropped whenever the
//! routing inputs change (routers, routes, prefixes, reachability:
//! [RFC 4191 §3.3], [RFC 4861 §6.3.5]), so the next packet chooses again;
//! Redirect entries stay until their next hop fails. When full, the least
//! recently used entry goes, computed ones before redirects.
//!
//! [RFC 4861 §5.2]: https://www.rfc-editor.org/rfc/rfc4861#section-5.2
//! [RFC 4191 §3.3]: https://www.rfc-editor.org/rfc/rfc4191#section-3.3
//! [RFC 4861 §6.3.5]: https://www.rfc-editor.org/rfc/rfc4861#section-6.3.5

use core::net::Ipv6Addr;

use super::DESTINATIONS;
use crate::time::Instant;

/// One destination cache entry, as seen by [`crate::Stack::destinations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Destination {
    /// The destination.
    pub dst: Ipv6Addr,
    /// Its next hop.
    pub next_hop: Ipv6Addr,
    /// Learnt from a Redirect rather than computed.
    pub redirected: bool,
    /// Last use.
    pub used: Instant,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DestCache {
    entries: heapless::Vec<Destination, DESTINATIONS>,
}

impl DestCache {
    /// The cached next hop for `dst`, marking the entry used.
    pub fn lookup(&mut self, dst: &Ipv6Addr, now: Instant) -> Option<Ipv6Addr> {
        let e = self.entries.iter_mut().find(|e| e.dst == *dst)?;
        e.used = now;
        Some(e.next_hop)
    }

    /// The cached next hop for `dst`, without marking it.
    pub fn peek(&self, dst: &Ipv6Addr) -> Option<Ipv6Addr> {
        self.entries
            .iter()
            .find(|e| e.dst == *dst)
            .map(|e| e.next_hop)
    }

    pub fn insert(&mut self, dst: Ipv6Addr, next_hop: Ipv6Addr, redirected: bool, now: Instant) {
        let new = Destination {
            dst,
            next_hop,
            redirected,
            used: now,
        };
        if let Some(e) = self.entries.iter_mut().find(|e| e.dst == dst) {
            *e = new;
            return;
        }
        if self.entries.is_full() {
            let victim = self
                .entries
                .iter()
                .enumerate()
                // Computed before redirected, then least recently used:
                // the largest age (modulo 2^32 ms, so right for 49 days).
                .max_by_key(|(_, e)| {
                    let age = now.as_millis().wrapping_sub(e.used.as_millis());
                    (!e.redirected, age)
                })
                .map(|(i, _)| i);
            if let Some(v) = victim {
                self.entries.remove(v);
            }
        }
        let _ = self.entries.push(new);
    }

    /// Bring every entry's last-use time to at most `max` before `now`
    /// (see `NeighborCache::age_stamps`).
    pub fn age_stamps(&mut self, now: Instant, max: crate::time::Duration) {
        for e in self.entries.iter_mut() {
            e.used.age_at_most(now, max);
        }
    }

    /// Forget every computed entry: routing inputs changed.
    pub fn flush_computed(&mut self) {
        self.entries.retain(|e| e.redirected);
    }

    /// Forget every entry (computed or redirected) through `next_hop`.
    pub fn forget_next_hop(&mut self, next_hop: &Ipv6Addr) {
        self.entries.retain(|e| e.next_hop != *next_hop);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Destination> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)
    }

    #[test]
    fn lru_eviction_keeps_redirects_longest() {
        let mut d = DestCache::default();
        let r = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        d.insert(a(1), r, true, Instant::from_millis(1));
        for i in 2..=DESTINATIONS as u16 {
            d.insert(a(i), r, false, Instant::from_millis(u32::from(i)));
        }
        assert_eq!(d.lookup(&a(2), Instant::from_millis(100)), Some(r));
        d.insert(a(99), r, false, Instant::from_millis(101));
        // The least recently used computed entry (a(3)) went; the older
        // redirect and the freshly used a(2) stayed.
        assert!(d.peek(&a(3)).is_none());
        assert!(d.peek(&a(1)).is_some() && d.peek(&a(2)).is_some() && d.peek(&a(99)).is_some());
        d.flush_computed();
        assert_eq!(d.iter().count(), 1);
        d.forget_next_hop(&r);
        assert_eq!(d.iter().count(), 0);
    }
}
