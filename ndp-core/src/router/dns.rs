//! Recursive DNS servers and search domains from Router Advertisements
//! ([RFC 8106 §5.3.1], §6).
//!
//! Each list holds [`DNS_SERVERS`] (or [`SEARCH_DOMAINS`]) entries with
//! their expiry. For every address (or name) of an option: lifetime zero
//! deletes it; a known one gets the new expiry; a new one is inserted
//! ahead of the existing entries, in the option's order, and a full list
//! gives up the entry that expires first ([RFC 8106 §6.2] steps b–d).
//!
//! Search domains are stored in [`SEARCH_DOMAIN_MAX_LEN`]-byte slots to
//! keep RAM small on microcontrollers; a longer name is not stored, and
//! the stack counts it.
//!
//! [RFC 8106 §5.3.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.3.1
//! [RFC 8106 §6.2]: https://www.rfc-editor.org/rfc/rfc8106#section-6.2

use core::fmt;
use core::net::Ipv6Addr;

use crate::time::{Clock, Expiry, Instant};
use crate::wire::DomainName;

/// DNS servers kept ([RFC 8106 §5.3.1] recommends at least three).
///
/// [RFC 8106 §5.3.1]: https://www.rfc-editor.org/rfc/rfc8106#section-5.3.1
pub const DNS_SERVERS: usize = 3;
/// Search domains kept.
pub const SEARCH_DOMAINS: usize = 3;
/// Longest search domain stored, in characters.
pub const SEARCH_DOMAIN_MAX_LEN: usize = 64;

/// A search domain, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SearchDomain {
    len: u8,
    text: [u8; SEARCH_DOMAIN_MAX_LEN],
}

impl SearchDomain {
    /// `None` when `name` is longer than [`SEARCH_DOMAIN_MAX_LEN`].
    pub fn new(name: &DomainName) -> Option<Self> {
        let s = name.as_str().as_bytes();
        let mut text = [0u8; SEARCH_DOMAIN_MAX_LEN];
        text.get_mut(..s.len())?.copy_from_slice(s);
        Some(SearchDomain {
            len: u8::try_from(s.len()).ok()?,
            text,
        })
    }

    /// The name as dotted text.
    pub fn as_str(&self) -> &str {
        let bytes = self.text.get(..usize::from(self.len)).unwrap_or(&[]);
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Debug for SearchDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SearchDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SearchDomain {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}

/// A list of values with expiry, managed by RFC 8106 §6.2's steps.
#[derive(Debug, Clone)]
pub(crate) struct Expiring<T, const N: usize> {
    entries: heapless::Vec<(T, Expiry), N>,
}

impl<T, const N: usize> Default for Expiring<T, N> {
    fn default() -> Self {
        Expiring {
            entries: heapless::Vec::new(),
        }
    }
}

impl<T: PartialEq + Copy, const N: usize> Expiring<T, N> {
    /// Apply one option's values (in option order) with one expiry;
    /// `expires == None` means lifetime zero. Returns whether the set or
    /// order of values changed.
    pub fn update(&mut self, values: impl Iterator<Item = T>, expires: Option<Expiry>) -> bool {
        let mut changed = false;
        let mut at = 0usize;
        for v in values {
            let found = self.entries.iter().position(|(x, _)| *x == v);
            match (found, expires) {
                // Step (b): known, lifetime zero: delete.
                (Some(i), None) => {
                    self.entries.remove(i);
                    changed = true;
                }
                // Step (c): known: new expiry.
                (Some(i), Some(e)) => {
                    if let Some(x) = self.entries.get_mut(i) {
                        x.1 = e;
                    }
                }
                // Not stored and lifetime zero: nothing to do.
                (None, None) => {}
                // Step (d): new: insert ahead of older entries, keeping
                // the option's order; when full, drop the entry that
                // expires first.
                (None, Some(e)) => {
                    if self.entries.is_full() {
                        let first = self
                            .entries
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, x)| x.1)
                            .map(|(i, _)| i);
                        if let Some(i) = first {
                            self.entries.remove(i);
                            at = at.min(self.entries.len());
                        }
                    }
                    if self
                        .entries
                        .insert(at.min(self.entries.len()), (v, e))
                        .is_ok()
                    {
                        at = at.saturating_add(1);
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// Drop expired entries; true if any went.
    pub fn expire(&mut self, clock: &Clock) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(_, e)| !clock.expired(*e));
        self.entries.len() != before
    }

    pub fn next_deadline(&self, clock: &Clock) -> Option<Instant> {
        let first = self.entries.iter().map(|(_, e)| *e).min()?;
        clock.deadline(first)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(v, _)| v)
    }
}

/// DNS servers (RDNSS).
pub(crate) type DnsServers = Expiring<Ipv6Addr, DNS_SERVERS>;
/// Search domains (DNSSL).
pub(crate) type SearchList = Expiring<SearchDomain, SEARCH_DOMAINS>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn a(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)
    }
    /// The end of a lifetime of `s` seconds from the start.
    fn t(s: u32) -> Expiry {
        Clock::new(Instant::ZERO).expiry_in(s)
    }

    /// The engine's clocks `s` seconds after the start.
    fn at(s: u32) -> Clock {
        let mut c = Clock::new(Instant::ZERO);
        c.advance(Instant::from_secs(s));
        c
    }

    #[test]
    fn rfc8106_steps() {
        let mut l = DnsServers::default();
        // New servers go first, in option order.
        assert!(l.update([a(1), a(2)].into_iter(), Some(t(100))));
        assert!(l.update([a(3)].into_iter(), Some(t(200))));
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [a(3), a(1), a(2)]);
        // Known: only the expiry moves; no change reported.
        assert!(!l.update([a(1)].into_iter(), Some(t(300))));
        // Full: a new one replaces the entry expiring first (a(2), t=100).
        assert!(l.update([a(4)].into_iter(), Some(t(150))));
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [a(4), a(3), a(1)]);
        // Lifetime zero deletes a known one and ignores an unknown one.
        assert!(l.update([a(3), a(9)].into_iter(), None));
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [a(4), a(1)]);
        // Expiry.
        assert_eq!(l.next_deadline(&at(0)), Some(Instant::from_secs(150)));
        assert_eq!(l.next_deadline(&at(149)), Some(Instant::from_secs(150)));
        assert!(!l.expire(&at(149)));
        assert!(l.expire(&at(150)));
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), [a(1)]);
    }

    #[test]
    fn long_search_domains_are_not_stored() {
        let ok = DomainName::new("lab.example.org").unwrap();
        assert_eq!(SearchDomain::new(&ok).unwrap().as_str(), "lab.example.org");
        let long = DomainName::new(&["a".repeat(40), "b".repeat(40)].join(".")).unwrap();
        assert!(SearchDomain::new(&long).is_none());
    }
}
