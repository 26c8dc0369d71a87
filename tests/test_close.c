/*
 * test_close.c - closing channels: waking blocked receivers and senders,
 * draining what was buffered, send and close on a closed channel, the range
 * loop, and close racing with unbuffered hand-offs (tylertreat/chan #23).
 */
#include "harness.h"

#include <csp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TIMEOUT_SECONDS = 60, WAIT_MS = 10000, QUIET_MS = 50 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Waits for a countdown to reach zero: a short yielding spin first (the
 * close race waits thousands of times, each usually for microseconds), then
 * the harness's bounded millisecond poll. */
static int wait_count(atomic_int *c)
{
    return csp_test_wait_fast(csp_test_count_zero, c, 2000, WAIT_MS);
}

/* A 16-byte element, received into a 24-byte buffer whose tail must stay
 * untouched: zero-filling must cover exactly elem_size bytes. */
typedef struct elem16 {
    uint64_t a, b;
} elem16;

enum { NWAIT = 5, OUTSZ = 24 };

typedef struct waiter {
    csp_chan *ch;
    int rc;
    unsigned char out[OUTSZ];
    elem16 val;
} waiter;

static waiter W[NWAIT];
static atomic_int pending;

static void blocked_recv_fn(void *p)
{
    waiter *w = p;
    w->rc = csp_recv(w->ch, w->out);
    atomic_fetch_sub(&pending, 1);
}

static void blocked_send_fn(void *p)
{
    waiter *w = p;
    w->rc = csp_send(w->ch, &w->val);
    atomic_fetch_sub(&pending, 1);
}

/* ------------------------------------------------------------------------
 * Close wakes blocked operations
 * ------------------------------------------------------------------------ */

static void close_wakes_receivers(size_t cap)
{
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(elem16), cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    atomic_store(&pending, NWAIT);
    for (int i = 0; i < NWAIT; i++) {
        W[i].ch = ch;
        W[i].rc = 12345;
        memset(W[i].out, 0xAA, OUTSZ);
        CSP_ASSERT_EQ(csp_go(blocked_recv_fn, &W[i]), 0);
    }
    CU_ASSERT(csp_test_wait_blocked(NWAIT, WAIT_MS));
    CSP_ASSERT_EQ(atomic_load(&pending), NWAIT); /* nobody returned before the close */
    CSP_ASSERT_EQ(csp_close(ch), 0);
    CU_ASSERT(wait_count(&pending));
    for (int i = 0; i < NWAIT; i++) {
        CSP_ASSERT_EQ(W[i].rc, CSP_ECLOSED);
        CU_ASSERT(csp_test_all_bytes(W[i].out, sizeof(elem16), 0));                /* zero-filled */
        CU_ASSERT(csp_test_all_bytes(W[i].out + sizeof(elem16), OUTSZ - sizeof(elem16), 0xAA)); /* not past */
    }
    /* Later receives return CSP_ECLOSED at once, zero-filled too. */
    unsigned char out[OUTSZ];
    memset(out, 0xAA, sizeof out);
    CSP_ASSERT_EQ(csp_recv(ch, out), CSP_ECLOSED);
    CU_ASSERT(csp_test_all_bytes(out, sizeof(elem16), 0));
    CU_ASSERT(csp_test_all_bytes(out + sizeof(elem16), OUTSZ - sizeof(elem16), 0xAA));
    memset(out, 0xAA, sizeof out);
    CSP_ASSERT_EQ(csp_tryrecv(ch, out), CSP_ECLOSED);
    CU_ASSERT(csp_test_all_bytes(out, sizeof(elem16), 0));
    csp_chan_release(ch);
}

static void test_close_wakes_receivers_unbuffered(void)
{
    close_wakes_receivers(0);
}

static void test_close_wakes_receivers_buffered(void)
{
    close_wakes_receivers(4);
}

/* cap values are buffered first (0 for unbuffered); then NWAIT senders
 * block. Close wakes each with CSP_ECLOSED; only the buffered values are
 * ever received. */
