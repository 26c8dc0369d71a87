/*
 * timer.c - csp_after and tickers, on one timer thread.
 *
 * A min-heap of deadlines, ordered by `when`, served by a single thread that
 * is started on the first timer and sleeps on a CLOCK_MONOTONIC condition
 * variable until the earliest deadline. Firing is a non-blocking send into
 * the timer's capacity-1 channel, so a slow or absent receiver never stalls
 * the thread (a ticker then simply misses ticks, as in Go).
 *
 * tm_mu protects: heap, heap_len, heap_cap, thread_started, and the `when`
 * and heap_i fields of every timer in the heap. Lock order: tm_mu before any
 * channel lock (the send happens under tm_mu, so csp_ticker_stop cannot free
 * a ticker while it fires). n_pending mirrors heap_len for lock-free readers
 * (stats, the deadlock check); it drops only after a fired value was sent,
 * and every drop runs the deadlock check, which may have been waiting for it.
 */
#include "internal.h"

#include <stdlib.h>
#include <time.h>

typedef struct timer {
    int64_t when;   /* deadline, csp_now() ns (tm_mu) */
    int64_t period; /* 0 for a one-shot timer; set before the timer is queued, then fixed */
    csp_chan *ch;   /* capacity-1 channel of int64_t, the timer holding a reference; fixed */
    size_t heap_i;  /* position in the heap (tm_mu) */
} timer;

struct csp_ticker {
    timer t;
};

static pthread_mutex_t tm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tm_cv;
static timer **heap;             /* tm_mu */
static size_t heap_len, heap_cap; /* tm_mu */
static bool thread_started;      /* tm_mu */
static _Atomic size_t n_pending;

size_t csp__timers_pending(void)
{
    return atomic_load_explicit(&n_pending, memory_order_acquire);
}

/* ------------------------------------------------------------------------
 * The heap (tm_mu held)
 * ------------------------------------------------------------------------ */

static void heap_set(size_t i, timer *t)
{
    heap[i] = t;
    t->heap_i = i;
}

static void sift_up(size_t i)
{
    timer *t = heap[i];
    while (i > 0 && heap[(i - 1) / 2]->when > t->when) {
        heap_set(i, heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(i, t);
}

static void sift_down(size_t i)
{
    timer *t = heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_len)
            break;
        if (c + 1 < heap_len && heap[c + 1]->when < heap[c]->when)
            c++;
        if (heap[c]->when >= t->when)
            break;
        heap_set(i, heap[c]);
        i = c;
    }
    heap_set(i, t);
}

static int heap_push(timer *t)
{
    if (heap_len == heap_cap) {
        size_t cap = heap_cap ? 2 * heap_cap : 64;
        timer **h = realloc(heap, cap * sizeof(*h));
        if (!h)
            return CSP_ENOMEM;
        heap = h;
        heap_cap = cap;
    }
    heap_set(heap_len++, t);
    sift_up(t->heap_i);
    return 0;
}

static void heap_remove(timer *t)
{
    size_t i = t->heap_i;
    timer *last = heap[--heap_len];
    if (i == heap_len)
        return;
    heap_set(i, last);
    sift_down(i);
    sift_up(last->heap_i);
}

/* ------------------------------------------------------------------------
 * The timer thread
 * ------------------------------------------------------------------------ */

static void wait_until(int64_t when)
{
    struct timespec ts = { .tv_sec = when / CSP_SECOND, .tv_nsec = when % CSP_SECOND };
    pthread_cond_timedwait(&tm_cv, &tm_mu, &ts);
}

static void fire(timer *t, int64_t now)
{
    csp_chan_trysend(t->ch, &now); /* full: the receiver is slow, the tick is dropped */
    if (t->period > 0) {
        /* Next tick on the period grid, skipping any already missed. */
        int64_t periods = (now - t->when) / t->period + 1;
        t->when = periods > INT64_MAX / t->period ? INT64_MAX : csp__sat_add(t->when, periods * t->period);
        sift_down(t->heap_i);
        return;
    }
    heap_remove(t);
    csp_chan_release(t->ch);
    free(t);
    atomic_fetch_sub_explicit(&n_pending, 1, memory_order_release);
    csp__dl_check(); /* the last timer fired and woke nobody: asleep for good? */
}

static void *timer_main(void *unused)
{
    pthread_mutex_lock(&tm_mu);
    for (;;) {
        if (heap_len == 0) {
            pthread_cond_wait(&tm_cv, &tm_mu);
            continue;
        }
        int64_t now = csp__mono_ns();
        if (heap[0]->when > now)
            wait_until(heap[0]->when);
        else
            fire(heap[0], now);
    }
    return NULL;
}

/* tm_mu held. */
static int start_thread(void)
{
    if (thread_started)
        return 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&tm_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, csp__cfg()->stack_size);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, timer_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_cond_destroy(&tm_cv);
        return CSP_EAGAIN;
    }
    thread_started = true;
    return 0;
}

static int timer_add(timer *t)
{
    pthread_mutex_lock(&tm_mu);
    int err = start_thread();
    if (!err)
        err = heap_push(t);
    if (!err) {
        atomic_fetch_add_explicit(&n_pending, 1, memory_order_relaxed);
        if (t->heap_i == 0)
            pthread_cond_signal(&tm_cv);
    }
    pthread_mutex_unlock(&tm_mu);
    return err;
}

/* A timer sending on a new capacity-1 channel first at now + delay. */
static int timer_init(timer *t, int64_t delay, int64_t period)
{
    t->ch = csp_chan_make(sizeof(int64_t), 1);
    if (!t->ch)
        return CSP_ENOMEM;
    t->when = csp__deadline_in(delay);
    t->period = period;
    return 0;
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

csp_chan *csp_after(int64_t ns)
{
    timer *t = malloc(sizeof(*t));
    if (!t || timer_init(t, ns, 0) != 0) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    csp_chan *ch = csp_chan_retain(t->ch); /* one reference for the caller, one for the timer */
    if (ns <= 0) { /* already due: no need for the thread */
        int64_t now = csp__mono_ns();
        csp_chan_trysend(ch, &now);
        csp_chan_release(t->ch);
        free(t);
        return ch;
    }
    int err = timer_add(t);
    if (err) {
        csp_chan_release(ch);
        csp_chan_release(t->ch);
        free(t);
        errno = -err;
        return NULL;
    }
    return ch;
}

csp_ticker *csp_ticker_new(int64_t period_ns)
{
    if (period_ns <= 0) {
        errno = EINVAL;
        return NULL;
    }
    csp_ticker *tk = malloc(sizeof(*tk));
    if (!tk || timer_init(&tk->t, period_ns, period_ns) != 0) {
        free(tk);
        errno = ENOMEM;
        return NULL;
    }
    int err = timer_add(&tk->t);
    if (err) {
        csp_chan_release(tk->t.ch);
        free(tk);
        errno = -err;
        return NULL;
    }
    return tk;
}

csp_chan *csp_ticker_chan(csp_ticker *tk)
{
    return tk ? tk->t.ch : NULL;
}

void csp_ticker_stop(csp_ticker *tk)
{
    if (!tk)
        return;
    pthread_mutex_lock(&tm_mu);
    heap_remove(&tk->t);
    atomic_fetch_sub_explicit(&n_pending, 1, memory_order_release);
    pthread_mutex_unlock(&tm_mu);
    csp_chan_release(tk->t.ch);
    free(tk);
    csp__dl_check();
}
