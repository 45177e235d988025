/* hbft guest kernel: the block-disk driver and the disk workload.
 *
 * A request programs the DMA registers and the command, then waits for the
 * completion interrupt. A completion with status "uncertain" comes from a
 * replicated board whose primary failed with the request outstanding: it
 * may or may not have been performed, so the driver issues it again (the
 * disk's writes are positional, so doing one twice is harmless). */
#include "kernel.h"

static volatile unsigned disk_done;

/* From trap.c, on the disk's EIRR bit. */
void disk_interrupt(void) { disk_done = 1; }

/* Transfers one sector between `buf` (physical) and the disk; returns
 * whether it completed. */
int disk_io(unsigned command, unsigned sector, void *buf)
{
	unsigned status;
	do {
		DISK_SECTOR = sector;
		DISK_DMA_ADDR = (unsigned)buf;
		DISK_COUNT = 1;
		disk_done = 0;
		DISK_COMMAND = command;
		while (!disk_done)
			;
		status = DISK_STATUS;
	} while (status == STATUS_UNCERTAIN);
	return status == STATUS_DONE;
}

static unsigned buf[128] __attribute__((aligned(64)));

/* Word `i` of block `sector`'s pattern (xorshift: no multiplication). */
static unsigned pattern(unsigned sector, unsigned i)
{
	unsigned x = (sector << 8) ^ i ^ 0x2545f491u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* The disk-heavy workload: writes a pattern to every sector from 2 to the
 * end of the disk, reads each back, and prints how many matched and a
 * checksum of everything read. */
void disk_workload(void)
{
	unsigned sectors = DISK_CAPACITY, good = 0, sum = 0;
	for (unsigned s = 2; s < sectors; s++) {
		for (unsigned i = 0; i < 128; i++)
			buf[i] = pattern(s, i);
		if (!disk_io(DISK_WRITE, s, buf)) {
			puts("kernel: disk write failed\n");
			power_off(3);
		}
	}
	for (unsigned s = 2; s < sectors; s++) {
		if (!disk_io(DISK_READ, s, buf)) {
			puts("kernel: disk read failed\n");
			power_off(3);
		}
		unsigned same = 1;
		for (unsigned i = 0; i < 128; i++) {
			same &= buf[i] == pattern(s, i);
			sum = (sum << 5) + sum + buf[i]; /* sum * 33 + word */
		}
		good += same;
	}
	puts("kernel: disk workload: ");
	putu(good);
	puts(" of ");
	putu(sectors > 2 ? sectors - 2 : 0);
	puts(" blocks written and read back, checksum ");
	putu(sum);
	puts("\n");
}
