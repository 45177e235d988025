/* hello_float: printf of floats and doubles in several formats, plus integers.
 * Exercises glibc's printf_fp (multi-precision arithmetic), soft/hard FP
 * conversions and varargs passing of doubles. Exit status 0. */
#include <stdio.h>

static const double dvals[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 2.5, 3.5, -2.5, 1.0 / 3.0, 2.0 / 3.0,
    3.14159265358979323846, 2.71828182845904523536, 1e10, 1.5e-10,
    123456789.125, -987654.3210, 6.02214076e23, 1.602176634e-19,
    1e300, 1e-300, 4.9406564584124654e-324, 1.7976931348623157e308,
    0.125, 0.0625, 1234.5678, 99.995, 0.995, 1e-5, 1e-4, 123456.0, 1234567.0,
};

static const float fvals[] = {
    0.0f, 1.0f, -1.5f, 0.1f, 3.14159265f, 1e20f, 1e-20f, 16777216.0f,
    16777217.0f, 3.4028235e38f, 1.17549435e-38f, -7.25f, 0.3333333f,
};

int main(void)
{
    unsigned i;
    long long sum = 0;

    printf("hello, float world\n");
    for (i = 0; i < sizeof dvals / sizeof dvals[0]; i++) {
        double d = dvals[i];
        printf("d[%2u] %%f=%f %%e=%e %%g=%g %%.3f=%.3f %%.10g=%.10g %%+.2e=%+.2e\n",
               i, d, d, d, d, d, d);
    }
    for (i = 0; i < sizeof fvals / sizeof fvals[0]; i++) {
        float f = fvals[i];
        printf("f[%2u] %%f=%f %%e=%e %%g=%g %%.9g=%.9g %%10.4f=[%10.4f] %%-12.3e=[%-12.3e]\n",
               i, f, f, f, f, f, f);
    }
    /* rounding at various precisions */
    printf("round: %.0f %.0f %.0f %.0f %.1f %.1f %.2f %.2f\n",
           0.5, 1.5, 2.5, -0.5, 0.05, 0.15, 1.005, 2.675);
    /* integers */
    printf("ints: %d %i %u %x %X %o %ld %lld %llu\n",
           -42, 42, 4000000000u, 0xdeadbeef, 0xcafe, 0777,
           -2147483647L - 1, -9223372036854775807LL - 1, 18446744073709551615ULL);
    printf("width: [%8d] [%-8d] [%08d] [%+d] [% d] [%#x] [%#o]\n",
           123, 123, 123, 5, 5, 255, 8);
    /* float <-> int arithmetic */
    for (i = 1; i <= 10; i++) {
        double x = (double)i * 1.1;
        int t = (int)(x * 100.0);
        sum += t;
        printf("i=%u x=%.17g trunc=%d\n", i, x, t);
    }
    printf("sum=%lld\n", sum);
    return sum == 6050 ? 0 : 1;
}
