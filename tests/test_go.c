/*
 * test_go.c - goroutines: csp_go, csp_go_copy and the thread pool.
 *
 * Clauses (API.md, "Goroutines", "Runtime, configuration, debugging"):
 * csp_go runs fn(arg) and returns without waiting for it; NULL fn is
 * CSP_EINVAL; csp_go happens before fn starts; csp_go_copy hands fn a private
 * copy, aligned for any object type and freed when fn returns; finished
 * goroutines leave reusable idle threads (csp_stats_get); at the thread cap
 * csp_go is CSP_EAGAIN and fn never runs; CSP_MAX_THREADS, CSP_IDLE_MS and
 * CSP_STACK_SIZE take effect; thousands of goroutines can block at once; a
 * goroutine may start goroutines.
 *
 * The environment variables are read once, so their tests run a child: this
 * program re-executes itself (/proc/self/exe --child=MODE) with the variable
 * set, and checks the child's exit status and stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <csp.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if UNDER_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define MS CSP_MILLISECOND

static const char prog[] = "test_go"; /* argv[0] of its children */

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static int goroutines_at_most(void *p)
{
    return csp_test_stats().goroutines <= *(size_t *)p;
}

static int idle_at_least(void *p)
{
    return csp_test_stats().threads_idle >= *(size_t *)p;
}

static int threads_at_most(void *p)
{
    return csp_test_stats().threads <= *(size_t *)p;
}

/* Every goroutine finished: the pool holds only idle threads. */
static void quiesce(void)
{
    size_t zero = 0;
    CU_ASSERT(csp_test_wait_fast(goroutines_at_most, &zero, 2000, 10000));
}

/* ------------------------------------------------------------------------
 * Children
 * ------------------------------------------------------------------------ */

static void show_child(const char *mode, const csp_test_child_result *r)
{
    fprintf(stderr, "\nchild %s: %s, status 0x%x; its stderr:\n%s\n", mode,
            r->timed_out ? "timed out" : csp_test_child_ok(r) ? "exited 0" : "failed", r->status, r->err);
}

static int child_wait(int (*cond)(void *), void *ctx, unsigned ms)
{
    return csp_test_wait_until(cond, ctx, ms);
}

/* ---- --child=cap4 (CSP_MAX_THREADS=4) ---- */

static csp_chan *cap_gate;
static atomic_int cap_ran_after_eagain;
static atomic_int cap_finished;

static void cap_block_fn(void *p)
{
    (void)p;
    csp_recv(cap_gate, NULL); /* until the gate closes */
    atomic_fetch_add(&cap_finished, 1);
}

static void cap_never_fn(void *p)
{
    (void)p;
    atomic_store(&cap_ran_after_eagain, 1);
}

static int child_cap4(void)
{
    atomic_init(&cap_ran_after_eagain, 0);
    atomic_init(&cap_finished, 0);
    for (int round = 0; round < 2; round++) {
        cap_gate = csp_chan_make(0, 0);
        CHILD_CHECK(cap_gate);
        for (int i = 0; i < 4; i++)
            CHILD_CHECK(csp_go(cap_block_fn, NULL) == 0);
        size_t four = 4;
        CHILD_CHECK(child_wait(csp_test_blocked_at_least, &four, 20000));
        csp_stats s = csp_test_stats();
        uint64_t spawned = s.spawned;
        CHILD_CHECK(s.threads == 4);
        CHILD_CHECK(s.threads_idle == 0);
        /* The fifth: no thread can be had. */
        int r = csp_go(cap_never_fn, NULL);
        if (r != CSP_EAGAIN)
            fprintf(stderr, "5th csp_go with CSP_MAX_THREADS=4 returned %d, want %d\n", r, CSP_EAGAIN);
        CHILD_CHECK(r == CSP_EAGAIN);
        int x = 1;
        CHILD_CHECK(csp_go_copy(cap_never_fn, &x, sizeof x) == CSP_EAGAIN);
        s = csp_test_stats();
        CHILD_CHECK(s.threads == 4 && s.threads_peak == 4);
        CHILD_CHECK(s.spawned == spawned); /* a refused goroutine was not started */
        /* Release them: the pool has room again. */
        CHILD_CHECK(csp_close(cap_gate) == 0);
        CHILD_CHECK(child_wait(idle_at_least, &four, 20000));
        csp_wg *wg = csp_wg_new();
        CHILD_CHECK(wg && csp_wg_add(wg, 4) == 0);
        for (int i = 0; i < 4; i++)
            CHILD_CHECK(csp_go(csp_test_done_fn, wg) == 0);
        csp_wg_wait(wg);
        csp_wg_free(wg);
        CHILD_CHECK(child_wait(idle_at_least, &four, 20000));
        s = csp_test_stats();
        CHILD_CHECK(s.threads <= 4 && s.threads_peak == 4);
        csp_chan_release(cap_gate);
    }
    CHILD_CHECK(atomic_load(&cap_finished) == 8);
    CHILD_CHECK(atomic_load(&cap_ran_after_eagain) == 0); /* never ran */
    return 0;
}

