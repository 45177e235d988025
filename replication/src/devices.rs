//! The guest's standard output and standard error on the shared output
//! device ([`crate::output`]), as an [`Environment`] layer.
//!
//! [`DeviceEnvironment`] sits directly above the host environment of the
//! live replica (under the recording layer on a primary), so the journal
//! sees exactly what the guest sees. Writes to the standard streams become
//! positional writes at the stream's byte position ([`OutputPort`]); the
//! streams look like the device file itself (a regular file, not a
//! terminal), the same to the guest on every replica and in an
//! unreplicated run whose output is redirected to a file.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hbft_runtime::linux::env::{Dir, DirEntry, FileStat, Handle, SysInfo, SysResult, Termios, Timespec, WinSize};
use hbft_runtime::linux::{Environment, Errno};

use crate::output::{DeviceError, OutputDevice, Written};

/// Exit status of a replica that found itself fenced off.
pub const FENCED_STATUS: i32 = 3;

/// Whether held output may become visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Perform it.
    Now,
    /// Never (the replicas diverged: the run stops).
    Never,
}

/// Decides when held output is released: [`wait`](ReleaseGate::wait)
/// blocks until everything up to frame `seq` is safe with the backup.
pub trait ReleaseGate: Send {
    fn wait(&self, seq: u64) -> Release;
}

/// A write waiting for its release.
struct HeldWrite {
    position: u64,
    data: Vec<u8>,
    /// Released once frame `after` is acknowledged (`None`: at once).
    after: Option<u64>,
}

/// Where the port's writes go.
enum Writer {
    /// Performed on the device as the guest makes them.
    Direct(OutputDevice),
    /// Held and performed in order by a thread once released.
    Held {
        queue: mpsc::Sender<HeldWrite>,
        thread: JoinHandle<(OutputDevice, u64)>,
        after: Option<u64>,
        /// The stream position up to which writes are performed.
        performed: Arc<AtomicU64>,
    },
    /// Between the two (only inside `hold` and `finish`).
    Moving,
}

struct PortState {
    writer: Writer,
    /// The device's data file, for metadata queries (valid while the port lives).
    fd: Handle,
    position: u64,
    reissued: u64,
}

/// The guest's output stream on the device: the next byte position, shared
/// between the environment layer and the replica that reports it.
#[derive(Clone)]
pub struct OutputPort(Rc<RefCell<PortState>>);

/// Performs released writes in order; returns the device and the count of
/// reissued writes when the queue closes.
fn perform_held(
    mut device: OutputDevice,
    gate: Box<dyn ReleaseGate>,
    queue: mpsc::Receiver<HeldWrite>,
    performed: Arc<AtomicU64>,
) -> (OutputDevice, u64) {
    let mut reissued = 0;
    for write in queue {
        if write.after.is_some_and(|seq| gate.wait(seq) == Release::Never) {
            break;
        }
        match device.write_at(write.position, &write.data) {
            Ok(Written::Reissued) => reissued += 1,
            Ok(Written::New) => {}
            Err(error @ DeviceError::Fenced { .. }) => stop_fenced(error),
            Err(error) => {
                eprintln!("hbft: output device failed: {error}; this replica stops");
                std::process::exit(1)
            }
        }
        performed.store(write.position + write.data.len() as u64, Ordering::Release);
    }
    (device, reissued)
}

impl OutputPort {
    /// A port on `device` (whose fence is taken) continuing at `position`.
    pub fn new(device: OutputDevice, position: u64) -> OutputPort {
        let fd = device.raw_fd();
        OutputPort(Rc::new(RefCell::new(PortState { writer: Writer::Direct(device), fd, position, reissued: 0 })))
    }

    /// From now on writes are held until `gate` releases them (the output
    /// rule); the guest does not wait for them.
    pub fn hold(&self, gate: Box<dyn ReleaseGate>) {
        let mut port = self.0.borrow_mut();
        let Writer::Direct(device) = std::mem::replace(&mut port.writer, Writer::Moving) else {
            panic!("output port held twice")
        };
        let (queue, held) = mpsc::channel();
        let performed = Arc::new(AtomicU64::new(port.position));
        let done = performed.clone();
        let thread = std::thread::Builder::new()
            .name("hbft-output".into())
            .spawn(move || perform_held(device, gate, held, done))
            .expect("spawn output thread");
        port.writer = Writer::Held { queue, thread, after: None, performed };
    }

    /// The writes that follow are released once frame `seq` is acknowledged.
    pub fn release_after(&self, seq: u64) {
        if let Writer::Held { after, .. } = &mut self.0.borrow_mut().writer {
            *after = Some(seq);
        }
    }

