//! The text of `hppa-linux-gnu-objdump -d FILE` for an ELF32 big-endian
//! PA-RISC file: header, section and symbol headings, one line per word with
//! its raw bytes, `...` for runs of zero bytes, and `ADDR <symbol+0xoff>`
//! annotations for branch targets. The instruction text itself comes from
//! [`crate::display::disassemble_word`].
//!
//! The rules follow binutils 2.40 (`objdump.c` and BFD's ELF symbol reader):
//! which sections are disassembled, which symbols are kept and how they are
//! ordered, which symbol labels an address, and when zero bytes are skipped.

use std::io::Write;

use object::elf;

use crate::display::{disassemble_word, AddressPrinter};

/// Why a file cannot be listed. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// The file does not start with the ELF magic number.
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    /// Another class, byte order, version or machine.
    #[error("not an ELF32 big-endian PA-RISC file (class {class}, data {data}, version {version}, machine {machine})")]
    NotParisc {
        class: u8,
        data: u8,
        version: u8,
        machine: u16,
    },
    /// The file ends inside the ELF header.
    #[error("truncated ELF header: file has {size} bytes, the header needs 52")]
    TruncatedHeader { size: usize },
    /// The section header table cannot be read.
    #[error("malformed section table at offset {offset:#x} ({count} entries of {entsize} bytes, file has {file_size} bytes): {reason}")]
    SectionTable {
        offset: u64,
        count: u64,
        entsize: u16,
        file_size: usize,
        reason: &'static str,
    },
    /// A section's name is not in the section name string table.
    #[error("section {index}: name offset {name_offset:#x} is not in the section name table")]
    SectionName { index: usize, name_offset: u32 },
    /// The contents of a section to disassemble lie outside the file.
    #[error("section {index} ({name}): contents at file offset {offset:#x} size {size:#x} lie outside the {file_size}-byte file")]
    SectionOutsideFile {
        index: usize,
        name: String,
        offset: u32,
        size: u32,
        file_size: usize,
    },
    /// The symbol table lies outside the file.
    #[error("symbol table (section {index}) at file offset {offset:#x} size {size:#x} lies outside the {file_size}-byte file")]
    SymbolTable {
        index: usize,
        offset: u32,
        size: u32,
        file_size: usize,
    },
    /// Writing the listing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the `objdump -d` listing of the ELF file `bytes`, named `file_name` in the header.
pub fn write_listing(
    file_name: &str,
    bytes: &[u8],
    out: &mut dyn Write,
) -> Result<(), ListingError> {
    let image = Image::parse(bytes)?;
    let mut text = Vec::new();
    text.push(b'\n');
    text.extend(sanitize(file_name.as_bytes()));
    text.extend_from_slice(format!(":     file format {}\n\n", image.format).as_bytes());
    out.write_all(&text)?;
    let mut symbols = image.useful_symbols()?;
    for section in image.sections.iter().filter(|s| s.is_disassembled()) {
        let data = image.section_data(section)?;
        symbols.sort_by(|a, b| compare_symbols(a, b, section.name));
        let lister = SectionLister {
            section,
            data,
            symbols: &symbols,
            has_reloc: image.has_reloc,
        };
        lister.write(out)?;
    }
    Ok(())
}

/// One section header as BFD sees it.
struct Section<'a> {
    index: usize,
    name: &'a [u8],
    kind: u32,
    flags: u32,
    addr: u64,
    offset: u32,
    size: u32,
    link: u32,
    /// For version sections, how many entries they have.
    info: u32,
    /// Whether BFD makes a section of it (symbols in other sections are absolute).
    is_bfd_section: bool,
}

impl Section<'_> {
    /// objdump -d disassembles code sections with contents that are not empty.
    fn is_disassembled(&self) -> bool {
        self.is_bfd_section
            && self.flags & elf::SHF_EXECINSTR != 0
            && self.kind != elf::SHT_NOBITS
            && self.size != 0
    }
}

/// The parts of the file the listing needs.
struct Image<'a> {
    bytes: &'a [u8],
    format: &'static str,
    sections: Vec<Section<'a>>,
    /// In relocatable objects symbol values are relative to their section.
    relocatable: bool,
    /// Relocatable objects make objdump prefer symbols of the branch's own section.
    has_reloc: bool,
}

