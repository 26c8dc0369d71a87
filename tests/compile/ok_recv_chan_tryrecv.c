/* A receive-only view accepts csp_tryrecv. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    int v;
    (void)csp_tryrecv(in, &v);
}
