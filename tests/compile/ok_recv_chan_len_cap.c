/* A receive-only view accepts csp_len and csp_cap. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    size_t n = csp_len(in) + csp_cap(in);
    (void)n;
}
