/* route_world: see route_world.h. */
#include "route_world.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickup.h"

static const char default_body[] = "Subject: route world\r\n\r\nbody\r\n";

static void check_store(route_world *w, store_status st, const char *what)
{
    if (st != STORE_OK)
        fail_msg("%s: %s", what, store_error(w->admin));
}

static void make_folders(route_world *w, const char *tag)
{
    assert_int_equal(trtest_scratch_make(&w->dir, tag), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->dir.path, "Pickup"), 0);
    assert_int_equal(trtest_join(w->pickup_temp, sizeof w->pickup_temp, w->dir.path,
                                 PICKUP_TEMP_DIR_NAME), 0);
    assert_int_equal(trtest_join(w->ca_file, sizeof w->ca_file, w->dir.path, "ca.pem"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
}

route_world *route_world_open(const char *tag)
{
    route_world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    make_folders(w, tag);
    if (store_open(w->dir.db, &w->admin, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    assert_non_null(w->dns = dnsd_start());
    route_world_set(w, "dns_servers", dnsd_server(w->dns));
    route_world_set(w, "total_timeout_ms", "8000");
    assert_int_equal(certgen_make_ca("Route World CA", &w->ca), 0);
    assert_int_equal(certgen_write_pem(&w->ca, w->ca_file), 0);
    w->message_id = "m1";
    w->body = default_body;
    return w;
}

void route_world_close(route_world *w)
{
    pickup_inject_fault(PICKUP_FAULT_NONE);
    route_world_stop(w);
    store_close(w->admin);
    if (w->mx)
        peer_stop(w->mx);
    stsd_stop(w->policy_host);
    dnsd_stop(w->dns);
    certgen_free(&w->policy_cert);
    certgen_free(&w->ca);
    trtest_scratch_remove(&w->dir);
    free(w);
}

int route_world_teardown(void **state)
{
    route_world_close(*state);
    return 0;
}

void route_world_start(route_world *w)
{
    char err[256];
    route_world_stop(w);
    if (engine_open(w->dir.db, &w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
}

void route_world_stop(route_world *w)
{
    engine_close(w->eng);
    w->eng = NULL;
}

void route_world_refresh(route_world *w)
{
    char err[256];
    if (engine_refresh(w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
}

void route_world_set(route_world *w, const char *key, const char *value)
{
    check_store(w, store_setting_set(w->admin, key, value), key);
    if (w->eng)
        route_world_refresh(w);
}

void route_world_add_rule(route_world *w, int expired_cert)
{
    store_rule_change change;
    check_store(w, store_rule_add(w->admin, ROUTE_WORLD_RULE, w->pickup, 1, NULL), "rule");
    store_rule_change_init(&change);
    change.expired_cert = expired_cert;
    check_store(w, store_rule_update(w->admin, ROUTE_WORLD_RULE, &change), "rule");
}

void route_world_add_pattern(route_world *w, store_list list, const char *pattern)
{
    const char *patterns[] = { pattern };
    check_store(w, store_domains_add(w->admin, ROUTE_WORLD_RULE, list, patterns, 1), pattern);
}

void route_world_known_policy(route_world *w, const char *domain, const char *id,
                              const char *mode)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO sts_policy VALUES ('%s', '%s', '%s', 'mx.%s', 86400, 0, "
             "32503680000000)", domain, id, mode, domain);
    assert_int_equal(sqlite3_exec(store_db(w->admin), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void set_probe_port(route_world *w, unsigned port)
{
    char text[16];
    snprintf(text, sizeof text, "%u", port);
    route_world_set(w, "probe_port", text);
}

void route_world_serve(route_world *w, peer *p)
{
    assert_non_null(p);
    if (w->mx)
        peer_stop(w->mx);
    w->mx = p;
    set_probe_port(w, peer_port(p));
}

void route_world_serve_nobody(route_world *w)
{
    if (w->mx)
        peer_stop(w->mx);
    w->mx = NULL;
    set_probe_port(w, peer_unused_port());
}

stsd *route_world_policy_host(route_world *w, const char *domain, const char *policy)
{
    char host[300];
    assert_null(w->policy_host);
    snprintf(host, sizeof host, "mta-sts.%s", domain);
    assert_int_equal(certgen_make(host, -60, 86400, &w->ca, &w->policy_cert), 0);
    dnsd_add_a(w->dns, host, 127, 0, 0, 1);
    assert_non_null(w->policy_host = stsd_start(STSD_POLICY, &w->policy_cert, policy));
    return w->policy_host;
}

route_message route_world_message(const route_world *w, const char *const *rcpts, size_t n)
{
    route_message m = { .message_id = w->message_id, .sender = "s@corp.example",
                        .recipients = rcpts, .n_recipients = n, .source_instance = 1,
                        .message = (const unsigned char *)w->body,
                        .message_len = strlen(w->body) };
    return m;
}

int route_world_run(route_world *w, const char *const *rcpts, size_t n, route_result *r)
{
    route_message m = route_world_message(w, rcpts, n);
    return route_run(w->eng, &m, r);
}

void route_world_route(route_world *w, const char *const *rcpts, size_t n, route_result *r)
{
    assert_int_equal(route_world_run(w, rcpts, n, r), 0);
}

void route_world_route_one(route_world *w, const char *rcpt, route_result *r)
{
    const char *rcpts[] = { rcpt };
    route_world_route(w, rcpts, 1, r);
}

/* sql prepared on the second connection and stepped once: 1 with a row. */
static int first_row(route_world *w, const char *sql, sqlite3_stmt **q)
{
    assert_int_equal(sqlite3_prepare_v2(store_db(w->admin), sql, -1, q, NULL), SQLITE_OK);
    return sqlite3_step(*q) == SQLITE_ROW;
}

int64_t route_world_int(route_world *w, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int64_t v = first_row(w, sql, &q) ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}

char *route_world_text(route_world *w, const char *sql)
{
    sqlite3_stmt *q = NULL;
    const unsigned char *text = first_row(w, sql, &q) ? sqlite3_column_text(q, 0) : NULL;
    char *out = strdup(text ? (const char *)text : "");
    sqlite3_finalize(q);
    assert_non_null(out);
    return out;
}

char *route_world_journal_row(route_world *w, const char *recipient)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT route || '|' || reason || '|' || detail FROM journal "
             "WHERE recipient = '%s' ORDER BY id DESC LIMIT 1", recipient);
    return route_world_text(w, sql);
}

int route_world_pickup_files(const route_world *w)
{
    return trtest_count_entries(w->pickup);
}
