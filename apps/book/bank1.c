/*
 * bank1 - gopl.io/ch9/bank1: a concurrency-safe bank with one account, whose
 * balance is confined to a monitor goroutine, the teller; Deposit and
 * Balance are requests to it over channels.
 *
 * usage: bank1 [N]
 * Runs N concurrent depositors (default 100), the i-th depositing i, waits
 * for them, and prints the balance, which must be N*(N+1)/2.
 */
#include <csp.h>
#include <stdio.h>
#include <stdlib.h>

/* Package bank: the teller is started by bank_init (Go's func init). */
static csp_chan *deposits; /* var deposits = make(chan int): send amount to deposit */
static csp_chan *balances; /* var balances = make(chan int): receive balance */

/* func Deposit(amount int) { deposits <- amount } */
static void Deposit(long amount)
{
    csp_send(deposits, &amount);
}

/* func Balance() int { return <-balances } */
static long Balance(void)
{
    long balance = 0;
    csp_recv(balances, &balance);
    return balance;
}

/* func teller() */
static void teller(void *arg)
{
    (void)arg;
    long balance = 0; /* balance is confined to teller goroutine */
    for (;;) {
        long amount;
        csp_case cases[] = {
            csp_case_recv(deposits, &amount), /* case amount := <-deposits: */
            csp_case_send(balances, &balance), /* case balances <- balance: */
        };
        if (csp_select(cases, 2) == 0)
            balance += amount;
    }
}

/* func init() { go teller() // start the monitor goroutine } */
static int bank_init(void)
{
    deposits = csp_chan_make(sizeof(long), 0);
    balances = csp_chan_make(sizeof(long), 0);
    if (!deposits || !balances)
        return -errno;
    return csp_go(teller, NULL);
}

/* The driver: go func(i) { bank.Deposit(i); wg.Done() }(i), for i in 1..N */
struct depositor_args {
    long amount;
    csp_wg *wg;
};

static void depositor(void *arg)
{
    struct depositor_args *a = arg;
    Deposit(a->amount);
    csp_wg_done(a->wg);
}

int main(int argc, char **argv)
{
    long n = 100;
    int bad = argc > 2;
    if (argc == 2) {
        char *end;
        n = strtol(argv[1], &end, 10);
        bad = *end != '\0';
    }
    if (bad || n <= 0 || n > 1000000) {
        fprintf(stderr, "usage: bank1 [N]\n");
        return 2;
    }
    int err = bank_init();
    if (err < 0) {
        fprintf(stderr, "bank1: %s\n", csp_strerror(err));
        return 1;
    }
    csp_wg *wg = csp_wg_new();
    if (!wg) {
        perror("bank1: csp_wg_new");
        return 1;
    }
    for (long i = 1; i <= n; i++) {
        struct depositor_args a = { i, wg };
        csp_wg_add(wg, 1);
        if ((err = csp_go_copy(depositor, &a, sizeof a)) < 0) {
            fprintf(stderr, "bank1: csp_go: %s\n", csp_strerror(err));
            csp_wg_done(wg);
            csp_wg_wait(wg); /* let the others finish with the wait group */
            csp_wg_free(wg);
            return 1;
        }
    }
    csp_wg_wait(wg);
    csp_wg_free(wg);
    printf("balance %ld (expected %ld)\n", Balance(), n * (n + 1) / 2);
    /* As in Go, the teller serves until the program ends: the channels it
     * uses stay allocated. */
    return 0;
}