impl<'a> Image<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, ListingError> {
        let header = parse_header(bytes)?;
        let (headers, shstrndx) = section_headers(&header, bytes)?;
        let names = headers
            .get(shstrndx)
            .and_then(|h| string_table(bytes, h.kind, h.offset, h.size));
        let mut sections = Vec::with_capacity(headers.len());
        for (index, h) in headers.iter().enumerate() {
            let name = match names {
                Some(table) => lookup_string(table, h.name),
                None if h.name == 0 => Some(&b""[..]),
                None => None,
            };
            let name = name.ok_or(ListingError::SectionName {
                index,
                name_offset: h.name,
            })?;
            sections.push(Section {
                index,
                name,
                kind: h.kind,
                flags: h.flags,
                addr: u64::from(h.addr),
                offset: h.offset,
                size: h.size,
                link: h.link,
                info: h.info,
                is_bfd_section: false,
            });
        }
        mark_bfd_sections(&mut sections, shstrndx);
        let relocatable = header.e_type == elf::ET_REL;
        let has_reloc = relocatable
            && sections
                .iter()
                .any(|s| matches!(s.kind, elf::SHT_REL | elf::SHT_RELA));
        Ok(Image {
            bytes,
            format: format_name(header.os_abi),
            sections,
            relocatable,
            has_reloc,
        })
    }

    fn section_data(&self, section: &Section) -> Result<&'a [u8], ListingError> {
        contents(self.bytes, section.offset, section.size).ok_or_else(|| {
            ListingError::SectionOutsideFile {
                index: section.index,
                name: String::from_utf8_lossy(section.name).into_owned(),
                offset: section.offset,
                size: section.size,
                file_size: self.bytes.len(),
            }
        })
    }

    /// The symbol table objdump reads: `.symtab`, or `.dynsym` if there is none.
    fn symbol_section(&self) -> Option<&Section<'a>> {
        let first = |kind| self.sections.iter().find(|s| s.kind == kind);
        first(elf::SHT_SYMTAB).or_else(|| first(elf::SHT_DYNSYM))
    }

    /// The symbols objdump keeps for disassembly (`remove_useless_symbols`).
    fn useful_symbols(&self) -> Result<Vec<Symbol<'a>>, ListingError> {
        let Some(table) = self.symbol_section() else {
            return Ok(Vec::new());
        };
        let count = table.size as usize / 16;
        let raw = self
            .section_data(table)
            .map_err(|_| ListingError::SymbolTable {
                index: table.index,
                offset: table.offset,
                size: table.size,
                file_size: self.bytes.len(),
            })?;
        let strings = self
            .sections
            .get(table.link as usize)
            .and_then(|s| self.string_data(s));
        let shndx = self.extended_indices(table.index);
        let versions = (table.kind == elf::SHT_DYNSYM)
            .then(|| self.versions(count))
            .flatten();
        let mut symbols = Vec::new();
        for (i, entry) in raw.chunks_exact(16).take(count).enumerate().skip(1) {
            let extended = shndx.and_then(|t| t.get(i * 4..i * 4 + 4)).map(be32);
            if let Some(mut symbol) = self.symbol(entry, strings, extended) {
                if let Some(v) = &versions {
                    symbol.version = v.of(v.versym.get(i * 2..i * 2 + 2).map_or(0, be16));
                }
                symbols.push(symbol);
            }
        }
        Ok(symbols)
    }

    /// The GNU symbol versions of the `count` dynamic symbols, if the file has them.
    fn versions(&self, count: usize) -> Option<Versions<'a>> {
        let find = |kind| self.sections.iter().find(|s| s.kind == kind);
        let versym = contents(
            self.bytes,
            find(elf::SHT_GNU_VERSYM)?.offset,
            find(elf::SHT_GNU_VERSYM)?.size,
        )?;
        let (verdef, verneed) = (find(elf::SHT_GNU_VERDEF), find(elf::SHT_GNU_VERNEED));
        if versym.len() / 2 != count || (verdef.is_none() && verneed.is_none()) {
            return None;
        }
        let defs = verdef.map_or_else(Vec::new, |s| self.version_definitions(s));
        let needs = verneed.map_or_else(Vec::new, |s| self.version_needs(s));
        Some(Versions {
            versym,
            defs,
            needs,
        })
    }

    /// SHT_GNU_verdef: by index - 1, the flags and name of each version defined.
    fn version_definitions(&self, section: &Section) -> Vec<(u16, Option<&'a [u8]>)> {
        let (Some(data), strings) = (
            self.section_data(section).ok(),
            self.linked_strings(section),
        ) else {
            return Vec::new();
        };
        let mut defs = Vec::new();
        let mut at = 0usize;
        for _ in 0..section.info {
            let Some(d) = data.get(at..at + 20) else {
                break;
            };
            let (flags, index, aux_count) = (
                be16(&d[2..]),
                usize::from(be16(&d[4..]) & 0x7fff),
                be16(&d[6..]),
            );
            let aux = at.checked_add(be32(&d[12..]) as usize);
            let name = aux
                .and_then(|a| data.get(a..a + 4))
                .filter(|_| aux_count > 0)
                .map(be32);
            let name = name.and_then(|n| strings.and_then(|t| lookup_string(t, n)));
            if index > defs.len() {
                defs.resize(index, (0, None));
            }
            if index > 0 {
                defs[index - 1] = (flags, name);
            }
            match be32(&d[16..]) {
                0 => break,
                next => at = at.saturating_add(next as usize),
            }
        }
        defs
    }

    /// SHT_GNU_verneed: the version index and name of each version required.
    fn version_needs(&self, section: &Section) -> Vec<(u16, &'a [u8])> {
        let (Some(data), Some(strings)) = (
            self.section_data(section).ok(),
            self.linked_strings(section),
        ) else {
            return Vec::new();
        };
        let mut needs = Vec::new();
        let mut at = 0usize;
        for _ in 0..section.info {
            let Some(n) = data.get(at..at + 16) else {
                break;
            };
            let mut aux = at.saturating_add(be32(&n[8..]) as usize);
            for _ in 0..be16(&n[2..]) {
                let Some(a) = data.get(aux..aux + 16) else {
                    break;
                };
                if let Some(name) = lookup_string(strings, be32(&a[8..])) {
                    needs.push((be16(&a[6..]), name));
                }
                match be32(&a[12..]) {
                    0 => break,
                    next => aux = aux.saturating_add(next as usize),
                }
            }
            match be32(&n[12..]) {
                0 => break,
                next => at = at.saturating_add(next as usize),
            }
        }
        needs
    }

    fn linked_strings(&self, section: &Section) -> Option<&'a [u8]> {
        self.sections
            .get(section.link as usize)
            .and_then(|s| self.string_data(s))
    }

    /// The SHT_SYMTAB_SHNDX contents that belong to symbol table `symtab`.
    fn extended_indices(&self, symtab: usize) -> Option<&'a [u8]> {
        let s = self
            .sections
            .iter()
            .find(|s| s.kind == elf::SHT_SYMTAB_SHNDX && s.link as usize == symtab)?;
        self.section_data(s).ok()
    }

    fn string_data(&self, section: &Section) -> Option<&'a [u8]> {
        string_table(self.bytes, section.kind, section.offset, section.size)
    }

    /// One ELF symbol as BFD reads it, or `None` if objdump would drop it.
    fn symbol(
        &self,
        entry: &[u8],
        strings: Option<&'a [u8]>,
        extended: Option<u32>,
    ) -> Option<Symbol<'a>> {
        let (st_name, st_value, st_size) =
            (be32(&entry[0..4]), be32(&entry[4..8]), be32(&entry[8..12]));
        let (st_info, st_shndx) = (entry[12], be16(&entry[14..]));
        let kind = st_info & 0xf;
        let shndx = match st_shndx {
            elf::SHN_XINDEX => extended.unwrap_or(0),
            index => u32::from(index),
        };
        if shndx == u32::from(elf::SHN_UNDEF) || shndx == u32::from(elf::SHN_COMMON) {
            return None;
        }
        let section = self
            .sections
            .get(shndx as usize)
            .filter(|s| s.is_bfd_section);
        let name = match self.sections.get(shndx as usize) {
            Some(s) if st_name == 0 && kind == elf::STT_SECTION => Some(s.name),
            _ if st_name == 0 => Some(&b""[..]),
            _ => strings.and_then(|t| lookup_string(t, st_name)),
        };
        let name = name.unwrap_or(b"(null)");
        let is_section = kind == elf::STT_SECTION;
        let is_file = kind == elf::STT_FILE;
        if name.is_empty() || ((is_section || is_file) && !is_significant_symbol_name(name)) {
            return None;
        }
        let base = match section {
            Some(s) if self.relocatable => s.addr,
            _ => 0,
        };
        let binding = st_info >> 4;
        Some(Symbol {
            name,
            value: base + u64::from(st_value),
            section: section.map(|s| s.index),
            section_name: section.map_or(b"*ABS*", |s| s.name),
            size: st_size,
            is_local: binding == elf::STB_LOCAL,
            is_global: binding == elf::STB_GLOBAL,
            is_section,
            is_debugging: is_section || is_file,
            is_file,
            is_function: kind == elf::STT_FUNC,
            is_object: kind == elf::STT_OBJECT || kind == elf::STT_COMMON,
            version: None,
        })
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The ELF header fields the listing needs.
struct Header {
    e_type: u16,
    os_abi: u8,
    shoff: u32,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn parse_header(bytes: &[u8]) -> Result<Header, ListingError> {
    if bytes.len() < 4 || bytes[..4] != elf::ELFMAG {
        return Err(ListingError::NotElf);
    }
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let machine = u16::from_be_bytes([byte(18), byte(19)]);
    let (class, data, version) = (byte(4), byte(5), byte(6));
    if class != elf::ELFCLASS32
        || data != elf::ELFDATA2MSB
        || version != elf::EV_CURRENT
        || machine != elf::EM_PARISC
    {
        return Err(ListingError::NotParisc {
            class,
            data,
            version,
            machine,
        });
    }
    let h = bytes
        .get(..ELF_HEADER_SIZE)
        .ok_or(ListingError::TruncatedHeader { size: bytes.len() })?;
    Ok(Header {
        e_type: be16(&h[16..]),
        os_abi: h[7],
        shoff: be32(&h[32..]),
        shentsize: be16(&h[46..]),
        shnum: be16(&h[48..]),
        shstrndx: be16(&h[50..]),
    })
}

const ELF_HEADER_SIZE: usize = 52;
const SECTION_HEADER_SIZE: usize = 40;

/// One raw section header.
struct RawSection {
    name: u32,
    kind: u32,
    flags: u32,
    addr: u32,
    offset: u32,
    size: u32,
    link: u32,
    info: u32,
}

impl RawSection {
    fn parse(b: &[u8]) -> Self {
        let field = |i: usize| be32(&b[4 * i..]);
        RawSection {
            name: field(0),
            kind: field(1),
            flags: field(2),
            addr: field(3),
            offset: field(4),
            size: field(5),
            link: field(6),
            info: field(7),
        }
    }
}

/// The section header table and the index of the section name table,
/// with ELF's extended numbering (counts and indices kept in section 0).
fn section_headers(
    header: &Header,
    bytes: &[u8],
) -> Result<(Vec<RawSection>, usize), ListingError> {
    let offset = u64::from(header.shoff);
    let entry = |index: u64| {
        let start = offset + index * SECTION_HEADER_SIZE as u64;
        let range = usize::try_from(start)
            .ok()
            .and_then(|s| Some(s..s.checked_add(SECTION_HEADER_SIZE)?));
        range.and_then(|r| bytes.get(r)).map(RawSection::parse)
    };
    let error = |count: u64, reason| ListingError::SectionTable {
        offset,
        count,
        entsize: header.shentsize,
        file_size: bytes.len(),
        reason,
    };
    if offset == 0 {
        return Ok((Vec::new(), 0));
    }
    if usize::from(header.shentsize) != SECTION_HEADER_SIZE {
        return Err(error(u64::from(header.shnum), "entry size is not 40"));
    }
    let first =
        entry(0).ok_or_else(|| error(u64::from(header.shnum), "table lies outside the file"))?;
    let count = match header.shnum {
        0 => u64::from(first.size),
        n => u64::from(n),
    };
    let shstrndx = match header.shstrndx {
        elf::SHN_XINDEX => first.link as usize,
        n => usize::from(n),
    };
    let sections = (0..count).map(entry).collect::<Option<Vec<_>>>();
    Ok((
        sections.ok_or_else(|| error(count, "table lies outside the file"))?,
        shstrndx,
    ))
}

/// The `size` bytes at `offset` in `bytes`, if they lie inside the file.
fn contents<'a>(bytes: &'a [u8], offset: u32, size: u32) -> Option<&'a [u8]> {
    let start = offset as usize;
    bytes.get(start..start.checked_add(size as usize)?)
}

