//! # ndp-demo: the application every ndp board runs
//!
//! A board crate sets its hardware up (clock, Ethernet driver, logger) and
//! makes one call, [`run`]. From there the demo:
//!
//! - runs the ndp engine under smoltcp through [`ndp_smoltcp::Adapter`]:
//!   link-local and SLAAC addresses with DAD, router discovery, NUD;
//! - answers ping on every usable address and on ff02::1 (smoltcp's
//!   `auto-icmp-echo-reply`), and echoes UDP on port 7 (RFC 862);
//! - logs every engine event with defmt, one line each, in the fixed
//!   forms below (the host tools read them);
//! - once a global address is usable, prints its addresses (`configured`);
//! - when there is nothing to do, asks the board to sleep until the next
//!   deadline or an interrupt ([`Board::idle`]).
//!
//! Log lines (the stable contract `cargo xtask demo` and the firmware
//! tests parse; the defmt timestamp is the board's clock in ms):
//!
//! ```text
//! boot mac 52:54:00:12:34:56 seed 1
//! address fe80::1234/64 tentative|optimistic|preferred|deprecated|duplicate
//! address fe80::1234/64 removed
//! router fe80::2 lifetime 1800 s preference medium
//! prefix fd00:1::/64 valid 86400 s
//! dns servers 1: 2001:db8::53       (and `dns none` when the list empties)
//! configured link-local fe80::1234 global fd00:1::5678 router fe80::2
//! link down | link up
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::net::Ipv6Addr;

use defmt::{info, warn};
use ndp_core::wire::{Lifetime, MacAddr, Preference};
use ndp_core::{Config, Event};
use ndp_smoltcp::{Adapter, MulticastFilter};
use smoltcp::iface::{Interface, SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};

/// UDP echo port (RFC 862).
pub const ECHO_PORT: u16 = 7;
/// Longest the demo sleeps between polls, whatever the deadlines: bounds
/// how late a board notices a link change it does not signal by
/// interrupt, and lets a clock built on a wrapping counter be extended.
pub const MAX_IDLE: Duration = Duration::from_secs(10);
/// Largest UDP datagram echoed.
const ECHO_MAX: usize = 1024;

/// What the board gives the demo besides its Ethernet device `D`.
pub trait Board<D> {
    /// Milliseconds since boot; never goes backwards.
    fn now(&mut self) -> Instant;
    /// Sleep until an interrupt (a frame, a link change) or until
    /// `timeout` has passed, whichever is first. Returning early is fine;
    /// sleeping while `device` holds a received frame is not.
    fn idle(&mut self, device: &mut D, timeout: Duration);
    /// A change of link state since the last call: `Some(true)` when the
    /// link came up, `Some(false)` when it went down.
    fn link_change(&mut self, device: &mut D) -> Option<bool> {
        let _ = device;
        None
    }
    /// Called once a global address is usable, when
    /// [`Settings::exit_when_configured`] is set (for boot-time
    /// measurements): the board ends the run.
    fn configured(&mut self) {}
}

/// Per-device settings, from the board (flash, unique ID, or the QEMU
/// command line).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The NIC's MAC address.
    pub mac: MacAddr,
    /// RFC 7217 secret: fixed per device so its addresses are stable.
    pub secret: [u8; 16],
    /// Seed of the engine's random delays (differs per boot on real
    /// hardware).
    pub seed: u64,
    /// Call [`Board::configured`] once a global address is usable.
    pub exit_when_configured: bool,
}

