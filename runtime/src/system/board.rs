//! The virtual board (docs/board.md): physical memory, and devices reached
//! through memory-mapped registers — a console, a power-off register and a
//! block disk with DMA and a completion interrupt. The interval timer is
//! CR 16 (see [`super::control`]).
//!
//! Every device register is a 32-bit word; other access sizes fault.
//! Device interrupts are buffered and reach the EIRR only at epoch ends, so
//! they arrive at the same instruction in every engine and on every
//! replica. What the devices bring in from outside (console input, disk
//! capacity and data, transfer completions) goes through the board's
//! [`Journal`], so the board can be recorded, replayed and replicated.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::FileExt;

use hbft_translator::memory::GuestMemory;

use super::journal::Journal;
use super::SystemError;
use crate::journal::{EpochEnd, ReplayError, RunEnd};
use crate::memory::AddressSpace;

/// Physical RAM: 16 MiB from address 0. Page 0 is not executable (the
/// engines treat it as Linux's gateway page), so kernels load above it.
pub const RAM_BYTES: u32 = 16 << 20;
/// First address of the device registers.
pub const MMIO_BASE: u32 = 0xf000_0000;
/// Console: +0 transmit (write a byte), +4 receive (the next input byte, or
/// 0xffff_ffff when there is none).
pub const CONSOLE_TX: u32 = 0xf000_0000;
pub const CONSOLE_RX: u32 = 0xf000_0004;
/// Power: a write powers the board off; the value's low byte is hbft's exit status.
pub const POWER_OFF: u32 = 0xf000_1000;
/// Disk registers.
pub const DISK_SECTOR: u32 = 0xf000_2000;
pub const DISK_DMA_ADDR: u32 = 0xf000_2004;
pub const DISK_COUNT: u32 = 0xf000_2008;
/// Writing [`DISK_READ`] or [`DISK_WRITE`] starts a transfer.
pub const DISK_COMMAND: u32 = 0xf000_200c;
/// One of the `STATUS_*` values.
pub const DISK_STATUS: u32 = 0xf000_2010;
/// Size of the disk in sectors (read-only).
pub const DISK_CAPACITY: u32 = 0xf000_2014;
pub const DISK_READ: u32 = 1;
pub const DISK_WRITE: u32 = 2;
pub const STATUS_IDLE: u32 = 0;
pub const STATUS_BUSY: u32 = 1;
pub const STATUS_DONE: u32 = 2;
pub const STATUS_ERROR: u32 = 3;
/// The transfer was started by a replica that failed before reporting its
/// completion; it may or may not have been performed. Reissue it.
pub const STATUS_UNCERTAIN: u32 = 4;
pub const SECTOR_BYTES: u32 = 512;

/// External interrupt request bits in EIRR (CR 23): bit 0 in the manual's
/// numbering, the most significant, is the interval timer's, as on hardware.
pub const IRQ_TIMER: u32 = 1 << 31;
pub const IRQ_DISK: u32 = 1 << 30;

/// A disk transfer the guest started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiskRequest {
    pub write: bool,
    pub sector: u32,
    pub addr: u32,
    pub count: u32,
}

/// The storage behind the disk: an image file, or the fenced shared image
/// of a replicated run. Offsets are in bytes.
pub trait DiskImage {
    /// Size in sectors.
    fn sectors(&self) -> std::io::Result<u32>;
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
    fn write_at(&mut self, data: &[u8], offset: u64) -> std::io::Result<()>;
}

impl DiskImage for File {
    fn sectors(&self) -> std::io::Result<u32> {
        let len = self.metadata()?.len();
        Ok(u32::try_from(len / u64::from(SECTOR_BYTES)).unwrap_or(u32::MAX))
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.read_exact_at(buf, offset)
    }
    fn write_at(&mut self, data: &[u8], offset: u64) -> std::io::Result<()> {
        self.write_all_at(data, offset)
    }
}

/// A transfer between its command and its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct InFlight {
    req: DiskRequest,
    /// The epoch whose end is the first the transfer may complete at.
    issued: u64,
    /// Started by a replica that has since failed: whether it was
    /// performed is unknown (set at go-live).
    uncertain: bool,
}

/// A block disk with DMA. A transfer completes at the end of the epoch
/// after the one its command was written in (the device's latency), and
/// is performed then — both directions, so a read's data and a write's
/// effect belong to the epoch end whose completion interrupt reports them.
/// Transfers are positional: a reissued request does the same thing again.
pub struct Disk {
    /// The storage; absent while the board replays a journal.
    image: Option<Box<dyn DiskImage>>,
    sector: u32,
    addr: u32,
    count: u32,
    status: u32,
    in_flight: Option<InFlight>,
}

