//! SMSC (Microchip) LAN9118 driver: a smoltcp Ethernet `Device` and the
//! adapter's [`MulticastFilter`].
//!
//! The LAN9118 is a MAC + PHY with FIFOs behind a 32-bit register window
//! (datasheet DS00002266, "LAN9118 High Performance single-chip 10/100
//! Non-PCI Ethernet Controller"; QEMU models it in `hw/net/lan9118.c`):
//!
//! - receive: the RX status FIFO holds one word per frame (length in bits
//!   29:16, CRC included; error summary in bit 15); the frame itself is read
//!   word by word, little-endian, from the RX data FIFO at 0x00;
//! - transmit: TX command A (first and last segment, buffer size) and B
//!   (tag, frame length), then the frame's words into the TX data FIFO at
//!   0x20; one TX status word per frame comes back at 0x48;
//! - the MAC's own registers (MAC_CR, address, multicast hash, MII) are
//!   indirect, through MAC_CSR_CMD and MAC_CSR_DATA;
//! - the PHY sits at MII address 1; its interrupt source register (29)
//!   tells link changes, its basic status register (1) the link state.
//!
//! Fault handling, each counted in [`Stats`] and none of them blocking:
//! frames with the error-summary bit or an impossible length are read out
//! of the FIFO and dropped; RX overruns (RXDF interrupt, RX_DROP counter)
//! are counted; a TX FIFO without room for a whole frame makes `transmit`
//! return `None` (smoltcp and the adapter retry later); frames sent while
//! the link is down are dropped; the link state follows the PHY's
//! interrupts. Every wait on the chip is bounded.

use ndp_core::wire::MacAddr;
use ndp_smoltcp::MulticastFilter;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::mmio::Bus;

/// Register offsets (datasheet §5.3, "System Control and Status
/// Registers").
mod reg {
    pub const RX_DATA: usize = 0x00;
    pub const TX_DATA: usize = 0x20;
    pub const RX_STATUS: usize = 0x40;
    pub const TX_STATUS: usize = 0x48;
    pub const ID_REV: usize = 0x50;
    pub const IRQ_CFG: usize = 0x54;
    pub const INT_STS: usize = 0x58;
    pub const INT_EN: usize = 0x5c;
    pub const BYTE_TEST: usize = 0x64;
    pub const FIFO_INT: usize = 0x68;
    pub const RX_CFG: usize = 0x6c;
    pub const TX_CFG: usize = 0x70;
    pub const HW_CFG: usize = 0x74;
    pub const RX_FIFO_INF: usize = 0x7c;
    pub const TX_FIFO_INF: usize = 0x80;
    pub const PMT_CTRL: usize = 0x84;
    pub const RX_DROP: usize = 0xa0;
    pub const MAC_CSR_CMD: usize = 0xa4;
    pub const MAC_CSR_DATA: usize = 0xa8;
}

/// INT_STS / INT_EN bits.
pub mod int {
    /// RX status FIFO level reached (a frame is waiting).
    pub const RSFL: u32 = 1 << 3;
    /// RX dropped frame: the RX data FIFO overran.
    pub const RXDF: u32 = 1 << 6;
    /// TX data FIFO overrun (a frame larger than the room announced).
    pub const TDFO: u32 = 1 << 10;
    /// Transmitter error.
    pub const TXE: u32 = 1 << 13;
    /// Receiver error (RX FIFO underrun by the host).
    pub const RXE: u32 = 1 << 14;
    /// PHY interrupt (link change).
    pub const PHY: u32 = 1 << 18;
}

/// MAC CSR indexes (datasheet §5.4).
mod mac {
    pub const CR: u32 = 1;
    pub const ADDRH: u32 = 2;
    pub const ADDRL: u32 = 3;
    pub const HASHH: u32 = 4;
    pub const HASHL: u32 = 5;
    pub const MII_ACC: u32 = 6;
    pub const MII_DATA: u32 = 7;
}

