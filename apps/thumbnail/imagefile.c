/*
 * imagefile.c - one image file's thumbnail, from file to file.
 *
 * The input is opened without blocking, checked to be a regular file and
 * read whole; its first bytes choose the thumbnail's type. The thumbnail is
 * written to a temporary file beside its final name and renamed only when
 * complete. csp-thumbnail's workers call imagefile_make for each job; the
 * book's ImageFile (image_file) is the same call with fixed options.
 */
#include "config.h"

#include "imagefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return IMAGEFILE_FAILED;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool newer_or_same(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

int imagefile_name(const imagefile_opts *o, const char *path, size_t rel, const char *type,
                   char *out, size_t size)
{
    const char *name = o->outdir ? path + rel : path;
    const char *base = base_name(name), *dot = strrchr(base, '.');
    int stem = (int)(dot && dot != base ? (size_t)(dot - name) : strlen(name));
    int n = o->outdir ? snprintf(out, size, "%s/%.*s.thumb.%s", o->outdir, stem, name, type)
                      : snprintf(out, size, "%.*s.thumb.%s", stem, name, type);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int imagefile_make_dirs(char *path, size_t from)
{
    for (char *s = path + from; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        int r = mkdir(path, 0777);
        int e = errno;
        *s = '/';
        if (r != 0 && e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

/* The whole of fd (size bytes expected) in a malloc'd buffer. */
static unsigned char *read_all(int fd, size_t size, size_t *len)
{
    unsigned char *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if (n == 0)
            break; /* the file shrank: take what is there */
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

/*
 * Writes the thumbnail of data to a temporary file beside out and renames it
 * to out only when complete, so that a failure or a crash never leaves a
 * partial thumbnail under the real name, and a failure leaves nothing.
 */
static int write_thumbnail(const imagefile_opts *o, const unsigned char *data, size_t len,
                           const char *out, int64_t *bytes, char *why, size_t n)
{
    char tmp[PATH_MAX];
    const char *base = base_name(out);
    int dirlen = (int)(base - out);
    if (snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", dirlen, out, base) >= (int)sizeof tmp)
        return fail(why, n, "%s: name too long", out);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return fail(why, n, "cannot write %s: %s", out, strerror(errno));
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return fail(why, n, "cannot write %s: %s", out, strerror(errno));
    }
    int rc = image_thumbnail(data, len, &o->img, f, bytes, why, n) == 0 ? IMAGEFILE_MADE
                                                                       : IMAGEFILE_FAILED;
    if (rc == IMAGEFILE_MADE && fchmod(fd, o->mode) != 0)
        rc = fail(why, n, "cannot write %s: %s", out, strerror(errno));
    if (fclose(f) != 0 && rc == IMAGEFILE_MADE)
        rc = fail(why, n, "cannot write %s: %s", out, strerror(errno));
    if (rc == IMAGEFILE_MADE && rename(tmp, out) != 0)
        rc = fail(why, n, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
    if (rc != IMAGEFILE_MADE)
        unlink(tmp);
    return rc;
}

int imagefile_make(const imagefile_opts *o, const char *path, size_t rel, char *out,
                   size_t out_size, int64_t *bytes, char *why, size_t why_size)
{
    unsigned char head[3];
    struct stat src, dst;
    int rc = IMAGEFILE_FAILED;
    /* O_NONBLOCK: a FIFO given as an image must not hang its caller in
     * open; it fails the regular-file test below instead. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return fail(why, why_size, "%s", strerror(errno));
    ssize_t nhead = 0;
    if (fstat(fd, &src) != 0 || !S_ISREG(src.st_mode)) {
        fail(why, why_size, "not a regular file");
    } else if ((nhead = pread(fd, head, sizeof head, 0)) < 0) {
        fail(why, why_size, "%s", strerror(errno));
    } else if (imagefile_name(o, path, rel, image_output_type(head, (size_t)nhead), out,
                              out_size)) {
        fail(why, why_size, "thumbnail name too long");
    } else if (!o->force && stat(out, &dst) == 0 && newer_or_same(dst.st_mtim, src.st_mtim)) {
        rc = IMAGEFILE_UP_TO_DATE;
    } else if (o->outdir && imagefile_make_dirs(out, strlen(o->outdir) + 1) != 0) {
        fail(why, why_size, "cannot make a directory for %s: %s", out, strerror(errno));
    } else {
        size_t len;
        unsigned char *data = read_all(fd, (size_t)src.st_size, &len);
        if (!data)
            fail(why, why_size, "%s", strerror(errno));
        else
            rc = write_thumbnail(o, data, len, out, bytes, why, why_size);
        free(data);
    }
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------
 * The book's thumbnail.ImageFile
 * ------------------------------------------------------------------------ */

/*
 * 0666 less the umask: the mode os.Create (and csp-thumbnail) gives. umask(2)
 * can only be read by changing it, which would race with other threads
 * creating files, so it is read once from /proc/self/status (Linux 4.7 and
 * later); where that cannot be read, the common umask 022 is assumed.
 */
static mode_t default_mode = 0644;
static pthread_once_t default_mode_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned mask;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Umask: %o", &mask) == 1) {
            default_mode = 0666 & ~(mode_t)mask;
            break;
        }
    }
    fclose(f);
}

int image_file(const char *infile, char *thumbfile, size_t size, image_error *err)
{
    pthread_once(&default_mode_once, read_umask);
    const imagefile_opts o = { .img = { 128, 128, 85 }, .force = true, .mode = default_mode };
    char why[320]; /* as csp-thumbnail's: the name gets the rest of err->msg */
    int64_t bytes;
    if (imagefile_make(&o, infile, 0, thumbfile, size, &bytes, why, sizeof why) == IMAGEFILE_MADE) {
        err->msg[0] = '\0';
        return 0;
    }
    snprintf(err->msg, sizeof err->msg, "%s: %s", infile, why);
    return -1;
}
