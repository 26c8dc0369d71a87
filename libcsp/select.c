/*
 * select.c - the wait-registration protocol behind every blocking operation.
 *
 * csp_send and csp_recv are one-case selects on this same path (after the
 * lock-free fast path of buffered channels, chan.c); wait groups reuse its
 * sel/parker half (block.c).
 *
 * A select runs in three passes, as Go's selectgo does:
 *   1. Visit the cases in a random order and complete the first that can
 *      proceed; a random permutation makes every ready case equally likely.
 *      With several cases, each that looks ready is first tried under its
 *      own channel's lock alone (poll_one_by_one); if none completes, lock
 *      every channel involved, in address order, each once (so that two
 *      selects over the same channels in any order cannot deadlock), and
 *      visit them all again.
 *   2. If none can and the caller may block: put one waiter per case on its
 *      channel's queue (taking a channel reference for each), unlock, park.
 *   3. Once woken (or timed out): take every waiter of ours that is still
 *      queued off its queue, and drop the references.
 *
 * Invariants of a blocked select (sel and waiters live on its stack):
 *   - sel.done goes 0 -> 1 exactly once, by compare-and-swap: either a waker
 *     (under the lock of the channel whose queue held the waiter) or the owner
 *     itself on timeout. Only the winner writes sel.chosen / sel.err and the
 *     case's value (a small one into the waiter, which the owner copies to
 *     the case's destination once woken), all before it unlocks that channel.
 *   - A waker that wins unparks the owner after unlocking, and touches neither
 *     sel nor waiter after the unpark. A waker that loses drops the stale
 *     waiter and stores queued = false (release) as its very last touch.
 *   - The owner leaves pass 3 only when none of its waiters is queued: each is
 *     either seen unqueued (acquire) or removed by the owner under its
 *     channel's lock. After that no other thread can reach the stack frame.
 *   - While queued, each waiter holds a reference on its channel.
 *   - If the owner's timeout loses the CAS, a waker won: the owner parks again
 *     for that waker's unpark, so exactly one unpark matches each park.
 */
#include "internal.h"

#include <sched.h>
#include <stdlib.h>

enum {
    STACK_CASES = 8,          /* selects up to this size allocate nothing */
    RING_SPIN_NS = 4000       /* see spin_for_ring */
};

typedef struct scratch {
    csp__sel *sel;        /* the select's record, beside the waiters */
    csp__waiter *waiters; /* one per case */
    uint32_t *poll;       /* live case indices, random order */
    uint32_t *lock;       /* live case indices, by channel address */
} scratch;

/* Random permutation of the live cases, and the same sorted by channel. */
static size_t order_cases(const csp_case *cases, size_t n, uint32_t *poll, uint32_t *lock)
{
    size_t live = 0;
    /* One case needs no randomness. A thread without a record gets none
     * here: a select that does not block allocates nothing. */
    csp__thread *self = n > 1 ? csp__self_or_null() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cases[i].ch)
            continue;
        uint32_t j = live ? csp__randn(self, (uint32_t)live + 1) : 0; /* inside-out Fisher-Yates */
        if (j != live)
            poll[live] = poll[j];
        poll[j] = (uint32_t)i;
        /* insertion sort by address; n is small in practice */
        size_t k = live;
        while (k > 0 && (uintptr_t)cases[lock[k - 1]].ch > (uintptr_t)cases[i].ch) {
            lock[k] = lock[k - 1];
            k--;
        }
        lock[k] = (uint32_t)i;
        live++;
    }
    return live;
}

static void lock_all(const csp_case *cases, const uint32_t *lock, size_t live)
{
    csp_chan *prev = NULL;
    for (size_t k = 0; k < live; k++) {
        csp_chan *c = cases[lock[k]].ch;
        if (c != prev)
            csp__lock_acquire(&c->mu);
        prev = c;
    }
}

static void unlock_all(const csp_case *cases, const uint32_t *lock, size_t live)
{
    csp_chan *prev = NULL;
    for (size_t k = 0; k < live; k++) {
        csp_chan *c = cases[lock[k]].ch;
        if (c != prev)
            csp__lock_release(&c->mu);
        prev = c;
    }
}

