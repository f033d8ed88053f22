/* pcache: the probe cache (see pcache.h). A chained hash table under one
 * mutex in front of the probe_cache table. The mutex guards memory only and
 * is never held across SQLite: a write can wait seconds for another
 * process's transaction (the busy timeout), and every routing thread's
 * cache hit would wait behind it. Writes and clears take db_lock instead,
 * and an epoch bumped by each clear keeps a result read or written before
 * a clear from coming back after it. */
#include "pcache.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "settings.h"

#define PCACHE_BUCKETS 1024
/* Entries expire lazily (when a look-up walks past them); past this many,
 * an insert sweeps the whole table, so a long-running service holds only
 * live entries plus at most this many. */
#define PCACHE_SWEEP_AT 50000

typedef struct entry {
    struct entry *next;
    int64_t expires_ms;
    probe_result result;
} entry;

struct pcache {
    plat_mutex *lock;          /* the table in memory, count, epoch */
    plat_mutex *db_lock;       /* orders database writes against clears */
    uint64_t epoch;            /* changed under both locks by pcache_clear */
    sqlite3 *db;
    pcache_ttls ttls;
    int64_t (*now_ms)(void);
    size_t count;
    entry *buckets[PCACHE_BUCKETS];
};

void pcache_ttls_default(pcache_ttls *t)
{
    t->starttls_s = SETTING_DEFAULT_ttl_starttls_s;
    t->no_starttls_s = SETTING_DEFAULT_ttl_no_starttls_s;
    t->failure_s = SETTING_DEFAULT_ttl_failure_s;
}

static void load_setting(sqlite3 *db, const char *key, unsigned *value, int *rc)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = ?1", -1, &st, NULL)
        != SQLITE_OK) {
        *rc = -1;
        return;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        if (v >= 0 && v <= 0x7fffffff) /* 0: do not keep */
            *value = (unsigned)v;
    }
    sqlite3_finalize(st);
}

int pcache_ttls_load(sqlite3 *db, pcache_ttls *t)
{
    int rc = 0;
    load_setting(db, "ttl_starttls_s", &t->starttls_s, &rc);
    load_setting(db, "ttl_no_starttls_s", &t->no_starttls_s, &rc);
    load_setting(db, "ttl_failure_s", &t->failure_s, &rc);
    return rc;
}

unsigned pcache_ttl_for(const pcache_ttls *t, probe_status s)
{
    switch (s) {
    case PROBE_STARTTLS: return t->starttls_s;
    case PROBE_NO_STARTTLS:
    case PROBE_STARTTLS_REJECTED:
    case PROBE_CERT_NOT_YET_VALID:
    case PROBE_HANDSHAKE_FAILED: return t->no_starttls_s;
    /* One sighting of an expired certificate (perhaps an attacker's) must
     * not pin the domain plain for hours: like the expired-certificate
     * cache's first sighting, it is kept for the failure TTL, and a probe
     * after that confirms or clears it. */
    case PROBE_CERT_EXPIRED: return t->failure_s;
    default: return t->failure_s;
    }
}

static int64_t wall_clock(void) { return plat_wall_ms(); }

pcache *pcache_new(sqlite3 *db, const pcache_ttls *ttls)
{
    pcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->lock = plat_mutex_new();
    c->db_lock = plat_mutex_new();
    if (!c->lock || !c->db_lock) {
        plat_mutex_free(c->lock);
        plat_mutex_free(c->db_lock);
        free(c);
        return NULL;
    }
    c->db = db;
    if (ttls)
        c->ttls = *ttls;
    else
        pcache_ttls_default(&c->ttls);
    c->now_ms = wall_clock;
    return c;
}

static void drop_all(pcache *c)
{
    size_t i;
    for (i = 0; i < PCACHE_BUCKETS; i++) {
        entry *e = c->buckets[i];
        while (e) {
            entry *next = e->next;
            free(e);
            e = next;
        }
        c->buckets[i] = NULL;
    }
    c->count = 0;
}

void pcache_free(pcache *c)
{
    if (!c)
        return;
    drop_all(c);
    plat_mutex_free(c->lock);
    plat_mutex_free(c->db_lock);
    free(c);
}

