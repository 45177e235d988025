/* hbft guest kernel: interruption handling, called from start.S with the
 * interruption number and the saved registers. */
#include "kernel.h"

volatile unsigned ticks;

void timer_start(void) { mtctl(16, mfctl(16) + TIMER_INTERVAL); }

static const char *trap_name(unsigned n)
{
	switch (n) {
	case INT_IPROT: return "instruction memory protection";
	case INT_PRIV_OP: return "privileged-operation";
	case INT_PRIV_REG: return "privileged-register";
	case INT_DRIGHTS: return "data memory access rights";
	case INT_DPID: return "data memory protection ID";
	}
	return "unexpected";
}

/* A trap the kernel reports and continues after (the user program tests
 * what traps at level 3). */
static void report(unsigned n, unsigned from)
{
	puts("kernel: ");
	puts(trap_name(n));
	puts(" trap (");
	putu(n);
	puts(") from PL ");
	putu(from);
	if (current) {
		puts(" in process ");
		putu(current->pid);
	}
	if (n == INT_DRIGHTS || n == INT_DPID) {
		puts(" at ");
		puthex(mfctl(20));
		puts(":");
		puthex(mfctl(21));
	}
	puts(", instruction skipped\n");
}

static void external(void)
{
	unsigned pending = mfctl(23) & mfctl(15);
	mtctl(23, pending);
	if (pending & IRQ_DISK)
		disk_interrupt();
	if (pending & IRQ_TIMER) {
		ticks++;
		timer_start();
		if (current) {
			/* Preemption; counted when another process is waiting. */
			for (int i = 0; i < NPROC; i++)
				if (procs[i].alive && &procs[i] != current) {
					current->preempted++;
					break;
				}
			schedule();
		}
	}
}

void trap(unsigned n, unsigned *frame)
{
	/* The level the interruption came from: the queue's low bits. The
	 * kernel runs in space 0; a process in its own space, at level 3 or,
	 * in the gateway page before it leaves translation, at level 0. */
	unsigned from = n == INT_SYSCALL ? 3 : mfctl(18) & 3;
	if (n != INT_SYSCALL && mfctl(17) == 0) {
		/* The kernel itself (kmain, before the processes start). */
		if (n == INT_EXTERNAL) {
			external();
			return;
		}
		puts("kernel: unexpected interruption ");
		putu(n);
		puts(" at level 0, pc ");
		puthex(mfctl(18));
		puts("\n");
		power_off(100 + n);
	}
	proc_save(frame, n == INT_SYSCALL);
	console_to(current->out, &current->outlen, sizeof current->out);
	switch (n) {
	case INT_SYSCALL: {
		struct proc *caller = current; /* exit switches processes */
		unsigned result = ksyscall(frame[26], frame[25], frame[24]);
		caller->regs[28] = result;
		break;
	}
	case INT_EXTERNAL:
		external();
		break;
	case INT_ITLB_MISS:
	case INT_NA_ITLB:
	case INT_DTLB_MISS:
	case INT_NA_DTLB: {
		/* Instruction misses name the address in the queue, data misses
		 * in ISR/IOR. */
		int code = n == INT_ITLB_MISS || n == INT_NA_ITLB;
		unsigned space = code ? current->iasq[0] : mfctl(20);
		unsigned va = code ? current->iaoq[0] & ~3u : mfctl(21);
		if (!vm_fill(n, space, va)) {
			puts("kernel: process ");
			putu(current->pid);
			puts(": nothing mapped at ");
			puthex(space);
			puts(":");
			puthex(va);
			puts(", killed\n");
			proc_exit(128 + 11);
		}
		break;
	}
	case INT_IPROT:
	case INT_PRIV_OP:
	case INT_PRIV_REG:
	case INT_DRIGHTS:
	case INT_DPID:
		report(n, from);
		proc_skip_instruction();
		break;
	default:
		puts("kernel: unexpected interruption ");
		putu(n);
		puts(" in process ");
		putu(current->pid);
		puts(", killed\n");
		proc_exit(100 + n);
	}
	console_to(0, 0, 0);
	proc_resume(frame);
}
