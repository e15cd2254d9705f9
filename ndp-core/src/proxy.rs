//! Neighbor Discovery proxy (feature `proxy`): the [`crate::Stack`]
//! answers Neighbor Solicitations for addresses that are not its own but
//! live behind it, the job npd6 does for a prefix routed to a host (an
//! ISP hands out a /64 on the WAN link and the hosts using it sit behind
//! the router).
//!
//! [`Proxy`] says which targets are answered for: those under one of its
//! prefixes, and on its allow list when that list is not empty, and on
//! no entry of its deny list. The stack then answers a solicitation for
//! such a target (RFC 4861 §7.2.8) with a Neighbor Advertisement:
//!
//! - carrying our link-layer address (TLLA), Override clear (§7.2.8: the
//!   target's own answer, with Override set, wins where it is on the
//!   link), Solicited set and sent to the solicitation's source (§7.2.4),
//!   Router as [`Proxy::set_router`] says (on by default: a node that
//!   proxies forwards, as Linux's `proxy ... router` entries and npd6's
//!   default do);
//! - from our link-local address (§7.2.4: an address of the interface;
//!   the target is not ours), once that address has passed DAD;
//! - at once: §7.2.8's random delay of up to MAX_ANYCAST_DELAY_TIME is
//!   for several proxies answering for the same target, and a proxy
//!   deployment has one;
//! - at most [`PROXY_ANSWERS`] per [`PROXY_WINDOW`], so a flood of
//!   solicitations costs bounded work and traffic.
//!
//! Not answered (the first two counted in [`ProxyStats`], the proxy's own
//! counters, so that a build without the feature carries none of them,
//! as are denied targets and answers beyond the rate or before our
//! link-local address passed DAD):
//!
//! - **DAD probes** (a solicitation from `::`). A proxy for a whole prefix
//!   does not know which addresses are in use behind it; answering would
//!   make every host on this link that tries an address of the prefix
//!   fail DAD (RFC 4862 §5.4.4) and give it up. npd6 makes the same
//!   choice; Linux's proxy_ndp, which proxies single addresses, answers.
//! - **Targets that live on this link**: one the neighbor cache holds
//!   with a link-layer address learned here. That host answers for
//!   itself, and a proxy answer, even with Override clear, would make
//!   an asker with no entry yet send to us.
//! - **Our own addresses**: the stack answers for those as for any
//!   address of its own, never as a proxy.
//! - Link-local, multicast, loopback and unspecified targets, whatever
//!   the prefixes (counted as any solicitation not for us, in
//!   [`crate::Stats`]).
//!
//! The proxy sends no unsolicited advertisements (§7.2.6 allows them,
//! with Override clear, when an address becomes proxied; neither Linux
//! nor npd6 sends them).
//!
//! To see these solicitations at all, the NIC must pass every
//! solicited-node group (33:33:ff:xx:xx:xx): a proxied target's group is
//! not one the stack joins. [`crate::Stack::multicast_groups`] does not
//! list them; pass all multicast, or that MAC range. The adapters'
//! software filter (`port::wanted`, feature `port`) passes that range
//! while a proxy is configured.

use core::net::Ipv6Addr;

use crate::time::{Duration, Instant};

/// Most prefixes a [`Proxy`] answers for.
pub const PROXY_PREFIXES: usize = 4;
/// Most entries on each of the allow and deny lists.
pub const PROXY_RULES: usize = 8;
/// Most proxy answers in one [`PROXY_WINDOW`].
pub const PROXY_ANSWERS: u16 = 50;
/// The window [`PROXY_ANSWERS`] is counted over.
pub const PROXY_WINDOW: Duration = Duration::from_millis(1000);

/// At most [`PROXY_ANSWERS`] per [`PROXY_WINDOW`], counted in fixed
/// windows: a handful of instructions per answer, where the stack's token
/// buckets spend a few dozen.
#[derive(Debug, Clone)]
pub(crate) struct AnswerBudget {
    window_start: Instant,
    used: u16,
}

impl AnswerBudget {
    pub(crate) const fn new(now: Instant) -> Self {
        AnswerBudget {
            window_start: now,
            used: 0,
        }
    }

    /// Start a new window when the current one is over (also what keeps
    /// the stored time young, see [`crate::time`]).
    pub(crate) fn settle(&mut self, now: Instant) {
        if now.wrapping_duration_since(self.window_start) >= PROXY_WINDOW {
            self.window_start = now;
            self.used = 0;
        }
    }

