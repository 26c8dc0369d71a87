/*
 * countdown1 - gopl.io/ch8/countdown1: a rocket launch countdown, one line
 * per tick of a ticker.
 *
 * usage: countdown1 [-t MS]
 *   -t MS  the tick (default 1000 ms, as in the book)
 */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* func launch() */
static void launch(void)
{
    printf("Lift off!\n");
}

/* func main() */
int main(int argc, char **argv)
{
    int64_t tick_ns = CSP_SECOND;
    if (argc == 3 && strcmp(argv[1], "-t") == 0) {
        char *end;
        long ms = strtol(argv[2], &end, 10);
        if (*end != '\0' || ms <= 0) {
            fprintf(stderr, "usage: countdown1 [-t MS]\n");
            return 2;
        }
        tick_ns = ms * CSP_MILLISECOND;
    } else if (argc != 1) {
        fprintf(stderr, "usage: countdown1 [-t MS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line as soon as it is printed */

    printf("Commencing countdown.\n");
    /* tick := time.Tick(1 * time.Second): the book never stops its ticker;
     * in C we keep the ticker to stop (and free) it at the end. */
    csp_ticker *ticker = csp_ticker_new(tick_ns);
    if (!ticker) {
        perror("countdown1: csp_ticker_new");
        return 1;
    }
    csp_chan *tick = csp_ticker_chan(ticker);
    for (int countdown = 10; countdown > 0; countdown--) {
        printf("%d\n", countdown);
        csp_recv(tick, NULL); /* <-tick */
    }
    csp_ticker_stop(ticker);
    launch();
    return 0;
}
