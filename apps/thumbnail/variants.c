/*
 * variants.c - the book's makeThumbnails .. makeThumbnails6 (gopl.io/ch8/
 * thumbnail), each under its Go original, statement for statement.
 *
 * How the Go becomes C:
 * - go func(f string) { ... }(f) is csp_go_copy of a closure: the channel
 *   and wait group the literal uses, and the name itself, so every goroutine
 *   has its own copy of f, as in Go.
 * - Each goroutine holds its own reference to the channel it sends on and
 *   drops it when it is done, so the function's release on return frees
 *   nothing in use. A goroutine leaked by make_thumbnails4 never drops its
 *   reference: its channel stays allocated with it, as it would in Go.
 * - error is image_error, a value; string results are char arrays or
 *   malloc'd copies. makeThumbnails5's item holds its name as an array, not a
 *   pointer: items left in the buffer after an early return are then freed
 *   with the channel, where Go's garbage collector would collect them.
 * - log.Println(err) prints the standard logger's date and time, then err.
 */
#include "config.h"

#include "variants.h"

#include <csp.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

image_file_fn thumbnail_image_file = image_file;

/* ------------------------------------------------------------------------
 * What Go's runtime and standard library give for free
 * ------------------------------------------------------------------------ */

/* Go's runtime gives up when it cannot get memory or a thread: so do we. */
static void fatal(const char *what, int code)
{
    fprintf(stderr, "thumbnail: %s: %s\n", what, csp_strerror(code));
    exit(1);
}

static csp_chan *make_chan(size_t elem_size, size_t cap)
{
    csp_chan *c = csp_chan_make(elem_size, cap);
    if (!c)
        fatal("cannot make a channel", -errno);
    return c;
}

/* log.Println(msg) */
static void log_println(const char *msg)
{
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S ", &tm);
    fprintf(stderr, "%s%s\n", stamp, msg); /* one call: lines never interleave */
}

/* What a goroutine's function literal captures. */
typedef struct closure {
    csp_chan *ch; /* the channel it sends on (its own reference), or NULL */
    csp_wg *wg;   /* the wait group it is counted on, or NULL */
    char f[];     /* the file name: its own copy */
} closure;

/* go fn(f), fn capturing ch and wg. A macro so that csp_dump and
 * CSP_DEBUG=leaks show the variant's line and fn's name as the spawn site. */
#define go_closure(fn, ch, wg, f) go_closure_at((fn), #fn, __LINE__, (ch), (wg), (f))

static void go_closure_at(csp_fn fn, const char *name, int line, csp_chan *ch, csp_wg *wg,
                          const char *f)
{
    size_t len = strlen(f) + 1, size = offsetof(closure, f) + len;
    closure *c = malloc(size);
    if (!c)
        fatal("cannot start a goroutine", CSP_ENOMEM);
    c->ch = ch ? csp_chan_retain(ch) : NULL;
    c->wg = wg;
    memcpy(c->f, f, len);
    int rc = csp_go_copy_at(fn, c, size, __FILE__, line, name);
    free(c);
    if (rc != 0)
        fatal("cannot start a goroutine", rc);
}

/* ------------------------------------------------------------------------
 * makeThumbnails: sequential
 * ------------------------------------------------------------------------ */

/*
 * func makeThumbnails(filenames []string) {
 *     for _, f := range filenames {
 *         if _, err := thumbnail.ImageFile(f); err != nil {
 *             log.Println(err)
 *         }
 *     }
 * }
 */
void make_thumbnails1(const char *const *filenames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char thumb[PATH_MAX];
        image_error err;
        if (thumbnail_image_file(filenames[i], thumb, sizeof thumb, &err) != 0)
            log_println(err.msg);
    }
}

/* ------------------------------------------------------------------------
 * makeThumbnails2: parallel, and wrong
 * ------------------------------------------------------------------------ */

/* go thumbnail.ImageFile(f) // NOTE: ignoring errors */
static void image_file_ignoring_errors(void *arg)
{
    closure *c = arg;
    char thumb[PATH_MAX];
    image_error err;
    thumbnail_image_file(c->f, thumb, sizeof thumb, &err);
}

/*
 * // NOTE: incorrect!
 * func makeThumbnails2(filenames []string) {
 *     for _, f := range filenames {
 *         go thumbnail.ImageFile(f) // NOTE: ignoring errors
 *     }
 * }
 */
