/* store: settings, rules and domain lists on a real database file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    store *st;
} fixture;

static int setup(void **state)
{
    char err[512];
    fixture *f = calloc(1, sizeof *f);
    if (!f || trtest_scratch_make(&f->dir, "store") != 0
        || store_open(f->dir.db, &f->st, err, sizeof err) != STORE_OK) {
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
    int rc = trtest_scratch_remove(&f->dir);
    free(f);
    return rc;
}

static int64_t query_int(store *st, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static const char *query_text(store *st, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *q = NULL;
    buf[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return buf;
}

static void test_fresh_database_is_configured(void **state)
{
    fixture *f = *state;
    char buf[32];
    int version = 0;
    assert_int_equal(store_schema_version(f->st, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());
    assert_true(store_schema_latest() >= 2);
    assert_string_equal(query_text(f->st, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_int_equal(query_int(f->st, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(f->st, "PRAGMA busy_timeout"), STORE_BUSY_MS);
}

/* Every row of a fresh database's settings table is a setting of the
 * table with its default, and every setting of the table has its row. */
static void test_schema_seeds_exactly_the_settings_table(void **state)
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

static void test_settings_defaults_and_validation(void **state)
{
    fixture *f = *state;
    char buf[64];
    int64_t v = 0, gen0 = 0, gen1 = 0;
    assert_int_equal(store_setting_get(f->st, "log_level", buf, sizeof buf), STORE_OK);
    assert_string_equal(buf, "info");
    assert_int_equal(store_setting_get_int(f->st, "probe_port", &v), STORE_OK);
    assert_int_equal(v, 25);
    assert_int_equal(store_setting_int(f->st, "total_timeout_ms", 1), 20000);
    assert_int_equal(store_setting_int(f->st, "no_such_key", 77), 77);
    assert_int_equal(store_setting_get(f->st, "no_such_key", buf, sizeof buf), STORE_ERR_NOT_FOUND);

    assert_int_equal(store_generation(f->st, &gen0), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "log_level", "full-debug"), STORE_OK);
    assert_int_equal(store_generation(f->st, &gen1), STORE_OK);
    assert_true(gen1 > gen0);
    assert_int_equal(store_setting_get(f->st, "log_level", buf, sizeof buf), STORE_OK);
    assert_string_equal(buf, "full-debug");

    assert_int_equal(store_setting_set(f->st, "log_level", "verbose"), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "setting log_level: not one of the allowed values");
    assert_int_equal(store_setting_set(f->st, "probe_port", "70000"), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "setting probe_port: number out of range");
    assert_int_equal(store_setting_set(f->st, "probe_port", "25x"), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "setting probe_port: not a whole number");
    assert_int_equal(store_setting_set(f->st, "colour", "blue"), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "setting colour: unknown setting");
    assert_int_equal(store_setting_set(f->st, "dns_servers", "8.8.8.8, 1.1.1.1"), STORE_ERR_INVALID);
    assert_int_equal(store_setting_set(f->st, "dns_servers", "127.0.0.1:5353,[::1]:53"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "ehlo_name", "mail.Example.com"), STORE_OK);
    assert_int_equal(store_setting_set(f->st, "ehlo_name", "mail server"), STORE_ERR_INVALID);
    assert_int_equal(store_setting_set(f->st, "probe_port", "2525"), STORE_OK);
    assert_int_equal(store_setting_int(f->st, "probe_port", 0), 2525);
    /* Refused values changed nothing. */
    assert_int_equal(store_setting_get(f->st, "log_level", buf, sizeof buf), STORE_OK);
    assert_string_equal(buf, "full-debug");

    assert_int_equal(store_log_level_parse("debug"), 3);
    assert_int_equal(store_log_level_parse("Debug"), -1);
    assert_string_equal(store_log_level_name(0), "error");
    assert_null(store_log_level_name(5));
}

