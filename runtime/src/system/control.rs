//! Virtual privileged state beyond [`CpuState`]: the back entries of the
//! interruption address queues, the interval timer's compare register and
//! the TLB; and the interruption mechanism itself — delivery through the
//! architected vectors and `rfi` (PA-RISC 1.1 ch. 5 "Interruptions").

use hbft_translator::state::{cr, psw, CpuState, KERNEL_PRIVILEGE};

use super::tlb::Tlb;

/// Control registers of system mode (PA-RISC 1.1 ch. 2).
pub mod reg {
    /// Interruption vector address.
    pub const IVA: usize = 14;
    /// External interrupt enable mask.
    pub const EIEM: usize = 15;
    /// Interval timer: reads give the clock, writes set the compare value.
    pub const ITMR: usize = 16;
    /// Interruption instruction address space / offset queues (fronts; the
    /// backs are in [`super::Control`]).
    pub const IIASQ: usize = 17;
    pub const IIAOQ: usize = 18;
    /// Interruption instruction register.
    pub const IIR: usize = 19;
    /// Interruption space and offset registers (the data address of a fault).
    pub const ISR: usize = 20;
    pub const IOR: usize = 21;
    /// Interruption processor status word.
    pub const IPSW: usize = 22;
    /// External interrupt request register.
    pub const EIRR: usize = 23;
}

/// Interruption numbers; the handler is at IVA + 32 × number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Interruption {
    RecoveryCounter = 3,
    External = 4,
    InstructionTlbMiss = 6,
    /// Instruction memory protection: access rights or protection ID of a fetch.
    InstructionProtection = 7,
    IllegalInstruction = 8,
    Break = 9,
    PrivilegedOperation = 10,
    PrivilegedRegister = 11,
    Overflow = 12,
    Conditional = 13,
    AssistException = 14,
    DataTlbMiss = 15,
    NonAccessInstructionTlbMiss = 16,
    NonAccessDataTlbMiss = 17,
    TlbDirty = 20,
    PageReference = 21,
    DataAccessRights = 26,
    DataProtectionId = 27,
    UnalignedData = 28,
}

/// Privileged state not held in [`CpuState`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Control {
    /// Back entries of IIASQ and IIAOQ: `mtctl` to CR 17/18 advances the
    /// queue (front ← back, back ← value), `mfctl` reads the front — so two
    /// writes load both entries and `mtctl %r0` exposes the back, as Linux's
    /// interruption entry and exit code use them.
    pub iiasq_back: u32,
    pub iiaoq_back: u32,
    /// An interval-timer compare value was written and has not fired yet.
    pub timer_armed: bool,
    pub itlb: Tlb,
    pub dtlb: Tlb,
    /// Shadow registers: GR 1, 8, 9, 16, 17, 24, 25 as an interruption with
    /// PSW Q set found them; `rfi,r` restores them.
    pub shadow: [u32; 7],
}

/// The general registers the shadow registers copy.
pub const SHADOWED: [usize; 7] = [1, 8, 9, 16, 17, 24, 25];

/// PSW S (secure interval timer): `mfctl cr16` is privileged at levels 1..3.
pub const PSW_S: u32 = 1 << 25;

/// What an interruption records besides the instruction queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cause {
    /// The interrupted instruction's word (IIR).
    pub iir: Option<u32>,
    /// The faulting data address, space and offset (ISR, IOR).
    pub data: Option<(u32, u32)>,
}

/// The clock CR 16 shows: the retired-instruction count, so it is a pure
/// function of the guest's execution.
pub fn clock(cpu: &CpuState) -> u32 {
    cpu.retired as u32
}

/// The whole PSW as `IPSW` holds it: the system bits and N, V, C/B.
pub fn compose_psw(cpu: &CpuState) -> u32 {
    let mut cb = 0;
    for nibble in 0..8 {
        // Carry out of nibble k is the carry into bit 4(k+1); the manual's
        // C/B bit for the most significant nibble is the leftmost.
        let carry = if nibble == 7 { cpu.psw_cb_msb } else { (cpu.psw_cb >> (4 * (nibble + 1))) & 1 };
        cb |= carry << (8 + nibble);
    }
    (cpu.psw & !(psw::CB | psw::V | psw::N))
        | cb
        | if cpu.psw_v != 0 { psw::V } else { 0 }
        | if cpu.psw_n != 0 { psw::N } else { 0 }
}

