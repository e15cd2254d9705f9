//! The mps2-an386 firmware under QEMU against peers we did not write:
//! slirp (QEMU's user-mode network) with a test peer on the same QEMU hub,
//! and, as root, the Linux kernel as router and host with radvd.
//!
//! `cargo xtask test` builds the firmware and runs this file as its own
//! step (`cargo test -p ndp-tests --features firmware --test firmware`).
//! Every run writes a pcap to `target/firmware/<test>.pcap`, which the
//! step then checks with tshark. A panic or HardFault in the firmware
//! fails the test with the decoded message.

use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use ndp_core::wire::{
    MacAddr, Message, MulticastAddr, NdOption, NeighborAdvert, Options, parse_received,
};
use ndp_tests::interop::{HostConfig, Lab, ns_run, poll_until, skip_unless_root};
use ndp_tests::packet::{self, ND_HOP_LIMIT, NH_ICMPV6, NH_UDP};
use ndp_tests::qemu::{self, Firmware, Net, Options as QemuOptions, PeerPorts};

/// A fixed secret and MAC whose RFC 7217 addresses are known
/// independently (computed with Python's hmac/hashlib; the same vectors
/// as the linux-tap interop tests): 2001:db8:1::/64 with DAD_Counter 0
/// and 1.
const SECRET: &str = "000102030405060708090a0b0c0d0e0f";
const MAC: &str = "02:00:5e:00:53:10";
const G0: &str = "2001:db8:1:0:2a97:c2b9:9caf:7d17";
const G1: &str = "2001:db8:1:0:ee6e:b1ab:b453:b931";
const LL: &str = "fe80::8ed9:b4c9:aaa2:52cf";

/// How long a boot may take to a global address (wall time).
const BOOT: Duration = Duration::from_secs(20);

fn firmware() -> PathBuf {
    assert!(
        qemu::have_qemu(),
        "qemu-system-arm is missing: apt-get install -y qemu-system-arm \
         (cargo xtask test installs it as root)"
    );
    qemu::build_firmware().unwrap_or_else(|e| panic!("{e}"))
}

/// `target/firmware/<name>.pcap`.
fn pcap_path(name: &str) -> PathBuf {
    ndp_tests::target_dir()
        .join("firmware")
        .join(format!("{name}.pcap"))
}

/// [`pcap_path`], emptied for a new run.
fn pcap(name: &str) -> PathBuf {
    let p = pcap_path(name);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).expect("create target/firmware");
    }
    let _ = std::fs::remove_file(&p);
    p
}

/// slirp with the hub peer on `ports`, SECRET and MAC, `seed`, a pcap.
fn slirp_with_peer(ports: PeerPorts, seed: u64, name: &str) -> QemuOptions {
    QemuOptions {
        net: Net::Slirp { peer: Some(ports) },
        pcap: Some(pcap(name)),
        mac: Some(MAC.into()),
        ..QemuOptions::slirp(&format!("secret={SECRET} seed={seed}"))
    }
}

fn mac(s: &str) -> MacAddr {
    let mut o = [0u8; 6];
    for (b, part) in o.iter_mut().zip(s.split(':')) {
        *b = u8::from_str_radix(part, 16).expect("hex octet");
    }
    MacAddr(o)
}

