/*
 * cake - gopl.io/ch8/cake: a simulation of a cake shop's assembly line, a
 * baker, NumIcers icers and an inscriber, each a goroutine, handing cakes on
 * over channels whose buffers are the space between the cooks (§8.4.4).
 *
 * usage: cake [options]
 *   -v, --verbose            print each step of each cake
 *   --cakes N                cakes to make per run (default 20)
 *   --runs N                 runs of the simulation (default 1)
 *   --bake-ms MS             time to bake one cake (default 10)
 *   --bake-stddev-ms MS      its standard deviation (default 0)
 *   --bake-buf N             buffer slots between baking and icing (default 0)
 *   --num-icers N            cooks doing icing (default 1)
 *   --ice-ms MS              time to ice one cake (default 10)
 *   --ice-stddev-ms MS       its standard deviation (default 0)
 *   --ice-buf N              buffer slots between icing and inscribing (default 0)
 *   --inscribe-ms MS         time to inscribe one cake (default 10)
 *   --inscribe-stddev-ms MS  its standard deviation (default 0)
 *   --bench                  the book's benchmarks (cake_test.go) on the shop
 *                            the other options describe: cakes/s unbuffered,
 *                            buffered, with variable times, with slow icing
 *                            and with more icers
 * The defaults are those of the book's cake_test.go.
 */
#include <csp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* type Shop struct */
typedef struct Shop {
    int verbose;              /* Verbose bool */
    int cakes;                /* number of cakes to bake */
    int64_t bake_time;        /* time to bake one cake */
    int64_t bake_stddev;      /* standard deviation of baking time */
    int bake_buf;             /* buffer slots between baking and icing */
    int num_icers;            /* number of cooks doing icing */
    int64_t ice_time;         /* time to ice one cake */
    int64_t ice_stddev;       /* standard deviation of icing time */
    int ice_buf;              /* buffer slots between icing and inscribing */
    int64_t inscribe_time;    /* time to inscribe one cake */
    int64_t inscribe_stddev;  /* standard deviation of inscribing time */
} Shop;

/* type cake int */
typedef int cake;

/* rand.NormFloat64, per thread: xorshift64* uniforms, and the sum of twelve
 * of them less 6 (Irwin-Hall: mean 0, variance 1, normal to within 1% but
 * bounded by +-6), which needs no libm. */
static _Thread_local uint64_t rng_state;

static double uniform(void)
{
    if (rng_state == 0)
        rng_state = (uint64_t)csp_now() ^ ((uint64_t)(uintptr_t)&rng_state << 16) ^ 0x9e3779b97f4a7c15u;
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717u) >> 11) * 0x1.0p-53; /* [0, 1) */
}

static double norm_float64(void)
{
    double sum = 0;
    for (int i = 0; i < 12; i++)
        sum += uniform();
    return sum - 6.0;
}

/* func work(d, stddev time.Duration): blocks the calling goroutine for a
 * period of time that is normally distributed around d with a standard
 * deviation of stddev. */
static void work(int64_t d, int64_t stddev)
{
    int64_t delay = d + (int64_t)(norm_float64() * (double)stddev);
    csp_sleep(delay); /* a no-op when negative, as time.Sleep */
}

struct baker_args {
    const Shop *s;
    csp_send_chan baked;
    csp_wg *wg; /* C's addition: Work waits for its goroutines before freeing */
};

/* func (s *Shop) baker(baked chan<- cake) */
static void baker(void *arg)
{
    struct baker_args *a = arg;
    const Shop *s = a->s;
    for (int i = 0; i < s->cakes; i++) {
        cake c = i;
        if (s->verbose)
            printf("baking %d\n", c);
        work(s->bake_time, s->bake_stddev);
        csp_send(a->baked, &c);
    }
    csp_close(a->baked);
    csp_wg_done(a->wg);
}

struct icer_args {
    const Shop *s;
    csp_send_chan iced;
    csp_recv_chan baked;
    csp_wg *wg;
};

