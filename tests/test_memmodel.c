/*
 * test_memmodel.c - the happens-before edges of the Go memory model.
 *
 * Each test passes plain (non-atomic) data between goroutines using nothing
 * but the libcsp operation under test. In a plain build these tests check
 * the values; in the ThreadSanitizer build they prove the edges: had the
 * library failed to order the write before the read, TSan would report a
 * data race and fail the program (exit code 66).
 *
 * So that nothing else hides a missing edge, the data is read right after
 * the operation that is supposed to order it, before any other libcsp or
 * test call that takes a lock the writer may also have taken (csp_go,
 * csp_stats_get, wait groups used for joining). Atomics appear only in the
 * final joins. Short spins and yields vary who arrives first; they are never
 * relied on for ordering.
 */
#include "harness.h"

#include <csp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TIMEOUT_SECONDS = 60, WAIT_MS = 20000, N = UNDER_TSAN ? 200 : 300 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A pseudo-random short delay: who arrives first at a channel varies. */
static void jitter(unsigned i)
{
    unsigned h = i * 2654435761u;
    switch ((h >> 28) % 8) {
    case 0:
    case 1:
        break;
    case 2:
        sched_yield();
        break;
    default:
        for (volatile unsigned k = 0; k < ((h >> 16) & 0x3ff); k++) {
        }
    }
}

static csp_chan *mk(size_t elem, size_t cap)
{
    csp_chan *c = csp_chan_make(elem, cap);
    if (!c) {
        CU_FAIL("csp_chan_make");
        abort();
    }
    return c;
}

/* A payload with several words, so TSan sees a race on any of them. */
typedef struct payload {
    int a;
    long b;
    char text[24];
} payload;

static void payload_write(payload *p, int i)
{
    p->a = i;
    p->b = (long)i * 3 + 1;
    snprintf(p->text, sizeof p->text, "msg %d", i);
}

static int payload_ok(const payload *p, int i)
{
    char want[24];
    snprintf(want, sizeof want, "msg %d", i);
    return p->a == i && p->b == (long)i * 3 + 1 && strcmp(p->text, want) == 0;
}

/* ------------------------------------------------------------------------
 * A send happens before the matching receive completes
 * ------------------------------------------------------------------------ */

static payload msgs[N];

typedef struct producer {
    csp_chan *ch;
    int from, to; /* sends indices [from, to) */
    csp_wg *wg;
} producer;

static void index_producer(void *p)
{
    producer *pr = p;
    for (int i = pr->from; i < pr->to; i++) {
        payload_write(&msgs[i], i); /* plain writes... */
        jitter((unsigned)i);
        csp_send(pr->ch, &i); /* ...published only by the send */
    }
    csp_wg_done(pr->wg);
}

static void send_then_recv(size_t cap, int producers)
{
    static producer pr[4];
    csp_chan *ch = mk(sizeof(int), cap);
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    memset(msgs, 0, sizeof msgs);
    csp_wg_add(wg, producers);
    for (int k = 0; k < producers; k++) {
        pr[k].ch = ch;
        pr[k].from = N * k / producers;
        pr[k].to = N * (k + 1) / producers;
        pr[k].wg = wg;
        CSP_ASSERT_EQ(csp_go(index_producer, &pr[k]), 0);
    }
    int bad = 0;
    for (int n = 0; n < N; n++) {
        int i = -1;
        if (csp_recv(ch, &i) != 0 || i < 0 || i >= N) {
            bad++;
            continue;
        }
        bad += !payload_ok(&msgs[i], i); /* plain reads */
        msgs[i].a = -1;                  /* and a plain write: also ordered after the sender's */
        jitter((unsigned)n + 7);
    }
    CSP_ASSERT_EQ(bad, 0);
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_release(ch);
}

static void test_send_hb_recv_unbuffered(void)
{
    send_then_recv(0, 1);
    send_then_recv(0, 3);
}

static void test_send_hb_recv_buffered(void)
{
    send_then_recv(4, 1);
    send_then_recv(1, 3); /* senders that wait on a full buffer too */
}

