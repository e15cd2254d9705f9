//! Router discovery through the Stack: RA processing (RFC 4861 §6.3.4),
//! router preference and more-specific routes (RFC 4191), on-link
//! prefixes, next-hop determination and the destination cache (§5.2,
//! §6.3.6), Redirect (§8.3), RDNSS/DNSSL (RFC 8106) and Router
//! Solicitations (§6.3.7, RFC 7559). One rule per test where possible.
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
use ndp_core::neighbor::MAX_UNICAST_SOLICIT;
use ndp_core::neighbor::NeighborState;
use ndp_core::router::{
    DESTINATIONS, NEWCOMER_BURST, NEWCOMER_REFILL, REFUSAL_REPORT_INTERVAL, Refusals,
};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::MacAddr;
use ndp_core::wire::ipv6::Ipv6Header;
use ndp_core::wire::{
    AddrList, Dnssl, DomainList, DomainName, Lifetime, Message, NdOption, Options, Preference,
    PrefixInfo, Rdnss, RouteInfo, RouterAdvert,
};
use ndp_core::{Delivery, Event, NextHop, RouteError, Stack, Transmit};

const R1: &str = "fe80::1";
const R2: &str = "fe80::2";
const R1_MAC: MacAddr = PEER_MAC;
const R2_MAC: MacAddr = OTHER_MAC;

/// An RA with everything configurable.
#[derive(Clone)]
struct Ra {
    hop: u8,
    managed: bool,
    other: bool,
    pref: Preference,
    lifetime: u16,
    reachable: u32,
    retrans: u32,
    opts: Vec<NdOption<'static>>,
}

impl Default for Ra {
    fn default() -> Self {
        Ra {
            hop: 0,
            managed: false,
            other: false,
            pref: Preference::Medium,
            lifetime: 1800,
            reachable: 0,
            retrans: 0,
            opts: vec![],
        }
    }
}

fn send_ra(s: &mut Stack, now: Instant, src: &str, ra: &Ra) {
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: ra.hop,
        managed: ra.managed,
        other_config: ra.other,
        preference: ra.pref,
        router_lifetime: ra.lifetime,
        reachable_time: ra.reachable,
        retrans_timer: ra.retrans,
        options: Options::from_list(&ra.opts),
    });
    assert!(rx(s, now, &m, a(src), a("ff02::1")));
}

fn pio(prefix: &str, len: u8, on_link: bool, valid: Lifetime) -> NdOption<'static> {
    NdOption::PrefixInfo(PrefixInfo {
        prefix_len: len,
        on_link,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: Lifetime::ZERO,
        prefix: a(prefix),
    })
}

fn rio(prefix: &str, len: u8, pref: Preference, lifetime: Lifetime) -> NdOption<'static> {
    NdOption::RouteInfo(RouteInfo {
        prefix_len: len,
        preference: pref,
        lifetime,
        prefix: a(prefix),
    })
}

/// Pending events about routers, prefixes, routes, DNS and link
/// parameters (address events belong to other tests).
fn events(s: &mut Stack) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event())
        .filter(|e| !matches!(e, Event::Address { .. } | Event::AddressRemoved { .. }))
        .collect()
}

/// Router `r` answers its admission probe (a solicited NA, R=1).
fn answer_probe(s: &mut Stack, now: Instant, r: &str, mac: MacAddr) {
    rx_na(s, now, a(r), true, true, true, Some(mac));
}

/// A stack whose router R1 (with SLLA) answered its admission probe at
/// `t(0)`: proven. Returns the RA that announced it.
fn with_proven_r1(pref: Preference) -> (Stack, Ra) {
    let mut s = stack();
    let ra = Ra {
        pref,
        opts: vec![slla(R1_MAC)],
        ..Ra::default()
    };
    send_ra(&mut s, t(0), R1, &ra);
    drain(&mut s, t(0));
    answer_probe(&mut s, t(0), R1, R1_MAC);
    assert!(s.routers().all(|r| r.proven));
    (s, ra)
}

/// Unicast solicitations for `r` among `out`.
fn probes_of(out: &[(Transmit, Ipv6Header, Vec<u8>)], r: &str) -> usize {
    out.iter()
        .filter(|(_, h, b)| {
            h.dst == a(r) && matches!(icmp(b), Message::NeighborSolicit(ns) if ns.target == a(r))
        })
        .count()
}

fn next_hop_mac(s: &mut Stack, now: Instant, dst: &str) -> Result<NextHop, RouteError> {
    s.route(now, a(dst))
}

#[test]
fn router_lifetime_adds_refreshes_and_removes_the_router() {
    // RFC 4861 §6.3.4.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            lifetime: 0,
            ..Ra::default()
        },
    );
    assert_eq!(
        s.routers().count(),
        0,
        "lifetime 0 for an unknown router is ignored"
    );
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            lifetime: 600,
            pref: Preference::High,
            ..Ra::default()
        },
    );
    let r = s.routers().next().unwrap();
    assert_eq!(
        (r.addr, r.preference, r.expires),
        (a(R1), Preference::High, t(600_000))
    );
    assert_eq!(
        events(&mut s),
        [Event::Router {
            addr: a(R1),
            lifetime_s: 600,
            preference: Preference::High
        }]
    );
    send_ra(
        &mut s,
        t(100_000),
        R1,
        &Ra {
            lifetime: 600,
            pref: Preference::High,
            ..Ra::default()
        },
    );
    assert_eq!(s.routers().next().unwrap().expires, t(700_000));
    assert!(events(&mut s).is_empty(), "a refresh is not an event");
    send_ra(
        &mut s,
        t(200_000),
        R1,
        &Ra {
            lifetime: 0,
            ..Ra::default()
        },
    );
    assert_eq!(s.routers().count(), 0);
    assert_eq!(
        events(&mut s),
        [Event::Router {
            addr: a(R1),
            lifetime_s: 0,
            preference: Preference::Medium
        }]
    );
}

