/* On Windows the probe's handshake is Schannel's, and the certificate
 * checks IIS can be asked for are the Windows chain engine's. Under Wine
 * against loopback peers with real OpenSSL servers. Wine's Schannel
 * behaves like Server 2019's: TLS 1.0 to 1.2, no TLS 1.3. (The MTA-STS
 * fetch's chain engine: test_stschain.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certgen.h"
#include "dnsd.h"
#include "mgr_data.h"
#include "peer.h"
#include "plat.h"
#include "probe.h"
#include "store.h"
#include "trtest.h"

static dnsd *dns;

static int setup(void **state)
{
    static const char *const names[] = { "tls.test", "new.test", "old.test", "expired.test",
                                         "self.test" };
    size_t i;
    char mx[64];
    (void)state;
    dns = dnsd_start();
    if (!dns)
        return -1;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(mx, sizeof mx, "mx.%s", names[i]);
        dnsd_add_mx(dns, names[i], 10, mx);
        dnsd_add_a(dns, mx, 127, 0, 0, 1);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dnsd_stop(dns);
    return 0;
}

static probe_options opts_for(unsigned port)
{
    probe_options o;
    probe_options_default(&o);
    o.port = port;
    o.dns_servers = dnsd_server(dns);
    o.connect_timeout_ms = 3000;
    o.reply_timeout_ms = 8000;
    o.total_timeout_ms = 15000;
    return o;
}

static probe_result probe_peer(peer_kind kind, const certgen_pair *cert, const char *domain,
                               const probe_options *tweak)
{
    probe_options o = tweak ? *tweak : opts_for(0);
    probe_result r;
    peer *p = peer_start(kind, cert);
    assert_non_null(p);
    o.port = peer_port(p);
    probe_domain(domain, &o, &r);
    peer_stop(p);
    return r;
}

/* ---- the probe through Schannel ---------------------------------------- */

static void tls12_through_schannel(void **state)
{
    probe_result r = probe_peer(PEER_STARTTLS, NULL, "tls.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
    assert_string_equal(r.tls_version, "TLSv1.2");
    /* The peer's key is ECDSA; the suite by its IANA name. */
    assert_true(tls_suite_code(r.cipher) >= 0);
    assert_non_null(strstr(r.cipher, "TLS_ECDHE_ECDSA_WITH_"));
    assert_true(r.has_cert);
    assert_string_equal(r.subject, "/CN=mx.peer.test");
    assert_string_equal(r.issuer, "/CN=mx.peer.test");
}

/* A server that speaks only TLS 1.3 is out of Schannel's reach here (as on
 * Server 2019): handshake-failed, where the old OpenSSL probe said
 * starttls and IIS's own delivery then failed. OpenSSL can (the manager's
 * second opinion). */
static void tls13_only_fails_here(void **state)
{
    probe_options o = opts_for(0);
    probe_result r = probe_peer(PEER_TLS13_ONLY, NULL, "new.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
    assert_non_null(strstr(r.error, "TLS handshake failed: Schannel"));
    assert_string_equal(r.tls_version, "");

    o.stack = TLS_STACK_OPENSSL;
    r = probe_peer(PEER_TLS13_ONLY, NULL, "new.test", &o);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_int_equal(r.stack, TLS_STACK_OPENSSL);
    assert_string_equal(r.tls_version, "TLSv1.3");
    assert_true(tls_suite_code(r.cipher) >= 0);
}

static void tls10_only_works(void **state)
{
    probe_result r = probe_peer(PEER_TLS10_ONLY, NULL, "old.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
    assert_string_equal(r.tls_version, "TLSv1");
    assert_non_null(strstr(r.cipher, "_CBC_SHA"));
}

static void expired_through_schannel(void **state)
{
    probe_result r = probe_peer(PEER_EXPIRED, NULL, "expired.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_CERT_EXPIRED);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
    assert_string_equal(r.error, "The remote SMTP service rejected the SSL handshake "
                                 "because the certificate has expired.");
    assert_true(r.cert_not_after < plat_wall_ms() / 1000);
}

static void not_yet_valid_through_schannel(void **state)
{
    certgen_pair cert;
    probe_result r;
    (void)state;
    assert_int_equal(certgen_make("mx.self.test", 86400, 2 * 86400, NULL, &cert), 0);
    r = probe_peer(PEER_STARTTLS, &cert, "self.test", NULL);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_CERT_NOT_YET_VALID);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
}

/* IIS's defaults check neither chain nor name: a self-signed certificate
 * is TLS that works. With the checks on, the chain engine refuses it, and
 * the name is checked on its own. */
static void self_signed_and_the_checks(void **state)
{
    probe_options o = opts_for(0);
    certgen_pair cert;
    probe_result r;
    (void)state;
    assert_int_equal(certgen_make("mx.self.test", -3600, 86400, NULL, &cert), 0);
    r = probe_peer(PEER_STARTTLS, &cert, "self.test", NULL);
    assert_int_equal(r.status, PROBE_STARTTLS);

    o.verify_chain = 1;
    r = probe_peer(PEER_STARTTLS, &cert, "self.test", &o);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "certificate chain not trusted"));

    o.verify_chain = 0;
    o.verify_name = 1;
    r = probe_peer(PEER_STARTTLS, &cert, "self.test", &o); /* mx.self.test: its name */
    assert_int_equal(r.status, PROBE_STARTTLS);
    r = probe_peer(PEER_STARTTLS, &cert, "tls.test", &o); /* mx.tls.test: not its name */
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "name does not match mx.tls.test"));
    certgen_free(&cert);
}

