/* stats: buckets and percentiles, counts from many threads at once, and
 * the stats table on a real SQLite file: per-process rows that add up,
 * the longest time kept as the largest, old rows folded without changing
 * a sum, names from a newer version left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "plat.h"
#include "stats.h"
#include "trtest.h"

extern const char tr_schema_sql[];

typedef struct {
    trtest_scratch dir;
    sqlite3 *db;
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    if (trtest_scratch_make(&f.dir, "stats") != 0)
        return -1;
    if (sqlite3_open(f.dir.db, &f.db) != SQLITE_OK ||
        sqlite3_exec(f.db, tr_schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sqlite3_close(f->db);
    trtest_scratch_remove(&f->dir);
    return 0;
}

static void buckets_cover_every_time(void **state)
{
    (void)state;
    assert_int_equal(stats_bucket_of(0), 0);
    assert_int_equal(stats_bucket_of(50), 0);
    assert_int_equal(stats_bucket_of(51), 1);
    assert_int_equal(stats_bucket_bound(stats_bucket_of(1000)), 1000);
    assert_int_equal(stats_bucket_bound(stats_bucket_of(1001)), 1250);
    assert_int_equal(stats_bucket_of(60000000), STATS_BUCKETS - 1);
    assert_int_equal(stats_bucket_of(60000001), STATS_BUCKETS);
    assert_int_equal(stats_bucket_of(UINT64_MAX), STATS_BUCKETS);
    for (size_t i = 1; i < STATS_BUCKETS; i++)
        assert_true(stats_bucket_bound(i) > stats_bucket_bound(i - 1));
}

static void percentiles_from_the_buckets(void **state)
{
    (void)state;
    stats *s = stats_new();
    assert_non_null(s);
    stats_figures f;
    stats_snapshot(s, &f);
    assert_int_equal(stats_percentile_us(&f, 50), 0);
    for (int i = 0; i < 90; i++)
        stats_count_message(s, 1, 0, 0, 180);
    for (int i = 0; i < 9; i++)
        stats_count_message(s, 1, 0, 0, 850);
    stats_count_message(s, 1, 1, 0, 4321);
    stats_snapshot(s, &f);
    assert_int_equal(f.messages, 100);
    assert_int_equal(f.handoffs, 1);
    assert_int_equal(stats_percentile_us(&f, 50), 200);
    assert_int_equal(stats_percentile_us(&f, 90), 200);
    assert_int_equal(stats_percentile_us(&f, 95), 900);
    assert_int_equal(stats_percentile_us(&f, 99), 900);
    /* The last one's bucket ends at 5 ms; it took 4.321 ms. */
    assert_int_equal(stats_percentile_us(&f, 100), 4321);
    assert_int_equal(f.onarrival_max_us, 4321);
    stats_free(s);
}

#define THREADS 8
#define PER_THREAD 20000

static void count_main(void *arg)
{
    stats *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        stats_count_reason(s, DECIDE_TLS_OK);
        stats_count_message(s, 2, i & 1, 0, (uint64_t)i);
        stats_count_probe(s, PROBE_STARTTLS);
    }
}

static void counts_from_many_threads_add_up(void **state)
{
    (void)state;
    stats *s = stats_new();
    plat_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_non_null(t[i] = plat_thread_start(count_main, s));
    for (int i = 0; i < THREADS; i++)
        plat_thread_join(t[i]);
    stats_figures f;
    stats_snapshot(s, &f);
    assert_int_equal(f.messages, THREADS * PER_THREAD);
    assert_int_equal(f.recipients, 2 * THREADS * PER_THREAD);
    assert_int_equal(f.reasons[DECIDE_TLS_OK], THREADS * PER_THREAD);
    assert_int_equal(f.probes[PROBE_STARTTLS], THREADS * PER_THREAD);
    assert_int_equal(f.handoffs, THREADS * PER_THREAD / 2);
    assert_int_equal(f.onarrival_max_us, PER_THREAD - 1);
    uint64_t bucketed = 0;
    for (size_t i = 0; i <= STATS_BUCKETS; i++)
        bucketed += f.onarrival[i];
    assert_int_equal(bucketed, THREADS * PER_THREAD);
    /* Statuses that are no outcome and reasons out of range count nothing. */
    stats_count_probe(s, PROBE_NOT_PROBED);
    stats_count_reason(s, (decide_reason)DECIDE_REASON_COUNT);
    stats_figures g;
    stats_snapshot(s, &g);
    assert_memory_equal(&f, &g, sizeof f);
    stats_free(s);
}

