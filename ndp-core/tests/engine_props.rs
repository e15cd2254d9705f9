//! Engine invariants under arbitrary input: any sequence of received
//! messages (valid, invalid, garbage), time steps, packets to send and
//! confirmations never panics, never exceeds a capacity, leaves every
//! neighbor entry in a legal state whose timer fits that state, never runs
//! a timer early, and never asks to be woken in the past with nothing to
//! do.
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

use core::net::Ipv6Addr;

use common::*;
use ndp_core::neighbor::{
    DELAY_FIRST_PROBE_TIME, MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT, Neighbor, NeighborState,
};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{
    Lifetime, MacAddr, Message, NdOption, NeighborAdvert, NeighborSolicit, Options,
};
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
    /// An RA from router 0 with one Prefix Information option from a pool
    /// of three prefixes.
    Pio {
        prefix: u8,
        on_link: bool,
        autonomous: bool,
        valid: u32,
        preferred: u32,
    },
    /// A DAD probe from another node (or our own nonce) for one of our
    /// current addresses.
    DadProbe {
        index: usize,
        ours: bool,
    },
    /// An NA for one of our current addresses (our MAC or another).
    OwnNa {
        index: usize,
        our_mac: bool,
    },
    /// An MLD query, general or for one of our groups, v1 or v2.
    Query {
        general: bool,
        v2: bool,
        max_ms: u16,
    },
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
    /// The link came back (`Stack::link_up`).
    LinkUp,
}

fn op() -> impl Strategy<Value = Op> {
    let mac = proptest::option::of(0..MACS.len());
    prop_oneof![
        2 => (0u8..3, any::<bool>(), any::<bool>(), prop_oneof![Just(0u32), 1u32..20, 7000u32..8000, Just(u32::MAX)], prop_oneof![Just(0u32), 1u32..20, Just(u32::MAX)])
            .prop_map(|(prefix, on_link, autonomous, valid, preferred)| Op::Pio { prefix, on_link, autonomous, valid, preferred }),
        1 => (0usize..4, any::<bool>()).prop_map(|(index, ours)| Op::DadProbe { index, ours }),
        1 => (0usize..4, any::<bool>()).prop_map(|(index, our_mac)| Op::OwnNa { index, our_mac }),
        1 => (any::<bool>(), any::<bool>(), 0u16..3000).prop_map(|(general, v2, max_ms)| Op::Query { general, v2, max_ms }),
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
        1 => Just(Op::LinkUp),
        4 => Just(Op::Drain),
    ]
}

