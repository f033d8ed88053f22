/* MTA-STS against real peers on loopback: the tests' DNS responder serves
 * the TXT records, an HTTPS server with a certificate from a test CA made
 * here serves the policy (or misbehaves), and the client trusts only that
 * CA. mta-sts.<domain> is reached through the connect_ip/port test hook;
 * the certificate is still checked against the name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "mtasts.h"
#include "plat.h"
#include "store.h"
#include "stscache.h"
#include "stsd.h"
#include "trtest.h"

#define DOMAIN "example.test"
#define HOST "mta-sts." DOMAIN

static const char enforce_policy[] = "version: STSv1\r\nmode: enforce\r\n"
                                     "mx: mx.example.test\r\nmx: *.backup.example.test\r\n"
                                     "max_age: 86400\r\n";
static const char testing_policy[] = "version: STSv1\nmode: testing\nmx: mx.example.test\n"
                                     "max_age: 3600\n";

typedef struct {
    char dir[512], ca_file[600];
    certgen_pair ca, good, wrong_name, untrusted;
    dnsd *dns;
    stsd *https;
    mtasts_options opt;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_temp_dir("mtasts", f->dir, sizeof f->dir) != 0 ||
        trtest_join(f->ca_file, sizeof f->ca_file, f->dir, "ca.pem") != 0 ||
        certgen_make_ca("TLS Router Test CA", &f->ca) != 0 ||
        certgen_make(HOST, -3600, 86400, &f->ca, &f->good) != 0 ||
        certgen_make("mta-sts.elsewhere.test", -3600, 86400, &f->ca, &f->wrong_name) != 0 ||
        certgen_make(HOST, -3600, 86400, NULL, &f->untrusted) != 0 ||
        certgen_write_pem(&f->ca, f->ca_file) != 0 || !(f->dns = dnsd_start()))
        return -1;
    dnsd_add_txt(f->dns, "_mta-sts." DOMAIN, "v=STSv1; id=2024one;");
    f->opt.dns_servers = dnsd_server(f->dns);
    f->opt.ca_file = f->ca_file;
    f->opt.connect_ip = "127.0.0.1";
    f->opt.timeout_ms = 10000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    stsd_stop(f->https);
    dnsd_stop(f->dns);
    certgen_free(&f->ca);
    certgen_free(&f->good);
    certgen_free(&f->wrong_name);
    certgen_free(&f->untrusted);
    trtest_remove_tree(f->dir);
    free(f);
    return 0;
}

static void serve(fixture *f, stsd_kind kind, const certgen_pair *cert, const char *body)
{
    stsd_stop(f->https);
    f->https = stsd_start(kind, cert, body);
    assert_non_null(f->https);
    f->opt.port = stsd_port(f->https);
}

/* Fetch and expect failure; returns the milliseconds it took. */
static uint64_t fetch_fails(fixture *f, mtasts_status want, const char *needle)
{
    mtasts_policy p;
    char err[MTASTS_ERR_MAX] = "";
    uint64_t start = plat_now_ms();
    mtasts_status st = mtasts_fetch(DOMAIN, &f->opt, &p, err, sizeof err);
    uint64_t took = plat_now_ms() - start;
    if (st != want || !strstr(err, needle))
        print_error("status %s, error \"%s\" (wanted \"%s\")\n", mtasts_status_name(st), err,
                    needle);
    assert_int_equal(st, want);
    assert_non_null(strstr(err, needle));
    return took;
}

