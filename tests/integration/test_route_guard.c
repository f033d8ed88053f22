/* No silent downgrade, end to end: the routing engine against real peers on
 * loopback (the tests' DNS responder with TXT, TLSA and the AD bit; SMTP
 * peers without STARTTLS; a real database). For each rule of issue 8: an
 * MTA-STS enforce domain whose MX lacks STARTTLS stays tls; the same in
 * testing mode goes plain with a warning; a DANE domain stays tls (and one
 * whose MX records are not DNSSEC-validated does not); a guard
 * switched off lets the domain go plain again. The journal and the log say
 * why. Issue 11: each domain's guards run at once under their own
 * deadline, so a slow domain cannot starve another's (an MTA-STS policy
 * fetched from a real HTTPS policy server); a guard look-up without an
 * answer keeps the domain on TLS (guard-unknown); one deadline bounds the
 * whole message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_world.h"

static const char fresh_policy[] = "version: STSv1\nmode: enforce\nmx: mx.fresh.test\n"
                                   "max_age: 86400\n";

static const unsigned char digest[32] = { 9, 8, 7 };
static const char body[] = "Subject: guard\r\n\r\nbody\r\n";

static int setup(void **state)
{
    static const char *const names[] = { "enforce.test", "testing.test", "dane.test",
                                         "nopolicy.test", "broken.test", "mxinsecure.test",
                                         "fresh.test", "slow.test", "txtfail.test",
                                         "tlsafail.test", "stuck.test" };
    route_world *w = route_world_open("routeguard");
    dnsd *dns = w->dns;
    w->body = body;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        dnsd_add_domain(dns, names[i]);
    dnsd_add_txt(dns, "_mta-sts.enforce.test", "v=STSv1; id=enf1;");
    dnsd_add_txt(dns, "_mta-sts.testing.test", "v=STSv1; id=tst1;");
    /* Announced, but mta-sts.broken.test does not even resolve. */
    dnsd_add_txt(dns, "_mta-sts.broken.test", "v=STSv1; id=brk1;");
    /* DANE: validated TLSA records under a validated MX RRset. */
    dnsd_set_ad(dns, "dane.test");
    dnsd_add_tlsa(dns, "_25._tcp.mx.dane.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.dane.test");
    /* Validated TLSA records, but the MX RRset is not (RFC 7672 2.2). */
    dnsd_add_tlsa(dns, "_25._tcp.mx.mxinsecure.test", 3, 1, 1, digest, sizeof digest);
    dnsd_set_ad(dns, "_25._tcp.mx.mxinsecure.test");
    /* Issue 11: an enforce policy only its HTTPS server knows; a TXT query
     * never answered; one answered SERVFAIL; a TLSA SERVFAIL under a
     * validated MX RRset; an MX look-up never answered. */
    route_world_policy_host(w, "fresh.test", fresh_policy);
    dnsd_add_txt(dns, "_mta-sts.fresh.test", "v=STSv1; id=fr1;");
    dnsd_set_silent(dns, "_mta-sts.slow.test");
    dnsd_set_rcode(dns, "_mta-sts.txtfail.test", 2);
    dnsd_set_ad(dns, "tlsafail.test");
    dnsd_set_rcode(dns, "_25._tcp.mx.tlsafail.test", 2);
    dnsd_set_silent(dns, "stuck.test");
    route_world_known_policy(w, "enforce.test", "enf1", "enforce");
    route_world_known_policy(w, "testing.test", "tst1", "testing");
    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));
    route_world_add_rule(w, 0);
    route_world_set(w, "guard_timeout_ms", "1500");
    route_world_start(w);
    engine_set_sts_test_hooks(w->eng, w->ca_file, stsd_port(w->policy_host));
    *state = w;
    return 0;
}

static const route_decision *decision_for(const route_result *r, const char *rcpt)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->decisions[i].recipient, rcpt) == 0)
            return &r->decisions[i];
    fail_msg("no decision for %s", rcpt);
    return NULL;
}

static void assert_journal(route_world *w, const char *recipient, const char *route,
                           const char *reason, const char *detail_part)
{
    char *row = route_world_journal_row(w, recipient);
    if (strncmp(row, route, strlen(route)) != 0 || !strstr(row, reason) ||
        !strstr(row, detail_part))
        print_error("journal row: %s\n", row);
    assert_true(strncmp(row, route, strlen(route)) == 0);
    assert_non_null(strstr(row, reason));
    assert_non_null(strstr(row, detail_part));
    free(row);
}

