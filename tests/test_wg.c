/*
 * test_wg.c - wait groups.
 *
 * Clauses (API.md, "Wait groups" and "Memory model"): csp_wg_wait returns at
 * once when the counter is zero and otherwise blocks until it is; every
 * waiter is released; csp_wg_done happens before the wait it releases
 * returns; csp_wg_add that would make the counter negative is CSP_EINVAL and
 * changes nothing; the counter may go up and down by any delta and be reused
 * after reaching zero; a NULL wait group is CSP_EINVAL.
 *
 * "Still blocked" is shown two ways: csp_stats_get() counts the waiter as
 * blocked, and its "returned" flag stays clear for a bounded wait.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <csp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS CSP_MILLISECOND

static int blocked_at_most(void *p)
{
    return csp_test_stats().blocked <= *(size_t *)p;
}

typedef struct reach {
    atomic_int *v;
    int want;
} reach;

static int int_reaches(void *p)
{
    reach *c = p;
    return atomic_load(c->v) >= c->want;
}

typedef struct bounded_wait {
    csp_wg *wg;
    atomic_int returned;
} bounded_wait;

static void bounded_wait_fn(void *p)
{
    bounded_wait *b = p;
    csp_wg_wait(b->wg);
    atomic_store(&b->returned, 1); /* the last touch of b */
}

/* csp_wg_wait(wg), done by a goroutine so that a wait that never returns
 * fails the test instead of hanging the program: true if it returned within
 * ms. (Its record is leaked when it does not, as the goroutine still uses it.) */
static int wg_wait_within(csp_wg *wg, unsigned ms)
{
    bounded_wait *b = malloc(sizeof *b);
    if (!b)
        return 0;
    b->wg = wg;
    atomic_init(&b->returned, 0);
    if (csp_go(bounded_wait_fn, b) != 0) {
        free(b);
        return 0;
    }
    int ok = csp_test_wait_fast(csp_test_flag_set, &b->returned, 1000, ms);
    if (ok)
        free(b);
    return ok;
}

/* A goroutine that waits on a wait group and records what it saw. */
typedef struct waiter {
    csp_wg *wg;
    atomic_int *counter; /* read when the wait returns (may be NULL) */
    int seen;            /* the counter then */
    atomic_int returned; /* set after the wait */
} waiter;

static void wait_fn(void *p)
{
    waiter *w = p;
    csp_wg_wait(w->wg);
    if (w->counter)
        w->seen = atomic_load(w->counter);
    atomic_store(&w->returned, 1);
}

/* Starts a waiter goroutine and returns once it is blocked in the wait:
 * the number of blocked goroutines reached base + 1. */
static void start_waiter(waiter *w, csp_wg *wg, atomic_int *counter, size_t *base)
{
    memset(w, 0, sizeof *w);
    w->wg = wg;
    w->counter = counter;
    atomic_init(&w->returned, 0);
    *base += 1;
    CSP_ASSERT_EQ(csp_go(wait_fn, w), 0);
    CU_ASSERT_FATAL(csp_test_wait_until(csp_test_blocked_at_least, base, 10000));
}

/* Waits until every goroutine is done, so each test starts from quiet. */
static void quiesce(void)
{
    size_t zero = 0;
    CU_ASSERT_FATAL(csp_test_wait_until(blocked_at_most, &zero, 10000));
}

/* ------------------------------------------------------------------------ */

/* A fresh wait group, or one brought back to zero, does not block. */
static void test_wait_at_zero_returns(void)
{
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    waiter w;
    memset(&w, 0, sizeof w);
    w.wg = wg;
    atomic_init(&w.returned, 0);
    CSP_ASSERT_EQ(csp_go(wait_fn, &w), 0); /* in a goroutine: a hang fails, not stalls */
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
    CSP_ASSERT_EQ(csp_wg_add(wg, 3), 0);
    CSP_ASSERT_EQ(csp_wg_add(wg, -3), 0);
    CU_ASSERT_FATAL(wg_wait_within(wg, 10000));
    CSP_ASSERT_EQ(csp_wg_add(wg, 0), 0); /* adding zero at zero is fine */
    CU_ASSERT_FATAL(wg_wait_within(wg, 10000));
    quiesce();
    csp_wg_free(wg);
}

