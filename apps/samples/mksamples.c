/*
 * mksamples - sample images for csp-thumbnail's demo, tests and benchmark,
 * and the two measuring tools its test needs.
 *
 *   mksamples [-s SEED] [-t] DIR N
 *       N JPEGs from 640x480 to 4000x3000 and N/10 PNGs (every other one with
 *       alpha); with -t also the test set (see write_test_set).
 *   mksamples [-s SEED] image FILE WxH [gray] [alpha] [exif=O] [q=Q] [truncate=PCT] [frames=N]
 *       one image; the format follows FILE's extension (jpg, png, bmp, tga, gif).
 *   mksamples info FILE
 *       prints "W H C": size and channels in the file.
 *   mksamples compare THUMB ORIG [ORIENT]
 *       prints the mean absolute difference (0..255, over every sample) between
 *       THUMB and a Lanczos-3 reference downscale of ORIG, after applying the
 *       EXIF orientation ORIENT (1..8) to ORIG.
 *
 * Everything is deterministic for a given seed. The pictures are smooth
 * gradients with sharp-edged rectangles, thin lines and a little noise, so
 * that JPEG sizes are photo-like and a poor (aliasing) downscale shows up in
 * compare's number.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>

#define PROG "mksamples"

/* ------------------------------------------------------------------------
 * Small utilities
 * ------------------------------------------------------------------------ */

__attribute__((format(printf, 1, 2)))
static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

/* xorshift64*: small, fast and good enough for pictures. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* A distinct, never-zero state for each (seed, index) pair (splitmix64). */
static uint64_t rng_seed(uint64_t seed, uint64_t index)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z ? z : 1;
}

static unsigned char clamp8(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char)(v + 0.5);
}

/* A growable byte buffer, the target of the stbi_write_*_to_func calls. */
typedef struct membuf {
    unsigned char *data; /* malloc'd bytes */
    size_t len;          /* bytes used */
    size_t cap;          /* bytes allocated */
} membuf;

static void membuf_put(membuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d)
            die("out of memory");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void membuf_write(void *ctx, void *data, int size)
{
    membuf_put(ctx, data, (size_t)size);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot create %s", path);
    bool written = !len || fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0 || !written)
        die("cannot write %s", path);
}

/* ------------------------------------------------------------------------
 * Painting
 * ------------------------------------------------------------------------ */

/* What one picture looks like. */
typedef struct spec {
    int w, h;        /* size in pixels */
    bool gray;       /* one colour channel instead of three */
    bool alpha;      /* add an alpha channel */
    int orientation; /* EXIF orientation to record (JPEG only; 0: none) */
    int quality;     /* JPEG quality */
    int truncate;    /* keep only this percentage of the file (0: all) */
    int frames;      /* GIF frames */
} spec;

static int spec_channels(const spec *s)
{
    return (s->gray ? 1 : 3) + (s->alpha ? 1 : 0);
}

/*
 * Smooth part: per channel, a sum of a row term, a column term and their
 * product, each a low-frequency sinusoid with random frequency and phase.
 * Precomputing the terms per row and column keeps a 12-megapixel picture
 * cheap to paint.
 */
static void paint_gradients(float *img, int w, int h, uint64_t *rng)
{
    float *cx = xmalloc(sizeof(float) * (size_t)w);
    float *cy = xmalloc(sizeof(float) * (size_t)h);
    for (int ch = 0; ch < 3; ch++) {
        double fx = (0.5 + 2.5 * rng_unit(rng)) * 2 * M_PI / w, px = 2 * M_PI * rng_unit(rng);
        double fy = (0.5 + 2.5 * rng_unit(rng)) * 2 * M_PI / h, py = 2 * M_PI * rng_unit(rng);
        double base = 60 + 120 * rng_unit(rng);
        for (int x = 0; x < w; x++)
            cx[x] = (float)sin(fx * x + px);
        for (int y = 0; y < h; y++)
            cy[y] = (float)cos(fy * y + py);
        for (int y = 0; y < h; y++) {
            float *row = img + ((size_t)y * w) * 3 + ch;
            for (int x = 0; x < w; x++)
                row[(size_t)x * 3] = (float)base + 40 * cx[x] + 30 * cy[y] + 25 * cx[x] * cy[y];
        }
    }
    free(cx);
    free(cy);
}

