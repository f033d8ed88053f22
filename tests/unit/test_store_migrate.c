/* store_open on files it must refuse, and migration of an older schema. */
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
#include "journal_replay.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

typedef trtest_scratch fixture;

/* Open must fail with this status and exactly this message. */
static void assert_open_fails(const char *path, store_status want, const char *message)
{
    char err[2048] = "";
    store *st = (store *)&err;   /* must be reset to NULL */
    assert_int_equal(store_open(path, &st, err, sizeof err), want);
    assert_null(st);
    assert_string_equal(err, message);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static void test_not_a_database(void **state)
{
    fixture *f = *state;
    char want[2048];
    assert_int_equal(trtest_write_file(f->db, "This is a text file, not a database.\n"
                                              "It is long enough to look like a header page........\n"), 0);
    snprintf(want, sizeof want, "%s is not a SQLite database", f->db);
    assert_open_fails(f->db, STORE_ERR_NOT_DB, want);
}

static void test_missing_folder(void **state)
{
    fixture *f = *state;
    char sub[PLAT_PATH_MAX], path[PLAT_PATH_MAX], want[2048];
    assert_int_equal(trtest_join(sub, sizeof sub, f->path, "no-such-folder"), 0);
    assert_int_equal(trtest_join(path, sizeof path, sub, "t.db"), 0);
    snprintf(want, sizeof want, "folder of database %s does not exist", path);
    assert_open_fails(path, STORE_ERR_NO_FOLDER, want);
    assert_false(plat_is_dir(sub));   /* and nothing was created */
}

static void test_path_is_a_folder(void **state)
{
    fixture *f = *state;
    char want[2048];
    snprintf(want, sizeof want, "database path %s is a folder", f->path);
    assert_open_fails(f->path, STORE_ERR_IO, want);
    assert_open_fails("", STORE_ERR_INVALID, "no database path given");
}

/* As the unprivileged user (trtest_unprivileged: no cmocka asserts). */
static int open_refused_as_read_only(void *arg)
{
    const fixture *f = arg;
    char err[2048] = "", want[2048];
    store *st = (store *)&err;   /* must be reset to NULL */
    store_status rc = store_open(f->db, &st, err, sizeof err);
    snprintf(want, sizeof want, "database %s is read-only (cannot open it for writing)", f->db);
    if (rc == STORE_ERR_READ_ONLY && st == NULL && strcmp(err, want) == 0)
        return 0;
    fprintf(stderr, "store_open of a read-only file: status %d, \"%s\"\n", (int)rc, err);
    if (rc == STORE_OK)
        store_close(st);
    return 1;
}

static void test_read_only_file(void **state)
{
    fixture *f = *state;
    char err[2048];
    store *st = NULL;
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    store_close(st);
    assert_int_equal(trtest_give_to_unprivileged(f->path), 0);
    if (trtest_make_readonly(f->db) != 0)
        skip();   /* Windows under Wine as root, without the immutable flag */
    assert_int_equal(trtest_unprivileged(open_refused_as_read_only, f), 0);
    assert_int_equal(trtest_make_writable(f->db), 0);
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    store_close(st);
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    char want[300];
    exec_sql(f->db, "CREATE TABLE future (x); PRAGMA user_version = 99;");
    snprintf(want, sizeof want,
             "database schema version 99 is newer than this program knows (%d); "
             "use a newer TLS Router", store_schema_latest());
    assert_open_fails(f->db, STORE_ERR_TOO_NEW, want);
}

static void test_migrates_version_1_keeping_data(void **state)
{
    fixture *f = *state;
    char err[2048];
    store *st = NULL;
    store_rule r;
    char **items = NULL;
    size_t n = 0;
    int version = 0;
    int64_t gen = 0;

    assert_int_equal(store_create_at_version(f->db, 1, err, sizeof err), STORE_OK);
    assert_int_equal(store_create_at_version(f->db, 1, err, sizeof err), STORE_ERR_EXISTS);
    /* Data as a version-1 program wrote it: its tables only. */
    exec_sql(f->db,
             "INSERT INTO rules (name, enabled, source_instance, pickup_dir, expired_cert, "
             "created_ms, updated_ms) VALUES ('old', 1, 3, 'C:\\Pickup', 1, 1000, 2000);"
             "INSERT INTO rule_domains VALUES (1, 'force-plain', 'legacy.example');"
             "INSERT INTO rule_domains VALUES (1, 'never-redirect', '*.bank.example');"
             "UPDATE settings SET value = 'debug' WHERE key = 'log_level';");
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 1);
        sqlite3_finalize(q);
        /* Version 1 has no generation counter yet. */
        assert_int_not_equal(sqlite3_prepare_v2(db, "SELECT * FROM config_generation", -1, &q, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
    }

    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_schema_version(st, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());
    assert_int_equal(store_rule_get(st, "old", &r), STORE_OK);
    assert_int_equal(r.source_instance, 3);
    assert_int_equal(r.expired_cert, 1);
    assert_string_equal(r.pickup_dir, "C:\\Pickup");
    assert_int_equal(r.created_ms, 1000);
    assert_int_equal(store_domains_list(st, "old", STORE_LIST_FORCE_PLAIN, &items, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0], "legacy.example");
    store_strings_free(items, n);
    assert_int_equal(store_domains_list(st, "old", STORE_LIST_NEVER_REDIRECT, &items, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0], "*.bank.example");
    store_strings_free(items, n);
    /* Version 1's settings kept, version 2's defaults added. */
    assert_int_equal(store_setting_int(st, "ttl_starttls_s", -1), 86400);
    {
        char level[32];
        assert_int_equal(store_setting_get(st, "log_level", level, sizeof level), STORE_OK);
        assert_string_equal(level, "debug");
    }
    assert_int_equal(store_generation(st, &gen), STORE_OK);
    assert_true(gen >= 1);
    store_close(st);

    /* A second open finds nothing to do and keeps everything. */
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_get(st, "old", &r), STORE_OK);
    store_close(st);
}

