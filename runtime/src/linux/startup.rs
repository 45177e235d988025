//! Process start-up as Linux's binfmt_elf does it for parisc: map the
//! program (and its interpreter), build the initial stack, which on parisc
//! grows *up*, and compute the initial registers.
//!
//! Stack layout, low to high addresses (fs/exec.c, fs/binfmt_elf.c
//! create_elf_tables with CONFIG_STACK_GROWSUP):
//!
//! ```text
//! stack_base:  page(s) holding argv strings, envp strings, the execve
//!              file name and 4 bytes of slack, ending on a page boundary
//!              "PARISC\0" (AT_PLATFORM), 16 AT_RANDOM bytes
//!              (gap)
//!              argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL
//!              ending at a 16-byte boundary
//! r30 = that boundary rounded up to 64 (start_thread)
//! ```

use std::path::Path;

use hbft_frontend::elf::{ElfError, ElfImage, ImageKind};
use hbft_translator::memory::{MemFault, PAGE_SIZE};

use super::process::{GUEST_GID, GUEST_UID};
use crate::memory::{
    page_align_down, page_align_up, AddressSpace, MapError, PERM_EXEC, PERM_READ, PERM_WRITE,
};

/// The initial stack mapping (the default RLIMIT_STACK soft limit).
pub const STACK_SIZE: u32 = 8 << 20;
/// Where an ET_DYN program is loaded: ELF_ET_DYN_BASE = TASK_UNMAPPED_BASE
/// + 16 MiB (arch/parisc/include/asm/elf.h), without randomization.
pub const ET_DYN_BASE: u32 = 0x4100_0000;
/// The 16 AT_RANDOM bytes: fixed, so every run and replica agrees.
pub const AT_RANDOM_BYTES: [u8; 16] = *b"hbft:AT_RANDOM!\0";
/// AT_PLATFORM (ELF_PLATFORM in arch/parisc/include/asm/elf.h).
const PLATFORM: &[u8] = b"PARISC\0";

pub const AT_NULL: u32 = 0;
pub const AT_PHDR: u32 = 3;
pub const AT_PHENT: u32 = 4;
pub const AT_PHNUM: u32 = 5;
pub const AT_PAGESZ: u32 = 6;
pub const AT_BASE: u32 = 7;
pub const AT_FLAGS: u32 = 8;
pub const AT_ENTRY: u32 = 9;
pub const AT_UID: u32 = 11;
pub const AT_EUID: u32 = 12;
pub const AT_GID: u32 = 13;
pub const AT_EGID: u32 = 14;
pub const AT_PLATFORM: u32 = 15;
pub const AT_HWCAP: u32 = 16;
pub const AT_CLKTCK: u32 = 17;
pub const AT_SECURE: u32 = 23;
pub const AT_RANDOM: u32 = 25;
pub const AT_EXECFN: u32 = 31;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot map {what} at {addr:#010x}: {source}")]
    Map { what: &'static str, addr: u32, source: MapError },
    #[error("cannot write {what}: {source}")]
    Write { what: &'static str, source: MemFault },
    #[error("cannot read program interpreter {path}: {source}")]
    InterpRead { path: String, source: std::io::Error },
    #[error("program interpreter {path}: {source}")]
    InterpElf { path: String, source: ElfError },
    #[error("arguments and environment ({0} bytes) do not fit the stack")]
    ArgsTooLarge(usize),
}

/// Registers and facts the run loop needs to start the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialState {
    /// IAOQ front: the entry point with privilege level 3 in the low two
    /// bits, as start_thread sets it; the back of the queue is `pc + 4`.
    pub pc: u32,
    /// General registers: r23 = 0 (no finalizer), r24 = argv, r25 = argc,
    /// r30 = stack pointer, r31 = pc. All others are 0.
    pub gr: [u32; 32],
    /// The program's entry point (AT_ENTRY).
    pub entry: u32,
    /// Where the interpreter was loaded (AT_BASE), for dynamic programs.
    pub interp_base: Option<u32>,
    /// The lowest stack address; the stack grows up from here.
    pub stack_base: u32,
    /// The initial program break.
    pub brk: u32,
    /// The auxiliary vector written to the stack, without AT_NULL.
    pub auxv: Vec<(u32, u32)>,
}

/// Reads and parses the interpreter `interp` (e.g. `/lib/ld.so.1`) under `sysroot`.
pub fn load_interpreter(sysroot: &Path, interp: &str) -> Result<ElfImage, StartupError> {
    let path = sysroot.join(interp.trim_start_matches('/'));
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|source| StartupError::InterpRead { path: shown.clone(), source })?;
    ElfImage::parse(&bytes).map_err(|source| StartupError::InterpElf { path: shown, source })
}

