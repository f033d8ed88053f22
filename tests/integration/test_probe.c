/* The probe against real peers on loopback: the tests' DNS server and SMTP
 * servers with real TLS. Every status of the vocabulary is produced here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certgen.h"
#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "probe.h"
#include "trtest.h"

static dnsd *dns;

/* name -> MX mx.name (127.0.0.1), the usual shape. */
static void add_domain(const char *name)
{
    char mx[256];
    snprintf(mx, sizeof mx, "mx.%s", name);
    dnsd_add_mx(dns, name, 10, mx);
    dnsd_add_a(dns, mx, 127, 0, 0, 1);
}

static int setup(void **state)
{
    static const char *const plain[] = { "plain.test", "tls.test", "expired.test", "old.test",
                                         "rejected.test", "silent.test", "garbage.test",
                                         "endless.test", "huge.test", "refused.test",
                                         "ca.test" };
    size_t i;
    char name[64];
    (void)state;
    dns = dnsd_start();
    if (!dns)
        return -1;
    for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
        add_domain(plain[i]);
    for (i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "many%zu.test", i);
        dnsd_add_mx(dns, name, 10, "mx.tls.test");
    }
    /* First MX refuses (nothing listens on 127.0.0.2), the second works. */
    dnsd_add_mx(dns, "fallback.test", 10, "first.fallback.test");
    dnsd_add_mx(dns, "fallback.test", 20, "second.fallback.test");
    dnsd_add_a(dns, "first.fallback.test", 127, 0, 0, 2);
    dnsd_add_a(dns, "second.fallback.test", 127, 0, 0, 1);
    /* Two MX hosts on one port, as on port 25: the first (127.0.0.2)
     * refuses the session (or drops it), the second (127.0.0.1) is tried
     * next. */
    for (i = 0; i < 4; i++) {
        static const char *const refusing[] = { "refuse421.test", "refuseehlo.test",
                                                "drop.test", "reset.test" };
        char first[64], second[64];
        snprintf(first, sizeof first, "first.%s", refusing[i]);
        snprintf(second, sizeof second, "second.%s", refusing[i]);
        dnsd_add_mx(dns, refusing[i], 10, first);
        dnsd_add_mx(dns, refusing[i], 20, second);
        dnsd_add_a(dns, first, 127, 0, 0, 2);
        dnsd_add_a(dns, second, 127, 0, 0, 1);
    }
    add_domain("refuse554.test");
    add_domain("ehlo421.test");
    add_domain("droponly.test");
    /* The first MX (127.0.0.2) refuses, nothing listens on the second. */
    dnsd_add_mx(dns, "refusedfirst.test", 10, "first.refusedfirst.test");
    dnsd_add_mx(dns, "refusedfirst.test", 20, "second.refusedfirst.test");
    dnsd_add_a(dns, "first.refusedfirst.test", 127, 0, 0, 2);
    dnsd_add_a(dns, "second.refusedfirst.test", 127, 0, 0, 3);
    /* Three MX hosts that accept and never speak: a black hole. */
    dnsd_add_mx(dns, "blackhole.test", 10, "mx.silent.test");
    dnsd_add_mx(dns, "blackhole.test", 20, "mx2.silent.test");
    dnsd_add_mx(dns, "blackhole.test", 30, "mx3.silent.test");
    dnsd_add_a(dns, "mx2.silent.test", 127, 0, 0, 1);
    dnsd_add_a(dns, "mx3.silent.test", 127, 0, 0, 1);
    dnsd_add_a(dns, "aonly.test", 127, 0, 0, 1);
    dnsd_add_mx(dns, "nullmx.test", 0, "");
    dnsd_add_mx(dns, "servfail.test", 10, "mx.servfail.test");
    dnsd_set_rcode(dns, "servfail.test", 2);
    dnsd_set_silent(dns, "dnssilent.test");
    dnsd_add_mx(dns, "noaddr.test", 10, "mx.noaddr.test");
    dnsd_add_txt(dns, "mx.noaddr.test", "a name without addresses");
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
    o.connect_timeout_ms = 2000;
    o.reply_timeout_ms = 3000;
    o.total_timeout_ms = 8000;
    o.ehlo_name = "probe.client.test";
    return o;
}

