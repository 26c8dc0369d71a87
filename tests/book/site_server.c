/*
 * site_server.c - a generated web site on loopback, for testing the
 * crawlers (tests/book/crawl_test.sh).
 *
 *   site_server [-a ADDR] [-p PORT] [-n PAGES] [-d MS] [-s MS]
 *
 *     Serves HTTP/1.1 (keep-alive, or Connection: close when asked), a
 *     goroutine per connection, each response held back -d MS (default 0)
 *     so that a crawler's fetches overlap, and /page/1.html -s MS more
 *     (default 0), so that its part of the site is found late. On SIGINT
 *     or SIGTERM it prints to standard output "peak N" (the most requests
 *     in flight at once), "requests N", and "hit COUNT PATH" for every path
 *     asked for, then exits 0. A request is in flight from when its head has
 *     been read until its response is about to be written: so a client that
 *     makes at most K requests at once can never be counted at more than K.
 *
 *   site_server [-n PAGES] -l
 *
 *     Prints every URL path reachable from "/" as "DEPTH KIND PATH", DEPTH
 *     the fewest links that lead to it, KIND "page" (HTML), "text" (a
 *     text/plain resource), "missing" (404) or "redirect" (then a fourth
 *     field, the target), in breadth-first order, and exits.
 *
 * The site: "/" redirects (302) to /page/0.html. Pages /page/0.html to
 * /page/PAGES-1.html (default 150) form a tree of fan-out 4 (page i links
 * to 4i+1 .. 4i+4 and back to its parent), and each also links to a
 * "shortcut" page (7i + 3) mod PAGES, so that many pages are reachable down
 * paths of several lengths. Links come in every form a crawler must
 * resolve: relative, "./" and "../", root-relative, and absolute (with the
 * Host the request named); the shortcut is written <A HREF=...>. Pages
 * 10k+3 also link to two pages that do not exist (404), pages 10k+5 to a
 * text/plain resource /data/i.txt, and pages 9k back to "/" and to
 * themselves (href=""; so /page/0.html is 1 link from "/"). Every page
 * also has a <link href> and an <img src>, which are not links to follow.
 * The text resources and the 404 page hold an <a href> each, not to be
 * followed either: they are not HTML pages served with status 200.
 */
#include "config.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum {
    MAX_LINKS = 12,     /* on a page: at most 4 children, parent, 2 missing, "/", itself, shortcut */
    HOST_MAX = 256,     /* the Host header kept */
    PATH_MAX_LEN = 1024 /* the request target kept */
};

/* Set from the flags before any goroutine starts; only read after. */
static int npages = 150; /* -n */
static int64_t delay;    /* -d, in ns */
static int64_t slow;     /* -s, in ns: /page/1.html's extra delay */

/* ------------------------------------------------------------------------
 * The site
 * ------------------------------------------------------------------------ */

/* The site's URLs as node numbers: "/" is 0, then PAGES each of pages,
 * nonexistent pages /page/PAGES+i.html, nonexistent /page/gone-i.html and
 * resources /data/i.txt, for i < PAGES (only some of the last three are
 * linked to). */
enum kind { ROOT, PAGE, BEYOND, GONE, DATA };

static enum kind kind_of(int node, int *i)
{
    if (node == 0)
        return ROOT;
    *i = (node - 1) % npages;
    return (enum kind)(1 + (node - 1) / npages);
}

static int node_of(enum kind k, int i)
{
    return k == ROOT ? 0 : 1 + ((int)k - 1) * npages + i;
}

static void node_path(int node, char *buf, size_t len)
{
    int i = 0;
    switch (kind_of(node, &i)) {
    case ROOT:   snprintf(buf, len, "/"); break;
    case PAGE:   snprintf(buf, len, "/page/%d.html", i); break;
    case BEYOND: snprintf(buf, len, "/page/%d.html", npages + i); break;
    case GONE:   snprintf(buf, len, "/page/gone-%d.html", i); break;
    case DATA:   snprintf(buf, len, "/data/%d.txt", i); break;
    }
}

struct link {
    char href[HOST_MAX + 64]; /* as written in the page */
    int node;                 /* where it leads */
};