/// Maps `image` (and `interp`, its program interpreter, if dynamic) into
/// `mem`, builds the initial stack from `argv`, `envp` and `execfn` (the
/// path given to execve), sets the break, and returns the initial state.
/// `mem` should be fresh and use `Layout::linux_parisc32`.
pub fn load_program(
    mem: &mut AddressSpace,
    image: &ElfImage,
    interp: Option<&ElfImage>,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
) -> Result<InitialState, StartupError> {
    let bias = match image.kind {
        ImageKind::Executable => 0,
        ImageKind::SharedObject => ET_DYN_BASE.wrapping_sub(page_align_down(first_vaddr(image))),
    };
    map_image(mem, image, bias)?;
    let brk = page_align_up(image.segments.iter().map(|s| s.end() as u32).max().unwrap_or(0).wrapping_add(bias));
    mem.init_brk(brk);

    let interp_base = match interp {
        Some(ld) => {
            let start = page_align_down(first_vaddr(ld));
            let span = image_span(ld);
            let at = mem.find_free(0, span).map_err(|source| StartupError::Map { what: "interpreter", addr: 0, source })?;
            let ld_bias = at.wrapping_sub(start);
            map_image(mem, ld, ld_bias)?;
            Some(ld_bias)
        }
        None => None,
    };
    let entry = image.entry.wrapping_add(bias);
    let pc_target = match (interp, interp_base) {
        (Some(ld), Some(base)) => ld.entry.wrapping_add(base),
        _ => entry,
    };

    let stack_base = mem.layout().mmap_top;
    let stack_perms = PERM_READ | PERM_WRITE | if image.exec_stack { PERM_EXEC } else { 0 };
    mem.map_fixed(stack_base, STACK_SIZE, stack_perms)
        .map_err(|source| StartupError::Map { what: "stack", addr: stack_base, source })?;

    let auxv_for = |random: u32, platform: u32, execfn_addr: u32| {
        vec![
            (AT_HWCAP, 0),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_CLKTCK, 100),
            (AT_PHDR, image.phdr_addr.unwrap_or(0).wrapping_add(bias)),
            (AT_PHENT, u32::from(image.phent)),
            (AT_PHNUM, u32::from(image.phnum)),
            (AT_BASE, interp_base.unwrap_or(0)),
            (AT_FLAGS, 0),
            (AT_ENTRY, entry),
            (AT_UID, GUEST_UID),
            (AT_EUID, GUEST_UID),
            (AT_GID, GUEST_GID),
            (AT_EGID, GUEST_GID),
            (AT_SECURE, 0),
            (AT_RANDOM, random),
            (AT_EXECFN, execfn_addr),
            (AT_PLATFORM, platform),
        ]
    };
    let stack = build_stack(stack_base, argv, envp, execfn, auxv_for)?;
    mem.load_bytes(stack_base, &stack.bytes)
        .map_err(|source| StartupError::Write { what: "initial stack", source })?;

    let pc = pc_target | 3;
    let mut gr = [0u32; 32];
    gr[24] = stack.argv;
    gr[25] = argv.len() as u32;
    gr[30] = stack.sp;
    gr[31] = pc;
    Ok(InitialState { pc, gr, entry, interp_base, stack_base, brk, auxv: stack.auxv })
}

fn first_vaddr(image: &ElfImage) -> u32 {
    image.segments.first().map_or(0, |s| s.vaddr)
}

/// Bytes from the first segment's page to the end of the last segment.
fn image_span(image: &ElfImage) -> u32 {
    let start = page_align_down(first_vaddr(image));
    let end = image.segments.iter().map(|s| s.end()).max().unwrap_or(0);
    page_align_up((end - u64::from(start)) as u32)
}

