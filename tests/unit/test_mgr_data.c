/* mgr_data, the manager's door to the database: rules with their lists
 * through the store (new, edit with rename and list changes, refusals),
 * list validation messages, the positional journal view (dense and holed
 * ids, filters, windows at any position), the log level, the caches, and
 * "Test a domain" against the tests' DNS server and an SMTP peer on
 * loopback, guards included; the Plain TCP Server's Pickup backlog.
 * Portable C, so it runs natively under the sanitizers and under Wine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "dnsd.h"
#include "journal.h"
#include "explain.h"
#include "mgr_data.h"
#include "peer.h"
#include "plat.h"
#include "stats.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    mgr_db *db;
    char pickup[800];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[MGR_ERR_LEN];
    if (!f || trtest_scratch_make(&f->dir, "mgrdata") != 0)
        return -1;
    trtest_join(f->pickup, sizeof f->pickup, f->dir.path, "Pickup");
    if (mgr_db_open(f->dir.db, &f->db, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mgr_db_close(f->db);
    trtest_scratch_remove(&f->dir);
    free(f);
    return 0;
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

static void new_rule(fixture *f, mgr_rule *r, const char *name, const char *force,
                     const char *never)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->enabled = 1;
    r->source_instance = 1;
    snprintf(r->pickup_dir, sizeof r->pickup_dir, "%s", f->pickup);
    r->expired_cert = 1;
    r->force_plain = dup(force);
    r->never_redirect = dup(never);
}

/* The rule dialog trims what the admin typed on both sides (issue 12: only
 * trailing spaces were). */
static void test_trim_blanks_both_sides(void **state)
{
    char a[] = " \t Plain router \t ", b[] = "\t\t", c[] = "x", d[] = "";
    mgr_trim_blanks(a);
    mgr_trim_blanks(b);
    mgr_trim_blanks(c);
    mgr_trim_blanks(d);
    assert_string_equal(a, "Plain router");
    assert_string_equal(b, "");
    assert_string_equal(c, "x");
    assert_string_equal(d, "");
}

static void test_rule_saved_with_normalised_lists(void **state)
{
    fixture *f = *state;
    mgr_rule r, back = { 0 };
    char err[MGR_ERR_LEN];
    new_rule(f, &r, "TLS to Plain Router", "Example.ORG.\r\n\r\n  *.Legacy.example \r\n",
             "gmail.com\noutlook.com\ngmail.com\n");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), 0);
    assert_true(r.id > 0);
    assert_int_equal(mgr_rule_get(f->db, r.id, &back, err, sizeof err), 0);
    assert_string_equal(back.name, "TLS to Plain Router");
    assert_int_equal(back.expired_cert, 1);
    assert_string_equal(back.pickup_dir, f->pickup);
    assert_string_equal(back.force_plain, "*.legacy.example\nexample.org");
    assert_string_equal(back.never_redirect, "gmail.com\noutlook.com");
    mgr_rule_clear(&back);
    assert_int_equal(mgr_rule_find(f->db, "tls TO plain router", &back, err, sizeof err), 1);
    assert_int_equal(back.id, r.id);
    mgr_rule_clear(&back);
    assert_int_equal(mgr_rule_find(f->db, "Other", &back, err, sizeof err), 0);
    mgr_rule_clear(&r);
}

static void test_rule_edit_renames_and_changes_lists(void **state)
{
    fixture *f = *state;
    mgr_rule r, back = { 0 };
    char err[MGR_ERR_LEN];
    new_rule(f, &r, "First", "a.example\nb.example", "c.example");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), 0);
    int64_t id = r.id;

    snprintf(r.name, sizeof r.name, "Renamed");
    r.enabled = 0;
    r.expired_cert = 0;
    r.source_instance = 3;
    free(r.force_plain);
    r.force_plain = dup("b.example\nnew.example");
    free(r.never_redirect);
    r.never_redirect = dup("");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), 0);
    assert_int_equal(r.id, id);

    assert_int_equal(mgr_rule_get(f->db, id, &back, err, sizeof err), 0);
    assert_string_equal(back.name, "Renamed");
    assert_int_equal(back.enabled, 0);
    assert_int_equal(back.expired_cert, 0);
    assert_int_equal(back.source_instance, 3);
    assert_string_equal(back.force_plain, "b.example\nnew.example");
    assert_string_equal(back.never_redirect, "");
    mgr_rule_clear(&back);
    assert_int_equal(mgr_rule_find(f->db, "First", &back, err, sizeof err), 0);

    /* A change of case only is a rename too; a name the store refuses is
     * reported and leaves the rule as it was. */
    snprintf(r.name, sizeof r.name, "RENAMED");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), 0);
    assert_int_equal(mgr_rule_get(f->db, id, &back, err, sizeof err), 0);
    assert_string_equal(back.name, "RENAMED");
    mgr_rule_clear(&back);
    snprintf(r.name, sizeof r.name, " RENAMED");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), -1);
    assert_string_equal(err, "Could not rename the rule: rule name starts or ends with a space.");
    assert_int_equal(mgr_rule_get(f->db, id, &back, err, sizeof err), 0);
    assert_string_equal(back.name, "RENAMED");
    mgr_rule_clear(&back);
    mgr_rule_clear(&r);
}