impl Disk {
    /// A disk over `image` (`None`: a replaying board's disk, whose data
    /// come from the journal).
    pub fn new(image: Option<Box<dyn DiskImage>>) -> Disk {
        Disk { image, sector: 0, addr: 0, count: 0, status: STATUS_IDLE, in_flight: None }
    }

    /// Performs `req` between the image and physical memory. Returns the
    /// status and, for a read, the data to put in memory.
    fn perform(&mut self, req: DiskRequest, ram: &AddressSpace) -> std::io::Result<(u32, Vec<u8>)> {
        let image = self.image.as_mut().ok_or_else(|| std::io::Error::other("the disk has no image"))?;
        let in_disk = u64::from(req.sector) + u64::from(req.count) <= u64::from(image.sectors()?);
        let bytes = u64::from(req.count) * u64::from(SECTOR_BYTES);
        let in_ram = u64::from(req.addr) + bytes <= u64::from(RAM_BYTES);
        if !in_disk || !in_ram || req.count == 0 {
            return Ok((STATUS_ERROR, Vec::new()));
        }
        let mut buf = vec![0u8; bytes as usize];
        let at = u64::from(req.sector) * u64::from(SECTOR_BYTES);
        if req.write {
            ram.read_bytes(req.addr, &mut buf).map_err(std::io::Error::other)?;
            image.write_at(&buf, at)?;
            Ok((STATUS_DONE, Vec::new()))
        } else {
            image.read_at(&mut buf, at)?;
            Ok((STATUS_DONE, buf))
        }
    }
}

/// What an epoch end did on the board.
pub struct EpochOutcome {
    /// Interrupt bits to post in EIRR.
    pub posted: u32,
    /// Memory a read's DMA wrote (address, bytes): translated code there is stale.
    pub dma: Option<(u32, u32)>,
}

/// The devices, their buffered interrupts and the board's journal.
pub struct Board {
    console: Box<dyn Write>,
    /// Console output of the current epoch, performed at its end.
    tx: Vec<u8>,
    /// Console input not yet read; a `RefCell` because a device read comes
    /// through `GuestMemory::read_u32(&self)` and consumes a byte.
    input: RefCell<VecDeque<u8>>,
    pub disk: Option<Disk>,
    /// Where device results go or come from; a `RefCell` for the same reason.
    journal: RefCell<Journal>,
    /// Interrupt bits raised during the current epoch.
    pending: u32,
    /// Set by a write to [`POWER_OFF`].
    pub power_off: Option<u32>,
    /// Transfers completed as uncertain (after a takeover).
    pub uncertain: u64,
}

impl Board {
    /// A live, unrecorded board (see [`Board::with_journal`]).
    pub fn new(console: Box<dyn Write>, input: Vec<u8>, disk: Option<Disk>) -> Board {
        Board {
            console,
            tx: Vec::new(),
            input: RefCell::new(input.into()),
            disk,
            journal: RefCell::new(Journal::live(None)),
            pending: 0,
            power_off: None,
            uncertain: 0,
        }
    }

    /// The board recording to, or replaying from, `journal`.
    pub fn with_journal(mut self, journal: Journal) -> Board {
        self.journal = RefCell::new(journal);
        self
    }

    /// Environment results recorded or replayed so far.
    pub fn events(&self) -> u64 {
        self.journal.borrow().events
    }

    /// Epoch `epoch` starts; a replaying board whose journal ends here
    /// goes live.
    pub fn begin_epoch(&mut self, epoch: u64) -> Result<(), SystemError> {
        if let Some(devices) = self.journal.get_mut().begin_epoch(epoch)? {
            self.console = devices.console;
            if let Some(disk) = &mut self.disk {
                disk.image = Some(devices.disk.ok_or(SystemError::NoLiveDisk)?);
                // The failed primary may or may not have performed the
                // transfer (the two generals): the guest is told so at the
                // end of this epoch and reissues it.
                if let Some(flight) = &mut disk.in_flight {
                    flight.uncertain = true;
                }
            }
        }
        Ok(())
    }

    /// A discrepancy a device read found in the journal, if any.
    pub fn check(&mut self) -> Result<(), SystemError> {
        Ok(self.journal.get_mut().check()?)
    }

    /// Feeds the guest-visible device state into an epoch's state hash.
    pub fn hash_devices(&self, h: &mut impl Hasher) {
        if let Some(d) = &self.disk {
            (d.sector, d.addr, d.count, d.status, d.in_flight).hash(h);
        }
        self.pending.hash(h);
    }

