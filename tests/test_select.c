/*
 * test_select.c - csp_select and its variants: only the chosen case happens,
 * NULL cases, empty selects, try and timeout, duplicate channels, closed
 * channels, uniform choice, wake-ups, lock ordering, the check-then-act race
 * (tylertreat/chan #26), argument errors, big selects and view builders.
 */
#include "harness.h"

#include <csp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TIMEOUT_SECONDS = 60, WAIT_MS = 10000, QUIET_MS = 50 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static int wait_zero(atomic_int *c)
{
    return csp_test_wait_until(csp_test_count_zero, c, 30000);
}

static csp_chan *mk(size_t elem, size_t cap)
{
    csp_chan *c = csp_chan_make(elem, cap);
    CU_ASSERT_PTR_NOT_NULL(c);
    if (!c)
        abort(); /* nothing sensible can follow */
    return c;
}

/* Receives everything buffered in ch into out (at most max); returns count. */
static int drain(csp_chan *ch, int *out, int max)
{
    int n = 0, v;
    while (n < max && csp_tryrecv(ch, &v) == 0)
        out[n++] = v;
    return n;
}

/* A goroutine running one select over static cases. */
typedef struct selector {
    csp_case cases[8];
    size_t n;
    int64_t timeout; /* < 0: csp_select */
    int rc;
    atomic_int done;
} selector;

static void selector_fn(void *p)
{
    selector *s = p;
    s->rc = s->timeout < 0 ? csp_select(s->cases, s->n) : csp_select_timeout(s->cases, s->n, s->timeout);
    atomic_store(&s->done, 1);
}

/* ------------------------------------------------------------------------
 * Only the chosen case happens
 * ------------------------------------------------------------------------ */

/* A recv case and a send case both ready: the result says which ran, and
 * the other case's channel is exactly as before (verified by draining). */
static void test_select_only_chosen_happens(void)
{
    csp_chan *a = mk(sizeof(int), 2), *b = mk(sizeof(int), 2);
    int seen[2] = { 0, 0 }, bad = 0;
    for (int it = 0; it < 400; it++) {
        int av = 1000 + it, got = -1, bv = 2000 + it;
        CSP_ASSERT_EQ(csp_send(a, &av), 0);
        csp_case cs[2] = { csp_case_recv(a, &got), csp_case_send(b, &bv) };
        cs[0].err = cs[1].err = 777;
        int rc = csp_select(cs, 2);
        int ra[4], rb[4];
        int na = drain(a, ra, 4), nb = drain(b, rb, 4);
        if (rc == 0) {
            seen[0]++;
            bad += got != av || cs[0].err != 0;
            bad += na != 0 || nb != 0; /* a consumed, nothing sent on b */
        } else if (rc == 1) {
            seen[1]++;
            bad += cs[1].err != 0 || got != -1;
            bad += na != 1 || (na == 1 && ra[0] != av); /* a untouched */
            bad += nb != 1 || (nb == 1 && rb[0] != bv); /* b got the value */
        } else {
            bad++;
        }
    }
    CSP_ASSERT_EQ(bad, 0);
    CU_ASSERT(seen[0] > 0);
    CU_ASSERT(seen[1] > 0);

    /* Only one case ready: it is the one chosen, every time. */
    for (int it = 0; it < 50; it++) {
        int got = -1, bv = 5;
        csp_case cs[2] = { csp_case_recv(a, &got), csp_case_send(b, &bv) };
        CSP_ASSERT_EQ(csp_select(cs, 2), 1); /* a empty: only the send can go */
        CSP_ASSERT_EQ(got, -1);
        int full = 6;
        CSP_ASSERT_EQ(csp_trysend(b, &full), 0); /* b now full */
        int av = 9;
        CSP_ASSERT_EQ(csp_trysend(a, &av), 0);
        CSP_ASSERT_EQ(csp_select(cs, 2), 0); /* b full: only the recv can go */
        CSP_ASSERT_EQ(got, 9);
        int rb[4];
        CSP_ASSERT_EQ(drain(b, rb, 4), 2);
        CSP_ASSERT_EQ(rb[0], 5);
        CSP_ASSERT_EQ(rb[1], 6);
    }
    csp_chan_release(a);
    csp_chan_release(b);
}

/* ------------------------------------------------------------------------
 * NULL cases and empty selects
 * ------------------------------------------------------------------------ */

static void test_null_cases_never_chosen(void)
{
    csp_chan *a = mk(sizeof(int), 1);
    int bad = 0;
    for (int it = 0; it < 300; it++) {
        int v = it, got = -1, x = 0;
        CSP_ASSERT_EQ(csp_trysend(a, &v), 0);
        csp_case cs[5] = {
            csp_case_recv((csp_chan *)NULL, &x), csp_case_send((csp_chan *)NULL, &x),
            csp_case_recv(a, &got), csp_case_recv(NULL, NULL), csp_case_send(NULL, &x),
        };
        int rc = it % 2 ? csp_select(cs, 5) : csp_select_try(cs, 5);
        bad += rc != 2 || got != it;
    }
    CSP_ASSERT_EQ(bad, 0);
    /* NULL cases plus a case that is not ready: nothing can proceed. */
    int x = 0;
    csp_case cs[3] = { csp_case_recv(NULL, &x), csp_case_recv(a, &x), csp_case_send(NULL, &x) };
    CSP_ASSERT_EQ(csp_select_try(cs, 3), CSP_EAGAIN);
    csp_chan_release(a);
}

