//! The firmware steps of `cargo xtask test`:
//!
//! - "boards": the boards workspace's own checks (it is a separate cargo
//!   workspace, so the host workspace's fmt, clippy and tests do not see
//!   it): `cargo fmt --check`, clippy for the firmware target (both the
//!   ndp build and the smoltcp-nd baseline) and for the board library's
//!   host tests, those tests (the LAN9118 driver against a
//!   model of the chip, the clock), the persistent RFC 7217 secret's
//!   logic (boards/secret: clippy for the host and both thumb targets,
//!   host tests), and every board's release build;
//! - "firmware": tests/tests/firmware.rs, which boots the mps2-an386
//!   firmware under QEMU against slirp and a test peer (no root), and
//!   against the Linux kernel and radvd in network namespaces (root; those
//!   tests report themselves as skipped otherwise).

use anyhow::{Context as _, Result};

use crate::boards::{BOARDS, build_boards};
use crate::packages;
use crate::runner::{Ctx, Outcome};

/// The host's target triple, for the board library's tests.
fn host_triple(ctx: &Ctx) -> Result<String> {
    let out = ctx.sh.cmd("rustc").arg("-vV").quiet().read()?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .context("`rustc -vV` printed no host line")
}

pub fn check_boards(ctx: &Ctx) -> Result<Outcome> {
    {
        let _dir = ctx.sh.push_dir(ctx.root.join("boards"));
        ctx.run(ctx.sh.cmd("cargo").args(["fmt", "--all", "--check"]))?;
    }
    let host = host_triple(ctx)?;
    for board in BOARDS {
        let _dir = ctx.sh.push_dir(ctx.root.join("boards").join(board.dir));
        // A second image of a crate (a feature and its own binary): its
        // firmware only; the crate's library was checked with the first.
        if let Some(features) = board.features {
            ctx.run(ctx.sh.cmd("cargo").args([
                "clippy",
                "--release",
                "--features",
                features,
                "--bin",
                board.name,
                "--",
                "-D",
                "warnings",
            ]))?;
            continue;
        }
        // The firmware (its .cargo/config.toml picks the thumb target).
        ctx.run(
            ctx.sh
                .cmd("cargo")
                .args(["clippy", "--release", "--", "-D", "warnings"]),
        )?;
        // The same demo on smoltcp's own ND, the bench's baseline (its
        // own target directory, so the default image stays as it is).
        if board.smoltcp_nd {
            ctx.run(ctx.sh.cmd("cargo").args([
                "clippy",
                "--release",
                "--no-default-features",
                "--features",
                "smoltcp-nd",
                "--target-dir",
                "../target/smoltcp-nd",
                "--",
                "-D",
                "warnings",
            ]))?;
        }
        // The board library and its tests, on the host.
        ctx.run(ctx.sh.cmd("cargo").args([
            "clippy", "--lib", "--tests", "--target", &host, "--", "-D", "warnings",
        ]))?;
        ctx.run(
            ctx.sh
                .cmd("cargo")
                .args(["test", "--lib", "--target", &host]),
        )?;
    }
    // The boards' persistent RFC 7217 secret (boards/secret): its host
    // tests, and clippy for both firmware targets it is linked into.
    {
        let _dir = ctx.sh.push_dir(ctx.root.join("boards").join("secret"));
        ctx.run(ctx.sh.cmd("cargo").args([
            "clippy",
            "--all-targets",
            "--target",
            &host,
            "--",
            "-D",
            "warnings",
        ]))?;
        for target in crate::test_steps::THUMB_TARGETS {
            ctx.run(ctx.sh.cmd("cargo").args([
                "clippy", "--lib", "--target", target, "--", "-D", "warnings",
            ]))?;
        }
        ctx.run(ctx.sh.cmd("cargo").args(["test", "--target", &host]))?;
    }
    build_boards(ctx)
}

pub fn run(ctx: &Ctx) -> Result<Outcome> {
    packages::ensure(ctx, crate::qemu::TOOLS)?;
    if packages::is_root(ctx) {
        // The Linux-router tests reuse the interop lab.
        packages::ensure(ctx, crate::interop::TOOLS)?;
    }
    ctx.run(ctx.sh.cmd("cargo").args([
        "test",
        "-p",
        "ndp-tests",
        "--features",
        "firmware",
        "--test",
        "firmware",
    ]))?;
    if packages::is_root(ctx) {
        Ok(Outcome::passed())
    } else {
        Ok(Outcome::Skipped(
            "the slirp tests passed; the Linux router tests need root for network namespaces \
             and TAP devices: run `sudo -E cargo xtask test`"
                .into(),
        ))
    }
}
