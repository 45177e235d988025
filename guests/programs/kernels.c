/* kernels: CPU-bound benchmark kernels in one static binary (one copy of
 * libc instead of three): `kernels nbody [STEPS]`, `kernels fannkuch [N]`,
 * `kernels sort [N]` (see nbody.c, fannkuch.c, sort.c). Exit status that of
 * the kernel, or 2 on an unknown kernel name. */
#include <stdio.h>
#include <string.h>

int nbody_main(int argc, char **argv);
int fannkuch_main(int argc, char **argv);
int sort_main(int argc, char **argv);

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*run)(int, char **); } kernels[] = {
        { "nbody", nbody_main }, { "fannkuch", fannkuch_main }, { "sort", sort_main },
    };
    for (unsigned i = 0; argc > 1 && i < sizeof kernels / sizeof *kernels; i++)
        if (strcmp(argv[1], kernels[i].name) == 0)
            return kernels[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: kernels nbody|fannkuch|sort [SIZE]\n");
    return 2;
}
