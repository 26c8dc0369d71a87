/*
 * walk.c - csp-du's concurrent walk.
 *
 * Structure. As the book's du4, directories are read concurrently, sizes
 * flow to one aggregating goroutine over a channel, and a counting semaphore
 * (a buffered channel of empty values, `tokens`) bounds the work in flight.
 * But on libcsp every goroutine is an OS thread, so du4's goroutine per
 * directory would mean one thread per directory (20,000 on the benchmark
 * tree, all but a few blocked on the semaphore). Here a token is taken
 * BEFORE a goroutine is started, never after: a walker walks depth first on
 * an explicit stack (not C recursion: a goroutine's stack is small and trees
 * can be thousands of levels deep), and between two subdirectories, if it
 * has at least two waiting and a non-blocking send on `tokens` succeeds, it
 * gives half of them to a new walker goroutine (share()). So there are never
 * more than `jobs` walkers, a free token goes to the next walker with work
 * to spare, and no walker ever blocks on the semaphore (none waits for a
 * token while holding one: no deadlock). Handing off ranges, the biggest
 * first, rather than single directories keeps walkers long-lived: on the
 * benchmark tree a hand-off per free token and subdirectory started 1,939
 * walkers with 4 jobs, and 11% of the CPU samples were threads spinning in
 * libcsp's parker for the next wake-up; ranges start about 30.
 * The default `jobs` was measured (see main.c).
 *
 * Per directory a walker makes one openat and a few getdents64 calls, and one
 * fstatat per entry relative to the directory's descriptor: no path is ever
 * rebuilt for a system call. The open descriptors are those of the
 * directories on each walker's stack (depth x jobs at most).
 *
 * Ownership and invariants:
 *   - A node (struct du_dir) is created, zeroed, by the reader of its parent
 *     (or by du_walk_new for a root). Its fields are then written only by
 *     the one goroutine that reads it: the walker whose frame range holds
 *     it (ranges given away are disjoint, and csp_go happens before the new
 *     walker runs). Once read, a directory's ents and name pool never change,
 *     so walkers sharing its ranges read them freely. Nothing else reads a
 *     node until the walk has ended: the report runs after `results` is
 *     closed, which happens after every walker's csp_wg_done (wait group),
 *     so every write happens before every read.
 *   - `next` links a walker's new nodes into its current batch; the batch is
 *     sent to the aggregator, which then owns (only frees) them.
 *   - `tokens` holds one value per live walker goroutine: taken before
 *     csp_go, given back (a receive) as the walker's last action before
 *     csp_wg_done.
 *   - `set` (only with hash_all: -L or several roots) maps (dev, ino) to the
 *     node of every directory found so far; each shard's mutex protects its
 *     table. The first to add a directory owns and walks it; any other
 *     occurrence points at the same node (so -L loops end, and a directory
 *     reached twice is read once). Without hash_all a directory can only be
 *     reached once except through a cycle (a corrupt file system or mount
 *     tricks), which the parent chain detects.
 *   - In struct du_walk, `failed` and `handoffs` are atomics any walker may
 *     write; `all` belongs to the aggregator (du_walk_adopt); the rest is
 *     set before the walk starts and only read during it.
 */
#include "config.h"

#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

enum {
    DENTS_BUF = 32 * 1024,      /* getdents64 buffer, one per walker */
    BATCH_ENTRIES = 4096,       /* send progress after this many entries ... */
    SORT_THRESHOLD = 10000,     /* fts sorts a batch of more entries by inode */
    FTS_BATCH = 100000,         /* fts reads huge directories in batches of this */
    CANCEL_CHECK = 1024,        /* look at `done` every this many entries */
};
#define BATCH_NS (100 * CSP_MILLISECOND) /* ... or after this long */

/* File system magic numbers on which fts does not sort (coreutils' fs.h). */
#define S_MAGIC_CIFS 0xFF534D42
#define S_MAGIC_NFS 0x6969
#define S_MAGIC_TMPFS 0x1021994

struct du_walk {
    struct du_walk_opts o;
    struct du_root *roots;
    size_t n_roots;
    struct du_set *set;    /* hash_all only */
    csp_chan *tokens;      /* the counting semaphore: capacity o.jobs */
    csp_chan *results;     /* struct du_batch, to the aggregator */
    csp_chan *done;        /* closed: cancel */
    csp_wg *wg;            /* live walkers */
    struct du_dir *all;    /* every node, owned by the aggregator */
    atomic_bool failed;
    atomic_uint_fast64_t handoffs;
};

