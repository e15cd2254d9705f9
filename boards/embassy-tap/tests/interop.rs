//! embassy-net with ndp-embassy (embassy-tap) against peers we did not
//! write: the Linux kernel as router and neighbor host, radvd, and dnsmasq
//! as DHCPv4 server, in the namespaces of ndp_tests::interop::Lab. Each
//! test bounds every wait and removes its namespaces when it ends.
//!
//! Needs root, iproute2, radvd, dnsmasq, tcpdump, ping and python3: `cargo
//! xtask test` installs them and runs this file as its own step.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ndp_tests::interop::{
    self, HostConfig, Lab, Proc, ping_every, poll_until, skip_unless_root, try_run,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_embassy-tap");
/// linux-tap's identity, so that the addresses are the ones its tests
/// computed independently (boards/linux-tap/tests/common): RFC 7217
/// addresses depend on the secret, the prefix and the DAD counter.
const MAC: &str = "02:00:5e:00:53:10";
const SECRET: &str = "000102030405060708090a0b0c0d0e0f";
const G0: &str = "2001:db8:1:0:2a97:c2b9:9caf:7d17";
const G1: &str = "2001:db8:1:0:ee6e:b1ab:b453:b931";

/// radvd with a prefix, two DNS servers and an MTU.
const RADVD: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvLinkMTU 1480;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS 2001:db8:1::53 2001:db8:1::54 { };
";

const V4_ROUTER: &str = "192.0.2.1";

fn start(lab: &mut Lab, extra: &[&str]) -> Arc<Proc> {
    let mut args = vec!["--iface", "tap0", "--mac", MAC, "--secret", SECRET];
    args.extend_from_slice(extra);
    let p = lab.spawn_json("embassy-tap", Path::new(BIN), &args);
    let started = p.wait_for("started line", Duration::from_secs(10), |v| {
        v["event"] == "started"
    });
    assert_eq!(started["mac"], MAC);
    p
}

fn configured(addr: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "configured" && v["address"] == addr
}

/// [`interop::udp_echo`] (three tries) that must succeed.
fn udp_echo(ns: &str, addr: &str) -> String {
    interop::udp_echo(ns, addr, 3).unwrap_or_else(|e| panic!("UDP echo {addr} from {ns}: {e}"))
}

