/*
 * csp-thumbnail - make thumbnails of images, concurrently.
 *
 * The pipeline is the book's makeThumbnails6 with its one flaw fixed (it
 * started a goroutine per file, so every image was decoded at once):
 *
 *   producer --jobs--> N workers --results--> main
 *      \________________________/
 *            wait group --> closer closes results
 *
 * - The producer walks the command line (recursing with -r) into a list,
 *   sends its length on `total` so that progress can say done/total, then
 *   sends each job on `jobs` and closes it. Walking first costs little (a
 *   stat per file against a decode per file) and gives an exact total.
 * - -j workers (default: one per CPU) receive jobs until `jobs` is closed and
 *   send one result each. Their number bounds how many images are in memory.
 *   A job's file work (read, decode, write the thumbnail under a temporary
 *   name, rename) is imagefile_make in imagefile.c, which the book's
 *   variants (variants.c) use too.
 * - A closer goroutine waits for the producer and the workers on a wait group
 *   and then closes `results`, which ends main's receive loop.
 * - Only main prints, so lines never interleave.
 * - SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by a
 *   signal goroutine with sigwait, which closes `quit`: the producer stops
 *   sending, workers finish the image in hand and take no other, and main
 *   exits 128+signal. So an interrupt leaves no temporary file behind. A
 *   second signal exits at once.
 *
 * Every goroutine holds its own reference to each channel it uses and drops
 * it on the way out, so main's release at the end frees nothing in use.
 */
#include "config.h"

#include <csp.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagefile.h"

#define PROG "csp-thumbnail"

/* Command-line settings. */
typedef struct config {
    imagefile_opts file; /* box, JPEG quality, -o DIR, -f, and 0666 less the umask */
    int jobs;            /* worker goroutines */
    bool recursive;      /* -r: walk directories */
    bool verbose;        /* -v: progress and a summary */
} config;

/* One input, as it travels on the jobs channel. */
typedef struct job {
    const char *path; /* the input file */
    size_t rel;       /* path + rel: the part of its name kept under -o */
} job;

enum status {
    MADE = IMAGEFILE_MADE,             /* thumbnail written */
    UP_TO_DATE = IMAGEFILE_UP_TO_DATE, /* thumbnail newer than its source, left alone */
    FAILED = IMAGEFILE_FAILED,         /* bad input or I/O error: why says which */
    WALK_ERROR, /* not a job: an operand or directory that could not be walked */
};

/* One outcome, on the results channel. */
typedef struct result {
    const char *path; /* the input (or directory) it is about */
    int status;       /* enum status */
    int64_t bytes;    /* MADE: the thumbnail's size */
    char why[320];    /* FAILED, WALK_ERROR: the reason */
} result;

/* The inputs found by the walk; strings and array owned by the pipeline. */
typedef struct joblist {
    job *v;       /* the jobs, in walk order */
    size_t n;     /* used */
    size_t cap;   /* allocated */
    char **names; /* every string the walk allocated (job paths, error paths) */
    size_t nnames, capnames; /* used, allocated */
} joblist;

/* What the goroutines share. Lives in main's frame until they are all done. */
typedef struct pipeline {
    const config *cfg;
    char **operands;   /* files and directories from the command line */
    int noperands;
    csp_chan *jobs;    /* job: producer -> workers */
    csp_chan *results; /* result: producer, workers -> main */
    csp_chan *total;   /* size_t: producer -> main, once, after the walk */
    csp_chan *quit;    /* no values: closed on SIGINT, SIGTERM or SIGHUP */
    csp_wg *wg;        /* counts the producer and the workers, for the closer */
    joblist list;      /* written by the producer only; freed by main at the end */
} pipeline;

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

