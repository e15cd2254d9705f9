//! `cargo xtask bench`: flash, RAM, CPU and boot-time figures side by
//! side, written to `target/bench/report.md`, `report.json` and
//! `boot-times.svg`.
//!
//! Deterministic figures (flash, RAM, instruction counts, simulated boot
//! percentiles) are the same run to run; wall times are not.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::packages;
use crate::runner::Ctx;
use crate::size::{self, Sizes};

/// Steps per callgrind workload.
const ITERATIONS: u64 = 1000;
/// Simulated single-host boots per variant.
const BOOTS: u64 = 1000;

/// One callgrind workload: name, what it measures.
const WORKLOADS: &[(&str, &str)] = &[
    ("ns-na-8", "receive NS → NA ready, 8 neighbor entries"),
    ("ns-na-64", "receive NS → NA ready, 64 neighbor entries"),
    ("ns-na-512", "receive NS → NA ready, 512 neighbor entries"),
    ("na-8", "receive a solicited NA for a REACHABLE neighbor"),
    (
        "ra-8",
        "receive radvd's 254-byte RA (capture), take its events",
    ),
    ("route-8", "route() to a cached neighbor, 8 entries"),
    ("route-64", "route() to a cached neighbor, 64 entries"),
    ("route-512", "route() to a cached neighbor, 512 entries"),
    (
        "proxy-ns-na-8",
        "receive NS for a proxied target → the proxy's NA ready, 8 neighbor entries",
    ),
    (
        "adapter-ns-na",
        "NS frame → NA frame through ndp-smoltcp + smoltcp",
    ),
    (
        "smoltcp-ns-na",
        "the same NS frame → NA frame, plain smoltcp 0.14 (its own ND)",
    ),
    (
        "adapter-echo4",
        "ICMPv4 echo request frame → reply frame through ndp-smoltcp + smoltcp",
    ),
    ("smoltcp-echo4", "the same ICMPv4 echo, plain smoltcp 0.14"),
];

pub fn run(ctx: &Ctx) -> Result<()> {
    let out = crate::target_dir(ctx).join("bench");
    std::fs::create_dir_all(&out)?;
    crate::test_steps::ensure_thumb_targets(ctx)?;
    packages::ensure(ctx, &[("valgrind", "valgrind")])?;

    eprintln!("\n==> flash and RAM (size probe)");
    let sizes = size::measure(ctx)?;
    let (_, goals) = size::read_budgets(ctx)?;

    eprintln!("\n==> the demo firmware on ndp and on smoltcp's own ND");
    let vs = firmware_vs_smoltcp_nd(ctx)?;

    eprintln!("\n==> CPU (callgrind)");
    ctx.run(
        ctx.sh
            .cmd("cargo")
            .args(["build", "--release", "-p", "ndp-bench"]),
    )?;
    let bin = crate::target_dir(ctx).join("release/ndp-bench");
    let mut cpu = Vec::new();
    for (name, what) in WORKLOADS {
        let n = instructions(ctx, &bin, name, &out)?;
        eprintln!("{name:>16}: {n} instructions per operation");
        cpu.push((*name, *what, n));
    }

    eprintln!("\n==> time to a usable global address ({BOOTS} simulated boots each)");
    let boots_opt = run_json(ctx, &bin, &["slaac", &BOOTS.to_string()])?;
    let boots_plain = run_json(ctx, &bin, &["slaac", &BOOTS.to_string(), "--no-optimistic"])?;
    eprintln!("\n==> 1,000 hosts booting at once");
    let thousand = run_json(ctx, &bin, &["thousand-hosts"])?;
    let interop = linux_tap_times(ctx);
    let firmware = firmware_times(ctx);

    let svg = boot_svg(&boots_opt, &boots_plain);
    std::fs::write(out.join("boot-times.svg"), svg)?;
    let report = json!({
        "target": size::TARGET,
        "flash": {
            "baseline_firmware": sizes.baseline.flash(),
            "with_engine": sizes.engine.flash(),
            "with_engine_and_hash": sizes.hash.flash(),
            "ndp_core_no_hash": sizes.flash_no_hash(),
            "ndp_core_with_hash": sizes.flash_with_hash(),
            "probe_difference_no_hash": sizes.probe_difference_no_hash(),
            "probe_difference_with_hash": sizes.probe_difference_with_hash(),
            "emit_feature": sizes.emit_cost(),
            "lwip_nd6_mld6_reference": size::LWIP_FLASH,
            "text_by_module": sizes
                .engine
                .modules
                .iter()
                .map(|(m, b)| (m.to_string(), json!(b)))
                .collect::<serde_json::Map<_, _>>(),
        },
        "ram": {
            "stack_default": sizes.stack,
            "queue_payload": sizes.queue_payload,
            "stack_without_payload": sizes.ram(),
            "per_neighbor": sizes.per_neighbor,
            "per_queue_slot": sizes.per_queue_slot,
            "per_entry": sizes.per_entry.iter().map(|(n, b, c)| json!({"kind": n, "bytes": b, "entries": c})).collect::<Vec<_>>(),
            "parts": sizes.parts.iter().map(|(n, b)| json!({"part": n, "bytes": b})).collect::<Vec<_>>(),
            "lwip_nd6_bss_reference": size::LWIP_RAM,
        },
        "cpu_instructions_per_op": cpu.iter().map(|(n, _, c)| (n.to_string(), json!(c))).collect::<serde_json::Map<_, _>>(),
        "boot_optimistic": strip_sorted(&boots_opt),
        "boot_no_optimistic": strip_sorted(&boots_plain),
        "thousand_hosts": thousand,
        "linux_tap_interop": interop.clone().map_or(Value::Null, Value::String),
        "firmware_boot_virtual": firmware.clone().map_or(Value::Null, Value::String),
        "firmware_ndp_vs_smoltcp_nd": vs.json(),
        "budgets": {
            "flash_no_hash": {"measured": sizes.flash_no_hash(), "goal": goals.flash_no_hash, "before_issue_13": before_issue_13::FLASH_NO_HASH},
            "flash_with_hash": {"measured": sizes.flash_with_hash(), "goal": goals.flash_with_hash, "before_issue_13": before_issue_13::FLASH_WITH_HASH},
            "flash_lean": {"measured": sizes.flash_lean(), "goal": goals.flash_lean, "before_issue_13": before_issue_13::FLASH_LEAN},
            "ram": {"measured": sizes.ram(), "goal": goals.ram, "before_issue_13": before_issue_13::RAM},
        },
    });
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let md = markdown(
        (&sizes, &goals, &vs),
        &cpu,
        &boots_opt,
        &boots_plain,
        &thousand,
        (interop.as_deref(), firmware.as_deref()),
    );
    std::fs::write(out.join("report.md"), &md)?;
    println!("{md}");
    eprintln!(
        "wrote {}, report.json and boot-times.svg",
        out.join("report.md").display()
    );
    Ok(())
}