/* Detail: solid rectangles with one-pixel dark borders, and thin lines. */
static void paint_details(float *img, int w, int h, uint64_t *rng)
{
    int n = 12 + (int)(rng_next(rng) % 24);
    for (int i = 0; i < n; i++) {
        int rw = 1 + (int)(rng_unit(rng) * w / 5), rh = 1 + (int)(rng_unit(rng) * h / 5);
        int x0 = (int)(rng_unit(rng) * (w - rw)), y0 = (int)(rng_unit(rng) * (h - rh));
        float col[3];
        for (int ch = 0; ch < 3; ch++)
            col[ch] = (float)(255 * rng_unit(rng));
        for (int y = y0; y < y0 + rh; y++)
            for (int x = x0; x < x0 + rw; x++) {
                bool border = y == y0 || x == x0 || y == y0 + rh - 1 || x == x0 + rw - 1;
                float *p = img + ((size_t)y * w + x) * 3;
                for (int ch = 0; ch < 3; ch++)
                    p[ch] = border ? 20 : col[ch];
            }
    }
    /* Horizontal and vertical hairlines every so often: the pattern a
     * nearest-neighbour shrink turns into moire. */
    int step = 7 + (int)(rng_next(rng) % 9);
    for (int y = 0; y < h; y += step * 5)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < 3; ch++)
                img[((size_t)y * w + x) * 3 + ch] = 245;
    for (int x = 0; x < w; x += step * 5)
        for (int y = 0; y < h; y++)
            for (int ch = 0; ch < 3; ch++)
                img[((size_t)y * w + x) * 3 + ch] = 10;
}

/* Alpha: opaque in the middle fading out towards the corners, plus a few
 * fully transparent discs. */
static unsigned char alpha_at(int x, int y, int w, int h, const int *holes, int nholes)
{
    double dx = (x - w / 2.0) / (w / 2.0), dy = (y - h / 2.0) / (h / 2.0);
    for (int i = 0; i < nholes; i++) {
        double hx = x - holes[3 * i], hy = y - holes[3 * i + 1];
        if (hx * hx + hy * hy < (double)holes[3 * i + 2] * holes[3 * i + 2])
            return 0;
    }
    return clamp8(255 * (1.3 - 0.75 * (dx * dx + dy * dy)));
}

/* The picture for s, as interleaved 8-bit samples (malloc'd). */
static unsigned char *paint(const spec *s, uint64_t seed)
{
    uint64_t rng = seed;
    int w = s->w, h = s->h, c = spec_channels(s);
    float *img = xmalloc(sizeof(float) * 3 * (size_t)w * h);
    paint_gradients(img, w, h, &rng);
    paint_details(img, w, h, &rng);
    int holes[3 * 3];
    for (int i = 0; i < 3; i++) {
        holes[3 * i] = (int)(rng_unit(&rng) * w);
        holes[3 * i + 1] = (int)(rng_unit(&rng) * h);
        holes[3 * i + 2] = 1 + (int)(rng_unit(&rng) * (w < h ? w : h) / 8);
    }
    unsigned char *px = xmalloc((size_t)w * h * c);
    unsigned char *o = px;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *p = img + ((size_t)y * w + x) * 3;
            double noise = (double)(rng_next(&rng) % 9) - 4;
            if (s->gray)
                *o++ = clamp8(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] + noise);
            else
                for (int ch = 0; ch < 3; ch++)
                    *o++ = clamp8(p[ch] + noise);
            if (s->alpha)
                *o++ = alpha_at(x, y, w, h, holes, 3);
        }
    free(img);
    return px;
}

/* ------------------------------------------------------------------------
 * Encoding: stb_image_write, plus EXIF splicing and a tiny GIF writer
 * ------------------------------------------------------------------------ */