    /// Bytes of guest output so far.
    pub fn position(&self) -> u64 {
        self.0.borrow().position
    }

    /// Bytes of guest output performed on the device so far (less than
    /// [`position`](Self::position) while writes are held).
    pub fn performed(&self) -> u64 {
        let port = self.0.borrow();
        match &port.writer {
            Writer::Held { performed, .. } => performed.load(Ordering::Acquire),
            Writer::Direct(_) | Writer::Moving => port.position,
        }
    }

    /// Writes that landed on bytes an earlier live replica had written
    /// (held writes are counted once performed, after `finish`).
    pub fn reissued(&self) -> u64 {
        self.0.borrow().reissued
    }

    /// Writes `data` at the stream's position and advances it.
    pub fn write(&self, data: &[u8]) -> Result<usize, DeviceError> {
        let mut port = self.0.borrow_mut();
        let position = port.position;
        match &mut port.writer {
            Writer::Direct(device) => {
                if device.write_at(position, data)? == Written::Reissued {
                    port.reissued += 1;
                }
            }
            Writer::Held { queue, after, .. } => {
                let write = HeldWrite { position, data: data.to_vec(), after: *after };
                // The thread only stops early on a divergence: the run stops too.
                let _ = queue.send(write);
            }
            Writer::Moving => unreachable!("output port in transition"),
        }
        port.position += data.len() as u64;
        Ok(data.len())
    }

    fn raw_fd(&self) -> Handle {
        self.0.borrow().fd
    }

    /// The guest ended: the device holds exactly its output (held writes
    /// are performed first).
    pub fn finish(&self) -> Result<(), DeviceError> {
        let mut port = self.0.borrow_mut();
        let end = port.position;
        let mut device = match std::mem::replace(&mut port.writer, Writer::Moving) {
            Writer::Direct(device) => device,
            Writer::Held { queue, thread, .. } => {
                drop(queue);
                let (device, reissued) = thread.join().expect("output thread");
                port.reissued += reissued;
                device
            }
            Writer::Moving => unreachable!("output port in transition"),
        };
        let result = device.finish(end);
        port.writer = Writer::Direct(device);
        result
    }
}

/// A replica that lost the fence must not write again, nor go on as if its
/// writes had happened: it stops at once.
pub fn stop_fenced(error: DeviceError) -> ! {
    eprintln!("hbft: {error}; this replica stops");
    std::process::exit(FENCED_STATUS)
}

/// The standard streams on an [`OutputPort`]; everything else passes to
/// the inner environment.
pub struct DeviceEnvironment {
    inner: Box<dyn Environment>,
    port: OutputPort,
    /// Host handles that are the guest's output stream (1, 2 and their dups).
    streams: BTreeSet<Handle>,
}

impl DeviceEnvironment {
    pub fn new(inner: Box<dyn Environment>, port: OutputPort) -> DeviceEnvironment {
        DeviceEnvironment { inner, port, streams: BTreeSet::from([1, 2]) }
    }

    fn is_stream(&self, handle: Handle) -> bool {
        self.streams.contains(&handle)
    }

    /// The host handle that stands for `handle` in queries about the file.
    fn file_of(&self, handle: Handle) -> Handle {
        if self.is_stream(handle) {
            self.port.raw_fd()
        } else {
            handle
        }
    }
}

const SEEK_CUR: i32 = 1;