fn ip(s: &str) -> Ipv6Addr {
    Ipv6Addr::from_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn assert_no_fault(fw: &Firmware) {
    let faults = fw.faults();
    assert!(
        faults.is_empty(),
        "the firmware crashed: {}\n{}",
        faults[0].text,
        fw.transcript()
    );
}

/// A node on the firmware's QEMU hub, over QEMU's UDP socket netdev: it
/// sees every frame of the link and answers Neighbor Solicitations for its
/// own addresses, like any host.
struct HubPeer {
    sock: UdpSocket,
    qemu: SocketAddr,
    mac: MacAddr,
    addrs: Vec<Ipv6Addr>,
}

impl HubPeer {
    fn bind(mac: MacAddr, addrs: Vec<Ipv6Addr>) -> (HubPeer, PeerPorts) {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind the peer socket");
        // A free port for QEMU's end: bound here, released for QEMU.
        let qemu_port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("find a free UDP port")
            .port();
        let ports = PeerPorts {
            peer: sock.local_addr().expect("local address").port(),
            qemu: qemu_port,
        };
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let qemu = SocketAddr::from(([127, 0, 0, 1], qemu_port));
        (
            HubPeer {
                sock,
                qemu,
                mac,
                addrs,
            },
            ports,
        )
    }

    fn send(&self, frame: &[u8]) {
        self.sock.send_to(frame, self.qemu).expect("send to QEMU");
    }

    /// Take frames for up to `timeout`, answering solicitations for our
    /// addresses, until one satisfies `pred`.
    fn until(&self, timeout: Duration, mut pred: impl FnMut(&[u8]) -> bool) -> Option<Vec<u8>> {
        let end = Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        while Instant::now() < end {
            let Ok(n) = self.sock.recv(&mut buf) else {
                continue;
            };
            let frame = &buf[..n];
            self.answer_ns(frame);
            if pred(frame) {
                return Some(frame.to_vec());
            }
        }
        None
    }

    /// RFC 4861 §7.2.4: a solicited, override NA with our link-layer
    /// address, to the solicitation's source.
    fn answer_ns(&self, frame: &[u8]) {
        let Some(f) = packet::parse_icmpv6(frame) else {
            return;
        };
        let Ok(Message::NeighborSolicit(ns)) = parse_received(&f.meta, f.icmp) else {
            return;
        };
        if !self.addrs.contains(&ns.target) || f.meta.src.is_unspecified() {
            return;
        }
        let opts = [NdOption::TargetLinkAddr(self.mac)];
        let na = Message::NeighborAdvert(NeighborAdvert {
            router_flag: false,
            solicited_flag: true,
            override_flag: true,
            target: ns.target,
            options: Options::from_list(&opts),
        });
        self.send(&packet::icmpv6_frame(
            self.mac,
            f.src_mac,
            ns.target,
            f.meta.src,
            ND_HOP_LIMIT,
            &na,
        ));
    }

    /// Ping `dst` (at `dst_mac`) from `src`; the reply's source.
    fn ping(&self, src: Ipv6Addr, dst: Ipv6Addr, dst_mac: MacAddr, seq: u16) -> Option<Ipv6Addr> {
        let data = b"ndp firmware test";
        let icmp = packet::echo_request(src, dst, 0x7e57, seq, data);
        let frame = packet::ipv6_frame(self.mac, dst_mac, src, dst, NH_ICMPV6, 64, &icmp);
        // Resend once a second: the first may wait for address resolution.
        for _ in 0..5 {
            self.send(&frame);
            let reply = self.until(Duration::from_secs(1), |f| {
                packet::parse_icmpv6(f).is_some_and(|p| {
                    p.meta.dst == src
                        && packet::parse_echo(p.meta.src, p.meta.dst, p.icmp).is_some_and(|e| {
                            !e.request && e.id == 0x7e57 && e.seq == seq && e.data == data
                        })
                })
            });
            if let Some(r) = reply {
                return packet::parse_icmpv6(&r).map(|p| p.meta.src);
            }
        }
        None
    }

    /// Send `payload` to UDP port 7 of `dst`; the echoed payload.
    fn udp_echo(
        &self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        dst_mac: MacAddr,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let dgram = packet::udp(src, dst, 40007, 7, payload);
        let frame = packet::ipv6_frame(self.mac, dst_mac, src, dst, NH_UDP, 64, &dgram);
        for _ in 0..5 {
            self.send(&frame);
            let reply = self.until(Duration::from_secs(1), |f| {
                ndp_tests::frame::parse(f)
                    .is_some_and(|p| p.src == dst && p.dst == src && p.next_header == NH_UDP)
            });
            if let Some(r) = reply {
                let p = ndp_tests::frame::parse(&r)?;
                let body = p.payload.get(8..)?;
                let ports = p.payload.get(0..4)?;
                if ports == [0, 7, 0x9c, 0x47] {
                    return Some(body.to_vec());
                }
            }
        }
        None
    }
}

/// (a) slirp, no root: a fd00:1:: address appears; a peer on the hub
/// pings the link-local and global addresses and ff02::1, and UDP echo
/// answers.
#[test]
fn slirp_boot_ping_and_udp_echo() {
    let elf = firmware();
    let peer_mac = mac("02:00:5e:00:53:99");
    let peer_ll = ip("fe80::99");
    let peer_global = ip("fd00:1::99");
    let (peer, ports) = HubPeer::bind(peer_mac, vec![peer_ll, peer_global]);
    let opts = slirp_with_peer(ports, 11, "slirp");
    let fw = Firmware::boot(&elf, &opts).unwrap_or_else(|e| panic!("{e}"));
    let line = fw
        .wait_for("configured line", BOOT, |l| {
            qemu::parse_configured(&l.text).is_some()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let c = qemu::parse_configured(&line.text).expect("parsed above");
    assert!(c.global.starts_with("fd00:1:"), "global {}", c.global);
    assert_eq!(c.link_local, LL, "RFC 7217 link-local for SECRET and MAC");
    assert_eq!(c.router, qemu::SLIRP_ROUTER);
    let (fw_ll, fw_global, fw_mac) = (ip(&c.link_local), ip(&c.global), mac(MAC));

    assert_eq!(
        peer.ping(peer_ll, fw_ll, fw_mac, 1),
        Some(fw_ll),
        "no echo reply from the link-local address\n{}",
        fw.transcript()
    );
    assert_eq!(
        peer.ping(peer_global, fw_global, fw_mac, 2),
        Some(fw_global),
        "no echo reply from the global address\n{}",
        fw.transcript()
    );
    let all = MulticastAddr::ALL_NODES;
    let from = peer.ping(peer_ll, all.get(), all.mac(), 3);
    assert!(
        from.is_some_and(|a| a == fw_ll || a == fw_global),
        "no echo reply to ff02::1 (got {from:?})\n{}",
        fw.transcript()
    );
    let payload = b"echo, echo, echo".to_vec();
    assert_eq!(
        peer.udp_echo(peer_global, fw_global, fw_mac, &payload),
        Some(payload),
        "no UDP echo\n{}",
        fw.transcript()
    );
    assert_no_fault(&fw);
}

/// The firmware with `exit-when-configured` and virtual time ends the run
/// itself with exit code 0 (semihosting), and its clock says when.
#[test]
fn exit_code_through_semihosting() {
    let elf = firmware();
    let mut opts = QemuOptions::slirp("seed=3 exit-when-configured");
    opts.icount = true;
    let fw = Firmware::boot(&elf, &opts).unwrap_or_else(|e| panic!("{e}"));
    let status = fw
        .wait_exit(BOOT)
        .unwrap_or_else(|| panic!("QEMU did not exit by itself\n{}", fw.transcript()));
    assert_eq!(status.code(), Some(0), "{}", fw.transcript());
    let done = fw
        .wait_for("exit line", Duration::from_secs(2), |l| {
            l.text.contains("exit-when-configured")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(done.ms.is_some_and(|ms| ms < 1_500), "{}", fw.transcript());
}

/// A bad command line ends the run with exit code 2 and says why.
#[test]
fn bad_arguments_exit_2() {
    let elf = firmware();
    let fw =
        Firmware::boot(&elf, &QemuOptions::slirp("secret=xyz")).unwrap_or_else(|e| panic!("{e}"));
    let status = fw
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("QEMU did not exit\n{}", fw.transcript()));
    assert_eq!(status.code(), Some(2), "{}", fw.transcript());
    fw.wait_for("error line", Duration::from_secs(2), |l| {
        l.level == "error" && l.text.contains("secret=")
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// radvd for the TAP lab: the prefix and a DNS server.
const RADVD: &str = "
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS 2001:db8:1::53 { };
";

fn boot_on_tap(lab: &Lab, name: &str) -> Firmware {
    let opts = QemuOptions {
        net: Net::Tap {
            ifname: "tap0".into(),
        },
        pcap: Some(pcap(name)),
        mac: Some(MAC.into()),
        netns: Some(lab.router.clone()),
        ..QemuOptions::slirp(&format!("secret={SECRET} seed=5"))
    };
    Firmware::boot(&firmware(), &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// (b) TAP in a network namespace, the Linux kernel as router with radvd:
/// the router sees the firmware STALE before any traffic (RFC 9131),
/// pings its global address, and the MLDv2 report precedes the first DAD
/// probe (RFC 4862 §5.4.2).
#[test]
fn linux_router_and_radvd() {
    if skip_unless_root("firmware linux_router_and_radvd") {
        return;
    }
    let mut lab = Lab::new("firmware-router", HostConfig::default());
    lab.start_radvd(RADVD);
    // radvd answers nothing within 3 s of its first RA (RFC 4861 §6.2.6).
    std::thread::sleep(Duration::from_millis(3500));
    let fw = boot_on_tap(&lab, "linux-router");
    let g0 = fw
        .wait_for("G0 usable", BOOT, |l| {
            qemu::parse_address(&l.text)
                .is_some_and(|(a, s)| a == G0 && (s == "optimistic" || s == "preferred"))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", lab.diagnostics()));
    assert!(g0.ms.is_some());
    // RFC 9131: the unsolicited NAs create a STALE entry on the router
    // before anything was sent to the firmware.
    let state = poll_until(Duration::from_secs(5), || {
        lab.router_neigh_state(G0).filter(|s| s == "STALE")
    });
    assert_eq!(
        state.as_deref(),
        Some("STALE"),
        "router neighbor table:\n{}\n{}",
        lab.router_neigh(),
        fw.transcript()
    );
    let out = ns_run(
        &lab.router,
        &["ping", "-6", "-n", "-c", "3", "-i", "0.3", "-W", "2", G0],
    );
    assert!(
        out.contains(" 0% packet loss"),
        "{out}\n{}",
        fw.transcript()
    );
    fw.wait_for("DNS server", Duration::from_secs(15), |l| {
        l.text == "dns server 2001:db8:1::53"
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_no_fault(&fw);
    fw.kill();
    mld_before_dad(&pcap_path("linux-router"), mac(MAC));
}

/// In the capture, the firmware's first MLDv2 report comes before its
/// first DAD probe (an NS from ::).
fn mld_before_dad(pcap: &PathBuf, fw_mac: MacAddr) {
    let file = std::fs::File::open(pcap).unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    let cap = ndp_tests::pcap::read(file).expect("read the pcap");
    let mut report = None;
    let mut probe = None;
    for (i, r) in cap.records.iter().enumerate() {
        let Some(f) = packet::parse_icmpv6(&r.data) else {
            continue;
        };
        if f.src_mac != fw_mac {
            continue;
        }
        match parse_received(&f.meta, f.icmp) {
            Ok(Message::MldV2Report(_)) if report.is_none() => report = Some(i),
            Ok(Message::NeighborSolicit(_)) if f.meta.src.is_unspecified() && probe.is_none() => {
                probe = Some(i)
            }
            _ => {}
        }
    }
    let (Some(report), Some(probe)) = (report, probe) else {
        panic!(
            "{}: MLDv2 report at {report:?}, DAD probe at {probe:?}",
            pcap.display()
        );
    };
    assert!(
        report < probe,
        "{}: the MLDv2 report (frame {}) must precede the first DAD probe (frame {})",
        pcap.display(),
        report + 1,
        probe + 1
    );
}

/// (b) A Linux host already holds the firmware's first-choice address: DAD
/// finds it and the firmware moves to its next stable identifier
/// (RFC 7217 §6), which Linux then reaches.
#[test]
fn linux_host_holds_the_first_choice_address() {
    if skip_unless_root("firmware linux_host_holds_the_first_choice_address") {
        return;
    }
    let mut lab = Lab::new("firmware-conflict", HostConfig::default());
    lab.host_add_address(&format!("{G0}/64"));
    lab.start_radvd(RADVD);
    std::thread::sleep(Duration::from_millis(3500));
    let fw = boot_on_tap(&lab, "linux-conflict");
    fw.wait_for("G0 duplicate", BOOT, |l| {
        qemu::parse_address(&l.text).is_some_and(|(a, s)| a == G0 && s == "duplicate")
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", lab.diagnostics()));
    fw.wait_for("G1 preferred", BOOT, |l| {
        qemu::parse_address(&l.text).is_some_and(|(a, s)| a == G1 && s == "preferred")
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", lab.diagnostics()));
    let out = ns_run(
        &lab.host,
        &["ping", "-6", "-n", "-c", "2", "-i", "0.3", "-W", "2", G1],
    );
    assert!(
        out.contains(" 0% packet loss"),
        "{out}\n{}",
        fw.transcript()
    );
    assert_no_fault(&fw);
}

/// Boot to a usable global address under slirp, in deterministic virtual
/// time (`-icount`), for each seed: the firmware's clock when it logged
/// `configured`.
fn boot_times(elf: &std::path::Path, seeds: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    let mut times = Vec::new();
    for seed in seeds {
        let mut opts =
            QemuOptions::slirp(&format!("secret={SECRET} seed={seed} exit-when-configured"));
        opts.icount = true;
        let fw = Firmware::boot(elf, &opts).unwrap_or_else(|e| panic!("{e}"));
        let line = fw
            .wait_for("configured line", BOOT, |l| {
                qemu::parse_configured(&l.text).is_some()
            })
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let status = fw.wait_exit(Duration::from_secs(10));
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "seed {seed}\n{}",
            fw.transcript()
        );
        times.push(line.ms.expect("defmt timestamp"));
    }
    times
}

fn median(times: &[u64]) -> u64 {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    (sorted[(n - 1) / 2] + sorted[n / 2]) / 2
}

/// Slirp answers the RS at once, so the random delay before the first RS
/// (0 to MAX_RTR_SOLICITATION_DELAY = 1 s, RFC 4861 §6.3.7) dominates the
/// boot: its median is about 0.5 s and no boot may take much over 1 s.
/// Checked over seeds 1-300: median ≤ 600 ms and every boot ≤ 1,100 ms.
/// (The issue asks for 20 seeds; their sample median wanders by about
/// ±110 ms around 500, too much to tell a skewed delay from chance: seeds
/// 1-20 give 656 ms. 300 seeds narrow it to about ±30 ms, and include the
/// seeds that found the closed multicast filter.) Figures in
/// `target/firmware/boot-times.txt` for the bench report.
#[test]
fn boot_time_distribution() {
    let elf = firmware();
    let times = boot_times(&elf, 1..=300);
    let first20 = &times[..20];
    let text = format!(
        "firmware boot to a usable global address under slirp, virtual time (-icount), ms\n\
         seeds 1-20: median {} max {}: {first20:?}\n\
         seeds 1-300: median {} max {} min {}\n",
        median(first20),
        first20.iter().max().copied().unwrap_or(0),
        median(&times),
        times.iter().max().copied().unwrap_or(0),
        times.iter().min().copied().unwrap_or(0),
    );
    std::fs::write(
        ndp_tests::target_dir().join("firmware/boot-times.txt"),
        &text,
    )
    .expect("write boot-times.txt");
    eprint!("{text}");
    assert!(median(&times) <= 600, "{text}");
    assert!(times.iter().all(|&t| t <= 1_100), "{text}");
}

/// (c) A panic or a HardFault ends the run with exit code 101, after the
/// decoded report, and the harness reports it as a crash.
#[test]
fn a_crash_is_reported_and_ends_the_run() {
    let elf = firmware();
    for (arg, report) in [
        ("fault=panic", "panic:"),
        ("fault=hardfault", "HardFault at pc"),
    ] {
        let fw = Firmware::boot(&elf, &QemuOptions::slirp(arg)).unwrap_or_else(|e| panic!("{e}"));
        let status = fw
            .wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{arg}: QEMU did not exit\n{}", fw.transcript()));
        assert_eq!(
            status.code(),
            Some(qemu::EXIT_FAULT),
            "{arg}\n{}",
            fw.transcript()
        );
        let faults = fw.faults();
        assert!(
            faults.iter().any(|l| l.text.starts_with(report)),
            "{arg}: no `{report}` line\n{}",
            fw.transcript()
        );
        let err = fw
            .wait_for("a line that never comes", Duration::from_secs(1), |l| {
                l.text == "never"
            })
            .expect_err("a crashed firmware cannot satisfy a wait");
        assert!(err.contains("crashed"), "{err}");
    }
}

/// The cable pulled and plugged back (QMP `set_link`): the driver sees
/// both changes through the PHY's interrupt, the firmware neither hangs
/// nor loses its state, re-checks its addresses (DAD probes after the link
/// came back, RFC 4862 §5.4) and solicits the router again, and its global
/// address answers again afterwards.
#[test]
fn link_down_and_up_keep_the_addresses() {
    let elf = firmware();
    let peer_mac = mac("02:00:5e:00:53:98");
    let peer_global = ip("fd00:1::98");
    let (peer, ports) = HubPeer::bind(peer_mac, vec![peer_global]);
    let qmp = ndp_tests::target_dir()
        .join("firmware")
        .join(format!("qmp-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&qmp);
    let opts = QemuOptions {
        qmp: Some(qmp.clone()),
        ..slirp_with_peer(ports, 21, "link-flap")
    };
    let fw = Firmware::boot(&elf, &opts).unwrap_or_else(|e| panic!("{e}"));
    let line = fw
        .wait_for("configured line", BOOT, |l| {
            qemu::parse_configured(&l.text).is_some()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let global = ip(&qemu::parse_configured(&line.text).expect("parsed").global);
    let fw_mac = mac(MAC);
    assert_eq!(
        peer.ping(peer_global, global, fw_mac, 1),
        Some(global),
        "{}",
        fw.transcript()
    );

    fw.set_link(&qmp, false).unwrap_or_else(|e| panic!("{e}"));
    fw.wait_for("link down", Duration::from_secs(5), |l| {
        l.text == "link down"
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        peer.ping(peer_global, global, fw_mac, 2),
        None,
        "an echo reply crossed a link that is down\n{}",
        fw.transcript()
    );

    fw.set_link(&qmp, true).unwrap_or_else(|e| panic!("{e}"));
    fw.wait_for("link up", Duration::from_secs(5), |l| l.text == "link up")
        .unwrap_or_else(|e| panic!("{e}"));
    // The re-run DAD: a probe for the global address and an RS, seen by
    // the peer on the hub within the RS delay (at most 1 s).
    let (mut probed, mut solicited) = (false, false);
    peer.until(Duration::from_secs(3), |f| {
        if let Some(p) = packet::parse_icmpv6(f)
            && p.src_mac == fw_mac
        {
            match parse_received(&p.meta, p.icmp) {
                Ok(Message::NeighborSolicit(ns))
                    if p.meta.src.is_unspecified() && ns.target == global =>
                {
                    probed = true
                }
                Ok(Message::RouterSolicit(_)) => solicited = true,
                _ => {}
            }
        }
        probed && solicited
    });
    assert!(
        probed,
        "no DAD probe for {global} after the link came back\n{}",
        fw.transcript()
    );
    assert!(
        solicited,
        "no RS after the link came back\n{}",
        fw.transcript()
    );
    assert_eq!(
        peer.ping(peer_global, global, fw_mac, 3),
        Some(global),
        "no echo reply after the link came back\n{}",
        fw.transcript()
    );
    let lost = fw
        .lines()
        .into_iter()
        .filter(|l| l.text.ends_with(" removed") || l.text.ends_with(" duplicate"))
        .count();
    assert_eq!(lost, 0, "{}", fw.transcript());
    assert_no_fault(&fw);
    let _ = std::fs::remove_file(&qmp);
}
