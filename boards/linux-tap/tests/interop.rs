//! linux-tap against peers we did not write: the Linux kernel as router
//! and as neighbor host, radvd, and dnsmasq as DHCPv4 server. Each test
//! builds its own namespaces (ndp_tests::interop::Lab), bounds every wait,
//! and removes everything when it ends; a failure prints `ip addr`, `ip
//! neigh`, dnsmasq's log, the program's output and the path of a pcap of
//! the link.
//!
//! Needs root, iproute2, radvd, dnsmasq, tcpdump, ping and python3: `cargo
//! xtask test` installs them and runs this file as its own step.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{BIN, G0, G1, LL, MAC, SECRET};
use ndp_tests::interop::{
    self, HostConfig, Lab, Proc, ns_run, ping_every, poll_until, skip_unless_root, try_run,
};
use serde_json::Value;

/// radvd for the main test: the prefix, RDNSS, DNSSL and MTU 1480.
const RADVD_FULL: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvLinkMTU 1480;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS 2001:db8:1::53 2001:db8:1::54 { };
    DNSSL example.org lab.example { };
";

/// radvd that answers solicitations with unicast RAs (after its random
/// delay of up to 0.5 s, RFC 4861 §6.2.6) and advertises unsolicited
/// rarely, so that time to an address measures the host's solicitation,
/// not radvd's timer.
const RADVD_PROMPT: &str = "
    AdvSendAdvert on;
    AdvRASolicitedUnicast on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 60;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
";

fn start_tap(lab: &mut Lab, name: &str, extra: &[&str]) -> Arc<Proc> {
    let mut args = vec!["--iface", "tap0", "--mac", MAC, "--secret", SECRET];
    args.extend_from_slice(extra);
    let p = lab.spawn_json(name, Path::new(BIN), &args);
    let started = p.wait_for("started line", Duration::from_secs(10), |v| {
        v["event"] == "started"
    });
    assert_eq!(started["mac"], MAC);
    assert_eq!(started["iface"], "tap0");
    p
}

fn is_addr(v: &Value, addr: &str, state: &str) -> bool {
    v["event"] == "address" && v["address"] == addr && v["state"] == state
}

fn addr_state(addr: &'static str, state: &'static str) -> impl Fn(&Value) -> bool {
    move |v| is_addr(v, addr, state)
}

/// [`interop::udp_echo`] with three tries.
fn udp_echo(ns: &str, addr: &str) -> Result<String, String> {
    interop::udp_echo(ns, addr, 3)
}

/// [`udp_echo`] that must succeed, with the echo's source address.
fn udp_echo_from(lab: &Lab, ns: &str, addr: &str) -> String {
    let echo = udp_echo(ns, addr).unwrap_or_else(|e| panic!("UDP echo {addr}: {e}"));
    let source = echo
        .trim()
        .strip_prefix("ndp-interop ")
        .unwrap_or_else(|| panic!("UDP echo {addr}: {echo}"));
    // Python shows a link-local source with its scope.
    let source = source.split('%').next().unwrap_or(source).to_owned();
    assert!(!source.is_empty(), "UDP echo {addr}: {echo} ({})", lab.name);
    source
}

