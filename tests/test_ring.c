/*
 * test_ring.c - buffered channels under the races of their lock-free path.
 *
 * A buffered channel's send and receive take no lock when they find room or
 * a value and nobody queued (libcsp/ring.c, chan.c); a blocked operation
 * queues under the lock and looks at the ring once more. These tests drive
 * the places where the two meet, where a lost wake-up hangs (each wait here
 * is bounded, so a hang fails the test), a lost or doubled value breaks the
 * count, and a touch of a released channel shows under AddressSanitizer or
 * ThreadSanitizer:
 *   - capacity-1 ping-pong: every receive meets the ring empty and every
 *     send meets it full, so both sides queue and wake on every round;
 *   - plain receivers and 3-way selects taking from the same channels: a
 *     select woken for a value that a plain receiver took first must try
 *     again and still get each value exactly once;
 *   - the last value's receiver releases the channel at once, while its
 *     sender may still be inside csp_send, and so does the receiver that
 *     sees the close, while the closer may still be inside csp_close;
 *   - csp_len stays within [0, cap] while the ring moves;
 *   - zero-size values take no memory per slot.
 */
#include "harness.h"

#include <csp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MS CSP_MILLISECOND
#define WAIT_MS 60000

/* ------------------------------------------------------------------------
 * Capacity-1 ping-pong
 * ------------------------------------------------------------------------ */

typedef struct pingpong {
    csp_chan *ping, *pong;
    size_t size; /* of the values: sizeof(int), or 0 for a ring of positions only */
    int rounds;
    atomic_int bad, done;
} pingpong;

/* A received value: checked against i unless the values are zero-size. */
static bool got_round(const pingpong *pp, int v, int i)
{
    return pp->size == 0 || v == i;
}

static void ponger(void *p)
{
    pingpong *pp = p;
    for (int i = 0; i < pp->rounds; i++) {
        int v = -1;
        if (csp_recv(pp->ping, &v) != 0 || !got_round(pp, v, i) || csp_send(pp->pong, &v) != 0)
            atomic_fetch_add(&pp->bad, 1);
    }
    atomic_store(&pp->done, 1);
}

static void pingpong_capacity_one(size_t size)
{
    static pingpong pp;
    pp.size = size;
    pp.ping = csp_chan_make(size, 1);
    pp.pong = csp_chan_make(size, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp.ping);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp.pong);
    pp.rounds = UNDER_TSAN ? 5000 : 50000;
    atomic_store(&pp.bad, 0);
    atomic_store(&pp.done, 0);
    CSP_ASSERT_EQ(csp_go(ponger, &pp), 0);
    int wrong = 0;
    for (int i = 0; i < pp.rounds && !wrong; i++) {
        int v = -1;
        csp_case c[] = { csp_case_recv(pp.pong, &v) };
        if (csp_send(pp.ping, &i) != 0 || csp_select_timeout(c, 1, WAIT_MS * MS) != 0 ||
            !got_round(&pp, v, i)) {
            fprintf(stderr, "size %zu, round %d: got %d\n", size, i, v);
            wrong = 1;
        }
    }
    CSP_ASSERT_EQ(wrong, 0);
    CU_ASSERT(csp_test_wait_flag(&pp.done, WAIT_MS));
    CSP_ASSERT_EQ(atomic_load(&pp.bad), 0);
    CSP_ASSERT_EQ(csp_len(pp.ping) + csp_len(pp.pong), 0);
    csp_chan_release(pp.ping);
    csp_chan_release(pp.pong);
}

static void test_pingpong_capacity_one(void)
{
    pingpong_capacity_one(sizeof(int));
}

/* The same with zero-size values, whose ring is only its positions. */
static void test_token_pingpong(void)
{
    pingpong_capacity_one(0);
}

/* ------------------------------------------------------------------------
 * Plain receivers and selects on the same channels
 * ------------------------------------------------------------------------ */

enum { MIX_CHANS = 2, MIX_SENDERS = 2, MIX_PLAIN = 2, MIX_SELECTS = 2, MIX_FAST = 6 };

typedef struct mix {
    csp_chan *ch[MIX_CHANS];
    csp_chan *quit;   /* closed when every value has been received */
    int per_sender;
    atomic_uchar *seen; /* per value: times received */
    atomic_int received, bad;
    csp_wg *senders, *receivers, *fast;
} mix;

static mix M;

static void mix_sender(void *p)
{
    int s = (int)(intptr_t)p;
    for (int i = 0; i < M.per_sender; i++) {
        int v = s * M.per_sender + i;
        if (csp_send(M.ch[i % MIX_CHANS], &v) != 0)
            atomic_fetch_add(&M.bad, 1);
    }
    csp_wg_done(M.senders);
}

