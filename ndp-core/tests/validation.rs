//! Hand-made invalid messages in the style of the IPv6 Ready Logo
//! conformance tests: each is a valid message with one thing broken, and
//! each must be rejected with that reason. Every case also checks that the
//! unbroken baseline is accepted, so a rejection for the wrong reason (or
//! for every input) fails.
// Test code may index, unwrap and panic: the workspace's no-panic lints
// are for the library.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use core::net::Ipv6Addr;

use ndp_core::wire::{
    Error, Invalid, IpMeta, MacAddr, Message, MldQuery, MldV1, MldV2Report, NdOption,
    NeighborAdvert, NeighborSolicit, Options, RecordList, Redirect, RouterAdvert, RouterSolicit,
    RxError, icmpv6, parse_received,
};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x01]);
const SLLA: [NdOption<'static>; 1] = [NdOption::SourceLinkAddr(MAC)];
const TLLA: [NdOption<'static>; 1] = [NdOption::TargetLinkAddr(MAC)];

fn bytes(msg: &Message<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut b = vec![0u8; msg.buffer_len()];
    msg.emit(&src, &dst, &mut b).unwrap();
    b
}

fn rx(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, icmp: &[u8]) -> Result<(), RxError> {
    parse_received(
        &IpMeta {
            src,
            dst,
            hop_limit,
        },
        icmp,
    )
    .map(|_| ())
}

/// Set byte `at` and fix the checksum, as a peer that means it would.
fn patched(mut b: Vec<u8>, at: usize, v: u8, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    b[at] = v;
    icmpv6::fill_checksum(&mut b, &src, &dst).unwrap();
    b
}

fn ns(target: &str, opts: &'static [NdOption<'static>]) -> Message<'static> {
    Message::NeighborSolicit(NeighborSolicit {
        target: a(target),
        options: Options::from_list(opts),
    })
}

fn na(target: &str, solicited: bool) -> Message<'static> {
    Message::NeighborAdvert(NeighborAdvert {
        router_flag: false,
        solicited_flag: solicited,
        override_flag: true,
        target: a(target),
        options: Options::from_list(&TLLA),
    })
}

fn ra() -> Message<'static> {
    Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other_config: false,
        preference: ndp_core::wire::Preference::Medium,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&SLLA),
    })
}

fn rs(opts: &'static [NdOption<'static>]) -> Message<'static> {
    Message::RouterSolicit(RouterSolicit {
        options: Options::from_list(opts),
    })
}

fn redirect(target: &str, dest: &str) -> Message<'static> {
    Message::Redirect(Redirect {
        target: a(target),
        destination: a(dest),
        options: Options::EMPTY,
    })
}

const ROUTER: &str = "fe80::1";
const HOST: &str = "fe80::2";

/// Every ND message kind with a valid source/destination for it.
fn nd_cases() -> Vec<(Message<'static>, Ipv6Addr, Ipv6Addr)> {
    vec![
        (rs(&SLLA), a(HOST), a("ff02::2")),
        (ra(), a(ROUTER), a("ff02::1")),
        (ns("fe80::2", &SLLA), a(ROUTER), a("ff02::1:ff00:2")),
        (na("fe80::2", true), a(HOST), a(ROUTER)),
        (redirect("fe80::99", "2001:db8:99::1"), a(ROUTER), a(HOST)),
    ]
}

#[test]
fn baselines_are_accepted() {
    for (m, src, dst) in nd_cases() {
        assert_eq!(rx(src, dst, 255, &bytes(&m, src, dst)), Ok(()), "{m:?}");
    }
}

#[test]
fn hop_limit_254_is_rejected_for_every_nd_message() {
    // RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1.
    for (m, src, dst) in nd_cases() {
        let b = bytes(&m, src, dst);
        assert_eq!(
            rx(src, dst, 254, &b),
            Err(RxError::Invalid(Invalid::HopLimit)),
            "{m:?}"
        );
        assert_eq!(
            rx(src, dst, 1, &b),
            Err(RxError::Invalid(Invalid::HopLimit)),
            "{m:?}"
        );
    }
}

#[test]
fn code_1_is_rejected_for_every_nd_message() {
    for (m, src, dst) in nd_cases() {
        let b = patched(bytes(&m, src, dst), 1, 1, src, dst);
        assert_eq!(
            rx(src, dst, 255, &b),
            Err(RxError::Invalid(Invalid::Code)),
            "{m:?}"
        );
    }
}

