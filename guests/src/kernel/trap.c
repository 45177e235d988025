/* hbft guest kernel: interruption handling, called from start.S with the
 * interruption number and the saved registers. */
#include "kernel.h"

volatile unsigned ticks;

void timer_start(void) { mtctl(16, mfctl(16) + TIMER_INTERVAL); }

/* Moves the interruption queue past the interrupted instruction: read the
 * back entry (mtctl advances the queue), then load back and back + 4. */
void skip_instruction(void)
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
			timer_start();
		}
		if (pending & IRQ_DISK)
			disk_interrupt();
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
