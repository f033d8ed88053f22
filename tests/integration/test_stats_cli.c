/* The real tlsrouter binary beside a running engine: a setting changed by
 * `tlsrouter config` reaches the engine within a second, and
 * `tlsrouter stats --json` shows what engines counted (written when an
 * engine closes, and every few seconds while it runs, summed over the
 * engines that share the database). The rules' lists decide, so no
 * message needs the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    store *st;
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("statscli", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_int_equal(store_open(w->db, &st, err, sizeof err), STORE_OK);
    static const char *const plain[] = { "*.plain.test" };
    static const char *const tls[] = { "tls.test" };
    assert_int_equal(store_rule_add(st, "Plain TCP Server", w->pickup, 1, NULL), STORE_OK);
    assert_int_equal(store_domains_add(st, "Plain TCP Server", STORE_LIST_FORCE_PLAIN, plain, 1),
                     STORE_OK);
    assert_int_equal(store_domains_add(st, "Plain TCP Server", STORE_LIST_NEVER_REDIRECT, tls, 1),
                     STORE_OK);
    store_close(st);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    trtest_remove_tree(w->root);
    free(w);
    return 0;
}

static engine *open_engine(world *w)
{
    engine *e;
    char err[256];
    if (engine_open(w->db, &e, err, sizeof err) != 0)
        fail_msg("%s", err);
    return e;
}

static void cli_ok(world *w, trtest_result *r, const char *a1, const char *a2, const char *a3)
{
    const char *args[] = { "--db", w->db, a1, a2, a3, NULL };
    assert_int_equal(trtest_run_cli(args, r), 0);
    if (r->exit_code != 0)
        fail_msg("tlsrouter %s: exit %d: %s", a1, r->exit_code, r->err);
}

static const char body[] = "Subject: stats\r\n\r\nbody\r\n";

static void route(engine *e, const char *r1, const char *r2)
{
    const char *rcpts[] = { r1, r2 };
    route_message m = { "m", "s@corp.example", rcpts, r2 ? 2 : 1, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(e, &m, &r), 0);
    route_result_free(&r);
}

static int64_t refresh_rate_of(engine *e)
{
    engine_config *cfg = engine_acquire_config(e);
    int64_t v = cfg->refresh.per_minute;
    engine_release_config(e, cfg);
    return v;
}

static int64_t message_timeout_of(engine *e)
{
    engine_config *cfg = engine_acquire_config(e);
    int64_t v = cfg->message_timeout_ms;
    engine_release_config(e, cfg);
    return v;
}

/* The engine polls once a second; the slack is a loaded machine's. */
#define SEEN_WITHIN_MS 1500

static uint64_t wait_for_value(engine *e, int64_t (*value_of)(engine *), int64_t want)
{
    uint64_t start = plat_now_ms();
    while (value_of(e) != want && plat_now_ms() - start < 5000)
        plat_sleep_ms(10);
    assert_int_equal(value_of(e), want);
    return plat_now_ms() - start;
}

static void a_setting_changed_by_the_cli_reaches_a_running_engine(void **state)
{
    world *w = *state;
    engine *e = open_engine(w);
    trtest_result r;
    assert_int_equal(refresh_rate_of(e), 600);
    cli_ok(w, &r, "config", "refresh_max_per_minute", "1234");
    trtest_result_free(&r);
    uint64_t took = wait_for_value(e, refresh_rate_of, 1234);
    print_message("refresh_max_per_minute seen after %llu ms\n", (unsigned long long)took);
    assert_true(took <= SEEN_WITHIN_MS);
    cli_ok(w, &r, "config", "message_timeout_ms", "4321");
    trtest_result_free(&r);
    took = wait_for_value(e, message_timeout_of, 4321);
    print_message("message_timeout_ms seen after %llu ms\n", (unsigned long long)took);
    assert_true(took <= SEEN_WITHIN_MS);
    engine_close(e);
}