typedef struct worker_ctx {
    csp_wg *wg;
    csp_chan *token; /* one receive lets the worker finish */
    csp_chan *ack;   /* it sends here after its done */
    atomic_int *counter;
    int *slot; /* written plainly before done: the wait must make it visible */
    int id;
    int rc[3]; /* results, checked by the test's thread (CUnit is not thread-safe) */
    csp_wg *fin; /* done last, after rc is written */
} worker_ctx;

static void worker_fn(void *p)
{
    worker_ctx *c = p;
    c->rc[0] = csp_recv(c->token, NULL);
    *c->slot = c->id + 1;
    atomic_fetch_add(c->counter, 1);
    c->rc[1] = csp_wg_done(c->wg);
    c->rc[2] = csp_send(c->ack, NULL);
    csp_wg_done(c->fin);
}

/* wait blocks until N goroutines have each called done, no sooner: the
 * waiter reads the counter each worker bumps before its done, and gets N.
 * Workers are let go one at a time; after each done but the last the waiter
 * is still blocked. The plain writes before done are visible after wait. */
static void test_wait_blocks_until_all_done(void)
{
    enum { N = 16 };
    csp_wg *wg = csp_wg_new(), *fin = csp_wg_new();
    csp_chan *token = csp_chan_make(0, 0), *ack = csp_chan_make(0, 0);
    CU_ASSERT_FATAL(wg && fin && token && ack);
    CSP_ASSERT_EQ(csp_wg_add(fin, N), 0);
    atomic_int counter;
    atomic_init(&counter, 0);
    int slots[N];
    worker_ctx ctx[N];
    memset(slots, 0, sizeof slots);
    size_t base = csp_test_stats().blocked;
    CSP_ASSERT_EQ(csp_wg_add(wg, N), 0);
    for (int i = 0; i < N; i++) {
        ctx[i] = (worker_ctx){ wg, token, ack, &counter, &slots[i], i, { 1, 1, 1 }, fin };
        CSP_ASSERT_EQ(csp_go(worker_fn, &ctx[i]), 0);
    }
    base += N;
    CU_ASSERT(csp_test_wait_until(csp_test_blocked_at_least, &base, 10000)); /* all at the token */
    waiter w;
    start_waiter(&w, wg, &counter, &base);
    for (int i = 0; i < N; i++) {
        CSP_ASSERT_EQ(csp_send(token, NULL), 0);
        CSP_ASSERT_EQ(csp_recv(ack, NULL), 0); /* that worker's done has returned */
        if (i < N - 1)
            CSP_ASSERT_EQ(atomic_load(&w.returned), 0);
    }
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
    CSP_ASSERT_EQ(w.seen, N);
    CU_ASSERT_FATAL(wg_wait_within(wg, 10000)); /* already zero */
    CSP_ASSERT_EQ(atomic_load(&counter), N);
    for (int i = 0; i < N; i++)
        CSP_ASSERT_EQ(slots[i], i + 1);
    CU_ASSERT_FATAL(wg_wait_within(fin, 10000));
    quiesce();
    for (int i = 0; i < N; i++) {
        CSP_ASSERT_EQ(ctx[i].rc[0], 0);
        CSP_ASSERT_EQ(ctx[i].rc[1], 0);
        CSP_ASSERT_EQ(ctx[i].rc[2], 0);
    }
    csp_chan_release(token);
    csp_chan_release(ack);
    csp_wg_free(wg);
    csp_wg_free(fin);
}

typedef struct racer_ctx {
    csp_wg *wg;
    csp_wg *start;
    atomic_int *counter;
    int *slot;
} racer_ctx;

static void racer_fn(void *p)
{
    racer_ctx *c = p;
    csp_wg_wait(c->start); /* all finish at once */
    *c->slot = 1;
    atomic_fetch_add(c->counter, 1);
    csp_wg_done(c->wg);
}

/* Many concurrent dones: the wait returns exactly when all have happened,
 * with every write before them visible (the main thread waits). */
