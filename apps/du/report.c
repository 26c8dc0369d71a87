/*
 * report.c - csp-du's output.
 *
 * Runs on the main thread after the walk has ended (or was cancelled: then
 * over whatever was read). It replays GNU du's fts walk over the gathered
 * tree: roots in argument order, each directory's entries in the order fts
 * would visit them, a directory printed after its contents (post-order).
 * An entry marked `hashed` counts only at its first occurrence in that order,
 * so the hard link (or, with -L, the directory) that GNU du counts is the one
 * counted here, whichever walker happened to find it first.
 *
 * The pass is iterative (an explicit stack), so tree depth is limited by
 * memory, not by the thread's stack.
 */
#include "config.h"

#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One printed line kept for --top. */
struct line {
    uint64_t size;
    char *path;
    bool dir;
    size_t seq; /* its place in du's order: ties keep it */
};

struct frame {
    const struct du_dir *d;
    size_t next;      /* the next of d->ents */
    uint64_t sum;     /* d and everything under it counted so far */
    uint64_t own;     /* d and its non-directory entries (-S) */
    size_t path_len;  /* d's path is path[0..path_len) */
};

struct report {
    const struct du_report_opts *o;
    FILE *out;
    struct du_set *seen; /* (dev, ino) of every hashed entry counted */
    char *path;
    size_t path_cap;
    struct frame *stack;
    size_t depth, stack_cap;
    uint64_t total, files, dirs;
    struct line *lines; /* --top */
    size_t n_lines, lines_cap;
    bool json_first;
};

static const char seen_mark; /* the value stored in `seen` */

/* ------------------------------------------------------------------------
 * Sizes: gnulib's human_readable() for the cases du uses (from_block_size
 * 1, rounding up), so every number equals GNU du's.
 * ------------------------------------------------------------------------ */

/* An amount as human_readable() carries it: whole units, tenths, and what
 * is left over (rounding: 0 none, 1 less than half a tenth, 2 half, 3 more). */
struct amount {
    uint64_t units;
    unsigned tenths, rounding;
    int exponent; /* of the scale (K = 1) */
};

static struct amount in_blocks(uint64_t n, uint64_t block)
{
    struct amount a = { n, 0, 0, 0 };
    if (block > 1) {
        uint64_t r10 = (n % block) * 10, r2 = (r10 % block) * 2;
        a.units = n / block;
        a.tenths = (unsigned)(r10 / block);
        a.rounding = r2 < block ? 0 < r2 : 2 + (block < r2);
    }
    return a;
}

/* -h, --si: divide by base while the amount is at least base, keeping track
 * of the remainder; under 10 units, round the tenths up and show them. Returns
 * the new end of the digits (a ".D" written before p, or p). */
static char *autoscale(struct amount *a, unsigned base, char *p)
{
    if (a->units < base)
        return p;
    do {
        unsigned r10 = (unsigned)(a->units % base) * 10 + a->tenths;
        unsigned r2 = (r10 % base) * 2 + (a->rounding >> 1);
        a->units /= base;
        a->tenths = r10 / base;
        a->rounding = r2 < base ? (r2 + a->rounding) != 0 : 2 + (base < r2 + a->rounding);
        a->exponent++;
    } while (a->units >= base && a->exponent < 8);
    if (a->units >= 10)
        return p;
    if (a->rounding > 0) {
        a->rounding = 0;
        if (++a->tenths == 10) {
            a->units++;
            a->tenths = 0;
        }
    }
    if (a->units >= 10)
        return p;
    *--p = (char)('0' + a->tenths);
    *--p = '.';
    a->tenths = 0;
    return p;
}

/* n bytes in units of block_size, rounded up, or scaled like "1.5K" when
 * human is 1024 or 1000. buf holds 32 bytes; returns a pointer into it. */
