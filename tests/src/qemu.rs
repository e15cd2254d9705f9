//! The QEMU harness: boots the mps2-an386 firmware (`boards/mps2-an386`)
//! under `qemu-system-arm`, decodes its defmt log as it arrives, and
//! hands the lines to a test or to `cargo xtask demo`.
//!
//! The firmware logs over semihosting to QEMU's standard output, so QEMU
//! runs with `-display none -monitor none -serial none`: nothing else
//! writes there. Networks ([`Net`]):
//!
//! - slirp (QEMU's user-mode network, no root) with `fd00:1::/64`; slirp
//!   answers Router Solicitations at once. With a [`PeerPorts`], a UDP
//!   socket joins the same QEMU hub: a test program on it sees every
//!   frame on the link and can send its own (no root either);
//! - a TAP device (root), for a Linux router, radvd and Linux hosts.
//!
//! Every run can write a pcap of the NIC's traffic (QEMU's
//! `filter-dump`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The board crate, relative to the repository root.
pub const BOARD_DIR: &str = "boards/mps2-an386";
/// The firmware's target.
pub const TARGET: &str = "thumbv7em-none-eabihf";
/// The prefix slirp advertises.
pub const SLIRP_PREFIX: &str = "fd00:1::";
/// slirp's router (its link-local address).
pub const SLIRP_ROUTER: &str = "fe80::2";
/// The firmware's MAC unless a test picks another: QEMU's default NIC
/// address.
pub const DEFAULT_MAC: &str = "52:54:00:12:34:56";
/// Exit code of a firmware panic or HardFault.
pub const EXIT_FAULT: i32 = 101;

/// The repository root.
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Where `cargo build --release` in [`BOARD_DIR`] puts the firmware.
pub fn firmware_elf() -> PathBuf {
    repo_root()
        .join("boards/target")
        .join(TARGET)
        .join("release/mps2-an386")
}

/// Build the firmware (release profile, its board's target); its ELF.
pub fn build_firmware() -> Result<PathBuf, String> {
    let dir = repo_root().join(BOARD_DIR);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("cannot run cargo in {}: {e}", dir.display()))?;
    if !status.success() {
        return Err(format!(
            "building the firmware failed ({status}); try: cd {} && cargo build --release",
            dir.display()
        ));
    }
    Ok(firmware_elf())
}

/// Whether `qemu-system-arm` is on PATH.
pub fn have_qemu() -> bool {
    Command::new("qemu-system-arm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// UDP ports of a test peer on the firmware's link: QEMU sends the
/// link's frames to `peer` and takes the peer's from `qemu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerPorts {
    /// Where the test program listens (127.0.0.1).
    pub peer: u16,
    /// Where QEMU listens (127.0.0.1).
    pub qemu: u16,
}

/// The firmware's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net {
    /// slirp with fd00:1::/64, and optionally a test peer on the hub.
    Slirp {
        /// The test peer's socket.
        peer: Option<PeerPorts>,
    },
    /// An existing TAP device.
    Tap {
        /// Its name.
        ifname: String,
    },
}

/// How to boot.
#[derive(Debug, Clone)]
pub struct Options {
    /// The network.
    pub net: Net,
    /// The firmware's command line (`secret=.. seed=..
    /// exit-when-configured`).
    pub append: String,
    /// Deterministic virtual time (`-icount shift=0,sleep=off`): virtual
    /// time runs only while the CPU runs, and idle time is skipped. For
    /// runs with slirp alone: a peer outside QEMU would see the
    /// firmware's clock race ahead.
    pub icount: bool,
    /// Write the NIC's traffic here.
    pub pcap: Option<PathBuf>,
    /// The NIC's MAC (default [`DEFAULT_MAC`]).
    pub mac: Option<String>,
    /// Run QEMU inside this network namespace (`ip netns exec`).
    pub netns: Option<String>,
    /// A QMP (QEMU Machine Protocol) socket here, for
    /// [`Firmware::set_link`].
    pub qmp: Option<PathBuf>,
}

impl Options {
    /// slirp, no peer, wall-clock time, no pcap.
    pub fn slirp(append: &str) -> Options {
        Options {
            net: Net::Slirp { peer: None },
            append: append.into(),
            icount: false,
            pcap: None,
            mac: None,
            netns: None,
            qmp: None,
        }
    }
}

