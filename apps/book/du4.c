/*
 * du4 - gopl.io/ch8/du4: du3, cancelled when a byte arrives on standard
 * input. A goroutine reads one byte and closes `done`, which every
 * goroutine can then see: a walkDir that starts polls cancelled() and
 * returns at once, dirents waits for a semaphore token or for done,
 * whichever comes first, and main's select, on seeing done, drains
 * fileSizes until the closer closes it, so that every walker can finish its
 * sends and return: no goroutine is left behind. As in the book, the totals
 * so far are printed every 500 ms, and a cancelled walk prints no final
 * totals.
 *
 * usage: du4 [-b] [-t MS] [--stats] [DIR...]
 *   -b       print exact totals, "N files  N bytes", instead of the book's
 *            "N files  N.N GB"
 *   -t MS    the tick of the progress totals (default 500 ms, as in the book)
 *   --stats  at the end, print "du4: goroutines=N" on standard error: the
 *            goroutines not yet returned (see report_goroutines). Once done
 *            is closed N is 0: every goroutine du4 started has returned.
 *            After a complete walk with no input it is 1: the stdin reader,
 *            still blocked in read (as it would be in Go).
 *   DIR      the trees to walk, all at once (default ".")
 *
 * Sizes are counted as in du1 (lstat's, per name); a directory that cannot
 * be read is reported on standard error ("du4: open DIR: ...") and the walk
 * goes on. As with the book's os.Stdin.Read, end of file on standard input
 * cancels too (so `du4 DIR </dev/null` stops at once). Exit status: 0 after
 * the final totals (also when done was closed so late, or so early, that
 * main's select took fileSizes' closing first: the book's race, kept); 1
 * when the runtime could not start the walk; 2 for a usage error; 3 when
 * cancelled.
 */
#include "dirents.h"

#include <csp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_CANCELLED = 3 };

static int exact_bytes; /* -b */
static int show_stats;  /* --stats */

static csp_chan *done; /* var done = make(chan struct{}) */

/* func cancelled() bool */
static int cancelled(void)
{
    csp_case cases[] = { csp_case_recv(done, NULL) }; /* case <-done: return true */
    return csp_select_try(cases, 1) == 0;             /* default: return false */
}

/* go func() { os.Stdin.Read(make([]byte, 1)); close(done) }() */
static void read_cancel(void *arg)
{
    csp_chan *d = arg; /* a reference of our own, released here */
    char b;
    while (read(STDIN_FILENO, &b, 1) < 0 && errno == EINTR)
        ; /* read a single byte */
    csp_close(d);
    csp_chan_release(d);
}

static csp_chan *sema; /* var sema = make(chan struct{}, 20): concurrency-limiting counting semaphore */

/* func dirents(dir string) []os.FileInfo */
static struct fileinfos dirents(const char *dir)
{
    struct fileinfos entries = { NULL, 0 };
    csp_case cases[] = {
        csp_case_send(sema, NULL), /* case sema <- struct{}{}: // acquire token */
        csp_case_recv(done, NULL), /* case <-done: */
    };
    if (csp_select(cases, 2) == 1)
        return entries; /* return nil // cancelled */

    char *err;
    entries = read_dir(dir, &err); /* f, err := os.Open(dir); entries, err := f.Readdir(0) */
    if (err) {
        fprintf(stderr, "du4: %s\n", err);
        free(err); /* Don't return: Readdir may return partial results. */
    }
    csp_recv(sema, NULL); /* release token (the book's defer) */
    return entries;
}

/* func walkDir(dir string, n *sync.WaitGroup, fileSizes chan<- int64) */
struct walk_args {
    char         *dir;        /* malloc'd; the walk frees it */
    csp_wg       *n;          /* walkDir calls still running */
    csp_send_chan file_sizes; /* chan<- int64 */
};

static void go_walk_dir(struct walk_args *a);

static void walk_dir(void *arg)
{
    struct walk_args *a = arg;
    if (!cancelled()) { /* if cancelled() { return } */
        struct fileinfos entries = dirents(a->dir);
        for (size_t i = 0; i < entries.n; i++) {
            struct fileinfo *entry = &entries.v[i];
            if (entry->is_dir) {
                csp_wg_add(a->n, 1);
                struct walk_args sub = { path_join(a->dir, entry->name), a->n, a->file_sizes };
                go_walk_dir(&sub);
            } else {
                csp_send(a->file_sizes, &entry->size);
            }
        }
        fileinfos_free(&entries);
    }
    free(a->dir);
    csp_wg_done(a->n); /* defer n.Done() */
}

/* go walkDir(subdir, n, fileSizes); when no thread can be had, the walk
 * happens here instead (we hold no token, so it cannot deadlock). */
static void go_walk_dir(struct walk_args *a)
{
    if (csp_go_copy(walk_dir, a, sizeof *a) < 0)
        walk_dir(a);
}

/* go func() { n.Wait(); close(fileSizes) }() */
struct closer_args {
    csp_wg   *n;
    csp_chan *file_sizes; /* a reference of our own, released here */
};

static void closer(void *arg)
{
    struct closer_args *a = arg;
    csp_wg_wait(a->n);
    csp_close(a->file_sizes);
    csp_chan_release(a->file_sizes);
}