static int64_t rows_of(sqlite3 *db, const char *process)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM stats WHERE process = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, process, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}

static void flush(sqlite3 *db, const char *process, stats *s, stats_figures *flushed,
                  int64_t at)
{
    stats_figures now;
    char err[256];
    stats_snapshot(s, &now);
    if (stats_flush(db, process, &now, flushed, at, 86400000, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void processes_add_up_in_the_table(void **state)
{
    fixture *f = *state;
    const int64_t t0 = 1700000000000;
    stats *a = stats_new(), *b = stats_new();
    stats_figures fa, fb, read;
    memset(&fa, 0, sizeof fa);
    memset(&fb, 0, sizeof fb);
    char err[256];

    stats_count_message(a, 3, 1, 0, 400);
    stats_count_reason(a, DECIDE_NO_STARTTLS);
    stats_count_cache_hit(a);
    flush(f->db, "a", a, &fa, t0);
    stats_count_message(b, 1, 0, 1, 9000);
    stats_count_refresh(b);
    stats_count_probe(b, PROBE_TIMEOUT);
    flush(f->db, "b", b, &fb, t0);
    /* a counts more and writes again: only the difference is added. */
    stats_count_message(a, 1, 0, 0, 100);
    flush(f->db, "a", a, &fa, t0 + 2000);
    flush(f->db, "a", a, &fa, t0 + 4000); /* nothing new: nothing changes */

    assert_int_equal(stats_read(f->db, &read, err, sizeof err), 0);
    assert_int_equal(read.messages, 3);
    assert_int_equal(read.recipients, 5);
    assert_int_equal(read.reasons[DECIDE_NO_STARTTLS], 1);
    assert_int_equal(read.cache_hits, 1);
    assert_int_equal(read.refreshes, 1);
    assert_int_equal(read.probes[PROBE_TIMEOUT], 1);
    assert_int_equal(read.handoffs, 1);
    assert_int_equal(read.handoff_failures, 1);
    assert_int_equal(read.onarrival_max_us, 9000); /* the larger, not the sum */
    assert_int_equal(stats_percentile_us(&read, 50), 400);
    assert_int_equal(stats_percentile_us(&read, 100), 9000);

    /* A day later b is gone: its rows fold into "" and the sums stand. */
    stats_count_message(a, 1, 0, 0, 100);
    flush(f->db, "a", a, &fa, t0 + 86400000 + 1000);
    assert_int_equal(rows_of(f->db, "b"), 0);
    assert_true(rows_of(f->db, "") > 0);
    assert_int_equal(stats_read(f->db, &read, err, sizeof err), 0);
    assert_int_equal(read.messages, 4);
    assert_int_equal(read.refreshes, 1);
    assert_int_equal(read.onarrival_max_us, 9000);
    /* a's figures not counted since t0 folded too; its fresh ones did not. */
    assert_int_equal(read.recipients, 6);
    stats_free(a);
    stats_free(b);
}

static void names_of_a_newer_version_are_left_alone(void **state)
{
    fixture *f = *state;
    char err[256];
    stats_figures read;
    assert_int_equal(sqlite3_exec(f->db,
                                  "INSERT INTO stats VALUES ('x', 'messages', 7, 1),"
                                  " ('x', 'teleports', 99, 1), ('x', 'reason.future', 5, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(stats_read(f->db, &read, err, sizeof err), 0);
    assert_true(read.messages >= 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_cover_every_time),
        cmocka_unit_test(percentiles_from_the_buckets),
        cmocka_unit_test(counts_from_many_threads_add_up),
        cmocka_unit_test_setup_teardown(processes_add_up_in_the_table, setup, teardown),
        cmocka_unit_test_setup_teardown(names_of_a_newer_version_are_left_alone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
