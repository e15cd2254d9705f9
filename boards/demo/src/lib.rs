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
//!
//! ## Two builds
//!
//! - feature `ndp` (the default): the engine, as above ([`run`]);
//! - feature `smoltcp-nd` without `ndp` (`--no-default-features
//!   --features smoltcp-nd`): the same services on smoltcp's own IPv6
//!   neighbor discovery, SLAAC and MLD over `Medium::Ethernet`, linking
//!   none of ndp (`smoltcp_nd::run`). `cargo xtask bench` builds both
//!   and reports what the engine costs over smoltcp's own ND. Its log
//!   lines are described in the `smoltcp_nd` module.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(not(any(feature = "ndp", feature = "smoltcp-nd")))]
compile_error!("ndp-demo needs feature `ndp` (the default) or `smoltcp-nd`");

use core::net::Ipv6Addr;

use defmt::warn;
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};

#[cfg(feature = "ndp")]
mod engine;
#[cfg(feature = "smoltcp-nd")]
pub mod smoltcp_nd;

#[cfg(feature = "ndp")]
pub use engine::run;

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
    pub mac: [u8; 6],
    /// RFC 7217 secret: fixed per device so its addresses are stable
    /// (smoltcp's own SLAAC does not use it: its addresses are EUI-64).
    pub secret: [u8; 16],
    /// Seed of the engine's random delays (differs per boot on real
    /// hardware); smoltcp's `random_seed` in the `smoltcp-nd` build.
    pub seed: u64,
    /// Call [`Board::configured`] once a global address is usable.
    pub exit_when_configured: bool,
}

/// The UDP echo socket's buffers: locals of the demo's `run`, which
/// never returns.
pub(crate) struct EchoBuffers {
    rx_meta: [udp::PacketMetadata; 4],
    rx_data: [u8; 2048],
    tx_meta: [udp::PacketMetadata; 4],
    tx_data: [u8; 2048],
}

impl EchoBuffers {
    pub(crate) const fn new() -> Self {
        EchoBuffers {
            rx_meta: [udp::PacketMetadata::EMPTY; 4],
            rx_data: [0; 2048],
            tx_meta: [udp::PacketMetadata::EMPTY; 4],
            tx_data: [0; 2048],
        }
    }

    /// The echo socket over these buffers, bound to [`ECHO_PORT`].
    pub(crate) fn socket(&mut self) -> udp::Socket<'_> {
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(&mut self.rx_meta[..], &mut self.rx_data[..]),
            udp::PacketBuffer::new(&mut self.tx_meta[..], &mut self.tx_data[..]),
        );
        if socket.bind(ECHO_PORT).is_err() {
            warn!("cannot bind the UDP echo socket");
        }
        socket
    }
}

/// Echo every datagram received on the echo port back to its sender
/// (RFC 862), from the address it was sent to unless that is a group.
pub(crate) fn udp_echo(socket: &mut udp::Socket<'_>) {
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
pub struct Mac(pub [u8; 6]);

impl defmt::Format for Mac {
    fn format(&self, f: defmt::Formatter<'_>) {
        let [a, b, c, d, e, g] = self.0;
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