/* What a walker is given: a directory to read and walk (a root), or the
 * subdirectories among ents[from..to) of a directory already read. fd is
 * open on that directory; the walker closes it. */
struct job {
    struct du_walk *w;
    struct du_dir *dir;
    int fd;
    bool read;
    size_t from, to;
    uint64_t root_dev; /* for -x */
};

/* A directory on a walker's stack: dir->ents[next..end) are still to walk,
 * of which `pending` are subdirectories this walker owns. */
struct frame {
    struct du_dir *dir;
    int fd;
    size_t next, end, pending;
};

/* One walker goroutine's private state. */
struct walker {
    struct du_walk *w;
    uint64_t root_dev;
    struct frame *stack;
    size_t depth, cap;
    size_t pending;        /* the frames' pending, summed */
    char *dents;           /* getdents64 buffer */
    char *path;            /* scratch for paths: messages, --exclude */
    size_t path_cap;
    struct du_batch batch; /* not sent yet */
    int64_t sent_at;
};

static const char token; /* sent on `tokens` (a chan struct{}: only its address is used) */

void *du_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("csp-du: memory exhausted\n", stderr);
        exit(1);
    }
    return p;
}

static bool cancelled(struct du_walk *w)
{
    return csp_tryrecv(w->done, NULL) == CSP_ECLOSED;
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* Appends s quoted as GNU's quoteaf (shell-escape-always style): inside
 * single quotes, a quote as '\'' and a control character as '$'\n''. */
static void put_quoted(FILE *f, const char *s)
{
    static const char esc[] = "\a\b\f\n\r\t\v";
    static const char letter[] = "abfnrtv";
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = c ? strchr(esc, c) : NULL;
        if (c == '\'')
            fputs("'\\''", f);
        else if (e)
            fprintf(f, "'$'\\%c''", letter[e - esc]);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "'$'\\%03o''", c);
        else
            fputc(c, f);
    }
    fputc('\'', f);
}

void du_error(struct du_walk *w, int err, const char *what, const char *path)
{
    /* One message, written at once under the stream's lock, so that
     * walkers' messages do not interleave. */
    flockfile(stderr);
    if (w && w->o.clear_line)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "csp-du: %s%s", what, path ? " " : "");
    if (path)
        put_quoted(stderr, path);
    if (err)
        fprintf(stderr, ": %s", strerror(err));
    fputc('\n', stderr);
    funlockfile(stderr);
    if (w)
        atomic_store_explicit(&w->failed, true, memory_order_relaxed);
}

/* ------------------------------------------------------------------------
 * The (dev, ino) set
 * ------------------------------------------------------------------------ */

enum { SHARDS = 64 };

struct slot {
    uint64_t dev, ino;
    void *val; /* NULL: empty */
};

struct shard {
    pthread_mutex_t mu;
    struct slot *slots; /* mu; open addressing, linear probing */
    size_t n, cap;      /* mu; cap a power of two */
};

struct du_set {
    struct shard shard[SHARDS];
};

static uint64_t mix(uint64_t dev, uint64_t ino)
{
    uint64_t h = ino * 0x9e3779b97f4a7c15u ^ dev * 0xc2b2ae3d27d4eb4fu;
    return h ^ h >> 29;
}

struct du_set *du_set_new(void)
{
    struct du_set *s = du_xrealloc(NULL, sizeof *s);
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&s->shard[i].mu, NULL);
        s->shard[i].slots = NULL;
        s->shard[i].n = s->shard[i].cap = 0;
    }
    return s;
}

void du_set_free(struct du_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_destroy(&s->shard[i].mu);
        free(s->shard[i].slots);
    }
    free(s);
}

static struct slot *probe(struct shard *sh, uint64_t h, uint64_t dev, uint64_t ino)
{
    size_t i = h & (sh->cap - 1);
    while (sh->slots[i].val && (sh->slots[i].dev != dev || sh->slots[i].ino != ino))
        i = (i + 1) & (sh->cap - 1);
    return &sh->slots[i];
}