static char *format_size(uint64_t n, uint64_t block_size, unsigned human, char *buf)
{
    static const char letters[] = "KMGTPEZY";
    char *suffix = buf + 24, *p = suffix;
    struct amount a = in_blocks(n, human ? 1 : block_size);
    if (human)
        p = autoscale(&a, human, p);
    if (a.tenths + a.rounding > 0) {
        a.units++;
        if (human && a.units == human && a.exponent < 8) {
            a.exponent++; /* 1023.95K rounds up to 1.0M */
            *--p = '0';
            *--p = '.';
            a.units = 1;
        }
    }
    do
        *--p = (char)('0' + a.units % 10);
    while ((a.units /= 10) != 0);
    if (a.exponent)
        *suffix++ = human == 1000 && a.exponent == 1 ? 'k' : letters[a.exponent - 1];
    *suffix = 0;
    return p;
}

/* ------------------------------------------------------------------------
 * Output forms
 * ------------------------------------------------------------------------ */

/* s as a JSON string: UTF-8 passes, control characters are escaped, and a
 * byte that is not part of valid UTF-8 becomes U+FFFD. */
static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    while (*s) {
        const unsigned char *u = (const unsigned char *)s;
        size_t len = u[0] < 0x80 ? 1 : u[0] >= 0xc2 && u[0] < 0xe0 ? 2 : u[0] >= 0xe0 && u[0] < 0xf0 ? 3
                   : u[0] >= 0xf0 && u[0] < 0xf5 ? 4 : 0;
        for (size_t i = 1; i < len; i++) {
            if ((u[i] & 0xc0) != 0x80)
                len = 0;
        }
        if (len == 0) {
            fputs("\\ufffd", f);
            s++;
        } else if (u[0] == '"' || u[0] == '\\') {
            fprintf(f, "\\%c", u[0]);
            s++;
        } else if (u[0] < 0x20) {
            fprintf(f, "\\u%04x", u[0]);
            s++;
        } else {
            fwrite(s, 1, len, f);
            s += len;
        }
    }
    fputc('"', f);
}

static void put_line(struct report *r, uint64_t size, const char *path, bool dir)
{
    const struct du_report_opts *o = r->o;
    if (o->json) {
        fputs(r->json_first ? "\n    {\"path\": " : ",\n    {\"path\": ", r->out);
        put_json_string(r->out, path);
        fprintf(r->out, ", \"size\": %llu, \"type\": \"%s\"}", (unsigned long long)size, dir ? "dir" : "file");
        r->json_first = false;
        return;
    }
    char buf[32];
    fputs(format_size(size, o->block_size, o->human, buf), r->out);
    fputc('\t', r->out);
    fputs(path, r->out);
    fputc(o->null ? '\0' : '\n', r->out);
}

/* A line du would print: printed now, or kept for --top. */
static void emit(struct report *r, uint64_t size, size_t path_len, bool dir)
{
    const struct du_report_opts *o = r->o;
    if (o->book)
        return;
    if (!o->top) {
        put_line(r, size, r->path, dir);
        return;
    }
    if (r->n_lines == r->lines_cap) {
        r->lines_cap = r->lines_cap ? 2 * r->lines_cap : 256;
        r->lines = du_xrealloc(r->lines, r->lines_cap * sizeof *r->lines);
    }
    char *copy = du_xrealloc(NULL, path_len + 1);
    memcpy(copy, r->path, path_len + 1);
    r->lines[r->n_lines] = (struct line){ size, copy, dir, r->n_lines };
    r->n_lines++;
}

