/*
 * internal.h - what libcsp's files share with each other; never installed.
 *
 * Internal names are csp__name; everything here has hidden visibility.
 */
#ifndef CSP_INTERNAL_H
#define CSP_INTERNAL_H

#include "config.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "csp.h"

#define CSP__HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------------
 * Parker (parker.c): one per thread, the only place a thread sleeps.
 * ------------------------------------------------------------------------ */

typedef struct csp__parker {
    _Atomic int state; /* CSP__PK_EMPTY, _PARKED (owner asleep in sem) or _NOTIFIED */
    int spin_ns;       /* owner-only: adaptive spin budget, ns */
    sem_t sem;         /* the owner sleeps here only while state is PARKED */
} csp__parker;

/* One step of a busy-wait: tells the CPU we are spinning. */
static inline void csp__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* ------------------------------------------------------------------------
 * Lock (lock.c): the channel lock, a futex word.
 * ------------------------------------------------------------------------ */

enum { CSP__LOCK_UNLOCKED = 0, CSP__LOCK_LOCKED = 1, CSP__LOCK_SLEEPING = 2 };

typedef struct csp__lock {
    _Atomic uint32_t key; /* CSP__LOCK_*; zero-initialized is unlocked */
} csp__lock;

void csp__lock_slow(csp__lock *l);
void csp__lock_wake(csp__lock *l);

static inline void csp__lock_acquire(csp__lock *l)
{
    uint32_t free_word = CSP__LOCK_UNLOCKED;
    if (!atomic_compare_exchange_weak_explicit(&l->key, &free_word, CSP__LOCK_LOCKED, memory_order_acquire,
                                               memory_order_relaxed))
        csp__lock_slow(l);
}

static inline void csp__lock_release(csp__lock *l)
{
    if (atomic_exchange_explicit(&l->key, CSP__LOCK_UNLOCKED, memory_order_release) == CSP__LOCK_SLEEPING)
        csp__lock_wake(l);
}

void csp__parker_init(csp__parker *p);
void csp__parker_destroy(csp__parker *p);
/* Sleeps until unparked. Each unpark releases exactly one park. */
void csp__park(csp__parker *p);
/* As csp__park, but gives up at the CLOCK_MONOTONIC deadline (ns).
 * Returns true when unparked, false on timeout (no unpark consumed). */
bool csp__park_until(csp__parker *p, int64_t deadline);
/* Only spins, for ns at most: true if it consumed an unpark. Takes no spin
 * slot: the pool's idle spinner (one at a time, but for a claimed spinner
 * still spinning while its taker fills in its goroutine) uses it. */
bool csp__park_spin(csp__parker *p, int64_t ns);
/* Wakes the owner; it must be parked or about to park. Touches only p. */
void csp__unpark(csp__parker *p);

/* ------------------------------------------------------------------------
 * Thread records (runtime.c, pool.c): every thread that blocks in libcsp
 * has one; goroutine threads have theirs from birth.
 * ------------------------------------------------------------------------ */

enum csp__state {
    CSP__ST_IDLE,    /* pooled, no goroutine */
    CSP__ST_RUNNING, /* running a goroutine (or a foreign thread outside libcsp) */
    CSP__ST_BLOCKED, /* blocked in a channel op, select or wait group */
    CSP__ST_SLEEPING /* in csp_sleep or a timed wait */
};

enum csp__wait {
    CSP__W_NONE,
    CSP__W_SEND,   /* wait_obj: the channel */
    CSP__W_RECV,   /* wait_obj: the channel */
    CSP__W_SELECT, /* wait_obj: the first live channel; wait_n: cases */
    CSP__W_WG,     /* wait_obj: the wait group */
    CSP__W_FOREVER /* select with no live case */
};

