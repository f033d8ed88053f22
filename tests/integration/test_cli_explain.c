/* `tlsrouter explain`: the journal's reasons in plain words, as scripts
 * and admins see them, from the one table of core/explain.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "plat.h"
#include "trtest.h"

typedef trtest_cli_fixture fixture;

/* Runs `tlsrouter --db <db> args...`; returns the exit status. */
static int run_db(fixture *f, const char *db, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, db, NULL, args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run_db((f), (f)->dir.db, (const char *const[]){ __VA_ARGS__, NULL })

static void assert_usage_error(fixture *f)
{
    assert_string_equal(f->res.out, "");
    assert_string_equal(f->res.err, "tlsrouter: usage: explain REASON [--json] | explain --list "
                                    "[--json]\n");
}

/* One object per reason, in the order of decide.h, each with its route
 * and words: a reason added without text would be missing here. */
static void list_json_has_every_reason(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "explain", "--list", "--json"), 0);
    assert_int_equal(f->res.out[0], '[');
    const char *at = f->res.out;
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        const explain_text *t = explain_reason((decide_reason)i);
        char head[160];
        snprintf(head, sizeof head, "{\"reason\":\"%s\",\"route\":\"%s\",\"title\":\"%s\","
                 "\"meaning\":\"", decide_reason_name(t->reason), explain_route_name(t->route),
                 t->title);
        const char *found = strstr(at, head);
        if (!found)
            fail_msg("no %s after position %d in: %s", head, (int)(at - f->res.out), f->res.out);
        at = found + strlen(head);
        assert_non_null(strstr(at, "\"action\":\""));
    }
    assert_null(strstr(at, "{\"reason\":"));
    assert_string_equal(f->res.out + strlen(f->res.out) - 3, "}]\n");
}

static void list_text_is_a_table(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "explain", "--list"), 0);
    const char *head = "REASON               ROUTE    TITLE\n";
    assert_memory_equal(f->res.out, head, strlen(head));
    assert_non_null(strstr(f->res.out, "\nno-starttls          plain    The server does not "
                                      "offer TLS\n"));
    assert_non_null(strstr(f->res.out, "\ncert-expired         depends  "));
    assert_non_null(strstr(f->res.out, "\niis-domain-route     tls      "));
    size_t lines = 0;
    for (const char *p = f->res.out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + DECIDE_REASON_COUNT);
}

static void one_reason_in_words(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "explain", "no-starttls"), 0);
    assert_string_equal(f->res.err, "");
    const char *head = "no-starttls: The server does not offer TLS\nRoute: plain\n\n"
                       "The recipient's mail server does not offer STARTTLS";
    assert_memory_equal(f->res.out, head, strlen(head));
    assert_non_null(strstr(f->res.out, "\nWhat to do:\n  Nothing to do: this is what"));
    /* Wrapped for a console: no line over 78 columns. */
    for (const char *p = f->res.out; *p;) {
        size_t len = strcspn(p, "\n");
        assert_true(len <= 78);
        p += len + (p[len] == '\n');
    }

    assert_int_equal(RUN(f, "explain", "cert-expired", "--json"), 0);
    const char *json = "{\"reason\":\"cert-expired\",\"route\":\"depends\",";
    assert_memory_equal(f->res.out, json, strlen(json));
    assert_string_equal(f->res.out + strlen(f->res.out) - 2, "}\n");
}

/* A word the journal may hold from a newer version, a typo, a wrong case:
 * exit 2 with one line saying where the list is. */
static void unknown_reason_is_exit_2(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "explain", "no-tls"), 2);
    assert_string_equal(f->res.out, "");
    assert_string_equal(f->res.err, "tlsrouter: unknown reason 'no-tls' ('tlsrouter explain "
                                    "--list' shows them)\n");
    assert_int_equal(RUN(f, "explain", "TLS-OK", "--json"), 2);
    assert_string_equal(f->res.out, "");
    assert_non_null(strstr(f->res.err, "unknown reason 'TLS-OK'"));
}

static void usage_errors_are_exit_2(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "explain"), 2);
    assert_usage_error(f);
    assert_int_equal(RUN(f, "explain", "--list", "tls-ok"), 2);
    assert_usage_error(f);
    assert_int_equal(RUN(f, "explain", "tls-ok", "loop"), 2);
    assert_usage_error(f);
    assert_int_equal(RUN(f, "explain", "--verbose"), 2);
    assert_usage_error(f);
}

/* The texts are in the program: explain works where no database can be
 * opened, and creates none. */
static void needs_no_database(void **state)
{
    fixture *f = *state;
    char missing[PLAT_PATH_MAX + 8], db[PLAT_PATH_MAX + 16];
    assert_int_equal(trtest_join(missing, sizeof missing, f->dir.path, "absent"), 0);
    assert_int_equal(trtest_join(db, sizeof db, missing, "t.db"), 0);
    assert_int_equal(run_db(f, db, (const char *const[]){ "explain", "loop", NULL }), 0);
    assert_non_null(strstr(f->res.out, "loop: The message came back\n"));
    assert_false(plat_is_dir(missing));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(list_json_has_every_reason, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(list_text_is_a_table, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(one_reason_in_words, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(unknown_reason_is_exit_2, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(usage_errors_are_exit_2, trtest_cli_setup, trtest_cli_teardown),
        cmocka_unit_test_setup_teardown(needs_no_database, trtest_cli_setup, trtest_cli_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
