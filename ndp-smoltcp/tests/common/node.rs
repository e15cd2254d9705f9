//! Two-node (or lone) test rigs around the adapter: a smoltcp
//! Interface with a UDP socket on port 7 over the in-memory cable.

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;

use super::{Frames, Nic};

use ndp_core::addr::{AddrState, Origin};
use ndp_core::wire::MacAddr;
use ndp_core::{Config, Event};
use ndp_smoltcp::{Adapter, MulticastFilter};
use ndp_tests::packet::{self, NH_UDP};
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::IpCidr;

/// A multicast filter that records what it was asked to accept.
#[derive(Default, Clone)]
pub struct Recorder(pub Rc<RefCell<Vec<Vec<MacAddr>>>>);

impl MulticastFilter<Nic> for Recorder {
    fn set_multicast_macs(&mut self, _: &mut Nic, macs: &[MacAddr]) {
        self.0.borrow_mut().push(macs.to_vec());
    }
}

// ------------------------------------------------------------- the nodes

pub const MAC_A: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0a]);
pub const MAC_B: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x0b]);
pub const ROUTER_MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);
pub const PORT: u16 = 7;

pub fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub fn config(mac: MacAddr, seed: u64) -> Config {
    let mut c = Config::stable(mac, seed, [0; 16]);
    c.secret = [seed as u8; 16];
    c
}

pub struct Node {
    pub adapter: Adapter<Nic, Recorder>,
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub udp: SocketHandle,
    pub filter: Recorder,
    pub sent: Rc<RefCell<Vec<Vec<u8>>>>,
    pub inject: Frames,
    pub events: Vec<(u64, Event)>,
    /// The adapter's own events.
    pub adapter_events: Vec<(u64, ndp_smoltcp::Event)>,
}

impl Node {
    pub fn new(nic: Nic, config: Config) -> Node {
        let sent = nic.sent.clone();
        let inject = nic.rx.clone();
        let filter = Recorder::default();
        let mut adapter = Adapter::with_filter(nic, filter.clone(), config, Instant::ZERO).unwrap();
        let iface = adapter.new_interface(Instant::ZERO);
        let mut sockets = SocketSet::new(vec![]);
        let buf = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 8], vec![0; 8192]);
        let mut socket = udp::Socket::new(buf(), buf());
        socket.bind(PORT).unwrap();
        let udp = sockets.add(socket);
        Node {
            adapter,
            iface,
            sockets,
            udp,
            filter,
            sent,
            inject,
            events: Vec::new(),
            adapter_events: Vec::new(),
        }
    }

    pub fn poll(&mut self, ms: u64) {
        let now = Instant::from_millis(ms as i64);
        self.adapter.poll(now, &mut self.iface, &mut self.sockets);
        while let Some(e) = self.adapter.poll_event() {
            match e {
                ndp_smoltcp::Event::Engine(e) => self.events.push((ms, e)),
                other => self.adapter_events.push((ms, other)),
            }
        }
    }

    pub fn link_local(&self) -> Ipv6Addr {
        self.adapter
            .stack()
            .addresses()
            .find(|x| x.origin == Origin::LinkLocal)
            .map(|x| x.addr.get())
            .unwrap()
    }

    pub fn state(&self, addr: Ipv6Addr) -> Option<AddrState> {
        self.adapter
            .stack()
            .addresses()
            .find(|x| x.addr.get() == addr)
            .map(|x| x.state)
    }

    /// smoltcp's IPv6 addresses.
    pub fn smoltcp_addrs(&self) -> Vec<Ipv6Addr> {
        self.iface
            .ip_addrs()
            .iter()
            .filter_map(|c| match c {
                IpCidr::Ipv6(c) => Some(c.address()),
                _ => None,
            })
            .collect()
    }

    pub fn udp(&mut self) -> &mut udp::Socket<'static> {
        self.sockets.get_mut::<udp::Socket>(self.udp)
    }

    /// Datagrams on port 7 from any IP version.
    pub fn received_any(&mut self) -> Vec<(smoltcp::wire::IpAddress, Vec<u8>)> {
        let mut got = Vec::new();
        while let Ok((data, meta)) = self.udp().recv() {
            got.push((meta.endpoint.addr, data.to_vec()));
        }
        got
    }

    /// The adapter's own events so far, without their times.
    pub fn adapter_events(&self) -> Vec<ndp_smoltcp::Event> {
        self.adapter_events.iter().map(|(_, e)| *e).collect()
    }

    pub fn received(&mut self) -> Vec<(Ipv6Addr, Vec<u8>)> {
        let mut got = Vec::new();
        while let Ok((data, meta)) = self.udp().recv() {
            if let smoltcp::wire::IpAddress::Ipv6(src) = meta.endpoint.addr {
                got.push((src, data.to_vec()));
            }
        }
        got
    }

    /// Frames this node sent, parsed to (IPv6 destination, ICMPv6 type)
    /// for ICMPv6 ones.
    pub fn sent_icmp(&self) -> Vec<(Ipv6Addr, u8)> {
        self.sent
            .borrow()
            .iter()
            .filter_map(|f| packet::parse_icmpv6(f))
            .filter_map(|m| Some((m.meta.dst, *m.icmp.first()?)))
            .collect()
    }
}

/// Poll every node each millisecond in [from, to).
pub fn run(nodes: &mut [&mut Node], from: u64, to: u64) {
    for ms in from..to {
        for n in nodes.iter_mut() {
            n.poll(ms);
        }
    }
}

pub fn frame_to(
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: u8,
    payload: &[u8],
) -> Vec<u8> {
    packet::ipv6_frame(ROUTER_MAC, dst_mac, src, dst, next, 64, payload)
}

pub fn udp_frame(dst_mac: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, data: &[u8]) -> Vec<u8> {
    let d = packet::udp(src, dst, 4000, PORT, data);
    frame_to(dst_mac, src, dst, NH_UDP, &d)
}

pub fn ra_frame(router_lifetime: u16) -> Vec<u8> {
    ra_frame_with(router_lifetime, 64)
}

/// An RA from fe80::1 with a Cur Hop Limit.
pub fn ra_frame_with(router_lifetime: u16, cur_hop_limit: u8) -> Vec<u8> {
    packet::prefix_ra(ROUTER_MAC, router_lifetime, cur_hop_limit)
}