static probe_result probe_with(peer_kind kind, const char *domain, probe_options *tweak)
{
    probe_result r;
    peer *p = peer_start(kind, NULL);
    probe_options o;
    assert_non_null(p);
    o = tweak ? *tweak : opts_for(0);
    o.port = peer_port(p);
    probe_domain(domain, &o, &r);
    peer_stop(p);
    return r;
}

static void starttls_with_valid_certificate(void **state)
{
    probe_result r;
    probe_options o = opts_for(0);
    peer *p = peer_start(PEER_STARTTLS, NULL);
    char ehlo[256], sni[256];
    int64_t now = plat_wall_ms() / 1000;
    (void)state;
    assert_non_null(p);
    o.port = peer_port(p);
    probe_domain("tls.test", &o, &r);
    peer_last_ehlo(p, ehlo, sizeof ehlo);
    peer_last_sni(p, sni, sizeof sni);
    peer_stop(p);

    assert_string_equal(probe_status_name(r.status), "starttls");
    assert_string_equal(r.domain, "tls.test");
    assert_string_equal(r.mx, "mx.tls.test");
    assert_string_equal(r.address, "127.0.0.1");
    assert_string_equal(r.error, "");
    assert_non_null(strstr(r.tls_version, "TLSv1."));
    /* The stack that decided, and the suite by its IANA name. */
    assert_int_equal(r.stack, tls_system_stack());
    assert_true(tls_suite_code(r.cipher) >= 0);
    assert_true(r.has_cert);
    assert_true(r.cert_not_after > now + 29 * 86400 && r.cert_not_after < now + 31 * 86400);
    assert_true(r.cert_not_before < now && r.cert_not_before > now - 7200);
    assert_non_null(strstr(r.subject, "CN=mx.peer.test"));
    assert_non_null(strstr(r.issuer, "CN=mx.peer.test"));
    assert_string_equal(ehlo, "probe.client.test");
    assert_string_equal(sni, "mx.tls.test");
    assert_true(r.elapsed_ms < 8000);
}