/// Loads the whole PSW from an `IPSW` image.
pub fn restore_psw(cpu: &mut CpuState, word: u32) {
    cpu.psw = word & !(psw::CB | psw::V | psw::N);
    cpu.psw_v = u32::from(word & psw::V != 0);
    cpu.psw_n = u32::from(word & psw::N != 0);
    let mut vector = 0;
    for nibble in 0..7 {
        vector |= ((word >> (8 + nibble)) & 1) << (4 * (nibble + 1));
    }
    cpu.psw_cb = vector;
    cpu.psw_cb_msb = (word >> 15) & 1;
}

impl Control {
    /// Delivers interruption `n` at the current instruction queue: with PSW Q
    /// set the queues (with the privilege level in the offsets' low bits),
    /// the PSW and the cause are saved; then the PSW is cleared, the
    /// privilege level becomes 0 and execution continues at IVA + 32n.
    pub fn interrupt(&mut self, cpu: &mut CpuState, n: Interruption, cause: Cause) {
        if cpu.psw & psw::Q != 0 {
            cpu.cr[reg::IIASQ] = cpu.iasq_front;
            self.iiasq_back = cpu.iasq_back;
            cpu.cr[reg::IIAOQ] = cpu.iaoq_front | cpu.priv_level;
            self.iiaoq_back = cpu.iaoq_back | cpu.priv_level;
            cpu.cr[reg::IPSW] = compose_psw(cpu);
            self.shadow = SHADOWED.map(|r| cpu.gr[r]);
            if let Some(word) = cause.iir {
                cpu.cr[reg::IIR] = word;
            }
            if let Some((space, offset)) = cause.data {
                cpu.cr[reg::ISR] = space;
                cpu.cr[reg::IOR] = offset;
            }
        }
        restore_psw(cpu, 0);
        cpu.priv_level = KERNEL_PRIVILEGE;
        let vector = cpu.cr[reg::IVA].wrapping_add(32 * n as u32);
        cpu.iaoq_front = vector;
        cpu.iaoq_back = vector.wrapping_add(4);
        cpu.iasq_front = 0;
        cpu.iasq_back = 0;
    }

    /// `rfi`: the PSW from IPSW, the instruction queues from IIASQ/IIAOQ,
    /// the privilege level from the low bits of the IIAOQ front. Counted as
    /// one retired instruction.
    pub fn rfi(&mut self, cpu: &mut CpuState) {
        restore_psw(cpu, cpu.cr[reg::IPSW]);
        let front = cpu.cr[reg::IIAOQ];
        cpu.priv_level = front & 3;
        cpu.iaoq_front = front & !3;
        cpu.iaoq_back = self.iiaoq_back & !3;
        cpu.iasq_front = cpu.cr[reg::IIASQ];
        cpu.iasq_back = self.iiasq_back;
        cpu.retired += 1;
    }

    /// `rfi,r`: the shadow registers back into their general registers,
    /// then `rfi`.
    pub fn rfi_restoring_shadows(&mut self, cpu: &mut CpuState) {
        for (r, v) in SHADOWED.into_iter().zip(self.shadow) {
            cpu.gr[r] = v;
        }
        self.rfi(cpu);
    }

    /// `mfctl cr,t` at privilege level 0.
    pub fn read(&self, cpu: &CpuState, n: usize) -> u32 {
        match n {
            reg::ITMR => clock(cpu),
            _ => cpu.cr[n],
        }
    }

    /// `mtctl r,cr` at privilege level 0.
    pub fn write(&mut self, cpu: &mut CpuState, n: usize, v: u32) {
        match n {
            reg::ITMR => {
                cpu.cr[reg::ITMR] = v;
                self.timer_armed = true;
            }
            reg::IIASQ => {
                cpu.cr[n] = self.iiasq_back;
                self.iiasq_back = v;
            }
            reg::IIAOQ => {
                cpu.cr[n] = self.iiaoq_back;
                self.iiaoq_back = v;
            }
            // Writing ones clears request bits.
            reg::EIRR => cpu.cr[n] &= !v,
            _ => cpu.cr[n] = v,
        }
    }

    /// At an epoch end: an armed timer whose compare value the clock has
    /// reached requests its interrupt.
    pub fn timer_due(&mut self, cpu: &CpuState) -> bool {
        let due = self.timer_armed && clock(cpu).wrapping_sub(cpu.cr[reg::ITMR]) as i32 >= 0;
        if due {
            self.timer_armed = false;
        }
        due
    }

