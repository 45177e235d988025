/* echo_stdin: reads standard input (if no arguments, or for an argument
 * "-") and each file named in argv, and writes a transformed copy: every
 * line prefixed with its line number and upper-cased, then a summary of
 * lines/words/bytes per input and in total.
 * Exit status: 0, or 1 if some file could not be opened. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static unsigned long tot_lines, tot_words, tot_bytes;

static void process(FILE *f, const char *name)
{
    char line[1024];
    unsigned long lines = 0, words = 0, bytes = 0;
    int at_line_start = 1;

    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line), i;
        int inword = 0;
        if (at_line_start)
            printf("%6lu  ", ++lines);
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            if (isspace(c))
                inword = 0;
            else if (!inword) {
                inword = 1;
                words++;
            }
            line[i] = (char)toupper(c);
        }
        bytes += n;
        fputs(line, stdout);
        at_line_start = n > 0 && line[n - 1] == '\n';
    }
    if (!at_line_start)
        putchar('\n');
    printf("== %s: %lu lines, %lu words, %lu bytes\n", name, lines, words, bytes);
    tot_lines += lines;
    tot_words += words;
    tot_bytes += bytes;
}

int main(int argc, char **argv)
{
    int i, status = 0;

    if (argc < 2) {
        process(stdin, "<stdin>");
    } else {
        for (i = 1; i < argc; i++) {
            FILE *f;
            if (strcmp(argv[i], "-") == 0) {
                process(stdin, "<stdin>");
                continue;
            }
            f = fopen(argv[i], "r");
            if (!f) {
                perror(argv[i]);
                status = 1;
                continue;
            }
            process(f, argv[i]);
            fclose(f);
        }
    }
    printf("== total: %lu lines, %lu words, %lu bytes\n", tot_lines, tot_words, tot_bytes);
    return status;
}