/// MAC_CR bits.
mod mac_cr {
    pub const RXEN: u32 = 1 << 2;
    pub const TXEN: u32 = 1 << 3;
    /// Hash/perfect filter: multicast by the 64-bit hash.
    pub const HPFILT: u32 = 1 << 13;
    pub const FDPX: u32 = 1 << 20;
}

/// PHY registers and bits (datasheet §5.5).
mod phy_reg {
    pub const BCR: u32 = 0;
    pub const BSR: u32 = 1;
    pub const INT_SOURCE: u32 = 29;
    pub const INT_MASK: u32 = 30;
    pub const BCR_ANEG_ENABLE: u32 = 1 << 12;
    pub const BCR_ANEG_RESTART: u32 = 1 << 9;
    pub const BSR_LINK_UP: u32 = 1 << 2;
    /// Interrupt sources: link down, auto-negotiation complete, energy on.
    pub const INT_LINK: u32 = 0x10 | 0x40 | 0x80;
}

/// MII address of the internal PHY.
const PHY_ADDR: u32 = 1;
/// BYTE_TEST reads this on a LAN9118 in 32-bit mode.
pub const BYTE_TEST_VALUE: u32 = 0x8765_4321;
/// Largest Ethernet frame the driver carries, without FCS (1500 bytes of
/// payload, no VLAN tag).
pub const MAX_FRAME: usize = 1514;
/// The receive and transmit buffers: a whole frame plus its FCS, in words.
const BUF_WORDS: usize = 384;
/// Iterations of a register poll before the chip counts as stuck.
const SPIN_LIMIT: u32 = 100_000;
/// Frames `receive` looks at per call while skipping bad ones.
const RX_SKIP_LIMIT: usize = 8;
/// RX status bits.
const RX_STS_ES: u32 = 1 << 15;
/// TX status: error summary.
const TX_STS_ES: u32 = 1 << 15;
/// TX command A: first and last segment of a frame.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;
/// TX FIFO room needed for one frame: the frame rounded up to words, plus
/// the two command words.
const TX_ROOM: u32 = (MAX_FRAME as u32).div_ceil(4) * 4 + 8;

/// Why the chip could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// BYTE_TEST did not read 0x8765_4321: no LAN9118 there, or the bus is
    /// not in 32-bit mode.
    NotFound {
        /// What BYTE_TEST read.
        byte_test: u32,
    },
    /// The soft reset (HW_CFG.SRST) did not finish.
    ResetTimeout,
    /// The chip did not report READY (PMT_CTRL bit 0) after reset.
    NotReady,
    /// A MAC or PHY register access did not complete.
    CsrTimeout,
    /// The MAC address register holds no usable unicast address (no
    /// EEPROM): give one with [`Lan9118::init_with_mac`].
    NoMac,
}

/// The driver's counters; all saturate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames received and handed up.
    pub rx_frames: u32,
    /// Received frames dropped: error summary set (CRC, runt, too long).
    pub rx_errors: u32,
    /// Received frames dropped: length outside 14..=1514 bytes.
    pub rx_bad_length: u32,
    /// Frames the chip dropped because its RX FIFO was full (RXDF
    /// interrupts plus the RX_DROP counter).
    pub rx_overruns: u32,
    /// Frames written to the TX FIFO.
    pub tx_frames: u32,
    /// TX status words with the error summary set.
    pub tx_errors: u32,
    /// Times `transmit` found no room in the TX FIFO.
    pub tx_fifo_full: u32,
    /// Frames dropped because the link was down.
    pub tx_link_down: u32,
    /// Frames dropped because they were longer than [`MAX_FRAME`].
    pub tx_oversize: u32,
    /// Link changes seen.
    pub link_changes: u32,
}

fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// A LAN9118 on bus `B`.
pub struct Lan9118<B: Bus> {
    hw: Hw<B>,
    /// The last frame received (split from the rest so that a receive
    /// token can borrow it while its transmit token borrows `hw`).
    rx: [u8; BUF_WORDS * 4],
}

