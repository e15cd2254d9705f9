//! `cargo xtask demo`: a device autoconfiguring against a real router.
//!
//! Until the QEMU board takes over, the device is linux-tap (the engine,
//! the smoltcp adapter and smoltcp on a TAP device) in a network namespace
//! whose Linux kernel is the router, with radvd advertising the
//! documentation prefix 2001:db8:1::/64, a DNS server and a search domain.
//! linux-tap's JSON events are shown as readable lines, then a summary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::packages;
use crate::runner::Ctx;

const NS: &str = "ndp-demo";
const MAC: &str = "02:00:5e:00:53:42";
/// A fixed secret: the demo shows the same stable addresses every run.
const SECRET: &str = "6e64702d64656d6f2d7365637265742e";
const RADVD_CONF: &str = "interface br0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS 2001:db8:1::53 { };
    DNSSL demo.example { };
};
";

pub fn run(ctx: &Ctx, seconds: u64) -> ExitCode {
    if !packages::is_root(ctx) {
        eprintln!(
            "cargo xtask demo needs root: it creates a network namespace ({NS}) holding a TAP \
             device and runs radvd there (Linux is the router, linux-tap the device). Run it \
             as root, for example:\n    sudo -E cargo xtask demo"
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

fn sh(args: &[&str]) -> Result<()> {
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .with_context(|| format!("cannot run `{}`", args.join(" ")))?;
    if !status.success() {
        bail!("`{}` failed: {status}", args.join(" "));
    }
    Ok(())
}

fn ns(args: &[&str]) -> Result<()> {
    let mut all = vec!["ip", "netns", "exec", NS];
    all.extend_from_slice(args);
    sh(&all)
}

/// Removes the namespace (and so the TAP device) and stops the processes,
/// however the demo ends.
struct Lab {
    children: Vec<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end && c.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", NS]).status();
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
    let dir = crate::target_dir(ctx).join("demo");
    std::fs::create_dir_all(&dir)?;
    let conf = dir.join("radvd.conf");
    std::fs::write(&conf, RADVD_CONF)?;
    // A namespace left by an interrupted run goes first.
    let _ = Command::new("ip")
        .args(["netns", "del", NS])
        .stderr(Stdio::null())
        .status();
    sh(&["ip", "netns", "add", NS])?;
    let mut lab = Lab {
        children: Vec::new(),
    };
    ns(&["ip", "link", "set", "lo", "up"])?;
    ns(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])?;
    // The router's side is a bridge that is up before the device attaches
    // (a veth port whose peer is up gives it carrier), so radvd is ready for the device's
    // first solicitation, as a router on a real LAN would be.
    ns(&[
        "ip",
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "forward_delay",
        "0",
        "mcast_snooping",
        "0",
    ])?;
    ns(&["sysctl", "-qw", "net.ipv6.conf.br0.accept_untracked_na=1"])?;
    ns(&["sysctl", "-qw", "net.ipv6.conf.br0.accept_dad=0"])?;
    ns(&[
        "ip", "link", "add", "vd0", "type", "veth", "peer", "name", "vd1",
    ])?;
    ns(&["ip", "link", "set", "vd1", "up"])?;
    ns(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"])?;
    for dev in ["vd0", "tap0"] {
        ns(&["ip", "link", "set", dev, "master", "br0"])?;
        ns(&["ip", "link", "set", dev, "up"])?;
    }
    ns(&[
        "ip",
        "-6",
        "addr",
        "add",
        "2001:db8:1::1/64",
        "dev",
        "br0",
        "nodad",
    ])?;
    ns(&["ip", "link", "set", "br0", "up"])?;

    let radvd = Command::new("ip")
        .args(["netns", "exec", NS, "radvd", "-n", "-m", "stderr", "-C"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("radvd.pid"))
        .stderr(std::fs::File::create(dir.join("radvd.log"))?)
        .spawn()
        .context("cannot start radvd")?;
    lab.children.push(radvd);
    // radvd sets br0 up within its first second.
    std::thread::sleep(Duration::from_millis(1500));

    let bin = crate::target_dir(ctx).join("debug/linux-tap");
    println!(
        "==> namespace {NS}: Linux router on br0 (2001:db8:1::1) bridged to tap0, radvd advertising 2001:db8:1::/64"
    );
    println!("==> linux-tap --iface tap0 --mac {MAC} --secret {SECRET}\n");
    let mut tap = Command::new("ip")
        .args(["netns", "exec", NS])
        .arg(&bin)
        .args(["--iface", "tap0", "--mac", MAC, "--secret", SECRET])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = tap.stdout.take().context("linux-tap's stdout")?;
    lab.children.push(tap);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Seen::default();
    let end = Instant::now() + bound;
    while Instant::now() < end {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            println!("  {line}");
            continue;
        };
        println!("{}", describe(&v, &mut seen));
        if seen.global_preferred && seen.router.is_some() && seen.dns.is_some() {
            break;
        }
    }
    println!();
    if let Some(g) = &seen.global {
        let out = Command::new("ip")
            .args([
                "netns", "exec", NS, "ping", "-6", "-n", "-c", "1", "-W", "2", g,
            ])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
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
    drop(lab);
    if seen.global_usable_ms.is_none() {
        bail!(
            "no global address within {} s (radvd's log: {})",
            bound.as_secs(),
            dir.join("radvd.log").display()
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