/// Run the demo forever over `device`, whose multicast filter `filter`
/// programs.
pub fn run<D, F, B>(device: D, filter: F, board: &mut B, settings: Settings) -> !
where
    D: Device,
    F: MulticastFilter<D>,
    B: Board<D>,
{
    let mut config = Config::new(settings.mac);
    config.secret = settings.secret;
    config.seed = settings.seed;
    info!("boot mac {} seed {=u64}", Mac(settings.mac), settings.seed);

    let now = board.now();
    let mut adapter: Adapter<D, F> = Adapter::with_filter(device, filter, config, now);
    let mut iface = Interface::new(adapter.interface_config(), &mut adapter, now);
    let mut storage = [SocketStorage::EMPTY; 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut rx_meta = [udp::PacketMetadata::EMPTY; 4];
    let mut rx_data = [0u8; 2048];
    let mut tx_meta = [udp::PacketMetadata::EMPTY; 4];
    let mut tx_data = [0u8; 2048];
    let mut echo = udp::Socket::new(
        udp::PacketBuffer::new(&mut rx_meta[..], &mut rx_data[..]),
        udp::PacketBuffer::new(&mut tx_meta[..], &mut tx_data[..]),
    );
    if echo.bind(ECHO_PORT).is_err() {
        warn!("cannot bind the UDP echo socket");
    }
    let echo = sockets.add(echo);
    let mut announced = false;

    loop {
        let now = board.now();
        adapter.poll(now, &mut iface, &mut sockets);
        if let Some(up) = board.link_change(adapter.device_mut()) {
            // The engine keeps its state across a link flap; frames sent
            // while the link is down are lost like on any cable.
            if up {
                info!("link up");
            } else {
                info!("link down");
            }
        }
        let mut addresses_changed = false;
        while let Some(event) = adapter.stack_mut().poll_event() {
            addresses_changed |= matches!(
                event,
                Event::Address { .. } | Event::AddressRemoved { .. } | Event::Router { .. }
            );
            log_event(&event, &adapter);
        }
        if addresses_changed
            && !announced
            && let Some(global) = usable_global(&adapter)
        {
            announced = true;
            let link_local = link_local(&adapter).unwrap_or(Ipv6Addr::UNSPECIFIED);
            let router = adapter
                .stack()
                .default_router()
                .unwrap_or(Ipv6Addr::UNSPECIFIED);
            info!(
                "configured link-local {} global {} router {}",
                Ip(link_local),
                Ip(global),
                Ip(router)
            );
            if settings.exit_when_configured {
                board.configured();
            }
        }
        udp_echo(sockets.get_mut::<udp::Socket>(echo));
        // Replies go out now rather than at the next wake-up.
        adapter.poll(now, &mut iface, &mut sockets);
        let delay = adapter
            .poll_delay(now, &mut iface, &sockets)
            .map_or(MAX_IDLE, |d| d.min(MAX_IDLE));
        if delay > Duration::ZERO {
            board.idle(adapter.device_mut(), delay);
        }
    }
}

/// Echo every datagram received on the echo port back to its sender
/// (RFC 862), from the address it was sent to unless that is a group.
fn udp_echo(socket: &mut udp::Socket<'_>) {
    let mut buf = [0u8; ECHO_MAX];
    while let Ok((n, meta)) = socket.recv_slice(&mut buf) {
        let mut reply = udp::UdpMetadata::from(meta.endpoint);
        reply.local_address = meta.local_address.filter(|a| !a.is_multicast());
        let data = buf.get(..n).unwrap_or(&[]);
        if socket.send_slice(data, reply).is_err() {
            warn!("udp echo: no room to answer");
        }
    }
}

fn usable<D, F>(adapter: &Adapter<D, F>) -> impl Iterator<Item = Ipv6Addr> + '_
where
    D: Device,
    F: MulticastFilter<D>,
{
    adapter
        .stack()
        .addresses()
        .filter(|a| a.usable_as_source())
        .map(|a| a.addr.get())
}

fn usable_global<D: Device, F: MulticastFilter<D>>(adapter: &Adapter<D, F>) -> Option<Ipv6Addr> {
    usable(adapter).find(|a| !ndp_core::wire::is_link_local(a))
}

fn link_local<D: Device, F: MulticastFilter<D>>(adapter: &Adapter<D, F>) -> Option<Ipv6Addr> {
    usable(adapter).find(ndp_core::wire::is_link_local)
}

fn log_event<D: Device, F: MulticastFilter<D>>(event: &Event, adapter: &Adapter<D, F>) {
    match *event {
        Event::Address {
            addr,
            prefix_len,
            state,
        } => info!(
            "address {}/{=u8} {=str}",
            Ip(addr),
            prefix_len,
            state.name()
        ),
        Event::AddressRemoved { addr, prefix_len } => {
            info!("address {}/{=u8} removed", Ip(addr), prefix_len)
        }
        Event::Router {
            addr,
            lifetime_s,
            preference,
        } => info!(
            "router {} lifetime {=u16} s preference {=str}",
            Ip(addr),
            lifetime_s,
            preference_name(preference)
        ),
        Event::Prefix { prefix, len, valid } => match valid {
            Lifetime::Finite(s) => info!("prefix {}/{=u8} valid {=u32} s", Ip(prefix), len, s),
            Lifetime::Infinite => info!("prefix {}/{=u8} valid forever", Ip(prefix), len),
        },
        Event::Dns => {
            if adapter.stack().dns_servers().next().is_none() {
                info!("dns none");
            }
            for s in adapter.stack().dns_servers() {
                info!("dns server {}", Ip(s));
            }
        }
        ref other => info!("event {}", other),
    }
}

fn preference_name(p: Preference) -> &'static str {
    match p {
        Preference::Low => "low",
        Preference::Medium => "medium",
        Preference::High => "high",
        Preference::Reserved => "reserved",
    }
}

/// An IPv6 address in its RFC 5952 text form (defmt's own impl prints
/// all eight groups in full).
#[derive(Clone, Copy)]
pub struct Ip(pub Ipv6Addr);

impl defmt::Format for Ip {
    fn format(&self, f: defmt::Formatter<'_>) {
        let seg = self.0.segments();
        // RFC 5952 §4.2: the longest run of two or more zero groups (the
        // first of equal runs) becomes "::".
        let (mut best, mut best_len, mut run) = (0usize, 0usize, 0usize);
        for (i, s) in seg.iter().enumerate() {
            if *s == 0 {
                run = run.saturating_add(1);
                if run > best_len {
                    best_len = run;
                    best = i.saturating_add(1).saturating_sub(run);
                }
            } else {
                run = 0;
            }
        }
        let gap = if best_len >= 2 {
            best..best.saturating_add(best_len)
        } else {
            0..0
        };
        let mut i = 0;
        while let Some(s) = seg.get(i) {
            if i == gap.start && !gap.is_empty() {
                defmt::write!(f, "::");
                i = gap.end;
                continue;
            }
            if i != 0 && i != gap.end {
                defmt::write!(f, ":");
            }
            defmt::write!(f, "{=u16:x}", *s);
            i = i.saturating_add(1);
        }
    }
}

/// A MAC address as six colon-separated hex octets.
#[derive(Clone, Copy)]
pub struct Mac(pub MacAddr);

impl defmt::Format for Mac {
    fn format(&self, f: defmt::Formatter<'_>) {
        let [a, b, c, d, e, g] = self.0.octets();
        defmt::write!(
            f,
            "{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}",
            a,
            b,
            c,
            d,
            e,
            g
        );
    }
}
