/*
 * spinner - gopl.io/ch8/spinner: the main goroutine computes a Fibonacci
 * number the slow way while a second goroutine animates a spinner.
 *
 * usage: spinner [-d MS] [N]
 *   N      which Fibonacci number (default 45, as in the book)
 *   -d MS  the spinner's delay between frames (default 100 ms)
 */
#define _POSIX_C_SOURCE 200809L /* flockfile */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* func spinner(delay time.Duration) */
static void spinner(void *arg)
{
    int64_t delay = *(int64_t *)arg;
    for (;;) {
        for (const char *r = "-\\|/"; *r; r++) {
            printf("\r%c", *r);
            fflush(stdout); /* Go's fmt.Printf is unbuffered */
            csp_sleep(delay);
        }
    }
}

/* func fib(x int) int */
static long fib(long x)
{
    if (x < 2)
        return x;
    return fib(x - 1) + fib(x - 2);
}

static void usage(void)
{
    fprintf(stderr, "usage: spinner [-d MS] [N]\n");
    exit(2);
}

/* func main() */
int main(int argc, char **argv)
{
    long n = 45;
    int64_t delay = 100 * CSP_MILLISECOND;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-d") == 0) {
        char *end;
        long ms = strtol(argv[i + 1], &end, 10);
        if (*end != '\0' || ms <= 0)
            usage();
        delay = ms * CSP_MILLISECOND;
        i += 2;
    }
    if (i < argc) {
        char *end;
        n = strtol(argv[i++], &end, 10);
        if (*end != '\0' || n < 0 || n > 90)
            usage();
    }
    if (i < argc)
        usage();

    /* go spinner(100 * time.Millisecond) */
    int err = csp_go_copy(spinner, &delay, sizeof delay);
    if (err < 0) {
        fprintf(stderr, "spinner: csp_go: %s\n", csp_strerror(err));
        return 1;
    }
    long fibN = fib(n); /* slow */
    /* Keep stdout locked from here on: the spinner cannot draw over the
     * result, and exit's flush of stdout (which does not lock) cannot race a
     * flush of the spinner's and write the same buffer twice. */
    flockfile(stdout);
    printf("\rFibonacci(%ld) = %ld\n", n, fibN);
    fflush(stdout);
    return 0; /* ends the spinner goroutine too, as in Go */
}
