/*
 * countdown2 - gopl.io/ch8/countdown2: wait 10 seconds to launch, unless a
 * byte arrives on standard input first (press return to abort).
 *
 * usage: countdown2 [-t MS]
 *   -t MS  a tenth of the countdown (default 1000 ms: 10 s, as in the book)
 *
 * As in the book, the reading goroutine sends on abort as soon as its read
 * returns, whatever it returned: end of file (or an error) on standard input
 * aborts the launch too, so `countdown2 </dev/null` aborts at once.
 */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* func main() */
int main(int argc, char **argv)
{
    int64_t tick_ns = CSP_SECOND;
    if (argc == 3 && strcmp(argv[1], "-t") == 0) {
        char *end;
        long ms = strtol(argv[2], &end, 10);
        if (*end != '\0' || ms <= 0) {
            fprintf(stderr, "usage: countdown2 [-t MS]\n");
            return 2;
        }
        tick_ns = ms * CSP_MILLISECOND;
    } else if (argc != 1) {
        fprintf(stderr, "usage: countdown2 [-t MS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* abort := make(chan struct{}) */
    csp_chan *abort_ch = csp_chan_make(0, 0);
    if (!abort_ch) {
        perror("countdown2: csp_chan_make");
        return 1;
    }
    int err = csp_go(read_abort, csp_chan_retain(abort_ch));
    if (err < 0) {
        fprintf(stderr, "countdown2: csp_go: %s\n", csp_strerror(err));
        return 1;
    }

    printf("Commencing countdown.  Press return to abort.\n");
    csp_chan *after = csp_after(10 * tick_ns); /* time.After(10 * time.Second) */
    if (!after) {
        perror("countdown2: csp_after");
        return 1;
    }
    csp_case cases[] = {
        csp_case_recv(after, NULL),    /* case <-time.After(10 * time.Second): */
        csp_case_recv(abort_ch, NULL), /* case <-abort: */
    };
    int chosen = csp_select(cases, 2);
    csp_chan_release(after);
    csp_chan_release(abort_ch); /* the reader keeps its own reference */
    if (chosen == 1) {
        printf("Launch aborted!\n");
        return 0;
    }
    launch(); /* returning ends the reader, still blocked in read */
    return 0;
}
