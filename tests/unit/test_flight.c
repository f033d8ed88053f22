/* flight: single flight with real threads. Many askers of one key at once
 * make one leader; joiners get its answer or give up at their own
 * deadline; an answer cut short is not shared; a kept answer reaches only
 * sessions that began before it landed, and goes with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flight.h"
#include "plat.h"

#define ASKERS 16
#define LEAD_WORK_MS 200

typedef struct {
    flight_table *t;
    const char *key;
    uint64_t deadline_ms;
    int answer_when_leading; /* the value a leader lands */
    int shareable;           /* how a leader lands */
    flight_role role;
    int value;
    uint64_t done_ms;        /* plat_now_ms when flight_ask returned */
} asker;

static asker make_asker(flight_table *t, const char *key, uint64_t deadline_ms, int answer)
{
    asker a;
    memset(&a, 0, sizeof a);
    a.t = t;
    a.key = key;
    a.deadline_ms = deadline_ms;
    a.answer_when_leading = answer;
    a.shareable = 1;
    return a;
}

static void ask_main(void *arg)
{
    asker *a = arg;
    a->value = -1;
    a->role = flight_ask(a->t, a->key, NULL, a->deadline_ms, &a->value);
    a->done_ms = plat_now_ms();
    if (a->role == FLIGHT_LEAD) {
        plat_sleep_ms(LEAD_WORK_MS);
        a->value = a->answer_when_leading;
        flight_land(a->t, a->key, &a->value, a->shareable);
    }
}

static void run_askers(asker *a, size_t n)
{
    plat_thread *th[ASKERS];
    for (size_t i = 0; i < n; i++) {
        th[i] = plat_thread_start(ask_main, &a[i]);
        assert_non_null(th[i]);
    }
    for (size_t i = 0; i < n; i++)
        plat_thread_join(th[i]);
}

static size_t count_role(const asker *a, size_t n, flight_role r)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += a[i].role == r;
    return k;
}

static void many_askers_one_leader(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    assert_non_null(t);
    asker a[ASKERS];
    for (int i = 0; i < ASKERS; i++)
        a[i] = make_asker(t, "example.com", plat_now_ms() + 10000, 1000 + i);
    run_askers(a, ASKERS);
    assert_int_equal(count_role(a, ASKERS, FLIGHT_LEAD), 1);
    assert_int_equal(count_role(a, ASKERS, FLIGHT_JOINED), ASKERS - 1);
    int answer = -1;
    for (int i = 0; i < ASKERS; i++)
        if (a[i].role == FLIGHT_LEAD)
            answer = a[i].value;
    for (int i = 0; i < ASKERS; i++)
        assert_int_equal(a[i].value, answer);
    assert_int_equal(flight_joins(t), ASKERS - 1);
    assert_int_equal(flight_count(t), 0);
    /* Landed and gone: the next asker leads afresh. */
    int v;
    assert_int_equal(flight_ask(t, "example.com", NULL, plat_now_ms() + 10, &v), FLIGHT_LEAD);
    flight_land(t, "example.com", &v, 1);
    flight_free(t);
}

