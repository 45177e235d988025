/* sort (kernels sort N): sorting benchmark. N (argv[1], default 100000) pseudo-random 32-bit
 * keys from a fixed-seed xorshift generator are sorted with a top-down merge
 * sort and, separately, with qsort; both results are verified and
 * checksummed. Prints N and the checksum. Exit status 0 if both sorts agree
 * and are ordered, 1 otherwise, 2 on a bad argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void merge_sort(unsigned *a, unsigned *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    memcpy(a, tmp, k * sizeof *a);
}

static int cmp(const void *x, const void *y)
{
    unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;
    return (a > b) - (a < b);
}

int sort_main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (n <= 0) {
        fprintf(stderr, "sort: bad count\n");
        return 2;
    }
    unsigned *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
    if (!a || !b || !tmp)
        return 2;
    unsigned x = 2463534242u;
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a[i] = b[i] = x;
    }
    merge_sort(a, tmp, n);
    qsort(b, n, sizeof *b, cmp);
    unsigned sum = 0;
    int ok = 1;
    for (long i = 0; i < n; i++) {
        ok &= a[i] == b[i] && (i == 0 || a[i - 1] <= a[i]);
        sum = sum * 31 + a[i];
    }
    printf("sorted %ld keys, checksum %08x, %s\n", n, sum, ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}
