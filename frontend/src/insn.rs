//! Typed PA-RISC instructions.
//!
//! One variant per instruction *family*; every field the semantics (or the
//! objdump text) needs is carried, already assembled: immediates are
//! sign-extended, branch displacements are byte offsets relative to `pc + 8`.
//! Names follow the PA-RISC 1.1 manual; PA 2.0 forms that gcc and objdump
//! know are included (`dw` flags mark doubleword `,*` conditions).

/// General register `r0`..`r31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gr(pub u8);

/// Floating-point register; `right` selects the right (low) 32-bit half in
/// single-precision forms that can address halves (`fr4R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fr {
    pub reg: u8,
    pub right: bool,
}

impl Fr {
    /// A whole (or left-half) floating-point register.
    pub const fn new(reg: u8) -> Fr {
        Fr { reg, right: false }
    }
}

/// Space register `sr0`..`sr7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sr(pub u8);

/// Control register `cr0`..`cr31` (`cr11` is `sar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cr(pub u8);

/// A condition: the manual's 3-bit `c` field, the negation bit `f`, and the
/// PA 2.0 doubleword bit (`,*` conditions). Its meaning depends on the family
/// ([`CondKind`]); undefined codes are kept so nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cond {
    pub c: u8,
    pub negate: bool,
    pub dw: bool,
}

impl Cond {
    /// The never-true condition (no completer).
    pub const NEVER: Cond = Cond { c: 0, negate: false, dw: false };
}

/// Which condition table a [`Cond`] is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CondKind {
    /// Compare/subtract: never = < <= << <<= sv od.
    Compare,
    /// Add: never = < <= nuv znv sv od.
    Add,
    /// Logical: never = < <= (reserved ×3) od.
    Logical,
    /// Unit: never (swz) sbz shz sdc (swc) sbc shc.
    Unit,
}

/// Address modification of a displacement load/store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modify {
    None,
    /// `,mb`: base updated before the access, the access uses the new base.
    Before,
    /// `,ma`: access at the old base, base updated after.
    After,
}

/// Space selection: implicit (`s` = 0, sr4..sr7 chosen by the base's top
/// bits) or explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    Implicit,
    Sr(Sr),
}

/// Which encoding a displacement access came from (the assembler spells the
/// forms differently and the displacement ranges differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DispForm {
    /// 5-bit displacement (major opcodes 0x03, 0x09, 0x0b).
    Short,
    /// 14-bit displacement (0x10–0x1f; PA 2.0 doubleword and FP word forms
    /// scale it by 8 and 4).
    Long,
}

/// Effective-address computation shared by every load and store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Addr {
    /// `disp(s,b)`.
    Disp { disp: i32, base: Gr, space: Space, modify: Modify, form: DispForm },
    /// `x(s,b)`; `scale` multiplies the index by the access size (`,s`), `modify`
    /// writes the effective address back to the base (`,m`).
    Index { index: Gr, base: Gr, space: Space, scale: bool, modify: bool },
}

/// Cache hint of loads and stores (the `cc` field): `,bc`/`,sl` on loads and stores, `,co` on ldcw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hint {
    None,
    /// cc = 1: `,bc` (block copy) or `,co` (coherent, ldcw).
    Bc,
    /// cc = 2: `,sl` (spatial locality).
    Sl,
    /// cc = 3: reserved.
    Reserved,
}

/// Size of an integer memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    Byte,
    Half,
    Word,
    Double,
}

/// Integer load flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadKind {
    /// `ldb`, `ldh`, `ldw`, `ldd`.
    Plain,
    /// `ldwa`/`ldda`: absolute (physical) address, privileged.
    Absolute,
    /// `ldcw`/`ldcd`: load and clear (semaphore).
    AndClear,
}

/// Integer store flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// `stb`, `sth`, `stw`, `std`.
    Plain,
    /// `stwa`/`stda`: absolute address.
    Absolute,
}

