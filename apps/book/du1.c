/*
 * du1 - gopl.io/ch8/du1: the disk usage of the files in directories. One
 * goroutine walks each tree in turn, recursively, sending the size of every
 * file it finds on an unbuffered channel and closing it at the end; main sums
 * the sizes as they come and prints the total.
 *
 * usage: du1 [-b] [DIR...]
 *   -b   print the exact total, "N files  N bytes", instead of the book's
 *        "N files  N.N GB"
 *   DIR  the trees to walk (default ".")
 *
 * What is counted is what the book counts: os.FileInfo.Size() of every
 * entry that is not a directory, from lstat, so symbolic links are not
 * followed (a link counts its own size), a sparse file counts its apparent
 * size, and a file with several hard links counts once per name. A
 * directory that cannot be read is reported on standard error ("du1: open
 * DIR: Permission denied"; the book's message) and the walk goes on. Exit
 * status: 0; 1 when the runtime could not start the walk; 2 for a usage
 * error.
 *
 * walkDir recurses on the walking goroutine's stack, which unlike Go's does
 * not grow (CSP_STACK_SIZE, 256 KiB by default): enough for the deepest
 * tree open(2) can reach (a path under PATH_MAX, 4096 bytes: 2048 levels)
 * in a plain build, but under the sanitizers that takes CSP_STACK_SIZE=1048576.
 */
#include "dirents.h"

#include <csp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exact_bytes; /* -b */

/* func dirents(dir string) []os.FileInfo */
static struct fileinfos dirents(const char *dir)
{
    char *err;
    struct fileinfos entries = read_dir(dir, &err); /* ioutil.ReadDir(dir) */
    if (err) {
        fprintf(stderr, "du1: %s\n", err);
        free(err);
        fileinfos_free(&entries); /* return nil */
    }
    return entries;
}

/* func walkDir(dir string, fileSizes chan<- int64) */
static void walk_dir(const char *dir, csp_send_chan file_sizes)
{
    struct fileinfos entries = dirents(dir);
    for (size_t i = 0; i < entries.n; i++) {
        struct fileinfo *entry = &entries.v[i];
        if (entry->is_dir) {
            char *subdir = path_join(dir, entry->name);
            walk_dir(subdir, file_sizes);
            free(subdir);
        } else {
            csp_send(file_sizes, &entry->size);
        }
    }
    fileinfos_free(&entries);
}

/* go func() { for _, root := range roots { walkDir(root, fileSizes) }; close(fileSizes) }() */
struct walk_roots_args {
    char    **roots;      /* argv's */
    int       nroots;
    csp_chan *file_sizes; /* a reference of our own, released here */
};

static void walk_roots(void *arg)
{
    struct walk_roots_args *a = arg;
    csp_send_chan out = csp_send_only(a->file_sizes);
    for (int i = 0; i < a->nroots; i++)
        walk_dir(a->roots[i], out);
    csp_close(out);
    csp_chan_release(a->file_sizes);
}

/* func printDiskUsage(nfiles, nbytes int64) */
static void print_disk_usage(int64_t nfiles, int64_t nbytes)
{
    if (exact_bytes)
        printf("%" PRId64 " files  %" PRId64 " bytes\n", nfiles, nbytes);
    else
        printf("%" PRId64 " files  %.1f GB\n", nfiles, (double)nbytes / 1e9);
}

static void usage(void)
{
    fprintf(stderr, "usage: du1 [-b] [DIR...]\n");
    exit(2);
}

/* func main() */
int main(int argc, char **argv)
{
    /* Determine the initial directories. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-b") == 0) {
            exact_bytes = 1;
        } else {
            usage();
        }
    }
    static char *dot[] = { "." };
    char **roots = i < argc ? argv + i : dot;
    int nroots = i < argc ? argc - i : 1;

    /* Traverse the file tree. */
    csp_chan *file_sizes = csp_chan_make(sizeof(int64_t), 0); /* make(chan int64) */
    if (!file_sizes) {
        perror("du1: csp_chan_make");
        return 1;
    }
    struct walk_roots_args wa = { roots, nroots, csp_chan_retain(file_sizes) };
    int err = csp_go_copy(walk_roots, &wa, sizeof wa);
    if (err < 0) {
        fprintf(stderr, "du1: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    /* Print the results. */
    int64_t nfiles = 0, nbytes = 0, size;
    while (csp_recv(file_sizes, &size) == 0) { /* for size := range fileSizes */
        nfiles++;
        nbytes += size;
    }
    print_disk_usage(nfiles, nbytes);
    csp_chan_release(file_sizes);
    return fflush(stdout) == 0 ? 0 : 1;
}
