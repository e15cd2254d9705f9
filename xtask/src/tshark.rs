//! The "sim pcaps (tshark)" step of `cargo xtask test`: Wireshark's
//! dissectors, written by other people, check every frame the simulator
//! scenarios put on the wire (tests/src/sim writes one pcap per scenario
//! to `<target>/sim-pcap/`).
//!
//! A frame fails when tshark attaches expert info of severity warning or
//! worse. Severity error alone is not enough: in tshark 4.0 a bad ICMPv6
//! checksum and an IPv6 payload length beyond the frame are only warnings,
//! while malformed packets are errors. ICMPv6 checksums are always
//! verified (there is no preference to turn on). Before looking at the
//! scenarios the step proves the filter works on the installed tshark with
//! a canary file of known-broken frames.
//!
//! Frames a scenario broke on purpose (`Sim::inject_broken`) are listed in
//! `<name>.broken-frames` beside its pcap and are not reported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, Result, bail};

use crate::runner::{Ctx, Outcome};

/// Display filter selecting the frames to report.
pub const FILTER: &str = "_ws.expert.severity >= warning";

/// Flagged frames shown per file (the rest are counted).
const MAX_SHOWN: usize = 20;

/// Beside each `<name>.pcap`: frame numbers broken on purpose.
const BROKEN_FRAMES_EXT: &str = "broken-frames";

/// Checks the pcaps written since `since` (older ones are left over from
/// scenarios that no longer exist and are ignored).
pub fn check_sim_pcaps(ctx: &Ctx, since: SystemTime) -> Result<Outcome> {
    check_pcaps(
        ctx,
        since,
        "sim-pcap",
        "simulator",
        "expected one per scenario from tests/tests/sim_*.rs",
    )
}

/// Checks the firmware tests' pcaps (`<target>/firmware/`) written since
/// `since`.
pub fn check_firmware_pcaps(ctx: &Ctx, since: SystemTime) -> Result<Outcome> {
    check_pcaps(
        ctx,
        since,
        "firmware",
        "firmware",
        "expected one per QEMU run of tests/tests/firmware.rs",
    )
}

fn check_pcaps(
    ctx: &Ctx,
    since: SystemTime,
    subdir: &str,
    what: &str,
    expected: &str,
) -> Result<Outcome> {
    let version = ensure_tshark(ctx)?;
    let target = crate::target_dir(ctx);
    check_canary(ctx, &target)?;

    let dir = target.join(subdir);
    let (fresh, stale) = list_pcaps(&dir, since)?;
    if fresh.is_empty() {
        bail!(
            "the {what} tests did not write any pcap to {} during this run ({expected})",
            dir.display()
        );
    }
    if stale > 0 {
        eprintln!(
            "ignoring {stale} pcap(s) older than this run in {}",
            dir.display()
        );
    }
    let mut failures = Vec::new();
    for file in &fresh {
        let expected = broken_on_purpose(file)?;
        let flagged: Vec<(u64, String)> = flagged_frames(ctx, file)?
            .into_iter()
            .filter(|(n, _)| !expected.contains(n))
            .collect();
        if !flagged.is_empty() {
            failures.push((file, flagged));
        }
    }
    eprintln!(
        "tshark ({version}) checked {} pcap file(s) in {} with -Y '{FILTER}'",
        fresh.len(),
        dir.display()
    );
    if !failures.is_empty() {
        let mut msg = format!(
            "tshark flags frames in {} of {} {what} pcap(s) (frame number, expert info, summary):",
            failures.len(),
            fresh.len()
        );
        for (file, frames) in &failures {
            msg.push_str(&format!("\n  {}:", file.display()));
            for (_, line) in frames.iter().take(MAX_SHOWN) {
                msg.push_str(&format!("\n    {line}"));
            }
            if frames.len() > MAX_SHOWN {
                msg.push_str(&format!("\n    ... and {} more", frames.len() - MAX_SHOWN));
            }
        }
        bail!("{msg}");
    }
    Ok(Outcome::Passed(Some(format!(
        "{} pcaps, no expert warnings",
        fresh.len()
    ))))
}

/// Returns tshark's version line, installing it with apt-get when it is
/// missing and we are root.
fn ensure_tshark(ctx: &Ctx) -> Result<String> {
    if let Some(v) = tshark_version(ctx) {
        return Ok(v);
    }
    crate::packages::ensure(ctx, &[("tshark", "tshark")])?;
    tshark_version(ctx).context("apt-get installed tshark but `tshark --version` still fails")
}

fn tshark_version(ctx: &Ctx) -> Option<String> {
    let cmd = ctx.sh.cmd("tshark").arg("--version");
    ctx.echo(&cmd);
    let out = cmd.quiet().ignore_stderr().read().ok()?;
    Some(out.lines().next().unwrap_or("tshark").trim().to_string())
}

/// The `*.pcap` files of `dir`, sorted: (modified since `since`, count of
/// older ones).
fn list_pcaps(dir: &Path, since: SystemTime) -> Result<(Vec<PathBuf>, usize)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(err) => return Err(err).with_context(|| format!("cannot list {}", dir.display())),
    };
    let (mut fresh, mut stale) = (Vec::new(), 0);
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "pcap") {
            continue;
        }
        let modified = std::fs::metadata(&path)?.modified()?;
        if modified >= since {
            fresh.push(path);
        } else {
            stale += 1;
        }
    }
    fresh.sort();
    Ok((fresh, stale))
}