/* ---- --child=idle (CSP_IDLE_MS=50): idle threads leave the pool ---- */

/* Starts n goroutines blocked on a gate, then opens it: n threads go idle. */
static void run_n_then_finish(size_t n)
{
    csp_chan *gate = csp_chan_make(0, 0);
    CHILD_CHECK(gate);
    for (size_t i = 0; i < n; i++)
        CHILD_CHECK(csp_go(csp_test_gate_fn, gate) == 0);
    CHILD_CHECK(child_wait(csp_test_blocked_at_least, &n, 20000));
    CHILD_CHECK(csp_test_stats().threads == n);
    csp_close(gate);
    csp_chan_release(gate);
}

static int proc_threads_at_most(void *p)
{
    return csp_test_os_threads() <= *(long *)p;
}

static int child_idle(void)
{
    long os_before = csp_test_os_threads();
    run_n_then_finish(8);
    size_t zero = 0;
    /* Bounded well below any plausible default idle time. */
    if (!child_wait(threads_at_most, &zero, 3000))
        fprintf(stderr, "threads still %zu after 3 s with CSP_IDLE_MS=50\n", csp_test_stats().threads);
    CHILD_CHECK(csp_test_stats().threads == 0);
    CHILD_CHECK(csp_test_stats().threads_idle == 0);
    /* The OS threads exited (a sanitizer may have started one helper). */
    long os_slack = os_before + 1;
    if (!child_wait(proc_threads_at_most, &os_slack, 3000))
        fprintf(stderr, "OS threads: %ld before, %ld now\n", os_before, csp_test_os_threads());
    CHILD_CHECK(csp_test_os_threads() <= os_slack);
    /* The pool starts threads again. */
    run_n_then_finish(2);
    CHILD_CHECK(child_wait(threads_at_most, &zero, 3000));
    return 0;
}

/* ---- --child=idle_long (CSP_IDLE_MS=600000): idle threads stay ---- */

static int child_idle_long(void)
{
    run_n_then_finish(8);
    size_t eight = 8;
    CHILD_CHECK(child_wait(idle_at_least, &eight, 20000));
    size_t seven = 7;
    /* A bounded wait for an exit that must not happen yet. */
    CHILD_CHECK(!child_wait(threads_at_most, &seven, 300));
    CHILD_CHECK(csp_test_stats().threads == 8 && csp_test_stats().threads_idle == 8);
    return 0;
}

/* ---- --child=stack (CSP_STACK_SIZE set by the parent) ---- */

enum { STACK_USE = 600 * 1024 };

static __attribute__((noinline)) unsigned use_stack(void)
{
    volatile unsigned char buf[STACK_USE];
    for (size_t i = sizeof buf; i-- > 0;) /* from the top of the frame down */
        buf[i] = (unsigned char)i;
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        sum += buf[i];
    return sum;
}

static csp_wg *stack_wg;
static _Atomic unsigned stack_out;

static void stack_fn(void *p)
{
    (void)p;
    atomic_store(&stack_out, use_stack());
    csp_wg_done(stack_wg);
}

static int child_stack(void)
{
    unsigned want = 0;
    for (size_t i = 0; i < STACK_USE; i++)
        want += (unsigned char)i;
    fprintf(stderr, "using %d KB of goroutine stack\n", STACK_USE / 1024);
    stack_wg = csp_wg_new();
    CHILD_CHECK(stack_wg && csp_wg_add(stack_wg, 1) == 0);
    CHILD_CHECK(csp_go(stack_fn, NULL) == 0);
    csp_wg_wait(stack_wg);
    CHILD_CHECK(atomic_load(&stack_out) == want);
    csp_wg_free(stack_wg);
    fprintf(stderr, "stack ok\n");
    return 0;
}

/* ---- --child=many (CSP_IDLE_MS=200): thousands blocked at once ---- */

#if UNDER_TSAN
enum { MANY = 1000 }; /* ThreadSanitizer cannot map 10,000 threads' shadow */
#else
enum { MANY = 10000 };
#endif

static csp_chan *many_ch;
static csp_wg *many_wg;
static atomic_int many_closed;

static void many_fn(void *p)
{
    (void)p;
    if (csp_recv(many_ch, NULL) == CSP_ECLOSED)
        atomic_fetch_add(&many_closed, 1);
    csp_wg_done(many_wg);
}