typedef struct csp__thread {
    csp__parker parker;  /* this thread's parker */
    /* Goroutine threads (pool.c): fn..inline_arg and the spawn fields below
     * are written by the thread's taker before it unparks the thread; the
     * idle links and flag are under the pool lock. */
    csp_fn fn;                     /* the goroutine to run, set before unpark */
    void *arg;                     /* its argument */
    void *heap_arg;                /* csp_go_copy's malloc'd copy, freed after fn */
    struct csp__thread *idle_prev, *idle_next; /* links in the idle list */
    bool idle;                     /* on the idle list */
    /* Fixed before the record is registered; read without locks after. */
    bool is_goroutine;             /* a pool thread (else a foreign thread) */
    bool is_main;                  /* the process's initial thread */
    /* Written by the owner, read racily (relaxed) by dump and stats. */
    _Atomic uint64_t id;           /* goroutine id, 0 for foreign threads */
    _Atomic(const char *) file;    /* spawn site */
    _Atomic int line;
    _Atomic(const char *) fname;   /* spawned function's name */
    _Atomic int state;             /* enum csp__state */
    _Atomic int wait;              /* enum csp__wait */
    _Atomic(void *) wait_obj;      /* what it waits on */
    _Atomic size_t wait_n;         /* select: number of cases */
    /* Registry links, under the registry lock (runtime.c). */
    struct csp__thread *reg_prev, *reg_next;
    uint64_t rng;                  /* owner-only: select's random state (rand.c); 0 until seeded */
    /* Inline room for csp_go_copy's copy when it is small. */
    _Alignas(max_align_t) unsigned char inline_arg[64];
} csp__thread;

/* The calling thread's record, found through a pthread key (registry.c).
 * libcsp has no __thread variables: a library with thread-local storage
 * makes glibc allocate a larger block for every thread (measured: 156 KiB
 * more heap at 10,000 threads). */
csp__thread *csp__self_or_null(void); /* NULL: no record (a foreign thread that never
                                       * blocked, or a goroutine thread that is ending) */
void csp__set_self(csp__thread *t);
/* The calling thread's record; a foreign thread's is made on first use.
 * Aborts if even that small allocation fails. */
csp__thread *csp__self_slow(void);
static inline csp__thread *csp__self(void)
{
    csp__thread *t = csp__self_or_null();
    return t ? t : csp__self_slow();
}
void csp__registry_add(csp__thread *t);
void csp__registry_remove(csp__thread *t);

/* ------------------------------------------------------------------------
 * Blocking: a sel is one blocked operation (select, plain op, wg wait).
 * It lives on the blocked thread's stack. See select.c for the protocol.
 * ------------------------------------------------------------------------ */

typedef struct csp__sel {
    _Atomic int done;     /* 0 open; 1 claimed: by exactly one waker, or by its own timeout */
    int chosen;           /* index of the completed case, written by the claimer */
    int err;              /* that case's result, written by the claimer */
    bool counted;         /* deadlock accounting: owner counted itself blocked */
    csp__parker *parker;  /* the owner's parker */
} csp__sel;

/* One case of a blocked sel, queued on a channel (Go's sudog).
 *
 * A value of at most sizeof(void *) bytes travels in the waiter itself (val):
 * a sender's owner copies it in before queuing, and a receiver's owner copies
 * it out to its destination once woken. The waker of a hand-off then writes
 * only the waiter's line, which the woken owner reads anyway, and not a line
 * of the owner's caller as well (csp__waiter_value). */
typedef struct csp__waiter {
    csp__sel *sel;                 /* the operation this case belongs to */
    struct csp__waiter *prev, *next; /* channel queue links (channel lock); once the
                                      * waiter is off its queue, next links a wake list */
    union {
        void *elem;                /* larger values: recv destination (may be NULL); send source */
        unsigned char val[sizeof(void *)]; /* small values: the value itself */
    };
    int index;                     /* case index within the sel */
    unsigned char val_size;        /* owner-only: bytes a completed receive copies out of val */
    bool held;                     /* owner-only: a reference is held for the select (select.c) */
    _Atomic bool queued;           /* on a queue; cleared (release) as a waker's last touch */
} csp__waiter;

/* Claims sel for a waker: true for exactly one caller per blocking episode. */
static inline bool csp__sel_claim(csp__sel *s)
{
    int open = 0;
    return atomic_compare_exchange_strong_explicit(&s->done, &open, 1, memory_order_acq_rel,
                                                   memory_order_acquire);
}

/* Blocking and waking (block.c), with the deadlock accounting.
 *
 * csp__block_prepare: marks the calling thread blocked; call it while the sel
 * is still invisible to wakers (under the channel locks). timed: the wait has
 * a deadline, so it never counts as blocked forever.
 * csp__block: parks until a waker claims sel (true) or, when deadline >= 0, the
 * deadline passes and the owner claims sel itself (false).
 * csp__wake: for the waker that claimed sel, after releasing its locks. */
