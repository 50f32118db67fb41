//! Reading and writing classic pcap capture files (Ethernet link type only).
//!
//! Invariants:
//! - [`PcapSink`] writes what OVS's `ovs_pcap_write` writes: each frame whole (`incl_len ==
//!   orig_len`), stamped with the wall clock in microseconds. A file opened for appending gets a
//!   header only if it is empty, and its records then follow the existing header's byte order and
//!   time resolution, so appending to another tool's capture stays readable. (OVS puts snaplen 1518
//!   in the header but writes longer frames whole anyway; we put 65535 so readers do not trip.)
//! - [`PcapSource`] reads records without the snaplen checks of `pcap-file`'s `next_packet`, so a
//!   capture whose frames were truncated to the snaplen still replays.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_file::pcap::{PcapHeader, PcapReader};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::packet::Packet;

/// The snaplen written in the headers of the files we create.
const SNAPLEN: u32 = 65535;

/// An open capture file that frames are appended to.
#[derive(Debug)]
pub struct PcapSink {
    path: PathBuf,
    out: BufWriter<File>,
    endianness: Endianness,
    resolution: TsResolution,
}

impl PcapSink {
    /// Creates `path` (truncating it) and writes a fresh header.
    pub fn create(path: &Path) -> Result<Self, PcapError> {
        let file = File::create(path).map_err(PcapError::IoError)?;
        Self::start(path, file)
    }

