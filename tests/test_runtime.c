/*
 * test_runtime.c - the runtime: statistics, csp_dump, the CSP_DEBUG modes,
 * the clock, and threads libcsp did not start.
 *
 * Clauses (API.md, "Runtime, configuration, debugging" and "Conventions"):
 * csp_stats_get counts goroutines, those blocked in a channel operation,
 * select or wait group, spawned goroutines, threads and pending timers;
 * csp_dump lists every live goroutine with its id, spawn site, state and
 * what it waits on; CSP_DEBUG=deadlock aborts with Go's message when every
 * goroutine, main included, is blocked with no timer pending (and only then);
 * CSP_DEBUG=leaks lists goroutines still blocked at exit with their spawn
 * sites; CSP_DEBUG=strict aborts where Go panics, and without it the same
 * calls return error codes; csp_now is monotonic and csp_sleep sleeps at
 * least as long as asked; any thread may use channels.
 *
 * The CSP_DEBUG modes are read once, so each runs in a child: this program
 * re-executes itself (/proc/self/exe --child=MODE) with the variable set and
 * checks the child's exit status or signal and its stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <csp.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS CSP_MILLISECOND

static const char prog[] = "test_runtime"; /* argv[0] of its children */

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static int blocked_is(void *p)
{
    return csp_test_stats().blocked == *(size_t *)p;
}

static int goroutines_is(void *p)
{
    return csp_test_stats().goroutines == *(size_t *)p;
}

