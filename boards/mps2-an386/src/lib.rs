//! Hardware support for QEMU's mps2-an386 board (Cortex-M4F): the SMSC
//! LAN9118 Ethernet controller as a smoltcp [`Device`](smoltcp::phy::Device),
//! and a millisecond clock from a free-running CMSDK timer.
//!
//! Register access goes through the [`mmio::Bus`] trait: on the board it is
//! [`mmio::Mmio`] (volatile loads and stores, the only `unsafe` here); in
//! the host tests it is a model of the chip, so the driver's fault paths
//! (errored and oversize frames, RX overrun, TX FIFO full, link down and
//! up) are tested without hardware.
//!
//! Memory map (QEMU `hw/arm/mps2.c`, AN385/AN386 images):
//!
//! | what | address | IRQ |
//! |---|---|---|
//! | CMSDK APB TIMER0 (clock) | 0x4000_0000 | 8 |
//! | CMSDK APB TIMER1 (wake-up) | 0x4000_1000 | 9 |
//! | LAN9118 | 0x4020_0000 | 13 |
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod clock;
pub mod lan9118;
pub mod mmio;

/// Base address of the LAN9118 on mps2-an385/an386 (on an500 it sits at
/// 0xA000_0000).
pub const LAN9118_BASE: usize = 0x4020_0000;
/// The LAN9118's interrupt line.
pub const LAN9118_IRQ: u16 = 13;
/// CMSDK APB TIMER0: the free-running clock.
pub const TIMER0_BASE: usize = 0x4000_0000;
/// CMSDK APB TIMER1: the wake-up timer.
pub const TIMER1_BASE: usize = 0x4000_1000;
/// TIMER1's interrupt line.
pub const TIMER1_IRQ: u16 = 9;
/// The APB clock that drives the timers: 25 MHz.
pub const PCLK_HZ: u32 = 25_000_000;
