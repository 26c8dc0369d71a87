/*
 * test_timer.c - csp_after and tickers.
 *
 * Clauses (API.md, "Timers"): csp_after delivers exactly one int64_t, the
 * csp_now() of its firing, never early; ns <= 0 delivers at once; thousands
 * of pending timers cost no thread each; csp_stats_get().timers counts the
 * pending ones; a ticker's channel has capacity 1 (a slow receiver misses
 * ticks), its ticks are never early, csp_ticker_stop stops them without
 * closing the channel, and a period <= 0 is EINVAL.
 *
 * Timing is asserted only as "not before" and as order. Where a test needs a
 * "nothing more arrives" check it waits a bounded time for the value that must
 * not come. Edge cases that could hang or crash the process (huge durations)
 * run in a child: this program re-executes itself with --child=MODE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <csp.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS CSP_MILLISECOND

static const char prog[] = "test_timer"; /* argv[0] of its children */

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Receives one value from ch, waiting at most `bound`; the select's result
 * (0 when received, CSP_ETIMEDOUT when nothing came). err gets the case's. */
static int recv_within(csp_chan *ch, int64_t *out, int64_t bound, int *err)
{
    csp_case k = csp_case_recv(ch, out);
    int r = csp_select_timeout(&k, 1, bound);
    if (err)
        *err = r == 0 ? k.err : r;
    return r;
}

/* A condition for csp_test_wait_until: a value (or a close) is available. */
static int chan_has_value(void *p)
{
    return csp_len((csp_chan *)p) > 0;
}

typedef struct any_ctx {
    csp_chan **ch;
    int n;
} any_ctx;

static int any_has_value(void *p)
{
    any_ctx *a = p;
    for (int i = 0; i < a->n; i++) {
        if (csp_len(a->ch[i]) > 0)
            return 1;
    }
    return 0;
}

static int timers_back_to(void *p)
{
    return csp_test_stats().timers == *(size_t *)p;
}

/* ------------------------------------------------------------------------
 * Children: run this program again with --child=MODE
 * ------------------------------------------------------------------------ */

/* --child=after_huge: a timer whose deadline overflows int64_t (now + ns) must
 * not fire early, and the timer thread must keep serving other timers. */
static int child_after_huge(void)
{
    csp_chan *a = csp_after(INT64_MAX);
    csp_chan *b = csp_after(INT64_MAX / 2 + INT64_MAX / 4);
    CHILD_CHECK(a && b);
    csp_case k[2] = { csp_case_recv(a, NULL), csp_case_recv(b, NULL) };
    int r = csp_select_timeout(k, 2, 100 * MS);
    if (r != CSP_ETIMEDOUT)
        fprintf(stderr, "csp_after(huge) fired early: select returned %d\n", r);
    CHILD_CHECK(r == CSP_ETIMEDOUT);
    int64_t start = csp_now(), v = 0;
    csp_chan *c = csp_after(10 * MS);
    CHILD_CHECK(c);
    CHILD_CHECK(recv_within(c, &v, 10 * CSP_SECOND, NULL) == 0);
    CHILD_CHECK(v >= start + 10 * MS);
    csp_chan_release(a);
    csp_chan_release(b);
    csp_chan_release(c);
    return 0;
}

/* --child=ticker_huge: a ticker with a huge period ticks not before one
 * period, and does not stall the timer thread. */
static int child_ticker_huge(void)
{
    csp_ticker *t1 = csp_ticker_new(INT64_MAX);
    CHILD_CHECK(t1);
    csp_case k = csp_case_recv(csp_ticker_chan(t1), NULL);
    int r = csp_select_timeout(&k, 1, 100 * MS);
    if (r != CSP_ETIMEDOUT)
        fprintf(stderr, "csp_ticker_new(INT64_MAX) ticked early: select returned %d\n", r);
    CHILD_CHECK(r == CSP_ETIMEDOUT);
    int64_t start = csp_now(), v = 0;
    csp_chan *c = csp_after(10 * MS);
    CHILD_CHECK(c);
    r = recv_within(c, &v, 10 * CSP_SECOND, NULL);
    if (r != 0)
        fprintf(stderr, "a 10 ms timer did not fire within 10 s after a huge ticker: %d\n", r);
    CHILD_CHECK(r == 0);
    CHILD_CHECK(v >= start + 10 * MS);
    csp_chan_release(c);
    csp_ticker_stop(t1);
    return 0;
}

