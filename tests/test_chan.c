/*
 * test_chan.c - channels: rendezvous, buffering, FIFO, element sizes (on both
 * sides of the waiter's inline value), the non-blocking operations, NULL
 * channels, allocation failure, reference counting, first-come-first-served
 * queues and directional views.
 *
 * Goroutines share state with the test through static structs (never the
 * test's stack, so a failed wait cannot leave a goroutine writing into a dead
 * frame). Waits are bounded polls (csp_test_wait_until), never fixed sleeps.
 */
#include "harness.h"

#include <csp.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TIMEOUT_SECONDS = 60, WAIT_MS = 10000, QUIET_MS = 50 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Blocking operations for the test thread whose partner is a goroutine:
 * bounded, so a broken library fails the test instead of hanging it. */
static int recv_within(csp_chan *c, void *out)
{
    csp_case k = csp_case_recv(c, out);
    int rc = csp_select_timeout(&k, 1, (int64_t)WAIT_MS * CSP_MILLISECOND);
    return rc == 0 ? k.err : rc;
}

static int send_within(csp_chan *c, const void *elem)
{
    csp_case k = csp_case_send(c, elem);
    int rc = csp_select_timeout(&k, 1, (int64_t)WAIT_MS * CSP_MILLISECOND);
    return rc == 0 ? k.err : rc;
}

/* One goroutine's transfer: the channel, the value, its result, a done flag. */
typedef struct xfer {
    csp_chan *ch;
    int val;
    int rc;
    atomic_int done;
} xfer;

static void xfer_reset(xfer *x, csp_chan *ch, int val)
{
    x->ch = ch;
    x->val = val;
    x->rc = 12345;
    atomic_store(&x->done, 0);
}

static void send_fn(void *p)
{
    xfer *x = p;
    x->rc = csp_send(x->ch, &x->val);
    atomic_store(&x->done, 1);
}

static void recv_fn(void *p)
{
    xfer *x = p;
    x->rc = csp_recv(x->ch, &x->val);
    atomic_store(&x->done, 1);
}

/* ------------------------------------------------------------------------
 * Unbuffered rendezvous
 * ------------------------------------------------------------------------ */

/* The sender must not return before a receiver took its value. */
static void test_unbuffered_send_waits_for_receiver(void)
{
    static xfer x;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CSP_ASSERT_EQ(csp_cap(ch), 0);
    xfer_reset(&x, ch, 42);
    CSP_ASSERT_EQ(csp_go(send_fn, &x), 0);

    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));                       /* the sender is parked... */
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));          /* ...and stays so with no receiver */
    CSP_ASSERT_EQ(csp_len(ch), 0);                     /* nothing was buffered */

    int v = -1;
    CSP_ASSERT_EQ(recv_within(ch, &v), 0);
    CSP_ASSERT_EQ(v, 42);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    csp_chan_release(ch);
}

/* The receiver must not return before a sender arrived. */
static void test_unbuffered_recv_waits_for_sender(void)
{
    static xfer x;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    xfer_reset(&x, ch, -1);
    CSP_ASSERT_EQ(csp_go(recv_fn, &x), 0);

    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    CSP_ASSERT_EQ(x.val, -1);

    int v = 77;
    CSP_ASSERT_EQ(send_within(ch, &v), 0);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    CSP_ASSERT_EQ(x.val, 77);
    csp_chan_release(ch);
}

/* Many rendezvous in a row, both sides goroutines, values intact. */
typedef struct pingpong {
    csp_chan *ping, *pong;
    int n;
    int bad;
    atomic_int done;
} pingpong;

static void pong_fn(void *p)
{
    pingpong *pp = p;
    for (int i = 0; i < pp->n; i++) {
        int v;
        if (csp_recv(pp->ping, &v) != 0 || v != i)
            pp->bad++;
        v = -v;
        if (csp_send(pp->pong, &v) != 0)
            pp->bad++;
    }
    atomic_store(&pp->done, 1);
}

static void test_unbuffered_pingpong(void)
{
    static pingpong pp;
    pp.ping = csp_chan_make(sizeof(int), 0);
    pp.pong = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp.ping);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp.pong);
    pp.n = UNDER_TSAN ? 200 : 400;
    pp.bad = 0;
    atomic_store(&pp.done, 0);
    CSP_ASSERT_EQ(csp_go(pong_fn, &pp), 0);
    int bad = 0;
    for (int i = 0; i < pp.n; i++) {
        int v = i, w = 1;
        if (send_within(pp.ping, &v) != 0)
            bad++;
        if (recv_within(pp.pong, &w) != 0 || w != -i)
            bad++;
        if (bad)
            break;
    }
    CSP_ASSERT_EQ(bad, 0);
    CU_ASSERT(csp_test_wait_flag(&pp.done, WAIT_MS));
    CSP_ASSERT_EQ(pp.bad, 0);
    csp_chan_release(pp.ping);
    csp_chan_release(pp.pong);
}

