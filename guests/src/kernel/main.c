/* hbft guest kernel: a small PA-RISC kernel for the hbft virtual board.
 *
 * It installs its interruption vectors, checks the privilege-sensitive
 * instructions at level 0, takes interval-timer interrupts (counting
 * ticks), reads and writes a disk block by DMA and waits for the
 * completion interrupt, then runs two user processes at privilege level 3,
 * each in its own space with its own protection ID, with code and data
 * translation on. A TLB miss handler fills the TLB from each process's
 * map, the interval timer preempts them round robin, system calls enter
 * through a gateway page. The kernel itself runs untranslated. When both
 * processes have exited it powers the board off.
 *
 * Files: start.S (entry, vectors, interruption entry/exit, the gateway
 * page), trap.c (interruptions), proc.c (processes, scheduler), vm.c
 * (address spaces, TLB fills), syscall.c, console.c, disk.c (the disk
 * driver), user.c (the user program).
 */
#include "kernel.h"

static char block[512] __attribute__((aligned(64)));
static char readback[512] __attribute__((aligned(64)));

static void check(const char *what, int ok)
{
	puts("kernel: ");
	puts(what);
	puts(ok ? "\n" : " WRONG\n");
}

/* What the privilege-sensitive instructions show at level 0. */
static void privilege_checks(void)
{
	unsigned v, here;
	check("branch-and-link shows PL 0", link_privilege() == 0);
	/* mfia in the delay slot of a branch-and-link: the link is 4 past it. */
	__asm__ volatile("bl .+8,%1\n\t.word 0x000014a0 + 28\n\tcopy %%r28,%0" : "=r"(v), "=r"(here) : : "r28");
	check("mfia: offset, low bits 0", v == (here & ~3u) - 4);
	mtctl(26, 0x1234);
	check("mtctl/mfctl cr26 at PL 0", mfctl(26) == 0x1234);
	static volatile unsigned word = 0x600d;
	__asm__ volatile("ldwa 0(%1),%0" : "=r"(v) : "r"(&word));
	check("ldwa at PL 0 reads the physical word", v == word);
	v = 0;
	__asm__ volatile("ssm 0,%0" : "+r"(v));
	check("ssm 0 reads the system mask (0 at reset)", v == 0);
}

void kmain(void)
{
	puts("hbft kernel: booting\n");
	privilege_checks();
	mtctl(14, (unsigned)ivt);
	mtctl(15, IRQ_TIMER | IRQ_DISK);
	timer_start();
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
	int ok = disk_io(DISK_WRITE, 1, block) && disk_io(DISK_READ, 1, readback);
	for (int i = 0; ok && i < 512; i++)
		ok = block[i] == readback[i];
	puts(ok ? "kernel: disk block 1 written and read back\n" : "kernel: disk block 1 MISMATCH\n");
	disk_workload();

	for (unsigned id = 1; id <= NPROC; id++)
		proc_create(id);
	puts("kernel: starting 2 processes at PL 3 with translation on\n");
	start_processes();
}