#[test]
fn autoconfigures_behind_a_linux_router_with_radvd() {
    if skip_unless_root("autoconfigures_behind_a_linux_router_with_radvd") {
        return;
    }
    let mut lab = Lab::new("router", HostConfig::default());
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "1"]);
    tap.wait_for(
        "optimistic link-local",
        Duration::from_secs(5),
        addr_state(LL, "optimistic"),
    );
    tap.wait_for(
        "optimistic global",
        Duration::from_secs(20),
        addr_state(G0, "optimistic"),
    );

    // RFC 9131: the router learns the new address from the unsolicited
    // NAs to ff02::2 (accept_untracked_na=1) before any traffic to it.
    let state = poll_until(Duration::from_secs(3), || lab.router_neigh_state(G0));
    assert_eq!(
        state.as_deref(),
        Some("STALE"),
        "router's entry for {G0} before traffic:\n{}",
        lab.router_neigh()
    );
    assert!(
        lab.router_neigh()
            .contains(&format!("{G0} lladdr {MAC} STALE"))
    );

    tap.wait_for(
        "preferred global",
        Duration::from_secs(5),
        addr_state(G0, "preferred"),
    );
    tap.wait_for(
        "preferred link-local",
        Duration::from_secs(5),
        addr_state(LL, "preferred"),
    );

    // The router and the DNS/MTU events match radvd.conf.
    let router_ll = lab.router_link_local();
    let r = tap.wait_for("router", Duration::from_secs(1), |v| v["event"] == "router");
    assert_eq!(r["address"], router_ll.as_str());
    assert_eq!(r["preference"], "medium");
    // radvd's default AdvDefaultLifetime is 3 * MaxRtrAdvInterval.
    assert_eq!(r["lifetime_s"], 30);
    let dns = tap.wait_for("dns", Duration::from_secs(1), |v| v["event"] == "dns");
    assert_eq!(
        dns["servers"],
        serde_json::json!(["2001:db8:1::53", "2001:db8:1::54"])
    );
    assert_eq!(
        dns["search"],
        serde_json::json!(["example.org", "lab.example"])
    );
    let mtu = tap.wait_for("mtu", Duration::from_secs(1), |v| v["event"] == "mtu");
    assert_eq!(mtu["mtu"], 1480);
    let prefix = tap.wait_for("prefix", Duration::from_secs(1), |v| v["event"] == "prefix");
    assert_eq!(prefix["prefix"], "2001:db8:1::");
    assert_eq!(prefix["prefix_len"], 64);
    // radvd's default AdvValidLifetime.
    assert_eq!(prefix["valid_lifetime_s"], 86400);

    // Ping and UDP echo from the router, global and link-local.
    let ll_scoped = format!("{LL}%br0");
    for dst in [G0, ll_scoped.as_str()] {
        ping_every(&lab.router, "-6", dst);
        let echo = udp_echo(&lab.router, dst).unwrap_or_else(|e| panic!("UDP echo {dst}: {e}"));
        assert!(echo.starts_with("ndp-interop "), "UDP echo {dst}: {echo}");
    }
    // All-nodes: the device answers from its link-local address.
    let out = try_run(&[
        "ip",
        "netns",
        "exec",
        &lab.router,
        "ping",
        "-6",
        "-n",
        "-c",
        "2",
        "-i",
        "0.3",
        "-W",
        "2",
        "ff02::1%br0",
    ])
    .unwrap_or_else(|e| e);
    assert!(out.contains(&format!("from {LL}")), "ping ff02::1:\n{out}");

    // SIGUSR1: the whole state.
    tap.signal("USR1");
    let st = tap.wait_for("state", Duration::from_secs(3), |v| v["event"] == "state");
    let addrs = st["addresses"].as_array().unwrap();
    assert!(
        addrs
            .iter()
            .any(|a| a["address"] == G0 && a["state"] == "preferred"),
        "{st}"
    );
    let router = st["neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["address"] == router_ll.as_str())
        .unwrap_or_else(|| panic!("router not in the neighbor cache: {st}"));
    assert_eq!(router["router"], true);
    assert!(router["lladdr"].is_string());
    assert_eq!(st["routers"][0]["address"], router_ll.as_str());
    assert_eq!(
        st["dns"]["search"],
        serde_json::json!(["example.org", "lab.example"])
    );
    assert_eq!(st["mtu"], 1480);
    assert!(st["stats"]["rx_ra"].as_u64().unwrap() >= 1, "{st}");
    assert!(st["stats"]["udp_echoed"].as_u64().unwrap() >= 2, "{st}");

    assert_eq!(
        tap.stop().and_then(|s| s.code()),
        Some(0),
        "exit status on SIGTERM"
    );
}

