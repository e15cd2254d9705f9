//! The `ndp` command against Linux, radvd and tshark in network
//! namespaces that each test creates and removes (no traffic leaves
//! them). Needs root; without it every test says loudly that it was
//! skipped.
//!
//! The proxy lab is npd6's situation:
//!
//! ```text
//!   host (h)                 proxy (p), forwarding           behind (b)
//!   h0 2001:db8:1::1/64 ---- p0 2001:db8:1::2/64
//!   on-link routes to        `ndp proxy -i p0`
//!   2001:db8:2::/64 and      p1 2001:db8:2::1/64 ------------ b0 2001:db8:2::42/64
//!   2001:db8:3::/64                                           default via 2001:db8:2::1
//! ```
//!
//! The host believes 2001:db8:2::/64 is on its link (as an ISP's router
//! believes of a prefix it hands out on the WAN link), so it resolves
//! 2001:db8:2::42 with its own Neighbor Discovery; the proxy answers with
//! p0's MAC and forwards.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndp_tests::interop::{
    self, Proc, namespace_prefix, ns_run, ping_every, poll_until, run, skip_unless_root, try_run,
};
use serde_json::Value;

const HOST: &str = "2001:db8:1::1";
const TARGET: &str = "2001:db8:2::42";
const OUTSIDE: &str = "2001:db8:3::42";
const DENIED: &str = "2001:db8:2::99";

/// Namespaces, processes and captures of one test; all removed on drop.
struct Net {
    prefix: String,
    dir: PathBuf,
    procs: Vec<Arc<Proc>>,
    children: Vec<Child>,
    names: Vec<String>,
}

