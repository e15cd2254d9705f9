//! Multicast Listener Discovery messages: the Query in its MLDv1
//! ([RFC 2710 §3]) and MLDv2 ([RFC 3810 §5.1]) forms, the MLDv2 Report
//! ([RFC 3810 §5.2]), and the MLDv1 Report and Done a host must send when an
//! MLDv1 querier is present ([RFC 3810 §8]).
//!
//! [RFC 2710 §3]: https://www.rfc-editor.org/rfc/rfc2710#section-3
//! [RFC 3810 §5.1]: https://www.rfc-editor.org/rfc/rfc3810#section-5.1
//! [RFC 3810 §5.2]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2
//! [RFC 3810 §8]: https://www.rfc-editor.org/rfc/rfc3810#section-8

use core::fmt;
use core::net::Ipv6Addr;

use super::bytes;
use super::option::AddrList;
use super::{Error, Result};

mod field {
    /// Query and MLDv1 messages.
    pub const MAX_RESP: usize = 4;
    #[cfg(any(test, feature = "emit"))]
    pub const RESERVED: usize = 6;
    pub const GROUP: usize = 8;
    pub const V1_LEN: usize = 24;
    /// MLDv2 query additions.
    pub const S_QRV: usize = 24;
    pub const QQIC: usize = 25;
    pub const NUM_SOURCES: usize = 26;
    pub const SOURCES: usize = 28;
    pub const FLAG_S: u8 = 0x08;
    pub const QRV_MASK: u8 = 0x07;
    /// MLDv2 report.
    pub const REPORT_RESERVED: usize = 4;
    pub const NUM_RECORDS: usize = 6;
    pub const RECORDS: usize = 8;
    /// Within one multicast address record.
    pub mod record {
        pub const TYPE: usize = 0;
        pub const AUX_LEN: usize = 1;
        pub const NUM_SOURCES: usize = 2;
        pub const GROUP: usize = 4;
        pub const SOURCES: usize = 20;
    }
}

/// A Multicast Listener Query.
///
/// The form is chosen by length ([RFC 3810 §8.1]): exactly 24 octets is an
/// MLDv1 query (`v2: None`), 28 or more an MLDv2 query; anything else is
/// [`Error::BadLength`]. Octets beyond the listed sources are ignored.
///
/// [RFC 3810 §8.1]: https://www.rfc-editor.org/rfc/rfc3810#section-8.1
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldQuery<'a> {
    /// Maximum Response Code (RFC 3810 §5.1.3); see
    /// [`MldQuery::max_response_delay_ms`].
    pub max_response_code: u16,
    /// `::` for a General Query, otherwise the group asked about.
    pub group: Ipv6Addr,
    /// The MLDv2 fields, or `None` for an MLDv1 query.
    pub v2: Option<MldQueryV2<'a>>,
}

/// The fields an MLDv2 query adds ([RFC 3810 §5.1.7]–§5.1.10).
///
/// [RFC 3810 §5.1.7]: https://www.rfc-editor.org/rfc/rfc3810#section-5.1.7
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldQueryV2<'a> {
    /// S flag: routers suppress their timer updates.
    pub suppress_router_processing: bool,
    /// Querier's Robustness Variable, 0..=7 (only 3 bits are sent).
    pub robustness: u8,
    /// Querier's Query Interval Code; see [`MldQueryV2::query_interval_secs`].
    pub qqic: u8,
    /// Sources of a Multicast Address and Source Specific Query.
    pub sources: AddrList<'a>,
}

impl MldQueryV2<'_> {
    /// The querier's query interval in seconds, decoded from QQIC
    /// ([RFC 3810 §5.1.9]: below 128 literal, else a floating-point form).
    ///
    /// [RFC 3810 §5.1.9]: https://www.rfc-editor.org/rfc/rfc3810#section-5.1.9
    pub fn query_interval_secs(&self) -> u32 {
        let c = u32::from(self.qqic);
        if c < 128 {
            c
        } else {
            let exp = (c >> 4) & 0x7;
            let mant = c & 0xf;
            (mant | 0x10) << (exp.saturating_add(3))
        }
    }
}

