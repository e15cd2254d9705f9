//! The ARP guard: which ARP messages reach the host stack's neighbor
//! cache.
//!
//! smoltcp (under ndp-smoltcp, and inside embassy-net) fills its neighbor
//! cache, which ARP shares with the one IPv6 entry the adapters keep
//! taught, from every ARP request or reply aimed at its address, and
//! evicts the entry closest to expiry when the cache is full. A flood of
//! ARP messages from made-up senders would push the IPv4 gateway, and
//! that IPv6 entry, out again and again. The guard keeps the cache for
//! the hosts smoltcp talks to:
//!
//! - replies reach smoltcp only when smoltcp asked for that address in
//!   the last [`ARP_PENDING_TIME`] (up to [`ARP_PENDING`] questions at
//!   once); other replies are dropped ([RFC 826] lets a host merge only
//!   senders it is interested in);
//! - requests for our address reach smoltcp (which learns the sender, as
//!   [RFC 826] suggests, and answers) at [`ARP_LEARN_BURST`] at once and
//!   then one per [`ARP_LEARN_REFILL`]. Beyond that the adapter answers
//!   them itself without learning the sender, so a host asking during a
//!   flood still gets its answer; smoltcp asks for that host itself when
//!   it first has something to send it;
//! - messages that are malformed, not Ethernet/IPv4, from a group or
//!   zero sender, or not for one of our addresses are dropped and counted.
//!
//! [RFC 826]: https://www.rfc-editor.org/rfc/rfc826

use core::net::Ipv4Addr;

use crate::time::{Duration, Instant};
use crate::wire::MacAddr;

/// Length of an Ethernet/IPv4 ARP message ([RFC 826]).
///
/// [RFC 826]: https://www.rfc-editor.org/rfc/rfc826
pub const ARP_LEN: usize = 28;
/// Questions smoltcp asked whose answers are awaited.
pub const ARP_PENDING: usize = 4;
/// How long an answer to smoltcp's question is awaited. smoltcp asks
/// again after a second.
pub const ARP_PENDING_TIME: Duration = Duration::from_millis(3000);
/// ARP requests smoltcp may learn from at once.
pub const ARP_LEARN_BURST: u16 = 4;
/// Then one more per this.
pub const ARP_LEARN_REFILL: Duration = Duration::from_millis(2000);

/// An Ethernet/IPv4 ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Arp {
    /// A request (operation 1); else a reply (2).
    pub request: bool,
    /// The sender's hardware address.
    pub sender_mac: MacAddr,
    /// The sender's IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// The IPv4 address asked for (request) or answered to (reply).
    pub target_ip: Ipv4Addr,
}

fn field<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
}

impl Arp {
    /// An Ethernet/IPv4 request or reply, or `None`.
    pub fn parse(b: &[u8]) -> Option<Arp> {
        // RFC 826: hardware type 1 (Ethernet), protocol 0x0800, lengths
        // 6 and 4; operation 1 (request) or 2 (reply).
        let head: [u8; 8] = field(b, 0)?;
        let request = match head {
            [0, 1, 8, 0, 6, 4, 0, 1] => true,
            [0, 1, 8, 0, 6, 4, 0, 2] => false,
            _ => return None,
        };
        Some(Arp {
            request,
            sender_mac: MacAddr(field(b, 8)?),
            sender_ip: Ipv4Addr::from(field::<4>(b, 14)?),
            target_ip: Ipv4Addr::from(field::<4>(b, 24)?),
        })
    }

    /// A request from `mac` at `ip` for `target`'s hardware address.
    pub fn request(mac: MacAddr, ip: Ipv4Addr, target: Ipv4Addr) -> [u8; ARP_LEN] {
        Arp {
            request: true,
            sender_mac: mac,
            sender_ip: ip,
            target_ip: target,
        }
        .emit([0; 6])
    }

    /// The reply to this request from `mac`.
    pub fn reply(&self, mac: MacAddr) -> [u8; ARP_LEN] {
        Arp {
            request: false,
            sender_mac: mac,
            sender_ip: self.target_ip,
            target_ip: self.sender_ip,
        }
        .emit(self.sender_mac.0)
    }