/// The contents of a string table BFD would read strings from.
fn string_table(bytes: &[u8], kind: u32, offset: u32, size: u32) -> Option<&[u8]> {
    let data = contents(bytes, offset, size)?;
    let is_strings = kind == elf::SHT_STRTAB || kind >= elf::SHT_LOOS;
    (is_strings && data.last() == Some(&0)).then_some(data)
}

/// The NUL-terminated string at `offset`; offset 0 is always the empty name.
fn lookup_string(table: &[u8], offset: u32) -> Option<&[u8]> {
    if offset == 0 {
        return Some(b"");
    }
    let rest = table.get(offset as usize..)?;
    rest.iter().position(|&b| b == 0).map(|end| &rest[..end])
}

/// Marks the sections BFD turns into `asection`s: not the null section, the
/// static symbol table and its helpers, or non-allocated relocations.
fn mark_bfd_sections(sections: &mut [Section], shstrndx: usize) {
    let symtab = sections
        .iter()
        .find(|s| s.kind == elf::SHT_SYMTAB)
        .map(|s| (s.index, s.link as usize));
    for s in sections.iter_mut() {
        let alloc = s.flags & elf::SHF_ALLOC != 0;
        let is_symtab_strings = symtab.is_some_and(|(_, strings)| strings == s.index);
        s.is_bfd_section = match s.kind {
            elf::SHT_NULL | elf::SHT_SYMTAB | elf::SHT_SYMTAB_SHNDX => false,
            elf::SHT_STRTAB => alloc || !(s.index == shstrndx || is_symtab_strings),
            elf::SHT_REL | elf::SHT_RELA => alloc,
            _ => true,
        };
    }
}