/// Maps every PT_LOAD segment of `image` moved by `bias`. A page shared by
/// two segments gets the union of their permissions and both their bytes.
fn map_image(mem: &mut AddressSpace, image: &ElfImage, bias: u32) -> Result<(), StartupError> {
    let mut pages = std::collections::BTreeMap::<u32, u8>::new();
    for seg in image.segments.iter().filter(|s| s.mem_size != 0) {
        let perms = (u8::from(seg.perms.read) * PERM_READ)
            | (u8::from(seg.perms.write) * PERM_WRITE)
            | (u8::from(seg.perms.exec) * PERM_EXEC);
        let start = page_align_down(seg.vaddr.wrapping_add(bias));
        let end = u64::from(seg.vaddr.wrapping_add(bias)) + u64::from(seg.mem_size);
        let mut page = u64::from(start);
        while page < end {
            *pages.entry(page as u32).or_default() |= perms;
            page += u64::from(PAGE_SIZE);
        }
    }
    for (&page, &perms) in &pages {
        mem.map_fixed(page, PAGE_SIZE, perms)
            .map_err(|source| StartupError::Map { what: "segment", addr: page, source })?;
    }
    for seg in &image.segments {
        mem.load_bytes(seg.vaddr.wrapping_add(bias), &seg.data)
            .map_err(|source| StartupError::Write { what: "segment", source })?;
    }
    Ok(())
}

/// The initial stack image, to be copied to `stack_base`.
struct StackImage {
    bytes: Vec<u8>,
    argv: u32,
    sp: u32,
    auxv: Vec<(u32, u32)>,
}

fn build_stack(
    base: u32,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    auxv_for: impl Fn(u32, u32, u32) -> Vec<(u32, u32)>,
) -> Result<StackImage, StartupError> {
    // Strings are copied downward from the top of the argument pages, file
    // name first, so they end up in argv, envp, file name order (fs/exec.c).
    let mut strings = Vec::new();
    let mut offsets = Vec::new();
    for s in argv.iter().chain(envp) {
        offsets.push(strings.len() as u32);
        strings.extend_from_slice(s);
        strings.push(0);
    }
    let execfn_offset = strings.len() as u32;
    strings.extend_from_slice(execfn);
    strings.push(0);
    let slack = 4; // bprm->p starts sizeof(void *) below the top.
    let string_pages = page_align_up((strings.len() + slack) as u32);
    if strings.len() + slack + 4096 >= STACK_SIZE as usize / 2 {
        return Err(StartupError::ArgsTooLarge(strings.len()));
    }
    let strings_at = string_pages - slack as u32 - strings.len() as u32;

    let mut p = string_pages; // offsets from `base`
    let platform = p;
    p += PLATFORM.len() as u32;
    let random = p;
    p += AT_RANDOM_BYTES.len() as u32;

    let auxv = auxv_for(base + random, base + platform, base + strings_at + execfn_offset);
    let ei_words = (auxv.len() + 1) * 2;
    let items = (argv.len() + 1) + (envp.len() + 1) + 1;
    // STACK_ROUND for CONFIG_STACK_GROWSUP: past all items, up to 16 bytes.
    let end = (p + ((ei_words + items) as u32) * 4 + 15) & !15;
    let tables = end - ((ei_words + items) as u32) * 4;

    let mut words = Vec::with_capacity(ei_words + items);
    words.push(argv.len() as u32);
    words.extend(offsets[..argv.len()].iter().map(|o| base + strings_at + o));
    words.push(0);
    words.extend(offsets[argv.len()..].iter().map(|o| base + strings_at + o));
    words.push(0);
    for &(key, value) in &auxv {
        words.extend([key, value]);
    }
    words.extend([AT_NULL, 0]);

    let mut bytes = vec![0u8; end as usize];
    bytes[strings_at as usize..string_pages as usize - slack].copy_from_slice(&strings);
    bytes[platform as usize..platform as usize + PLATFORM.len()].copy_from_slice(PLATFORM);
    bytes[random as usize..random as usize + 16].copy_from_slice(&AT_RANDOM_BYTES);
    for (i, w) in words.iter().enumerate() {
        let at = tables as usize + i * 4;
        bytes[at..at + 4].copy_from_slice(&w.to_be_bytes());
    }
    Ok(StackImage {
        bytes,
        argv: base + tables + 4,
        // start_thread: r30 = (bprm->p + 63) & ~63.
        sp: (base + end + 63) & !63,
        auxv,
    })
}
