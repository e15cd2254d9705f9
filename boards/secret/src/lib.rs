//! # iid-secret: the RFC 7217 secret of a board, kept across reboots
//!
//! RFC 7217 addresses are stable only if the secret they are hashed with
//! is: a board that drew a new secret at every boot would get new
//! addresses at every boot, which is what RFC 7217 §5 exists to avoid
//! ("the same interface identifier ... each time the node attaches to the
//! same network"). So a board draws its secret once, from its own entropy
//! (a hardware RNG, a ring oscillator), stores it in a flash sector it
//! reserves for nothing else, and reads it back at every later boot.
//!
//! This crate is that logic, apart from any flash: the board implements
//! [`SecretStore`] over its sector and calls [`load_or_create`] with its
//! entropy source. Everything here runs and is tested on the host.
//!
//! ## The record
//!
//! 32 bytes at the start of the sector, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `NDPS` |
//! | 4 | format version, 1 |
//! | 5..8 | zero |
//! | 8..24 | the secret |
//! | 24..28 | CRC-32 (ISO-HDLC, as Ethernet's) of bytes 0..24 |
//! | 28..32 | zero |
//!
//! An erased sector (all bytes 0xFF, or all 0x00 on flash that erases to
//! zero) holds no record; a record whose magic, version or CRC is wrong
//! was torn by a reset while it was written, or the sector was damaged.
//! Either way a new secret is drawn and written: the old one cannot be
//! recovered, and a board without addresses is worse than a board with
//! new ones. [`Outcome`] says which case it was, for the log.
//!
//! ```
//! use iid_secret::{load_or_create, Outcome, SecretStore, RECORD_LEN};
//!
//! /// A sector in RAM, as a test double for flash.
//! struct Sector([u8; RECORD_LEN]);
//! impl SecretStore for Sector {
//!     type Error = ();
//!     fn read(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<(), ()> {
//!         *out = self.0;
//!         Ok(())
//!     }
//!     fn write(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), ()> {
//!         self.0 = *record;
//!         Ok(())
//!     }
//! }
//!
//! let mut sector = Sector([0xff; RECORD_LEN]); // erased
//! let mut rng = 7u8;
//! let mut entropy = |buf: &mut [u8; 16]| {
//!     for b in buf.iter_mut() {
//!         rng = rng.wrapping_mul(31).wrapping_add(17);
//!         *b = rng;
//!     }
//!     true
//! };
//! let (first, outcome) = load_or_create(&mut sector, &mut entropy);
//! assert_eq!(outcome, Outcome::Created);
//! // The next boot reads the same secret back.
//! let (again, outcome) = load_or_create(&mut sector, &mut entropy);
//! assert_eq!((again, outcome), (first, Outcome::Loaded));
//! ```
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

/// Bytes of the secret (RFC 7217's secret_key; ndp-core's
/// `Config::secret`).
pub const SECRET_LEN: usize = 16;
/// Bytes of the stored record.
pub const RECORD_LEN: usize = 32;
/// The record's first four bytes.
pub const MAGIC: [u8; 4] = *b"NDPS";
/// The record format this crate writes and reads.
pub const VERSION: u8 = 1;
/// Draws from the entropy source before giving up on it: a source that
/// keeps returning a constant (a dead ring oscillator, an RNG that was
/// never clocked) is broken, not unlucky.
pub const ENTROPY_ATTEMPTS: usize = 4;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Where the record lives: a flash sector (or any non-volatile memory)
/// that the board reserves for it and documents.
pub trait SecretStore {
    /// The store's own error.
    type Error;
    /// Read the first [`RECORD_LEN`] bytes of the sector.
    fn read(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<(), Self::Error>;
    /// Replace them with `record`: erase the sector and program it.
    fn write(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), Self::Error>;
}

/// What [`load_or_create`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A valid record: the secret of every earlier boot.
    Loaded,
    /// The sector was erased (first boot, or after `cargo xtask flash
    /// BOARD --reset-secret`): a new secret, now stored.
    Created,
    /// The sector held a damaged record: a new secret, now stored. The
    /// board's addresses change once.
    Replaced(Invalid),
    /// A new secret that could not be stored (the reason is the store's
    /// error, or a read-back that differed): it serves this boot, and the
    /// next boot tries again, with another secret.
    Unsaved(Unsaved),
    /// The entropy source gave nothing usable: a secret derived from the
    /// sector's bytes and the board's fallback is used, unstored (see
    /// [`load_or_create`]). Addresses still work; they are not secret.
    NoEntropy,
}

