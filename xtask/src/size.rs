//! `cargo xtask size`: flash and RAM of ndp-core on the target, measured
//! from the size-probe firmware (xtask/size-probe), and the check of those
//! figures against budgets.toml.
//!
//! Flash is what the engine itself costs: `.text` + `.rodata` of the probe
//! built for thumbv7em-none-eabihf with opt-level "z", fat LTO,
//! panic=abort and one codegen unit, minus the same of the probe built
//! without the engine, minus what the engine build adds that is not the
//! engine: the probe's own calling code (attributed through the DWARF line
//! tables) and the compiler's mem* routines (memcpy, memmove, memset,
//! memcmp and their `__aeabi_` entry points, from the symbol table), which
//! a firmware shares with its application. The plain difference, the
//! measure before issue 13, is printed too. RAM is `size_of` computed for
//! the target by the probe itself (the `NDP_SIZES` table in its ELF).
//!
//! Five probe builds: the baseline (no engine); `engine`, with every
//! engine feature but the hash (the headline figure; the probe's feature
//! `full`); `engine+hash`; `lean`, with no optional feature (the probe's
//! feature `engine`); and `engine+emit`, whose difference to `engine` is
//! reported as the cost of the `emit` feature, not counted.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

use crate::runner::{Ctx, Outcome};

/// The optional features the lean build leaves out (the size probe's
/// `engine` feature; `full` has them).
pub const LEAN_LEAVES_OUT: &str =
    "stable-iid, counter-names, dns, route-info, mldv1, redirect, optimistic-dad, gratuitous-na";

/// The target the figures are for.
pub const TARGET: &str = "thumbv7em-none-eabihf";
/// Growth over a recorded figure that fails the check.
pub const TOLERANCE_PERCENT: u64 = 3;
/// Magic at the start of the probe's `NDP_SIZES` ("NDP1").
const MAGIC: u32 = 0x4e44_5031;
/// Where lwIP's figures come from (the references).
pub const LWIP_FLASH: u64 = 7_554;
pub const LWIP_RAM: u64 = 1_152;

/// A probe build: which features, and what its ELF holds.
#[derive(Debug, Clone)]
pub struct Build {
    pub name: &'static str,
    pub features: Option<&'static str>,
    pub text: u64,
    pub rodata: u64,
    /// `.text` by source module (see [`module_of`]), through the line
    /// tables, largest first.
    pub modules: Vec<(&'static str, u64)>,
    /// The compiler's mem* routines (symbol table).
    pub mem_routines: u64,
    pub elf: PathBuf,
}

impl Build {
    pub fn flash(&self) -> u64 {
        self.text + self.rodata
    }

    /// `.text` of the probe's own code.
    pub fn probe_code(&self) -> u64 {
        self.modules
            .iter()
            .filter(|(m, _)| *m == PROBE_MODULE)
            .map(|(_, b)| b)
            .sum()
    }

    /// Flash without the probe's own code and the mem* routines.
    pub fn flash_without_harness(&self) -> u64 {
        self.flash()
            .saturating_sub(self.probe_code())
            .saturating_sub(self.mem_routines)
    }

