/*
 * net.c - the book's network helpers (see net.h).
 *
 * The stopper: SIGINT and SIGTERM are blocked in main before any goroutine
 * starts, so no thread takes them asynchronously; the stopper goroutine
 * waits for them with sigwait. It then sets `stopping` and shuts down (not
 * closes: the descriptors stay valid for the threads using them) the
 * listening socket, which wakes a blocked accept on Linux, and every open
 * connection. `conns` lists the connections book_accept handed out; the
 * lock orders the stopper's shutdowns against book_close, so the stopper
 * never touches a descriptor number that has been closed and reused.
 */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { COPY_BUF = 32 * 1024, SCAN_MAX = 1024 * 1024 };

/* The server's state: one server per process. */
static struct {
    pthread_mutex_t lock; /* protects every field below */
    int listener;         /* the listening socket, -1 before book_listen */
    bool stopping;        /* a stop signal came */
    int *conns;           /* connections handed out and not yet closed */
    size_t nconns, cap;   /* conns in use, and allocated */
} server = { PTHREAD_MUTEX_INITIALIZER, -1, false, NULL, 0, 0 };

static sigset_t stop_signals; /* SIGINT and SIGTERM; written before the stopper starts */

/* ------------------------------------------------------------------------
 * Flags and logging
 * ------------------------------------------------------------------------ */

static _Noreturn void usage(const char *prog, bool with_delay)
{
    const char *slash = strrchr(prog, '/');
    if (slash != NULL)
        prog = slash + 1;
    fprintf(stderr, "usage: %s [-a ADDR] [-p PORT]%s\n", prog, with_delay ? " [-d MS]" : "");
    exit(2);
}

bool book_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static long number(const char *s, long min, long max, const char *prog, bool with_delay)
{
    long v;
    if (!book_parse_long(s, min, max, &v))
        usage(prog, with_delay);
    return v;
}

void book_parse_flags(int argc, char **argv, bool with_delay, struct book_flags *f)
{
    f->addr = "127.0.0.1";
    f->port = 8000;
    f->delay = CSP_SECOND;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || a[2] != '\0' || i + 1 == argc)
            usage(argv[0], with_delay);
        const char *v = argv[++i];
        if (a[1] == 'a')
            f->addr = v;
        else if (a[1] == 'p')
            f->port = (int)number(v, 0, 65535, argv[0], with_delay);
        else if (a[1] == 'd' && with_delay)
            f->delay = number(v, 0, 3600 * 1000, argv[0], with_delay) * CSP_MILLISECOND;
        else
            usage(argv[0], with_delay);
    }
}

static void vlog(const char *fmt, va_list ap)
{
    char stamp[32], msg[1024];
    struct tm tm;
    time_t now = time(NULL);
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s %s\n", stamp, msg);
}

void book_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void book_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------------------
 * Servers
 * ------------------------------------------------------------------------ */

/* The stopper: waits for SIGINT or SIGTERM, then shuts everything down. */
static void stopper(void *arg)
{
    int sig;
    (void)arg;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    pthread_mutex_lock(&server.lock);
    server.stopping = true;
    shutdown(server.listener, SHUT_RDWR);
    for (size_t i = 0; i < server.nconns; i++)
        shutdown(server.conns[i], SHUT_RDWR);
    pthread_mutex_unlock(&server.lock);
}

/* A handler, so that an inherited SIG_IGN (a shell's background job ignores
 * SIGINT) does not discard the signal before sigwait can take it. */
static void ignore(int sig)
{
    (void)sig;
}

static struct addrinfo *resolve(const struct book_flags *f, bool passive)
{
    char port[8];
    struct addrinfo hints = { 0 }, *res;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(port, sizeof port, "%d", f->port);
    int err = getaddrinfo(f->addr, port, &hints, &res);
    if (err != 0)
        book_fatal("%s tcp %s:%d: %s", passive ? "listen" : "dial", f->addr, f->port,
                   gai_strerror(err));
    return res;
}

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int book_listen(const struct book_flags *f)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = ignore;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo *res = resolve(f, true);
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        book_fatal("listen tcp %s:%d: %s", f->addr, f->port, strerror(err));
    if (f->port == 0) {
        bool v6 = strchr(f->addr, ':') != NULL;
        fprintf(stderr, "listening on %s%s%s:%d\n", v6 ? "[" : "", f->addr, v6 ? "]" : "",
                local_port(fd));
    }

    pthread_mutex_lock(&server.lock);
    server.listener = fd;
    pthread_mutex_unlock(&server.lock);
    int rc = csp_go(stopper, NULL);
    if (rc != 0)
        book_fatal("starting the stopper: %s", csp_strerror(rc));
    return fd;
}

/* Go's default for TCP connections: each write goes out at once. Without
 * it, Nagle's algorithm and delayed ACKs hold line-at-a-time traffic back
 * ~40 ms per round trip. */
