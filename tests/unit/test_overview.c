/* overview on a real SQLite file filled through the journal writer: the
 * recipients per UTC day across day boundaries, the top plain domains
 * with their ordering, ties and reasons, the caches and the hit rate, and
 * an empty database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "overview.h"
#include "stats.h"
#include "store.h"
#include "journal_world.h"
#include "trtest.h"

/* 2026-03-10 00:00:00 UTC. */
#define MAR10 1773100800000LL
#define HOUR (3600 * 1000LL)

typedef journal_world world;

static int setup(void **state)
{
    *state = journal_world_open("overview");
    return 0;
}

static int teardown(void **state)
{
    journal_world_close(*state);
    return 0;
}

/* count recipients of domain at at_ms, one message, through the writer. */
static void journal_n(world *w, int64_t at_ms, const char *domain, decide_reason reason,
                      int plain, size_t count)
{
    journal_entry rows[16];
    char rcpt[16][300], err[256];
    assert_true(count <= 16);
    for (size_t i = 0; i < count; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "user%zu@%s", i, domain);
        rows[i] = (journal_entry){ .at_ms = at_ms, .message_id = "<m@x>", .sender = "s@corp.example",
                                   .recipient = rcpt[i], .domain = domain, .plain = plain,
                                   .reason = reason,
                                   .status = plain ? PROBE_NO_STARTTLS : PROBE_STARTTLS,
                                   .mx = "mx.example", .tls_version = plain ? "" : "TLSv1.3",
                                   .detail = "", .elapsed_ms = 3 };
    }
    if (journal_write(w->j, rows, count, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void test_days_split_at_utc_midnight(void **state)
{
    world *w = *state;
    overview_day days[OVERVIEW_DAYS];
    char err[256];
    int64_t now = MAR10 + 5 * HOUR;                 /* the last day is 2026-03-10 */
    journal_n(w, MAR10 - 1, "a.example", DECIDE_TLS_OK, 0, 2);          /* 03-09 23:59:59.999 */
    journal_n(w, MAR10, "a.example", DECIDE_TLS_OK, 0, 3);              /* 03-10 00:00 */
    journal_n(w, MAR10 + 4 * HOUR, "b.example", DECIDE_NO_STARTTLS, 1, 4);
    journal_n(w, MAR10 - 13 * 24 * HOUR, "c.example", DECIDE_NO_STARTTLS, 1, 1);   /* first day */
    journal_n(w, MAR10 - 13 * 24 * HOUR - 1, "c.example", DECIDE_NO_STARTTLS, 1, 5); /* before */
    journal_n(w, MAR10 + 24 * HOUR, "d.example", DECIDE_TLS_OK, 0, 6);  /* tomorrow: a wrong clock */

    assert_int_equal(overview_days(w->db, now, days, err, sizeof err), 0);
    assert_int_equal(days[13].start_ms, MAR10);
    assert_int_equal(days[13].year, 2026);
    assert_int_equal(days[13].month, 3);
    assert_int_equal(days[13].mday, 10);
    assert_int_equal(days[13].tls, 3);
    assert_int_equal(days[13].plain, 4);
    assert_int_equal(days[12].mday, 9);
    assert_int_equal(days[12].tls, 2);
    assert_int_equal(days[12].plain, 0);
    /* 14 days back crosses February's end: 02-25 .. 03-10. */
    assert_int_equal(days[0].month, 2);
    assert_int_equal(days[0].mday, 25);
    assert_int_equal(days[3].month, 2);
    assert_int_equal(days[3].mday, 28);
    assert_int_equal(days[4].month, 3);
    assert_int_equal(days[4].mday, 1);
    assert_int_equal(days[0].plain, 1);
    uint64_t total = 0;
    for (int i = 0; i < OVERVIEW_DAYS; i++)
        total += days[i].tls + days[i].plain;
    assert_int_equal(total, 2 + 3 + 4 + 1);
}

/* A leap year's February 29th, and the last second of a year. */
static void test_dates_of_leap_and_new_year(void **state)
{
    world *w = *state;
    overview_day days[OVERVIEW_DAYS];
    char err[256];
    int64_t mar1_2028 = 1835481600000LL;          /* 2028-03-01 00:00 UTC */
    assert_int_equal(overview_days(w->db, mar1_2028, days, err, sizeof err), 0);
    assert_int_equal(days[12].month, 2);
    assert_int_equal(days[12].mday, 29);
    int64_t jan3_2027 = 1798934400000LL;          /* 2027-01-03 00:00 UTC */
    assert_int_equal(overview_days(w->db, jan3_2027 + 1, days, err, sizeof err), 0);
    assert_int_equal(days[13].year, 2027);
    assert_int_equal(days[13].mday, 3);
    assert_int_equal(days[11].year, 2027);
    assert_int_equal(days[10].year, 2026);
    assert_int_equal(days[10].month, 12);
    assert_int_equal(days[10].mday, 31);
}

static void test_top_plain_ranked_with_ties_and_reasons(void **state)
{
    world *w = *state;
    overview_plain_domain top[OVERVIEW_TOP];
    size_t n;
    char err[256];
    int64_t since = MAR10 - 13 * 24 * HOUR, until = MAR10 + 24 * HOUR;
    /* Twelve domains; k<i>.example has i+1 recipients sent plain. */
    for (int i = 0; i < 12; i++) {
        char domain[32];
        snprintf(domain, sizeof domain, "k%02d.example", i);
        journal_n(w, MAR10 + i, domain, DECIDE_NO_STARTTLS, 1, (size_t)i + 1);
    }
    /* Ties at 12 with k11 and even.example: ordered by name. */
    journal_n(w, MAR10, "a-tie.example", DECIDE_CERT_EXPIRED, 1, 12);
    journal_n(w, MAR10, "z-tie.example", DECIDE_CERT_EXPIRED, 1, 12);
    /* The most recipients of all: two reasons, the more frequent wins;
     * TLS rows and rows outside the window do not count. */
    journal_n(w, MAR10, "big.example", DECIDE_FORCE_PLAIN, 1, 10);
    journal_n(w, MAR10 + HOUR, "big.example", DECIDE_EXPIRED_CACHE, 1, 16);
    journal_n(w, MAR10, "big.example", DECIDE_TLS_OK, 0, 16);
    journal_n(w, since - 1, "old.example", DECIDE_NO_STARTTLS, 1, 16);
    journal_n(w, until, "future.example", DECIDE_NO_STARTTLS, 1, 16);
    /* Equal counts for two reasons: the first by name. */
    journal_n(w, MAR10, "even.example", DECIDE_NO_STARTTLS, 1, 6);
    journal_n(w, MAR10, "even.example", DECIDE_CERT_EXPIRED, 1, 6);

    assert_int_equal(overview_top_plain(w->db, since, until, top, &n, err, sizeof err), 0);
    assert_int_equal(n, OVERVIEW_TOP);
    assert_string_equal(top[0].domain, "big.example");
    assert_int_equal(top[0].count, 26);
    assert_string_equal(top[0].reason, "expired-cache");
    assert_string_equal(top[1].domain, "a-tie.example");
    assert_string_equal(top[1].reason, "cert-expired");
    assert_string_equal(top[2].domain, "even.example");
    assert_int_equal(top[2].count, 12);
    assert_string_equal(top[2].reason, "cert-expired");
    assert_string_equal(top[3].domain, "k11.example");
    assert_string_equal(top[4].domain, "z-tie.example");
    assert_int_equal(top[4].count, 12);
    assert_string_equal(top[5].domain, "k10.example");
    assert_string_equal(top[9].domain, "k06.example");
    assert_int_equal(top[9].count, 7);
    assert_string_equal(top[9].reason, "no-starttls");
    for (size_t i = 1; i < n; i++)
        assert_true(top[i - 1].count >= top[i].count);
}

static void test_empty_database(void **state)
{
    world *w = *state;
    overview_day days[OVERVIEW_DAYS];
    overview_plain_domain top[OVERVIEW_TOP];
    overview_caches c;
    size_t n = 99;
    char err[256];
    assert_int_equal(overview_days(w->db, MAR10, days, err, sizeof err), 0);
    for (int i = 0; i < OVERVIEW_DAYS; i++) {
        assert_int_equal(days[i].tls, 0);
        assert_int_equal(days[i].plain, 0);
        assert_int_equal(days[i].start_ms, MAR10 - (13 - i) * 24 * HOUR);
    }
    assert_int_equal(overview_top_plain(w->db, 0, MAR10, top, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(overview_caches_read(w->db, &c, err, sizeof err), 0);
    assert_int_equal(c.probe_rows + c.expired_rows + c.sts_rows, 0);
    assert_int_equal(overview_hit_rate_permille(&c), -1);
}

static void exec(world *w, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static void test_caches_and_hit_rate(void **state)
{
    world *w = *state;
    overview_caches c;
    char err[256];
    exec(w, "INSERT INTO probe_cache (domain, status, probed_ms, expires_ms) VALUES"
            " ('a.example', 'starttls', 1, 2), ('b.example', 'no-starttls', 1, 2),"
            " ('c.example', 'starttls', 1, 2)");
    exec(w, "INSERT INTO expired_cache (domain, first_seen_ms, last_seen_ms, expires_ms)"
            " VALUES ('x.example', 1, 1, 2)");
    exec(w, "INSERT INTO sts_policy (domain, id, mode, max_age, fetched_ms, expires_ms) VALUES"
            " ('s.example', 'id1', 'enforce', 86400, 1, 2), ('t.example', 'id2', 'testing', 86400, 1, 2)");
    stats_figures now = { 0 }, flushed = { 0 };
    now.cache_hits = 3;
    now.probes[PROBE_STARTTLS] = 1;
    assert_int_equal(stats_flush(w->db, "p1", &now, &flushed, 1000, 86400000, err, sizeof err), 0);
    assert_int_equal(overview_caches_read(w->db, &c, err, sizeof err), 0);
    assert_int_equal(c.probe_rows, 3);
    assert_int_equal(c.expired_rows, 1);
    assert_int_equal(c.sts_rows, 2);
    assert_int_equal(c.cache_hits, 3);
    assert_int_equal(c.probes, 1);
    assert_int_equal(overview_hit_rate_permille(&c), 750);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_days_split_at_utc_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates_of_leap_and_new_year, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_plain_ranked_with_ties_and_reasons, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_empty_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caches_and_hit_rate, setup, teardown),
    };
    return cmocka_run_group_tests_name("overview", tests, NULL, NULL);
}
