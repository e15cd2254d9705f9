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
//! [RFC 4861]: https://www.rfc-editor.org/rfc/rfc4861
//! [RFC 4862]: https://www.rfc-editor.org/rfc/rfc4862
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
