/* expcache: the expired-certificate cache. A domain found with an expired
 * certificate goes plain at once next time (when the rule's toggle is on).
 * The database table expired_cache is the truth, shared by every process;
 * each engine keeps a sorted in-memory copy for lookups without I/O and
 * reloads it when it polls for configuration changes, so a clear from the
 * CLI or the manager takes effect without a restart. */
#ifndef TR_EXPCACHE_H
#define TR_EXPCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

typedef struct {
    char domain[256];
    char mx[256];
    int64_t cert_not_after;   /* Unix seconds; -1 unknown */
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    int64_t expires_ms;
} expcache_entry;

typedef struct expcache expcache;

expcache *expcache_new(void);
void expcache_free(expcache *c);

/* Replaces the memory copy with the table's live rows. Thread-safe. */
int expcache_load(expcache *c, sqlite3 *db, int64_t now_ms, char *err, size_t errlen);
/* 1 when domain has a live entry in the memory copy. Thread-safe. */
int expcache_contains(expcache *c, const char *domain, int64_t now_ms);
/* Adds or refreshes a domain in the table and the memory copy. The caller
 * serialises writes on db. */
int expcache_add(expcache *c, sqlite3 *db, const char *domain, const char *mx,
                 int64_t cert_not_after, int64_t now_ms, int64_t ttl_ms,
                 char *err, size_t errlen);
size_t expcache_count(expcache *c);

/* Table-level, for the CLI and the manager. */
int expcache_list(sqlite3 *db, expcache_entry **out, size_t *n, char *err, size_t errlen);
/* Deletes every entry (only_lapsed 0) or those past expires_ms. Returns
 * the number deleted or -1. */
int expcache_clear(sqlite3 *db, int only_lapsed, int64_t now_ms, char *err, size_t errlen);

#endif
