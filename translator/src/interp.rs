//! The interpreter: the reference engine, with exact instruction counting.
//!
//! # The counting rule
//!
//! `CpuState::retired` counts every instruction that executes and is not
//! nullified — the PA-RISC recovery-counter definition (CR 0 is decremented
//! for each non-nullified instruction). A nullified instruction advances
//! the instruction address queue but is not counted. An instruction that
//! stops (fault, trap, `break`, environment read, privileged or illegal
//! instruction) is not counted either: the state is exactly as before it.
//!
//! # Budgets
//!
//! [`Interpreter::run`] stops with [`Exit::Budget`] as soon as `budget`
//! instructions have been counted — before skipping any nullified
//! instructions that follow, so the stop point is the same whether the
//! budget is spent in one call or several (`run(a)` then `run(b)` ends in
//! the state `run(a + b)` ends in). A budget of 0 returns immediately.
//!
//! # Events
//!
//! Every other exit leaves the state before the instruction concerned, with
//! `iaoq_front` pointing at it. Reaching the Linux gateway page (addresses
//! below 0x1000: `ble 0x100(%sr2,%r0)` system calls, `be,l 0xb0(%sr2,%r0)`
//! light-weight calls) is reported after the branch's delay slot has
//! executed, with the offset reached; the runtime performs the call and
//! resumes at `%r31` ([`CpuState::resume_at`]). An environment read
//! (`mfctl cr16`) is reported before it executes; the runtime writes the
//! value and calls [`CpuState::retire_current`].
//!
//! # Decoding
//!
//! Decoded instructions are cached per 4 KiB page. The cache is not guest
//! state: the runtime calls [`Interpreter::invalidate`] when guest code may
//! have changed (every range the runtime writes for the guest: `read`
//! buffers, signal frames, mappings, `brk`); a guest store into a page
//! holding decoded code and `fic` drop that page after the instruction
//! (self-modifying code). [`Interpreter::take_code_changes`] tells an engine
//! built on the interpreter which pages that happened to.

use hashbrown::HashMap;
use hbft_frontend::{decode, Insn};

use crate::code_pages::CodePages;
use crate::memory::{GuestMemory, MemFault, PAGE_SIZE};
use crate::semantics::{translate, Cmp, Emitter, Event, Flow, FpHelper, Stopped, Width};
use crate::state::CpuState;

/// Instructions below this address belong to the Linux gateway page.
pub const GATEWAY_END: u32 = 0x1000;

/// Why [`Interpreter::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `budget` instructions were counted.
    Budget,
    /// Execution reached the gateway page at this offset (0x100: system
    /// call, 0xb0: light-weight system call, 0xe0: set thread pointer).
    Gateway { offset: u32 },
    /// An access faulted (instruction fetch included).
    Fault(MemFault),
    /// `break im5,im13`.
    Break { im5: u8, im13: u16 },
    /// A word that is not an instruction hbft executes.
    Illegal { word: u32 },
    /// A privileged instruction or register access in user mode.
    Privileged { word: u32 },
    /// A trap: overflow, condition, or an enabled floating-point exception.
    Trap(Trap),
    /// `mfctl cr16,t`: the runtime supplies the interval timer.
    IntervalTimer { t: u8 },
    /// `probe{r,w}[i]`: the runtime writes 1 to GR `t` if a user-mode read
    /// (or write) of the address in GR `base` is allowed, else 0.
    Probe { write: bool, base: u8, t: u8 },
    /// Reported *after* it executed: `b,gate` at `pc` with code translation
    /// on; the runtime applies the gateway page's promotion.
    Gate { pc: u32 },
    /// Reported *after* it executed: a branch changed the privilege level or
    /// the instruction space ([`Event::NewContext`]).
    NewContext,
}

/// Arithmetic traps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    Overflow,
    Condition,
    FpException,
}

impl Exit {
    fn from_event(ev: Event, word: u32) -> Exit {
        match ev {
            Event::Break { im5, im13 } => Exit::Break { im5, im13 },
            Event::Overflow => Exit::Trap(Trap::Overflow),
            Event::Condition => Exit::Trap(Trap::Condition),
            Event::FpException => Exit::Trap(Trap::FpException),
            Event::Privileged => Exit::Privileged { word },
            Event::Illegal => Exit::Illegal { word },
            Event::IntervalTimer { t } => Exit::IntervalTimer { t },
            Event::Probe { write, base, t } => Exit::Probe { write, base, t },
            Event::Gate | Event::NewContext => unreachable!("reported after the instruction"),
        }
    }
}

