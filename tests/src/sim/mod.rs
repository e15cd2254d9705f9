//! A deterministic simulator of one Ethernet segment.
//!
//! Nodes (engines wrapped for the simulator, or the scripted peers in
//! [`host`] and [`router`]) hang off a hub: every frame a node transmits
//! reaches every other node, which filters by destination MAC itself.
//! Time is virtual and jumps from event to event, so an hour of protocol
//! time costs only the frames exchanged in it.
//!
//! - Determinism: every random choice of the link comes from one
//!   [`Rng`] seeded with the seed given to [`Sim::new`], and frames due at
//!   the same instant are delivered in the order they were sent. The same
//!   scenario with the same seed gives the same pcap, byte for byte.
//! - The no-spin contract: a node that has just answered `None` from
//!   `poll_transmit(now)` and received nothing since must not ask to be
//!   woken at or before `now` again; the simulator panics when it does
//!   (an MCU would burn its battery in that loop).
//! - Runaway loops (two nodes answering each other forever) panic after
//!   [`DEFAULT_EVENT_LIMIT`] events instead of hanging the test.
//! - Every frame put on the wire is written to
//!   `<target>/sim-pcap/<name>.pcap` with the virtual time as timestamp;
//!   `cargo xtask test` has tshark check those files.

pub mod engine;
pub mod host;
pub mod parasite;
pub mod router;

use core::any::Any;
use core::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ndp_core::rng::Rng;
use ndp_core::time::{Duration, Instant};
use ndp_core::wire::MacAddr;

use crate::pcap;

pub use engine::{EngineNode, LocalPacket};
pub use host::{Received, ScriptedHost};
pub use router::{RouterConfig, ScriptedRouter};

/// Events (frames sent plus frames delivered) after which a run is taken
/// to be a runaway loop; see [`Sim::set_event_limit`].
pub const DEFAULT_EVENT_LIMIT: u64 = 10_000_000;

/// Something attached to the simulated segment.
///
/// The simulator calls `poll_transmit` when a frame was delivered to the
/// node, when the instant returned by `poll_at` has come, and after the
/// test touched the node (`Sim::add`, `Sim::node_mut`), like an MCU that
/// sleeps until its next deadline or an interrupt.
pub trait Node: Any {
    /// The node's Ethernet address (used in messages about the node).
    fn mac(&self) -> MacAddr;
    /// A frame seen on the segment: every frame but the node's own,
    /// whatever its destination MAC.
    fn receive(&mut self, now: Instant, frame: &[u8]);
    /// The next frame to send now, if any. Called until it returns `None`.
    fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>>;
    /// When the node next needs `poll_transmit`; `None` for never. An
    /// instant in the past means "now".
    fn poll_at(&self) -> Option<Instant>;
}

/// Index of a node in its [`Sim`], in the order they were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// How the segment treats each copy of a frame (one copy per receiver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Delay from transmission to delivery.
    pub latency: Duration,
    /// Extra delay, uniform in `0..=jitter`, drawn per copy.
    pub jitter: Duration,
    /// Probability, in parts per million, that a copy is lost.
    pub loss_ppm: u32,
    /// Probability (ppm) that a delivered copy arrives twice, the second
    /// time 1 ms after the first.
    pub duplicate_ppm: u32,
    /// Probability (ppm) that a copy is held back by an extra 2 to 5 times
    /// the latency (at least 1 ms), so later frames overtake it.
    pub reorder_ppm: u32,
}

impl LinkConfig {
    /// A perfect link: 1 ms latency, no jitter, nothing lost, duplicated
    /// or reordered. Also the [`Default`].
    pub const fn ideal() -> Self {
        LinkConfig {
            latency: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss_ppm: 0,
            duplicate_ppm: 0,
            reorder_ppm: 0,
        }
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self::ideal()
    }
}

/// What happened on the wire so far. Frames are counted once when sent;
/// losses, deliveries and duplicates once per receiver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames put on the wire (by nodes or injected).
    pub sent: u64,
    /// Copies handed to a node's `receive` (duplicates included).
    pub delivered: u64,
    /// Copies lost.
    pub lost: u64,
    /// Extra copies scheduled by duplication.
    pub duplicated: u64,
    /// Copies held back to be reordered.
    pub reordered: u64,
}

/// Where the simulator writes its pcaps: `$CARGO_TARGET_DIR/sim-pcap`, or
/// `<workspace>/target/sim-pcap`. A relative `CARGO_TARGET_DIR` is taken
/// relative to the workspace root.
pub fn pcap_dir() -> PathBuf {
    crate::target_dir().join("sim-pcap")
}

