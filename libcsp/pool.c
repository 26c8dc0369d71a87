/*
 * pool.c - goroutines on pooled threads.
 *
 * A thread whose goroutine returns becomes idle. One idle thread at a time
 * is the spinner: it publishes itself in `spinner` and spins a while, so that
 * a csp_go arriving meanwhile claims it and hands over the goroutine with
 * neither side sleeping (a spawn loop keeps one warm thread busy instead of
 * waking a sleeping one per goroutine). How long it spins adapts: halved
 * after a spin nobody claimed, grown when a claim came or when a csp_go
 * found no spinner, so sparse goroutines cost little spinning. Every
 * other idle thread, and the spinner once its spin ends unclaimed, waits on
 * the idle list, parked with a timeout; when CSP_IDLE_MS passes with no
 * work it leaves the pool. csp_go takes the spinner, else the most recently
 * idled thread on the list (warm caches), else creates a thread while the
 * cap allows.
 *
 * pool_mu protects: idle_head, the idle list links and idle flags of every
 * record, n_threads, n_peak, spare_births.
 * Atomics: spinner (a thread publishes itself by CAS from NULL, a taker
 * claims it by exchange, the thread withdraws by CAS from itself), n_idle.
 *
 * Invariants:
 *   - n_threads counts live pool threads plus those being created;
 *     n_threads <= max_threads.
 *   - n_idle counts idle threads: the published spinner, the idle list, and
 *     threads between the end of their goroutine and one of those two (a
 *     few instructions, or a spin's end and a lock). A taker that finds
 *     neither a spinner nor a listed thread while n_idle says one is coming
 *     waits for it (briefly before creating a thread; at the cap until it
 *     arrives): stats that say idle mean csp_go reuses the thread.
 *   - An idle thread is the published spinner, or on the idle list, or on
 *     its way between, never two at once. It is taken at most once per idle
 *     period, by whoever removes it (the exchange on `spinner`, or
 *     idle_remove under pool_mu); its taker alone writes its goroutine
 *     fields (fn, arg, heap_arg, inline_arg, id, file, line, fname, state)
 *     and unparks it exactly once.
 *   - A spinner whose withdrawing CAS fails was claimed: its taker's unpark
 *     is coming, so it parks for it. Likewise an idle thread whose park timed
 *     out leaves only if it is still on the list.
 *   - A thread's record lives on its own stack: no heap per thread (at
 *     10,000 threads heap records were 2.6 MiB resident). It leaves every
 *     list before thread_main returns, also when a goroutine ends its thread
 *     with pthread_exit (the cleanup handler). A new thread gets its first
 *     goroutine in a birth record, copies it and puts it back on
 *     spare_births, so only spawners ever malloc or free births (a thread's
 *     first free() would build it a 600-byte malloc cache). spare_births
 *     holds as many as were ever in flight at once, kept for reuse.
 */
#include "internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static csp__thread *idle_head;         /* pool_mu: most recently idled first */
static csp__thread *spare_births;      /* pool_mu: linked by idle_next */
static size_t n_threads, n_peak;       /* pool_mu */
static _Atomic size_t n_idle;
static _Atomic(csp__thread *) spinner; /* the idle thread spinning for work */
static _Atomic uint64_t n_spawned;     /* goroutine ids; relaxed: only counts */

enum {
    IDLE_SPIN_MAX_NS = 50 * 1000, /* the longest the spinner waits for a csp_go */
    IDLE_SPIN_STEP_NS = 1000,     /* its growth when a csp_go found no spinner */
    SPAWN_WAIT_MAX_NS = 4000,     /* the longest a csp_go waits for a spinner */
    SPAWN_WAIT_CHECK = 16,        /* pauses between clock reads */
    TRANSIT_WAITS = 1024          /* polls for an idle thread between lists */
};
static _Atomic int idle_spin_ns = IDLE_SPIN_MAX_NS; /* adaptive, see spin_for_work */
static _Atomic int spawn_wait_ns = 2000;            /* adaptive, see claim_spinner */

static pthread_attr_t thread_attr;
static pthread_once_t attr_once = PTHREAD_ONCE_INIT;

/* Linux 6.16+ gives each process a private futex hash sized from
 * min(threads, online CPUs): 16 buckets on a 2-CPU machine. Every parked
 * goroutine sleeps on its own semaphore, so with thousands parked each wake-up
 * scanned hundreds of entries (futex_wake was 44% of a 10,000-goroutine run).
 * Asking for 0 slots selects the kernel's global hash, as before 6.16; older
 * kernels reject the call harmlessly. It runs when the library loads: once a
 * process has a second thread the switch takes ~30 ms (an RCU wait), and
 * the timer thread may well come before the first csp_go. */
