//! ndp on WIZnet's W5500-EVB-Pico: RP2040 setup and one call into the
//! shared demo (`boards/demo`).
//!
//! - Ethernet: the W5500 on SPI0 (GP16 MISO, GP17 CSn, GP18 SCK, GP19
//!   MOSI, GP20 RSTn, GP21 INTn) at 20 MHz, socket 0 in MACRAW mode with
//!   the MAC filter off and the multicast filter in software (lib.rs).
//! - Clock: the RP2040's 64-bit 1 MHz timer; it never wraps.
//! - Idle: a busy wait on the W5500's INTn pin (low when a frame came)
//!   and the timer; no interrupts are used.
//! - Entropy: bits of the ring oscillator seed the engine and draw the
//!   RFC 7217 secret, kept in the flash's last 4 KiB sector (`iid-secret`;
//!   see memory.x). A board that has just written its secret resets
//!   itself, so that it runs from the normal fast flash mode again.
//! - MAC: the W5500 has none of its own: locally administered, hashed
//!   from the RFC 7217 secret (`mac_from_secret`), so as stable as it.
//! - Logs: defmt over RTT (an SWD probe on the board's SWD header, `probe-rs
//!   run`, or `cargo xtask flash w5500-evb-pico`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::{info, warn};
use defmt_rtt as _;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal_bus::spi::ExclusiveDevice;
use iid_secret::{RECORD_LEN, SECRET_LEN, SecretStore};
use ndp_demo::{Board, Settings};
use panic_probe as _;
use rp2040_hal::fugit::RateExtU32;
use rp2040_hal::gpio::FunctionSpi;
use rp2040_hal::{Clock, pac, rom_data};
use smoltcp::time::{Duration, Instant};
use w5500_evb_pico::{MacRaw, SoftFilter, mac_from_secret};
use w5500_ll::Registers;

/// The second-stage bootloader for the board's W25Q16JV, at the start of
/// flash (memory.x's .boot2).
// SAFETY: the section is the one memory.x places first in flash, where
// the boot ROM looks for the bootloader; nothing else is put there.
#[allow(unsafe_code)]
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The board's crystal.
const XOSC_HZ: u32 = 12_000_000;
/// Where the secret's sector starts, from the start of flash (XIP
/// address 0x101F_F000).
const SECRET_OFFSET: u32 = 0x001F_F000;
/// XIP-mapped flash starts here.
const XIP_BASE: usize = 0x1000_0000;
/// A 4 KiB sector, and the ROM's 256-byte program page.
const SECTOR: usize = 4096;
const PAGE: usize = 256;
/// How often the PHY is asked for the link state (an SPI read).
const LINK_POLL_MS: i64 = 500;

struct Pico<T, I> {
    timer: T,
    int: I,
    link: Option<bool>,
    link_checked: i64,
}

impl<T: Fn() -> u64, I: InputPin> Pico<T, I> {
    fn millis(&self) -> i64 {
        i64::try_from((self.timer)() / 1000).unwrap_or(i64::MAX)
    }
}

impl<T: Fn() -> u64, I: InputPin, R: Registers> Board<MacRaw<R>> for Pico<T, I> {
    fn now(&mut self) -> Instant {
        Instant::from_millis(self.millis())
    }

    fn idle(&mut self, _device: &mut MacRaw<R>, timeout: Duration) {
        let timeout = i64::try_from(timeout.total_millis()).unwrap_or(i64::MAX);
        let until = self.millis().saturating_add(timeout);
        // INTn goes low when socket 0 received a frame (Sn_IMR.RECV).
        while self.millis() < until && !self.int.is_low().unwrap_or(true) {
            cortex_m::asm::nop();
        }
    }

