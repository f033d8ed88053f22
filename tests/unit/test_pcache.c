/* pcache: TTL per status, memory and a real SQLite file, restart, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "pcache.h"
#include "plat.h"
#include "trtest.h"

extern const char tr_schema_sql[];

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }

typedef struct {
    trtest_scratch dir;
    sqlite3 *db;
} fixture;

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    if (trtest_scratch_make(&f.dir, "pcache") != 0)
        return -1;
    f.db = open_db(f.dir.db);
    if (!f.db || sqlite3_exec(f.db, tr_schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    fake_now = 1700000000000;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sqlite3_close(f->db);
    return trtest_scratch_remove(&f->dir);
}

static probe_result result(const char *domain, probe_status st)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.domain, sizeof r.domain, "%s", domain);
    snprintf(r.mx, sizeof r.mx, "mx.%s", domain);
    snprintf(r.address, sizeof r.address, "192.0.2.1");
    r.status = st;
    if (st == PROBE_STARTTLS) {
        snprintf(r.tls_version, sizeof r.tls_version, "TLSv1.3");
        snprintf(r.cipher, sizeof r.cipher, "TLS_AES_256_GCM_SHA384");
        r.has_cert = 1;
        r.cert_not_after = 1800000000;
    }
    snprintf(r.error, sizeof r.error, "text for %s", probe_status_name(st));
    r.elapsed_ms = 123;
    return r;
}

static int64_t count_rows(sqlite3 *db)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM probe_cache", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void ttl_per_status(void **state)
{
    pcache *c = pcache_new(NULL, NULL);
    probe_result r = result("Example.COM", PROBE_STARTTLS), got;
    (void)state;
    assert_non_null(c);
    pcache_set_clock(c, fake_clock);
    assert_int_equal(pcache_put(c, &r), 0);
    r = result("plain.example", PROBE_NO_STARTTLS);
    pcache_put(c, &r);
    r = result("down.example", PROBE_CONNECT_FAILED);
    pcache_put(c, &r);

    assert_int_equal(pcache_get(c, "example.com", &got), 1); /* any case */
    assert_string_equal(got.domain, "example.com");
    assert_string_equal(got.cipher, "TLS_AES_256_GCM_SHA384");
    fake_now += 899 * 1000;
    assert_int_equal(pcache_get(c, "down.example", &got), 1);
    fake_now += 2 * 1000; /* 901 s */
    assert_int_equal(pcache_get(c, "down.example", &got), 0);
    assert_int_equal(pcache_get(c, "plain.example", &got), 1);
    fake_now += 21600 * 1000;
    assert_int_equal(pcache_get(c, "plain.example", &got), 0);
    assert_int_equal(pcache_get(c, "example.com", &got), 1);
    fake_now += 86400 * 1000;
    assert_int_equal(pcache_get(c, "example.com", &got), 0);
    pcache_free(c);
}

static void ttl_classes(void **state)
{
    pcache_ttls t;
    (void)state;
    pcache_ttls_default(&t);
    assert_int_equal(pcache_ttl_for(&t, PROBE_STARTTLS), 86400);
    assert_int_equal(pcache_ttl_for(&t, PROBE_STARTTLS_REJECTED), 21600);
    /* One sighting of an expired certificate is kept briefly (issue 11). */
    assert_int_equal(pcache_ttl_for(&t, PROBE_CERT_EXPIRED), 900);
    assert_int_equal(pcache_ttl_for(&t, PROBE_CERT_NOT_YET_VALID), 21600);
    assert_int_equal(pcache_ttl_for(&t, PROBE_TIMEOUT), 900);
    assert_int_equal(pcache_ttl_for(&t, PROBE_NO_DOMAIN), 900);
}