static void got(int v)
{
    if (v < 0 || v >= MIX_SENDERS * M.per_sender || atomic_fetch_add(&M.seen[v], 1) != 0)
        atomic_fetch_add(&M.bad, 1);
    if (atomic_fetch_add(&M.received, 1) + 1 == MIX_SENDERS * M.per_sender)
        csp_close(M.quit);
}

static void mix_plain(void *p)
{
    csp_chan *c = M.ch[(intptr_t)p % MIX_CHANS];
    for (;;) {
        int v = -1;
        csp_case cases[] = { csp_case_recv(c, &v), csp_case_recv(M.quit, NULL) };
        int r = csp_select(cases, 2);
        if (r != 0)
            break;
        got(v);
    }
    csp_wg_done(M.receivers);
}

static void mix_select(void *p)
{
    (void)p;
    for (;;) {
        int a = -1, b = -1;
        csp_case cases[] = { csp_case_recv(M.ch[0], &a), csp_case_recv(M.ch[1], &b),
                             csp_case_recv(M.quit, NULL) };
        int r = csp_select(cases, 3);
        if (r == 2)
            break;
        got(r == 0 ? a : b);
    }
    csp_wg_done(M.receivers);
}

/* The plain receivers above take the fast path only while nobody is queued;
 * these receive with plain csp_recv and stop at a sentinel. */
static void mix_plain_fast(void *p)
{
    csp_chan *c = M.ch[(intptr_t)p % MIX_CHANS];
    for (;;) {
        int v = -1;
        if (csp_recv(c, &v) != 0 || v == -1)
            break;
        got(v);
    }
    csp_wg_done(M.fast);
}