static int child_many(void)
{
    int64_t t0 = csp_now();
    atomic_init(&many_closed, 0);
    many_ch = csp_chan_make(0, 0);
    many_wg = csp_wg_new();
    CHILD_CHECK(many_ch && many_wg);
    CHILD_CHECK(csp_wg_add(many_wg, MANY) == 0);
    for (int i = 0; i < MANY; i++) {
        int r = csp_go(many_fn, NULL);
        if (r != 0)
            fprintf(stderr, "csp_go #%d failed: %s\n", i, csp_strerror(r));
        CHILD_CHECK(r == 0);
    }
    size_t all = MANY;
    CHILD_CHECK(child_wait(csp_test_blocked_at_least, &all, 60000));
    csp_stats s = csp_test_stats();
    CHILD_CHECK(s.blocked == MANY && s.goroutines == MANY && s.threads >= MANY);
    CHILD_CHECK(s.spawned == MANY);
    int64_t t1 = csp_now();
    CHILD_CHECK(csp_close(many_ch) == 0);
    csp_wg_wait(many_wg);
    CHILD_CHECK(atomic_load(&many_closed) == MANY);
    int64_t t2 = csp_now();
    /* Let the threads leave so that the exit (and its leak check) is quick. */
    size_t zero = 0;
    CHILD_CHECK(child_wait(threads_at_most, &zero, 60000));
    fprintf(stderr, "%d goroutines: started and blocked in %lld ms, woken in %lld ms, gone in %lld ms\n",
            MANY, (long long)((t1 - t0) / MS), (long long)((t2 - t1) / MS),
            (long long)((csp_now() - t2) / MS));
    csp_chan_release(many_ch);
    csp_wg_free(many_wg);
    return 0;
}

/* ------------------------------------------------------------------------
 * csp_go
 * ------------------------------------------------------------------------ */

typedef struct run_ctx {
    int input;         /* written plainly before csp_go: visible in fn */
    void *self;        /* fn records the arg it was given */
    int output;
    atomic_int done;
} run_ctx;

static void run_fn(void *p)
{
    run_ctx *c = p;
    c->self = p;
    c->output = c->input * 2;
    atomic_store(&c->done, 1);
}

/* fn runs, with the very arg pointer; csp_go happens before fn starts. */
static void test_go_runs_fn_with_arg(void)
{
    run_ctx c = { .input = 21 };
    atomic_init(&c.done, 0);
    uint64_t spawned = csp_test_stats().spawned;
    CSP_ASSERT_EQ(csp_go(run_fn, &c), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &c.done, 10000));
    CU_ASSERT_PTR_EQUAL(c.self, &c);
    CSP_ASSERT_EQ(c.output, 42);
    CU_ASSERT(csp_test_stats().spawned >= spawned + 1);
    /* The plain function, without the spawn-site macro, too. */
    run_ctx d = { .input = 5 };
    atomic_init(&d.done, 0);
    CSP_ASSERT_EQ((csp_go)(run_fn, &d), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &d.done, 10000));
    CSP_ASSERT_EQ(d.output, 10);
    quiesce();
}

typedef struct handoff {
    csp_chan *ch;
    int got;
    int rc;
    atomic_int done;
    atomic_int go_returned;
    int go_rc;
} handoff;

static void handoff_fn(void *p)
{
    handoff *h = p;
    h->rc = csp_recv(h->ch, &h->got); /* filled by the caller after csp_go returns */
    atomic_store(&h->done, 1);
}

static void *spawner_thread(void *p)
{
    handoff *h = p;
    h->go_rc = csp_go(handoff_fn, h);
    atomic_store(&h->go_returned, 1);
    return NULL;
}

/* csp_go returns without waiting for fn: fn blocks until the caller sends,
 * which it can only do after csp_go returned. The call runs on a helper
 * thread so that a csp_go that waits fails the test instead of hanging. */
static void test_go_returns_before_fn_finishes(void)
{
    handoff h = { 0 };
    h.ch = csp_chan_make(sizeof(int), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h.ch);
    atomic_init(&h.done, 0);
    atomic_init(&h.go_returned, 0);
    pthread_t th;
    CSP_ASSERT_EQ(pthread_create(&th, NULL, spawner_thread, &h), 0);
    int returned = csp_test_wait_until(csp_test_flag_set, &h.go_returned, 10000);
    CU_ASSERT(returned);
    CSP_ASSERT_EQ(atomic_load(&h.done), 0); /* fn cannot have finished: nothing sent */
    int v = 77;
    CSP_ASSERT_EQ(csp_send(h.ch, &v), 0); /* unblocks fn (and a stuck csp_go) */
    pthread_join(th, NULL);
    CU_ASSERT_FATAL(returned); /* else the loop below would deadlock */
    CSP_ASSERT_EQ(h.go_rc, 0);
    CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &h.done, 10000));
    CSP_ASSERT_EQ(h.rc, 0);
    CSP_ASSERT_EQ(h.got, 77);
    /* The same from the main thread, with a goroutine spawned per value. */
    for (int i = 0; i < 20; i++) {
        atomic_store(&h.done, 0);
        CSP_ASSERT_EQ(csp_go(handoff_fn, &h), 0);
        CSP_ASSERT_EQ(csp_send(h.ch, &i), 0);
        CU_ASSERT(csp_test_wait_until(csp_test_flag_set, &h.done, 10000));
        CSP_ASSERT_EQ(h.got, i);
    }
    quiesce();
    csp_chan_release(h.ch);
}

