/*
 * registry.c - the records of every thread libcsp knows, and what is read
 * from them: csp_stats_get, csp_dump, the leak report.
 *
 * reg_mu protects the list links (reg_prev, reg_next) of every record and
 * reg_head. A record's other fields are written by its owner without the lock
 * (atomics, relaxed): dump and stats read them racily, as a snapshot.
 *
 * Goroutine threads are registered by pool.c for their whole life; a foreign
 * thread (main included) gets a record on its first blocking call, removed by
 * a thread-specific-data destructor when it exits.
 *
 * Every thread finds its record through self_key, made on first use (a
 * constructor could run after a static program's own constructors, which may
 * already spawn goroutines). Until it exists no thread has a record. Its
 * destructor frees a foreign thread's record; a goroutine thread clears the
 * key before it ends (its record is on its own stack), so the destructor
 * never sees it.
 */
#include "internal.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static csp__thread *reg_head; /* reg_mu */

static pthread_key_t self_key;
static pthread_once_t self_key_once = PTHREAD_ONCE_INIT;
static _Atomic bool self_key_made; /* release: self_key is valid */

void csp__registry_add(csp__thread *t)
{
    pthread_mutex_lock(&reg_mu);
    t->reg_prev = NULL;
    t->reg_next = reg_head;
    if (reg_head)
        reg_head->reg_prev = t;
    reg_head = t;
    pthread_mutex_unlock(&reg_mu);
}

void csp__registry_remove(csp__thread *t)
{
    pthread_mutex_lock(&reg_mu);
    if (t->reg_prev)
        t->reg_prev->reg_next = t->reg_next;
    else
        reg_head = t->reg_next;
    if (t->reg_next)
        t->reg_next->reg_prev = t->reg_prev;
    pthread_mutex_unlock(&reg_mu);
}

static void foreign_exit(void *p)
{
    csp__thread *t = p;
    csp__registry_remove(t);
    csp__parker_destroy(&t->parker);
    free(t);
}

static void self_key_init(void)
{
    if (pthread_key_create(&self_key, foreign_exit) != 0)
        csp__fatal("pthread_key_create failed");
    atomic_store_explicit(&self_key_made, true, memory_order_release);
}

csp__thread *csp__self_or_null(void)
{
    if (!atomic_load_explicit(&self_key_made, memory_order_acquire))
        return NULL;
    return pthread_getspecific(self_key);
}

void csp__set_self(csp__thread *t)
{
    pthread_once(&self_key_once, self_key_init);
    if (pthread_setspecific(self_key, t) != 0)
        csp__fatal("pthread_setspecific failed");
}

csp__thread *csp__self_slow(void)
{
    csp__thread *t = calloc(1, sizeof(*t));
    if (!t)
        csp__fatal("out of memory for a thread record");
    csp__parker_init(&t->parker);
    t->is_main = syscall(SYS_gettid) == getpid();
    atomic_store_explicit(&t->state, CSP__ST_RUNNING, memory_order_relaxed);
    csp__registry_add(t);
    csp__set_self(t);
    return t;
}

/* ------------------------------------------------------------------------
 * Reading the records
 * ------------------------------------------------------------------------ */

/* A goroutine blocked in a channel operation, select or wait group. */
static bool blocked_goroutine(csp__thread *t)
{
    return t->is_goroutine && atomic_load_explicit(&t->state, memory_order_relaxed) == CSP__ST_BLOCKED;
}

void csp_stats_get(csp_stats *out)
{
    if (!out)
        return;
    csp__pool_stats(out);
    size_t blocked = 0;
    pthread_mutex_lock(&reg_mu);
    for (csp__thread *t = reg_head; t; t = t->reg_next)
        blocked += blocked_goroutine(t);
    pthread_mutex_unlock(&reg_mu);
    out->blocked = blocked;
    out->timers = csp__timers_pending();
}

static const char *wait_name(int w)
{
    switch (w) {
    case CSP__W_SEND: return "chan send";
    case CSP__W_RECV: return "chan receive";
    case CSP__W_SELECT: return "select";
    case CSP__W_WG: return "wait group";
    case CSP__W_FOREVER: return "select (no cases)";
    default: return "unknown";
    }
}

static void print_thread(FILE *f, csp__thread *t)
{
    int st = atomic_load_explicit(&t->state, memory_order_relaxed);
    if (t->is_goroutine)
        fprintf(f, "goroutine %llu", (unsigned long long)atomic_load_explicit(&t->id, memory_order_relaxed));
    else
        fprintf(f, "thread %s", t->is_main ? "main" : "(foreign)");
    switch (st) {
    case CSP__ST_BLOCKED: {
        int w = atomic_load_explicit(&t->wait, memory_order_relaxed);
        void *obj = atomic_load_explicit(&t->wait_obj, memory_order_relaxed);
        fprintf(f, " [blocked: %s", wait_name(w));
        if (w == CSP__W_SELECT)
            fprintf(f, ", %zu cases", atomic_load_explicit(&t->wait_n, memory_order_relaxed));
        if (obj)
            fprintf(f, " %p", obj);
        fputc(']', f);
        break;
    }
    case CSP__ST_SLEEPING: fputs(" [sleeping]", f); break;
    default: fputs(" [running]", f); break;
    }
    if (t->is_goroutine) {
        const char *file = atomic_load_explicit(&t->file, memory_order_relaxed);
        const char *fn = atomic_load_explicit(&t->fname, memory_order_relaxed);
        fprintf(f, ", spawned at %s:%d (%s)", file ? file : "?",
                atomic_load_explicit(&t->line, memory_order_relaxed), fn ? fn : "?");
    }
    fputc('\n', f);
}

static bool dumpable(csp__thread *t)
{
    int st = atomic_load_explicit(&t->state, memory_order_relaxed);
    return st != CSP__ST_IDLE && (t->is_goroutine || st == CSP__ST_BLOCKED);
}

void csp_dump(FILE *f)
{
    if (!f)
        f = stderr;
    size_t n = 0;
    pthread_mutex_lock(&reg_mu);
    for (csp__thread *t = reg_head; t; t = t->reg_next)
        n += t->is_goroutine && dumpable(t);
    fprintf(f, "csp: %zu goroutine%s\n", n, n == 1 ? "" : "s");
    for (csp__thread *t = reg_head; t; t = t->reg_next) {
        if (dumpable(t))
            print_thread(f, t);
    }
    pthread_mutex_unlock(&reg_mu);
    fflush(f);
}

void csp__report_leaks(FILE *f)
{
    size_t n = 0;
    pthread_mutex_lock(&reg_mu);
    for (csp__thread *t = reg_head; t; t = t->reg_next) {
        if (blocked_goroutine(t)) {
            if (n++ == 0)
                fputs("csp: goroutines still blocked at exit:\n", f);
            print_thread(f, t);
        }
    }
    pthread_mutex_unlock(&reg_mu);
    if (n)
        fprintf(f, "csp: %zu leaked goroutine%s\n", n, n == 1 ? "" : "s");
    fflush(f);
}