    /// Opens `path` for appending, creating it if needed (OVS's `ovs_pcap_open(name, "ab")`).
    pub fn append(path: &Path) -> Result<Self, PcapError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(PcapError::IoError)?;
        let size = file.metadata().map_err(PcapError::IoError)?.len();
        if size == 0 {
            return Self::start(path, file);
        }
        let mut raw_header = [0u8; 24];
        file.read_exact(&mut raw_header)
            .map_err(PcapError::IoError)?;
        let (_, header) = PcapHeader::from_slice(&raw_header)?;
        Ok(PcapSink {
            path: path.to_owned(),
            out: BufWriter::new(file),
            endianness: header.endianness,
            resolution: header.ts_resolution,
        })
    }

    fn start(path: &Path, file: File) -> Result<Self, PcapError> {
        let header = PcapHeader {
            snaplen: SNAPLEN,
            endianness: Endianness::native(),
            ..PcapHeader::default()
        };
        let mut out = BufWriter::new(file);
        header.write_to(&mut out)?;
        out.flush().map_err(PcapError::IoError)?;
        Ok(PcapSink {
            path: path.to_owned(),
            out,
            endianness: header.endianness,
            resolution: header.ts_resolution,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `frame` stamped with the current time (buffered: call [`PcapSink::flush`]).
    pub fn write(&mut self, frame: &[u8]) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.write_at(now, frame)
    }

    /// Appends `frame` with the given timestamp (time since the Unix epoch).
    pub fn write_at(&mut self, timestamp: Duration, frame: &[u8]) -> io::Result<()> {
        let too_long = || io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB");
        let len = u32::try_from(frame.len()).map_err(|_| too_long())?;
        // The classic format has 32-bit seconds; past 2106 they wrap, as in every pcap writer.
        let seconds = timestamp.as_secs() as u32;
        let fraction = match self.resolution {
            TsResolution::MicroSecond => timestamp.subsec_micros(),
            TsResolution::NanoSecond => timestamp.subsec_nanos(),
        };
        let mut record = [0u8; 16];
        for (slot, value) in record
            .chunks_exact_mut(4)
            .zip([seconds, fraction, len, len])
        {
            let bytes = match self.endianness {
                Endianness::Big => value.to_be_bytes(),
                Endianness::Little => value.to_le_bytes(),
            };
            slot.copy_from_slice(&bytes);
        }
        self.out.write_all(&record)?;
        self.out.write_all(frame)
    }

    /// Pushes buffered records to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A capture file read frame by frame, able to start over.
#[derive(Debug)]
pub struct PcapSource {
    path: PathBuf,
    reader: PcapReader<BufReader<File>>,
}

impl PcapSource {
    /// Opens `path` and checks that it is an Ethernet capture.
    pub fn open(path: &Path) -> Result<Self, PcapError> {
        let file = File::open(path).map_err(PcapError::IoError)?;
        let reader = PcapReader::new(BufReader::new(file))?;
        if reader.header().datalink != DataLink::ETHERNET {
            return Err(PcapError::InvalidField("link type is not Ethernet"));
        }
        Ok(PcapSource {
            path: path.to_owned(),
            reader,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next frame into `packet` (replacing its contents) and returns its timestamp, or
    /// `None` at the end of the file.
    pub fn next_into(&mut self, packet: &mut Packet) -> Result<Option<Duration>, PcapError> {
        let resolution = self.reader.header().ts_resolution;
        let Some(record) = self.reader.next_raw_packet() else {
            return Ok(None);
        };
        let record = record?;
        let nanos = match resolution {
            TsResolution::MicroSecond => u64::from(record.ts_frac) * 1000,
            TsResolution::NanoSecond => u64::from(record.ts_frac),
        };
        packet.clear();
        packet.extend_from_slice(&record.data);
        Ok(Some(
            Duration::from_secs(u64::from(record.ts_sec)) + Duration::from_nanos(nanos),
        ))
    }

    /// Starts again from the first frame.
    pub fn rewind(&mut self) -> Result<(), PcapError> {
        *self = Self::open(&self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_frames_read_back_in_order_with_their_timestamps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.pcap");
        let mut sink = PcapSink::create(&path).expect("create");
        sink.write_at(Duration::new(5, 123_456_000), &[1; 60])
            .expect("write");
        sink.write_at(Duration::new(6, 0), &[2; 2000])
            .expect("write");
        sink.flush().expect("flush");
        drop(sink);

        let mut source = PcapSource::open(&path).expect("open");
        let mut packet = Packet::new();
        let ts = source.next_into(&mut packet).expect("read");
        assert_eq!(ts, Some(Duration::new(5, 123_456_000)));
        assert_eq!(packet.data(), &[1; 60]);
        let ts = source.next_into(&mut packet).expect("read");
        assert_eq!(ts, Some(Duration::new(6, 0)));
        assert_eq!(packet.data(), &[2; 2000][..]);
        assert_eq!(source.next_into(&mut packet).expect("eof"), None);
        source.rewind().expect("rewind");
        assert!(source.next_into(&mut packet).expect("read").is_some());
        assert_eq!(packet.data(), &[1; 60]);
    }

    #[test]
    fn append_adds_a_header_only_to_an_empty_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.pcap");
        for byte in 1..=3u8 {
            let mut sink = PcapSink::append(&path).expect("append");
            sink.write(&[byte; 64]).expect("write");
            sink.flush().expect("flush");
        }
        let len = std::fs::metadata(&path).expect("stat").len();
        assert_eq!(len, 24 + 3 * (16 + 64));
        let mut source = PcapSource::open(&path).expect("open");
        let mut packet = Packet::new();
        for byte in 1..=3u8 {
            assert!(source.next_into(&mut packet).expect("read").is_some());
            assert_eq!(packet.data(), &[byte; 64]);
        }
        assert_eq!(source.next_into(&mut packet).expect("eof"), None);
    }

    #[test]
    fn append_follows_the_existing_byte_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.pcap");
        let foreign = if Endianness::native() == Endianness::Big {
            Endianness::Little
        } else {
            Endianness::Big
        };
        let header = PcapHeader {
            endianness: foreign,
            ..PcapHeader::default()
        };
        let mut file = File::create(&path).expect("create");
        header.write_to(&mut file).expect("header");
        drop(file);
        let mut sink = PcapSink::append(&path).expect("append");
        sink.write(&[7; 42]).expect("write");
        sink.flush().expect("flush");
        let mut source = PcapSource::open(&path).expect("open");
        let mut packet = Packet::new();
        assert!(source.next_into(&mut packet).expect("read").is_some());
        assert_eq!(packet.data(), &[7; 42]);
    }

    #[test]
    fn garbage_is_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.pcap");
        std::fs::write(&path, b"this is not a capture file at all").expect("write");
        assert!(PcapSource::open(&path).is_err());
    }
}
