/* hbft guest kernel: processes and the round-robin scheduler. A process
 * is its registers and interruption queues as the kernel found them when
 * it entered the kernel; the interval-timer interrupt switches to the next
 * live process. */
#include "kernel.h"

struct proc procs[NPROC];
struct proc *current;
extern char global_base[] __asm__("$global$");

/* Physical pages of process i: its data page and stack pages. */
#define FRAMES_BASE 0x00400000u
#define FRAMES_STRIDE 0x10000u

void proc_create(unsigned id)
{
	struct proc *p = &procs[id - 1];
	p->pid = id;
	p->space = 0x100 * id;
	p->frames = FRAMES_BASE + (id - 1) * FRAMES_STRIDE;
	for (unsigned *w = (unsigned *)p->frames; w < (unsigned *)(p->frames + FRAMES_STRIDE); w++)
		*w = 0;
	p->regs[26] = id;
	p->regs[27] = (unsigned)global_base; /* %dp: user.c addresses constants from it */
	p->regs[30] = USTACK_VA + 64;
	/* The queue and its privilege level: user_main at level 3. */
	p->iaoq[0] = (unsigned)user_main | 3;
	p->iaoq[1] = ((unsigned)user_main + 4) | 3;
	p->iasq[0] = p->iasq[1] = p->space;
	p->ipsw = USER_PSW;
	for (int i = 0; i < 5; i++)
		p->sr[i] = p->space;
	p->alive = 1;
}

/* Reads both entries of the interruption queues (mtctl advances them). */
static void read_queues(unsigned iasq[2], unsigned iaoq[2])
{
	iasq[0] = mfctl(17);
	mtctl(17, 0);
	iasq[1] = mfctl(17);
	iaoq[0] = mfctl(18);
	mtctl(18, 0);
	iaoq[1] = mfctl(18);
}

/* The kernel was entered from `current`: keep its state. A system call
 * returns to %r31 (the link the caller's branch left, level 3 in its low
 * bits) in the caller's space. */
void proc_save(unsigned *frame, int syscall)
{
	struct proc *p = current;
	for (int i = 0; i < 32; i++)
		p->regs[i] = frame[i];
	if (syscall) {
		p->iaoq[0] = frame[31];
		p->iaoq[1] = frame[31] + 4;
		p->iasq[0] = p->iasq[1] = p->space;
		p->ipsw = USER_PSW;
	} else {
		read_queues(p->iasq, p->iaoq);
		p->ipsw = mfctl(22);
	}
	p->sr[0] = mfsp(0);
	p->sr[1] = mfsp(1);
	p->sr[2] = mfsp(2);
	p->sr[3] = mfsp(3);
	p->sr[4] = mfsp(4);
}

/* Makes trap_exit return to `current`. */
void proc_resume(unsigned *frame)
{
	struct proc *p = current;
	for (int i = 0; i < 32; i++)
		frame[i] = p->regs[i];
	mtctl(17, p->iasq[0]);
	mtctl(17, p->iasq[1]);
	mtctl(18, p->iaoq[0]);
	mtctl(18, p->iaoq[1]);
	mtctl(22, p->ipsw);
	mtsp(0, p->sr[0]);
	mtsp(1, p->sr[1]);
	mtsp(2, p->sr[2]);
	mtsp(3, p->sr[3]);
	mtsp(4, p->sr[4]);
	mtsp(5, p->space);
	mtsp(6, p->space);
	mtsp(7, p->space);
	mtctl(8, p->pid << 1);  /* protection ID, writes enabled */
	mtctl(26, p->pid);      /* readable at every level */
}

/* Continues `current` after the instruction that interrupted. */
void proc_skip_instruction(void)
{
	current->iaoq[0] = current->iaoq[1];
	current->iaoq[1] += 4;
	current->iasq[0] = current->iasq[1];
}

/* Round robin: the next live process after `current`. */
void schedule(void)
{
	int at = current ? current - procs : NPROC - 1;
	for (int k = 1; k <= NPROC; k++) {
		struct proc *p = &procs[(at + k) % NPROC];
		if (p->alive) {
			current = p;
			return;
		}
	}
	console_to(0, 0, 0);
	for (int i = 0; i < NPROC; i++)
		for (unsigned k = 0; k < procs[i].outlen; k++)
			putc(procs[i].out[k]);
	int both = 1;
	for (int i = 0; i < NPROC; i++)
		both = both && procs[i].preempted >= 2;
	puts(both ? "kernel: all processes exited; each was preempted by the timer at least twice while the other was running\n"
		  : "kernel: all processes exited; WRONG: a process was not preempted twice while the other was running\n");
	power_off(0);
}

void proc_exit(unsigned status)
{
	puts("kernel: process ");
	putu(current->pid);
	puts(" exited with status ");
	putu(status);
	puts("\n");
	current->alive = 0;
	schedule();
}

/* Leaves kmain for the first process. */
void start_processes(void)
{
	extern unsigned frame[];
	current = 0;
	schedule();
	proc_resume(frame);
	trap_exit();
}
