//! Stateful fuzzing: drive one [`Stack`] with an arbitrary sequence of
//! received messages, time steps, `route`/`send` calls, upper-layer
//! reachability hints, `link_up`, event reads and loopbacks of its own
//! output, and check after every step that it holds together.
//!
//! # Checks, after every operation
//!
//! - no panic, and `poll_transmit` runs dry (at most 1,000 packets a poll);
//! - [`Stack::check_invariants`]: caps (INCOMPLETE entries, packets per
//!   neighbor), legal neighbor and address states with fitting timers,
//!   nothing held twice (neighbors, addresses, SLAAC prefixes, groups,
//!   routers, prefixes, routes, destinations, DNS), groups joined for every
//!   address, clamped scalars, `poll_at` never later than a pending timer;
//!   after draining, nothing left due and `poll_at` in the future;
//! - caps, through the public views: every table within the capacity
//!   [`Stack::ram_per_entry`] states, at most that many events queued;
//! - memory is fixed: the engine allocates nothing (a counting global
//!   allocator around every engine call);
//! - no neighbor timer runs early (a drain changes an entry only if its
//!   deadline has come, or if a released packet moved it STALE → DELAY);
//! - every packet the engine sends is a well-formed IPv6 packet, and its
//!   Neighbor Discovery and MLD messages pass a receiver's validation and
//!   are legal for our addresses' states: probes only for tentative or
//!   optimistic addresses, solicitations only from preferred or
//!   deprecated ones (RFC 4429 §3.2), advertisements only for addresses we
//!   may answer for, with O=0 when optimistic (RFC 4429 §3.3), nothing a
//!   host never sends (RA, Redirect);
//! - frames go to a multicast destination's group MAC and to a neighbor's
//!   individual MAC, never a group one (RFC 2464 §7): what
//!   `poll_transmit` sends, what `route` and `send` answer;
//! - `receive` claims exactly the ND and MLD messages; `route` answers
//!   multicast with its group MAC; `generation` moves with every event.
//!
//! # Input layout
//!
//! Three header bytes, then operations until the input ends (an operation
//! cut short by the end is dropped).
//!
//! Header: byte 0, the configuration: bit 0 RFC 7217 stable identifiers
//! (else modified EUI-64), bit 1 optimistic DAD off, bits 2-3
//! DupAddrDetectTransmits (0-3), bit 4 Router Solicitations off, bits 5-6
//! gratuitous advertisements (0-3), bit 7 one queued packet per neighbor
//! (else two). Byte 1, the PRNG seed. Byte 2, the start time, in units of
//! 2^24 ms (4.7 hours), so runs start anywhere on the wrapping clock,
//! close before its wrap included. The MAC is host A's of `captures/linux-radvd.pcap`
//! (02:00:5e:00:53:10), so its EUI-64 link-local address is
//! fe80::5eff:fe00:5310.
//!
//! Each operation is an opcode byte (taken modulo 10) and its arguments:
//!
//! | op | arguments | does |
//! |----|-----------|------|
//! | 0 advance | `t` | time += `t` |
//! | 1 step | `t` | time += `t`, then drain (1500-byte buffer) |
//! | 2 receive | `flags src dst hop target len_hi len_lo body…` | `receive` an ICMPv6 message |
//! | 3 drain | `b` | `poll_transmit` until `None`; buffer 1500 bytes, or `(b & 15) * 80` when `b >= 0xf0`; `handle_timeout` alone (which must write nothing) when `0xe0 <= b < 0xf0` |
//! | 4 route | `dst` | `route(dst)` |
//! | 5 send | `flags src dst len` | `send` an IPv6 packet with `len * 8` payload bytes |
//! | 6 confirm | `addr` | `confirm_reachable(addr)` |
//! | 7 link up | | `link_up` |
//! | 8 events | | `poll_event` until `None` |
//! | 9 loopback | `k` | `receive` our own `k % 4`-th latest transmitted ND/MLD packet back, as a link that loops multicast does |
//!
//! `t` (time code): `c = t >> 6`, `v = t & 63`: c = 0: `v` ms; 1: `v * 100`
//! ms; 2: `v` s; 3: `v * 10` min for `v < 48`, `2^(v - 48)` days (at most
//! 16) for `v < 63`, and 2^31 − 1 ms (24.8 days, the longest step the
//! engine's wrapping clock compares) for 63. The clock is the engine's
//! 32-bit one and wraps every 49.7 days, as a device's does. The caller
//! it models runs the engine's timers within 20 days of their deadline,
//! as the engine requires (see `advance`).
//!
//! Addresses (`src`, `dst`, `target`, `addr`) are one selector byte: 0xff
//! is followed by 16 literal bytes; anything else picks entry `i = s % 32`
//! of a table, resolved when the operation runs: 0-3 our `i % n`-th
//! address (of the `n` we have; 0 is the link-local one), 4-7 the
//! solicited-node group of our `(i - 4) % n`-th address, then from 8 on
//! [`FIXED`]: ::, the all-nodes, all-routers and MLDv2 groups, the nodes
//! of the capture (radvd's router, host B, fe80::99, 2001:db8:1::1, ...),
//! and eight fe80::100+i to fill the neighbor cache.
//!
//! receive `flags`: bit 0 keep the checksum as given (else it is fixed
//! up), bit 1 write the `target` address into bytes 8..24 of the body
//! (the target of an NS, NA or Redirect, an MLD query's group), bits 2-3
//! the frame's source MAC: none, the router's, host B's, ours. `hop` is
//! the IPv6 hop limit; `len` (big-endian) bytes of body follow, or as
//! many as remain.
//!
//! send `flags`: bit 0 a malformed packet (39 bytes), bits 1-2 the next
//! header (UDP, ICMPv6, TCP, No Next Header).
//!
//! Opcode bytes from 240 up are the application's calls instead: 240-247
//! join (even) or leave (odd) the group `addr`; 248-251 add (even) or
//! remove (odd) the static address `addr` with prefix length `len`;
//! 252-255 `len addr` change the ND proxy: add `addr/(len % 129)` as a
//! prefix (252), an allow entry (253) or a deny entry (254), or clear it
//! (255), with the Router flag from `len`'s top bit.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv6Addr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;
use ndp_core::addr::AddrState;
use ndp_core::neighbor::{Neighbor, NeighborState};
use ndp_core::proxy::ProxyRule;
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::ipv6::{Ipv6Header, upper_layer};
use ndp_core::wire::{IpMeta, MacAddr, Message, MessageType, MulticastAddr, icmpv6, is_link_local};
use ndp_core::{Config, Delivery, NextHop, RxMeta, Stack, Stats, Transmit, TransmitKind};