static int timers_is(void *p)
{
    return csp_test_stats().timers == *(size_t *)p;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

/* ------------------------------------------------------------------------
 * Children
 * ------------------------------------------------------------------------ */

static int aborted(const csp_test_child_result *r)
{
    return !r->timed_out && WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGABRT;
}

static void show_child(const char *mode, const csp_test_child_result *r)
{
    fprintf(stderr, "\nchild %s: %s, status 0x%x; its stderr:\n%s\n", mode,
            r->timed_out ? "timed out" : WIFSIGNALED(r->status) ? "killed by a signal" : "exited", r->status,
            r->err);
}

/* Case-insensitive strstr. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    }
    return NULL;
}

/* The goroutines the children leave blocked, at known spawn sites. */
static void block_forever_fn(void *p)
{
    csp_recv((csp_chan *)p, NULL); /* nobody sends, nobody closes */
}

static void finish_fn(void *p)
{
    csp_wg_done(p);
}

/* The spawn-site lines the parent looks for in the children's stderr. */
enum { DL_WG_SPAWN_LINE = __LINE__ + 1 };
static int spawn_dl_wg(csp_chan *c) { return csp_go(block_forever_fn, c); }
enum { LEAK_SPAWN_LINE = __LINE__ + 1 };
static int spawn_leak(csp_chan *c) { return csp_go(block_forever_fn, c); }
enum { FINISHED_SPAWN_LINE = __LINE__ + 1 };
static int spawn_finished(csp_wg *wg) { return csp_go(finish_fn, wg); }

/* --child=dl_recv: main receives what nobody will send. */
static int child_dl_recv(void)
{
    csp_chan *c = csp_chan_make(sizeof(int), 0);
    CHILD_CHECK(c);
    int v;
    csp_recv(c, &v);
    fprintf(stderr, "continued after a deadlocked receive\n");
    return 3;
}

/* --child=dl_wg: main waits on a wait group; the only goroutine that could
 * finish it is blocked forever on a receive. */
static int child_dl_wg(void)
{
    csp_chan *c = csp_chan_make(0, 0);
    csp_wg *wg = csp_wg_new();
    CHILD_CHECK(c && wg && csp_wg_add(wg, 1) == 0);
    CHILD_CHECK(spawn_dl_wg(c) == 0);
    csp_wg_wait(wg);
    fprintf(stderr, "continued after a deadlocked wait\n");
    return 3;
}

/* --child=dl_after_timer: main blocks on a receive nobody will send while a
 * timer is pending; the timer fires into a channel nobody reads. From then on
 * nothing can wake main. */
static int child_dl_after_timer(void)
{
    csp_chan *t = csp_after(30 * MS);
    csp_chan *c = csp_chan_make(sizeof(int), 0);
    CHILD_CHECK(t && c);
    fprintf(stderr, "blocking with a timer pending\n");
    int v;
    csp_recv(c, &v);
    fprintf(stderr, "continued after a deadlocked receive\n");
    return 3;
}

/* --child=dl_select: select {} on main. */
static int child_dl_select(void)
{
    csp_select(NULL, 0);
    fprintf(stderr, "continued after select {}\n");
    return 3;
}

typedef struct later {
    csp_chan *out;
    csp_wg *wg;
    int64_t delay;
} later;

static void sleep_then_send(void *p)
{
    later *l = p;
    csp_sleep(l->delay); /* running, not blocked */
    int v = 1;
    csp_send(l->out, &v);
}

static void timer_then_send(void *p)
{
    later *l = p;
    csp_chan *t = csp_after(l->delay); /* blocked, with a timer pending */
    csp_recv(t, NULL);
    csp_chan_release(t);
    int v = 2;
    csp_send(l->out, &v);
}

static void sleep_then_done(void *p)
{
    later *l = p;
    csp_sleep(l->delay);
    csp_wg_done(l->wg);
}

/* --child=dl_none (CSP_DEBUG=deadlock): main and goroutines block, but a
 * timer or a running goroutine will wake them: no deadlock report. */
static int child_dl_none(void)
{
    int64_t v64 = 0;
    /* Main alone, blocked on a pending timer. */
    csp_chan *t = csp_after(30 * MS);
    CHILD_CHECK(t && csp_recv(t, &v64) == 0);
    csp_chan_release(t);
    /* Main blocked; a goroutine sleeps (runs), then sends. */
    csp_chan *c = csp_chan_make(sizeof(int), 0);
    CHILD_CHECK(c);
    later l = { c, NULL, 30 * MS };
    int v = 0;
    CHILD_CHECK(csp_go(sleep_then_send, &l) == 0);
    CHILD_CHECK(csp_recv(c, &v) == 0 && v == 1);
    /* Main and the goroutine both blocked; the goroutine's timer wakes it. */
    CHILD_CHECK(csp_go(timer_then_send, &l) == 0);
    CHILD_CHECK(csp_recv(c, &v) == 0 && v == 2);
    /* Main on a wait group that a sleeping goroutine finishes. */
    csp_wg *wg = csp_wg_new();
    CHILD_CHECK(wg && csp_wg_add(wg, 1) == 0);
    later w = { NULL, wg, 30 * MS };
    CHILD_CHECK(csp_go(sleep_then_done, &w) == 0);
    csp_wg_wait(wg);
    /* A timed select with nothing ready: a timeout is not a deadlock. */
    csp_case k = csp_case_recv(c, &v);
    CHILD_CHECK(csp_select_timeout(&k, 1, 30 * MS) == CSP_ETIMEDOUT);
    csp_wg_free(wg);
    csp_chan_release(c);
    fprintf(stderr, "no deadlock\n");
    return 0;
}

/* --child=leaks (CSP_DEBUG=leaks, or unset): one goroutine is blocked at
 * exit, another finished long before. */
static int child_leaks(void)
{
    csp_chan *c = csp_chan_make(0, 0);
    csp_wg *wg = csp_wg_new();
    CHILD_CHECK(c && wg && csp_wg_add(wg, 1) == 0);
    CHILD_CHECK(spawn_finished(wg) == 0);
    csp_wg_wait(wg);
    CHILD_CHECK(spawn_leak(c) == 0);
    size_t one = 1;
    CHILD_CHECK(csp_test_wait_until(blocked_is, &one, 20000));
    /* The finished goroutine may still be on its way out after its done. */
    CHILD_CHECK(csp_test_wait_until(goroutines_is, &one, 20000));
    csp_wg_free(wg);
    fprintf(stderr, "exiting\n");
    return 0; /* c stays referenced by the blocked receive */
}

/* --child=strict_send / strict_close / strict_wg (CSP_DEBUG=strict) and
 * --child=nonstrict (without it): Go's panics, as aborts or error codes. */
static int child_strict_send(void)
{
    csp_chan *c = csp_chan_make(sizeof(int), 1);
    CHILD_CHECK(c && csp_close(c) == 0);
    int v = 1;
    int r = csp_send(c, &v);
    fprintf(stderr, "continued: send on closed returned %d\n", r);
    return 3;
}

static int child_strict_close(void)
{
    csp_chan *c = csp_chan_make(sizeof(int), 0);
    CHILD_CHECK(c && csp_close(c) == 0);
    int r = csp_close(c);
    fprintf(stderr, "continued: double close returned %d\n", r);
    return 3;
}

static int child_strict_wg(void)
{
    csp_wg *wg = csp_wg_new();
    CHILD_CHECK(wg && csp_wg_add(wg, 2) == 0);
    int r = csp_wg_add(wg, -3);
    fprintf(stderr, "continued: negative wait group returned %d\n", r);
    return 3;
}

static int child_nonstrict(void)
{
    csp_chan *c = csp_chan_make(sizeof(int), 1);
    CHILD_CHECK(c && csp_close(c) == 0);
    int v = 1;
    CHILD_CHECK(csp_send(c, &v) == CSP_ECLOSED);
    CHILD_CHECK(csp_trysend(c, &v) == CSP_ECLOSED);
    csp_case k = csp_case_send(c, &v);
    CHILD_CHECK(csp_select(&k, 1) == 0 && k.err == CSP_ECLOSED);
    CHILD_CHECK(csp_close(c) == CSP_ECLOSED);
    CHILD_CHECK(csp_close(c) == CSP_ECLOSED);
    CHILD_CHECK(csp_len(c) == 0); /* nothing was sent */
    csp_wg *wg = csp_wg_new();
    CHILD_CHECK(wg);
    CHILD_CHECK(csp_wg_done(wg) == CSP_EINVAL);
    CHILD_CHECK(csp_wg_add(wg, 1) == 0);
    CHILD_CHECK(csp_wg_add(wg, -2) == CSP_EINVAL);
    CHILD_CHECK(csp_wg_done(wg) == 0);
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_release(c);
    fprintf(stderr, "no abort\n");
    return 0;
}

/* --child=sleep_huge: csp_sleep(INT64_MAX) must sleep (practically forever),
 * neither return nor spin. */
static int child_sleep_huge(void)
{
    fprintf(stderr, "sleeping\n");
    csp_sleep(INT64_MAX);
    fprintf(stderr, "woke from csp_sleep(INT64_MAX)\n");
    return 3;
}

static const csp_test_child_mode child_modes[] = {
    { "dl_recv", child_dl_recv },       { "dl_wg", child_dl_wg },
    { "dl_select", child_dl_select },   { "dl_none", child_dl_none },
    { "dl_after_timer", child_dl_after_timer },
    { "leaks", child_leaks },           { "strict_send", child_strict_send },
    { "strict_close", child_strict_close }, { "strict_wg", child_strict_wg },
    { "nonstrict", child_nonstrict },   { "sleep_huge", child_sleep_huge },
    { NULL, NULL },
};

/* ------------------------------------------------------------------------
 * csp_stats_get
 * ------------------------------------------------------------------------ */

typedef struct park_set {
    csp_chan *recv_ch;   /* receivers block here */
    csp_chan *send_ch;   /* senders block here */
    csp_chan *sel_a, *sel_b; /* selects block on these */
    csp_wg *wg;          /* wait group waiters */
    atomic_int stop;     /* the sleeper's exit flag */
    csp_wg *finished;    /* every goroutine of the set, at its end */
    int recv_closed, sel_closed, wg_done; /* released already */
} park_set;

static void park_recv_fn(void *p)
{
    park_set *s = p;
    csp_recv(s->recv_ch, NULL);
    csp_wg_done(s->finished);
}

static void park_send_fn(void *p)
{
    park_set *s = p;
    int v = 5;
    csp_send(s->send_ch, &v);
    csp_wg_done(s->finished);
}

static void park_select_fn(void *p)
{
    park_set *s = p;
    int v = 0;
    csp_case k[2] = { csp_case_recv(s->sel_a, &v), csp_case_send(s->sel_b, &v) };
    csp_select(k, 2);
    csp_wg_done(s->finished);
}

static void park_wg_fn(void *p)
{
    park_set *s = p;
    csp_wg_wait(s->wg);
    csp_wg_done(s->finished);
}

static void park_sleep_fn(void *p)
{
    park_set *s = p;
    while (!atomic_load(&s->stop))
        csp_sleep(50 * MS); /* alive, never blocked in a channel op */
    csp_wg_done(s->finished);
}

static int park_make(park_set *s)
{
    memset(s, 0, sizeof *s);
    atomic_init(&s->stop, 0);
    s->recv_ch = csp_chan_make(sizeof(int), 0);
    s->send_ch = csp_chan_make(sizeof(int), 0);
    s->sel_a = csp_chan_make(sizeof(int), 0);
    s->sel_b = csp_chan_make(sizeof(int), 0);
    s->wg = csp_wg_new();
    s->finished = csp_wg_new();
    return s->recv_ch && s->send_ch && s->sel_a && s->sel_b && s->wg && s->finished &&
           csp_wg_add(s->wg, 1) == 0;
}

/* Lets every goroutine of the set go and waits for them. */
static void park_release(park_set *s)
{
    if (!s->recv_closed)
        csp_close(s->recv_ch);
    csp_close(s->send_ch);
    if (!s->sel_closed)
        csp_close(s->sel_a);
    if (!s->wg_done)
        csp_wg_done(s->wg);
    atomic_store(&s->stop, 1);
    csp_wg_wait(s->finished);
    csp_chan_release(s->recv_ch);
    csp_chan_release(s->send_ch);
    csp_chan_release(s->sel_a);
    csp_chan_release(s->sel_b);
    csp_wg_free(s->wg);
    csp_wg_free(s->finished);
}

/* goroutines counts running and blocked goroutines; blocked counts exactly
 * those in a receive, send, select or wait group wait (not a sleeper);
 * spawned counts starts; the thread figures are consistent. */
static void test_stats_counts(void)
{
    enum { NR = 3, NS = 2, NSEL = 2, NW = 2, NBLOCK = NR + NS + NSEL + NW };
    park_set s;
    CU_ASSERT_FATAL(park_make(&s));
    size_t zero = 0;
    /* Warm the pool with more threads than the test uses, so that idle
     * threads exist throughout (goroutines must not count them). */
    csp_chan *gate = csp_chan_make(0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gate);
    for (int i = 0; i < NBLOCK + 4; i++)
        CSP_ASSERT_EQ(csp_go(csp_test_gate_fn, gate), 0);
    size_t warm = NBLOCK + 4;
    CU_ASSERT(csp_test_wait_until(blocked_is, &warm, 10000));
    csp_close(gate);
    csp_chan_release(gate);
    CU_ASSERT(csp_test_wait_until(goroutines_is, &zero, 3000)); /* quiet start */
    csp_stats before = csp_test_stats();
    CU_ASSERT(before.threads_idle >= 4);
    CSP_ASSERT_EQ(before.threads_idle + before.goroutines, before.threads);
    CSP_ASSERT_EQ(before.blocked, 0);
    CSP_ASSERT_EQ(csp_wg_add(s.finished, NBLOCK + 1), 0);
    for (int i = 0; i < NR; i++)
        CSP_ASSERT_EQ(csp_go(park_recv_fn, &s), 0);
    for (int i = 0; i < NS; i++)
        CSP_ASSERT_EQ(csp_go(park_send_fn, &s), 0);
    for (int i = 0; i < NSEL; i++)
        CSP_ASSERT_EQ(csp_go(park_select_fn, &s), 0);
    for (int i = 0; i < NW; i++)
        CSP_ASSERT_EQ(csp_go(park_wg_fn, &s), 0);
    CSP_ASSERT_EQ(csp_go(park_sleep_fn, &s), 0);
    size_t want = NBLOCK;
    CU_ASSERT(csp_test_wait_until(blocked_is, &want, 10000));
    csp_stats during = csp_test_stats();
    CSP_ASSERT_EQ(during.blocked, NBLOCK); /* the sleeper is not blocked */
    CSP_ASSERT_EQ(during.goroutines, NBLOCK + 1);
    CSP_ASSERT_EQ(during.spawned, before.spawned + NBLOCK + 1);
    CU_ASSERT(during.threads >= during.goroutines);
    CSP_ASSERT_EQ(during.threads_idle + during.goroutines, during.threads); /* 1:1 */
    CU_ASSERT(during.threads_peak >= during.threads);
    CU_ASSERT(during.threads_peak >= before.threads_peak);
    /* One kind at a time leaves the count. */
    csp_close(s.recv_ch);
    s.recv_closed = 1;
    want = NBLOCK - NR;
    CU_ASSERT(csp_test_wait_until(blocked_is, &want, 10000));
    csp_wg_done(s.wg);
    s.wg_done = 1;
    want = NBLOCK - NR - NW;
    CU_ASSERT(csp_test_wait_until(blocked_is, &want, 10000));
    csp_close(s.sel_a);
    s.sel_closed = 1;
    want = NS;
    CU_ASSERT(csp_test_wait_until(blocked_is, &want, 10000));
    park_release(&s);
    /* Finished goroutines leave the count at once (well before any idle
     * thread would retire). */
    CU_ASSERT(csp_test_wait_until(goroutines_is, &zero, 3000));
    csp_stats after = csp_test_stats();
    CSP_ASSERT_EQ(after.blocked, 0);
    CSP_ASSERT_EQ(after.goroutines, 0);
    CSP_ASSERT_EQ(after.threads_idle, after.threads);
    CU_ASSERT(after.threads >= 1);
    CU_ASSERT(after.threads_peak >= NBLOCK + 1);
    CSP_ASSERT_EQ(after.spawned, before.spawned + NBLOCK + 1);
}

/* timers counts pending timers. */
static void test_stats_timers(void)
{
    size_t base = csp_test_stats().timers;
    int64_t start = csp_now();
    csp_chan *t1 = csp_after(100 * MS), *t2 = csp_after(100 * MS);
    CU_ASSERT_FATAL(t1 && t2);
    size_t pending = csp_test_stats().timers;
    if (csp_now() < start + 100 * MS) /* neither can have fired yet */
        CSP_ASSERT_EQ(pending, base + 2);
    csp_ticker *tk = csp_ticker_new(CSP_SECOND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    if (csp_now() < start + 100 * MS)
        CSP_ASSERT_EQ(csp_test_stats().timers, base + 3);
    csp_ticker_stop(tk);
    CSP_ASSERT_EQ(csp_recv(t1, NULL), 0);
    CSP_ASSERT_EQ(csp_recv(t2, NULL), 0);
    CU_ASSERT(csp_test_wait_until(timers_is, &base, 5000));
    csp_chan_release(t1);
    csp_chan_release(t2);
}

/* ------------------------------------------------------------------------
 * csp_dump
 * ------------------------------------------------------------------------ */

typedef struct dump_expect {
    const char *fn;   /* the function's name */
    int line;         /* the csp_go call's line */
    const char *wait; /* what it waits on, or NULL: not blocked */
} dump_expect;

/* The line of text that mentions this file's spawn site `line`. */
static char *find_site_line(const char *text, int line)
{
    char site[512];
    snprintf(site, sizeof site, "%s:%d", __FILE__, line);
    const char *p = text;
    while ((p = strstr(p, site)) != NULL) {
        char after = p[strlen(site)];
        if (!isdigit((unsigned char)after)) { /* not a longer line number */
            const char *b = p, *e = p;
            while (b > text && b[-1] != '\n')
                b--;
            while (*e && *e != '\n')
                e++;
            return strndup(b, (size_t)(e - b));
        }
        p++;
    }
    return NULL;
}

/* The number after "goroutine " in a dump line, or -1. */
static long long goroutine_id(const char *line)
{
    const char *p = find_ci(line, "goroutine");
    if (!p)
        return -1;
    p += strlen("goroutine");
    while (*p == ' ' || *p == '#')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    return strtoll(p, NULL, 10);
}

/* Every live goroutine appears, once, with an id, its spawn site (this file
 * and the line of its csp_go), its function, its state and what it waits on. */
static void test_dump_lists_goroutines(void)
{
    park_set s;
    CU_ASSERT_FATAL(park_make(&s));
    size_t zero = 0;
    CU_ASSERT(csp_test_wait_until(goroutines_is, &zero, 10000));
    CSP_ASSERT_EQ(csp_wg_add(s.finished, 5), 0);
    dump_expect ex[5];
    ex[0] = (dump_expect){ "park_recv_fn", __LINE__, "chan receive" }; CSP_ASSERT_EQ(csp_go(park_recv_fn, &s), 0);
    ex[1] = (dump_expect){ "park_send_fn", __LINE__, "chan send" }; CSP_ASSERT_EQ(csp_go(park_send_fn, &s), 0);
    ex[2] = (dump_expect){ "park_select_fn", __LINE__, "select" }; CSP_ASSERT_EQ(csp_go(park_select_fn, &s), 0);
    ex[3] = (dump_expect){ "park_wg_fn", __LINE__, "wait group" }; CSP_ASSERT_EQ(csp_go(park_wg_fn, &s), 0);
    ex[4] = (dump_expect){ "park_sleep_fn", __LINE__, NULL }; CSP_ASSERT_EQ(csp_go(park_sleep_fn, &s), 0);
    size_t four = 4;
    CU_ASSERT(csp_test_wait_until(blocked_is, &four, 10000));

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    csp_dump(f);
    fclose(f);
    long long ids[5];
    for (int i = 0; i < 5; i++) {
        char *line = find_site_line(text, ex[i].line);
        if (!line) {
            fprintf(stderr, "no dump line for %s spawned at %s:%d in:\n%s", ex[i].fn, __FILE__, ex[i].line, text);
            CU_FAIL("a goroutine is missing from csp_dump");
            ids[i] = -1 - i;
            continue;
        }
        ids[i] = goroutine_id(line);
        int ok = ids[i] > 0 && strstr(line, ex[i].fn) != NULL;
        if (ex[i].wait)
            ok = ok && strstr(line, "blocked") && strstr(line, ex[i].wait);
        else
            ok = ok && !strstr(line, "blocked");
        if (!ok)
            fprintf(stderr, "dump line for %s (want id, name, %s): %s\n", ex[i].fn,
                    ex[i].wait ? ex[i].wait : "not blocked", line);
        CU_ASSERT(ok);
        /* Listed once. */
        const char *first = strstr(text, line);
        CU_ASSERT(first && !strstr(first + strlen(line), line));
        free(line);
    }
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++)
            CU_ASSERT(ids[i] != ids[j]); /* distinct ids */
    }
    free(text);
    park_release(&s);
    CU_ASSERT(csp_test_wait_until(goroutines_is, &zero, 10000));

    /* Once they are gone, none of them is listed. */
    text = NULL;
    f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    csp_dump(f);
    fclose(f);
    for (int i = 0; i < 5; i++) {
        char *line = find_site_line(text, ex[i].line);
        CU_ASSERT_PTR_NULL(line);
        free(line);
    }
    free(text);
}

