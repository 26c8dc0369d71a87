/* Go: receive from send-only channel, as a select case. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    int v;
    csp_case k = csp_case_recv(out, &v);
    csp_select(&k, 1);
}