static void test_duplicate_names_are_refused(void **state)
{
    fixture *f = *state;
    mgr_rule a, b, c;
    mgr_rule *all;
    size_t n;
    char err[MGR_ERR_LEN];
    new_rule(f, &a, "One", "", "");
    new_rule(f, &b, "ONE", "", "");
    assert_int_equal(mgr_rule_save(f->db, &a, err, sizeof err), 0);
    assert_int_equal(mgr_rule_save(f->db, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(b.id, 0);

    /* Renaming onto an existing name is refused the same way. */
    new_rule(f, &c, "Two", "", "");
    assert_int_equal(mgr_rule_save(f->db, &c, err, sizeof err), 0);
    snprintf(c.name, sizeof c.name, "one");
    assert_int_equal(mgr_rule_save(f->db, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "already exists"));

    assert_int_equal(mgr_rules_list(f->db, &all, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].name, "One");
    assert_string_equal(all[1].name, "Two");
    mgr_rules_free(all, n);

    assert_int_equal(mgr_rule_delete(f->db, a.id, err, sizeof err), 0);
    assert_int_equal(mgr_rules_list(f->db, &all, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    mgr_rules_free(all, n);
    assert_int_equal(mgr_rule_get(f->db, a.id, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "no longer exists"));
    mgr_rule_clear(&a);
    mgr_rule_clear(&b);
    mgr_rule_clear(&c);
}

static void test_domain_list_check_points_at_the_line(void **state)
{
    char reason[300];
    assert_int_equal(mgr_domains_check("", reason, sizeof reason), 0);
    assert_int_equal(mgr_domains_check("a.example\r\n\r\n*.b.example\r\n", reason, sizeof reason), 0);
    assert_int_equal(mgr_domains_check("a.example\n\n  bad_domain.example  \nc.example",
                                       reason, sizeof reason), 3);
    assert_non_null(strstr(reason, "\"bad_domain.example\""));
    assert_int_equal(mgr_domains_check("a.example\nuser@b.example", reason, sizeof reason), 2);
    assert_non_null(strstr(reason, "user@b.example"));
    assert_int_equal(mgr_domains_check("b.*.example", reason, sizeof reason), 1);
    assert_non_null(strstr(reason, "wildcard"));
    /* The force-plain list also refuses a whole top-level domain. */
    assert_int_equal(mgr_domains_check("a.example\n*.com", reason, sizeof reason), 0);
    assert_int_equal(mgr_force_plain_check("a.example\n*.com", reason, sizeof reason), 2);
    assert_non_null(strstr(reason, "\"*.com\": a force-plain pattern may not cover a whole "
                                   "top-level domain"));
    assert_int_equal(mgr_force_plain_check("a.example\n\nbad..x", reason, sizeof reason), 3);
    assert_int_equal(mgr_force_plain_check("a.example\r\n*.b.example", reason, sizeof reason), 0);
}

/* Saving goes through the store's check too: a rule whose force-plain
 * list covers a whole top-level domain is refused and not created. */
static void test_rule_with_a_whole_tld_forced_plain_refused(void **state)
{
    fixture *f = *state;
    mgr_rule r, *all;
    size_t n;
    char err[MGR_ERR_LEN];
    new_rule(f, &r, "tld", "ok.example\nnet", "com");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "force-plain list is not valid: a force-plain pattern may not cover"));
    assert_int_equal(mgr_rules_list(f->db, &all, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    mgr_rules_free(all, n);
    mgr_rule_clear(&r);
}

static void test_log_level(void **state)
{
    fixture *f = *state;
    char level[32], err[MGR_ERR_LEN];
    assert_int_equal(mgr_log_level_get(f->db, level, sizeof level, err, sizeof err), 0);
    assert_string_equal(level, "info");
    assert_int_equal(mgr_log_level_set(f->db, "full-debug", err, sizeof err), 0);
    assert_int_equal(mgr_log_level_get(f->db, level, sizeof level, err, sizeof err), 0);
    assert_string_equal(level, "full-debug");
    assert_int_equal(mgr_log_level_set(f->db, "loud", err, sizeof err), -1);
    assert_true(strlen(err) > 10);
    assert_int_equal(mgr_log_level_get(f->db, level, sizeof level, err, sizeof err), 0);
    assert_string_equal(level, "full-debug");
}

static void test_settings(void **state)
{
    fixture *f = *state;
    char value[64], err[MGR_ERR_LEN];
    assert_int_equal(mgr_setting_get(f->db, "probe_port", value, sizeof value, err, sizeof err), 0);
    assert_string_equal(value, "25");
    assert_int_equal(mgr_setting_set(f->db, "probe_port", "70000", err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(mgr_setting_set(f->db, "dns_servers", "not a server!", err, sizeof err), -1);
    assert_non_null(strstr(err, "dns_servers"));
    assert_int_equal(mgr_setting_set(f->db, "probe_port", "2525", err, sizeof err), 0);
    assert_int_equal(mgr_setting_get(f->db, "probe_port", value, sizeof value, err, sizeof err), 0);
    assert_string_equal(value, "2525");
}

/* n journal rows: id i goes plain when i % 4 == 0, recipient "u<i>@d<i%10>.example". */
static void fill_journal(fixture *f, int n)
{
    sqlite3 *db;
    char sql[1024];
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
             "INSERT INTO journal (id, at_ms, recipient, domain, route, reason, mx, detail) "
             "SELECT i, 1767225600000 + i, 'u' || i || '@d' || (i %% 10) || '.example', "
             "'d' || (i %% 10) || '.example', "
             "CASE WHEN i %% 4 = 0 THEN 'plain' ELSE 'tls' END, "
             "CASE WHEN i %% 4 = 0 THEN 'no-starttls' ELSE 'tls-ok' END, "
             "'mx.d' || (i %% 10) || '.example', "
             "CASE WHEN i = 77 THEN '100%% of_it' ELSE '' END FROM n", n);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The Status tab's live figures: what two processes wrote, summed. */
static void test_figures_text(void **state)
{
    fixture *f = *state;
    char text[600], err[MGR_ERR_LEN];
    assert_int_equal(mgr_figures_text(f->db, text, sizeof text, err, sizeof err), 0);
    assert_non_null(strstr(text, "0 messages, 0 recipients, 0 handed off (0 failed); "));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    stats_figures now, none;
    memset(&now, 0, sizeof now);
    memset(&none, 0, sizeof none);
    now.messages = 3;
    now.recipients = 5;
    now.handoffs = 2;
    now.probes[PROBE_STARTTLS] = 4;
    now.probe_joins = 6;
    now.refreshes = 1;
    now.cache_hits = 7;
    now.onarrival[stats_bucket_of(250)] = 3;
    now.onarrival_max_us = 1234;
    assert_int_equal(stats_flush(db, "one", &now, &none, 1000, 86400000, err, sizeof err), 0);
    memset(&none, 0, sizeof none);
    assert_int_equal(stats_flush(db, "two", &now, &none, 1000, 86400000, err, sizeof err), 0);
    sqlite3_close(db);
    assert_int_equal(mgr_figures_text(f->db, text, sizeof text, err, sizeof err), 0);
    assert_non_null(strstr(text, "6 messages, 10 recipients, 4 handed off (0 failed); 8 probes "
                                 "(12 shared), 2 refreshed ahead, 14 from the cache\n"));
    assert_non_null(strstr(text, "OnArrival: p50 0.300 ms, p95 0.300 ms, p99 0.300 ms, "
                                 "longest 1.234 ms"));
}

static void delete_rows(fixture *f, const char *where)
{
    sqlite3 *db;
    char sql[256];
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "DELETE FROM journal WHERE %s", where);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static mgr_journal_view *open_view(fixture *f, const char *text, const char *route,
                                   const char *reason)
{
    mgr_journal_filter flt;
    mgr_journal_view *v = NULL;
    char err[MGR_ERR_LEN];
    memset(&flt, 0, sizeof flt);
    snprintf(flt.text, sizeof flt.text, "%s", text);
    snprintf(flt.route, sizeof flt.route, "%s", route);
    snprintf(flt.reason, sizeof flt.reason, "%s", reason);
    assert_int_equal(mgr_journal_open(f->db, &flt, &v, err, sizeof err), 0);
    return v;
}

static void test_journal_view_positions(void **state)
{
    fixture *f = *state;
    mgr_journal_row rows[16];
    char err[MGR_ERR_LEN];
    fill_journal(f, 1000);

    mgr_journal_view *v = open_view(f, "", "", "");
    assert_int_equal(mgr_journal_count(v), 1000);
    assert_int_equal(mgr_journal_read(v, 0, 3, rows, err, sizeof err), 3);
    assert_int_equal(rows[0].id, 1000);
    assert_int_equal(rows[2].id, 998);
    assert_string_equal(rows[0].route, "plain");
    assert_string_equal(rows[0].recipient, "u1000@d0.example");
    assert_int_equal(mgr_journal_read(v, 995, 16, rows, err, sizeof err), 5);
    assert_int_equal(rows[4].id, 1);
    assert_int_equal(mgr_journal_read(v, 1000, 16, rows, err, sizeof err), 0);
    mgr_journal_close(v);

    /* Holes (retention, deletes): positions still map to the right rows. */
    delete_rows(f, "id BETWEEN 500 AND 599 OR id = 1000");
    v = open_view(f, "", "", "");
    assert_int_equal(mgr_journal_count(v), 899);
    assert_int_equal(mgr_journal_read(v, 0, 1, rows, err, sizeof err), 1);
    assert_int_equal(rows[0].id, 999);
    assert_int_equal(mgr_journal_read(v, 399, 3, rows, err, sizeof err), 3);
    assert_int_equal(rows[0].id, 600);
    assert_int_equal(rows[1].id, 499);
    assert_int_equal(rows[2].id, 498);
    mgr_journal_close(v);
}

static void test_journal_view_filters(void **state)
{
    /* Every reason the explain table has, in its order: the filter cannot
     * miss one (iis-domain-route, loop, guard-unknown, ... included). */
    size_t reasons = 0, explained = 0;
    while (mgr_journal_reason(reasons))
        reasons++;
    for (int r = 0; r < DECIDE_REASON_COUNT; r++)
        if (explain_reason((decide_reason)r)) {
            assert_string_equal(mgr_journal_reason(explained),
                                decide_reason_name((decide_reason)r));
            explained++;
        }
    assert_int_equal(reasons, explained);
    assert_true(reasons > 12);

    fixture *f = *state;
    mgr_journal_row rows[16];
    char err[MGR_ERR_LEN];
    fill_journal(f, 1000);

    mgr_journal_view *v = open_view(f, "", "plain", "");
    assert_int_equal(mgr_journal_count(v), 250);
    assert_int_equal(mgr_journal_read(v, 1, 2, rows, err, sizeof err), 2);
    assert_int_equal(rows[0].id, 996);
    assert_int_equal(rows[1].id, 992);
    mgr_journal_close(v);

    v = open_view(f, "@D3.EXAMPLE", "", "tls-ok");   /* text matches ignoring case */
    assert_int_equal(mgr_journal_count(v), 100);     /* i % 10 == 3 is odd: never plain */
    mgr_journal_close(v);

    v = open_view(f, "@d4.example", "tls", "no-starttls");
    assert_int_equal(mgr_journal_count(v), 0);
    assert_int_equal(mgr_journal_read(v, 0, 16, rows, err, sizeof err), 0);
    mgr_journal_close(v);

    /* LIKE's own characters are searched for literally. */
    v = open_view(f, "100%", "", "");
    assert_int_equal(mgr_journal_count(v), 1);
    assert_int_equal(mgr_journal_read(v, 0, 16, rows, err, sizeof err), 1);
    assert_int_equal(rows[0].id, 77);
    mgr_journal_close(v);
    v = open_view(f, "1_0", "", "");   /* unescaped, _ would match u100... */
    assert_int_equal(mgr_journal_count(v), 0);
    mgr_journal_close(v);
    v = open_view(f, "% of_", "", "");
    assert_int_equal(mgr_journal_count(v), 1);
    mgr_journal_close(v);
}

static void iso_time(int64_t at_ms, char *buf, size_t len)
{
    snprintf(buf, len, "t%lld", (long long)at_ms);
}

/* The manager's CSV export: every cell quoted, and cells a spreadsheet
 * would run as formulas (=, +, -, @, tab, CR first) start with an
 * apostrophe. Rows come from a real journal with a hostile detail. */
static void test_journal_export_neutralises_formulas(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    char err[MGR_ERR_LEN];
    size_t rows = 0, len;
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO journal (id, at_ms, recipient, domain, route, reason, mx, detail, sender,"
        " message_id) VALUES"
        " (1, 5, '=1+2@d.example', 'd.example', 'plain', 'no-starttls', '@mx.d.example',"
        "  '=HYPERLINK(\"http://x.example\",\"y\")', '=cmd@s.example', '<m5@s.example>'),"
        " (2, 6, '+1@d.example', 'd.example', 'tls', 'tls-ok', '-mx', char(9) || 'tab', '', ''),"
        " (3, 7, 'a@d.example', 'd.example', 'tls', 'tls-ok', 'mx', char(13) || 'cr', '', '')",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char path[900];
    trtest_join(path, sizeof path, f->dir.path, "export.csv");
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    mgr_journal_filter all;
    memset(&all, 0, sizeof all);
    assert_int_equal(mgr_journal_export_csv(f->db, &all, out, iso_time, &rows, err, sizeof err), 0);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rows, 3);
    char *csv = trtest_read_file(path, &len);
    assert_non_null(csv);
    assert_string_equal(csv,
        "\xEF\xBB\xBFtime,recipient,domain,route,reason,mx,tls_version,sender,message_id,"
        "detail\r\n"
        "\"t7\",\"a@d.example\",\"d.example\",\"tls\",\"tls-ok\",\"mx\",\"\",\"\",\"\",\"'\rcr\"\r\n"
        "\"t6\",\"'+1@d.example\",\"d.example\",\"tls\",\"tls-ok\",\"'-mx\",\"\",\"\",\"\","
        "\"'\ttab\"\r\n"
        "\"t5\",\"'=1+2@d.example\",\"d.example\",\"plain\",\"no-starttls\",\"'@mx.d.example\","
        "\"\",\"'=cmd@s.example\",\"<m5@s.example>\","
        "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\"\r\n");
    free(csv);
}

/* Tracing a complaint: three recipients of one message, one of another
 * message by the same sender, one unrelated; the search text finds the
 * sender and the Message-ID too. */
static void seed_trace(fixture *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO journal (id, at_ms, message_id, sender, recipient, domain, route, reason,"
        " mx, detail) VALUES"
        " (1, 10, '<m1@s.example>', 'Boss@S.example', 'a@x.example', 'x.example', 'tls',"
        "  'tls-ok', 'mx.x.example', ''),"
        " (2, 10, '<m1@s.example>', 'Boss@S.example', 'b@old.example', 'old.example', 'plain',"
        "  'no-starttls', 'mx.old.example', 'The remote SMTP service does not support TLS.'),"
        " (3, 10, '<m1@s.example>', 'Boss@S.example', 'c@y.example', 'y.example', 'tls',"
        "  'sts-policy', 'mx.y.example', ''),"
        " (4, 20, '<m2@s.example>', 'boss@s.example', 'd@x.example', 'x.example', 'tls',"
        "  'tls-ok', 'mx.x.example', ''),"
        " (5, 30, '<m3@other.example>', 'other@other.example', 'e@x.example', 'x.example',"
        "  'tls', 'tls-ok', 'mx.x.example', '')", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static size_t trace_count(fixture *f, const char *message_id, const char *sender,
                          mgr_journal_row *rows, size_t n)
{
    mgr_journal_filter flt;
    mgr_journal_view *v;
    char err[MGR_ERR_LEN];
    memset(&flt, 0, sizeof flt);
    snprintf(flt.message_id, sizeof flt.message_id, "%s", message_id);
    snprintf(flt.sender, sizeof flt.sender, "%s", sender);
    assert_int_equal(mgr_journal_open(f->db, &flt, &v, err, sizeof err), 0);
    size_t count = mgr_journal_count(v);
    assert_true(mgr_journal_read(v, 0, n, rows, err, sizeof err) >= 0);
    mgr_journal_close(v);
    return count;
}

static void test_journal_trace_and_sender_columns(void **state)
{
    fixture *f = *state;
    mgr_journal_row rows[8];
    seed_trace(f);
    assert_int_equal(trace_count(f, "m1@s.example", "", rows, 8), 3);
    assert_string_equal(rows[0].recipient, "c@y.example");
    assert_string_equal(rows[1].reason, "no-starttls");
    assert_string_equal(rows[2].recipient, "a@x.example");
    assert_string_equal(rows[0].message_id, "<m1@s.example>");
    assert_string_equal(rows[0].sender, "Boss@S.example");
    /* The sender in any case: both of Boss's messages, not the other. */
    assert_int_equal(trace_count(f, "", "<boss@s.example>", rows, 8), 4);
    assert_string_equal(rows[0].recipient, "d@x.example");
    assert_int_equal(trace_count(f, "m9@s.example", "", rows, 8), 0);

    mgr_journal_view *v = open_view(f, "m3@other", "", "");   /* search: Message-ID */
    assert_int_equal(mgr_journal_count(v), 1);
    mgr_journal_close(v);
    v = open_view(f, "BOSS@", "", "");                        /* search: sender */
    assert_int_equal(mgr_journal_count(v), 4);
    mgr_journal_close(v);
}

/* The details pane: the row's fields and its reason in plain words, from
 * the explain table. */
static void test_journal_details_explain_the_reason(void **state)
{
    fixture *f = *state;
    mgr_journal_row rows[8];
    char text[4096];
    seed_trace(f);
    assert_int_equal(trace_count(f, "<m1@s.example>", "", rows, 8), 3);
    mgr_journal_details(&rows[1], iso_time, text, sizeof text);
    const explain_text *why = explain_lookup("no-starttls");
    assert_non_null(why);
    assert_non_null(strstr(text, "b@old.example"));
    assert_non_null(strstr(text, "Sender: Boss@S.example   Message-ID: <m1@s.example>\r\n"));
    assert_non_null(strstr(text, "\r\nDetail: The remote SMTP service does not support TLS."));
    assert_non_null(strstr(text, why->title));
    assert_non_null(strstr(text, why->meaning));
    assert_non_null(strstr(text, why->action));

    snprintf(rows[1].reason, sizeof rows[1].reason, "from-the-future");
    mgr_journal_details(&rows[1], iso_time, text, sizeof text);
    assert_non_null(strstr(text, "no explanation of the reason 'from-the-future'"));
    char small[40];                        /* cut short, still a string */
    mgr_journal_details(&rows[0], iso_time, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

/* The log table as the Log tab reads it: i = 1..300, level i % 5, source
 * "probe" for even i; message 'line i', and 'Needle' in every 50th. */
static void fill_log(fixture *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
        "INSERT INTO log (id, at_ms, level, source, message) "
        "SELECT i, 1767225600000 + i, i % 5, CASE WHEN i % 2 = 0 THEN 'probe' ELSE 'sink' END, "
        "'line ' || i || CASE WHEN i % 50 = 0 THEN ' has a Needle' ELSE '' END FROM n",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static mgr_log_view *open_log(fixture *f, log_level level, const char *text)
{
    mgr_log_filter flt = { .level = level };
    mgr_log_view *v;
    char err[MGR_ERR_LEN];
    snprintf(flt.text, sizeof flt.text, "%s", text);
    assert_int_equal(mgr_log_open(f->db, &flt, &v, err, sizeof err), 0);
    return v;
}

static void test_log_view_positions_and_filters(void **state)
{
    fixture *f = *state;
    log_row rows[4];
    char err[MGR_ERR_LEN];
    fill_log(f);
    mgr_log_view *v = open_log(f, LOG_FULL_DEBUG, "");
    assert_int_equal(mgr_log_count(v), 300);
    assert_int_equal(mgr_log_read(v, 0, 2, rows, err, sizeof err), 2);
    assert_int_equal(rows[0].id, 300);
    assert_string_equal(rows[1].message, "line 299");
    assert_string_equal(rows[1].source, "sink");
    mgr_log_close(v);

    /* Warning and more severe: levels 0 and 1, 120 of 300. */
    v = open_log(f, LOG_WARNING, "");
    assert_int_equal(mgr_log_count(v), 120);
    assert_int_equal(mgr_log_read(v, 1, 3, rows, err, sizeof err), 3);
    assert_int_equal(rows[0].id, 296);
    assert_int_equal(rows[1].id, 295);
    assert_int_equal(rows[2].id, 291);
    assert_string_equal(mgr_log_level_word(rows[1].level), "error");
    assert_string_equal(mgr_log_level_word(rows[2].level), "warning");
    assert_int_equal(mgr_log_read(v, 119, 3, rows, err, sizeof err), 1);
    assert_int_equal(rows[0].id, 1);
    mgr_log_close(v);

    v = open_log(f, LOG_FULL_DEBUG, "NEEDLE");   /* any case */
    assert_int_equal(mgr_log_count(v), 6);
    mgr_log_close(v);
    v = open_log(f, LOG_FULL_DEBUG, "PROBE");    /* the source too */
    assert_int_equal(mgr_log_count(v), 150);
    mgr_log_close(v);
    v = open_log(f, LOG_ERROR, "needle");        /* 50 * k % 5 == 0: all errors */
    assert_int_equal(mgr_log_count(v), 6);
    mgr_log_close(v);
    v = open_log(f, LOG_FULL_DEBUG, "%");        /* typed text, no wildcard */
    assert_int_equal(mgr_log_count(v), 0);
    mgr_log_close(v);
}

/* Rows pruned after the view opened are skipped, never shown in another
 * position's place. */
static void test_log_view_skips_pruned_rows(void **state)
{
    fixture *f = *state;
    log_row rows[8];
    char err[MGR_ERR_LEN];
    sqlite3 *db;
    fill_log(f);
    mgr_log_view *v = open_log(f, LOG_FULL_DEBUG, "");
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM log WHERE id <= 5", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(mgr_log_read(v, 292, 8, rows, err, sizeof err), 3);
    assert_int_equal(rows[0].id, 8);
    assert_int_equal(rows[2].id, 6);
    mgr_log_close(v);
}

static void test_log_export_csv(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    char err[MGR_ERR_LEN];
    size_t rows = 0, len;
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO log (id, at_ms, level, source, message) VALUES"
        " (1, 5, 0, 'sink', '=2+3 said the server'), (2, 6, 3, 'probe', 'EHLO \"x\"'),"
        " (3, 7, 4, 'probe', 'full debug line')", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char path[900];
    trtest_join(path, sizeof path, f->dir.path, "log.csv");
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    mgr_log_filter flt = { .level = LOG_DEBUG };
    assert_int_equal(mgr_view_export_csv(&mgr_log_ops, f->db, &flt, out, iso_time, &rows, err,
                                         sizeof err), 0);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rows, 2);
    char *csv = trtest_read_file(path, &len);
    assert_non_null(csv);
    assert_string_equal(csv, "\xEF\xBB\xBFtime,level,source,message\r\n"
                             "\"t6\",\"debug\",\"probe\",\"EHLO \"\"x\"\"\"\r\n"
                             "\"t5\",\"error\",\"sink\",\"'=2+3 said the server\"\r\n");
    free(csv);
}

static void test_caches_list_and_clear(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    mgr_expired_row *ex;
    mgr_probe_row *pr;
    size_t n;
    char err[MGR_ERR_LEN];
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO expired_cache (domain, mx, cert_not_after, first_seen_ms, last_seen_ms, "
        "expires_ms, confirmed_ms, next_check_ms) VALUES ('b.example', 'mx.b.example', "
        "1700000000, 1, 2, 4102444800000, 2, 14400002), "
        "('a.example', '', NULL, 1, 2, 4102444800000, NULL, 600001);"
        "INSERT INTO probe_cache (domain, status, probed_ms, expires_ms) "
        "VALUES ('c.example', 'no-starttls', 1, 4102444800000);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(mgr_expired_list(f->db, &ex, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ex[0].domain, "a.example");
    assert_int_equal(ex[0].cert_not_after, 0);
    assert_string_equal(ex[1].mx, "mx.b.example");
    assert_int_equal(ex[1].cert_not_after, 1700000000);
    assert_false(ex[0].confirmed);
    assert_int_equal(ex[0].next_check_ms, 600001);
    assert_true(ex[1].confirmed);
    assert_int_equal(ex[1].next_check_ms, 14400002);
    free(ex);
    assert_int_equal(mgr_probe_list(f->db, &pr, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(pr[0].status, "no-starttls");
    free(pr);

    assert_int_equal(mgr_expired_clear(f->db, err, sizeof err), 0);
    assert_int_equal(mgr_expired_list(f->db, &ex, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    free(ex);
    assert_int_equal(mgr_probe_list(f->db, &pr, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);   /* the other cache is untouched */
    free(pr);
    assert_int_equal(mgr_probe_clear(f->db, err, sizeof err), 0);
    assert_int_equal(mgr_probe_list(f->db, &pr, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    free(pr);
    assert_true(mgr_db_file_size(f->db) > 0);
}

/* One domain leaves the expired-certificate list; the others stay. */
static void test_expired_remove_one(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    mgr_expired_row *ex;
    size_t n;
    char err[MGR_ERR_LEN];
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO expired_cache (domain, first_seen_ms, last_seen_ms, expires_ms) VALUES "
        "('a.example', 1, 2, 4102444800000), ('b.example', 1, 2, 4102444800000);",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(mgr_expired_remove(f->db, "b.example", err, sizeof err), 1);
    assert_int_equal(mgr_expired_remove(f->db, "b.example", err, sizeof err), 0);
    assert_int_equal(mgr_expired_list(f->db, &ex, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ex[0].domain, "a.example");
    free(ex);
}

/* The Overview's read puts the days, the top list, the caches and the
 * live figures' words together (core/overview.c has the details). */
static void test_overview_read(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    mgr_overview o;
    char err[MGR_ERR_LEN];
    int64_t now = plat_wall_ms();
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO journal (at_ms, recipient, domain, route, reason) VALUES "
             "(%lld, 'a@p.example', 'p.example', 'plain', 'no-starttls'), "
             "(%lld, 'b@t.example', 't.example', 'tls', 'tls-ok'), "
             "(%lld, 'c@old.example', 'old.example', 'plain', 'no-starttls');"
             "INSERT INTO expired_cache (domain, first_seen_ms, last_seen_ms, expires_ms) "
             "VALUES ('x.example', 1, 2, 3);",
             (long long)now, (long long)now, (long long)(now - 15 * OVERVIEW_DAY_MS));
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(mgr_overview_read(f->db, now, &o, err, sizeof err), 0);
    assert_int_equal(o.days[OVERVIEW_DAYS - 1].plain, 1);
    assert_int_equal(o.days[OVERVIEW_DAYS - 1].tls, 1);
    assert_int_equal(o.top_count, 1);
    assert_string_equal(o.top[0].domain, "p.example");
    assert_int_equal(o.caches.expired_rows, 1);
    assert_non_null(strstr(o.figures, "OnArrival: p50 "));
}

/* A newer version may journal a reason or cache a status this one has no
 * word for: the console shows the word as it is stored. */
static void test_words_of_a_newer_version_shown_as_stored(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    mgr_journal_row rows[2];
    mgr_probe_row *pr;
    size_t n;
    char err[MGR_ERR_LEN];
    assert_int_equal(sqlite3_open(f->dir.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO journal (at_ms, recipient, domain, route, reason, status) VALUES "
        "(1767225600000, 'a@future.example', 'future.example', 'tls', 'from-the-future', "
        "'probe-of-tomorrow');"
        "INSERT INTO probe_cache (domain, status, probed_ms, expires_ms) "
        "VALUES ('future.example', 'from-the-future', 1, 4102444800000);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    mgr_journal_view *v = open_view(f, "", "", "");
    assert_int_equal(mgr_journal_read(v, 0, 2, rows, err, sizeof err), 1);
    assert_string_equal(rows[0].reason, "from-the-future");
    mgr_journal_close(v);
    assert_int_equal(mgr_probe_list(f->db, &pr, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(pr[0].status, "from-the-future");
    free(pr);
}

static void test_open_refuses_a_missing_folder(void **state)
{
    fixture *f = *state;
    mgr_db *db = NULL;
    char path[1200], err[MGR_ERR_LEN];
    snprintf(path, sizeof path, "%s%sno-such-folder%st.db", f->dir.path, plat_dir_sep(),
             plat_dir_sep());
    assert_int_equal(mgr_db_open(path, &db, err, sizeof err), -1);
    assert_null(db);
    assert_non_null(strstr(err, "Could not open the database"));
}

/* "Test a domain": the whole result, and a no-downgrade guard that
 * overrules the probe's verdict is said first. A DNS server and an SMTP
 * peer without STARTTLS on loopback. */
static void test_probe_report_shows_guards(void **state)
{
    fixture *f = *state;
    static const unsigned char digest[32] = { 0x5e, 0xc0, 0x4e };
    dnsd *dns = dnsd_start();
    peer *smtp = peer_start(PEER_NO_STARTTLS, NULL);
    char err[MGR_ERR_LEN], port[16], *report = NULL;
    store *st;
    assert_non_null(dns);
    assert_non_null(smtp);
    dnsd_add_mx(dns, "dane.test", 10, "mx.dane.test");
    dnsd_set_ad(dns, "dane.test");
    dnsd_add_a(dns, "mx.dane.test", 127, 0, 0, 1);
    dnsd_add_tlsa(dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.dane.test");
    dnsd_add_mx(dns, "open.test", 10, "mx.open.test");
    dnsd_add_a(dns, "mx.open.test", 127, 0, 0, 1);
    /* Validated TLSA records, but the MX RRset is not (RFC 7672 2.2). */
    dnsd_add_mx(dns, "mxinsecure.test", 10, "mx.mxinsecure.test");
    dnsd_add_a(dns, "mx.mxinsecure.test", 127, 0, 0, 1);
    dnsd_add_tlsa(dns, "_25._tcp.mx.mxinsecure.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.mxinsecure.test");
    snprintf(port, sizeof port, "%u", peer_port(smtp));
    assert_int_equal(store_open(f->dir.db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(st, "dns_servers", dnsd_server(dns)), STORE_OK);
    assert_int_equal(store_setting_set(st, "probe_port", port), STORE_OK);
    assert_int_equal(store_setting_set(st, "total_timeout_ms", "5000"), STORE_OK);
    store_close(st);

    assert_int_equal(mgr_probe_domain(f->dir.db, "DANE.test.", &report, err, sizeof err), 0);
    assert_non_null(strstr(report, "Domain: dane.test\nResult: no-starttls\n"));
    assert_non_null(strstr(report, "Mail server: mx.dane.test (127.0.0.1)\n"));
    assert_non_null(strstr(report, "No-downgrade guard: "));
    assert_non_null(strstr(report, "(DANE) for its mail server: TLS Router never hands its mail"));
    free(report);

    assert_int_equal(mgr_probe_domain(f->dir.db, "open.test", &report, err, sizeof err), 0);
    assert_non_null(strstr(report, "Result: no-starttls\n"));
    assert_non_null(strstr(report, "No-downgrade guard: no MTA-STS enforce policy, no DANE records.\n"));
    assert_null(strstr(report, "never hands its mail"));
    free(report);

    assert_int_equal(mgr_probe_domain(f->dir.db, "mxinsecure.test", &report, err, sizeof err), 0);
    assert_non_null(strstr(report, "Result: no-starttls\n"));
    assert_non_null(strstr(report, "No-downgrade guard: DANE does not apply: TLSA at "
                                   "_25._tcp.mx.mxinsecure.test is DNSSEC-validated"));
    assert_null(strstr(report, "never hands its mail"));
    free(report);

    assert_int_equal(mgr_probe_domain(f->dir.db, "bad..name", &report, err, sizeof err), -1);
    assert_null(report);
    assert_non_null(strstr(err, "is not a domain name"));
    peer_stop(smtp);
    dnsd_stop(dns);
}

/* A result as a stack would leave it: version "" when no handshake. */
static probe_result stack_result(tls_stack stack, probe_status status, const char *version,
                                 const char *cipher, const char *error)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.mx, sizeof r.mx, "mx.new.test");
    r.stack = stack;
    r.status = status;
    snprintf(r.tls_version, sizeof r.tls_version, "%s", version);
    snprintf(r.cipher, sizeof r.cipher, "%s", cipher);
    snprintf(r.error, sizeof r.error, "%s", error);
    return r;
}

/* "Test a domain" on Windows holds Schannel's verdict against OpenSSL's
 * and says plainly what a difference means. */
static void test_stack_comparison(void **state)
{
    char out[1024];
    probe_result schannel_failed =
        stack_result(TLS_STACK_SCHANNEL, PROBE_HANDSHAKE_FAILED, "", "",
                     "TLS handshake failed: Schannel: the handshake failed inside Schannel");
    probe_result openssl13 = stack_result(TLS_STACK_OPENSSL, PROBE_STARTTLS, "TLSv1.3",
                                          "TLS_AES_256_GCM_SHA384", "");
    probe_result openssl12 = stack_result(TLS_STACK_OPENSSL, PROBE_STARTTLS, "TLSv1.2",
                                          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "");
    probe_result schannel12 = stack_result(TLS_STACK_SCHANNEL, PROBE_STARTTLS, "TLSv1.2",
                                           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "");
    probe_result openssl_failed = stack_result(TLS_STACK_OPENSSL, PROBE_HANDSHAKE_FAILED, "", "",
                                               "TLS handshake failed: no shared cipher");
    probe_result no_handshake = stack_result(TLS_STACK_NONE, PROBE_TIMEOUT, "", "", "");
    (void)state;

    mgr_stack_comparison(&schannel_failed, &openssl13, out, sizeof out);
    assert_non_null(strstr(out, "This Windows cannot negotiate TLS with mx.new.test: Schannel "
                                "failed (TLS handshake failed: Schannel"));
    assert_non_null(strstr(out, "OpenSSL negotiated TLSv1.3 with TLS_AES_256_GCM_SHA384"));
    assert_non_null(strstr(out, "The server settled on TLS 1.3, which this Windows does not "
                                "offer"));
    assert_non_null(strstr(out, "its mail goes through the Plain TCP server"));

    mgr_stack_comparison(&schannel_failed, &openssl12, out, sizeof out);
    assert_non_null(strstr(out, "This Windows cannot negotiate TLS with mx.new.test"));
    assert_non_null(strstr(out, "offers no protocol version or cipher suite the server accepts"));
    assert_null(strstr(out, "TLS 1.3"));

    mgr_stack_comparison(&schannel12, &openssl_failed, out, sizeof out);
    assert_non_null(strstr(out, "Schannel on this Windows negotiates TLS with mx.new.test; "
                                "OpenSSL could not (TLS handshake failed: no shared cipher)"));

    mgr_stack_comparison(&schannel12, &openssl13, out, sizeof out);
    assert_non_null(strstr(out, "negotiated TLSv1.2 with mx.new.test; OpenSSL, offering TLS "
                                "1.3 too, got TLSv1.3"));

    mgr_stack_comparison(&schannel12, &openssl12, out, sizeof out);
    assert_string_equal(out, ""); /* they agree */
    mgr_stack_comparison(&schannel_failed, &no_handshake, out, sizeof out);
    assert_string_equal(out, ""); /* nothing to hold up */
}

/* Before saving, the domains the force-plain list would add are asked
 * for MTA-STS and DANE: one that publishes DANE makes a question; nothing
 * published, a wildcard, or a domain the rule already forced: none. The
 * tests' DNS server with DNSSEC-validated TLSA records. */
static void test_force_plain_review_asks_about_published_policies(void **state)
{
    fixture *f = *state;
    static const unsigned char digest[32] = { 0xab, 0xcd };
    dnsd *dns = dnsd_start();
    char err[MGR_ERR_LEN], *question = NULL;
    store *st;
    assert_non_null(dns);
    dnsd_add_mx(dns, "dane.test", 10, "mx.dane.test");
    dnsd_set_ad(dns, "dane.test");
    dnsd_add_a(dns, "mx.dane.test", 127, 0, 0, 1);
    dnsd_add_tlsa(dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.dane.test");
    dnsd_add_mx(dns, "plain.test", 10, "mx.plain.test");
    dnsd_add_a(dns, "mx.plain.test", 127, 0, 0, 1);
    assert_int_equal(store_open(f->dir.db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(st, "dns_servers", dnsd_server(dns)), STORE_OK);
    store_close(st);

    assert_int_equal(mgr_force_plain_review(f->dir.db, 0, "plain.test\r\nDANE.test\n*.x.example",
                                            &question, err, sizeof err), 0);
    assert_non_null(question);
    assert_non_null(strstr(question, "dane.test publishes DANE (DNSSEC-validated TLSA records "
                                     "for its mail server mx.dane.test), which requires TLS"));
    assert_non_null(strstr(question, "\n\nSave the rule anyway?"));
    assert_null(strstr(question, "plain.test"));
    free(question);

    assert_int_equal(mgr_force_plain_review(f->dir.db, 0, "plain.test", &question, err,
                                            sizeof err), 0);
    assert_null(question);

    /* The admin said yes once: saving the rule again does not ask again. */
    mgr_rule r;
    new_rule(f, &r, "r", "dane.test", "");
    assert_int_equal(mgr_rule_save(f->db, &r, err, sizeof err), 0);
    assert_int_equal(mgr_force_plain_review(f->dir.db, r.id, "dane.test\nplain.test", &question,
                                            err, sizeof err), 0);
    assert_null(question);
    mgr_rule_clear(&r);
    dnsd_stop(dns);
}

/* The Status tab's Plain TCP Server line: the first enabled rule's Pickup
 * folder, how many files wait there and how long the oldest has; one
 * waiting past PICKUP_UNDRAINED_MS means nothing picks the mail up. */
static void test_plain_server_backlog(void **state)
{
    fixture *f = *state;
    mgr_plain_server p;
    mgr_rule off, on;
    char err[MGR_ERR_LEN], young[900], old[900];
    int64_t now = plat_wall_ms();

    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_NO_RULE);
    new_rule(f, &off, "disabled", "", "");
    off.enabled = 0;
    trtest_join(off.pickup_dir, sizeof off.pickup_dir, f->dir.path, "Other");
    assert_int_equal(mgr_rule_save(f->db, &off, err, sizeof err), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_NO_RULE);

    new_rule(f, &on, "enabled", "", "");
    assert_int_equal(mgr_rule_save(f->db, &on, err, sizeof err), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_UNREADABLE);   /* not created yet */
    assert_string_equal(p.rule, "enabled");
    assert_string_equal(p.pickup_dir, f->pickup);

    assert_int_equal(plat_mkdir(f->pickup), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_DRAINED);
    assert_int_equal(p.waiting, 0);

    trtest_join(young, sizeof young, f->pickup, "young.eml");
    assert_int_equal(trtest_write_file(young, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(trtest_set_mtime(young, (long long)now - 60 * 1000), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_PICKING_UP);
    assert_int_equal(p.waiting, 1);

    trtest_join(old, sizeof old, f->pickup, "old.eml");
    assert_int_equal(trtest_write_file(old, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(trtest_set_mtime(old, (long long)now - 10 * 60 * 1000), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_NOT_DRAINED);
    assert_int_equal(p.waiting, 2);
    /* File times may be kept to the second. */
    assert_in_range(p.oldest_age_ms, 10 * 60 * 1000 - 2000, 10 * 60 * 1000 + 2000);

    /* A second virtual server's rule, its folder missing: the mail waiting
     * at the first still comes first... */
    mgr_rule second;
    new_rule(f, &second, "second", "", "");
    second.source_instance = 2;
    trtest_join(second.pickup_dir, sizeof second.pickup_dir, f->dir.path, "SecondPickup");
    assert_int_equal(mgr_rule_save(f->db, &second, err, sizeof err), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_NOT_DRAINED);
    assert_string_equal(p.rule, "enabled");
    /* ...and once that is delivered, the second's missing folder shows. */
    assert_int_equal(remove(young), 0);
    assert_int_equal(remove(old), 0);
    assert_int_equal(mgr_plain_server_read(f->db, now, &p, err, sizeof err), 0);
    assert_int_equal(p.state, MGR_PLAIN_UNREADABLE);
    assert_string_equal(p.rule, "second");
    mgr_rule_clear(&second);
    mgr_rule_clear(&off);
    mgr_rule_clear(&on);
}

/* ---- What-if: the rule dialog's Preview ---- */

/* n recipients from virtual server source (0: journalled before the
 * router recorded it). */
static void preview_rows(fixture *f, int source, const char *domain, int plain,
                         decide_reason reason, probe_status status, int n)
{
    store *st;
    char err[256], rcpt[8][300];
    journal_entry rows[8];
    assert_int_equal(store_open(f->dir.db, &st, err, sizeof err), STORE_OK);
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    for (int i = 0; i < n; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "u%d@%s", i, domain);
        rows[i] = (journal_entry){ .at_ms = plat_wall_ms() - 3600000, .recipient = rcpt[i],
                                   .domain = domain, .plain = plain, .reason = reason,
                                   .status = status, .source_instance = source };
    }
    assert_int_equal(journal_write(j, rows, (size_t)n, err, sizeof err), 0);
    journal_close(j);
    store_close(st);
}

/* A rule never saved: its lists as typed in the dialog, against the
 * journal the writer filled. */
static void test_preview_of_an_unsaved_rule(void **state)
{
    fixture *f = *state;
    char err[MGR_ERR_LEN], text[2048];
    mgr_preview p;
    mgr_rule r = { .expired_cert = 0, .source_instance = 1 };
    preview_rows(f, 1, "a.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    preview_rows(f, 1, "b.example", 1, DECIDE_NO_STARTTLS, PROBE_NO_STARTTLS, 2);
    preview_rows(f, 1, "c.example", 0, DECIDE_NEEDS_PROBE, PROBE_NOT_PROBED, 1);
    r.force_plain = dup("A.example\r\n\r\n");
    r.never_redirect = dup("  b.example\n");
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), 0);
    assert_int_equal(p.looked_at, 6);
    assert_int_equal(p.changed, 5);
    assert_int_equal(p.not_replayable, 1);
    assert_int_equal(p.n_domains, 2);
    assert_string_equal(p.domains[0].domain, "a.example");
    assert_string_equal(p.domains[0].old_route, "tls");
    assert_string_equal(p.domains[0].new_route, "plain");
    assert_int_equal(p.domains[0].count, 3);
    mgr_preview_text(&p, 1, text, sizeof text);
    assert_string_equal(text,
                        "Over the last 7 days, 5 of 6 recipients would have taken another route "
                        "with this rule.\n\n1 recipient could not be replayed: the journal lacks "
                        "a fact their decision would need (a probe or a policy look-up that "
                        "never ran). They keep their route.\n\na.example: TLS -> Plain (3)\n"
                        "... and 1 more domain.\n\nNothing has been saved.");
    mgr_preview_free(&p);

    /* A bad line is named, and nothing is replayed. */
    free(r.never_redirect);
    r.never_redirect = dup("b.example\nnot a domain\n");
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "Line 2 of the never-redirect list is not valid"));
    assert_int_equal(p.n_domains, 0);
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 0, &p, err, sizeof err), -1);
    mgr_rule_clear(&r);

    /* With no list and the option off, nothing would change. */
    r.source_instance = 1;
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), 0);
    mgr_preview_text(&p, 10, text, sizeof text);
    assert_non_null(strstr(text, "7 days, 0 of 6 recipients"));
    mgr_preview_free(&p);
    assert_int_equal(mgr_list_entries("a.example\r\n\r\n  \n*.b.example"), 2);
    assert_int_equal(mgr_list_entries(""), 0);
    assert_int_equal(mgr_list_entries(NULL), 0);
}

/* The preview keeps to the rule's virtual server; rows journalled before
 * the router recorded the server are the rule's while no other server has
 * a rule, and are left out, and said so, once one has. */
static void test_preview_keeps_to_the_rules_server(void **state)
{
    fixture *f = *state;
    char err[MGR_ERR_LEN], text[2048];
    mgr_preview p;
    mgr_rule r = { .source_instance = 1 };
    preview_rows(f, 1, "a.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    preview_rows(f, 2, "a.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 4);
    preview_rows(f, 0, "a.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 2);
    r.force_plain = dup("a.example");
    r.never_redirect = dup("");
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), 0);
    assert_int_equal(p.looked_at, 5);
    assert_int_equal(p.changed, 5);
    assert_int_equal(p.unattributed, 2);
    assert_int_equal(p.unattributed_replayed, 1);
    mgr_preview_text(&p, 10, text, sizeof text);
    assert_string_equal(text,
                        "Over the last 7 days, 5 of 5 recipients would have taken another route "
                        "with this rule.\n\n2 of the 5 recipients were journalled before the "
                        "router recorded the virtual server; no other virtual server has a "
                        "rule, so they are counted as this rule's.\n\na.example: TLS -> Plain "
                        "(5)\n\nNothing has been saved.");
    mgr_preview_free(&p);

    mgr_rule other;
    new_rule(f, &other, "Other server", "", "");
    other.source_instance = 2;
    assert_int_equal(mgr_rule_save(f->db, &other, err, sizeof err), 0);
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), 0);
    assert_int_equal(p.looked_at, 3);
    assert_int_equal(p.changed, 3);
    assert_int_equal(p.unattributed, 2);
    assert_int_equal(p.unattributed_replayed, 0);
    mgr_preview_text(&p, 10, text, sizeof text);
    assert_non_null(strstr(text, "7 days, 3 of 3 recipients would"));
    assert_non_null(strstr(text, "\n\n2 recipients journalled before the router recorded the "
                                 "virtual server are left out: another virtual server has a "
                                 "rule, so they may be its.\n"));
    mgr_preview_free(&p);

    /* Every recipient older than the upgrade, in words. */
    mgr_preview all = { .days = 7, .looked_at = 2, .unattributed = 2,
                        .unattributed_replayed = 1 };
    mgr_preview_text(&all, 10, text, sizeof text);
    assert_non_null(strstr(text, "\n\nAll 2 recipients were journalled before the router "
                                 "recorded the virtual server; no other virtual server has a "
                                 "rule, so they are counted as this rule's.\n"));

    /* That rule itself, moved to server 1 in the dialog: no other server
     * has a rule then. */
    r.id = other.id;
    assert_int_equal(mgr_rule_preview(f->dir.db, &r, 7, &p, err, sizeof err), 0);
    assert_int_equal(p.looked_at, 5);
    assert_int_equal(p.unattributed_replayed, 1);
    mgr_preview_free(&p);
    mgr_rule_clear(&other);
    mgr_rule_clear(&r);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_blanks_both_sides),
        cmocka_unit_test_setup_teardown(test_rule_saved_with_normalised_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_edit_renames_and_changes_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_names_are_refused, setup, teardown),
        cmocka_unit_test(test_domain_list_check_points_at_the_line),
        cmocka_unit_test_setup_teardown(test_rule_with_a_whole_tld_forced_plain_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_view_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_view_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_export_neutralises_formulas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_trace_and_sender_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_details_explain_the_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_view_positions_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_view_skips_pruned_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_export_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caches_list_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_remove_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overview_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_words_of_a_newer_version_shown_as_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_a_missing_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_report_shows_guards, setup, teardown),
        cmocka_unit_test(test_stack_comparison),
        cmocka_unit_test_setup_teardown(test_force_plain_review_asks_about_published_policies,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_server_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preview_of_an_unsaved_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preview_keeps_to_the_rules_server, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