/* The links on page i, absolute ones naming host. */
static size_t page_links(int i, const char *host, struct link *out)
{
    size_t n = 0;
#define LINK(node_, ...) \
    (out[n].node = (node_), snprintf(out[n].href, sizeof out[n].href, __VA_ARGS__), n++)
    for (int c = 4 * i + 1; c <= 4 * i + 4 && c < npages; c++) {
        int to = node_of(PAGE, c);
        switch (c % 4) {
        case 0: LINK(to, "%d.html", c); break;
        case 1: LINK(to, "/page/%d.html", c); break;
        case 2: LINK(to, "http://%s/page/%d.html", host, c); break;
        case 3: LINK(to, "../page/%d.html", c); break;
        }
    }
    if (i > 0)
        LINK(node_of(PAGE, (i - 1) / 4), "./%d.html", (i - 1) / 4);
    if (i % 10 == 3) {
        LINK(node_of(BEYOND, i), "/page/%d.html", npages + i);
        LINK(node_of(GONE, i), "gone-%d.html", i);
    }
    if (i % 10 == 5)
        LINK(node_of(DATA, i), "/data/%d.txt", i);
    if (i % 9 == 0) {
        LINK(0, "http://%s/", host);
        LINK(node_of(PAGE, i), "%s", ""); /* itself */
    }
    LINK(node_of(PAGE, (7 * i + 3) % npages), "%d.html", (7 * i + 3) % npages); /* the shortcut: last */
#undef LINK
    return n;
}

/* Page i as HTML, malloc'd; NULL when out of memory. */
static char *page_html(int i, const char *host, size_t *len)
{
    struct link links[MAX_LINKS];
    size_t n = page_links(i, host, links);
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    fprintf(f, "<!DOCTYPE html>\n<html><head><title>Page %d</title>\n"
               "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n"
               "<body><h1><a name=\"top\">Page %d</a></h1>\n<ul>\n", i, i);
    for (size_t k = 0; k + 1 < n; k++)
        fprintf(f, "<li><a class=\"l\" href=\"%s\">link %zu</a></li>\n", links[k].href, k);
    fprintf(f, "</ul>\n<p><img src=\"/img/%d.png\" alt=\"\"> and a <A HREF=%s>shortcut</A>.</p>\n"
               "</body></html>\n", i, links[n - 1].href);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* -l: a breadth-first walk from "/", as the crawlers see the site. */
static void list_site(void)
{
    int nnodes = 1 + 4 * npages, head = 0, tail = 0;
    int *depth = malloc((size_t)nnodes * sizeof *depth), *queue = malloc((size_t)nnodes * sizeof *queue);
    if (depth == NULL || queue == NULL)
        book_fatal("out of memory");
    for (int v = 0; v < nnodes; v++)
        depth[v] = -1;
    depth[0] = 0;
    queue[tail++] = 0;
    while (head < tail) {
        int v = queue[head++], i = 0;
        char path[64];
        enum kind k = kind_of(v, &i);
        node_path(v, path, sizeof path);
        if (k == ROOT)
            printf("%d redirect %s /page/0.html\n", depth[v], path);
        else
            printf("%d %s %s\n", depth[v], k == PAGE ? "page" : k == DATA ? "text" : "missing", path);
        if (k != ROOT && k != PAGE)
            continue;
        struct link links[MAX_LINKS];
        size_t n = page_links(k == ROOT ? 0 : i, "HOST", links); /* "/" shows page 0 */
        for (size_t l = 0; l < n; l++) {
            if (depth[links[l].node] < 0) {
                depth[links[l].node] = depth[v] + 1;
                queue[tail++] = links[l].node;
            }
        }
    }
    free(depth);
    free(queue);
}

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------ */

struct hit {
    char *path; /* as requested, without the query */
    long count; /* requests for it */
};

static struct {
    pthread_mutex_t lock; /* protects every field below */
    int inflight;         /* requests between their head and their response */
    int peak;             /* the most inflight has been */
    long requests;        /* all of them */
    struct hit *hits;     /* one per path asked for, in no order */
    size_t nhits, cap;    /* hits in use, and allocated */
} stats = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, NULL, 0, 0 };

static void request_begins(const char *path)
{
    pthread_mutex_lock(&stats.lock);
    if (++stats.inflight > stats.peak)
        stats.peak = stats.inflight;
    stats.requests++;
    size_t i = 0;
    while (i < stats.nhits && strcmp(stats.hits[i].path, path) != 0)
        i++;
    if (i == stats.nhits && stats.nhits == stats.cap) {
        size_t cap = stats.cap ? 2 * stats.cap : 64;
        struct hit *h = realloc(stats.hits, cap * sizeof *h);
        if (h == NULL)
            book_fatal("out of memory");
        stats.hits = h;
        stats.cap = cap;
    }
    if (i == stats.nhits) {
        if ((stats.hits[i].path = strdup(path)) == NULL)
            book_fatal("out of memory");
        stats.hits[i].count = 0;
        stats.nhits++;
    }
    stats.hits[i].count++;
    pthread_mutex_unlock(&stats.lock);
}