impl<'a> MldQuery<'a> {
    /// Length of an MLDv1 query and of the fixed part of an MLDv2 query.
    pub const V1_LEN: usize = field::V1_LEN;
    /// Length of an MLDv2 query without sources.
    pub const V2_MIN_LEN: usize = field::SOURCES;

    /// A General Query (group `::`) rather than a group-specific one.
    pub fn is_general(&self) -> bool {
        self.group.is_unspecified()
    }

    /// Maximum Response Delay in milliseconds. MLDv1 carries it directly;
    /// MLDv2 codes of 32768 and above use the floating-point form of
    /// [RFC 3810 §5.1.3] (largest value 8,387,584 ms).
    ///
    /// ```
    /// use ndp_core::wire::{AddrList, MldQuery, MldQueryV2};
    /// let v2 = MldQueryV2 { suppress_router_processing: false, robustness: 2, qqic: 125,
    ///                       sources: AddrList::new(&[]) };
    /// let q = MldQuery { max_response_code: 10_000, group: "::".parse().unwrap(), v2: Some(v2) };
    /// assert_eq!(q.max_response_delay_ms(), 10_000);
    /// let q = MldQuery { max_response_code: 0xffff, ..q };
    /// assert_eq!(q.max_response_delay_ms(), 8_387_584);
    /// ```
    ///
    /// [RFC 3810 §5.1.3]: https://www.rfc-editor.org/rfc/rfc3810#section-5.1.3
    pub fn max_response_delay_ms(&self) -> u32 {
        let c = u32::from(self.max_response_code);
        if self.v2.is_none() || c < 0x8000 {
            c
        } else {
            let exp = (c >> 12) & 0x7;
            let mant = c & 0xfff;
            (mant | 0x1000) << (exp.saturating_add(3))
        }
    }

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        let len = msg.len();
        if len < Self::V1_LEN {
            return Err(Error::Truncated);
        }
        let max_response_code = bytes::u16_at(msg, field::MAX_RESP)?;
        let group = bytes::addr_at(msg, field::GROUP)?;
        if len == Self::V1_LEN {
            return Ok(MldQuery {
                max_response_code,
                group,
                v2: None,
            });
        }
        // RFC 3810 §8.1: lengths between 25 and 27 are neither form.
        if len < Self::V2_MIN_LEN {
            return Err(Error::BadLength);
        }
        let s_qrv = bytes::u8_at(msg, field::S_QRV)?;
        let n = usize::from(bytes::u16_at(msg, field::NUM_SOURCES)?);
        let sources = bytes::slice(msg, field::SOURCES, n.saturating_mul(16))?;
        Ok(MldQuery {
            max_response_code,
            group,
            v2: Some(MldQueryV2 {
                suppress_router_processing: s_qrv & field::FLAG_S != 0,
                robustness: s_qrv & field::QRV_MASK,
                qqic: bytes::u8_at(msg, field::QQIC)?,
                sources: AddrList::from_wire(sources),
            }),
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        match &self.v2 {
            None => Self::V1_LEN,
            Some(v2) => Self::V2_MIN_LEN.saturating_add(v2.sources.len().saturating_mul(16)),
        }
    }

    #[cfg(any(test, feature = "emit"))]
    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::put_u16(msg, field::MAX_RESP, self.max_response_code)?;
        bytes::put_u16(msg, field::RESERVED, 0)?;
        bytes::put_addr(msg, field::GROUP, &self.group)?;
        if let Some(v2) = &self.v2 {
            let mut s_qrv = v2.robustness & field::QRV_MASK;
            if v2.suppress_router_processing {
                s_qrv |= field::FLAG_S;
            }
            let n = u16::try_from(v2.sources.len()).map_err(|_| Error::TooManyRecords)?;
            bytes::put_u8(msg, field::S_QRV, s_qrv)?;
            bytes::put_u8(msg, field::QQIC, v2.qqic)?;
            bytes::put_u16(msg, field::NUM_SOURCES, n)?;
            let mut at = field::SOURCES;
            for a in v2.sources.iter() {
                bytes::put_addr(msg, at, &a)?;
                at = at.saturating_add(16);
            }
        }
        Ok(())
    }
}