static void test_fetch_enforce(void **state)
{
    fixture *f = *state;
    mtasts_policy p;
    char err[MTASTS_ERR_MAX] = "", host[256], path[256];
    serve(f, STSD_POLICY, &f->good, enforce_policy);
    assert_int_equal(mtasts_fetch(DOMAIN, &f->opt, &p, err, sizeof err), MTASTS_OK);
    assert_int_equal(p.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(p.max_age, 86400);
    assert_int_equal(p.mx_count, 2);
    assert_true(mtasts_mx_allowed(&p, "a.backup.example.test"));
    stsd_last_request(f->https, host, sizeof host, path, sizeof path);
    assert_string_equal(host, HOST);
    assert_string_equal(path, "/.well-known/mta-sts.txt");
}

static void test_fetch_testing_chunked(void **state)
{
    fixture *f = *state;
    mtasts_policy p;
    char err[MTASTS_ERR_MAX] = "";
    serve(f, STSD_CHUNKED, &f->good, testing_policy);
    assert_int_equal(mtasts_fetch(DOMAIN, &f->opt, &p, err, sizeof err), MTASTS_OK);
    assert_int_equal(p.mode, MTASTS_MODE_TESTING);
    assert_int_equal(p.max_age, 3600);
    assert_string_equal(p.mx[0], "mx.example.test");
}

static void test_fetch_redirect_fails(void **state)
{
    fixture *f = *state;
    serve(f, STSD_REDIRECT, &f->good, enforce_policy);
    fetch_fails(f, MTASTS_FETCH_FAILED, "redirects are not followed");
    assert_int_equal(stsd_requests(f->https), 1); /* and nothing else was asked */
}

static void test_fetch_huge_is_bounded(void **state)
{
    fixture *f = *state;
    serve(f, STSD_HUGE, &f->good, "");
    assert_true(fetch_fails(f, MTASTS_FETCH_FAILED, "exceeds 65536 bytes") < 10000);
}

static void test_fetch_silent_hits_deadline(void **state)
{
    fixture *f = *state;
    uint64_t took;
    f->opt.timeout_ms = 1500;
    serve(f, STSD_SILENT, &f->good, enforce_policy);
    took = fetch_fails(f, MTASTS_FETCH_FAILED, "deadline");
    assert_true(took >= 1400 && took < 6000);
    f->opt.timeout_ms = 10000;
}

static void test_fetch_drip_hits_deadline(void **state)
{
    fixture *f = *state;
    uint64_t took;
    f->opt.timeout_ms = 2000;
    serve(f, STSD_DRIP, &f->good, enforce_policy);
    took = fetch_fails(f, MTASTS_FETCH_FAILED, "deadline");
    assert_true(took >= 1900 && took < 7000);
    f->opt.timeout_ms = 10000;
}

static void test_fetch_wrong_name_fails(void **state)
{
    fixture *f = *state;
    serve(f, STSD_POLICY, &f->wrong_name, enforce_policy);
    fetch_fails(f, MTASTS_FETCH_FAILED, "hostname mismatch");
    assert_int_equal(stsd_requests(f->https), 0); /* no request before a valid cert */
}

static void test_fetch_untrusted_fails(void **state)
{
    fixture *f = *state;
    serve(f, STSD_POLICY, &f->untrusted, enforce_policy);
    fetch_fails(f, MTASTS_FETCH_FAILED, "certificate of " HOST " is not valid");
}

static void test_fetch_wrong_type_fails(void **state)
{
    fixture *f = *state;
    serve(f, STSD_HTML, &f->good, enforce_policy);
    fetch_fails(f, MTASTS_FETCH_FAILED, "text/html");
}

static void test_fetch_invalid_policy(void **state)
{
    fixture *f = *state;
    serve(f, STSD_POLICY, &f->good, "version: STSv1\nmode: strict\nmax_age: 1\n");
    fetch_fails(f, MTASTS_INVALID, "line 2: the policy needs exactly one mode");
}

static void test_fetch_nothing_listening(void **state)
{
    fixture *f = *state;
    serve(f, STSD_POLICY, &f->good, enforce_policy);
    stsd_stop(f->https);
    f->https = NULL;
    fetch_fails(f, MTASTS_FETCH_FAILED, "connecting to " HOST);
}

static void test_discover(void **state)
{
    fixture *f = *state;
    mtasts_txt t;
    char err[MTASTS_ERR_MAX] = "";
    uint64_t deadline = plat_now_ms() + 5000;
    assert_int_equal(mtasts_discover(DOMAIN, &f->opt, deadline, &t, err, sizeof err),
                     MTASTS_OK);
    assert_string_equal(t.id, "2024one");
    assert_int_equal(mtasts_discover("nosts.test", &f->opt, deadline, &t, err, sizeof err),
                     MTASTS_NONE);
    dnsd_set_rcode(f->dns, "_mta-sts.broken.test", 2);
    assert_int_equal(mtasts_discover("broken.test", &f->opt, deadline, &t, err, sizeof err),
                     MTASTS_DNS_FAILED);
}

/* ---- the cache ---------------------------------------------------------- */

static void test_cache_max_age_and_id(void **state)
{
    fixture *f = *state;
    stscache *c = stscache_new();
    stscache_result r;
    int64_t now = 1700000000000;
    dnsd *dns2;
    assert_non_null(c);
    serve(f, STSD_POLICY, &f->good, enforce_policy);

    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now, &r), MTASTS_OK);
    assert_true(r.fetched);
    assert_string_equal(r.id, "2024one");
    assert_int_equal(r.policy.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(r.expires_ms, now + 86400 * 1000LL);
    /* Same id, within max_age: no fetch. */
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 1000, &r), MTASTS_OK);
    assert_false(r.fetched);
    assert_int_equal(stsd_requests(f->https), 1);
    /* max_age ran out: fetched again, with the policy now served. */
    stsd_set_body(f->https, testing_policy);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 86400 * 1000LL, &r),
                     MTASTS_OK);
    assert_true(r.fetched);
    assert_int_equal(r.policy.mode, MTASTS_MODE_TESTING);
    assert_int_equal(stsd_requests(f->https), 2);
    /* The TXT id changes: fetched again at once. */
    dns2 = dnsd_start();
    assert_non_null(dns2);
    dnsd_add_txt(dns2, "_mta-sts." DOMAIN, "v=STSv1; id=2024two");
    f->opt.dns_servers = dnsd_server(dns2);
    stsd_set_body(f->https, enforce_policy);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 86401 * 1000LL, &r),
                     MTASTS_OK);
    assert_true(r.fetched);
    assert_string_equal(r.id, "2024two");
    assert_int_equal(r.policy.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(stsd_requests(f->https), 3);
    f->opt.dns_servers = dnsd_server(f->dns);
    dnsd_stop(dns2);
    stscache_free(c);
}

