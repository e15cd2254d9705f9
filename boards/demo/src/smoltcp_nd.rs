//! The demo on smoltcp's own IPv6 neighbor discovery (feature
//! `smoltcp-nd`): the baseline `cargo xtask bench` measures the engine
//! against.
//!
//! smoltcp drives the board's Ethernet device directly
//! (`Medium::Ethernet`) with its `proto-ipv6-slaac` and `multicast`
//! features. The services are the demo's: ping on every address and on
//! ff02::1, UDP echo on port 7. What smoltcp 0.14 does on its own, and so
//! what this build has:
//!
//! - no link-local address of its own: the demo adds the EUI-64 one (and
//!   must, as smoltcp sends its Router Solicitation from it);
//! - up to three Router Solicitations, 4 s apart, from the first poll;
//!   one SLAAC prefix (`IFACE_MAX_PREFIX_COUNT`), its EUI-64 address and
//!   a default route through the advertising router, both dropped when
//!   their lifetimes run out;
//! - no DAD of any kind: addresses are used as soon as they are added;
//! - a neighbor cache filled from NS/NA, without NUD;
//! - MLDv2 reports for the solicited-node groups of its addresses.
//!
//! smoltcp has no hook for the NIC's multicast filter: the demo opens it
//! ([`MacFilter`]) for all-nodes and for the solicited-node group of each
//! address, before the first frame leaves and whenever the addresses
//! change.
//!
//! Log lines (the defmt timestamp is the board's clock in ms):
//!
//! ```text
//! boot mac 52:54:00:12:34:56 seed 1 (smoltcp's own ND)
//! address fe80::5054:ff:fe12:3456/64 assigned     (usable at once: no DAD)
//! address fd00:1::5054:ff:fe12:3456/64 removed
//! router fe80::2 | router none
//! configured link-local fe80::5054:ff:fe12:3456 global fd00:1::5054:ff:fe12:3456 router fe80::2
//! link down | link up
//! ```

use core::net::Ipv6Addr;

use defmt::{error, info, warn};
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv6Cidr};

use crate::{Board, Ip, MAX_IDLE, Mac, Settings, udp_echo};

/// Most multicast MAC addresses the demo hands [`MacFilter`] at once:
/// all-nodes, and one solicited-node group per address.
pub const MAX_GROUPS: usize = 8;
/// Most addresses the demo follows (smoltcp holds four here:
/// `iface-max-addr-count-4`).
const MAX_ADDRS: usize = MAX_GROUPS - 1;
/// fe80::/64.
const LINK_LOCAL_PREFIX: Ipv6Cidr = Ipv6Cidr::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 64);
/// 33:33:00:00:00:01, the MAC address of ff02::1 (RFC 2464 §7).
const ALL_NODES_MAC: EthernetAddress = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
/// Most extra polls after an address change (each may bring the next).
const SETTLE_ROUNDS: usize = 4;

/// The board's multicast filter: which group MAC addresses its NIC
/// accepts (smoltcp's Ethernet interface has no hook for this).
pub trait MacFilter<D> {
    /// Accept frames to `macs` (at most [`MAX_GROUPS`]), besides the
    /// NIC's own address and broadcast; the NIC may accept more.
    fn set_multicast_macs(&mut self, device: &mut D, macs: &[EthernetAddress]);
}

