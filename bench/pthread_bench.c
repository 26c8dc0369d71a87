/*
 * pthread_bench.c - the raw-pthreads floor: what the rows cost with nothing
 * but OS threads, futexes, mutexes and condition variables.
 *
 *   pthread_bench B1     runs row B1 and prints its RESULT (and EXTRA) lines
 *   pthread_bench all    runs every row it has
 *   pthread_bench list   names the rows (B1 B2 B3 B4 B6 B7: B5 and B8 have no floor)
 *
 * Rows, at the sizes of the libcsp rows:
 *   B1  ping-pong four ways: futex wait/wake (the RESULT), mutex+condvar,
 *       spin-to-spin on atomics, and the least a lock-and-registration
 *       channel can do (EXTRA lines futex_ns, condvar_ns, spin_ns,
 *       handoff_floor_ns); then 20,000 futex round trips beside other
 *       programs that sleep and wake (EXTRA
 *       roundtrip_ns_beside_2_futex_pingpongs_per_cpu, as libcsp's)
 *   B2  mutex+condvar ring buffer, capacity 1024, one producer, one consumer
 *   B3  the same ring, capacity 64, 4 producer and 4 consumer threads
 *   B4  one pthread_create + pthread_join per "goroutine" (at most 1024 alive)
 *   B6  a chain of 1000 threads linked by one-slot futex mailboxes
 *   B7  10,000 threads blocked on one condvar, then a broadcast
 * Every thread gets a 256 KiB stack, libcsp's default, so that memory figures
 * compare. Every row checks its own result and exits 1 if it is wrong.
 */
#include <limits.h>
#include <sched.h>

#include "bench_util.h"

#define IMPL "pthread"

enum { STACK = 256 * 1024 };

static pthread_attr_t attr;

static void attr_setup(void)
{
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STACK);
}

static void spawn(const char *row, pthread_t *t, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, &attr, fn, arg);
    if (rc != 0)
        bench_fail(row, IMPL, "pthread_create: %s", strerror(rc));
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ------------------------------------------------------------------------
 * B1 ping-pong, 200,000 round trips, four ways. turn 0: main's move, 1: echo's.
 * ------------------------------------------------------------------------ */

enum { B1_N = 200000, B1_LOAD_N = 20000 };
static int b1_n; /* round trips of the current run */
static atomic_int b1_turn;
static int b1_val;
static pthread_mutex_t b1_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t b1_cv = PTHREAD_COND_INITIALIZER;

static void *b1_futex_echo(void *arg)
{
    for (int i = 0; i < b1_n; i++) {
        while (atomic_load_explicit(&b1_turn, memory_order_acquire) != 1)
            bench_futex_wait(&b1_turn, 0);
        b1_val++;
        atomic_store_explicit(&b1_turn, 0, memory_order_release);
        bench_futex_wake(&b1_turn, 1);
    }
    return NULL;
}

static void *b1_condvar_echo(void *arg)
{
    pthread_mutex_lock(&b1_mu);
    for (int i = 0; i < b1_n; i++) {
        while (atomic_load_explicit(&b1_turn, memory_order_relaxed) != 1)
            pthread_cond_wait(&b1_cv, &b1_mu);
        b1_val++;
        atomic_store_explicit(&b1_turn, 0, memory_order_relaxed);
        pthread_cond_signal(&b1_cv);
    }
    pthread_mutex_unlock(&b1_mu);
    return NULL;
}

/* Spins with a pause; after 1000 pauses yields the CPU, so that a loaded
 * machine (or one core) still makes progress. */
static void spin_until(int want)
{
    unsigned n = 0;
    while (atomic_load_explicit(&b1_turn, memory_order_acquire) != want) {
        if (++n < 1000) {
            cpu_relax();
        } else {
            n = 0;
            sched_yield();
        }
    }
}

static void *b1_spin_echo(void *arg)
{
    for (int i = 0; i < b1_n; i++) {
        spin_until(1);
        b1_val++;
        atomic_store_explicit(&b1_turn, 0, memory_order_release);
    }
    return NULL;
}