    /// Count one answer; `false` when the window's are used up.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        self.settle(now);
        if self.used >= PROXY_ANSWERS {
            return false;
        }
        self.used = self.used.saturating_add(1);
        true
    }
}

/// A prefix (or, at length 128, an address) for a [`Proxy`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProxyRule {
    /// The prefix's 16 bytes read as one native-endian number (see
    /// [`raw`]), its host bits clear.
    bits: u128,
    /// Its netmask, read the same way.
    mask: u128,
    len: u8,
}

/// Why a rule or list entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProxyError {
    /// A prefix length above 128.
    BadLength,
    /// A multicast, link-local, loopback or unspecified prefix: nothing
    /// under it is ever proxied.
    NotProxiable,
    /// The list is full ([`PROXY_PREFIXES`], [`PROXY_RULES`]).
    Full,
}

impl core::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ProxyError::BadLength => "a prefix length above 128",
            ProxyError::NotProxiable => {
                "a multicast, link-local, loopback or unspecified prefix cannot be proxied"
            }
            ProxyError::Full => "the list is full",
        })
    }
}

impl core::error::Error for ProxyError {}

/// An address's 16 bytes read as one native-endian number: masks and
/// comparisons work byte for byte whatever the byte order, without the
/// byte swaps a numeric value costs on a little-endian core.
#[inline(always)]
fn raw(a: &Ipv6Addr) -> u128 {
    u128::from_ne_bytes(a.octets())
}

/// Whether the address `a` (its [`raw`] form) may ever be proxied: not
/// link-local (fe80::/10), multicast (ff00::/8), loopback or unspecified.
#[inline(always)]
fn proxiable(a: u128) -> bool {
    const LINK_LOCAL_MASK: u128 = u128::from_ne_bytes((0xffc0u128 << 112).to_be_bytes());
    const LINK_LOCAL: u128 = u128::from_ne_bytes((0xfe80u128 << 112).to_be_bytes());
    const MULTICAST_MASK: u128 = u128::from_ne_bytes((0xffu128 << 120).to_be_bytes());
    const LOOPBACK: u128 = u128::from_ne_bytes(1u128.to_be_bytes());
    a & LINK_LOCAL_MASK != LINK_LOCAL
        && a & MULTICAST_MASK != MULTICAST_MASK
        && a != 0
        && a != LOOPBACK
}

impl ProxyRule {
    /// `prefix/len`; the bits past `len` are cleared.
    ///
    /// ```
    /// use ndp_core::proxy::ProxyRule;
    ///
    /// let r = ProxyRule::new("2001:db8:2::42".parse().unwrap(), 64).unwrap();
    /// assert_eq!(r.prefix(), "2001:db8:2::".parse::<core::net::Ipv6Addr>().unwrap());
    /// assert!(r.contains(&"2001:db8:2::7".parse().unwrap()));
    /// assert!(!r.contains(&"2001:db8:3::7".parse().unwrap()));
    /// ```
    pub fn new(prefix: Ipv6Addr, len: u8) -> Result<Self, ProxyError> {
        if len > 128 {
            return Err(ProxyError::BadLength);
        }
        let mask = u128::MAX
            .checked_shl(128u32.saturating_sub(u32::from(len)))
            .unwrap_or(0);
        let mask = u128::from_ne_bytes(mask.to_be_bytes());
        let bits = raw(&prefix) & mask;
        // A prefix shorter than fe80::/10 also covers unicast space (::/0
        // does): only one that lies inside the never-proxied space is
        // refused.
        if len >= 10 && !proxiable(bits) {
            return Err(ProxyError::NotProxiable);
        }
        Ok(ProxyRule { bits, mask, len })
    }

    /// The single address `addr` (a /128).
    pub fn address(addr: Ipv6Addr) -> Result<Self, ProxyError> {
        Self::new(addr, 128)
    }

    /// The prefix, its host bits clear.
    pub fn prefix(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.bits.to_ne_bytes())
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `a` is under this prefix.
    pub fn contains(&self, a: &Ipv6Addr) -> bool {
        self.contains_bits(raw(a))
    }

    #[inline(always)]
    fn contains_bits(&self, a: u128) -> bool {
        a & self.mask == self.bits
    }
}

/// What a [`Proxy`] decides for a target ([`Proxy::decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision {
    /// Under one of the prefixes, allowed, not denied: answer for it.
    Answer,
    /// Under none of the prefixes (or never proxiable).
    NotCovered,
    /// Under a prefix, but on the deny list, or not on a non-empty allow
    /// list.
    Denied,
}

