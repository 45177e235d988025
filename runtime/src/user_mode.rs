//! Running a Linux/parisc program: the loop around an engine that turns
//! entries into the gateway page into system calls, engine exits into
//! signals, and keeps the exact instruction count.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use hbft_frontend::elf::{ElfError, ElfImage};
use hbft_translator::engine::Engine;
use hbft_translator::interp::{Exit, Interpreter, Trap};
use hbft_translator::jit::{Jit, JitConfig, JitError};
use hbft_translator::memory::MemFault;
use hbft_translator::state::{cr, CpuState};

use crate::epoch::{collect_live_interrupts, forward_host_signals, TimerLateness, DEFAULT_EPOCH};
use crate::journal::{
    describe, reopen_files, Entry, EpochEnd, EpochSink, EpochSource, EpochStart, GoLiveError, Interrupt,
    JournalError, RecordingEnvironment, Recorder, ReplayEnvironment, ReplayError, ReplayOutput, Replayer, RunEnd,
    Takeover,
};
use crate::linux::startup::{load_interpreter, load_program, StartupError};
use crate::linux::Environment;
use crate::state_hash::StateHasher;
use crate::linux::signal::*;
use crate::linux::{deliver_signal, Delivery, HostEnvironment, LinuxProcess, LwsArgs, SigInfo, SignalError, SyscallOutcome};
use crate::memory::{AddressSpace, Layout};

/// Largest stack a guest may grow (Linux's default RLIMIT_STACK ceiling for
/// the layout's stack placement).
const STACK_MAX: u32 = 100 << 20;

/// Instructions an engine runs before control returns to this loop even
/// without an event (the loop then simply continues).
const SLICE: u64 = 1 << 24;

/// Gateway-page entry points (Linux arch/parisc/kernel/syscall.S).
const GATEWAY_LWS: u32 = 0xb0;
const GATEWAY_SET_THREAD_POINTER: u32 = 0xe0;
const GATEWAY_SYSCALL: u32 = 0x100;


/// What a user-mode run needs besides the program.
#[derive(Debug, Clone, Default)]
pub struct UserModeConfig {
    /// Arguments, `argv[0]` included.
    pub argv: Vec<Vec<u8>>,
    /// Environment strings `NAME=value`.
    pub envp: Vec<Vec<u8>>,
    /// Where dynamically linked programs find their `ld.so` and libraries.
    pub sysroot: Option<PathBuf>,
    /// Print every system call like strace.
    pub strace: bool,
    /// The engine that executes guest code.
    pub engine: EngineKind,
    /// Epoch length in retired instructions; `None` for [`DEFAULT_EPOCH`].
    pub epoch: Option<u64>,
}

/// Where a run's environment comes from and where its journal goes.
pub enum Journaling {
    /// A live run with environment `env`; with a sink, every environment
    /// result and epoch end is journaled there and the state is hashed at
    /// every epoch end.
    Live { env: Box<dyn Environment>, sink: Option<Box<dyn EpochSink>> },
    /// A replay of a journal: no host I/O except, if asked, the guest's
    /// output to its standard streams.
    Replay { source: Box<dyn EpochSource>, output: ReplayOutput },
}

impl Journaling {
    /// A plain live run on the host: nothing journaled.
    pub fn host() -> Journaling {
        Journaling::Live { env: Box::new(HostEnvironment), sink: None }
    }
}

/// The journal side of a running guest.
enum Journal {
    Live(Option<Rc<RefCell<Recorder>>>),
    Replay(Rc<RefCell<Replayer>>),
}

/// Why a run stopped before the guest ended.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Replay(#[from] ReplayError),
    #[error("{0}")]
    Sink(JournalError),
    #[error("{0}")]
    GoLive(#[from] GoLiveError),
}

/// The execution engines a run can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// The reference interpreter: exact per-instruction counting.
    Interp,
    /// The Cranelift JIT; without its injected instruction counter
    /// (`icount: false`) budgets become approximate and retired counts
    /// incomplete.
    Jit(JitConfig),
}

impl Default for EngineKind {
    fn default() -> Self {
        EngineKind::Jit(JitConfig::default())
    }
}