    /// What this build adds to `base`, both without the harness.
    pub fn beyond(&self, base: &Build) -> u64 {
        self.flash_without_harness()
            .saturating_sub(base.flash_without_harness())
    }
}

/// Everything `cargo xtask size` measures.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub baseline: Build,
    pub engine: Build,
    pub hash: Build,
    /// ndp-core without its optional features.
    pub lean: Build,
    /// The engine build plus ndp-core's `emit` feature (the encoder for
    /// every message, which host tools use and the engine does not).
    pub emit: Build,
    /// `size_of::<Stack>()` at default capacities on the target.
    pub stack: u64,
    /// The `QUEUE_BYTES` packet buffer inside it.
    pub queue_payload: u64,
    /// Extra bytes of `Stack<9, 4, 3072>` and `Stack<8, 5, 3072>`.
    pub per_neighbor: u64,
    pub per_queue_slot: u64,
    /// `size_of::<Stack>()` of the lean build, queue payload included.
    pub lean_stack: u64,
    /// `Stack::ram_parts()` on the target.
    pub parts: Vec<(&'static str, u64)>,
    /// `Stack::ram_per_entry()` on the target: (kind, bytes, entries).
    pub per_entry: Vec<(&'static str, u64, u64)>,
}

impl Sizes {
    /// What the engine itself costs, without the stable-IID hash (see the
    /// module documentation).
    pub fn flash_no_hash(&self) -> u64 {
        self.engine.beyond(&self.baseline)
    }

    /// The same with the hash.
    pub fn flash_with_hash(&self) -> u64 {
        self.hash.beyond(&self.baseline)
    }

    /// The lean build's flash, measured as [`Sizes::flash_no_hash`].
    pub fn flash_lean(&self) -> u64 {
        self.lean.beyond(&self.baseline)
    }

    /// What the `emit` feature adds to the engine (not in the figures
    /// above: a firmware does not need it).
    pub fn emit_cost(&self) -> u64 {
        self.emit.beyond(&self.engine)
    }

    /// The measure before issue 13: the whole difference the engine
    /// makes to the probe (its calling code and mem* included).
    pub fn probe_difference_no_hash(&self) -> u64 {
        self.engine.flash().saturating_sub(self.baseline.flash())
    }

    /// The same with the hash.
    pub fn probe_difference_with_hash(&self) -> u64 {
        self.hash.flash().saturating_sub(self.baseline.flash())
    }

    /// The Stack without its queued packet payloads (the budget's RAM).
    pub fn ram(&self) -> u64 {
        self.stack.saturating_sub(self.queue_payload)
    }

    /// The same for the lean build.
    pub fn lean_ram(&self) -> u64 {
        self.lean_stack.saturating_sub(self.queue_payload)
    }
}

/// The three probe builds, then their sizes.
pub fn measure(ctx: &Ctx) -> Result<Sizes> {
    let mut builds = Vec::new();
    for (name, features) in [
        ("baseline", None),
        ("engine", Some("full")),
        ("engine+hash", Some("hash")),
        ("lean", Some("engine")),
        ("engine+emit", Some("emit")),
    ] {
        let elf = build_probe(ctx, name, features)?;
        let (text, rodata) = section_sizes(&elf)?;
        let data = std::fs::read(&elf).with_context(|| format!("reading {}", elf.display()))?;
        let file = object::File::parse(&*data).context("parsing the probe")?;
        let modules = attribute_text_by(&file, module_of)?;
        let mem_routines = mem_routine_bytes(&file);
        builds.push(Build {
            name,
            features,
            text,
            rodata,
            modules,
            mem_routines,
            elf,
        });
    }
    let [baseline, engine, hash, lean, emit]: [Build; 5] = builds
        .try_into()
        .map_err(|_| anyhow::anyhow!("five builds"))?;
    let table = ndp_sizes(&engine.elf)?;
    let parts_names = ndp_core::Stack::<8, 4, 3072>::ram_parts();
    let entry_names = ndp_core::Stack::<8, 4, 3072>::ram_per_entry();
    let at = |i: usize| u64::from(table.get(i).copied().unwrap_or(0));
    let parts: Vec<(&'static str, u64)> = parts_names
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, at(4 + i)))
        .collect();
    let per_entry: Vec<(&'static str, u64, u64)> = entry_names
        .iter()
        .enumerate()
        .map(|(i, (n, _, count))| (*n, at(4 + parts_names.len() + i), *count as u64))
        .collect();
    let stack = at(1);
    let queue_payload = parts
        .iter()
        .find(|(n, _)| *n == "queue payload")
        .map_or(0, |p| p.1);
    Ok(Sizes {
        lean_stack: ndp_sizes(&lean.elf)?.get(1).copied().map_or(0, u64::from),
        per_neighbor: at(2).saturating_sub(stack),
        per_queue_slot: at(3).saturating_sub(stack),
        stack,
        queue_payload,
        parts,
        per_entry,
        baseline,
        engine,
        hash,
        lean,
        emit,
    })
}

/// Build the probe with `features` into its own target directory.
fn build_probe(ctx: &Ctx, name: &str, features: Option<&str>) -> Result<PathBuf> {
    let probe = ctx.root.join("xtask/size-probe");
    let target_dir = crate::target_dir(ctx).join("size-probe").join(name);
    let sh = &ctx.sh;
    let _dir = sh.push_dir(&probe);
    // The probe's .cargo/config.toml sets the target, the linker script
    // and the compact SHA-256; RUSTFLAGS from the environment would
    // replace all of that.
    let mut cmd = sh
        .cmd("cargo")
        .args(["build", "--release", "--target-dir"])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if let Some(f) = features {
        cmd = cmd.args(["--features", f]);
    }
    ctx.run(cmd)
        .with_context(|| format!("building the size probe ({name})"))?;
    Ok(target_dir.join(TARGET).join("release/size-probe"))
}

/// `.text` and `.rodata` sizes of an ELF.
pub fn section_sizes(elf: &Path) -> Result<(u64, u64)> {
    let data = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).with_context(|| format!("parsing {}", elf.display()))?;
    let size = |name: &str| file.section_by_name(name).map_or(0, |s| s.size());
    Ok((size(".text"), size(".rodata")))
}

/// The probe's `NDP_SIZES` table.
fn ndp_sizes(elf: &Path) -> Result<Vec<u32>> {
    let data = std::fs::read(elf)?;
    let file = object::File::parse(&*data)?;
    let sym = file
        .symbols()
        .find(|s| s.name() == Ok("NDP_SIZES"))
        .context("the probe has no NDP_SIZES symbol")?;
    let section = sym
        .section_index()
        .and_then(|i| file.section_by_index(i).ok())
        .context("NDP_SIZES has no section")?;
    let bytes = section
        .data_range(sym.address(), sym.size())?
        .context("NDP_SIZES lies outside its section")?;
    let table: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    if table.first() != Some(&MAGIC) {
        bail!(
            "NDP_SIZES does not start with its magic: {:x?}",
            table.first()
        );
    }
    Ok(table)
}

/// The figures budgets.toml records and the goals it states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub flash_no_hash: u64,
    pub flash_with_hash: u64,
    /// The lean build: ndp-core without its optional features.
    pub flash_lean: u64,
    pub ram: u64,
}

