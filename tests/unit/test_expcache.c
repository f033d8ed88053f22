/* The expired-certificate cache on a real SQLite file, with the clock
 * passed in: how long one sighting lives, what confirms it, what a cached
 * (repeated) sighting does, re-check scheduling and claiming, removal,
 * loading into memory, clearing, and the migration of week-long entries
 * written before the cache healed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expcache.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

#define MIN_MS (60 * 1000LL)
#define T0 1700000000000LL /* the tests' "now" at the first sighting */

typedef struct {
    trtest_scratch dir;
    store *st;
    sqlite3 *db;
    expcache *mem;
    expcache_times times;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_scratch_make(&w->dir, "expcache"), 0);
    if (store_open(w->dir.db, &w->st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    w->db = store_db(w->st);
    w->mem = expcache_new();
    assert_non_null(w->mem);
    expcache_times_default(&w->times);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    expcache_free(w->mem);
    store_close(w->st);
    trtest_scratch_remove(&w->dir);
    free(w);
    return 0;
}

/* A probe saw domain expired at seen_ms; the clock says now_ms. */
static int saw_at(world *w, const char *domain, int64_t seen_ms, int64_t now_ms)
{
    char err[256];
    expcache_sighting s = { domain, "mx.example", 1600000000, seen_ms };
    int rc = expcache_saw_expired(w->mem, w->db, &s, &w->times, now_ms, err, sizeof err);
    if (rc < 0)
        fail_msg("%s", err);
    return rc;
}

static int saw(world *w, const char *domain, int64_t at_ms)
{
    return saw_at(w, domain, at_ms, at_ms);
}

static expcache_entry row_of(world *w, const char *domain)
{
    expcache_entry *e, found;
    size_t n;
    char err[256];
    int hit = 0;
    assert_int_equal(expcache_list(w->db, &e, &n, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].domain, domain) == 0) {
            found = e[i];
            hit = 1;
        }
    free(e);
    if (!hit)
        fail_msg("no row for %s", domain);
    return found;
}

static size_t rows(world *w)
{
    expcache_entry *e;
    size_t n;
    char err[256];
    assert_int_equal(expcache_list(w->db, &e, &n, err, sizeof err), 0);
    free(e);
    return n;
}

static void defaults_are_the_failure_ttl_a_week_ten_minutes_and_four_hours(void **state)
{
    expcache_times t;
    (void)state;
    expcache_times_default(&t);
    assert_int_equal(t.first_ttl_ms, 900 * 1000LL);
    assert_int_equal(t.confirmed_ttl_ms, 7 * 86400 * 1000LL);
    assert_int_equal(t.confirm_after_ms, 10 * MIN_MS);
    assert_int_equal(t.recheck_every_ms, 4 * 60 * MIN_MS);
}

static void first_sighting_lives_only_the_failure_ttl(void **state)
{
    world *w = *state;
    assert_int_equal(saw(w, "a.example", T0), 1);
    expcache_entry e = row_of(w, "a.example");
    assert_int_equal(e.first_seen_ms, T0);
    assert_int_equal(e.last_seen_ms, T0);
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.expires_ms, T0 + 900 * 1000LL);
    /* Re-probed when a confirming sighting can be made. */
    assert_int_equal(e.next_check_ms, T0 + 10 * MIN_MS);
    assert_string_equal(e.mx, "mx.example");
    assert_int_equal(e.cert_not_after, 1600000000);
    assert_true(expcache_contains(w->mem, "a.example", T0 + 900 * 1000LL - 1));
    assert_false(expcache_contains(w->mem, "a.example", T0 + 900 * 1000LL));
}

static void second_sighting_under_ten_minutes_stays_short(void **state)
{
    world *w = *state;
    int64_t second = T0 + 10 * MIN_MS - 1;
    saw(w, "a.example", T0);
    assert_int_equal(saw(w, "a.example", second), 1);
    expcache_entry e = row_of(w, "a.example");
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.first_seen_ms, T0);
    assert_int_equal(e.last_seen_ms, second);
    assert_int_equal(e.expires_ms, second + 900 * 1000LL);
    assert_int_equal(e.next_check_ms, T0 + 10 * MIN_MS);
    assert_false(expcache_contains(w->mem, "a.example", second + 900 * 1000LL));
}

