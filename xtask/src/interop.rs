//! The "interop" step of `cargo xtask test`: linux-tap, then embassy-net
//! with ndp-embassy (embassy-tap), against the Linux kernel, radvd and
//! dnsmasq (DHCPv4) in network namespaces (boards/linux-tap/tests/interop.rs,
//! boards/embassy-tap/tests/interop.rs); then the `ndp` command (proxy,
//! rs, listen) against Linux, Linux's proxy_ndp, radvd and tshark
//! (tools/ndp/tests/netns.rs). Needs root; without it the step is
//! reported as skipped, loudly.

use anyhow::Result;

use crate::packages::{self, Tool};
use crate::runner::{Ctx, Outcome};

/// What the interop tests and the demo run.
pub const TOOLS: &[Tool] = &[
    ("ip", "iproute2"),
    ("radvd", "radvd"),
    ("tcpdump", "tcpdump"),
    ("ping", "iputils-ping"),
    ("python3", "python3"),
];

/// What the interop tests run beyond [`TOOLS`]: dnsmasq, the DHCPv4
/// server of the dual-stack tests, and tshark, which reads embassy-tap's
/// MLD reports from the pcap and checks `ndp listen`'s decoding.
pub const DHCP_TOOLS: &[Tool] = &[("dnsmasq", "dnsmasq"), ("tshark", "tshark")];

pub fn run(ctx: &Ctx) -> Result<Outcome> {
    if !packages::is_root(ctx) {
        return Ok(Outcome::Skipped(
            "needs root for network namespaces and TAP devices: run `sudo -E cargo xtask test`"
                .into(),
        ));
    }
    packages::ensure(ctx, &[TOOLS, DHCP_TOOLS].concat())?;
    linux_tap_test(ctx, "interop")?;
    ctx.run(ctx.sh.cmd("cargo").args([
        "test",
        "-p",
        "embassy-tap",
        "--features",
        "interop",
        "--test",
        "interop",
    ]))?;
    ctx.run(ctx.sh.cmd("cargo").args([
        "test",
        "-p",
        "ndp-tool",
        "--features",
        "interop",
        "--test",
        "netns",
    ]))?;
    // The benchmark test leaves its figures for the summary.
    let report = crate::target_dir(ctx).join("interop/time-to-address/time-to-address.txt");
    let note = std::fs::read_to_string(report).ok().map(|text| {
        let medians: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let who = l.split(" (").next()?.split(':').next()?;
                let median = l.split("median ").nth(1)?.trim_end_matches(')');
                Some(format!("{who} {median}"))
            })
            .collect();
        format!("time to a global address, median: {}", medians.join(", "))
    });
    // And the proxy tests theirs.
    let rtts: Vec<String> = ["ndp-proxy", "ndp-linux-proxy"]
        .iter()
        .filter_map(|t| {
            let path = crate::target_dir(ctx)
                .join("interop")
                .join(t)
                .join("rtt.txt");
            std::fs::read_to_string(path).ok()
        })
        .collect();
    let note = match (note, rtts.is_empty()) {
        (note, true) => note,
        (None, false) => Some(rtts.join("; ")),
        (Some(n), false) => Some(format!("{n}; {}", rtts.join("; "))),
    };
    Ok(Outcome::Passed(note))
}

/// `cargo test -p linux-tap --features interop --test TEST`: one of the
/// root-only test files of boards/linux-tap/tests.
pub fn linux_tap_test(ctx: &Ctx, test: &str) -> Result<()> {
    ctx.run(ctx.sh.cmd("cargo").args([
        "test",
        "-p",
        "linux-tap",
        "--features",
        "interop",
        "--test",
        test,
    ]))
}