/// Counts every allocation, so a check can prove the engine makes none.
struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Run an engine call and require that it allocated nothing.
fn no_alloc<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let r = f();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(before, after, "{what} allocated memory");
    r
}

const OUR_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x10]);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x01]);
const HOST_B_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x53, 0x20]);

/// The fixed part of the selector table (entries 8 to 31).
const FIXED: [&str; 24] = [
    "::",
    "ff02::1",
    "ff02::2",
    "ff02::16",
    // radvd's router in the capture, and a short router address.
    "fe80::280b:6dff:feee:f2a4",
    "fe80::1",
    // Host B, and the Redirect target that never answers.
    "fe80::5eff:fe00:5320",
    "fe80::99",
    // The router's global address, the redirected destination, a ULA,
    // host B's global address.
    "2001:db8:1::1",
    "2001:db8:99::1",
    "fd00:1234::1",
    "2001:db8:1::5eff:fe00:5320",
    // Enough neighbors to fill the cache.
    "fe80::100",
    "fe80::101",
    "fe80::102",
    "fe80::103",
    "fe80::104",
    "fe80::105",
    "fe80::106",
    "fe80::107",
    // radvd's more-specific route, the router's solicited-node group, a
    // stranger on the first prefix, and host A's address in the capture.
    "2001:db8:ff::1",
    "ff02::1:ffee:f2a4",
    "2001:db8:1::dead",
    "2001:db8:1:0:769:5b2d:89ff:6ff4",
];

fn fixed(i: usize) -> Ipv6Addr {
    static TABLE: OnceLock<Vec<Ipv6Addr>> = OnceLock::new();
    let table = TABLE.get_or_init(|| FIXED.iter().map(|s| s.parse().expect(s)).collect());
    table[i % table.len()]
}

/// Most packets one drain may produce before it counts as not running dry.
const MAX_PER_DRAIN: usize = 1000;

/// Own transmissions kept for the loopback operation.
const LOOPBACK: usize = 4;

fuzz_target!(|data: &[u8]| run(data));

