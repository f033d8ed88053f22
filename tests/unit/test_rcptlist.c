/* rcptlist: the IIS envelope recipient list, parsed strictly and rebuilt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rcptlist.h"

static void parse_ok(const char *text, rcptlist *out)
{
    char err[256] = "";
    int rc = rcptlist_parse(text, out, err, sizeof err);
    if (rc != 0)
        fail_msg("parse of \"%s\" failed: %s", text, err);
}

/* Parse must fail, leave the list empty and say why (containing want). */
static void parse_fails(const char *text, const char *want)
{
    char err[256] = "";
    rcptlist l = { (char **)1, 99 };
    assert_int_equal(rcptlist_parse(text, &l, err, sizeof err), -1);
    assert_null(l.addrs);
    assert_int_equal(l.n, 0);
    if (!strstr(err, want))
        fail_msg("error for \"%s\" is \"%s\", expected it to mention \"%s\"", text ? text : "(null)",
                 err, want);
}

static void test_iis_form(void **state)
{
    rcptlist l;
    parse_ok("SMTP:a@x.example;SMTP:b@y.example;", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.addrs[0], "a@x.example");
    assert_string_equal(l.addrs[1], "b@y.example");
    rcptlist_free(&l);
    assert_null(l.addrs);
}

static void test_last_separator_optional(void **state)
{
    rcptlist l;
    parse_ok("SMTP:a@x.example", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.addrs[0], "a@x.example");
    rcptlist_free(&l);
}

static void test_prefix_any_case(void **state)
{
    rcptlist l;
    parse_ok("smtp:a@x.example;Smtp:b@y.example;sMtP:c@z.example", &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.addrs[2], "c@z.example");
    rcptlist_free(&l);
}

static void test_empty_entries_and_blanks_skipped(void **state)
{
    rcptlist l;
    parse_ok(" ;;SMTP:a@x.example; ;\tSMTP:b@y.example  ;;", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.addrs[0], "a@x.example");
    assert_string_equal(l.addrs[1], "b@y.example");
    rcptlist_free(&l);
}

static void test_empty_list_has_no_recipients(void **state)
{
    rcptlist l;
    parse_ok("", &l);
    assert_int_equal(l.n, 0);
    rcptlist_free(&l);
    parse_ok(";;", &l);
    assert_int_equal(l.n, 0);
    rcptlist_free(&l);
}

static void test_quoted_local_part(void **state)
{
    rcptlist l;
    parse_ok("SMTP:\"john;doe@home\"@x.example;SMTP:\"a\\\"b\"@y.example;", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.addrs[0], "\"john;doe@home\"@x.example");
    assert_string_equal(rcptlist_domain(l.addrs[0]), "x.example");
    assert_string_equal(l.addrs[1], "\"a\\\"b\"@y.example");
    assert_string_equal(rcptlist_domain(l.addrs[1]), "y.example");
    rcptlist_free(&l);
}

static void test_address_literal(void **state)
{
    rcptlist l;
    parse_ok("SMTP:postmaster@[192.0.2.1];", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(rcptlist_domain(l.addrs[0]), "[192.0.2.1]");
    rcptlist_free(&l);
}

static void test_malformed(void **state)
{
    parse_fails(NULL, "missing");
    parse_fails("a@x.example;", "entry 1: expected \"SMTP:\" prefix");
    parse_fails("SMTP:a@x.example;X400:c=us;", "entry 2: expected \"SMTP:\" prefix");
    parse_fails("SMTP:;", "entry 1: empty address");
    parse_fails("SMTP:ax.example;", "no '@'");
    parse_fails("SMTP:@x.example;", "empty local part");
    parse_fails("SMTP:a@;", "empty domain");
    parse_fails("SMTP:a b@x.example;", "outside quotes");
    parse_fails("SMTP:\"a;b@x.example;", "unterminated quoted");
    parse_fails("SMTP:a@x_y.example;", "not allowed in a domain");
    parse_fails("SMTP:a<b>@x.example;", "not allowed in an unquoted local part");
    parse_fails("SMTP:\"a\"b@x.example;", "after the quoted local part");
    parse_fails("SMTP:a@x.example\x01;", "control");
    parse_fails("SMTP:\xc3\xa9@x.example;", "non-ASCII");
    parse_fails("SMTP:a@[192.0.2.1;", "literal");
    parse_fails("SMTP", "expected \"SMTP:\" prefix");
}

static void test_length_limits(void **state)
{
    char local[RCPTLIST_MAX_LOCAL + 2];
    char text[RCPTLIST_MAX_LOCAL + 64];
    rcptlist l;

    memset(local, 'a', RCPTLIST_MAX_LOCAL);
    local[RCPTLIST_MAX_LOCAL] = '\0';
    snprintf(text, sizeof text, "SMTP:%s@x.example;", local);
    parse_ok(text, &l);
    assert_int_equal(l.n, 1);
    rcptlist_free(&l);

    local[RCPTLIST_MAX_LOCAL] = 'a';
    local[RCPTLIST_MAX_LOCAL + 1] = '\0';
    snprintf(text, sizeof text, "SMTP:%s@x.example;", local);
    parse_fails(text, "local part longer");
}

static void test_recipient_ceiling(void **state)
{
    const char entry[] = "SMTP:a@x.example;";
    size_t n = RCPTLIST_MAX_RECIPIENTS + 1;
    char *text = malloc(n * (sizeof entry - 1) + 1);
    rcptlist l;
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        memcpy(text + i * (sizeof entry - 1), entry, sizeof entry - 1);
    text[n * (sizeof entry - 1)] = '\0';
    parse_fails(text, "more than");
    /* Exactly the ceiling is fine. */
    text[(n - 1) * (sizeof entry - 1)] = '\0';
    parse_ok(text, &l);
    assert_int_equal(l.n, RCPTLIST_MAX_RECIPIENTS);
    rcptlist_free(&l);
    free(text);
}

static void test_format_round_trip(void **state)
{
    const char *addrs[] = { "a@x.example", "\"j;d\"@y.example", "c@[192.0.2.1]" };
    char *text = rcptlist_format(addrs, 3);
    rcptlist l;
    assert_non_null(text);
    assert_string_equal(text, "SMTP:a@x.example;SMTP:\"j;d\"@y.example;SMTP:c@[192.0.2.1];");
    parse_ok(text, &l);
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(l.addrs[i], addrs[i]);
    rcptlist_free(&l);
    free(text);
}

static void test_format_subset_and_empty(void **state)
{
    const char *one[] = { "b@y.example" };
    char *text = rcptlist_format(one, 1);
    assert_string_equal(text, "SMTP:b@y.example;");
    free(text);
    text = rcptlist_format(NULL, 0);
    assert_non_null(text);
    assert_string_equal(text, "");
    free(text);
}

static void test_format_refuses_list_breakers(void **state)
{
    const char *semi[] = { "a;b@x.example" };
    const char *empty[] = { "" };
    const char *nul[] = { NULL };
    assert_null(rcptlist_format(semi, 1));
    assert_null(rcptlist_format(empty, 1));
    assert_null(rcptlist_format(nul, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iis_form),
        cmocka_unit_test(test_last_separator_optional),
        cmocka_unit_test(test_prefix_any_case),
        cmocka_unit_test(test_empty_entries_and_blanks_skipped),
        cmocka_unit_test(test_empty_list_has_no_recipients),
        cmocka_unit_test(test_quoted_local_part),
        cmocka_unit_test(test_address_literal),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_recipient_ceiling),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_subset_and_empty),
        cmocka_unit_test(test_format_refuses_list_breakers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