pub fn budgets_path(ctx: &Ctx) -> PathBuf {
    ctx.root.join("budgets.toml")
}

/// `[measured]` and `[goals]` of budgets.toml.
pub fn read_budgets(ctx: &Ctx) -> Result<(Budget, Budget)> {
    let path = budgets_path(ctx);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let section = |name: &str| -> Result<Budget> {
        let t = table
            .get(name)
            .and_then(|v| v.as_table())
            .with_context(|| format!("{} has no [{name}] table", path.display()))?;
        let get = |k: &str| -> Result<u64> {
            t.get(k)
                .and_then(|v| v.as_integer())
                .and_then(|v| u64::try_from(v).ok())
                .with_context(|| format!("[{name}] {k} in {} is not a number", path.display()))
        };
        Ok(Budget {
            flash_no_hash: get("flash_no_hash")?,
            flash_with_hash: get("flash_with_hash")?,
            flash_lean: get("flash_lean")?,
            ram: get("ram")?,
        })
    };
    Ok((section("measured")?, section("goals")?))
}

/// Rewrite the `[measured]` numbers of budgets.toml, keeping everything
/// else (comments included) as it is.
fn record(ctx: &Ctx, m: &Budget) -> Result<()> {
    let path = budgets_path(ctx);
    let text = std::fs::read_to_string(&path)?;
    let mut section = String::new();
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_string();
        }
        let key = trimmed.split('=').next().unwrap_or("").trim();
        let value = match (section.as_str(), key) {
            ("[measured]", "flash_no_hash") => Some(m.flash_no_hash),
            ("[measured]", "flash_with_hash") => Some(m.flash_with_hash),
            ("[measured]", "flash_lean") => Some(m.flash_lean),
            ("[measured]", "ram") => Some(m.ram),
            _ => None,
        };
        match value {
            Some(v) if trimmed.contains('=') => out.push_str(&format!("{key} = {v}\n")),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    std::fs::write(&path, out)?;
    Ok(())
}

