/* `tlsrouter route`, `journal` and `cache` as the DESIGN.md contract says,
 * and a running engine that sees a rule changed by another process (the
 * CLI) within a second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd.h"
#include "engine.h"
#include "expcache.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

/* The database is the CLI's to create and configure. */
typedef struct {
    trtest_scratch dir;
    char pickup[PLAT_PATH_MAX];
    char message[PLAT_PATH_MAX];
    dnsd *dns;          /* knows no name: look-ups end at once */
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(trtest_scratch_make(&w->dir, "routecli"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->dir.path, "Pickup"), 0);
    assert_int_equal(trtest_join(w->message, sizeof w->message, w->dir.path, "m.eml"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_non_null(w->dns = dnsd_start());
    assert_int_equal(trtest_write_file(w->message, "Message-ID: <m1@corp.example>\r\n"
                                                   "Subject: hello\r\n\r\nbody\r\n"),
                     0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    dnsd_stop(w->dns);
    trtest_scratch_remove(&w->dir);
    free(w);
    return 0;
}

/* Runs tlsrouter --db DB args...; returns the exit code, output in res. */
static int cli(world *w, trtest_result *res, const char *a1, const char *a2, const char *a3,
               const char *a4, const char *a5, const char *a6, const char *a7, const char *a8)
{
    const char *args[12] = { "--db", w->dir.db, a1, a2, a3, a4, a5, a6, a7, a8, NULL };
    assert_int_equal(trtest_run_cli(args, res), 0);
    return res->exit_code;
}

static void cli_ok(world *w, const char *a1, const char *a2, const char *a3, const char *a4,
                   const char *a5)
{
    trtest_result r;
    if (cli(w, &r, a1, a2, a3, a4, a5, NULL, NULL, NULL) != 0)
        fail_msg("tlsrouter %s %s: %s", a1, a2 ? a2 : "", r.err);
    trtest_result_free(&r);
}

static void make_rule(world *w)
{
    /* Probes and the look-ups before forcing a domain plain ask this server. */
    cli_ok(w, "config", "dns_servers", dnsd_server(w->dns), NULL, NULL);
    cli_ok(w, "rule", "add", "Plain TCP Server", "--pickup", w->pickup);
    cli_ok(w, "domains", "add", "Plain TCP Server", "force-plain", "legacy.example");
    cli_ok(w, "domains", "add", "Plain TCP Server", "never-redirect", "gmail.com");
}

static void route_json_then_journal(void **state)
{
    world *w = *state;
    make_rule(w);
    trtest_result r;
    assert_int_equal(cli(w, &r, "route", "--from", "s@corp.example", "--to", "a@legacy.example",
                         "--to", "b@GMail.com", w->message),
                     0);
    trtest_result_free(&r);
    assert_int_equal(trtest_count_entries(w->pickup), 1);

    const char *args[] = { "--db", w->dir.db, "route", "--from", "s@corp.example", "--to",
                           "c@legacy.example", "--json", "-", NULL };
    assert_int_equal(trtest_run_cli(args, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "\"recipient\":\"c@legacy.example\""));
    assert_non_null(strstr(r.out, "\"domain\":\"legacy.example\""));
    assert_non_null(strstr(r.out, "\"route\":\"plain\""));
    assert_non_null(strstr(r.out, "\"reason\":\"force-plain-list\""));
    assert_non_null(strstr(r.out, "\"status\":\"\""));
    trtest_result_free(&r);
    /* Standard input was empty: still one (header-only) pickup file. */
    assert_int_equal(trtest_count_entries(w->pickup), 2);

    assert_int_equal(cli(w, &r, "journal", "--csv", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "time,message_id,sender,recipient,domain,route,reason"));
    assert_non_null(strstr(r.out, ",\"<m1@corp.example>\",\"s@corp.example\",\"b@GMail.com\","
                                  "\"gmail.com\",\"tls\",\"never-redirect-list\","));
    assert_non_null(strstr(r.out, "\"a@legacy.example\",\"legacy.example\",\"plain\","
                                  "\"force-plain-list\""));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--json", "--limit", "1", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "\"recipient\":\"c@legacy.example\""));
    assert_null(strstr(r.out, "b@GMail.com"));
    trtest_result_free(&r);
}

static void bad_input_is_exit_2_and_failures_exit_1(void **state)
{
    world *w = *state;
    make_rule(w);
    trtest_result r;
    assert_int_equal(cli(w, &r, "route", "--from", "s@corp.example", "--to",
                         "a@legacy.example\r\nx-receiver: v@relay.example", w->message, NULL,
                         NULL),
                     2);
    assert_non_null(strstr(r.err, "refused"));
    /* One line on stderr (CRLF-ended on Windows), no echo of the forged
     * line. */
    size_t len = strcspn(r.err, "\r\n");
    assert_true(len > 0);
    assert_true(strcmp(r.err + len, "\n") == 0 || strcmp(r.err + len, "\r\n") == 0);
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "route", "--to", "a@x.example", w->message, NULL, NULL, NULL,
                         NULL),
                     2);
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--limit", "zero", NULL, NULL, NULL, NULL, NULL), 2);
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "clear", "--bogus", NULL, NULL, NULL, NULL, NULL), 2);
    trtest_result_free(&r);
    assert_int_equal(trtest_count_entries(w->pickup), 0);

    /* The Pickup folder is gone: exit 1, nobody handed off, all journalled. */
    trtest_remove_tree(w->pickup);
    assert_int_equal(cli(w, &r, "route", "--from", "s@corp.example", "--to", "a@legacy.example",
                         "--json", w->message, NULL),
                     1);
    assert_non_null(strstr(r.out, "\"route\":\"tls\""));
    assert_non_null(strstr(r.err, "does not exist"));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--csv", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "\"a@legacy.example\",\"legacy.example\",\"tls\","
                                  "\"force-plain-list\""));
    trtest_result_free(&r);
}