/* The least an unbuffered channel built from a lock and waiter registration
 * can do per hand-off (EXTRA handoff_floor_ns): a channel is a spin lock and
 * one slot for a waiting sender or receiver, on one cache line; a waiter is a
 * done flag and the value, on another. No select, no close, no sleeping. */
typedef struct floor_waiter {
    _Alignas(64) atomic_int done;
    int val;
} floor_waiter;

typedef struct floor_chan {
    _Alignas(64) atomic_int lock;
    floor_waiter *recv_waiting, *send_waiting;
} floor_chan;

static floor_chan b1_floor_ping, b1_floor_pong;
static floor_waiter b1_floor_waiters[2]; /* main's, echo's */

static void floor_lock(floor_chan *c)
{
    int unlocked = 0;
    while (!atomic_compare_exchange_weak_explicit(&c->lock, &unlocked, 1, memory_order_acquire,
                                                  memory_order_relaxed)) {
        unlocked = 0;
        cpu_relax();
    }
}

static void floor_unlock(floor_chan *c)
{
    atomic_store_explicit(&c->lock, 0, memory_order_release);
}

/* Registered under the lock: wait for a partner to complete us. */
static void floor_wait(floor_waiter *me)
{
    unsigned n = 0;
    while (!atomic_load_explicit(&me->done, memory_order_acquire)) {
        if (++n < 1000) {
            cpu_relax();
        } else {
            n = 0;
            sched_yield();
        }
    }
    atomic_store_explicit(&me->done, 0, memory_order_relaxed);
}

static void floor_send(floor_chan *c, floor_waiter *me, int v)
{
    floor_lock(c);
    floor_waiter *r = c->recv_waiting;
    if (r) {
        c->recv_waiting = NULL;
        floor_unlock(c);
        r->val = v;
        atomic_store_explicit(&r->done, 1, memory_order_release);
        return;
    }
    me->val = v;
    c->send_waiting = me;
    floor_unlock(c);
    floor_wait(me);
}

static int floor_recv(floor_chan *c, floor_waiter *me)
{
    floor_lock(c);
    floor_waiter *s = c->send_waiting;
    if (s) {
        c->send_waiting = NULL;
        floor_unlock(c);
        int v = s->val;
        atomic_store_explicit(&s->done, 1, memory_order_release);
        return v;
    }
    c->recv_waiting = me;
    floor_unlock(c);
    floor_wait(me);
    return me->val;
}

static void *b1_floor_echo(void *arg)
{
    for (int i = 0; i < b1_n; i++)
        floor_send(&b1_floor_pong, &b1_floor_waiters[1], floor_recv(&b1_floor_ping, &b1_floor_waiters[1]) + 1);
    return NULL;
}

static double b1_run(int how, int n)
{
    static void *(*const echo[4])(void *) = { b1_futex_echo, b1_condvar_echo, b1_spin_echo, b1_floor_echo };
    pthread_t t;
    b1_n = n;
    atomic_store(&b1_turn, 0);
    int64_t t0 = now_ns();
    spawn("B1", &t, echo[how], NULL);
    if (how == 1)
        pthread_mutex_lock(&b1_mu);
    for (int i = 0; i < b1_n; i++) {
        b1_val = i;
        if (how == 0) {
            atomic_store_explicit(&b1_turn, 1, memory_order_release);
            bench_futex_wake(&b1_turn, 1);
            while (atomic_load_explicit(&b1_turn, memory_order_acquire) != 0)
                bench_futex_wait(&b1_turn, 1);
        } else if (how == 1) {
            atomic_store_explicit(&b1_turn, 1, memory_order_relaxed);
            pthread_cond_signal(&b1_cv);
            while (atomic_load_explicit(&b1_turn, memory_order_relaxed) != 0)
                pthread_cond_wait(&b1_cv, &b1_mu);
        } else if (how == 2) {
            atomic_store_explicit(&b1_turn, 1, memory_order_release);
            spin_until(0);
        } else {
            floor_send(&b1_floor_ping, &b1_floor_waiters[0], i);
            b1_val = floor_recv(&b1_floor_pong, &b1_floor_waiters[0]);
        }
        BENCH_CHECK("B1", IMPL, b1_val == i + 1, "round trip %d came back as %d", i, b1_val);
    }
    if (how == 1)
        pthread_mutex_unlock(&b1_mu);
    int64_t t1 = now_ns();
    pthread_join(t, NULL);
    return (double)(t1 - t0) / b1_n;
}

