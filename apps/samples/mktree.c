/*
 * mktree - makes a sample directory tree for csp-du's demo and benchmarks.
 *
 * Usage: mktree DIR [DIRS [FILES_PER_DIR]]
 *
 * DIRS directories (default 2000) in a bushy tree a few levels deep (directory
 * d lives under d/8, which lives under d/64, ...), each with FILES_PER_DIR
 * files (default 10): a tenth empty, most under 4 KiB, some up to 256 KiB,
 * one in a hundred a sparse 1 MiB. Also some hard links and symbolic links, as real trees have.
 * Deterministic: the same arguments make the same tree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FANOUT = 8, BIG = 1 << 20 };

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Path of directory d relative to the root: "d1/d9/d77". */
static void dir_path(char *buf, size_t len, long d)
{
    long chain[32];
    int n = 0;
    for (; d >= FANOUT && n < 31; d /= FANOUT)
        chain[n++] = d;
    chain[n++] = d;
    size_t used = 0;
    buf[0] = '\0';
    while (n-- > 0 && used < len) {
        int w = snprintf(buf + used, len - used, "%sd%ld", used ? "/" : "", chain[n]);
        used += w > 0 ? (size_t)w : 0;
    }
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "mktree: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void write_file(const char *path, const char *data)
{
    uint32_t r = next_rand() % 100;
    size_t size = r < 10 ? 0 : r < 95 ? next_rand() % 4096 : next_rand() % (BIG / 4);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("cannot create", path);
    if (r == 99) { /* sparse: a hole with one block of data at the end */
        if (ftruncate(fd, BIG) != 0 || pwrite(fd, data, 4096, BIG - 4096) != 4096)
            die("cannot write", path);
    } else if (size && write(fd, data, size) != (ssize_t)size) {
        die("cannot write", path);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: mktree DIR [DIRS [FILES_PER_DIR]]\n");
        return 2;
    }
    long ndirs = argc > 2 ? atol(argv[2]) : 2000;
    long nfiles = argc > 3 ? atol(argv[3]) : 10;
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
        die("cannot create", argv[1]);
    if (chdir(argv[1]) != 0)
        die("cannot enter", argv[1]);
    char *data = malloc(BIG);
    if (!data)
        die("out of memory", "");
    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)('a' + i % 26);
    char dir[1024], path[1100];
    for (long d = 0; d < ndirs; d++) { /* parents first: d / FANOUT < d */
        dir_path(dir, sizeof dir, d);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            die("cannot create", dir);
        for (long f = 0; f < nfiles; f++) {
            snprintf(path, sizeof path, "%s/f%ld.dat", dir, f);
            write_file(path, data);
        }
        if (d % 100 == 50 && nfiles > 0) { /* a hard link to a file of an earlier directory */
            char target[1100];
            dir_path(dir, sizeof dir, d / 2);
            snprintf(target, sizeof target, "%s/f0.dat", dir);
            dir_path(dir, sizeof dir, d);
            snprintf(path, sizeof path, "%s/hardlink.dat", dir);
            if (link(target, path) != 0 && errno != EEXIST)
                die("cannot link", path);
        }
    }
    if (symlink("d1", "link-to-d1") != 0 && errno != EEXIST)
        die("cannot link", "link-to-d1");
    if (symlink("missing", "dangling-link") != 0 && errno != EEXIST)
        die("cannot link", "dangling-link");
    free(data);
    return 0;
}
