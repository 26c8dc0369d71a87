/*
 * du2 - gopl.io/ch8/du2: du1, with main's loop a select on the sizes and,
 * under -v, a ticker that prints the running totals every 500 ms. Without
 * -v the tick channel stays NULL, Go's nil channel: its case is never
 * chosen.
 *
 * usage: du2 [-v] [-b] [-t MS] [DIR...]
 *   -v     print the totals so far at each tick, then the final ones
 *   -b     print exact totals, "N files  N bytes", instead of the book's
 *          "N files  N.N GB"
 *   -t MS  the tick of -v (default 500 ms, as in the book)
 *   DIR    the trees to walk (default ".")
 *
 * Sizes are counted as in du1 (lstat's, per name). A directory that cannot
 * be read is reported on standard error ("du2: open DIR: ...") and the walk
 * goes on; walkDir's recursion needs the stack du1 describes. Exit status:
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

/* func dirents(dir string) []os.FileInfo */
static struct fileinfos dirents(const char *dir)
{
    char *err;
    struct fileinfos entries = read_dir(dir, &err); /* ioutil.ReadDir(dir) */
    if (err) {
        fprintf(stderr, "du2: %s\n", err);
        free(err);
        fileinfos_free(&entries); /* return nil */
    }
    return entries;
}

/* func walkDir(dir string, fileSizes chan<- int64) */
static void walk_dir(const char *dir, csp_send_chan file_sizes)
{
    struct fileinfos entries = dirents(dir);
    for (size_t i = 0; i < entries.n; i++) {
        struct fileinfo *entry = &entries.v[i];
        if (entry->is_dir) {
            char *subdir = path_join(dir, entry->name);
            walk_dir(subdir, file_sizes);
            free(subdir);
        } else {
            csp_send(file_sizes, &entry->size);
        }
    }
    fileinfos_free(&entries);
}

/* go func() { for _, root := range roots { walkDir(root, fileSizes) }; close(fileSizes) }() */
struct walk_roots_args {
    char    **roots;      /* argv's */
    int       nroots;
    csp_chan *file_sizes; /* a reference of our own, released here */
};

static void walk_roots(void *arg)
{
    struct walk_roots_args *a = arg;
    csp_send_chan out = csp_send_only(a->file_sizes);
    for (int i = 0; i < a->nroots; i++)
        walk_dir(a->roots[i], out);
    csp_close(out);
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
    fprintf(stderr, "usage: du2 [-v] [-b] [-t MS] [DIR...]\n");
    exit(2);
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

    /* Traverse the file tree. */
    csp_chan *file_sizes = csp_chan_make(sizeof(int64_t), 0); /* make(chan int64) */
    if (!file_sizes) {
        perror("du2: csp_chan_make");
        return 1;
    }
    struct walk_roots_args wa = { roots, nroots, csp_chan_retain(file_sizes) };
    int err = csp_go_copy(walk_roots, &wa, sizeof wa);
    if (err < 0) {
        fprintf(stderr, "du2: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    /* Print the results periodically. */
    csp_ticker *ticker = NULL;
    csp_chan *tick = NULL; /* var tick <-chan time.Time: nil */
    if (verbose) {
        ticker = csp_ticker_new(tick_ns); /* tick = time.Tick(500 * time.Millisecond) */
        if (!ticker) {
            perror("du2: csp_ticker_new");
            return 1;
        }
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

    if (ticker)
        csp_ticker_stop(ticker); /* time.Tick's ticker is never stopped; ours is */
    csp_chan_release(file_sizes);
    return fflush(stdout) == 0 ? 0 : 1;
}