#[test]
fn router_expires_exactly_at_its_lifetime() {
    // RFC 4861 §6.3.5.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            lifetime: 30,
            ..Ra::default()
        },
    );
    events(&mut s);
    // Startup MLD reports (at 0 and within a second) aside, the next
    // deadline is the router's expiry.
    drain(&mut s, t(0));
    drain(&mut s, t(1000));
    assert_eq!(s.poll_at(), Some(t(30_000)));
    drain(&mut s, t(29_999));
    assert_eq!(s.routers().count(), 1);
    drain(&mut s, t(30_000));
    assert_eq!(s.routers().count(), 0);
    assert_eq!(
        events(&mut s),
        [Event::Router {
            addr: a(R1),
            lifetime_s: 0,
            preference: Preference::Medium
        }]
    );
}

#[test]
fn reserved_preference_counts_as_medium() {
    // RFC 4191 §2.2.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            pref: Preference::Reserved,
            ..Ra::default()
        },
    );
    assert_eq!(s.routers().next().unwrap().preference, Preference::Medium);
}

#[test]
fn header_values_update_only_when_specified() {
    // RFC 4861 §6.3.4: zero means unspecified and changes nothing.
    let mut s = stack();
    let base_rt = s.reachable_time();
    send_ra(&mut s, t(0), R1, &Ra::default());
    assert_eq!(
        (s.hop_limit(), s.retrans_timer(), s.reachable_time()),
        (64, Duration::from_secs(1), base_rt)
    );
    send_ra(
        &mut s,
        t(1),
        R1,
        &Ra {
            hop: 32,
            retrans: 2500,
            reachable: 60_000,
            ..Ra::default()
        },
    );
    assert_eq!(s.hop_limit(), 32);
    assert_eq!(s.retrans_timer(), Duration::from_millis(2500));
    // A new BaseReachableTime redraws ReachableTime in [0.5, 1.5] × base.
    let rt = s.reachable_time().as_millis();
    assert!((30_000..=90_000).contains(&rt), "{rt}");
    assert!(events(&mut s).contains(&Event::HopLimit(32)));
    send_ra(&mut s, t(2), R1, &Ra::default());
    assert_eq!(
        (
            s.hop_limit(),
            s.retrans_timer().as_millis(),
            s.reachable_time().as_millis()
        ),
        (32, 2500, rt)
    );
    // The same base again keeps the drawn value.
    send_ra(
        &mut s,
        t(3),
        R1,
        &Ra {
            reachable: 60_000,
            ..Ra::default()
        },
    );
    assert_eq!(s.reachable_time().as_millis(), rt);
}

/// A fresh stack that has taken `ra` from R1.
fn after_ra(ra: Ra) -> Stack {
    let mut s = stack();
    send_ra(&mut s, t(0), R1, &ra);
    s
}

#[test]
fn ra_timers_are_clamped_to_documented_ranges() {
    // RFC 4861 §6.2.1: a router advertises at most MAX_REACHABLE_TIME
    // (3,600,000 ms); RFC 6583 §4: a host does not let the link dictate
    // absurd work. Reachable Time within [1 s, 1 h], Retrans Timer within
    // [100 ms, 5 s] (the reasons are on ndp_core::neighbor's constants).
    // The retransmission timer a rogue RA once set: 1,966,080 ms.
    for (retrans, expect_ms, clamped) in [
        (1_966_080, 5_000, true),
        (u32::MAX, 5_000, true),
        (5_001, 5_000, true),
        (5_000, 5_000, false),
        (100, 100, false),
        (99, 100, true),
        (1, 100, true),
        (2_500, 2_500, false),
    ] {
        let s = after_ra(Ra {
            retrans,
            ..Ra::default()
        });
        assert_eq!(
            s.retrans_timer().as_millis(),
            expect_ms,
            "retrans {retrans}"
        );
        assert_eq!(
            s.stats().ra_value_clamped,
            u32::from(clamped),
            "retrans {retrans}"
        );
    }
    for (reachable, base_ms, clamped) in [
        (u32::MAX, 3_600_000u32, true),
        (3_600_001, 3_600_000, true),
        (3_600_000, 3_600_000, false),
        (1_000, 1_000, false),
        (999, 1_000, true),
        (1, 1_000, true),
    ] {
        let s = after_ra(Ra {
            reachable,
            ..Ra::default()
        });
        // ReachableTime is drawn in [0.5, 1.5] × the (clamped) base.
        let rt = s.reachable_time().as_millis();
        assert!(
            base_ms / 2 <= rt && rt <= base_ms * 3 / 2,
            "reachable {reachable}: {rt}"
        );
        assert_eq!(
            s.stats().ra_value_clamped,
            u32::from(clamped),
            "reachable {reachable}"
        );
    }
}