static void put16le(membuf *b, unsigned v)
{
    unsigned char p[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
    membuf_put(b, p, 2);
}

static void put32le(membuf *b, uint32_t v)
{
    put16le(b, v & 0xffff);
    put16le(b, v >> 16);
}

/*
 * Inserts an APP1 Exif segment holding only IFD0 with one entry, Orientation
 * (tag 0x0112, SHORT, count 1), right after the JPEG's SOI marker. The TIFF
 * structure is little-endian ("II"): header, IFD offset 8, entry count 1, the
 * 12-byte entry, next-IFD offset 0.
 */
static void splice_exif(membuf *jpeg, int orientation)
{
    membuf seg = { 0 };
    static const unsigned char head[] = { 0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0,
                                          'I', 'I', 42, 0 };
    membuf_put(&seg, head, sizeof head);
    put32le(&seg, 8);      /* offset of IFD0 from the TIFF header */
    put16le(&seg, 1);      /* one entry */
    put16le(&seg, 0x0112); /* Orientation */
    put16le(&seg, 3);      /* SHORT */
    put32le(&seg, 1);      /* one value */
    put16le(&seg, (unsigned)orientation);
    put16le(&seg, 0);      /* padding of the 4-byte value field */
    put32le(&seg, 0);      /* no next IFD */
    size_t seglen = seg.len - 2; /* the length field counts itself, not the marker */
    seg.data[2] = (unsigned char)(seglen >> 8);
    seg.data[3] = (unsigned char)seglen;

    membuf out = { 0 };
    membuf_put(&out, jpeg->data, 2); /* SOI */
    membuf_put(&out, seg.data, seg.len);
    membuf_put(&out, jpeg->data + 2, jpeg->len - 2);
    free(seg.data);
    free(jpeg->data);
    *jpeg = out;
}

/* Appends LZW codes of a fixed width, least significant bit first, cut into
 * GIF's length-prefixed sub-blocks of at most 255 bytes. */
typedef struct gifbits {
    membuf *out;              /* the file */
    unsigned char block[255]; /* the sub-block being filled */
    int nblock;               /* bytes in block */
    uint32_t acc;             /* bits not yet in block */
    int nacc;                 /* how many */
} gifbits;

static void gif_flush_block(gifbits *g)
{
    unsigned char n = (unsigned char)g->nblock;
    if (n) {
        membuf_put(g->out, &n, 1);
        membuf_put(g->out, g->block, n);
    }
    g->nblock = 0;
}

static void gif_code(gifbits *g, unsigned code, int width)
{
    g->acc |= (uint32_t)code << g->nacc;
    g->nacc += width;
    while (g->nacc >= 8) {
        g->block[g->nblock++] = (unsigned char)g->acc;
        g->acc >>= 8;
        g->nacc -= 8;
        if (g->nblock == 255)
            gif_flush_block(g);
    }
}

/*
 * One frame as "uncompressed" LZW: every pixel is sent as a literal 9-bit
 * code, and a clear code every 250 literals keeps the decoder's table from
 * growing past 9 bits. Valid GIF that any decoder reads, with no LZW encoder.
 */
static void gif_frame(membuf *out, const unsigned char *idx, int w, int h)
{
    static const unsigned char gce[] = { 0x21, 0xF9, 4, 0, 10, 0, 0, 0 };
    membuf_put(out, gce, sizeof gce); /* 0.1 s per frame */
    unsigned char desc[] = { 0x2C, 0, 0, 0, 0, (unsigned char)w, (unsigned char)(w >> 8),
                             (unsigned char)h, (unsigned char)(h >> 8), 0, 8 };
    membuf_put(out, desc, sizeof desc); /* ... and LZW minimum code size 8 */
    gifbits g = { .out = out };
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        if (i % 250 == 0)
            gif_code(&g, 256, 9); /* clear */
        gif_code(&g, idx[i], 9);
    }
    gif_code(&g, 257, 9); /* end of information */
    if (g.nacc)
        gif_code(&g, 0, 8 - g.nacc);
    gif_flush_block(&g);
    membuf_put(out, "", 1); /* block terminator */
}

/* A palette of the 6x6x6 colour cube; frames after the first are the first
 * one inverted, so a decoder that shows the wrong frame is caught. */
