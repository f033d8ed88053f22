/* dns against the tests' own DNS server on loopback: record types, order,
 * null MX, NXDOMAIN / SERVFAIL / timeout told apart, AD bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "dnsd.h"
#include "plat.h"

static dnsd *server;

static int setup(void **state)
{
    static const unsigned char loop6[16] = { [15] = 1 };
    static const unsigned char digest[4] = { 0xde, 0xad, 0xbe, 0xef };
    server = dnsd_start();
    if (!server)
        return -1;
    dnsd_add_mx(server, "ordered.test", 20, "b.ordered.test");
    dnsd_add_mx(server, "ordered.test", 10, "a1.ordered.test");
    dnsd_add_mx(server, "ordered.test", 10, "a2.ordered.test");
    dnsd_add_mx(server, "ordered.test", 30, "c.ordered.test");
    dnsd_add_a(server, "aonly.test", 127, 0, 0, 1);
    dnsd_add_aaaa(server, "aonly.test", loop6);
    dnsd_add_mx(server, "nullmx.test", 0, "");
    dnsd_add_mx(server, "servfail.test", 10, "mx.servfail.test");
    dnsd_set_rcode(server, "servfail.test", 2);
    dnsd_set_silent(server, "silent.test");
    dnsd_add_txt(server, "_mta-sts.signed.test", "v=STSv1; id=20260101");
    dnsd_set_ad(server, "_mta-sts.signed.test");
    dnsd_add_txt(server, "_mta-sts.plain.test", "v=STSv1; id=1");
    dnsd_add_tlsa(server, "_25._tcp.mx.signed.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(server, "_25._tcp.mx.signed.test");
    dnsd_add_a(server, "mx.signed.test", 127, 0, 0, 1);
    dnsd_add_mx(server, "signed.test", 10, "mx.signed.test");
    dnsd_set_ad(server, "signed.test");
    (void)state;
    return 0;
}

static int teardown(void **state)
{
    dnsd_stop(server);
    (void)state;
    return 0;
}

static uint64_t soon(void) { return plat_now_ms() + 3000; }

static void mx_in_preference_order(void **state)
{
    int saw_a1_first = 0, saw_a2_first = 0, i;
    (void)state;
    /* Equal preferences come in random order: over 40 look-ups both orders
     * show (the chance of not seeing one is 2^-39). */
    for (i = 0; i < 40; i++) {
        dns_mx_list mx;
        assert_int_equal(dns_lookup_mx(dnsd_server(server), "ordered.test", soon(), &mx),
                         DNS_OK);
        assert_int_equal(mx.count, 4);
        assert_false(mx.implicit);
        assert_int_equal(mx.hosts[0].pref, 10);
        assert_int_equal(mx.hosts[1].pref, 10);
        assert_string_equal(mx.hosts[2].name, "b.ordered.test");
        assert_string_equal(mx.hosts[3].name, "c.ordered.test");
        saw_a1_first |= strcmp(mx.hosts[0].name, "a1.ordered.test") == 0;
        saw_a2_first |= strcmp(mx.hosts[0].name, "a2.ordered.test") == 0;
    }
    assert_true(saw_a1_first);
    assert_true(saw_a2_first);
}

static void no_mx_means_the_domain_itself(void **state)
{
    dns_mx_list mx;
    dns_addr_list addrs;
    (void)state;
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "aonly.test", soon(), &mx), DNS_OK);
    assert_true(mx.implicit);
    assert_int_equal(mx.count, 1);
    assert_string_equal(mx.hosts[0].name, "aonly.test");
    assert_int_equal(dns_lookup_addrs(dnsd_server(server), "aonly.test", soon(), &addrs),
                     DNS_OK);
    assert_int_equal(addrs.count, 2);
    assert_string_equal(addrs.addrs[0], "127.0.0.1");
    assert_string_equal(addrs.addrs[1], "::1");
}

static void null_mx_is_reported(void **state)
{
    dns_mx_list mx;
    (void)state;
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "nullmx.test", soon(), &mx), DNS_OK);
    assert_true(mx.null_mx);
    assert_int_equal(mx.count, 0);
}

static void nxdomain_servfail_timeout_told_apart(void **state)
{
    dns_mx_list mx;
    uint64_t start;
    (void)state;
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "nowhere.test", soon(), &mx),
                     DNS_NXDOMAIN);
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "servfail.test", soon(), &mx),
                     DNS_SERVFAIL);
    start = plat_now_ms();
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "silent.test", start + 600, &mx),
                     DNS_TIMEOUT);
    assert_true(plat_now_ms() - start < 600 + 1400); /* bounded: slack for a loaded machine */
    assert_true(mx.error[0] != '\0');
}