/// The body of an MLDv1 Report or Done ([RFC 2710 §3]): just the group.
/// Sent by a host only while an MLDv1 querier is present ([RFC 3810 §8.2]).
///
/// [RFC 2710 §3]: https://www.rfc-editor.org/rfc/rfc2710#section-3
/// [RFC 3810 §8.2]: https://www.rfc-editor.org/rfc/rfc3810#section-8.2
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldV1 {
    /// The multicast group reported or left.
    pub group: Ipv6Addr,
}

impl MldV1 {
    /// Length of an MLDv1 message; octets beyond it are ignored.
    pub const LEN: usize = field::V1_LEN;

    pub(crate) fn parse(msg: &[u8]) -> Result<Self> {
        if msg.len() < Self::LEN {
            return Err(Error::Truncated);
        }
        Ok(MldV1 {
            group: bytes::addr_at(msg, field::GROUP)?,
        })
    }

    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        bytes::zero(msg, field::MAX_RESP, 4)?;
        bytes::put_addr(msg, field::GROUP, &self.group)
    }
}

/// Multicast address record types ([RFC 3810 §5.2.12]).
///
/// [RFC 3810 §5.2.12]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2.12
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecordType {
    /// MODE_IS_INCLUDE (1), current state.
    ModeIsInclude,
    /// MODE_IS_EXCLUDE (2), current state.
    ModeIsExclude,
    /// CHANGE_TO_INCLUDE_MODE (3): with no sources, leaving the group.
    ChangeToInclude,
    /// CHANGE_TO_EXCLUDE_MODE (4): with no sources, joining the group.
    ChangeToExclude,
    /// ALLOW_NEW_SOURCES (5).
    AllowNewSources,
    /// BLOCK_OLD_SOURCES (6).
    BlockOldSources,
    /// Any other value; receivers ignore such records (RFC 3810 §5.2.12).
    Other(u8),
}

impl RecordType {
    /// From the wire value.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::ModeIsInclude,
            2 => Self::ModeIsExclude,
            3 => Self::ChangeToInclude,
            4 => Self::ChangeToExclude,
            5 => Self::AllowNewSources,
            6 => Self::BlockOldSources,
            v => Self::Other(v),
        }
    }

    /// The wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::ModeIsInclude => 1,
            Self::ModeIsExclude => 2,
            Self::ChangeToInclude => 3,
            Self::ChangeToExclude => 4,
            Self::AllowNewSources => 5,
            Self::BlockOldSources => 6,
            Self::Other(v) => v,
        }
    }
}

/// One Multicast Address Record of an MLDv2 report ([RFC 3810 §5.2.4]).
///
/// [RFC 3810 §5.2.4]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2.4
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldRecord<'a> {
    /// What the record says about the group.
    pub record_type: RecordType,
    /// The multicast group.
    pub group: Ipv6Addr,
    /// Source addresses.
    pub sources: AddrList<'a>,
    /// Auxiliary data (RFC 3810 §5.2.10; none is defined). Emitted
    /// zero-padded to a multiple of 4 octets.
    pub aux_data: &'a [u8],
}

impl<'a> MldRecord<'a> {
    /// Fixed part of a record.
    pub const HEADER_LEN: usize = field::record::SOURCES;

    /// Decode the record at the start of `buf`; returns it and its length.
    fn parse(buf: &'a [u8]) -> Result<(Self, usize)> {
        use field::record as f;
        let record_type = RecordType::from_u8(bytes::u8_at(buf, f::TYPE)?);
        let aux_len = usize::from(bytes::u8_at(buf, f::AUX_LEN)?).saturating_mul(4);
        let n = usize::from(bytes::u16_at(buf, f::NUM_SOURCES)?).saturating_mul(16);
        let group = bytes::addr_at(buf, f::GROUP)?;
        let sources = bytes::slice(buf, f::SOURCES, n)?;
        let aux_at = f::SOURCES.saturating_add(n);
        let aux_data = bytes::slice(buf, aux_at, aux_len)?;
        let rec = MldRecord {
            record_type,
            group,
            sources: AddrList::from_wire(sources),
            aux_data,
        };
        Ok((rec, aux_at.saturating_add(aux_len)))
    }

