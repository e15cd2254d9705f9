//! # ndp-core
//!
//! A `no_std`, allocation-free IPv6 Neighbor Discovery (RFC 4861) and
//! Stateless Address Autoconfiguration (RFC 4862) engine for Ethernet
//! microcontrollers.
//!
//! The engine is sans-IO: the caller feeds it received messages and the
//! current time, and pulls out messages to send, deadlines and events. This
//! release contains the wire codec ([`wire`]); the engine follows.
//!
//! Guarantees that hold for every module:
//! - no `unsafe`, no allocation, fixed capacity;
//! - no panics on any input: every access to packet data is bounds-checked
//!   and every malformed input is a typed error.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented
)]
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

pub mod wire;