/// Extension of the file listing frames broken on purpose (see
/// [`Sim::inject_broken`]), next to the pcap.
pub const BROKEN_FRAMES_EXT: &str = "broken-frames";

struct Slot {
    node: Box<dyn Node>,
    type_name: &'static str,
    /// Must be polled at the current instant (got a frame, or touched).
    wake: bool,
}

/// One copy of a frame on its way to one node.
struct Delivery {
    /// Milliseconds since the simulation started (never wraps).
    at: u64,
    /// Tie-breaker: equal times are delivered in scheduling order.
    seq: u64,
    to: Receivers,
    frame: Rc<[u8]>,
}

/// Who a scheduled delivery is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receivers {
    /// One node.
    One(usize),
    /// Every node but the sender (`None`: injected, so every node). Used
    /// when the link treats all receivers alike (no loss, jitter,
    /// reordering or duplication), so a frame costs one queue entry
    /// rather than one per node.
    AllBut(Option<usize>),
}

impl PartialEq for Delivery {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Delivery {}
impl PartialOrd for Delivery {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delivery {
    /// Reversed, so `BinaryHeap` pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// One Ethernet segment with its nodes, virtual clock and pcap.
pub struct Sim {
    name: String,
    /// Milliseconds since the simulation started: the scheduler's clock,
    /// which does not wrap, so a run may last for months. The nodes see
    /// it modulo 2^32 ([`Sim::now`]).
    ticks: u64,
    link: LinkConfig,
    rng: Rng,
    nodes: Vec<Slot>,
    queue: BinaryHeap<Delivery>,
    next_seq: u64,
    counters: Counters,
    events: u64,
    event_limit: u64,
    /// `None` for [`Sim::unrecorded`] (and once dropped).
    pcap: Option<pcap::Writer<BufWriter<File>>>,
    pcap_path: PathBuf,
    frames_written: u64,
    /// 1-based frame numbers (as Wireshark counts) injected broken on purpose.
    broken: Vec<u64>,
}

impl Sim {
    /// An empty segment at time zero. `name` names the pcap file
    /// (letters, digits, `-`, `_`, `.`), so it must be unique among the
    /// scenarios; `seed` drives every random choice of the link.
    pub fn new(name: &str, seed: u64, link: LinkConfig) -> Sim {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "sim name {name:?} must be non-empty and use only letters, digits, '-', '_' and '.'"
        );
        let dir = pcap_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let pcap_path = dir.join(format!("{name}.pcap"));
        let _ = std::fs::remove_file(pcap_path.with_extension(BROKEN_FRAMES_EXT));
        let file = File::create(&pcap_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", pcap_path.display()));
        let writer = pcap::Writer::new(BufWriter::new(file))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", pcap_path.display()));
        Sim::empty(name, seed, link, Some(writer), pcap_path)
    }

    /// An empty segment like [`Sim::new`] that writes no pcap: for
    /// benchmarks running thousands of simulations.
    pub fn unrecorded(seed: u64, link: LinkConfig) -> Sim {
        Sim::empty("unrecorded", seed, link, None, PathBuf::new())
    }

    fn empty(
        name: &str,
        seed: u64,
        link: LinkConfig,
        pcap: Option<pcap::Writer<BufWriter<File>>>,
        pcap_path: PathBuf,
    ) -> Sim {
        Sim {
            name: name.to_string(),
            ticks: 0,
            link,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            counters: Counters::default(),
            events: 0,
            event_limit: DEFAULT_EVENT_LIMIT,
            pcap,
            pcap_path,
            frames_written: 0,
            broken: Vec::new(),
        }
    }

    /// Scheduler events processed so far (deliveries and node wake-ups).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Attach a node; it is polled at the current instant on the next run.
    pub fn add<N: Node + 'static>(&mut self, node: N) -> NodeId {
        self.nodes.push(Slot {
            node: Box::new(node),
            type_name: core::any::type_name::<N>(),
            wake: true,
        });
        NodeId(self.nodes.len() - 1)
    }

    /// The node `id` as its concrete type. Panics if it is another type.
    pub fn node<T: Node + 'static>(&self, id: NodeId) -> &T {
        let slot = self.slot(id);
        let type_name = slot.type_name;
        let node: &dyn Any = &*slot.node;
        node.downcast_ref()
            .unwrap_or_else(|| wrong_type::<T>(id, type_name))
    }

    /// The node `id` as its concrete type, to drive or inspect it between
    /// runs; it is polled at the current instant on the next run. Panics if
    /// it is another type.
    pub fn node_mut<T: Node + 'static>(&mut self, id: NodeId) -> &mut T {
        let slot = self.slot_mut(id);
        slot.wake = true;
        let type_name = slot.type_name;
        let node: &mut dyn Any = &mut *slot.node;
        node.downcast_mut()
            .unwrap_or_else(|| wrong_type::<T>(id, type_name))
    }

