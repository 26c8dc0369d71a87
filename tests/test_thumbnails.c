/*
 * test_thumbnails.c - the book's makeThumbnails .. makeThumbnails6
 * (apps/thumbnail/variants.c) and thumbnail.ImageFile (image_file), on
 * small JPEG and PNG images each test writes with stb_image_write into a
 * temporary directory of its own and removes.
 *
 * Clauses (The Go Programming Language, section 8.5, "Looping in
 * Parallel"): ImageFile writes x.thumb.jpg beside x.jpg and names it, and
 * a missing file or a corrupt image is an error naming the file, with no
 * thumbnail left; makeThumbnails makes every thumbnail with no goroutine;
 * makeThumbnails2 returns before its goroutines have done anything, and
 * they finish later; makeThumbnails3 returns with every thumbnail made;
 * makeThumbnails4 returns nil when all succeed, and on a bad file returns
 * its error and leaks every goroutine that had not sent yet, blocked in the
 * send for ever; makeThumbnails5, on the same input, returns the same error
 * and every goroutine finishes; makeThumbnails6 returns the total size of
 * the thumbnails it made, one goroutine per name plus a closer.
 *
 * Determinism: main points the variants' thumbnail_image_file at
 * gated_image_file. While a test has set `gate`, every good image's
 * goroutine waits for the gate to be closed before it calls image_file; a
 * corrupt image's goes straight on. So "nothing is done yet when
 * makeThumbnails2 returns" and "makeThumbnails4's first error is the corrupt
 * file's, with all the others still to send" are certain, not races.
 *
 * Goroutine counts are compared with a baseline taken at the start of each
 * test, never with zero: makeThumbnails4's leaked goroutines stay blocked
 * until the program exits, as in Go, and the tests after it must not care.
 * At exit they are harmless: the program ends them, LeakSanitizer finds
 * their memory still referenced from their threads, and CSP_DEBUG=leaks
 * only lists them (the leak_reported_at_exit test runs that in a child and
 * checks the list and the exit status 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <csp.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "../apps/thumbnail/imagefile.h"
#include "../apps/thumbnail/variants.h"

#define BOUND_MS 20000 /* for anything that should take milliseconds */

static const char *prog;   /* argv[0], for the child runs */
static mode_t test_umask;  /* read in main, before any thread */

/* ------------------------------------------------------------------------
 * Sample images in a temporary directory
 * ------------------------------------------------------------------------ */

/* The good images: two JPEGs and two PNGs, landscape, portrait, and one
 * smaller than the 128x128 box (never enlarged). */
static const struct sample {
    const char *name, *thumb; /* the file, and its thumbnail's name */
    int w, h;                 /* its size */
    int tw, th;               /* its thumbnail's */
} good[] = {
    { "a.jpg", "a.thumb.jpg", 320, 240, 128, 96 },
    { "b.png", "b.thumb.png", 200, 300, 85, 128 },
    { "c.jpg", "c.thumb.jpg", 400, 100, 128, 32 },
    { "d.png", "d.thumb.png", 96, 64, 96, 64 },
};
#define NGOOD (sizeof good / sizeof good[0])

enum { WITH_CORRUPT = 1, WITH_MISSING = 2 };

/* A temporary directory holding the good images, and with WITH_CORRUPT a
 * JPEG header followed by junk (corrupt.jpg); WITH_MISSING lists a name
 * that does not exist (missing.jpg). files[] is what the variants get:
 * the corrupt file comes third, so that it is neither first nor last. */
typedef struct fixture {
    char dir[PATH_MAX];             /* the directory */
    char path[NGOOD + 2][PATH_MAX]; /* dir/NAME of every file listed */
    const char *files[NGOOD + 2];   /* path[i], as the variants take them */
    size_t n;                       /* files listed */
    char thumb[NGOOD][PATH_MAX];    /* dir/THUMB of each good image */
    char corrupt[PATH_MAX];         /* dir/corrupt.jpg (written only WITH_CORRUPT) */
    char missing[PATH_MAX];         /* dir/missing.jpg (never written) */
} fixture;

