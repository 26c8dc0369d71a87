/*
 * runtime.c - settings from the environment, the debug modes, fatal errors.
 *
 * Settings are read once, on first use (pthread_once), and never change.
 *
 * Deadlock accounting (CSP_DEBUG=deadlock only): dl_running counts the
 * goroutines plus the main thread that are not blocked forever in libcsp.
 * It starts at 1 (main); csp_go adds 1 before the goroutine can run, its end
 * subtracts 1; an untimed block subtracts 1 and the waker that claims it adds
 * it back before unparking (block.c). So a wake-up in flight is always counted,
 * and dl_running == 0 with no timer pending means nothing can ever wake anyone:
 * Go's "all goroutines are asleep". Threads libcsp did not start, other than
 * main, are not counted: one blocked in libcsp is simply asleep, and one
 * elsewhere is assumed not to be about to send (a documented limit).
 */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { DEFAULT_STACK = 256 * 1024, DEFAULT_IDLE_MS = 5000 };

static csp__config cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;
static long dl_running = 1; /* dl_mu */

void csp__fatal(const char *msg)
{
    fprintf(stderr, "csp: fatal: %s\n", msg);
    abort();
}

/* A positive integer from the environment, or def when unset or malformed. */
static unsigned long long env_number(const char *name, unsigned long long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0) {
        fprintf(stderr, "csp: ignoring %s=%s (want a positive integer)\n", name, s);
        return def;
    }
    return v;
}

static unsigned long long read_proc_number(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

/* The most threads the system lets this process have, roughly: the smallest
 * of RLIMIT_NPROC, kernel.threads-max, kernel.pid_max and half of
 * vm.max_map_count (each thread stack is a mapping plus a guard page), less a
 * margin for the program's own threads and processes. */
static size_t default_max_threads(void)
{
    unsigned long long lim = 1ULL << 20, v;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
        lim = rl.rlim_cur;
    if ((v = read_proc_number("/proc/sys/kernel/threads-max")) && v < lim)
        lim = v;
    if ((v = read_proc_number("/proc/sys/kernel/pid_max")) && v < lim)
        lim = v;
    if ((v = read_proc_number("/proc/sys/vm/max_map_count") / 2) && v < lim)
        lim = v;
    lim = lim > 512 ? lim - 256 : lim / 2;
    return lim ? (size_t)lim : 1;
}

static void parse_debug(const char *s)
{
    while (s && *s) {
        size_t len = strcspn(s, ",");
        if (len == 8 && !strncmp(s, "deadlock", len))
            cfg.dbg_deadlock = true;
        else if (len == 5 && !strncmp(s, "leaks", len))
            cfg.dbg_leaks = true;
        else if (len == 6 && !strncmp(s, "strict", len))
            cfg.dbg_strict = true;
        else if (len)
            fprintf(stderr, "csp: ignoring unknown CSP_DEBUG word '%.*s'\n", (int)len, s);
        s += len + (s[len] == ',');
    }
}

static void leaks_at_exit(void)
{
    csp__report_leaks(stderr);
}

static void cfg_init(void)
{
    cfg.max_threads = (size_t)env_number("CSP_MAX_THREADS", default_max_threads());
    unsigned long long stack = env_number("CSP_STACK_SIZE", DEFAULT_STACK);
    if (stack < (unsigned long long)PTHREAD_STACK_MIN)
        stack = PTHREAD_STACK_MIN;
    cfg.stack_size = (size_t)stack;
    cfg.idle_ns = (int64_t)env_number("CSP_IDLE_MS", DEFAULT_IDLE_MS) * CSP_MILLISECOND;
    parse_debug(getenv("CSP_DEBUG"));
    if (cfg.dbg_leaks)
        atexit(leaks_at_exit);
}

const csp__config *csp__cfg(void)
{
    pthread_once(&cfg_once, cfg_init);
    return &cfg;
}

void csp__strict(const char *msg)
{
    if (!csp__cfg()->dbg_strict)
        return;
    fprintf(stderr, "csp: strict: %s\n", msg);
    csp_dump(stderr);
    abort();
}

void csp__dl_check(void)
{
    if (csp__cfg()->dbg_deadlock)
        csp__dl_running_add(0);
}

void csp__dl_running_add(int delta)
{
    pthread_mutex_lock(&dl_mu);
    dl_running += delta;
    bool dead = dl_running == 0 && csp__timers_pending() == 0;
    pthread_mutex_unlock(&dl_mu);
    if (dead) {
        fputs("csp: all goroutines are asleep - deadlock!\n\n", stderr);
        csp_dump(stderr);
        abort();
    }
}