/// The command line: `qemu-system-arm` and its arguments.
pub fn qemu_command(elf: &Path, opts: &Options) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if let Some(ns) = &opts.netns {
        a.extend(["ip", "netns", "exec", ns].map(String::from));
    }
    a.extend(
        [
            "qemu-system-arm",
            "-M",
            "mps2-an386",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
        ]
        .map(String::from),
    );
    if opts.icount {
        a.extend(["-icount", "shift=0,sleep=off"].map(String::from));
    }
    // Every netdev joins hub 0 through a hub port; the NIC is on port
    // `nic` (where the pcap is taken).
    match &opts.net {
        Net::Slirp { peer } => {
            a.push("-netdev".into());
            a.push(format!("user,id=up,ipv6=on,ipv6-net={SLIRP_PREFIX}/64"));
            a.push("-netdev".into());
            a.push("hubport,id=h0,hubid=0,netdev=up".into());
            if let Some(p) = peer {
                a.push("-netdev".into());
                a.push(format!(
                    "socket,id=peer,udp=127.0.0.1:{},localaddr=127.0.0.1:{}",
                    p.peer, p.qemu
                ));
                a.push("-netdev".into());
                a.push("hubport,id=h1,hubid=0,netdev=peer".into());
            }
        }
        Net::Tap { ifname } => {
            a.push("-netdev".into());
            a.push(format!(
                "tap,id=tap,ifname={ifname},script=no,downscript=no"
            ));
            a.push("-netdev".into());
            a.push("hubport,id=h0,hubid=0,netdev=tap".into());
        }
    }
    a.push("-netdev".into());
    a.push("hubport,id=nic,hubid=0".into());
    a.push("-net".into());
    let mac = opts.mac.as_deref().unwrap_or(DEFAULT_MAC);
    a.push(format!("nic,model=lan9118,netdev=nic,macaddr={mac}"));
    if let Some(qmp) = &opts.qmp {
        a.push("-qmp".into());
        a.push(format!("unix:{},server=on,wait=off", qmp.display()));
    }
    if let Some(pcap) = &opts.pcap {
        a.push("-object".into());
        a.push(format!(
            "filter-dump,id=dump,netdev=nic,file={}",
            pcap.display()
        ));
    }
    a.push("-kernel".into());
    a.push(elf.display().to_string());
    if !opts.append.is_empty() {
        a.push("-append".into());
        a.push(opts.append.clone());
    }
    a
}

/// One decoded log line.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// When the host decoded it.
    pub wall: Instant,
    /// The firmware's clock (ms since boot), from the defmt timestamp.
    pub ms: Option<u64>,
    /// `trace` .. `error`, or `host` for the harness's own notes.
    pub level: &'static str,
    /// The message.
    pub text: String,
}

impl LogLine {
    /// A panic or HardFault report.
    pub fn is_fault(&self) -> bool {
        self.level == "error"
            && (self.text.starts_with("panic:") || self.text.starts_with("HardFault"))
    }
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ms {
            Some(ms) => write!(f, "{:>6}.{:03} ", ms / 1000, ms % 1000)?,
            None => write!(f, "{:>10} ", "")?,
        }
        write!(f, "{:<5} {}", self.level.to_uppercase(), self.text)
    }
}

#[derive(Default)]
struct Log {
    lines: Vec<LogLine>,
    /// QEMU's standard output closed.
    ended: bool,
}

type Shared = Arc<(Mutex<Log>, Condvar)>;

/// A running firmware.
pub struct Firmware {
    child: Mutex<Child>,
    log: Shared,
    /// When QEMU was started.
    pub started: Instant,
    /// The command line, for messages.
    pub command: String,
}