static void encode_gif(membuf *out, const unsigned char *px, int w, int h, int c, int frames)
{
    membuf_put(out, "GIF89a", 6);
    put16le(out, (unsigned)w);
    put16le(out, (unsigned)h);
    static const unsigned char lsd[] = { 0xF7, 0, 0 }; /* 256-entry global table */
    membuf_put(out, lsd, sizeof lsd);
    for (int i = 0; i < 256; i++) {
        unsigned char rgb[3] = { 0, 0, 0 };
        if (i < 216) {
            rgb[0] = (unsigned char)(i / 36 * 51);
            rgb[1] = (unsigned char)(i / 6 % 6 * 51);
            rgb[2] = (unsigned char)(i % 6 * 51);
        }
        membuf_put(out, rgb, 3);
    }
    unsigned char *idx = xmalloc((size_t)w * h);
    for (int f = 0; f < frames; f++) {
        for (size_t i = 0; i < (size_t)w * h; i++) {
            const unsigned char *p = px + i * c;
            int q[3];
            for (int ch = 0; ch < 3; ch++) {
                int v = p[c >= 3 ? ch : 0];
                q[ch] = ((f ? 255 - v : v) + 25) / 51;
            }
            idx[i] = (unsigned char)(q[0] * 36 + q[1] * 6 + q[2]);
        }
        gif_frame(out, idx, w, h);
    }
    free(idx);
    membuf_put(out, ";", 1); /* trailer */
}

static const char *extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

/* Paints s and writes it to path in the format of path's extension. */
static void write_image(const char *path, const spec *s, uint64_t seed)
{
    int c = spec_channels(s);
    unsigned char *px = paint(s, seed);
    membuf b = { 0 };
    const char *ext = extension(path);
    int ok = 1;
    if (!strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg")) {
        ok = stbi_write_jpg_to_func(membuf_write, &b, s->w, s->h, c, px, s->quality);
        if (ok && s->orientation)
            splice_exif(&b, s->orientation);
    } else if (!strcasecmp(ext, "png")) {
        ok = stbi_write_png_to_func(membuf_write, &b, s->w, s->h, c, px, s->w * c);
    } else if (!strcasecmp(ext, "bmp")) {
        ok = stbi_write_bmp_to_func(membuf_write, &b, s->w, s->h, c, px);
    } else if (!strcasecmp(ext, "tga")) {
        ok = stbi_write_tga_to_func(membuf_write, &b, s->w, s->h, c, px);
    } else if (!strcasecmp(ext, "gif")) {
        encode_gif(&b, px, s->w, s->h, c, s->frames);
    } else {
        die("%s: unknown extension (jpg, png, bmp, tga, gif)", path);
    }
    if (!ok)
        die("%s: stb_image_write failed", path);
    size_t len = s->truncate ? b.len * (size_t)s->truncate / 100 : b.len;
    write_file(path, b.data, len);
    free(b.data);
    free(px);
}

static spec default_spec(int w, int h)
{
    spec s = { .w = w, .h = h, .quality = 90, .frames = 1 };
    return s;
}

/* ------------------------------------------------------------------------
 * The sample sets
 * ------------------------------------------------------------------------ */

static void make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die("cannot create directory %s", dir);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_named(const char *dir, const char *name, const spec *s, uint64_t seed)
{
    char *path = join(dir, name);
    write_image(path, s, seed);
    free(path);
}

/*
 * The benchmark set: N JPEGs with widths spread evenly from 640 to 4000 (4:3),
 * then N/10 PNGs from 640x480 to 2048x1536, every other one with alpha. Item i
 * depends only on (seed, i), so the threads that share the work (one per CPU:
 * a 200-image set takes a minute on one core) cannot change the result.
 */
typedef struct bench_set {
    const char *dir;       /* where to write */
    int njpeg, npng;       /* how many of each */
    uint64_t seed;         /* the set's seed */
    atomic_int next;       /* next item to write */
} bench_set;

