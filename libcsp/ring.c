/*
 * ring.c - a buffered channel's ring: a bounded lock-free queue (after
 * Vyukov's bounded MPMC queue) whose index words also carry the channel's
 * closed bit and whether waiters are queued.
 *
 * The index words: head = next receive position << 3 | flags, tail = next
 * send position << 3 | flags. Flags:
 *   QUEUED in head   receivers are queued on the channel (recvq non-empty)
 *   QUEUED in tail   senders are queued (sendq non-empty)
 *   CLOSED in tail   the channel is closed
 *   OTHER            zero-size values only: QUEUED of the other word, so
 *                    that a lock-free operation sees the other side's queue
 *                    in the word it takes its position in (see push_token)
 * The QUEUED flags are copied in the word queued (RECVQ, SENDQ bits), on a
 * line of its own that changes only when a queue empties or fills: each side
 * reads the other's flag there, not in the other's index word, which changes
 * with every operation.
 * Positions count up forever (64 bits do not wrap in practice); position pos
 * uses slot pos % cap. Each slot's seq tells whose turn it is:
 *   seq == 2 pos       the slot is free for the send at position pos
 *   seq == 2 pos + 1   it holds that send's value, for the receive at pos
 * (Vyukov's pos and pos + 1 would make "full" and "free" the same for a
 * capacity of 1.) A send takes position tail by compare-and-swap, copies its
 * value in and publishes it by storing seq = 2 pos + 1 (release). A receive
 * takes position head the same way, copies the value out and frees the slot
 * for the send one lap later, seq = 2 (pos + cap) (release). The acquire
 * loads of seq order each value's bytes between the two threads.
 *
 * Invariants:
 *   - head pos <= tail pos <= head pos + cap.
 *   - QUEUED and its copy change only under the channel lock, with their
 *     queue, the copy first when set and last when cleared. While QUEUED is
 *     set, only lock holders take positions on that side: a lock-free receive
 *     cannot take a value owed to a queued receiver, nor a lock-free send the
 *     room owed to a queued sender, because the flag is in the very word
 *     their compare-and-swap expects without it.
 *   - Once CLOSED is set no push succeeds: close and every push meet on the
 *     same word, so a value is either sent before the close or refused.
 *   - A slot between taking its position and storing seq is "in flight": the
 *     other side waits for it rather than report the ring empty or full,
 *     because its position counts as taken. The wait is a few instructions,
 *     unless the owner is preempted: then it yields the CPU.
 *
 * A channel of zero-size values has no slots: its positions are its values
 * (push_token, pop_token).
 *
 * Every operation on head and tail is sequentially consistent: chan.c pairs
 * them with the queues (the handshake, see there).
 */
#include "internal.h"

#include <sched.h>
#include <string.h>

enum { CLOSED = 1, QUEUED = 2, OTHER = 4, POS_SHIFT = 3, POS_ONE = 1 << POS_SHIFT, YIELD_AFTER = 64 };

static inline csp__slot *slot_at(csp_chan *c, uint64_t pos)
{
    return (csp__slot *)(c->buf + (size_t)(pos % c->cap) * c->slot_size);
}

static inline unsigned char *slot_value(csp__slot *s)
{
    return (unsigned char *)(s + 1);
}

/* Waiting for another thread's half-done operation on a slot. */
static void wait_in_flight(int *spins)
{
    if (++*spins >= YIELD_AFTER)
        sched_yield();
    else
        csp__cpu_relax();
}

void csp__ring_init(csp_chan *c)
{
    for (size_t i = 0; c->buf && i < c->cap; i++)
        atomic_init(&slot_at(c, i)->seq, 2 * (uint64_t)i);
    atomic_init(&c->head, 0);
    atomic_init(&c->tail, 0);
}

/* The handshake (chan.c): right after taking a position, before the value or
 * the room can be seen, a lock-free operation looks for waiters queued on the
 * other side; if there are, it retains c, so that nobody can take the last
 * reference on the strength of what it is about to publish. */
static bool other_side_queued(csp_chan *c, unsigned other, bool locked)
{
    if (locked || !(atomic_load(&c->queued) & other))
        return false;
    csp_chan_retain(c);
    return true;
}

/* Zero-size values: nothing to copy, so a position taken is a value sent or
 * received at once, and the index words alone make the ring. There is thus
 * no moment between taking the position and publishing it in which to look
 * at the other side's queue (and retain the channel, see other_side_queued):
 * once the position is taken, the receiver may have released the channel.
 * So the other side's QUEUED is kept in this side's word too (OTHER), and a
 * lock-free operation fails its compare-and-swap, and takes the locked path,
 * whenever anyone is queued. */
static enum csp__ring_result push_token(csp_chan *c, bool locked)
{
    for (;;) {
        uint64_t h = atomic_load(&c->head) >> POS_SHIFT;
        uint64_t t = atomic_load(&c->tail);
        if (t & CLOSED)
            return CSP__RING_CLOSED;
        if ((t & (QUEUED | OTHER)) && !locked)
            return CSP__RING_WOULDBLOCK;
        if ((t >> POS_SHIFT) - h < c->cap) {
            if (atomic_compare_exchange_strong(&c->tail, &t, t + POS_ONE))
                return CSP__RING_OK;
        } else if (atomic_load(&c->head) >> POS_SHIFT == h) {
            return CSP__RING_WOULDBLOCK; /* full while head stood at h */
        }
    }
}

