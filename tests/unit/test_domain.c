/* domain: normalisation, refusals with their reasons, matching, lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain.h"

static void assert_domain(const char *in, const char *want)
{
    char out[DOMAIN_BUF];
    const char *why = NULL;
    int rc = domain_normalize(in, out, &why);
    if (rc != 0)
        print_error("'%s' refused: %s\n", in, why);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
}

static void assert_refused(int pattern, const char *in, const char *reason)
{
    char out[DOMAIN_BUF];
    const char *why = NULL;
    int rc = pattern ? domain_pattern_normalize(in, out, &why) : domain_normalize(in, out, &why);
    assert_int_equal(rc, -1);
    assert_non_null(why);
    assert_string_equal(why, reason);
    assert_string_equal(out, "");
}

static void repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
}

static void test_normalizes_case_and_trailing_dot(void **state)
{
    (void)state;
    assert_domain("Example.COM", "example.com");
    assert_domain("example.com.", "example.com");
    assert_domain("MX-1.Mail.Example.org.", "mx-1.mail.example.org");
    assert_domain("xn--bcher-kva.de", "xn--bcher-kva.de");
    assert_domain("localhost", "localhost");
    assert_domain("3com.com", "3com.com");
}

static void test_length_limits(void **state)
{
    (void)state;
    char name[400], label[80];
    repeat(label, 'a', 63);
    strcpy(name, label);
    strcat(name, ".com");
    assert_domain(name, name);
    repeat(label, 'a', 64);
    strcpy(name, label);
    strcat(name, ".com");
    assert_refused(0, name, "label longer than 63 characters");
    /* Four labels of 61, four dots and five letters: exactly 253. */
    repeat(label, 'b', 61);
    snprintf(name, sizeof name, "%s.%s.%s.%s.abcde", label, label, label, label);
    assert_int_equal(strlen(name), 253);
    assert_domain(name, name);
    char dotted[sizeof name + 1];
    snprintf(dotted, sizeof dotted, "%s.", name);   /* the trailing dot does not count */
    assert_domain(dotted, name);
    snprintf(name, sizeof name, "%s.%s.%s.%s.abcdef", label, label, label, label);
    assert_int_equal(strlen(name), 254);
    assert_refused(0, name, "name longer than 253 characters");
    repeat(name, 'x', 300);
    assert_refused(0, name, "name longer than 253 characters");
}

static void test_refusals_name_the_reason(void **state)
{
    (void)state;
    assert_refused(0, "b\xc3\xbc" "cher.de", "non-ASCII character (use punycode xn--...)");
    assert_refused(0, "", "empty name");
    assert_refused(0, ".", "empty name");
    assert_refused(0, "a..b", "empty label");
    assert_refused(0, ".example.com", "empty label");
    assert_refused(0, "example.com..", "empty label");
    assert_refused(0, "-a.com", "label starts or ends with a hyphen");
    assert_refused(0, "a-.com", "label starts or ends with a hyphen");
    assert_refused(0, "a_b.com", "invalid character (only letters, digits, hyphens and dots)");
    assert_refused(0, "a b.com", "invalid character (only letters, digits, hyphens and dots)");
    assert_refused(0, "user@example.com", "invalid character (only letters, digits, hyphens and dots)");
    assert_refused(0, "192.168.1.1", "last label is numeric (an IP address is not a domain)");
    assert_refused(0, "xn--.com", "empty punycode label 'xn--'");
    assert_refused(0, "*.example.com", "wildcard only allowed as the whole first label '*.'");
}

static void test_patterns(void **state)
{
    (void)state;
    char out[DOMAIN_BUF];
    const char *why = NULL;
    assert_int_equal(domain_pattern_normalize("*.Example.COM.", out, &why), 0);
    assert_string_equal(out, "*.example.com");
    assert_int_equal(domain_pattern_normalize("Example.com", out, &why), 0);
    assert_string_equal(out, "example.com");
    assert_refused(1, "*", "wildcard needs a domain after '*.'");
    assert_refused(1, "*.", "wildcard needs a domain after '*.'");
    assert_refused(1, "*..", "wildcard needs a domain after '*.'");
    assert_refused(1, "a*.example.com", "wildcard only allowed as the whole first label '*.'");
    assert_refused(1, "*a.example.com", "wildcard only allowed as the whole first label '*.'");
    assert_refused(1, "**.example.com", "wildcard only allowed as the whole first label '*.'");
    assert_refused(1, "*.*.example.com", "wildcard only allowed as the whole first label '*.'");
    assert_refused(1, "mail.*.com", "wildcard only allowed as the whole first label '*.'");
    assert_refused(1, "*.b\xc3\xbc" "cher.de", "non-ASCII character (use punycode xn--...)");
    assert_refused(1, "*..com", "empty label");
    /* "*." plus a 252-character domain would be 254 in all. */
    char label[70], last[70], name[300];
    repeat(label, 'c', 62);
    repeat(last, 'd', 63);
    snprintf(name, sizeof name, "*.%s.%s.%s.%s", label, label, label, last);
    assert_int_equal(strlen(name), 2 + 252);
    assert_domain(name + 2, name + 2);
    assert_refused(1, name, "name longer than 253 characters");
}

