/* `tlsrouter journal --message-id ID` and `--sender ADDR`: every
 * recipient's decision for one message or one sender, for support. The
 * rows are written by `tlsrouter route` (the engine's own path) and, for
 * the stored forms routing does not make, by journal_write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "journal.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    char pickup[PLAT_PATH_MAX];
    char message[PLAT_PATH_MAX];
    dnsd *dns;          /* knows no name: look-ups end at once */
    trtest_result res;
} world;

/* Runs `tlsrouter --db DB args...`; returns the exit status. */
static int run(world *w, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&w->res, w->dir.db, NULL, args), 0);
    return w->res.exit_code;
}

#define RUN(w, ...) run((w), (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_OK(w, ...)                                                                   \
    do {                                                                                 \
        if (RUN((w), __VA_ARGS__) != 0)                                                  \
            fail_msg("tlsrouter failed: %s", (w)->res.err);                              \
    } while (0)

/* One message through `tlsrouter route`, as the sink would route it. */
static void route(world *w, const char *message_id, const char *from, const char *to1,
                  const char *to2, const char *to3)
{
    char text[256];
    snprintf(text, sizeof text, "Message-ID: %s\r\nSubject: hello\r\n\r\nbody\r\n", message_id);
    assert_int_equal(trtest_write_file(w->message, text), 0);
    const char *args[] = { "route", "--from", from, "--to", to1, "--to", to2, "--to", to3,
                           w->message, NULL };
    if (!to2)
        args[5] = w->message, args[6] = NULL;
    else if (!to3)
        args[7] = w->message, args[8] = NULL;
    if (run(w, args) != 0)
        fail_msg("route: %s", w->res.err);
}

/* Three messages: two from Ann (spelt two ways), one from Bob, a bounce
 * (the null sender); legacy.example goes plain, partner.example stays. */
