/* fp: floating-point heavy — an n-body simulation (double), a float matrix
 * multiply, series with sqrt/sin/cos/exp/log, int<->float conversions.
 * Prints with %.9g. Exit status 0 if energy is conserved reasonably. */
#include <math.h>
#include <stdio.h>

#define NB 5
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body {
    double x, y, z, vx, vy, vz, mass;
};

static struct body bodies[NB] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static void offset_momentum(void)
{
    double px = 0, py = 0, pz = 0;
    int i;
    for (i = 0; i < NB; i++) {
        px += bodies[i].vx * bodies[i].mass;
        py += bodies[i].vy * bodies[i].mass;
        pz += bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static double energy(void)
{
    double e = 0;
    int i, j;
    for (i = 0; i < NB; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (j = i + 1; j < NB; j++) {
            struct body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            e -= b->mass * c->mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(double dt)
{
    int i, j;
    for (i = 0; i < NB; i++) {
        struct body *b = &bodies[i];
        for (j = i + 1; j < NB; j++) {
            struct body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b->vx -= dx * c->mass * mag;
            b->vy -= dy * c->mass * mag;
            b->vz -= dz * c->mass * mag;
            c->vx += dx * b->mass * mag;
            c->vy += dy * b->mass * mag;
            c->vz += dz * b->mass * mag;
        }
    }
    for (i = 0; i < NB; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

#define M 12
static float A[M][M], B[M][M], C[M][M];

int main(void)
{
    double e0, e1, s;
    float fs;
    int i, j, k, ok = 1;

    /* n-body */
    offset_momentum();
    e0 = energy();
    printf("nbody energy before: %.9g\n", e0);
    for (i = 0; i < 2000; i++)
        advance(0.01);
    e1 = energy();
    printf("nbody energy after:  %.9g\n", e1);
    printf("jupiter at (%.9g, %.9g, %.9g)\n", bodies[1].x, bodies[1].y, bodies[1].z);
    if (fabs(e1 - e0) > 1e-5)
        ok = 0;

    /* float matrix multiply */
    for (i = 0; i < M; i++)
        for (j = 0; j < M; j++) {
            A[i][j] = (float)(i + 1) / (float)(j + 2);
            B[i][j] = (float)((i * 7 + j * 3) % 11) - 5.0f;
        }
    for (i = 0; i < M; i++)
        for (j = 0; j < M; j++) {
            float acc = 0.0f;
            for (k = 0; k < M; k++)
                acc += A[i][k] * B[k][j];
            C[i][j] = acc;
        }
    fs = 0.0f;
    for (i = 0; i < M; i++)
        fs += C[i][i] * (float)(i % 3 - 1);
    printf("matmul trace-ish: %.9g C[3][5]=%.9g C[11][0]=%.9g\n", fs, C[3][5], C[11][0]);

    /* series */
    s = 0.0;
    for (i = 1; i <= 10000; i++)
        s += 1.0 / ((double)i * (double)i);
    printf("basel: %.9g sqrt(6s)=%.9g\n", s, sqrt(6.0 * s));
    s = 0.0;
    for (i = 0; i < 1000; i++) {
        double x = (double)i / 100.0;
        s += sin(x) * cos(x / 2.0) + exp(-x) * log1p(x);
    }
    printf("trig/exp series: %.9g\n", s);
    printf("libm: sin(1)=%.9g cos(1)=%.9g tan(0.5)=%.9g atan2(1,2)=%.9g\n",
           sin(1.0), cos(1.0), tan(0.5), atan2(1.0, 2.0));
    printf("libm: exp(1)=%.9g log(10)=%.9g pow(2,0.5)=%.9g cbrt(27)=%.9g\n",
           exp(1.0), log(10.0), pow(2.0, 0.5), cbrt(27.0));
    printf("float: sqrtf(2)=%.9g sinf(0.5)=%.9g expf(-1)=%.9g\n",
           (double)sqrtf(2.0f), (double)sinf(0.5f), (double)expf(-1.0f));
    printf("floor/ceil/round/trunc(-2.5): %.9g %.9g %.9g %.9g\n",
           floor(-2.5), ceil(-2.5), round(-2.5), trunc(-2.5));
    printf("fmod(10.5,3)=%.9g ldexp(0.75,4)=%.9g\n", fmod(10.5, 3.0), ldexp(0.75, 4));

    /* conversions */
    {
        volatile double vd[] = {0.0, 1.9, -1.9, 2147483647.0, -2147483648.0, 1e9, 123.5, -0.4};
        volatile int vi[] = {0, 1, -1, 2147483647, -2147483647 - 1, 16777217, 12345678};
        volatile unsigned vu = 4000000000u;
        volatile long long vll = 9007199254740993LL;
        long long isum = 0;
        for (i = 0; i < 8; i++) {
            int t = (int)vd[i];
            float f = (float)vd[i];
            isum += t;
            printf("conv d=%.9g -> int %d -> float %.9g\n", vd[i], t, (double)f);
        }
        for (i = 0; i < 7; i++)
            printf("conv int %d -> double %.9g -> float %.9g\n", vi[i], (double)vi[i],
                   (double)(float)vi[i]);
        printf("conv unsigned %u -> double %.9g; ll %lld -> double %.17g; double->uns %u\n",
               vu, (double)vu, vll, (double)vll, (unsigned)(double)vu);
        printf("conv isum=%lld\n", isum);
    }
    printf("%s\n", ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
}
