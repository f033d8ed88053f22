/* json: commas, nesting, escaping, invalid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "trtest.h"

typedef struct {
    char dir[512];
    char path[600];
    FILE *f;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof *x);
    if (!x || trtest_temp_dir("json", x->dir, sizeof x->dir) != 0
        || trtest_join(x->path, sizeof x->path, x->dir, "out.json") != 0
        || !(x->f = fopen(x->path, "wb"))) {
        free(x);
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    if (x->f)
        fclose(x->f);
    int rc = trtest_remove_tree(x->dir);
    free(x);
    return rc;
}

/* Close the stream and compare everything written with want. */
static void assert_output(fixture *x, const char *want)
{
    fclose(x->f);
    x->f = NULL;
    char *got = trtest_read_file(x->path, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_nesting_and_commas(void **state)
{
    fixture *x = *state;
    json_writer w;
    json_init(&w, x->f);
    json_array_begin(&w);
    json_object_begin(&w);
    json_key(&w, "a");
    json_int(&w, -42);
    json_key(&w, "b");
    json_array_begin(&w);
    json_bool(&w, true);
    json_null(&w);
    json_string(&w, NULL);
    json_array_end(&w);
    json_key(&w, "c");
    json_object_begin(&w);
    json_object_end(&w);
    json_object_end(&w);
    json_object_begin(&w);
    json_key(&w, "big");
    json_int(&w, INT64_MAX);
    json_object_end(&w);
    json_array_end(&w);
    assert_output(x, "[{\"a\":-42,\"b\":[true,null,null],\"c\":{}},{\"big\":9223372036854775807}]\n");
}

static void test_escaping(void **state)
{
    fixture *x = *state;
    json_writer w;
    json_init(&w, x->f);
    json_array_begin(&w);
    json_string(&w, "quote \" backslash \\ slash /");
    json_string(&w, "nl\ncr\rtab\tbell\x07" "del\x7f");
    json_string(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");   /* valid UTF-8 passes */
    json_string(&w, "bad \xff end \xc3");                            /* invalid bytes replaced */
    json_string(&w, "overlong \xc0\xaf surrogate \xed\xa0\x80");
    json_array_end(&w);
    assert_output(x, "[\"quote \\\" backslash \\\\ slash /\","
                     "\"nl\\ncr\\rtab\\tbell\\u0007del\\u007f\","
                     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                     "\"bad \\ufffd end \\ufffd\","
                     "\"overlong \\ufffd\\ufffd surrogate \\ufffd\\ufffd\\ufffd\"]\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nesting_and_commas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