static void second_sighting_at_or_after_ten_minutes_confirms(void **state)
{
    world *w = *state;
    static const int64_t later[] = { 10 * MIN_MS, 14 * MIN_MS };
    static const char *const names[] = { "at.example", "after.example" };
    for (int i = 0; i < 2; i++) {
        int64_t second = T0 + later[i];
        saw(w, names[i], T0);
        assert_int_equal(saw(w, names[i], second), 1);
        expcache_entry e = row_of(w, names[i]);
        assert_int_equal(e.confirmed_ms, second);
        assert_int_equal(e.first_seen_ms, T0);
        assert_int_equal(e.last_seen_ms, second);
        assert_int_equal(e.expires_ms, second + 7 * 86400 * 1000LL);
        assert_int_equal(e.next_check_ms, second + 4 * 60 * MIN_MS);
        assert_true(expcache_contains(w->mem, names[i], second + 6 * 86400 * 1000LL));
    }
    /* A later sighting of a confirmed entry counts the week from itself. */
    int64_t third = T0 + 5 * 60 * MIN_MS;
    assert_int_equal(saw(w, "at.example", third), 1);
    expcache_entry e = row_of(w, "at.example");
    assert_int_equal(e.confirmed_ms, T0 + 10 * MIN_MS);
    assert_int_equal(e.last_seen_ms, third);
    assert_int_equal(e.expires_ms, third + 7 * 86400 * 1000LL);
    assert_int_equal(e.next_check_ms, third + 4 * 60 * MIN_MS);
}

/* A probe cache answer keeps its probe's time: reported again later, it is
 * the same sighting and cannot confirm anything. */
static void the_same_sighting_again_changes_nothing(void **state)
{
    world *w = *state;
    saw(w, "a.example", T0);
    assert_int_equal(saw_at(w, "a.example", T0, T0 + 11 * MIN_MS), 0);
    assert_int_equal(saw_at(w, "a.example", T0 - 1, T0 + 11 * MIN_MS), 0);
    expcache_entry e = row_of(w, "a.example");
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.last_seen_ms, T0);
    assert_int_equal(e.expires_ms, T0 + 900 * 1000LL);
}

static void a_sighting_after_the_entry_lapsed_starts_afresh(void **state)
{
    world *w = *state;
    int64_t later = T0 + 20 * MIN_MS; /* past the 15 minutes of the first */
    saw(w, "a.example", T0);
    assert_int_equal(saw(w, "a.example", later), 1);
    expcache_entry e = row_of(w, "a.example");
    assert_int_equal(e.first_seen_ms, later);
    assert_int_equal(e.confirmed_ms, -1);
    assert_int_equal(e.expires_ms, later + 900 * 1000LL);
    assert_int_equal(e.next_check_ms, later + 10 * MIN_MS);
}

static void the_failure_ttl_comes_from_the_times_given(void **state)
{
    world *w = *state;
    w->times.first_ttl_ms = 60 * 1000LL;
    w->times.confirmed_ttl_ms = 3600 * 1000LL;
    saw(w, "a.example", T0);
    assert_int_equal(row_of(w, "a.example").expires_ms, T0 + 60 * 1000LL);
    /* The first lapsed at one minute: ten minutes later starts afresh. */
    saw(w, "a.example", T0 + 10 * MIN_MS);
    assert_int_equal(row_of(w, "a.example").confirmed_ms, -1);
}

static void due_rechecks_are_found_and_claimed_once(void **state)
{
    world *w = *state;
    char err[256];
    expcache_name due[4];
    saw(w, "a.example", T0);
    saw(w, "b.example", T0 + MIN_MS);
    assert_int_equal(expcache_due(w->mem, T0 + 10 * MIN_MS - 1, due, 4), 0);
    assert_int_equal(expcache_due(w->mem, T0 + 10 * MIN_MS, due, 4), 1);
    assert_string_equal(due[0].domain, "a.example");
    assert_int_equal(expcache_due(w->mem, T0 + 11 * MIN_MS, due, 4), 2);
    assert_int_equal(expcache_due(w->mem, T0 + 11 * MIN_MS, due, 1), 1);

    /* Another process's copy of the same table claims a.example first. */
    expcache *other = expcache_new();
    assert_non_null(other);
    assert_int_equal(expcache_load(other, w->db, T0 + 10 * MIN_MS, err, sizeof err), 0);
    int64_t now = T0 + 10 * MIN_MS;
    assert_int_equal(expcache_claim_recheck(other, w->db, "a.example", now, 4 * 60 * MIN_MS, err,
                                            sizeof err), 1);
    assert_int_equal(expcache_claim_recheck(w->mem, w->db, "a.example", now, 4 * 60 * MIN_MS, err,
                                            sizeof err), 0);
    assert_int_equal(row_of(w, "a.example").next_check_ms, now + 4 * 60 * MIN_MS);
    assert_int_equal(expcache_due(other, now, due, 4), 0);
    /* Not due yet, or gone: nothing to claim. */
    assert_int_equal(expcache_claim_recheck(w->mem, w->db, "b.example", now, 4 * 60 * MIN_MS, err,
                                            sizeof err), 0);
    assert_int_equal(expcache_claim_recheck(w->mem, w->db, "c.example", now, 4 * 60 * MIN_MS, err,
                                            sizeof err), 0);
    /* A lapsed entry is not re-checked: it no longer routes anything. */
    assert_int_equal(expcache_claim_recheck(w->mem, w->db, "b.example", T0 + 20 * MIN_MS,
                                            4 * 60 * MIN_MS, err, sizeof err), 0);
    assert_int_equal(expcache_due(w->mem, T0 + 20 * MIN_MS, due, 4), 0);
    expcache_free(other);
}