/// One figure against its recorded value: `Err` text when it grew more
/// than the tolerance.
fn check_one(what: &str, now: u64, recorded: u64) -> std::result::Result<String, String> {
    let limit = recorded + recorded * TOLERANCE_PERCENT / 100;
    let delta = now as i64 - recorded as i64;
    let line = format!("{what}: {now} bytes (recorded {recorded}, {delta:+}; limit {limit})");
    if now > limit { Err(line) } else { Ok(line) }
}

/// Compare measured sizes with budgets.toml.
pub fn check(sizes: &Sizes, recorded: &Budget) -> std::result::Result<Vec<String>, Vec<String>> {
    let results = [
        check_one(
            "flash without the hash",
            sizes.flash_no_hash(),
            recorded.flash_no_hash,
        ),
        check_one(
            "flash with the hash",
            sizes.flash_with_hash(),
            recorded.flash_with_hash,
        ),
        check_one(
            "flash of the lean build",
            sizes.flash_lean(),
            recorded.flash_lean,
        ),
        check_one(
            "Stack RAM without queued payloads",
            sizes.ram(),
            recorded.ram,
        ),
    ];
    let failed: Vec<String> = results.iter().filter_map(|r| r.clone().err()).collect();
    let all: Vec<String> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| e))
        .collect();
    if failed.is_empty() {
        Ok(all)
    } else {
        Err(failed)
    }
}

/// `cargo xtask size [--check] [--record]`.
pub fn run(ctx: &Ctx, check_budgets: bool, record_budgets: bool) -> Result<Outcome> {
    crate::test_steps::ensure_thumb_targets(ctx)?;
    let sizes = measure(ctx)?;
    let (recorded, goals) = read_budgets(ctx)?;
    println!("ndp-core on {TARGET} (opt-level z, LTO, panic=abort):");
    println!(
        "  flash  {:>6} bytes without the stable-IID hash (goal {}), {:>6} with it (goal {})",
        sizes.flash_no_hash(),
        goals.flash_no_hash,
        sizes.flash_with_hash(),
        goals.flash_with_hash
    );
    println!(
        "         the engine alone: the probe's own calling code ({} B) and the mem* routines \
         ({} B) left out; the whole difference to the probe, the earlier measure: {} / {}",
        sizes
            .engine
            .probe_code()
            .saturating_sub(sizes.baseline.probe_code()),
        sizes
            .engine
            .mem_routines
            .saturating_sub(sizes.baseline.mem_routines),
        sizes.probe_difference_no_hash(),
        sizes.probe_difference_with_hash()
    );
    println!(
        "  lean   {:>6} bytes: without the optional features ({}) (goal {}); RAM {} bytes",
        sizes.flash_lean(),
        LEAN_LEAVES_OUT,
        goals.flash_lean,
        sizes.lean_ram()
    );
    println!(
        "         not counted: the feature `emit` (encoding the messages only routers send, for \
         host tools and tests) adds {} B",
        sizes.emit_cost()
    );
    println!(
        "  RAM    {:>6} bytes: Stack at default capacities without its {} queue payload bytes (goal {})",
        sizes.ram(),
        sizes.queue_payload,
        goals.ram
    );
    let line: Vec<String> = sizes
        .engine
        .modules
        .iter()
        .map(|(m, b)| format!("{m} {b}"))
        .collect();
    println!("  .text of the engine build by module (DWARF line tables):");
    println!("    {}", line.join(", "));
    firmware_sizes(ctx)?;
    let measured = Budget {
        flash_no_hash: sizes.flash_no_hash(),
        flash_with_hash: sizes.flash_with_hash(),
        flash_lean: sizes.flash_lean(),
        ram: sizes.ram(),
    };
    if record_budgets {
        record(ctx, &measured)?;
        println!("recorded these figures in {}", budgets_path(ctx).display());
        return Ok(Outcome::passed());
    }
    let note = format!(
        "flash {} / {} B, lean {} B, RAM {} B",
        measured.flash_no_hash, measured.flash_with_hash, measured.flash_lean, measured.ram
    );
    if !check_budgets {
        return Ok(Outcome::Passed(Some(note)));
    }
    match check(&sizes, &recorded) {
        Ok(lines) => {
            for l in lines {
                println!("  ok: {l}");
            }
            Ok(Outcome::Passed(Some(note)))
        }
        Err(lines) => bail!(
            "grew more than {TOLERANCE_PERCENT}% over budgets.toml:\n  {}\n\
             If the bytes bought something worth it, run `cargo xtask size --record` and say \
             in the commit what they bought.",
            lines.join("\n  ")
        ),
    }
}

