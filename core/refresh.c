/* refresh: the table of uses is a fixed array of buckets (no resizing, so
 * the message path never pays for one), each use allocated once with its
 * name. The scan copies a batch of candidates under the lock and asks the
 * probe cache about them without it, since that may read the database. */
#include "refresh.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

#define USE_BUCKETS 4096
#define DAY_MS (86400 * (int64_t)1000)
/* A use moves its row only when it is this much newer than the row. */
#define SAVE_STEP_MS (3600 * (int64_t)1000)
/* Rows written per save, so one save never holds the writer long. */
#define SAVE_BATCH 2000
/* Domains looked at per scan; the next scan goes on from there. */
#define SCAN_BATCH 4096
/* A domain just handed to the pool is looked at again this much later:
 * by then its fresh answer is normally in the cache. */
#define LOOK_AGAIN_MS 1000
/* The token bucket holds this many milliseconds of the rate. */
#define BURST_MS 5000
/* Jobs waiting for one of the refresh_concurrency places: a scan's worth. */
#define POOL_QUEUE 4096

typedef struct use {
    struct use *next;
    int64_t last_used_ms;
    int64_t saved_ms;        /* last_used_ms as last written; 0: never */
    int64_t next_look_ms;    /* the scan's next look */
    int64_t last_refresh_ms; /* last handed to the pool; 0: never */
    int source;              /* the virtual server of the last use; 0: unknown */
    char domain[];
} use;

struct refresher {
    plat_mutex *lock;         /* the table, the cursor, the limits, the bucket */
    use *buckets[USE_BUCKETS];
    size_t count;
    size_t cursor;            /* the bucket the next scan starts at */
    refresh_limits limits;
    double tokens;
    uint64_t tokens_at;       /* plat_now_ms of the last refill */
    bgwork *pool;             /* started by the first job */
    int stopping;
};

refresher *refresher_new(void)
{
    refresher *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!(r->lock = plat_mutex_new())) {
        free(r);
        return NULL;
    }
    r->limits = (refresh_limits){ 7, 4, 600 };
    r->tokens_at = plat_now_ms();
    r->tokens = 1e18; /* a full bucket: the first refill caps it */
    return r;
}

void refresher_stop(refresher *r)
{
    if (!r)
        return;
    plat_mutex_lock(r->lock);
    r->stopping = 1;
    bgwork *pool = r->pool;
    r->pool = NULL;
    plat_mutex_unlock(r->lock);
    bgwork_free(pool);
}

void refresher_free(refresher *r)
{
    if (!r)
        return;
    refresher_stop(r);
    for (size_t i = 0; i < USE_BUCKETS; i++) {
        use *u = r->buckets[i];
        while (u) {
            use *next = u->next;
            free(u);
            u = next;
        }
    }
    plat_mutex_free(r->lock);
    free(r);
}

void refresher_set_limits(refresher *r, const refresh_limits *l)
{
    plat_mutex_lock(r->lock);
    unsigned was = r->limits.concurrency;
    r->limits = *l;
    if (r->limits.window_days < 1)
        r->limits.window_days = 1;
    if (r->limits.concurrency < 1)
        r->limits.concurrency = 1;
    if (r->limits.concurrency > REFRESH_CONCURRENCY_MAX)
        r->limits.concurrency = REFRESH_CONCURRENCY_MAX;
    if (r->limits.per_minute < 1)
        r->limits.per_minute = 1;
    if (r->pool && r->limits.concurrency != was)
        bgwork_set_max_running(r->pool, r->limits.concurrency);
    plat_mutex_unlock(r->lock);
}

/* ---- uses ------------------------------------------------------------------ */

static size_t bucket_of(const char *domain)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *domain; domain++)
        h = (h ^ (unsigned char)*domain) * 16777619u;
    return h % USE_BUCKETS;
}

static use *find(refresher *r, const char *domain)
{
    for (use *u = r->buckets[bucket_of(domain)]; u; u = u->next)
        if (strcmp(u->domain, domain) == 0)
            return u;
    return NULL;
}

/* With the lock held; NULL when full or out of memory. */
static use *add_use(refresher *r, const char *domain)
{
    size_t len = strlen(domain);
    if (r->count >= REFRESH_DOMAINS_MAX || len == 0 || len > BGWORK_KEY_MAX)
        return NULL;
    use *u = calloc(1, sizeof *u + len + 1);
    if (!u)
        return NULL;
    memcpy(u->domain, domain, len + 1);
    size_t b = bucket_of(domain);
    u->next = r->buckets[b];
    r->buckets[b] = u;
    r->count++;
    return u;
}

void refresher_note_use(refresher *r, const char *domain, int source, int64_t now_ms)
{
    plat_mutex_lock(r->lock);
    use *u = find(r, domain);
    if (!u)
        u = add_use(r, domain);
    if (u && now_ms >= u->last_used_ms) {
        u->last_used_ms = now_ms;
        u->source = source;
    }
    plat_mutex_unlock(r->lock);
}

