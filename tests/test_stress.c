/*
 * test_stress.c - many goroutines doing random sends, receives, selects
 * (blocking, try and timeout, mixed send and receive cases, NULL and
 * duplicate cases) and a few closes over a handful of channels, for a
 * bounded time. Every value carries a unique id:
 *   - a value whose send returned 0 (or whose send case was chosen with
 *     err 0) is received exactly once;
 *   - a value whose send did not happen is never received;
 *   - nothing is received that was not sent, and no value is torn;
 *   - a select's cases that were not chosen left their buffers untouched;
 *   - nothing hangs, and every goroutine finishes.
 *
 * The run lasts CSP_STRESS_SECONDS (default 3, or 2 under ThreadSanitizer),
 * and each goroutine also stops when it runs out of ids.
 */
#include "harness.h"

#include <csp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    TIMEOUT_SECONDS = 120,
    NG = 24,             /* goroutines */
    NCHAN = 8,           /* channels; the last two may be closed mid-run */
    FIRST_CLOSABLE = 6,
    MAXCASES = 5,        /* cases per select */
    MAXPER = 1 << 18,    /* ids per goroutine: also bounds the work */
    NIDS = NG * MAXPER,
};

static const size_t caps[NCHAN] = { 0, 0, 1, 1, 4, 16, 0, 2 };

/* ------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------ */

typedef struct item {
    uint32_t id;
    uint32_t check; /* id ^ MAGIC */
    uint64_t pad[2]; /* id * PADK, ~(id * PADK) */
} item;

#define MAGIC 0xA5A5A5A5u
#define PADK 0x9E3779B97F4A7C15ull

static item make_item(uint32_t id)
{
    item it = { id, id ^ MAGIC, { id * PADK, ~(id * PADK) } };
    return it;
}

/* ------------------------------------------------------------------------
 * Shared state
 * ------------------------------------------------------------------------ */

static csp_chan *chans[NCHAN];
static int64_t deadline;
static int64_t close_after; /* closes mid-run only in the second half */
static atomic_uchar *recv_count;    /* per id: times received */
static unsigned char *sent_ok;      /* per id: written by its sender only */
static uint32_t next_id[NG];        /* per goroutine: ids used so far */
static atomic_long n_corrupt, n_unknown, n_extra_case, n_bad_rc, n_closes;
static atomic_long n_ops, n_sent, n_received;
static atomic_int running;

/* A value taken off a channel (rc 0) or a CSP_ECLOSED zero-fill. */
static void received(const item *it, int rc)
{
    if (rc == CSP_ECLOSED) {
        if (!csp_test_all_bytes(it, sizeof *it, 0))
            atomic_fetch_add(&n_corrupt, 1);
        return;
    }
    if (rc != 0) {
        atomic_fetch_add(&n_bad_rc, 1);
        return;
    }
    item want = make_item(it->id);
    if (memcmp(it, &want, sizeof want) != 0) {
        atomic_fetch_add(&n_corrupt, 1);
        return;
    }
    if (it->id >= NIDS) {
        atomic_fetch_add(&n_unknown, 1);
        return;
    }
    atomic_fetch_add(&recv_count[it->id], 1);
    atomic_fetch_add(&n_received, 1);
}

/* A send attempt's outcome: only rc 0 delivered the value. */
static void sent(uint32_t id, int rc)
{
    if (rc == 0) {
        sent_ok[id] = 1;
        atomic_fetch_add(&n_sent, 1);
    } else if (rc != CSP_ECLOSED && rc != CSP_EAGAIN && rc != CSP_ETIMEDOUT) {
        atomic_fetch_add(&n_bad_rc, 1);
    }
}

/* ------------------------------------------------------------------------
 * The workers
 * ------------------------------------------------------------------------ */

static uint32_t new_id(int g)
{
    return (uint32_t)g * MAXPER + next_id[g]++;
}