/// Everything but the receive buffer.
struct Hw<B: Bus> {
    bus: B,
    mac: MacAddr,
    link_up: bool,
    tx: [u8; BUF_WORDS * 4],
    stats: Stats,
}

impl<B: Bus> Lan9118<B> {
    /// Reset the chip and bring it up with the MAC address it loaded from
    /// its EEPROM (QEMU: the `-nic ...,mac=` address).
    pub fn init(bus: B) -> Result<Self, InitError> {
        let mut nic = Self::reset(bus)?;
        let mac = nic.hw.read_mac()?;
        if !mac.is_unicast() || mac.0 == [0; 6] {
            return Err(InitError::NoMac);
        }
        nic.hw.mac = mac;
        nic.hw.start()?;
        Ok(nic)
    }

    /// Reset the chip and bring it up with `mac`.
    pub fn init_with_mac(bus: B, mac: MacAddr) -> Result<Self, InitError> {
        let mut nic = Self::reset(bus)?;
        nic.hw.mac = mac;
        let [a, b, c, d, e, f] = mac.0;
        nic.hw
            .mac_write(mac::ADDRL, u32::from_le_bytes([a, b, c, d]))?;
        nic.hw
            .mac_write(mac::ADDRH, u32::from_le_bytes([e, f, 0, 0]))?;
        nic.hw.start()?;
        Ok(nic)
    }

    fn reset(bus: B) -> Result<Self, InitError> {
        let byte_test = bus.read(reg::BYTE_TEST);
        if byte_test != BYTE_TEST_VALUE {
            return Err(InitError::NotFound { byte_test });
        }
        // Datasheet §6.2: soft reset, wait for SRST to clear, then READY.
        bus.write(reg::HW_CFG, 1);
        if !spin(|| bus.read(reg::HW_CFG) & 1 == 0) {
            return Err(InitError::ResetTimeout);
        }
        if !spin(|| bus.read(reg::PMT_CTRL) & 1 != 0) {
            return Err(InitError::NotReady);
        }
        Ok(Lan9118 {
            hw: Hw {
                bus,
                mac: MacAddr([0; 6]),
                link_up: false,
                tx: [0; BUF_WORDS * 4],
                stats: Stats::default(),
            },
            rx: [0; BUF_WORDS * 4],
        })
    }

    /// The MAC address in use.
    pub fn mac(&self) -> MacAddr {
        self.hw.mac
    }

    /// The chip's ID_REV register (0x0118_xxxx on a LAN9118).
    pub fn id_rev(&self) -> u32 {
        self.hw.bus.read(reg::ID_REV)
    }

    /// The driver's counters.
    pub fn stats(&self) -> &Stats {
        &self.hw.stats
    }

    /// Whether the PHY reported the link up at the last check.
    pub fn link_up(&self) -> bool {
        self.hw.link_up
    }

    /// Acknowledge the interrupt sources that only say "look at the
    /// FIFOs" and tell whether anything still needs the CPU: a frame
    /// waiting, or an unacknowledged link change. A board calls it with
    /// interrupts masked right before it sleeps: a frame that arrives
    /// after this call raises the interrupt again and ends the sleep.
    pub fn prepare_sleep(&mut self) -> bool {
        let hw = &mut self.hw;
        hw.check_overrun();
        hw.bus
            .write(reg::INT_STS, int::RSFL | int::TDFO | int::TXE | int::RXE);
        let frames_waiting = (hw.bus.read(reg::RX_FIFO_INF) >> 16) & 0xff != 0;
        frames_waiting || hw.bus.read(reg::INT_STS) & int::PHY != 0
    }

    /// A link change since the last call, from the PHY's interrupt.
    pub fn poll_link(&mut self) -> Option<bool> {
        let hw = &mut self.hw;
        if hw.bus.read(reg::INT_STS) & int::PHY == 0 {
            return None;
        }
        // Reading the PHY's interrupt source clears it; then the chip's.
        let _ = hw.phy_read(phy_reg::INT_SOURCE);
        hw.bus.write(reg::INT_STS, int::PHY);
        let up = hw.read_link().unwrap_or(hw.link_up);
        if up == hw.link_up {
            return None;
        }
        hw.link_up = up;
        bump(&mut hw.stats.link_changes);
        Some(up)
    }