/* A picture that compresses like a photo: gradients, a bright box, noise. */
static int write_image(const char *path, int w, int h, uint32_t seed)
{
    unsigned char *px = malloc((size_t)w * (size_t)h * 3);
    if (!px)
        return 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int box = x > w / 4 && x < w / 2 && y > h / 3 && y < 2 * h / 3;
            uint32_t noise = csp_test_xorshift(&seed) & 15;
            p[0] = (unsigned char)(box ? 240 : x * 200 / w + noise);
            p[1] = (unsigned char)(box ? 230 : y * 200 / h + noise);
            p[2] = (unsigned char)(box ? 40 : (x + y) * 100 / (w + h) + noise);
        }
    }
    size_t len = strlen(path);
    int ok = len > 4 && !strcmp(path + len - 4, ".png") ? stbi_write_png(path, w, h, 3, px, w * 3)
                                                        : stbi_write_jpg(path, w, h, 3, px, 90);
    free(px);
    return ok;
}

static bool join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PATH_MAX;
}

static void list(fixture *fx, const char *path)
{
    snprintf(fx->path[fx->n], PATH_MAX, "%s", path);
    fx->files[fx->n] = fx->path[fx->n];
    fx->n++;
}

/* The fixture helpers report on stderr and return false rather than assert:
 * the child, outside any CUnit test, uses them too. */
static bool fixture_fail(const char *what, const char *path)
{
    fprintf(stderr, "\nfixture: %s %s: %s\n", what, path, strerror(errno));
    return false;
}

static bool fixture_make(fixture *fx, int with)
{
    static const char junk[] = "\xff\xd8\xff\xe0 this is not really a JPEG";
    memset(fx, 0, sizeof *fx);
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/test_thumbnails.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return fixture_fail("cannot make", fx->dir);
    if (!join(fx->corrupt, fx->dir, "corrupt.jpg") || !join(fx->missing, fx->dir, "missing.jpg"))
        return fixture_fail("name too long:", fx->dir);
    for (size_t i = 0; i < NGOOD; i++) {
        char path[PATH_MAX];
        if (!join(path, fx->dir, good[i].name) || !join(fx->thumb[i], fx->dir, good[i].thumb))
            return fixture_fail("name too long:", fx->dir);
        if (!write_image(path, good[i].w, good[i].h, (uint32_t)(i + 1) * 2654435761u))
            return fixture_fail("cannot write", path);
        list(fx, path);
        if (i == 1 && (with & WITH_CORRUPT)) {
            FILE *f = fopen(fx->corrupt, "wb");
            if (!f || fwrite(junk, 1, sizeof junk - 1, f) != sizeof junk - 1 || fclose(f) != 0)
                return fixture_fail("cannot write", fx->corrupt);
            list(fx, fx->corrupt);
        }
    }
    if (with & WITH_MISSING)
        list(fx, fx->missing);
    return true;
}

/* Removes the directory and everything in it. */
static bool fixture_remove(fixture *fx)
{
    DIR *d = opendir(fx->dir);
    if (!d)
        return fixture_fail("cannot read", fx->dir);
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (!join(path, fx->dir, e->d_name) || unlink(path) != 0))
            ok = fixture_fail("cannot remove", e->d_name);
    }
    closedir(d);
    if (rmdir(fx->dir) != 0)
        ok = fixture_fail("cannot remove", fx->dir);
    return ok;
}