/* func (s *Shop) icer(iced chan<- cake, baked <-chan cake) */
static void icer(void *arg)
{
    struct icer_args *a = arg;
    const Shop *s = a->s;
    cake c;
    while (csp_recv(a->baked, &c) == 0) { /* for c := range baked */
        if (s->verbose)
            printf("icing %d\n", c);
        work(s->ice_time, s->ice_stddev);
        csp_send(a->iced, &c);
    }
    csp_wg_done(a->wg);
}

/* func (s *Shop) inscriber(iced <-chan cake) */
static int inscriber(const Shop *s, csp_recv_chan iced)
{
    int finished = 0;
    for (int i = 0; i < s->cakes; i++) {
        cake c;
        if (csp_recv(iced, &c) != 0)
            break;
        if (s->verbose)
            printf("inscribing %d\n", c);
        work(s->inscribe_time, s->inscribe_stddev);
        if (s->verbose)
            printf("finished %d\n", c);
        finished++;
    }
    return finished;
}

/* func (s *Shop) Work(runs int): runs the simulation 'runs' times. Returns
 * the number of cakes finished, or a negative error code. */
static long Work(const Shop *s, int runs)
{
    long finished = 0;
    for (int run = 0; run < runs; run++) {
        csp_chan *baked = csp_chan_make(sizeof(cake), (size_t)s->bake_buf); /* make(chan cake, s.BakeBuf) */
        csp_chan *iced = csp_chan_make(sizeof(cake), (size_t)s->ice_buf);   /* make(chan cake, s.IceBuf) */
        csp_wg *wg = csp_wg_new();
        if (!baked || !iced || !wg) {
            int err = -errno;
            csp_chan_release(baked);
            csp_chan_release(iced);
            if (wg)
                csp_wg_free(wg);
            return err;
        }
        struct baker_args ba = { s, csp_send_only(baked), wg };
        csp_wg_add(wg, 1);
        int err = csp_go_copy(baker, &ba, sizeof ba); /* go s.baker(baked) */
        if (err < 0) {
            csp_wg_done(wg);
            csp_close(baked); /* nothing to bake: no icer would start */
        }
        int icers = 0;
        for (int i = 0; i < s->num_icers && err == 0; i++) { /* go s.icer(iced, baked) */
            struct icer_args ia = { s, csp_send_only(iced), csp_recv_only(baked), wg };
            csp_wg_add(wg, 1);
            if ((err = csp_go_copy(icer, &ia, sizeof ia)) < 0)
                csp_wg_done(wg);
            else
                icers++;
        }
        if (icers > 0) {
            finished += inscriber(s, csp_recv_only(iced));
        } else {
            cake c; /* no icer could start: clear the line so the baker finishes */
            while (csp_recv(baked, &c) == 0)
                ;
        }
        /* Every cake was inscribed, so the baker has closed baked and the
         * icers see it as soon as they are back for more. */
        csp_wg_wait(wg);
        csp_wg_free(wg);
        csp_chan_release(baked);
        csp_chan_release(iced);
        if (err < 0)
            return err;
    }
    return finished;
}