static void no_starttls(void **state)
{
    probe_result r = probe_with(PEER_NO_STARTTLS, "plain.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_NO_STARTTLS);
    assert_string_equal(r.error, "The remote SMTP service does not support TLS.");
    assert_string_equal(r.tls_version, "");
    assert_int_equal(r.stack, TLS_STACK_NONE); /* no handshake, no stack decided */
    assert_false(r.has_cert);
}

static void expired_certificate(void **state)
{
    probe_result r = probe_with(PEER_EXPIRED, "expired.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_CERT_EXPIRED);
    assert_string_equal(r.error, "The remote SMTP service rejected the SSL handshake "
                                 "because the certificate has expired.");
    assert_true(r.cert_not_after < plat_wall_ms() / 1000);
}

/* The probe of expired.test against a peer serving cert, through stack
 * (TLS_STACK_NONE: the system's). */
static probe_result probe_serving_with(const certgen_pair *cert, tls_stack stack)
{
    probe_options o = opts_for(0);
    probe_result r;
    peer *p = peer_start(PEER_STARTTLS, cert);
    assert_non_null(p);
    o.port = peer_port(p);
    o.stack = stack;
    probe_domain("expired.test", &o, &r);
    peer_stop(p);
    return r;
}

static probe_result probe_serving(const certgen_pair *cert)
{
    return probe_serving_with(cert, TLS_STACK_NONE);
}

/* Valid from tomorrow: its own status (decided like handshake-failed),
 * never "expired". */
static void certificate_not_yet_valid(void **state)
{
    certgen_pair cert;
    int64_t now = plat_wall_ms() / 1000;
    (void)state;
    assert_int_equal(certgen_make("mx.expired.test", 86400, 2 * 86400, NULL, &cert), 0);
    probe_result r = probe_serving(&cert);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_CERT_NOT_YET_VALID);
    assert_string_equal(probe_status_name(r.status), "cert-not-yet-valid");
    assert_non_null(strstr(r.error, "not valid before 20"));
    assert_null(strstr(r.error, "expired"));
    assert_true(r.has_cert);
    assert_true(r.cert_not_before > now + 86000 && r.cert_not_before < now + 87000);
}

/* A time OpenSSL decodes but cannot read as a date (month 13) proves
 * nothing: the handshake's outcome stands and the detail says why no
 * expiry was judged. OpenSSL's handshake accepts such a certificate
 * (Schannel's refuses it: tests/win32/test_schannel.c). */
static void unreadable_certificate_times_are_not_expired(void **state)
{
    static const char bad[] = "491332000000Z";
    certgen_pair cert;
    (void)state;

    assert_int_equal(certgen_make_raw_times("mx.expired.test", NULL, bad, &cert), 0);
    probe_result r = probe_serving_with(&cert, TLS_STACK_OPENSSL);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_true(r.has_cert);
    assert_true(r.cert_not_after_unreadable);
    assert_false(r.cert_not_before_unreadable);
    assert_string_equal(r.error, "certificate notAfter could not be read as a date: validity "
                                 "not judged from it");

    assert_int_equal(certgen_make_raw_times("mx.expired.test", bad, bad, &cert), 0);
    r = probe_serving_with(&cert, TLS_STACK_OPENSSL);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_non_null(strstr(r.error, "notBefore and notAfter could not be read"));

    /* The readable time still counts: notAfter in 2020 is expired. */
    assert_int_equal(certgen_make_raw_times("mx.expired.test", bad, "200101000000Z", &cert), 0);
    r = probe_serving_with(&cert, TLS_STACK_OPENSSL);
    certgen_free(&cert);
    assert_int_equal(r.status, PROBE_CERT_EXPIRED);
    assert_true(r.cert_not_before_unreadable);
    assert_int_equal(r.cert_not_after, 1577836800); /* 2020-01-01T00:00:00Z */
}

static void tls10_only_refused_at_floor_tls12(void **state)
{
    probe_options o = opts_for(0);
    probe_result r;
    (void)state;
    o.floor = PROBE_FLOOR_TLS12;
    r = probe_with(PEER_TLS10_ONLY, "old.test", &o);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "TLS handshake failed"));
}

static void tls10_only_works_at_floor_tls10(void **state)
{
    probe_options o = opts_for(0);
    probe_result r;
    (void)state;
    o.floor = PROBE_FLOOR_TLS10;
    r = probe_with(PEER_TLS10_ONLY, "old.test", &o);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.tls_version, "TLSv1");
    /* A TLS 1.0 suite by its IANA name, whichever stack negotiated it. */
    assert_true(tls_suite_code(r.cipher) >= 0);
    assert_non_null(strstr(r.cipher, "_CBC_SHA"));
}

