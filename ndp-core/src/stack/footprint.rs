//! Where a [`Stack`]'s RAM goes: for budgeting and for `cargo xtask
//! bench`'s report, which measures these on the target. With the
//! `testing` feature.

use core::mem::size_of;

use super::cx::Events;
use super::{
    ANSWERS, Answer, Discovery, EVENTS, Event, Local, ReachableTime, Stack, TokenBucket, app,
};
use crate::addr::{AddressTable, Slot as AddressSlot};
use crate::config::Config;
use crate::mld::{Group, Mld};
use crate::neighbor::queue::{PacketQueue, Slot as QueueSlot};
use crate::neighbor::{Entry, NeighborCache};
use crate::rng::Rng;
use crate::router::dest::{DestCache, Destination};
use crate::router::rs::RsSchedule;
use crate::router::{OnLinkPrefix, PrefixList, Route, RouteTable, Router, RouterList};
use crate::stats::Stats;
use crate::time::{Duration, Timed};

/// Number of parts [`Stack::ram_parts`] lists.
pub const RAM_PARTS: usize = 26;

/// Number of entry kinds [`Stack::ram_per_entry`] lists.
pub const ENTRY_KINDS: usize = 13;

/// The DNS tables (feature `dns`): bytes of the server list and the
/// search list, bytes per server and per domain, and their capacities.
/// All zero without the feature, so the lists keep their shape.
#[cfg(feature = "dns")]
const DNS: [usize; 6] = {
    use crate::router::dns::{DNS_SERVERS, DnsServers, SEARCH_DOMAINS, SearchDomain, SearchList};
    [
        size_of::<DnsServers>(),
        size_of::<SearchList>(),
        size_of::<(core::net::Ipv6Addr, crate::time::Expiry)>(),
        size_of::<(SearchDomain, crate::time::Expiry)>(),
        DNS_SERVERS,
        SEARCH_DOMAINS,
    ]
};
#[cfg(not(feature = "dns"))]
const DNS: [usize; 6] = [0; 6];

/// The proxy's lists and answer budget (feature `proxy`).
#[cfg(feature = "proxy")]
const PROXY: usize = size_of::<crate::proxy::Proxy>() + size_of::<crate::proxy::AnswerBudget>();
#[cfg(not(feature = "proxy"))]
const PROXY: usize = 0;

