//! A millisecond clock from a free-running 32-bit down-counter, extended
//! to 64 bits in software.
//!
//! Counting tick interrupts loses time under QEMU on a loaded host (it
//! merges or drops them), so the clock is the counter itself: CMSDK APB
//! TIMER0 counts down at 25 MHz from 0xFFFF_FFFF and wraps every 171.8 s.
//! Each reading adds the ticks since the previous one; as long as the
//! clock is read at least once per wrap (the demo never sleeps longer
//! than ten seconds), no time is lost.
//!
//! The CMSDK timer (ARM DDI 0479, §4.3): CTRL at 0x00 (bit 0 enable, bit 3
//! interrupt enable), VALUE at 0x04, RELOAD at 0x08, INTSTATUS/INTCLEAR
//! at 0x0C.

use crate::mmio::Bus;

const CTRL: usize = 0x00;
const VALUE: usize = 0x04;
const RELOAD: usize = 0x08;
const INTCLEAR: usize = 0x0c;
const CTRL_ENABLE: u32 = 1 << 0;
const CTRL_IRQ_ENABLE: u32 = 1 << 3;

/// Longest interval between two readings of a [`Clock`]: the counter's
/// period at 25 MHz (2^32 ticks).
pub const MAX_READ_INTERVAL_MS: u64 = (1u64 << 32) / 25_000;

/// Extends a wrapping 32-bit down-counter to a 64-bit tick count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extender {
    last: u32,
    ticks: u64,
}

impl Extender {
    /// Start from a counter reading of `value`, at tick 0.
    pub const fn new(value: u32) -> Self {
        Extender {
            last: value,
            ticks: 0,
        }
    }

    /// Ticks since the start, given the counter's current `value`. The
    /// counter counts down and wraps from 0 to 0xFFFF_FFFF; readings
    /// must come less than one wrap apart.
    pub fn update(&mut self, value: u32) -> u64 {
        let elapsed = self.last.wrapping_sub(value);
        self.last = value;
        self.ticks = self.ticks.saturating_add(u64::from(elapsed));
        self.ticks
    }
}

/// Milliseconds since boot from a CMSDK timer.
pub struct Clock<B: Bus> {
    timer: B,
    ext: Extender,
    ticks_per_ms: u32,
}

impl<B: Bus> Clock<B> {
    /// Start `timer` free-running from 0xFFFF_FFFF at `hz` (no interrupt).
    pub fn start(timer: B, hz: u32) -> Self {
        timer.write(CTRL, 0);
        timer.write(RELOAD, u32::MAX);
        timer.write(VALUE, u32::MAX);
        timer.write(CTRL, CTRL_ENABLE);
        let ext = Extender::new(timer.read(VALUE));
        Clock {
            timer,
            ext,
            ticks_per_ms: (hz / 1000).max(1),
        }
    }

    /// Milliseconds since [`Clock::start`].
    pub fn now_ms(&mut self) -> u64 {
        let ticks = self.ext.update(self.timer.read(VALUE));
        ticks.checked_div(u64::from(self.ticks_per_ms)).unwrap_or(0)
    }
}

/// A one-shot wake-up from a second CMSDK timer.
pub struct WakeTimer<B: Bus> {
    timer: B,
    ticks_per_ms: u32,
}

impl<B: Bus> WakeTimer<B> {
    /// A stopped wake-up timer counting at `hz`.
    pub fn new(timer: B, hz: u32) -> Self {
        timer.write(CTRL, 0);
        timer.write(INTCLEAR, 1);
        WakeTimer {
            timer,
            ticks_per_ms: (hz / 1000).max(1),
        }
    }

    /// Raise the timer's interrupt in `ms` milliseconds (at least 1, at
    /// most what 32 bits of ticks hold).
    pub fn arm(&mut self, ms: u64) {
        let ticks = ms
            .max(1)
            .saturating_mul(u64::from(self.ticks_per_ms))
            .min(u64::from(u32::MAX));
        self.timer.write(CTRL, 0);
        self.timer.write(INTCLEAR, 1);
        // After it fires, the next period is the longest there is: the
        // interrupt handler stops the timer long before.
        self.timer.write(RELOAD, u32::MAX);
        self.timer
            .write(VALUE, u32::try_from(ticks).unwrap_or(u32::MAX));
        self.timer.write(CTRL, CTRL_ENABLE | CTRL_IRQ_ENABLE);
    }

    /// Stop the timer and clear its interrupt (from its handler).
    pub fn stop(&mut self) {
        self.timer.write(CTRL, 0);
        self.timer.write(INTCLEAR, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extender_counts_down_and_across_the_wrap() {
        let mut e = Extender::new(1000);
        assert_eq!(e.update(900), 100);
        assert_eq!(e.update(0), 1000);
        // Wrapped: 0 -> 0xFFFF_FFFF is one tick, then 5 more.
        assert_eq!(e.update(u32::MAX - 5), 1006);
        assert_eq!(e.update(u32::MAX - 5), 1006, "no time passed");
    }

    #[test]
    fn extender_goes_past_32_bits() {
        let mut e = Extender::new(u32::MAX);
        // Three readings per wrap, 20 wraps: 2^32 * 20 ticks.
        let mut value = u32::MAX;
        for _ in 0..60 {
            value = value.wrapping_sub(0x5555_5556);
            e.update(value);
        }
        let expected = 60u64 * 0x5555_5556;
        assert_eq!(e.update(value), expected);
        assert!(expected > u64::from(u32::MAX) * 19);
    }

    #[test]
    fn max_read_interval_is_one_wrap() {
        assert_eq!(MAX_READ_INTERVAL_MS, 171_798);
    }
}
