/*
 * clock.c - the monotonic clock and sleeping.
 */
#include "internal.h"

#include <time.h>

int64_t csp__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

int64_t csp_now(void)
{
    return csp__mono_ns();
}

void csp_sleep(int64_t ns)
{
    if (ns <= 0)
        return;
    int64_t deadline = csp__deadline_in(ns);
    struct timespec ts = { .tv_sec = deadline / CSP_SECOND, .tv_nsec = deadline % CSP_SECOND };
    csp__thread *self = csp__self_or_null(); /* only goroutines and known threads show as sleeping */
    if (self)
        atomic_store_explicit(&self->state, CSP__ST_SLEEPING, memory_order_relaxed);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
        /* EINTR: a signal handler ran; the deadline stands. */
    }
    if (self)
        atomic_store_explicit(&self->state, CSP__ST_RUNNING, memory_order_relaxed);
}