/* The files in the fixture's directory. */
static size_t entries(const fixture *fx)
{
    DIR *d = opendir(fx->dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* How many of the good images have their thumbnail. */
static size_t thumbs_made(const fixture *fx)
{
    size_t n = 0;
    for (size_t i = 0; i < NGOOD; i++)
        n += exists(fx->thumb[i]);
    return n;
}

/* Every good image has its thumbnail, of the right size, and the directory
 * holds nothing else: no thumbnail of the corrupt file, no temporary file. */
static void assert_all_thumbs(const fixture *fx)
{
    for (size_t i = 0; i < NGOOD; i++) {
        int w = 0, h = 0, c = 0;
        int ok = stbi_info(fx->thumb[i], &w, &h, &c);
        if (!ok || w != good[i].tw || h != good[i].th)
            fprintf(stderr, "\n%s: %dx%d, expected %dx%d\n", fx->thumb[i], w, h, good[i].tw,
                    good[i].th);
        CU_ASSERT(ok);
        CSP_ASSERT_EQ(w, good[i].tw);
        CSP_ASSERT_EQ(h, good[i].th);
    }
    CSP_ASSERT_EQ(entries(fx), 2 * NGOOD + exists(fx->corrupt));
}

/* ------------------------------------------------------------------------
 * The gate, and goroutine counts
 * ------------------------------------------------------------------------ */

/* While set, good images' goroutines wait for its close (see the top). */
static _Atomic(csp_chan *) gate;
/* How many have gone through it: counted after their receive returns, so
 * that seeing the count makes everything they did to the gate happen
 * before the test frees it. A leaked goroutine gives no other such edge:
 * that it made its thumbnail and is blocked is known only from the file
 * system and from csp_stats_get, neither of which orders memory. */
static atomic_size_t gate_passed;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* thumbnail.ImageFile as the variants see it in this program. */
static int gated_image_file(const char *infile, char *thumbfile, size_t size, image_error *err)
{
    csp_chan *g = atomic_load(&gate);
    if (g && strncmp(base_name(infile), "corrupt", 7) != 0) {
        csp_recv(g, NULL);
        atomic_fetch_add(&gate_passed, 1);
    }
    return image_file(infile, thumbfile, size, err);
}

/* The gate helpers return false rather than assert: the child uses them. */
static bool gate_set(void)
{
    csp_chan *g = csp_chan_make(0, 0);
    atomic_store(&gate_passed, 0);
    atomic_store(&gate, g);
    return g != NULL;
}

static bool gate_open(void)
{
    return csp_close(atomic_load(&gate)) == 0;
}

static int all_passed(void *ctx)
{
    return atomic_load(&gate_passed) >= *(size_t *)ctx;
}

/* Frees the gate once n goroutines have gone through it; false if they
 * did not within the bound (the gate is then left allocated). */
static bool gate_clear(size_t n)
{
    if (!csp_test_wait_until(all_passed, &n, BOUND_MS))
        return false;
    csp_chan_release(atomic_exchange(&gate, NULL));
    return true;
}

/* Goroutine counts to compare with. */
typedef struct counts {
    size_t goroutines, blocked; /* running or blocked; of those, blocked */
    uint64_t spawned;           /* started since the program began */
} counts;

static counts counts_now(void)
{
    csp_stats s = csp_test_stats();
    return (counts){ s.goroutines, s.blocked, s.spawned };
}

/* Condition: goroutines and blocked are exactly those at ctx. */
static int counts_are(void *ctx)
{
    const counts *want = ctx;
    counts c = counts_now();
    return c.goroutines == want->goroutines && c.blocked == want->blocked;
}

/* Condition: at least ctx's blocked goroutines. */
static int blocked_reach(void *ctx)
{
    return counts_now().blocked >= ((const counts *)ctx)->blocked;
}

/* Asserts that the goroutine counts come back to base within the bound. */
static void assert_back_to(const counts *base)
{
    int ok = csp_test_wait_until(counts_are, (void *)base, BOUND_MS);
    if (!ok) {
        counts c = counts_now();
        fprintf(stderr, "\nexpected %zu goroutines, %zu blocked; have %zu, %zu\n",
                base->goroutines, base->blocked, c.goroutines, c.blocked);
        csp_dump(stderr);
    }
    CU_ASSERT(ok);
}

/* Condition: every good image has its thumbnail. */
static int all_thumbs_made(void *ctx)
{
    return thumbs_made(ctx) == NGOOD;
}

/* The lines of csp_dump's output that contain both a and b. */
static size_t dump_lines_with(const char *a, const char *b)
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return 0;
    csp_dump(f);
    fclose(f);
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        n += strstr(line, a) && strstr(line, b);
    free(buf);
    return n;
}

/* err is "PATH: reason" with a reason. */
static void assert_error_names(const image_error *err, const char *path)
{
    size_t n = strlen(path);
    int ok = !strncmp(err->msg, path, n) && !strncmp(err->msg + n, ": ", 2) &&
             strlen(err->msg) > n + 4;
    if (!ok)
        fprintf(stderr, "\nerror \"%s\" does not name %s and a reason\n", err->msg, path);
    CU_ASSERT(ok);
}

/* ------------------------------------------------------------------------
 * thumbnail.ImageFile
 * ------------------------------------------------------------------------ */

/* x.jpg -> x.thumb.jpg, x.png -> x.thumb.png, beside the input, fitted in
 * 128x128, with mode 0666 less the umask; the name is returned. */
static void test_image_file_writes_beside_input(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, 0));
    for (size_t i = 0; i < NGOOD; i++) {
        char thumb[PATH_MAX];
        image_error err = { "junk" };
        CSP_ASSERT_EQ(image_file(fx.files[i], thumb, sizeof thumb, &err), 0);
        CU_ASSERT_STRING_EQUAL(thumb, fx.thumb[i]);
        CU_ASSERT_STRING_EQUAL(err.msg, "");
        struct stat st;
        CU_ASSERT_FATAL(stat(thumb, &st) == 0);
        CSP_ASSERT_EQ(st.st_mode & 0777, 0666 & ~test_umask);
    }
    assert_all_thumbs(&fx);
    CU_ASSERT(fixture_remove(&fx));
}

