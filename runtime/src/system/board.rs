//! The virtual board (docs/board.md): physical memory, and devices reached
//! through memory-mapped registers — a console, a power-off register and a
//! block disk with DMA and a completion interrupt. The interval timer is
//! CR 16 (see [`super::control`]).
//!
//! Every device register is a 32-bit word; other access sizes fault.
//! Device interrupts are buffered in [`Board::pending`] and reach the EIRR
//! only at epoch ends, so they arrive at the same instruction in every
//! engine and on every replica.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

use hbft_translator::memory::{Access, GuestMemory, MemFault};

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
pub const SECTOR_BYTES: u32 = 512;

/// External interrupt request bits in EIRR (CR 23): bit 0 in the manual's
/// numbering, the most significant, is the interval timer's, as on hardware.
pub const IRQ_TIMER: u32 = 1 << 31;
pub const IRQ_DISK: u32 = 1 << 30;

/// A disk transfer the guest started; the runtime performs its DMA after the
/// instruction that wrote the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskRequest {
    pub write: bool,
    pub sector: u32,
    pub addr: u32,
    pub count: u32,
}

/// A block disk backed by an image file. Transfers are positional (a
/// reissued request does the same thing again), so a replica that takes
/// over can repeat an uncertain one.
pub struct Disk {
    file: File,
    sectors: u32,
    sector: u32,
    addr: u32,
    count: u32,
    status: u32,
    /// Started this epoch; completes (status, interrupt) at the epoch end.
    in_flight: bool,
}

impl Disk {
    /// A disk over `file`, opened for reading and writing.
    pub fn new(file: File) -> std::io::Result<Disk> {
        let len = file.metadata()?.len();
        let sectors = u32::try_from(len / u64::from(SECTOR_BYTES)).unwrap_or(u32::MAX);
        Ok(Disk { file, sectors, sector: 0, addr: 0, count: 0, status: STATUS_IDLE, in_flight: false })
    }

    /// Performs `req` between the image and physical memory. Returns whether
    /// it succeeded (in range, whole sectors of RAM).
    pub fn transfer(&mut self, req: DiskRequest, ram: &mut AddressSpace) -> std::io::Result<bool> {
        let in_disk = u64::from(req.sector) + u64::from(req.count) <= u64::from(self.sectors);
        let bytes = u64::from(req.count) * u64::from(SECTOR_BYTES);
        let in_ram = u64::from(req.addr) + bytes <= u64::from(RAM_BYTES);
        if !in_disk || !in_ram || req.count == 0 {
            return Ok(false);
        }
        let mut buf = vec![0u8; bytes as usize];
        let at = u64::from(req.sector) * u64::from(SECTOR_BYTES);
        if req.write {
            ram.read_bytes(req.addr, &mut buf).map_err(std::io::Error::other)?;
            self.file.write_all_at(&buf, at)?;
        } else {
            self.file.read_exact_at(&mut buf, at)?;
            ram.write_bytes(req.addr, &buf).map_err(std::io::Error::other)?;
        }
        Ok(true)
    }
}

/// The devices and their buffered interrupts.
pub struct Board {
    console: Box<dyn Write>,
    /// Console input not yet read; a `RefCell` because a device read comes
    /// through `GuestMemory::read_u32(&self)` and consumes a byte.
    input: RefCell<VecDeque<u8>>,
    pub disk: Option<Disk>,
    /// Interrupt bits raised during the current epoch.
    pub pending: u32,
    /// Set by a write to [`POWER_OFF`].
    pub power_off: Option<u32>,
    /// A transfer started by the last device write.
    pub request: Option<DiskRequest>,
}

impl Board {
    pub fn new(console: Box<dyn Write>, input: Vec<u8>, disk: Option<Disk>) -> Board {
        Board { console, input: RefCell::new(input.into()), disk, pending: 0, power_off: None, request: None }
    }

    /// Flushes console output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.console.flush()
    }

    /// Marks the transfer just performed: busy until the epoch ends.
    pub fn start_transfer(&mut self, ok: bool) {
        if let Some(d) = &mut self.disk {
            d.status = if ok { STATUS_BUSY } else { STATUS_ERROR };
            d.in_flight = ok;
            if !ok {
                self.pending |= IRQ_DISK;
            }
        }
    }

    /// The epoch ends: transfers complete and raise their interrupt; returns
    /// the interrupt bits to post in EIRR.
    pub fn epoch_end(&mut self) -> u32 {
        if let Some(d) = &mut self.disk {
            if d.in_flight {
                d.in_flight = false;
                d.status = STATUS_DONE;
                self.pending |= IRQ_DISK;
            }
        }
        std::mem::take(&mut self.pending)
    }

    fn read(&self, addr: u32) -> Option<u32> {
        let disk = self.disk.as_ref();
        Some(match addr {
            CONSOLE_RX => self.input.borrow_mut().pop_front().map_or(u32::MAX, u32::from),
            DISK_SECTOR => disk?.sector,
            DISK_DMA_ADDR => disk?.addr,
            DISK_COUNT => disk?.count,
            DISK_STATUS => disk?.status,
            DISK_CAPACITY => disk?.sectors,
            _ => return None,
        })
    }

    fn write(&mut self, addr: u32, v: u32) -> Option<()> {
        match addr {
            CONSOLE_TX => {
                // A console write error (closed pipe) must not change what
                // the guest sees; the byte is dropped.
                let _ = self.console.write_all(&[v as u8]);
            }
            POWER_OFF => self.power_off = Some(v),
            DISK_SECTOR => self.disk.as_mut()?.sector = v,
            DISK_DMA_ADDR => self.disk.as_mut()?.addr = v,
            DISK_COUNT => self.disk.as_mut()?.count = v,
            DISK_COMMAND => {
                let d = self.disk.as_mut()?;
                if d.in_flight || !matches!(v, DISK_READ | DISK_WRITE) {
                    d.status = STATUS_ERROR;
                } else {
                    self.request =
                        Some(DiskRequest { write: v == DISK_WRITE, sector: d.sector, addr: d.addr, count: d.count });
                }
            }
            _ => return None,
        }
        Some(())
    }
}

/// Physical memory as one instruction that touches a device sees it: RAM,
/// and the device registers above [`MMIO_BASE`]. The runtime executes such
/// an instruction with the interpreter over a `Bus`.
pub struct Bus<'a> {
    pub ram: &'a mut AddressSpace,
    pub board: &'a mut Board,
}

fn no_device(addr: u32, access: Access) -> MemFault {
    MemFault::Unmapped { addr, access }
}

impl GuestMemory for Bus<'_> {
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
        self.ram.read_u8(addr)
    }
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
        self.ram.read_u16(addr)
    }
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        if addr >= MMIO_BASE {
            return self.board.read(addr).ok_or(no_device(addr, Access::Read));
        }
        self.ram.read_u32(addr)
    }
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
        self.ram.read_u64(addr)
    }
    fn write_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault> {
        self.ram.write_u8(addr, value)
    }
    fn write_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault> {
        self.ram.write_u16(addr, value)
    }
    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        if addr >= MMIO_BASE {
            return self.board.write(addr, value).ok_or(no_device(addr, Access::Write));
        }
        self.ram.write_u32(addr, value)
    }
    fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), MemFault> {
        self.ram.write_u64(addr, value)
    }
    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        self.ram.fetch(addr)
    }
}
