/*
 * chat.c - gopl.io/ch8/chat: a chat server. Each client is told "You are
 * ADDR"; the others hear "ADDR has arrived", then every line it sends as
 * "ADDR: line", then "ADDR has left".
 *
 *   chat [-a ADDR] [-p PORT]     (127.0.0.1:8000; -p 0 picks a free port)
 *
 * As in the book: one broadcaster goroutine owns the set of clients and
 * selects over messages, entering and leaving; each connection has a
 * handleConn goroutine reading its lines and a clientWriter goroutine
 * ranging over its outgoing channel. Every client sees the broadcast lines
 * in the same order, the order the broadcaster received them.
 *
 * Exercise 8.15, a client that stops reading must not stall the others:
 * each client's outgoing channel holds CLIENT_BUF lines (the socket's own
 * buffers come on top) and the broadcaster only ever tries to send on it.
 * When a client's channel is full the broadcaster DISCONNECTS it, logging
 * "disconnecting ADDR: N lines behind": a client gets every line, in
 * order, or loses its connection (the last line it gets may be cut
 * short); it never silently misses a line. The others then see "ADDR has
 * left", as for any departure.
 *
 * A client that ends mid-line (bytes, then end-of-file or an error, no
 * newline): as with bufio.Scanner, the partial line is the last line read,
 * and it is broadcast like any other before "ADDR has left". A line longer
 * than 1 MB ends the client's input, like bufio.ErrTooLong.
 *
 * Beyond the book: entering carries the client's connection and address
 * with its channel, so the broadcaster can disconnect it and say whom; and
 * handleConn waits for its clientWriter before it closes the connection
 * (as reverb2 waits for its echoes: in C a late write would go to whatever
 * connection reuses the descriptor number). The writer gets FLUSH_TIME to
 * deliver what is still queued; a departed client that does not read is
 * then cut off.
 *
 * SIGINT or SIGTERM stops the server (exit 0).
 *
 * Who owns what (the invariants the disconnect path relies on):
 *
 *  1. A client's channel `ch` is made by handleConn, which holds its only
 *     reference and releases it last, once clientWriter has ended and the
 *     broadcaster has received ch on leaving.
 *  2. handleConn sends on ch only before it sends on entering ("You are").
 *     From entering on, the broadcaster is ch's only sender and its only
 *     closer. It closes ch exactly once, when it drops the client from its
 *     set: on leaving, or on disconnecting it; it never sends on a client
 *     outside its set. So no send ever meets a closed channel.
 *  3. The broadcaster holds a client (channel, connection, address) only
 *     from entering until it drops it. handleConn sends on leaving before
 *     it closes the connection or releases ch, and leaving is unbuffered:
 *     the send completes only once the broadcaster has received it, i.e.
 *     has dropped the client. So the broadcaster never shuts down a closed
 *     (maybe reused) descriptor, and never touches a freed channel. A
 *     leaving for a client it has already disconnected is ignored; as ch
 *     is still alive then, no other client can have the same channel.
 *  4. The connection: handleConn reads it and closes it (book_close), only
 *     after leaving and after clientWriter has ended; clientWriter writes
 *     it; the broadcaster (disconnecting), the stopper (SIGTERM) and
 *     handleConn (flush timeout) may shut it down, which wakes both.
 *  5. Every value on messages and on a client channel is a malloc'd
 *     string owned by its receiver: the broadcaster frees each message
 *     after sending each client a copy of its own; clientWriter frees each
 *     line after writing it, and ranges until ch is closed and drained, so
 *     no line is left in a released channel.
 */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
    CLIENT_BUF = 256, /* lines queued for one client before it counts as not reading */
    WHO_MAX = 64,     /* "[IPv6 address]:port" and its NUL */
};
static const int64_t FLUSH_TIME = 2 * CSP_SECOND; /* for a departed client's last lines */

typedef csp_send_chan client; /* type client chan<- string: an outgoing message channel */

/* What entering carries, and what the broadcaster keeps of each client. */
struct member {
    client cli;        /* its outgoing channel of char * (invariants 2, 3) */
    int conn;          /* its connection: the broadcaster only shuts it down */
    char who[WHO_MAX]; /* its address, for the log */
};

/* Made by main before any goroutine starts; only read after. */
static csp_chan *entering; /* chan struct member */
static csp_chan *leaving;  /* chan client */
static csp_chan *messages; /* chan char *: all incoming client messages */

/* Go's s1 + s2 + ...: a new string of the arguments up to NULL. */
static __attribute__((sentinel)) char *concat(const char *s, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, s);
    for (const char *p = s; p != NULL; p = va_arg(ap, const char *))
        n += strlen(p);
    va_end(ap);
    char *t = malloc(n + 1), *end = t;
    if (t == NULL)
        book_fatal("out of memory");
    va_start(ap, s);
    for (const char *p = s; p != NULL; p = va_arg(ap, const char *))
        end = stpcpy(end, p);
    va_end(ap);
    return t;
}

/* Go compares channel values; a view is one pointer, so bytewise equality
 * is channel identity. */
static bool same_client(client a, client b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Exercise 8.15: m's channel is full. Drop it (the caller removes it from
 * the set): no more lines, and the connection shut down, which ends its
 * clientWriter's write and its handleConn's read. */
static void disconnect(struct member *m)
{
    book_log("disconnecting %s: %zu lines behind", m->who, csp_len(m->cli));
    shutdown(m->conn, SHUT_RDWR);
    csp_close(m->cli);
}