/* A journal written at version 6, before rows named their virtual server:
 * the upgrade keeps every row, with no server (NULL); new rows name theirs,
 * and the replay counts the old ones apart. */
static void test_migrates_version_6_journal(void **state)
{
    fixture *f = *state;
    char err[2048], sql[1024];
    store *st = NULL;
    int version = 0;
    int64_t now = plat_wall_ms();

    assert_int_equal(store_create_at_version(f->db, 6, err, sizeof err), STORE_OK);
    snprintf(sql, sizeof sql,
             "INSERT INTO rules (name, enabled, source_instance, pickup_dir, expired_cert,"
             " created_ms, updated_ms) VALUES ('Plain', 1, 1, 'C:\\Pickup', 0, 1, 1);"
             "INSERT INTO journal (at_ms, message_id, sender, recipient, domain, route, reason,"
             " status) VALUES (%lld, '<a@corp>', 's@corp', 'u1@old.example', 'old.example',"
             " 'tls', 'tls-ok', 'starttls'), (%lld, '<a@corp>', 's@corp', 'u2@old.example',"
             " 'old.example', 'tls', 'tls-ok', 'starttls');",
             (long long)now - 3600000, (long long)now - 3600000);
    exec_sql(f->db, sql);

    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_schema_version(st, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    journal_entry e = { .at_ms = now, .recipient = "u3@old.example", .domain = "old.example",
                        .reason = DECIDE_TLS_OK, .status = PROBE_STARTTLS,
                        .source_instance = 1 };
    assert_int_equal(journal_write(j, &e, 1, err, sizeof err), 0);
    journal_close(j);

    journal_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(journal_read(store_db(st), 10, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].recipient, "u3@old.example");
    assert_int_equal(rows[0].source_instance, 1);
    assert_string_equal(rows[2].recipient, "u1@old.example");
    assert_string_equal(rows[2].message_id, "<a@corp>");
    assert_string_equal(rows[2].reason, "tls-ok");
    assert_int_equal(rows[2].source_instance, 0);
    assert_int_equal(rows[1].source_instance, 0);
    free(rows);

    static const char *const fp[] = { "old.example" };
    replay_edit edit;
    replay_report report;
    replay_edit_init(&edit);
    edit.force_plain = fp;
    edit.n_force_plain = 1;
    edit.force_plain_given = 1;
    assert_int_equal(journal_replay_rule(st, "Plain", &edit, replay_since_ms(now, 7), &report,
                                         err, sizeof err),
                     STORE_OK);
    assert_int_equal(report.looked_at, 3);
    assert_int_equal(report.changed, 3);
    assert_int_equal(report.unattributed, 2);
    assert_int_equal(report.unattributed_replayed, 1);
    replay_report_free(&report);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TRTEST_SCRATCH_TEST(test_not_a_database),
        TRTEST_SCRATCH_TEST(test_missing_folder),
        TRTEST_SCRATCH_TEST(test_path_is_a_folder),
        TRTEST_SCRATCH_TEST(test_read_only_file),
        TRTEST_SCRATCH_TEST(test_newer_schema_refused),
        TRTEST_SCRATCH_TEST(test_migrates_version_1_keeping_data),
        TRTEST_SCRATCH_TEST(test_migrates_version_6_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
