/* Single flight end to end: many threads routing at once to new domains,
 * real SMTP peers on two loopback addresses (one per domain, one port, as
 * MX hosts on port 25), the tests' own DNS server. Each domain is probed
 * once however many messages ask at the same time; two domains with one
 * MX host share its verdict; the guard's look-ups run once; a message
 * whose deadline passes while it waits for another's probe stays on TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

#define THREADS 16
/* Each SMTP reply of the peers comes this late: a probe takes several
 * times this, long enough for every thread to ask while it runs. */
#define REPLY_DELAY_MS 100

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
    store *admin;
    engine *eng;
    dnsd *dns;
    peer *first;  /* 127.0.0.1 */
    peer *second; /* 127.0.0.2, the same port */
} world;

static void set(world *w, const char *key, const char *value)
{
    char err[256];
    if (store_setting_set(w->admin, key, value) != STORE_OK)
        fail_msg("%s: %s", key, store_error(w->admin));
    if (engine_refresh(w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void add_domain(world *w, const char *domain, const char *mx, unsigned char last_octet)
{
    dnsd_add_mx(w->dns, domain, 10, mx);
    dnsd_add_a(w->dns, mx, 127, 0, 0, last_octet);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("flight", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_non_null(w->dns = dnsd_start());
    add_domain(w, "one.test", "mx.one.test", 1);
    add_domain(w, "two.test", "mx.two.test", 2);
    add_domain(w, "shared-a.test", "mx.shared.test", 1);
    add_domain(w, "shared-b.test", "mx.shared.test", 1);
    add_domain(w, "shared-c.test", "mx.shared.test", 1);
    add_domain(w, "guarded.test", "mx.guarded.test", 1);
    add_domain(w, "slow.test", "mx.slow.test", 1);
    assert_int_equal(store_open(w->db, &w->admin, err, sizeof err), STORE_OK);
    assert_int_equal(store_setting_set(w->admin, "dns_servers", dnsd_server(w->dns)), STORE_OK);
    assert_int_equal(store_setting_set(w->admin, "total_timeout_ms", "8000"), STORE_OK);
    assert_int_equal(store_rule_add(w->admin, "Plain TCP Server", w->pickup, 1, NULL), STORE_OK);
    if (engine_open(w->db, &w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    engine_close(w->eng);
    store_close(w->admin);
    peer_stop(w->first);
    peer_stop(w->second);
    dnsd_stop(w->dns);
    trtest_remove_tree(w->root);
    free(w);
    return 0;
}

/* Both peers of one kind on one port, each reply delayed by delay_ms. */
static void serve(world *w, peer_kind kind, unsigned delay_ms)
{
    char port[16];
    assert_non_null(w->first = peer_start_at("127.0.0.1", 0, kind, NULL));
    assert_non_null(w->second = peer_start_at("127.0.0.2", peer_port(w->first), kind, NULL));
    peer_set_reply_delay(w->first, delay_ms);
    peer_set_reply_delay(w->second, delay_ms);
    snprintf(port, sizeof port, "%u", peer_port(w->first));
    set(w, "probe_port", port);
}

static const char body[] = "Subject: flight\r\n\r\nbody\r\n";

/* ---- many threads at once ------------------------------------------------ */

typedef struct {
    world *w;
    plat_mutex *lock;
    plat_cond *go;
    int started;               /* the gate: 1 lets every thread run */
    const char *rcpts[2];
    size_t n_rcpts;
    route_result results[THREADS];
    int rc[THREADS];
    int next;
} burst;

static void burst_main(void *arg)
{
    burst *b = arg;
    plat_mutex_lock(b->lock);
    int me = b->next++;
    uint64_t until = plat_now_ms() + 10000;
    while (!b->started && plat_now_ms() < until)
        plat_cond_wait_ms(b->go, b->lock, 50);
    plat_mutex_unlock(b->lock);
    route_message m = { "burst", "s@corp.example", b->rcpts, b->n_rcpts, 1,
                        (const unsigned char *)body, sizeof body - 1 };
    b->rc[me] = route_run(b->w->eng, &m, &b->results[me]);
}

/* THREADS messages to rcpts, all let go at the same moment. */
static void route_at_once(world *w, burst *b, const char *r1, const char *r2)
{
    memset(b, 0, sizeof *b);
    b->w = w;
    b->rcpts[0] = r1;
    b->rcpts[1] = r2;
    b->n_rcpts = r2 ? 2 : 1;
    assert_non_null(b->lock = plat_mutex_new());
    assert_non_null(b->go = plat_cond_new());
    plat_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_non_null(t[i] = plat_thread_start(burst_main, b));
    plat_sleep_ms(50);
    plat_mutex_lock(b->lock);
    b->started = 1;
    plat_cond_broadcast(b->go);
    plat_mutex_unlock(b->lock);
    for (int i = 0; i < THREADS; i++)
        plat_thread_join(t[i]);
    plat_cond_free(b->go);
    plat_mutex_free(b->lock);
}

static void burst_free(burst *b)
{
    for (int i = 0; i < THREADS; i++)
        route_result_free(&b->results[i]);
}

static uint64_t probes_made(engine *e)
{
    stats_figures f;
    engine_figures(e, &f);
    uint64_t n = 0;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        n += f.probes[i];
    return n;
}

static void threads_at_once_make_one_probe_per_domain(void **state)
{
    world *w = *state;
    serve(w, PEER_STARTTLS, REPLY_DELAY_MS);
    burst b;
    route_at_once(w, &b, "a@one.test", "b@two.test");
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(b.rc[i], 0);
        for (size_t k = 0; k < 2; k++) {
            assert_int_equal(b.results[i].decisions[k].plain, 0);
            assert_string_equal(decide_reason_name(b.results[i].decisions[k].reason), "tls-ok");
        }
        assert_string_equal(b.results[i].decisions[0].mx, "mx.one.test");
        assert_string_equal(b.results[i].decisions[1].mx, "mx.two.test");
    }
    burst_free(&b);
    assert_int_equal(peer_connections(w->first), 1);
    assert_int_equal(peer_connections(w->second), 1);
    assert_int_equal(probes_made(w->eng), 2);
    stats_figures f;
    engine_figures(w->eng, &f);
    /* Every other decision joined a probe in the air or, arriving after
     * it landed, found its answer in the cache. */
    assert_int_equal(f.probe_joins + f.cache_hits, 2 * (THREADS - 1));
    assert_true(f.probe_joins > 0);
}

static void two_domains_with_one_mx_host_share_its_verdict(void **state)
{
    world *w = *state;
    serve(w, PEER_STARTTLS, REPLY_DELAY_MS);
    const char *rcpts[] = { "a@shared-a.test", "b@shared-b.test" };
    route_message m = { "m", "s@corp.example", rcpts, 2, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(w->eng, &m, &r), 0);
    for (size_t k = 0; k < 2; k++) {
        assert_string_equal(decide_reason_name(r.decisions[k].reason), "tls-ok");
        assert_string_equal(r.decisions[k].mx, "mx.shared.test");
    }
    route_result_free(&r);
    /* Two probes, one connection: the second took the host's verdict. */
    assert_int_equal(probes_made(w->eng), 2);
    assert_int_equal(peer_connections(w->first), 1);
    stats_figures f;
    engine_figures(w->eng, &f);
    assert_int_equal(f.mx_shares, 1);
    /* A probe that begins later asks the host itself. */
    const char *later[] = { "c@shared-c.test" };
    route_message m2 = { "m2", "s@corp.example", later, 1, 1, (const unsigned char *)body,
                         sizeof body - 1 };
    assert_int_equal(route_run(w->eng, &m2, &r), 0);
    assert_string_equal(decide_reason_name(r.decisions[0].reason), "tls-ok");
    route_result_free(&r);
    assert_int_equal(peer_connections(w->first), 2);
}

static void the_guard_looks_up_once_for_threads_at_once(void **state)
{
    world *w = *state;
    serve(w, PEER_NO_STARTTLS, REPLY_DELAY_MS);
    burst b;
    route_at_once(w, &b, "a@guarded.test", NULL);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(b.rc[i], 0);
        assert_int_equal(b.results[i].decisions[0].plain, 1);
        assert_string_equal(decide_reason_name(b.results[i].decisions[0].reason), "no-starttls");
    }
    burst_free(&b);
    assert_int_equal(peer_connections(w->first), 1);
    /* One look-up by the guard, one by the background learner (once an
     * hour per domain, stslearn.h). */
    assert_int_equal(engine_background_wait_idle(w->eng, 10000), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "_mta-sts.guarded.test"), 2);
}

/* ---- a joiner's own deadline ------------------------------------------------ */

typedef struct {
    world *w;
    route_result r;
    int rc;
} one_message;

static void route_slow(void *arg)
{
    one_message *o = arg;
    const char *rcpts[] = { "a@slow.test" };
    route_message m = { "first", "s@corp.example", rcpts, 1, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    o->rc = route_run(o->w->eng, &m, &o->r);
}

static void a_joiner_whose_deadline_passes_first_stays_on_tls(void **state)
{
    world *w = *state;
    /* Four replies of 600 ms: the probe takes about 2.4 s. */
    serve(w, PEER_STARTTLS, 600);
    one_message first = { w, { 0 }, -1 };
    plat_thread *t = plat_thread_start(route_slow, &first);
    assert_non_null(t);
    plat_sleep_ms(300);
    /* The second message has a second in all; the first had 20. */
    set(w, "message_timeout_ms", "1000");
    one_message second = { w, { 0 }, -1 };
    uint64_t start = plat_now_ms();
    route_slow(&second);
    uint64_t took = plat_now_ms() - start;
    assert_int_equal(second.rc, 0);
    assert_int_equal(second.r.decisions[0].plain, 0);
    assert_string_equal(decide_reason_name(second.r.decisions[0].reason), "probe-failed");
    assert_non_null(strstr(second.r.decisions[0].detail, "message's deadline"));
    assert_true(took >= 900 && took < 2000);
    plat_thread_join(t);
    assert_int_equal(first.rc, 0);
    assert_string_equal(decide_reason_name(first.r.decisions[0].reason), "tls-ok");
    route_result_free(&first.r);
    route_result_free(&second.r);
    assert_int_equal(peer_connections(w->first), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(threads_at_once_make_one_probe_per_domain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_domains_with_one_mx_host_share_its_verdict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_guard_looks_up_once_for_threads_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_joiner_whose_deadline_passes_first_stays_on_tls, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
