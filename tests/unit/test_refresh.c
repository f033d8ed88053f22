/* refresh: the refresher with real threads and a real SQLite file, its
 * probe cache stood in for by a table of lifetimes the test sets. Due at
 * 80% of an entry's lifetime, no entry at most once a minute, out of the
 * window means forgotten, at most refresh_concurrency jobs at once and
 * refresh_max_per_minute a minute, uses kept across a restart. */
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
#include "refresh.h"
#include "trtest.h"

extern const char tr_schema_sql[];

#define T0 ((int64_t)1700000000000)
#define DAY ((int64_t)86400000)
#define WAIT_MS 5000

/* The stand-in cache: one lifetime per domain, "" ends the list. */
typedef struct {
    char domain[64];
    int64_t probed_ms, expires_ms;
} lifetime;

typedef struct {
    lifetime entries[16];
    plat_mutex *lock;
    plat_cond *changed;
    int gate_open;        /* jobs wait for it (bounded) */
    int ran;              /* jobs that ran */
    int running;          /* jobs in job() now */
    int most_running;     /* the most at once */
    char last[64];
    trtest_scratch dir;   /* made by the test that needs a database */
} world;

static int lifetime_of(void *ctx, const char *domain, int64_t *probed_ms, int64_t *expires_ms)
{
    world *w = ctx;
    for (size_t i = 0; i < 16 && w->entries[i].domain[0]; i++)
        if (strcmp(w->entries[i].domain, domain) == 0) {
            *probed_ms = w->entries[i].probed_ms;
            *expires_ms = w->entries[i].expires_ms;
            return 1;
        }
    return 0;
}

static void job(void *ctx, const char *domain)
{
    world *w = ctx;
    plat_mutex_lock(w->lock);
    if (++w->running > w->most_running)
        w->most_running = w->running;
    plat_cond_broadcast(w->changed);
    uint64_t until = plat_now_ms() + WAIT_MS;
    while (!w->gate_open && plat_now_ms() < until)
        plat_cond_wait_ms(w->changed, w->lock, 50);
    w->ran++;
    w->running--;
    snprintf(w->last, sizeof w->last, "%s", domain);
    plat_cond_broadcast(w->changed);
    plat_mutex_unlock(w->lock);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (!w || !(w->lock = plat_mutex_new()) || !(w->changed = plat_cond_new()))
        return -1;
    w->gate_open = 1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    plat_cond_free(w->changed);
    plat_mutex_free(w->lock);
    if (w->dir.path[0])
        trtest_scratch_remove(&w->dir);
    free(w);
    return 0;
}

static void set_entry(world *w, size_t i, const char *domain, int64_t probed, int64_t expires)
{
    snprintf(w->entries[i].domain, sizeof w->entries[i].domain, "%s", domain);
    w->entries[i].probed_ms = probed;
    w->entries[i].expires_ms = expires;
}

static int ran(world *w)
{
    plat_mutex_lock(w->lock);
    int n = w->ran;
    plat_mutex_unlock(w->lock);
    return n;
}

static refresher *new_refresher(unsigned concurrency, unsigned per_minute)
{
    refresher *r = refresher_new();
    assert_non_null(r);
    refresh_limits l = { 7, concurrency, per_minute };
    refresher_set_limits(r, &l);
    return r;
}

