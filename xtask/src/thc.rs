//! The "THC-IPv6 attacks" step of `cargo xtask test`: linux-tap on the
//! interop lab under floods, fuzzing and a DAD denial of service from the
//! THC-IPv6 toolkit (boards/linux-tap/tests/thc.rs, about a minute). Needs
//! root; without it the step is reported as skipped, loudly. Its figures
//! (ping loss per attack, router-list samples, VmHWM, time to an address
//! after dos-new-ip6) are in `target/thc/thc-figures.txt`; the summary
//! line shows their `summary:` line, also when a check failed.

use anyhow::{Context as _, Result};

use crate::packages::{self, Tool};
use crate::runner::{Ctx, Outcome};

/// What the attack test runs beyond the interop tools: the attack tools,
/// and `timeout`, `nice` and `stdbuf` that bound, deprioritise and
/// unbuffer them.
pub const TOOLS: &[Tool] = &[
    ("atk6-flood_router26", "thc-ipv6"),
    ("atk6-flood_solicitate6", "thc-ipv6"),
    ("atk6-flood_advertise6", "thc-ipv6"),
    ("atk6-dos-new-ip6", "thc-ipv6"),
    ("atk6-fuzz_ip6", "thc-ipv6"),
    ("timeout", "coreutils"),
    ("stdbuf", "coreutils"),
    ("nice", "coreutils"),
];

pub fn run(ctx: &Ctx) -> Result<Outcome> {
    if !packages::is_root(ctx) {
        return Ok(Outcome::Skipped(
            "needs root for network namespaces, TAP devices and raw packets: run `sudo -E cargo xtask test`"
                .into(),
        ));
    }
    packages::ensure(ctx, &[crate::interop::TOOLS, TOOLS].concat())?;
    // The test rewrites the figures; a stale file must not be reported.
    let figures = crate::target_dir(ctx).join("thc/thc-figures.txt");
    let _ = std::fs::remove_file(&figures);
    let result = crate::interop::linux_tap_test(ctx, "thc");
    let summary = std::fs::read_to_string(&figures).ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("summary: "))
            .map(str::to_owned)
    });
    match (result, summary) {
        (Ok(()), summary) => Ok(Outcome::Passed(summary)),
        (Err(err), Some(summary)) => {
            Err(err).with_context(|| format!("{summary} (see {})", figures.display()))
        }
        (Err(err), None) => Err(err),
    }
}