/* A NULL fn is CSP_EINVAL, and nothing is started. */
static void test_go_null_fn(void)
{
    csp_stats before = csp_test_stats();
    int x = 0;
    CSP_ASSERT_EQ(csp_go(NULL, &x), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_go(NULL, NULL), CSP_EINVAL);
    CSP_ASSERT_EQ((csp_go)(NULL, NULL), CSP_EINVAL);
    CSP_ASSERT_EQ(csp_go_copy(NULL, &x, sizeof x), CSP_EINVAL);
    CSP_ASSERT_EQ((csp_go_copy)(NULL, &x, sizeof x), CSP_EINVAL);
    csp_stats after = csp_test_stats();
    CSP_ASSERT_EQ(after.spawned, before.spawned);
    CU_ASSERT(after.goroutines <= before.goroutines);
}

/* ------------------------------------------------------------------------
 * csp_go_copy
 * ------------------------------------------------------------------------ */

typedef struct seen_ctx {
    csp_chan *gate; /* closed after the loop: the copies are read late */
    atomic_int seen[100];
    atomic_int bad;
    csp_wg *wg;
} seen_ctx;

static seen_ctx loop_ctx;

static void loop_fn(void *p)
{
    int v = *(int *)p; /* read once before blocking... */
    csp_recv(loop_ctx.gate, NULL);
    int w = *(int *)p; /* ...and after: the copy is still ours */
    if (v != w || v < 0 || v >= 100)
        atomic_fetch_add(&loop_ctx.bad, 1);
    else
        atomic_fetch_add(&loop_ctx.seen[v], 1);
    csp_wg_done(loop_ctx.wg);
}

/* Each goroutine gets its own copy of the loop variable: 0..99 exactly once,
 * although the variable changes (and is clobbered) right after each call. */
static void test_go_copy_loop_variable(void)
{
    memset(&loop_ctx, 0, sizeof loop_ctx);
    loop_ctx.gate = csp_chan_make(0, 0);
    loop_ctx.wg = csp_wg_new();
    CU_ASSERT_FATAL(loop_ctx.gate && loop_ctx.wg);
    CSP_ASSERT_EQ(csp_wg_add(loop_ctx.wg, 100), 0);
    int i;
    for (i = 0; i < 100; i++) {
        CSP_ASSERT_EQ(csp_go_copy(loop_fn, &i, sizeof i), 0);
        int saved = i;
        i = -12345; /* clobber: a goroutine reading our variable sees this */
        i = saved;
    }
    i = -1;
    csp_close(loop_ctx.gate);
    csp_wg_wait(loop_ctx.wg);
    CSP_ASSERT_EQ(atomic_load(&loop_ctx.bad), 0);
    for (int k = 0; k < 100; k++)
        CSP_ASSERT_EQ(atomic_load(&loop_ctx.seen[k]), 1);
    quiesce();
    csp_chan_release(loop_ctx.gate);
    csp_wg_free(loop_ctx.wg);
}

typedef struct align_rec {
    uintptr_t addr;
    const void *src;
    int intact;
    size_t size;
} align_rec;

static align_rec align_out[32];
static csp_wg *align_wg;

/* The copy carries its own index and size first, then a pattern. */
typedef struct copy_head {
    int idx;
    size_t size;
    const void *src;
} copy_head;

static void align_fn(void *p)
{
    copy_head h;
    memcpy(&h, p, sizeof h);
    align_rec *r = &align_out[h.idx];
    r->addr = (uintptr_t)p;
    r->src = h.src;
    r->size = h.size;
    const unsigned char *b = p;
    int ok = 1;
    for (size_t i = sizeof h; i < h.size; i++)
        ok &= b[i] == (unsigned char)(i * 7 + h.idx);
    r->intact = ok;
    csp_wg_done(align_wg);
}

/* The copy is aligned for any object type, whatever its size, and is a
 * copy (another address) with the same bytes. */