/* A blocked select whose other cases are NULL wakes for its one live case. */
static void test_null_cases_blocked_select(void)
{
    static selector s;
    static int got, x;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *a = mk(sizeof(int), 0);
    got = -1;
    s.cases[0] = csp_case_send(NULL, &x);
    s.cases[1] = csp_case_recv(a, &got);
    s.cases[2] = csp_case_recv(NULL, &x);
    s.n = 3;
    s.timeout = -1;
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    int v = 31;
    CSP_ASSERT_EQ(csp_send(a, &v), 0);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 1);
    CSP_ASSERT_EQ(got, 31);
    csp_chan_release(a);
}

/* n = 0, or every case NULL: select_try is CSP_EAGAIN, select_timeout waits
 * out its time (not less) and returns CSP_ETIMEDOUT. */
static void test_empty_select(void)
{
    int x = 0;
    csp_case nulls[3] = { csp_case_recv(NULL, &x), csp_case_send(NULL, &x), csp_case_recv(NULL, NULL) };
    CSP_ASSERT_EQ(csp_select_try(NULL, 0), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_select_try(nulls, 0), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_select_try(nulls, 3), CSP_EAGAIN);

    const int64_t t = 30 * CSP_MILLISECOND;
    int64_t t0 = csp_now();
    CSP_ASSERT_EQ(csp_select_timeout(NULL, 0, t), CSP_ETIMEDOUT);
    int64_t t1 = csp_now();
    CU_ASSERT(t1 - t0 >= t);
    CSP_ASSERT_EQ(csp_select_timeout(nulls, 3, t), CSP_ETIMEDOUT);
    int64_t t2 = csp_now();
    CU_ASSERT(t2 - t1 >= t);
    CSP_ASSERT_EQ(csp_select_timeout(nulls, 3, 0), CSP_ETIMEDOUT);
    CSP_ASSERT_EQ(x, 0);
}

/* ------------------------------------------------------------------------
 * select_try and select_timeout
 * ------------------------------------------------------------------------ */

static void test_select_try_ready_and_not(void)
{
    static selector s;
    static int sv;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *b = mk(sizeof(int), 1), *u = mk(sizeof(int), 0);
    int got = -1, v = 4;

    /* Not ready: empty buffered recv, unbuffered send and recv with no
     * partner. Nothing happens. */
    csp_case cs[3] = { csp_case_recv(b, &got), csp_case_send(u, &v), csp_case_recv(u, &got) };
    CSP_ASSERT_EQ(csp_select_try(cs, 3), CSP_EAGAIN);
    CSP_ASSERT_EQ(got, -1);
    CSP_ASSERT_EQ(csp_len(b), 0);
    CSP_ASSERT_EQ(csp_tryrecv(u, &got), CSP_EAGAIN); /* the send was not left pending */

    /* Full buffered channel: a send case is not ready. */
    CSP_ASSERT_EQ(csp_trysend(b, &v), 0);
    int w = 5;
    csp_case full[1] = { csp_case_send(b, &w) };
    CSP_ASSERT_EQ(csp_select_try(full, 1), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(b), 1);

    /* Ready recv. */
    CSP_ASSERT_EQ(csp_select_try(cs, 3), 0);
    CSP_ASSERT_EQ(got, 4);

    /* A sender blocked on the unbuffered channel makes a recv case ready. */
    sv = 66;
    s.cases[0] = csp_case_send(u, &sv);
    s.n = 1;
    s.timeout = -1;
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    got = -1;
    csp_case r1[2] = { csp_case_recv(b, &w), csp_case_recv(u, &got) };
    CSP_ASSERT_EQ(csp_select_try(r1, 2), 1);
    CSP_ASSERT_EQ(got, 66);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 0);

    /* A receiver blocked on it makes a send case ready. */
    sv = -1;
    s.cases[0] = csp_case_recv(u, &sv);
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    v = 77;
    csp_case s1[2] = { csp_case_recv(b, &w), csp_case_send(u, &v) };
    CSP_ASSERT_EQ(csp_select_try(s1, 2), 1);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 0);
    CSP_ASSERT_EQ(sv, 77);
    csp_chan_release(b);
    csp_chan_release(u);
}

static void test_select_timeout_expires(void)
{
    csp_chan *u = mk(sizeof(int), 0), *b = mk(sizeof(int), 1);
    int v = 3, got = -1, full = 1;
    CSP_ASSERT_EQ(csp_trysend(b, &full), 0);
    const int64_t t = 40 * CSP_MILLISECOND;
    csp_case cs[3] = { csp_case_send(u, &v), csp_case_recv(u, &got), csp_case_send(b, &v) };
    int64_t t0 = csp_now();
    CSP_ASSERT_EQ(csp_select_timeout(cs, 3, t), CSP_ETIMEDOUT);
    int64_t t1 = csp_now();
    CU_ASSERT(t1 - t0 >= t); /* never before its time */
    CSP_ASSERT_EQ(got, -1);
    /* Nothing was left behind: no pending send on u, b unchanged. */
    CSP_ASSERT_EQ(csp_tryrecv(u, &got), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_trysend(u, &v), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(b), 1);
    /* Zero and negative timeouts poll once. */
    CSP_ASSERT_EQ(csp_select_timeout(cs, 3, 0), CSP_ETIMEDOUT);
    CSP_ASSERT_EQ(csp_select_timeout(cs, 3, -5), CSP_ETIMEDOUT);
    csp_case rb[1] = { csp_case_recv(b, &got) };
    CSP_ASSERT_EQ(csp_select_timeout(rb, 1, 0), 0);
    CSP_ASSERT_EQ(got, 1);
    csp_chan_release(u);
    csp_chan_release(b);
}

