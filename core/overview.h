/* overview: what the router did lately, read from the journal, the caches
 * and the live figures, for the manager's Overview tab: recipients per
 * day (TLS and plain) over the last OVERVIEW_DAYS days, the domains sent
 * plain most often and why, the sizes of the caches and how often the
 * probe cache answered.
 *
 * Days are UTC days (00:00 to 24:00 UTC): the same on every machine and
 * every clock change, and the chart says so. */
#ifndef TR_OVERVIEW_H
#define TR_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define OVERVIEW_DAYS 14
#define OVERVIEW_TOP 10
#define OVERVIEW_DAY_MS (24 * 3600 * 1000LL)

typedef struct {
    int64_t start_ms;          /* 00:00 UTC of the day */
    int year, month, mday;     /* its date (month 1-12) */
    uint64_t tls, plain;       /* recipients journaled that day, by route */
} overview_day;

typedef struct {
    char domain[256];
    uint64_t count;            /* recipients sent plain */
    char reason[40];           /* the reason given most often (journal word) */
} overview_plain_domain;

typedef struct {
    uint64_t probe_rows;       /* probe_cache */
    uint64_t expired_rows;     /* expired_cache */
    uint64_t sts_rows;         /* sts_policy */
    uint64_t cache_hits;       /* probe results the cache answered (live figures) */
    uint64_t probes;           /* probes made (live figures) */
} overview_caches;

/* The OVERVIEW_DAYS UTC days ending with the one now_ms falls in, oldest
 * first, with their counts. 0, or -1 with err. */
int overview_days(struct sqlite3 *db, int64_t now_ms, overview_day days[OVERVIEW_DAYS],
                  char *err, size_t errlen);

/* The domains with the most recipients sent plain in [since_ms, until_ms):
 * most first, ties by domain name; at most OVERVIEW_TOP in out, *n of
 * them. Each carries the reason it was sent plain most often (ties by
 * reason name). 0, or -1 with err. */
int overview_top_plain(struct sqlite3 *db, int64_t since_ms, int64_t until_ms,
                       overview_plain_domain out[OVERVIEW_TOP], size_t *n, char *err,
                       size_t errlen);

/* Rows in each cache table and the live figures' cache hits and probes. */
int overview_caches_read(struct sqlite3 *db, overview_caches *out, char *err, size_t errlen);

/* How often a probe result came from the cache, in tenths of a percent
 * (0..1000); -1 when nothing was asked yet. */
int overview_hit_rate_permille(const overview_caches *c);

#endif