/* Values themselves: pointers to data written before the send. */
static void pointer_producer(void *p)
{
    producer *pr = p;
    for (int i = pr->from; i < pr->to; i++) {
        payload *m = malloc(sizeof *m);
        if (!m)
            abort();
        payload_write(m, i);
        jitter((unsigned)i);
        csp_send(pr->ch, &m);
    }
    csp_wg_done(pr->wg);
}

static void test_send_hb_recv_pointers(void)
{
    static producer pr;
    static const size_t caps[] = { 0, 2 };
    for (int c = 0; c < 2; c++) {
        csp_chan *ch = mk(sizeof(payload *), caps[c]);
        csp_wg *wg = csp_wg_new();
        csp_wg_add(wg, 1);
        pr.ch = ch;
        pr.from = 0;
        pr.to = N;
        pr.wg = wg;
        CSP_ASSERT_EQ(csp_go(pointer_producer, &pr), 0);
        int bad = 0;
        for (int i = 0; i < N; i++) {
            payload *m = NULL;
            if (csp_recv(ch, &m) != 0 || !m) {
                bad++;
                continue;
            }
            bad += !payload_ok(m, i);
            free(m);
        }
        CSP_ASSERT_EQ(bad, 0);
        csp_wg_wait(wg);
        csp_wg_free(wg);
        csp_chan_release(ch);
    }
}

/* ------------------------------------------------------------------------
 * A close happens before a receive that returns because of it
 * ------------------------------------------------------------------------ */

enum { CLOSE_ROUNDS = 50, CLOSE_WAITERS = 3 };

static payload close_data[CLOSE_ROUNDS];

typedef struct closer {
    csp_chan *ch;
    int round;
} closer;

static void closer_fn(void *p)
{
    closer *c = p;
    jitter((unsigned)c->round);
    payload_write(&close_data[c->round], c->round);
    csp_close(c->ch);
}

typedef struct close_waiter {
    csp_chan *ch;
    int round;
    int ok;
    csp_wg *wg;
} close_waiter;

static void close_waiter_fn(void *p)
{
    close_waiter *w = p;
    int v = 1;
    int rc = csp_recv(w->ch, &v);
    w->ok = rc == CSP_ECLOSED && v == 0 && payload_ok(&close_data[w->round], w->round);
    csp_wg_done(w->wg);
}

static void close_select_waiter_fn(void *p)
{
    close_waiter *w = p;
    int v = 1;
    csp_case cs[1] = { csp_case_recv(w->ch, &v) };
    int rc = csp_select(cs, 1);
    w->ok = rc == 0 && cs[0].err == CSP_ECLOSED && payload_ok(&close_data[w->round], w->round);
    csp_wg_done(w->wg);
}

static void test_close_hb_recv_closed(void)
{
    static closer cl[CLOSE_ROUNDS];
    static close_waiter cw[CLOSE_ROUNDS][CLOSE_WAITERS];
    memset(close_data, 0, sizeof close_data);
    int bad = 0;
    for (int r = 0; r < CLOSE_ROUNDS; r++) {
        csp_chan *ch = mk(sizeof(int), r % 2);
        csp_wg *wg = csp_wg_new();
        csp_wg_add(wg, CLOSE_WAITERS);
        for (int k = 0; k < CLOSE_WAITERS; k++) {
            cw[r][k] = (close_waiter){ ch, r, 0, wg };
            CSP_ASSERT_EQ(csp_go(k == 2 ? close_select_waiter_fn : close_waiter_fn, &cw[r][k]), 0);
        }
        cl[r] = (closer){ ch, r };
        CSP_ASSERT_EQ(csp_go(closer_fn, &cl[r]), 0);
        /* The test thread is a receiver too. */
        int v = 1;
        int rc = csp_recv(ch, &v);
        bad += rc != CSP_ECLOSED || v != 0 || !payload_ok(&close_data[r], r);
        csp_wg_wait(wg);
        for (int k = 0; k < CLOSE_WAITERS; k++)
            bad += !cw[r][k].ok;
        csp_wg_free(wg);
        csp_chan_release(ch);
    }
    CSP_ASSERT_EQ(bad, 0);
}

