/*
 * netcat2.c - gopl.io/ch8/netcat2: a TCP client that copies standard input
 * to the connection while a goroutine copies the connection to standard
 * output.
 *
 *   netcat2 [-a ADDR] [-p PORT]     (127.0.0.1:8000)
 *
 * As in the book, the program ends when standard input does, even if the
 * server's replies are still on their way (netcat3 waits for them).
 */
#include "config.h"

#include "net.h"

#include <unistd.h>

/* go mustCopy(os.Stdout, conn) */
static void copyToStdout(void *arg)
{
    book_must_copy(STDOUT_FILENO, *(int *)arg);
}

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, false, &f);
    int conn = book_dial(&f);
    int rc = csp_go_copy(copyToStdout, &conn, sizeof conn);
    if (rc != 0)
        book_fatal("go mustCopy: %s", csp_strerror(rc));
    book_must_copy(conn, STDIN_FILENO);
    /* defer conn.Close(): left to exit, which ends the copying goroutine
     * too; closing the descriptor while that goroutine reads it would race. */
    return 0;
}