/* ------------------------------------------------------------------------
 * CSP_DEBUG=deadlock
 * ------------------------------------------------------------------------ */

static const char deadlock_msg[] = "csp: all goroutines are asleep - deadlock!";

static void expect_deadlock(const char *mode, const char *also)
{
    static const char *const env[] = { "CSP_DEBUG=deadlock", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, mode, env, 20000, &r), 0);
    int ok = aborted(&r) && strstr(r.err, deadlock_msg) && (!also || strstr(r.err, also));
    if (!ok)
        show_child(mode, &r);
    CU_ASSERT(aborted(&r));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, deadlock_msg));
    if (also)
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, also));
    free(r.err);
}

/* Main blocked on a receive nobody will send: abort with Go's message. */
static void test_deadlock_main_recv(void)
{
    expect_deadlock("dl_recv", NULL);
}

/* Main waits on a wait group, the only goroutine is blocked forever on a
 * receive: abort, and the dump shows that goroutine. */
static void test_deadlock_main_wg(void)
{
    char site[512];
    snprintf(site, sizeof site, "%s:%d", __FILE__, (int)DL_WG_SPAWN_LINE);
    expect_deadlock("dl_wg", site);
}

/* select {} on main is a deadlock when detection is on. */
static void test_deadlock_select_empty(void)
{
    expect_deadlock("dl_select", NULL);
}