/* A case that becomes ready before the deadline is returned, not a timeout. */
static void test_select_timeout_case_ready_in_time(void)
{
    static selector s;
    static int got;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *a = mk(sizeof(int), 0), *c = mk(sizeof(int), 0);
    got = -1;
    s.cases[0] = csp_case_recv(c, &got);
    s.cases[1] = csp_case_recv(a, &got);
    s.n = 2;
    s.timeout = 20 * CSP_SECOND; /* far beyond the test's own time */
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    int v = 8;
    CSP_ASSERT_EQ(csp_send(a, &v), 0);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 1);
    CSP_ASSERT_EQ(got, 8);

    /* The same, woken by a close. */
    got = -1;
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CSP_ASSERT_EQ(csp_close(c), 0);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 0);
    CSP_ASSERT_EQ(s.cases[0].err, CSP_ECLOSED);
    CSP_ASSERT_EQ(got, 0);

    /* A case already ready when a long timed select starts returns at once. */
    csp_chan *d = mk(sizeof(int), 1);
    got = -1;
    csp_case cs[1] = { csp_case_recv(d, &got) };
    v = 12;
    CSP_ASSERT_EQ(csp_send(d, &v), 0);
    CSP_ASSERT_EQ(csp_select_timeout(cs, 1, 20 * CSP_SECOND), 0);
    CSP_ASSERT_EQ(got, 12);
    csp_chan_release(a);
    csp_chan_release(c);
    csp_chan_release(d);
}

/* A huge timeout is not a timeout in the past: the select waits for its
 * case (no overflow of now + ns). */
static void test_select_timeout_huge(void)
{
    static selector s;
    static int got;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *a = mk(sizeof(int), 0);
    got = -1;
    s.cases[0] = csp_case_recv(a, &got);
    s.n = 1;
    s.timeout = INT64_MAX;
    atomic_store(&s.done, 0);
    CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_until(csp_test_flag_set, &s.done, QUIET_MS));
    int v = 4;
    CSP_ASSERT_EQ(csp_send(a, &v), 0);
    CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
    CSP_ASSERT_EQ(s.rc, 0);
    CSP_ASSERT_EQ(got, 4);
    /* Ready at once: returned at once. */
    csp_chan *b = mk(sizeof(int), 1);
    CSP_ASSERT_EQ(csp_trysend(b, &v), 0);
    csp_case cs[1] = { csp_case_recv(b, &got) };
    got = -1;
    CSP_ASSERT_EQ(csp_select_timeout(cs, 1, INT64_MAX), 0);
    CSP_ASSERT_EQ(got, 4);
    csp_chan_release(a);
    csp_chan_release(b);
}

/* ------------------------------------------------------------------------
 * Duplicate channels
 * ------------------------------------------------------------------------ */

