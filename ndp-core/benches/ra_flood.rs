//! Cost of one flooded Router Advertisement: 17 Prefix Information and 8
//! Route Information options with random prefixes, from one of 1,000
//! link-local sources, against a stack whose tables are full (the steady
//! state of a flood). Prints wall time per RA; run under
//! `valgrind --tool=callgrind` for instruction counts.
//!
//! `cargo bench -p ndp-core --features testing --bench ra_flood [-- ITERATIONS]`
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
use std::hint::black_box;

use ndp_core::rng::Rng;
use ndp_core::time::Instant;
use ndp_core::wire::{
    Lifetime, MacAddr, Message, NdOption, Options, Preference, PrefixInfo, RouteInfo, RouterAdvert,
};
use ndp_core::{Config, RxMeta, Stack};

const SOURCES: u16 = 1_000;

fn flood_ra(rng: &mut Rng, n: u16) -> (RxMeta, Vec<u8>) {
    let mac = MacAddr([0x02, 0xbb, 0, 0, (n >> 8) as u8, n as u8]);
    let src = ndp_core::addr::eui64_link_local(mac).get();
    let dst: Ipv6Addr = "ff02::1".parse().unwrap();
    let mut prefix = || {
        let mut o = [0u8; 16];
        rng.fill(&mut o[..8]);
        o[0] = 0x20;
        Ipv6Addr::from(o)
    };
    let mut opts = vec![NdOption::SourceLinkAddr(mac)];
    for _ in 0..17 {
        opts.push(NdOption::PrefixInfo(PrefixInfo {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: Lifetime::Finite(86_400),
            preferred_lifetime: Lifetime::Finite(14_400),
            prefix: prefix(),
        }));
    }
    for _ in 0..8 {
        opts.push(NdOption::RouteInfo(RouteInfo {
            prefix_len: 48,
            preference: Preference::High,
            lifetime: Lifetime::Finite(86_400),
            prefix: prefix(),
        }));
    }
    let m = Message::RouterAdvert(RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other_config: false,
        preference: Preference::High,
        router_lifetime: 9000,
        reachable_time: 0,
        retrans_timer: 0,
        options: Options::from_list(&opts),
    });
    let mut b = vec![0u8; m.buffer_len()];
    m.emit(&src, &dst, &mut b).unwrap();
    (
        RxMeta {
            src,
            dst,
            hop_limit: 255,
            src_mac: Some(mac),
        },
        b,
    )
}

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = Rng::new(1);
    let ras: Vec<_> = (0..SOURCES).map(|n| flood_ra(&mut rng, n)).collect();
    let mac = MacAddr([2, 0, 0, 0, 0, 1]);
    // A device's identifiers: RFC 7217 where the build has it.
    #[cfg(feature = "stable-iid")]
    let mut c = Config::stable(mac, 0, [0; 16]);
    #[cfg(not(feature = "stable-iid"))]
    let mut c = Config::eui64(mac, 0);
    c.router_solicitations = false;
    let mut s = Stack::new(c, Instant::ZERO);
    let mut buf = [0u8; 1500];
    // Fill every table first, then measure the steady state.
    for (meta, b) in &ras {
        s.receive(Instant::ZERO, meta, b);
    }
    let start = std::time::Instant::now();
    for i in 0..iterations {
        let (meta, b) = &ras[i % ras.len()];
        let now = Instant::wrapping_from_millis(i as u64 / 10);
        black_box(s.receive(now, meta, black_box(b)));
        while s.poll_transmit(now, &mut buf).is_some() {}
        while s.poll_event().is_some() {}
    }
    let elapsed = start.elapsed();
    println!(
        "ra_flood: {} RAs of {} bytes, {:.0} ns per RA ({:.0} RAs/s) on this host",
        iterations,
        ras[0].1.len(),
        elapsed.as_nanos() as f64 / iterations as f64,
        iterations as f64 / elapsed.as_secs_f64()
    );
}