const SLOTS_PER_PAGE: usize = (PAGE_SIZE / 4) as usize;

#[derive(Debug, Clone, Copy)]
enum Slot {
    Empty,
    Decoded { insn: Insn, word: u32 },
    Undecodable { word: u32 },
}

/// Decoded instructions by guest page.
struct DecodeCache {
    index: HashMap<u32, usize>,
    pages: Vec<Box<[Slot; SLOTS_PER_PAGE]>>,
    /// The most recently used page and its index in `pages`.
    last: Option<(u32, usize)>,
    /// Pages with decoded instructions (and, for the JIT, translations).
    code: CodePages,
}

impl DecodeCache {
    fn new() -> DecodeCache {
        DecodeCache {
            index: HashMap::new(),
            pages: Vec::new(),
            last: None,
            code: CodePages::new(),
        }
    }

    #[inline]
    fn page(&mut self, page: u32) -> usize {
        if let Some((p, i)) = self.last {
            if p == page {
                return i;
            }
        }
        let pages = &mut self.pages;
        let i = *self.index.entry(page).or_insert_with(|| {
            pages.push(Box::new([Slot::Empty; SLOTS_PER_PAGE]));
            pages.len() - 1
        });
        self.last = Some((page, i));
        i
    }

    /// The decoded instruction at `pc` and its word, fetching on a miss.
    #[inline]
    fn get<M: GuestMemory>(&mut self, pc: u32, mem: &M) -> Result<(Insn, u32), Exit> {
        let i = self.page(pc / PAGE_SIZE);
        let slot = &mut self.pages[i][(pc % PAGE_SIZE / 4) as usize];
        if let Slot::Empty = slot {
            *slot = fetch_and_decode(pc, mem)?;
            self.code.insert(pc / PAGE_SIZE);
        }
        match *slot {
            Slot::Decoded { insn, word } => Ok((insn, word)),
            Slot::Undecodable { word } => Err(Exit::Illegal { word }),
            Slot::Empty => unreachable!("filled above"),
        }
    }

    /// Drops every decoded instruction.
    fn invalidate_all(&mut self) {
        for (&page, &i) in &self.index {
            self.pages[i].fill(Slot::Empty);
            self.code.remove_range(page * PAGE_SIZE, PAGE_SIZE);
        }
    }

    fn invalidate(&mut self, start: u32, len: u32) {
        if len == 0 {
            return;
        }
        self.code.remove_range(start, len);
        let first = start / PAGE_SIZE;
        let last = start.saturating_add(len - 1) / PAGE_SIZE;
        for page in first..=last {
            if let Some(&i) = self.index.get(&page) {
                self.pages[i].fill(Slot::Empty);
            }
        }
    }
}

#[cold]
fn fetch_and_decode<M: GuestMemory>(pc: u32, mem: &M) -> Result<Slot, Exit> {
    let word = mem.fetch(pc).map_err(Exit::Fault)?;
    Ok(match decode(word) {
        Ok(insn) => Slot::Decoded { insn, word },
        Err(_) => Slot::Undecodable { word },
    })
}

/// The interpreter engine. Holds only host-side caches; all guest state is
/// in the [`CpuState`] and the guest memory passed to [`Interpreter::run`].
pub struct Interpreter {
    cache: DecodeCache,
    /// Pages whose cached code the guest changed (stores, `fic`) during the
    /// last [`Interpreter::run`].
    code_changes: Vec<u32>,
}

impl Default for Interpreter {
    fn default() -> Self {
        Interpreter::new()
    }
}

impl Interpreter {
    pub fn new() -> Interpreter {
        Interpreter {
            cache: DecodeCache::new(),
            code_changes: Vec::new(),
        }
    }

    /// Drops decoded instructions for `len` bytes of guest memory from
    /// `start` (whole pages).
    pub fn invalidate(&mut self, start: u32, len: u32) {
        self.cache.invalidate(start, len);
    }

    /// Drops every decoded instruction (system mode: the code context —
    /// translation, space or privilege level — changed).
    pub fn invalidate_all(&mut self) {
        self.cache.invalidate_all();
    }

