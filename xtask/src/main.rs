//! `cargo xtask`: project automation for the ndp workspace.
//!
//! An ordinary binary in the style of rust-analyzer's xtask: it shells out to
//! cargo, rustup and friends, prints every command it runs, and stops with a
//! clear message naming the step that failed. See ARCHITECTURE.md ("Tests",
//! "Toolchain") for what the steps are and why.

mod bench;
mod boards;
mod demo;
mod firmware;
mod fuzz;
mod interop;
mod packages;
mod qemu;
mod runner;
mod size;
mod test_steps;
mod thc;
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
    /// (root), THC-IPv6 attacks on linux-tap (root), tshark on the
    /// simulator's pcaps, no_std builds, fuzz smoke tests (30 s per target).
    Test,
    /// Run a cargo-fuzz target (needs the `nightly` toolchain; installs
    /// cargo-fuzz if it is missing).
    Fuzz {
        /// How long to fuzz, in seconds (libFuzzer's -max_total_time).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
        /// Fuzz target name: wire_roundtrip or stack_ops (a `[[bin]]` in
        /// ndp-core/fuzz/Cargo.toml, listed in xtask/src/fuzz.rs).
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
    /// A device autoconfiguring against a real router: the mps2-an386
    /// firmware (Cortex-M4F, LAN9118) under QEMU, slirp its router
    /// (no root). Streams the firmware's decoded log, writes a pcap and
    /// ends with a summary.
    Demo {
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: Option<u64>,
        /// The firmware's random seed (default: a new one each run).
        #[arg(long, conflicts_with = "linux_tap")]
        seed: Option<u64>,
        /// Run the linux-tap board beside radvd in a network namespace
        /// instead (needs root); stops after --seconds (default 20).
        #[arg(long)]
        linux_tap: bool,
    },
    /// Build every firmware of boards/ for its target (release).
    BuildBoards,
    /// Build a real board's firmware, write it through its debug probe
    /// and stream its defmt log (probe-rs; installed with cargo when
    /// missing, about 11 minutes). Needs the board on USB.
    Flash {
        /// The board: nucleo-f767zi or w5500-evb-pico.
        board: String,
        /// Erase the flash first, the sector that keeps the board's RFC
        /// 7217 secret with it: the board draws a new secret, and so new
        /// addresses.
        #[arg(long)]
        reset_secret: bool,
    },
    /// Boot an mps2-an386 firmware ELF under QEMU (slirp, fd00:1::/64) and
    /// stream its decoded defmt log: the board's `cargo run` runner.
    Qemu {
        /// The firmware.
        elf: PathBuf,
        /// Write the NIC's traffic to this pcap.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The firmware's command line (secret=HEX32 seed=N
        /// exit-when-configured).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
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
        Command::Demo {
            seconds,
            seed,
            linux_tap,
        } => {
            if linux_tap {
                demo::run(&ctx, seconds.unwrap_or(20))
            } else {
                qemu::demo(&ctx, seconds, seed)
            }
        }
        Command::Flash {
            board,
            reset_secret,
        } => match boards::flash(&ctx, &board, reset_secret) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cargo xtask flash: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::BuildBoards => match boards::build_boards(&ctx) {
            Ok(_) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cargo xtask build-boards: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::Qemu { elf, pcap, args } => qemu::run_elf(&ctx, &elf, &args, pcap),
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
