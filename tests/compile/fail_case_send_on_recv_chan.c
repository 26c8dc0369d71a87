/* Go: send to receive-only channel, as a select case. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    int v = 1;
    csp_case k = csp_case_send(in, &v);
    csp_select(&k, 1);
}
