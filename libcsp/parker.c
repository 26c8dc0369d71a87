/*
 * parker.c - the one place a thread sleeps.
 *
 * Each thread owns one parker: a state word and a POSIX semaphore (one futex
 * call per post or wait on Linux, cheaper than a mutex + condvar pair).
 *
 * States and who moves them:
 *   EMPTY    -> PARKED    owner, by CAS, just before sem_wait
 *   EMPTY    -> NOTIFIED  waker (exchange): the owner is awake or spinning
 *   PARKED   -> NOTIFIED  waker (exchange), which then posts the semaphore
 *   NOTIFIED -> EMPTY     owner, when it consumes the wake-up
 *   PARKED   -> EMPTY     owner, by CAS, when its timed wait gives up
 *
 * Invariants:
 *   - The semaphore is posted only by a waker that saw PARKED, and at most one
 *     unpark is outstanding per park (the select protocol's claim guarantees
 *     it), so the semaphore's count is 0 whenever the state is not PARKED.
 *   - A waker touches nothing but the parker: after its exchange the owner may
 *     return from park at once. The parker itself outlives every park and
 *     unpark because it lives in the thread's record (on a pool thread's own
 *     stack, or malloc'd for a foreign thread), which ends only when the
 *     thread does, with no wake-up outstanding.
 *   - A timed park that loses its PARKED -> EMPTY CAS was notified concurrently:
 *     the post is coming, so it waits for it, keeping the count at 0.
 *
 * Spinning: before sleeping, the owner spins on the state word for a time
 * budget. A wake-up that arrives during the spin costs no system call on
 * either side: that is where a ping-pong between two awake threads gets its
 * speed (a sleeping thread takes microseconds to wake; on some VMs tens).
 * The budget adapts to the waits this thread sees: when it had to sleep and
 * the wake-up came within SPIN_MAX_NS, a spin of that length would have
 * caught it, so the budget grows to cover it; when the wait was longer,
 * spinning is waste, so the budget halves. New threads start small, so ten
 * thousand goroutines parking at once burn little CPU.
 *
 * Spin slots: at most twice as many threads spin at once as there are CPUs
 * (Go bounds its spinning threads too), and none when the process has one CPU
 * (as in Go's locks: whoever would wake the spinner needs that CPU; measured
 * with `taskset -c 1 csp_bench B1`: 50.9 us per round trip spinning, 4.2 us
 * not); a thread that finds no free slot parks at once. Without the bound,
 * a thousand idle pool threads or links of a daisy chain spin together and
 * starve the very threads that would wake them. csp__park_spin takes no
 * slot: the pool's single idle spinner (pool.c) uses it.
 *
 * Yielding: after a few rounds, a spinner yields the CPU before each further
 * round, but only while more threads spin than the process has CPUs (its
 * affinity mask counts, not the machine's). Then the thread it waits for may
 * be waiting for a CPU that spinners hold (select fan-in, daisy chains), and
 * a yield lets it run. Otherwise a yield finds little of ours to run but may
 * hand another program's busy thread a whole time slice: measured (csp_bench
 * B1's EXTRA line), a ping-pong beside two busy loops per CPU went from 540
 * us per round trip to 3.3-3.7 us without those yields; yielding already when
 * spinners equal CPUs measured 0.15-1.4 ms beside eight busy loops. The
 * pool's idle spinner always yields: nobody waits on it.
 */
#include "internal.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

enum { PK_EMPTY = 0, PK_PARKED = 1, PK_NOTIFIED = 2 };

enum {
    SPIN_MIN_NS = 500,       /* always spin this long: catches immediate handoffs */
    SPIN_START_NS = 2000,    /* a new thread's budget */
    SPIN_MAX_NS = 50 * 1000, /* never spin longer */
    SPIN_CHECK = 16,         /* pauses between clock reads */
    SPIN_PURE_ROUNDS = 4     /* rounds before each further round yields the CPU first */
};

void csp__parker_init(csp__parker *p)
{
    atomic_init(&p->state, PK_EMPTY);
    p->spin_ns = SPIN_START_NS;
    if (sem_init(&p->sem, 0, 0) != 0)
        csp__fatal("sem_init failed");
}

void csp__parker_destroy(csp__parker *p)
{
    sem_destroy(&p->sem);
}

static _Atomic int spin_slots = -1; /* free spin slots; -1 until first use */
static _Atomic int spin_cpus;       /* usable CPUs; 0 until first use (spin_cpu_count) */

/* The CPUs the process may run on: the affinity mask of its main thread,
 * which taskset and cpusets set (a thread pinned later has its own, which
 * says nothing of the others). Fewer than the machine may have. */
