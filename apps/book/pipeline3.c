/*
 * pipeline3 - gopl.io/ch8/pipeline3: counter -> squarer -> printer of the
 * squares of 0..99, each stage a function that gets only the direction of
 * each channel it needs (csp_send_chan is Go's chan<- int, csp_recv_chan
 * its <-chan int): sending on a csp_recv_chan would not compile, as in Go.
 */
#include <csp.h>
#include <stdio.h>

/* func counter(out chan<- int) */
static void counter(void *arg)
{
    csp_send_chan out = *(csp_send_chan *)arg;
    for (int x = 0; x < 100; x++)
        csp_send(out, &x);
    csp_close(out);
}

/* func squarer(out chan<- int, in <-chan int) */
struct squarer_args {
    csp_send_chan out;
    csp_recv_chan in;
};

static void squarer(void *arg)
{
    struct squarer_args *a = arg;
    int v;
    while (csp_recv(a->in, &v) == 0) { /* for v := range in */
        int sq = v * v;
        csp_send(a->out, &sq);
    }
    csp_close(a->out);
}

/* func printer(in <-chan int) */
static void printer(csp_recv_chan in)
{
    int v;
    while (csp_recv(in, &v) == 0)
        printf("%d\n", v);
}

/* func main() */
int main(void)
{
    /* naturals := make(chan int); squares := make(chan int) */
    csp_chan *naturals = csp_chan_make(sizeof(int), 0);
    csp_chan *squares = csp_chan_make(sizeof(int), 0);
    if (!naturals || !squares) {
        perror("pipeline3: csp_chan_make");
        return 1;
    }

    /* go counter(naturals); go squarer(squares, naturals) */
    csp_send_chan out = csp_send_only(naturals);
    struct squarer_args sa = { csp_send_only(squares), csp_recv_only(naturals) };
    int err;
    if ((err = csp_go_copy(counter, &out, sizeof out)) < 0 ||
        (err = csp_go_copy(squarer, &sa, sizeof sa)) < 0) {
        fprintf(stderr, "pipeline3: csp_go: %s\n", csp_strerror(err));
        return 1;
    }
    /* printer(squares) */
    printer(csp_recv_only(squares));

    csp_chan_release(naturals);
    csp_chan_release(squares);
    return fflush(stdout) == 0 ? 0 : 1;
}