/* Send and receive cases on the same buffered channel, several of each. */
static void test_duplicate_channel_buffered(void)
{
    csp_chan *ch = mk(sizeof(int), 4);
    int counts[4] = { 0 }, bad = 0;
    for (int it = 0; it < 800; it++) {
        int a = 10 * it + 1, b = 10 * it + 2, s0 = 10 * it + 5, s3 = 10 * it + 6, r1 = -1, r2 = -1;
        CSP_ASSERT_EQ(csp_trysend(ch, &a), 0);
        CSP_ASSERT_EQ(csp_trysend(ch, &b), 0);
        csp_case cs[4] = { csp_case_send(ch, &s0), csp_case_recv(ch, &r1), csp_case_recv(ch, &r2),
                           csp_case_send(ch, &s3) };
        int rc = csp_select(cs, 4);
        int out[8];
        int n = drain(ch, out, 8);
        switch (rc) {
        case 0:
        case 3:
            bad += r1 != -1 || r2 != -1 || n != 3 || out[0] != a || out[1] != b;
            bad += n == 3 && out[2] != (rc == 0 ? s0 : s3);
            break;
        case 1:
        case 2:
            bad += (rc == 1 ? r1 : r2) != a || (rc == 1 ? r2 : r1) != -1 || n != 1 || out[0] != b;
            break;
        default:
            bad++;
            continue;
        }
        counts[rc]++;
    }
    CSP_ASSERT_EQ(bad, 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT(counts[i] > 0);
    csp_chan_release(ch);
}

/* Send and receive on the same unbuffered channel in one select: it cannot
 * match itself, so it blocks until a partner comes, in either direction. */
static void test_duplicate_channel_unbuffered(void)
{
    static selector s;
    static int sv, rv;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *u = mk(sizeof(int), 0);
    for (int round = 0; round < 2; round++) {
        sv = 50 + round;
        rv = -1;
        s.cases[0] = csp_case_send(u, &sv);
        s.cases[1] = csp_case_recv(u, &rv);
        s.cases[2] = csp_case_send(u, &sv);
        s.n = 3;
        s.timeout = -1;
        atomic_store(&s.done, 0);
        CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
        CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
        CU_ASSERT(!csp_test_wait_until(csp_test_flag_set, &s.done, QUIET_MS));
        int v = -1;
        if (round == 0) {
            CSP_ASSERT_EQ(csp_recv(u, &v), 0);
            CSP_ASSERT_EQ(v, 50);
            CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
            CU_ASSERT(s.rc == 0 || s.rc == 2);
            CSP_ASSERT_EQ(rv, -1);
        } else {
            v = 99;
            CSP_ASSERT_EQ(csp_send(u, &v), 0);
            CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
            CSP_ASSERT_EQ(s.rc, 1);
            CSP_ASSERT_EQ(rv, 99);
        }
        /* The other waiters of that select were withdrawn. */
        CSP_ASSERT_EQ(csp_tryrecv(u, &v), CSP_EAGAIN);
        CSP_ASSERT_EQ(csp_trysend(u, &v), CSP_EAGAIN);
    }
    csp_chan_release(u);
}

/* ------------------------------------------------------------------------
 * Closed channels
 * ------------------------------------------------------------------------ */

static void test_closed_channel_cases(void)
{
    csp_chan *c = mk(sizeof(uint64_t), 2), *open = mk(sizeof(uint64_t), 0);
    CSP_ASSERT_EQ(csp_close(c), 0);
    for (int it = 0; it < 20; it++) {
        uint64_t got = 0xAAAAAAAAAAAAAAAAull, o = 5;
        csp_case cs[2] = { csp_case_recv(open, &o), csp_case_recv(c, &got) };
        int rc = it % 2 ? csp_select(cs, 2) : csp_select_try(cs, 2);
        CSP_ASSERT_EQ(rc, 1);
        CSP_ASSERT_EQ(cs[1].err, CSP_ECLOSED);
        CU_ASSERT(got == 0); /* zero-filled */
        CSP_ASSERT_EQ(o, 5);
    }
    for (int it = 0; it < 20; it++) {
        uint64_t v = 7, o = 5;
        csp_case cs[2] = { csp_case_recv(open, &o), csp_case_send(c, &v) };
        int rc = it % 2 ? csp_select(cs, 2) : csp_select_timeout(cs, 2, CSP_SECOND);
        CSP_ASSERT_EQ(rc, 1);
        CSP_ASSERT_EQ(cs[1].err, CSP_ECLOSED);
    }
    CSP_ASSERT_EQ(csp_len(c), 0); /* nothing was sent */

    /* A closed channel with buffered values: they come first, err 0. */
    csp_chan *d = mk(sizeof(uint64_t), 2);
    uint64_t one = 1, got = 9;
    CSP_ASSERT_EQ(csp_send(d, &one), 0);
    CSP_ASSERT_EQ(csp_close(d), 0);
    csp_case cs[2] = { csp_case_send(d, &one), csp_case_recv(d, &got) };
    int rc = csp_select(cs, 2);
    CU_ASSERT(rc == 0 || rc == 1);
    if (rc == 0) {
        CSP_ASSERT_EQ(cs[0].err, CSP_ECLOSED);
        CSP_ASSERT_EQ(csp_len(d), 1);
    } else {
        CSP_ASSERT_EQ(cs[1].err, 0);
        CU_ASSERT(got == 1);
    }
    csp_case r[1] = { csp_case_recv(d, &got) };
    if (rc == 0) {
        CSP_ASSERT_EQ(csp_select(r, 1), 0);
        CSP_ASSERT_EQ(r[0].err, 0);
        CU_ASSERT(got == 1);
    }
    got = 9;
    CSP_ASSERT_EQ(csp_select(r, 1), 0);
    CSP_ASSERT_EQ(r[0].err, CSP_ECLOSED);
    CU_ASSERT(got == 0);
    csp_chan_release(c);
    csp_chan_release(open);
    csp_chan_release(d);
}

/* ------------------------------------------------------------------------
 * Uniform random choice
 * ------------------------------------------------------------------------ */

static void test_uniform_choice(void)
{
    enum { K = 4, N = 30000 };
    csp_chan *ch[K];
    int counts[K] = { 0 }, bad = 0, zero = 0;
    for (int i = 0; i < K; i++)
        ch[i] = mk(sizeof(int), 2);
    /* Receive cases on 0..2 (kept non-empty), a send case on 3 (kept with
     * room), and a NULL case that must never be chosen. */
    for (int i = 0; i < 3; i++) {
        CSP_ASSERT_EQ(csp_trysend(ch[i], &i), 0);
        CSP_ASSERT_EQ(csp_trysend(ch[i], &i), 0);
    }
    int r[3], sv = 3;
    csp_case cs[K + 1] = { csp_case_recv(ch[0], &r[0]), csp_case_recv(ch[1], &r[1]),
                           csp_case_recv(NULL, &zero), csp_case_recv(ch[2], &r[2]),
                           csp_case_send(ch[3], &sv) };
    static const int chan_of[K + 1] = { 0, 1, -1, 2, 3 };
    for (int it = 0; it < N; it++) {
        int rc = csp_select(cs, K + 1);
        if (rc < 0 || rc > K || chan_of[rc] < 0) {
            bad++;
            continue;
        }
        int c = chan_of[rc];
        counts[c]++;
        int v;
        if (c < 3)
            bad += r[c] != c || csp_trysend(ch[c], &c) != 0; /* refill */
        else
            bad += csp_tryrecv(ch[3], &v) != 0 || v != 3;    /* make room */
    }
    CSP_ASSERT_EQ(bad, 0);
    const int expect = N / K, slack = expect * 15 / 100;
    for (int i = 0; i < K; i++) {
        if (counts[i] < expect - slack || counts[i] > expect + slack)
            fprintf(stderr, "case on channel %d chosen %d times of %d (expected %d +- %d)\n", i, counts[i],
                    N, expect, slack);
        CU_ASSERT(counts[i] >= expect - slack && counts[i] <= expect + slack);
    }
    for (int i = 0; i < K; i++)
        csp_chan_release(ch[i]);
}

/* ------------------------------------------------------------------------
 * Blocked select woken by a later operation on any of its channels
 * ------------------------------------------------------------------------ */

static void test_blocked_select_woken(void)
{
    static selector s;
    static int ra, rb, sc;
    csp_test_wait_quiet(WAIT_MS);
    for (int variant = 0; variant < 4; variant++) {
        csp_chan *a = mk(sizeof(int), 0), *b = mk(sizeof(int), 0), *c = mk(sizeof(int), 0);
        ra = rb = -1;
        sc = 300 + variant;
        s.cases[0] = csp_case_recv(a, &ra);
        s.cases[1] = csp_case_recv(b, &rb);
        s.cases[2] = csp_case_send(c, &sc);
        s.n = 3;
        s.timeout = variant == 3 ? 20 * CSP_SECOND : -1;
        for (int i = 0; i < 3; i++)
            s.cases[i].err = 777;
        atomic_store(&s.done, 0);
        CSP_ASSERT_EQ(csp_go(selector_fn, &s), 0);
        CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
        CU_ASSERT(!csp_test_wait_until(csp_test_flag_set, &s.done, QUIET_MS));
        int v = 200 + variant, want;
        switch (variant) {
        case 0: /* a send on b */
            CSP_ASSERT_EQ(csp_send(b, &v), 0);
            want = 1;
            break;
        case 1: /* a receive on c */
        case 3:
            CSP_ASSERT_EQ(csp_recv(c, &v), 0);
            CSP_ASSERT_EQ(v, sc);
            want = 2;
            break;
        default: /* a close of a */
            CSP_ASSERT_EQ(csp_close(a), 0);
            want = 0;
            break;
        }
        CU_ASSERT(csp_test_wait_flag(&s.done, WAIT_MS));
        CSP_ASSERT_EQ(s.rc, want);
        if (s.rc >= 0 && s.rc < 3)
            CSP_ASSERT_EQ(s.cases[s.rc].err, variant == 2 ? CSP_ECLOSED : 0);
        CSP_ASSERT_EQ(ra, variant == 2 ? 0 : -1);
        CSP_ASSERT_EQ(rb, variant == 0 ? 200 : -1);
        /* The select's other waiters are gone: nobody takes these. */
        int x = 1;
        if (variant != 2)
            CSP_ASSERT_EQ(csp_trysend(a, &x), CSP_EAGAIN);
        CSP_ASSERT_EQ(csp_trysend(b, &x), CSP_EAGAIN);
        CSP_ASSERT_EQ(csp_tryrecv(c, &x), CSP_EAGAIN);
        csp_chan_release(a);
        csp_chan_release(b);
        csp_chan_release(c);
    }
}

/* ------------------------------------------------------------------------
 * Lock ordering: two selects over the same channels in opposite orders
 * ------------------------------------------------------------------------ */

typedef struct crossed {
    csp_chan *a, *b, *done;
    int iters;
    atomic_long sent_a, recv_a, sent_b, recv_b; /* by everyone */
    atomic_long x_done, y_done;                 /* selects completed by X and Y */
    atomic_int running;
    atomic_int bad;
} crossed;

/* Counts one completed case. Values on a are odd, on b even. */
static void crossed_count(crossed *c, int rc, const csp_case *cs)
{
    if (rc < 0 || cs[rc].err != 0) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    int v = *(int *)cs[rc].val;
    int on_a = cs[rc].ch == c->a;
    if (v % 2 != (on_a ? 1 : 0))
        atomic_fetch_add(&c->bad, 1);
    if (cs[rc].op == CSP_OP_SEND)
        atomic_fetch_add(on_a ? &c->sent_a : &c->sent_b, 1);
    else
        atomic_fetch_add(on_a ? &c->recv_a : &c->recv_b, 1);
}

static void crossed_x(void *p) /* [send a, recv b] */
{
    crossed *c = p;
    for (int i = 0; i < c->iters; i++) {
        int v = 1, w = -1; /* -1: no parity, so an unwritten receive is caught */
        csp_case cs[2] = { csp_case_send(c->a, &v), csp_case_recv(c->b, &w) };
        crossed_count(c, csp_select(cs, 2), cs);
        atomic_fetch_add(&c->x_done, 1);
    }
    atomic_fetch_sub(&c->running, 1);
}

static void crossed_y(void *p) /* [send b, recv a]: the channels in the opposite order */
{
    crossed *c = p;
    for (int i = 0; i < c->iters; i++) {
        int v = 2, w = -1;
        csp_case cs[2] = { csp_case_send(c->b, &v), csp_case_recv(c->a, &w) };
        crossed_count(c, csp_select(cs, 2), cs);
        atomic_fetch_add(&c->y_done, 1);
    }
    atomic_fetch_sub(&c->running, 1);
}

/* A partner serves both directions of both channels until done is closed,
 * so neither X nor Y is stranded when the other finishes first. */
static void crossed_partner(void *p)
{
    crossed *c = p;
    for (unsigned i = 0;; i++) {
        int ra = -1, rb = -1, sa = 3, sb = 4;
        csp_case cs[5] = { csp_case_recv(c->done, NULL), csp_case_recv(c->b, &rb), csp_case_send(c->a, &sa),
                           csp_case_recv(c->a, &ra), csp_case_send(c->b, &sb) };
        int rc = i % 3 ? csp_select(cs, 5) : csp_select_timeout(cs, 5, CSP_MILLISECOND);
        if (rc == 0)
            break;
        if (rc != CSP_ETIMEDOUT)
            crossed_count(c, rc, cs);
    }
    atomic_fetch_sub(&c->running, 1);
}

static int cond_xy_finished(void *ctx)
{
    crossed *c = ctx;
    return atomic_load(&c->running) <= 2; /* only the two partners left */
}

static void test_opposite_order_no_deadlock(void)
{
    static crossed c;
    c.a = mk(sizeof(int), 0);
    c.b = mk(sizeof(int), 0);
    c.done = mk(0, 0);
    c.iters = UNDER_TSAN ? 1500 : 5000;
    atomic_store(&c.sent_a, 0);
    atomic_store(&c.recv_a, 0);
    atomic_store(&c.sent_b, 0);
    atomic_store(&c.recv_b, 0);
    atomic_store(&c.x_done, 0);
    atomic_store(&c.y_done, 0);
    atomic_store(&c.bad, 0);
    atomic_store(&c.running, 4);
    CSP_ASSERT_EQ(csp_go(crossed_x, &c), 0);
    CSP_ASSERT_EQ(csp_go(crossed_y, &c), 0);
    CSP_ASSERT_EQ(csp_go(crossed_partner, &c), 0);
    CSP_ASSERT_EQ(csp_go(crossed_partner, &c), 0);
    /* X and Y finish by themselves (they can always pair with each other);
     * then the partners are released by closing done. */
    int xy_finished = csp_test_wait_until(cond_xy_finished, &c, 30000);
    CU_ASSERT(xy_finished);
    if (!xy_finished) {
        fprintf(stderr, "opposite-order selects stuck:\n");
        csp_dump(stderr);
        return; /* goroutines still use c */
    }
    CSP_ASSERT_EQ(csp_close(c.done), 0);
    CU_ASSERT(wait_zero(&c.running));
    CSP_ASSERT_EQ(atomic_load(&c.bad), 0);
    /* Every value sent on a channel was received exactly once. */
    CSP_ASSERT_EQ(atomic_load(&c.sent_a), atomic_load(&c.recv_a));
    CSP_ASSERT_EQ(atomic_load(&c.sent_b), atomic_load(&c.recv_b));
    CSP_ASSERT_EQ(atomic_load(&c.x_done), c.iters);
    CSP_ASSERT_EQ(atomic_load(&c.y_done), c.iters);
    csp_chan_release(c.a);
    csp_chan_release(c.b);
    csp_chan_release(c.done);
}

/* ------------------------------------------------------------------------
 * Check-then-act (tylertreat/chan #26): selects and tryrecvs competing for
 * the same values; each value is received exactly once and none is lost.
 * ------------------------------------------------------------------------ */

enum { CTA_CHANS = 4, CTA_PRODUCERS = 3, CTA_CONSUMERS = 6 };

typedef struct cta {
    csp_chan *ch[CTA_CHANS];
    int per_producer;
    int total;
    atomic_int received;      /* values taken so far */
    atomic_uchar *seen;       /* per value: times received */
    atomic_int bad;
    atomic_int running;
} cta;

typedef struct cta_arg {
    cta *c;
    int idx;
} cta_arg;

static void cta_producer(void *p)
{
    cta_arg *a = p;
    cta *c = a->c;
    uint32_t rng = 0x9E3779B9u * (uint32_t)(a->idx + 1);
    for (int i = 0; i < c->per_producer; i++) {
        int v = a->idx * c->per_producer + i;
        if (csp_test_xorshift(&rng) % 2) {
            if (csp_send(c->ch[csp_test_xorshift(&rng) % CTA_CHANS], &v) != 0)
                atomic_fetch_add(&c->bad, 1);
        } else {
            csp_case cs[CTA_CHANS];
            for (int k = 0; k < CTA_CHANS; k++)
                cs[k] = csp_case_send(c->ch[k], &v);
            if (csp_select(cs, CTA_CHANS) < 0)
                atomic_fetch_add(&c->bad, 1);
        }
    }
    atomic_fetch_sub(&c->running, 1);
}

static void cta_take(cta *c, int v)
{
    if (v < 0 || v >= c->total) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    if (atomic_fetch_add(&c->seen[v], 1) != 0)
        atomic_fetch_add(&c->bad, 1);
    atomic_fetch_add(&c->received, 1);
}

static void cta_consumer(void *p)
{
    cta_arg *a = p;
    cta *c = a->c;
    uint32_t rng = 0x85EBCA6Bu * (uint32_t)(a->idx + 7);
    while (atomic_load(&c->received) < c->total) {
        int v = -1;
        unsigned op = csp_test_xorshift(&rng) % 3;
        if (op == 0) {
            int rc = csp_tryrecv(c->ch[csp_test_xorshift(&rng) % CTA_CHANS], &v);
            if (rc == 0)
                cta_take(c, v);
            else if (rc != CSP_EAGAIN)
                atomic_fetch_add(&c->bad, 1);
        } else {
            int vals[CTA_CHANS];
            csp_case cs[CTA_CHANS];
            for (int k = 0; k < CTA_CHANS; k++) {
                vals[k] = -1;
                cs[k] = csp_case_recv(c->ch[k], &vals[k]);
            }
            int rc = op == 1 ? csp_select_try(cs, CTA_CHANS) : csp_select_timeout(cs, CTA_CHANS, CSP_MILLISECOND);
            if (rc >= 0 && rc < CTA_CHANS) {
                for (int k = 0; k < CTA_CHANS; k++)
                    if (k != rc && vals[k] != -1)
                        atomic_fetch_add(&c->bad, 1); /* another case happened too */
                cta_take(c, vals[rc]);
            } else if (rc != CSP_EAGAIN && rc != CSP_ETIMEDOUT) {
                atomic_fetch_add(&c->bad, 1);
            } else {
                sched_yield();
            }
        }
    }
    atomic_fetch_sub(&c->running, 1);
}

static void test_check_then_act_race(void)
{
    static cta c;
    static cta_arg args[CTA_PRODUCERS + CTA_CONSUMERS];
    static const size_t caps[CTA_CHANS] = { 0, 1, 4, 0 };
    for (int k = 0; k < CTA_CHANS; k++)
        c.ch[k] = mk(sizeof(int), caps[k]);
    c.per_producer = UNDER_TSAN ? 800 : 3000;
    c.total = c.per_producer * CTA_PRODUCERS;
    c.seen = calloc((size_t)c.total, sizeof *c.seen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.seen);
    atomic_store(&c.received, 0);
    atomic_store(&c.bad, 0);
    atomic_store(&c.running, CTA_PRODUCERS + CTA_CONSUMERS);
    for (int i = 0; i < CTA_PRODUCERS + CTA_CONSUMERS; i++) {
        args[i].c = &c;
        args[i].idx = i < CTA_PRODUCERS ? i : i - CTA_PRODUCERS;
        int rc = csp_go(i < CTA_PRODUCERS ? cta_producer : cta_consumer, &args[i]);
        CSP_ASSERT_EQ(rc, 0);
        if (rc != 0)
            atomic_fetch_sub(&c.running, 1);
    }
    int finished = wait_zero(&c.running);
    CU_ASSERT(finished);
    if (!finished) {
        fprintf(stderr, "check-then-act: received %d of %d\n", atomic_load(&c.received), c.total);
        csp_dump(stderr);
        return; /* goroutines still use c */
    }
    CSP_ASSERT_EQ(atomic_load(&c.bad), 0);
    CSP_ASSERT_EQ(atomic_load(&c.received), c.total);
    int missing = 0;
    for (int i = 0; i < c.total; i++)
        missing += atomic_load(&c.seen[i]) != 1;
    CSP_ASSERT_EQ(missing, 0);
    for (int k = 0; k < CTA_CHANS; k++) {
        CSP_ASSERT_EQ(csp_len(c.ch[k]), 0);
        csp_chan_release(c.ch[k]);
    }
    free(c.seen);
}

/* ------------------------------------------------------------------------
 * Argument errors
 * ------------------------------------------------------------------------ */

static void test_invalid_arguments(void)
{
    csp_chan *ch = mk(sizeof(int), 2);
    int v = 1, got = -1;
    CSP_ASSERT_EQ(csp_trysend(ch, &v), 0); /* a ready recv case comes first */
    static const int bad_ops[] = { 0, 3, -1, CSP_OP_SEND | CSP_OP_RECV, 42 };
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        csp_case cs[3] = { csp_case_recv(ch, &got), csp_case_send(ch, &v), csp_case_recv(ch, &got) };
        cs[1].op = bad_ops[i];
        CSP_ASSERT_EQ(csp_select(cs, 3), CSP_EINVAL);
        CSP_ASSERT_EQ(csp_select_try(cs, 3), CSP_EINVAL);
        CSP_ASSERT_EQ(csp_select_timeout(cs, 3, CSP_MILLISECOND), CSP_EINVAL);
        CSP_ASSERT_EQ(csp_select_timeout(cs, 3, 0), CSP_EINVAL);
    }
    /* Nothing happened: the value is still there, got untouched. */
    CSP_ASSERT_EQ(got, -1);
    CSP_ASSERT_EQ(csp_len(ch), 1);
    /* cases == NULL with n > 0. */
    CSP_ASSERT_EQ(csp_select(NULL, 1), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_select_try(NULL, 2), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_select_timeout(NULL, 3, CSP_MILLISECOND), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_select_timeout(NULL, 3, 0), CSP_EINVAL);
    csp_chan_release(ch);
}

