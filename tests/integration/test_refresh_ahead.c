/* Refresh ahead on a running engine, with cache lifetimes of a few seconds:
 * a domain in use is probed again in the background before its answer
 * runs out, so the message after the first answer's expiry is answered
 * from the cache without a probe; a restarted engine goes on refreshing
 * the domains used before; without refresh ahead the message after expiry
 * probes. A loopback SMTP peer counts the connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

#define TTL_MS 3000
#define WAIT_MS 10000

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
    store *admin;
    engine *eng;
    dnsd *dns;
    peer *peer;
} world;

static void open_engine(world *w, int refresh_ahead)
{
    char err[256];
    if (engine_open(w->db, &w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (refresh_ahead)
        engine_set_refresh_ahead(w->eng, 1);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256], port[16];
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("refresh", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_non_null(w->dns = dnsd_start());
    dnsd_add_mx(w->dns, "warm.test", 10, "mx.warm.test");
    dnsd_add_a(w->dns, "mx.warm.test", 127, 0, 0, 1);
    assert_non_null(w->peer = peer_start(PEER_STARTTLS, NULL));
    snprintf(port, sizeof port, "%u", peer_port(w->peer));
    assert_int_equal(store_open(w->db, &w->admin, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(w->admin, "dns_servers", dnsd_server(w->dns)), STORE_OK);
    assert_int_equal(store_setting_set(w->admin, "probe_port", port), STORE_OK);
    assert_int_equal(store_setting_set(w->admin, "ttl_starttls_s", "3"), STORE_OK);
    assert_int_equal(store_rule_add(w->admin, "Plain TCP Server", w->pickup, 1, NULL), STORE_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    engine_close(w->eng);
    store_close(w->admin);
    peer_stop(w->peer);
    dnsd_stop(w->dns);
    trtest_remove_tree(w->root);
    free(w);
    return 0;
}

static const char body[] = "Subject: warm\r\n\r\nbody\r\n";

static void route_warm(world *w, const char *reason)
{
    const char *rcpts[] = { "a@warm.test" };
    route_message m = { "m", "s@corp.example", rcpts, 1, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), reason);
    route_result_free(&r);
}

/* Waits for the peer's connection count to reach n; the wall clock then. */
static int64_t wait_for_connections(world *w, unsigned n)
{
    uint64_t until = plat_now_ms() + WAIT_MS;
    while (peer_connections(w->peer) < n && plat_now_ms() < until)
        plat_sleep_ms(20);
    assert_int_equal(peer_connections(w->peer), n);
    return plat_wall_ms();
}

static void sleep_until_wall(int64_t at)
{
    while (plat_wall_ms() < at)
        plat_sleep_ms(20);
}

static void a_domain_in_use_is_refreshed_before_it_runs_out(void **state)
{
    world *w = *state;
    open_engine(w, 1);
    route_warm(w, "tls-ok");
    int64_t first = plat_wall_ms(); /* the first answer runs out by first + TTL_MS */
    assert_int_equal(peer_connections(w->peer), 1);

    int64_t refreshed = wait_for_connections(w, 2);
    assert_true(refreshed < first + TTL_MS);
    assert_int_equal(engine_background_wait_idle(w->eng, WAIT_MS), 0);

    /* Past the first answer's lifetime: the refreshed one answers. */
    sleep_until_wall(first + TTL_MS + 200);
    stats_figures before, after;
    engine_figures(w->eng, &before);
    route_warm(w, "tls-ok");
    engine_figures(w->eng, &after);
    assert_int_equal(peer_connections(w->peer), 2);
    assert_int_equal(after.cache_hits, before.cache_hits + 1);
    assert_true(after.refreshes >= 1);
    uint64_t probes = 0;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        probes += after.probes[i];
    assert_int_equal(probes, 1 + after.refreshes);
}

static void without_refresh_ahead_the_message_after_expiry_probes(void **state)
{
    world *w = *state;
    open_engine(w, 0);
    route_warm(w, "tls-ok");
    int64_t first = plat_wall_ms();
    sleep_until_wall(first + TTL_MS + 200);
    assert_int_equal(peer_connections(w->peer), 1);
    route_warm(w, "tls-ok");
    assert_int_equal(peer_connections(w->peer), 2);
}

static void a_restarted_engine_goes_on_refreshing(void **state)
{
    world *w = *state;
    open_engine(w, 1);
    route_warm(w, "tls-ok");
    engine_close(w->eng); /* writes the use to domain_use */
    w->eng = NULL;
    assert_int_equal(peer_connections(w->peer), 1);
    open_engine(w, 1);
    /* No message: the use read back is enough. */
    wait_for_connections(w, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_domain_in_use_is_refreshed_before_it_runs_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(without_refresh_ahead_the_message_after_expiry_probes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_restarted_engine_goes_on_refreshing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