#[test]
fn reachable_time_is_redrawn_when_the_base_changes() {
    // Redrawn on a base change (RFC 4861 §6.3.4): over several changes the
    // values spread over the [0.5, 1.5] range rather than sticking.
    let mut s = stack();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..20u32 {
        send_ra(
            &mut s,
            t(i),
            R1,
            &Ra {
                reachable: 10_000 + i,
                ..Ra::default()
            },
        );
        let rt = s.reachable_time().as_millis();
        let base = 10_000 + i;
        assert!(base / 2 <= rt && rt <= base * 3 / 2);
        seen.insert(rt * 10 / base);
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

#[test]
fn mtu_option_is_accepted_only_within_bounds() {
    // RFC 4861 §6.3.4: at least the IPv6 minimum (RFC 8200 §5), at most
    // the link's maximum (RFC 2464 §2: 1500 on Ethernet).
    let mut s = stack();
    for (mtu, expect) in [
        (1279, 1500),
        (1501, 1500),
        (1280, 1280),
        (1500, 1500),
        (1480, 1480),
        (u32::MAX, 1480),
    ] {
        send_ra(
            &mut s,
            t(0),
            R1,
            &Ra {
                opts: vec![NdOption::Mtu(mtu)],
                ..Ra::default()
            },
        );
        assert_eq!(s.link_mtu(), expect, "MTU option {mtu}");
    }
    assert_eq!(s.stats().ra_mtu_ignored, 3);
    assert!(events(&mut s).contains(&Event::Mtu(1480)));
}

#[test]
fn managed_and_other_flags_are_reported_on_change() {
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            other: true,
            ..Ra::default()
        },
    );
    assert!(events(&mut s).contains(&Event::ConfigFlags {
        managed: false,
        other: true
    }));
    send_ra(
        &mut s,
        t(1),
        R1,
        &Ra {
            other: true,
            ..Ra::default()
        },
    );
    assert!(
        !events(&mut s)
            .iter()
            .any(|e| matches!(e, Event::ConfigFlags { .. }))
    );
    assert_eq!(s.config_flags(), (false, true));
}

#[test]
fn on_link_prefixes_follow_the_l_flag_and_valid_lifetime() {
    // RFC 4861 §6.3.4.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![
                pio("2001:db8:1::", 64, true, Lifetime::Finite(100)),
                // L=0 says nothing about on-link: not added, and not
                // "off-link" either.
                pio("2001:db8:2::", 64, false, Lifetime::Finite(100)),
                // The link-local prefix is ignored.
                pio("fe80::", 64, true, Lifetime::Finite(100)),
                pio("2001:db8:3::", 48, true, Lifetime::Infinite),
            ],
            ..Ra::default()
        },
    );
    let p: Vec<_> = s
        .prefixes()
        .map(|p| (p.prefix, p.len, s.time_left(p.expires)))
        .collect();
    assert_eq!(
        p,
        [
            (a("2001:db8:1::"), 64, Some(100)),
            (a("2001:db8:3::"), 48, None)
        ]
    );
    assert_eq!(s.stats().ra_link_local_prefix, 1);
    // On-link destinations are their own next hop; others go to the router.
    assert_eq!(
        s.next_hop(t(0), a("2001:db8:1::99")),
        Some(a("2001:db8:1::99"))
    );
    assert_eq!(
        s.next_hop(t(0), a("2001:db8:3:4::1")),
        Some(a("2001:db8:3:4::1"))
    );
    assert_eq!(s.next_hop(t(0), a("2001:db8:2::99")), Some(a(R1)));
    // Lifetime zero removes a prefix at once (renumbering).
    send_ra(
        &mut s,
        t(1),
        R1,
        &Ra {
            opts: vec![pio("2001:db8:1::", 64, true, Lifetime::ZERO)],
            ..Ra::default()
        },
    );
    assert_eq!(s.prefixes().count(), 1);
    assert_eq!(s.next_hop(t(1), a("2001:db8:1::99")), Some(a(R1)));
    assert!(events(&mut s).contains(&Event::Prefix {
        prefix: a("2001:db8:1::"),
        len: 64,
        valid: Lifetime::ZERO
    }));
}

#[test]
fn prefix_expiry_is_exact() {
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![pio("2001:db8:1::", 64, true, Lifetime::Finite(10))],
            ..Ra::default()
        },
    );
    drain(&mut s, t(9_999));
    assert_eq!(s.prefixes().count(), 1);
    drain(&mut s, t(10_000));
    assert_eq!(s.prefixes().count(), 0);
}

#[test]
fn no_router_no_route() {
    let mut s = stack();
    assert_eq!(
        next_hop_mac(&mut s, t(0), "2001:db8::1"),
        Err(RouteError::NoRoute)
    );
    assert_eq!(s.next_hop(t(0), a("2001:db8::1")), None);
    assert_eq!(s.default_router(), None);
}

#[test]
fn loopback_and_unspecified_destinations_have_no_route_even_with_a_router() {
    // RFC 4291 §2.5.3: ::1 never leaves the node (an application that
    // answers a packet forged from ::1 must not reach the router with
    // it); §2.5.2: :: is never a destination.
    let mut s = stack();
    send_ra(&mut s, t(0), R1, &Ra::default());
    assert_eq!(s.next_hop(t(1), a("2001:db8::1")), Some(a(R1)));
    for dst in ["::1", "::"] {
        assert_eq!(s.next_hop(t(1), a(dst)), None, "{dst}");
        assert_eq!(
            next_hop_mac(&mut s, t(1), dst),
            Err(RouteError::NoRoute),
            "{dst}"
        );
    }
    assert!(s.destinations().all(|d| !d.dst.is_loopback()));
}

#[test]
fn next_hop_marks_a_destination_used_at_the_time_given() {
    // The destination cache is fixed-size and gives up its least
    // recently used entry: asking `next_hop` at a later time is a use.
    let mut s = stack();
    send_ra(&mut s, t(0), R1, &Ra::default());
    let dst = |i: u16| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i);
    let n = u16::try_from(DESTINATIONS).unwrap();
    for i in 0..n {
        assert_eq!(s.next_hop(t(u32::from(i) + 1), dst(i)), Some(a(R1)));
    }
    // The oldest, used again later, outlives the second oldest.
    assert_eq!(s.next_hop(t(100), dst(0)), Some(a(R1)));
    assert_eq!(s.next_hop(t(101), dst(n)), Some(a(R1)));
    let cached: Vec<_> = s.destinations().map(|d| d.dst).collect();
    assert!(
        cached.contains(&dst(0)) && cached.contains(&dst(n)),
        "{cached:?}"
    );
    assert!(!cached.contains(&dst(1)), "{cached:?}");
}

