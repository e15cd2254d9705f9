//! Engine invariants under arbitrary input: any sequence of received
//! messages (valid, invalid, garbage), time steps, packets to send and
//! confirmations never panics, never exceeds a capacity, leaves every
//! neighbor entry in a legal state whose timer fits that state, never runs
//! a timer early, and never asks to be woken in the past with nothing to
//! do.

mod common;

use core::net::Ipv6Addr;

use common::*;
use ndp_core::neighbor::{
    DELAY_FIRST_PROBE_TIME, MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT, Neighbor, NeighborState,
};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{MacAddr, Message, NdOption, NeighborAdvert, NeighborSolicit, Options};
use ndp_core::{Config, Delivery, RxMeta, Stack, TransmitKind};
use proptest::prelude::*;

const POOL: u16 = 12;
const MACS: [MacAddr; 3] = [PEER_MAC, OTHER_MAC, MacAddr([0x02, 0, 0, 0, 0, 0x77])];

fn pool_addr(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100 + i)
}

#[derive(Debug, Clone)]
enum Op {
    Advance(u32),
    Ns {
        src: Option<u16>,
        mac: Option<usize>,
        for_us: bool,
        hop_limit: u8,
    },
    Na {
        target: u16,
        s: bool,
        o: bool,
        r: bool,
        mac: Option<usize>,
        to_multicast: bool,
    },
    Ra {
        src: u16,
        mac: Option<usize>,
    },
    Garbage {
        bytes: Vec<u8>,
        hop_limit: u8,
    },
    Send {
        dst: u16,
        len: u16,
    },
    Confirm(u16),
    Drain,
}

fn op() -> impl Strategy<Value = Op> {
    let mac = proptest::option::of(0..MACS.len());
    prop_oneof![
        3 => prop_oneof![0u32..50, 0u32..2_000, 0u32..60_000].prop_map(Op::Advance),
        3 => (proptest::option::of(0..POOL), mac.clone(), any::<bool>(), prop_oneof![9 => Just(255u8), 1 => any::<u8>()])
            .prop_map(|(src, mac, for_us, hop_limit)| Op::Ns { src, mac, for_us, hop_limit }),
        4 => (0..POOL, any::<bool>(), any::<bool>(), any::<bool>(), mac.clone(), any::<bool>())
            .prop_map(|(target, s, o, r, mac, to_multicast)| Op::Na { target, s, o, r, mac, to_multicast }),
        1 => (0..POOL, mac).prop_map(|(src, mac)| Op::Ra { src, mac }),
        1 => (proptest::collection::vec(any::<u8>(), 0..80), any::<u8>())
            .prop_map(|(bytes, hop_limit)| Op::Garbage { bytes, hop_limit }),
        4 => (0..POOL, 0u16..1600).prop_map(|(dst, len)| Op::Send { dst, len }),
        1 => (0..POOL).prop_map(Op::Confirm),
        4 => Just(Op::Drain),
    ]
}

fn apply(s: &mut Stack, now: Instant, op: &Op) {
    match op {
        Op::Advance(_) | Op::Drain => {}
        Op::Ns {
            src,
            mac,
            for_us,
            hop_limit,
        } => {
            let opts: Vec<NdOption<'_>> = mac
                .map(|m| NdOption::SourceLinkAddr(MACS[m]))
                .into_iter()
                .collect();
            let target = if *for_us { our_ll() } else { a("fe80::dead") };
            let msg = Message::NeighborSolicit(NeighborSolicit {
                target,
                options: Options::from_list(&opts),
            });
            let src = src.map_or(Ipv6Addr::UNSPECIFIED, pool_addr);
            let dst = a("ff02::1:ff00:5310");
            let meta = RxMeta {
                src,
                dst,
                hop_limit: *hop_limit,
                src_mac: mac.map(|m| MACS[m]),
            };
            s.receive(now, &meta, &emit(&msg, src, dst));
        }
        Op::Na {
            target,
            s: sol,
            o,
            r,
            mac,
            to_multicast,
        } => {
            let opts: Vec<NdOption<'_>> = mac
                .map(|m| NdOption::TargetLinkAddr(MACS[m]))
                .into_iter()
                .collect();
            let target = pool_addr(*target);
            let msg = Message::NeighborAdvert(NeighborAdvert {
                router_flag: *r,
                solicited_flag: *sol,
                override_flag: *o,
                target,
                options: Options::from_list(&opts),
            });
            let dst = if *to_multicast {
                a("ff02::1")
            } else {
                our_ll()
            };
            s.receive(now, &meta(target, dst), &emit(&msg, target, dst));
        }
        Op::Ra { src, mac } => rx_ra(s, now, pool_addr(*src), mac.map(|m| MACS[m])),
        Op::Garbage { bytes, hop_limit } => {
            let m = RxMeta {
                src: pool_addr(0),
                dst: our_ll(),
                hop_limit: *hop_limit,
                src_mac: None,
            };
            s.receive(now, &m, bytes);
            // Also as a checksum-correct message of a random ND type.
            if bytes.len() >= 4 {
                let mut b = bytes.clone();
                b[0] = 130 + b[0] % 14;
                ndp_core::wire::icmpv6::fill_checksum(&mut b, &m.src, &m.dst).unwrap();
                s.receive(now, &m, &b);
            }
        }
        Op::Send { dst, len } => {
            let _ = s.send(
                now,
                &packet(our_ll(), pool_addr(*dst), usize::from(*len), 7),
            );
        }
        Op::Confirm(n) => s.confirm_reachable(now, &pool_addr(*n)),
    }
}

