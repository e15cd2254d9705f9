//! ndp on ST's NUCLEO-F767ZI: hardware setup and one call into the
//! shared demo (`boards/demo`).
//!
//! - Clocks: the ST-LINK's 8 MHz on HSE (bypass), PLL to 216 MHz, 48 MHz
//!   for the RNG.
//! - Ethernet: the on-chip MAC through embassy-stm32's driver, on the
//!   Nucleo-144 RMII pins to the LAN8742A PHY (PA1 REF_CLK, PA2 MDIO, PA7
//!   CRS_DV, PB13 TXD1, PC1 MDC, PC4 RXD0, PC5 RXD1, PG11 TX_EN, PG13
//!   TXD0). The driver programs pass-all-multicast, so the adapter's
//!   filter is `AcceptAllMulticast` and the adapter drops what is not for
//!   us. It is polled from the demo's loop: no executor.
//! - Clock: TIM2, a 32-bit counter at 10 kHz, extended in software.
//!   SysTick at 100 Hz only wakes the core from WFI; the Ethernet
//!   interrupt wakes it for frames.
//! - Entropy: the hardware RNG seeds the engine and draws the RFC 7217
//!   secret, which is kept in flash sector 11 (`iid-secret`; see
//!   memory.x).
//! - MAC: locally administered, from the chip's unique ID.
//! - Logs: defmt over RTT (`probe-rs run`, or `cargo xtask flash
//!   nucleo-f767zi`).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use defmt::info;
use defmt_rtt as _;
use embassy_stm32::eth::{self, Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::flash::Flash;
use embassy_stm32::peripherals::{ETH, ETH_SMA, RNG};
use embassy_stm32::time::Hertz;
use embassy_stm32::timer::low_level::Timer;
use embassy_stm32::{bind_interrupts, pac, rng};
use ndp_demo::{Board, Settings};
use ndp_smoltcp::AcceptAllMulticast;
use nucleo_f767zi::hw::{self, rcc_config};
use nucleo_f767zi::{DriverDevice, Extended, mac_from_uid};
use panic_probe as _;
use smoltcp::time::{Duration, Instant};
use static_cell::StaticCell;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    RNG => rng::InterruptHandler<RNG>;
});

/// TIM2's count rate.
const TICK_HZ: u32 = 10_000;
/// TIM2 counts per millisecond.
const TICKS_PER_MS: u64 = 10;
/// SysTick's wake-ups per second while idle.
const WAKE_HZ: u32 = 100;
/// How often the PHY is asked for the link state (an MDIO read).
const LINK_POLL_MS: i64 = 500;

type Eth = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;
type Device = DriverDevice<Eth>;

/// The clock's low half as last read, for defmt's timestamp, which
/// cannot borrow the board.
static LAST_MS: AtomicU32 = AtomicU32::new(0);

defmt::timestamp!("{=u32}", LAST_MS.load(Ordering::Relaxed));

struct Nucleo {
    clock: Extended,
    link: Option<bool>,
    /// When the PHY was last asked (ms).
    link_checked: i64,
}

impl Nucleo {
    fn millis(&mut self) -> i64 {
        let ticks = self.clock.update(pac::TIM2.cnt().read());
        let ms = ticks.checked_div(TICKS_PER_MS).unwrap_or(0);
        LAST_MS.store(ms as u32, Ordering::Relaxed);
        i64::try_from(ms).unwrap_or(i64::MAX)
    }
}

impl Board<Device> for Nucleo {
    fn now(&mut self) -> Instant {
        Instant::from_millis(self.millis())
    }

    fn idle(&mut self, device: &mut Device, timeout: Duration) {
        let timeout = i64::try_from(timeout.total_millis()).unwrap_or(i64::MAX);
        let until = self.millis().saturating_add(timeout);
        loop {
            // A frame waiting, or the time is up: back to the demo.
            let now = self.now();
            if smoltcp::phy::Device::receive(device, now).is_some() || now.total_millis() >= until {
                return;
            }
            // SysTick or the Ethernet interrupt ends the wait.
            cortex_m::asm::wfi();
        }
    }

    fn link_change(&mut self, device: &mut Device) -> Option<bool> {
        let now = self.millis();
        if self.link.is_some() && now.saturating_sub(self.link_checked) < LINK_POLL_MS {
            return None;
        }
        self.link_checked = now;
        let up = device.link_up();
        let changed = self.link.is_some_and(|was| was != up);
        self.link = Some(up);
        changed.then_some(up)
    }
}

#[exception]
fn SysTick() {
    // Only a wake-up: the clock is TIM2.
}

#[entry]
fn main() -> ! {
    let p = embassy_stm32::init(rcc_config());

    // The clock: TIM2 free-running at 10 kHz over its whole 32 bits.
    let mut tim2 = Timer::new(p.TIM2);
    tim2.set_tick_freq(Hertz(TICK_HZ));
    tim2.set_max_compare_value(u32::MAX);
    tim2.start();
    let mut board = Nucleo {
        clock: Extended::default(),
        link: None,
        link_checked: 0,
    };

    // SysTick: a wake-up for WFI, WAKE_HZ times a second.
    let mut core =
        cortex_m::Peripherals::take().unwrap_or_else(|| defmt::panic!("core peripherals taken"));
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(216_000_000 / WAKE_HZ - 1);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();

    // Entropy: the RNG (embassy enables its clock; reads are bounded in
    // nucleo_f767zi::hw), and the RFC 7217 secret kept in sector 11.
    let _rng = rng::Rng::new(p.RNG, Irqs);
    let seed = hw::seed(board.millis() as u8);
    let secret = hw::secret(Flash::new_blocking(p.FLASH));

    let mac = mac_from_uid(&embassy_stm32::uid::uid());
    static QUEUE: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let queue = QUEUE.init(PacketQueue::new());
    let eth = Ethernet::new(
        queue, p.ETH, Irqs, p.PA1, p.PA7, p.PC4, p.PC5, p.PG13, p.PB13, p.PG11, mac, p.ETH_SMA,
        p.PA2, p.PC1,
    );
    let mut device = DriverDevice::new(eth);
    // The state at boot: later changes are logged against it.
    let up = device.link_up();
    board.link = Some(up);
    info!("ethernet up, link {=str}", if up { "up" } else { "down" });

    let settings = Settings {
        mac,
        secret,
        seed,
        exit_when_configured: false,
    };
    ndp_demo::run(device, AcceptAllMulticast, &mut board, settings)
}