#[test]
fn embassy_net_autoconfigures_behind_radvd_and_answers_over_both_families() {
    if skip_unless_root("embassy_net_autoconfigures_behind_radvd_and_answers_over_both_families") {
        return;
    }
    let mut lab = Lab::new(
        "embassy-router",
        HostConfig {
            slaac: true,
            ..HostConfig::default()
        },
    );
    lab.host_link_up();
    lab.router_add_ipv4(&format!("{V4_ROUTER}/24"));
    lab.start_dnsmasq(&[
        "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
        &format!("--dhcp-option=option:router,{V4_ROUTER}"),
    ]);
    lab.start_radvd(RADVD);
    let tap = start(&mut lab, &["--dhcp", "--seed", "3"]);

    // The engine's DAD passes, and embassy-net gets the address, radvd's
    // router (the router's link-local address) and DNS servers.
    let c = tap.wait_for("configured", Duration::from_secs(25), configured(G0));
    assert_eq!(c["prefix_len"], 64, "{c}");
    assert_eq!(c["gateway"], lab.router_link_local().as_str(), "{c}");
    assert_eq!(
        c["dns_servers"],
        serde_json::json!(["2001:db8:1::53", "2001:db8:1::54"]),
        "{c}"
    );
    // DAD ran first: the address was tentative or optimistic before.
    let lines = tap.json();
    let first_g0 = lines
        .iter()
        .find(|v| v["event"] == "address" && v["address"] == G0)
        .expect("an address event for G0");
    assert_ne!(first_g0["state"], "preferred", "{first_g0}");

    // The Linux router pings it (every ping answered: smoltcp knows its
    // next hop before the first request) and a UDP socket in embassy-net
    // answers, from the engine's address.
    ping_every(&lab.router, "-6", G0);
    let echo = udp_echo(&lab.router, G0);
    assert_eq!(echo.trim(), format!("ndp-interop {G0}"), "{echo}");
    // So does a Linux host on the link, which autoconfigured from radvd,
    // once its own global address has passed DAD (before, Linux pings
    // from ::1, which nobody can answer).
    let host_ready = poll_until(Duration::from_secs(10), || {
        let a = lab.host_addrs();
        a.lines()
            .any(|l| l.contains("inet6 2001:db8:1:") && !l.contains("tentative"))
            .then_some(())
    });
    assert!(host_ready.is_some(), "host: {}", lab.host_addrs());
    ping_every(&lab.host, "-6", G0);
    let echo = udp_echo(&lab.host, G0);
    assert_eq!(echo.trim(), format!("ndp-interop {G0}"), "{echo}");

    // IPv4 alongside: embassy-net's DHCPv4 client got an address through
    // the wrapper, and it answers ping and UDP.
    let v4 = tap.wait_for("ipv4 from DHCP", Duration::from_secs(20), |v| {
        v["event"] == "ipv4" && v["address"].is_string()
    });
    let v4 = v4["address"].as_str().unwrap().to_owned();
    assert!(v4.starts_with("192.0.2."), "{v4}");
    ping_every(&lab.router, "-4", &v4);
    let echo = udp_echo(&lab.router, &v4);
    assert_eq!(echo.trim(), format!("ndp-interop {v4}"), "{echo}");

    // Nothing embassy-net sent was dropped by the engine.
    assert!(
        !tap.json().iter().any(|v| v["event"] == "dropped"),
        "{:?}",
        tap.json()
    );
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

#[test]
fn a_group_joined_on_embassy_net_is_reported_and_delivered() {
    // RFC 3810: the engine reports the application's group; RFC 4291
    // §2.7: datagrams to it are delivered, to a group not joined not.
    if skip_unless_root("a_group_joined_on_embassy_net_is_reported_and_delivered") {
        return;
    }
    let mut lab = Lab::new("embassy-mdns", HostConfig::default());
    lab.start_radvd(RADVD);
    let tap = start(&mut lab, &["--seed", "5", "--join", "ff02::fb"]);
    tap.wait_for("configured", Duration::from_secs(25), configured(G0));
    // The datagram to the group, from the router: embassy-net's socket
    // answers from its one IPv6 address.
    let echo = udp_echo(&lab.router, "ff02::fb%br0");
    assert_eq!(echo.trim(), format!("ndp-interop {G0}"), "{echo}");
    // The engine's MLDv2 report joined the group (CHANGE_TO_EXCLUDE, RFC
    // 3810 §6.1); smoltcp's own, which joins with CHANGE_TO_INCLUDE (it
    // swaps the two), never left.
    let records = |record_type: u8| {
        let filter = format!(
            "eth.src == {MAC} && icmpv6.type == 143 && icmpv6.mldr.mar.multicast_address == ff02::fb \
             && icmpv6.mldr.mar.record_type == {record_type}"
        );
        let pcap = lab.pcap.to_string_lossy().into_owned();
        try_run(&["tshark", "-r", &pcap, "-Y", &filter])
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(
        records(4) >= 1,
        "no MLDv2 join for ff02::fb in {}",
        lab.pcap.display()
    );
    assert_eq!(
        records(3),
        0,
        "smoltcp's report left: {}",
        lab.pcap.display()
    );
    // A group it did not join (LLMNR's) gets no answer, sent the same way.
    let unjoined = interop::udp_echo(&lab.router, "ff02::1:3%br0", 3);
    assert!(
        matches!(&unjoined, Err(e) if e.contains("no echo")),
        "{unjoined:?}"
    );
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}

#[test]
fn embassy_net_moves_off_an_address_a_linux_host_holds() {
    // RFC 4862 §5.4.5, RFC 7217 §6: DAD fails, DAD_Counter + 1.
    if skip_unless_root("embassy_net_moves_off_an_address_a_linux_host_holds") {
        return;
    }
    let mut lab = Lab::new("embassy-duplicate", HostConfig::default());
    lab.host_add_address(&format!("{G0}/64"));
    lab.start_radvd(RADVD);
    let tap = start(&mut lab, &["--seed", "4"]);
    tap.wait_for("duplicate", Duration::from_secs(25), |v| {
        v["event"] == "address" && v["address"] == G0 && v["state"] == "duplicate"
    });
    tap.wait_for(
        "configured with the next address",
        Duration::from_secs(10),
        configured(G1),
    );
    // embassy-net never had the duplicate.
    assert!(
        !tap.json().iter().any(configured(G0)),
        "{G0} was given to embassy-net despite the conflict"
    );
    // The Linux host kept its address, and the new one works.
    let host = lab.host_addrs();
    assert!(host.contains(G0) && !host.contains("dadfailed"), "{host}");
    ping_every(&lab.router, "-6", G1);
    let echo = udp_echo(&lab.router, G1);
    assert_eq!(echo.trim(), format!("ndp-interop {G1}"), "{echo}");
    assert_eq!(tap.stop().and_then(|s| s.code()), Some(0));
}
