/* hbft guest kernel: the user task (privilege level 3). */
#include "kernel.h"

static int ustrlen(const char *s)
{
	int n = 0;
	while (s[n])
		n++;
	return n;
}

static void uputs(const char *s) { syscall3(SYS_WRITE, (int)s, ustrlen(s)); }

void user_main(void)
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