    /// The map of pages holding cached code; an engine that caches code of
    /// its own on top of the interpreter marks its pages here so that guest
    /// stores into them are noticed.
    pub fn code_pages_mut(&mut self) -> &mut CodePages {
        &mut self.cache.code
    }

    /// Pages whose cached code the guest changed (by a store or `fic`)
    /// during the last [`Interpreter::run`]; their decodings are already
    /// dropped, translations of them must be dropped by the caller.
    pub fn take_code_changes(&mut self) -> std::vec::Drain<'_, u32> {
        self.code_changes.drain(..)
    }

    /// Runs until `budget` more instructions have been counted or an event
    /// stops execution (see the module documentation).
    pub fn run<M: GuestMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        self.run_until(cpu, mem, budget, false)
    }

    /// [`Interpreter::run`], also ending with [`Exit::Budget`] after a jump
    /// to a plain block entry ([`CpuState::at_block_entry`]), where another
    /// block may start.
    pub fn run_block<M: GuestMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        self.run_until(cpu, mem, budget, true)
    }

    fn run_until<M: GuestMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64, to_jump: bool) -> Exit {
        let stop_at = cpu.retired.saturating_add(budget);
        self.code_changes.clear();
        loop {
            if cpu.retired == stop_at {
                return Exit::Budget;
            }
            if cpu.psw_n != 0 {
                advance(cpu, cpu.iaoq_back.wrapping_add(4), cpu.iasq_back, false);
                continue;
            }
            let pc = cpu.iaoq_front;
            if pc < GATEWAY_END {
                return Exit::Gateway { offset: pc };
            }
            mem.observe(cpu);
            let (insn, word) = match self.cache.get(pc, mem) {
                Ok(found) => found,
                Err(exit) => return exit,
            };
            let mut eval = Eval::new(cpu, mem, &self.cache.code);
            let flow = translate(&mut eval, &insn, pc);
            let Eval {
                next,
                next_space,
                nullify,
                stop,
                flush,
                code_store,
                reported,
                ..
            } = eval;
            if let Err(Stopped) = flow {
                return match stop {
                    Some(Stop::Event(ev)) => Exit::from_event(ev, word),
                    Some(Stop::Fault(f)) => Exit::Fault(f),
                    None => unreachable!("a stopped instruction records why"),
                };
            }
            advance(cpu, next, next_space, nullify);
            cpu.retired += 1;
            for addr in [flush, code_store].into_iter().flatten() {
                self.cache.invalidate(addr, 1);
                self.code_changes.push(addr / PAGE_SIZE);
            }
            match reported {
                Some(Event::Gate) => return Exit::Gate { pc },
                Some(_) => return Exit::NewContext,
                None => {}
            }
            if to_jump && cpu.iaoq_front != pc.wrapping_add(4) && cpu.at_block_entry() {
                return Exit::Budget;
            }
        }
    }
}

/// Moves the instruction address queue one step: the back entry becomes the
/// front, `next` the new back.
#[inline]
fn advance(cpu: &mut CpuState, next: u32, next_space: u32, nullify: bool) {
    cpu.iaoq_front = cpu.iaoq_back;
    cpu.iaoq_back = next;
    cpu.iasq_front = cpu.iasq_back;
    cpu.iasq_back = next_space;
    cpu.psw_n = nullify as u32;
}

enum Stop {
    Event(Event),
    Fault(MemFault),
}

/// The emitter that evaluates semantics immediately on a [`CpuState`].
struct Eval<'a, M> {
    cpu: &'a mut CpuState,
    mem: &'a mut M,
    next: u32,
    next_space: u32,
    nullify: bool,
    stop: Option<Stop>,
    flush: Option<u32>,
    /// Pages holding cached code, and the address of a store into one.
    code: &'a CodePages,
    code_store: Option<u32>,
    /// An event reported after the instruction ([`Event::Gate`],
    /// [`Event::NewContext`]).
    reported: Option<Event>,
}

impl<'a, M: GuestMemory> Eval<'a, M> {
    #[inline]
    fn new(cpu: &'a mut CpuState, mem: &'a mut M, code: &'a CodePages) -> Self {
        let next = cpu.iaoq_back.wrapping_add(4);
        let next_space = cpu.iasq_back;
        Eval {
            cpu,
            mem,
            next,
            next_space,
            nullify: false,
            stop: None,
            flush: None,
            code,
            code_store: None,
            reported: None,
        }
    }