/// An address selector.
#[derive(Debug, Clone, Copy)]
enum Sel {
    Table(u8),
    Literal(Ipv6Addr),
}

#[derive(Debug, Clone)]
enum Op {
    Advance(Duration),
    Step(Duration),
    Receive {
        keep_checksum: bool,
        patch_target: bool,
        src_mac: Option<MacAddr>,
        src: Sel,
        dst: Sel,
        hop_limit: u8,
        target: Sel,
        body: Vec<u8>,
    },
    Drain {
        buf: usize,
    },
    /// `handle_timeout`: the due timers that send nothing.
    Timeout,
    Route(Sel),
    Send {
        malformed: bool,
        next_header: u8,
        src: Sel,
        dst: Sel,
        payload: usize,
    },
    Confirm(Sel),
    LinkUp,
    Events,
    Loopback(usize),
    /// The application joins (or leaves) a multicast group.
    Group {
        join: bool,
        group: Sel,
    },
    /// The application adds (or removes) a static address.
    Static {
        add: bool,
        addr: Sel,
        prefix_len: u8,
    },
    /// The application changes the ND proxy: a prefix, an allow or a
    /// deny entry (`kind` 0, 1, 2: `addr`/`len`), or clears it (3).
    Proxy {
        kind: u8,
        addr: Sel,
        len: u8,
        router: bool,
    },
}

/// The input, read front to back.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn sel(&mut self) -> Option<Sel> {
        match self.byte()? {
            0xff => {
                let b: [u8; 16] = self.bytes(16)?.try_into().ok()?;
                Some(Sel::Literal(Ipv6Addr::from(b)))
            }
            s => Some(Sel::Table(s % 32)),
        }
    }

    fn time(&mut self) -> Option<Duration> {
        let t = self.byte()?;
        let v = u32::from(t & 63);
        Some(match t >> 6 {
            0 => Duration::from_millis(v),
            1 => Duration::from_millis(v * 100),
            2 => Duration::from_secs(v),
            _ if v < 48 => Duration::from_secs(v * 600),
            _ if v < 63 => Duration::from_secs((1 << (v - 48).min(4)) * 86_400),
            _ => Duration::MAX_TIMER,
        })
    }

    fn op(&mut self) -> Option<Op> {
        // 240 and up: the application's calls (older inputs rarely have
        // those bytes, so their ops keep their meaning).
        let b = self.byte()?;
        if b >= 240 {
            return Some(if b < 248 {
                Op::Group {
                    join: b & 1 == 0,
                    group: self.sel()?,
                }
            } else if b < 252 {
                Op::Static {
                    add: b & 1 == 0,
                    addr: self.sel()?,
                    prefix_len: self.byte()?,
                }
            } else {
                let len = self.byte()?;
                Op::Proxy {
                    kind: b & 3,
                    addr: self.sel()?,
                    len: len % 129,
                    router: len & 0x80 != 0,
                }
            });
        }
        Some(match b % 10 {
            0 => Op::Advance(self.time()?),
            1 => Op::Step(self.time()?),
            2 => {
                let flags = self.byte()?;
                let src = self.sel()?;
                let dst = self.sel()?;
                let hop_limit = self.byte()?;
                let target = self.sel()?;
                let len = usize::from(u16::from_be_bytes([self.byte()?, self.byte()?]));
                let body = self.bytes(len.min(self.0.len()))?.to_vec();
                let src_mac = match (flags >> 2) & 3 {
                    0 => None,
                    1 => Some(ROUTER_MAC),
                    2 => Some(HOST_B_MAC),
                    _ => Some(OUR_MAC),
                };
                Op::Receive {
                    keep_checksum: flags & 1 != 0,
                    patch_target: flags & 2 != 0,
                    src_mac,
                    src,
                    dst,
                    hop_limit,
                    target,
                    body,
                }
            }
            3 => {
                let b = self.byte()?;
                if (0xe0..0xf0).contains(&b) {
                    return Some(Op::Timeout);
                }
                let buf = if b >= 0xf0 {
                    usize::from(b & 15) * 80
                } else {
                    1500
                };
                Op::Drain { buf }
            }
            4 => Op::Route(self.sel()?),
            5 => {
                let flags = self.byte()?;
                let src = self.sel()?;
                let dst = self.sel()?;
                let len = self.byte()?;
                Op::Send {
                    malformed: flags & 1 != 0,
                    next_header: [17, 58, 6, 59][usize::from((flags >> 1) & 3)],
                    src,
                    dst,
                    payload: usize::from(len) * 8,
                }
            }
            6 => Op::Confirm(self.sel()?),
            7 => Op::LinkUp,
            8 => Op::Events,
            _ => Op::Loopback(usize::from(self.byte()?) % LOOPBACK),
        })
    }
}