static void starttls_answered_454(void **state)
{
    probe_result r = probe_with(PEER_STARTTLS_454, "rejected.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_STARTTLS_REJECTED);
    assert_non_null(strstr(r.error, "responded with an error during the STARTTLS command"));
    assert_non_null(strstr(r.error, "454"));
}

static void silent_server_times_out(void **state)
{
    probe_options o = opts_for(0);
    probe_result r;
    uint64_t start = plat_now_ms();
    (void)state;
    o.reply_timeout_ms = 500;
    r = probe_with(PEER_SILENT, "silent.test", &o);
    assert_int_equal(r.status, PROBE_TIMEOUT);
    assert_non_null(strstr(r.error, "greeting"));
    assert_true(plat_now_ms() - start < 3000);
}

static void garbage_is_a_protocol_error(void **state)
{
    probe_result r = probe_with(PEER_GARBAGE, "garbage.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_non_null(strstr(r.error, "not an SMTP reply"));
}

static void endless_reply_is_bounded(void **state)
{
    probe_result r = probe_with(PEER_ENDLESS, "endless.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_non_null(strstr(r.error, "reply longer than"));
}

static void megabyte_line_is_bounded(void **state)
{
    probe_result r = probe_with(PEER_HUGE_LINE, "huge.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_non_null(strstr(r.error, "line longer than"));
}

static void refused_connection(void **state)
{
    probe_options o = opts_for(peer_unused_port());
    probe_result r;
    (void)state;
    assert_int_not_equal(o.port, 0);
    probe_domain("refused.test", &o, &r);
    assert_int_equal(r.status, PROBE_CONNECT_FAILED);
    assert_string_equal(r.mx, "mx.refused.test");
    assert_true(strlen(r.error) > 0);
}

static void first_mx_refuses_second_works(void **state)
{
    probe_result r = probe_with(PEER_STARTTLS, "fallback.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.mx, "second.fallback.test");
    assert_string_equal(r.address, "127.0.0.1");
}

/* Probe domain against two peers on one port: first on 127.0.0.2 (the
 * first MX), second on 127.0.0.1 (the second MX). *first_conns: the
 * connections the first peer took. */
static probe_result probe_pair(peer_kind first, peer_kind second, const char *domain,
                               unsigned *first_conns)
{
    probe_result r;
    probe_options o = opts_for(0);
    peer *p1 = peer_start_on("127.0.0.2", first, NULL), *p2;
    assert_non_null(p1);
    p2 = peer_start_at("127.0.0.1", peer_port(p1), second, NULL);
    assert_non_null(p2);
    o.port = peer_port(p1);
    probe_domain(domain, &o, &r);
    *first_conns = peer_connections(p1);
    peer_stop(p1);
    peer_stop(p2);
    return r;
}

static void first_mx_greets_421_second_works(void **state)
{
    unsigned first_conns = 0;
    probe_result r = probe_pair(PEER_GREETING_421, PEER_STARTTLS, "refuse421.test",
                                &first_conns);
    (void)state;
    assert_int_equal(first_conns, 1); /* reached and refused, not unreachable */
    assert_string_equal(probe_status_name(r.status), "starttls");
    assert_string_equal(r.mx, "second.refuse421.test");
    assert_string_equal(r.address, "127.0.0.1");
    assert_string_equal(r.error, "");
    assert_true(r.has_cert);
}

static void only_mx_greets_554(void **state)
{
    probe_result r = probe_with(PEER_GREETING_554, "refuse554.test", NULL);
    (void)state;
    assert_string_equal(probe_status_name(r.status), "protocol-error");
    assert_string_equal(r.mx, "mx.refuse554.test");
    assert_non_null(strstr(r.error, "554 5.3.2 mx.peer.test no SMTP service here"));
    assert_non_null(strstr(r.error, "greeting refused"));
    assert_false(r.has_cert);
}

static void every_mx_refuses_last_one_reported(void **state)
{
    unsigned first_conns = 0;
    probe_result r = probe_pair(PEER_GREETING_421, PEER_GREETING_554, "refuse421.test",
                                &first_conns);
    (void)state;
    assert_int_equal(first_conns, 1);
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_string_equal(r.mx, "second.refuse421.test");
    assert_non_null(strstr(r.error, "554"));
    assert_null(strstr(r.error, "421"));
}

/* EHLO answered 421 is a refused session too: the next MX is tried, and
 * alone it is a protocol-error (IIS retries), never no-starttls (which
 * would route the mail plain on a passing condition). */
static void ehlo_refused_moves_on(void **state)
{
    unsigned first_conns = 0;
    probe_result r = probe_pair(PEER_EHLO_421, PEER_STARTTLS, "refuseehlo.test", &first_conns);
    (void)state;
    assert_int_equal(first_conns, 1);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.mx, "second.refuseehlo.test");

    r = probe_with(PEER_EHLO_421, "ehlo421.test", NULL);
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_non_null(strstr(r.error, "EHLO refused: 421 4.3.2"));
}

/* A host that closes or resets the connection instead of greeting has not
 * answered either: like a refusal, the next MX host is tried, and its
 * answer is the result. */
static void first_mx_drops_the_greeting_second_works(void **state)
{
    static const peer_kind drops[] = { PEER_GREETING_CLOSE, PEER_GREETING_RESET };
    static const char *const domains[] = { "drop.test", "reset.test" };
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        unsigned first_conns = 0;
        char second[64];
        probe_result r = probe_pair(drops[i], PEER_STARTTLS, domains[i], &first_conns);
        snprintf(second, sizeof second, "second.%s", domains[i]);
        assert_int_equal(first_conns, 1);
        assert_string_equal(probe_status_name(r.status), "starttls");
        assert_string_equal(r.mx, second);
        assert_string_equal(r.address, "127.0.0.1");
        assert_string_equal(r.error, "");
        assert_true(r.has_cert);
    }
}

/* Alone, a dropped greeting stays a protocol-error (TLS, IIS retries),
 * never a verdict on STARTTLS. */
static void only_mx_drops_the_greeting(void **state)
{
    probe_result r = probe_with(PEER_GREETING_CLOSE, "droponly.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_string_equal(r.mx, "mx.droponly.test");
    assert_non_null(strstr(r.error, "greeting: connection closed by the server"));
    assert_false(r.has_cert);
}

/* The cross-host rule: a host that was reached and refused the session
 * says more than a later one that cannot be reached, so the refusal is
 * what the probe reports. */
static void refusal_outranks_a_later_unreachable_host(void **state)
{
    probe_options o = opts_for(0);
    probe_result r;
    peer *p = peer_start_on("127.0.0.2", PEER_GREETING_554, NULL);
    (void)state;
    assert_non_null(p);
    o.port = peer_port(p);
    probe_domain("refusedfirst.test", &o, &r);
    assert_int_equal(peer_connections(p), 1);
    peer_stop(p);
    assert_int_equal(r.status, PROBE_PROTOCOL_ERROR);
    assert_string_equal(r.mx, "first.refusedfirst.test");
    assert_string_equal(r.address, "127.0.0.2");
    assert_non_null(strstr(r.error, "554 5.3.2"));
}

static void no_mx_uses_the_domain_address(void **state)
{
    probe_result r = probe_with(PEER_NO_STARTTLS, "aonly.test", NULL);
    (void)state;
    assert_int_equal(r.status, PROBE_NO_STARTTLS);
    assert_string_equal(r.mx, "aonly.test");
}

static void dns_outcomes(void **state)
{
    probe_options o = opts_for(25);
    probe_result r;
    uint64_t start;
    (void)state;
    probe_domain("nowhere.test", &o, &r);
    assert_string_equal(probe_status_name(r.status), "no-domain");
    probe_domain("nullmx.test", &o, &r);
    assert_string_equal(probe_status_name(r.status), "null-mx");
    probe_domain("servfail.test", &o, &r);
    assert_string_equal(probe_status_name(r.status), "dns-failed");
    probe_domain("noaddr.test", &o, &r);
    assert_string_equal(probe_status_name(r.status), "dns-failed");
    assert_string_equal(r.mx, "mx.noaddr.test");
    o.total_timeout_ms = 700;
    start = plat_now_ms();
    probe_domain("dnssilent.test", &o, &r);
    assert_string_equal(probe_status_name(r.status), "timeout");
    assert_true(plat_now_ms() - start < 700 + 1500); /* slack for a loaded machine */
    probe_domain("bad domain", &o, &r);
    assert_int_equal(r.status, PROBE_DNS_FAILED);
}

static void black_hole_bounded_by_total_deadline(void **state)
{
    probe_options o = opts_for(0);
    probe_result r;
    peer *p = peer_start(PEER_SILENT, NULL);
    (void)state;
    assert_non_null(p);
    o.port = peer_port(p);
    o.reply_timeout_ms = 5000;
    o.total_timeout_ms = 1200;
    probe_domain("blackhole.test", &o, &r);
    peer_stop(p);
    assert_int_equal(r.status, PROBE_TIMEOUT);
    /* Decided at the total deadline, not after 3 x the 5 s reply deadline;
     * the margin is for a loaded machine. */
    assert_true(r.elapsed_ms >= 1150 && r.elapsed_ms < 1200 + 1500); /* slack for a loaded machine */
}

static void chain_and_name_checks_when_asked(void **state)
{
    certgen_pair ca, leaf;
    char dir[512], path[600];
    probe_options o = opts_for(0);
    probe_result r;
    peer *p;
    (void)state;
    assert_int_equal(certgen_make_ca("Test Root", &ca), 0);
    assert_int_equal(certgen_make("mx.ca.test", -3600, 86400, &ca, &leaf), 0);
    assert_int_equal(trtest_temp_dir("probe-ca", dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s%sroot.pem", dir, plat_dir_sep());
    assert_int_equal(certgen_write_pem(&ca, path), 0);
    p = peer_start(PEER_STARTTLS, &leaf);
    assert_non_null(p);
    o.port = peer_port(p);

    o.verify_chain = 1;
    o.verify_name = 1;
    o.ca_file = path;
    probe_domain("ca.test", &o, &r);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_non_null(strstr(r.issuer, "CN=Test Root"));

    probe_domain("tls.test", &o, &r); /* mx.tls.test: not the certificate's name */
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "name does not match mx.tls.test"));

    o.verify_name = 0;
    probe_domain("tls.test", &o, &r); /* name unchecked: fine */
    assert_int_equal(r.status, PROBE_STARTTLS);
    peer_stop(p);
    plat_remove(path);
    plat_remove(dir);

    /* A self-signed certificate is untrusted once chains are checked, and
     * fine by default (IIS's default). */
    o.ca_file = NULL;
    r = probe_with(PEER_STARTTLS, "tls.test", &o);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "chain not trusted"));
    r = probe_with(PEER_STARTTLS, "tls.test", NULL);
    assert_int_equal(r.status, PROBE_STARTTLS);
    certgen_free(&leaf);
    certgen_free(&ca);
}

static void many_domains_at_once(void **state)
{
    const char *domains[24];
    char names[20][32];
    probe_result r[24];
    probe_options o = opts_for(0);
    peer *p = peer_start(PEER_STARTTLS, NULL);
    size_t i;
    (void)state;
    assert_non_null(p);
    o.port = peer_port(p);
    for (i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "many%zu.test", i);
        domains[i] = names[i];
    }
    domains[20] = "MANY3.test"; /* duplicates: probed once */
    domains[21] = "many7.test";
    domains[22] = "plain.test";
    domains[23] = "nowhere.test";
    probe_many(domains, 24, &o, r);
    assert_int_equal(peer_connections(p), 21);
    peer_stop(p);
    for (i = 0; i < 22; i++) {
        assert_int_equal(r[i].status, PROBE_STARTTLS);
        assert_string_equal(r[i].mx, "mx.tls.test");
    }
    assert_string_equal(r[20].domain, "many3.test");
    assert_int_equal(r[23].status, PROBE_NO_DOMAIN);
}

static void many_silent_domains_overlap(void **state)
{
    const char *domains[8] = { "many0.test", "many1.test", "many2.test", "many3.test",
                               "many4.test", "many5.test", "many6.test", "many7.test" };
    probe_result r[8];
    probe_options o = opts_for(0);
    peer *p = peer_start(PEER_SILENT, NULL);
    uint64_t start;
    size_t i;
    (void)state;
    assert_non_null(p);
    o.port = peer_port(p);
    o.reply_timeout_ms = 600;
    start = plat_now_ms();
    probe_many(domains, 8, &o, r);
    /* One after the other this would take 8 x 600 ms. */
    assert_true(plat_now_ms() - start < 3 * 600 + 1000); /* slack for a loaded machine */
    peer_stop(p);
    for (i = 0; i < 8; i++)
        assert_int_equal(r[i].status, PROBE_TIMEOUT);
}

static void ipv6_mx(void **state)
{
    static const unsigned char loop6[16] = { [15] = 1 };
    probe_options o = opts_for(0);
    probe_result r;
    peer *p = peer_start_on("::1", PEER_STARTTLS, NULL);
    (void)state;
    if (!p)
        skip(); /* no IPv6 loopback on this machine */
    dnsd_add_mx(dns, "v6.test", 10, "mx.v6.test");
    dnsd_add_aaaa(dns, "mx.v6.test", loop6);
    o.port = peer_port(p);
    probe_domain("v6.test", &o, &r);
    peer_stop(p);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.address, "::1");
}

