/* stscache: the MTA-STS policy in effect for a domain (RFC 8461 section 5).
 *
 * Every look-up reads the TXT record; the policy is fetched only when no
 * unexpired policy is cached or the record's id differs from the cached
 * policy's. A cached policy stays in force until max_age runs out even when
 * the TXT record disappears or the policy host fails, so an attacker who
 * blocks DNS or HTTPS cannot switch the guard off. Policies live in memory
 * and, when a store is given, in its sts_policy table (they survive a
 * restart). Thread-safe: one cache serves every thread; the store handle
 * passed to a call belongs to the calling thread. */
#ifndef TR_STSCACHE_H
#define TR_STSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mtasts.h"
#include "store.h"

/* Entries held in memory (about 8 KB each); the database holds them all. */
#define STSCACHE_MAX_ENTRIES 1024

typedef struct stscache stscache;

stscache *stscache_new(void);  /* NULL when out of memory */
void stscache_free(stscache *c);

typedef struct {
    /* MTASTS_OK: a policy is in force (policy, id, expires_ms set), possibly
     * from the cache after a failed refresh (error says why);
     * MTASTS_NONE: the domain has no policy; other: no policy is known and
     * discovery or fetch failed (error says why). */
    mtasts_status status;
    int fetched;              /* this call fetched the policy over HTTPS */
    char id[MTASTS_ID_MAX + 1];
    mtasts_policy policy;
    int64_t expires_ms;       /* wall clock */
    char error[MTASTS_ERR_MAX];
} stscache_result;

/* The policy in force for the normalised domain at wall time now_ms
 * (plat_wall_ms(); tests pass their own). db may be NULL. */
mtasts_status stscache_lookup(stscache *c, store *db, const char *domain,
                              const mtasts_options *opt, int64_t now_ms,
                              stscache_result *out);

/* Forget every policy, in memory (c may be NULL: the table only) and, db
 * non-NULL, in the database. Returns the rows deleted from the table (0
 * without db), or -1 when the database refused (store_db's errmsg says
 * why). A running engine's own cache keeps its policies until max_age. */
int stscache_clear(stscache *c, store *db);

/* One row of the sts_policy table, for the CLI and the manager. */
typedef struct {
    char domain[DOMAIN_BUF];
    char id[MTASTS_ID_MAX + 1];
    char mode[16];             /* as stored: "enforce", "testing", "none" */
    int64_t max_age;           /* seconds */
    int64_t fetched_ms, expires_ms;
} stscache_row;

/* Every stored policy by domain, expired ones too, in a fresh array
 * (free(); NULL when empty). 0, or -1 with the reason in err. */
int stscache_list(store *db, stscache_row **out, size_t *n, char *err, size_t errlen);

#endif
