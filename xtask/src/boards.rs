//! The firmware boards of `boards/`: what each one is, `cargo xtask
//! build-boards` and `cargo xtask flash BOARD [--reset-secret]`.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use crate::packages;
use crate::runner::{Ctx, Outcome};
use crate::test_steps::ensure_thumb_targets;

/// A firmware crate of the boards workspace.
#[derive(Debug)]
pub struct Board {
    /// Its binary's name.
    pub name: &'static str,
    /// Its crate's directory under boards/.
    pub dir: &'static str,
    /// Cargo features its binary needs (`None`: the crate's default
    /// binary, built with `cargo build --release`).
    pub features: Option<&'static str>,
    /// The target its .cargo/config.toml builds for.
    pub target: &'static str,
    /// What its image holds, for `cargo xtask size`.
    pub summary: &'static str,
    /// The chip as probe-rs names it; `None` for the QEMU board.
    pub chip: Option<&'static str>,
    /// It has the `smoltcp-nd` baseline build (`cargo xtask bench`).
    pub smoltcp_nd: bool,
    /// Address and size of the flash sector holding its RFC 7217 secret
    /// (boards/secret's record), as its memory.x documents.
    pub secret_sector: Option<(u32, u32)>,
}

/// Every board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "mps2-an386",
        dir: "mps2-an386",
        features: None,
        target: "thumbv7em-none-eabihf",
        summary: "QEMU; demo app: engine + ndp-smoltcp + smoltcp + LAN9118 driver + defmt",
        chip: None,
        smoltcp_nd: true,
        secret_sector: None,
    },
    Board {
        name: "nucleo-f767zi",
        dir: "nucleo-f767zi",
        features: None,
        target: "thumbv7em-none-eabihf",
        summary: "demo app: engine + ndp-smoltcp + smoltcp + embassy-stm32's Ethernet MAC driver + defmt-rtt",
        chip: Some("STM32F767ZITx"),
        smoltcp_nd: false,
        // Sector 11 (boards/nucleo-f767zi/memory.x).
        secret_sector: Some((0x081C_0000, 0x0004_0000)),
    },
    Board {
        name: "nucleo-f767zi-embassy",
        dir: "nucleo-f767zi",
        features: Some("embassy"),
        target: "thumbv7em-none-eabihf",
        summary: "embassy-executor + embassy-net (DHCPv4, UDP echo) + ndp-embassy + engine + embassy-stm32's Ethernet MAC driver + defmt-rtt",
        chip: Some("STM32F767ZITx"),
        smoltcp_nd: false,
        // The same sector as the plain image: both keep one secret.
        secret_sector: Some((0x081C_0000, 0x0004_0000)),
    },
    Board {
        name: "w5500-evb-pico",
        dir: "w5500-evb-pico",
        features: None,
        target: "thumbv6m-none-eabi",
        summary: "demo app: engine + ndp-smoltcp + smoltcp + W5500 MACRAW driver + rp2040-hal + defmt-rtt",
        chip: Some("RP2040"),
        smoltcp_nd: false,
        // The last 4 KiB of the 2 MiB flash (boards/w5500-evb-pico/memory.x).
        secret_sector: Some((0x101F_F000, 0x1000)),
    },
];

impl Board {
    /// Its release ELF.
    pub fn elf(&self, ctx: &Ctx) -> PathBuf {
        ctx.root
            .join("boards/target")
            .join(self.target)
            .join("release")
            .join(self.name)
    }
}