/// Frame numbers listed in the file beside `pcap` (none if it is absent).
fn broken_on_purpose(pcap: &Path) -> Result<BTreeSet<u64>> {
    let path = pcap.with_extension(BROKEN_FRAMES_EXT);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.parse()
                .with_context(|| format!("{}: not a frame number: {l:?}", path.display()))
        })
        .collect()
}

/// The frames of `file` matching [`FILTER`], as (number, line to show).
fn flagged_frames(ctx: &Ctx, file: &Path) -> Result<Vec<(u64, String)>> {
    let cmd = ctx
        .sh
        .cmd("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", FILTER, "-T", "fields"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.message",
            "-e",
            "_ws.col.Info",
        ]);
    ctx.echo(&cmd);
    let out = cmd.quiet().ignore_status().output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "tshark failed on {} ({}):\n{}{}",
            file.display(),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let number = line.split('\t').next().unwrap_or("").trim();
            let n = number
                .parse()
                .with_context(|| format!("unexpected tshark output line {line:?}"))?;
            Ok((n, line.replace('\t', "  ")))
        })
        .collect()
}

/// Proves that [`FILTER`] catches broken frames on this tshark: a file with
/// one valid echo request and three broken copies must flag exactly the
/// broken ones.
fn check_canary(ctx: &Ctx, target: &Path) -> Result<()> {
    let path = target.join("tshark-canary.pcap");
    std::fs::create_dir_all(target)?;
    std::fs::write(&path, canary_pcap())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let flagged: Vec<u64> = flagged_frames(ctx, &path)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    if flagged != [2, 3, 4] {
        bail!(
            "tshark self-check failed: in {} (frame 1 valid; 2 bad ICMPv6 checksum, \
             3 IPv6 payload length beyond the frame, 4 truncated Neighbor Solicitation) \
             the filter '{FILTER}' flagged frames {flagged:?}, expected [2, 3, 4]. \
             This tshark version reports problems differently; adjust FILTER in xtask/src/tshark.rs.",
            path.display()
        );
    }
    eprintln!(
        "tshark self-check: '{FILTER}' flags the three broken canary frames and not the valid one"
    );
    Ok(())
}

/// A classic pcap (microseconds, Ethernet) with the canary frames.
fn canary_pcap() -> Vec<u8> {
    let src = ipv6_ll(1);
    let dst = ipv6_ll(2);
    let mut echo = vec![128, 0, 0, 0, 0, 1, 0, 1];
    echo.extend_from_slice(b"abcdefgh");
    let good = frame(&src, &dst, &echo, None);
    let mut bad_checksum = good.clone();
    bad_checksum[56] ^= 0xff; // ICMPv6 checksum, after 14 + 40 header bytes
    let long = frame(&src, &dst, &echo, Some(40));
    // A Neighbor Solicitation must be at least 24 bytes; this one is 16.
    let mut short_ns = echo.clone();
    short_ns[0] = 135;
    let short_ns = frame(&src, &dst, &short_ns, None);

    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in [good, bad_checksum, long, short_ns].iter().enumerate() {
        let len = f.len() as u32;
        for v in [i as u32, 0, len, len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    out
}

/// fe80::`n`.
fn ipv6_ll(n: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[15] = n;
    a
}

/// Ethernet + IPv6 + `icmp` with its checksum filled in; `payload_len`
/// overrides the IPv6 Payload Length field.
fn frame(src: &[u8; 16], dst: &[u8; 16], icmp: &[u8], payload_len: Option<u16>) -> Vec<u8> {
    let mut icmp = icmp.to_vec();
    icmp[2..4].fill(0);
    let sum = icmpv6_checksum(src, dst, &icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut f = vec![
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0,
    ];
    f.extend_from_slice(&payload_len.unwrap_or(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, 255]);
    f.extend_from_slice(src);
    f.extend_from_slice(dst);
    f.extend_from_slice(&icmp);
    f
}

/// RFC 4443 §2.3 over the RFC 8200 §8.1 pseudo-header (even-length `msg`).
fn icmpv6_checksum(src: &[u8; 16], dst: &[u8; 16], msg: &[u8]) -> u16 {
    let len = (msg.len() as u32).to_be_bytes();
    let mut sum: u32 = [&src[..], dst, &len, &[0, 0, 0, 58], msg]
        .iter()
        .flat_map(|part| part.chunks(2))
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_checksum_matches_a_known_value() {
        // Computed independently (Python) for fe80::1 -> fe80::2, echo
        // request id 1 seq 1 "abcdefgh"; tshark calls it correct.
        let mut echo = vec![128, 0, 0, 0, 0, 1, 0, 1];
        echo.extend_from_slice(b"abcdefgh");
        assert_eq!(icmpv6_checksum(&ipv6_ll(1), &ipv6_ll(2), &echo), 0xf118);
    }

    #[test]
    fn canary_file_has_four_frames() {
        let pcap = canary_pcap();
        assert_eq!(pcap.len(), 24 + 4 * 16 + 70 * 3 + 70);
    }
}
