/* Go: receive from send-only channel, in a select with default. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    int v;
    csp_tryrecv(out, &v);
}