int refresher_source_of(refresher *r, const char *domain)
{
    plat_mutex_lock(r->lock);
    use *u = find(r, domain);
    int source = u ? u->source : 0;
    plat_mutex_unlock(r->lock);
    return source;
}

size_t refresher_domains(refresher *r)
{
    plat_mutex_lock(r->lock);
    size_t n = r->count;
    plat_mutex_unlock(r->lock);
    return n;
}

/* ---- the pool and its bounds ------------------------------------------------ */

static void refill(refresher *r, uint64_t now)
{
    double per_ms = r->limits.per_minute / 60000.0;
    double cap = per_ms * BURST_MS;
    if (cap < 1)
        cap = 1;
    r->tokens += (double)(now - r->tokens_at) * per_ms;
    if (r->tokens > cap)
        r->tokens = cap;
    r->tokens_at = now;
}

refresh_submit_status refresher_submit(refresher *r, bgwork_fn fn, void *ctx, const char *key)
{
    refresh_submit_status st = REFRESH_NO_BUDGET;
    plat_mutex_lock(r->lock);
    refill(r, plat_now_ms());
    /* As many threads as may run at once: every thread a probe runs on
     * keeps allocator and TLS library state, so fewer threads, less memory. */
    if (!r->pool && !r->stopping)
        r->pool = bgwork_new(r->limits.concurrency, POOL_QUEUE);
    /* Queued as the rate allows; the pool runs refresh_concurrency at once. */
    if (r->pool && r->tokens >= 1) {
        bgwork_status b = bgwork_submit(r->pool, fn, ctx, key);
        if (b == BGWORK_QUEUED) {
            r->tokens -= 1;
            st = REFRESH_STARTED;
        } else if (b == BGWORK_DUPLICATE) {
            st = REFRESH_BUSY;
        }
    }
    plat_mutex_unlock(r->lock);
    return st;
}

int refresher_wait_idle(refresher *r, unsigned ms)
{
    plat_mutex_lock(r->lock);
    bgwork *pool = r->pool;
    plat_mutex_unlock(r->lock);
    return pool ? bgwork_wait_idle(pool, ms) : 0;
}

/* ---- the scan -------------------------------------------------------------- */

typedef struct {
    char domain[BGWORK_KEY_MAX + 1];
    int64_t last_refresh_ms;
    int64_t next_look_ms; /* what the scan decided */
    int64_t refreshed_ms; /* handed to the pool at; 0: not */
} candidate;

/* Unlinks the uses older than the window; copies up to max whose look is
 * due into out, from the cursor on. With the lock held. */
static size_t collect(refresher *r, int64_t now_ms, candidate *out, size_t max)
{
    int64_t cutoff = now_ms - r->limits.window_days * DAY_MS;
    size_t n = 0;
    for (size_t k = 0; k < USE_BUCKETS && n < max; k++) {
        size_t b = (r->cursor + k) % USE_BUCKETS;
        for (use **link = &r->buckets[b]; *link;) {
            use *u = *link;
            if (u->last_used_ms < cutoff) {
                *link = u->next;
                free(u);
                r->count--;
                continue;
            }
            if (u->next_look_ms <= now_ms && n < max) {
                memcpy(out[n].domain, u->domain, strlen(u->domain) + 1);
                out[n].last_refresh_ms = u->last_refresh_ms;
                out[n].refreshed_ms = 0;
                n++;
            }
            link = &u->next;
        }
        if (n == max)
            r->cursor = b;
    }
    return n;
}

/* The decisions back into the table (a use may have gone meanwhile only
 * through a scan, and scans run on one thread). */
static void record(refresher *r, const candidate *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        use *u = find(r, c[i].domain);
        if (!u)
            continue;
        u->next_look_ms = c[i].next_look_ms;
        if (c[i].refreshed_ms)
            u->last_refresh_ms = c[i].refreshed_ms;
    }
}

static int64_t due_time(int64_t probed_ms, int64_t expires_ms)
{
    return probed_ms + (expires_ms - probed_ms) * REFRESH_AT_PERCENT / 100;
}

int refresh_is_due(int64_t probed_ms, int64_t expires_ms, int64_t now_ms)
{
    return now_ms >= due_time(probed_ms, expires_ms);
}

static int64_t due_at(void *ctx, refresh_lifetime_fn lifetime, const candidate *c)
{
    int64_t probed, expires;
    if (!lifetime(ctx, c->domain, &probed, &expires))
        return c->last_refresh_ms ? c->last_refresh_ms + REFRESH_NO_ENTRY_RETRY_MS : 0;
    return due_time(probed, expires);
}

