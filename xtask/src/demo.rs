//! `cargo xtask demo --linux-tap`: the engine on a real Linux link.
//!
//! The device is linux-tap (the engine, the smoltcp adapter and smoltcp on
//! a TAP device) in a network namespace whose Linux kernel is the router,
//! with radvd advertising the documentation prefix 2001:db8:1::/64, a DNS
//! server and a search domain. linux-tap's JSON events are shown as
//! readable lines, then a summary. (`cargo xtask demo` without the flag
//! runs the QEMU board: see qemu.rs.)

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ndp_tests::interop::{HostConfig, Lab, PREFIX, ROUTER_ADDR, try_run};
use serde_json::Value;

use crate::packages;
use crate::runner::Ctx;

const MAC: &str = "02:00:5e:00:53:42";
/// A fixed secret: the demo shows the same stable addresses every run.
const SECRET: &str = "6e64702d64656d6f2d7365637265742e";
/// What radvd advertises on br0.
const RADVD: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS 2001:db8:1::53 { };
    DNSSL demo.example { };
";

pub fn run(ctx: &Ctx, seconds: u64) -> ExitCode {
    if !packages::is_root(ctx) {
        eprintln!(
            "cargo xtask demo --linux-tap needs root: it creates network namespaces holding a TAP device \
             and runs radvd there (Linux is the router, linux-tap the device). Run it \
             as root, for example:\n    sudo -E cargo xtask demo --linux-tap"
        );
        return ExitCode::FAILURE;
    }
    let result = packages::ensure(ctx, crate::interop::TOOLS)
        .and_then(|()| {
            ctx.run(ctx.sh.cmd("cargo").args(["build", "-q", "-p", "linux-tap"]))
                .context("building linux-tap")
        })
        .and_then(|()| demo(ctx, Duration::from_secs(seconds)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cargo xtask demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the summary reports.
#[derive(Default)]
struct Seen {
    link_local: Option<String>,
    global: Option<String>,
    global_usable_ms: Option<u64>,
    global_preferred: bool,
    router: Option<String>,
    dns: Option<String>,
}

fn demo(ctx: &Ctx, bound: Duration) -> Result<()> {
    // The interop tests' lab: a Linux router namespace whose bridge joins
    // the TAP device and a veth (so it has carrier and radvd is ready for
    // the device's first solicitation), removed again however this ends.
    let mut lab = Lab::new("demo", HostConfig::default());
    lab.start_radvd(RADVD);
    // A router that has been up a while: radvd multicasts its first RA at
    // once and then at most one per MinDelayBetweenRAs (3 s, RFC 4861
    // §6.2.6), so a solicitation right after its start goes unanswered.
    std::thread::sleep(Duration::from_millis(3500));
    let bin = crate::target_dir(ctx).join("debug/linux-tap");
    println!(
        "==> namespace {}: Linux router on br0 ({ROUTER_ADDR}) bridged to tap0, radvd advertising {PREFIX}/64",
        lab.router
    );
    println!("==> linux-tap --iface tap0 --mac {MAC} --secret {SECRET}\n");
    let tap = lab.spawn_json(
        "linux-tap",
        &bin,
        &["--iface", "tap0", "--mac", MAC, "--secret", SECRET],
    );
    let mut seen = Seen::default();
    let end = Instant::now() + bound;
    let mut shown = 0;
    'watch: while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
        let lines = tap.lines();
        for (_, line) in lines.iter().skip(shown) {
            shown += 1;
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                println!("  {line}");
                continue;
            };
            println!("{}", describe(&v, &mut seen));
            if seen.global_preferred && seen.router.is_some() && seen.dns.is_some() {
                break 'watch;
            }
        }
    }
    println!();
    if let Some(g) = &seen.global {
        let text = try_run(&[
            "ip",
            "netns",
            "exec",
            &lab.router,
            "ping",
            "-6",
            "-n",
            "-c",
            "1",
            "-W",
            "2",
            g,
        ])
        .unwrap_or_default();
        let rtt = text
            .lines()
            .find(|l| l.contains("time="))
            .and_then(|l| l.split("time=").nth(1))
            .unwrap_or("no reply");
        println!("==> the router pings {g}: {rtt}");
    }
    let show = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    println!("==> summary");
    println!("  link-local address   {}", show(&seen.link_local));
    println!("  global address       {}", show(&seen.global));
    println!("  default router       {}", show(&seen.router));
    println!("  DNS                  {}", show(&seen.dns));
    match seen.global_usable_ms {
        Some(ms) => println!("  link up to a usable global address: {ms} ms"),
        None => println!("  no usable global address within {} s", bound.as_secs()),
    }
    let logs = lab.dir.clone();
    drop(lab);
    if seen.global_usable_ms.is_none() {
        bail!(
            "no global address within {} s (radvd's log and a pcap of the link: {})",
            bound.as_secs(),
            logs.display()
        );
    }
    Ok(())
}

/// One event as a readable line, noting what the summary needs.
fn describe(v: &Value, seen: &mut Seen) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("?").to_owned();
    let at = v["ms"].as_u64().map_or("      ".into(), |ms| {
        format!("{:>6.3} s", ms as f64 / 1000.0)
    });
    let what = match v["event"].as_str() {
        Some("started") => format!("started on {} with MAC {}", s("iface"), s("mac")),
        Some("address") => {
            let (addr, state) = (s("address"), s("state"));
            if addr.starts_with("fe80:") {
                if state == "preferred" {
                    seen.link_local = Some(addr.clone());
                }
            } else if state == "optimistic" || state == "preferred" {
                seen.global = Some(addr.clone());
                if seen.global_usable_ms.is_none() {
                    seen.global_usable_ms = v["ms"].as_u64();
                }
                seen.global_preferred |= state == "preferred";
            }
            format!("address  {addr}/{} is {state}", v["prefix_len"])
        }
        Some("router") => {
            let addr = s("address");
            if v["lifetime_s"] != 0 {
                seen.router = Some(addr.clone());
            }
            format!(
                "router   {addr}: lifetime {} s, preference {}",
                v["lifetime_s"],
                s("preference")
            )
        }
        Some("prefix") => format!(
            "prefix   {}/{} on-link, valid {} s",
            s("prefix"),
            v["prefix_len"],
            v["valid_lifetime_s"]
        ),
        Some("dns") => {
            let list = |k: &str| {
                v[k].as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            let text = format!("servers {}; search {}", list("servers"), list("search"));
            seen.dns = Some(text.clone());
            format!("dns      {text}")
        }
        Some("mtu") => format!("mtu      {}", v["mtu"]),
        Some("hop_limit") => format!("hops     hop limit {}", v["hop_limit"]),
        _ => v.to_string(),
    };
    format!("  {at}  {what}")
}