static enum csp__ring_result pop_token(csp_chan *c, bool locked)
{
    for (;;) {
        uint64_t h = atomic_load(&c->head);
        if ((h & (QUEUED | OTHER)) && !locked)
            return CSP__RING_WOULDBLOCK;
        uint64_t t = atomic_load(&c->tail);
        if (t >> POS_SHIFT == h >> POS_SHIFT)
            return (t & CLOSED) ? CSP__RING_CLOSED : CSP__RING_WOULDBLOCK;
        if (atomic_compare_exchange_strong(&c->head, &h, h + POS_ONE))
            return CSP__RING_OK;
    }
}

enum csp__ring_result csp__ring_push(csp_chan *c, const void *elem, bool locked)
{
    /* Without the lock, a send waits its turn behind queued senders, and
     * leaves queued receivers to the locked path, which hands them the value
     * directly (the flag is checked again after taking the position). */
    if (!locked && (atomic_load_explicit(&c->queued, memory_order_relaxed) & CSP__RECVQ))
        return CSP__RING_WOULDBLOCK;
    if (!c->buf)
        return push_token(c, locked);
    uint64_t t = atomic_load(&c->tail);
    for (int spins = 0;;) {
        if (t & CLOSED)
            return CSP__RING_CLOSED;
        if ((t & QUEUED) && !locked)
            return CSP__RING_WOULDBLOCK;
        uint64_t pos = t >> POS_SHIFT;
        csp__slot *s = slot_at(c, pos);
        int64_t turn = (int64_t)(atomic_load_explicit(&s->seq, memory_order_acquire) - 2 * pos);
        if (turn == 0) {
            if (atomic_compare_exchange_weak(&c->tail, &t, t + POS_ONE)) {
                bool pump = other_side_queued(c, CSP__RECVQ, locked);
                csp__copy_value(c, slot_value(s), elem);
                atomic_store_explicit(&s->seq, 2 * pos + 1, memory_order_release);
                return pump ? CSP__RING_OK_PUMP : CSP__RING_OK;
            }
            continue; /* t reloaded by the failed exchange */
        }
        if (turn < 0) {
            /* The slot still holds the value from one lap ago: full, unless
             * its receive has taken its position and is copying it out. */
            if ((atomic_load(&c->head) >> POS_SHIFT) + c->cap == pos)
                return CSP__RING_WOULDBLOCK;
            wait_in_flight(&spins);
        }
        t = atomic_load(&c->tail);
    }
}

enum csp__ring_result csp__ring_pop(csp_chan *c, void *out, bool locked)
{
    if (!c->buf)
        return pop_token(c, locked);
    uint64_t h = atomic_load(&c->head);
    for (int spins = 0;;) {
        if ((h & QUEUED) && !locked)
            return CSP__RING_WOULDBLOCK; /* the values are owed to queued receivers */
        uint64_t pos = h >> POS_SHIFT;
        csp__slot *s = slot_at(c, pos);
        int64_t turn = (int64_t)(atomic_load_explicit(&s->seq, memory_order_acquire) - (2 * pos + 1));
        if (turn == 0) {
            if (atomic_compare_exchange_weak(&c->head, &h, h + POS_ONE)) {
                bool pump = other_side_queued(c, CSP__SENDQ, locked);
                csp__copy_value(c, out, slot_value(s));
                atomic_store_explicit(&s->seq, 2 * (pos + c->cap), memory_order_release);
                return pump ? CSP__RING_OK_PUMP : CSP__RING_OK;
            }
            continue; /* h reloaded by the failed exchange */
        }
        if (turn < 0) {
            /* No value yet: empty, unless its send has taken the position
             * and is copying it in. */
            uint64_t t = atomic_load(&c->tail);
            if (t >> POS_SHIFT == pos)
                return (t & CLOSED) ? CSP__RING_CLOSED : CSP__RING_WOULDBLOCK;
            wait_in_flight(&spins);
        }
        h = atomic_load(&c->head);
    }
}

void csp__ring_close(csp_chan *c)
{
    atomic_fetch_or(&c->tail, CLOSED);
}

void csp__ring_set_queued(csp_chan *c, bool senders, bool queued)
{
    _Atomic uint64_t *word = senders ? &c->tail : &c->head;
    _Atomic uint64_t *other = senders ? &c->head : &c->tail;
    unsigned copy = senders ? CSP__SENDQ : CSP__RECVQ;
    if (queued) {
        atomic_fetch_or(&c->queued, copy);
        atomic_fetch_or(word, QUEUED);
        if (!c->buf)
            atomic_fetch_or(other, OTHER);
    } else {
        if (!c->buf)
            atomic_fetch_and(other, ~(uint64_t)OTHER);
        atomic_fetch_and(word, ~(uint64_t)QUEUED);
        atomic_fetch_and(&c->queued, ~copy);
    }
}

bool csp__ring_has_room(csp_chan *c)
{
    uint64_t h = atomic_load(&c->head) >> POS_SHIFT;
    return (atomic_load(&c->tail) >> POS_SHIFT) - h < c->cap;
}

bool csp__ring_has_values(csp_chan *c)
{
    uint64_t h = atomic_load(&c->head) >> POS_SHIFT;
    return (atomic_load(&c->tail) >> POS_SHIFT) != h;
}

/* A count the ring really had: tail, head, then tail again, until tail stood
 * still around the read of head. Under a storm of sends that never lets it,
 * a count within [0, cap] after a bounded number of tries. */
size_t csp__ring_len(csp_chan *c)
{
    uint64_t t = atomic_load(&c->tail) >> POS_SHIFT, h = 0;
    for (int tries = 0; tries < 64; tries++) {
        h = atomic_load(&c->head) >> POS_SHIFT;
        uint64_t t2 = atomic_load(&c->tail) >> POS_SHIFT;
        if (t2 == t)
            return (size_t)(t - h);
        t = t2;
    }
    uint64_t n = t > h ? t - h : 0;
    return n < c->cap ? (size_t)n : c->cap;
}
