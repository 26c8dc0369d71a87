/*
 * chan.c - the channel: a mutex, two FIFO queues of waiters and, when
 * buffered, a lock-free ring (ring.c).
 *
 * Unbuffered channels do everything under c->mu. A buffered channel's ring
 * is lock-free, so that a plain send or receive that finds room or a value,
 * with nobody queued on its side, takes no lock (chan_op); the queues and
 * closed stay under c->mu.
 *
 * Invariants (c->mu held, see struct csp_chan in internal.h):
 *   - At most one of sendq and recvq holds waiters that can still be claimed,
 *     except that one select may wait to send and to receive on the same
 *     channel at once (Go allows it too); it cannot match itself.
 *   - After csp__chan_pump, the ring is empty or recvq holds no claimable
 *     waiter, and the ring is full or sendq holds none. Every locked
 *     operation pumps first; between pumps a lock-free operation may leave a
 *     match behind (a value pushed as a receiver queued, room made as a
 *     sender queued), and then the handshake below makes someone pump it.
 *   - While recvq (sendq) is non-empty, only lock holders receive from (send
 *     into) the ring, so what the pump sees there stays for the waiter it
 *     claims.
 *   - A queued waiter whose sel is already claimed (its select completed on
 *     another case) is stale: whoever meets it first drops it from the queue.
 *   - Once closed is set, no waiter is added to either queue; close empties
 *     both and completes each live waiter with CSP_ECLOSED.
 *   - A waker completes a waiter entirely (copy, chosen, err) under c->mu and
 *     unparks it only after unlocking, so a woken owner finds its result ready
 *     and no lock is held across a wake-up.
 *
 * The handshake that loses no wake-up: the first waiter of a queue sets its
 * side's QUEUED flag in the ring (ring.c; a sequentially consistent
 * read-modify-write) before its owner looks at the ring again under the lock
 * (csp__chan_pump); a lock-free push reads the receivers' flag, and a
 * lock-free pop the senders', right after taking its position (also
 * sequentially consistent; for zero-size values the flag is in the very word
 * the position is taken in, see push_token), and a position taken counts for
 * the ring's checks even before its value is copied. Of a queued waiter and a concurrent
 * lock-free operation, at least one sees the other, and that one pumps.
 *
 * Lifetime: a lock-free operation that saw no waiter touches the channel last
 * when it publishes its value or room; one that saw waiters has retained the
 * channel first. Under the lock a value or room is visible at once to
 * lock-free operations, so locked senders and receivers (select.c) and close
 * hold a reference while they unlock. A receiver that has its value may thus
 * release the last reference at once.
 *
 * References: the creator holds one; every blocked operation holds one while
 * it is queued (taken in select.c), so releasing a channel others wait on is
 * not a use-after-free.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

csp_chan *csp_chan_make(size_t elem_size, size_t cap)
{
    /* A slot is its seq and the value, rounded up to keep seq aligned.
     * Zero-size values need no slots: the ring only counts them (ring.c). */
    size_t align = sizeof(csp__slot);
    if (elem_size > SIZE_MAX / 2) {
        errno = EINVAL;
        return NULL;
    }
    size_t slot_size = elem_size ? sizeof(csp__slot) + (elem_size + align - 1) / align * align : 0;
    if (slot_size && cap > (SIZE_MAX / 2 - sizeof(csp_chan)) / slot_size) {
        errno = EINVAL;
        return NULL;
    }
    size_t size = sizeof(csp_chan) + slot_size * cap;
    size = (size + CSP__CACHE_LINE - 1) / CSP__CACHE_LINE * CSP__CACHE_LINE;
    csp_chan *c = aligned_alloc(CSP__CACHE_LINE, size);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    memset(c, 0, sizeof(*c));
    c->elem_size = elem_size;
    c->cap = cap;
    c->slot_size = slot_size;
    c->buf = cap && slot_size ? c->ring : NULL;
    atomic_init(&c->refs, 1);
    csp__ring_init(c);
    return c;
}

csp_chan *csp_chan_retain(csp_chan *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void csp_chan_release(csp_chan *c)
{
    if (!c)
        return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(c);
}

/* ------------------------------------------------------------------------
 * Wait queues (c->mu held)
 * ------------------------------------------------------------------------ */

static inline csp__waiter *waitq_first(const csp__waitq *q)
{
    return atomic_load_explicit(&q->head, memory_order_relaxed);
}

void csp__waitq_push(csp_chan *c, csp__waitq *q, csp__waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail) {
        q->tail->next = w;
    } else {
        atomic_store_explicit(&q->head, w, memory_order_relaxed);
        if (c->cap) /* before the owner's pump: see the handshake */
            csp__ring_set_queued(c, q == &c->sendq, true);
    }
    q->tail = w;
    atomic_store_explicit(&w->queued, true, memory_order_relaxed);
}

static void waitq_unlink(csp__waitq *q, csp__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        atomic_store_explicit(&q->head, w->next, memory_order_relaxed);
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
}