/// BFD's target name, chosen by the OS ABI byte.
fn format_name(os_abi: u8) -> &'static str {
    match os_abi {
        elf::ELFOSABI_HPUX => "elf32-hppa",
        elf::ELFOSABI_NETBSD => "elf32-hppa-netbsd",
        _ => "elf32-hppa-linux",
    }
}

/// Section and section-symbol names starting like this survive as symbols.
fn is_significant_symbol_name(name: &[u8]) -> bool {
    name.starts_with(b".plt") || name.starts_with(b".got")
}

/// objdump's `sanitize_string`: control characters become `^X`.
fn sanitize(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for &c in name {
        if c < 0x20 || c == 0x7f {
            out.push(b'^');
            out.push(c.wrapping_add(0x40));
        } else {
            out.push(c);
        }
    }
    out
}

/// GNU symbol versioning of the dynamic symbols.
struct Versions<'a> {
    /// One big-endian u16 version index per dynamic symbol.
    versym: &'a [u8],
    /// Version definitions by index - 1: flags and name.
    defs: Vec<(u16, Option<&'a [u8]>)>,
    /// Version requirements: index and name.
    needs: Vec<(u16, &'a [u8])>,
}

impl<'a> Versions<'a> {
    /// BFD's version string (with "Base") and whether it is hidden (`@` rather than `@@`).
    fn of(&self, versym: u16) -> Option<(&'a [u8], bool)> {
        let hidden = versym & 0x8000 != 0;
        let index = usize::from(versym & 0x7fff);
        let is_base = |d: &(u16, _)| d.0 == elf::VER_FLG_BASE;
        match index {
            0 => None,
            1 if index > self.defs.len() || is_base(&self.defs[0]) => Some((b"Base", hidden)),
            i if i <= self.defs.len() => self.defs[i - 1].1.map(|name| (name, hidden)),
            i => Some(
                self.needs
                    .iter()
                    .find(|n| usize::from(n.0) == i)
                    .map_or((b"<corrupt>", hidden), |n| (n.1, true)),
            ),
        }
    }
}

/// A symbol objdump keeps for disassembly, with BFD's flags.
#[derive(Debug, Clone)]
struct Symbol<'a> {
    name: &'a [u8],
    value: u64,
    /// Index of its section; `None` for absolute symbols.
    section: Option<usize>,
    section_name: &'a [u8],
    size: u32,
    is_local: bool,
    is_global: bool,
    is_section: bool,
    is_debugging: bool,
    is_file: bool,
    is_function: bool,
    is_object: bool,
    /// GNU version (dynamic symbols only) and whether it is hidden.
    version: Option<(&'a [u8], bool)>,
}

impl Symbol<'_> {
    fn is_compiler_marker(&self) -> bool {
        contains(self.name, b"gnu_compiled") || contains(self.name, b"gcc2_compiled")
    }

    fn looks_like_file(&self) -> bool {
        let n = self.name;
        self.is_file
            || (n.len() > 2 && n[n.len() - 2] == b'.' && matches!(n[n.len() - 1], b'o' | b'a'))
    }

    /// Symbols marked as data (and not also code) are dumped as bytes.
    fn is_data(&self) -> bool {
        (self.is_object || self.is_compiler_marker()) && !self.is_function
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// objdump's `compare_symbols` while disassembling the section named `section`.
fn compare_symbols(a: &Symbol, b: &Symbol, section: &[u8]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    // `true` sorts first in each criterion.
    let first = |x: bool, y: bool| y.cmp(&x);
    a.value
        .cmp(&b.value)
        .then_with(|| first(a.section_name == section, b.section_name == section))
        .then_with(|| first(!a.is_compiler_marker(), !b.is_compiler_marker()))
        .then_with(|| first(!a.looks_like_file(), !b.looks_like_file()))
        .then_with(|| first(!a.is_debugging, !b.is_debugging))
        .then_with(|| first(!a.is_section, !b.is_section))
        .then_with(|| first(a.is_function, b.is_function))
        .then_with(|| first(a.is_object, b.is_object))
        .then_with(|| first(!a.is_local, !b.is_local))
        .then_with(|| first(a.is_global, b.is_global))
        .then_with(|| {
            let size = |s: &Symbol| if s.is_section { 0 } else { s.size };
            size(b).cmp(&size(a))
        })
        .then_with(
            || match (a.name.first() == Some(&b'.'), b.name.first() == Some(&b'.')) {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => Ordering::Equal,
            },
        )
        .then_with(|| a.name.cmp(b.name))
}

/// Symbol lookups while one section is disassembled; also prints branch targets.
struct SymbolPrinter<'s, 'a> {
    section: &'s Section<'a>,
    /// Sorted by [`compare_symbols`] for this section.
    symbols: &'s [Symbol<'a>],
    has_reloc: bool,
}

impl SymbolPrinter<'_, '_> {
    /// `sym_ok`: with `want_section`, only symbols of the current section qualify.
    fn ok(&self, want_section: bool, place: usize) -> bool {
        !want_section || self.symbols[place].section == Some(self.section.index)
    }

    /// objdump's `find_symbol_for_address`: the index of the symbol that names `vma`.
    fn find(&self, vma: u64, require_section: bool) -> Option<usize> {
        let syms = self.symbols;
        let count = syms.len();
        if count == 0 {
            return None;
        }
        let (mut min, mut max) = (0, count);
        while min + 1 < max {
            let this = (max + min) / 2;
            match syms[this].value.cmp(&vma) {
                std::cmp::Ordering::Greater => max = this,
                std::cmp::Ordering::Less => min = this,
                std::cmp::Ordering::Equal => {
                    min = this;
                    break;
                }
            }
        }
        let mut this = min;
        while this > 0 && syms[this].value == syms[this - 1].value {
            this -= 1;
        }
        // Among equal values prefer one in the current section.
        let mut next = this;
        while next < max && syms[next].value == syms[this].value {
            if self.ok(true, next) {
                return Some(next);
            }
            next += 1;
        }
        let s = self.section;
        let want_section = require_section
            || (self.has_reloc && vma >= s.addr && vma < s.addr + u64::from(s.size));
        if self.ok(want_section, this) {
            return Some(this);
        }
        let earlier = self.earliest_ok_of_nearest_value(next, want_section);
        let found = earlier.or_else(|| (this + 1..count).find(|&i| self.ok(want_section, i)));
        found.filter(|&i| self.ok(want_section, i))
    }

    /// Searching down from `end`, the first acceptable symbol of the nearest
    /// acceptable value.
    fn earliest_ok_of_nearest_value(&self, end: usize, want_section: bool) -> Option<usize> {
        let mut found: Option<usize> = None;
        for i in (0..end).rev().filter(|&i| self.ok(want_section, i)) {
            if found.is_some_and(|f| self.symbols[f].value != self.symbols[i].value) {
                break;
            }
            found = Some(i);
        }
        found
    }

    /// `objdump_print_addr_with_sym`: `ADDR <sym+0xoff>` (or relative to the section).
    fn print_with_symbol(
        &self,
        vma: u64,
        sym: Option<usize>,
        skip_zeroes: bool,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(hex_value(vma, skip_zeroes).as_bytes());
        out.extend_from_slice(b" <");
        let (name, base, version) = match sym {
            Some(i) => (
                self.symbols[i].name,
                self.symbols[i].value,
                self.symbols[i].version,
            ),
            None => (self.section.name, self.section.addr, None),
        };
        out.extend(sanitize(name));
        if let Some((version, hidden)) = version.filter(|v| !v.0.is_empty()) {
            out.extend_from_slice(if hidden { b"@" } else { b"@@" });
            out.extend_from_slice(version);
        }
        if base > vma {
            out.extend_from_slice(format!("-0x{}", hex_value(base - vma, true)).as_bytes());
        } else if vma > base {
            out.extend_from_slice(format!("+0x{}", hex_value(vma - base, true)).as_bytes());
        }
        out.push(b'>');
    }
}

impl AddressPrinter for SymbolPrinter<'_, '_> {
    fn print_address(&self, addr: u32, out: &mut String) {
        let vma = u64::from(addr);
        if self.symbols.is_empty() {
            out.push_str("0x");
            out.push_str(&hex_value(vma, true));
            return;
        }
        let mut text = Vec::new();
        self.print_with_symbol(vma, self.find(vma, false), true, &mut text);
        out.push_str(&String::from_utf8_lossy(&text));
    }
}

/// `objdump_print_value`: eight hex digits, or without leading zeroes.
fn hex_value(vma: u64, skip_zeroes: bool) -> String {
    let vma = vma & 0xffff_ffff;
    if skip_zeroes {
        format!("{vma:x}")
    } else {
        format!("{vma:08x}")
    }
}

/// Objdump skips runs of at least this many zero bytes ...
const SKIP_ZEROES: usize = 8;
/// ... and fewer than this many at the end of a symbol's bytes.
const SKIP_ZEROES_AT_END: usize = 3;

/// Disassembles one section: a heading, then a label and lines per symbol region.
struct SectionLister<'s, 'a> {
    section: &'s Section<'a>,
    data: &'a [u8],
    symbols: &'s [Symbol<'a>],
    has_reloc: bool,
}

