/*
 * image.c - one thumbnail: decode, orient, resize, encode.
 *
 * The steps, for an image held in memory:
 *   1. JPEG only: read the EXIF orientation (libexif), so that the box is
 *      fitted to the image as it is shown, not as it is stored.
 *   2. Decode. JPEG goes to libjpeg-turbo when configure found it, which can
 *      run its inverse DCT at 1/2, 1/4 or 1/8 scale: a 4000x3000 photo for a
 *      128x128 box is decoded straight to 500x375 (see choose_scale), which
 *      is most of the speed and nearly all of the memory saving. Everything
 *      else (and JPEG without libjpeg, or CMYK JPEG) goes to stb_image at
 *      full size.
 *   3. Resize with stb_image_resize's Catmull-Rom filter to the exact target.
 *   4. Turn the small result upright (cheaper than turning the large one).
 *   5. Encode with stb_image_write: JPEG for JPEG input, PNG for the rest.
 * Nothing here is shared between calls, so goroutines may run it in parallel.
 */
#include "config.h"

#include "image.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#ifdef HAVE_LIBJPEG
#include <ctype.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>
#endif
#ifdef HAVE_LIBEXIF
#include <libexif/exif-data.h>
#endif

/*
 * Full-size decodes above this many pixels are refused: a small, highly
 * compressed PNG can claim 50000x50000 and ask for 10 GB. 100 megapixels is
 * larger than any camera's JPEG, and JPEGs are decoded scaled anyway.
 */
#define MAX_DECODE_PIXELS 100000000LL

/*
 * Catmull-Rom: among stb_image_resize's filters the closest to Lanczos-3
 * (the usual reference, and what vipsthumbnail uses), sharper than stb's
 * default Mitchell, without Lanczos' wider support.
 */
#define RESIZE_FILTER STBIR_FILTER_CATMULLROM

/* Decoded pixels. */
typedef struct pixels {
    unsigned char *px;        /* interleaved 8-bit samples */
    void (*release)(void *);  /* frees px: free, or stbi_image_free for stb's */
    int w, h, c;              /* size; channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
    int full_w, full_h;       /* the image's size in the file (larger after a scaled decode) */
} pixels;

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_jpeg(const unsigned char *head, size_t n)
{
    return n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;
}

const char *image_output_type(const unsigned char *head, size_t n)
{
    return is_jpeg(head, n) ? "jpg" : "png";
}

/* ------------------------------------------------------------------------
 * Geometry
 * ------------------------------------------------------------------------ */

/* EXIF orientations 5 to 8 store the picture turned a quarter. */
static bool orientation_swaps(int o)
{
    return o >= 5 && o <= 8;
}

/* The largest w x h of the same aspect inside bw x bh, rounded to nearest
 * (1000x333 in 128x128 is 128x43, not 128x42); never larger than w x h. */
static void fit_box(int w, int h, int bw, int bh, int *tw, int *th)
{
    if (w <= bw && h <= bh) {
        *tw = w;
        *th = h;
    } else if ((int64_t)w * bh >= (int64_t)h * bw) { /* width is the limit */
        *tw = bw;
        *th = (int)(((int64_t)h * bw * 2 + w) / ((int64_t)w * 2));
    } else {
        *th = bh;
        *tw = (int)(((int64_t)w * bh * 2 + h) / ((int64_t)h * 2));
    }
    if (*tw < 1)
        *tw = 1;
    if (*th < 1)
        *th = 1;
}

/* The thumbnail's size in stored orientation, for a stored w x h image: the
 * box applies to the image as displayed. */
static void target_size(int w, int h, int orient, const image_opts *o, int *tw, int *th)
{
    if (orientation_swaps(orient))
        fit_box(h, w, o->box_w, o->box_h, th, tw);
    else
        fit_box(w, h, o->box_w, o->box_h, tw, th);
}

/* ------------------------------------------------------------------------
 * EXIF orientation
 * ------------------------------------------------------------------------ */