void csp__block_prepare(csp__thread *self, csp__sel *s, bool timed);
bool csp__block(csp__thread *self, csp__sel *s, int64_t deadline);
void csp__wake(csp__sel *s);

/* ------------------------------------------------------------------------
 * Channels (chan.c) and the select protocol (select.c)
 * ------------------------------------------------------------------------ */

typedef struct csp__waitq {
    _Atomic(csp__waiter *) head; /* FIFO; channel lock (also read without it, as a hint) */
    csp__waiter *tail;           /* channel lock */
} csp__waitq;

/* A slot of a buffered channel's ring: the value follows seq. */
typedef struct csp__slot {
    _Atomic uint64_t seq; /* pos: free for the send at pos; pos + 1: holds that send's value */
} csp__slot;

#define CSP__CACHE_LINE 64
enum { CSP__RECVQ = 1, CSP__SENDQ = 2 };

struct csp_chan {
    /* mu protects the queues, closed, and the prev/next
     * fields of the waiters on this channel's queues. Everything a locked
     * operation touches is on this first cache line. */
    csp__lock mu;
    bool closed;           /* closed; never reopened; stored atomically */
    _Atomic size_t refs;   /* references: owners plus blocked operations */
    size_t elem_size;      /* bytes per value (immutable) */
    size_t cap;            /* ring capacity (immutable) */
    csp__waitq recvq;      /* blocked receivers */
    csp__waitq sendq;      /* blocked senders */
    size_t slot_size;      /* bytes per ring slot, seq and value (immutable) */
    unsigned char *buf;    /* cap slots (NULL if unbuffered, or values are zero-size) */
    /* The ring (ring.c): lock-free, each index on its own cache line. */
    _Alignas(CSP__CACHE_LINE) _Atomic unsigned queued; /* CSP__RECVQ, CSP__SENDQ: those queues non-empty */
    _Alignas(CSP__CACHE_LINE) _Atomic uint64_t head; /* position of the next receive << 3 | flags */
    _Alignas(CSP__CACHE_LINE) _Atomic uint64_t tail; /* position of the next send << 3 | flags */
    _Alignas(CSP__CACHE_LINE) unsigned char ring[];
};

/* Copies one value of c into dst (nothing when dst is NULL: a receive that
 * discards). Common sizes compile to a move, not a call: it runs under the
 * channel lock and in the ring's publish window. */
static inline void csp__copy_value(const csp_chan *c, void *dst, const void *src)
{
    if (!dst)
        return;
    switch (c->elem_size) {
    case 0: break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, c->elem_size); break;
    }
}

/* Whether c's values travel inside the waiters (csp__waiter.val). */
static inline bool csp__value_inline(const csp_chan *c)
{
    return c->elem_size <= sizeof(((csp__waiter *)0)->val);
}

/* Where the value of a waiter queued on c is (a sender's) or goes (a
 * receiver's; NULL: discarded). */
static inline void *csp__waiter_value(const csp_chan *c, csp__waiter *w)
{
    return csp__value_inline(c) ? w->val : w->elem;
}

/* The lock-free ring of a buffered channel (ring.c). push and pop never
 * block but for an operation of another thread that is half done on the slot
 * they need (its index taken, its value not yet copied); a full or empty ring
 * is reported at once. Positions and the closed bit are read and changed
 * with sequentially consistent operations: see chan.c for the handshake with
 * the waiter queues that this ordering carries. */
enum csp__ring_result { CSP__RING_OK, CSP__RING_OK_PUMP, CSP__RING_WOULDBLOCK, CSP__RING_CLOSED };
void csp__ring_init(csp_chan *c);
/* locked: the caller holds c->mu and acts for itself or for a queued waiter;
 * else it takes the fast path, which yields (WOULDBLOCK) to queued waiters.
 * OK_PUMP (fast path only): waiters were queued on the other side when the
 * position was taken, and c was retained before the value (or room) became
 * visible: the caller pumps and releases (chan.c).
 * push: CLOSED when closed (nothing sent). pop: CLOSED when closed and
 * drained (out untouched); out may be NULL. */
enum csp__ring_result csp__ring_push(csp_chan *c, const void *elem, bool locked);
enum csp__ring_result csp__ring_pop(csp_chan *c, void *out, bool locked);
/* Marks the ring closed: pushes fail from here on, pops drain it. */
void csp__ring_close(csp_chan *c);
/* Channel locked: whether senders (or receivers) are queued, kept with the
 * queue itself (csp__waitq_push, csp__waitq_remove). */