__attribute__((constructor)) static void use_global_futex_hash(void)
{
#ifdef __linux__
    enum { PR_FUTEX_HASH_ = 78, PR_FUTEX_HASH_SET_SLOTS_ = 1 };
    (void)prctl(PR_FUTEX_HASH_, PR_FUTEX_HASH_SET_SLOTS_, 0, 0, 0);
#endif
}

static void attr_init(void)
{
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
}

static void set_idle_spin(int ns)
{
    atomic_store_explicit(&idle_spin_ns, ns < IDLE_SPIN_MAX_NS ? ns : IDLE_SPIN_MAX_NS,
                          memory_order_relaxed);
}

/* Publishes t as the spinner, when there is none, and spins: true when a
 * taker claimed it (its goroutine is set), false when it withdrew. */
static bool spin_for_work(csp__thread *t)
{
    int budget = atomic_load_explicit(&idle_spin_ns, memory_order_relaxed);
    if (budget < IDLE_SPIN_STEP_NS)
        return false; /* spins have gone unclaimed: csp_go will regrow it */
    csp__thread *none = NULL;
    /* release: the taker's writes to t's goroutine fields follow our reads */
    if (!atomic_compare_exchange_strong_explicit(&spinner, &none, t, memory_order_release,
                                                 memory_order_relaxed))
        return false;
    if (csp__park_spin(&t->parker, budget)) {
        set_idle_spin(2 * budget);
        return true;
    }
    csp__thread *me = t;
    if (atomic_compare_exchange_strong_explicit(&spinner, &me, NULL, memory_order_relaxed,
                                                memory_order_relaxed)) {
        set_idle_spin(budget / 2);
        return false;
    }
    csp__park(&t->parker); /* claimed as the spin ended: the unpark is coming */
    return true;
}

/* Waits for a taker to hand t a goroutine (true), or until it should leave
 * the pool (false). */
