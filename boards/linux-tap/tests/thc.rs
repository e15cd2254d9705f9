//! linux-tap under attack by THC-IPv6 (the Debian package thc-ipv6, tools
//! `atk6-*`), on the interop lab (ndp_tests::interop::Lab) with a third,
//! attacker, namespace on the bridge:
//!
//! ```text
//!   router namespace                                  host namespace
//!   +----------------------------------------------+  +-----------------+
//!   | br0: 2001:db8:1::1/64, radvd                 |  |                 |
//!   | lo:  2001:db8:2::1/128 (the off-link source) |  |                 |
//!   |  +-- tap0 <-> linux-tap (the device)         |  |                 |
//!   |  +-- vr   <---------------------------------------> vh 2001:db8:1::100
//!   |  +-- va   <------------+                     |  +-----------------+
//!   +------------------------|---------------------+
//!                            |   attacker namespace
//!                            |   +-------------------------------------+
//!                            +---> atk0 2001:db8:1::66/64, atk6-* tools |
//!                                +-------------------------------------+
//! ```
//!
//! Attack traffic exists only on br0 and its ports, all inside the lab's
//! namespaces; the router namespace has no route anywhere else.
//!
//! Two parts run one after the other (not side by side: while an RA
//! flood runs in one network namespace, radvd's sendmsg() in another
//! fails), each with its own lab, in about 100 s:
//!
//! - Floods and fuzzing, one attack after another, each on a freshly
//!   started device, so that what one attack leaves behind (a router list
//!   full of fake routers, say) is not blamed on the next:
//!   - `atk6-flood_router26 atk0` (15 s): RAs to ff02::1 from random
//!     link-local routers, each with ~25 prefixes and routes, high
//!     preference, router lifetime 65535 s. radvd's router must be in the
//!     device's router list in every state dump taken once a second
//!     (SIGUSR1), and off-link traffic must keep flowing.
//!   - `atk6-flood_solicitate6 atk0 G` (10 s): NSs to ff02::1 asking for
//!     the device's global address G, each from a random source with a
//!     random link-layer address: every one asks for an answer and a
//!     neighbor entry. (Without a target the tool asks for random
//!     addresses, which the device drops at once.)
//!   - `atk6-flood_advertise6 atk0 G` (10 s): unsolicited NAs sent to the
//!     device (unicast, to G), each for a random address in
//!     2001:db8:1::/64 with the override flag and a random link-layer
//!     address.
//!   - `atk6-fuzz_ip6` against G, at most 15 s in all: fuzzed RAs, NSs
//!     and NAs (`-x`, every value of each flag and byte field), an echo
//!     request with every extension header and the IPv6 header fuzzed,
//!     and MLDv2 queries. The fuzzed packets may legitimately change the
//!     device's state, so ping is measured but not required here.
//!
//!   During each flood the device's global address is pinged every 0.2 s
//!   from two places, and neither may lose a packet: on-link from the
//!   host (2001:db8:1::100), and off-link from the router namespace with
//!   source 2001:db8:2::1, an address on its loopback. The device has no
//!   prefix covering 2001:db8:2::, so it must send its replies through
//!   its default router: this is the traffic an RA flood attacks (a fake
//!   router chosen as default, or the real one evicted, and the replies
//!   go nowhere). The on-link ping is the traffic the NS and NA floods
//!   attack (a neighbor cache churned by fake entries).
//!
//! - `atk6-dos-new-ip6 atk0` (12 s): answers every DAD probe it sees (NS
//!   from ::) with an NA claiming the address. It starts before the
//!   device, so the device boots into it: every link-local and global
//!   address it tries is "duplicate" (radvd advertises every 3 to 4 s
//!   here, so the prefix comes during the attack). Within 30 s of the
//!   attack stopping the device must have a usable (optimistic or
//!   preferred) link-local and global address again. (The lab's Linux
//!   host, whose own link-local address may still be in DAD, loses it to
//!   the attack too; it plays no part in this one.)
//!
//! After every attack the device must still run (not exited, and
//! answering SIGUSR1), and its peak resident memory (VmHWM) may have
//! grown by at most [`VMHWM_GROWTH_KB`].
//!
//! Failed checks do not stop the test: every attack runs, and then the
//! test fails listing every failed check. The figures (ping loss per
//! attack, router-list samples, VmHWM, time to an address after
//! dos-new-ip6, device counters) go to `target/thc/thc-figures.txt`, whose
//! `summary:` line `cargo xtask test` shows. Logs (each tool's output,
//! linux-tap's stderr, a pcap of br0 up to the first attack, and a
//! diagnostics file when a check failed) are in
//! `target/interop/thc-floods/` and `target/interop/thc-dos-new-ip6/`.
//!
//! Needs root, and thc-ipv6 beside the interop tests' packages: `cargo
//! xtask test` installs them and runs this file as the "THC-IPv6 attacks"
//! step. Every tool runs under coreutils `timeout`, so it stops by itself
//! even if the test dies.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{BIN, G0, LL, MAC, SECRET};
use ndp_tests::interop::{
    ATTACKER_IFACE, HostConfig, Lab, Proc, ns_run, poll_until, skip_unless_root, try_run,
};
use serde_json::Value;

