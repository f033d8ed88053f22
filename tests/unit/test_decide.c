/* The decision table, row by row, and first match wins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "domain.h"
#include "domset.h"

typedef struct {
    domset *never;
    domset *force;
    decide_rule rule;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->never = domset_new();
    f->force = domset_new();
    assert_int_equal(domset_add(f->never, "gmail.com"), 0);
    assert_int_equal(domset_add(f->never, "*.bank.example"), 0);
    assert_int_equal(domset_add(f->force, "legacy.example"), 0);
    assert_int_equal(domset_add(f->force, "*.old.example"), 0);
    /* On both lists: never-redirect is row 2 and must win. */
    assert_int_equal(domset_add(f->force, "gmail.com"), 0);
    f->rule.expired_cert = 1;
    f->rule.never_redirect = f->never;
    f->rule.force_plain = f->force;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    domset_free(f->never);
    domset_free(f->force);
    free(f);
    return 0;
}

/* status in the DESIGN.md words, NULL for not probed; a word this version
 * does not know is PROBE_UNKNOWN, as a reader of a newer database has it. */
static decide_outcome run(const decide_rule *rule, const char *domain,
                          decide_policy policy, int expired, const char *status)
{
    probe_status st = PROBE_NOT_PROBED;
    if (status && probe_status_parse(status, &st) != 0)
        st = PROBE_UNKNOWN;
    decide_input in = { .rule = rule, .domain = domain, .policy = policy,
                        .expired_cached = expired, .probe_status = st };
    return decide(&in);
}

static void expect(decide_outcome o, decide_route route, const char *reason,
                   int needs_probe, int add_expired)
{
    assert_int_equal(o.route, route);
    assert_string_equal(decide_reason_name(o.reason), reason);
    assert_int_equal(o.needs_probe, needs_probe);
    assert_int_equal(o.add_expired, add_expired);
}

static void row1_no_rule_is_tls_whatever_else(void **state)
{
    (void)state;
    /* Even a domain the probe found without STARTTLS stays on TLS. */
    expect(run(NULL, "legacy.example", DECIDE_POLICY_NONE, 1, "no-starttls"),
           DECIDE_TLS, "no-rule", 0, 0);
}

static void row2_never_redirect_beats_everything_after(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "gmail.com", DECIDE_POLICY_NONE, 1, "no-starttls"),
           DECIDE_TLS, "never-redirect-list", 0, 0);
    expect(run(&f->rule, "mx.bank.example", DECIDE_POLICY_NONE, 0, NULL),
           DECIDE_TLS, "never-redirect-list", 0, 0);
    /* The wildcard does not cover the domain itself. */
    expect(run(&f->rule, "bank.example", DECIDE_POLICY_NONE, 0, NULL),
           DECIDE_TLS, "needs-probe", 1, 0);
}

static void row3_force_plain_without_probe(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "legacy.example", DECIDE_POLICY_NONE, 0, NULL),
           DECIDE_PLAIN, "force-plain-list", 0, 0);
    expect(run(&f->rule, "a.b.old.example", DECIDE_POLICY_NONE, 0, "starttls"),
           DECIDE_PLAIN, "force-plain-list", 0, 0);
    /* Force-plain outranks a published policy: the admin said so. */
    expect(run(&f->rule, "legacy.example", DECIDE_POLICY_DANE, 0, NULL),
           DECIDE_PLAIN, "force-plain-list", 0, 0);
    expect(run(&f->rule, "old.example", DECIDE_POLICY_NONE, 0, NULL),
           DECIDE_TLS, "needs-probe", 1, 0);
}

/* Row 3 of DESIGN.md: what IIS routes itself stays with IIS, unprobed,
 * whatever the later rows would say; rows 1 and 2 still come first. */
static void iis_routes_its_own_domains(void **state)
{
    fixture *f = *state;
    const decide_iis kinds[] = { DECIDE_IIS_LOCAL, DECIDE_IIS_ROUTED };
    const char *const reasons[] = { "iis-local-domain", "iis-domain-route" };
    for (int i = 0; i < 2; i++) {
        /* On the force-plain list, cached expired, probed without STARTTLS. */
        decide_input in = { .rule = &f->rule, .iis = kinds[i], .domain = "legacy.example",
                            .expired_cached = 1, .probe_status = PROBE_NO_STARTTLS };
        expect(decide(&in), DECIDE_TLS, reasons[i], 0, 0);
        in.domain = "gmail.com"; /* never-redirect too: row 3 comes first */
        expect(decide(&in), DECIDE_TLS, reasons[i], 0, 0);
        in.probe_status = PROBE_NOT_PROBED;
        in.domain = "new.example";
        expect(decide(&in), DECIDE_TLS, reasons[i], 0, 0);
        in.looped = 1;
        expect(decide(&in), DECIDE_TLS, "loop", 0, 0);
        in.rule = NULL;
        expect(decide(&in), DECIDE_TLS, "no-rule", 0, 0);
    }
    decide_input none = { .rule = &f->rule, .iis = DECIDE_IIS_NONE, .domain = "new.example",
                          .probe_status = PROBE_NOT_PROBED };
    expect(decide(&none), DECIDE_TLS, "needs-probe", 1, 0);
}

