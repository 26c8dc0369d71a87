/* Go: invalid operation: cannot close receive-only channel. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    csp_close(in);
}