/// The host's address: the on-link ping's source.
const HOST_ADDR: &str = "2001:db8:1::100";
/// The router's address on its loopback: the off-link ping's source.
const FAR_ADDR: &str = "2001:db8:2::1";
/// The attacker's global address. The tools look a target up in the
/// kernel's routing table, and need an on-link route to it.
const ATTACKER_ADDR: &str = "2001:db8:1::66/64";

/// radvd for the floods: it answers solicitations at once (unicast), so
/// that each freshly started device is configured within a second or two.
const RADVD: &str = "
    AdvSendAdvert on;
    AdvRASolicitedUnicast on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
";
/// radvd for dos-new-ip6: an unsolicited RA every 3 to 4 s, so that the
/// device learns the prefix while the attack runs (and its global
/// addresses are attacked too) whatever radvd makes of its solicitations:
/// radvd 2.19 defers its answer to a solicitation that comes within 3 s
/// of its last RA to its next scheduled RA, up to MaxRtrAdvInterval later.
const RADVD_DOS: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
";

/// How much linux-tap's VmHWM may grow during one attack. Measured: +50
/// to +200 kB from a baseline of about 4.4 MB (the frames are
/// heap-allocated one at a time; the engine's tables are fixed-size).
/// 2 MiB is ten times that: a leak or an unbounded table under a flood of
/// 100,000 frames per second crosses it within seconds.
const VMHWM_GROWTH_KB: u64 = 2048;
/// Ping interval (seconds) during the floods: 5 per second, so a
/// one-second outage loses 5 packets.
const PING_INTERVAL: &str = "0.2";
/// The ping starts this long after its flood, so that it measures the
/// flood in full swing, and ends before it.
const PING_LAG: Duration = Duration::from_millis(500);
/// How long a state dump (SIGUSR1) may take to come.
const DUMP_TIMEOUT: Duration = Duration::from_secs(2);
/// Budget of all fuzz_ip6 runs together.
const FUZZ_SECONDS: u64 = 15;
/// How long dos-new-ip6 runs; the device starts as soon as it listens
/// (about 0.1 s in) and gives up on its addresses within a few seconds.
const DOS_SECONDS: u64 = 12;
/// The device must have usable addresses again this soon after
/// dos-new-ip6 stops.
const RECOVERY: Duration = Duration::from_secs(30);

/// One flood: a tool, its arguments after the interface, how long.
struct Flood {
    tool: &'static str,
    args: &'static [&'static str],
    seconds: u64,
    /// Sample the router list once a second during the flood.
    sample_routers: bool,
    /// Short name for the summary line.
    short: &'static str,
}

const FLOODS: [Flood; 3] = [
    Flood {
        tool: "atk6-flood_router26",
        args: &[],
        seconds: 15,
        sample_routers: true,
        short: "RA",
    },
    Flood {
        tool: "atk6-flood_solicitate6",
        args: &[G0],
        seconds: 10,
        sample_routers: false,
        short: "NS",
    },
    Flood {
        tool: "atk6-flood_advertise6",
        args: &[G0],
        seconds: 10,
        sample_routers: false,
        short: "NA",
    },
];

/// The fuzz_ip6 runs, in order, each given what is left of FUZZ_SECONDS
/// (alone they take 1 to 6 s).
const FUZZ_RUNS: [(&str, &[&str]); 5] = [
    ("RA", &["-x", "-4"]),
    ("NS", &["-x", "-2"]),
    ("NA", &["-x", "-3"]),
    ("echo+EHs", &["-I", "-F", "-S", "-D", "-H", "-J", "-1"]),
    ("MLDv2 query", &["-x", "-9"]),
];