static void no_delay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int book_accept(int listener)
{
    for (;;) {
        int c = accept(listener, NULL, NULL);
        int err = errno;
        pthread_mutex_lock(&server.lock);
        if (server.stopping) {
            pthread_mutex_unlock(&server.lock);
            if (c >= 0)
                close(c);
            return BOOK_STOPPED;
        }
        if (c >= 0 && server.nconns == server.cap) {
            size_t cap = server.cap ? 2 * server.cap : 16;
            int *conns = realloc(server.conns, cap * sizeof *conns);
            if (conns == NULL) {
                pthread_mutex_unlock(&server.lock);
                close(c);
                errno = ENOMEM;
                return -1;
            }
            server.conns = conns;
            server.cap = cap;
        }
        if (c >= 0)
            server.conns[server.nconns++] = c;
        pthread_mutex_unlock(&server.lock);
        if (c >= 0) {
            no_delay(c);
            return c;
        }
        if (err != EINTR && err != ECONNABORTED) {
            errno = err;
            return -1;
        }
    }
}

void book_close(int c)
{
    pthread_mutex_lock(&server.lock);
    for (size_t i = 0; i < server.nconns; i++) {
        if (server.conns[i] == c) {
            server.conns[i] = server.conns[--server.nconns];
            break;
        }
    }
    close(c); /* under the lock: the number cannot be reused before it is out of conns */
    pthread_mutex_unlock(&server.lock);
}

/* ------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------ */

int book_dial(const struct book_flags *f)
{
    return book_dial_rcvbuf(f, 0);
}

int book_dial_rcvbuf(const struct book_flags *f, int rcvbuf)
{
    signal(SIGPIPE, SIG_IGN);
    struct addrinfo *res = resolve(f, false);
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (rcvbuf > 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        book_fatal("dial tcp %s:%d: %s", f->addr, f->port, strerror(err));
    no_delay(fd);
    return fd;
}

/* ------------------------------------------------------------------------
 * I/O
 * ------------------------------------------------------------------------ */

int book_write(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int book_printf(int fd, const char *fmt, ...)
{
    char small[512], *buf = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof small) {
        if ((buf = malloc((size_t)n + 1)) == NULL)
            return -1;
        va_start(ap, fmt);
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    int rc = book_write(fd, buf, (size_t)n);
    if (buf != small)
        free(buf);
    return rc;
}

int book_copy(int dst, int src)
{
    static _Thread_local char buf[COPY_BUF];
    for (;;) {
        ssize_t r = read(src, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : 0;
        if (book_write(dst, buf, (size_t)r) != 0)
            return -1;
    }
}

void book_must_copy(int dst, int src)
{
    if (book_copy(dst, src) != 0)
        book_fatal("%s", strerror(errno));
}

/* The scanner's buffer holds buf[start..end) unread; one byte past end is
 * always free, for the NUL of a last line without "\n". */
struct book_scanner {
    int fd;       /* the source */
    char *buf;    /* cap bytes */
    size_t cap;   /* allocated */
    size_t start; /* first unread byte */
    size_t end;   /* one past the last byte read */
    bool eof;     /* the source has ended (or failed) */
};

book_scanner *book_scanner_new(int fd)
{
    book_scanner *s = calloc(1, sizeof *s);
    if (s == NULL || (s->buf = malloc(s->cap = 4096)) == NULL)
        book_fatal("out of memory");
    s->fd = fd;
    return s;
}

const char *book_scan(book_scanner *s)
{
    for (;;) {
        char *line = s->buf + s->start;
        char *nl = memchr(line, '\n', s->end - s->start);
        if (nl != NULL || (s->eof && s->start < s->end)) {
            size_t n = nl != NULL ? (size_t)(nl - line) : s->end - s->start;
            s->start += nl != NULL ? n + 1 : n;
            if (n > 0 && line[n - 1] == '\r')
                n--;
            line[n] = '\0';
            return line;
        }
        if (s->eof)
            return NULL;
        if (s->start > 0) {
            memmove(s->buf, s->buf + s->start, s->end - s->start);
            s->end -= s->start;
            s->start = 0;
        }
        if (s->end + 1 == s->cap) {
            char *buf = s->cap < SCAN_MAX ? realloc(s->buf, 2 * s->cap) : NULL;
            if (buf == NULL) { /* bufio.ErrTooLong */
                s->eof = true;
                s->end = 0;
                continue;
            }
            s->buf = buf;
            s->cap *= 2;
        }
        ssize_t r = read(s->fd, s->buf + s->end, s->cap - 1 - s->end);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            s->eof = true;
        else
            s->end += (size_t)r;
    }
}

void book_scanner_free(book_scanner *s)
{
    if (s != NULL)
        free(s->buf);
    free(s);
}
