/*
 * links.c - links.Extract with libcurl and gumbo, a list of URLs, and the
 * crawlers' seen set (see links.h).
 *
 * Each call has its own easy handle and so its own connection: nothing is
 * shared between goroutines but libcurl's global state, set up once by main.
 * The response is checked as soon as its body starts (status 200 and an HTML
 * content type), so a page that will be refused is not downloaded, as Go
 * closes the body unread; the document is then parsed in one go and walked
 * with an explicit stack, not recursion, since goroutine stacks are small.
 */
#include "config.h"

#include "links.h"

#include <curl/curl.h>
#include <gumbo.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * []string
 * ------------------------------------------------------------------------ */

struct links *links_new(void)
{
    return calloc(1, sizeof(struct links));
}

static int links_append_owned(struct links *list, char *url)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 8;
        char **p = realloc(list->url, cap * sizeof *p);
        if (p == NULL)
            return -1;
        list->url = p;
        list->cap = cap;
    }
    list->url[list->n++] = url;
    return 0;
}

int links_append(struct links *list, const char *url)
{
    char *copy = strdup(url);
    if (copy == NULL || links_append_owned(list, copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

struct links *links_of(char *const *url, size_t n)
{
    struct links *list = links_new();
    for (size_t i = 0; list != NULL && i < n; i++) {
        if (links_append(list, url[i]) != 0) {
            links_free(list);
            list = NULL;
        }
    }
    return list;
}

void links_free(struct links *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->url[i]);
    free(list->url);
    free(list);
}

/* ------------------------------------------------------------------------
 * Fetching
 * ------------------------------------------------------------------------ */

/* One GET in progress. */
struct fetch {
    CURL *h;           /* its easy handle */
    const char *url;   /* as asked for, for messages */
    char *body;        /* the response body so far, len of cap bytes */
    size_t len, cap;   /* bytes in body, and allocated */
    char status[64];   /* the last status line's "404 Not Found" part */
    bool checked;      /* the response has been checked (the body began) */
    char *err;         /* the caller's message buffer; set when refused */
    bool refused;      /* not 200 or not HTML, or no memory: err says why */
};

/* resp.StatusCode != http.StatusOK, and ch5/title1's content type check: 0
 * when the response is a page to parse, else -1 with the message in err. */
static int check_response(struct fetch *f)
{
    long code = 0;
    char *ct = NULL;
    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(f->h, CURLINFO_CONTENT_TYPE, &ct);
    if (code != 200) {
        if (f->status[0] != '\0')
            snprintf(f->err, LINKS_ERRLEN, "getting %s: %s", f->url, f->status);
        else
            snprintf(f->err, LINKS_ERRLEN, "getting %s: %ld", f->url, code);
        return -1;
    }
    if (ct == NULL)
        ct = "";
    if (strcmp(ct, "text/html") != 0 && strncmp(ct, "text/html;", 10) != 0) {
        snprintf(f->err, LINKS_ERRLEN, "%s has type %s, not text/html", f->url, ct);
        return -1;
    }
    return 0;
}

/* The status line of each response, redirects included: the last one wins. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb;
    if (n > 5 && memcmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        size_t len = sp != NULL ? n - (size_t)(sp + 1 - data) : 0;
        while (len > 0 && (sp[len] == '\r' || sp[len] == '\n' || sp[len] == ' '))
            len--; /* sp[1..len] is the "404 Not Found" part */
        if (len >= sizeof f->status)
            len = sizeof f->status - 1;
        if (len > 0)
            memcpy(f->status, sp + 1, len);
        f->status[len] = '\0';
    }
    return n;
}

/* The final response's body. Returning less than given aborts the transfer. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb;
    if (!f->checked) {
        f->checked = true;
        if (check_response(f) != 0) {
            f->refused = true;
            return 0;
        }
    }
    if (n > f->cap - f->len) {
        size_t cap = f->cap ? f->cap : 16 * 1024;
        while (cap - f->len < n && cap < SIZE_MAX / 2)
            cap *= 2;
        char *body = cap - f->len >= n ? realloc(f->body, cap) : NULL;
        if (body == NULL) {
            snprintf(f->err, LINKS_ERRLEN, "getting %s: out of memory", f->url);
            f->refused = true;
            return 0;
        }
        f->body = body;
        f->cap = cap;
    }
    memcpy(f->body + f->len, data, n);
    f->len += n;
    return n;
}

/* http.Get(url) and the checks: the HTML document in f->body and the final
 * URL (valid until the handle is cleaned up) in *final; -1 and err set on
 * failure. */