impl Firmware {
    /// Start QEMU with `elf` and decode its log in a thread.
    pub fn boot(elf: &Path, opts: &Options) -> Result<Firmware, String> {
        let bytes =
            std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
        let table = defmt_decoder::Table::parse(&bytes)
            .map_err(|e| format!("{}: bad defmt data: {e}", elf.display()))?
            .ok_or_else(|| format!("{} has no defmt data", elf.display()))?;
        let argv = qemu_command(elf, opts);
        let command = argv.join(" ");
        let (prog, rest) = argv.split_first().ok_or("empty command")?;
        let mut child = Command::new(prog)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        let started = Instant::now();
        let log: Shared = Arc::default();
        let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut decoder = table.new_stream_decoder();
            let mut buf = [0u8; 4096];
            loop {
                let n = match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                decoder.received(buf.get(..n).unwrap_or(&[]));
                loop {
                    let line = match decoder.decode() {
                        Ok(frame) => LogLine {
                            wall: Instant::now(),
                            ms: frame
                                .display_timestamp()
                                .and_then(|t| t.to_string().trim().parse().ok()),
                            level: frame.level().map_or("print", |l| l.as_str()),
                            text: frame.display_message().to_string(),
                        },
                        Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
                        Err(defmt_decoder::DecodeError::Malformed) => LogLine {
                            wall: Instant::now(),
                            ms: None,
                            level: "host",
                            text: "malformed defmt frame (skipped)".into(),
                        },
                    };
                    push(&sink, |log| log.lines.push(line));
                }
            }
            push(&sink, |log| log.ended = true);
        });
        // QEMU's own complaints (bad options, missing TAP) as host lines.
        if let Some(mut stderr) = child.stderr.take() {
            let sink = log.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                for l in text.lines().filter(|l| !l.trim().is_empty()) {
                    let line = LogLine {
                        wall: Instant::now(),
                        ms: None,
                        level: "host",
                        text: format!("qemu: {l}"),
                    };
                    push(&sink, |log| log.lines.push(line));
                }
            });
        }
        Ok(Firmware {
            child: Mutex::new(child),
            log,
            started,
            command,
        })
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<LogLine> {
        self.log
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .clone()
    }

    /// The whole log so far as text.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for l in self.lines() {
            out += &format!("{l}\n");
        }
        out
    }

    /// Wait up to `timeout` for a line matching `pred`. Fails, with the
    /// log so far, on a timeout, a panic or HardFault, or the end of the
    /// run.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&LogLine) -> bool,
    ) -> Result<LogLine, String> {
        let end = Instant::now() + timeout;
        let (m, cv) = &*self.log;
        let mut log = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(l) = log.lines.iter().find(|l| pred(l)) {
                return Ok(l.clone());
            }
            let why = if let Some(f) = log.lines.iter().find(|l| l.is_fault()) {
                Some(format!("the firmware crashed: {}", f.text))
            } else if log.ended {
                Some("the firmware stopped".to_string())
            } else if Instant::now() >= end {
                Some(format!("timed out after {timeout:?}"))
            } else {
                None
            };
            if let Some(why) = why {
                let text: Vec<String> = log.lines.iter().map(|l| l.to_string()).collect();
                return Err(format!(
                    "no {what}: {why}\n---- `{}`\n---- firmware log:\n{}",
                    self.command,
                    text.join("\n")
                ));
            }
            let left = end.saturating_duration_since(Instant::now());
            log = cv
                .wait_timeout(log, left.min(Duration::from_millis(200)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The exit status, waiting up to `timeout` for QEMU to end.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            let status = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait()
                .ok()
                .flatten();
            if status.is_some() || Instant::now() >= end {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop QEMU (SIGKILL) if it still runs.
    pub fn kill(&self) {
        let mut c = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if c.try_wait().ok().flatten().is_none() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Take the NIC's link down or up, as pulling and plugging the cable
    /// would (QMP `set_link` on the NIC's hub port, which QEMU passes on
    /// to the LAN9118's PHY). Needs [`Options::qmp`].
    pub fn set_link(&self, qmp: &Path, up: bool) -> Result<(), String> {
        use std::io::{BufRead, BufReader, Write};
        let stream = std::os::unix::net::UnixStream::connect(qmp)
            .map_err(|e| format!("cannot connect to QMP at {}: {e}", qmp.display()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let mut writer = stream;
        let mut line = String::new();
        // The greeting, then each command's answer (events may come
        // between: skip them).
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let cmd = format!(r#"{{"execute":"set_link","arguments":{{"name":"nic","up":{up}}}}}"#);
        for c in [r#"{"execute":"qmp_capabilities"}"#, cmd.as_str()] {
            writer
                .write_all(format!("{c}\n").as_bytes())
                .map_err(|e| e.to_string())?;
            loop {
                line.clear();
                if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                    return Err("QMP closed the connection".into());
                }
                if line.contains("\"return\"") {
                    break;
                }
                if line.contains("\"error\"") {
                    return Err(format!("QMP refused `{c}`: {}", line.trim()));
                }
            }
        }
        Ok(())
    }

    /// The lines that report a panic or HardFault.
    pub fn faults(&self) -> Vec<LogLine> {
        self.lines().into_iter().filter(LogLine::is_fault).collect()
    }
}

impl Drop for Firmware {
    fn drop(&mut self) {
        self.kill();
    }
}

fn push(shared: &Shared, f: impl FnOnce(&mut Log)) {
    let (m, cv) = &**shared;
    f(&mut m.lock().unwrap_or_else(|e| e.into_inner()));
    cv.notify_all();
}

/// The fields of the demo's `configured link-local LL global G router R`
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    /// The link-local address.
    pub link_local: String,
    /// The first usable global address.
    pub global: String,
    /// The default router.
    pub router: String,
}

/// Parse the demo's `configured ...` line.
pub fn parse_configured(text: &str) -> Option<Configured> {
    let mut w = text.split_whitespace();
    if w.next()? != "configured" || w.next()? != "link-local" {
        return None;
    }
    let link_local = w.next()?.to_string();
    if w.next()? != "global" {
        return None;
    }
    let global = w.next()?.to_string();
    if w.next()? != "router" {
        return None;
    }
    Some(Configured {
        link_local,
        global,
        router: w.next()?.to_string(),
    })
}

/// Parse an `address A/LEN STATE` line: (address, state).
pub fn parse_address(text: &str) -> Option<(String, String)> {
    let mut w = text.split_whitespace();
    if w.next()? != "address" {
        return None;
    }
    let addr = w.next()?.split('/').next()?.to_string();
    Some((addr, w.next()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slirp_with_peer_and_pcap_puts_everything_on_hub_0() {
        let opts = Options {
            net: Net::Slirp {
                peer: Some(PeerPorts {
                    peer: 4000,
                    qemu: 4001,
                }),
            },
            append: "seed=3".into(),
            icount: true,
            pcap: Some(PathBuf::from("/tmp/x.pcap")),
            mac: None,
            netns: None,
            qmp: Some(PathBuf::from("/tmp/q.sock")),
        };
        let cmd = qemu_command(Path::new("fw.elf"), &opts).join(" ");
        for part in [
            "-icount shift=0,sleep=off",
            "-netdev user,id=up,ipv6=on,ipv6-net=fd00:1::/64",
            "-netdev hubport,id=h0,hubid=0,netdev=up",
            "-netdev socket,id=peer,udp=127.0.0.1:4000,localaddr=127.0.0.1:4001",
            "-netdev hubport,id=h1,hubid=0,netdev=peer",
            "-net nic,model=lan9118,netdev=nic,macaddr=52:54:00:12:34:56",
            "-object filter-dump,id=dump,netdev=nic,file=/tmp/x.pcap",
            "-qmp unix:/tmp/q.sock,server=on,wait=off",
            "-kernel fw.elf -append seed=3",
        ] {
            assert!(cmd.contains(part), "{part:?} missing from {cmd}");
        }
        assert!(cmd.starts_with("qemu-system-arm -M mps2-an386"));
    }

    #[test]
    fn tap_in_a_namespace() {
        let mut opts = Options::slirp("");
        opts.net = Net::Tap {
            ifname: "tap0".into(),
        };
        opts.netns = Some("lab".into());
        let cmd = qemu_command(Path::new("fw.elf"), &opts).join(" ");
        assert!(cmd.starts_with("ip netns exec lab qemu-system-arm"));
        assert!(cmd.contains("-netdev tap,id=tap,ifname=tap0,script=no,downscript=no"));
        assert!(!cmd.contains("user,"));
        assert!(!cmd.contains("-append"));
    }

    #[test]
    fn demo_lines_parse() {
        let c = parse_configured("configured link-local fe80::1 global fd00:1::5 router fe80::2");
        assert_eq!(
            c,
            Some(Configured {
                link_local: "fe80::1".into(),
                global: "fd00:1::5".into(),
                router: "fe80::2".into(),
            })
        );
        assert_eq!(parse_configured("configured link-local fe80::1"), None);
        assert_eq!(
            parse_address("address fd00:1::5/64 optimistic"),
            Some(("fd00:1::5".into(), "optimistic".into()))
        );
        assert_eq!(parse_address("router fe80::2 lifetime 1800 s"), None);
    }

    #[test]
    fn faults_are_recognised() {
        let line = |level, text: &str| LogLine {
            wall: Instant::now(),
            ms: Some(1),
            level,
            text: text.into(),
        };
        assert!(line("error", "panic: oops").is_fault());
        assert!(line("error", "HardFault at pc 0x1").is_fault());
        assert!(!line("info", "panic: not really").is_fault());
        assert!(!line("error", "LAN9118: NotFound").is_fault());
    }
}