    /// The message on the wire, with `target_mac` as the target hardware
    /// address (zero in a request, RFC 826).
    pub fn emit(&self, target_mac: [u8; 6]) -> [u8; ARP_LEN] {
        let mut out = [0u8; ARP_LEN];
        let op = if self.request { 1 } else { 2 };
        let parts: [&[u8]; 5] = [
            &[0, 1, 8, 0, 6, 4, 0, op],
            &self.sender_mac.0,
            &self.sender_ip.octets(),
            &target_mac,
            &self.target_ip.octets(),
        ];
        let mut at: usize = 0;
        for p in parts {
            let end = at.saturating_add(p.len());
            if let Some(dst) = out.get_mut(at..end) {
                dst.copy_from_slice(p);
            }
            at = end;
        }
        out
    }
}

/// What to do with a received ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// Hand it to the host stack.
    Pass,
    /// Answer it here ([`Arp::reply`]), without the host stack.
    Answer,
    /// Drop it: not for us.
    NotForUs,
    /// Drop it: a reply nobody asked for.
    Unsolicited,
    /// Drop it: a group, broadcast or zero sender.
    BadSender,
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ArpGuard {
    /// smoltcp's open questions: (address, asked at).
    pending: [Option<(Ipv4Addr, Instant)>; ARP_PENDING],
    tokens: u16,
    refilled: Instant,
}

impl ArpGuard {
    /// A guard with a full burst and no open questions.
    pub fn new(now: Instant) -> Self {
        ArpGuard {
            pending: [None; ARP_PENDING],
            tokens: ARP_LEARN_BURST,
            refilled: now,
        }
    }

    /// The host stack sent a request for `ip`: its answer may pass.
    pub fn asked(&mut self, ip: Ipv4Addr, now: Instant) {
        let slot = self
            .pending
            .iter()
            .position(|p| p.is_some_and(|(a, _)| a == ip))
            .or_else(|| self.pending.iter().position(Option::is_none))
            .or_else(|| {
                // The oldest question makes room (ages modulo 2^32 ms).
                (0..ARP_PENDING).max_by_key(|&i| {
                    self.pending
                        .get(i)
                        .copied()
                        .flatten()
                        .map_or(u32::MAX, |(_, at)| {
                            now.wrapping_duration_since(at).as_millis()
                        })
                })
            });
        if let Some(p) = slot.and_then(|i| self.pending.get_mut(i)) {
            *p = Some((ip, now));
        }
    }

    /// Decide on a received `arp`; `ours` says whether an address is one
    /// of the host stack's.
    pub fn check(&mut self, arp: &Arp, ours: impl Fn(Ipv4Addr) -> bool, now: Instant) -> Verdict {
        if !ours(arp.target_ip) {
            return Verdict::NotForUs;
        }
        let ip = arp.sender_ip;
        if arp.sender_mac.is_multicast()
            || arp.sender_mac == MacAddr([0; 6])
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_multicast()
        {
            return Verdict::BadSender;
        }
        if !arp.request {
            let waiting = self.pending.iter_mut().find(|p| {
                p.is_some_and(|(a, at)| {
                    a == ip && now.wrapping_duration_since(at) <= ARP_PENDING_TIME
                })
            });
            return match waiting {
                Some(p) => {
                    *p = None;
                    Verdict::Pass
                }
                None => Verdict::Unsolicited,
            };
        }
        if self.take_token(now) {
            Verdict::Pass
        } else {
            Verdict::Answer
        }
    }