/* ------------------------------------------------------------------------
 * csp_after
 * ------------------------------------------------------------------------ */

/* csp_after(ns): exactly one int64_t, >= start + ns, received not before
 * start + ns, and the value is csp_now() at firing (so <= the receive time). */
static void test_after_once_not_early(void)
{
    static const int64_t delays[] = { 1 * MS, 5 * MS, 20 * MS, 60 * MS };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        int64_t d = delays[i];
        int64_t start = csp_now();
        csp_chan *ch = csp_after(d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
        CSP_ASSERT_EQ(csp_chan_elem_size(ch), sizeof(int64_t));
        int64_t v = 0;
        int err = -1;
        if (i % 2 == 0) {
            err = csp_recv(ch, &v); /* the plain blocking receive */
        } else {
            CSP_ASSERT_EQ(recv_within(ch, &v, 10 * CSP_SECOND, &err), 0);
        }
        int64_t got = csp_now();
        CSP_ASSERT_EQ(err, 0);
        CU_ASSERT(v >= start + d);   /* the firing time is not early */
        CU_ASSERT(got >= start + d); /* nor is the receipt */
        CU_ASSERT(v <= got);         /* the value is csp_now() at firing */
        /* No second value: wait a bounded time for one that must not come. */
        CU_ASSERT_FALSE(csp_test_wait_until(chan_has_value, ch, 3 * (unsigned)(d / MS) + 20));
        CSP_ASSERT_EQ(csp_tryrecv(ch, &v), CSP_EAGAIN); /* nothing, and not closed */
        csp_chan_release(ch);
    }
}

/* csp_after(0) and negative durations deliver at once (one value, not early
 * relative to the call), and only one. */