static void test_matching(void **state)
{
    (void)state;
    assert_true(domain_pattern_matches("example.com", "example.com"));
    assert_false(domain_pattern_matches("example.com", "mail.example.com"));
    assert_false(domain_pattern_matches("example.com", "example.co"));
    assert_true(domain_pattern_matches("*.example.com", "mail.example.com"));
    assert_true(domain_pattern_matches("*.example.com", "a.b.example.com"));
    assert_false(domain_pattern_matches("*.example.com", "example.com"));
    assert_false(domain_pattern_matches("*.example.com", "badexample.com"));
    assert_false(domain_pattern_matches("*.example.com", "mail.example.org"));
    assert_false(domain_pattern_matches("*.example.com", "com"));
}

static void test_list_parse(void **state)
{
    (void)state;
    char **items = NULL;
    domain_list_error err;
    long n = domain_list_parse("Example.com\r\n\n  *.Mail.ORG.  \n\t\n", &items, &err);
    assert_int_equal(n, 2);
    assert_int_equal(err.line, 0);
    assert_string_equal(items[0], "example.com");
    assert_string_equal(items[1], "*.mail.org");
    domain_list_free(items, n);

    n = domain_list_parse("good.com\n\nalso.good\nbad..name\nworse_\n", &items, &err);
    assert_int_equal(n, -1);
    assert_null(items);
    assert_int_equal(err.line, 4);
    assert_string_equal(err.reason, "empty label");

    n = domain_list_parse("a.com\nb.com\nc\xc3\xa9.fr", NULL, &err);
    assert_int_equal(n, -1);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.reason, "non-ASCII character (use punycode xn--...)");

    assert_int_equal(domain_list_parse("", NULL, &err), 0);
    assert_int_equal(domain_list_parse("\n \n", NULL, &err), 0);
    assert_int_equal(domain_list_parse("a.com\nb.com", NULL, &err), 2);
}

/* A force-plain pattern may not cover a whole top-level domain (a name
 * without a dot, alone or after "*."); in a force-plain list such a line is
 * a bad line, in any other list it is fine. */
static void test_force_plain_refuses_a_whole_tld(void **state)
{
    (void)state;
    static const char *const refused[] = { "com", "*.com", "localhost", "*.xn--p1ai" };
    static const char *const accepted[] = { "example.com", "*.example.com", "example.co.uk",
                                            "*.example.com.au", "*.a.b", "co.example",
                                            "coop.uk" };
    /* Nor a country registry's second level, where names are sold. */
    static const char *const registry[] = { "co.uk", "*.co.uk", "com.au", "*.gov.br",
                                            "ac.jp" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *why = domain_force_plain_problem(refused[i]);
        assert_non_null(why);
        assert_non_null(strstr(why, "whole top-level domain"));
    }
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        const char *why = domain_force_plain_problem(registry[i]);
        assert_non_null(why);
        assert_non_null(strstr(why, "registry suffix"));
    }
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
        assert_null(domain_force_plain_problem(accepted[i]));

    domain_list_error err;
    char **items = NULL;
    assert_int_equal(domain_force_plain_list_parse("a.example\n\n  *.COM.  \nb.example", &items,
                                                   &err), -1);
    assert_null(items);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.reason, "whole top-level domain"));
    assert_int_equal(domain_list_parse("a.example\n\n  *.COM.  \nb.example", NULL, &err), 3);
    long n = domain_force_plain_list_parse("A.example\n*.b.example", &items, &err);
    assert_int_equal(n, 2);
    assert_string_equal(items[0], "a.example");
    domain_list_free(items, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalizes_case_and_trailing_dot),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_refusals_name_the_reason),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_force_plain_refuses_a_whole_tld),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
