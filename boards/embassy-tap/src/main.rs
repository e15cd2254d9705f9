//! embassy-tap: embassy-net with ndp-embassy on a Linux TAP device, on
//! embassy's executor: the host stand-in for an embassy board, for the
//! interop tests against the Linux kernel and radvd.
//!
//! ```text
//! embassy-tap --iface NAME --mac MAC --secret HEX [--seed N] [--dhcp]
//!             [--join GROUP]...
//! ```
//!
//! It attaches to the existing TAP device NAME in the current network
//! namespace, then prints one JSON object per line on stdout: `started`,
//! one line per engine event (`address`, `router`, `prefix`, ... as
//! linux-tap prints them), `configured` whenever embassy-net is given a
//! new IPv6 configuration (`address`, `prefix_len`, `gateway`,
//! `dns_servers`, or `null`s), `ipv4` when embassy-net's DHCPv4 client
//! changes the IPv4 address (with `--dhcp`), and `dropped` for packets the
//! engine could not send. embassy-net answers ping, and a UDP socket
//! echoes datagrams on port 7 over IPv4 and IPv6, also to the groups
//! joined with `--join`. Bad arguments: a one-line error and exit code
//! 2. SIGTERM ends it.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use clap::Parser;
use embassy_executor::{Executor, Spawner};
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{Runner, Stack, StackResources};
use embassy_net_tuntap::TunTapDevice;
use embassy_time::Timer;
use ndp_core::Config;
use ndp_embassy::{Control, Event, MacAddr, NdpDriver, State};
use serde_json::{Value, json};
use static_cell::StaticCell;

/// UDP echo port (RFC 862).
const ECHO_PORT: u16 = 7;

/// embassy-net with ndp-embassy on a Linux TAP device, reporting in JSON
/// lines.
#[derive(Debug, Parser)]
#[command(name = "embassy-tap", version)]
struct Args {
    /// TAP device to attach to (it must exist and be up).
    #[arg(long, value_name = "NAME")]
    iface: String,
    /// The device's Ethernet address, as aa:bb:cc:dd:ee:ff (unicast).
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    mac: MacAddr,
    /// RFC 7217 secret key: 32 hex digits (16 bytes).
    #[arg(long, value_name = "HEX", value_parser = parse_secret)]
    secret: [u8; 16],
    /// Seed of the engine's and embassy-net's random choices.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// IPv4 from embassy-net's DHCPv4 client beside IPv6.
    #[arg(long)]
    dhcp: bool,
    /// Join this IPv6 multicast group on embassy-net's Stack (the UDP
    /// echo then answers datagrams to it), e.g. ff02::fb; repeatable.
    #[arg(long, value_name = "GROUP", value_parser = parse_group)]
    join: Vec<std::net::Ipv6Addr>,
}

fn parse_group(s: &str) -> Result<std::net::Ipv6Addr, String> {
    let g: std::net::Ipv6Addr = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if !g.is_multicast() {
        return Err(format!("{s} is not a multicast group"));
    }
    Ok(g)
}

fn parse_mac(s: &str) -> Result<MacAddr, String> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next().ok_or("a MAC has six octets")?;
        *b = u8::from_str_radix(p, 16).map_err(|_| format!("bad octet {p:?}"))?;
    }
    if parts.next().is_some() {
        return Err("a MAC has six octets".into());
    }
    if mac[0] & 1 != 0 {
        return Err("not a unicast MAC".into());
    }
    Ok(MacAddr(mac))
}

fn parse_secret(s: &str) -> Result<[u8; 16], String> {
    if s.len() != 32 {
        return Err("32 hex digits".into());
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| "not hex".to_string())?;
    }
    Ok(out)
}

fn ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

fn print(mut v: Value) {
    v["ms"] = json!(ms());
    println!("{v}");
}

