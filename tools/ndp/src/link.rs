//! One Linux interface, through an `AF_PACKET` socket that sees only the
//! frames `ndp` can use.
//!
//! The socket is created by socket2 with protocol 0 (so it receives
//! nothing until it is bound), given a classic BPF filter, and then
//! handed to pnet_datalink, which binds it to the interface (every
//! protocol, frames we send included), adds the promiscuous membership
//! when asked and does the reads and writes. The filter keeps everything
//! but IPv6 carrying ICMPv6 or an extension header that can precede it
//! in the kernel: on a router forwarding traffic, none of that traffic is
//! copied to us.

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::IntoRawFd;
use std::time::Duration;

use ndp_core::wire::MacAddr;
use pnet_datalink::{Channel, ChannelType, DataLinkReceiver, DataLinkSender};
use socket2::{Domain, SockFilter, Socket, Type};

use crate::Failure;

/// IPv6 next-header values the filter passes: Hop-by-Hop (MLD carries a
/// Router Alert), ICMPv6, Fragment (to see fragmented Neighbor Discovery,
/// which hosts ignore, RFC 6980 §5) and Destination Options.
const NEXT_HEADERS: [u32; 4] = [0, 58, 44, 60];

/// The classic BPF program, as (code, jump if true, jump if false, k):
/// accept an IPv6 frame (EtherType at offset 12) whose first next header
/// (offset 14 + 6) is one of [`NEXT_HEADERS`]; drop the rest.
const FILTER: [(u16, u8, u8, u32); 9] = {
    const LD_H_ABS: u16 = 0x28;
    const LD_B_ABS: u16 = 0x30;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let [h0, h1, h2, h3] = NEXT_HEADERS;
    [
        (LD_H_ABS, 0, 0, 12),
        // Not IPv6: to the drop, the last instruction, 6 ahead.
        (JEQ_K, 0, 6, 0x86dd),
        (LD_B_ABS, 0, 0, 20),
        // A match jumps to the accept, this many instructions ahead.
        (JEQ_K, 3, 0, h0),
        (JEQ_K, 2, 0, h1),
        (JEQ_K, 1, 0, h2),
        (JEQ_K, 0, 1, h3),
        (RET_K, 0, 0, 0xffff),
        (RET_K, 0, 0, 0),
    ]
};

fn filter() -> [SockFilter; 9] {
    FILTER.map(|(code, jt, jf, k)| SockFilter::new(code, jt, jf, k))
}

/// An IPv6 address the kernel holds on the interface
/// (`/proc/net/if_inet6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// Still tentative (its DAD has not passed) or failed DAD: not usable
    /// as a source.
    pub unusable: bool,
}

/// An open interface.
pub struct Link {
    pub name: String,
    pub index: u32,
    pub mac: MacAddr,
    tick: Duration,
    /// The socket pnet reads and writes, for its pending errors (a
    /// duplicate descriptor of it).
    socket: Socket,
    tx: Box<dyn DataLinkSender>,
    rx: Box<dyn DataLinkReceiver>,
}

