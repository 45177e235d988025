//! The record/replay log: one schema, with its writer ([`LogWriter`], an
//! [`EpochSink`]) and its reader ([`LogReader`], an [`EpochSource`]) side by
//! side.
//!
//! ```text
//! file   = magic "HBFTLOG\n", version (u32 LE), frame(LogHeader), frame(Entry)*
//! frame  = length (u32 LE), crc32 of the payload (u32 LE), payload
//! payload: bincode (varint, little endian) of LogHeader or hbft_runtime::journal::Entry
//! ```
//!
//! Entries are written and read one frame at a time through buffered I/O,
//! so memory stays bounded however long the run. Every frame is checked
//! (length bound, checksum, decoding); a bad or missing frame is reported
//! with the file, the byte offset of the frame and the epoch it belongs to.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use bincode::Options;
use hbft_runtime::journal::{EnvRecord, Entry, EpochEnd, EpochSink, EpochSource, EpochStart, JournalError, RunEnd};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"HBFTLOG\n";
/// The log format version; a reader refuses any other.
pub const VERSION: u32 = 1;
/// Largest frame accepted: bounds what a corrupt length can make the
/// reader allocate. Larger than any entry (reads are chunked at 16 MiB,
/// getrandom at 32 MiB).
const MAX_FRAME: u32 = 64 << 20;
const FRAME_HEAD: usize = 8;

/// What a log says about the run it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHeader {
    /// The program as it was named on the command line.
    pub program: Vec<u8>,
    /// SHA-256 of the program file; replay refuses a different binary.
    pub binary_sha256: [u8; 32],
    /// Arguments (`argv[0]` included) and environment strings of the guest.
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    /// Epoch length in retired instructions.
    pub epoch_len: u64,
    /// The engine that recorded (informational: any engine replays).
    pub engine: String,
}

/// SHA-256 of a program file's bytes.
pub fn binary_sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A log that cannot be written or read, located in the file.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("log {path}: not an hbft log (bad magic)")]
    Magic { path: String },
    #[error("log {path}: format version {found}, this hbft reads version {VERSION}")]
    Version { path: String, found: u32 },
    #[error("log {path}: {what} at offset {offset} (epoch {epoch})")]
    Corrupt { path: String, offset: u64, epoch: u64, what: String },
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_limit(u64::from(MAX_FRAME))
}

/// Writes a log frame by frame.
pub struct LogWriter {
    out: BufWriter<File>,
    path: String,
    bytes: u64,
}

impl LogWriter {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, header: &LogHeader) -> Result<LogWriter, LogError> {
        let shown = path.display().to_string();
        let file = File::create(path).map_err(|source| LogError::Io { path: shown.clone(), source })?;
        let mut writer = LogWriter { out: BufWriter::with_capacity(1 << 16, file), path: shown, bytes: 0 };
        writer.write_raw(MAGIC)?;
        writer.write_raw(&VERSION.to_le_bytes())?;
        writer.write_frame(header)?;
        Ok(writer)
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        self.out.write_all(bytes).map_err(|source| LogError::Io { path: self.path.clone(), source })?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn write_frame<T: Serialize>(&mut self, value: &T) -> Result<(), LogError> {
        let payload = codec().serialize(value).map_err(|e| LogError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let mut head = [0u8; FRAME_HEAD];
        head[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        head[4..].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        self.write_raw(&head)?;
        self.write_raw(&payload)
    }

    fn flush(&mut self) -> Result<(), LogError> {
        self.out.flush().map_err(|source| LogError::Io { path: self.path.clone(), source })
    }
}

impl EpochSink for LogWriter {
    fn env_result(&mut self, record: &EnvRecord) -> Result<(), JournalError> {
        Ok(self.write_frame(&Entry::Env(record.clone()))?)
    }

    fn epoch_end(&mut self, end: &EpochEnd) -> Result<(), JournalError> {
        Ok(self.write_frame(&Entry::EpochEnd(end.clone()))?)
    }

    fn run_end(&mut self, end: &RunEnd) -> Result<(), JournalError> {
        self.write_frame(&Entry::RunEnd(end.clone()))?;
        Ok(self.flush()?)
    }
}

/// Reads a log frame by frame.
pub struct LogReader {
    input: BufReader<File>,
    path: String,
    /// Offset of the next frame.
    offset: u64,
    /// The epoch the next entry belongs to.
    epoch: u64,
}

impl LogReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<(LogHeader, LogReader), LogError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|source| LogError::Io { path: shown.clone(), source })?;
        let mut reader = LogReader { input: BufReader::with_capacity(1 << 16, file), path: shown, offset: 0, epoch: 0 };
        let mut start = [0u8; 12];
        if reader.read_exact(&mut start)? != start.len() || &start[..8] != MAGIC {
            return Err(LogError::Magic { path: reader.path });
        }
        let found = u32::from_le_bytes(start[8..].try_into().expect("4 bytes"));
        if found != VERSION {
            return Err(LogError::Version { path: reader.path, found });
        }
        reader.offset = start.len() as u64;
        let header = reader.read_frame()?.ok_or_else(|| reader.corrupt(reader.offset, "no header".into()))?;
        Ok((header, reader))
    }

    /// Offset of the next frame.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The epoch the next entry belongs to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The next entry with its offset, or None at the end of the file.
    pub fn next_with_offset(&mut self) -> Result<Option<(u64, Entry)>, LogError> {
        let at = self.offset;
        let entry: Option<Entry> = self.read_frame()?;
        if let Some(Entry::EpochEnd(end)) = &entry {
            if end.epoch != self.epoch {
                return Err(self.corrupt(at, format!("end of epoch {} out of sequence", end.epoch)));
            }
            self.epoch += 1;
        }
        Ok(entry.map(|e| (at, e)))
    }

    fn corrupt(&self, offset: u64, what: String) -> LogError {
        LogError::Corrupt { path: self.path.clone(), offset, epoch: self.epoch, what }
    }

    /// Fills `buf` as far as the file allows; returns the bytes read.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<usize, LogError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.input.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(LogError::Io { path: self.path.clone(), source }),
            }
        }
        Ok(filled)
    }

    /// One frame; None at a clean end of file.
    fn read_frame<T: for<'de> Deserialize<'de>>(&mut self) -> Result<Option<T>, LogError> {
        let at = self.offset;
        let mut head = [0u8; FRAME_HEAD];
        match self.read_exact(&mut head)? {
            0 => return Ok(None),
            FRAME_HEAD => {}
            n => return Err(self.corrupt(at, format!("truncated frame header ({n} of {FRAME_HEAD} bytes)"))),
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if len > MAX_FRAME {
            return Err(self.corrupt(at, format!("frame length {len} exceeds {MAX_FRAME}")));
        }
        let mut payload = vec![0u8; len as usize];
        let got = self.read_exact(&mut payload)?;
        if got != payload.len() {
            return Err(self.corrupt(at, format!("truncated frame ({got} of {len} bytes)")));
        }
        if crc32fast::hash(&payload) != crc {
            return Err(self.corrupt(at, "checksum mismatch".into()));
        }
        let value = codec().deserialize(&payload).map_err(|e| self.corrupt(at, format!("undecodable frame: {e}")))?;
        self.offset += (FRAME_HEAD + payload.len()) as u64;
        Ok(Some(value))
    }
}

