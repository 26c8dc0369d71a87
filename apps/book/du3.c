/*
 * du3 - gopl.io/ch8/du3: du2, with every directory walked by a goroutine
 * of its own. A wait group counts the walkDir calls still running, and a
 * closer goroutine closes the sizes channel when it drops to zero; a
 * counting semaphore, a channel of 20 empty tokens, bounds how many
 * directories are being read at once.
 *
 * usage: du3 [-v] [-b] [-t MS] [DIR...]
 *   -v     print the totals so far at each tick, then the final ones
 *   -b     print exact totals, "N files  N bytes", instead of the book's
 *          "N files  N.N GB"
 *   -t MS  the tick of -v (default 500 ms, as in the book)
 *   DIR    the trees to walk, all at once (default ".")
 *
 * Sizes are counted as in du1 (lstat's, per name). A directory that cannot
 * be read is reported on standard error ("du3: open DIR: ...") and the walk
 * goes on. Every goroutine here is an OS thread, so a tree of N directories
 * may hold up to N threads at its peak, most blocked on the semaphore or the
 * channel; should the runtime refuse one (CSP_MAX_THREADS, or the OS), that
 * directory is walked by the goroutine that found it instead. Exit status:
 * 0; 1 when the runtime could not start the walk; 2 for a usage error.
 */
#include "dirents.h"

#include <csp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int verbose;     /* -v */
static int exact_bytes; /* -b */

/* sema is a counting semaphore for limiting concurrency in dirents. */
static csp_chan *sema; /* var sema = make(chan struct{}, 20) */

/* func dirents(dir string) []os.FileInfo */
static struct fileinfos dirents(const char *dir)
{
    csp_send(sema, NULL); /* acquire token */
    char *err;
    struct fileinfos entries = read_dir(dir, &err); /* ioutil.ReadDir(dir) */
    if (err) {
        fprintf(stderr, "du3: %s\n", err);
        free(err);
        fileinfos_free(&entries); /* return nil */
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

static void usage(void)
{
    fprintf(stderr, "usage: du3 [-v] [-b] [-t MS] [DIR...]\n");
    exit(2);
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "du3: %s: %s\n", what, csp_strerror(err));
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
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "-b") == 0) {
            exact_bytes = 1;
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

    /* Traverse each root of the file tree in parallel. */
    sema = csp_chan_make(0, 20);
    csp_chan *file_sizes = csp_chan_make(sizeof(int64_t), 0); /* make(chan int64) */
    csp_wg *n = csp_wg_new();                                  /* var n sync.WaitGroup */
    if (!sema || !file_sizes || !n) {
        perror("du3");
        return 1;
    }
    int err;
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
    csp_ticker *ticker = NULL;
    csp_chan *tick = NULL; /* var tick <-chan time.Time: nil */
    if (verbose) {
        ticker = csp_ticker_new(tick_ns); /* tick = time.Tick(500 * time.Millisecond) */
        if (!ticker)
            fail("csp_ticker_new", -errno);
        tick = csp_ticker_chan(ticker);
    }
    int64_t nfiles = 0, nbytes = 0, size;
    for (;;) {
        csp_case cases[] = {
            csp_case_recv(file_sizes, &size), /* case size, ok := <-fileSizes: */
            csp_case_recv(tick, NULL),        /* case <-tick: */
        };
        if (csp_select(cases, 2) == 0) {
            if (cases[0].err == CSP_ECLOSED)
                break; /* fileSizes was closed */
            nfiles++;
            nbytes += size;
        } else {
            print_disk_usage(nfiles, nbytes);
        }
    }
    print_disk_usage(nfiles, nbytes); /* final totals */

    /* fileSizes is closed: every walk_dir has returned its token and called
     * csp_wg_done, and the closer is past csp_wg_wait. */
    if (ticker)
        csp_ticker_stop(ticker);
    csp_wg_free(n);
    csp_chan_release(file_sizes);
    csp_chan_release(sema);
    return fflush(stdout) == 0 ? 0 : 1;
}
