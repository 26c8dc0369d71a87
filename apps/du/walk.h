/*
 * walk.h - csp-du's concurrent walk: directories read by a bounded set of
 * goroutines, sizes sent to the aggregating goroutine over a channel.
 *
 * The walk only gathers: for every directory it reads it records the entries
 * the report needs (subdirectories, and files that need deduplicating or
 * listing) in readdir order, and sums the rest. Deciding which of several
 * hard links counts, and every per-directory total, is left to the report's
 * single pass in GNU du's walk order, which is what makes the output equal
 * GNU du's whatever order the goroutines happened to read in.
 */
#ifndef CSP_DU_WALK_H
#define CSP_DU_WALK_H

#include <csp.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct du_dir;

/* One directory entry kept for the report. */
struct du_ent {
    uint64_t size;      /* bytes: allocated (st_blocks * 512) or apparent */
    uint64_t dev, ino;  /* identity, to count each inode once */
    uint64_t d_ino;     /* the dirent's inode number: fts's sort key */
    struct du_dir *dir; /* the directory this entry is, or NULL for a non-directory */
    size_t name;        /* offset of the name in the parent's name pool */
    bool hashed;        /* counts only at its first occurrence (hard link, -L, several roots) */
    bool owner;         /* this entry created dir, and its reader walks it */
};

/* A directory: written only by the goroutine that reads it, read by the
 * report after the walk has ended (see walk.c). */
struct du_dir {
    struct du_dir *parent;  /* the directory it was found in; NULL for a root */
    size_t name;            /* offset of its name in parent's pool (unused for a root) */
    const char *root_path;  /* a root's path as printed; NULL for the others */
    uint64_t dev, ino;
    uint64_t plain_size;    /* sizes of the non-directory entries summed directly */
    uint64_t plain_files;   /* how many those were */
    struct du_ent *ents;    /* subdirectories and kept files, in GNU du's order */
    size_t n_ents, cap_ents;
    char *names;            /* name pool: NUL-terminated names of ents */
    size_t names_len, names_cap;
    struct du_dir *next;    /* list of every node, for freeing (walk.c) */
};

/* A command-line argument. */
struct du_root {
    const char *arg;  /* as given */
    char *path;       /* as printed: runs of trailing slashes cut to one, as fts does */
    bool ok;          /* stat succeeded and it is not excluded */
    struct du_ent ent; /* the root itself (ent.dir set for a directory) */
};

struct du_walk_opts {
    bool follow;       /* -L: follow every symbolic link */
    bool follow_args;  /* -D/-H: follow symbolic links named on the command line */
    bool one_fs;       /* -x: skip entries on other file systems than their root's */
    bool apparent;     /* sizes are st_size, not allocated blocks */
    bool keep_files;   /* keep every non-directory entry with its name (-a) */
    bool hash_all;     /* every inode, directories too, counts once (-L, several roots) */
    bool count_links;  /* -l: count hard links every time */
    int jobs;          /* walker goroutines at most (the semaphore's size) */
    char **excludes;   /* --exclude patterns, matched as GNU du does */
    size_t n_excludes;
    bool clear_line;   /* messages first clear a progress line on the terminal */
    int64_t delay_ns;  /* CSPDU_TEST_DELAY_US: sleep before reading each directory */
};

/* What walkers send the aggregator: counts since their last message, and the
 * nodes they created, whose ownership (for freeing) passes with it. */
struct du_batch {
    uint64_t files, dirs, bytes;
    struct du_dir *nodes, *nodes_tail;
};

struct du_walk;

/* Stats the roots (reporting those that fail) and prepares the walk. NULL
 * and errno on failure. */
struct du_walk *du_walk_new(const struct du_walk_opts *o, char *const *args, size_t n);

/* Starts the walk on goroutines: batches arrive on results (elements of
 * struct du_batch), which is closed once every walker has returned. Closing
 * done cancels the walk. 0 or a CSP_E* code. */
int du_walk_start(struct du_walk *w, csp_chan *results, csp_chan *done);

/* For the aggregator, on each batch it receives: take over the batch's nodes
 * (they are freed by du_walk_free; walkers may still be filling them). */
void du_walk_adopt(struct du_walk *w, const struct du_batch *b);

size_t du_walk_roots(const struct du_walk *w, const struct du_root **roots);
bool du_walk_failed(const struct du_walk *w);        /* was any error reported */
uint64_t du_walk_handoffs(const struct du_walk *w);  /* walker goroutines started */
void du_walk_free(struct du_walk *w);

/* The name of an entry of d. */
static inline const char *du_ent_name(const struct du_dir *d, const struct du_ent *e)
{
    return d->names + e->name;
}

/* realloc, or exit with "memory exhausted" (as GNU's xalloc_die). */
void *du_xrealloc(void *p, size_t n);

/* A path built in a growable buffer *buf of *cap bytes. du_path_put puts s
 * at len and du_path_join appends "/name", or just "name" after a slash, as
 * fts joins names (so root "d/" gives "d/x", not "d//x"); both return the new
 * length. */
size_t du_path_put(char **buf, size_t *cap, size_t len, const char *s);
size_t du_path_join(char **buf, size_t *cap, size_t len, const char *name);

/* Messages on stderr as GNU du words them ("csp-du: cannot access 'x': ..."),
 * the file name quoted as GNU's quoteaf does; sets the failure flag when w
 * is not NULL. */
void du_error(struct du_walk *w, int err, const char *what, const char *path);

/* A set of (dev, ino) pairs with a value each, sharded with a mutex per
 * shard so walkers can share it. du_set_add stores val (not NULL) and
 * returns NULL if the pair is new, else returns the value stored before. */
struct du_set;
struct du_set *du_set_new(void);
void *du_set_add(struct du_set *s, uint64_t dev, uint64_t ino, void *val);
void du_set_free(struct du_set *s);

#endif /* CSP_DU_WALK_H */