static void test_go_copy_aligned(void)
{
    static const size_t sizes[] = { sizeof(copy_head), sizeof(copy_head) + 1, 31, 63, 64, 65, 100, 127,
                                    128, 129, 255, 256, 1000, 4096, 4097, 65536 };
    enum { NS = sizeof sizes / sizeof sizes[0] };
    unsigned char *src[NS];
    align_wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(align_wg);
    memset(align_out, 0, sizeof align_out);
    CSP_ASSERT_EQ(csp_wg_add(align_wg, NS), 0);
    for (int k = 0; k < NS; k++) {
        /* An odd source address: the copy's alignment must not follow it. */
        unsigned char *raw = malloc(sizes[k] + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
        src[k] = raw;
        unsigned char *s = raw + 1;
        copy_head h = { k, sizes[k], s };
        for (size_t i = sizeof h; i < sizes[k]; i++)
            s[i] = (unsigned char)(i * 7 + k);
        memcpy(s, &h, sizeof h);
        CSP_ASSERT_EQ(csp_go_copy(align_fn, s, sizes[k]), 0);
    }
    csp_wg_wait(align_wg);
    for (int k = 0; k < NS; k++) {
        align_rec *r = &align_out[k];
        if (r->addr % _Alignof(max_align_t) != 0)
            fprintf(stderr, "copy of %zu bytes at %p: not aligned to %zu\n", sizes[k], (void *)r->addr,
                    (size_t)_Alignof(max_align_t));
        CSP_ASSERT_EQ(r->addr % _Alignof(max_align_t), 0);
        CU_ASSERT(r->addr != (uintptr_t)r->src); /* a copy, not the caller's bytes */
        CSP_ASSERT_EQ(r->size, sizes[k]);
        CU_ASSERT(r->intact);
        free(src[k]);
    }
    quiesce();
    csp_wg_free(align_wg);
}

/* A max_align_t value and an over-sized struct of doubles survive the copy
 * (a misaligned copy would also fault under UBSan here). */
typedef struct typed_arg {
    max_align_t m;
    long double ld;
    double d[5];
    csp_wg *wg;
    int *ok;
} typed_arg;

static void typed_fn(void *p)
{
    typed_arg *a = p; /* used as the type: UBSan checks the alignment */
    int ok = a->ld == 1.25L;
    for (int i = 0; i < 5; i++)
        ok &= a->d[i] == i * 0.5;
    *a->ok = ok;
    csp_wg_done(a->wg);
}

static void test_go_copy_typed(void)
{
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    int ok[4] = { 0 };
    CSP_ASSERT_EQ(csp_wg_add(wg, 4), 0);
    for (int k = 0; k < 4; k++) {
        typed_arg a;
        memset(&a, 0, sizeof a);
        a.ld = 1.25L;
        for (int i = 0; i < 5; i++)
            a.d[i] = i * 0.5;
        a.wg = wg;
        a.ok = &ok[k];
        CSP_ASSERT_EQ(csp_go_copy(typed_fn, &a, sizeof a), 0);
        memset(&a, 0xee, sizeof a);
    }
    csp_wg_wait(wg);
    for (int k = 0; k < 4; k++)
        CSP_ASSERT_EQ(ok[k], 1);
    quiesce();
    csp_wg_free(wg);
}

typedef struct big_arg {
    csp_chan *gate;
    csp_wg *wg;
    int *result;
    unsigned char bytes[10 * 1024];
    uint32_t sum;
} big_arg;

static void big_fn(void *p)
{
    big_arg *a = p;
    if (a->gate)
        csp_recv(a->gate, NULL); /* the caller's struct is clobbered by now */
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof a->bytes; i++)
        sum = sum * 31 + a->bytes[i];
    *a->result = sum == a->sum;
    csp_wg_done(a->wg);
}

/* A 10 KB argument arrives intact, stays valid while fn blocks, and is freed
 * after fn returns (ASan: a use after an early free faults, and the leak
 * check below, and at exit, catches copies never freed). */
static void test_go_copy_large(void)
{
    enum { N = 8, SEQ = 64 };
    csp_wg *wg = csp_wg_new();
    csp_chan *gate = csp_chan_make(0, 0);
    big_arg *a = malloc(sizeof *a);
    int result[N + SEQ];
    CU_ASSERT_FATAL(wg && gate && a);
    memset(result, 0, sizeof result);
    /* N at once, blocked while the caller's struct is clobbered. */
    CSP_ASSERT_EQ(csp_wg_add(wg, N), 0);
    for (int k = 0; k < N; k++) {
        a->gate = gate;
        a->wg = wg;
        a->result = &result[k];
        a->sum = 0;
        for (size_t i = 0; i < sizeof a->bytes; i++) {
            a->bytes[i] = (unsigned char)(i * 13 + k);
            a->sum = a->sum * 31 + a->bytes[i];
        }
        CSP_ASSERT_EQ(csp_go_copy(big_fn, a, sizeof *a), 0);
        memset(a, 0x5a, sizeof *a);
    }
    csp_close(gate);
    csp_wg_wait(wg);
    /* Then many one after another (the same pooled thread, mostly). */
    for (int k = N; k < N + SEQ; k++) {
        CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
        a->gate = NULL;
        a->wg = wg;
        a->result = &result[k];
        a->sum = 0;
        for (size_t i = 0; i < sizeof a->bytes; i++) {
            a->bytes[i] = (unsigned char)(i ^ (unsigned)k);
            a->sum = a->sum * 31 + a->bytes[i];
        }
        CSP_ASSERT_EQ(csp_go_copy(big_fn, a, sizeof *a), 0);
        csp_wg_wait(wg);
    }
    for (int k = 0; k < N + SEQ; k++)
        CSP_ASSERT_EQ(result[k], 1);
    quiesce();
#if UNDER_ASAN
    /* Every copy whose goroutine returned is freed by now. */
    CSP_ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0);
