//! The NUCLEO-F767ZI board's pieces that are not register access, so that
//! they run and are tested on the host: the embassy Ethernet driver as a
//! smoltcp [`Device`](smoltcp::phy::Device), the extension of the 32-bit
//! timer counter into a clock that does not wrap, and the board's MAC
//! address from the chip's unique ID. On the target, [`hw`] adds what the
//! two firmware images (the plain one and the embassy one) share: the
//! clock tree, the secret's flash sector and bounded RNG reads.
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

#[cfg(target_os = "none")]
pub mod hw;

use core::task::{Context, Waker};

use embassy_net_driver::{Driver, LinkState};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Where the RFC 7217 secret lives: the start of flash sector 11 (256
/// KiB, the last sector of the single-bank layout), which memory.x keeps
/// out of the program's reach.
pub const SECRET_SECTOR_ADDR: u32 = 0x081C_0000;
/// Size of that sector.
pub const SECRET_SECTOR_SIZE: u32 = 0x0004_0000;
/// Where flash starts (embassy's flash API takes offsets from here).
pub const FLASH_BASE: u32 = 0x0800_0000;

/// An embassy-net [`Driver`] (the HAL's Ethernet MAC driver) used as a
/// smoltcp Ethernet [`Device`](phy::Device) from a plain loop: no
/// executor, the driver's wake-ups go to a waker that does nothing, and
/// the loop polls instead.
#[derive(Debug)]
pub struct DriverDevice<D> {
    driver: D,
}

impl<D: Driver> DriverDevice<D> {
    /// Wrap `driver`.
    pub fn new(driver: D) -> Self {
        DriverDevice { driver }
    }

    /// The driver.
    pub fn driver_mut(&mut self) -> &mut D {
        &mut self.driver
    }

    /// Whether the PHY reports a link.
    pub fn link_up(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.driver.link_state(&mut cx) == LinkState::Up
    }
}

impl<D: Driver> phy::Device for DriverDevice<D> {
    type RxToken<'a>
        = RxToken<D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<D::TxToken<'a>>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let mut cx = Context::from_waker(Waker::noop());
        self.driver
            .receive(&mut cx)
            .map(|(rx, tx)| (RxToken(rx), TxToken(tx)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        let mut cx = Context::from_waker(Waker::noop());
        self.driver.transmit(&mut cx).map(TxToken)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let caps = self.driver.capabilities();
        let mut out = DeviceCapabilities::default();
        out.medium = Medium::Ethernet;
        out.max_transmission_unit = caps.max_transmission_unit;
        out.max_burst_size = caps.max_burst_size;
        out
    }
}

/// A received frame.
pub struct RxToken<T>(T);

impl<T: embassy_net_driver::RxToken> phy::RxToken for RxToken<T> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        self.0.consume(|frame| f(frame))
    }
}

/// Room for a frame to send.
pub struct TxToken<T>(T);

impl<T: embassy_net_driver::TxToken> phy::TxToken for TxToken<T> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        self.0.consume(len, f)
    }
}

/// A 32-bit hardware counter made into one that does not wrap: read it
/// more often than it wraps (at 10 kHz, every 4.9 days; the demo polls at
/// least every 10 s) and each wrap is counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extended {
    last: u32,
    wraps: u32,
}

impl Extended {
    /// The extended count for a new reading of the counter.
    pub fn update(&mut self, raw: u32) -> u64 {
        if raw < self.last {
            self.wraps = self.wraps.wrapping_add(1);
        }
        self.last = raw;
        (u64::from(self.wraps) << 32) | u64::from(raw)
    }
}

