//! Time that wraps (issue 13): the engine's clock is 32-bit milliseconds
//! and goes round every 2^32 ms, 49.7 days. A device runs 60 days of
//! virtual time on the simulated link, across that wrap, and keeps its
//! addresses; lifetimes end on time, one of them longer than the 24.8
//! days a wrapping millisecond timer can hold; NUD works before and
//! after the wrap, and so does the Router Solicitation backoff, which
//! runs across it.
//!
//! The simulator's own clock counts in 64 bits ([`Sim::ticks`]) and
//! hands the nodes its value modulo 2^32, as a device's free-running
//! counter would.

use core::net::Ipv6Addr;

use ndp_core::addr::AddrState;
use ndp_core::neighbor::{DELAY_FIRST_PROBE_TIME, MAX_UNICAST_SOLICIT};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{Lifetime, MacAddr, Message, MulticastAddr, PrefixInfo};
use ndp_core::{Config, Event};
use ndp_tests::sim::{
    EngineNode, LinkConfig, NodeId, RouterConfig, ScriptedHost, ScriptedRouter, Sim,
};

const DEVICE: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
const ROUTER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
const PEER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x11]);
const EAR: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x22]);

const SEC: u64 = 1000;
const HOUR: u64 = 3600 * SEC;
const DAY: u64 = 24 * HOUR;
/// Where the engine's millisecond clock goes round.
const WRAP: u64 = 1 << 32;

/// Prefix A: advertised every 10 minutes with short lifetimes.
const A_VALID_S: u32 = 4 * 3600;
const A_PREFERRED_S: u32 = 2 * 3600;
/// Prefix B: advertised once, with lifetimes longer than a wrapping
/// millisecond timer can hold (24.8 days).
const B_VALID_S: u32 = 40 * 86_400;
const B_PREFERRED_S: u32 = 30 * 86_400;
/// The router falls silent here: A's preferred lifetime then ends before
/// the wrap (49 d 17:02:47) and its valid lifetime after it, and the
/// Router Solicitations that follow back off across it.
const SILENT_AT: u64 = 49 * DAY + 14 * HOUR;
const BACK_AT: u64 = 50 * DAY + 6 * HOUR;
/// The peer falls silent here: NUD must notice.
const PEER_GONE_AT: u64 = 55 * DAY;
const END: u64 = 60 * DAY;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn pio(prefix: &str, valid: u32, preferred: u32) -> PrefixInfo {
    PrefixInfo {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: Lifetime::Finite(valid),
        preferred_lifetime: Lifetime::Finite(preferred),
        prefix: a(prefix),
    }
}

/// The state of the device's address in `prefix`/64, if it has one.
fn state_in(sim: &Sim, device: NodeId, prefix: &str) -> Option<AddrState> {
    let p = a(prefix).octets();
    sim.node::<EngineNode>(device)
        .stack()
        .addresses()
        .find(|x| x.addr.get().octets()[..8] == p[..8])
        .map(|x| x.state)
}

/// The device's events from index `from` on that `pick` selects.
fn events_since(
    sim: &Sim,
    device: NodeId,
    from: usize,
    pick: impl Fn(&Event) -> bool,
) -> Vec<Instant> {
    sim.node::<EngineNode>(device).events()[from..]
        .iter()
        .filter(|(_, e)| pick(e))
        .map(|(at, _)| *at)
        .collect()
}

/// Run to `ticks` an hour at a time, checking at each step that the
/// device's invariants hold and its link-local address stays preferred.
fn run_to(sim: &mut Sim, device: NodeId, ticks: u64) {
    while sim.ticks() < ticks {
        let step = (ticks - sim.ticks()).min(HOUR);
        sim.run_for(Duration::from_millis(step as u32));
        let node = sim.node::<EngineNode>(device);
        let ll = node.link_local();
        let state = node.stack().addresses().find(|x| x.addr.get() == ll);
        assert_eq!(
            state.map(|x| x.state),
            Some(AddrState::Preferred),
            "link-local at {} ms",
            sim.ticks()
        );
        assert_eq!(
            node.stack().check_invariants(false),
            Ok(()),
            "at {} ms",
            sim.ticks()
        );
    }
}

