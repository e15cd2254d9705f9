//! `ndp rs` and `ndp ns`: ask the link, print the answers.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use ndp_core::wire::ethernet::{self, ETHERTYPE_IPV6, EthernetHeader};
use ndp_core::wire::ipv6::{Ipv6Header, NEXT_HEADER_ICMPV6};
use ndp_core::wire::{
    MacAddr, Message, MulticastAddr, NdOption, NeighborSolicit, Options, RouterSolicit, UnicastAddr,
};
use serde_json::json;

use crate::decode::{Decoded, decode, to_json, to_text};
use crate::link::Link;
use crate::{Failure, NsArgs, RsArgs, TICK, out, time_of_day, wall_clock};

/// All-routers (RFC 4291 §2.7.1), where solicitations go.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// How long `ndp rs` keeps listening after the first advertisement, for
/// other routers: they answer within MAX_RA_DELAY_TIME, 0.5 s (RFC 4861
/// §6.2.6), and a little more for the link.
const MORE_ROUTERS: Duration = Duration::from_millis(1000);

/// `msg` from `src` to `dst` (a multicast group) in an Ethernet frame
/// from `mac`, with hop limit 255 (RFC 4861 §6.1, §7.1).
pub fn nd_frame(
    mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    msg: &Message<'_>,
) -> Result<Vec<u8>, Failure> {
    let bad = |e: ndp_core::wire::Error| Failure::Runtime(format!("cannot encode: {e}"));
    let len = msg.buffer_len();
    let total = len
        .checked_add(ethernet::HEADER_LEN + Ipv6Header::LEN)
        .ok_or(Failure::Runtime("message too long".into()))?;
    let mut f = vec![0u8; total];
    EthernetHeader {
        dst: dst_mac,
        src: mac,
        ethertype: ETHERTYPE_IPV6,
    }
    .emit(&mut f)
    .map_err(bad)?;
    let (ip, icmp) = f
        .get_mut(ethernet::HEADER_LEN..)
        .and_then(|rest| rest.split_at_mut_checked(Ipv6Header::LEN))
        .ok_or(Failure::Runtime("frame buffer".into()))?;
    Ipv6Header {
        src,
        dst,
        next_header: NEXT_HEADER_ICMPV6,
        hop_limit: 255,
        payload_len: u16::try_from(len).map_err(|_| Failure::Runtime("message too long".into()))?,
    }
    .emit(ip)
    .map_err(bad)?;
    msg.emit(&src, &dst, icmp).map_err(bad)?;
    Ok(f)
}

fn group_mac(group: Ipv6Addr) -> Result<MacAddr, Failure> {
    MulticastAddr::new(group)
        .map(|g| g.mac())
        .ok_or(Failure::Runtime(format!("{group} is not multicast")))
}

/// `d` after `t` (`t` itself in the unreachable case that overflows).
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// The Router Solicitation to send (RFC 4861 §6.3.7): from `src`, a
/// link-local address, with our link-layer address; or from `::`
/// without it (§4.1: never an SLLA with the unspecified source).
fn rs_frame(mac: MacAddr, src: Option<Ipv6Addr>) -> Result<Vec<u8>, Failure> {
    let slla = [NdOption::SourceLinkAddr(mac)];
    let options = if src.is_some() {
        Options::from_list(&slla)
    } else {
        Options::EMPTY
    };
    let src = src.unwrap_or(Ipv6Addr::UNSPECIFIED);
    let msg = Message::RouterSolicit(RouterSolicit { options });
    nd_frame(mac, group_mac(ALL_ROUTERS)?, src, ALL_ROUTERS, &msg)
}

