//! The shared output device: a file both replicas can reach (the paper's
//! I/O accessibility assumption), written with positional writes and
//! guarded by a fencing token.
//!
//! The guest's standard output and standard error are one byte stream; each
//! write carries its position in that stream (a byte sequence number, like
//! TCP's), so a write that a new primary reissues after failover lands on
//! the same bytes and is idempotent: nothing lost, nothing duplicated.
//!
//! The fence lives in a sidecar file `FILE.fence`:
//!
//! ```text
//! offset size field
//!      0    8 magic "HBFTFNC1"
//!      8    8 generation, little-endian: the live writer's token
//!     16    8 high-water mark: end of the furthest write performed
//! ```
//!
//! Going live takes the fence: under an exclusive `flock` on the sidecar,
//! the generation is read, incremented, written and synced; the new value
//! is this replica's token (a test-and-set like VMware FT's on shared
//! storage). Every write takes the same lock and first checks that the
//! generation is still its token, so once a backup has taken over, a
//! primary that comes back (a partition healed, a paused process resumed)
//! can never write again: no split brain.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"HBFTFNC1";
const SIDECAR_LEN: usize = 24;

/// Why the device refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("output device fenced off: this replica holds generation {ours}, generation {current} is live")]
    Fenced { ours: u64, current: u64 },
    #[error("{0}: not an hbft fence file (bad magic or size)")]
    BadSidecar(String),
    #[error("output device written before its fence was taken")]
    NoFence,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Bytes no one had written before.
    New,
    /// Bytes an earlier writer had already performed (a reissued write).
    Reissued,
}

/// The sidecar's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FenceState {
    generation: u64,
    high_water: u64,
}

/// An open output device.
pub struct OutputDevice {
    data: File,
    sidecar: File,
    data_path: PathBuf,
    sidecar_path: PathBuf,
    token: Option<u64>,
}

/// Holds the sidecar's exclusive lock while alive.
struct Locked<'a>(&'a File);

impl<'a> Locked<'a> {
    fn take(file: &'a File, path: &Path) -> Result<Locked<'a>, DeviceError> {
        // SAFETY: flock on a descriptor the File owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io_error(path, std::io::Error::last_os_error()));
        }
        Ok(Locked(file))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // SAFETY: as above; closing would release the lock too.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DeviceError {
    DeviceError::Io { path: path.display().to_string(), source }
}

/// `FILE.fence` for `FILE`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".fence");
    PathBuf::from(name)
}

impl OutputDevice {
    /// Opens (creating if needed) the device at `path` and its fence; holds no token yet.
    pub fn open(path: &Path) -> Result<OutputDevice, DeviceError> {
        let open = |p: &Path| {
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(p).map_err(|e| io_error(p, e))
        };
        let sidecar_path = sidecar_path(path);
        Ok(OutputDevice {
            data: open(path)?,
            sidecar: open(&sidecar_path)?,
            data_path: path.to_path_buf(),
            sidecar_path,
            token: None,
        })
    }

    fn read_state(&self) -> Result<FenceState, DeviceError> {
        let len = self.sidecar.metadata().map_err(|e| io_error(&self.sidecar_path, e))?.len();
        if len == 0 {
            return Ok(FenceState { generation: 0, high_water: 0 });
        }
        let mut raw = [0u8; SIDECAR_LEN];
        if len != SIDECAR_LEN as u64 {
            return Err(DeviceError::BadSidecar(self.sidecar_path.display().to_string()));
        }
        self.sidecar.read_exact_at(&mut raw, 0).map_err(|e| io_error(&self.sidecar_path, e))?;
        if raw[..8] != MAGIC {
            return Err(DeviceError::BadSidecar(self.sidecar_path.display().to_string()));
        }
        let word = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
        Ok(FenceState { generation: word(8), high_water: word(16) })
    }

    fn write_state(&self, state: FenceState) -> Result<(), DeviceError> {
        let mut raw = [0u8; SIDECAR_LEN];
        raw[..8].copy_from_slice(&MAGIC);
        raw[8..16].copy_from_slice(&state.generation.to_le_bytes());
        raw[16..].copy_from_slice(&state.high_water.to_le_bytes());
        self.sidecar.write_all_at(&raw, 0).map_err(|e| io_error(&self.sidecar_path, e))
    }

    /// Goes live: takes the next generation as this replica's token. A
    /// `fresh` device (a new run's first primary) is emptied first.
    pub fn take_fence(&mut self, fresh: bool) -> Result<u64, DeviceError> {
        let _lock = Locked::take(&self.sidecar, &self.sidecar_path)?;
        let mut state = self.read_state()?;
        state.generation += 1;
        if fresh {
            self.data.set_len(0).map_err(|e| io_error(&self.data_path, e))?;
            state.high_water = 0;
        }
        self.write_state(state)?;
        self.sidecar.sync_data().map_err(|e| io_error(&self.sidecar_path, e))?;
        self.token = Some(state.generation);
        Ok(state.generation)
    }