/* DANE needs the MX RRset validated too (RFC 7672 2.2). */
static void mx_with_and_without_ad(void **state)
{
    dns_mx_list mx;
    (void)state;
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "signed.test", soon(), &mx), DNS_OK);
    assert_int_equal(mx.count, 1);
    assert_string_equal(mx.hosts[0].name, "mx.signed.test");
    assert_true(mx.ad);
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "ordered.test", soon(), &mx), DNS_OK);
    assert_int_equal(mx.count, 4);
    assert_false(mx.ad);
    assert_int_equal(dns_lookup_mx(dnsd_server(server), "aonly.test", soon(), &mx), DNS_OK);
    assert_true(mx.implicit);
    assert_false(mx.ad);
}

static void txt_with_and_without_ad(void **state)
{
    dns_txt_list txt;
    (void)state;
    assert_int_equal(dns_lookup_txt(dnsd_server(server), "_mta-sts.signed.test", soon(), &txt),
                     DNS_OK);
    assert_int_equal(txt.count, 1);
    assert_string_equal(txt.records[0], "v=STSv1; id=20260101");
    assert_true(txt.ad);
    dns_txt_free(&txt);
    assert_int_equal(dns_lookup_txt(dnsd_server(server), "_mta-sts.plain.test", soon(), &txt),
                     DNS_OK);
    assert_false(txt.ad);
    dns_txt_free(&txt);
    assert_int_equal(dns_lookup_txt(dnsd_server(server), "mx.signed.test", soon(), &txt),
                     DNS_NODATA);
    dns_txt_free(&txt);
}

static void tlsa_records_and_ad(void **state)
{
    dns_tlsa_list tlsa;
    static const unsigned char digest[4] = { 0xde, 0xad, 0xbe, 0xef };
    (void)state;
    assert_int_equal(dns_lookup_tlsa(dnsd_server(server), "_25._tcp.mx.signed.test", soon(),
                                     &tlsa),
                     DNS_OK);
    assert_true(tlsa.ad);
    assert_int_equal(tlsa.count, 1);
    assert_int_equal(tlsa.records[0].usage, 3);
    assert_int_equal(tlsa.records[0].selector, 1);
    assert_int_equal(tlsa.records[0].mtype, 1);
    assert_int_equal(tlsa.records[0].len, 4);
    assert_memory_equal(tlsa.records[0].data, digest, 4);
    dns_tlsa_free(&tlsa);
    assert_int_equal(dns_lookup_tlsa(dnsd_server(server), "_25._tcp.none.test", soon(), &tlsa),
                     DNS_NXDOMAIN);
    dns_tlsa_free(&tlsa);
}

static void bad_server_list_is_refused(void **state)
{
    char err[160];
    dns_mx_list mx;
    (void)state;
    assert_int_equal(dns_check_servers("not a server!", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a server!"));
    assert_int_equal(dns_check_servers(dnsd_server(server), err, sizeof err), 0);
    assert_int_equal(dns_check_servers("127.0.0.1:99999", err, sizeof err), -1);
    assert_int_equal(dns_check_servers("127.0.0.1,", err, sizeof err), -1);
    assert_int_equal(dns_check_servers("[::1]:5353,dns.example:53,10.0.0.1", err, sizeof err), 0);
    assert_int_equal(dns_lookup_mx("127.0.0.1:99999", "x.test", soon(), &mx), DNS_ERROR);
    assert_non_null(strstr(mx.error, "bad DNS server list"));
}

static void server_given_by_name(void **state)
{
    char servers[64];
    dns_mx_list mx;
    (void)state;
    snprintf(servers, sizeof servers, "LocalHost:%u", dnsd_port(server));
    assert_int_equal(dns_lookup_mx(servers, "ordered.test", soon(), &mx), DNS_OK);
    assert_int_equal(mx.count, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mx_in_preference_order),
        cmocka_unit_test(no_mx_means_the_domain_itself),
        cmocka_unit_test(null_mx_is_reported),
        cmocka_unit_test(nxdomain_servfail_timeout_told_apart),
        cmocka_unit_test(mx_with_and_without_ad),
        cmocka_unit_test(txt_with_and_without_ad),
        cmocka_unit_test(tlsa_records_and_ad),
        cmocka_unit_test(bad_server_list_is_refused),
        cmocka_unit_test(server_given_by_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