static bool wait_for_work(csp__thread *t)
{
    atomic_fetch_add_explicit(&n_idle, 1, memory_order_relaxed);
    if (spin_for_work(t))
        return true;
    pthread_mutex_lock(&pool_mu);
    idle_push(t);
    pthread_mutex_unlock(&pool_mu);
    if (csp__park_until(&t->parker, csp__deadline_in(csp__cfg()->idle_ns)))
        return true;
    pthread_mutex_lock(&pool_mu);
    bool leave = t->idle;
    if (leave) {
        idle_remove(t);
        n_threads--;
        atomic_fetch_sub_explicit(&n_idle, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&pool_mu);
    if (!leave)
        csp__park(&t->parker); /* a taker chose us as we timed out */
    return !leave;
}

/* Copies the birth record into the thread's own and puts it back. */
static void adopt_birth(csp__thread *t, csp__thread *birth)
{
    *t = *birth;
    if (birth->arg == birth->inline_arg)
        t->arg = t->inline_arg;
    pthread_mutex_lock(&pool_mu);
    birth->idle_next = spare_births;
    spare_births = birth;
    pthread_mutex_unlock(&pool_mu);
}

static void unreserve(void)
{
    pthread_mutex_lock(&pool_mu);
    n_threads--;
    pthread_mutex_unlock(&pool_mu);
}

/* The end of a goroutine's run, whether it returned or ended its thread. */
static void goroutine_ended(csp__thread *t)
{
    free(t->heap_arg);
    t->heap_arg = NULL;
    atomic_store_explicit(&t->state, CSP__ST_IDLE, memory_order_relaxed);
    if (csp__cfg()->dbg_deadlock)
        csp__dl_running_add(-1);
}

static void thread_ends(csp__thread *t)
{
    csp__registry_remove(t);
    csp__parker_destroy(&t->parker);
    csp__set_self(NULL); /* before the key's destructor, which is for foreign records */
}

/* The cleanup of thread_main's `running`: when a goroutine ends its thread
 * with pthread_exit, glibc unwinds the stack and this runs (libcsp is built
 * with -fexceptions for it): the thread leaves the pool, and its record,
 * on the stack being unwound, leaves every list. A cleanup attribute rather
 * than pthread_cleanup_push, whose buffer in this frame shifts every
 * goroutine's frames against the cache lines (B5 600 -> 950 ns/item). */
static void thread_exited(csp__thread **running)
{
    csp__thread *t = *running;
    if (!t)
        return; /* thread_main returned normally */
    goroutine_ended(t);
    unreserve(); /* the thread leaves the pool */
    thread_ends(t);
}

static void *thread_main(void *birth)
{
    csp__thread self, *t = &self;
    adopt_birth(t, birth);
    csp__parker_init(&t->parker);
    csp__set_self(t);
    csp__registry_add(t);
    csp__thread *running __attribute__((cleanup(thread_exited))) = t;
    do {
        t->fn(t->arg);
        goroutine_ended(t);
    } while (wait_for_work(t));
    running = NULL;
    thread_ends(t);
    return NULL;
}

static csp__thread *take_spinner(void)
{
    /* acquire: pairs with the spinner's publishing release */
    csp__thread *t = atomic_exchange_explicit(&spinner, NULL, memory_order_acquire);
    if (t)
        atomic_fetch_sub_explicit(&n_idle, 1, memory_order_relaxed);
    return t;
}

/* Claims the spinner, waiting for one up to spawn_wait_ns: a thread that
 * has just run a goroutine is likely to become the spinner within a
 * microsecond or two, cheaper than waking a parked thread (a futex call
 * here, a context switch there). The wait adapts as the parker's spin does:
 * it grows while waits succeed and halves when one fails, to nothing when
 * goroutines do not return (10,000 that block would waste 20 ms). */
static csp__thread *claim_spinner(void)
{
    int budget = atomic_load_explicit(&spawn_wait_ns, memory_order_relaxed);
    int64_t end = 0;
    bool waited = false;
    for (int i = 0; !atomic_load_explicit(&spinner, memory_order_relaxed); i++) {
        if (i % SPAWN_WAIT_CHECK == 0) {
            int64_t now = csp__mono_ns();
            if (!end)
                end = now + budget;
            if (now >= end) {
                if (waited)
                    atomic_store_explicit(&spawn_wait_ns, budget / 2, memory_order_relaxed);
                return NULL;
            }
        }
        waited = true;
        csp__cpu_relax();
    }
    csp__thread *t = take_spinner();
    if (!t)
        return NULL; /* another taker got it */
    if (budget < SPAWN_WAIT_MAX_NS) {
        int more = budget + budget / 2 + 100;
        atomic_store_explicit(&spawn_wait_ns, more < SPAWN_WAIT_MAX_NS ? more : SPAWN_WAIT_MAX_NS,
                              memory_order_relaxed);
    }
    return t;
}

/* Takes an idle thread, or reserves room for a new one and gives it a
 * zeroed birth record (*fresh). CSP_EAGAIN at the cap; CSP_ENOMEM. */
static int take_thread(csp__thread **t, bool *fresh)
{
    *fresh = false;
    if ((*t = claim_spinner()))
        return 0;
    /* No spinner was there for us: a longer spin would have served. */
    set_idle_spin(atomic_load_explicit(&idle_spin_ns, memory_order_relaxed) + IDLE_SPIN_STEP_NS);
    size_t max = csp__cfg()->max_threads;
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; !(*t = idle_head) && atomic_load_explicit(&n_idle, memory_order_relaxed) > 0 &&
                    (i < TRANSIT_WAITS || n_threads >= max);
         i++) {
        /* An idle thread is on its way to the spinner slot or the list. At
         * the cap wait for it however long its CPU takes: it will arrive. */
        pthread_mutex_unlock(&pool_mu);
        if ((*t = take_spinner()))
            return 0;
        if (i % 16 == 15)
            sched_yield(); /* it may be waiting for our CPU */
        csp__cpu_relax();
        pthread_mutex_lock(&pool_mu);
    }
    if (*t) {
        idle_remove(*t);
        atomic_fetch_sub_explicit(&n_idle, 1, memory_order_relaxed);
        pthread_mutex_unlock(&pool_mu);
        return 0;
    }
    if (n_threads >= max) {
        pthread_mutex_unlock(&pool_mu);
        return CSP_EAGAIN;
    }
    if (++n_threads > n_peak)
        n_peak = n_threads;
    if ((*t = spare_births))
        spare_births = (*t)->idle_next;
    pthread_mutex_unlock(&pool_mu);
    if (!*t && !(*t = malloc(sizeof **t))) {
        unreserve();
        return CSP_ENOMEM;
    }
    memset(*t, 0, sizeof **t);
    (*t)->is_goroutine = true;
    *fresh = true;
    return 0;
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
    bool fresh;
    int err = take_thread(&t, &fresh);
    if (err) {
        free(heap);
        return err;
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
    size_t idle = atomic_load_explicit(&n_idle, memory_order_relaxed);
    out->threads_idle = idle;
    out->goroutines = n_threads - idle;
    pthread_mutex_unlock(&pool_mu);
    out->spawned = atomic_load_explicit(&n_spawned, memory_order_relaxed);
}
