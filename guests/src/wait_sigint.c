/* wait_sigint: computes until SIGINT arrives, then reports it. With "wait"
 * (argv[1]) it waits for a SIGINT from outside (Ctrl-C, kill -INT) for at
 * most 60 seconds; without arguments it sends itself SIGINT after a fixed
 * amount of work, so the output is the same on every run. SIGTERM keeps
 * its default action (the process dies of it).
 * Exit status: 0 after a SIGINT, 1 if none came within 60 seconds. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    int wait_outside = argc > 1 && strcmp(argv[1], "wait") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    if (wait_outside) {
        printf("waiting for SIGINT\n");
        fflush(stdout);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned long x = 1, rounds = 0;
    while (!interrupted) {
        for (int i = 0; i < 10000; i++)
            x = x * 2862933555777941757UL + 3037000493UL;
        rounds++;
        if (!wait_outside && rounds == 50)
            kill(getpid(), SIGINT);
        if (wait_outside && rounds % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > 60) {
                printf("no SIGINT within 60 seconds\n");
                return 1;
            }
        }
    }
    if (wait_outside)
        printf("SIGINT received after %lu rounds (x=%lx)\n", rounds, x);
    else
        printf("SIGINT received\n");
    return 0;
}
