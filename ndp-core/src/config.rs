//! Engine configuration: identity, seed and tunables.

use crate::addr::iid::IidMode;
use crate::time::Duration;
use crate::wire::MacAddr;

/// How a [`crate::Stack`] is set up. Start from [`Config::stable`] (RFC
/// 7217 identifiers, with the `stable-iid` feature) or [`Config::eui64`]
/// (identifiers from the MAC), which say how the interface identifiers
/// are formed, and change the fields you need; every other field has an
/// RFC default.
///
/// ```
/// use ndp_core::{Config, time::Duration, wire::MacAddr};
/// # fn hardware_rng() -> u64 { 0x1234 }
/// let mut config = Config::eui64(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x42]), hardware_rng());
/// config.queue_per_neighbor = 1;
/// assert_eq!(config.retrans_timer, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The interface's Ethernet address.
    pub mac: MacAddr,
    /// RFC 7217's secret_key: 16 random bytes chosen once per device and
    /// persisted (flash, or a unique ID hashed with a salt). The same
    /// secret gives the same addresses on the same network after every
    /// boot; a different one gives different addresses.
    pub secret: [u8; 16],
    /// How interface identifiers are formed: as the constructor chose
    /// ([`Config::stable`] or [`Config::eui64`]).
    pub iid_mode: IidMode,
    /// Optimistic DAD (RFC 4429): new addresses are usable at once while
    /// DAD runs. On by default. With the `optimistic-dad` feature; without
    /// it every new address is tentative until its DAD passes.
    #[cfg(feature = "optimistic-dad")]
    pub optimistic_dad: bool,
    /// DupAddrDetectTransmits (RFC 4862 §5.1): probes per address; 0
    /// turns DAD off. Default 1.
    pub dad_transmits: u8,
    /// How many times a looped-back DAD probe may extend DAD by three
    /// probes (RFC 7527 §4.1). RFC 7527 probes for as long as probes come
    /// back (set `u8::MAX` for that); the default, 2, assigns the address
    /// after at most 1 + 6 probes on a link that loops multicast back.
    pub dad_loopback_extensions: u8,
    /// Unsolicited Neighbor Advertisements to ff02::2 for each new global
    /// address (RFC 9131); 0 turns them off. Default 3
    /// (MAX_NEIGHBOR_ADVERTISEMENT). With the `gratuitous-na` feature;
    /// without it none are sent, and routers learn a new address when
    /// they first resolve it.
    #[cfg(feature = "gratuitous-na")]
    pub gratuitous_na: u8,
    /// Seed of the engine's PRNG: its random delays and its DAD nonces
    /// (RFC 7527). It must differ between devices and between boots: take
    /// it from a hardware RNG, or, without one, hash a unique chip ID with
    /// a boot counter kept in flash or with a free-running timer's value
    /// at the first received frame. Two devices with the same MAC (cloned
    /// firmware images) and the same seed send the same nonces, each takes
    /// the other's DAD probes for its own looped back, and both keep the
    /// same addresses: DAD cannot detect them. The simulator and the tests
    /// fix it to make runs reproducible.
    pub seed: u64,
    /// RetransTimer until a router advertises one (RFC 4861 §10).
    pub retrans_timer: Duration,
    /// BaseReachableTime until a router advertises one (RFC 4861 §10).
    pub base_reachable_time: Duration,
    /// Packets queued per neighbor awaiting address resolution; when full
    /// the oldest is replaced (RFC 4861 §7.2.2). Default 2.
    pub queue_per_neighbor: usize,
    /// Most neighbor entries that may be INCOMPLETE at once, so unresolved
    /// destinations cannot crowd out working ones (RFC 6583 §6). `None`
    /// means half the table.
    pub max_incomplete: Option<usize>,
    /// Budget for multicast Neighbor Solicitations across all targets
    /// (RFC 6583 §6): a burst of this many ...
    pub ns_burst: u16,
    /// ... refilled by one every this long. Default 8 and 125 ms
    /// (8 per second sustained).
    pub ns_refill: Duration,
    /// The link's largest MTU: 1500 for Ethernet (RFC 2464 §2). An MTU
    /// option above it (or below 1280) is ignored (RFC 4861 §6.3.4).
    pub link_mtu: u16,
    /// Send Router Solicitations (RFC 4861 §6.3.7) and retransmit them
    /// until a router answers (RFC 7559). On by default, as RFC 7559 §3
    /// requires of such a switch; off, the host waits for unsolicited
    /// advertisements.
    pub router_solicitations: bool,
}