impl Environment for DeviceEnvironment {
    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        if !self.is_stream(handle) {
            return self.inner.write(handle, data);
        }
        match self.port.write(data) {
            Ok(n) => Ok(n),
            Err(error @ DeviceError::Fenced { .. }) => stop_fenced(error),
            Err(_) => Err(Errno::EIO),
        }
    }

    fn pwrite(&mut self, handle: Handle, data: &[u8], offset: i64) -> SysResult<usize> {
        if self.is_stream(handle) {
            return Err(Errno::ESPIPE);
        }
        self.inner.pwrite(handle, data, offset)
    }

    fn read(&mut self, handle: Handle, len: usize) -> SysResult<Vec<u8>> {
        if self.is_stream(handle) {
            return Err(Errno::EBADF);
        }
        self.inner.read(handle, len)
    }

    fn pread(&mut self, handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>> {
        if self.is_stream(handle) {
            return Err(Errno::EBADF);
        }
        self.inner.pread(handle, len, offset)
    }

    fn lseek(&mut self, handle: Handle, offset: i64, whence: i32) -> SysResult<i64> {
        if !self.is_stream(handle) {
            return self.inner.lseek(handle, offset, whence);
        }
        // Only the current position can be asked; the stream is written in order.
        match (offset, whence) {
            (0, SEEK_CUR) => Ok(self.port.position() as i64),
            _ => Err(Errno::ESPIPE),
        }
    }

    fn close(&mut self, handle: Handle) -> SysResult<()> {
        // The host's own standard streams stay open (hbft reports on stderr).
        if self.streams.remove(&handle) {
            return Ok(());
        }
        self.inner.close(handle)
    }

    fn dup(&mut self, handle: Handle) -> SysResult<Handle> {
        let new = self.inner.dup(handle)?;
        if self.is_stream(handle) {
            self.streams.insert(new);
        }
        Ok(new)
    }

    fn fstat(&mut self, handle: Handle) -> SysResult<FileStat> {
        let file = self.file_of(handle);
        self.inner.fstat(file)
    }

    fn status_flags(&mut self, handle: Handle) -> SysResult<i32> {
        if self.is_stream(handle) {
            return Ok(libc::O_WRONLY);
        }
        self.inner.status_flags(handle)
    }

    fn set_status_flags(&mut self, handle: Handle, host_flags: i32) -> SysResult<()> {
        if self.is_stream(handle) {
            return Ok(());
        }
        self.inner.set_status_flags(handle, host_flags)
    }

    fn tcgets(&mut self, handle: Handle) -> SysResult<Termios> {
        if self.is_stream(handle) {
            return Err(Errno::ENOTTY);
        }
        self.inner.tcgets(handle)
    }

    fn winsize(&mut self, handle: Handle) -> SysResult<WinSize> {
        if self.is_stream(handle) {
            return Err(Errno::ENOTTY);
        }
        self.inner.winsize(handle)
    }

    fn poll(&mut self, fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>> {
        let fds: Vec<(Handle, i16)> = fds.iter().map(|&(h, events)| (self.file_of(h), events)).collect();
        self.inner.poll(&fds, timeout_ms)
    }

    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle> {
        self.inner.openat(dir, path, host_flags, mode)
    }
    fn fstatat(&mut self, dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat> {
        self.inner.fstatat(dir, path, follow_links)
    }
    fn getdents(&mut self, handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>> {
        self.inner.getdents(handle, max_bytes)
    }
    fn readlinkat(&mut self, dir: Dir, path: &[u8]) -> SysResult<Vec<u8>> {
        self.inner.readlinkat(dir, path)
    }
    fn faccessat(&mut self, dir: Dir, path: &[u8], mode: i32) -> SysResult<()> {
        self.inner.faccessat(dir, path, mode)
    }
    fn unlinkat(&mut self, dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()> {
        self.inner.unlinkat(dir, path, remove_dir)
    }
    fn mkdirat(&mut self, dir: Dir, path: &[u8], mode: u32) -> SysResult<()> {
        self.inner.mkdirat(dir, path, mode)
    }
    fn renameat(&mut self, old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()> {
        self.inner.renameat(old_dir, old, new_dir, new)
    }
    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        self.inner.pipe()
    }
    fn clock_gettime(&mut self, clock: u32) -> SysResult<Timespec> {
        self.inner.clock_gettime(clock)
    }
    fn sleep(&mut self, duration: Timespec) {
        self.inner.sleep(duration)
    }
    fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        self.inner.random_bytes(len)
    }
    fn getcwd(&mut self) -> SysResult<Vec<u8>> {
        self.inner.getcwd()
    }
    fn sysinfo(&mut self) -> SysResult<SysInfo> {
        self.inner.sysinfo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hbft_runtime::linux::HostEnvironment;

    #[test]
    fn standard_streams_go_to_the_device_in_order() {
        let dir = std::env::temp_dir().join(format!("hbft-devices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        let mut device = OutputDevice::open(&path).unwrap();
        device.take_fence(true).unwrap();
        let port = OutputPort::new(device, 0);
        let mut env = DeviceEnvironment::new(Box::new(HostEnvironment), port.clone());
        assert_eq!(env.write(1, b"out\n"), Ok(4));
        assert_eq!(env.write(2, b"err\n"), Ok(4));
        let copy = env.dup(1).unwrap();
        assert_eq!(env.write(copy, b"dup\n"), Ok(4));
        assert_eq!(env.lseek(1, 0, SEEK_CUR), Ok(12));
        assert_eq!(env.tcgets(1), Err(Errno::ENOTTY));
        assert_eq!(env.fstat(2).unwrap().mode & libc::S_IFMT, libc::S_IFREG);
        env.close(copy).unwrap();
        port.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"out\nerr\ndup\n");
    }
}
