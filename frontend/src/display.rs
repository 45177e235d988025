//! objdump-compatible instruction text.
//!
//! [`disassemble_word`] reproduces `hppa-linux-gnu-objdump -d` (binutils
//! 2.40, a BFD64 build that also knows the PA 2.0 forms): the mnemonic and
//! completer spellings it picks for each encoding, its register names, hex
//! immediates without `0x`, and `#%8x` for words it cannot decode.

use std::fmt::Write;

use crate::decode::decode;
use crate::insn::*;

/// Prints a branch target the way objdump does: `hex <symbol+0xoff>`.
pub trait AddressPrinter {
    fn print_address(&self, addr: u32, out: &mut String);
}

/// Appends objdump's text for `word` at `pc` (mnemonic and operands, no
/// newline): exactly what `hppa-linux-gnu-objdump -d` prints after the tab
/// that follows the 4 raw bytes.
pub fn disassemble_word(word: u32, pc: u32, addrs: &dyn AddressPrinter, out: &mut String) {
    match decode(word) {
        Ok(insn) => Printer { out, pc, addrs, word }.insn(&insn),
        Err(_) => {
            let _ = write!(out, "#{word:8x}");
        }
    }
}

const GR_NAMES: [&str; 32] = [
    "r0", "r1", "rp", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "r16",
    "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "dp", "ret0", "ret1", "sp", "r31",
];

const CR_NAMES: [&str; 32] = [
    "rctr", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7", "pidr1", "pidr2", "ccr", "sar", "pidr3", "pidr4", "iva",
    "eiem", "itmr", "pcsq", "pcoq", "iir", "isr", "ior", "ipsw", "eirr", "tr0", "tr1", "tr2", "tr3", "tr4", "tr5",
    "tr6", "tr7",
];

// Condition spellings, indexed by c + 8·negate. objdump prints "(null)" for
// the undefined logical conditions (a NULL table entry passed to printf).
const CMP_COND: [&str; 16] =
    ["", ",=", ",<", ",<=", ",<<", ",<<=", ",sv", ",od", ",tr", ",<>", ",>=", ",>", ",>>=", ",>>", ",nsv", ",ev"];
const ADD_COND: [&str; 16] =
    ["", ",=", ",<", ",<=", ",nuv", ",znv", ",sv", ",od", ",tr", ",<>", ",>=", ",>", ",uv", ",vnz", ",nsv", ",ev"];
/// addb/addib conditions as PA 2.0 reads them (c = 5..7 are doubleword compares).
const ADDB_COND: [&str; 16] =
    ["", ",=", ",<", ",<=", ",nuv", ",*=", ",*<", ",*<=", ",tr", ",<>", ",>=", ",>", ",uv", ",*<>", ",*>=", ",*>"];
const LOGIC_COND: [&str; 16] = [
    "", ",=", ",<", ",<=", "(null)", "(null)", "(null)", ",od", ",tr", ",<>", ",>=", ",>", "(null)", "(null)",
    "(null)", ",ev",
];
const UNIT_COND: [&str; 16] = [
    "", ",swz", ",sbz", ",shz", ",sdc", ",swc", ",sbc", ",shc", ",tr", ",nwz", ",nbz", ",nhz", ",ndc", ",nwc", ",nbc",
    ",nhc",
];
const SHIFT_COND: [&str; 8] = ["", ",=", ",<", ",od", ",tr", ",<>", ",>=", ",ev"];
const FLOAT_FMT: [&str; 4] = [",sgl", ",dbl", "", ",quad"];
const FIXED_FMT: [&str; 4] = [",w", ",dw", "", ",qw"];
const UFIXED_FMT: [&str; 4] = [",uw", ",udw", "", ",uqw"];
const FCMP_COND: [&str; 32] = [
    ",false?", ",false", ",?", ",!<=>", ",=", ",=t", ",?=", ",!<>", ",!?>=", ",<", ",?<", ",!>=", ",!?>", ",<=",
    ",?<=", ",!>", ",!?<=", ",>", ",?>", ",!<=", ",!?<", ",>=", ",?>=", ",!<", ",!?=", ",<>", ",!=", ",!=t", ",!?",
    ",<=>", ",true?", ",true",
];

struct Printer<'a> {
    out: &'a mut String,
    pc: u32,
    addrs: &'a dyn AddressPrinter,
    /// The word being printed, for objdump's reading of ldwm/stwm.
    word: u32,
}

fn fmt_index(f: FpFmt) -> usize {
    match f {
        FpFmt::Sgl => 0,
        FpFmt::Dbl => 1,
        FpFmt::Reserved => 2,
        FpFmt::Quad => 3,
    }
}

