/* smc: self-modifying and generated code. Writes a small function into an
 * executable mapping, flushes the caches (fdc/sync/fic/sync, as PA-RISC
 * requires), calls it often enough for a JIT to translate it, rewrites it
 * in place with a different constant, and calls it again; then the same
 * with the rewrite done by the function's neighbour in the same page
 * without a flush, through mprotect (writable, then executable), and in
 * hot loops that rewrite and call a function on every iteration (with and
 * without flushing), so that the rewriting code is translated too.
 * Prints the sums. Exit status 0 if every result matches what the code
 * written at that time computes, 1 otherwise. */
#include <stdio.h>
#include <sys/mman.h>

#include "code_gen.h"

int main(void)
{
    unsigned *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    fn f = (fn)(void *)page;
    fn g = (fn)(void *)(page + 16);

    for (int round = 0; round < 4; round++) {
        int k = round * 7 - 9;
        emit(page, k);
        flush(page, 12);
        run("rewritten and flushed", f, k);
    }

    /* A neighbour in the same page changes while f stays. */
    emit(page + 16, 100);
    flush(page + 16, 12);
    run("neighbour", g, 100);
    run("unchanged", f, 12);
    emit(page + 16, 200);
    run("neighbour without flush", g, 200);

    /* Through mprotect: write while not executable, then execute. */
    if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0) {
        perror("mprotect");
        return 1;
    }
    emit(page, 300);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }
    run("after mprotect", f, 300);
    if (mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }

    /* Rewritten on every iteration of hot loops: every rewrite must be seen. */
    fn h = (fn)(void *)(page + 32);
    for (int flushed = 1; flushed >= 0; flushed--) {
        long sum = 0, want = 0;
        for (int i = 0; i < CALLS; i++) {
            emit(page + 32, i & 1023);
            if (flushed)
                flush(page + 32, 12);
            sum += h(1);
            want += 1 + (i & 1023);
        }
        printf("hot rewrite loop%s: sum=%ld%s\n", flushed ? "" : " without flush", sum, sum == want ? "" : " WRONG");
        failures += sum != want;
    }
    return failures != 0;
}