fn apply(s: &mut Stack, now: Instant, op: &Op, last_nonce: Option<[u8; 6]>) {
    let ours: Vec<Ipv6Addr> = s.addresses().map(|a| a.addr.get()).collect();
    match op {
        Op::Advance(_) | Op::Drain => {}
        Op::Pio {
            prefix,
            on_link,
            autonomous,
            valid,
            preferred,
        } => {
            let opts = [
                NdOption::SourceLinkAddr(MACS[1]),
                NdOption::PrefixInfo(ndp_core::wire::PrefixInfo {
                    prefix_len: 64,
                    on_link: *on_link,
                    autonomous: *autonomous,
                    valid_lifetime: Lifetime::from_wire(*valid),
                    preferred_lifetime: Lifetime::from_wire(*preferred),
                    prefix: Ipv6Addr::new(0x2001, 0xdb8, u16::from(*prefix), 0, 0, 0, 0, 0),
                }),
            ];
            let m = Message::RouterAdvert(ndp_core::wire::RouterAdvert {
                cur_hop_limit: 64,
                managed: false,
                other_config: false,
                preference: ndp_core::wire::Preference::Medium,
                router_lifetime: 600,
                reachable_time: 0,
                retrans_timer: 0,
                options: Options::from_list(&opts),
            });
            let src = pool_addr(0);
            s.receive(now, &meta(src, a("ff02::1")), &emit(&m, src, a("ff02::1")));
        }
        Op::DadProbe { index, ours: own } => {
            let Some(target) = ours.get(*index % ours.len().max(1)).copied() else {
                return;
            };
            let nonce = if *own {
                last_nonce.unwrap_or([9; 6])
            } else {
                [7; 6]
            };
            let opts = [NdOption::Nonce(&nonce)];
            let m = Message::NeighborSolicit(NeighborSolicit {
                target,
                options: Options::from_list(&opts),
            });
            let group = ndp_core::wire::UnicastAddr::new(target)
                .unwrap()
                .solicited_node()
                .get();
            let src = Ipv6Addr::UNSPECIFIED;
            s.receive(now, &meta(src, group), &emit(&m, src, group));
        }
        Op::OwnNa { index, our_mac } => {
            let Some(target) = ours.get(*index % ours.len().max(1)).copied() else {
                return;
            };
            let opts = [NdOption::TargetLinkAddr(if *our_mac {
                OUR_MAC
            } else {
                MACS[2]
            })];
            let m = Message::NeighborAdvert(NeighborAdvert {
                router_flag: false,
                solicited_flag: false,
                override_flag: true,
                target,
                options: Options::from_list(&opts),
            });
            s.receive(
                now,
                &meta(pool_addr(5), a("ff02::1")),
                &emit(&m, pool_addr(5), a("ff02::1")),
            );
        }
        Op::Query {
            general,
            v2,
            max_ms,
        } => {
            let group = if *general {
                Ipv6Addr::UNSPECIFIED
            } else {
                ours.first().map_or(Ipv6Addr::UNSPECIFIED, |t| {
                    ndp_core::wire::UnicastAddr::new(*t)
                        .unwrap()
                        .solicited_node()
                        .get()
                })
            };
            let q = Message::MldQuery(ndp_core::wire::MldQuery {
                max_response_code: *max_ms,
                group,
                v2: v2.then(|| ndp_core::wire::MldQueryV2 {
                    suppress_router_processing: false,
                    robustness: 2,
                    qqic: 125,
                    sources: ndp_core::wire::AddrList::new(&[]),
                }),
            });
            let dst = if group.is_unspecified() {
                a("ff02::1")
            } else {
                group
            };
            let src = pool_addr(0);
            let m = RxMeta {
                src,
                dst,
                hop_limit: 1,
                src_mac: None,
            };
            s.receive(now, &m, &emit(&q, src, dst));
        }
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
        Op::LinkUp => s.link_up(now),
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

/// Addresses within capacity, unique, in states consistent with their
/// timers; disabled only after a MAC-based link-local conflict.
fn check_addresses(s: &Stack, now: Instant, drained: bool) -> Result<(), TestCaseError> {
    use ndp_core::addr::{AddrState, Origin};
    let addrs: Vec<_> = s.addresses().collect();
    prop_assert!(addrs.len() <= ndp_core::addr::ADDRESSES);
    let mut seen: Vec<_> = addrs.iter().map(|a| a.addr).collect();
    seen.sort();
    seen.dedup();
    prop_assert_eq!(seen.len(), addrs.len(), "duplicate addresses");
    prop_assert!(
        addrs
            .iter()
            .filter(|a| a.origin == Origin::LinkLocal)
            .count()
            == 1
    );
    for a in &addrs {
        prop_assert!(a.prefix_len == 64);
        if a.origin == Origin::LinkLocal {
            prop_assert!(
                a.valid_until.is_never() && a.preferred_until.is_never(),
                "{:?}",
                a
            );
        }
        // Once the timers have run: nothing past its valid lifetime remains,
        // and nothing past its preferred lifetime is still preferred.
        if drained {
            prop_assert!(!s.expired(a.valid_until), "{:?} at {}", a, now);
            if a.state == AddrState::Preferred {
                prop_assert!(!s.expired(a.preferred_until), "{:?} at {}", a, now);
            }
        }
    }
    // RFC 4862 §5.4.5: a disabled interface keeps only its link-local
    // address, whose DAD goes on, so it always has a timer.
    if s.is_disabled() {
        prop_assert!(addrs.iter().all(|a| a.origin == Origin::LinkLocal));
        prop_assert!(s.poll_at().is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold(
        ops in proptest::collection::vec(op(), 1..120),
        seed in any::<u64>(),
        dad_transmits in 0u8..3,
        optimistic in any::<bool>(),
        gratuitous_na in 0u8..4,
    ) {
        // EUI-64, so that our_ll() is the engine's link-local address.
        let mut c = Config::eui64(OUR_MAC, seed);
        c.dad_transmits = dad_transmits;
        #[cfg(feature = "optimistic-dad")]
        {
            c.optimistic_dad = optimistic;
        }
        #[cfg(feature = "gratuitous-na")]
        {
            c.gratuitous_na = gratuitous_na;
        }
        // Drawn in every build, so a failing case replays in any.
        let _ = (optimistic, gratuitous_na);
        let mut s = Stack::new(c, Instant::ZERO);
        let mut now = Instant::ZERO;
        let mut buf = [0u8; 1500];
        let mut last_nonce = None;
        for op in &ops {
            match op {
                Op::Advance(ms) => now = now + Duration::from_millis(*ms),
                Op::Drain => {
                    let before: Vec<Neighbor> = s.neighbors().collect();
                    let mut n = 0;
                    let mut released_to = Vec::new();
                    while let Some(tx) = s.poll_transmit(now, &mut buf) {
                        prop_assert!(tx.len <= buf.len());
                        if let (TransmitKind::Released, Delivery::Link(mac)) = (tx.kind, tx.delivery) {
                            released_to.push(mac);
                        }
                        // Remember our latest DAD nonce, to loop it back.
                        let bytes = &buf[..tx.len];
                        if let Ok((h, body)) = ndp_core::wire::ipv6::Ipv6Header::parse(bytes)
                            && h.next_header == 58
                            && let Ok(Message::NeighborSolicit(ns)) = Message::parse_checked(&h.src, &h.dst, body)
                            && let Some(n) = ns.options.nonce()
                        {
                            last_nonce = <[u8; 6]>::try_from(n).ok();
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
                op => apply(&mut s, now, op, last_nonce),
            }
            check_entries(&s, now)?;
            check_addresses(&s, now, matches!(op, Op::Drain))?;
        }
    }
}
