//! ndp-tests: test support for the ndp workspace.
//!
//! - [`pcap`]: a small reader and writer for classic pcap files (Ethernet);
//! - [`frame`]: Ethernet + IPv6 decoding down to the ICMPv6 message, walking
//!   extension headers (MLD reports carry a Hop-by-Hop Router Alert);
//! - [`packet`]: builders for test traffic (Ethernet, IPv6, ICMPv6 through
//!   the codec, echo) with correct lengths and checksums;
//! - [`sim`]: a deterministic simulator of one Ethernet segment with
//!   virtual time, a lossy link model, pcap output and scripted peers.

pub mod frame;
pub mod packet;
pub mod pcap;
pub mod sim;

/// Path of a file under the repository's `captures/` directory.
pub fn capture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../captures")
        .join(name)
}