/// The board called `name`.
pub fn find(name: &str) -> Result<&'static Board> {
    match BOARDS.iter().find(|b| b.name == name) {
        Some(b) => Ok(b),
        None => bail!(
            "no board {name:?}; the boards are: {}",
            BOARDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `cargo xtask build-boards`: every board, release profile.
pub fn build_boards(ctx: &Ctx) -> Result<Outcome> {
    ensure_thumb_targets(ctx)?;
    for board in BOARDS {
        build(ctx, board)?;
    }
    Ok(Outcome::Passed(Some(format!("{} board(s)", BOARDS.len()))))
}

fn build(ctx: &Ctx, board: &Board) -> Result<()> {
    let _dir = ctx.sh.push_dir(ctx.root.join("boards").join(board.dir));
    let mut cmd = ctx.sh.cmd("cargo").args(["build", "--release"]);
    if let Some(features) = board.features {
        cmd = cmd.args(["--features", features, "--bin", board.name]);
    }
    ctx.run(cmd)
        .with_context(|| format!("building {} in boards/{}", board.name, board.dir))
}

/// `cargo xtask flash BOARD [--reset-secret]`: build the board's firmware,
/// write it through the debug probe and stream its defmt log (`probe-rs
/// run`). With `reset_secret`, the flash is erased first, the secret's
/// sector with it, so the board draws a new RFC 7217 secret (and so new
/// addresses) at boot.
/// Installs probe-rs-tools with cargo when `probe-rs` is missing (about
/// 11 minutes); needs the board on USB.
pub fn flash(ctx: &Ctx, name: &str, reset_secret: bool) -> Result<()> {
    let board = find(name)?;
    let Some(chip) = board.chip else {
        bail!(
            "{} runs under QEMU, not on a probe: use `cargo xtask demo`",
            board.name
        );
    };
    ensure_thumb_targets(ctx)?;
    ensure_probe_rs(ctx)?;
    build(ctx, board)?;
    if reset_secret {
        let Some((addr, size)) = board.secret_sector else {
            bail!("{} keeps no secret in flash", board.name);
        };
        // The whole flash, the secret's sector with it: the program is
        // written again just below, and the firmware then finds no record
        // and draws a new secret.
        eprintln!(
            "erasing {}'s flash, with the secret's sector at {addr:#x} ({} KiB)",
            board.name,
            size / 1024
        );
        ctx.run(ctx.sh.cmd("probe-rs").args(["erase", "--chip", chip]))
            .context("erasing the flash")?;
    }
    ctx.run(
        ctx.sh
            .cmd("probe-rs")
            .args(["run", "--chip", chip])
            .arg(board.elf(ctx)),
    )
    .context("probe-rs run")
}

/// probe-rs, installed with cargo when missing.
fn ensure_probe_rs(ctx: &Ctx) -> Result<()> {
    if packages::has("probe-rs") || cargo_bin("probe-rs").is_file() {
        return Ok(());
    }
    eprintln!(
        "probe-rs is missing: installing probe-rs-tools with \
         `cargo install probe-rs-tools --locked` (about 11 minutes)"
    );
    ctx.run(
        ctx.sh
            .cmd("cargo")
            .args(["install", "probe-rs-tools", "--locked"]),
    )
    .context("cargo install probe-rs-tools --locked")?;
    if !packages::has("probe-rs") && !cargo_bin("probe-rs").is_file() {
        bail!("probe-rs-tools installed, but `probe-rs` is not on PATH: add ~/.cargo/bin to PATH");
    }
    Ok(())
}

/// `~/.cargo/bin/NAME` (or `$CARGO_HOME/bin/NAME`).
fn cargo_bin(name: &str) -> PathBuf {
    cargo_home().join("bin").join(name)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret's sector in this table is the one the board's memory.x
    /// reserves: the program's flash ends where the sector starts.
    #[test]
    fn each_secret_sector_is_outside_its_board_program() {
        for b in BOARDS {
            let Some((addr, size)) = b.secret_sector else {
                continue;
            };
            let memory = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../boards")
                    .join(b.dir)
                    .join("memory.x"),
            )
            .unwrap();
            let flash = memory
                .lines()
                .find(|l| l.trim_start().starts_with("FLASH"))
                .unwrap();
            let num = |key: &str| {
                let v = flash.split(key).nth(1).unwrap();
                let v = v
                    .trim_start_matches([' ', '='])
                    .split([',', ' '])
                    .next()
                    .unwrap();
                if let Some(hex) = v.strip_prefix("0x") {
                    u32::from_str_radix(hex, 16).unwrap()
                } else if let Some(k) = v.strip_suffix('K') {
                    k.parse::<u32>().unwrap() * 1024
                } else {
                    v.parse().unwrap()
                }
            };
            let (origin, length) = (num("ORIGIN"), num("LENGTH"));
            assert!(
                origin + length <= addr,
                "{}: program flash {origin:#x}+{length:#x} overlaps the secret at {addr:#x}",
                b.name
            );
            assert!(size > 0 && addr % size == 0, "{}: sector alignment", b.name);
        }
    }
}
