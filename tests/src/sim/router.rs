//! A scripted router built on the wire codec: it sends Router
//! Advertisements from a [`RouterConfig`], unsolicited every interval and
//! in answer to Router Solicitations, and answers Neighbor Solicitations
//! and pings for its own addresses like a [`ScriptedHost`].

use core::net::Ipv6Addr;

use ndp_core::time::{Duration, Instant};
use ndp_core::wire::{
    Lifetime, MacAddr, Message, MulticastAddr, NdOption, Options, Preference, PrefixInfo,
    RouterAdvert, parse_received,
};

use super::Node;
use super::host::ScriptedHost;
use crate::packet::{self, ND_HOP_LIMIT};

/// What a [`ScriptedRouter`] advertises, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Cur Hop Limit field (0: unspecified).
    pub cur_hop_limit: u8,
    /// M flag.
    pub managed: bool,
    /// O flag.
    pub other_config: bool,
    /// Default router preference (RFC 4191).
    pub preference: Preference,
    /// Router Lifetime in seconds (0: not a default router).
    pub router_lifetime: u16,
    /// Reachable Time in milliseconds (0: unspecified).
    pub reachable_time: u32,
    /// Retrans Timer in milliseconds (0: unspecified).
    pub retrans_timer: u32,
    /// Prefix Information options, in order.
    pub prefixes: Vec<PrefixInfo>,
    /// MTU option, if any.
    pub mtu: Option<u32>,
    /// Whether to include the Source Link-Layer Address option.
    pub source_link_addr: bool,
    /// Period of unsolicited advertisements (`None`: only solicited ones),
    /// read when the router starts and after each unsolicited
    /// advertisement. Values below 1 ms count as 1 ms.
    pub interval: Option<Duration>,
    /// Send the first unsolicited advertisement when the router starts
    /// (its first poll) rather than one interval later.
    pub advertise_at_start: bool,
    /// Delay from a Router Solicitation to the advertisement answering it.
    pub solicited_delay: Duration,
}

/// `2001:db8:1::/64`, the prefix of [`RouterConfig::default`].
pub const DEFAULT_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);

impl Default for RouterConfig {
    /// Hop limit 64, lifetime 1800 s, one prefix 2001:db8:1::/64 (L=1,
    /// A=1, valid 86400 s, preferred 14400 s), SLLA, no MTU, unsolicited
    /// every 200 s starting at once, solicited answers without delay.
    fn default() -> Self {
        RouterConfig {
            cur_hop_limit: 64,
            managed: false,
            other_config: false,
            preference: Preference::Medium,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_timer: 0,
            prefixes: vec![PrefixInfo {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: Lifetime::Finite(86_400),
                preferred_lifetime: Lifetime::Finite(14_400),
                prefix: DEFAULT_PREFIX,
            }],
            mtu: None,
            source_link_addr: true,
            interval: Some(Duration::from_secs(200)),
            advertise_at_start: true,
            solicited_delay: Duration::ZERO,
        }
    }
}

/// A router on the segment: link-local address from its MAC, member of
/// ff02::2, advertising [`RouterConfig`] to ff02::1.
///
/// The configuration can change between runs ([`ScriptedRouter::config_mut`],
/// e.g. lifetime 0 to retire the router); the next advertisement carries
/// it, and [`ScriptedRouter::advertise_now`] sends one at once.
#[derive(Debug, Clone)]
pub struct ScriptedRouter {
    host: ScriptedHost,
    config: RouterConfig,
    started: bool,
    next_unsolicited: Option<Instant>,
    solicited_due: Option<Instant>,
    ras_sent: u64,
    rs_received: u64,
}

impl ScriptedRouter {
    /// A router with this MAC and configuration.
    pub fn new(mac: MacAddr, config: RouterConfig) -> Self {
        let mut host = ScriptedHost::new(mac);
        host.join(MulticastAddr::ALL_ROUTERS.get());
        host.set_router_flag(true);
        ScriptedRouter {
            host,
            config,
            started: false,
            next_unsolicited: None,
            solicited_due: None,
            ras_sent: 0,
            rs_received: 0,
        }
    }

    /// The link-local address its advertisements come from.
    pub fn link_local(&self) -> Ipv6Addr {
        self.host.link_local()
    }

    /// The configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Change the configuration; later advertisements use it.
    pub fn config_mut(&mut self) -> &mut RouterConfig {
        &mut self.config
    }

