//! The demo on the ndp engine: [`ndp_smoltcp::Adapter`] between smoltcp
//! and the board's Ethernet device (feature `ndp`).

use core::net::Ipv6Addr;

use defmt::{error, info, warn};
use ndp_core::wire::{Lifetime, MacAddr, Preference};
use ndp_core::{Config, Event};
use ndp_smoltcp::{Adapter, MulticastFilter};
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::Duration;

use crate::{Board, Ip, MAX_IDLE, Mac, Settings, udp_echo};

/// Run the demo forever over `device`, whose multicast filter `filter`
/// programs.
pub fn run<D, F, B>(mut device: D, filter: F, board: &mut B, settings: Settings) -> !
where
    D: Device,
    F: MulticastFilter<D>,
    B: Board<D>,
{
    let config = Config::stable(MacAddr(settings.mac), settings.seed, settings.secret);
    info!("boot mac {} seed {=u64}", Mac(settings.mac), settings.seed);

    let now = board.now();
    // A driver bug (no MTU set, not Ethernet) or a group MAC: nothing
    // can run, and the log says why.
    if let Err(e) = ndp_smoltcp::check(&device, &config) {
        error!("cannot run the engine on this device: {}", e);
        loop {
            board.idle(&mut device, MAX_IDLE);
        }
    }
    let Ok(mut adapter) = Adapter::with_filter(device, filter, config, now) else {
        // Not reached: the same checks passed above.
        loop {
            core::hint::spin_loop();
        }
    };
    let mut iface = adapter.new_interface(now);
    let mut storage = [SocketStorage::EMPTY; 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut echo_buffers = crate::EchoBuffers::new();
    let echo = sockets.add(echo_buffers.socket());
    let mut announced = false;

    loop {
        let now = board.now();
        adapter.poll(now, &mut iface, &mut sockets);
        if let Some(up) = board.link_change(adapter.device_mut()) {
            // The engine keeps its state across a link flap; frames sent
            // while the link is down are lost like on any cable. When it
            // comes back the device may be on another link: the engine
            // checks its addresses again and solicits routers.
            if up {
                info!("link up");
                adapter.stack_mut().link_up(now.into());
            } else {
                info!("link down");
            }
        }
        let mut addresses_changed = false;
        while let Some(event) = adapter.poll_event() {
            let ndp_smoltcp::Event::Engine(event) = event else {
                // The adapter's own: smoltcp's address table full, a
                // group it could not follow, packets dropped.
                warn!("adapter {}", event);
                continue;
            };
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
