//! `ndp proxy`: the engine's ND proxy (`ndp_core::proxy`) on a Linux
//! interface, doing npd6's job.
//!
//! The engine runs beside the kernel on the interface, as a second node
//! with the same MAC and the same link-local address (the modified EUI-64
//! one, Linux's default): it answers Neighbor Solicitations for the
//! proxied targets from that address, and leaves everything else to the
//! kernel. So it is fed only Neighbor Solicitations and Advertisements
//! (the neighbor cache it keeps tells it which targets live on this
//! link), never Router Advertisements (it would autoconfigure addresses
//! the kernel does not hold) or MLD queries (the kernel reports), nor a
//! solicitation for one of the kernel's own addresses (the kernel
//! answers those), nor a frame of our own. It sends no Router
//! Solicitations and no unsolicited advertisements.
//!
//! The interface is put in promiscuous mode: the solicited-node groups of
//! the proxied targets are groups nobody on this host joins, and a NIC
//! filters them out otherwise (npd6 uses ALLMULTI for the same reason;
//! pnet_datalink offers only promiscuous). The socket's BPF filter keeps
//! the rest of the traffic in the kernel.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::Ipv6Addr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ndp_core::proxy::{Decision, Proxy, ProxyRule, ProxyStats};
use ndp_core::time::Instant as EngineInstant;
use ndp_core::wire::ethernet::{self, ETHERTYPE_IPV6, EthernetHeader};
use ndp_core::wire::ipv6::{Inbound, classify};
use ndp_core::wire::{MacAddr, Message, MessageType, UnicastAddr};
use ndp_core::{Config, Stack};
use ndp_core::{Delivery, Event, RxMeta};
use serde_json::{Value, json};

use crate::link::Link;
use crate::{Failure, ProxyArgs, TICK, out, time_of_day, wall_clock};

/// Most lines a second about solicitations the proxy did not answer;
/// beyond, they are counted only (answers are bounded by the engine).
const REFUSAL_LINES: u32 = 20;

/// How often the kernel's own addresses on the interface are read again.
const ADDRESS_REFRESH: Duration = Duration::from_secs(1);

/// The proxy's rules: from the command line, then from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub prefixes: Vec<ProxyRule>,
    pub allow: Vec<ProxyRule>,
    pub deny: Vec<ProxyRule>,
    pub router: bool,
}

/// `P/LEN`, or (when `address_ok`) a bare address, as a rule.
pub fn parse_rule(s: &str, address_ok: bool) -> Result<ProxyRule, String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => {
            let len = l
                .parse::<u8>()
                .map_err(|_| format!("`{s}`: bad prefix length"))?;
            (a, len)
        }
        None if address_ok => (s, 128),
        None => return Err(format!("`{s}`: expected PREFIX/LEN")),
    };
    let addr: Ipv6Addr = addr
        .parse()
        .map_err(|_| format!("`{s}`: not an IPv6 address"))?;
    ProxyRule::new(addr, len).map_err(|e| format!("`{s}`: {e}"))
}

fn rule_text(r: &ProxyRule) -> String {
    format!("{}/{}", r.prefix(), r.prefix_len())
}

