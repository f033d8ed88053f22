/* stscache: MTA-STS policies in memory and in sts_policy (see stscache.h). */
#include "stscache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "net.h"
#include "plat.h"

typedef struct {
    char domain[DOMAIN_BUF];
    char id[MTASTS_ID_MAX + 1];
    mtasts_policy policy;
    int64_t fetched_ms, expires_ms;
} entry;

struct stscache {
    plat_mutex *lock;
    entry *entries;           /* grows on demand up to STSCACHE_MAX_ENTRIES */
    size_t count, cap;
};

stscache *stscache_new(void)
{
    stscache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->lock = plat_mutex_new();
    if (!c->lock) {
        stscache_free(c);
        return NULL;
    }
    return c;
}

void stscache_free(stscache *c)
{
    if (!c)
        return;
    plat_mutex_free(c->lock);
    free(c->entries);
    free(c);
}

/* ---- memory ------------------------------------------------------------ */

static int mem_get(stscache *c, const char *domain, entry *out)
{
    int found = 0;
    plat_mutex_lock(c->lock);
    for (size_t i = 0; i < c->count && !found; i++)
        if (strcmp(c->entries[i].domain, domain) == 0) {
            *out = c->entries[i];
            found = 1;
        }
    plat_mutex_unlock(c->lock);
    return found;
}

/* Room for one more entry; 0 when there is (the lock is held). */
static int mem_grow(stscache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 16;
    entry *bigger;
    if (c->count < c->cap)
        return 0;
    if (c->cap == STSCACHE_MAX_ENTRIES)
        return -1;
    if (cap > STSCACHE_MAX_ENTRIES)
        cap = STSCACHE_MAX_ENTRIES;
    bigger = realloc(c->entries, cap * sizeof *bigger);
    if (!bigger)
        return -1;
    c->entries = bigger;
    c->cap = cap;
    return 0;
}

/* Replace the domain's entry; when full (or memory is short), the one
 * expiring first goes. */
static void mem_put(stscache *c, const entry *e)
{
    size_t slot = c->count, soonest = 0;
    plat_mutex_lock(c->lock);
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->entries[i].domain, e->domain) == 0) {
            slot = i;
            break;
        }
        if (c->entries[i].expires_ms < c->entries[soonest].expires_ms)
            soonest = i;
    }
    if (slot == c->count) {
        if (mem_grow(c) == 0)
            c->count++;
        else if (c->count > 0)
            slot = soonest;
        else
            slot = SIZE_MAX;
    }
    if (slot != SIZE_MAX)
        c->entries[slot] = *e;
    plat_mutex_unlock(c->lock);
}