/* A missing file and a corrupt image: -1, "PATH: reason", no thumbnail,
 * no temporary file. */
static void test_image_file_errors(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT));
    char thumb[PATH_MAX], want[PATH_MAX + 64];
    image_error err;
    CSP_ASSERT_EQ(image_file(fx.missing, thumb, sizeof thumb, &err), -1);
    snprintf(want, sizeof want, "%s: %s", fx.missing, strerror(ENOENT));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CSP_ASSERT_EQ(image_file(fx.corrupt, thumb, sizeof thumb, &err), -1);
    assert_error_names(&err, fx.corrupt);
    printf("\n    corrupt image: \"%s\"\n", err.msg);
    CSP_ASSERT_EQ(thumbs_made(&fx), 0);
    CSP_ASSERT_EQ(entries(&fx), NGOOD + 1); /* the inputs only */
    CU_ASSERT(fixture_remove(&fx));
}

/* ------------------------------------------------------------------------
 * makeThumbnails, makeThumbnails2, makeThumbnails3
 * ------------------------------------------------------------------------ */

/* Sequential: every thumbnail exists when it returns, and no goroutine was
 * started; the bad inputs are logged and skipped. */
static void test_make_thumbnails1_sequential(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT | WITH_MISSING));
    counts base = counts_now();
    printf("\n    (two errors logged on stderr:)\n");
    make_thumbnails1(fx.files, fx.n);
    CSP_ASSERT_EQ(counts_now().spawned, base.spawned);
    assert_all_thumbs(&fx);
    CU_ASSERT(fixture_remove(&fx));
}

/* Returns before its goroutines have done anything: with the gate shut,
 * none of them can have made a thumbnail when it returns, and they are all
 * still there, waiting. Opened, they finish and the thumbnails appear. */