#[test]
fn preferred_router_wins_and_is_remembered_per_destination() {
    // RFC 4191 §3.2 and RFC 4861 §5.2 (destination cache).
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            pref: Preference::Low,
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    send_ra(
        &mut s,
        t(0),
        R2,
        &Ra {
            pref: Preference::High,
            opts: vec![NdOption::SourceLinkAddr(R2_MAC)],
            ..Ra::default()
        },
    );
    assert_eq!(
        next_hop_mac(&mut s, t(1), "2001:db8::1"),
        Ok(NextHop::Resolved {
            neighbor: a(R2),
            mac: R2_MAC
        })
    );
    let d: Vec<_> = s
        .destinations()
        .map(|d| (d.dst, d.next_hop, d.redirected))
        .collect();
    assert_eq!(d, [(a("2001:db8::1"), a(R2), false)]);
}

#[test]
fn probably_reachable_routers_beat_suspect_ones() {
    // RFC 4861 §6.3.6 (1), RFC 4191 §3.2: R2 is high but being resolved
    // (INCOMPLETE, suspect); R1 is low but STALE (probably reachable).
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            pref: Preference::Low,
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    send_ra(
        &mut s,
        t(0),
        R2,
        &Ra {
            pref: Preference::High,
            ..Ra::default()
        },
    );
    // With no entry at all R2 is assumed reachable (RFC 4191 §3.2)...
    assert_eq!(s.default_router(), Some(a(R2)));
    assert_eq!(s.next_hop(t(0), a("2001:db8::1")), Some(a(R2)));
    drain(&mut s, t(0));
    // ... and once being resolved it is suspect: the next destination goes
    // to R1.
    assert_eq!(
        s.route(t(1), a(R2)),
        Ok(NextHop::Resolving { neighbor: a(R2) })
    );
    assert_eq!(s.next_hop(t(1), a("2001:db8::2")), Some(a(R1)));
    assert_eq!(s.default_router(), Some(a(R1)));
}

#[test]
fn suspect_routers_are_used_round_robin() {
    // RFC 4861 §6.3.6 (2): nobody reachable, rotate so NUD probes each.
    let mut s = stack();
    for r in ["fe80::1", "fe80::2", "fe80::3"] {
        send_ra(&mut s, t(0), r, &Ra::default());
        s.route(t(0), a(r)).unwrap(); // INCOMPLETE: suspect
    }
    let picks: std::collections::BTreeSet<_> = (1..=3u16)
        .map(|i| {
            s.next_hop(t(0), Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i))
                .unwrap()
        })
        .collect();
    assert_eq!(picks.len(), 3, "{picks:?}");
}

#[test]
fn more_specific_routes_are_used_and_reserved_ones_ignored() {
    // RFC 4191 §2.3, §3.1, §3.2.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            pref: Preference::High,
            ..Ra::default()
        },
    );
    send_ra(
        &mut s,
        t(0),
        R2,
        &Ra {
            lifetime: 0,
            opts: vec![
                rio("2001:db8:ff::", 48, Preference::Low, Lifetime::Finite(1800)),
                rio(
                    "2001:db8:ee::",
                    48,
                    Preference::Reserved,
                    Lifetime::Finite(1800),
                ),
            ],
            ..Ra::default()
        },
    );
    assert_eq!(s.routes().count(), 1);
    assert_eq!(s.stats().ra_route_reserved_preference, 1);
    // Longest match beats the high-preference default router.
    assert_eq!(s.next_hop(t(0), a("2001:db8:ff::1")), Some(a(R2)));
    assert_eq!(s.next_hop(t(0), a("2001:db8:ee::1")), Some(a(R1)));
    // Lifetime zero withdraws the route; the cached choice goes with it.
    send_ra(
        &mut s,
        t(1),
        R2,
        &Ra {
            lifetime: 0,
            opts: vec![rio("2001:db8:ff::", 48, Preference::Low, Lifetime::ZERO)],
            ..Ra::default()
        },
    );
    assert_eq!(s.next_hop(t(1), a("2001:db8:ff::1")), Some(a(R1)));
}

#[test]
fn advertisement_with_r_flag_cleared_removes_the_router() {
    // RFC 4861 §7.2.5: IsRouter TRUE -> FALSE leaves the default router list.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    assert_eq!(s.next_hop(t(0), a("2001:db8::1")), Some(a(R1)));
    rx_na(&mut s, t(1), a(R1), false, false, false, None);
    assert_eq!(s.routers().count(), 0);
    assert!(!s.neighbors().find(|n| n.addr == a(R1)).unwrap().is_router);
    assert_eq!(s.next_hop(t(1), a("2001:db8::1")), None);
    assert_eq!(s.default_router(), None);
}