static void survives_a_restart(void **state)
{
    fixture *f = *state;
    pcache *c = pcache_new(f->db, NULL);
    probe_result r = result("persist.example", PROBE_STARTTLS), got;
    sqlite3 *db2;
    assert_non_null(c);
    pcache_set_clock(c, fake_clock);
    r.probed_ms = fake_now - 2500; /* the probe ended a little before the put */
    assert_int_equal(pcache_put(c, &r), 0);
    pcache_free(c);

    /* A new process: a new connection and an empty memory cache. */
    db2 = open_db(f->dir.db);
    assert_non_null(db2);
    c = pcache_new(db2, NULL);
    pcache_set_clock(c, fake_clock);
    assert_int_equal(pcache_get(c, "persist.example", &got), 1);
    assert_int_equal(got.status, PROBE_STARTTLS);
    assert_string_equal(got.mx, "mx.persist.example");
    assert_string_equal(got.address, "192.0.2.1");
    assert_string_equal(got.tls_version, "TLSv1.3");
    assert_true(got.has_cert);
    assert_int_equal(got.cert_not_after, 1800000000);
    assert_string_equal(got.error, "text for starttls");
    assert_int_equal(got.elapsed_ms, 123);
    /* A cached answer keeps its probe's time (the expired-certificate cache
     * tells a new sighting from a repeated one by it). */
    assert_int_equal(got.probed_ms, r.probed_ms);
    /* Expired rows are not served from the database either. */
    fake_now += 86401 * 1000;
    assert_int_equal(pcache_get(c, "persist.example", &got), 0);
    pcache_free(c);
    sqlite3_close(db2);
}

