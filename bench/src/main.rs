//! ndp-bench: the workloads `cargo xtask bench` measures.
//!
//! ```text
//! ndp-bench cpu NAME ITERATIONS   run one workload (under callgrind)
//! ndp-bench cpu-list              the workload names
//! ndp-bench slaac BOOTS [--no-optimistic]
//! ndp-bench thousand-hosts
//! ```
//!
//! The simulation commands print one JSON object.

mod cpu;
mod sim;

use std::process::ExitCode;

use ndp_core::wire::MacAddr;

/// The measured engine's MAC.
pub const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
/// Its peer's.
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0x01, 0, 0, 0, 1]);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["cpu", name, n] => {
            let Ok(n) = n.parse::<u64>() else {
                return usage("ITERATIONS is a number");
            };
            match cpu::run(name, n) {
                Some(()) => ExitCode::SUCCESS,
                None => usage("unknown workload; see `ndp-bench cpu-list`"),
            }
        }
        ["cpu-list"] => {
            for n in cpu::NAMES {
                println!("{n}");
            }
            ExitCode::SUCCESS
        }
        ["slaac", n, rest @ ..] => {
            let Ok(n) = n.parse::<u64>() else {
                return usage("BOOTS is a number");
            };
            let optimistic = !rest.contains(&"--no-optimistic");
            println!("{}", sim::slaac(n, optimistic));
            ExitCode::SUCCESS
        }
        ["thousand-hosts"] => {
            println!("{}", sim::thousand_hosts());
            ExitCode::SUCCESS
        }
        _ => usage("unknown command"),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "ndp-bench: {why}\nusage: ndp-bench cpu NAME ITERATIONS | cpu-list | slaac BOOTS [--no-optimistic] | thousand-hosts"
    );
    ExitCode::from(2)
}