    fn take_token(&mut self, now: Instant) -> bool {
        let step = ARP_LEARN_REFILL.as_millis();
        let earned = now
            .wrapping_duration_since(self.refilled)
            .as_millis()
            .checked_div(step)
            .unwrap_or(0);
        if earned > 0 {
            let earned16 = u16::try_from(earned).unwrap_or(u16::MAX);
            self.tokens = self.tokens.saturating_add(earned16).min(ARP_LEARN_BURST);
            self.refilled = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens = self.tokens.saturating_sub(1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PEER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    fn ours(a: Ipv4Addr) -> bool {
        a == OURS
    }

    fn t(ms: u32) -> Instant {
        Instant::from_millis(ms)
    }

    fn msg(request: bool, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Arp {
        Arp {
            request,
            sender_mac: PEER_MAC,
            sender_ip,
            target_ip,
        }
    }

    #[test]
    fn parse_takes_ethernet_ipv4_requests_and_replies_only() {
        let req = msg(true, PEER, OURS);
        let bytes = {
            let mut b = req.reply(MacAddr([2, 0, 0, 0, 0, 9]));
            b[7] = 1; // make it a request again
            b
        };
        let back = Arp::parse(&bytes).unwrap();
        assert!(back.request);
        assert_eq!(back.sender_ip, OURS);
        assert_eq!(back.target_ip, PEER);
        assert_eq!(back.sender_mac, MacAddr([2, 0, 0, 0, 0, 9]));
        assert!(Arp::parse(&bytes[..27]).is_none(), "truncated");
        for (i, v) in [(1, 6), (3, 0xdd), (4, 8), (5, 16), (7, 3)] {
            let mut b = bytes;
            b[i] = v;
            assert!(Arp::parse(&b).is_none(), "byte {i} = {v}");
        }
    }

    #[test]
    fn a_request_asks_for_the_target_with_a_zero_target_mac() {
        let ours = MacAddr([2, 0, 0, 0, 0, 9]);
        let b = Arp::request(ours, OURS, PEER);
        assert_eq!(&b[18..24], &[0; 6]);
        assert_eq!(
            Arp::parse(&b).unwrap(),
            Arp {
                request: true,
                sender_mac: ours,
                sender_ip: OURS,
                target_ip: PEER,
            }
        );
    }

    #[test]
    fn the_reply_swaps_sender_and_target_and_carries_our_mac() {
        // RFC 826: the answer goes to the asker with our hardware address
        // as the sender's.
        let ours = MacAddr([2, 0, 0, 0, 0, 9]);
        let r = Arp::parse(&msg(true, PEER, OURS).reply(ours)).unwrap();
        assert_eq!(
            r,
            Arp {
                request: false,
                sender_mac: ours,
                sender_ip: OURS,
                target_ip: PEER,
            }
        );
    }

    #[test]
    fn only_replies_to_our_own_questions_reach_smoltcp() {
        let mut g = ArpGuard::new(t(0));
        let reply = msg(false, PEER, OURS);
        assert_eq!(g.check(&reply, ours, t(0)), Verdict::Unsolicited);
        g.asked(PEER, t(10));
        assert_eq!(g.check(&reply, ours, t(20)), Verdict::Pass);
        assert_eq!(
            g.check(&reply, ours, t(30)),
            Verdict::Unsolicited,
            "answered once"
        );
        g.asked(PEER, t(100));
        let late = t(100) + ARP_PENDING_TIME + Duration::from_millis(1);
        assert_eq!(
            g.check(&reply, ours, late),
            Verdict::Unsolicited,
            "too late"
        );
    }

    #[test]
    fn pending_questions_are_bounded_and_the_oldest_makes_room() {
        let mut g = ArpGuard::new(t(0));
        for i in 0..=ARP_PENDING as u8 {
            g.asked(Ipv4Addr::new(192, 0, 2, 100 + i), t(u32::from(i)));
        }
        let reply = |ip| msg(false, ip, OURS);
        assert_eq!(
            g.check(&reply(Ipv4Addr::new(192, 0, 2, 100)), ours, t(10)),
            Verdict::Unsolicited
        );
        let newest = Ipv4Addr::new(192, 0, 2, 100 + ARP_PENDING as u8);
        assert_eq!(g.check(&reply(newest), ours, t(10)), Verdict::Pass);
    }

    #[test]
    fn requests_beyond_the_learning_budget_are_answered_here() {
        let mut g = ArpGuard::new(t(0));
        let req = msg(true, PEER, OURS);
        for _ in 0..ARP_LEARN_BURST {
            assert_eq!(g.check(&req, ours, t(0)), Verdict::Pass);
        }
        assert_eq!(g.check(&req, ours, t(1)), Verdict::Answer);
        let later = t(1) + ARP_LEARN_REFILL;
        assert_eq!(g.check(&req, ours, later), Verdict::Pass);
        assert_eq!(g.check(&req, ours, later), Verdict::Answer);
    }

    #[test]
    fn messages_not_for_us_or_from_bad_senders_are_dropped() {
        let mut g = ArpGuard::new(t(0));
        assert_eq!(
            g.check(&msg(true, PEER, PEER), ours, t(0)),
            Verdict::NotForUs
        );
        assert_eq!(
            g.check(&msg(true, PEER, OURS), |_| false, t(0)),
            Verdict::NotForUs
        );
        for ip in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(224, 0, 0, 1),
        ] {
            assert_eq!(
                g.check(&msg(true, ip, OURS), ours, t(0)),
                Verdict::BadSender
            );
        }
        let mut m = msg(true, PEER, OURS);
        m.sender_mac = MacAddr([0x01, 0, 0x5e, 0, 0, 1]);
        assert_eq!(g.check(&m, ours, t(0)), Verdict::BadSender);
    }
}