static void row4_policies_forbid_downgrade(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "sts.example", DECIDE_POLICY_STS, 1, "no-starttls"),
           DECIDE_TLS, "sts-policy", 0, 0);
    expect(run(&f->rule, "dane.example", DECIDE_POLICY_DANE, 1, "cert-expired"),
           DECIDE_TLS, "dane", 0, 0);
}

static void row5_expired_cache_only_with_toggle(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "exp.example", DECIDE_POLICY_NONE, 1, NULL),
           DECIDE_PLAIN, "expired-cache", 0, 0);
    decide_rule off = f->rule;
    off.expired_cert = 0;
    /* Toggle off: the cache does not decide, the probe does. */
    expect(run(&off, "exp.example", DECIDE_POLICY_NONE, 1, NULL),
           DECIDE_TLS, "needs-probe", 1, 0);
    expect(run(&off, "exp.example", DECIDE_POLICY_NONE, 1, "starttls"),
           DECIDE_TLS, "tls-ok", 0, 0);
}

static void row6_no_starttls_and_rejected_are_plain(void **state)
{
    fixture *f = *state;
    decide_rule off = f->rule;
    off.expired_cert = 0;
    expect(run(&off, "x.example", DECIDE_POLICY_NONE, 0, "no-starttls"),
           DECIDE_PLAIN, "no-starttls", 0, 0);
    expect(run(&off, "x.example", DECIDE_POLICY_NONE, 0, "starttls-rejected"),
           DECIDE_PLAIN, "starttls-rejected", 0, 0);
}

static void row7_cert_expired_follows_toggle(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "x.example", DECIDE_POLICY_NONE, 0, "cert-expired"),
           DECIDE_PLAIN, "cert-expired", 0, 1);
    decide_rule off = f->rule;
    off.expired_cert = 0;
    expect(run(&off, "x.example", DECIDE_POLICY_NONE, 0, "cert-expired"),
           DECIDE_TLS, "cert-expired", 0, 0);
}

static void row8_handshake_failed_follows_toggle(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "x.example", DECIDE_POLICY_NONE, 0, "handshake-failed"),
           DECIDE_PLAIN, "handshake-failed", 0, 0);
    decide_rule off = f->rule;
    off.expired_cert = 0;
    expect(run(&off, "x.example", DECIDE_POLICY_NONE, 0, "handshake-failed"),
           DECIDE_TLS, "handshake-failed", 0, 0);
}

static void row9_tls_works(void **state)
{
    fixture *f = *state;
    expect(run(&f->rule, "x.example", DECIDE_POLICY_NONE, 0, "starttls"),
           DECIDE_TLS, "tls-ok", 0, 0);
}

static void row10_probe_could_not_tell(void **state)
{
    fixture *f = *state;
    static const char *const statuses[] = {
        "connect-failed", "timeout", "dns-failed", "no-domain", "null-mx",
        "protocol-error", "something-new",
    };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        expect(run(&f->rule, "x.example", DECIDE_POLICY_NONE, 0, statuses[i]),
               DECIDE_TLS, "probe-failed", 0, 0);
}

static void rule_with_empty_lists(void **state)
{
    (void)state;
    decide_rule bare = { 0, NULL, NULL };
    expect(run(&bare, "x.example", DECIDE_POLICY_NONE, 0, NULL),
           DECIDE_TLS, "needs-probe", 1, 0);
    expect(run(&bare, "x.example", DECIDE_POLICY_NONE, 0, "no-starttls"),
           DECIDE_PLAIN, "no-starttls", 0, 0);
}

/* The one name table of each enum: every value has its own word, and the
 * word parses back to it (the journal stores the words, the readers parse
 * them); words a newer version may write do not parse. */
