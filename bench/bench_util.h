/*
 * bench_util.h - helpers shared by the C benchmarks (csp_bench, pthread_bench).
 *
 * Every benchmark program prints its results in one machine-readable format,
 * one line each, on stdout (bench/run parses these and nothing else):
 *
 *   RESULT <row> <impl> <value> <unit>     the row's main figure
 *   EXTRA  <row> <impl> <key> <value>      a secondary figure (key names its unit)
 *
 * A benchmark that finds its own result wrong prints
 *
 *   FAIL <row> <impl> <message>
 *
 * on stderr and exits with status 1. The Go and Boost.Fiber programs print the
 * same lines.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Monotonic clock in nanoseconds. */
static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux). */
static inline double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

/* The number of OS threads of this process now, from /proc/self/status; -1 if unknown. */
static inline int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = atoi(line + 8);
            break;
        }
    }
    fclose(f);
    return n;
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

static inline void bench_result(const char *row, const char *impl, double value, const char *unit)
{
    printf("RESULT %s %s %.6g %s\n", row, impl, value, unit);
    fflush(stdout);
}

static inline void bench_extra(const char *row, const char *impl, const char *key, double value)
{
    printf("EXTRA %s %s %s %.6g\n", row, impl, key, value);
    fflush(stdout);
}

/* Reports a failed self-check and exits non-zero. */
__attribute__((noreturn, format(printf, 3, 4))) static inline void
bench_fail(const char *row, const char *impl, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "FAIL %s %s ", row, impl);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

#define BENCH_CHECK(row, impl, cond, ...)                                                    \
    do {                                                                                     \
        if (!(cond))                                                                         \
            bench_fail((row), (impl), __VA_ARGS__);                                          \
    } while (0)

/* Rows B2 and B3: k consumers received counts[i] values adding up to sums[i];
 * together they must have received 0 .. want-1, each once. */
static inline void bench_check_items(const char *row, const char *impl, const long long *counts,
                                     const long long *sums, int k, long long want)
{
    long long n = 0, sum = 0;
    for (int i = 0; i < k; i++) {
        n += counts[i];
        sum += sums[i];
    }
    BENCH_CHECK(row, impl, n == want && sum == want * (want - 1) / 2, "got %lld items, sum %lld",
                n, sum);
}

/* ------------------------------------------------------------------------
 * A thread that samples /proc/self/status Threads: every millisecond and
 * keeps the peak, not counting itself.
 * ------------------------------------------------------------------------ */

typedef struct thread_sampler {
    pthread_t tid;
    atomic_int stop;
    atomic_int peak;
} thread_sampler;

static inline void *thread_sampler_main(void *p)
{
    thread_sampler *s = (thread_sampler *)p;
    while (!atomic_load(&s->stop)) {
        int n = thread_count() - 1; /* not this sampler */
        if (n > atomic_load(&s->peak))
            atomic_store(&s->peak, n);
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static inline int thread_sampler_start(thread_sampler *s)
{
    atomic_init(&s->stop, 0);
    atomic_init(&s->peak, thread_count());
    return pthread_create(&s->tid, NULL, thread_sampler_main, s);
}

/* Stops the sampler and returns the peak thread count it saw. */
static inline int thread_sampler_stop(thread_sampler *s)
{
    int n = thread_count() - 1;
    if (n > atomic_load(&s->peak))
        atomic_store(&s->peak, n);
    atomic_store(&s->stop, 1);
    pthread_join(s->tid, NULL);
    return atomic_load(&s->peak);
}

/* ------------------------------------------------------------------------
 * The same pseudo-random sequence in every language (xorshift64*, fixed seed),
 * so that B8's timer durations are identical across implementations.
 * ------------------------------------------------------------------------ */

#define BENCH_SEED 0x9E3779B97F4A7C15ULL

static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------------
 * Futex wait and wake, and a load made of them: other programs on the machine
 * that sleep and wake all the time (unlike a busy loop). Each load process
 * is this very program, re-executed with the argument BENCH_LOAD_ARG: two
 * threads that ping-pong through a futex until they are killed.
 * ------------------------------------------------------------------------ */

static inline void bench_futex_wait(atomic_int *addr, int val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static inline void bench_futex_wake(atomic_int *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#define BENCH_LOAD_ARG "futex-pingpong-load"

static atomic_int bench_load_turn; /* 1: the echo thread's move, 0: main's */

__attribute__((noreturn)) static inline void *bench_load_echo(void *arg)
{
    (void)arg;
    for (;;) {
        while (atomic_load(&bench_load_turn) != 1)
            bench_futex_wait(&bench_load_turn, 0);
        atomic_store(&bench_load_turn, 0);
        bench_futex_wake(&bench_load_turn, 1);
    }
}

/* The load process's main: ping-pongs until killed. */
__attribute__((noreturn)) static inline void bench_load_main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, bench_load_echo, NULL) != 0)
        _exit(1);
    for (;;) {
        atomic_store(&bench_load_turn, 1);
        bench_futex_wake(&bench_load_turn, 1);
        while (atomic_load(&bench_load_turn) != 0)
            bench_futex_wait(&bench_load_turn, 1);
    }
}

/* Kills and reaps the n load processes in pids (0 entries are skipped). */
static inline void bench_load_stop(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    }
    for (int i = 0; i < n; i++) {
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    }
}