/* What a trace hook was told, in order. */
#define TRACE_MAX 64
typedef struct {
    size_t count;
    probe_trace_kind kind[TRACE_MAX];
    char text[TRACE_MAX][PROBE_TRACE_TEXT_MAX + 1];
    int other_domain; /* an event of a domain not probed */
} trace_log;

static void record_trace(void *ctx, const probe_trace_event *ev)
{
    trace_log *t = ctx;
    if (strcmp(ev->domain, "tls.test") != 0 && strcmp(ev->domain, "drop.test") != 0)
        t->other_domain = 1;
    if (t->count == TRACE_MAX)
        return;
    t->kind[t->count] = ev->kind;
    /* One byte more than the bound: a longer text shows as too long. */
    snprintf(t->text[t->count], sizeof t->text[0], "%s", ev->text);
    t->count++;
}

static probe_result probe_traced(peer *p, const char *domain, trace_log *t)
{
    probe_options o = opts_for(peer_port(p));
    probe_result r;
    memset(t, 0, sizeof *t);
    o.trace = record_trace;
    o.trace_ctx = t;
    probe_domain(domain, &o, &r);
    return r;
}

/* Printable ASCII within the bound: nothing a peer sends reaches the
 * reader raw. */
static void assert_tame(const char *text)
{
    size_t i;
    assert_true(strlen(text) < PROBE_TRACE_TEXT_MAX);
    for (i = 0; text[i]; i++)
        assert_true(text[i] >= 0x20 && text[i] < 0x7f);
}