static void test_cache_survives_outages(void **state)
{
    fixture *f = *state;
    stscache *c = stscache_new();
    stscache_result r;
    int64_t now = 1700000000000;
    dnsd *empty = dnsd_start();
    assert_non_null(c);
    assert_non_null(empty);
    serve(f, STSD_POLICY, &f->good, enforce_policy);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now, &r), MTASTS_OK);
    /* The TXT record vanishes (an attacker drops it): the policy holds. */
    f->opt.dns_servers = dnsd_server(empty);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 5000, &r), MTASTS_OK);
    assert_int_equal(r.policy.mode, MTASTS_MODE_ENFORCE);
    assert_false(r.fetched);
    /* ... until it expires. */
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 86400 * 1000LL, &r),
                     MTASTS_NONE);
    /* A new id whose policy cannot be fetched keeps the old one in force. */
    f->opt.dns_servers = dnsd_server(f->dns);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now, &r), MTASTS_OK);
    assert_string_equal(r.id, "2024one");
    dnsd_add_txt(empty, "_mta-sts." DOMAIN, "v=STSv1; id=2024new");
    f->opt.dns_servers = dnsd_server(empty);
    serve(f, STSD_REDIRECT, &f->good, "");
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now + 1000, &r), MTASTS_OK);
    assert_true(r.fetched);
    assert_string_equal(r.id, "2024one");
    assert_int_equal(r.policy.mode, MTASTS_MODE_ENFORCE);
    assert_non_null(strstr(r.error, "redirect"));
    /* With nothing cached, the failure shows. */
    stscache_clear(c, NULL);
    assert_int_equal(stscache_lookup(c, NULL, DOMAIN, &f->opt, now, &r), MTASTS_FETCH_FAILED);
    assert_non_null(strstr(r.error, "redirect"));
    f->opt.dns_servers = dnsd_server(f->dns);
    dnsd_stop(empty);
    stscache_free(c);
}

