//! Loading ELF32 big-endian EM_PARISC executables: segments, entry point,
//! program interpreter and symbols, validated so that a runtime can map the
//! image without further checks.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, Sym};
use object::BigEndian as BE;

/// Why a file cannot be loaded. Each message is one line that names the
/// offending value or file offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// The file does not start with the ELF magic number.
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    /// ELFCLASS64 or an unknown class.
    #[error("unsupported ELF class {0} (PA-RISC Linux guests are ELF32)")]
    WrongClass(u8),
    /// Little-endian or unknown data encoding.
    #[error("unsupported ELF data encoding {0} (PA-RISC is big-endian)")]
    WrongEndianness(u8),
    /// Another machine's executable.
    #[error("ELF machine {0} is not PA-RISC (EM_PARISC = 15)")]
    WrongMachine(u16),
    /// A relocatable object or core file.
    #[error("ELF type {0} is not an executable or shared object")]
    WrongType(u16),
    /// A header or table extends past the end of the file.
    #[error("truncated ELF file: {what} at offset {offset:#x} needs {needed} bytes, file has {size}")]
    Truncated { what: &'static str, offset: u64, needed: u64, size: u64 },
    /// A PT_LOAD segment's file bytes lie outside the file.
    #[error("segment {index} (file offset {offset:#x}, size {size:#x}) lies outside the {file_size}-byte file")]
    SegmentOutsideFile { index: usize, offset: u32, size: u32, file_size: usize },
    /// A PT_LOAD segment claims more file bytes than memory bytes, or wraps the address space.
    #[error("segment {index} at {vaddr:#010x} is malformed: {reason}")]
    BadSegment { index: usize, vaddr: u32, reason: &'static str },
    /// Two PT_LOAD segments claim the same guest pages.
    #[error("segments {first} and {second} overlap at {addr:#010x}")]
    OverlappingSegments { first: usize, second: usize, addr: u32 },
    /// Nothing to execute.
    #[error("no executable PT_LOAD segment")]
    NoExecutableSegment,
    /// The entry point is not inside an executable segment.
    #[error("entry point {0:#010x} is not in an executable segment")]
    EntryOutsideCode(u32),
    /// PT_INTERP that is not a NUL-terminated path inside the file.
    #[error("malformed PT_INTERP at offset {0:#x}")]
    BadInterp(u32),
    /// Any other structural error reported by the ELF parser.
    #[error("malformed ELF: {0}")]
    Malformed(String),
}

/// Access rights of a segment (PF_R, PF_W, PF_X).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// One PT_LOAD segment: `data` (p_filesz bytes) is mapped at `vaddr`, and the
/// rest of `mem_size` is zero-filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u32,
    pub mem_size: u32,
    pub file_offset: u32,
    pub perms: Perms,
    pub data: Vec<u8>,
}

impl Segment {
    /// First address past the segment.
    pub fn end(&self) -> u64 {
        u64::from(self.vaddr) + u64::from(self.mem_size)
    }
}

/// Whether the image is a fixed-address executable or position-independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// ET_EXEC.
    Executable,
    /// ET_DYN: a PIE or the dynamic loader itself; needs a load bias.
    SharedObject,
}

/// A function or object symbol from `.symtab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub value: u32,
    pub size: u32,
    pub is_function: bool,
}

/// A validated executable image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfImage {
    pub kind: ImageKind,
    pub entry: u32,
    /// PT_LOAD segments sorted by address; non-overlapping.
    pub segments: Vec<Segment>,
    /// The program interpreter (PT_INTERP), e.g. `/lib/ld.so.1`, for dynamic executables.
    pub interp: Option<String>,
    /// Guest address of the program headers (auxv AT_PHDR), when they are loaded.
    pub phdr_addr: Option<u32>,
    /// Size of one program header and their number (auxv AT_PHENT, AT_PHNUM).
    pub phent: u16,
    pub phnum: u16,
    /// Function and object symbols sorted by address.
    pub symbols: Vec<Symbol>,
    /// Whether the stack must be executable: PT_GNU_STACK with PF_X, or no
    /// PT_GNU_STACK at all (Linux binfmt_elf's EXSTACK_DEFAULT; gcc's
    /// nested-function trampolines live on the stack).
    pub exec_stack: bool,
}