static void close_wakes_senders(size_t cap)
{
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(elem16), cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    for (size_t i = 0; i < cap; i++) {
        elem16 e = { 1000 + i, ~(uint64_t)(1000 + i) };
        CSP_ASSERT_EQ(csp_trysend(ch, &e), 0);
    }
    atomic_store(&pending, NWAIT);
    for (int i = 0; i < NWAIT; i++) {
        W[i].ch = ch;
        W[i].rc = 12345;
        W[i].val.a = (uint64_t)i;
        W[i].val.b = ~(uint64_t)i;
        CSP_ASSERT_EQ(csp_go(blocked_send_fn, &W[i]), 0);
    }
    CU_ASSERT(csp_test_wait_blocked(NWAIT, WAIT_MS));
    CSP_ASSERT_EQ(atomic_load(&pending), NWAIT);
    CSP_ASSERT_EQ(csp_len(ch), cap);
    CSP_ASSERT_EQ(csp_close(ch), 0);
    CU_ASSERT(wait_count(&pending));
    for (int i = 0; i < NWAIT; i++)
        CSP_ASSERT_EQ(W[i].rc, CSP_ECLOSED);
    /* The buffered values, in order, and nothing from the woken senders. */
    for (size_t i = 0; i < cap; i++) {
        elem16 e = { 0, 0 };
        CSP_ASSERT_EQ(csp_recv(ch, &e), 0);
        CSP_ASSERT_EQ(e.a, 1000 + i);
    }
    elem16 e = { 7, 7 };
    CSP_ASSERT_EQ(csp_recv(ch, &e), CSP_ECLOSED);
    CSP_ASSERT_EQ(e.a, 0);
    CSP_ASSERT_EQ(e.b, 0);
    CSP_ASSERT_EQ(csp_tryrecv(ch, &e), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_len(ch), 0);
    csp_chan_release(ch);
}

static void test_close_wakes_senders_unbuffered(void)
{
    close_wakes_senders(0);
}

static void test_close_wakes_senders_buffered(void)
{
    close_wakes_senders(2);
}

/* ------------------------------------------------------------------------
 * After the close
 * ------------------------------------------------------------------------ */

/* Values buffered before the close are still delivered, in order; then
 * CSP_ECLOSED, again and again. */
static void test_buffered_values_survive_close(void)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    for (int i = 1; i <= 4; i++)
        CSP_ASSERT_EQ(csp_send(ch, &i), 0);
    CSP_ASSERT_EQ(csp_close(ch), 0);
    CSP_ASSERT_EQ(csp_len(ch), 4);
    CSP_ASSERT_EQ(csp_cap(ch), 5);
    int v = -1;
    CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 1);
    CSP_ASSERT_EQ(csp_tryrecv(ch, &v), 0); /* tryrecv drains too */
    CSP_ASSERT_EQ(v, 2);
    CSP_ASSERT_EQ(csp_len(ch), 2);
    CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 3);
    CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 4);
    for (int k = 0; k < 3; k++) {
        v = -1;
        CSP_ASSERT_EQ(csp_recv(ch, &v), CSP_ECLOSED);
        CSP_ASSERT_EQ(v, 0);
    }
    CSP_ASSERT_EQ(csp_recv(ch, NULL), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_len(ch), 0);
    csp_chan_release(ch);
}