#endif
    free(a);
    csp_chan_release(gate);
    csp_wg_free(wg);
}

/* ------------------------------------------------------------------------
 * The pool
 * ------------------------------------------------------------------------ */

/* After goroutines finish their threads are idle and reused: starting as many
 * goroutines again creates no thread. */
static void test_pool_reuses_idle_threads(void)
{
    enum { K = 4 };
    csp_wg *wg = csp_wg_new();
    csp_chan *gate = csp_chan_make(0, 0);
    CU_ASSERT_FATAL(wg && gate);
    CSP_ASSERT_EQ(csp_wg_add(wg, K), 0);
    for (int i = 0; i < K; i++)
        CSP_ASSERT_EQ(csp_go(csp_test_done_fn, wg), 0);
    csp_wg_wait(wg);
    quiesce();
    csp_stats s = csp_test_stats();
    CU_ASSERT(s.threads_idle > 0);
    CSP_ASSERT_EQ(s.threads_idle, s.threads); /* nothing runs */
    CSP_ASSERT_EQ(s.goroutines, 0);
    CU_ASSERT(s.threads_peak >= s.threads);
    /* As many as are idle, at once (blocked), from the idle threads only. */
    size_t k = s.threads_idle < 16 ? s.threads_idle : 16;
    size_t want = s.blocked + k;
    for (size_t i = 0; i < k; i++)
        CSP_ASSERT_EQ(csp_go(csp_test_gate_fn, gate), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_blocked_at_least, &want, 10000));
    csp_stats t = csp_test_stats();
    CU_ASSERT(t.threads <= s.threads); /* no new thread (idle ones may have retired) */
    CSP_ASSERT_EQ(t.threads_peak, s.threads_peak);
    CSP_ASSERT_EQ(t.spawned, s.spawned + k);
    CSP_ASSERT_EQ(t.goroutines, k);
    csp_close(gate);
    quiesce();
    csp_chan_release(gate);
    csp_wg_free(wg);
}

static int all_idle(void *p)
{
    (void)p;
    csp_stats s = csp_test_stats();
    return s.goroutines == 0 && s.threads_idle >= 1;
}

/* 1000 goroutines one after another, each finished before the next: the
 * warm pool serves them all from its idle thread(s), so the thread count does
 * not grow, while spawned grows by exactly 1000. */
static void test_warm_pool_sequential(void)
{
    enum { N = 1000 };
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    /* Warm up: at least one idle thread. */
    CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
    CSP_ASSERT_EQ(csp_go(csp_test_done_fn, wg), 0);
    csp_wg_wait(wg);
    CU_ASSERT_FATAL(csp_test_wait_fast(all_idle, NULL, 2000, 10000));
    csp_stats before = csp_test_stats();
    size_t most = before.threads;
    int stuck = 0;
    for (int i = 0; i < N; i++) {
        CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
        CSP_ASSERT_EQ(csp_go(csp_test_done_fn, wg), 0);
        csp_wg_wait(wg);
        size_t th = csp_test_stats().threads;
        if (th > most)
            most = th;
        if (!csp_test_wait_fast(all_idle, NULL, 2000, 10000)) /* its thread is back on the idle list */
            stuck++;
    }
    csp_stats after = csp_test_stats();
    CSP_ASSERT_EQ(stuck, 0);
    CSP_ASSERT_EQ(after.spawned, before.spawned + N);
    if (most > before.threads)
        fprintf(stderr, "threads grew from %zu to %zu over %d sequential goroutines\n", before.threads, most, N);
    CU_ASSERT(most <= before.threads); /* every one took an idle thread */
    CSP_ASSERT_EQ(after.threads_peak, before.threads_peak);
    csp_wg_free(wg);
}

typedef struct node_arg {
    int depth;
    int on_heap; /* passed by csp_go as a malloc'd block the goroutine frees */
    csp_wg *wg;
    atomic_int *count;
    atomic_int *errors;
} node_arg;

enum { FANOUT = 4, DEPTH = 3 };

static void node_fn(void *p)
{
    node_arg me = *(node_arg *)p;
    if (me.on_heap)
        free(p);
    for (int i = 0; me.depth < DEPTH && i < FANOUT; i++) {
        node_arg child = me;
        child.depth = me.depth + 1;
        child.on_heap = i % 2;
        if (csp_wg_add(me.wg, 1) != 0)
            atomic_fetch_add(me.errors, 1);
        int r;
        if (child.on_heap) { /* csp_go with a pointer... */
            node_arg *h = malloc(sizeof *h);
            *h = child;
            r = h ? csp_go(node_fn, h) : CSP_ENOMEM;
            if (r != 0)
                free(h);
        } else { /* ...and csp_go_copy */
            r = csp_go_copy(node_fn, &child, sizeof child);
        }
        if (r != 0) {
            atomic_fetch_add(me.errors, 1);
            csp_wg_done(me.wg);
        }
    }
    atomic_fetch_add(me.count, 1);
    csp_wg_done(me.wg);
}