static double b1_futex_run(int n)
{
    return b1_run(0, n);
}

static void bench_b1(void)
{
    double futex = b1_run(0, B1_N), condvar = b1_run(1, B1_N), spin = b1_run(2, B1_N), floor = b1_run(3, B1_N);
    double loaded = bench_beside_load("B1", IMPL, b1_futex_run, B1_LOAD_N);
    bench_result("B1", IMPL, futex, "ns/roundtrip");
    bench_extra("B1", IMPL, "futex_ns", futex);
    bench_extra("B1", IMPL, "condvar_ns", condvar);
    bench_extra("B1", IMPL, "spin_ns", spin);
    bench_extra("B1", IMPL, "handoff_floor_ns", floor);
    bench_extra("B1", IMPL, "roundtrip_ns_beside_2_futex_pingpongs_per_cpu", loaded);
}

/* ------------------------------------------------------------------------
 * A bounded ring of ints under one mutex and two condvars (signalled only
 * when someone waits), with close.
 * ------------------------------------------------------------------------ */

typedef struct ring {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    int *buf;
    size_t cap, head, count;
    int wait_put, wait_get, closed;
} ring;

static void ring_init(ring *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->not_empty, NULL);
    pthread_cond_init(&r->not_full, NULL);
    r->buf = malloc(cap * sizeof(int));
    r->cap = cap;
}

static void ring_destroy(ring *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->not_empty);
    pthread_cond_destroy(&r->not_full);
    free(r->buf);
}

static void ring_put(ring *r, int v)
{
    pthread_mutex_lock(&r->mu);
    while (r->count == r->cap) {
        r->wait_put++;
        pthread_cond_wait(&r->not_full, &r->mu);
        r->wait_put--;
    }
    r->buf[(r->head + r->count) % r->cap] = v;
    r->count++;
    if (r->wait_get)
        pthread_cond_signal(&r->not_empty);
    pthread_mutex_unlock(&r->mu);
}

