/* hbft guest kernel: the user program. Two processes run it at privilege
 * level 3, each in its own space with its own protection ID. It checks
 * what every privilege-sensitive instruction shows or does at level 3
 * (the kernel checks level 0 in main.c), that its address space is its
 * own, and does some work in steps that the timer interleaves.
 *
 * Linked into .utext (kernel.ld): it may use only its code, constants,
 * stack and data page, and the kernel only through the gateway page. */
#include "kernel.h"

struct udata {
	unsigned id;
	unsigned marker;
	volatile unsigned counter;
};
#define U ((struct udata *)UDATA_VA)

static unsigned sys(unsigned n, unsigned a, unsigned b)
{
	register unsigned r26 __asm__("r26") = n;
	register unsigned r25 __asm__("r25") = a;
	register unsigned r24 __asm__("r24") = b;
	register unsigned r28 __asm__("r28");
	__asm__ volatile("bl gateway_page,%%r31\n\tnop"
			 : "=r"(r28), "+r"(r26), "+r"(r25), "+r"(r24)
			 :
			 : "r1", "r31", "memory");
	return r28;
}

/* "[id] text value\n" through SYS_WRITE; value printed unless ~0. */
static void say(const char *text, unsigned value)
{
	static const unsigned pow10[] = {1000000000, 100000000, 10000000, 1000000,
					 100000, 10000, 1000, 100, 10, 1};
	char line[96];
	unsigned n = 0;
	line[n++] = '[';
	line[n++] = '0' + U->id;
	line[n++] = ']';
	line[n++] = ' ';
	while (*text && n < 80)
		line[n++] = *text++;
	if (value != ~0u) {
		int started = 0;
		for (int i = 0; i < 10; i++) {
			char d = '0';
			while (value >= pow10[i]) {
				value -= pow10[i];
				d++;
			}
			if (d != '0' || started || i == 9) {
				line[n++] = d;
				started = 1;
			}
		}
	}
	line[n++] = '\n';
	sys(SYS_WRITE, (unsigned)line, n);
}

static void check(const char *what, int ok)
{
	say(what, ~0u);
	if (!ok)
		say("  ^ WRONG", ~0u);
}

#define SENTINEL 0x5a5a5a5a

static void privilege_checks(void)
{
	unsigned v, link;

	check("branch-and-link shows PL 3", link_privilege() == 3);
	__asm__ volatile(".word 0x000014a0 + 28\n\tcopy %%r28,%0" : "=r"(v) : : "r28");
	check("mfia: offset, low bits 0", (v & 3) == 0 && v >= (unsigned)utext_start && v < (unsigned)utext_end);
	/* A gate outside a gateway page does not promote. */
	__asm__ volatile("b,gate 1f,%%r1\n\tnop\n1:\tbl .+8,%0\n\tnop" : "=r"(link) : : "r1");
	check("b,gate outside a gateway page keeps PL 3", (link & 3) == 3);
	check("mfctl cr26 readable at PL 3 (the kernel's process id)", mfctl(26) == U->id);
	v = mfctl(16);
	check("mfctl cr16 readable at PL 3 (PSW S clear)", mfctl(16) != v);

	v = SENTINEL;
	__asm__ volatile("mfctl %%cr14,%0" : "+r"(v));
	check("mfctl cr14 trapped (privileged register)", v == SENTINEL);
	__asm__ volatile("mtctl %0,%%cr14" : : "r"(0));
	__asm__ volatile("mtsp %0,%%sr5" : : "r"(0));
	v = SENTINEL;
	__asm__ volatile("ssm 1,%0" : "+r"(v));
	check("ssm trapped (privileged operation)", v == SENTINEL);
	__asm__ volatile("rsm 1,%%r0\n\tmtsm %%r0\n\trfi\n\tnop\n\tdiag 0" ::: "memory");
	__asm__ volatile("pdtlb %%r0(%%sr1,%0)" : : "r"(UDATA_VA));
	v = SENTINEL;
	__asm__ volatile("ldwa 0(%1),%0" : "+r"(v) : "r"(0x10000));
	check("ldwa trapped (privileged operation)", v == SENTINEL);
	check("mfsp sr5 shows its own space", mfsp(5) == 0x100 * U->id);

	__asm__ volatile("proberi (%1),3,%0" : "=r"(v) : "r"(UDATA_VA));
	check("probe,r own data page at PL 3: 1", v == 1);
	__asm__ volatile("proberi (%1),3,%0" : "=r"(v) : "r"(0x10000));
	check("probe,r kernel page at PL 3: 0", v == 0);
	__asm__ volatile("probewi (%1),3,%0" : "=r"(v) : "r"(utext_start));
	check("probe,w own code page: 0", v == 0);
	__asm__ volatile("proberi (%1),0,%0" : "=r"(v) : "r"(0x10000));
	check("probe,r kernel page, level operand 0, from PL 3: 0", v == 0);
}

static void isolation_checks(void)
{
	unsigned v = SENTINEL;
	__asm__ volatile("ldw 0(%1),%0" : "+r"(v) : "r"(0x10000));
	check("kernel memory not readable at PL 3", v == SENTINEL);
	volatile unsigned *code = (volatile unsigned *)utext_start;
	v = *code;
	*code = 0;
	check("own code page readable, not writable", v != 0 && *code == v);
	/* The other process's data page through a long pointer: its
	 * protection ID is not ours. */
	unsigned other = 0x100 * (3 - U->id);
	v = SENTINEL;
	__asm__ volatile("mtsp %1,%%sr1\n\tldw 0(%%sr1,%2),%0" : "+r"(v) : "r"(other), "r"(UDATA_VA));
	check("other process's data page not readable (protection ID)", v == SENTINEL);
}

void user_main(unsigned id)
{
	U->id = id;
	U->marker = id == 1 ? 0x11111111 : 0x22222222;
	say("started", ~0u);
	privilege_checks();
	for (unsigned step = 1; step <= 5; step++) {
		for (int i = 0; i < 3000; i++)
			U->counter++;
		say("step ", step);
	}
	isolation_checks();
	check("own data page kept its marker while the other process ran", U->marker == (id == 1 ? 0x11111111u : 0x22222222u));
	say("counter ", U->counter);
	sys(SYS_EXIT, 0, 0);
	for (;;)
		;
}