static void write_bench_item(const bench_set *b, int i)
{
    char name[64];
    spec s;
    if (i < b->njpeg) {
        int w = b->njpeg > 1 ? 640 + (4000 - 640) * i / (b->njpeg - 1) : 4000;
        s = default_spec(w, w * 3 / 4);
        snprintf(name, sizeof name, "img%04d.jpg", i + 1);
    } else {
        int k = i - b->njpeg;
        int w = b->npng > 1 ? 640 + (2048 - 640) * k / (b->npng - 1) : 2048;
        s = default_spec(w, w * 3 / 4);
        s.alpha = k % 2 == 1;
        snprintf(name, sizeof name, "png%04d.png", k + 1);
    }
    write_named(b->dir, name, &s, rng_seed(b->seed, (uint64_t)i));
}

static void *bench_worker(void *arg)
{
    bench_set *b = arg;
    int i;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->njpeg + b->npng)
        write_bench_item(b, i);
    return NULL;
}

static void write_bench_set(const char *dir, int n, uint64_t seed)
{
    bench_set b = { .dir = dir, .njpeg = n, .npng = n / 10, .seed = seed };
    atomic_init(&b.next, 0);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t tid[64];
    int nthreads = ncpu <= 1 ? 0 : ncpu > 64 ? 64 : (int)ncpu - 1, started = 0; /* and this one */
    while (started < nthreads && pthread_create(&tid[started], NULL, bench_worker, &b) == 0)
        started++;
    bench_worker(&b); /* also covers the case where no thread could start */
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

/*
 * The test set: one of each kind of input csp-thumbnail must handle, and the
 * broken ones it must reject. Names say what the file is.
 */
static void write_test_set(const char *dir, uint64_t seed)
{
    struct { const char *name; spec s; } set[] = {
        { "portrait_3000x4000.jpg", default_spec(3000, 4000) },
        { "gray_800x600.jpg", default_spec(800, 600) },
        { "gray_640x480.png", default_spec(640, 480) },
        { "alpha_1200x900.png", default_spec(1200, 900) },
        { "grayalpha_300x200.png", default_spec(300, 200) },
        { "exif6_400x200.jpg", default_spec(400, 200) },
        { "bmp_640x480.bmp", default_spec(640, 480) },
        { "tga_640x480.tga", default_spec(640, 480) },
        { "anim_320x240.gif", default_spec(320, 240) },
        { "truncated.jpg", default_spec(1600, 1200) },
        { "truncated.png", default_spec(800, 600) },
    };
    set[1].s.gray = set[2].s.gray = set[4].s.gray = true;
    set[3].s.alpha = set[4].s.alpha = true;
    set[5].s.orientation = 6;
    set[8].s.frames = 2;
    set[9].s.truncate = set[10].s.truncate = 50;
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        write_named(dir, set[i].name, &set[i].s, rng_seed(seed, 1000000 + i));

    char *path = join(dir, "empty.jpg");
    write_file(path, "", 0);
    free(path);
    static const char text[] = "This is not an image, whatever its name says.\n";
    path = join(dir, "notimage.jpg");
    write_file(path, text, sizeof text - 1);
    free(path);
}

/* ------------------------------------------------------------------------
 * Measuring: info and compare
 * ------------------------------------------------------------------------ */

typedef struct image {
    unsigned char *px; /* from stbi_load */
    int w, h, c;       /* size and channels */
} image;

static image load(const char *path, int want)
{
    image im = { 0 };
    im.px = stbi_load(path, &im.w, &im.h, &im.c, want);
    if (!im.px)
        die("%s: cannot decode", path);
    if (want)
        im.c = want;
    return im;
}

/* The stored pixel shown at (x, y) of the display, for an EXIF orientation:
 * an independent restatement of the TIFF/EXIF table, not csp-thumbnail's code. */
static void oriented_source(int o, int x, int y, int w, int h, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - x; *sy = y; break;         /* mirrored */
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break; /* upside down */
    case 4: *sx = x; *sy = h - 1 - y; break;         /* flipped */
    case 5: *sx = y; *sy = x; break;                 /* transposed */
    case 6: *sx = y; *sy = h - 1 - x; break;         /* needs 90 degrees clockwise */
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break; /* transversed */
    case 8: *sx = w - 1 - y; *sy = x; break;         /* needs 90 degrees anticlockwise */
    default: *sx = x; *sy = y; break;
    }
}