static void test_cache_in_database(void **state)
{
    fixture *f = *state;
    char path[700], err[256];
    store *db = NULL;
    stscache *c1 = stscache_new(), *c2 = stscache_new();
    stscache_result r;
    int64_t now = 1700000000000;
    assert_int_equal(trtest_join(path, sizeof path, f->dir, "sts.db"), 0);
    assert_int_equal(store_open(path, &db, err, sizeof err), STORE_OK);
    serve(f, STSD_POLICY, &f->good, enforce_policy);
    assert_int_equal(stscache_lookup(c1, db, DOMAIN, &f->opt, now, &r), MTASTS_OK);
    assert_true(r.fetched);
    /* A second cache (a restarted service) finds it in the database. */
    assert_int_equal(stscache_lookup(c2, db, DOMAIN, &f->opt, now + 10, &r), MTASTS_OK);
    assert_false(r.fetched);
    assert_int_equal(r.policy.mx_count, 2);
    assert_string_equal(r.policy.mx[1], "*.backup.example.test");
    assert_int_equal(stsd_requests(f->https), 1);
    /* The listing the CLI shows: the stored row, every column. */
    stscache_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(stscache_list(db, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].domain, DOMAIN);
    assert_string_equal(rows[0].id, r.id);
    assert_string_equal(rows[0].mode, "enforce");
    assert_int_equal(rows[0].max_age, r.policy.max_age);
    assert_int_equal(rows[0].fetched_ms, now);
    assert_int_equal(rows[0].expires_ms, r.expires_ms);
    free(rows);
    assert_int_equal(stscache_clear(c2, db), 1);
    assert_int_equal(stscache_list(db, &rows, &n, err, sizeof err), 0);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(stscache_clear(NULL, db), 0);
    assert_int_equal(stscache_clear(c1, NULL), 0);
    stscache_free(c1);
    assert_int_equal(stscache_lookup(c2, db, DOMAIN, &f->opt, now + 20, &r), MTASTS_OK);
    assert_true(r.fetched);
    stscache_free(c2);
    store_close(db);
}

static void test_guard_settings_default_on(void **state)
{
    fixture *f = *state;
    char path[700], err[256];
    store *db = NULL;
    assert_int_equal(trtest_join(path, sizeof path, f->dir, "settings.db"), 0);
    assert_int_equal(store_open(path, &db, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_int(db, "guard_mta_sts", -1), 1);
    assert_int_equal(store_setting_int(db, "guard_dane", -1), 1);
    assert_int_equal(store_setting_set(db, "guard_dane", "0"), STORE_OK);
    assert_int_equal(store_setting_int(db, "guard_dane", -1), 0);
    assert_int_equal(store_setting_set(db, "guard_mta_sts", "2"), STORE_ERR_INVALID);
    store_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_enforce),
        cmocka_unit_test(test_fetch_testing_chunked),
        cmocka_unit_test(test_fetch_redirect_fails),
        cmocka_unit_test(test_fetch_huge_is_bounded),
        cmocka_unit_test(test_fetch_silent_hits_deadline),
        cmocka_unit_test(test_fetch_drip_hits_deadline),
        cmocka_unit_test(test_fetch_wrong_name_fails),
        cmocka_unit_test(test_fetch_untrusted_fails),
        cmocka_unit_test(test_fetch_wrong_type_fails),
        cmocka_unit_test(test_fetch_invalid_policy),
        cmocka_unit_test(test_fetch_nothing_listening),
        cmocka_unit_test(test_discover),
        cmocka_unit_test(test_cache_max_age_and_id),
        cmocka_unit_test(test_cache_survives_outages),
        cmocka_unit_test(test_cache_in_database),
        cmocka_unit_test(test_guard_settings_default_on),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