/* ------------------------------------------------------------------------
 * Buffered channels
 * ------------------------------------------------------------------------ */

/* cap sends succeed with no receiver; the next trysend is CSP_EAGAIN; a
 * blocking send then waits for room; len and cap follow. */
static void test_buffered_capacity(void)
{
    static xfer x;
    enum { CAP = 4 };
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(int), CAP);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CSP_ASSERT_EQ(csp_cap(ch), CAP);
    CSP_ASSERT_EQ(csp_len(ch), 0);
    for (int i = 0; i < CAP; i++) {
        int v = 100 + i;
        CSP_ASSERT_EQ(i % 2 ? csp_send(ch, &v) : csp_trysend(ch, &v), 0);
        CSP_ASSERT_EQ(csp_len(ch), i + 1);
    }
    int extra = 999;
    CSP_ASSERT_EQ(csp_trysend(ch, &extra), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(ch), CAP);
    CSP_ASSERT_EQ(csp_cap(ch), CAP);

    /* A blocking send on the full channel parks until there is room. */
    xfer_reset(&x, ch, 104);
    CSP_ASSERT_EQ(csp_go(send_fn, &x), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    CSP_ASSERT_EQ(csp_len(ch), CAP);

    int v = -1;
    CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 100);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    CSP_ASSERT_EQ(csp_len(ch), CAP); /* the waiting sender took the freed slot */

    for (int i = 1; i <= CAP; i++) {
        CSP_ASSERT_EQ(csp_tryrecv(ch, &v), 0);
        CSP_ASSERT_EQ(v, 100 + i);
        CSP_ASSERT_EQ(csp_len(ch), CAP - i);
    }
    CSP_ASSERT_EQ(csp_tryrecv(ch, &v), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(ch), 0);
    csp_chan_release(ch);
}

/* The ring wraps around many times without reordering or losing values. */
static void test_buffered_wraparound(void)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    int next_in = 0, next_out = 0, bad = 0;
    for (int round = 0; round < 500; round++) {
        int k = 1 + round % 3; /* push k, pop k, at shifting ring offsets */
        for (int i = 0; i < k; i++)
            if (csp_trysend(ch, &next_in) == 0)
                next_in++;
            else
                bad++;
        for (int i = 0; i < k; i++) {
            int v = -1;
            if (csp_tryrecv(ch, &v) != 0 || v != next_out++)
                bad++;
        }
    }
    CSP_ASSERT_EQ(bad, 0);
    CSP_ASSERT_EQ(next_in, next_out);
    csp_chan_release(ch);
}

typedef struct producer {
    csp_chan *ch;
    int n;
    int bad;
    atomic_int done;
} producer;

static void produce_fn(void *p)
{
    producer *pr = p;
    for (int i = 0; i < pr->n; i++)
        if (csp_send(pr->ch, &i) != 0)
            pr->bad++;
    atomic_store(&pr->done, 1);
}

/* A single producer's values arrive in the order sent, for several
 * capacities (unbuffered included). */
static void test_fifo_single_producer(void)
{
    static producer pr;
    static const size_t caps[] = { 0, 1, 7, 64 };
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        pr.ch = csp_chan_make(sizeof(int), caps[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pr.ch);
        pr.n = UNDER_TSAN ? 500 : 1000;
        pr.bad = 0;
        atomic_store(&pr.done, 0);
        CSP_ASSERT_EQ(csp_go(produce_fn, &pr), 0);
        int out_of_order = 0;
        for (int i = 0; i < pr.n; i++) {
            int v = -1;
            int rc = recv_within(pr.ch, &v);
            if (rc != 0 || v != i) {
                fprintf(stderr, "cap %zu: recv #%d gave rc %d value %d\n", caps[c], i, rc, v);
                out_of_order++;
                break;
            }
        }
        CSP_ASSERT_EQ(out_of_order, 0);
        CU_ASSERT(csp_test_wait_flag(&pr.done, WAIT_MS));
        CSP_ASSERT_EQ(pr.bad, 0);
        CSP_ASSERT_EQ(csp_len(pr.ch), 0);
        csp_chan_release(pr.ch);
    }
}

/* ------------------------------------------------------------------------
 * Element sizes
 * ------------------------------------------------------------------------ */

static void recv_null_fn(void *p)
{
    xfer *x = p;
    x->rc = csp_recv(x->ch, NULL);
    atomic_store(&x->done, 1);
}

static void send_null_fn(void *p)
{
    xfer *x = p;
    x->rc = csp_send(x->ch, NULL);
    atomic_store(&x->done, 1);
}

