/*
 * dirents.h - what the book's du1..du4 take from Go's library: reading a
 * directory into []os.FileInfo (ioutil.ReadDir, f.Readdir) and
 * filepath.Join. Each port keeps its own dirents() and walkDir(), as in the
 * book, so that each reads side by side with its Go original.
 */
#ifndef BOOK_DIRENTS_H
#define BOOK_DIRENTS_H

#include <stddef.h>
#include <stdint.h>

/* One directory entry: the part of os.FileInfo that du uses. */
struct fileinfo {
    char   *name;   /* entry.Name() */
    int     is_dir; /* entry.IsDir(): lstat's, so a link to a directory is not one */
    int64_t size;   /* entry.Size(): lstat's st_size (a link's own, a sparse file's apparent) */
};

/* A directory's entries: Go's []os.FileInfo. */
struct fileinfos {
    struct fileinfo *v; /* the entries, in the order readdir gave them */
    size_t           n; /* how many */
};

/* Every entry of dir but "." and "..", each lstat'ed relative to the open
 * directory. On failure *err is set to a malloc'd message worded like Go's
 * *os.PathError ("open DIR: Permission denied"; the caller frees it), and
 * the entries read before the failure are still returned, as f.Readdir does
 * (ioutil.ReadDir's callers drop them). An entry that vanished between
 * readdir and lstat is skipped, as Go does. Free with fileinfos_free. */
struct fileinfos read_dir(const char *dir, char **err);
void fileinfos_free(struct fileinfos *fi);

/* filepath.Join(dir, name), malloc'd: one slash between them, and "." as
 * dir gives name alone. Exits on out-of-memory, as Go's runtime would. */
char *path_join(const char *dir, const char *name);

/* strdup, exiting on out-of-memory likewise. */
char *xstrdup(const char *s);

#endif /* BOOK_DIRENTS_H */
