//! THC-IPv6's parasite6 and dos-new-ip6 as one simulator node: it
//! answers Neighbor Solicitations it hears with advertisements for the
//! target carrying its own MAC, O=1. Address resolution and NUD probes
//! get a solicited answer to their sender (parasite6); DAD probes get an
//! answer to all-nodes, which makes the probed address a duplicate
//! (dos-new-ip6, and parasite6 with its DAD option).

use core::net::Ipv6Addr;
use std::collections::VecDeque;

use ndp_core::time::Instant;
use ndp_core::wire::{
    MacAddr, Message, MulticastAddr, NdOption, NeighborAdvert, Options, is_link_local,
    parse_received,
};

use super::Node;
use crate::packet::{self, ND_HOP_LIMIT};

/// See the [module documentation](self).
pub struct Parasite {
    mac: MacAddr,
    /// Answer address resolution and NUD probes.
    pub resolution: bool,
    /// Answer DAD probes for global addresses.
    pub dad: bool,
    /// Answer DAD probes for link-local addresses too (with `dad`).
    pub dad_link_local: bool,
    /// Stop answering at this instant (`None`: never).
    pub until: Option<Instant>,
    /// Solicitations answered so far.
    pub answered: u32,
    out: VecDeque<Vec<u8>>,
}

impl Parasite {
    /// An attacker at `mac` that answers nothing until told what to.
    pub fn new(mac: MacAddr) -> Self {
        Parasite {
            mac,
            resolution: false,
            dad: false,
            dad_link_local: true,
            until: None,
            answered: 0,
            out: VecDeque::new(),
        }
    }

    /// Answer address resolution and NUD probes (parasite6).
    pub fn answering_resolution(mut self) -> Self {
        self.resolution = true;
        self
    }

    /// Answer DAD probes for global addresses, and for link-local ones
    /// too with `link_local` (dos-new-ip6).
    pub fn answering_dad(mut self, link_local: bool) -> Self {
        self.dad = true;
        self.dad_link_local = link_local;
        self
    }

    /// Stop answering at `t`.
    pub fn until(mut self, t: Instant) -> Self {
        self.until = Some(t);
        self
    }
}

/// A Neighbor Advertisement for `target` from `mac` (spoofing `target`
/// as the source) to `dst` at `dst_mac`, with flags R, S, O.
pub fn na_frame(
    mac: MacAddr,
    dst_mac: MacAddr,
    dst: Ipv6Addr,
    target: Ipv6Addr,
    (router, solicited, override_flag): (bool, bool, bool),
) -> Vec<u8> {
    let opts = [NdOption::TargetLinkAddr(mac)];
    let na = Message::NeighborAdvert(NeighborAdvert {
        router_flag: router,
        solicited_flag: solicited,
        override_flag,
        target,
        options: Options::from_list(&opts),
    });
    packet::icmpv6_frame(mac, dst_mac, target, dst, ND_HOP_LIMIT, &na)
}

impl Node for Parasite {
    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn receive(&mut self, now: Instant, bytes: &[u8]) {
        if self.until.is_some_and(|t| now >= t) {
            return;
        }
        let Some(f) = packet::parse_icmpv6(bytes) else {
            return;
        };
        let Ok(Message::NeighborSolicit(ns)) = parse_received(&f.meta, f.icmp) else {
            return;
        };
        let dad = f.meta.src.is_unspecified();
        if dad && self.dad && (self.dad_link_local || !is_link_local(&ns.target)) {
            let all = MulticastAddr::ALL_NODES;
            self.out.push_back(na_frame(
                self.mac,
                all.mac(),
                all.get(),
                ns.target,
                (false, false, true),
            ));
        } else if !dad && self.resolution {
            let to = ns.options.source_link_addr().unwrap_or(f.src_mac);
            self.out.push_back(na_frame(
                self.mac,
                to,
                f.meta.src,
                ns.target,
                (false, true, true),
            ));
        } else {
            return;
        }
        self.answered += 1;
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    fn poll_at(&self) -> Option<Instant> {
        None
    }
}
