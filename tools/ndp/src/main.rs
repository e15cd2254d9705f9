//! `ndp`: IPv6 Neighbor Discovery on a Linux interface, through the ndp
//! engine's codec and state machines.
//!
//! - `ndp listen`: print every Neighbor Discovery and MLD message;
//! - `ndp rs`: solicit routers and print their advertisements;
//! - `ndp ns`: resolve an address to its link-layer address;
//! - `ndp proxy`: answer Neighbor Solicitations for prefixes routed
//!   behind this host (the job of npd6).
//!
//! Exit status: 0 on success, 1 when something failed at run time (no
//! answer, no permission, a send failed), 2 for bad arguments or a bad
//! configuration file. Errors are one line on stderr, starting `ndp:`.

// Unit tests may index, unwrap and compute freely (DESIGN.md: the
// no-panic rules are for what runs on input).
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use std::io::Write as _;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod decode;
mod link;
mod listen;
mod proxy;
mod solicit;

/// How long a read waits before the loops look at their clocks and
/// signals again.
const TICK: Duration = Duration::from_millis(50);

#[derive(Parser)]
#[command(
    name = "ndp",
    version,
    about = "IPv6 Neighbor Discovery on a Linux interface: watch it, ask it, proxy it",
    long_about = "IPv6 Neighbor Discovery on a Linux interface: watch it, ask it, proxy it.\n\n\
        Every subcommand opens a raw packet socket on the interface, so it needs \
        root or CAP_NET_RAW. Exit status: 0 success, 1 failure at run time (no \
        answer, no permission), 2 bad arguments or configuration."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every Neighbor Discovery and MLD message on the interface,
    /// options included; malformed ones with their error.
    Listen(ListenArgs),
    /// Send Router Solicitations (with backoff) and print each Router
    /// Advertisement: flags, prefixes, routes, MTU, RDNSS, DNSSL.
    Rs(RsArgs),
    /// Resolve ADDR: print its link-layer address and the round-trip time.
    Ns(NsArgs),
    /// Answer Neighbor Solicitations for addresses under the given
    /// prefixes with this interface's link-layer address (ND proxy).
    Proxy(ProxyArgs),
}

#[derive(Args)]
struct Iface {
    /// The interface to work on.
    #[arg(short, long = "iface", value_name = "IFACE")]
    iface: String,
}

#[derive(Args)]
struct ListenArgs {
    #[command(flatten)]
    iface: Iface,
    /// One JSON object per message instead of text.
    #[arg(long)]
    json: bool,
    /// Exit after this many messages.
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,
    /// Do not put the interface in promiscuous mode (messages to groups
    /// the host has not joined, or to other MACs, may then not arrive).
    #[arg(long)]
    no_promisc: bool,
}

#[derive(Args)]
struct RsArgs {
    #[command(flatten)]
    iface: Iface,
    /// One JSON object per advertisement instead of text.
    #[arg(long)]
    json: bool,
    /// Most solicitations to send.
    #[arg(short, long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10))]
    retries: u32,
    /// Seconds to wait for an answer after the first solicitation; the
    /// wait doubles after each one.
    #[arg(short, long, default_value_t = 1, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=60))]
    wait: u64,
}

#[derive(Args)]
struct NsArgs {
    #[command(flatten)]
    iface: Iface,
    /// The address to resolve.
    #[arg(value_name = "ADDR")]
    addr: Ipv6Addr,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Most solicitations to send, one second apart.
    #[arg(short, long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10))]
    retries: u32,
}

#[derive(Args)]
struct ProxyArgs {
    #[command(flatten)]
    iface: Iface,
    /// Answer for addresses under this prefix (up to 4 in all).
    #[arg(short, long = "prefix", value_name = "P/LEN")]
    prefix: Vec<String>,
    /// Answer only for these addresses or prefixes (up to 8).
    #[arg(long = "allow", value_name = "ADDR|P/LEN")]
    allow: Vec<String>,
    /// Never answer for these addresses or prefixes (up to 8).
    #[arg(long = "deny", value_name = "ADDR|P/LEN")]
    deny: Vec<String>,
    /// Clear the Router flag in answers (set by default: a proxy forwards).
    #[arg(long)]
    no_router: bool,
    /// More rules from FILE (`prefix`, `allow`, `deny`, `router on|off`
    /// lines); read again on SIGHUP.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
}

/// Why `ndp` stops.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or configuration: exit status 2.
    Usage(String),
    /// Something failed at run time: exit status 1.
    Runtime(String),
    /// Standard output was closed (`ndp listen | head`): stop quietly.
    Closed,
}

/// Write one line to standard output.
pub fn out(line: &str) -> Result<(), Failure> {
    let mut o = std::io::stdout().lock();
    writeln!(o, "{line}")
        .and_then(|()| o.flush())
        .map_err(|_| Failure::Closed)
}

/// Seconds since the Unix epoch, with microseconds, for output.
pub fn wall_clock() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `HH:MM:SS.uuuuuu` (UTC) of a wall-clock time.
pub fn time_of_day(t: f64) -> String {
    let micros = (t * 1e6) as u64;
    let secs = micros / 1_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        micros % 1_000_000
    )
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("ndp: no subcommand: give listen, rs, ns or proxy (see `ndp --help`)");
            return ExitCode::from(2);
        }
        Err(e) => {
            // One line: clap's message up to its usage block, without
            // its tips.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("tip:")
                        && !l.starts_with("For more information")
                })
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("ndp: {message} (see `ndp --help`)");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Listen(a) => listen::run(a),
        Command::Rs(a) => solicit::rs(a),
        Command::Ns(a) => solicit::ns(a),
        Command::Proxy(a) => proxy::run(a),
    };
    match result {
        Ok(()) | Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("ndp: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("ndp: {m}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_is_utc_with_microseconds() {
        // 2026-11-30 11:44:38.123456 UTC.
        assert_eq!(time_of_day(1_796_039_078.123_456), "11:44:38.123456");
        assert_eq!(time_of_day(0.0), "00:00:00.000000");
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
