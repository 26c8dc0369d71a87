/* A receive-only view accepts csp_case_recv. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    int v;
    csp_case k = csp_case_recv(in, &v);
    (void)csp_select(&k, 1);
}
