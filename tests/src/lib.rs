//! ndp-tests: test support for the ndp workspace.
//!
//! - [`pcap`]: a small reader and writer for classic pcap files (Ethernet);
//! - [`frame`]: Ethernet + IPv6 decoding down to the ICMPv6 message, walking
//!   extension headers (MLD reports carry a Hop-by-Hop Router Alert);
//! - [`packet`]: builders for test traffic (Ethernet, IPv6, ICMPv6 through
//!   the codec, echo) with correct lengths and checksums;
//! - [`sim`]: a deterministic simulator of one Ethernet segment with
//!   virtual time, a lossy link model, pcap output and scripted peers;
//! - [`interop`]: Linux namespaces with a Linux router, radvd and a Linux
//!   host, for running real peers against linux-tap (needs root);
//! - [`qemu`]: boots the mps2-an386 firmware under `qemu-system-arm` and
//!   decodes its defmt log, for the firmware tests and `cargo xtask demo`.

pub mod frame;
pub mod interop;
pub mod packet;
pub mod pcap;
pub mod qemu;
pub mod sim;

/// The workspace's target directory: `$CARGO_TARGET_DIR` (a relative one
/// taken relative to the workspace root) or `<workspace>/target`.
pub fn target_dir() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(manifest);
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Path of a file under the repository's `captures/` directory.
pub fn capture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../captures")
        .join(name)
}