static void test_rules_add_get_list_update_delete(void **state)
{
    fixture *f = *state;
    store_rule r, *list = NULL;
    size_t n = 0;
    int64_t id1 = 0, id2 = 0;
    assert_int_equal(store_rule_add(f->st, "Relay", "C:\\Inetpub\\mailroot\\Pickup2", 1, &id1), STORE_OK);
    assert_int_equal(store_rule_add(f->st, "second", "/var/pickup", 2, &id2), STORE_OK);
    assert_true(id2 > id1);

    assert_int_equal(store_rule_add(f->st, "RELAY", "x", 1, NULL), STORE_ERR_EXISTS);
    assert_string_equal(store_error(f->st), "rule 'RELAY' exists already");
    assert_int_equal(store_rule_add(f->st, "", "x", 1, NULL), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "rule name is empty");
    assert_int_equal(store_rule_add(f->st, "x", "", 1, NULL), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "pickup folder is empty");
    assert_int_equal(store_rule_add(f->st, "x", "d", 0, NULL), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "source instance must be 1 to 65535");
    assert_int_equal(store_rule_add(f->st, "a\nb", "d", 1, NULL), STORE_ERR_INVALID);

    assert_int_equal(store_rule_get(f->st, "relay", &r), STORE_OK);
    assert_int_equal(r.id, id1);
    assert_string_equal(r.name, "Relay");
    assert_string_equal(r.pickup_dir, "C:\\Inetpub\\mailroot\\Pickup2");
    assert_int_equal(r.enabled, 1);
    assert_int_equal(r.expired_cert, 0);
    assert_int_equal(r.source_instance, 1);
    assert_true(r.created_ms > 0 && r.updated_ms == r.created_ms);

    store_rule_change ch;
    store_rule_change_init(&ch);
    ch.expired_cert = 1;
    ch.pickup_dir = "D:\\Pickup";
    assert_int_equal(store_rule_update(f->st, "Relay", &ch), STORE_OK);
    assert_int_equal(store_rule_get(f->st, "Relay", &r), STORE_OK);
    assert_int_equal(r.expired_cert, 1);
    assert_int_equal(r.enabled, 1);
    assert_string_equal(r.pickup_dir, "D:\\Pickup");
    assert_int_equal(store_rule_update(f->st, "nope", &ch), STORE_ERR_NOT_FOUND);
    assert_string_equal(store_error(f->st), "no rule named 'nope'");
    store_rule_change_init(&ch);
    ch.enabled = 2;
    assert_int_equal(store_rule_update(f->st, "Relay", &ch), STORE_ERR_INVALID);

    assert_int_equal(store_rule_list(f->st, &list, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "Relay");
    assert_string_equal(list[1].name, "second");
    assert_int_equal(list[1].source_instance, 2);
    free(list);

    assert_int_equal(store_rule_for_source(f->st, 2, &r), STORE_OK);
    assert_string_equal(r.name, "second");
    store_rule_change_init(&ch);
    ch.enabled = 0;
    assert_int_equal(store_rule_update(f->st, "second", &ch), STORE_OK);
    assert_int_equal(store_rule_for_source(f->st, 2, &r), STORE_ERR_NOT_FOUND);
    assert_int_equal(store_rule_for_source(f->st, 1, &r), STORE_OK);
    assert_string_equal(r.name, "Relay");

    assert_int_equal(store_rule_delete(f->st, "second"), STORE_OK);
    assert_int_equal(store_rule_delete(f->st, "second"), STORE_ERR_NOT_FOUND);
    assert_int_equal(store_rule_get(f->st, "second", &r), STORE_ERR_NOT_FOUND);
}

static void test_domain_lists(void **state)
{
    fixture *f = *state;
    char **items = NULL;
    size_t n = 0;
    int64_t gen0 = 0, gen1 = 0;
    const char *good[] = { "Example.com.", "*.Mail.org", "example.com" };
    const char *mixed[] = { "ok.net", "bad..net", "fine.net" };
    assert_int_equal(store_rule_add(f->st, "r", "p", 1, NULL), STORE_OK);
    assert_int_equal(store_generation(f->st, &gen0), STORE_OK);
    assert_int_equal(store_domains_add(f->st, "r", STORE_LIST_FORCE_PLAIN, good, 3), STORE_OK);
    assert_int_equal(store_generation(f->st, &gen1), STORE_OK);
    assert_true(gen1 > gen0);

    assert_int_equal(store_domains_add(f->st, "r", STORE_LIST_NEVER_REDIRECT, mixed, 3),
                     STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "bad domain pattern 'bad..net': empty label");
    assert_int_equal(store_domains_list(f->st, "r", STORE_LIST_NEVER_REDIRECT, &items, &n), STORE_OK);
    assert_int_equal(n, 0);   /* nothing of the refused batch was stored */
    store_strings_free(items, n);

    assert_int_equal(store_domains_list(f->st, "r", STORE_LIST_FORCE_PLAIN, &items, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0], "*.mail.org");
    assert_string_equal(items[1], "example.com");
    store_strings_free(items, n);

    const char *missing[] = { "EXAMPLE.com", "not-there.com" };
    assert_int_equal(store_domains_remove(f->st, "r", STORE_LIST_FORCE_PLAIN, missing, 2),
                     STORE_ERR_NOT_FOUND);
    assert_string_equal(store_error(f->st),
                        "'not-there.com' is not on the force-plain list of rule 'r'");
    assert_int_equal(store_domains_remove(f->st, "r", STORE_LIST_FORCE_PLAIN, missing, 1), STORE_OK);
    assert_int_equal(store_domains_list(f->st, "r", STORE_LIST_FORCE_PLAIN, &items, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0], "*.mail.org");
    store_strings_free(items, n);

    assert_int_equal(store_domains_add(f->st, "nobody", STORE_LIST_FORCE_PLAIN, good, 1),
                     STORE_ERR_NOT_FOUND);
    assert_int_equal(store_domains_list(f->st, "nobody", STORE_LIST_FORCE_PLAIN, &items, &n),
                     STORE_ERR_NOT_FOUND);

    /* Deleting the rule takes its lists with it (foreign keys are on). */
    assert_int_equal(store_rule_delete(f->st, "r"), STORE_OK);
    assert_int_equal(query_int(f->st, "SELECT count(*) FROM rule_domains"), 0);
}

/* The force-plain list refuses a pattern covering a whole top-level
 * domain and stores nothing of that batch; never-redirect takes it; an
 * old one already on a force-plain list can still be removed. */
static void test_force_plain_refuses_a_whole_tld(void **state)
{
    fixture *f = *state;
    char **items = NULL;
    size_t n = 0;
    const char *batch[] = { "ok.example", "*.COM" };
    const char *tld[] = { "com" };
    assert_int_equal(store_rule_add(f->st, "r", "p", 1, NULL), STORE_OK);
    assert_int_equal(store_domains_check(f->st, STORE_LIST_FORCE_PLAIN, batch, 2),
                     STORE_ERR_INVALID);
    assert_int_equal(store_domains_add(f->st, "r", STORE_LIST_FORCE_PLAIN, batch, 2),
                     STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st),
                        "bad domain pattern '*.COM': a force-plain pattern may not cover a whole "
                        "top-level domain: the mail of every domain under it would lose TLS");
    assert_int_equal(store_domains_list(f->st, "r", STORE_LIST_FORCE_PLAIN, &items, &n), STORE_OK);
    assert_int_equal(n, 0);
    store_strings_free(items, n);
    assert_int_equal(store_domains_check(f->st, STORE_LIST_NEVER_REDIRECT, tld, 1), STORE_OK);
    assert_int_equal(store_domains_add(f->st, "r", STORE_LIST_NEVER_REDIRECT, tld, 1), STORE_OK);
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "INSERT INTO rule_domains SELECT id, 'force-plain', 'com'"
                                  " FROM rules WHERE name = 'r'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_domains_remove(f->st, "r", STORE_LIST_FORCE_PLAIN, tld, 1), STORE_OK);
    assert_int_equal(query_int(f->st, "SELECT count(*) FROM rule_domains WHERE list = 'force-plain'"),
                     0);
}