    /// A store into a page holding cached code: drop it after the instruction.
    #[inline]
    fn note_code_store(&mut self, addr: u32) {
        if self.code.contains(addr / PAGE_SIZE) {
            self.code_store = Some(addr);
        }
    }

    #[inline]
    fn fault<T>(&mut self, r: Result<T, MemFault>) -> Result<T, Stopped> {
        r.map_err(|f| {
            self.stop = Some(Stop::Fault(f));
            Stopped
        })
    }
}

impl<M: GuestMemory> Emitter for Eval<'_, M> {
    type Val = u32;
    type Wide = u64;
    type Flag = bool;

    #[inline]
    fn imm(&mut self, v: u32) -> u32 {
        v
    }
    #[inline]
    fn imm_flag(&mut self, b: bool) -> bool {
        b
    }

    #[inline]
    fn gr(&mut self, r: u8) -> u32 {
        self.cpu.gr[r as usize & 31]
    }
    #[inline]
    fn set_gr(&mut self, r: u8, v: u32) {
        if r != 0 {
            self.cpu.gr[r as usize & 31] = v;
        }
    }
    #[inline]
    fn fr(&mut self, r: u8) -> u64 {
        self.cpu.fr[r as usize & 31]
    }
    #[inline]
    fn set_fr(&mut self, r: u8, v: u64) {
        self.cpu.fr[r as usize & 31] = v;
    }
    #[inline]
    fn sr(&mut self, r: u8) -> u32 {
        self.cpu.sr[r as usize & 7]
    }
    #[inline]
    fn set_sr(&mut self, r: u8, v: u32) {
        self.cpu.sr[r as usize & 7] = v;
    }
    #[inline]
    fn cr(&mut self, r: u8) -> u32 {
        self.cpu.cr[r as usize & 31]
    }
    #[inline]
    fn set_cr(&mut self, r: u8, v: u32) {
        self.cpu.cr[r as usize & 31] = v;
    }
    #[inline]
    fn psw_cb(&mut self) -> u32 {
        self.cpu.psw_cb
    }
    #[inline]
    fn psw_cb_msb(&mut self) -> u32 {
        self.cpu.psw_cb_msb
    }
    #[inline]
    fn set_psw_cb(&mut self, cb: u32, msb: u32) {
        self.cpu.psw_cb = cb;
        self.cpu.psw_cb_msb = msb;
    }
    #[inline]
    fn psw_v(&mut self) -> u32 {
        self.cpu.psw_v
    }
    #[inline]
    fn set_psw_v(&mut self, v: u32) {
        self.cpu.psw_v = v;
    }
    #[inline]
    fn iaoq_back(&mut self) -> u32 {
        self.cpu.iaoq_back
    }
    #[inline]
    fn iasq_back(&mut self) -> u32 {
        self.cpu.iasq_back
    }
    #[inline]
    fn psw(&mut self) -> u32 {
        self.cpu.psw
    }
    #[inline]
    fn priv_level(&mut self) -> u32 {
        self.cpu.priv_level
    }
    #[inline]
    fn set_priv_level(&mut self, pl: u32) {
        self.cpu.priv_level = pl;
    }

    #[inline]
    fn add(&mut self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }
    #[inline]
    fn add_carry(&mut self, a: u32, b: u32, carry_in: u32) -> (u32, u32) {
        let wide = a as u64 + b as u64 + carry_in as u64;
        (wide as u32, (wide >> 32) as u32)
    }
    #[inline]
    fn sub(&mut self, a: u32, b: u32) -> u32 {
        a.wrapping_sub(b)
    }
    #[inline]
    fn and(&mut self, a: u32, b: u32) -> u32 {
        a & b
    }
    #[inline]
    fn or(&mut self, a: u32, b: u32) -> u32 {
        a | b
    }
    #[inline]
    fn xor(&mut self, a: u32, b: u32) -> u32 {
        a ^ b
    }
    #[inline]
    fn not(&mut self, a: u32) -> u32 {
        !a
    }
    #[inline]
    fn shl(&mut self, a: u32, n: u32) -> u32 {
        a.wrapping_shl(n)
    }
    #[inline]
    fn shr(&mut self, a: u32, n: u32) -> u32 {
        a.wrapping_shr(n)
    }
    #[inline]
    fn sar(&mut self, a: u32, n: u32) -> u32 {
        (a as i32).wrapping_shr(n) as u32
    }
    #[inline]
    fn rotr(&mut self, a: u32, n: u32) -> u32 {
        a.rotate_right(n & 31)
    }
    #[inline]
    fn mul_wide(&mut self, a: u32, b: u32) -> u64 {
        a as u64 * b as u64
    }

    #[inline]
    fn cmp(&mut self, c: Cmp, a: u32, b: u32) -> bool {
        match c {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => (a as i32) < (b as i32),
            Cmp::Le => (a as i32) <= (b as i32),
            Cmp::Ltu => a < b,
            Cmp::Leu => a <= b,
        }
    }
    #[inline]
    fn flag_and(&mut self, a: bool, b: bool) -> bool {
        a & b
    }
    #[inline]
    fn flag_or(&mut self, a: bool, b: bool) -> bool {
        a | b
    }
    #[inline]
    fn flag_not(&mut self, a: bool) -> bool {
        !a
    }
    #[inline]
    fn select(&mut self, f: bool, if_true: u32, if_false: u32) -> u32 {
        if f {
            if_true
        } else {
            if_false
        }
    }
    #[inline]
    fn flag_val(&mut self, f: bool) -> u32 {
        f as u32
    }

    #[inline]
    fn pair(&mut self, high: u32, low: u32) -> u64 {
        (high as u64) << 32 | low as u64
    }
    #[inline]
    fn high(&mut self, w: u64) -> u32 {
        (w >> 32) as u32
    }
    #[inline]
    fn low(&mut self, w: u64) -> u32 {
        w as u32
    }

    #[inline]
    fn load(&mut self, w: Width, addr: u32) -> Result<u32, Stopped> {
        let r = match w {
            Width::Byte => self.mem.read_u8(addr).map(u32::from),
            Width::Half => self.mem.read_u16(addr).map(u32::from),
            Width::Word => self.mem.read_u32(addr),
        };
        self.fault(r)
    }
    #[inline]
    fn load_wide(&mut self, addr: u32) -> Result<u64, Stopped> {
        let r = self.mem.read_u64(addr);
        self.fault(r)
    }
    #[inline]
    fn store(&mut self, w: Width, addr: u32, v: u32) -> Flow {
        let r = match w {
            Width::Byte => self.mem.write_u8(addr, v as u8),
            Width::Half => self.mem.write_u16(addr, v as u16),
            Width::Word => self.mem.write_u32(addr, v),
        };
        self.fault(r)?;
        self.note_code_store(addr);
        Ok(())
    }
    #[inline]
    fn store_wide(&mut self, addr: u32, v: u64) -> Flow {
        let r = self.mem.write_u64(addr, v);
        self.fault(r)?;
        self.note_code_store(addr);
        Ok(())
    }

    fn call_fp(&mut self, f: FpHelper, status: u32, a: u64, b: u64, param: u32) -> (u64, u32, u32) {
        let out = f(status, a, b, param);
        (out.bits, out.status, out.trap)
    }

    #[inline]
    fn branch(&mut self, target: u32) {
        self.next = target;
    }
    #[inline]
    fn branch_if(&mut self, taken: bool, target: u32) {
        if taken {
            self.next = target;
        }
    }
    #[inline]
    fn branch_space(&mut self, space: u32) {
        self.next_space = space;
    }
    #[inline]
    fn nullify_next(&mut self, f: bool) {
        self.nullify = f;
    }
    #[inline]
    fn trap_if(&mut self, f: bool, ev: Event) -> Flow {
        if !f {
            Ok(())
        } else if matches!(ev, Event::Gate | Event::NewContext) {
            self.reported = Some(ev);
            Ok(())
        } else {
            Err(self.stop(ev))
        }
    }
    #[inline]
    fn stop(&mut self, ev: Event) -> Stopped {
        self.stop = Some(Stop::Event(ev));
        Stopped
    }
    #[inline]
    fn flush_icache(&mut self, addr: u32) {
        self.flush = Some(addr);
    }
}
