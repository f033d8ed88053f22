/* engine: two connections and one maintenance thread. The writer
 * (journal, log, expired cache, figures) is shared under write_lock. The
 * maintenance thread wakes once a second: it reads config_generation and,
 * when it moved, a new configuration snapshot; reloads the expired cache;
 * trims the journal and the log in small batches; checkpoints the WAL; and
 * once a minute hands the expired-certificate cache's due re-checks to the
 * refresher's pool and a read of IIS's configuration to the background
 * pool. Every 250 ms it hands the refresher's due domains to its pool, and
 * every two seconds it writes the live figures, so no routing thread ever
 * polls, prunes, re-probes, reads IIS, writes figures or waits for a
 * checkpoint's fsync. */
#include "engine.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgwork.h"
#include "flight.h"
#include "iis_metabase.h"
#include "iis_read.h"
#include "errtext.h"
#include "net.h"
#include "pickup.h"
#include "policy.h"
#include "store.h"
#include "stscache.h"
#include "stslearn.h"

#define ENGINE_POLL_INTERVAL_MS 1000
#define ENGINE_STOP_CHECK_MS 20
/* The refresher's scan: cheap when nothing is due (refresh.h). */
#define ENGINE_WARM_EVERY_MS 250
#define LOG_PRUNE_BATCH 1000
/* Up to 20 batches of 2,000 journal rows a second: retention keeps pace
 * with 40,000 new rows a second, and the write lock is never held for
 * more than one batch. */
#define JOURNAL_PRUNE_BATCH 2000
#define JOURNAL_PRUNE_BATCHES 20

/* Pickup folders watched for a backlog, and how often one is warned of. */
#define ENGINE_WATCHED_RULES 16
#define ENGINE_PICKUP_WARN_EVERY_MS (60 * 60 * 1000)
#define ENGINE_PICKUP_SCAN_MS (60 * 1000)

struct engine {
    char db_path[PLAT_PATH_MAX];
    plat_mutex *lock;         /* cfg, stop */
    engine_config *cfg;
    int stop;
    plat_thread *maintenance;
    int log_level;            /* guarded by lock */

    plat_mutex *poll_lock;
    store *poll_store;
    sqlite3 *poll_db;

    store *probe_store;       /* the probe cache's connection (serialised mode) */
    pcache *probe_cache;
    policy_memo *policies;
    stscache *sts;            /* MTA-STS policies, in memory ... */
    store *sts_store;         /* ... and in sts_policy (serialised mode) */
    char dns_override[512];
    long timeout_override_ms;
    char sts_ca_file[PLAT_PATH_MAX]; /* test hooks for the policy fetch */
    unsigned sts_port;

    plat_mutex *write_lock;
    store *write_store;
    sqlite3 *write_db;
    journal *journal;

    expcache *expired;
    bgwork *background;       /* learning and re-checks, off the message's time */
    engine_expired_timing expired_timing; /* guarded by lock; 0s: the defaults */
    stslearn *learner;        /* MTA-STS policies learnt on clean paths */
    engine_event_fn event_fn; /* guarded by lock */
    void *event_ctx;
    int64_t pickup_warned_ms[ENGINE_WATCHED_RULES]; /* per rule slot; maintenance thread */
    int64_t pickup_warned_rule[ENGINE_WATCHED_RULES];
    iis_model *iis;           /* guarded by lock, references counted there */
    char iis_metabase[PLAT_PATH_MAX]; /* test hook: this file instead of the
                                 host's IIS; guarded by lock */
    unsigned iis_generation;  /* guarded by lock: moves with the hook, so a
                                 read of the old source is not installed */

    flight_table *probe_flights;  /* one probe per domain at a time */
    flight_table *policy_flights; /* one guard look-up per domain at a time */
    flight_table *host_flights;   /* MX host verdicts of probes at the same time */
    refresher *refresher;     /* uses, refresh ahead, background probe bounds */
    int refresh_ahead;        /* guarded by lock */
    stats *figures;
    stats_figures flushed;    /* what the stats table has (maintenance thread) */
    char process_id[64];      /* this engine's rows in the stats table */
};

/* IIS's configuration is read again this often (engine.h). */
#define IIS_REFRESH_EVERY_MS (60 * 1000)

/* Background threads: few, since every job waits on the network, and a
 * queue long enough for a burst of new domains. */
#define ENGINE_BACKGROUND_THREADS 4
#define ENGINE_BACKGROUND_QUEUE 1024

/* The expired-certificate cache's due re-probes are looked for once a
 * minute (a scan of the memory copy), at most this many at a time; the
 * rest wait for the next scan. */
#define EXPIRED_SCAN_EVERY_MS (60 * 1000)
#define EXPIRED_SCAN_MAX 256

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

static log_level default_log_level(void)
{
    return (log_level)store_log_level_parse(setting_at(SETTING_ID_log_level)->default_value);
}

static log_level setting_log_level(store *st)
{
    char name[32];
    int lv = -1;
    if (store_setting_get(st, "log_level", name, sizeof name) == STORE_OK)
        lv = store_log_level_parse(name);
    return lv >= 0 ? (log_level)lv : default_log_level();
}

/* Every setting the engine uses, read again on every reload. */
static void load_settings(store *st, engine_config *cfg)
{
    cfg->log_level = setting_log_level(st);
    /* Keys that fail to load keep their defaults; the poll goes on. */
    probe_settings_load(st, &cfg->probe);
    pcache_ttls_default(&cfg->probe_ttls);
    pcache_ttls_load(store_db(st), &cfg->probe_ttls);
    guard_options_default(&cfg->guard);
    guard_options_load(st, &cfg->guard);
    cfg->guard_timeout_ms = STORE_SETTING_INT(st, guard_timeout_ms);
    cfg->message_timeout_ms = STORE_SETTING_INT(st, message_timeout_ms);
    cfg->ttl_expired_ms = STORE_SETTING_INT(st, ttl_expired_s) * 1000;
    cfg->ttl_failure_ms = STORE_SETTING_INT(st, ttl_failure_s) * 1000;
    cfg->journal_max_age_days = (int)STORE_SETTING_INT(st, journal_max_age_days);
    cfg->journal_max_rows = STORE_SETTING_INT(st, journal_max_rows);
    cfg->log_max_rows = STORE_SETTING_INT(st, log_max_rows);
    cfg->refresh.window_days = (int)STORE_SETTING_INT(st, refresh_window_days);
    cfg->refresh.concurrency = (unsigned)STORE_SETTING_INT(st, refresh_concurrency);
    cfg->refresh.per_minute = (unsigned)STORE_SETTING_INT(st, refresh_max_per_minute);
}

