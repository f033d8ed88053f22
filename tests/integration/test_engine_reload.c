/* The engine's periodic reload reads every setting: a running engine (a
 * real SQLite file, the tests' DNS server) sees a setting changed through
 * another connection, as the manager or the CLI change it, within its
 * one-second poll, and acts on it without a restart. Here: the probe
 * cache's lifetimes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "engine.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

/* The poll runs once a second; a loaded machine gets some slack. */
#define RELOAD_WAIT_MS 5000
#define PROBE_WAIT_MS 10000

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    store *admin;             /* the manager's or the CLI's connection */
    engine *eng;
    dnsd *dns;                /* knows no name: every probe ends no-domain */
} world;

static void set(world *w, const char *key, const char *value)
{
    if (store_setting_set(w->admin, key, value) != STORE_OK)
        fail_msg("%s: %s", key, store_error(w->admin));
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("reload", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    w->dns = dnsd_start();
    assert_non_null(w->dns);
    assert_int_equal(store_open(w->db, &w->admin, err, sizeof err), STORE_OK);
    set(w, "dns_servers", dnsd_server(w->dns));
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

/* Waits, boundedly, for the engine's own poll to install the
 * configuration the admin connection last wrote. */
static void wait_for_reload(world *w)
{
    int64_t want;
    assert_int_equal(store_generation(w->admin, &want), STORE_OK);
    uint64_t until = plat_now_ms() + RELOAD_WAIT_MS;
    for (;;) {
        engine_config *cfg = engine_acquire_config(w->eng);
        int64_t have = cfg->generation;
        engine_release_config(w->eng, cfg);
        if (have == want)
            return;
        if (plat_now_ms() >= until)
            fail_msg("the engine did not reload within %d ms", RELOAD_WAIT_MS);
        plat_sleep_ms(20);
    }
}

/* Probes domain through the engine (into the probe cache) and returns how
 * long the cache keeps the result, from its row. */
static int64_t cached_lifetime_ms(world *w, const char *domain)
{
    probe_result r;
    assert_int_equal(engine_probe_one(w->eng, domain, plat_now_ms() + PROBE_WAIT_MS, &r), 0);
    assert_int_equal(r.status, PROBE_NO_DOMAIN);
    sqlite3_stmt *q = NULL;
    int64_t ms = -1;
    assert_int_equal(sqlite3_prepare_v2(store_db(w->admin),
                                        "SELECT expires_ms - probed_ms FROM probe_cache "
                                        "WHERE domain = ?1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        ms = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return ms;
}

/* expires_ms counts from the put, probed_ms from the probe: a little more
 * than the TTL, never less. */
static void assert_lifetime(int64_t ms, int64_t ttl_s)
{
    if (ms < ttl_s * 1000 || ms > ttl_s * 1000 + PROBE_WAIT_MS)
        fail_msg("kept %lld ms, expected %lld s", (long long)ms, (long long)ttl_s);
}

/* The manager says "the sink applies it within a second": a result cached
 * after the change gets the new lifetime, no restart. */
static void probe_cache_lifetime_follows_a_change(void **state)
{
    world *w = *state;
    assert_lifetime(cached_lifetime_ms(w, "before.test"), SETTING_DEFAULT_ttl_failure_s);

    set(w, "ttl_failure_s", "123");
    wait_for_reload(w);
    assert_lifetime(cached_lifetime_ms(w, "after.test"), 123);
}

/* The snapshot carries all three lifetimes of the probe cache. */
static void snapshot_carries_every_probe_ttl(void **state)
{
    world *w = *state;
    set(w, "ttl_starttls_s", "7001");
    set(w, "ttl_no_starttls_s", "7002");
    set(w, "ttl_failure_s", "7003");
    wait_for_reload(w);
    engine_config *cfg = engine_acquire_config(w->eng);
    pcache_ttls ttls = cfg->probe_ttls;
    engine_release_config(w->eng, cfg);
    assert_int_equal(ttls.starttls_s, 7001);
    assert_int_equal(ttls.no_starttls_s, 7002);
    assert_int_equal(ttls.failure_s, 7003);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(probe_cache_lifetime_follows_a_change, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_carries_every_probe_ttl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