/* ------------------------------------------------------------------------
 * A receive from an unbuffered channel happens before the send completes
 * (Go's example: the receiver writes a, then receives; the sender sends,
 * then reads a).
 * ------------------------------------------------------------------------ */

static payload before_recv[N];

typedef struct receiver {
    csp_chan *ch, *other;
    int n;
    int use_select;
    csp_wg *wg;
} receiver;

static void writing_receiver(void *p)
{
    receiver *r = p;
    for (int i = 0; i < r->n; i++) {
        payload_write(&before_recv[i], i); /* written before the i-th receive */
        jitter((unsigned)i * 5 + 1);
        int v;
        if (r->use_select) {
            csp_case cs[2] = { csp_case_recv(r->other, &v), csp_case_recv(r->ch, &v) };
            csp_select(cs, 2);
        } else {
            csp_recv(r->ch, &v);
        }
    }
    csp_wg_done(r->wg);
}

static void recv_then_send_complete(int use_select)
{
    static receiver rc;
    memset(before_recv, 0, sizeof before_recv);
    csp_chan *ch = mk(sizeof(int), 0), *other = mk(sizeof(int), 0), *never = mk(sizeof(int), 0);
    csp_wg *wg = csp_wg_new();
    csp_wg_add(wg, 1);
    rc = (receiver){ ch, other, N, use_select, wg };
    CSP_ASSERT_EQ(csp_go(writing_receiver, &rc), 0);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        jitter((unsigned)i * 3);
        if (use_select) {
            int z = 0;
            csp_case cs[2] = { csp_case_send(never, &z), csp_case_send(ch, &i) };
            bad += csp_select(cs, 2) != 1;
        } else {
            bad += csp_send(ch, &i) != 0;
        }
        bad += !payload_ok(&before_recv[i], i); /* the receiver's write, ordered by the receive */
    }
    CSP_ASSERT_EQ(bad, 0);
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_release(ch);
    csp_chan_release(other);
    csp_chan_release(never);
}

static void test_unbuffered_recv_hb_send_completes(void)
{
    recv_then_send_complete(0);
}

static void test_unbuffered_recv_hb_send_completes_select(void)
{
    recv_then_send_complete(1);
}

/* ------------------------------------------------------------------------
 * The k-th receive on a channel of capacity C happens before the (k+C)-th
 * send completes.
 * ------------------------------------------------------------------------ */

static int sem_data[N];

typedef struct semrecv {
    csp_chan *ch;
    int n;
    csp_wg *wg;
} semrecv;

static void sem_receiver(void *p)
{
    semrecv *s = p;
    for (int k = 0; k < s->n; k++) {
        sem_data[k] = k + 1; /* written before the (k+1)-th receive */
        jitter((unsigned)k * 11);
        csp_recv(s->ch, NULL);
    }
    csp_wg_done(s->wg);
}

static void kth_recv_before_k_plus_c_send(size_t cap)
{
    static semrecv sr;
    memset(sem_data, 0, sizeof sem_data);
    csp_chan *ch = mk(sizeof(int), cap);
    int one = 1, bad = 0;
    for (size_t i = 0; i < cap; i++) /* sends 1..C: complete at once */
        bad += csp_send(ch, &one) != 0;
    csp_wg *wg = csp_wg_new();
    csp_wg_add(wg, 1);
    sr = (semrecv){ ch, N, wg };
    CSP_ASSERT_EQ(csp_go(sem_receiver, &sr), 0);
    for (int k = 0; k < N; k++) {
        jitter((unsigned)k * 13);
        bad += csp_send(ch, &one) != 0; /* send C+k+1: after receive k+1 */
        bad += sem_data[k] != k + 1;
    }
    CSP_ASSERT_EQ(bad, 0);
    csp_wg_wait(wg);
    CSP_ASSERT_EQ(csp_len(ch), cap);
    csp_wg_free(wg);
    csp_chan_release(ch);
}

static void test_kth_recv_hb_send_cap1(void)
{
    kth_recv_before_k_plus_c_send(1);
}

static void test_kth_recv_hb_send_cap3(void)
{
    kth_recv_before_k_plus_c_send(3);
}

