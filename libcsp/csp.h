/*
 * csp.h - Go's goroutines, channels and select for C, on pooled pthreads.
 *
 * One header, in sections: conventions, time, goroutines, channels and their
 * directional views, select, timers, wait groups, runtime and debugging.
 * Every function that can fail returns int: 0 (or an index) on success, or a
 * negative errno value (CSP_E*). Nothing needs initialising, and any thread may
 * call any function. See csp_go(3), csp_chan(3), csp_select(3), csp_timer(3),
 * csp_wg(3) and csp_debug(3).
 */
#ifndef CSP_H
#define CSP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Versioning and visibility
 * ------------------------------------------------------------------------ */

#define CSP_VERSION_MAJOR 0
#define CSP_VERSION_MINOR 1
#define CSP_VERSION_PATCH 0

#if defined(__GNUC__)
#define CSP_EXPORT __attribute__((visibility("default")))
#else
#define CSP_EXPORT
#endif

/* ------------------------------------------------------------------------
 * Errors: negated errno values, as in libuv
 * ------------------------------------------------------------------------ */

#define CSP_ECLOSED   (-EPIPE)     /* send on / close of a closed channel; receive from a closed, drained one */
#define CSP_EAGAIN    (-EAGAIN)    /* a non-blocking operation could not proceed; no thread could be started */
#define CSP_ETIMEDOUT (-ETIMEDOUT) /* a timed operation ran out of time */
#define CSP_EINVAL    (-EINVAL)    /* bad argument */
#define CSP_ENOMEM    (-ENOMEM)    /* out of memory */

/* A short, static description of 0 and each CSP_E* code; "unknown error"
 * for anything else. */
CSP_EXPORT const char *csp_strerror(int code);

/* ------------------------------------------------------------------------
 * Time: int64_t nanoseconds on a monotonic clock
 * ------------------------------------------------------------------------ */

#define CSP_NANOSECOND  ((int64_t)1)
#define CSP_MICROSECOND ((int64_t)1000)
#define CSP_MILLISECOND ((int64_t)1000000)
#define CSP_SECOND      ((int64_t)1000000000)

CSP_EXPORT int64_t csp_now(void);         /* monotonic clock, ns */
CSP_EXPORT void    csp_sleep(int64_t ns); /* sleeps at least ns (no-op when ns <= 0) */

/* ------------------------------------------------------------------------
 * Goroutines: fn(arg) on a thread taken from a pool
 * ------------------------------------------------------------------------ */

typedef void (*csp_fn)(void *arg);

/* Schedules fn(arg) and returns at once. CSP_EAGAIN when no thread can be had
 * (CSP_MAX_THREADS reached, or the OS refused): fn then does not run.
 * CSP_EINVAL when fn is NULL. fn may end early with pthread_exit (its thread
 * leaves the pool); never pthread_cancel a goroutine's thread. */
CSP_EXPORT int csp_go(csp_fn fn, void *arg);

/* As csp_go, but fn receives a private copy of the size bytes at arg, aligned
 * for any object type and freed when fn returns. */
CSP_EXPORT int csp_go_copy(csp_fn fn, const void *arg, size_t size);

/* The same, recording the spawn site shown by csp_dump(). The macros below
 * route every csp_go / csp_go_copy call through these; (csp_go)(fn, arg)
 * calls the plain function. */
CSP_EXPORT int csp_go_at(csp_fn fn, void *arg, const char *file, int line, const char *name);
CSP_EXPORT int csp_go_copy_at(csp_fn fn, const void *arg, size_t size, const char *file, int line,
                              const char *name);

#define csp_go(fn, arg) csp_go_at((fn), (arg), __FILE__, __LINE__, #fn)
#define csp_go_copy(fn, arg, size) csp_go_copy_at((fn), (arg), (size), __FILE__, __LINE__, #fn)

/* ------------------------------------------------------------------------
 * Channels
 * ------------------------------------------------------------------------ */

typedef struct csp_chan csp_chan;

/* A channel of elem_size-byte values (0 is Go's chan struct{}), buffered for
 * cap values (0: unbuffered). Holds one reference. NULL and errno on failure. */
CSP_EXPORT csp_chan *csp_chan_make(size_t elem_size, size_t cap);
CSP_EXPORT csp_chan *csp_chan_retain(csp_chan *c);   /* one more reference; returns c */
CSP_EXPORT void      csp_chan_release(csp_chan *c);  /* frees at zero references; NULL is a no-op */

