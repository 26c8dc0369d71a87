/* Go: invalid operation: cannot receive from send-only channel. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    int v;
    csp_recv(out, &v);
}
