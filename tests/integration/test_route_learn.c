/* MTA-STS policies learnt on clean paths (issue 11), end to end: the
 * routing engine against the tests' DNS server, a real HTTPS policy host
 * with a test CA, SMTP peers with and without STARTTLS, and a real
 * database. A domain routed over a clean path has its policy learnt in the
 * background; an attacker who later strips STARTTLS and hides the TXT
 * record finds it cached. The TXT record is read at most once an hour,
 * never on the message's time, only while guard_mta_sts is on, through the
 * engine's resolvers; `tlsrouter cache list` shows what was learnt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgwork.h"
#include "pcache.h"
#include "route_world.h"
#include "stslearn.h"

#define IDLE_MS 15000 /* background jobs end well within this */

static const char body[] = "Subject: learn\r\n\r\nbody\r\n";

/* The learner fetches policies from the test's policy host, trusting the
 * test CA (nothing listens before there is one). */
static void point_fetch(route_world *w)
{
    mtasts_options fetch = { 0 };
    fetch.ca_file = w->ca_file;
    fetch.connect_ip = "127.0.0.1";
    fetch.port = w->policy_host ? stsd_port(w->policy_host) : peer_unused_port();
    stslearn_set_fetch(engine_learner(w->eng), &fetch);
}

static void open_engine(route_world *w)
{
    route_world_start(w);
    point_fetch(w);
}

/* The MTA-STS policy host of domain: mta-sts.<domain>, serving policy. */
static void start_policy_host(route_world *w, const char *domain, const char *policy)
{
    route_world_policy_host(w, domain, policy);
    point_fetch(w);
}

static int setup(void **state)
{
    static const char *const names[] = { "learn.test", "nosts.test", "testing.test",
                                         "slow.test" };
    route_world *w = route_world_open("routelearn");
    w->body = body;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        dnsd_add_domain(w->dns, names[i]);
    dnsd_add_txt(w->dns, "_mta-sts.learn.test", "v=STSv1; id=l1;");
    dnsd_add_txt(w->dns, "_mta-sts.testing.test", "v=STSv1; id=t1;");
    dnsd_add_txt(w->dns, "_mta-sts.slow.test", "v=STSv1; id=s1;");
    dnsd_set_silent(w->dns, "_mta-sts.slow.test");
    /* Short, so the jobs that meet a silent record end soon. */
    route_world_set(w, "guard_timeout_ms", "1500");
    route_world_serve(w, peer_start(PEER_STARTTLS, NULL));
    route_world_add_rule(w, 0);
    open_engine(w);
    *state = w;
    return 0;
}

static void route_from(route_world *w, int source, const char *rcpt, route_result *r)
{
    const char *rcpts[] = { rcpt };
    route_message m = route_world_message(w, rcpts, 1);
    m.source_instance = source;
    assert_int_equal(route_run(w->eng, &m, r), 0);
}

/* Routes rcpt, expects the route and reason, forgets the result. */
static void route_expect(route_world *w, const char *rcpt, int plain, const char *reason)
{
    route_result r;
    route_world_route_one(w, rcpt, &r);
    if (r.decisions[0].plain != plain || strcmp(decide_reason_name(r.decisions[0].reason), reason) != 0)
        print_error("%s: plain %d, reason %s, detail %s\n", rcpt, r.decisions[0].plain,
                    decide_reason_name(r.decisions[0].reason), r.decisions[0].detail);
    assert_int_equal(r.decisions[0].plain, plain);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), reason);
    route_result_free(&r);
}

static void wait_background(route_world *w)
{
    assert_int_equal(bgwork_wait_idle(engine_background(w->eng), IDLE_MS), 0);
}