#[test]
fn thc_ipv6_attacks() {
    if skip_unless_root("thc_ipv6_attacks") {
        return;
    }
    let figures = figures_path();
    let _ = std::fs::remove_file(&figures);
    let started = Instant::now();
    // One lab after the other, not side by side: while an RA flood runs
    // in one network namespace, radvd's sendmsg() in another fails with
    // EINVAL (seen here also with a bare veth pair as the flooded link),
    // and dos-new-ip6's device would see no RA.
    let dos = dos_new_ip6_at_boot();
    let floods = floods_and_fuzzing();
    let wall = started.elapsed();

    let mut text = String::from("THC-IPv6 attacks on linux-tap (boards/linux-tap/tests/thc.rs)\n");
    let _ = writeln!(
        text,
        "VmHWM growth allowed per attack: {VMHWM_GROWTH_KB} kB; wall time {:.1} s\n",
        wall.as_secs_f64()
    );
    for r in [&floods, &dos] {
        text += &r.figures;
        text.push('\n');
    }
    text += "checks:\n";
    for r in [&floods, &dos] {
        for (ok, what) in &r.checks {
            let _ = writeln!(text, "  {} {what}", if *ok { "PASS" } else { "FAIL" });
        }
    }
    let failures: Vec<&String> = [&floods, &dos]
        .iter()
        .flat_map(|r| r.checks.iter().filter(|(ok, _)| !ok).map(|(_, w)| w))
        .collect();
    let total = floods.checks.len() + dos.checks.len();
    let mut summary = floods.summary.clone();
    summary.extend(dos.summary.iter().cloned());
    let _ = writeln!(
        text,
        "summary: {}; {} of {total} checks failed",
        summary.join("; "),
        failures.len()
    );
    std::fs::create_dir_all(figures.parent().expect("a parent")).expect("create target/thc");
    std::fs::write(&figures, &text).expect("write the figures");
    // Straight to stderr: the test harness does not capture it.
    let _ = std::io::stderr().write_all(format!("\n{text}\n").as_bytes());

    let diagnostics: Vec<String> = [&floods, &dos]
        .iter()
        .filter_map(|r| r.diagnostics.as_ref().map(|p| p.display().to_string()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} checks failed:\n  {}\nfigures: {}\ndiagnostics: {}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        figures.display(),
        diagnostics.join(", ")
    );
}

/// `target/thc/thc-figures.txt` (under `$CARGO_TARGET_DIR` if set).
fn figures_path() -> PathBuf {
    ndp_tests::target_dir().join("thc").join("thc-figures.txt")
}

/// What one part measured and checked.
#[derive(Default)]
struct Report {
    /// Lines for the figures file.
    figures: String,
    /// (passed, what was checked and what was seen).
    checks: Vec<(bool, String)>,
    /// Short pieces of the summary line.
    summary: Vec<String>,
    /// The lab's diagnostics, written when a check failed.
    diagnostics: Option<PathBuf>,
}

impl Report {
    fn check(&mut self, ok: bool, what: String) {
        self.checks.push((ok, what));
    }

    fn figure(&mut self, line: String) {
        self.figures += &line;
        self.figures.push('\n');
    }

    fn failed(&self) -> bool {
        self.checks.iter().any(|(ok, _)| !ok)
    }

    /// Write the lab's diagnostics to a file if a check failed (they are
    /// long after a flood: every line linux-tap printed).
    fn keep_diagnostics(&mut self, lab: &Lab) {
        if self.failed() {
            let path = lab.dir.join("diagnostics.txt");
            let _ = std::fs::write(&path, lab.diagnostics());
            self.diagnostics = Some(path);
        }
    }
}

/// The floods and the fuzzing, each on a fresh device.
fn floods_and_fuzzing() -> Report {
    let mut report = Report::default();
    let mut lab = Lab::new("thc-floods", HostConfig::default());
    let attacker = lab.add_attacker();
    ns_run(
        &attacker,
        &[
            "ip",
            "-6",
            "addr",
            "add",
            ATTACKER_ADDR,
            "dev",
            ATTACKER_IFACE,
            "nodad",
        ],
    );
    lab.host_add_address(&format!("{HOST_ADDR}/64"));
    ns_run(
        &lab.router,
        &[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{FAR_ADDR}/128"),
            "dev",
            "lo",
        ],
    );
    lab.start_radvd(RADVD);
    let router_ll = lab.router_link_local();
    report.figure(format!(
        "floods (a fresh device for each; pings every {PING_INTERVAL} s to {G0}: \
         on-link from {HOST_ADDR}, off-link from {FAR_ADDR}; radvd's router {router_ll}):"
    ));
    for (i, flood) in FLOODS.iter().enumerate() {
        let tap = start_configured(&mut lab, &format!("linux-tap-{}", flood.short));
        if i == 0 {
            // The floods would fill the disk: the pcap ends here.
            lab.stop_capture();
        }
        run_flood(&lab, &attacker, &tap, flood, &router_ll, &mut report);
        stop_device(&tap, flood.tool, &mut report);
    }
    let tap = start_configured(&mut lab, "linux-tap-fuzz");
    run_fuzzing(&lab, &attacker, &tap, &mut report);
    stop_device(&tap, "atk6-fuzz_ip6", &mut report);
    report.keep_diagnostics(&lab);
    report
}