/// The Neighbor Solicitation for `target` (RFC 4861 §7.2.2): to its
/// solicited-node group, from `src`, with our link-layer address.
fn ns_frame(mac: MacAddr, src: Ipv6Addr, target: UnicastAddr) -> Result<Vec<u8>, Failure> {
    let group = target.solicited_node().get();
    let slla = [NdOption::SourceLinkAddr(mac)];
    let msg = Message::NeighborSolicit(NeighborSolicit {
        target: target.get(),
        options: Options::from_list(&slla),
    });
    nd_frame(mac, group_mac(group)?, src, group, &msg)
}

/// Milliseconds between two instants, for printing.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn rs(args: &RsArgs) -> Result<(), Failure> {
    let mut link = Link::open(&args.iface.iface, false, TICK)?;
    // RFC 4861 §6.3.7: from a link-local address, or from the unspecified
    // address before one is assigned; §4.1: the SLLA option only with a
    // source that is not unspecified.
    let src = link.source(&ALL_ROUTERS);
    let frame = rs_frame(link.mac, src)?;
    let src = src.unwrap_or(Ipv6Addr::UNSPECIFIED);
    let mut sent: u32 = 0;
    let mut heard: u32 = 0;
    let mut wait = Duration::from_secs(args.wait);
    let mut next_send = Instant::now();
    let mut stop_at: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if let Some(t) = stop_at {
            if now >= t {
                break;
            }
        } else if now >= next_send {
            if sent >= args.retries {
                break;
            }
            link.send(&frame)?;
            sent = sent.saturating_add(1);
            if !args.json {
                eprintln!(
                    "ndp: router solicitation {sent} sent on {} from {src}",
                    link.name
                );
            }
            next_send = later(now, wait);
            wait = wait.saturating_mul(2);
        }
        let mac = link.mac;
        let Some(frame) = link.recv()? else { continue };
        let Some(
            d @ Decoded::Message {
                eth,
                msg: Message::RouterAdvert(_),
                ..
            },
        ) = decode(frame)
        else {
            continue;
        };
        if eth.src == mac {
            continue;
        }
        heard = heard.saturating_add(1);
        stop_at.get_or_insert(later(Instant::now(), MORE_ROUTERS));
        let t = wall_clock();
        if args.json {
            let mut v = to_json(&d);
            if let Some(o) = v.as_object_mut() {
                o.insert("time".into(), json!(t));
            }
            out(&v.to_string())?;
        } else {
            out(&format!("{} {}", time_of_day(t), to_text(&d)))?;
        }
    }
    if heard == 0 {
        return Err(Failure::Runtime(format!(
            "no router advertisement on {} after {sent} solicitation(s)",
            link.name
        )));
    }
    if !args.json {
        eprintln!("ndp: sent {sent} router solicitation(s), heard {heard} advertisement(s)");
    }
    Ok(())
}