static void test_plain_and_select_receivers(void)
{
    M.per_sender = UNDER_TSAN ? 20000 : 200000;
    int total = MIX_SENDERS * M.per_sender;
    M.seen = calloc((size_t)total, sizeof *M.seen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(M.seen);
    for (int i = 0; i < MIX_CHANS; i++)
        M.ch[i] = csp_chan_make(sizeof(int), i == 0 ? 1 : 8);
    M.quit = csp_chan_make(0, 0);
    M.senders = csp_wg_new();
    M.receivers = csp_wg_new();
    M.fast = csp_wg_new();
    atomic_store(&M.received, 0);
    atomic_store(&M.bad, 0);

    csp_wg_add(M.receivers, MIX_PLAIN + MIX_SELECTS);
    csp_wg_add(M.fast, MIX_FAST);
    for (intptr_t i = 0; i < MIX_PLAIN; i++)
        CSP_ASSERT_EQ(csp_go(mix_plain, (void *)i), 0);
    for (intptr_t i = 0; i < MIX_SELECTS; i++)
        CSP_ASSERT_EQ(csp_go(mix_select, (void *)i), 0);
    for (intptr_t i = 0; i < MIX_FAST; i++)
        CSP_ASSERT_EQ(csp_go(mix_plain_fast, (void *)i), 0);
    csp_wg_add(M.senders, MIX_SENDERS);
    for (intptr_t s = 0; s < MIX_SENDERS; s++)
        CSP_ASSERT_EQ(csp_go(mix_sender, (void *)s), 0);

    csp_wg_wait(M.senders);
    /* Every value is sent; wait (bounded) for all to arrive, and for the
     * select receivers to see quit; then stop the csp_recv ones with one
     * sentinel each. */
    csp_chan *t = csp_after(WAIT_MS * MS);
    csp_case cases[] = { csp_case_recv(M.quit, NULL), csp_case_recv(t, NULL) };
    CSP_ASSERT_EQ(csp_select(cases, 2), 0);
    csp_chan_release(t);
    csp_wg_wait(M.receivers);
    int sentinel = -1;
    for (int i = 0; i < MIX_FAST; i++)
        CSP_ASSERT_EQ(csp_send(M.ch[i % MIX_CHANS], &sentinel), 0);
    csp_wg_wait(M.fast);

    CSP_ASSERT_EQ(atomic_load(&M.received), total);
    CSP_ASSERT_EQ(atomic_load(&M.bad), 0);
    int missing = 0;
    for (int v = 0; v < total; v++)
        missing += atomic_load(&M.seen[v]) != 1;
    CSP_ASSERT_EQ(missing, 0);
    for (int i = 0; i < MIX_CHANS; i++) {
        CSP_ASSERT_EQ(csp_len(M.ch[i]), 0);
        csp_chan_release(M.ch[i]);
    }
    csp_chan_release(M.quit);
    csp_wg_free(M.senders);
    csp_wg_free(M.receivers);
    csp_wg_free(M.fast);
    free(M.seen);
}

/* ------------------------------------------------------------------------
 * Release right after the last value
 * ------------------------------------------------------------------------ */

enum { LAST_VALUES = 3 };

static void send_three(void *p)
{
    csp_chan *c = p;
    for (int i = 0; i < LAST_VALUES; i++)
        csp_send(c, &i);
}

static void send_three_tokens(void *p)
{
    for (int i = 0; i < LAST_VALUES; i++)
        csp_send((csp_chan *)p, NULL);
}

/* size: of the values; 0 makes a ring of positions only (ring.c). */
static int release_after_last_value(size_t size, int rounds)
{
    int wrong = 0;
    for (int r = 0; r < rounds && !wrong; r++) {
        csp_chan *c = csp_chan_make(size, 1 + (size_t)(r % 3));
        if (!c || csp_go(size ? send_three : send_three_tokens, c) != 0)
            return 1;
        for (int i = 0; i < LAST_VALUES; i++) {
            int v = -1;
            if (csp_recv(c, size ? &v : NULL) != 0 || (size && v != i))
                wrong = 1;
        }
        csp_chan_release(c); /* the sender may not have returned from csp_send yet */
    }
    return wrong;
}

static void test_release_after_last_value(void)
{
    CSP_ASSERT_EQ(release_after_last_value(sizeof(int), UNDER_TSAN ? 500 : 5000), 0);
    CSP_ASSERT_EQ(release_after_last_value(0, UNDER_TSAN ? 5000 : 50000), 0);
}

static void send_three_close(void *p)
{
    send_three(p);
    csp_close((csp_chan *)p);
}

/* The range loop's end: the receiver sees the close and releases the channel
 * while the closer may still be inside csp_close. */
static void test_release_after_close(void)
{
    int rounds = UNDER_TSAN ? 500 : 5000, wrong = 0;
    for (int r = 0; r < rounds && !wrong; r++) {
        size_t size = r % 2 ? sizeof(int) : 0;
        csp_chan *c = csp_chan_make(size, 1 + (size_t)(r % 4));
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CSP_ASSERT_EQ(csp_go(send_three_close, c), 0);
        int v, n = 0, rc;
        while ((rc = csp_recv(c, &v)) == 0) {
            wrong |= size && v != n;
            n++;
        }
        wrong |= rc != CSP_ECLOSED || n != LAST_VALUES;
        csp_chan_release(c);
    }
    CSP_ASSERT_EQ(wrong, 0);
}

/* ------------------------------------------------------------------------
 * csp_len within bounds
 * ------------------------------------------------------------------------ */

typedef struct churn {
    csp_chan *c;
    int n;
} churn;

static void churn_sender(void *p)
{
    churn *k = p;
    for (int i = 0; i < k->n; i++)
        csp_send(k->c, &i);
}

static void test_len_within_bounds(void)
{
    static churn k;
    enum { CAP = 4 };
    k.c = csp_chan_make(sizeof(int), CAP);
    k.n = UNDER_TSAN ? 20000 : 200000;
    CSP_ASSERT_EQ(csp_go(churn_sender, &k), 0);
    int out_of_bounds = 0;
    for (int i = 0; i < k.n; i++) {
        size_t len = csp_len(k.c);
        out_of_bounds += len > CAP;
        int v;
        CSP_ASSERT_EQ(csp_recv(k.c, &v), 0);
    }
    CSP_ASSERT_EQ(out_of_bounds, 0);
    CSP_ASSERT_EQ(csp_len(k.c), 0);
    csp_chan_release(k.c);
}

/* ------------------------------------------------------------------------
 * Zero-size values: a capacity costs nothing
 * ------------------------------------------------------------------------ */

/* Go's make(chan struct{}, n) as a counting semaphore: no memory per slot, so
 * a huge capacity is fine, and the count is exact. */
static void test_zero_size_huge_capacity(void)
{
    csp_chan *c = csp_chan_make(0, (size_t)1 << 40);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (int i = 0; i < 1000; i++)
        CSP_ASSERT_EQ(csp_trysend(c, NULL), 0);
    CSP_ASSERT_EQ(csp_len(c), 1000);
    for (int i = 0; i < 1000; i++)
        CSP_ASSERT_EQ(csp_recv(c, NULL), 0);
    CSP_ASSERT_EQ(csp_tryrecv(c, NULL), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_close(c), 0);
    CSP_ASSERT_EQ(csp_recv(c, NULL), CSP_ECLOSED);
    csp_chan_release(c);

    csp_chan *one = csp_chan_make(0, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    CSP_ASSERT_EQ(csp_trysend(one, NULL), 0);
    CSP_ASSERT_EQ(csp_trysend(one, NULL), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(one), 1);
    csp_chan_release(one);
}

static const csp_test tests[] = {
    { "pingpong_capacity_one", test_pingpong_capacity_one },
    { "token_pingpong", test_token_pingpong },
    { "plain_and_select_receivers", test_plain_and_select_receivers },
    { "release_after_last_value", test_release_after_last_value },
    { "release_after_close", test_release_after_close },
    { "len_within_bounds", test_len_within_bounds },
    { "zero_size_huge_capacity", test_zero_size_huge_capacity },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "ring", tests, NULL, 120);
}
