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

#include "expcache.h"
#include "route_world.h"

static const char body[] = "Subject: probe\r\n\r\nbody\r\n";

static int setup(void **state)
{
    static const char *const names[] = { "tls.test",     "plain.test",   "expired.test",
                                         "silent1.test", "silent2.test", "dane.test",
                                         "sts.test",     "unsigned.test", "forced.test",
                                         "traced.test" };
    route_world *w = route_world_open("routeprobe");
    w->body = body;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        dnsd_add_domain(w->dns, names[i]);
    route_world_add_rule(w, 1);
    route_world_start(w);
    *state = w;
    return 0;
}

static void each_probe_status_routes_as_the_table_says(void **state)
{
    route_world *w = *state;
    route_result r;

    route_world_serve(w, peer_start(PEER_STARTTLS, NULL));
    route_world_route_one(w, "a@tls.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "tls-ok");
    assert_string_equal(probe_status_name(r.decisions[0].status), "starttls");
    assert_string_equal(r.decisions[0].mx, "mx.tls.test");
    assert_true(strncmp(r.decisions[0].tls_version, "TLSv1.", 6) == 0);
    route_result_free(&r);

    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));
    route_world_route_one(w, "b@plain.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    assert_int_equal(r.handed_off, 1);
    route_result_free(&r);

    route_world_serve(w, peer_start(PEER_EXPIRED, NULL));
    route_world_route_one(w, "c@expired.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "cert-expired");
    assert_string_equal(probe_status_name(r.decisions[0].status), "cert-expired");
    route_result_free(&r);
    /* The probe put the domain into the expired-certificate cache... */
    assert_true(expcache_contains(engine_expcache(w->eng), "expired.test", plat_wall_ms()));
    /* ...so the next message goes plain at once, row 5, no connection. */
    unsigned seen = peer_connections(w->mx);
    route_world_route_one(w, "d@expired.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "expired-cache");
    route_result_free(&r);
    assert_int_equal(peer_connections(w->mx), seen);

    /* All three now answered from the caches: one message, one file. */
    const char *rcpts[] = { "e@tls.test", "f@plain.test", "g@expired.test" };
    route_world_route(w, rcpts, 3, &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_int_equal(r.decisions[1].plain, 1);
    assert_int_equal(r.decisions[2].plain, 1);
    assert_int_equal(r.decisions[0].elapsed_ms, 0);
    assert_int_equal(r.handed_off, 2);
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 4);
}

static void domains_of_a_message_are_probed_in_parallel(void **state)
{
    route_world *w = *state;
    route_world_set(w, "total_timeout_ms", "1500");
    route_world_set(w, "reply_timeout_ms", "1500");
    route_world_serve(w, peer_start(PEER_SILENT, NULL));
    const char *rcpts[] = { "a@silent1.test", "b@silent2.test" };
    route_result r;
    uint64_t start = plat_now_ms();
    route_world_route(w, rcpts, 2, &r);
    uint64_t took = plat_now_ms() - start;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r.decisions[i].plain, 0);
        assert_string_equal(decide_reason_name(r.decisions[i].reason), "probe-failed");
        assert_string_equal(probe_status_name(r.decisions[i].status), "timeout");
    }
    route_result_free(&r);
    /* Two 1.5 s probes side by side: about 1.5 s, not 3. */
    assert_true(took >= 1400);
    assert_true(took < 2900);
}

static void published_policies_forbid_the_downgrade(void **state)
{
    route_world *w = *state;
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
    route_world_known_policy(w, "sts.test", "20260101T000000", "enforce");
    /* An admin's force-plain entry stands even over DANE. */
    dnsd_set_ad(w->dns, "forced.test");
    dnsd_add_tlsa(w->dns, "_25._tcp.mx.forced.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(w->dns, "_25._tcp.mx.forced.test");
    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "forced.test");
    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));

    const char *rcpts[] = { "a@dane.test", "b@sts.test", "c@unsigned.test", "d@forced.test" };
    route_result r;
    route_world_route(w, rcpts, 4, &r);
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
}

/* Full-debug rows of the log whose message is like pattern. */
static int64_t full_debug_rows(route_world *w, const char *pattern)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM log WHERE level = 4 AND message LIKE '%s'",
             pattern);
    return route_world_int(w, sql);
}

/* At full-debug the probe's trace reaches the log through the engine's
 * hook; below it, nothing of it does. */
static void full_debug_logs_the_probe_trace(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_serve(w, peer_start(PEER_STARTTLS, NULL));
    route_world_route_one(w, "a@tls.test", &r);
    route_result_free(&r);
    assert_int_equal(full_debug_rows(w, "probe %"), 0);

    route_world_set(w, "log_level", "full-debug");
    route_world_route_one(w, "b@traced.test", &r);
    assert_int_equal(r.decisions[0].status, PROBE_STARTTLS);
    route_result_free(&r);
    assert_int_equal(full_debug_rows(w, "probe traced.test: dns MX traced.test: % mx.traced.test"), 1);
    assert_int_equal(full_debug_rows(w, "probe traced.test: dns A/AAAA mx.traced.test: 127.0.0.1"), 1);
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
        ROUTE_WORLD_TEST(each_probe_status_routes_as_the_table_says, setup),
        ROUTE_WORLD_TEST(domains_of_a_message_are_probed_in_parallel, setup),
        ROUTE_WORLD_TEST(published_policies_forbid_the_downgrade, setup),
        ROUTE_WORLD_TEST(full_debug_logs_the_probe_trace, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