static void due_at_eighty_percent_of_the_lifetime(void **state)
{
    world *w = *state;
    refresher *r = new_refresher(4, 600);
    /* Probed at T0, lives 100 s: due at T0 + 80 s. */
    set_entry(w, 0, "a.example", T0, T0 + 100000);
    refresher_note_use(r, "a.example", 1, T0);
    assert_int_equal(refresher_scan(r, T0 + 79000, lifetime_of, job, w), 0);
    assert_int_equal(refresher_scan(r, T0 + 80000, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(ran(w), 1);
    assert_string_equal(w->last, "a.example");
    /* Refreshed: the new entry is due 80 s after its own probe. */
    set_entry(w, 0, "a.example", T0 + 80000, T0 + 180000);
    assert_int_equal(refresher_scan(r, T0 + 82000, lifetime_of, job, w), 0);
    assert_int_equal(refresher_scan(r, T0 + 159000, lifetime_of, job, w), 0);
    assert_int_equal(refresher_scan(r, T0 + 160000, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(ran(w), 2);
    refresher_free(r);
}

static void no_entry_at_most_once_a_minute(void **state)
{
    world *w = *state;
    refresher *r = new_refresher(4, 600);
    refresher_note_use(r, "gone.example", 1, T0);
    assert_int_equal(refresher_scan(r, T0, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(refresher_scan(r, T0 + 30000, lifetime_of, job, w), 0);
    assert_int_equal(refresher_scan(r, T0 + REFRESH_NO_ENTRY_RETRY_MS, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(ran(w), 2);
    refresher_free(r);
}

static void unused_for_the_window_drops_out(void **state)
{
    world *w = *state;
    refresher *r = new_refresher(4, 600);
    set_entry(w, 0, "old.example", T0, T0 + 100000);
    set_entry(w, 1, "new.example", T0, T0 + 100000);
    refresher_note_use(r, "old.example", 1, T0 - 8 * DAY);
    refresher_note_use(r, "new.example", 1, T0 - 6 * DAY);
    assert_int_equal(refresher_domains(r), 2);
    assert_int_equal(refresher_scan(r, T0 + 90000, lifetime_of, job, w), 1);
    assert_int_equal(refresher_domains(r), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_string_equal(w->last, "new.example");
    /* A shorter window, live. */
    refresh_limits l = { 1, 4, 600 };
    refresher_set_limits(r, &l);
    refresher_scan(r, T0 + 90000, lifetime_of, job, w);
    assert_int_equal(refresher_domains(r), 0);
    refresher_free(r);
}

static void use_domains(refresher *r, world *w, int n)
{
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "d%d.example", i);
        refresher_note_use(r, name, 1, T0);
    }
    (void)w;
}

static void open_gate(world *w)
{
    plat_mutex_lock(w->lock);
    w->gate_open = 1;
    plat_cond_broadcast(w->changed);
    plat_mutex_unlock(w->lock);
}

/* Waits until n jobs are in job() at once; how many are. */
static int wait_running(world *w, int n)
{
    plat_mutex_lock(w->lock);
    uint64_t until = plat_now_ms() + WAIT_MS;
    while (w->running < n && plat_now_ms() < until)
        plat_cond_wait_ms(w->changed, w->lock, 50);
    int now = w->running;
    plat_mutex_unlock(w->lock);
    return now;
}

static void at_most_concurrency_jobs_at_once(void **state)
{
    world *w = *state;
    w->gate_open = 0;
    refresher *r = new_refresher(2, 100000);
    use_domains(r, w, 5); /* none has an entry: all due */
    /* All five handed over at once; two run, three wait their turn. */
    assert_int_equal(refresher_scan(r, T0, lifetime_of, job, w), 5);
    assert_int_equal(wait_running(w, 2), 2);
    plat_sleep_ms(200);
    assert_int_equal(wait_running(w, 2), 2);
    /* Live: three at once. */
    refresh_limits l = { 7, 3, 100000 };
    refresher_set_limits(r, &l);
    assert_int_equal(wait_running(w, 3), 3);
    open_gate(w);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(ran(w), 5);
    assert_int_equal(w->most_running, 3);
    refresher_free(r);
}

static void at_most_the_rate(void **state)
{
    world *w = *state;
    /* 60 a minute: one a second, five seconds' worth at once. */
    refresher *r = new_refresher(16, 60);
    use_domains(r, w, 12);
    size_t first = refresher_scan(r, T0, lifetime_of, job, w);
    assert_true(first >= 5 && first <= 6);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(refresher_scan(r, T0 + 1, lifetime_of, job, w), 0);
    plat_sleep_ms(1100);
    assert_int_equal(refresher_scan(r, T0 + 2, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    refresher_free(r);
}

static void a_job_already_queued_is_not_queued_twice(void **state)
{
    world *w = *state;
    w->gate_open = 0;
    refresher *r = new_refresher(4, 600);
    assert_int_equal(refresher_submit(r, job, w, "x.example"), REFRESH_STARTED);
    assert_int_equal(refresher_submit(r, job, w, "x.example"), REFRESH_BUSY);
    open_gate(w);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_int_equal(ran(w), 1);
    refresher_stop(r);
    assert_int_equal(refresher_submit(r, job, w, "y.example"), REFRESH_NO_BUDGET);
    refresher_free(r);
}

static sqlite3 *open_db(world *w)
{
    sqlite3 *db = NULL;
    if (!w->dir.path[0]) {
        assert_int_equal(trtest_scratch_make(&w->dir, "refresh"), 0);
        assert_int_equal(sqlite3_open(w->dir.db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, tr_schema_sql, NULL, NULL, NULL), SQLITE_OK);
        return db;
    }
    assert_int_equal(sqlite3_open(w->dir.db, &db), SQLITE_OK);
    return db;
}

static int64_t saved_use(sqlite3 *db, const char *domain)
{
    sqlite3_stmt *st;
    int64_t at = -1;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT last_used_ms FROM domain_use WHERE domain = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        at = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return at;
}

static void uses_outlive_a_restart(void **state)
{
    world *w = *state;
    char err[256];
    int64_t now = plat_wall_ms();
    sqlite3 *db = open_db(w);
    refresher *r = new_refresher(4, 600);
    refresher_note_use(r, "kept.example", 2, now - DAY);
    refresher_note_use(r, "stale.example", 1, now - 8 * DAY);
    assert_int_equal(refresher_save(r, db, now, err, sizeof err), 0);
    assert_int_equal(saved_use(db, "kept.example"), now - DAY);
    assert_int_equal(saved_use(db, "stale.example"), -1); /* older than the window */
    /* A use a minute later is not written; one an hour later is. */
    refresher_note_use(r, "kept.example", 2, now - DAY + 60000);
    assert_int_equal(refresher_save(r, db, now, err, sizeof err), 0);
    assert_int_equal(saved_use(db, "kept.example"), now - DAY);
    refresher_note_use(r, "kept.example", 2, now - DAY + 3600000);
    assert_int_equal(refresher_save(r, db, now, err, sizeof err), 0);
    assert_int_equal(saved_use(db, "kept.example"), now - DAY + 3600000);
    refresher_free(r);
    sqlite3_close(db);

    db = open_db(w);
    r = new_refresher(4, 600);
    assert_int_equal(refresher_load(r, db, now, err, sizeof err), 0);
    assert_int_equal(refresher_domains(r), 1);
    assert_int_equal(refresher_source_of(r, "kept.example"), 2); /* as last used */
    assert_int_equal(refresher_source_of(r, "unknown.example"), 0);
    assert_int_equal(refresher_scan(r, now, lifetime_of, job, w), 1);
    assert_int_equal(refresher_wait_idle(r, WAIT_MS), 0);
    assert_string_equal(w->last, "kept.example");
    refresher_free(r);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(due_at_eighty_percent_of_the_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(no_entry_at_most_once_a_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(unused_for_the_window_drops_out, setup, teardown),
        cmocka_unit_test_setup_teardown(at_most_concurrency_jobs_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(at_most_the_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(a_job_already_queued_is_not_queued_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(uses_outlive_a_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