static void ttls_from_settings(void **state)
{
    fixture *f = *state;
    pcache_ttls t;
    pcache *c;
    probe_result r = result("short.example", PROBE_TIMEOUT), got;
    pcache_ttls_default(&t);
    assert_int_equal(sqlite3_exec(f->db, "UPDATE settings SET value = '60' WHERE key = "
                                         "'ttl_failure_s'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pcache_ttls_load(f->db, &t), 0);
    assert_int_equal(t.failure_s, 60);
    assert_int_equal(t.starttls_s, 86400);
    c = pcache_new(f->db, &t);
    pcache_set_clock(c, fake_clock);
    pcache_put(c, &r);
    fake_now += 61 * 1000;
    assert_int_equal(pcache_get(c, "short.example", &got), 0);
    pcache_free(c);
}

static void clear_expired_and_all(void **state)
{
    fixture *f = *state;
    pcache *c = pcache_new(f->db, NULL);
    probe_result r, got;
    pcache_set_clock(c, fake_clock);
    assert_int_equal(pcache_clear(c, 0), 0);
    r = result("a.example", PROBE_STARTTLS);
    pcache_put(c, &r);
    r = result("b.example", PROBE_DNS_FAILED);
    pcache_put(c, &r);
    assert_int_equal(count_rows(f->db), 2);
    fake_now += 1000 * 1000;
    assert_int_equal(pcache_clear(c, 1), 0);
    assert_int_equal(count_rows(f->db), 1);
    assert_int_equal(pcache_get(c, "a.example", &got), 1);
    assert_int_equal(pcache_clear(c, 0), 0);
    assert_int_equal(count_rows(f->db), 0);
    assert_int_equal(pcache_get(c, "a.example", &got), 0);
    pcache_free(c);
}

/* The listing both the CLI and the manager show: every row, both orders,
 * every column, expired rows too, and a status word this version does not
 * know shown as stored. */
static void list_shows_every_row(void **state)
{
    fixture *f = *state;
    pcache *c = pcache_new(f->db, NULL);
    pcache_entry *e;
    size_t n;
    char err[256];
    probe_result r;
    pcache_set_clock(c, fake_clock);
    assert_int_equal(pcache_clear(c, 0), 0);
    assert_int_equal(pcache_list(f->db, PCACHE_BY_DOMAIN, &e, &n, err, sizeof err), 0);
    assert_null(e);
    assert_int_equal(n, 0);

    int64_t t0 = fake_now;
    r = result("b.example", PROBE_STARTTLS);
    pcache_put(c, &r);
    fake_now += 5000;
    r = result("c.example", PROBE_NO_STARTTLS);
    pcache_put(c, &r);
    fake_now += 5000;
    r = result("A.Example", PROBE_TIMEOUT);
    pcache_put(c, &r);
    assert_int_equal(sqlite3_exec(f->db,
        "INSERT INTO probe_cache (domain, status, probed_ms, expires_ms)"
        " VALUES ('d.example', 'from-the-future', 1, 2)", NULL, NULL, NULL), SQLITE_OK);

    assert_int_equal(pcache_list(f->db, PCACHE_BY_DOMAIN, &e, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(e[0].domain, "a.example"); /* stored in lower case */
    assert_string_equal(pcache_entry_status(&e[0]), "timeout");
    assert_int_equal(e[0].cert_not_after, -1);
    assert_int_equal(e[0].probed_ms, t0 + 10000);
    assert_int_equal(e[0].expires_ms, t0 + 10000 + 900 * 1000);
    assert_string_equal(e[1].domain, "b.example");
    assert_string_equal(pcache_entry_status(&e[1]), "starttls");
    assert_string_equal(e[1].mx, "mx.b.example");
    assert_string_equal(e[1].address, "192.0.2.1");
    assert_string_equal(e[1].tls_version, "TLSv1.3");
    assert_string_equal(e[1].cipher, "TLS_AES_256_GCM_SHA384");
    assert_int_equal(e[1].cert_not_after, 1800000000);
    assert_string_equal(e[1].error, "text for starttls");
    assert_int_equal(e[1].elapsed_ms, 123);
    assert_int_equal(e[1].probed_ms, t0);
    assert_int_equal(e[1].expires_ms, t0 + 86400 * 1000LL);
    assert_string_equal(e[2].domain, "c.example");
    assert_string_equal(e[3].domain, "d.example");
    assert_string_equal(pcache_entry_status(&e[3]), "from-the-future"); /* expired and unknown: still listed */
    assert_string_equal(e[3].mx, "");
    free(e);

    assert_int_equal(pcache_list(f->db, PCACHE_NEWEST_FIRST, &e, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(e[0].domain, "a.example");
    assert_string_equal(e[1].domain, "c.example");
    assert_string_equal(e[2].domain, "b.example");
    assert_string_equal(e[3].domain, "d.example");
    free(e);
    assert_int_equal(pcache_clear(c, 0), 0);
    pcache_free(c);
}

/* A database without the table: an error that says so, never a crash. */
static void list_reports_a_missing_table(void **state)
{
    sqlite3 *db = NULL;
    pcache_entry *e = (pcache_entry *)state; /* any non-NULL value */
    size_t n = 7;
    char err[256] = "";
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(pcache_list(db, PCACHE_BY_DOMAIN, &e, &n, err, sizeof err), -1);
    assert_null(e);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err, "probe cache: "));
    assert_non_null(strstr(err, "probe_cache"));
    sqlite3_close(db);
}

static void memory_stays_bounded(void **state)
{
    pcache *c = pcache_new(NULL, NULL);
    probe_result r;
    int i;
    (void)state;
    pcache_set_clock(c, fake_clock);
    for (i = 0; i < 50000; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%d.example", i);
        r = result(name, PROBE_TIMEOUT);
        pcache_put(c, &r);
    }
    assert_int_equal(pcache_size(c), 50000);
    fake_now += 901 * 1000; /* all expired, none looked up again */
    for (i = 0; i < 50000; i++) {
        char name[32];
        snprintf(name, sizeof name, "e%d.example", i);
        r = result(name, PROBE_STARTTLS);
        pcache_put(c, &r);
    }
    /* Unswept, the table would now hold 100000 entries. */
    assert_true(pcache_size(c) <= 50001);
    assert_true(pcache_get(c, "e49999.example", &r));
    assert_false(pcache_get(c, "d0.example", &r));
    pcache_free(c);
}

typedef struct {
    pcache *c;
    int id;
    int misses;
} worker_arg;

static void hammer(void *p)
{
    worker_arg *w = p;
    int i;
    for (i = 0; i < 300; i++) {
        char name[64];
        probe_result r, got;
        snprintf(name, sizeof name, "d%d-%d.example", w->id, i);
        r = result(name, PROBE_STARTTLS);
        pcache_put(w->c, &r);
        if (!pcache_get(w->c, name, &got) || strcmp(got.domain, name) != 0)
            w->misses++;
    }
}

static void many_threads_at_once(void **state)
{
    pcache *c = pcache_new(NULL, NULL);
    worker_arg args[4];
    plat_thread *t[4];
    probe_result got;
    int i;
    (void)state;
    for (i = 0; i < 4; i++) {
        args[i].c = c;
        args[i].id = i;
        args[i].misses = 0;
        t[i] = plat_thread_start(hammer, &args[i]);
        assert_non_null(t[i]);
    }
    for (i = 0; i < 4; i++) {
        plat_thread_join(t[i]);
        assert_int_equal(args[i].misses, 0);
    }
    assert_int_equal(pcache_get(c, "d3-299.example", &got), 1);
    assert_int_equal(pcache_get(c, "d0-0.example", &got), 1);
    pcache_free(c);
}

/* The busy handler of the cache's connection: counts how often the slow
 * operation found the database locked, waits 10 ms a time, gives up
 * after 4 s. */
typedef struct {
    plat_mutex *lock;
    int calls;
} busy_state;

static int on_busy(void *p, int count)
{
    busy_state *b = p;
    plat_mutex_lock(b->lock);
    b->calls++;
    plat_mutex_unlock(b->lock);
    plat_sleep_ms(10);
    return count < 400;
}

static int busy_calls(busy_state *b)
{
    plat_mutex_lock(b->lock);
    int n = b->calls;
    plat_mutex_unlock(b->lock);
    return n;
}

typedef struct {
    pcache *c;
    int write;                 /* 1: put slow.example; 0: get ondisk.example */
    int rc;
} slow_op;

static void run_slow_op(void *p)
{
    slow_op *op = p;
    probe_result r = result("slow.example", PROBE_NO_STARTTLS);
    op->rc = op->write ? pcache_put(op->c, &r) : pcache_get(op->c, "ondisk.example", &r);
}

/* While another thread's write (or read) waits for a transaction another
 * connection holds, a domain cached in memory still answers at once: the
 * cache's mutex is not held across SQLite. Real SQLite locks on one file. */
static void a_hit_never_waits_for_the_database(void **state)
{
    fixture *f = *state;
    static const char *const hold[2] = { "BEGIN EXCLUSIVE", "BEGIN IMMEDIATE" };
    busy_state busy = { plat_mutex_new(), 0 };
    pcache *c = pcache_new(f->db, NULL);
    sqlite3 *other = open_db(f->dir.db);
    probe_result r = result("cached.example", PROBE_STARTTLS), got;
    assert_non_null(busy.lock);
    assert_non_null(c);
    assert_non_null(other);
    assert_int_equal(pcache_put(c, &r), 0);
    r = result("ondisk.example", PROBE_STARTTLS);
    pcache *writer = pcache_new(other, NULL);
    assert_int_equal(pcache_put(writer, &r), 0);   /* in the table, not in c's memory */
    pcache_free(writer);
    sqlite3_busy_handler(f->db, on_busy, &busy);
    for (int write = 0; write <= 1; write++) {
        slow_op op = { c, write, -1 };
        int before = busy_calls(&busy);
        /* EXCLUSIVE keeps readers out too; IMMEDIATE only writers. */
        assert_int_equal(sqlite3_exec(other, hold[write], NULL, NULL, NULL), SQLITE_OK);
        plat_thread *t = plat_thread_start(run_slow_op, &op);
        assert_non_null(t);
        for (int i = 0; i < 500 && busy_calls(&busy) == before; i++)
            plat_sleep_ms(10);
        assert_true(busy_calls(&busy) > before);    /* the slow operation is waiting */
        uint64_t start = plat_now_ms();
        assert_int_equal(pcache_get(c, "cached.example", &got), 1);
        uint64_t waited = plat_now_ms() - start;
        assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        plat_thread_join(t);
        print_message("%s waiting: a cached hit took %llu ms\n", write ? "write" : "read",
                      (unsigned long long)waited);
        assert_true(waited < 500);
        assert_int_equal(op.rc, write ? 0 : 1);    /* it went through after the commit */
    }
    assert_int_equal(pcache_get(c, "slow.example", &got), 1);
    assert_int_equal(got.status, PROBE_NO_STARTTLS);
    sqlite3_busy_handler(f->db, NULL, NULL);
    sqlite3_close(other);
    pcache_free(c);
    plat_mutex_free(busy.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ttl_per_status),
        cmocka_unit_test(ttl_classes),
        cmocka_unit_test(survives_a_restart),
        cmocka_unit_test(ttls_from_settings),
        cmocka_unit_test(clear_expired_and_all),
        cmocka_unit_test(list_shows_every_row),
        cmocka_unit_test(list_reports_a_missing_table),
        cmocka_unit_test(memory_stays_bounded),
        cmocka_unit_test(many_threads_at_once),
        cmocka_unit_test(a_hit_never_waits_for_the_database),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