static void trace_follows_the_session_in_order(void **state)
{
    static const struct {
        probe_trace_kind kind;
        const char *text; /* NULL: checked below */
    } want[] = {
        { PROBE_TRACE_DNS, NULL },
        { PROBE_TRACE_DNS, "A/AAAA mx.tls.test: 127.0.0.1" },
        { PROBE_TRACE_CONNECT, "mx.tls.test 127.0.0.1" },
        { PROBE_TRACE_STATE, "greeting" },
        { PROBE_TRACE_REPLY, NULL },
        { PROBE_TRACE_STATE, "ehlo" },
        { PROBE_TRACE_COMMAND, "EHLO" },
        { PROBE_TRACE_REPLY, "250-mx.peer.test greets you" },
        { PROBE_TRACE_STATE, "starttls" },
        { PROBE_TRACE_COMMAND, "STARTTLS" },
        { PROBE_TRACE_REPLY, "220 2.0.0 Ready to start TLS" },
        { PROBE_TRACE_STATE, "handshake" },
        { PROBE_TRACE_TLS, NULL },
        { PROBE_TRACE_CERT, NULL },
        { PROBE_TRACE_STATE, "quit" },
        { PROBE_TRACE_COMMAND, "QUIT" },
        { PROBE_TRACE_REPLY, "221 2.0.0 Bye" },
        { PROBE_TRACE_STATE, "done" },
        { PROBE_TRACE_OUTCOME, "final starttls" },
    };
    trace_log t;
    peer *p = peer_start(PEER_ODD_GREETING, NULL);
    probe_result r;
    size_t i;
    (void)state;
    assert_non_null(p);
    r = probe_traced(p, "tls.test", &t);
    peer_stop(p);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_int_equal(t.count, sizeof want / sizeof want[0]);
    assert_false(t.other_domain);
    for (i = 0; i < t.count; i++) {
        assert_int_equal(t.kind[i], want[i].kind);
        if (want[i].text)
            assert_string_equal(t.text[i], want[i].text);
        assert_tame(t.text[i]);
        assert_null(strstr(t.text[i], "probe.client.test")); /* EHLO's argument */
    }
    /* The MX answer with its preference. */
    assert_true(strncmp(t.text[0], "MX tls.test: ", 13) == 0);
    assert_non_null(strstr(t.text[0], " mx.tls.test"));
    /* The greeting's first line: escaped, and cut at the bound. */
    assert_non_null(strstr(t.text[4], "220-\\x1B[31mred\\x1B[0m\\x09tab\\x7F\\xFF\\\\ yyy"));
    assert_int_equal(strlen(t.text[4]), PROBE_TRACE_TEXT_MAX - 1);
    assert_string_equal(t.text[4] + strlen(t.text[4]) - 3, "...");
    assert_true(strncmp(t.text[12], "TLSv1.", 6) == 0);
    assert_non_null(strstr(t.text[12], r.cipher));
    assert_true(strncmp(t.text[13], "not before 20", 13) == 0);
    assert_non_null(strstr(t.text[13], " UTC, not after 20"));
}

