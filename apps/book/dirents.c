/*
 * dirents.c - Go's ioutil.ReadDir / f.Readdir and filepath.Join for the
 * book's du ports (see dirents.h).
 */
#include "dirents.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Go's runtime dies on out-of-memory; so do we. */
static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fputs("fatal error: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

/* "OP PATH: strerror(e)", malloc'd: a *os.PathError's Error(). */
static char *path_error(const char *op, const char *path, int e)
{
    const char *msg = strerror(e);
    size_t n = strlen(op) + strlen(path) + strlen(msg) + 4;
    char *s = xrealloc(NULL, n);
    snprintf(s, n, "%s %s: %s", op, path, msg);
    return s;
}

struct fileinfos read_dir(const char *dir, char **err)
{
    struct fileinfos fi = { NULL, 0 };
    size_t cap = 0;
    *err = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        *err = path_error("open", dir, errno);
        return fi;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                *err = path_error("readdirent", dir, errno);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue; /* removed since readdir saw it */
            char *path = path_join(dir, de->d_name);
            *err = path_error("lstat", path, errno);
            free(path);
            break;
        }
        if (fi.n == cap) {
            cap = cap ? 2 * cap : 16;
            fi.v = xrealloc(fi.v, cap * sizeof *fi.v);
        }
        fi.v[fi.n].name = xstrdup(de->d_name);
        fi.v[fi.n].is_dir = S_ISDIR(st.st_mode);
        fi.v[fi.n].size = (int64_t)st.st_size;
        fi.n++;
    }
    closedir(d);
    return fi;
}

void fileinfos_free(struct fileinfos *fi)
{
    for (size_t i = 0; i < fi->n; i++)
        free(fi->v[i].name);
    free(fi->v);
    fi->v = NULL;
    fi->n = 0;
}

char *path_join(const char *dir, const char *name)
{
    size_t dlen = strlen(dir), nlen = strlen(name);
    if (strcmp(dir, ".") == 0)
        dlen = 0;
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--; /* "a/" + "b" is "a/b"; "/" + "b" is "/b" */
    int slash = dlen > 0 && dir[dlen - 1] != '/';
    char *s = xrealloc(NULL, dlen + slash + nlen + 1);
    memcpy(s, dir, dlen);
    if (slash)
        s[dlen] = '/';
    memcpy(s + dlen + slash, name, nlen + 1);
    return s;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}
