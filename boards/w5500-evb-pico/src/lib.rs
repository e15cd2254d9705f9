//! The W5500-EVB-Pico's Ethernet: the WIZnet W5500's socket 0 in MACRAW
//! mode, as a smoltcp Ethernet [`Device`](smoltcp::phy::Device). Apart
//! from the RP2040 setup (main.rs), so it runs and is tested on the host
//! against a model of the chip.
//!
//! Why MACRAW with the MAC filter off: with MFEN on, the W5500 passes only
//! broadcast and frames to its own MAC (datasheet, Sn_MR), so Router
//! Advertisements to 33:33:00:00:00:01 and solicited-node Neighbor
//! Solicitations would never arrive. With it off the chip passes every
//! frame on the wire, and this driver filters in software: frames to our
//! MAC, broadcast (ARP), and the multicast groups the adapter asks for
//! ([`SoftFilter`]). A frame it does not want costs one 8-byte SPI read
//! (length and destination) and a pointer update, never its payload, and
//! at most [`SKIP_BUDGET`] of those are spent per call, so a link flooded
//! with multicast keeps the SPI bus, and the CPU, bounded.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use ndp_core::wire::MacAddr;
use ndp_smoltcp::MulticastFilter;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use w5500_ll::{
    BufferSize, Protocol, Registers, Sn, SocketCommand, SocketInterrupt, SocketInterruptMask,
    SocketMode, SocketStatus,
};

/// The largest Ethernet frame handled (without its FCS, which the W5500
/// strips).
pub const MAX_FRAME: usize = 1514;
/// Unwanted frames skipped per [`MacRaw::poll_frame`] call before it
/// gives up for this round.
pub const SKIP_BUDGET: usize = 16;
/// Multicast groups the software filter holds (the adapter's: all-nodes,
/// the solicited-node groups, the application's).
pub const GROUPS: usize = 16;
/// Status polls of a socket command before the chip counts as stuck.
const COMMAND_POLLS: usize = 10_000;
/// The chip's VERSIONR.
const W5500_VERSION: u8 = 0x04;
/// Socket 0's buffers: the chip's whole 16 KiB each way (MACRAW runs on
/// socket 0 only).
const BUFFER: BufferSize = BufferSize::KB16;

/// Why the chip could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError<E> {
    /// The SPI transfer failed.
    Spi(E),
    /// VERSIONR is not the W5500's (wiring, or no chip).
    Version(u8),
    /// Socket 0 did not reach MACRAW.
    Open(u8),
}

impl<E> From<E> for InitError<E> {
    fn from(e: E) -> Self {
        InitError::Spi(e)
    }
}

/// Frames dropped or lost by the driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames on the wire not for us (another unicast MAC, a group not
    /// joined), skipped after their header.
    pub skipped: u32,
    /// Frames whose length field was impossible: the socket was reopened.
    pub bad_length: u32,
    /// SPI errors.
    pub spi_errors: u32,
    /// Frames not sent: no room in the chip's buffer, or a send that did
    /// not complete.
    pub tx_dropped: u32,
}

/// The W5500's socket 0 in MACRAW mode over its registers `R` (the chip
/// over an SPI device in the firmware, a model in the tests).
#[derive(Debug)]
pub struct MacRaw<R> {
    /// The frame last received (what an [`RxToken`] lends).
    rx: [u8; MAX_FRAME],
    /// Everything else (what a [`TxToken`] borrows).
    io: Io<R>,
}

#[derive(Debug)]
struct Io<R> {
    regs: R,
    mac: MacAddr,
    groups: heapless::Vec<MacAddr, GROUPS>,
    /// More groups were asked for than fit: pass all multicast.
    all_multicast: bool,
    tx: [u8; MAX_FRAME],
    /// A SEND is in flight; the next waits for its SEND_OK.
    sending: bool,
    counters: Counters,
}

