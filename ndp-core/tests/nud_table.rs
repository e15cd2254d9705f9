//! RFC 4861 Appendix C and the §7.2.5 NA flag matrix, driven through the
//! Stack with real packets for a neighbor in each of INCOMPLETE,
//! REACHABLE, STALE, DELAY and PROBE, asserting state, link-layer address
//! and IsRouter after every event.
//!
//! The Router Advertisements here have router lifetime 0: Appendix C's
//! rows are about the neighbor cache, and a router entering the default
//! router list is also probed at once (RFC 4191 §3.5), which
//! `a_new_default_router_is_probed_at_once` covers.
//!
//! Where Appendix C's summary and the normative text of §7.2.5 differ
//! (S=1 with no target link-layer address; INCOMPLETE with none), the
//! text is what is expected here.
// Test code may index, unwrap and panic: the workspace's no-panic lints
// are for the library.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use NeighborState::*;
use common::*;
use ndp_core::neighbor::{Neighbor, NeighborState};
use ndp_core::wire::MacAddr;
use ndp_core::{Dispatch, Stack};

const NEW_MAC: MacAddr = OTHER_MAC;

/// A stack whose entry for `peer()` is in `state`, with link-layer address
/// PEER_MAC (unless INCOMPLETE) and IsRouter = `router`, and the time the
/// setup reached.
fn setup(state: NeighborState, router: bool) -> (Stack, ndp_core::time::Instant) {
    let mut s = stack();
    let mut now = t(100);
    match state {
        Incomplete | Reachable => {
            s.route(t(0), peer()).unwrap();
            drain(&mut s, t(0));
            if state == Reachable {
                rx_na(&mut s, t(100), peer(), true, true, false, Some(PEER_MAC));
            }
        }
        Stale | Delay | Probe => {
            rx_ns(&mut s, t(0), peer(), Some(PEER_MAC));
            drain(&mut s, t(0));
            if state != Stale {
                s.route(t(100), peer()).unwrap();
            }
            if state == Probe {
                now = t(5100);
                let out = drain(&mut s, now);
                assert_eq!(out.len(), 1, "first probe");
            }
        }
    }
    if router {
        // An RA without SLLA sets IsRouter on the existing entry (§6.3.4)
        // and changes nothing else.
        rx_ra_lifetime(&mut s, now, peer(), None, 0);
    }
    let n = entry(&s);
    assert_eq!((n.state, n.is_router), (state, router), "setup");
    (s, now)
}

fn entry(s: &Stack) -> Neighbor {
    s.neighbors()
        .find(|n| n.addr == peer())
        .expect("peer entry")
}

#[derive(Debug, Clone, Copy)]
enum L {
    None,
    Same,
    Diff,
}

fn lladdr(l: L) -> Option<MacAddr> {
    match l {
        L::None => None,
        L::Same => Some(PEER_MAC),
        L::Diff => Some(NEW_MAC),
    }
}

#[test]
fn neighbor_advertisement_rows() {
    // (state, S, O, TLLA) -> (state, MAC); IsRouter follows R whenever the
    // NA is accepted.
    #[rustfmt::skip]
    let mut rows: Vec<(NeighborState, bool, bool, L, NeighborState, Option<MacAddr>)> = vec![
        (Incomplete, true,  false, L::Diff, Reachable,  Some(NEW_MAC)),
        (Incomplete, true,  true,  L::Diff, Reachable,  Some(NEW_MAC)),
        (Incomplete, false, false, L::Diff, Stale,      Some(NEW_MAC)),
        (Incomplete, false, true,  L::Diff, Stale,      Some(NEW_MAC)),
        (Incomplete, true,  true,  L::None, Incomplete, None),
        (Incomplete, false, true,  L::None, Incomplete, None),
    ];
    for s in [Reachable, Stale, Delay, Probe] {
        let to_stale_if_reachable = if s == Reachable { Stale } else { s };
        #[rustfmt::skip]
        rows.extend([
            (s, true,  false, L::Same, Reachable, Some(PEER_MAC)),
            (s, true,  false, L::None, Reachable, Some(PEER_MAC)),
            (s, true,  false, L::Diff, to_stale_if_reachable, Some(PEER_MAC)),
            (s, true,  true,  L::Same, Reachable, Some(PEER_MAC)),
            (s, true,  true,  L::None, Reachable, Some(PEER_MAC)),
            (s, true,  true,  L::Diff, Reachable, Some(NEW_MAC)),
            (s, false, false, L::Same, s, Some(PEER_MAC)),
            (s, false, false, L::None, s, Some(PEER_MAC)),
            (s, false, false, L::Diff, to_stale_if_reachable, Some(PEER_MAC)),
            (s, false, true,  L::Same, s, Some(PEER_MAC)),
            (s, false, true,  L::None, s, Some(PEER_MAC)),
            (s, false, true,  L::Diff, Stale, Some(NEW_MAC)),
        ]);
    }
    for (from, sol, ovr, l, to, mac) in rows {
        for was_router in [false, true] {
            for r in [false, true] {
                let (mut s, now) = setup(from, was_router);
                rx_na(&mut s, now, peer(), sol, ovr, r, lladdr(l));
                let n = entry(&s);
                let ctx = format!("{from:?} S={sol} O={ovr} {l:?} R={r} was_router={was_router}");
                assert_eq!((n.state, n.mac), (to, mac), "{ctx}");
                let ignored = (!ovr && matches!(l, L::Diff) && from != Incomplete)
                    || (from == Incomplete && matches!(l, L::None));
                assert_eq!(n.is_router, if ignored { was_router } else { r }, "{ctx}");
            }
        }
    }
}