    /// Program the multicast hash filter to accept `macs` (and whatever
    /// else shares their hash bits; the adapter filters exactly).
    pub fn set_multicast(&mut self, macs: &[MacAddr]) {
        let (high, low) = hash_filter(macs);
        // A register access that does not complete leaves the previous
        // filter; nothing else to do about a stuck chip here.
        let _ = self
            .hw
            .mac_write(mac::HASHH, high)
            .and_then(|()| self.hw.mac_write(mac::HASHL, low));
    }
}

impl<B: Bus> Hw<B> {
    fn start(&mut self) -> Result<(), InitError> {
        let bus = &self.bus;
        // TX FIFO 5 KB (TX_FIF_SZ = 5) and the must-be-one bit 20.
        bus.write(reg::HW_CFG, (5 << 16) | (1 << 20));
        // An RX status interrupt as soon as one frame is waiting.
        bus.write(reg::FIFO_INT, 0x4800_0000);
        // No RX offset or padding; transmitter on.
        bus.write(reg::RX_CFG, 0);
        bus.write(reg::TX_CFG, 1 << 1);
        // Our address, broadcast, and multicast by the hash (all groups
        // off until the adapter programs them); full duplex.
        self.mac_write(mac::HASHH, 0)?;
        self.mac_write(mac::HASHL, 0)?;
        self.mac_write(
            mac::CR,
            mac_cr::RXEN | mac_cr::TXEN | mac_cr::HPFILT | mac_cr::FDPX,
        )?;
        // PHY: interrupts on link changes, auto-negotiation (re)started.
        self.phy_write(phy_reg::INT_MASK, phy_reg::INT_LINK)?;
        self.phy_read(phy_reg::INT_SOURCE)?;
        self.phy_write(
            phy_reg::BCR,
            phy_reg::BCR_ANEG_ENABLE | phy_reg::BCR_ANEG_RESTART,
        )?;
        self.link_up = self.read_link()?;
        let bus = &self.bus;
        // IRQ pin: enabled, push-pull, active high (IRQ_EN | IRQ_POL |
        // IRQ_TYPE), which is what an NVIC input expects.
        bus.write(reg::IRQ_CFG, 0x111);
        bus.write(reg::INT_STS, u32::MAX);
        bus.write(
            reg::INT_EN,
            int::RSFL | int::RXDF | int::TDFO | int::TXE | int::RXE | int::PHY,
        );
        Ok(())
    }

    fn read_link(&mut self) -> Result<bool, InitError> {
        // The link bit latches low: the second read is the current state.
        self.phy_read(phy_reg::BSR)?;
        Ok(self.phy_read(phy_reg::BSR)? & phy_reg::BSR_LINK_UP != 0)
    }

    fn read_mac(&mut self) -> Result<MacAddr, InitError> {
        let [a, b, c, d] = self.mac_read(mac::ADDRL)?.to_le_bytes();
        let [e, f, _, _] = self.mac_read(mac::ADDRH)?.to_le_bytes();
        Ok(MacAddr([a, b, c, d, e, f]))
    }

    fn mac_wait(&self) -> Result<(), InitError> {
        // MAC_CSR_CMD bit 31: busy.
        if spin(|| self.bus.read(reg::MAC_CSR_CMD) & (1 << 31) == 0) {
            Ok(())
        } else {
            Err(InitError::CsrTimeout)
        }
    }

    fn mac_read(&self, index: u32) -> Result<u32, InitError> {
        self.mac_wait()?;
        self.bus
            .write(reg::MAC_CSR_CMD, 0xc000_0000 | (index & 0xff));
        self.mac_wait()?;
        Ok(self.bus.read(reg::MAC_CSR_DATA))
    }