impl Config {
    /// Defaults for an interface with this MAC whose interface
    /// identifiers are [RFC 7217] stable ones, keyed with `secret` (see
    /// [`Config::secret`]: 16 random bytes chosen once per device and
    /// kept), with the PRNG seeded by `seed` (see [`Config::seed`]). With
    /// the `stable-iid` feature.
    ///
    /// ```
    /// use ndp_core::{Config, addr::iid::IidMode, wire::MacAddr};
    /// # fn from_flash() -> [u8; 16] { *b"0123456789abcdef" }
    /// let config = Config::stable(MacAddr([0x02, 0, 0x5e, 0, 0x53, 0x42]), 7, from_flash());
    /// assert_eq!(config.iid_mode, IidMode::Stable);
    /// ```
    ///
    /// [RFC 7217]: https://www.rfc-editor.org/rfc/rfc7217
    #[cfg(feature = "stable-iid")]
    pub fn stable(mac: MacAddr, seed: u64, secret: [u8; 16]) -> Self {
        Self::defaults(mac, seed, IidMode::Stable, secret)
    }

    /// Defaults for an interface with this MAC whose interface
    /// identifiers are its modified EUI-64 ([RFC 4291] Appendix A: the
    /// same identifier on every network, so the device can be followed
    /// from one to the next), with the PRNG seeded by `seed` (see
    /// [`Config::seed`]). Available in every build.
    ///
    /// [RFC 4291]: https://www.rfc-editor.org/rfc/rfc4291
    pub fn eui64(mac: MacAddr, seed: u64) -> Self {
        Self::defaults(mac, seed, IidMode::Eui64, [0; 16])
    }

    fn defaults(mac: MacAddr, seed: u64, iid_mode: IidMode, secret: [u8; 16]) -> Self {
        Config {
            mac,
            secret,
            iid_mode,
            #[cfg(feature = "optimistic-dad")]
            optimistic_dad: true,
            dad_transmits: 1,
            #[cfg(feature = "gratuitous-na")]
            gratuitous_na: crate::addr::MAX_NEIGHBOR_ADVERTISEMENT,
            dad_loopback_extensions: crate::addr::MAX_DAD_EXTENSIONS,
            seed,
            retrans_timer: crate::neighbor::RETRANS_TIMER,
            base_reachable_time: crate::neighbor::REACHABLE_TIME,
            queue_per_neighbor: 2,
            max_incomplete: None,
            ns_burst: 8,
            ns_refill: Duration::from_millis(125),
            link_mtu: 1500,
            router_solicitations: true,
        }
    }

    /// New addresses may be optimistic ([RFC 4429]): the `optimistic-dad`
    /// feature and [`Config::optimistic_dad`]; always false without the
    /// feature, so the compiler leaves out what only optimistic addresses
    /// need.
    ///
    /// [RFC 4429]: https://www.rfc-editor.org/rfc/rfc4429
    #[inline]
    pub(crate) fn optimistic(&self) -> bool {
        #[cfg(feature = "optimistic-dad")]
        return self.optimistic_dad;
        #[cfg(not(feature = "optimistic-dad"))]
        return false;
    }

    /// Gratuitous advertisements per new global address ([RFC 9131]):
    /// [`Config::gratuitous_na`], or none without the `gratuitous-na`
    /// feature.
    ///
    /// [RFC 9131]: https://www.rfc-editor.org/rfc/rfc9131
    #[inline]
    pub(crate) fn announcements(&self) -> u8 {
        #[cfg(feature = "gratuitous-na")]
        return self.gratuitous_na;
        #[cfg(not(feature = "gratuitous-na"))]
        return 0;
    }
}