static void removal_leaves_table_and_memory(void **state)
{
    world *w = *state;
    char err[256];
    saw(w, "a.example", T0);
    saw(w, "b.example", T0);
    assert_int_equal(expcache_remove(w->mem, w->db, "a.example", err, sizeof err), 1);
    assert_false(expcache_contains(w->mem, "a.example", T0));
    assert_true(expcache_contains(w->mem, "b.example", T0));
    assert_int_equal(expcache_count(w->mem), 1);
    assert_int_equal(rows(w), 1);
    assert_int_equal(expcache_remove(w->mem, w->db, "a.example", err, sizeof err), 0);
}

static void load_list_and_clear(void **state)
{
    world *w = *state;
    char err[256];
    saw(w, "b.example", T0);
    saw(w, "a.example", T0 - 20 * MIN_MS); /* lapsed by T0 */
    assert_int_equal(expcache_count(w->mem), 2);
    /* A fresh copy loaded from the table holds the live entries only. */
    expcache *d = expcache_new();
    assert_non_null(d);
    assert_int_equal(expcache_load(d, w->db, T0, err, sizeof err), 0);
    assert_int_equal(expcache_count(d), 1);
    assert_true(expcache_contains(d, "b.example", T0));
    assert_false(expcache_contains(d, "a.example", T0));
    expcache_name due[2];
    assert_int_equal(expcache_due(d, T0 + 10 * MIN_MS, due, 2), 1);

    expcache_entry *e;
    size_t n;
    assert_int_equal(expcache_list(w->db, &e, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].domain, "a.example");
    assert_string_equal(e[1].domain, "b.example");
    free(e);

    assert_int_equal(expcache_clear(w->db, 1, T0, err, sizeof err), 1);
    assert_int_equal(expcache_clear(w->db, 0, T0, err, sizeof err), 1);
    assert_int_equal(expcache_load(d, w->db, T0, err, sizeof err), 0);
    assert_int_equal(expcache_count(d), 0);
    expcache_free(d);
}

/* Before version 5 one sighting stayed a week: an upgrade gives such
 * entries the short lifetime and a re-check at once. */
static void migration_shortens_week_long_single_sightings(void **state)
{
    world *w = *state;
    char path[PLAT_PATH_MAX], err[512];
    int64_t now = plat_wall_ms();
    assert_int_equal(trtest_join(path, sizeof path, w->dir.path, "v4.db"), 0);
    assert_int_equal(store_create_at_version(path, 4, err, sizeof err), STORE_OK);
    sqlite3 *raw;
    char sql[512];
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "INSERT INTO expired_cache (domain, mx, cert_not_after, first_seen_ms,"
             " last_seen_ms, expires_ms) VALUES ('old.example', 'mx.old.example', 1600000000,"
             " %lld, %lld, %lld)",
             (long long)(now - MIN_MS), (long long)(now - MIN_MS),
             (long long)(now - MIN_MS + 7 * 86400 * 1000LL));
    assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);

    store *st;
    if (store_open(path, &st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    expcache_entry *e;
    size_t n;
    assert_int_equal(expcache_list(store_db(st), &e, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].expires_ms, now - MIN_MS + 900 * 1000LL);
    assert_int_equal(e[0].confirmed_ms, -1);
    assert_int_equal(e[0].next_check_ms, 0);
    free(e);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_failure_ttl_a_week_ten_minutes_and_four_hours),
        cmocka_unit_test_setup_teardown(first_sighting_lives_only_the_failure_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(second_sighting_under_ten_minutes_stays_short, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(second_sighting_at_or_after_ten_minutes_confirms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_same_sighting_again_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_sighting_after_the_entry_lapsed_starts_afresh, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_failure_ttl_comes_from_the_times_given, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(due_rechecks_are_found_and_claimed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(removal_leaves_table_and_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(load_list_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(migration_shortens_week_long_single_sightings, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
