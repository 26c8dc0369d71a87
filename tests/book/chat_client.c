/*
 * chat_client.c - a client for testing chat (tests/book/chat_test.sh).
 *
 *   chat_client [-a ADDR] -p PORT [-r BYTES]
 *
 *     One chat client, like netcat: sends standard input as it comes (a
 *     last line without its newline too) and prints every byte received.
 *     At the end of standard input it closes the connection at once and
 *     exits 0; when the server ends the connection it says so on standard
 *     error and exits 0. -r sets the receive buffer (SO_RCVBUF, before
 *     connecting), so that a client stopped with SIGSTOP fills up sooner.
 *
 *   chat_client [-a ADDR] -p PORT -f LINE [-c CONNS] [-s BYTES] [-w LINES]
 *               [-n LINES] [-t SECONDS]
 *
 *     Flood: connects CONNS readers (3) and waits until each has entered
 *     the chat (its own "hello" came back). Then the first sends numbered
 *     lines of BYTES bytes (1000), never more than -w LINES (32) ahead of
 *     the slowest reader, until every reader has seen LINE; waits until
 *     every reader has every line sent, prints a summary and exits 0.
 *     Exits 1 (with a log line) when a reader misses a flood line, gets
 *     one out of order or garbled, or loses its connection; when -n LINES
 *     (100000) were sent and some reader has not seen LINE; or when no
 *     reader got a byte for -t SECONDS (5).
 *
 * The window keeps every reader's backlog in the server under -w lines,
 * so a reader that keeps reading can never be taken for a slow one,
 * however the machine schedules us.
 */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_CONNS = 16, ADDR_MAX = 64 };

static const char *prog = "chat_client";

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: %s [-a ADDR] -p PORT [-r BYTES]\n"
            "       %s [-a ADDR] -p PORT -f LINE [-c CONNS] [-s BYTES] [-w LINES] [-n LINES] "
            "[-t SECONDS]\n",
            prog, prog);
    exit(2);
}

static long number(const char *s, long min, long max)
{
    long v;
    if (!book_parse_long(s, min, max, &v))
        usage();
    return v;
}

/* ------------------------------------------------------------------------
 * One client, like netcat
 * ------------------------------------------------------------------------ */

static int talk(int sock)
{
    char buf[64 * 1024];
    struct pollfd p[2] = { { sock, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            book_fatal("poll: %s", strerror(errno));
        }
        if (p[0].revents != 0) {
            ssize_t r = read(sock, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                fprintf(stderr, "%s: the server ended the connection%s%s\n", prog,
                        r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
                return 0;
            }
            if (book_write(STDOUT_FILENO, buf, (size_t)r) != 0)
                book_fatal("stdout: %s", strerror(errno));
        }
        if (p[1].revents != 0) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                close(sock);
                return 0;
            }
            if (book_write(sock, buf, (size_t)r) != 0)
                book_fatal("send: %s", strerror(errno));
        }
    }
}

/* ------------------------------------------------------------------------
 * Flood
 * ------------------------------------------------------------------------ */

/* One reader's connection and what it has seen. */
struct reader {
    int fd;              /* the connection */
    char *buf;           /* received bytes not yet split into lines */
    size_t len, cap;     /* bytes in buf, and allocated */
    char addr[ADDR_MAX]; /* from "You are ADDR"; "" until then */
    bool entered;        /* its own "hello" came back */
    long next;           /* number of the next flood line it should get */
    bool until;          /* it has seen the -f line */
};

static struct reader readers[MAX_CONNS];
static int nreaders = 3;
static char flood_prefix[ADDR_MAX + 16]; /* "ADDR0: flood " */
static int line_size = 1000;             /* -s: bytes of each flood line, before the server's prefix */
static const char *until_line;           /* -f */

/* The flood line numbered k, with its newline, into buf (line_size + 2 bytes). */
static size_t flood_line(char *buf, long k)
{
    int n = snprintf(buf, (size_t)line_size + 2, "flood %07ld ", k);
    memset(buf + n, 'x', (size_t)(line_size - n));
    buf[line_size] = '\n';
    return (size_t)line_size + 1;
}

static void take_line(int i, char *line)
{
    struct reader *r = &readers[i];
    size_t plen = strlen(flood_prefix);
    if (r->addr[0] == '\0') {
        if (strncmp(line, "You are ", 8) != 0 || strlen(line + 8) >= ADDR_MAX)
            book_fatal("reader %d: first line %.80s, want \"You are ADDR\"", i, line);
        strcpy(r->addr, line + 8);
    } else if (!r->entered && strncmp(line, r->addr, strlen(r->addr)) == 0 &&
               strcmp(line + strlen(r->addr), ": hello") == 0) {
        r->entered = true;
    } else if (plen > 0 && strncmp(line, flood_prefix, plen) == 0) {
        /* "ADDR0: " and the line as sent: "flood NNNNNNN xxx...x" */
        char *text = line + plen - strlen("flood ");
        long k = strtol(line + plen, NULL, 10);
        if (k != r->next)
            book_fatal("reader %d (%s): got flood line %ld, want %ld", i, r->addr, k, r->next);
        size_t n = (size_t)snprintf(NULL, 0, "flood %07ld ", k);
        if (strlen(text) != (size_t)line_size || strspn(text + n, "x") != (size_t)line_size - n)
            book_fatal("reader %d (%s): flood line %ld garbled", i, r->addr, k);
        r->next++;
    } else if (until_line != NULL && strcmp(line, until_line) == 0) {
        r->until = true;
    }
}

