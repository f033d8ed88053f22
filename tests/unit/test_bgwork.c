/* bgwork: the keyed background pool, with real threads. Jobs that hold a
 * gate (opened by the test, or after 5 s so no test can hang) show what is
 * queued and what is running at a given moment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgwork.h"
#include "plat.h"

#define GATE_LIMIT_MS 5000 /* a gated job gives up waiting after this */
#define WAIT_MS 5000       /* the test gives up waiting after this */

/* 1 on the test's own thread only: a job reading 0 ran on a pool thread. */
static _Thread_local int on_test_thread;

typedef struct {
    plat_mutex *lock;
    plat_cond *changed;
    int gate_open;
    int started, finished;
    int released;         /* gated jobs that left through the open gate */
    int on_caller_thread; /* jobs that ran on the test's thread */
    char keys[64][BGWORK_KEY_MAX + 1]; /* keys in the order the jobs started */
} recorder;

static int setup(void **state)
{
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->lock = plat_mutex_new();
    r->changed = plat_cond_new();
    assert_non_null(r->lock);
    assert_non_null(r->changed);
    on_test_thread = 1;
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    recorder *r = *state;
    plat_cond_free(r->changed);
    plat_mutex_free(r->lock);
    free(r);
    return 0;
}

/* Counts the start; the lock is held. */
static void note_start(recorder *r, const char *key)
{
    if (r->started < 64)
        snprintf(r->keys[r->started], sizeof r->keys[0], "%s", key);
    r->started++;
    r->on_caller_thread += on_test_thread;
    plat_cond_broadcast(r->changed);
}

static void quick_job(void *ctx, const char *key)
{
    recorder *r = ctx;
    plat_mutex_lock(r->lock);
    note_start(r, key);
    r->finished++;
    plat_cond_broadcast(r->changed);
    plat_mutex_unlock(r->lock);
}

/* A second function: the same key under another function is another job. */
static void other_job(void *ctx, const char *key)
{
    quick_job(ctx, key);
}

static void gated_job(void *ctx, const char *key)
{
    recorder *r = ctx;
    uint64_t limit = plat_now_ms() + GATE_LIMIT_MS;
    plat_mutex_lock(r->lock);
    note_start(r, key);
    while (!r->gate_open && plat_now_ms() < limit)
        plat_cond_wait_ms(r->changed, r->lock, 20);
    r->released += r->gate_open;
    r->finished++;
    plat_cond_broadcast(r->changed);
    plat_mutex_unlock(r->lock);
}

static void open_gate(recorder *r)
{
    plat_mutex_lock(r->lock);
    r->gate_open = 1;
    plat_cond_broadcast(r->changed);
    plat_mutex_unlock(r->lock);
}

/* Waits until *field (a counter of r) reaches n; asserts it did in time. */
static void wait_count(recorder *r, const int *field, int n)
{
    uint64_t limit = plat_now_ms() + WAIT_MS;
    plat_mutex_lock(r->lock);
    while (*field < n && plat_now_ms() < limit)
        plat_cond_wait_ms(r->changed, r->lock, 20);
    int got = *field;
    plat_mutex_unlock(r->lock);
    assert_int_equal(got, n);
}

static int count_of(recorder *r, const int *field)
{
    plat_mutex_lock(r->lock);
    int n = *field;
    plat_mutex_unlock(r->lock);
    return n;
}

static void test_new_refuses_bad_sizes(void **state)
{
    (void)state;
    assert_null(bgwork_new(0, 8));
    assert_null(bgwork_new(17, 8));
    assert_null(bgwork_new(2, 0));
    bgwork *w = bgwork_new(16, 1);
    assert_non_null(w);
    bgwork_free(w);
    bgwork_free(NULL);
}