/* elem_size 0 (Go's chan struct{}): counting works, NULL in and out. */
static void test_zero_size_elements(void)
{
    static xfer x;
    csp_test_wait_quiet(WAIT_MS);
    /* Buffered: capacity still counts values. */
    csp_chan *b = csp_chan_make(0, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CSP_ASSERT_EQ(csp_cap(b), 3);
    char dummy = 'x';
    CSP_ASSERT_EQ(csp_send(b, NULL), 0);
    CSP_ASSERT_EQ(csp_trysend(b, &dummy), 0);
    CSP_ASSERT_EQ(csp_send(b, NULL), 0);
    CSP_ASSERT_EQ(csp_len(b), 3);
    CSP_ASSERT_EQ(csp_trysend(b, NULL), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_recv(b, NULL), 0);
    CSP_ASSERT_EQ(csp_len(b), 2);
    char out = 'o';
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), 0);
    CSP_ASSERT_EQ(out, 'o'); /* zero bytes copied */
    CSP_ASSERT_EQ(csp_recv(b, NULL), 0);
    CSP_ASSERT_EQ(csp_tryrecv(b, NULL), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_len(b), 0);
    CSP_ASSERT_EQ(csp_close(b), 0);
    CSP_ASSERT_EQ(csp_recv(b, NULL), CSP_ECLOSED);
    csp_chan_release(b);

    /* Unbuffered: still a rendezvous, both directions. */
    csp_chan *u = csp_chan_make(0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    CSP_ASSERT_EQ(csp_trysend(u, NULL), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_tryrecv(u, NULL), CSP_EAGAIN);
    xfer_reset(&x, u, 0);
    CSP_ASSERT_EQ(csp_go(recv_null_fn, &x), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    CSP_ASSERT_EQ(send_within(u, NULL), 0);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);

    xfer_reset(&x, u, 0);
    CSP_ASSERT_EQ(csp_go(send_null_fn, &x), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    CSP_ASSERT_EQ(recv_within(u, NULL), 0);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    csp_chan_release(u);
}

/* out may be NULL on a channel of non-zero elements: the value is dropped. */
static void test_recv_null_out_discards(void)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    int a = 1, b = 2, v = 0;
    CSP_ASSERT_EQ(csp_send(ch, &a), 0);
    CSP_ASSERT_EQ(csp_send(ch, &b), 0);
    CSP_ASSERT_EQ(csp_recv(ch, NULL), 0);
    CSP_ASSERT_EQ(csp_len(ch), 1);
    CSP_ASSERT_EQ(csp_tryrecv(ch, &v), 0);
    CSP_ASSERT_EQ(v, 2);
    csp_chan_release(ch);
}

/* Element sizes on both sides of the waiter's inline value (sizeof(void *)
 * bytes): small values travel inside the waiter, larger ones by pointer. */
static const size_t elem_sizes[] = { 1, 3, 7, 8, 9, 16, 100 };
enum { MAX_ELEM = 100, GUARD = 16 };

static void value_fill(unsigned char *v, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        v[i] = (unsigned char)(seed * 31u + i * 7u + 1u);
}

typedef struct sizedxfer {
    csp_chan *ch;
    size_t size;
    int n;
    int bad;
    atomic_int done;
} sizedxfer;

static void sized_producer(void *p)
{
    sizedxfer *sx = p;
    for (int i = 0; i < sx->n; i++) {
        unsigned char v[MAX_ELEM];
        value_fill(v, sx->size, (unsigned)i);
        if (csp_send(sx->ch, v) != 0)
            sx->bad++;
    }
    atomic_store(&sx->done, 1);
}

/* Receives value i into a guarded buffer: true when it came whole and
 * nothing past elem_size was written. recv: a blocking receive. */
static bool recv_checked(csp_chan *ch, size_t size, int i, int (*recv)(csp_chan *, void *))
{
    unsigned char out[MAX_ELEM + GUARD], want[MAX_ELEM];
    memset(out, 0xAA, sizeof out);
    value_fill(want, size, (unsigned)i);
    return recv(ch, out) == 0 && memcmp(out, want, size) == 0 &&
           csp_test_all_bytes(out + size, sizeof out - size, 0xAA);
}

static int plain_recv(csp_chan *ch, void *out)
{
    return csp_recv(ch, out);
}

static void sized_consumer(void *p)
{
    sizedxfer *sx = p;
    for (int i = 0; i < sx->n; i++) {
        if (!recv_checked(sx->ch, sx->size, i, plain_recv))
            sx->bad++;
    }
    atomic_store(&sx->done, 1);
}

/* One channel: a goroutine sends (or receives) n values and the test thread
 * takes (or gives) them; every 50 values the test thread waits until the
 * goroutine is blocked, so that each side is sometimes the one that blocked
 * first. */