impl SectionLister<'_, '_> {
    fn write(&self, out: &mut dyn Write) -> Result<(), ListingError> {
        let printer = SymbolPrinter {
            section: self.section,
            symbols: self.symbols,
            has_reloc: self.has_reloc,
        };
        let mut text = b"\nDisassembly of section ".to_vec();
        text.extend(sanitize(self.section.name));
        text.extend_from_slice(b":\n");
        out.write_all(&text)?;
        let vma = self.section.addr;
        let stop = self.data.len();
        let mut place = 0;
        let mut sym = printer.find(vma, true).inspect(|&p| place = p);
        let mut offset = 0;
        while offset < stop {
            let addr = vma + offset as u64;
            let mut text = vec![b'\n'];
            printer.print_with_symbol(addr, sym, false, &mut text);
            text.extend_from_slice(b":\n");
            let next = self.next_symbol(sym, addr, &mut place);
            let next_stop = match (sym, next) {
                (Some(s), _) if self.symbols[s].value > addr => {
                    self.symbols[s].value.wrapping_sub(vma)
                }
                (_, Some(n)) => self.symbols[n].value.wrapping_sub(vma),
                _ => stop as u64,
            };
            let next_stop = if next_stop > stop as u64 || next_stop <= offset as u64 {
                stop
            } else {
                next_stop as usize
            };
            let insns = sym.map_or(true, |s| {
                let s = &self.symbols[s];
                s.section != Some(self.section.index) || s.value > addr || !s.is_data()
            });
            self.write_bytes(&printer, insns, offset, next_stop, &mut text);
            out.write_all(&text)?;
            offset = next_stop;
            sym = next;
        }
        Ok(())
    }

    /// The symbol that starts the region after the one `sym` labels at `addr`.
    fn next_symbol(&self, sym: Option<usize>, addr: u64, place: &mut usize) -> Option<usize> {
        let current = &self.symbols[sym?];
        if current.value > addr {
            return sym;
        }
        let valid = |s: &Symbol| s.section_name == self.section.name && s.value > current.value;
        while *place < self.symbols.len() && !valid(&self.symbols[*place]) {
            *place += 1;
        }
        (*place < self.symbols.len()).then_some(*place)
    }