/// The device pings the peer and gets its answer within a second (NUD
/// probes it first when its entry has gone stale).
fn ping_peer(sim: &mut Sim, device: NodeId, peer: Ipv6Addr, seq: u16) {
    let src = sim
        .node::<EngineNode>(device)
        .stack()
        .addresses()
        .find(|x| x.addr.get().segments()[..4] == [0x2001, 0xdb8, 1, 0])
        .expect("an address in prefix A")
        .addr
        .get();
    let before = sim.node::<EngineNode>(device).echo_replies().len();
    let now = sim.now();
    sim.node_mut::<EngineNode>(device)
        .send_echo_from(now, src, peer, 7, seq)
        .expect("routed");
    // DELAY_FIRST_PROBE_TIME, then a probe, then the answer.
    sim.run_for(DELAY_FIRST_PROBE_TIME + Duration::from_secs(2));
    let replies = sim.node::<EngineNode>(device).echo_replies();
    assert_eq!(
        replies.len(),
        before + 1,
        "no echo reply for ping {seq} at {} ms",
        sim.ticks()
    );
    assert_eq!(replies[before].1, peer);
}

#[test]
fn sixty_days_across_the_clock_wrap() {
    let mut sim = Sim::unrecorded(1300, LinkConfig::ideal());
    let device = sim.add(EngineNode::from_config(Config::stable(
        DEVICE, 1301, [0; 16],
    )));
    let peer_addr = a("2001:db8:1::99");
    let peer = sim.add(ScriptedHost::new(PEER).with_address(peer_addr));
    // A listener on ff02::2 records the Router Solicitations.
    let mut ear = ScriptedHost::new(EAR);
    ear.join(MulticastAddr::ALL_ROUTERS.get());
    let ear = sim.add(ear);
    let router = sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(Duration::from_secs(600)),
            prefixes: vec![
                pio("2001:db8:1::", A_VALID_S, A_PREFERRED_S),
                pio("2001:db8:2::", B_VALID_S, B_PREFERRED_S),
            ],
            ..RouterConfig::default()
        },
    ));

    // The first advertisement (at once, arriving 1 ms later) brings both
    // prefixes; later ones only A.
    sim.run_for(Duration::from_secs(1));
    sim.node_mut::<ScriptedRouter>(router)
        .config_mut()
        .prefixes
        .truncate(1);
    run_to(&mut sim, device, 5 * SEC);
    assert_eq!(
        state_in(&sim, device, "2001:db8:1::"),
        Some(AddrState::Preferred)
    );
    assert_eq!(
        state_in(&sim, device, "2001:db8:2::"),
        Some(AddrState::Preferred)
    );

    // Days 0-49: every 6 hours a ping to the peer works; both addresses
    // stay; B is deprecated at 30 days and removed at 40, to the second
    // of its lifetime (it arrived at 1 ms: both round up to the whole
    // second after).
    let mut seq = 0;
    while sim.ticks() + 6 * HOUR < SILENT_AT {
        let next = sim.ticks() + 6 * HOUR;
        run_to(&mut sim, device, next);
        seq += 1;
        ping_peer(&mut sim, device, peer_addr, seq);
        assert_eq!(
            state_in(&sim, device, "2001:db8:1::"),
            Some(AddrState::Preferred),
            "A at {} ms",
            sim.ticks()
        );
        let b = state_in(&sim, device, "2001:db8:2::");
        let t = sim.ticks();
        let want = if t < u64::from(B_PREFERRED_S) * SEC {
            Some(AddrState::Preferred)
        } else if t < u64::from(B_VALID_S) * SEC {
            Some(AddrState::Deprecated)
        } else {
            None
        };
        assert_eq!(b, want, "B at {t} ms");
    }
    let in_b = |addr: &Ipv6Addr| addr.segments()[..4] == [0x2001, 0xdb8, 2, 0];
    let b_deprecated = events_since(
        &sim,
        device,
        0,
        |e| matches!(e, Event::Address { addr, state: AddrState::Deprecated, .. } if in_b(addr)),
    );
    let b_removed = events_since(
        &sim,
        device,
        0,
        |e| matches!(e, Event::AddressRemoved { addr, .. } if in_b(addr)),
    );
    // 30 and 40 days are below 2^32 ms: these instants are plain times.
    assert_eq!(
        b_deprecated,
        [Instant::from_secs(B_PREFERRED_S + 1)],
        "B deprecated after 30 days"
    );
    assert_eq!(
        b_removed,
        [Instant::from_secs(B_VALID_S + 1)],
        "B removed after 40 days"
    );

    // The router falls silent just after an advertisement.
    run_to(&mut sim, device, SILENT_AT);
    sim.node_mut::<ScriptedRouter>(router).advertise_now();
    sim.run_for(Duration::from_millis(10));
    sim.node_mut::<ScriptedRouter>(router).set_silent(true);
    let heard = Instant::wrapping_from_millis(SILENT_AT + 1);
    let mark = sim.node::<EngineNode>(device).events().len();
    let rs_mark = sim.node::<ScriptedHost>(ear).inbox().len();
    run_to(&mut sim, device, BACK_AT);
    assert!(sim.ticks() > WRAP, "the run crossed the wrap");
    // The router goes when its lifetime (1800 s, a millisecond timer)
    // ends; A is deprecated 2 h after its last advertisement (before the
    // wrap) and removed 4 h after it (after the wrap), each at the next
    // whole second of the engine's lifetime clock.
    let router_gone = events_since(&sim, device, mark, |e| {
        matches!(e, Event::Router { lifetime_s: 0, .. })
    });
    assert_eq!(router_gone, [heard + Duration::from_secs(1800)]);
    let in_a = |addr: &Ipv6Addr| addr.segments()[..4] == [0x2001, 0xdb8, 1, 0];
    let within_a_second = |at: Instant, lifetime_s: u32| {
        let due = heard + Duration::from_secs(lifetime_s);
        at >= due && at.saturating_duration_since(due) < Duration::from_secs(1)
    };
    let a_deprecated = events_since(
        &sim,
        device,
        mark,
        |e| matches!(e, Event::Address { addr, state: AddrState::Deprecated, .. } if in_a(addr)),
    );
    assert_eq!(a_deprecated.len(), 1);
    assert!(
        within_a_second(a_deprecated[0], A_PREFERRED_S),
        "{a_deprecated:?}"
    );
    let a_removed = events_since(
        &sim,
        device,
        mark,
        |e| matches!(e, Event::AddressRemoved { addr, .. } if in_a(addr)),
    );
    assert_eq!(a_removed.len(), 1);
    assert!(within_a_second(a_removed[0], A_VALID_S), "{a_removed:?}");
    assert_eq!(state_in(&sim, device, "2001:db8:1::"), None);

    // Router Solicitations from the router's loss on: RT = 4 s ± 10%,
    // doubling ± 10%, capped at 3600 s ± 10% (RFC 7559 §2), across the
    // wrap. Gaps are taken modulo 2^32 ms, as the engine takes them.
    let rs: Vec<Instant> = sim.node::<ScriptedHost>(ear).inbox()[rs_mark..]
        .iter()
        .filter(|p| matches!(p.message(), Some(Ok(Message::RouterSolicit(_)))))
        .map(|p| p.at)
        .collect();
    let gone = router_gone[0];
    assert!(
        rs[0] >= gone && rs[0].saturating_duration_since(gone) <= Duration::from_secs(1),
        "the first solicitation follows the router's loss: {rs:?}"
    );
    let gaps: Vec<u32> = rs
        .windows(2)
        .map(|w| w[1].wrapping_duration_since(w[0]).as_millis())
        .collect();
    assert!((3_600..=4_400).contains(&gaps[0]), "{gaps:?}");
    let mut capped = 0;
    for w in gaps.windows(2) {
        let (prev, rt) = (w[0], w[1]);
        let cap = (3_240_000..=3_960_000).contains(&rt);
        assert!(
            cap || (prev * 19 / 10 <= rt && rt <= prev * 21 / 10),
            "{prev} -> {rt}: {gaps:?}"
        );
        capped += usize::from(cap);
    }
    // About 14 h of capped solicitations, some of them across the wrap.
    assert!(capped >= 12, "{capped} capped: {gaps:?}");
    let wrap = Instant::ZERO;
    assert!(
        rs.windows(2).any(|w| w[0] < wrap && wrap <= w[1]),
        "a gap spans the wrap: {rs:?}"
    );

    // The router speaks again: its next advertisement brings A back (the
    // same stable address), and the solicitations stop.
    sim.node_mut::<ScriptedRouter>(router).set_silent(false);
    run_to(&mut sim, device, BACK_AT + HOUR);
    assert_eq!(
        state_in(&sim, device, "2001:db8:1::"),
        Some(AddrState::Preferred)
    );
    let rs_mark = sim.node::<ScriptedHost>(ear).inbox().len();
    seq += 1;
    ping_peer(&mut sim, device, peer_addr, seq);

    // After the wrap: pings every 6 hours until the peer goes, then NUD
    // finds it unreachable after DELAY_FIRST_PROBE_TIME and
    // MAX_UNICAST_SOLICIT probes a RetransTimer (1 s) apart.
    while sim.ticks() + 6 * HOUR < PEER_GONE_AT {
        let next = sim.ticks() + 6 * HOUR;
        run_to(&mut sim, device, next);
        seq += 1;
        ping_peer(&mut sim, device, peer_addr, seq);
    }
    run_to(&mut sim, device, PEER_GONE_AT);
    sim.node_mut::<ScriptedHost>(peer).set_silent(true);
    let mark = sim.node::<EngineNode>(device).events().len();
    let sent = sim.now();
    let src = sim
        .node::<EngineNode>(device)
        .stack()
        .addresses()
        .last()
        .unwrap()
        .addr
        .get();
    sim.node_mut::<EngineNode>(device)
        .send_echo_from(sent, src, peer_addr, 7, 999)
        .expect("routed");
    sim.run_for(Duration::from_secs(20));
    let lost = events_since(
        &sim,
        device,
        mark,
        |e| matches!(e, Event::NeighborUnreachable { neighbor, .. } if *neighbor == peer_addr),
    );
    let nud = DELAY_FIRST_PROBE_TIME + Duration::from_secs(u32::from(MAX_UNICAST_SOLICIT));
    assert_eq!(lost.len(), 1, "NUD noticed the peer's silence");
    assert!(
        lost[0] >= sent + nud
            && lost[0].saturating_duration_since(sent + nud) < Duration::from_millis(10),
        "unreachable at {} after the send at {sent}",
        lost[0]
    );

    // To 60 days: the address stays, and no solicitation went out since
    // the router came back.
    run_to(&mut sim, device, END);
    assert!(sim.ticks() >= END);
    assert_eq!(
        state_in(&sim, device, "2001:db8:1::"),
        Some(AddrState::Preferred)
    );
    let late_rs = sim.node::<ScriptedHost>(ear).inbox()[rs_mark..]
        .iter()
        .filter(|p| matches!(p.message(), Some(Ok(Message::RouterSolicit(_)))))
        .count();
    assert_eq!(late_rs, 0);
}