/// One flood with the pings (and router-list samples) beside it.
fn run_flood(
    lab: &Lab,
    attacker: &str,
    tap: &Proc,
    flood: &Flood,
    router_ll: &str,
    report: &mut Report,
) {
    let hwm_before = vmhwm_kb(tap);
    let drops_before = tap0_tx_dropped(lab);
    let stats_before = state_dump(tap).map(|st| st["stats"].clone());
    let mut argv = vec![flood.tool, ATTACKER_IFACE];
    argv.extend_from_slice(flood.args);
    let mut attack = Attack::start(lab, attacker, flood.tool, flood.seconds, &argv);
    std::thread::sleep(PING_LAG);
    // Both end within the flood: (seconds - 1) * 5 pings from PING_LAG on.
    let count = (flood.seconds - 1) * 5;
    let on_link = Ping::start(&lab.host, None, G0, count);
    let off_link = Ping::start(&lab.router, Some(FAR_ADDR), G0, count);

    let mut samples = 0;
    let mut with_router = 0;
    let mut missed: Vec<String> = Vec::new();
    if flood.sample_routers {
        let end = attack.started + Duration::from_secs(flood.seconds) - PING_LAG;
        let mut next = attack.started + Duration::from_secs(1);
        while next < end {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next += Duration::from_secs(1);
            samples += 1;
            let at = attack.started.elapsed().as_secs_f64();
            match state_dump(tap) {
                Some(st) => {
                    let routers = st["routers"].as_array().cloned().unwrap_or_default();
                    if routers.iter().any(|r| r["address"] == router_ll) {
                        with_router += 1;
                    } else {
                        let list: Vec<String> = routers
                            .iter()
                            .map(|r| r["address"].as_str().unwrap_or("?").to_owned())
                            .collect();
                        missed.push(format!("at {at:.1} s: [{}]", list.join(", ")));
                    }
                }
                None => missed.push(format!(
                    "at {at:.1} s: no state dump within {DUMP_TIMEOUT:?}"
                )),
            }
        }
    }
    let status = attack.wait();
    let on = on_link.wait();
    let off = off_link.wait();
    assert_eq!(
        status.code(),
        Some(124),
        "{} ended before its timeout ({status}); see {}",
        flood.tool,
        lab.dir.join(format!("{}.log", flood.tool)).display()
    );
    let alive = alive(tap);
    let hwm_after = vmhwm_kb(tap);
    let drops = tap0_tx_dropped(lab).saturating_sub(drops_before);
    let stats_after = state_dump(tap).map(|st| st["stats"].clone());
    let sent = attack.packets();

    let name = flood.tool;
    report.figure(format!(
        "  {name} {} ({} s, ~{sent} packets): ping on-link {on}, off-link {off}",
        flood.args.join(" "),
        flood.seconds,
    ));
    if flood.sample_routers {
        report.figure(format!(
            "    router list: radvd's router in {with_router} of {samples} samples (one a second){}",
            if missed.is_empty() {
                String::new()
            } else {
                format!("; missing {}", missed.join("; "))
            }
        ));
    }
    report.figure(format!(
        "    VmHWM {hwm_before} -> {hwm_after} kB ({}); frames the kernel dropped at tap0: {drops}",
        kb_delta(hwm_before, hwm_after)
    ));
    report.figure(format!(
        "    device counters: {}",
        counters(stats_before.as_ref(), stats_after.as_ref())
    ));

    report.check(
        alive.is_ok(),
        format!("{name}: linux-tap alive ({alive:?})"),
    );
    check_vmhwm(report, name, hwm_before, hwm_after);
    for (what, p) in [("on-link", &on), ("off-link", &off)] {
        report.check(p.ok(), format!("{name}: 0% loss pinging {G0} {what}: {p}"));
    }
    if flood.sample_routers {
        report.check(
            samples > 0 && with_router == samples,
            format!(
                "{name}: radvd's router {router_ll} in the router list in every sample: \
                 {with_router} of {samples}"
            ),
        );
    }
    let mut short = format!(
        "{} flood loss on/off-link {}/{}",
        flood.short,
        on.loss(),
        off.loss()
    );
    if flood.sample_routers {
        let _ = write!(short, ", router in {with_router}/{samples} samples");
    }
    report.summary.push(short);
}