#[test]
fn router_lost_by_nud_is_suspect_until_it_advertises_again() {
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            pref: Preference::High,
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    send_ra(
        &mut s,
        t(0),
        R2,
        &Ra {
            pref: Preference::Low,
            opts: vec![NdOption::SourceLinkAddr(R2_MAC)],
            ..Ra::default()
        },
    );
    // Both answer their admission probes (RFC 4191 §3.5): proven.
    drain(&mut s, t(0));
    answer_probe(&mut s, t(0), R1, R1_MAC);
    answer_probe(&mut s, t(0), R2, R2_MAC);
    assert!(s.routers().all(|r| r.proven));
    assert_eq!(s.next_hop(t(0), a("2001:db8::1")), Some(a(R1)));
    // Sending to R1 starts NUD once ReachableTime has passed; nobody
    // answers the probes.
    let mut now = t(0) + s.reachable_time();
    drain(&mut s, now);
    s.route(now, a("2001:db8::1")).unwrap();
    while s.neighbors().any(|n| n.addr == a(R1)) {
        now = s.poll_at().unwrap();
        drain(&mut s, now);
    }
    assert!(s.routers().find(|r| r.addr == a(R1)).unwrap().suspect);
    // No entry, but suspect: R2 now.
    assert_eq!(s.next_hop(now, a("2001:db8::1")), Some(a(R2)));
    // R1 advertises again: back to R1.
    send_ra(
        &mut s,
        now,
        R1,
        &Ra {
            pref: Preference::High,
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    assert_eq!(s.next_hop(now, a("2001:db8::1")), Some(a(R1)));
}

#[test]
fn generation_moves_with_every_mirrored_change_and_only_then() {
    // Stack::generation lets an adapter skip comparing tables: it must
    // change when routers come and go and stay put on plain traffic.
    let mut s = stack();
    let g0 = s.generation();
    // Resolving a neighbor and hearing from it changes nothing mirrored.
    let _ = s.route(t(0), a("fe80::99"));
    drain(&mut s, t(0));
    assert_eq!(s.generation(), g0);
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    let g1 = s.generation();
    assert_ne!(g1, g0, "a new router");
    // The same advertisement again: nothing new.
    send_ra(
        &mut s,
        t(1),
        R1,
        &Ra {
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    drain(&mut s, t(1));
    assert_eq!(s.generation(), g1);
    // NUD loses the router: the default router choice changes.
    s.route(t(1), a("2001:db8::1")).unwrap();
    while s.neighbors().any(|n| n.addr == a(R1)) {
        let now = s.poll_at().unwrap();
        drain(&mut s, now);
    }
    assert_ne!(s.generation(), g1, "router lost");
}

// Redirects are followed with the `redirect` feature; the lib tests check
// what a build without it does.
#[cfg(feature = "redirect")]
fn redirect(
    s: &mut Stack,
    now: Instant,
    from: &str,
    target: &str,
    dst: &str,
    tlla: Option<ndp_core::wire::MacAddr>,
) {
    let opts: Vec<NdOption<'_>> = tlla.map(NdOption::TargetLinkAddr).into_iter().collect();
    let m = Message::Redirect(ndp_core::wire::Redirect {
        target: a(target),
        destination: a(dst),
        options: Options::from_list(&opts),
    });
    assert!(rx(s, now, &m, a(from), our_ll()));
}

#[cfg(feature = "redirect")]
#[test]
fn redirect_from_the_first_hop_changes_the_next_hop() {
    // RFC 4861 §8.3.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![NdOption::SourceLinkAddr(R1_MAC)],
            ..Ra::default()
        },
    );
    assert_eq!(s.next_hop(t(0), a("2001:db8:99::1")), Some(a(R1)));
    redirect(&mut s, t(1), R1, "fe80::99", "2001:db8:99::1", Some(R2_MAC));
    assert_eq!(
        s.route(t(2), a("2001:db8:99::1")),
        Ok(NextHop::Resolved {
            neighbor: a("fe80::99"),
            mac: R2_MAC
        })
    );
    let n = s.neighbors().find(|n| n.addr == a("fe80::99")).unwrap();
    // Target != destination: a router; the new entry is STALE (then DELAY
    // once used).
    assert!(n.is_router);
    assert_eq!(n.state, NeighborState::Delay);
    let d = s
        .destinations()
        .find(|d| d.dst == a("2001:db8:99::1"))
        .unwrap();
    assert!(d.redirected);
}

#[cfg(feature = "redirect")]
#[test]
fn redirect_to_the_destination_itself_makes_it_on_link() {
    let mut s = stack();
    send_ra(&mut s, t(0), R1, &Ra::default());
    s.next_hop(t(0), a("2001:db8:5::7"));
    redirect(
        &mut s,
        t(1),
        R1,
        "2001:db8:5::7",
        "2001:db8:5::7",
        Some(R2_MAC),
    );
    assert_eq!(
        s.next_hop(t(1), a("2001:db8:5::7")),
        Some(a("2001:db8:5::7"))
    );
    let n = s
        .neighbors()
        .find(|n| n.addr == a("2001:db8:5::7"))
        .unwrap();
    assert!(
        !n.is_router,
        "a new entry for an on-link target is not a router"
    );
}

#[cfg(feature = "redirect")]
#[test]
fn redirect_from_anyone_but_the_first_hop_is_ignored() {
    // RFC 4861 §8.1: the source must be the current first-hop router.
    let mut s = stack();
    send_ra(&mut s, t(0), R1, &Ra::default());
    send_ra(
        &mut s,
        t(0),
        R2,
        &Ra {
            lifetime: 1800,
            pref: Preference::Low,
            ..Ra::default()
        },
    );
    assert_eq!(s.next_hop(t(0), a("2001:db8:99::1")), Some(a(R1)));
    for forger in [R2, "fe80::bad"] {
        redirect(
            &mut s,
            t(1),
            forger,
            "fe80::99",
            "2001:db8:99::1",
            Some(R2_MAC),
        );
    }
    assert_eq!(s.next_hop(t(1), a("2001:db8:99::1")), Some(a(R1)));
    assert_eq!(s.stats().rx_redirect_not_first_hop, 2);
    assert!(
        s.neighbors().all(|n| n.addr != a("fe80::99")),
        "no cache entry from a forged redirect"
    );
}

fn rdnss(servers: &'static [Ipv6Addr], lifetime: Lifetime) -> NdOption<'static> {
    NdOption::Rdnss(Rdnss {
        lifetime,
        servers: AddrList::new(servers),
    })
}

#[test]
fn dns_servers_and_search_domains() {
    // RFC 8106 §5.3.1, §6.2.
    static S1: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53),
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x54),
    ];
    static BAD: [Ipv6Addr; 1] = [Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)];
    let names = Box::leak(Box::new([
        DomainName::new("example.com").unwrap(),
        DomainName::new(&"x".repeat(63)).unwrap(),
    ]));
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            opts: vec![
                rdnss(&S1, Lifetime::Finite(600)),
                rdnss(&BAD, Lifetime::Finite(600)),
                NdOption::Dnssl(Dnssl {
                    lifetime: Lifetime::Finite(300),
                    domains: DomainList::new(&names[..]),
                }),
            ],
            ..Ra::default()
        },
    );
    assert_eq!(s.dns_servers().collect::<Vec<_>>(), S1);
    assert_eq!(s.stats().dns_server_not_unicast, 1);
    let search: Vec<String> = s.search_domains().map(|d| d.as_str().to_string()).collect();
    assert_eq!(search, ["example.com", &"x".repeat(63)]);
    assert!(events(&mut s).contains(&Event::Dns));
    // Search domains expire first, exactly at their lifetime.
    drain(&mut s, t(299_999));
    assert_eq!(s.search_domains().count(), 2);
    drain(&mut s, t(300_000));
    assert_eq!(s.search_domains().count(), 0);
    assert_eq!(events(&mut s), [Event::Dns]);
    // Lifetime zero withdraws servers at once.
    send_ra(
        &mut s,
        t(300_001),
        R1,
        &Ra {
            opts: vec![rdnss(&S1[..1], Lifetime::ZERO)],
            ..Ra::default()
        },
    );
    assert_eq!(s.dns_servers().collect::<Vec<_>>(), [S1[1]]);
}

