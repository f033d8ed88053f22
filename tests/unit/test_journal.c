/* Journal and log on a real SQLite file (the expired cache: test_expcache). */
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
#include "journal.h"
#include "log.h"
#include "plat.h"
#include "journal_world.h"
#include "trtest.h"

typedef journal_world world;

static int setup(void **state)
{
    *state = journal_world_open("journal");
    return 0;
}

static int teardown(void **state)
{
    journal_world_close(*state);
    return 0;
}

static int64_t count(world *w, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(w->db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static journal_entry entry(int64_t at_ms, const char *rcpt, int plain)
{
    journal_entry e = { .at_ms = at_ms,
                        .message_id = "m1",
                        .sender = "s@corp.example",
                        .recipient = rcpt,
                        .domain = "x.example",
                        .plain = plain,
                        .reason = plain ? DECIDE_NO_STARTTLS : DECIDE_TLS_OK,
                        .status = plain ? PROBE_NO_STARTTLS : PROBE_STARTTLS,
                        .mx = "mx.x.example",
                        .tls_version = plain ? "" : "TLSv1.3",
                        .detail = "The remote SMTP service does not support TLS.",
                        .elapsed_ms = 12 };
    return e;
}

static void rows_of_a_message_written_and_read_back(void **state)
{
    world *w = *state;
    journal_entry rows[3] = { entry(1000, "a@x.example", 1), entry(1000, "b@x.example", 0),
                              entry(1000, "c@x.example", 0) };
    rows[2].message_id = NULL;
    char err[256];
    assert_int_equal(journal_write(w->j, rows, 3, err, sizeof err), 0);
    journal_row *got;
    size_t n;
    assert_int_equal(journal_read(w->db, 2, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    /* Newest first. */
    assert_string_equal(got[0].recipient, "c@x.example");
    assert_string_equal(got[0].message_id, "");
    assert_string_equal(got[1].recipient, "b@x.example");
    assert_string_equal(got[1].route, "tls");
    assert_string_equal(got[1].reason, "tls-ok");
    assert_string_equal(got[1].tls_version, "TLSv1.3");
    assert_string_equal(got[1].mx, "mx.x.example");
    assert_int_equal(got[1].elapsed_ms, 12);
    free(got);
    assert_int_equal(count(w, "SELECT count(*) FROM journal WHERE route = 'plain'"), 1);
}

/* Each row keeps the virtual server its message came from, through the
 * 16-row and the one-row insert alike; 0 (unknown) is stored as NULL and
 * read back as 0. */
static void each_row_names_its_virtual_server(void **state)
{
    world *w = *state;
    journal_entry rows[20];
    char rcpt[20][32], err[256];
    for (int i = 0; i < 20; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "u%d@x.example", i);
        rows[i] = entry(1000, rcpt[i], 0);
        rows[i].source_instance = i % 3;
    }
    assert_int_equal(journal_write(w->j, rows, 20, err, sizeof err), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM journal WHERE source_instance IS NULL"), 7);
    assert_int_equal(count(w, "SELECT count(*) FROM journal WHERE source_instance = 2"), 6);
    assert_int_equal(count(w, "SELECT count(*) FROM journal"
                              " WHERE source_instance = (id - 1) % 3"), 13);
    journal_row *got;
    size_t n;
    assert_int_equal(journal_read(w->db, 20, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i].source_instance, (int)(19 - i) % 3);
    free(got);
    journal_view *v = NULL;
    journal_row row;
    assert_int_equal(journal_view_open(w->db, NULL, &v, err, sizeof err), 0);
    assert_int_equal(journal_view_read(v, 1, 1, &row, err, sizeof err), 1);
    assert_string_equal(row.recipient, "u18@x.example");
    assert_int_equal(row.source_instance, 0);
    assert_int_equal(journal_view_read(v, 0, 1, &row, err, sizeof err), 1);
    assert_int_equal(row.source_instance, 1);
    journal_view_close(v);
}

/* Reads back the Message-ID of the newest row. */
static void newest_message_id(world *w, char *buf, size_t len)
{
    journal_row *got;
    size_t n;
    char err[256];
    assert_int_equal(journal_read(w->db, 1, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    snprintf(buf, len, "%s", got[0].message_id);
    free(got);
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int follow = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                   : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (follow < 0)
            return 0;
        p++;
        for (int i = 0; i < follow; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

/* A Message-ID over 998 bytes is stored cut and marked; one of 998 is kept
 * whole; a cut that would split a UTF-8 character backs up before it. */
static void a_long_message_id_is_cut_and_marked(void **state)
{
    world *w = *state;
    static char id[2001], stored[JOURNAL_MESSAGE_ID_MAX + 16];
    const size_t mark = strlen(JOURNAL_CUT_MARK);
    journal_entry e = entry(1000, "a@x.example", 0);
    char err[256];
    e.message_id = id;

    memset(id, 'a', 2000);
    id[2000] = '\0';
    assert_int_equal(journal_write(w->j, &e, 1, err, sizeof err), 0);
    newest_message_id(w, stored, sizeof stored);
    assert_int_equal(strlen(stored), JOURNAL_MESSAGE_ID_MAX);
    assert_string_equal(stored + JOURNAL_MESSAGE_ID_MAX - mark, JOURNAL_CUT_MARK);
    assert_memory_equal(stored, id, JOURNAL_MESSAGE_ID_MAX - mark);

    id[JOURNAL_MESSAGE_ID_MAX] = '\0';
    assert_int_equal(journal_write(w->j, &e, 1, err, sizeof err), 0);
    newest_message_id(w, stored, sizeof stored);
    assert_string_equal(stored, id);

    /* "\xE2\x82\xAC" (the euro sign) from byte 989 on: the cut at 990
     * would fall inside the first one. */
    memset(id, 'a', 989);
    for (size_t i = 989; i + 3 <= 2000; i += 3)
        memcpy(id + i, "\xE2\x82\xAC", 3);
    id[989 + 3 * ((2000 - 989) / 3)] = '\0';
    assert_int_equal(journal_write(w->j, &e, 1, err, sizeof err), 0);
    newest_message_id(w, stored, sizeof stored);
    assert_true(valid_utf8(stored));
    assert_int_equal(strlen(stored), 989 + mark);
    assert_string_equal(stored + 989, JOURNAL_CUT_MARK);
}

/* 40 rows over 8 messages: row i (0-based) goes to "u<i>@d<i%4>.example",
 * plain when i is odd; row 7's detail holds a literal "50%_off". */
static void write_view_rows(world *w)
{
    char rcpt[40][32], dom[40][16];
    journal_entry rows[40];
    char err[256];
    for (int i = 0; i < 40; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "u%d@d%d.example", i, i % 4);
        snprintf(dom[i], sizeof dom[i], "d%d.example", i % 4);
        rows[i] = entry(1000 + i, rcpt[i], i % 2);
        rows[i].domain = dom[i];
        if (i == 7)
            rows[i].detail = "50%_off";
    }
    for (int m = 0; m < 8; m++)
        assert_int_equal(journal_write(w->j, rows + 5 * m, 5, err, sizeof err), 0);
}

static journal_view *open_view(world *w, const char *text, const char *route, const char *reason)
{
    journal_filter f = { .text = text, .route = route, .reason = reason };
    journal_view *v = NULL;
    char err[256];
    if (journal_view_open(w->db, &f, &v, err, sizeof err) != 0)
        fail_msg("%s", err);
    return v;
}

/* Positions newest first, in a dense journal and one with holes; the set
 * is a snapshot; reads past the end are short. */
static void view_by_position(void **state)
{
    world *w = *state;
    journal_row rows[8];
    char err[256];
    journal_view *v = open_view(w, NULL, NULL, NULL);
    assert_int_equal(journal_view_count(v), 0);
    assert_int_equal(journal_view_read(v, 0, 8, rows, err, sizeof err), 0);
    journal_view_close(v);

    write_view_rows(w);
    v = open_view(w, "", "", "");
    assert_int_equal(journal_view_count(v), 40);
    assert_int_equal(journal_view_read(v, 0, 2, rows, err, sizeof err), 2);
    assert_string_equal(rows[0].recipient, "u39@d3.example");
    assert_string_equal(rows[0].route, "plain");
    assert_string_equal(rows[0].message_id, "m1");
    assert_string_equal(rows[1].recipient, "u38@d2.example");
    assert_int_equal(journal_view_read(v, 37, 8, rows, err, sizeof err), 3);
    assert_string_equal(rows[2].recipient, "u0@d0.example");
    /* Rows written after open do not shift positions. */
    journal_entry later = entry(5000, "late@x.example", 0);
    assert_int_equal(journal_write(w->j, &later, 1, err, sizeof err), 0);
    assert_int_equal(journal_view_read(v, 0, 1, rows, err, sizeof err), 1);
    assert_string_equal(rows[0].recipient, "u39@d3.example");
    journal_view_close(v);

    /* Holes (rows 11..20 gone): positions follow the rows that remain. */
    assert_int_equal(sqlite3_exec(w->db, "DELETE FROM journal WHERE id BETWEEN 11 AND 20",
                                  NULL, NULL, NULL), SQLITE_OK);
    v = open_view(w, NULL, NULL, NULL);
    assert_int_equal(journal_view_count(v), 31);
    assert_int_equal(journal_view_read(v, 0, 1, rows, err, sizeof err), 1);
    assert_string_equal(rows[0].recipient, "late@x.example");
    assert_int_equal(journal_view_read(v, 20, 3, rows, err, sizeof err), 3);
    assert_string_equal(rows[0].recipient, "u20@d0.example");
    assert_string_equal(rows[1].recipient, "u9@d1.example");
    assert_string_equal(rows[2].recipient, "u8@d0.example");
    journal_view_close(v);
}

static void view_filters(void **state)
{
    world *w = *state;
    journal_row rows[16];
    char err[256];
    write_view_rows(w);
    journal_view *v = open_view(w, NULL, "plain", NULL);
    assert_int_equal(journal_view_count(v), 20);
    assert_int_equal(journal_view_read(v, 0, 16, rows, err, sizeof err), 16);
    for (int i = 0; i < 16; i++)
        assert_string_equal(rows[i].route, "plain");
    assert_string_equal(rows[0].recipient, "u39@d3.example");
    assert_string_equal(rows[1].recipient, "u37@d1.example");
    journal_view_close(v);

    v = open_view(w, "D2.EXAMPLE", "tls", "tls-ok"); /* LIKE ignores ASCII case */
    assert_int_equal(journal_view_count(v), 10);
    assert_int_equal(journal_view_read(v, 9, 4, rows, err, sizeof err), 1);
    assert_string_equal(rows[0].recipient, "u2@d2.example");
    journal_view_close(v);

    /* The admin's % and _ are plain characters, not wildcards. */
    v = open_view(w, "50%_", NULL, NULL);
    assert_int_equal(journal_view_count(v), 1);
    assert_int_equal(journal_view_read(v, 0, 4, rows, err, sizeof err), 1);
    assert_string_equal(rows[0].recipient, "u7@d3.example");
    journal_view_close(v);
    v = open_view(w, "5_%", NULL, NULL);
    assert_int_equal(journal_view_count(v), 0);
    journal_view_close(v);
    v = open_view(w, NULL, NULL, "no-rule");
    assert_int_equal(journal_view_count(v), 0);
    journal_view_close(v);
}

/* Tracing: a Message-ID matches with or without its angle brackets, a
 * sender ignoring ASCII case, "<>" the null sender however it was stored;
 * never a part of a value. */
static void view_traces_a_message_or_a_sender(void **state)
{
    world *w = *state;
    char err[256];
    journal_entry rows[6];
    static const char *const ids[] = { "<a1@corp.example>", "<a1@corp.example>",
                                       "<b2@corp.example>", "a1@corp.example", "", "<n@x>" };
    static const char *const senders[] = { "Ann@Corp.Example", "Ann@Corp.Example",
                                           "ann@corp.example", "bob@corp.example", "", "<>" };
    for (int i = 0; i < 6; i++) {
        rows[i] = entry(1000 + i, "r@x.example", 0);
        rows[i].message_id = ids[i];
        rows[i].sender = senders[i];
        assert_int_equal(journal_write(w->j, &rows[i], 1, err, sizeof err), 0);
    }
    struct {
        const char *message_id, *sender;
        size_t want;
    } cases[] = {
        { "<a1@corp.example>", NULL, 3 },  { " a1@corp.example ", "", 3 },
        { "A1@corp.example", NULL, 0 },    { "a1@corp", NULL, 0 },
        { NULL, "ann@corp.example", 3 },   { NULL, "<ANN@CORP.EXAMPLE>", 3 },
        { NULL, "ann@corp", 0 },           { NULL, "<>", 2 },
        { "a1@corp.example", "ann@corp.example", 2 }, { "<>", NULL, 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        journal_filter f = { .message_id = cases[c].message_id, .sender = cases[c].sender };
        journal_view *v = NULL;
        if (journal_view_open(w->db, &f, &v, err, sizeof err) != 0)
            fail_msg("%s", err);
        if (journal_view_count(v) != cases[c].want)
            fail_msg("message-id %s sender %s: %lu rows, want %lu",
                     cases[c].message_id ? cases[c].message_id : "(any)",
                     cases[c].sender ? cases[c].sender : "(any)",
                     (unsigned long)journal_view_count(v), (unsigned long)cases[c].want);
        journal_view_close(v);
    }
    /* The search text looks into the sender and the Message-ID too. */
    journal_view *v = open_view(w, "B2@CORP", NULL, NULL);
    assert_int_equal(journal_view_count(v), 1);
    journal_view_close(v);
    v = open_view(w, "bob@", NULL, NULL);
    assert_int_equal(journal_view_count(v), 1);
    journal_view_close(v);
}

static void view_reports_a_missing_table(void **state)
{
    sqlite3 *db = NULL;
    journal_view *v = (journal_view *)state; /* any non-NULL value */
    char err[256] = "";
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(journal_view_open(db, NULL, &v, err, sizeof err), -1);
    assert_null(v);
    assert_non_null(strstr(err, "journal: no such table"));
    sqlite3_close(db);
}

static void a_failed_row_rolls_back_the_message(void **state)
{
    world *w = *state;
    char err[256];
    /* The database refuses one row in the middle of a message. */
    assert_int_equal(sqlite3_exec(w->db,
                                  "CREATE TRIGGER refuse BEFORE INSERT ON journal"
                                  " WHEN NEW.recipient = 'bad@x.example'"
                                  " BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    journal_entry rows[3] = { entry(1000, "a@x.example", 1), entry(1000, "bad@x.example", 0),
                              entry(1000, "c@x.example", 0) };
    assert_int_equal(journal_write(w->j, rows, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "refused by test"));
    /* All or nothing: the first row is gone with the rest. */
    assert_int_equal(count(w, "SELECT count(*) FROM journal"), 0);
    /* And the connection is usable again at once. */
    assert_int_equal(journal_write(w->j, rows, 1, err, sizeof err), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM journal"), 1);
}

static void a_large_message_keeps_every_row_in_order(void **state)
{
    world *w = *state;
    enum { N = 37 }; /* two multi-row statements and five single rows */
    journal_entry rows[N];
    char names[N][32];
    char err[256];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "r%02d@x.example", i);
        rows[i] = entry(5000 + i, names[i], i % 3 == 0);
    }
    assert_int_equal(journal_write(w->j, rows, N, err, sizeof err), 0);
    journal_row *got;
    size_t n;
    assert_int_equal(journal_read(w->db, 100, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        const journal_row *r = &got[N - 1 - i];
        assert_string_equal(r->recipient, names[i]);
        assert_int_equal(r->at_ms, 5000 + i);
        assert_string_equal(r->route, i % 3 == 0 ? "plain" : "tls");
    }
    free(got);
}

static void retention_by_rows_in_small_batches(void **state)
{
    world *w = *state;
    char err[256];
    journal_set_retention(w->j, 0, 100);
    int64_t now = plat_wall_ms();
    journal_entry rows[10];
    for (int m = 0; m < 100; m++) {
        for (int i = 0; i < 10; i++)
            rows[i] = entry(now, "a@x.example", 0);
        assert_int_equal(journal_write(w->j, rows, 10, err, sizeof err), 0);
    }
    assert_int_equal(count(w, "SELECT count(*) FROM journal"), 1000);
    int steps = 0, deleted;
    while ((deleted = journal_prune_step(w->j, now, 64)) > 0) {
        assert_true(deleted <= 64);
        steps++;
    }
    assert_int_equal(deleted, 0);
    assert_int_equal(steps, (900 + 63) / 64);
    assert_int_equal(count(w, "SELECT count(*) FROM journal"), 100);
    /* The newest rows are the ones kept. */
    assert_int_equal(count(w, "SELECT min(id) FROM journal"), 901);
}

static void retention_by_age(void **state)
{
    world *w = *state;
    char err[256];
    int64_t now = plat_wall_ms(), day = 86400000;
    journal_entry rows[4] = { entry(now - 40 * day, "old1@x.example", 0),
                              entry(now - 31 * day, "old2@x.example", 0),
                              entry(now - 29 * day, "new1@x.example", 0),
                              entry(now, "new2@x.example", 0) };
    for (int i = 0; i < 4; i++)
        assert_int_equal(journal_write(w->j, &rows[i], 1, err, sizeof err), 0);
    journal_set_retention(w->j, 30, 0);
    assert_int_equal(journal_prune_step(w->j, now, 1000), 2);
    assert_int_equal(journal_prune_step(w->j, now, 1000), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM journal WHERE recipient LIKE 'new%'"), 2);
    assert_int_equal(count(w, "SELECT count(*) FROM journal"), 2);
}

static void log_levels_filter_and_prune(void **state)
{
    world *w = *state;
    /* The enum follows the store's level names. */
    assert_int_equal(store_log_level_parse("full-debug"), LOG_FULL_DEBUG);
    assert_int_equal(store_log_level_parse("warning"), LOG_WARNING);
    assert_string_equal(store_log_level_name(LOG_DEBUG), "debug");
    assert_int_equal(log_write(w->db, LOG_WARNING, LOG_ERROR, "t", "e %d", 1), 0);
    assert_int_equal(log_write(w->db, LOG_WARNING, LOG_WARNING, "t", "w"), 0);
    assert_int_equal(log_write(w->db, LOG_WARNING, LOG_INFO, "t", "i"), 0);
    assert_int_equal(log_write(w->db, LOG_WARNING, LOG_FULL_DEBUG, "t", "fd"), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM log"), 2);
    assert_int_equal(count(w, "SELECT count(*) FROM log WHERE message = 'e 1' AND level = 0"), 1);
    for (int i = 0; i < 50; i++)
        log_write(w->db, LOG_FULL_DEBUG, LOG_DEBUG, "t", "row %d", i);
    assert_int_equal(log_prune_step(w->db, 10, 20), 20);
    assert_int_equal(log_prune_step(w->db, 10, 100), 22);
    assert_int_equal(log_prune_step(w->db, 10, 100), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM log"), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rows_of_a_message_written_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(each_row_names_its_virtual_server, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_row_rolls_back_the_message, setup, teardown),
        cmocka_unit_test_setup_teardown(a_long_message_id_is_cut_and_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(view_by_position, setup, teardown),
        cmocka_unit_test_setup_teardown(view_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(view_traces_a_message_or_a_sender, setup, teardown),
        cmocka_unit_test(view_reports_a_missing_table),
        cmocka_unit_test_setup_teardown(a_large_message_keeps_every_row_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_by_rows_in_small_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(log_levels_filter_and_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