/// The fuzz_ip6 runs, within FUZZ_SECONDS, with an on-link ping beside
/// them (measured, not required).
fn run_fuzzing(lab: &Lab, attacker: &str, tap: &Proc, report: &mut Report) {
    let name = "atk6-fuzz_ip6";
    let hwm_before = vmhwm_kb(tap);
    let start = Instant::now();
    let ping = Ping::start(&lab.host, None, G0, FUZZ_SECONDS * 5 - 5);
    let mut runs = Vec::new();
    for (what, opts) in FUZZ_RUNS {
        let left = Duration::from_secs(FUZZ_SECONDS).saturating_sub(start.elapsed());
        if left < Duration::from_secs(1) {
            runs.push(format!("{what}: not run (budget spent)"));
            continue;
        }
        let mut argv = vec![name];
        argv.extend_from_slice(opts);
        argv.extend_from_slice(&[ATTACKER_IFACE, G0]);
        let log = format!("{name}-{}", opts.join(""));
        let mut attack = Attack::start(lab, attacker, &log, left.as_secs(), &argv);
        let status = attack.wait();
        let took = attack.started.elapsed().as_secs_f64();
        // fuzz_ip6: 0 = done and the target answers ping afterwards,
        // 1 = it does not; 124 = timeout's, the budget ran out.
        let verdict = match status.code() {
            Some(0) => "target alive".to_owned(),
            Some(1) => "fuzz_ip6 says target down".to_owned(),
            Some(124) => "stopped by the budget".to_owned(),
            other => format!("exit {other:?}, see {}.log", log),
        };
        runs.push(format!(
            "{what} ({}): {} packets in {took:.1} s, {verdict}",
            opts.join(" "),
            attack.packets()
        ));
    }
    let ping = ping.wait();
    let alive = alive(tap);
    let hwm_after = vmhwm_kb(tap);
    report.figure(format!(
        "  {name} against {G0} ({:.1} s of {FUZZ_SECONDS}): ping on-link {ping} (not required)",
        start.elapsed().as_secs_f64()
    ));
    for r in &runs {
        report.figure(format!("    {r}"));
    }
    report.figure(format!(
        "    VmHWM {hwm_before} -> {hwm_after} kB ({})",
        kb_delta(hwm_before, hwm_after)
    ));
    report.check(
        alive.is_ok(),
        format!("{name}: linux-tap alive ({alive:?})"),
    );
    check_vmhwm(report, name, hwm_before, hwm_after);
    report.summary.push(format!(
        "fuzzing {}",
        if alive.is_ok() {
            "survived"
        } else {
            "KILLED it"
        }
    ));
}