/* Goroutines start goroutines: a tree of 1 + 4 + 16 + 64 nodes all run. */
static void test_nested_spawn(void)
{
    atomic_int count, errors;
    atomic_init(&count, 0);
    atomic_init(&errors, 0);
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wg);
    node_arg root = { 0, 0, wg, &count, &errors };
    CSP_ASSERT_EQ(csp_wg_add(wg, 1), 0);
    CSP_ASSERT_EQ(csp_go_copy(node_fn, &root, sizeof root), 0);
    csp_wg_wait(wg);
    CSP_ASSERT_EQ(atomic_load(&errors), 0);
    CSP_ASSERT_EQ(atomic_load(&count), 1 + 4 + 16 + 64);
    quiesce();
    csp_wg_free(wg);
}

enum { STORM_SPAWNERS = 4, STORM_EACH = 5000 };

typedef struct storm_arg {
    csp_wg *wg;
    atomic_int *runs;   /* per goroutine: how often it ran */
    atomic_int *errors;
    int first;          /* a spawner's first goroutine index; a leaf's own */
} storm_arg;

static void storm_leaf(void *p)
{
    storm_arg *a = p;
    atomic_fetch_add(&a->runs[a->first], 1);
    csp_wg_done(a->wg);
}

/* One spawner: goroutines that return at once, so that most land on the
 * spinning idle thread, each claimed by exactly one csp_go. */
static void storm_spawner(void *p)
{
    storm_arg leaf = *(storm_arg *)p;
    for (int i = 0; i < STORM_EACH; i++, leaf.first++) {
        if (csp_wg_add(leaf.wg, 1) != 0 || csp_go_copy(storm_leaf, &leaf, sizeof leaf) != 0) {
            atomic_fetch_add(leaf.errors, 1);
            break;
        }
    }
    csp_wg_done(leaf.wg);
}

/* Four spawners and main race for the spinner and the idle list: every
 * goroutine runs exactly once, and afterwards every thread is idle. */
static void test_spawn_storm(void)
{
    enum { N = (STORM_SPAWNERS + 1) * STORM_EACH };
    atomic_int *runs = calloc(N, sizeof *runs), errors;
    atomic_init(&errors, 0);
    csp_wg *wg = csp_wg_new();
    CU_ASSERT_FATAL(runs && wg);
    CSP_ASSERT_EQ(csp_wg_add(wg, STORM_SPAWNERS + 1), 0);
    storm_arg a = { wg, runs, &errors, 0 };
    for (int i = 0; i < STORM_SPAWNERS; i++, a.first += STORM_EACH)
        CSP_ASSERT_EQ(csp_go_copy(storm_spawner, &a, sizeof a), 0);
    storm_spawner(&a); /* main spawns too */
    csp_wg_wait(wg);
    CSP_ASSERT_EQ(atomic_load(&errors), 0);
    int wrong = 0;
    for (int i = 0; i < N; i++)
        wrong += atomic_load(&runs[i]) != 1;
    CSP_ASSERT_EQ(wrong, 0);
    quiesce();
    csp_stats s = csp_test_stats();
    CSP_ASSERT_EQ(s.threads_idle, s.threads);
    csp_wg_free(wg);
    free(runs);
}

static void exit_fn(void *wg)
{
    csp_wg_done(wg);
    pthread_exit(NULL); /* Go's runtime.Goexit */
}

/* Goroutines that end with pthread_exit take their threads out of the pool
 * and out of the records: the counts come back, csp_dump lists none of them
 * (and returns: new threads may reuse their stacks), and new goroutines run. */
static void test_goroutine_pthread_exit(void)
{
    enum { K = 3, M = 8 };
    quiesce();
    size_t before = csp_test_stats().threads;
    csp_wg *wg = csp_wg_new();
    csp_chan *gate = csp_chan_make(0, 0);
    CU_ASSERT_FATAL(wg && gate);
    CSP_ASSERT_EQ(csp_wg_add(wg, K), 0);
    for (int i = 0; i < K; i++)
        CSP_ASSERT_EQ(csp_go(exit_fn, wg), 0);
    csp_wg_wait(wg);
    CU_ASSERT(csp_test_wait_until(threads_at_most, &before, 10000));
    quiesce();
    size_t want = csp_test_stats().blocked + M;
    for (int i = 0; i < M; i++)
        CSP_ASSERT_EQ(csp_go(csp_test_gate_fn, gate), 0);
    CU_ASSERT(csp_test_wait_until(csp_test_blocked_at_least, &want, 10000));
    char *dump = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&dump, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    csp_dump(f);
    fclose(f);
    CU_ASSERT(strstr(dump, "exit_fn") == NULL);
    size_t gates = 0;
    for (const char *p = dump; (p = strstr(p, "csp_test_gate_fn")); p++)
        gates++;
    CSP_ASSERT_EQ(gates, M);
    free(dump);
    csp_close(gate);
    quiesce();
    csp_chan_release(gate);
    csp_wg_free(wg);
}

