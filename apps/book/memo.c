/*
 * memo - gopl.io/ch9/memo5: a concurrent non-blocking cache built around a
 * monitor goroutine. The server goroutine owns the cache; Get sends it a
 * request and waits for the result on a channel of its own. The first
 * request for a key starts a goroutine that calls the function; every
 * request (the first included) starts a goroutine that waits for the
 * entry's ready channel to be closed (a broadcast) and then delivers the
 * result. So the function runs once per key however many goroutines ask for
 * it at once (duplicate suppression), and a slow key does not hold up
 * others.
 *
 * usage: memo [-m CLIENTS] [-k KEYS] [-r ROUNDS] [-d MS]
 * The driver starts CLIENTS goroutines (default 20); each asks for every one
 * of KEYS keys (default 10) ROUNDS times (default 2), in an order of its own,
 * of a slow function (it sleeps MS ms, default 5) that counts its calls. It
 * checks every value and prints the counts; then it closes the memo, which
 * stops the server goroutine.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <csp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * package memo
 * ------------------------------------------------------------------------ */

/* type result struct { value interface{}; err error } */
typedef struct result {
    void *value; /* owned by the memo: valid until memo_close */
    int err;     /* 0 or a negative error code */
} result;

/* type Func func(key string) (interface{}, error) */
typedef result (*Func)(const char *key);

/* type entry struct { res result; ready chan struct{} } */
typedef struct entry {
    result res;          /* written by call before it closes ready */
    csp_chan *ready;     /* closed when res is ready */
    char *key;           /* the cache's own copy of the key */
    struct entry *next;  /* next in the server's hash chain */
} entry;

/* type request struct { key string; response chan<- result } */
typedef struct request {
    const char *key;     /* the client's string, valid while it waits */
    csp_chan *response;  /* used as chan<- result; one reference is the deliverer's */
} request;

/* type Memo struct{ requests chan request } */
typedef struct Memo {
    csp_chan *requests;              /* chan request */
    csp_chan *done;                  /* closed by the server when it has cleaned up */
    csp_wg *pending;                 /* call and deliver goroutines still running */
    Func f;                          /* the memoized function */
    void (*free_value)(void *value); /* frees a cached value at close; may be NULL */
} Memo;

#define NBUCKETS 64

static void server(void *arg);

/* func New(f Func) *Memo: clients must subsequently call memo_close.
 * NULL and errno on failure. */
static Memo *memo_new(Func f, void (*free_value)(void *))
{
    Memo *memo = calloc(1, sizeof *memo);
    if (!memo)
        return NULL;
    memo->f = f;
    memo->free_value = free_value;
    memo->requests = csp_chan_make(sizeof(request), 0);
    memo->done = csp_chan_make(0, 0);
    memo->pending = csp_wg_new();
    if (!memo->requests || !memo->done || !memo->pending)
        goto fail;
    int err = csp_go(server, memo); /* go memo.server(f) */
    if (err < 0) {
        errno = -err;
        goto fail;
    }
    return memo;
fail:
    csp_chan_release(memo->requests);
    csp_chan_release(memo->done);
    if (memo->pending)
        csp_wg_free(memo->pending);
    free(memo);
    return NULL;
}

/* func (memo *Memo) Get(key string) (interface{}, error) */
static int memo_get(Memo *memo, const char *key, void **value)
{
    *value = NULL;
    csp_chan *response = csp_chan_make(sizeof(result), 0); /* make(chan result) */
    if (!response)
        return -errno;
    request req = { key, csp_chan_retain(response) }; /* the deliverer's reference */
    int err = csp_send(memo->requests, &req); /* memo.requests <- request{key, response} */
    if (err < 0) {
        csp_chan_release(response); /* CSP_ECLOSED: Get after Close */
        csp_chan_release(response);
        return err;
    }
    result res;
    err = csp_recv(response, &res); /* res := <-response */
    csp_chan_release(response);
    if (err < 0)
        return err;
    *value = res.value;
    return res.err;
}

