/* stslearn: MTA-STS policies learnt while the path is clean.
 *
 * A policy protects a domain only once it is cached: an attacker who is on
 * the path when the policy is first looked up can strip STARTTLS and block
 * the TXT record in one go (RFC 8461 section 10.2, policy discovery
 * prevented). So the domains the router routes have
 * their policy discovered in the background (bgwork.h), never on a
 * message's time, into the engine's stscache and its sts_policy table,
 * where the guard finds it when a later path is stripped.
 *
 *  - A domain's _mta-sts TXT record is read at most once an hour. The memo
 *    of when each domain was read holds STSLEARN_MEMO_DOMAINS domains; when
 *    a slot is needed, the domain read longest ago in its group of
 *    STSLEARN_MEMO_WAYS is forgotten and may be read again within its hour.
 *  - The policy is fetched only when the record's id differs from the
 *    cached policy's, and a cached policy outlives a failed look-up
 *    (stscache.h).
 *  - Jobs share the engine's pool (bounded threads and queue). A domain whose
 *    job could not be queued is offered again by its next message.
 *  - A job uses a database connection no other thread uses at the time
 *    (store.h), from a small set the learner opens on demand.
 *
 * Thread-safe. */
#ifndef TR_STSLEARN_H
#define TR_STSLEARN_H

#include <stddef.h>
#include <stdint.h>

#include "bgwork.h"
#include "mtasts.h"
#include "stscache.h"

#define STSLEARN_TXT_EVERY_MS (3600 * 1000)
#define STSLEARN_MEMO_WAYS 4
#define STSLEARN_MEMO_SETS 1024
#define STSLEARN_MEMO_DOMAINS (STSLEARN_MEMO_WAYS * STSLEARN_MEMO_SETS)

typedef struct stslearn stslearn;

/* pool and cache are the engine's and outlive the learner; db_path is the
 * database whose sts_policy table keeps what is learnt. NULL when out of
 * memory. */
stslearn *stslearn_new(bgwork *pool, stscache *cache, const char *db_path);
/* Only once the pool has stopped: its jobs use the learner. */
void stslearn_free(stslearn *l);

/* The settings in force when a message was routed; a job uses those of
 * the latest offer. */
typedef struct {
    const char *dns_servers; /* NULL or "": the system's */
    unsigned timeout_ms;     /* one job's TXT look-up and policy fetch together */
} stslearn_settings;

/* Where policies are fetched from: fetch->ca_file and the test hooks
 * connect_ip and port (mtasts.h), copied; the rest comes from the
 * settings. Call before the first offer. */
void stslearn_set_fetch(stslearn *l, const mtasts_options *fetch);

/* Called from a pool thread with each domain whose policy a job fetched
 * and stored (a new policy or a new id). */
typedef void (*stslearn_learnt_fn)(void *ctx, const char *domain);
void stslearn_on_learnt(stslearn *l, stslearn_learnt_fn fn, void *ctx);

/* Queues a background look-up for each normalised domain whose TXT record
 * was not read in the hour before now_ms (plat_now_ms clock). Returns the
 * number of jobs queued. */
size_t stslearn_offer(stslearn *l, const char *const *domains, size_t n,
                      const stslearn_settings *settings, uint64_t now_ms);

#endif