impl EngineKind {
    /// Whether the engine counts every retired instruction, so that epochs
    /// end where they should: all but the JIT without its counter.
    pub fn counts_exactly(self) -> bool {
        !matches!(self, EngineKind::Jit(JitConfig { icount: false, .. }))
    }

    /// This engine with translated stores marking the dirty bitmap, for
    /// runs that read it (the state hash).
    pub(crate) fn marking_dirty_pages(self) -> EngineKind {
        match self {
            EngineKind::Jit(config) => EngineKind::Jit(JitConfig { dirty_pages: true, ..config }),
            interp => interp,
        }
    }

    pub(crate) fn build(self) -> Result<Box<dyn Engine<AddressSpace>>, JitError> {
        Ok(match self {
            EngineKind::Interp => Box::new(Interpreter::new()),
            EngineKind::Jit(config) => Box::new(Jit::new(config)?),
        })
    }
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum UserModeError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Elf { path: String, source: ElfError },
    #[error("{path} is dynamically linked (interpreter {interp}) and no sysroot was found; pass -L SYSROOT")]
    NoSysroot { path: String, interp: String },
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("cannot reserve guest memory: {0}")]
    Memory(std::io::Error),
    #[error("{0}")]
    Jit(#[from] JitError),
}

/// How the guest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// exit/exit_group with this status.
    Exited(i32),
    /// Killed by a signal whose default action terminates.
    Killed(Kill),
}

/// A guest killed by a signal: which, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub signal: u32,
    pub pc: u32,
    /// The instruction word at `pc`, if it could be read.
    pub word: Option<u32>,
    pub reason: String,
}