impl Outcome {
    /// A new record was written and read back this boot.
    pub fn stored_now(&self) -> bool {
        matches!(self, Outcome::Created | Outcome::Replaced(_))
    }

    /// Something went wrong that a board should log as a warning:
    /// anything but a loaded or newly created secret.
    pub fn is_warning(&self) -> bool {
        !matches!(self, Outcome::Loaded | Outcome::Created)
    }

    /// One line for the board's log, the same on every board.
    pub fn describe(&self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded from flash",
            Outcome::Created => "new, stored in flash",
            Outcome::Replaced(Invalid::Magic) => "stored record damaged (magic), replaced",
            Outcome::Replaced(Invalid::Version) => "stored record of another version, replaced",
            Outcome::Replaced(Invalid::Checksum) => "stored record damaged (checksum), replaced",
            Outcome::Replaced(Invalid::Weak) => "stored secret constant (dead RNG?), replaced",
            Outcome::Unsaved(Unsaved::Read) => {
                "new, NOT stored (flash unreadable): addresses change at next boot"
            }
            Outcome::Unsaved(Unsaved::Write) => {
                "new, NOT stored (flash write failed): addresses change at next boot"
            }
            Outcome::Unsaved(Unsaved::Verify) => {
                "new, NOT stored (flash read back differs): addresses change at next boot"
            }
            Outcome::NoEntropy => "no entropy, derived from flash contents, not stored",
        }
    }
}

/// Why a stored record was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Not this crate's magic.
    Magic,
    /// A format version this crate does not read.
    Version,
    /// The CRC does not match: torn or damaged.
    Checksum,
    /// A secret with all its bytes equal: what a dead entropy source
    /// writes, so never trusted.
    Weak,
}

/// Why a new secret was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsaved {
    /// The store's read failed (the record could not even be looked at).
    Read,
    /// The store's write failed.
    Write,
    /// The write said it succeeded but the record read back differs.
    Verify,
}

/// The board's secret: the stored one when the sector holds a valid
/// record, otherwise a new one drawn from `entropy` and stored.
///
/// `entropy` fills its buffer and returns `true`, or returns `false` when
/// the source failed. Draws whose bytes are all equal are rejected and
/// drawn again, up to [`ENTROPY_ATTEMPTS`] times. If no draw is usable,
/// the result mixes the last draw with the sector's bytes, is not stored,
/// and is reported as [`Outcome::NoEntropy`]; the board should log it.
///
/// Never fails: a board always gets a secret to form its addresses with.
/// What went wrong is in the [`Outcome`].
pub fn load_or_create<S: SecretStore>(
    store: &mut S,
    mut entropy: impl FnMut(&mut [u8; SECRET_LEN]) -> bool,
) -> ([u8; SECRET_LEN], Outcome) {
    let mut stored = [0u8; RECORD_LEN];
    let read_ok = store.read(&mut stored).is_ok();
    let invalid = if read_ok {
        match decode(&stored) {
            Ok(secret) => return (secret, Outcome::Loaded),
            Err(why) => why,
        }
    } else {
        None
    };
    let Some(secret) = draw(&mut entropy) else {
        return (fallback(&stored, &mut entropy), Outcome::NoEntropy);
    };
    if !read_ok {
        // Do not overwrite what could not be read: it may be fine, and
        // the next boot may read it.
        return (secret, Outcome::Unsaved(Unsaved::Read));
    }
    let record = encode(&secret);
    if store.write(&record).is_err() {
        return (secret, Outcome::Unsaved(Unsaved::Write));
    }
    let mut back = [0u8; RECORD_LEN];
    if store.read(&mut back).is_err() || back != record {
        return (secret, Outcome::Unsaved(Unsaved::Verify));
    }
    let outcome = match invalid {
        None => Outcome::Created,
        Some(why) => Outcome::Replaced(why),
    };
    (secret, outcome)
}

