/* hbft guest kernel: a small PA-RISC kernel for the hbft virtual board.
 *
 * It installs its interruption vectors, takes interval-timer interrupts
 * (counting ticks), reads and writes a disk block by DMA and waits for the
 * completion interrupt, then runs a user task at privilege level 3 that
 * makes system calls through the gateway and tries a privileged
 * instruction (which traps and is skipped). Each level checks the
 * privilege level that a branch-and-link shows in its return address.
 * The user task's exit powers the board off with its status.
 */
#include "board.h"

#define TIMER_INTERVAL 20000 /* instructions: CR 16 counts retired instructions */

enum { SYS_WRITE = 1, SYS_TICKS = 2, SYS_EXIT = 3 };

extern char ivt[];
extern void enter_user(void (*fn)(void), unsigned sp);
extern int syscall3(int n, int a, int b);

static volatile unsigned ticks, disk_done;
static char block[512] __attribute__((aligned(64)));
static char check[512] __attribute__((aligned(64)));
static unsigned user_stack[2048] __attribute__((aligned(64)));

static void putc(char c) { CONSOLE_TX = (unsigned char)c; }

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

/* Decimal without division (no millicode needed). */
static void putu(unsigned v)
{
	static const unsigned pow10[] = {1000000000, 100000000, 10000000, 1000000,
					 100000, 10000, 1000, 100, 10, 1};
	int started = 0;
	for (int i = 0; i < 10; i++) {
		char d = '0';
		while (v >= pow10[i]) {
			v -= pow10[i];
			d++;
		}
		if (d != '0' || started || i == 9) {
			putc(d);
			started = 1;
		}
	}
}

static void power_off(unsigned status)
{
	POWER_OFF = status;
	for (;;)
		;
}

/* The privilege level a branch-and-link puts in the return address. */
static inline unsigned link_privilege(void)
{
	unsigned link;
	__asm__ volatile("bl .+8,%0\n\tnop" : "=r"(link));
	return link & 3;
}

/* Moves the interruption queue past the interrupted instruction: read the
 * back entry (mtctl advances the queue), then load back and back + 4. */
static void skip_instruction(void)
{
	mtctl(18, 0);
	unsigned back = mfctl(18);
	mtctl(18, back);
	mtctl(18, back + 4);
}

void trap(unsigned n, unsigned *frame)
{
	(void)frame;
	if (n == INT_EXTERNAL) {
		unsigned pending = mfctl(23) & mfctl(15);
		if (pending & IRQ_TIMER) {
			ticks++;
			mtctl(16, mfctl(16) + TIMER_INTERVAL);
		}
		if (pending & IRQ_DISK)
			disk_done = 1;
		mtctl(23, pending);
	} else if (n == INT_PRIV_REG || n == INT_PRIV_OP) {
		puts(n == INT_PRIV_REG ? "kernel: privileged-register trap" : "kernel: privileged-operation trap");
		puts(" from PL ");
		putu(mfctl(18) & 3);
		puts(", instruction skipped\n");
		skip_instruction();
	} else {
		puts("kernel: unexpected interruption ");
		putu(n);
		puts("\n");
		power_off(100 + n);
	}
}

int ksyscall(int n, int a, int b)
{
	switch (n) {
	case SYS_WRITE:
		for (int i = 0; i < b; i++)
			putc(((const char *)a)[i]);
		return b;
	case SYS_TICKS:
		return ticks;
	case SYS_EXIT:
		puts("kernel: user task exited with status ");
		putu(a);
		puts(", powering off\n");
		power_off(a);
	}
	return -1;
}

static int disk_io(unsigned command, unsigned sector, void *buf)
{
	DISK_SECTOR = sector;
	DISK_DMA_ADDR = (unsigned)buf;
	DISK_COUNT = 1;
	disk_done = 0;
	DISK_COMMAND = command;
	while (!disk_done)
		;
	return DISK_STATUS == STATUS_DONE;
}

/* ---- the user task (privilege level 3) ---- */

static int ustrlen(const char *s)
{
	int n = 0;
	while (s[n])
		n++;
	return n;
}

static void uputs(const char *s) { syscall3(SYS_WRITE, (int)s, ustrlen(s)); }

static void user_main(void)
{
	uputs(link_privilege() == 3 ? "user: running, branch-and-link shows PL 3\n"
				    : "user: WRONG privilege level in link\n");
	unsigned start = syscall3(SYS_TICKS, 0, 0);
	while ((unsigned)syscall3(SYS_TICKS, 0, 0) < start + 2)
		;
	uputs("user: saw 2 more timer ticks through system calls\n");
	unsigned iva = 0x5a5a;
	__asm__ volatile("mfctl %%cr14,%0" : "+r"(iva));
	uputs(iva == 0x5a5a ? "user: mfctl cr14 did not execute\n" : "user: WRONG, mfctl cr14 executed\n");
	syscall3(SYS_EXIT, 0, 0);
	for (;;)
		;
}

void kmain(void)
{
	puts("hbft kernel: booting\n");
	puts(link_privilege() == 0 ? "kernel: branch-and-link shows PL 0\n" : "kernel: WRONG privilege level in link\n");
	mtctl(14, (unsigned)ivt);
	mtctl(15, IRQ_TIMER | IRQ_DISK);
	mtctl(16, mfctl(16) + TIMER_INTERVAL);
	__asm__ volatile("ssm %0,%%r0" : : "i"(PSW_Q | PSW_I) : "memory");
	while (ticks < 3)
		;
	puts("kernel: 3 timer ticks\n");

	if (!disk_io(DISK_READ, 0, block)) {
		puts("kernel: disk read failed\n");
		power_off(2);
	}
	puts("kernel: disk block 0: ");
	for (int i = 0; i < 64 && block[i] && block[i] != '\n'; i++)
		putc(block[i]);
	puts("\n");
	const char *msg = "written by the hbft guest kernel\n";
	for (int i = 0; i < 512; i++)
		block[i] = 0;
	for (int i = 0; msg[i]; i++)
		block[i] = msg[i];
	int ok = disk_io(DISK_WRITE, 1, block) && disk_io(DISK_READ, 1, check);
	for (int i = 0; ok && i < 512; i++)
		ok = block[i] == check[i];
	puts(ok ? "kernel: disk block 1 written and read back\n" : "kernel: disk block 1 MISMATCH\n");

	puts("kernel: entering the user task\n");
	enter_user(user_main, (unsigned)user_stack + 64);
}
