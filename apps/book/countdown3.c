/*
 * countdown3 - gopl.io/ch8/countdown3: the countdown of countdown1, one line
 * per tick, with the abort of countdown2 checked in a select at each tick.
 * The ticker is stopped before returning, on either path (the book's text:
 * "ticker.Stop() // cause the ticker's goroutine to terminate").
 *
 * usage: countdown3 [-t MS] [--stats]
 *   -t MS    the tick (default 1000 ms, as in the book)
 *   --stats  at the end, print the runtime's pending timers and goroutines
 *            (timers=0 shows the ticker was stopped)
 *
 * As in the book, end of file on standard input aborts too.
 */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int show_stats; /* --stats */

/* go func() { os.Stdin.Read(make([]byte, 1)); abort <- struct{}{} }() */
static void read_abort(void *arg)
{
    csp_chan *abort_ch = arg; /* a reference of our own, released here */
    char b;
    while (read(STDIN_FILENO, &b, 1) < 0 && errno == EINTR)
        ; /* read a single byte */
    csp_send(abort_ch, NULL);
    csp_chan_release(abort_ch);
}

/* func launch() */
static void launch(void)
{
    printf("Lift off!\n");
}

static void stats(void)
{
    if (!show_stats)
        return;
    csp_stats st;
    csp_stats_get(&st);
    printf("stats: timers=%zu goroutines=%zu\n", st.timers, st.goroutines);
}

static void usage(void)
{
    fprintf(stderr, "usage: countdown3 [-t MS] [--stats]\n");
    exit(2);
}

/* func main() */
int main(int argc, char **argv)
{
    int64_t tick_ns = CSP_SECOND;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stats") == 0) {
            show_stats = 1;
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            char *end;
            long ms = strtol(argv[++i], &end, 10);
            if (*end != '\0' || ms <= 0)
                usage();
            tick_ns = ms * CSP_MILLISECOND;
        } else {
            usage();
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* abort := make(chan struct{}) */
    csp_chan *abort_ch = csp_chan_make(0, 0);
    if (!abort_ch) {
        perror("countdown3: csp_chan_make");
        return 1;
    }
    int err = csp_go(read_abort, csp_chan_retain(abort_ch));
    if (err < 0) {
        fprintf(stderr, "countdown3: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    printf("Commencing countdown.  Press return to abort.\n");
    csp_ticker *ticker = csp_ticker_new(tick_ns); /* ticker := time.NewTicker(1 * time.Second) */
    if (!ticker) {
        perror("countdown3: csp_ticker_new");
        return 1;
    }
    csp_chan *tick = csp_ticker_chan(ticker);
    for (int countdown = 10; countdown > 0; countdown--) {
        printf("%d\n", countdown);
        csp_case cases[] = {
            csp_case_recv(tick, NULL),     /* case <-tick: // Do nothing. */
            csp_case_recv(abort_ch, NULL), /* case <-abort: */
        };
        if (csp_select(cases, 2) == 1) {
            printf("Launch aborted!\n");
            csp_ticker_stop(ticker);
            csp_chan_release(abort_ch);
            stats();
            return 0;
        }
    }
    csp_ticker_stop(ticker);
    csp_chan_release(abort_ch); /* the reader, still blocked in read, keeps its own */
    launch();
    stats();
    return 0;
}
