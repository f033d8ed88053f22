/* Several threads and several processes writing one database at once: the
 * sink journals while the manager edits rules. Every write must succeed
 * (WAL, busy timeout, BEGIN IMMEDIATE) and every row must be there. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "trtest.h"

enum { WORKERS = 4, PER_WORKER = 25, CLI_RUNS = 6, MAIN_WRITES = 30 };

typedef trtest_scratch fixture;

typedef struct {
    const fixture *f;
    int index;
    int failures;
    char first_error[1400];
} worker;

static void note_failure(worker *w, const char *what)
{
    if (w->failures++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "%s", what);
}

static void open_worker(void *arg)
{
    worker *w = arg;
    char err[1400];
    store *st = NULL;
    if (store_open(w->f->db, &st, err, sizeof err) != STORE_OK)
        note_failure(w, err);
    store_close(st);
}

static void test_threads_create_the_database_at_once(void **state)
{
    fixture *f = *state;
    worker w[WORKERS];
    plat_thread *t[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].f = f;
        t[i] = plat_thread_start(open_worker, &w[i]);
        assert_non_null(t[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        plat_thread_join(t[i]);
    for (int i = 0; i < WORKERS; i++) {
        if (w[i].failures)
            print_error("thread %d: %s\n", i, w[i].first_error);
        assert_int_equal(w[i].failures, 0);
    }
    char err[1400];
    store *st = NULL;
    int version = 0;
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_schema_version(st, &version), STORE_OK);
    assert_int_equal(version, store_schema_latest());
    store_close(st);
}

/* One handle per thread: rules of its own, patterns on a shared rule, and
 * a setting, all interleaved with the other threads. */
static void write_worker(void *arg)
{
    worker *w = arg;
    char err[1400], name[32], pattern[64];
    store *st = NULL;
    if (store_open(w->f->db, &st, err, sizeof err) != STORE_OK) {
        note_failure(w, err);
        return;
    }
    for (int i = 0; i < PER_WORKER; i++) {
        const char *one[1] = { pattern };
        int64_t gen;
        snprintf(name, sizeof name, "t%d-%d", w->index, i);
        snprintf(pattern, sizeof pattern, "t%d-%d.example", w->index, i);
        if (store_rule_add(st, name, "pickup", 1 + w->index, NULL) != STORE_OK
            || store_domains_add(st, "shared", STORE_LIST_FORCE_PLAIN, one, 1) != STORE_OK
            || store_setting_set(st, "log_level", (i & 1) ? "debug" : "info") != STORE_OK
            || store_generation(st, &gen) != STORE_OK)
            note_failure(w, store_error(st));
    }
    store_close(st);
}

static void assert_workers_ok(worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        if (w[i].failures)
            print_error("worker %d: %d failures, first: %s\n", i, w[i].failures, w[i].first_error);
        assert_int_equal(w[i].failures, 0);
    }
}

static int list_has(char **items, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], want) == 0)
            return 1;
    return 0;
}

