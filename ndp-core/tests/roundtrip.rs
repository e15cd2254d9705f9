//! Round trips: arbitrary repr → emit → parse is the identity, for every
//! message and every option; and arbitrary bytes that parse re-emit to a
//! message that parses to the same repr (the bytes oracle the fuzz target
//! also runs, here without nightly).
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
    AddrList, DestUnreachable, Dnssl, DomainList, DomainName, Lifetime, MacAddr, Message, MldQuery,
    MldQueryV2, MldRecord, MldV1, MldV2Report, NdOption, NeighborAdvert, NeighborSolicit, Options,
    Preference, PrefixInfo, Rdnss, RecordList, RecordType, Redirect, RouteInfo, RouterAdvert,
    RouterSolicit, UnreachableCode, icmpv6, kind,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn addr() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

fn lifetime() -> impl Strategy<Value = Lifetime> {
    prop_oneof![
        Just(Lifetime::Infinite),
        Just(Lifetime::ZERO),
        any::<u32>().prop_map(Lifetime::from_wire),
    ]
}

fn preference() -> impl Strategy<Value = Preference> {
    prop_oneof![
        Just(Preference::Low),
        Just(Preference::Medium),
        Just(Preference::High),
        Just(Preference::Reserved),
    ]
}

/// `a` with the bits after `len` cleared: written here from the RFC rule
/// rather than borrowed from the codec.
fn masked(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let mut o = a.octets();
    for (i, byte) in o.iter_mut().enumerate() {
        let start = i as u32 * 8;
        let keep = (u32::from(len)).saturating_sub(start).min(8);
        *byte &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
    Ipv6Addr::from(o)
}

fn domain() -> impl Strategy<Value = DomainName> {
    "[a-z0-9_-]{1,20}(\\.[a-zA-Z0-9-]{1,63}){0,3}".prop_map(|s| DomainName::new(&s).unwrap())
}

/// An owned option, so that strategies can produce the data a borrowed
/// `NdOption` points into.
#[derive(Debug, Clone)]
enum Opt {
    Source([u8; 6]),
    Target([u8; 6]),
    Prefix(PrefixInfo),
    Redirected(Vec<u8>),
    Mtu(u32),
    Nonce(Vec<u8>),
    Route(RouteInfo),
    Rdnss(Lifetime, Vec<Ipv6Addr>),
    Dnssl(Lifetime, Vec<DomainName>),
    Unknown(u8, Vec<u8>),
}

impl Opt {
    fn get(&self) -> NdOption<'_> {
        match self {
            Opt::Source(m) => NdOption::SourceLinkAddr(MacAddr(*m)),
            Opt::Target(m) => NdOption::TargetLinkAddr(MacAddr(*m)),
            Opt::Prefix(p) => NdOption::PrefixInfo(*p),
            Opt::Redirected(d) => NdOption::RedirectedHeader(d),
            Opt::Mtu(m) => NdOption::Mtu(*m),
            Opt::Nonce(n) => NdOption::Nonce(n),
            Opt::Route(r) => NdOption::RouteInfo(*r),
            Opt::Rdnss(l, s) => NdOption::Rdnss(Rdnss {
                lifetime: *l,
                servers: AddrList::new(s),
            }),
            Opt::Dnssl(l, d) => NdOption::Dnssl(Dnssl {
                lifetime: *l,
                domains: DomainList::new(d),
            }),
            Opt::Unknown(k, d) => NdOption::Unknown { kind: *k, data: d },
        }
    }
}

const KNOWN: [u8; 9] = [
    kind::SOURCE_LINK_ADDR,
    kind::TARGET_LINK_ADDR,
    kind::PREFIX_INFO,
    kind::REDIRECTED_HEADER,
    kind::MTU,
    kind::NONCE,
    kind::ROUTE_INFO,
    kind::RDNSS,
    kind::DNSSL,
];

/// Bytes of length `base + 8k`: what fills an option body exactly.
fn padded_bytes(base: usize, max_units: usize) -> impl Strategy<Value = Vec<u8>> {
    (0..max_units).prop_flat_map(move |k| vec(any::<u8>(), base + 8 * k))
}

