/*
 * reverb1.c - gopl.io/ch8/reverb1: a TCP server that simulates an echo:
 * each line a client sends comes back loud, then as sent, then quiet, one
 * delay apart ("\t HELLO!", "\t Hello!", "\t hello!", as Go's
 * fmt.Fprintln(c, "\t", s) prints them). The echoes of one connection come
 * in sequence; each connection has a goroutine of its own.
 *
 *   reverb1 [-a ADDR] [-p PORT] [-d MS]   (127.0.0.1:8000, 1000 ms)
 *
 * SIGINT or SIGTERM stops the server (exit 0).
 */
#include "config.h"

#include "net.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int64_t delay; /* -d; written before the first goroutine starts */

/* strings.ToUpper / strings.ToLower, bytewise: a new string */
static char *mapBytes(const char *s, int (*f)(int))
{
    char *t = strdup(s);
    if (t == NULL)
        book_fatal("out of memory");
    for (char *p = t; *p; p++)
        *p = (char)f((unsigned char)*p);
    return t;
}

/* func echo(c net.Conn, shout string, delay time.Duration) */
static void echo(int c, const char *shout, int64_t d)
{
    char *upper = mapBytes(shout, toupper), *lower = mapBytes(shout, tolower);
    book_printf(c, "\t %s\n", upper);
    csp_sleep(d);
    book_printf(c, "\t %s\n", shout);
    csp_sleep(d);
    book_printf(c, "\t %s\n", lower);
    free(upper);
    free(lower);
}

/* func handleConn(c net.Conn) */
static void handleConn(void *arg)
{
    int c = *(int *)arg;
    book_scanner *input = book_scanner_new(c);
    const char *text;
    while ((text = book_scan(input)) != NULL)
        echo(c, text, delay);
    /* NOTE: ignoring potential errors from input.Err() */
    book_scanner_free(input);
    book_close(c);
}

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, true, &f);
    delay = f.delay;
    int l = book_listen(&f);
    for (;;) {
        int conn = book_accept(l);
        if (conn == BOOK_STOPPED)
            break;
        if (conn < 0) {
            book_log("accept: %s", strerror(errno)); /* e.g., connection aborted */
            continue;
        }
        int rc = csp_go_copy(handleConn, &conn, sizeof conn); /* go handleConn(conn) */
        if (rc != 0) {
            book_log("go handleConn: %s", csp_strerror(rc));
            book_close(conn);
        }
    }
    return 0;
}