    /// The current virtual time, as the nodes see it: [`Sim::ticks`]
    /// modulo 2^32 ms.
    pub fn now(&self) -> Instant {
        Instant::wrapping_from_millis(self.ticks)
    }

    /// Milliseconds of virtual time since the simulation started; unlike
    /// [`Sim::now`] it does not wrap after 49.7 days.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// `t` (at most 2^31 ms from now, in either direction) on the
    /// scheduler's clock; a time already past reads as now.
    fn ticks_of(&self, t: Instant) -> u64 {
        self.ticks + u64::from(t.saturating_duration_since(self.now()).as_millis())
    }

    /// The scenario name given to [`Sim::new`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link's behaviour (it may be changed between runs).
    pub fn link_mut(&mut self) -> &mut LinkConfig {
        &mut self.link
    }

    /// What happened on the wire so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The pcap this simulation writes (complete once the `Sim` is dropped).
    pub fn pcap_path(&self) -> &Path {
        &self.pcap_path
    }

    /// Change the runaway guard (default [`DEFAULT_EVENT_LIMIT`]), e.g. for
    /// a deliberate flood of millions of frames.
    pub fn set_event_limit(&mut self, events: u64) {
        self.event_limit = events;
    }

    /// Put a raw frame on the wire now, as if sent by a station that is not
    /// a node: every node gets a copy (subject to the link) and the pcap
    /// records it.
    pub fn inject(&mut self, frame: Vec<u8>) {
        self.transmit(None, frame);
    }

    /// Like [`Sim::inject`] for a frame that is broken on purpose
    /// (malformed, bad checksum): its number is listed in
    /// `<name>.broken-frames` beside the pcap, so the tshark check of
    /// `cargo xtask test` does not report it.
    pub fn inject_broken(&mut self, frame: Vec<u8>) {
        self.transmit(None, frame);
        self.broken.push(self.frames_written);
    }

