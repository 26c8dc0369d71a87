/* The channel itself accepts every operation. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    int v = 1;
    (void)csp_send(c, &v);
    (void)csp_trysend(c, &v);
    (void)csp_recv(c, &v);
    (void)csp_tryrecv(c, &v);
    size_t n = csp_len(c) + csp_cap(c);
    (void)n;
    csp_case k[2] = { csp_case_send(c, &v), csp_case_recv(c, &v) };
    (void)csp_select(k, 2);
    (void)csp_close(c);
}