fn mac_str(m: MacAddr) -> String {
    m.octets()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The line for one event.
fn event(e: &Event) -> Value {
    use ndp_core::Event as E;
    match *e {
        Event::Engine(E::Address {
            addr,
            prefix_len,
            state,
        }) => json!({
            "event": "address",
            "address": addr.to_string(),
            "prefix_len": prefix_len,
            "state": state.name(),
        }),
        Event::Engine(E::AddressRemoved { addr, prefix_len }) => json!({
            "event": "address",
            "address": addr.to_string(),
            "prefix_len": prefix_len,
            "state": "removed",
        }),
        Event::Engine(E::AddressFailed { prefix, attempts }) => json!({
            "event": "address_failed",
            "prefix": prefix.to_string(),
            "attempts": attempts,
        }),
        Event::Engine(E::Router {
            addr, lifetime_s, ..
        }) => json!({
            "event": "router",
            "address": addr.to_string(),
            "lifetime_s": lifetime_s,
        }),
        Event::Engine(E::Prefix { prefix, len, valid }) => json!({
            "event": "prefix",
            "prefix": prefix.to_string(),
            "prefix_len": len,
            "valid_s": valid.to_wire(),
        }),
        Event::Configured(Some(c)) => json!({
            "event": "configured",
            "address": c.address.to_string(),
            "prefix_len": c.prefix_len,
            "gateway": c.gateway.map(|g| g.to_string()),
            "dns_servers": c.dns_servers.iter().flatten().map(|s| s.to_string()).collect::<Vec<_>>(),
        }),
        Event::Configured(None) => json!({
            "event": "configured",
            "address": null,
            "prefix_len": null,
            "gateway": null,
            "dns_servers": [],
        }),
        Event::Dropped { reason, count } => json!({
            "event": "dropped",
            "reason": format!("{reason:?}"),
            "count": count,
        }),
        _ => json!({"event": "other", "debug": format!("{e:?}")}),
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, NdpDriver<'static, TunTapDevice>>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn ndp_task(control: Control<'static>, stack: Stack<'static>) -> ! {
    control.run(stack, |e| print(event(&e))).await
}

/// Echo every UDP datagram on port 7 back to its sender (RFC 862).
#[embassy_executor::task]
async fn echo_task(stack: Stack<'static>) -> ! {
    let mut rx_meta = [PacketMetadata::EMPTY; 4];
    let mut rx_buf = [0; 2048];
    let mut tx_meta = [PacketMetadata::EMPTY; 4];
    let mut tx_buf = [0; 2048];
    let mut socket = UdpSocket::new(stack, &mut rx_meta, &mut rx_buf, &mut tx_meta, &mut tx_buf);
    if let Err(e) = socket.bind(ECHO_PORT) {
        print(json!({"event": "error", "what": format!("bind: {e:?}")}));
    }
    let mut buf = [0; 1500];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, meta)) => {
                if let Err(e) = socket.send_to(&buf[..n], meta.endpoint).await {
                    print(json!({"event": "error", "what": format!("send_to: {e:?}")}));
                }
            }
            Err(e) => print(json!({"event": "error", "what": format!("recv_from: {e:?}")})),
        }
    }
}

/// Report embassy-net's IPv4 configuration when it changes.
#[embassy_executor::task]
async fn ipv4_task(stack: Stack<'static>) -> ! {
    let mut last = None;
    loop {
        let now = stack.config_v4().map(|c| c.address);
        if now != last {
            last = now;
            print(json!({
                "event": "ipv4",
                "address": now.map(|c| c.address().to_string()),
                "prefix_len": now.map(|c| c.prefix_len()),
            }));
        }
        Timer::after_millis(100).await;
    }
}

fn start(spawner: Spawner, args: Args) -> Result<(), String> {
    let mut nic = TunTapDevice::new(&args.iface).map_err(|e| format!("{}: {e}", args.iface))?;
    nic.set_hardware_address(args.mac.0);
    let config = Config::stable(args.mac, args.seed, args.secret);
    static NDP: StaticCell<State> = StaticCell::new();
    let (driver, control) =
        ndp_embassy::new(nic, config, NDP.init(State::new())).map_err(|e| e.to_string())?;
    let net_config = if args.dhcp {
        embassy_net::Config::dhcpv4(Default::default())
    } else {
        embassy_net::Config::default()
    };
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        driver,
        net_config,
        RESOURCES.init(StackResources::new()),
        args.seed,
    );
    for g in &args.join {
        stack
            .join_multicast_group(*g)
            .map_err(|e| format!("join {g}: {e:?}"))?;
    }
    print(json!({"event": "started", "iface": args.iface, "mac": mac_str(args.mac)}));
    spawner
        .spawn(net_task(runner))
        .map_err(|e| format!("{e:?}"))?;
    spawner
        .spawn(ndp_task(control, stack))
        .map_err(|e| format!("{e:?}"))?;
    spawner
        .spawn(echo_task(stack))
        .map_err(|e| format!("{e:?}"))?;
    spawner
        .spawn(ipv4_task(stack))
        .map_err(|e| format!("{e:?}"))?;
    Ok(())
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if e.use_stderr() => {
            let msg = e.to_string();
            eprintln!(
                "embassy-tap: {}",
                msg.lines().next().unwrap_or("bad arguments")
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    ms();
    // SIGTERM and SIGINT end the program with status 0 (the executor
    // never returns).
    match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if signals.forever().next().is_some() {
                    std::process::exit(0);
                }
            });
        }
        Err(e) => {
            eprintln!("embassy-tap: signals: {e}");
            return ExitCode::FAILURE;
        }
    }
    static EXECUTOR: StaticCell<Executor> = StaticCell::new();
    let executor = EXECUTOR.init(Executor::new());
    executor.run(|spawner| {
        if let Err(e) = start(spawner, args) {
            eprintln!("embassy-tap: {e}");
            std::process::exit(1);
        }
    })
}