/* Across hosts: each address's outcome, the refusal of a dropped greeting
 * first, then the answer that wins. */
static void trace_shows_each_hosts_outcome(void **state)
{
    trace_log t;
    peer *p1 = peer_start_on("127.0.0.2", PEER_GREETING_CLOSE, NULL), *p2;
    probe_result r;
    size_t i, outcomes = 0, connects = 0;
    (void)state;
    assert_non_null(p1);
    p2 = peer_start_at("127.0.0.1", peer_port(p1), PEER_STARTTLS, NULL);
    assert_non_null(p2);
    r = probe_traced(p1, "drop.test", &t);
    peer_stop(p1);
    peer_stop(p2);
    assert_int_equal(r.status, PROBE_STARTTLS);
    for (i = 0; i < t.count; i++) {
        if (t.kind[i] == PROBE_TRACE_CONNECT)
            assert_string_equal(t.text[i], connects++ == 0 ? "first.drop.test 127.0.0.2"
                                                            : "second.drop.test 127.0.0.1");
        if (t.kind[i] != PROBE_TRACE_OUTCOME)
            continue;
        assert_string_equal(t.text[i], outcomes++ == 0
                                           ? "refused protocol-error: greeting: connection "
                                             "closed by the server"
                                           : "final starttls");
    }
    assert_int_equal(connects, 2);
    assert_int_equal(outcomes, 2);
    assert_string_equal(probe_trace_kind_name(PROBE_TRACE_OUTCOME), "outcome");
}