    fn mac_write(&self, index: u32, value: u32) -> Result<(), InitError> {
        self.mac_wait()?;
        self.bus.write(reg::MAC_CSR_DATA, value);
        self.bus
            .write(reg::MAC_CSR_CMD, 0x8000_0000 | (index & 0xff));
        self.mac_wait()
    }

    fn mii_wait(&self) -> Result<(), InitError> {
        // MII_ACC bit 0: busy.
        for _ in 0..SPIN_LIMIT {
            if self.mac_read(mac::MII_ACC)? & 1 == 0 {
                return Ok(());
            }
        }
        Err(InitError::CsrTimeout)
    }

    fn phy_read(&self, reg: u32) -> Result<u32, InitError> {
        self.mii_wait()?;
        self.mac_write(mac::MII_ACC, (PHY_ADDR << 11) | ((reg & 0x1f) << 6) | 1)?;
        self.mii_wait()?;
        Ok(self.mac_read(mac::MII_DATA)? & 0xffff)
    }

    fn phy_write(&self, reg: u32, value: u32) -> Result<(), InitError> {
        self.mii_wait()?;
        self.mac_write(mac::MII_DATA, value & 0xffff)?;
        self.mac_write(
            mac::MII_ACC,
            (PHY_ADDR << 11) | ((reg & 0x1f) << 6) | (1 << 1) | 1,
        )?;
        self.mii_wait()
    }

    /// Count frames the chip dropped for lack of room (RXDF and the
    /// RX_DROP counter, which clears when read).
    fn check_overrun(&mut self) {
        if self.bus.read(reg::INT_STS) & int::RXDF != 0 {
            self.bus.write(reg::INT_STS, int::RXDF);
            bump(&mut self.stats.rx_overruns);
        }
        let dropped = self.bus.read(reg::RX_DROP);
        self.stats.rx_overruns = self.stats.rx_overruns.saturating_add(dropped);
    }

    /// Read the next good frame into `rx`; its length.
    fn read_frame(&mut self, rx: &mut [u8]) -> Option<usize> {
        self.check_overrun();
        for _ in 0..RX_SKIP_LIMIT {
            if (self.bus.read(reg::RX_FIFO_INF) >> 16) & 0xff == 0 {
                return None;
            }
            let status = self.bus.read(reg::RX_STATUS);
            // Length with the 4-byte FCS; the data FIFO holds it rounded up
            // to whole words.
            let len = ((status >> 16) & 0x3fff) as usize;
            let words = len.div_ceil(4);
            let frame_len = len.saturating_sub(4);
            let bad_length = !(14..=MAX_FRAME).contains(&frame_len);
            if status & RX_STS_ES != 0 || bad_length {
                // Read it out of the FIFO word by word (bounded by the
                // 14-bit length) so the next frame starts where it should.
                for _ in 0..words {
                    self.bus.read(reg::RX_DATA);
                }
                if status & RX_STS_ES != 0 {
                    bump(&mut self.stats.rx_errors);
                } else {
                    bump(&mut self.stats.rx_bad_length);
                }
                continue;
            }
            for chunk in rx.chunks_exact_mut(4).take(words) {
                chunk.copy_from_slice(&self.bus.read(reg::RX_DATA).to_le_bytes());
            }
            bump(&mut self.stats.rx_frames);
            return Some(frame_len);
        }
        None
    }

    fn tx_room(&self) -> bool {
        // TX_FIFO_INF bits 15:0: free bytes in the TX data FIFO.
        self.bus.read(reg::TX_FIFO_INF) & 0xffff >= TX_ROOM
    }