fn cond_index(c: Cond) -> usize {
    (c.c & 7) as usize + if c.negate { 8 } else { 0 }
}

/// A condition's text; doubleword conditions add `*` after the comma.
fn cond_text(table: &[&str; 16], c: Cond) -> String {
    let s = table[cond_index(c)];
    if !c.dw || s.starts_with('(') {
        s.to_string()
    } else if s.is_empty() {
        ",*".to_string()
    } else {
        format!(",*{}", &s[1..])
    }
}

fn modify_text(m: Modify) -> &'static str {
    match m {
        Modify::None => " ",
        Modify::After => ",ma ",
        Modify::Before => ",mb ",
    }
}

impl Printer<'_> {
    /// objdump prints ldwm/stwm (majors 0x13/0x1b) as `,mb` when manual bit
    /// 18 (the top magnitude bit of the displacement) is set and `,ma`
    /// otherwise. Within ±4 KiB that is the hardware's rule (the sign, see
    /// decode.rs); for larger frames it is not, and only the text follows it.
    fn objdump_long_modify(&self, modify: Modify) -> Modify {
        match self.word >> 26 {
            0x13 | 0x1b if self.word & 1 << 13 != 0 => Modify::Before,
            0x13 | 0x1b => Modify::After,
            _ => modify,
        }
    }

    fn s(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn gr(&mut self, r: Gr) {
        self.out.push_str(GR_NAMES[(r.0 & 31) as usize]);
    }
    fn fr(&mut self, f: Fr) {
        let n = f.reg & 31;
        let _ = match (f.right, n) {
            (true, 0..=3) => write!(self.out, "fpe{}", n * 2 + 1),
            (true, _) => write!(self.out, "fr{n}R"),
            (false, 1..=3) => write!(self.out, "fpe{}", n * 2),
            (false, _) => write!(self.out, "fr{n}"),
        };
    }
    fn hex(&mut self, v: i32) {
        let _ = if v < 0 { write!(self.out, "-{:x}", (v as u32).wrapping_neg()) } else { write!(self.out, "{v:x}") };
    }
    fn dec(&mut self, v: u32) {
        let _ = write!(self.out, "{v}");
    }
    fn target(&mut self, disp: i32) {
        self.addrs.print_address(self.pc.wrapping_add(8).wrapping_add(disp as u32), self.out);
    }
    fn nullify(&mut self, n: bool) {
        self.s(if n { ",n " } else { " " });
    }
    /// `(b)` or `(srN,b)`.
    fn base(&mut self, space: Space, base: Gr) {
        self.s("(");
        if let Space::Sr(sr) = space {
            let _ = write!(self.out, "sr{},", sr.0);
        }
        self.gr(base);
        self.s(")");
    }
    fn src(&mut self, src: DepSource) {
        match src {
            DepSource::Reg(r) => self.gr(r),
            DepSource::Imm(i) => self.hex(i as i32),
        }
    }
    fn amount(&mut self, a: ShiftAmount) {
        match a {
            ShiftAmount::Sar => self.s("sar"),
            ShiftAmount::Fixed(p) => self.dec(p as u32),
        }
    }
    fn shift_cond(&mut self, c: u8, dw: bool) {
        let s = SHIFT_COND[(c & 7) as usize];
        let s = cond_text(&[s, "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""], Cond { c: 0, negate: false, dw });
        self.s(&s);
    }
    fn hint(&mut self, h: Hint, and_clear: bool) {
        self.s(match (h, and_clear) {
            (Hint::Bc, true) => ",co ",
            (Hint::Bc, false) => ",bc ",
            (Hint::Sl, false) => ",sl ",
            _ => " ",
        });
    }
    /// Completers and address of a load/store; `ordered` allows the PA 2.0 `,o` spelling.
    fn mem_completers(&mut self, addr: Addr, hint: Hint, and_clear: bool, ordered: bool) {
        match addr {
            Addr::Index { scale, modify, .. } => {
                self.s(match (scale, modify) {
                    (false, false) => "",
                    (false, true) => ",m",
                    (true, false) => ",s",
                    (true, true) => ",sm",
                });
                self.hint(hint, and_clear);
            }
            Addr::Disp { disp: 0, modify: Modify::After, form: DispForm::Short, .. } if ordered => {
                self.s(",o");
                self.hint(hint, and_clear);
            }
            Addr::Disp { modify, form: DispForm::Short, .. } => {
                self.s(match modify {
                    Modify::None => "",
                    Modify::After => ",ma",
                    Modify::Before => ",mb",
                });
                self.hint(hint, and_clear);
            }
            Addr::Disp { modify, form: DispForm::Long, .. } => {
                let shown = self.objdump_long_modify(modify);
                self.s(modify_text(shown))
            }
        }
    }
    fn mem_addr(&mut self, addr: Addr) {
        match addr {
            Addr::Index { index, base, space, .. } => {
                self.gr(index);
                self.base(space, base);
            }
            Addr::Disp { disp, base, space, form: DispForm::Short, .. } => {
                self.hex(disp);
                self.base(space, base);
            }
            Addr::Disp { disp, base, space, form: DispForm::Long, .. } => {
                // objdump reads every long form as PA 2.0 wide: the s bits
                // become displacement bits 13..14 and no space is printed.
                let s = match space {
                    Space::Implicit => 0,
                    Space::Sr(sr) => sr.0 as i32,
                };
                self.hex(disp ^ ((s >> 1) << 14 | (s & 1) << 13));
                self.base(Space::Implicit, base);
            }
        }
    }

    fn insn(&mut self, insn: &Insn) {
        match *insn {
            Insn::Break { im5, im13 } => {
                self.s("break ");
                self.hex(im5 as i32);
                self.s(",");
                self.hex(im13 as i32);
            }
            Insn::Sync { dma } => self.s(if dma { "syncdma" } else { "sync" }),
            Insn::Rfi { ext } => self.s(if ext == 5 { "rfi,r" } else { "rfi" }),
            Insn::SysMask { set, imm, t } => {
                self.s(if set { "ssm " } else { "rsm " });
                self.hex(imm as i32);
                self.s(",");
                self.gr(t);
            }
            Insn::Mtsm { r } => {
                self.s("mtsm ");
                self.gr(r);
            }
            Insn::Ldsid { space, base, t } => {
                self.s("ldsid ");
                self.base(space, base);
                self.s(",");
                self.gr(t);
            }
            Insn::Mtsp { r, sr } => {
                self.s("mtsp ");
                self.gr(r);
                let _ = write!(self.out, ",sr{}", sr.0);
            }
            Insn::Mtctl { r, cr } => {
                if cr.0 == 11 {
                    self.s("mtsar ");
                    self.gr(r);
                } else {
                    self.s("mtctl ");
                    self.gr(r);
                    self.s(",");
                    self.s(CR_NAMES[(cr.0 & 31) as usize]);
                }
            }
            Insn::Mtsarcm { r } => {
                self.s("mtsarcm ");
                self.gr(r);
            }
            Insn::Mfia { t } => {
                self.s("mfia ");
                self.gr(t);
            }
            Insn::Mfsp { sr, t } => {
                let _ = write!(self.out, "mfsp sr{},", sr.0);
                self.gr(t);
            }
            Insn::Mfctl { cr, t, wide } => {
                self.s(if wide { "mfctl,w " } else { "mfctl " });
                self.s(CR_NAMES[(cr.0 & 31) as usize]);
                self.s(",");
                self.gr(t);
            }
            Insn::Probe { write, imm, level, space, base, t } => {
                self.s(if imm { "probei" } else { "probe" });
                self.s(if write { ",w " } else { ",r " });
                self.base(space, base);
                self.s(",");
                if imm {
                    self.hex(level as i32);
                } else {
                    self.gr(Gr(level));
                }
                self.s(",");
                self.gr(t);
            }
            Insn::LoadTranslation { coherence, index, space, base, modify, t } => {
                self.s(match (coherence, modify) {
                    (true, _) => "lci ",
                    (false, true) => "lpa,m ",
                    (false, false) => "lpa ",
                });
                self.gr(index);
                self.base(space, base);
                self.s(",");
                self.gr(t);
            }
            Insn::Cache { op, index, space, base, modify, local } => {
                self.s(match op {
                    CacheOp::Pdtlb => "pdtlb",
                    CacheOp::Pitlb => "pitlb",
                    CacheOp::Pdtlbe => "pdtlbe",
                    CacheOp::Pitlbe => "pitlbe",
                    CacheOp::Pdc => "pdc",
                    CacheOp::Fdc => "fdc",
                    CacheOp::Fic => "fic",
                    CacheOp::Fdce => "fdce",
                    CacheOp::Fice => "fice",
                    CacheOp::Gfw => "gfw",
                    CacheOp::Gfr => "gfr",
                });
                if local {
                    self.s(",l");
                }
                self.s(if modify { ",m " } else { " " });
                self.gr(index);
                self.base(space, base);
            }
            Insn::FdcImm { disp, space, base } => {
                self.s("fdc ");
                self.hex(disp as i32);
                self.base(space, base);
            }
            Insn::TlbInsert { op, r, space, base } => {
                self.s(match op {
                    TlbInsertOp::Idtlba => "idtlba ",
                    TlbInsertOp::Iitlba => "iitlba ",
                    TlbInsertOp::Idtlbp => "idtlbp ",
                    TlbInsertOp::Iitlbp => "iitlbp ",
                });
                self.gr(r);
                self.s(",");
                self.base(space, base);
            }
            Insn::TlbInsertT { data, r1, r2 } => {
                self.s(if data { "idtlbt " } else { "iitlbt " });
                self.gr(r1);
                self.s(",");
                self.gr(r2);
            }
            Insn::Diag { imm } => {
                self.s("diag ");
                self.hex(imm as i32);
            }
            Insn::Alu { op, cond, r1, r2, t } => self.alu(op, cond, r1, r2, t),
            Insn::Half { op, r1, r2, t } => {
                // Saturation 2 is undefined; objdump prints its NULL table entry.
                let sat = |s: u8| [",us", ",ss", "(null)", ""][(s & 3) as usize];
                match op {
                    HalfOp::Hadd { sat: s } => {
                        self.s("hadd");
                        self.s(sat(s));
                    }
                    HalfOp::Hsub { sat: s } => {
                        self.s("hsub");
                        self.s(sat(s));
                    }
                    HalfOp::Hshladd { .. } => self.s("hshladd"),
                    HalfOp::Hshradd { .. } => self.s("hshradd"),
                }
                self.s(" ");
                self.gr(r1);
                self.s(",");
                if let HalfOp::Hshladd { sa } | HalfOp::Hshradd { sa } = op {
                    self.dec(sa as u32);
                    self.s(",");
                }
                self.gr(r2);
                self.s(",");
                self.gr(t);
            }
            Insn::AluImm { op, cond, imm, r, t } => {
                let c = match op {
                    AluImmOp::Addi { trap_overflow, trap_cond } => {
                        self.s("addi");
                        if trap_cond {
                            self.s(",tc");
                        }
                        if trap_overflow {
                            self.s(",tsv");
                        }
                        cond_text(&ADD_COND, cond)
                    }
                    AluImmOp::Subi { trap_overflow } => {
                        self.s(if trap_overflow { "subi,tsv" } else { "subi" });
                        cond_text(&CMP_COND, cond)
                    }
                    AluImmOp::Cmpiclr => {
                        self.s("cmpiclr");
                        cond_text(&CMP_COND, cond)
                    }
                };
                self.s(&c);
                self.s(" ");
                self.hex(imm);
                self.s(",");
                self.gr(r);
                self.s(",");
                self.gr(t);
            }
            Insn::Ldil { imm, t } => {
                self.s("ldil L%");
                self.hex(imm as i32);
                self.s(",");
                self.gr(t);
            }
            Insn::Addil { imm, r } => {
                self.s("addil L%");
                self.hex(imm as i32);
                self.s(",");
                self.gr(r);
                self.s(",r1");
            }
            Insn::Ldo { disp, base, t } => {
                if base.0 == 0 {
                    self.s("ldi ");
                    self.hex(disp);
                } else {
                    self.s("ldo ");
                    self.hex(disp);
                    self.base(Space::Implicit, base);
                }
                self.s(",");
                self.gr(t);
            }
            Insn::Load { kind, size, addr, hint, t } => {
                self.s(match (kind, size) {
                    (LoadKind::Plain, Size::Byte) => "ldb",
                    (LoadKind::Plain, Size::Half) => "ldh",
                    (LoadKind::Plain, Size::Word) => "ldw",
                    (LoadKind::Plain, Size::Double) => "ldd",
                    (LoadKind::Absolute, Size::Double) => "ldda",
                    (LoadKind::Absolute, _) => "ldwa",
                    (LoadKind::AndClear, Size::Double) => "ldcd",
                    (LoadKind::AndClear, _) => "ldcw",
                });
                let and_clear = kind == LoadKind::AndClear;
                self.mem_completers(addr, hint, and_clear, !and_clear);
                self.mem_addr(addr);
                self.s(",");
                self.gr(t);
            }
            Insn::Store { kind, size, r, addr, hint } => {
                self.s(match (kind, size) {
                    (StoreKind::Plain, Size::Byte) => "stb",
                    (StoreKind::Plain, Size::Half) => "sth",
                    (StoreKind::Plain, Size::Word) => "stw",
                    (StoreKind::Plain, Size::Double) => "std",
                    (StoreKind::Absolute, Size::Double) => "stda",
                    (StoreKind::Absolute, _) => "stwa",
                });
                // binutils' `stwa,o` line leaves the `a` bit out of its mask,
                // so `,mb` with a zero displacement prints as `,o` as well.
                let short_mb_zero = matches!(
                    addr,
                    Addr::Disp { disp: 0, space: Space::Implicit, modify: Modify::Before, form: DispForm::Short, .. }
                );
                if (kind, size) == (StoreKind::Absolute, Size::Word) && short_mb_zero {
                    self.s(",o");
                    self.hint(hint, false);
                } else {
                    self.mem_completers(addr, hint, false, true);
                }
                self.gr(r);
                self.s(",");
                self.mem_addr(addr);
            }
            Insn::StoreBytes { dw, end, modify, r, disp, space, base, hint } => {
                self.s(if dw { "stdby" } else { "stby" });
                self.s(match (end, modify) {
                    (false, false) => "",
                    (false, true) => ",b,m",
                    (true, false) => ",e",
                    (true, true) => ",e,m",
                });
                self.hint(hint, false);
                self.gr(r);
                self.s(",");
                self.hex(disp as i32);
                self.base(space, base);
            }
            Insn::FpMem { store, dbl, r, addr, hint } => {
                // A short fstw with a cache hint only matches objdump's `fstws` lines.
                let fstws = store
                    && !dbl
                    && hint != Hint::None
                    && matches!(addr, Addr::Disp { form: DispForm::Short, .. })
                    && !matches!(addr, Addr::Disp { disp: 0, modify: Modify::After, .. });
                self.s(match (store, dbl) {
                    (false, false) => "fldw",
                    (false, true) => "fldd",
                    (true, false) if fstws => "fstws",
                    (true, false) => "fstw",
                    (true, true) => "fstd",
                });
                self.mem_completers(addr, hint, false, true);
                let long_word_store = store && !dbl && matches!(addr, Addr::Disp { form: DispForm::Long, .. });
                if long_word_store && matches!(addr, Addr::Disp { modify: Modify::None, .. }) {
                    // objdump's "fE" operand prints its own leading space
                    // after a completer that already ended with one.
                } else if long_word_store {
                    self.s(" ");
                }
                if store {
                    self.fr(r);
                    self.s(",");
                    self.mem_addr(addr);
                } else {
                    self.mem_addr(addr);
                    self.s(",");
                    self.fr(r);
                }
            }
            Insn::CopMem { store, dbl, uid, r, addr, hint } => {
                self.s(match (store, dbl) {
                    (false, false) => "cldw",
                    (false, true) => "cldd",
                    (true, false) => "cstw",
                    (true, true) => "cstd",
                });
                let _ = write!(self.out, ",{uid}");
                // objdump's PA 2.0 `,o` lines match every short form.
                let addr = match addr {
                    Addr::Disp { base, space, .. } => {
                        self.s(",o");
                        self.hint(hint, false);
                        Addr::Disp { disp: 0, base, space, modify: Modify::None, form: DispForm::Short }
                    }
                    index => {
                        self.mem_completers(index, hint, false, false);
                        index
                    }
                };
                if store {
                    self.gr(Gr(r));
                    self.s(",");
                    self.mem_addr(addr);
                } else {
                    self.mem_addr(addr);
                    self.s(",");
                    self.gr(Gr(r));
                }
            }
            Insn::BranchLink { kind, disp, link, nullify, .. } => {
                self.s(match kind {
                    LinkKind::Plain => "b,l",
                    LinkKind::Gate => "b,gate",
                    LinkKind::Push => "b,l,push",
                });
                self.nullify(nullify);
                self.target(disp);
                self.s(",");
                self.gr(link);
            }
            Insn::Blr { x, link, nullify } => {
                self.s("blr");
                self.nullify(nullify);
                self.gr(x);
                self.s(",");
                self.gr(link);
            }
            Insn::Bv { x, base, nullify } => {
                self.s("bv");
                self.nullify(nullify);
                self.gr(x);
                self.base(Space::Implicit, base);
            }
            Insn::Bve { link, stack, base, nullify } => {
                self.s(match (link, stack) {
                    (false, false) => "bve",
                    (false, true) => "bve,pop",
                    (true, false) => "bve,l",
                    (true, true) => "bve,l,push",
                });
                self.nullify(nullify);
                self.base(Space::Implicit, base);
                if link {
                    self.s(",rp");
                }
            }
            Insn::Be { link, disp, sr, base, nullify } => {
                self.s(if link { "be,l" } else { "be" });
                self.nullify(nullify);
                self.hex(disp);
                self.base(Space::Sr(sr), base);
                if link {
                    self.s(",sr0,r31");
                }
            }
            Insn::CmpBranch { cond, src, r2, disp, nullify } => {
                self.s(if matches!(src, DepSource::Reg(_)) { "cmpb" } else { "cmpib" });
                self.s(&cond_text(&CMP_COND, cond));
                self.branch_tail(nullify, src, r2, disp);
            }
            Insn::AddBranch { cond, src, r2, disp, nullify } => {
                self.s(if matches!(src, DepSource::Reg(_)) { "addb" } else { "addib" });
                self.s(ADDB_COND[cond_index(cond)]);
                self.branch_tail(nullify, src, r2, disp);
            }
            Insn::MovBranch { cond, src, r2, disp, nullify } => {
                self.s(if matches!(src, DepSource::Reg(_)) { "movb" } else { "movib" });
                self.s(SHIFT_COND[(cond & 7) as usize]);
                self.branch_tail(nullify, src, r2, disp);
            }
            Insn::Bb { cond, dw, r, pos, disp, nullify } => {
                self.s("bb");
                self.s(match (dw, cond & 1) {
                    (true, 0) => ",*<",
                    (true, _) => ",*>=",
                    (false, 0) => ",<",
                    (false, _) => ",>=",
                });
                self.nullify(nullify);
                self.gr(r);
                self.s(",");
                match pos {
                    ShiftAmount::Sar => self.s("sar"),
                    ShiftAmount::Fixed(p) => self.hex(p as i32),
                }
                self.s(",");
                self.target(disp);
            }
            Insn::Shrp { dw, cond, r1, r2, amount, t } => {
                self.s(if dw { "shrpd" } else { "shrpw" });
                self.shift_cond(cond, dw);
                self.s(" ");
                self.gr(r1);
                self.s(",");
                self.gr(r2);
                self.s(",");
                self.amount(amount);
                self.s(",");
                self.gr(t);
            }
            Insn::Extract { dw, signed, cond, r, pos, len, t } => {
                self.s(if dw { "extrd" } else { "extrw" });
                self.s(if signed { ",s" } else { ",u" });
                self.shift_cond(cond, dw);
                self.s(" ");
                self.gr(r);
                self.s(",");
                self.amount(pos);
                self.s(",");
                self.dec(len as u32);
                self.s(",");
                self.gr(t);
            }
            Insn::Deposit { dw, zero, cond, src, pos, len, t } => {
                self.s(match (dw, src) {
                    (false, DepSource::Reg(_)) => "depw",
                    (false, DepSource::Imm(_)) => "depwi",
                    (true, DepSource::Reg(_)) => "depd",
                    (true, DepSource::Imm(_)) => "depdi",
                });
                if zero {
                    self.s(",z");
                }
                self.shift_cond(cond, dw);
                self.s(" ");
                self.src(src);
                self.s(",");
                self.amount(pos);
                self.s(",");
                self.dec(len as u32);
                self.s(",");
                self.gr(t);
            }
            Insn::Spop { kind, sfu, op, nullify, r1, r2, t } => {
                let _ = write!(self.out, "spop{kind},{sfu},");
                self.hex(op as i32);
                match kind {
                    0 => self.s(if nullify { ",n" } else { "" }),
                    1 => {
                        self.nullify(nullify);
                        self.gr(t);
                    }
                    2 => {
                        self.nullify(nullify);
                        self.gr(r2);
                    }
                    _ => {
                        self.nullify(nullify);
                        self.gr(r1);
                        self.s(",");
                        self.gr(r2);
                    }
                }
            }
            Insn::Copr { uid, op, nullify } => {
                let _ = write!(self.out, "copr,{uid},");
                self.hex(op as i32);
                if nullify {
                    self.s(",n");
                }
            }
            Insn::FpUnary { op, fmt, r, t, .. } => {
                self.s(match op {
                    FpUnOp::Cpy => "fcpy",
                    FpUnOp::Abs => "fabs",
                    FpUnOp::Sqrt => "fsqrt",
                    FpUnOp::Rnd => "frnd",
                    FpUnOp::Neg => "fneg",
                    FpUnOp::NegAbs => "fnegabs",
                });
                self.s(FLOAT_FMT[fmt_index(fmt)]);
                self.s(" ");
                self.fr(r);
                self.s(",");
                self.fr(t);
            }
            Insn::FpBinary { op, fmt, r1, r2, t, .. } => {
                self.s(match op {
                    FpBinOp::Add => "fadd",
                    FpBinOp::Sub => "fsub",
                    FpBinOp::Mpy => "fmpy",
                    FpBinOp::Div => "fdiv",
                    FpBinOp::Rem => "frem",
                });
                self.s(FLOAT_FMT[fmt_index(fmt)]);
                self.s(" ");
                self.fr(r1);
                self.s(",");
                self.fr(r2);
                self.s(",");
                self.fr(t);
            }
            Insn::Fcnv { kind, src, dst, r, t, .. } => {
                self.s(match kind {
                    FcnvKind::FloatFloat => "fcnvff",
                    FcnvKind::FixFloat => "fcnvxf",
                    FcnvKind::FloatFix => "fcnvfx",
                    FcnvKind::FloatFixTrunc => "fcnvfxt",
                });
                self.s(FLOAT_FMT[fmt_index(src)]);
                self.s(FLOAT_FMT[fmt_index(dst)]);
                self.s(" ");
                self.fr(r);
                self.s(",");
                self.fr(t);
            }
            Insn::FcnvWide { sub, enc, src, dst, r, t } => {
                self.s("fcnv");
                let (sf, df) = (fmt_index(src), fmt_index(dst));
                if enc == FpEnc::Op0e {
                    self.s(FLOAT_FMT[sf]);
                    self.s(FLOAT_FMT[df]);
                    self.s(" ");
                } else if sub == 4 {
                    self.s(",UND ");
                } else {
                    let fixed = if sub & 4 != 0 { &UFIXED_FMT } else { &FIXED_FMT };
                    if sub & 3 == 3 {
                        self.s(",t");
                    }
                    self.s(if sub & 3 == 1 { fixed[sf] } else { FLOAT_FMT[sf] });
                    self.s(if sub & 2 != 0 { fixed[df] } else { FLOAT_FMT[df] });
                    self.s(" ");
                }
                self.fr(r);
                self.s(",");
                self.fr(t);
            }
            Insn::Fcmp { fmt, cond, r1, r2, cbit, .. } => {
                self.s("fcmp");
                self.s(FLOAT_FMT[fmt_index(fmt)]);
                self.s(FCMP_COND[(cond & 31) as usize]);
                self.s(" ");
                self.fr(r1);
                self.s(",");
                self.fr(r2);
                if cbit > 0 {
                    // objdump's operand string is ",h" and h prints its own comma.
                    let _ = write!(self.out, ",,{}", cbit - 1);
                }
            }
            Insn::Ftest { cond, queue } => match queue {
                Some(y) => {
                    self.s("ftest ");
                    if y != 1 {
                        self.hex(((y ^ 1) as i32) - 1);
                    }
                }
                None if cond == 0 => self.s("ftest"),
                None => {
                    self.s("ftest ,");
                    self.s(match cond {
                        1 => "acc ",
                        2 => "rej ",
                        5 => "acc8 ",
                        6 => "rej8 ",
                        9 => "acc6 ",
                        13 => "acc4 ",
                        17 => "acc2 ",
                        _ => "",
                    });
                }
            },
            Insn::FstQuad { r, addr } => {
                let indexed = matches!(addr, Addr::Index { .. });
                self.s(if indexed { "fstqx" } else { "fstqs" });
                if let Addr::Disp { modify, .. } = addr {
                    self.s(match modify {
                        Modify::None => " ",
                        Modify::After => ",ma ",
                        Modify::Before => ",mb ",
                    });
                } else {
                    self.mem_completers(addr, Hint::None, false, false);
                }
                self.fr(r);
                self.s(",");
                self.mem_addr(addr);
            }
            Insn::Permh { order, r, t } => {
                let _ = write!(self.out, "permh,{}{}{}{} ", order[0], order[1], order[2], order[3]);
                self.gr(r);
                self.s(",");
                self.gr(t);
            }
            Insn::Hshift { left, signed, r, sa, t } => {
                self.s(match (left, signed) {
                    (true, _) => "hshl ",
                    (false, true) => "hshr,s ",
                    (false, false) => "hshr,u ",
                });
                self.gr(r);
                self.s(",");
                self.dec(sa as u32);
                self.s(",");
                self.gr(t);
            }
            Insn::Mix { word, right, r1, r2, t } => {
                self.s(if word { "mixw" } else { "mixh" });
                self.s(if right { ",r" } else { ",l" });
                self.gr(r1);
                self.s(",");
                self.gr(r2);
                self.s(",");
                self.gr(t);
            }
            Insn::Fid => self.s("fid"),
            Insn::Pmenb => self.s("pmenb"),
            Insn::Havg { cond, r1, r2, t } => {
                // objdump's `shladd` line shadows havg; its NULL add completer prints as "(null)".
                self.s("shladd(null)");
                self.s(&cond_text(&ADD_COND, cond));
                self.s(" ");
                self.gr(r1);
                self.s(",3,");
                self.gr(r2);
                self.s(",");
                self.gr(t);
            }
            Insn::PopBts { count: 0 } => self.s("clrbts"),
            Insn::PopBts { count } => {
                self.s("popbts ");
                self.hex(count.into());
            }
            Insn::PushBts { r: Gr(0) } => self.s("pushnom"),
            Insn::PushBts { r } => {
                self.s("pushbts ");
                self.gr(r);
            }
            Insn::Xmpyu { r1, r2, t } => {
                self.s("xmpyu ");
                self.fr(r1);
                self.s(",");
                self.fr(r2);
                self.s(",");
                self.fr(t);
            }
            Insn::FmpyAddSub { sub, dbl, rm1, rm2, tm, ra, ta } => {
                self.s(if sub { "fmpysub" } else { "fmpyadd" });
                self.s(if dbl { ",dbl " } else { ",sgl " });
                // objdump names single-precision operands without their half.
                for (i, f) in [rm1, rm2, tm, ra, ta].into_iter().enumerate() {
                    if i > 0 {
                        self.s(",");
                    }
                    self.fr(Fr::new(f.reg));
                }
            }
            Insn::Fmac { negate, dbl, r1, r2, ra, t } => {
                self.s(if negate { "fmpynfadd" } else { "fmpyfadd" });
                self.s(if dbl { ",dbl " } else { ",sgl " });
                self.fr(r1);
                self.s(",");
                self.fr(r2);
                self.s(",");
                self.fr(ra);
                self.s(",");
                self.fr(t);
            }
        }
    }

    fn branch_tail(&mut self, nullify: bool, src: DepSource, r2: Gr, disp: i32) {
        self.nullify(nullify);
        self.src(src);
        self.s(",");
        self.gr(r2);
        self.s(",");
        self.target(disp);
    }

    fn alu(&mut self, op: AluOp, cond: Cond, r1: Gr, r2: Gr, t: Gr) {
        if op == AluOp::Or && cond == Cond::NEVER && r2.0 == 0 {
            if r1.0 == 0 && t.0 == 0 {
                self.s("nop");
                return;
            }
            self.s("copy ");
            self.gr(r1);
            self.s(",");
            self.gr(t);
            return;
        }
        let table = match op.cond_kind() {
            CondKind::Compare => &CMP_COND,
            CondKind::Add => &ADD_COND,
            CondKind::Logical => &LOGIC_COND,
            CondKind::Unit => &UNIT_COND,
        };
        let mut shift = 0;
        match op {
            AluOp::Add { shift: sh, carry, logical, trap_overflow } => {
                shift = sh;
                self.s(if sh > 0 { "shladd" } else { "add" });
                if carry {
                    self.s(if cond.dw { ",dc" } else { ",c" });
                }
                if logical {
                    self.s(",l");
                }
                if trap_overflow {
                    self.s(",tsv");
                }
            }
            AluOp::Sub { borrow, trap_overflow, trap_cond } => {
                self.s("sub");
                if trap_cond {
                    self.s(",tc");
                }
                if borrow {
                    self.s(if cond.dw { ",db" } else { ",b" });
                }
                if trap_overflow {
                    self.s(",tsv");
                }
            }
            AluOp::Ds => self.s("ds"),
            AluOp::Cmpclr => self.s("cmpclr"),
            AluOp::Or => self.s("or"),
            AluOp::Xor => self.s("xor"),
            AluOp::And => self.s("and"),
            AluOp::Andcm => self.s("andcm"),
            AluOp::Uxor => self.s("uxor"),
            AluOp::Uaddcm { trap_cond } => self.s(if trap_cond { "uaddcm,tc" } else { "uaddcm" }),
            AluOp::Dcor { intermediate } => self.s(if intermediate { "dcor,i" } else { "dcor" }),
        }
        self.s(&cond_text(table, cond));
        self.s(" ");
        if !matches!(op, AluOp::Dcor { .. }) {
            self.gr(r1);
            self.s(",");
        }
        if shift > 0 {
            self.dec(shift as u32);
            self.s(",");
        }
        self.gr(r2);
        self.s(",");
        self.gr(t);
    }
}
