/* demo: the guest of `hbft demo`. Prints LINES numbered lines (argv[1],
 * default 40), each after a slice of work: the Collatz trajectories of
 * WORK numbers (argv[2], default 3000) starting where the last line ended,
 * with the longest one and the total number of steps. Standard output is
 * line buffered so every line is one write; a last line goes to standard
 * error. Deterministic: no time, no randomness.
 * Exit status 0, or 2 on a bad argument. */
#include <stdio.h>
#include <stdlib.h>

static unsigned steps(unsigned long long n)
{
    unsigned s = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        s++;
    }
    return s;
}

static long arg(int argc, char **argv, int i, long dflt)
{
    char *end;
    long v;
    if (argc <= i)
        return dflt;
    v = strtol(argv[i], &end, 10);
    if (*end || v < 1) {
        fprintf(stderr, "demo: bad argument %s\n", argv[i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    long lines = arg(argc, argv, 1, 40), work = arg(argc, argv, 2, 3000), i;
    unsigned long long n = 1, total = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 1; i <= lines; i++) {
        unsigned long long best = n, line_steps = 0;
        unsigned best_steps = 0;
        long k;
        for (k = 0; k < work; k++, n++) {
            unsigned s = steps(n);
            line_steps += s;
            if (s > best_steps) {
                best_steps = s;
                best = n;
            }
        }
        total += line_steps;
        printf("%4ld  numbers to %-8llu longest %-8llu (%3u steps)  steps so far %llu\n",
               i, n - 1, best, best_steps, total);
    }
    fprintf(stderr, "demo: %ld lines, %llu Collatz steps\n", lines, total);
    return 0;
}