impl Termination {
    /// The exit status a shell would see: the guest's, or 128 + signal.
    pub fn exit_status(&self) -> i32 {
        match self {
            Termination::Exited(status) => *status,
            Termination::Killed(kill) => 128 + kill.signal as i32,
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub termination: Termination,
    /// Retired (non-nullified) guest instructions.
    pub retired: u64,
    pub host_time: Duration,
    /// Epoch boundaries passed.
    pub epochs: u64,
    /// Environment results journaled or replayed.
    pub events: u64,
    /// A replaying run that continued live: the first live epoch and the
    /// retired count there.
    pub went_live: Option<(u64, u64)>,
    /// How late the live epochs delivered timer interrupts.
    pub timer_lateness: TimerLateness,
}

impl RunReport {
    /// Guest millions of instructions per host second.
    pub fn mips(&self) -> f64 {
        self.retired as f64 / self.host_time.as_secs_f64().max(1e-9) / 1e6
    }
}

/// A loaded Linux program ready to run: CPU, memory and process.
pub struct UserMode {
    pub cpu: CpuState,
    pub mem: AddressSpace,
    pub process: LinuxProcess,
    engine: Box<dyn Engine<AddressSpace>>,
    /// Where and why the last synchronous signal was raised, for the report
    /// if its default action kills the guest.
    last_fault: Option<Kill>,
    epoch_len: u64,
    /// The current epoch (numbered from 0).
    epoch: u64,
    journal: Journal,
    /// Present when the run is journaled or replayed.
    hasher: Option<StateHasher>,
    went_live: Option<(u64, u64)>,
    timer_lateness: TimerLateness,
    /// The guest waits in pause/sigsuspend; the mask to restore.
    suspended: Option<u64>,
    /// Host SIGHUP/SIGINT/SIGTERM go to the guest at epoch ends. Not with
    /// an engine that does not count (the JIT with `--icount off`): its
    /// epochs may never end — translated code returns only on events, and
    /// a loop without system calls never does — so those signals act on
    /// hbft itself and end it.
    forward_signals: bool,
}

impl UserMode {
    /// Loads the program at `path` (and its interpreter from the sysroot, if
    /// dynamically linked) with the live host environment.
    pub fn load(path: &Path, config: &UserModeConfig) -> Result<UserMode, UserModeError> {
        UserMode::load_with(path, config, Journaling::host())
    }

    /// Loads the program at `path` for a live, recorded or replayed run.
    pub fn load_with(path: &Path, config: &UserModeConfig, journaling: Journaling) -> Result<UserMode, UserModeError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| UserModeError::Read { path: shown.clone(), source })?;
        let image = ElfImage::parse(&bytes).map_err(|source| UserModeError::Elf { path: shown.clone(), source })?;
        let interp = match &image.interp {
            None => None,
            Some(interp) => {
                let sysroot = config
                    .sysroot
                    .as_deref()
                    .ok_or_else(|| UserModeError::NoSysroot { path: shown.clone(), interp: interp.clone() })?;
                Some(load_interpreter(sysroot, interp)?)
            }
        };
        let mut mem = AddressSpace::new(Layout::linux_parisc32(STACK_MAX)).map_err(UserModeError::Memory)?;
        // Translated stores may then skip their permission tests.
        mem.fault_unwritable_pages().map_err(UserModeError::Memory)?;
        let argv: Vec<&[u8]> = config.argv.iter().map(Vec::as_slice).collect();
        let envp: Vec<&[u8]> = config.envp.iter().map(Vec::as_slice).collect();
        let execfn = config.argv.first().map_or(shown.as_bytes(), Vec::as_slice);
        let init = load_program(&mut mem, &image, interp.as_ref(), &argv, &envp, execfn)?;

        // The engines keep the privilege level out of the queue (user mode is
        // always level 3); `init.pc` carries it in its low bits.
        let mut cpu = CpuState::at(init.pc & !3);
        cpu.gr = init.gr;
        let (env, journal, hasher): (Box<dyn Environment>, _, _) = match journaling {
            Journaling::Live { env, sink: None } => (env, Journal::Live(None), None),
            Journaling::Live { env, sink: Some(sink) } => {
                let recorder = Recorder::new(sink);
                let env = Box::new(RecordingEnvironment::new(env, recorder.clone()));
                (env, Journal::Live(Some(recorder)), Some(StateHasher::new()))
            }
            Journaling::Replay { source, output } => {
                let replayer = Replayer::new(source, output);
                let env = Box::new(ReplayEnvironment::new(replayer.clone()));
                (env, Journal::Replay(replayer), Some(StateHasher::new()))
            }
        };
        let mut process = LinuxProcess::new(env);
        process.set_strace(config.strace);
        process.set_sysroot(config.sysroot.as_deref());
        Ok(UserMode {
            cpu,
            mem,
            process,
            engine: if hasher.is_some() { config.engine.marking_dirty_pages() } else { config.engine }.build()?,
            last_fault: None,
            epoch_len: config.epoch.unwrap_or(DEFAULT_EPOCH).max(1),
            epoch: 0,
            journal,
            hasher,
            went_live: None,
            timer_lateness: TimerLateness::default(),
            suspended: None,
            forward_signals: config.engine.counts_exactly(),
        })
    }

    /// Runs the guest to its end, epoch by epoch. A live run forwards
    /// SIGHUP, SIGINT and SIGTERM sent to hbft to the guest (unless the
    /// engine does not count instructions, see `forward_signals`).
    pub fn run(&mut self) -> Result<RunReport, RunError> {
        let start = Instant::now();
        if let Journal::Live(_) = self.journal {
            self.forward_host_signals();
        }
        self.begin_epoch()?;
        let termination = loop {
            let boundary = (self.epoch + 1) * self.epoch_len;
            let budget = (boundary - self.cpu.retired).min(SLICE);
            let exit = self.run_engine(budget);
            let mut ended = self.handle(exit);
            self.step_end()?;
            if let Some(saved) = self.suspended.take() {
                ended = self.suspend(saved)?;
            } else if ended.is_none() && self.cpu.retired == boundary {
                self.end_epoch()?;
            }
            if let Some(end) = ended.or_else(|| self.deliver_pending()) {
                break end;
            }
        };
        self.finish(&termination)?;
        let events = match &self.journal {
            Journal::Live(recorder) => recorder.as_ref().map_or(0, |r| r.borrow().events),
            Journal::Replay(replayer) => replayer.borrow().events,
        };
        Ok(RunReport {
            termination,
            retired: self.cpu.retired,
            host_time: start.elapsed(),
            epochs: self.epoch,
            events,
            went_live: self.went_live,
            timer_lateness: self.timer_lateness,
        })
    }