/* func broadcaster() */
static void broadcaster(void *arg)
{
    struct member *clients = NULL; /* all connected clients: clients[0..n) */
    size_t n = 0, cap = 0;
    (void)arg;
    for (;;) {
        char *msg;
        struct member m;
        client cli;
        csp_case cases[] = {
            csp_case_recv(messages, &msg),
            csp_case_recv(entering, &m),
            csp_case_recv(leaving, &cli),
        };
        switch (csp_select(cases, 3)) {
        case 0: /* case msg := <-messages */
            /* Broadcast incoming message to all clients' outgoing message
             * channels, never waiting on one (exercise 8.15). */
            for (size_t i = 0; i < n;) {
                char *line = strdup(msg);
                if (line == NULL)
                    book_fatal("out of memory");
                if (csp_trysend(clients[i].cli, &line) == 0) {
                    i++;
                    continue;
                }
                free(line);
                disconnect(&clients[i]);
                clients[i] = clients[--n];
            }
            free(msg);
            break;
        case 1: /* case cli := <-entering */
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                if ((clients = realloc(clients, cap * sizeof *clients)) == NULL)
                    book_fatal("out of memory");
            }
            clients[n++] = m;
            break;
        case 2: /* case cli := <-leaving */
            for (size_t i = 0; i < n; i++) {
                if (same_client(clients[i].cli, cli)) {
                    clients[i] = clients[--n];
                    csp_close(cli);
                    break;
                }
            } /* not found: disconnected already, and closed then */
            break;
        }
    }
}

/* The arguments of go clientWriter(conn, ch). */
struct writer_args {
    int conn;         /* the connection */
    csp_recv_chan ch; /* the client's outgoing lines */
    csp_chan *done;   /* closed when the writer ends; the writer holds a reference */
};

/* func clientWriter(conn net.Conn, ch <-chan string) */
static void clientWriter(void *arg)
{
    struct writer_args *a = arg;
    bool ok = true;
    char *msg;
    while (csp_recv(a->ch, &msg) == 0) { /* for msg := range ch */
        /* fmt.Fprintln(conn, msg); after an error only drain (invariant 5) */
        if (ok && book_printf(a->conn, "%s\n", msg) != 0)
            ok = false;
        free(msg);
    }
    csp_close(a->done);
    csp_chan_release(a->done);
}

/* conn.RemoteAddr().String(): "127.0.0.1:5000", "[::1]:5000" */
static void remoteAddr(int conn, char who[WHO_MAX])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN], port[8];
    if (getpeername(conn, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        strcpy(who, "?");
        return;
    }
    if (ss.ss_family == AF_INET6)
        snprintf(who, WHO_MAX, "[%s]:%s", host, port);
    else
        snprintf(who, WHO_MAX, "%s:%s", host, port);
}

/* messages <- s: hands s to the broadcaster, which frees it. */
static void broadcast(char *s)
{
    csp_send(messages, &s);
}

/* func handleConn(conn net.Conn) */
static void handleConn(void *arg)
{
    struct member me = { .conn = *(int *)arg };
    remoteAddr(me.conn, me.who); /* who := conn.RemoteAddr().String() */
    const char *who = me.who;

    csp_chan *ch = csp_chan_make(sizeof(char *), CLIENT_BUF); /* outgoing client messages */
    csp_chan *done = csp_chan_make(0, 0);
    if (ch == NULL || done == NULL)
        book_fatal("make(chan string): out of memory");
    me.cli = csp_send_only(ch);
    struct writer_args w = { me.conn, csp_recv_only(ch), csp_chan_retain(done) };
    int rc = csp_go_copy(clientWriter, &w, sizeof w); /* go clientWriter(conn, ch) */
    if (rc != 0) {
        book_log("go clientWriter: %s", csp_strerror(rc));
        book_close(me.conn);
        csp_chan_release(done); /* the writer's reference */
        csp_chan_release(done);
        csp_chan_release(ch);
        return;
    }

    char *you = concat("You are ", who, NULL);
    csp_send(me.cli, &you); /* ch <- "You are " + who: the buffer has room */
    broadcast(concat(who, " has arrived", NULL));
    csp_send(entering, &me);

    book_scanner *input = book_scanner_new(me.conn);
    const char *text;
    while ((text = book_scan(input)) != NULL)
        broadcast(concat(who, ": ", text, NULL));
    /* NOTE: ignoring potential errors from input.Err() */
    book_scanner_free(input);

    csp_send(leaving, &me.cli);
    broadcast(concat(who, " has left", NULL));

    /* Not in the book: let clientWriter deliver the rest (invariant 4). */
    csp_case flushed = csp_case_recv(done, NULL);
    if (csp_select_timeout(&flushed, 1, FLUSH_TIME) == CSP_ETIMEDOUT) {
        shutdown(me.conn, SHUT_RDWR);
        csp_recv(done, NULL);
    }
    book_close(me.conn);
    csp_chan_release(done);
    csp_chan_release(ch);
}

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, false, &f);
    int listener = book_listen(&f);
    entering = csp_chan_make(sizeof(struct member), 0);
    leaving = csp_chan_make(sizeof(client), 0);
    messages = csp_chan_make(sizeof(char *), 0);
    if (entering == NULL || leaving == NULL || messages == NULL)
        book_fatal("make(chan): out of memory");
    int rc = csp_go(broadcaster, NULL); /* go broadcaster() */
    if (rc != 0)
        book_fatal("go broadcaster: %s", csp_strerror(rc));
    for (;;) {
        int conn = book_accept(listener);
        if (conn == BOOK_STOPPED)
            break;
        if (conn < 0) {
            book_log("accept: %s", strerror(errno));
            continue;
        }
        rc = csp_go_copy(handleConn, &conn, sizeof conn); /* go handleConn(conn) */
        if (rc != 0) {
            book_log("go handleConn: %s", csp_strerror(rc));
            book_close(conn);
        }
    }
    return 0;
}
