/* expcache: the memory copy is a sorted array searched by binary search;
 * changes are rare (sightings, re-checks), lookups are every message. The
 * lifetime rules live in apply_sighting, the only place that decides how
 * long an entry stays. */
#include "expcache.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errtext.h"
#include "plat.h"
#include "settings.h"

typedef struct {
    char *domain;
    int64_t expires_ms;
    int64_t next_check_ms;
} slot;

struct expcache {
    plat_mutex *lock;
    slot *slots;
    size_t n, cap;
};

void expcache_times_default(expcache_times *t)
{
    t->first_ttl_ms = SETTING_DEFAULT_ttl_failure_s * 1000LL;
    t->confirmed_ttl_ms = SETTING_DEFAULT_ttl_expired_s * 1000LL;
    t->confirm_after_ms = EXPCACHE_CONFIRM_AFTER_MS;
    t->recheck_every_ms = EXPCACHE_RECHECK_EVERY_MS;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

expcache *expcache_new(void)
{
    expcache *c = calloc(1, sizeof *c);
    if (c && !(c->lock = plat_mutex_new())) {
        free(c);
        c = NULL;
    }
    return c;
}

static void free_slots(slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].domain);
    free(s);
}

void expcache_free(expcache *c)
{
    if (!c)
        return;
    free_slots(c->slots, c->n);
    plat_mutex_free(c->lock);
    free(c);
}

static int cmp_slot(const void *a, const void *b)
{
    return strcmp(((const slot *)a)->domain, ((const slot *)b)->domain);
}

/* Index of domain, or of where it would go, in a sorted array. */
static size_t lower_bound(const slot *s, size_t n, const char *domain, int *found)
{
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s[mid].domain, domain);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define ENTRY_COLUMNS "domain, mx, cert_not_after, first_seen_ms, last_seen_ms, confirmed_ms," \
                      " expires_ms, next_check_ms"

static int fail(sqlite3 *db, char *err, size_t errlen)
{
    errtext_set(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
    return -1;
}

int expcache_load(expcache *c, sqlite3 *db, int64_t now_ms, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT domain, expires_ms, next_check_ms FROM expired_cache"
                           " WHERE expires_ms > ? ORDER BY domain",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen);
    sqlite3_bind_int64(st, 1, now_ms);
    slot *s = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            slot *ns = realloc(s, ncap * sizeof *s);
            if (!ns) {
                rc = SQLITE_NOMEM;
                break;
            }
            s = ns;
            cap = ncap;
        }
        const char *d = (const char *)sqlite3_column_text(st, 0);
        s[n].domain = dup_str(d ? d : "");
        s[n].expires_ms = sqlite3_column_int64(st, 1);
        s[n].next_check_ms = sqlite3_column_int64(st, 2);
        if (!s[n].domain) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "expired cache: %s",
                    rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        free_slots(s, n);
        return -1;
    }
    sqlite3_finalize(st);
    /* SQLite's ORDER BY uses BINARY collation, the same order as strcmp;
     * sorting again is cheap insurance for the binary search. */
    if (n > 1)
        qsort(s, n, sizeof *s, cmp_slot);
    plat_mutex_lock(c->lock);
    slot *old = c->slots;
    size_t old_n = c->n;
    c->slots = s;
    c->n = n;
    c->cap = cap;
    plat_mutex_unlock(c->lock);
    free_slots(old, old_n);
    return 0;
}

int expcache_contains(expcache *c, const char *domain, int64_t now_ms)
{
    int found;
    plat_mutex_lock(c->lock);
    size_t i = lower_bound(c->slots, c->n, domain, &found);
    int live = found && c->slots[i].expires_ms > now_ms;
    plat_mutex_unlock(c->lock);
    return live;
}

size_t expcache_count(expcache *c)
{
    plat_mutex_lock(c->lock);
    size_t n = c->n;
    plat_mutex_unlock(c->lock);
    return n;
}

