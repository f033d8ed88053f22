/* net on loopback: connect, send, receive and their deadlines, refusal,
 * IPv6 and poll, with real sockets. (UDP is exercised by test_dns, with
 * c-ares as the client of the tests' DNS server.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"
#include "peer.h"
#include "plat.h"

static uint64_t in_ms(unsigned ms) { return plat_now_ms() + ms; }

/* A connected pair through a listener on ip; 0 when ip is usable here. */
static int make_pair(const char *ip, net_fd *client, net_fd *server)
{
    net_fd listener;
    unsigned port;
    char err[160];
    if (net_listen(ip, 0, &listener, &port, err, sizeof err) != NET_OK)
        return -1;
    assert_int_equal(net_connect(ip, port, in_ms(2000), client, err, sizeof err), NET_OK);
    assert_int_equal(net_accept(listener, in_ms(2000), server), NET_OK);
    net_close(listener);
    return 0;
}

static void round_trip_and_close(void **state)
{
    net_fd c, s;
    char buf[16], err[160];
    (void)state;
    assert_int_equal(make_pair("127.0.0.1", &c, &s), 0);
    assert_int_equal(net_send_all(c, "hello", 5, in_ms(1000), err, sizeof err), NET_OK);
    assert_int_equal(net_recv(s, buf, sizeof buf, in_ms(1000), err, sizeof err), 5);
    assert_memory_equal(buf, "hello", 5);
    net_close(c);
    assert_int_equal(net_recv(s, buf, sizeof buf, in_ms(1000), err, sizeof err), 0);
    net_close(s);
}

static void receive_deadline_holds(void **state)
{
    net_fd c, s;
    char buf[16], err[160];
    uint64_t start;
    (void)state;
    assert_int_equal(make_pair("127.0.0.1", &c, &s), 0);
    start = plat_now_ms();
    assert_int_equal(net_recv(c, buf, sizeof buf, start + 300, err, sizeof err), NET_TIMEOUT);
    assert_true(plat_now_ms() - start >= 290);
    assert_true(plat_now_ms() - start < 2000); /* bounded: slack for a loaded machine */
    assert_non_null(strstr(err, "timed out"));
    net_close(c);
    net_close(s);
}

static void refused_and_bad_address(void **state)
{
    net_fd c;
    char err[160] = "";
    unsigned port = peer_unused_port();
    (void)state;
    assert_int_not_equal(port, 0);
    assert_int_equal(net_connect("127.0.0.1", port, in_ms(2000), &c, err, sizeof err), NET_ERROR);
    assert_non_null(strstr(err, "connect"));
    assert_int_equal(net_connect("mx.example.com", 25, in_ms(2000), &c, err, sizeof err),
                     NET_ERROR);
    assert_non_null(strstr(err, "not a numeric address"));
}

static void ipv6_loopback(void **state)
{
    net_fd c, s;
    char buf[8], err[160];
    (void)state;
    if (make_pair("::1", &c, &s) != 0)
        skip(); /* no IPv6 loopback on this machine */
    assert_int_equal(net_send_all(s, "v6", 2, in_ms(1000), err, sizeof err), NET_OK);
    assert_int_equal(net_recv(c, buf, sizeof buf, in_ms(1000), err, sizeof err), 2);
    assert_memory_equal(buf, "v6", 2);
    net_close(c);
    net_close(s);
}

static void poll_reports_the_ready_one(void **state)
{
    net_fd a, b, c, d;
    net_pollfd p[2];
    char err[160];
    (void)state;
    assert_int_equal(make_pair("127.0.0.1", &a, &b), 0);
    assert_int_equal(make_pair("127.0.0.1", &c, &d), 0);
    assert_int_equal(net_send_all(d, "x", 1, in_ms(1000), err, sizeof err), NET_OK);
    memset(p, 0, sizeof p);
    p[0].fd = a;
    p[0].want_read = 1;
    p[1].fd = c;
    p[1].want_read = 1;
    assert_int_equal(net_poll(p, 2, 1000), 1);
    assert_false(p[0].readable);
    assert_true(p[1].readable);
    assert_int_equal(net_poll(p, 1, 50), 0);
    net_close(a);
    net_close(b);
    net_close(c);
    net_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_close),
        cmocka_unit_test(receive_deadline_holds),
        cmocka_unit_test(refused_and_bad_address),
        cmocka_unit_test(ipv6_loopback),
        cmocka_unit_test(poll_reports_the_ready_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