static void test_make_thumbnails2_returns_too_early(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT));
    counts base = counts_now();
    CU_ASSERT_FATAL(gate_set());
    make_thumbnails2(fx.files, fx.n);
    CSP_ASSERT_EQ(counts_now().spawned, base.spawned + fx.n);
    CSP_ASSERT_EQ(thumbs_made(&fx), 0);
    counts waiting = { 0, base.blocked + NGOOD, 0 };
    CU_ASSERT(csp_test_wait_until(blocked_reach, &waiting, BOUND_MS));
    CSP_ASSERT_EQ(thumbs_made(&fx), 0);
    CU_ASSERT(gate_open());
    assert_back_to(&base);
    CU_ASSERT(gate_clear(NGOOD));
    assert_all_thumbs(&fx);
    CU_ASSERT(fixture_remove(&fx));
}

/* Parallel, waiting for one struct{}{} per file: every thumbnail exists
 * when it returns, the corrupt file's goroutine reporting too. */
static void test_make_thumbnails3_waits(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT));
    counts base = counts_now();
    make_thumbnails3(fx.files, fx.n);
    CSP_ASSERT_EQ(counts_now().spawned, base.spawned + fx.n);
    assert_all_thumbs(&fx);
    assert_back_to(&base);
    CU_ASSERT(fixture_remove(&fx));
}

/* ------------------------------------------------------------------------
 * makeThumbnails4 and makeThumbnails5
 * ------------------------------------------------------------------------ */

/* All good: nil, every thumbnail, and every goroutine finishes. */
static void test_make_thumbnails4_nil(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, 0));
    counts base = counts_now();
    image_error err = { "junk" };
    CSP_ASSERT_EQ(make_thumbnails4(fx.files, fx.n, &err), 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    assert_all_thumbs(&fx);
    assert_back_to(&base);
    CU_ASSERT(fixture_remove(&fx));
}

/*
 * The gated run shared by the leak test and its child: makeThumbnails4 on
 * the good images and the corrupt one. Only the corrupt file's goroutine
 * can send before the gate opens, so its error is the one returned, and
 * the NGOOD others are left to send on a channel nobody receives from.
 * Returns true once they have made their thumbnails and are blocked in
 * that send, *leaked being the counts then; false, said on stderr, if
 * anything else happened or it took too long.
 */
static bool run_leaky_make_thumbnails4(fixture *fx, image_error *err, counts *base, counts *leaked)
{
    *base = counts_now();
    if (!gate_set())
        return false;
    int rc = make_thumbnails4(fx->files, fx->n, err);
    size_t early = thumbs_made(fx);
    bool opened = gate_open();
    *leaked = (counts){ base->goroutines + NGOOD, base->blocked + NGOOD, 0 };
    bool made = csp_test_wait_until(all_thumbs_made, fx, BOUND_MS);
    bool stuck = made && csp_test_wait_until(counts_are, leaked, BOUND_MS);
    bool cleared = gate_clear(NGOOD);
    if (rc != -1 || early != 0 || !opened || !made || !stuck || !cleared) {
        fprintf(stderr, "\nmake_thumbnails4 returned %d with %zu thumbnails made; gate opened %d, "
                        "all made %d, %zu blocked %d, gate cleared %d\n",
                rc, early, opened, made, NGOOD, stuck, cleared);
        csp_dump(stderr);
        return false;
    }
    return true;
}

/* The corrupt file's error is returned; the goroutines still to send stay
 * blocked in the send after it returns (csp_stats_get, csp_dump), leaked. */