/* A queue's QUEUED flag is cleared once it is empty, but not before the ring
 * operation done for the waiter taken from it: until then it keeps
 * lock-free operations away from the value or room that waiter is owed. */
static void settle_flags(csp_chan *c)
{
    if (!c->cap)
        return;
    /* Only written under the lock, so exact here; it is read by every
     * lock-free operation, so it is written only when it changes. */
    unsigned q = atomic_load_explicit(&c->queued, memory_order_relaxed);
    if ((q & CSP__RECVQ) && !waitq_first(&c->recvq))
        csp__ring_set_queued(c, false, false);
    if ((q & CSP__SENDQ) && !waitq_first(&c->sendq))
        csp__ring_set_queued(c, true, false);
}

/* Unlinks w (select.c's pass 3). Does not clear queued: see waitq_pop_claimed. */
void csp__waitq_remove(csp_chan *c, csp__waitq *q, csp__waiter *w)
{
    waitq_unlink(q, w);
    settle_flags(c);
}

/* Takes the first waiter whose sel this caller claims, dropping stale ones;
 * the caller settles the flags (settle_flags) when done with it. For a
 * dropped waiter, the release store of queued is the last touch: its owner
 * may reclaim the waiter as soon as it reads false. */
static csp__waiter *waitq_pop_claimed(csp__waitq *q)
{
    csp__waiter *w;
    while ((w = waitq_first(q)) != NULL) {
        waitq_unlink(q, w);
        bool mine = csp__sel_claim(w->sel);
        atomic_store_explicit(&w->queued, false, memory_order_release);
        if (mine)
            return w;
    }
    return NULL;
}

static void complete(csp__waiter *w, int err, csp__waiter **wakes)
{
    w->sel->chosen = w->index;
    w->sel->err = err;
    w->next = *wakes; /* unlinked from its queue: next is free for the wake list */
    *wakes = w;
}

void csp__wake_all(csp__waiter *list)
{
    while (list) {
        csp__waiter *w = list;
        list = w->next; /* each owner is blocked until its own wake: read the link first */
        csp__wake(w->sel);
    }
}

/* A receive from a closed channel: the zero value (dst may be NULL). */
static void zero_elem(const csp_chan *c, void *dst)
{
    if (dst && c->elem_size)
        memset(dst, 0, c->elem_size);
}

/* ------------------------------------------------------------------------
 * One case on a locked channel: shared by plain operations and select.
 * ------------------------------------------------------------------------ */

/* While a queue is non-empty only lock holders take positions on its side
 * (ring.c), so the value or room seen here is still there for the waiter
 * claimed. */
void csp__chan_pump(csp_chan *c, csp__waiter **wakes)
{
    for (bool moved = true; moved;) {
        moved = false;
        csp__waiter *w;
        if (waitq_first(&c->recvq) && csp__ring_has_values(c) && (w = waitq_pop_claimed(&c->recvq)) != NULL) {
            if (csp__ring_pop(c, csp__waiter_value(c, w), true) != CSP__RING_OK)
                csp__fatal("channel ring lost a value owed to a queued receiver");
            complete(w, 0, wakes);
            moved = true;
        }
        if (!c->closed && waitq_first(&c->sendq) && csp__ring_has_room(c) &&
            (w = waitq_pop_claimed(&c->sendq)) != NULL) {
            if (csp__ring_push(c, csp__waiter_value(c, w), true) != CSP__RING_OK)
                csp__fatal("channel ring lost the room owed to a queued sender");
            complete(w, 0, wakes);
            moved = true;
        }
    }
    settle_flags(c);
}

bool csp__chan_try_send(csp_chan *c, const void *elem, int *err, csp__waiter **wakes)
{
    if (c->closed) {
        *err = CSP_ECLOSED;
        return true;
    }
    if (c->cap)
        csp__chan_pump(c, wakes); /* after it, a queued receiver means an empty ring */
    csp__waiter *r = waitq_pop_claimed(&c->recvq);
    settle_flags(c);
    if (r) { /* direct handoff to the receiver (csp__waiter_value) */
        csp__copy_value(c, csp__waiter_value(c, r), elem);
        complete(r, 0, wakes);
        *err = 0;
        return true;
    }
    if (c->cap && csp__ring_push(c, elem, true) == CSP__RING_OK) {
        *err = 0;
        return true;
    }
    return false;
}

bool csp__chan_try_recv(csp_chan *c, void *out, int *err, csp__waiter **wakes)
{
    if (c->cap) {
        csp__chan_pump(c, wakes);
        if (csp__ring_pop(c, out, true) == CSP__RING_OK) {
            csp__chan_pump(c, wakes); /* the freed slot may take a queued sender's value */
            *err = 0;
            return true;
        }
    } else {
        csp__waiter *s = waitq_pop_claimed(&c->sendq);
        if (s) { /* unbuffered: take the value straight from the sender */
            csp__copy_value(c, out, csp__waiter_value(c, s));
            complete(s, 0, wakes);
            *err = 0;
            return true;
        }
    }
    if (c->closed) {
        zero_elem(c, out);
        *err = CSP_ECLOSED;
        return true;
    }
    return false;
}

