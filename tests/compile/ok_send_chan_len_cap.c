/* A send-only view accepts csp_len and csp_cap. */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    csp_send_chan out = csp_send_only(c);
    size_t n = csp_len(out) + csp_cap(out);
    (void)n;
}
