//! Memory system calls: mmap, mmap2, munmap, mprotect, madvise (brk is
//! `AddressSpace::brk`).

use hbft_translator::memory::PAGE_SIZE;

use super::env::SysResult;
use super::errno::Errno;
use super::process::LinuxProcess;
use crate::memory::{AddressSpace, MapError, PERM_RWX};

/// parisc `MAP_*` (asm/mman.h).
const MAP_SHARED: u32 = 0x01;
const MAP_PRIVATE: u32 = 0x02;
const MAP_FIXED: u32 = 0x04;
const MAP_ANONYMOUS: u32 = 0x10;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
const MADV_DONTNEED: u32 = 4;

/// How the last mmap argument counts: bytes (mmap) or 4 KiB units (mmap2).
#[derive(Debug, Clone, Copy)]
pub enum Offset {
    Bytes(u32),
    Pages(u32),
}

fn map_errno(e: MapError) -> Errno {
    match e {
        MapError::InvalidRange { .. } => Errno::EINVAL,
        MapError::NoSpace { .. } | MapError::NotMapped { .. } | MapError::Host(_) => Errno::ENOMEM,
        MapError::AlreadyMapped { .. } => Errno::EEXIST,
    }
}

impl LinuxProcess {
    /// `mmap(addr, len, prot, flags, fd, offset)`; file mappings are private
    /// copies read through the environment.
    pub(super) fn sys_mmap(&mut self, mem: &mut AddressSpace, a: [u32; 6], offset: Offset) -> SysResult<u32> {
        let (addr, len, prot, flags, fd) = (a[0], a[1], a[2], a[3], a[4]);
        let offset = match offset {
            Offset::Bytes(b) if b % PAGE_SIZE != 0 => return Err(Errno::EINVAL),
            Offset::Bytes(b) => i64::from(b),
            Offset::Pages(p) => i64::from(p) * i64::from(PAGE_SIZE),
        };
        if len == 0 || !matches!(flags & (MAP_SHARED | MAP_PRIVATE), MAP_SHARED | MAP_PRIVATE) {
            return Err(Errno::EINVAL);
        }
        let file = if flags & MAP_ANONYMOUS == 0 { Some(self.handle(fd)?) } else { None };
        let perms = prot as u8 & PERM_RWX;
        let start = if flags & MAP_FIXED_NOREPLACE != 0 {
            mem.map_fixed_noreplace(addr, len, perms).map_err(map_errno)?;
            addr
        } else if flags & MAP_FIXED != 0 {
            mem.map_fixed(addr, len, perms).map_err(map_errno)?;
            addr
        } else {
            mem.map_anywhere(addr, len, perms).map_err(map_errno)?
        };
        if let Some(handle) = file {
            let data = match self.env.pread(handle, len as usize, offset) {
                Ok(data) => data,
                Err(e) => {
                    // Undo the mapping; the range was just created by us.
                    let _ = mem.unmap(start, len);
                    return Err(e);
                }
            };
            mem.load_bytes(start, &data).map_err(|_| Errno::EFAULT)?;
        }
        Ok(start)
    }
}

pub fn sys_munmap(mem: &mut AddressSpace, addr: u32, len: u32) -> SysResult<u32> {
    mem.unmap(addr, len).map_err(map_errno)?;
    Ok(0)
}

pub fn sys_mprotect(mem: &mut AddressSpace, addr: u32, len: u32, prot: u32) -> SysResult<u32> {
    if len == 0 {
        return if addr.is_multiple_of(PAGE_SIZE) { Ok(0) } else { Err(Errno::EINVAL) };
    }
    mem.protect(addr, len, prot as u8 & PERM_RWX).map_err(map_errno)?;
    Ok(0)
}

/// Only MADV_DONTNEED changes what the guest sees: private pages read back
/// as zeros (file-backed pages too, a simplification). Other advice is a hint.
pub fn sys_madvise(mem: &mut AddressSpace, addr: u32, len: u32, advice: u32) -> SysResult<u32> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if advice == MADV_DONTNEED && len != 0 {
        let end = u64::from(addr) + u64::from(len);
        let mut page = addr;
        while u64::from(page) < end {
            if !mem.is_mapped(page) {
                return Err(Errno::ENOMEM);
            }
            let perms = mem.perms(page);
            mem.map_fixed(page, PAGE_SIZE, perms).map_err(map_errno)?;
            page = match page.checked_add(PAGE_SIZE) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Ok(0)
}
