//! The ND proxy (feature `proxy`): which solicitations the stack answers
//! for addresses that are not its own, and how (RFC 4861 §7.2.8).
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
use ndp_core::Delivery;
use ndp_core::Stack;
use ndp_core::proxy::{PROXY_ANSWERS, PROXY_WINDOW, ProxyRule};
use ndp_core::wire::{Message, NdOption, NeighborSolicit, Options, UnicastAddr};

/// A host of the link asking (with its SLLA) for `target`, to the
/// target's solicited-node group; `src` `::` is a DAD probe (no SLLA).
fn solicit(s: &mut Stack, ms: u32, src: Ipv6Addr, target: Ipv6Addr) {
    let opts = [NdOption::SourceLinkAddr(PEER_MAC)];
    let m = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: if src.is_unspecified() {
            Options::EMPTY
        } else {
            Options::from_list(&opts)
        },
    });
    let group = UnicastAddr::new(target).unwrap().solicited_node().get();
    assert!(rx(s, t(ms), &m, src, group));
}

fn proxy_for(prefix: &str, len: u8) -> Stack {
    let mut s = stack();
    s.configure_proxy(|p| p.add_prefix(ProxyRule::new(a(prefix), len).unwrap()))
        .unwrap();
    s
}

/// The advertisements sent now: (destination MAC, IPv6 source,
/// destination, target, R, S, O, TLLA).
#[allow(clippy::type_complexity)]
fn adverts(
    s: &mut Stack,
    ms: u32,
) -> Vec<(
    Delivery,
    Ipv6Addr,
    Ipv6Addr,
    Ipv6Addr,
    bool,
    bool,
    bool,
    Option<ndp_core::wire::MacAddr>,
)> {
    drain(s, t(ms))
        .into_iter()
        .filter_map(|(tx, h, bytes)| match icmp(&bytes) {
            Message::NeighborAdvert(na) => Some((
                tx.delivery,
                h.src,
                h.dst,
                na.target,
                na.router_flag,
                na.solicited_flag,
                na.override_flag,
                na.options.target_link_addr(),
            )),
            _ => None,
        })
        .collect()
}

const HOST: &str = "2001:db8:1::7";

#[test]
fn a_target_under_the_prefix_is_answered_with_our_mac_and_override_clear() {
    let mut s = proxy_for("2001:db8:2::", 64);
    solicit(&mut s, 10, a(HOST), a("2001:db8:2::42"));
    let got = adverts(&mut s, 10);
    // RFC 4861 §7.2.4: solicited, to the asker; §7.2.8: O clear, our
    // link-layer address; from our link-local address; R: we forward.
    assert_eq!(
        got,
        vec![(
            Delivery::Link(PEER_MAC),
            our_ll(),
            a(HOST),
            a("2001:db8:2::42"),
            true,
            true,
            false,
            Some(OUR_MAC),
        )]
    );
    assert_eq!(s.proxy().stats().answered, 1);
    // The asker was learned, as for a solicitation for our own address.
    assert!(s.neighbors().any(|n| n.addr == a(HOST)));
}

#[test]
fn a_target_outside_every_prefix_gets_no_answer() {
    let mut s = proxy_for("2001:db8:2::", 64);
    solicit(&mut s, 10, a(HOST), a("2001:db8:3::42"));
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.stats().rx_ns_not_for_us, 1);
    assert_eq!(s.proxy().stats().answered, 0);
}

#[test]
fn the_deny_and_allow_lists_are_obeyed() {
    let mut s = proxy_for("2001:db8:2::", 64);
    s.configure_proxy(|p| p.deny(ProxyRule::address(a("2001:db8:2::bad")).unwrap()))
        .unwrap();
    solicit(&mut s, 10, a(HOST), a("2001:db8:2::bad"));
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.proxy().stats().denied, 1);
    // With an allow list, only what is on it.
    s.configure_proxy(|p| p.allow(ProxyRule::new(a("2001:db8:2::"), 120).unwrap()))
        .unwrap();
    solicit(&mut s, 20, a(HOST), a("2001:db8:2::1:1"));
    assert!(adverts(&mut s, 20).is_empty());
    assert_eq!(s.proxy().stats().denied, 2);
    solicit(&mut s, 30, a(HOST), a("2001:db8:2::11"));
    assert_eq!(adverts(&mut s, 30).len(), 1);
}

#[test]
fn dad_probes_for_proxied_targets_are_not_answered() {
    // A host of this link trying an address of the prefix must not fail
    // DAD because of us (RFC 4862 §5.4.4).
    let mut s = proxy_for("2001:db8:2::", 64);
    solicit(&mut s, 10, Ipv6Addr::UNSPECIFIED, a("2001:db8:2::42"));
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.proxy().stats().dad, 1);
}

#[test]
fn a_target_that_lives_on_this_link_answers_for_itself() {
    let mut s = proxy_for("2001:db8:2::", 64);
    let target = a("2001:db8:2::42");
    // The target itself asked us for our address: it is on this link.
    let m = Message::NeighborSolicit(NeighborSolicit {
        target: our_ll(),
        options: Options::from_list(&[NdOption::SourceLinkAddr(OTHER_MAC)]),
    });
    let group = UnicastAddr::new(our_ll()).unwrap().solicited_node().get();
    assert!(rx(&mut s, t(5), &m, target, group));
    let _ = adverts(&mut s, 5);
    solicit(&mut s, 10, a(HOST), target);
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.proxy().stats().on_link, 1);
}