static void assert_stored(route_world *w, const char *domain, const char *mode_id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT mode || '|' || id FROM sts_policy WHERE domain = '%s'",
             domain);
    /* "mode|id" of the domain's stored policy, "" when none. */
    char *got = route_world_text(w, sql);
    if (strcmp(got, mode_id) != 0)
        print_error("%s: stored policy \"%s\", expected \"%s\"\n", domain, got, mode_id);
    assert_string_equal(got, mode_id);
    free(got);
}

static const char enforce_policy[] = "version: STSv1\nmode: enforce\nmx: mx.learn.test\n"
                                     "max_age: 86400\n";

/* The whole story: learnt on a clean path, then a stripping attacker who
 * also hides the TXT record meets the cached enforce policy. */
static void policy_learnt_on_a_clean_path_outlives_stripping(void **state)
{
    route_world *w = *state;
    const char *list[] = { "--db", w->dir.db, "cache", "list", NULL };
    trtest_result cli;
    pcache *probes;
    start_policy_host(w, "learn.test", enforce_policy);
    route_expect(w, "a@learn.test", 0, "tls-ok");
    wait_background(w);
    assert_stored(w, "learn.test", "enforce|l1");
    assert_int_equal(stsd_requests(w->policy_host), 1);
    /* tlsrouter cache list shows the learnt policy. */
    assert_int_equal(trtest_run_cli(list, &cli), 0);
    assert_int_equal(cli.exit_code, 0);
    assert_non_null(strstr(cli.out, "mta-sts policies:"));
    assert_non_null(strstr(cli.out, "learn.test"));
    assert_non_null(strstr(cli.out, "enforce"));
    assert_non_null(strstr(cli.out, "l1"));
    trtest_result_free(&cli);

    /* A day later the probe cache has let go of the domain (here: cleared,
     * across a restart), and the attacker strips STARTTLS and silences the
     * _mta-sts TXT query. */
    route_world_stop(w);
    assert_non_null(probes = pcache_new(store_db(w->admin), NULL));
    assert_int_equal(pcache_clear(probes, 0), 0);
    pcache_free(probes);
    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));
    dnsd_set_silent(w->dns, "_mta-sts.learn.test");
    open_engine(w);
    route_result r;
    route_world_route_one(w, "b@learn.test", &r);
    if (r.decisions[0].plain || strcmp(decide_reason_name(r.decisions[0].reason), "sts-policy") != 0)
        print_error("after stripping: plain %d, reason %s, detail %s\n", r.decisions[0].plain,
                    decide_reason_name(r.decisions[0].reason), r.decisions[0].detail);
    assert_int_equal(r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "sts-policy");
    assert_string_equal(probe_status_name(r.decisions[0].status), "no-starttls");
    assert_int_equal(r.handed_off, 0);
    route_result_free(&r);
    /* The silenced look-ups did not cost the policy. */
    wait_background(w);
    assert_stored(w, "learn.test", "enforce|l1");
}

/* Read once, then not again for an hour: a busy domain costs one TXT query
 * and one fetch an hour, not one per message. */
static void txt_read_at_most_once_an_hour(void **state)
{
    route_world *w = *state;
    const char *domain[] = { "learn.test" };
    stslearn_settings s = { dnsd_server(w->dns), 1500 };
    start_policy_host(w, "learn.test", enforce_policy);
    for (int i = 0; i < 3; i++) {
        route_expect(w, "a@learn.test", 0, "tls-ok");
        wait_background(w);
    }
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 1);
    assert_int_equal(stsd_requests(w->policy_host), 1);
    assert_stored(w, "learn.test", "enforce|l1");
    /* Within the hour: not due. An hour on: read again, and since the id
     * has not changed the policy is not fetched again. */
    stslearn *l = engine_learner(w->eng);
    uint64_t now = plat_now_ms();
    assert_int_equal(stslearn_offer(l, domain, 1, &s, now + STSLEARN_TXT_EVERY_MS - 60000), 0);
    assert_int_equal(stslearn_offer(l, domain, 1, &s, now + STSLEARN_TXT_EVERY_MS), 1);
    wait_background(w);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 2);
    assert_int_equal(stsd_requests(w->policy_host), 1);
}