/* Grows *v (of *cap elements of size sz) to hold at least need. */
static void *grow(void *v, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return v;
    *cap = *cap ? *cap * 2 : 64;
    return xrealloc(v, *cap * sz);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Thumbnails (and our temporary files) are never inputs: rerunning over a
 * directory must not make foo.thumb.thumb.jpg. */
static bool is_thumbnail_name(const char *name)
{
    return strstr(name, ".thumb.") != NULL;
}

/* In a directory walked with -r, only these are taken as images. */
static bool has_image_extension(const char *name)
{
    static const char *const exts[] = { "jpg", "jpeg", "jpe", "jfif", "png",
                                        "bmp", "gif", "tga" };
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return true;
    return false;
}

/* The signal that closed quit; written before the close, so read it only
 * after seeing quit closed. */
static atomic_int caught_signal;

static bool quitting(const pipeline *pl)
{
    return csp_tryrecv(pl->quit, NULL) == CSP_ECLOSED;
}

/* ------------------------------------------------------------------------
 * The producer: walk, then feed the workers
 * ------------------------------------------------------------------------ */

static char *keep_name(joblist *l, char *s)
{
    l->names = grow(l->names, &l->capnames, l->nnames + 1, sizeof *l->names);
    l->names[l->nnames++] = s;
    return s;
}

static char *join_path(joblist *l, const char *dir, const char *name)
{
    size_t n = strlen(dir), m = strlen(name);
    bool slash = n > 0 && dir[n - 1] != '/';
    char *p = xrealloc(NULL, n + slash + m + 1);
    memcpy(p, dir, n);
    if (slash)
        p[n] = '/';
    memcpy(p + n + slash, name, m + 1);
    return keep_name(l, p);
}

static void add_job(joblist *l, const char *path, size_t rel)
{
    l->v = grow(l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = (job){ path, rel };
}

/* Reports that path could not be walked, or is not taken. */
__attribute__((format(printf, 3, 4)))
static void walk_error(pipeline *pl, const char *path, const char *fmt, ...)
{
    result r = { .status = WALK_ERROR };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.why, sizeof r.why, fmt, ap);
    va_end(ap);
    r.path = keep_name(&pl->list, xstrdup(path));
    csp_send(pl->results, &r);
}

static bool is_directory_entry(const char *path, const struct dirent *e)
{
    struct stat st;
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_DIR;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Walks dir in name order. Symbolic links to directories are not followed
 * (no loops); links to files are taken like files. root is the length of
 * the operand's prefix, dropped from the names kept under -o. */
static void walk_dir(pipeline *pl, const char *dir, size_t root)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        walk_error(pl, dir, "cannot read directory: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        bool skip = !strcmp(name, ".") || !strcmp(name, "..") || is_thumbnail_name(name);
        if (!skip && !quitting(pl)) {
            char *path = join_path(&pl->list, dir, name);
            if (is_directory_entry(path, ents[i]))
                walk_dir(pl, path, root);
            else if (has_image_extension(name))
                add_job(&pl->list, path, root);
        }
        free(ents[i]);
    }
    free(ents);
}

/*
 * Under -o a directory operand's files keep their path from the operand's
 * own name down, as cp -r copies them: -r -o out photos writes
 * photos/2024/a.jpg as out/photos/2024/a.thumb.jpg. Returns the offset in
 * the walked paths where that part starts. For ".", ".." and "/" it starts
 * below the operand: out/../a must not escape out.
 */
static size_t kept_from(const char *arg)
{
    size_t n = strlen(arg), below = n + (n > 0 && arg[n - 1] != '/');
    while (n > 0 && arg[n - 1] == '/')
        n--; /* photos/ is photos */
    size_t start = n;
    while (start > 0 && arg[start - 1] != '/')
        start--;
    size_t len = n - start;
    bool dots = (len == 1 && arg[start] == '.') || (len == 2 && !strncmp(arg + start, "..", 2));
    if (len == 0 || dots)
        return below;
    return start;
}

static void walk_operand(pipeline *pl, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        walk_error(pl, arg, "%s", strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!is_thumbnail_name(base_name(arg)))
            add_job(&pl->list, arg, (size_t)(base_name(arg) - arg));
    } else if (pl->cfg->recursive) {
        walk_dir(pl, arg, kept_from(arg));
    } else {
        walk_error(pl, arg, "%s (use -r to walk it)", strerror(EISDIR));
    }
}

/* The thumbnail type an input's name suggests; the worker decides from its
 * contents, and the two differ only for misnamed files. */