fn config(flags: u8, seed: u8) -> Config {
    let seed = u64::from(seed);
    let mut c = if flags & 1 != 0 {
        Config::stable(OUR_MAC, seed, *b"ndp-fuzz-secret!")
    } else {
        Config::eui64(OUR_MAC, seed)
    };
    // The neighbor hash key comes from the secret in both modes.
    c.secret = *b"ndp-fuzz-secret!";
    c.optimistic_dad = flags & 2 == 0;
    c.dad_transmits = (flags >> 2) & 3;
    c.router_solicitations = flags & 0x10 == 0;
    c.gratuitous_na = (flags >> 5) & 3;
    c.queue_per_neighbor = if flags & 0x80 != 0 { 1 } else { 2 };
    c
}

fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("NDP_FUZZ_TRACE").is_some())
}

fn run(data: &[u8]) {
    let mut input = Input(data);
    let (Some(flags), Some(seed), Some(start)) = (input.byte(), input.byte(), input.byte()) else {
        return;
    };
    let start = Instant::from_millis(u32::from(start) << 24);
    let config = config(flags, seed);
    if trace() {
        eprintln!("config {config:?}, start {start}");
    }
    let mut h = Harness {
        stack: no_alloc("Stack::new", || Stack::new(config, start)),
        now: start,
        buf: vec![0u8; 1500],
        sent: Vec::new(),
        generation: 0,
        caps: Caps::new(),
        idle: 0,
    };
    // The events `new` queued count from before them: read them from a
    // copy, leaving the queue as it is.
    let mut copy = h.stack.clone();
    let queued = std::iter::from_fn(|| copy.poll_event()).count();
    h.generation = h.stack.generation().wrapping_sub(queued as u32);
    h.check(false, 0, None);
    let mut n = 0usize;
    while let Some(op) = input.op() {
        n += 1;
        if trace() {
            eprintln!("#{n} at {}: {op:?}", h.now);
        }
        let drained = h.apply(&op);
        h.check(drained, n, Some(&op));
    }
}

/// Table capacities, from the engine's own figures.
struct Caps {
    neighbors: usize,
    queue: usize,
    addresses: usize,
    prefixes: usize,
    routers: usize,
    routes: usize,
    destinations: usize,
    dns_servers: usize,
    search_domains: usize,
    groups: usize,
    events: usize,
}

impl Caps {
    fn new() -> Self {
        let per = <Stack>::ram_per_entry();
        let cap = |kind: &str| {
            per.iter()
                .find(|(k, _, _)| *k == kind)
                .map(|(_, _, n)| *n)
                .unwrap_or_else(|| panic!("ram_per_entry lists no {kind:?}"))
        };
        Caps {
            neighbors: cap("neighbor"),
            queue: cap("queued-packet slot"),
            addresses: cap("address"),
            prefixes: cap("prefix"),
            routers: cap("router"),
            routes: cap("route"),
            destinations: cap("destination"),
            dns_servers: cap("dns server"),
            search_domains: cap("search domain"),
            groups: cap("mld group"),
            events: cap("event"),
        }
    }
}

struct Harness {
    stack: Stack,
    now: Instant,
    buf: Vec<u8>,
    /// Our latest ND/MLD transmissions (whole IPv6 packets), newest last.
    sent: Vec<Vec<u8>>,
    /// `generation` when the events were last read.
    generation: u32,
    caps: Caps,
    /// Milliseconds of `Advance` since the engine was last called.
    idle: u64,
}

impl Harness {
    /// The address a selector stands for now.
    fn addr(&self, sel: Sel) -> Ipv6Addr {
        let s = match sel {
            Sel::Literal(a) => return a,
            Sel::Table(s) => usize::from(s),
        };
        if s < 8 {
            let ours: Vec<_> = self.stack.addresses().map(|a| a.addr).collect();
            let Some(a) = ours.get(s % 4 % ours.len().max(1)) else {
                return Ipv6Addr::UNSPECIFIED;
            };
            return if s < 4 {
                a.get()
            } else {
                a.solicited_node().get()
            };
        }
        fixed(s - 8)
    }

