/*
 * crawl1.c - gopl.io/ch8/crawl1: crawls web links starting with the
 * command-line arguments, a goroutine per link.
 *
 *   crawl1 URL...
 *
 * Prints each URL as it starts on it, and logs each failure to stderr. This
 * version quickly exhausts available file descriptors (or threads) on a big
 * site, due to excessive concurrent calls to links_extract: it has no limit.
 * Also, it never terminates, as in the book: once every link has been seen,
 * main waits on the worklist forever. Stop it with a signal.
 */
#include "config.h"

#include "links.h"
#include "net.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>

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

/* What go func(link string) { worklist <- crawl(link) }(link) captures. */
struct crawl_args {
    csp_chan *worklist; /* chan []string */
    const char *link;   /* the seen set's copy: lives as long as main */
};

static void crawl_link(void *arg)
{
    struct crawl_args *a = arg;
    struct links *list = crawl(a->link);
    csp_send(a->worklist, &list);
}

/* What go func() { worklist <- os.Args[1:] }() captures. */
struct start_args {
    csp_chan *worklist; /* chan []string */
    struct links *args; /* os.Args[1:] */
};

static void send_args(void *arg)
{
    struct start_args *a = arg;
    csp_send(a->worklist, &a->args);
}

/* func main() */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: crawl1 URL...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line out as fmt.Println writes it */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        book_fatal("curl_global_init failed");

    csp_chan *worklist = csp_chan_make(sizeof(struct links *), 0); /* make(chan []string) */
    struct start_args args = { worklist, links_of(argv + 1, (size_t)argc - 1) };
    if (worklist == NULL || args.args == NULL)
        book_fatal("out of memory");
    int rc = csp_go_copy(send_args, &args, sizeof args);
    if (rc != 0)
        book_fatal("go func: %s", csp_strerror(rc));

    /* crawl the web concurrently */
    struct urlset *seen = urlset_new();
    if (seen == NULL)
        book_fatal("out of memory");
    struct links *list;
    while (csp_recv(worklist, &list) == 0) { /* for list := range worklist */
        for (size_t i = 0; list != NULL && i < list->n; i++) {
            bool added;
            struct urlset_entry *e = urlset_add(seen, list->url[i], &added);
            if (e == NULL)
                book_fatal("out of memory");
            if (added) { /* !seen[link]: seen[link] = true */
                struct crawl_args a = { worklist, e->url };
                if ((rc = csp_go_copy(crawl_link, &a, sizeof a)) != 0)
                    book_log("go func(%s): %s", e->url, csp_strerror(rc));
            }
        }
        links_free(list);
    }
    /* Not reached: nobody closes the worklist. */
    urlset_free(seen, NULL);
    csp_chan_release(worklist);
    curl_global_cleanup();
    return 0;
}
