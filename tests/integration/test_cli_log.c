/* `tlsrouter log`: the diagnostic log as the admin and scripts read it,
 * from rows written by log_write into a real database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plat.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    store *st;           /* the rows are written through this connection */
    trtest_result res;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!f || trtest_scratch_make(&f->dir, "log") != 0) {
        free(f);
        return -1;
    }
    if (store_open(f->dir.db, &f->st, err, sizeof err) != STORE_OK) {
        trtest_scratch_remove(&f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    trtest_result_free(&f->res);
    store_close(f->st);
    int rc = trtest_scratch_remove(&f->dir);
    free(f);
    return rc;
}

static int run(fixture *f, const char *const *args)
{
    assert_int_equal(trtest_run_cli_db(&f->res, f->dir.db, NULL, args), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run((f), (const char *const[]){ __VA_ARGS__, NULL })

static void write_row(fixture *f, log_level level, const char *source, const char *text)
{
    assert_int_equal(log_write(store_db(f->st), LOG_FULL_DEBUG, level, source, "%s", text), 0);
}

/* One row of each level, oldest first: error .. full-debug. */
static void write_levels(fixture *f)
{
    write_row(f, LOG_ERROR, "engine", "journal: disk full");
    write_row(f, LOG_WARNING, "engine", "message <m1@x> came back");
    write_row(f, LOG_INFO, "sink", "started");
    write_row(f, LOG_DEBUG, "probe", "mx.example.com: starttls");
    write_row(f, LOG_FULL_DEBUG, "probe", "S: 220 mx.example.com ESMTP");
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static void assert_utc_ms(const char *at)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? at[i] < '0' || at[i] > '9' : at[i] != shape[i])
            fail_msg("time %.24s is not %s", at, shape);
}

static void newest_first_every_level(void **state)
{
    fixture *f = *state;
    write_levels(f);
    assert_int_equal(RUN(f, "log"), 0);
    assert_string_equal(f->res.err, "");
    const char *head = "TIME (UTC)               LEVEL      SOURCE   MESSAGE\n";
    assert_memory_equal(f->res.out, head, strlen(head));
    const char *full = strstr(f->res.out, " full-debug probe    S: 220 mx.example.com ESMTP\n");
    const char *error = strstr(f->res.out, " error      engine   journal: disk full\n");
    assert_non_null(full);
    assert_non_null(error);
    assert_true(full < error);
    assert_utc_ms(f->res.out + strlen(head));
    assert_int_equal(count_of(f->res.out, "\n"), 6);
}

/* A level shows itself and every more severe one. */
static void level_filters_by_severity(void **state)
{
    fixture *f = *state;
    write_levels(f);
    assert_int_equal(RUN(f, "log", "--level", "warning"), 0);
    assert_int_equal(count_of(f->res.out, "\n"), 3);
    assert_non_null(strstr(f->res.out, " warning    engine   message <m1@x> came back\n"));
    assert_non_null(strstr(f->res.out, " error      engine   "));
    assert_null(strstr(f->res.out, " info "));

    assert_int_equal(RUN(f, "log", "--level", "debug"), 0);
    assert_int_equal(count_of(f->res.out, "\n"), 5);
    assert_null(strstr(f->res.out, "full-debug"));

    assert_int_equal(RUN(f, "log", "--level", "error", "--json"), 0);
    const char *row = strstr(f->res.out, "[{\"at\":\"");
    assert_non_null(row);
    assert_utc_ms(row + strlen("[{\"at\":\""));
    assert_non_null(strstr(f->res.out, "\",\"at_ms\":"));
    assert_non_null(strstr(f->res.out, ",\"level\":\"error\",\"source\":\"engine\","
                                       "\"message\":\"journal: disk full\"}]\n"));
    assert_int_equal(count_of(f->res.out, "{\"at\":"), 1);
}

/* --limit N: the newest N; pages of the reader do not show (150 rows
 * cross two page boundaries). JSON escapes what a message holds. */
static void limit_across_pages_and_escaping(void **state)
{
    fixture *f = *state;
    char text[64];
    for (int i = 0; i < 150; i++) {
        snprintf(text, sizeof text, "row %d", i);
        write_row(f, i % 2 ? LOG_DEBUG : LOG_INFO, "t", text);
    }
    write_row(f, LOG_WARNING, "sink", "first line\r\nsecond \"quoted\" line");

    assert_int_equal(RUN(f, "log", "--limit", "2", "--json"), 0);
    assert_int_equal(count_of(f->res.out, "{\"at\":"), 2);
    assert_non_null(strstr(f->res.out, "\"message\":\"first line\\r\\nsecond \\\"quoted\\\" "
                                       "line\"}"));
    assert_non_null(strstr(f->res.out, "\"message\":\"row 149\"}"));

    assert_int_equal(RUN(f, "log", "--limit", "140", "--json"), 0);
    assert_int_equal(count_of(f->res.out, "{\"at\":"), 140);
    assert_non_null(strstr(f->res.out, "\"message\":\"row 11\"}"));
    assert_null(strstr(f->res.out, "\"message\":\"row 10\"}"));

    assert_int_equal(RUN(f, "log", "--level", "info", "--limit", "100", "--json"), 0);
    assert_int_equal(count_of(f->res.out, "\"level\":\"info\""), 75);
    assert_int_equal(count_of(f->res.out, "\"level\":\"warning\""), 1);
    assert_int_equal(count_of(f->res.out, "\"level\":\"debug\""), 0);

    /* Text: a second line goes on under the first, indented. */
    assert_int_equal(RUN(f, "log", "--limit", "1"), 0);
    assert_non_null(strstr(f->res.out, " warning    sink     first line\n  second \"quoted\" "
                                       "line\n"));
}

static void an_empty_log_says_so(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "log"), 0);
    assert_string_equal(f->res.out, "the log is empty\n");
    write_row(f, LOG_INFO, "sink", "started");
    assert_int_equal(RUN(f, "log", "--level", "warning"), 0);
    assert_string_equal(f->res.out, "no log rows at level warning or more severe\n");
    assert_int_equal(RUN(f, "log", "--level", "error", "--json"), 0);
    assert_string_equal(f->res.out, "[]\n");
}

static void bad_options_are_exit_2(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "log", "--level", "verbose"), 2);
    assert_string_equal(f->res.out, "");
    assert_string_equal(f->res.err, "tlsrouter: unknown log level 'verbose': use error, warning, "
                                    "info, debug or full-debug\n");
    assert_int_equal(RUN(f, "log", "--limit", "0"), 2);
    assert_string_equal(f->res.err, "tlsrouter: --limit: '0' is not a number from 1 to "
                                    "1000000\n");
    assert_int_equal(RUN(f, "log", "--level"), 2);
    assert_string_equal(f->res.err, "tlsrouter: usage: log [--level error|warning|info|debug|"
                                    "full-debug] [--limit N] [--json]\n");
    assert_int_equal(RUN(f, "log", "warning"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(newest_first_every_level, setup, teardown),
        cmocka_unit_test_setup_teardown(level_filters_by_severity, setup, teardown),
        cmocka_unit_test_setup_teardown(limit_across_pages_and_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(an_empty_log_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_options_are_exit_2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