/// Run the demo forever on smoltcp's own ND over `device`, whose
/// multicast filter `filter` programs. `settings.secret` is not used
/// (smoltcp's addresses are EUI-64).
pub fn run<D, F, B>(mut device: D, mut filter: F, board: &mut B, settings: Settings) -> !
where
    D: Device,
    F: MacFilter<D>,
    B: Board<D>,
{
    info!(
        "boot mac {} seed {=u64} (smoltcp's own ND)",
        Mac(settings.mac),
        settings.seed
    );
    let mac = EthernetAddress(settings.mac);
    // smoltcp panics on a group MAC address (Interface::new) and sends
    // its RS only with a link-local address: check both first.
    let link_local = Ipv6Cidr::from_link_prefix(&LINK_LOCAL_PREFIX, HardwareAddress::Ethernet(mac))
        .filter(|_| mac.is_unicast());
    let Some(link_local) = link_local else {
        error!(
            "no link-local address from MAC {}: not a unicast address",
            Mac(settings.mac)
        );
        loop {
            board.idle(&mut device, MAX_IDLE);
        }
    };

    let mut config = Config::new(HardwareAddress::Ethernet(mac));
    config.random_seed = settings.seed;
    config.slaac = true;
    let now = board.now();
    let mut iface = Interface::new(config, &mut device, now);
    iface.update_ip_addrs(|addrs| {
        if addrs.push(IpCidr::Ipv6(link_local)).is_err() {
            warn!("no room for the link-local address");
        }
    });
    let mut watch = Watch::default();
    watch.update(&iface);
    // All-nodes (the RA that answers the first RS) and the link-local
    // address's group, before anything is sent.
    program_filter(&mut filter, &mut device, &watch.addrs);

    let mut storage = [SocketStorage::EMPTY; 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut echo_buffers = crate::EchoBuffers::new();
    let echo = sockets.add(echo_buffers.socket());

    loop {
        let now = board.now();
        poll(&mut iface, &mut device, &mut sockets, now);
        if let Some(up) = board.link_change(&mut device) {
            if up {
                info!("link up");
            } else {
                info!("link down");
            }
        }
        udp_echo(sockets.get_mut::<udp::Socket>(echo));
        // Replies go out now rather than at the next wake-up.
        poll(&mut iface, &mut device, &mut sockets, now);
        // A new address: its group into the NIC's filter, and smoltcp's
        // MLD report for it out now (its poll_at does not count pending
        // reports).
        for _ in 0..SETTLE_ROUNDS {
            if !watch.update(&iface) {
                break;
            }
            program_filter(&mut filter, &mut device, &watch.addrs);
            if !watch.announced
                && let Some(global) = watch.global()
            {
                watch.announced = true;
                info!(
                    "configured link-local {} global {} router {}",
                    Ip(link_local.address()),
                    Ip(global),
                    Ip(watch.router.unwrap_or(Ipv6Addr::UNSPECIFIED))
                );
                if settings.exit_when_configured {
                    board.configured();
                }
            }
            poll(&mut iface, &mut device, &mut sockets, now);
        }
        // smoltcp 0.14's poll_at drops the SLAAC deadline (the next RS)
        // when no socket has one (`Option::min` with `None`): MAX_IDLE
        // bounds the wait either way.
        let delay = iface
            .poll_delay(now, &sockets)
            .map_or(MAX_IDLE, |d| d.min(MAX_IDLE));
        if delay > Duration::ZERO {
            board.idle(&mut device, delay);
        }
    }
}

/// One round of smoltcp: frames in and out, then its SLAAC bookkeeping.
fn poll<D: Device>(
    iface: &mut Interface,
    device: &mut D,
    sockets: &mut SocketSet<'_>,
    now: Instant,
) {
    iface.poll(now, device, sockets);
    // `poll` runs the SLAAC sync before it reads frames, so a Router
    // Advertisement it just read becomes an address only at the next
    // call, and poll_at does not ask for one: sync now.
    iface.poll_maintenance(now);
}

/// What the log last said about the interface.
#[derive(Default)]
struct Watch {
    addrs: [Option<Ipv6Cidr>; MAX_ADDRS],
    router: Option<Ipv6Addr>,
    announced: bool,
}

impl Watch {
    /// Log the addresses and default router that changed since the last
    /// call; whether an address did.
    fn update(&mut self, iface: &Interface) -> bool {
        let mut now = [None; MAX_ADDRS];
        for (slot, cidr) in now.iter_mut().zip(iface.ip_addrs().iter().filter_map(ipv6)) {
            *slot = Some(cidr);
        }
        let mut changed = false;
        for cidr in now.iter().flatten() {
            if !self.addrs.contains(&Some(*cidr)) {
                info!(
                    "address {}/{=u8} assigned",
                    Ip(cidr.address()),
                    cidr.prefix_len()
                );
                changed = true;
            }
        }
        for cidr in self.addrs.iter().flatten() {
            if !now.contains(&Some(*cidr)) {
                info!(
                    "address {}/{=u8} removed",
                    Ip(cidr.address()),
                    cidr.prefix_len()
                );
                changed = true;
            }
        }
        self.addrs = now;

        let router = iface
            .routes()
            .get_default_ipv6_route()
            .and_then(|r| ipv6_addr(r.via_router));
        if router != self.router {
            match router {
                Some(r) => info!("router {}", Ip(r)),
                None => info!("router none"),
            }
            self.router = router;
        }
        changed
    }

    /// A global (not link-local) address.
    fn global(&self) -> Option<Ipv6Addr> {
        self.addrs
            .iter()
            .flatten()
            .map(|c| c.address())
            .find(|a| !a.is_unicast_link_local())
    }
}

/// Open the NIC's filter for all-nodes and the solicited-node group of
/// each of `addrs` (RFC 4291 §2.7.1, mapped to MAC as in RFC 2464 §7).
fn program_filter<D, F: MacFilter<D>>(filter: &mut F, device: &mut D, addrs: &[Option<Ipv6Cidr>]) {
    let groups = core::iter::once(ALL_NODES_MAC).chain(addrs.iter().flatten().map(|cidr| {
        let [.., x, y, z] = cidr.address().octets();
        EthernetAddress([0x33, 0x33, 0xff, x, y, z])
    }));
    let mut macs = [EthernetAddress([0; 6]); MAX_GROUPS];
    let n = macs
        .iter_mut()
        .zip(groups)
        .map(|(slot, mac)| *slot = mac)
        .count();
    filter.set_multicast_macs(device, macs.get(..n).unwrap_or(&[]));
}

fn ipv6(cidr: &IpCidr) -> Option<Ipv6Cidr> {
    match *cidr {
        IpCidr::Ipv6(c) => Some(c),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn ipv6_addr(addr: IpAddress) -> Option<Ipv6Addr> {
    match addr {
        IpAddress::Ipv6(a) => Some(a),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}
