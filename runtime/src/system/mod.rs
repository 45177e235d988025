//! System mode: hbft as a hypervisor for a PA-RISC guest kernel on a
//! virtual board (docs/board.md).
//!
//! The engines execute the guest as they execute a user process; privilege
//! is virtual state in [`CpuState`] (`psw`, `priv_level`) that the shared
//! semantics read for the privilege-sensitive instructions they execute
//! themselves (branch links, `b,gate`, privilege-lowering indirect
//! branches). Every privileged instruction stops the engine, and this
//! module emulates it ([`privileged`]) — trap and emulate, as the paper's
//! hypervisor did. A load or store to a device register faults in the
//! engine (nothing is mapped there) and is re-executed by the interpreter
//! over a [`mmu::SystemMemory`] that reaches the devices.
//!
//! Time is cut into epochs of N retired instructions. Device interrupts and
//! the interval timer are collected during an epoch and posted to EIRR at
//! its end, where an enabled request interrupts the guest (interruption 4).
//! Two epoch sources give the same epochs: `Bt` lets the engine run N
//! instructions with its injected counters; `RecoveryCounter` models the
//! paper's prototype, which programmed the hardware recovery counter and
//! took its trap: the engine is stepped one instruction at a time and a
//! hypervisor counter, decremented per retired instruction, "traps" at 0.
//!
//! With PSW D or C set the engines run on [`mmu::SystemMemory`], which
//! translates through the guest's TLB; with both clear they run on RAM
//! directly. Host-side caches of code (the interpreter's decodings, the
//! JIT's blocks) are keyed by offset alone, so each code context has its
//! own engine ([`engines`]); translated data accesses of the JIT go
//! through a host data TLB ([`mmu::HostTables`]).

pub mod board;
pub mod control;
pub mod engines;
pub mod journal;
pub mod mmu;
pub mod privileged;
pub mod tlb;

use std::hash::Hasher;
use std::time::{Duration, Instant};


use hbft_frontend::elf::ElfImage;
use hbft_translator::interp::{Exit, Interpreter, Trap};
use hbft_translator::memory::{GuestMemory, MemFault};
use hbft_translator::state::{psw, CpuState, KERNEL_PRIVILEGE};

use crate::journal::{EpochEnd, ReplayError, RunEnd};
use crate::memory::{AddressSpace, Layout, PERM_RWX};
use crate::state_hash::StateHasher;
use crate::user_mode::EngineKind;
use board::{Board, RAM_BYTES};
use control::{reg, Cause, Control, Interruption};
use engines::{CodeContext, Engines};
use mmu::{Context, Denied, HostTables, Refusal, SystemMemory, PID_REGS};
use privileged::{emulate, trap};

/// Default epoch length in system mode: short, because interrupts (timer,
/// disk completion) reach the kernel only at epoch ends.
pub const DEFAULT_SYSTEM_EPOCH: u64 = 1 << 12;

/// What ends epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochSource {
    /// The recovery-counter trap model, one instruction at a time.
    RecoveryCounter,
    /// The engine's budget (injected counters in the JIT).
    Bt,
}