size_t refresher_scan(refresher *r, int64_t now_ms, refresh_lifetime_fn lifetime, bgwork_fn fn,
                      void *ctx)
{
    candidate *c = malloc(SCAN_BATCH * sizeof *c);
    if (!c)
        return 0;
    plat_mutex_lock(r->lock);
    size_t n = collect(r, now_ms, c, SCAN_BATCH);
    plat_mutex_unlock(r->lock);
    size_t started = 0, i;
    for (i = 0; i < n; i++) {
        int64_t due = due_at(ctx, lifetime, &c[i]);
        c[i].next_look_ms = due;
        if (due > now_ms)
            continue;
        refresh_submit_status st = refresher_submit(r, fn, ctx, c[i].domain);
        if (st == REFRESH_NO_BUDGET)
            break; /* this one and the rest: the next scan */
        c[i].next_look_ms = now_ms + LOOK_AGAIN_MS;
        if (st == REFRESH_STARTED) {
            c[i].refreshed_ms = now_ms;
            started++;
        }
    }
    plat_mutex_lock(r->lock);
    record(r, c, i);
    if (i < n) /* stopped for the bounds: start there next time */
        r->cursor = bucket_of(c[i].domain);
    plat_mutex_unlock(r->lock);
    free(c);
    return started;
}

/* ---- domain_use --------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, sqlite3 *db, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "domain use: %s: %s", what, sqlite3_errmsg(db));
}

int refresher_load(refresher *r, sqlite3 *db, int64_t now_ms, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT domain, last_used_ms, source FROM domain_use WHERE last_used_ms >= ?1";
    sqlite3_stmt *st = NULL;
    plat_mutex_lock(r->lock);
    int64_t cutoff = now_ms - r->limits.window_days * DAY_MS;
    plat_mutex_unlock(r->lock);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, db, "cannot read");
        return -1;
    }
    sqlite3_bind_int64(st, 1, cutoff);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *domain = sqlite3_column_text(st, 0);
        int64_t at = sqlite3_column_int64(st, 1);
        if (!domain)
            continue;
        plat_mutex_lock(r->lock);
        use *u = find(r, (const char *)domain);
        if (!u)
            u = add_use(r, (const char *)domain);
        if (u && at > u->last_used_ms) {
            u->last_used_ms = at;
            u->source = sqlite3_column_int(st, 2);
        }
        if (u && at > u->saved_ms)
            u->saved_ms = at;
        plat_mutex_unlock(r->lock);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, db, "cannot read");
        return -1;
    }
    return 0;
}

typedef struct {
    char domain[BGWORK_KEY_MAX + 1];
    int64_t last_used_ms;
    int source;
} pending_save;

static size_t collect_saves(refresher *r, pending_save *out, size_t max)
{
    size_t n = 0;
    for (size_t b = 0; b < USE_BUCKETS && n < max; b++)
        for (use *u = r->buckets[b]; u && n < max; u = u->next)
            if (u->saved_ms == 0 || u->last_used_ms - u->saved_ms >= SAVE_STEP_MS) {
                memcpy(out[n].domain, u->domain, strlen(u->domain) + 1);
                out[n].last_used_ms = u->last_used_ms;
                out[n].source = u->source;
                n++;
            }
    return n;
}

static int write_saves(sqlite3 *db, const pending_save *p, size_t n, int64_t cutoff)
{
    static const char upsert[] =
        "INSERT INTO domain_use (domain, last_used_ms, source) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (domain) DO UPDATE SET source = excluded.source,"
        " last_used_ms = excluded.last_used_ms WHERE excluded.last_used_ms >= last_used_ms";
    sqlite3_stmt *st = NULL, *del = NULL;
    int rc = sqlite3_prepare_v2(db, upsert, -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_prepare_v2(db, "DELETE FROM domain_use WHERE last_used_ms < ?1", -1,
                                        &del, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, p[i].domain, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, p[i].last_used_ms);
        sqlite3_bind_int(st, 3, p[i].source);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    if (rc == 0) {
        sqlite3_bind_int64(del, 1, cutoff);
        rc = sqlite3_step(del) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(del);
    return rc;
}

int refresher_save(refresher *r, sqlite3 *db, int64_t now_ms, char *err, size_t errlen)
{
    pending_save *p = malloc(SAVE_BATCH * sizeof *p);
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "domain use: out of memory");
        return -1;
    }
    plat_mutex_lock(r->lock);
    size_t n = collect_saves(r, p, SAVE_BATCH);
    int64_t cutoff = now_ms - r->limits.window_days * DAY_MS;
    plat_mutex_unlock(r->lock);
    int rc = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        rc = write_saves(db, p, n, cutoff);
        if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = -1;
        if (rc != 0)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc != 0) {
        set_err(err, errlen, db, "cannot write");
    } else {
        plat_mutex_lock(r->lock);
        for (size_t i = 0; i < n; i++) {
            use *u = find(r, p[i].domain);
            if (u && p[i].last_used_ms > u->saved_ms)
                u->saved_ms = p[i].last_used_ms;
        }
        plat_mutex_unlock(r->lock);
    }
    free(p);
    return rc;
}