/// Arithmetic/logical operations of major opcode 0x02.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `add`, `add,l`, `add,tsv`, `add,c`, `add,c,tsv`, `shladd` (shift 1..3),
    /// and the PA 1.1 spellings addl/addo/addc/addco/shNadd[l|o].
    Add { shift: u8, carry: bool, logical: bool, trap_overflow: bool },
    /// `sub`, `sub,b`, `sub,tsv`, `sub,tc`, … (subo/subb/subbo/subt/subto).
    Sub { borrow: bool, trap_overflow: bool, trap_cond: bool },
    /// `ds`: divide step.
    Ds,
    /// `cmpclr` (comclr): compare and clear.
    Cmpclr,
    Or,
    Xor,
    And,
    Andcm,
    /// `uxor`: unit xor.
    Uxor,
    /// `uaddcm`, `uaddcm,tc`.
    Uaddcm { trap_cond: bool },
    /// `dcor`, `dcor,i`.
    Dcor { intermediate: bool },
}

impl AluOp {
    /// The condition table this operation uses.
    pub fn cond_kind(self) -> CondKind {
        match self {
            AluOp::Add { .. } => CondKind::Add,
            AluOp::Sub { .. } | AluOp::Ds | AluOp::Cmpclr => CondKind::Compare,
            AluOp::Or | AluOp::Xor | AluOp::And | AluOp::Andcm => CondKind::Logical,
            AluOp::Uxor | AluOp::Uaddcm { .. } | AluOp::Dcor { .. } => CondKind::Unit,
        }
    }
}

/// PA 2.0 halfword (multimedia) operations of major opcodes 0x02 and 0x3e.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HalfOp {
    /// `hadd`, `hadd,ss`, `hadd,us` (sat: 0 us, 1 ss, 2 undefined, 3 modulo).
    Hadd { sat: u8 },
    /// `hsub` with the same saturation field.
    Hsub { sat: u8 },
    /// `hshladd r1,sa,r2,t`.
    Hshladd { sa: u8 },
    /// `hshradd r1,sa,r2,t`.
    Hshradd { sa: u8 },
}

/// Immediate arithmetic of opcodes 0x24, 0x25, 0x2c, 0x2d.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AluImmOp {
    /// `addi` (`,tsv`, `,tc` variants: addio/addit/addito).
    Addi { trap_overflow: bool, trap_cond: bool },
    /// `subi`, `subi,tsv` (subio).
    Subi { trap_overflow: bool },
    /// `cmpiclr` (comiclr).
    Cmpiclr,
}

/// Shift-pair / extract / deposit operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShiftAmount {
    /// Taken from `sar` (the variable forms vshd/vextru/zvdep…).
    Sar,
    /// A fixed amount (shift count, or bit position for extract/deposit in
    /// the manual's big-endian numbering).
    Fixed(u8),
}

/// Source of a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepSource {
    Reg(Gr),
    Imm(i8),
}

/// Major opcode 0x01 cache and TLB purge/flush operations taking `x(s,b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheOp {
    Pdtlb,
    Pitlb,
    Pdtlbe,
    Pitlbe,
    Pdc,
    Fdc,
    Fic,
    Fdce,
    Fice,
    /// Graphics flush write/read (not in the 1.1 manual; objdump knows them).
    Gfw,
    Gfr,
}

/// TLB insert operations (`idtlba x,(s,b)` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlbInsertOp {
    Idtlba,
    Iitlba,
    Idtlbp,
    Iitlbp,
}

/// Branch-and-link flavours of major opcode 0x3a.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// `b,l target,t` (`bl`; `b` when t = r0).
    Plain,
    /// `b,gate target,t`: may promote privilege.
    Gate,
    /// `b,l,push target,rp` (PA 2.0, 22-bit).
    Push,
}

/// Floating-point formats (`,sgl`, `,dbl`, reserved, `,quad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FpFmt {
    Sgl,
    Dbl,
    Reserved,
    Quad,
}

/// Two-operand floating-point operations (class 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FpBinOp {
    Add,
    Sub,
    Mpy,
    Div,
    Rem,
}

/// One-operand floating-point operations (class 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FpUnOp {
    Cpy,
    Abs,
    Sqrt,
    Rnd,
    Neg,
    NegAbs,
}