#[test]
fn solicitation_and_advertisement_with_link_address_rows() {
    // Appendix C: NS, RS, RA, Redirect (not DAD) with a link-layer
    // address. Hosts discard RS (§6.1.1); Redirect arrives with router
    // discovery. NS keeps IsRouter, RA sets it (§6.3.4).
    for (from, l, to, mac) in [
        (Incomplete, L::Diff, Stale, Some(NEW_MAC)),
        (Reachable, L::Same, Reachable, Some(PEER_MAC)),
        (Reachable, L::Diff, Stale, Some(NEW_MAC)),
        (Stale, L::Same, Stale, Some(PEER_MAC)),
        (Stale, L::Diff, Stale, Some(NEW_MAC)),
        (Delay, L::Same, Delay, Some(PEER_MAC)),
        (Delay, L::Diff, Stale, Some(NEW_MAC)),
        (Probe, L::Same, Probe, Some(PEER_MAC)),
        (Probe, L::Diff, Stale, Some(NEW_MAC)),
    ] {
        for was_router in [false, true] {
            let (mut s, now) = setup(from, was_router);
            rx_ns(&mut s, now, peer(), lladdr(l));
            let n = entry(&s);
            assert_eq!(
                (n.state, n.mac, n.is_router),
                (to, mac, was_router),
                "NS {from:?} {l:?}"
            );
            let (mut s, now) = setup(from, was_router);
            rx_ra_lifetime(&mut s, now, peer(), lladdr(l), 0);
            let n = entry(&s);
            assert_eq!(
                (n.state, n.mac, n.is_router),
                (to, mac, true),
                "RA {from:?} {l:?}"
            );
        }
        // Without a link-layer address: unchanged.
        let (mut s, now) = setup(from, false);
        let before = entry(&s);
        rx_ns(&mut s, now, peer(), None);
        assert_eq!(
            (entry(&s).state, entry(&s).mac),
            (before.state, before.mac),
            "NS {from:?} no lladdr"
        );
    }
    // No entry: NS/RA with lladdr create STALE; without, nothing.
    let mut s = stack();
    rx_ns(&mut s, t(0), peer(), None);
    assert_eq!(s.neighbors().count(), 0);
    rx_ns(&mut s, t(0), peer(), Some(PEER_MAC));
    assert_eq!((entry(&s).state, entry(&s).is_router), (Stale, false));
}

#[test]
fn sending_and_confirmation_rows() {
    for from in [Incomplete, Reachable, Stale, Delay, Probe] {
        // Packet to send: STALE -> DELAY; INCOMPLETE queues; others use the
        // cached address unchanged.
        let (mut s, now) = setup(from, false);
        let p = packet(our_ll(), peer(), 4, 0);
        let d = s.send(now, &p).unwrap();
        let expect = match from {
            Incomplete => Dispatch::Queued,
            _ => Dispatch::Transmit(PEER_MAC),
        };
        assert_eq!(d, expect, "{from:?}");
        assert_eq!(
            entry(&s).state,
            if from == Stale { Delay } else { from },
            "send {from:?}"
        );
        // Upper-layer confirmation: !INCOMPLETE -> REACHABLE.
        let (mut s, now) = setup(from, false);
        s.confirm_reachable(now, &peer());
        assert_eq!(
            entry(&s).state,
            if from == Incomplete {
                Incomplete
            } else {
                Reachable
            },
            "confirm {from:?}"
        );
    }
    // No entry + packet to send: create INCOMPLETE, multicast NS.
    let mut s = stack();
    assert_eq!(
        s.send(t(0), &packet(our_ll(), peer(), 4, 0)),
        Ok(Dispatch::Queued)
    );
    assert_eq!(entry(&s).state, Incomplete);
    let out = drain(&mut s, t(0));
    assert!(out[0].1.dst.is_multicast());
}

#[test]
fn timeout_rows() {
    // REACHABLE -> STALE after ReachableTime; DELAY -> PROBE after
    // DELAY_FIRST_PROBE_TIME; PROBE removed after MAX_UNICAST_SOLICIT;
    // INCOMPLETE removed after MAX_MULTICAST_SOLICIT. Each exactly at its
    // deadline, not a millisecond before.
    for from in [Reachable, Delay, Probe, Incomplete] {
        let (mut s, mut now) = setup(from, false);
        drain(&mut s, now);
        let mut states = vec![entry(&s).state];
        while let Some(at) = s.poll_at() {
            let before = entry(&s);
            let just_before = at - ndp_core::time::Duration::from_millis(1);
            if just_before > now {
                drain(&mut s, just_before);
                assert_eq!(entry(&s), before, "{from:?}: changed before its deadline");
            }
            now = at;
            drain(&mut s, now);
            match s.neighbors().find(|n| n.addr == peer()) {
                Some(n) => {
                    if states.last() != Some(&n.state) {
                        states.push(n.state);
                    }
                }
                None => break,
            }
            assert!(now < t(600_000), "{from:?}: never settles");
        }
        let expect: &[NeighborState] = match from {
            Reachable => &[Reachable, Stale],
            Delay => &[Delay, Probe],
            Probe => &[Probe],
            Incomplete => &[Incomplete],
            Stale => unreachable!(),
        };
        assert_eq!(states, expect, "{from:?}");
        let gone = s.neighbors().count() == 0;
        assert_eq!(gone, matches!(from, Delay | Probe | Incomplete), "{from:?}");
    }
}