    /// Run until virtual time `end` (less than 24.8 days ahead: instants
    /// compare within 2^31 ms; see [`ndp_core::time`]): deliver frames and
    /// poll nodes at every instant something is due, then leave the clock
    /// at `end`.
    pub fn run_until(&mut self, end: Instant) {
        assert!(
            end >= self.now(),
            "sim `{}`: run_until({end}) but it is already {}: time never goes backwards",
            self.name,
            self.now()
        );
        let end = self.ticks_of(end);
        loop {
            self.settle();
            match self.next_event() {
                Some(t) if t <= end => self.ticks = t,
                _ => break,
            }
        }
        self.ticks = end;
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now() + d);
    }

    fn slot(&self, id: NodeId) -> &Slot {
        let n = self.nodes.len();
        self.nodes
            .get(id.0)
            .unwrap_or_else(|| panic!("sim `{}`: no node {} (it has {n})", self.name, id.0))
    }

    fn slot_mut(&mut self, id: NodeId) -> &mut Slot {
        let n = self.nodes.len();
        let name = &self.name;
        self.nodes
            .get_mut(id.0)
            .unwrap_or_else(|| panic!("sim `{name}`: no node {} (it has {n})", id.0))
    }

    /// Everything due at `now`: deliveries, then polls of the nodes that
    /// got a frame, were touched or whose deadline came; repeated while
    /// the polls produce frames due at `now` (zero latency). Then checks
    /// the no-spin contract.
    fn settle(&mut self) {
        let now = self.now();
        loop {
            let ticks = self.ticks;
            while self.queue.peek().is_some_and(|d| d.at <= ticks) {
                let d = self.queue.pop().expect("peeked");
                let (first, last) = match d.to {
                    Receivers::One(i) => (i, i + 1),
                    Receivers::AllBut(_) => (0, self.nodes.len()),
                };
                for i in first..last {
                    if d.to == Receivers::AllBut(Some(i)) {
                        continue;
                    }
                    self.count_event();
                    self.counters.delivered += 1;
                    let slot = &mut self.nodes[i];
                    slot.wake = true;
                    slot.node.receive(now, &d.frame);
                }
            }
            for i in 0..self.nodes.len() {
                let slot = &mut self.nodes[i];
                if !(slot.wake || slot.node.poll_at().is_some_and(|t| t <= now)) {
                    continue;
                }
                slot.wake = false;
                while let Some(frame) = self.nodes[i].node.poll_transmit(now) {
                    self.transmit(Some(i), frame);
                }
            }
            if self.queue.peek().is_none_or(|d| d.at > ticks) {
                break;
            }
        }
        // Every node that was due has been polled until `None` and nothing
        // was delivered since: none may still be due.
        for (i, slot) in self.nodes.iter().enumerate() {
            if let Some(t) = slot.node.poll_at().filter(|&t| t <= now) {
                panic!(
                    "sim `{}`: node {i} ({}, {}) asks to be woken at {t} <= now ({now}) \
                     but has nothing to do: spin",
                    self.name,
                    slot.type_name,
                    slot.node.mac()
                );
            }
        }
    }

    /// The earliest delivery or node deadline, on the scheduler's clock.
    fn next_event(&self) -> Option<u64> {
        let deliveries = self.queue.peek().map(|d| d.at);
        let deadlines = self
            .nodes
            .iter()
            .filter_map(|s| s.node.poll_at())
            .map(|t| self.ticks_of(t));
        deliveries.into_iter().chain(deadlines).min()
    }

    /// Record `frame` and schedule a copy for every node but `from`.
    fn transmit(&mut self, from: Option<usize>, frame: Vec<u8>) {
        self.count_event();
        self.counters.sent += 1;
        self.write_pcap(&frame);
        let frame: Rc<[u8]> = frame.into();
        let link = self.link;
        let uniform = link.loss_ppm == 0
            && link.jitter == Duration::ZERO
            && link.reorder_ppm == 0
            && link.duplicate_ppm == 0;
        if uniform {
            let at = self.ticks + u64::from(link.latency.as_millis());
            self.schedule(at, Receivers::AllBut(from), frame);
            return;
        }
        for to in (0..self.nodes.len()).filter(|&to| Some(to) != from) {
            if self.chance(link.loss_ppm) {
                self.counters.lost += 1;
                continue;
            }
            let jitter = self.rng.in_range(0, link.jitter.as_millis());
            let mut at = self.ticks + u64::from(link.latency.as_millis()) + u64::from(jitter);
            if self.chance(link.reorder_ppm) {
                self.counters.reordered += 1;
                let base = link.latency.as_millis().max(1);
                at += u64::from(self.rng.in_range(2 * base, 5 * base));
            }
            self.schedule(at, Receivers::One(to), frame.clone());
            if self.chance(link.duplicate_ppm) {
                self.counters.duplicated += 1;
                self.schedule(at + 1, Receivers::One(to), frame.clone());
            }
        }
    }

    fn schedule(&mut self, at: u64, to: Receivers, frame: Rc<[u8]>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Delivery { at, seq, to, frame });
    }

    /// True with probability `ppm` / 1e6; draws nothing for 0 and 1e6.
    fn chance(&mut self, ppm: u32) -> bool {
        match ppm {
            0 => false,
            1_000_000.. => true,
            p => self.rng.below(1_000_000) < p,
        }
    }

    fn count_event(&mut self) {
        self.events += 1;
        if self.events > self.event_limit {
            panic!(
                "sim `{}`: runaway: more than {} events (frames sent + delivered) by {}; \
                 nodes keep answering each other or a node never stops transmitting \
                 (raise Sim::set_event_limit for a deliberate flood)",
                self.name,
                self.event_limit,
                self.now()
            );
        }
    }

    fn write_pcap(&mut self, frame: &[u8]) {
        let time_ns = self.ticks.saturating_mul(1_000_000);
        if let Some(writer) = self.pcap.as_mut() {
            writer
                .write(time_ns, frame)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", self.pcap_path.display()));
        }
        self.frames_written += 1;
    }
}

impl Drop for Sim {
    /// Flushes the pcap (also when a test panics), and lists the frames
    /// broken on purpose, if any.
    fn drop(&mut self) {
        let recorded = self.pcap.is_some();
        if let Some(writer) = self.pcap.take()
            && let Err(e) = writer.finish()
        {
            eprintln!(
                "sim `{}`: cannot flush {}: {e}",
                self.name,
                self.pcap_path.display()
            );
        }
        if recorded && !self.broken.is_empty() {
            let path = self.pcap_path.with_extension(BROKEN_FRAMES_EXT);
            let mut text = format!(
                "# frames of {}.pcap broken on purpose (Sim::inject_broken), 1-based\n",
                self.name
            );
            for n in &self.broken {
                text.push_str(&format!("{n}\n"));
            }
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("sim `{}`: cannot write {}: {e}", self.name, path.display());
            }
        }
    }
}

fn wrong_type<T>(id: NodeId, actual: &str) -> ! {
    panic!(
        "node {} is a {actual}, not a {}",
        id.0,
        core::any::type_name::<T>()
    )
}