#[test]
fn icmp_length_16_ns_and_na_are_truncated() {
    // RFC 4861 §7.1.1, §7.1.2: 24 or more octets.
    let (src, dst) = (a(ROUTER), a("ff02::1:ff00:2"));
    for m in [ns("fe80::2", &[]), na("fe80::2", false)] {
        let mut b = bytes(&m, src, dst);
        b.truncate(16);
        icmpv6::fill_checksum(&mut b, &src, &dst).unwrap();
        assert_eq!(
            rx(src, dst, 255, &b),
            Err(RxError::Malformed(Error::Truncated)),
            "{m:?}"
        );
    }
    // RA shorter than 16, Redirect shorter than 40.
    for (m, n) in [(ra(), 15), (redirect("fe80::99", "2001:db8::1"), 39)] {
        let mut b = bytes(&m, a(ROUTER), a(HOST));
        b.truncate(n);
        icmpv6::fill_checksum(&mut b, &a(ROUTER), &a(HOST)).unwrap();
        assert_eq!(
            rx(a(ROUTER), a(HOST), 255, &b),
            Err(RxError::Malformed(Error::Truncated))
        );
    }
}

#[test]
fn option_length_0_is_rejected_for_every_nd_message() {
    // RFC 4861 §4.6 and each message's validation section.
    for (m, src, dst) in nd_cases() {
        let mut b = bytes(&m, src, dst);
        // Append an option with length 0 after the existing ones.
        b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        icmpv6::fill_checksum(&mut b, &src, &dst).unwrap();
        assert_eq!(
            rx(src, dst, 255, &b),
            Err(RxError::Malformed(Error::OptionLengthZero)),
            "{m:?}"
        );
    }
}

#[test]
fn ns_and_na_for_a_multicast_target_are_rejected() {
    let (src, dst) = (a(ROUTER), a("ff02::1:ff00:2"));
    let m = ns("ff02::1", &SLLA);
    assert_eq!(
        rx(src, dst, 255, &bytes(&m, src, dst)),
        Err(RxError::Invalid(Invalid::TargetMulticast))
    );
    let m = na("ff02::1", false);
    let dst = a("ff02::1");
    assert_eq!(
        rx(src, dst, 255, &bytes(&m, src, dst)),
        Err(RxError::Invalid(Invalid::TargetMulticast))
    );
}