/// A firmware image's flash: what it loads (vector table, code,
/// constants, the initial values of `.data`).
pub const FLASH_SECTIONS: &[&str] = &[".vector_table", ".text", ".rodata", ".data"];
/// A firmware image's static RAM (the stack not counted).
pub const RAM_SECTIONS: &[&str] = &[".data", ".bss", ".uninit"];

/// The summed sizes of the sections of `file` named in `names`.
pub fn sections_size(file: &object::File<'_>, names: &[&str]) -> u64 {
    file.sections()
        .filter(|s| s.name().is_ok_and(|n| names.contains(&n)))
        .map(|s| s.size())
        .sum()
}

/// The DWARF debug information of a little-endian ELF (missing sections
/// read as empty).
pub fn dwarf<'a>(
    file: &'a object::File<'a>,
) -> Result<gimli::Dwarf<gimli::EndianSlice<'a, gimli::LittleEndian>>> {
    let empty: &[u8] = &[];
    let load = |id: gimli::SectionId| -> Result<_, gimli::Error> {
        let data = file
            .section_by_name(id.name())
            .and_then(|s| s.data().ok())
            .unwrap_or(empty);
        Ok(gimli::EndianSlice::new(data, gimli::LittleEndian))
    };
    gimli::Dwarf::load(load).context("loading DWARF")
}

/// Every board's firmware image (opt-level "s", LTO): flash is what the
/// image loads (vector table, .text, .rodata, .data's initial values),
/// RAM its static data (.data, .bss, .uninit; the stack is not counted:
/// the demo keeps the engine, smoltcp and its buffers on it). The code is
/// attributed to crates through the DWARF line tables (see
/// [`attribute_text`]).
fn firmware_sizes(ctx: &Ctx) -> Result<()> {
    crate::boards::build_boards(ctx)?;
    for board in crate::boards::BOARDS {
        board_size(ctx, board)?;
    }
    Ok(())
}

fn board_size(ctx: &Ctx, board: &crate::boards::Board) -> Result<()> {
    let elf = board.elf(ctx);
    let data = std::fs::read(&elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).context("parsing the firmware ELF")?;
    let flash = sections_size(&file, FLASH_SECTIONS);
    let ram = sections_size(&file, RAM_SECTIONS);
    let text = sections_size(&file, &[".text"]);
    let rodata = sections_size(&file, &[".rodata"]);
    println!("{} firmware ({}):", board.name, board.summary);
    let ram_note = if board.features == Some("embassy") {
        "embassy's tasks, with the engine, embassy-net and their buffers, are static"
    } else {
        "the demo keeps engine and smoltcp on its stack"
    };
    println!(
        "  flash  {flash:>6} bytes (.text {text}, .rodata {rodata}); static RAM {ram:>6} bytes \
         ({ram_note})"
    );
    let shares = attribute_text(&file)?;
    let ndp: u64 = shares
        .iter()
        .filter(|(c, _)| c.starts_with("ndp-"))
        .map(|(_, b)| b)
        .sum();
    let adapter = if board.features == Some("embassy") {
        "ndp-embassy"
    } else {
        "ndp-smoltcp"
    };
    println!(
        "  ndp-core + {adapter}: {ndp} bytes of .text ({}% of it), by DWARF line tables:",
        (ndp * 100).checked_div(text).unwrap_or(0)
    );
    let line: Vec<String> = shares.iter().map(|(c, b)| format!("{c} {b}")).collect();
    println!("    {}", line.join(", "));
    Ok(())
}

