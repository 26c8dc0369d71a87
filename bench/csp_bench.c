/*
 * csp_bench.c - the micro-benchmarks, written with libcsp.
 *
 *   csp_bench B1     runs row B1 and prints its RESULT (and EXTRA) lines
 *   csp_bench all    runs every row in turn (B7's RSS is then not its own)
 *   csp_bench list   names the rows
 *
 * The same rows exist for Go (go/bench.go), Boost.Fiber (fiber/bench.cpp) and
 * raw pthreads (pthread_bench.c); README.md says what each one measures. Every
 * row checks its own result and exits 1 if it is wrong.
 */
#include <csp.h>
#include <sched.h>

#include "bench_util.h"

#define IMPL "libcsp"

static void check_rc(const char *row, int rc, const char *what)
{
    if (rc != 0)
        bench_fail(row, IMPL, "%s: %s", what, csp_strerror(rc));
}

/* csp_go, retried while the pool is at its cap; counts the retries. */
static unsigned long go_retries;
static void go_or_retry(const char *row, csp_fn fn, void *arg, const void *copy, size_t size)
{
    for (;;) {
        int rc = copy ? csp_go_copy(fn, copy, size) : csp_go(fn, arg);
        if (rc == 0)
            return;
        if (rc != CSP_EAGAIN)
            bench_fail(row, IMPL, "csp_go: %s", csp_strerror(rc));
        go_retries++;
        sched_yield();
    }
}

static csp_chan *make_chan(const char *row, size_t elem, size_t cap)
{
    csp_chan *c = csp_chan_make(elem, cap);
    if (!c)
        bench_fail(row, IMPL, "csp_chan_make failed");
    return c;
}

static csp_wg *make_wg(const char *row)
{
    csp_wg *wg = csp_wg_new();
    if (!wg)
        bench_fail(row, IMPL, "csp_wg_new failed");
    return wg;
}

/* ------------------------------------------------------------------------
 * B1 ping-pong: two goroutines (main and one echo), two unbuffered int
 * channels, 200,000 round trips. Then, as EXTRA figures, 20,000 more beside
 * two busy loops per CPU, as on a machine shared with other work, and 20,000
 * beside two processes per CPU that ping-pong through a futex (other work
 * that sleeps and wakes all the time).
 * ------------------------------------------------------------------------ */

enum { B1_N = 200000, B1_BUSY_N = 20000, B1_LOAD_N = 20000 };
static csp_chan *b1_ping, *b1_pong;
static csp_wg *b1_wg;
static atomic_int b1_busy_stop;

static void b1_echo(void *arg)
{
    int v;
    while (csp_recv(b1_ping, &v) == 0) {
        v++;
        if (csp_send(b1_pong, &v) != 0)
            break;
    }
    csp_wg_done(b1_wg);
}

static void b1_round_trips(int n)
{
    for (int i = 0; i < n; i++) {
        int v = i, r = -1;
        check_rc("B1", csp_send(b1_ping, &v), "send");
        check_rc("B1", csp_recv(b1_pong, &r), "recv");
        BENCH_CHECK("B1", IMPL, r == i + 1, "round trip %d came back as %d", i, r);
    }
}

/* ns per round trip of n round trips. */
static double b1_timed_round_trips(int n)
{
    int64_t t0 = now_ns();
    b1_round_trips(n);
    return (double)(now_ns() - t0) / n;
}

/* Another program's thread that never blocks (a plain pthread, not a
 * goroutine: it stands for work outside libcsp). */
static void *b1_busy_loop(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&b1_busy_stop, memory_order_relaxed)) {
    }
    return NULL;
}