static void vocabulary_round_trips(void **state)
{
    int i;
    probe_floor f;
    (void)state;
    for (i = 0; i < PROBE_STATUS_COUNT; i++) {
        probe_status s;
        assert_int_equal(probe_status_parse(probe_status_name((probe_status)i), &s), 0);
        assert_int_equal(s, i);
    }
    assert_int_equal(probe_floor_parse("tls1.1", &f), 0);
    assert_int_equal(f, PROBE_FLOOR_TLS11);
    assert_int_equal(probe_floor_parse("ssl3", &f), -1);
    assert_true(tls_stack_available(tls_system_stack()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starttls_with_valid_certificate),
        cmocka_unit_test(no_starttls),
        cmocka_unit_test(expired_certificate),
        cmocka_unit_test(certificate_not_yet_valid),
        cmocka_unit_test(unreadable_certificate_times_are_not_expired),
        cmocka_unit_test(tls10_only_refused_at_floor_tls12),
        cmocka_unit_test(tls10_only_works_at_floor_tls10),
        cmocka_unit_test(starttls_answered_454),
        cmocka_unit_test(silent_server_times_out),
        cmocka_unit_test(garbage_is_a_protocol_error),
        cmocka_unit_test(endless_reply_is_bounded),
        cmocka_unit_test(megabyte_line_is_bounded),
        cmocka_unit_test(refused_connection),
        cmocka_unit_test(first_mx_refuses_second_works),
        cmocka_unit_test(first_mx_greets_421_second_works),
        cmocka_unit_test(only_mx_greets_554),
        cmocka_unit_test(every_mx_refuses_last_one_reported),
        cmocka_unit_test(ehlo_refused_moves_on),
        cmocka_unit_test(first_mx_drops_the_greeting_second_works),
        cmocka_unit_test(only_mx_drops_the_greeting),
        cmocka_unit_test(refusal_outranks_a_later_unreachable_host),
        cmocka_unit_test(no_mx_uses_the_domain_address),
        cmocka_unit_test(dns_outcomes),
        cmocka_unit_test(black_hole_bounded_by_total_deadline),
        cmocka_unit_test(chain_and_name_checks_when_asked),
        cmocka_unit_test(many_domains_at_once),
        cmocka_unit_test(many_silent_domains_overlap),
        cmocka_unit_test(ipv6_mx),
        cmocka_unit_test(trace_follows_the_session_in_order),
        cmocka_unit_test(trace_shows_each_hosts_outcome),
        cmocka_unit_test(vocabulary_round_trips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