/* Reads what has arrived, within ms; returns whether any reader got bytes. */
static bool pump(int ms)
{
    struct pollfd p[MAX_CONNS];
    for (int i = 0; i < nreaders; i++)
        p[i] = (struct pollfd){ readers[i].fd, POLLIN, 0 };
    int n = poll(p, (nfds_t)nreaders, ms);
    if (n < 0 && errno != EINTR)
        book_fatal("poll: %s", strerror(errno));
    bool got = false;
    for (int i = 0; i < nreaders && n > 0; i++) {
        struct reader *r = &readers[i];
        if (p[i].revents == 0)
            continue;
        if (r->cap - r->len < 4096) {
            r->cap = r->cap ? 2 * r->cap : (size_t)line_size * 4 + 4096;
            if ((r->buf = realloc(r->buf, r->cap)) == NULL)
                book_fatal("out of memory");
        }
        ssize_t got_n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
        if (got_n < 0 && errno == EINTR)
            continue;
        if (got_n <= 0)
            book_fatal("reader %d (%s): the server ended the connection%s%s (at flood line %ld)",
                       i, r->addr, got_n < 0 ? ": " : "", got_n < 0 ? strerror(errno) : "",
                       r->next);
        got = true;
        r->len += (size_t)got_n;
        char *start = r->buf, *nl;
        while ((nl = memchr(start, '\n', r->len - (size_t)(start - r->buf))) != NULL) {
            *nl = '\0';
            take_line(i, start);
            start = nl + 1;
        }
        r->len -= (size_t)(start - r->buf);
        memmove(r->buf, start, r->len);
    }
    return got;
}

/* Pumps until done() holds; fatal when no reader got a byte for stall_ms. */
static void pump_until(bool (*done)(void), int stall_ms, const char *what)
{
    int64_t last = csp_now();
    while (!done()) {
        if (pump(100))
            last = csp_now();
        else if (csp_now() - last > stall_ms * CSP_MILLISECOND)
            book_fatal("stalled: no reader got anything for %d ms, waiting for %s", stall_ms, what);
    }
}

static bool all_addressed(void)
{
    for (int i = 0; i < nreaders; i++)
        if (readers[i].addr[0] == '\0')
            return false;
    return true;
}

static bool all_entered(void)
{
    for (int i = 0; i < nreaders; i++)
        if (!readers[i].entered)
            return false;
    return true;
}

static long sent; /* flood lines sent so far */

static bool all_caught_up(void)
{
    for (int i = 0; i < nreaders; i++)
        if (readers[i].next < sent)
            return false;
    return true;
}

static int flood(const struct book_flags *f, long max_lines, long window, int stall_ms)
{
    for (int i = 0; i < nreaders; i++)
        readers[i].fd = book_dial(f);
    pump_until(all_addressed, stall_ms, "\"You are ADDR\"");
    for (int i = 0; i < nreaders; i++)
        if (book_write(readers[i].fd, "hello\n", 6) != 0)
            book_fatal("send: %s", strerror(errno));
    pump_until(all_entered, stall_ms, "every reader's hello");
    snprintf(flood_prefix, sizeof flood_prefix, "%s: flood ", readers[0].addr);

    char *batch = malloc((size_t)window * ((size_t)line_size + 2));
    if (batch == NULL)
        book_fatal("out of memory");
    int64_t last = csp_now();
    for (;;) {
        bool until = true;
        long slowest = sent;
        for (int i = 0; i < nreaders; i++) {
            until = until && readers[i].until;
            if (readers[i].next < slowest)
                slowest = readers[i].next;
        }
        if (until)
            break;
        if (sent >= max_lines && slowest == sent)
            book_fatal("sent %ld lines, and not every reader has seen \"%s\"", sent, until_line);
        size_t n = 0;
        while (sent < max_lines && sent - slowest < window)
            n += flood_line(batch + n, sent++);
        if (n > 0 && book_write(readers[0].fd, batch, n) != 0)
            book_fatal("send: %s", strerror(errno));
        if (pump(100))
            last = csp_now();
        else if (csp_now() - last > stall_ms * CSP_MILLISECOND)
            book_fatal("stalled: no reader got anything for %d ms, %ld lines sent", stall_ms, sent);
    }
    pump_until(all_caught_up, stall_ms, "the last flood lines");
    printf("flood: %ld lines of %d bytes; %d readers got every one, in order, and saw \"%s\"\n",
           sent, line_size, nreaders, until_line);
    for (int i = 0; i < nreaders; i++) {
        close(readers[i].fd);
        free(readers[i].buf);
    }
    free(batch);
    return 0;
}

int main(int argc, char **argv)
{
    struct book_flags f = { .addr = "127.0.0.1" }; /* port 0: no -p yet */
    int rcvbuf = 0, stall = 5, opt;
    long max_lines = 100000, window = 32;
    while ((opt = getopt(argc, argv, "a:p:r:f:c:s:w:n:t:")) != -1) {
        switch (opt) {
        case 'a': f.addr = optarg; break;
        case 'p': f.port = (int)number(optarg, 1, 65535); break;
        case 'r': rcvbuf = (int)number(optarg, 1, 1 << 30); break;
        case 'f': until_line = optarg; break;
        case 'c': nreaders = (int)number(optarg, 1, MAX_CONNS); break;
        case 's': line_size = (int)number(optarg, 20, 1 << 20); break;
        case 'w': window = number(optarg, 1, 1 << 16); break;
        case 'n': max_lines = number(optarg, 1, 9999999); break;
        case 't': stall = (int)number(optarg, 1, 3600); break;
        default: usage();
        }
    }
    if (f.port == 0 || optind != argc)
        usage();
    if (until_line != NULL)
        return flood(&f, max_lines, window, stall * 1000);
    return talk(book_dial_rcvbuf(&f, rcvbuf));
}