/* Starts n load processes and gives them 100 ms to get going; they die with
 * the calling thread (PR_SET_PDEATHSIG: call it from main) if it dies first.
 * 0, or -1 with errno (none left running) on failure. */
static inline int bench_load_start(pid_t *pids, int n)
{
    pid_t parent = getpid();
    memset(pids, 0, (size_t)n * sizeof *pids);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == parent)
                execl("/proc/self/exe", "bench-load", BENCH_LOAD_ARG, (char *)NULL);
            _exit(127);
        }
        if (pids[i] < 0) {
            int err = errno;
            bench_load_stop(pids, i);
            errno = err;
            return -1;
        }
    }
    struct timespec ts = { 0, 100 * 1000000 };
    nanosleep(&ts, NULL);
    return 0;
}

/* Two load processes per online CPU, as the EXTRA keys "..._beside_2_futex_
 * pingpongs_per_cpu" say. */
static inline int bench_load_count(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return 2 * (ncpu > 0 ? (int)ncpu : 1);
}

/* What run(n) returns (a time per operation, say) when it runs beside
 * bench_load_count() load processes. */
static inline double bench_beside_load(const char *row, const char *impl, double (*run)(int), int n)
{
    int nload = bench_load_count();
    pid_t *pids = malloc((size_t)nload * sizeof *pids);
    if (!pids)
        bench_fail(row, impl, "out of memory");
    if (bench_load_start(pids, nload) != 0)
        bench_fail(row, impl, "could not start the load processes: %s", strerror(errno));
    double v = run(n);
    bench_load_stop(pids, nload);
    free(pids);
    return v;
}

/* ------------------------------------------------------------------------
 * Command line: `prog B1` runs one row, `prog all` runs every row, `prog list`
 * names the rows this program has. BENCH_LOAD_ARG is the load process.
 * ------------------------------------------------------------------------ */

typedef struct bench_row {
    const char *id;
    void (*fn)(void);
} bench_row;

static inline int bench_main(int argc, char **argv, const bench_row *rows, size_t n)
{
    if (argc == 2 && strcmp(argv[1], BENCH_LOAD_ARG) == 0)
        bench_load_main();
    if (argc != 2) {
        fprintf(stderr, "usage: %s B1..B8 | all | list\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", rows[i].id);
        return 0;
    }
    int all = strcmp(argv[1], "all") == 0;
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (all || strcmp(argv[1], rows[i].id) == 0) {
            rows[i].fn();
            ran = 1;
        }
    }
    if (!ran) {
        fprintf(stderr, "%s: no row %s here (try `%s list`)\n", argv[0], argv[1], argv[0]);
        return 2;
    }
    return 0;
}

#endif /* BENCH_UTIL_H */