static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(trtest_scratch_make(&w->dir, "trace"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->dir.path, "Pickup"), 0);
    assert_int_equal(trtest_join(w->message, sizeof w->message, w->dir.path, "m.eml"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_non_null(w->dns = dnsd_start());
    RUN_OK(w, "config", "dns_servers", dnsd_server(w->dns));
    RUN_OK(w, "rule", "add", "Plain", "--pickup", w->pickup);
    RUN_OK(w, "domains", "add", "Plain", "force-plain", "legacy.example");
    RUN_OK(w, "domains", "add", "Plain", "never-redirect", "partner.example");
    route(w, "<a1@corp.example>", "Ann@Corp.Example", "x@legacy.example", "y@partner.example",
          "z@legacy.example");
    route(w, "<b2@corp.example>", "bob@corp.example", "q@legacy.example", NULL, NULL);
    route(w, "<c3@corp.example>", "ann@corp.example", "r@partner.example", NULL, NULL);
    route(w, "<ndr@host.example>", "", "s@legacy.example", NULL, NULL);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    trtest_result_free(&w->res);
    dnsd_stop(w->dns);
    int rc = trtest_scratch_remove(&w->dir);
    free(w);
    return rc;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Every recipient of the message, whatever its route, and nothing else;
 * the JSON rows are the journal's usual ones. */
static void trace_by_message_id(void **state)
{
    world *w = *state;
    RUN_OK(w, "journal", "--message-id", "<a1@corp.example>", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 3);
    assert_int_equal(count_of(w->res.out, "\"message_id\":\"<a1@corp.example>\","
                                          "\"sender\":\"Ann@Corp.Example\","), 3);
    assert_non_null(strstr(w->res.out, "\"recipient\":\"x@legacy.example\",\"domain\":"
                                       "\"legacy.example\",\"route\":\"plain\",\"reason\":"
                                       "\"force-plain-list\","));
    assert_non_null(strstr(w->res.out, "\"recipient\":\"y@partner.example\",\"domain\":"
                                       "\"partner.example\",\"route\":\"tls\",\"reason\":"
                                       "\"never-redirect-list\","));
    assert_non_null(strstr(w->res.out, "\"recipient\":\"z@legacy.example\""));
    assert_non_null(strstr(w->res.out, "\"elapsed_ms\":"));
    /* `route` without --source is virtual server 1's. */
    assert_int_equal(count_of(w->res.out, ",\"source_instance\":1}"), 3);

    /* The angle brackets are optional; the text names the message once. */
    RUN_OK(w, "journal", "--message-id", "a1@corp.example");
    assert_int_equal(count_of(w->res.out, "Message-ID <a1@corp.example> from Ann@Corp.Example\n"),
                     1);
    assert_int_equal(count_of(w->res.out, "@legacy.example "), 2);
    assert_int_equal(count_of(w->res.out, "y@partner.example "), 1);
    assert_null(strstr(w->res.out, "q@legacy.example"));

    RUN_OK(w, "journal", "--message-id", "<a1@corp.example>", "--csv");
    assert_int_equal(count_of(w->res.out, ",\"<a1@corp.example>\",\"Ann@Corp.Example\","), 3);
}

/* A sender's messages, newest first, the address matched whole and
 * ignoring case; combined with a Message-ID both must match. */
static void trace_by_sender(void **state)
{
    world *w = *state;
    RUN_OK(w, "journal", "--sender", "ANN@corp.example", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 4);
    const char *c3 = strstr(w->res.out, "\"recipient\":\"r@partner.example\"");
    const char *a1 = strstr(w->res.out, "\"message_id\":\"<a1@corp.example>\"");
    assert_non_null(c3);
    assert_non_null(a1);
    assert_true(c3 < a1);
    assert_null(strstr(w->res.out, "bob@"));

    RUN_OK(w, "journal", "--sender", "<ann@corp.example>", "--limit", "2", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 2);
    assert_non_null(strstr(w->res.out, "\"recipient\":\"r@partner.example\""));
    assert_non_null(strstr(w->res.out, "\"recipient\":\"z@legacy.example\""));

    RUN_OK(w, "journal", "--sender", "ann@corp.example", "--message-id", "<c3@corp.example>",
           "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 1);

    RUN_OK(w, "journal", "--sender", "ann@corp", "--json");
    assert_string_equal(w->res.out, "[]\n");

    RUN_OK(w, "journal", "--sender", "<>");
    assert_non_null(strstr(w->res.out, "Message-ID <ndr@host.example> from <>\n"));
    assert_int_equal(count_of(w->res.out, "s@legacy.example "), 1);
    assert_int_equal(count_of(w->res.out, "\n20"), 1);
}

/* A trace lists every recipient: the journal's default of 50 rows does
 * not cut a message to 60. */
static void trace_is_not_cut_at_the_default_limit(void **state)
{
    world *w = *state;
    store *st;
    char err[256], rcpt[60][32];
    journal_entry rows[60];
    assert_int_equal(store_open(w->dir.db, &st, err, sizeof err), STORE_OK);
    journal *j = journal_open(store_db(st), err, sizeof err);
    assert_non_null(j);
    for (int i = 0; i < 60; i++) {
        snprintf(rcpt[i], sizeof rcpt[i], "u%d@big.example", i);
        rows[i] = (journal_entry){ .at_ms = plat_wall_ms(), .message_id = "<big@corp.example>",
                                   .sender = "news@corp.example", .recipient = rcpt[i],
                                   .domain = "big.example", .reason = DECIDE_TLS_OK,
                                   .status = PROBE_STARTTLS };
    }
    assert_int_equal(journal_write(j, rows, 60, err, sizeof err), 0);
    journal_close(j);
    store_close(st);

    RUN_OK(w, "journal", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 50);
    RUN_OK(w, "journal", "--message-id", "<big@corp.example>", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 60);
    assert_non_null(strstr(w->res.out, "\"recipient\":\"u0@big.example\""));
    /* Written without the virtual server, as before the router recorded it. */
    assert_int_equal(count_of(w->res.out, ",\"source_instance\":null}"), 60);
    RUN_OK(w, "journal", "--sender", "news@corp.example");
    assert_int_equal(count_of(w->res.out, "@big.example "), 60);
}

/* A message through virtual server 2: its rows say so. */
static void rows_name_their_virtual_server(void **state)
{
    world *w = *state;
    assert_int_equal(trtest_write_file(w->message, "Message-ID: <v2@corp.example>\r\n\r\nx\r\n"),
                     0);
    RUN_OK(w, "route", "--from", "carol@corp.example", "--to", "t@legacy.example", "--source", "2",
           w->message);
    RUN_OK(w, "journal", "--message-id", "<v2@corp.example>", "--json");
    assert_int_equal(count_of(w->res.out, "{\"time\":"), 1);
    assert_non_null(strstr(w->res.out, "\"reason\":\"no-rule\","));
    assert_non_null(strstr(w->res.out, ",\"source_instance\":2}"));
}

static void nothing_found_is_said(void **state)
{
    world *w = *state;
    RUN_OK(w, "journal", "--message-id", "<nowhere@corp.example>");
    assert_string_equal(w->res.out, "no journal rows for this message or sender\n");
    RUN_OK(w, "journal", "--message-id", "<nowhere@corp.example>", "--json");
    assert_string_equal(w->res.out, "[]\n");
}

static void bad_trace_options_are_exit_2(void **state)
{
    world *w = *state;
    assert_int_equal(RUN(w, "journal", "--message-id"), 2);
    assert_string_equal(w->res.err, "tlsrouter: usage: journal [--limit N] [--message-id ID] "
                                    "[--sender ADDR] [--json|--csv]\n");
    assert_int_equal(RUN(w, "journal", "--sender", ""), 2);
    assert_string_equal(w->res.err, "tlsrouter: --sender: empty value (for the null sender: "
                                    "--sender '<>')\n");
    assert_int_equal(RUN(w, "journal", "--message-id", "", "--json"), 2);
    assert_string_equal(w->res.out, "");
    assert_string_equal(w->res.err, "tlsrouter: --message-id: empty value\n");
    assert_int_equal(RUN(w, "journal", "--trace", "x"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_by_message_id),
        cmocka_unit_test(trace_by_sender),
        cmocka_unit_test(trace_is_not_cut_at_the_default_limit),
        cmocka_unit_test(rows_name_their_virtual_server),
        cmocka_unit_test(nothing_found_is_said),
        cmocka_unit_test(bad_trace_options_are_exit_2),
    };
    /* The tests only read what setup routed (the 60-row message and the
     * one through server 2 have a Message-ID and sender of their own): one
     * database for all. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