size_t expcache_due(expcache *c, int64_t now_ms, expcache_name *out, size_t max)
{
    size_t k = 0;
    plat_mutex_lock(c->lock);
    for (size_t i = 0; i < c->n && k < max; i++) {
        const slot *s = &c->slots[i];
        if (s->expires_ms > now_ms && s->next_check_ms <= now_ms)
            snprintf(out[k++].domain, sizeof out->domain, "%s", s->domain);
    }
    plat_mutex_unlock(c->lock);
    return k;
}

/* Adds or updates domain in the memory copy. */
static int remember(expcache *c, const char *domain, int64_t expires_ms, int64_t next_check_ms)
{
    int found, rc = 0;
    plat_mutex_lock(c->lock);
    size_t i = lower_bound(c->slots, c->n, domain, &found);
    if (!found) {
        char *copy = dup_str(domain);
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 16;
            slot *ns = copy ? realloc(c->slots, ncap * sizeof *ns) : NULL;
            if (ns) {
                c->slots = ns;
                c->cap = ncap;
            }
        }
        if (copy && c->n < c->cap) {
            memmove(&c->slots[i + 1], &c->slots[i], (c->n - i) * sizeof *c->slots);
            c->slots[i].domain = copy;
            c->n++;
            found = 1;
        } else {
            free(copy);
            rc = -1;
        }
    }
    if (found) {
        c->slots[i].expires_ms = expires_ms;
        c->slots[i].next_check_ms = next_check_ms;
    }
    plat_mutex_unlock(c->lock);
    return rc;
}

static void forget(expcache *c, const char *domain)
{
    int found;
    plat_mutex_lock(c->lock);
    size_t i = lower_bound(c->slots, c->n, domain, &found);
    if (found) {
        free(c->slots[i].domain);
        memmove(&c->slots[i], &c->slots[i + 1], (c->n - i - 1) * sizeof *c->slots);
        c->n--;
    }
    plat_mutex_unlock(c->lock);
}

static void read_entry(sqlite3_stmt *st, expcache_entry *e)
{
    const unsigned char *d = sqlite3_column_text(st, 0), *mx = sqlite3_column_text(st, 1);
    snprintf(e->domain, sizeof e->domain, "%s", d ? (const char *)d : "");
    snprintf(e->mx, sizeof e->mx, "%s", mx ? (const char *)mx : "");
    e->cert_not_after = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
    e->first_seen_ms = sqlite3_column_int64(st, 3);
    e->last_seen_ms = sqlite3_column_int64(st, 4);
    e->confirmed_ms = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    e->expires_ms = sqlite3_column_int64(st, 6);
    e->next_check_ms = sqlite3_column_int64(st, 7);
}