static void do_select(int g, uint32_t *rng, int mode)
{
    csp_case cs[MAXCASES];
    item vals[MAXCASES];
    uint32_t ids[MAXCASES];
    int n = 1 + (int)(csp_test_xorshift(rng) % MAXCASES);
    for (int k = 0; k < n; k++) {
        uint32_t r = csp_test_xorshift(rng);
        /* NULL cases are never chosen; a blocking select keeps case 0 live
         * (all NULL would be Go's select {}, which blocks forever). */
        csp_chan *ch = r % 16 == 0 && (k > 0 || mode != 0) ? NULL : chans[(r >> 4) % NCHAN];
        if ((r >> 8) % 2) {
            ids[k] = new_id(g);
            vals[k] = make_item(ids[k]);
            cs[k] = csp_case_send(ch, &vals[k]);
        } else {
            memset(&vals[k], 0xAA, sizeof vals[k]);
            cs[k] = csp_case_recv(ch, &vals[k]); /* never NULL: every value must be counted */
        }
        cs[k].err = 12345;
    }
    int rc;
    if (mode == 0)
        rc = csp_select(cs, (size_t)n);
    else if (mode == 1)
        rc = csp_select_try(cs, (size_t)n);
    else
        rc = csp_select_timeout(cs, (size_t)n, (int64_t)(csp_test_xorshift(rng) % 2000) * CSP_MICROSECOND);

    if (rc < 0 && rc != CSP_EAGAIN && rc != CSP_ETIMEDOUT) {
        atomic_fetch_add(&n_bad_rc, 1);
        rc = -1;
    }
    if ((mode == 0 && rc < 0) || (mode == 1 && rc == CSP_ETIMEDOUT) || (mode == 2 && rc == CSP_EAGAIN))
        atomic_fetch_add(&n_bad_rc, 1);
    if (rc >= n || (rc >= 0 && !cs[rc].ch))
        atomic_fetch_add(&n_bad_rc, 1); /* out of range, or a NULL case chosen */
    for (int k = 0; k < n; k++) {
        if (k == rc) {
            if (cs[k].err != 0 && cs[k].err != CSP_ECLOSED)
                atomic_fetch_add(&n_bad_rc, 1);
            if (cs[k].op == CSP_OP_SEND)
                sent(ids[k], cs[k].err);
            else if (cs[k].val)
                received(&vals[k], cs[k].err);
            continue;
        }
        /* Not chosen: its send did not happen, its buffer is untouched. */
        if (cs[k].op == CSP_OP_SEND)
            sent(ids[k], CSP_EAGAIN);
        else if (!csp_test_all_bytes(&vals[k], sizeof vals[k], 0xAA))
            atomic_fetch_add(&n_extra_case, 1);
    }
}

static void worker(void *p)
{
    int g = (int)(intptr_t)p;
    uint32_t rng = 0x12345u + 0x9E3779B9u * (uint32_t)(g + 1);
    while (csp_now() < deadline && next_id[g] + MAXCASES <= MAXPER) {
        uint32_t r = csp_test_xorshift(&rng);
        csp_chan *ch = chans[(r >> 8) % NCHAN];
        unsigned op = r % 1000;
        atomic_fetch_add_explicit(&n_ops, 1, memory_order_relaxed);
        if (op < 150) {
            uint32_t id = new_id(g);
            item it = make_item(id);
            sent(id, csp_send(ch, &it));
        } else if (op < 300) {
            item it;
            memset(&it, 0xAA, sizeof it);
            received(&it, csp_recv(ch, &it));
        } else if (op < 380) {
            uint32_t id = new_id(g);
            item it = make_item(id);
            sent(id, csp_trysend(ch, &it));
        } else if (op < 460) {
            item it;
            memset(&it, 0xAA, sizeof it);
            int rc = csp_tryrecv(ch, &it);
            if (rc == CSP_EAGAIN) {
                if (!csp_test_all_bytes(&it, sizeof it, 0xAA))
                    atomic_fetch_add(&n_corrupt, 1);
            } else {
                received(&it, rc);
            }
        } else if (op < 700) {
            do_select(g, &rng, 0);
        } else if (op < 850) {
            do_select(g, &rng, 1);
        } else if (op < 999) {
            do_select(g, &rng, 2);
        } else if (csp_test_xorshift(&rng) % 8 == 0 && csp_now() >= close_after) {
            /* rare: close one of the closable channels (maybe again) */
            int rc = csp_close(chans[FIRST_CLOSABLE + (int)(r >> 20) % (NCHAN - FIRST_CLOSABLE)]);
            if (rc == 0)
                atomic_fetch_add(&n_closes, 1);
            else if (rc != CSP_ECLOSED)
                atomic_fetch_add(&n_bad_rc, 1);
        }
    }
    atomic_fetch_sub(&running, 1);
}

/* ------------------------------------------------------------------------
 * The test
 * ------------------------------------------------------------------------ */

static double stress_seconds(void)
{
    const char *s = getenv("CSP_STRESS_SECONDS");
    if (s) {
        double d = atof(s);
        if (d > 0 && d < 600)
            return d;
    }
    return UNDER_TSAN ? 2.0 : 3.0;
}

