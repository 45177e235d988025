/* timer_signals: timer signals at a high rate. Phase 1: setitimer
 * ITIMER_REAL every 100 us, a SIGALRM handler counts deliveries while the
 * main loop computes, until COUNT (argv[1], default 200) have arrived.
 * Phase 2: the same with a POSIX timer (timer_create on CLOCK_MONOTONIC,
 * SIGEV_SIGNAL with SIGUSR1, timer_settime), checking si_code, the
 * timer's sigev_value and timer_getoverrun. alarm() and getitimer are
 * checked on the way. Phase 3: a one-shot 20 ms itimer wakes a poll
 * that waits forever on no descriptors (EINTR). Phase 4: pause, then
 * sigsuspend with SIGALRM blocked outside it, each woken by a one-shot
 * itimer; the mask must be restored after sigsuspend.
 * Without "show" (argv[2]) the output is the same on every run; with it,
 * the work done and the overruns (which depend on timing) are printed too.
 * Exit status: 0 if every check holds, 1 otherwise, 2 on a bad argument. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, posix_signals, bad_info;
static volatile int overruns;
static timer_t timer;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void on_usr1(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    if (info->si_code != SI_TIMER || info->si_value.sival_int != 42)
        bad_info = 1;
    overruns += timer_getoverrun(timer);
    posix_signals++;
}

/* Work between signals: an LCG the compiler cannot remove. */
static unsigned long work(unsigned long x)
{
    for (int i = 0; i < 1000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 200;
    int show = argc > 2 && strcmp(argv[2], "show") == 0;
    if (count <= 0) {
        fprintf(stderr, "usage: timer_signals [COUNT [show]]\n");
        return 2;
    }
    int ok = 1;

    /* alarm: a fresh alarm reports none pending, a second call the first. */
    unsigned first = alarm(100), second = alarm(0);
    printf("alarm: none pending %s, previous one reported %s\n", first == 0 ? "yes" : "NO",
           second >= 99 && second <= 100 ? "yes" : "NO");
    ok &= first == 0 && second >= 99 && second <= 100;

    signal(SIGALRM, on_alarm);
    struct itimerval every = {{0, 100}, {0, 100}}, now;
    setitimer(ITIMER_REAL, &every, NULL);
    getitimer(ITIMER_REAL, &now);
    printf("itimer interval read back: %ld us\n", (long)now.it_interval.tv_usec);
    ok &= now.it_interval.tv_usec == 100;
    unsigned long x = 1, rounds = 0;
    while (alarms < count) {
        x = work(x);
        rounds++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("itimer: at least %d SIGALRM received\n", count);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
        perror("timer_create");
        return 1;
    }
    struct itimerspec spec = {{0, 100000}, {0, 100000}}, got;
    timer_settime(timer, 0, &spec, NULL);
    timer_gettime(timer, &got);
    printf("posix timer interval read back: %ld ns\n", got.it_interval.tv_nsec);
    ok &= got.it_interval.tv_nsec == 100000;
    unsigned long posix_rounds = 0;
    while (posix_signals < count / 2) {
        x = work(x);
        posix_rounds++;
    }
    timer_delete(timer);
    printf("posix timer: at least %d SIGUSR1 received, siginfo %s\n", count / 2, bad_info ? "WRONG" : "right");
    ok &= !bad_info;
    int before = alarms;
    struct itimerval once = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &once, NULL);
    int woke = poll(NULL, 0, -1) == -1 && errno == EINTR;
    while (alarms == before) /* the signal may come after poll returned */
        x = work(x);
    printf("poll woken by the timer: %s\n", woke ? "yes" : "NO");
    ok &= woke;

    before = alarms;
    setitimer(ITIMER_REAL, &once, NULL);
    int paused = pause() == -1 && errno == EINTR && alarms == before + 1;
    sigset_t alrm, empty, now_mask;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    setitimer(ITIMER_REAL, &once, NULL);
    int suspended = sigsuspend(&empty) == -1 && errno == EINTR && alarms == before + 2;
    sigprocmask(SIG_BLOCK, NULL, &now_mask);
    int restored = sigismember(&now_mask, SIGALRM);
    printf("pause woken: %s, sigsuspend woken: %s, mask restored: %s\n", paused ? "yes" : "NO",
           suspended ? "yes" : "NO", restored ? "yes" : "NO");
    ok &= paused && suspended && restored;
    if (show)
        printf("work: %lu rounds, %lu rounds; overruns %d; x=%lx\n", rounds, posix_rounds, overruns, x);
    return ok ? 0 : 1;
}