static void request_ends(void)
{
    pthread_mutex_lock(&stats.lock);
    stats.inflight--;
    pthread_mutex_unlock(&stats.lock);
}

static void print_stats(void)
{
    pthread_mutex_lock(&stats.lock);
    printf("peak %d\nrequests %ld\n", stats.peak, stats.requests);
    for (size_t i = 0; i < stats.nhits; i++) {
        printf("hit %ld %s\n", stats.hits[i].count, stats.hits[i].path);
        free(stats.hits[i].path);
    }
    free(stats.hits);
    stats.hits = NULL;
    stats.nhits = stats.cap = 0;
    pthread_mutex_unlock(&stats.lock);
    fflush(stdout);
}

/* ------------------------------------------------------------------------
 * HTTP
 * ------------------------------------------------------------------------ */

struct request {
    char method[16];          /* GET or HEAD are served */
    char path[PATH_MAX_LEN];  /* the target, less any query */
    char host[HOST_MAX];      /* the Host header; "" when none */
    bool close;               /* the connection ends after the response */
    bool bad;                 /* malformed, or with a body: 400 */
};

/* Reads one request head: 0, or -1 at end of input. */
static int read_request(book_scanner *in, struct request *rq)
{
    const char *line;
    int major = 0, minor = 0;
    memset(rq, 0, sizeof *rq);
    do { /* a client may send empty lines before a request */
        if ((line = book_scan(in)) == NULL)
            return -1;
    } while (line[0] == '\0');
    char target[PATH_MAX_LEN], extra;
    if (sscanf(line, "%15s %1023s HTTP/%d.%d%c", rq->method, target, &major, &minor, &extra) != 4 ||
        target[0] != '/' || major != 1) {
        rq->bad = true;
        target[0] = '\0';
    }
    target[strcspn(target, "?")] = '\0';
    snprintf(rq->path, sizeof rq->path, "%s", target);
    bool keep_alive = false;
    while ((line = book_scan(in)) != NULL && line[0] != '\0') {
        const char *colon = strchr(line, ':');
        if (colon == NULL) {
            rq->bad = true;
            continue;
        }
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1 + strspn(colon + 1, " \t");
#define IS(name) (nlen == sizeof name - 1 && strncasecmp(line, name, nlen) == 0)
        if (IS("Host"))
            snprintf(rq->host, sizeof rq->host, "%s", v);
        else if (IS("Connection") && strcasestr(v, "close") != NULL)
            rq->close = true;
        else if (IS("Connection") && strcasestr(v, "keep-alive") != NULL)
            keep_alive = true;
        else if ((IS("Content-Length") && strtol(v, NULL, 10) != 0) || IS("Transfer-Encoding"))
            rq->bad = true; /* a body we would have to skip */
#undef IS
    }
    if (line == NULL)
        return -1;
    if (minor == 0 && !keep_alive)
        rq->close = true; /* HTTP/1.0 */
    if (rq->bad)
        rq->close = true;
    return 0;
}

/* Writes a response; 0, or -1 when the client has gone. */
static int respond_len(int c, const struct request *rq, const char *status, const char *type,
                       const char *extra, const char *body, size_t len)
{
    bool head = strcmp(rq->method, "HEAD") == 0;
    return book_printf(c, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n%.*s",
                       status, type, len, extra, rq->close ? "Connection: close\r\n" : "",
                       head ? 0 : (int)len, body);
}

static int respond(int c, const struct request *rq, const char *status, const char *type,
                   const char *extra, const char *body)
{
    return respond_len(c, rq, status, type, extra, body, strlen(body));
}

/* Parses "/prefix%d.suffix" with 0 <= %d < limit: the number, or -1. */
static int number_in(const char *path, const char *prefix, const char *suffix, int limit)
{
    size_t plen = strlen(prefix), slen = strlen(suffix), len = strlen(path);
    if (len <= plen + slen || strncmp(path, prefix, plen) != 0 || strcmp(path + len - slen, suffix) != 0)
        return -1;
    long v = 0;
    for (const char *p = path + plen; p < path + len - slen; p++) {
        if (*p < '0' || *p > '9' || (p > path + plen && v == 0) || (v = v * 10 + (*p - '0')) >= limit)
            return -1; /* not a number, a leading zero, or too big */
    }
    return (int)v;
}

