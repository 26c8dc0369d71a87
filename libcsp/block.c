/*
 * block.c - parking a blocked operation and waking it.
 *
 * Besides the parker, this keeps the thread's record (state, for csp_dump
 * and csp_stats_get) and, under CSP_DEBUG=deadlock, the running count: a
 * blocked-forever wait is counted out by its owner and counted back in by
 * the waker that claims it, before the unpark, so the count never drops to
 * zero while a wake-up is in flight (see runtime.c).
 */
#include "internal.h"

void csp__block_prepare(csp__thread *self, csp__sel *s, bool timed)
{
    atomic_store_explicit(&self->state, CSP__ST_BLOCKED, memory_order_relaxed);
    s->counted = !timed && csp__cfg()->dbg_deadlock && (self->is_goroutine || self->is_main);
}

static void unblocked(csp__thread *self)
{
    atomic_store_explicit(&self->wait, CSP__W_NONE, memory_order_relaxed);
    atomic_store_explicit(&self->state, CSP__ST_RUNNING, memory_order_relaxed);
}

bool csp__block(csp__thread *self, csp__sel *s, int64_t deadline)
{
    if (s->counted)
        csp__dl_running_add(-1);
    bool woken = true;
    if (deadline < 0) {
        csp__park(&self->parker);
    } else if (!csp__park_until(&self->parker, deadline)) {
        /* Timed out: claim our own sel, unless a waker already has; then its
         * unpark is on its way and must be consumed. */
        if (csp__sel_claim(s))
            woken = false;
        else
            csp__park(&self->parker);
    }
    unblocked(self);
    return woken;
}

void csp__wake(csp__sel *s)
{
    csp__parker *p = s->parker;
    if (s->counted)
        csp__dl_running_add(1);
    csp__unpark(p); /* s may be gone from here on */
}