#[test]
fn an_address_held_by_a_linux_host_moves_to_the_next_stable_iid() {
    // RFC 4862 §5.4.4-5, RFC 7217 §6: DAD_Counter + 1 after a conflict.
    if skip_unless_root("an_address_held_by_a_linux_host_moves_to_the_next_stable_iid") {
        return;
    }
    let mut lab = Lab::new("duplicate", HostConfig::default());
    lab.host_add_address(&format!("{G0}/64"));
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "2"]);
    tap.wait_for(
        "duplicate",
        Duration::from_secs(25),
        addr_state(G0, "duplicate"),
    );
    tap.wait_for(
        "next stable address",
        Duration::from_secs(10),
        addr_state(G1, "preferred"),
    );
    assert!(
        !tap.json().iter().any(|v| is_addr(v, G0, "preferred")),
        "{G0} was preferred despite the conflict"
    );
    // The Linux host kept its address.
    let host = lab.host_addrs();
    assert!(host.contains(G0) && !host.contains("dadfailed"), "{host}");
    // And the new one works.
    ping_every(&lab.router, "-6", G1);
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

#[test]
fn a_linux_host_adding_our_address_ends_dadfailed() {
    // RFC 4862 §5.4.3: we defend a preferred address; the Linux host's
    // DAD fails.
    if skip_unless_root("a_linux_host_adding_our_address_ends_dadfailed") {
        return;
    }
    let mut lab = Lab::new("defend", HostConfig::default());
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "3"]);
    tap.wait_for(
        "preferred global",
        Duration::from_secs(25),
        addr_state(G0, "preferred"),
    );
    ns_run(
        &lab.host,
        &["ip", "-6", "addr", "add", &format!("{G0}/64"), "dev", "vh"],
    );
    let failed = poll_until(Duration::from_secs(5), || {
        let a = lab.host_addrs();
        a.lines()
            .any(|l| l.contains(G0) && l.contains("dadfailed"))
            .then_some(a)
    });
    assert!(
        failed.is_some(),
        "Linux's address did not fail DAD:\n{}",
        lab.host_addrs()
    );
    // We still hold ours.
    assert!(!tap.json().iter().any(|v| is_addr(v, G0, "duplicate")));
    tap.signal("USR1");
    let st = tap.wait_for("state", Duration::from_secs(3), |v| v["event"] == "state");
    assert!(
        st["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == G0 && a["state"] == "preferred"),
        "{st}"
    );
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

#[test]
fn radvd_stopping_removes_the_default_router() {
    // RFC 4861 §6.2.5 (radvd's final RAs, router lifetime 0) and §6.3.4.
    if skip_unless_root("radvd_stopping_removes_the_default_router") {
        return;
    }
    let mut lab = Lab::new("radvd-stop", HostConfig::default());
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "4"]);
    let router_ll = lab.router_link_local();
    tap.wait_for("router", Duration::from_secs(20), |v| {
        v["event"] == "router" && v["address"] == router_ll.as_str() && v["lifetime_s"] != 0
    });
    let status = lab.stop_radvd();
    assert!(status.success(), "radvd exited with {status}");
    tap.wait_for("router removed", Duration::from_secs(5), |v| {
        v["event"] == "router" && v["address"] == router_ll.as_str() && v["lifetime_s"] == 0
    });
    tap.signal("USR1");
    let st = tap.wait_for("state", Duration::from_secs(3), |v| v["event"] == "state");
    assert_eq!(st["routers"], serde_json::json!([]), "{st}");
    // The addresses stay: their lifetimes are the prefix's, not the router's.
    assert!(
        st["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == G0),
        "{st}"
    );
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

/// Time from link up to a usable (optimistic or preferred) global address.
const TRIALS: u64 = 5;
/// Pause before each trial: radvd multicasts at most one RA per
/// MinDelayBetweenRAs (3 s, its floor; RFC 4861 §6.2.6), so a trial right
/// after another would measure that limit.
const SETTLE: Duration = Duration::from_millis(3500);

#[test]
fn time_to_a_usable_global_address_linux_tap_and_linux() {
    // A benchmark, not a pass/fail bound: both numbers are printed.
    if skip_unless_root("time_to_a_usable_global_address_linux_tap_and_linux") {
        return;
    }
    let mut lab = Lab::new(
        "time-to-address",
        HostConfig {
            slaac: true,
            optimistic: true,
            stable_secret: Some("2001:db8::5ec:7e7".into()),
        },
    );
    lab.start_radvd(RADVD_PROMPT);

    let mut ours = Vec::new();
    for trial in 0..TRIALS {
        std::thread::sleep(SETTLE);
        let seed = (100 + trial).to_string();
        let tap = start_tap(&mut lab, &format!("linux-tap-{trial}"), &["--seed", &seed]);
        let t0 = tap.lines()[0].0;
        tap.wait_for("usable global", Duration::from_secs(20), |v| {
            v["event"] == "address"
                && v["address"] == G0
                && (v["state"] == "optimistic" || v["state"] == "preferred")
        });
        let line = tap
            .lines()
            .into_iter()
            .find(|(_, l)| l.contains(G0))
            .expect("the line just seen");
        ours.push(line.0 - t0);
        assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
    }

    let mut linux = Vec::new();
    for _ in 0..TRIALS {
        std::thread::sleep(SETTLE);
        // `ip monitor` in the host namespace timestamps address changes
        // as they happen (polling `ip addr` would add its own delay).
        let mon = std::process::Command::new("ip")
            .args(["netns", "exec", &lab.host, "ip", "-6", "monitor", "address"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("ip monitor");
        let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
        let mut mon = mon;
        let out = mon.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send((Instant::now(), l));
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        let t0 = Instant::now();
        lab.host_link_up();
        let end = t0 + Duration::from_secs(20);
        let mut usable = None;
        while usable.is_none() {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((at, l)) => {
                    let global = l.contains("2001:db8:1:") && l.contains("scope global");
                    if global
                        && !l.starts_with("Deleted")
                        && (l.contains("optimistic") || !l.contains("tentative"))
                    {
                        usable = Some(at - t0);
                    }
                }
                Err(_) => break,
            }
        }
        let _ = mon.kill();
        let _ = mon.wait();
        let took = usable
            .unwrap_or_else(|| panic!("Linux got no usable global address:\n{}", lab.host_addrs()));
        linux.push(took);
        ns_run(&lab.host, &["ip", "link", "set", "vh", "down"]);
        // Down removes the autoconfigured addresses; wait until they are gone.
        poll_until(Duration::from_secs(5), || {
            (!lab.host_addrs().contains("2001:db8:1:")).then_some(())
        })
        .expect("Linux kept its address after link down");
    }

    let fmt = |v: &[Duration]| {
        let mut ms: Vec<u128> = v.iter().map(|d| d.as_millis()).collect();
        ms.sort();
        format!("{:?} ms (median {} ms)", ms, ms[ms.len() / 2])
    };
    let report = format!(
        "\n==== time from link up to a usable global address ({TRIALS} trials each, radvd answering RS)\n\
         linux-tap (ndp, optimistic DAD): {}\n\
         Linux kernel host (optimistic_dad=1, stable_secret): {}\n",
        fmt(&ours),
        fmt(&linux)
    );
    let _ = std::fs::write(lab.dir.join("time-to-address.txt"), &report);
    use std::io::Write;
    let _ = std::io::stderr().write_all(report.as_bytes());
}

/// The router's IPv4 address on the lab link (documentation range,
/// RFC 5737).
const V4_ROUTER: &str = "192.0.2.1";
/// The router's address and the link's prefix length.
const V4_ROUTER_CIDR: &str = "192.0.2.1/24";
/// An address off the lab link (on the router's loopback, RFC 5737).
const V4_FAR: &str = "198.51.100.1";
/// linux-tap's address in the static test.
const V4_STATIC: &str = "192.0.2.10";
/// dnsmasq's pool.
const V4_POOL: (Ipv4Addr, Ipv4Addr) =
    (Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 150));

/// The `ipv4` line with an address (not the `null`s of a lost lease).
fn ipv4_configured(v: &Value) -> bool {
    v["event"] == "ipv4" && v["address"].is_string()
}

/// Both families at once from the router: a ping of `v4` and of G0 side
/// by side, then UDP echo to `v4`, G0 and the link-local address, each
/// answered from the address it was sent to; and a ping of `v4` from
/// V4_FAR, which the device reaches through its default gateway. No ping
/// may be lost: after a DHCP lease the router knows the device's MAC
/// without having ARPed it (dnsmasq put it in the kernel's table), and
/// smoltcp keeps no packet while it resolves a next hop, so this holds
/// only because the adapter asks for the gateway as soon as it is set.
fn check_dual_stack(lab: &Lab, v4: &str) {
    // Both at once; a failing one panics in its thread, and the scope
    // then panics too.
    std::thread::scope(|s| {
        s.spawn(|| ping_every(&lab.router, "-4", v4));
        ping_every(&lab.router, "-6", G0);
    });
    let ll_scoped = format!("{LL}%br0");
    for (dst, from) in [(v4, v4), (G0, G0), (ll_scoped.as_str(), LL)] {
        let source = udp_echo_from(lab, &lab.router, dst);
        assert_eq!(source, from, "UDP echo {dst} answered from {source}");
    }
    ns_run(
        &lab.router,
        &[
            "ip",
            "-4",
            "addr",
            "add",
            &format!("{V4_FAR}/32"),
            "dev",
            "lo",
        ],
    );
    let far = try_run(&[
        "ip",
        "netns",
        "exec",
        &lab.router,
        "ping",
        "-4",
        "-n",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "-I",
        V4_FAR,
        v4,
    ])
    .unwrap_or_else(|e| panic!("ping {v4} from {V4_FAR}: {e}"));
    assert!(
        far.contains(" 0% packet loss"),
        "ping {v4} from {V4_FAR}:\n{far}"
    );
}

/// SIGUSR1, and the state line it prints (not an earlier one).
fn state_now(tap: &Proc) -> Value {
    let before = tap.line_count();
    tap.signal("USR1");
    poll_until(Duration::from_secs(3), || {
        tap.lines_after(before)
            .iter()
            .filter_map(|(_, l)| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "state")
    })
    .unwrap_or_else(|| panic!("{}: no state line within 3 s of SIGUSR1", tap.name))
}

/// SIGUSR1, then the state line; its `ipv4` must be `v4`/24 through
/// V4_ROUTER, and IPv4 must have gone both ways through the adapter.
fn check_state_ipv4(tap: &Proc, v4: &str) -> Value {
    let st = state_now(tap);
    assert_eq!(
        st["ipv4"],
        serde_json::json!({"address": v4, "prefix_len": 24, "gateway": V4_ROUTER}),
        "{st}"
    );
    let stat = |name: &str| st["stats"][name].as_u64().unwrap_or(0);
    for name in ["adapter.rx_ipv4", "adapter.rx_arp", "adapter.tx_ipv4"] {
        assert!(stat(name) >= 1, "{name} is 0: {st}");
    }
    // Echoes: three over IPv4 and IPv6 each (the pings are smoltcp's
    // and not counted here).
    assert!(stat("udp_echoed") >= 3, "{st}");
    assert!(
        st["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == G0 && a["state"] == "preferred"),
        "{st}"
    );
    st
}

#[test]
fn dual_stack_with_dhcpv4_from_dnsmasq() {
    if skip_unless_root("dual_stack_with_dhcpv4_from_dnsmasq") {
        return;
    }
    let mut lab = Lab::new("dhcpv4", HostConfig::default());
    lab.router_add_ipv4(V4_ROUTER_CIDR);
    let range = format!("--dhcp-range={},{},255.255.255.0,1h", V4_POOL.0, V4_POOL.1);
    let router = format!("--dhcp-option=option:router,{V4_ROUTER}");
    lab.start_dnsmasq(&[&range, &router]);
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "5", "--ipv4", "dhcp"]);

    // The lease (dnsmasq checks with a ping that the address is free
    // before offering it, which costs a few seconds).
    let v4 = tap.wait_for("ipv4 from DHCP", Duration::from_secs(20), ipv4_configured);
    let addr: Ipv4Addr = v4["address"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{v4}"));
    assert!(
        (V4_POOL.0..=V4_POOL.1).contains(&addr),
        "{addr} is outside dnsmasq's pool: {v4}"
    );
    assert_eq!(v4["prefix_len"], 24, "{v4}");
    assert_eq!(v4["gateway"], V4_ROUTER, "{v4}");
    // dnsmasq agrees: its lease is ours.
    let leases = std::fs::read_to_string(lab.dir.join("dnsmasq.leases")).unwrap_or_default();
    assert!(
        leases
            .lines()
            .any(|l| l.contains(MAC) && l.split_whitespace().nth(2) == Some(&addr.to_string())),
        "dnsmasq's leases:\n{leases}"
    );
    // The IPv6 side meanwhile.
    tap.wait_for(
        "preferred global",
        Duration::from_secs(20),
        addr_state(G0, "preferred"),
    );
    let v4 = addr.to_string();
    check_dual_stack(&lab, &v4);
    check_state_ipv4(&tap, &v4);
    // One lease, no renewal or loss during the test.
    let v4_lines = tap
        .json()
        .into_iter()
        .filter(|v| v["event"] == "ipv4")
        .count();
    assert_eq!(v4_lines, 1, "ipv4 lines: {:?}", tap.json());
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

#[test]
fn dual_stack_with_a_static_ipv4_address() {
    if skip_unless_root("dual_stack_with_a_static_ipv4_address") {
        return;
    }
    let mut lab = Lab::new("static-ipv4", HostConfig::default());
    lab.router_add_ipv4(V4_ROUTER_CIDR);
    lab.start_radvd(RADVD_FULL);
    let setting = format!("{V4_STATIC}/24,{V4_ROUTER}");
    let tap = start_tap(&mut lab, "linux-tap", &["--seed", "6", "--ipv4", &setting]);
    // Printed once at start.
    let v4 = tap.wait_for("ipv4 line", Duration::from_secs(1), |v| {
        v["event"] == "ipv4"
    });
    assert_eq!(v4["address"], V4_STATIC, "{v4}");
    assert_eq!(v4["prefix_len"], 24, "{v4}");
    assert_eq!(v4["gateway"], V4_ROUTER, "{v4}");
    tap.wait_for(
        "preferred global",
        Duration::from_secs(20),
        addr_state(G0, "preferred"),
    );
    check_dual_stack(&lab, V4_STATIC);
    check_state_ipv4(&tap, V4_STATIC);
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

/// mDNS's group (RFC 6762 §3).
const MDNS_GROUP: &str = "ff02::fb";

/// MLDv2 reports (RFC 3810 §5.2) from `mac` in the pcap at `path` with a
/// record saying it listens to `group` (MODE_IS_EXCLUDE or
/// CHANGE_TO_EXCLUDE_MODE, no sources: the whole group).
fn mld_reports(path: &Path, mac: &str, group: Ipv6Addr) -> usize {
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    // tcpdump may be writing a record: a truncated tail is read as an
    // error, and the caller polls again.
    let Ok(capture) = ndp_tests::pcap::read(file) else {
        return 0;
    };
    let mac: Vec<u8> = mac
        .split(':')
        .map(|o| u8::from_str_radix(o, 16).unwrap())
        .collect();
    let u16_at = |b: &[u8], at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes(
            b.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let listens = |frame: &[u8]| -> Option<bool> {
        if frame.get(6..12)? != &mac[..] || u16_at(frame, 12)? != 0x86dd {
            return Some(false);
        }
        let ip = frame.get(14..)?;
        let (mut next, mut at) = (*ip.get(6)?, 40);
        // Hop-by-Hop Options with Router Alert (RFC 3810 §5).
        while next == 0 {
            next = *ip.get(at)?;
            at += (usize::from(*ip.get(at + 1)?) + 1) * 8;
        }
        if next != 58 || *ip.get(at)? != 143 {
            return Some(false);
        }
        let records = u16_at(ip, at + 6)?;
        let mut r = at + 8;
        for _ in 0..records {
            let (kind, aux, sources) = (
                *ip.get(r)?,
                usize::from(*ip.get(r + 1)?),
                u16_at(ip, r + 2)?,
            );
            let g: [u8; 16] = ip.get(r + 4..r + 20)?.try_into().ok()?;
            if Ipv6Addr::from(g) == group && matches!(kind, 2 | 4) && sources == 0 {
                return Some(true);
            }
            r += 20 + 16 * sources + 4 * aux;
        }
        Some(false)
    };
    capture
        .records
        .iter()
        .filter(|rec| listens(&rec.data) == Some(true))
        .count()
}

#[test]
fn an_mdns_group_datagram_reaches_a_socket() {
    // RFC 4291 §2.7: the group is delivered because the socket's interface
    // joined it; RFC 3810: the join was reported.
    if skip_unless_root("an_mdns_group_datagram_reaches_a_socket") {
        return;
    }
    let mut lab = Lab::new("mdns", HostConfig::default());
    lab.start_radvd(RADVD_FULL);
    let tap = start_tap(
        &mut lab,
        "linux-tap",
        &["--seed", "7", "--join", MDNS_GROUP],
    );
    tap.wait_for(
        "preferred link-local",
        Duration::from_secs(10),
        addr_state(LL, "preferred"),
    );
    let group: Ipv6Addr = MDNS_GROUP.parse().unwrap();
    let reported = poll_until(Duration::from_secs(10), || {
        (mld_reports(&lab.pcap, MAC, group) > 0).then_some(())
    });
    assert!(
        reported.is_some(),
        "no MLDv2 report for {MDNS_GROUP} from {MAC} in {}",
        lab.pcap.display()
    );

    // From the Linux host (across the bridge, as a peer on the link would
    // send its mDNS queries), to the group: the echo comes from the
    // device's link-local address (the host has no global address). The
    // host sends once its own link-local address has passed DAD.
    poll_until(Duration::from_secs(5), || {
        let a = lab.host_addrs();
        (a.contains("scope link") && !a.contains("tentative")).then_some(())
    })
    .unwrap_or_else(|| panic!("the host's link-local address:\n{}", lab.host_addrs()));
    let to_group = format!("{MDNS_GROUP}%vh");
    let source = udp_echo_from(&lab, &lab.host, &to_group);
    assert_eq!(source, LL, "echo of a datagram to {to_group}");
    // And from the router, which holds a global address too.
    let to_group = format!("{MDNS_GROUP}%br0");
    let source = udp_echo_from(&lab, &lab.router, &to_group);
    assert!(
        source == LL || source == G0,
        "echo of a datagram to {to_group} from {source}"
    );

    // A group the device has not joined (LLMNR's) is not delivered: the
    // adapter drops it, by its MAC (linux-tap's TAP accepts every group
    // MAC) or by its group.
    let stat = |st: &Value, name: &str| st["stats"][name].as_u64().unwrap_or(0);
    let dropped =
        |st: &Value| stat(st, "adapter.rx_filtered") + stat(st, "adapter.rx_unjoined_group");
    let before = state_now(&tap);
    let unjoined = interop::udp_echo(&lab.host, "ff02::1:3%vh", 2);
    assert!(
        unjoined.is_err(),
        "echo from an unjoined group: {unjoined:?}"
    );
    let after = state_now(&tap);
    assert!(
        dropped(&after) >= dropped(&before) + 2,
        "before: {before}\nafter: {after}"
    );
    assert_eq!(stat(&before, "udp_echoed"), 2, "{before}");
    assert_eq!(stat(&after, "udp_echoed"), 2, "{after}");
    assert_eq!(after["ipv4"], Value::Null, "{after}");
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}
