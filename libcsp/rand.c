/*
 * rand.c - a per-thread xorshift generator for select's random poll order.
 * Not for anything else: it is fast, not strong.
 */
#include "internal.h"

static _Atomic uint64_t rng_seed_counter;

uint32_t csp__randn(csp__thread *self, uint32_t n)
{
    uint64_t x = self->rng;
    if (x == 0) { /* first use on this thread: seed from time, address and a counter */
        x = (uint64_t)csp__mono_ns() ^ (uint64_t)(uintptr_t)self ^
            (atomic_fetch_add_explicit(&rng_seed_counter, 1, memory_order_relaxed) * 0x9E3779B97F4A7C15ULL);
        if (x == 0)
            x = 0x2545F4914F6CDD1DULL;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->rng = x;
    uint32_t r = (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
    return (uint32_t)(((uint64_t)r * n) >> 32); /* Lemire's multiply-shift range reduction */
}