static int get(struct fetch *f, const char **final)
{
    char curlerr[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    curl_easy_setopt(f->h, CURLOPT_URL, f->url);
    curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L); /* many threads: no SIGALRM for timeouts */
    curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(f->h, CURLOPT_MAXREDIRS, 10L); /* net/http's limit */
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(f->h, CURLOPT_PROTOCOLS_STR, "http,https"); /* never file: and the like */
#else
    curl_easy_setopt(f->h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, curlerr);
    curl_easy_setopt(f->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(f->h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
    rc = curl_easy_perform(f->h);
    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, NULL); /* curlerr goes out of scope */
    if (f->refused)
        return -1;
    if (rc != CURLE_OK) {
        snprintf(f->err, LINKS_ERRLEN, "getting %s: %s", f->url,
                 curlerr[0] != '\0' ? curlerr : curl_easy_strerror(rc));
        return -1;
    }
    if (!f->checked && check_response(f) != 0) /* an empty body: on_body never ran */
        return -1;
    *final = NULL;
    curl_easy_getinfo(f->h, CURLINFO_EFFECTIVE_URL, final);
    if (*final == NULL)
        *final = f->url;
    return 0;
}

/* ------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------ */

/* What hrefs are resolved against: the final response URL less its
 * fragment, parsed and as text. */
struct base {
    CURLU *u;  /* parsed */
    char *url; /* as text, from curl_url_get */
};

/* link, err := resp.Request.URL.Parse(href): the absolute URL, or NULL when
 * href does not resolve (a bad URL, an unsupported scheme) or out of memory.
 * libcurl (7.88) resolves "" and "#f" against the base's directory; RFC 3986
 * (5.2.2) and Go against the base itself, which is easily done here. */
static char *resolve(const struct base *base, const char *href)
{
    if (href[0] == '\0' || href[0] == '#') {
        size_t n = strlen(base->url), m = strlen(href);
        char *abs = malloc(n + m + 1);
        if (abs != NULL) {
            memcpy(abs, base->url, n);
            memcpy(abs + n, href, m + 1);
        }
        return abs;
    }
    CURLU *u = curl_url_dup(base->u);
    char *s = NULL, *abs = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, href, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        abs = strdup(s); /* ours to free(), not curl_free() */
    curl_free(s);
    curl_url_cleanup(u);
    return abs;
}

/* forEachNode(doc, visitNode, nil): every <a href> of the tree at root, in
 * document order, resolved against base and appended to list; -1 when out
 * of memory. */
static int visit(GumboNode *root, const struct base *base, struct links *list)
{
    size_t n = 0, cap = 64;
    GumboNode **stack = malloc(cap * sizeof *stack);
    int rc = 0;
    if (stack == NULL)
        return -1;
    stack[n++] = root;
    while (n > 0 && rc == 0) {
        GumboNode *node = stack[--n];
        if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE)
            continue;
        GumboElement *el = &node->v.element;
        GumboAttribute *href = el->tag == GUMBO_TAG_A ? gumbo_get_attribute(&el->attributes, "href") : NULL;
        char *link = href != NULL ? resolve(base, href->value) : NULL;
        if (link != NULL && links_append_owned(list, link) != 0) {
            free(link);
            rc = -1;
        }
        if (n + el->children.length > cap) {
            while (n + el->children.length > cap)
                cap *= 2;
            GumboNode **p = realloc(stack, cap * sizeof *p);
            if (p == NULL) {
                rc = -1;
                break;
            }
            stack = p;
        }
        for (unsigned i = el->children.length; i > 0; i--) /* the first child on top */
            stack[n++] = el->children.data[i - 1];
    }
    free(stack);
    return rc;
}

struct links *links_extract(const char *url, char *err)
{
    struct fetch f = { .url = url, .err = err };
    struct base base = { NULL, NULL };
    struct links *list = NULL;
    GumboOutput *doc = NULL;
    const char *final;