/* Send (and trysend) on a closed channel is CSP_ECLOSED and sends nothing. */
static void test_send_on_closed(void)
{
    static const size_t caps[] = { 0, 3 };
    for (size_t c = 0; c < 2; c++) {
        csp_chan *ch = csp_chan_make(sizeof(int), caps[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
        CSP_ASSERT_EQ(csp_close(ch), 0);
        int v = 5;
        CSP_ASSERT_EQ(csp_send(ch, &v), CSP_ECLOSED);
        CSP_ASSERT_EQ(csp_trysend(ch, &v), CSP_ECLOSED);
        CSP_ASSERT_EQ(csp_send(csp_send_only(ch), &v), CSP_ECLOSED);
        CSP_ASSERT_EQ(csp_len(ch), 0);
        v = -1;
        CSP_ASSERT_EQ(csp_recv(ch, &v), CSP_ECLOSED);
        CSP_ASSERT_EQ(v, 0);
        csp_chan_release(ch);
    }
    /* Zero-size elements too. */
    csp_chan *z = csp_chan_make(0, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    CSP_ASSERT_EQ(csp_close(z), 0);
    CSP_ASSERT_EQ(csp_send(z, NULL), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_len(z), 0);
    CSP_ASSERT_EQ(csp_recv(z, NULL), CSP_ECLOSED);
    csp_chan_release(z);
}

static void test_double_close(void)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    int v = 1;
    CSP_ASSERT_EQ(csp_send(ch, &v), 0);
    CSP_ASSERT_EQ(csp_close(ch), 0);
    CSP_ASSERT_EQ(csp_close(ch), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_close(csp_send_only(ch)), CSP_ECLOSED);
    /* The failed closes did not disturb the buffered value. */
    v = 0;
    CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 1);
    CSP_ASSERT_EQ(csp_recv(ch, &v), CSP_ECLOSED);
    csp_chan_release(ch);
}

/* ------------------------------------------------------------------------
 * Range loop
 * ------------------------------------------------------------------------ */

typedef struct ranger {
    csp_chan *ch;
    int n;
    int bad;
    atomic_int done;
} ranger;

static void range_producer(void *p)
{
    ranger *r = p;
    for (int i = 0; i < r->n; i++)
        if (csp_send(r->ch, &i) != 0)
            r->bad++;
    if (csp_close(r->ch) != 0)
        r->bad++;
    atomic_store(&r->done, 1);
}

/* while (csp_recv(ch, &v) == 0) sees every value in order and then ends. */
static void test_range_loop_ends(void)
{
    static ranger r;
    static const size_t caps[] = { 0, 1, 16 };
    for (size_t c = 0; c < 3; c++) {
        r.ch = csp_chan_make(sizeof(int), caps[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.ch);
        r.n = 1000;
        r.bad = 0;
        atomic_store(&r.done, 0);
        CSP_ASSERT_EQ(csp_go(range_producer, &r), 0);
        int v, i = 0, bad = 0;
        while (csp_recv(r.ch, &v) == 0)
            if (v != i++)
                bad++;
        CSP_ASSERT_EQ(bad, 0);
        CSP_ASSERT_EQ(i, r.n);
        CSP_ASSERT_EQ(v, 0);
        CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &r.done, WAIT_MS));
        CSP_ASSERT_EQ(r.bad, 0);
        csp_chan_release(r.ch);
    }
}

/* ------------------------------------------------------------------------
 * Close racing with hand-offs (tylertreat/chan issue #23): a send that
 * returned 0 was received exactly once; one that returned CSP_ECLOSED was
 * never received.
 * ------------------------------------------------------------------------ */

enum { RACE_SENDERS = 3, RACE_RECEIVERS = 2 };

typedef struct race_round {
    csp_chan *ch;
    int base;                       /* values are base + sender index */
    int send_rc[RACE_SENDERS];
    atomic_int recv_count[RACE_SENDERS];
    atomic_int stray;               /* received values that no sender sent */
    atomic_int running;
    unsigned closer_spin;
} race_round;

typedef struct race_arg {
    race_round *r;
    int idx;
} race_arg;

static void race_sender(void *p)
{
    race_arg *a = p;
    int v = a->r->base + a->idx;
    a->r->send_rc[a->idx] = csp_send(a->r->ch, &v);
    atomic_fetch_sub(&a->r->running, 1);
}

static void race_receiver(void *p)
{
    race_round *r = ((race_arg *)p)->r;
    int v;
    while (csp_recv(r->ch, &v) == 0) {
        int k = v - r->base;
        if (k >= 0 && k < RACE_SENDERS)
            atomic_fetch_add(&r->recv_count[k], 1);
        else
            atomic_fetch_add(&r->stray, 1);
    }
    if (v != 0)
        atomic_fetch_add(&r->stray, 1); /* CSP_ECLOSED must zero-fill */
    atomic_fetch_sub(&r->running, 1);
}

static void race_closer(void *p)
{
    race_round *r = ((race_arg *)p)->r;
    for (volatile unsigned i = 0; i < r->closer_spin; i++) {
        /* a varying head start for the hand-offs */
    }
    if (csp_close(r->ch) != 0)
        atomic_fetch_add(&r->stray, 1000);
    atomic_fetch_sub(&r->running, 1);
}