/// Conversion kinds of `fcnv` (class 1 `sub` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FcnvKind {
    /// float → float (`fcnvff`).
    FloatFloat,
    /// fixed → float (`fcnvxf`); `unsigned_fix` for the PA 2.0 `,uw` forms.
    FixFloat,
    /// float → fixed (`fcnvfx`).
    FloatFix,
    /// float → fixed truncating (`fcnvfxt`).
    FloatFixTrunc,
}

/// Which major opcode encoded a floating-point operation: 0x0c (whole
/// registers, 2-bit formats) or 0x0e (register halves, 1-bit format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FpEnc {
    Op0c,
    Op0e,
}

/// A decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `break im5,im13`.
    Break { im5: u8, im13: u16 },
    /// `sync`, `syncdma`.
    Sync { dma: bool },
    /// `rfi`, `rfi,r` (rfir); `ext` is the raw 3-bit field at 0xe0.
    Rfi { ext: u8 },
    /// `ssm imm,t` / `rsm imm,t`: set/reset system-mask bits.
    SysMask { set: bool, imm: u16, t: Gr },
    /// `mtsm r`.
    Mtsm { r: Gr },
    /// `ldsid (s,b),t`.
    Ldsid { space: Space, base: Gr, t: Gr },
    /// `mtsp r,sr`.
    Mtsp { r: Gr, sr: Sr },
    /// `mtctl r,cr` (`mtsar r` for cr11).
    Mtctl { r: Gr, cr: Cr },
    /// `mtsarcm r` (PA 2.0: sar = 31 - r).
    Mtsarcm { r: Gr },
    /// `mfia t` (PA 2.0).
    Mfia { t: Gr },
    /// `mfsp sr,t`.
    Mfsp { sr: Sr, t: Gr },
    /// `mfctl cr,t`; `wide` is PA 2.0 `mfctl,w sar,t`.
    Mfctl { cr: Cr, t: Gr, wide: bool },
    /// `probe{r,w}[i] (s,b),x|imm,t`: access-rights probe.
    Probe { write: bool, imm: bool, level: u8, space: Space, base: Gr, t: Gr },
    /// `lpa x(s,b),t` (load physical address) and `lci` (load coherence index).
    LoadTranslation { coherence: bool, index: Gr, space: Space, base: Gr, modify: bool, t: Gr },
    /// pdtlb/pitlb/pdtlbe/pitlbe/pdc/fdc/fic/fdce/fice/gfw/gfr `x(s,b)`;
    /// `local` is PA 2.0 `,l`, `sr3` the 3-bit space of the instruction forms.
    Cache { op: CacheOp, index: Gr, space: Space, base: Gr, modify: bool, local: bool },
    /// `fdc imm(s,b)` (PA 2.0 immediate form).
    FdcImm { disp: i8, space: Space, base: Gr },
    /// idtlba/iitlba/idtlbp/iitlbp `r,(s,b)`.
    TlbInsert { op: TlbInsertOp, r: Gr, space: Space, base: Gr },
    /// `idtlbt r1,r2` / `iitlbt r1,r2` (PA 2.0).
    TlbInsertT { data: bool, r1: Gr, r2: Gr },
    /// `diag imm26`.
    Diag { imm: u32 },
    /// 0x02 arithmetic/logical: `op,cond r1,r2,t`.
    Alu { op: AluOp, cond: Cond, r1: Gr, r2: Gr, t: Gr },
    /// PA 2.0 halfword arithmetic `hadd r1,r2,t` …
    Half { op: HalfOp, r1: Gr, r2: Gr, t: Gr },
    /// `addi`/`subi`/`cmpiclr` `,cond imm,r,t`.
    AluImm { op: AluImmOp, cond: Cond, imm: i32, r: Gr, t: Gr },
    /// `ldil L%imm,t`.
    Ldil { imm: u32, t: Gr },
    /// `addil L%imm,r,r1`.
    Addil { imm: u32, r: Gr },
    /// `ldo disp(b),t` (`ldi` when b = r0); `disp` is the PA 2.0 16-bit value,
    /// equal to the 1.1 14-bit one whenever the unused s bits are zero.
    Ldo { disp: i32, base: Gr, t: Gr },
    /// Integer loads: ldb/ldh/ldw/ldd, ldwa/ldda, ldcw/ldcd, in every address form.
    Load { kind: LoadKind, size: Size, addr: Addr, hint: Hint, t: Gr },
    /// Integer stores: stb/sth/stw/std, stwa/stda.
    Store { kind: StoreKind, size: Size, r: Gr, addr: Addr, hint: Hint },
    /// `stby`/`stdby` `,b|,e[,m] r,disp(s,b)`: store bytes.
    StoreBytes { dw: bool, end: bool, modify: bool, r: Gr, disp: i8, space: Space, base: Gr, hint: Hint },
    /// fldw/fldd/fstw/fstd in indexed, short and long forms.
    FpMem { store: bool, dbl: bool, r: Fr, addr: Addr, hint: Hint },
    /// Coprocessor loads/stores cldw/cldd/cstw/cstd (uid ≠ FP).
    CopMem { store: bool, dbl: bool, uid: u8, r: u8, addr: Addr, hint: Hint },
    /// `b,l`/`bl`/`b`/`b,gate`/`b,l,push`: pc-relative branch with link.
    BranchLink { kind: LinkKind, disp: i32, link: Gr, nullify: bool, wide: bool },
    /// `blr x,t`: branch to pc+8+8·x.
    Blr { x: Gr, link: Gr, nullify: bool },
    /// `bv x(b)`.
    Bv { x: Gr, base: Gr, nullify: bool },
    /// `bve (b)`, `bve,l (b),rp`, `bve,pop`, `bve,l,push` (PA 2.0).
    Bve { link: bool, stack: bool, base: Gr, nullify: bool },
    /// `be disp(sr,b)` / `be,l disp(sr,b),sr0,r31` (ble): external branch.
    Be { link: bool, disp: i32, sr: Sr, base: Gr, nullify: bool },
    /// cmpb/comb (r1 = register) and cmpib/comib (imm): compare and branch.
    CmpBranch { cond: Cond, src: DepSource, r2: Gr, disp: i32, nullify: bool },
    /// addb/addib: add and branch.
    AddBranch { cond: Cond, src: DepSource, r2: Gr, disp: i32, nullify: bool },
    /// `bb,cond r,pos,target` (pos = sar when `pos` is `Sar`).
    Bb { cond: u8, dw: bool, r: Gr, pos: ShiftAmount, disp: i32, nullify: bool },
    /// movb/movib: move and branch on shift condition.
    MovBranch { cond: u8, src: DepSource, r2: Gr, disp: i32, nullify: bool },
    /// `shrpw`/`shrpd r1,r2,sa,t` (shd/vshd): shift right pair; sa is 31-p of the encoding.
    Shrp { dw: bool, cond: u8, r1: Gr, r2: Gr, amount: ShiftAmount, t: Gr },
    /// `extrw`/`extrd` `,s|,u r,pos,len,t` (extru/extrs/vextru/vextrs).
    Extract { dw: bool, signed: bool, cond: u8, r: Gr, pos: ShiftAmount, len: u8, t: Gr },
    /// `depw`/`depwi`/`depd`/`depdi` `[,z] src,pos,len,t` (zdep/dep/depi/zdepi/zvdep…);
    /// `pos` is the manual's `31-p` printed position.
    Deposit { dw: bool, zero: bool, cond: u8, src: DepSource, pos: ShiftAmount, len: u8, t: Gr },
    /// Special-function-unit operations spop0..spop3 (`op` holds the operation
    /// bits of that form; spop1 targets `t`, spop2 reads `r2`, spop3 reads `r1`,`r2`).
    Spop { kind: u8, sfu: u8, op: u32, nullify: bool, r1: Gr, r2: Gr, t: Gr },
    /// `copr,uid,op` (coprocessor operation).
    Copr { uid: u8, op: u32, nullify: bool },
    /// fcpy/fabs/fsqrt/frnd/fneg/fnegabs `,fmt r,t`.
    FpUnary { op: FpUnOp, enc: FpEnc, fmt: FpFmt, r: Fr, t: Fr },
    /// fadd/fsub/fmpy/fdiv/frem `,fmt r1,r2,t`.
    FpBinary { op: FpBinOp, enc: FpEnc, fmt: FpFmt, r1: Fr, r2: Fr, t: Fr },
    /// fcnvff/fcnvxf/fcnvfx/fcnvfxt (PA 1.1 spelling, 2-bit formats).
    Fcnv { kind: FcnvKind, enc: FpEnc, src: FpFmt, dst: FpFmt, r: Fr, t: Fr },
    /// PA 2.0 `fcnv` with the full 3-bit sub-op (unsigned fixed, `,t`).
    FcnvWide { sub: u8, enc: FpEnc, src: FpFmt, dst: FpFmt, r: Fr, t: Fr },
    /// `fcmp,fmt,cond r1,r2[,cbit]`.
    Fcmp { enc: FpEnc, fmt: FpFmt, cond: u8, r1: Fr, r2: Fr, cbit: u8 },
    /// `ftest[,cond]`; `queue` is the PA 2.0 `ftest y` form.
    Ftest { cond: u8, queue: Option<u8> },
    /// `fid` (floating-point identify).
    Fid,
    /// `xmpyu r1,r2,t`: unsigned 32×32→64 multiply in the FPU.
    Xmpyu { r1: Fr, r2: Fr, t: Fr },
    /// `fmpyadd`/`fmpysub ,fmt rm1,rm2,tm,ra,ta` (multiply and add/sub in parallel).
    FmpyAddSub { sub: bool, dbl: bool, rm1: Fr, rm2: Fr, tm: Fr, ra: Fr, ta: Fr },
    /// `fmpyfadd`/`fmpynfadd ,fmt r1,r2,ra,t` (PA 2.0 fused multiply-add).
    Fmac { negate: bool, dbl: bool, r1: Fr, r2: Fr, ra: Fr, t: Fr },
    /// `fstqx`/`fstqs`: store a quad (register pair), indexed or short form.
    FstQuad { r: Fr, addr: Addr },
    /// `permh,cccc r,t`: permute halfwords by the four 2-bit selectors (PA 2.0).
    Permh { order: [u8; 4], r: Gr, t: Gr },
    /// `hshl r,sa,t` / `hshr,s|u r,sa,t`: halfword shifts (PA 2.0).
    Hshift { left: bool, signed: bool, r: Gr, sa: u8, t: Gr },
    /// `mixh,l|r` / `mixw,l|r r1,r2,t`: mix halfwords or words (PA 2.0).
    Mix { word: bool, right: bool, r1: Gr, r2: Gr, t: Gr },
    /// `pmenb` (performance monitor enable).
    Pmenb,
    /// PA 2.0 `havg r1,r2,t` (halfword average: major 0x02, ext6 = 0x0b); only
    /// `cond` = never is architected. objdump matches its `shladd` line first
    /// and prints `shladd(null)[,cond] r1,3,r2,t`.
    Havg { cond: Cond, r1: Gr, r2: Gr, t: Gr },
    /// PA 2.0 `popbts n`: pop `n` entries off the branch target stack
    /// (`clrbts`, which clears it, when `n` = 0).
    PopBts { count: u16 },
    /// PA 2.0 `pushbts r`: push `r` onto the branch target stack (`pushnom`,
    /// push "no mispredict", when `r` = r0).
    PushBts { r: Gr },
}

impl Insn {
    /// Whether the instruction may change the flow of control: a delay
    /// slot follows it (the branch-target-stack operations in the branch
    /// opcode space only hint).
    pub fn may_branch(&self) -> bool {
        matches!(
            self,
            Insn::BranchLink { .. }
                | Insn::Blr { .. }
                | Insn::Bv { .. }
                | Insn::Bve { .. }
                | Insn::Be { .. }
                | Insn::CmpBranch { .. }
                | Insn::AddBranch { .. }
                | Insn::Bb { .. }
                | Insn::MovBranch { .. }
        )
    }
}
