/* strings: string-heavy workload — strlen/strcpy/strcat/strcmp/strstr/
 * memcpy/memmove/sprintf/strtol/strtok and a word-frequency count over an
 * embedded text. Exit status 0 if all checks hold, 1 otherwise. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strncat truncating on purpose. */
#pragma GCC diagnostic ignored "-Wstringop-truncation"

static const char text[] =
    "It was the best of times, it was the worst of times, it was the age of "
    "wisdom, it was the age of foolishness, it was the epoch of belief, it was "
    "the epoch of incredulity, it was the season of Light, it was the season of "
    "Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to "
    "Heaven, we were all going direct the other way -- in short, the period was "
    "so far like the present period, that some of its noisiest authorities "
    "insisted on its being received, for good or for evil, in the superlative "
    "degree of comparison only.";

struct word {
    char w[24];
    int n;
};

static int failures;

static void check(int cond, const char *what)
{
    if (!cond) {
        printf("CHECK FAILED: %s\n", what);
        failures++;
    }
}

static int cmp_word(const void *a, const void *b)
{
    const struct word *x = a, *y = b;
    if (x->n != y->n)
        return y->n - x->n;
    return strcmp(x->w, y->w);
}

int main(void)
{
    char buf[256], buf2[256];
    char *copy, *tok, *end;
    static struct word words[128];
    int nwords = 0, ntok = 0, i;
    long v;
    unsigned long uv;
    unsigned h;
    static const char suffix[8] = "!!!???";

    /* basic functions */
    printf("strlen(text)=%u\n", (unsigned)strlen(text));
    strcpy(buf, "Hello");
    strcat(buf, ", ");
    strcat(buf, "world");
    strncat(buf, suffix, 3);
    printf("buf=\"%s\" len=%u\n", buf, (unsigned)strlen(buf));
    check(strcmp(buf, "Hello, world!!!") == 0, "strcat");
    printf("strcmp: %d %d %d\n", strcmp("abc", "abd") < 0, strcmp("abd", "abc") > 0,
           strcmp("abc", "abc") == 0);
    printf("strncmp(\"abcdef\",\"abcxyz\",3)=%d\n", strncmp("abcdef", "abcxyz", 3));
    printf("strstr: %s | %s | %p\n", strstr(text, "epoch"), strstr(buf, "world"),
           (void *)strstr(buf, "xyz"));
    printf("strchr/strrchr: %u %u\n", (unsigned)(strchr(text, 'w') - text),
           (unsigned)(strrchr(text, 'w') - text));
    printf("strspn=%u strcspn=%u\n", (unsigned)strspn("aaabbbccc", "ab"),
           (unsigned)strcspn("hello world", " "));

    /* memcpy / memmove with overlap / memset / memcmp */
    for (i = 0; i < 64; i++)
        buf[i] = (char)('A' + i % 26);
    buf[64] = 0;
    memmove(buf + 5, buf, 40);
    printf("memmove fwd: %.64s\n", buf);
    memmove(buf, buf + 7, 40);
    printf("memmove bwd: %.64s\n", buf);
    memcpy(buf2, text, 100);
    buf2[100] = 0;
    check(memcmp(buf2, text, 100) == 0, "memcpy");
    memset(buf2 + 10, '*', 20);
    printf("memset: %s\n", buf2);
    for (i = 0; i < 13; i++) {
        /* unaligned copies of every small length */
        memset(buf, '.', 40);
        memcpy(buf + i, "0123456789abcdefghij", (size_t)i + 3);
        buf[40] = 0;
        printf("memcpy[%2d]: %s\n", i, buf);
    }

    /* sprintf / strtol */
    sprintf(buf, "%d|%5s|%-5s|%05.1f|%x|%c%c|%s", -17, "ab", "cd", 3.14159, 48879, 'o', 'k', "end");
    printf("sprintf: %s\n", buf);
    v = strtol("  -12345xyz", &end, 10);
    printf("strtol: %ld rest=\"%s\"\n", v, end);
    v = strtol("0x7fffFFFF", NULL, 16);
    printf("strtol hex: %ld\n", v);
    v = strtol("0755", NULL, 0);
    printf("strtol auto: %ld\n", v);
    uv = strtoul("4294967295", NULL, 10);
    printf("strtoul: %lu\n", uv);
    v = strtol("z1", NULL, 36);
    printf("strtol base36: %ld\n", v);
    printf("atoi: %d\n", atoi("  42abc"));

    /* strtok + word frequency */
    copy = strdup(text);
    for (tok = strtok(copy, " ,.-"); tok; tok = strtok(NULL, " ,.-")) {
        char lw[24];
        size_t k;
        ntok++;
        for (k = 0; tok[k] && k < sizeof lw - 1; k++)
            lw[k] = (char)tolower((unsigned char)tok[k]);
        lw[k] = 0;
        for (i = 0; i < nwords; i++)
            if (strcmp(words[i].w, lw) == 0)
                break;
        if (i == nwords) {
            strcpy(words[nwords].w, lw);
            words[nwords].n = 0;
            nwords++;
        }
        words[i].n++;
    }
    free(copy);
    qsort(words, (size_t)nwords, sizeof words[0], cmp_word);
    printf("tokens=%d distinct=%d\n", ntok, nwords);
    for (i = 0; i < 12 && i < nwords; i++)
        printf("  %-12s %d\n", words[i].w, words[i].n);
    check(ntok == 119, "token count");

    /* upper-case / reverse / hash */
    strcpy(buf, "The Quick Brown Fox Jumps Over The Lazy Dog");
    for (i = 0; buf[i]; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    printf("upper: %s\n", buf);
    {
        size_t n = strlen(buf), k;
        for (k = 0; k < n / 2; k++) {
            char t = buf[k];
            buf[k] = buf[n - 1 - k];
            buf[n - 1 - k] = t;
        }
    }
    printf("reversed: %s\n", buf);
    h = 5381;
    for (i = 0; text[i]; i++)
        h = h * 33u ^ (unsigned char)text[i];
    printf("djb2(text)=%08x\n", h);

    printf("%s (failures=%d)\n", failures ? "FAIL" : "OK", failures);
    return failures ? 1 : 0;
}
