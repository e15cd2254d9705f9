//! linux-tap: the ndp engine, the ndp-smoltcp adapter and smoltcp on a
//! Linux TAP device: a "board" for watching the engine on a real link and
//! for interop tests against the Linux kernel and radvd.
//!
//! ```text
//! linux-tap --iface NAME --mac MAC --secret HEX [--seed N] [--no-optimistic]
//!           [--dad-transmits N] [--gratuitous-na N] [--eui64]
//!           [--ipv4 dhcp|ADDR/LEN[,GATEWAY]] [--join GROUP]...
//! ```
//!
//! It attaches to TAP device NAME in the current network namespace
//! (creating it if missing) and brings it up, then prints one JSON object
//! per line on stdout: `started`, then one line per engine event with
//! `ms` since start, an `ipv4` line whenever the IPv4 configuration
//! changes (`address`, `prefix_len`, `gateway`; `null`s when DHCP loses
//! it), one line per adapter warning (`address_no_room`, `group_no_room`,
//! `dropped`), and the whole state on SIGUSR1. It answers ping (IPv4 and
//! IPv6) on every usable address and ff02::1, echoes UDP on port 7 over
//! both, also to the groups joined with `--join`, and exits 0 on SIGINT or
//! SIGTERM. Bad arguments: a one-line error and exit code 2.

mod json;
mod tap;

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use ndp_core::Config;
use ndp_core::wire::MacAddr;
use ndp_smoltcp::Adapter;
use serde_json::json;
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpCidr, Ipv4Address, Ipv4Cidr};

use crate::tap::Tap;

/// UDP echo port (RFC 862).
const ECHO_PORT: u16 = 7;
/// Longest sleep between polls: bounds how late a signal is noticed.
const MAX_SLEEP: Duration = Duration::from_millis(100);

/// The ndp engine and smoltcp on a Linux TAP device, reporting in JSON
/// lines.
#[derive(Debug, Parser)]
#[command(name = "linux-tap", version)]
struct Args {
    /// TAP device to attach to (created if missing).
    #[arg(long, value_name = "NAME", value_parser = parse_iface)]
    iface: String,
    /// The device's Ethernet address, as aa:bb:cc:dd:ee:ff (unicast).
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    mac: MacAddr,
    /// RFC 7217 secret key: 32 hex digits (16 bytes).
    #[arg(long, value_name = "HEX", value_parser = parse_secret)]
    secret: [u8; 16],
    /// Seed of the engine's random delays (default: from the clock).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Turn optimistic DAD (RFC 4429) off.
    #[arg(long)]
    no_optimistic: bool,
    /// DupAddrDetectTransmits (RFC 4862): probes per address, 0 = no DAD.
    #[arg(long, value_name = "N")]
    dad_transmits: Option<u8>,
    /// Unsolicited NAs to ff02::2 per new global address (RFC 9131).
    #[arg(long, value_name = "N")]
    gratuitous_na: Option<u8>,
    /// Modified EUI-64 interface identifiers instead of RFC 7217 ones.
    #[arg(long)]
    eui64: bool,
    /// IPv4 beside IPv6: `dhcp` (smoltcp's DHCPv4 client), or a static
    /// ADDR/LEN with an optional default gateway, as 192.0.2.10/24,192.0.2.1.
    #[arg(long, value_name = "dhcp|ADDR/LEN[,GATEWAY]", value_parser = parse_ipv4)]
    ipv4: Option<Ipv4Setting>,
    /// Join this IPv6 multicast group on the smoltcp interface, e.g.
    /// ff02::fb (mDNS); repeatable.
    #[arg(long, value_name = "GROUP", value_parser = parse_group)]
    join: Vec<std::net::Ipv6Addr>,
}

/// How the device gets its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Setting {
    /// smoltcp's DHCPv4 client.
    Dhcp,
    /// A static address and an optional default gateway.
    Static(Ipv4Cidr, Option<Ipv4Address>),
}