impl Link {
    /// Open `name`; with `promiscuous`, frames to any MAC (so to every
    /// solicited-node group) reach us whatever the NIC's filter holds.
    /// Reads wait at most `tick`.
    pub fn open(name: &str, promiscuous: bool, tick: Duration) -> Result<Link, Failure> {
        let iface = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == name)
            .ok_or_else(|| Failure::Usage(format!("no interface named `{name}`")))?;
        let mac = iface
            .mac
            .filter(|m| !m.is_zero())
            .ok_or_else(|| Failure::Usage(format!("`{name}` has no Ethernet address")))?;
        let mac = MacAddr([mac.0, mac.1, mac.2, mac.3, mac.4, mac.5]);
        let socket =
            Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| socket_error(name, e))?;
        socket
            .attach_filter(&filter())
            .map_err(|e| socket_error(name, e))?;
        let config = pnet_datalink::Config {
            read_timeout: Some(tick),
            write_timeout: Some(Duration::from_secs(1)),
            channel_type: ChannelType::Layer2,
            promiscuous,
            socket_fd: Some(
                socket
                    .try_clone()
                    .map_err(|e| socket_error(name, e))?
                    .into_raw_fd(),
            ),
            ..Default::default()
        };
        match pnet_datalink::channel(&iface, config) {
            Ok(Channel::Ethernet(tx, rx)) => Ok(Link {
                name: name.to_string(),
                index: iface.index,
                mac,
                tick,
                socket,
                tx,
                rx,
            }),
            Ok(_) => Err(Failure::Runtime(format!(
                "`{name}`: not an Ethernet channel"
            ))),
            Err(e) => Err(socket_error(name, e)),
        }
    }

    /// Send one Ethernet frame.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), Failure> {
        match self.tx.send_to(frame, None) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Failure::Runtime(format!("{}: send: {e}", self.name))),
            None => Err(Failure::Runtime(format!("{}: frame too long", self.name))),
        }
    }

    /// The next frame, or `None` when none came within the tick, a
    /// signal arrived, or the link went down (the socket reports that
    /// once; a daemon waits for the link to come back).
    pub fn recv(&mut self) -> Result<Option<&[u8]>, Failure> {
        match self.rx.next() {
            Ok(frame) => Ok(Some(frame)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(None)
            }
            // pnet reports a socket error pending (POLLERR) as an
            // unexpected poll event, and leaves it pending: take it.
            Err(e) => {
                let pending = self.socket.take_error().ok().flatten();
                match pending.as_ref().unwrap_or(&e) {
                    down if down.kind() == io::ErrorKind::NetworkDown => {
                        std::thread::sleep(self.tick);
                        Ok(None)
                    }
                    other => Err(Failure::Runtime(format!("{}: receive: {other}", self.name))),
                }
            }
        }
    }

    /// The IPv6 addresses the kernel holds on this interface.
    pub fn addresses(&self) -> Vec<IfAddr> {
        let text = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
        text.lines()
            .filter_map(parse_if_inet6)
            .filter(|(index, _)| *index == self.index)
            .map(|(_, a)| a)
            .collect()
    }

    /// A usable address of the interface to send to `dst` from: see
    /// [`pick_source`].
    pub fn source(&self, dst: &Ipv6Addr) -> Option<Ipv6Addr> {
        pick_source(&self.addresses(), dst)
    }
}

/// The address to send to `dst` from, among `addrs`: for a link-scoped
/// `dst` (link-local, or a multicast group of link scope or smaller) the
/// link-local address; otherwise the global one sharing the longest
/// prefix with `dst` (RFC 6724 §5, rule 8; the first in the kernel's
/// order on a tie), or the link-local one when there is no global one.
/// Tentative and duplicate addresses are not used (RFC 4862 §5.4).
pub fn pick_source(addrs: &[IfAddr], dst: &Ipv6Addr) -> Option<Ipv6Addr> {
    let usable = || addrs.iter().filter(|a| !a.unusable).map(|a| a.addr);
    let link_local = |a: &Ipv6Addr| ndp_core::wire::is_link_local(a);
    let scope = dst.octets().get(1).map_or(0, |b| b & 0x0f);
    let link_scoped = link_local(dst) || (dst.is_multicast() && scope <= 2);
    if !link_scoped {
        let common = |a: &Ipv6Addr| (u128::from(*a) ^ u128::from(*dst)).leading_zeros();
        let best = usable()
            .filter(|a| !link_local(a))
            .fold(None, |best: Option<Ipv6Addr>, a| match best {
                Some(b) if common(&b) >= common(&a) => Some(b),
                _ => Some(a),
            });
        if best.is_some() {
            return best;
        }
    }
    usable().find(link_local)
}

fn socket_error(name: &str, e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::PermissionDenied {
        Failure::Runtime(format!(
            "{name}: a packet socket needs CAP_NET_RAW (run as root, or `setcap cap_net_raw+ep` the binary)"
        ))
    } else {
        Failure::Runtime(format!("{name}: packet socket: {e}"))
    }
}