/* ------------------------------------------------------------------------
 * Configuration, in children
 * ------------------------------------------------------------------------ */

/* At CSP_MAX_THREADS busy threads csp_go is CSP_EAGAIN and fn never runs;
 * once threads are free again it succeeds. */
static void test_eagain_at_thread_cap(void)
{
    static const char *const env[] = { "CSP_MAX_THREADS=4", NULL };
    csp_test_assert_child_ok(prog, "cap4", env, 60000);
}

/* CSP_IDLE_MS: idle threads leave the pool after that long (and the OS
 * threads exit); with a long one they stay. */
static void test_idle_ms(void)
{
    static const char *const short_env[] = { "CSP_IDLE_MS=50", NULL };
    static const char *const long_env[] = { "CSP_IDLE_MS=600000", NULL };
    csp_test_assert_child_ok(prog, "idle", short_env, 60000);
    csp_test_assert_child_ok(prog, "idle_long", long_env, 60000);
}

/* CSP_STACK_SIZE: with 1 MB a goroutine can use 600 KB of stack; with 256 KB
 * the same goroutine overflows (so the variable is what made the difference). */
#if UNDER_TSAN
static void *measure_fn(void *p)
{
    pthread_attr_t a;
    void *lo;
    size_t size;
    char here;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &lo, &size) == 0)
            *(size_t *)p = (size_t)((uintptr_t)&here - (uintptr_t)lo);
        pthread_attr_destroy(&a);
    }
    return NULL;
}

/* Bytes of a 1 MB thread stack not usable by the thread's code: under
 * ThreadSanitizer glibc carves its large static TLS (~800 KB) from it. */
static size_t stack_overhead(void)
{
    pthread_attr_t a;
    pthread_t t;
    size_t usable = 0;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1 << 20);
    if (pthread_create(&t, &a, measure_fn, &usable) == 0)
        pthread_join(t, NULL);
    pthread_attr_destroy(&a);
    return usable && usable < (1u << 20) ? (1u << 20) - usable : 0;
}
#endif

static void test_stack_size(void)
{
    char big_var[64] = "CSP_STACK_SIZE=1048576";
#if UNDER_TSAN
    snprintf(big_var, sizeof big_var, "CSP_STACK_SIZE=%zu", ((size_t)1 << 20) + stack_overhead());
#endif
    const char *const big[] = { big_var, NULL };
    static const char *const small[] = { "CSP_STACK_SIZE=262144", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "stack", big, 60000, &r), 0);
    if (!csp_test_child_ok(&r))
        show_child("stack (1 MB)", &r);
    CU_ASSERT(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "stack ok"));
    free(r.err);

    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "stack", small, 60000, &r), 0);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "using 600 KB")); /* it got as far as the goroutine */
    if (csp_test_child_ok(&r) || strstr(r.err, "stack ok"))
        show_child("stack (256 KB, must overflow)", &r);
    CU_ASSERT_FALSE(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NULL(strstr(r.err, "stack ok"));
    free(r.err);
}

/* 10,000 goroutines blocked at once in csp_recv on one channel (1,000 under
 * ThreadSanitizer); closing it wakes and finishes them all. */
static void test_ten_thousand_blocked(void)
{
    static const char *const env[] = { "CSP_IDLE_MS=200", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "many", env, 110000, &r), 0);
    if (!csp_test_child_ok(&r))
        show_child("many", &r);
    else
        fprintf(stderr, "[%s] ", strtok(r.err, "\n"));
    CU_ASSERT(csp_test_child_ok(&r));
    free(r.err);
}

static const csp_test tests[] = {
    { "go_runs_fn_with_arg", test_go_runs_fn_with_arg },
    { "go_returns_before_fn_finishes", test_go_returns_before_fn_finishes },
    { "go_null_fn", test_go_null_fn },
    { "go_copy_loop_variable", test_go_copy_loop_variable },
    { "go_copy_aligned", test_go_copy_aligned },
    { "go_copy_typed", test_go_copy_typed },
    { "go_copy_large", test_go_copy_large },
    { "pool_reuses_idle_threads", test_pool_reuses_idle_threads },
    { "warm_pool_sequential", test_warm_pool_sequential },
    { "nested_spawn", test_nested_spawn },
    { "spawn_storm", test_spawn_storm },
    { "goroutine_pthread_exit", test_goroutine_pthread_exit },
    { "eagain_at_thread_cap", test_eagain_at_thread_cap },
    { "idle_ms", test_idle_ms },
    { "stack_size", test_stack_size },
    { "ten_thousand_blocked", test_ten_thousand_blocked },
    { NULL, NULL },
};

static const csp_test_child_mode child_modes[] = {
    { "cap4", child_cap4 },
    { "idle", child_idle },
    { "idle_long", child_idle_long },
    { "stack", child_stack },
    { "many", child_many },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return csp_test_run(argc, argv, "go", tests, child_modes, 120);
}