impl<R: Registers> MacRaw<R> {
    /// Set the chip up (after its hardware reset): check it is a W5500,
    /// give socket 0 all the buffer memory, open it in MACRAW mode with
    /// the MAC filter, broadcast and multicast blocking all off, and
    /// interrupt on receive (the INTn pin wakes the idle loop).
    pub fn init(mut regs: R, mac: MacAddr) -> Result<Self, InitError<R::Error>> {
        let version = regs.version()?;
        if version != W5500_VERSION {
            return Err(InitError::Version(version));
        }
        let [a, b, c, d, e, f] = mac.0;
        regs.set_shar(&w5500_ll::net::Eui48Addr::new(a, b, c, d, e, f))?;
        for &sn in Sn::iter() {
            let size = if sn == Sn::Sn0 {
                BUFFER
            } else {
                BufferSize::KB0
            };
            regs.set_sn_rxbuf_size(sn, size)?;
            regs.set_sn_txbuf_size(sn, size)?;
        }
        // MFEN, BCASTB, MMB, MIP6B all clear: every frame (see the crate
        // docs for why).
        regs.set_sn_mr(Sn::Sn0, SocketMode::DEFAULT.set_protocol(Protocol::Macraw))?;
        regs.set_sn_imr(Sn::Sn0, SocketInterruptMask::ALL_MASKED.unmask_recv())?;
        regs.set_simr(0x01)?;
        let mut io = Io {
            regs,
            mac,
            groups: heapless::Vec::new(),
            all_multicast: false,
            tx: [0; MAX_FRAME],
            sending: false,
            counters: Counters::default(),
        };
        io.open()?;
        Ok(MacRaw {
            rx: [0; MAX_FRAME],
            io,
        })
    }

    /// The registers, for the board (interrupt flags).
    pub fn regs_mut(&mut self) -> &mut R {
        &mut self.io.regs
    }

    /// What was dropped so far.
    pub fn counters(&self) -> Counters {
        self.io.counters
    }

    /// Whether the PHY reports a link (PHYCFGR.LNK).
    pub fn link_up(&mut self) -> bool {
        self.io
            .regs
            .phycfgr()
            .is_ok_and(|p| p.lnk() == w5500_ll::LinkStatus::Up)
    }

    /// Accept exactly these multicast MACs from now on (and our own and
    /// broadcast); more than [`GROUPS`] passes all multicast.
    pub fn accept_multicast(&mut self, macs: &[MacAddr]) {
        let io = &mut self.io;
        io.groups.clear();
        io.all_multicast = false;
        for m in macs {
            if io.groups.push(*m).is_err() {
                io.all_multicast = true;
            }
        }
    }

    /// The next frame for us, copied into the receive buffer: its
    /// length; `None` when none is waiting (or the skip budget is spent).
    /// Unwanted frames are skipped after reading their 2-byte length and
    /// 6-byte destination.
    pub fn poll_frame(&mut self) -> Option<usize> {
        match self.io.poll_frame(&mut self.rx) {
            Ok(f) => f,
            Err(_) => {
                let c = &mut self.io.counters;
                c.spi_errors = c.spi_errors.saturating_add(1);
                None
            }
        }
    }

    /// The frame [`MacRaw::poll_frame`] last returned the length of.
    pub fn frame(&self, len: usize) -> &[u8] {
        self.rx.get(..len).unwrap_or(&[])
    }
}

impl<R: Registers> Io<R> {
    /// (Re)open socket 0 in MACRAW mode, emptying its buffers.
    fn open(&mut self) -> Result<(), InitError<R::Error>> {
        self.command(SocketCommand::Close)?;
        self.command(SocketCommand::Open)?;
        self.sending = false;
        match self.regs.sn_sr(Sn::Sn0)? {
            Ok(SocketStatus::Macraw) => Ok(()),
            Ok(other) => Err(InitError::Open(other as u8)),
            Err(raw) => Err(InitError::Open(raw)),
        }
    }