/* Serves one request; local is the server's address, for a request
 * without a Host. */
static int serve(int c, struct request *rq, const char *local)
{
    int i;
    if (rq->bad)
        return respond(c, rq, "400 Bad Request", "text/plain; charset=utf-8", "", "bad request\n");
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        rq->close = true;
        return respond(c, rq, "405 Method Not Allowed", "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n",
                       "method not allowed\n");
    }
    const char *host = rq->host[0] != '\0' ? rq->host : local;

    request_begins(rq->path);
    csp_sleep(delay + (strcmp(rq->path, "/page/1.html") == 0 ? slow : 0));
    request_ends(); /* before the response: see the top of the file */

    if (strcmp(rq->path, "/") == 0)
        return respond(c, rq, "302 Found", "text/html; charset=utf-8", "Location: /page/0.html\r\n",
                       "<a href=\"/page/0.html\">Found</a>.\n");
    if ((i = number_in(rq->path, "/page/", ".html", npages)) >= 0) {
        size_t len;
        char *html = page_html(i, host, &len);
        if (html == NULL)
            return respond(c, rq, "500 Internal Server Error", "text/plain", "", "out of memory\n");
        int rc = respond_len(c, rq, "200 OK", "text/html; charset=utf-8", "", html, len);
        free(html);
        return rc;
    }
    if ((i = number_in(rq->path, "/data/", ".txt", npages)) >= 0 && i % 10 == 5) {
        char text[64];
        snprintf(text, sizeof text, "resource %d: plain text, <a href=\"0.html\">no links</a>\n", i);
        return respond(c, rq, "200 OK", "text/plain; charset=utf-8", "", text);
    }
    return respond(c, rq, "404 Not Found", "text/html; charset=utf-8", "",
                   "<html><body>404 page not found: <a href=\"/never.html\">home</a></body></html>\n");
}

/* func handleConn(c net.Conn): requests one after another until the client
 * closes or asks to. */
static void handle_conn(void *arg)
{
    int c = *(int *)arg;
    book_scanner *in = book_scanner_new(c);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "127.0.0.1", local[INET6_ADDRSTRLEN + 16] = "127.0.0.1";
    if (getsockname(c, (struct sockaddr *)&ss, &sslen) != 0) {
        ; /* keep the default */
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
        snprintf(local, sizeof local, "%s:%d", addr, ntohs(sin->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
        snprintf(local, sizeof local, "[%s]:%d", addr, ntohs(sin6->sin6_port));
    }
    struct request rq;
    while (read_request(in, &rq) == 0)
        if (serve(c, &rq, local) != 0 || rq.close)
            break;
    book_scanner_free(in);
    book_close(c);
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: site_server [-a ADDR] [-p PORT] [-n PAGES] [-d MS] [-s MS]\n"
                    "       site_server [-n PAGES] -l\n");
    exit(2);
}

static long number(const char *s, long min, long max)
{
    long v;
    if (!book_parse_long(s, min, max, &v))
        usage();
    return v;
}

int main(int argc, char **argv)
{
    struct book_flags f = { "127.0.0.1", 8000, 0 };
    bool list = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-l") == 0) {
            list = true;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0' || a[2] != '\0' || i + 1 == argc)
            usage();
        const char *v = argv[++i];
        switch (a[1]) {
        case 'a': f.addr = v; break;
        case 'p': f.port = (int)number(v, 0, 65535); break;
        case 'n': npages = (int)number(v, 1, 1000000); break;
        case 'd': delay = number(v, 0, 3600 * 1000) * CSP_MILLISECOND; break;
        case 's': slow = number(v, 0, 3600 * 1000) * CSP_MILLISECOND; break;
        default: usage();
        }
    }
    if (list) {
        list_site();
        return fflush(stdout) == 0 ? 0 : 1;
    }

    int listener = book_listen(&f);
    for (;;) {
        int conn = book_accept(listener);
        if (conn == BOOK_STOPPED)
            break;
        if (conn < 0) {
            book_log("accept: %s", strerror(errno));
            continue;
        }
        int rc = csp_go_copy(handle_conn, &conn, sizeof conn);
        if (rc != 0) {
            book_log("go handleConn: %s", csp_strerror(rc));
            book_close(conn);
        }
    }
    print_stats();
    return 0;
}