    /// A silent router sends no advertisements and ignores every frame.
    pub fn set_silent(&mut self, silent: bool) {
        self.host.set_silent(silent);
    }

    /// The host part: inbox, extra addresses, NS answering.
    pub fn host(&self) -> &ScriptedHost {
        &self.host
    }

    /// The host part, to change.
    pub fn host_mut(&mut self) -> &mut ScriptedHost {
        &mut self.host
    }

    /// Advertisements sent so far.
    pub fn ras_sent(&self) -> u64 {
        self.ras_sent
    }

    /// Valid Router Solicitations received so far.
    pub fn rs_received(&self) -> u64 {
        self.rs_received
    }

    /// Send an advertisement on the next poll (e.g. after changing the
    /// configuration).
    pub fn advertise_now(&mut self) {
        self.solicited_due = Some(Instant::ZERO);
    }

    /// The advertisement frame for the current configuration.
    pub fn ra_frame(&self) -> Vec<u8> {
        let c = &self.config;
        let mac = self.host.mac();
        let mut opts = Vec::new();
        if c.source_link_addr {
            opts.push(NdOption::SourceLinkAddr(mac));
        }
        if let Some(mtu) = c.mtu {
            opts.push(NdOption::Mtu(mtu));
        }
        opts.extend(c.prefixes.iter().map(|p| NdOption::PrefixInfo(*p)));
        let ra = Message::RouterAdvert(RouterAdvert {
            cur_hop_limit: c.cur_hop_limit,
            managed: c.managed,
            other_config: c.other_config,
            preference: c.preference,
            router_lifetime: c.router_lifetime,
            reachable_time: c.reachable_time,
            retrans_timer: c.retrans_timer,
            options: Options::from_list(&opts),
        });
        let dst = MulticastAddr::ALL_NODES;
        packet::icmpv6_frame(
            mac,
            dst.mac(),
            self.link_local(),
            dst.get(),
            ND_HOP_LIMIT,
            &ra,
        )
    }

    fn interval(&self) -> Option<Duration> {
        self.config
            .interval
            .map(|i| i.max(Duration::from_millis(1)))
    }

    /// An advertisement if one is due: solicited first, then unsolicited.
    /// Timers run on while silent, but nothing is sent.
    fn due_ra(&mut self, now: Instant) -> Option<Vec<u8>> {
        let solicited = self.solicited_due.is_some_and(|t| t <= now);
        let unsolicited = self.next_unsolicited.is_some_and(|t| t <= now);
        if solicited {
            self.solicited_due = None;
        } else if unsolicited {
            self.next_unsolicited = self.interval().map(|i| now + i);
        } else {
            return None;
        }
        if self.host.is_silent() {
            return None;
        }
        self.ras_sent += 1;
        Some(self.ra_frame())
    }
}

impl Node for ScriptedRouter {
    fn mac(&self) -> MacAddr {
        self.host.mac()
    }

    fn receive(&mut self, now: Instant, frame: &[u8]) {
        let Some(f) = self.host.handle(now, frame) else {
            return;
        };
        let Some(icmp) = f.icmpv6().filter(|_| !f.fragmented) else {
            return;
        };
        let meta = ndp_core::wire::IpMeta {
            src: f.src,
            dst: f.dst,
            hop_limit: f.hop_limit,
        };
        if let Ok(Message::RouterSolicit(_)) = parse_received(&meta, icmp) {
            self.rs_received += 1;
            if self.solicited_due.is_none() {
                self.solicited_due = Some(now + self.config.solicited_delay);
            }
        }
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if !self.started {
            self.started = true;
            self.next_unsolicited = self.interval().map(|i| {
                if self.config.advertise_at_start {
                    now
                } else {
                    now + i
                }
            });
        }
        if let Some(f) = self.host.pop_due(now) {
            return Some(f);
        }
        // Loop so that a timer that fired while silent does not leave the
        // other one due.
        while self.solicited_due.is_some_and(|t| t <= now)
            || self.next_unsolicited.is_some_and(|t| t <= now)
        {
            if let Some(ra) = self.due_ra(now) {
                return Some(ra);
            }
        }
        None
    }

    fn poll_at(&self) -> Option<Instant> {
        if !self.started {
            return Some(Instant::ZERO);
        }
        [
            self.host.next_due(),
            self.solicited_due,
            self.next_unsolicited,
        ]
        .into_iter()
        .flatten()
        .reduce(Instant::earlier)
    }
}
