/* The expired-certificate cache heals on a running engine: a real SQLite
 * file, the tests' DNS server and SMTP peers with real TLS. A peer with an
 * expired certificate puts its domain in the cache for a short while; the
 * engine's background re-check (timing shortened through
 * engine_set_expired_timing instead of hours of waiting) confirms it while
 * the certificate stays expired, drops it as soon as the peer shows a valid
 * one, and changes nothing when the peer does not answer. Also routed here:
 * a certificate not valid yet and one whose notAfter cannot be read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgwork.h"
#include "expcache.h"
#include "pcache.h"
#include "route_world.h"
#include "tls.h"

#define DOMAIN "expired.test"
#define WAIT_MS 15000

/* Re-checks looked for every engine tick (scanning) or not for an hour,
 * so a test can swap the peer before any re-check can run. */
static void timing(route_world *w, int64_t confirm_after_ms, int64_t recheck_every_ms,
                   int scanning)
{
    engine_expired_timing t = { confirm_after_ms, recheck_every_ms,
                                scanning ? 50 : 3600 * 1000LL };
    engine_set_expired_timing(w->eng, &t);
}

static const char body[] = "Subject: recheck\r\n\r\nbody\r\n";

static int setup(void **state)
{
    route_world *w = route_world_open("recheck");
    w->body = body;
    dnsd_add_domain(w->dns, DOMAIN);
    /* No policy look-ups: this file is about the certificate alone. */
    route_world_set(w, "guard_mta_sts", "0");
    route_world_set(w, "guard_dane", "0");
    route_world_add_rule(w, 1);
    route_world_start(w);
    *state = w;
    return 0;
}

static void route_one(route_world *w, route_result *r)
{
    route_world_route_one(w, "a@" DOMAIN, r);
}

/* The table's row for DOMAIN; 0 when there is none. */
static int row(route_world *w, expcache_entry *out)
{
    expcache_entry *e;
    size_t n;
    char err[256];
    assert_int_equal(expcache_list(store_db(w->admin), &e, &n, err, sizeof err), 0);
    int found = n == 1;
    if (found)
        *out = e[0];
    assert_true(n <= 1);
    free(e);
    return found;
}

/* The probe cache's status for DOMAIN ("" when none). */
static void cached_status(route_world *w, char *buf, size_t len)
{
    pcache_entry *e;
    size_t n;
    char err[256];
    assert_int_equal(pcache_list(store_db(w->admin), PCACHE_BY_DOMAIN, &e, &n, err, sizeof err),
                     0);
    snprintf(buf, len, "%s", n == 1 ? pcache_entry_status(&e[0]) : "");
    free(e);
}

/* A message finds the expired certificate: one sighting, short-lived. */
static expcache_entry first_sighting(route_world *w)
{
    route_result r;
    expcache_entry e;
    route_one(w, &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "cert-expired");
    route_result_free(&r);
    assert_true(row(w, &e));
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.first_seen_ms, e.last_seen_ms);
    assert_int_equal(e.expires_ms, e.first_seen_ms + 900 * 1000LL); /* ttl_failure_s */
    assert_true(expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms()));
    return e;
}

static void pause_ms(unsigned ms) { plat_sleep_ms(ms); }

static void entry_leaves_once_the_peer_shows_a_valid_certificate(void **state)
{
    route_world *w = *state;
    timing(w, 300, 4 * 3600 * 1000LL, 0);
    route_world_serve(w, peer_start(PEER_EXPIRED, NULL));
    first_sighting(w);

    /* The certificate is renewed. */
    route_world_serve(w, peer_start(PEER_STARTTLS, NULL));
    timing(w, 300, 4 * 3600 * 1000LL, 1);
    expcache_entry e;
    uint64_t deadline = plat_now_ms() + WAIT_MS;
    while ((row(w, &e) || expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms())) &&
           plat_now_ms() < deadline)
        pause_ms(50);
    assert_false(row(w, &e));
    assert_false(expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms()));
    unsigned probes = peer_connections(w->mx);
    assert_int_equal(probes, 1);

    /* The re-probe's answer replaced the stale cert-expired in the probe
     * cache: the next message goes TLS without probing. */
    char status[32];
    cached_status(w, status, sizeof status);
    assert_string_equal(status, "starttls");
    route_result r;
    route_one(w, &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "tls-ok");
    assert_int_equal(r.decisions[0].elapsed_ms, 0);
    route_result_free(&r);
    assert_int_equal(peer_connections(w->mx), probes);
}

static void a_second_sighting_ten_minutes_on_confirms_the_entry(void **state)
{
    route_world *w = *state;
    /* "Ten minutes" is 300 ms here; the re-check after that, 4 hours. */
    timing(w, 300, 4 * 3600 * 1000LL, 1);
    route_world_serve(w, peer_start(PEER_EXPIRED, NULL));
    expcache_entry first = first_sighting(w), e = first;
    uint64_t deadline = plat_now_ms() + WAIT_MS;
    while (row(w, &e) && e.confirmed_ms < 0 && plat_now_ms() < deadline)
        pause_ms(50);
    assert_true(row(w, &e));
    assert_true(e.confirmed_ms >= 0);
    assert_int_equal(e.first_seen_ms, first.first_seen_ms);
    assert_true(e.last_seen_ms >= first.first_seen_ms + 300);
    assert_int_equal(e.confirmed_ms, e.last_seen_ms);
    assert_int_equal(e.expires_ms, e.last_seen_ms + 604800 * 1000LL); /* ttl_expired_s */
    assert_int_equal(e.next_check_ms, e.last_seen_ms + 4 * 3600 * 1000LL);
    assert_int_equal(peer_connections(w->mx), 2);
    assert_true(expcache_contains(engine_expcache(w->eng), DOMAIN,
                                  plat_wall_ms() + 6 * 86400 * 1000LL));
}