void csp__ring_set_queued(csp_chan *c, bool senders, bool queued);
/* Whether a push (room) or pop (values) would find something now. */
bool csp__ring_has_room(csp_chan *c);
bool csp__ring_has_values(csp_chan *c);
size_t csp__ring_len(csp_chan *c);

/* q is c->sendq or c->recvq; c locked. */
void csp__waitq_push(csp_chan *c, csp__waitq *q, csp__waiter *w);
void csp__waitq_remove(csp_chan *c, csp__waitq *q, csp__waiter *w);

/* A list of completed waiters, chained by next under their channels'
 * locks (or a wait group's), woken by csp__wake_all after every lock is
 * released. */
void csp__wake_all(csp__waiter *list);

/* Pairs a buffered channel's values or room with its queued waiters, for
 * matches that lock-free operations have left behind (see chan.c). Channel
 * locked; completed waiters are added to *wakes. */
void csp__chan_pump(csp_chan *c, csp__waiter **wakes);

/* Tries one case on its locked channel. true: it completed and *err holds its
 * result; waiters it completed too are added to *wakes. */
bool csp__chan_try_send(csp_chan *c, const void *elem, int *err, csp__waiter **wakes);
bool csp__chan_try_recv(csp_chan *c, void *out, int *err, csp__waiter **wakes);

/* Whether an operation on c might proceed now, read without the lock: a
 * hint for spinning, or for which channel to lock, never a decision (that is
 * taken again under the lock). */
bool csp__chan_ready_hint(csp_chan *c, int op);

/* A send case with no value to send: NULL for a channel whose values are not
 * zero-size (CSP_EINVAL, rather than a copy from NULL). k->ch is not NULL. */
static inline bool csp__send_without_value(const csp_case *k)
{
    return k->op == CSP_OP_SEND && !k->val && k->ch->elem_size > 0;
}

/* The one blocking path (select.c). deadline: < 0 forever, else absolute;
 * nonblock: fail at once with CSP_EAGAIN when no case is ready. */
int csp__select(csp_case *cases, size_t n, bool nonblock, int64_t deadline);

/* ------------------------------------------------------------------------
 * Runtime (runtime.c): settings, debug modes, accounting
 * ------------------------------------------------------------------------ */

typedef struct csp__config {
    size_t max_threads; /* CSP_MAX_THREADS */
    size_t stack_size;  /* CSP_STACK_SIZE */
    int64_t idle_ns;    /* CSP_IDLE_MS */
    bool dbg_deadlock;  /* CSP_DEBUG=deadlock */
    bool dbg_leaks;     /* CSP_DEBUG=leaks */
    bool dbg_strict;    /* CSP_DEBUG=strict */
} csp__config;

/* Settings, read from the environment once, on first use. */
const csp__config *csp__cfg(void);

/* CSP_DEBUG=strict: where Go would panic, print msg and abort. */
void csp__strict(const char *msg);

/* Deadlock accounting (only when CSP_DEBUG=deadlock): the number of
 * goroutines plus the main thread not blocked forever in libcsp. */
void csp__dl_running_add(int delta);
/* Runs the deadlock check alone: after the last pending timer went away. */
void csp__dl_check(void);

/* Timer accounting (timer.c owns the heap; this is its size for stats). */
size_t csp__timers_pending(void);

/* Pool figures for stats (pool.c). */
void csp__pool_stats(csp_stats *out);

void csp__fatal(const char *msg) __attribute__((noreturn));

/* Per-thread PRNG for select's random order (rand.c): uniform in [0, n).
 * self may be NULL (a thread without a record). */
uint32_t csp__randn(csp__thread *self, uint32_t n);

int64_t csp__mono_ns(void);

/* a + b for b >= 0, saturating at INT64_MAX: a deadline that far off is
 * "never", not an overflow into the past. */
static inline int64_t csp__sat_add(int64_t a, int64_t b)
{
    return b > INT64_MAX - a ? INT64_MAX : a + b;
}

/* The CLOCK_MONOTONIC deadline ns from now (ns >= 0). */
static inline int64_t csp__deadline_in(int64_t ns)
{
    return csp__sat_add(csp__mono_ns(), ns);
}

/* Prints every goroutine still blocked (CSP_DEBUG=leaks, at exit). */
void csp__report_leaks(FILE *f);

#endif /* CSP_INTERNAL_H */
