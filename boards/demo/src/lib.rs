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
use ndp_core::wire::MacAddr;
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
    info!(
        "boot mac {=[u8]:02x} seed {=u64}",
        settings.mac.octets(),
        settings.seed
    );

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
                link_local, global, router
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
        } => info!("address {}/{=u8} {=str}", addr, prefix_len, state.name()),
        Event::AddressRemoved { addr, prefix_len } => {
            info!("address {}/{=u8} removed", addr, prefix_len)
        }
        Event::Router {
            addr,
            lifetime_s,
            preference,
        } => info!(
            "router {} lifetime {=u16} s preference {}",
            addr, lifetime_s, preference
        ),
        Event::Prefix { prefix, len, valid } => {
            info!("prefix {}/{=u8} valid {}", prefix, len, valid)
        }
        Event::Dns => {
            let servers = adapter.stack().dns_servers().count();
            if servers == 0 {
                info!("dns none");
            }
            for s in adapter.stack().dns_servers() {
                info!("dns server {}", s);
            }
        }
        ref other => info!("event {}", other),
    }
}