/// The record for `secret`.
pub fn encode(secret: &[u8; SECRET_LEN]) -> [u8; RECORD_LEN] {
    let mut head = [0u8; 24];
    let (magic, rest) = head.split_at_mut(4);
    magic.copy_from_slice(&MAGIC);
    let (version, rest) = rest.split_at_mut(4);
    if let Some(v) = version.first_mut() {
        *v = VERSION;
    }
    rest.copy_from_slice(secret);
    let crc = CRC.checksum(&head).to_le_bytes();
    let mut record = [0u8; RECORD_LEN];
    let (h, tail) = record.split_at_mut(24);
    h.copy_from_slice(&head);
    let (c, _zero) = tail.split_at_mut(4);
    c.copy_from_slice(&crc);
    record
}

/// The secret in `record`; `Err(None)` for an erased sector (no record),
/// `Err(Some(why))` for a damaged one.
pub fn decode(record: &[u8; RECORD_LEN]) -> Result<[u8; SECRET_LEN], Option<Invalid>> {
    if record.iter().all(|&b| b == 0xff) || record.iter().all(|&b| b == 0) {
        return Err(None);
    }
    let (head, tail) = record.split_at(24);
    let (magic, rest) = head.split_at(4);
    if magic != MAGIC {
        return Err(Some(Invalid::Magic));
    }
    let (version, secret) = rest.split_at(4);
    if version.first() != Some(&VERSION) {
        return Err(Some(Invalid::Version));
    }
    let crc = tail
        .first_chunk::<4>()
        .map(|c| u32::from_le_bytes(*c))
        .ok_or(Some(Invalid::Checksum))?;
    if crc != CRC.checksum(head) {
        return Err(Some(Invalid::Checksum));
    }
    let secret: [u8; SECRET_LEN] = secret.try_into().map_err(|_| Some(Invalid::Checksum))?;
    if weak(&secret) {
        return Err(Some(Invalid::Weak));
    }
    Ok(secret)
}

/// All bytes equal: a constant from a dead source, not a secret.
fn weak(secret: &[u8; SECRET_LEN]) -> bool {
    secret.iter().all(|&b| Some(&b) == secret.first())
}

/// A usable draw, within [`ENTROPY_ATTEMPTS`].
fn draw(entropy: &mut impl FnMut(&mut [u8; SECRET_LEN]) -> bool) -> Option<[u8; SECRET_LEN]> {
    (0..ENTROPY_ATTEMPTS).find_map(|_| {
        let mut s = [0u8; SECRET_LEN];
        (entropy(&mut s) && !weak(&s)).then_some(s)
    })
}

