/*
 * imagefile.h - one image file's thumbnail, from file to file: the part of
 * csp-thumbnail's worker that reads an input, names its thumbnail and writes
 * it safely, and the book's thumbnail.ImageFile on top of it. Nothing here
 * is shared between calls, so any number of goroutines may call these at once.
 */
#ifndef THUMBNAIL_IMAGEFILE_H
#define THUMBNAIL_IMAGEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

/* How to make a thumbnail file. */
typedef struct imagefile_opts {
    image_opts img;     /* box and JPEG quality */
    const char *outdir; /* write under this directory, not beside the input (NULL: beside) */
    bool force;         /* remake thumbnails that are newer than their input */
    mode_t mode;        /* the thumbnail's mode (its temporary file starts at 0600) */
} imagefile_opts;

/* What imagefile_make did. */
enum imagefile_status {
    IMAGEFILE_MADE,       /* thumbnail written */
    IMAGEFILE_UP_TO_DATE, /* thumbnail newer than its input, left alone */
    IMAGEFILE_FAILED,     /* bad input or I/O error: why says which */
};

/*
 * The name of the thumbnail of path, of type "jpg" or "png": beside it, or
 * under o->outdir with the part of path from path + rel; its last extension
 * becomes .thumb.TYPE ("x.jpeg" -> "x.thumb.jpg", "x.gif" -> "x.thumb.png").
 * 0, or -1 when it does not fit in size bytes.
 */
int imagefile_name(const imagefile_opts *o, const char *path, size_t rel, const char *type,
                   char *out, size_t size);

/* mkdir -p for the directories in path (all but its last component) whose
 * names end after offset from; those before it exist already. 0, or -1
 * with errno. */
int imagefile_make_dirs(char *path, size_t from);

/*
 * Makes the thumbnail of the image file path (rel as for imagefile_name),
 * its type chosen by its contents (image_output_type). Under o->outdir the
 * directories it needs are made. A thumbnail at least as new as its input
 * is left alone unless o->force. Returns an enum imagefile_status: the
 * thumbnail's name is in out (out_size bytes) once known, its size in
 * *bytes when MADE, and a one-line reason, without the input's name, in why
 * (why_size bytes) when FAILED; a failure leaves no file behind.
 */
int imagefile_make(const imagefile_opts *o, const char *path, size_t rel, char *out,
                   size_t out_size, int64_t *bytes, char *why, size_t why_size);

/* Go's error as a value: an empty msg is nil. A plain array, so that it
 * travels on channels by copy and never needs freeing. */
typedef struct image_error {
    char msg[512]; /* "FILE: reason", or "" */
} image_error;

/*
 * The book's thumbnail.ImageFile(infile) (string, error): makes the
 * thumbnail of the image file infile beside it, in csp-thumbnail's default
 * 128x128 box at JPEG quality 85, replacing any older one, with mode 0666
 * less the umask. "x.jpg" gives "x.thumb.jpg"; a PNG, BMP, GIF or TGA gives
 * "x.thumb.png". Returns 0 with the thumbnail's name in thumbfile (size
 * bytes) and err->msg empty, or -1 with err->msg "infile: reason".
 */
int image_file(const char *infile, char *thumbfile, size_t size, image_error *err);

#endif /* THUMBNAIL_IMAGEFILE_H */