    fn link_change(&mut self, device: &mut MacRaw<R>) -> Option<bool> {
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

/// The boot ROM's flash routines, looked up while the flash is still
/// mapped (the lookup itself runs from flash).
struct RomFlash {
    connect: unsafe extern "C" fn(),
    exit_xip: unsafe extern "C" fn(),
    erase: unsafe extern "C" fn(u32, usize, u32, u8),
    program: unsafe extern "C" fn(u32, *const u8, usize),
    flush: unsafe extern "C" fn(),
    enter_xip: unsafe extern "C" fn(),
}

/// Erase the sector at `offset` and program `page` at its start, from
/// RAM: while the flash is out of XIP mode no code may run from it, so
/// this function lives in .data (copied to RAM at boot) and only calls
/// into the boot ROM. The flash is left in the ROM's slow serial XIP mode.
// SAFETY (the attribute): .data.ram_func is part of .data, which
// cortex-m-rt copies to RAM before main; placing code there is what
// running it from RAM takes.
#[allow(unsafe_code)]
#[unsafe(link_section = ".data.ram_func")]
#[inline(never)]
extern "C" fn write_sector_from_ram(rom: &RomFlash, offset: u32, page: &[u8; PAGE]) {
    // SAFETY: the boot ROM's sequence for writing flash (RP2040 datasheet
    // §2.8.3.1.3): connect the flash, leave XIP, erase, program, flush
    // the XIP cache, back to (serial) XIP. It runs from RAM and calls
    // only ROM code, with interrupts masked by the caller; `offset` is
    // the 4 KiB-aligned sector memory.x reserves, `page` one 256-byte
    // page that lives for the call.
    unsafe {
        (rom.connect)();
        (rom.exit_xip)();
        // 4 KiB sector erase (20h), then one page.
        (rom.erase)(offset, SECTOR, SECTOR as u32, 0x20);
        (rom.program)(offset, page.as_ptr(), PAGE);
        (rom.flush)();
        (rom.enter_xip)();
    }
}

/// The secret's flash sector.
struct SecretSector;

impl SecretStore for SecretSector {
    type Error = ();

    fn read(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<(), ()> {
        let addr = XIP_BASE.wrapping_add(SECRET_OFFSET as usize);
        for (i, b) in out.iter_mut().enumerate() {
            // SAFETY: XIP maps the whole 2 MiB flash at XIP_BASE, readable
            // at any time outside `write_sector_from_ram`; these 32 bytes
            // lie inside it (memory.x reserves the sector).
            #[allow(unsafe_code)]
            let v = unsafe { core::ptr::read_volatile((addr.wrapping_add(i)) as *const u8) };
            *b = v;
        }
        Ok(())
    }

    fn write(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), ()> {
        let mut page = [0xffu8; PAGE];
        for (p, r) in page.iter_mut().zip(record) {
            *p = *r;
        }
        let rom = RomFlash {
            connect: rom_data::connect_internal_flash::ptr(),
            exit_xip: rom_data::flash_exit_xip::ptr(),
            erase: rom_data::flash_range_erase::ptr(),
            program: rom_data::flash_range_program::ptr(),
            flush: rom_data::flash_flush_cache::ptr(),
            enter_xip: rom_data::flash_enter_cmd_xip::ptr(),
        };
        // Nothing may fetch from flash meanwhile: no interrupt runs (the
        // firmware uses none, and this masks them), core 1 is parked in
        // the boot ROM, and no DMA is set up.
        cortex_m::interrupt::free(|_| write_sector_from_ram(&rom, SECRET_OFFSET, &page));
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let Some(mut pac) = pac::Peripherals::take() else {
        defmt::panic!("peripherals taken twice");
    };
    let mut watchdog = rp2040_hal::Watchdog::new(pac.WATCHDOG);
    let Ok(clocks) = rp2040_hal::clocks::init_clocks_and_plls(
        XOSC_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    ) else {
        defmt::panic!("clock setup failed (no 12 MHz crystal?)");
    };
    let timer = rp2040_hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    let sio = rp2040_hal::Sio::new(pac.SIO);
    let pins = rp2040_hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );

    // Entropy: the ring oscillator, a bit at a time.
    let rosc = rp2040_hal::rosc::RingOscillator::new(pac.ROSC).initialize();
    let entropy = |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            *b = (0..8).fold(0u8, |acc, _| (acc << 1) | u8::from(rosc.get_random_bit()));
        }
        true
    };
    let mut seed = [0u8; 8];
    entropy(&mut seed);

    // The RFC 7217 secret, kept in the last sector.
    let mut sector = SecretSector;
    let (secret, outcome) =
        iid_secret::load_or_create(&mut sector, |buf: &mut [u8; SECRET_LEN]| entropy(buf));
    if outcome.is_warning() {
        warn!("secret: {=str}", outcome.describe());
    } else {
        info!("secret: {=str}", outcome.describe());
    }
    if outcome.stored_now() {
        // The flash runs in the ROM's slow serial mode after a write:
        // start again, with the secret in place, in the fast mode.
        info!("secret stored: resetting once");
        cortex_m::peripheral::SCB::sys_reset();
    }

    let mac = mac_from_secret(&secret);

    // The W5500: reset (RSTn low for at least 500 µs, then 1 ms for its
    // PLL), then SPI0 at 20 MHz, mode 0.
    let mut reset = pins.gpio20.into_push_pull_output();
    let wait_us = |us: u64| {
        let start = timer.get_counter().ticks();
        while timer.get_counter().ticks().wrapping_sub(start) < us {}
    };
    let _ = reset.set_low();
    wait_us(1_000);
    let _ = reset.set_high();
    wait_us(2_000);
    let spi_pins = (
        pins.gpio19.into_function::<FunctionSpi>(),
        pins.gpio16.into_function::<FunctionSpi>(),
        pins.gpio18.into_function::<FunctionSpi>(),
    );
    let spi = rp2040_hal::Spi::<_, _, _, 8>::new(pac.SPI0, spi_pins).init(
        &mut pac.RESETS,
        clocks.peripheral_clock.freq(),
        20.MHz(),
        embedded_hal::spi::MODE_0,
    );
    let cs = pins.gpio17.into_push_pull_output();
    // Its error type is Infallible.
    let Ok(spi) = ExclusiveDevice::new_no_delay(spi, cs);
    let int = pins.gpio21.into_pull_up_input();
    let mut device = match MacRaw::init(w5500_ll::eh1::vdm::W5500::new(spi), mac) {
        Ok(d) => d,
        Err(e) => defmt::panic!("W5500: {}", defmt::Debug2Format(&e)),
    };
    // The state at boot: later changes are logged against it.
    let up = device.link_up();
    info!(
        "W5500 in MACRAW mode, link {=str}",
        if up { "up" } else { "down" }
    );

    let mut board = Pico {
        timer: move || timer.get_counter().ticks(),
        int,
        link: Some(up),
        link_checked: 0,
    };
    let settings = Settings {
        mac: mac.0,
        secret,
        seed: u64::from_le_bytes(seed),
        exit_when_configured: false,
    };
    ndp_demo::run(device, SoftFilter, &mut board, settings)
}