fn parse_ipv4(s: &str) -> Result<Ipv4Setting, String> {
    if s == "dhcp" {
        return Ok(Ipv4Setting::Dhcp);
    }
    let usage = "expected dhcp or ADDR/LEN[,GATEWAY] like 192.0.2.10/24,192.0.2.1";
    let (cidr, gateway) = match s.split_once(',') {
        Some((c, g)) => (c, Some(g)),
        None => (s, None),
    };
    let (addr, len) = cidr.split_once('/').ok_or(usage)?;
    let addr: Ipv4Address = addr.parse().map_err(|_| format!("{addr:?}: {usage}"))?;
    let len: u8 = len
        .parse()
        .ok()
        .filter(|l| (1..=32).contains(l))
        .ok_or(usage)?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
        return Err(format!("{addr} cannot be an interface's address"));
    }
    let gateway = gateway
        .map(|g| {
            g.parse::<Ipv4Address>()
                .map_err(|_| format!("{g:?}: {usage}"))
        })
        .transpose()?;
    Ok(Ipv4Setting::Static(Ipv4Cidr::new(addr, len), gateway))
}

fn parse_group(s: &str) -> Result<std::net::Ipv6Addr, String> {
    let g: std::net::Ipv6Addr = s
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv6 address"))?;
    if g.is_multicast() {
        Ok(g)
    } else {
        Err(format!("{g} is not a multicast group"))
    }
}

fn parse_iface(s: &str) -> Result<String, String> {
    // IFNAMSIZ is 16 with the terminating NUL.
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("an interface name is 1 to 15 characters, no '/', ':' or spaces".into())
    }
}

fn parse_mac(s: &str) -> Result<MacAddr, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut o = [0u8; 6];
    if parts.len() != 6 {
        return Err("expected six hex octets like 02:00:5e:00:53:01".into());
    }
    for (b, p) in o.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return Err("expected six hex octets like 02:00:5e:00:53:01".into());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| format!("{p:?} is not a hex octet"))?;
    }
    let mac = MacAddr(o);
    if mac.is_multicast() {
        return Err("a multicast MAC cannot be an interface's address".into());
    }
    if o == [0; 6] {
        return Err("00:00:00:00:00:00 is not a usable MAC".into());
    }
    Ok(mac)
}

fn parse_secret(s: &str) -> Result<[u8; 16], String> {
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected exactly 32 hex digits (16 bytes)".into());
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn config(args: &Args) -> Config {
    // Without --seed, per-boot entropy from the clock (Config::seed).
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let mut c = if args.eui64 {
        Config::eui64(args.mac, seed)
    } else {
        Config::stable(args.mac, seed, args.secret)
    };
    // The neighbor hash key is drawn from the secret in both modes.
    c.secret = args.secret;
    if args.no_optimistic {
        c.optimistic_dad = false;
    }
    if let Some(n) = args.dad_transmits {
        c.dad_transmits = n;
    }
    if let Some(n) = args.gratuitous_na {
        c.gratuitous_na = n;
    }
    c
}

/// Everything that runs: the adapter (engine + TAP) and smoltcp.
pub struct Node {
    pub adapter: Adapter<Tap>,
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub udp: SocketHandle,
    pub udp_echoed: u64,
    pub dhcp: Option<SocketHandle>,
    /// The IPv4 configuration: address and gateway.
    pub ipv4: Option<(Ipv4Cidr, Option<Ipv4Address>)>,
}

impl Node {
    fn new(tap: Tap, config: Config, args: &Args) -> Result<Node, String> {
        let mut adapter = Adapter::new(tap, config, Instant::ZERO)
            .map_err(|e| format!("cannot run on the TAP device: {e}"))?;
        let mut iface = adapter.new_interface(Instant::ZERO);
        let mut sockets = SocketSet::new(vec![]);
        let buf = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16384]);
        let mut socket = udp::Socket::new(buf(), buf());
        // Binding a fresh socket to a free port cannot fail.
        let _ = socket.bind(ECHO_PORT);
        let udp = sockets.add(socket);
        for g in &args.join {
            iface
                .join_multicast_group(*g)
                .map_err(|e| format!("cannot join {g}: {e}"))?;
        }
        let mut node = Node {
            adapter,
            iface,
            sockets,
            udp,
            udp_echoed: 0,
            dhcp: None,
            ipv4: None,
        };
        match args.ipv4 {
            Some(Ipv4Setting::Dhcp) => {
                node.dhcp = Some(node.sockets.add(dhcpv4::Socket::new()));
            }
            Some(Ipv4Setting::Static(cidr, gateway)) => node.set_ipv4(Some((cidr, gateway))),
            None => {}
        }
        Ok(node)
    }

    /// Replace the IPv4 address and default route.
    fn set_ipv4(&mut self, v4: Option<(Ipv4Cidr, Option<Ipv4Address>)>) {
        self.iface.update_ip_addrs(|addrs| {
            addrs.retain(|c| !matches!(c, IpCidr::Ipv4(_)));
            if let Some((cidr, _)) = v4 {
                let _ = addrs.push(IpCidr::Ipv4(cidr));
            }
        });
        let routes = self.iface.routes_mut();
        let _ = routes.remove_default_ipv4_route();
        if let Some((_, Some(gateway))) = v4 {
            let _ = routes.add_default_ipv4_route(gateway);
        }
        self.ipv4 = v4;
    }

    /// Follow the DHCPv4 client; true when the configuration changed.
    fn poll_dhcp(&mut self) -> bool {
        let Some(h) = self.dhcp else {
            return false;
        };
        let event = match self.sockets.get_mut::<dhcpv4::Socket>(h).poll() {
            Some(dhcpv4::Event::Configured(c)) => Some(Some((c.address, c.router))),
            Some(dhcpv4::Event::Deconfigured) => Some(None),
            None => None,
        };
        match event {
            // The socket reports Deconfigured once at start, before it
            // ever had a lease: no change, no line.
            Some(v4) if v4 != self.ipv4 => {
                self.set_ipv4(v4);
                true
            }
            _ => false,
        }
    }

    /// Echo every datagram received on port 7 back to its sender, from the
    /// address it was sent to (RFC 862).
    fn udp_echo(&mut self) {
        let socket = self.sockets.get_mut::<udp::Socket>(self.udp);
        let mut buf = [0u8; 2048];
        while let Ok((n, meta)) = socket.recv_slice(&mut buf) {
            let mut reply = udp::UdpMetadata::from(meta.endpoint);
            // A datagram to a multicast group is answered from a unicast
            // address smoltcp selects.
            reply.local_address = meta.local_address.filter(|a| !a.is_multicast());
            if socket.send_slice(&buf[..n], reply).is_ok() {
                self.udp_echoed += 1;
            }
        }
    }
}