/* Main blocked while a timer is pending: no report yet; once the timer has
 * fired (waking nobody), the deadlock is reported. */
static void test_deadlock_after_last_timer(void)
{
    expect_deadlock("dl_after_timer", "blocking with a timer pending");
}

/* Blocked, but a pending timer or a running goroutine will wake them: no
 * report, normal exit. */
static void test_no_deadlock_when_wakeable(void)
{
    static const char *const env[] = { "CSP_DEBUG=deadlock", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "dl_none", env, 20000, &r), 0);
    if (!csp_test_child_ok(&r) || strstr(r.err, "deadlock!"))
        show_child("dl_none", &r);
    CU_ASSERT(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NULL(strstr(r.err, "deadlock!"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no deadlock"));
    free(r.err);
}

/* ------------------------------------------------------------------------
 * CSP_DEBUG=leaks
 * ------------------------------------------------------------------------ */

/* At exit, the goroutine still blocked is listed with its spawn site and
 * function; the one that finished is not; without the mode, nothing is. */
static void test_leaks_reported_at_exit(void)
{
    static const char *const env[] = { "CSP_DEBUG=leaks", NULL };
    char leak_site[512], done_site[512];
    snprintf(leak_site, sizeof leak_site, "%s:%d", __FILE__, (int)LEAK_SPAWN_LINE);
    snprintf(done_site, sizeof done_site, "%s:%d", __FILE__, (int)FINISHED_SPAWN_LINE);
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "leaks", env, 60000, &r), 0);
    const char *after = strstr(r.err, "exiting\n"); /* the report comes at exit */
    int ok = csp_test_child_ok(&r) && after && strstr(after, leak_site) && strstr(after, "block_forever_fn") &&
             !strstr(r.err, done_site);
    if (!ok)
        show_child("leaks", &r);
    CU_ASSERT(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_PTR_NOT_NULL(strstr(after, leak_site));
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "block_forever_fn"));
    CU_ASSERT_PTR_NULL(strstr(r.err, done_site));
    free(r.err);

    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "leaks", NULL, 60000, &r), 0);
    if (!csp_test_child_ok(&r) || strstr(r.err, leak_site))
        show_child("leaks (mode off)", &r);
    CU_ASSERT(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NULL(strstr(r.err, leak_site));
    free(r.err);
}

