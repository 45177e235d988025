/* clock_random: environment reads whose values change from run to run —
 * clock_gettime (REALTIME, MONOTONIC), gettimeofday, time and getrandom —
 * and checks what must hold whatever the values are.
 * Without arguments it prints only those checks (the same on every run);
 * with "show" it also prints the values read, which a replay must
 * reproduce byte for byte.
 * Exit status: 0 if every check holds, 1 otherwise. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

int main(int argc, char **argv)
{
    int show = argc > 1 && strcmp(argv[1], "show") == 0;
    int ok = 1;
    struct timespec mono[8], real;
    for (int i = 0; i < 8; i++)
        clock_gettime(CLOCK_MONOTONIC, &mono[i]);
    int nondecreasing = 1;
    for (int i = 1; i < 8; i++)
        if (mono[i].tv_sec < mono[i - 1].tv_sec ||
            (mono[i].tv_sec == mono[i - 1].tv_sec && mono[i].tv_nsec < mono[i - 1].tv_nsec))
            nondecreasing = 0;
    printf("monotonic clock nondecreasing: %s\n", nondecreasing ? "yes" : "NO");
    ok &= nondecreasing;

    clock_gettime(CLOCK_REALTIME, &real);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t now = time(NULL);
    /* time() reads CLOCK_REALTIME_COARSE, which may lag by a tick. */
    int after_2020 = real.tv_sec > 1577836800 && tv.tv_sec >= real.tv_sec && now + 1 >= real.tv_sec;
    printf("realtime, gettimeofday, time agree and are after 2020: %s\n", after_2020 ? "yes" : "NO");
    ok &= after_2020;

    unsigned char bytes[32];
    ssize_t n = getrandom(bytes, sizeof bytes, 0);
    int nonzero = 0;
    for (int i = 0; i < (int)sizeof bytes; i++)
        nonzero |= bytes[i];
    printf("getrandom: %d bytes, not all zero: %s\n", (int)n, nonzero ? "yes" : "NO");
    ok &= n == (ssize_t)sizeof bytes && nonzero;

    if (show) {
        printf("monotonic %lld.%09ld .. %lld.%09ld\n", (long long)mono[0].tv_sec, mono[0].tv_nsec,
               (long long)mono[7].tv_sec, mono[7].tv_nsec);
        printf("realtime %lld.%09ld, gettimeofday %lld.%06ld, time %lld\n", (long long)real.tv_sec,
               real.tv_nsec, (long long)tv.tv_sec, (long)tv.tv_usec, (long long)now);
        printf("random ");
        for (int i = 0; i < (int)sizeof bytes; i++)
            printf("%02x", bytes[i]);
        printf("\n");
    }
    return ok ? 0 : 1;
}