/* The Orientation tag of a JPEG's EXIF data, 1 (upright) when absent or
 * invalid, or when libexif is not available. */
static int exif_orientation(const unsigned char *data, size_t len)
{
#ifdef HAVE_LIBEXIF
    ExifData *ed = exif_data_new();
    if (!ed)
        return 1;
    /* We only read one tag: skip libexif's checking and "fixing" of the rest. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    /* libexif walks the JPEG's APPn markers itself and stops at the first
     * other one, so it never reads far into the file. */
    exif_data_load_data(ed, data, len > UINT_MAX ? UINT_MAX : (unsigned)len);
    int o = 1;
    ExifEntry *e = exif_data_get_entry(ed, EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->size >= 2) {
        int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
        if (v >= 1 && v <= 8)
            o = v;
    }
    exif_data_unref(ed);
    return o;
#else
    (void)data;
    (void)len;
    return 1;
#endif
}

/* ------------------------------------------------------------------------
 * Decoding with stb_image
 * ------------------------------------------------------------------------ */

/*
 * stb_image reads through these callbacks instead of from memory, for one
 * reason: when a BMP, GIF or TGA file ends early, stb_image does not fail but
 * pads the picture with zeros. A read or skip past the end is how we notice.
 */
typedef struct reader {
    const unsigned char *data; /* the file */
    size_t len, pos;           /* its length; bytes consumed */
    bool overrun;              /* the decoder wanted bytes past the end */
} reader;

static int reader_read(void *user, char *buf, int size)
{
    reader *r = user;
    size_t n = r->len - r->pos;
    if (n == 0 && size > 0)
        r->overrun = true;
    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return (int)n;
}

static void reader_skip(void *user, int n)
{
    reader *r = user;
    if (n < 0) { /* stb's "unget" */
        r->pos -= (size_t)-n < r->pos ? (size_t)-n : r->pos;
    } else if ((size_t)n > r->len - r->pos) {
        r->overrun = true;
        r->pos = r->len;
    } else {
        r->pos += (size_t)n;
    }
}

static int reader_eof(void *user)
{
    const reader *r = user;
    return r->pos >= r->len;
}

static const stbi_io_callbacks reader_io = { reader_read, reader_skip, reader_eof };

/* stb_image's terse reasons, said for a person. */
static int stb_fail(char *why, size_t n)
{
    const char *r = stbi_failure_reason();
    if (!r)
        return fail(why, n, "cannot decode image");
    if (!strcmp(r, "unknown image type"))
        return fail(why, n, "not an image (unknown format)");
    if (!strcmp(r, "outofdata") || !strcmp(r, "expected marker"))
        return fail(why, n, "truncated or corrupt image (%s)", r);
    if (!strcmp(r, "outofmem"))
        return fail(why, n, "out of memory");
    return fail(why, n, "corrupt or unsupported image (%s)", r);
}

static int decode_stb(const unsigned char *data, size_t len, pixels *p, char *why, size_t n)
{
    if (len > INT_MAX)
        return fail(why, n, "file too large");
    reader r = { data, len, 0, false };
    int w, h, c;
    if (!stbi_info_from_callbacks(&reader_io, &r, &w, &h, &c))
        return stb_fail(why, n);
    if ((long long)w * h > MAX_DECODE_PIXELS)
        return fail(why, n, "image too large to decode (%dx%d)", w, h);
    r = (reader){ data, len, 0, false };
    p->px = stbi_load_from_callbacks(&reader_io, &r, &p->w, &p->h, &p->c, 0);
    if (!p->px)
        return stb_fail(why, n);
    p->release = stbi_image_free;
    if (r.overrun)
        return fail(why, n, "truncated image (file ends early)");
    p->full_w = p->w;
    p->full_h = p->h;
    return 0;
}

/* ------------------------------------------------------------------------
 * Decoding JPEG with libjpeg-turbo, scaled in the DCT
 * ------------------------------------------------------------------------ */