    /// Move the clock on by `d`. The engine requires its timers to run
    /// (a drain) within 24.8 days of coming due, and some call at least
    /// every 49 days whatever it has scheduled (`ndp_core::time`), so
    /// when `d` would leave a timer overdue by more than 20 days, the
    /// clock first stops at that timer for a drain, and after 40 days
    /// without a call it drains anyway, as a device that honours
    /// `poll_at` does.
    fn advance(&mut self, d: Duration) {
        let forty_days = 40 * 86_400 * 1000;
        if self.idle + u64::from(d.as_millis()) > forty_days {
            self.drain(1500);
        }
        let target = self.now + d;
        let limit = i64::from(Duration::from_secs(20 * 86_400).as_millis());
        // In i64 milliseconds from now: the deadline is within 24.8 days of
        // now (either way), and the target up to 24.8 days after it.
        let ahead = |now: Instant, t: Instant| {
            let late = i64::from(now.saturating_duration_since(t).as_millis());
            let early = i64::from(t.saturating_duration_since(now).as_millis());
            early - late
        };
        while let Some(at) = self.stack.poll_at() {
            let left = i64::from(target.wrapping_duration_since(self.now).as_millis());
            if left - ahead(self.now, at) <= limit {
                break;
            }
            self.now = self.now.later(at);
            self.drain(1500);
        }
        self.idle += u64::from(target.wrapping_duration_since(self.now).as_millis());
        self.now = target;
    }

