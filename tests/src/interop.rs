//! Interop harness: a Linux router and a Linux host in network namespaces,
//! radvd, packet capture, and processes whose JSON lines a test waits on.
//!
//! Topology of a [`Lab`] (every name is private to the lab's namespaces):
//!
//! ```text
//!   router namespace                              host namespace
//!   +---------------------------------------+     +---------------+
//!   | br0: 2001:db8:1::1/64, radvd, tcpdump |     |               |
//!   |  +-- tap0 <-> linux-tap (engine)      |     |               |
//!   |  +-- vr   <-------------------------------->| vh (Linux)    |
//!   +---------------------------------------+     +---------------+
//! ```
//!
//! The router is the Linux kernel with forwarding on and
//! accept_untracked_na=1 on br0 (RFC 9131); the host is a plain Linux
//! node. For IPv4 the router can also get an address on br0
//! ([`Lab::router_add_ipv4`]) and run dnsmasq as a DHCPv4 server
//! ([`Lab::start_dnsmasq`]). Needs root, `ip` (iproute2), radvd, tcpdump,
//! ping and python3 (and dnsmasq for DHCPv4); a lab removes its namespaces
//! (and with them every interface) and stops its processes when dropped,
//! and prints `ip addr`, `ip neigh` (both families), dnsmasq's log and the
//! pcap path when dropped during a panic.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The router's address on the lab link.
pub const ROUTER_ADDR: &str = "2001:db8:1::1";
/// The prefix radvd advertises.
pub const PREFIX: &str = "2001:db8:1::";
/// The attacker's interface, in [`Lab::add_attacker`]'s namespace.
pub const ATTACKER_IFACE: &str = "atk0";
/// What the attacker's port can send ([`Lab::add_attacker`]): Fast
/// Ethernet, as `tc` spells it.
pub const ATTACKER_RATE: &str = "100mbit";

/// True when running as root (uid 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// When not root, say loudly that `test` is skipped (written straight to
/// the process's stderr, which the test harness does not capture) and
/// return true.
pub fn skip_unless_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    let msg = format!(
        "\n!!! SKIPPED interop test `{test}`: it needs root (network namespaces, TAP).\n\
         !!! Run `cargo xtask test` as root, or this `cargo test` command under `sudo -E`.\n"
    );
    let _ = std::io::stderr().write_all(msg.as_bytes());
    true
}

