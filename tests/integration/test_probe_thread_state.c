/* probe_thread_cleanup frees a thread's OpenSSL state only when the
 * thread used OpenSSL since its last cleanup: OnArrival calls it on IIS's
 * thread after every message, and a message answered from the caches
 * (most of them) should not pay for it. A thread that probed has state to
 * free, once; one that only read the caches has none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "probe.h"
#include "route_world.h"
#include "tls.h"

typedef struct {
    route_world *w;
    int routed[2];        /* route_run's return and TLS as the reason, per message */
    int freed_after[3];   /* probe_thread_cleanup after: the probe, the cached message, nothing */
} run;

static int setup(void **state)
{
    route_world *w = route_world_open("probestate");
    route_world_add_rule(w, 0);
    peer *p = peer_start(PEER_STARTTLS, NULL);
    assert_non_null(p);
    route_world_serve(w, p);
    dnsd_add_mx(w->dns, "x.example", 10, "mx.x.example");
    dnsd_add_a(w->dns, "mx.x.example", 127, 0, 0, 1);
    route_world_start(w);
    *state = w;
    return 0;
}

/* One message to x.example; 1 when it was routed and stays on TLS. */
static int route_to_x(route_world *w)
{
    const char *rcpts[] = { "u@x.example" };
    route_result r;
    int ok = route_world_run(w, rcpts, 1, &r) == 0 && r.n == 1 &&
             r.decisions[0].reason == DECIDE_TLS_OK;
    route_result_free(&r);
    return ok;
}

/* On a thread of its own, whose flag starts clear (no cmocka asserts off
 * the main thread: the results are asserted there). */
static void first_probed_then_cached(void *arg)
{
    run *s = arg;
    s->routed[0] = route_to_x(s->w); /* probes, on this thread */
    s->freed_after[0] = probe_thread_cleanup();
    s->routed[1] = route_to_x(s->w); /* from the cache */
    s->freed_after[1] = probe_thread_cleanup();
    s->freed_after[2] = probe_thread_cleanup();
}

static void only_a_thread_that_probed_frees(void **state)
{
    run s;
    memset(&s, 0, sizeof s);
    s.w = *state;
    plat_thread *t = plat_thread_start(first_probed_then_cached, &s);
    assert_non_null(t);
    plat_thread_join(t);
    assert_true(s.routed[0]);
    assert_true(s.routed[1]);
    assert_int_equal(s.freed_after[0], 1);
    assert_int_equal(s.freed_after[1], 0);
    assert_int_equal(s.freed_after[2], 0);
}

static void tls_client_made_and_freed(void *arg)
{
    int *freed = arg;
    freed[0] = tls_thread_cleanup(); /* a new thread: nothing yet */
    tls_client_options o;
    memset(&o, 0, sizeof o);
    char err[256];
    tls_client *c = tls_client_new(TLS_STACK_OPENSSL, &o, err, sizeof err);
    tls_client_free(c);
    freed[1] = c != NULL && tls_thread_cleanup();
    freed[2] = tls_thread_cleanup();
}

static void any_use_of_the_tls_layer_counts(void **state)
{
    (void)state;
    int freed[3] = { -1, -1, -1 };
    plat_thread *t = plat_thread_start(tls_client_made_and_freed, freed);
    assert_non_null(t);
    plat_thread_join(t);
    assert_int_equal(freed[0], 0);
    assert_int_equal(freed[1], 1);
    assert_int_equal(freed[2], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUTE_WORLD_TEST(only_a_thread_that_probed_frees, setup),
        cmocka_unit_test(any_use_of_the_tls_layer_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