/* The operations on the channel itself. Prefer the generic macros below. */
CSP_EXPORT int    csp_chan_send(csp_chan *c, const void *elem);
CSP_EXPORT int    csp_chan_recv(csp_chan *c, void *out);
CSP_EXPORT int    csp_chan_trysend(csp_chan *c, const void *elem);
CSP_EXPORT int    csp_chan_tryrecv(csp_chan *c, void *out);
CSP_EXPORT int    csp_chan_close(csp_chan *c);
CSP_EXPORT size_t csp_chan_len(csp_chan *c);       /* values buffered now; 0 for NULL */
CSP_EXPORT size_t csp_chan_cap(csp_chan *c);       /* capacity; 0 for NULL */
CSP_EXPORT size_t csp_chan_elem_size(csp_chan *c); /* element size; 0 for NULL */

/* Directional views, Go's chan<- T and <-chan T. Using one the wrong way is a
 * compile-time error; there is no way back to the bidirectional channel. */
typedef struct csp_send_chan { csp_chan *ch_; } csp_send_chan; /* send-only    */
typedef struct csp_recv_chan { csp_chan *ch_; } csp_recv_chan; /* receive-only */

static inline csp_send_chan csp_send_only(csp_chan *c) { csp_send_chan v = { c }; return v; }
static inline csp_recv_chan csp_recv_only(csp_chan *c) { csp_recv_chan v = { c }; return v; }

/* Unwrapping helpers behind the generic macros: not for direct use. */
static inline int csp__sv_send(csp_send_chan v, const void *e) { return csp_chan_send(v.ch_, e); }
static inline int csp__sv_trysend(csp_send_chan v, const void *e) { return csp_chan_trysend(v.ch_, e); }
static inline int csp__sv_close(csp_send_chan v) { return csp_chan_close(v.ch_); }
static inline size_t csp__sv_len(csp_send_chan v) { return csp_chan_len(v.ch_); }
static inline size_t csp__sv_cap(csp_send_chan v) { return csp_chan_cap(v.ch_); }
static inline int csp__rv_recv(csp_recv_chan v, void *o) { return csp_chan_recv(v.ch_, o); }
static inline int csp__rv_tryrecv(csp_recv_chan v, void *o) { return csp_chan_tryrecv(v.ch_, o); }
static inline size_t csp__rv_len(csp_recv_chan v) { return csp_chan_len(v.ch_); }
static inline size_t csp__rv_cap(csp_recv_chan v) { return csp_chan_cap(v.ch_); }

/* Generic operations. CH is a csp_chan * (a literal NULL too, which gives
 * CSP_EINVAL) or the view that allows the operation; any other is rejected by
 * the compiler. */
#define csp_send(ch, elem) \
    _Generic((ch), csp_chan *: csp_chan_send, void *: csp_chan_send, \
             csp_send_chan: csp__sv_send)((ch), (elem))
#define csp_trysend(ch, elem) \
    _Generic((ch), csp_chan *: csp_chan_trysend, void *: csp_chan_trysend, \
             csp_send_chan: csp__sv_trysend)((ch), (elem))
#define csp_recv(ch, out) \
    _Generic((ch), csp_chan *: csp_chan_recv, void *: csp_chan_recv, \
             csp_recv_chan: csp__rv_recv)((ch), (out))
#define csp_tryrecv(ch, out) \
    _Generic((ch), csp_chan *: csp_chan_tryrecv, void *: csp_chan_tryrecv, \
             csp_recv_chan: csp__rv_tryrecv)((ch), (out))
#define csp_close(ch) \
    _Generic((ch), csp_chan *: csp_chan_close, void *: csp_chan_close, \
             csp_send_chan: csp__sv_close)(ch)
#define csp_len(ch) \
    _Generic((ch), csp_chan *: csp_chan_len, void *: csp_chan_len, \
             csp_send_chan: csp__sv_len, csp_recv_chan: csp__rv_len)(ch)
#define csp_cap(ch) \
    _Generic((ch), csp_chan *: csp_chan_cap, void *: csp_chan_cap, \
             csp_send_chan: csp__sv_cap, csp_recv_chan: csp__rv_cap)(ch)

/* ------------------------------------------------------------------------
 * Select
 * ------------------------------------------------------------------------ */

enum { CSP_OP_SEND = 1, CSP_OP_RECV = 2 };