    /// How many characters of an eight-digit address objdump drops in this section.
    fn skip_address_chars(&self) -> usize {
        let end = format!(
            "{:08x}",
            (self.section.addr + u64::from(self.section.size)) & 0xffff_ffff
        );
        let zeroes = end.bytes().take_while(|&b| b == b'0').count();
        if zeroes == end.len() && self.section.addr != 0 || zeroes == 0 {
            0
        } else {
            (zeroes - 1) & !3
        }
    }

    /// `disassemble_bytes` for the section offsets `start..stop`.
    fn write_bytes(
        &self,
        printer: &SymbolPrinter,
        insns: bool,
        start: usize,
        stop: usize,
        out: &mut Vec<u8>,
    ) {
        let skip_chars = self.skip_address_chars();
        let mut offset = start;
        while offset < stop {
            let zeroes = self.data[offset..stop]
                .iter()
                .take_while(|&&b| b == 0)
                .count();
            let at_end = offset + zeroes == stop;
            if zeroes >= SKIP_ZEROES || (at_end && zeroes < SKIP_ZEROES_AT_END) {
                out.extend_from_slice(b"\t...\n");
                offset += if at_end { zeroes } else { zeroes & !3 };
                continue;
            }
            let addr = self.section.addr + offset as u64;
            out.extend_from_slice(padded_address(addr, skip_chars).as_bytes());
            out.extend_from_slice(b":\t");
            if !insns {
                self.write_data_line(offset, stop, out);
                offset = stop.min(offset + 16);
                continue;
            }
            let Some(word) = self
                .data
                .get(offset..offset + 4)
                .filter(|_| offset + 4 <= stop)
            else {
                out.extend_from_slice(
                    format!("Address 0x{addr:x} is out of bounds.\n\n").as_bytes(),
                );
                return;
            };
            let mut text = String::new();
            disassemble_word(be32(word), addr as u32, printer, &mut text);
            for b in word {
                out.extend_from_slice(format!("{b:02x} ").as_bytes());
            }
            out.push(b'\t');
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
            offset += 4;
        }
    }

    /// Up to 16 bytes of an object in a code section, in hex and as characters.
    fn write_data_line(&self, offset: usize, stop: usize, out: &mut Vec<u8>) {
        let bytes = &self.data[offset..stop.min(offset + 16)];
        for b in bytes {
            out.extend_from_slice(format!("{b:02x} ").as_bytes());
        }
        out.extend(std::iter::repeat(b' ').take(3 * (16 - bytes.len())));
        out.extend_from_slice(b"    ");
        out.extend(
            bytes
                .iter()
                .map(|&b| if (0x20..0x7f).contains(&b) { b } else { b'.' }),
        );
        out.push(b'\n');
    }
}

