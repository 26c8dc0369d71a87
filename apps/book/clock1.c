/*
 * clock1.c - gopl.io/ch8/clock1: a TCP server that periodically writes the
 * time, serving one connection at a time.
 *
 *   clock1 [-a ADDR] [-p PORT]     (127.0.0.1:8000; -p 0 picks a free port)
 *
 * A second client waits until the first has gone. SIGINT or SIGTERM stops
 * the server (exit 0).
 */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* func handleConn(c net.Conn) */
static void handleConn(int c)
{
    for (;;) {
        char now[16];
        struct tm tm;
        time_t t = time(NULL);
        localtime_r(&t, &tm);
        strftime(now, sizeof now, "%H:%M:%S\n", &tm); /* time.Now().Format("15:04:05\n") */
        if (book_write(c, now, strlen(now)) != 0)
            break; /* e.g., client disconnected */
        csp_sleep(1 * CSP_SECOND);
    }
    book_close(c); /* defer c.Close() */
}

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, false, &f);
    int listener = book_listen(&f);
    for (;;) {
        int conn = book_accept(listener);
        if (conn == BOOK_STOPPED)
            break;
        if (conn < 0) {
            book_log("accept: %s", strerror(errno)); /* e.g., connection aborted */
            continue;
        }
        handleConn(conn); /* handle one connection at a time */
    }
    return 0;
}
