/* read_code: code written into executable pages by the kernel rather than
 * by guest stores. A small function is generated into an executable
 * mapping and called often enough for a JIT to translate it; then new code
 * comes into the same page through read() from a pipe (in place, into a
 * neighbour of a function that stays, and on every iteration of a hot
 * loop), and through an mmap(MAP_FIXED) over the page followed by a read.
 * No cache flush follows these writes: like qemu-hppa, hbft keeps
 * instructions coherent with what the kernel writes. Prints the sums.
 * Exit status 0 if every result matches what the code written at that time
 * computes, 1 otherwise. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "code_gen.h"

static int pipe_fds[2];

/* The function for k, written into a pipe and read back to `at`. */
static int read_in(unsigned *at, int k)
{
    unsigned code[WORDS];
    emit(code, k);
    if (write(pipe_fds[1], code, sizeof code) != sizeof code || read(pipe_fds[0], at, sizeof code) != sizeof code) {
        perror("pipe");
        return -1;
    }
    return 0;
}

int main(void)
{
    unsigned *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || pipe(pipe_fds) != 0) {
        perror("setup");
        return 1;
    }
    fn f = (fn)(void *)page;
    fn g = (fn)(void *)(page + 16);

    emit(page, 1);
    flush(page, 4 * WORDS);
    run("generated", f, 1);
    for (int round = 0; round < 3; round++) {
        int k = 10 * round + 2;
        if (read_in(page, k) != 0)
            return 1;
        run("read in place", f, k);
    }

    /* A neighbour in the same page arrives by read() while f stays. */
    if (read_in(page + 16, 100) != 0)
        return 1;
    run("neighbour read", g, 100);
    run("unchanged", f, 22);

    /* A hot loop reads new code into the page on every iteration. */
    long sum = 0, want = 0;
    for (int i = 0; i < CALLS; i++) {
        if (read_in(page + 32, i & 1023) != 0)
            return 1;
        sum += ((fn)(void *)(page + 32))(1);
        want += 1 + (i & 1023);
    }
    printf("hot read loop: sum=%ld%s\n", sum, sum == want ? "" : " WRONG");
    failures += sum != want;

    /* A fresh mapping over the translated page, then code read into it. */
    if (mmap(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != page) {
        perror("mmap fixed");
        return 1;
    }
    if (read_in(page, 300) != 0)
        return 1;
    run("mapped over and read", f, 300);
    return failures != 0;
}
