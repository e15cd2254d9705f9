//! What the parts of the engine share while they handle an input or a
//! timer: the event queue, and [`Cx`], through which a part reads the
//! clock, draws random numbers, counts and reports for itself.

use super::{EVENTS, Event};
use crate::rng::Rng;
use crate::stats::{Stats, bump};
use crate::time::Clock;

/// The events waiting for the application, and the generation counter
/// that changes with every one (see [`crate::Stack::generation`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Events {
    /// Oldest first. A Vec, not a Deque: taking out a victim in the
    /// middle (`push`) is one call, and the queue is short.
    queue: heapless::Vec<Event, EVENTS>,
    generation: u32,
}

impl Events {
    /// Queue `e` by the rules of [`crate::Stack::poll_event`]: it replaces
    /// an event about the same subject, refusals add up, and a full queue
    /// gives up its least important event (counted in `events_dropped`).
    pub fn push(&mut self, e: Event, stats: &mut Stats) {
        self.changed();
        for old in self.queue.iter_mut() {
            if let (Event::Refused(sum), Event::Refused(more)) = (&mut *old, &e) {
                sum.add(more);
                return;
            }
            if same_subject(old, &e) {
                *old = e;
                return;
            }
        }
        if self.queue.is_full() {
            bump(&mut stats.events_dropped);
            let victim = self
                .queue
                .iter()
                .enumerate()
                .min_by_key(|(i, old)| (importance(old), *i))
                .filter(|(_, old)| importance(old) <= importance(&e))
                .map(|(i, _)| i);
            let Some(victim) = victim else {
                return;
            };
            // Take it out, keeping the others' order.
            self.queue.remove(victim);
        }
        // Cannot fail: there is room.
        let _ = self.queue.push(e);
    }

    /// The oldest event.
    pub fn pop(&mut self) -> Option<Event> {
        if self.queue.is_empty() {
            return None;
        }
        Some(self.queue.remove(0))
    }

    /// Something an IP stack mirrors changed without an event of its own
    /// (the default router choice, the groups): a new generation.
    pub fn changed(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }
}

/// What a part needs from the rest of the engine while it works: the
/// clock, the random stream, the counters and the event queue. Built from
/// the `Stack`'s fields next to the part it is lent to, so the part
/// counts and reports for itself without reaching into the `Stack`.
pub(super) struct Cx<'a> {
    pub clock: &'a Clock,
    pub rng: &'a mut Rng,
    pub stats: &'a mut Stats,
    pub events: &'a mut Events,
}

impl Cx<'_> {
    /// Report `e`.
    pub fn report(&mut self, e: Event) {
        self.events.push(e, self.stats);
    }
}

/// How much an event matters when the event queue is full (see
/// [`Stack::poll_event`]): the lowest goes first.
fn importance(e: &Event) -> u8 {
    match e {
        Event::ResolutionFailed { .. } | Event::NeighborUnreachable { .. } => 0,
        Event::Prefix { .. } | Event::Route { .. } | Event::Refused(_) => 1,
        _ => 2,
    }
}

/// Both events report the state of the same thing, so the newer one
/// makes the older one stale.
fn same_subject(a: &Event, b: &Event) -> bool {
    use Event::*;
    match (a, b) {
        (
            Address { addr: x, .. } | AddressRemoved { addr: x, .. },
            Address { addr: y, .. } | AddressRemoved { addr: y, .. },
        )
        | (Router { addr: x, .. }, Router { addr: y, .. }) => x == y,
        (
            Prefix {
                prefix: p, len: l, ..
            },
            Prefix {
                prefix: q, len: m, ..
            },
        ) => (p, l) == (q, m),
        (
            Route {
                prefix: p,
                len: l,
                router: r,
                ..
            },
            Route {
                prefix: q,
                len: m,
                router: s,
                ..
            },
        ) => (p, l, r) == (q, m, s),
        (
            InterfaceDisabled { .. } | InterfaceEnabled,
            InterfaceDisabled { .. } | InterfaceEnabled,
        )
        | (Dns, Dns)
        | (Mtu(_), Mtu(_))
        | (HopLimit(_), HopLimit(_))
        | (ConfigFlags { .. }, ConfigFlags { .. }) => true,
        _ => false,
    }
}