/* Cells a spreadsheet would run as formulas (a sender "=2+5@...", a
 * recipient "-1+1@...", a Message-ID "@SUM(...)") are exported as text;
 * a Message-ID over 998 bytes is journalled cut and marked. */
static void journal_csv_neutralises_formulas_and_cuts_long_ids(void **state)
{
    world *w = *state;
    static char message[1700];
    trtest_result r;
    make_rule(w);
    assert_int_equal(trtest_write_file(w->message, "Message-ID: @SUM(1+1)*cmd|' /C calc'!A0\r\n"
                                                   "\r\nbody\r\n"), 0);
    assert_int_equal(cli(w, &r, "route", "--from", "=2+5@corp.example", "--to",
                         "-1+1@legacy.example", w->message, NULL, NULL),
                     0);
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--csv", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, ",\"'@SUM(1+1)*cmd|' /C calc'!A0\",\"'=2+5@corp.example\","
                                  "\"'-1+1@legacy.example\",\"legacy.example\",\"plain\","));
    trtest_result_free(&r);

    int n = snprintf(message, sizeof message, "Message-ID: <");
    memset(message + n, 'x', 1500);
    snprintf(message + n + 1500, sizeof message - (size_t)n - 1500, "@corp.example>\r\n\r\nb\r\n");
    assert_int_equal(trtest_write_file(w->message, message), 0);
    assert_int_equal(cli(w, &r, "route", "--from", "s@corp.example", "--to", "a@legacy.example",
                         w->message, NULL, NULL),
                     0);
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--json", "--limit", "1", NULL, NULL, NULL, NULL), 0);
    const char *id = strstr(r.out, "\"message_id\":\"<xxx");
    assert_non_null(id);
    id += strlen("\"message_id\":\"");
    const char *end = strchr(id, '"');
    assert_non_null(end);
    assert_int_equal(end - id, 998);
    assert_memory_equal(end - 8, "...[cut]", 8);
    trtest_result_free(&r);
}

