/* hbft guest kernel: what the kernel's files share. */
#ifndef KERNEL_H
#define KERNEL_H

#include "board.h"

/* console.c: output through the board's console, or into a buffer. */
void console_to(char *buf, unsigned *len, unsigned size);
void putc(char c);
void puts(const char *s);
void putu(unsigned v);
void puthex(unsigned v);
void power_off(unsigned status) __attribute__((noreturn));

/* disk.c: the block-disk driver (DMA, completion interrupt). */
int disk_io(unsigned command, unsigned sector, void *buf);
void disk_interrupt(void);
void disk_workload(void);

/* trap.c: interruptions. `frame` holds the interrupted general registers
 * (frame[r] = GR r, frame[0] = SAR); start.S restores them and executes
 * rfi when trap() returns. */
extern volatile unsigned ticks;
#define TIMER_INTERVAL 20000 /* instructions: CR 16 counts retired instructions */
void timer_start(void);
void trap(unsigned n, unsigned *frame);
#define INT_SYSCALL 32 /* not an interruption: the gateway's entry (start.S) */

/* proc.c: processes and the scheduler. */
#define NPROC 2
struct proc {
	unsigned regs[32]; /* as in the frame */
	unsigned iasq[2], iaoq[2], ipsw;
	unsigned sr[5];    /* sr0..sr4 (sr5..sr7 are the process's space) */
	unsigned space, pid, alive;
	unsigned preempted; /* by the timer while another process was alive */
	unsigned frames;   /* physical base of its private pages */
	/* What the process and the kernel on its behalf printed: written at
	 * the end in process order, so the console does not depend on where
	 * the timer fell (a replica that reissues a disk request after a
	 * takeover runs a few more instructions). */
	char out[6144];
	unsigned outlen;
};
extern struct proc procs[NPROC];
extern struct proc *current; /* the process interrupted, or 0 in the kernel */
void proc_create(unsigned id);
void proc_save(unsigned *frame, int syscall);
void proc_resume(unsigned *frame);
void proc_skip_instruction(void);
void schedule(void);
void proc_exit(unsigned status);
void start_processes(void) __attribute__((noreturn));

/* vm.c: address spaces. */
int vm_fill(unsigned n, unsigned space, unsigned va);
int vm_user_to_phys(struct proc *p, unsigned va, unsigned *pa);

/* syscall.c */
enum { SYS_WRITE = 1, SYS_TICKS = 2, SYS_EXIT = 3 };
unsigned ksyscall(unsigned n, unsigned a, unsigned b);

/* user.c: the user program (linked into .utext, mapped at PL 3). */
void user_main(unsigned id);

/* start.S */
extern char ivt[], gateway_page[], utext_end[], kernel_end[];
extern char utext_start[] __attribute__((aligned(4096)));
extern void trap_exit(void) __attribute__((noreturn));

/* The user virtual address map (docs/board.md): code and the gateway page
 * at their physical addresses, private pages at fixed addresses. */
#define UDATA_VA  0x00800000u
#define USTACK_VA 0x00900000u
#define USTACK_PAGES 3
#define USER_PSW  (PSW_C | PSW_D | PSW_P | PSW_Q | PSW_I)

/* The privilege level a branch-and-link puts in the return address. */
static inline unsigned link_privilege(void)
{
	unsigned link;
	__asm__ volatile("bl .+8,%0\n\tnop" : "=r"(link));
	return link & 3;
}

#define mtsp(n, v) __asm__ volatile("mtsp %0,%%sr" #n : : "r"(v))
#define mfsp(n) ({ unsigned __v; __asm__ volatile("mfsp %%sr" #n ",%0" : "=r"(__v)); __v; })

#endif