    /// The data file's descriptor (for metadata queries).
    pub fn raw_fd(&self) -> i32 {
        self.data.as_raw_fd()
    }

    /// The token taken by [`take_fence`](Self::take_fence), if any.
    pub fn token(&self) -> Option<u64> {
        self.token
    }

    /// Checks the token under the lock; returns the state.
    fn check(&self) -> Result<FenceState, DeviceError> {
        let ours = self.token.ok_or(DeviceError::NoFence)?;
        let state = self.read_state()?;
        if state.generation != ours {
            return Err(DeviceError::Fenced { ours, current: state.generation });
        }
        Ok(state)
    }

    /// Writes `bytes` at stream position `offset`, if this replica still holds the fence.
    pub fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<Written, DeviceError> {
        let _lock = Locked::take(&self.sidecar, &self.sidecar_path)?;
        let mut state = self.check()?;
        self.data.write_all_at(bytes, offset).map_err(|e| io_error(&self.data_path, e))?;
        let end = offset + bytes.len() as u64;
        if end <= state.high_water {
            return Ok(Written::Reissued);
        }
        state.high_water = end;
        self.write_state(state)?;
        Ok(Written::New)
    }

    /// Reads `buf.len()` bytes at `offset`. Reading needs no fence: it
    /// changes nothing (a disk image is a shared device too).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), DeviceError> {
        self.data.read_exact_at(buf, offset).map_err(|e| io_error(&self.data_path, e))
    }

    /// The data file's length in bytes.
    pub fn size(&self) -> Result<u64, DeviceError> {
        Ok(self.data.metadata().map_err(|e| io_error(&self.data_path, e))?.len())
    }

    /// The guest's output ends at `len`: drops anything beyond it (bytes a
    /// fenced-off writer may have left past the live replica's output).
    pub fn finish(&mut self, len: u64) -> Result<(), DeviceError> {
        let _lock = Locked::take(&self.sidecar, &self.sidecar_path)?;
        let mut state = self.check()?;
        self.data.set_len(len).map_err(|e| io_error(&self.data_path, e))?;
        state.high_water = len;
        self.write_state(state)?;
        self.data.sync_data().map_err(|e| io_error(&self.data_path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory (removed when dropped) and the device path in it.
    fn temp_path() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        (dir, path)
    }

    #[test]
    fn positional_writes_are_idempotent() {
        let (_dir, path) = temp_path();
        let mut dev = OutputDevice::open(&path).unwrap();
        assert_eq!(dev.take_fence(true).unwrap(), 1);
        assert_eq!(dev.write_at(0, b"hello ").unwrap(), Written::New);
        assert_eq!(dev.write_at(6, b"world\n").unwrap(), Written::New);
        assert_eq!(dev.write_at(6, b"world\n").unwrap(), Written::Reissued);
        dev.finish(12).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world\n");
    }

    #[test]
    fn old_primary_is_fenced_off_after_takeover() {
        let (_dir, path) = temp_path();
        let mut primary = OutputDevice::open(&path).unwrap();
        primary.take_fence(true).unwrap();
        primary.write_at(0, b"line 1\n").unwrap();
        // The backup takes over and reissues the primary's last write.
        let mut backup = OutputDevice::open(&path).unwrap();
        assert_eq!(backup.take_fence(false).unwrap(), 2);
        assert_eq!(backup.write_at(0, b"line 1\n").unwrap(), Written::Reissued);
        // The old primary comes back: every write is refused.
        let err = primary.write_at(7, b"line 2\n").unwrap_err();
        assert_eq!(err.to_string(), "output device fenced off: this replica holds generation 1, generation 2 is live");
        assert!(primary.finish(100).is_err());
        backup.write_at(7, b"line 2\n").unwrap();
        backup.finish(14).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"line 1\nline 2\n");
    }

    #[test]
    fn finish_drops_bytes_past_the_end() {
        let (_dir, path) = temp_path();
        let mut dev = OutputDevice::open(&path).unwrap();
        dev.take_fence(true).unwrap();
        dev.write_at(0, b"0123456789").unwrap();
        dev.finish(4).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123");
    }

    #[test]
    fn writing_without_the_fence_and_bad_sidecar() {
        let (_dir, path) = temp_path();
        let mut dev = OutputDevice::open(&path).unwrap();
        assert!(matches!(dev.write_at(0, b"x"), Err(DeviceError::NoFence)));
        std::fs::write(sidecar_path(&path), b"garbage").unwrap();
        assert!(matches!(dev.take_fence(false), Err(DeviceError::BadSidecar(_))));
    }

    #[test]
    fn concurrent_takeovers_get_distinct_generations() {
        let (_dir, path) = temp_path();
        OutputDevice::open(&path).unwrap().take_fence(true).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || OutputDevice::open(&path).unwrap().take_fence(false).unwrap())
            })
            .collect();
        let mut got: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, (2..10).collect::<Vec<_>>());
    }
}
