/* hbft guest kernel: a small PA-RISC kernel for the hbft virtual board.
 *
 * It installs its interruption vectors, takes interval-timer interrupts
 * (counting ticks), reads and writes a disk block by DMA and waits for the
 * completion interrupt, then runs a user task at privilege level 3 that
 * makes system calls through the gateway and tries a privileged
 * instruction (which traps and is skipped). Each level checks the
 * privilege level that a branch-and-link shows in its return address.
 * The user task's exit powers the board off with its status.
 *
 * Files: start.S (entry, vectors, interruption entry/exit, gateway),
 * trap.c (interruptions), syscall.c, console.c, disk.c (the disk driver),
 * user.c (the user task).
 */
#include "kernel.h"

static char block[512] __attribute__((aligned(64)));
static char check[512] __attribute__((aligned(64)));
static unsigned user_stack[2048] __attribute__((aligned(64)));

void kmain(void)
{
	puts("hbft kernel: booting\n");
	puts(link_privilege() == 0 ? "kernel: branch-and-link shows PL 0\n" : "kernel: WRONG privilege level in link\n");
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
	int ok = disk_io(DISK_WRITE, 1, block) && disk_io(DISK_READ, 1, check);
	for (int i = 0; ok && i < 512; i++)
		ok = block[i] == check[i];
	puts(ok ? "kernel: disk block 1 written and read back\n" : "kernel: disk block 1 MISMATCH\n");
	disk_workload();

	puts("kernel: entering the user task\n");
	enter_user(user_main, (unsigned)user_stack + 64);
}
