/*
 * reverb2.c - gopl.io/ch8/reverb2: reverb1 with each echo in a goroutine of
 * its own, so the shouts of one client overlap as a real echo's would.
 *
 *   reverb2 [-a ADDR] [-p PORT] [-d MS]   (127.0.0.1:8000, 1000 ms)
 *
 * One change beyond the book's: handleConn waits for its echoes (a wait
 * group, as exercise 8.4 does) before it closes the connection. In Go a
 * late echo writes to a closed net.Conn and fails; in C it would write to a
 * descriptor number that the next accepted client may already have. So the
 * echoes of a client that has half-closed its side (netcat3) all arrive.
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

/* The arguments of go echo(c, input.Text(), delay), evaluated at the go
 * statement: shout is the goroutine's own copy of the line. */
struct echo_args {
    int c;       /* the connection */
    char *shout; /* the line; freed by goEcho */
    csp_wg *wg;  /* handleConn's echoes in flight */
};

static void goEcho(void *arg)
{
    struct echo_args *a = arg;
    echo(a->c, a->shout, delay);
    free(a->shout);
    csp_wg_done(a->wg);
}

/* func handleConn(c net.Conn) */
static void handleConn(void *arg)
{
    int c = *(int *)arg;
    csp_wg *wg = csp_wg_new();
    if (wg == NULL)
        book_fatal("out of memory");
    book_scanner *input = book_scanner_new(c);
    const char *text;
    while ((text = book_scan(input)) != NULL) {
        struct echo_args a = { c, strdup(text), wg };
        if (a.shout == NULL)
            book_fatal("out of memory");
        csp_wg_add(wg, 1);
        int rc = csp_go_copy(goEcho, &a, sizeof a); /* go echo(c, input.Text(), delay) */
        if (rc != 0) {
            book_log("go echo: %s", csp_strerror(rc));
            free(a.shout);
            csp_wg_done(wg);
        }
    }
    /* NOTE: ignoring potential errors from input.Err() */
    book_scanner_free(input);
    csp_wg_wait(wg); /* not in the book: see above */
    csp_wg_free(wg);
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
