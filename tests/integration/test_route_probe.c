/* Routing decided by real probes: local SMTP peers with real TLS (one with
 * STARTTLS, one without, one with an expired certificate, one that never
 * answers) behind the tests' own DNS server. Rows 5-10 of the table end to
 * end, the expired-certificate cache filled by a probe, and several
 * domains of one message probed in parallel under one deadline. */
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
#include "engine.h"
#include "expcache.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "route_fixture.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
    store *admin;
    engine *eng;
    dnsd *dns;
} world;

static void set(world *w, const char *key, const char *value)
{
    if (store_setting_set(w->admin, key, value) != STORE_OK)
        fail_msg("%s: %s", key, store_error(w->admin));
}

static void set_port(world *w, const peer *p)
{
    char port[16];
    char err[256];
    snprintf(port, sizeof port, "%u", peer_port(p));
    set(w, "probe_port", port);
    if (engine_refresh(w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("routeprobe", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    w->dns = dnsd_start();
    assert_non_null(w->dns);
    static const char *const names[] = { "tls.test",     "plain.test",   "expired.test",
                                         "silent1.test", "silent2.test", "dane.test",
                                         "sts.test",     "unsigned.test", "forced.test",
                                         "traced.test" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char mx[64];
        snprintf(mx, sizeof mx, "mx.%s", names[i]);
        dnsd_add_mx(w->dns, names[i], 10, mx);
        dnsd_add_a(w->dns, mx, 127, 0, 0, 1);
    }
    assert_int_equal(store_open(w->db, &w->admin, err, sizeof err), STORE_OK);
    set(w, "dns_servers", dnsd_server(w->dns));
    set(w, "total_timeout_ms", "8000");
    assert_int_equal(store_rule_add(w->admin, "Plain TCP Server", w->pickup, 1, NULL), STORE_OK);
    store_rule_change on;
    store_rule_change_init(&on);
    on.expired_cert = 1;
    assert_int_equal(store_rule_update(w->admin, "Plain TCP Server", &on), STORE_OK);
    if (engine_open(w->db, &w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    engine_close(w->eng);
    store_close(w->admin);
    dnsd_stop(w->dns);
    trtest_remove_tree(w->root);
    free(w);
    return 0;
}

static const char body[] = "Subject: probe\r\n\r\nbody\r\n";

static void route_one(world *w, const char *rcpt, route_result *r)
{
    const char *rcpts[] = { rcpt };
    route_message m = { "m", "s@corp.example", rcpts, 1, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    assert_int_equal(route_run(w->eng, &m, r), 0);
}

static void each_probe_status_routes_as_the_table_says(void **state)
{
    world *w = *state;
    route_result r;

    peer *tls = peer_start(PEER_STARTTLS, NULL);
    assert_non_null(tls);
    set_port(w, tls);
    route_one(w, "a@tls.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "tls-ok");
    assert_string_equal(probe_status_name(r.decisions[0].status), "starttls");
    assert_string_equal(r.decisions[0].mx, "mx.tls.test");
    assert_true(strncmp(r.decisions[0].tls_version, "TLSv1.", 6) == 0);
    route_result_free(&r);
    peer_stop(tls);

    peer *plain = peer_start(PEER_NO_STARTTLS, NULL);
    assert_non_null(plain);
    set_port(w, plain);
    route_one(w, "b@plain.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    assert_int_equal(r.handed_off, 1);
    route_result_free(&r);
    peer_stop(plain);

    peer *expired = peer_start(PEER_EXPIRED, NULL);
    assert_non_null(expired);
    set_port(w, expired);
    route_one(w, "c@expired.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "cert-expired");
    assert_string_equal(probe_status_name(r.decisions[0].status), "cert-expired");
    route_result_free(&r);
    /* The probe put the domain into the expired-certificate cache... */
    assert_true(expcache_contains(engine_expcache(w->eng), "expired.test", plat_wall_ms()));
    /* ...so the next message goes plain at once, row 5, no connection. */
    unsigned seen = peer_connections(expired);
    route_one(w, "d@expired.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "expired-cache");
    route_result_free(&r);
    assert_int_equal(peer_connections(expired), seen);
    peer_stop(expired);

    /* All three now answered from the caches: one message, one file. */
    const char *rcpts[] = { "e@tls.test", "f@plain.test", "g@expired.test" };
    route_message m = { "m3", "s@corp.example", rcpts, 3, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_int_equal(r.decisions[1].plain, 1);
    assert_int_equal(r.decisions[2].plain, 1);
    assert_int_equal(r.decisions[0].elapsed_ms, 0);
    assert_int_equal(r.handed_off, 2);
    route_result_free(&r);
    assert_int_equal(rf_count_entries(w->pickup), 4);
}

static void domains_of_a_message_are_probed_in_parallel(void **state)
{
    world *w = *state;
    peer *silent = peer_start(PEER_SILENT, NULL);
    assert_non_null(silent);
    set(w, "total_timeout_ms", "1500");
    set(w, "reply_timeout_ms", "1500");
    set_port(w, silent);
    const char *rcpts[] = { "a@silent1.test", "b@silent2.test" };
    route_message m = { "m", "s@corp.example", rcpts, 2, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    uint64_t start = plat_now_ms();
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    uint64_t took = plat_now_ms() - start;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r.decisions[i].plain, 0);
        assert_string_equal(decide_reason_name(r.decisions[i].reason), "probe-failed");
        assert_string_equal(probe_status_name(r.decisions[i].status), "timeout");
    }
    route_result_free(&r);
    peer_stop(silent);
    /* Two 1.5 s probes side by side: about 1.5 s, not 3. */
    assert_true(took >= 1400);
    assert_true(took < 2900);
}

static void published_policies_forbid_the_downgrade(void **state)
{
    world *w = *state;
    static const unsigned char digest[32] = { 1, 2, 3 };
    /* DANE: validated TLSA records for the host of a validated MX RRset. */
    dnsd_set_ad(w->dns, "dane.test");
    dnsd_add_tlsa(w->dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(w->dns, "_25._tcp.mx.dane.test");
    /* The same records without DNSSEC prove nothing. */
    dnsd_add_tlsa(w->dns, "_25._tcp.mx.unsigned.test", 3, 1, 1, digest, sizeof digest);
    /* MTA-STS in enforce mode: the policy fetched before is in the database
     * and the TXT record's id still matches it (fetching is
     * test_mtasts_fetch's and test_route_guard's business). */
    dnsd_add_txt(w->dns, "_mta-sts.sts.test", "v=STSv1; id=20260101T000000;");
    assert_int_equal(sqlite3_exec(store_db(w->admin),
                                  "INSERT INTO sts_policy VALUES ('sts.test', "
                                  "'20260101T000000', 'enforce', 'mx.sts.test', 86400, 0, "
                                  "32503680000000)", NULL, NULL, NULL),
                     SQLITE_OK);
    /* An admin's force-plain entry stands even over DANE. */
    dnsd_set_ad(w->dns, "forced.test");
    dnsd_add_tlsa(w->dns, "_25._tcp.mx.forced.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(w->dns, "_25._tcp.mx.forced.test");
    const char *forced[] = { "forced.test" };
    assert_int_equal(store_domains_add(w->admin, "Plain TCP Server", STORE_LIST_FORCE_PLAIN,
                                       forced, 1),
                     STORE_OK);
    peer *plain = peer_start(PEER_NO_STARTTLS, NULL);
    assert_non_null(plain);
    set_port(w, plain);

    const char *rcpts[] = { "a@dane.test", "b@sts.test", "c@unsigned.test", "d@forced.test" };
    route_message m = { "m", "s@corp.example", rcpts, 4, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "dane");
    assert_string_equal(probe_status_name(r.decisions[0].status), "no-starttls");
    assert_int_equal(r.decisions[1].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[1].reason), "sts-policy");
    assert_int_equal(r.decisions[2].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[2].reason), "no-starttls");
    assert_int_equal(r.decisions[3].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[3].reason), "force-plain-list");
    assert_int_equal(r.handed_off, 2);
    route_result_free(&r);
    peer_stop(plain);
}

/* Full-debug rows of the log whose message is like pattern. */
static int full_debug_rows(world *w, const char *pattern)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(store_db(w->admin),
                           "SELECT count(*) FROM log WHERE level = 4 AND message LIKE ?1", -1,
                           &st, NULL) == SQLITE_OK
        && sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* At full-debug the probe's trace reaches the log through the engine's
 * hook; below it, nothing of it does. */
static void full_debug_logs_the_probe_trace(void **state)
{
    world *w = *state;
    route_result r;
    peer *tls = peer_start(PEER_STARTTLS, NULL);
    assert_non_null(tls);
    set_port(w, tls);
    route_one(w, "a@tls.test", &r);
    route_result_free(&r);
    assert_int_equal(full_debug_rows(w, "probe %"), 0);

    set(w, "log_level", "full-debug");
    set_port(w, tls); /* and reload */
    route_one(w, "b@traced.test", &r);
    assert_int_equal(r.decisions[0].status, PROBE_STARTTLS);
    route_result_free(&r);
    peer_stop(tls);
    assert_int_equal(full_debug_rows(w, "probe traced.test: connect mx.traced.test 127.0.0.1"), 1);
    assert_int_equal(full_debug_rows(w, "probe traced.test: state greeting"), 1);
    assert_int_equal(full_debug_rows(w, "probe traced.test: command STARTTLS"), 1);
    assert_int_equal(full_debug_rows(w, "probe traced.test: tls TLSv1.%"), 1);
    assert_int_equal(full_debug_rows(w, "probe traced.test: outcome final starttls"), 1);
    assert_int_equal(full_debug_rows(w, "probe tls.test:%"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_probe_status_routes_as_the_table_says, setup, teardown),
        cmocka_unit_test_setup_teardown(domains_of_a_message_are_probed_in_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(published_policies_forbid_the_downgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(full_debug_logs_the_probe_trace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