/// dos-new-ip6 running as the device boots, then the time until it has
/// usable addresses again.
fn dos_new_ip6_at_boot() -> Report {
    let name = "atk6-dos-new-ip6";
    let mut report = Report::default();
    let mut lab = Lab::new("thc-dos-new-ip6", HostConfig::default());
    let attacker = lab.add_attacker();
    lab.start_radvd(RADVD_DOS);
    let mut attack = Attack::start(&lab, &attacker, name, DOS_SECONDS, &[name, ATTACKER_IFACE]);
    // It prints this once it captures (line-buffered, see Attack).
    poll_until(Duration::from_secs(5), || {
        attack.log().contains("Started").then_some(())
    })
    .unwrap_or_else(|| panic!("{name} did not start: {}", attack.log()));
    let tap = start_device(&mut lab, "linux-tap-dos");
    let hwm_before = vmhwm_kb(&tap);
    let booted = attack.started.elapsed().as_secs_f64();
    let status = attack.wait();
    let stopped = Instant::now();
    assert_eq!(
        status.code(),
        Some(124),
        "{name} ended before its timeout ({status}): {}",
        attack.log()
    );
    let alive_after_attack = alive(&tap);

    // Usable link-local and global addresses, from state dumps twice a
    // second.
    let usable = |st: &Value, prefix: &str| {
        st["addresses"].as_array().and_then(|a| {
            a.iter()
                .find(|a| {
                    a["address"].as_str().is_some_and(|s| s.starts_with(prefix))
                        && (a["state"] == "optimistic" || a["state"] == "preferred")
                })
                .and_then(|a| a["address"].as_str().map(str::to_owned))
        })
    };
    let mut ll: Option<(f64, String)> = None;
    let mut global: Option<(f64, String)> = None;
    let mut last = Value::Null;
    while stopped.elapsed() < RECOVERY && (ll.is_none() || global.is_none()) {
        if let Some(st) = state_dump(&tap) {
            let t = stopped.elapsed().as_secs_f64();
            if ll.is_none() {
                ll = usable(&st, "fe80:").map(|a| (t, a));
            }
            if global.is_none() {
                global = usable(&st, "2001:db8:1:").map(|a| (t, a));
            }
            last = st;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let alive = alive(&tap);
    let hwm_after = vmhwm_kb(&tap);

    let events = tap.json();
    let count = |pred: &dyn Fn(&Value) -> bool| events.iter().filter(|v| pred(v)).count();
    let duplicates = count(&|v| v["event"] == "address" && v["state"] == "duplicate");
    let failed: Vec<String> = events
        .iter()
        .filter(|v| v["event"] == "address_failed")
        .map(|v| format!("{} after {} attempts", v["prefix"], v["attempts"]))
        .collect();
    let disabled = count(&|v| v["event"] == "interface_disabled");
    let spoofed = attack.log().matches("Spoofed packet").count();
    let time = |a: &Option<(f64, String)>| match a {
        Some((t, addr)) => format!("{addr} at {t:.1} s"),
        None => format!("none within {} s", RECOVERY.as_secs()),
    };
    report.figure(format!(
        "{name} {ATTACKER_IFACE} ({DOS_SECONDS} s; the device started {booted:.2} s in): \
         {spoofed} spoofed NAs; the device saw {duplicates} addresses duplicate, \
         address_failed: [{}], interface_disabled: {disabled}",
        failed.join(", ")
    ));
    report.figure(format!(
        "  after it stopped: usable link-local {}, usable global {}",
        time(&ll),
        time(&global)
    ));
    if ll.is_none() || global.is_none() {
        let addrs: Vec<String> = last["addresses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| format!("{} {}", a["address"], a["state"]))
                    .collect()
            })
            .unwrap_or_default();
        report.figure(format!(
            "  addresses {} s after: [{}]",
            RECOVERY.as_secs(),
            addrs.join(", ")
        ));
    }
    report.figure(format!(
        "  VmHWM {hwm_before} -> {hwm_after} kB ({})",
        kb_delta(hwm_before, hwm_after)
    ));

    report.check(
        alive_after_attack.is_ok() && alive.is_ok(),
        format!("{name}: linux-tap alive ({alive_after_attack:?}, {alive:?} after {RECOVERY:?})"),
    );
    check_vmhwm(&mut report, name, hwm_before, hwm_after);
    report.check(
        ll.is_some(),
        format!(
            "{name}: a usable link-local address within {} s after the attack: {}",
            RECOVERY.as_secs(),
            time(&ll)
        ),
    );
    report.check(
        global.is_some(),
        format!(
            "{name}: a usable global address within {} s after the attack: {}",
            RECOVERY.as_secs(),
            time(&global)
        ),
    );
    report.summary.push(match (&ll, &global) {
        (Some((a, _)), Some((b, _))) => {
            format!("dos-new-ip6: addresses back in {:.1} s", a.max(*b))
        }
        _ => format!(
            "dos-new-ip6: NO usable {} within {} s",
            match (&ll, &global) {
                (None, None) => "link-local or global",
                (None, _) => "link-local",
                _ => "global",
            },
            RECOVERY.as_secs()
        ),
    });
    stop_device(&tap, name, &mut report);
    report.keep_diagnostics(&lab);
    report
}

fn start_device(lab: &mut Lab, name: &str) -> Arc<Proc> {
    let p = lab.spawn_json(
        name,
        Path::new(BIN),
        &[
            "--iface", "tap0", "--mac", MAC, "--secret", SECRET, "--seed", "11",
        ],
    );
    p.wait_for("started line", Duration::from_secs(10), |v| {
        v["event"] == "started"
    });
    p
}

/// A device with preferred addresses that both pinging places reach.
fn start_configured(lab: &mut Lab, name: &str) -> Arc<Proc> {
    let p = start_device(lab, name);
    for addr in [LL, G0] {
        p.wait_for(&format!("preferred {addr}"), Duration::from_secs(20), |v| {
            v["event"] == "address" && v["address"] == addr && v["state"] == "preferred"
        });
    }
    // Neighbor caches on both sides filled before the attack, so no ping
    // is lost to address resolution.
    for (ns, from) in [(&lab.host, None), (&lab.router, Some(FAR_ADDR))] {
        poll_until(Duration::from_secs(10), || {
            Ping::start(ns, from, G0, 1).wait().ok().then_some(())
        })
        .unwrap_or_else(|| panic!("{name}: {G0} does not answer ping from {ns} ({from:?})"));
    }
    p
}

/// SIGTERM; the device must exit 0.
fn stop_device(tap: &Proc, after: &str, report: &mut Report) {
    let code = tap.stop().and_then(|s| s.code());
    report.check(
        code == Some(0),
        format!("{after}: linux-tap exits 0 on SIGTERM afterwards (exit code {code:?})"),
    );
}

/// SIGUSR1 and the state line it brings, or None after DUMP_TIMEOUT.
fn state_dump(tap: &Proc) -> Option<Value> {
    let seen = tap.line_count();
    tap.signal("USR1");
    let mut from = seen;
    poll_until(DUMP_TIMEOUT, || {
        let new = tap.lines_after(from);
        from += new.len();
        new.iter()
            // Cheap before parsing: a flood brings thousands of lines.
            .filter(|(_, l)| l.contains("\"event\":\"state\""))
            .filter_map(|(_, l)| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "state")
    })
}

/// Running (not exited) and answering SIGUSR1.
fn alive(tap: &Proc) -> Result<(), String> {
    if let Some(status) = tap.exit_status() {
        return Err(format!("exited: {status}"));
    }
    match state_dump(tap) {
        Some(_) => Ok(()),
        None => Err(format!("no state dump within {DUMP_TIMEOUT:?}")),
    }
}

/// VmHWM of the process, in kB.
fn vmhwm_kb(tap: &Proc) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", tap.pid()))
        .unwrap_or_else(|e| panic!("{}: /proc status: {e}", tap.name));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{}: no VmHWM in\n{status}", tap.name))
}

