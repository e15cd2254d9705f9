//! What the linux-tap test files share: the binary, the device's identity
//! and the addresses it must form. Each file uses a part of it.
#![allow(dead_code)]

pub const BIN: &str = env!("CARGO_BIN_EXE_linux-tap");
pub const MAC: &str = "02:00:5e:00:53:10";
pub const SECRET: &str = "000102030405060708090a0b0c0d0e0f";
/// RFC 7217 addresses for SECRET and MAC, computed independently with
/// Python's hmac/hashlib (the vectors in ndp_core::addr::iid's docs):
/// fe80::/64 and 2001:db8:1::/64 with DAD_Counter 0, and the latter with
/// DAD_Counter 1.
pub const LL: &str = "fe80::8ed9:b4c9:aaa2:52cf";
pub const G0: &str = "2001:db8:1:0:2a97:c2b9:9caf:7d17";
pub const G1: &str = "2001:db8:1:0:ee6e:b1ab:b453:b931";
