//! `cargo xtask`: project automation for the ndp workspace.
//!
//! An ordinary binary in the style of rust-analyzer's xtask: it shells out to
//! cargo, rustup and friends, prints every command it runs, and stops with a
//! clear message naming the step that failed. See DESIGN.md ("Tests",
//! "Toolchain") for what the steps are and why.

mod bench;
mod demo;
mod fuzz;
mod interop;
mod packages;
mod runner;
mod size;
mod test_steps;
mod tshark;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::runner::Ctx;

/// Project tasks for ndp. Run as `cargo xtask <COMMAND>` from anywhere in the
/// repository.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every check CI runs, in order, stopping at the first failure:
    /// thumb targets, fmt, clippy, tests, interop with Linux and radvd
    /// (root), tshark on the simulator's pcaps, no_std builds, fuzz smoke
    /// test.
    Test,
    /// Run a cargo-fuzz target (needs the `nightly` toolchain; installs
    /// cargo-fuzz if it is missing).
    Fuzz {
        /// How long to fuzz, in seconds (libFuzzer's -max_total_time).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
        /// Fuzz target name (a [[bin]] in ndp-core/fuzz/Cargo.toml).
        #[arg(long, default_value = fuzz::DEFAULT_TARGET)]
        target: String,
    },
    /// Measure flash, RAM, CPU and boot times side by side:
    /// target/bench/report.md, report.json, boot-times.svg.
    Bench,
    /// Flash and RAM of ndp-core on thumbv7em-none-eabihf, from the size
    /// probe firmware.
    Size {
        /// Fail when a figure grew more than 3% over budgets.toml.
        #[arg(long)]
        check: bool,
        /// Write the measured figures into budgets.toml.
        #[arg(long, conflicts_with = "check")]
        record: bool,
    },
    /// A device autoconfiguring against a real router: linux-tap (the
    /// engine on a TAP device) beside radvd in a network namespace, its
    /// events as readable lines and a summary. Needs root.
    Demo {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = match Ctx::new(workspace_root()) {
        Ok(ctx) => ctx,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Test => test_steps::run(&ctx),
        Command::Fuzz { seconds, target } => match fuzz::run_standalone(&ctx, &target, seconds) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cargo xtask fuzz failed: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::Demo { seconds } => demo::run(&ctx, seconds),
        Command::Bench => match bench::run(&ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cargo xtask bench: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::Size { check, record } => match size::run(&ctx, check, record) {
            Ok(_) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cargo xtask size: {err:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `$CARGO_TARGET_DIR` (relative to the workspace root) or `<root>/target`,
/// as ndp_tests::target_dir.
pub fn target_dir(ctx: &Ctx) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => ctx.root.join(dir),
        None => ctx.root.join("target"),
    }
}

/// The workspace root: the parent of this crate's manifest directory, fixed at
/// compile time so `cargo xtask` works from any current directory.
fn workspace_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}