/// Instructions per step of workload `name`: callgrind counts only inside
/// `ndp_bench::cpu::measure`, which runs one step.
fn instructions(ctx: &Ctx, bin: &Path, name: &str, out: &Path) -> Result<u64> {
    let file = out.join(format!("callgrind.{name}"));
    let cmd = ctx
        .sh
        .cmd("valgrind")
        .args(["--tool=callgrind", "--collect-atstart=no"])
        .arg("--toggle-collect=ndp_bench::cpu::measure")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(bin)
        .args(["cpu", name, &ITERATIONS.to_string()])
        .ignore_stderr();
    ctx.run(cmd)?;
    let text = std::fs::read_to_string(&file)?;
    let total: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no summary in {}", file.display()))?;
    if total == 0 {
        bail!("callgrind counted nothing for {name}: is ndp_bench::cpu::measure inlined?");
    }
    Ok(total / ITERATIONS)
}

fn run_json(ctx: &Ctx, bin: &Path, args: &[&str]) -> Result<Value> {
    let cmd = ctx.sh.cmd(bin).args(args);
    ctx.echo(&cmd);
    let text = cmd.quiet().read()?;
    serde_json::from_str(&text).with_context(|| format!("ndp-bench {args:?} printed {text}"))
}

fn strip_sorted(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("sorted_ms");
    }
    v
}

/// The firmware's boot times under slirp in virtual time, when a run of
/// the firmware tests left them (tests/tests/firmware.rs).
fn firmware_times(ctx: &Ctx) -> Option<String> {
    let path = crate::target_dir(ctx).join("firmware/boot-times.txt");
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
}

/// The interop benchmark's figures, when an interop run left them.
fn linux_tap_times(ctx: &Ctx) -> Option<String> {
    let path = crate::target_dir(ctx).join("interop/time-to-address/time-to-address.txt");
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
}

