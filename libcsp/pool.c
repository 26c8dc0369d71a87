/*
 * pool.c - goroutines on pooled threads.
 *
 * csp_go takes the most recently idled thread (its caches are warm and it is
 * likely still spinning in its parker, so the hand-off costs no system call),
 * or creates a thread when none is idle and the cap allows. A thread whose
 * goroutine returns puts itself on the idle list and parks with a timeout;
 * when CSP_IDLE_MS passes with no work it leaves the pool and exits.
 *
 * pool_mu protects: idle_head and the idle list links and idle flags of every
 * record, n_threads, n_idle, n_peak. A thread taken off the idle list belongs
 * to its taker until it is unparked: the taker alone writes its fn/arg.
 *
 * Invariants:
 *   - n_threads counts live pool threads plus those being created;
 *     n_threads <= max_threads.
 *   - A thread on the idle list has no goroutine and is parked or about to
 *     park; exactly one unpark reaches it per removal by a taker.
 *   - An idle thread whose park timed out leaves only if it is still on the
 *     list (no taker has chosen it); otherwise its taker's unpark is coming.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static csp__thread *idle_head;         /* pool_mu: most recently idled first */
static size_t n_threads, n_idle, n_peak; /* pool_mu */
static _Atomic uint64_t n_spawned;

static pthread_attr_t thread_attr;
static pthread_once_t attr_once = PTHREAD_ONCE_INIT;

/* Linux 6.16+ gives each process a private futex hash sized from
 * min(threads, online CPUs): 16 buckets on a 2-CPU machine. Every parked
 * goroutine sleeps on its own semaphore, so with thousands parked each wake-up
 * scanned hundreds of entries (futex_wake was 44% of a 10,000-goroutine run).
 * Asking for 0 slots selects the kernel's global hash, as before 6.16; older
 * kernels reject the call harmlessly. */
static void use_global_futex_hash(void)
{
#ifdef __linux__
    enum { PR_FUTEX_HASH_ = 78, PR_FUTEX_HASH_SET_SLOTS_ = 1 };
    (void)prctl(PR_FUTEX_HASH_, PR_FUTEX_HASH_SET_SLOTS_, 0, 0, 0);
#endif
}

static void attr_init(void)
{
    use_global_futex_hash();
    pthread_attr_init(&thread_attr);
    pthread_attr_setdetachstate(&thread_attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&thread_attr, csp__cfg()->stack_size);
}

static void idle_push(csp__thread *t)
{
    t->idle = true;
    t->idle_prev = NULL;
    t->idle_next = idle_head;
    if (idle_head)
        idle_head->idle_prev = t;
    idle_head = t;
    n_idle++;
}

static void idle_remove(csp__thread *t)
{
    if (t->idle_prev)
        t->idle_prev->idle_next = t->idle_next;
    else
        idle_head = t->idle_next;
    if (t->idle_next)
        t->idle_next->idle_prev = t->idle_prev;
    t->idle = false;
    n_idle--;
}

/* Parks an idle thread until a taker hands it work (true) or it should exit. */
static bool wait_for_work(csp__thread *t)
{
    if (csp__park_until(&t->parker, csp__deadline_in(csp__cfg()->idle_ns)))
        return true;
    pthread_mutex_lock(&pool_mu);
    bool leave = t->idle;
    if (leave) {
        idle_remove(t);
        n_threads--;
    }
    pthread_mutex_unlock(&pool_mu);
    if (!leave)
        csp__park(&t->parker); /* a taker chose us as we timed out */
    return !leave;
}

static void *thread_main(void *p)
{
    csp__thread *t = p;
    csp__tls_self = t;
    csp__registry_add(t);
    do {
        t->fn(t->arg);
        free(t->heap_arg);
        t->heap_arg = NULL;
        atomic_store_explicit(&t->state, CSP__ST_IDLE, memory_order_relaxed);
        if (csp__cfg()->dbg_deadlock)
            csp__dl_running_add(-1);
        pthread_mutex_lock(&pool_mu);
        idle_push(t);
        pthread_mutex_unlock(&pool_mu);
    } while (wait_for_work(t));
    csp__registry_remove(t);
    csp__parker_destroy(&t->parker);
    free(t);
    return NULL;
}