impl EpochSource for LogReader {
    fn begin_epoch(&mut self, _epoch: u64) -> Result<EpochStart, JournalError> {
        Ok(EpochStart::Recorded)
    }

    fn next_entry(&mut self) -> Result<Entry, JournalError> {
        match self.next_with_offset()? {
            Some((_, entry)) => Ok(entry),
            None => Err(self.corrupt(self.offset, "log ends early (truncated)".into()).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hbft_runtime::journal::Interrupt;

    fn header() -> LogHeader {
        LogHeader {
            program: b"guest".to_vec(),
            binary_sha256: binary_sha256(b"guest bytes"),
            argv: vec![b"guest".to_vec(), b"1".to_vec()],
            envp: vec![b"A=b".to_vec()],
            epoch_len: 1000,
            engine: "interp".into(),
        }
    }

    fn write_sample(path: &Path) {
        let mut w = LogWriter::create(path, &header()).unwrap();
        w.env_result(&EnvRecord::Read(Ok(b"hello".to_vec()))).unwrap();
        let end = EpochEnd { epoch: 0, retired: 1000, interrupts: vec![Interrupt::HostSignal(2)], state_hash: 7 };
        w.epoch_end(&end).unwrap();
        w.run_end(&RunEnd { retired: 1500, exit_status: 0, state_hash: 9 }).unwrap();
    }

    #[test]
    fn entries_round_trip() {
        let dir = std::env::temp_dir().join(format!("hbft-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("round_trip.log");
        write_sample(&path);
        let (h, mut r) = LogReader::open(&path).unwrap();
        assert_eq!(h, header());
        assert_eq!(r.next_entry().unwrap(), Entry::Env(EnvRecord::Read(Ok(b"hello".to_vec()))));
        assert!(matches!(r.next_entry().unwrap(), Entry::EpochEnd(e) if e.interrupts == vec![Interrupt::HostSignal(2)]));
        assert!(matches!(r.next_entry().unwrap(), Entry::RunEnd(e) if e.retired == 1500));
        assert!(r.next_entry().unwrap_err().to_string().contains("truncated"));
    }

    #[test]
    fn damage_is_located() {
        let dir = std::env::temp_dir().join(format!("hbft-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("damaged.log");
        write_sample(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let (_, mut r) = LogReader::open(&path).unwrap();
        r.next_entry().unwrap();
        r.next_entry().unwrap();
        let error = r.next_entry().unwrap_err().to_string();
        assert!(error.contains("checksum mismatch at offset") && error.contains("(epoch 1)"), "{error}");

        std::fs::write(&path, &bytes[..20]).unwrap();
        assert!(LogReader::open(&path).err().unwrap().to_string().contains("truncated"));
        std::fs::write(&path, b"not a log at all").unwrap();
        assert!(LogReader::open(&path).err().unwrap().to_string().contains("bad magic"));
    }
}