/* ns per round trip beside the busy loops. */
static double b1_round_trips_beside_busy_loops(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nbusy = 2 * (ncpu > 0 ? (int)ncpu : 1);
    pthread_t *busy = malloc((size_t)nbusy * sizeof *busy);
    if (!busy)
        bench_fail("B1", IMPL, "out of memory");
    atomic_store(&b1_busy_stop, 0);
    for (int i = 0; i < nbusy; i++) {
        if (pthread_create(&busy[i], NULL, b1_busy_loop, NULL) != 0)
            bench_fail("B1", IMPL, "pthread_create failed");
    }
    double ns = b1_timed_round_trips(B1_BUSY_N);
    atomic_store(&b1_busy_stop, 1);
    for (int i = 0; i < nbusy; i++)
        pthread_join(busy[i], NULL);
    free(busy);
    return ns;
}

static void bench_b1(void)
{
    b1_ping = make_chan("B1", sizeof(int), 0);
    b1_pong = make_chan("B1", sizeof(int), 0);
    b1_wg = make_wg("B1");
    csp_wg_add(b1_wg, 1);
    int64_t t0 = now_ns();
    go_or_retry("B1", b1_echo, NULL, NULL, 0);
    b1_round_trips(B1_N);
    double ns = (double)(now_ns() - t0) / B1_N;
    double busy_ns = b1_round_trips_beside_busy_loops();
    double load_ns = bench_beside_load("B1", IMPL, b1_timed_round_trips, B1_LOAD_N);
    csp_close(b1_ping);
    csp_wg_wait(b1_wg);
    csp_wg_free(b1_wg);
    csp_chan_release(b1_ping);
    csp_chan_release(b1_pong);
    bench_result("B1", IMPL, ns, "ns/roundtrip");
    bench_extra("B1", IMPL, "roundtrip_ns_beside_2_busy_loops_per_cpu", busy_ns);
    bench_extra("B1", IMPL, "roundtrip_ns_beside_2_futex_pingpongs_per_cpu", load_ns);
}

/* ------------------------------------------------------------------------
 * B2 buffered SPSC: 5,000,000 ints through a channel of capacity 1024.
 * ------------------------------------------------------------------------ */

enum { B2_N = 5000000, B2_CAP = 1024 };
static csp_chan *b2_ch;

static void b2_producer(void *arg)
{
    for (int i = 0; i < B2_N; i++)
        if (csp_send(b2_ch, &i) != 0)
            bench_fail("B2", IMPL, "send %d failed", i);
    csp_close(b2_ch);
}

static void bench_b2(void)
{
    b2_ch = make_chan("B2", sizeof(int), B2_CAP);
    int64_t t0 = now_ns();
    go_or_retry("B2", b2_producer, NULL, NULL, 0);
    long long sum = 0, n = 0;
    int v;
    while (csp_recv(b2_ch, &v) == 0) {
        BENCH_CHECK("B2", IMPL, v == n, "item %lld arrived as %d (FIFO broken)", n, v);
        sum += v;
        n++;
    }
    int64_t t1 = now_ns();
    bench_check_items("B2", IMPL, &n, &sum, 1, B2_N);
    csp_chan_release(b2_ch);
    bench_result("B2", IMPL, (double)(t1 - t0) / B2_N, "ns/item");
}

/* ------------------------------------------------------------------------
 * B3 contended MPMC: 4 producers, 4 consumers, capacity 64, 2,000,000 items.
 * ------------------------------------------------------------------------ */

enum { B3_P = 4, B3_C = 4, B3_CAP = 64, B3_N = 2000000 };
static csp_chan *b3_ch;
static csp_wg *b3_prod_wg, *b3_cons_wg;
static long long b3_sum[B3_C], b3_count[B3_C];

static void b3_producer(void *arg)
{
    int p = *(int *)arg;
    int per = B3_N / B3_P;
    for (int i = 0; i < per; i++) {
        int v = p * per + i;
        if (csp_send(b3_ch, &v) != 0)
            bench_fail("B3", IMPL, "send failed");
    }
    csp_wg_done(b3_prod_wg);
}

