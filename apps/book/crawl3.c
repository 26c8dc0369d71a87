/*
 * crawl3.c - gopl.io/ch8/crawl3: crawls web links starting with the
 * command-line arguments, with 20 long-lived crawler goroutines fed unseen
 * links by main, which alone owns the seen map; plus exercise 8.6, a depth
 * limit.
 *
 *   crawl3 [-depth N] URL...
 *
 * Prints each URL as it starts on it, and logs each failure to stderr. The
 * URLs given are at depth 0 and the links on a page at depth d are at d + 1;
 * with -depth N only URLs at most N links away are fetched (and printed).
 *
 * Two things go beyond the book. First, main counts the lists it is owed, as
 * crawl2 does, and when none is left it closes unseenLinks, which ends the
 * crawlers, and returns: the book's crawl3 waits on the worklist forever,
 * but a depth-limited crawl has an end and should stop there. Second, the
 * depth of a URL is the fewest links that lead to it, whatever order the
 * pages come back in: the crawlers race, so a URL may first be found down a
 * long path and later down a short one. Then, if it was already crawled, the
 * links on it are seen again one level nearer, which is why main keeps each
 * page's links while a limit is set. A URL is still fetched once at most.
 */
#include "config.h"

#include "links.h"
#include "net.h"

#include <curl/curl.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* func crawl(url string) []string */
static struct links *crawl(const char *url)
{
    char err[LINKS_ERRLEN];
    printf("%s\n", url); /* fmt.Println(url) */
    struct links *list = links_extract(url, err);
    if (list == NULL)
        book_log("%s", err);
    return list;
}

/* A worklist element: a list of URLs (may have duplicates) and the page it
 * was found on. */
struct found {
    struct urlset_entry *from; /* the page crawled; NULL: the command line */
    struct links *list;        /* what crawl returned; NULL when it failed */
};

/* What go func() { worklist <- foundLinks }() captures. */
struct send_args {
    csp_chan *worklist; /* chan found */
    struct found found; /* to send */
};

static void send_found(void *arg)
{
    struct send_args *a = arg;
    csp_send(a->worklist, &a->found);
}

/* What each crawler goroutine captures. */
struct crawler_args {
    csp_chan *worklist;    /* chan found */
    csp_chan *unseenLinks; /* chan *urlset_entry: de-duplicated URLs; a reference of its own */
};

/* go func() { for link := range unseenLinks { ... } }() */
static void crawler(void *arg)
{
    struct crawler_args *a = arg;
    struct urlset_entry *link;
    while (csp_recv(a->unseenLinks, &link) == 0) {
        struct send_args s = { a->worklist, { link, crawl(link->url) } }; /* foundLinks := crawl(link) */
        int rc = csp_go_copy(send_found, &s, sizeof s);
        if (rc != 0) /* main would wait for this list forever */
            book_fatal("go func: %s", csp_strerror(rc));
    }
    /* main may be gone already: what Go's garbage collector does for it. No
     * need for worklist: main lets go of it only once every send is done. */
    csp_chan_release(a->unseenLinks);
}

/* What main knows of a URL it has seen: the seen map's values. */
struct page {
    int depth;           /* the fewest links from a command-line URL found so far */
    bool crawled;        /* sent to the crawlers */
    struct links *links; /* the links on it, once crawled, while a limit is set */
};

/* main's state (locals of main in the book), which only main touches. */
static struct {
    int maxdepth;          /* -depth; INT_MAX: none */
    struct urlset *seen;   /* URL -> struct page */
    csp_chan *unseenLinks; /* chan *urlset_entry */
    size_t n;              /* number of pending sends to worklist */
} m = { INT_MAX, NULL, NULL, 0 };

static void page_free(void *value)
{
    struct page *p = value;
    links_free(p->links);
    free(p);
}

/* if !seen[link] { seen[link] = true; unseenLinks <- link }, for a link
 * depth links away, and the depth bookkeeping. */
static void see(const char *link, int depth)
{
    bool added;
    struct urlset_entry *e = urlset_add(m.seen, link, &added);
    if (e != NULL && added && (e->value = calloc(1, sizeof(struct page))) != NULL)
        ((struct page *)e->value)->depth = INT_MAX;
    if (e == NULL || e->value == NULL)
        book_fatal("out of memory");
    struct page *p = e->value;
    if (depth >= p->depth)
        return; /* seen, and no nearer than before */
    p->depth = depth;
    if (depth > m.maxdepth)
        return; /* too far (so far) */
    if (!p->crawled) {
        p->crawled = true;
        m.n++;
        csp_send(m.unseenLinks, &e);
        return;
    }
    /* Crawled, and nearer than it was: so are the links on it. */
    for (size_t i = 0; p->links != NULL && i < p->links->n; i++)
        see(p->links->url[i], depth + 1);
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: crawl3 [-depth N] URL...\n");
    exit(2);
}

/* flag.Int("depth", ...): -depth N, -depth=N, or with two dashes; returns
 * the index of the first URL. */
static int parse_flags(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i] + (argv[i][1] == '-'), *v;
        if (strcmp(argv[i], "--") == 0)
            return i + 1;
        if (strcmp(a, "-depth") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(a, "-depth=", 7) == 0)
            v = a + 7;
        else
            usage();
        char *end;
        errno = 0;
        long d = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || d < 0 || d >= INT_MAX)
            usage();
        m.maxdepth = (int)d;
    }
    return i;
}

/* func main() */
int main(int argc, char **argv)
{
    int first = parse_flags(argc, argv);
    if (first >= argc)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line out as fmt.Println writes it */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        book_fatal("curl_global_init failed");

    csp_chan *worklist = csp_chan_make(sizeof(struct found), 0); /* lists of URLs, may have duplicates */
    m.unseenLinks = csp_chan_make(sizeof(struct urlset_entry *), 0); /* de-duplicated URLs */
    m.seen = urlset_new();
    if (worklist == NULL || m.unseenLinks == NULL || m.seen == NULL)
        book_fatal("out of memory");

    /* Add command-line arguments to worklist. */
    struct send_args args = { worklist, { NULL, links_of(argv + first, (size_t)(argc - first)) } };
    if (args.found.list == NULL)
        book_fatal("out of memory");
    m.n++;
    int rc = csp_go_copy(send_found, &args, sizeof args);
    if (rc != 0)
        book_fatal("go func: %s", csp_strerror(rc));

    /* Create 20 crawler goroutines to fetch each unseen link. */
    struct crawler_args ca = { worklist, m.unseenLinks };
    for (int i = 0; i < 20; i++) {
        csp_chan_retain(m.unseenLinks); /* the crawler's, which it may use after main let go */
        if ((rc = csp_go_copy(crawler, &ca, sizeof ca)) != 0)
            book_fatal("go func: %s", csp_strerror(rc));
    }

    /* The main goroutine de-duplicates worklist items and sends the unseen
     * ones to the crawlers. */
    for (; m.n > 0; m.n--) {
        struct found f;
        csp_recv(worklist, &f);
        struct page *from = f.from != NULL ? f.from->value : NULL;
        int depth = from != NULL ? from->depth + 1 : 0;
        for (size_t i = 0; f.list != NULL && i < f.list->n; i++)
            see(f.list->url[i], depth);
        if (from != NULL && m.maxdepth < INT_MAX)
            from->links = f.list; /* for see, should this page be found nearer */
        else
            links_free(f.list);
    }
    csp_close(m.unseenLinks); /* the crawlers' range loops end */

    urlset_free(m.seen, page_free);
    csp_chan_release(m.unseenLinks);
    csp_chan_release(worklist);
    curl_global_cleanup();
    return 0;
}
