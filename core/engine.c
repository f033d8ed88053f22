/* engine: two connections and one maintenance thread. The writer
 * (journal, log, expired cache) is shared under write_lock. The
 * maintenance thread wakes once a second: it reads config_generation and,
 * when it moved, a new configuration snapshot; reloads the expired cache;
 * trims the journal and the log in small batches; and checkpoints the WAL,
 * so no routing thread ever polls, prunes or waits for a checkpoint's
 * fsync. */
#include "engine.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_db.h"

#define ENGINE_POLL_INTERVAL_MS 1000
#define ENGINE_STOP_CHECK_MS 20
#define LOG_PRUNE_BATCH 1000
/* Up to 20 batches of 2,000 journal rows a second: retention keeps pace
 * with 40,000 new rows a second, and the write lock is never held for
 * more than one batch. */
#define JOURNAL_PRUNE_BATCH 2000
#define JOURNAL_PRUNE_BATCHES 20

struct engine {
    char db_path[PLAT_PATH_MAX];
    plat_mutex *lock;         /* cfg, stop */
    engine_config *cfg;
    int stop;
    plat_thread *maintenance;
    volatile int log_level;

    plat_mutex *poll_lock;
    sqlite3 *poll_db;

    plat_mutex *write_lock;
    sqlite3 *write_db;
    journal *journal;

    expcache *expired;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- configuration snapshot ---------------------------------------- */

static void config_free(engine_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        domset_free(cfg->rules[i].never_redirect);
        domset_free(cfg->rules[i].force_plain);
    }
    free(cfg->rules);
    free(cfg);
}

static int64_t setting_int(sqlite3 *db, const char *key, int64_t fallback)
{
    sqlite3_stmt *st;
    int64_t v = fallback;
    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return fallback;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        char *end;
        long long n = s ? strtoll(s, &end, 10) : 0;
        if (s && *s && *end == '\0')
            v = n;
    }
    sqlite3_finalize(st);
    return v;
}

static log_level setting_log_level(sqlite3 *db)
{
    sqlite3_stmt *st;
    log_level lv = LOG_INFO;
    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'log_level'", -1, &st,
                           NULL) != SQLITE_OK)
        return lv;
    if (sqlite3_step(st) == SQLITE_ROW)
        log_level_parse((const char *)sqlite3_column_text(st, 0), &lv);
    sqlite3_finalize(st);
    return lv;
}

static void load_settings(sqlite3 *db, engine_config *cfg)
{
    cfg->log_level = setting_log_level(db);
    cfg->probe_port = (int)setting_int(db, "probe_port", 25);
    cfg->connect_timeout_ms = (int)setting_int(db, "connect_timeout_ms", 5000);
    cfg->reply_timeout_ms = (int)setting_int(db, "reply_timeout_ms", 10000);
    cfg->total_timeout_ms = (int)setting_int(db, "total_timeout_ms", 20000);
    cfg->ttl_expired_ms = setting_int(db, "ttl_expired_s", 604800) * 1000;
    cfg->journal_max_age_days = (int)setting_int(db, "journal_max_age_days", 30);
    cfg->journal_max_rows = setting_int(db, "journal_max_rows", 1000000);
    cfg->log_max_rows = setting_int(db, "log_max_rows", 100000);
}

static engine_rule *rule_by_id(engine_config *cfg, int64_t id)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (cfg->rules[i].id == id)
            return &cfg->rules[i];
    return NULL;
}

static int has_rule_for(const engine_config *cfg, int source_instance)
{
    return engine_rule_for(cfg, source_instance) != NULL;
}

static int add_rule(engine_config *cfg, sqlite3_stmt *st, size_t *cap)
{
    int source = sqlite3_column_int(st, 2);
    /* The first enabled rule by id for a virtual server is the one. */
    if (has_rule_for(cfg, source))
        return 0;
    if (cfg->n_rules == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        engine_rule *nr = realloc(cfg->rules, ncap * sizeof *nr);
        if (!nr)
            return -1;
        cfg->rules = nr;
        *cap = ncap;
    }
    engine_rule *r = &cfg->rules[cfg->n_rules];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 1));
    r->source_instance = source;
    snprintf(r->pickup_dir, sizeof r->pickup_dir, "%s", (const char *)sqlite3_column_text(st, 3));
    r->rule.expired_cert = sqlite3_column_int(st, 4);
    r->never_redirect = domset_new();
    r->force_plain = domset_new();
    cfg->n_rules++;
    return r->never_redirect && r->force_plain ? 0 : -1;
}

