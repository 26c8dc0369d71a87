/*
 * harness.h - the shared frame of every CUnit test program.
 *
 * A test program lists its tests in a csp_test table and calls
 * csp_test_run(argc, argv, suite_name, tests, child_modes, timeout_seconds)
 * from main (or csp_test_main with a table of suites). The harness runs every
 * test, arms an alarm so a hang fails (exit 124) instead of stalling CI,
 * prints CUnit's summary plus one plain line "N passed, N failed", and exits
 * non-zero when any assertion failed (CU_get_error() alone would exit 0 on
 * failed assertions).
 *
 * It also holds the helpers several programs share: sanitizer detection,
 * conditions on csp_stats_get for csp_test_wait_until, and the child runner
 * (the program re-executes itself as /proc/self/exe --child=MODE).
 */
#ifndef CSP_TEST_HARNESS_H
#define CSP_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <csp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* UNDER_TSAN / UNDER_ASAN: 1 in a ThreadSanitizer / AddressSanitizer build, else 0. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

typedef struct csp_test {
    const char *name;
    void (*fn)(void);
} csp_test;

typedef struct csp_suite {
    const char *name;
    const csp_test *tests; /* terminated by { NULL, NULL } */
} csp_suite;

/* A child mode: `--child=name` runs fn, whose result is the exit status. */
typedef struct csp_test_child_mode {
    const char *name;
    int (*fn)(void);
} csp_test_child_mode;

/* Runs suites (terminated by { NULL, NULL }); returns the process exit code. */
int csp_test_main(int argc, char **argv, const csp_suite *suites, unsigned timeout_seconds);

/* main of a one-suite program: with argv[1] "--child=MODE" and a child_modes
 * table (terminated by { NULL, NULL }; may be NULL) runs that mode
 * (csp_test_child_main), otherwise csp_test_main on the suite `name`. */
int csp_test_run(int argc, char **argv, const char *name, const csp_test *tests,
                 const csp_test_child_mode *child_modes, unsigned timeout_seconds);

/* Polls cond every millisecond for up to ms milliseconds; true once it holds.
 * Tests wait on conditions this way, never on fixed sleeps. */
int csp_test_wait_until(int (*cond)(void *ctx), void *ctx, unsigned ms);

/* csp_test_wait_until after `spins` polls that only yield the CPU: for
 * conditions that usually become true within microseconds. */
int csp_test_wait_fast(int (*cond)(void *ctx), void *ctx, unsigned spins, unsigned ms);

/* Integer assertion that prints both operands on failure. */
#define CSP_ASSERT_EQ(a, b) do { \
        long long csp_a_ = (long long)(a), csp_b_ = (long long)(b); \
        if (csp_a_ != csp_b_) \
            csp_test_report_ne(#a, csp_a_, #b, csp_b_, __FILE__, __LINE__); \
        CU_ASSERT_EQUAL(csp_a_, csp_b_); \
    } while (0)
void csp_test_report_ne(const char *an, long long a, const char *bn, long long b, const char *file, int line);

/* ---- Runtime state ---- */

/* csp_stats_get into a struct first filled with 0xff bytes. */
csp_stats csp_test_stats(void);

/* Condition: at least *(size_t *)ctx goroutines are blocked in libcsp. */
int csp_test_blocked_at_least(void *ctx);

/* True once at least n goroutines are blocked in libcsp (polls up to ms). */
int csp_test_wait_blocked(size_t n, unsigned ms);

/* Asserts that within ms no goroutine is left running or blocked (csp_dump
 * if one is): every goroutine of earlier tests has finished. */
void csp_test_wait_quiet(unsigned ms);

/* The process's OS thread count (Threads: in /proc/self/status), or -1. */
long csp_test_os_threads(void);

/* ---- Flags, counters, bytes ---- */

/* Condition: the atomic_int at ctx is non-zero. */
int csp_test_flag_set(void *ctx);

/* True once the flag *f is non-zero (polls up to ms). */
int csp_test_wait_flag(atomic_int *f, unsigned ms);

/* Condition: the atomic_int countdown at ctx is at or below zero. */
int csp_test_count_zero(void *ctx);

/* True if each of the n bytes at p is b. */
int csp_test_all_bytes(const void *p, size_t n, unsigned char b);

/* The next number of the xorshift32 generator whose state (non-zero) is *s. */
static inline uint32_t csp_test_xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* ---- Goroutine bodies ---- */

/* Receives once from the channel arg: blocks until a send or the close. */
void csp_test_gate_fn(void *ch);

/* csp_wg_done on the wait group arg. */
void csp_test_done_fn(void *wg);

/* ---- Children: this program run again as /proc/self/exe --child=MODE ---- */

/* A started child and its stderr read so far (buf is NUL-terminated). */
typedef struct csp_test_child {
    pid_t pid;
    int fd; /* its stderr */
    char *buf;
    size_t len, cap;
} csp_test_child;

typedef struct csp_test_child_result {
    int status;    /* waitpid status */
    int timed_out; /* killed after the bound */
    char *err;     /* captured stderr, NUL-terminated; the caller frees it */
} csp_test_child_result;

/* Starts `prog --child=MODE` (prog is argv[0]); env are extra NAME=VALUE
 * entries (every inherited CSP_* variable is dropped first). 0 or -1. */
int csp_test_child_start(const char *prog, const char *mode, const char *const *env, csp_test_child *c);

/* Reads the child's stderr until EOF (1), the deadline (0), or until `until`
 * appears in it (2, when until is not NULL). */
int csp_test_child_read(csp_test_child *c, int64_t deadline, const char *until);

/* Collects the child's stderr and exit status; kills it after timeout_ms. */
void csp_test_child_finish(csp_test_child *c, unsigned timeout_ms, csp_test_child_result *res);

/* Starts and finishes a child: 0 when it ran (see res), -1 otherwise. */
int csp_test_run_child(const char *prog, const char *mode, const char *const *env, unsigned timeout_ms,
                       csp_test_child_result *res);

/* The child was not timed out and exited normally with status 0. */
int csp_test_child_ok(const csp_test_child_result *r);

/* Runs a child and asserts it exited 0; shows its stderr if not. */
void csp_test_assert_child_ok(const char *prog, const char *mode, const char *const *env, unsigned timeout_ms);

/* In a child: disables core dumps and runs the mode named `mode` from modes
 * (terminated by { NULL, NULL }); 2 for an unknown mode. */
int csp_test_child_main(const char *mode, const csp_test_child_mode *modes);

/* In a child: exits 1 with the failed condition on stderr unless c holds. */
#define CHILD_CHECK(c) do { \
        if (!(c)) { \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #c); \
            exit(1); \
        } \
    } while (0)

#endif
