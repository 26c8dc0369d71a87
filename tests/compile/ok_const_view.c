/* Views work const-qualified and as parameters, like Go's chan<- T. */
#include <csp.h>

static int forward(csp_recv_chan in, csp_send_chan out)
{
    int v;
    while (csp_recv(in, &v) == 0)
        if (csp_send(out, &v) != 0)
            return -1;
    return csp_close(out);
}

void test_case(csp_chan *a, csp_chan *b);
void test_case(csp_chan *a, csp_chan *b)
{
    const csp_send_chan out = csp_send_only(b);
    const csp_recv_chan in = csp_recv_only(a);
    csp_chan *const c = a;
    int v = 1;
    (void)csp_send(out, &v);
    (void)csp_recv(in, &v);
    (void)csp_send(c, &v);
    (void)forward(csp_recv_only(a), csp_send_only(b));
}
