/* A receive-only view accepts csp_recv, with or without a destination. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    int v;
    (void)csp_recv(in, &v);
    (void)csp_recv(in, NULL);
}
