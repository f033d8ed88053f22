/* expcache: the memory copy is a sorted array searched by bsearch; adds are
 * rare (one per newly seen expired domain), lookups are every message. */
#include "expcache.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"

typedef struct {
    char *domain;
    int64_t expires_ms;
} slot;

struct expcache {
    plat_mutex *lock;
    slot *slots;
    size_t n, cap;
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

int expcache_load(expcache *c, sqlite3 *db, int64_t now_ms, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT domain, expires_ms FROM expired_cache WHERE expires_ms > ?"
                           " ORDER BY domain",
                           -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
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
        if (!s[n].domain) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "expired cache: %s",
                rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        free_slots(s, n);
        return -1;
    }
    sqlite3_finalize(st);
    /* SQLite's ORDER BY uses BINARY collation, the same order as strcmp;
     * sorting again is cheap insurance for the bsearch. */
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

static int remember(expcache *c, const char *domain, int64_t expires_ms)
{
    int found, rc = 0;
    plat_mutex_lock(c->lock);
    size_t i = lower_bound(c->slots, c->n, domain, &found);
    if (found) {
        c->slots[i].expires_ms = expires_ms;
    } else {
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
            c->slots[i].expires_ms = expires_ms;
            c->n++;
        } else {
            free(copy);
            rc = -1;
        }
    }
    plat_mutex_unlock(c->lock);
    return rc;
}

int expcache_add(expcache *c, sqlite3 *db, const char *domain, const char *mx,
                 int64_t cert_not_after, int64_t now_ms, int64_t ttl_ms,
                 char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO expired_cache (domain, mx, cert_not_after, first_seen_ms,"
                           " last_seen_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?4, ?5)"
                           " ON CONFLICT (domain) DO UPDATE SET mx = excluded.mx,"
                           " cert_not_after = excluded.cert_not_after,"
                           " last_seen_ms = excluded.last_seen_ms, expires_ms = excluded.expires_ms",
                           -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, mx ? mx : "", -1, SQLITE_STATIC);
    if (cert_not_after >= 0)
        sqlite3_bind_int64(st, 3, cert_not_after);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, now_ms + ttl_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (c && remember(c, domain, now_ms + ttl_ms) != 0) {
        set_err(err, errlen, "expired cache: out of memory");
        return -1;
    }
    return 0;
}

static void read_entry(sqlite3_stmt *st, expcache_entry *e)
{
    const unsigned char *d = sqlite3_column_text(st, 0), *mx = sqlite3_column_text(st, 1);
    snprintf(e->domain, sizeof e->domain, "%s", d ? (const char *)d : "");
    snprintf(e->mx, sizeof e->mx, "%s", mx ? (const char *)mx : "");
    e->cert_not_after = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
    e->first_seen_ms = sqlite3_column_int64(st, 3);
    e->last_seen_ms = sqlite3_column_int64(st, 4);
    e->expires_ms = sqlite3_column_int64(st, 5);
}

int expcache_list(sqlite3 *db, expcache_entry **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT domain, mx, cert_not_after, first_seen_ms, last_seen_ms,"
                           " expires_ms FROM expired_cache ORDER BY domain",
                           -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
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
        set_err(err, errlen, "expired cache: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
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
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (only_lapsed)
        sqlite3_bind_int64(st, 1, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "expired cache: %s", sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_changes(db);
}