    /// Issue `cmd` on socket 0 and wait until the chip took it (Sn_CR
    /// reads 0 again), within [`COMMAND_POLLS`].
    fn command(&mut self, cmd: SocketCommand) -> Result<bool, R::Error> {
        self.regs.set_sn_cr(Sn::Sn0, cmd)?;
        for _ in 0..COMMAND_POLLS {
            if self.regs.sn_cr(Sn::Sn0)? == 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn wanted(&self, dst: MacAddr) -> bool {
        dst == self.mac
            || dst == MacAddr([0xff; 6])
            || (dst.0[0] & 1 == 1 && (self.all_multicast || self.groups.contains(&dst)))
    }

    fn poll_frame(&mut self, rx: &mut [u8; MAX_FRAME]) -> Result<Option<usize>, R::Error> {
        for _ in 0..=SKIP_BUDGET {
            // Datasheet: read Sn_RX_RSR until two reads agree.
            let mut waiting = self.regs.sn_rx_rsr(Sn::Sn0)?;
            for _ in 0..COMMAND_POLLS {
                let again = self.regs.sn_rx_rsr(Sn::Sn0)?;
                if again == waiting {
                    break;
                }
                waiting = again;
            }
            if waiting < 2 {
                // Empty: clear RECV, which holds INTn low, then look once
                // more, so a frame that came in between is not left
                // waiting for the next one.
                self.regs.set_sn_ir(Sn::Sn0, SocketInterrupt::RECV_MASK)?;
                if self.regs.sn_rx_rsr(Sn::Sn0)? < 2 {
                    return Ok(None);
                }
                continue;
            }
            let ptr = self.regs.sn_rx_rd(Sn::Sn0)?;
            // MACRAW: each frame is a 2-byte big-endian length (itself
            // included), then the frame.
            let mut head = [0u8; 8];
            let head_len = if waiting >= 8 { 8 } else { 2 };
            self.regs
                .sn_rx_buf(Sn::Sn0, ptr, head.get_mut(..head_len).unwrap_or(&mut []))?;
            let [l0, l1, d0, d1, d2, d3, d4, d5] = head;
            let total = u16::from_be_bytes([l0, l1]);
            let frame = usize::from(total).saturating_sub(2);
            if total < 2 + 14 || frame > MAX_FRAME || total > waiting {
                // A length that cannot be: the buffer is out of step.
                // Reopening the socket empties it.
                self.counters.bad_length = self.counters.bad_length.saturating_add(1);
                let _ = self.open();
                return Ok(None);
            }
            let next = ptr.wrapping_add(total);
            if !self.wanted(MacAddr([d0, d1, d2, d3, d4, d5])) {
                self.counters.skipped = self.counters.skipped.saturating_add(1);
                self.regs.set_sn_rx_rd(Sn::Sn0, next)?;
                self.command(SocketCommand::Recv)?;
                continue;
            }
            let buf = rx.get_mut(..frame).unwrap_or(&mut []);
            self.regs.sn_rx_buf(Sn::Sn0, ptr.wrapping_add(2), buf)?;
            self.regs.set_sn_rx_rd(Sn::Sn0, next)?;
            self.command(SocketCommand::Recv)?;
            return Ok(Some(frame));
        }
        Ok(None)
    }

    /// Send `len` bytes of the transmit buffer; false when dropped.
    fn send(&mut self, len: usize) -> bool {
        let sent = self.try_send(len).unwrap_or_else(|_| {
            self.counters.spi_errors = self.counters.spi_errors.saturating_add(1);
            false
        });
        if !sent {
            self.counters.tx_dropped = self.counters.tx_dropped.saturating_add(1);
        }
        sent
    }

    fn try_send(&mut self, len: usize) -> Result<bool, R::Error> {
        let (Some(frame), Ok(n)) = (self.tx.get(..len), u16::try_from(len)) else {
            return Ok(false);
        };
        // The previous SEND first: the datasheet asks for its SEND_OK
        // before the next.
        if self.sending {
            let mut done = false;
            for _ in 0..COMMAND_POLLS {
                if self.regs.sn_ir(Sn::Sn0)?.sendok_raised() {
                    done = true;
                    break;
                }
            }
            if !done {
                return Ok(false);
            }
            self.regs.set_sn_ir(Sn::Sn0, SocketInterrupt::SENDOK_MASK)?;
            self.sending = false;
        }
        if self.regs.sn_tx_fsr(Sn::Sn0)? < n {
            return Ok(false);
        }
        let ptr = self.regs.sn_tx_wr(Sn::Sn0)?;
        self.regs.set_sn_tx_buf(Sn::Sn0, ptr, frame)?;
        self.regs.set_sn_tx_wr(Sn::Sn0, ptr.wrapping_add(n))?;
        let took = self.command(SocketCommand::Send)?;
        self.sending = took;
        Ok(took)
    }
}

impl<R: Registers> phy::Device for MacRaw<R> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, R>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let len = self.poll_frame()?;
        let MacRaw { rx, io } = self;
        Some((RxToken(rx.get(..len).unwrap_or(&[])), TxToken(io)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(TxToken(&mut self.io))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(1);
        caps
    }
}

/// A received frame.
pub struct RxToken<'a>(&'a [u8]);

impl phy::RxToken for RxToken<'_> {
    fn consume<Ret, F>(self, f: F) -> Ret
    where
        F: FnOnce(&[u8]) -> Ret,
    {
        f(self.0)
    }
}

