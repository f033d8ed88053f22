/* settings: the one settings table (settings.h) against what db/schema.sql
 * seeds in a fresh database, and against the modules that take their
 * defaults from it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "log.h"
#include "pcache.h"
#include "probe.h"
#include "settings.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char dir[PLAT_PATH_MAX];
    char db[PLAT_PATH_MAX];
    store *st;
} fixture;

static int setup(void **state)
{
    char err[512];
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_temp_dir("settings", f->dir, sizeof f->dir) != 0
        || trtest_join(f->db, sizeof f->db, f->dir, "t.db") != 0
        || store_open(f->db, &f->st, err, sizeof err) != STORE_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    int rc = trtest_remove_tree(f->dir);
    free(f);
    return rc;
}

/* Every row of a fresh database's settings table is a setting of the
 * table with its default, and every setting of the table has its row. */
static void schema_seeds_exactly_the_defaults(void **state)
{
    fixture *f = *state;
    int seen[SETTING_COUNT] = { 0 };
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "SELECT key, value FROM settings", -1,
                                        &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(q, 0);
        const char *value = (const char *)sqlite3_column_text(q, 1);
        const setting_def *d = setting_find(key);
        if (!d)
            fail_msg("db/schema.sql seeds %s, which settings.h does not list", key);
        if (strcmp(d->default_value, value) != 0)
            fail_msg("%s: db/schema.sql seeds '%s', settings.h says '%s'", key, value,
                     d->default_value);
        seen[d - setting_at(0)]++;
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (seen[i] != 1)
            fail_msg("db/schema.sql does not seed %s", setting_at(i)->key);
}

/* Each setting is explained and its default passes its own check. */
static void every_setting_is_explained_and_valid(void **state)
{
    const setting_def *d;
    size_t n = 0;
    for (; (d = setting_at(n)) != NULL; n++) {
        const char *why = NULL;
        assert_true(strlen(d->label) > 0);
        assert_true(strlen(d->help) > 20);
        assert_int_equal(d->help[strlen(d->help) - 1], '.');
        if (store_setting_check(d->key, d->default_value, &why) != 0)
            fail_msg("%s: default '%s' refused: %s", d->key, d->default_value, why);
        assert_ptr_equal(setting_find(d->key), d);
    }
    assert_int_equal(n, SETTING_COUNT);
    assert_null(setting_find("colour"));
    assert_null(setting_find(NULL));
}

static void allowed_values_in_words(void **state)
{
    char text[128];
    setting_allowed_text(setting_at(SETTING_ID_probe_port), text, sizeof text);
    assert_string_equal(text, "a whole number from 1 to 65535");
    setting_allowed_text(setting_at(SETTING_ID_verify_name), text, sizeof text);
    assert_string_equal(text, "0 or 1");
    setting_allowed_text(setting_at(SETTING_ID_log_level), text, sizeof text);
    assert_string_equal(text, "error, warning, info, debug or full-debug");
    setting_allowed_text(setting_at(SETTING_ID_log_level), text, 10);
    assert_string_equal(text, "error, wa");
    setting_allowed_text(setting_at(SETTING_ID_dns_servers), text, sizeof text);
    assert_string_equal(text, "HOST[:PORT] separated by commas, or empty");
}

/* The words of the choices are the words the modules parse. */
static void choices_are_the_modules_words(void **state)
{
    const char *const *floors = setting_at(SETTING_ID_tls_floor)->choices;
    for (int i = 0; floors[i]; i++) {
        probe_floor f;
        assert_int_equal(probe_floor_parse(floors[i], &f), 0);
        assert_int_equal(f, i);
        assert_string_equal(probe_floor_name(f), floors[i]);
    }
    const char *const *levels = setting_at(SETTING_ID_log_level)->choices;
    for (int i = 0; levels[i]; i++)
        assert_int_equal(store_log_level_parse(levels[i]), i);
    assert_string_equal(store_log_level_name(LOG_FULL_DEBUG), "full-debug");
}

/* The modules' own defaults are the table's. */
static void modules_start_from_the_table(void **state)
{
    probe_options o;
    probe_options_default(&o);
    assert_int_equal(o.port, 25);
    assert_int_equal(o.total_timeout_ms, SETTING_DEFAULT_total_timeout_ms);
    assert_int_equal(o.floor, PROBE_FLOOR_AUTO);
    pcache_ttls t;
    pcache_ttls_default(&t);
    assert_int_equal(t.starttls_s, 86400);
    assert_int_equal(t.no_starttls_s, SETTING_DEFAULT_ttl_no_starttls_s);
    assert_int_equal(t.failure_s, SETTING_DEFAULT_ttl_failure_s);
    guard_options g;
    guard_options_default(&g);
    assert_true(g.mta_sts);
    assert_true(g.dane);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schema_seeds_exactly_the_defaults, setup, teardown),
        cmocka_unit_test(every_setting_is_explained_and_valid),
        cmocka_unit_test(allowed_values_in_words),
        cmocka_unit_test(choices_are_the_modules_words),
        cmocka_unit_test(modules_start_from_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
