/* INTERIM, test-only stand-in for the core engine, linked only while
 * core/engine.h is missing, so the sink can be built and exercised before
 * the routing work lands. Rule: on virtual server 1, a domain ending in
 * ".plain.test" goes plain; the pickup folder is $TLSROUTER_INTERIM_PICKUP. */
#include "route.h"

#include "plat.h"
#include "rcptlist.h"
#include "store.h"

#include <sqlite3.h>
#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct engine {
    store *db;
    plat_mutex *lock;
    engine_config config;
};

int engine_open(const char *db_path, engine **out, char *err, size_t errlen)
{
    char level[32];
    *out = calloc(1, sizeof **out);
    if (!*out || !((*out)->lock = plat_mutex_new())) {
        free(*out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (store_open(db_path, &(*out)->db, err, errlen) != STORE_OK) {
        plat_mutex_free((*out)->lock);
        free(*out);
        *out = NULL;
        return -1;
    }
    (*out)->config.log_level = LOG_INFO;
    if (store_setting_get((*out)->db, "log_level", level, sizeof level) == STORE_OK &&
        store_log_level_parse(level) >= 0)
        (*out)->config.log_level = (log_level)store_log_level_parse(level);
    return 0;
}

void engine_close(engine *e)
{
    store_close(e->db);
    plat_mutex_free(e->lock);
    free(e);
}

engine_config *engine_acquire_config(engine *e) { return &e->config; }
void engine_release_config(engine *e, engine_config *cfg) {}

void engine_log(engine *e, log_level level, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    sqlite3_stmt *st;
    if ((int)level > (int)e->config.log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    plat_mutex_lock(e->lock);
    if (sqlite3_prepare_v2(store_db(e->db), "INSERT INTO log (at_ms, level, source, message) "
                           "VALUES (?, ?, 'engine', ?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, plat_wall_ms());
        sqlite3_bind_int(st, 2, (int)level);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    plat_mutex_unlock(e->lock);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static int write_pickup(const route_message *msg, route_result *out)
{
    const char *dir = getenv("TLSROUTER_INTERIM_PICKUP");
    static volatile long seq;
    char tmp[1024], final[1024];
    size_t cap = msg->message_len + 512 * (msg->n_recipients + 1), len = 0;
    char *buf = malloc(cap);
    if (!dir || !buf) {
        free(buf);
        snprintf(out->error, sizeof out->error, "no pickup folder");
        return -1;
    }
    len += (size_t)snprintf(buf + len, cap - len, "x-sender: %s\r\n", msg->sender);
    for (size_t i = 0; i < out->n; i++)
        if (out->decisions[i].plain)
            len += (size_t)snprintf(buf + len, cap - len, "x-receiver: %s\r\n", out->decisions[i].recipient);
    memcpy(buf + len, msg->message, msg->message_len);
    len += msg->message_len;
    long n = __sync_add_and_fetch(&seq, 1);
    snprintf(tmp, sizeof tmp, "%s\\..\\interim-%lu-%ld.tmp", dir, plat_pid(), n);
    snprintf(final, sizeof final, "%s\\interim-%lu-%ld.eml", dir, plat_pid(), n);
    if (!plat_is_dir(dir) || plat_write_new_file(tmp, buf, len, out->error, sizeof out->error) != 0) {
        free(buf);
        if (!out->error[0])
            snprintf(out->error, sizeof out->error, "pickup folder %s missing", dir);
        return -1;
    }
    free(buf);
    if (plat_rename_noreplace(tmp, final, out->error, sizeof out->error) != 0) {
        plat_remove(tmp);
        return -1;
    }
    snprintf(out->pickup_path, sizeof out->pickup_path, "%s", final);
    return 0;
}

int route_run(engine *e, const route_message *msg, route_result *out)
{
    size_t plain = 0;
    memset(out, 0, sizeof *out);
    out->decisions = calloc(msg->n_recipients ? msg->n_recipients : 1, sizeof *out->decisions);
    if (!out->decisions)
        return -1;
    out->n = msg->n_recipients;
    for (size_t i = 0; i < out->n; i++) {
        route_decision *d = &out->decisions[i];
        snprintf(d->recipient, sizeof d->recipient, "%s", msg->recipients[i]);
        snprintf(d->domain, sizeof d->domain, "%s", rcptlist_domain(msg->recipients[i]));
        d->plain = msg->source_instance == 1 && ends_with(d->domain, ".plain.test");
        snprintf(d->reason, sizeof d->reason, "%s", d->plain ? "force-plain-list" : "no-rule");
        plain += (size_t)d->plain;
    }
    if (plain == 0)
        return 0;
    if (write_pickup(msg, out) != 0)
        return -1;
    out->handed_off = 1;
    return 0;
}

void route_result_free(route_result *r)
{
    free(r->decisions);
    r->decisions = NULL;
    r->n = 0;
}