static void grow(struct shard *sh)
{
    struct slot *old = sh->slots;
    size_t old_cap = sh->cap;
    sh->cap = old_cap ? 2 * old_cap : 64;
    sh->slots = du_xrealloc(NULL, sh->cap * sizeof *sh->slots);
    memset(sh->slots, 0, sh->cap * sizeof *sh->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].val)
            *probe(sh, mix(old[i].dev, old[i].ino), old[i].dev, old[i].ino) = old[i];
    }
    free(old);
}

void *du_set_add(struct du_set *s, uint64_t dev, uint64_t ino, void *val)
{
    uint64_t h = mix(dev, ino);
    struct shard *sh = &s->shard[h >> 58]; /* top bits: the shard; low bits: the slot */
    pthread_mutex_lock(&sh->mu);
    if (2 * (sh->n + 1) > sh->cap)
        grow(sh);
    struct slot *sl = probe(sh, h, dev, ino);
    void *have = NULL;
    if (!sl->val) {
        *sl = (struct slot){ dev, ino, val };
        sh->n++;
    }
    else
        have = sl->val;
    pthread_mutex_unlock(&sh->mu);
    return have;
}

/* ------------------------------------------------------------------------
 * Nodes, entries, paths
 * ------------------------------------------------------------------------ */

static uint64_t entry_size(const struct du_walk *w, const struct stat *st)
{
    if (w->o.apparent)
        return st->st_size > 0 ? (uint64_t)st->st_size : 0;
    return (uint64_t)st->st_blocks * 512;
}

static struct du_dir *new_node(struct du_dir *parent, const struct stat *st)
{
    struct du_dir *d = du_xrealloc(NULL, sizeof *d);
    memset(d, 0, sizeof *d);
    d->parent = parent;
    d->dev = (uint64_t)st->st_dev;
    d->ino = (uint64_t)st->st_ino;
    return d;
}

static size_t add_name(struct du_dir *d, const char *name)
{
    size_t len = strlen(name) + 1, at = d->names_len;
    if (d->names_len + len > d->names_cap) {
        d->names_cap = 2 * d->names_cap + len + 64;
        d->names = du_xrealloc(d->names, d->names_cap);
    }
    memcpy(d->names + at, name, len);
    d->names_len += len;
    return at;
}