/// Which crate a source path belongs to, for [`attribute_text`].
fn crate_of(path: &str) -> &'static str {
    const CRATES: &[(&str, &str)] = &[
        ("/ndp-core/", "ndp-core"),
        ("/ndp-smoltcp/", "ndp-smoltcp"),
        ("/ndp-embassy/", "ndp-embassy"),
        ("/boards/demo/", "demo app"),
        ("/boards/mps2-an386/", "board + LAN9118"),
        ("/boards/nucleo-f767zi/", "board"),
        ("/boards/w5500-evb-pico/", "board + W5500 driver"),
        ("/w5500-ll-", "w5500-ll"),
        ("/rp2040-", "rp2040-hal"),
        ("/embedded-hal", "rp2040-hal"),
        ("/boards/secret/", "board"),
        ("/embassy-net-0", "embassy-net"),
        ("/embassy-executor", "embassy-executor + embassy-time"),
        ("/embassy-time", "embassy-executor + embassy-time"),
        ("/embassy-", "embassy-stm32 (HAL, Ethernet driver)"),
        ("/stm32-metapac-", "embassy-stm32 (HAL, Ethernet driver)"),
        ("/crc-", "board"),
        ("/smoltcp-", "smoltcp"),
        ("/sha2-", "sha2 + hmac (RFC 7217)"),
        ("/hmac-", "sha2 + hmac (RFC 7217)"),
        ("/digest-", "sha2 + hmac (RFC 7217)"),
        ("/block-buffer-", "sha2 + hmac (RFC 7217)"),
        ("/heapless-", "heapless"),
        ("/defmt", "defmt"),
        ("/semihosting-", "semihosting"),
        ("/cortex-m", "cortex-m(-rt)"),
        ("compiler_builtins", "compiler-builtins"),
        ("compiler-builtins", "compiler-builtins"),
        ("/library/core/", "core"),
        ("/library/alloc/", "core"),
    ];
    CRATES
        .iter()
        .find(|(needle, _)| path.contains(needle))
        .map_or("other", |(_, name)| name)
}

/// Bytes of `.text` per crate, largest first. Each row of the line
/// tables covers the addresses up to the next row; code inlined from
/// another crate counts for the crate it was written in (so `core`'s
/// slice and iterator code inside the engine counts as `core`), and code
/// without line information as "no line info". An approximation, but the
/// only one LTO leaves: symbols are merged across crates.
fn attribute_text(file: &object::File<'_>) -> Result<Vec<(&'static str, u64)>> {
    attribute_text_by(file, crate_of)
}

/// The module name [`module_of`] gives the probe's own code.
const PROBE_MODULE: &str = "the probe itself";

/// Whether `name` is one of the compiler's mem* routines: what every
/// firmware links once, shared by the engine and the application.
fn is_mem_routine(name: &str) -> bool {
    matches!(name, "memcpy" | "memmove" | "memset" | "memcmp" | "bcmp")
        || name.starts_with("__aeabi_mem")
        || name.contains("compiler_builtins3mem")
}

/// Bytes of the mem* routines in an ELF's symbol table (aliases at one
/// address counted once).
fn mem_routine_bytes(file: &object::File<'_>) -> u64 {
    let mut seen = std::collections::BTreeMap::new();
    for sym in file.symbols() {
        if sym.name().is_ok_and(is_mem_routine) {
            seen.insert(sym.address(), sym.size());
        }
    }
    seen.values().sum()
}