#[test]
fn dad_ns_rules() {
    // RFC 4861 §7.1.1: from ::, to a solicited-node group, without SLLA.
    let src = Ipv6Addr::UNSPECIFIED;
    let sn = a("ff02::1:ff00:2");
    let ok = ns("fe80::2", &[]);
    assert_eq!(rx(src, sn, 255, &bytes(&ok, src, sn)), Ok(()));
    let with_slla = ns("fe80::2", &SLLA);
    assert_eq!(
        rx(src, sn, 255, &bytes(&with_slla, src, sn)),
        Err(RxError::Invalid(Invalid::UnspecifiedSourceWithLinkAddr))
    );
    let unicast = a("fe80::2");
    assert_eq!(
        rx(src, unicast, 255, &bytes(&ok, src, unicast)),
        Err(RxError::Invalid(Invalid::DadNotToSolicitedNode))
    );
    let all_nodes = a("ff02::1");
    assert_eq!(
        rx(src, all_nodes, 255, &bytes(&ok, src, all_nodes)),
        Err(RxError::Invalid(Invalid::DadNotToSolicitedNode))
    );
    // A malformed SLLA (length 2) is still an SLLA.
    let mut b = bytes(&ok, src, sn);
    b.extend_from_slice(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    icmpv6::fill_checksum(&mut b, &src, &sn).unwrap();
    assert_eq!(
        rx(src, sn, 255, &b),
        Err(RxError::Invalid(Invalid::UnspecifiedSourceWithLinkAddr))
    );
}

#[test]
fn rs_from_unspecified_with_slla_is_rejected() {
    // RFC 4861 §6.1.1.
    let (src, dst) = (Ipv6Addr::UNSPECIFIED, a("ff02::2"));
    assert_eq!(rx(src, dst, 255, &bytes(&rs(&[]), src, dst)), Ok(()));
    assert_eq!(
        rx(src, dst, 255, &bytes(&rs(&SLLA), src, dst)),
        Err(RxError::Invalid(Invalid::UnspecifiedSourceWithLinkAddr))
    );
}

#[test]
fn solicited_na_to_multicast_is_rejected() {
    // RFC 4861 §7.1.2.
    let (src, dst) = (a(HOST), a("ff02::1"));
    assert_eq!(
        rx(src, dst, 255, &bytes(&na("fe80::2", false), src, dst)),
        Ok(())
    );
    assert_eq!(
        rx(src, dst, 255, &bytes(&na("fe80::2", true), src, dst)),
        Err(RxError::Invalid(Invalid::SolicitedToMulticast))
    );
}

#[test]
fn ra_from_a_global_source_is_rejected() {
    // RFC 4861 §6.1.2.
    let dst = a("ff02::1");
    for src in [a("2001:db8::1"), Ipv6Addr::UNSPECIFIED, a("fec0::1")] {
        assert_eq!(
            rx(src, dst, 255, &bytes(&ra(), src, dst)),
            Err(RxError::Invalid(Invalid::SourceNotLinkLocal)),
            "{src}"
        );
    }
}

#[test]
fn redirect_rules() {
    // RFC 4861 §8.1.
    let (src, dst) = (a(ROUTER), a("2001:db8:1::10"));
    let ok = redirect("fe80::99", "2001:db8:99::1");
    let b = bytes(&ok, src, dst);
    assert_eq!(rx(src, dst, 255, &b), Ok(()));
    let global = a("2001:db8:1::1");
    assert_eq!(
        rx(global, dst, 255, &bytes(&ok, global, dst)),
        Err(RxError::Invalid(Invalid::SourceNotLinkLocal))
    );
    let mc = redirect("fe80::99", "ff0e::1");
    assert_eq!(
        rx(src, dst, 255, &bytes(&mc, src, dst)),
        Err(RxError::Invalid(Invalid::RedirectDestinationMulticast))
    );
    let off = redirect("2001:db8:2::1", "2001:db8:99::1");
    assert_eq!(
        rx(src, dst, 255, &bytes(&off, src, dst)),
        Err(RxError::Invalid(Invalid::RedirectTargetNotLinkLocal))
    );
    // Target equal to destination: the destination is on-link.
    let onlink = redirect("2001:db8:99::1", "2001:db8:99::1");
    assert_eq!(rx(src, dst, 255, &bytes(&onlink, src, dst)), Ok(()));
}

#[test]
fn multicast_source_is_rejected() {
    // RFC 4291 §2.7.
    let (src, dst) = (a("ff02::1"), a("ff02::1"));
    assert_eq!(
        rx(src, dst, 255, &bytes(&na("fe80::2", false), src, dst)),
        Err(RxError::Invalid(Invalid::SourceMulticast))
    );
}

#[test]
fn bad_checksum_is_rejected() {
    let (m, src, dst) = nd_cases().remove(2);
    let mut b = bytes(&m, src, dst);
    b[2] ^= 0x01;
    assert_eq!(
        rx(src, dst, 255, &b),
        Err(RxError::Malformed(Error::BadChecksum))
    );
    // The right bytes against the wrong pseudo-header fail too.
    let b = bytes(&m, src, dst);
    assert_eq!(
        rx(a("fe80::3"), dst, 255, &b),
        Err(RxError::Malformed(Error::BadChecksum))
    );
}

#[test]
fn mld_rules() {
    let (src, all) = (a(ROUTER), a("ff02::1"));
    let q = Message::MldQuery(MldQuery {
        max_response_code: 1000,
        group: Ipv6Addr::UNSPECIFIED,
        v2: None,
    });
    assert_eq!(rx(src, all, 1, &bytes(&q, src, all)), Ok(()));
    // RFC 3810 §5: hop limit 1.
    assert_eq!(
        rx(src, all, 255, &bytes(&q, src, all)),
        Err(RxError::Invalid(Invalid::MldHopLimit))
    );
    // RFC 3810 §5.1.14: link-local source only.
    let g = a("2001:db8::1");
    assert_eq!(
        rx(g, all, 1, &bytes(&q, g, all)),
        Err(RxError::Invalid(Invalid::SourceNotLinkLocal))
    );
    let u = Ipv6Addr::UNSPECIFIED;
    assert_eq!(
        rx(u, all, 1, &bytes(&q, u, all)),
        Err(RxError::Invalid(Invalid::SourceNotLinkLocal))
    );
    // RFC 3810 §5.2.13: reports from link-local or ::.
    let r = Message::MldV2Report(MldV2Report {
        records: RecordList::new(&[]),
    });
    let mld = a("ff02::16");
    assert_eq!(rx(u, mld, 1, &bytes(&r, u, mld)), Ok(()));
    assert_eq!(
        rx(g, mld, 1, &bytes(&r, g, mld)),
        Err(RxError::Invalid(Invalid::MldReportSource))
    );
    assert_eq!(
        rx(src, mld, 2, &bytes(&r, src, mld)),
        Err(RxError::Invalid(Invalid::MldHopLimit))
    );
    let v1 = Message::MldV1Report(MldV1 {
        group: a("ff02::1:ff00:2"),
    });
    assert_eq!(rx(src, mld, 1, &bytes(&v1, src, mld)), Ok(()));
    assert_eq!(
        rx(g, mld, 1, &bytes(&v1, g, mld)),
        Err(RxError::Invalid(Invalid::MldReportSource))
    );
}

#[test]
fn echo_is_not_ours() {
    let (src, dst) = (a(HOST), a(ROUTER));
    let mut echo = vec![128u8, 0, 0, 0, 0x12, 0x34, 0, 1];
    icmpv6::fill_checksum(&mut echo, &src, &dst).unwrap();
    assert_eq!(
        rx(src, dst, 64, &echo),
        Err(RxError::Malformed(Error::UnsupportedType))
    );
}