/* func printDiskUsage(nfiles, nbytes int64) */
static void print_disk_usage(int64_t nfiles, int64_t nbytes)
{
    if (exact_bytes)
        printf("%" PRId64 " files  %" PRId64 " bytes\n", nfiles, nbytes);
    else
        printf("%" PRId64 " files  %.1f GB\n", nfiles, (double)nbytes / 1e9);
}

/*
 * --stats. When main has seen fileSizes closed, every walker and the closer
 * have made their last channel operation, but libcsp counts a goroutine as
 * running until its function has returned, which no channel operation can
 * tell main about: for a moment the count may still include a goroutine
 * that is returning. So wait, up to 2 s, for the count to fall to what is
 * expected: 0 once done is closed (the stdin reader's last act), else 1 (the
 * reader, still in read). A goroutine truly left behind, blocked or
 * running, keeps the count above that and is reported after the 2 s.
 */
static void report_goroutines(void)
{
    int64_t deadline = csp_now() + 2 * CSP_SECOND;
    csp_stats st;
    for (;;) {
        csp_stats_get(&st);
        size_t expected = cancelled() ? 0 : 1;
        if (st.goroutines <= expected || csp_now() >= deadline)
            break;
        csp_sleep(CSP_MILLISECOND);
    }
    fprintf(stderr, "du4: goroutines=%zu\n", st.goroutines);
}

static void usage(void)
{
    fprintf(stderr, "usage: du4 [-b] [-t MS] [--stats] [DIR...]\n");
    exit(2);
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "du4: %s: %s\n", what, csp_strerror(err));
    exit(1);
}

/* func main() */
int main(int argc, char **argv)
{
    int64_t tick_ns = 500 * CSP_MILLISECOND;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-b") == 0) {
            exact_bytes = 1;
        } else if (strcmp(argv[i], "--stats") == 0) {
            show_stats = 1;
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            char *end;
            long ms = strtol(argv[++i], &end, 10);
            if (*end != '\0' || ms <= 0 || ms > INT64_MAX / CSP_MILLISECOND)
                usage();
            tick_ns = ms * CSP_MILLISECOND;
        } else {
            usage();
        }
    }
    /* Determine the initial directories. */
    static char *dot[] = { "." };
    char **roots = i < argc ? argv + i : dot;
    int nroots = i < argc ? argc - i : 1;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each progress line as it is printed */

    done = csp_chan_make(0, 0);
    sema = csp_chan_make(0, 20);
    csp_chan *file_sizes = csp_chan_make(sizeof(int64_t), 0); /* make(chan int64) */
    csp_wg *n = csp_wg_new();                                  /* var n sync.WaitGroup */
    if (!done || !sema || !file_sizes || !n) {
        perror("du4");
        return 1;
    }

    /* Cancel traversal when input is detected. */
    int err = csp_go(read_cancel, csp_chan_retain(done));
    if (err < 0)
        fail("csp_go", err);

    /* Traverse each root of the file tree in parallel. */
    for (int r = 0; r < nroots; r++) {
        csp_wg_add(n, 1);
        struct walk_args wa = { xstrdup(roots[r]), n, csp_send_only(file_sizes) };
        if ((err = csp_go_copy(walk_dir, &wa, sizeof wa)) < 0) /* go walkDir(root, &n, fileSizes) */
            fail("csp_go", err);
    }
    struct closer_args ca = { n, csp_chan_retain(file_sizes) };
    if ((err = csp_go_copy(closer, &ca, sizeof ca)) < 0)
        fail("csp_go", err);

    /* Print the results periodically. */
    csp_ticker *ticker = csp_ticker_new(tick_ns); /* tick := time.Tick(500 * time.Millisecond) */
    if (!ticker)
        fail("csp_ticker_new", -errno);
    csp_chan *tick = csp_ticker_chan(ticker);
    int status = 0;
    int64_t nfiles = 0, nbytes = 0, size;
    for (;;) {
        csp_case cases[] = {
            csp_case_recv(done, NULL),        /* case <-done: */
            csp_case_recv(file_sizes, &size), /* case size, ok := <-fileSizes: */
            csp_case_recv(tick, NULL),        /* case <-tick: */
        };
        int k = csp_select(cases, 3);
        if (k == 0) {
            /* Drain fileSizes to allow existing goroutines to finish. */
            while (csp_recv(file_sizes, NULL) == 0)
                ; /* Do nothing. */
            status = EXIT_CANCELLED;
            goto out; /* return */
        } else if (k == 1) {
            if (cases[1].err == CSP_ECLOSED)
                break; /* fileSizes was closed */
            nfiles++;
            nbytes += size;
        } else {
            print_disk_usage(nfiles, nbytes);
        }
    }
    print_disk_usage(nfiles, nbytes); /* final totals */

out:
    /* fileSizes is closed: every walk_dir has returned its token and called
     * csp_wg_done, and the closer is past csp_wg_wait. The stdin reader may
     * still be in read, with its own reference to done. */
    csp_ticker_stop(ticker);
    if (show_stats)
        report_goroutines();
    csp_wg_free(n);
    csp_chan_release(file_sizes);
    csp_chan_release(sema);
    csp_chan_release(done);
    if (fflush(stdout) != 0)
        return 1;
    return status;
}
