/*
 * links.h - what the book's crawlers (gopl.io/ch8/crawl1..crawl3) take from
 * gopl.io/ch5/links: Extract, which fetches a page over HTTP (libcurl) and
 * returns the links in it, parsed from the HTML (gumbo); plus the two things
 * a C port needs that Go has built in: a []string and the seen map.
 *
 * Call curl_global_init(CURL_GLOBAL_DEFAULT) once in main before any
 * goroutine starts, and curl_global_cleanup() before main returns: libcurl's
 * global state is not thread-safe to set up. After that links_extract may be
 * called from any number of goroutines at once.
 */
#ifndef BOOK_LINKS_H
#define BOOK_LINKS_H

#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------------
 * []string
 * ------------------------------------------------------------------------ */

struct links {
    size_t n;   /* URLs in url */
    size_t cap; /* slots allocated */
    char **url; /* each malloc'd, owned by the list */
};

/* An empty list; NULL when out of memory. */
struct links *links_new(void);

/* A list of copies of url[0..n), e.g. os.Args[1:]; NULL when out of memory. */
struct links *links_of(char *const *url, size_t n);

/* list = append(list, url), with a copy of url; -1 when out of memory. */
int links_append(struct links *list, const char *url);

/* Frees the list and its strings; NULL is a no-op. */
void links_free(struct links *list);

/* ------------------------------------------------------------------------
 * links.Extract
 * ------------------------------------------------------------------------ */

enum { LINKS_ERRLEN = 1024 }; /* room for any message links_extract writes */

/* links.Extract(url): makes an HTTP GET request to url (following
 * redirects), parses the response as HTML, and returns the href of every
 * <a> element in the document, resolved against the final response URL, in
 * document order (duplicates kept; hrefs that do not resolve to a URL are
 * ignored). A page with no links gives an empty list.
 *
 * On failure returns NULL and writes a message to err (LINKS_ERRLEN bytes):
 * the transport error, "getting URL: 404 Not Found" for a status other than
 * 200, "URL has type T, not text/html" for a page that is not HTML (as the
 * book's ch5/title1 checks), or "out of memory". */
struct links *links_extract(const char *url, char *err);

/* ------------------------------------------------------------------------
 * seen := make(map[string]bool)
 * ------------------------------------------------------------------------ */

/* A set of URLs, each with a value the caller may hang on it. Not locked:
 * one goroutine owns it (the crawlers' main). Entries never move, so a
 * goroutine may be handed entry->url and read it while the owner goes on
 * adding URLs, until urlset_free. */
struct urlset_entry {
    const char *url; /* the set's own copy */
    void *value;     /* the caller's; NULL when added */
};

struct urlset;

/* An empty set; NULL when out of memory. */
struct urlset *urlset_new(void);

/* seen[url] = true: the entry for url, added when it was not there yet,
 * which *added tells. NULL when out of memory. */
struct urlset_entry *urlset_add(struct urlset *s, const char *url, bool *added);

/* Frees the set; free_value (may be NULL) is called on every value. */
void urlset_free(struct urlset *s, void (*free_value)(void *value));

#endif /* BOOK_LINKS_H */
