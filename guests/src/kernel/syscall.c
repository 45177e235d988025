/* hbft guest kernel: system calls. A process branches to the gateway page
 * (start.S) with the call number in %r26 and arguments in %r25, %r24; the
 * result goes back in %r28. */
#include "kernel.h"

/* Writes `len` bytes the process has at `va` (translated by the kernel
 * through the process's map, then read physically). */
static unsigned sys_write(unsigned va, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned pa;
		if (!vm_user_to_phys(current, va + i, &pa))
			return -1u;
		putc(*(const char *)pa);
	}
	return len;
}

unsigned ksyscall(unsigned n, unsigned a, unsigned b)
{
	switch (n) {
	case SYS_WRITE:
		return sys_write(a, b);
	case SYS_TICKS:
		return ticks;
	case SYS_EXIT:
		proc_exit(a);
	}
	return -1u;
}