#[test]
fn a_target_learned_before_the_proxy_was_configured_still_answers_for_itself() {
    let mut s = stack();
    let target = a("2001:db8:2::42");
    let m = Message::NeighborSolicit(NeighborSolicit {
        target: our_ll(),
        options: Options::from_list(&[NdOption::SourceLinkAddr(OTHER_MAC)]),
    });
    let group = UnicastAddr::new(our_ll()).unwrap().solicited_node().get();
    assert!(rx(&mut s, t(5), &m, target, group));
    let _ = adverts(&mut s, 5);
    // Then the prefix is configured: the cache is looked at again.
    s.configure_proxy(|p| p.add_prefix(ProxyRule::new(a("2001:db8:2::"), 64).unwrap()))
        .unwrap();
    solicit(&mut s, 10, a(HOST), target);
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.proxy().stats().on_link, 1);
}

#[test]
fn our_own_address_is_answered_as_ours_not_as_a_proxy() {
    // A prefix that covers everything still leaves our addresses ours.
    let mut s = proxy_for("::", 0);
    s.add_static_address(t(0), a("2001:db8:2::1"), 64).unwrap();
    let _ = drain(&mut s, t(0));
    solicit(&mut s, 10, a(HOST), a("2001:db8:2::1"));
    let got = adverts(&mut s, 10);
    assert_eq!(got.len(), 1);
    let (_, src, _, target, router, solicited, override_flag, _) = got[0];
    // Our own: from the address itself, O set (RFC 4861 §7.2.4), R clear.
    assert_eq!((src, target), (a("2001:db8:2::1"), a("2001:db8:2::1")));
    assert!(solicited && override_flag && !router);
    assert_eq!(s.proxy().stats().answered, 0);
}

#[test]
fn link_local_targets_are_never_proxied() {
    let mut s = proxy_for("::", 0);
    solicit(&mut s, 10, a(HOST), a("fe80::42"));
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.stats().rx_ns_not_for_us, 1);
}

#[test]
fn answers_are_rate_limited() {
    let mut s = proxy_for("2001:db8:2::", 64);
    let n = u32::from(PROXY_ANSWERS) + 8;
    for i in 0..n {
        let target = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, i as u16);
        solicit(&mut s, 10, a(HOST), target);
        // Answers go out as they come (four may wait at once).
        let _ = adverts(&mut s, 10);
    }
    let stats = s.proxy().stats();
    assert_eq!(stats.answered, u32::from(PROXY_ANSWERS));
    assert_eq!(stats.limited, 8);
    // The next window answers again.
    let later = 10 + PROXY_WINDOW.as_millis();
    solicit(&mut s, later, a(HOST), a("2001:db8:2::99"));
    assert_eq!(adverts(&mut s, later).len(), 1);
}

#[test]
fn nothing_is_answered_before_our_link_local_address_passed_dad() {
    let mut c = config();
    c.dad_transmits = 1;
    let mut s: Stack = Stack::new(c, t(0));
    s.configure_proxy(|p| p.add_prefix(ProxyRule::new(a("2001:db8:2::"), 64).unwrap()))
        .unwrap();
    solicit(&mut s, 1, a(HOST), a("2001:db8:2::42"));
    let answered = adverts(&mut s, 1);
    assert!(answered.is_empty(), "{answered:?}");
    assert_eq!(s.proxy().stats().limited, 1);
}

#[test]
fn the_router_flag_follows_the_configuration() {
    let mut s = proxy_for("2001:db8:2::", 64);
    s.configure_proxy(|p| p.set_router(false));
    solicit(&mut s, 10, a(HOST), a("2001:db8:2::42"));
    let got = adverts(&mut s, 10);
    assert_eq!(got.len(), 1);
    assert!(!got[0].4, "R set: {got:?}");
    // And a reload clears the prefixes: nothing answered.
    s.configure_proxy(|p| p.clear());
    solicit(&mut s, 20, a(HOST), a("2001:db8:2::42"));
    assert!(adverts(&mut s, 20).is_empty());
}

#[test]
fn a_unicast_probe_to_the_target_itself_is_answered() {
    // RFC 4861 §7.3.3: NUD probes go to the target's own address, which
    // is not ours; the proxy answers them as it answered the resolution.
    let mut s = proxy_for("2001:db8:2::", 64);
    let target = a("2001:db8:2::42");
    let m = Message::NeighborSolicit(NeighborSolicit {
        target,
        options: Options::from_list(&[NdOption::SourceLinkAddr(PEER_MAC)]),
    });
    assert!(rx(&mut s, t(10), &m, a(HOST), target));
    let got = adverts(&mut s, 10);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].2, got[0].3), (a(HOST), target));
}

#[test]
fn without_a_prefix_other_groups_stay_closed() {
    // No proxy configured: a solicitation to a group we did not join is
    // not even looked at (RFC 4291 §2.7).
    let mut s = stack();
    solicit(&mut s, 10, a(HOST), a("2001:db8:2::42"));
    assert!(adverts(&mut s, 10).is_empty());
    assert_eq!(s.stats().rx_not_for_us, 1);
    assert_eq!(s.stats().rx_ns_not_for_us, 0);
}