    fn buffer_len(&self) -> usize {
        let aux = self.aux_data.len().saturating_add(3) & !3;
        Self::HEADER_LEN
            .saturating_add(self.sources.len().saturating_mul(16))
            .saturating_add(aux)
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        use field::record as f;
        let total = self.buffer_len();
        let out = bytes::slice_mut(buf, 0, total)?;
        out.fill(0);
        let aux_words = self.aux_data.len().saturating_add(3) / 4;
        let aux_words = u8::try_from(aux_words).map_err(|_| Error::TooManyRecords)?;
        let n = u16::try_from(self.sources.len()).map_err(|_| Error::TooManyRecords)?;
        bytes::put_u8(out, f::TYPE, self.record_type.to_u8())?;
        bytes::put_u8(out, f::AUX_LEN, aux_words)?;
        bytes::put_u16(out, f::NUM_SOURCES, n)?;
        bytes::put_addr(out, f::GROUP, &self.group)?;
        let mut at = f::SOURCES;
        for a in self.sources.iter() {
            bytes::put_addr(out, at, &a)?;
            at = at.saturating_add(16);
        }
        bytes::put(out, at, self.aux_data)?;
        Ok(total)
    }
}

/// The records of a report: validated wire bytes or a slice to send.
#[derive(Clone, Copy)]
pub struct RecordList<'a>(RecordInner<'a>);

#[derive(Clone, Copy)]
enum RecordInner<'a> {
    /// `count` records, checked by the parser to lie within the bytes.
    Wire(&'a [u8], u16),
    Slice(&'a [MldRecord<'a>]),
}

impl<'a> RecordList<'a> {
    /// Records to send.
    pub const fn new(records: &'a [MldRecord<'a>]) -> Self {
        RecordList(RecordInner::Slice(records))
    }

    /// The records in order.
    pub fn iter(&self) -> RecordIter<'a> {
        match self.0 {
            RecordInner::Wire(b, n) => RecordIter::Wire(b, n),
            RecordInner::Slice(s) => RecordIter::Slice(s.iter()),
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        match self.0 {
            RecordInner::Wire(_, n) => usize::from(n),
            RecordInner::Slice(s) => s.len(),
        }
    }

    /// No records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for RecordList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for RecordList<'_> {}

impl fmt::Debug for RecordList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for RecordList<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for r in self.iter() {
            defmt::write!(f, "{} ", r);
        }
        defmt::write!(f, "]");
    }
}

/// Iterator over a [`RecordList`].
#[derive(Debug, Clone)]
pub enum RecordIter<'a> {
    #[doc(hidden)]
    Wire(&'a [u8], u16),
    #[doc(hidden)]
    Slice(core::slice::Iter<'a, MldRecord<'a>>),
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = MldRecord<'a>;
    fn next(&mut self) -> Option<MldRecord<'a>> {
        match self {
            RecordIter::Slice(s) => s.next().copied(),
            RecordIter::Wire(b, n) => {
                *n = n.checked_sub(1)?;
                match MldRecord::parse(b) {
                    Ok((rec, used)) => {
                        *b = b.get(used..).unwrap_or(&[]);
                        Some(rec)
                    }
                    Err(_) => {
                        *n = 0;
                        None
                    }
                }
            }
        }
    }
}

/// A Version 2 Multicast Listener Report ([RFC 3810 §5.2]).
///
/// Octets after the last record are ignored.
///
/// [RFC 3810 §5.2]: https://www.rfc-editor.org/rfc/rfc3810#section-5.2
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldV2Report<'a> {
    /// Multicast address records in order.
    pub records: RecordList<'a>,
}

impl<'a> MldV2Report<'a> {
    /// Length of a report without records.
    pub const MIN_LEN: usize = field::RECORDS;