/* 1 and *v, or 0 once the ring is closed and empty. */
static int ring_get(ring *r, int *v)
{
    pthread_mutex_lock(&r->mu);
    while (r->count == 0 && !r->closed) {
        r->wait_get++;
        pthread_cond_wait(&r->not_empty, &r->mu);
        r->wait_get--;
    }
    if (r->count == 0) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    *v = r->buf[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    if (r->wait_put)
        pthread_cond_signal(&r->not_full);
    pthread_mutex_unlock(&r->mu);
    return 1;
}

static void ring_close(ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->closed = 1;
    pthread_cond_broadcast(&r->not_empty);
    pthread_cond_broadcast(&r->not_full);
    pthread_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------------------
 * B2 buffered SPSC: 5,000,000 ints through a ring of capacity 1024.
 * ------------------------------------------------------------------------ */

enum { B2_N = 5000000, B2_CAP = 1024 };
static ring b2_ring;

static void *b2_producer(void *arg)
{
    for (int i = 0; i < B2_N; i++)
        ring_put(&b2_ring, i);
    ring_close(&b2_ring);
    return NULL;
}

static void bench_b2(void)
{
    ring_init(&b2_ring, B2_CAP);
    pthread_t t;
    int64_t t0 = now_ns();
    spawn("B2", &t, b2_producer, NULL);
    long long sum = 0, n = 0;
    int v;
    while (ring_get(&b2_ring, &v)) {
        BENCH_CHECK("B2", IMPL, v == n, "item %lld arrived as %d", n, v);
        sum += v;
        n++;
    }
    int64_t t1 = now_ns();
    pthread_join(t, NULL);
    bench_check_items("B2", IMPL, &n, &sum, 1, B2_N);
    ring_destroy(&b2_ring);
    bench_result("B2", IMPL, (double)(t1 - t0) / B2_N, "ns/item");
}

/* ------------------------------------------------------------------------
 * B3 contended MPMC: 4 producer and 4 consumer threads, capacity 64,
 * 2,000,000 items.
 * ------------------------------------------------------------------------ */

enum { B3_P = 4, B3_C = 4, B3_CAP = 64, B3_N = 2000000 };
static ring b3_ring;
static long long b3_sum[B3_C], b3_count[B3_C];

static void *b3_producer(void *arg)
{
    int p = (int)(intptr_t)arg, per = B3_N / B3_P;
    for (int i = 0; i < per; i++)
        ring_put(&b3_ring, p * per + i);
    return NULL;
}

static void *b3_consumer(void *arg)
{
    int c = (int)(intptr_t)arg, v;
    long long sum = 0, n = 0;
    while (ring_get(&b3_ring, &v)) {
        sum += v;
        n++;
    }
    b3_sum[c] = sum;
    b3_count[c] = n;
    return NULL;
}

static void bench_b3(void)
{
    ring_init(&b3_ring, B3_CAP);
    pthread_t prod[B3_P], cons[B3_C];
    int64_t t0 = now_ns();
    for (int c = 0; c < B3_C; c++)
        spawn("B3", &cons[c], b3_consumer, (void *)(intptr_t)c);
    for (int p = 0; p < B3_P; p++)
        spawn("B3", &prod[p], b3_producer, (void *)(intptr_t)p);
    for (int p = 0; p < B3_P; p++)
        pthread_join(prod[p], NULL);
    ring_close(&b3_ring);
    for (int c = 0; c < B3_C; c++)
        pthread_join(cons[c], NULL);
    int64_t t1 = now_ns();
    bench_check_items("B3", IMPL, b3_count, b3_sum, B3_C, B3_N);
    ring_destroy(&b3_ring);
    bench_result("B3", IMPL, (double)(t1 - t0) / B3_N, "ns/item");
}

/* ------------------------------------------------------------------------
 * B4 spawn and join: 100,000 threads, each created, adding its number to a
 * shared sum (its "send"), and joined; at most 1024 alive at once.
 * ------------------------------------------------------------------------ */

enum { B4_N = 100000, B4_WINDOW = 1024 };
static atomic_llong b4_sum;

static void *b4_worker(void *arg)
{
    atomic_fetch_add_explicit(&b4_sum, (long long)(intptr_t)arg, memory_order_relaxed);
    return NULL;
}

static void bench_b4(void)
{
    static pthread_t win[B4_WINDOW];
    atomic_store(&b4_sum, 0);
    int64_t t0 = now_ns();
    for (int i = 0; i < B4_N; i++) {
        if (i >= B4_WINDOW)
            pthread_join(win[i % B4_WINDOW], NULL);
        spawn("B4", &win[i % B4_WINDOW], b4_worker, (void *)(intptr_t)i);
    }
    for (int i = B4_N - B4_WINDOW; i < B4_N; i++)
        pthread_join(win[i % B4_WINDOW], NULL);
    int64_t t1 = now_ns();
    long long sum = atomic_load(&b4_sum);
    BENCH_CHECK("B4", IMPL, sum == (long long)B4_N * (B4_N - 1) / 2, "sum %lld", sum);
    bench_result("B4", IMPL, (double)(t1 - t0) / B4_N, "ns/goroutine");
}

/* ------------------------------------------------------------------------
 * B6 daisy chain: 1,000 threads linked by one-slot futex mailboxes; a feeder
 * thread pushes 1,000 values in, main takes them out at the far end.
 * ------------------------------------------------------------------------ */

enum { B6_G = 1000, B6_V = 1000 };

typedef struct mailbox {
    atomic_int full; /* the futex word: 0 empty, 1 full */
    int val;
    char pad[64 - 2 * sizeof(int)];
} mailbox;

static mailbox b6_box[B6_G + 1];

static void box_put(mailbox *m, int v)
{
    while (atomic_load_explicit(&m->full, memory_order_acquire) != 0)
        bench_futex_wait(&m->full, 1);
    m->val = v;
    atomic_store_explicit(&m->full, 1, memory_order_release);
    bench_futex_wake(&m->full, 1);
}

static int box_get(mailbox *m)
{
    while (atomic_load_explicit(&m->full, memory_order_acquire) != 1)
        bench_futex_wait(&m->full, 0);
    int v = m->val;
    atomic_store_explicit(&m->full, 0, memory_order_release);
    bench_futex_wake(&m->full, 1);
    return v;
}

static void *b6_link(void *arg)
{
    int i = (int)(intptr_t)arg;
    for (int k = 0; k < B6_V; k++)
        box_put(&b6_box[i + 1], box_get(&b6_box[i]) + 1);
    return NULL;
}

static void *b6_feeder(void *arg)
{
    for (int v = 0; v < B6_V; v++)
        box_put(&b6_box[0], v);
    return NULL;
}

static void bench_b6(void)
{
    static pthread_t links[B6_G];
    pthread_t feeder;
    for (int i = 0; i < B6_G; i++)
        spawn("B6", &links[i], b6_link, (void *)(intptr_t)i);
    int64_t t0 = now_ns();
    spawn("B6", &feeder, b6_feeder, NULL);
    for (int n = 0; n < B6_V; n++) {
        int v = box_get(&b6_box[B6_G]);
        BENCH_CHECK("B6", IMPL, v == n + B6_G, "value %d came out as %d", n, v);
    }
    int64_t t1 = now_ns();
    pthread_join(feeder, NULL);
    for (int i = 0; i < B6_G; i++)
        pthread_join(links[i], NULL);
    bench_result("B6", IMPL, (double)(t1 - t0) / ((double)B6_V * B6_G), "ns/hop");
}

/* ------------------------------------------------------------------------
 * B7 many blocked: 10,000 threads wait on one condvar; main broadcasts and
 * joins them all. Time from the first create to the last join; peak RSS.
 * ------------------------------------------------------------------------ */

enum { B7_N = 10000 };
static pthread_mutex_t b7_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t b7_cv = PTHREAD_COND_INITIALIZER, b7_all_waiting = PTHREAD_COND_INITIALIZER;
static int b7_waiting, b7_go;
static atomic_int b7_woken;

static void *b7_waiter(void *arg)
{
    pthread_mutex_lock(&b7_mu);
    if (++b7_waiting == B7_N)
        pthread_cond_signal(&b7_all_waiting);
    while (!b7_go)
        pthread_cond_wait(&b7_cv, &b7_mu);
    pthread_mutex_unlock(&b7_mu);
    atomic_fetch_add(&b7_woken, 1);
    return NULL;
}

static void bench_b7(void)
{
    static pthread_t t[B7_N];
    int64_t t0 = now_ns();
    for (int i = 0; i < B7_N; i++)
        spawn("B7", &t[i], b7_waiter, NULL);
    pthread_mutex_lock(&b7_mu);
    while (b7_waiting < B7_N)
        pthread_cond_wait(&b7_all_waiting, &b7_mu);
    int64_t tc = now_ns();
    b7_go = 1;
    pthread_cond_broadcast(&b7_cv);
    pthread_mutex_unlock(&b7_mu);
    for (int i = 0; i < B7_N; i++)
        pthread_join(t[i], NULL);
    int64_t t1 = now_ns();
    BENCH_CHECK("B7", IMPL, atomic_load(&b7_woken) == B7_N, "%d of %d woke",
                atomic_load(&b7_woken), B7_N);
    bench_result("B7", IMPL, (double)(t1 - t0) / 1e6, "ms");
    bench_extra("B7", IMPL, "rss_mib", peak_rss_mib());
    bench_extra("B7", IMPL, "close_to_done_ms", (double)(t1 - tc) / 1e6);
}

int main(int argc, char **argv)
{
    static const bench_row rows[] = {
        { "B1", bench_b1 }, { "B2", bench_b2 }, { "B3", bench_b3 },
        { "B4", bench_b4 }, { "B6", bench_b6 }, { "B7", bench_b7 },
    };
    attr_setup();
    return bench_main(argc, argv, rows, sizeof rows / sizeof rows[0]);
}