fn option() -> impl Strategy<Value = Opt> {
    prop_oneof![
        any::<[u8; 6]>().prop_map(Opt::Source),
        any::<[u8; 6]>().prop_map(Opt::Target),
        (
            0u8..=128,
            any::<bool>(),
            any::<bool>(),
            lifetime(),
            lifetime(),
            addr()
        )
            .prop_map(
                |(prefix_len, on_link, autonomous, valid_lifetime, preferred_lifetime, a)| {
                    Opt::Prefix(PrefixInfo {
                        prefix_len,
                        on_link,
                        autonomous,
                        valid_lifetime,
                        preferred_lifetime,
                        prefix: masked(a, prefix_len),
                    })
                }
            ),
        padded_bytes(0, 20).prop_map(Opt::Redirected),
        any::<u32>().prop_map(Opt::Mtu),
        padded_bytes(6, 3).prop_map(Opt::Nonce),
        (0u8..=128, preference(), lifetime(), addr()).prop_map(
            |(prefix_len, preference, lifetime, a)| {
                Opt::Route(RouteInfo {
                    prefix_len,
                    preference,
                    lifetime,
                    prefix: masked(a, prefix_len),
                })
            }
        ),
        (lifetime(), vec(addr(), 1..6)).prop_map(|(l, s)| Opt::Rdnss(l, s)),
        (lifetime(), vec(domain(), 1..5)).prop_map(|(l, d)| Opt::Dnssl(l, d)),
        (
            any::<u8>().prop_filter("unknown kind", |k| !KNOWN.contains(k)),
            padded_bytes(6, 4)
        )
            .prop_map(|(k, d)| Opt::Unknown(k, d)),
    ]
}

fn opts(get: &[Opt]) -> Vec<NdOption<'_>> {
    get.iter().map(Opt::get).collect()
}

#[derive(Debug, Clone)]
struct Record {
    record_type: RecordType,
    group: Ipv6Addr,
    sources: Vec<Ipv6Addr>,
    aux: Vec<u8>,
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<u8>(),
        addr(),
        vec(addr(), 0..4),
        (0usize..3).prop_flat_map(|w| vec(any::<u8>(), 4 * w)),
    )
        .prop_map(|(t, group, sources, aux)| Record {
            record_type: RecordType::from_u8(t),
            group,
            sources,
            aux,
        })
}

/// An owned message: the fixed fields plus owned options/records/sources.
#[derive(Debug, Clone)]
enum Msg {
    Rs(Vec<Opt>),
    Ra {
        hop: u8,
        m: bool,
        o: bool,
        prf: Preference,
        life: u16,
        reach: u32,
        retrans: u32,
        opts: Vec<Opt>,
    },
    Ns(Ipv6Addr, Vec<Opt>),
    Na {
        r: bool,
        s: bool,
        o: bool,
        target: Ipv6Addr,
        opts: Vec<Opt>,
    },
    Redirect(Ipv6Addr, Ipv6Addr, Vec<Opt>),
    QueryV1(u16, Ipv6Addr),
    QueryV2 {
        code: u16,
        group: Ipv6Addr,
        s: bool,
        qrv: u8,
        qqic: u8,
        sources: Vec<Ipv6Addr>,
    },
    V1Report(Ipv6Addr),
    V1Done(Ipv6Addr),
    V2Report(Vec<Record>),
    Unreachable(u8, Vec<u8>),
}

