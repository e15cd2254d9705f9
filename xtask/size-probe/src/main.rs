//! The size probe: firmware for thumbv7em-none-eabihf that calls the
//! whole public API of ndp-core with inputs the optimizer cannot see
//! through (`black_box`), so that nothing is dead-stripped. Built without
//! the `engine` feature it is the same firmware minus the engine: the
//! difference in `.text` + `.rodata` is what ndp-core costs.
//!
//! It also carries, in the symbol `NDP_SIZES`, `size_of` figures computed
//! for the target (32-bit), which `cargo xtask` reads back from the ELF.
//!
//! Layout of `NDP_SIZES` (u32 each): a magic, then `Stack` at default
//! capacities, `Stack<9, 4, 3072>`, `Stack<8, 5, 3072>`, then
//! `Stack::ram_parts()` sizes, then `Stack::ram_per_entry()` entry sizes,
//! in their order. The baseline has the magic and zeros.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;

/// "NDP1": marks the table for the reader.
const MAGIC: u32 = 0x4e44_5031;
const SLOTS: usize = 64;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        black_box(());
    }
}

/// See the module documentation.
#[unsafe(no_mangle)]
#[used]
pub static NDP_SIZES: [u32; SLOTS] = sizes();

#[cfg(not(feature = "engine"))]
const fn sizes() -> [u32; SLOTS] {
    let mut out = [0u32; SLOTS];
    out[0] = MAGIC;
    out
}

#[cfg(feature = "engine")]
const fn sizes() -> [u32; SLOTS] {
    use core::mem::size_of;
    use ndp_core::Stack;
    let mut out = [0u32; SLOTS];
    out[0] = MAGIC;
    out[1] = size_of::<Stack<8, 4, 3072>>() as u32;
    out[2] = size_of::<Stack<9, 4, 3072>>() as u32;
    out[3] = size_of::<Stack<8, 5, 3072>>() as u32;
    let parts = Stack::<8, 4, 3072>::ram_parts();
    let mut i = 0;
    while i < parts.len() {
        out[4 + i] = parts[i].1 as u32;
        i += 1;
    }
    let per = Stack::<8, 4, 3072>::ram_per_entry();
    let mut j = 0;
    while j < per.len() {
        out[4 + parts.len() + j] = per[j].1 as u32;
        j += 1;
    }
    out
}

/// Stands for received frames: the optimizer sees it only through
/// `black_box`, so every parse path stays. In the baseline too, so that
/// it cancels out.
static INPUT: [u8; 1536] = [0; 1536];

#[entry]
fn main() -> ! {
    black_box(&INPUT);
    #[cfg(feature = "engine")]
    engine::exercise();
    loop {
        black_box(());
    }
}

#[cfg(feature = "engine")]
mod engine {
    use core::hint::black_box;
    use core::net::Ipv6Addr;

    use ndp_core::time::Instant;
    use ndp_core::wire::{self, IpMeta, MacAddr};
    use ndp_core::{Config, RxMeta, Stack};

    #[inline(never)]
    pub fn exercise() {
        let mac = MacAddr(black_box([2, 0, 0x5e, 0, 0x53, 1]));
        #[cfg(feature = "hash")]
        let mut c = Config::stable(mac, black_box(1), black_box([7; 16]));
        #[cfg(not(feature = "hash"))]
        let mut c = Config::eui64(mac, black_box(1));
        c.secret = black_box(c.secret);
        c.iid_mode = black_box(c.iid_mode);
        #[cfg(feature = "full")]
        {
            c.optimistic_dad = black_box(true);
            c.gratuitous_na = black_box(3);
        }
        c.dad_transmits = black_box(1);
        c.router_solicitations = black_box(true);
        let mode = c.iid_mode;
        let mut s: Stack = Stack::new(c, Instant::from_millis(black_box(0)));
        let mut out = [0u8; 1536];
        let input: &[u8] = black_box(&crate::INPUT[..]);
        let src: Ipv6Addr = black_box(Ipv6Addr::UNSPECIFIED);
        let dst: Ipv6Addr = black_box(Ipv6Addr::LOCALHOST);
        let rounds = black_box(3u32);
        for i in 0..rounds {
            let now = Instant::from_millis(black_box(i));
            let meta = RxMeta {
                src,
                dst,
                hop_limit: black_box(255),
                src_mac: black_box(Some(mac)),
            };
            black_box(s.receive(now, &meta, input));
            let _ = black_box(s.send(now, input));
            let _ = black_box(s.route(now, dst));
            black_box(s.next_hop(now, dst));
            black_box(s.default_router());
            s.confirm_reachable(now, &dst);
            if black_box(i) == black_box(rounds) {
                s.link_up(now);
            }
            s.handle_timeout(now);
            // The application's groups and static addresses.
            let _ = black_box(s.join_group(now, black_box(dst)));
            black_box(s.leave_group(now, black_box(dst)));
            let _ = black_box(s.add_static_address(now, black_box(dst), black_box(64)));
            black_box(s.remove_static_address(now, black_box(dst)));
            s.app_groups().for_each(|x| {
                black_box(x);
            });
            while let Some(t) = s.poll_transmit(now, &mut out) {
                black_box(t);
                black_box(&out);
            }
            black_box(s.poll_at());
            while let Some(e) = s.poll_event() {
                black_box(e);
            }
            s.neighbors().for_each(|x| {
                black_box(x);
            });
            s.addresses().for_each(|x| {
                black_box(x);
            });
            s.routers().for_each(|x| {
                black_box(x);
            });
            #[cfg(feature = "full")]
            s.routes().for_each(|x| {
                black_box(x);
            });
            s.prefixes().for_each(|x| {
                black_box(x);
            });
            s.destinations().for_each(|x| {
                black_box(x);
            });
            #[cfg(feature = "full")]
            s.dns_servers().for_each(|x| {
                black_box(x);
            });
            #[cfg(feature = "full")]
            s.search_domains().for_each(|x| {
                black_box(x.as_str());
            });
            s.multicast_groups().for_each(|x| {
                black_box(x);
            });
            #[cfg(feature = "full")]
            s.stats().iter().for_each(|x| {
                black_box(x);
            });
            #[cfg(not(feature = "full"))]
            black_box(s.stats());
            black_box((s.link_mtu(), s.hop_limit(), s.config_flags()));
            black_box((
                s.router_solicitations_sent(),
                s.is_disabled(),
                s.queued_packets(),
            ));
            black_box((s.reachable_time(), s.retrans_timer(), s.config()));
            // The codec on its own.
            let ip = IpMeta {
                src,
                dst,
                hop_limit: black_box(255),
            };
            #[cfg(not(feature = "emit"))]
            black_box(wire::parse_received(&ip, input)).ok();
            // The encoder for every message: with ndp-core's `emit`.
            #[cfg(feature = "emit")]
            if let Ok(m) = black_box(wire::parse_received(&ip, input)) {
                let _ = black_box(m.emit(&src, &dst, &mut out));
            }
            let _ = black_box(wire::emit_advert(
                &mut out,
                &src,
                &dst,
                black_box(wire::AdvertFlags {
                    router: false,
                    solicited: true,
                    override_flag: false,
                }),
                &dst,
                black_box(Some(mac)),
            ));
            let _ = black_box(wire::ipv6::upper_layer(input));
            black_box(ndp_core::addr::iid::generate(
                black_box(mode),
                &black_box([1; 16]),
                &dst,
                mac,
                black_box(0),
            ));
        }
    }
}