/// A cumulative plot of the boot times with and without optimistic DAD.
fn boot_svg(opt: &Value, plain: &Value) -> String {
    let series = |v: &Value| -> Vec<u64> {
        v["sorted_ms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    let (a, b) = (series(opt), series(plain));
    let max = a.iter().chain(&b).copied().max().unwrap_or(1).max(1) as f64;
    let (w, h, pad) = (640.0, 360.0, 50.0);
    let x = |ms: u64| pad + (ms as f64 / max) * (w - 2.0 * pad);
    let y = |frac: f64| h - pad - frac * (h - 2.0 * pad);
    let path = |s: &[u64]| {
        let n = s.len().max(1) as f64;
        s.iter()
            .enumerate()
            .map(|(i, ms)| format!("{:.1},{:.1}", x(*ms), y((i + 1) as f64 / n)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{pad}" y="20">Time from boot to a usable global address, {n} simulated boots each</text>
<line x1="{pad}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{yb}" stroke="black"/>
<text x="{xr}" y="{yl}" text-anchor="end">{max:.0} ms</text>
<text x="{pad}" y="{yl}">0</text>
<text x="10" y="{pad}">100%</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{pa}"/>
<polyline fill="none" stroke="#d62728" stroke-width="2" points="{pb}"/>
<text x="{lx}" y="{ly1}" fill="#1f77b4">optimistic DAD (p50 {p50a} ms, p99 {p99a} ms)</text>
<text x="{lx}" y="{ly2}" fill="#d62728">without (p50 {p50b} ms, p99 {p99b} ms)</text>
</svg>
"##,
        n = a.len(),
        yb = h - pad,
        xr = w - pad,
        yl = h - pad + 16.0,
        pa = path(&a),
        pb = path(&b),
        lx = pad + 20.0,
        ly1 = pad + 20.0,
        ly2 = pad + 40.0,
        p50a = opt["p50_ms"],
        p99a = opt["p99_ms"],
        p50b = plain["p50_ms"],
        p99b = plain["p99_ms"],
    );
    svg
}

/// The figures before issue 13 (the footprint work) changed the engine:
/// measured at commit 4917454 with that commit's own `cargo xtask size`
/// (which already measured the engine alone, as today) and the same
/// callgrind workloads, on this project's build machine. The report's
/// "before" column; constants, because building an old commit is no
/// part of a benchmark run.
mod before_issue_13 {
    pub const COMMIT: &str = "4917454";
    pub const FLASH_NO_HASH: u64 = 49_018;
    pub const FLASH_WITH_HASH: u64 = 50_696;
    /// No lean build existed: every optional part was built in.
    pub const FLASH_LEAN: u64 = 49_018;
    pub const RAM: u64 = 3_904;
    pub const NS_NA_8: u64 = 1_485;
    pub const ADAPTER_NS_NA: u64 = 2_126;
    pub const NS_NA_512: u64 = 1_470;
    pub const ROUTE_8: u64 = 218;
    pub const ROUTE_512: u64 = 199;
    /// `.text` by module of the engine build, as `cargo xtask size`
    /// attributed it at that commit.
    pub const MODULES: &[(&str, u64)] = &[
        ("core (inlined into the engine)", 17_974),
        ("wire", 8_012),
        ("compiler-builtins (mem*, u64 division)", 3_846),
        ("stack rx", 3_406),
        ("stack addr", 3_210),
        ("stack tx", 2_694),
        ("heapless", 2_334),
        ("router", 1_834),
        ("the probe itself", 1_824),
        ("neighbor", 1_782),
        ("stats", 1_070),
        ("stack (other)", 1_012),
        ("stack route", 1_004),
        ("addr", 900),
        ("mld", 606),
        ("time", 378),
        ("rng", 246),
        ("stack app", 112),
        ("no line info", 50),
        ("config", 38),
        ("cortex-m-rt", 18),
        ("ndp-core (other)", 6),
    ];
}

fn met(measured: u64, goal: u64) -> String {
    if measured <= goal {
        format!("met ({} under)", goal - measured)
    } else {
        format!(
            "**not met**: {} over ({:.1}×)",
            measured - goal,
            measured as f64 / goal as f64
        )
    }
}

fn markdown(
    (s, goals, vs): (&Sizes, &size::Budget, &VsSmoltcpNd),
    cpu: &[(&str, &str, u64)],
    opt: &Value,
    plain: &Value,
    thousand: &Value,
    (interop, firmware): (Option<&str>, Option<&str>),
) -> String {
    let c = |name: &str| cpu.iter().find(|x| x.0 == name).map_or(0, |x| x.2);
    let mut m = String::new();
    let _ = writeln!(m, "# ndp benchmark report\n");
    let _ = writeln!(
        m,
        "Written by `cargo xtask bench`. Flash, RAM, instruction counts and simulated boot \
         percentiles are deterministic and reproduce run to run; wall times do not.\n"
    );
    let _ = writeln!(m, "## Budgets\n");
    let _ = writeln!(
        m,
        "The \"before\" column is the figure at commit {}, before issue 13's footprint work, \
         measured with the same tools.\n",
        before_issue_13::COMMIT
    );
    let _ = writeln!(
        m,
        "| figure | before | measured | goal | status |\n|---|---:|---:|---:|---|"
    );
    let _ = writeln!(
        m,
        "| flash, ndp-core without the stable-IID hash | {} B | {} B | {} B | {} |",
        before_issue_13::FLASH_NO_HASH,
        s.flash_no_hash(),
        goals.flash_no_hash,
        met(s.flash_no_hash(), goals.flash_no_hash)
    );
    let _ = writeln!(
        m,
        "| flash, ndp-core with the hash | {} B | {} B | {} B | {} |",
        before_issue_13::FLASH_WITH_HASH,
        s.flash_with_hash(),
        goals.flash_with_hash,
        met(s.flash_with_hash(), goals.flash_with_hash)
    );
    let _ = writeln!(
        m,
        "| flash, the lean build (without {}) | {} B (none: all built in) | {} B | {} B | {} |",
        size::LEAN_LEAVES_OUT,
        before_issue_13::FLASH_LEAN,
        s.flash_lean(),
        goals.flash_lean,
        met(s.flash_lean(), goals.flash_lean)
    );
    let _ = writeln!(
        m,
        "| Stack RAM at default capacities, without queued payloads | {} B | {} B | {} B | {} |",
        before_issue_13::RAM,
        s.ram(),
        goals.ram,
        met(s.ram(), goals.ram)
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions vs smoltcp's own ND (engine alone) | {} | {} | ≤ {} | {} |",
        before_issue_13::NS_NA_8,
        c("ns-na-8"),
        c("smoltcp-ns-na"),
        met(c("ns-na-8"), c("smoltcp-ns-na"))
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions vs smoltcp, frame to frame through ndp-smoltcp | {} | {} | ≤ {} | {} |",
        before_issue_13::ADAPTER_NS_NA,
        c("adapter-ns-na"),
        c("smoltcp-ns-na"),
        met(c("adapter-ns-na"), c("smoltcp-ns-na"))
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions through ndp-smoltcp vs issue 12's figure before the dual stack | {} | {} | ≤ 2174 | {} |",
        before_issue_13::ADAPTER_NS_NA,
        c("adapter-ns-na"),
        met(c("adapter-ns-na"), 2174)
    );
    let _ = writeln!(
        m,
        "| ICMPv4 echo instructions through ndp-smoltcp (IPv4 beside the engine) vs plain smoltcp | | {} | {} | (no goal: what the dual stack costs IPv4) |",
        c("adapter-echo4"),
        c("smoltcp-echo4"),
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions as an ND proxy (issue 16) vs an ordinary NS → NA | | {} | ≤ {} | {} |",
        c("proxy-ns-na-8"),
        c("ns-na-8"),
        met(c("proxy-ns-na-8"), c("ns-na-8"))
    );
    let ratio = |a: &str, b: &str| c(a) as f64 / c(b).max(1) as f64;
    let _ = writeln!(
        m,
        "| cost per packet at 512 neighbors / at 8 (NS → NA; route) | {:.2}; {:.2} | {:.2}; {:.2} | ≤ 2 | {} |\n",
        before_issue_13::NS_NA_512 as f64 / before_issue_13::NS_NA_8 as f64,
        before_issue_13::ROUTE_512 as f64 / before_issue_13::ROUTE_8 as f64,
        ratio("ns-na-512", "ns-na-8"),
        ratio("route-512", "route-8"),
        if ratio("ns-na-512", "ns-na-8") <= 2.0 && ratio("route-512", "route-8") <= 2.0 {
            "met"
        } else {
            "**not met**"
        }
    );

    let _ = writeln!(m, "## Flash\n");
    let _ = writeln!(
        m,
        "`.text` + `.rodata` of `xtask/size-probe`, a firmware that calls the whole public API \
         with inputs hidden from the optimizer, built for `{}` with opt-level \"z\", fat LTO, \
         panic=abort, one codegen unit and the compact SHA-256 \
         (`--cfg sha2_backend_soft=\"compact\"`), minus the same firmware without the engine, \
         minus what the engine build adds that is not the engine: the probe's own calling code \
         ({} B, through the line tables) and the compiler's mem* routines ({} B, from the \
         symbol table), which a firmware shares with its application (`cargo xtask size`). The \
         whole difference to the probe, the measure before issue 13: {} B without the hash, \
         {} B with it.\n",
        size::TARGET,
        s.engine
            .probe_code()
            .saturating_sub(s.baseline.probe_code()),
        s.engine
            .mem_routines
            .saturating_sub(s.baseline.mem_routines),
        s.probe_difference_no_hash(),
        s.probe_difference_with_hash()
    );
    let _ = writeln!(
        m,
        "| build | features | .text | .rodata | total |\n|---|---|---:|---:|---:|"
    );
    for b in [&s.baseline, &s.engine, &s.hash, &s.lean, &s.emit] {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} |",
            b.name,
            b.features.unwrap_or("(none)"),
            b.text,
            b.rodata,
            b.flash()
        );
    }
    let _ = writeln!(
        m,
        "\nndp-core: **{} B** without the hash, **{} B** with it (the hash costs {} B). \
         Not counted: the feature `emit`, the encoder for the messages and options only \
         routers send (for host tools and tests; the engine encodes what a host sends by \
         itself), adds {} B. \
         Reference: lwIP's nd6.c + mld6.c, {} B of text at -Os for Cortex-M4 (GCC 12.2).\n",
        s.flash_no_hash(),
        s.flash_with_hash(),
        s.flash_with_hash().saturating_sub(s.flash_no_hash()),
        s.emit_cost(),
        size::LWIP_FLASH
    );
    let _ = writeln!(
        m,
        "### `.text` of the engine build by module\n\nAttributed through the DWARF line \
         tables (LTO merges the symbols): each address counts for the source file it was \
         written in, so `core`'s iterator and slice code inlined into the engine counts as \
         `core`, and the compiler's mem* and division routines apart. A regression shows \
         where it happened. \"Before\" is at commit {}, before issue 13.\n\n\
         | module | before | bytes |\n|---|---:|---:|",
        before_issue_13::COMMIT
    );
    for (module, bytes) in &s.engine.modules {
        let before = before_issue_13::MODULES
            .iter()
            .find(|(name, _)| name == module)
            .map_or(String::new(), |(_, b)| b.to_string());
        let _ = writeln!(m, "| {module} | {before} | {bytes} |");
    }
    let _ = writeln!(m);

    let _ = writeln!(m, "## RAM\n");
    let _ = writeln!(
        m,
        "`size_of` computed for `{}` by the size probe. `Stack` at default capacities (8 \
         neighbors, 4 queue slots, 3072 queue bytes): **{} B**, of which {} B are the queued \
         packet payload buffer; **{} B** without it. Reference: lwIP's nd6 tables, {} B of bss at \
         its defaults.\n",
        size::TARGET,
        s.stack,
        s.queue_payload,
        s.ram(),
        size::LWIP_RAM
    );
    let _ = writeln!(
        m,
        "Per entry: neighbor {} B (`Stack<9,..>` − `Stack<8,..>`), queued-packet slot {} B \
         plus its payload.\n",
        s.per_neighbor, s.per_queue_slot
    );
    let _ = writeln!(m, "| table | bytes per entry | entries |\n|---|---:|---:|");
    for (n, b, e) in &s.per_entry {
        let _ = writeln!(m, "| {n} | {b} | {e} |");
    }
    let _ = writeln!(
        m,
        "\nWhere the Stack's bytes go:\n\n| part | bytes |\n|---|---:|"
    );
    let mut parts = s.parts.clone();
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    for (n, b) in &parts {
        let _ = writeln!(m, "| {n} | {b} |");
    }
    let sum: u64 = parts.iter().map(|p| p.1).sum();
    let _ = writeln!(m, "| (padding) | {} |\n", s.stack.saturating_sub(sum));

    vs.markdown(&mut m);

    let _ = writeln!(m, "## CPU\n");
    let _ = writeln!(
        m,
        "Instructions per operation, counted by valgrind's callgrind on x86_64 (release \
         build of `bench/`, {ITERATIONS} steps after one warm-up, only inside \
         `ndp_bench::cpu::measure`).\n"
    );
    let _ = writeln!(m, "| workload | instructions |\n|---|---:|");
    for (name, what, n) in cpu {
        let _ = writeln!(m, "| {what} (`{name}`) | {n} |");
    }

    let _ = writeln!(m, "\n## Time to a usable global address\n");
    let _ = writeln!(
        m,
        "{BOOTS} seeded boots of one engine in the simulator, against a router that answers a \
         Router Solicitation at once and sends nothing unsolicited; time from power-on to the \
         first optimistic or preferred global address. ![boot times](boot-times.svg)\n"
    );
    let _ = writeln!(m, "| variant | p50 | p99 | max |\n|---|---:|---:|---:|");
    for (name, v) in [("optimistic DAD", opt), ("without optimistic DAD", plain)] {
        let _ = writeln!(
            m,
            "| {name} | {} ms | {} ms | {} ms |",
            v["p50_ms"], v["p99_ms"], v["max_ms"]
        );
    }
    match firmware {
        Some(t) => {
            let _ = writeln!(
                m,
                "\nThe mps2-an386 firmware under QEMU and slirp, boot to a usable global \
                 address in deterministic virtual time (the last `cargo xtask test`):\n\n```\n{t}\n```\n"
            );
        }
        None => {
            let _ = writeln!(
                m,
                "\nFirmware boot times: no figures yet (run `cargo xtask test`)."
            );
        }
    }
    match interop {
        Some(t) => {
            let _ = writeln!(
                m,
                "\nEnd to end on a real link (the last interop run, `cargo xtask test` as root):\n\n```\n{t}\n```\n"
            );
        }
        None => {
            let _ = writeln!(
                m,
                "\nEnd to end with linux-tap: no figures yet (run `cargo xtask test` as root)."
            );
        }
    }
    let _ = writeln!(m);

    let _ = writeln!(m, "## 1,000 hosts booting at once\n");
    let _ = writeln!(
        m,
        "{} engines and one router on a lossless simulated link, {} s simulated: {:.2} s wall, \
         {} simulator events ({:.0} per second), {} frames, {} deliveries; {} of them ended \
         with a preferred global address, {} DAD conflicts.\n",
        thousand["hosts"],
        thousand["simulated_s"],
        thousand["wall_s"].as_f64().unwrap_or(0.0),
        thousand["events"],
        thousand["events_per_s"].as_f64().unwrap_or(0.0),
        thousand["frames"],
        thousand["deliveries"],
        thousand["hosts_with_preferred_global"],
        thousand["dad_conflicts"],
    );
    m
}

/// The board whose firmware is built on ndp and on smoltcp's own ND.
const VS_BOARD: &str = "mps2-an386";
/// The firmware's cargo feature for smoltcp's own ND (boards/demo).
const SMOLTCP_ND_FEATURE: &str = "smoltcp-nd";

/// What a firmware image loads into flash and reserves in RAM.
#[derive(Debug, Clone, Copy)]
struct Image {
    /// `.vector_table` + `.text` + `.rodata` + `.data` (its initial values).
    flash: u64,
    /// `.data` + `.bss` + `.uninit`: static RAM, without the stack.
    ram: u64,
}

/// On-target sizes (DWARF `byte_size`) of what the demo keeps on its
/// stack, from the two firmware ELFs.
#[derive(Debug, Clone, Copy)]
struct StackTypes {
    /// `ndp_smoltcp::Adapter<Lan9118<Mmio>, HashFilter, ..>`: the engine,
    /// the adapter's state and the NIC driver it owns.
    adapter: u64,
    /// `ndp_core::Stack<..>` inside it.
    engine: u64,
    /// `Lan9118<Mmio>`, the NIC driver (inside the adapter with ndp, a
    /// local of its own with smoltcp's ND).
    device: u64,
    /// `smoltcp::iface::Interface` in the ndp build (`Medium::Ip`, no ND).
    iface_ndp: u64,
    /// The same with smoltcp's own ND (neighbor cache, SLAAC, MLD state).
    iface_smoltcp: u64,
}

impl StackTypes {
    /// Stack bytes the ndp build holds that the smoltcp-ND build does
    /// not: the adapter without the driver, and the difference between
    /// the two interfaces.
    fn ndp_adds(&self) -> i64 {
        signed(self.adapter) - signed(self.device) + signed(self.iface_ndp)
            - signed(self.iface_smoltcp)
    }
}

/// The demo firmware on ndp (the default build) and on smoltcp's own ND.
struct VsSmoltcpNd {
    ndp: Image,
    smoltcp: Image,
    /// Why the stack figures are missing, when they are.
    stack: std::result::Result<StackTypes, String>,
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Build both firmware images and measure them.
fn firmware_vs_smoltcp_nd(ctx: &Ctx) -> Result<VsSmoltcpNd> {
    let ndp_elf = crate::qemu::build_firmware(ctx)?;
    let smoltcp_elf = build_smoltcp_nd(ctx)?;
    let ndp = image(&ndp_elf)?;
    let smoltcp = image(&smoltcp_elf)?;
    let stack = stack_types(&ndp_elf, &smoltcp_elf).map_err(|e| format!("{e:#}"));
    if let Err(why) = &stack {
        eprintln!("stack figures not measured: {why}");
    }
    let vs = VsSmoltcpNd {
        ndp,
        smoltcp,
        stack,
    };
    eprintln!(
        "ndp: flash {} B, static RAM {} B; smoltcp's own ND: flash {} B, static RAM {} B",
        vs.ndp.flash, vs.ndp.ram, vs.smoltcp.flash, vs.smoltcp.ram
    );
    Ok(vs)
}

/// The board's firmware with `--no-default-features --features
/// smoltcp-nd`, in its own target directory so that it never replaces
/// the default image; its ELF.
fn build_smoltcp_nd(ctx: &Ctx) -> Result<std::path::PathBuf> {
    let target_dir = ctx.root.join("boards/target").join(SMOLTCP_ND_FEATURE);
    let _dir = ctx.sh.push_dir(ctx.root.join("boards").join(VS_BOARD));
    ctx.run(
        ctx.sh
            .cmd("cargo")
            .args(["build", "--release", "--no-default-features", "--features"])
            .arg(SMOLTCP_ND_FEATURE)
            .arg("--target-dir")
            .arg(&target_dir),
    )
    .with_context(|| format!("building {VS_BOARD} on smoltcp's own ND"))?;
    Ok(target_dir.join(size::TARGET).join("release").join(VS_BOARD))
}

/// Flash and static RAM of a firmware ELF.
fn image(elf: &Path) -> Result<Image> {
    let data = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).with_context(|| format!("parsing {}", elf.display()))?;
    Ok(Image {
        flash: size::sections_size(&file, size::FLASH_SECTIONS),
        ram: size::sections_size(&file, size::RAM_SECTIONS),
    })
}

/// The on-target sizes of the types the demo keeps on its stack, from
/// the ELFs' debug information (read with gimli).
fn stack_types(ndp_elf: &Path, smoltcp_elf: &Path) -> Result<StackTypes> {
    let ndp = dwarf_struct_sizes(ndp_elf)?;
    let smoltcp = dwarf_struct_sizes(smoltcp_elf)?;
    let adapter_prefix = format!("Adapter<{VS_BOARD_CRATE}::lan9118::Lan9118<");
    let device = format!("Lan9118<{VS_BOARD_CRATE}::mmio::Mmio>");
    Ok(StackTypes {
        adapter: one_size(&ndp, "ndp_smoltcp::Adapter", |n| {
            n.starts_with(&adapter_prefix)
        })?,
        engine: one_size(&ndp, "ndp_core::Stack", |n| n.starts_with("Stack<"))?,
        device: one_size(&ndp, "Lan9118<Mmio>", |n| n == device)?,
        iface_ndp: one_size(&ndp, "smoltcp Interface (ndp)", |n| n == "Interface")?,
        iface_smoltcp: one_size(&smoltcp, "smoltcp Interface (smoltcp-nd)", |n| {
            n == "Interface"
        })?,
    })
}

/// The board crate's name in Rust paths.
const VS_BOARD_CRATE: &str = "mps2_an386";

/// (name, byte size) of every structure type in the ELF's debug
/// information whose name the demo's figures use.
fn dwarf_struct_sizes(elf: &Path) -> Result<Vec<(String, u64)>> {
    let data = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).context("parsing the firmware ELF")?;
    let dwarf = size::dwarf(&file)?;
    let wanted = |n: &str| {
        ["Adapter<", "Stack<", "Lan9118<"]
            .iter()
            .any(|p| n.starts_with(p))
            || n == "Interface"
    };
    let mut out = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().context("reading DWARF units")? {
        let unit = dwarf.unit(header).context("reading a DWARF unit")?;
        let mut entries = unit.entries();
        while let Some((_, entry)) = entries.next_dfs().context("reading DIEs")? {
            if entry.tag() != gimli::DW_TAG_structure_type {
                continue;
            }
            let Some(name) = entry
                .attr_value(gimli::DW_AT_name)
                .ok()
                .flatten()
                .and_then(|v| dwarf.attr_string(&unit, v).ok())
                .map(|s| s.to_string_lossy().into_owned())
            else {
                continue;
            };
            let size = entry
                .attr_value(gimli::DW_AT_byte_size)
                .ok()
                .flatten()
                .and_then(|v| v.udata_value());
            if let Some(size) = size
                && wanted(&name)
            {
                out.push((name, size));
            }
        }
    }
    Ok(out)
}

/// The size of the one type `what` that `pred` picks (several DIEs may
/// describe it, one per compilation unit; they must agree).
fn one_size(types: &[(String, u64)], what: &str, pred: impl Fn(&str) -> bool) -> Result<u64> {
    let mut sizes: Vec<u64> = types
        .iter()
        .filter(|(n, _)| pred(n))
        .map(|(_, s)| *s)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    match sizes.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no {what} in the debug information"),
        more => bail!("{what}: several sizes in the debug information ({more:?})"),
    }
}