static void element_sizes_one(size_t size, size_t cap, bool goroutine_sends)
{
    static sizedxfer sx;
    sx.size = size;
    sx.ch = csp_chan_make(size, cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sx.ch);
    sx.n = 300;
    sx.bad = 0;
    atomic_store(&sx.done, 0);
    size_t base = csp_test_stats().blocked;
    CSP_ASSERT_EQ(csp_go(goroutine_sends ? sized_producer : sized_consumer, &sx), 0);
    int bad = 0;
    for (int i = 0; i < sx.n && !bad; i++) {
        if (i % 50 == 0)
            CU_ASSERT(csp_test_wait_blocked(base + 1, WAIT_MS));
        if (goroutine_sends) {
            bad += !recv_checked(sx.ch, size, i, recv_within);
        } else {
            unsigned char v[MAX_ELEM];
            value_fill(v, size, (unsigned)i);
            bad += send_within(sx.ch, v) != 0;
        }
    }
    CSP_ASSERT_EQ(bad, 0);
    CU_ASSERT(csp_test_wait_flag(&sx.done, WAIT_MS));
    CSP_ASSERT_EQ(sx.bad, 0);
    csp_chan_release(sx.ch);
}

/* Values of every size are copied whole, whichever side blocked first, and
 * nothing past elem_size is written. */
static void test_element_sizes(void)
{
    static const size_t caps[] = { 0, 1, 3 };
    for (size_t z = 0; z < sizeof elem_sizes / sizeof elem_sizes[0]; z++) {
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            element_sizes_one(elem_sizes[z], caps[c], true);
            element_sizes_one(elem_sizes[z], caps[c], false);
        }
    }
}

/* A receiver blocked when the channel closes gets the zero value of each
 * size, and nothing past it. */
typedef struct zeroxfer {
    csp_chan *ch;
    unsigned char out[MAX_ELEM + GUARD];
    int rc;
    atomic_int done;
} zeroxfer;

static void zero_receiver(void *p)
{
    zeroxfer *zx = p;
    zx->rc = csp_recv(zx->ch, zx->out);
    atomic_store(&zx->done, 1);
}

static void test_close_zero_sizes(void)
{
    static zeroxfer zx;
    for (size_t z = 0; z < sizeof elem_sizes / sizeof elem_sizes[0]; z++) {
        size_t size = elem_sizes[z];
        zx.ch = csp_chan_make(size, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(zx.ch);
        memset(zx.out, 0xAA, sizeof zx.out);
        zx.rc = 12345;
        atomic_store(&zx.done, 0);
        size_t before = csp_test_stats().blocked;
        CSP_ASSERT_EQ(csp_go(zero_receiver, &zx), 0);
        CU_ASSERT(csp_test_wait_blocked(before + 1, WAIT_MS));
        CSP_ASSERT_EQ(csp_close(zx.ch), 0);
        CU_ASSERT(csp_test_wait_flag(&zx.done, WAIT_MS));
        CSP_ASSERT_EQ(zx.rc, CSP_ECLOSED);
        CU_ASSERT(csp_test_all_bytes(zx.out, size, 0));
        CU_ASSERT(csp_test_all_bytes(zx.out + size, sizeof zx.out - size, 0xAA));
        csp_chan_release(zx.ch);
    }
}

/* ------------------------------------------------------------------------
 * trysend / tryrecv
 * ------------------------------------------------------------------------ */

/* CSP_EAGAIN when the operation cannot proceed, success when a partner is
 * blocked waiting (unbuffered trysend succeeds only with a blocked receiver). */
static void test_try_operations(void)
{
    static xfer x;
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *u = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    int v = 5, out = -1;
    CSP_ASSERT_EQ(csp_trysend(u, &v), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_tryrecv(u, &out), CSP_EAGAIN);
    CSP_ASSERT_EQ(out, -1);
    CSP_ASSERT_EQ(csp_len(u), 0);

    /* The failed trysend left nothing behind for a later receiver. */
    xfer_reset(&x, u, -1);
    CSP_ASSERT_EQ(csp_go(recv_fn, &x), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    /* Now a receiver waits: trysend hands the value straight over. */
    v = 6;
    CSP_ASSERT_EQ(csp_trysend(u, &v), 0);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    CSP_ASSERT_EQ(x.val, 6);
    /* And that receiver is gone: the next trysend fails again. */
    CSP_ASSERT_EQ(csp_trysend(u, &v), CSP_EAGAIN);

    /* A sender waits: tryrecv takes its value. */
    xfer_reset(&x, u, 8);
    CSP_ASSERT_EQ(csp_go(send_fn, &x), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    CU_ASSERT(!csp_test_wait_flag(&x.done, QUIET_MS));
    CSP_ASSERT_EQ(csp_tryrecv(u, &out), 0);
    CSP_ASSERT_EQ(out, 8);
    CU_ASSERT(csp_test_wait_flag(&x.done, WAIT_MS));
    CSP_ASSERT_EQ(x.rc, 0);
    CSP_ASSERT_EQ(csp_tryrecv(u, &out), CSP_EAGAIN);
    csp_chan_release(u);

    /* Buffered: trysend while there is room, tryrecv while there are values. */
    csp_chan *b = csp_chan_make(sizeof(int), 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), CSP_EAGAIN);
    v = 1;
    CSP_ASSERT_EQ(csp_trysend(b, &v), 0);
    v = 2;
    CSP_ASSERT_EQ(csp_trysend(b, &v), 0);
    v = 3;
    CSP_ASSERT_EQ(csp_trysend(b, &v), CSP_EAGAIN);
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), 0);
    CSP_ASSERT_EQ(out, 1);
    CSP_ASSERT_EQ(csp_trysend(b, &v), 0);
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), 0);
    CSP_ASSERT_EQ(out, 2);
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), 0);
    CSP_ASSERT_EQ(out, 3);
    CSP_ASSERT_EQ(csp_tryrecv(b, &out), CSP_EAGAIN);
    csp_chan_release(b);
}

