//! What both firmware images share on the real chip: the clock tree, the
//! RFC 7217 secret's flash sector, and bounded reads of the RNG. Only
//! built for the target (it needs embassy-stm32).

use embassy_stm32::flash::{Blocking, Flash};
use embassy_stm32::pac;
use embassy_stm32::time::Hertz;
use iid_secret::{RECORD_LEN, SECRET_LEN, SecretStore};

use crate::{FLASH_BASE, SECRET_SECTOR_ADDR, SECRET_SECTOR_SIZE};

/// Reads of the RNG's status before it is declared dead.
const RNG_SPINS: u32 = 100_000;

/// The ST-LINK's 8 MHz on HSE (bypass), the PLL to 216 MHz, 48 MHz for
/// the RNG.
pub fn rcc_config() -> embassy_stm32::Config {
    use embassy_stm32::rcc::*;
    let mut config = embassy_stm32::Config::default();
    // The ST-LINK's MCO: 8 MHz into OSC_IN (HSE bypass).
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL216,
        divp: Some(PllPDiv::DIV2), // 216 MHz
        divq: Some(PllQDiv::DIV9), // 48 MHz, for the RNG
        divr: None,
    });
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.mux.clk48sel = mux::Clk48sel::PLL1_Q;
    config
}

/// Sector 11 of the flash, for the RFC 7217 secret.
pub struct SecretSector<'d>(pub Flash<'d, Blocking>);

impl SecretStore for SecretSector<'_> {
    type Error = embassy_stm32::flash::Error;

    fn read(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<(), Self::Error> {
        self.0
            .blocking_read(SECRET_SECTOR_ADDR.wrapping_sub(FLASH_BASE), out)
    }

    fn write(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), Self::Error> {
        let start = SECRET_SECTOR_ADDR.wrapping_sub(FLASH_BASE);
        self.0
            .blocking_erase(start, start.saturating_add(SECRET_SECTOR_SIZE))?;
        self.0.blocking_write(start, record)
    }
}

/// Fill `buf` from the hardware RNG; false if it reports an error or
/// never becomes ready (no 48 MHz clock), instead of waiting forever
/// (embassy's blocking read would).
pub fn rng_fill(buf: &mut [u8]) -> bool {
    for chunk in buf.chunks_mut(4) {
        let mut spins = 0u32;
        let word = loop {
            let sr = pac::RNG.sr().read();
            if sr.seis() || sr.ceis() {
                return false;
            }
            if sr.drdy() {
                break pac::RNG.dr().read();
            }
            spins = spins.saturating_add(1);
            if spins > RNG_SPINS {
                return false;
            }
        };
        // The reference manual: a zero word is not random.
        if word == 0 {
            return false;
        }
        for (b, w) in chunk.iter_mut().zip(word.to_le_bytes()) {
            *b = w;
        }
    }
    true
}

/// The engine's seed from the RNG (whose clock must be on: an
/// `embassy_stm32::rng::Rng` made). Should the RNG fail, the chip's
/// unique ID mixed with `salt` (the clock, say), with a warning.
pub fn seed(salt: u8) -> u64 {
    let mut seed = [0u8; 8];
    if !rng_fill(&mut seed) {
        defmt::warn!("RNG failed: the seed falls back to the unique ID");
        let uid = embassy_stm32::uid::uid();
        for (s, u) in seed.iter_mut().zip(uid.iter()) {
            *s = *u;
        }
        seed[0] ^= salt;
    }
    u64::from_le_bytes(seed)
}

/// The RFC 7217 secret kept in sector 11, drawn from the RNG and stored
/// on the first boot; what happened is logged (a warning when it is not
/// the secret of earlier boots).
pub fn secret(flash: Flash<'_, Blocking>) -> [u8; SECRET_LEN] {
    let mut sector = SecretSector(flash);
    let (secret, outcome) =
        iid_secret::load_or_create(&mut sector, |buf: &mut [u8; SECRET_LEN]| rng_fill(buf));
    if outcome.is_warning() {
        defmt::warn!("secret: {=str}", outcome.describe());
    } else {
        defmt::info!("secret: {=str}", outcome.describe());
    }
    secret
}