    pub(crate) fn parse(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < Self::MIN_LEN {
            return Err(Error::Truncated);
        }
        let count = bytes::u16_at(msg, field::NUM_RECORDS)?;
        let records = bytes::rest(msg, field::RECORDS)?;
        let mut at = 0usize;
        for _ in 0..count {
            let (_, used) = MldRecord::parse(bytes::rest(records, at)?)?;
            at = at.saturating_add(used);
        }
        let records = bytes::slice(records, 0, at)?;
        Ok(MldV2Report {
            records: RecordList(RecordInner::Wire(records, count)),
        })
    }

    pub(crate) fn buffer_len(&self) -> usize {
        self.records
            .iter()
            .fold(Self::MIN_LEN, |n, r| n.saturating_add(r.buffer_len()))
    }

    pub(crate) fn emit_body(&self, msg: &mut [u8]) -> Result<()> {
        let count = u16::try_from(self.records.len()).map_err(|_| Error::TooManyRecords)?;
        bytes::put_u16(msg, field::REPORT_RESERVED, 0)?;
        bytes::put_u16(msg, field::NUM_RECORDS, count)?;
        let mut at = field::RECORDS;
        for r in self.records.iter() {
            let out = msg.get_mut(at..).ok_or(Error::BufferTooSmall)?;
            at = at.saturating_add(r.emit(out)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qqic_and_max_response_code_decoding() {
        let v2 = MldQueryV2 {
            suppress_router_processing: false,
            robustness: 2,
            qqic: 125,
            sources: AddrList::new(&[]),
        };
        assert_eq!(v2.query_interval_secs(), 125);
        // 0x80: exp 0, mant 0 -> 0x10 << 3 = 128.
        assert_eq!(MldQueryV2 { qqic: 0x80, ..v2 }.query_interval_secs(), 128);
        assert_eq!(MldQueryV2 { qqic: 0xff, ..v2 }.query_interval_secs(), 31744);
        let q = MldQuery {
            max_response_code: 0x8000,
            group: Ipv6Addr::UNSPECIFIED,
            v2: Some(v2),
        };
        // exp 0, mant 0 -> 0x1000 << 3.
        assert_eq!(q.max_response_delay_ms(), 32768);
        // MLDv1 carries milliseconds directly, even above 32767.
        let q1 = MldQuery {
            max_response_code: 0x8000,
            group: Ipv6Addr::UNSPECIFIED,
            v2: None,
        };
        assert_eq!(q1.max_response_delay_ms(), 0x8000);
    }

    #[test]
    fn query_length_selects_the_version() {
        let mut m = [0u8; 44];
        m[0] = 130;
        assert_eq!(MldQuery::parse(&m[..24]).unwrap().v2, None);
        for len in 25..28 {
            assert_eq!(MldQuery::parse(&m[..len]), Err(Error::BadLength));
        }
        assert!(MldQuery::parse(&m[..28]).unwrap().v2.is_some());
        // One source announced but not present.
        m[27] = 1;
        assert_eq!(MldQuery::parse(&m[..28]), Err(Error::Truncated));
        assert_eq!(
            MldQuery::parse(&m[..44]).unwrap().v2.unwrap().sources.len(),
            1
        );
        assert_eq!(MldQuery::parse(&m[..23]), Err(Error::Truncated));
    }

    #[test]
    fn report_records_must_fit() {
        let mut m = [0u8; 28];
        m[0] = 143;
        m[7] = 1; // one record
        m[8] = 4; // CHANGE_TO_EXCLUDE
        // Fixed part of the record is 20 bytes, only 20 present: fits.
        assert_eq!(MldV2Report::parse(&m).unwrap().records.len(), 1);
        // Announcing a source that is not there.
        m[11] = 1;
        assert_eq!(MldV2Report::parse(&m), Err(Error::Truncated));
        m[11] = 0;
        // Aux data that is not there.
        m[9] = 1;
        assert_eq!(MldV2Report::parse(&m), Err(Error::Truncated));
        m[9] = 0;
        // Two records announced, one present.
        m[7] = 2;
        assert_eq!(MldV2Report::parse(&m), Err(Error::Truncated));
    }
}