static int load_list(store *st, const char *rule, store_list list, domset *set)
{
    char **patterns;
    size_t n;
    if (store_domains_list(st, rule, list, &patterns, &n) != STORE_OK)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = domset_add(set, patterns[i]);
    store_strings_free(patterns, n);
    return rc;
}

static int add_rule(engine_config *cfg, store *st, const store_rule *sr)
{
    engine_rule *r = &cfg->rules[cfg->n_rules++];
    memset(r, 0, sizeof *r);
    r->id = sr->id;
    snprintf(r->name, sizeof r->name, "%s", sr->name);
    r->source_instance = sr->source_instance;
    snprintf(r->pickup_dir, sizeof r->pickup_dir, "%s", sr->pickup_dir);
    r->never_redirect = domset_new();
    r->force_plain = domset_new();
    if (!r->never_redirect || !r->force_plain ||
        load_list(st, sr->name, STORE_LIST_NEVER_REDIRECT, r->never_redirect) != 0 ||
        load_list(st, sr->name, STORE_LIST_FORCE_PLAIN, r->force_plain) != 0)
        return -1;
    r->rule.expired_cert = sr->expired_cert;
    r->rule.never_redirect = r->never_redirect;
    r->rule.force_plain = r->force_plain;
    return 0;
}

/* The first enabled rule by id of each virtual server, with its lists. */
static int load_rules(store *st, engine_config *cfg)
{
    store_rule *rules;
    size_t n;
    if (store_rule_list(st, &rules, &n) != STORE_OK)
        return -1;
    int rc = 0;
    cfg->rules = n ? calloc(n, sizeof *cfg->rules) : NULL;
    if (n && !cfg->rules)
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (rules[i].enabled && !engine_rule_for(cfg, rules[i].source_instance))
            rc = add_rule(cfg, st, &rules[i]);
    free(rules);
    return rc;
}