static void b3_consumer(void *arg)
{
    int c = *(int *)arg;
    long long sum = 0, n = 0;
    int v;
    while (csp_recv(b3_ch, &v) == 0) {
        sum += v;
        n++;
    }
    b3_sum[c] = sum;
    b3_count[c] = n;
    csp_wg_done(b3_cons_wg);
}

static void bench_b3(void)
{
    b3_ch = make_chan("B3", sizeof(int), B3_CAP);
    b3_prod_wg = make_wg("B3");
    b3_cons_wg = make_wg("B3");
    csp_wg_add(b3_prod_wg, B3_P);
    csp_wg_add(b3_cons_wg, B3_C);
    int64_t t0 = now_ns();
    for (int c = 0; c < B3_C; c++)
        go_or_retry("B3", b3_consumer, NULL, &c, sizeof c);
    for (int p = 0; p < B3_P; p++)
        go_or_retry("B3", b3_producer, NULL, &p, sizeof p);
    csp_wg_wait(b3_prod_wg);
    csp_close(b3_ch);
    csp_wg_wait(b3_cons_wg);
    int64_t t1 = now_ns();
    bench_check_items("B3", IMPL, b3_count, b3_sum, B3_C, B3_N);
    csp_wg_free(b3_prod_wg);
    csp_wg_free(b3_cons_wg);
    csp_chan_release(b3_ch);
    bench_result("B3", IMPL, (double)(t1 - t0) / B3_N, "ns/item");
}

/* ------------------------------------------------------------------------
 * B4 spawn and join: 100,000 goroutines that each send once on a channel of
 * capacity 100,000; main receives all 100,000 values.
 * ------------------------------------------------------------------------ */

enum { B4_N = 100000 };
static csp_chan *b4_ch;

static void b4_worker(void *arg)
{
    int v = *(int *)arg;
    if (csp_send(b4_ch, &v) != 0)
        bench_fail("B4", IMPL, "send failed");
}

static void bench_b4(void)
{
    b4_ch = make_chan("B4", sizeof(int), B4_N);
    go_retries = 0;
    int64_t t0 = now_ns();
    for (int i = 0; i < B4_N; i++)
        go_or_retry("B4", b4_worker, NULL, &i, sizeof i);
    long long sum = 0;
    for (int i = 0; i < B4_N; i++) {
        int v;
        check_rc("B4", csp_recv(b4_ch, &v), "recv");
        sum += v;
    }
    int64_t t1 = now_ns();
    BENCH_CHECK("B4", IMPL, sum == (long long)B4_N * (B4_N - 1) / 2, "sum %lld", sum);
    csp_stats st;
    csp_stats_get(&st);
    csp_chan_release(b4_ch);
    bench_result("B4", IMPL, (double)(t1 - t0) / B4_N, "ns/goroutine");
    bench_extra("B4", IMPL, "pool_threads_peak", (double)st.threads_peak);
    if (go_retries)
        bench_extra("B4", IMPL, "spawn_retries", (double)go_retries);
}

/* ------------------------------------------------------------------------
 * B5 select fan-in: 4 producers on 4 unbuffered channels, 250,000 items each,
 * one consumer with a 4-way select.
 * ------------------------------------------------------------------------ */

enum { B5_P = 4, B5_PER = 250000 };
static csp_chan *b5_ch[B5_P];

static void b5_producer(void *arg)
{
    int p = *(int *)arg;
    for (int i = 0; i < B5_PER; i++)
        if (csp_send(b5_ch[p], &i) != 0)
            bench_fail("B5", IMPL, "send failed");
    csp_close(b5_ch[p]);
}