static void test_threads_write_at_once(void **state)
{
    fixture *f = *state;
    char err[1400], name[32], pattern[64];
    store *st = NULL;
    worker w[WORKERS];
    plat_thread *t[WORKERS];
    int64_t gen0 = 0, gen1 = 0;
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_add(st, "shared", "pickup", 9, NULL), STORE_OK);
    assert_int_equal(store_generation(st, &gen0), STORE_OK);
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].f = f;
        w[i].index = i;
        t[i] = plat_thread_start(write_worker, &w[i]);
        assert_non_null(t[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        plat_thread_join(t[i]);
    assert_workers_ok(w, WORKERS);

    store_rule *rules = NULL, r;
    size_t n = 0;
    char **items = NULL;
    assert_int_equal(store_rule_list(st, &rules, &n), STORE_OK);
    assert_int_equal(n, 1 + WORKERS * PER_WORKER);
    free(rules);
    assert_int_equal(store_domains_list(st, "shared", STORE_LIST_FORCE_PLAIN, &items, &n), STORE_OK);
    assert_int_equal(n, WORKERS * PER_WORKER);
    for (int k = 0; k < WORKERS; k++) {
        for (int i = 0; i < PER_WORKER; i++) {
            snprintf(name, sizeof name, "t%d-%d", k, i);
            snprintf(pattern, sizeof pattern, "t%d-%d.example", k, i);
            assert_int_equal(store_rule_get(st, name, &r), STORE_OK);
            assert_int_equal(r.source_instance, 1 + k);
            assert_true(list_has(items, n, pattern));
        }
    }
    store_strings_free(items, n);
    /* Every change bumped the counter: rules, patterns and settings. */
    assert_int_equal(store_generation(st, &gen1), STORE_OK);
    assert_true(gen1 - gen0 >= 3 * WORKERS * PER_WORKER);
    store_close(st);
}

/* Another process: the tlsrouter command, run CLI_RUNS times in a row by
 * each worker thread, so several processes write at the same moment. */
static void cli_worker(void *arg)
{
    worker *w = arg;
    char name[32], pattern[64], msg[1400];
    for (int i = 0; i < CLI_RUNS; i++) {
        trtest_result res;
        snprintf(name, sizeof name, "c%d-%d", w->index, i);
        snprintf(pattern, sizeof pattern, "c%d-%d.example", w->index, i);
        const char *add_rule[] = { "--db", w->f->db, "rule", "add", name, "--pickup", "P", NULL };
        const char *add_dom[] = { "--db", w->f->db, "domains", "add", "shared",
                                  "never-redirect", pattern, NULL };
        const char *const *runs[2] = { add_rule, add_dom };
        for (int k = 0; k < 2; k++) {
            if (trtest_run_cli(runs[k], &res) != 0 || res.exit_code != 0 || res.err[0]) {
                snprintf(msg, sizeof msg, "%s %s: exit %d, stderr: %s", runs[k][2], name,
                         res.exit_code, res.err ? res.err : "(none)");
                note_failure(w, msg);
            }
            trtest_result_free(&res);
        }
    }
}

static void test_processes_write_at_once(void **state)
{
    fixture *f = *state;
    char err[1400], name[32], pattern[64];
    store *st = NULL;
    worker w[WORKERS];
    plat_thread *t[WORKERS];
    assert_int_equal(store_open(f->db, &st, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_add(st, "shared", "pickup", 1, NULL), STORE_OK);
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].f = f;
        w[i].index = i;
        t[i] = plat_thread_start(cli_worker, &w[i]);
        assert_non_null(t[i]);
    }
    /* This process writes too while the commands run. */
    int main_failures = 0;
    for (int i = 0; i < MAIN_WRITES; i++) {
        const char *one[1] = { pattern };
        snprintf(name, sizeof name, "m-%d", i);
        snprintf(pattern, sizeof pattern, "m-%d.example", i);
        if (store_rule_add(st, name, "pickup", 2, NULL) != STORE_OK
            || store_domains_add(st, "shared", STORE_LIST_NEVER_REDIRECT, one, 1) != STORE_OK) {
            print_error("main: %s\n", store_error(st));
            main_failures++;
        }
        plat_sleep_ms(5);
    }
    for (int i = 0; i < WORKERS; i++)
        plat_thread_join(t[i]);
    assert_workers_ok(w, WORKERS);
    assert_int_equal(main_failures, 0);

    store_rule *rules = NULL, r;
    size_t n = 0;
    char **items = NULL;
    assert_int_equal(store_rule_list(st, &rules, &n), STORE_OK);
    assert_int_equal(n, 1 + WORKERS * CLI_RUNS + MAIN_WRITES);
    free(rules);
    assert_int_equal(store_domains_list(st, "shared", STORE_LIST_NEVER_REDIRECT, &items, &n), STORE_OK);
    assert_int_equal(n, WORKERS * CLI_RUNS + MAIN_WRITES);
    for (int k = 0; k < WORKERS; k++) {
        for (int i = 0; i < CLI_RUNS; i++) {
            snprintf(name, sizeof name, "c%d-%d", k, i);
            snprintf(pattern, sizeof pattern, "c%d-%d.example", k, i);
            assert_int_equal(store_rule_get(st, name, &r), STORE_OK);
            assert_true(list_has(items, n, pattern));
        }
    }
    store_strings_free(items, n);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TRTEST_SCRATCH_TEST(test_threads_create_the_database_at_once),
        TRTEST_SCRATCH_TEST(test_threads_write_at_once),
        TRTEST_SCRATCH_TEST(test_processes_write_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
