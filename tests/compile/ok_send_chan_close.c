/* A send-only view accepts csp_close: closing is the sender's job. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    (void)csp_close(out);
}