typedef struct csp_case {
    csp_chan *ch; /* NULL: this case is never chosen (Go's nil channel) */
    int       op; /* CSP_OP_SEND or CSP_OP_RECV */
    void     *val; /* send: value to send; recv: where to store (may be NULL) */
    int       err; /* out, for the chosen case: 0, or CSP_ECLOSED */
} csp_case;

static inline csp_case csp__case_send(csp_chan *c, const void *e)
{
    csp_case k = { c, CSP_OP_SEND, (void *)(uintptr_t)e, 0 };
    return k;
}
static inline csp_case csp__case_recv(csp_chan *c, void *o)
{
    csp_case k = { c, CSP_OP_RECV, o, 0 };
    return k;
}
static inline csp_case csp__sv_case_send(csp_send_chan v, const void *e) { return csp__case_send(v.ch_, e); }
static inline csp_case csp__rv_case_recv(csp_recv_chan v, void *o) { return csp__case_recv(v.ch_, o); }

/* Case builders, generic over csp_chan * and the matching view. */
#define csp_case_send(ch, elem) \
    _Generic((ch), csp_chan *: csp__case_send, void *: csp__case_send, \
             csp_send_chan: csp__sv_case_send)((ch), (elem))
#define csp_case_recv(ch, out) \
    _Generic((ch), csp_chan *: csp__case_recv, void *: csp__case_recv, \
             csp_recv_chan: csp__rv_case_recv)((ch), (out))

/* Waits until one case can proceed, performs only that one and returns its
 * index; a ready case is chosen uniformly at random. csp_select_try returns
 * CSP_EAGAIN when none is ready now (Go's default:), csp_select_timeout
 * CSP_ETIMEDOUT when none became ready within ns. CSP_EINVAL for a bad op, a
 * send case whose val is NULL (unless its values are zero-size), or
 * cases == NULL with n > 0. */
CSP_EXPORT int csp_select(csp_case *cases, size_t n);
CSP_EXPORT int csp_select_try(csp_case *cases, size_t n);
CSP_EXPORT int csp_select_timeout(csp_case *cases, size_t n, int64_t ns);

/* ------------------------------------------------------------------------
 * Timers: one timer thread for all of them
 * ------------------------------------------------------------------------ */

/* A channel that receives one int64_t (csp_now() at firing) once ns have
 * passed; never early. Release it when done. NULL and errno on failure. */
CSP_EXPORT csp_chan *csp_after(int64_t ns);

typedef struct csp_ticker csp_ticker;
/* A ticker sending csp_now() every period_ns (> 0) on a channel of capacity 1,
 * so a slow receiver misses ticks, as in Go. NULL and errno on failure. */
CSP_EXPORT csp_ticker *csp_ticker_new(int64_t period_ns);
CSP_EXPORT csp_chan   *csp_ticker_chan(csp_ticker *t); /* valid until csp_ticker_stop */
CSP_EXPORT void        csp_ticker_stop(csp_ticker *t); /* stops and frees; the channel is not closed */

/* ------------------------------------------------------------------------
 * Wait groups
 * ------------------------------------------------------------------------ */

typedef struct csp_wg csp_wg;
CSP_EXPORT csp_wg *csp_wg_new(void);                 /* NULL and errno on failure */
CSP_EXPORT int     csp_wg_add(csp_wg *wg, int delta); /* CSP_EINVAL if the counter would go negative */
CSP_EXPORT int     csp_wg_done(csp_wg *wg);           /* csp_wg_add(wg, -1) */
CSP_EXPORT void    csp_wg_wait(csp_wg *wg);           /* until the counter is zero */
CSP_EXPORT void    csp_wg_free(csp_wg *wg);

/* ------------------------------------------------------------------------
 * Runtime, configuration, debugging
 * ------------------------------------------------------------------------ */

typedef struct csp_stats {
    size_t   threads;      /* OS threads the pool holds now */
    size_t   threads_peak; /* most the pool has held at once */
    size_t   threads_idle; /* of those, idle and reusable */
    size_t   goroutines;   /* running or blocked */
    size_t   blocked;      /* of those, blocked in a channel op, select or wait group */
    size_t   timers;       /* pending timers */
    uint64_t spawned;      /* goroutines started since start */
} csp_stats;

CSP_EXPORT void csp_stats_get(csp_stats *out);
/* Every live goroutine: id, spawn site, state, what it waits on. */
CSP_EXPORT void csp_dump(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* CSP_H */