/// Run a command; its stdout, or a panic naming it with its stderr.
pub fn run(args: &[&str]) -> String {
    try_run(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Run a command; its stdout, or an error naming it with its stderr.
pub fn try_run(args: &[&str]) -> Result<String, String> {
    let (prog, rest) = args.split_first().ok_or("empty command")?;
    let out = Command::new(prog)
        .args(rest)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run a command inside network namespace `ns`.
pub fn ns_run(ns: &str, args: &[&str]) -> String {
    let mut all = vec!["ip", "netns", "exec", ns];
    all.extend_from_slice(args);
    run(&all)
}

/// Poll `f` every 20 ms until it returns `Some` or `timeout` passes.
pub fn poll_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

static LABS: AtomicU32 = AtomicU32::new(0);

/// Delete namespaces left by labs whose test process died without
/// cleaning up (`ndp<pid>x<n>r|h` with no process `<pid>`).
fn remove_stale_namespaces() {
    let Ok(list) = try_run(&["ip", "netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix("ndp")
            .and_then(|rest| rest.split('x').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = try_run(&["ip", "netns", "del", name]);
        }
    }
}

/// A prefix for this test's namespace names, unique within the machine
/// (`ndp<pid>x<n>`: add one letter per namespace), after deleting the
/// namespaces of test processes that died without cleaning up.
pub fn namespace_prefix() -> String {
    let n = LABS.fetch_add(1, Ordering::Relaxed);
    remove_stale_namespaces();
    format!("ndp{}x{n}", std::process::id())
}

/// Send "ndp-interop" to `addr` port 7 (a device's UDP echo, RFC 862)
/// from namespace `ns` with Python, `tries` datagrams a second apart, and
/// return what came back and from where ("ndp-interop SOURCE"); `Err`
/// containing "no echo" when nothing did. `addr` is IPv4, IPv6, or IPv6
/// with a scope (`ff02::fb%br0`).
pub fn udp_echo(ns: &str, addr: &str, tries: u32) -> Result<String, String> {
    const SCRIPT: &str = "
import socket, sys
ai = socket.getaddrinfo(sys.argv[1], 7, 0, socket.SOCK_DGRAM)[0]
s = socket.socket(ai[0], socket.SOCK_DGRAM)
s.settimeout(1.0)
for _ in range(int(sys.argv[2])):
    s.sendto(b'ndp-interop', ai[4])
    try:
        data, src = s.recvfrom(2048)
        print(data.decode(), src[0])
        sys.exit(0)
    except socket.timeout:
        pass
print('no echo', file=sys.stderr)
sys.exit(1)
";
    let tries = tries.to_string();
    try_run(&[
        "ip", "netns", "exec", ns, "python3", "-c", SCRIPT, addr, &tries,
    ])
}

/// Three pings of `addr` from namespace `ns`, 0.2 s apart, each waited
/// for 2 s; `family` is `-4` or `-6`.
pub fn ping(ns: &str, family: &str, addr: &str) -> Result<String, String> {
    try_run(&[
        "ip", "netns", "exec", ns, "ping", family, "-n", "-c", "3", "-i", "0.2", "-W", "2", addr,
    ])
}

/// The (first) link-local address of `dev` in namespace `ns`; panics
/// when it has none.
pub fn link_local(ns: &str, dev: &str) -> String {
    let out = ns_run(
        ns,
        &[
            "ip", "-6", "-o", "addr", "show", "dev", dev, "scope", "link",
        ],
    );
    out.split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .unwrap_or_else(|| panic!("{dev} in {ns} has no link-local address: {out}"))
        .to_owned()
}

/// [`ping`] that must lose nothing: its output, or a panic saying what
/// was pinged from where, with ping's output.
pub fn ping_every(ns: &str, family: &str, addr: &str) -> String {
    let out = ping(ns, family, addr).unwrap_or_else(|e| panic!("ping {addr} from {ns}: {e}"));
    assert!(
        out.contains(" 0% packet loss"),
        "ping {addr} from {ns}:\n{out}"
    );
    out
}

/// Which sysctls the Linux host gets.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// Autoconfigure from radvd (accept_ra=1); off, the host holds only
    /// the addresses a test gives it.
    pub slaac: bool,
    /// Optimistic DAD (optimistic_dad=1, use_optimistic=1).
    pub optimistic: bool,
    /// RFC 7217 addresses from this secret (addr_gen_mode=2).
    pub stable_secret: Option<String>,
}

/// Two namespaces, a bridge, a TAP for linux-tap, a veth to the host.
pub struct Lab {
    pub name: String,
    pub router: String,
    pub host: String,
    pub dir: PathBuf,
    pub pcap: PathBuf,
    /// The namespace [`Lab::add_attacker`] made, if any.
    pub attacker: Option<String>,
    radvd: Option<Child>,
    dnsmasq: Option<Child>,
    tcpdump: Option<Child>,
    procs: Vec<Arc<Proc>>,
}

impl Lab {
    /// Set the lab up; `name` names its output directory
    /// (`target/interop/<name>`). The host's link is left down when
    /// `host.slaac` is set, for [`Lab::host_link_up`] to time.
    pub fn new(name: &str, host: HostConfig) -> Lab {
        let id = namespace_prefix();
        let dir = crate::target_dir().join("interop").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the lab's directory");
        let mut lab = Lab {
            name: name.into(),
            router: format!("{id}r"),
            host: format!("{id}h"),
            pcap: dir.join("br0.pcap"),
            dir,
            attacker: None,
            radvd: None,
            dnsmasq: None,
            tcpdump: None,
            procs: Vec::new(),
        };
        lab.build(&host);
        lab
    }

    fn build(&mut self, host: &HostConfig) {
        let (r, h) = (self.router.clone(), self.host.clone());
        run(&["ip", "netns", "add", &r]);
        run(&["ip", "netns", "add", &h]);
        let rs = |args: &[&str]| ns_run(&r, args);
        let hs = |args: &[&str]| ns_run(&h, args);
        rs(&["ip", "link", "set", "lo", "up"]);
        hs(&["ip", "link", "set", "lo", "up"]);
        // Defaults for interfaces created from now on, then the router's.
        rs(&["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
        rs(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
        rs(&[
            "ip",
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        rs(&["sysctl", "-qw", "net.ipv6.conf.br0.accept_untracked_na=1"]);
        rs(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        rs(&["ip", "link", "set", "tap0", "master", "br0"]);
        rs(&[
            "ip", "link", "add", "vr", "type", "veth", "peer", "name", "vh",
        ]);
        rs(&["ip", "link", "set", "vh", "netns", &h]);
        rs(&["ip", "link", "set", "vr", "master", "br0"]);
        for dev in ["br0", "tap0", "vr"] {
            rs(&["ip", "link", "set", dev, "up"]);
        }
        rs(&[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{ROUTER_ADDR}/64"),
            "dev",
            "br0",
            "nodad",
        ]);
        let accept_ra = if host.slaac { "1" } else { "0" };
        hs(&[
            "sysctl",
            "-qw",
            &format!("net.ipv6.conf.vh.accept_ra={accept_ra}"),
        ]);
        if host.optimistic {
            hs(&["sysctl", "-qw", "net.ipv6.conf.vh.optimistic_dad=1"]);
            hs(&["sysctl", "-qw", "net.ipv6.conf.vh.use_optimistic=1"]);
        }
        if let Some(secret) = &host.stable_secret {
            hs(&[
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.vh.stable_secret={secret}"),
            ]);
            hs(&["sysctl", "-qw", "net.ipv6.conf.vh.addr_gen_mode=2"]);
        }
        if !host.slaac {
            hs(&["ip", "link", "set", "vh", "up"]);
        }
        let pcap = self.pcap.to_string_lossy().into_owned();
        // --immediate-mode: otherwise libpcap hands tcpdump the frames a
        // block at a time (TPACKET_V3), and the frames of the last second
        // or more before SIGTERM, the ones a failing test needs, never
        // reach the file.
        let tcpdump = Command::new("ip")
            .args([
                "netns",
                "exec",
                &r,
                "tcpdump",
                "-i",
                "br0",
                "--immediate-mode",
                "-U",
                "-n",
                "-s",
                "0",
                "-w",
            ])
            .arg(&pcap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tcpdump");
        self.tcpdump = Some(tcpdump);
        // tcpdump opens the file once it captures.
        poll_until(Duration::from_secs(5), || self.pcap.exists().then_some(()))
            .expect("tcpdump did not start capturing");
    }

    /// Start radvd on br0 with `interface_body` (what goes between the
    /// braces of `interface br0 { ... }`).
    pub fn start_radvd(&mut self, interface_body: &str) {
        let conf = self.dir.join("radvd.conf");
        std::fs::write(&conf, format!("interface br0 {{\n{interface_body}\n}};\n"))
            .expect("write radvd.conf");
        let log = std::fs::File::create(self.dir.join("radvd.log")).expect("radvd log");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.router,
                "radvd",
                "-n",
                "-m",
                "stderr",
                "-d",
                "1",
            ])
            .arg("-C")
            .arg(&conf)
            .arg("-p")
            .arg(self.dir.join("radvd.pid"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start radvd");
        self.radvd = Some(child);
    }

    /// Give the router `cidr` (`ADDR/LEN`, IPv4) on br0.
    pub fn router_add_ipv4(&self, cidr: &str) {
        ns_run(
            &self.router,
            &["ip", "-4", "addr", "add", cidr, "dev", "br0"],
        );
    }

    /// Start dnsmasq on br0 as a DHCPv4 server only (no DNS: `--port=0`;
    /// no configuration file, no hosts or resolv.conf) with `dhcp_args`
    /// (`--dhcp-range=...`, `--dhcp-option=...`). Its lease file, pid file
    /// and log (`--log-dhcp`) are in the lab's directory. br0 needs an
    /// IPv4 address in the range's subnet first
    /// ([`Lab::router_add_ipv4`]). Returns once dnsmasq has written its
    /// pid file (it has bound its sockets by then).
    pub fn start_dnsmasq(&mut self, dhcp_args: &[&str]) {
        assert!(self.dnsmasq.is_none(), "dnsmasq is running already");
        let path = |name: &str| self.dir.join(name).to_string_lossy().into_owned();
        let (pid, leases, log) = (
            path("dnsmasq.pid"),
            path("dnsmasq.leases"),
            path("dnsmasq.log"),
        );
        let stderr = std::fs::File::create(&log).expect("dnsmasq log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.router, "dnsmasq"])
            .args([
                // In the foreground but writing its pid file (which
                // --no-daemon does not).
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--port=0",
                "--interface=br0",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--log-dhcp",
                "--log-facility=-",
                "--user=root",
                "--group=root",
            ])
            .arg(format!("--pid-file={pid}"))
            .arg(format!("--dhcp-leasefile={leases}"))
            .args(dhcp_args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start dnsmasq");
        self.dnsmasq = Some(child);
        let started = poll_until(Duration::from_secs(5), || {
            std::fs::metadata(&pid)
                .is_ok_and(|m| m.len() > 0)
                .then_some(())
        });
        if started.is_none() {
            panic!(
                "dnsmasq did not start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    /// Stop radvd with SIGTERM (it sends its final advertisements, router
    /// lifetime 0) and wait for it.
    pub fn stop_radvd(&mut self) -> ExitStatus {
        let mut child = self.radvd.take().expect("radvd is running");
        signal(child.id(), "TERM");
        wait_timeout(&mut child, Duration::from_secs(10)).expect("radvd did not stop")
    }

    /// Run `bin args` in the router namespace (so it attaches to tap0) and
    /// collect its JSON lines.
    pub fn spawn_json(&mut self, name: &str, bin: &Path, args: &[&str]) -> Arc<Proc> {
        let p = Proc::spawn(name, &self.router, bin, args, &self.dir);
        self.procs.push(p.clone());
        p
    }

    /// Add an attacker: namespace `<id>a` whose interface
    /// [`ATTACKER_IFACE`] is a veth port of br0 (peer `va` in the router
    /// namespace), up, with only its link-local address (no DAD, RAs
    /// ignored). Returns the namespace's name; it is removed with the lab.
    /// br0's MAC is pinned first: a bridge takes its lowest port's MAC, so
    /// a new port could otherwise change the router's link-layer address.
    ///
    /// The attacker's port sends at most [`ATTACKER_RATE`], the speed of the
    /// 10/100 Ethernet the boards have: a veth otherwise carries whatever
    /// the CPU can generate (1.8 million frames in 10 s was seen), more
    /// than any wire the device sits on. And tap0's queue toward linux-tap
    /// grows to 10,000 frames (70 ms at that rate): a microcontroller owns
    /// its CPU, while linux-tap shares two cores with the attack and the
    /// bridge, and a moment off the CPU would otherwise cost frames that a
    /// device would have read.
    pub fn add_attacker(&mut self) -> String {
        assert!(self.attacker.is_none(), "the lab has an attacker already");
        let ns = format!("{}a", self.router.trim_end_matches('r'));
        run(&["ip", "netns", "add", &ns]);
        self.attacker = Some(ns.clone());
        let r = self.router.clone();
        let rs = |args: &[&str]| ns_run(&r, args);
        let mac = rs(&["cat", "/sys/class/net/br0/address"]);
        rs(&["ip", "link", "set", "br0", "address", mac.trim()]);
        rs(&[
            "ip",
            "link",
            "add",
            "va",
            "type",
            "veth",
            "peer",
            "name",
            ATTACKER_IFACE,
        ]);
        rs(&["ip", "link", "set", ATTACKER_IFACE, "netns", &ns]);
        rs(&["ip", "link", "set", "tap0", "txqueuelen", "10000"]);
        rs(&["ip", "link", "set", "va", "master", "br0"]);
        rs(&["ip", "link", "set", "va", "up"]);
        let at = |args: &[&str]| ns_run(&ns, args);
        at(&["ip", "link", "set", "lo", "up"]);
        for setting in ["accept_ra=0", "accept_dad=0"] {
            at(&[
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.{ATTACKER_IFACE}.{setting}"),
            ]);
        }
        at(&["ip", "link", "set", ATTACKER_IFACE, "up"]);
        at(&[
            "tc",
            "qdisc",
            "add",
            "dev",
            ATTACKER_IFACE,
            "root",
            "tbf",
            "rate",
            ATTACKER_RATE,
            "burst",
            "64kb",
            "latency",
            "50ms",
        ]);
        ns
    }

    /// Stop the capture of br0 (SIGTERM, so the pcap is complete): for
    /// floods, which would fill the disk. The pcap keeps what came before.
    pub fn stop_capture(&mut self) {
        if let Some(mut c) = self.tcpdump.take() {
            stop_tcpdump(&mut c);
        }
    }

    /// Bring the host's link up (for timing its autoconfiguration).
    pub fn host_link_up(&self) {
        ns_run(&self.host, &["ip", "link", "set", "vh", "up"]);
    }

    /// Give the Linux host `addr` (`ADDR/LEN`) without DAD, as a node that
    /// already holds it.
    pub fn host_add_address(&self, addr: &str) {
        ns_run(
            &self.host,
            &["ip", "-6", "addr", "add", addr, "dev", "vh", "nodad"],
        );
    }

    /// The router's link-local address on br0 (radvd's source address).
    pub fn router_link_local(&self) -> String {
        link_local(&self.router, "br0")
    }

    /// `ip -6 neigh show dev br0` in the router.
    pub fn router_neigh(&self) -> String {
        ns_run(&self.router, &["ip", "-6", "neigh", "show", "dev", "br0"])
    }

    /// The router's neighbor state for `addr` (`STALE`, `REACHABLE`, ...).
    pub fn router_neigh_state(&self, addr: &str) -> Option<String> {
        let table = self.router_neigh();
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(addr))
            .and_then(|l| l.split_whitespace().last().map(str::to_owned))
    }

    /// `ip -6 addr show dev vh` in the host.
    pub fn host_addrs(&self) -> String {
        ns_run(&self.host, &["ip", "-6", "addr", "show", "dev", "vh"])
    }

    /// What a failing test needs to see.
    pub fn diagnostics(&self) -> String {
        let mut out = format!("==== lab `{}` diagnostics\n", self.name);
        for (ns, dev) in [(&self.router, "br0"), (&self.host, "vh")] {
            for family in ["-6", "-4"] {
                for what in ["addr", "neigh"] {
                    let text = try_run(&[
                        "ip", "netns", "exec", ns, "ip", family, what, "show", "dev", dev,
                    ])
                    .unwrap_or_else(|e| e);
                    out += &format!("---- {ns}: ip {family} {what} show dev {dev}\n{text}");
                }
            }
        }
        if self.dnsmasq.is_some() {
            for name in ["dnsmasq.log", "dnsmasq.leases"] {
                let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
                out += &format!("---- {name}\n{text}");
            }
        }
        for p in &self.procs {
            out += &p.transcript();
        }
        out += &format!("---- pcap of br0: {}\n", self.pcap.display());
        out += &format!("---- logs in {}\n", self.dir.display());
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::io::stderr().write_all(self.diagnostics().as_bytes());
        }
        for p in &self.procs {
            p.kill();
        }
        for mut c in [self.radvd.take(), self.dnsmasq.take()]
            .into_iter()
            .flatten()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.stop_capture();
        if let Some(ns) = &self.attacker {
            let _ = try_run(&["ip", "netns", "del", ns]);
        }
        let _ = try_run(&["ip", "netns", "del", &self.host]);
        let _ = try_run(&["ip", "netns", "del", &self.router]);
    }
}

/// SIGTERM so tcpdump flushes the capture; SIGKILL if it does not stop.
fn stop_tcpdump(c: &mut Child) {
    signal(c.id(), "TERM");
    if wait_timeout(c, Duration::from_secs(3)).is_none() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = try_run(&["kill", "-s", sig, &pid.to_string()]);
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    poll_until(timeout, || child.try_wait().ok().flatten())
}

/// Lines read so far with when each was read, and a wake-up for waiters.
type Lines = (Mutex<Vec<(Instant, String)>>, Condvar);

/// A process printing JSON lines, read by a thread as they come.
pub struct Proc {
    pub name: String,
    child: Mutex<Child>,
    lines: Arc<Lines>,
}

impl Proc {
    /// Run `bin args` in namespace `ns`, its stderr to `dir/<name>.stderr`,
    /// its stdout read line by line. Killed by [`Proc::kill`] (a lab
    /// kills its own processes when dropped).
    pub fn spawn(name: &str, ns: &str, bin: &Path, args: &[&str], dir: &Path) -> Arc<Proc> {
        let stderr = std::fs::File::create(dir.join(format!("{name}.stderr"))).expect("log");
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let lines: Arc<Lines> = Arc::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let (m, cv) = &*sink;
                m.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((Instant::now(), line));
                cv.notify_all();
            }
        });
        Arc::new(Proc {
            name: name.into(),
            child: Mutex::new(child),
            lines,
        })
    }

    /// Every line so far, with when it was read.
    pub fn lines(&self) -> Vec<(Instant, String)> {
        self.lines
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many lines have been read so far.
    pub fn line_count(&self) -> usize {
        self.lines.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The lines read after the first `start`, with when each was read
    /// (cheaper than [`Proc::lines`] for a process that prints a lot).
    pub fn lines_after(&self, start: usize) -> Vec<(Instant, String)> {
        let lines = self.lines.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.get(start..).unwrap_or_default().to_vec()
    }

    /// Its output so far under a `---- NAME output` heading, for a
    /// failing test's diagnostics.
    pub fn transcript(&self) -> String {
        let mut out = format!("---- {} output\n", self.name);
        for (_, l) in self.lines() {
            out += &l;
            out.push('\n');
        }
        out
    }

    /// Every line so far that parses as JSON.
    pub fn json(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|(_, l)| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait up to `timeout` for a JSON line matching `pred`; panics with
    /// `what` and everything seen otherwise.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let end = Instant::now() + timeout;
        let (m, cv) = &*self.lines;
        let mut guard = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = guard
                .iter()
                .filter_map(|(_, l)| serde_json::from_str::<Value>(l).ok())
                .find(|v| pred(v))
            {
                return v;
            }
            let now = Instant::now();
            if now >= end {
                let seen: Vec<String> = guard.iter().map(|(_, l)| l.clone()).collect();
                drop(guard);
                panic!(
                    "{}: no {what} within {timeout:?}; lines so far:\n{}",
                    self.name,
                    seen.join("\n")
                );
            }
            guard = cv
                .wait_timeout(guard, end - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The process id (of the program itself: `ip netns exec` execs it).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    /// Its exit status if it has exited, without waiting.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait()
            .ok()
            .flatten()
    }

    /// Send a signal (`"USR1"`, `"TERM"`, ...).
    pub fn signal(&self, sig: &str) {
        signal(
            self.child.lock().unwrap_or_else(|e| e.into_inner()).id(),
            sig,
        );
    }

    /// SIGTERM, then its exit status (`None` if it did not exit in 5 s).
    pub fn stop(&self) -> Option<ExitStatus> {
        self.signal("TERM");
        wait_timeout(
            &mut self.child.lock().unwrap_or_else(|e| e.into_inner()),
            Duration::from_secs(5),
        )
    }

    /// SIGKILL unless it has exited, and reap it.
    pub fn kill(&self) {
        let mut c = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if c.try_wait().ok().flatten().is_none() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