    /// Run `op`; true when it ended with a drain that ran dry.
    fn apply(&mut self, op: &Op) -> bool {
        let now = self.now;
        if !matches!(
            op,
            Op::Advance(_) | Op::Step(_) | Op::Events | Op::Loopback(_) | Op::Proxy { .. }
        ) {
            // Every other operation calls the engine with the time at
            // once (a step advances first; its drain resets the count).
            // `poll_event` and `configure_proxy` take no time, so they
            // tell the engine nothing of the clock; a loopback does only
            // when there is a packet to loop back (`receive` resets the
            // count).
            self.idle = 0;
        }
        match op {
            Op::Advance(d) => self.advance(*d),
            Op::Step(d) => {
                self.advance(*d);
                self.drain(1500);
                return true;
            }
            Op::Receive {
                keep_checksum,
                patch_target,
                src_mac,
                src,
                dst,
                hop_limit,
                target,
                body,
            } => {
                let (src, dst) = (self.addr(*src), self.addr(*dst));
                let mut icmp = body.clone();
                if *patch_target && icmp.len() >= 24 {
                    icmp[8..24].copy_from_slice(&self.addr(*target).octets());
                }
                if !keep_checksum && icmp.len() >= icmpv6::HEADER_LEN {
                    icmpv6::fill_checksum(&mut icmp, &src, &dst).expect("long enough");
                }
                let meta = RxMeta {
                    src,
                    dst,
                    hop_limit: *hop_limit,
                    src_mac: *src_mac,
                };
                self.receive(&meta, &icmp);
            }
            Op::Drain { buf } => {
                self.drain(*buf);
                return true;
            }
            Op::Timeout => {
                let before = sent(self.stack.stats());
                no_alloc("handle_timeout", || self.stack.handle_timeout(now));
                // It writes nothing: the messages wait for poll_transmit.
                assert_eq!(sent(self.stack.stats()), before, "handle_timeout sent");
            }
            Op::Route(dst) => {
                let dst = self.addr(*dst);
                let r = no_alloc("route", || self.stack.route(now, dst));
                if self.stack.is_disabled() {
                    assert!(r.is_err(), "a disabled interface routed {dst}: {r:?}");
                } else if let Some(g) = MulticastAddr::new(dst) {
                    assert_eq!(r, Ok(NextHop::Multicast(g.mac())), "route({dst})");
                } else if let Ok(NextHop::Resolved { mac, .. }) = r {
                    // RFC 2464 §7: group MACs carry multicast IPv6 only.
                    assert!(!mac.is_multicast(), "route({dst}) = {r:?}: a group MAC");
                }
                if trace() {
                    eprintln!("  route({dst}) = {r:?}");
                }
            }
            Op::Send {
                malformed,
                next_header,
                src,
                dst,
                payload,
            } => {
                let mut packet = vec![0u8; Ipv6Header::LEN + payload];
                Ipv6Header {
                    src: self.addr(*src),
                    dst: self.addr(*dst),
                    next_header: *next_header,
                    hop_limit: 64,
                    payload_len: u16::try_from(*payload).expect("at most 2040"),
                }
                .emit(&mut packet)
                .expect("room for the header");
                if *malformed {
                    packet.truncate(Ipv6Header::LEN - 1);
                }
                let r = no_alloc("send", || self.stack.send(now, &packet));
                if *malformed {
                    assert_eq!(r, Err(ndp_core::SendError::Malformed));
                } else if let Ok(ndp_core::Dispatch::Transmit(mac)) = r {
                    let dst = self.addr(*dst);
                    // RFC 2464 §7: group MACs carry multicast IPv6 only.
                    assert_eq!(
                        mac.is_multicast(),
                        dst.is_multicast(),
                        "send to {dst}: {r:?}"
                    );
                }
                if trace() {
                    eprintln!("  send = {r:?}");
                }
            }
            Op::Confirm(addr) => {
                let addr = self.addr(*addr);
                no_alloc("confirm_reachable", || {
                    self.stack.confirm_reachable(now, &addr)
                });
            }
            Op::LinkUp => no_alloc("link_up", || self.stack.link_up(now)),
            Op::Group { join, group } => {
                let g = self.addr(*group);
                if *join {
                    let r = no_alloc("join_group", || self.stack.join_group(now, g));
                    // Joined means listened to: in the NIC's list.
                    if r.is_ok() {
                        assert!(self.stack.multicast_groups().any(|m| m.get() == g));
                    }
                } else {
                    no_alloc("leave_group", || self.stack.leave_group(now, g));
                }
            }
            Op::Static {
                add,
                addr,
                prefix_len,
            } => {
                let a = self.addr(*addr);
                if *add {
                    let r = no_alloc("add_static_address", || {
                        self.stack.add_static_address(now, a, *prefix_len)
                    });
                    if r.is_ok() {
                        assert!(self.stack.addresses().any(|x| x.addr.get() == a));
                    }
                } else {
                    no_alloc("remove_static_address", || {
                        self.stack.remove_static_address(now, a)
                    });
                }
            }
            Op::Proxy {
                kind,
                addr,
                len,
                router,
            } => {
                let a = self.addr(*addr);
                let rule = ProxyRule::new(a, *len);
                let r = no_alloc("configure_proxy", || {
                    self.stack.configure_proxy(|p| {
                        p.set_router(*router);
                        match (kind, rule) {
                            (3, _) => {
                                p.clear();
                                Ok(())
                            }
                            (_, Err(e)) => Err(e),
                            (0, Ok(r)) => p.add_prefix(r),
                            (1, Ok(r)) => p.allow(r),
                            (_, Ok(r)) => p.deny(r),
                        }
                    })
                });
                match (kind, r, rule) {
                    (3, _, _) => assert!(!self.stack.proxy().is_active()),
                    (0, Ok(()), Ok(r)) => assert!(self.stack.proxy().prefixes().any(|p| p == r)),
                    _ => {}
                }
                assert_eq!(self.stack.proxy().router(), *router);
            }
            Op::Events => self.events(),
            Op::Loopback(k) => {
                let Some(packet) = self.sent.iter().rev().nth(*k).cloned() else {
                    return false;
                };
                let up = upper_layer(&packet).expect("checked when sent");
                let meta = RxMeta {
                    src: up.header.src,
                    dst: up.header.dst,
                    hop_limit: up.header.hop_limit,
                    src_mac: Some(OUR_MAC),
                };
                self.receive(&meta, up.payload);
            }
        }
        false
    }

    fn receive(&mut self, meta: &RxMeta, icmp: &[u8]) {
        self.idle = 0;
        let now = self.now;
        let ours = no_alloc("receive", || self.stack.receive(now, meta, icmp));
        let nd = icmp
            .first()
            .and_then(|t| MessageType::from_u8(*t))
            .is_some_and(|t| t.is_ndp() || t.is_mld());
        assert_eq!(ours, nd, "receive claims exactly ND and MLD messages");
        if trace() {
            let parsed = Message::parse_checked(&meta.src, &meta.dst, icmp);
            eprintln!("  receive {} -> {}: {parsed:?}", meta.src, meta.dst);
        }
    }