static int by_size_desc(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void put_top(struct report *r)
{
    qsort(r->lines, r->n_lines, sizeof *r->lines, by_size_desc);
    for (size_t i = 0; i < r->n_lines; i++) {
        if (i < r->o->top)
            put_line(r, r->lines[i].size, r->lines[i].path, r->lines[i].dir);
        free(r->lines[i].path);
    }
    free(r->lines);
}

/* ------------------------------------------------------------------------
 * The pass
 * ------------------------------------------------------------------------ */

static size_t path_set(struct report *r, size_t len, const char *s)
{
    return du_path_put(&r->path, &r->path_cap, len, s);
}

static size_t path_join(struct report *r, size_t len, const char *name)
{
    return du_path_join(&r->path, &r->path_cap, len, name);
}

/* False if e was counted before (a hard link, or a directory met again). */
static bool first_time(struct report *r, const struct du_ent *e)
{
    return !e->hashed || du_set_add(r->seen, e->dev, e->ino, (void *)&seen_mark) == NULL;
}

static bool on_stack(const struct report *r, const struct du_dir *d)
{
    for (size_t i = 0; i < r->depth; i++) {
        if (r->stack[i].d == d)
            return true;
    }
    return false;
}

static void enter(struct report *r, const struct du_dir *d, uint64_t size, size_t path_len)
{
    if (r->depth == r->stack_cap) {
        r->stack_cap = r->stack_cap ? 2 * r->stack_cap : 64;
        r->stack = du_xrealloc(r->stack, r->stack_cap * sizeof *r->stack);
    }
    uint64_t own = size + d->plain_size;
    r->stack[r->depth++] = (struct frame){ d, 0, own, own, path_len };
    r->total += own;
    r->files += d->plain_files;
    r->dirs++;
}

/* Directory d is finished: print it, add it to its parent. */
static void leave(struct report *r)
{
    struct frame *f = &r->stack[--r->depth];
    if (r->depth <= r->o->max_depth) {
        r->path[f->path_len] = 0;
        emit(r, r->o->separate_dirs ? f->own : f->sum, f->path_len, true);
    }
    if (r->depth > 0)
        r->stack[r->depth - 1].sum += f->sum;
}

/* One entry of the top directory. */
static void visit(struct report *r, const struct du_ent *e)
{
    struct frame *f = &r->stack[r->depth - 1];
    if (!first_time(r, e))
        return;
    if (e->dir) {
        /* A directory read elsewhere may be an ancestor: a -L loop under -l
         * (else it was hashed), which fts reports as a cycle and du skips. */
        if (!e->owner && on_stack(r, e->dir))
            return;
        enter(r, e->dir, e->size, path_join(r, f->path_len, du_ent_name(f->d, e)));
        return;
    }
    f->sum += e->size;
    f->own += e->size;
    r->total += e->size;
    r->files++;
    /* Only -a keeps the names of files (walk.c). */
    if (r->o->all && r->depth <= r->o->max_depth)
        emit(r, e->size, path_join(r, f->path_len, du_ent_name(f->d, e)), false);
}

static void walk_root(struct report *r, const struct du_root *root)
{
    if (!root->ok || !first_time(r, &root->ent))
        return;
    size_t len = path_set(r, 0, root->path);
    if (!root->ent.dir) {
        r->total += root->ent.size;
        r->files++;
        emit(r, root->ent.size, len, false);
        return;
    }
    enter(r, root->ent.dir, root->ent.size, len);
    while (r->depth > 0) {
        struct frame *f = &r->stack[r->depth - 1];
        if (f->next < f->d->n_ents)
            visit(r, &f->d->ents[f->next++]);
        else
            leave(r);
    }
}

static void put_book(struct report *r)
{
    fprintf(r->out, "%llu files  %.1f GB\n", (unsigned long long)r->files, (double)r->total / 1e9);
}

static void put_json_end(struct report *r)
{
    const struct du_report_opts *o = r->o;
    fprintf(r->out,
            "%s],\n  \"total\": {\"size\": %llu, \"files\": %llu, \"dirs\": %llu},\n"
            "  \"apparent_size\": %s, \"partial\": %s, \"errors\": %s\n}\n",
            r->json_first ? "" : "\n  ", (unsigned long long)r->total, (unsigned long long)r->files,
            (unsigned long long)r->dirs, o->apparent ? "true" : "false", o->partial ? "true" : "false",
            o->errors ? "true" : "false");
}

int du_report(const struct du_walk *w, const struct du_report_opts *o, FILE *out)
{
    struct report r = { .o = o, .out = out, .json_first = true };
    r.seen = du_set_new();
    const struct du_root *roots;
    size_t n = du_walk_roots(w, &roots);
    if (o->json)
        fputs("{\n  \"entries\": [", out);
    for (size_t i = 0; i < n; i++)
        walk_root(&r, &roots[i]);
    if (o->top)
        put_top(&r);
    if (o->book)
        put_book(&r);
    else if (o->json)
        put_json_end(&r);
    else if (o->total) {
        path_set(&r, 0, "total");
        put_line(&r, r.total, r.path, true);
    }
    du_set_free(r.seen);
    free(r.path);
    free(r.stack);
    return fflush(out) == 0 && !ferror(out) ? 0 : errno ? errno : EIO;
}
