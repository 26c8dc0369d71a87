/*
 * rand.c - a per-thread xorshift generator for select's random poll order.
 * Not for anything else: it is fast, not strong.
 *
 * A thread without a record (a foreign thread that never blocked) draws from
 * one shared splitmix64 sequence instead, so that a select that does not
 * block allocates nothing.
 */
#include "internal.h"

static _Atomic uint64_t rng_seed_counter;

static uint32_t reduce(uint64_t x, uint32_t n)
{
    uint32_t r = (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
    return (uint32_t)(((uint64_t)r * n) >> 32); /* Lemire's multiply-shift range reduction */
}

static uint32_t shared_randn(uint32_t n)
{
    uint64_t x = atomic_fetch_add_explicit(&rng_seed_counter, 0x9E3779B97F4A7C15ULL, memory_order_relaxed);
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return reduce(x, n);
}

uint32_t csp__randn(csp__thread *self, uint32_t n)
{
    if (!self)
        return shared_randn(n);
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
    return reduce(x, n);
}