static void test_wait_concurrent_dones(void)
{
    enum { N = 200 };
    csp_wg *wg = csp_wg_new(), *start = csp_wg_new();
    CU_ASSERT_FATAL(wg && start);
    atomic_int counter;
    atomic_init(&counter, 0);
    int *slots = calloc(N, sizeof *slots);
    racer_ctx *ctx = calloc(N, sizeof *ctx);
    CU_ASSERT_FATAL(slots && ctx);
    CSP_ASSERT_EQ(csp_wg_add(start, 1), 0);
    CSP_ASSERT_EQ(csp_wg_add(wg, N), 0);
    for (int i = 0; i < N; i++) {
        ctx[i] = (racer_ctx){ wg, start, &counter, &slots[i] };
        CSP_ASSERT_EQ(csp_go(racer_fn, &ctx[i]), 0);
    }
    CSP_ASSERT_EQ(csp_wg_done(start), 0);
    CU_ASSERT_FATAL(wg_wait_within(wg, 10000));
    CSP_ASSERT_EQ(atomic_load(&counter), N);
    int sum = 0;
    for (int i = 0; i < N; i++)
        sum += slots[i];
    CSP_ASSERT_EQ(sum, N);
    quiesce();
    free(slots);
    free(ctx);
    csp_wg_free(wg);
    csp_wg_free(start);
}

typedef struct thread_waiter {
    csp_wg *wg;
    atomic_int *released;
} thread_waiter;

static void *thread_wait_fn(void *p)
{
    thread_waiter *t = p;
    csp_wg_wait(t->wg);
    atomic_fetch_add(t->released, 1);
    return NULL;
}

static void goroutine_wait_fn(void *p)
{
    thread_waiter *t = p;
    csp_wg_wait(t->wg);
    atomic_fetch_add(t->released, 1);
}

/* Several waiters on one wait group, goroutines and a plain thread, are all
 * released by the one done that brings it to zero, and none before. */
static void test_several_waiters_released(void)
{
    enum { G = 8 };
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    atomic_int released;
    atomic_init(&released, 0);
    thread_waiter tw = { wg, &released };
    CSP_ASSERT_EQ(csp_wg_add(wg, 2), 0);
    size_t want = csp_test_stats().blocked + G;
    for (int i = 0; i < G; i++)
        CSP_ASSERT_EQ(csp_go(goroutine_wait_fn, &tw), 0);
    pthread_t th;
    CSP_ASSERT_EQ(pthread_create(&th, NULL, thread_wait_fn, &tw), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_blocked_at_least, &want, 10000));
    CSP_ASSERT_EQ(csp_wg_done(wg), 0); /* 2 -> 1: nobody goes */
    reach one = { &released, 1 };
    CU_ASSERT_FALSE(csp_test_wait_until(int_reaches, &one, 30));
    CSP_ASSERT_EQ(atomic_load(&released), 0);
    CSP_ASSERT_EQ(csp_wg_done(wg), 0); /* 1 -> 0: everybody goes */
    reach all = { &released, G + 1 };
    CU_ASSERT_FATAL(csp_test_wait_until(int_reaches, &all, 10000)); /* else th may never end */
    pthread_join(th, NULL);
    CSP_ASSERT_EQ(atomic_load(&released), G + 1);
    quiesce();
    csp_wg_free(wg);
}

/* An add that would make the counter negative is CSP_EINVAL and leaves it
 * as it was: neither clamped to zero (the waiter would go) nor applied (the
 * following dones would not reach zero). */