    /// The guest waits for a signal (pause, sigsuspend). The virtual CPU
    /// retires no instruction while it idles, so the rest of the epoch
    /// passes at once: the count jumps to the boundary — on every replica
    /// and in replay alike — where the epoch's interrupts arrive. A live run
    /// first waits until there is an interrupt to deliver. The first
    /// deliverable signal ends the wait: -EINTR, and the handler's frame
    /// keeps the mask from before the call (the kernel's restore_sigmask).
    fn suspend(&mut self, saved: u64) -> Result<Option<Termination>, RunError> {
        loop {
            if let Journal::Live(_) = self.journal {
                crate::epoch::wait_for_interrupt(self.process.timers());
            }
            self.cpu.retired = (self.epoch + 1) * self.epoch_len;
            self.end_epoch()?;
            if let Some((signal, info)) = self.process.next_deliverable() {
                self.process.set_signal_mask(saved);
                self.return_from_gateway(crate::linux::Errno::EINTR.as_return());
                return match deliver_signal(&mut self.cpu, &mut self.mem, &mut self.process, signal, info) {
                    Ok(Delivery::Handler | Delivery::Ignored) => Ok(None),
                    Ok(Delivery::Terminate { sig, .. }) => Ok(Some(Termination::Killed(self.kill_report(sig)))),
                    Err(error) => unreachable_signal(error),
                };
            }
        }
    }

    /// After a system call: a live sink may hand the call's results on, a
    /// replaying source may hand the run over (its journal ended here).
    fn step_end(&mut self) -> Result<(), RunError> {
        if let Journal::Live(Some(recorder)) = &self.journal {
            recorder.borrow_mut().step_end();
        }
        self.check_journal()?;
        self.take_over_if_ended()
    }

    /// Continues live from this point if the replayed journal ends here.
    fn take_over_if_ended(&mut self) -> Result<(), RunError> {
        let Journal::Replay(replayer) = &self.journal else { return Ok(()) };
        let takeover = replayer.borrow_mut().source.takeover_now(self.cpu.retired).map_err(ReplayError::Journal)?;
        match takeover {
            Some(takeover) => self.go_live(takeover),
            None => Ok(()),
        }
    }

    /// Stops the run on the first failure of the sink or the replay.
    fn check_journal(&mut self) -> Result<(), RunError> {
        match &self.journal {
            Journal::Live(Some(recorder)) => match recorder.borrow_mut().failure.take() {
                Some(error) => Err(RunError::Sink(error)),
                None => Ok(()),
            },
            Journal::Live(None) => Ok(()),
            Journal::Replay(replayer) => match replayer.borrow_mut().failure.take() {
                Some(error) => Err(error.into()),
                None => Ok(()),
            },
        }
    }

    fn state_hash(&mut self) -> u64 {
        match &mut self.hasher {
            Some(hasher) => hasher.epoch_hash(&self.cpu, &mut self.mem),
            None => 0,
        }
    }

    /// The epoch boundary: hash, collect (live) or read (replay) the
    /// epoch's interrupts, raise them, and start the next epoch.
    fn end_epoch(&mut self) -> Result<(), RunError> {
        self.take_over_if_ended()?;
        let state_hash = self.state_hash();
        let (epoch, retired) = (self.epoch, self.cpu.retired);
        let interrupts = match &self.journal {
            Journal::Live(recorder) => {
                let interrupts = collect_live_interrupts(self.process.timers(), &mut self.timer_lateness);
                let end = EpochEnd { epoch, retired, interrupts, state_hash };
                if let Some(recorder) = recorder {
                    recorder.borrow_mut().sink.epoch_end(&end).map_err(RunError::Sink)?;
                }
                end.interrupts
            }
            Journal::Replay(replayer) => {
                let entry = replayer.borrow_mut().source.next_entry().map_err(ReplayError::Journal)?;
                match entry {
                    Entry::EpochEnd(end) if end.epoch == epoch && end.retired == retired => {
                        if end.state_hash != state_hash {
                            let what = format!(
                                "state hash {state_hash:016x} at {retired} instructions, recorded {:016x}",
                                end.state_hash
                            );
                            return Err(ReplayError::State { epoch, what }.into());
                        }
                        end.interrupts
                    }
                    other => {
                        let what = format!("the epoch ended at {retired} instructions, the journal has {}", describe(&other));
                        return Err(ReplayError::State { epoch, what }.into());
                    }
                }
            }
        };
        for interrupt in interrupts {
            match interrupt {
                Interrupt::Timer { timer, expirations } => self.process.timer_fired(timer, expirations),
                Interrupt::HostSignal(signal) => self.process.raise(signal, SigInfo::kernel()),
            }
        }
        self.epoch += 1;
        self.begin_epoch()
    }