    fn events(&mut self) {
        let mut n = 0usize;
        while let Some(e) = no_alloc("poll_event", || self.stack.poll_event()) {
            n += 1;
            assert!(n <= self.caps.events, "more events queued than the cap");
            if trace() {
                eprintln!("  event {e:?}");
            }
        }
        let moved = self.stack.generation().wrapping_sub(self.generation);
        assert!(
            usize::try_from(moved).is_ok_and(|m| m >= n),
            "{n} events but generation moved by {moved}"
        );
        self.generation = self.stack.generation();
    }

    /// `poll_transmit` until it runs dry, checking every packet, and that
    /// no neighbor timer ran early.
    fn drain(&mut self, buf_len: usize) {
        self.idle = 0;
        let now = self.now;
        let before: Vec<Neighbor> = self.stack.neighbors().collect();
        let mut released_to = Vec::new();
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(buf_len, 0);
        let mut n = 0usize;
        while let Some(tx) = no_alloc("poll_transmit", || self.stack.poll_transmit(now, &mut buf)) {
            n += 1;
            assert!(n < MAX_PER_DRAIN, "poll_transmit does not run dry");
            assert!(tx.len <= buf.len(), "{tx:?} longer than the buffer");
            self.check_output(&tx, &buf[..tx.len]);
            if let (TransmitKind::Released, Delivery::Link(mac)) = (tx.kind, tx.delivery) {
                released_to.push(mac);
            }
        }
        self.buf = buf;
        for b in &before {
            let after = self.stack.neighbors().find(|n| n.addr == b.addr);
            if after.as_ref() == Some(b) {
                continue;
            }
            let due = b.deadline.is_some_and(|d| d <= now);
            let used = b.state == NeighborState::Stale
                && after.is_some_and(|a| a.state == NeighborState::Delay)
                && b.mac.is_some_and(|m| released_to.contains(&m));
            assert!(
                due || used,
                "{b:?} became {after:?} at {now}, before its deadline"
            );
        }
    }

    /// A packet from `poll_transmit` is well-formed and legal.
    fn check_output(&mut self, tx: &Transmit, packet: &[u8]) {
        let up = upper_layer(packet).unwrap_or_else(|e| panic!("{tx:?}: not IPv6: {e:?}"));
        let h = up.header;
        if trace() {
            eprintln!("  sent {:?} {} -> {}", tx.kind, h.src, h.dst);
        }
        match (tx.kind, tx.delivery) {
            (TransmitKind::Ndp, Delivery::Link(mac)) => {
                assert_eq!(up.protocol, icmpv6::NEXT_HEADER_ICMPV6, "{tx:?}");
                // RFC 2464 §7: a multicast destination's group MAC; a
                // neighbor's individual one.
                match MulticastAddr::new(h.dst) {
                    Some(g) => assert_eq!(mac, g.mac(), "{tx:?} to {}", h.dst),
                    None => assert!(!mac.is_multicast(), "{tx:?} to {}: a group MAC", h.dst),
                }
                let meta = IpMeta {
                    src: h.src,
                    dst: h.dst,
                    hop_limit: h.hop_limit,
                };
                let msg = ndp_core::wire::parse_received(&meta, up.payload)
                    .unwrap_or_else(|e| panic!("our {tx:?} fails validation: {e:?}"));
                self.check_legal(&msg, &h, up.router_alert);
                if self.sent.len() == LOOPBACK {
                    self.sent.remove(0);
                }
                self.sent.push(packet.to_vec());
            }
            (TransmitKind::Released, Delivery::Link(mac)) => {
                let to_group = MulticastAddr::new(h.dst).is_some();
                assert_eq!(mac.is_multicast(), to_group, "{tx:?} to {}", h.dst);
            }
            (TransmitKind::Unreachable, Delivery::Local) => {
                let msg = Message::parse_checked(&h.src, &h.dst, up.payload)
                    .unwrap_or_else(|e| panic!("our Destination Unreachable: {e:?}"));
                assert!(matches!(msg, Message::DestUnreachable(_)), "{msg:?}");
            }
            other => panic!("unexpected transmit {other:?}"),
        }
    }

