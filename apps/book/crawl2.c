/*
 * crawl2.c - gopl.io/ch8/crawl2: crawls web links starting with the
 * command-line arguments, a goroutine per link as crawl1, but with at most
 * 20 links_extract calls at once (a counting semaphore), and it terminates
 * when the worklist is empty and no crawler goroutine is active.
 *
 *   crawl2 URL...
 *
 * Prints each URL as it starts on it, and logs each failure to stderr.
 */
#include "config.h"

#include "links.h"
#include "net.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>

/* tokens is a counting semaphore used to enforce a limit of 20 concurrent
 * requests: var tokens = make(chan struct{}, 20), made by main. */
static csp_chan *tokens;

/* func crawl(url string) []string */
static struct links *crawl(const char *url)
{
    char err[LINKS_ERRLEN];
    printf("%s\n", url);     /* fmt.Println(url) */
    csp_send(tokens, NULL);  /* acquire a token */
    struct links *list = links_extract(url, err);
    csp_recv(tokens, NULL);  /* release the token */
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
        fprintf(stderr, "usage: crawl2 URL...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line out as fmt.Println writes it */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        book_fatal("curl_global_init failed");
    if ((tokens = csp_chan_make(0, 20)) == NULL)
        book_fatal("out of memory");

    csp_chan *worklist = csp_chan_make(sizeof(struct links *), 0); /* make(chan []string) */
    size_t n = 0; /* number of pending sends to worklist */

    /* Start with the command-line arguments. */
    struct start_args args = { worklist, links_of(argv + 1, (size_t)argc - 1) };
    if (worklist == NULL || args.args == NULL)
        book_fatal("out of memory");
    n++;
    int rc = csp_go_copy(send_args, &args, sizeof args);
    if (rc != 0)
        book_fatal("go func: %s", csp_strerror(rc));

    /* Crawl the web concurrently. */
    struct urlset *seen = urlset_new();
    if (seen == NULL)
        book_fatal("out of memory");
    for (; n > 0; n--) {
        struct links *list;
        csp_recv(worklist, &list);
        for (size_t i = 0; list != NULL && i < list->n; i++) {
            bool added;
            struct urlset_entry *e = urlset_add(seen, list->url[i], &added);
            if (e == NULL)
                book_fatal("out of memory");
            if (added) { /* !seen[link]: seen[link] = true */
                struct crawl_args a = { worklist, e->url };
                if ((rc = csp_go_copy(crawl_link, &a, sizeof a)) == 0)
                    n++;
                else
                    book_log("go func(%s): %s", e->url, csp_strerror(rc));
            }
        }
        links_free(list);
    }
    urlset_free(seen, NULL);
    csp_chan_release(worklist);
    csp_chan_release(tokens);
    curl_global_cleanup();
    return 0;
}
