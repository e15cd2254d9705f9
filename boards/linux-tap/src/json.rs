//! The JSON lines linux-tap prints: one object per engine event, and the
//! whole state on SIGUSR1. The field names are a contract with the test
//! suites that drive linux-tap (README, "linux-tap").

use ndp_core::Event;
use ndp_core::time::Instant;
use ndp_core::wire::{Lifetime, MacAddr, Preference};
use serde_json::{Map, Value, json};

use crate::Node;

pub fn mac(m: MacAddr) -> String {
    let o = m.octets();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        o[0], o[1], o[2], o[3], o[4], o[5]
    )
}

fn preference(p: Preference) -> &'static str {
    match p {
        Preference::High => "high",
        Preference::Low => "low",
        // RFC 4191 §2.2: a reserved preference is treated as medium.
        Preference::Medium | Preference::Reserved => "medium",
    }
}

/// Seconds of a lifetime as on the wire: 4294967295 is infinity.
fn lifetime_s(l: Lifetime) -> u32 {
    l.to_wire()
}

/// Seconds from `now` until `until`.
fn remaining_s(now: Instant, until: Instant) -> u64 {
    u64::from(until.saturating_duration_since(now).as_millis() / 1000)
}

fn dns(node: &Node) -> (Vec<String>, Vec<String>) {
    let s = node.adapter.stack();
    (
        s.dns_servers().map(|a| a.to_string()).collect(),
        s.search_domains().map(|d| d.as_str().to_owned()).collect(),
    )
}

/// The line for one engine event.
pub fn event(ms: u64, e: &Event, node: &Node) -> Value {
    let mut v = match *e {
        Event::Address {
            addr,
            prefix_len,
            state,
        } => json!({
            "event": "address",
            "address": addr.to_string(),
            "prefix_len": prefix_len,
            "state": state.name(),
        }),
        Event::AddressRemoved { addr, prefix_len } => json!({
            "event": "address",
            "address": addr.to_string(),
            "prefix_len": prefix_len,
            "state": "removed",
        }),
        Event::Router {
            addr,
            lifetime_s,
            preference: p,
        } => json!({
            "event": "router",
            "address": addr.to_string(),
            "lifetime_s": lifetime_s,
            "preference": preference(p),
        }),
        Event::Prefix { prefix, len, valid } => json!({
            "event": "prefix",
            "prefix": prefix.to_string(),
            "prefix_len": len,
            "valid_lifetime_s": lifetime_s(valid),
        }),
        Event::Route {
            prefix,
            len,
            router,
            preference: p,
            lifetime,
        } => json!({
            "event": "route",
            "prefix": prefix.to_string(),
            "prefix_len": len,
            "router": router.to_string(),
            "preference": preference(p),
            "lifetime_s": lifetime_s(lifetime),
        }),
        Event::Dns => {
            let (servers, search) = dns(node);
            json!({"event": "dns", "servers": servers, "search": search})
        }
        Event::Mtu(mtu) => json!({"event": "mtu", "mtu": mtu}),
        Event::HopLimit(h) => json!({"event": "hop_limit", "hop_limit": h}),
        Event::ResolutionFailed { neighbor, dropped } => json!({
            "event": "resolution_failed",
            "neighbor": neighbor.to_string(),
            "dropped": dropped,
        }),
        Event::NeighborUnreachable {
            neighbor,
            was_router,
        } => json!({
            "event": "neighbor_unreachable",
            "neighbor": neighbor.to_string(),
            "router": was_router,
        }),
        Event::AddressFailed { prefix, attempts } => json!({
            "event": "address_failed",
            "prefix": prefix.to_string(),
            "attempts": attempts,
        }),
        Event::InterfaceDisabled { reason } => json!({
            "event": "interface_disabled",
            "reason": match reason {
                ndp_core::DisableReason::DuplicateMacAddress => "duplicate_mac_address",
                _ => "other",
            },
        }),
        Event::InterfaceEnabled => json!({"event": "interface_enabled"}),
        Event::Refused(r) => json!({
            "event": "refused",
            "routers": r.routers,
            "prefixes": r.prefixes,
            "routes": r.routes,
            "addresses": r.addresses,
        }),
        Event::ConfigFlags { managed, other } => json!({
            "event": "config_flags",
            "managed": managed,
            "other": other,
        }),
        // Event is non_exhaustive: a newer engine's events still show up.
        _ => json!({"event": "other", "debug": format!("{e:?}")}),
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("ms".into(), json!(ms));
    }
    v
}

