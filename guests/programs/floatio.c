/* floatio: scanf and printf of floating-point numbers. Reads whitespace-
 * separated numbers from stdin with scanf("%lf") (decimal, exponent, hex
 * float, inf, nan forms), prints each with %f %e %g %.17g %a and as a float,
 * then sums them; also strtod/sscanf of fixed strings and printf edge cases
 * (rounding of halves, widths, signs, denormals).
 * Exit status 0 if all fixed checks hold, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    double x, sum = 0.0;
    int n = 0, bad = 0;
    while (scanf("%lf", &x) == 1) {
        n++;
        if (!isnan(x) && !isinf(x))
            sum += x;
        printf("%2d: %f | %e | %g | %.17g | %a | %.9g\n", n, x, x, x, x, x, (double)(float)x);
    }
    printf("read %d numbers, finite sum %.17g\n", n, sum);

    static const char *texts[] = { "3.14159", "-0.0", "1e-310", "0x1.8p3", "  42abc", "1e400", "NaN", "2.5e-3" };
    for (unsigned i = 0; i < sizeof texts / sizeof *texts; i++) {
        char *end;
        double v = strtod(texts[i], &end);
        float f = strtof(texts[i], NULL);
        printf("strtod(\"%s\") = %.17g (rest \"%s\"), strtof %.9g\n", texts[i], v, end, (double)f);
    }
    double a;
    float b;
    int k;
    if (sscanf("12.5 -7.25e2 99", "%lf %f %d", &a, &b, &k) != 3 || a != 12.5 || b != -725.0f || k != 99)
        bad = 1;
    printf("sscanf: %g %g %d\n", a, (double)b, k);
    for (double h = 0.5; h < 5; h += 1.0)
        printf("%.0f ", h);
    printf("| %.2f %.2f %.1f\n", 1.005, 2.675, 0.25);
    printf("[%10.3f] [%-10.3e] [%+g] [% g] [%010.4f]\n", M_PI, -M_E, 1.0, 2.0, -3.5);
    printf("%g %g %g %.3g\n", 1e-320, 5e-324, 1.7976931348623157e308, 123456.0);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", 0.1);
    if (strcmp(buf, "0.10000000000000001") != 0)
        bad = 1;
    printf("%s\n", bad ? "checks FAILED" : "checks ok");
    return bad;
}