    /// The start of an epoch: a replaying run asks its source whether the
    /// epoch is recorded, and goes live if not.
    fn begin_epoch(&mut self) -> Result<(), RunError> {
        let Journal::Replay(replayer) = &self.journal else { return Ok(()) };
        let start = {
            let mut replayer = replayer.borrow_mut();
            replayer.epoch = self.epoch;
            replayer.source.begin_epoch(self.epoch).map_err(ReplayError::Journal)?
        };
        match start {
            EpochStart::Recorded => Ok(()),
            EpochStart::GoLive(takeover) => self.go_live(takeover),
        }
    }

    /// Continues live from here (an epoch boundary, or between two system
    /// calls): recreates the host side of the guest's open files in the new
    /// environment and switches to it.
    fn go_live(&mut self, takeover: Takeover) -> Result<(), RunError> {
        let Journal::Replay(replayer) = &self.journal else { return Ok(()) };
        let files = replayer.borrow().files.clone();
        let mut env = takeover.env;
        let remap = reopen_files(&files, env.as_mut())?;
        let recorder = takeover.sink.map(Recorder::new);
        let env: Box<dyn Environment> = match &recorder {
            Some(recorder) => Box::new(RecordingEnvironment::new(env, recorder.clone())),
            None => env,
        };
        self.process.replace_environment(env, &remap);
        self.journal = Journal::Live(recorder);
        self.went_live = Some((self.epoch, self.cpu.retired));
        self.forward_host_signals();
        Ok(())
    }

    fn forward_host_signals(&self) {
        if self.forward_signals {
            forward_host_signals();
        }
    }

    /// The guest ended: the last journal entry.
    fn finish(&mut self, termination: &Termination) -> Result<(), RunError> {
        self.take_over_if_ended()?;
        let end = RunEnd { retired: self.cpu.retired, exit_status: termination.exit_status(), state_hash: self.state_hash() };
        match &self.journal {
            Journal::Live(Some(recorder)) => recorder.borrow_mut().sink.run_end(&end).map_err(RunError::Sink),
            Journal::Live(None) => Ok(()),
            Journal::Replay(replayer) => {
                let entry = replayer.borrow_mut().source.next_entry().map_err(ReplayError::Journal)?;
                match entry {
                    Entry::RunEnd(recorded) if recorded == end => Ok(()),
                    other => {
                        let what = format!(
                            "the guest ended with status {} at {} instructions (state {:016x}), the journal has {}",
                            end.exit_status,
                            end.retired,
                            end.state_hash,
                            describe_end(&other)
                        );
                        Err(ReplayError::State { epoch: self.epoch, what }.into())
                    }
                }
            }
        }
    }

    /// Lets the engine run at most `budget` instructions, then acts on why
    /// it stopped (system call, signal...); `Some` when the guest has ended.
    /// Without epochs or a journal: lockstep tests of the engines call it.
    pub fn run_slice(&mut self, budget: u64) -> Option<Termination> {
        let exit = self.run_engine(budget);
        self.handle(exit).or_else(|| self.deliver_pending())
    }