/* ------------------------------------------------------------------------
 * More cases than fit on the stack
 * ------------------------------------------------------------------------ */

enum { BIG = 40 };

typedef struct bigsel {
    csp_case cases[BIG];
    int vals[BIG];
    int rc;
    atomic_int done;
} bigsel;

static void bigsel_fn(void *p)
{
    bigsel *b = p;
    b->rc = csp_select(b->cases, BIG);
    atomic_store(&b->done, 1);
}

static void test_many_cases(void)
{
    static bigsel bs;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch[BIG];
    for (int i = 0; i < BIG; i++)
        ch[i] = mk(sizeof(int), 1);

    /* None ready. */
    csp_case cs[BIG];
    int vals[BIG];
    for (int i = 0; i < BIG; i++) {
        vals[i] = -1;
        cs[i] = csp_case_recv(ch[i], &vals[i]);
    }
    CSP_ASSERT_EQ(csp_select_try(cs, BIG), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_select_timeout(cs, BIG, CSP_MILLISECOND), CSP_ETIMEDOUT);

    /* One ready, deep in the list. */
    int v = 23;
    CSP_ASSERT_EQ(csp_trysend(ch[23], &v), 0);
    CSP_ASSERT_EQ(csp_select(cs, BIG), 23);
    CSP_ASSERT_EQ(vals[23], 23);

    /* Blocked with 40 waiters; woken by one of them; the rest withdrawn. */
    csp_chan *u[BIG];
    for (int i = 0; i < BIG; i++) {
        u[i] = mk(sizeof(int), 0);
        bs.vals[i] = -1;
        bs.cases[i] = i % 2 ? csp_case_recv(u[i], &bs.vals[i]) : csp_case_send(u[i], &bs.vals[i]);
    }
    bs.vals[30] = 3030; /* what case 30 (a send) would send */
    atomic_store(&bs.done, 0);
    CSP_ASSERT_EQ(csp_go(bigsel_fn, &bs), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    v = 3131;
    CSP_ASSERT_EQ(csp_send(u[31], &v), 0);
    CU_ASSERT(csp_test_wait_flag(&bs.done, WAIT_MS));
    CSP_ASSERT_EQ(bs.rc, 31);
    CSP_ASSERT_EQ(bs.vals[31], 3131);
    int x = 0, stray = 0;
    for (int i = 0; i < BIG; i++)
        stray += (i % 2 ? csp_trysend(u[i], &x) : csp_tryrecv(u[i], &x)) != CSP_EAGAIN;
    CSP_ASSERT_EQ(stray, 0);

    /* 40 cases over only two channels, in both directions. */
    csp_chan *p = mk(sizeof(int), 1), *q = mk(sizeof(int), 1);
    int pv = 5, qv[BIG];
    for (int i = 0; i < BIG; i++) {
        qv[i] = -1;
        cs[i] = i % 2 ? csp_case_recv(i % 4 == 1 ? p : q, &qv[i]) : csp_case_send(i % 4 == 0 ? p : q, &pv);
    }
    CSP_ASSERT_EQ(csp_trysend(q, &pv), 0); /* q full: only sends on p, recvs on q */
    int rc = csp_select(cs, BIG);
    CU_ASSERT(rc >= 0 && ((rc % 4 == 0) || (rc % 4 == 3)));
    /* A send on p leaves both full; a receive on q leaves both empty. */
    CSP_ASSERT_EQ(csp_len(p), rc % 4 == 0);
    CSP_ASSERT_EQ(csp_len(q), rc % 4 == 0);
    for (int i = 0; i < BIG; i++) {
        csp_chan_release(ch[i]);
        csp_chan_release(u[i]);
    }
    csp_chan_release(p);
    csp_chan_release(q);
}

/* ------------------------------------------------------------------------
 * Case builders with views
 * ------------------------------------------------------------------------ */

static void test_case_builders_with_views(void)
{
    csp_chan *ch = mk(sizeof(int), 1);
    csp_send_chan sv = csp_send_only(ch);
    csp_recv_chan rv = csp_recv_only(ch);
    int v = 17, got = -1;
    csp_case s = csp_case_send(sv, &v);
    csp_case r = csp_case_recv(rv, &got);
    CU_ASSERT_PTR_EQUAL(s.ch, ch);
    CSP_ASSERT_EQ(s.op, CSP_OP_SEND);
    CU_ASSERT_PTR_EQUAL(s.val, &v);
    CSP_ASSERT_EQ(s.err, 0);
    CU_ASSERT_PTR_EQUAL(r.ch, ch);
    CSP_ASSERT_EQ(r.op, CSP_OP_RECV);
    CU_ASSERT_PTR_EQUAL(r.val, &got);
    csp_case plain_s = csp_case_send(ch, &v), plain_r = csp_case_recv(ch, &got);
    CU_ASSERT(plain_s.ch == ch && plain_s.op == CSP_OP_SEND && plain_s.val == &v);
    CU_ASSERT(plain_r.ch == ch && plain_r.op == CSP_OP_RECV && plain_r.val == &got);

    csp_case cs[2] = { r, s };
    CSP_ASSERT_EQ(csp_select(cs, 2), 1); /* empty: only the send */
    CSP_ASSERT_EQ(csp_select(cs, 2), 0); /* full: only the recv */
    CSP_ASSERT_EQ(got, 17);
    csp_chan_release(ch);
}

/* ------------------------------------------------------------------------ */

static const csp_test tests[] = {
    { "select_only_chosen_happens", test_select_only_chosen_happens },
    { "null_cases_never_chosen", test_null_cases_never_chosen },
    { "null_cases_blocked_select", test_null_cases_blocked_select },
    { "empty_select", test_empty_select },
    { "select_try_ready_and_not", test_select_try_ready_and_not },
    { "select_timeout_expires", test_select_timeout_expires },
    { "select_timeout_case_ready_in_time", test_select_timeout_case_ready_in_time },
    { "select_timeout_huge", test_select_timeout_huge },
    { "duplicate_channel_buffered", test_duplicate_channel_buffered },
    { "duplicate_channel_unbuffered", test_duplicate_channel_unbuffered },
    { "closed_channel_cases", test_closed_channel_cases },
    { "uniform_choice", test_uniform_choice },
    { "blocked_select_woken", test_blocked_select_woken },
    { "opposite_order_no_deadlock", test_opposite_order_no_deadlock },
    { "check_then_act_race", test_check_then_act_race },
    { "invalid_arguments", test_invalid_arguments },
    { "many_cases", test_many_cases },
    { "case_builders_with_views", test_case_builders_with_views },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "select", tests, NULL, TIMEOUT_SECONDS);
}