static void test_negative_add_rejected(void)
{
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    /* At zero. */
    CSP_ASSERT_EQ(csp_wg_done(wg), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_wg_add(wg, -1), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_wg_add(wg, -1000), CSP_EINVAL);
    /* Still zero, not -1 (a waiter would block forever): in a goroutine, so
     * that a wrong counter fails the test instead of hanging it. */
    waiter w;
    memset(&w, 0, sizeof w);
    w.wg = wg;
    atomic_init(&w.returned, 0);
    CSP_ASSERT_EQ(csp_go(wait_fn, &w), 0);
    CU_ASSERT_FATAL(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
    CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0); /* 0 -> 1, not -1 -> 0 */
    size_t base = csp_test_stats().blocked;
    start_waiter(&w, wg, NULL, &base);
    CU_ASSERT_FALSE(csp_test_wait_until(csp_test_flag_set, &w.returned, 30));
    CSP_ASSERT_EQ(csp_wg_done(wg), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
    quiesce();

    /* Above zero: 2, then -3 is refused; exactly two dones release. */
    CSP_ASSERT_EQ(csp_wg_add(wg, 2), 0);
    CSP_ASSERT_EQ(csp_wg_add(wg, -3), CSP_EINVAL);
    base = csp_test_stats().blocked;
    start_waiter(&w, wg, NULL, &base);
    CSP_ASSERT_EQ(atomic_load(&w.returned), 0); /* not clamped to zero */
    CSP_ASSERT_EQ(csp_wg_done(wg), 0);
    CU_ASSERT_FALSE(csp_test_wait_until(csp_test_flag_set, &w.returned, 30));
    CSP_ASSERT_EQ(csp_wg_done(wg), 0); /* 1 -> 0 */
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
    CSP_ASSERT_EQ(csp_wg_done(wg), CSP_EINVAL);
    CU_ASSERT_FATAL(wg_wait_within(wg, 10000));
    quiesce();
    csp_wg_free(wg);
}

/* Deltas of any size and sign; the waiter goes exactly when the sum is 0. */
static void test_add_positive_and_negative(void)
{
    static const int steps[][6] = {
        /* deltas, ending at zero; 0 terminates */
        { 5, -2, -3, 0 },
        { 3, -1, 4, -5, -1, 0 },
        { 1000, -999, -1, 0 },
        { 1, 1, 1, -2, -1, 0 },
    };
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        int k = 0, sum = 0, len = 0;
        while (len < 6 && steps[s][len])
            len++;
        CSP_ASSERT_EQ(csp_wg_add(wg, steps[s][k]), 0);
        sum += steps[s][k++];
        size_t base = csp_test_stats().blocked;
        waiter w;
        start_waiter(&w, wg, NULL, &base);
        for (; steps[s][k]; k++) {
            sum += steps[s][k];
            CSP_ASSERT_EQ(csp_wg_add(wg, steps[s][k]), 0);
            if (sum > 0)
                CSP_ASSERT_EQ(atomic_load(&w.returned), 0);
            if (k == len - 2) /* just before the last step: still blocked */
                CU_ASSERT_FALSE(csp_test_wait_until(csp_test_flag_set, &w.returned, 20));
        }
        CSP_ASSERT_EQ(sum, 0);
        CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
        quiesce();
    }
    csp_wg_free(wg);
}


/* A wait group that reached zero is used again, many times. */
static void test_reuse_after_zero(void)
{
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    for (int round = 0; round < 100; round++) {
        int n = 1 + round % 4;
        CSP_ASSERT_EQ(csp_wg_add(wg, n), 0);
        for (int i = 0; i < n; i++)
            CSP_ASSERT_EQ(csp_go(csp_test_done_fn, wg), 0);
        CU_ASSERT_FATAL(wg_wait_within(wg, 10000));
        CSP_ASSERT_EQ(csp_wg_done(wg), CSP_EINVAL); /* it is at zero */
    }
    /* And with a blocked waiter each round. */
    for (int round = 0; round < 5; round++) {
        CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
        size_t base = csp_test_stats().blocked;
        waiter w;
        start_waiter(&w, wg, NULL, &base);
        CSP_ASSERT_EQ(atomic_load(&w.returned), 0);
        CSP_ASSERT_EQ(csp_wg_done(wg), 0);
        CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &w.returned, 10000));
        quiesce();
    }
    csp_wg_free(wg);
}

/* A NULL wait group is CSP_EINVAL. */
static void test_null_wg(void)
{
    CSP_ASSERT_EQ(csp_wg_add(NULL, 1), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_wg_add(NULL, -1), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_wg_add(NULL, 0), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_wg_done(NULL), CSP_EINVAL);
}

static const csp_test tests[] = {
    { "wait_at_zero_returns", test_wait_at_zero_returns },
    { "wait_blocks_until_all_done", test_wait_blocks_until_all_done },
    { "wait_concurrent_dones", test_wait_concurrent_dones },
    { "several_waiters_released", test_several_waiters_released },
    { "negative_add_rejected", test_negative_add_rejected },
    { "add_positive_and_negative", test_add_positive_and_negative },
    { "reuse_after_zero", test_reuse_after_zero },
    { "null_wg", test_null_wg },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "wg", tests, NULL, 60);
}