static const char *guessed_type(const char *path)
{
    static const char *const jpeg[] = { "jpg", "jpeg", "jpe", "jfif" };
    const char *base = base_name(path), *dot = strrchr(base, '.');
    for (size_t i = 0; dot && dot != base && i < sizeof jpeg / sizeof jpeg[0]; i++)
        if (!strcasecmp(dot + 1, jpeg[i]))
            return "jpg";
    return "png";
}

/* A job's thumbnail name and its place in the walk, for finding clashes. */
typedef struct named {
    char *out;    /* malloc'd; NULL when too long (the worker will say so) */
    size_t index; /* in the job list */
} named;

static int by_name_then_index(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = x->out && y->out ? strcmp(x->out, y->out) : (x->out != NULL) - (y->out != NULL);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/*
 * Two inputs whose thumbnails would have one name (a.png and a.gif; two
 * a.jpg given with -o) would overwrite each other, and the second would
 * even look up to date. The first in walk order keeps the name; the others
 * are reported and dropped. Sorting (name, index) pairs finds them in
 * O(n log n) without a hash table.
 */
static void drop_clashes(pipeline *pl)
{
    joblist *l = &pl->list;
    named *v = xrealloc(NULL, (l->n ? l->n : 1) * sizeof *v);
    bool *drop = xrealloc(NULL, l->n ? l->n : 1);
    char out[PATH_MAX];
    for (size_t i = 0; i < l->n; i++) {
        const job *j = &l->v[i];
        bool ok = imagefile_name(&pl->cfg->file, j->path, j->rel, guessed_type(j->path), out,
                                 sizeof out) == 0;
        v[i] = (named){ ok ? xstrdup(out) : NULL, i };
        drop[i] = false;
    }
    qsort(v, l->n, sizeof *v, by_name_then_index);
    for (size_t i = 1, first = 0; i < l->n; i++) {
        if (!v[i].out || !v[first].out || strcmp(v[i].out, v[first].out)) {
            first = i;
            continue;
        }
        drop[v[i].index] = true;
        walk_error(pl, l->v[v[i].index].path, "%s would also be the thumbnail of %s",
                   v[i].out, l->v[v[first].index].path);
    }
    size_t kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!drop[i])
            l->v[kept++] = l->v[i];
        free(v[i].out);
    }
    l->n = kept;
    free(drop);
    free(v);
}

static void producer(void *arg)
{
    pipeline *pl = arg;
    csp_wg *wg = pl->wg;
    for (int i = 0; i < pl->noperands; i++)
        walk_operand(pl, pl->operands[i]);
    drop_clashes(pl);
    size_t total = pl->list.n;
    csp_send(pl->total, &total);
    for (size_t i = 0; i < total; i++) {
        csp_case cases[2] = { csp_case_send(pl->jobs, &pl->list.v[i]),
                              csp_case_recv(pl->quit, NULL) };
        if (csp_select(cases, 2) == 1)
            break;
    }
    csp_close(pl->jobs);
    csp_chan_release(pl->jobs);
    csp_chan_release(pl->results);
    csp_chan_release(pl->total);
    csp_chan_release(pl->quit);
    csp_wg_done(wg); /* last: main may free *pl once everyone is done */
}

/* ------------------------------------------------------------------------
 * A worker: one file at a time
 * ------------------------------------------------------------------------ */

/* Makes (or skips) one thumbnail, filling r: imagefile_make does the work. */
static void make_one(const config *cfg, const job *j, result *r)
{
    char out[PATH_MAX];
    r->status = imagefile_make(&cfg->file, j->path, j->rel, out, sizeof out, &r->bytes, r->why,
                               sizeof r->why);
}

static void worker(void *arg)
{
    pipeline *pl = arg;
    csp_wg *wg = pl->wg;
    job j;
    while (csp_recv(pl->jobs, &j) == 0) {
        if (quitting(pl))
            continue; /* drain what is buffered, make nothing more */
        result r = { .path = j.path };
        make_one(pl->cfg, &j, &r);
        csp_send(pl->results, &r);
    }
    csp_chan_release(pl->jobs);
    csp_chan_release(pl->results);
    csp_chan_release(pl->quit);
    csp_wg_done(wg); /* last: see producer */
}