static void bench_b5(void)
{
    for (int p = 0; p < B5_P; p++)
        b5_ch[p] = make_chan("B5", sizeof(int), 0);
    int vals[B5_P];
    csp_case cases[B5_P];
    for (int p = 0; p < B5_P; p++)
        cases[p] = csp_case_recv(b5_ch[p], &vals[p]);
    long long next[B5_P] = { 0 }, n = 0;
    int open = B5_P;
    int64_t t0 = now_ns();
    for (int p = 0; p < B5_P; p++)
        go_or_retry("B5", b5_producer, NULL, &p, sizeof p);
    while (open > 0) {
        int k = csp_select(cases, B5_P);
        BENCH_CHECK("B5", IMPL, k >= 0 && k < B5_P, "csp_select returned %d", k);
        if (cases[k].err == CSP_ECLOSED) {
            cases[k].ch = NULL;
            open--;
            continue;
        }
        BENCH_CHECK("B5", IMPL, cases[k].err == 0, "case err %d", cases[k].err);
        BENCH_CHECK("B5", IMPL, vals[k] == next[k], "producer %d: got %d, want %lld", k, vals[k],
                    next[k]);
        next[k]++;
        n++;
    }
    int64_t t1 = now_ns();
    BENCH_CHECK("B5", IMPL, n == (long long)B5_P * B5_PER, "got %lld items", n);
    for (int p = 0; p < B5_P; p++)
        csp_chan_release(b5_ch[p]);
    bench_result("B5", IMPL, (double)(t1 - t0) / (B5_P * B5_PER), "ns/item");
}

/* ------------------------------------------------------------------------
 * B6 daisy chain: 1,000 goroutines linked by unbuffered channels; a feeder
 * pushes 1,000 values in, main takes them out at the far end.
 * ------------------------------------------------------------------------ */

enum { B6_G = 1000, B6_V = 1000 };
static csp_chan *b6_ch[B6_G + 1];

static void b6_link(void *arg)
{
    int i = *(int *)arg;
    int v;
    while (csp_recv(b6_ch[i], &v) == 0) {
        v++;
        if (csp_send(b6_ch[i + 1], &v) != 0)
            bench_fail("B6", IMPL, "send failed");
    }
    csp_close(b6_ch[i + 1]);
}

static void b6_feeder(void *arg)
{
    for (int v = 0; v < B6_V; v++)
        if (csp_send(b6_ch[0], &v) != 0)
            bench_fail("B6", IMPL, "send failed");
    csp_close(b6_ch[0]);
}

static void bench_b6(void)
{
    for (int i = 0; i <= B6_G; i++)
        b6_ch[i] = make_chan("B6", sizeof(int), 0);
    for (int i = 0; i < B6_G; i++)
        go_or_retry("B6", b6_link, NULL, &i, sizeof i);
    int64_t t0 = now_ns();
    go_or_retry("B6", b6_feeder, NULL, NULL, 0);
    int v, n = 0;
    while (csp_recv(b6_ch[B6_G], &v) == 0) {
        BENCH_CHECK("B6", IMPL, v == n + B6_G, "value %d came out as %d", n, v);
        n++;
    }
    int64_t t1 = now_ns();
    BENCH_CHECK("B6", IMPL, n == B6_V, "got %d values", n);
    for (int i = 0; i <= B6_G; i++)
        csp_chan_release(b6_ch[i]);
    bench_result("B6", IMPL, (double)(t1 - t0) / ((double)B6_V * B6_G), "ns/hop");
}

/* ------------------------------------------------------------------------
 * B7 many blocked: 10,000 goroutines block receiving on one channel; main
 * closes it and waits for all. Time from the first spawn to all finished,
 * and the process's peak RSS.
 * ------------------------------------------------------------------------ */

enum { B7_N = 10000 };
static csp_chan *b7_ch;
static csp_wg *b7_wg;
static atomic_int b7_started, b7_closed_seen;

static void b7_waiter(void *arg)
{
    atomic_fetch_add(&b7_started, 1);
    int v = 1;
    if (csp_recv(b7_ch, &v) == CSP_ECLOSED && v == 0)
        atomic_fetch_add(&b7_closed_seen, 1);
    csp_wg_done(b7_wg);
}

