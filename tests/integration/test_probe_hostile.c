/* The probe against hostile peers on loopback (issue 8 item 5): each ends
 * within its deadline, reads no more than its bounds, and reports the right
 * status. The HTTPS policy server's attacks (redirect, 10 MB, silence, a
 * byte a second) are in test_mtasts_fetch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dnsd.h"
#include "hostile.h"
#include "peer.h"
#include "plat.h"
#include "probe.h"

/* Upper bounds leave room for a loaded 2-core machine; lower bounds are exact. */
enum { CONNECT_MS = 2000, REPLY_MS = 2500, TOTAL_MS = 8000, SLACK_MS = 3000 };

static dnsd *dns;

static int setup(void **state)
{
    (void)state;
    if (!(dns = dnsd_start()))
        return -1;
    dnsd_add_mx(dns, "hostile.test", 10, "mx.hostile.test");
    dnsd_add_a(dns, "mx.hostile.test", 127, 0, 0, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dnsd_stop(dns);
    return 0;
}

static probe_options options(const char *servers, unsigned port)
{
    probe_options o;
    probe_options_default(&o);
    o.port = port;
    o.dns_servers = servers;
    o.connect_timeout_ms = CONNECT_MS;
    o.reply_timeout_ms = REPLY_MS;
    o.total_timeout_ms = TOTAL_MS;
    o.ehlo_name = "probe.client.test";
    return o;
}

/* Probe hostile.test against a hostile SMTP peer; *took gets the time. */
static probe_result probe_hostile(hostile_smtp_kind kind, size_t *sent, uint64_t *took)
{
    hostile *h = hostile_smtp_start(kind);
    probe_options o;
    probe_result r;
    uint64_t start;
    assert_non_null(h);
    o = options(dnsd_server(dns), hostile_port(h));
    start = plat_now_ms();
    probe_domain("hostile.test", &o, &r);
    *took = plat_now_ms() - start;
    *sent = hostile_bytes_sent(h);
    hostile_stop(h);
    return r;
}

static void greeting_a_byte_a_second(void **state)
{
    size_t sent;
    uint64_t took;
    probe_result r = probe_hostile(HOSTILE_SMTP_DRIP, &sent, &took);
    (void)state;
    assert_int_equal(r.status, PROBE_TIMEOUT);
    /* The reply deadline holds for the whole reply, not per byte. */
    assert_true(took >= REPLY_MS - 100 && took < REPLY_MS + SLACK_MS);
    assert_true(sent >= 2 && sent <= 5);
}

static void ten_megabytes_of_continuation_lines(void **state)
{
    size_t sent;
    uint64_t took;
    probe_result r = probe_hostile(HOSTILE_SMTP_FLOOD, &sent, &took);
    (void)state;
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_non_null(strstr(r.error, "reply longer than"));
    assert_true(took < REPLY_MS + SLACK_MS);
    /* The client stopped reading at its reply bound and hung up. */
    assert_true(sent < HOSTILE_FLOOD_BYTES);
}

static void tls_garbage_after_starttls(void **state)
{
    size_t sent;
    uint64_t took;
    probe_result r = probe_hostile(HOSTILE_SMTP_TLS_GARBAGE, &sent, &took);
    (void)state;
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_string_equal(r.tls_version, "");
    assert_true(took < REPLY_MS + SLACK_MS);
}

static void a_thousand_mx_records(void **state)
{
    hostile *h = hostile_dns_start();
    peer *p = peer_start(PEER_STARTTLS, NULL);
    dns_mx_list mx;
    probe_options o;
    probe_result r;
    uint64_t start = plat_now_ms();
    (void)state;
    assert_non_null(h);
    assert_non_null(p);
    /* The whole 23 KB answer comes over TCP; the list keeps the best 16. */
    assert_int_equal(dns_lookup_mx(hostile_server(h), "many.test", start + 5000, &mx), DNS_OK);
    assert_int_equal(mx.count, DNS_MAX_MX);
    assert_string_equal(mx.hosts[0].name, "mx0000.many.test");
    assert_int_equal(mx.hosts[0].pref, 0);
    assert_int_equal(mx.hosts[DNS_MAX_MX - 1].pref, DNS_MAX_MX - 1);
    /* And the probe goes on to the first host. */
    o = options(hostile_server(h), peer_port(p));
    probe_domain("many.test", &o, &r);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.mx, "mx0000.many.test");
    assert_true(plat_now_ms() - start < TOTAL_MS);
    peer_stop(p);
    hostile_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(greeting_a_byte_a_second),
        cmocka_unit_test(ten_megabytes_of_continuation_lines),
        cmocka_unit_test(tls_garbage_after_starttls),
        cmocka_unit_test(a_thousand_mx_records),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