static int cond_none_running(void *ctx)
{
    (void)ctx;
    return atomic_load(&running) == 0;
}

static int cond_no_goroutines(void *ctx)
{
    (void)ctx;
    csp_stats s;
    csp_stats_get(&s);
    return s.goroutines == 0;
}

static void test_random_mix(void)
{
    recv_count = calloc(NIDS, sizeof *recv_count);
    sent_ok = calloc(NIDS, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(recv_count);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sent_ok);
    for (int c = 0; c < NCHAN; c++) {
        chans[c] = csp_chan_make(sizeof(item), caps[c]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(chans[c]);
    }
    memset(next_id, 0, sizeof next_id);
    int64_t start = csp_now();
    deadline = start + (int64_t)(stress_seconds() * (double)CSP_SECOND);
    close_after = start + (deadline - start) / 2;
    atomic_store(&running, NG);
    for (int g = 0; g < NG; g++) {
        int rc = csp_go(worker, (void *)(intptr_t)g);
        CSP_ASSERT_EQ(rc, 0);
        if (rc != 0)
            atomic_fetch_sub(&running, 1);
    }

    /* Until the deadline the workers run on their own. Then every channel is
     * closed, so that any operation still blocked returns (a buffered value
     * or CSP_ECLOSED) and the workers, past their deadline, stop. */
    while (csp_now() < deadline && atomic_load(&running) > 0)
        csp_test_wait_until(cond_none_running, NULL, 50);
    for (int c = 0; c < NCHAN; c++) {
        int rc = csp_close(chans[c]);
        CU_ASSERT(rc == 0 || (c >= FIRST_CLOSABLE && rc == CSP_ECLOSED));
    }
    int finished = csp_test_wait_until(cond_none_running, NULL, 30000);
    CU_ASSERT(finished);
    if (!finished) {
        fprintf(stderr, "stress: %d workers did not finish\n", atomic_load(&running));
        csp_dump(stderr);
        return; /* they still use the shared state */
    }

    /* What is still buffered is received now. */
    for (int c = 0; c < NCHAN; c++) {
        item it;
        int rc;
        while ((rc = csp_recv(chans[c], &it)) == 0)
            received(&it, 0);
        CSP_ASSERT_EQ(rc, CSP_ECLOSED);
        CSP_ASSERT_EQ(csp_len(chans[c]), 0);
    }

    long lost = 0, dup = 0, ghost = 0, attempted = 0;
    for (uint32_t id = 0; id < NIDS; id++) {
        int n = atomic_load(&recv_count[id]);
        if (sent_ok[id]) {
            lost += n == 0;
            dup += n > 1;
        } else {
            ghost += n != 0;
        }
    }
    for (int g = 0; g < NG; g++)
        attempted += next_id[g];
    fprintf(stderr,
            "stress: %.1f s, %ld ops, %ld ids, %ld sent, %ld received, %ld closes; "
            "lost %ld dup %ld ghost %ld corrupt %ld unknown %ld extra-case %ld bad-rc %ld\n",
            (double)(csp_now() - start) / CSP_SECOND, atomic_load(&n_ops), attempted, atomic_load(&n_sent),
            atomic_load(&n_received), atomic_load(&n_closes), lost, dup, ghost, atomic_load(&n_corrupt),
            atomic_load(&n_unknown), atomic_load(&n_extra_case), atomic_load(&n_bad_rc));
    CSP_ASSERT_EQ(lost, 0);
    CSP_ASSERT_EQ(dup, 0);
    CSP_ASSERT_EQ(ghost, 0);
    CSP_ASSERT_EQ(atomic_load(&n_corrupt), 0);
    CSP_ASSERT_EQ(atomic_load(&n_unknown), 0);
    CSP_ASSERT_EQ(atomic_load(&n_extra_case), 0);
    CSP_ASSERT_EQ(atomic_load(&n_bad_rc), 0);
    CSP_ASSERT_EQ(atomic_load(&n_sent), atomic_load(&n_received));
    /* The run did real work. Not a rate: on an oversubscribed machine each
     * hand-off may wait for a scheduler slice (666 sends in 3 s were seen). */
    CU_ASSERT(atomic_load(&n_sent) > 0);

    /* Every goroutine is gone. */
    CU_ASSERT(csp_test_wait_until(cond_no_goroutines, NULL, 10000));
    csp_stats s;
    csp_stats_get(&s);
    CSP_ASSERT_EQ(s.goroutines, 0);
    CSP_ASSERT_EQ(s.blocked, 0);

    for (int c = 0; c < NCHAN; c++)
        csp_chan_release(chans[c]);
    free(recv_count);
    free(sent_ok);
}

/* ------------------------------------------------------------------------
 * Goroutine churn: thousands of short goroutines, each delivering one value
 * by a blocking send, a select or a timed select.
 * ------------------------------------------------------------------------ */

typedef struct churn {
    csp_chan *out, *quit;
    int n;
    atomic_uchar *seen;
    atomic_int finished;
    atomic_int bad;
} churn;

static churn C;

static void churn_fn(void *p)
{
    int i = *(int *)p; /* csp_go_copy: a private copy of the loop variable */
    int rc;
    switch (i % 3) {
    case 0:
        rc = csp_send(C.out, &i);
        break;
    case 1: {
        csp_case cs[2] = { csp_case_recv(C.quit, NULL), csp_case_send(C.out, &i) };
        rc = csp_select(cs, 2) == 1 ? cs[1].err : -1;
        break;
    }
    default: {
        csp_case cs[1] = { csp_case_send(C.out, &i) };
        while ((rc = csp_select_timeout(cs, 1, CSP_MILLISECOND)) == CSP_ETIMEDOUT) {
        }
        rc = rc == 0 ? cs[0].err : rc;
        break;
    }
    }
    if (rc != 0)
        atomic_fetch_add(&C.bad, 1);
    atomic_fetch_add(&C.finished, 1);
}

static int cond_churn_done(void *ctx)
{
    (void)ctx;
    return atomic_load(&C.finished) == C.n;
}

static void test_goroutine_churn(void)
{
    C.n = UNDER_TSAN ? 1500 : 6000;
    C.out = csp_chan_make(sizeof(int), 8);
    C.quit = csp_chan_make(0, 0);
    C.seen = calloc((size_t)C.n, sizeof *C.seen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(C.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(C.quit);
    CU_ASSERT_PTR_NOT_NULL_FATAL(C.seen);
    atomic_store(&C.finished, 0);
    atomic_store(&C.bad, 0);
    int spawned = 0, received_n = 0, bad = 0;
    for (int i = 0; i < C.n || received_n < spawned;) {
        /* Receive whatever is ready; wait for a value when many goroutines
         * are outstanding or all are spawned, so at most ~64 live at once. */
        int v = -1;
        csp_case cs[1] = { csp_case_recv(C.out, &v) };
        int must_wait = spawned - received_n >= 64 || i == C.n;
        int rc = must_wait ? csp_select_timeout(cs, 1, 20 * CSP_SECOND) : csp_select_try(cs, 1);
        if (rc == 0) {
            bad += cs[0].err != 0 || v < 0 || v >= C.n || atomic_fetch_add(&C.seen[v], 1) != 0;
            received_n++;
            continue;
        }
        if (must_wait) {
            fprintf(stderr, "churn: no value for 20 s (%d of %d received)\n", received_n, spawned);
            csp_dump(stderr);
            bad++;
            break;
        }
        rc = csp_go_copy(churn_fn, &i, sizeof i); /* the goroutine gets its own i */
        CSP_ASSERT_EQ(rc, 0);
        if (rc != 0)
            break;
        spawned++;
        i++;
    }
    CSP_ASSERT_EQ(bad, 0);
    CSP_ASSERT_EQ(received_n, C.n);
    CU_ASSERT(csp_test_wait_until(cond_churn_done, NULL, 20000));
    CSP_ASSERT_EQ(atomic_load(&C.bad), 0);
    int missing = 0;
    for (int i = 0; i < C.n; i++)
        missing += atomic_load(&C.seen[i]) != 1;
    CSP_ASSERT_EQ(missing, 0);
    CU_ASSERT(csp_test_wait_until(cond_no_goroutines, NULL, 10000));
    csp_stats s;
    csp_stats_get(&s);
    CSP_ASSERT_EQ(s.goroutines, 0);
    CU_ASSERT(s.spawned >= (uint64_t)C.n);
    csp_chan_release(C.out);
    csp_chan_release(C.quit);
    free(C.seen);
}

/* ------------------------------------------------------------------------ */

static const csp_test tests[] = {
    { "random_mix", test_random_mix },
    { "goroutine_churn", test_goroutine_churn },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "stress", tests, NULL, TIMEOUT_SECONDS);
}