static void test_after_zero_and_negative(void)
{
    static const int64_t delays[] = { 0, -1, -CSP_SECOND, INT64_MIN };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        int64_t start = csp_now();
        csp_chan *ch = csp_after(delays[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
        int64_t v = 0;
        int err = -1;
        CSP_ASSERT_EQ(recv_within(ch, &v, 10 * CSP_SECOND, &err), 0);
        CSP_ASSERT_EQ(err, 0);
        CU_ASSERT(v >= start);
        CU_ASSERT(v <= csp_now());
        CU_ASSERT_FALSE(csp_test_wait_until(chan_has_value, ch, 20));
        CSP_ASSERT_EQ(csp_tryrecv(ch, &v), CSP_EAGAIN);
        csp_chan_release(ch);
    }
}

/* 2000 timers of 1-50 ms: every one fires, none early, none twice, and they
 * share one thread: neither the pool nor the process grows a thread per timer. */
static void test_many_timers_one_thread(void)
{
    enum { N = 2000 };
    csp_chan **ch = calloc(N, sizeof *ch);
    int64_t *start = calloc(N, sizeof *start), *delay = calloc(N, sizeof *delay);
    CU_ASSERT_FATAL(ch && start && delay);
    unsigned seed = 12345;
    csp_stats before = csp_test_stats();
    long threads_before = csp_test_os_threads();
    CU_ASSERT(threads_before > 0);
    for (int i = 0; i < N; i++) {
        delay[i] = (1 + rand_r(&seed) % 50) * MS;
        start[i] = csp_now();
        ch[i] = csp_after(delay[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch[i]);
    }
    /* Sample while most are pending. */
    long threads_max = csp_test_os_threads();
    csp_stats during = csp_test_stats();
    CU_ASSERT(during.timers > 0); /* the last ones created are still pending... */
    CU_ASSERT(during.timers <= before.timers + N);
    int fired = 0;
    for (int i = 0; i < N; i++) {
        int64_t v = 0;
        int err = -1;
        int r = recv_within(ch[i], &v, 10 * CSP_SECOND, &err);
        int64_t got = csp_now();
        if (r != 0 || err != 0 || v < start[i] + delay[i] || got < start[i] + delay[i]) {
            fprintf(stderr, "timer %d (%lld ms): select %d err %d, fired %lld ns after start\n", i,
                    (long long)(delay[i] / MS), r, err, (long long)(v - start[i]));
            CU_FAIL("a timer did not fire, or fired early");
        } else {
            fired++;
        }
        if (i == N / 4 || i == N / 2) {
            long t = csp_test_os_threads();
            if (t > threads_max)
                threads_max = t;
        }
    }
    CSP_ASSERT_EQ(fired, N);
    /* One timer thread at most was added (it may already have existed). */
    if (threads_max > threads_before + 2)
        fprintf(stderr, "threads: %ld before, %ld with %d timers pending\n", threads_before, threads_max, N);
    CU_ASSERT(threads_max <= threads_before + 2);
    csp_stats after = csp_test_stats();
    CU_ASSERT(during.threads <= before.threads); /* timers take no pool thread */
    CU_ASSERT(after.threads <= before.threads);
    /* None fires twice. */
    int64_t v;
    any_ctx any = { ch, N };
    CU_ASSERT_FALSE(csp_test_wait_until(any_has_value, &any, 20)); /* values that must not come */
    for (int i = 0; i < N; i++)
        CSP_ASSERT_EQ(csp_tryrecv(ch[i], &v), CSP_EAGAIN);
    CU_ASSERT(csp_test_wait_until(timers_back_to, &before.timers, 5000));
    for (int i = 0; i < N; i++)
        csp_chan_release(ch[i]);
    free(ch);
    free(start);
    free(delay);
}

/* csp_stats_get().timers counts pending timers: up by one per csp_after and
 * per ticker, back down as they fire or stop. */
static void test_stats_count_pending_timers(void)
{
    enum { N = 10 };
    const int64_t d = 150 * MS;
    size_t base = csp_test_stats().timers;
    csp_chan *ch[N];
    int64_t first = csp_now();
    for (int i = 0; i < N; i++) {
        ch[i] = csp_after(d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch[i]);
    }
    size_t pending = csp_test_stats().timers;
    if (csp_now() < first + d) /* none can have fired: timers are never early */
        CSP_ASSERT_EQ(pending, base + N);
    else
        CU_ASSERT(pending <= base + N);
    for (int i = 0; i < N; i++) {
        CSP_ASSERT_EQ(recv_within(ch[i], NULL, 10 * CSP_SECOND, NULL), 0);
        csp_chan_release(ch[i]);
    }
    CU_ASSERT(csp_test_wait_until(timers_back_to, &base, 5000));
    CSP_ASSERT_EQ(csp_test_stats().timers, base);

    /* A ticker is pending until stopped. */
    csp_ticker *tk = csp_ticker_new(CSP_SECOND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    CSP_ASSERT_EQ(csp_test_stats().timers, base + 1);
    csp_ticker_stop(tk);
    CSP_ASSERT_EQ(csp_test_stats().timers, base);

    /* A timer released before it fires still fires and leaves the count. */
    csp_chan *c = csp_after(5 * MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    csp_chan_release(c);
    CU_ASSERT(csp_test_wait_until(timers_back_to, &base, 5000));
}

/* A shorter timer fires before a longer one, whatever the creation order. */
static void test_timer_order(void)
{
    int64_t start = csp_now();
    csp_chan *slow = csp_after(100 * MS);
    csp_chan *fast = csp_after(10 * MS);
    CU_ASSERT_FATAL(slow && fast);
    int64_t vs = 0, vf = 0;
    csp_case k[2] = { csp_case_recv(slow, &vs), csp_case_recv(fast, &vf) };
    int r = csp_select(k, 2);
    int64_t got = csp_now();
    CU_ASSERT(r == 0 || r == 1);
    if (got < start + 100 * MS) /* the slow one cannot be ready yet */
        CSP_ASSERT_EQ(r, 1);
    /* Take the other one too. */
    CSP_ASSERT_EQ(recv_within(r == 1 ? slow : fast, r == 1 ? &vs : &vf, 10 * CSP_SECOND, NULL), 0);
    CU_ASSERT(vf >= start + 10 * MS);
    CU_ASSERT(vs >= start + 100 * MS);
    CU_ASSERT(vf <= vs); /* fired in deadline order */
    csp_chan_release(slow);
    csp_chan_release(fast);

    /* Three, created longest first: fired in deadline order. */
    static const int64_t d[3] = { 30 * MS, 20 * MS, 10 * MS };
    csp_chan *c[3];
    int64_t v[3];
    start = csp_now();
    for (int i = 0; i < 3; i++)
        c[i] = csp_after(d[i]);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(c[i]);
        CSP_ASSERT_EQ(recv_within(c[i], &v[i], 10 * CSP_SECOND, NULL), 0);
        CU_ASSERT(v[i] >= start + d[i]);
    }
    CU_ASSERT(v[2] <= v[1] && v[1] <= v[0]);
    for (int i = 0; i < 3; i++)
        csp_chan_release(c[i]);
}

/* ------------------------------------------------------------------------
 * Tickers
 * ------------------------------------------------------------------------ */

/* Ticks of a promptly served ticker: strictly increasing, the k-th not before
 * creation + k * period, each received not before its value. */
static void test_ticker_not_early(void)
{
    enum { K = 10 };
    const int64_t period = 10 * MS;
    int64_t start = csp_now();
    csp_ticker *tk = csp_ticker_new(period);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    csp_chan *ch = csp_ticker_chan(tk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CSP_ASSERT_EQ(csp_chan_elem_size(ch), sizeof(int64_t));
    int64_t prev = start;
    for (int k = 1; k <= K; k++) {
        int64_t v = 0;
        int err = -1;
        CSP_ASSERT_EQ(recv_within(ch, &v, 10 * CSP_SECOND, &err), 0);
        int64_t got = csp_now();
        CSP_ASSERT_EQ(err, 0);
        if (v < start + k * period)
            fprintf(stderr, "tick %d at +%lld ns, before %lld ns\n", k, (long long)(v - start),
                    (long long)(k * period));
        CU_ASSERT(v >= start + k * period);
        CU_ASSERT(v > prev);
        CU_ASSERT(v <= got);
        prev = v;
    }
    csp_ticker_stop(tk);
}

static int chan_nonempty(void *p)
{
    return csp_len((csp_chan *)p) >= 1;
}

/* Capacity 1: a receiver that sleeps through many periods finds at most one
 * buffered tick: the others were missed, not queued. */
static void test_ticker_slow_receiver_misses_ticks(void)
{
    const int64_t period = 5 * MS;
    csp_ticker *tk = csp_ticker_new(period);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    csp_chan *ch = csp_ticker_chan(tk);
    CSP_ASSERT_EQ(csp_cap(ch), 1);
    CU_ASSERT(csp_test_wait_until(chan_nonempty, ch, 10000));
    /* Sleep through ~12 periods (the sleep is the slow receiver, not a
     * synchronisation), watching the buffer. */
    size_t most = 0;
    int64_t until = csp_now() + 12 * period;
    while (csp_now() < until) {
        size_t n = csp_len(ch);
        if (n > most)
            most = n;
        csp_sleep(MS);
    }
    CSP_ASSERT_EQ(most, 1);
    CU_ASSERT(csp_len(ch) <= 1);
    /* A burst of non-blocking receives finds the one buffered tick, at most
     * one more if a tick fires during the burst, not a backlog. */
    int got = 0;
    int64_t v;
    for (int i = 0; i < 20; i++)
        got += csp_tryrecv(ch, &v) == 0;
    CU_ASSERT(got >= 1 && got <= 2);
    csp_ticker_stop(tk);
}

typedef struct stop_ctx {
    csp_chan *ch;
    int64_t v;
    int err;
    atomic_int done;
} stop_ctx;

static void recv_into_ctx(void *p)
{
    stop_ctx *c = p;
    c->err = csp_recv(c->ch, &c->v);
    atomic_store(&c->done, 1);
}

static int ctx_done(void *p)
{
    return atomic_load(&((stop_ctx *)p)->done);
}

/* csp_ticker_stop stops the ticks, and does not close the channel: its
 * receivers never see CSP_ECLOSED (checked before and, with a reference of
 * our own, after the stop). */
static void test_ticker_stop(void)
{
    const int64_t period = 5 * MS;
    size_t base = csp_test_stats().timers;
    csp_ticker *tk = csp_ticker_new(period);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    csp_chan *ch = csp_chan_retain(csp_ticker_chan(tk)); /* outlives the stop */
    for (int i = 0; i < 3; i++) {
        int64_t v;
        int err = -1;
        CSP_ASSERT_EQ(recv_within(ch, &v, 10 * CSP_SECOND, &err), 0);
        CSP_ASSERT_EQ(err, 0); /* never CSP_ECLOSED */
        int r = csp_tryrecv(ch, &v);
        CU_ASSERT(r == 0 || r == CSP_EAGAIN);
    }
    csp_ticker_stop(tk);
    CSP_ASSERT_EQ(csp_test_stats().timers, base);
    int64_t v;
    int r = csp_tryrecv(ch, &v); /* a tick may have been buffered before the stop */
    CU_ASSERT(r == 0 || r == CSP_EAGAIN);
    /* No tick for ten periods. */
    CU_ASSERT_FALSE(csp_test_wait_until(chan_has_value, ch, 50));
    CSP_ASSERT_EQ(csp_tryrecv(ch, &v), CSP_EAGAIN); /* empty, not closed */

    /* A receiver blocked on the stopped ticker's channel stays blocked (no
     * tick, no close) until we send it something ourselves. */
    csp_stats s0 = csp_test_stats();
    stop_ctx c = { .ch = ch, .err = 1 };
    atomic_init(&c.done, 0);
    CSP_ASSERT_EQ(csp_go(recv_into_ctx, &c), 0);
    size_t want = s0.blocked + 1;
    CU_ASSERT(csp_test_wait_until(csp_test_blocked_at_least, &want, 10000));
    CU_ASSERT_FALSE(csp_test_wait_until(ctx_done, &c, 30));
    int64_t sentinel = -42;
    csp_case snd = csp_case_send(ch, &sentinel); /* bounded: the buffer may hold a stray tick */
    CSP_ASSERT_EQ(csp_select_timeout(&snd, 1, 10 * CSP_SECOND), 0);
    CSP_ASSERT_EQ(snd.err, 0);
    CU_ASSERT(csp_test_wait_until(ctx_done, &c, 10000));
    CSP_ASSERT_EQ(c.err, 0);
    CSP_ASSERT_EQ(c.v, -42);
    csp_chan_release(ch);

    /* Stopping a ticker that never ticked, and one that is being received
     * from, frees everything (ASan checks). */
    tk = csp_ticker_new(CSP_SECOND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    csp_ticker_stop(tk);
    CSP_ASSERT_EQ(csp_test_stats().timers, base);
}

/* A period of 0 or less is EINVAL. */
static void test_ticker_bad_period(void)
{
    static const int64_t bad[] = { 0, -1, -CSP_SECOND, INT64_MIN };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        csp_ticker *tk = csp_ticker_new(bad[i]);
        CU_ASSERT_PTR_NULL(tk);
        CSP_ASSERT_EQ(errno, EINVAL);
        if (tk)
            csp_ticker_stop(tk);
    }
}

/* ------------------------------------------------------------------------
 * Timers in select
 * ------------------------------------------------------------------------ */

typedef struct sender_ctx {
    csp_chan *ch;
    int n;
} sender_ctx;

static void send_n_then_close(void *p)
{
    sender_ctx *s = p;
    for (int i = 0; i < s->n; i++)
        csp_send(s->ch, &i);
    csp_close(s->ch);
}

static void test_select_timer_and_channel(void)
{
    /* A ready channel wins over a timer that is not due. */
    csp_chan *data = csp_chan_make(sizeof(int), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    int x = 42, y = 0;
    CSP_ASSERT_EQ(csp_send(data, &x), 0);
    int64_t start = csp_now(), tv = 0;
    csp_chan *tm = csp_after(100 * MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    csp_case k[2] = { csp_case_recv(data, &y), csp_case_recv(tm, &tv) };
    int r = csp_select(k, 2);
    if (csp_now() < start + 100 * MS) {
        CSP_ASSERT_EQ(r, 0);
        CSP_ASSERT_EQ(y, 42);
        CSP_ASSERT_EQ(tv, 0);
    }
    if (r == 0) /* drain the timer, so that no timer outlives the test */
        CSP_ASSERT_EQ(recv_within(tm, &tv, 10 * CSP_SECOND, NULL), 0);
    CU_ASSERT(tv >= start + 100 * MS);
    csp_chan_release(tm);

    /* Nothing on the channel: the timer case is chosen, not early. */
    start = csp_now();
    tm = csp_after(20 * MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tm);
    y = -1;
    tv = 0;
    k[0] = csp_case_recv(data, &y);
    k[1] = csp_case_recv(tm, &tv);
    r = csp_select(k, 2);
    CSP_ASSERT_EQ(r, 1);
    CSP_ASSERT_EQ(k[1].err, 0);
    CU_ASSERT(tv >= start + 20 * MS);
    CU_ASSERT(csp_now() >= start + 20 * MS);
    CSP_ASSERT_EQ(y, -1); /* the channel case did not happen */
    CSP_ASSERT_EQ(csp_len(data), 0);
    csp_chan_release(tm);
    csp_chan_release(data);

    /* The usual loop: values from a goroutine until it closes, with a
     * deadline timer that must not fire first. */
    data = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    sender_ctx s = { data, 5 };
    start = csp_now();
    csp_chan *deadline = csp_after(300 * MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deadline);
    CSP_ASSERT_EQ(csp_go(send_n_then_close, &s), 0);
    int got = 0, closed = 0, timed_out = 0;
    while (!closed && !timed_out) {
        int v = -1;
        csp_case c[2] = { csp_case_recv(data, &v), csp_case_recv(deadline, &tv) };
        r = csp_select(c, 2);
        if (r == 0 && c[0].err == 0) {
            CSP_ASSERT_EQ(v, got);
            got++;
        } else if (r == 0) {
            CSP_ASSERT_EQ(c[0].err, CSP_ECLOSED);
            closed = 1;
        } else {
            CSP_ASSERT_EQ(r, 1);
            CU_ASSERT(tv >= start + 300 * MS);
            timed_out = 1;
        }
    }
    if (closed) {
        CSP_ASSERT_EQ(got, 5);
        CSP_ASSERT_EQ(recv_within(deadline, &tv, 10 * CSP_SECOND, NULL), 0);
        CU_ASSERT(tv >= start + 300 * MS);
    } else if (csp_now() < start + 300 * MS) {
        CU_FAIL("the deadline timer fired early");
    }
    /* Drain the goroutine if the deadline won (a loaded machine). */
    while (csp_recv(data, NULL) == 0) {
    }
    csp_chan_release(deadline);
    csp_chan_release(data);
}

/* ------------------------------------------------------------------------
 * Huge durations, in children (a broken deadline computation could fire at
 * once, or spin the timer thread forever)
 * ------------------------------------------------------------------------ */

static void test_after_huge_not_early(void)
{
    csp_test_assert_child_ok(prog, "after_huge", NULL, 20000);
}

static void test_ticker_huge_not_early(void)
{
    csp_test_assert_child_ok(prog, "ticker_huge", NULL, 20000);
}

static const csp_test tests[] = {
    { "after_once_not_early", test_after_once_not_early },
    { "after_zero_and_negative", test_after_zero_and_negative },
    { "stats_count_pending_timers", test_stats_count_pending_timers },
    { "many_timers_one_thread", test_many_timers_one_thread },
    { "timer_order", test_timer_order },
    { "ticker_not_early", test_ticker_not_early },
    { "ticker_slow_receiver_misses_ticks", test_ticker_slow_receiver_misses_ticks },
    { "ticker_stop", test_ticker_stop },
    { "ticker_bad_period", test_ticker_bad_period },
    { "select_timer_and_channel", test_select_timer_and_channel },
    { "after_huge_not_early", test_after_huge_not_early },
    { "ticker_huge_not_early", test_ticker_huge_not_early },
    { NULL, NULL },
};

static const csp_test_child_mode child_modes[] = {
    { "after_huge", child_after_huge },
    { "ticker_huge", child_ticker_huge },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "timer", tests, child_modes, 60);
}