static void closer(void *arg)
{
    pipeline *pl = arg;
    csp_chan *results = pl->results;
    csp_wg_wait(pl->wg);
    csp_close(results);
    csp_chan_release(results);
}

/* What the signal goroutine needs; it gets its own copy (csp_go_copy)
 * because it outlives run()'s frame. */
typedef struct sigwatch {
    sigset_t set;   /* the signals, blocked in every thread */
    csp_chan *quit; /* its own reference, never released: it never returns */
} sigwatch;

static void signals(void *arg)
{
    const sigwatch *w = arg;
    int sig = SIGTERM; /* sigwait cannot fail on a valid set; if it did: TERM */
    sigwait(&w->set, &sig);
    atomic_store(&caught_signal, sig);
    csp_close(w->quit);
    sigwait(&w->set, &sig);
    _exit(128 + sig); /* the second signal: the user insists */
}

/* Blocks the signals in this thread, and so in every thread started after,
 * and starts the goroutine that takes them. Without it (no thread to be
 * had), the signals keep their default action. */
static void watch_signals(csp_chan *quit)
{
    sigwatch w = { .quit = quit };
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGINT);
    sigaddset(&w.set, SIGTERM);
    sigaddset(&w.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &w.set, NULL);
    csp_chan_retain(quit);
    if (csp_go_copy(signals, &w, sizeof w) != 0) {
        csp_chan_release(quit);
        pthread_sigmask(SIG_UNBLOCK, &w.set, NULL);
    }
}

/* ------------------------------------------------------------------------
 * Main: start the pipeline, report what comes out
 * ------------------------------------------------------------------------ */

/* Counts and the progress line. */
typedef struct report {
    size_t done, total;           /* jobs finished; jobs found (known after the walk) */
    size_t made, skipped, failed; /* outcomes, walk errors counted as failed */
    int64_t bytes;                /* of the thumbnails made */
    bool tty;                     /* stderr is a terminal: rewrite one progress line */
    bool line_open;               /* a progress line without its newline is showing */
} report;

static void end_line(report *rp)
{
    if (rp->line_open)
        fputs("\r\033[K", stderr);
    rp->line_open = false;
}

static void progress(report *rp, const result *r)
{
    const char *note = r->status == UP_TO_DATE ? " (up to date)" : "";
    if (rp->tty) {
        fprintf(stderr, "\r\033[K%zu/%zu %s%s", rp->done, rp->total, r->path, note);
        rp->line_open = true;
    } else {
        fprintf(stderr, "%zu/%zu %s%s\n", rp->done, rp->total, r->path, note);
    }
    fflush(stderr);
}

/* Counts one result, and prints it if it is an error or -v asks. */
static void take(report *rp, const config *cfg, const result *r)
{
    if (r->status != WALK_ERROR)
        rp->done++;
    switch (r->status) {
    case MADE:
        rp->made++;
        rp->bytes += r->bytes;
        break;
    case UP_TO_DATE:
        rp->skipped++;
        break;
    default:
        rp->failed++;
        end_line(rp);
        fprintf(stderr, PROG ": %s: %s\n", r->path, r->why);
        break;
    }
    if (cfg->verbose && r->status != WALK_ERROR)
        progress(rp, r);
}

/* Receives results until the closer closes the channel. The producer sends
 * the one total after the walk (whose errors may come first) and before the
 * first job. */
static void collect(pipeline *pl, report *rp)
{
    bool have_total = false;
    for (;;) {
        result r;
        size_t total;
        csp_case cases[2] = {
            csp_case_recv(pl->results, &r),
            csp_case_recv(have_total ? NULL : pl->total, &total), /* NULL: never chosen */
        };
        int i = csp_select(cases, 2);
        if (i == 1) {
            have_total = true;
            rp->total = total;
        } else if (i == 0 && cases[0].err == 0) {
            /* The select picks at random among ready cases, but the total was
             * sent before the first job: with a job's result in hand, it is
             * there to take, and the progress line can say done/total. */
            if (!have_total && r.status != WALK_ERROR && csp_tryrecv(pl->total, &total) == 0) {
                have_total = true;
                rp->total = total;
            }
            take(rp, pl->cfg, &r);
        } else {
            return;
        }
    }
}

