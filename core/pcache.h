/* pcache: probe results per domain, with a time to live per status, in
 * memory (thread-safe) and in the database's probe_cache table, so a restart
 * of the SMTP service does not re-probe every domain. */
#ifndef TR_PCACHE_H
#define TR_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

struct sqlite3;

/* Seconds a result is kept, by status: the settings ttl_starttls_s,
 * ttl_no_starttls_s, ttl_failure_s. */
typedef struct {
    unsigned starttls_s;    /* TLS works */
    unsigned no_starttls_s; /* no-starttls, starttls-rejected, cert-not-yet-valid,
                               handshake-failed (answers about the peer's TLS) */
    unsigned failure_s;     /* cert-expired (one sighting), connect-failed,
                               timeout, dns-failed, no-domain, null-mx,
                               protocol-error */
} pcache_ttls;

/* The settings' defaults (settings.h). */
void pcache_ttls_default(pcache_ttls *t);
/* Read ttl_starttls_s, ttl_no_starttls_s, ttl_failure_s from the settings
 * table; keys missing or unreadable keep their current value. 0 on success. */
int pcache_ttls_load(struct sqlite3 *db, pcache_ttls *t);
unsigned pcache_ttl_for(const pcache_ttls *t, probe_status s);

typedef struct pcache pcache;

/* db may be NULL (memory only); it stays the caller's and must outlive the
 * cache. SQLite must be in serialised mode if others use db concurrently. */
pcache *pcache_new(struct sqlite3 *db, const pcache_ttls *ttls);
void pcache_free(pcache *c);

/* The lifetimes of results stored from now on (those already stored keep
 * theirs): a running engine's reload of the settings. */
void pcache_set_ttls(pcache *c, const pcache_ttls *ttls);

/* The clock for expiry, Unix milliseconds (default plat_wall_ms); tests
 * move it to age entries. */
void pcache_set_clock(pcache *c, int64_t (*now_ms)(void));

/* 1 and *out filled when a live entry exists (memory first, then the
 * database, which then fills memory); 0 when not. */
int pcache_get(pcache *c, const char *domain, probe_result *out);
/* The live entry's times (wall clock, Unix ms): when it was probed and
 * when it expires; 1, or 0 when there is none. For refreshing ahead. */
int pcache_lifetime(pcache *c, const char *domain, int64_t *probed_ms, int64_t *expires_ms);
/* Store a result (memory and database). 0 on success, -1 when the database
 * refused (the memory entry stands). */
int pcache_put(pcache *c, const probe_result *r);
/* Forget entries: all, or only the expired ones. 0 on success. */
int pcache_clear(pcache *c, int expired_only);

/* Entries held in memory (live, plus expired ones not yet swept). */
size_t pcache_size(pcache *c);

/* One row of the probe_cache table, for the CLI and the manager. */
typedef struct {
    char domain[PROBE_NAME_MAX];
    probe_status status;             /* a probe's outcome, or PROBE_UNKNOWN: a word
                                        a newer version wrote, kept in unknown_status */
    char unknown_status[32];         /* that word as stored; "" for an outcome */
    char mx[PROBE_NAME_MAX];
    char address[PROBE_ADDR_MAX];
    char tls_version[16];
    char cipher[64];
    int64_t cert_not_after;          /* Unix seconds; -1 unknown */
    char error[PROBE_TEXT_MAX];
    unsigned elapsed_ms;
    int64_t probed_ms, expires_ms;   /* wall clock, Unix milliseconds */
} pcache_entry;

/* The entry's status as the listings show it: its name, or the unknown
 * word as it is stored. */
const char *pcache_entry_status(const pcache_entry *e);

typedef enum {
    PCACHE_BY_DOMAIN,                /* the console's table */
    PCACHE_NEWEST_FIRST              /* by probed_ms, newest first; ties by domain */
} pcache_order;

/* Every row of the table, live and expired alike, in a fresh array
 * (free(); NULL when empty). Table-level like pcache_clear's database half:
 * no cache handle needed. 0, or -1 with the reason in err. */
int pcache_list(struct sqlite3 *db, pcache_order order, pcache_entry **out, size_t *n,
                char *err, size_t errlen);

/* Decide n domains: cached ones from the cache, the others probed at once
 * (probe_many) and stored. from_cache (may be NULL) gets 1 per cached one. */
void pcache_probe_many(pcache *c, const char *const *domains, size_t n,
                       const probe_options *opts, probe_result *out, int *from_cache);

#endif