bool csp__chan_ready_hint(csp_chan *c, int op)
{
    if (__atomic_load_n(&c->closed, __ATOMIC_RELAXED))
        return true;
    if (c->cap)
        return op == CSP_OP_SEND ? csp__ring_has_room(c) : csp__ring_has_values(c);
    return waitq_first(op == CSP_OP_SEND ? &c->recvq : &c->sendq) != NULL;
}

/* ------------------------------------------------------------------------
 * The fast path: a buffered channel's ring, without the lock.
 * ------------------------------------------------------------------------ */

/* After a lock-free push or pop that saw waiters on the other side: they may
 * have checked the ring before it, so pair them up now. The ring retained c
 * for this (see csp__ring_push): the value may have been received, and the
 * channel released by everyone else, before this runs. */
static void pump_after(csp_chan *c)
{
    csp__waiter *wakes = NULL;
    csp__lock_acquire(&c->mu);
    csp__chan_pump(c, &wakes);
    csp__lock_release(&c->mu);
    csp__wake_all(wakes);
    csp_chan_release(c);
}

/* ------------------------------------------------------------------------
 * Public operations
 * ------------------------------------------------------------------------ */

/* A plain operation: the fast path when buffered, else the one-case select. */
static int chan_op(csp_chan *c, csp_case *k, bool nonblock)
{
    if (!c)
        return CSP_EINVAL;
    if (c->cap) {
        enum csp__ring_result r = k->op == CSP_OP_SEND ? csp__ring_push(c, k->val, false)
                                                       : csp__ring_pop(c, k->val, false);
        if (r == CSP__RING_OK_PUMP)
            pump_after(c);
        if (r == CSP__RING_OK || r == CSP__RING_OK_PUMP)
            return 0;
        /* Full, empty or closed: the locked path decides, and reports a
         * closed channel the one way (zero value, strict mode). */
    }
    int r = csp__select(k, 1, nonblock, -1);
    return r < 0 ? r : k->err;
}

/* A plain send. One with no value (csp__send_without_value) is CSP_EINVAL,
 * checked here, off the receive path. */
static int send_op(csp_chan *c, const void *elem, bool nonblock)
{
    csp_case k = csp__case_send(c, elem);
    if (c && csp__send_without_value(&k))
        return CSP_EINVAL;
    return chan_op(c, &k, nonblock);
}

static int recv_op(csp_chan *c, void *out, bool nonblock)
{
    csp_case k = csp__case_recv(c, out);
    return chan_op(c, &k, nonblock);
}

int csp_chan_send(csp_chan *c, const void *elem)
{
    return send_op(c, elem, false);
}

int csp_chan_recv(csp_chan *c, void *out)
{
    return recv_op(c, out, false);
}

int csp_chan_trysend(csp_chan *c, const void *elem)
{
    return send_op(c, elem, true);
}

int csp_chan_tryrecv(csp_chan *c, void *out)
{
    return recv_op(c, out, true);
}

/* Completes every live waiter of q with CSP_ECLOSED, adding them to *wakes.
 * Receivers get the zero value. */
static void close_queue(csp_chan *c, csp__waitq *q, bool zero_fill, csp__waiter **wakes)
{
    csp__waiter *w;
    while ((w = waitq_pop_claimed(q)) != NULL) {
        if (zero_fill)
            zero_elem(c, csp__waiter_value(c, w));
        complete(w, CSP_ECLOSED, wakes);
    }
}

int csp_chan_close(csp_chan *c)
{
    if (!c) {
        csp__strict("close of nil channel");
        return CSP_EINVAL;
    }
    /* A receiver may see the close without the lock and release the channel
     * while this thread still unlocks it (see hold_buffered in select.c). */
    csp_chan_retain(c);
    csp__lock_acquire(&c->mu);
    if (c->closed) {
        csp__lock_release(&c->mu);
        csp_chan_release(c);
        csp__strict("close of closed channel");
        return CSP_ECLOSED;
    }
    __atomic_store_n(&c->closed, true, __ATOMIC_RELAXED);
    csp__waiter *wakes = NULL;
    if (c->cap) {
        csp__ring_close(c);
        csp__chan_pump(c, &wakes); /* values still in the ring go to queued receivers first */
    }
    close_queue(c, &c->recvq, true, &wakes);
    close_queue(c, &c->sendq, false, &wakes);
    settle_flags(c);
    csp__lock_release(&c->mu);
    csp_chan_release(c);
    csp__wake_all(wakes);
    return 0;
}

size_t csp_chan_len(csp_chan *c)
{
    return c && c->cap ? csp__ring_len(c) : 0;
}

size_t csp_chan_cap(csp_chan *c)
{
    return c ? c->cap : 0;
}

size_t csp_chan_elem_size(csp_chan *c)
{
    return c ? c->elem_size : 0;
}