void make_thumbnails2(const char *const *filenames, size_t n)
{
    for (size_t i = 0; i < n; i++)
        go_closure(image_file_ignoring_errors, NULL, NULL, filenames[i]);
}

/* ------------------------------------------------------------------------
 * makeThumbnails3: parallel, waiting on a channel
 * ------------------------------------------------------------------------ */

/*
 * go func(f string) {
 *     thumbnail.ImageFile(f) // NOTE: ignoring errors
 *     ch <- struct{}{}
 * }(f)
 */
static void worker3(void *arg)
{
    closure *c = arg;
    char thumb[PATH_MAX];
    image_error err;
    thumbnail_image_file(c->f, thumb, sizeof thumb, &err);
    csp_send(c->ch, NULL);
    csp_chan_release(c->ch);
}

/*
 * // makeThumbnails3 makes thumbnails of the specified files in parallel.
 * func makeThumbnails3(filenames []string) {
 *     ch := make(chan struct{})
 *     for _, f := range filenames {
 *         go func(f string) { ... }(f)
 *     }
 *     // Wait for goroutines to complete.
 *     for range filenames {
 *         <-ch
 *     }
 * }
 */
void make_thumbnails3(const char *const *filenames, size_t n)
{
    csp_chan *ch = make_chan(0, 0);
    for (size_t i = 0; i < n; i++)
        go_closure(worker3, ch, NULL, filenames[i]);
    for (size_t i = 0; i < n; i++)
        csp_recv(ch, NULL);
    csp_chan_release(ch);
}

/* ------------------------------------------------------------------------
 * makeThumbnails4: the first error, and a goroutine leak
 * ------------------------------------------------------------------------ */

/*
 * go func(f string) {
 *     _, err := thumbnail.ImageFile(f)
 *     errors <- err
 * }(f)
 *
 * Once make_thumbnails4 has returned, nothing receives from errors: the send
 * blocks for ever and the release below is never reached.
 */
static void worker4(void *arg)
{
    closure *c = arg;
    char thumb[PATH_MAX];
    image_error err = { "" };
    thumbnail_image_file(c->f, thumb, sizeof thumb, &err);
    csp_send(c->ch, &err);
    csp_chan_release(c->ch);
}

/*
 * // makeThumbnails4 makes thumbnails for the specified files in parallel.
 * // It returns an error if any step failed.
 * func makeThumbnails4(filenames []string) error {
 *     errors := make(chan error)
 *     for _, f := range filenames {
 *         go func(f string) { ... }(f)
 *     }
 *     for range filenames {
 *         if err := <-errors; err != nil {
 *             return err // NOTE: incorrect: goroutine leak!
 *         }
 *     }
 *     return nil
 * }
 */