static bool try_case(csp_case *k, csp__waiter **wakes)
{
    if (k->op == CSP_OP_SEND)
        return csp__chan_try_send(k->ch, k->val, &k->err, wakes);
    return csp__chan_try_recv(k->ch, k->val, &k->err, wakes);
}

/* Pass 1, under all locks: the index of the case that completed, or -1. */
static int poll_ready(csp_case *cases, const uint32_t *poll, size_t live, csp__waiter **wakes)
{
    for (size_t k = 0; k < live; k++) {
        if (try_case(&cases[poll[k]], wakes))
            return (int)poll[k];
    }
    return -1;
}

/* Pass 1 case by case, before taking every lock: a case that looks ready is
 * tried under its own channel's lock alone. Completing it then is as good an
 * outcome as under all the locks (a select may take any case that is ready
 * when it completes), and it spares the other channels' locks, which their
 * own senders and receivers are busy with. The index of the case, or -1. */
static int poll_one_by_one(csp_case *cases, const uint32_t *poll, size_t live)
{
    for (size_t k = 0; k < live; k++) {
        csp_case *kc = &cases[poll[k]];
        if (!csp__chan_ready_hint(kc->ch, kc->op))
            continue;
        csp__waiter *wakes = NULL;
        csp__lock_acquire(&kc->ch->mu);
        bool done = try_case(kc, &wakes);
        csp__lock_release(&kc->ch->mu);
        csp__wake_all(wakes); /* a pump may have completed others, even if not ours */
        if (done)
            return (int)poll[k];
    }
    return -1;
}

static void note_wait(csp__thread *self, const csp_case *cases, size_t n, const uint32_t *lock, size_t live)
{
    int kind = CSP__W_FOREVER;
    void *obj = NULL;
    if (live) {
        obj = cases[lock[0]].ch;
        kind = n > 1 ? CSP__W_SELECT : cases[lock[0]].op == CSP_OP_SEND ? CSP__W_SEND : CSP__W_RECV;
    }
    atomic_store_explicit(&self->wait, kind, memory_order_relaxed);
    atomic_store_explicit(&self->wait_obj, obj, memory_order_relaxed);
    atomic_store_explicit(&self->wait_n, n, memory_order_relaxed);
}

/* Points a waiter at its case's value, or carries the value itself when
 * small: a sender's is copied in now, a receiver's is copied out once woken
 * (see csp__waiter). */
static void set_waiter_value(csp__waiter *w, const csp_chan *c, const csp_case *k)
{
    w->val_size = 0;
    if (!csp__value_inline(c)) {
        w->elem = k->val;
        return;
    }
    if (k->op == CSP_OP_SEND)
        csp__copy_value(c, w->val, k->val);
    else
        w->val_size = (unsigned char)c->elem_size;
}

/* Passes 2 and 3. Called with every channel locked; returns with none, and
 * wakes the waiters on the wakes list after unlocking. */