/// `+N` or `-N`: VmHWM can read lower later, as the kernel's RSS counters
/// are per-CPU and read approximately (Linux 6.2 and later).
fn kb_delta(before: u64, after: u64) -> String {
    if after >= before {
        format!("+{}", after - before)
    } else {
        format!("-{}", before - after)
    }
}

fn check_vmhwm(report: &mut Report, name: &str, before: u64, after: u64) {
    let growth = after.saturating_sub(before);
    report.check(
        growth <= VMHWM_GROWTH_KB,
        format!("{name}: VmHWM grew {growth} kB ({before} -> {after}), at most {VMHWM_GROWTH_KB}"),
    );
}

/// Frames the kernel dropped on their way into tap0 (the device did not
/// read them fast enough): tap0's TX drops, as the bridge sends them.
fn tap0_tx_dropped(lab: &Lab) -> u64 {
    let out = ns_run(&lab.router, &["ip", "-s", "-j", "link", "show", "tap0"]);
    serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| v[0]["stats64"]["tx"]["dropped"].as_u64())
        .unwrap_or(0)
}

/// The device counters that moved, for the figures: frames received
/// (rx_ip: the echo requests that reached the device, whose replies are
/// tx_ip) and the defences (evictions, refusals, drops, rate limits).
fn counters(before: Option<&Value>, after: Option<&Value>) -> String {
    let (Some(before), Some(Value::Object(after))) = (before, after) else {
        return "no state dump".into();
    };
    let keep = |k: &str| {
        ["adapter.rx_frames", "adapter.rx_ip", "adapter.tx_ip"].contains(&k)
            || [
                "evicted",
                "refused",
                "dropped",
                "rate_limited",
                "gave_up",
                "conflicts",
            ]
            .iter()
            .any(|w| k.contains(w))
    };
    let moved: Vec<String> = after
        .iter()
        .filter(|(k, _)| keep(k))
        .filter_map(|(k, v)| {
            let d = v.as_u64()?.saturating_sub(before[k].as_u64().unwrap_or(0));
            (d > 0).then(|| format!("{k} +{d}"))
        })
        .collect();
    moved.join(", ")
}

/// An atk6 tool running in the attacker namespace under `timeout -s INT
/// SECONDS` (so it stops by itself even if the test dies), `nice -n 19`
/// (on a real LAN the attacker has a machine of its own: here it shares
/// two cores with the device, and what is measured is the engine, not
/// who wins the CPU), and `stdbuf -oL`
/// (its output reaches the log as it comes, and a fork does not duplicate
/// unwritten output), logging to `<lab dir>/<name>.log`. Dropped while
/// running, it is stopped (SIGTERM to timeout, which passes it on).
struct Attack {
    child: Child,
    status: Option<ExitStatus>,
    log: PathBuf,
    started: Instant,
    seconds: u64,
}