static struct du_ent *add_ent(struct du_dir *d)
{
    if (d->n_ents == d->cap_ents) {
        d->cap_ents = d->cap_ents ? 2 * d->cap_ents : 8;
        d->ents = du_xrealloc(d->ents, d->cap_ents * sizeof *d->ents);
    }
    struct du_ent *e = &d->ents[d->n_ents++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Whether an entry goes through the seen-set: every one under hash_all
 * (cycle and duplicate checks), else files with more than one link; none
 * when -l counts every link. */
static bool is_hashed(const struct du_walk *w, const struct stat *st)
{
    return !w->o.count_links && (w->o.hash_all || (!S_ISDIR(st->st_mode) && st->st_nlink > 1));
}

size_t du_path_put(char **buf, size_t *cap, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (len + n + 2 > *cap) {
        *cap = 2 * (len + n + 2);
        *buf = du_xrealloc(*buf, *cap);
    }
    memcpy(*buf + len, s, n + 1);
    return len + n;
}

size_t du_path_join(char **buf, size_t *cap, size_t len, const char *name)
{
    if (len == 0 || (*buf)[len - 1] != '/')
        len = du_path_put(buf, cap, len, "/");
    return du_path_put(buf, cap, len, name);
}

/* The path of directory d (as printed) into k->path; returns its length.
 * Built from the end, up the parent chain (iterative: trees can be deeper
 * than a goroutine's stack allows recursion). Only a root's path can end in
 * a slash, so only there does fts's join rule apply. */
static size_t dir_path(struct walker *k, const struct du_dir *d)
{
    size_t len = 0;
    const struct du_dir *a;
    for (a = d; a->parent; a = a->parent)
        len += 1 + strlen(a->parent->names + a->name);
    size_t root_len = strlen(a->root_path);
    bool slash = root_len > 0 && a->root_path[root_len - 1] == '/';
    len += root_len - (slash && d != a);
    if (len + 1 > k->path_cap) {
        k->path_cap = len + 1;
        k->path = du_xrealloc(k->path, k->path_cap);
    }
    k->path[len] = 0;
    size_t end = len;
    for (a = d; a->parent; a = a->parent) {
        const char *name = a->parent->names + a->name;
        size_t n = strlen(name);
        end -= n;
        memcpy(k->path + end, name, n);
        k->path[--end] = '/';
    }
    memcpy(k->path, a->root_path, end);
    return len;
}

static void entry_error(struct walker *k, const struct du_dir *d, const char *name, int err,
                        const char *what)
{
    size_t len = dir_path(k, d);
    if (name)
        du_path_join(&k->path, &k->path_cap, len, name);
    du_error(k->w, err, what, k->path);
}

/* GNU du's --exclude: fnmatch without flags (so '*' matches '/') against the
 * whole path and every part of it that follows a slash. */
static bool excluded(const struct du_walk_opts *o, const char *path)
{
    for (size_t i = 0; i < o->n_excludes; i++) {
        const char *pat = o->excludes[i];
        if (fnmatch(pat, path, 0) == 0)
            return true;
        for (const char *p = path; *p; p++) {
            if (*p == '/' && p[1] != '/' && fnmatch(pat, p + 1, 0) == 0)
                return true;
        }
    }
    return false;
}

/* Is (dev, ino) the directory d or one of its ancestors? */
static bool in_chain(const struct du_dir *d, uint64_t dev, uint64_t ino)
{
    for (; d; d = d->parent) {
        if (d->dev == dev && d->ino == ino)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Reading one directory
 * ------------------------------------------------------------------------ */

/* fstatat relative to the directory; reports failures as GNU du does. */
static bool stat_entry(struct walker *k, const struct du_dir *d, int fd, const char *name,
                       struct stat *st)
{
    bool follow = k->w->o.follow;
    if (fstatat(fd, name, st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0)
        return true;
    int err = errno;
    /* A dangling symbolic link under -L: fts reports it with no reason. */
    if (follow && err == ENOENT && fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
        err = 0;
    entry_error(k, d, name, err, "cannot access");
    return false;
}

static void add_subdir(struct walker *k, struct du_dir *d, const char *name, uint64_t d_ino,
                       const struct stat *st, uint64_t size)
{
    struct du_walk *w = k->w;
    struct du_dir *c = new_node(d, st);
    bool owner = true;
    if (w->set) {
        struct du_dir *have = du_set_add(w->set, c->dev, c->ino, c);
        if (have) {
            free(c);
            c = have;
            owner = false;
        }
    } else if (in_chain(d, c->dev, c->ino)) {
        free(c); /* a cycle: only a corrupt file system or mount tricks; skipped */
        return;
    }
    struct du_ent *e = add_ent(d);
    e->size = size;
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->d_ino = d_ino;
    e->dir = c;
    e->name = add_name(d, name);
    e->hashed = is_hashed(w, st);
    e->owner = owner;
    if (owner) {
        c->name = e->name;
        c->next = k->batch.nodes;
        k->batch.nodes = c;
        if (!k->batch.nodes_tail)
            k->batch.nodes_tail = c;
    }
}

static void add_entry(struct walker *k, struct du_dir *d, int fd, const char *name, uint64_t d_ino,
                      size_t prefix)
{
    struct du_walk *w = k->w;
    struct stat st;
    if (!stat_entry(k, d, fd, name, &st))
        return;
    /* -x: like GNU du, skip (do not count) what lies on another file system. */
    if (w->o.one_fs && (uint64_t)st.st_dev != k->root_dev)
        return;
    if (w->o.n_excludes) {
        du_path_join(&k->path, &k->path_cap, prefix, name);
        if (excluded(&w->o, k->path))
            return;
    }
    uint64_t size = entry_size(w, &st);
    k->batch.bytes += size;
    if (S_ISDIR(st.st_mode)) {
        add_subdir(k, d, name, d_ino, &st, size);
        return;
    }
    k->batch.files++;
    bool hashed = is_hashed(w, &st);
    if (!hashed && !w->o.keep_files) {
        d->plain_size += size;
        d->plain_files++;
        return;
    }
    struct du_ent *e = add_ent(d);
    e->size = size;
    e->dev = (uint64_t)st.st_dev;
    e->ino = (uint64_t)st.st_ino;
    e->d_ino = d_ino;
    e->hashed = hashed;
    if (w->o.keep_files)
        e->name = add_name(d, name);
}

static int by_d_ino(const void *a, const void *b)
{
    const struct du_ent *x = a, *y = b;
    return (x->d_ino > y->d_ino) - (x->d_ino < y->d_ino);
}

/* fts sorts a batch of more than SORT_THRESHOLD entries on inode number,
 * except on file systems where that does not help, which it only checks in
 * a physical walk; so must we, for GNU du's order. The batch's kept entries
 * are d->ents[from..]. */
static void sort_batch(const struct du_walk *w, struct du_dir *d, int fd, size_t from, size_t entries)
{
    struct statfs fs;
    if (entries <= SORT_THRESHOLD || d->n_ents - from < 2)
        return;
    if (!w->o.follow && fstatfs(fd, &fs) == 0 &&
        (fs.f_type == S_MAGIC_TMPFS || fs.f_type == S_MAGIC_NFS || (uint32_t)fs.f_type == S_MAGIC_CIFS))
        return;
    qsort(d->ents + from, d->n_ents - from, sizeof *d->ents, by_d_ino);
}

static bool is_dot(const char *s)
{
    return s[0] == '.' && (s[1] == 0 || (s[1] == '.' && s[2] == 0));
}

/* Reads directory d (open as fd): every entry stat'ed, kept or summed. */
static void read_dir(struct walker *k, struct du_dir *d, int fd)
{
    struct du_walk *w = k->w;
    if (w->o.delay_ns)
        csp_sleep(w->o.delay_ns);
    size_t prefix = w->o.n_excludes ? dir_path(k, d) : 0;
    size_t seq = 0, batch_seq = 0, batch_from = 0;
    bool reading = true;
    while (reading) {
        ssize_t n = getdents64(fd, k->dents, DENTS_BUF);
        if (n <= 0) {
            if (n < 0)
                entry_error(k, d, NULL, errno, "cannot read directory");
            break;
        }
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *e = (struct dirent64 *)(k->dents + off);
            off += e->d_reclen;
            if (is_dot(e->d_name))
                continue;
            if (seq - batch_seq == FTS_BATCH) {
                sort_batch(w, d, fd, batch_from, FTS_BATCH);
                batch_seq = seq;
                batch_from = d->n_ents;
            }
            add_entry(k, d, fd, e->d_name, (uint64_t)e->d_ino, prefix);
            if (++seq % CANCEL_CHECK == 0 && cancelled(w)) {
                reading = false;
                break;
            }
        }
    }
    sort_batch(w, d, fd, batch_from, seq - batch_seq);
    k->batch.dirs++;
}

/* ------------------------------------------------------------------------
 * Walkers
 * ------------------------------------------------------------------------ */

static int open_dir(int at, const char *name, bool follow)
{
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    int fd;
    do
        fd = openat(at, name, flags);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* Sends the batch when it is big or old enough (always when final). */
static void flush_batch(struct walker *k, bool final)
{
    struct du_batch *b = &k->batch;
    int64_t now = csp_now();
    bool worth = b->files + b->dirs >= BATCH_ENTRIES || now - k->sent_at >= BATCH_NS;
    if (!(final ? b->files || b->dirs || b->nodes : worth))
        return;
    csp_send(k->w->results, b);
    memset(b, 0, sizeof *b);
    k->sent_at = now;
}

static void push_frame(struct walker *k, struct du_dir *d, int fd, size_t from, size_t to)
{
    if (k->depth == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->stack = du_xrealloc(k->stack, k->cap * sizeof *k->stack);
    }
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += d->ents[i].dir && d->ents[i].owner;
    k->stack[k->depth++] = (struct frame){ d, fd, from, to, n };
    k->pending += n;
}

/* Reads d (open as fd) and makes it the top frame. */
static void enter_dir(struct walker *k, struct du_dir *d, int fd)
{
    read_dir(k, d, fd);
    flush_batch(k, false);
    push_frame(k, d, fd, 0, d->n_ents);
}

static void walker(void *arg);

/* Starts a walker on job j; its token is already taken. On failure (no
 * thread to be had) gives the token back and returns false. */
static bool spawn(struct du_walk *w, const struct job *j)
{
    csp_wg_add(w->wg, 1);
    if (csp_go_copy(walker, j, sizeof *j) == 0) {
        atomic_fetch_add_explicit(&w->handoffs, 1, memory_order_relaxed);
        return true;
    }
    csp_wg_done(w->wg);
    csp_recv(w->tokens, NULL);
    return false;
}

/* Work sharing. When a token is free and this walker has two or more
 * subdirectories waiting, a new walker gets the later half of the waiting
 * subdirectories of the shallowest frame that has any (the biggest pieces
 * of work, as a work-stealing deque gives its oldest end), with a duplicate
 * of that directory's descriptor. Splitting ranges rather than handing off
 * single directories keeps walkers long-lived: a hand-off per leaf
 * directory cost more in wake-ups than the leaf's reading (see the top). */
static void share(struct walker *k)
{
    struct du_walk *w = k->w;
    if (k->pending < 2 || csp_trysend(w->tokens, &token) != 0)
        return;
    struct frame *f = k->stack;
    while (f->pending == 0)
        f++;
    size_t give = f->pending / 2 ? f->pending / 2 : 1, mid = f->end;
    for (size_t n = 0; n < give; n += f->dir->ents[mid].dir && f->dir->ents[mid].owner)
        mid--;
    struct job j = { w, f->dir, fcntl(f->fd, F_DUPFD_CLOEXEC, 0), false, mid, f->end, k->root_dev };
    if (j.fd < 0) {
        csp_recv(w->tokens, NULL);
        return;
    }
    if (!spawn(w, &j)) {
        close(j.fd);
        return;
    }
    f->end = mid;
    f->pending -= give;
    k->pending -= give;
}

/* The next subdirectory of frame f that this walker owns, or NULL. */
static struct du_dir *next_subdir(struct walker *k, struct frame *f)
{
    while (f->next < f->end) {
        struct du_ent *e = &f->dir->ents[f->next++];
        if (e->dir && e->owner) {
            f->pending--;
            k->pending--;
            return e->dir;
        }
    }
    return NULL;
}

/* Does job j: depth first, sharing work as tokens come free. */
static void walk(struct walker *k, const struct job *j)
{
    struct du_walk *w = k->w;
    if (j->read)
        enter_dir(k, j->dir, j->fd);
    else
        push_frame(k, j->dir, j->fd, j->from, j->to);
    while (k->depth > 0) {
        share(k);
        struct frame *f = &k->stack[k->depth - 1];
        struct du_dir *c = cancelled(w) ? NULL : next_subdir(k, f);
        if (!c) {
            close(f->fd);
            k->pending -= f->pending;
            k->depth--;
            continue;
        }
        int cfd = open_dir(f->fd, f->dir->names + c->name, w->o.follow);
        if (cfd < 0)
            entry_error(k, c, NULL, errno, "cannot read directory");
        else
            enter_dir(k, c, cfd);
    }
}

/* Runs a job and sends what is left of the batch. */
static void run_job(const struct job *j)
{
    struct walker k = { .w = j->w, .root_dev = j->root_dev, .sent_at = csp_now() };
    k.dents = du_xrealloc(NULL, DENTS_BUF);
    walk(&k, j);
    flush_batch(&k, true);
    free(k.dents);
    free(k.path);
    free(k.stack);
}

/* A walker goroutine: its last acts give its token back and leave the wait
 * group, in that order, so `tokens` never counts a walker that is gone. */
static void walker(void *arg)
{
    const struct job *j = arg;
    struct du_walk *w = j->w;
    run_job(j);
    csp_recv(w->tokens, NULL);
    csp_wg_done(w->wg);
}

/* Starts a walker for each root directory, each after taking a token (this
 * one blocks: the launcher holds none), then closes results once all have
 * returned: du3's closer goroutine. */
static void launcher(void *arg)
{
    struct du_walk *w = arg;
    for (size_t i = 0; i < w->n_roots && !cancelled(w); i++) {
        struct du_root *r = &w->roots[i];
        if (!r->ok || !r->ent.dir || !r->ent.owner)
            continue;
        csp_case c[2] = { csp_case_recv(w->done, NULL), csp_case_send(w->tokens, &token) };
        if (csp_select(c, 2) == 0)
            break;
        int fd = open_dir(AT_FDCWD, r->arg, w->o.follow || w->o.follow_args);
        struct job j = { w, r->ent.dir, fd, true, 0, 0, r->ent.dev };
        if (fd < 0) {
            du_error(w, errno, "cannot read directory", r->path);
            csp_recv(w->tokens, NULL);
        } else if (!spawn(w, &j)) {
            run_job(&j); /* no thread to be had: the launcher walks it */
        }
    }
    csp_wg_wait(w->wg);
    csp_close(w->results);
}

/* ------------------------------------------------------------------------
 * Roots and the walk's life
 * ------------------------------------------------------------------------ */

/* The path fts prints for an argument: two or more trailing slashes become
 * one (a lone "/" or "//" stays). */
static char *root_path(const char *arg)
{
    size_t len = strlen(arg);
    if (len > 2 && arg[len - 1] == '/') {
        while (len > 1 && arg[len - 2] == '/')
            len--;
    }
    char *p = du_xrealloc(NULL, len + 1);
    memcpy(p, arg, len);
    p[len] = 0;
    return p;
}

static void init_root(struct du_walk *w, struct du_root *r, const char *arg)
{
    struct stat st;
    bool follow = w->o.follow || w->o.follow_args;
    r->arg = arg;
    r->path = root_path(arg);
    if (!arg[0]) {
        du_error(w, 0, "invalid zero-length file name", NULL);
        return;
    }
    if ((follow ? stat(arg, &st) : lstat(arg, &st)) != 0) {
        int err = errno;
        if (follow && err == ENOENT && lstat(arg, &st) == 0)
            err = 0; /* dangling symbolic link */
        du_error(w, err, "cannot access", r->path);
        return;
    }
    if (w->o.n_excludes && excluded(&w->o, r->path))
        return;
    r->ok = true;
    r->ent.size = entry_size(w, &st);
    r->ent.dev = (uint64_t)st.st_dev;
    r->ent.ino = (uint64_t)st.st_ino;
    r->ent.hashed = is_hashed(w, &st);
    if (!S_ISDIR(st.st_mode))
        return;
    struct du_dir *d = new_node(NULL, &st);
    d->root_path = r->path;
    r->ent.dir = d;
    r->ent.owner = true;
    if (w->set) {
        struct du_dir *have = du_set_add(w->set, d->dev, d->ino, d);
        if (have) {
            free(d);
            r->ent.dir = have;
            r->ent.owner = false;
            return;
        }
    }
    d->next = w->all;
    w->all = d;
}

struct du_walk *du_walk_new(const struct du_walk_opts *o, char *const *args, size_t n)
{
    struct du_walk *w = du_xrealloc(NULL, sizeof *w);
    memset(w, 0, sizeof *w);
    w->o = *o;
    if (w->o.jobs < 1)
        w->o.jobs = 1;
    atomic_init(&w->failed, false);
    atomic_init(&w->handoffs, 0);
    w->set = o->hash_all ? du_set_new() : NULL;
    w->n_roots = n;
    w->roots = du_xrealloc(NULL, n * sizeof *w->roots);
    memset(w->roots, 0, n * sizeof *w->roots);
    for (size_t i = 0; i < n; i++)
        init_root(w, &w->roots[i], args[i]);
    w->tokens = csp_chan_make(0, (size_t)w->o.jobs);
    w->wg = csp_wg_new();
    if (!w->tokens || !w->wg) {
        du_walk_free(w);
        errno = ENOMEM;
        return NULL;
    }
    return w;
}

int du_walk_start(struct du_walk *w, csp_chan *results, csp_chan *done)
{
    w->results = results;
    w->done = done;
    return csp_go(launcher, w);
}

void du_walk_adopt(struct du_walk *w, const struct du_batch *b)
{
    if (!b->nodes)
        return;
    b->nodes_tail->next = w->all;
    w->all = b->nodes;
}

size_t du_walk_roots(const struct du_walk *w, const struct du_root **roots)
{
    *roots = w->roots;
    return w->n_roots;
}

bool du_walk_failed(const struct du_walk *w)
{
    return atomic_load_explicit(&w->failed, memory_order_relaxed);
}

uint64_t du_walk_handoffs(const struct du_walk *w)
{
    return atomic_load_explicit(&w->handoffs, memory_order_relaxed);
}

void du_walk_free(struct du_walk *w)
{
    if (!w)
        return;
    while (w->all) {
        struct du_dir *d = w->all;
        w->all = d->next;
        free(d->ents);
        free(d->names);
        free(d);
    }
    for (size_t i = 0; i < w->n_roots; i++)
        free(w->roots[i].path);
    free(w->roots);
    du_set_free(w->set);
    csp_chan_release(w->tokens);
    csp_wg_free(w->wg);
    free(w);
}