/// Room for a frame to send: written into the driver's buffer, then
/// copied into the chip and sent.
pub struct TxToken<'a, R>(&'a mut Io<R>);

impl<R: Registers> phy::TxToken for TxToken<'_, R> {
    fn consume<Ret, F>(self, len: usize, f: F) -> Ret
    where
        F: FnOnce(&mut [u8]) -> Ret,
    {
        let len = len.min(MAX_FRAME);
        let io = self.0;
        let r = f(io.tx.get_mut(..len).unwrap_or(&mut []));
        io.send(len);
        r
    }
}

/// The board's MAC address (the W5500 has none of its own, and the
/// RP2040 no unique ID without taking the flash out of XIP mode): a
/// locally administered unicast address (IEEE 802, RFC 7042 §2.1) hashed
/// from the RFC 7217 secret with SHA-256, so it is as stable as the
/// secret (drawn once, kept in flash) and tells nothing about it. A new
/// secret (`--reset-secret`) gives a new MAC.
pub fn mac_from_secret(secret: &[u8; 16]) -> MacAddr {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"ndp w5500-evb-pico MAC");
    h.update(secret);
    let d = h.finalize();
    let mut mac = [0u8; 6];
    for (m, b) in mac.iter_mut().zip(d.iter()) {
        *m = *b;
    }
    mac[0] = (mac[0] & 0xfc) | 0x02;
    MacAddr(mac)
}

/// The adapter's multicast filter for [`MacRaw`]: the chip passes
/// everything, so the filter is the driver's own ([`MacRaw::accept_multicast`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftFilter;

