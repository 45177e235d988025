/* hbft guest kernel: the block-disk driver. A request programs the DMA
 * registers and the command, then waits for the completion interrupt. */
#include "kernel.h"

static volatile unsigned disk_done;

/* From trap.c, on the disk's EIRR bit. */
void disk_interrupt(void) { disk_done = 1; }

/* Transfers one sector between `buf` (physical) and the disk; returns
 * whether it completed. */
int disk_io(unsigned command, unsigned sector, void *buf)
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
