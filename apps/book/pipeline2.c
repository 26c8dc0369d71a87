/*
 * pipeline2 - gopl.io/ch8/pipeline2: counter -> squarer -> printer of the
 * squares of 0..99; each stage closes its output when done, so the whole
 * pipeline ends by itself.
 */
#include <csp.h>
#include <stdio.h>

struct pipes {
    csp_chan *naturals; /* counter -> squarer */
    csp_chan *squares;  /* squarer -> printer */
};

/* Counter: go func() { for x := 0; x < 100; x++ { naturals <- x }; close(naturals) }() */
static void counter(void *arg)
{
    struct pipes *p = arg;
    for (int x = 0; x < 100; x++)
        csp_send(p->naturals, &x);
    csp_close(p->naturals);
}

/* Squarer: go func() { for x := range naturals { squares <- x * x }; close(squares) }() */
static void squarer(void *arg)
{
    struct pipes *p = arg;
    int x;
    while (csp_recv(p->naturals, &x) == 0) {
        int sq = x * x;
        csp_send(p->squares, &sq);
    }
    csp_close(p->squares);
}

/* func main() */
int main(void)
{
    /* naturals := make(chan int); squares := make(chan int) */
    struct pipes p = { csp_chan_make(sizeof(int), 0), csp_chan_make(sizeof(int), 0) };
    if (!p.naturals || !p.squares) {
        perror("pipeline2: csp_chan_make");
        return 1;
    }
    /* go counter(); go squarer(): each gets its own copy of p */
    int err;
    if ((err = csp_go_copy(counter, &p, sizeof p)) < 0 ||
        (err = csp_go_copy(squarer, &p, sizeof p)) < 0) {
        fprintf(stderr, "pipeline2: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    /* Printer (in main goroutine): for x := range squares */
    int x;
    while (csp_recv(p.squares, &x) == 0)
        printf("%d\n", x);

    /* Both goroutines have closed their channels and touch them no more. */
    csp_chan_release(p.naturals);
    csp_chan_release(p.squares);
    return fflush(stdout) == 0 ? 0 : 1;
}
