/*
 * netcat3.c - gopl.io/ch8/netcat3: netcat2 that waits for the background
 * copy before it exits, signalled on a done channel.
 *
 *   netcat3 [-a ADDR] [-p PORT]     (127.0.0.1:8000)
 *
 * At the end of standard input it closes only the write half of the
 * connection (exercise 8.3's CloseWrite), so the server sees end-of-file
 * yet can still send its last replies; when the server closes its side the
 * background copy ends, logs "done", and the program exits 0.
 */
#include "config.h"

#include "net.h"

#include <sys/socket.h>
#include <unistd.h>

struct background_args {
    int conn;       /* the connection */
    csp_chan *done; /* chan struct{}: signals the main goroutine */
};

/* go func() { io.Copy(os.Stdout, conn); log.Println("done"); done <- struct{}{} }() */
static void background(void *arg)
{
    struct background_args *a = arg;
    book_copy(STDOUT_FILENO, a->conn); /* NOTE: ignoring errors */
    book_log("done");
    csp_send(a->done, NULL); /* signal the main goroutine */
}

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, false, &f);
    int conn = book_dial(&f);
    csp_chan *done = csp_chan_make(0, 0); /* make(chan struct{}) */
    if (done == NULL)
        book_fatal("make(chan struct{}): out of memory");
    struct background_args a = { conn, done };
    int rc = csp_go_copy(background, &a, sizeof a);
    if (rc != 0)
        book_fatal("go func: %s", csp_strerror(rc));
    book_must_copy(conn, STDIN_FILENO);
    shutdown(conn, SHUT_WR); /* conn.(*net.TCPConn).CloseWrite() */
    csp_recv(done, NULL);    /* wait for background goroutine to finish */
    close(conn);
    csp_chan_release(done);
    return 0;
}
