/* fannkuch (kernels fannkuch N): the fannkuch-redux benchmark kernel (pancake flips over all
 * permutations of 1..n). n from argv[1] (default 8, at most 12). Prints the
 * checksum and the maximum number of flips. Exit status 0, or 2 on a bad
 * argument. */
#include <stdio.h>
#include <stdlib.h>

int fannkuch_main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    if (n < 1 || n > 12) {
        fprintf(stderr, "fannkuch: n must be 1..12\n");
        return 2;
    }
    int perm[16], perm1[16], count[16];
    int max_flips = 0, checksum = 0, r = n, permutations = 0;
    for (int i = 0; i < n; i++)
        perm1[i] = i;
    for (;;) {
        while (r != 1) {
            count[r - 1] = r;
            r--;
        }
        for (int i = 0; i < n; i++)
            perm[i] = perm1[i];
        int flips = 0, k;
        while ((k = perm[0]) != 0) {
            for (int i = 0, j = k; i < j; i++, j--) {
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            flips++;
        }
        if (flips > max_flips)
            max_flips = flips;
        checksum += permutations % 2 == 0 ? flips : -flips;
        for (;;) {
            if (r == n) {
                printf("%d\nPfannkuchen(%d) = %d\n", checksum, n, max_flips);
                return 0;
            }
            int first = perm1[0];
            for (int i = 0; i < r; i++)
                perm1[i] = perm1[i + 1];
            perm1[r] = first;
            if (--count[r] > 0)
                break;
            r++;
        }
        permutations++;
    }
}
