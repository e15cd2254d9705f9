//! ndp on QEMU's mps2-an386 (Cortex-M4F, LAN9118): hardware setup and
//! one call into the shared demo (`boards/demo`).
//!
//! Built with `--no-default-features --features smoltcp-nd`, the same
//! demo runs on smoltcp's own IPv6 ND instead of the engine (the baseline
//! of `cargo xtask bench`; see `ndp_demo::smoltcp_nd`).
//!
//! ```text
//! qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
//!     -nic user,model=lan9118,ipv6-net=fd00:1::/64 -kernel mps2-an386 \
//!     -append "secret=HEX32 seed=N [exit-when-configured]"
//! ```
//!
//! - Logs: defmt over semihosting (stdout of QEMU); `cargo xtask demo`
//!   and `cargo xtask qemu` decode them.
//! - Settings from the semihosting command line (`-append`): `secret=`
//!   32 hex digits (default: the bytes of "ndp-qemu-default"), `seed=`
//!   a decimal u64 (default: per-boot entropy from the host's clock, read
//!   through semihosting, so two QEMU instances of one image do not share
//!   DAD nonces), and `exit-when-configured` to end the run
//!   with exit code 0 once a global address is usable (boot-time
//!   measurements), and `fault=panic` or `fault=hardfault` to crash on
//!   purpose (the tests check that a crash is reported and ends the run).
//!   A bad argument ends the run with exit code 2.
//! - Exit codes through semihosting: 0 configured (when asked), 2 bad
//!   arguments, 3 no LAN9118, 101 panic or HardFault (after logging it).
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use critical_section::Mutex;
use defmt::{error, info};
use defmt_semihosting as _;
use mps2_an386::clock::{Clock, WakeTimer};
#[cfg(feature = "ndp")]
use mps2_an386::lan9118::HashFilter;
use mps2_an386::lan9118::Lan9118;
use mps2_an386::mmio::Mmio;
use ndp_demo::{Board, Settings};
use smoltcp::time::{Duration, Instant};

/// The RFC 7217 secret when the command line gives none.
const DEFAULT_SECRET: [u8; 16] = *b"ndp-qemu-default";

/// Exit codes (through semihosting).
const EXIT_CONFIGURED: i32 = 0;
const EXIT_BAD_ARGS: i32 = 2;
const EXIT_NO_NIC: i32 = 3;
const EXIT_FAULT: i32 = 101;

/// The board's interrupt lines the firmware uses.
#[derive(Debug, Clone, Copy)]
#[repr(u16)]
enum Irq {
    Timer1 = mps2_an386::TIMER1_IRQ,
    Ethernet = mps2_an386::LAN9118_IRQ,
}

// SAFETY: both values are interrupt lines of this board (mps2-an386 has
// 32 external interrupts), which is all `InterruptNumber` requires.
#[allow(unsafe_code)]
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self as u16
    }
}

/// The clock, shared with defmt's timestamp.
static CLOCK: Mutex<RefCell<Option<Clock<Mmio>>>> = Mutex::new(RefCell::new(None));

fn now_ms() -> u64 {
    critical_section::with(|cs| {
        CLOCK
            .borrow_ref_mut(cs)
            .as_mut()
            .map_or(0, |clock| clock.now_ms())
    })
}

defmt::timestamp!("{=u64}", now_ms());

struct Qemu {
    wake: WakeTimer<Mmio>,
}

impl Board<Lan9118<Mmio>> for Qemu {
    fn now(&mut self) -> Instant {
        Instant::from_millis(i64::try_from(now_ms()).unwrap_or(i64::MAX))
    }

    fn idle(&mut self, nic: &mut Lan9118<Mmio>, timeout: Duration) {
        cortex_m::interrupt::free(|_| {
            if nic.prepare_sleep() {
                return;
            }
            self.wake.arm(timeout.total_millis());
            // SAFETY: the firmware takes no critical section by masking
            // NVIC lines (only PRIMASK, as here), so unmasking cannot
            // break one. Each handler masks its line again.
            #[allow(unsafe_code)]
            unsafe {
                NVIC::unmask(Irq::Ethernet);
                NVIC::unmask(Irq::Timer1);
            }
            // With PRIMASK set, a pending interrupt still ends WFI; its
            // handler runs when `free` returns.
            cortex_m::asm::wfi();
        });
        self.wake.stop();
    }

    fn link_change(&mut self, nic: &mut Lan9118<Mmio>) -> Option<bool> {
        nic.poll_link()
    }

    fn configured(&mut self) {
        info!("exit-when-configured: done");
        semihosting::process::exit(EXIT_CONFIGURED);
    }
}

