/* Go: send to receive-only channel, in a select with default. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    int v = 1;
    csp_trysend(in, &v);
}