/* The semaphore idiom: a capacity-1 channel as a mutex around plain data. */
typedef struct locked {
    csp_chan *sem;
    long counter; /* plain, guarded by sem */
    int iters;
    csp_wg *wg;
} locked;

static void locked_incrementer(void *p)
{
    locked *l = p;
    int token = 1;
    for (int i = 0; i < l->iters; i++) {
        csp_send(l->sem, &token); /* acquire */
        l->counter++;
        csp_recv(l->sem, NULL); /* release */
    }
    csp_wg_done(l->wg);
}

static void test_channel_as_mutex(void)
{
    static locked l;
    enum { G = 4 };
    l.sem = mk(sizeof(int), 1);
    l.counter = 0;
    l.iters = N;
    l.wg = csp_wg_new();
    csp_wg_add(l.wg, G);
    for (int g = 0; g < G; g++)
        CSP_ASSERT_EQ(csp_go(locked_incrementer, &l), 0);
    csp_wg_wait(l.wg);
    CSP_ASSERT_EQ(l.counter, (long)G * N);
    csp_wg_free(l.wg);
    csp_chan_release(l.sem);
}

/* ------------------------------------------------------------------------
 * csp_go happens before fn starts
 * ------------------------------------------------------------------------ */

enum { GO_ROUNDS = 60 };

static payload go_data[GO_ROUNDS];
static csp_chan *go_results;

static void go_reader(void *p)
{
    int r = (int)(intptr_t)p;
    int ok = payload_ok(&go_data[r], r); /* written by the spawner before csp_go */
    csp_send(go_results, &ok);
}

typedef struct go_arg {
    int round;
    payload copy;
} go_arg;

static void go_copy_reader(void *p)
{
    go_arg *a = p; /* csp_go_copy's private copy */
    int ok = payload_ok(&a->copy, a->round) && payload_ok(&go_data[a->round], a->round);
    csp_send(go_results, &ok);
}

static int cond_idle(void *ctx)
{
    (void)ctx;
    csp_stats s;
    csp_stats_get(&s);
    return s.threads_idle > 0;
}

static void test_go_hb_fn(void)
{
    go_results = mk(sizeof(int), 0);
    memset(go_data, 0, sizeof go_data);
    int bad = 0;
    for (int r = 0; r < GO_ROUNDS; r++) {
        /* Most rounds reuse an idle pooled thread (the wake-up path); some let
         * it fall asleep first. Both before the write below, so neither the
         * poll nor the sleep orders the write before fn. */
        if (r % 3 != 2)
            csp_test_wait_until(cond_idle, NULL, 1000);
        if (r % 3 == 1)
            csp_sleep(CSP_MILLISECOND);
        payload_write(&go_data[r], r);
        if (r % 2) {
            CSP_ASSERT_EQ(csp_go(go_reader, (void *)(intptr_t)r), 0);
        } else {
            go_arg a;
            a.round = r;
            payload_write(&a.copy, r);
            CSP_ASSERT_EQ(csp_go_copy(go_copy_reader, &a, sizeof a), 0);
            memset(&a, 0, sizeof a); /* the goroutine has its own copy */
        }
        int ok = 0;
        CSP_ASSERT_EQ(csp_recv(go_results, &ok), 0);
        bad += !ok;
    }
    CSP_ASSERT_EQ(bad, 0);
    csp_chan_release(go_results);
}

/* ------------------------------------------------------------------------
 * csp_wg_done happens before the csp_wg_wait it releases returns
 * ------------------------------------------------------------------------ */

enum { WG_ROUNDS = 20, WG_WORKERS = 6, WG_WAITERS = 2 };

static payload wg_data[WG_ROUNDS][WG_WORKERS];

typedef struct wg_worker {
    csp_wg *wg;
    int round, idx;
} wg_worker;

static void wg_worker_fn(void *p)
{
    wg_worker *w = p;
    jitter((unsigned)(w->round * 17 + w->idx));
    payload_write(&wg_data[w->round][w->idx], w->round * 100 + w->idx);
    csp_wg_done(w->wg);
}

typedef struct wg_waiter {
    csp_wg *wg;
    int round;
    csp_chan *report;
} wg_waiter;