static void summary(const report *rp, int64_t ns)
{
    fprintf(stderr, "%zu made (%.1f KiB), %zu up to date, %zu failed in %.2f s\n", rp->made,
            (double)rp->bytes / 1024, rp->skipped, rp->failed, (double)ns / 1e9);
}

/* Starts fn(pl) as a goroutine counted on the wait group. */
static int start(pipeline *pl, csp_fn fn)
{
    csp_wg_add(pl->wg, 1);
    int rc = csp_go(fn, pl);
    if (rc != 0)
        csp_wg_done(pl->wg);
    return rc;
}

/* The retains: one reference per goroutine per channel it uses. */
static int start_producer(pipeline *pl)
{
    csp_chan *chans[] = { pl->jobs, pl->results, pl->total, pl->quit };
    for (size_t i = 0; i < 4; i++)
        csp_chan_retain(chans[i]);
    int rc = start(pl, producer);
    for (size_t i = 0; rc != 0 && i < 4; i++)
        csp_chan_release(chans[i]);
    return rc;
}

static int start_worker(pipeline *pl)
{
    csp_chan *chans[] = { pl->jobs, pl->results, pl->quit };
    for (size_t i = 0; i < 3; i++)
        csp_chan_retain(chans[i]);
    int rc = start(pl, worker);
    for (size_t i = 0; rc != 0 && i < 3; i++)
        csp_chan_release(chans[i]);
    return rc;
}

/* main's references and the rest, once every goroutine but the signal
 * watcher (which holds its own reference to quit) is done. */
static void free_pipeline(pipeline *pl)
{
    csp_chan_release(pl->jobs);
    csp_chan_release(pl->results);
    csp_chan_release(pl->total);
    csp_chan_release(pl->quit);
    csp_wg_free(pl->wg);
    for (size_t i = 0; i < pl->list.nnames; i++)
        free(pl->list.names[i]);
    free(pl->list.names);
    free(pl->list.v);
}

/* Runs the pipeline; returns the exit status. */
static int run(const config *cfg, char **operands, int noperands)
{
    pipeline pl = { .cfg = cfg, .operands = operands, .noperands = noperands };
    pl.jobs = csp_chan_make(sizeof(job), (size_t)cfg->jobs);
    pl.results = csp_chan_make(sizeof(result), (size_t)cfg->jobs);
    pl.total = csp_chan_make(sizeof(size_t), 1);
    pl.quit = csp_chan_make(0, 0);
    pl.wg = csp_wg_new();
    if (!pl.jobs || !pl.results || !pl.total || !pl.quit || !pl.wg) {
        fprintf(stderr, PROG ": out of memory\n");
        free_pipeline(&pl);
        return 1;
    }
    watch_signals(pl.quit);
    report rp = { .tty = cfg->verbose && isatty(STDERR_FILENO) };
    int64_t t0 = csp_now();
    int rc = start_producer(&pl);
    int workers = 0;
    while (rc == 0 && workers < cfg->jobs && start_worker(&pl) == 0)
        workers++;
    /* Fewer workers than asked is fine (the system limits threads); none
     * is not: the producer would wait for ever. */
    if (rc == 0 && workers == 0)
        rc = CSP_EAGAIN;
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot start goroutines: %s\n", csp_strerror(rc));
        exit(1); /* as Go's runtime would; the goroutines die with us */
    }
    csp_chan_retain(pl.results);
    if ((rc = csp_go(closer, &pl)) != 0) {
        fprintf(stderr, PROG ": cannot start goroutines: %s\n", csp_strerror(rc));
        exit(1);
    }
    collect(&pl, &rp);
    end_line(&rp);
    if (cfg->verbose)
        summary(&rp, csp_now() - t0);
    int status = rp.failed ? 1 : 0;
    if (quitting(&pl)) {
        fprintf(stderr, PROG ": interrupted: %zu of %zu done\n", rp.done, rp.total);
        status = 128 + atomic_load(&caught_signal);
    }
    free_pipeline(&pl);
    return status;
}

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("Usage: " PROG " [OPTION]... FILE|DIR...\n"
          "Make a thumbnail of each image, concurrently: foo.jpg gives foo.thumb.jpg;\n"
          "PNG, BMP, GIF and TGA give foo.thumb.png.\n"
          "\n"
          "  -s, --size=WxH     fit thumbnails in a WxH box (default 128x128; N is NxN);\n"
          "                     aspect is kept and images are never enlarged\n"
          "  -q, --quality=Q    JPEG quality, 1-100 (default 85)\n"
          "  -o, --output=DIR   write thumbnails in DIR (made if needed), not beside\n"
          "                     their images; with -r the tree is kept, as by cp -r\n"
          "  -r, --recursive    walk directories for *.jpg, *.jpeg, *.png, *.bmp, *.gif\n"
          "                     and *.tga\n"
          "  -f, --force        remake thumbnails that are newer than their images\n"
          "  -j, --jobs=N       decode N images at once (default: the number of CPUs)\n"
          "  -v, --verbose      print done/total progress and a summary on stderr\n"
          "  -h, --help         print this help and exit\n"
          "      --version      print the version and exit\n"
          "\n"
          "Files named *.thumb.* are never taken as images. A file that cannot be read\n"
          "or decoded gets one line on stderr and no thumbnail; the others are still\n"
          "made, and the exit status is 1.\n",
          f);
}