/* ------------------------------------------------------------------------
 * CSP_DEBUG=strict
 * ------------------------------------------------------------------------ */

static void expect_strict_abort(const char *mode, const char *word1, const char *word2)
{
    static const char *const env[] = { "CSP_DEBUG=strict", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, mode, env, 60000, &r), 0);
    int ok = aborted(&r) && find_ci(r.err, word1) && (!word2 || find_ci(r.err, word2)) &&
             !strstr(r.err, "continued");
    if (!ok)
        show_child(mode, &r);
    CU_ASSERT(aborted(&r));
    CU_ASSERT_PTR_NOT_NULL(find_ci(r.err, word1));
    if (word2)
        CU_ASSERT_PTR_NOT_NULL(find_ci(r.err, word2));
    CU_ASSERT_PTR_NULL(strstr(r.err, "continued"));
    free(r.err);
}

/* Send on a closed channel aborts with a message naming it. */
static void test_strict_send_on_closed(void)
{
    expect_strict_abort("strict_send", "send", "closed");
}

/* Closing a closed channel aborts with a message naming it. */
static void test_strict_double_close(void)
{
    expect_strict_abort("strict_close", "close of closed", NULL);
}

/* A negative wait group counter aborts with a message naming it. */
static void test_strict_negative_wg(void)
{
    expect_strict_abort("strict_wg", "negative", NULL);
}