/// Every entry legal, its timer consistent with its state.
fn check_entries(s: &Stack, now: Instant) -> Result<(), TestCaseError> {
    let c = s.config();
    let retrans = s.retrans_timer();
    let max_reachable = Duration::from_millis(c.base_reachable_time.as_millis() * 3 / 2);
    let entries: Vec<Neighbor> = s.neighbors().collect();
    prop_assert!(entries.len() <= 8);
    let incomplete = entries
        .iter()
        .filter(|n| n.state == NeighborState::Incomplete)
        .count();
    prop_assert!(incomplete <= 4, "{incomplete} INCOMPLETE entries");
    prop_assert!(s.queued_packets() <= 4);
    let mut addrs: Vec<_> = entries.iter().map(|n| n.addr).collect();
    addrs.sort();
    addrs.dedup();
    prop_assert_eq!(addrs.len(), entries.len(), "duplicate entries");
    for n in &entries {
        let ctx = format!("{n:?} at {now}");
        match n.state {
            NeighborState::Incomplete => {
                prop_assert!(n.mac.is_none(), "{}", ctx);
                prop_assert!(n.probes <= MAX_MULTICAST_SOLICIT, "{}", ctx);
                let d = n.deadline.ok_or_else(|| TestCaseError::fail(ctx.clone()))?;
                prop_assert!(d <= now + retrans.max(c.ns_refill), "{}", ctx);
            }
            NeighborState::Reachable => {
                prop_assert!(n.mac.is_some() && n.probes == 0, "{}", ctx);
                let d = n.deadline.ok_or_else(|| TestCaseError::fail(ctx.clone()))?;
                prop_assert!(d <= now + max_reachable, "{}", ctx);
            }
            NeighborState::Stale => {
                prop_assert!(n.mac.is_some() && n.deadline.is_none(), "{}", ctx);
            }
            NeighborState::Delay => {
                prop_assert!(n.mac.is_some(), "{}", ctx);
                let d = n.deadline.ok_or_else(|| TestCaseError::fail(ctx.clone()))?;
                prop_assert!(d <= now + DELAY_FIRST_PROBE_TIME, "{}", ctx);
            }
            NeighborState::Probe => {
                prop_assert!(n.mac.is_some(), "{}", ctx);
                // 0 while the first probe waits for a source address (only
                // optimistic ones, RFC 4429 §3.2).
                prop_assert!(n.probes <= MAX_UNICAST_SOLICIT, "{}", ctx);
                let d = n.deadline.ok_or_else(|| TestCaseError::fail(ctx.clone()))?;
                prop_assert!(d <= now + retrans, "{}", ctx);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold(ops in proptest::collection::vec(op(), 1..120), seed in any::<u64>()) {
        let mut c = Config::new(OUR_MAC);
        c.seed = seed;
        let mut s = Stack::new(c, Instant::ZERO);
        let mut now = Instant::ZERO;
        let mut buf = [0u8; 1500];
        for op in &ops {
            match op {
                Op::Advance(ms) => now = now + Duration::from_millis(u64::from(*ms)),
                Op::Drain => {
                    let before: Vec<Neighbor> = s.neighbors().collect();
                    let mut n = 0;
                    let mut released_to = Vec::new();
                    while let Some(tx) = s.poll_transmit(now, &mut buf) {
                        prop_assert!(tx.len <= buf.len());
                        if let (TransmitKind::Released, Delivery::Link(mac)) = (tx.kind, tx.delivery) {
                            released_to.push(mac);
                        }
                        n += 1;
                        prop_assert!(n < 1000, "poll_transmit does not run dry");
                    }
                    // Nothing is left due: the next wake-up is in the future.
                    if let Some(at) = s.poll_at() {
                        prop_assert!(at > now, "poll_at {} <= now {} after draining", at, now);
                    }
                    // Only timers ran, and queued packets left: an entry that
                    // changed had a deadline that had come (no timer fires
                    // early), or was STALE and got a released packet, which
                    // moves it to DELAY (RFC 4861 §7.3.3).
                    for b in &before {
                        let after = s.neighbors().find(|n| n.addr == b.addr);
                        if after.as_ref() != Some(b) {
                            let due = b.deadline.is_some_and(|d| d <= now);
                            let used = b.state == NeighborState::Stale
                                && after.is_some_and(|a| a.state == NeighborState::Delay)
                                && b.mac.is_some_and(|m| released_to.contains(&m));
                            prop_assert!(due || used, "{:?} became {:?} at {} before its deadline", b, after, now);
                        }
                    }
                }
                op => apply(&mut s, now, op),
            }
            check_entries(&s, now)?;
        }
    }
}
