/* zround: a zlib compression round trip. Input: stdin (no argument or "-"),
 * a file, or "gen N" for N bytes of generated, compressible text. The input
 * is compressed with deflate at levels 1, 6 and 9 and each stream inflated
 * again in small chunks; prints sizes, adler32 of the input, crc32 of every
 * compressed stream and whether each round trip restored the input.
 * Exit status 0 if every round trip matched, 1 otherwise, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"

static unsigned char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    *len = n;
    return buf;
}

/* Words from a small vocabulary chosen by an LCG, with line breaks and
 * numbers: compressible like real text, but not trivially so. */
static unsigned char *generate(size_t len)
{
    static const char *words[] = {
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
        "primary", "backup", "epoch", "hypervisor", "fault", "tolerance",
        "interrupt", "instruction", "counter", "replica", "log", "PA-RISC",
    };
    unsigned char *buf = malloc(len + 32);
    unsigned state = 12345;
    size_t n = 0, col = 0;
    while (buf && n < len) {
        char tmp[24];
        state = state * 1103515245u + 12345u;
        unsigned r = state >> 16;
        int k = (r % 7 == 0) ? snprintf(tmp, sizeof tmp, "%u", r % 10007)
                             : snprintf(tmp, sizeof tmp, "%s", words[r % 20]);
        memcpy(buf + n, tmp, k);
        n += k;
        col += k + 1;
        buf[n++] = col > 64 ? (col = 0, '\n') : ' ';
    }
    return buf;
}

static int round_trip(const unsigned char *in, size_t len, int level)
{
    uLongf clen = compressBound(len);
    unsigned char *comp = malloc(clen), *out = malloc(len + 1);
    if (!comp || !out || compress2(comp, &clen, in, len, level) != Z_OK) {
        printf("level %d: compress failed\n", level);
        return 0;
    }
    /* Inflate in 4 KiB input and 1000-byte output chunks to exercise the
     * streaming state machine. */
    z_stream s;
    memset(&s, 0, sizeof s);
    inflateInit(&s);
    size_t used = 0, produced = 0;
    int ret = Z_OK;
    while (ret == Z_OK) {
        s.next_in = comp + used;
        s.avail_in = clen - used < 4096 ? clen - used : 4096;
        s.next_out = out + produced;
        s.avail_out = len + 1 - produced < 1000 ? len + 1 - produced : 1000;
        size_t in_before = s.avail_in, out_before = s.avail_out;
        ret = inflate(&s, Z_NO_FLUSH);
        used += in_before - s.avail_in;
        produced += out_before - s.avail_out;
        if (ret == Z_BUF_ERROR && s.avail_in == 0 && used < clen)
            ret = Z_OK;
    }
    inflateEnd(&s);
    int ok = ret == Z_STREAM_END && produced == len && memcmp(in, out, len) == 0;
    printf("level %d: %lu -> %lu bytes (%.2f%%), crc32 %08lx, round trip %s\n", level,
           (unsigned long)len, (unsigned long)clen, len ? 100.0 * clen / len : 0.0,
           crc32(0L, comp, clen), ok ? "ok" : "MISMATCH");
    free(comp);
    free(out);
    return ok;
}

int main(int argc, char **argv)
{
    size_t len;
    unsigned char *in;
    if (argc == 3 && strcmp(argv[1], "gen") == 0) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);
        if (*end || n == 0) {
            fprintf(stderr, "zround: bad size %s\n", argv[2]);
            return 2;
        }
        len = n;
        in = generate(len);
    } else if (argc == 1 || (argc == 2 && strcmp(argv[1], "-") == 0)) {
        in = read_all(stdin, &len);
    } else if (argc == 2) {
        FILE *f = fopen(argv[1], "rb");
        if (!f) {
            perror(argv[1]);
            return 2;
        }
        in = read_all(f, &len);
        fclose(f);
    } else {
        fprintf(stderr, "usage: zround [FILE | - | gen N]\n");
        return 2;
    }
    if (!in)
        return 2;
    printf("zlib %s, input %lu bytes, adler32 %08lx\n", zlibVersion(), (unsigned long)len,
           adler32(1L, in, len));
    int ok = 1;
    for (int level = 1; level <= 9; level += level == 1 ? 5 : 3)
        ok &= round_trip(in, len, level);
    return ok ? 0 : 1;
}
