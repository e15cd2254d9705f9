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
        "adapter-ns-na",
        "NS frame → NA frame through ndp-smoltcp + smoltcp (Medium::Ip)",
    ),
    (
        "smoltcp-ns-na",
        "the same NS frame → NA frame, plain smoltcp 0.14 (Medium::Ethernet, its own ND)",
    ),
];

pub fn run(ctx: &Ctx) -> Result<()> {
    let out = crate::target_dir(ctx).join("bench");
    std::fs::create_dir_all(&out)?;
    crate::test_steps::ensure_thumb_targets(ctx)?;
    packages::ensure(ctx, &[("valgrind", "valgrind")])?;

    eprintln!("\n==> flash and RAM (size probe)");
    let sizes = size::measure(ctx)?;
    let (_, goals) = size::read_budgets(ctx)?;

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
            "lwip_nd6_mld6_reference": size::LWIP_FLASH,
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
        "budgets": {
            "flash_no_hash": {"measured": sizes.flash_no_hash(), "goal": goals.flash_no_hash},
            "flash_with_hash": {"measured": sizes.flash_with_hash(), "goal": goals.flash_with_hash},
            "ram": {"measured": sizes.ram(), "goal": goals.ram},
        },
    });
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let md = markdown(
        &sizes,
        &goals,
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
    s: &Sizes,
    goals: &size::Budget,
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
        "| figure | measured | goal | status |\n|---|---:|---:|---|"
    );
    let _ = writeln!(
        m,
        "| flash, ndp-core without the stable-IID hash | {} B | {} B | {} |",
        s.flash_no_hash(),
        goals.flash_no_hash,
        met(s.flash_no_hash(), goals.flash_no_hash)
    );
    let _ = writeln!(
        m,
        "| flash, ndp-core with the hash | {} B | {} B | {} |",
        s.flash_with_hash(),
        goals.flash_with_hash,
        met(s.flash_with_hash(), goals.flash_with_hash)
    );
    let _ = writeln!(
        m,
        "| Stack RAM at default capacities, without queued payloads | {} B | {} B | {} |",
        s.ram(),
        goals.ram,
        met(s.ram(), goals.ram)
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions vs smoltcp's own ND (engine alone) | {} | ≤ {} | {} |",
        c("ns-na-8"),
        c("smoltcp-ns-na"),
        met(c("ns-na-8"), c("smoltcp-ns-na"))
    );
    let _ = writeln!(
        m,
        "| NS → NA instructions vs smoltcp, frame to frame through ndp-smoltcp | {} | ≤ {} | {} |",
        c("adapter-ns-na"),
        c("smoltcp-ns-na"),
        met(c("adapter-ns-na"), c("smoltcp-ns-na"))
    );
    let ratio = |a: &str, b: &str| c(a) as f64 / c(b).max(1) as f64;
    let _ = writeln!(
        m,
        "| cost per packet at 512 neighbors / at 8 (NS → NA; route) | {:.2}; {:.2} | ≤ 2 | {} |\n",
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
         (`--cfg sha2_backend_soft=\"compact\"`), minus the same firmware without the engine \
         (`cargo xtask size`).\n",
        size::TARGET
    );
    let _ = writeln!(
        m,
        "| build | features | .text | .rodata | total |\n|---|---|---:|---:|---:|"
    );
    for b in [&s.baseline, &s.engine, &s.hash] {
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
         Reference: lwIP's nd6.c + mld6.c, {} B of text at -Os for Cortex-M4 (GCC 12.2).\n",
        s.flash_no_hash(),
        s.flash_with_hash(),
        s.flash_with_hash().saturating_sub(s.flash_no_hash()),
        size::LWIP_FLASH
    );

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
    let _ = writeln!(
        m,
        "Under QEMU: not measured yet (the QEMU board does not exist).\n"
    );

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
