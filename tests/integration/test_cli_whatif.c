/* `tlsrouter whatif`: a rule edit replayed against the journal, on a
 * database whose journal the real writer filled. */
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
#include "plat.h"
#include "store.h"
#include "trtest.h"

#define DAY_MS 86400000LL

typedef trtest_cli_fixture fixture;

#define RUN(f, ...)                                                                        \
    (assert_int_equal(trtest_run_cli_db(&(f)->res, (f)->dir.db, NULL,                      \
                                        (const char *const[]){ __VA_ARGS__, NULL }),      \
                      0),                                                                  \
     (f)->res.exit_code)

/* n recipients from virtual server source (0: not recorded). */
static void write_rows(journal *j, int source, int64_t at_ms, const char *domain, int plain,
                       decide_reason reason, probe_status status, int n)
{
    journal_entry rows[8];
    char rcpt[8][300], err[256];
    for (int i = 0; i < n; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "r%d@%s", i, domain);
        rows[i] = (journal_entry){ .at_ms = at_ms, .message_id = "<w@corp.example>",
                                   .sender = "a@corp.example", .recipient = rcpt[i],
                                   .domain = domain, .plain = plain, .reason = reason,
                                   .status = status, .source_instance = source };
    }
    if (journal_write(j, rows, (size_t)n, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* A rule of virtual server 1 with the expired option on, and a week of
 * decisions: its server's, server 2's and some journalled before the
 * router recorded the server. */
static int setup(void **state)
{
    trtest_cli_setup(state);
    fixture *f = *state;
    store *st;
    char err[256];
    if (store_open(f->dir.db, &st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    assert_int_equal(store_rule_add(st, "Plain Router", "/tmp/plain-pickup", 1, NULL), STORE_OK);
    store_rule_change on;
    store_rule_change_init(&on);
    on.expired_cert = 1;
    assert_int_equal(store_rule_update(st, "Plain Router", &on), STORE_OK);
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    int64_t now = plat_wall_ms();
    write_rows(j, 1, now - DAY_MS, "shop.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 3);
    write_rows(j, 1, now - 2 * DAY_MS, "old.example", 1, DECIDE_CERT_EXPIRED, PROBE_CERT_EXPIRED,
               2);
    write_rows(j, 1, now - 3 * DAY_MS, "fresh.example", 0, DECIDE_NEEDS_PROBE, PROBE_NOT_PROBED,
               1);
    write_rows(j, 1, now - 10 * DAY_MS, "shop.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 4);
    write_rows(j, 2, now - DAY_MS, "shop.example", 0, DECIDE_NO_RULE, PROBE_NOT_PROBED, 5);
    write_rows(j, 0, now - 2 * DAY_MS, "shop.example", 0, DECIDE_TLS_OK, PROBE_STARTTLS, 2);
    journal_close(j);
    store_close(st);
    return 0;
}

static void force_plain_as_json(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "whatif", "plain router", "--force-plain", "shop.example",
                         "--json"), 0);
    assert_string_equal(f->res.err, "");
    assert_string_equal(f->res.out,
                        "{\"changed\":5,\"looked_at\":8,\"not_replayable\":1,\"since_days\":7,"
                        "\"source_instance\":1,\"unattributed\":2,\"unattributed_replayed\":true,"
                        "\"domains\":[{\"domain\":\"shop.example\",\"old\":\"tls\",\"new\":"
                        "\"plain\",\"count\":5}]}\n");
}

static void expired_off_as_a_table(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--expired-cert", "off", "--since", "30"),
                     0);
    assert_string_equal(f->res.out,
                        "Rule 'Plain Router' (virtual server 1), last 30 days: 12 recipients "
                        "looked at, 2 would change route, 1 not replayable (the journal lacks a "
                        "fact their decision would need: they keep their route).\n"
                        "Note: 2 of them were journalled before the router recorded the virtual "
                        "server; no other virtual server has a rule, so they count as this "
                        "rule's.\n\n"
                        "DOMAIN                                   OLD    NEW    RECIPIENTS\n"
                        "old.example                              plain  tls    2\n");
}

static void unchanged_rule_has_no_table(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--since", "1"), 0);
    assert_string_equal(f->res.out, "Rule 'Plain Router' (virtual server 1), last 1 day: 0 "
                                    "recipients looked at, 0 would change route.\n");
    /* Repeated options add to the list, which replaces the stored one. */
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain", "fresh.example",
                         "--force-plain", "*.nowhere.example", "--never-redirect",
                         "old.example", "--json"), 0);
    assert_non_null(strstr(f->res.out, "\"changed\":3,\"looked_at\":8,\"not_replayable\":0"));
    assert_non_null(strstr(f->res.out, "{\"domain\":\"old.example\",\"old\":\"plain\",\"new\":"
                                       "\"tls\",\"count\":2},{\"domain\":\"fresh.example\""));
}

static void bad_input_is_exit_2(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "whatif", "No Such Rule"), 2);
    assert_string_equal(f->res.out, "");
    assert_non_null(strstr(f->res.err, "No Such Rule"));
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain", "bad..example"), 2);
    assert_non_null(strstr(f->res.err, "bad..example"));
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain", "com"), 2);
    assert_non_null(strstr(f->res.err, "com"));
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--since", "0"), 2);
    assert_string_equal(f->res.err, "tlsrouter: --since: '0' is not a number of days from 1 "
                                    "to 3650\n");
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--since", "7x"), 2);
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--expired-cert", "maybe"), 2);
    assert_non_null(strstr(f->res.err, "expected on or off"));
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain"), 2);
    assert_string_equal(f->res.err, "tlsrouter: --force-plain needs a value\n");
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--frobnicate", "x"), 2);
    assert_int_equal(RUN(f, "whatif"), 2);
    assert_non_null(strstr(f->res.err, "usage: whatif RULE"));
    assert_string_equal(f->res.out, "");
}