#ifdef HAVE_LIBJPEG

/* libjpeg reports errors through this; error_exit must not return. */
typedef struct jpeg_err {
    struct jpeg_error_mgr mgr; /* first: libjpeg sees only this */
    jmp_buf jump;              /* back to decode_jpeg_scaled */
    char msg[JMSG_LENGTH_MAX]; /* the error, formatted */
} jpeg_err;

/* One decode's state, kept out of the frame that calls setjmp so that
 * nothing there changes between setjmp and longjmp. */
typedef struct jpeg_dec {
    struct jpeg_decompress_struct ci; /* zeroed first: destroy is then safe */
    jpeg_err err;                     /* ci.err points here */
    unsigned char *px;                /* output, malloc'd */
} jpeg_dec;

static void jpeg_error_exit(j_common_ptr ci)
{
    jpeg_err *e = (jpeg_err *)ci->err;
    ci->err->format_message(ci, e->msg);
    longjmp(e->jump, 1);
}

/*
 * libjpeg only warns about corrupt or missing data and carries on, painting
 * the rest grey. A grey-bottomed thumbnail of a broken file is worse than an
 * error, so warnings that mean lost pixels are errors here; the harmless ones
 * (extraneous bytes between markers, unknown JFIF or Adobe versions, bad ICC
 * profiles), which cameras and editors do write, are ignored.
 */
static void jpeg_emit_message(j_common_ptr ci, int level)
{
    if (level >= 0)
        return; /* trace messages */
    switch (ci->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
        jpeg_error_exit(ci);
        break;
    default:
        break;
    }
}

/*
 * The smallest DCT scale (1/8, 1/4 or 1/2, else 1) whose output is still at
 * least SCALE_MARGIN times the target each way. A scaled IDCT is in effect a
 * box filter; the Catmull-Rom resize after it does better the more of the
 * shrinking is left to it. Measured against a Lanczos-3 reference on 25 of
 * the generated photos (640 to 3900 pixels wide, -q 100, 128x128 box), mean
 * error: margin 1 (just cover the box) 2.4 for small photos; margin 2 (what
 * vipsthumbnail does) 1.95; margin 3 1.55, against vipsthumbnail's 1.84; margin
 * 4 1.27. Each step costs CPU (more pixels out of the IDCT and through the
 * resize): margin 3 costs about 13% over margin 2 on the benchmark set and
 * is the first to beat vipsthumbnail.
 */
#define SCALE_MARGIN 3

static void choose_scale(struct jpeg_decompress_struct *ci, int tw, int th)
{
    ci->scale_num = 1;
    for (unsigned denom = 8; denom > 1; denom /= 2) {
        ci->scale_denom = denom;
        jpeg_calc_output_dimensions(ci);
        if ((int64_t)ci->output_width >= SCALE_MARGIN * (int64_t)tw &&
            (int64_t)ci->output_height >= SCALE_MARGIN * (int64_t)th)
            return;
    }
    ci->scale_denom = 1;
}

/* Returns 0, -1 with d->err.msg set, or 1 when libjpeg should leave this file
 * to stb_image (CMYK and YCCK, which libjpeg does not turn into RGB). */