/// Without entropy: the sector's bytes hashed (four CRC-32s, each over
/// the sector and its index), XORed with one more draw, so that boards at
/// least differ where their sectors or sources do.
fn fallback(
    stored: &[u8; RECORD_LEN],
    entropy: &mut impl FnMut(&mut [u8; SECRET_LEN]) -> bool,
) -> [u8; SECRET_LEN] {
    let mut s = [0u8; SECRET_LEN];
    let _ = entropy(&mut s);
    for (i, chunk) in (0u8..).zip(s.chunks_exact_mut(4)) {
        let mut digest = CRC.digest();
        digest.update(stored);
        digest.update(&[i]);
        for (x, h) in chunk.iter_mut().zip(digest.finalize().to_le_bytes()) {
            *x ^= h;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sector in RAM whose operations can be made to fail.
    #[derive(Default)]
    struct Sector {
        bytes: Vec<u8>,
        fail_read: bool,
        fail_write: bool,
        /// Writes "succeed" but store nothing (worn-out flash).
        drop_writes: bool,
        writes: usize,
    }

    impl Sector {
        fn with(bytes: [u8; RECORD_LEN]) -> Self {
            Sector {
                bytes: bytes.to_vec(),
                ..Default::default()
            }
        }
    }

    impl SecretStore for Sector {
        type Error = &'static str;
        fn read(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<(), Self::Error> {
            if self.fail_read {
                return Err("read");
            }
            out.copy_from_slice(&self.bytes);
            Ok(())
        }
        fn write(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), Self::Error> {
            self.writes += 1;
            if self.fail_write {
                return Err("write");
            }
            if !self.drop_writes {
                self.bytes = record.to_vec();
            }
            Ok(())
        }
    }

    /// A source that counts up from `start`.
    fn counter(start: u8) -> impl FnMut(&mut [u8; SECRET_LEN]) -> bool {
        let mut n = start;
        move |buf| {
            for b in buf.iter_mut() {
                *b = n;
                n = n.wrapping_add(1);
            }
            true
        }
    }

    const SECRET: [u8; SECRET_LEN] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    #[test]
    fn the_record_layout_is_the_documented_one() {
        let r = encode(&SECRET);
        assert_eq!(&r[0..4], b"NDPS");
        assert_eq!(r[4], 1);
        assert_eq!(&r[5..8], &[0, 0, 0]);
        assert_eq!(&r[8..24], &SECRET);
        assert_eq!(
            u32::from_le_bytes(r[24..28].try_into().unwrap()),
            // CRC-32/ISO-HDLC, computed independently of `crc`'s table
            // by the bitwise definition.
            crc32_bitwise(&r[0..24])
        );
        assert_eq!(&r[28..32], &[0, 0, 0, 0]);
        assert_eq!(decode(&r), Ok(SECRET));
    }

    fn crc32_bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_blank_sector_gets_a_new_secret_that_later_boots_read_back() {
        for blank in [0xffu8, 0x00] {
            let mut s = Sector::with([blank; RECORD_LEN]);
            let (first, outcome) = load_or_create(&mut s, counter(40));
            assert_eq!(outcome, Outcome::Created);
            assert_eq!(first, core::array::from_fn(|i| 40 + i as u8));
            assert_eq!(s.writes, 1);
            // Every later boot: the same secret, whatever the entropy,
            // and no write (flash wears).
            for start in [0, 99, 200] {
                assert_eq!(
                    load_or_create(&mut s, counter(start)),
                    (first, Outcome::Loaded)
                );
            }
            assert_eq!(s.writes, 1);
        }
    }

    #[test]
    fn each_kind_of_damage_is_replaced_and_named() {
        let good = encode(&SECRET);
        let mut magic = good;
        magic[0] = b'X';
        let mut version = good;
        version[4] = 2;
        let mut flipped = good;
        flipped[10] ^= 0x01; // one bit of the secret: the CRC catches it
        let mut torn = good;
        torn[20..].fill(0xff); // a write cut short
        let weak_record = encode(&[0x5a; SECRET_LEN]);
        for (record, why) in [
            (magic, Invalid::Magic),
            (version, Invalid::Version),
            (flipped, Invalid::Checksum),
            (torn, Invalid::Checksum),
            (weak_record, Invalid::Weak),
        ] {
            let mut s = Sector::with(record);
            let (secret, outcome) = load_or_create(&mut s, counter(100));
            assert_eq!(outcome, Outcome::Replaced(why), "{why:?}");
            assert_ne!(secret, SECRET);
            // Stored: the next boot loads it.
            assert_eq!(
                load_or_create(&mut s, counter(77)),
                (secret, Outcome::Loaded)
            );
        }
    }

    #[test]
    fn a_constant_source_is_drawn_again_then_given_up() {
        // Two dead draws, then a good one.
        let mut calls = 0;
        let mut s = Sector::with([0xff; RECORD_LEN]);
        let (secret, outcome) = load_or_create(&mut s, |buf| {
            calls += 1;
            if calls <= 2 {
                buf.fill(0);
            } else {
                buf.copy_from_slice(&SECRET);
            }
            true
        });
        assert_eq!((secret, outcome), (SECRET, Outcome::Created));
        // Always constant, or always failing: nothing is stored, and the
        // board still gets a secret.
        for source in [
            (|buf: &mut [u8; SECRET_LEN]| {
                buf.fill(0xff);
                true
            }) as fn(&mut [u8; SECRET_LEN]) -> bool,
            |_buf: &mut [u8; SECRET_LEN]| false,
        ] {
            let mut s = Sector::with([0xff; RECORD_LEN]);
            let (_, outcome) = load_or_create(&mut s, source);
            assert_eq!(outcome, Outcome::NoEntropy);
            assert_eq!(s.writes, 0, "a weak secret is never stored");
        }
    }

    #[test]
    fn store_failures_leave_a_working_unsaved_secret() {
        let mut s = Sector::with([0xff; RECORD_LEN]);
        s.fail_write = true;
        let (secret, outcome) = load_or_create(&mut s, counter(3));
        assert_eq!(outcome, Outcome::Unsaved(Unsaved::Write));
        assert!(!weak(&secret));

        let mut s = Sector::with([0xff; RECORD_LEN]);
        s.drop_writes = true;
        assert_eq!(
            load_or_create(&mut s, counter(3)).1,
            Outcome::Unsaved(Unsaved::Verify)
        );

        // A sector that cannot be read is not overwritten.
        let mut s = Sector::with(encode(&SECRET));
        s.fail_read = true;
        assert_eq!(
            load_or_create(&mut s, counter(3)).1,
            Outcome::Unsaved(Unsaved::Read)
        );
        assert_eq!(s.writes, 0);
        s.fail_read = false;
        assert_eq!(
            load_or_create(&mut s, counter(3)),
            (SECRET, Outcome::Loaded)
        );
    }

    /// Every outcome has its own log line; only a loaded or newly created
    /// secret is not a warning; `stored_now` holds exactly when a record
    /// was written and read back this boot.
    #[test]
    fn each_outcome_reads_differently_in_the_log() {
        let all = [
            Outcome::Loaded,
            Outcome::Created,
            Outcome::Replaced(Invalid::Magic),
            Outcome::Replaced(Invalid::Version),
            Outcome::Replaced(Invalid::Checksum),
            Outcome::Replaced(Invalid::Weak),
            Outcome::Unsaved(Unsaved::Read),
            Outcome::Unsaved(Unsaved::Write),
            Outcome::Unsaved(Unsaved::Verify),
            Outcome::NoEntropy,
        ];
        let lines: std::collections::HashSet<_> = all.iter().map(|o| o.describe()).collect();
        assert_eq!(lines.len(), all.len());
        let warnings: Vec<_> = all.iter().filter(|o| o.is_warning()).collect();
        assert_eq!(warnings.len(), all.len() - 2);
        let stored: Vec<_> = all.iter().filter(|o| o.stored_now()).collect();
        assert_eq!(stored.len(), 5, "Created and the four Replaced");
    }

    #[test]
    fn without_entropy_two_sectors_give_two_secrets() {
        let dead = |_b: &mut [u8; SECRET_LEN]| false;
        let mut a = Sector::with([0x11; RECORD_LEN]);
        let mut b = Sector::with([0x22; RECORD_LEN]);
        let (sa, oa) = load_or_create(&mut a, dead);
        let (sb, ob) = load_or_create(&mut b, dead);
        assert_eq!((oa, ob), (Outcome::NoEntropy, Outcome::NoEntropy));
        assert_ne!(sa, sb);
    }
}
