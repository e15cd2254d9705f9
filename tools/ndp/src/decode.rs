//! Frames to Neighbor Discovery and MLD messages, through ndp-core's
//! codec, and the messages to text and to JSON.
//!
//! Text is one line per message and one indented line per option; JSON
//! is one object per message. A message the codec refuses is shown with
//! its typed error (`bad_checksum`, `option_truncated`, ...), and a
//! well-formed one that breaks a receive rule (RFC 4861 §6.1, RFC 3810
//! §5) with the rule it breaks (`invalid: hop_limit`).

use std::fmt::Write as _;

use ndp_core::wire::ethernet::{ETHERTYPE_IPV6, EthernetHeader};
use ndp_core::wire::ipv6::{Ipv6Header, NEXT_HEADER_ICMPV6, upper_layer};
use ndp_core::wire::{
    Error, Invalid, IpMeta, Lifetime, Message, MessageType, NdOption, OptionError, Options,
    Preference, RecordType, validate::validate,
};
use serde_json::{Value, json};

/// What a frame holds, for `ndp`.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A Neighbor Discovery or MLD message the codec understood;
    /// `invalid` when it breaks a receive rule.
    Message {
        eth: EthernetHeader,
        ip: Ipv6Header,
        msg: Message<'a>,
        invalid: Option<Invalid>,
    },
    /// An ICMPv6 message of a Neighbor Discovery or MLD type that the
    /// codec refused.
    Malformed {
        eth: EthernetHeader,
        ip: Ipv6Header,
        icmp_type: u8,
        error: Error,
    },
    /// Neighbor Discovery or MLD in a fragment: hosts ignore it (RFC
    /// 6980 §5), and it is shown as such.
    Fragmented { eth: EthernetHeader, ip: Ipv6Header },
    /// An IPv6 frame whose headers the codec refused.
    BadIpv6 { eth: EthernetHeader, error: Error },
}

/// Decode `frame`; `None` for frames that carry no Neighbor Discovery or
/// MLD message (other ICMPv6 types, other protocols).
pub fn decode(frame: &[u8]) -> Option<Decoded<'_>> {
    let (eth, payload) = EthernetHeader::parse(frame).ok()?;
    if eth.ethertype != ETHERTYPE_IPV6 {
        return None;
    }
    let up = match upper_layer(payload) {
        Ok(up) => up,
        Err(error) => return Some(Decoded::BadIpv6 { eth, error }),
    };
    if up.protocol != NEXT_HEADER_ICMPV6 || up.later_fragment {
        return None;
    }
    let icmp_type = *up.payload.first()?;
    MessageType::from_u8(icmp_type).filter(|t| t.is_ndp() || t.is_mld())?;
    let ip = up.header;
    if up.fragment {
        return Some(Decoded::Fragmented { eth, ip });
    }
    Some(match Message::parse_checked(&ip.src, &ip.dst, up.payload) {
        Ok(msg) => {
            let meta = IpMeta {
                src: ip.src,
                dst: ip.dst,
                hop_limit: ip.hop_limit,
            };
            let code = up.payload.get(1).copied().unwrap_or(0);
            Decoded::Message {
                eth,
                ip,
                invalid: validate(&meta, code, &msg).err(),
                msg,
            }
        }
        Err(error) => Decoded::Malformed {
            eth,
            ip,
            icmp_type,
            error,
        },
    })
}

/// Short name of a message type, as in the JSON `type` field.
pub fn type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::RouterSolicit => "rs",
        MessageType::RouterAdvert => "ra",
        MessageType::NeighborSolicit => "ns",
        MessageType::NeighborAdvert => "na",
        MessageType::Redirect => "redirect",
        MessageType::MldQuery => "mld_query",
        MessageType::MldV1Report => "mldv1_report",
        MessageType::MldV1Done => "mldv1_done",
        MessageType::MldV2Report => "mldv2_report",
        MessageType::DestUnreachable => "dest_unreachable",
        _ => "icmpv6",
    }
}