void pcache_set_ttls(pcache *c, const pcache_ttls *ttls)
{
    plat_mutex_lock(c->lock);
    c->ttls = *ttls;
    plat_mutex_unlock(c->lock);
}

void pcache_set_clock(pcache *c, int64_t (*now_ms)(void))
{
    c->now_ms = now_ms ? now_ms : wall_clock;
}

/* Domains are keyed in lower case: the cache must not care how a recipient
 * spelled the domain. */
static void domain_key(const char *domain, char *key)
{
    size_t i;
    for (i = 0; domain[i] && i < PROBE_NAME_MAX - 1; i++) {
        char ch = domain[i];
        key[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    key[i] = '\0';
}

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % PCACHE_BUCKETS;
}

/* The live entry for key; expired ones met on the way are unlinked. */
static entry *find(pcache *c, const char *key, int64_t now)
{
    entry **link = &c->buckets[bucket_of(key)];
    while (*link) {
        entry *e = *link;
        if (e->expires_ms <= now) {
            *link = e->next;
            free(e);
            c->count--;
            continue;
        }
        if (strcmp(e->result.domain, key) == 0)
            return e;
        link = &e->next;
    }
    return NULL;
}

static void sweep_expired(pcache *c, int64_t now)
{
    size_t i;
    for (i = 0; i < PCACHE_BUCKETS; i++) {
        entry **link = &c->buckets[i];
        while (*link) {
            entry *e = *link;
            if (e->expires_ms <= now) {
                *link = e->next;
                free(e);
                c->count--;
            } else {
                link = &e->next;
            }
        }
    }
}

static void remember(pcache *c, const char *key, const probe_result *r, int64_t expires)
{
    int64_t now = c->now_ms();
    entry *e = find(c, key, now);
    if (!e) {
        size_t b = bucket_of(key);
        if (c->count >= PCACHE_SWEEP_AT)
            sweep_expired(c, now);
        e = malloc(sizeof *e);
        if (!e)
            return; /* memory is only the fast path; the database still has it */
        e->next = c->buckets[b];
        c->buckets[b] = e;
        c->count++;
    }
    e->result = *r;
    snprintf(e->result.domain, sizeof e->result.domain, "%s", key);
    e->expires_ms = expires;
}

static void column_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

/* The status column, read once per row: 0 and *out when it holds a
 * probe's outcome; -1 for anything else (NULL, "", a word a newer version
 * wrote). */
static int stored_status(sqlite3_stmt *st, int col, probe_status *out)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    if (!text || probe_status_parse((const char *)text, out) != 0)
        return -1;
    return probe_status_is_outcome(*out) ? 0 : -1;
}