static int decode_jpeg_scaled(jpeg_dec *d, const unsigned char *data, size_t len, int orient,
                              const image_opts *o, pixels *p)
{
    struct jpeg_decompress_struct *ci = &d->ci;
    if (setjmp(d->err.jump))
        return -1;
    jpeg_create_decompress(ci);
    jpeg_mem_src(ci, data, (unsigned long)len);
    jpeg_read_header(ci, TRUE);
    if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK)
        return 1;
    ci->out_color_space = ci->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int tw, th;
    target_size((int)ci->image_width, (int)ci->image_height, orient, o, &tw, &th);
    choose_scale(ci, tw, th);
    if ((long long)ci->output_width * ci->output_height > MAX_DECODE_PIXELS) {
        snprintf(d->err.msg, sizeof d->err.msg, "image too large to decode (%ux%u)",
                 ci->output_width, ci->output_height);
        return -1;
    }
    jpeg_start_decompress(ci);
    size_t stride = (size_t)ci->output_width * (size_t)ci->output_components;
    d->px = malloc(stride * ci->output_height);
    if (!d->px) {
        snprintf(d->err.msg, sizeof d->err.msg, "out of memory");
        return -1;
    }
    while (ci->output_scanline < ci->output_height) {
        JSAMPROW rows[4]; /* libjpeg hands out up to 4 rows at a time */
        JDIMENSION n = ci->output_height - ci->output_scanline;
        if (n > 4)
            n = 4;
        for (JDIMENSION k = 0; k < n; k++)
            rows[k] = d->px + (ci->output_scanline + k) * stride;
        jpeg_read_scanlines(ci, rows, n);
    }
    jpeg_finish_decompress(ci);
    *p = (pixels){ d->px, free, (int)ci->output_width, (int)ci->output_height,
                   ci->output_components, (int)ci->image_width, (int)ci->image_height };
    d->px = NULL;
    return 0;
}

static int decode_jpeg(const unsigned char *data, size_t len, int orient, const image_opts *o,
                       pixels *p, char *why, size_t n)
{
    jpeg_dec d;
    memset(&d, 0, sizeof d);
    d.ci.err = jpeg_std_error(&d.err.mgr);
    d.err.mgr.error_exit = jpeg_error_exit;
    d.err.mgr.emit_message = jpeg_emit_message;
    int r = decode_jpeg_scaled(&d, data, len, orient, o, p);
    jpeg_destroy_decompress(&d.ci);
    free(d.px);
    if (r == 1)
        return decode_stb(data, len, p, why, n);
    /* "Premature end of JPEG file" -> "premature ...", as our other reasons;
     * "JPEG datastream ..." keeps its capital. */
    if (isupper((unsigned char)d.err.msg[0]) && islower((unsigned char)d.err.msg[1]))
        d.err.msg[0] = (char)tolower((unsigned char)d.err.msg[0]);
    return r < 0 ? fail(why, n, "%s", d.err.msg) : 0;
}

#endif /* HAVE_LIBJPEG */

static int decode(const unsigned char *data, size_t len, int orient, const image_opts *o,
                  pixels *p, char *why, size_t n)
{
#ifdef HAVE_LIBJPEG
    if (is_jpeg(data, len))
        return decode_jpeg(data, len, orient, o, p, why, n);
#else
    (void)orient;
    (void)o;
#endif
    return decode_stb(data, len, p, why, n);
}

/* ------------------------------------------------------------------------
 * Resizing and orienting
 * ------------------------------------------------------------------------ */

/* Replaces p's pixels by next (w x h), or fails when next is NULL. */
static int replace(pixels *p, unsigned char *next, int w, int h, char *why, size_t n)
{
    if (!next)
        return fail(why, n, "out of memory");
    p->release(p->px);
    p->px = next;
    p->release = free;
    p->w = w;
    p->h = h;
    return 0;
}

static int resize(pixels *p, int tw, int th, char *why, size_t n)
{
    if (p->w == tw && p->h == th)
        return 0;
    unsigned char *out = malloc((size_t)tw * th * p->c);
    if (!out)
        return fail(why, n, "out of memory");
    /* Alpha is last. Without STBIR_FLAG_ALPHA_PREMULTIPLIED stb weights the
     * colours by alpha while filtering, so transparent pixels' (meaningless)
     * colours do not bleed into the visible ones. Samples are filtered as
     * stored (sRGB), as vipsthumbnail and ImageMagick do by default. */
    int alpha = p->c == 2 || p->c == 4 ? p->c - 1 : STBIR_ALPHA_CHANNEL_NONE;
    if (!stbir_resize_uint8_generic(p->px, p->w, p->h, 0, out, tw, th, 0, p->c, alpha, 0,
                                    STBIR_EDGE_CLAMP, RESIZE_FILTER, STBIR_COLORSPACE_LINEAR,
                                    NULL)) {
        free(out);
        return fail(why, n, "out of memory");
    }
    return replace(p, out, tw, th, why, n);
}