static void enforce_domain_without_starttls_stays_tls(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_route_one(w, "a@enforce.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "sts-policy");
    assert_string_equal(probe_status_name(r.decisions[0].status), "no-starttls");
    assert_int_equal(r.handed_off, 0);
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 0);
    assert_journal(w, "a@enforce.test", "tls", "|sts-policy|",
                   "MTA-STS policy (enforce, id enf1) requires TLS");
}

static void testing_domain_goes_plain_with_a_warning(void **state)
{
    route_world *w = *state;
    route_result r;
    char *warning;
    route_world_route_one(w, "b@testing.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    assert_int_equal(r.handed_off, 1);
    assert_non_null(strstr(r.decisions[0].detail, "testing mode (id tst1)"));
    route_result_free(&r);
    assert_journal(w, "b@testing.test", "plain", "|no-starttls|", "testing mode (id tst1)");
    warning = route_world_text(w, "SELECT message FROM log WHERE level = 1 AND message LIKE "
                                     "'testing.test: MTA-STS policy in testing mode%'");
    assert_string_not_equal(warning, "");
    free(warning);
}

static void dane_domain_without_starttls_stays_tls(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_route_one(w, "c@dane.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "dane");
    route_result_free(&r);
    assert_journal(w, "c@dane.test", "tls", "|dane|", "DNSSEC-validated TLSA");
}

/* TLSA records under an MX RRset that is not DNSSEC-validated do not make
 * DANE apply: the domain goes plain, and the journal says why. */
static void dane_without_validated_mx_goes_plain(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_route_one(w, "i@mxinsecure.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    assert_int_equal(r.handed_off, 1);
    assert_non_null(strstr(r.decisions[0].detail, "DANE does not apply"));
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 1);
    assert_journal(w, "i@mxinsecure.test", "plain", "|no-starttls|",
                   "MX records of mxinsecure.test are not (RFC 7672 2.2)");
}

static void no_policy_and_unfetchable_policy_go_plain(void **state)
{
    route_world *w = *state;
    route_result r;
    char *warning;
    route_world_route_one(w, "d@nopolicy.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    route_result_free(&r);
    /* A record whose policy cannot be fetched is no policy (RFC 8461), but
     * the admin hears of it. */
    route_world_route_one(w, "e@broken.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_non_null(strstr(r.decisions[0].detail, "MTA-STS record, but no policy"));
    route_result_free(&r);
    warning = route_world_text(w, "SELECT message FROM log WHERE level = 1 AND message LIKE "
                                     "'broken.test: MTA-STS record, but no policy%'");
    assert_string_not_equal(warning, "");
    free(warning);
    /* A failed fetch is not remembered: once the policy is had (here: put
     * in the database, as a fetch would), the next message is guarded. */
    route_world_known_policy(w, "broken.test", "brk1", "enforce");
    route_world_route_one(w, "e2@broken.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "sts-policy");
    route_result_free(&r);
}

static void guards_switched_off_allow_plain(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_set(w, "guard_mta_sts", "0");
    route_world_set(w, "guard_dane", "0");
    route_world_route_one(w, "f@enforce.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    route_result_free(&r);
    route_world_route_one(w, "g@dane.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    route_result_free(&r);
    /* And on again: the guard holds once more, no restart. */
    route_world_set(w, "guard_mta_sts", "1");
    route_world_route_one(w, "h@enforce.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "sts-policy");
    route_result_free(&r);
}

/* Issue 11, 1: a domain whose TXT query is never answered shares the
 * message with an enforce domain whose policy must be fetched over HTTPS,
 * and with a DANE domain. Each has its own guard deadline: the enforce
 * and DANE domains stay on TLS for their policies; the silent one stays
 * on TLS because its look-up got no answer. */
static void slow_domain_cannot_starve_another(void **state)
{
    route_world *w = *state;
    route_result r;
    const char *rcpts[] = { "u@slow.test", "v@fresh.test", "x@dane.test" };
    uint64_t start = plat_now_ms();
    route_world_route(w, rcpts, 3, &r);
    uint64_t took = plat_now_ms() - start;
    const route_decision *slow = decision_for(&r, "u@slow.test");
    const route_decision *fresh = decision_for(&r, "v@fresh.test");
    const route_decision *dane = decision_for(&r, "x@dane.test");
    assert_int_equal(fresh->plain, 0);
    assert_string_equal(decide_reason_name(fresh->reason), "sts-policy");
    assert_int_equal(dane->plain, 0);
    assert_string_equal(decide_reason_name(dane->reason), "dane");
    assert_int_equal(slow->plain, 0);
    assert_string_equal(decide_reason_name(slow->reason), "guard-unknown");
    assert_non_null(strstr(slow->detail, "TXT look-up of _mta-sts.slow.test"));
    assert_int_equal(r.handed_off, 0);
    /* One guard deadline (1.5 s), not the three in a row. */
    if (took > 1800)
        print_error("the message took %llu ms\n", (unsigned long long)took);
    assert_true(took >= 1400 && took <= 1800);
    route_result_free(&r);
    assert_int_equal(route_world_pickup_files(w), 0);
    assert_journal(w, "u@slow.test", "tls", "|guard-unknown|", "_mta-sts.slow.test");
}

/* Issue 11, 2: SERVFAIL on the TXT query, and on a TLSA query under a
 * validated MX RRset (RFC 7672 2.2), keep the domain on TLS; the journal
 * names the look-up. */
static void guard_without_answer_stays_tls(void **state)
{
    route_world *w = *state;
    route_result r;
    route_world_route_one(w, "t@txtfail.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "guard-unknown");
    assert_string_equal(probe_status_name(r.decisions[0].status), "no-starttls");
    route_result_free(&r);
    assert_journal(w, "t@txtfail.test", "tls", "|guard-unknown|",
                   "no answer to the TXT look-up of _mta-sts.txtfail.test");
    route_world_route_one(w, "t@tlsafail.test", &r);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "guard-unknown");
    route_result_free(&r);
    assert_journal(w, "t@tlsafail.test", "tls", "|guard-unknown|",
                   "TLSA look-up of _25._tcp.mx.tlsafail.test");
    /* Not remembered: once the look-up answers, the domain is routed by
     * what it publishes (here nothing: plain). */
    dnsd_set_rcode(w->dns, "_mta-sts.txtfail.test", 0);
    route_world_route_one(w, "t2@txtfail.test", &r);
    assert_int_equal(r.decisions[0].plain, 1);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-starttls");
    route_result_free(&r);
}

/* Issue 11, 6: one deadline for the message. A domain whose MX look-up is
 * never answered is cut at the message's deadline, not at its own probe
 * deadline (8 s here), stays on TLS and is not cached as a timeout. */
static void message_deadline_bounds_the_probes(void **state)
{
    route_world *w = *state;
    route_result r;
    const char *rcpts[] = { "s@stuck.test", "n@nopolicy.test" };
    route_world_set(w, "message_timeout_ms", "2000");
    uint64_t start = plat_now_ms();
    route_world_route(w, rcpts, 2, &r);
    uint64_t took = plat_now_ms() - start;
    if (took > 2400)
        print_error("the message took %llu ms\n", (unsigned long long)took);
    assert_true(took >= 1900 && took <= 2400);
    const route_decision *stuck = decision_for(&r, "s@stuck.test");
    assert_int_equal(stuck->plain, 0);
    assert_string_equal(decide_reason_name(stuck->reason), "probe-failed");
    assert_non_null(strstr(stuck->detail, "message's deadline (message_timeout_ms 2000)"));
    assert_int_equal(decision_for(&r, "n@nopolicy.test")->plain, 1);
    route_result_free(&r);
    assert_int_equal(route_world_int(w, "SELECT count(*) FROM probe_cache"
                                        " WHERE domain = 'stuck.test'"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUTE_WORLD_TEST(enforce_domain_without_starttls_stays_tls, setup),
        ROUTE_WORLD_TEST(testing_domain_goes_plain_with_a_warning, setup),
        ROUTE_WORLD_TEST(dane_domain_without_starttls_stays_tls, setup),
        ROUTE_WORLD_TEST(dane_without_validated_mx_goes_plain, setup),
        ROUTE_WORLD_TEST(no_policy_and_unfetchable_policy_go_plain, setup),
        ROUTE_WORLD_TEST(guards_switched_off_allow_plain, setup),
        ROUTE_WORLD_TEST(slow_domain_cannot_starve_another, setup),
        ROUTE_WORLD_TEST(guard_without_answer_stays_tls, setup),
        ROUTE_WORLD_TEST(message_deadline_bounds_the_probes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