/* Most domains publish nothing: that costs one TXT query an hour. */
static void domain_without_record_costs_one_query(void **state)
{
    route_world *w = *state;
    route_expect(w, "a@nosts.test", 0, "tls-ok");
    wait_background(w);
    route_expect(w, "b@nosts.test", 0, "tls-ok");
    wait_background(w);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.nosts.test"), 1);
    assert_stored(w, "nosts.test", "");
}

/* Plain paths teach too: a testing-mode policy the foreground could not
 * fetch (it has no route to the policy host in this test) is learnt. */
static void policy_learnt_on_a_plain_path(void **state)
{
    route_world *w = *state;
    start_policy_host(w, "testing.test", "version: STSv1\nmode: testing\n"
                                         "mx: mx.testing.test\nmax_age: 86400\n");
    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));
    route_expect(w, "a@testing.test", 1, "no-starttls");
    wait_background(w);
    assert_stored(w, "testing.test", "testing|t1");
}

static void no_learning_with_guard_mta_sts_off(void **state)
{
    route_world *w = *state;
    start_policy_host(w, "learn.test", enforce_policy);
    route_world_set(w, "guard_mta_sts", "0");
    route_expect(w, "a@learn.test", 0, "tls-ok");
    wait_background(w);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 0);
    assert_stored(w, "learn.test", "");
    /* Switched on again: the next message teaches, no restart. */
    route_world_set(w, "guard_mta_sts", "1");
    route_expect(w, "b@learn.test", 0, "tls-ok");
    wait_background(w);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 1);
    assert_stored(w, "learn.test", "enforce|l1");
}

/* A domain about to go plain had no policy when the guard asked, and that
 * is remembered for an hour; a policy the learner fetches later in that
 * hour counts at once. */
static void policy_learnt_later_replaces_remembered_none(void **state)
{
    route_world *w = *state;
    const char *late[] = { "late.test" };
    stslearn_settings s = { dnsd_server(w->dns), 1500 };
    dnsd_add_domain(w->dns, "late.test");
    route_world_serve(w, peer_start(PEER_NO_STARTTLS, NULL));
    route_expect(w, "a@late.test", 1, "no-starttls");
    wait_background(w);
    /* The domain publishes a policy; the learner reads it on its next round. */
    dnsd_add_txt(w->dns, "_mta-sts.late.test", "v=STSv1; id=x1;");
    start_policy_host(w, "late.test", "version: STSv1\nmode: enforce\nmx: mx.late.test\n"
                                      "max_age: 86400\n");
    assert_int_equal(stslearn_offer(engine_learner(w->eng), late, 1, &s,
                                    plat_now_ms() + STSLEARN_TXT_EVERY_MS), 1);
    wait_background(w);
    assert_stored(w, "late.test", "enforce|x1");
    route_expect(w, "b@late.test", 0, "sts-policy");
}

/* Where no policy can change the route, nothing is looked up: a virtual
 * server without a rule, and the admin's never-redirect and force-plain
 * lists. */
static void no_learning_where_a_policy_cannot_matter(void **state)
{
    route_world *w = *state;
    route_result r;
    route_from(w, 2, "a@testing.test", &r);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "no-rule");
    route_result_free(&r);
    route_world_add_pattern(w, STORE_LIST_NEVER_REDIRECT, "learn.test");
    route_world_add_pattern(w, STORE_LIST_FORCE_PLAIN, "nosts.test");
    route_world_refresh(w);
    route_expect(w, "b@learn.test", 0, "never-redirect-list");
    route_expect(w, "c@nosts.test", 1, "force-plain-list");
    wait_background(w);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.testing.test"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.nosts.test"), 0);
}

/* A TXT query that is never answered holds a pool thread until the
 * guard's deadline, never the message: route_run returns first. */