    /// Acts on one engine exit; `Some` when the guest has ended.
    fn handle(&mut self, exit: Exit) -> Option<Termination> {
        let gr = self.cpu.gr;
        match exit {
            Exit::Budget => None,
            Exit::Gateway { offset: GATEWAY_SYSCALL } => {
                let args = [gr[26], gr[25], gr[24], gr[23], gr[22], gr[21]];
                let nr = gr[20];
                let outcome = self.process.syscall(&mut self.mem, nr, args);
                match outcome {
                    SyscallOutcome::Return(value) => {
                        self.return_from_gateway(value);
                        None
                    }
                    SyscallOutcome::Exit(status) => Some(Termination::Exited(status)),
                    SyscallOutcome::Signal(signal) => {
                        self.return_from_gateway(0);
                        self.process.raise(signal, SigInfo::sender(SI_TKILL));
                        None
                    }
                    SyscallOutcome::Sigreturn => {
                        match crate::linux::sigreturn(&mut self.cpu, &mut self.mem, &mut self.process) {
                            Ok(()) => None,
                            Err(error) => self.fault(SIGSEGV, SigInfo::kernel(), error.to_string()),
                        }
                    }
                    SyscallOutcome::Suspend(mask) => {
                        let saved = self.process.signal_mask();
                        if let Some(mask) = mask {
                            self.process.set_signal_mask(mask);
                        }
                        self.suspended = Some(saved);
                        None
                    }
                }
            }
            Exit::Gateway { offset: GATEWAY_LWS } => {
                let args = LwsArgs { r26: gr[26], r25: gr[25], r24: gr[24], r23: gr[23] };
                let out = self.process.light_weight_syscall(&mut self.mem, gr[20], args);
                self.cpu.gr[21] = out.r21;
                self.return_from_gateway(out.r28);
                None
            }
            Exit::Gateway { offset: GATEWAY_SET_THREAD_POINTER } => {
                // The kernel's set_thread_pointer entry: cr27 = r26, back to r31.
                self.cpu.cr[cr::TP] = gr[26];
                self.cpu.resume_at(gr[31]);
                None
            }
            Exit::Gateway { offset } => self.fault(
                SIGSEGV,
                SigInfo::fault(SEGV_MAPERR, offset),
                format!("branch into the gateway page at offset {offset:#x}"),
            ),
            Exit::IntervalTimer { t } => {
                // CR16 as a virtual cycle counter: one cycle per retired
                // instruction, so reading it is deterministic.
                if t != 0 {
                    self.cpu.gr[usize::from(t)] = self.cpu.retired as u32;
                }
                self.cpu.retire_current();
                None
            }
            // A Linux process runs in one space at privilege level 3 and
            // never executes a gate (the runtime performs the gateway page):
            // nothing to do after such a branch.
            Exit::Gate { .. } | Exit::NewContext => None,
            Exit::Probe { write, base, t } => {
                let perms = self.mem.perms(gr[usize::from(base)]);
                let need = if write { crate::memory::PERM_WRITE } else { crate::memory::PERM_READ };
                if t != 0 {
                    self.cpu.gr[usize::from(t)] = u32::from(perms & need != 0);
                }
                self.cpu.retire_current();
                None
            }
            Exit::Fault(fault) => {
                let fault = match fault {
                    // Linux emulates misaligned loads and stores (not ldcw).
                    MemFault::Unaligned { .. } => {
                        match crate::linux::unaligned::complete_misaligned(&mut self.cpu, &mut self.mem, fault) {
                            Exit::Budget => return None,
                            Exit::Fault(fault) => fault,
                            other => return self.handle(other),
                        }
                    }
                    other => other,
                };
                let (signal, code) = match fault {
                    MemFault::Unaligned { .. } => (SIGBUS, BUS_ADRALN),
                    MemFault::Unmapped { .. } => (SIGSEGV, SEGV_MAPERR),
                    MemFault::Protection { .. } => (SIGSEGV, SEGV_ACCERR),
                };
                self.fault(signal, SigInfo::fault(code, fault.addr()), fault.to_string())
            }
            Exit::Break { im5, im13 } => {
                let pc = self.cpu.iaoq_front;
                self.fault(SIGTRAP, SigInfo::fault(TRAP_BRKPT, pc), format!("break {im5:#x},{im13:#x}"))
            }
            Exit::Illegal { word } => {
                let pc = self.cpu.iaoq_front;
                self.fault(SIGILL, SigInfo::fault(ILL_ILLOPC, pc), format!("illegal instruction {word:#010x}"))
            }
            Exit::Privileged { word } => {
                let pc = self.cpu.iaoq_front;
                let why = format!("privileged instruction {word:#010x} in user mode");
                self.fault(SIGILL, SigInfo::fault(ILL_PRVOPC, pc), why)
            }
            Exit::Trap(trap) => {
                let pc = self.cpu.iaoq_front;
                let (code, what) = match trap {
                    Trap::Overflow => (FPE_INTOVF, "overflow trap"),
                    Trap::Condition => (FPE_CONDTRAP, "conditional trap"),
                    Trap::FpException => (FPE_FLTINV, "floating-point exception"),
                };
                self.fault(SIGFPE, SigInfo::fault(code, pc), what.to_string())
            }
        }
    }

