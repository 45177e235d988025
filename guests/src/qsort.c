/* qsort: sort a few thousand pseudo-random ints with libc qsort (and a few
 * other comparators), verify the order, print checksums.
 * Exit status 0 if all sorts verify, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4000

static unsigned lcg_state = 12345u;

static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xffffffu;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_int_desc(const void *a, const void *b)
{
    return cmp_int(b, a);
}

struct rec {
    unsigned short key;
    int idx;
    char name[6];
};

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx - y->idx;
}

static unsigned checksum(const int *v, int n)
{
    unsigned h = 2166136261u;
    int i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned)v[i];
        h *= 16777619u;
    }
    return h;
}

int main(void)
{
    static int a[N];
    static struct rec r[N / 4];
    int i, bad = 0;
    long long sum = 0;

    for (i = 0; i < N; i++) {
        a[i] = (int)lcg() - 0x800000;
        sum += a[i];
    }
    printf("generated %d ints, sum=%lld, unsorted checksum=%08x\n", N, sum, checksum(a, N));

    qsort(a, N, sizeof a[0], cmp_int);
    for (i = 1; i < N; i++)
        if (a[i - 1] > a[i])
            bad++;
    printf("ascending: min=%d max=%d median=%d bad=%d checksum=%08x\n",
           a[0], a[N - 1], a[N / 2], bad, checksum(a, N));

    qsort(a, N, sizeof a[0], cmp_int_desc);
    for (i = 1; i < N; i++)
        if (a[i - 1] < a[i])
            bad++;
    printf("descending: first=%d last=%d bad=%d checksum=%08x\n",
           a[0], a[N - 1], bad, checksum(a, N));

    for (i = 0; i < N / 4; i++) {
        r[i].key = (unsigned short)(lcg() % 97);
        r[i].idx = i;
        snprintf(r[i].name, sizeof r[i].name, "r%d", i % 10000);
    }
    qsort(r, N / 4, sizeof r[0], cmp_rec);
    for (i = 1; i < N / 4; i++)
        if (cmp_rec(&r[i - 1], &r[i]) >= 0)
            bad++;
    {
        unsigned h = 0;
        for (i = 0; i < N / 4; i++)
            h = h * 31u + r[i].key * 7u + (unsigned)r[i].idx + (unsigned char)r[i].name[1];
        printf("records: first=(%u,%d,%s) last=(%u,%d,%s) bad=%d hash=%08x\n",
               r[0].key, r[0].idx, r[0].name, r[N / 4 - 1].key, r[N / 4 - 1].idx,
               r[N / 4 - 1].name, bad, h);
    }

    {
        int key = a[N / 3];
        int *found;
        qsort(a, N, sizeof a[0], cmp_int);
        found = bsearch(&key, a, N, sizeof a[0], cmp_int);
        printf("bsearch %d: %s\n", key, found && *found == key ? "found" : "MISSING");
        if (!found)
            bad++;
    }

    printf("%s\n", bad ? "FAIL" : "OK");
    return bad ? 1 : 0;
}