static void has(const char *json, const char *part)
{
    if (!strstr(json, part))
        fail_msg("%s not in %s", part, json);
}

/* line is a whole line of text (the Windows build ends lines in CRLF). */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && (p[n] == '\r' || p[n] == '\n'))
            return;
    fail_msg("no line \"%s\" in %s", line, text);
}

/* The number after "key": in json; -1 when absent. */
static double number_of(const char *json, const char *key)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\":", key);
    const char *p = strstr(json, quoted);
    return p ? strtod(p + strlen(quoted), NULL) : -1;
}

static void stats_json_counts_routed_messages(void **state)
{
    world *w = *state;
    engine *e = open_engine(w);
    route(e, "a@x.plain.test", NULL);
    route(e, "b@tls.test", NULL);
    route(e, "c@y.plain.test", "d@tls.test");
    engine_close(e); /* writes what the last tick did not */

    trtest_result r;
    cli_ok(w, &r, "stats", "--json", NULL);
    has(r.out, "\"messages\":3,");
    has(r.out, "\"recipients\":4,");
    has(r.out, "\"probes\":0,");
    has(r.out, "\"probe_joins\":0,");
    has(r.out, "\"refreshes\":0,");
    has(r.out, "\"cache_hits\":0,");
    has(r.out, "\"handoffs\":2,");
    has(r.out, "\"handoff_failures\":0,");
    has(r.out, "\"decisions\":{\"never-redirect-list\":2,\"force-plain-list\":2}");
    double p50 = number_of(r.out, "p50"), p95 = number_of(r.out, "p95"),
           p99 = number_of(r.out, "p99"), max = number_of(r.out, "max");
    assert_true(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= max);
    assert_true(max < 60000);
    trtest_result_free(&r);

    cli_ok(w, &r, "stats", NULL, NULL);
    has_line(r.out, "messages           3");
    has(r.out, "onarrival_ms       p50 ");
    has(r.out, "decision force-plain-list");
    trtest_result_free(&r);
}

/* A running engine writes every ENGINE_FLUSH_EVERY_MS; a second engine on
 * the same database (another process, as far as the table knows) adds to
 * the sums. */
static void a_running_engine_writes_its_figures_every_few_seconds(void **state)
{
    world *w = *state;
    engine *running = open_engine(w);
    route(running, "a@x.plain.test", NULL);
    trtest_result r;
    uint64_t start = plat_now_ms();
    int seen = 0;
    while (!seen && plat_now_ms() - start < 3 * ENGINE_FLUSH_EVERY_MS + 2000) {
        cli_ok(w, &r, "stats", "--json", NULL);
        seen = strstr(r.out, "\"messages\":1,") != NULL;
        trtest_result_free(&r);
        if (!seen)
            plat_sleep_ms(200);
    }
    assert_true(seen);
    engine *other = open_engine(w);
    route(other, "b@tls.test", NULL);
    route(other, "c@tls.test", NULL);
    engine_close(other);
    cli_ok(w, &r, "stats", "--json", NULL);
    has(r.out, "\"messages\":3,");
    has(r.out, "\"handoffs\":1,");
    trtest_result_free(&r);
    engine_close(running);
    cli_ok(w, &r, "stats", "--json", NULL);
    has(r.out, "\"messages\":3,");
    trtest_result_free(&r);
}

static void stats_refuses_unknown_options(void **state)
{
    world *w = *state;
    trtest_result r;
    const char *args[] = { "--db", w->db, "stats", "--csv", NULL };
    assert_int_equal(trtest_run_cli(args, &r), 0);
    assert_int_equal(r.exit_code, 2);
    has(r.err, "usage: stats [--json]");
    trtest_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_setting_changed_by_the_cli_reaches_a_running_engine,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stats_json_counts_routed_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(a_running_engine_writes_its_figures_every_few_seconds,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stats_refuses_unknown_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