/* A rename keeps the rule (id, settings, lists), bumps the configuration
 * generation, refuses what store_rule_add refuses and a name another rule
 * holds in any case, and allows a change of case only. */
static void test_rule_rename(void **state)
{
    fixture *f = *state;
    store_rule r;
    char **items = NULL;
    size_t n = 0;
    int64_t id = 0, gen0 = 0, gen1 = 0;
    const char *pats[] = { "plain.example" };
    assert_int_equal(store_rule_add(f->st, "relay", "/p", 3, &id), STORE_OK);
    assert_int_equal(store_rule_add(f->st, "other", "/q", 1, NULL), STORE_OK);
    assert_int_equal(store_domains_add(f->st, "relay", STORE_LIST_FORCE_PLAIN, pats, 1), STORE_OK);
    store_rule_change ch;
    store_rule_change_init(&ch);
    ch.expired_cert = 1;
    assert_int_equal(store_rule_update(f->st, "relay", &ch), STORE_OK);

    assert_int_equal(store_generation(f->st, &gen0), STORE_OK);
    assert_int_equal(store_rule_rename(f->st, "RELAY", "outbound"), STORE_OK);
    assert_int_equal(store_generation(f->st, &gen1), STORE_OK);
    assert_true(gen1 > gen0);
    assert_int_equal(store_rule_get(f->st, "relay", &r), STORE_ERR_NOT_FOUND);
    assert_int_equal(store_rule_get(f->st, "outbound", &r), STORE_OK);
    assert_int_equal(r.id, id);
    assert_string_equal(r.name, "outbound");
    assert_string_equal(r.pickup_dir, "/p");
    assert_int_equal(r.source_instance, 3);
    assert_int_equal(r.expired_cert, 1);
    assert_true(r.updated_ms >= r.created_ms);
    assert_int_equal(store_domains_list(f->st, "outbound", STORE_LIST_FORCE_PLAIN, &items, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0], "plain.example");
    store_strings_free(items, n);

    /* Case only: the rule's own name does not count as taken. */
    assert_int_equal(store_rule_rename(f->st, "outbound", "Outbound"), STORE_OK);
    assert_int_equal(store_rule_get(f->st, "outbound", &r), STORE_OK);
    assert_string_equal(r.name, "Outbound");
    assert_int_equal(r.id, id);

    assert_int_equal(store_rule_rename(f->st, "Outbound", "OTHER"), STORE_ERR_EXISTS);
    assert_string_equal(store_error(f->st), "rule 'OTHER' exists already");
    assert_int_equal(store_rule_rename(f->st, "nope", "fresh"), STORE_ERR_NOT_FOUND);
    assert_string_equal(store_error(f->st), "no rule named 'nope'");
    assert_int_equal(store_rule_rename(f->st, "Outbound", ""), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "rule name is empty");
    assert_int_equal(store_rule_rename(f->st, "Outbound", " padded"), STORE_ERR_INVALID);
    assert_string_equal(store_error(f->st), "rule name starts or ends with a space");
    assert_int_equal(store_rule_rename(f->st, "Outbound", "a\tb"), STORE_ERR_INVALID);
    assert_int_equal(store_rule_rename(f->st, "Outbound", NULL), STORE_ERR_INVALID);
    char long_name[STORE_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(store_rule_rename(f->st, "Outbound", long_name), STORE_ERR_INVALID);
    long_name[STORE_NAME_MAX] = '\0';
    assert_int_equal(store_rule_rename(f->st, "Outbound", long_name), STORE_OK);

    /* Nothing refused changed anything, and the store is not left in a
     * transaction: the other rule is intact and a later write works. */
    assert_int_equal(store_rule_get(f->st, "other", &r), STORE_OK);
    assert_string_equal(r.pickup_dir, "/q");
    assert_int_equal(query_int(f->st, "SELECT count(*) FROM rules"), 2);
    assert_int_equal(store_rule_delete(f->st, long_name), STORE_OK);
}

/* The size is pages times page size: positive, a whole number of pages,
 * and it grows with the data. */
static void test_size_bytes(void **state)
{
    fixture *f = *state;
    int64_t before = -1, after = -1;
    int64_t page = query_int(f->st, "PRAGMA page_size");
    assert_int_equal(store_size_bytes(f->st, &before), STORE_OK);
    assert_true(before > 0);
    assert_int_equal(before % page, 0);
    char name[32], dir[300];
    memset(dir, 'd', sizeof dir - 1);
    dir[sizeof dir - 1] = '\0';
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "rule %d", i);
        assert_int_equal(store_rule_add(f->st, name, dir, 1, NULL), STORE_OK);
    }
    assert_int_equal(store_size_bytes(f->st, &after), STORE_OK);
    assert_true(after > before);
}

static void test_list_names(void **state)
{
    (void)state;
    store_list l;
    assert_int_equal(store_list_parse("never-redirect", &l), 0);
    assert_int_equal(l, STORE_LIST_NEVER_REDIRECT);
    assert_string_equal(store_list_name(l), "never-redirect");
    assert_int_equal(store_list_parse("force-plain", &l), 0);
    assert_string_equal(store_list_name(l), "force-plain");
    assert_int_equal(store_list_parse("force_plain", &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database_is_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_seeds_exactly_the_settings_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_defaults_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_add_get_list_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_plain_refuses_a_whole_tld, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bytes, setup, teardown),
        cmocka_unit_test(test_list_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
