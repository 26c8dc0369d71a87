/*
 * image.h - one thumbnail: decode, orient, resize and encode an image held in
 * memory. No file names and no threads here: every call works on its own
 * data, so any number of goroutines may call these at once.
 */
#ifndef THUMBNAIL_IMAGE_H
#define THUMBNAIL_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How to make a thumbnail. */
typedef struct image_opts {
    int box_w, box_h; /* the thumbnail fits in this box, aspect kept, never enlarged */
    int quality;      /* JPEG quality, 1..100 */
} image_opts;

/* The thumbnail of a JPEG is a JPEG; of anything else, a PNG. head holds the
 * first n bytes of the input (3 are enough). Returns "jpg" or "png". */
const char *image_output_type(const unsigned char *head, size_t n);

/*
 * Makes the thumbnail of the len bytes at data (a JPEG, PNG, BMP, GIF or TGA
 * file's contents) and writes it to out in the format image_output_type
 * names. Returns 0 with the bytes written in *bytes, or -1 with a one-line
 * reason in why (why_size bytes). On failure out may hold part of a file:
 * the caller discards it.
 */
int image_thumbnail(const unsigned char *data, size_t len, const image_opts *opts, FILE *out,
                    int64_t *bytes, char *why, size_t why_size);

#endif /* THUMBNAIL_IMAGE_H */