static void test_jobs_run_on_pool_threads(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(2, 8);
    assert_non_null(w);
    assert_int_equal(bgwork_submit(w, gated_job, r, "a.example"), BGWORK_QUEUED);
    /* submit returned while the job still waits for the gate: it runs
     * elsewhere, not inside submit. */
    wait_count(r, &r->started, 1);
    assert_int_equal(count_of(r, &r->finished), 0);
    open_gate(r);
    assert_int_equal(bgwork_submit(w, quick_job, r, "b.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->finished, 2);
    assert_int_equal(r->released, 1);
    assert_int_equal(r->on_caller_thread, 0);
    assert_int_equal(bgwork_done(w), 2);
    assert_int_equal(bgwork_pending(w), 0);
    bgwork_free(w);
}

static void test_threads_run_jobs_at_once(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(4, 8);
    static const char *const keys[] = { "a.example", "b.example", "c.example", "d.example",
                                        "e.example" };
    assert_non_null(w);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(bgwork_submit(w, gated_job, r, keys[i]), BGWORK_QUEUED);
    /* Four threads: four jobs run together, the fifth waits its turn. */
    wait_count(r, &r->started, 4);
    plat_sleep_ms(50);
    assert_int_equal(count_of(r, &r->started), 4);
    assert_int_equal(bgwork_pending(w), 5);
    open_gate(r);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->released, 5);
    /* Queued jobs start in the order they were queued. */
    assert_string_equal(r->keys[4], "e.example");
    bgwork_free(w);
}

static void test_same_key_queued_or_running_is_a_duplicate(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(1, 8);
    assert_non_null(w);
    assert_int_equal(bgwork_submit(w, gated_job, r, "run.example"), BGWORK_QUEUED);
    wait_count(r, &r->started, 1);
    /* Running. */
    assert_int_equal(bgwork_submit(w, gated_job, r, "run.example"), BGWORK_DUPLICATE);
    /* Queued behind it. */
    assert_int_equal(bgwork_submit(w, quick_job, r, "wait.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_submit(w, quick_job, r, "wait.example"), BGWORK_DUPLICATE);
    /* Another function with the same key, or another key: new jobs. */
    assert_int_equal(bgwork_submit(w, other_job, r, "wait.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_submit(w, quick_job, r, "run.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_pending(w), 4);
    open_gate(r);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->finished, 4);
    /* Finished: the key is free again. */
    assert_int_equal(bgwork_submit(w, gated_job, r, "run.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(bgwork_done(w), 5);
    bgwork_free(w);
}

static void test_full_queue_drops_the_job(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(1, 2);
    assert_non_null(w);
    assert_int_equal(bgwork_submit(w, gated_job, r, "running.example"), BGWORK_QUEUED);
    wait_count(r, &r->started, 1);
    /* The running job is not in the queue: two more fit, a third does not. */
    assert_int_equal(bgwork_submit(w, quick_job, r, "q1.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_submit(w, quick_job, r, "q2.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_submit(w, quick_job, r, "q3.example"), BGWORK_FULL);
    /* A duplicate is reported as such even when the queue is full. */
    assert_int_equal(bgwork_submit(w, quick_job, r, "q1.example"), BGWORK_DUPLICATE);
    open_gate(r);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->finished, 3);
    /* Room again; the dropped job can be offered anew. */
    assert_int_equal(bgwork_submit(w, quick_job, r, "q3.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->finished, 4);
    bgwork_free(w);
}

static void test_bad_keys(void **state)
{
    recorder *r = *state;
    char longest[BGWORK_KEY_MAX + 2];
    bgwork *w = bgwork_new(1, 4);
    assert_non_null(w);
    memset(longest, 'a', sizeof longest);
    longest[BGWORK_KEY_MAX + 1] = '\0';
    assert_int_equal(bgwork_submit(w, quick_job, r, NULL), BGWORK_BAD_KEY);
    assert_int_equal(bgwork_submit(w, quick_job, r, ""), BGWORK_BAD_KEY);
    assert_int_equal(bgwork_submit(w, quick_job, r, longest), BGWORK_BAD_KEY);
    longest[BGWORK_KEY_MAX] = '\0';
    assert_int_equal(bgwork_submit(w, quick_job, r, longest), BGWORK_QUEUED);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(r->finished, 1);
    assert_string_equal(r->keys[0], longest);
    bgwork_free(w);
}

static void test_wait_idle_times_out_while_busy(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(1, 4);
    assert_non_null(w);
    assert_int_equal(bgwork_wait_idle(w, 0), 0); /* idle from the start */
    assert_int_equal(bgwork_submit(w, gated_job, r, "slow.example"), BGWORK_QUEUED);
    wait_count(r, &r->started, 1);
    uint64_t start = plat_now_ms();
    assert_int_equal(bgwork_wait_idle(w, 100), -1);
    uint64_t waited = plat_now_ms() - start;
    assert_true(waited >= 100 && waited < 1000);
    assert_int_equal(bgwork_pending(w), 1);
    assert_int_equal(bgwork_done(w), 0);
    open_gate(r);
    assert_int_equal(bgwork_wait_idle(w, WAIT_MS), 0);
    assert_int_equal(bgwork_done(w), 1);
    bgwork_free(w);
}

static void open_gate_later(void *arg)
{
    plat_sleep_ms(200);
    open_gate(arg);
}

static void test_free_drops_queued_and_waits_for_running(void **state)
{
    recorder *r = *state;
    bgwork *w = bgwork_new(1, 4);
    assert_non_null(w);
    assert_int_equal(bgwork_submit(w, gated_job, r, "running.example"), BGWORK_QUEUED);
    wait_count(r, &r->started, 1);
    assert_int_equal(bgwork_submit(w, quick_job, r, "queued1.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_submit(w, quick_job, r, "queued2.example"), BGWORK_QUEUED);
    plat_thread *opener = plat_thread_start(open_gate_later, r);
    assert_non_null(opener);
    uint64_t start = plat_now_ms();
    bgwork_free(w);
    uint64_t took = plat_now_ms() - start;
    plat_thread_join(opener);
    /* The running job finished through the gate before free returned... */
    assert_int_equal(r->finished, 1);
    assert_int_equal(r->released, 1);
    assert_true(took >= 150 && took < GATE_LIMIT_MS);
    /* ...and the queued ones never ran. */
    assert_int_equal(r->started, 1);
}

/* A job may queue more work, but not itself again while it runs. */
typedef struct {
    recorder *rec;
    bgwork *pool;
    bgwork_status self, other;
} chain_ctx;

static void chaining_job(void *ctx, const char *key)
{
    chain_ctx *c = ctx;
    (void)key;
    c->self = bgwork_submit(c->pool, chaining_job, c, "chain.example");
    c->other = bgwork_submit(c->pool, quick_job, c->rec, "next.example");
}

static void test_job_submits_from_a_pool_thread(void **state)
{
    recorder *r = *state;
    chain_ctx c = { r, bgwork_new(2, 4), BGWORK_FULL, BGWORK_FULL };
    assert_non_null(c.pool);
    assert_int_equal(bgwork_submit(c.pool, chaining_job, &c, "chain.example"), BGWORK_QUEUED);
    assert_int_equal(bgwork_wait_idle(c.pool, WAIT_MS), 0);
    assert_int_equal(c.self, BGWORK_DUPLICATE);
    assert_int_equal(c.other, BGWORK_QUEUED);
    assert_int_equal(r->finished, 1);
    assert_string_equal(r->keys[0], "next.example");
    assert_int_equal(bgwork_done(c.pool), 2);
    bgwork_free(c.pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_bad_sizes),
        cmocka_unit_test_setup_teardown(test_jobs_run_on_pool_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_run_jobs_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_queued_or_running_is_a_duplicate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_idle_times_out_while_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_drops_queued_and_waits_for_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_job_submits_from_a_pool_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