static void wg_waiter_fn(void *p)
{
    wg_waiter *w = p;
    csp_wg_wait(w->wg);
    int ok = 1;
    for (int i = 0; i < WG_WORKERS; i++)
        ok &= payload_ok(&wg_data[w->round][i], w->round * 100 + i);
    csp_send(w->report, &ok);
}

static void test_wg_done_hb_wait(void)
{
    static wg_worker workers[WG_ROUNDS][WG_WORKERS];
    static wg_waiter waiters[WG_ROUNDS][WG_WAITERS];
    memset(wg_data, 0, sizeof wg_data);
    csp_chan *report = mk(sizeof(int), WG_WAITERS);
    int bad = 0;
    for (int r = 0; r < WG_ROUNDS; r++) {
        csp_wg *wg = csp_wg_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
        CSP_ASSERT_EQ(csp_wg_add(wg, WG_WORKERS), 0);
        for (int k = 0; k < WG_WAITERS; k++) {
            waiters[r][k] = (wg_waiter){ wg, r, report };
            CSP_ASSERT_EQ(csp_go(wg_waiter_fn, &waiters[r][k]), 0);
        }
        for (int i = 0; i < WG_WORKERS; i++) {
            workers[r][i] = (wg_worker){ wg, r, i };
            CSP_ASSERT_EQ(csp_go(wg_worker_fn, &workers[r][i]), 0);
        }
        csp_wg_wait(wg);
        for (int i = 0; i < WG_WORKERS; i++)
            bad += !payload_ok(&wg_data[r][i], r * 100 + i);
        for (int k = 0; k < WG_WAITERS; k++) {
            int ok = 0;
            CSP_ASSERT_EQ(csp_recv(report, &ok), 0);
            bad += !ok;
        }
        csp_wg_free(wg); /* every waiter has returned from csp_wg_wait */
    }
    CSP_ASSERT_EQ(bad, 0);
    csp_chan_release(report);
}

/* ------------------------------------------------------------------------
 * Select hand-offs: send case to receive case, buffered and unbuffered,
 * and a close observed by a select.
 * ------------------------------------------------------------------------ */

typedef struct sel_producer {
    csp_chan *ch, *never;
    int n;
    csp_wg *wg;
} sel_producer;

static void select_producer(void *p)
{
    sel_producer *sp = p;
    for (int i = 0; i < sp->n; i++) {
        payload_write(&msgs[i], i);
        jitter((unsigned)i * 7);
        int z = -1;
        csp_case cs[3] = { csp_case_send(sp->never, &z), csp_case_send(sp->ch, &i), csp_case_recv(sp->never, &z) };
        if (i % 2)
            csp_select(cs, 3);
        else
            while (csp_select_timeout(cs, 3, CSP_MILLISECOND) == CSP_ETIMEDOUT) {
            }
    }
    csp_close(sp->ch);
    csp_wg_done(sp->wg);
}

static void select_handoff(size_t cap)
{
    static sel_producer sp;
    memset(msgs, 0, sizeof msgs);
    /* Each side has its own never-ready channel: the producer both sends and
     * receives on its own, which cannot match itself. */
    csp_chan *ch = mk(sizeof(int), cap), *never = mk(sizeof(int), 0), *never_p = mk(sizeof(int), 0);
    csp_wg *wg = csp_wg_new();
    csp_wg_add(wg, 1);
    sp = (sel_producer){ ch, never_p, N, wg };
    CSP_ASSERT_EQ(csp_go(select_producer, &sp), 0);
    int bad = 0, n = 0;
    for (;;) {
        int i = -1, z = 0;
        csp_case cs[2] = { csp_case_recv(never, &z), csp_case_recv(ch, &i) };
        int rc = n % 3 == 0 ? csp_select(cs, 2) : csp_select_timeout(cs, 2, 10 * CSP_SECOND);
        if (rc != 1) {
            fprintf(stderr, "select hand-off #%d: select returned %d (%s)\n", n, rc, csp_strerror(rc));
            bad++;
            break;
        }
        if (cs[1].err == CSP_ECLOSED)
            break;
        bad += i != n || !payload_ok(&msgs[i], i);
        n++;
        jitter((unsigned)n);
    }
    CSP_ASSERT_EQ(bad, 0);
    CSP_ASSERT_EQ(n, N);
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_release(ch);
    csp_chan_release(never);
    csp_chan_release(never_p);
}