static void other_keys_do_not_wait(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    int v = 0;
    assert_int_equal(flight_ask(t, "a.example", NULL, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    assert_int_equal(flight_ask(t, "b.example", NULL, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    assert_true(flight_in_air(t, "a.example"));
    assert_int_equal(flight_count(t), 2);
    flight_land(t, "a.example", &v, 1);
    flight_land(t, "b.example", &v, 1);
    assert_false(flight_in_air(t, "a.example"));
    assert_int_equal(flight_count(t), 0);
    flight_free(t);
}

static void a_joiner_gives_up_at_its_own_deadline(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    int v = 0;
    assert_int_equal(flight_ask(t, "slow.example", NULL, plat_now_ms() + 5000, &v), FLIGHT_LEAD);
    asker j = make_asker(t, "slow.example", plat_now_ms() + 150, 7);
    run_askers(&j, 1);
    assert_int_equal(j.role, FLIGHT_TIMED_OUT);
    /* Against the deadline itself, not the thread's own start: a thread
     * that was slow to start (Wine on a loaded machine) waits less. */
    assert_true(j.done_ms >= j.deadline_ms && j.done_ms < j.deadline_ms + 2000);
    v = 42;
    flight_land(t, "slow.example", &v, 1);
    assert_int_equal(flight_count(t), 0);
    assert_int_equal(flight_joins(t), 0);
    flight_free(t);
}

/* The first leader's answer is cut short: the others ask again, one of
 * them leads, and the rest get that second answer. */
static void an_answer_cut_short_is_not_shared(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    int v = 0;
    assert_int_equal(flight_ask(t, "cut.example", NULL, plat_now_ms() + 5000, &v), FLIGHT_LEAD);
    asker a[4];
    for (int i = 0; i < 4; i++)
        a[i] = make_asker(t, "cut.example", plat_now_ms() + 10000, 500 + i);
    plat_thread *th[4];
    for (int i = 0; i < 4; i++)
        th[i] = plat_thread_start(ask_main, &a[i]);
    plat_sleep_ms(100); /* the four are waiting */
    v = -99;
    flight_land(t, "cut.example", &v, 0);
    for (int i = 0; i < 4; i++)
        plat_thread_join(th[i]);
    assert_int_equal(count_role(a, 4, FLIGHT_LEAD), 1);
    assert_int_equal(count_role(a, 4, FLIGHT_JOINED), 3);
    for (int i = 0; i < 4; i++)
        assert_true(a[i].value >= 500 && a[i].value < 504);
    assert_int_equal(flight_count(t), 0);
    flight_free(t);
}

static void a_kept_answer_reaches_only_earlier_sessions(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 1);
    flight_session leader, early, late;
    flight_session_begin(t, &leader);
    flight_session_begin(t, &early);
    int v = 0;
    assert_int_equal(flight_ask(t, "mx.example", &leader, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    plat_sleep_ms(20);
    v = 5;
    flight_land(t, "mx.example", &v, 1);
    flight_session_begin(t, &late);
    /* Began before it landed: takes it. */
    v = 0;
    assert_int_equal(flight_ask(t, "mx.example", &early, plat_now_ms() + 1000, &v),
                     FLIGHT_JOINED);
    assert_int_equal(v, 5);
    assert_int_equal(flight_count(t), 1);
    /* Began after: wants fresh news, and leads. */
    assert_int_equal(flight_ask(t, "mx.example", &late, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    v = 6;
    flight_land(t, "mx.example", &v, 1);
    /* Without a session nothing kept is taken either. */
    assert_int_equal(flight_ask(t, "mx.example", NULL, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    v = 7;
    flight_land(t, "mx.example", &v, 1);
    assert_int_equal(flight_count(t), 1);
    flight_session_end(t, &leader);
    flight_session_end(t, &early);
    flight_session_end(t, &late);
    assert_int_equal(flight_count(t), 0);
    flight_free(t);
}

/* An answer stays while a session that began before it runs, and goes
 * with the last of them: what is kept never outlives its use. */
static void kept_answers_leave_with_their_sessions(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 1);
    flight_session first, second;
    int v = 1;
    char key[32];
    /* With no session at all nothing is kept. */
    assert_int_equal(flight_try_lead(t, "alone.example"), 1);
    flight_land(t, "alone.example", &v, 1);
    assert_int_equal(flight_count(t), 0);

    flight_session_begin(t, &first);
    plat_sleep_ms(2);
    flight_session_begin(t, &second);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "mx%d.example", i);
        assert_int_equal(flight_ask(t, key, &first, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
        flight_land(t, key, &v, 1);
    }
    assert_int_equal(flight_count(t), 50);
    flight_session_end(t, &first);
    assert_int_equal(flight_count(t), 50); /* second began before they landed */
    flight_session_end(t, &second);
    assert_int_equal(flight_count(t), 0);
    flight_free(t);
}

static void try_lead_gives_way(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    int v = 3;
    assert_int_equal(flight_ask(t, "busy.example", NULL, plat_now_ms() + 1000, &v), FLIGHT_LEAD);
    assert_int_equal(flight_try_lead(t, "busy.example"), 0);
    flight_land(t, "busy.example", &v, 1);
    assert_int_equal(flight_try_lead(t, "busy.example"), 1);
    /* A foreground asker joins the background leader. */
    asker j = make_asker(t, "busy.example", plat_now_ms() + 5000, 0);
    plat_thread *th = plat_thread_start(ask_main, &j);
    plat_sleep_ms(50);
    v = 77;
    flight_land(t, "busy.example", &v, 1);
    plat_thread_join(th);
    assert_int_equal(j.role, FLIGHT_JOINED);
    assert_int_equal(j.value, 77);
    flight_free(t);
}

static void an_overlong_key_leads_alone(void **state)
{
    (void)state;
    flight_table *t = flight_new(sizeof(int), 0);
    char key[FLIGHT_KEY_MAX + 2];
    memset(key, 'a', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    int v = 0;
    assert_int_equal(flight_ask(t, key, NULL, plat_now_ms() + 10, &v), FLIGHT_LEAD);
    assert_int_equal(flight_ask(t, key, NULL, plat_now_ms() + 10, &v), FLIGHT_LEAD);
    flight_land(t, key, &v, 1);
    assert_int_equal(flight_count(t), 0);
    flight_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_askers_one_leader),
        cmocka_unit_test(other_keys_do_not_wait),
        cmocka_unit_test(a_joiner_gives_up_at_its_own_deadline),
        cmocka_unit_test(an_answer_cut_short_is_not_shared),
        cmocka_unit_test(a_kept_answer_reaches_only_earlier_sessions),
        cmocka_unit_test(kept_answers_leave_with_their_sessions),
        cmocka_unit_test(try_lead_gives_way),
        cmocka_unit_test(an_overlong_key_leads_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