    /// Completes a gateway call: the result in r28, execution back at r31.
    fn return_from_gateway(&mut self, r28: u32) {
        self.cpu.gr[28] = r28;
        self.cpu.resume_at(self.cpu.gr[31]);
    }

    /// Lets the engine run at most `budget` instructions. Code the runtime
    /// changed since the last run — a `read` into a page of code, a
    /// signal frame, `mmap`/`munmap`/`mprotect`/`brk`/`madvise`, an
    /// emulated store — is dropped from the engine's caches first.
    fn run_engine(&mut self, budget: u64) -> Exit {
        for (start, len) in self.mem.take_host_writes() {
            self.engine.invalidate(start, len);
        }
        self.engine.run(&mut self.cpu, &mut self.mem, budget)
    }

    /// A synchronous signal caused by the instruction at the queue front:
    /// it cannot be blocked or ignored (Linux force_sig_fault), and is
    /// delivered before anything else.
    fn fault(&mut self, signal: u32, info: SigInfo, reason: String) -> Option<Termination> {
        self.last_fault = Some(self.kill_at_current(signal, reason));
        self.process.force_signal(signal);
        self.process.raise(signal, info);
        None
    }

    /// Delivers every pending, unblocked signal: enters guest handlers, or
    /// ends the guest when a default action terminates it.
    fn deliver_pending(&mut self) -> Option<Termination> {
        while let Some((signal, info)) = self.process.next_deliverable() {
            let delivery = deliver_signal(&mut self.cpu, &mut self.mem, &mut self.process, signal, info);
            match delivery {
                Ok(Delivery::Handler | Delivery::Ignored) => {}
                Ok(Delivery::Terminate { sig, .. }) => return Some(Termination::Killed(self.kill_report(sig))),
                Err(error) => unreachable_signal(error),
            }
        }
        None
    }

    /// The report for a guest killed by `signal`: the fault that raised it,
    /// or the current instruction for signals from elsewhere.
    fn kill_report(&mut self, signal: u32) -> Kill {
        match self.last_fault.take() {
            Some(kill) if kill.signal == signal => kill,
            _ => self.kill_at_current(signal, "signal sent to the guest".into()),
        }
    }

    /// `signal` at the instruction at the queue front.
    fn kill_at_current(&self, signal: u32, reason: String) -> Kill {
        use hbft_translator::memory::GuestMemory;
        let pc = self.cpu.iaoq_front & !3;
        Kill { signal, pc, word: self.mem.fetch(pc).ok(), reason }
    }
}

/// Signal numbers come from the fixed set above or from the process's own
/// pending set, which only holds valid ones.
fn unreachable_signal(error: SignalError) -> ! {
    unreachable!("pending set held an invalid signal: {error}")
}

/// A journal entry where the guest's end was expected.
fn describe_end(entry: &Entry) -> String {
    match entry {
        Entry::RunEnd(end) => format!(
            "status {} at {} instructions (state {:016x})",
            end.exit_status, end.retired, end.state_hash
        ),
        other => describe(other),
    }
}