static int wait_for_case(csp_case *cases, size_t n, const scratch *s, size_t live, int64_t deadline,
                         csp__waiter *wakes)
{
    csp__thread *self = csp__self();
    csp__sel *sel = s->sel;
    *sel = (csp__sel){ .chosen = -1, .parker = &self->parker };
    atomic_init(&sel->done, 0);

    for (size_t k = 0; k < live; k++) {
        uint32_t i = s->lock[k];
        csp__waiter *w = &s->waiters[i];
        csp_chan *c = csp_chan_retain(cases[i].ch);
        w->sel = sel;
        w->index = (int)i;
        set_waiter_value(w, c, &cases[i]);
        csp__waitq_push(c, cases[i].op == CSP_OP_SEND ? &c->sendq : &c->recvq, w);
    }
    note_wait(self, cases, n, s->lock, live);
    csp__block_prepare(self, sel, deadline >= 0); /* before any waker can see sel */
    /* Now counted in their queues, the waiters look at the rings once more,
     * for a lock-free operation that looked at the queues before them. */
    for (size_t k = 0; k < live; k++) {
        csp_chan *c = cases[s->lock[k]].ch;
        if (c->cap && (k == 0 || c != cases[s->lock[k - 1]].ch))
            csp__chan_pump(c, &wakes);
    }
    unlock_all(cases, s->lock, live);
    csp__wake_all(wakes); /* perhaps our own sel: then csp__block returns at once */
    bool woken = csp__block(self, sel, deadline);

    /* Pass 3: sel is claimed, so no waker completes another of our waiters;
     * take the ones still queued off their queues. */
    for (size_t k = 0; k < live; k++) {
        uint32_t i = s->lock[k];
        csp__waiter *w = &s->waiters[i];
        csp_chan *c = cases[i].ch;
        if (atomic_load_explicit(&w->queued, memory_order_acquire)) {
            csp__lock_acquire(&c->mu);
            if (atomic_load_explicit(&w->queued, memory_order_relaxed)) {
                csp__waitq_remove(c, cases[i].op == CSP_OP_SEND ? &c->sendq : &c->recvq, w);
                atomic_store_explicit(&w->queued, false, memory_order_relaxed);
            }
            csp__lock_release(&c->mu);
        }
        csp_chan_release(c);
    }
    if (!woken)
        return CSP_ETIMEDOUT;
    csp_case *chosen = &cases[sel->chosen];
    chosen->err = sel->err;
    if (chosen->op == CSP_OP_RECV && chosen->val)
        memcpy(chosen->val, s->waiters[sel->chosen].val, s->waiters[sel->chosen].val_size);
    return sel->chosen;
}

/* A plain blocking operation on a buffered channel that cannot proceed spins
 * a little, outside the lock, for the ring to change before it registers a
 * waiter. Otherwise a consumer that has caught up parks on every item, and
 * every value travels by hand-off and wake-up instead of through the ring.
 * (An unbuffered channel needs a registered waiter for any rendezvous, so
 * spinning there would only delay it.) Called and returns with the lock held;
 * wakes, at the unlock, the waiters that pass 1 completed (*wakes). */
static void spin_for_ring(csp_chan *c, int op, csp__waiter **wakes)
{
    csp__lock_release(&c->mu);
    csp__wake_all(*wakes); /* waiters pass 1 completed need not wait for the spin */
    *wakes = NULL;
    int64_t end = csp__mono_ns() + RING_SPIN_NS;
    for (int round = 0; !csp__chan_ready_hint(c, op); round++) {
        if (round >= 64)
            sched_yield(); /* on a busy machine, let the other side run */
        csp__cpu_relax();
        if ((round >= 64 || (round & 15) == 15) && csp__mono_ns() >= end)
            break;
    }
    csp__lock_acquire(&c->mu);
}

/* A value sent or a slot freed under the lock is visible at once to the
 * lock-free operations of a buffered channel (chan.c), whose user may then
 * release the channel while this thread still unlocks it: each buffered
 * channel is held for the whole select. Whether a case's channel is held is
 * noted in its waiter, for the channel may be gone by the time of the drop. */
static void hold_buffered(const csp_case *cases, const scratch *s, size_t live)
{
    for (size_t k = 0; k < live; k++) {
        uint32_t i = s->lock[k];
        s->waiters[i].held = cases[i].ch->cap > 0;
        if (s->waiters[i].held)
            csp_chan_retain(cases[i].ch);
    }
}

static void drop_buffered(const csp_case *cases, const scratch *s, size_t live)
{
    for (size_t k = 0; k < live; k++) {
        uint32_t i = s->lock[k];
        if (s->waiters[i].held)
            csp_chan_release(cases[i].ch);
    }
}