impl Net {
    /// Namespaces `<prefix><letter>` for each letter, loopback up.
    fn new(test: &str, letters: &[char]) -> Net {
        let dir = ndp_tests::target_dir()
            .join("interop")
            .join(format!("ndp-{test}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut net = Net {
            prefix: namespace_prefix(),
            dir,
            procs: Vec::new(),
            children: Vec::new(),
            names: Vec::new(),
        };
        for &l in letters {
            let name = format!("{}{l}", net.prefix);
            run(&["ip", "netns", "add", &name]);
            net.names.push(name.clone());
            ns_run(&name, &["ip", "link", "set", "lo", "up"]);
            // No router here unless a test starts radvd; no temporary
            // addresses to confuse the comparisons.
            ns_run(
                &name,
                &["sysctl", "-qw", "net.ipv6.conf.default.use_tempaddr=0"],
            );
        }
        net
    }

    fn ns(&self, l: char) -> String {
        format!("{}{l}", self.prefix)
    }

    /// Run a command (words split at spaces) in namespace `l`.
    fn sh(&self, l: char, cmd: &str) -> String {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        ns_run(&self.ns(l), &words)
    }

    /// Run a command given word by word in namespace `l`.
    fn sh_args(&self, l: char, args: &[&str]) -> String {
        ns_run(&self.ns(l), args)
    }

    fn try_sh(&self, l: char, cmd: &str) -> Result<String, String> {
        let mut words = vec!["ip", "netns", "exec"];
        let ns = self.ns(l);
        words.push(&ns);
        words.extend(cmd.split_whitespace());
        try_run(&words)
    }

    /// A veth pair, `a_if` in `a` and `b_if` in `b`.
    fn veth(&self, a: char, a_if: &str, b: char, b_if: &str) {
        self.sh(
            a,
            &format!(
                "ip link add {a_if} type veth peer name {b_if} netns {}",
                self.ns(b)
            ),
        );
    }

    fn mac(&self, l: char, dev: &str) -> String {
        self.sh(l, &format!("cat /sys/class/net/{dev}/address"))
            .trim()
            .to_string()
    }

    /// The link-local address of `dev`, once its DAD has passed.
    fn link_local(&self, l: char, dev: &str) -> String {
        self.wait_dad(l, dev);
        interop::link_local(&self.ns(l), dev)
    }

    /// Wait until every address of `dev` passed or failed DAD.
    fn wait_dad(&self, l: char, dev: &str) {
        poll_until(Duration::from_secs(10), || {
            self.sh(l, &format!("ip -6 -o addr show dev {dev} tentative"))
                .lines()
                .all(|a| a.contains("dadfailed"))
                .then_some(())
        })
        .unwrap_or_else(|| panic!("{dev}: DAD did not finish"));
    }

    /// Start `ndp args` in namespace `l`.
    fn ndp(&mut self, name: &str, l: char, args: &[&str]) -> Arc<Proc> {
        let p = Proc::spawn(
            name,
            &self.ns(l),
            Path::new(env!("CARGO_BIN_EXE_ndp")),
            args,
            &self.dir,
        );
        self.procs.push(p.clone());
        p
    }

    /// Start `ndp listen --json -i dev` in namespace `l` and return once
    /// it listens (it says so on stderr once its socket is bound).
    fn listen(&mut self, name: &str, l: char, dev: &str) -> Arc<Proc> {
        let p = self.ndp(name, l, &["listen", "-i", dev, "--json"]);
        let banner = format!("listening on {dev}");
        poll_until(Duration::from_secs(10), || {
            std::fs::read_to_string(self.dir.join(format!("{name}.stderr")))
                .unwrap_or_default()
                .contains(&banner)
                .then_some(())
        })
        .unwrap_or_else(|| panic!("ndp listen on {dev} did not start"));
        p
    }

    /// Run `ndp args` in namespace `l` to completion: (exit code,
    /// stdout, stderr).
    fn ndp_once(&self, l: char, args: &[&str]) -> (i32, String, String) {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.ns(l), env!("CARGO_BIN_EXE_ndp")])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// Capture `dev` in namespace `l` to `<name>.pcap` with tshark;
    /// returns once frames reach the file. Stop it with
    /// [`Net::stop_captures`].
    fn capture(&mut self, l: char, dev: &str, name: &str) -> PathBuf {
        let pcap = self.dir.join(format!("{name}.pcap"));
        let log = self.dir.join(format!("{name}.tshark.log"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(l),
                "tshark",
                "-q",
                "-i",
                dev,
                "-w",
            ])
            .arg(&pcap)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start tshark");
        self.children.push(child);
        poll_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("Capturing on")
                .then_some(())
        })
        .expect("tshark did not start capturing");
        // "Capturing on" can come before the capture is live (CI once
        // lost a test's first frames to that): send UDP datagrams to
        // all-nodes (no listener, so no answer, and no ND or MLD) until
        // one reaches the file, which tshark flushes about every second.
        let empty = std::fs::metadata(&pcap).map_or(0, |m| m.len());
        let marker = format!(
            "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\
             .sendto(b'ndp-capture-marker', ('ff02::1%{dev}', 9))"
        );
        poll_until(Duration::from_secs(30), || {
            self.sh_args(l, &["python3", "-c", &marker]);
            std::thread::sleep(Duration::from_millis(200));
            (std::fs::metadata(&pcap).map_or(0, |m| m.len()) > empty).then_some(())
        })
        .expect("tshark captured nothing");
        pcap
    }

    /// SIGTERM every tshark (and other child), so their files are whole.
    fn stop_captures(&mut self) {
        for mut c in self.children.drain(..) {
            let _ = try_run(&["kill", "-TERM", &c.id().to_string()]);
            if poll_until(Duration::from_secs(5), || c.try_wait().ok().flatten()).is_none() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// radvd on `dev` in namespace `l` with `body` inside `interface dev {}`.
    fn radvd(&mut self, l: char, dev: &str, body: &str) {
        let conf = self.dir.join("radvd.conf");
        std::fs::write(&conf, format!("interface {dev} {{\n{body}\n}};\n")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(l),
                "radvd",
                "-n",
                "-m",
                "stderr",
                "-d",
                "1",
                "-C",
            ])
            .arg(&conf)
            .arg("-p")
            .arg(self.dir.join("radvd.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("radvd.log")).unwrap())
            .spawn()
            .expect("start radvd");
        self.children.push(child);
    }

    fn diagnostics(&self) -> String {
        let mut out = String::new();
        for ns in &self.names {
            for what in ["addr", "neigh", "route"] {
                let t =
                    try_run(&["ip", "netns", "exec", ns, "ip", "-6", what]).unwrap_or_else(|e| e);
                out += &format!("---- {ns}: ip -6 {what}\n{t}");
            }
        }
        for p in &self.procs {
            out += &p.transcript();
        }
        out += &format!("---- files in {}\n", self.dir.display());
        out
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::io::stderr().write_all(self.diagnostics().as_bytes());
        }
        for p in &self.procs {
            p.kill();
        }
        self.stop_captures();
        for ns in &self.names {
            let _ = try_run(&["ip", "netns", "del", ns]);
        }
    }
}

/// The proxy lab of the module docs, links up and DAD done; `h`, `p`
/// and `b` are its namespaces.
fn proxy_lab(test: &str) -> Net {
    let net = Net::new(test, &['h', 'p', 'b']);
    net.veth('h', "h0", 'p', "p0");
    net.veth('p', "p1", 'b', "b0");
    net.sh('p', "sysctl -qw net.ipv6.conf.all.forwarding=1");
    net.sh('h', &format!("ip -6 addr add {HOST}/64 dev h0 nodad"));
    net.sh('p', "ip -6 addr add 2001:db8:1::2/64 dev p0 nodad");
    net.sh('p', "ip -6 addr add 2001:db8:2::1/64 dev p1 nodad");
    net.sh('b', &format!("ip -6 addr add {TARGET}/64 dev b0 nodad"));
    for (l, dev) in [('h', "h0"), ('p', "p0"), ('p', "p1"), ('b', "b0")] {
        net.sh(l, &format!("ip link set {dev} up"));
    }
    net.sh('h', "ip -6 route add 2001:db8:2::/64 dev h0");
    net.sh('h', "ip -6 route add 2001:db8:3::/64 dev h0");
    net.sh('b', "ip -6 route add default via 2001:db8:2::1");
    for (l, dev) in [('h', "h0"), ('p', "p0"), ('p', "p1"), ('b', "b0")] {
        net.wait_dad(l, dev);
    }
    net
}

/// The host's neighbor entry for `addr`: (lladdr, state words).
fn host_neigh(net: &Net, addr: &str) -> String {
    net.sh('h', &format!("ip -6 neigh show {addr} dev h0"))
        .trim()
        .to_string()
}

/// Ping from the host, expecting nothing back.
fn ping_fails(net: &Net, addr: &str) {
    let r = net.try_sh('h', &format!("ping -6 -n -c 1 -W 2 {addr}"));
    assert!(r.is_err(), "ping {addr} was answered: {r:?}");
}

/// `ndp ns` from the host `n` times; the answers' JSON (`None` for no
/// answer).
fn resolve(net: &Net, addr: &str, n: usize) -> Vec<Option<Value>> {
    (0..n)
        .map(|_| {
            let (code, out, err) =
                net.ndp_once('h', &["ns", "-i", "h0", "--json", "-r", "1", addr]);
            match code {
                0 => {
                    Some(serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}")))
                }
                1 => {
                    assert!(err.contains("no answer"), "{err}");
                    None
                }
                c => panic!("ndp ns exited {c}: {err}"),
            }
        })
        .collect()
}

/// The solicitations the host sent for `target` and the answers it got,
/// from a pcap, through tshark: one line per answer with the Ethernet
/// source, IPv6 source, R, S, O flags and TLLA.
fn tshark_answers(pcap: &Path, target: &str) -> Vec<String> {
    let out = run(&[
        "tshark",
        "-r",
        pcap.to_str().unwrap(),
        "-Y",
        &format!("icmpv6.type == 136 && icmpv6.nd.na.target_address == {target}"),
        "-T",
        "fields",
        "-e",
        "eth.src",
        "-e",
        "ipv6.src",
        "-e",
        "icmpv6.nd.na.flag.r",
        "-e",
        "icmpv6.nd.na.flag.s",
        "-e",
        "icmpv6.nd.na.flag.o",
        "-e",
        "icmpv6.opt.linkaddr",
    ]);
    out.lines()
        .map(|l| l.split('\t').collect::<Vec<_>>().join(" "))
        .collect()
}

fn rtts(answers: &[Option<Value>]) -> String {
    answers
        .iter()
        .map(|a| match a {
            Some(v) => format!("{:.2}", v["rtt_ms"].as_f64().unwrap()),
            None => "none".into(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Now, in seconds since the Unix epoch (the clock of `ndp listen`'s
/// `time` and tshark's `frame.time_epoch`).
fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Leave `line` in the test's directory (`rtt.txt`), where `cargo xtask
/// test` reads it for its summary, and on stderr.
fn report(net: &Net, line: &str) {
    std::fs::write(net.dir.join("rtt.txt"), line).unwrap();
    eprintln!("{line}");
}

/// The issue's must-hold and the proxy's whole contract, against the
/// Linux host's own Neighbor Discovery.
#[test]
fn ndp_proxy_answers_for_its_prefix_and_nothing_else() {
    if skip_unless_root("ndp_proxy_answers_for_its_prefix_and_nothing_else") {
        return;
    }
    let mut net = proxy_lab("proxy");
    let p0_mac = net.mac('p', "p0");
    let h0_mac = net.mac('h', "h0");
    let p0_ll = net.link_local('p', "p0");
    let conf = net.dir.join("proxy.conf");
    std::fs::write(
        &conf,
        "# the prefix routed behind p\nprefix 2001:db8:2::/64\n",
    )
    .unwrap();
    let pcap = net.capture('h', "h0", "h0");
    let proxy = net.ndp(
        "proxy",
        'p',
        &[
            "proxy",
            "-i",
            "p0",
            "--config",
            conf.to_str().unwrap(),
            "--deny",
            DENIED,
            "--json",
        ],
    );
    let started = proxy.wait_for("start", Duration::from_secs(5), |v| v["event"] == "started");
    assert_eq!(started["mac"], p0_mac.as_str());
    assert_eq!(started["link_local"], p0_ll.as_str());
    assert_eq!(started["rules"]["prefixes"][0], "2001:db8:2::/64");
    assert_eq!(started["rules"]["deny"][0], format!("{DENIED}/128"));

    // The host resolves the target by itself (a ping over its on-link
    // route), learns p0's MAC, and the proxy forwards to b.
    ping_every(&net.ns('h'), "-6", TARGET);
    let entry = host_neigh(&net, TARGET);
    assert!(entry.contains(&format!("lladdr {p0_mac}")), "{entry}");
    assert!(entry.contains("router"), "R flag set: {entry}");
    let answered = proxy.wait_for("answer", Duration::from_secs(1), |v| {
        v["event"] == "answered" && v["target"] == TARGET
    });
    assert_eq!(answered["asker"], HOST);
    assert_eq!(answered["asker_mac"], h0_mac.as_str());

    // `ndp ns` from the host sees the same, and how fast.
    let ours = resolve(&net, TARGET, 5);
    for a in &ours {
        let a = a.as_ref().expect("the proxy answers every solicitation");
        assert_eq!(a["mac"], p0_mac.as_str());
        assert_eq!(a["from"], p0_ll.as_str());
        assert_eq!(
            (
                a["router"].as_bool(),
                a["solicited"].as_bool(),
                a["override"].as_bool()
            ),
            (Some(true), Some(true), Some(false))
        );
    }

    // Outside the prefix, and denied: no answer.
    ping_fails(&net, OUTSIDE);
    ping_fails(&net, DENIED);
    assert!(
        !host_neigh(&net, OUTSIDE).contains("lladdr"),
        "{}",
        host_neigh(&net, OUTSIDE)
    );
    assert!(
        !host_neigh(&net, DENIED).contains("lladdr"),
        "{}",
        host_neigh(&net, DENIED)
    );
    assert_eq!(resolve(&net, OUTSIDE, 1), vec![None]);
    proxy.wait_for("refusal", Duration::from_secs(1), |v| {
        v["event"] == "ignored" && v["target"] == DENIED && v["reason"] == "denied"
    });
    assert!(
        !proxy
            .json()
            .iter()
            .any(|v| v["event"] == "answered" && v["target"] != TARGET),
        "answered something else"
    );

    // The host's own DAD, for an address inside the proxied prefix, is
    // not disturbed: the proxy does not answer DAD probes.
    net.sh('h', "ip -6 addr add 2001:db8:2::77/64 dev h0");
    net.wait_dad('h', "h0");
    let addrs = net.sh('h', "ip -6 addr show dev h0");
    assert!(
        addrs.contains("2001:db8:2::77/64") && !addrs.contains("dadfailed"),
        "{addrs}"
    );
    proxy.wait_for("DAD probe seen", Duration::from_secs(1), |v| {
        v["event"] == "ignored" && v["target"] == "2001:db8:2::77" && v["reason"] == "dad_probe"
    });

    // SIGUSR1: state and counters.
    proxy.signal("USR1");
    let state = proxy.wait_for("state", Duration::from_secs(2), |v| v["event"] == "state");
    let c = &state["counters"];
    assert!(c["answered"].as_u64().unwrap() >= 6, "{state}");
    assert!(c["denied"].as_u64().unwrap() >= 1, "{state}");
    assert!(c["dad"].as_u64().unwrap() >= 1, "{state}");
    assert!(
        state["neighbors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["addr"] == HOST),
        "{state}"
    );

    // SIGHUP: the file now denies the target; the command line's deny
    // stays.
    std::fs::write(&conf, "prefix 2001:db8:2::/64\ndeny 2001:db8:2::42\n").unwrap();
    proxy.signal("HUP");
    let reloaded = proxy.wait_for("reload", Duration::from_secs(2), |v| {
        v["event"] == "reloaded"
    });
    let deny: Vec<&str> = reloaded["rules"]["deny"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        deny.contains(&"2001:db8:2::42/128") && deny.contains(&"2001:db8:2::99/128"),
        "{reloaded}"
    );
    assert_eq!(resolve(&net, TARGET, 1), vec![None]);

    // A bad file: one error line, and the rules stay as they were.
    std::fs::write(&conf, "prefix 2001:db8:2::/64\nbogus line\n").unwrap();
    proxy.signal("HUP");
    let failed = proxy.wait_for("failed reload", Duration::from_secs(2), |v| {
        v["event"] == "reload_failed"
    });
    assert!(
        failed["error"].as_str().unwrap().contains("proxy.conf:2:"),
        "{failed}"
    );
    assert_eq!(resolve(&net, TARGET, 1), vec![None]);

    // Back to the prefix alone: answered again.
    std::fs::write(&conf, "prefix 2001:db8:2::/64\n").unwrap();
    let reloads = proxy
        .json()
        .iter()
        .filter(|v| v["event"] == "reloaded")
        .count();
    proxy.signal("HUP");
    poll_until(Duration::from_secs(2), || {
        (proxy
            .json()
            .iter()
            .filter(|v| v["event"] == "reloaded")
            .count()
            > reloads)
            .then_some(())
    })
    .expect("second reload");
    assert!(resolve(&net, TARGET, 1)[0].is_some());

    assert_eq!(
        proxy.stop().and_then(|s| s.code()),
        Some(0),
        "SIGTERM ends it cleanly"
    );
    assert!(proxy.json().iter().any(|v| v["event"] == "stopped"));

    // An independent decoder's view of the answers on the host's link.
    net.stop_captures();
    let answers = tshark_answers(&pcap, TARGET);
    assert!(!answers.is_empty());
    for a in &answers {
        assert_eq!(
            a,
            &format!("{p0_mac} {p0_ll} 1 1 0 {p0_mac}"),
            "eth src, IPv6 src, R S O, TLLA"
        );
    }
    report(
        &net,
        &format!("ndp proxy answers `ndp ns` in (ms) {}", rtts(&ours)),
    );
}

/// The same lab with Linux's own proxy_ndp, for comparison: where the
/// two agree, and where they differ (each difference asserted, so the
/// note's claims stay true).
#[test]
fn linux_proxy_ndp_in_the_same_lab() {
    if skip_unless_root("linux_proxy_ndp_in_the_same_lab") {
        return;
    }
    let net = proxy_lab("linux-proxy");
    let p0_mac = net.mac('p', "p0");
    net.sh('p', "sysctl -qw net.ipv6.conf.p0.proxy_ndp=1");
    net.sh(
        'p',
        &format!("ip -6 neigh add proxy {TARGET} dev p0 router"),
    );

    // Same: the host resolves the target to p0's MAC; the ping crosses.
    ping_every(&net.ns('h'), "-6", TARGET);
    assert!(host_neigh(&net, TARGET).contains(&format!("lladdr {p0_mac}")));
    let linux = resolve(&net, TARGET, 5);
    for a in &linux {
        let a = a.as_ref().expect("Linux answers for its proxy entry");
        assert_eq!(a["mac"], p0_mac.as_str());
        // Linux: O clear for a proxied target, R from the entry's flag.
        assert_eq!(
            (a["router"].as_bool(), a["override"].as_bool()),
            (Some(true), Some(false))
        );
    }
    // Same: outside the prefix, nothing.
    assert_eq!(resolve(&net, OUTSIDE, 1), vec![None]);

    // Different: Linux proxies the addresses it is given, not a prefix.
    assert_eq!(resolve(&net, "2001:db8:2::43", 1), vec![None]);

    // Different: Linux answers the host's DAD probe for a proxied
    // address, so the host loses it; `ndp proxy` stays silent.
    net.sh('h', &format!("ip -6 addr add {TARGET}/64 dev h0"));
    net.wait_dad('h', "h0");
    let addrs = net.sh('h', "ip -6 addr show dev h0");
    assert!(
        addrs.contains("dadfailed"),
        "Linux proxy_ndp answered no DAD probe:\n{addrs}"
    );

    let delay = net.sh('p', "sysctl -n net.ipv6.neigh.p0.proxy_delay");
    report(
        &net,
        &format!(
            "Linux proxy_ndp answers `ndp ns` in (ms) {} (proxy_delay {} in 1/100 s)",
            rtts(&linux),
            delay.trim()
        ),
    );
}

/// `ndp proxy` and a DAD probe for the very address it proxies (the
/// counterpart of Linux's `dadfailed` above), and a solicitation for an
/// address the kernel holds under a proxied prefix (the kernel's to
/// answer).
#[test]
fn ndp_proxy_leaves_dad_for_a_proxied_address_alone() {
    if skip_unless_root("ndp_proxy_leaves_dad_for_a_proxied_address_alone") {
        return;
    }
    let mut net = proxy_lab("proxy-dad");
    // The link's own prefix too, which holds p0's address: the kernel
    // answers for that one, and the proxy must not.
    let proxy = net.ndp(
        "proxy",
        'p',
        &[
            "proxy",
            "-i",
            "p0",
            "--prefix",
            "2001:db8:2::/64",
            "--prefix",
            "2001:db8:1::/64",
            "--json",
        ],
    );
    proxy.wait_for("start", Duration::from_secs(5), |v| v["event"] == "started");
    assert!(
        resolve(&net, TARGET, 1)[0].is_some(),
        "the proxy answers for the target"
    );
    let own = resolve(&net, "2001:db8:1::2", 1)[0]
        .clone()
        .expect("the kernel answers for its address");
    assert_eq!(
        own["override"], true,
        "the kernel's answer, not a proxy's: {own}"
    );
    proxy.signal("USR1");
    let state = proxy.wait_for("state", Duration::from_secs(2), |v| v["event"] == "state");
    assert!(
        state["frames"]["for_kernel"].as_u64().unwrap() >= 1,
        "{state}"
    );
    assert!(
        !proxy
            .json()
            .iter()
            .any(|v| v["target"] == "2001:db8:1::2" && v["event"] == "answered")
    );
    net.sh('h', &format!("ip -6 addr add {TARGET}/64 dev h0"));
    net.wait_dad('h', "h0");
    let addrs = net.sh('h', "ip -6 addr show dev h0");
    assert!(
        addrs.contains(&format!("{TARGET}/64")) && !addrs.contains("dadfailed"),
        "{addrs}"
    );
    proxy.wait_for("DAD probe", Duration::from_secs(1), |v| {
        v["event"] == "ignored" && v["target"] == TARGET && v["reason"] == "dad_probe"
    });
    // The link going down and up does not end it.
    net.sh('p', "ip link set p0 down");
    std::thread::sleep(Duration::from_secs(1));
    net.sh('p', "ip link set p0 up");
    net.wait_dad('p', "p0");
    net.wait_dad('h', "h0");
    assert!(
        proxy.exit_status().is_none(),
        "ndp proxy exited with the link"
    );
    assert!(
        resolve(&net, "2001:db8:2::43", 1)[0].is_some(),
        "answers again"
    );
}

/// radvd's configuration for the `rs` and `listen` tests: every option
/// `ndp rs` prints.
const RADVD: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 100;
    AdvManagedFlag on;
    AdvOtherConfigFlag on;
    AdvDefaultPreference high;
    AdvLinkMTU 1400;
    prefix 2001:db8:1::/64 { AdvValidLifetime 86400; AdvPreferredLifetime 14400; };
    route 2001:db8:5::/48 { AdvRoutePreference low; AdvRouteLifetime 1800; };
    RDNSS 2001:db8::53 2001:db8::54 { AdvRDNSSLifetime 600; };
    DNSSL example.com lab.example { AdvDNSSLLifetime 600; };
";

/// A router namespace `r` and a host `h`, linked by r0 and h0, up.
fn router_lab(test: &str) -> Net {
    let net = Net::new(test, &['r', 'h']);
    net.veth('r', "r0", 'h', "h0");
    net.sh('r', "sysctl -qw net.ipv6.conf.all.forwarding=1");
    net.sh('r', "ip link set r0 up");
    net.sh('h', "ip link set h0 up");
    net.wait_dad('r', "r0");
    net.wait_dad('h', "h0");
    net
}

#[test]
fn ndp_rs_prints_what_radvd_advertises() {
    if skip_unless_root("ndp_rs_prints_what_radvd_advertises") {
        return;
    }
    let mut net = router_lab("rs");
    let r0_mac = net.mac('r', "r0");
    let h0_ll = net.link_local('h', "h0");

    // No router yet: two solicitations, one and then two seconds apart
    // (the backoff), then status 1.
    let watch = net.listen("watch", 'r', "r0");
    let t = Instant::now();
    let (code, out, err) = net.ndp_once('h', &["rs", "-i", "h0", "-r", "2", "-w", "1"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("no router advertisement on h0 after 2 solicitation(s)"),
        "{err}"
    );
    assert!(
        t.elapsed() >= Duration::from_secs(3),
        "waited 1 s, then 2 s"
    );
    let rs: Vec<f64> = watch
        .json()
        .iter()
        .filter(|v| v["type"] == "rs" && v["src"] == h0_ll.as_str())
        .map(|v| v["time"].as_f64().unwrap())
        .collect();
    assert_eq!(rs.len(), 2, "{:?}", watch.json());
    assert!(rs[1] - rs[0] >= 0.9, "backoff: {rs:?}");
    let first = watch
        .json()
        .into_iter()
        .find(|v| v["type"] == "rs")
        .unwrap();
    assert_eq!(
        first["options"][0]["type"], "slla",
        "RFC 4861 §4.1: SLLA from a unicast source"
    );
    assert_eq!(first["hop_limit"], 255);

    net.radvd('r', "r0", RADVD);
    // Let radvd's first unsolicited advertisements go by, so that the one
    // `ndp rs` prints answers its solicitation.
    watch.wait_for("radvd up", Duration::from_secs(10), |v| v["type"] == "ra");
    std::thread::sleep(Duration::from_secs(1));
    let (code, out, err) = net.ndp_once('h', &["rs", "-i", "h0", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let ras: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // radvd answers a solicitation by unicast to its source.
    let ra = ras
        .iter()
        .find(|v| v["dst"] == h0_ll.as_str())
        .unwrap_or_else(|| panic!("no answer to our solicitation: {out}"));
    assert_eq!(ra["type"], "ra");
    assert_eq!(ra["src_mac"], r0_mac.as_str());
    assert_eq!(ra["managed"], true);
    assert_eq!(ra["other"], true);
    assert_eq!(ra["preference"], "high");
    assert_eq!(
        ra["router_lifetime"], 300,
        "radvd's default: 3 × MaxRtrAdvInterval"
    );
    let opts: BTreeMap<String, Value> = ra["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["type"].as_str().unwrap().to_string(), o.clone()))
        .collect();
    assert_eq!(
        opts["prefix"],
        serde_json::json!({"type": "prefix", "prefix": "2001:db8:1::/64", "on_link": true,
                           "autonomous": true, "valid": 86400, "preferred": 14400})
    );
    assert_eq!(
        opts["route"],
        serde_json::json!({"type": "route", "prefix": "2001:db8:5::/48", "preference": "low", "lifetime": 1800})
    );
    assert_eq!(opts["mtu"]["mtu"], 1400);
    assert_eq!(
        opts["rdnss"]["servers"],
        serde_json::json!(["2001:db8::53", "2001:db8::54"])
    );
    assert_eq!(opts["rdnss"]["lifetime"], 600);
    assert_eq!(
        opts["dnssl"]["domains"],
        serde_json::json!(["example.com", "lab.example"])
    );
    assert_eq!(opts["slla"]["mac"], r0_mac.as_str());

    // The text form says the same.
    let (code, out, err) = net.ndp_once('h', &["rs", "-i", "h0"]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "router advertisement, hop limit 64, flags [MO], preference high, router lifetime 300s",
        "    prefix 2001:db8:1::/64 on-link autonomous valid 86400s preferred 14400s",
        "    route 2001:db8:5::/48 preference low lifetime 1800s",
        "    mtu 1400",
        "    rdnss 2001:db8::53 2001:db8::54 lifetime 600s",
        "    dnssl example.com lab.example lifetime 600s",
        &format!("    source link-layer address {r0_mac}"),
    ] {
        assert!(out.contains(want), "missing `{want}` in:\n{out}");
    }
}

/// Frames `ndp` cannot take for well-formed, sent from the router's side
/// with Python: an NS with a bad checksum, an NS with hop limit 64, and
/// an RA with an option of length zero.
const INJECT: &str = r#"
import socket, struct, sys
iface, src_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
src = socket.inet_pton(socket.AF_INET6, 'fe80::bad')
def frame(dst_ip, dst_mac, hlim, icmp, break_sum=False):
    dst = socket.inet_pton(socket.AF_INET6, dst_ip)
    pseudo = src + dst + struct.pack('!I3xB', len(icmp), 58)
    data = pseudo + icmp + (b'\0' if len(icmp) % 2 else b'')
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    csum = (~s & 0xffff) ^ (0xff if break_sum else 0)
    icmp = icmp[:2] + struct.pack('!H', csum) + icmp[4:]
    ip = struct.pack('!IHBB', 0x60000000, len(icmp), 58, hlim) + src + dst
    return dst_mac + src_mac + b'\x86\xdd' + ip + icmp
target = socket.inet_pton(socket.AF_INET6, 'fe80::77')
ns = struct.pack('!BBHI', 135, 0, 0, 0) + target + bytes([1, 1]) + src_mac
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 0, 0, 0) + bytes([5, 0, 0, 0, 0, 0, 5, 220])
sn = bytes.fromhex('3333ff000077')
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
s.send(frame('ff02::1:ff00:77', sn, 255, ns, break_sum=True))
s.send(frame('ff02::1:ff00:77', sn, 64, ns))
s.send(frame('ff02::1', bytes.fromhex('333300000001'), 255, ra))
"#;

/// A frame as both decoders see it, in one comparable line.
fn key(
    ty: &str,
    src: &str,
    dst: &str,
    target: &str,
    opts: &[String],
    prefixes: &[String],
    extra: &str,
) -> String {
    format!(
        "{ty} {src} > {dst} target [{target}] options [{}] prefixes [{}] {extra}",
        opts.join(","),
        prefixes.join(",")
    )
}

/// The option type numbers (RFC 4861 §4.6, RFC 4191, RFC 8106, RFC 3971)
/// of `ndp listen`'s names.
fn option_number(o: &Value) -> String {
    match o["type"].as_str().unwrap() {
        "slla" => "1".into(),
        "tlla" => "2".into(),
        "prefix" => "3".into(),
        "redirected_header" => "4".into(),
        "mtu" => "5".into(),
        "nonce" => "14".into(),
        "route" => "24".into(),
        "rdnss" => "25".into(),
        "dnssl" => "31".into(),
        "unknown" | "malformed" => o["kind"].to_string(),
        other => panic!("option {other}"),
    }
}

fn icmp_number(ty: &str) -> &'static str {
    match ty {
        "rs" => "133",
        "ra" => "134",
        "ns" => "135",
        "na" => "136",
        "redirect" => "137",
        "mld_query" => "130",
        "mldv1_report" => "131",
        "mldv1_done" => "132",
        "mldv2_report" => "143",
        other => panic!("type {other}"),
    }
}

/// `ndp listen --json`'s lines as [`key`]s.
fn listen_keys(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let ty = icmp_number(v["type"].as_str().unwrap());
            if let Some(e) = v["error"].as_str() {
                return key(
                    ty,
                    &s("src"),
                    &s("dst"),
                    "",
                    &[],
                    &[],
                    &format!("error {e}"),
                );
            }
            let opts: Vec<Value> = v["options"].as_array().cloned().unwrap_or_default();
            let numbers: Vec<String> = opts.iter().map(option_number).collect();
            let prefixes: Vec<String> = opts
                .iter()
                .filter(|o| o["type"] == "prefix" || o["type"] == "route")
                .map(|o| o["prefix"].as_str().unwrap().to_string())
                .collect();
            let mut extra = String::new();
            if ty == "134" {
                extra = format!(
                    "M{} O{} lifetime {} chl {}",
                    u8::from(v["managed"] == true),
                    u8::from(v["other"] == true),
                    v["router_lifetime"],
                    v["cur_hop_limit"]
                );
                for o in &opts {
                    match o["type"].as_str().unwrap() {
                        "mtu" => extra += &format!(" mtu {}", o["mtu"]),
                        "rdnss" => extra += &format!(" rdnss {}", join(&o["servers"])),
                        "dnssl" => extra += &format!(" dnssl {}", join(&o["domains"])),
                        _ => {}
                    }
                }
            }
            if ty == "136" {
                extra = format!(
                    "R{} S{} O{}",
                    u8::from(v["router"] == true),
                    u8::from(v["solicited"] == true),
                    u8::from(v["override"] == true)
                );
            }
            if ty == "143" {
                let recs = v["records"].as_array().unwrap();
                let groups: Vec<String> = recs
                    .iter()
                    .map(|r| r["group"].as_str().unwrap().to_string())
                    .collect();
                extra = format!("groups {}", groups.join(","));
            }
            if ty == "130" || ty == "131" || ty == "132" {
                extra = format!("group {}", s("group"));
            }
            if let Some(i) = v["invalid"].as_str() {
                extra += &format!(" invalid {i}");
            }
            key(
                ty,
                &s("src"),
                &s("dst"),
                &s("target"),
                &numbers,
                &prefixes,
                extra.trim(),
            )
        })
        .collect()
}

fn join(list: &Value) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// tshark's decoding of the same frames, those captured within `window`
/// (seconds since the epoch), as [`key`]s. The frames
/// `ndp listen` calls malformed are keyed by what tshark says of their
/// checksum, hop limit and options, in `ndp`'s words.
fn tshark_keys(pcap: &Path, window: std::ops::Range<f64>) -> Vec<String> {
    const FIELDS: &[&str] = &[
        "frame.time_epoch",
        "icmpv6.type",
        "ipv6.src",
        "ipv6.dst",
        "ipv6.hlim",
        "icmpv6.checksum.status",
        "icmpv6.nd.ns.target_address",
        "icmpv6.nd.na.target_address",
        "icmpv6.opt.type",
        "icmpv6.opt.length",
        "icmpv6.opt.prefix",
        "icmpv6.opt.prefix.length",
        "icmpv6.nd.ra.flag.m",
        "icmpv6.nd.ra.flag.o",
        "icmpv6.nd.ra.router_lifetime",
        "icmpv6.nd.ra.cur_hop_limit",
        "icmpv6.opt.mtu",
        "icmpv6.opt.rdnss",
        "icmpv6.opt.dnssl",
        "icmpv6.nd.na.flag.r",
        "icmpv6.nd.na.flag.s",
        "icmpv6.nd.na.flag.o",
        "icmpv6.mldr.mar.multicast_address",
        "icmpv6.mld.multicast_address",
    ];
    let mut args = vec![
        "tshark".to_string(),
        "-r".into(),
        pcap.to_str().unwrap().into(),
        "-Y".into(),
        "icmpv6.type >= 130 && icmpv6.type <= 143".into(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "occurrence=a".into(),
        "-E".into(),
        "aggregator=,".into(),
    ];
    for f in FIELDS {
        args.push("-e".into());
        args.push((*f).into());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&argv)
        .lines()
        .map(|line| {
            FIELDS
                .iter()
                .copied()
                .zip(line.split('\t'))
                .collect::<BTreeMap<&str, &str>>()
        })
        .filter(|f| window.contains(&f["frame.time_epoch"].parse::<f64>().unwrap()))
        .map(|f| {
            let list = |k: &str| -> Vec<String> {
                f.get(k)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.split(',').map(String::from).collect())
                    .unwrap_or_default()
            };
            let ty = f["icmpv6.type"];
            let (src, dst) = (f["ipv6.src"], f["ipv6.dst"]);
            if f["icmpv6.checksum.status"] == "0" {
                return key(ty, src, dst, "", &[], &[], "error bad_checksum");
            }
            if list("icmpv6.opt.length").iter().any(|l| l == "0") {
                return key(ty, src, dst, "", &[], &[], "error option_length_zero");
            }
            let target = if ty == "135" {
                f["icmpv6.nd.ns.target_address"]
            } else {
                f["icmpv6.nd.na.target_address"]
            };
            let prefixes: Vec<String> = list("icmpv6.opt.prefix")
                .iter()
                .zip(list("icmpv6.opt.prefix.length"))
                .map(|(p, l)| format!("{p}/{l}"))
                .collect();
            let mut extra = String::new();
            if ty == "134" {
                extra = format!(
                    "M{} O{} lifetime {} chl {}",
                    f["icmpv6.nd.ra.flag.m"],
                    f["icmpv6.nd.ra.flag.o"],
                    f["icmpv6.nd.ra.router_lifetime"],
                    f["icmpv6.nd.ra.cur_hop_limit"]
                );
                // In the order the options came, as `ndp` lists them.
                let (mut mtu, mut rdnss, mut dnssl) = (
                    list("icmpv6.opt.mtu").into_iter(),
                    Some(f["icmpv6.opt.rdnss"]),
                    Some(f["icmpv6.opt.dnssl"]),
                );
                for t in list("icmpv6.opt.type") {
                    match t.as_str() {
                        "5" => extra += &format!(" mtu {}", mtu.next().unwrap_or_default()),
                        "25" => extra += &format!(" rdnss {}", rdnss.take().unwrap_or_default()),
                        "31" => extra += &format!(" dnssl {}", dnssl.take().unwrap_or_default()),
                        _ => {}
                    }
                }
            }
            if ty == "136" {
                extra = format!(
                    "R{} S{} O{}",
                    f["icmpv6.nd.na.flag.r"], f["icmpv6.nd.na.flag.s"], f["icmpv6.nd.na.flag.o"]
                );
            }
            if ty == "143" {
                extra = format!("groups {}", f["icmpv6.mldr.mar.multicast_address"]);
            }
            if ty == "130" || ty == "131" || ty == "132" {
                extra = format!("group {}", f["icmpv6.mld.multicast_address"]);
            }
            let nd = matches!(ty, "133" | "134" | "135" | "136" | "137");
            let mld = matches!(ty, "130" | "131" | "132" | "143");
            if (nd && f["ipv6.hlim"] != "255") || (mld && f["ipv6.hlim"] != "1") {
                extra += " invalid hop_limit";
            }
            key(
                ty,
                src,
                dst,
                target,
                &list("icmpv6.opt.type"),
                &prefixes,
                extra.trim(),
            )
        })
        .collect()
}

#[test]
fn ndp_listen_agrees_with_tshark() {
    if skip_unless_root("ndp_listen_agrees_with_tshark") {
        return;
    }
    let mut net = router_lab("listen");
    let r0_mac = net.mac('r', "r0");
    let h0_ll = net.link_local('h', "h0");
    let pcap = net.capture('h', "h0", "h0");
    let listen = net.listen("listen", 'h', "h0");
    // Both see every frame from here on.
    let start = epoch_now();

    // Traffic of every kind: radvd's advertisements, a solicitation and
    // its answer, the host's DAD and MLD for a new address, address
    // resolution for a ping, and three broken frames.
    net.radvd('r', "r0", RADVD);
    listen.wait_for("an RA", Duration::from_secs(10), |v| v["type"] == "ra");
    let (code, _, err) = net.ndp_once('h', &["rs", "-i", "h0", "-r", "1"]);
    assert_eq!(code, 0, "{err}");
    net.sh('r', "ip -6 addr add 2001:db8:1::1/64 dev r0 nodad");
    net.sh('h', "ip -6 addr add 2001:db8:1::9/64 dev h0");
    net.wait_dad('h', "h0");
    ping_every(&net.ns('h'), "-6", "2001:db8:1::1");
    let script = net.dir.join("inject.py");
    std::fs::write(&script, INJECT).unwrap();
    net.sh('r', &format!("python3 {} r0 {r0_mac}", script.display()));
    std::thread::sleep(Duration::from_secs(1));
    // Compare what came before this moment (a frame arriving as the two
    // stop would be seen by one of them only).
    let cutoff = epoch_now() - 0.1;
    std::thread::sleep(Duration::from_millis(500));
    listen.kill();
    net.stop_captures();

    let seen: Vec<Value> = listen
        .json()
        .into_iter()
        .filter(|v| (start..cutoff).contains(&v["time"].as_f64().unwrap()))
        .collect();
    assert!(
        seen.iter()
            .any(|v| v["type"] == "rs" && v["src"] == h0_ll.as_str()),
        "our RS"
    );
    let mut ours = listen_keys(&seen);
    let mut theirs = tshark_keys(&pcap, start..cutoff);
    ours.sort();
    theirs.sort();
    std::fs::write(net.dir.join("ndp-listen.keys"), ours.join("\n")).unwrap();
    std::fs::write(net.dir.join("tshark.keys"), theirs.join("\n")).unwrap();
    let kinds = |keys: &[String], ty: &str| {
        keys.iter()
            .filter(|k| k.starts_with(&format!("{ty} ")))
            .count()
    };
    for ty in ["133", "134", "135", "136", "143"] {
        assert!(
            kinds(&theirs, ty) >= 1,
            "no frame of type {ty} in the capture:\n{}",
            theirs.join("\n")
        );
    }
    for broken in [
        "error bad_checksum",
        "invalid hop_limit",
        "error option_length_zero",
    ] {
        assert!(
            ours.iter().any(|k| k.ends_with(broken)),
            "ndp listen shows no `{broken}`:\n{}",
            ours.join("\n")
        );
    }
    assert_eq!(
        ours, theirs,
        "ndp listen (left) and tshark (right) decode the same frames differently"
    );
    eprintln!("ndp listen and tshark agree on {} frames", ours.len());
}