static void close_race(size_t cap, int rounds)
{
    static race_round r;
    static race_arg args[RACE_SENDERS + RACE_RECEIVERS + 1];
    int delivered = 0, refused = 0, lost = 0, dup = 0, ghost = 0, stray = 0, hung = 0;
    unsigned seed = 12345u + (unsigned)cap;
    /* Bounded by rounds and by time (a loaded machine gets fewer rounds). */
    int64_t stop = csp_now() + 2 * CSP_SECOND;
    for (int round = 0; round < rounds && (round < 100 || csp_now() < stop); round++) {
        r.ch = csp_chan_make(sizeof(int), cap);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.ch);
        r.base = 1 + round * RACE_SENDERS;
        for (int i = 0; i < RACE_SENDERS; i++) {
            r.send_rc[i] = 12345;
            atomic_store(&r.recv_count[i], 0);
        }
        atomic_store(&r.stray, 0);
        atomic_store(&r.running, RACE_SENDERS + RACE_RECEIVERS + 1);
        seed = seed * 1103515245u + 12345u;
        r.closer_spin = (seed >> 16) % 2000;
        /* Start order varies too: the closer first, in the middle or last. */
        int closer_at = (int)((seed >> 8) % (RACE_SENDERS + RACE_RECEIVERS + 1));
        int k = 0, spawned = 0;
        for (int slot = 0; slot <= RACE_SENDERS + RACE_RECEIVERS; slot++) {
            race_arg *a = &args[slot];
            a->r = &r;
            if (slot == closer_at) {
                spawned += csp_go(race_closer, a) == 0;
                continue;
            }
            if (k < RACE_SENDERS) {
                a->idx = k++;
                spawned += csp_go(race_sender, a) == 0;
            } else {
                a->idx = k++;
                spawned += csp_go(race_receiver, a) == 0;
            }
        }
        CSP_ASSERT_EQ(spawned, RACE_SENDERS + RACE_RECEIVERS + 1);
        if (!wait_count(&r.running)) {
            hung++;
            csp_dump(stderr);
            break; /* the goroutines still use r: stop here */
        }
        for (int i = 0; i < RACE_SENDERS; i++) {
            int n = atomic_load(&r.recv_count[i]);
            if (r.send_rc[i] == 0) {
                delivered++;
                lost += n == 0;
                dup += n > 1;
            } else if (r.send_rc[i] == CSP_ECLOSED) {
                refused++;
                ghost += n != 0;
            } else {
                stray++;
            }
        }
        stray += atomic_load(&r.stray);
        csp_chan_release(r.ch);
    }
    if (lost || dup || ghost || stray || hung)
        fprintf(stderr, "cap %zu: delivered %d refused %d lost %d dup %d ghost %d stray %d hung %d\n", cap,
                delivered, refused, lost, dup, ghost, stray, hung);
    CSP_ASSERT_EQ(hung, 0);
    CSP_ASSERT_EQ(lost, 0);
    CSP_ASSERT_EQ(dup, 0);
    CSP_ASSERT_EQ(ghost, 0);
    CSP_ASSERT_EQ(stray, 0);
    /* The race was really exercised: both outcomes happened. */
    CU_ASSERT(delivered > 0);
    CU_ASSERT(refused > 0);
}

static int race_rounds(void)
{
    const char *s = getenv("CSP_CLOSE_RACE_ROUNDS");
    if (s && atoi(s) > 0)
        return atoi(s);
    return UNDER_TSAN ? 300 : 2000;
}

static void test_close_race_unbuffered(void)
{
    close_race(0, race_rounds());
}

static void test_close_race_buffered(void)
{
    close_race(1, race_rounds() / 2);
}

/* ------------------------------------------------------------------------ */

static const csp_test tests[] = {
    { "close_wakes_receivers_unbuffered", test_close_wakes_receivers_unbuffered },
    { "close_wakes_receivers_buffered", test_close_wakes_receivers_buffered },
    { "close_wakes_senders_unbuffered", test_close_wakes_senders_unbuffered },
    { "close_wakes_senders_buffered", test_close_wakes_senders_buffered },
    { "buffered_values_survive_close", test_buffered_values_survive_close },
    { "send_on_closed", test_send_on_closed },
    { "double_close", test_double_close },
    { "range_loop_ends", test_range_loop_ends },
    { "close_race_unbuffered", test_close_race_unbuffered },
    { "close_race_buffered", test_close_race_buffered },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "close", tests, NULL, TIMEOUT_SECONDS);
}