/* func (memo *Memo) Close() { close(memo.requests) }
 * Here Close also waits for the server to finish the calls in flight and
 * free the cache, then frees the memo. No Get may be running or follow. */
static void memo_close(Memo *memo)
{
    csp_close(memo->requests);
    csp_recv(memo->done, NULL); /* returns when the server closes done */
    csp_chan_release(memo->requests);
    csp_chan_release(memo->done);
    csp_wg_free(memo->pending);
    free(memo);
}

struct call_args {
    entry *e;
    Func f;
    csp_wg *pending;
};

/* func (e *entry) call(f Func, key string) */
static void call(void *arg)
{
    struct call_args *a = arg;
    a->e->res = a->f(a->e->key); /* Evaluate the function. */
    csp_close(a->e->ready);      /* Broadcast the ready condition. */
    csp_wg_done(a->pending);
}

struct deliver_args {
    entry *e;
    csp_chan *response; /* chan<- result, our own reference */
    csp_wg *pending;
};

/* func (e *entry) deliver(response chan<- result) */
static void deliver(void *arg)
{
    struct deliver_args *a = arg;
    csp_recv(a->e->ready, NULL); /* Wait for the ready condition. */
    csp_send(csp_send_only(a->response), &a->e->res); /* Send the result to the client. */
    csp_chan_release(a->response);
    csp_wg_done(a->pending);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % NBUCKETS;
}

/* func (memo *Memo) server(f Func) */
static void server(void *arg)
{
    Memo *memo = arg;
    entry *cache[NBUCKETS] = { 0 }; /* cache := make(map[string]*entry) */
    request req;
    while (csp_recv(memo->requests, &req) == 0) { /* for req := range memo.requests */
        unsigned h = hash(req.key);
        entry *e = cache[h];
        while (e && strcmp(e->key, req.key) != 0)
            e = e->next;
        if (!e) {
            /* This is the first request for this key. */
            e = calloc(1, sizeof *e);
            char *key = strdup(req.key);
            csp_chan *ready = csp_chan_make(0, 0);
            if (!e || !key || !ready) {
                free(e);
                free(key);
                csp_chan_release(ready);
                result fail = { NULL, CSP_ENOMEM };
                csp_send(csp_send_only(req.response), &fail); /* the client is waiting */
                csp_chan_release(req.response);
                continue;
            }
            e->key = key;
            e->ready = ready;
            e->next = cache[h];
            cache[h] = e;
            struct call_args ca = { e, memo->f, memo->pending };
            csp_wg_add(memo->pending, 1);
            int err = csp_go_copy(call, &ca, sizeof ca); /* go e.call(f, req.key) */
            if (err < 0) {
                e->res.err = err; /* cached as the key's result, as an error of f's would be */
                csp_close(e->ready);
                csp_wg_done(memo->pending);
            }
        }
        struct deliver_args da = { e, req.response, memo->pending };
        csp_wg_add(memo->pending, 1);
        int err = csp_go_copy(deliver, &da, sizeof da); /* go e.deliver(req.response) */
        if (err < 0) {
            csp_wg_done(memo->pending);
            result fail = { NULL, err };
            csp_send(csp_send_only(req.response), &fail);
            csp_chan_release(req.response);
        }
    }
    /* Closed: wait for the calls and deliveries in flight, free the cache. */
    csp_wg_wait(memo->pending);
    for (int i = 0; i < NBUCKETS; i++) {
        for (entry *e = cache[i], *next; e; e = next) {
            next = e->next;
            if (memo->free_value && e->res.value)
                memo->free_value(e->res.value);
            csp_chan_release(e->ready);
            free(e->key);
            free(e);
        }
    }
    csp_close(memo->done); /* last: memo_close frees memo after this */
}

/* ------------------------------------------------------------------------
 * The driver: a slow function that counts its calls, and concurrent clients
 * ------------------------------------------------------------------------ */

