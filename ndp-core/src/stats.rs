//! Per-reason counters: part of the API, not debug output.
//!
//! Every message the engine receives and does not act on, and every packet
//! it drops, increments exactly one drop counter here, so a flood can be
//! accounted for message by message.

use crate::wire::{Error, Invalid};

macro_rules! counters {
    ($( $(#[$m:meta])* $field:ident, )+) => {
        /// Counters since the stack was created. All saturate at `u32::MAX`.
        // repr(C): the fields in declaration order, so that reading the
        // i-th of them (`plain`) is one indexed load.
        #[repr(C)]
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct Stats {
            /// Received messages dropped as malformed, indexed by
            /// [`Error::index`].
            pub rx_malformed: [u32; Error::ALL.len()],
            /// Received messages dropped for breaking a receive rule,
            /// indexed by [`Invalid::index`].
            pub rx_invalid: [u32; Invalid::ALL.len()],
            $( $(#[$m])* pub $field: u32, )+
        }

        impl Default for Stats {
            fn default() -> Self {
                Stats {
                    rx_malformed: [0; Error::ALL.len()],
                    rx_invalid: [0; Invalid::ALL.len()],
                    $( $field: 0, )+
                }
            }
        }

        /// How many plain counters (the named fields) there are.
        #[cfg(all(test, feature = "counter-names"))]
        const PLAIN: usize = [$( stringify!($field), )+].len();

        #[cfg(feature = "counter-names")]
        impl Stats {
            /// The plain counters' names, in order, each followed by a
            /// space: one string is far smaller than a table of them.
            const PLAIN_NAMES: &'static str = concat!($( stringify!($field), " ", )+);

            /// The `i`th plain counter. Written as a chain of tests, which
            /// the optimizer turns into one indexed load (the fields are in
            /// declaration order): a few bytes, where an array of the
            /// values or a table of names took hundreds.
            // k counts the fields, far below usize::MAX.
            #[allow(clippy::arithmetic_side_effects)]
            fn plain(&self, i: usize) -> Option<u32> {
                let mut k = 0usize;
                $(
                    if i == k {
                        return Some(self.$field);
                    }
                    k += 1;
                )+
                let _ = k;
                None
            }
        }
    };
}

counters! {
    /// Neighbor Solicitations accepted for processing.
    rx_ns,
    /// Neighbor Advertisements accepted for processing.
    rx_na,
    /// Router Advertisements accepted for processing.
    rx_ra,
    /// Redirects accepted for processing.
    rx_redirect,
    /// Dropped: the IPv6 destination is neither one of our addresses nor
    /// a group we listen to.
    rx_not_for_us,
    /// Dropped: a Router Solicitation (hosts discard them, RFC 4861 §6.1.1).
    rx_rs_ignored,
    /// Dropped: a Neighbor Solicitation for a target that is not ours
    /// (RFC 4861 §7.2.3).
    rx_ns_not_for_us,
    /// Dropped: a Neighbor Advertisement for a target with no cache entry;
    /// a host never creates entries from them (RFC 4861 §7.2.5).
    rx_na_no_entry,
    /// Dropped: a Neighbor Advertisement without target link-layer address
    /// for an INCOMPLETE entry (RFC 4861 §7.2.5).
    rx_na_incomplete_no_lladdr,
    /// Dropped: a Neighbor Advertisement for one of our own addresses.
    rx_na_for_own_address,
    /// Dropped: IPv6 is disabled on the interface (RFC 4862 §5.4.5).
    rx_disabled,
    /// MLD reports and dones from other nodes, which listeners ignore
    /// (RFC 3810 §6).
    rx_mld_ignored,
    /// Dropped: a Neighbor Solicitation for one of our tentative addresses
    /// from a unicast source (RFC 4862 §5.4.3).
    rx_ns_for_tentative,
    /// Dropped: one of our own DAD probes came back (same nonce,
    /// RFC 7527 §4.2).
    rx_dad_loopback,
    /// Dropped: one of our own advertisements came back (our MAC in its
    /// target link-layer address).
    rx_own_advert,
    /// MLD queries answered (scheduled).
    rx_mld_query,
    /// Dropped: a Redirect not from the current first-hop router for its
    /// destination (RFC 4861 §8.1).
    rx_redirect_not_first_hop,
    /// Dropped: a valid Redirect, the engine being built without the
    /// `redirect` feature.
    rx_redirect_ignored,
    /// A router was not added: the router list was full of routers proven
    /// reachable (RFC 6583).
    ra_router_refused,
    /// A router never proven reachable was dropped from a full router list
    /// for a newcomer.
    ra_router_evicted,
    /// Dropped: a message whose source or target link-layer address
    /// option carried a group (multicast or broadcast) MAC address.
    rx_lladdr_not_unicast,
    /// Dropped: a Router Advertisement from a router not in the list,
    /// beyond the admission rate for newcomers (RFC 6583 §6).
    rx_ra_rate_limited,
    /// A new router, prefix, route or SLAAC address was turned away: the
    /// admission rate was spent or its table was full (RFC 6583 §6).
    newcomers_refused,
    /// A router never proven reachable left the list: its admission probe
    /// (or later NUD) went unanswered.
    router_probation_failed,
    /// An on-link prefix was not added: the prefix list was full.
    ra_prefix_refused,
    /// A route was not added: the route table was full.
    ra_route_refused,
    /// A Route Information option with the reserved preference was
    /// ignored (RFC 4191 §2.3).
    ra_route_reserved_preference,
    /// A Prefix Information option for the link-local prefix was ignored
    /// (RFC 4861 §6.3.4).
    ra_link_local_prefix,
    /// An MTU option outside [1280, link MTU] was ignored (RFC 4861 §6.3.4).
    ra_mtu_ignored,
    /// A Reachable Time or Retrans Timer outside its range was clamped
    /// (`RA_REACHABLE_TIME_RANGE`, `RA_RETRANS_TIMER_RANGE` in
    /// `ndp_core::neighbor`).
    ra_value_clamped,
    /// A malformed option of an otherwise valid Router Advertisement was
    /// ignored.
    ra_option_malformed,
    /// An RDNSS address that is not unicast was ignored (RFC 8106 §5.3.1).
    dns_server_not_unicast,
    /// A search domain longer than the stored maximum was not kept.
    dns_domain_too_long,
    /// A new neighbor entry was not created: the table was full and no
    /// entry could be given up for it (RFC 6583 §6).
    nc_create_refused,
    /// An existing entry was evicted to make room for a new one.
    nc_evicted,
    /// Neighbors removed because NUD found them unreachable.
    nud_unreachable,
    /// Address resolution not started: too many INCOMPLETE entries
    /// (RFC 6583 §6). The packet was dropped.
    resolution_refused,
    /// A multicast solicitation was postponed by the global budget.
    ns_rate_limited,
    /// Dropped: the oldest queued packet of a neighbor, replaced by a new
    /// one (RFC 4861 §7.2.2).
    queue_overflow,
    /// Dropped: no room for a packet in the queue's byte budget.
    queue_no_space,
    /// Dropped: address resolution failed for a queued packet; each is
    /// answered with a Destination Unreachable (RFC 4861 §7.2.2).
    queue_unresolved,
    /// A packet to route had no next hop (not on-link, no matching route,
    /// no default router); it was dropped.
    send_no_route,
    /// Dropped: a packet to send was not a well-formed IPv6 packet.
    send_malformed,
    /// Router Solicitations sent.
    tx_rs,
    /// DAD probes sent.
    tx_dad_probe,
    /// MLD reports (and MLDv1 dones) sent.
    tx_mld,
    /// Gratuitous Neighbor Advertisements sent (RFC 9131).
    tx_gratuitous_na,
    /// Duplicate addresses detected by DAD.
    dad_conflicts,
    /// Prefixes given up after IDGEN_RETRIES conflicts.
    dad_gave_up,
    /// Prefix Information options not used for SLAAC: A=0 aside, a
    /// link-local prefix, preferred > valid, or a length other than 64
    /// (RFC 4862 §5.5.3 b-d).
    slaac_ignored,
    /// A SLAAC address was not created: the address table was full.
    slaac_refused,
    /// Multicast Neighbor Solicitations sent.
    tx_ns_multicast,
    /// Unicast Neighbor Solicitations sent.
    tx_ns_unicast,
    /// Neighbor Advertisements sent.
    tx_na,
    /// Destination Unreachable messages handed to the local IP stack.
    tx_unreachable,
    /// Packets released from the resolution queue.
    tx_released,
    /// Dropped: an answer (NA) could not be queued (the answer queue was
    /// full) or had no link-layer destination.
    tx_answer_dropped,
    /// A solicitation was due but no address could be its source; the
    /// attempt counts toward the limits.
    tx_ns_no_source,
    /// Dropped: something to send did not fit the caller's buffer.
    tx_buffer_too_small,
    /// Dropped: events not collected before the event queue filled up.
    events_dropped,
}

#[cfg(feature = "counter-names")]
impl Stats {
    /// Every counter as `(group, name, value)`: group is `"rx_malformed"`,
    /// `"rx_invalid"` or `""` for the plain counters, so `group.name` is a
    /// unique key. With the `counter-names` feature.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str, u32)> + '_ {
        Iter {
            stats: self,
            group: 0,
            names: Error::NAMES,
            i: 0,
        }
    }
}

/// [`Stats::iter`]: one walk over the three groups, whose names are each
/// one string of words, each word followed by a space.
#[cfg(feature = "counter-names")]
struct Iter<'a> {
    stats: &'a Stats,
    /// Index into `GROUPS`.
    group: usize,
    /// The names left in this group.
    names: &'static str,
    /// Index of the next counter within its group.
    i: usize,
}

#[cfg(feature = "counter-names")]
impl Iterator for Iter<'_> {
    type Item = (&'static str, &'static str, u32);

    fn next(&mut self) -> Option<Self::Item> {
        const GROUPS: [(&str, &str); 3] = [
            ("rx_malformed", Error::NAMES),
            ("rx_invalid", Invalid::NAMES),
            ("", Stats::PLAIN_NAMES),
        ];
        loop {
            let (group, _) = GROUPS.get(self.group)?;
            if let Some(end) = self.names.bytes().position(|b| b == b' ') {
                let name = self.names.get(..end)?;
                self.names = self.names.get(end.saturating_add(1)..)?;
                let s = self.stats;
                let value = match self.group {
                    0 => s.rx_malformed.get(self.i).copied(),
                    1 => s.rx_invalid.get(self.i).copied(),
                    _ => s.plain(self.i),
                };
                self.i = self.i.saturating_add(1);
                return Some((group, name, value.unwrap_or(0)));
            }
            self.group = self.group.saturating_add(1);
            self.names = GROUPS.get(self.group)?.1;
            self.i = 0;
        }
    }
}

impl Stats {
    /// Count a malformed received message.
    pub(crate) fn malformed(&mut self, e: Error) {
        if let Some(n) = self.rx_malformed.get_mut(e.index()) {
            *n = n.saturating_add(1);
        }
    }

    /// Count an invalid received message.
    pub(crate) fn invalid(&mut self, e: Invalid) {
        if let Some(n) = self.rx_invalid.get_mut(e.index()) {
            *n = n.saturating_add(1);
        }
    }

    /// Sum of every counter whose name says the message or packet was
    /// dropped (malformed, invalid, and the plain counters documented as
    /// "Dropped").
    pub fn dropped(&self) -> u64 {
        let rx = self.rx_malformed.iter().chain(self.rx_invalid.iter());
        let plain = [
            self.rx_not_for_us,
            self.rx_rs_ignored,
            self.rx_redirect_ignored,
            self.rx_ra_rate_limited,
            self.rx_lladdr_not_unicast,
            self.rx_ns_not_for_us,
            self.rx_na_no_entry,
            self.rx_na_incomplete_no_lladdr,
            self.rx_na_for_own_address,
            self.resolution_refused,
            self.queue_overflow,
            self.queue_no_space,
            self.queue_unresolved,
            self.send_no_route,
            self.send_malformed,
            self.tx_answer_dropped,
            self.tx_buffer_too_small,
            self.events_dropped,
        ];
        rx.chain(plain.iter())
            .fold(0u64, |sum, &n| sum.saturating_add(u64::from(n)))
    }
}

/// `*c += 1`, saturating. Out of line: a call is smaller than the
/// saturating add repeated at each of the engine's sixty counting sites
/// (about 450 B of flash on Cortex-M).
#[inline(never)]
pub(crate) fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// [`bump`] inlined, for the counters on the per-packet paths (NS in,
/// NA in, answers and released packets out), whose cost the benchmarks
/// hold: out of line they cost an NS -> NA about 45 instructions.
#[inline(always)]
pub(crate) fn bump_hot(c: &mut u32) {
    *c = c.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_slot_and_saturate() {
        let mut s = Stats::default();
        s.malformed(Error::BadChecksum);
        s.invalid(Invalid::HopLimit);
        s.invalid(Invalid::HopLimit);
        bump(&mut s.rx_not_for_us);
        assert_eq!(s.rx_malformed[Error::BadChecksum.index()], 1);
        assert_eq!(s.rx_invalid[Invalid::HopLimit.index()], 2);
        assert_eq!(s.dropped(), 4);
        let mut c = u32::MAX;
        bump(&mut c);
        assert_eq!(c, u32::MAX);
    }

    #[test]
    #[cfg(feature = "counter-names")]
    fn every_counter_is_listed_once_under_its_own_name() {
        let mut s = Stats::default();
        s.malformed(Error::BadChecksum);
        s.invalid(Invalid::HopLimit);
        s.invalid(Invalid::HopLimit);
        // First, middle and last of the plain counters, each its own value.
        s.rx_ns = 3;
        s.tx_na = 5;
        s.events_dropped = 7;
        let all: std::vec::Vec<_> = s.iter().collect();
        assert_eq!(all.len(), Error::ALL.len() + Invalid::ALL.len() + PLAIN);
        let mut keys: std::vec::Vec<_> = all.iter().map(|(g, n, _)| (*g, *n)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all.len());
        assert!(
            all.iter()
                .all(|(_, n, _)| !n.is_empty() && !n.contains(' '))
        );
        assert!(all.contains(&("rx_malformed", "bad_checksum", 1)));
        assert!(all.contains(&("rx_invalid", "hop_limit", 2)));
        let plain: std::vec::Vec<_> = all.iter().filter(|(g, _, _)| g.is_empty()).collect();
        assert_eq!(plain.first(), Some(&&("", "rx_ns", 3)));
        assert!(all.contains(&("", "tx_na", 5)));
        assert_eq!(plain.last(), Some(&&("", "events_dropped", 7)));
        assert_eq!(all.iter().map(|(_, _, n)| u64::from(*n)).sum::<u64>(), 18);
    }
}