fn print(line: &serde_json::Value) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

fn main() -> ExitCode {
    let start = std::time::Instant::now();
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's message without its usage block and tips.
            let text = e.to_string();
            let line: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("tip:") && !l.starts_with("For more"))
                .collect();
            let line = line.join(" ");
            eprintln!("linux-tap: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(&args, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linux-tap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, start: std::time::Instant) -> Result<(), String> {
    let term = Arc::new(AtomicBool::new(false));
    let usr1 = Arc::new(AtomicBool::new(false));
    for (sig, flag) in [
        (signal_hook::consts::SIGINT, &term),
        (signal_hook::consts::SIGTERM, &term),
        (signal_hook::consts::SIGUSR1, &usr1),
    ] {
        signal_hook::flag::register(sig, Arc::clone(flag))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let tap = Tap::open(&args.iface)?;
    let mut node = Node::new(tap, config(args), args)?;
    let io_err = |e: io::Error| format!("cannot write to stdout: {e}");
    print(&json!({
        "event": "started",
        "mac": json::mac(args.mac),
        "iface": args.iface,
    }))
    .map_err(io_err)?;
    let ms = || start.elapsed().as_millis() as u64;
    if node.ipv4.is_some() {
        print(&json::ipv4(ms(), &node)).map_err(io_err)?;
    }
    while !term.load(Ordering::Relaxed) {
        let now_ms = ms();
        let now = Instant::from_millis(now_ms as i64);
        node.adapter.poll(now, &mut node.iface, &mut node.sockets);
        while let Some(e) = node.adapter.poll_event() {
            print(&json::adapter_event(now_ms, &e, &node)).map_err(io_err)?;
        }
        if node.poll_dhcp() {
            print(&json::ipv4(now_ms, &node)).map_err(io_err)?;
        }
        node.udp_echo();
        // Replies go out now rather than at the next wake-up.
        node.adapter.poll(now, &mut node.iface, &mut node.sockets);
        if usr1.swap(false, Ordering::Relaxed) {
            print(&json::state(now_ms, &node)).map_err(io_err)?;
        }
        let delay = node
            .adapter
            .poll_delay(now, &mut node.iface, &node.sockets)
            .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
        if delay > Duration::ZERO {
            tap::wait(node.adapter.device(), delay)
                .map_err(|e| format!("waiting for the TAP device failed: {e}"))?;
        }
    }
    Ok(())
}