    /// The end of an epoch whose state hash is in `end`: the disk transfer
    /// due completes (performed live, or taken from the journal), the
    /// epoch's console output is performed, and the journal gets (or checks)
    /// the end.
    pub fn epoch_end(&mut self, ram: &mut AddressSpace, end: EpochEnd) -> Result<EpochOutcome, SystemError> {
        let dma = self.complete_disk(ram, end.epoch)?;
        self.flush_console()?;
        self.journal.get_mut().epoch_end(end)?;
        Ok(EpochOutcome { posted: std::mem::take(&mut self.pending), dma })
    }

    /// The kernel powered the board off: performs the last console output
    /// and ends the journal.
    pub fn run_end(&mut self, end: RunEnd) -> Result<(), SystemError> {
        self.flush_console()?;
        Ok(self.journal.get_mut().run_end(end)?)
    }

    fn flush_console(&mut self) -> Result<(), SystemError> {
        if !self.tx.is_empty() {
            self.journal.get_mut().before_output()?;
            self.console.write_all(&self.tx).map_err(SystemError::Console)?;
            self.tx.clear();
        }
        self.console.flush().map_err(SystemError::Console)
    }

    /// Completes the transfer due at the end of `epoch`, if any.
    fn complete_disk(&mut self, ram: &mut AddressSpace, epoch: u64) -> Result<Option<(u32, u32)>, SystemError> {
        let journal = self.journal.get_mut();
        let Some(disk) = &mut self.disk else { return Ok(None) };
        let (flight, status, data) = if journal.is_replaying() {
            let Some((status, data)) = journal.replayed_disk_done()? else { return Ok(None) };
            let flight = disk.in_flight.ok_or_else(|| ReplayError::State {
                epoch,
                what: "the journal completes a disk transfer the guest never started".into(),
            })?;
            (flight, status, data)
        } else {
            let Some(flight) = disk.in_flight.filter(|f| f.issued < epoch) else { return Ok(None) };
            let (status, data) = if flight.uncertain {
                self.uncertain += 1;
                (STATUS_UNCERTAIN, Vec::new())
            } else {
                disk.perform(flight.req, ram).map_err(SystemError::Disk)?
            };
            journal.record_disk_done(status, &data);
            (flight, status, data)
        };
        disk.in_flight = None;
        disk.status = status;
        self.pending |= IRQ_DISK;
        if data.is_empty() {
            return Ok(None);
        }
        let addr = flight.req.addr;
        ram.write_bytes(addr, &data).map_err(|e| SystemError::Disk(std::io::Error::other(e)))?;
        Ok(Some((addr, data.len() as u32)))
    }

    pub(super) fn read(&self, addr: u32) -> Option<u32> {
        let disk = self.disk.as_ref();
        Some(match addr {
            CONSOLE_RX => {
                // The input is consumed while replaying too, so that a
                // backup that goes live continues where the reads stood.
                let byte = self.input.borrow_mut().pop_front().map_or(u32::MAX, u32::from);
                self.journal.borrow_mut().device_read(addr, || byte)
            }
            DISK_CAPACITY => {
                let image = disk?.image.as_ref();
                let mut journal = self.journal.borrow_mut();
                // An image whose size cannot be read shows as empty.
                journal.device_read(addr, || image.and_then(|i| i.sectors().ok()).unwrap_or(0))
            }
            DISK_SECTOR => disk?.sector,
            DISK_DMA_ADDR => disk?.addr,
            DISK_COUNT => disk?.count,
            DISK_STATUS => disk?.status,
            _ => return None,
        })
    }

    pub(super) fn write(&mut self, addr: u32, v: u32) -> Option<()> {
        match addr {
            CONSOLE_TX => self.tx.push(v as u8),
            POWER_OFF => self.power_off = Some(v),
            DISK_SECTOR => self.disk.as_mut()?.sector = v,
            DISK_DMA_ADDR => self.disk.as_mut()?.addr = v,
            DISK_COUNT => self.disk.as_mut()?.count = v,
            DISK_COMMAND => {
                let issued = self.journal.get_mut().epoch();
                let d = self.disk.as_mut()?;
                if d.in_flight.is_some() || !matches!(v, DISK_READ | DISK_WRITE) {
                    d.status = STATUS_ERROR;
                    self.pending |= IRQ_DISK;
                } else {
                    let req = DiskRequest { write: v == DISK_WRITE, sector: d.sector, addr: d.addr, count: d.count };
                    d.in_flight = Some(InFlight { req, issued, uncertain: false });
                    d.status = STATUS_BUSY;
                }
            }
            _ => return None,
        }
        Some(())
    }
}
