/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <CUnit/Basic.h>
#include <csp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_alarm(int sig)
{
    static const char msg[] = "\ntest program timed out (hang?): failing\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to do */
    }
    _exit(124);
}

void csp_test_report_ne(const char *an, long long a, const char *bn, long long b, const char *file, int line)
{
    fprintf(stderr, "%s:%d: expected %s == %s, got %lld != %lld\n", file, line, an, bn, a, b);
}

int csp_test_wait_until(int (*cond)(void *ctx), void *ctx, unsigned ms)
{
    for (unsigned i = 0; i <= ms; i++) {
        if (cond(ctx))
            return 1;
        csp_sleep(CSP_MILLISECOND);
    }
    return cond(ctx);
}

int csp_test_main(int argc, char **argv, const csp_suite *suites, unsigned timeout_seconds)
{
    const char *only = argc > 1 ? argv[1] : NULL; /* optional: run one test by name */
    signal(SIGALRM, on_alarm);
    alarm(timeout_seconds);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (const csp_suite *s = suites; s->name; s++) {
        CU_pSuite su = CU_add_suite(s->name, NULL, NULL);
        if (!su)
            return 2;
        for (const csp_test *t = s->tests; t->name; t++) {
            if (only && strcmp(only, t->name) != 0)
                continue;
            if (!CU_add_test(su, t->name, t->fn))
                return 2;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failure_records();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed_tests = CU_get_number_of_tests_failed();
    int err = CU_get_error();
    CU_cleanup_registry();
    printf("\n%u passed, %u failed\n", run - failed_tests, failed_tests);
    return (failures || err) ? 1 : 0;
}
