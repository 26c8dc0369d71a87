/*
 * wg.c - wait groups: a counter and the waiters parked until it is zero.
 *
 * mu protects count and the waiters list (and those waiters' next links).
 * Invariant: waiters is non-empty only while count > 0. The add that brings
 * count to zero takes the whole list under mu and wakes each waiter after
 * unlocking; a waiter's record lives on its owner's stack until that wake.
 */
#include "internal.h"

#include <stdlib.h>

struct csp_wg {
    pthread_mutex_t mu;
    long long count;       /* mu */
    csp__waiter *waiters;  /* mu: blocked csp_wg_wait calls, linked by next */
};

csp_wg *csp_wg_new(void)
{
    csp_wg *wg = calloc(1, sizeof(*wg));
    if (!wg) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&wg->mu, NULL);
    return wg;
}

void csp_wg_free(csp_wg *wg)
{
    if (!wg)
        return;
    pthread_mutex_destroy(&wg->mu);
    free(wg);
}

int csp_wg_add(csp_wg *wg, int delta)
{
    if (!wg)
        return CSP_EINVAL;
    pthread_mutex_lock(&wg->mu);
    if (wg->count + delta < 0) {
        pthread_mutex_unlock(&wg->mu);
        csp__strict("negative WaitGroup counter");
        return CSP_EINVAL;
    }
    wg->count += delta;
    csp__waiter *list = NULL;
    if (wg->count == 0) {
        list = wg->waiters;
        wg->waiters = NULL;
    }
    pthread_mutex_unlock(&wg->mu);
    csp__wake_all(list); /* each waiter's sel has this one registration: nobody else claims it */
    return 0;
}

int csp_wg_done(csp_wg *wg)
{
    return csp_wg_add(wg, -1);
}

void csp_wg_wait(csp_wg *wg)
{
    if (!wg)
        return;
    pthread_mutex_lock(&wg->mu);
    if (wg->count == 0) {
        pthread_mutex_unlock(&wg->mu);
        return;
    }
    csp__thread *self = csp__self();
    csp__sel sel = { .chosen = 0, .parker = &self->parker };
    atomic_init(&sel.done, 0);
    csp__waiter w = { .sel = &sel, .next = wg->waiters };
    wg->waiters = &w;
    atomic_store_explicit(&self->wait, CSP__W_WG, memory_order_relaxed);
    atomic_store_explicit(&self->wait_obj, wg, memory_order_relaxed);
    csp__block_prepare(self, &sel, false);
    pthread_mutex_unlock(&wg->mu);
    csp__block(self, &sel, -1);
}
