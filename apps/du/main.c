/*
 * main.c - csp-du: disk usage, walked concurrently (the book's du1..du4
 * grown into a tool that prints what GNU du prints).
 *
 * Goroutines (every one a pooled OS thread):
 *   - main: parses options, then aggregates: a select over the walkers'
 *     batches, the -v ticker and the cancellation channel (du2/du4's loop);
 *     after the walk, the report.
 *   - the launcher and at most --jobs walkers (walk.c).
 *   - the watcher: turns a byte read on stdin, or SIGINT (through a
 *     self-pipe written by the signal handler), into closing `done`, which
 *     every walker polls. End-of-file on stdin does not cancel (under cron or
 *     CI stdin is /dev/null). main stops it through the same pipe and waits
 *     until it has returned, so no goroutine outlives the walk.
 *
 * Default --jobs, measured on a shared 2-core machine, a tree of 200,000
 * files in 20,000 directories, du -s, medians of interleaved runs (details
 * in the man page, CONCURRENCY): with a warm page cache 2 to 32 walkers all
 * took 0.17-0.19 s (GNU du 0.36 s): the work is system calls, bound by the
 * two cores. With a cold cache more walkers keep more requests in flight:
 * 4 took 1.4 s, 8 about 1.0 s, 16 and 32 0.8-0.9 s (GNU du 2.9-3.4 s). 16
 * gets nearly all of that for half the threads of 32.
 */
#include "config.h"

#include "report.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DEFAULT_JOBS = 16, EXIT_CANCELLED = 130 };
#define PROGRESS_PERIOD (500 * CSP_MILLISECOND)

struct options {
    struct du_walk_opts walk;
    struct du_report_opts report;
    bool verbose, stats, no_stdin, summarize, depth_given;
};

/* The watcher's state: pipe_r and use_stdin are set before it starts;
 * cancelled is written by the watcher before it closes done, and read by
 * main after exited is closed. */
struct watch {
    int pipe_r;
    bool use_stdin;
    csp_chan *done;
    csp_chan *exited;
    bool cancelled;
};

static int wake_pipe[2] = { -1, -1 }; /* written by the SIGINT handler and by main */

