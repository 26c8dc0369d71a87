/*
 * net.h - what the book's network programs (clock, netcat, reverb) take
 * from Go's net, io, bufio and log packages: flags, Listen and Accept on
 * loopback, Dial, io.Copy, a line scanner, log.Print and log.Fatal, and a
 * clean stop on SIGINT or SIGTERM.
 *
 * A server calls book_listen first in main, before any other csp_* call: it
 * blocks SIGINT and SIGTERM in the calling thread, so every pooled thread
 * started after it inherits the mask, and starts the stopper goroutine, which
 * takes them with sigwait. On a signal the stopper shuts down the listening
 * socket and every connection book_accept handed out and not yet closed with
 * book_close: book_accept then returns BOOK_STOPPED, main leaves its accept
 * loop and returns 0, and a handler blocked on its connection sees
 * end-of-file or a write error, as when its client goes away. One server per
 * process.
 *
 * Every write ignores SIGPIPE (a vanished client is an EPIPE, not a death).
 * Connections have TCP_NODELAY set, as Go's have.
 */
#ifndef BOOK_NET_H
#define BOOK_NET_H

#include <csp.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command line every network program takes. */
struct book_flags {
    const char *addr; /* -a ADDR: the host to listen on or dial; default 127.0.0.1 */
    int port;         /* -p PORT: default 8000, as the book; 0: a free port (servers) */
    int64_t delay;    /* -d MS: reverb's delay between echoes, in ns; default 1 s */
};

/* Parses -a and -p, and -d when with_delay; prints a usage line and exits 2
 * on anything else. */
void book_parse_flags(int argc, char **argv, bool with_delay, struct book_flags *f);

/* A decimal flag value in [min, max]: true with *out set, else false. */
bool book_parse_long(const char *s, long min, long max, long *out);

/* log.Printf and log.Fatalf: "2006/01/02 15:04:05 message\n" on stderr, in
 * one write; book_fatal then exits 1. */
void book_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void book_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------
 * Servers
 * ------------------------------------------------------------------------ */

enum { BOOK_STOPPED = -2 }; /* book_accept: SIGINT or SIGTERM came */

/* net.Listen("tcp", addr:port): the listening socket; fatal on failure.
 * With port 0 it prints "listening on ADDR:PORT" to stderr. Also blocks
 * SIGINT and SIGTERM and starts the stopper (see above). */
int book_listen(const struct book_flags *f);

/* listener.Accept(): a connected socket; BOOK_STOPPED once the server is
 * stopping; -1 with errno on any other error (log it and go on, as the book
 * does). */
int book_accept(int listener);

/* c.Close() for a socket from book_accept. */
void book_close(int c);

/* ------------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------------ */

/* net.Dial("tcp", addr:port): a connected socket; fatal on failure. Ignores
 * SIGPIPE. */
int book_dial(const struct book_flags *f);

/* book_dial, with SO_RCVBUF set to rcvbuf bytes before connecting when
 * rcvbuf > 0 (a small window makes a stalled reader fill up sooner). */
int book_dial_rcvbuf(const struct book_flags *f, int rcvbuf);

/* ------------------------------------------------------------------------
 * I/O
 * ------------------------------------------------------------------------ */

/* io.Copy(dst, src): copies until end-of-file on src; 0, or -1 with errno. */
int book_copy(int dst, int src);

/* func mustCopy(dst io.Writer, src io.Reader): book_copy or die. */
void book_must_copy(int dst, int src);

/* io.WriteString(c, s) and fmt.Fprintf(c, ...): all of it, in one write
 * where the kernel allows; 0, or -1 with errno. */
int book_write(int fd, const void *buf, size_t n);
int book_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* bufio.NewScanner(r) splitting lines: book_scan is input.Scan() and
 * input.Text() in one: the next line without its "\n" (or "\r\n"),
 * NUL-terminated and valid until the next call; NULL at end of input or on
 * a read error. */
typedef struct book_scanner book_scanner;
book_scanner *book_scanner_new(int fd); /* fatal when out of memory */
const char *book_scan(book_scanner *s);
void book_scanner_free(book_scanner *s);

#endif /* BOOK_NET_H */