/* Without strict (and with the other modes on) the same calls return their
 * error codes and the program goes on. */
static void test_nonstrict_returns_errors(void)
{
    static const char *const other[] = { "CSP_DEBUG=deadlock,leaks", NULL };
    const char *const *envs[] = { NULL, other };
    for (int i = 0; i < 2; i++) {
        csp_test_child_result r;
        CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "nonstrict", envs[i], 60000, &r), 0);
        if (!csp_test_child_ok(&r))
            show_child("nonstrict", &r);
        CU_ASSERT(csp_test_child_ok(&r));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no abort"));
        free(r.err);
    }
}

/* ------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------ */

typedef struct stamp {
    csp_chan *ch;
} stamp;

static void stamp_fn(void *p)
{
    stamp *s = p;
    for (int i = 0; i < 100; i++) {
        int64_t t = csp_now();
        csp_send(s->ch, &t);
    }
}

/* csp_now never goes back, in one thread or across a channel hand-off. */
static void test_now_monotonic(void)
{
    int64_t prev = csp_now(), back = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t t = csp_now();
        if (t < prev)
            back++;
        prev = t;
    }
    CSP_ASSERT_EQ(back, 0);
    stamp s = { csp_chan_make(sizeof(int64_t), 0) };
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.ch);
    CSP_ASSERT_EQ(csp_go(stamp_fn, &s), 0);
    for (int i = 0; i < 100; i++) {
        int64_t t = 0;
        CSP_ASSERT_EQ(csp_recv(s.ch, &t), 0);
        int64_t now = csp_now(); /* after the send, which read t before it */
        CU_ASSERT(now >= t);
    }
    csp_chan_release(s.ch);
}

/* csp_sleep sleeps at least as long as asked, by csp_now and by the system's
 * monotonic clock; zero and negative return. */
static void test_sleep_at_least(void)
{
    static const int64_t d[] = { 1, CSP_MICROSECOND, 100 * CSP_MICROSECOND, MS, 10 * MS, 25 * MS };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        int64_t a = csp_now(), m = mono_ns();
        csp_sleep(d[i]);
        int64_t b = csp_now(), n = mono_ns();
        if (b - a < d[i] || n - m < d[i])
            fprintf(stderr, "csp_sleep(%lld) slept %lld ns\n", (long long)d[i], (long long)(b - a));
        CU_ASSERT(b - a >= d[i]);
        CU_ASSERT(n - m >= d[i]);
    }
    csp_sleep(0);
    csp_sleep(-1);
    csp_sleep(INT64_MIN);
    /* In a goroutine too. */
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    later l = { NULL, wg, 20 * MS };
    CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
    int64_t a = csp_now();
    CSP_ASSERT_EQ(csp_go(sleep_then_done, &l), 0);
    csp_wg_wait(wg);
    CU_ASSERT(csp_now() - a >= 20 * MS);
    csp_wg_free(wg);
}

