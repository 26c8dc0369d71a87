/*
 * pipeline1 - gopl.io/ch8/pipeline1: counter -> squarer -> printer, forever.
 *
 * usage: pipeline1 [LIMIT]
 * As in the book the pipeline is infinite; with LIMIT the printer (the main
 * goroutine) stops after LIMIT squares and returning from main ends the
 * other two goroutines, blocked mid-pipeline, as it would in Go.
 */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>

struct pipes {
    csp_chan *naturals; /* counter -> squarer */
    csp_chan *squares;  /* squarer -> printer */
};

/* go func() { for x := 0; ; x++ { naturals <- x } }() */
static void counter(void *arg)
{
    struct pipes *p = arg;
    for (long long x = 0;; x++)
        if (csp_send(p->naturals, &x) != 0)
            return;
}

/* go func() { for { x := <-naturals; squares <- x * x } }() */
static void squarer(void *arg)
{
    struct pipes *p = arg;
    for (;;) {
        long long x;
        if (csp_recv(p->naturals, &x) != 0)
            return;
        long long sq = x * x;
        if (csp_send(p->squares, &sq) != 0)
            return;
    }
}

/* func main() */
int main(int argc, char **argv)
{
    long long limit = -1; /* forever */
    if (argc > 2) {
        fprintf(stderr, "usage: pipeline1 [LIMIT]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        limit = strtoll(argv[1], &end, 10);
        if (*end != '\0' || limit < 0) {
            fprintf(stderr, "usage: pipeline1 [LIMIT]\n");
            return 2;
        }
    }

    /* naturals := make(chan int); squares := make(chan int) */
    static struct pipes p; /* lives as long as the goroutines */
    p.naturals = csp_chan_make(sizeof(long long), 0);
    p.squares = csp_chan_make(sizeof(long long), 0);
    if (!p.naturals || !p.squares) {
        perror("pipeline1: csp_chan_make");
        return 1;
    }
    int err;
    if ((err = csp_go(counter, &p)) < 0 || (err = csp_go(squarer, &p)) < 0) {
        fprintf(stderr, "pipeline1: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    /* Printer (in main goroutine) */
    for (long long n = 0; limit < 0 || n < limit; n++) {
        long long sq;
        csp_recv(p.squares, &sq);
        printf("%lld\n", sq);
    }
    /* Only with a LIMIT: the other goroutines are blocked in the pipeline
     * and end with the program, as in Go. The channels are not released,
     * since those goroutines still use them. */
    return fflush(stdout) == 0 ? 0 : 1;
}
