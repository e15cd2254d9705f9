//! Classic pcap files (the libpcap format, not pcapng): enough to read the
//! captures under `captures/` and to write the simulator's traces.
//!
//! Format: a 24-byte global header (magic, version 2.4, timezone, sigfigs,
//! snaplen, link type) then, per packet, a 16-byte record header (seconds,
//! sub-second, captured length, original length) and the bytes.

use std::io::{self, Read, Write};

/// Link type of Ethernet frames (LINKTYPE_ETHERNET).
pub const LINKTYPE_ETHERNET: u32 = 1;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Capture time in nanoseconds since the epoch of the file.
    pub time_ns: u64,
    /// Length of the packet on the wire (may exceed `data.len()`).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// A whole pcap file in memory.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Link type from the global header.
    pub linktype: u32,
    /// Packets in file order.
    pub records: Vec<Record>,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Read a whole pcap file (either byte order, micro- or nanosecond
/// timestamps).
pub fn read(mut r: impl Read) -> io::Result<Capture> {
    let mut all = Vec::new();
    r.read_to_end(&mut all)?;
    let header = all
        .get(..24)
        .ok_or_else(|| bad("shorter than the pcap header"))?;
    let magic_le = u32::from_le_bytes(header[0..4].try_into().unwrap());
    let magic_be = u32::from_be_bytes(header[0..4].try_into().unwrap());
    let (le, nanos) = match (magic_le, magic_be) {
        (MAGIC_MICROS, _) => (true, false),
        (MAGIC_NANOS, _) => (true, true),
        (_, MAGIC_MICROS) => (false, false),
        (_, MAGIC_NANOS) => (false, true),
        _ => return Err(bad("not a pcap file (unknown magic)")),
    };
    let u32_at = |b: &[u8], at: usize| -> u32 {
        let v: [u8; 4] = b[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    };
    let linktype = u32_at(header, 20);
    let mut records = Vec::new();
    let mut at = 24;
    while at < all.len() {
        let rh = all
            .get(at..at + 16)
            .ok_or_else(|| bad("truncated record header"))?;
        let secs = u64::from(u32_at(rh, 0));
        let frac = u64::from(u32_at(rh, 4));
        let incl = u32_at(rh, 8) as usize;
        let orig_len = u32_at(rh, 12);
        let data = all
            .get(at + 16..at + 16 + incl)
            .ok_or_else(|| bad("truncated record"))?
            .to_vec();
        let time_ns = secs * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        records.push(Record {
            time_ns,
            orig_len,
            data,
        });
        at += 16 + incl;
    }
    Ok(Capture { linktype, records })
}

/// Writes Ethernet frames as a little-endian, nanosecond pcap file.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Start a file: writes the global header.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&MAGIC_NANOS.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?; // timezone
        out.write_all(&0u32.to_le_bytes())?; // sigfigs
        out.write_all(&65535u32.to_le_bytes())?; // snaplen
        out.write_all(&LINKTYPE_ETHERNET.to_le_bytes())?;
        Ok(Writer { out })
    }

    /// Append one frame captured at `time_ns`.
    pub fn write(&mut self, time_ns: u64, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len()).map_err(|_| bad("frame too long"))?;
        let secs = u32::try_from(time_ns / 1_000_000_000).map_err(|_| bad("time too large"))?;
        self.out.write_all(&secs.to_le_bytes())?;
        self.out
            .write_all(&((time_ns % 1_000_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(frame)
    }

    /// Flush and return the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_read_back() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write(1_500_000_123, &[1, 2, 3]).unwrap();
        w.write(2_000_000_000, &[]).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 3 + 16);
        let cap = read(&bytes[..]).unwrap();
        assert_eq!(cap.linktype, LINKTYPE_ETHERNET);
        assert_eq!(cap.records.len(), 2);
        assert_eq!(
            cap.records[0],
            Record {
                time_ns: 1_500_000_123,
                orig_len: 3,
                data: vec![1, 2, 3]
            }
        );
        assert_eq!(cap.records[1].time_ns, 2_000_000_000);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(read(&[0u8; 10][..]).is_err());
        assert!(read(&[0u8; 24][..]).is_err());
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write(0, &[1, 2, 3, 4]).unwrap();
        let mut bytes = w.finish().unwrap();
        bytes.truncate(bytes.len() - 1);
        assert!(read(&bytes[..]).is_err());
    }
}