static int select_with(csp_case *cases, size_t n, bool nonblock, int64_t deadline, const scratch *s)
{
    size_t live = order_cases(cases, n, s->poll, s->lock);
    hold_buffered(cases, s, live);
    if (live > 1) {
        int r = poll_one_by_one(cases, s->poll, live);
        if (r >= 0) {
            drop_buffered(cases, s, live);
            return r;
        }
    }
    lock_all(cases, s->lock, live);
    csp__waiter *wakes = NULL;
    int r = poll_ready(cases, s->poll, live, &wakes);
    if (r < 0 && !nonblock && n == 1 && live == 1 && cases[0].ch->cap > 0) {
        spin_for_ring(cases[0].ch, cases[0].op, &wakes);
        r = poll_ready(cases, s->poll, live, &wakes);
    }
    if (r >= 0 || nonblock) {
        unlock_all(cases, s->lock, live);
        csp__wake_all(wakes);
        if (r < 0)
            r = CSP_EAGAIN;
    } else {
        /* Pass 1 completed none of ours, but its pumps may have completed
         * other waiters: wakes goes along, to be woken after the unlock. */
        r = wait_for_case(cases, n, s, live, deadline, wakes);
    }
    drop_buffered(cases, s, live);
    return r;
}

/* Scratch on the stack sized for the call: a plain send or receive parks
 * with a frame small enough that a blocked goroutine's whole stack, glibc's
 * thread descriptor included, stays within one or two pages. noinline keeps
 * the callers' frames from growing to the largest variant. */
static __attribute__((noinline)) int select_small_1(csp_case *cases, size_t n, bool nonblock, int64_t deadline)
{
    /* The waker of a plain send or receive writes the sel and the waiter:
     * on one cache line, they cross between CPUs once (B1: -17%). */
    struct {
        _Alignas(CSP__CACHE_LINE) csp__sel sel;
        csp__waiter waiter;
    } b;
    _Static_assert(sizeof b <= CSP__CACHE_LINE, "the sel and waiter of a plain operation share a line");
    uint32_t poll[1], lock[1];
    scratch s = { &b.sel, &b.waiter, poll, lock };
    return select_with(cases, n, nonblock, deadline, &s);
}

static __attribute__((noinline)) int select_small_8(csp_case *cases, size_t n, bool nonblock, int64_t deadline)
{
    csp__sel sel;
    csp__waiter waiters[STACK_CASES];
    uint32_t poll[STACK_CASES], lock[STACK_CASES];
    scratch s = { &sel, waiters, poll, lock };
    return select_with(cases, n, nonblock, deadline, &s);
}
_Static_assert(STACK_CASES == 8, "select_small_8 is the STACK_CASES variant");

static __attribute__((noinline)) int select_heap(csp_case *cases, size_t n, bool nonblock, int64_t deadline)
{
    void *mem = malloc(n * (sizeof(csp__waiter) + 2 * sizeof(uint32_t)));
    if (!mem)
        return CSP_ENOMEM;
    csp__waiter *waiters = mem;
    uint32_t *poll = (uint32_t *)(waiters + n);
    csp__sel sel;
    scratch s = { &sel, waiters, poll, poll + n };
    int r = select_with(cases, n, nonblock, deadline, &s);
    free(mem);
    return r;
}

int csp__select(csp_case *cases, size_t n, bool nonblock, int64_t deadline)
{
    if (n > 0 && !cases)
        return CSP_EINVAL;
    if (n > UINT32_MAX)
        return CSP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (cases[i].ch && ((cases[i].op != CSP_OP_SEND && cases[i].op != CSP_OP_RECV) ||
                            csp__send_without_value(&cases[i])))
            return CSP_EINVAL;
    }

    int r;
    if (n <= 1)
        r = select_small_1(cases, n, nonblock, deadline);
    else if (n <= STACK_CASES)
        r = select_small_8(cases, n, nonblock, deadline);
    else
        r = select_heap(cases, n, nonblock, deadline);
    if (r >= 0 && cases[r].op == CSP_OP_SEND && cases[r].err == CSP_ECLOSED)
        csp__strict("send on closed channel");
    return r;
}

int csp_select(csp_case *cases, size_t n)
{
    return csp__select(cases, n, false, -1);
}

int csp_select_try(csp_case *cases, size_t n)
{
    return csp__select(cases, n, true, -1);
}

int csp_select_timeout(csp_case *cases, size_t n, int64_t ns)
{
    if (ns <= 0) {
        int r = csp__select(cases, n, true, -1);
        return r == CSP_EAGAIN ? CSP_ETIMEDOUT : r;
    }
    return csp__select(cases, n, false, csp__deadline_in(ns));
}
