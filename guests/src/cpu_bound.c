/* cpu_bound: a CPU-bound kernel for benchmarks. For each of ITER iterations
 * (argv[1], default 3): generate 64 KiB of pseudo-random data, crc32 it
 * (bitwise, table-driven), run a prime sieve up to 200000, and mix the
 * results into a checksum. Prints the checksum. Exit status 0, or 2 on a
 * bad argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_LEN 65536
#define SIEVE_N 200000

static unsigned char data[DATA_LEN];
static unsigned char composite[SIEVE_N + 1];
static unsigned crc_table[256];

static void crc_init(void)
{
    unsigned i, j, c;
    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static unsigned crc32_table(const unsigned char *p, unsigned n)
{
    unsigned c = 0xffffffffu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static unsigned crc32_bitwise(const unsigned char *p, unsigned n)
{
    unsigned c = 0xffffffffu;
    int k;
    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static unsigned sieve(unsigned n, unsigned *last)
{
    unsigned i, j, count = 0;
    memset(composite, 0, n + 1);
    for (i = 2; i * i <= n; i++)
        if (!composite[i])
            for (j = i * i; j <= n; j += i)
                composite[j] = 1;
    for (i = 2; i <= n; i++)
        if (!composite[i]) {
            count++;
            *last = i;
        }
    return count;
}

int main(int argc, char **argv)
{
    long iters = 3, it;
    unsigned seed = 0x12345678u, sum = 0;
    char *end;

    if (argc > 1) {
        iters = strtol(argv[1], &end, 10);
        if (*end || iters < 0) {
            fprintf(stderr, "usage: cpu_bound [ITERATIONS]\n");
            return 2;
        }
    }
    crc_init();
    for (it = 0; it < iters; it++) {
        unsigned i, c1, c2, primes, last = 0;
        for (i = 0; i < DATA_LEN; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            data[i] = (unsigned char)(seed >> 24);
        }
        c1 = crc32_table(data, DATA_LEN);
        c2 = crc32_bitwise(data, DATA_LEN / 8);
        primes = sieve(SIEVE_N - (unsigned)(it % 7) * 1000, &last);
        sum = (sum * 31u) ^ c1 ^ (c2 << 1) ^ primes ^ (last << 7);
    }
    printf("cpu_bound: iterations=%ld checksum=%08x\n", iters, sum);
    return 0;
}