static void cache_list_and_clear(void **state)
{
    world *w = *state;
    store *st;
    char err[256];
    assert_int_equal(store_open(w->dir.db, &st, err, sizeof err), STORE_OK);
    expcache_times t;
    expcache_times_default(&t);
    expcache_sighting seen = { "stale.example", "mx.stale.example", 1600000000, plat_wall_ms() };
    assert_int_equal(expcache_saw_expired(NULL, store_db(st), &seen, &t, plat_wall_ms(), err,
                                          sizeof err), 1);
    store_close(st);
    trtest_result r;
    assert_int_equal(cli(w, &r, "cache", "list", "--json", NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "\"domain\":\"stale.example\""));
    assert_non_null(strstr(r.out, "\"mx\":\"mx.stale.example\""));
    assert_non_null(strstr(r.out, "\"cert_not_after\":\"2020-09-13T12:26:40Z\""));
    /* One sighting: not confirmed, re-probed ten minutes after it. */
    char next_check[64], at[32];
    time_t due = (time_t)((seen.seen_ms + EXPCACHE_CONFIRM_AFTER_MS) / 1000);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&due));
    snprintf(next_check, sizeof next_check, "\"next_check\":\"%s\"", at);
    assert_non_null(strstr(r.out, "\"confirmed\":false,\"confirmed_at\":null"));
    assert_non_null(strstr(r.out, next_check));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "list", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "CONFIRMED"));
    assert_non_null(strstr(r.out, "NEXT CHECK"));
    assert_non_null(strstr(r.out, at));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "clear", "--expired", NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "cleared 1 "));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "list", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_null(strstr(r.out, "stale.example"));
    trtest_result_free(&r);
}

/* A newer version may journal a reason or cache a status this one has no
 * word for: the listings show the word as it is stored. */
static void words_of_a_newer_version_shown_as_stored(void **state)
{
    world *w = *state;
    store *st;
    char err[256];
    assert_int_equal(store_open(w->dir.db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(sqlite3_exec(store_db(st),
        "INSERT INTO journal (at_ms, recipient, domain, route, reason, status) VALUES "
        "(1767225600000, 'a@future.example', 'future.example', 'tls', 'from-the-future', "
        "'probe-of-tomorrow');"
        "INSERT INTO probe_cache (domain, status, probed_ms, expires_ms) "
        "VALUES ('future.example', 'from-the-future', 1, 4102444800000);", NULL, NULL, NULL),
        SQLITE_OK);
    store_close(st);
    trtest_result r;
    assert_int_equal(cli(w, &r, "journal", NULL, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "from-the-future"));
    assert_non_null(strstr(r.out, "probe-of-tomorrow"));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "journal", "--json", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "\"reason\":\"from-the-future\""));
    assert_non_null(strstr(r.out, "\"status\":\"probe-of-tomorrow\""));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "list", "--json", NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "\"status\":\"from-the-future\""));
    trtest_result_free(&r);
    assert_int_equal(cli(w, &r, "cache", "list", NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "from-the-future"));
    trtest_result_free(&r);
}

static void running_engine_sees_a_rule_changed_by_the_cli(void **state)
{
    world *w = *state;
    make_rule(w);
    engine *e;
    char err[256];
    if (engine_open(w->dir.db, &e, err, sizeof err) != 0)
        fail_msg("%s", err);
    const char *rcpts[] = { "a@mail.newly.example" };
    static const char body[] = "Subject: x\r\n\r\nbody\r\n";
    route_message m = { .message_id = "m", .sender = "s@corp.example", .recipients = rcpts,
                        .n_recipients = 1, .source_instance = 1,
                        .message = (const unsigned char *)body, .message_len = sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(e, &m, &r), 0);
    assert_int_equal(r.decisions[0].plain, 0);
    route_result_free(&r);

    cli_ok(w, "domains", "add", "Plain TCP Server", "force-plain", "*.newly.example");
    uint64_t changed = plat_now_ms(), waited = 0;
    int plain = 0;
    while (!plain && waited < 5000) {
        assert_int_equal(route_run(e, &m, &r), 0);
        plain = r.decisions[0].plain;
        route_result_free(&r);
        waited = plat_now_ms() - changed;
        if (!plain)
            plat_sleep_ms(20);
    }
    engine_close(e);
    assert_true(plain);
    print_message("change by the CLI seen after %llu ms\n", (unsigned long long)waited);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(route_json_then_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_is_exit_2_and_failures_exit_1, setup, teardown),
        cmocka_unit_test_setup_teardown(journal_csv_neutralises_formulas_and_cuts_long_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cache_list_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(words_of_a_newer_version_shown_as_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(running_engine_sees_a_rule_changed_by_the_cli, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