/// Why a kernel could not boot or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("kernel image: {0}")]
    Elf(#[from] hbft_frontend::elf::ElfError),
    #[error("kernel segment at {addr:#010x} (+{len:#x} bytes) is outside RAM (0x1000..{RAM_BYTES:#x})")]
    Segment { addr: u32, len: u32 },
    #[error("kernel entry {0:#010x} is outside RAM (0x1000..{RAM_BYTES:#x})")]
    Entry(u32),
    #[error("cannot reserve guest memory: {0}")]
    Memory(std::io::Error),
    #[error("cannot start the JIT: {0}")]
    Jit(String),
    #[error("guest {fault} at pc {pc:#010x} (no RAM or device there)")]
    Fault { fault: MemFault, pc: u32 },
    #[error("guest branched to page zero ({pc:#010x}), which the board leaves empty")]
    PageZero { pc: u32 },
    #[error("disk I/O: {0}")]
    Disk(std::io::Error),
    #[error("console: {0}")]
    Console(std::io::Error),
    #[error(transparent)]
    Journal(#[from] ReplayError),
    #[error("the board has a disk but no disk image to continue live with")]
    NoLiveDisk,
}

/// Counters of a finished run.
#[derive(Debug, Clone, Default)]
pub struct SystemReport {
    /// The value the kernel wrote to the power-off register.
    pub power_off: u32,
    pub retired: u64,
    pub epochs: u64,
    /// Interruptions delivered, external ones among them.
    pub interruptions: u64,
    pub external: u64,
    /// Privileged instructions emulated.
    pub emulated: u64,
    /// Device register accesses.
    pub device_accesses: u64,
    /// Environment results the board recorded or replayed.
    pub events: u64,
    /// Disk transfers completed as uncertain after a takeover.
    pub uncertain: u64,
    pub host_time: Duration,
    /// xxh3 of the CPU state at each epoch end, in order.
    pub epoch_hashes: Vec<u64>,
}

/// A booted board.
pub struct SystemMode {
    pub cpu: CpuState,
    ram: AddressSpace,
    ctl: Control,
    board: Board,
    /// The engine of the current code context (and those of others).
    engines: Engines,
    tables: HostTables,
    /// Executes the single instructions that touch devices.
    device_interp: Interpreter,
    epoch: u64,
    /// The board has begun the current epoch.
    in_epoch: bool,
    source: EpochSource,
    hasher: StateHasher,
    report: SystemReport,
}

impl SystemMode {
    /// Loads the kernel ELF into physical memory (at its link addresses)
    /// and resets the CPU: PSW 0, privilege level 0, at the entry point.
    pub fn boot(kernel: &[u8], board: Board, engine: EngineKind, epoch: u64, source: EpochSource) -> Result<SystemMode, SystemError> {
        let image = ElfImage::parse(kernel)?;
        let mut ram = AddressSpace::new(Layout::linux_parisc32(0)).map_err(SystemError::Memory)?;
        ram.map_fixed(0, RAM_BYTES, PERM_RWX).map_err(|e| SystemError::Memory(std::io::Error::other(e)))?;
        for seg in &image.segments {
            let end = u64::from(seg.vaddr) + u64::from(seg.mem_size);
            if seg.vaddr < 0x1000 || end > u64::from(RAM_BYTES) {
                return Err(SystemError::Segment { addr: seg.vaddr, len: seg.mem_size });
            }
            ram.load_bytes(seg.vaddr, &seg.data).map_err(|e| SystemError::Memory(std::io::Error::other(e)))?;
        }
        if image.entry < 0x1000 || image.entry >= RAM_BYTES {
            return Err(SystemError::Entry(image.entry));
        }
        let cpu = CpuState { psw: 0, priv_level: KERNEL_PRIVILEGE, ..CpuState::at(image.entry) };
        let engines = Engines::new(engine)?;
        Ok(SystemMode {
            cpu,
            ram,
            ctl: Control::default(),
            board,
            engines,
            tables: HostTables::default(),
            device_interp: Interpreter::new(),
            epoch: epoch.max(1),
            in_epoch: false,
            source,
            hasher: StateHasher::new(),
            report: SystemReport::default(),
        })
    }

    /// Runs until the kernel powers the board off.
    pub fn run(mut self) -> Result<SystemReport, SystemError> {
        let start = Instant::now();
        let v = loop {
            if let Some(v) = self.advance(u64::MAX)? {
                break v;
            }
        };
        let state_hash = self.state_hash();
        self.board.run_end(RunEnd { retired: self.cpu.retired, exit_status: v as i32, state_hash })?;
        self.report.power_off = v;
        self.report.retired = self.cpu.retired;
        self.report.events = self.board.events();
        self.report.uncertain = self.board.uncertain;
        self.report.host_time = start.elapsed();
        Ok(self.report)
    }

    /// Runs, epoch after epoch, until `limit` instructions have retired
    /// (the engines stop exactly there, or just after an emulated
    /// instruction that crosses it) or the kernel powers the board off,
    /// which returns the value it wrote.
    fn advance(&mut self, limit: u64) -> Result<Option<u32>, SystemError> {
        loop {
            if !self.in_epoch {
                self.board.begin_epoch(self.report.epochs)?;
                self.in_epoch = true;
            }
            let epoch_end = (self.report.epochs + 1) * self.epoch;
            while self.cpu.retired < epoch_end {
                if self.cpu.retired >= limit {
                    return Ok(None);
                }
                self.step((epoch_end - self.cpu.retired).min(limit - self.cpu.retired))?;
                if let Some(v) = self.board.power_off {
                    return Ok(Some(v));
                }
            }
            self.end_epoch()?;
            self.in_epoch = false;
        }
    }

    /// Runs at most `budget` instructions and handles what stopped them.
    fn step(&mut self, budget: u64) -> Result<(), SystemError> {
        // The guest's own recovery counter: stop where it runs out.
        let counting = self.cpu.psw & psw::R != 0;
        let rc = self.cpu.cr[0] as i32;
        let budget = if counting && rc >= 0 { budget.min(rc as u64 + 1) } else { budget };
        // Between a branch to another space and its target the queue spans
        // two spaces: step it, so cached code never outlives its space.
        let spanning = self.cpu.psw & psw::C != 0 && self.cpu.iasq_front != self.cpu.iasq_back;
        let budget = if spanning { 1 } else { budget };
        self.check_code_context()?;
        let before = self.cpu.retired;
        let (exit, refused) = match self.source {
            EpochSource::Bt => self.run_engine(budget),
            EpochSource::RecoveryCounter => self.recovery_counter_run(budget),
        };
        if spanning {
            self.engines.current.invalidate_all();
        }
        let ran = self.cpu.retired - before;
        let mut rc_trap = counting && Control::count_down(&mut self.cpu, ran);
        let before = self.cpu.retired;
        let interrupted = self.handle(exit, refused)?;
        if counting && !interrupted && self.cpu.retired > before {
            let n = self.cpu.retired - before;
            rc_trap |= Control::count_down(&mut self.cpu, n);
        }
        if rc_trap && !interrupted && self.cpu.psw & psw::R != 0 {
            self.deliver(Interruption::RecoveryCounter, Cause::default());
        }
        Ok(())
    }

    /// The recovery-counter epoch source: the hypervisor's counter is set to
    /// the budget and decremented after every instruction; the epoch (or
    /// this run) ends when it reaches 0, like the trap the prototype took.
    fn recovery_counter_run(&mut self, budget: u64) -> (Exit, Option<Refusal>) {
        let mut counter = budget;
        while counter > 0 {
            let before = self.cpu.retired;
            let (exit, refused) = self.run_engine(1);
            counter -= self.cpu.retired - before;
            if exit != Exit::Budget {
                return (exit, refused);
            }
        }
        (Exit::Budget, None)
    }

    /// Runs the engine on RAM, or on translated memory when PSW D or C is
    /// set; returns the exit and, for a refused translated access, why.
    fn run_engine(&mut self, budget: u64) -> (Exit, Option<Refusal>) {
        if self.cpu.psw & (psw::D | psw::C) == 0 {
            return (self.engines.current.run(&mut self.cpu, &mut self.ram, budget), None);
        }
        let mut mem = SystemMemory::new(&mut self.ram, None, &self.ctl.itlb, &self.ctl.dtlb, Context::of(&self.cpu), &mut self.tables);
        let exit = self.engines.current.run(&mut self.cpu, &mut mem, budget);
        (exit, mem.refused.get())
    }

    /// Switches to the engine of the current code context.
    fn check_code_context(&mut self) -> Result<(), SystemError> {
        let now = if self.cpu.psw & psw::C == 0 {
            CodeContext::Physical
        } else {
            CodeContext::Translated {
                spaces: (self.cpu.iasq_front, self.cpu.iasq_back),
                priv_level: self.cpu.priv_level,
                pids: PID_REGS.map(|r| self.cpu.cr[r]),
                itlb_changes: self.ctl.itlb.changes,
            }
        };
        self.engines.enter(now, &self.ctl.itlb, &self.ram)
    }

    fn deliver(&mut self, n: Interruption, cause: Cause) {
        self.report.interruptions += 1;
        self.ctl.interrupt(&mut self.cpu, n, cause);
    }

    /// The instruction word at the queue front (for IIR and emulation),
    /// fetched as the CPU fetches it.
    fn word_at_pc(&mut self) -> u32 {
        let pc = self.cpu.iaoq_front;
        let mem = SystemMemory::new(&mut self.ram, None, &self.ctl.itlb, &self.ctl.dtlb, Context::of(&self.cpu), &mut self.tables);
        mem.fetch(pc).unwrap_or(0)
    }

    /// Handles an engine exit (and the refusal behind a fault); returns
    /// whether an interruption was delivered.
    fn handle(&mut self, exit: Exit, refused: Option<Refusal>) -> Result<bool, SystemError> {
        let pc = self.cpu.iaoq_front;
        let word = self.word_at_pc();
        let interruption = match exit {
            Exit::Budget => return Ok(false),
            Exit::Privileged { .. } | Exit::Probe { .. } => {
                self.report.emulated += 1;
                let done = emulate(&mut self.cpu, &mut self.ctl, word);
                return Ok(self.emulated(done));
            }
            // With PSW S set the interval timer is readable at level 0 only.
            Exit::IntervalTimer { .. } if self.cpu.priv_level != KERNEL_PRIVILEGE && self.cpu.psw & control::PSW_S != 0 => {
                Interruption::PrivilegedRegister
            }
            Exit::IntervalTimer { t } => {
                if t != 0 {
                    self.cpu.gr[t as usize] = control::clock(&self.cpu);
                }
                self.cpu.retire_current();
                return Ok(false);
            }
            Exit::Gate { pc } => {
                self.gate(pc);
                return Ok(false);
            }
            // The next run compares the code context.
            Exit::NewContext => return Ok(false),
            Exit::Fault(fault) => {
                let refusal = match (fault, refused) {
                    (MemFault::Protection { .. }, Some(r)) => r,
                    (MemFault::Unaligned { addr, .. }, _) => {
                        let space = Context::of(&self.cpu).data_space(addr);
                        let cause = Cause { iir: Some(word), data: Some((space, addr)) };
                        self.deliver(Interruption::UnalignedData, cause);
                        return Ok(true);
                    }
                    (MemFault::Unmapped { addr, .. }, _) if addr >= board::MMIO_BASE => {
                        return self.device_access(fault, pc);
                    }
                    _ => return Err(SystemError::Fault { fault, pc }),
                };
                let Some(n) = refusal.interruption() else {
                    return self.device_access(fault, pc);
                };
                self.deliver(n, Cause { iir: Some(word), data: Some((refusal.space, refusal.offset)) });
                return Ok(true);
            }
            Exit::Gateway { .. } => return Err(SystemError::PageZero { pc }),
            Exit::Illegal { .. } => Interruption::IllegalInstruction,
            Exit::Break { .. } => Interruption::Break,
            Exit::Trap(Trap::Overflow) => Interruption::Overflow,
            Exit::Trap(Trap::Condition) => Interruption::Conditional,
            Exit::Trap(Trap::FpException) => Interruption::AssistException,
        };
        let done = trap(&mut self.cpu, &mut self.ctl, interruption, word);
        self.emulated(done);
        Ok(true)
    }

    /// After `b,gate` at `pc` with code translation on: a gateway page
    /// (access rights type 4..7) promotes to level type - 4 when that is
    /// more privileged (PA-RISC 1.1 ch. 4 "Privilege Level Changes"). The
    /// branch has executed; the level changes at the branch, as hbft's
    /// other privilege changes do.
    fn gate(&mut self, pc: u32) {
        let level = self.ctl.itlb.lookup(self.cpu.iasq_front, pc).and_then(|e| e.gateway_level());
        if let Some(level) = level {
            self.cpu.priv_level = self.cpu.priv_level.min(level);
        }
    }

    fn emulated(&mut self, done: privileged::Done) -> bool {
        match done {
            privileged::Done::Retired => false,
            privileged::Done::Interrupted(_) => {
                self.report.interruptions += 1;
                true
            }
        }
    }

    /// Re-executes the instruction at the queue front with the interpreter
    /// over the bus, then performs a disk transfer it started.
    fn device_access(&mut self, fault: MemFault, pc: u32) -> Result<bool, SystemError> {
        self.report.device_accesses += 1;
        // The device interpreter's decodings are not kept across guest changes.
        self.device_interp.invalidate_all();
        let mut bus = SystemMemory::new(&mut self.ram, Some(&mut self.board), &self.ctl.itlb, &self.ctl.dtlb, Context::of(&self.cpu), &mut self.tables);
        match self.device_interp.run(&mut self.cpu, &mut bus, 1) {
            Exit::Budget => {}
            Exit::Fault(_) if bus.refused.get().is_none_or(|r| r.denied == Denied::Device) => {
                return Err(SystemError::Fault { fault, pc })
            }
            other => {
                let refused = bus.refused.get();
                return self.handle(other, refused);
            }
        }
        self.board.check()?;
        Ok(false)
    }

    /// The state hash of an epoch end: CPU and memory, the privileged state
    /// outside `CpuState` (interruption queue backs, timer, TLBs) and the
    /// device registers.
    fn state_hash(&mut self) -> u64 {
        // The hash clears RAM's dirty bitmap (see HostTables::flush).
        self.tables.flush();
        self.engines.epoch_end(&self.ram);
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.write_u64(self.hasher.epoch_hash(&self.cpu, &mut self.ram));
        std::hash::Hash::hash(&self.ctl, &mut h);
        self.board.hash_devices(&mut h);
        h.finish()
    }

    /// The end of an epoch: hash the state, let the board complete its
    /// transfer and journal the end, post the buffered interrupts to EIRR
    /// and interrupt the guest if one is enabled.
    fn end_epoch(&mut self) -> Result<(), SystemError> {
        let epoch = self.report.epochs;
        self.report.epochs += 1;
        let state_hash = self.state_hash();
        self.report.epoch_hashes.push(state_hash);
        let end = EpochEnd { epoch, retired: self.cpu.retired, interrupts: Vec::new(), state_hash };
        let outcome = self.board.epoch_end(&mut self.ram, end)?;
        if let Some((addr, len)) = outcome.dma {
            self.engines.current.invalidate(addr, len);
        }
        let mut posted = outcome.posted;
        if self.ctl.timer_due(&self.cpu) {
            posted |= board::IRQ_TIMER;
        }
        self.cpu.cr[reg::EIRR] |= posted;
        let enabled = self.cpu.cr[reg::EIRR] & self.cpu.cr[reg::EIEM] != 0;
        if enabled && self.cpu.psw & psw::I != 0 {
            self.report.external += 1;
            self.deliver(Interruption::External, Cause::default());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
