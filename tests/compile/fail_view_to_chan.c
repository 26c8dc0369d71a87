/* No way back from a view to the bidirectional channel, as in Go. */
/* expect-error: incompatible type */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_recv_chan in = csp_recv_only(c);
    csp_chan *back = in;
    csp_chan_release(back);
}