static int load_rules(sqlite3 *db, engine_config *cfg)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    if (sqlite3_prepare_v2(db, "SELECT id, name, source_instance, pickup_dir, expired_cert"
                           " FROM rules WHERE enabled = 1 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (add_rule(cfg, st, &cap) != 0)
            break;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (sqlite3_prepare_v2(db, "SELECT rule_id, list, pattern FROM rule_domains", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        engine_rule *r = rule_by_id(cfg, sqlite3_column_int64(st, 0));
        if (!r)
            continue;
        const char *list = (const char *)sqlite3_column_text(st, 1);
        domset *set = strcmp(list, "force-plain") == 0 ? r->force_plain : r->never_redirect;
        if (domset_add(set, (const char *)sqlite3_column_text(st, 2)) != 0 &&
            sqlite3_column_bytes(st, 2) > 0)
            break;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        cfg->rules[i].rule.never_redirect = cfg->rules[i].never_redirect;
        cfg->rules[i].rule.force_plain = cfg->rules[i].force_plain;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static int64_t read_generation(sqlite3 *db)
{
    sqlite3_stmt *st;
    int64_t g = -1;
    if (sqlite3_prepare_v2(db, "SELECT generation FROM config_generation WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        g = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return g;
}

/* One read transaction, so the generation, rules and lists agree. */
static engine_config *config_load(sqlite3 *db, char *err, size_t errlen)
{
    engine_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    int ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    if (ok) {
        cfg->generation = read_generation(db);
        load_settings(db, cfg);
        ok = cfg->generation >= 0 && load_rules(db, cfg) == 0;
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    if (!ok) {
        set_err(err, errlen, "cannot read the configuration: %s", sqlite3_errmsg(db));
        config_free(cfg);
        return NULL;
    }
    cfg->refs = 1;
    return cfg;
}

const engine_rule *engine_rule_for(const engine_config *cfg, int source_instance)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (cfg->rules[i].source_instance == source_instance)
            return &cfg->rules[i];
    return NULL;
}

/* ---- polling -------------------------------------------------------- */

static void apply_retention(engine *e, const engine_config *cfg)
{
    plat_mutex_lock(e->write_lock);
    journal_set_retention(e->journal, cfg->journal_max_age_days, cfg->journal_max_rows);
    plat_mutex_unlock(e->write_lock);
}

static void install_config(engine *e, engine_config *cfg)
{
    plat_mutex_lock(e->lock);
    engine_config *old = e->cfg;
    e->cfg = cfg;
    e->log_level = (int)cfg->log_level;
    int drop = old && --old->refs == 0;
    plat_mutex_unlock(e->lock);
    if (drop)
        config_free(old);
    apply_retention(e, cfg);
}

static int poll_once(engine *e, char *err, size_t errlen)
{
    int rc = 0;
    plat_mutex_lock(e->poll_lock);
    int64_t gen = read_generation(e->poll_db);
    plat_mutex_lock(e->lock);
    int64_t have = e->cfg ? e->cfg->generation : -1;
    plat_mutex_unlock(e->lock);
    if (gen < 0) {
        set_err(err, errlen, "cannot read config_generation: %s", sqlite3_errmsg(e->poll_db));
        rc = -1;
    } else if (gen != have) {
        engine_config *cfg = config_load(e->poll_db, err, errlen);
        if (cfg)
            install_config(e, cfg);
        else
            rc = -1;
    }
    if (expcache_load(e->expired, e->poll_db, plat_wall_ms(), err, errlen) != 0)
        rc = -1;
    plat_mutex_unlock(e->poll_lock);
    return rc;
}

int engine_refresh(engine *e, char *err, size_t errlen)
{
    return poll_once(e, err, errlen);
}

static void trim_and_checkpoint(engine *e)
{
    plat_mutex_lock(e->lock);
    int64_t log_max = e->cfg->log_max_rows;
    plat_mutex_unlock(e->lock);
    int64_t now = plat_wall_ms();
    for (int i = 0; i < JOURNAL_PRUNE_BATCHES; i++) {
        plat_mutex_lock(e->write_lock);
        int n = journal_prune_step(e->journal, now, JOURNAL_PRUNE_BATCH);
        plat_mutex_unlock(e->write_lock);
        if (n < JOURNAL_PRUNE_BATCH)
            break;
    }
    plat_mutex_lock(e->write_lock);
    log_prune_step(e->write_db, log_max, LOG_PRUNE_BATCH);
    plat_mutex_unlock(e->write_lock);
    /* PASSIVE never blocks the writer; it copies what it can. */
    plat_mutex_lock(e->poll_lock);
    sqlite3_wal_checkpoint_v2(e->poll_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    plat_mutex_unlock(e->poll_lock);
}

static int stopping(engine *e)
{
    plat_mutex_lock(e->lock);
    int stop = e->stop;
    plat_mutex_unlock(e->lock);
    return stop;
}

static void maintain(void *arg)
{
    engine *e = arg;
    uint64_t next = plat_now_ms() + ENGINE_POLL_INTERVAL_MS;
    while (!stopping(e)) {
        if (plat_now_ms() < next) {
            plat_sleep_ms(ENGINE_STOP_CHECK_MS);
            continue;
        }
        next = plat_now_ms() + ENGINE_POLL_INTERVAL_MS;
        char err[256];
        if (poll_once(e, err, sizeof err) != 0)
            engine_log(e, LOG_WARNING, "configuration poll: %s", err);
        trim_and_checkpoint(e);
    }
}

engine_config *engine_acquire_config(engine *e)
{
    plat_mutex_lock(e->lock);
    engine_config *cfg = e->cfg;
    cfg->refs++;
    plat_mutex_unlock(e->lock);
    return cfg;
}

void engine_release_config(engine *e, engine_config *cfg)
{
    plat_mutex_lock(e->lock);
    int drop = --cfg->refs == 0;
    plat_mutex_unlock(e->lock);
    if (drop)
        config_free(cfg);
}

/* ---- writes ---------------------------------------------------------- */

int engine_write_journal(engine *e, const journal_entry *rows, size_t n, char *err, size_t errlen)
{
    plat_mutex_lock(e->write_lock);
    int rc = journal_write(e->journal, rows, n, err, errlen);
    plat_mutex_unlock(e->write_lock);
    return rc;
}

int engine_add_expired(engine *e, const char *domain, const char *mx, int64_t cert_not_after,
                       char *err, size_t errlen)
{
    engine_config *cfg = engine_acquire_config(e);
    int64_t ttl = cfg->ttl_expired_ms;
    engine_release_config(e, cfg);
    plat_mutex_lock(e->write_lock);
    int rc = expcache_add(e->expired, e->write_db, domain, mx, cert_not_after, plat_wall_ms(), ttl,
                          err, errlen);
    plat_mutex_unlock(e->write_lock);
    return rc;
}

void engine_log(engine *e, log_level level, const char *fmt, ...)
{
    if ((int)level > e->log_level)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    plat_mutex_lock(e->write_lock);
    log_write(e->write_db, (log_level)e->log_level, level, "engine", "%s", text);
    plat_mutex_unlock(e->write_lock);
}

expcache *engine_expcache(engine *e) { return e->expired; }
const char *engine_db_path(const engine *e) { return e->db_path; }

/* ---- life cycle ------------------------------------------------------- */

int engine_open(const char *db_path, engine **out, char *err, size_t errlen)
{
    *out = NULL;
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    snprintf(e->db_path, sizeof e->db_path, "%s", db_path);
    e->log_level = LOG_INFO;
    e->lock = plat_mutex_new();
    e->poll_lock = plat_mutex_new();
    e->write_lock = plat_mutex_new();
    e->expired = expcache_new();
    if (!e->lock || !e->poll_lock || !e->write_lock || !e->expired) {
        set_err(err, errlen, "out of memory");
        engine_close(e);
        return -1;
    }
    if (engine_db_open(db_path, &e->write_db, err, errlen) != 0 ||
        engine_db_open(db_path, &e->poll_db, err, errlen) != 0 ||
        !(e->journal = journal_open(e->write_db, err, errlen))) {
        engine_close(e);
        return -1;
    }
    e->cfg = config_load(e->poll_db, err, errlen);
    if (!e->cfg || expcache_load(e->expired, e->poll_db, plat_wall_ms(), err, errlen) != 0) {
        engine_close(e);
        return -1;
    }
    apply_retention(e, e->cfg);
    e->log_level = (int)e->cfg->log_level;
    /* Checkpoints are the maintenance thread's job, off the routing path. */
    sqlite3_wal_autocheckpoint(e->write_db, 0);
    e->maintenance = plat_thread_start(maintain, e);
    if (!e->maintenance) {
        set_err(err, errlen, "cannot start the engine's maintenance thread");
        engine_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

void engine_close(engine *e)
{
    if (!e)
        return;
    if (e->maintenance) {
        plat_mutex_lock(e->lock);
        e->stop = 1;
        plat_mutex_unlock(e->lock);
        plat_thread_join(e->maintenance);
    }
    journal_close(e->journal);
    engine_db_close(e->write_db);
    engine_db_close(e->poll_db);
    if (e->cfg && --e->cfg->refs == 0)
        config_free(e->cfg);
    expcache_free(e->expired);
    plat_mutex_free(e->lock);
    plat_mutex_free(e->poll_lock);
    plat_mutex_free(e->write_lock);
    free(e);
}