impl VsSmoltcpNd {
    fn flash_diff(&self) -> i64 {
        signed(self.ndp.flash) - signed(self.smoltcp.flash)
    }

    fn ram_diff(&self) -> i64 {
        signed(self.ndp.ram) - signed(self.smoltcp.ram)
    }

    fn json(&self) -> Value {
        let image = |i: &Image| json!({"flash": i.flash, "static_ram": i.ram});
        let stack = match &self.stack {
            Ok(t) => json!({
                "adapter": t.adapter,
                "engine_stack": t.engine,
                "nic_driver": t.device,
                "interface_ndp": t.iface_ndp,
                "interface_smoltcp_nd": t.iface_smoltcp,
                "ndp_adds_on_stack": t.ndp_adds(),
            }),
            Err(why) => json!({"not_measured": why}),
        };
        json!({
            "board": VS_BOARD,
            "ndp": image(&self.ndp),
            "smoltcp_nd": image(&self.smoltcp),
            "difference": {"flash": self.flash_diff(), "static_ram": self.ram_diff()},
            "stack_types": stack,
        })
    }

    fn markdown(&self, m: &mut String) {
        let _ = writeln!(m, "## The demo firmware: ndp vs smoltcp's own ND\n");
        let _ = writeln!(
            m,
            "The {VS_BOARD} firmware (`boards/`, opt-level \"s\", fat LTO, `{}`) built twice: \
             as shipped, the engine under smoltcp 0.14 through ndp-smoltcp (`Medium::Ip`); and \
             with `--no-default-features --features {SMOLTCP_ND_FEATURE}`, the same demo (ping, \
             UDP echo on port 7, defmt logs, LAN9118 driver) on smoltcp's own IPv6 ND with \
             `proto-ipv6-slaac` and `multicast` over `Medium::Ethernet`, which links no ndp \
             code. Flash is `.vector_table` + `.text` + `.rodata` + `.data`; static RAM is \
             `.data` + `.bss` + `.uninit`.\n",
            size::TARGET
        );
        let _ = writeln!(m, "| build | flash | static RAM |\n|---|---:|---:|");
        let _ = writeln!(
            m,
            "| ndp (default) | {} B | {} B |",
            self.ndp.flash, self.ndp.ram
        );
        let _ = writeln!(
            m,
            "| smoltcp's own ND (`{SMOLTCP_ND_FEATURE}`) | {} B | {} B |",
            self.smoltcp.flash, self.smoltcp.ram
        );
        let _ = writeln!(
            m,
            "| **what ndp costs** | **{:+} B** | **{:+} B** |\n",
            self.flash_diff(),
            self.ram_diff()
        );
        let _ = writeln!(
            m,
            "The difference buys what smoltcp's own ND does not do: Neighbor Unreachability \
             Detection; DAD for every address, link-local included, with nonces (RFC 7527), \
             and optimistic DAD (RFC 4429); RFC 7217 stable addresses instead of EUI-64; \
             several prefixes with preferred and valid lifetimes (deprecation); router \
             preference and route information (RFC 4191); RDNSS (RFC 8106); Redirect; MLDv2 \
             reports before DAD; and a queue for packets waiting on address resolution (smoltcp \
             drops them). smoltcp 0.14's own ND adds the EUI-64 address of one prefix and \
             uses it at once (no DAD), sends up to three RS at boot, and keeps a neighbor \
             cache without NUD. The {SMOLTCP_ND_FEATURE} image still carries smoltcp's \
             `medium-ip` code (ndp-smoltcp, a dependency of the board library, turns it on), \
             so the flash difference is, if anything, understated.\n"
        );
        let _ = write!(
            m,
            "Static RAM understates what the engine costs: the demo keeps it on its stack (the \
             adapter, with the engine's `Stack` inside, is a local of `ndp_demo::run`), as both \
             builds keep smoltcp's `Interface` and the socket buffers."
        );
        match &self.stack {
            Ok(t) => {
                let _ = writeln!(
                    m,
                    " On-target sizes of those locals, from the ELFs' DWARF debug \
                     information:\n"
                );
                let _ = writeln!(
                    m,
                    "| on the demo's stack | ndp | smoltcp's own ND |\n|---|---:|---:|"
                );
                let _ = writeln!(
                    m,
                    "| `ndp_smoltcp::Adapter<Lan9118<Mmio>, HashFilter, ..>` | {} B | — |",
                    t.adapter
                );
                let _ = writeln!(
                    m,
                    "| of which `ndp_core::Stack` (the engine) | {} B | — |",
                    t.engine
                );
                let _ = writeln!(
                    m,
                    "| the LAN9118 driver, `Lan9118<Mmio>` (inside the adapter with ndp) | {} B | {} B |",
                    t.device, t.device
                );
                let _ = writeln!(
                    m,
                    "| `smoltcp::iface::Interface` | {} B | {} B |\n",
                    t.iface_ndp, t.iface_smoltcp
                );
                let _ = writeln!(
                    m,
                    "ndp holds **{} B** more on the stack than smoltcp's own ND: the adapter \
                     without the driver it owns, plus the difference between the two \
                     `Interface`s (smoltcp's own ND keeps its neighbor cache, SLAAC and \
                     multicast state there).\n",
                    t.ndp_adds()
                );
            }
            Err(why) => {
                let _ = writeln!(
                    m,
                    " The size of the adapter on the stack is not measured here ({why}); \
                     `ndp_core::Stack` alone is in the RAM section above.\n"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_size_wants_exactly_one_size() {
        let types = vec![
            ("Lan9118<mps2_an386::mmio::Mmio>".to_string(), 0xc34),
            ("Interface".to_string(), 0x220),
            // The same type described again by another compilation unit.
            ("Interface".to_string(), 0x220),
            ("Stack<8, 4, 3072>".to_string(), 10),
            ("Stack<9, 4, 3072>".to_string(), 11),
        ];
        assert_eq!(
            one_size(&types, "x", |n| n == "Interface").ok(),
            Some(0x220)
        );
        assert!(one_size(&types, "x", |n| n == "Adapter").is_err(), "none");
        assert!(
            one_size(&types, "x", |n| n.starts_with("Stack<")).is_err(),
            "two sizes"
        );
    }
}
