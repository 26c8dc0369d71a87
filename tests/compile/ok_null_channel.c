/* A literal NULL is taken as a csp_chan * (CSP_EINVAL at run time). */
#include <csp.h>

void test_case(csp_chan *c);
void test_case(csp_chan *c)
{
    int v = 1;
    (void)c;
    (void)csp_send(NULL, &v);
    (void)csp_recv(NULL, &v);
    (void)csp_trysend(NULL, &v);
    (void)csp_tryrecv(NULL, &v);
    (void)csp_close(NULL);
    size_t n = csp_len(NULL) + csp_cap(NULL);
    (void)n;
    csp_case k = csp_case_recv(NULL, &v);
    (void)csp_select_try(&k, 1);
}