static int cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A whole number in [lo, hi], or -1. */
static int parse_int(const char *s, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return (int)v;
}

static int parse_size(const char *s, image_opts *o)
{
    char *end;
    errno = 0;
    long w = strtol(s, &end, 10), h = w;
    if (*end == 'x' || *end == 'X')
        h = strtol(end + 1, &end, 10);
    if (errno || end == s || *end || w < 1 || h < 1 || w > 65535 || h > 65535)
        return -1;
    o->box_w = (int)w;
    o->box_h = (int)h;
    return 0;
}

static void bad_option(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": invalid %s '%s'\nTry '" PROG " --help' for more information.\n", what,
            arg);
    exit(2);
}

static void parse_options(int argc, char **argv, config *cfg)
{
    enum { OPT_VERSION = 256 };
    static const struct option longopts[] = {
        { "size", required_argument, NULL, 's' },      { "quality", required_argument, NULL, 'q' },
        { "output", required_argument, NULL, 'o' },    { "recursive", no_argument, NULL, 'r' },
        { "force", no_argument, NULL, 'f' },           { "jobs", required_argument, NULL, 'j' },
        { "verbose", no_argument, NULL, 'v' },         { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION }, { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "s:q:o:rfj:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_size(optarg, &cfg->file.img) != 0)
                bad_option("size", optarg);
            break;
        case 'q':
            if ((cfg->file.img.quality = parse_int(optarg, 1, 100)) < 0)
                bad_option("quality", optarg);
            break;
        case 'j':
            if ((cfg->jobs = parse_int(optarg, 1, 4096)) < 0)
                bad_option("number of jobs", optarg);
            break;
        case 'o': cfg->file.outdir = optarg; break;
        case 'r': cfg->recursive = true; break;
        case 'f': cfg->file.force = true; break;
        case 'v': cfg->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        case OPT_VERSION: puts(PROG " (" PACKAGE_NAME ") " PACKAGE_VERSION); exit(0);
        default:
            fputs("Try '" PROG " --help' for more information.\n", stderr);
            exit(2);
        }
    }
    if (optind == argc) {
        fputs(PROG ": no images given\nTry '" PROG " --help' for more information.\n", stderr);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    config cfg = { .file = { .img = { 128, 128, 85 } }, .jobs = cpu_count() };
    parse_options(argc, argv, &cfg);
    mode_t mask = umask(0); /* read it while we are the only thread */
    umask(mask);
    cfg.file.mode = 0666 & ~mask;
    if (cfg.file.outdir) {
        char dir[PATH_MAX];
        int n = snprintf(dir, sizeof dir, "%s/", cfg.file.outdir);
        if (n >= (int)sizeof dir || imagefile_make_dirs(dir, 1) != 0) {
            fprintf(stderr, PROG ": %s: %s\n", cfg.file.outdir,
                    n >= (int)sizeof dir ? strerror(ENAMETOOLONG) : strerror(errno));
            return 1;
        }
    }
    return run(&cfg, argv + optind, argc - optind);
}