/* ------------------------------------------------------------------------
 * NULL channels and bad sizes
 * ------------------------------------------------------------------------ */

static void test_null_channel(void)
{
    csp_chan *nc = NULL;
    int v = 1;
    CSP_ASSERT_EQ(csp_send(nc, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_recv(nc, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_trysend(nc, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_tryrecv(nc, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_close(nc), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_len(nc), 0);
    CSP_ASSERT_EQ(csp_cap(nc), 0);
    /* A literal NULL goes through the generic macros too. */
    CSP_ASSERT_EQ(csp_send(NULL, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_recv(NULL, NULL), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_close(NULL), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_len(NULL), 0);
    /* And views of a NULL channel. */
    csp_send_chan sv = csp_send_only(nc);
    csp_recv_chan rv = csp_recv_only(nc);
    CSP_ASSERT_EQ(csp_send(sv, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_trysend(sv, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_close(sv), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_recv(rv, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_tryrecv(rv, &v), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_len(sv), 0);
    CSP_ASSERT_EQ(csp_cap(rv), 0);
    CSP_ASSERT_EQ(v, 1);
    /* retain/release of NULL are harmless. */
    CU_ASSERT_PTR_NULL(csp_chan_retain(NULL));
    csp_chan_release(NULL);
}

/* A send with a NULL value is CSP_EINVAL, and sends nothing, unless the
 * values are zero-size (then there is nothing to copy). */
static void test_send_null_value(void)
{
    static const size_t caps[] = { 0, 2 };
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        csp_chan *ch = csp_chan_make(sizeof(int), caps[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
        CSP_ASSERT_EQ(csp_send(ch, NULL), CSP_EINVAL);
        CSP_ASSERT_EQ(csp_trysend(ch, NULL), CSP_EINVAL);
        csp_case k = csp_case_send(ch, NULL);
        CSP_ASSERT_EQ(csp_select_try(&k, 1), CSP_EINVAL);
        CSP_ASSERT_EQ(csp_len(ch), 0);
        int v = 0;
        CSP_ASSERT_EQ(csp_tryrecv(ch, &v), CSP_EAGAIN);
        csp_chan_release(ch);
    }
    csp_chan *zero = csp_chan_make(0, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zero);
    CSP_ASSERT_EQ(csp_send(zero, NULL), 0);
    CSP_ASSERT_EQ(csp_len(zero), 1);
    csp_case k = csp_case_send(zero, NULL);
    CSP_ASSERT_EQ(csp_select_try(&k, 1), CSP_EAGAIN); /* full, not invalid */
    CSP_ASSERT_EQ(csp_recv(zero, NULL), 0);
    csp_chan_release(zero);
}

/* A size whose ring cannot be represented fails cleanly: NULL and errno. */
static void test_make_huge_fails(void)
{
    static const struct {
        size_t elem, cap;
    } bad[] = {
        { SIZE_MAX / 2, 4 },
        { (size_t)1 << 40, (size_t)1 << 40 },
        { SIZE_MAX, 2 },
        { 16, SIZE_MAX / 8 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        csp_chan *c = csp_chan_make(bad[i].elem, bad[i].cap);
        CU_ASSERT_PTR_NULL(c);
        CU_ASSERT(errno == EINVAL || errno == ENOMEM);
        if (c)
            csp_chan_release(c);
    }
    /* A normal channel still works afterwards. */
    csp_chan *ok = csp_chan_make(sizeof(int), 1);
    CU_ASSERT_PTR_NOT_NULL(ok);
    csp_chan_release(ok);
}

/* ------------------------------------------------------------------------
 * References
 * ------------------------------------------------------------------------ */

/* Retained twice and released twice: still usable until the last release
 * (the ASan build turns an early free into a failure). */
static void test_retain_release(void)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CU_ASSERT_PTR_EQUAL(csp_chan_retain(ch), ch);
    CU_ASSERT_PTR_EQUAL(csp_chan_retain(ch), ch);
    int v = 9, out = 0;
    CSP_ASSERT_EQ(csp_send(ch, &v), 0);
    csp_chan_release(ch);
    CSP_ASSERT_EQ(csp_len(ch), 1);
    csp_chan_release(ch);
    CSP_ASSERT_EQ(csp_recv(ch, &out), 0);
    CSP_ASSERT_EQ(out, 9);
    CSP_ASSERT_EQ(csp_trysend(ch, &v), 0);
    CSP_ASSERT_EQ(csp_close(ch), 0);
    CSP_ASSERT_EQ(csp_cap(ch), 2);
    csp_chan_release(ch); /* the last one frees it */
}

/* State for the release-while-blocked tests: G blocks on ch, the test drops
 * its own reference, S (holding the only other owner reference) completes
 * G's operation and releases. G must finish correctly and nobody may touch
 * freed memory (the ASan build checks that). */
typedef struct rwb {
    csp_chan *ch;
    int got;
    int rc_g, rc_s;
    atomic_int g_done, s_done;
} rwb;

static void rwb_receiver(void *p)
{
    rwb *r = p;
    int v = -1;
    r->rc_g = csp_recv(r->ch, &v); /* the blocked op holds its own reference */
    r->got = v;
    atomic_store(&r->g_done, 1);
}

static void rwb_sender(void *p)
{
    rwb *r = p;
    int v = 4242;
    r->rc_s = csp_send(r->ch, &v);
    csp_chan_release(r->ch);
    atomic_store(&r->s_done, 1);
}

static void rwb_closer(void *p)
{
    rwb *r = p;
    r->rc_s = csp_close(r->ch);
    csp_chan_release(r->ch);
    atomic_store(&r->s_done, 1);
}

static void rwb_run(csp_fn second, int want_rc, int want_val)
{
    static rwb r;
    csp_test_wait_quiet(WAIT_MS);
    r.ch = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ch);
    r.got = 0;
    r.rc_g = r.rc_s = 12345;
    atomic_store(&r.g_done, 0);
    atomic_store(&r.s_done, 0);
    CSP_ASSERT_EQ(csp_go(rwb_receiver, &r), 0);
    CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
    csp_chan_retain(r.ch);  /* the reference handed to the second goroutine */
    csp_chan_release(r.ch); /* the test's own, dropped while G is blocked */
    CSP_ASSERT_EQ(csp_go(second, &r), 0);
    CU_ASSERT(csp_test_wait_flag(&r.s_done, WAIT_MS));
    CU_ASSERT(csp_test_wait_flag(&r.g_done, WAIT_MS));
    CSP_ASSERT_EQ(r.rc_s, 0);
    CSP_ASSERT_EQ(r.rc_g, want_rc);
    CSP_ASSERT_EQ(r.got, want_val);
}

static void test_release_while_blocked_send(void)
{
    rwb_run(rwb_sender, 0, 4242);
}

static void test_release_while_blocked_close(void)
{
    rwb_run(rwb_closer, CSP_ECLOSED, 0);
}

/* G blocks in a select over two channels; the test drops its only
 * reference to the first while G waits, then completes G's select on the
 * second. G must withdraw its waiter from the first channel, which only its
 * own blocked-operation reference keeps alive (and which that reference's
 * release then frees: the ASan build's leak check sees it). */
typedef struct rwb_sel {
    csp_chan *dropped, *kept;
    int v_dropped, v_kept;
    int rc;
    atomic_int done;
} rwb_sel;

static void rwb_sel_fn(void *p)
{
    rwb_sel *r = p;
    csp_case cs[2] = { csp_case_recv(r->dropped, &r->v_dropped), csp_case_recv(r->kept, &r->v_kept) };
    r->rc = csp_select(cs, 2);
    atomic_store(&r->done, 1);
}

static void test_release_while_blocked_select(void)
{
    static rwb_sel r;
    for (int round = 0; round < 20; round++) {
        csp_test_wait_quiet(WAIT_MS);
        r.dropped = csp_chan_make(sizeof(int), round % 2);
        r.kept = csp_chan_make(sizeof(int), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.dropped);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.kept);
        r.v_dropped = r.v_kept = -1;
        r.rc = 12345;
        atomic_store(&r.done, 0);
        CSP_ASSERT_EQ(csp_go(rwb_sel_fn, &r), 0);
        CU_ASSERT(csp_test_wait_blocked(1, WAIT_MS));
        csp_chan_release(r.dropped); /* the last owner reference */
        int v = 5150 + round;
        CSP_ASSERT_EQ(send_within(r.kept, &v), 0);
        CU_ASSERT(csp_test_wait_flag(&r.done, WAIT_MS));
        CSP_ASSERT_EQ(r.rc, 1);
        CSP_ASSERT_EQ(r.v_kept, v);
        CSP_ASSERT_EQ(r.v_dropped, -1);
        csp_chan_release(r.kept);
    }
}

/* ------------------------------------------------------------------------
 * First come, first served
 * ------------------------------------------------------------------------ */

enum { FCFS_N = 6 };

/* Senders block one after another (each seen blocked before the next is
 * started); receives return their values in that order. */
static void fcfs_senders(size_t cap)
{
    static xfer xs[FCFS_N];
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(int), cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    for (size_t i = 0; i < cap; i++) {
        int v = 1000 + (int)i;
        CSP_ASSERT_EQ(csp_trysend(ch, &v), 0);
    }
    for (int i = 0; i < FCFS_N; i++) {
        xfer_reset(&xs[i], ch, i);
        CSP_ASSERT_EQ(csp_go(send_fn, &xs[i]), 0);
        CU_ASSERT(csp_test_wait_blocked((size_t)i + 1, WAIT_MS));
    }
    for (size_t i = 0; i < cap; i++) {
        int v = -1;
        CSP_ASSERT_EQ(csp_recv(ch, &v), 0);
        CSP_ASSERT_EQ(v, 1000 + (int)i);
    }
    for (int i = 0; i < FCFS_N; i++) {
        int v = -1;
        CSP_ASSERT_EQ(recv_within(ch, &v), 0);
        CSP_ASSERT_EQ(v, i);
    }
    for (int i = 0; i < FCFS_N; i++) {
        CU_ASSERT(csp_test_wait_flag(&xs[i].done, WAIT_MS));
        CSP_ASSERT_EQ(xs[i].rc, 0);
    }
    CSP_ASSERT_EQ(csp_len(ch), 0);
    csp_chan_release(ch);
}

static void test_fcfs_senders_unbuffered(void)
{
    fcfs_senders(0);
}

static void test_fcfs_senders_buffered(void)
{
    fcfs_senders(2);
}

/* Receivers block one after another; the values sent go to them in order. */
static void fcfs_receivers(size_t cap)
{
    static xfer xs[FCFS_N];
    csp_test_wait_quiet(WAIT_MS);
    csp_chan *ch = csp_chan_make(sizeof(int), cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    for (int i = 0; i < FCFS_N; i++) {
        xfer_reset(&xs[i], ch, -1);
        CSP_ASSERT_EQ(csp_go(recv_fn, &xs[i]), 0);
        CU_ASSERT(csp_test_wait_blocked((size_t)i + 1, WAIT_MS));
    }
    for (int i = 0; i < FCFS_N; i++) {
        int v = i;
        CSP_ASSERT_EQ(send_within(ch, &v), 0);
    }
    for (int i = 0; i < FCFS_N; i++) {
        CU_ASSERT(csp_test_wait_flag(&xs[i].done, WAIT_MS));
        CSP_ASSERT_EQ(xs[i].rc, 0);
        CSP_ASSERT_EQ(xs[i].val, i);
    }
    csp_chan_release(ch);
}

static void test_fcfs_receivers_unbuffered(void)
{
    fcfs_receivers(0);
}

static void test_fcfs_receivers_buffered(void)
{
    fcfs_receivers(3);
}

/* ------------------------------------------------------------------------
 * Directional views
 * ------------------------------------------------------------------------ */

typedef struct viewpair {
    csp_send_chan out;
    int n;
    int bad;
    atomic_int done;
} viewpair;

static void view_producer(void *p)
{
    viewpair *vp = p;
    for (int i = 0; i < vp->n; i++)
        if (csp_send(vp->out, &i) != 0)
            vp->bad++;
    if (csp_close(vp->out) != 0)
        vp->bad++;
    atomic_store(&vp->done, 1);
}

static void test_views_runtime(void)
{
    static viewpair vp;
    csp_chan *ch = csp_chan_make(sizeof(int), 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    csp_send_chan sv = csp_send_only(ch);
    csp_recv_chan rv = csp_recv_only(ch);
    CSP_ASSERT_EQ(csp_cap(sv), 4);
    CSP_ASSERT_EQ(csp_cap(rv), 4);
    int v = 3, out = -1;
    CSP_ASSERT_EQ(csp_send(sv, &v), 0);
    v = 4;
    CSP_ASSERT_EQ(csp_trysend(sv, &v), 0);
    CSP_ASSERT_EQ(csp_len(sv), 2);
    CSP_ASSERT_EQ(csp_len(rv), 2);
    CSP_ASSERT_EQ(csp_len(ch), 2);
    CSP_ASSERT_EQ(csp_recv(rv, &out), 0);
    CSP_ASSERT_EQ(out, 3);
    CSP_ASSERT_EQ(csp_tryrecv(rv, &out), 0);
    CSP_ASSERT_EQ(out, 4);
    CSP_ASSERT_EQ(csp_tryrecv(rv, &out), CSP_EAGAIN);

    /* A producer that only has the send view, a consumer with the recv view. */
    vp.out = sv;
    vp.n = 1000;
    vp.bad = 0;
    atomic_store(&vp.done, 0);
    CSP_ASSERT_EQ(csp_go(view_producer, &vp), 0);
    int i = 0, bad = 0;
    while (csp_recv(rv, &out) == 0)
        if (out != i++)
            bad++;
    CSP_ASSERT_EQ(bad, 0);
    CSP_ASSERT_EQ(i, 1000);
    CU_ASSERT(csp_test_wait_flag(&vp.done, WAIT_MS));
    CSP_ASSERT_EQ(vp.bad, 0);
    /* csp_close through the view really closed the channel. */
    CSP_ASSERT_EQ(csp_send(ch, &v), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_close(sv), CSP_ECLOSED);
    CSP_ASSERT_EQ(csp_recv(rv, &out), CSP_ECLOSED);
    csp_chan_release(ch);
}

/* ------------------------------------------------------------------------
 * Error names
 * ------------------------------------------------------------------------ */

static void test_strerror_names_codes(void)
{
    static const int codes[] = { CSP_ECLOSED, CSP_EAGAIN, CSP_ETIMEDOUT, CSP_EINVAL, CSP_ENOMEM };
    enum { N = sizeof codes / sizeof codes[0] };
    /* The codes are negated errno values, and distinct. */
    CSP_ASSERT_EQ(CSP_ECLOSED, -EPIPE);
    CSP_ASSERT_EQ(CSP_EAGAIN, -EAGAIN);
    CSP_ASSERT_EQ(CSP_ETIMEDOUT, -ETIMEDOUT);
    CSP_ASSERT_EQ(CSP_EINVAL, -EINVAL);
    CSP_ASSERT_EQ(CSP_ENOMEM, -ENOMEM);
    const char *unknown = csp_strerror(-123456);
    CU_ASSERT_PTR_NOT_NULL(unknown);
    for (int i = 0; i < N; i++) {
        const char *s = csp_strerror(codes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT(s[0] != '\0');
        if (unknown)
            CU_ASSERT(strcmp(s, unknown) != 0); /* really named, not the fallback */
        for (int j = 0; j < i; j++)
            CU_ASSERT(strcmp(s, csp_strerror(codes[j])) != 0);
    }
    CU_ASSERT_PTR_NOT_NULL(csp_strerror(0));
}

/* ------------------------------------------------------------------------ */

static const csp_test tests[] = {
    { "unbuffered_send_waits_for_receiver", test_unbuffered_send_waits_for_receiver },
    { "unbuffered_recv_waits_for_sender", test_unbuffered_recv_waits_for_sender },
    { "unbuffered_pingpong", test_unbuffered_pingpong },
    { "buffered_capacity", test_buffered_capacity },
    { "buffered_wraparound", test_buffered_wraparound },
    { "fifo_single_producer", test_fifo_single_producer },
    { "zero_size_elements", test_zero_size_elements },
    { "recv_null_out_discards", test_recv_null_out_discards },
    { "element_sizes", test_element_sizes },
    { "close_zero_sizes", test_close_zero_sizes },
    { "try_operations", test_try_operations },
    { "null_channel", test_null_channel },
    { "send_null_value", test_send_null_value },
    { "make_huge_fails", test_make_huge_fails },
    { "retain_release", test_retain_release },
    { "release_while_blocked_send", test_release_while_blocked_send },
    { "release_while_blocked_close", test_release_while_blocked_close },
    { "release_while_blocked_select", test_release_while_blocked_select },
    { "fcfs_senders_unbuffered", test_fcfs_senders_unbuffered },
    { "fcfs_senders_buffered", test_fcfs_senders_buffered },
    { "fcfs_receivers_unbuffered", test_fcfs_receivers_unbuffered },
    { "fcfs_receivers_buffered", test_fcfs_receivers_buffered },
    { "views_runtime", test_views_runtime },
    { "strerror_names_codes", test_strerror_names_codes },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "chan", tests, NULL, TIMEOUT_SECONDS);
}
