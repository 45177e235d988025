//! The guest CPU state both engines operate on. `#[repr(C)]` so that
//! translated code reaches every field at a fixed offset (`offset_of!`).

/// Control register numbers with a meaning in user mode (PA-RISC 1.1, ch. 2
/// "Control Registers").
pub mod cr {
    /// Recovery counter (CR 0): decremented per non-nullified instruction while PSW R is set.
    pub const RCTR: usize = 0;
    /// Shift amount register (CR 11).
    pub const SAR: usize = 11;
    /// Interval timer (CR 16).
    pub const ITMR: usize = 16;
    /// Temporary registers CR 24..31; Linux keeps the thread pointer in CR 27.
    pub const TR0: usize = 24;
    pub const TP: usize = 27;
}

/// Processor status word bits kept in [`CpuState::psw`] (PA-RISC 1.1 ch. 2
/// "Processor Status Word"; bit 31 in the manual's numbering is the least
/// significant). N, C/B and V live in their own fields of [`CpuState`].
pub mod psw {
    /// External interrupts enabled.
    pub const I: u32 = 1 << 0;
    /// Data address translation enabled.
    pub const D: u32 = 1 << 1;
    /// Protection identifier validation enabled.
    pub const P: u32 = 1 << 2;
    /// Interruption state collection enabled.
    pub const Q: u32 = 1 << 3;
    /// Recovery counter enabled.
    pub const R: u32 = 1 << 4;
    /// C/B carry bits (in an IPSW image of the whole word).
    pub const CB: u32 = 0xff << 8;
    /// Divide-step overflow (in an IPSW image).
    pub const V: u32 = 1 << 17;
    /// Code address translation enabled.
    pub const C: u32 = 1 << 18;
    /// Nullify (in an IPSW image).
    pub const N: u32 = 1 << 21;
    /// The system mask: the bits `ssm`, `rsm` and `mtsm` read and write.
    pub const SYSTEM_MASK: u32 = 0xff;
    /// The PSW Linux gives a user process (USER_PSW in asm/psw.h).
    pub const LINUX_USER: u32 = C | Q | P | D | I;
}

/// Privilege level 0, the most privileged (a guest kernel).
pub const KERNEL_PRIVILEGE: u32 = 0;
/// Privilege level 3, the least privileged (user processes).
pub const USER_PRIVILEGE: u32 = 3;

/// Complete architectural state of one PA-RISC processor (a user-mode
/// process by default: Linux's user PSW at privilege level 3), plus the retired-instruction counter.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuState {
    /// General registers; `gr[0]` is always 0.
    pub gr: [u32; 32],
    /// Floating-point registers as 64-bit doubles; single-precision halves
    /// are the high (`fr4L`/`fr4`) and low (`fr4R`) words. fr0's high word is
    /// the FP status register, fr0..fr3 low words the exception registers.
    pub fr: [u64; 32],
    /// Space registers.
    pub sr: [u32; 8],
    /// Control registers (see [`cr`]).
    pub cr: [u32; 32],
    /// Instruction address offset queue: the executing instruction and the next one.
    pub iaoq_front: u32,
    pub iaoq_back: u32,
    /// Instruction address space queue (the spaces of the two IAOQ entries);
    /// changed only by `be`. User-mode Linux runs in one flat space.
    pub iasq_front: u32,
    pub iasq_back: u32,
    /// PSW N: the instruction at `iaoq_front` is nullified.
    pub psw_n: u32,
    /// PSW C/B as a carry-in vector: bit i is the carry into bit i of the last
    /// add (or the borrow complement of the last subtract); the architected
    /// nibble carries are the bits at 4k (k = 1..8, bit 32 kept in `psw_cb_msb`).
    pub psw_cb: u32,
    /// Carry out of bit 31 of the last carry-producing operation.
    pub psw_cb_msb: u32,
    /// PSW V (signed overflow) of the last divide-step.
    pub psw_v: u32,
    /// The system bits of the processor status word (see [`psw`]): virtual,
    /// never the host's.
    pub psw: u32,
    /// The virtual privilege level (0..=3) the guest executes at; branch
    /// links and `b,gate` read it, indirect branches may lower it.
    pub priv_level: u32,
    /// Instructions retired so far (non-nullified ones: the recovery-counter rule).
    pub retired: u64,
}

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            gr: [0; 32],
            fr: [0; 32],
            sr: [0; 8],
            cr: [0; 32],
            iaoq_front: 0,
            iaoq_back: 4,
            iasq_front: 0,
            iasq_back: 0,
            psw_n: 0,
            psw_cb: 0,
            psw_cb_msb: 0,
            psw_v: 0,
            psw: psw::LINUX_USER,
            priv_level: USER_PRIVILEGE,
            retired: 0,
        }
    }
}

impl CpuState {
    /// Whether execution is at a plain block entry: the next instruction
    /// sequential, nothing nullified, one space.
    pub fn at_block_entry(&self) -> bool {
        self.psw_n == 0
            && self.iaoq_back == self.iaoq_front.wrapping_add(4)
            && self.iasq_front == self.iasq_back
            && self.iaoq_front % 4 == 0
    }

    /// A state that starts executing at `pc` with nothing nullified.
    pub fn at(pc: u32) -> CpuState {
        CpuState {
            iaoq_front: pc,
            iaoq_back: pc.wrapping_add(4),
            ..CpuState::default()
        }
    }

    /// Continues execution at `addr` (low two bits, the privilege level, are
    /// dropped) with nothing nullified: how the runtime returns from the Linux
    /// gateway page to the caller's `%r31`.
    pub fn resume_at(&mut self, addr: u32) {
        self.iaoq_front = addr & !3;
        self.iaoq_back = self.iaoq_front.wrapping_add(4);
        self.iasq_front = self.iasq_back;
        self.psw_n = 0;
    }

    /// Retires the instruction at the queue front as an ordinary (non-branch)
    /// instruction: the runtime calls this after it has performed an
    /// instruction on the engine's behalf (an environment read such as
    /// `mfctl cr16`), so the instruction is counted exactly once.
    pub fn retire_current(&mut self) {
        self.iaoq_front = self.iaoq_back;
        self.iaoq_back = self.iaoq_back.wrapping_add(4);
        self.iasq_front = self.iasq_back;
        self.psw_n = 0;
        self.retired += 1;
    }

    /// Shift amount register.
    pub fn sar(&self) -> u32 {
        self.cr[cr::SAR]
    }
}