static void test_select_handoff_unbuffered(void)
{
    select_handoff(0);
}

static void test_select_handoff_buffered(void)
{
    select_handoff(3);
}

/* ------------------------------------------------------------------------
 * Timers: the value comes from the timer thread through the channel.
 * ------------------------------------------------------------------------ */

typedef struct timer_wait {
    int64_t start, delay, got;
    int rc;
    csp_wg *wg;
} timer_wait;

static void timer_waiter(void *p)
{
    timer_wait *t = p;
    csp_chan *c = csp_after(t->delay);
    if (!c) {
        t->rc = -1;
    } else {
        t->rc = csp_recv(c, &t->got);
        csp_chan_release(c);
    }
    csp_wg_done(t->wg);
}

static void test_timer_values(void)
{
    enum { T = 8 };
    static timer_wait tw[T];
    csp_wg *wg = csp_wg_new();
    csp_wg_add(wg, T);
    for (int i = 0; i < T; i++) {
        tw[i] = (timer_wait){ csp_now(), (int64_t)(T - i) * CSP_MILLISECOND, 0, 12345, wg };
        CSP_ASSERT_EQ(csp_go(timer_waiter, &tw[i]), 0);
    }
    /* One on this thread, through a select. */
    int64_t t0 = csp_now(), when = 0;
    csp_chan *c = csp_after(3 * CSP_MILLISECOND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    csp_case cs[1] = { csp_case_recv(c, &when) };
    CSP_ASSERT_EQ(csp_select(cs, 1), 0);
    int64_t t1 = csp_now();
    CU_ASSERT(when >= t0 + 3 * CSP_MILLISECOND); /* never early */
    CU_ASSERT(when <= t1);
    csp_chan_release(c);
    csp_wg_wait(wg);
    for (int i = 0; i < T; i++) {
        CSP_ASSERT_EQ(tw[i].rc, 0);
        CU_ASSERT(tw[i].got >= tw[i].start + tw[i].delay);
    }
    csp_wg_free(wg);

    /* A ticker's values only grow, the first not before one period. */
    int64_t s = csp_now();
    csp_ticker *tk = csp_ticker_new(2 * CSP_MILLISECOND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
    int64_t prev = s + 2 * CSP_MILLISECOND - 1; /* the first must be >= s + period */
    for (int i = 0; i < 3; i++) {
        int64_t tick = 0;
        CSP_ASSERT_EQ(csp_recv(csp_ticker_chan(tk), &tick), 0);
        CU_ASSERT(tick > prev);
        CU_ASSERT(tick <= csp_now());
        prev = tick;
    }
    csp_ticker_stop(tk);
}

/* ------------------------------------------------------------------------ */

static const csp_test tests[] = {
    { "send_hb_recv_unbuffered", test_send_hb_recv_unbuffered },
    { "send_hb_recv_buffered", test_send_hb_recv_buffered },
    { "send_hb_recv_pointers", test_send_hb_recv_pointers },
    { "close_hb_recv_closed", test_close_hb_recv_closed },
    { "unbuffered_recv_hb_send_completes", test_unbuffered_recv_hb_send_completes },
    { "unbuffered_recv_hb_send_completes_select", test_unbuffered_recv_hb_send_completes_select },
    { "kth_recv_hb_send_cap1", test_kth_recv_hb_send_cap1 },
    { "kth_recv_hb_send_cap3", test_kth_recv_hb_send_cap3 },
    { "channel_as_mutex", test_channel_as_mutex },
    { "go_hb_fn", test_go_hb_fn },
    { "wg_done_hb_wait", test_wg_done_hb_wait },
    { "select_handoff_unbuffered", test_select_handoff_unbuffered },
    { "select_handoff_buffered", test_select_handoff_buffered },
    { "timer_values", test_timer_values },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "memmodel", tests, NULL, TIMEOUT_SECONDS);
}
