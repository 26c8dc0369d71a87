/*
 * harness.c - see harness.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <CUnit/Basic.h>
#include <csp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

int csp_test_wait_fast(int (*cond)(void *ctx), void *ctx, unsigned spins, unsigned ms)
{
    for (unsigned i = 0; i < spins; i++) {
        if (cond(ctx))
            return 1;
        sched_yield();
    }
    return csp_test_wait_until(cond, ctx, ms);
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

int csp_test_run(int argc, char **argv, const char *name, const csp_test *tests,
                 const csp_test_child_mode *child_modes, unsigned timeout_seconds)
{
    if (child_modes && argc > 1 && strncmp(argv[1], "--child=", 8) == 0)
        return csp_test_child_main(argv[1] + 8, child_modes);
    const csp_suite suites[] = {
        { name, tests },
        { NULL, NULL },
    };
    return csp_test_main(argc, argv, suites, timeout_seconds);
}

/* ------------------------------------------------------------------------
 * Runtime state
 * ------------------------------------------------------------------------ */

csp_stats csp_test_stats(void)
{
    csp_stats s;
    memset(&s, 0xff, sizeof s);
    csp_stats_get(&s);
    return s;
}

int csp_test_blocked_at_least(void *ctx)
{
    return csp_test_stats().blocked >= *(size_t *)ctx;
}

int csp_test_wait_blocked(size_t n, unsigned ms)
{
    return csp_test_wait_until(csp_test_blocked_at_least, &n, ms);
}

static int quiet(void *ctx)
{
    (void)ctx;
    csp_stats s = csp_test_stats();
    return s.goroutines == 0 && s.blocked == 0;
}

void csp_test_wait_quiet(unsigned ms)
{
    int ok = csp_test_wait_until(quiet, NULL, ms);
    CU_ASSERT(ok);
    if (!ok)
        csp_dump(stderr);
}

long csp_test_os_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    long n = -1;
    char line[256];
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    }
    fclose(f);
    return n;
}

/* ------------------------------------------------------------------------
 * Flags, counters, bytes
 * ------------------------------------------------------------------------ */

int csp_test_flag_set(void *ctx)
{
    return atomic_load((atomic_int *)ctx) != 0;
}

int csp_test_wait_flag(atomic_int *f, unsigned ms)
{
    return csp_test_wait_until(csp_test_flag_set, f, ms);
}

int csp_test_count_zero(void *ctx)
{
    return atomic_load((atomic_int *)ctx) <= 0;
}

int csp_test_all_bytes(const void *p, size_t n, unsigned char b)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != b)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------
 * Goroutine bodies
 * ------------------------------------------------------------------------ */

void csp_test_gate_fn(void *ch)
{
    csp_recv((csp_chan *)ch, NULL);
}

void csp_test_done_fn(void *wg)
{
    csp_wg_done(wg);
}

/* ------------------------------------------------------------------------
 * Children
 * ------------------------------------------------------------------------ */

int csp_test_child_start(const char *prog, const char *mode, const char *const *env, csp_test_child *c)
{
    memset(c, 0, sizeof *c);
    size_t n_env = 0, n_add = 0, k = 0;
    while (environ[n_env])
        n_env++;
    while (env && env[n_add])
        n_add++;
    char **envp = calloc(n_env + n_add + 1, sizeof *envp);
    c->cap = 4096;
    c->buf = malloc(c->cap);
    if (!envp || !c->buf) {
        free(envp);
        free(c->buf);
        return -1;
    }
    for (size_t i = 0; i < n_env; i++) {
        if (strncmp(environ[i], "CSP_", 4) != 0)
            envp[k++] = environ[i];
    }
    for (size_t i = 0; i < n_add; i++)
        envp[k++] = (char *)env[i];
    envp[k] = NULL;
    char arg[128];
    snprintf(arg, sizeof arg, "--child=%s", mode);
    char *argv[] = { (char *)prog, arg, NULL };
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(envp);
        free(c->buf);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    int rc = posix_spawn(&c->pid, "/proc/self/exe", &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    free(envp);
    if (rc != 0) {
        close(fds[0]);
        free(c->buf);
        return -1;
    }
    c->fd = fds[0];
    c->buf[0] = '\0';
    return 0;
}

int csp_test_child_read(csp_test_child *c, int64_t deadline, const char *until)
{
    for (;;) {
        if (until && strstr(c->buf, until))
            return 2;
        int64_t left = deadline - csp_now();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)(left / CSP_MILLISECOND) + 1);
        if (pr <= 0)
            continue;
        if (c->cap - c->len < 1024) {
            char *nb = realloc(c->buf, c->cap * 2);
            if (!nb)
                return 1;
            c->buf = nb;
            c->cap *= 2;
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 1;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
    }
}

void csp_test_child_finish(csp_test_child *c, unsigned timeout_ms, csp_test_child_result *res)
{
    memset(res, 0, sizeof *res);
    if (csp_test_child_read(c, csp_now() + (int64_t)timeout_ms * CSP_MILLISECOND, NULL) == 0) {
        kill(c->pid, SIGKILL);
        res->timed_out = 1;
    }
    close(c->fd);
    while (waitpid(c->pid, &res->status, 0) < 0 && errno == EINTR) {
    }
    res->err = c->buf;
}

int csp_test_run_child(const char *prog, const char *mode, const char *const *env, unsigned timeout_ms,
                       csp_test_child_result *res)
{
    csp_test_child c;
    memset(res, 0, sizeof *res);
    if (csp_test_child_start(prog, mode, env, &c) != 0)
        return -1;
    csp_test_child_finish(&c, timeout_ms, res);
    return 0;
}

int csp_test_child_ok(const csp_test_child_result *r)
{
    return !r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

void csp_test_assert_child_ok(const char *prog, const char *mode, const char *const *env, unsigned timeout_ms)
{
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, mode, env, timeout_ms, &r), 0);
    if (!csp_test_child_ok(&r))
        fprintf(stderr, "\nchild %s: %s, status 0x%x; its stderr:\n%s\n", mode,
                r.timed_out ? "timed out" : "failed", r.status, r.err);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(WIFEXITED(r.status));
    CSP_ASSERT_EQ(WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, 0);
    free(r.err);
}

int csp_test_child_main(const char *mode, const csp_test_child_mode *modes)
{
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    for (const csp_test_child_mode *m = modes; m->name; m++) {
        if (!strcmp(mode, m->name))
            return m->fn();
    }
    fprintf(stderr, "unknown child mode %s\n", mode);
    return 2;
}