/* Schannel cannot set up TLS with a certificate whose time it cannot read
 * (OpenSSL can, test_probe): IIS could not either, so that is the verdict. */
static void unreadable_time_fails_the_handshake(void **state)
{
    certgen_pair cert;
    probe_result r;
    (void)state;
    assert_int_equal(certgen_make_raw_times("mx.self.test", NULL, "491332000000Z", &cert), 0);
    r = probe_peer(PEER_STARTTLS, &cert, "self.test", NULL);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
}

/* "Test a domain" on Windows: Schannel's verdict, and OpenSSL's as a
 * second opinion saying plainly what the difference means. */
static void test_a_domain_gives_a_second_opinion(void **state)
{
    char dir[512], db[600], port[16], err[MGR_ERR_LEN], *report = NULL;
    peer *p = peer_start(PEER_TLS13_ONLY, NULL);
    store *st;
    (void)state;
    assert_non_null(p);
    assert_int_equal(trtest_temp_dir("schannel", dir, sizeof dir), 0);
    assert_int_equal(trtest_join(db, sizeof db, dir, "t.db"), 0);
    snprintf(port, sizeof port, "%u", peer_port(p));
    assert_int_equal(store_open(db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(st, "dns_servers", dnsd_server(dns)), STORE_OK);
    assert_int_equal(store_setting_set(st, "probe_port", port), STORE_OK);
    store_close(st);

    assert_int_equal(mgr_probe_domain(db, "new.test", &report, err, sizeof err), 0);
    peer_stop(p);
    assert_non_null(strstr(report, "Result: handshake-failed\n"));
    assert_non_null(strstr(report, "Decided by: Schannel"));
    assert_non_null(strstr(report, "Second opinion (OpenSSL): starttls, TLSv1.3, TLS_"));
    assert_non_null(strstr(report, "This Windows cannot negotiate TLS with mx.new.test"));
    assert_non_null(strstr(report, "it seems to accept nothing older"));
    free(report);
    trtest_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls12_through_schannel),
        cmocka_unit_test(tls13_only_fails_here),
        cmocka_unit_test(tls10_only_works),
        cmocka_unit_test(expired_through_schannel),
        cmocka_unit_test(not_yet_valid_through_schannel),
        cmocka_unit_test(self_signed_and_the_checks),
        cmocka_unit_test(unreadable_time_fails_the_handshake),
        cmocka_unit_test(test_a_domain_gives_a_second_opinion),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