/// A transmitted packet as the drain helpers return it.
type Sent = (
    ndp_core::Transmit,
    ndp_core::wire::ipv6::Ipv6Header,
    Vec<u8>,
);

/// Follow the stack's timers until a Router Solicitation goes out (at
/// most `limit`); returns when, and the packet.
fn next_rs(s: &mut Stack, from: Instant, limit: Instant) -> Option<(Instant, Sent)> {
    let mut now = from;
    while now <= limit {
        for out in drain(s, now) {
            if matches!(icmp(&out.2), Message::RouterSolicit(_)) {
                return Some((now, out));
            }
        }
        now = s.poll_at()?;
    }
    None
}

#[test]
fn router_solicitations_start_after_a_random_delay_and_stop_on_a_router() {
    // RFC 4861 §6.3.7, RFC 7559 §2.1.
    let mut c = config();
    c.router_solicitations = true;
    let mut s = Stack::new(c, Instant::ZERO);
    let (first, (tx, h, bytes)) = next_rs(&mut s, t(0), t(10_000)).expect("an RS");
    assert!(first <= t(1000), "{first}");
    assert_eq!((h.src, h.dst, h.hop_limit), (our_ll(), a("ff02::2"), 255));
    assert_eq!(
        tx.delivery,
        Delivery::Link(ndp_core::wire::MacAddr([0x33, 0x33, 0, 0, 0, 2]))
    );
    let Message::RouterSolicit(rs) = icmp(&bytes) else {
        panic!()
    };
    // A preferred link-local source: with our link-layer address.
    assert_eq!(rs.options.source_link_addr(), Some(OUR_MAC));
    // An RA with router lifetime 0 does not stop them (RFC 7559 §2.1).
    send_ra(
        &mut s,
        first,
        R1,
        &Ra {
            lifetime: 0,
            ..Ra::default()
        },
    );
    let (second, _) = next_rs(&mut s, first, t(10_000)).expect("a second RS");
    assert!(second >= first + Duration::from_millis(3600));
    // One with a non-zero lifetime does.
    send_ra(&mut s, second, R1, &Ra::default());
    assert_eq!(s.router_solicitations_sent(), 2);
    assert!(next_rs(&mut s, second, t(100_000)).is_none());
}

#[test]
fn a_router_heard_before_the_first_solicitation_still_gets_one() {
    // RFC 4861 §6.3.7: "SHOULD send at least one solicitation".
    let mut c = config();
    c.router_solicitations = true;
    let mut s = Stack::new(c, Instant::ZERO);
    send_ra(&mut s, t(0), R1, &Ra::default());
    let (at, _) = next_rs(&mut s, t(0), t(10_000)).expect("one RS");
    assert!(at <= t(1000));
    assert_eq!(s.router_solicitations_sent(), 1);
    assert!(next_rs(&mut s, at, t(100_000)).is_none());
}

// ------------------------------------------------- a hostile link (RFC 6583)

fn slla(mac: MacAddr) -> NdOption<'static> {
    NdOption::SourceLinkAddr(mac)
}

#[test]
fn a_new_default_router_is_probed_at_once() {
    // RFC 4191 §3.5: one unicast NS confirms the router exists; its answer
    // proves it.
    let mut s = stack();
    let ra = Ra {
        opts: vec![slla(R1_MAC)],
        ..Ra::default()
    };
    send_ra(&mut s, t(0), R1, &ra);
    assert!(!s.routers().next().unwrap().proven);
    let out = drain(&mut s, t(0));
    assert_eq!(probes_of(&out, R1), 1, "{out:?}");
    let probe = out.iter().find(|(_, h, _)| h.dst == a(R1)).unwrap();
    assert_eq!(probe.0.delivery, Delivery::Link(R1_MAC));
    answer_probe(&mut s, t(5), R1, R1_MAC);
    assert!(s.routers().next().unwrap().proven);
    let n = s.neighbors().find(|n| n.addr == a(R1)).unwrap();
    assert_eq!(n.state, NeighborState::Reachable);
    // A refresh of a known router is no newcomer: no second probe.
    send_ra(&mut s, t(10), R1, &ra);
    assert_eq!(probes_of(&drain(&mut s, t(10)), R1), 0);
}

