/* A guest that faults on purpose inside hot code and recovers: a SIGSEGV
 * handler (SA_SIGINFO) records the faulting address and siglongjmps back.
 * The summing loop runs often enough to be translated first, so under the
 * JIT its loads into the protected page fault on the host and must reach
 * the guest exactly as under the interpreter: same address, same output,
 * same retired count. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096
#define WORDS (PAGE / sizeof(unsigned))

static sigjmp_buf back;
static char *volatile fault_addr;

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    fault_addr = info->si_addr;
    siglongjmp(back, 1);
}

__attribute__((noipa)) static unsigned sum(const unsigned *p, int n) {
    unsigned s = 0;
    for (int i = 0; i < n; i++)
        s = (s << 1 | s >> 31) ^ p[i];
    return s;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);

    unsigned *words = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (words == MAP_FAILED)
        return 2;
    for (unsigned i = 0; i < 2 * WORDS; i++)
        words[i] = i * 2654435761u;
    unsigned total = 0;
    for (int round = 0; round < 300; round++)
        total += sum(words, WORDS);
    printf("warm total %u\n", total);

    char *second = (char *)words + PAGE;
    mprotect(second, PAGE, PROT_NONE);
    for (int k = 1; k <= 4; k++) {
        if (sigsetjmp(back, 1) == 0) {
            /* Into the page from below, or starting inside it. */
            const unsigned *from = k % 2 ? words + WORDS - 8 * k : words + WORDS + 4 * k;
            total += sum(from, 16 * k);
            printf("pass %d: no fault\n", k);
        } else {
            printf("pass %d: fault %ld bytes into the second page\n", k, (long)(fault_addr - second));
        }
    }
    mprotect(second, PAGE, PROT_READ);
    printf("final total %u\n", total + sum(words, 2 * WORDS));
    return 0;
}