static void usage_error(const char *msg, const char *arg)
{
    if (msg)
        fprintf(stderr, "csp-du: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    fputs("Try 'csp-du --help' for more information.\n", stderr);
    exit(1);
}

static void help(void)
{
    fputs("Usage: csp-du [OPTION]... [FILE]...\n"
          "Summarize the disk usage of each FILE, recursively for directories,\n"
          "reading directories concurrently. Output is GNU du's.\n"
          "\n"
          "  -a, --all             write counts for all files, not just directories\n"
          "      --apparent-size   print apparent sizes rather than disk usage\n"
          "  -b, --bytes           equivalent to '--apparent-size' in units of 1 byte\n"
          "  -c, --total           produce a grand total\n"
          "  -d, --max-depth=N     print the total for a directory (or file, with --all)\n"
          "                          only if it is N or fewer levels below the argument\n"
          "  -D, -H, --dereference-args  follow symbolic links on the command line\n"
          "  -h, --human-readable  print sizes like 1K 234M 2G (powers of 1024)\n"
          "      --si              like -h, but powers of 1000\n"
          "  -k                    units of 1024 bytes (the default)\n"
          "  -m                    units of 1048576 bytes\n"
          "  -L, --dereference     follow all symbolic links\n"
          "  -l, --count-links     count sizes many times if hard linked\n"
          "  -P, --no-dereference  don't follow symbolic links (the default)\n"
          "  -S, --separate-dirs   for directories do not include size of subdirectories\n"
          "  -s, --summarize       display only a total for each argument\n"
          "  -x, --one-file-system skip directories on different file systems\n"
          "      --exclude=PATTERN skip files whose path matches PATTERN\n"
          "  -0, --null            end each output line with NUL, not newline\n"
          "\n"
          "      --book            print only the book's line: 'N files  X.Y GB'\n"
          "      --top=N           print only the N largest of the lines, largest first\n"
          "      --json            print the lines and totals as JSON (sizes in bytes)\n"
          "  -j, --jobs=N          read at most N directories at once (default 16)\n"
          "  -v, --verbose         report progress on stderr every 500 ms\n"
          "      --no-stdin        do not cancel when a byte arrives on standard input\n"
          "      --stats           print runtime statistics on stderr at the end\n"
          "      --help            display this help and exit\n"
          "      --version         output version information and exit\n"
          "\n"
          "A byte read on standard input (Enter on a terminal) or SIGINT stops the walk:\n"
          "the totals so far are printed, marked partial, and the exit status is 130.\n"
          "End of file on standard input does not cancel. Exit status: 0 on success,\n"
          "1 if some file could not be read (the others are still counted).\n",
          stdout);
    exit(0);
}

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

enum {
    OPT_APPARENT = CHAR_MAX + 1, OPT_SI, OPT_EXCLUDE, OPT_BOOK, OPT_TOP, OPT_JSON,
    OPT_NO_STDIN, OPT_STATS, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
    { "all", no_argument, NULL, 'a' },
    { "apparent-size", no_argument, NULL, OPT_APPARENT },
    { "bytes", no_argument, NULL, 'b' },
    { "total", no_argument, NULL, 'c' },
    { "max-depth", required_argument, NULL, 'd' },
    { "dereference-args", no_argument, NULL, 'D' },
    { "human-readable", no_argument, NULL, 'h' },
    { "si", no_argument, NULL, OPT_SI },
    { "dereference", no_argument, NULL, 'L' },
    { "count-links", no_argument, NULL, 'l' },
    { "no-dereference", no_argument, NULL, 'P' },
    { "separate-dirs", no_argument, NULL, 'S' },
    { "summarize", no_argument, NULL, 's' },
    { "one-file-system", no_argument, NULL, 'x' },
    { "exclude", required_argument, NULL, OPT_EXCLUDE },
    { "null", no_argument, NULL, '0' },
    { "book", no_argument, NULL, OPT_BOOK },
    { "top", required_argument, NULL, OPT_TOP },
    { "json", no_argument, NULL, OPT_JSON },
    { "jobs", required_argument, NULL, 'j' },
    { "verbose", no_argument, NULL, 'v' },
    { "no-stdin", no_argument, NULL, OPT_NO_STDIN },
    { "stats", no_argument, NULL, OPT_STATS },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

/* A decimal number in [min, max], or a usage error. */
static unsigned long long number(const char *s, unsigned long long min, unsigned long long max,
                                 const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < min || v > max)
        usage_error(what, s);
    return v;
}

static void set_units(struct du_report_opts *r, uint64_t block, unsigned human)
{
    r->block_size = block;
    r->human = human;
}

static void add_exclude(struct du_walk_opts *w, char *pat)
{
    w->excludes = du_xrealloc(w->excludes, (w->n_excludes + 1) * sizeof *w->excludes);
    w->excludes[w->n_excludes++] = pat;
}

static void parse_one(struct options *o, int c, char *arg)
{
    struct du_walk_opts *w = &o->walk;
    struct du_report_opts *r = &o->report;
    switch (c) {
    case '0': r->null = true; break;
    case 'a': r->all = true; break;
    case OPT_APPARENT: w->apparent = true; break;
    case 'b': w->apparent = true; set_units(r, 1, 0); break;
    case 'c': r->total = true; break;
    case 'd':
        r->max_depth = (size_t)number(arg, 0, SIZE_MAX, "invalid maximum depth");
        o->depth_given = true;
        break;
    case 'D': case 'H': w->follow = false; w->follow_args = true; break; /* the last of -D, -L, -P wins */
    case 'h': set_units(r, 1, 1024); break;
    case OPT_SI: set_units(r, 1, 1000); break;
    case 'k': set_units(r, 1024, 0); break;
    case 'm': set_units(r, 1024 * 1024, 0); break;
    case 'L': w->follow = true; break;
    case 'l': w->count_links = true; break;
    case 'P': w->follow = w->follow_args = false; break;
    case 'S': r->separate_dirs = true; break;
    case 's': o->summarize = true; break;
    case 'x': w->one_fs = true; break;
    case OPT_EXCLUDE: add_exclude(w, arg); break;
    case OPT_BOOK: r->book = true; break;
    case OPT_TOP: r->top = (size_t)number(arg, 1, SIZE_MAX, "invalid --top count"); break;
    case OPT_JSON: r->json = true; break;
    case 'j': w->jobs = (int)number(arg, 1, 4096, "invalid number of jobs"); break;
    case 'v': o->verbose = true; break;
    case OPT_NO_STDIN: o->no_stdin = true; break;
    case OPT_STATS: o->stats = true; break;
    case OPT_HELP: help(); break;
    case OPT_VERSION: printf("csp-du (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); exit(0);
    default: usage_error(NULL, NULL);
    }
}

/* Parses argv; returns the index of the first operand. */
static int parse(struct options *o, int argc, char **argv)
{
    static char name[] = "csp-du";
    argv[0] = name; /* getopt's messages name us as ours do, however invoked */
    o->walk.jobs = DEFAULT_JOBS;
    o->report.max_depth = SIZE_MAX;
    set_units(&o->report, 1024, 0);
    int c;
    while ((c = getopt_long(argc, argv, "0abcd:DHhkmLlPSsxj:v", long_options, NULL)) != -1)
        parse_one(o, c, optarg);
    if (o->report.all && o->summarize) {
        fputs("csp-du: cannot both summarize and show all entries\n", stderr);
        usage_error(NULL, NULL);
    }
    if (o->summarize && o->depth_given) {
        if (o->report.max_depth != 0) {
            fprintf(stderr, "csp-du: warning: summarizing conflicts with --max-depth=%zu\n",
                    o->report.max_depth);
            usage_error(NULL, NULL);
        }
        fputs("csp-du: warning: summarizing is the same as using --max-depth=0\n", stderr);
    }
    if (o->summarize)
        o->report.max_depth = 0;
    /* As GNU du: hash every inode when a file could be met twice otherwise
     * than through hard links (several arguments, or following links). */
    o->walk.hash_all = argc - optind > 1 || o->walk.follow;
    o->walk.keep_files = o->report.all;
    o->report.apparent = o->walk.apparent;
    return optind;
}

/* ------------------------------------------------------------------------
 * Cancellation: the watcher goroutine
 * ------------------------------------------------------------------------ */

static void on_sigint(int sig)
{
    int saved = errno;
    char c = 'i';
    ssize_t r = write(wake_pipe[1], &c, 1); /* if it fails, one is pending already */
    (void)r;
    (void)sig;
    errno = saved;
}

static void cancel(struct watch *wa)
{
    if (!wa->cancelled) {
        wa->cancelled = true;
        csp_close(wa->done);
    }
}

/* A byte on stdin cancels; end-of-file or an error just stops watching. */
static void stdin_ready(struct watch *wa, struct pollfd *p)
{
    char c;
    ssize_t n = read(0, &c, 1);
    if (n == 1)
        cancel(wa);
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        p->fd = -1;
}

/* Drains the self-pipe: 'i' is SIGINT, 'q' is main asking us to return. */
static bool pipe_ready(struct watch *wa)
{
    char buf[64];
    bool quit = false;
    ssize_t n;
    while ((n = read(wa->pipe_r, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == 'i')
                cancel(wa);
            else
                quit = true;
        }
    }
    return quit;
}

static void watcher(void *arg)
{
    struct watch *wa = arg;
    struct pollfd p[2] = { { wa->pipe_r, POLLIN, 0 }, { wa->use_stdin ? 0 : -1, POLLIN, 0 } };
    bool quit = false;
    while (!quit) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            stdin_ready(wa, &p[1]);
        if (p[0].revents)
            quit = pipe_ready(wa);
    }
    csp_close(wa->exited);
}

/* Whether to watch stdin: not a regular file (`while read d; do csp-du "$d";
 * done < list` must not lose a byte of its list), not when asked not to, and
 * not from a terminal we are in the background of (reading would stop us). */
static bool should_watch_stdin(bool no_stdin)
{
    struct stat st;
    if (no_stdin || fstat(0, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return false;
    return !isatty(0) || tcgetpgrp(0) == getpgrp();
}

static struct sigaction old_sigint; /* restored by stop_watcher */

static int start_watcher(struct watch *wa, bool no_stdin)
{
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -errno;
    wa->pipe_r = wake_pipe[0];
    wa->use_stdin = should_watch_stdin(no_stdin);
    /* A SIGINT ignored at start (a background job of a script, nohup)
     * stays ignored, as shells expect. The first SIGINT cancels; the handler
     * then resets itself (SA_RESETHAND), so a second one ends us at once. */
    sigaction(SIGINT, NULL, &old_sigint);
    if (old_sigint.sa_handler != SIG_IGN) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sa.sa_flags = SA_RESTART | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
    }
    return csp_go(watcher, wa);
}

/* Stops the watcher and waits until it has returned; restores SIGINT's
 * disposition. Returns whether the walk was cancelled. */
static bool stop_watcher(struct watch *wa)
{
    char q = 'q';
    while (write(wake_pipe[1], &q, 1) != 1)
        csp_sleep(CSP_MILLISECOND); /* full of SIGINTs: the watcher is draining it */
    csp_recv(wa->exited, NULL);
    sigaction(SIGINT, &old_sigint, NULL);
    pipe_ready(wa); /* a SIGINT that came after the watcher's last look cancels too */
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    return wa->cancelled;
}

/* ------------------------------------------------------------------------
 * Aggregation (main's select loop) and progress
 * ------------------------------------------------------------------------ */

struct progress {
    uint64_t files, dirs, bytes;
    bool tty;
};

static void show_progress(const struct progress *p)
{
    fprintf(stderr, "%s%llu files  %.1f GB  (%llu directories)%s", p->tty ? "\r" : "",
            (unsigned long long)p->files, (double)p->bytes / 1e9, (unsigned long long)p->dirs,
            p->tty ? "\033[K" : "\n");
}

/* Receives batches until the walk ends (results closed), printing progress
 * on ticks; after a cancellation keeps draining so walkers can finish. */
static void aggregate(struct du_walk *w, csp_chan *results, csp_chan *done, bool verbose)
{
    struct progress p = { 0, 0, 0, isatty(2) };
    csp_ticker *t = verbose ? csp_ticker_new(PROGRESS_PERIOD) : NULL;
    csp_chan *tick = t ? csp_ticker_chan(t) : NULL;
    bool cancelled = false;
    for (;;) {
        struct du_batch b;
        int64_t now;
        csp_case c[3] = {
            csp_case_recv(results, &b),
            csp_case_recv(tick, &now),
            csp_case_recv(cancelled ? NULL : done, NULL),
        };
        int i = csp_select(c, 3);
        if (i == 0 && c[0].err)
            break;
        if (i == 0) {
            du_walk_adopt(w, &b);
            p.files += b.files;
            p.dirs += b.dirs;
            p.bytes += b.bytes;
        } else if (i == 1) {
            show_progress(&p);
        } else {
            cancelled = true;
        }
    }
    if (t) {
        csp_ticker_stop(t);
        if (p.tty)
            fputs("\r\033[K", stderr);
    }
}

/* --stats: the runtime's counts once the pool has gone quiet (a goroutine
 * that has signalled its end may still be returning for a moment). */
static void print_stats(const struct du_walk *w, int jobs)
{
    csp_stats s;
    int64_t until = csp_now() + CSP_SECOND;
    for (;;) {
        csp_stats_get(&s);
        if (s.goroutines == 0 || csp_now() >= until)
            break;
        csp_sleep(CSP_MILLISECOND);
    }
    fprintf(stderr,
            "csp-du: stats: jobs %d, walker goroutines started %llu, threads peak %zu, "
            "goroutines left %zu, blocked %zu\n",
            jobs, (unsigned long long)du_walk_handoffs(w), s.threads_peak, s.goroutines, s.blocked);
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */

/* Up to the hard limit: each walker keeps one descriptor per level. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int64_t test_delay(void)
{
    const char *s = getenv("CSPDU_TEST_DELAY_US");
    return s ? strtoll(s, NULL, 10) * CSP_MICROSECOND : 0;
}

static int run(struct options *o, char **roots, size_t n)
{
    o->walk.clear_line = o->verbose && isatty(2);
    o->walk.delay_ns = test_delay();
    struct du_walk *w = du_walk_new(&o->walk, roots, n);
    csp_chan *results = csp_chan_make(sizeof(struct du_batch), 64);
    struct watch wa = { .done = csp_chan_make(0, 0), .exited = csp_chan_make(0, 0) };
    int err = !w || !results || !wa.done || !wa.exited ? CSP_ENOMEM : start_watcher(&wa, o->no_stdin);
    if (!err)
        err = du_walk_start(w, results, wa.done);
    if (err) {
        du_error(NULL, -err, "cannot start the walk", NULL);
        exit(1);
    }
    aggregate(w, results, wa.done, o->verbose);
    bool cancelled = stop_watcher(&wa);
    if (cancelled)
        fputs("csp-du: interrupted: totals are partial\n", stderr);
    o->report.partial = cancelled;
    o->report.errors = du_walk_failed(w);
    err = du_report(w, &o->report, stdout);
    if (err)
        du_error(NULL, err, "write error", NULL);
    if (o->stats)
        print_stats(w, o->walk.jobs);
    int status = cancelled ? EXIT_CANCELLED : err || o->report.errors ? 1 : 0;
    du_walk_free(w);
    csp_chan_release(results);
    csp_chan_release(wa.done);
    csp_chan_release(wa.exited);
    return status;
}

int main(int argc, char **argv)
{
    static char dot[] = ".";
    static char *cwd_only[] = { dot, NULL };
    struct options o;
    memset(&o, 0, sizeof o);
    int first = parse(&o, argc, argv);
    char **roots = first < argc ? argv + first : cwd_only;
    size_t n = first < argc ? (size_t)(argc - first) : 1;
    raise_fd_limit();
    static char out_buf[1 << 16];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    int status = run(&o, roots, n);
    free(o.walk.excludes);
    return status;
}
