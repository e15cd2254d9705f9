//! `cargo xtask test`: every check CI runs, as a list of named steps.
//!
//! To add a check (tshark dissection, interop tests, size limits, ...), add a
//! `Step` to `steps()`; the runner handles ordering, fail-fast and the summary.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Result, bail};

use crate::runner::{Ctx, Outcome, Step, run_steps};
use crate::{firmware, fuzz, interop, size, thc, tshark};

/// The bare-metal targets ndp-core and ndp-smoltcp must build for
/// (ARCHITECTURE.md "Toolchain").
pub const THUMB_TARGETS: [&str; 2] = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi"];

/// How long the fuzz smoke test runs, per target.
const FUZZ_SMOKE_SECONDS: u64 = 30;

/// The crates published to crates.io, in dependency order.
const PUBLISHED: &[&str] = &["ndp-core", "ndp-smoltcp", "ndp-embassy"];

/// Remove what earlier dry runs unpacked of `crates` from the local
/// registry cargo publishes through (`$CARGO_HOME/registry/src/<local
/// registry>/<crate>-<version>`). Cargo unpacks a crate version once and
/// reuses the directory, so without this a dry run verifies the adapters
/// against the ndp-core of an earlier run with the same version, not the
/// one it just packaged. crates.io's own directory is left alone.
fn forget_packaged_crates(crates: &[&str]) -> Result<()> {
    let src = crate::boards::cargo_home().join("registry").join("src");
    let Ok(registries) = std::fs::read_dir(&src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if registry
            .file_name()
            .to_string_lossy()
            .starts_with("index.crates.io")
        {
            continue;
        }
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for dir in unpacked.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let ours = crates.iter().any(|c| {
                name.strip_prefix(c)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|v| v.starts_with(|ch: char| ch.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(dir.path())?;
            }
        }
    }
    Ok(())
}

pub fn steps() -> Vec<Step<'static>> {
    // Simulator pcaps older than this run are left-overs, not checked (the
    // margin covers file systems with coarse timestamps).
    let started = SystemTime::now() - Duration::from_secs(2);
    let mut steps = vec![
        Step::new("thumb targets", ensure_thumb_targets),
        Step::cmd("fmt", "cargo", &["fmt", "--all", "--check"]),
        Step::cmd(
            "clippy",
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                // The test files behind features (run as their own steps).
                "--features",
                "ndp-tests/firmware,linux-tap/interop,embassy-tap/interop,ndp-tool/interop",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::new("docs", |ctx: &Ctx| {
            // Broken intra-doc links and the like fail the step.
            ctx.run(
                ctx.sh
                    .cmd("cargo")
                    .args(["doc", "--workspace", "--no-deps", "--quiet"])
                    .env("RUSTDOCFLAGS", "-D warnings"),
            )?;
            Ok(Outcome::passed())
        }),
        Step::cmd("test", "cargo", &["test", "--workspace"]),
        // The smallest feature set, as a firmware may build it: no
        // RFC 7217 hash, no counter names, no full encoder. Then the
        // engine's integration tests (their messages need the `emit`
        // encoder) in a build with none of the other features: the tests
        // of a feature's API declare it (`required-features`), and the
        // rest must pass without them.
        Step::new("ndp-core without default features", |ctx: &Ctx| {
            let base = ["-p", "ndp-core", "--no-default-features", "--lib"];
            ctx.run(
                ctx.sh
                    .cmd("cargo")
                    .arg("clippy")
                    .args(base)
                    .args(["--", "-D", "warnings"]),
            )?;
            ctx.run(ctx.sh.cmd("cargo").arg("test").args(base))?;
            let emit_only = [
                "-p",
                "ndp-core",
                "--no-default-features",
                "--features",
                "emit",
            ];
            ctx.run(ctx.sh.cmd("cargo").arg("clippy").args(emit_only).args([
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))?;
            ctx.run(ctx.sh.cmd("cargo").arg("test").args(emit_only))?;
            Ok(Outcome::passed())
        }),
        // The published crates package and build from their packages, in
        // dependency order (cargo publishes several at once through a
        // local registry, so ndp-smoltcp's and ndp-embassy's ndp-core is
        // the one packaged here). Needs the crates.io index.
        Step::new(
            "publish dry run (ndp-core, ndp-smoltcp, ndp-embassy)",
            |ctx: &Ctx| {
                forget_packaged_crates(PUBLISHED)?;
                let mut cmd = ctx
                    .sh
                    .cmd("cargo")
                    .args(["publish", "--dry-run", "--allow-dirty"]);
                for krate in PUBLISHED {
                    cmd = cmd.args(["-p", krate]);
                }
                ctx.run(cmd)?;
                Ok(Outcome::passed())
            },
        ),
        Step::new("interop (Linux, radvd)", interop::run),
        Step::new("THC-IPv6 attacks", thc::run),
        Step::new("sim pcaps (tshark)", move |ctx: &Ctx| {
            tshark::check_sim_pcaps(ctx, started)
        }),
    ];
    steps.push(Step::new(
        "boards: fmt, clippy, host tests, build",
        firmware::check_boards,
    ));
    steps.push(Step::new("firmware (QEMU mps2-an386)", firmware::run));
    steps.push(Step::new("firmware pcaps (tshark)", move |ctx: &Ctx| {
        tshark::check_firmware_pcaps(ctx, started)
    }));
    for features in [None, Some("defmt")] {
        for target in THUMB_TARGETS {
            let name = match features {
                None => format!("no_std build {target}"),
                Some(f) => format!("no_std build {target} +{f}"),
            };
            steps.push(Step::new(name, move |ctx: &Ctx| {
                let mut cmd = ctx.sh.cmd("cargo").args([
                    "build",
                    "-p",
                    "ndp-core",
                    "-p",
                    "ndp-smoltcp",
                    "-p",
                    "ndp-embassy",
                    "--target",
                    target,
                ]);
                if let Some(f) = features {
                    cmd = cmd.args(["--features", f]);
                }
                ctx.run(cmd)?;
                Ok(Outcome::passed())
            }));
        }
    }
    steps.push(Step::new("size check (budgets.toml)", |ctx: &Ctx| {
        size::run(ctx, true, false)
    }));
    for target in fuzz::TARGETS {
        steps.push(Step::new(
            format!("fuzz smoke {target}"),
            move |ctx: &Ctx| fuzz::smoke(ctx, target, FUZZ_SMOKE_SECONDS),
        ));
    }
    steps
}

pub fn run(ctx: &Ctx) -> ExitCode {
    let report = run_steps(ctx, &steps());
    println!("\n{}", report.summary("cargo xtask test"));
    if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Makes sure the pinned toolchain (rust-toolchain.toml) has the thumb
/// standard libraries. rustup does not install the `targets` of a toolchain
/// file by itself, so we add them, from the workspace root so the pin applies.
pub fn ensure_thumb_targets(ctx: &Ctx) -> Result<Outcome> {
    let list = ctx.sh.cmd("rustup").args(["target", "list", "--installed"]);
    ctx.echo(&list);
    let installed = match list.quiet().read() {
        Ok(out) => out,
        Err(err) => bail!("{err}\n{}", toolchain_help(ctx)),
    };
    let installed: Vec<&str> = installed.lines().map(str::trim).collect();
    if THUMB_TARGETS.iter().all(|t| installed.contains(t)) {
        eprintln!("both thumb targets are already installed; not calling `rustup target add`");
        return Ok(Outcome::Passed(Some("already installed".into())));
    }
    let add = ctx
        .sh
        .cmd("rustup")
        .args(["target", "add"])
        .args(THUMB_TARGETS);
    if let Err(err) = ctx.run(add) {
        bail!("{err:#}\n{}", toolchain_help(ctx));
    }
    Ok(Outcome::Passed(Some("added".into())))
}

fn toolchain_help(ctx: &Ctx) -> String {
    format!(
        "could not install the thumb targets {targets} for the pinned toolchain.\n\
         See ARCHITECTURE.md \"Toolchain\": rust-toolchain.toml pins channel 1.95.0 because the \
         local mirror serves the thumb standard libraries for 1.95.0 only, and rustup does \
         not install the targets listed in that file by itself. Check that \
         `rustup toolchain list` shows 1.95.0, then try by hand:\n    \
         cd {root} && rustup target add {targets}\n\
         Never run `rustup update` or install a newer stable: newer thumb libraries \
         cannot be fetched here.",
        targets = THUMB_TARGETS.join(" "),
        root = ctx.root.display(),
    )
}
