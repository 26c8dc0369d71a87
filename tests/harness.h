/*
 * harness.h - the shared frame of every CUnit test program.
 *
 * A test program defines its suites with CSP_TEST_SUITE and calls
 * csp_test_main(argc, argv, suites, timeout_seconds) from main. The harness
 * runs every test, arms an alarm so a hang fails (exit 124) instead of
 * stalling CI, prints CUnit's summary plus one plain line "N passed, N failed",
 * and exits non-zero when any assertion failed (CU_get_error() alone would
 * exit 0 on failed assertions).
 */
#ifndef CSP_TEST_HARNESS_H
#define CSP_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <stddef.h>

typedef struct csp_test {
    const char *name;
    void (*fn)(void);
} csp_test;

typedef struct csp_suite {
    const char *name;
    const csp_test *tests; /* terminated by { NULL, NULL } */
} csp_suite;

/* Runs suites (terminated by { NULL, NULL }); returns the process exit code. */
int csp_test_main(int argc, char **argv, const csp_suite *suites, unsigned timeout_seconds);

/* Polls cond every millisecond for up to ms milliseconds; true once it holds.
 * Tests wait on conditions this way, never on fixed sleeps. */
int csp_test_wait_until(int (*cond)(void *ctx), void *ctx, unsigned ms);

/* Integer assertion that prints both operands on failure. */
#define CSP_ASSERT_EQ(a, b) do { \
        long long csp_a_ = (long long)(a), csp_b_ = (long long)(b); \
        if (csp_a_ != csp_b_) \
            csp_test_report_ne(#a, csp_a_, #b, csp_b_, __FILE__, __LINE__); \
        CU_ASSERT_EQUAL(csp_a_, csp_b_); \
    } while (0)
void csp_test_report_ne(const char *an, long long a, const char *bn, long long b, const char *file, int line);

#endif