const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;

impl ElfImage {
    /// Parses and validates an ELF32 big-endian PA-RISC executable.
    pub fn parse(bytes: &[u8]) -> Result<ElfImage, ElfError> {
        check_ident(bytes)?;
        let header = elf::FileHeader32::<BE>::parse(bytes).map_err(malformed)?;
        let machine = header.e_machine(BE);
        if machine != elf::EM_PARISC {
            return Err(ElfError::WrongMachine(machine));
        }
        let kind = match header.e_type(BE) {
            elf::ET_EXEC => ImageKind::Executable,
            elf::ET_DYN => ImageKind::SharedObject,
            other => return Err(ElfError::WrongType(other)),
        };
        let phoff = header.e_phoff(BE);
        let phnum = header.e_phnum(BE);
        let phent = header.e_phentsize(BE);
        let table_size = u64::from(phnum) * u64::from(phent);
        if u64::from(phoff) + table_size > bytes.len() as u64 {
            return Err(ElfError::Truncated {
                what: "program header table",
                offset: phoff.into(),
                needed: table_size,
                size: bytes.len() as u64,
            });
        }
        let headers = header.program_headers(BE, bytes).map_err(malformed)?;

        let mut segments = Vec::new();
        let mut interp = None;
        let mut phdr_addr = None;
        let mut exec_stack = true;
        for (index, ph) in headers.iter().enumerate() {
            match ph.p_type(BE) {
                elf::PT_GNU_STACK => exec_stack = ph.p_flags(BE) & elf::PF_X != 0,
                elf::PT_LOAD => segments.push(load_segment(index, ph, bytes)?),
                elf::PT_INTERP => interp = Some(interp_path(ph, bytes)?),
                elf::PT_PHDR => phdr_addr = Some(ph.p_vaddr(BE)),
                _ => {}
            }
        }
        segments.sort_by_key(|s| s.vaddr);
        check_overlaps(&segments)?;
        if !segments.iter().any(|s| s.perms.exec) {
            return Err(ElfError::NoExecutableSegment);
        }
        let entry = header.e_entry(BE);
        let entry_ok = segments.iter().any(|s| {
            s.perms.exec && u64::from(entry) >= u64::from(s.vaddr) && u64::from(entry) < s.end()
        });
        if !entry_ok {
            return Err(ElfError::EntryOutsideCode(entry));
        }
        // Without PT_PHDR the headers are visible where the segment holding
        // file offset e_phoff is mapped (as the Linux loader computes AT_PHDR).
        let phdr_addr = phdr_addr.or_else(|| {
            segments.iter().find_map(|s| {
                let start = s.file_offset;
                let end = u64::from(start) + s.data.len() as u64;
                (phoff >= start && u64::from(phoff) + table_size <= end)
                    .then(|| s.vaddr + (phoff - start))
            })
        });
        Ok(ElfImage {
            kind,
            entry,
            segments,
            interp,
            phdr_addr,
            phent,
            phnum,
            symbols: symbols(header, bytes),
            exec_stack,
        })
    }

    /// The symbol whose [value, value+size) contains `addr`, if any.
    pub fn symbol_at(&self, addr: u32) -> Option<&Symbol> {
        let after = self.symbols.partition_point(|s| s.value <= addr);
        self.symbols[..after]
            .iter()
            .rev()
            .find(|s| addr < s.value.saturating_add(s.size.max(1)))
    }
}

fn malformed(e: object::Error) -> ElfError {
    ElfError::Malformed(e.to_string())
}

