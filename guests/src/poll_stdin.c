/* poll_stdin: reads standard input only when poll (and once select) says
 * it is readable, with a timeout, until end of file; prints every chunk's
 * lines reversed and a summary. The result does not depend on how the
 * input arrives in chunks.
 * Exit status: 0, or 1 if poll/select fail. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static char line[4096];
static size_t used;
static unsigned long lines, bytes;

static void emit(void)
{
    lines++;
    printf("%4lu: ", lines);
    for (size_t i = used; i > 0; i--)
        putchar(line[i - 1]);
    putchar('\n');
    used = 0;
}

int main(void)
{
    /* select first: is stdin readable within 5 seconds? */
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(0, &readable);
    struct timeval five = {5, 0};
    int ready = select(1, &readable, NULL, NULL, &five);
    if (ready < 0) {
        perror("select");
        return 1;
    }
    printf("select: stdin %s\n", ready == 1 && FD_ISSET(0, &readable) ? "readable" : "not readable");
    unsigned long waits = 0;
    for (;;) {
        struct pollfd p = {0, POLLIN, 0};
        int n = poll(&p, 1, 1000);
        if (n < 0) {
            perror("poll");
            return 1;
        }
        if (n == 0) {
            waits++;
            continue;
        }
        char buf[512];
        ssize_t got = read(0, buf, sizeof buf);
        if (got <= 0)
            break;
        bytes += got;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n')
                emit();
            else if (used < sizeof line)
                line[used++] = buf[i];
        }
    }
    if (used)
        emit();
    printf("poll_stdin: %lu lines, %lu bytes\n", lines, bytes);
    return 0;
}
