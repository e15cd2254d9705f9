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

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    //! The driver against a behavioural model of the chip.
    //!
    //! The model follows the LAN9118 datasheet (DS00002266) and the
    //! behaviour of QEMU's `hw/net/lan9118.c` for the registers the driver
    //! uses; register values and bit positions below are the datasheet's,
    //! written out here rather than taken from the driver's constants.
    //! Besides playing the chip, the model counts misuse (reading an empty
    //! FIFO, overfilling the TX FIFO, leaving TX status words to pile up,
    //! malformed TX commands): every test checks those stay zero.

    use super::{HashFilter, InitError, Lan9118, hash_filter, hash_index};
    use crate::mmio::Bus;
    use ndp_core::wire::MacAddr;
    use ndp_smoltcp::MulticastFilter;
    use smoltcp::phy::{Device, RxToken as _, TxToken as _};
    use smoltcp::time::Instant;
    use std::cell::{RefCell, RefMut};
    use std::collections::VecDeque;
    use std::rc::Rc;

    // System registers (datasheet §5.3).
    const RX_DATA: usize = 0x00;
    const TX_DATA: usize = 0x20;
    const RX_STATUS: usize = 0x40;
    const TX_STATUS: usize = 0x48;
    const ID_REV: usize = 0x50;
    const IRQ_CFG: usize = 0x54;
    const INT_STS: usize = 0x58;
    const INT_EN: usize = 0x5c;
    const BYTE_TEST: usize = 0x64;
    const FIFO_INT: usize = 0x68;
    const RX_CFG: usize = 0x6c;
    const TX_CFG: usize = 0x70;
    const HW_CFG: usize = 0x74;
    const RX_FIFO_INF: usize = 0x7c;
    const TX_FIFO_INF: usize = 0x80;
    const PMT_CTRL: usize = 0x84;
    const RX_DROP: usize = 0xa0;
    const MAC_CSR_CMD: usize = 0xa4;
    const MAC_CSR_DATA: usize = 0xa8;

    // INT_STS bits.
    const INT_RSFL: u32 = 1 << 3;
    const INT_RXDF: u32 = 1 << 6;
    const INT_TDFO: u32 = 1 << 10;
    const INT_RXE: u32 = 1 << 14;
    const INT_PHY: u32 = 1 << 18;

    // MAC_CR bits (datasheet §5.4.1).
    const MAC_CR_RXEN: u32 = 1 << 2;
    const MAC_CR_TXEN: u32 = 1 << 3;
    const MAC_CR_HPFILT: u32 = 1 << 13;
    const MAC_CR_PRMS: u32 = 1 << 18;
    const MAC_CR_MCPAS: u32 = 1 << 19;

    // PHY (datasheet §5.5): BSR base value (10/100 capable, aneg able,
    // extended capabilities) plus link (bit 2) and aneg complete (bit 5).
    const BSR_BASE: u32 = 0x7809;
    const BSR_LINK: u32 = 1 << 2;
    const BSR_ANEG_DONE: u32 = 1 << 5;
    const PHY_INT_LINK_DOWN: u32 = 1 << 4;
    const PHY_INT_ANEG_DONE: u32 = 1 << 6;
    const PHY_INT_ENERGY_ON: u32 = 1 << 7;

    /// The four bytes the model appends as the FCS; the driver must strip
    /// them.
    const FCS: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];
    /// TX status FIFO depth in words (512 bytes).
    const TX_STATUS_DEPTH: usize = 128;

    /// What the model saw the driver do wrong; all must stay zero.
    #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
    struct Misuse {
        /// RX data FIFO read while empty.
        rx_data_underruns: u32,
        /// RX status FIFO read while empty.
        rx_status_underruns: u32,
        /// A frame written with less TX FIFO room than it needs.
        tx_overruns: u32,
        /// A TX status word lost because the status FIFO was full.
        tx_status_overflows: u32,
        /// TX command A/B inconsistent (no first segment, length mismatch).
        tx_bad_commands: u32,
        /// A MAC CSR command written while the previous one was busy.
        csr_while_busy: u32,
    }

    /// A frame as it left the chip.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Sent {
        cmd_a: u32,
        cmd_b: u32,
        frame: Vec<u8>,
    }

    #[derive(Debug, Clone, Copy)]
    enum TxState {
        CmdA,
        CmdB { a: u32 },
        Data { a: u32, left: usize },
    }

    /// A frame being written to the TX FIFO.
    #[derive(Debug)]
    struct OpenFrame {
        cmd_a: u32,
        cmd_b: u32,
        bytes: Vec<u8>,
        /// TX data FIFO bytes it takes: command words and data words.
        fifo_bytes: u32,
    }

    #[derive(Debug)]
    struct Chip {
        // Set by the test.
        byte_test: u32,
        eeprom_mac: [u8; 6],
        reset_stuck: bool,
        never_ready: bool,
        csr_stuck: bool,
        mii_stuck: bool,
        tx_free: u32,
        fail_next_tx: bool,
        link: bool,

        // Registers.
        hw_cfg: u32,
        srst_polls_left: u32,
        ready: bool,
        ready_polls_left: u32,
        irq_cfg: u32,
        int_sts: u32,
        int_en: u32,
        fifo_int: u32,
        rx_cfg: u32,
        tx_cfg: u32,
        rx_drop: u32,
        csr_cmd: u32,
        csr_data: u32,
        mac_cr: u32,
        addrh: u32,
        addrl: u32,
        hashh: u32,
        hashl: u32,
        mii_acc: u32,
        mii_data: u32,
        phy_bcr: u32,
        phy_bsr: u32,
        link_latched_low: bool,
        phy_int: u32,
        phy_int_mask: u32,

        // FIFOs.
        rx_status: VecDeque<u32>,
        rx_data: VecDeque<u32>,
        tx_status: VecDeque<u32>,
        tx_state: TxState,
        tx_segment: Vec<u32>,
        tx_open: Option<OpenFrame>,

        // What happened.
        sent: Vec<Sent>,
        soft_resets: u32,
        writes: u32,
        misuse: Misuse,
    }

    impl Chip {
        fn new() -> Self {
            let mut chip = Chip {
                byte_test: 0x8765_4321,
                eeprom_mac: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
                reset_stuck: false,
                never_ready: false,
                csr_stuck: false,
                mii_stuck: false,
                // 5 KB TX FIFO less the 512-byte status FIFO.
                tx_free: 4608,
                fail_next_tx: false,
                link: true,
                hw_cfg: 0,
                srst_polls_left: 0,
                ready: true,
                ready_polls_left: 0,
                irq_cfg: 0,
                int_sts: 0,
                int_en: 0,
                fifo_int: 0,
                rx_cfg: 0,
                tx_cfg: 0,
                rx_drop: 0,
                csr_cmd: 0,
                csr_data: 0,
                mac_cr: 0,
                addrh: 0,
                addrl: 0,
                hashh: 0,
                hashl: 0,
                mii_acc: 0,
                mii_data: 0,
                phy_bcr: 0,
                phy_bsr: 0,
                link_latched_low: false,
                phy_int: 0,
                phy_int_mask: 0,
                rx_status: VecDeque::new(),
                rx_data: VecDeque::new(),
                tx_status: VecDeque::new(),
                tx_state: TxState::CmdA,
                tx_segment: Vec::new(),
                tx_open: None,
                sent: Vec::new(),
                soft_resets: 0,
                writes: 0,
                misuse: Misuse::default(),
            };
            // Power-on: the reset state, already finished.
            chip.reset_state();
            chip.hw_cfg &= !1;
            chip.ready = true;
            chip
        }

        /// The chip's state after a (soft) reset; SRST still set and READY
        /// clear for a few polls.
        fn reset_state(&mut self) {
            self.hw_cfg = 0x0005_0000 | 1;
            self.srst_polls_left = 3;
            self.ready = false;
            self.ready_polls_left = 2;
            self.irq_cfg = 0;
            self.int_sts = 0;
            self.int_en = 0;
            self.fifo_int = 0x4800_0000;
            self.rx_cfg = 0;
            self.tx_cfg = 0;
            self.rx_drop = 0;
            self.csr_cmd = 0;
            self.csr_data = 0;
            // Datasheet default: promiscuous.
            self.mac_cr = MAC_CR_PRMS;
            let m = self.eeprom_mac;
            self.addrl = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
            self.addrh = u32::from_le_bytes([m[4], m[5], 0, 0]);
            self.hashh = 0;
            self.hashl = 0;
            self.mii_acc = 0;
            self.mii_data = 0;
            self.phy_bcr = 0x3000;
            self.phy_int_mask = 0;
            self.phy_int = 0;
            self.link_latched_low = false;
            self.rx_status.clear();
            self.rx_data.clear();
            self.tx_status.clear();
            self.tx_state = TxState::CmdA;
            self.tx_segment.clear();
            self.tx_open = None;
            // As QEMU: the PHY comes up reporting the link state.
            let link = self.link;
            self.apply_link(link);
        }

        fn apply_link(&mut self, up: bool) {
            self.link = up;
            if up {
                self.phy_bsr = BSR_BASE | BSR_LINK | BSR_ANEG_DONE;
                self.phy_int |= PHY_INT_ANEG_DONE | PHY_INT_ENERGY_ON;
            } else {
                self.phy_bsr = BSR_BASE;
                // The link status bit latches low until read.
                self.link_latched_low = true;
                self.phy_int |= PHY_INT_LINK_DOWN;
            }
            self.phy_update_irq();
        }

        /// INT_STS.PHY_INT follows the PHY's masked interrupt sources.
        fn phy_update_irq(&mut self) {
            if self.phy_int & self.phy_int_mask != 0 {
                self.int_sts |= INT_PHY;
            } else {
                self.int_sts &= !INT_PHY;
            }
        }

        // ---- test-side controls ----

        fn rx_enabled(&self) -> bool {
            self.mac_cr & MAC_CR_RXEN != 0
        }

        /// Queue a status word and the data words holding `bytes`.
        fn push_rx(&mut self, status: u32, bytes: &[u8]) {
            if !self.rx_enabled() {
                return;
            }
            self.rx_status.push_back(status);
            for chunk in bytes.chunks(4) {
                // Padding past the frame's end: junk.
                let mut w = [0xa5u8; 4];
                w[..chunk.len()].copy_from_slice(chunk);
                self.rx_data.push_back(u32::from_le_bytes(w));
            }
            self.int_sts |= INT_RSFL;
        }

        /// A good frame arrives (the chip appends the FCS).
        fn inject(&mut self, frame: &[u8]) {
            self.inject_with(frame, 0);
        }

        /// A frame arrives with extra status bits (e.g. error summary).
        fn inject_with(&mut self, frame: &[u8], extra_status: u32) {
            let mut bytes = frame.to_vec();
            bytes.extend_from_slice(&FCS);
            let status = ((bytes.len() as u32) << 16) | extra_status;
            self.push_rx(status, &bytes);
        }

        /// A status word claiming `len` bytes (FCS included), with that
        /// many bytes of junk in the data FIFO.
        fn inject_bogus_length(&mut self, len: usize) {
            let status = (len as u32) << 16;
            self.push_rx(status, &vec![0x5a; len]);
        }

        fn set_link(&mut self, up: bool) {
            self.apply_link(up);
        }

        // ---- registers ----

        fn mac_csr_read(&self, index: u32) -> u32 {
            match index {
                1 => self.mac_cr,
                2 => self.addrh,
                3 => self.addrl,
                4 => self.hashh,
                5 => self.hashl,
                6 => self.mii_acc,
                7 => self.mii_data,
                _ => panic!("read of MAC CSR {index}"),
            }
        }

        fn mac_csr_write(&mut self, index: u32, value: u32) {
            match index {
                1 => self.mac_cr = value,
                2 => self.addrh = value & 0xffff,
                3 => self.addrl = value,
                4 => self.hashh = value,
                5 => self.hashl = value,
                6 => self.mii_access(value),
                7 => self.mii_data = value & 0xffff,
                _ => panic!("write of MAC CSR {index}"),
            }
        }

        fn mii_access(&mut self, value: u32) {
            if self.mii_stuck {
                self.mii_acc = value | 1;
                return;
            }
            self.mii_acc = value & !1;
            if value & 1 == 0 {
                return;
            }
            let phy = (value >> 11) & 0x1f;
            let reg = (value >> 6) & 0x1f;
            let write = value & (1 << 1) != 0;
            if phy != 1 {
                // Nobody answers on other MII addresses.
                if !write {
                    self.mii_data = 0xffff;
                }
                return;
            }
            if write {
                let v = self.mii_data;
                match reg {
                    0 => self.phy_bcr = v & !(1 << 9) & !(1 << 15),
                    30 => {
                        self.phy_int_mask = v & 0xff;
                        self.phy_update_irq();
                    }
                    _ => {}
                }
            } else {
                self.mii_data = match reg {
                    0 => self.phy_bcr,
                    1 => {
                        let mut v = self.phy_bsr;
                        if self.link_latched_low {
                            v &= !BSR_LINK;
                            self.link_latched_low = false;
                        }
                        v
                    }
                    2 => 0x0007,
                    3 => 0xc0d1,
                    29 => {
                        let v = self.phy_int;
                        self.phy_int = 0;
                        self.phy_update_irq();
                        v
                    }
                    30 => self.phy_int_mask,
                    _ => 0,
                };
            }
        }

        fn tx_write(&mut self, value: u32) {
            match self.tx_state {
                TxState::CmdA => {
                    let first = value & (1 << 13) != 0;
                    if first && self.tx_open.is_some() {
                        self.misuse.tx_bad_commands += 1;
                        self.tx_open = None;
                    }
                    if !first && self.tx_open.is_none() {
                        self.misuse.tx_bad_commands += 1;
                    }
                    if self.tx_open.is_none() {
                        self.tx_open = Some(OpenFrame {
                            cmd_a: value,
                            cmd_b: 0,
                            bytes: Vec::new(),
                            fifo_bytes: 0,
                        });
                    }
                    self.tx_state = TxState::CmdB { a: value };
                }
                TxState::CmdB { a } => {
                    let open = self.tx_open.as_mut().unwrap();
                    if a & (1 << 13) != 0 {
                        open.cmd_b = value;
                    }
                    open.fifo_bytes += 8;
                    let offset = ((a >> 16) & 0x1f) as usize;
                    let size = (a & 0x7ff) as usize;
                    let left = (offset + size).div_ceil(4);
                    self.tx_segment.clear();
                    self.tx_state = TxState::Data { a, left };
                    if left == 0 {
                        self.end_segment(a);
                    }
                }
                TxState::Data { a, left } => {
                    self.tx_segment.push(value);
                    self.tx_open.as_mut().unwrap().fifo_bytes += 4;
                    if left == 1 {
                        self.end_segment(a);
                    } else {
                        self.tx_state = TxState::Data { a, left: left - 1 };
                    }
                }
            }
        }

        fn end_segment(&mut self, a: u32) {
            self.tx_state = TxState::CmdA;
            let offset = ((a >> 16) & 0x1f) as usize;
            let size = (a & 0x7ff) as usize;
            let bytes: Vec<u8> = self
                .tx_segment
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .skip(offset)
                .take(size)
                .collect();
            self.tx_open.as_mut().unwrap().bytes.extend(bytes);
            if a & (1 << 12) != 0 {
                let frame = self.tx_open.take().unwrap();
                self.end_frame(frame);
            }
        }

        fn end_frame(&mut self, f: OpenFrame) {
            if f.fifo_bytes > self.tx_free {
                self.misuse.tx_overruns += 1;
                self.int_sts |= INT_TDFO;
                return;
            }
            if (f.cmd_b & 0x7ff) as usize != f.bytes.len() {
                self.misuse.tx_bad_commands += 1;
                return;
            }
            if self.tx_cfg & (1 << 1) == 0 || self.mac_cr & MAC_CR_TXEN == 0 {
                // Transmitter off: the frame never leaves.
                return;
            }
            let mut status = f.cmd_b & 0xffff_0000;
            if self.fail_next_tx {
                self.fail_next_tx = false;
                status |= 1 << 15;
            }
            if self.tx_status.len() >= TX_STATUS_DEPTH {
                self.misuse.tx_status_overflows += 1;
            } else {
                self.tx_status.push_back(status);
            }
            self.sent.push(Sent {
                cmd_a: f.cmd_a,
                cmd_b: f.cmd_b,
                frame: f.bytes,
            });
        }

        fn read(&mut self, offset: usize) -> u32 {
            match offset {
                RX_DATA => self.rx_data.pop_front().unwrap_or_else(|| {
                    self.misuse.rx_data_underruns += 1;
                    self.int_sts |= INT_RXE;
                    0
                }),
                RX_STATUS => self.rx_status.pop_front().unwrap_or_else(|| {
                    self.misuse.rx_status_underruns += 1;
                    0
                }),
                TX_STATUS => self.tx_status.pop_front().unwrap_or(0),
                ID_REV => 0x0118_0001,
                IRQ_CFG => self.irq_cfg,
                INT_STS => self.int_sts,
                INT_EN => self.int_en,
                BYTE_TEST => self.byte_test,
                FIFO_INT => self.fifo_int,
                RX_CFG => self.rx_cfg,
                TX_CFG => self.tx_cfg,
                HW_CFG => {
                    if self.hw_cfg & 1 != 0 && !self.reset_stuck {
                        if self.srst_polls_left == 0 {
                            self.hw_cfg &= !1;
                        } else {
                            self.srst_polls_left -= 1;
                        }
                    }
                    self.hw_cfg
                }
                RX_FIFO_INF => {
                    let statuses = self.rx_status.len().min(0xff) as u32;
                    let bytes = (self.rx_data.len() * 4).min(0xffff) as u32;
                    (statuses << 16) | bytes
                }
                TX_FIFO_INF => {
                    let statuses = self.tx_status.len().min(0xff) as u32;
                    (statuses << 16) | (self.tx_free & 0xffff)
                }
                PMT_CTRL => {
                    if !self.ready && !self.never_ready {
                        if self.ready_polls_left == 0 {
                            self.ready = true;
                        } else {
                            self.ready_polls_left -= 1;
                        }
                    }
                    u32::from(self.ready)
                }
                RX_DROP => std::mem::take(&mut self.rx_drop),
                MAC_CSR_CMD => self.csr_cmd,
                MAC_CSR_DATA => self.csr_data,
                _ => panic!("read of register {offset:#x}"),
            }
        }

        fn write(&mut self, offset: usize, value: u32) {
            self.writes += 1;
            match offset {
                TX_DATA => self.tx_write(value),
                IRQ_CFG => self.irq_cfg = value,
                INT_STS => self.int_sts &= !value,
                INT_EN => self.int_en = value,
                FIFO_INT => self.fifo_int = value,
                RX_CFG => self.rx_cfg = value,
                TX_CFG => self.tx_cfg = value,
                HW_CFG => {
                    if value & 1 != 0 {
                        self.soft_resets += 1;
                        self.reset_state();
                    } else {
                        self.hw_cfg = value;
                    }
                }
                MAC_CSR_CMD => {
                    if self.csr_cmd & (1 << 31) != 0 {
                        self.misuse.csr_while_busy += 1;
                    }
                    if self.csr_stuck {
                        self.csr_cmd = value | (1 << 31);
                        return;
                    }
                    self.csr_cmd = value & !(1 << 31);
                    if value & (1 << 31) != 0 {
                        let index = value & 0xff;
                        if value & (1 << 30) != 0 {
                            self.csr_data = self.mac_csr_read(index);
                        } else {
                            let data = self.csr_data;
                            self.mac_csr_write(index, data);
                        }
                    }
                }
                MAC_CSR_DATA => self.csr_data = value,
                _ => panic!("write of {value:#x} to register {offset:#x}"),
            }
        }
    }

    /// The model as the driver's bus; clones share the chip.
    #[derive(Clone)]
    struct Model(Rc<RefCell<Chip>>);

    impl Model {
        fn new() -> Self {
            Model(Rc::new(RefCell::new(Chip::new())))
        }

        fn chip(&self) -> RefMut<'_, Chip> {
            self.0.borrow_mut()
        }

        /// (HASHH, HASHL).
        fn hash(&self) -> (u32, u32) {
            let chip = self.chip();
            (chip.hashh, chip.hashl)
        }

        fn assert_no_misuse(&self) {
            assert_eq!(self.chip().misuse, Misuse::default());
        }
    }

    impl Bus for Model {
        fn read(&self, offset: usize) -> u32 {
            self.chip().read(offset)
        }

        fn write(&self, offset: usize, value: u32) {
            self.chip().write(offset, value);
        }
    }

    const EEPROM_MAC: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

    fn up() -> (Lan9118<Model>, Model) {
        let model = Model::new();
        let nic = Lan9118::init(model.clone()).expect("init");
        (nic, model)
    }

    /// A frame of `len` bytes to us, with a payload pattern that depends on
    /// `seed`.
    fn frame(len: usize, seed: u8) -> Vec<u8> {
        let mut f: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect();
        let header = [
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, seed, 0x86, 0xdd,
        ];
        for (b, h) in f.iter_mut().zip(header) {
            *b = h;
        }
        f
    }

    fn recv(nic: &mut Lan9118<Model>) -> Option<Vec<u8>> {
        let (rx, _tx) = nic.receive(Instant::ZERO)?;
        Some(rx.consume(|b| b.to_vec()))
    }

    /// Send `f` through `transmit`; false when there was no token.
    fn send(nic: &mut Lan9118<Model>, f: &[u8]) -> bool {
        match nic.transmit(Instant::ZERO) {
            Some(tx) => {
                tx.consume(f.len(), |buf| buf.copy_from_slice(f));
                true
            }
            None => false,
        }
    }

    fn sent_frames(model: &Model) -> Vec<Vec<u8>> {
        model.chip().sent.iter().map(|s| s.frame.clone()).collect()
    }

    // ---- init ----

    #[test]
    fn init_rejects_a_chip_that_is_not_there() {
        let model = Model::new();
        // What a LAN9118 in 16-bit mode would read: halves swapped.
        model.chip().byte_test = 0x4321_8765;
        let err = Lan9118::init(model.clone()).err();
        assert_eq!(
            err,
            Some(InitError::NotFound {
                byte_test: 0x4321_8765
            })
        );
        // Nothing written to whatever sits there.
        assert_eq!(model.chip().writes, 0);
        assert_eq!(model.chip().soft_resets, 0);
    }

    #[test]
    fn init_resets_and_reads_the_mac_from_the_chip() {
        let (nic, model) = up();
        assert_eq!(nic.mac(), EEPROM_MAC);
        assert_eq!(model.chip().soft_resets, 1);
        assert_eq!(nic.id_rev() >> 16, 0x0118);
        model.assert_no_misuse();
    }

    #[test]
    fn init_without_a_mac_fails() {
        let model = Model::new();
        // No EEPROM: the address registers read all ones.
        model.chip().eeprom_mac = [0xff; 6];
        assert_eq!(Lan9118::init(model).err(), Some(InitError::NoMac));
        let model = Model::new();
        model.chip().eeprom_mac = [0; 6];
        assert_eq!(Lan9118::init(model).err(), Some(InitError::NoMac));
    }

    #[test]
    fn init_with_mac_programs_the_address_registers() {
        let model = Model::new();
        model.chip().eeprom_mac = [0xff; 6];
        let mac = MacAddr([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]);
        let nic = Lan9118::init_with_mac(model.clone(), mac).expect("init");
        assert_eq!(nic.mac(), mac);
        // ADDRL holds the first four octets, first octet in bits 7:0;
        // ADDRH the last two.
        assert_eq!(model.chip().addrl, 0x105e_0002);
        assert_eq!(model.chip().addrh, 0x3020);
        model.assert_no_misuse();
    }

    #[test]
    fn init_configures_mac_filtering_and_interrupts() {
        let (_nic, model) = up();
        let chip = model.chip();
        let cr = chip.mac_cr;
        assert_ne!(cr & MAC_CR_RXEN, 0, "receiver on: {cr:#x}");
        assert_ne!(cr & MAC_CR_TXEN, 0, "MAC transmitter on: {cr:#x}");
        assert_ne!(cr & MAC_CR_HPFILT, 0, "multicast by hash: {cr:#x}");
        assert_eq!(cr & MAC_CR_PRMS, 0, "not promiscuous: {cr:#x}");
        assert_eq!(cr & MAC_CR_MCPAS, 0, "not all multicast: {cr:#x}");
        // TX_CFG.TX_ON.
        assert_ne!(chip.tx_cfg & (1 << 1), 0);
        // IRQ pin enabled (bit 8), active high (bit 4), push-pull (bit 0).
        assert_eq!(chip.irq_cfg, 0x111);
        // Interrupts for a waiting frame, an RX overrun and the PHY.
        for bit in [INT_RSFL, INT_RXDF, INT_PHY] {
            assert_ne!(chip.int_en & bit, 0, "INT_EN {:#x}", chip.int_en);
        }
        // The PHY interrupts on link down.
        assert_ne!(chip.phy_int_mask & PHY_INT_LINK_DOWN, 0);
        // No multicast group until the adapter asks.
        assert_eq!((chip.hashh, chip.hashl), (0, 0));
        // Nothing pending from the bring-up.
        assert_eq!(chip.int_sts & INT_PHY, 0);
        drop(chip);
        model.assert_no_misuse();
    }

    #[test]
    fn init_reads_the_link_state() {
        let (nic, _model) = up();
        assert!(nic.link_up());
        let model = Model::new();
        model.chip().link = false;
        model.chip().reset_state();
        let nic = Lan9118::init(model).expect("init");
        assert!(!nic.link_up());
    }

    #[test]
    fn reset_that_never_finishes_times_out() {
        let model = Model::new();
        model.chip().reset_stuck = true;
        assert_eq!(Lan9118::init(model).err(), Some(InitError::ResetTimeout));
    }

    #[test]
    fn chip_that_never_gets_ready_times_out() {
        let model = Model::new();
        model.chip().never_ready = true;
        assert_eq!(Lan9118::init(model).err(), Some(InitError::NotReady));
    }

    #[test]
    fn stuck_mac_or_mii_access_times_out() {
        let model = Model::new();
        model.chip().csr_stuck = true;
        assert_eq!(Lan9118::init(model).err(), Some(InitError::CsrTimeout));
        let model = Model::new();
        model.chip().mii_stuck = true;
        assert_eq!(Lan9118::init(model).err(), Some(InitError::CsrTimeout));
    }

    // ---- receive ----

    #[test]
    fn received_frames_come_out_byte_exact_without_fcs() {
        let (mut nic, model) = up();
        let lengths = [14, 60, 61, 62, 63, 64, 65, 1513, 1514];
        for (i, &len) in lengths.iter().enumerate() {
            let f = frame(len, i as u8);
            model.chip().inject(&f);
            assert_eq!(recv(&mut nic).as_deref(), Some(&f[..]), "length {len}");
            // All of the frame's words were read, and no more.
            assert!(model.chip().rx_data.is_empty(), "length {len}");
        }
        assert_eq!(recv(&mut nic), None);
        assert_eq!(nic.stats().rx_frames, lengths.len() as u32);
        model.assert_no_misuse();
    }

    #[test]
    fn back_to_back_frames_come_out_in_order() {
        let (mut nic, model) = up();
        let frames = [frame(61, 1), frame(1514, 2), frame(64, 3)];
        for f in &frames {
            model.chip().inject(f);
        }
        for f in &frames {
            assert_eq!(recv(&mut nic).as_ref(), Some(f));
        }
        assert_eq!(recv(&mut nic), None);
        model.assert_no_misuse();
    }

    // ---- receive faults ----

    #[test]
    fn errored_frame_is_dropped_and_the_next_one_delivered() {
        let (mut nic, model) = up();
        let good = frame(61, 7);
        // Error summary (bit 15), as for a CRC error.
        model.chip().inject_with(&frame(99, 6), 1 << 15);
        model.chip().inject(&good);
        assert_eq!(recv(&mut nic), Some(good));
        assert_eq!(nic.stats().rx_errors, 1);
        assert_eq!(nic.stats().rx_frames, 1);
        assert_eq!(recv(&mut nic), None);
        model.assert_no_misuse();
    }

    #[test]
    fn bogus_lengths_are_dropped_and_the_next_frame_delivered() {
        let (mut nic, model) = up();
        // Status lengths include the FCS: below a header, one past the
        // largest frame, and far beyond anything.
        let bogus = [0, 3, 8, 17, 1519, 3000, 0x3fff];
        for (i, &len) in bogus.iter().enumerate() {
            let good = frame(61, i as u8);
            model.chip().inject_bogus_length(len);
            model.chip().inject(&good);
            assert_eq!(recv(&mut nic), Some(good), "bogus length {len}");
            assert_eq!(nic.stats().rx_bad_length, i as u32 + 1);
        }
        assert_eq!(nic.stats().rx_frames, bogus.len() as u32);
        assert_eq!(recv(&mut nic), None);
        model.assert_no_misuse();
    }

    #[test]
    fn a_run_of_bad_frames_does_not_block_receive() {
        let (mut nic, model) = up();
        for i in 0..20 {
            model.chip().inject_with(&frame(80, i), 1 << 15);
        }
        let good = frame(1514, 99);
        model.chip().inject(&good);
        // Each call does a bounded amount of work; the good frame comes
        // out after a few.
        let got = (0..25).find_map(|_| recv(&mut nic));
        assert_eq!(got, Some(good));
        assert_eq!(nic.stats().rx_errors, 20);
        model.assert_no_misuse();
    }

    #[test]
    fn rx_overruns_are_counted_once() {
        let (mut nic, model) = up();
        model.chip().int_sts |= INT_RXDF;
        model.chip().rx_drop = 5;
        assert_eq!(recv(&mut nic), None);
        assert_eq!(nic.stats().rx_overruns, 6);
        // Acknowledged: the next look counts nothing new.
        assert_eq!(model.chip().int_sts & INT_RXDF, 0);
        assert_eq!(recv(&mut nic), None);
        assert_eq!(nic.stats().rx_overruns, 6);
        // prepare_sleep counts them too.
        model.chip().int_sts |= INT_RXDF;
        assert!(!nic.prepare_sleep());
        assert_eq!(nic.stats().rx_overruns, 7);
        // Frames that did arrive still come through.
        let f = frame(61, 1);
        model.chip().inject(&f);
        model.chip().rx_drop = 2;
        assert_eq!(recv(&mut nic), Some(f));
        assert_eq!(nic.stats().rx_overruns, 9);
        model.assert_no_misuse();
    }

    // ---- transmit ----

    #[test]
    fn transmitted_frames_reach_the_fifo_byte_exact() {
        let (mut nic, model) = up();
        let lengths = [14, 60, 61, 62, 63, 64, 1513, 1514];
        for (i, &len) in lengths.iter().enumerate() {
            let f = frame(len, i as u8);
            assert!(send(&mut nic, &f), "length {len}");
            let chip = model.chip();
            let s = chip.sent.last().expect("a frame went out");
            assert_eq!(s.frame, f, "length {len}");
            // Command A: first and last segment, no data offset, buffer
            // size = the frame.
            assert_ne!(s.cmd_a & (1 << 13), 0, "first segment");
            assert_ne!(s.cmd_a & (1 << 12), 0, "last segment");
            assert_eq!((s.cmd_a >> 16) & 0x1f, 0, "data start offset");
            assert_eq!((s.cmd_a & 0x7ff) as usize, len);
            // Command B: packet length in bits 10:0.
            assert_eq!((s.cmd_b & 0x7ff) as usize, len);
        }
        assert_eq!(model.chip().sent.len(), lengths.len());
        assert_eq!(nic.stats().tx_frames, lengths.len() as u32);
        model.assert_no_misuse();
    }

    #[test]
    fn the_receive_token_pair_can_answer() {
        let (mut nic, model) = up();
        let request = frame(70, 1);
        let reply = frame(90, 2);
        model.chip().inject(&request);
        let (rx, tx) = nic.receive(Instant::ZERO).expect("a frame");
        assert_eq!(rx.consume(|b| b.to_vec()), request);
        tx.consume(reply.len(), |b| b.copy_from_slice(&reply));
        assert_eq!(sent_frames(&model), vec![reply]);
        model.assert_no_misuse();
    }

    #[test]
    fn tx_status_words_are_drained_and_errors_counted() {
        let (mut nic, model) = up();
        // Far more frames than the status FIFO holds.
        for i in 0..300u32 {
            assert!(send(&mut nic, &frame(60, i as u8)));
        }
        assert_eq!(model.chip().sent.len(), 300);
        assert_eq!(nic.stats().tx_errors, 0);
        model.chip().fail_next_tx = true;
        assert!(send(&mut nic, &frame(60, 1)));
        assert!(send(&mut nic, &frame(60, 2)));
        assert_eq!(nic.stats().tx_errors, 1);
        model.assert_no_misuse();
    }

    #[test]
    fn oversize_frames_are_dropped_without_panic() {
        let (mut nic, model) = up();
        for len in [1515, 1536, 1537, 5000, 65535] {
            let tx = nic.transmit(Instant::ZERO).expect("room");
            tx.consume(len, |buf| buf.fill(0x42));
        }
        assert_eq!(nic.stats().tx_oversize, 5);
        assert!(model.chip().sent.is_empty());
        // And the FIFO is still in step.
        let f = frame(61, 3);
        assert!(send(&mut nic, &f));
        assert_eq!(sent_frames(&model), vec![f]);
        model.assert_no_misuse();
    }

    // ---- transmit faults ----

    #[test]
    fn full_tx_fifo_refuses_then_recovers() {
        let (mut nic, model) = up();
        model.chip().tx_free = 64;
        assert!(!send(&mut nic, &frame(60, 1)));
        assert!(!send(&mut nic, &frame(60, 2)));
        assert_eq!(nic.stats().tx_fifo_full, 2);
        assert!(model.chip().sent.is_empty());
        // Room for the largest frame (1514 bytes in 379 words) and its two
        // command words is enough.
        model.chip().tx_free = 379 * 4 + 8;
        let f = frame(1514, 3);
        assert!(send(&mut nic, &f));
        assert_eq!(sent_frames(&model), vec![f]);
        assert_eq!(nic.stats().tx_fifo_full, 2);
        model.assert_no_misuse();
    }

    #[test]
    fn link_down_drops_frames_and_link_up_resumes() {
        let (mut nic, model) = up();
        assert_eq!(nic.poll_link(), None);

        model.chip().set_link(false);
        assert_eq!(nic.poll_link(), Some(false));
        assert!(!nic.link_up());
        // The PHY's source was read and the chip's bit acknowledged.
        assert_eq!(model.chip().int_sts & INT_PHY, 0);
        assert_eq!(model.chip().phy_int, 0);
        assert_eq!(nic.poll_link(), None);

        let lost = frame(60, 1);
        if let Some(tx) = nic.transmit(Instant::ZERO) {
            tx.consume(lost.len(), |b| b.copy_from_slice(&lost));
        }
        assert!(model.chip().sent.is_empty());
        assert_eq!(nic.stats().tx_link_down, 1);

        model.chip().set_link(true);
        assert_eq!(nic.poll_link(), Some(true));
        assert!(nic.link_up());
        assert_eq!(nic.poll_link(), None);
        let f = frame(60, 2);
        assert!(send(&mut nic, &f));
        assert_eq!(sent_frames(&model), vec![f]);
        assert_eq!(nic.stats().link_changes, 2);
        assert_eq!(nic.stats().tx_link_down, 1);
        model.assert_no_misuse();
    }

    #[test]
    fn phy_interrupt_without_a_change_reports_nothing() {
        let (mut nic, model) = up();
        // Auto-negotiation complete and energy on again, link still up.
        model.chip().set_link(true);
        assert_ne!(model.chip().int_sts & INT_PHY, 0);
        assert_eq!(nic.poll_link(), None);
        assert!(nic.link_up());
        assert_eq!(nic.stats().link_changes, 0);
        // Acknowledged all the same.
        assert_eq!(model.chip().int_sts & INT_PHY, 0);
        assert!(!nic.prepare_sleep());
        model.assert_no_misuse();
    }

    #[test]
    fn a_short_link_flap_leaves_the_link_up() {
        let (mut nic, model) = up();
        model.chip().set_link(false);
        model.chip().set_link(true);
        // Down and up again before the driver looked: whatever it reports,
        // it ends up with the link up and sending.
        let _ = nic.poll_link();
        assert!(nic.link_up());
        assert_eq!(model.chip().int_sts & INT_PHY, 0);
        let f = frame(60, 1);
        assert!(send(&mut nic, &f));
        assert_eq!(sent_frames(&model), vec![f]);
    }

    #[test]
    fn prepare_sleep_tells_whether_work_is_waiting() {
        let (mut nic, model) = up();
        assert!(!nic.prepare_sleep());

        model.chip().inject(&frame(61, 1));
        assert!(nic.prepare_sleep());
        // The "frame waiting" interrupt is acknowledged so the line drops.
        assert_eq!(model.chip().int_sts & INT_RSFL, 0);
        assert!(nic.prepare_sleep());
        assert!(recv(&mut nic).is_some());
        assert!(!nic.prepare_sleep());

        model.chip().set_link(false);
        assert!(nic.prepare_sleep());
        assert_eq!(nic.poll_link(), Some(false));
        assert!(!nic.prepare_sleep());
        model.assert_no_misuse();
    }

    // ---- multicast hash ----

    // Expected hash indexes, computed independently of the driver with
    // Python's zlib. The LAN9118 index is the top 6 bits of the CRC-32
    // register run MSB first over the address bits taken LSB first, with
    // no final inversion; that is the bit-reversal of zlib's (reflected)
    // register before its final xor:
    //
    //   index = bitrev32(~zlib.crc32(mac) & 0xffffffff) >> 26
    //
    // (checked against a bitwise MSB-first implementation, poly
    // 0x04c11db7, init all ones). Results:
    //   33:33:00:00:00:01 -> 62    33:33:ff:00:00:01 -> 29
    //   33:33:00:00:00:02 -> 41    01:00:5e:00:00:01 -> 31
    //   ff:ff:ff:ff:ff:ff -> 63
    // Bit 5 of the index picks HASHH (set) or HASHL, bits 4:0 the bit:
    //   HASHH = 1<<30 | 1<<9 = 0x4000_0200, HASHL = 1<<29 | 1<<31 = 0xa000_0000.
    const ALL_NODES: MacAddr = MacAddr([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]);
    const SOLICITED: MacAddr = MacAddr([0x33, 0x33, 0xff, 0x00, 0x00, 0x01]);
    const ALL_ROUTERS: MacAddr = MacAddr([0x33, 0x33, 0x00, 0x00, 0x00, 0x02]);
    const IPV4_ALL_HOSTS: MacAddr = MacAddr([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    const GROUPS: [MacAddr; 4] = [ALL_NODES, SOLICITED, ALL_ROUTERS, IPV4_ALL_HOSTS];
    const HASHH_GROUPS: u32 = 0x4000_0200;
    const HASHL_GROUPS: u32 = 0xa000_0000;

    #[test]
    fn hash_index_matches_crc32() {
        assert_eq!(hash_index(&ALL_NODES), 62);
        assert_eq!(hash_index(&SOLICITED), 29);
        assert_eq!(hash_index(&ALL_ROUTERS), 41);
        assert_eq!(hash_index(&IPV4_ALL_HOSTS), 31);
        assert_eq!(hash_index(&MacAddr::BROADCAST), 63);
    }

    #[test]
    fn hash_filter_sets_one_bit_per_group_and_skips_unicast() {
        assert_eq!(hash_filter(&GROUPS), (HASHH_GROUPS, HASHL_GROUPS));
        assert_eq!(hash_filter(&[]), (0, 0));
        assert_eq!(hash_filter(&[EEPROM_MAC]), (0, 0));
        assert_eq!(hash_filter(&[ALL_NODES]), (1 << 30, 0));
        assert_eq!(hash_filter(&[SOLICITED, EEPROM_MAC]), (0, 1 << 29));
    }

    #[test]
    fn set_multicast_programs_the_chip() {
        let (mut nic, model) = up();
        let mut macs = GROUPS.to_vec();
        macs.push(EEPROM_MAC);
        macs.push(MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
        nic.set_multicast(&macs);
        assert_eq!(model.hash(), (HASHH_GROUPS, HASHL_GROUPS));
        // Through the adapter's trait; unicast only clears the filter.
        HashFilter.set_multicast_macs(&mut nic, &[EEPROM_MAC]);
        assert_eq!(model.hash(), (0, 0));
        HashFilter.set_multicast_macs(&mut nic, &[ALL_ROUTERS]);
        assert_eq!(model.hash(), (1 << 9, 0));
        // The rest of the MAC set-up is untouched.
        let cr = model.chip().mac_cr;
        assert_ne!(cr & MAC_CR_HPFILT, 0);
        assert_eq!(cr & (MAC_CR_PRMS | MAC_CR_MCPAS), 0);
        model.assert_no_misuse();
    }
}
