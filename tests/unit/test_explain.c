/* The reasons in plain words: one text for every reason, findable by its
 * journal word, and a route that says what the decision table does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decide.h"
#include "domset.h"
#include "explain.h"

static void assert_sentences(const char *reason, const char *what, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 12 || s[n - 1] != '.')
        fail_msg("%s: %s \"%s\" is not a sentence", reason, what, s ? s : "(null)");
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            fail_msg("%s: %s has byte 0x%02x: the texts are printable ASCII", reason, what,
                     (unsigned char)*p);
}

/* Fails when a reason is added to decide.h without its text (or with a
 * text that says nothing). */
static void every_reason_has_a_text(void **state)
{
    (void)state;
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        const char *name = decide_reason_name((decide_reason)i);
        const explain_text *t = explain_reason((decide_reason)i);
        if (!t)
            fail_msg("reason %s (%d) has no text in core/explain.c", name, i);
        assert_int_equal(t->reason, i);
        assert_ptr_equal(explain_lookup(name), t);
        size_t title = t->title ? strlen(t->title) : 0;
        if (title < 3 || t->title[title - 1] == '.')
            fail_msg("%s: title \"%s\" is not a short title", name, t->title ? t->title : "");
        assert_sentences(name, "meaning", t->meaning);
        assert_sentences(name, "action", t->action);
    }
}

static void unknown_reasons_have_none(void **state)
{
    (void)state;
    assert_null(explain_reason((decide_reason)DECIDE_REASON_COUNT));
    assert_null(explain_reason((decide_reason)-1));
    assert_null(explain_lookup("unknown"));
    assert_null(explain_lookup("TLS-OK"));
    assert_null(explain_lookup(""));
    assert_null(explain_lookup(NULL));
    assert_string_equal(explain_route_name(EXPLAIN_TLS), "tls");
    assert_string_equal(explain_route_name(EXPLAIN_PLAIN), "plain");
    assert_string_equal(explain_route_name(EXPLAIN_DEPENDS), "depends");
}

/* Every input the table reads, each combination once: which routes each
 * reason was seen with. */
static void sweep_decide(unsigned seen[DECIDE_REASON_COUNT])
{
    static const char *const domains[] = { "never.example", "force.example", "other.example" };
    domset *never = domset_new(), *force = domset_new();
    assert_int_equal(domset_add(never, "never.example"), 0);
    assert_int_equal(domset_add(force, "force.example"), 0);
    decide_rule rules[2] = { { 0, never, force }, { 1, never, force } };
    const decide_rule *rule_of[3] = { NULL, &rules[0], &rules[1] };
    for (int r = 0; r < 3; r++)
        for (int looped = 0; looped < 2; looped++)
            for (int iis = DECIDE_IIS_NONE; iis <= DECIDE_IIS_ROUTED; iis++)
                for (int d = 0; d < 3; d++)
                    for (int pol = DECIDE_POLICY_NONE; pol <= DECIDE_POLICY_UNKNOWN; pol++)
                        for (int exp = 0; exp < 2; exp++)
                            for (int st = 0; st < PROBE_STATUS_COUNT; st++) {
                                decide_input in = { .rule = rule_of[r],
                                                    .looped = looped,
                                                    .iis = (decide_iis)iis,
                                                    .domain = domains[d],
                                                    .policy = (decide_policy)pol,
                                                    .expired_cached = exp,
                                                    .probe_status = (probe_status)st };
                                decide_outcome o = decide(&in);
                                seen[o.reason] |= 1u << o.route;
                            }
    domset_free(never);
    domset_free(force);
}

/* "tls" and "plain" mean the decision table gives only that route for the
 * reason; "depends" that it gives both. address-refused is decided before
 * the table (route.c) and always keeps TLS. */
static void routes_agree_with_the_decision_table(void **state)
{
    (void)state;
    unsigned seen[DECIDE_REASON_COUNT] = { 0 };
    const unsigned tls = 1u << DECIDE_TLS, plain = 1u << DECIDE_PLAIN;
    sweep_decide(seen);
    seen[DECIDE_ADDRESS_REFUSED] |= tls;
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        const explain_text *t = explain_reason((decide_reason)i);
        unsigned want = t->route == EXPLAIN_TLS ? tls
                      : t->route == EXPLAIN_PLAIN ? plain : tls | plain;
        if (seen[i] != want)
            fail_msg("%s: explain says %s, the decision table gives %s%s%s",
                     decide_reason_name((decide_reason)i), explain_route_name(t->route),
                     seen[i] & tls ? "tls " : "", seen[i] & plain ? "plain" : "",
                     seen[i] ? "" : "nothing");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_reason_has_a_text),
        cmocka_unit_test(unknown_reasons_have_none),
        cmocka_unit_test(routes_agree_with_the_decision_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