static void bench_b7(void)
{
    b7_ch = make_chan("B7", sizeof(int), 0);
    b7_wg = make_wg("B7");
    go_retries = 0;
    csp_wg_add(b7_wg, B7_N);
    int64_t t0 = now_ns();
    for (int i = 0; i < B7_N; i++)
        go_or_retry("B7", b7_waiter, NULL, NULL, 0);
    while (atomic_load(&b7_started) < B7_N)
        sched_yield();
    /* Wait until they are really blocked, as csp_stats sees it (bounded;
     * polled every 50 us so as not to take a CPU from them). */
    csp_stats st;
    int64_t deadline = now_ns() + 2 * CSP_SECOND;
    for (;;) {
        csp_stats_get(&st);
        if (st.blocked >= B7_N || now_ns() > deadline)
            break;
        csp_sleep(50 * CSP_MICROSECOND);
    }
    size_t blocked = st.blocked;
    int64_t tc = now_ns();
    csp_close(b7_ch);
    csp_wg_wait(b7_wg);
    int64_t t1 = now_ns();
    BENCH_CHECK("B7", IMPL, atomic_load(&b7_closed_seen) == B7_N, "%d of %d saw the close",
                atomic_load(&b7_closed_seen), B7_N);
    csp_stats_get(&st);
    csp_wg_free(b7_wg);
    csp_chan_release(b7_ch);
    bench_result("B7", IMPL, (double)(t1 - t0) / 1e6, "ms");
    bench_extra("B7", IMPL, "rss_mib", peak_rss_mib());
    bench_extra("B7", IMPL, "close_to_done_ms", (double)(t1 - tc) / 1e6);
    bench_extra("B7", IMPL, "blocked_at_close", (double)blocked);
    bench_extra("B7", IMPL, "pool_threads_peak", (double)st.threads_peak);
    if (go_retries)
        bench_extra("B7", IMPL, "spawn_retries", (double)go_retries);
}

/* ------------------------------------------------------------------------
 * B8 timers: 10,000 concurrent csp_after of 1-50 ms (the same pseudo-random
 * durations in every implementation), all awaited by main.
 * ------------------------------------------------------------------------ */

enum { B8_N = 10000 };

static void bench_b8(void)
{
    static csp_chan *ch[B8_N];
    static int64_t due[B8_N];
    uint64_t rs = BENCH_SEED;
    thread_sampler ts;
    if (thread_sampler_start(&ts) != 0)
        bench_fail("B8", IMPL, "cannot start the thread sampler");
    int64_t t0 = now_ns();
    for (int i = 0; i < B8_N; i++) {
        int64_t d = (int64_t)(1 + bench_rand(&rs) % 50) * CSP_MILLISECOND;
        due[i] = csp_now() + d;
        ch[i] = csp_after(d);
        if (!ch[i])
            bench_fail("B8", IMPL, "csp_after failed");
    }
    int early = 0;
    for (int i = 0; i < B8_N; i++) {
        int64_t fired = 0;
        check_rc("B8", csp_recv(ch[i], &fired), "recv");
        if (fired < due[i])
            early++;
        csp_chan_release(ch[i]);
    }
    int64_t t1 = now_ns();
    int peak = thread_sampler_stop(&ts);
    BENCH_CHECK("B8", IMPL, early == 0, "%d timers fired early", early);
    csp_stats st;
    csp_stats_get(&st);
    bench_result("B8", IMPL, (double)(t1 - t0) / 1e6, "ms");
    bench_extra("B8", IMPL, "threads", (double)peak);
    bench_extra("B8", IMPL, "pool_threads_peak", (double)st.threads_peak);
}

int main(int argc, char **argv)
{
    static const bench_row rows[] = {
        { "B1", bench_b1 }, { "B2", bench_b2 }, { "B3", bench_b3 }, { "B4", bench_b4 },
        { "B5", bench_b5 }, { "B6", bench_b6 }, { "B7", bench_b7 }, { "B8", bench_b8 },
    };
    return bench_main(argc, argv, rows, sizeof rows / sizeof rows[0]);
}
