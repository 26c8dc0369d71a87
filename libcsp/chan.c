/*
 * chan.c - the channel: a mutex, a ring buffer and two FIFO queues of waiters.
 *
 * Invariants (all under c->mu; see struct csp_chan in internal.h):
 *   - At most one of sendq and recvq holds waiters that can still be claimed,
 *     except that one select may wait to send and to receive on the same
 *     channel at once (Go allows it too); it cannot match itself.
 *   - count > 0 implies no claimable waiter in recvq (a sender hands its value
 *     straight to a waiting receiver instead of buffering it).
 *   - count < cap implies no claimable waiter in sendq (a receiver that frees
 *     a slot moves the first waiting sender's value into it, keeping FIFO).
 *   - A queued waiter whose sel is already claimed (its select completed on
 *     another case) is stale: whoever meets it first drops it from the queue.
 *   - Once closed is set, no waiter is added to either queue; close empties
 *     both and completes each live waiter with CSP_ECLOSED.
 *   - A waker completes a waiter entirely (copy, chosen, err) under c->mu and
 *     unparks it only after unlocking, so a woken owner finds its result ready
 *     and no lock is held across a wake-up.
 *
 * References: the creator holds one; every blocked operation holds one while
 * it is queued (taken in select.c), so releasing a channel others wait on is
 * not a use-after-free.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* The channel lock is held for a few dozen instructions, and producers and
 * consumers meet on it all the time: an adaptive mutex spins briefly before
 * sleeping instead of making a futex call on every collision. */
static int chan_mutex_init(pthread_mutex_t *mu)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    int rc = pthread_mutex_init(mu, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc;
}

csp_chan *csp_chan_make(size_t elem_size, size_t cap)
{
    if (elem_size > 0 && cap > (SIZE_MAX - sizeof(csp_chan)) / elem_size) {
        errno = EINVAL;
        return NULL;
    }
    size_t ring = elem_size * cap;
    csp_chan *c = calloc(1, sizeof(*c) + ring);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    if (chan_mutex_init(&c->mu) != 0) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->elem_size = elem_size;
    c->cap = cap;
    c->buf = ring ? (unsigned char *)(c + 1) : NULL;
    atomic_init(&c->refs, 1);
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
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ------------------------------------------------------------------------
 * Wait queues (c->mu held)
 * ------------------------------------------------------------------------ */

void csp__waitq_push(csp__waitq *q, csp__waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    atomic_store_explicit(&w->queued, true, memory_order_relaxed);
}

/* Unlinks w. Does not clear queued: see waitq_pop_claimed and select.c. */
void csp__waitq_remove(csp__waitq *q, csp__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
}

/* Takes the first waiter whose sel this caller claims, dropping stale ones.
 * For a dropped waiter, the release store of queued is the last touch: its
 * owner may reclaim the waiter as soon as it reads false. */
static csp__waiter *waitq_pop_claimed(csp__waitq *q)
{
    csp__waiter *w;
    while ((w = q->head) != NULL) {
        csp__waitq_remove(q, w);
        bool mine = csp__sel_claim(w->sel);
        atomic_store_explicit(&w->queued, false, memory_order_release);
        if (mine)
            return w;
    }
    return NULL;
}

static void complete(csp__waiter *w, int err)
{
    w->sel->chosen = w->index;
    w->sel->err = err;
}

/* ------------------------------------------------------------------------
 * One case on a locked channel: shared by plain operations and select.
 * ------------------------------------------------------------------------ */

static inline void copy_elem(const csp_chan *c, void *dst, const void *src)
{
    if (!dst)
        return;
    switch (c->elem_size) { /* constant sizes compile to a move, not a call, under the lock */
    case 0: break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, c->elem_size); break;
    }
}

static inline unsigned char *slot(csp_chan *c, size_t i)
{
    return c->buf ? c->buf + i * c->elem_size : NULL; /* no ring for zero-size values */
}

/* A receive from a closed channel: the zero value (dst may be NULL). */
static void zero_elem(const csp_chan *c, void *dst)
{
    if (dst && c->elem_size)
        memset(dst, 0, c->elem_size);
}

static inline size_t ring_next(const csp_chan *c, size_t i)
{
    return ++i == c->cap ? 0 : i;
}