/* The stored pixel shown at (x, y) for EXIF orientation o, in a stored w x h
 * picture. 6 is the common one: the camera was turned clockwise. */
static void source_of(int o, int x, int y, int w, int h, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - x; *sy = y; break;         /* mirrored left-right */
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break; /* turned 180 degrees */
    case 4: *sx = x; *sy = h - 1 - y; break;         /* mirrored top-bottom */
    case 5: *sx = y; *sy = x; break;                 /* transposed */
    case 6: *sx = y; *sy = h - 1 - x; break;         /* turn 90 degrees clockwise */
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break; /* transversed */
    case 8: *sx = w - 1 - y; *sy = x; break;         /* turn 90 degrees anticlockwise */
    default: *sx = x; *sy = y; break;
    }
}

static int orient(pixels *p, int o, char *why, size_t n)
{
    if (o < 2 || o > 8)
        return 0;
    int dw = orientation_swaps(o) ? p->h : p->w, dh = orientation_swaps(o) ? p->w : p->h;
    unsigned char *out = malloc((size_t)dw * dh * p->c);
    if (!out)
        return fail(why, n, "out of memory");
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            int sx, sy;
            source_of(o, x, y, p->w, p->h, &sx, &sy);
            memcpy(out + ((size_t)y * dw + x) * p->c, p->px + ((size_t)sy * p->w + sx) * p->c,
                   (size_t)p->c);
        }
    return replace(p, out, dw, dh, why, n);
}

/* ------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------ */

/* stb_image_write's output callback cannot report errors: remember them. */
typedef struct sink {
    FILE *f;       /* where to */
    int64_t bytes; /* written so far */
    int err;       /* errno of the first failed write, or 0 */
} sink;

static void sink_write(void *ctx, void *data, int size)
{
    sink *s = ctx;
    if (fwrite(data, 1, (size_t)size, s->f) != (size_t)size && !s->err)
        s->err = errno ? errno : EIO;
    s->bytes += size;
}

static int encode(const pixels *p, bool jpeg, int quality, FILE *out, int64_t *bytes, char *why,
                  size_t n)
{
    sink s = { out, 0, 0 };
    int ok = jpeg ? stbi_write_jpg_to_func(sink_write, &s, p->w, p->h, p->c, p->px, quality)
                  : stbi_write_png_to_func(sink_write, &s, p->w, p->h, p->c, p->px, p->w * p->c);
    if (!ok)
        return fail(why, n, "cannot encode the thumbnail");
    if (s.err)
        return fail(why, n, "cannot write the thumbnail: %s", strerror(s.err));
    *bytes = s.bytes;
    return 0;
}

/* ------------------------------------------------------------------------
 * The whole job
 * ------------------------------------------------------------------------ */

int image_thumbnail(const unsigned char *data, size_t len, const image_opts *opts, FILE *out,
                    int64_t *bytes, char *why, size_t why_size)
{
    if (len == 0)
        return fail(why, why_size, "empty file");
    bool jpeg = is_jpeg(data, len);
    int o = jpeg ? exif_orientation(data, len) : 1;
    pixels p = { NULL, free, 0, 0, 0, 0, 0 };
    int r = decode(data, len, o, opts, &p, why, why_size);
    if (r == 0) {
        int tw, th;
        target_size(p.full_w, p.full_h, o, opts, &tw, &th);
        r = resize(&p, tw, th, why, why_size);
    }
    if (r == 0)
        r = orient(&p, o, why, why_size);
    if (r == 0)
        r = encode(&p, jpeg, opts->quality, out, bytes, why, why_size);
    p.release(p.px);
    return r;
}