#define MAXKEYS 1000

static int64_t delay_ns = 5 * CSP_MILLISECOND;
static atomic_long calls;               /* calls of slow, in all */
static atomic_int key_calls[MAXKEYS];   /* calls of slow, per key */

/* slow returns "value-N" for the key "key-N", after a delay. */
static result slow(const char *key)
{
    result res = { NULL, 0 };
    atomic_fetch_add(&calls, 1);
    int k = atoi(key + 4);
    if (k >= 0 && k < MAXKEYS)
        atomic_fetch_add(&key_calls[k], 1);
    csp_sleep(delay_ns);
    char *v = malloc(32);
    if (!v) {
        res.err = CSP_ENOMEM;
        return res;
    }
    snprintf(v, 32, "value-%d", k);
    res.value = v;
    return res;
}

struct client_args {
    Memo *memo;
    int id, keys, rounds;
    atomic_long *bad; /* wrong values or errors seen */
    csp_wg *wg;
};

static void client(void *arg)
{
    struct client_args *a = arg;
    for (int r = 0; r < a->rounds; r++) {
        for (int j = 0; j < a->keys; j++) {
            int k = (j + a->id) % a->keys; /* each client its own order */
            char key[32], want[32];
            snprintf(key, sizeof key, "key-%d", k);
            snprintf(want, sizeof want, "value-%d", k);
            void *value;
            int err = memo_get(a->memo, key, &value);
            if (err < 0 || !value || strcmp(value, want) != 0) {
                fprintf(stderr, "memo: %s: got %s (%s)\n", key, value ? (char *)value : "nothing",
                        csp_strerror(err));
                atomic_fetch_add(a->bad, 1);
            }
        }
    }
    csp_wg_done(a->wg);
}

static void usage(void)
{
    fprintf(stderr, "usage: memo [-m CLIENTS] [-k KEYS] [-r ROUNDS] [-d MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long clients = 20, keys = 10, rounds = 2, ms = 5;
    for (int i = 1; i < argc; i++) {
        long *opt = strcmp(argv[i], "-m") == 0 ? &clients
                    : strcmp(argv[i], "-k") == 0 ? &keys
                    : strcmp(argv[i], "-r") == 0 ? &rounds
                    : strcmp(argv[i], "-d") == 0 ? &ms : NULL;
        char *end;
        if (!opt || i + 1 >= argc)
            usage();
        *opt = strtol(argv[++i], &end, 10);
        if (*end != '\0' || *opt < 0)
            usage();
    }
    if (clients < 1 || keys < 1 || keys > MAXKEYS || rounds < 1)
        usage();
    delay_ns = ms * CSP_MILLISECOND;

    Memo *m = memo_new(slow, free);
    csp_wg *wg = csp_wg_new();
    if (!m || !wg) {
        perror("memo");
        return 1;
    }
    atomic_long bad = 0;
    long started = 0;
    for (long i = 0; i < clients; i++) {
        struct client_args a = { m, (int)i, (int)keys, (int)rounds, &bad, wg };
        csp_wg_add(wg, 1);
        int err = csp_go_copy(client, &a, sizeof a);
        if (err < 0) {
            fprintf(stderr, "memo: csp_go: %s\n", csp_strerror(err));
            csp_wg_done(wg);
            atomic_fetch_add(&bad, 1);
            break;
        }
        started++;
    }
    csp_wg_wait(wg);
    csp_wg_free(wg);
    memo_close(m);

    long twice = 0;
    for (long k = 0; k < keys; k++)
        if (atomic_load(&key_calls[k]) != 1)
            twice++;
    printf("requests %ld, calls %ld, keys %ld, keys not called exactly once %ld, wrong values %ld\n",
           started * keys * rounds, atomic_load(&calls), keys, twice, atomic_load(&bad));
    return atomic_load(&bad) == 0 && twice == 0 ? 0 : 1;
}
