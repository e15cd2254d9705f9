//! cargo-fuzz on nightly: used by `cargo xtask fuzz` and the smoke steps of
//! `cargo xtask test` (one per target).

use anyhow::{Context as _, Result, bail};

use crate::runner::{Ctx, Outcome};

/// Every fuzz target (a `[[bin]]` of ndp-core/fuzz/Cargo.toml); `cargo
/// xtask test` smoke-runs each.
pub const TARGETS: [&str; 2] = ["wire_roundtrip", "stack_ops"];

pub const DEFAULT_TARGET: &str = TARGETS[0];

/// The fuzz crate, relative to the workspace root (its own cargo workspace).
const FUZZ_DIR: &str = "ndp-core/fuzz";

/// The exact install command, also shown to the user if it fails.
const INSTALL_CARGO_FUZZ: &str = "cargo +nightly install cargo-fuzz --locked";

/// A smoke step of `cargo xtask test`: skipped (not failed) without nightly.
pub fn smoke(ctx: &Ctx, target: &str, seconds: u64) -> Result<Outcome> {
    if let Err(reason) = nightly_version(ctx) {
        return Ok(Outcome::Skipped(format!(
            "no nightly toolchain ({reason}); fuzz target `{target}` was NOT run"
        )));
    }
    ensure_cargo_fuzz(ctx)?;
    run_target(ctx, target, seconds)?;
    Ok(Outcome::Passed(Some(format!("{target} for {seconds}s"))))
}

/// `cargo xtask fuzz`: here a missing nightly is an error.
pub fn run_standalone(ctx: &Ctx, target: &str, seconds: u64) -> Result<()> {
    if !TARGETS.contains(&target) {
        bail!(
            "no fuzz target `{target}`; the targets are {} (xtask/src/fuzz.rs TARGETS)",
            TARGETS.join(", ")
        );
    }
    if let Err(reason) = nightly_version(ctx) {
        bail!(
            "fuzzing needs the nightly toolchain, which is not usable: {reason}. \
             ARCHITECTURE.md \"Toolchain\" expects it installed as `nightly`."
        );
    }
    ensure_cargo_fuzz(ctx)?;
    run_target(ctx, target, seconds)
}

/// Probes `cargo +nightly --version`; returns the version line, or why not.
fn nightly_version(ctx: &Ctx) -> Result<String, String> {
    // Never let rustup try to download a missing nightly here.
    let cmd = ctx
        .sh
        .cmd("cargo")
        .args(["+nightly", "--version"])
        .env("RUSTUP_AUTO_INSTALL", "0");
    ctx.echo(&cmd);
    match cmd.quiet().ignore_stderr().read() {
        Ok(version) => {
            eprintln!("{version}");
            Ok(version)
        }
        Err(err) => Err(format!("`cargo +nightly --version` failed: {err}")),
    }
}

/// Installs cargo-fuzz with nightly unless `cargo +nightly fuzz --version` works.
fn ensure_cargo_fuzz(ctx: &Ctx) -> Result<()> {
    let probe = ctx.sh.cmd("cargo").args(["+nightly", "fuzz", "--version"]);
    ctx.echo(&probe);
    if let Ok(version) = probe.quiet().ignore_stderr().read() {
        eprintln!("{version}");
        return Ok(());
    }
    eprintln!(
        "cargo-fuzz is not installed; installing it with `{INSTALL_CARGO_FUZZ}` \
         (this compiles it from source and takes a few minutes)"
    );
    let install = ctx
        .sh
        .cmd("cargo")
        .args(["+nightly", "install", "cargo-fuzz", "--locked"]);
    if let Err(err) = ctx.run(install) {
        bail!(
            "{err:#}\ninstalling cargo-fuzz failed; run this by hand, then retry:\n    \
             {INSTALL_CARGO_FUZZ}"
        );
    }
    Ok(())
}

/// `cargo +nightly fuzz run TARGET -- -max_total_time=SECONDS`, run in the
/// fuzz crate's directory (cargo-fuzz takes its fuzz dir from there).
fn run_target(ctx: &Ctx, target: &str, seconds: u64) -> Result<()> {
    let fuzz_dir = ctx.root.join(FUZZ_DIR);
    if !fuzz_dir.join("Cargo.toml").is_file() {
        bail!("no fuzz crate at {}", fuzz_dir.display());
    }
    let _dir = ctx.sh.push_dir(&fuzz_dir);
    let max_time = format!("-max_total_time={seconds}");
    // libFuzzer grows the first corpus directory (git-ignored) and reads the
    // others: the committed seeds (built from captures/ by
    // seeds/gen_seeds.py) as a starting point, and the inputs of crashes
    // found before (regressions/). Every input runs before fuzzing starts,
    // so a regression not fixed yet fails at once.
    let corpus = format!("corpus/{target}");
    ctx.sh.create_dir(&corpus)?;
    let mut dirs = vec![corpus];
    for dir in [format!("seeds/{target}"), format!("regressions/{target}")] {
        if fuzz_dir.join(&dir).is_dir() {
            dirs.push(dir);
        }
    }
    let cmd = ctx
        .sh
        .cmd("cargo")
        .args(["+nightly", "fuzz", "run", target])
        .args(&dirs)
        .args(["--", &max_time]);
    ctx.run(cmd)
        .with_context(|| format!("fuzz target `{target}` failed"))
}