impl Rules {
    /// The rules of the command line and of `--config`, checked against
    /// the engine's limits: any error is a usage error, one line.
    pub fn load(args: &ProxyArgs) -> Result<Rules, Failure> {
        let usage = Failure::Usage;
        let mut rules = Rules {
            prefixes: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            router: true,
        };
        for p in &args.prefix {
            rules
                .prefixes
                .push(parse_rule(p, false).map_err(|e| usage(format!("--prefix {e}")))?);
        }
        for a in &args.allow {
            rules
                .allow
                .push(parse_rule(a, true).map_err(|e| usage(format!("--allow {e}")))?);
        }
        for d in &args.deny {
            rules
                .deny
                .push(parse_rule(d, true).map_err(|e| usage(format!("--deny {e}")))?);
        }
        if let Some(path) = &args.config {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("{}: {e}", path.display())))?;
            rules.read_file(path, &text).map_err(usage)?;
        }
        if args.no_router {
            rules.router = false;
        }
        if rules.prefixes.is_empty() {
            return Err(usage(
                "no prefix to proxy: give --prefix P/LEN or a `prefix` line in --config".into(),
            ));
        }
        // The engine's limits, checked on a scratch proxy so that a bad
        // reload leaves the running rules alone.
        rules.apply(&mut Proxy::new()).map_err(usage)?;
        Ok(rules)
    }

    /// Add the rules of a configuration file: one per line, `prefix
    /// P/LEN`, `allow ADDR|P/LEN`, `deny ADDR|P/LEN` or `router on|off`;
    /// `#` starts a comment.
    pub fn read_file(&mut self, path: &Path, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let at = |m: String| format!("{}:{}: {m}", path.display(), n.saturating_add(1));
            let line = line.split('#').next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let (Some(key), value, None) = (words.next(), words.next(), words.next()) else {
                if line.is_empty() {
                    continue;
                }
                return Err(at(format!("`{line}`: expected KEYWORD VALUE")));
            };
            let Some(value) = value else {
                return Err(at(format!("`{key}` needs a value")));
            };
            match key {
                "prefix" => self.prefixes.push(parse_rule(value, false).map_err(at)?),
                "allow" => self.allow.push(parse_rule(value, true).map_err(at)?),
                "deny" => self.deny.push(parse_rule(value, true).map_err(at)?),
                "router" => {
                    self.router = match value {
                        "on" | "yes" | "true" => true,
                        "off" | "no" | "false" => false,
                        _ => return Err(at(format!("router takes on or off, not `{value}`"))),
                    }
                }
                _ => {
                    return Err(at(format!(
                        "unknown keyword `{key}` (prefix, allow, deny, router)"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Make `p` hold exactly these rules.
    pub fn apply(&self, p: &mut Proxy) -> Result<(), String> {
        p.clear();
        let full = |what: &str, most: usize| format!("more than {most} {what} (the proxy's limit)");
        for r in &self.prefixes {
            p.add_prefix(*r)
                .map_err(|_| full("prefixes", ndp_core::proxy::PROXY_PREFIXES))?;
        }
        for r in &self.allow {
            p.allow(*r)
                .map_err(|_| full("allow entries", ndp_core::proxy::PROXY_RULES))?;
        }
        for r in &self.deny {
            p.deny(*r)
                .map_err(|_| full("deny entries", ndp_core::proxy::PROXY_RULES))?;
        }
        p.set_router(self.router);
        Ok(())
    }
}

fn rules_json(p: &Proxy) -> Value {
    let list = |it: &mut dyn Iterator<Item = ProxyRule>| -> Vec<String> {
        it.map(|r| rule_text(&r)).collect()
    };
    json!({
        "prefixes": list(&mut p.prefixes()),
        "allow": list(&mut p.allowed()),
        "deny": list(&mut p.denied()),
        "router": p.router(),
    })
}

fn stats_json(s: &ProxyStats) -> Value {
    json!({
        "answered": s.answered,
        "denied": s.denied,
        "dad": s.dad,
        "on_link": s.on_link,
        "limited": s.limited,
        "no_destination": s.no_destination,
    })
}

/// Which refusal counter moved between two snapshots.
fn refusal(before: &ProxyStats, after: &ProxyStats) -> Option<&'static str> {
    [
        (before.denied, after.denied, "denied"),
        (before.dad, after.dad, "dad_probe"),
        (before.on_link, after.on_link, "on_link"),
        (before.limited, after.limited, "rate_limited"),
        (
            before.no_destination,
            after.no_destination,
            "no_destination",
        ),
    ]
    .into_iter()
    .find(|(b, a, _)| a > b)
    .map(|(_, _, why)| why)
}

/// Frames seen and sent, for SIGUSR1.
#[derive(Default)]
struct Counters {
    frames: u64,
    solicitations: u64,
    kernel_targets: u64,
    sent: u64,
    send_errors: u64,
    refusal_lines_dropped: u64,
}

struct Proxyd<'a> {
    args: &'a ProxyArgs,
    link: Link,
    stack: Stack,
    link_local: Ipv6Addr,
    start: Instant,
    kernel_addrs: Vec<Ipv6Addr>,
    addrs_read: Instant,
    counters: Counters,
    refusal_window: (Instant, u32),
}

pub fn run(args: &ProxyArgs) -> Result<(), Failure> {
    let rules = Rules::load(args)?;
    let link = Link::open(&args.iface.iface, true, TICK)?;
    let flag = |sig: i32| -> Result<Arc<AtomicBool>, Failure> {
        let f = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(sig, f.clone())
            .map_err(|e| Failure::Runtime(format!("signal handler: {e}")))?;
        Ok(f)
    };
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    let (usr1, hup, term, int) = (flag(SIGUSR1)?, flag(SIGHUP)?, flag(SIGTERM)?, flag(SIGINT)?);

    let start = Instant::now();
    // The link-local address the answers come from: the modified EUI-64
    // one, which the kernel holds unless addr_gen_mode says otherwise.
    let link_local = UnicastAddr::link_local(link.mac.modified_eui64()).get();
    let kernel = link.addresses().into_iter().find(|a| a.addr == link_local);
    let kernel_has = kernel.is_some_and(|a| !a.unusable);
    let seed = RandomState::new().hash_one((std::process::id(), wall_clock().to_bits()));
    let mut config = Config::eui64(link.mac, seed);
    config.router_solicitations = false;
    config.gratuitous_na = 0;
    // The kernel ran DAD for this address already; if it has not (yet),
    // the engine runs DAD before answering from it (RFC 4862 §5.4).
    config.dad_transmits = if kernel_has { 0 } else { 1 };
    if kernel.is_none() {
        eprintln!(
            "ndp: {} does not hold {link_local} (addr_gen_mode is not eui64?); answers come from it anyway, after DAD",
            link.name
        );
    }
    let mut stack: Stack = Stack::new(config, EngineInstant::ZERO);
    stack
        .configure_proxy(|p| rules.apply(p))
        .map_err(Failure::Usage)?;
    let mut d = Proxyd {
        args,
        link,
        stack,
        link_local,
        start,
        kernel_addrs: Vec::new(),
        addrs_read: start,
        counters: Counters::default(),
        refusal_window: (start, 0),
    };
    d.read_kernel_addrs();
    d.log(
        "started",
        json!({
            "iface": d.link.name,
            "mac": d.link.mac.to_string(),
            "link_local": link_local.to_string(),
            "rules": rules_json(d.stack.proxy()),
        }),
        format!(
            "proxying on {} ({}) from {link_local}: {}",
            d.link.name,
            d.link.mac,
            rules_summary(d.stack.proxy())
        ),
    )?;
    loop {
        if term.load(Ordering::Relaxed) || int.load(Ordering::Relaxed) {
            let stats = stats_json(d.stack.proxy().stats());
            return d.log("stopped", json!({ "counters": stats }), "stopped".into());
        }
        if usr1.swap(false, Ordering::Relaxed) {
            d.state()?;
        }
        if hup.swap(false, Ordering::Relaxed) {
            d.reload()?;
        }
        d.transmit()?;
        d.receive()?;
    }
}

fn rules_summary(p: &Proxy) -> String {
    let join = |it: &mut dyn Iterator<Item = ProxyRule>| {
        it.map(|r| rule_text(&r)).collect::<Vec<_>>().join(" ")
    };
    let mut s = format!("prefixes {}", join(&mut p.prefixes()));
    let allow = join(&mut p.allowed());
    if !allow.is_empty() {
        s += &format!(", allow {allow}");
    }
    let deny = join(&mut p.denied());
    if !deny.is_empty() {
        s += &format!(", deny {deny}");
    }
    s += if p.router() {
        ", router flag on"
    } else {
        ", router flag off"
    };
    s
}

impl Proxyd<'_> {
    fn now(&self) -> EngineInstant {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        EngineInstant::wrapping_from_millis(ms)
    }

    /// One line: JSON (`event` and `fields`) or text.
    fn log(&self, event: &str, fields: Value, text: String) -> Result<(), Failure> {
        let t = wall_clock();
        if self.args.json {
            let mut v = json!({"time": t, "event": event});
            if let (Some(o), Value::Object(f)) = (v.as_object_mut(), fields) {
                o.extend(f);
            }
            out(&v.to_string())
        } else {
            out(&format!("{} {text}", time_of_day(t)))
        }
    }

    fn read_kernel_addrs(&mut self) {
        self.kernel_addrs = self.link.addresses().into_iter().map(|a| a.addr).collect();
        self.addrs_read = Instant::now();
    }

    /// SIGUSR1: rules, counters and the neighbors the engine knows.
    fn state(&self) -> Result<(), Failure> {
        let p = self.stack.proxy();
        let c = &self.counters;
        let neighbors: Vec<Value> = self
            .stack
            .neighbors()
            .map(|n| {
                json!({
                    "addr": n.addr.to_string(),
                    "mac": n.mac.map(|m| m.to_string()),
                    "state": format!("{:?}", n.state).to_lowercase(),
                })
            })
            .collect();
        let s = p.stats();
        self.log(
            "state",
            json!({
                "iface": self.link.name,
                "link_local": self.link_local.to_string(),
                "uptime_s": self.start.elapsed().as_secs(),
                "rules": rules_json(p),
                "counters": stats_json(s),
                "frames": {
                    "received": c.frames,
                    "solicitations": c.solicitations,
                    "for_kernel": c.kernel_targets,
                    "sent": c.sent,
                    "send_errors": c.send_errors,
                    "refusal_lines_dropped": c.refusal_lines_dropped,
                },
                "neighbors": neighbors,
            }),
            format!(
                "state: {}; answered {}, denied {}, dad probes {}, on link {}, rate limited {}, no destination {}; \
                 frames received {}, solicitations {}, for the kernel {}, sent {}, send errors {}; {} neighbor(s)",
                rules_summary(p),
                s.answered,
                s.denied,
                s.dad,
                s.on_link,
                s.limited,
                s.no_destination,
                c.frames,
                c.solicitations,
                c.kernel_targets,
                c.sent,
                c.send_errors,
                neighbors.len()
            ),
        )
    }

    /// SIGHUP: read the rules again; a bad file keeps the old rules.
    fn reload(&mut self) -> Result<(), Failure> {
        match Rules::load(self.args) {
            Ok(rules) => {
                if let Err(e) = self.stack.configure_proxy(|p| rules.apply(p)) {
                    return self.log(
                        "reload_failed",
                        json!({"error": e}),
                        format!("reload failed: {e}"),
                    );
                }
                let text = format!("reloaded: {}", rules_summary(self.stack.proxy()));
                self.log(
                    "reloaded",
                    json!({"rules": rules_json(self.stack.proxy())}),
                    text,
                )
            }
            Err(Failure::Usage(e) | Failure::Runtime(e)) => self.log(
                "reload_failed",
                json!({"error": e}),
                format!("reload failed, keeping the rules: {e}"),
            ),
            Err(Failure::Closed) => Err(Failure::Closed),
        }
    }

    /// Send what the engine has to send.
    fn transmit(&mut self) -> Result<(), Failure> {
        let now = self.now();
        let mut buf = [0u8; 1514];
        loop {
            let (head, body) = buf.split_at_mut(ethernet::HEADER_LEN);
            let Some(tx) = self.stack.poll_transmit(now, body) else {
                break;
            };
            let Delivery::Link(dst) = tx.delivery else {
                continue;
            };
            let eth = EthernetHeader {
                dst,
                src: self.link.mac,
                ethertype: ETHERTYPE_IPV6,
            };
            if eth.emit(head).is_err() {
                continue;
            }
            let len = tx.len.saturating_add(ethernet::HEADER_LEN);
            let Some(frame) = buf.get(..len) else {
                continue;
            };
            match self.link.send(frame) {
                Ok(()) => self.counters.sent = self.counters.sent.saturating_add(1),
                Err(Failure::Runtime(e)) => {
                    self.counters.send_errors = self.counters.send_errors.saturating_add(1);
                    eprintln!("ndp: {e}");
                }
                Err(e) => return Err(e),
            }
        }
        while let Some(e) = self.stack.poll_event() {
            // RFC 4862 §5.4.5: a duplicate of the MAC-based link-local
            // address disables the engine, and with it the answers.
            match e {
                Event::InterfaceDisabled { .. } => self.log(
                    "disabled",
                    json!({"link_local": self.link_local.to_string()}),
                    format!(
                        "{} is a duplicate on this link: no answers until DAD passes",
                        self.link_local
                    ),
                )?,
                Event::InterfaceEnabled => {
                    self.log("enabled", json!({}), "answering again".into())?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Read one frame (or wait a tick) and give it to the engine when it
    /// is the engine's.
    fn receive(&mut self) -> Result<(), Failure> {
        if self.addrs_read.elapsed() >= ADDRESS_REFRESH {
            self.read_kernel_addrs();
        }
        let now = self.now();
        let mac = self.link.mac;
        let Some(frame) = self.link.recv()? else {
            return Ok(());
        };
        self.counters.frames = self.counters.frames.saturating_add(1);
        let Ok((eth, payload)) = EthernetHeader::parse(frame) else {
            return Ok(());
        };
        // Our own frames (the kernel's, and the engine's), seen leaving.
        if eth.src == mac || eth.ethertype != ETHERTYPE_IPV6 {
            return Ok(());
        }
        let Ok(Inbound::Engine(up)) = classify(payload) else {
            return Ok(());
        };
        let ty = up.payload.first().copied().and_then(MessageType::from_u8);
        let target = match ty {
            Some(MessageType::NeighborSolicit) => {
                match Message::parse_checked(&up.header.src, &up.header.dst, up.payload) {
                    Ok(Message::NeighborSolicit(ns)) => {
                        Some((ns.target, ns.options.source_link_addr()))
                    }
                    _ => None,
                }
            }
            Some(MessageType::NeighborAdvert) => None,
            _ => return Ok(()),
        };
        if let Some((t, _)) = target {
            self.counters.solicitations = self.counters.solicitations.saturating_add(1);
            if self.kernel_addrs.contains(&t) {
                self.counters.kernel_targets = self.counters.kernel_targets.saturating_add(1);
                return Ok(());
            }
        }
        let before = self.stack.proxy().stats().clone();
        let meta = RxMeta {
            src: up.header.src,
            dst: up.header.dst,
            hop_limit: up.header.hop_limit,
            src_mac: Some(eth.src),
        };
        self.stack.receive(now, &meta, up.payload);
        let Some((target, slla)) = target else {
            return Ok(());
        };
        let asker = up.header.src;
        // An answer is counted (answered, or limited when our link-local
        // address is not usable yet) as it is written.
        self.transmit()?;
        let after = self.stack.proxy().stats().clone();
        let asker_mac = slla.unwrap_or(eth.src);
        if after.answered > before.answered {
            return self.log(
                "answered",
                answer_json(target, asker, asker_mac),
                format!("answered for {target} to {asker} ({asker_mac})"),
            );
        }
        let why = match refusal(&before, &after) {
            Some(why) => why,
            None if self.stack.proxy().decide(&target) == Decision::NotCovered => return Ok(()),
            None => "not_answered",
        };
        self.refused(target, asker, asker_mac, why)
    }

    /// Log a solicitation not answered, within [`REFUSAL_LINES`] a second.
    fn refused(
        &mut self,
        target: Ipv6Addr,
        asker: Ipv6Addr,
        mac: MacAddr,
        why: &str,
    ) -> Result<(), Failure> {
        let (start, used) = &mut self.refusal_window;
        if start.elapsed() >= Duration::from_secs(1) {
            *start = Instant::now();
            *used = 0;
        }
        if *used >= REFUSAL_LINES {
            self.counters.refusal_lines_dropped =
                self.counters.refusal_lines_dropped.saturating_add(1);
            return Ok(());
        }
        *used = used.saturating_add(1);
        let mut fields = answer_json(target, asker, mac);
        if let Some(o) = fields.as_object_mut() {
            o.insert("reason".into(), json!(why));
        }
        self.log(
            "ignored",
            fields,
            format!("ignored a solicitation for {target} from {asker} ({mac}): {why}"),
        )
    }
}

fn answer_json(target: Ipv6Addr, asker: Ipv6Addr, mac: MacAddr) -> Value {
    json!({
        "target": target.to_string(),
        "asker": asker.to_string(),
        "asker_mac": mac.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            prefixes: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            router: true,
        }
    }

    #[test]
    fn rules_parse_prefixes_and_addresses() {
        let r = parse_rule("2001:db8:2::/64", false).unwrap();
        assert_eq!(rule_text(&r), "2001:db8:2::/64");
        assert_eq!(
            rule_text(&parse_rule("2001:db8:2::42", true).unwrap()),
            "2001:db8:2::42/128"
        );
        assert!(
            parse_rule("2001:db8:2::42", false)
                .unwrap_err()
                .contains("expected PREFIX/LEN")
        );
        assert!(
            parse_rule("2001:db8:2::/129", false)
                .unwrap_err()
                .contains("above 128")
        );
        assert!(
            parse_rule("2001:db8:2::/x", false)
                .unwrap_err()
                .contains("bad prefix length")
        );
        assert!(
            parse_rule("fe80::/64", false)
                .unwrap_err()
                .contains("cannot be proxied")
        );
        assert!(
            parse_rule("nonsense/64", false)
                .unwrap_err()
                .contains("not an IPv6 address")
        );
    }

    #[test]
    fn config_file_lines() {
        let mut r = rules();
        let text = "# a comment\n\nprefix 2001:db8:2::/64\nallow 2001:db8:2::42 # inline\ndeny 2001:db8:2::/120\nrouter off\n";
        r.read_file(Path::new("f.conf"), text).unwrap();
        assert_eq!(r.prefixes.len(), 1);
        assert_eq!(r.allow.len(), 1);
        assert_eq!(r.deny.len(), 1);
        assert!(!r.router);
        let err = |t: &str| rules().read_file(Path::new("f.conf"), t).unwrap_err();
        assert_eq!(
            err("prefix 2001:db8::/64\nbogus 1\n"),
            "f.conf:2: unknown keyword `bogus` (prefix, allow, deny, router)"
        );
        assert_eq!(err("prefix\n"), "f.conf:1: `prefix` needs a value");
        assert_eq!(
            err("prefix a b\n"),
            "f.conf:1: `prefix a b`: expected KEYWORD VALUE"
        );
        assert_eq!(
            err("router maybe"),
            "f.conf:1: router takes on or off, not `maybe`"
        );
        assert_eq!(
            err("\n\ndeny 2001:db8::/200"),
            "f.conf:3: `2001:db8::/200`: a prefix length above 128"
        );
    }

    #[test]
    fn limits_are_the_engines() {
        let mut r = rules();
        for i in 0..5u16 {
            r.prefixes
                .push(ProxyRule::new(Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0), 64).unwrap());
        }
        assert_eq!(
            r.apply(&mut Proxy::new()).unwrap_err(),
            "more than 4 prefixes (the proxy's limit)"
        );
        r.prefixes.truncate(4);
        let mut p = Proxy::new();
        r.apply(&mut p).unwrap();
        assert_eq!(p.prefixes().count(), 4);
        // A reload replaces, it does not add.
        r.prefixes.truncate(1);
        r.router = false;
        r.apply(&mut p).unwrap();
        assert_eq!(p.prefixes().count(), 1);
        assert!(!p.router());
    }

    #[test]
    fn refusals_name_the_counter_that_moved() {
        let before = ProxyStats::default();
        let mut after = before.clone();
        assert_eq!(refusal(&before, &after), None);
        after.dad = 1;
        assert_eq!(refusal(&before, &after), Some("dad_probe"));
        let mut after = before.clone();
        after.on_link = 1;
        assert_eq!(refusal(&before, &after), Some("on_link"));
        let mut after = before.clone();
        after.denied = 1;
        assert_eq!(refusal(&before, &after), Some("denied"));
    }
}