impl Attack {
    fn start(lab: &Lab, ns: &str, name: &str, seconds: u64, argv: &[&str]) -> Attack {
        let log = lab.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("attack log");
        let err = file.try_clone().expect("attack log");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "timeout", "-s", "INT"])
            .arg(seconds.to_string())
            .args(["nice", "-n", "19", "stdbuf", "-oL"])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", argv.join(" ")));
        Attack {
            child,
            status: None,
            log,
            started: Instant::now(),
            seconds,
        }
    }

    /// Wait for it to end: timeout's status, 124 when the tool ran its
    /// full time.
    fn wait(&mut self) -> ExitStatus {
        let limit = Duration::from_secs(self.seconds + 10);
        let left = limit.saturating_sub(self.started.elapsed());
        let status = poll_until(left, || self.child.try_wait().ok().flatten())
            .unwrap_or_else(|| panic!("`timeout {}` did not stop its tool", self.seconds));
        self.status = Some(status);
        status
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Packets sent, from the tool's dots (fuzz_ip6 prints one per packet,
    /// the floods one per 1000).
    fn packets(&self) -> u64 {
        let log = self.log();
        let dots: usize = log
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.bytes().all(|b| b == b'.'))
            .map(str::len)
            .sum();
        if log.contains("every 1000 packets") {
            dots as u64 * 1000
        } else {
            dots as u64
        }
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        if self.status.is_none() && self.child.try_wait().ok().flatten().is_none() {
            let _ = try_run(&["kill", "-s", "TERM", &self.child.id().to_string()]);
            if poll_until(Duration::from_secs(3), || {
                self.child.try_wait().ok().flatten()
            })
            .is_none()
            {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// `ping -c COUNT -i PING_INTERVAL` from namespace `ns`, in the
/// background. It ends by itself: COUNT packets, then at most 2 s for the
/// last reply.
struct Ping(Child);

impl Ping {
    fn start(ns: &str, from: Option<&str>, dst: &str, count: u64) -> Ping {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "ping", "-6", "-n", "-i", PING_INTERVAL])
            .args(["-W", "2", "-c"])
            .arg(count.to_string());
        if let Some(src) = from {
            cmd.args(["-I", src]);
        }
        let child = cmd
            .arg(dst)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ping");
        Ping(child)
    }

    fn wait(self) -> PingResult {
        let out = self.0.wait_with_output().expect("wait for ping");
        let text = String::from_utf8_lossy(&out.stdout);
        // "45 packets transmitted, 30 received, +12 errors, 33.3% packet loss"
        let summary = text.lines().find(|l| l.contains("packets transmitted"));
        let field = |i: usize| {
            summary
                .and_then(|l| l.split(", ").nth(i))
                .and_then(|f| f.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let sent: u64 = field(0);
        let answered: Vec<u64> = text
            .lines()
            .filter(|l| l.contains(" bytes from "))
            .filter_map(|l| l.split("icmp_seq=").nth(1)?.split(' ').next()?.parse().ok())
            .collect();
        PingResult {
            sent,
            received: field(1),
            lost_seqs: (1..=sent).filter(|s| !answered.contains(s)).collect(),
            error: summary.is_none().then(|| {
                format!(
                    "{} {}",
                    text.trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            }),
        }
    }
}

struct PingResult {
    sent: u64,
    received: u64,
    /// icmp_seq of the requests not answered (ping counts from 1).
    lost_seqs: Vec<u64>,
    /// Ping's output when it printed no statistics.
    error: Option<String>,
}

impl PingResult {
    /// Sent at least one, and every one answered.
    fn ok(&self) -> bool {
        self.sent > 0 && self.received == self.sent
    }

    fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }

    fn loss(&self) -> String {
        if self.sent == 0 {
            return "n/a".into();
        }
        format!("{:.0}%", 100.0 * self.lost() as f64 / self.sent as f64)
    }
}

impl std::fmt::Display for PingResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Some(e) => write!(f, "failed: {e}"),
            None => {
                write!(
                    f,
                    "{}/{} answered ({} loss",
                    self.received,
                    self.sent,
                    self.loss()
                )?;
                if !self.lost_seqs.is_empty() {
                    write!(f, ", icmp_seq {:?} lost", self.lost_seqs)?;
                }
                write!(f, ")")
            }
        }
    }
}
