/*
 * test_static_ctor.c - libcsp needs no initialising, even in a constructor of
 * a program linked with libcsp.a, which runs before any of libcsp's own: a
 * goroutine spawned there runs, a channel works, and a pthread key that the
 * program made first keeps its value (libcsp's key is made on first use).
 * Exits 0 when all holds, 77 (skipped) when libcsp was linked as a shared
 * library after all (a build with --disable-static).
 *
 * The goroutine sends only after a while, so that the constructor's receive
 * blocks and looks up its thread record. Under ThreadSanitizer, whose runtime
 * makes a key before any constructor, the program's key check is weaker.
 */
#include <csp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static pthread_key_t program_key;
static char program_data[64];
static int recv_rc = -1, got = -1;

static void send_42(void *ch)
{
    csp_sleep(20 * CSP_MILLISECOND);
    int v = 42;
    csp_send(ch, &v);
}

static bool libcsp_is_shared(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool shared = false;
    while (!shared && fgets(line, sizeof line, f))
        shared = strstr(line, "libcsp.so") != NULL;
    fclose(f);
    return shared;
}

__attribute__((constructor)) static void before_libcsp(void)
{
    if (pthread_key_create(&program_key, NULL) != 0)
        return;
    memset(program_data, 'x', sizeof program_data);
    pthread_setspecific(program_key, program_data);
    csp_chan *ch = csp_chan_make(sizeof(int), 0);
    if (!ch || csp_go(send_42, ch) != 0)
        return;
    recv_rc = csp_recv(ch, &got);
    csp_chan_release(ch);
}

int main(void)
{
    if (libcsp_is_shared()) {
        fprintf(stderr, "test_static_ctor: libcsp is linked as a shared library: skipped\n");
        return 77;
    }
    int intact = pthread_getspecific(program_key) == program_data;
    for (size_t i = 0; i < sizeof program_data; i++)
        intact &= program_data[i] == 'x';
    if (recv_rc != 0 || got != 42 || !intact) {
        fprintf(stderr, "test_static_ctor: receive in a constructor: rc %d, value %d (want 0, 42); program's key %s\n",
                recv_rc, got, intact ? "intact" : "CHANGED");
        return 1;
    }
    return 0;
}