bool csp__chan_try_send(csp_chan *c, const void *elem, int *err, csp__sel **wake)
{
    *wake = NULL;
    if (c->closed) {
        *err = CSP_ECLOSED;
        return true;
    }
    csp__waiter *r = waitq_pop_claimed(&c->recvq);
    if (r) { /* direct handoff into the receiver's destination */
        copy_elem(c, r->elem, elem);
        complete(r, 0);
        *wake = r->sel;
        *err = 0;
        return true;
    }
    if (c->count < c->cap) {
        copy_elem(c, slot(c, c->sendx), elem);
        c->sendx = ring_next(c, c->sendx);
        __atomic_store_n(&c->count, c->count + 1, __ATOMIC_RELAXED);
        *err = 0;
        return true;
    }
    return false;
}

bool csp__chan_try_recv(csp_chan *c, void *out, int *err, csp__sel **wake)
{
    *wake = NULL;
    if (c->count > 0) {
        copy_elem(c, out, slot(c, c->recvx));
        csp__waiter *s = waitq_pop_claimed(&c->sendq);
        if (s) { /* the ring was full: the first waiting sender takes the freed slot */
            copy_elem(c, slot(c, c->recvx), s->elem);
            c->sendx = ring_next(c, c->sendx);
            complete(s, 0);
            *wake = s->sel;
        } else {
            __atomic_store_n(&c->count, c->count - 1, __ATOMIC_RELAXED);
        }
        c->recvx = ring_next(c, c->recvx);
        *err = 0;
        return true;
    }
    csp__waiter *s = waitq_pop_claimed(&c->sendq);
    if (s) { /* unbuffered: take the value straight from the sender */
        copy_elem(c, out, s->elem);
        complete(s, 0);
        *wake = s->sel;
        *err = 0;
        return true;
    }
    if (c->closed) {
        zero_elem(c, out);
        *err = CSP_ECLOSED;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Public operations
 * ------------------------------------------------------------------------ */

/* A plain operation: the one-case select. */
static int chan_op(csp_chan *c, csp_case k, bool nonblock)
{
    if (!c)
        return CSP_EINVAL;
    int r = csp__select(&k, 1, nonblock, -1);
    return r < 0 ? r : k.err;
}

int csp_chan_send(csp_chan *c, const void *elem)
{
    return chan_op(c, csp__case_send(c, elem), false);
}

int csp_chan_recv(csp_chan *c, void *out)
{
    return chan_op(c, csp__case_recv(c, out), false);
}

int csp_chan_trysend(csp_chan *c, const void *elem)
{
    return chan_op(c, csp__case_send(c, elem), true);
}

int csp_chan_tryrecv(csp_chan *c, void *out)
{
    return chan_op(c, csp__case_recv(c, out), true);
}

/* Completes every live waiter of q with CSP_ECLOSED, chaining them on *list
 * to be woken after the unlock. Receivers get a zero-filled destination. */
static void close_queue(csp_chan *c, csp__waitq *q, bool zero_fill, csp__waiter **list)
{
    csp__waiter *w;
    while ((w = waitq_pop_claimed(q)) != NULL) {
        if (zero_fill)
            zero_elem(c, w->elem);
        complete(w, CSP_ECLOSED);
        w->wake_next = *list;
        *list = w;
    }
}

int csp_chan_close(csp_chan *c)
{
    if (!c) {
        csp__strict("close of nil channel");
        return CSP_EINVAL;
    }
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        csp__strict("close of closed channel");
        return CSP_ECLOSED;
    }
    __atomic_store_n(&c->closed, true, __ATOMIC_RELAXED);
    csp__waiter *list = NULL;
    close_queue(c, &c->recvq, true, &list);
    close_queue(c, &c->sendq, false, &list);
    pthread_mutex_unlock(&c->mu);
    /* Each listed owner is blocked until its own wake: read the link first. */
    while (list) {
        csp__waiter *w = list;
        list = w->wake_next;
        csp__wake(w->sel);
    }
    return 0;
}

size_t csp_chan_len(csp_chan *c)
{
    if (!c)
        return 0;
    return __atomic_load_n(&c->count, __ATOMIC_RELAXED); /* stored atomically under mu */
}

size_t csp_chan_cap(csp_chan *c)
{
    return c ? c->cap : 0;
}

size_t csp_chan_elem_size(csp_chan *c)
{
    return c ? c->elem_size : 0;
}