fn check_ident(bytes: &[u8]) -> Result<(), ElfError> {
    if bytes.len() < 4 || bytes[..4] != elf::ELFMAG {
        return Err(ElfError::NotElf);
    }
    const IDENT_AND_HEADER: usize = std::mem::size_of::<elf::FileHeader32<BE>>();
    if bytes.len() < EI_DATA + 1 {
        return Err(ElfError::Truncated {
            what: "ELF header",
            offset: 0,
            needed: IDENT_AND_HEADER as u64,
            size: bytes.len() as u64,
        });
    }
    if bytes[EI_CLASS] != elf::ELFCLASS32 {
        return Err(ElfError::WrongClass(bytes[EI_CLASS]));
    }
    if bytes[EI_DATA] != elf::ELFDATA2MSB {
        return Err(ElfError::WrongEndianness(bytes[EI_DATA]));
    }
    if bytes.len() < IDENT_AND_HEADER {
        return Err(ElfError::Truncated {
            what: "ELF header",
            offset: 0,
            needed: IDENT_AND_HEADER as u64,
            size: bytes.len() as u64,
        });
    }
    Ok(())
}

fn load_segment(
    index: usize,
    ph: &elf::ProgramHeader32<BE>,
    bytes: &[u8],
) -> Result<Segment, ElfError> {
    let vaddr = ph.p_vaddr(BE);
    let mem_size = ph.p_memsz(BE);
    let file_offset = ph.p_offset(BE);
    let file_size = ph.p_filesz(BE);
    if file_size > mem_size {
        return Err(ElfError::BadSegment { index, vaddr, reason: "file size exceeds memory size" });
    }
    if u64::from(vaddr) + u64::from(mem_size) > 1 << 32 {
        return Err(ElfError::BadSegment { index, vaddr, reason: "extends past the 32-bit address space" });
    }
    let end = u64::from(file_offset) + u64::from(file_size);
    if end > bytes.len() as u64 {
        return Err(ElfError::SegmentOutsideFile {
            index,
            offset: file_offset,
            size: file_size,
            file_size: bytes.len(),
        });
    }
    let flags = ph.p_flags(BE);
    Ok(Segment {
        vaddr,
        mem_size,
        file_offset,
        perms: Perms {
            read: flags & elf::PF_R != 0,
            write: flags & elf::PF_W != 0,
            exec: flags & elf::PF_X != 0,
        },
        data: bytes[file_offset as usize..end as usize].to_vec(),
    })
}

fn interp_path(ph: &elf::ProgramHeader32<BE>, bytes: &[u8]) -> Result<String, ElfError> {
    let offset = ph.p_offset(BE);
    let raw = ph
        .data(BE, bytes)
        .map_err(|_| ElfError::BadInterp(offset))?;
    let nul = raw.iter().position(|&b| b == 0).ok_or(ElfError::BadInterp(offset))?;
    String::from_utf8(raw[..nul].to_vec()).map_err(|_| ElfError::BadInterp(offset))
}

/// Segments are sorted by address; any one starting before its predecessor
/// ends overlaps it.
fn check_overlaps(segments: &[Segment]) -> Result<(), ElfError> {
    for (i, pair) in segments.windows(2).enumerate() {
        if u64::from(pair[1].vaddr) < pair[0].end() && pair[1].mem_size != 0 && pair[0].mem_size != 0 {
            return Err(ElfError::OverlappingSegments { first: i, second: i + 1, addr: pair[1].vaddr });
        }
    }
    Ok(())
}

