/* expcache: the expired-certificate cache. A domain found with an expired
 * certificate goes plain at once next time (when the rule's toggle is on).
 *
 * One observation proves little (an attacker in the path can show any
 * certificate), so an entry heals:
 * - a first sighting lives only first_ttl_ms (the failure TTL);
 * - a second probe sighting at least confirm_after_ms (10 minutes) after the
 *   first confirms it, and from then on confirmed_ttl_ms (ttl_expired_s)
 *   counts from the last sighting;
 * - every entry is probed again in the background when next_check_ms comes
 *   (the first time confirm_after_ms after the first sighting, then every
 *   recheck_every_ms); the engine drops it as soon as the domain no longer
 *   shows an expired certificate (expcache_remove).
 *
 * The database table expired_cache is the truth, shared by every process;
 * each engine keeps a sorted in-memory copy for lookups without I/O and
 * reloads it when it polls for configuration changes, so a clear from the
 * CLI or the manager, or a removal by another process, takes effect without
 * a restart. */
#ifndef TR_EXPCACHE_H
#define TR_EXPCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* A second sighting at least this much after the first confirms an entry. */
#define EXPCACHE_CONFIRM_AFTER_MS (10 * 60 * 1000LL)
/* A confirmed entry is probed again this often. */
#define EXPCACHE_RECHECK_EVERY_MS (4 * 3600 * 1000LL)

typedef struct {
    int64_t first_ttl_ms;      /* one sighting: ttl_failure_s */
    int64_t confirmed_ttl_ms;  /* confirmed: ttl_expired_s, from the last sighting */
    int64_t confirm_after_ms;  /* EXPCACHE_CONFIRM_AFTER_MS */
    int64_t recheck_every_ms;  /* EXPCACHE_RECHECK_EVERY_MS */
} expcache_times;

/* The defaults of ttl_failure_s and ttl_expired_s (settings.h), and the
 * two constants above. */
void expcache_times_default(expcache_times *t);

typedef struct {
    char domain[256];
    char mx[256];
    int64_t cert_not_after;   /* Unix seconds; -1 unknown */
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    int64_t confirmed_ms;     /* the confirming sighting; -1 not confirmed */
    int64_t expires_ms;
    int64_t next_check_ms;    /* the next background re-probe */
} expcache_entry;

/* What a probe saw: the domain's certificate expired. */
typedef struct {
    const char *domain;
    const char *mx;
    int64_t cert_not_after;   /* Unix seconds; -1 unknown */
    int64_t seen_ms;          /* when the probe saw it (a cached probe result
                                 keeps its time, so it is no new sighting) */
} expcache_sighting;

typedef struct expcache expcache;

expcache *expcache_new(void);
void expcache_free(expcache *c);

/* Replaces the memory copy with the table's live rows. Thread-safe. */
int expcache_load(expcache *c, sqlite3 *db, int64_t now_ms, char *err, size_t errlen);
/* 1 when domain has a live entry in the memory copy. Thread-safe. */
int expcache_contains(expcache *c, const char *domain, int64_t now_ms);
size_t expcache_count(expcache *c);

/* Records a sighting in the table and in c (c may be NULL). A sighting no
 * newer than the entry's last one changes nothing; one on a lapsed entry
 * starts it afresh. 1 when the entry changed, 0 when not, -1 on error. The
 * caller serialises writes on db. */
int expcache_saw_expired(expcache *c, sqlite3 *db, const expcache_sighting *s,
                         const expcache_times *t, int64_t now_ms, char *err, size_t errlen);
/* The domain showed a certificate that is not expired: its entry leaves the
 * table and c (c may be NULL). 1 removed, 0 there was none, -1 on error. */
int expcache_remove(expcache *c, sqlite3 *db, const char *domain, char *err, size_t errlen);

typedef struct {
    char domain[256];
} expcache_name;

/* Up to max live entries of the memory copy whose re-probe is due. A cheap
 * scan without I/O, for the engine's maintenance thread. */
size_t expcache_due(expcache *c, int64_t now_ms, expcache_name *out, size_t max);
/* Takes domain's due re-probe for the caller: moves next_check_ms to
 * now_ms + recheck_every_ms in the table and in c when it is due, so no
 * other thread or process probes it too. 1 taken, 0 not due (taken
 * elsewhere, or gone), -1 on error. */
int expcache_claim_recheck(expcache *c, sqlite3 *db, const char *domain, int64_t now_ms,
                           int64_t recheck_every_ms, char *err, size_t errlen);

/* Table-level, for the CLI and the manager. */
int expcache_list(sqlite3 *db, expcache_entry **out, size_t *n, char *err, size_t errlen);
/* Deletes every entry (only_lapsed 0) or those past expires_ms. Returns
 * the number deleted or -1. */
int expcache_clear(sqlite3 *db, int only_lapsed, int64_t now_ms, char *err, size_t errlen);

#endif
