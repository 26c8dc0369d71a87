/*
 * clock2.c - gopl.io/ch8/clock2: a TCP server that periodically writes the
 * time, serving each connection in a goroutine of its own.
 *
 *   clock2 [-a ADDR] [-p PORT]     (127.0.0.1:8000; -p 0 picks a free port)
 *
 * Clients are served at once. SIGINT or SIGTERM stops the server (exit 0).
 */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* func handleConn(c net.Conn) */
static void handleConn(void *arg)
{
    int c = *(int *)arg;
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
        /* go handleConn(conn): handle connections concurrently */
        int rc = csp_go_copy(handleConn, &conn, sizeof conn);
        if (rc != 0) {
            book_log("go handleConn: %s", csp_strerror(rc));
            book_close(conn);
        }
    }
    return 0;
}