static atomic_int sig_count;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&sig_count, 1);
}

typedef struct pester {
    pthread_t target;
    atomic_int sleeping; /* 1 while the target sleeps */
    atomic_int stop;
} pester;

static void *pester_fn(void *p)
{
    pester *x = p;
    while (!atomic_load(&x->stop)) {
        if (atomic_load(&x->sleeping))
            pthread_kill(x->target, SIGUSR1);
        struct timespec ts = { 0, 500 * 1000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Signals (handlers without SA_RESTART) during a csp_sleep do not cut it
 * short. Repeated until a signal did arrive during the sleep. */
static void test_sleep_survives_signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: nanosleep returns EINTR */
    CSP_ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    pester x;
    x.target = pthread_self();
    atomic_init(&x.sleeping, 0);
    atomic_init(&x.stop, 0);
    pthread_t th;
    CSP_ASSERT_EQ(pthread_create(&th, NULL, pester_fn, &x), 0);
    int interrupted = 0;
    for (int attempt = 0; attempt < 10 && !interrupted; attempt++) {
        const int64_t d = 50 * MS;
        int before = atomic_load(&sig_count);
        int64_t a = csp_now();
        atomic_store(&x.sleeping, 1);
        csp_sleep(d);
        atomic_store(&x.sleeping, 0);
        int64_t b = csp_now();
        int during = atomic_load(&sig_count) - before;
        if (b - a < d)
            fprintf(stderr, "csp_sleep(50 ms) with %d signals slept %lld ns\n", during, (long long)(b - a));
        CU_ASSERT(b - a >= d);
        interrupted = during > 0;
    }
    atomic_store(&x.stop, 1);
    pthread_join(th, NULL);
    sigaction(SIGUSR1, &old, NULL);
    CU_ASSERT(interrupted); /* the test did what it says */
}

typedef struct reaped {
    pid_t pid;
    int status;
    int done;
} reaped;

static int child_exited(void *p)
{
    reaped *r = p;
    if (!r->done && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
        r->done = 1;
    return r->done;
}

/* CPU time (user + system) of a process, in clock ticks. */
static long long proc_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* csp_sleep(INT64_MAX) sleeps (practically forever): it does not return,
 * and does not spin the CPU (now + ns must not overflow). */
static void test_sleep_huge(void)
{
    csp_test_child c;
    CU_ASSERT_EQUAL_FATAL(csp_test_child_start(prog, "sleep_huge", NULL, &c), 0);
    CSP_ASSERT_EQ(csp_test_child_read(&c, csp_now() + 30 * CSP_SECOND, "sleeping\n"), 2);
    long long cpu0 = proc_cpu_ticks(c.pid);
    /* A bounded wait for an exit that must not happen. */
    reaped rp = { c.pid, 0, 0 };
    int exited = csp_test_wait_until(child_exited, &rp, 300);
    long long cpu1 = proc_cpu_ticks(c.pid);
    long hz = sysconf(_SC_CLK_TCK);
    CU_ASSERT_FALSE(exited);
    if (!exited) {
        if (cpu1 - cpu0 > hz / 10)
            fprintf(stderr, "csp_sleep(INT64_MAX) used %lld ms of CPU in 300 ms\n", (cpu1 - cpu0) * 1000 / hz);
        CU_ASSERT(cpu0 >= 0 && cpu1 >= 0 && cpu1 - cpu0 <= hz / 10); /* asleep, not spinning */
        kill(c.pid, SIGKILL);
    }
    csp_test_child_result r;
    csp_test_child_finish(&c, 30000, &r);
    if (exited) {
        r.status = rp.status; /* reaped above */
        show_child("sleep_huge", &r);
    }
    CU_ASSERT_PTR_NULL(strstr(r.err, "woke"));
    free(r.err);
}

/* ------------------------------------------------------------------------
 * Threads libcsp did not start
 * ------------------------------------------------------------------------ */

typedef struct foreign {
    csp_chan *a, *b;    /* thread -> goroutine -> main */
    csp_chan *ping, *pong; /* main <-> thread */
    csp_chan *sel1, *sel2; /* a goroutine feeds a thread's select */
    csp_wg *wg;
    int spawned_ok;
    int sel_got[2];
    atomic_int errors;
} foreign;

static void *producer_thread(void *p)
{
    foreign *f = p;
    for (int i = 1; i <= 100; i++) {
        if (csp_send(f->a, &i) != 0)
            atomic_fetch_add(&f->errors, 1);
    }
    csp_close(f->a);
    return NULL;
}

static void relay_fn(void *p)
{
    foreign *f = p;
    int v;
    while (csp_recv(f->a, &v) == 0) {
        v *= 2;
        csp_send(f->b, &v);
    }
    csp_close(f->b);
}

static void *echo_thread(void *p)
{
    foreign *f = p;
    int v;
    while (csp_recv(f->ping, &v) == 0) {
        v += 1000;
        csp_send(f->pong, &v);
    }
    return NULL;
}

static void feeder_fn(void *p)
{
    foreign *f = p;
    for (int i = 0; i < 10; i++) {
        csp_send(i % 2 ? f->sel2 : f->sel1, &i);
    }
    csp_wg_done(f->wg);
}

static void *selector_thread(void *p)
{
    foreign *f = p;
    /* A plain thread starts a goroutine and waits on a wait group. */
    if (csp_wg_add(f->wg, 1) != 0 || csp_go(feeder_fn, f) != 0) {
        atomic_fetch_add(&f->errors, 1);
        return NULL;
    }
    f->spawned_ok = 1;
    for (int n = 0; n < 10; n++) {
        int v = -1;
        csp_case k[2] = { csp_case_recv(f->sel1, &v), csp_case_recv(f->sel2, &v) };
        int r = csp_select(k, 2);
        if (r < 0 || r > 1 || k[r].err != 0 || v != n || r != n % 2)
            atomic_fetch_add(&f->errors, 1);
        else
            f->sel_got[r]++;
    }
    csp_wg_wait(f->wg);
    return NULL;
}

/* Plain pthreads use channels, select, wait groups and csp_go, with
 * goroutines and with the main thread. */
static void test_foreign_threads(void)
{
    foreign f;
    memset(&f, 0, sizeof f);
    atomic_init(&f.errors, 0);
    f.a = csp_chan_make(sizeof(int), 0);
    f.b = csp_chan_make(sizeof(int), 0);
    f.ping = csp_chan_make(sizeof(int), 0);
    f.pong = csp_chan_make(sizeof(int), 0);
    f.sel1 = csp_chan_make(sizeof(int), 0);
    f.sel2 = csp_chan_make(sizeof(int), 0);
    f.wg = csp_wg_new();
    CU_ASSERT_FATAL(f.a && f.b && f.ping && f.pong && f.sel1 && f.sel2 && f.wg);
    pthread_t prod, echo, sel;
    CSP_ASSERT_EQ(pthread_create(&prod, NULL, producer_thread, &f), 0);
    CSP_ASSERT_EQ(csp_go(relay_fn, &f), 0);
    CSP_ASSERT_EQ(pthread_create(&echo, NULL, echo_thread, &f), 0);
    CSP_ASSERT_EQ(pthread_create(&sel, NULL, selector_thread, &f), 0);
    /* thread -> goroutine -> main */
    int v, n = 0;
    while (csp_recv(f.b, &v) == 0) {
        n++;
        CSP_ASSERT_EQ(v, 2 * n);
    }
    CSP_ASSERT_EQ(n, 100);
    /* main <-> thread */
    for (int i = 0; i < 50; i++) {
        CSP_ASSERT_EQ(csp_send(f.ping, &i), 0);
        CSP_ASSERT_EQ(csp_recv(f.pong, &v), 0);
        CSP_ASSERT_EQ(v, i + 1000);
    }
    csp_close(f.ping);
    pthread_join(prod, NULL);
    pthread_join(echo, NULL);
    pthread_join(sel, NULL);
    CSP_ASSERT_EQ(atomic_load(&f.errors), 0);
    CSP_ASSERT_EQ(f.spawned_ok, 1);
    CSP_ASSERT_EQ(f.sel_got[0], 5);
    CSP_ASSERT_EQ(f.sel_got[1], 5);
    size_t zero = 0;
    CU_ASSERT(csp_test_wait_until(goroutines_is, &zero, 10000));
    csp_chan_release(f.a);
    csp_chan_release(f.b);
    csp_chan_release(f.ping);
    csp_chan_release(f.pong);
    csp_chan_release(f.sel1);
    csp_chan_release(f.sel2);
    csp_wg_free(f.wg);
}

static const csp_test tests[] = {
    { "stats_counts", test_stats_counts },
    { "stats_timers", test_stats_timers },
    { "dump_lists_goroutines", test_dump_lists_goroutines },
    { "deadlock_main_recv", test_deadlock_main_recv },
    { "deadlock_main_wg", test_deadlock_main_wg },
    { "deadlock_select_empty", test_deadlock_select_empty },
    { "deadlock_after_last_timer", test_deadlock_after_last_timer },
    { "no_deadlock_when_wakeable", test_no_deadlock_when_wakeable },
    { "leaks_reported_at_exit", test_leaks_reported_at_exit },
    { "strict_send_on_closed", test_strict_send_on_closed },
    { "strict_double_close", test_strict_double_close },
    { "strict_negative_wg", test_strict_negative_wg },
    { "nonstrict_returns_errors", test_nonstrict_returns_errors },
    { "now_monotonic", test_now_monotonic },
    { "sleep_at_least", test_sleep_at_least },
    { "sleep_survives_signals", test_sleep_survives_signals },
    { "sleep_huge", test_sleep_huge },
    { "foreign_threads", test_foreign_threads },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "runtime", tests, child_modes, 120);
}
