/* Generating, flushing and checking tiny functions at run time: shared by
 * the self-modifying-code guests (smc.c, read_code.c). Each generated
 * function returns its argument plus a constant k. */
#ifndef CODE_GEN_H
#define CODE_GEN_H

#include <stdio.h>

typedef int (*fn)(int);

/* Calls per check: enough for a JIT to translate the function. */
#define CALLS 5000
/* Instruction words of a generated function. */
#define WORDS 3

/* ldo k(%r26),%r28: the argument plus k, 14-bit low-sign immediate. */
static unsigned ldo_arg_plus(int k)
{
    unsigned im14 = ((unsigned)k & 0x1fff) << 1 | (k < 0);
    return 0x375c0000u | im14;
}

/* A function returning its argument plus k: ldo; bv %r0(%r2); nop. */
static void emit(unsigned *at, int k)
{
    at[0] = ldo_arg_plus(k);
    at[1] = 0xe840c000u; /* bv %r0(%r2) */
    at[2] = 0x08000240u; /* nop */
}

/* Write back the data cache and drop the instruction cache lines. */
static void flush(void *p, unsigned len)
{
    char *c = p;
    for (unsigned i = 0; i < len; i += 4) {
        __asm__ volatile("fdc 0(%0)\n\tsync\n\tfic 0(%%sr4,%0)\n\tsync" : : "r"(c + i) : "memory");
    }
}

/* Checks that failed; the guests exit with status 1 if any did. */
static int failures;

/* Calls f CALLS times and checks the sum against the constant k. */
static void run(const char *what, fn f, int k)
{
    long sum = 0, want = 0;
    for (int i = 0; i < CALLS; i++) {
        sum += f(i);
        want += i + k;
    }
    printf("%s: k=%d sum=%ld%s\n", what, k, sum, sum == want ? "" : " WRONG");
    failures += sum != want;
}

#endif