/* Read a live row into out; 1 found, 0 not. */
static int db_load(pcache *c, const char *key, int64_t now, probe_result *out,
                   int64_t *expires)
{
    static const char sql[] =
        "SELECT status, mx, address, tls_version, cipher, cert_not_after, error,"
        " elapsed_ms, expires_ms, probed_ms FROM probe_cache WHERE domain = ?1 AND expires_ms > ?2";
    sqlite3_stmt *st = NULL;
    probe_status status;
    int found = 0;
    if (!c->db || sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    /* A row with a status we do not know (a newer version wrote it) is a
     * miss: probing again is always safe. */
    if (sqlite3_step(st) == SQLITE_ROW && stored_status(st, 0, &status) == 0) {
        memset(out, 0, sizeof *out);
        out->status = status;
        snprintf(out->domain, sizeof out->domain, "%s", key);
        column_text(st, 1, out->mx, sizeof out->mx);
        column_text(st, 2, out->address, sizeof out->address);
        column_text(st, 3, out->tls_version, sizeof out->tls_version);
        column_text(st, 4, out->cipher, sizeof out->cipher);
        out->has_cert = sqlite3_column_type(st, 5) != SQLITE_NULL;
        out->cert_not_after = out->has_cert ? sqlite3_column_int64(st, 5) : 0;
        column_text(st, 6, out->error, sizeof out->error);
        out->elapsed_ms = (unsigned)sqlite3_column_int64(st, 7);
        *expires = sqlite3_column_int64(st, 8);
        out->probed_ms = sqlite3_column_int64(st, 9);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

static int db_store(pcache *c, const char *key, const probe_result *r, int64_t now,
                    int64_t expires)
{
    /* Two threads' results for one domain may reach the database in the
     * other order than memory: the older probe never replaces the newer. */
    static const char sql[] =
        "INSERT INTO probe_cache (domain, status, mx, address, tls_version,"
        " cipher, cert_not_after, error, elapsed_ms, probed_ms, expires_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT (domain) DO UPDATE SET status = excluded.status, mx = excluded.mx,"
        " address = excluded.address, tls_version = excluded.tls_version,"
        " cipher = excluded.cipher, cert_not_after = excluded.cert_not_after,"
        " error = excluded.error, elapsed_ms = excluded.elapsed_ms,"
        " probed_ms = excluded.probed_ms, expires_ms = excluded.expires_ms"
        " WHERE excluded.probed_ms >= probe_cache.probed_ms";
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c->db)
        return 0;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, probe_status_name(r->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->mx, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->tls_version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->cipher, -1, SQLITE_STATIC);
    if (r->has_cert && !r->cert_not_after_unreadable)
        sqlite3_bind_int64(st, 7, r->cert_not_after);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 8, r->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, r->elapsed_ms);
    sqlite3_bind_int64(st, 10, r->probed_ms > 0 ? r->probed_ms : now); /* the probe's own time */
    sqlite3_bind_int64(st, 11, expires);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* pcache_get, and when the entry expires. */
static int get_entry(pcache *c, const char *domain, probe_result *out, int64_t *expires)
{
    char key[PROBE_NAME_MAX];
    int64_t now;
    uint64_t epoch;
    entry *e;
    domain_key(domain, key);
    plat_mutex_lock(c->lock);
    now = c->now_ms();
    e = find(c, key, now);
    if (e) {
        *out = e->result;
        *expires = e->expires_ms;
    }
    epoch = c->epoch;
    plat_mutex_unlock(c->lock);
    if (e)
        return 1;
    if (!db_load(c, key, now, out, expires))
        return 0;
    /* Memory may have moved on while the row was read: a newer result put
     * meanwhile wins, and a row read before a clear is not brought back. */
    int hit = 1;
    plat_mutex_lock(c->lock);
    if ((e = find(c, key, now)) != NULL) {
        *out = e->result;
        *expires = e->expires_ms;
    } else if (c->epoch == epoch) {
        remember(c, key, out, *expires);
    } else {
        hit = 0;
    }
    plat_mutex_unlock(c->lock);
    return hit;
}

int pcache_get(pcache *c, const char *domain, probe_result *out)
{
    int64_t expires;
    return get_entry(c, domain, out, &expires);
}

int pcache_lifetime(pcache *c, const char *domain, int64_t *probed_ms, int64_t *expires_ms)
{
    probe_result r;
    if (!get_entry(c, domain, &r, expires_ms))
        return 0;
    *probed_ms = r.probed_ms > 0 && r.probed_ms <= *expires_ms ? r.probed_ms : *expires_ms;
    return 1;
}

int pcache_put(pcache *c, const probe_result *r)
{
    char key[PROBE_NAME_MAX];
    int64_t now, expires;
    uint64_t epoch;
    int rc = 0;
    domain_key(r->domain, key);
    plat_mutex_lock(c->lock);
    now = c->now_ms();
    expires = now + (int64_t)pcache_ttl_for(&c->ttls, r->status) * 1000;
    remember(c, key, r, expires);
    epoch = c->epoch;
    plat_mutex_unlock(c->lock);
    /* A clear that came between the two halves forgot this result in
     * memory: the database must not keep it either. */
    plat_mutex_lock(c->db_lock);
    if (c->epoch == epoch)
        rc = db_store(c, key, r, now, expires);
    plat_mutex_unlock(c->db_lock);
    return rc;
}

static int db_exec_at(sqlite3 *db, const char *sql, int64_t now)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, now);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int pcache_clear(pcache *c, int expired_only)
{
    int rc = 0;
    int64_t now;
    plat_mutex_lock(c->db_lock);
    plat_mutex_lock(c->lock);
    now = c->now_ms();
    if (expired_only)
        sweep_expired(c, now);
    else
        drop_all(c);
    c->epoch++;
    plat_mutex_unlock(c->lock);
    if (c->db)
        rc = expired_only
                 ? db_exec_at(c->db, "DELETE FROM probe_cache WHERE expires_ms <= ?1", now)
                 : db_exec_at(c->db, "DELETE FROM probe_cache", 0);
    plat_mutex_unlock(c->db_lock);
    return rc;
}

static void read_entry(sqlite3_stmt *st, pcache_entry *e)
{
    memset(e, 0, sizeof *e);
    column_text(st, 0, e->domain, sizeof e->domain);
    if (stored_status(st, 1, &e->status) != 0) {
        e->status = PROBE_UNKNOWN;
        column_text(st, 1, e->unknown_status, sizeof e->unknown_status);
    }
    column_text(st, 2, e->mx, sizeof e->mx);
    column_text(st, 3, e->address, sizeof e->address);
    column_text(st, 4, e->tls_version, sizeof e->tls_version);
    column_text(st, 5, e->cipher, sizeof e->cipher);
    e->cert_not_after = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
    column_text(st, 7, e->error, sizeof e->error);
    e->elapsed_ms = (unsigned)sqlite3_column_int64(st, 8);
    e->probed_ms = sqlite3_column_int64(st, 9);
    e->expires_ms = sqlite3_column_int64(st, 10);
}

const char *pcache_entry_status(const pcache_entry *e)
{
    return e->status == PROBE_UNKNOWN ? e->unknown_status : probe_status_name(e->status);
}

static void list_fail(sqlite3 *db, int rc, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "probe cache: %s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
}

int pcache_list(sqlite3 *db, pcache_order order, pcache_entry **out, size_t *n,
                char *err, size_t errlen)
{
    static const char select[] =
        "SELECT domain, status, mx, address, tls_version, cipher, cert_not_after, error,"
        " elapsed_ms, probed_ms, expires_ms FROM probe_cache ";
    char sql[sizeof select + 48];
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    snprintf(sql, sizeof sql, "%s%s", select,
             order == PCACHE_NEWEST_FIRST ? "ORDER BY probed_ms DESC, domain" : "ORDER BY domain");
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK) {
        list_fail(db, rc, err, errlen);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            pcache_entry *grown = realloc(*out, ncap * sizeof *grown);
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = grown;
            cap = ncap;
        }
        read_entry(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        list_fail(db, rc, err, errlen);
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

size_t pcache_size(pcache *c)
{
    size_t n;
    plat_mutex_lock(c->lock);
    n = c->count;
    plat_mutex_unlock(c->lock);
    return n;
}

void pcache_probe_many(pcache *c, const char *const *domains, size_t n,
                       const probe_options *opts, probe_result *out, int *from_cache)
{
    const char **misses = calloc(n ? n : 1, sizeof *misses);
    size_t *where = malloc((n ? n : 1) * sizeof *where);
    probe_result *fresh = malloc((n ? n : 1) * sizeof *fresh);
    size_t i, nmiss = 0;

    if (!misses || !where || !fresh) {
        /* Out of memory: probe without the cache rather than not at all. */
        probe_many(domains, n, opts, out);
        if (from_cache)
            memset(from_cache, 0, n * sizeof *from_cache);
        goto done;
    }
    for (i = 0; i < n; i++) {
        int hit = pcache_get(c, domains[i], &out[i]);
        if (from_cache)
            from_cache[i] = hit;
        if (!hit) {
            misses[nmiss] = domains[i];
            where[nmiss++] = i;
        }
    }
    probe_many(misses, nmiss, opts, fresh);
    for (i = 0; i < nmiss; i++) {
        out[where[i]] = fresh[i];
        pcache_put(c, &fresh[i]);
    }
done:
    free(misses);
    free(where);
    free(fresh);
}