/// What the proxy did with the solicitations for targets not ours, since
/// the stack was made (a solicitation for a target under no prefix
/// counts in [`crate::Stats`]'s `rx_ns_not_for_us`, as without a proxy).
/// All saturate at `u32::MAX`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProxyStats {
    /// Answered.
    pub answered: u32,
    /// Dropped: the target is on the deny list, or not on the allow list.
    pub denied: u32,
    /// Dropped: a DAD probe (from `::`), which a proxy does not answer.
    pub dad: u32,
    /// Dropped: the target lives on this link (in the neighbor cache with
    /// its link-layer address).
    pub on_link: u32,
    /// Dropped: beyond [`PROXY_ANSWERS`] per [`PROXY_WINDOW`], or before
    /// our link-local address, the answer's source, passed DAD.
    pub limited: u32,
    /// Dropped: no link-layer address to answer to (no SLLA, none cached,
    /// none from the frame).
    pub no_destination: u32,
}

/// Which targets the stack answers for; see the [module documentation](self).
/// Empty by default: nothing is proxied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Proxy {
    prefixes: heapless::Vec<ProxyRule, PROXY_PREFIXES>,
    allow: heapless::Vec<ProxyRule, PROXY_RULES>,
    deny: heapless::Vec<ProxyRule, PROXY_RULES>,
    router: bool,
    pub(crate) stats: ProxyStats,
}

impl Default for Proxy {
    fn default() -> Self {
        Self::new()
    }
}

impl Proxy {
    /// No prefixes, empty lists, the Router flag set in answers.
    pub const fn new() -> Self {
        Proxy {
            prefixes: heapless::Vec::new(),
            allow: heapless::Vec::new(),
            deny: heapless::Vec::new(),
            router: true,
            stats: ProxyStats {
                answered: 0,
                denied: 0,
                dad: 0,
                on_link: 0,
                limited: 0,
                no_destination: 0,
            },
        }
    }

    /// What the proxy did so far ([`Proxy::clear`] keeps it).
    pub fn stats(&self) -> &ProxyStats {
        &self.stats
    }

    /// Answer for targets under `rule` (an existing one is kept once).
    pub fn add_prefix(&mut self, rule: ProxyRule) -> Result<(), ProxyError> {
        add(&mut self.prefixes, rule)
    }

    /// Answer only for targets under an allow entry (once the list is not
    /// empty).
    pub fn allow(&mut self, rule: ProxyRule) -> Result<(), ProxyError> {
        add(&mut self.allow, rule)
    }

    /// Never answer for targets under `rule`.
    pub fn deny(&mut self, rule: ProxyRule) -> Result<(), ProxyError> {
        add(&mut self.deny, rule)
    }

    /// Forget every prefix and list entry (a configuration reload); the
    /// Router flag and the counters stay.
    pub fn clear(&mut self) {
        self.prefixes.clear();
        self.allow.clear();
        self.deny.clear();
    }

    /// The Router flag of the answers (RFC 4861 §7.2.4: set by a router).
    pub fn set_router(&mut self, router: bool) {
        self.router = router;
    }

    /// The Router flag of the answers.
    pub fn router(&self) -> bool {
        self.router
    }

    /// The prefixes answered for.
    pub fn prefixes(&self) -> impl Iterator<Item = ProxyRule> + '_ {
        self.prefixes.iter().copied()
    }

    /// The allow list.
    pub fn allowed(&self) -> impl Iterator<Item = ProxyRule> + '_ {
        self.allow.iter().copied()
    }

    /// The deny list.
    pub fn denied(&self) -> impl Iterator<Item = ProxyRule> + '_ {
        self.deny.iter().copied()
    }

    /// Whether any prefix is configured.
    pub fn is_active(&self) -> bool {
        !self.prefixes.is_empty()
    }

    /// Whether `a` is under one of the prefixes (whatever the lists say).
    pub fn covers(&self, a: &Ipv6Addr) -> bool {
        let t = raw(a);
        self.prefixes.iter().any(|r| r.contains_bits(t))
    }

    /// What to do for `target` by the lists alone (the stack also checks
    /// the solicitation and the neighbor cache).
    ///
    /// ```
    /// use ndp_core::proxy::{Decision, Proxy, ProxyRule};
    ///
    /// let mut p = Proxy::new();
    /// p.add_prefix(ProxyRule::new("2001:db8:2::".parse().unwrap(), 64).unwrap()).unwrap();
    /// p.deny(ProxyRule::address("2001:db8:2::bad".parse().unwrap()).unwrap()).unwrap();
    /// assert_eq!(p.decide(&"2001:db8:2::42".parse().unwrap()), Decision::Answer);
    /// assert_eq!(p.decide(&"2001:db8:2::bad".parse().unwrap()), Decision::Denied);
    /// assert_eq!(p.decide(&"2001:db8:3::42".parse().unwrap()), Decision::NotCovered);
    /// ```
    #[inline]
    pub fn decide(&self, target: &Ipv6Addr) -> Decision {
        let t = raw(target);
        if !self.prefixes.iter().any(|r| r.contains_bits(t)) || !proxiable(t) {
            return Decision::NotCovered;
        }
        // The usual configuration, prefixes alone, decides here.
        if self.allow.is_empty() && self.deny.is_empty() {
            return Decision::Answer;
        }
        let allowed = self.allow.is_empty() || self.allow.iter().any(|r| r.contains_bits(t));
        if !allowed || self.deny.iter().any(|r| r.contains_bits(t)) {
            return Decision::Denied;
        }
        Decision::Answer
    }
}