/// An event of the adapter: the engine's, or its own warnings.
pub fn adapter_event(ms: u64, e: &ndp_smoltcp::Event, node: &Node) -> Value {
    use ndp_smoltcp::Event as A;
    let mut v = match e {
        A::Engine(e) => return event(ms, e, node),
        A::AddressNoRoom { addr } => json!({
            "event": "address_no_room",
            "address": addr.to_string(),
        }),
        A::GroupNoRoom { group } => json!({
            "event": "group_no_room",
            "group": group.to_string(),
        }),
        A::Dropped { reason, count } => json!({
            "event": "dropped",
            "reason": reason.to_string(),
            "count": count,
        }),
        _ => json!({"event": "other", "debug": format!("{e:?}")}),
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("ms".into(), json!(ms));
    }
    v
}

/// The IPv4 configuration as the contract's object (`null`s without one).
fn ipv4_value(node: &Node) -> Value {
    match node.ipv4 {
        Some((cidr, gateway)) => json!({
            "address": cidr.address().to_string(),
            "prefix_len": cidr.prefix_len(),
            "gateway": gateway.map(|g| g.to_string()),
        }),
        None => json!({"address": null, "prefix_len": null, "gateway": null}),
    }
}

/// The `ipv4` event: the IPv4 configuration changed.
pub fn ipv4(ms: u64, node: &Node) -> Value {
    let mut v = ipv4_value(node);
    if let Some(o) = v.as_object_mut() {
        o.insert("event".into(), json!("ipv4"));
        o.insert("ms".into(), json!(ms));
    }
    v
}

/// The whole state, for SIGUSR1.
pub fn state(ms: u64, node: &Node) -> Value {
    let s = node.adapter.stack();
    let now = Instant::wrapping_from_millis(ms);
    let addresses: Vec<Value> = s
        .addresses()
        .map(|a| {
            json!({
                "address": a.addr.get().to_string(),
                "prefix_len": a.prefix_len,
                "state": a.state.name(),
            })
        })
        .collect();
    let neighbors: Vec<Value> = s
        .neighbors()
        .map(|n| {
            json!({
                "address": n.addr.to_string(),
                "lladdr": n.mac.map(mac),
                "state": n.state.name(),
                "router": n.is_router,
            })
        })
        .collect();
    let routers: Vec<Value> = s
        .routers()
        .map(|r| {
            json!({
                "address": r.addr.to_string(),
                "lifetime_s": remaining_s(now, r.expires),
                "preference": preference(r.preference),
            })
        })
        .collect();
    let prefixes: Vec<Value> = s
        .prefixes()
        .map(|p| {
            json!({
                "prefix": p.prefix.to_string(),
                "prefix_len": p.len,
                // 4294967295 for never, as on the wire.
                "valid_lifetime_s": s.time_left(p.expires).unwrap_or(u32::MAX),
            })
        })
        .collect();
    let mut stats = Map::new();
    for (group, name, n) in s.stats().iter() {
        let key = if group.is_empty() {
            name.to_owned()
        } else {
            format!("{group}.{name}")
        };
        stats.insert(key, json!(n));
    }
    for (name, n) in node.adapter.stats().iter() {
        stats.insert(format!("adapter.{name}"), json!(n));
    }
    let tap = node.adapter.device();
    stats.insert("tap.rx_errors".into(), json!(tap.rx_errors));
    stats.insert("tap.tx_errors".into(), json!(tap.tx_errors));
    stats.insert("udp_echoed".into(), json!(node.udp_echoed));
    let (servers, search) = dns(node);
    json!({
        "event": "state",
        "ms": ms,
        "addresses": addresses,
        "neighbors": neighbors,
        "routers": routers,
        "prefixes": prefixes,
        "dns": {"servers": servers, "search": search},
        "mtu": s.link_mtu(),
        "hop_limit": s.hop_limit(),
        "ipv4": node.ipv4.map(|_| ipv4_value(node)),
        "stats": stats,
    })
}