/// A locally administered unicast MAC address for this chip (the STM32
/// has none of its own): a hash of its 96-bit unique ID, with the U/L bit
/// set and the I/G bit clear (IEEE 802, RFC 7042 §2.1), so the same
/// board always has the same address and two boards differ.
pub fn mac_from_uid(uid: &[u8; 12]) -> [u8; 6] {
    // FNV-1a, 64-bit: a spread of the ID's bits over the address.
    let h = uid.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let b = h.to_be_bytes();
    [(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_net_driver::{Capabilities, HardwareAddress};
    use smoltcp::phy::{Device, RxToken as _, TxToken as _};

    /// A driver with frames waiting and a record of what was sent.
    #[derive(Default)]
    struct Fake {
        rx: Vec<Vec<u8>>,
        sent: Vec<Vec<u8>>,
        tx_room: bool,
        link: bool,
    }

    struct FakeRx<'a>(&'a mut Vec<Vec<u8>>);
    struct FakeTx<'a>(&'a mut Vec<Vec<u8>>);

    impl embassy_net_driver::RxToken for FakeRx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
            let mut frame = self.0.remove(0);
            f(&mut frame)
        }
    }

    impl embassy_net_driver::TxToken for FakeTx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut frame = vec![0u8; len];
            let r = f(&mut frame);
            self.0.push(frame);
            r
        }
    }

    impl Driver for Fake {
        type RxToken<'a> = FakeRx<'a>;
        type TxToken<'a> = FakeTx<'a>;
        fn receive(&mut self, _cx: &mut Context) -> Option<(FakeRx<'_>, FakeTx<'_>)> {
            if self.rx.is_empty() || !self.tx_room {
                return None;
            }
            Some((FakeRx(&mut self.rx), FakeTx(&mut self.sent)))
        }
        fn transmit(&mut self, _cx: &mut Context) -> Option<FakeTx<'_>> {
            self.tx_room.then_some(FakeTx(&mut self.sent))
        }
        fn link_state(&mut self, _cx: &mut Context) -> LinkState {
            if self.link {
                LinkState::Up
            } else {
                LinkState::Down
            }
        }
        fn capabilities(&self) -> Capabilities {
            let mut c = Capabilities::default();
            c.max_transmission_unit = 1514;
            c.max_burst_size = Some(4);
            c
        }
        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ethernet([2, 0, 0, 0, 0, 1])
        }
    }

    #[test]
    fn frames_pass_both_ways_and_capabilities_carry_over() {
        let mut d = DriverDevice::new(Fake {
            rx: vec![vec![1, 2, 3], vec![4, 5]],
            tx_room: true,
            ..Fake::default()
        });
        let now = Instant::from_millis(0);
        let caps = d.capabilities();
        assert_eq!(caps.medium, Medium::Ethernet);
        assert_eq!(caps.max_transmission_unit, 1514);
        assert_eq!(caps.max_burst_size, Some(4));
        // Frames come out in order, each once.
        let (rx, _) = d.receive(now).unwrap();
        assert_eq!(rx.consume(|f| f.to_vec()), [1, 2, 3]);
        let (rx, tx) = d.receive(now).unwrap();
        assert_eq!(rx.consume(|f| f.to_vec()), [4, 5]);
        tx.consume(2, |f| f.copy_from_slice(&[9, 9]));
        assert!(d.receive(now).is_none());
        // A frame written goes to the driver with the length asked for.
        d.transmit(now).unwrap().consume(3, |f| f.fill(7));
        assert_eq!(d.driver_mut().sent, [vec![9, 9], vec![7, 7, 7]]);
        // No room: nothing to send into.
        d.driver_mut().tx_room = false;
        assert!(d.transmit(now).is_none());
    }

    #[test]
    fn link_state_is_read_from_the_driver() {
        let mut d = DriverDevice::new(Fake::default());
        assert!(!d.link_up());
        d.driver_mut().link = true;
        assert!(d.link_up());
    }

    #[test]
    fn the_counter_extends_across_wraps() {
        let mut e = Extended::default();
        assert_eq!(e.update(5), 5);
        assert_eq!(e.update(u32::MAX), u64::from(u32::MAX));
        assert_eq!(e.update(3), (1 << 32) | 3);
        assert_eq!(e.update(3), (1 << 32) | 3, "the same reading again");
        assert_eq!(e.update(10), (1 << 32) | 10);
        assert_eq!(e.update(2), (2 << 32) | 2);
    }

    #[test]
    fn the_mac_is_local_unicast_stable_and_differs_per_chip() {
        let a = mac_from_uid(&[1; 12]);
        let mut other = [1; 12];
        other[11] = 2;
        let b = mac_from_uid(&other);
        for m in [a, b] {
            assert_eq!(m[0] & 0x01, 0, "unicast");
            assert_eq!(m[0] & 0x02, 0x02, "locally administered");
        }
        assert_eq!(a, mac_from_uid(&[1; 12]));
        assert_ne!(a, b);
    }
}