/* The row of domain: 1 found, 0 none, -1 error. */
static int read_row(sqlite3 *db, const char *domain, expcache_entry *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM expired_cache WHERE domain = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_entry(st, e);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int write_row(sqlite3 *db, const expcache_entry *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO expired_cache (" ENTRY_COLUMNS ")"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, e->domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->mx, -1, SQLITE_STATIC);
    if (e->cert_not_after >= 0)
        sqlite3_bind_int64(st, 3, e->cert_not_after);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, e->first_seen_ms);
    sqlite3_bind_int64(st, 5, e->last_seen_ms);
    if (e->confirmed_ms >= 0)
        sqlite3_bind_int64(st, 6, e->confirmed_ms);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, e->expires_ms);
    sqlite3_bind_int64(st, 8, e->next_check_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The entry after sighting s (old: the current row, NULL when none). 0 when
 * s changes nothing. */
static int apply_sighting(const expcache_entry *old, const expcache_sighting *s,
                          const expcache_times *t, int64_t now_ms, expcache_entry *row)
{
    /* The same probe again (a cached result) or an older one: no news. */
    if (old && s->seen_ms <= old->last_seen_ms)
        return 0;
    memset(row, 0, sizeof *row);
    snprintf(row->domain, sizeof row->domain, "%s", s->domain);
    snprintf(row->mx, sizeof row->mx, "%s", s->mx ? s->mx : "");
    row->cert_not_after = s->cert_not_after;
    row->last_seen_ms = s->seen_ms;
    if (!old || old->expires_ms <= now_ms) {
        /* A first sighting (a lapsed entry is history): short, and probed
         * again when a confirming sighting could be made. */
        row->first_seen_ms = s->seen_ms;
        row->confirmed_ms = -1;
        row->expires_ms = s->seen_ms + t->first_ttl_ms;
        row->next_check_ms = s->seen_ms + t->confirm_after_ms;
        return 1;
    }
    row->first_seen_ms = old->first_seen_ms;
    row->confirmed_ms = old->confirmed_ms;
    if (row->confirmed_ms < 0 && s->seen_ms - old->first_seen_ms >= t->confirm_after_ms)
        row->confirmed_ms = s->seen_ms;
    if (row->confirmed_ms >= 0) {
        row->expires_ms = s->seen_ms + t->confirmed_ttl_ms;
        row->next_check_ms = s->seen_ms + t->recheck_every_ms;
    } else {
        row->expires_ms = s->seen_ms + t->first_ttl_ms;
        row->next_check_ms = old->next_check_ms;
    }
    return 1;
}

static int in_transaction(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int expcache_saw_expired(expcache *c, sqlite3 *db, const expcache_sighting *s,
                         const expcache_times *t, int64_t now_ms, char *err, size_t errlen)
{
    expcache_entry old, row;
    /* Read and write under one write lock: another process may record a
     * sighting of the same domain at the same time. */
    if (in_transaction(db, "BEGIN IMMEDIATE") != 0)
        return fail(db, err, errlen);
    int found = read_row(db, s->domain, &old);
    int changed = found >= 0 && apply_sighting(found ? &old : NULL, s, t, now_ms, &row);
    if (found < 0 || (changed && write_row(db, &row) != 0) ||
        in_transaction(db, "COMMIT") != 0) {
        fail(db, err, errlen);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (changed && c && remember(c, row.domain, row.expires_ms, row.next_check_ms) != 0) {
        errtext_set(err, errlen, "expired cache: out of memory");
        return -1;
    }
    return changed;
}

int expcache_remove(expcache *c, sqlite3 *db, const char *domain, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM expired_cache WHERE domain = ?", -1, &st, NULL)
        != SQLITE_OK)
        return fail(db, err, errlen);
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, err, errlen);
    if (c)
        forget(c, domain);
    return sqlite3_changes(db) > 0;
}

int expcache_claim_recheck(expcache *c, sqlite3 *db, const char *domain, int64_t now_ms,
                           int64_t recheck_every_ms, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE expired_cache SET next_check_ms = ?1"
                           " WHERE domain = ?2 AND next_check_ms <= ?3 AND expires_ms > ?3"
                           " RETURNING expires_ms",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen);
    sqlite3_bind_int64(st, 1, now_ms + recheck_every_ms);
    sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st), claimed = rc == SQLITE_ROW;
    int64_t expires_ms = claimed ? sqlite3_column_int64(st, 0) : 0;
    if (claimed)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, err, errlen);
    if (!claimed)
        return 0;
    if (c)
        remember(c, domain, expires_ms, now_ms + recheck_every_ms);
    return 1;
}

int expcache_list(sqlite3 *db, expcache_entry **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM expired_cache ORDER BY domain", -1,
                           &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            expcache_entry *ne = realloc(*out, ncap * sizeof *ne);
            if (!ne) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = ne;
            cap = ncap;
        }
        read_entry(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "expired cache: %s",
                    rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int expcache_clear(sqlite3 *db, int only_lapsed, int64_t now_ms, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    const char *sql = only_lapsed ? "DELETE FROM expired_cache WHERE expires_ms <= ?"
                                  : "DELETE FROM expired_cache";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (only_lapsed)
        sqlite3_bind_int64(st, 1, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_changes(db);
}