impl<const NEIGHBORS: usize, const QUEUE_SLOTS: usize, const QUEUE_BYTES: usize>
    Stack<NEIGHBORS, QUEUE_SLOTS, QUEUE_BYTES>
{
    /// Bytes each part of this Stack type takes (`size_of` of each
    /// field's type), largest tables first; `size_of::<Self>()` minus
    /// their sum is alignment padding. `"queue payload"` is the
    /// `QUEUE_BYTES` packet buffer.
    ///
    /// ```
    /// use ndp_core::Stack;
    /// let parts = Stack::<8, 4, 3072>::ram_parts();
    /// let total: usize = parts.iter().map(|(_, n)| n).sum();
    /// assert!(total <= core::mem::size_of::<Stack>());
    /// assert!(parts.contains(&("queue payload", 3072)));
    /// ```
    pub const fn ram_parts() -> [(&'static str, usize); RAM_PARTS] {
        [
            ("neighbor cache", size_of::<NeighborCache<NEIGHBORS>>()),
            ("queue payload", QUEUE_BYTES),
            (
                "queue slots",
                size_of::<PacketQueue<QUEUE_SLOTS, QUEUE_BYTES>>().saturating_sub(QUEUE_BYTES),
            ),
            // With the generation counter.
            ("events", size_of::<Events>()),
            ("addresses", size_of::<AddressTable>()),
            ("search domains", DNS[1]),
            ("stats", size_of::<Stats>()),
            ("mld", size_of::<Mld>()),
            (
                "application groups, static addresses",
                size_of::<app::AppState>(),
            ),
            ("answers", size_of::<heapless::Vec<Answer, ANSWERS>>()),
            ("destinations", size_of::<DestCache>()),
            ("routes", size_of::<RouteTable>()),
            ("prefixes", size_of::<PrefixList>()),
            ("routers", size_of::<RouterList>()),
            ("dns servers", DNS[0]),
            ("config", size_of::<Config>()),
            ("rs schedule", size_of::<RsSchedule>()),
            ("reachable time", size_of::<ReachableTime>()),
            (
                "ns budget, newcomer admission",
                size_of::<[TokenBucket; 2]>(),
            ),
            ("proxy", PROXY),
            ("rng", size_of::<Rng>()),
            ("clock", size_of::<crate::time::Clock>()),
            ("retrans timer", size_of::<Duration>()),
            ("router rotation", size_of::<usize>()),
            (
                "timer cache",
                size_of::<Timed<Local>>()
                    .saturating_sub(size_of::<Local>())
                    .saturating_add(
                        size_of::<Timed<Discovery>>().saturating_sub(size_of::<Discovery>()),
                    ),
            ),
            (
                "scalars",
                // hop_limit, link_mtu, flags (in `Discovery`), disabled
                size_of::<(u8, u16, (bool, bool), bool)>(),
            ),
        ]
    }

    /// Bytes per entry of each table, as stored, with the table's
    /// capacity: `(kind, bytes per entry, entries)`. Neighbors and queue
    /// slots scale with the type parameters; the rest are fixed.
    ///
    /// A kind left out of the build by its feature (`dns`, `route-info`)
    /// lists zero bytes and zero entries.
    ///
    /// ```
    /// use ndp_core::Stack;
    /// for (kind, bytes, entries) in Stack::<8, 4, 3072>::ram_per_entry() {
    ///     assert_eq!(bytes > 0, entries > 0, "{kind}");
    /// }
    /// ```
    pub const fn ram_per_entry() -> [(&'static str, usize, usize); ENTRY_KINDS] {
        [
            // The entry and its two hash-chain links.
            (
                "neighbor",
                size_of::<(Option<Entry>, u16, u16)>(),
                NEIGHBORS,
            ),
            ("queued-packet slot", size_of::<QueueSlot>(), QUEUE_SLOTS),
            ("address", size_of::<AddressSlot>(), crate::addr::ADDRESSES),
            ("prefix", size_of::<OnLinkPrefix>(), crate::router::PREFIXES),
            ("router", size_of::<Router>(), crate::router::ROUTERS),
            (
                "route",
                // None without the `route-info` feature.
                if crate::router::ROUTES == 0 {
                    0
                } else {
                    size_of::<Route>()
                },
                crate::router::ROUTES,
            ),
            (
                "destination",
                size_of::<Destination>(),
                crate::router::DESTINATIONS,
            ),
            ("dns server", DNS[2], DNS[4]),
            ("search domain", DNS[3], DNS[5]),
            ("mld group", size_of::<Group>(), crate::mld::GROUPS),
            ("event", size_of::<Event>(), EVENTS),
            ("answer", size_of::<Answer>(), ANSWERS),
            (
                "stats counter",
                size_of::<u32>(),
                match size_of::<Stats>().checked_div(size_of::<u32>()) {
                    Some(n) => n,
                    None => 0,
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_stack_but_for_padding() {
        let parts = Stack::<8, 4, 3072>::ram_parts();
        let sum: usize = parts.iter().map(|(_, n)| n).sum();
        let size = size_of::<Stack<8, 4, 3072>>();
        assert!(sum <= size);
        // Padding between fields is at most a few words.
        assert!(size - sum < 64, "{size} vs {sum}");
        // Parts scale with the type parameters as the entry sizes say.
        let per = Stack::<8, 4, 3072>::ram_per_entry();
        let neighbor = per[0].1;
        assert_eq!(
            size_of::<NeighborCache<9>>() - size_of::<NeighborCache<8>>(),
            neighbor
        );
    }
}