/// Function and object symbols from `.symtab`; a missing or malformed
/// symbol table only means fewer names in reports, so it is not an error.
fn symbols(header: &elf::FileHeader32<BE>, bytes: &[u8]) -> Vec<Symbol> {
    let Ok(sections) = header.sections(BE, bytes) else { return Vec::new() };
    let Ok(table) = sections.symbols(BE, bytes, elf::SHT_SYMTAB) else { return Vec::new() };
    let mut symbols: Vec<Symbol> = table
        .iter()
        .filter(|sym| matches!(sym.st_type(), elf::STT_FUNC | elf::STT_OBJECT))
        .filter_map(|sym| {
            let name = table.symbol_name(BE, sym).ok()?;
            Some(Symbol {
                name: String::from_utf8_lossy(name).into_owned(),
                value: sym.st_value(BE),
                size: sym.st_size(BE),
                is_function: sym.st_type() == elf::STT_FUNC,
            })
        })
        .collect();
    symbols.sort_by(|a, b| (a.value, &a.name).cmp(&(b.value, &b.name)));
    symbols
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid image: one R+X segment holding the headers and 4 code bytes.
    pub(crate) fn tiny_elf() -> Vec<u8> {
        let mut f = vec![0u8; 52 + 32 + 4];
        f[..4].copy_from_slice(&elf::ELFMAG);
        f[4] = elf::ELFCLASS32;
        f[5] = elf::ELFDATA2MSB;
        f[6] = 1;
        let put16 = |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_be_bytes());
        let put32 = |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_be_bytes());
        put16(&mut f, 16, elf::ET_EXEC);
        put16(&mut f, 18, elf::EM_PARISC);
        put32(&mut f, 20, 1);
        put32(&mut f, 24, 0x10000 + 84); // entry
        put32(&mut f, 28, 52); // phoff
        put16(&mut f, 40, 52); // ehsize
        put16(&mut f, 42, 32); // phentsize
        put16(&mut f, 44, 1); // phnum
        put32(&mut f, 52, elf::PT_LOAD);
        put32(&mut f, 56, 0); // offset
        put32(&mut f, 60, 0x10000); // vaddr
        put32(&mut f, 68, 88); // filesz
        put32(&mut f, 72, 88); // memsz
        put32(&mut f, 76, elf::PF_R | elf::PF_X);
        f
    }

    #[test]
    fn parses_a_minimal_executable() {
        let image = ElfImage::parse(&tiny_elf()).unwrap();
        assert_eq!(image.entry, 0x10054);
        assert_eq!(image.segments.len(), 1);
        assert_eq!(image.phdr_addr, Some(0x10000 + 52));
        assert!(image.segments[0].perms.exec);
    }

    #[test]
    fn rejects_each_kind_of_bad_header() {
        let good = tiny_elf();
        let with = |at: usize, bytes: &[u8]| {
            let mut f = good.clone();
            f[at..at + bytes.len()].copy_from_slice(bytes);
            ElfImage::parse(&f).unwrap_err()
        };
        assert_eq!(ElfImage::parse(b"#!/bin/sh\n").unwrap_err(), ElfError::NotElf);
        assert_eq!(with(4, &[2]), ElfError::WrongClass(2));
        assert_eq!(with(5, &[1]), ElfError::WrongEndianness(1));
        assert_eq!(with(18, &[0, 3]), ElfError::WrongMachine(3));
        assert_eq!(with(16, &[0, 1]), ElfError::WrongType(1));
        assert!(matches!(with(56, &[0, 0, 1, 0]), ElfError::SegmentOutsideFile { .. }));
        assert!(matches!(with(76, &[0, 0, 0, 4]), ElfError::NoExecutableSegment));
        assert!(matches!(with(24, &[0, 2, 0, 0]), ElfError::EntryOutsideCode(0x20000)));
        assert!(matches!(ElfImage::parse(&good[..40]).unwrap_err(), ElfError::Truncated { .. }));
        assert!(matches!(ElfImage::parse(&good[..70]).unwrap_err(), ElfError::Truncated { .. }));
    }

    #[test]
    fn rejects_overlapping_segments() {
        let mut f = tiny_elf();
        // Duplicate the PT_LOAD header as a second one at the same address.
        let ph = f[52..84].to_vec();
        f.truncate(84);
        f.extend_from_slice(&ph);
        f.extend_from_slice(&[0; 4]);
        f[44..46].copy_from_slice(&2u16.to_be_bytes());
        f[68..72].copy_from_slice(&120u32.to_be_bytes());
        f[72..76].copy_from_slice(&120u32.to_be_bytes());
        f[84 + 16..84 + 24].copy_from_slice(&[0, 0, 0, 120, 0, 0, 0, 120]);
        assert!(matches!(ElfImage::parse(&f).unwrap_err(), ElfError::OverlappingSegments { .. }));
    }
}