impl<R: Registers> MulticastFilter<MacRaw<R>> for SoftFilter {
    fn set_multicast_macs(&mut self, device: &mut MacRaw<R>, macs: &[MacAddr]) {
        device.accept_multicast(macs);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use smoltcp::phy::{Device, RxToken as _, TxToken as _};
    use w5500_ll::{Reg, SnReg};

    use super::*;

    const BUF: usize = 16 * 1024;
    const OUR: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const ALL_NODES: MacAddr = MacAddr([0x33, 0x33, 0, 0, 0, 1]);

    /// A W5500 as far as this driver uses it: registers, socket 0's
    /// 16 KiB ring buffers (addresses wrap, as the chip's do), the
    /// commands, and a count of the bytes moved over SPI.
    struct Chip {
        regs: HashMap<(u8, u16), u8>,
        rx: Vec<u8>,
        tx: Vec<u8>,
        /// Where the next received frame goes (the chip's RX_WR).
        rx_wr: u16,
        /// How far the chip has sent (TX_RD).
        tx_rd: u16,
        sent: Vec<Vec<u8>>,
        spi_bytes: usize,
        /// SEND completes (SEND_OK) only when this is set.
        send_completes: bool,
        version: u8,
    }

    impl Chip {
        fn new() -> Self {
            Chip {
                regs: HashMap::new(),
                rx: vec![0; BUF],
                tx: vec![0; BUF],
                rx_wr: 0,
                tx_rd: 0,
                sent: Vec::new(),
                spi_bytes: 0,
                send_completes: true,
                version: 0x04,
            }
        }

        fn reg16(&self, block: u8, addr: u16) -> u16 {
            let hi = self.regs.get(&(block, addr)).copied().unwrap_or(0);
            let lo = self.regs.get(&(block, addr + 1)).copied().unwrap_or(0);
            u16::from_be_bytes([hi, lo])
        }

        fn set16(&mut self, block: u8, addr: u16, v: u16) {
            let [hi, lo] = v.to_be_bytes();
            self.regs.insert((block, addr), hi);
            self.regs.insert((block, addr + 1), lo);
        }

        /// A frame arrives from the wire.
        fn arrive(&mut self, frame: &[u8]) {
            let total = (frame.len() + 2) as u16;
            let mut bytes = total.to_be_bytes().to_vec();
            bytes.extend_from_slice(frame);
            for (i, b) in bytes.iter().enumerate() {
                self.rx[(usize::from(self.rx_wr) + i) % BUF] = *b;
            }
            self.rx_wr = self.rx_wr.wrapping_add(total);
            // Sn_IR.RECV, which pulls INTn low.
            let key = (Sn::Sn0.block(), SnReg::IR.addr());
            let ir = self.regs.get(&key).copied().unwrap_or(0);
            self.regs.insert(key, ir | SocketInterrupt::RECV_MASK);
        }

        fn int_low(&self) -> bool {
            let ir = self
                .regs
                .get(&(Sn::Sn0.block(), SnReg::IR.addr()))
                .copied()
                .unwrap_or(0);
            ir & SocketInterrupt::RECV_MASK != 0
        }

        fn s0(&self) -> u8 {
            Sn::Sn0.block()
        }
    }

    impl Registers for Chip {
        type Error = ();

        fn read(&mut self, addr: u16, block: u8, data: &mut [u8]) -> Result<(), ()> {
            self.spi_bytes += 3 + data.len();
            if block == Sn::Sn0.rx_block() {
                for (i, d) in data.iter_mut().enumerate() {
                    *d = self.rx[(usize::from(addr) + i) % BUF];
                }
                return Ok(());
            }
            let s0 = self.s0();
            let value = |chip: &Chip, a: u16| -> u8 {
                if block == 0 && a == Reg::VERSIONR.addr() {
                    return chip.version;
                }
                if block == s0 && (a == SnReg::RX_RSR0.addr() || a == SnReg::RX_RSR0.addr() + 1) {
                    let rd = chip.reg16(s0, SnReg::RX_RD0.addr());
                    let rsr = chip.rx_wr.wrapping_sub(rd).to_be_bytes();
                    return rsr[usize::from(a - SnReg::RX_RSR0.addr())];
                }
                if block == s0 && (a == SnReg::TX_FSR0.addr() || a == SnReg::TX_FSR0.addr() + 1) {
                    let wr = chip.reg16(s0, SnReg::TX_WR0.addr());
                    let fsr = (BUF as u16).wrapping_sub(wr.wrapping_sub(chip.tx_rd));
                    return fsr.to_be_bytes()[usize::from(a - SnReg::TX_FSR0.addr())];
                }
                chip.regs.get(&(block, a)).copied().unwrap_or(0)
            };
            for (i, d) in data.iter_mut().enumerate() {
                *d = value(self, addr + i as u16);
            }
            Ok(())
        }

        fn write(&mut self, addr: u16, block: u8, data: &[u8]) -> Result<(), ()> {
            self.spi_bytes += 3 + data.len();
            if block == Sn::Sn0.tx_block() {
                for (i, b) in data.iter().enumerate() {
                    self.tx[(usize::from(addr) + i) % BUF] = *b;
                }
                return Ok(());
            }
            for (i, b) in data.iter().enumerate() {
                self.regs.insert((block, addr + i as u16), *b);
            }
            let s0 = self.s0();
            if block == s0 && addr == SnReg::CR.addr() {
                match data.first().copied() {
                    Some(0x01) => {
                        // OPEN: MACRAW, pointers at 0, buffers empty.
                        let mr = self.regs.get(&(s0, SnReg::MR.addr())).copied().unwrap_or(0);
                        let sr = if mr & 0x0f == 0x04 { 0x42 } else { 0 };
                        self.regs.insert((s0, SnReg::SR.addr()), sr);
                        self.rx_wr = 0;
                        self.tx_rd = 0;
                        for r in [SnReg::RX_RD0, SnReg::TX_WR0] {
                            self.set16(s0, r.addr(), 0);
                        }
                    }
                    Some(0x10) => {
                        self.regs.insert((s0, SnReg::SR.addr()), 0);
                    }
                    Some(0x20) => {
                        let wr = self.reg16(s0, SnReg::TX_WR0.addr());
                        let n = usize::from(wr.wrapping_sub(self.tx_rd));
                        let frame = (0..n)
                            .map(|i| self.tx[(usize::from(self.tx_rd) + i) % BUF])
                            .collect();
                        self.sent.push(frame);
                        self.tx_rd = wr;
                        if self.send_completes {
                            let ir = self.regs.get(&(s0, SnReg::IR.addr())).copied().unwrap_or(0);
                            self.regs
                                .insert((s0, SnReg::IR.addr()), ir | SocketInterrupt::SENDOK_MASK);
                        }
                    }
                    _ => {}
                }
                // The chip clears Sn_CR once it took the command.
                self.regs.insert((s0, SnReg::CR.addr()), 0);
            }
            if block == s0 && addr == SnReg::IR.addr() {
                // Writing 1 clears.
                let old = self.regs.get(&(s0, SnReg::IR.addr())).copied().unwrap_or(0);
                let w = data.first().copied().unwrap_or(0);
                self.regs.insert((s0, SnReg::IR.addr()), old & !w);
            }
            Ok(())
        }
    }

    fn frame(dst: MacAddr, fill: u8, len: usize) -> Vec<u8> {
        let mut f = vec![fill; len];
        f[..6].copy_from_slice(&dst.0);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        f
    }

    fn device() -> MacRaw<Chip> {
        let mut d = MacRaw::init(Chip::new(), OUR).unwrap();
        d.accept_multicast(&[ALL_NODES]);
        d
    }

    fn received(d: &mut MacRaw<Chip>) -> Option<Vec<u8>> {
        let (rx, _) = d.receive(Instant::from_millis(0))?;
        Some(rx.consume(|f| f.to_vec()))
    }

    #[test]
    fn the_mac_is_local_unicast_stable_and_one_way() {
        let a = mac_from_secret(&[1; 16]);
        let b = mac_from_secret(&[2; 16]);
        for m in [a, b] {
            assert_eq!(m.0[0] & 0x03, 0x02, "local unicast");
        }
        assert_eq!(a, mac_from_secret(&[1; 16]));
        assert_ne!(a, b);
        // Not the secret's own bytes.
        assert_ne!(&mac_from_secret(&[0x42; 16]).0[1..], &[0x42; 5]);
    }

    #[test]
    fn init_opens_socket_0_in_macraw_with_every_filter_off() {
        let d = device();
        let chip = &d.io.regs;
        let s0 = Sn::Sn0.block();
        // MACRAW, MFEN/BCASTB/MMB/MIP6B clear.
        assert_eq!(chip.regs[&(s0, SnReg::MR.addr())], 0x04);
        assert_eq!(chip.regs[&(s0, SnReg::SR.addr())], 0x42);
        assert_eq!(chip.regs[&(s0, SnReg::RXBUF_SIZE.addr())], 16);
        assert_eq!(chip.regs[&(Sn::Sn1.block(), SnReg::RXBUF_SIZE.addr())], 0);
        assert_eq!(chip.regs[&(0, Reg::SHAR0.addr())], 2);
        // Receive interrupts on, for INTn.
        assert_eq!(chip.regs[&(0, Reg::SIMR.addr())], 1);
        assert_eq!(chip.regs[&(s0, SnReg::IMR.addr())] & 0x04, 0x04);

        let mut wrong = Chip::new();
        wrong.version = 0xff;
        assert!(matches!(
            MacRaw::init(wrong, OUR),
            Err(InitError::Version(0xff))
        ));
    }

    #[test]
    fn frames_for_us_pass_and_the_rest_cost_one_header_read() {
        let mut d = device();
        let ours = frame(OUR, 1, 60);
        let group = frame(ALL_NODES, 2, 90);
        let broadcast = frame(MacAddr([0xff; 6]), 3, 60);
        let other_host = frame(MacAddr([2, 9, 9, 9, 9, 9]), 4, 1500);
        let other_group = frame(MacAddr([0x33, 0x33, 0xff, 0, 0, 7]), 5, 1500);
        for f in [&other_host, &ours, &other_group, &group, &broadcast] {
            d.io.regs.arrive(f);
        }
        d.io.regs.spi_bytes = 0;
        assert_eq!(received(&mut d), Some(ours.clone()));
        assert_eq!(received(&mut d), Some(group));
        assert!(d.io.regs.int_low());
        assert_eq!(received(&mut d), Some(broadcast));
        assert_eq!(received(&mut d), None);
        // Drained: RECV cleared, so INTn rises until the next frame.
        assert!(!d.io.regs.int_low());
        assert_eq!(d.counters().skipped, 2);
        // The two 1500-byte frames nobody wants were never read whole.
        let wanted_bytes = 60 + 90 + 60;
        assert!(
            d.io.regs.spi_bytes < wanted_bytes + 400,
            "{} SPI bytes",
            d.io.regs.spi_bytes
        );
        // Joining the group lets its next frame in.
        d.accept_multicast(&[ALL_NODES, MacAddr([0x33, 0x33, 0xff, 0, 0, 7])]);
        d.io.regs.arrive(&other_group);
        assert_eq!(received(&mut d), Some(other_group));
    }

    #[test]
    fn a_multicast_flood_is_skipped_a_bounded_number_per_call() {
        let mut d = device();
        for i in 0..100u8 {
            d.io.regs
                .arrive(&frame(MacAddr([0x33, 0x33, 0, 0, 1, i]), i, 64));
        }
        d.io.regs.arrive(&frame(OUR, 0xaa, 64));
        let mut calls = 0;
        let got = loop {
            calls += 1;
            d.io.regs.spi_bytes = 0;
            if let Some(f) = received(&mut d) {
                break f;
            }
            // One call's SPI traffic: a bounded number of header reads.
            assert!(
                d.io.regs.spi_bytes < 100 * (SKIP_BUDGET + 1),
                "{}",
                d.io.regs.spi_bytes
            );
        };
        assert_eq!(got[6..], frame(OUR, 0xaa, 64)[6..]);
        assert!(calls > 1, "a call must not skip all 100");
        assert_eq!(d.counters().skipped, 100);
    }

    #[test]
    fn frames_come_out_whole_across_the_end_of_the_ring() {
        let mut d = device();
        let big = 1514;
        // Fill and drain until the write pointer sits near the end of
        // the 16 KiB ring, then one frame straddles it.
        for i in 0..10u8 {
            d.io.regs.arrive(&frame(OUR, i, big));
            assert_eq!(received(&mut d).unwrap().len(), big);
        }
        let start = usize::from(d.io.regs.rx_wr) % BUF;
        assert!(start + big + 2 > BUF, "straddles: starts at {start}");
        let f = frame(OUR, 0x5a, big);
        d.io.regs.arrive(&f);
        assert_eq!(received(&mut d), Some(f));
    }

    #[test]
    fn an_impossible_length_reopens_the_socket() {
        let mut d = device();
        d.io.regs.arrive(&frame(OUR, 1, 60));
        // Corrupt the length field of the frame in the ring.
        d.io.regs.rx[0] = 0x7f;
        assert_eq!(received(&mut d), None);
        assert_eq!(d.counters().bad_length, 1);
        // Reopened: empty, and frames flow again.
        d.io.regs.arrive(&frame(OUR, 2, 60));
        assert_eq!(received(&mut d).unwrap()[12], 2);
    }

    #[test]
    fn frames_are_sent_one_send_ok_at_a_time() {
        let mut d = device();
        let t = Instant::from_millis(0);
        d.transmit(t).unwrap().consume(60, |b| b.fill(7));
        d.transmit(t).unwrap().consume(70, |b| b.fill(8));
        assert_eq!(d.io.regs.sent, [vec![7; 60], vec![8; 70]]);
        // A SEND that never completes: the next frame is dropped, not
        // written over it.
        d.io.regs.send_completes = false;
        d.transmit(t).unwrap().consume(60, |b| b.fill(9));
        d.transmit(t).unwrap().consume(60, |b| b.fill(10));
        assert_eq!(d.io.regs.sent.len(), 3);
        assert_eq!(d.counters().tx_dropped, 1);
    }

    #[test]
    fn more_groups_than_fit_pass_all_multicast() {
        let mut d = device();
        let many: Vec<MacAddr> = (0..=GROUPS as u8)
            .map(|i| MacAddr([0x33, 0x33, 0xff, 0, 0, i]))
            .collect();
        d.accept_multicast(&many);
        let f = frame(MacAddr([0x33, 0x33, 0x12, 0x34, 0x56, 0x78]), 1, 60);
        d.io.regs.arrive(&f);
        assert_eq!(received(&mut d), Some(f));
    }
}