static int usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(getpid(), sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* spin_cpus, published once: every thread uses the count that won. */
static int spin_cpu_count(void)
{
    int n = atomic_load_explicit(&spin_cpus, memory_order_acquire);
    if (n == 0) {
        int mine = usable_cpus();
        if (atomic_compare_exchange_strong_explicit(&spin_cpus, &n, mine, memory_order_acq_rel,
                                                    memory_order_acquire))
            n = mine;
    }
    return n;
}

static bool take_spin_slot(void)
{
    int free_slots = atomic_load_explicit(&spin_slots, memory_order_acquire);
    if (free_slots < 0) {
        int ncpu = spin_cpu_count();
        /* measured: 1x starves select fan-in, more lets chains thrash; on one
         * CPU, whoever would wake a spinner waits for its CPU: no slots */
        int want = ncpu > 1 ? 2 * ncpu : 0;
        if (atomic_compare_exchange_strong_explicit(&spin_slots, &free_slots, want, memory_order_acq_rel,
                                                    memory_order_acquire))
            free_slots = want;
    }
    while (free_slots > 0) {
        if (atomic_compare_exchange_weak_explicit(&spin_slots, &free_slots, free_slots - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    }
    return false;
}

/* Whether more threads spin than there are CPUs (see Yielding above). Slots
 * are twice the CPUs, so free slots < CPUs means spinners > CPUs. */
static bool spinners_crowd_cpus(void)
{
    return atomic_load_explicit(&spin_slots, memory_order_relaxed) <
           atomic_load_explicit(&spin_cpus, memory_order_relaxed);
}

/* The spin itself until the clock passes end. always_yield: yield in every
 * round after the first few, however few threads spin. */
static bool spin_until(csp__parker *p, int64_t end, bool always_yield)
{
    for (int round = 0;; round++) {
        if (round >= SPIN_PURE_ROUNDS && (always_yield || spinners_crowd_cpus()))
            sched_yield(); /* returns at once on an idle CPU; else lets the other thread run */
        for (int i = 0; i < SPIN_CHECK; i++) {
            /* acquire: pairs with the waker's exchange (TSan sees no fences) */
            if (atomic_load_explicit(&p->state, memory_order_acquire) == PK_NOTIFIED) {
                atomic_store_explicit(&p->state, PK_EMPTY, memory_order_relaxed);
                return true;
            }
            csp__cpu_relax();
        }
        if (csp__mono_ns() >= end)
            return false;
    }
}

/* Spins, when a slot is free, until the budget is spent; true if a wake-up
 * was consumed. */
static bool spin_for_wakeup(csp__parker *p, int64_t start)
{
    if (!take_spin_slot())
        return false;
    bool woken = spin_until(p, start + p->spin_ns, false);
    atomic_fetch_add_explicit(&spin_slots, 1, memory_order_relaxed);
    return woken;
}

/* After a sleep that began at start: fit the budget to the wait seen. */
static void adapt_spin(csp__parker *p, int64_t start)
{
    int64_t waited = csp__mono_ns() - start;
    if (waited <= SPIN_MAX_NS) {
        int64_t want = waited + waited / 4;
        p->spin_ns = (int)(want < SPIN_MAX_NS ? want : SPIN_MAX_NS);
    } else if (p->spin_ns / 2 >= SPIN_MIN_NS) {
        p->spin_ns /= 2;
    } else {
        p->spin_ns = SPIN_MIN_NS;
    }
}

static void sem_wait_nointr(sem_t *s)
{
    while (sem_wait(s) != 0) {
        /* EINTR: a signal handler ran; keep waiting. */
    }
}

/* The state is NOTIFIED: consume the wake-up. The acquire exchange reads
 * the waker's release, so the happens-before edge does not depend on the
 * semaphore (ThreadSanitizer does not see through sem_clockwait). */
static void consume_notify(csp__parker *p)
{
    atomic_exchange_explicit(&p->state, PK_EMPTY, memory_order_acquire);
}

/* The start of every park: spin, then announce PARKED. true: a wake-up was
 * consumed on the way, and there is nothing to sleep for. */
static bool park_begin(csp__parker *p, int64_t start)
{
    if (spin_for_wakeup(p, start))
        return true;
    int expect = PK_EMPTY;
    if (!atomic_compare_exchange_strong_explicit(&p->state, &expect, PK_PARKED, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        consume_notify(p); /* notified between the spin and the CAS */
        return true;
    }
    return false;
}

void csp__park(csp__parker *p)
{
    int64_t start = csp__mono_ns();
    if (park_begin(p, start))
        return;
    sem_wait_nointr(&p->sem);
    consume_notify(p);
    adapt_spin(p, start);
}

bool csp__park_spin(csp__parker *p, int64_t ns)
{
    return spin_until(p, csp__mono_ns() + ns, true);
}

static int sem_wait_until(sem_t *s, int64_t deadline)
{
    struct timespec ts = { .tv_sec = deadline / CSP_SECOND, .tv_nsec = deadline % CSP_SECOND };
#ifdef HAVE_SEM_CLOCKWAIT
    return sem_clockwait(s, CLOCK_MONOTONIC, &ts);
#else
    /* sem_timedwait takes CLOCK_REALTIME: translate the deadline. */
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t abs_real = (int64_t)real.tv_sec * CSP_SECOND + real.tv_nsec + (deadline - csp__mono_ns());
    ts.tv_sec = abs_real / CSP_SECOND;
    ts.tv_nsec = abs_real % CSP_SECOND;
    return sem_timedwait(s, &ts);
#endif
}

bool csp__park_until(csp__parker *p, int64_t deadline)
{
    int64_t start = csp__mono_ns();
    if (park_begin(p, start))
        return true;
    for (;;) {
        if (deadline > csp__mono_ns()) {
            if (sem_wait_until(&p->sem, deadline) == 0)
                break;
            if (errno == EINTR)
                continue;
        }
        /* Timed out, unless a waker got in first: then its post is coming. */
        int expect = PK_PARKED;
        if (atomic_compare_exchange_strong_explicit(&p->state, &expect, PK_EMPTY, memory_order_acq_rel,
                                                    memory_order_acquire))
            return false;
        sem_wait_nointr(&p->sem);
        break;
    }
    consume_notify(p);
    adapt_spin(p, start);
    return true;
}

void csp__unpark(csp__parker *p)
{
    if (atomic_exchange_explicit(&p->state, PK_NOTIFIED, memory_order_acq_rel) == PK_PARKED)
        sem_post(&p->sem);
}
