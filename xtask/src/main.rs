//! `cargo xtask`: project automation for the ndp workspace.
//!
//! An ordinary binary in the style of rust-analyzer's xtask: it shells out to
//! cargo, rustup and friends, prints every command it runs, and stops with a
//! clear message naming the step that failed. See DESIGN.md ("Tests",
//! "Toolchain") for what the steps are and why.

mod demo;
mod fuzz;
mod runner;
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
    /// thumb targets, fmt, clippy, tests, no_std builds, fuzz smoke test.
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
    /// Run the demo (not available yet: it arrives with the linux-tap board).
    Demo,
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
        Command::Demo => demo::run(&ctx),
    }
}

/// The workspace root: the parent of this crate's manifest directory, fixed at
/// compile time so `cargo xtask` works from any current directory.
fn workspace_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}