fn add<const N: usize>(
    list: &mut heapless::Vec<ProxyRule, N>,
    rule: ProxyRule,
) -> Result<(), ProxyError> {
    if list.contains(&rule) {
        return Ok(());
    }
    list.push(rule).map_err(|_| ProxyError::Full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn rules_clear_host_bits_and_match_by_prefix() {
        let r = ProxyRule::new(a("2001:db8:2::ffff"), 48).unwrap();
        assert_eq!(r.prefix(), a("2001:db8:2::"));
        assert!(r.contains(&a("2001:db8:2:ffff::1")));
        assert!(!r.contains(&a("2001:db8:3::1")));
        let host = ProxyRule::address(a("2001:db8:2::42")).unwrap();
        assert!(host.contains(&a("2001:db8:2::42")));
        assert!(!host.contains(&a("2001:db8:2::43")));
        let all = ProxyRule::new(a("::"), 0).unwrap();
        assert!(all.contains(&a("2001:db8::1")));
        assert_eq!(
            ProxyRule::new(a("2001:db8::"), 129),
            Err(ProxyError::BadLength)
        );
        for (p, len) in [("fe80::", 64), ("ff02::", 16), ("::1", 128), ("::", 128)] {
            assert_eq!(
                ProxyRule::new(a(p), len),
                Err(ProxyError::NotProxiable),
                "{p}"
            );
        }
    }

    #[test]
    fn lists_decide_and_link_local_or_multicast_is_never_covered() {
        let mut p = Proxy::new();
        assert_eq!(p.decide(&a("2001:db8:2::1")), Decision::NotCovered);
        p.add_prefix(ProxyRule::new(a("2001:db8:2::"), 64).unwrap())
            .unwrap();
        // ::/0 as a prefix still never covers link-local or multicast.
        p.add_prefix(ProxyRule::new(a("::"), 0).unwrap()).unwrap();
        assert_eq!(p.decide(&a("fe80::1")), Decision::NotCovered);
        assert_eq!(p.decide(&a("ff02::1")), Decision::NotCovered);
        assert_eq!(p.decide(&a("::1")), Decision::NotCovered);
        assert_eq!(p.decide(&a("2001:db8:2::1")), Decision::Answer);
        p.clear();
        p.add_prefix(ProxyRule::new(a("2001:db8:2::"), 64).unwrap())
            .unwrap();
        p.allow(ProxyRule::new(a("2001:db8:2::"), 120).unwrap())
            .unwrap();
        p.deny(ProxyRule::address(a("2001:db8:2::7")).unwrap())
            .unwrap();
        assert_eq!(p.decide(&a("2001:db8:2::8")), Decision::Answer);
        assert_eq!(p.decide(&a("2001:db8:2::7")), Decision::Denied);
        assert_eq!(p.decide(&a("2001:db8:2::1:8")), Decision::Denied);
        assert_eq!(p.decide(&a("2001:db8:3::8")), Decision::NotCovered);
    }

    #[test]
    fn lists_are_bounded_and_keep_an_entry_once() {
        let mut p = Proxy::new();
        let r =
            |i: u16| ProxyRule::new(Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0), 64).unwrap();
        for i in 0..PROXY_PREFIXES as u16 {
            p.add_prefix(r(i)).unwrap();
            p.add_prefix(r(i)).unwrap();
        }
        assert_eq!(p.prefixes().count(), PROXY_PREFIXES);
        assert_eq!(p.add_prefix(r(99)), Err(ProxyError::Full));
    }
}