    fn send(&mut self, len: usize) {
        // Status words of earlier frames first, so the status FIFO never
        // fills (the chip stops transmitting when it does).
        self.drain_tx_status();
        if !self.link_up {
            bump(&mut self.stats.tx_link_down);
            return;
        }
        let Some(frame) = self.tx.get(..len).filter(|_| len <= MAX_FRAME) else {
            bump(&mut self.stats.tx_oversize);
            return;
        };
        let len32 = len as u32; // at most MAX_FRAME
        self.bus
            .write(reg::TX_DATA, TX_CMD_A_FIRST | TX_CMD_A_LAST | len32);
        self.bus.write(reg::TX_DATA, (len32 << 16) | len32);
        for chunk in frame.chunks(4) {
            let mut word = [0u8; 4];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.bus.write(reg::TX_DATA, u32::from_le_bytes(word));
        }
        bump(&mut self.stats.tx_frames);
        self.drain_tx_status();
    }

    fn drain_tx_status(&mut self) {
        // TX_FIFO_INF bits 23:16: status words waiting (at most 255 a
        // call; the rest on the next).
        let waiting = (self.bus.read(reg::TX_FIFO_INF) >> 16) & 0xff;
        for _ in 0..waiting {
            if self.bus.read(reg::TX_STATUS) & TX_STS_ES != 0 {
                bump(&mut self.stats.tx_errors);
            }
        }
    }
}

/// The LAN9118's multicast hash: the top 6 bits of the big-endian
/// (MSB-first) CRC-32 of the destination MAC, taking each byte's bits
/// least significant first (datasheet §3.7.2; QEMU's `compute_mcast_idx`).
pub fn hash_index(mac: &MacAddr) -> u8 {
    let mut crc: u32 = 0xffff_ffff;
    for byte in mac.0 {
        let mut b = byte;
        for _ in 0..8 {
            let carry = (crc >> 31) ^ u32::from(b & 1);
            crc <<= 1;
            b >>= 1;
            if carry != 0 {
                crc ^= 0x04c1_1db7;
            }
        }
    }
    (crc >> 26) as u8
}

/// The (HASHH, HASHL) register values that accept `macs`.
pub fn hash_filter(macs: &[MacAddr]) -> (u32, u32) {
    let (mut high, mut low) = (0u32, 0u32);
    for m in macs.iter().filter(|m| m.is_multicast()) {
        let index = hash_index(m);
        let bit = 1u32 << (index & 0x1f);
        if index & 0x20 != 0 {
            high |= bit;
        } else {
            low |= bit;
        }
    }
    (high, low)
}

/// Poll `done` up to [`SPIN_LIMIT`] times.
fn spin(mut done: impl FnMut() -> bool) -> bool {
    (0..SPIN_LIMIT).any(|_| done())
}

/// The adapter's multicast filter for a LAN9118: programs its hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashFilter;

impl<B: Bus> MulticastFilter<Lan9118<B>> for HashFilter {
    fn set_multicast_macs(&mut self, device: &mut Lan9118<B>, macs: &[MacAddr]) {
        device.set_multicast(macs);
    }
}

/// A received frame.
pub struct RxToken<'a> {
    frame: &'a [u8],
}

/// Room for one frame to send.
pub struct TxToken<'a, B: Bus> {
    nic: &'a mut Hw<B>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl<B: Bus> phy::TxToken for TxToken<'_, B> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let nic = self.nic;
        match nic.tx.get_mut(..len) {
            Some(buf) => {
                let r = f(buf);
                nic.send(len);
                r
            }
            None => {
                // Longer than any Ethernet frame: let the caller write into
                // a scratch buffer and drop the result.
                bump(&mut nic.stats.tx_oversize);
                let mut scratch = [0u8; BUF_WORDS * 4];
                let end = len.min(scratch.len());
                f(scratch.get_mut(..end).unwrap_or(&mut []))
            }
        }
    }
}

impl<B: Bus> Device for Lan9118<B> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, B>
    where
        Self: 'a;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_, B>)> {
        let Lan9118 { hw, rx } = self;
        let len = hw.read_frame(rx)?;
        let frame = rx.get(..len)?;
        Some((RxToken { frame }, TxToken { nic: hw }))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_, B>> {
        let hw = &mut self.hw;
        if !hw.tx_room() {
            bump(&mut hw.stats.tx_fifo_full);
            return None;
        }
        Some(TxToken { nic: hw })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(1);
        caps
    }
}
