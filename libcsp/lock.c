/*
 * lock.c - the channel lock: a futex word, as Go's runtime lock.
 *
 * Two threads handing values to each other over an unbuffered channel move
 * the channel's cache lines between their CPUs on every operation, and that
 * transfer is the cost of a hand-off. This lock is one 4-byte word, so the
 * lock, the queues, the flags and the reference count all fit on one cache
 * line (struct csp_chan), where glibc's 40-byte mutex pushed them onto a
 * second. Waiters spin on plain loads and write the word only when they have
 * seen it free, and sleep in the kernel only after a few rounds and a yield.
 *
 * The word (key):
 *   UNLOCKED -> LOCKED    an acquirer that has never slept, by CAS
 *   UNLOCKED -> SLEEPING  an acquirer that has slept, by CAS or exchange:
 *                         sleepers may remain, so its release must wake one
 *   any -> SLEEPING       an acquirer about to sleep, by exchange
 *   any -> UNLOCKED       the holder's release; if it read SLEEPING, it wakes
 *                         one sleeper, which contends again
 *
 * Invariant: while any thread sleeps in futex_wait on the word, the word is
 * SLEEPING or a release that will wake a sleeper is under way. Acquire and
 * release are an acquire CAS/exchange and a release exchange on the word, so
 * the happens-before edge is visible to ThreadSanitizer without annotations.
 */
#include "internal.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
    SPIN_ROUNDS = 4,  /* active spin rounds before yielding, as Go's runtime */
    SPIN_PAUSES = 30, /* pauses per round */
};

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
    (void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void csp__lock_wake(csp__lock *l)
{
    (void)syscall(SYS_futex, &l->key, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static bool try_take(csp__lock *l, uint32_t want)
{
    uint32_t free_word = CSP__LOCK_UNLOCKED;
    return atomic_load_explicit(&l->key, memory_order_relaxed) == CSP__LOCK_UNLOCKED &&
           atomic_compare_exchange_weak_explicit(&l->key, &free_word, want, memory_order_acquire,
                                                 memory_order_relaxed);
}

void csp__lock_slow(csp__lock *l)
{
    uint32_t want = CSP__LOCK_LOCKED;
    for (;;) {
        for (int round = 0; round < SPIN_ROUNDS; round++) {
            for (int i = 0; i < SPIN_PAUSES; i++) {
                if (try_take(l, want))
                    return;
                csp__cpu_relax();
            }
        }
        sched_yield(); /* the holder may be preempted: let it run */
        if (try_take(l, want))
            return;
        if (atomic_exchange_explicit(&l->key, CSP__LOCK_SLEEPING, memory_order_acquire) ==
            CSP__LOCK_UNLOCKED)
            return;
        want = CSP__LOCK_SLEEPING;
        futex_wait(&l->key, CSP__LOCK_SLEEPING);
    }
}