/* One read transaction, so the generation, rules and lists agree. */
static engine_config *config_load(store *st, char *err, size_t errlen)
{
    engine_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        errtext_set(err, errlen, "out of memory");
        return NULL;
    }
    sqlite3 *db = store_db(st);
    int ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    if (ok) {
        ok = store_generation(st, &cfg->generation) == STORE_OK;
        load_settings(st, cfg);
        ok = ok && load_rules(st, cfg) == 0;
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    if (!ok) {
        errtext_set(err, errlen, "cannot read the configuration: %s", store_error(st));
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
    /* Before the snapshot is seen: whoever sees the new generation also
     * gets the new lifetimes. */
    pcache_set_ttls(e->probe_cache, &cfg->probe_ttls);
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
    int64_t gen = -1;
    if (store_generation(e->poll_store, &gen) != STORE_OK)
        gen = -1;
    plat_mutex_lock(e->lock);
    int64_t have = e->cfg ? e->cfg->generation : -1;
    plat_mutex_unlock(e->lock);
    if (gen < 0) {
        errtext_set(err, errlen, "cannot read config_generation: %s", store_error(e->poll_store));
        rc = -1;
    } else if (gen != have) {
        engine_config *cfg = config_load(e->poll_store, err, errlen);
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

static void schedule_rechecks(engine *e);
static int64_t expired_scan_every_ms(engine *e);
static void keep_warm(engine *e);
static void flush_figures(engine *e);
static void schedule_iis_read(engine *e);

void engine_set_event_hook(engine *e, engine_event_fn fn, void *ctx)
{
    plat_mutex_lock(e->lock);
    e->event_fn = fn;
    e->event_ctx = ctx;
    plat_mutex_unlock(e->lock);
}

static void raise_event(engine *e, engine_event kind, const char *text)
{
    plat_mutex_lock(e->lock);
    engine_event_fn fn = e->event_fn;
    void *ctx = e->event_ctx;
    plat_mutex_unlock(e->lock);
    engine_log(e, LOG_WARNING, "%s", text);
    if (fn)
        fn(ctx, kind, text);
}

/* The slot remembering when rule id was last warned of; the oldest slot
 * is reused for a rule not seen before. */
static size_t warn_slot(engine *e, int64_t rule_id)
{
    size_t oldest = 0;
    for (size_t i = 0; i < ENGINE_WATCHED_RULES; i++) {
        if (e->pickup_warned_rule[i] == rule_id)
            return i;
        if (e->pickup_warned_ms[i] < e->pickup_warned_ms[oldest])
            oldest = i;
    }
    e->pickup_warned_rule[oldest] = rule_id;
    e->pickup_warned_ms[oldest] = 0;
    return oldest;
}

static int watch_rule_pickup(engine *e, const engine_rule *r, int64_t now)
{
    pickup_backlog b;
    char text[PLAT_PATH_MAX + 400];
    if (pickup_backlog_of(r->pickup_dir, &b) != 0 || b.count == 0 ||
        now - b.oldest_ms <= PICKUP_UNDRAINED_MS)
        return 0;
    size_t slot = warn_slot(e, r->id);
    if (e->pickup_warned_ms[slot] && now - e->pickup_warned_ms[slot] < ENGINE_PICKUP_WARN_EVERY_MS)
        return 0;
    e->pickup_warned_ms[slot] = now;
    snprintf(text, sizeof text,
             "%lu file(s) wait in the Pickup folder %.900s of rule \"%.100s\", the oldest for %lld "
             "minutes: the Plain TCP Server is not picking them up (is it started, and is this "
             "its Pickup folder?)",
             (unsigned long)b.count, r->pickup_dir, r->name,
             (long long)((now - b.oldest_ms) / 60000));
    raise_event(e, ENGINE_EVENT_PICKUP_NOT_DRAINED, text);
    return 1;
}

int engine_watch_pickups(engine *e)
{
    engine_config *cfg = engine_acquire_config(e);
    int64_t now = plat_wall_ms();
    int warned = 0;
    plat_mutex_lock(e->poll_lock); /* one watcher at a time: the slots are shared */
    for (size_t i = 0; i < cfg->n_rules; i++)
        warned += watch_rule_pickup(e, &cfg->rules[i], now);
    plat_mutex_unlock(e->poll_lock);
    engine_release_config(e, cfg);
    return warned;
}

static void maintain(void *arg)
{
    engine *e = arg;
    uint64_t next = plat_now_ms() + ENGINE_POLL_INTERVAL_MS;
    /* Not at once: a short-lived engine (a CLI command) never probes in
     * the background, and a service's first minute belongs to its mail. */
    uint64_t last_scan = plat_now_ms(), last_watch = plat_now_ms();
    uint64_t last_flush = plat_now_ms(), last_warm = plat_now_ms();
    uint64_t last_iis = 0;
    int iis_read_once = 0;
    while (!stopping(e)) {
        /* Finer than the poll, so a lifetime of a few seconds is still
         * refreshed near its 80%. */
        if (plat_now_ms() - last_warm >= ENGINE_WARM_EVERY_MS) {
            last_warm = plat_now_ms();
            keep_warm(e);
        }
        if (plat_now_ms() < next) {
            plat_sleep_ms(ENGINE_STOP_CHECK_MS);
            continue;
        }
        next = plat_now_ms() + ENGINE_POLL_INTERVAL_MS;
        char err[256];
        if (poll_once(e, err, sizeof err) != 0)
            engine_log(e, LOG_WARNING, "configuration poll: %s", err);
        trim_and_checkpoint(e);
        if (plat_now_ms() - last_scan >= (uint64_t)expired_scan_every_ms(e)) {
            last_scan = plat_now_ms();
            schedule_rechecks(e);
        }
        if (plat_now_ms() - last_flush >= ENGINE_FLUSH_EVERY_MS) {
            last_flush = plat_now_ms();
            flush_figures(e);
        }
        if (plat_now_ms() - last_watch >= ENGINE_PICKUP_SCAN_MS) {
            last_watch = plat_now_ms();
            engine_watch_pickups(e);
        }
        if (!iis_read_once || plat_now_ms() - last_iis >= IIS_REFRESH_EVERY_MS) {
            iis_read_once = 1;
            last_iis = plat_now_ms();
            schedule_iis_read(e);
        }
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

int engine_write_journal(engine *e, const journal_entry *rows, size_t n, int64_t *first_id,
                         char *err, size_t errlen)
{
    plat_mutex_lock(e->write_lock);
    int rc = journal_write(e->journal, rows, n, err, errlen);
    if (rc == 0 && first_id)
        *first_id = journal_last_first_id(e->journal);
    plat_mutex_unlock(e->write_lock);
    return rc;
}

int engine_journal_kept_on_tls(engine *e, int64_t first_id, size_t n, const char *detail,
                               char *err, size_t errlen)
{
    plat_mutex_lock(e->write_lock);
    int rc = journal_mark_kept_on_tls(e->write_db, first_id, n, detail, err, errlen);
    plat_mutex_unlock(e->write_lock);
    return rc;
}

/* The cache's lifetimes: the settings' TTLs, the constants (or a test's
 * shorter ones) for confirming and re-checking. */
static void expired_times(engine *e, expcache_times *t)
{
    expcache_times_default(t);
    engine_config *cfg = engine_acquire_config(e);
    t->first_ttl_ms = cfg->ttl_failure_ms;
    t->confirmed_ttl_ms = cfg->ttl_expired_ms;
    engine_release_config(e, cfg);
    plat_mutex_lock(e->lock);
    if (e->expired_timing.confirm_after_ms > 0)
        t->confirm_after_ms = e->expired_timing.confirm_after_ms;
    if (e->expired_timing.recheck_every_ms > 0)
        t->recheck_every_ms = e->expired_timing.recheck_every_ms;
    plat_mutex_unlock(e->lock);
}

static int64_t expired_scan_every_ms(engine *e)
{
    plat_mutex_lock(e->lock);
    int64_t ms = e->expired_timing.scan_every_ms;
    plat_mutex_unlock(e->lock);
    return ms > 0 ? ms : EXPIRED_SCAN_EVERY_MS;
}

void engine_set_expired_timing(engine *e, const engine_expired_timing *t)
{
    plat_mutex_lock(e->lock);
    e->expired_timing = *t;
    plat_mutex_unlock(e->lock);
}

int engine_add_expired(engine *e, const char *domain, const char *mx, int64_t cert_not_after,
                       int64_t seen_ms, char *err, size_t errlen)
{
    expcache_times t;
    expired_times(e, &t);
    int64_t now = plat_wall_ms();
    expcache_sighting s = { domain, mx, cert_not_after, seen_ms > 0 ? seen_ms : now };
    plat_mutex_lock(e->write_lock);
    int rc = expcache_saw_expired(e->expired, e->write_db, &s, &t, now, err, errlen);
    plat_mutex_unlock(e->write_lock);
    return rc < 0 ? -1 : 0;
}

void engine_log(engine *e, log_level level, const char *fmt, ...)
{
    plat_mutex_lock(e->lock);
    int threshold = e->log_level;
    plat_mutex_unlock(e->lock);
    if ((int)level > threshold)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    plat_mutex_lock(e->write_lock);
    log_write(e->write_db, (log_level)threshold, level, "engine", "%s", text);
    plat_mutex_unlock(e->write_lock);
}

/* ---- IIS's own configuration --------------------------------------------- */

const iis_model *engine_acquire_iis(engine *e)
{
    plat_mutex_lock(e->lock);
    iis_model *m = e->iis;
    m->refs++;
    plat_mutex_unlock(e->lock);
    return m;
}

void engine_release_iis(engine *e, const iis_model *m)
{
    iis_model *held = (iis_model *)m;
    plat_mutex_lock(e->lock);
    int drop = --held->refs == 0;
    plat_mutex_unlock(e->lock);
    if (drop)
        iis_model_free(held);
}

static iis_read_status read_iis(const char *metabase, iis_model **out)
{
    char err[256];
    if (!metabase[0])
        return iis_read_system(out);
    if ((*out = iis_metabase_load(metabase, err, sizeof err)) != NULL)
        return IIS_READ_OK;
    *out = iis_model_empty("%s", err);
    return IIS_READ_FAILED;
}

/* Swaps in m unless the source moved on while it was read, or the read
 * failed where the model in use knows servers. 1 when installed; 0 when
 * m was dropped; m is the engine's either way. */
static int install_iis(engine *e, iis_model *m, iis_read_status st, unsigned generation,
                       int *changed)
{
    plat_mutex_lock(e->lock);
    iis_model *old = e->iis;
    int stale = generation != e->iis_generation;
    int keep_old = st == IIS_READ_FAILED && old && old->n_servers > 0;
    if (stale || keep_old) {
        plat_mutex_unlock(e->lock);
        iis_model_free(m);
        return 0;
    }
    *changed = !old || old->origin != m->origin || old->n_servers != m->n_servers ||
               strcmp(old->why, m->why) != 0 || strcmp(old->where, m->where) != 0;
    m->refs = 1;
    e->iis = m;
    int drop = old && --old->refs == 0;
    plat_mutex_unlock(e->lock);
    if (drop)
        iis_model_free(old);
    return 1;
}

static void log_iis(engine *e, iis_read_status st, const char *why, int installed, int changed)
{
    if (st == IIS_READ_FAILED && !installed) {
        engine_log(e, LOG_WARNING, "IIS configuration: %s; the one read before stays in use",
                   why);
        return;
    }
    if (!changed)
        return;
    const iis_model *m = engine_acquire_iis(e);
    if (m->n_servers > 0)
        engine_log(e, LOG_INFO, "IIS configuration: %lu SMTP virtual servers read from %s%s%s",
                   (unsigned long)m->n_servers, m->where, m->why[0] ? "; " : "", m->why);
    else /* no IIS here is the normal case off Windows: not worth a row at info */
        engine_log(e, st == IIS_READ_FAILED ? LOG_WARNING : LOG_DEBUG,
                   "IIS configuration: none in use (%s): decisions do not consult IIS", m->why);
    engine_release_iis(e, m);
}

static int refresh_iis(engine *e, char *err, size_t errlen)
{
    char metabase[PLAT_PATH_MAX];
    plat_mutex_lock(e->lock);
    unsigned generation = e->iis_generation;
    memcpy(metabase, e->iis_metabase, sizeof metabase);
    plat_mutex_unlock(e->lock);
    iis_model *m = NULL;
    iis_read_status st = read_iis(metabase, &m);
    if (!m) {
        errtext_set(err, errlen, "out of memory reading IIS's configuration");
        return -1;
    }
    char why[sizeof m->why];
    memcpy(why, m->why, sizeof why);
    int changed = 0;
    int installed = install_iis(e, m, st, generation, &changed);
    log_iis(e, st, why, installed, changed);
    if (st == IIS_READ_FAILED) {
        errtext_set(err, errlen, "%s", why);
        return -1;
    }
    return 0;
}

static void read_iis_job(void *ctx, const char *key)
{
    refresh_iis(ctx, NULL, 0);
}

static void schedule_iis_read(engine *e)
{
    bgwork_submit(e->background, read_iis_job, e, "iis-configuration");
}

int engine_refresh_iis(engine *e, char *err, size_t errlen)
{
    return refresh_iis(e, err, errlen);
}

int engine_set_iis_metabase(engine *e, const char *path, char *err, size_t errlen)
{
    plat_mutex_lock(e->lock);
    snprintf(e->iis_metabase, sizeof e->iis_metabase, "%s", path ? path : "");
    e->iis_generation++;
    plat_mutex_unlock(e->lock);
    return refresh_iis(e, err, errlen);
}

void engine_set_probe_overrides(engine *e, const char *dns_servers, long total_timeout_ms)
{
    snprintf(e->dns_override, sizeof e->dns_override, "%s", dns_servers ? dns_servers : "");
    e->timeout_override_ms = total_timeout_ms > 0 ? total_timeout_ms : 0;
}

void engine_set_sts_test_hooks(engine *e, const char *ca_file, unsigned port)
{
    snprintf(e->sts_ca_file, sizeof e->sts_ca_file, "%s", ca_file ? ca_file : "");
    e->sts_port = port;
}

/* The hook point for the probe's trace: at full-debug each event is a log
 * row, "probe DOMAIN: KIND TEXT" (the log viewer of a later issue reads
 * them). Probing threads call it; engine_log serialises the writes. */
static void probe_trace_to_log(void *ctx, const probe_trace_event *ev)
{
    engine_log(ctx, LOG_FULL_DEBUG, "probe %s: %s %s", ev->domain,
               probe_trace_kind_name(ev->kind), ev->text);
}

/* The probe options of cfg with the CLI's overrides; they point into cfg. */
static probe_options probe_options_of(engine *e, const engine_config *cfg)
{
    probe_options opts = cfg->probe.opts;
    if (e->dns_override[0])
        opts.dns_servers = e->dns_override;
    if (e->timeout_override_ms > 0)
        opts.total_timeout_ms = (unsigned)e->timeout_override_ms;
    if (cfg->log_level >= LOG_FULL_DEBUG) {
        opts.trace = probe_trace_to_log;
        opts.trace_ctx = e;
    }
    opts.host_flights = e->host_flights;
    return opts;
}

void engine_probe(engine *e, const char *const *domains, size_t n, probe_result *out,
                  int *from_cache)
{
    engine_config *cfg = engine_acquire_config(e);
    probe_options opts = probe_options_of(e, cfg);
    pcache_probe_many(e->probe_cache, domains, n, &opts, out, from_cache);
    engine_release_config(e, cfg);
}

int engine_probe_cached(engine *e, const char *domain, probe_result *out)
{
    int hit = pcache_get(e->probe_cache, domain, out);
    if (hit)
        stats_count_cache_hit(e->figures);
    return hit;
}

void engine_note_use(engine *e, const char *domain, int source_instance)
{
    refresher_note_use(e->refresher, domain, source_instance, plat_wall_ms());
}

static void not_probed_in_time(const char *name, probe_result *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->domain, sizeof out->domain, "%s", name);
    out->status = PROBE_TIMEOUT;
    snprintf(out->error, sizeof out->error, "not probed before the message's deadline");
}

/* The probe cache's key of a smart host's result. */
static void smart_host_key(const char *smart_host, char *key, size_t len)
{
    snprintf(key, len, "smarthost:%s", smart_host);
}

/* The probe options of the settings with via's port and EHLO name (NULL:
 * the settings' own); the name goes into ehlo. */
static probe_options options_via(engine *e, const engine_probe_via *via, char ehlo[256])
{
    engine_config *cfg = engine_acquire_config(e);
    probe_options opts = probe_options_of(e, cfg);
    if (via && via->port)
        opts.port = via->port;
    /* The setting outranks the server's name: the admin chose it. */
    snprintf(ehlo, 256, "%s",
             opts.ehlo_name && *opts.ehlo_name ? opts.ehlo_name
             : via && via->ehlo_name          ? via->ehlo_name
                                              : "");
    opts.ehlo_name = ehlo;
    engine_release_config(e, cfg);
    return opts;
}

/* Probes domain (or smart_host instead of its MX hosts) by deadline_ms;
 * the result is cached under key unless the deadline cut it short (1). */
static int probe_by(engine *e, const char *domain, const char *smart_host, const char *key,
                    const engine_probe_via *via, uint64_t deadline_ms, probe_result *out)
{
    char ehlo[256];
    probe_options opts = options_via(e, via, ehlo);
    unsigned left = (unsigned)net_remaining_ms(deadline_ms);
    int clamped = left < opts.total_timeout_ms;
    if (clamped)
        opts.total_timeout_ms = (unsigned)left;
    if (left == 0) {
        not_probed_in_time(smart_host ? smart_host : domain, out);
        return 1;
    }
    if (smart_host)
        probe_smart_host(smart_host, &opts, out);
    else
        probe_domain(domain, &opts, out);
    stats_count_probe(e->figures, out->status);
    int cut = clamped && out->status == PROBE_TIMEOUT;
    if (cut) {
        snprintf(out->error, sizeof out->error, "not probed before the message's deadline");
    } else {
        probe_result keyed = *out;
        snprintf(keyed.domain, sizeof keyed.domain, "%s", key);
        pcache_put(e->probe_cache, &keyed);
    }
    return cut;
}

/* probe_by in single flight, keyed as the cache keys the answer. */
static int probe_until(engine *e, const char *domain, const char *smart_host, const char *key,
                       const engine_probe_via *via, uint64_t deadline_ms, probe_result *out)
{
    const char *name = smart_host ? smart_host : domain;
    switch (flight_ask(e->probe_flights, key, NULL, deadline_ms, out)) {
    case FLIGHT_JOINED:
        return 0;
    case FLIGHT_TIMED_OUT:
        not_probed_in_time(name, out);
        return 1;
    case FLIGHT_LEAD:
        break;
    }
    /* A flight that landed between the caller's look-up in the cache and
     * this one left its answer there (it is cached before it lands). */
    int cut = 0;
    if (pcache_get(e->probe_cache, key, out)) {
        stats_count_cache_hit(e->figures);
        snprintf(out->domain, sizeof out->domain, "%s", name);
    } else {
        cut = probe_by(e, domain, smart_host, key, via, deadline_ms, out);
    }
    flight_land(e->probe_flights, key, out, !cut);
    return cut;
}

int engine_probe_one(engine *e, const char *domain, uint64_t deadline_ms, probe_result *out)
{
    return probe_until(e, domain, NULL, domain, NULL, deadline_ms, out);
}

int engine_probe_one_via(engine *e, const char *domain, const engine_probe_via *via,
                         uint64_t deadline_ms, probe_result *out)
{
    return probe_until(e, domain, NULL, domain, via, deadline_ms, out);
}

int engine_smart_host_cached(engine *e, const char *smart_host, probe_result *out)
{
    char key[PROBE_NAME_MAX + 16];
    smart_host_key(smart_host, key, sizeof key);
    if (!pcache_get(e->probe_cache, key, out))
        return 0;
    stats_count_cache_hit(e->figures);
    snprintf(out->domain, sizeof out->domain, "%s", smart_host);
    return 1;
}

int engine_probe_smart_host(engine *e, const char *smart_host, const engine_probe_via *via,
                            uint64_t deadline_ms, probe_result *out)
{
    char key[PROBE_NAME_MAX + 16];
    smart_host_key(smart_host, key, sizeof key);
    return probe_until(e, smart_host, smart_host, key, via, deadline_ms, out);
}

/* A probe off the message path (refresh, re-check) with via's port and
 * EHLO name (NULL: the settings'), under the settings' own deadline;
 * counted as a refresh. */
static void probe_in_background(engine *e, const char *domain, const engine_probe_via *via,
                                probe_result *out)
{
    char ehlo[256];
    probe_options opts = options_via(e, via, ehlo);
    probe_domain(domain, &opts, out);
    stats_count_probe(e->figures, out->status);
    stats_count_refresh(e->figures);
}

/* How the source server a domain was last used from delivers now (its IIS
 * configuration, as route.c takes it): 0 when it sends everything to a
 * smart host, which its messages ask instead (nothing to refresh). */
static int via_of_source(engine *e, int instance, engine_probe_via *via, char fqdn[256])
{
    const iis_model *m = engine_acquire_iis(e);
    const iis_server *server = instance > 0 ? iis_model_server(m, instance) : NULL;
    int direct = !server || !iis_server_smart_host_always(server);
    memset(via, 0, sizeof *via);
    fqdn[0] = '\0';
    if (server) {
        via->port = iis_server_remote_port(server);
        snprintf(fqdn, 256, "%s", server->fqdn);
        via->ehlo_name = fqdn;
    }
    engine_release_iis(e, m);
    return direct;
}

/* The refresher's job: the domain's answer again, before it runs out, as
 * its source server's messages would probe it. It gives way: while a
 * message is probing the domain, that probe's answer goes into the cache
 * anyway. */
static void refresh_domain(void *ctx, const char *domain)
{
    engine *e = ctx;
    /* Queued a while ago: a message may have probed it since. */
    int64_t probed, expires;
    if (pcache_lifetime(e->probe_cache, domain, &probed, &expires) &&
        !refresh_is_due(probed, expires, plat_wall_ms()))
        return;
    engine_probe_via via;
    char fqdn[256];
    if (!via_of_source(e, refresher_source_of(e->refresher, domain), &via, fqdn))
        return;
    if (!flight_try_lead(e->probe_flights, domain))
        return;
    probe_result r;
    probe_in_background(e, domain, &via, &r);
    pcache_put(e->probe_cache, &r);
    flight_land(e->probe_flights, domain, &r, 1);
}

static int cached_lifetime(void *ctx, const char *domain, int64_t *probed_ms, int64_t *expires_ms)
{
    engine *e = ctx;
    return pcache_lifetime(e->probe_cache, domain, probed_ms, expires_ms);
}

/* The maintenance thread's part, every tick: the live limits, then the
 * due domains to the pool when refresh ahead is on. */
static void keep_warm(engine *e)
{
    engine_config *cfg = engine_acquire_config(e);
    refresher_set_limits(e->refresher, &cfg->refresh);
    engine_release_config(e, cfg);
    plat_mutex_lock(e->lock);
    int on = e->refresh_ahead;
    plat_mutex_unlock(e->lock);
    if (on)
        refresher_scan(e->refresher, plat_wall_ms(), cached_lifetime, refresh_domain, e);
}

void engine_set_refresh_ahead(engine *e, int on)
{
    char err[256];
    engine_config *cfg = engine_acquire_config(e);
    refresher_set_limits(e->refresher, &cfg->refresh);
    engine_release_config(e, cfg);
    if (on) {
        plat_mutex_lock(e->poll_lock);
        int rc = refresher_load(e->refresher, e->poll_db, plat_wall_ms(), err, sizeof err);
        plat_mutex_unlock(e->poll_lock);
        if (rc != 0)
            engine_log(e, LOG_WARNING, "%s", err);
    }
    plat_mutex_lock(e->lock);
    e->refresh_ahead = on != 0;
    plat_mutex_unlock(e->lock);
}

/* ---- live figures --------------------------------------------------------- */

/* Rows of processes not heard from for a day fold into one. */
#define STATS_FOLD_AFTER_MS (86400 * (int64_t)1000)

struct stats *engine_stats(engine *e) { return e->figures; }

void engine_figures(engine *e, stats_figures *out)
{
    stats_snapshot(e->figures, out);
    out->probe_joins = flight_joins(e->probe_flights);
    out->policy_joins = flight_joins(e->policy_flights);
    out->mx_shares = flight_joins(e->host_flights);
}

/* The figures counted since the last flush, and the times of use (when
 * refreshing ahead), to the database on the writer. */
static void flush_figures(engine *e)
{
    stats_figures now;
    char err[256], err2[256];
    engine_figures(e, &now);
    plat_mutex_lock(e->lock);
    int on = e->refresh_ahead;
    plat_mutex_unlock(e->lock);
    int64_t at = plat_wall_ms();
    plat_mutex_lock(e->write_lock);
    int rc = stats_flush(e->write_db, e->process_id, &now, &e->flushed, at, STATS_FOLD_AFTER_MS,
                         err, sizeof err);
    int rc2 = on ? refresher_save(e->refresher, e->write_db, at, err2, sizeof err2) : 0;
    plat_mutex_unlock(e->write_lock);
    if (rc != 0)
        engine_log(e, LOG_WARNING, "%s", err);
    if (rc2 != 0)
        engine_log(e, LOG_WARNING, "%s", err2);
}

int engine_background_wait_idle(engine *e, unsigned ms)
{
    uint64_t deadline = plat_now_ms() + ms;
    if (bgwork_wait_idle(e->background, ms) != 0)
        return -1;
    return refresher_wait_idle(e->refresher, (unsigned)net_remaining_ms(deadline));
}

static unsigned guard_settings_bits(const guard_options *o)
{
    return (o->mta_sts ? 1u : 0u) | (o->dane ? 2u : 0u);
}

int engine_policy_cached(engine *e, const char *domain, guard_result *out)
{
    engine_config *cfg = engine_acquire_config(e);
    unsigned settings = guard_settings_bits(&cfg->guard);
    engine_release_config(e, cfg);
    return policy_memo_get(e->policies, domain, settings, plat_wall_ms(), out);
}

/* ---- the expired-certificate cache heals --------------------------------- */

typedef enum { RECHECK_STILL_EXPIRED, RECHECK_NOT_EXPIRED, RECHECK_NO_ANSWER } recheck_verdict;

/* What a re-probe says about the cached fact "this domain shows an expired
 * certificate". Any answer from the server's TLS side other than an
 * expired certificate ends it (the next message decides from the fresh
 * result, which can only move the domain off the cache's "plain"); DNS,
 * connection and protocol failures tell nothing. */
static recheck_verdict recheck_verdict_of(probe_status st)
{
    switch (st) {
    case PROBE_CERT_EXPIRED:
        return RECHECK_STILL_EXPIRED;
    case PROBE_STARTTLS:
    case PROBE_NO_STARTTLS:
    case PROBE_STARTTLS_REJECTED:
    case PROBE_HANDSHAKE_FAILED:
    case PROBE_CERT_NOT_YET_VALID:
        return RECHECK_NOT_EXPIRED;
    default:
        return RECHECK_NO_ANSWER;
    }
}

static void apply_recheck(engine *e, const probe_result *r, const expcache_times *t)
{
    recheck_verdict v = recheck_verdict_of(r->status);
    char err[256];
    int rc = 0;
    if (v == RECHECK_NO_ANSWER) {
        engine_log(e, LOG_DEBUG, "expired cache: re-check of %s got no answer (%s), kept as it was",
                   r->domain, probe_status_name(r->status));
        return;
    }
    /* The probe cache first: once the entry is gone, the next message
     * must find this answer, not the stale cert-expired one. */
    pcache_put(e->probe_cache, r);
    plat_mutex_lock(e->write_lock);
    if (v == RECHECK_STILL_EXPIRED) {
        expcache_sighting s = { r->domain, r->mx, r->has_cert ? r->cert_not_after : -1,
                                r->probed_ms };
        rc = expcache_saw_expired(e->expired, e->write_db, &s, t, plat_wall_ms(), err, sizeof err);
    } else {
        rc = expcache_remove(e->expired, e->write_db, r->domain, err, sizeof err);
    }
    plat_mutex_unlock(e->write_lock);
    if (rc < 0)
        engine_log(e, LOG_ERROR, "expired cache: %s", err);
    else if (v == RECHECK_NOT_EXPIRED)
        engine_log(e, LOG_INFO, "expired cache: %s now answers %s, removed", r->domain,
                   probe_status_name(r->status));
}

/* A pool job: probe one due domain again, unless another thread or process
 * took the re-check first. */
static void recheck_expired(void *ctx, const char *domain)
{
    engine *e = ctx;
    expcache_times t;
    char err[256];
    expired_times(e, &t);
    plat_mutex_lock(e->write_lock);
    int claimed = expcache_claim_recheck(e->expired, e->write_db, domain, plat_wall_ms(),
                                         t.recheck_every_ms, err, sizeof err);
    plat_mutex_unlock(e->write_lock);
    if (claimed < 0)
        engine_log(e, LOG_ERROR, "expired cache: %s", err);
    if (claimed != 1)
        return;
    /* A message probing the domain now gives the answer. */
    engine_config *cfg = engine_acquire_config(e);
    uint64_t wait_until = plat_now_ms() + cfg->probe.opts.total_timeout_ms + 1000;
    engine_release_config(e, cfg);
    probe_result r;
    switch (flight_ask(e->probe_flights, domain, NULL, wait_until, &r)) {
    case FLIGHT_TIMED_OUT:
        return;
    case FLIGHT_LEAD:
        probe_in_background(e, domain, NULL, &r);
        flight_land(e->probe_flights, domain, &r, 1);
        break;
    case FLIGHT_JOINED:
        break;
    }
    apply_recheck(e, &r, &t);
}

/* The maintenance thread's part: hand the due re-checks to the
 * refresher's pool, within its bounds (refresh.h; a domain already queued
 * or running is dropped); the rest wait for the next scan. */
static void schedule_rechecks(engine *e)
{
    expcache_name *due = malloc(EXPIRED_SCAN_MAX * sizeof *due);
    if (!due)
        return;
    size_t n = expcache_due(e->expired, plat_wall_ms(), due, EXPIRED_SCAN_MAX);
    for (size_t i = 0; i < n; i++)
        if (refresher_submit(e->refresher, recheck_expired, e, due[i].domain) ==
            REFRESH_NO_BUDGET)
            break;
    free(due);
}

/* The look-up behind engine_policy, by its leader. */
static void look_up_policy(engine *e, const engine_config *cfg, const char *domain,
                           uint64_t deadline_ms, guard_result *out)
{
    int64_t now = plat_wall_ms();
    guard_options o = cfg->guard;
    unsigned settings = guard_settings_bits(&o);
    /* A flight that landed since the caller's miss left its answer here. */
    if (policy_memo_get(e->policies, domain, settings, now, out))
        return;
    /* The same resolvers as the probe. */
    o.dns_servers = e->dns_override[0] ? e->dns_override : cfg->probe.opts.dns_servers;
    if (e->sts_ca_file[0])
        o.sts.ca_file = e->sts_ca_file;
    if (e->sts_port)
        o.sts.port = e->sts_port;
    guard_check(e->sts, e->sts_store, domain, &o, deadline_ms, out);
    /* A look-up that failed is asked again by the next message. */
    if (!out->transient)
        policy_memo_put(e->policies, domain, settings, now, out);
}

/* A policy learnt in the background replaces a remembered "no policy" at
 * once, not within the memo's hour. */
static void forget_policy(void *memo, const char *domain)
{
    policy_memo_forget(memo, domain);
}

static void policy_not_in_time(guard_result *out)
{
    memset(out, 0, sizeof *out);
    out->policy = DECIDE_POLICY_UNKNOWN;
    out->transient = 1;
    snprintf(out->detail, sizeof out->detail,
             "MTA-STS and DANE look-ups not finished before the message's deadline");
}

decide_policy engine_policy(engine *e, const char *domain, uint64_t deadline_ms,
                            guard_result *out)
{
    engine_config *cfg = engine_acquire_config(e);
    unsigned settings = guard_settings_bits(&cfg->guard);
    if (!policy_memo_get(e->policies, domain, settings, plat_wall_ms(), out)) {
        char key[FLIGHT_KEY_MAX + 1];
        snprintf(key, sizeof key, "%u:%s", settings, domain);
        switch (flight_ask(e->policy_flights, key, NULL, deadline_ms, out)) {
        case FLIGHT_LEAD:
            look_up_policy(e, cfg, domain, deadline_ms, out);
            flight_land(e->policy_flights, key, out, 1);
            break;
        case FLIGHT_TIMED_OUT:
            policy_not_in_time(out);
            break;
        case FLIGHT_JOINED:
            break;
        }
    }
    engine_release_config(e, cfg);
    return out->policy;
}

void engine_learn_policies(engine *e, const char *const *domains, size_t n)
{
    engine_config *cfg = engine_acquire_config(e);
    if (cfg->guard.mta_sts && n > 0) {
        /* The resolvers and the deadline of the foreground guard. */
        stslearn_settings s = { e->dns_override[0] ? e->dns_override : cfg->probe.opts.dns_servers,
                                (unsigned)cfg->guard_timeout_ms };
        stslearn_offer(e->learner, domains, n, &s, plat_now_ms());
    }
    engine_release_config(e, cfg);
}

struct stslearn *engine_learner(engine *e) { return e->learner; }
expcache *engine_expcache(engine *e) { return e->expired; }
bgwork *engine_background(engine *e) { return e->background; }
const char *engine_db_path(const engine *e) { return e->db_path; }

/* ---- life cycle ------------------------------------------------------- */

/* Hand-off files a stopped process left half written (pickup.h). */
static void sweep_stale_handoffs(engine *e)
{
    for (size_t i = 0; i < e->cfg->n_rules; i++) {
        const char *dir = e->cfg->rules[i].pickup_dir;
        int n = pickup_sweep_temp(dir, plat_wall_ms(), PICKUP_STALE_TEMP_MS);
        if (n > 0)
            engine_log(e, LOG_INFO, "removed %d hand-off file(s) older than an hour left in the "
                       "temporary folder of %s", n, dir);
        else if (n < 0)
            engine_log(e, LOG_WARNING, "cannot list the temporary folder of %s", dir);
    }
}

/* "<pid>-<wall ms>-<n>": n tells apart engines one process opens in the
 * same millisecond (tests). */
static void set_process_id(engine *e)
{
    static atomic_uint opened;
    unsigned n = atomic_fetch_add(&opened, 1) + 1;
    snprintf(e->process_id, sizeof e->process_id, "%lu-%lld-%u", plat_pid(),
             (long long)plat_wall_ms(), n);
}

int engine_open(const char *db_path, engine **out, char *err, size_t errlen)
{
    *out = NULL;
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        errtext_set(err, errlen, "out of memory");
        return -1;
    }
    snprintf(e->db_path, sizeof e->db_path, "%s", db_path);
    e->log_level = (int)default_log_level();
    set_process_id(e);
    e->lock = plat_mutex_new();
    e->poll_lock = plat_mutex_new();
    e->write_lock = plat_mutex_new();
    e->expired = expcache_new();
    e->policies = policy_memo_new();
    e->sts = stscache_new();
    e->background = bgwork_new(ENGINE_BACKGROUND_THREADS, ENGINE_BACKGROUND_QUEUE);
    e->iis = iis_model_empty("IIS's configuration has not been read yet");
    if (e->iis)
        e->iis->refs = 1;
    e->learner = e->background && e->sts ? stslearn_new(e->background, e->sts, db_path) : NULL;
    if (e->learner && e->policies)
        stslearn_on_learnt(e->learner, forget_policy, e->policies);
    e->probe_flights = flight_new(sizeof(probe_result), 0);
    e->policy_flights = flight_new(sizeof(guard_result), 0);
    e->host_flights = probe_host_flights_new();
    e->refresher = refresher_new();
    e->figures = stats_new();
    if (!e->lock || !e->poll_lock || !e->write_lock || !e->expired || !e->policies ||
        !e->sts || !e->background || !e->learner || !e->iis || !e->probe_flights ||
        !e->policy_flights || !e->host_flights || !e->refresher || !e->figures) {
        errtext_set(err, errlen, "out of memory");
        engine_close(e);
        return -1;
    }
    if (store_open(db_path, &e->write_store, err, errlen) != STORE_OK ||
        store_open(db_path, &e->poll_store, err, errlen) != STORE_OK ||
        store_open(db_path, &e->probe_store, err, errlen) != STORE_OK ||
        store_open(db_path, &e->sts_store, err, errlen) != STORE_OK) {
        engine_close(e);
        return -1;
    }
    /* Its lifetimes come with the configuration: set once it is loaded
     * below, and again by install_config on every reload. */
    e->probe_cache = pcache_new(store_db(e->probe_store), NULL);
    if (!e->probe_cache) {
        errtext_set(err, errlen, "out of memory");
        engine_close(e);
        return -1;
    }
    e->write_db = store_db(e->write_store);
    e->poll_db = store_db(e->poll_store);
    if (!(e->journal = journal_open(e->write_db, err, errlen))) {
        engine_close(e);
        return -1;
    }
    e->cfg = config_load(e->poll_store, err, errlen);
    if (!e->cfg || expcache_load(e->expired, e->poll_db, plat_wall_ms(), err, errlen) != 0) {
        engine_close(e);
        return -1;
    }
    apply_retention(e, e->cfg);
    pcache_set_ttls(e->probe_cache, &e->cfg->probe_ttls);
    e->log_level = (int)e->cfg->log_level;
    sweep_stale_handoffs(e);
    /* Checkpoints are the maintenance thread's job, off the routing path. */
    sqlite3_wal_autocheckpoint(e->write_db, 0);
    e->maintenance = plat_thread_start(maintain, e);
    if (!e->maintenance) {
        errtext_set(err, errlen, "cannot start the engine's maintenance thread");
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
    /* Background jobs use the stores below: they end first. */
    bgwork_free(e->background);
    refresher_stop(e->refresher);
    if (e->maintenance)
        flush_figures(e); /* what the last tick did not write */
    refresher_free(e->refresher);
    stslearn_free(e->learner);
    journal_close(e->journal);
    pcache_free(e->probe_cache);
    store_close(e->probe_store);
    store_close(e->sts_store);
    stscache_free(e->sts);
    store_close(e->write_store);
    store_close(e->poll_store);
    if (e->cfg && --e->cfg->refs == 0)
        config_free(e->cfg);
    expcache_free(e->expired);
    policy_memo_free(e->policies);
    flight_free(e->probe_flights);
    flight_free(e->policy_flights);
    flight_free(e->host_flights);
    stats_free(e->figures);
    if (e->iis && --e->iis->refs == 0)
        iis_model_free(e->iis);
    plat_mutex_free(e->lock);
    plat_mutex_free(e->poll_lock);
    plat_mutex_free(e->write_lock);
    free(e);
}
