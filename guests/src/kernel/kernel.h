/* hbft guest kernel: what the kernel's files share. */
#ifndef KERNEL_H
#define KERNEL_H

#include "board.h"

/* console.c: output through the board's console. */
void putc(char c);
void puts(const char *s);
void putu(unsigned v);
void power_off(unsigned status) __attribute__((noreturn));

/* disk.c: the block-disk driver (DMA, completion interrupt). */
int disk_io(unsigned command, unsigned sector, void *buf);
void disk_interrupt(void);
void disk_workload(void);

/* trap.c: interruptions. */
extern volatile unsigned ticks;
#define TIMER_INTERVAL 20000 /* instructions: CR 16 counts retired instructions */
void timer_start(void);
void skip_instruction(void);

/* syscall.c: system calls from user mode. */
enum { SYS_WRITE = 1, SYS_TICKS = 2, SYS_EXIT = 3 };
int ksyscall(int n, int a, int b);

/* user.c: the user task. */
void user_main(void);
int syscall3(int n, int a, int b);

/* start.S */
extern char ivt[];
extern void enter_user(void (*fn)(void), unsigned sp);

/* The privilege level a branch-and-link puts in the return address. */
static inline unsigned link_privilege(void)
{
	unsigned link;
	__asm__ volatile("bl .+8,%0\n\tnop" : "=r"(link));
	return link & 3;
}

#endif
