//! # ndp-core
//!
//! A `no_std`, allocation-free IPv6 Neighbor Discovery ([RFC 4861]) and
//! Stateless Address Autoconfiguration ([RFC 4862]) engine for Ethernet
//! microcontrollers.
//!
//! The engine is sans-IO: the caller feeds it received messages and the
//! current time, and pulls out messages to send, deadlines and events; see
//! [`Stack`]. Modules:
//!
//! - [`wire`]: the NDP/MLD codec and receive validation;
//! - [`neighbor`]: the neighbor cache and Neighbor Unreachability
//!   Detection;
//! - [`router`]: routers, routes, prefixes, next-hop selection, the
//!   destination cache, Router Solicitation timing and DNS;
//! - [`addr`]: the interface's addresses, DAD and interface identifiers;
//! - `mld`: the MLDv2 listener (with MLDv1 compatibility);
//! - [`time`]: caller-supplied time; `rng`: the seeded PRNG;
//! - [`Stats`]: per-reason counters.
//!
//! `mld` and `rng` are internal; the `testing` feature makes them
//! public for this project's own tests, outside any stability promise.
//!
//! Guarantees that hold for every module:
//! - no `unsafe`, no allocation, fixed capacity;
//! - no panics on any input: every access to packet data is bounds-checked
//!   and every malformed input is a typed error.
//!
//! ## Wiring it
//!
//! A board hands every received ICMPv6 message to [`Stack::receive`],
//! sends what [`Stack::poll_transmit`] writes, routes its own IPv6
//! packets through [`Stack::send`] (next hop, address resolution, the
//! resolution queue), and sleeps until [`Stack::poll_at`]; see the
//! [`Stack`] module docs for the loop. Over smoltcp, the `ndp-smoltcp`
//! crate does all of this.
//!
//! ```
//! use ndp_core::{Config, Event, Stack, time::Instant, wire::MacAddr};
//! # fn hardware_rng() -> u64 { 7 }
//! # fn secret_from_flash() -> [u8; 16] { *b"per-device-key!!" }
//! let mac = MacAddr([0x02, 0, 0x5e, 0, 0x53, 1]);
//! // RFC 7217 identifiers, with a secret drawn once and kept in flash;
//! // or identifiers from the MAC, in any build.
//! #[cfg(feature = "stable-iid")]
//! let config = Config::stable(mac, hardware_rng(), secret_from_flash());
//! #[cfg(not(feature = "stable-iid"))]
//! let config = Config::eui64(mac, hardware_rng());
//! let mut stack = Stack::new(config, Instant::ZERO);
//! let mut buf = [0u8; 1500];
//! let now = Instant::from_millis(1);
//! while let Some(tx) = stack.poll_transmit(now, &mut buf) {
//!     // frame buf[..tx.len] to tx.delivery's MAC and send it
//! #   let _ = tx;
//! }
//! while let Some(event) = stack.poll_event() {
//!     if let Event::Address { addr, state, .. } = event {
//!         // addresses appear (optimistic, then preferred)
//! #       let _ = (addr, state);
//!     }
//! }
//! ```
//!
//! ## Features
//!
//! Every optional part is a cargo feature, on by default; without one the
//! part is left out, and its input ignored as the RFCs allow. What each
//! adds to a Cortex-M4 firmware (opt-level "z", LTO), measured by `cargo
//! xtask size`'s probe with every other feature on:
//!
//! | feature | what | flash |
//! |---|---|---:|
//! | `stable-iid` | [RFC 7217] stable interface identifiers (HMAC-SHA256); without it, modified EUI-64 only | 1.7 KB |
//! | `counter-names` | `Stats::iter`: every counter with its name | 1.7 KB |
//! | `dns` | [RFC 8106] RDNSS and DNSSL from RAs, `Stack::dns_servers` | 3.0 KB |
//! | `route-info` | [RFC 4191] Route Information (a type C host) | 1.5 KB |
//! | `mldv1` | [RFC 3810] §8.2.1 MLDv1 compatibility | 0.9 KB |
//! | `redirect` | [RFC 4861] §8 Redirects followed | 0.3 KB |
//! | `optimistic-dad` | [RFC 4429] addresses usable while DAD runs | 0.4 KB |
//! | `gratuitous-na` | [RFC 9131] new global addresses announced to routers | 0.7 KB |
//! | `emit` | encoding every message and option, router-only ones too (tools, tests) | 1.8 KB |
//! | `defmt` | `defmt::Format` for the public types | |
//! | `smoltcp` | conversions from smoltcp's `Instant` and `Duration` | |
//! | `port` | `ndp_core::port`: the frame sorting the adapters under a host IP stack share (ndp-smoltcp, ndp-embassy) | |
//! | `proxy` | `ndp_core::proxy`: answering Neighbor Solicitations for a prefix routed behind this node ([RFC 4861] §7.2.8, npd6's job) | |
//!
//! With all of them but `emit` and `stable-iid` the engine is about 40 KB
//! of flash and its `Stack` 3.3 KB of RAM at default capacities; with none,
//! about 31 KB.
//!
//! [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
//! [RFC 4862]: https://www.rfc-editor.org/rfc/rfc4862
//! [RFC 7217]: https://www.rfc-editor.org/rfc/rfc7217
//! [RFC 8106]: https://www.rfc-editor.org/rfc/rfc8106
//! [RFC 4191]: https://www.rfc-editor.org/rfc/rfc4191
//! [RFC 3810]: https://www.rfc-editor.org/rfc/rfc3810
//! [RFC 4429]: https://www.rfc-editor.org/rfc/rfc4429
//! [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The no-panic lints (no unchecked indexing, no overflowing arithmetic, no
// unwrap or panic) are the workspace's `[workspace.lints.clippy]`; unit
// tests may.
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

#[cfg(test)]
extern crate std;

pub mod addr;
mod config;
#[cfg(feature = "testing")]
pub mod mld;
#[cfg(not(feature = "testing"))]
mod mld;
pub mod neighbor;
#[cfg(feature = "port")]
pub mod port;
#[cfg(feature = "proxy")]
pub mod proxy;
#[cfg(feature = "testing")]
pub mod rng;
#[cfg(not(feature = "testing"))]
mod rng;
pub mod router;
mod stack;
mod stats;
pub mod time;
pub mod wire;

pub use config::Config;
pub use stack::{
    APP_GROUPS, Delivery, DisableReason, Dispatch, Event, GroupError, NextHop, RouteError, RxMeta,
    STATIC_ADDRESSES, SendError, Stack, StaticAddressError, Transmit, TransmitKind,
};
pub use stats::Stats;