static void every_reason_and_status_name_parses_back(void **state)
{
    (void)state;
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        decide_reason back = DECIDE_REASON_COUNT;
        const char *name = decide_reason_name((decide_reason)i);
        assert_int_equal(decide_reason_parse(name, &back), 0);
        assert_int_equal(back, i);
        assert_string_not_equal(name, "unknown");
    }
    for (int i = 0; i < PROBE_STATUS_COUNT; i++) {
        probe_status back = PROBE_STATUS_COUNT;
        assert_int_equal(probe_status_parse(probe_status_name((probe_status)i), &back), 0);
        assert_int_equal(back, i);
    }
    /* The words the journal has always held. */
    assert_string_equal(decide_reason_name(DECIDE_ADDRESS_REFUSED), "address-refused");
    assert_string_equal(decide_reason_name(DECIDE_NEEDS_PROBE), "needs-probe");
    assert_string_equal(probe_status_name(PROBE_NOT_PROBED), "");
    assert_true(probe_status_is_outcome(PROBE_CERT_NOT_YET_VALID));
    assert_false(probe_status_is_outcome(PROBE_NOT_PROBED));
    assert_false(probe_status_is_outcome(PROBE_UNKNOWN));
    decide_reason r;
    probe_status s;
    assert_int_equal(decide_reason_parse("something-new", &r), -1);
    assert_int_equal(probe_status_parse("something-new", &s), -1);
}

static void domset_matching(void **state)
{
    (void)state;
    domset *s = domset_new();
    assert_non_null(s);
    assert_int_equal(domset_add(s, "example.com"), 0);
    assert_int_equal(domset_add(s, "*.corp.example"), 0);
    assert_int_equal(domset_add(s, "example.com"), 0); /* duplicate: one entry */
    assert_int_equal(domset_add(s, ""), -1);
    assert_int_equal(domset_count(s), 2);
    assert_true(domset_matches(s, "example.com"));
    assert_false(domset_matches(s, "www.example.com"));
    assert_false(domset_matches(s, "xexample.com"));
    assert_true(domset_matches(s, "a.corp.example"));
    assert_true(domset_matches(s, "a.b.c.corp.example"));
    assert_false(domset_matches(s, "corp.example"));
    assert_false(domset_matches(s, "xcorp.example"));
    assert_false(domset_matches(s, "corp.example.net"));
    /* Many patterns: every one still found, none invented. */
    char name[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "d%d.example", i);
        assert_int_equal(domset_add(s, name), 0);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "d%d.example", i);
        assert_true(domset_matches(s, name));
        snprintf(name, sizeof name, "e%d.example", i);
        assert_false(domset_matches(s, name));
    }
    domset_free(s);
}

/* The compiled sets answer exactly as the store's pattern matcher. */
static void domset_agrees_with_domain_pattern_matches(void **state)
{
    (void)state;
    static const char *const patterns[] = { "example.com", "*.example.com", "*.a.b.example",
                                            "xn--bcher-kva.example", "com" };
    static const char *const domains[] = { "example.com", "www.example.com", "a.b.example.com",
                                           "example.com.au", "notexample.com", "a.b.example",
                                           "x.a.b.example", "b.example", "xn--bcher-kva.example",
                                           "com", "x.com" };
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        domset *s = domset_new();
        assert_non_null(s);
        assert_int_equal(domset_add(s, patterns[p]), 0);
        for (size_t d = 0; d < sizeof domains / sizeof domains[0]; d++)
            assert_int_equal(domset_matches(s, domains[d]) != 0,
                             domain_pattern_matches(patterns[p], domains[d]));
        domset_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(row1_no_rule_is_tls_whatever_else, setup, teardown),
        cmocka_unit_test_setup_teardown(row2_never_redirect_beats_everything_after, setup, teardown),
        cmocka_unit_test_setup_teardown(row3_force_plain_without_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(iis_routes_its_own_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(row4_policies_forbid_downgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(row5_expired_cache_only_with_toggle, setup, teardown),
        cmocka_unit_test_setup_teardown(row6_no_starttls_and_rejected_are_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(row7_cert_expired_follows_toggle, setup, teardown),
        cmocka_unit_test_setup_teardown(row8_handshake_failed_follows_toggle, setup, teardown),
        cmocka_unit_test_setup_teardown(row9_tls_works, setup, teardown),
        cmocka_unit_test_setup_teardown(row10_probe_could_not_tell, setup, teardown),
        cmocka_unit_test(rule_with_empty_lists),
        cmocka_unit_test(every_reason_and_status_name_parses_back),
        cmocka_unit_test(domset_matching),
        cmocka_unit_test(domset_agrees_with_domain_pattern_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