fn lifetime(l: Lifetime) -> Value {
    match l {
        Lifetime::Infinite => json!("infinite"),
        Lifetime::Finite(s) => json!(s),
    }
}

fn lifetime_text(l: Lifetime) -> String {
    match l {
        Lifetime::Infinite => "infinite".into(),
        Lifetime::Finite(s) => format!("{s}s"),
    }
}

fn preference(p: Preference) -> &'static str {
    match p {
        Preference::High => "high",
        Preference::Medium => "medium",
        Preference::Low => "low",
        Preference::Reserved => "reserved",
    }
}

fn record_type(r: RecordType) -> String {
    match r {
        RecordType::ModeIsInclude => "mode_is_include".into(),
        RecordType::ModeIsExclude => "mode_is_exclude".into(),
        RecordType::ChangeToInclude => "change_to_include".into(),
        RecordType::ChangeToExclude => "change_to_exclude".into(),
        RecordType::AllowNewSources => "allow_new_sources".into(),
        RecordType::BlockOldSources => "block_old_sources".into(),
        RecordType::Other(v) => format!("type_{v}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One option as JSON.
pub fn option_json(o: &Result<NdOption<'_>, OptionError>) -> Value {
    let o = match o {
        Ok(o) => o,
        Err(e) => return json!({"type": "malformed", "kind": e.kind, "error": e.error.name()}),
    };
    match o {
        NdOption::SourceLinkAddr(m) => json!({"type": "slla", "mac": m.to_string()}),
        NdOption::TargetLinkAddr(m) => json!({"type": "tlla", "mac": m.to_string()}),
        NdOption::PrefixInfo(p) => json!({
            "type": "prefix",
            "prefix": format!("{}/{}", p.prefix, p.prefix_len),
            "on_link": p.on_link,
            "autonomous": p.autonomous,
            "valid": lifetime(p.valid_lifetime),
            "preferred": lifetime(p.preferred_lifetime),
        }),
        NdOption::RedirectedHeader(d) => json!({"type": "redirected_header", "len": d.len()}),
        NdOption::Mtu(m) => json!({"type": "mtu", "mtu": m}),
        NdOption::Nonce(n) => json!({"type": "nonce", "nonce": hex(n)}),
        NdOption::RouteInfo(r) => json!({
            "type": "route",
            "prefix": format!("{}/{}", r.prefix, r.prefix_len),
            "preference": preference(r.preference),
            "lifetime": lifetime(r.lifetime),
        }),
        NdOption::Rdnss(r) => json!({
            "type": "rdnss",
            "lifetime": lifetime(r.lifetime),
            "servers": r.servers.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        }),
        NdOption::Dnssl(d) => json!({
            "type": "dnssl",
            "lifetime": lifetime(d.lifetime),
            "domains": d.domains.iter().map(|n| n.as_str().to_string()).collect::<Vec<_>>(),
        }),
        NdOption::Unknown { kind, data } => {
            json!({"type": "unknown", "kind": kind, "len": data.len()})
        }
        _ => json!({"type": "unknown"}),
    }
}

/// One option as a line of text (without indentation).
pub fn option_text(o: &Result<NdOption<'_>, OptionError>) -> String {
    let o = match o {
        Ok(o) => o,
        Err(e) => return format!("malformed option type {}: {}", e.kind, e.error.name()),
    };
    match o {
        NdOption::SourceLinkAddr(m) => format!("source link-layer address {m}"),
        NdOption::TargetLinkAddr(m) => format!("target link-layer address {m}"),
        NdOption::PrefixInfo(p) => format!(
            "prefix {}/{}{}{} valid {} preferred {}",
            p.prefix,
            p.prefix_len,
            if p.on_link { " on-link" } else { "" },
            if p.autonomous { " autonomous" } else { "" },
            lifetime_text(p.valid_lifetime),
            lifetime_text(p.preferred_lifetime),
        ),
        NdOption::RedirectedHeader(d) => format!("redirected header, {} bytes", d.len()),
        NdOption::Mtu(m) => format!("mtu {m}"),
        NdOption::Nonce(n) => format!("nonce {}", hex(n)),
        NdOption::RouteInfo(r) => format!(
            "route {}/{} preference {} lifetime {}",
            r.prefix,
            r.prefix_len,
            preference(r.preference),
            lifetime_text(r.lifetime)
        ),
        NdOption::Rdnss(r) => format!(
            "rdnss {} lifetime {}",
            r.servers
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            lifetime_text(r.lifetime)
        ),
        NdOption::Dnssl(d) => format!(
            "dnssl {} lifetime {}",
            d.domains
                .iter()
                .map(|n| n.as_str().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            lifetime_text(d.lifetime)
        ),
        NdOption::Unknown { kind, data } => {
            format!("option type {kind}, {} bytes", data.len().saturating_add(2))
        }
        _ => "option".into(),
    }
}

fn options_json(opts: &Options<'_>) -> Vec<Value> {
    opts.iter().map(|o| option_json(&o)).collect()
}

/// The message's own fields (everything but addresses and options) as
/// JSON members.
fn fields_json(msg: &Message<'_>, v: &mut serde_json::Map<String, Value>) {
    let mut put = |k: &str, x: Value| {
        v.insert(k.into(), x);
    };
    match msg {
        Message::RouterAdvert(ra) => {
            put("cur_hop_limit", json!(ra.cur_hop_limit));
            put("managed", json!(ra.managed));
            put("other", json!(ra.other_config));
            put("preference", json!(preference(ra.preference)));
            put("router_lifetime", json!(ra.router_lifetime));
            put("reachable_time", json!(ra.reachable_time));
            put("retrans_timer", json!(ra.retrans_timer));
        }
        Message::NeighborSolicit(ns) => put("target", json!(ns.target.to_string())),
        Message::NeighborAdvert(na) => {
            put("target", json!(na.target.to_string()));
            put("router", json!(na.router_flag));
            put("solicited", json!(na.solicited_flag));
            put("override", json!(na.override_flag));
        }
        Message::Redirect(r) => {
            put("target", json!(r.target.to_string()));
            put("destination", json!(r.destination.to_string()));
        }
        Message::MldQuery(q) => {
            put("group", json!(q.group.to_string()));
            put("max_response_ms", json!(q.max_response_delay_ms()));
            put("version", json!(if q.v2.is_some() { 2 } else { 1 }));
            if let Some(v2) = &q.v2 {
                put("s_flag", json!(v2.suppress_router_processing));
                put("qrv", json!(v2.robustness));
                put("qqi", json!(v2.query_interval_secs()));
                put(
                    "sources",
                    json!(v2.sources.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
                );
            }
        }
        Message::MldV1Report(m) | Message::MldV1Done(m) => put("group", json!(m.group.to_string())),
        Message::MldV2Report(r) => put(
            "records",
            Value::Array(
                r.records
                    .iter()
                    .map(|rec| {
                        json!({
                            "type": record_type(rec.record_type),
                            "group": rec.group.to_string(),
                            "sources": rec.sources.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            ),
        ),
        _ => {}
    }
}

fn fields_text(msg: &Message<'_>) -> String {
    match msg {
        Message::RouterSolicit(_) => "router solicitation".into(),
        Message::RouterAdvert(ra) => format!(
            "router advertisement, hop limit {}, flags [{}{}], preference {}, router lifetime {}s, reachable {}ms, retrans {}ms",
            ra.cur_hop_limit,
            if ra.managed { "M" } else { "-" },
            if ra.other_config { "O" } else { "-" },
            preference(ra.preference),
            ra.router_lifetime,
            ra.reachable_time,
            ra.retrans_timer
        ),
        Message::NeighborSolicit(ns) => format!("neighbor solicitation, who has {}", ns.target),
        Message::NeighborAdvert(na) => format!(
            "neighbor advertisement, tgt is {}, flags [{}{}{}]",
            na.target,
            if na.router_flag { "R" } else { "-" },
            if na.solicited_flag { "S" } else { "-" },
            if na.override_flag { "O" } else { "-" },
        ),
        Message::Redirect(r) => format!("redirect, {} to {}", r.destination, r.target),
        Message::MldQuery(q) => format!(
            "multicast listener query v{}, group {}, max response {}ms{}",
            if q.v2.is_some() { 2 } else { 1 },
            q.group,
            q.max_response_delay_ms(),
            q.v2.map(|v2| format!(
                ", qrv {}, qqi {}s, {} sources",
                v2.robustness,
                v2.query_interval_secs(),
                v2.sources.len()
            ))
            .unwrap_or_default()
        ),
        Message::MldV1Report(m) => format!("multicast listener report v1, group {}", m.group),
        Message::MldV1Done(m) => format!("multicast listener done, group {}", m.group),
        Message::MldV2Report(r) => format!(
            "multicast listener report v2, {} record(s): {}",
            r.records.len(),
            r.records
                .iter()
                .map(|rec| format!(
                    "{} {} [{} source(s)]",
                    record_type(rec.record_type),
                    rec.group,
                    rec.sources.len()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Message::DestUnreachable(_) => "destination unreachable".into(),
        _ => "icmpv6".into(),
    }
}

fn header_json(eth: &EthernetHeader, ip: Option<&Ipv6Header>) -> serde_json::Map<String, Value> {
    let mut v = serde_json::Map::new();
    v.insert("src_mac".into(), json!(eth.src.to_string()));
    v.insert("dst_mac".into(), json!(eth.dst.to_string()));
    if let Some(ip) = ip {
        v.insert("src".into(), json!(ip.src.to_string()));
        v.insert("dst".into(), json!(ip.dst.to_string()));
        v.insert("hop_limit".into(), json!(ip.hop_limit));
    }
    v
}

/// The decoded frame as one JSON object.
pub fn to_json(d: &Decoded<'_>) -> Value {
    let v = match d {
        Decoded::Message {
            eth,
            ip,
            msg,
            invalid,
        } => {
            let mut v = header_json(eth, Some(ip));
            v.insert("type".into(), json!(type_name(msg.msg_type())));
            v.insert("icmp_type".into(), json!(msg.msg_type() as u8));
            fields_json(msg, &mut v);
            if let Some(opts) = msg.options() {
                v.insert("options".into(), Value::Array(options_json(opts)));
            }
            if let Some(i) = invalid {
                v.insert("invalid".into(), json!(i.name()));
            }
            v
        }
        Decoded::Malformed {
            eth,
            ip,
            icmp_type,
            error,
        } => {
            let mut v = header_json(eth, Some(ip));
            v.insert("icmp_type".into(), json!(icmp_type));
            if let Some(t) = MessageType::from_u8(*icmp_type) {
                v.insert("type".into(), json!(type_name(t)));
            }
            v.insert("error".into(), json!(error.name()));
            v
        }
        Decoded::Fragmented { eth, ip } => {
            let mut v = header_json(eth, Some(ip));
            v.insert("error".into(), json!("fragmented_nd"));
            v
        }
        Decoded::BadIpv6 { eth, error } => {
            let mut v = header_json(eth, None);
            v.insert("error".into(), json!(error.name()));
            v.insert("layer".into(), json!("ipv6"));
            v
        }
    };
    Value::Object(v)
}

/// The decoded frame as text: a line, then one indented line per option.
pub fn to_text(d: &Decoded<'_>) -> String {
    match d {
        Decoded::Message {
            eth,
            ip,
            msg,
            invalid,
        } => {
            let mut s = format!(
                "{} > {}: {}{}",
                ip.src,
                ip.dst,
                fields_text(msg),
                hop(eth, ip.hop_limit)
            );
            if let Some(i) = invalid {
                let _ = write!(s, " [invalid: {}]", i.name());
            }
            if let Some(opts) = msg.options() {
                for o in opts.iter() {
                    let _ = write!(s, "\n    {}", option_text(&o));
                }
            }
            s
        }
        Decoded::Malformed {
            eth,
            ip,
            icmp_type,
            error,
        } => format!(
            "{} > {}: icmpv6 type {icmp_type}{} [malformed: {}]",
            ip.src,
            ip.dst,
            hop(eth, ip.hop_limit),
            error.name()
        ),
        Decoded::Fragmented { eth, ip } => format!(
            "{} > {}: fragmented neighbor discovery{} [ignored: RFC 6980]",
            ip.src,
            ip.dst,
            hop(eth, ip.hop_limit)
        ),
        Decoded::BadIpv6 { eth, error } => {
            format!(
                "{} > {}: ipv6 [malformed: {}]",
                eth.src,
                eth.dst,
                error.name()
            )
        }
    }
}

fn hop(eth: &EthernetHeader, hop_limit: u8) -> String {
    format!(", hlim {hop_limit}, {} > {}", eth.src, eth.dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndp_core::wire::ipv6::Ipv6Header;
    use ndp_core::wire::{MacAddr, NeighborSolicit, icmpv6};
    use std::net::Ipv6Addr;

    const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    /// fe80::1, asking for 2001:db8:2::42 or 2001:db8::42 ...
    const ASKER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    /// ... at their solicited-node group, ff02::1:ff00:42.
    const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0x42);

    /// An Ethernet frame around `icmp`, with its checksum filled.
    fn frame(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, icmp: &mut [u8]) -> Vec<u8> {
        icmpv6::fill_checksum(icmp, &src, &dst).unwrap();
        let mut f = vec![0u8; 14 + 40 + icmp.len()];
        EthernetHeader {
            dst: MacAddr([0x33, 0x33, 0, 0, 0, 1]),
            src: MAC,
            ethertype: ETHERTYPE_IPV6,
        }
        .emit(&mut f)
        .unwrap();
        Ipv6Header {
            src,
            dst,
            next_header: NEXT_HEADER_ICMPV6,
            hop_limit,
            payload_len: icmp.len() as u16,
        }
        .emit(&mut f[14..])
        .unwrap();
        f[54..].copy_from_slice(icmp);
        f
    }

    fn ns_bytes(target: Ipv6Addr, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let opts = [NdOption::SourceLinkAddr(MAC)];
        let msg = Message::NeighborSolicit(NeighborSolicit {
            target,
            options: Options::from_list(&opts),
        });
        let mut b = vec![0u8; msg.buffer_len()];
        msg.emit(&src, &dst, &mut b).unwrap();
        b
    }

    #[test]
    fn ns_decodes_with_its_option() {
        let (src, dst) = (ASKER, GROUP);
        let target: Ipv6Addr = "2001:db8:2::42".parse().unwrap();
        let mut icmp = ns_bytes(target, src, dst);
        let f = frame(src, dst, 255, &mut icmp);
        let d = decode(&f).unwrap();
        let v = to_json(&d);
        assert_eq!(v["type"], "ns");
        assert_eq!(v["target"], "2001:db8:2::42");
        assert_eq!(v["src"], "fe80::1");
        assert_eq!(v["options"][0]["type"], "slla");
        assert_eq!(v["options"][0]["mac"], "02:00:00:00:00:01");
        assert!(v.get("invalid").is_none());
        let t = to_text(&d);
        assert!(
            t.starts_with(
                "fe80::1 > ff02::1:ff00:42: neighbor solicitation, who has 2001:db8:2::42"
            ),
            "{t}"
        );
        assert!(
            t.contains("\n    source link-layer address 02:00:00:00:00:01"),
            "{t}"
        );
    }

    #[test]
    fn typed_errors_are_shown() {
        let (src, dst) = (ASKER, GROUP);
        let mut icmp = ns_bytes("2001:db8::42".parse().unwrap(), src, dst);
        let mut f = frame(src, dst, 255, &mut icmp);
        // Break the checksum.
        let last = f.len() - 1;
        f[last] ^= 0xff;
        let v = to_json(&decode(&f).unwrap());
        assert_eq!(v["error"], "bad_checksum");
        assert_eq!(v["type"], "ns");
        assert_eq!(v["icmp_type"], 135);
        assert!(to_text(&decode(&f).unwrap()).ends_with("[malformed: bad_checksum]"));

        // A hop limit of 64: well formed, but breaks RFC 4861 §7.1.1.
        let mut icmp = ns_bytes("2001:db8::42".parse().unwrap(), src, dst);
        let f = frame(src, dst, 64, &mut icmp);
        let v = to_json(&decode(&f).unwrap());
        assert_eq!(v["invalid"], "hop_limit");

        // An option of length zero (RFC 4861 §4.6) makes the whole
        // message malformed.
        let mut icmp = ns_bytes("2001:db8::42".parse().unwrap(), src, dst);
        icmp[25] = 0;
        let f = frame(src, dst, 255, &mut icmp);
        assert_eq!(to_json(&decode(&f).unwrap())["error"], "option_length_zero");

        // A truncated IPv6 header.
        let f = frame(
            src,
            dst,
            255,
            &mut ns_bytes("2001:db8::42".parse().unwrap(), src, dst),
        );
        let v = to_json(&decode(&f[..30]).unwrap());
        assert_eq!(v["layer"], "ipv6");
        assert_eq!(v["error"], "truncated");
    }

    #[test]
    fn other_traffic_is_not_shown() {
        let (src, dst) = ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap());
        // Echo Request.
        let mut echo = [128u8, 0, 0, 0, 0, 1, 0, 1];
        assert!(decode(&frame(src, dst, 64, &mut echo)).is_none());
        // IPv4.
        let mut f = frame(src, dst, 64, &mut echo);
        f[12] = 0x08;
        f[13] = 0x00;
        assert!(decode(&f).is_none());
        assert!(decode(&[]).is_none());
    }

    /// Random bytes after an Ethernet + IPv6 + ICMPv6 start (so that
    /// they reach the codec), every length up to 200: never a panic,
    /// always an answer (`ndp listen` reads whatever the link carries).
    #[test]
    fn random_frames_decode_without_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut decoded = 0;
        for i in 0..50_000 {
            let len = 54 + (next() % 150) as usize;
            let mut f: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            f[12] = 0x86;
            f[13] = 0xdd;
            f[14] = 0x60;
            f[20] = if i % 4 == 0 { 0 } else { 58 };
            let payload = (len - 54) as u16;
            f[18..20].copy_from_slice(&payload.to_be_bytes());
            f[54 % len] = [133u8, 134, 135, 136, 137, 130, 131, 143][i % 8];
            if let Some(d) = decode(&f) {
                decoded += 1;
                assert!(!to_text(&d).is_empty());
                assert!(to_json(&d).is_object());
            }
        }
        assert!(decoded > 10_000, "only {decoded} frames reached the codec");
    }

    #[test]
    fn every_prefix_of_a_frame_decodes_without_panic() {
        let (src, dst) = (ASKER, GROUP);
        let mut icmp = ns_bytes("2001:db8::42".parse().unwrap(), src, dst);
        let f = frame(src, dst, 255, &mut icmp);
        for n in 0..=f.len() {
            if let Some(d) = decode(&f[..n]) {
                let _ = to_text(&d);
                assert!(to_json(&d).is_object());
            }
        }
    }
}