/// An instruction line's address: eight digits minus `skip` leading
/// characters, remaining leading zeroes as spaces.
fn padded_address(addr: u64, skip: usize) -> String {
    let full = format!("{:08x}", addr & 0xffff_ffff);
    let digits = &full[skip..];
    let zeroes = digits
        .bytes()
        .take_while(|&b| b == b'0')
        .count()
        .min(digits.len() - 1);
    format!("{}{}", " ".repeat(zeroes), &digits[zeroes..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    fn listing(bytes: &[u8]) -> Result<String, ListingError> {
        let mut out = Vec::new();
        write_listing("x", bytes, &mut out)?;
        Ok(String::from_utf8(out).expect("listing is UTF-8"))
    }

    /// A static big-endian PA-RISC executable with one code section and a symbol table.
    struct ElfBuilder {
        sections: Vec<(&'static str, u32, u32, u32, Vec<u8>, u32)>, // name, type, flags, addr, data, link
        symbols: Vec<(&'static str, u32, u32, u8, u16)>, // name, value, size, info, shndx
        os_abi: u8,
    }

    impl ElfBuilder {
        fn new(code: Vec<u8>) -> Self {
            let text = (
                ".text",
                elf::SHT_PROGBITS,
                elf::SHF_ALLOC | elf::SHF_EXECINSTR,
                0x10000,
                code,
                0,
            );
            ElfBuilder {
                sections: vec![text],
                symbols: Vec::new(),
                os_abi: elf::ELFOSABI_GNU,
            }
        }

        fn symbol(
            mut self,
            name: &'static str,
            value: u32,
            size: u32,
            info: u8,
            shndx: u16,
        ) -> Self {
            self.symbols.push((name, value, size, info, shndx));
            self
        }

        fn func(self, name: &'static str, value: u32) -> Self {
            self.symbol(name, value, 0, (elf::STB_GLOBAL << 4) | elf::STT_FUNC, 1)
        }

        /// Sections: 0 null, 1.. user sections, then .symtab, .strtab, .shstrtab.
        fn build(&self) -> Vec<u8> {
            let mut strtab = vec![0u8];
            let mut symtab = vec![0u8; 16];
            for (name, value, size, info, shndx) in &self.symbols {
                symtab.extend((strtab.len() as u32).to_be_bytes());
                strtab.extend(name.bytes().chain([0]));
                symtab.extend(value.to_be_bytes());
                symtab.extend(size.to_be_bytes());
                symtab.extend([*info, 0]);
                symtab.extend(shndx.to_be_bytes());
            }
            let n = self.sections.len() as u32;
            let mut all = self.sections.clone();
            all.push((".symtab", elf::SHT_SYMTAB, 0, 0, symtab, n + 2));
            all.push((".strtab", elf::SHT_STRTAB, 0, 0, strtab, 0));
            let mut shstrtab = vec![0u8];
            let mut names = Vec::new();
            for (name, ..) in all.iter().chain([&(".shstrtab", 0, 0, 0, vec![], 0)]) {
                names.push(shstrtab.len() as u32);
                shstrtab.extend(name.bytes().chain([0]));
            }
            all.push((".shstrtab", elf::SHT_STRTAB, 0, 0, shstrtab, 0));
            let mut file = vec![0u8; 52];
            let mut headers = vec![0u8; 40];
            for (i, (_, kind, flags, addr, data, link)) in all.iter().enumerate() {
                let fields = [
                    names[i],
                    *kind,
                    *flags,
                    *addr,
                    file.len() as u32,
                    data.len() as u32,
                    *link,
                    0,
                    4,
                    0,
                ];
                headers.extend(fields.iter().flat_map(|f| f.to_be_bytes()));
                file.extend(data);
            }
            let shoff = file.len() as u32;
            file.extend(headers);
            file[..4].copy_from_slice(&elf::ELFMAG);
            file[4..8].copy_from_slice(&[
                elf::ELFCLASS32,
                elf::ELFDATA2MSB,
                elf::EV_CURRENT,
                self.os_abi,
            ]);
            file[16..18].copy_from_slice(&elf::ET_EXEC.to_be_bytes());
            file[18..20].copy_from_slice(&elf::EM_PARISC.to_be_bytes());
            file[32..36].copy_from_slice(&shoff.to_be_bytes());
            file[46..48].copy_from_slice(&40u16.to_be_bytes());
            file[48..50].copy_from_slice(&(all.len() as u16 + 1).to_be_bytes());
            file[50..52].copy_from_slice(&(all.len() as u16).to_be_bytes());
            file
        }
    }

    fn word_line(addr: u32, word: u32) -> String {
        let mut text = String::new();
        disassemble_word(word, addr, &NoSymbols, &mut text);
        let b = word.to_be_bytes();
        format!(
            "{addr:>8x}:\t{:02x} {:02x} {:02x} {:02x} \t{text}\n",
            b[0], b[1], b[2], b[3]
        )
    }

    struct NoSymbols;
    impl AddressPrinter for NoSymbols {
        fn print_address(&self, addr: u32, out: &mut String) {
            out.push_str(&format!("{addr:x}"));
        }
    }

    fn words(ws: &[u32]) -> Vec<u8> {
        ws.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn header_sections_labels_and_zero_runs() {
        let code = words(&[
            0x6bc23fd9, 0, 0, 0, 0x08000240, 0xe840c000, 0, 0x08000240, 0, 0, 0,
        ]);
        let elf = ElfBuilder::new(code)
            .func("_start", 0x10000)
            .func("tail", 0x10018)
            .build();
        let expected = format!(
            "\nx:     file format elf32-hppa-linux\n\n\nDisassembly of section .text:\n\n\
             00010000 <_start>:\n{}\t...\n{}{}\n00010018 <tail>:\n{}{}\t...\n",
            word_line(0x10000, 0x6bc23fd9),
            word_line(0x10010, 0x08000240),
            word_line(0x10014, 0xe840c000),
            word_line(0x10018, 0),
            word_line(0x1001c, 0x08000240),
        );
        assert_eq!(listing(&elf).unwrap(), expected);
    }

    #[test]
    fn label_choice_prefers_functions_then_globals() {
        let local_obj = (elf::STB_LOCAL << 4) | elf::STT_NOTYPE;
        let elf = ElfBuilder::new(words(&[0x08000240]))
            .symbol("$local", 0x10000, 0, local_obj, 1)
            .symbol("crt.o", 0x10000, 0, local_obj, 1)
            .symbol(".text", 0x10000, 0, elf::STT_SECTION, 1)
            .func("main", 0x10000)
            .build();
        assert!(listing(&elf).unwrap().contains("\n00010000 <main>:\n"));
    }

    #[test]
    fn no_symbols_labels_with_the_section_and_prints_bare_addresses() {
        let elf = ElfBuilder::new(words(&[0x08000240, 0x08000240, 0x08000240])).build();
        let text = listing(&elf).unwrap();
        assert!(text.contains("\n00010000 <.text>:\n"), "{text}");
        let image = Image::parse(&elf).unwrap();
        let printer = SymbolPrinter {
            section: &image.sections[1],
            symbols: &[],
            has_reloc: false,
        };
        let mut out = String::new();
        printer.print_address(0x10008, &mut out);
        assert_eq!(out, "0x10008");
    }

    #[test]
    fn branch_targets_name_the_nearest_preceding_symbol() {
        let elf = ElfBuilder::new(words(&[0x08000240; 8]))
            .func("a", 0x10000)
            .func("b", 0x10010)
            .symbol("abs", 0x10008, 0, elf::STB_GLOBAL << 4, elf::SHN_ABS)
            .build();
        let image = Image::parse(&elf).unwrap();
        let mut symbols = image.useful_symbols().unwrap();
        symbols.sort_by(|a, b| compare_symbols(a, b, b".text"));
        let printer = SymbolPrinter {
            section: &image.sections[1],
            symbols: &symbols,
            has_reloc: false,
        };
        let print = |addr| {
            let mut out = String::new();
            printer.print_address(addr, &mut out);
            out
        };
        assert_eq!(print(0x10000), "10000 <a>");
        assert_eq!(print(0x1000c), "1000c <abs+0x4>");
        assert_eq!(print(0x10008), "10008 <abs>");
        assert_eq!(print(0x10014), "10014 <b+0x4>");
        assert_eq!(print(0xfff0), "fff0 <a-0x10>");
    }

    #[test]
    fn object_symbols_in_code_are_dumped_as_bytes() {
        let elf = ElfBuilder::new(b"Hello, world!\n\0\0\x08\x00\x02\x40".to_vec())
            .symbol(
                "msg",
                0x10000,
                16,
                (elf::STB_LOCAL << 4) | elf::STT_OBJECT,
                1,
            )
            .func("f", 0x10010)
            .build();
        let text = listing(&elf).unwrap();
        let expected = "\n00010000 <msg>:\n   10000:\t48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 0a 00 00     Hello, world!...\n";
        assert!(text.contains(expected), "{text}");
    }

    #[test]
    fn trailing_partial_word_is_out_of_bounds() {
        let elf = ElfBuilder::new(vec![0x08, 0, 2, 0x40, 1, 2, 3])
            .func("f", 0x10000)
            .build();
        let text = listing(&elf).unwrap();
        assert!(
            text.ends_with("   10004:\tAddress 0x10004 is out of bounds.\n\n"),
            "{text}"
        );
    }

    #[test]
    fn format_name_follows_os_abi() {
        let mut b = ElfBuilder::new(words(&[0x08000240]));
        b.os_abi = elf::ELFOSABI_HPUX;
        assert!(listing(&b.build())
            .unwrap()
            .starts_with("\nx:     file format elf32-hppa\n\n"));
    }

    #[test]
    fn rejects_non_parisc_and_truncated_files() {
        assert!(matches!(listing(b"hello"), Err(ListingError::NotElf)));
        let elf = ElfBuilder::new(words(&[0x08000240])).build();
        let mut wrong = elf.clone();
        wrong[19] = 3;
        assert!(matches!(
            listing(&wrong),
            Err(ListingError::NotParisc { machine: 3, .. })
        ));
        let truncated = &elf[..elf.len() - 10];
        let err = listing(truncated).unwrap_err();
        assert!(matches!(err, ListingError::SectionTable { .. }), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    fn guest_binaries() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests");
        let mut files = Vec::new();
        for dir in ["prebuilt", "build"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if std::fs::read(&path).is_ok_and(|b| b.starts_with(&elf::ELFMAG)) {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// Is `line` an instruction line (`   10118:\t6b c2 3f d9 \t...`)? Returns its text up to the instruction.
    fn instruction_prefix(line: &str) -> Option<&str> {
        let (addr, rest) = line.split_once(":\t")?;
        let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        let bytes = rest.get(..12)?;
        let ok = is_hex(addr.trim_start())
            && bytes.split(' ').take(4).all(|b| b.len() == 2 && is_hex(b))
            && rest.get(12..13) == Some("\t");
        ok.then(|| &line[..addr.len() + 2 + 13])
    }

    /// Compares the listing with objdump's, instruction text masked; returns the non-instruction lines compared.
    fn compare_with_objdump(path: &Path, objdump: &str) -> usize {
        let ours = listing(&std::fs::read(path).unwrap()).unwrap();
        let theirs = objdump.replace(&format!("\n{}:", path.display()), "\nx:");
        let (ours, theirs): (Vec<&str>, Vec<&str>) =
            (ours.lines().collect(), theirs.lines().collect());
        let mut other_lines = 0;
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            match (instruction_prefix(a), instruction_prefix(b)) {
                (Some(pa), Some(pb)) => assert_eq!(pa, pb, "{}:{}", path.display(), i + 1),
                _ => {
                    assert_eq!(a, b, "{}:{}", path.display(), i + 1);
                    other_lines += 1;
                }
            }
        }
        assert_eq!(ours.len(), theirs.len(), "{}", path.display());
        other_lines
    }

    /// Checks every `ADDR <sym+off>` objdump prints in an instruction against our printer.
    fn compare_annotations(path: &Path, objdump: &str) -> usize {
        let bytes = std::fs::read(path).unwrap();
        let image = Image::parse(&bytes).unwrap();
        let mut symbols = image.useful_symbols().unwrap();
        let mut section = None;
        let mut checked = 0;
        for line in objdump.lines() {
            if let Some(name) = line
                .strip_prefix("Disassembly of section ")
                .and_then(|l| l.strip_suffix(':'))
            {
                let s = image
                    .sections
                    .iter()
                    .find(|s| s.name == name.as_bytes())
                    .unwrap();
                symbols.sort_by(|a, b| compare_symbols(a, b, s.name));
                section = Some(s);
                continue;
            }
            let (Some(s), Some(prefix)) = (section, instruction_prefix(line)) else {
                continue;
            };
            let insn = &line[prefix.len()..];
            let Some(open) = insn.rfind(" <") else {
                continue;
            };
            let close = open + insn[open..].find('>').unwrap();
            let start = insn[..open]
                .rfind(|c: char| !c.is_ascii_hexdigit())
                .map_or(0, |i| i + 1);
            let addr = u32::from_str_radix(&insn[start..open], 16).unwrap();
            let printer = SymbolPrinter {
                section: s,
                symbols: &symbols,
                has_reloc: image.has_reloc,
            };
            let mut ours = String::new();
            printer.print_address(addr, &mut ours);
            assert_eq!(ours, insn[start..=close], "{}: {line}", path.display());
            checked += 1;
        }
        checked
    }

    /// Needs `hppa-linux-gnu-objdump`; skipped without it.
    #[test]
    fn matches_objdump_on_guest_binaries() {
        for path in guest_binaries() {
            let run = std::process::Command::new("hppa-linux-gnu-objdump")
                .arg("-d")
                .arg(&path)
                .output();
            let Some(run) = run.ok().filter(|r| r.status.success()) else {
                return;
            };
            let objdump = String::from_utf8_lossy(&run.stdout);
            let lines = compare_with_objdump(&path, &objdump);
            let annotations = compare_annotations(&path, &objdump);
            eprintln!(
                "{}: {lines} non-instruction lines, {annotations} branch annotations agree",
                path.display()
            );
        }
    }

    fn sample_elf() -> Vec<u8> {
        let smallest = guest_binaries()
            .into_iter()
            .min_by_key(|p| std::fs::metadata(p).map_or(u64::MAX, |m| m.len()));
        smallest
            .and_then(|p| std::fs::read(p).ok())
            .unwrap_or_else(|| {
                ElfBuilder::new(words(&[0x6bc23fd9, 0, 0, 0x08000240]))
                    .func("a", 0x10000)
                    .func("b", 0x1000c)
                    .build()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = listing_bytes(&bytes);
            let mut elf = b"\x7fELF\x01\x02\x01\x03".to_vec();
            elf.extend(&bytes);
            if elf.len() > 19 { elf[18] = 0; elf[19] = 15; }
            let _ = listing_bytes(&elf);
        }

        #[test]
        fn never_panics_on_mutated_elf(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16),
                                       cut in any::<usize>()) {
            let mut elf = sample_elf();
            for (at, byte) in edits {
                let n = elf.len();
                elf[at % n] = byte;
            }
            let keep = elf.len() - cut % (elf.len() / 8 + 1);
            let _ = listing_bytes(&elf[..keep]);
        }
    }

    fn listing_bytes(bytes: &[u8]) -> Result<Vec<u8>, ListingError> {
        let mut out = Vec::new();
        write_listing("fuzz", bytes, &mut out)?;
        Ok(out)
    }
}