/* Once another virtual server has a rule, each rule replays its own
 * server's rows, and the rows journalled before the server was recorded
 * are left out and counted. */
static void each_rule_keeps_to_its_server(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "Second", "--pickup", "/tmp/p2", "--source", "2"), 0);
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain", "shop.example",
                         "--json"), 0);
    assert_string_equal(f->res.out,
                        "{\"changed\":3,\"looked_at\":6,\"not_replayable\":1,\"since_days\":7,"
                        "\"source_instance\":1,\"unattributed\":2,\"unattributed_replayed\":false,"
                        "\"domains\":[{\"domain\":\"shop.example\",\"old\":\"tls\",\"new\":"
                        "\"plain\",\"count\":3}]}\n");
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--since", "3"), 0);
    assert_string_equal(f->res.out, "Rule 'Plain Router' (virtual server 1), last 3 days: 5 "
                                    "recipients looked at, 0 would change route.\nNote: 2 "
                                    "recipients journalled before the router recorded the "
                                    "virtual server are left out: another virtual server has a "
                                    "rule, so they may be its.\n");
    /* Server 2's rows were journalled when it had no rule: nothing known. */
    assert_int_equal(RUN(f, "whatif", "Second", "--force-plain", "shop.example", "--json"), 0);
    assert_non_null(strstr(f->res.out, "{\"changed\":0,\"looked_at\":5,\"not_replayable\":5,"
                                       "\"since_days\":7,\"source_instance\":2,"
                                       "\"unattributed\":2,\"unattributed_replayed\":false,"));
}

/* A journal older than the upgrade: every row is unattributed, and the
 * rule's own while it is the only one. */
static void a_journal_from_before_the_upgrade(void **state)
{
    fixture *f = *state;
    store *st;
    char err[256];
    if (store_open(f->dir.db, &st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    assert_int_equal(sqlite3_exec(store_db(st), "DELETE FROM journal WHERE source_instance"
                                                " IS NOT NULL", NULL, NULL, NULL), SQLITE_OK);
    store_close(st);
    assert_int_equal(RUN(f, "whatif", "Plain Router", "--force-plain", "shop.example"), 0);
    assert_string_equal(f->res.out, "Rule 'Plain Router' (virtual server 1), last 7 days: 2 "
                                    "recipients looked at, 2 would change route.\nNote: all of "
                                    "them were journalled before the router recorded the "
                                    "virtual server; no other virtual server has a rule, so "
                                    "they count as this rule's.\n\n"
                                    "DOMAIN                                   OLD    NEW    "
                                    "RECIPIENTS\n"
                                    "shop.example                             tls    plain  2\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, trtest_cli_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(force_plain_as_json),
        T(expired_off_as_a_table),
        T(unchanged_rule_has_no_table),
        T(bad_input_is_exit_2),
        T(each_rule_keeps_to_its_server),
        T(a_journal_from_before_the_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