/* One of the book's benchmarks: the shop, changed, for runs runs. */
static int bench(const char *name, const Shop *s, int runs)
{
    int64_t start = csp_now();
    long n = Work(s, runs);
    double secs = (double)(csp_now() - start) / CSP_SECOND;
    if (n < 0) {
        fprintf(stderr, "cake: %s: %s\n", name, csp_strerror((int)n));
        return -1;
    }
    printf("%-26s %8.1f cakes/s  (%ld cakes in %.3f s, %.1f ms per run)\n", name, n / secs, n,
           secs, secs * 1e3 / runs);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: cake [-v] [--bench] [--runs N] [--cakes N] [--num-icers N]\n"
                    "            [--bake-ms MS] [--bake-stddev-ms MS] [--bake-buf N]\n"
                    "            [--ice-ms MS] [--ice-stddev-ms MS] [--ice-buf N]\n"
                    "            [--inscribe-ms MS] [--inscribe-stddev-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    /* The defaults of cake_test.go. */
    Shop s = { 0, 20, 10 * CSP_MILLISECOND, 0, 0, 1, 10 * CSP_MILLISECOND, 0, 0,
               10 * CSP_MILLISECOND, 0 };
    int runs = 1, do_bench = 0;
    static const struct {
        const char *name;
        size_t off;
        int is_time;
    } opts[] = {
        { "--cakes", offsetof(Shop, cakes), 0 },
        { "--bake-ms", offsetof(Shop, bake_time), 1 },
        { "--bake-stddev-ms", offsetof(Shop, bake_stddev), 1 },
        { "--bake-buf", offsetof(Shop, bake_buf), 0 },
        { "--num-icers", offsetof(Shop, num_icers), 0 },
        { "--ice-ms", offsetof(Shop, ice_time), 1 },
        { "--ice-stddev-ms", offsetof(Shop, ice_stddev), 1 },
        { "--ice-buf", offsetof(Shop, ice_buf), 0 },
        { "--inscribe-ms", offsetof(Shop, inscribe_time), 1 },
        { "--inscribe-stddev-ms", offsetof(Shop, inscribe_stddev), 1 },
    };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            s.verbose = 1;
            continue;
        }
        if (strcmp(argv[i], "--bench") == 0) {
            do_bench = 1;
            continue;
        }
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 1 || v > 1000000)
                usage();
            runs = (int)v;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (strcmp(argv[i], opts[k].name) == 0)
                break;
        if (k == sizeof opts / sizeof opts[0] || i + 1 >= argc)
            usage();
        char *end;
        double v = strtod(argv[++i], &end);
        if (*end != '\0' || !(v >= 0) || v > 1e7)
            usage();
        if (opts[k].is_time)
            *(int64_t *)((char *)&s + opts[k].off) = (int64_t)(v * CSP_MILLISECOND);
        else if (v != (int)v)
            usage();
        else
            *(int *)((char *)&s + opts[k].off) = (int)v;
    }
    if (s.num_icers < 1)
        usage();

    if (!do_bench) {
        int64_t start = csp_now();
        long n = Work(&s, runs);
        if (n < 0) {
            fprintf(stderr, "cake: %s\n", csp_strerror((int)n));
            return 1;
        }
        printf("%ld cakes finished in %.3f s\n", n, (double)(csp_now() - start) / CSP_SECOND);
        return n == (long)s.cakes * runs ? 0 : 1;
    }

    /* The benchmarks of cake_test.go, each on a copy of the shop. */
    s.verbose = 0;
    Shop b = s; /* Baseline: one baker, one icer, one inscriber; no buffers. */
    if (bench("unbuffered", &b, runs) < 0)
        return 1;
    b = s; /* Adding buffers has no effect. */
    b.bake_buf = b.ice_buf = 10;
    if (bench("buffered", &b, runs) < 0)
        return 1;
    b = s; /* Adding variability to the rate of each step increases total time. */
    b.bake_stddev = b.bake_time / 4;
    b.ice_stddev = b.ice_time / 4;
    b.inscribe_stddev = b.inscribe_time / 4;
    if (bench("variable unbuffered", &b, runs) < 0)
        return 1;
    b.bake_buf = b.ice_buf = 10; /* Adding channel buffers reduces those delays. */
    if (bench("variable buffered", &b, runs) < 0)
        return 1;
    b = s; /* Making the middle stage slower adds directly to the critical path. */
    b.ice_time = 5 * s.ice_time;
    if (bench("slow icing", &b, runs) < 0)
        return 1;
    b.num_icers = 5; /* More icers reduce the cost of icing (Amdahl's Law). */
    if (bench("slow icing, 5 icers", &b, runs) < 0)
        return 1;
    return 0;
}