#[test]
fn a_router_that_never_answers_leaves_the_list_with_its_routes() {
    // RFC 6583 §6: a forged router, never proven, goes when NUD gives up.
    let mut s = stack();
    let ra = Ra {
        pref: Preference::High,
        lifetime: 65535,
        opts: vec![
            slla(R1_MAC),
            rio("2001:db8:ff::", 48, Preference::High, Lifetime::Infinite),
        ],
        ..Ra::default()
    };
    send_ra(&mut s, t(0), R1, &ra);
    assert_eq!((s.routers().count(), s.routes().count()), (1, 1));
    events(&mut s);
    let mut probes = 0;
    let mut now = t(0);
    while now < t(10_000) {
        probes += probes_of(&drain(&mut s, now), R1);
        // Once the router is gone no timer may be left.
        now = s.poll_at().map_or(t(10_000), |at| at.earlier(t(10_000)));
    }
    assert_eq!(probes, usize::from(MAX_UNICAST_SOLICIT));
    assert_eq!(s.routers().count(), 0);
    assert_eq!(s.routes().count(), 0);
    assert_eq!(s.poll_at(), None);
    assert_eq!(s.stats().router_probation_failed, 1);
    let ev = events(&mut s);
    assert!(ev.iter().any(|e| matches!(e,
        Event::Router { addr, lifetime_s: 0, .. } if *addr == a(R1))));
    assert!(ev.iter().any(|e| matches!(e,
        Event::Route { router, lifetime: Lifetime::Finite(0), .. } if *router == a(R1))));
    // Its next advertisement brings it back, as a newcomer.
    send_ra(&mut s, now, R1, &ra);
    assert_eq!(s.routers().count(), 1);
}

#[test]
fn a_proven_router_carries_traffic_while_a_newcomer_is_on_probation() {
    // RFC 6583 §6 over RFC 4191 §3.2: a high preference is a claim; it
    // counts once the router answered its probe.
    let (mut s, _) = with_proven_r1(Preference::Low);
    send_ra(
        &mut s,
        t(100),
        R2,
        &Ra {
            pref: Preference::High,
            opts: vec![slla(R2_MAC)],
            ..Ra::default()
        },
    );
    assert_eq!(probes_of(&drain(&mut s, t(100)), R2), 1);
    assert_eq!(s.next_hop(t(100), a("2001:db8::1")), Some(a(R1)));
    assert_eq!(s.default_router(), Some(a(R1)));
    answer_probe(&mut s, t(101), R2, R2_MAC);
    assert_eq!(s.next_hop(t(101), a("2001:db8::2")), Some(a(R2)));
    assert_eq!(s.default_router(), Some(a(R2)));
}

/// A forged advertisement in the manner of THC-IPv6's flood_router26:
/// its own router address and MAC, high preference, the longest
/// lifetime, a prefix to autoconfigure from and a route.
fn forged_ra(s: &mut Stack, now: Instant, i: u16) {
    let mac = MacAddr([0x02, 0x66, 0, 0, (i >> 8) as u8, i as u8]);
    let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x66, 0, 0, i);
    let opts = [
        slla(mac),
        NdOption::PrefixInfo(PrefixInfo {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: Lifetime::Infinite,
            preferred_lifetime: Lifetime::Infinite,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, 0x6600, i, 0, 0, 0, 0),
        }),
        NdOption::RouteInfo(RouteInfo {
            prefix_len: 48,
            preference: Preference::High,
            lifetime: Lifetime::Infinite,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
        }),
    ];
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 255,
        managed: false,
        other_config: false,
        preference: Preference::High,
        router_lifetime: 65535,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&opts),
    });
    assert!(rx(s, now, &m, src, a("ff02::1")));
}

#[test]
fn a_router_flood_never_displaces_a_proven_router_and_is_summed_up() {
    // RFC 6583 §6, RFC 4861 §6.3.4: 1,000 forged routers a second for 10 s
    // against a proven medium-preference router.
    let (mut s, _) = with_proven_r1(Preference::Medium);
    let mut ev = events(&mut s);
    let start = t(1000);
    let flood = 10_000u16;
    let mut admitted = std::collections::BTreeSet::new();
    let mut ns_out = 0;
    for i in 0..flood {
        let now = start + Duration::from_millis(u32::from(i));
        forged_ra(&mut s, now, i);
        ns_out += drain(&mut s, now).len();
        assert!(s.routers().any(|r| r.addr == a(R1) && r.proven), "at {i}");
        admitted.extend(s.routers().map(|r| r.addr).filter(|r| *r != a(R1)));
        assert_eq!(s.default_router(), Some(a(R1)), "at {i}");
        ev.extend(events(&mut s));
    }
    let end = start + Duration::from_millis(u32::from(flood));
    // Newcomers: the burst, then one per refill; each forged RA brings
    // up to four (router, prefix, address, route), so the routers
    // admitted are at most that many.
    let budget = u64::from(NEWCOMER_BURST)
        + u64::from(end.saturating_duration_since(start).as_millis() / NEWCOMER_REFILL.as_millis())
        + 1;
    assert!(admitted.len() as u64 <= budget, "{}", admitted.len());
    assert!(!admitted.is_empty());
    // Probes went out only for admitted routers, at most
    // MAX_UNICAST_SOLICIT each.
    assert!(ns_out <= admitted.len() * usize::from(MAX_UNICAST_SOLICIT) + 8);
    // Let the last report come due, then count: every forged router was
    // either admitted or reported refused.
    let mut now = end;
    while now < end + REFUSAL_REPORT_INTERVAL + secs(1) {
        drain(&mut s, now);
        ev.extend(events(&mut s));
        now = s
            .poll_at()
            .map_or(now + secs(1), |p| p.later(now + Duration::from_millis(1)));
    }
    let reports: Vec<Refusals> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Refused(r) => Some(*r),
            _ => None,
        })
        .collect();
    let refused: u64 = reports.iter().map(|r| u64::from(r.routers)).sum();
    assert_eq!(refused + admitted.len() as u64, u64::from(flood));
    // Summed up: about one report per REFUSAL_REPORT_INTERVAL, not one per
    // refusal.
    let interval = REFUSAL_REPORT_INTERVAL.as_millis();
    assert!(
        reports.len() as u64
            <= 2 + u64::from(now.saturating_duration_since(start).as_millis() / interval)
    );
    // The flood did not change the hop limit beyond the admitted routers'
    // advertisements, and the proven router still carries everything.
    assert_eq!(s.next_hop(now, a("2001:db8:1::1")), Some(a(R1)));
    assert!(s.stats().newcomers_refused >= flood as u32 - budget as u32);
}