/* Takes an idle thread, or reserves room for a new one (*t = NULL).
 * CSP_EAGAIN at the cap. */
static int take_thread(csp__thread **t)
{
    size_t max = csp__cfg()->max_threads;
    pthread_mutex_lock(&pool_mu);
    *t = idle_head;
    if (*t) {
        idle_remove(*t);
    } else if (n_threads >= max) {
        pthread_mutex_unlock(&pool_mu);
        return CSP_EAGAIN;
    } else if (++n_threads > n_peak) {
        n_peak = n_threads;
    }
    pthread_mutex_unlock(&pool_mu);
    return 0;
}

static void unreserve(void)
{
    pthread_mutex_lock(&pool_mu);
    n_threads--;
    pthread_mutex_unlock(&pool_mu);
}

static int spawn(csp_fn fn, void *arg, const void *copy, size_t size, const char *file, int line,
                 const char *name)
{
    if (!fn || (size && !copy))
        return CSP_EINVAL;
    pthread_once(&attr_once, attr_init);
    csp__thread *t;
    void *heap = NULL;
    bool inline_copy = copy && size <= sizeof t->inline_arg;
    if (copy && !inline_copy && !(heap = malloc(size)))
        return CSP_ENOMEM;
    int err = take_thread(&t);
    if (err) {
        free(heap);
        return err;
    }
    bool fresh = !t;
    if (fresh) {
        t = calloc(1, sizeof(*t));
        if (!t) {
            unreserve();
            free(heap);
            return CSP_ENOMEM;
        }
        csp__parker_init(&t->parker);
        t->is_goroutine = true;
    }
    if (heap) {
        memcpy(heap, copy, size);
        arg = heap;
    } else if (copy) {
        memcpy(t->inline_arg, copy, size);
        arg = t->inline_arg;
    }
    t->fn = fn;
    t->arg = arg;
    t->heap_arg = heap;
    atomic_store_explicit(&t->id, atomic_fetch_add_explicit(&n_spawned, 1, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&t->file, file, memory_order_relaxed);
    atomic_store_explicit(&t->line, line, memory_order_relaxed);
    atomic_store_explicit(&t->fname, name, memory_order_relaxed);
    atomic_store_explicit(&t->state, CSP__ST_RUNNING, memory_order_relaxed);
    if (csp__cfg()->dbg_deadlock)
        csp__dl_running_add(1);
    if (!fresh) {
        csp__unpark(&t->parker);
        return 0;
    }
    pthread_t tid;
    if (pthread_create(&tid, &thread_attr, thread_main, t) == 0)
        return 0;
    atomic_fetch_sub_explicit(&n_spawned, 1, memory_order_relaxed);
    unreserve();
    csp__parker_destroy(&t->parker);
    free(heap);
    free(t);
    if (csp__cfg()->dbg_deadlock)
        csp__dl_running_add(-1); /* the caller still runs: no false zero */
    return CSP_EAGAIN;
}

int (csp_go)(csp_fn fn, void *arg)
{
    return spawn(fn, arg, NULL, 0, NULL, 0, NULL);
}

int (csp_go_copy)(csp_fn fn, const void *arg, size_t size)
{
    return spawn(fn, NULL, arg, size, NULL, 0, NULL);
}

int csp_go_at(csp_fn fn, void *arg, const char *file, int line, const char *name)
{
    return spawn(fn, arg, NULL, 0, file, line, name);
}

int csp_go_copy_at(csp_fn fn, const void *arg, size_t size, const char *file, int line, const char *name)
{
    return spawn(fn, NULL, arg, size, file, line, name);
}

void csp__pool_stats(csp_stats *out)
{
    pthread_mutex_lock(&pool_mu);
    out->threads = n_threads;
    out->threads_peak = n_peak;
    out->threads_idle = n_idle;
    out->goroutines = n_threads - n_idle;
    pthread_mutex_unlock(&pool_mu);
    out->spawned = atomic_load_explicit(&n_spawned, memory_order_relaxed);
}