int make_thumbnails4(const char *const *filenames, size_t n, image_error *err)
{
    csp_chan *errors = make_chan(sizeof(image_error), 0);
    for (size_t i = 0; i < n; i++)
        go_closure(worker4, errors, NULL, filenames[i]);
    for (size_t i = 0; i < n; i++) {
        csp_recv(errors, err);
        if (err->msg[0] != '\0') {
            csp_chan_release(errors);
            return -1; /* NOTE: incorrect: goroutine leak! */
        }
    }
    csp_chan_release(errors);
    err->msg[0] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------
 * makeThumbnails5: the first error, and no leak (a buffered channel)
 * ------------------------------------------------------------------------ */

/* type item struct { thumbfile string; err error } */
typedef struct item {
    char thumbfile[PATH_MAX]; /* an array: see the top of the file */
    image_error err;
} item;

/*
 * go func(f string) {
 *     var it item
 *     it.thumbfile, it.err = thumbnail.ImageFile(f)
 *     ch <- it
 * }(f)
 *
 * The send never blocks: the buffer has room for every goroutine's item.
 */
static void worker5(void *arg)
{
    closure *c = arg;
    item it = { "", { "" } };
    thumbnail_image_file(c->f, it.thumbfile, sizeof it.thumbfile, &it.err);
    csp_send(c->ch, &it);
    csp_chan_release(c->ch);
}

void thumbfiles_free(char **thumbfiles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(thumbfiles[i]);
    free(thumbfiles);
}

/*
 * // makeThumbnails5 makes thumbnails for the specified files in parallel.
 * // It returns the generated file names in an arbitrary order,
 * // or an error if any step failed.
 * func makeThumbnails5(filenames []string) (thumbfiles []string, err error) {
 *     type item struct { ... }
 *     ch := make(chan item, len(filenames))
 *     for _, f := range filenames {
 *         go func(f string) { ... }(f)
 *     }
 *     for range filenames {
 *         it := <-ch
 *         if it.err != nil {
 *             return nil, it.err
 *         }
 *         thumbfiles = append(thumbfiles, it.thumbfile)
 *     }
 *     return thumbfiles, nil
 * }
 */
int make_thumbnails5(const char *const *filenames, size_t n, char ***thumbfiles, size_t *nthumbs,
                     image_error *err)
{
    *thumbfiles = NULL;
    *nthumbs = 0;
    csp_chan *ch = make_chan(sizeof(item), n);
    for (size_t i = 0; i < n; i++)
        go_closure(worker5, ch, NULL, filenames[i]);
    char **files = malloc((n ? n : 1) * sizeof *files);
    if (!files)
        fatal("cannot allocate", CSP_ENOMEM);
    size_t nfiles = 0;
    for (size_t i = 0; i < n; i++) {
        item it;
        csp_recv(ch, &it);
        if (it.err.msg[0] != '\0') {
            *err = it.err;
            thumbfiles_free(files, nfiles);
            csp_chan_release(ch);
            return -1;
        }
        if (!(files[nfiles] = strdup(it.thumbfile)))
            fatal("cannot allocate", CSP_ENOMEM);
        nfiles++;
    }
    csp_chan_release(ch);
    *thumbfiles = files;
    *nthumbs = nfiles;
    err->msg[0] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------
 * makeThumbnails6: names from a channel, a wait group and a closer
 * ------------------------------------------------------------------------ */

/*
 * // worker
 * go func(f string) {
 *     defer wg.Done()
 *     thumb, err := thumbnail.ImageFile(f)
 *     if err != nil {
 *         log.Println(err)
 *         return
 *     }
 *     info, _ := os.Stat(thumb) // OK to ignore error
 *     sizes <- info.Size()
 * }(f)
 *
 * Where Go's info would be nil (the thumbnail vanished before the stat, and
 * info.Size() panics) the size sent is 0.
 */
static void worker6(void *arg)
{
    closure *c = arg;
    char thumb[PATH_MAX];
    image_error err;
    struct stat info;
    if (thumbnail_image_file(c->f, thumb, sizeof thumb, &err) != 0) {
        log_println(err.msg);
    } else {
        int64_t size = stat(thumb, &info) == 0 ? (int64_t)info.st_size : 0;
        csp_send(c->ch, &size);
    }
    csp_chan_release(c->ch);
    csp_wg_done(c->wg); /* the deferred call: last, wg may be freed once it is zero */
}

/*
 * // closer
 * go func() {
 *     wg.Wait()
 *     close(sizes)
 * }()
 */
static void closer6(void *arg)
{
    closure *c = arg;
    csp_wg_wait(c->wg);
    csp_close(c->ch);
    csp_chan_release(c->ch);
}

/*
 * // makeThumbnails6 makes thumbnails for each file received from the channel.
 * // It returns the number of bytes occupied by the files it creates.
 * func makeThumbnails6(filenames <-chan string) int64 {
 *     sizes := make(chan int64)
 *     var wg sync.WaitGroup // number of working goroutines
 *     for f := range filenames {
 *         wg.Add(1)
 *         // worker
 *         go func(f string) { ... }(f)
 *     }
 *     // closer
 *     go func() { ... }()
 *     var total int64
 *     for size := range sizes {
 *         total += size
 *     }
 *     return total
 * }
 */
int64_t make_thumbnails6(csp_recv_chan filenames)
{
    csp_chan *sizes = make_chan(sizeof(int64_t), 0);
    csp_wg *wg = csp_wg_new();
    if (!wg)
        fatal("cannot make a wait group", -errno);
    const char *f;
    while (csp_recv(filenames, &f) == 0) {
        csp_wg_add(wg, 1);
        go_closure(worker6, sizes, wg, f);
    }
    go_closure(closer6, sizes, wg, "");
    int64_t total = 0, size;
    while (csp_recv(sizes, &size) == 0)
        total += size;
    /* The closer closed sizes after its wait returned: wg is no longer used. */
    csp_chan_release(sizes);
    csp_wg_free(wg);
    return total;
}