#[entry]
fn main() -> ! {
    // SAFETY: TIMER0 and TIMER1 are CMSDK APB timers at these addresses
    // on mps2-an386, used by nothing else.
    #[allow(unsafe_code)]
    let (timer0, timer1) = unsafe {
        (
            Mmio::new(mps2_an386::TIMER0_BASE),
            Mmio::new(mps2_an386::TIMER1_BASE),
        )
    };
    let clock = Clock::start(timer0, mps2_an386::PCLK_HZ);
    critical_section::with(|cs| CLOCK.borrow_ref_mut(cs).replace(clock));
    let wake = WakeTimer::new(timer1, mps2_an386::PCLK_HZ);

    let (secret, seed, exit_when_configured, fault) = match parse_args() {
        Ok(a) => a,
        Err(why) => {
            error!("bad argument: {=str}", why);
            semihosting::process::exit(EXIT_BAD_ARGS);
        }
    };

    // The firmware test of the panic handler asks for a panic.
    #[allow(clippy::panic)]
    match fault {
        Some(Fault::Panic) => panic!("fault=panic on the command line"),
        // An undefined instruction: a UsageFault, escalated to HardFault.
        Some(Fault::HardFault) => cortex_m::asm::udf(),
        None => {}
    }

    // SAFETY: the LAN9118's register window on mps2-an386, used only by
    // this driver.
    #[allow(unsafe_code)]
    let bus = unsafe { Mmio::new(mps2_an386::LAN9118_BASE) };
    let nic = match Lan9118::init(bus) {
        Ok(nic) => nic,
        Err(e) => {
            error!("LAN9118: {}", defmt::Debug2Format(&e));
            semihosting::process::exit(EXIT_NO_NIC);
        }
    };
    info!(
        "LAN9118 id {=u32:#010x}, link {=str}",
        nic.id_rev(),
        if nic.link_up() { "up" } else { "down" }
    );
    // The NVIC holds a stale pending Ethernet interrupt from reset.
    NVIC::unpend(Irq::Ethernet);
    NVIC::unpend(Irq::Timer1);

    let settings = Settings {
        mac: nic.mac().0,
        secret,
        seed,
        exit_when_configured,
    };
    let mut board = Qemu { wake };
    #[cfg(feature = "ndp")]
    {
        ndp_demo::run(nic, HashFilter, &mut board, settings)
    }
    #[cfg(not(feature = "ndp"))]
    {
        ndp_demo::smoltcp_nd::run(nic, SmoltcpGroups, &mut board, settings)
    }
}

/// The LAN9118's hash filter for smoltcp's own ND (the `smoltcp-nd`
/// build): the groups the demo names.
#[cfg(not(feature = "ndp"))]
struct SmoltcpGroups;

#[cfg(not(feature = "ndp"))]
impl ndp_demo::smoltcp_nd::MacFilter<Lan9118<Mmio>> for SmoltcpGroups {
    fn set_multicast_macs(
        &mut self,
        nic: &mut Lan9118<Mmio>,
        macs: &[smoltcp::wire::EthernetAddress],
    ) {
        use ndp_core::wire::MacAddr;
        let mut groups = [MacAddr([0; 6]); ndp_demo::smoltcp_nd::MAX_GROUPS];
        let n = groups
            .iter_mut()
            .zip(macs)
            .map(|(slot, mac)| *slot = MacAddr(mac.0))
            .count();
        nic.set_multicast(groups.get(..n).unwrap_or(&[]));
    }
}

/// A crash asked for on the command line.
enum Fault {
    Panic,
    HardFault,
}

/// `secret=HEX32 seed=N exit-when-configured fault=panic|hardfault`, each
/// optional.
#[allow(clippy::type_complexity)]
fn parse_args() -> Result<([u8; 16], u64, bool, Option<Fault>), &'static str> {
    let mut secret = DEFAULT_SECRET;
    let mut seed = boot_entropy();
    let mut exit = false;
    let mut fault = None;
    let args = semihosting::experimental::env::args::<512>()
        .map_err(|_| "cannot read the semihosting command line")?;
    // The first word is the program (QEMU's -kernel path).
    for arg in args.skip(1) {
        let arg = arg.map_err(|_| "the command line is not UTF-8")?;
        if let Some(hex) = arg.strip_prefix("secret=") {
            secret = parse_secret(hex).ok_or("secret= takes 32 hex digits")?;
        } else if let Some(n) = arg.strip_prefix("seed=") {
            seed = n.parse().map_err(|_| "seed= takes a decimal u64")?;
        } else if arg == "exit-when-configured" {
            exit = true;
        } else if arg == "fault=panic" {
            fault = Some(Fault::Panic);
        } else if arg == "fault=hardfault" {
            fault = Some(Fault::HardFault);
        } else if !arg.is_empty() {
            return Err(
                "unknown argument (secret=HEX32, seed=N, exit-when-configured, fault=panic|hardfault)",
            );
        }
    }
    Ok((secret, seed, exit, fault))
}

/// Per-boot entropy for the engine's seed when the command line gives
/// none: the host's clock (seconds since 1970) and the ticks since QEMU
/// started, through semihosting, mixed (SplitMix64's finalizer). QEMU's
/// board has no hardware RNG; a real board uses its own.
fn boot_entropy() -> u64 {
    use semihosting::sys::arm_compat::{sys_elapsed, sys_time};
    let secs = sys_time().map_or(0, |s| s as u64);
    let ticks = sys_elapsed().unwrap_or(0);
    let mut z = secs.rotate_left(32) ^ ticks ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn parse_secret(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = core::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[exception]
#[allow(unsafe_code)]
unsafe fn DefaultHandler(irqn: i16) {
    // Each line masks itself; the main loop unmasks it before sleeping.
    // The Ethernet line is level-triggered: the main loop acknowledges
    // the chip.
    match u16::try_from(irqn) {
        Ok(n) if n == Irq::Ethernet as u16 => NVIC::mask(Irq::Ethernet),
        Ok(n) if n == Irq::Timer1 as u16 => {
            NVIC::mask(Irq::Timer1);
            // SAFETY: TIMER1's registers, as in `main`.
            let timer1 = unsafe { Mmio::new(mps2_an386::TIMER1_BASE) };
            WakeTimer::new(timer1, mps2_an386::PCLK_HZ).stop();
        }
        _ => {
            error!("unexpected interrupt {=i16}", irqn);
            semihosting::process::exit(EXIT_FAULT);
        }
    }
}

#[exception]
#[allow(unsafe_code)]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    error!(
        "HardFault at pc {=u32:#010x}, lr {=u32:#010x}",
        frame.pc(),
        frame.lr()
    );
    semihosting::process::exit(EXIT_FAULT);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    error!("panic: {}", defmt::Display2Format(info));
    semihosting::process::exit(EXIT_FAULT);
}