#[test]
fn events_that_matter_survive_a_flood_of_lesser_ones() {
    // The event queue is never read while 64 resolutions fail: the
    // address and router events are still there at the end, the newest
    // state of each, and every event that made room was counted.
    let mut s = stack();
    send_ra(
        &mut s,
        t(0),
        R1,
        &Ra {
            hop: 50,
            opts: vec![slla(R1_MAC), NdOption::Mtu(1400)],
            ..Ra::default()
        },
    );
    drain(&mut s, t(0));
    answer_probe(&mut s, t(0), R1, R1_MAC);
    send_ra(
        &mut s,
        t(1),
        R1,
        &Ra {
            hop: 60,
            opts: vec![slla(R1_MAC), NdOption::Mtu(1300)],
            ..Ra::default()
        },
    );
    let mut now = t(2);
    let mut failed = 0;
    for round in 0..16u16 {
        for k in 0..4u16 {
            let dst = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, round, 0x100 + k);
            assert!(matches!(s.route(now, dst), Ok(NextHop::Resolving { .. })));
        }
        let end = now + secs(4);
        while now < end {
            drain(&mut s, now);
            now = s
                .poll_at()
                .unwrap_or(end)
                .earlier(end)
                .later(now + Duration::from_millis(1));
        }
        failed += 4;
    }
    let ev: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(ev.len() <= 16);
    // The newest state of everything that matters, once each.
    let routers: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, Event::Router { .. }))
        .collect();
    assert_eq!(routers.len(), 1, "{ev:?}");
    assert!(matches!(routers[0], Event::Router { addr, lifetime_s: 1800, .. } if *addr == a(R1)));
    let hop: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, Event::HopLimit(_)))
        .collect();
    assert_eq!(hop, [&Event::HopLimit(60)]);
    let mtu: Vec<_> = ev.iter().filter(|e| matches!(e, Event::Mtu(_))).collect();
    assert_eq!(mtu, [&Event::Mtu(1300)]);
    let ll: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, Event::Address { addr, .. } if *addr == our_ll()))
        .collect();
    assert_eq!(ll.len(), 1, "{ev:?}");
    // The resolution failures made room, the oldest first.
    let lost: Vec<Ipv6Addr> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ResolutionFailed { neighbor, .. } => Some(*neighbor),
            _ => None,
        })
        .collect();
    assert!(!lost.is_empty() && lost.len() < failed as usize);
    assert_eq!(
        lost.last(),
        Some(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 15, 0x103))
    );
    let kept = ev.len() as u32;
    let made = failed + 1 + 1 + 1 + 1; // + router, hop limit, MTU, address
    assert_eq!(s.stats().events_dropped, made - kept, "{ev:?}");
}

#[test]
fn losing_the_last_router_solicits_again() {
    // RFC 4861 §6.3.7: a host may solicit when it needs routers. A
    // forged lifetime-zero advertisement (kill_router6) costs one
    // solicitation and one round trip, not a periodic interval.
    let mut c = config();
    c.router_solicitations = true;
    let mut s = Stack::new(c, t(0));
    let ra = Ra {
        opts: vec![slla(R1_MAC)],
        ..Ra::default()
    };
    let rs_sent = |out: &[(Transmit, Ipv6Header, Vec<u8>)]| {
        out.iter()
            .filter(|(_, _, b)| matches!(icmp(b), Message::RouterSolicit(_)))
            .count()
    };
    let mut now = t(0);
    let mut sent = 0;
    while now < t(2000) {
        sent += rs_sent(&drain(&mut s, now));
        now = s.poll_at().unwrap_or(t(2000)).earlier(t(2000));
    }
    assert_eq!(sent, 1, "the boot solicitation");
    send_ra(&mut s, now, R1, &ra);
    drain(&mut s, now);
    answer_probe(&mut s, now, R1, R1_MAC);
    // No more solicitations while a router is there.
    let quiet = now + secs(60);
    while now < quiet {
        assert_eq!(rs_sent(&drain(&mut s, now)), 0);
        now = s.poll_at().unwrap_or(quiet).earlier(quiet);
    }
    // The router "says" lifetime 0: one solicitation within
    // MAX_RTR_SOLICITATION_DELAY, and the schedule backs off after it.
    let lost = now;
    send_ra(
        &mut s,
        lost,
        R1,
        &Ra {
            lifetime: 0,
            ..ra.clone()
        },
    );
    assert_eq!(s.routers().count(), 0);
    let mut at = Vec::new();
    let end = lost + secs(6);
    while now < end {
        if rs_sent(&drain(&mut s, now)) > 0 {
            at.push(now);
        }
        now = s.poll_at().unwrap_or(end).earlier(end);
    }
    assert!(!at.is_empty(), "a solicitation after the loss");
    assert!(at[0].saturating_duration_since(lost) <= secs(1));
    // Unanswered, it backs off as at boot (RFC 7559 §2: IRT 4 s, -10 %).
    assert!(at.len() <= 2, "{at:?}");
    if let [a0, a1] = at[..] {
        assert!(a1.saturating_duration_since(a0) >= Duration::from_millis(3600));
    }
}
