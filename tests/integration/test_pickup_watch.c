/* The Plain TCP Server watched (issue 13, 3): a running engine notices a
 * rule's Pickup folder that is not drained (a handed-off file older than
 * five minutes), logs a warning and tells the event hook (the sink's Event
 * Log) once an hour, not once a minute. Real files with set times, a real
 * database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "engine.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char dir[512], db[600], pickup[600], file[700];
    engine *eng;
    int events;
    char last[1200];
} fixture;

static void on_event(void *ctx, engine_event kind, const char *text)
{
    fixture *f = ctx;
    assert_int_equal(kind, ENGINE_EVENT_PICKUP_NOT_DRAINED);
    f->events++;
    snprintf(f->last, sizeof f->last, "%s", text);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    store *st;
    char err[256];
    if (!f || trtest_temp_dir("watch", f->dir, sizeof f->dir) != 0 ||
        trtest_join(f->db, sizeof f->db, f->dir, "t.db") != 0 ||
        trtest_join(f->pickup, sizeof f->pickup, f->dir, "Pickup") != 0 ||
        trtest_join(f->file, sizeof f->file, f->pickup, "tlsrouter-1.eml") != 0 ||
        plat_mkdir(f->pickup) != 0 || store_open(f->db, &st, err, sizeof err) != STORE_OK)
        return -1;
    int ok = store_rule_add(st, "Plain", f->pickup, 1, NULL) == STORE_OK;
    store_close(st);
    if (!ok || engine_open(f->db, &f->eng, err, sizeof err) != 0)
        return -1;
    engine_set_event_hook(f->eng, on_event, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    engine_close(f->eng);
    trtest_remove_tree(f->dir);
    free(f);
    return 0;
}

static int warnings_logged(fixture *f)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int n = -1;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM log WHERE level = 1 AND message LIKE "
                               "'%Plain TCP Server is not picking them up%'", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void test_drained_folder_is_quiet(void **state)
{
    fixture *f = *state;
    assert_int_equal(engine_watch_pickups(f->eng), 0);
    /* A file written a moment ago is being picked up as usual. */
    assert_int_equal(trtest_write_file(f->file, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(engine_watch_pickups(f->eng), 0);
    assert_int_equal(f->events, 0);
    assert_int_equal(warnings_logged(f), 0);
}

static void test_waiting_file_warns_once_an_hour(void **state)
{
    fixture *f = *state;
    assert_int_equal(trtest_write_file(f->file, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(trtest_set_mtime(f->file, (long long)plat_wall_ms() - 10 * 60 * 1000), 0);
    assert_int_equal(engine_watch_pickups(f->eng), 1);
    assert_int_equal(f->events, 1);
    assert_non_null(strstr(f->last, "1 file(s) wait in the Pickup folder"));
    assert_non_null(strstr(f->last, "the oldest for 10 minutes"));
    assert_non_null(strstr(f->last, "rule \"Plain\""));
    assert_int_equal(warnings_logged(f), 1);
    /* The next scans within the hour say nothing new. */
    assert_int_equal(engine_watch_pickups(f->eng), 0);
    assert_int_equal(engine_watch_pickups(f->eng), 0);
    assert_int_equal(f->events, 1);
    assert_int_equal(warnings_logged(f), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drained_folder_is_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_file_warns_once_an_hour, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
