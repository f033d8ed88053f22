/* guard: MTA-STS and DANE for row 4 against the tests' DNS responder (AD
 * bit, TLSA, TXT) and a real HTTPS policy server with a test CA; and
 * `tlsrouter probe` showing the guards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dnsd.h"
#include "guard.h"
#include "peer.h"
#include "plat.h"
#include "stsd.h"
#include "trtest.h"

static const char enforce_policy[] = "version: STSv1\nmode: enforce\nmx: mx.enforce.test\n"
                                     "max_age: 86400\n";
static const char testing_policy[] = "version: STSv1\nmode: testing\nmx: mx.testing.test\n"
                                     "max_age: 86400\n";

typedef struct {
    trtest_scratch dir;
    char ca_file[PLAT_PATH_MAX];
    certgen_pair ca, enforce_cert, testing_cert;
    dnsd *dns;
    stsd *enforce, *testing;
    guard_options opt;
    trtest_result res;
} fixture;

static const unsigned char digest[32] = { 0xde, 0xad, 0xbe, 0xef };

static void add_domain(dnsd *d, const char *domain, const char *mx)
{
    dnsd_add_mx(d, domain, 10, mx);
    dnsd_add_a(d, mx, 127, 0, 0, 1);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_scratch_make(&f->dir, "guard") != 0 ||
        trtest_join(f->ca_file, sizeof f->ca_file, f->dir.path, "ca.pem") != 0 ||
        certgen_make_ca("Guard Test CA", &f->ca) != 0 ||
        certgen_make("mta-sts.enforce.test", -60, 86400, &f->ca, &f->enforce_cert) != 0 ||
        certgen_make("mta-sts.testing.test", -60, 86400, &f->ca, &f->testing_cert) != 0 ||
        certgen_write_pem(&f->ca, f->ca_file) != 0 || !(f->dns = dnsd_start()) ||
        !(f->enforce = stsd_start(STSD_POLICY, &f->enforce_cert, enforce_policy)) ||
        !(f->testing = stsd_start(STSD_POLICY, &f->testing_cert, testing_policy)))
        return -1;
    add_domain(f->dns, "enforce.test", "mx.enforce.test");
    dnsd_add_txt(f->dns, "_mta-sts.enforce.test", "v=STSv1; id=e1");
    add_domain(f->dns, "testing.test", "mx.testing.test");
    dnsd_add_txt(f->dns, "_mta-sts.testing.test", "v=STSv1; id=t1");
    /* DANE: usable DANE-EE SHA-256 record, validated, under a validated MX
     * RRset (RFC 7672 2.2 needs both). */
    add_domain(f->dns, "dane.test", "mx.dane.test");
    dnsd_set_ad(f->dns, "dane.test");
    dnsd_add_tlsa(f->dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(f->dns, "_25._tcp.mx.dane.test");
    /* The same records without DNSSEC validation. */
    add_domain(f->dns, "insecure.test", "mx.insecure.test");
    dnsd_set_ad(f->dns, "insecure.test");
    dnsd_add_tlsa(f->dns, "_25._tcp.mx.insecure.test", 3, 1, 1, digest, sizeof digest);
    /* Validated TLSA records, but the MX RRset naming the host is not. */
    add_domain(f->dns, "mxinsecure.test", "mx.mxinsecure.test");
    dnsd_add_tlsa(f->dns, "_25._tcp.mx.mxinsecure.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(f->dns, "_25._tcp.mx.mxinsecure.test");
    /* The same with an MTA-STS record whose policy cannot be had. */
    add_domain(f->dns, "mxinsecure-sts.test", "mx.mxinsecure.test");
    dnsd_add_txt(f->dns, "_mta-sts.mxinsecure-sts.test", "v=STSv1; id=s2");
    add_domain(f->dns, "plain.test", "mx.plain.test");
    guard_options_default(&f->opt);
    f->opt.dns_servers = dnsd_server(f->dns);
    f->opt.sts.ca_file = f->ca_file;
    f->opt.sts.connect_ip = "127.0.0.1";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    trtest_result_free(&f->res);
    stsd_stop(f->enforce);
    stsd_stop(f->testing);
    dnsd_stop(f->dns);
    certgen_free(&f->ca);
    certgen_free(&f->enforce_cert);
    certgen_free(&f->testing_cert);
    trtest_scratch_remove(&f->dir);
    free(f);
    return 0;
}

static void check(fixture *f, const char *domain, stsd *server, guard_result *g)
{
    f->opt.sts.port = server ? stsd_port(server) : 9; /* discard: nothing listens */
    guard_check(NULL, NULL, domain, &f->opt, plat_now_ms() + 10000, g);
}

static void test_enforce_policy(void **state)
{
    fixture *f = *state;
    guard_result g;
    check(f, "enforce.test", f->enforce, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_STS);
    assert_false(g.warn);
    assert_int_equal(g.sts_mode, MTASTS_MODE_ENFORCE);
    assert_string_equal(g.sts_id, "e1");
    /* DANE is asked at the same time; the enforce policy decides. */
    assert_true(g.dane_checked);
    assert_false(g.dane);
    assert_non_null(strstr(g.detail, "MTA-STS policy (enforce, id e1) requires TLS"));
}

static void test_testing_policy_warns(void **state)
{
    fixture *f = *state;
    guard_result g;
    check(f, "testing.test", f->testing, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    assert_true(g.warn);
    assert_int_equal(g.sts_mode, MTASTS_MODE_TESTING);
    assert_true(g.dane_checked);
    assert_false(g.dane);
    assert_non_null(strstr(g.detail, "testing mode (id t1)"));
}

static void test_dane_validated(void **state)
{
    fixture *f = *state;
    guard_result g;
    check(f, "dane.test", NULL, &g);
    assert_int_equal(g.sts_status, MTASTS_NONE);
    assert_int_equal(g.policy, DECIDE_POLICY_DANE);
    assert_true(g.dane);
    assert_string_equal(g.dane_mx, "mx.dane.test");
    assert_non_null(strstr(g.detail, "DNSSEC-validated TLSA"));
}

static void test_dane_not_validated(void **state)
{
    fixture *f = *state;
    guard_result g;
    check(f, "insecure.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    assert_true(g.dane_checked);
    assert_false(g.dane);
    check(f, "plain.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    assert_false(g.warn);
    assert_false(g.transient);
    assert_string_equal(g.detail, "");
}

/* RFC 7672 2.2: TLSA records count only when the MX RRset that named the
 * host is DNSSEC-validated too; the detail says why DANE does not apply. */
static void test_dane_needs_validated_mx(void **state)
{
    fixture *f = *state;
    guard_result g;
    check(f, "mxinsecure.test", NULL, &g);
    assert_true(g.dane_checked);
    assert_false(g.dane);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    assert_string_equal(g.dane_mx, "");
    assert_false(g.warn);
    assert_false(g.transient);
    assert_non_null(strstr(g.detail, "DANE does not apply"));
    assert_non_null(strstr(g.detail, "_25._tcp.mx.mxinsecure.test is DNSSEC-validated"));
    assert_non_null(strstr(g.detail, "MX records of mxinsecure.test are not"));
}

static void test_dane_reason_follows_sts_warning(void **state)
{
    fixture *f = *state;
    guard_result g;
    /* No policy server answers for this domain: the MTA-STS record is
     * announced but its policy cannot be had (a warning), and DANE does not
     * apply either; the detail keeps both. */
    check(f, "mxinsecure-sts.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    assert_true(g.warn);
    assert_non_null(strstr(g.detail, "MTA-STS record, but no policy"));
    assert_non_null(strstr(g.detail, "; DANE does not apply"));
}

static void test_guards_switched_off(void **state)
{
    fixture *f = *state;
    guard_result g;
    f->opt.mta_sts = 0;
    check(f, "enforce.test", f->enforce, &g);
    assert_false(g.sts_checked);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    f->opt.dane = 0;
    check(f, "dane.test", NULL, &g);
    assert_false(g.dane_checked);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
    f->opt.mta_sts = 1;
    f->opt.dane = 1;
}

/* A look-up that never answers: the guard waits for its deadline, not
 * longer (within 20%), and keeps the domain on TLS (fail closed). */
static void test_deadline_bounds_the_guard(void **state)
{
    fixture *f = *state;
    guard_result g;
    uint64_t start, took;
    dnsd_add_mx(f->dns, "slow.test", 10, "mx.slow.test");
    dnsd_set_silent(f->dns, "_mta-sts.slow.test");
    dnsd_set_silent(f->dns, "_25._tcp.mx.slow.test");
    start = plat_now_ms();
    guard_check(NULL, NULL, "slow.test", &f->opt, start + 1200, &g);
    took = plat_now_ms() - start;
    if (took < 1100 || took > 1440)
        print_error("the guard took %llu ms for a 1200 ms deadline\n", (unsigned long long)took);
    assert_true(took >= 1100 && took <= 1440);
    assert_int_equal(g.policy, DECIDE_POLICY_UNKNOWN);
    assert_true(g.sts_unknown);
    assert_true(g.transient);
    assert_non_null(strstr(g.detail, "no answer to the TXT look-up of _mta-sts.slow.test"));
}

/* SERVFAIL on the TXT query: fail closed too, at once. */
static void test_txt_servfail_is_unknown(void **state)
{
    fixture *f = *state;
    guard_result g;
    add_domain(f->dns, "txtfail.test", "mx.txtfail.test");
    dnsd_set_rcode(f->dns, "_mta-sts.txtfail.test", 2);
    check(f, "txtfail.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_UNKNOWN);
    assert_non_null(strstr(g.detail, "_mta-sts.txtfail.test"));
    /* Without the MTA-STS guard the same domain has no policy. */
    f->opt.mta_sts = 0;
    check(f, "txtfail.test", NULL, &g);
    f->opt.mta_sts = 1;
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
}

/* RFC 7672 2.2: under a DNSSEC-validated MX RRset a TLSA look-up that
 * fails is a temporary failure; under an insecure one DANE cannot apply. */
static void test_tlsa_servfail_under_validated_mx(void **state)
{
    fixture *f = *state;
    guard_result g;
    add_domain(f->dns, "tlsafail.test", "mx.tlsafail.test");
    dnsd_set_ad(f->dns, "tlsafail.test");
    dnsd_set_rcode(f->dns, "_25._tcp.mx.tlsafail.test", 2);
    check(f, "tlsafail.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_UNKNOWN);
    assert_true(g.dane_unknown);
    assert_false(g.sts_unknown);
    assert_non_null(strstr(g.detail, "TLSA look-up of _25._tcp.mx.tlsafail.test"));
    add_domain(f->dns, "tlsafail-insecure.test", "mx.tlsafail-insecure.test");
    dnsd_set_rcode(f->dns, "_25._tcp.mx.tlsafail-insecure.test", 2);
    check(f, "tlsafail-insecure.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_NONE);
}

/* No answer for the MX RRset: whether it is signed is unknown. */
static void test_mx_servfail_is_unknown(void **state)
{
    fixture *f = *state;
    guard_result g;
    dnsd_set_rcode(f->dns, "mxfail.test", 2);
    check(f, "mxfail.test", NULL, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_UNKNOWN);
    assert_true(g.dane_unknown);
    assert_non_null(strstr(g.detail, "MX look-up of mxfail.test"));
}

/* A silent TXT query does not use up the time DANE needs: the two run at
 * once, and validated TLSA records still keep the domain on TLS. */
static void test_dane_answers_beside_a_silent_txt(void **state)
{
    fixture *f = *state;
    guard_result g;
    add_domain(f->dns, "danesilent.test", "mx.danesilent.test");
    dnsd_set_ad(f->dns, "danesilent.test");
    dnsd_add_tlsa(f->dns, "_25._tcp.mx.danesilent.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(f->dns, "_25._tcp.mx.danesilent.test");
    dnsd_set_silent(f->dns, "_mta-sts.danesilent.test");
    guard_check(NULL, NULL, "danesilent.test", &f->opt, plat_now_ms() + 1000, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_DANE);
    assert_string_equal(g.dane_mx, "mx.danesilent.test");
}

/* A policy learnt before stays in force when the TXT query is blocked. */
static void test_cached_policy_outlives_a_silent_txt(void **state)
{
    fixture *f = *state;
    guard_result g;
    stscache *cache = stscache_new();
    assert_non_null(cache);
    f->opt.sts.port = stsd_port(f->enforce);
    guard_check(cache, NULL, "enforce.test", &f->opt, plat_now_ms() + 5000, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_STS);
    dnsd_set_silent(f->dns, "_mta-sts.enforce.test");
    guard_check(cache, NULL, "enforce.test", &f->opt, plat_now_ms() + 800, &g);
    assert_int_equal(g.policy, DECIDE_POLICY_STS);
    stscache_free(cache);
}

/* ---- tlsrouter probe shows the guards ----------------------------------- */

static int run_cli(fixture *f, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, f->dir.db, dnsd_server(f->dns), args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run_cli((f), (const char *const[]){ __VA_ARGS__, NULL })

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_cli_probe_shows_guards(void **state)
{
    fixture *f = *state;
    peer *p = peer_start(PEER_NO_STARTTLS, NULL);
    char port[16];
    assert_non_null(p);
    snprintf(port, sizeof port, "%u", peer_port(p));
    /* TLSA records are at _25._tcp whatever port the probe uses; the
     * MTA-STS policy is the one the router fetched before, in its database
     * (the TXT id still matches). */
    assert_int_equal(RUN(f, "probe", "plain.test", "--json", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "\"status\":\"no-starttls\""));
    assert_non_null(strstr(f->res.out, "\"mta_sts\":null"));
    assert_non_null(strstr(f->res.out, "\"dane\":false"));
    assert_non_null(strstr(f->res.out, "\"guard\":null"));
    /* A TXT look-up answered SERVFAIL: routing would keep it on TLS. */
    dnsd_set_rcode(f->dns, "_mta-sts.plain.test", 2);
    assert_int_equal(RUN(f, "probe", "plain.test", "--json", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "\"guard\":\"guard-unknown\""));
    dnsd_set_rcode(f->dns, "_mta-sts.plain.test", 0);
    assert_int_equal(RUN(f, "probe", "dane.test", "--json", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "\"dane\":true"));
    assert_non_null(strstr(f->res.out, "\"guard\":\"dane\""));
    exec_sql(f->dir.db, "INSERT INTO sts_policy VALUES ('enforce.test', 'e1', 'enforce', "
                        "'mx.enforce.test', 86400, 0, 32503680000000)");
    assert_int_equal(RUN(f, "probe", "enforce.test", "--json", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "\"mta_sts\":{\"mode\":\"enforce\",\"id\":\"e1\"}"));
    assert_non_null(strstr(f->res.out, "\"guard\":\"sts-policy\""));
    assert_int_equal(RUN(f, "probe", "enforce.test", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "mta-sts:     enforce, id e1"));
    assert_non_null(strstr(f->res.out, "guard:       MTA-STS policy (enforce, id e1)"));
    /* The policy is listed with the caches, and forgotten by clear --all. */
    assert_int_equal(RUN(f, "cache", "list", "--json"), 0);
    assert_non_null(strstr(f->res.out, "{\"cache\":\"mta-sts\",\"domain\":\"enforce.test\","
                                       "\"mode\":\"enforce\",\"id\":\"e1\""));
    assert_int_equal(RUN(f, "cache", "list"), 0);
    assert_non_null(strstr(f->res.out, "mta-sts policies:"));
    assert_non_null(strstr(f->res.out, "enforce.test"));
    assert_int_equal(RUN(f, "cache", "clear", "--all"), 0);
    assert_non_null(strstr(f->res.out, "cleared 1 MTA-STS policy"));
    assert_int_equal(RUN(f, "cache", "list"), 0);
    assert_non_null(strstr(f->res.out, "mta-sts policies: none"));
    /* Switched off, the guards are not asked. */
    exec_sql(f->dir.db, "UPDATE settings SET value = '0' WHERE key IN ('guard_mta_sts', "
                        "'guard_dane')");
    assert_int_equal(RUN(f, "probe", "dane.test", "--json", "--port", port), 0);
    assert_non_null(strstr(f->res.out, "\"mta_sts\":null"));
    assert_non_null(strstr(f->res.out, "\"dane\":null"));
    peer_stop(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enforce_policy),
        cmocka_unit_test(test_testing_policy_warns),
        cmocka_unit_test(test_dane_validated),
        cmocka_unit_test(test_dane_not_validated),
        cmocka_unit_test(test_dane_needs_validated_mx),
        cmocka_unit_test(test_dane_reason_follows_sts_warning),
        cmocka_unit_test(test_guards_switched_off),
        cmocka_unit_test(test_deadline_bounds_the_guard),
        cmocka_unit_test(test_txt_servfail_is_unknown),
        cmocka_unit_test(test_tlsa_servfail_under_validated_mx),
        cmocka_unit_test(test_mx_servfail_is_unknown),
        cmocka_unit_test(test_dane_answers_beside_a_silent_txt),
        cmocka_unit_test(test_cached_policy_outlives_a_silent_txt),
        cmocka_unit_test(test_cli_probe_shows_guards),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
