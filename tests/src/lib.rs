//! ndp-tests: test support for the ndp workspace.
//!
//! - [`pcap`]: a small reader and writer for classic pcap files (Ethernet);
//! - [`frame`]: Ethernet + IPv6 decoding down to the ICMPv6 message, walking
//!   extension headers (MLD reports carry a Hop-by-Hop Router Alert).
//!
//! The simulator and scenario tests build on these.

pub mod frame;
pub mod pcap;

/// Path of a file under the repository's `captures/` directory.
pub fn capture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../captures")
        .join(name)
}
