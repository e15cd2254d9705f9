//! Simulated boots (ndp_tests::sim, no pcap): time to a usable global
//! address over many seeds, and the 1,000-host boot.

use std::time::Instant as WallClock;

use ndp_core::addr::{AddrState, Origin};
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::MacAddr;
use ndp_core::{Config, Event};
use ndp_tests::sim::{EngineNode, LinkConfig, RouterConfig, ScriptedRouter, Sim};
use serde_json::{Value, json};

const ROUTER: MacAddr = MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x01]);

fn host_config(i: u64, optimistic: bool) -> Config {
    let mac = MacAddr([0x02, 0x10, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
    let mut c = Config::stable(mac, 0x5eed_0000 + i, [0; 16]);
    c.secret = [0; 16];
    c.secret[..8].copy_from_slice(&i.to_be_bytes());
    c.optimistic_dad = optimistic;
    c
}

/// When `node` first had a global address it may send from (optimistic
/// or preferred).
fn usable_global_at(node: &EngineNode) -> Option<Instant> {
    node.events().iter().find_map(|(t, e)| match e {
        Event::Address { addr, state, .. } if addr.segments()[0] != 0xfe80 => {
            matches!(state, AddrState::Optimistic | AddrState::Preferred).then_some(*t)
        }
        _ => None,
    })
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `boots` single-host boots, each against a router that answers a
/// solicitation at once and advertises nothing unsolicited.
pub fn slaac(boots: u64, optimistic: bool) -> Value {
    let mut times = Vec::with_capacity(boots as usize);
    for i in 0..boots {
        let mut sim = Sim::unrecorded(i, LinkConfig::ideal());
        sim.add(ScriptedRouter::new(
            ROUTER,
            RouterConfig {
                interval: None,
                advertise_at_start: false,
                solicited_delay: Duration::ZERO,
                ..RouterConfig::default()
            },
        ));
        let host = sim.add(EngineNode::from_config(host_config(i, optimistic)));
        sim.run_for(Duration::from_secs(10));
        let node = sim.node::<EngineNode>(host);
        let at = usable_global_at(node).unwrap_or_else(|| panic!("boot {i}: no global address"));
        assert!(
            node.stack().addresses().any(|a| a.origin == Origin::Slaac),
            "boot {i}"
        );
        times.push(u64::from(at.as_millis()));
    }
    times.sort_unstable();
    json!({
        "boots": boots,
        "optimistic_dad": optimistic,
        "p50_ms": percentile(&times, 50.0),
        "p99_ms": percentile(&times, 99.0),
        "max_ms": times.last().copied().unwrap_or(0),
        "min_ms": times.first().copied().unwrap_or(0),
        "sorted_ms": times,
    })
}

/// 1,000 hosts booting at the same instant behind one router, as the
/// scenario test does, without the pcap.
pub fn thousand_hosts() -> Value {
    const HOSTS: u64 = 1000;
    let started = WallClock::now();
    let mut sim = Sim::unrecorded(24, LinkConfig::ideal());
    sim.set_event_limit(200_000_000);
    sim.add(ScriptedRouter::new(
        ROUTER,
        RouterConfig {
            interval: Some(Duration::from_secs(10)),
            ..RouterConfig::default()
        },
    ));
    let hosts: Vec<_> = (0..HOSTS)
        .map(|i| sim.add(EngineNode::from_config(host_config(i, true))))
        .collect();
    sim.run_for(Duration::from_secs(15));
    let wall = started.elapsed().as_secs_f64();
    let preferred = hosts
        .iter()
        .filter(|h| {
            sim.node::<EngineNode>(**h)
                .stack()
                .addresses()
                .any(|a| a.origin == Origin::Slaac && a.state == AddrState::Preferred)
        })
        .count();
    let conflicts: u32 = hosts
        .iter()
        .map(|h| sim.node::<EngineNode>(*h).stack().stats().dad_conflicts)
        .sum();
    let c = sim.counters();
    json!({
        "hosts": HOSTS,
        "simulated_s": 15,
        "wall_s": wall,
        "events": sim.events(),
        "events_per_s": sim.events() as f64 / wall,
        "frames": c.sent,
        "deliveries": c.delivered,
        "hosts_with_preferred_global": preferred,
        "dad_conflicts": conflicts,
    })
}