/// Which part of the size probe a source path belongs to: ndp-core's
/// modules (the `stack/` files one by one, as they are the largest), the
/// probe itself, and the crates around them.
pub fn module_of(path: &str) -> &'static str {
    const MODULES: &[(&str, &str)] = &[
        ("/ndp-core/src/wire/", "wire"),
        ("/ndp-core/src/neighbor/", "neighbor"),
        ("/ndp-core/src/router/", "router"),
        ("/ndp-core/src/addr/", "addr"),
        ("/ndp-core/src/mld.rs", "mld"),
        ("/ndp-core/src/stack/rx.rs", "stack rx"),
        ("/ndp-core/src/stack/tx.rs", "stack tx"),
        ("/ndp-core/src/stack/addr.rs", "stack addr"),
        ("/ndp-core/src/stack/route.rs", "stack route"),
        ("/ndp-core/src/stack/app.rs", "stack app"),
        ("/ndp-core/src/stack/", "stack (other)"),
        ("/ndp-core/src/stats.rs", "stats"),
        ("/ndp-core/src/time.rs", "time"),
        ("/ndp-core/src/rng.rs", "rng"),
        ("/ndp-core/src/config.rs", "config"),
        ("/ndp-core/", "ndp-core (other)"),
        ("/size-probe/", PROBE_MODULE),
        // `black_box`, inlined at each of the probe's calls: the probe's
        // own code (ndp-core does not use core::hint, and a test holds
        // that).
        ("/library/core/src/hint.rs", PROBE_MODULE),
        ("/heapless-", "heapless"),
        (
            "compiler_builtins",
            "compiler-builtins (mem*, u64 division)",
        ),
        (
            "compiler-builtins",
            "compiler-builtins (mem*, u64 division)",
        ),
        ("/library/core/", "core (inlined into the engine)"),
        ("/cortex-m", "cortex-m-rt"),
    ];
    MODULES
        .iter()
        .find(|(needle, _)| path.contains(needle))
        .map_or("other", |(_, name)| name)
}