pub fn ns(args: &NsArgs) -> Result<(), Failure> {
    let target = UnicastAddr::new(args.addr)
        .filter(|a| !a.get().is_loopback())
        .ok_or_else(|| Failure::Usage(format!("{} is not a unicast address", args.addr)))?;
    let mut link = Link::open(&args.iface.iface, false, TICK)?;
    // The source: an address of the interface as the kernel would
    // choose it (link-local for a link-local target).
    let src = link.source(&args.addr).ok_or_else(|| {
        Failure::Runtime(format!(
            "{} has no usable IPv6 address to send from (is IPv6 up on it?)",
            link.name
        ))
    })?;
    let group = target.solicited_node().get();
    let frame = ns_frame(link.mac, src, target)?;
    if !args.json {
        out(&format!(
            "Soliciting {} ({group}) on {}...",
            args.addr, link.name
        ))?;
    }
    let mut sent: u32 = 0;
    let mut sent_at = Instant::now();
    let mut next_send = sent_at;
    loop {
        let now = Instant::now();
        if now >= next_send {
            if sent >= args.retries {
                break;
            }
            link.send(&frame)?;
            sent = sent.saturating_add(1);
            sent_at = now;
            next_send = later(now, Duration::from_secs(1));
        }
        let mac = link.mac;
        let Some(frame) = link.recv()? else { continue };
        let Some(Decoded::Message {
            eth,
            ip,
            msg: Message::NeighborAdvert(na),
            invalid: None,
        }) = decode(frame)
        else {
            continue;
        };
        if eth.src == mac || na.target != args.addr {
            continue;
        }
        // Microseconds are what the clock resolves here.
        let rtt = (ms(sent_at.elapsed()) * 1000.0).round() / 1000.0;
        // RFC 4861 §4.4: the answer to a multicast solicitation carries
        // TLLA. One without it, which a host would discard (§7.2.5), is
        // shown with its frame's source, and says so.
        let tlla = na.options.target_link_addr();
        let lladdr = tlla.unwrap_or(eth.src);
        let flags = format!(
            "{}{}{}",
            if na.router_flag { "R" } else { "-" },
            if na.solicited_flag { "S" } else { "-" },
            if na.override_flag { "O" } else { "-" }
        );
        if args.json {
            out(&json!({
                "target": args.addr.to_string(),
                "mac": lladdr.to_string(),
                "from": ip.src.to_string(),
                "router": na.router_flag,
                "solicited": na.solicited_flag,
                "override": na.override_flag,
                "rtt_ms": rtt,
                "tlla": tlla.is_some(),
                "solicitations": sent,
            })
            .to_string())?;
        } else {
            let how = if tlla.is_some() {
                ""
            } else {
                " (no TLLA option: the frame's source)"
            };
            out(&format!("Target link-layer address: {lladdr}{how}"))?;
            out(&format!(
                " from {}, flags [{flags}], in {rtt:.3} ms",
                ip.src
            ))?;
        }
        return Ok(());
    }
    Err(Failure::Runtime(format!(
        "{}: no answer after {sent} solicitation(s)",
        args.addr
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x09]);

    fn decoded(frame: &[u8]) -> serde_json::Value {
        crate::decode::to_json(&decode(frame).expect("an ND message"))
    }

    #[test]
    fn solicitations_follow_rfc_4861() {
        // §6.3.7, §4.1: from the link-local address with SLLA, to
        // all-routers, hop limit 255, valid as received.
        let v = decoded(&rs_frame(MAC, Some("fe80::9".parse().unwrap())).unwrap());
        assert_eq!(v["type"], "rs");
        assert_eq!(
            (v["src"].as_str(), v["dst"].as_str()),
            (Some("fe80::9"), Some("ff02::2"))
        );
        assert_eq!(v["dst_mac"], "33:33:00:00:00:02");
        assert_eq!(v["hop_limit"], 255);
        assert_eq!(
            v["options"],
            serde_json::json!([{"type": "slla", "mac": "02:00:5e:00:53:09"}])
        );
        assert!(
            v.get("invalid").is_none() && v.get("error").is_none(),
            "{v}"
        );
        // §4.1: from :: never with SLLA.
        let v = decoded(&rs_frame(MAC, None).unwrap());
        assert_eq!(v["src"], "::");
        assert_eq!(v["options"], serde_json::json!([]));
        assert!(v.get("invalid").is_none(), "{v}");

        // §7.2.2: to the target's solicited-node group, with SLLA.
        let target = UnicastAddr::new("2001:db8:2::1:42".parse().unwrap()).unwrap();
        let v = decoded(&ns_frame(MAC, "2001:db8:1::9".parse().unwrap(), target).unwrap());
        assert_eq!(v["type"], "ns");
        assert_eq!(v["target"], "2001:db8:2::1:42");
        assert_eq!(v["dst"], "ff02::1:ff01:42");
        assert_eq!(v["dst_mac"], "33:33:ff:01:00:42");
        assert_eq!(v["hop_limit"], 255);
        assert_eq!(v["options"][0]["type"], "slla");
        assert!(v.get("invalid").is_none(), "{v}");
    }
}