/// One line of `/proc/net/if_inet6`: address (32 hex digits), interface
/// index, prefix length, scope, flags (all hex), name.
fn parse_if_inet6(line: &str) -> Option<(u32, IfAddr)> {
    let mut f = line.split_whitespace();
    let hex = f.next()?;
    let index = u32::from_str_radix(f.next()?, 16).ok()?;
    let prefix_len = u8::from_str_radix(f.next()?, 16).ok()?;
    let _scope = f.next()?;
    let flags = u32::from_str_radix(f.next()?, 16).ok()?;
    let bits = u128::from_str_radix(hex, 16)
        .ok()
        .filter(|_| hex.len() == 32)?;
    // IFA_F_TENTATIVE 0x40, IFA_F_DADFAILED 0x08.
    let unusable = flags & 0x48 != 0;
    Some((
        index,
        IfAddr {
            addr: Ipv6Addr::from(bits),
            prefix_len,
            unusable,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_chosen_as_the_kernel_would() {
        let a = |s: &str, unusable: bool| IfAddr {
            addr: s.parse().unwrap(),
            prefix_len: 64,
            unusable,
        };
        let addrs = [
            a("2001:db8:2::77", false),
            a("2001:db8:1::9", false),
            a("2001:db8:1::8", true),
            a("fe80::1", false),
        ];
        let pick = |d: &str| pick_source(&addrs, &d.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(
            pick("2001:db8:1::2").as_deref(),
            Some("2001:db8:1::9"),
            "longest match"
        );
        assert_eq!(pick("2001:db8:2::1").as_deref(), Some("2001:db8:2::77"));
        assert_eq!(
            pick("2001:db8:9::1").as_deref(),
            Some("2001:db8:2::77"),
            "first on a tie"
        );
        assert_eq!(pick("fe80::2").as_deref(), Some("fe80::1"));
        assert_eq!(
            pick("ff02::2").as_deref(),
            Some("fe80::1"),
            "link-scope group"
        );
        assert_eq!(
            pick("ff05::2").as_deref(),
            Some("2001:db8:2::77"),
            "site-scope group"
        );
        let only_ll = [a("fe80::1", false), a("2001:db8::1", true)];
        assert_eq!(
            pick_source(&only_ll, &"2001:db8::2".parse().unwrap()),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(
            pick_source(&[a("fe80::1", true)], &"fe80::2".parse().unwrap()),
            None,
            "tentative"
        );
    }

    #[test]
    fn if_inet6_lines() {
        let (index, a) =
            parse_if_inet6("fe80000000000000021122fffe334455 03 40 20 80     eth0").unwrap();
        assert_eq!(index, 3);
        assert_eq!(
            a.addr,
            "fe80::211:22ff:fe33:4455".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(a.prefix_len, 64);
        assert!(!a.unusable);
        let (_, t) = parse_if_inet6("20010db8000000000000000000000001 03 40 00 c0 eth0").unwrap();
        assert!(t.unusable, "0xc0 has IFA_F_TENTATIVE");
        assert!(parse_if_inet6("20010db8 03 40 00 c0 eth0").is_none());
        assert!(parse_if_inet6("").is_none());
    }

    /// Run [`FILTER`] the way the kernel does (only the instructions it
    /// uses; a frame too short for a load is dropped).
    fn run_filter(frame: &[u8]) -> bool {
        let mut pc = 0usize;
        let mut a = 0u32;
        loop {
            let (code, jt, jf, k) = FILTER[pc];
            let k_at = k as usize;
            match code {
                0x28 => match frame.get(k_at..k_at + 2) {
                    Some(b) => a = u32::from(u16::from_be_bytes([b[0], b[1]])),
                    None => return false,
                },
                0x30 => match frame.get(k_at) {
                    Some(&b) => a = u32::from(b),
                    None => return false,
                },
                0x15 => pc += usize::from(if a == k { jt } else { jf }),
                0x06 => return k != 0,
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc += 1;
        }
    }

    fn frame(ethertype: u16, next_header: u8) -> Vec<u8> {
        let mut f = vec![0u8; 62];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f[14] = 0x60;
        f[20] = next_header;
        f
    }

    #[test]
    fn filter_passes_icmpv6_and_its_extension_headers_only() {
        for nh in [58, 0, 44, 60] {
            assert!(run_filter(&frame(0x86dd, nh)), "next header {nh}");
        }
        assert!(!run_filter(&frame(0x86dd, 6)), "TCP");
        assert!(!run_filter(&frame(0x86dd, 17)), "UDP");
        assert!(!run_filter(&frame(0x0800, 58)), "IPv4");
        assert!(!run_filter(&frame(0x0806, 58)), "ARP");
        assert!(!run_filter(&[0x86, 0xdd]), "runt");
    }
}
