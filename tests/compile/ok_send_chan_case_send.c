/* A send-only view accepts csp_case_send. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    int v = 1;
    csp_case k = csp_case_send(out, &v);
    (void)csp_select(&k, 1);
}
