//! The QEMU board from the host: `cargo xtask
//! qemu ELF` (the board's cargo runner) and `cargo xtask demo` (the main
//! job: the mps2-an386 firmware autoconfiguring under slirp).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use ndp_tests::qemu::{self, Firmware, LogLine, Options};

use crate::packages::{self, Tool};
use crate::runner::Ctx;
use crate::test_steps::ensure_thumb_targets;

/// What booting the firmware needs.
pub const TOOLS: &[Tool] = &[("qemu-system-arm", "qemu-system-arm")];
/// A fixed secret: the demo shows the same stable addresses every run.
pub const DEMO_SECRET: &str = "6e64702d64656d6f2d7365637265742e";

/// Build the QEMU board's firmware; its ELF.
pub fn build_firmware(ctx: &Ctx) -> Result<PathBuf> {
    ensure_thumb_targets(ctx)?;
    let _dir = ctx.sh.push_dir(ctx.root.join(qemu::BOARD_DIR));
    ctx.run(ctx.sh.cmd("cargo").args(["build", "--release"]))
        .context("building the mps2-an386 firmware")?;
    Ok(qemu::firmware_elf())
}

/// `cargo xtask qemu ELF [ARGS]`: boot an mps2-an386 ELF under slirp and
/// stream its decoded log until it exits or Ctrl-C (the board's `cargo
/// run` runner). Exits with the firmware's exit code.
pub fn run_elf(ctx: &Ctx, elf: &Path, append: &[String], pcap: Option<PathBuf>) -> ExitCode {
    if let Err(e) = packages::ensure(ctx, TOOLS) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let mut opts = Options::slirp(&append.join(" "));
    opts.pcap = pcap;
    let fw = match Firmware::boot(elf, &opts) {
        Ok(fw) => fw,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("$ {}", fw.command);
    let stop = ctrl_c();
    let mut shown = 0;
    loop {
        shown = show_new(&fw, shown, &mut |_| {});
        if let Some(status) = fw.wait_exit(Duration::from_millis(100)) {
            show_new(&fw, shown, &mut |_| {});
            return ExitCode::from(status.code().map_or(1, |c| (c & 0xff) as u8));
        }
        if stop.load(Ordering::Relaxed) {
            return ExitCode::SUCCESS;
        }
    }
}

/// Print the lines after the first `shown`; the new count.
fn show_new(fw: &Firmware, shown: usize, each: &mut dyn FnMut(&LogLine)) -> usize {
    let lines = fw.lines();
    for l in lines.iter().skip(shown) {
        println!("{l}");
        each(l);
    }
    lines.len()
}

/// A flag set by Ctrl-C (SIGINT) or SIGTERM.
fn ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Without the handler Ctrl-C still ends the run, just without the
        // summary.
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

/// What the demo's summary reports.
#[derive(Default)]
struct Seen {
    link_local: Option<String>,
    global: Option<String>,
    router: Option<String>,
    dns: Vec<String>,
    /// Boot to a usable global address: firmware clock, and host wall
    /// clock from QEMU's start.
    global_virtual_ms: Option<u64>,
    global_wall: Option<Duration>,
}

impl Seen {
    fn note(&mut self, l: &LogLine, started: Instant) {
        if let Some((addr, state)) = qemu::parse_address(&l.text) {
            let usable = state == "optimistic" || state == "preferred";
            if addr.starts_with("fe80:") {
                if state == "preferred" {
                    self.link_local = Some(addr);
                }
            } else if usable && self.global.is_none() {
                self.global = Some(addr);
                self.global_virtual_ms = l.ms;
                self.global_wall = Some(l.wall.saturating_duration_since(started));
            }
        } else if let Some(rest) = l.text.strip_prefix("router ") {
            let mut w = rest.split_whitespace();
            if let (Some(addr), Some("lifetime"), Some(life)) = (w.next(), w.next(), w.next()) {
                self.router = (life != "0").then(|| addr.to_string());
            }
        } else if let Some(server) = l.text.strip_prefix("dns server ") {
            self.dns.push(server.trim().to_string());
        } else if l.text == "dns none" {
            self.dns.clear();
        }
    }
}

/// `cargo xtask demo`: the mps2-an386 firmware under QEMU and slirp.
pub fn demo(ctx: &Ctx, seconds: Option<u64>, seed: Option<u64>) -> ExitCode {
    match demo_inner(ctx, seconds, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cargo xtask demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo_inner(ctx: &Ctx, seconds: Option<u64>, seed: Option<u64>) -> Result<()> {
    packages::ensure(ctx, TOOLS)?;
    let elf = build_firmware(ctx)?;
    let dir = crate::target_dir(ctx).join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let pcap = dir.join("mps2-an386.pcap");
    // A real device draws a new seed at every boot; print it so a run can
    // be repeated.
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 % 1_000_000)
    });
    let mut opts = Options::slirp(&format!("secret={DEMO_SECRET} seed={seed}"));
    opts.pcap = Some(pcap.clone());
    let fw = Firmware::boot(&elf, &opts).map_err(|e| anyhow!(e))?;
    println!(
        "==> QEMU mps2-an386 (Cortex-M4F, LAN9118) on slirp, which routes {}/64",
        qemu::SLIRP_PREFIX
    );
    println!("==> {}", fw.command);
    match seconds {
        Some(s) => println!("==> running for {s} s (Ctrl-C ends it sooner)\n"),
        None => println!("==> running until Ctrl-C\n"),
    }
    let stop = ctrl_c();
    let end = seconds.map(|s| fw.started + Duration::from_secs(s));
    let mut seen = Seen::default();
    let mut shown = 0;
    let mut exit = None;
    while !stop.load(Ordering::Relaxed) && end.is_none_or(|e| Instant::now() < e) {
        shown = show_new(&fw, shown, &mut |l| seen.note(l, fw.started));
        if let Some(status) = fw.wait_exit(Duration::from_millis(100)) {
            show_new(&fw, shown, &mut |l| seen.note(l, fw.started));
            exit = Some(status);
            break;
        }
    }
    fw.kill();
    let show = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    println!("\n==> summary");
    println!("  link-local address   {}", show(&seen.link_local));
    println!("  global address       {}", show(&seen.global));
    println!("  default router       {}", show(&seen.router));
    if seen.dns.is_empty() {
        println!("  DNS                  none (slirp's RA carries no RDNSS option)");
    } else {
        println!("  DNS                  {}", seen.dns.join(", "));
    }
    match (seen.global_virtual_ms, seen.global_wall) {
        (Some(v), Some(w)) => println!(
            "  boot to a usable global address: {v} ms of firmware time, {} ms of wall time",
            w.as_millis()
        ),
        _ => println!("  no usable global address"),
    }
    println!("  pcap                 {}", pcap.display());
    println!("  seed                 {seed} (cargo xtask demo --seed {seed} repeats this boot)");
    if let Some(fault) = fw.faults().first() {
        bail!("the firmware crashed: {}", fault.text);
    }
    if let Some(status) = exit {
        bail!("QEMU ended early ({status})");
    }
    if seen.global.is_none() {
        bail!("the firmware configured no global address");
    }
    Ok(())
}