    /// The guest's recovery counter after `n` more instructions retired with
    /// PSW R set; true when it went negative (a recovery-counter trap is due).
    pub fn count_down(cpu: &mut CpuState, n: u64) -> bool {
        cpu.cr[cr::RCTR] = cpu.cr[cr::RCTR].wrapping_sub(n as u32);
        (cpu.cr[cr::RCTR] as i32) < 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> CpuState {
        CpuState { psw: psw::Q | psw::I, priv_level: KERNEL_PRIVILEGE, ..CpuState::at(0x2000) }
    }

    #[test]
    fn interrupt_then_rfi_returns_to_the_interrupted_queue_and_level() {
        let mut cpu = CpuState { priv_level: 3, psw_n: 1, psw_v: 1, psw_cb_msb: 1, ..kernel() };
        cpu.psw_cb = 1 << 8;
        cpu.cr[reg::IVA] = 0x8000;
        let before = cpu.clone();
        let mut ctl = Control::default();
        ctl.interrupt(&mut cpu, Interruption::External, Cause::default());
        assert_eq!((cpu.iaoq_front, cpu.iaoq_back), (0x8000 + 4 * 32, 0x8084));
        assert_eq!((cpu.priv_level, cpu.psw, cpu.psw_n), (0, 0, 0));
        assert_eq!(cpu.cr[reg::IIAOQ], 0x2003);
        assert_eq!(ctl.read(&cpu, reg::IPSW) & (psw::N | psw::V | psw::I), psw::N | psw::V | psw::I);
        ctl.rfi(&mut cpu);
        assert_eq!(cpu.iaoq_front, before.iaoq_front);
        assert_eq!(cpu.iaoq_back, before.iaoq_back);
        assert_eq!(cpu.priv_level, 3);
        assert_eq!(cpu.psw, before.psw);
        assert_eq!((cpu.psw_n, cpu.psw_v, cpu.psw_cb_msb, cpu.psw_cb), (1, 1, 1, 1 << 8));
    }

    #[test]
    fn without_q_the_interruption_registers_are_frozen() {
        let mut cpu = CpuState { psw: 0, ..kernel() };
        cpu.cr[reg::IIAOQ] = 0x1234;
        Control::default().interrupt(&mut cpu, Interruption::Break, Cause { iir: Some(1), data: None });
        assert_eq!((cpu.cr[reg::IIAOQ], cpu.cr[reg::IIR]), (0x1234, 0));
    }

    #[test]
    fn the_instruction_address_queue_registers_shift_on_write() {
        let mut cpu = kernel();
        let mut ctl = Control::default();
        ctl.write(&mut cpu, reg::IIAOQ, 0x100);
        ctl.write(&mut cpu, reg::IIAOQ, 0x104);
        assert_eq!((ctl.read(&cpu, reg::IIAOQ), ctl.iiaoq_back), (0x100, 0x104));
        ctl.write(&mut cpu, reg::IIAOQ, 0);
        assert_eq!(ctl.read(&cpu, reg::IIAOQ), 0x104);
    }

    #[test]
    fn eirr_writes_clear_and_the_timer_fires_once() {
        let mut cpu = kernel();
        let mut ctl = Control::default();
        cpu.cr[reg::EIRR] = 0xc000_0000;
        ctl.write(&mut cpu, reg::EIRR, 0x8000_0000);
        assert_eq!(cpu.cr[reg::EIRR], 0x4000_0000);
        ctl.write(&mut cpu, reg::ITMR, 100);
        cpu.retired = 99;
        assert!(!ctl.timer_due(&cpu));
        cpu.retired = 100;
        assert!(ctl.timer_due(&cpu));
        assert!(!ctl.timer_due(&cpu));
    }

    #[test]
    fn rfi_r_restores_the_shadow_registers_an_interruption_loaded() {
        let mut cpu = kernel();
        for r in 0..32 {
            cpu.gr[r] = 100 + r as u32;
        }
        let mut ctl = Control::default();
        ctl.interrupt(&mut cpu, Interruption::Break, Cause::default());
        for r in SHADOWED {
            cpu.gr[r] = 0;
        }
        cpu.gr[2] = 7;
        ctl.rfi_restoring_shadows(&mut cpu);
        assert!(SHADOWED.iter().all(|&r| cpu.gr[r] == 100 + r as u32));
        assert_eq!(cpu.gr[2], 7, "other registers are not shadowed");
        // Without PSW Q the shadows keep what the last collection saved.
        cpu.psw = 0;
        cpu.gr[1] = 5;
        ctl.interrupt(&mut cpu, Interruption::Break, Cause::default());
        assert_eq!(ctl.shadow[0], 101);
    }
}
