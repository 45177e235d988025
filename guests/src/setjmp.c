/* setjmp: setjmp/longjmp across several frames, nested jump buffers,
 * volatile locals that must survive the jump; prints a trace.
 * Exit status 0 if all checks hold, 1 otherwise. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf outer, inner;
static int depth_reached;
static int failures;

static void check(int cond, const char *what)
{
    if (!cond) {
        printf("CHECK FAILED: %s\n", what);
        failures++;
    }
}

static int __attribute__((noinline)) recurse(int n, int target, jmp_buf *env)
{
    volatile int local[4];
    int i;
    for (i = 0; i < 4; i++)
        local[i] = n * 10 + i;
    depth_reached = n;
    if (n > 1000)
        return -1;
    if (n == target) {
        printf("  recurse: depth %d, longjmp(%d)\n", n, n + 100);
        longjmp(*env, n + 100);
    }
    return recurse(n + 1, target, env) + local[n & 3];
}

static void __attribute__((noinline)) level3(int v)
{
    printf("    level3(%d): longjmp inner\n", v);
    longjmp(inner, v * 2);
}

static void __attribute__((noinline)) level2(int v)
{
    volatile int guard = 0x5a5a;
    int r = setjmp(inner);
    if (r == 0) {
        printf("   level2: inner set, calling level3\n");
        level3(v);
        printf("   NOT REACHED level2\n");
        failures++;
    } else {
        printf("   level2: inner returned %d, guard=%x\n", r, guard);
        check(guard == 0x5a5a, "guard");
        check(r == v * 2, "inner value");
        printf("   level2: longjmp outer %d\n", r + 1);
        longjmp(outer, r + 1);
    }
}

static void __attribute__((noinline)) level1(int v)
{
    printf("  level1(%d)\n", v);
    level2(v + 1);
    printf("  NOT REACHED level1\n");
    failures++;
}

int main(void)
{
    volatile int counter = 0;
    volatile double acc = 1.5;
    int r;

    printf("setjmp test\n");

    /* 1: longjmp through several recursive frames */
    r = setjmp(outer);
    printf("setjmp returned %d (counter=%d acc=%g)\n", r, counter, acc);
    if (counter < 5) {
        counter++;
        acc *= 2.0;
        recurse(0, counter * 3, &outer);
        printf("NOT REACHED main\n");
        failures++;
    }
    check(r == 115, "final recurse value");
    check(counter == 5, "counter");
    check(acc == 48.0, "acc");
    check(depth_reached == 15, "depth");

    /* 2: nested buffers, inner jump then outer jump */
    r = setjmp(outer);
    if (r == 0) {
        printf("nested: calling level1\n");
        level1(20);
        printf("NOT REACHED nested\n");
        failures++;
    } else {
        printf("nested: outer returned %d\n", r);
        check(r == 43, "nested value");
    }

    /* 3: longjmp with value 0 must give 1 */
    r = setjmp(outer);
    if (r == 0) {
        printf("zero: longjmp(outer, 0)\n");
        longjmp(outer, 0);
    }
    printf("zero: setjmp returned %d\n", r);
    check(r == 1, "longjmp 0 -> 1");

    /* 4: sigsetjmp / siglongjmp with savemask */
    {
        sigjmp_buf sj;
        volatile int k = 0;
        if (sigsetjmp(sj, 1) < 3) {
            k++;
            printf("sigsetjmp round %d\n", k);
            siglongjmp(sj, k);
        }
        check(k == 3, "sigsetjmp rounds");
    }

    printf("%s (failures=%d)\n", failures ? "FAIL" : "OK", failures);
    return failures ? 1 : 0;
}
