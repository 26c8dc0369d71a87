/*
 * report.h - csp-du's output: one pass over what the walk gathered, in GNU
 * du's order, counting each inode once, printing du's lines, the book's
 * line, the --top list or JSON.
 */
#ifndef CSP_DU_REPORT_H
#define CSP_DU_REPORT_H

#include "walk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct du_report_opts {
    bool all;            /* -a: files too */
    size_t max_depth;    /* print entries at most this deep (SIZE_MAX: all; -s: 0) */
    bool total;          /* -c: a grand total line */
    bool separate_dirs;  /* -S: a directory's size leaves out its subdirectories */
    uint64_t block_size; /* units for plain numbers: 1024 by default, 1 with -b */
    unsigned human;      /* 0, or 1024 (-h) or 1000 (--si): scaled with a suffix */
    bool null;           /* -0: end lines with NUL */
    bool book;           /* --book: the book's "N files  X.Y GB" line only */
    bool json;           /* --json */
    size_t top;          /* --top N: the N largest of the lines, largest first (0: off) */
    bool apparent;       /* sizes are apparent sizes (said in JSON) */
    bool partial;        /* the walk was cancelled (said in JSON) */
    bool errors;         /* some error was reported (said in JSON) */
};

/* Writes the report of walk w to out. 0, or an errno value on a write error. */
int du_report(const struct du_walk *w, const struct du_report_opts *o, FILE *out);

#endif /* CSP_DU_REPORT_H */
