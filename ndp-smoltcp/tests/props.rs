//! Property test: whatever frames arrive, the adapter does not panic,
//! accounts for every frame (IPv6, IPv4, ARP, other) in exactly one
//! receive counter, and smoltcp
//! never holds an address the engine does not consider usable.
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

use std::net::Ipv6Addr;

use common::lone_nic;
use ndp_core::Config;
use ndp_core::addr::AddrState;
use ndp_core::wire::MacAddr;
use ndp_smoltcp::{Adapter, AdapterStats};
use proptest::prelude::*;
use smoltcp::iface::SocketSet;
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpCidr};

const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
/// The device's IPv4 address.
const OUR_IPV4: [u8; 4] = [192, 0, 2, 10];

/// Destination MACs worth trying: ours, broadcast, all-nodes, some
/// solicited-node group, a stranger.
fn dst_mac() -> impl Strategy<Value = [u8; 6]> {
    prop_oneof![
        Just(MAC.0),
        Just([0xff; 6]),
        Just([0x33, 0x33, 0, 0, 0, 1]),
        Just([0x01, 0, 0x5e, 0, 0, 1]),
        any::<[u8; 3]>().prop_map(|t| [0x33, 0x33, 0xff, t[0], t[1], t[2]]),
        any::<[u8; 6]>(),
    ]
}

/// An IPv6 packet that is often nearly right: version 6, a next header
/// from the interesting ones, sometimes an honest payload length.
fn ipv6() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(58u8),
            Just(0),
            Just(43),
            Just(44),
            Just(60),
            Just(17),
            any::<u8>()
        ],
        prop_oneof![Just(255u8), any::<u8>()],
        any::<[u8; 16]>(),
        prop_oneof![
            Just([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            any::<[u8; 16]>()
        ],
        // ICMPv6 type first when it is ICMPv6: ND, MLD, echo or anything.
        prop_oneof![
            (133u8..=137).boxed(),
            prop_oneof![Just(130u8), Just(131), Just(132), Just(143), Just(128)].boxed(),
            any::<u8>().boxed(),
        ],
        proptest::collection::vec(any::<u8>(), 0..120),
        any::<bool>(),
    )
        .prop_map(|(next, hop, src, dst, first, rest, honest)| {
            let mut payload = vec![first];
            payload.extend(rest);
            let len = if honest {
                payload.len() as u16
            } else {
                (payload.len() as u16) ^ 0x13
            };
            let mut p = vec![0x60, 0, 0, 0];
            p.extend(len.to_be_bytes());
            p.push(next);
            p.push(hop);
            p.extend(src);
            p.extend(dst);
            p.extend(payload);
            p
        })
}

/// An ARP body: mostly Ethernet/IPv4 requests and replies, some for the
/// device's IPv4 address.
fn arp() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        any::<[u8; 10]>(),
        any::<bool>(),
        any::<[u8; 6]>(),
        0usize..40,
    )
        .prop_map(|(request, sender, ours, target_mac, cut)| {
            let mut b = vec![0, 1, 8, 0, 6, 4, 0, if request { 1 } else { 2 }];
            b.extend(sender);
            b.extend(target_mac);
            b.extend(if ours { OUR_IPV4 } else { [192, 0, 2, 99] });
            b.truncate(b.len().saturating_sub(cut.saturating_sub(28)));
            b
        })
}

fn frame() -> impl Strategy<Value = Vec<u8>> {
    let ethertype = prop_oneof![
        12 => Just(0x86ddu16),
        2 => Just(0x0800u16),
        1 => any::<u16>(),
    ];
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..80),
        6 => (dst_mac(), any::<[u8; 6]>(), ethertype, ipv6())
            .prop_map(|(dst, src, et, ip)| {
                let mut f = dst.to_vec();
                f.extend(src);
                f.extend(et.to_be_bytes());
                f.extend(ip);
                f
            }),
        1 => (any::<[u8; 6]>(), arp()).prop_map(|(src, body)| {
            let mut f = vec![0xff; 6];
            f.extend(src);
            f.extend(0x0806u16.to_be_bytes());
            f.extend(body);
            f
        }),
    ]
}

/// Every way a received frame can end: each counted once.
fn accounted(s: &AdapterStats) -> u32 {
    s.rx_runt
        + s.rx_filtered
        + s.rx_unknown_ethertype
        + s.rx_malformed
        + s.rx_fragmented_nd
        + s.rx_unjoined_group
        + s.rx_loopback
        + s.rx_nd
        + s.rx_ip
        + s.rx_ipv4
        + s.rx_ipv4_malformed
        + s.rx_arp
        + s.rx_arp_malformed
        + s.rx_arp_not_for_us
        + s.rx_arp_unsolicited
        + s.rx_arp_bad_sender
        + s.arp_answered
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_frame_is_accounted_for_and_nothing_panics(
        frames in proptest::collection::vec((frame(), 0u64..50), 1..60),
        seed in any::<u64>(),
    ) {
        let nic = lone_nic();
        let inject = nic.rx.clone();
        let mut adapter = Adapter::new(nic, Config::stable(MAC, seed, [0; 16]), Instant::ZERO).unwrap();
        let mut iface = adapter.new_interface(Instant::ZERO);
        iface.update_ip_addrs(|a| a.push(IpCidr::new(IpAddress::v4(192, 0, 2, 10), 24)).unwrap());
        let mut sockets = SocketSet::new(vec![]);
        let mut now = 0i64;
        let sent = frames.len() as u32;
        for (f, gap) in frames {
            inject.borrow_mut().push_back(f);
            now += gap as i64;
            adapter.poll(Instant::from_millis(now), &mut iface, &mut sockets);
            let s = adapter.stats();
            prop_assert_eq!(accounted(s), s.rx_frames, "{:?}", s);
            for c in iface.ip_addrs() {
                let IpCidr::Ipv6(c) = c else { continue };
                let addr: Ipv6Addr = c.address();
                let state = adapter.stack().addresses().find(|a| a.addr.get() == addr).map(|a| a.state);
                prop_assert!(
                    matches!(state, Some(AddrState::Optimistic | AddrState::Preferred | AddrState::Deprecated)),
                    "smoltcp holds {} in state {:?}", addr, state
                );
            }
        }
        prop_assert!(inject.borrow().is_empty(), "frames left unread");
        prop_assert_eq!(adapter.stats().rx_frames, sent);
    }
}
