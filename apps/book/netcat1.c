/*
 * netcat1.c - gopl.io/ch8/netcat1: a read-only TCP client, copying the
 * connection to standard output until the server closes it.
 *
 *   netcat1 [-a ADDR] [-p PORT]     (127.0.0.1:8000)
 */
#include "config.h"

#include "net.h"

#include <unistd.h>

/* func main() */
int main(int argc, char **argv)
{
    struct book_flags f;
    book_parse_flags(argc, argv, false, &f);
    int conn = book_dial(&f);
    book_must_copy(STDOUT_FILENO, conn);
    close(conn); /* defer conn.Close() */
    return 0;
}