static void a_recheck_without_an_answer_changes_nothing(void **state)
{
    route_world *w = *state;
    timing(w, 300, 3600 * 1000LL, 0);
    route_world_serve(w, peer_start(PEER_EXPIRED, NULL));
    expcache_entry first = first_sighting(w), e = first;
    route_world_serve_nobody(w);
    timing(w, 300, 3600 * 1000LL, 1);
    /* The claim moves next_check_ms an hour on: the re-check ran. */
    uint64_t deadline = plat_now_ms() + WAIT_MS;
    while (row(w, &e) && e.next_check_ms == first.next_check_ms && plat_now_ms() < deadline)
        pause_ms(50);
    assert_true(row(w, &e));
    assert_true(e.next_check_ms >= first.first_seen_ms + 3600 * 1000LL);
    assert_int_equal(engine_background_wait_idle(w->eng, WAIT_MS), 0);
    assert_true(row(w, &e));
    assert_int_equal(e.last_seen_ms, first.last_seen_ms);
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.expires_ms, first.expires_ms);
    assert_true(expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms()));
    char status[32];
    cached_status(w, status, sizeof status);
    assert_string_equal(status, "cert-expired");
}

/* Ends the entry now, in the table, and lets the engine reload it: what
 * waiting out its lifetime does, while the probe cache (whose lifetime for
 * cert-expired is the same ttl_failure_s, counted from a moment later)
 * still holds the answer. Returns the new expires_ms. */
static int64_t end_entry_now(route_world *w)
{
    char sql[96], err[256];
    int64_t now = plat_wall_ms();
    snprintf(sql, sizeof sql, "UPDATE expired_cache SET expires_ms = %lld", (long long)now);
    assert_int_equal(sqlite3_exec(store_db(w->admin), sql, NULL, NULL, NULL), SQLITE_OK);
    if (engine_refresh(w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
    return now;
}

/* The probe cache answers the next message with the first probe's result:
 * that is the same sighting, not a second one, so it neither confirms nor
 * revives the entry. */
static void a_cached_probe_answer_is_no_new_sighting(void **state)
{
    route_world *w = *state;
    timing(w, 300, 4 * 3600 * 1000LL, 0);
    route_world_serve(w, peer_start(PEER_EXPIRED, NULL));
    expcache_entry first = first_sighting(w), e;
    int64_t ended = end_entry_now(w);
    assert_false(expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms()));

    route_result r;
    route_one(w, &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "cert-expired");
    assert_int_equal(r.decisions[0].elapsed_ms, 0); /* from the probe cache */
    route_result_free(&r);
    assert_int_equal(peer_connections(w->mx), 1);
    assert_true(row(w, &e));
    assert_int_equal(e.last_seen_ms, first.last_seen_ms);
    assert_int_equal(e.expires_ms, ended);
    assert_false(expcache_contains(engine_expcache(w->eng), DOMAIN, plat_wall_ms()));
}

/* Valid from tomorrow: decided like a failed handshake (plain with the
 * toggle on), and never put in the expired-certificate cache. */
static void a_certificate_not_yet_valid_is_no_expired_certificate(void **state)
{
    route_world *w = *state;
    certgen_pair cert;
    assert_int_equal(certgen_make("mx." DOMAIN, 86400, 2 * 86400, NULL, &cert), 0);
    route_world_serve(w, peer_start(PEER_STARTTLS, &cert));
    certgen_free(&cert);
    route_result r;
    route_one(w, &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "handshake-failed");
    assert_string_equal(probe_status_name(r.decisions[0].status), "cert-not-yet-valid");
    assert_non_null(strstr(r.decisions[0].detail, "not valid before"));
    route_result_free(&r);
    expcache_entry e;
    assert_false(row(w, &e));
}

/* A notAfter nobody can read is no expired certificate. OpenSSL's
 * handshake accepts the certificate: TLS, and the journal's detail says why
 * expiry was not judged. Schannel's (the Windows probe's, as IIS's) refuses
 * it: handshake-failed, what IIS's own delivery would meet. */
static void an_unreadable_certificate_time_is_not_expired(void **state)
{
    route_world *w = *state;
    certgen_pair cert;
    assert_int_equal(certgen_make_raw_times("mx." DOMAIN, NULL, "491332000000Z", &cert), 0);
    route_world_serve(w, peer_start(PEER_STARTTLS, &cert));
    certgen_free(&cert);
    route_result r;
    route_one(w, &r);
    if (tls_system_stack() == TLS_STACK_OPENSSL) {
        assert_int_equal(r.decisions[0].plain, 0);
        assert_string_equal(decide_reason_name(r.decisions[0].reason), "tls-ok");
        assert_string_equal(probe_status_name(r.decisions[0].status), "starttls");
        assert_non_null(strstr(r.decisions[0].detail, "notAfter could not be read"));
    } else {
        assert_string_equal(probe_status_name(r.decisions[0].status), "handshake-failed");
    }
    route_result_free(&r);
    expcache_entry e;
    assert_false(row(w, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUTE_WORLD_TEST(entry_leaves_once_the_peer_shows_a_valid_certificate, setup),
        ROUTE_WORLD_TEST(a_second_sighting_ten_minutes_on_confirms_the_entry, setup),
        ROUTE_WORLD_TEST(a_recheck_without_an_answer_changes_nothing, setup),
        ROUTE_WORLD_TEST(a_cached_probe_answer_is_no_new_sighting, setup),
        ROUTE_WORLD_TEST(a_certificate_not_yet_valid_is_no_expired_certificate, setup),
        ROUTE_WORLD_TEST(an_unreadable_certificate_time_is_not_expired, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