/// Bytes of `.text` per part, as `classify` names a source path, largest
/// first; see [`attribute_text`].
fn attribute_text_by(
    file: &object::File<'_>,
    classify: fn(&str) -> &'static str,
) -> Result<Vec<(&'static str, u64)>> {
    let text = file
        .section_by_name(".text")
        .context("the firmware has no .text")?;
    let (lo, hi) = (text.address(), text.address() + text.size());
    let dwarf = dwarf(file)?;
    // (address, crate) for every row; `None` ends a sequence.
    let mut rows: Vec<(u64, Option<&'static str>)> = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().context("reading DWARF units")? {
        let unit = dwarf.unit(header).context("reading a DWARF unit")?;
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let mut seq = program.rows();
        while let Some((header, row)) = seq.next_row().context("reading line rows")? {
            if row.end_sequence() {
                rows.push((row.address(), None));
                continue;
            }
            let mut path = String::new();
            if let Some(f) = row.file(header) {
                if let Some(dir) = f.directory(header)
                    && let Ok(d) = dwarf.attr_string(&unit, dir)
                {
                    path.push_str(&d.to_string_lossy());
                    path.push('/');
                }
                if let Ok(n) = dwarf.attr_string(&unit, f.path_name()) {
                    path.push_str(&n.to_string_lossy());
                }
                if !path.starts_with('/')
                    && let Some(comp) = unit.comp_dir
                {
                    path = format!("{}/{path}", comp.to_string_lossy());
                }
            }
            rows.push((row.address(), Some(classify(&path))));
        }
    }
    // Sort by address, ends before starts at the same address.
    rows.sort_by_key(|(a, c)| (*a, c.is_some()));
    let mut bytes: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut covered = 0u64;
    for w in rows.windows(2) {
        let ((a, c), (b, _)) = (w[0], w[1]);
        let (a, b) = (a.clamp(lo, hi), b.clamp(lo, hi));
        if let Some(c) = c
            && b > a
        {
            *bytes.entry(c).or_default() += b - a;
            covered += b - a;
        }
    }
    let size = hi - lo;
    if size > covered {
        bytes.insert("no line info", size - covered);
    }
    let mut out: Vec<(&'static str, u64)> = bytes.into_iter().collect();
    out.sort_by_key(|x| std::cmp::Reverse(x.1));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_paths_map_to_their_modules() {
        for (path, module) in [
            ("/work/main/ndp-core/src/wire/option.rs", "wire"),
            ("/work/main/ndp-core/src/stack/rx.rs", "stack rx"),
            ("/work/main/ndp-core/src/stack/mod.rs", "stack (other)"),
            ("/work/main/ndp-core/src/mld.rs", "mld"),
            (
                "/work/main/xtask/size-probe/src/main.rs",
                "the probe itself",
            ),
            (
                "/rustc/abc/library/core/src/slice/mod.rs",
                "core (inlined into the engine)",
            ),
            ("/rustc/abc/library/core/src/hint.rs", "the probe itself"),
            (
                "/root/.cargo/registry/src/x/compiler_builtins-0.1/src/mem/mod.rs",
                "compiler-builtins (mem*, u64 division)",
            ),
        ] {
            assert_eq!(module_of(path), module, "{path}");
        }
    }

    /// `core::hint` counts as the probe's (its `black_box`), which holds
    /// only while the engine itself does not use it.
    #[test]
    fn the_engine_does_not_use_core_hint() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ndp-core/src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        !text.contains("hint::"),
                        "{} uses core::hint",
                        path.display()
                    );
                }
            }
        }
    }

    #[test]
    fn mem_routines_are_recognised_and_nothing_else() {
        for name in [
            "memcpy",
            "memmove",
            "memset",
            "memcmp",
            "__aeabi_memcpy4",
            "__aeabi_memclr8",
            "_RNvNtCs7NhdfSRABLd_17compiler_builtins3mem6memcpy",
        ] {
            assert!(is_mem_routine(name), "{name}");
        }
        for name in [
            "__aeabi_uldivmod",
            "_RNvNtNtCs7NhdfSRABLd_17compiler_builtins3int19specialized_div_rem11u64_div_rem",
            "NDP_SIZES",
            "main",
        ] {
            assert!(!is_mem_routine(name), "{name}");
        }
    }

    #[test]
    fn source_paths_map_to_their_crates() {
        let reg = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        for (path, krate) in [
            ("/work/main/ndp-core/src/stack/rx.rs", "ndp-core"),
            ("/work/main/ndp-smoltcp/src/lib.rs", "ndp-smoltcp"),
            ("/work/main/boards/demo/src/lib.rs", "demo app"),
            (
                "/work/main/boards/mps2-an386/src/lan9118.rs",
                "board + LAN9118",
            ),
            (
                &format!("{reg}/smoltcp-0.14.0/src/iface/interface/mod.rs"),
                "smoltcp",
            ),
            (
                &format!("{reg}/sha2-0.11.0/src/sha256/soft.rs"),
                "sha2 + hmac (RFC 7217)",
            ),
            (&format!("{reg}/heapless-0.9.3/src/vec/mod.rs"), "heapless"),
            ("/rustc/abc/library/core/src/slice/iter.rs", "core"),
            (
                &format!("{reg}/compiler_builtins-0.1.160/src/mem/mod.rs"),
                "compiler-builtins",
            ),
            ("", "other"),
        ] {
            assert_eq!(crate_of(path), krate, "{path}");
        }
    }

    #[test]
    fn growth_within_three_percent_passes_and_beyond_fails() {
        assert!(check_one("x", 1030, 1000).is_ok());
        assert!(check_one("x", 1031, 1000).is_err());
        assert!(check_one("x", 900, 1000).is_ok());
        let e = check_one("x", 2000, 1000).unwrap_err();
        assert!(e.contains("+1000") && e.contains("limit 1030"), "{e}");
    }
}