int stscache_clear(stscache *c, store *db)
{
    if (c) {
        plat_mutex_lock(c->lock);
        c->count = 0;
        plat_mutex_unlock(c->lock);
    }
    if (!db)
        return 0;
    if (sqlite3_exec(store_db(db), "DELETE FROM sts_policy", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return sqlite3_changes(store_db(db));
}

static void row_text(sqlite3_stmt *q, int col, char *dst, size_t len)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static void list_fail(sqlite3 *sql, int rc, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "MTA-STS policies: %s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(sql));
}

int stscache_list(store *db, stscache_row **out, size_t *n, char *err, size_t errlen)
{
    sqlite3 *sql = store_db(db);
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = sqlite3_prepare_v2(sql, "SELECT domain, id, mode, max_age, fetched_ms, expires_ms"
                                      " FROM sts_policy ORDER BY domain", -1, &q, NULL))
        != SQLITE_OK) {
        list_fail(sql, rc, err, errlen);
        return -1;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            stscache_row *grown = realloc(*out, ncap * sizeof *grown);
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = grown;
            cap = ncap;
        }
        stscache_row *r = &(*out)[(*n)++];
        memset(r, 0, sizeof *r);
        row_text(q, 0, r->domain, sizeof r->domain);
        row_text(q, 1, r->id, sizeof r->id);
        row_text(q, 2, r->mode, sizeof r->mode);
        r->max_age = sqlite3_column_int64(q, 3);
        r->fetched_ms = sqlite3_column_int64(q, 4);
        r->expires_ms = sqlite3_column_int64(q, 5);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        list_fail(sql, rc, err, errlen);
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* ---- database ---------------------------------------------------------- */

static int db_get(store *db, const char *domain, entry *out)
{
    sqlite3_stmt *q = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(store_db(db),
                           "SELECT id, mode, mx_patterns, max_age, fetched_ms, expires_ms "
                           "FROM sts_policy WHERE domain = ?1", -1, &q, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        const char *mode = (const char *)sqlite3_column_text(q, 1);
        const char *mx = (const char *)sqlite3_column_text(q, 2);
        memset(out, 0, sizeof *out);
        snprintf(out->domain, sizeof out->domain, "%s", domain);
        snprintf(out->id, sizeof out->id, "%s", id ? id : "");
        out->policy.max_age = (uint32_t)sqlite3_column_int64(q, 3);
        out->fetched_ms = sqlite3_column_int64(q, 4);
        out->expires_ms = sqlite3_column_int64(q, 5);
        /* A row this program would not have written is ignored. */
        found = mode && mtasts_mode_parse(mode, &out->policy.mode) == 0 &&
                mtasts_mx_split(mx ? mx : "", &out->policy) == 0;
    }
    sqlite3_finalize(q);
    return found;
}

static void db_put(store *db, const entry *e)
{
    sqlite3_stmt *q = NULL;
    char mx[MTASTS_MX_MAX * DOMAIN_BUF];
    if (mtasts_mx_join(&e->policy, mx, sizeof mx) != 0 ||
        sqlite3_prepare_v2(store_db(db),
                           "INSERT OR REPLACE INTO sts_policy (domain, id, mode, "
                           "mx_patterns, max_age, fetched_ms, expires_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &q, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(q, 1, e->domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, mtasts_mode_name(e->policy.mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, mx, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, e->policy.max_age);
    sqlite3_bind_int64(q, 6, e->fetched_ms);
    sqlite3_bind_int64(q, 7, e->expires_ms);
    /* A busy or read-only database only costs a refetch after a restart. */
    sqlite3_step(q);
    sqlite3_finalize(q);
}

/* ---- look-up ----------------------------------------------------------- */

static int cached_get(stscache *c, store *db, const char *domain, int64_t now_ms,
                      entry *out)
{
    if (!mem_get(c, domain, out)) {
        if (!db || !db_get(db, domain, out))
            return 0;
        mem_put(c, out);
    }
    return out->expires_ms > now_ms;
}

static void use_entry(const entry *e, stscache_result *out)
{
    out->status = MTASTS_OK;
    snprintf(out->id, sizeof out->id, "%s", e->id);
    out->policy = e->policy;
    out->expires_ms = e->expires_ms;
}

static mtasts_status fetch_and_store(stscache *c, store *db, const char *domain,
                                     const mtasts_options *opt, const char *id,
                                     int64_t now_ms, stscache_result *out)
{
    entry e;
    mtasts_status st;
    memset(&e, 0, sizeof e);
    st = mtasts_fetch(domain, opt, &e.policy, out->error, sizeof out->error);
    out->fetched = 1;
    if (st != MTASTS_OK)
        return st;
    snprintf(e.domain, sizeof e.domain, "%s", domain);
    snprintf(e.id, sizeof e.id, "%s", id);
    e.fetched_ms = now_ms;
    e.expires_ms = now_ms + (int64_t)e.policy.max_age * 1000;
    mem_put(c, &e);
    if (db)
        db_put(db, &e);
    use_entry(&e, out);
    return MTASTS_OK;
}

mtasts_status stscache_lookup(stscache *c, store *db, const char *domain,
                              const mtasts_options *opt, int64_t now_ms,
                              stscache_result *out)
{
    entry cached;
    mtasts_txt txt;
    unsigned timeout = opt->timeout_ms ? opt->timeout_ms : MTASTS_TIMEOUT_MS;
    int have = cached_get(c, db, domain, now_ms, &cached);
    uint64_t deadline = plat_now_ms() + timeout;
    mtasts_options fetch_opt = *opt;
    mtasts_status st;

    memset(out, 0, sizeof *out);
    st = mtasts_discover(domain, opt, deadline, &txt, out->error, sizeof out->error);
    if (st == MTASTS_OK) {
        if (have && strcmp(cached.id, txt.id) == 0) {
            use_entry(&cached, out);
            return out->status;
        }
        /* Discovery and fetch share the one deadline. */
        fetch_opt.timeout_ms = (unsigned)net_remaining_ms(deadline);
        if (fetch_opt.timeout_ms == 0)
            fetch_opt.timeout_ms = 1;
        st = fetch_and_store(c, db, domain, &fetch_opt, txt.id, now_ms, out);
        if (st == MTASTS_OK)
            return MTASTS_OK;
    }
    /* No record, no answer, or the new policy could not be had: an
     * unexpired policy stays in force (RFC 8461 5.1); error keeps why. */
    if (have) {
        use_entry(&cached, out);
        return MTASTS_OK;
    }
    out->status = st;
    return st;
}