/* in, displayed with orientation o, as floats with alpha premultiplied. */
static float *display_floats(const image *in, int o, int *dw, int *dh)
{
    bool swap = o >= 5 && o <= 8;
    *dw = swap ? in->h : in->w;
    *dh = swap ? in->w : in->h;
    int c = in->c;
    bool has_alpha = c == 2 || c == 4;
    float *f = xmalloc(sizeof(float) * (size_t)*dw * *dh * c);
    for (int y = 0; y < *dh; y++)
        for (int x = 0; x < *dw; x++) {
            int sx, sy;
            oriented_source(o, x, y, in->w, in->h, &sx, &sy);
            const unsigned char *p = in->px + ((size_t)sy * in->w + sx) * c;
            float *q = f + ((size_t)y * *dw + x) * c;
            float a = has_alpha ? p[c - 1] / 255.0f : 1.0f;
            for (int ch = 0; ch < c; ch++)
                q[ch] = has_alpha && ch == c - 1 ? p[ch] : p[ch] * a;
        }
    return f;
}

static double lanczos3(double x)
{
    if (x == 0)
        return 1;
    if (x <= -3 || x >= 3)
        return 0;
    double px = M_PI * x;
    return 3 * sin(px) * sin(px / 3) / (px * px);
}

/*
 * Resamples n_in samples to n_out along one axis of a float image: element k
 * of line l is at base + l * line_stride + k * step. The kernel is stretched
 * by the shrink factor (so it filters, not just interpolates), weights are
 * normalised, and edges clamp.
 */
typedef struct axis {
    int n_in, n_out;
    size_t step_in, step_out;     /* floats between neighbouring samples */
    size_t line_in, line_out;     /* floats between neighbouring lines */
    int lines, c;                 /* lines to resample; channels per sample */
} axis;

static void resample_axis(const float *in, float *out, const axis *a)
{
    double scale = (double)a->n_in / a->n_out, support = 3 * (scale > 1 ? scale : 1);
    double stretch = scale > 1 ? scale : 1;
    for (int i = 0; i < a->n_out; i++) {
        double centre = (i + 0.5) * scale - 0.5;
        int lo = (int)ceil(centre - support), hi = (int)floor(centre + support);
        for (int l = 0; l < a->lines; l++) {
            double acc[4] = { 0 }, wsum = 0;
            for (int j = lo; j <= hi; j++) {
                double wt = lanczos3((j - centre) / stretch);
                int k = j < 0 ? 0 : j >= a->n_in ? a->n_in - 1 : j;
                const float *p = in + l * a->line_in + k * a->step_in;
                for (int ch = 0; ch < a->c; ch++)
                    acc[ch] += wt * p[ch];
                wsum += wt;
            }
            float *q = out + l * a->line_out + i * a->step_out;
            for (int ch = 0; ch < a->c; ch++)
                q[ch] = (float)(acc[ch] / wsum);
        }
    }
}

/* Lanczos-3 from w x h to tw x th, rows first, then columns. */
static float *lanczos_resize(const float *in, int w, int h, int c, int tw, int th)
{
    float *mid = xmalloc(sizeof(float) * (size_t)tw * h * c);
    float *out = xmalloc(sizeof(float) * (size_t)tw * th * c);
    axis rows = { w, tw, (size_t)c, (size_t)c, (size_t)w * c, (size_t)tw * c, h, c };
    resample_axis(in, mid, &rows);
    axis cols = { h, th, (size_t)tw * c, (size_t)tw * c, (size_t)c, (size_t)c, tw, c };
    resample_axis(mid, out, &cols);
    free(mid);
    return out;
}

static int cmd_info(int argc, char **argv)
{
    int w, h, c;
    if (argc != 3)
        die("usage: mksamples info FILE");
    if (!stbi_info(argv[2], &w, &h, &c))
        die("%s: not an image stb_image can read", argv[2]);
    printf("%d %d %d\n", w, h, c);
    return 0;
}

