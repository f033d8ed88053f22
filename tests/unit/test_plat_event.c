/* plat_event: a one-shot event with real threads. One set releases every
 * waiter at once, a wait on a set event returns at once, and a wait on an
 * unset one ends at its time limit, saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plat.h"

#define WAITERS 16
#define LONG_WAIT_MS 20000

typedef struct {
    plat_event *e;
    int set;
    uint64_t returned_ms;
} waiter;

static void wait_main(void *arg)
{
    waiter *w = arg;
    w->set = plat_event_wait_ms(w->e, LONG_WAIT_MS);
    w->returned_ms = plat_now_ms();
}

static void one_set_releases_every_waiter(void **state)
{
    (void)state;
    plat_event *e = plat_event_new();
    assert_non_null(e);
    waiter w[WAITERS];
    plat_thread *th[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        w[i] = (waiter){ e, -1, 0 };
        assert_non_null(th[i] = plat_thread_start(wait_main, &w[i]));
    }
    plat_sleep_ms(100); /* every waiter blocked by then */
    uint64_t set_ms = plat_now_ms();
    plat_event_set(e);
    for (int i = 0; i < WAITERS; i++) {
        plat_thread_join(th[i]);
        assert_int_equal(w[i].set, 1);
        /* Far sooner than their own limit: the set woke them. */
        assert_true(w[i].returned_ms - set_ms < LONG_WAIT_MS / 4);
    }
    plat_event_free(e);
}

static void a_set_event_stays_set(void **state)
{
    (void)state;
    plat_event *e = plat_event_new();
    assert_non_null(e);
    plat_event_set(e);
    uint64_t start = plat_now_ms();
    assert_int_equal(plat_event_wait_ms(e, LONG_WAIT_MS), 1);
    assert_int_equal(plat_event_wait_ms(e, LONG_WAIT_MS), 1);
    assert_true(plat_now_ms() - start < LONG_WAIT_MS / 4);
    plat_event_free(e);
}

static void an_unset_event_times_out(void **state)
{
    (void)state;
    plat_event *e = plat_event_new();
    assert_non_null(e);
    uint64_t start = plat_now_ms();
    assert_int_equal(plat_event_wait_ms(e, 50), 0);
    uint64_t took = plat_now_ms() - start;
    assert_true(took >= 40 && took < LONG_WAIT_MS / 4);
    assert_int_equal(plat_event_wait_ms(e, 0), 0);
    plat_event_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_set_releases_every_waiter),
        cmocka_unit_test(a_set_event_stays_set),
        cmocka_unit_test(an_unset_event_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