fn message() -> impl Strategy<Value = Msg> {
    let o = || vec(option(), 0..6);
    prop_oneof![
        o().prop_map(Msg::Rs),
        (
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
            preference(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            o()
        )
            .prop_map(|(hop, m, o, prf, life, reach, retrans, opts)| Msg::Ra {
                hop,
                m,
                o,
                prf,
                life,
                reach,
                retrans,
                opts
            }),
        (addr(), o()).prop_map(|(t, o)| Msg::Ns(t, o)),
        (any::<bool>(), any::<bool>(), any::<bool>(), addr(), o()).prop_map(
            |(r, s, o, target, opts)| Msg::Na {
                r,
                s,
                o,
                target,
                opts
            }
        ),
        (addr(), addr(), o()).prop_map(|(t, d, o)| Msg::Redirect(t, d, o)),
        (any::<u16>(), addr()).prop_map(|(c, g)| Msg::QueryV1(c, g)),
        (
            any::<u16>(),
            addr(),
            any::<bool>(),
            0u8..=7,
            any::<u8>(),
            vec(addr(), 0..4)
        )
            .prop_map(|(code, group, s, qrv, qqic, sources)| Msg::QueryV2 {
                code,
                group,
                s,
                qrv,
                qqic,
                sources
            }),
        addr().prop_map(Msg::V1Report),
        addr().prop_map(Msg::V1Done),
        vec(record(), 0..5).prop_map(Msg::V2Report),
        (any::<u8>(), vec(any::<u8>(), 0..200)).prop_map(|(c, b)| Msg::Unreachable(c, b)),
    ]
}

/// Build the repr from the owned model and run `f` on it (the repr borrows
/// from temporaries that live only inside this function).
fn with_repr<R>(m: &Msg, f: impl FnOnce(Message<'_>) -> R) -> R {
    match m {
        Msg::Rs(o) => {
            let l = opts(o);
            f(Message::RouterSolicit(RouterSolicit {
                options: Options::from_list(&l),
            }))
        }
        Msg::Ra {
            hop,
            m,
            o,
            prf,
            life,
            reach,
            retrans,
            opts: os,
        } => {
            let l = opts(os);
            f(Message::RouterAdvert(RouterAdvert {
                cur_hop_limit: *hop,
                managed: *m,
                other_config: *o,
                preference: *prf,
                router_lifetime: *life,
                reachable_time: *reach,
                retrans_timer: *retrans,
                options: Options::from_list(&l),
            }))
        }
        Msg::Ns(t, o) => {
            let l = opts(o);
            f(Message::NeighborSolicit(NeighborSolicit {
                target: *t,
                options: Options::from_list(&l),
            }))
        }
        Msg::Na {
            r,
            s,
            o,
            target,
            opts: os,
        } => {
            let l = opts(os);
            f(Message::NeighborAdvert(NeighborAdvert {
                router_flag: *r,
                solicited_flag: *s,
                override_flag: *o,
                target: *target,
                options: Options::from_list(&l),
            }))
        }
        Msg::Redirect(t, d, o) => {
            let l = opts(o);
            f(Message::Redirect(Redirect {
                target: *t,
                destination: *d,
                options: Options::from_list(&l),
            }))
        }
        Msg::QueryV1(c, g) => f(Message::MldQuery(MldQuery {
            max_response_code: *c,
            group: *g,
            v2: None,
        })),
        Msg::QueryV2 {
            code,
            group,
            s,
            qrv,
            qqic,
            sources,
        } => f(Message::MldQuery(MldQuery {
            max_response_code: *code,
            group: *group,
            v2: Some(MldQueryV2 {
                suppress_router_processing: *s,
                robustness: *qrv,
                qqic: *qqic,
                sources: AddrList::new(sources),
            }),
        })),
        Msg::V1Report(g) => f(Message::MldV1Report(MldV1 { group: *g })),
        Msg::V1Done(g) => f(Message::MldV1Done(MldV1 { group: *g })),
        Msg::V2Report(rs) => {
            let recs: Vec<MldRecord<'_>> = rs
                .iter()
                .map(|r| MldRecord {
                    record_type: r.record_type,
                    group: r.group,
                    sources: AddrList::new(&r.sources),
                    aux_data: &r.aux,
                })
                .collect();
            f(Message::MldV2Report(MldV2Report {
                records: RecordList::new(&recs),
            }))
        }
        Msg::Unreachable(c, b) => f(Message::DestUnreachable(DestUnreachable::new(
            UnreachableCode::from_u8(*c),
            b,
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_option_round_trips(o in option()) {
        let opt = o.get();
        let mut buf = vec![0u8; opt.buffer_len()];
        prop_assert_eq!(buf.len() % 8, 0);
        prop_assert_eq!(opt.emit(&mut buf), Ok(buf.len()));
        let parsed = Options::parse(&buf).unwrap();
        let items: Vec<_> = parsed.iter().collect();
        prop_assert_eq!(items, vec![Ok(opt)]);
    }

    #[test]
    fn every_message_round_trips(m in message(), src in addr(), dst in addr()) {
        with_repr(&m, |msg| {
            let mut buf = vec![0u8; msg.buffer_len()];
            prop_assert_eq!(msg.emit(&src, &dst, &mut buf), Ok(buf.len()));
            let parsed = Message::parse_checked(&src, &dst, &buf).unwrap();
            prop_assert_eq!(parsed, msg);
            // A buffer one byte short is refused, not overrun.
            let short = buf.len() - 1;
            prop_assert_eq!(msg.emit(&src, &dst, &mut buf[..short]), Err(ndp_core::wire::Error::BufferTooSmall));
            Ok(())
        })?;
    }

    #[test]
    fn parsed_bytes_re_emit_to_the_same_message(
        ty in prop_oneof![Just(1u8), 130u8..=137, Just(143u8), any::<u8>()],
        code in prop_oneof![Just(0u8), any::<u8>()],
        body in vec(any::<u8>(), 0..300),
        src in addr(),
        dst in addr(),
    ) {
        let mut icmp = vec![ty, code, 0, 0];
        icmp.extend_from_slice(&body);
        icmpv6::fill_checksum(&mut icmp, &src, &dst).unwrap();
        if let Ok(msg) = Message::parse_checked(&src, &dst, &icmp) {
            let mut out = vec![0u8; msg.buffer_len()];
            prop_assert_eq!(msg.emit(&src, &dst, &mut out), Ok(out.len()));
            prop_assert_eq!(Message::parse_checked(&src, &dst, &out).unwrap(), msg);
        }
    }

    #[test]
    fn corrupting_any_byte_breaks_the_checksum(m in message(), src in addr(), dst in addr(), at in any::<usize>(), flip in 1u8..) {
        with_repr(&m, |msg| {
            let mut buf = vec![0u8; msg.buffer_len()];
            msg.emit(&src, &dst, &mut buf).unwrap();
            let i = at % buf.len();
            buf[i] ^= flip;
            // Flipping bits of one byte changes one 16-bit word by a
            // non-zero amount below 0xffff, which the one's-complement sum
            // always detects.
            prop_assert_eq!(Message::parse_checked(&src, &dst, &buf), Err(ndp_core::wire::Error::BadChecksum));
            Ok(())
        })?;
    }
}

#[test]
fn no_strict_prefix_of_a_message_parses_as_that_message() {
    // Emit many messages, then parse every strict prefix of each (with a
    // fixed checksum): each is an error or a different, shorter message,
    // and none panics.
    let src: Ipv6Addr = "fe80::1".parse().unwrap();
    let dst: Ipv6Addr = "ff02::1".parse().unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..300 {
        let m = message().new_tree(&mut runner).unwrap().current();
        with_repr(&m, |msg| {
            let mut buf = vec![0u8; msg.buffer_len()];
            msg.emit(&src, &dst, &mut buf).unwrap();
            for n in 0..buf.len() {
                let mut cut = buf[..n].to_vec();
                if n >= 4 {
                    icmpv6::fill_checksum(&mut cut, &src, &dst).unwrap();
                }
                match Message::parse_checked(&src, &dst, &cut) {
                    Ok(shorter) => assert_ne!(shorter, msg, "prefix of {n} bytes of {m:?}"),
                    Err(e) if n < 4 => assert_eq!(e, ndp_core::wire::Error::Truncated),
                    Err(_) => {}
                }
                let _ = ndp_core::wire::parse_received(
                    &ndp_core::wire::IpMeta {
                        src,
                        dst,
                        hop_limit: 255,
                    },
                    &cut,
                );
            }
        });
    }
}