static void learning_never_costs_the_message_time(void **state)
{
    route_world *w = *state;
    uint64_t start = plat_now_ms();
    route_expect(w, "a@slow.test", 0, "tls-ok");
    uint64_t took = plat_now_ms() - start;
    assert_true(took < 1000);
    assert_int_equal(bgwork_pending(engine_background(w->eng)), 1);
    wait_background(w);
    assert_true(dnsd_name_queries(w->dns, "_mta-sts.slow.test") >= 1);
    assert_stored(w, "slow.test", "");
}

/* The CLI's --dns (engine_set_probe_overrides) applies to learning too. */
static void learning_uses_the_engine_resolvers(void **state)
{
    route_world *w = *state;
    dnsd *other = dnsd_start();
    assert_non_null(other);
    dnsd_add_domain(other, "nosts.test");
    engine_set_probe_overrides(w->eng, dnsd_server(other), 0);
    route_expect(w, "a@nosts.test", 0, "tls-ok");
    wait_background(w);
    assert_int_equal(dnsd_name_queries(other, "_mta-sts.nosts.test"), 1);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.nosts.test"), 0);
    route_world_stop(w);
    dnsd_stop(other);
}

/* A learner of its own on a pool of one thread and a queue of one: a
 * domain that finds the queue full is not marked read, so its next message
 * offers it again; one that was queued is not due again for an hour. */
static void domain_dropped_on_a_full_queue_is_offered_again(void **state)
{
    route_world *w = *state;
    bgwork *pool = bgwork_new(1, 1);
    stscache *cache = stscache_new();
    stslearn *l = pool && cache ? stslearn_new(pool, cache, w->dir.db) : NULL;
    const char *slow[] = { "slow.test" }, *two[] = { "nosts.test", "learn.test" };
    stslearn_settings s = { dnsd_server(w->dns), 1500 };
    uint64_t now = plat_now_ms(), limit = now + IDLE_MS;
    assert_non_null(l);
    assert_int_equal(stslearn_offer(l, slow, 1, &s, now), 1);
    /* The slow job runs (its TXT query is asked and never answered)... */
    while (dnsd_name_queries(w->dns, "_mta-sts.slow.test") == 0 && plat_now_ms() < limit)
        plat_sleep_ms(10);
    assert_int_not_equal(dnsd_name_queries(w->dns, "_mta-sts.slow.test"), 0);
    /* ...so one more fits in the queue, and the last is dropped. */
    assert_int_equal(stslearn_offer(l, two, 2, &s, now), 1);
    assert_int_equal(bgwork_wait_idle(pool, IDLE_MS), 0);
    assert_int_equal(stslearn_offer(l, two, 2, &s, now), 1);
    assert_int_equal(bgwork_wait_idle(pool, IDLE_MS), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.nosts.test"), 1);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.learn.test"), 1);
    bgwork_free(pool);
    stslearn_free(l);
    stscache_free(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUTE_WORLD_TEST(policy_learnt_on_a_clean_path_outlives_stripping, setup),
        ROUTE_WORLD_TEST(txt_read_at_most_once_an_hour, setup),
        ROUTE_WORLD_TEST(domain_without_record_costs_one_query, setup),
        ROUTE_WORLD_TEST(policy_learnt_on_a_plain_path, setup),
        ROUTE_WORLD_TEST(no_learning_with_guard_mta_sts_off, setup),
        ROUTE_WORLD_TEST(policy_learnt_later_replaces_remembered_none, setup),
        ROUTE_WORLD_TEST(no_learning_where_a_policy_cannot_matter, setup),
        ROUTE_WORLD_TEST(learning_never_costs_the_message_time, setup),
        ROUTE_WORLD_TEST(learning_uses_the_engine_resolvers, setup),
        ROUTE_WORLD_TEST(domain_dropped_on_a_full_queue_is_offered_again, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
