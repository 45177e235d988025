/* hbft guest kernel: console output and power-off through the board. */
#include "kernel.h"

static char *sink;
static unsigned *sink_len, sink_size;

/* Output goes to `buf` (of `size` bytes, `*len` used) until the next
 * call; a null `buf` means the console. */
void console_to(char *buf, unsigned *len, unsigned size)
{
	sink = buf;
	sink_len = len;
	sink_size = size;
}

void putc(char c)
{
	if (!sink)
		CONSOLE_TX = (unsigned char)c;
	else if (*sink_len < sink_size)
		sink[(*sink_len)++] = c;
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

/* Decimal without division (no millicode needed). */
void putu(unsigned v)
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

void power_off(unsigned status)
{
	POWER_OFF = status;
	for (;;)
		;
}

void puthex(unsigned v)
{
	puts("0x");
	for (int shift = 28; shift >= 0; shift -= 4)
		putc("0123456789abcdef"[(v >> shift) & 15]);
}
