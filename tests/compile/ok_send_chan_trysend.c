/* A send-only view accepts csp_trysend. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    int v = 1;
    (void)csp_trysend(out, &v);
}