static void test_make_thumbnails4_leaks(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT));
    image_error err;
    counts base, leaked;
    CU_ASSERT_FATAL(run_leaky_make_thumbnails4(&fx, &err, &base, &leaked));
    assert_error_names(&err, fx.corrupt);
    assert_all_thumbs(&fx); /* they did their work; only the send is stuck */
    CSP_ASSERT_EQ(dump_lines_with("[blocked: chan send", "(worker4)"), NGOOD);
    /* Nothing can unblock them: nobody holds the channel to receive. */
    CU_ASSERT_FALSE(csp_test_wait_until(counts_are, &base, 50));
    CU_ASSERT(counts_are(&leaked));
    printf("\n    %zu goroutines leaked, blocked for ever in errors <- err\n", NGOOD);
    CU_ASSERT(fixture_remove(&fx));
}

/* The same input: the same error, and every goroutine finishes, sending
 * into the buffer nobody will read. */
static void test_make_thumbnails5_no_leak(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT));
    counts base = counts_now();
    CU_ASSERT_FATAL(gate_set());
    char *sentinel[1];
    char **thumbfiles = sentinel; /* must be set to NULL */
    size_t n = 99;
    image_error err;
    CSP_ASSERT_EQ(make_thumbnails5(fx.files, fx.n, &thumbfiles, &n, &err), -1);
    assert_error_names(&err, fx.corrupt);
    CU_ASSERT_PTR_NULL(thumbfiles);
    CSP_ASSERT_EQ(n, 0);
    CSP_ASSERT_EQ(thumbs_made(&fx), 0);
    CU_ASSERT(gate_open());
    assert_back_to(&base);
    CU_ASSERT(gate_clear(NGOOD));
    assert_all_thumbs(&fx);
    CU_ASSERT(fixture_remove(&fx));
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All good: 0 and the thumbnails' names, each once, in some order. */
static void test_make_thumbnails5_names(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, 0));
    counts base = counts_now();
    char **thumbfiles = NULL;
    size_t n = 0;
    image_error err = { "junk" };
    CSP_ASSERT_EQ(make_thumbnails5(fx.files, fx.n, &thumbfiles, &n, &err), 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CSP_ASSERT_EQ(n, NGOOD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(thumbfiles);
    qsort(thumbfiles, n, sizeof *thumbfiles, by_string);
    for (size_t i = 0; i < n && i < NGOOD; i++)
        CU_ASSERT_STRING_EQUAL(thumbfiles[i], fx.thumb[i]); /* good[] is in name order */
    thumbfiles_free(thumbfiles, n);
    assert_all_thumbs(&fx);
    assert_back_to(&base);
    CU_ASSERT(fixture_remove(&fx));
}

/* ------------------------------------------------------------------------
 * makeThumbnails6
 * ------------------------------------------------------------------------ */

/* Sends the names on ch, one at a time, then closes it. */
typedef struct producer_args {
    csp_chan *ch;              /* its own reference */
    const char *const *files;  /* the names, alive until received */
    size_t n;
} producer_args;

static void producer(void *arg)
{
    producer_args *p = arg;
    for (size_t i = 0; i < p->n; i++)
        csp_send(p->ch, &p->files[i]);
    csp_close(p->ch);
    csp_chan_release(p->ch);
}

/* Names from a channel fed by another goroutine: the total is the sum of
 * the thumbnails' sizes on disk; the bad names are logged and count
 * nothing; one goroutine per name plus the closer. */
static void test_make_thumbnails6_total(void)
{
    fixture fx;
    CU_ASSERT_FATAL(fixture_make(&fx, WITH_CORRUPT | WITH_MISSING));
    counts base = counts_now();
    csp_chan *filenames = csp_chan_make(sizeof(const char *), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(filenames);
    producer_args p = { csp_chan_retain(filenames), fx.files, fx.n };
    CSP_ASSERT_EQ(csp_go_copy(producer, &p, sizeof p), 0);
    printf("\n    (two errors logged on stderr:)\n");
    int64_t total = make_thumbnails6(csp_recv_only(filenames));
    csp_chan_release(filenames);
    int64_t want = 0;
    for (size_t i = 0; i < NGOOD; i++) {
        struct stat st;
        CU_ASSERT_FATAL(stat(fx.thumb[i], &st) == 0);
        want += st.st_size;
    }
    CSP_ASSERT_EQ(total, want);
    CU_ASSERT(total > 0);
    CSP_ASSERT_EQ(counts_now().spawned, base.spawned + 1 + fx.n + 1); /* producer, workers, closer */
    assert_all_thumbs(&fx);
    assert_back_to(&base);
    CU_ASSERT(fixture_remove(&fx));
}

/* ------------------------------------------------------------------------
 * The leak at exit, in a child
 * ------------------------------------------------------------------------ */

/* --child=leak4: the leaky run, then exit with the goroutines blocked. */
static int child_leak4(void)
{
    fixture fx;
    image_error err;
    counts base, leaked;
    CHILD_CHECK(fixture_make(&fx, WITH_CORRUPT));
    CHILD_CHECK(run_leaky_make_thumbnails4(&fx, &err, &base, &leaked));
    CHILD_CHECK(strncmp(err.msg, fx.corrupt, strlen(fx.corrupt)) == 0);
    CHILD_CHECK(fixture_remove(&fx));
    fprintf(stderr, "returning from main with %zu goroutines blocked\n", NGOOD);
    return 0;
}

/* With CSP_DEBUG=leaks the goroutines makeThumbnails4 leaked are listed at
 * exit, blocked in their send, with their spawn site; the report does not
 * change the exit status, and no sanitizer objects to them. */
static void test_leak_reported_at_exit(void)
{
    static const char *const env[] = { "CSP_DEBUG=leaks", NULL };
    csp_test_child_result r;
    CU_ASSERT_EQUAL_FATAL(csp_test_run_child(prog, "leak4", env, 60000, &r), 0);
    const char *after = strstr(r.err, "returning from main");
    char count[64];
    snprintf(count, sizeof count, "csp: %zu leaked goroutines", NGOOD);
    size_t listed = 0;
    for (const char *s = after; s && (s = strstr(s, "(worker4)")) != NULL; s++)
        listed++;
    bool ok = csp_test_child_ok(&r) && after && strstr(after, count) && listed == NGOOD &&
              strstr(after, "variants.c:") && strstr(after, "[blocked: chan send");
    if (!ok)
        fprintf(stderr, "\nchild leak4: status 0x%x%s; its stderr:\n%s\n", r.status,
                r.timed_out ? " (timed out)" : "", r.err);
    CU_ASSERT(csp_test_child_ok(&r));
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_PTR_NOT_NULL(strstr(after, count));
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "variants.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "[blocked: chan send"));
    CSP_ASSERT_EQ(listed, NGOOD);
    free(r.err);
}

static const csp_test tests[] = {
    { "image_file_writes_beside_input", test_image_file_writes_beside_input },
    { "image_file_errors", test_image_file_errors },
    { "make_thumbnails1_sequential", test_make_thumbnails1_sequential },
    { "make_thumbnails2_returns_too_early", test_make_thumbnails2_returns_too_early },
    { "make_thumbnails3_waits", test_make_thumbnails3_waits },
    { "make_thumbnails4_nil", test_make_thumbnails4_nil },
    { "make_thumbnails4_leaks", test_make_thumbnails4_leaks },
    { "make_thumbnails5_no_leak", test_make_thumbnails5_no_leak },
    { "make_thumbnails5_names", test_make_thumbnails5_names },
    { "make_thumbnails6_total", test_make_thumbnails6_total },
    { "leak_reported_at_exit", test_leak_reported_at_exit },
    { NULL, NULL },
};

static const csp_test_child_mode child_modes[] = {
    { "leak4", child_leak4 },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    prog = argv[0];
    test_umask = umask(0);
    umask(test_umask);
    thumbnail_image_file = gated_image_file; /* before any variant runs */
    return csp_test_run(argc, argv, "thumbnails", tests, child_modes, 120);
}