    if ((f.h = curl_easy_init()) == NULL) {
        snprintf(err, LINKS_ERRLEN, "getting %s: cannot start libcurl", url);
        return NULL;
    }
    if (get(&f, &final) != 0)
        goto out;
    doc = gumbo_parse_with_options(&kGumboDefaultOptions, f.body != NULL ? f.body : "", f.len);
    if (doc == NULL) {
        snprintf(err, LINKS_ERRLEN, "parsing %s as HTML: out of memory", url);
        goto out;
    }
    if ((base.u = curl_url()) == NULL || curl_url_set(base.u, CURLUPART_URL, final, 0) != CURLUE_OK ||
        curl_url_set(base.u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(base.u, CURLUPART_URL, &base.url, 0) != CURLUE_OK) {
        snprintf(err, LINKS_ERRLEN, "parsing %s: bad response URL %s", url, final);
        goto out;
    }
    if ((list = links_new()) == NULL || visit(doc->root, &base, list) != 0) {
        snprintf(err, LINKS_ERRLEN, "parsing %s as HTML: out of memory", url);
        links_free(list);
        list = NULL;
    }
out:
    curl_free(base.url);
    curl_url_cleanup(base.u);
    if (doc != NULL)
        gumbo_destroy_output(&kGumboDefaultOptions, doc);
    curl_easy_cleanup(f.h);
    free(f.body);
    return list;
}

/* ------------------------------------------------------------------------
 * The seen set: chained hashing, FNV-1a, doubling at one entry per bucket
 * ------------------------------------------------------------------------ */

struct urlset_node {
    struct urlset_entry e;     /* what the caller sees */
    struct urlset_node *next;  /* the next in its bucket */
    size_t hash;               /* of url */
    char url[];                /* e.url points here */
};

struct urlset {
    struct urlset_node **bucket; /* nbucket chains */
    size_t nbucket;              /* a power of two */
    size_t n;                    /* entries */
};

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

struct urlset *urlset_new(void)
{
    struct urlset *s = calloc(1, sizeof *s);
    if (s != NULL && (s->bucket = calloc(s->nbucket = 64, sizeof *s->bucket)) == NULL) {
        free(s);
        s = NULL;
    }
    return s;
}

/* Doubles the buckets; the set stays as it was when out of memory. */
static void grow(struct urlset *s)
{
    size_t nbucket = 2 * s->nbucket;
    struct urlset_node **bucket = calloc(nbucket, sizeof *bucket);
    if (bucket == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < s->nbucket; i++) {
        for (struct urlset_node *e = s->bucket[i], *next; e != NULL; e = next) {
            next = e->next;
            e->next = bucket[e->hash & (nbucket - 1)];
            bucket[e->hash & (nbucket - 1)] = e;
        }
    }
    free(s->bucket);
    s->bucket = bucket;
    s->nbucket = nbucket;
}

struct urlset_entry *urlset_add(struct urlset *s, const char *url, bool *added)
{
    size_t h = hash(url);
    *added = false;
    for (struct urlset_node *e = s->bucket[h & (s->nbucket - 1)]; e != NULL; e = e->next)
        if (e->hash == h && strcmp(e->url, url) == 0)
            return &e->e;
    size_t len = strlen(url);
    struct urlset_node *e = malloc(sizeof *e + len + 1);
    if (e == NULL)
        return NULL;
    memcpy(e->url, url, len + 1);
    e->e.url = e->url;
    e->e.value = NULL;
    e->hash = h;
    if (s->n >= s->nbucket)
        grow(s);
    e->next = s->bucket[h & (s->nbucket - 1)];
    s->bucket[h & (s->nbucket - 1)] = e;
    s->n++;
    *added = true;
    return &e->e;
}

void urlset_free(struct urlset *s, void (*free_value)(void *value))
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nbucket; i++) {
        for (struct urlset_node *e = s->bucket[i], *next; e != NULL; e = next) {
            next = e->next;
            if (free_value != NULL)
                free_value(e->e.value);
            free(e);
        }
    }
    free(s->bucket);
    free(s);
}