static int cmd_compare(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        die("usage: mksamples compare THUMB ORIG [ORIENT]");
    int o = argc == 5 ? atoi(argv[4]) : 1;
    image t = load(argv[2], 0);
    image src = load(argv[3], t.c); /* same channels as the thumbnail */
    int dw, dh;
    float *disp = display_floats(&src, o, &dw, &dh);
    float *ref = lanczos_resize(disp, dw, dh, t.c, t.w, t.h);
    /* The reference is rounded to 8 bits like any image. With alpha, colours
     * are compared premultiplied: what shows, not the colour of pixels
     * nobody can see. */
    bool has_alpha = t.c == 2 || t.c == 4;
    double sum = 0;
    size_t n = (size_t)t.w * t.h;
    for (size_t i = 0; i < n; i++) {
        const float *r = ref + i * t.c;
        const unsigned char *p = t.px + i * t.c;
        unsigned char ra = has_alpha ? clamp8(r[t.c - 1]) : 255, ta = has_alpha ? p[t.c - 1] : 255;
        for (int ch = 0; ch < t.c; ch++) {
            if (has_alpha && ch == t.c - 1) {
                sum += abs(ra - ta);
                continue;
            }
            /* ref is premultiplied: back to a straight 8-bit colour first */
            double straight = !has_alpha ? r[ch] : r[t.c - 1] > 0 ? r[ch] * 255 / r[t.c - 1] : 0;
            sum += fabs(clamp8(straight) * ra / 255.0 - p[ch] * ta / 255.0);
        }
    }
    printf("%.3f\n", sum / ((double)n * t.c));
    free(ref);
    free(disp);
    stbi_image_free(src.px);
    stbi_image_free(t.px);
    return 0;
}

/* ------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------ */

static _Noreturn void usage(void)
{
    fputs("usage: mksamples [-s SEED] [-t] DIR N\n"
          "       mksamples [-s SEED] image FILE WxH [gray] [alpha] [exif=O] [q=Q]\n"
          "                                          [truncate=PCT] [frames=N]\n"
          "       mksamples info FILE\n"
          "       mksamples compare THUMB ORIG [ORIENT]\n",
          stderr);
    exit(2);
}

/* Parses "name=N" with N in [lo, hi] into *v; false if a is not that. */
static bool int_arg(const char *a, const char *name, int lo, int hi, int *v)
{
    size_t n = strlen(name);
    char *end;
    if (strncmp(a, name, n) || a[n] != '=')
        return false;
    long x = strtol(a + n + 1, &end, 10);
    if (end == a + n + 1 || *end || x < lo || x > hi)
        usage();
    *v = (int)x;
    return true;
}

static int cmd_image(int argc, char **argv, uint64_t seed)
{
    int w, h;
    if (argc < 2 || sscanf(argv[1], "%dx%d", &w, &h) != 2 || w < 1 || h < 1 || w > 65535 ||
        h > 65535)
        usage();
    spec s = default_spec(w, h);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "gray"))
            s.gray = true;
        else if (!strcmp(a, "alpha"))
            s.alpha = true;
        else if (!int_arg(a, "exif", 1, 8, &s.orientation) &&
                 !int_arg(a, "q", 1, 100, &s.quality) &&
                 !int_arg(a, "truncate", 0, 99, &s.truncate) &&
                 !int_arg(a, "frames", 1, 100, &s.frames))
            usage();
    }
    write_image(argv[0], &s, seed);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    bool test_set = false;
    int opt;
    if (argc > 1 && !strcmp(argv[1], "info"))
        return cmd_info(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "compare"))
        return cmd_compare(argc, argv);
    while ((opt = getopt(argc, argv, "+s:th")) != -1) {
        switch (opt) {
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 't': test_set = true; break;
        default: usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc >= 1 && !strcmp(argv[0], "image"))
        return cmd_image(argc - 1, argv + 1, rng_seed(seed, 0));
    if (argc != 2 || atoi(argv[1]) < 0)
        usage();
    make_dir(argv[0]);
    write_bench_set(argv[0], atoi(argv[1]), seed);
    if (test_set)
        write_test_set(argv[0], seed);
    return 0;
}