    /// Our message is one a host may send from these addresses' states.
    fn check_legal(&self, msg: &Message<'_>, h: &Ipv6Header, router_alert: bool) {
        let state = |a: &Ipv6Addr| {
            self.stack
                .addresses()
                .find(|x| x.addr.get() == *a)
                .map(|x| x.state)
        };
        let may_solicit =
            |a: &Ipv6Addr| matches!(state(a), Some(AddrState::Preferred | AddrState::Deprecated));
        match msg {
            Message::NeighborSolicit(ns) if h.src.is_unspecified() => {
                // A DAD probe (RFC 4862 §5.4.2).
                let s = state(&ns.target);
                assert!(
                    matches!(s, Some(AddrState::Tentative | AddrState::Optimistic)),
                    "DAD probe for {} in state {s:?}",
                    ns.target
                );
            }
            Message::NeighborSolicit(ns) => assert!(
                may_solicit(&h.src),
                "NS for {} from {} in state {:?}",
                ns.target,
                h.src,
                state(&h.src)
            ),
            Message::NeighborAdvert(na) if h.src != na.target => {
                // Not from its target: a proxy's answer (RFC 4861 §7.2.8),
                // Override clear, solicited, from our usable link-local
                // address, for a target that may be proxied at all.
                assert!(
                    !na.override_flag && na.solicited_flag,
                    "proxy NA flags {na:?}"
                );
                assert!(
                    is_link_local(&h.src) && may_solicit(&h.src),
                    "proxy NA from {}",
                    h.src
                );
                assert!(
                    !is_link_local(&na.target)
                        && !na.target.is_multicast()
                        && !na.target.is_unspecified(),
                    "proxy NA for {}",
                    na.target
                );
                assert!(
                    na.options.target_link_addr() == Some(OUR_MAC),
                    "proxy NA without our TLLA"
                );
            }
            Message::NeighborAdvert(na) => {
                let s = state(&na.target);
                assert_eq!(h.src, na.target, "NA from another address");
                assert!(
                    matches!(
                        s,
                        Some(AddrState::Optimistic | AddrState::Preferred | AddrState::Deprecated)
                    ),
                    "NA for {} in state {s:?}",
                    na.target
                );
                assert!(
                    !(s == Some(AddrState::Optimistic) && na.override_flag),
                    "NA with O=1 for optimistic {}",
                    na.target
                );
            }
            Message::RouterSolicit(_) => assert!(
                h.src.is_unspecified() || (is_link_local(&h.src) && may_solicit(&h.src)),
                "RS from {} in state {:?}",
                h.src,
                state(&h.src)
            ),
            Message::MldV2Report(_) | Message::MldV1Report(_) | Message::MldV1Done(_) => {
                assert!(router_alert, "MLD without Router Alert");
                assert!(
                    h.src.is_unspecified() || (is_link_local(&h.src) && may_solicit(&h.src)),
                    "MLD from {} in state {:?}",
                    h.src,
                    state(&h.src)
                );
            }
            other => panic!("a host sent {other:?}"),
        }
    }

    /// Everything checked after an operation.
    fn check(&self, drained: bool, n: usize, op: Option<&Op>) {
        let after = || match op {
            Some(op) => format!("op #{n} {op:?}"),
            None => "Stack::new".to_string(),
        };
        let s = &self.stack;
        if let Err(e) = no_alloc("check_invariants", || s.check_invariants(drained)) {
            panic!("invariant broken after {} at {}: {e}", after(), self.now);
        }
        let c = &self.caps;
        let caps = [
            ("neighbors", s.neighbors().count(), c.neighbors),
            ("queued packets", s.queued_packets(), c.queue),
            ("addresses", s.addresses().count(), c.addresses),
            ("prefixes", s.prefixes().count(), c.prefixes),
            ("routers", s.routers().count(), c.routers),
            ("routes", s.routes().count(), c.routes),
            ("destinations", s.destinations().count(), c.destinations),
            ("dns servers", s.dns_servers().count(), c.dns_servers),
            (
                "search domains",
                s.search_domains().count(),
                c.search_domains,
            ),
            // ff02::1 and the joined groups.
            ("groups", s.multicast_groups().count(), c.groups + 1),
        ];
        for (what, n, cap) in caps {
            assert!(
                n <= cap,
                "{n} {what}, over the cap of {cap}, after {}",
                after()
            );
        }
    }
}

/// Messages the engine has written, of every kind.
fn sent(s: &Stats) -> u64 {
    [
        s.tx_rs,
        s.tx_dad_probe,
        s.tx_mld,
        s.tx_gratuitous_na,
        s.tx_ns_multicast,
        s.tx_ns_unicast,
        s.tx_na,
        s.tx_unreachable,
        s.tx_released,
        s.tx_buffer_too_small,
    ]
    .into_iter()
    .map(u64::from)
    .sum()
}
