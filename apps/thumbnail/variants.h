/*
 * variants.h - gopl.io/ch8/thumbnail's makeThumbnails .. makeThumbnails6
 * (The Go Programming Language, section 8.5, "Looping in Parallel"): six
 * ways to make the thumbnails of a list of files, each a close port of the
 * book's Go, with the same goroutines, channels and wait group. Two are
 * wrong on purpose, as in the book: make_thumbnails2 returns before its
 * goroutines are done, and make_thumbnails4 leaks the goroutines still
 * sending when it returns an error.
 *
 * File names are the caller's and need only last for the call: each
 * goroutine gets its own copy, as Go's go func(f string) { ... }(f) does.
 * Errors are image_error values (imagefile.h). As Go's runtime does when it
 * cannot get memory or a thread, these print a line and exit(1) when a
 * goroutine, channel or wait group cannot be made: the book's signatures
 * have no way to say so.
 */
#ifndef THUMBNAIL_VARIANTS_H
#define THUMBNAIL_VARIANTS_H

#include <csp.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefile.h"

/* thumbnail.ImageFile's signature (see image_file). */
typedef int (*image_file_fn)(const char *infile, char *thumbfile, size_t size, image_error *err);

/*
 * What the variants call as thumbnail.ImageFile: image_file, unless a test
 * points it elsewhere (Go's `var imageFile = thumbnail.ImageFile` seam),
 * for instance to hold some workers back. It is read without
 * synchronisation: set it only before any variant runs.
 */
extern image_file_fn thumbnail_image_file;

/* func makeThumbnails(filenames []string): one file after another; errors
 * are logged (log.Println: date, time, message, on stderr). */
void make_thumbnails1(const char *const *filenames, size_t n);

/* func makeThumbnails2(filenames []string) -- NOTE: incorrect! A goroutine
 * per file, errors ignored, and it returns at once, before they are done. */
void make_thumbnails2(const char *const *filenames, size_t n);

/* func makeThumbnails3(filenames []string): a goroutine per file, each
 * sending a struct{}{} on an unbuffered channel when done; returns after
 * receiving n of them. Errors are ignored. */
void make_thumbnails3(const char *const *filenames, size_t n);

/*
 * func makeThumbnails4(filenames []string) error: a goroutine per file
 * sends its error (or nil) on an unbuffered channel. 0 when all succeeded;
 * -1 with the first error received in *err. NOTE: incorrect: goroutine
 * leak! After an early return every goroutine that has not sent yet blocks
 * in its send for ever.
 */
int make_thumbnails4(const char *const *filenames, size_t n, image_error *err);

/*
 * func makeThumbnails5(filenames []string) (thumbfiles []string, err error):
 * makeThumbnails4 fixed with a channel buffered for every goroutine's item,
 * so none blocks after an early return. 0 with the thumbnails' names in an
 * arbitrary order (as received) in *thumbfiles (*nthumbs of them, malloc'd:
 * free with thumbfiles_free); or -1 with the first error in *err,
 * *thumbfiles NULL and *nthumbs 0.
 */
int make_thumbnails5(const char *const *filenames, size_t n, char ***thumbfiles, size_t *nthumbs,
                     image_error *err);
void thumbfiles_free(char **thumbfiles, size_t n);

/*
 * func makeThumbnails6(filenames <-chan string) int64: a goroutine per name
 * received until filenames is closed (its elements are const char *, valid
 * until received), counted on a wait group; each sends its thumbnail's size
 * on an unbuffered channel, which a closer goroutine closes once the wait
 * group is done. Errors are logged. Returns the total bytes of the
 * thumbnails made.
 */
int64_t make_thumbnails6(csp_recv_chan filenames);

#endif /* THUMBNAIL_VARIANTS_H */
