/* refresh: refresh ahead. The domains messages go to are remembered with
 * the time of their last use (memory, a hash table under one lock: one
 * look-up per domain per message), and a domain used within the last
 * refresh_window_days is probed again in the background when its probe
 * cache entry has lived 80% of its lifetime, so after a domain's first
 * message no message to it waits for a probe. A domain not used for the
 * window drops out.
 *
 * Background probing is bounded: at most refresh_concurrency jobs run at
 * once on the refresher's own pool (the others wait in its queue), and at
 * most refresh_max_per_minute are handed to it a minute (a token bucket
 * holding five seconds' worth). The expired-certificate re-checks go through the same
 * bounds (refresher_submit). The jobs themselves are the caller's (the
 * engine's): they give way to foreground probes through the engine's
 * flight table.
 *
 * The times of use are written to the domain_use table (moves of an hour
 * or more only), so a restarted service goes on refreshing the domains it
 * used before. */
#ifndef TR_REFRESH_H
#define TR_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "bgwork.h"

struct sqlite3;

#define REFRESH_CONCURRENCY_MAX 16
/* Domains remembered at most; past it a new domain is not refreshed (its
 * messages probe when its entry runs out, as without refreshing). */
#define REFRESH_DOMAINS_MAX 100000
/* Of an entry's lifetime, the part after which it is refreshed. */
#define REFRESH_AT_PERCENT 80
/* A domain in use with no live entry (a restart, a result not kept) is
 * probed again at most this often. */
#define REFRESH_NO_ENTRY_RETRY_MS (60 * 1000)

typedef struct refresher refresher;

typedef struct {
    int window_days;       /* refresh_window_days */
    unsigned concurrency;  /* refresh_concurrency, 1..REFRESH_CONCURRENCY_MAX */
    unsigned per_minute;   /* refresh_max_per_minute */
} refresh_limits;

/* The settings' defaults; the engine sets the live ones on every tick. */
refresher *refresher_new(void);
/* Stops the pool: queued jobs are dropped, running ones waited for, and
 * nothing more is started. */
void refresher_stop(refresher *r);
/* refresher_stop, then the table goes. */
void refresher_free(refresher *r);
void refresher_set_limits(refresher *r, const refresh_limits *l);

/* A message from IIS virtual server source (0: none known) needed
 * domain's probe answer at now_ms (wall clock). The refresh probes the
 * domain as that server's messages would (its port and name). */
void refresher_note_use(refresher *r, const char *domain, int source, int64_t now_ms);
/* The source of domain's last use; 0 when none is known. */
int refresher_source_of(refresher *r, const char *domain);

typedef enum {
    REFRESH_STARTED = 0,  /* queued on the pool */
    REFRESH_BUSY,         /* the same job is queued or running */
    REFRESH_NO_BUDGET     /* over the rate, the queue full, or stopping */
} refresh_submit_status;

/* One background probe job, fn(ctx, key) on the refresher's pool, when
 * the rate allows it now; it runs when one of the refresh_concurrency
 * places is free. */
refresh_submit_status refresher_submit(refresher *r, bgwork_fn fn, void *ctx, const char *key);

/* 1 when an answer probed at probed_ms that runs out at expires_ms is due
 * for a refresh at now_ms (REFRESH_AT_PERCENT of its lifetime). A job can
 * ask again before it probes: a message may have probed meanwhile. */
int refresh_is_due(int64_t probed_ms, int64_t expires_ms, int64_t now_ms);

/* When domain's probe answer was probed and when it runs out (wall
 * clock): 1, or 0 when there is no live answer. */
typedef int (*refresh_lifetime_fn)(void *ctx, const char *domain, int64_t *probed_ms,
                                   int64_t *expires_ms);

/* The maintenance thread's part, once a second: forgets domains unused for
 * the window, and submits fn(ctx, domain) for each domain in use whose
 * answer is due, as far as the bounds allow (the rest wait for the next
 * scan, which goes on where this one stopped). Returns the jobs started. */
size_t refresher_scan(refresher *r, int64_t now_ms, refresh_lifetime_fn lifetime, bgwork_fn fn,
                      void *ctx);

/* Domains remembered now. */
size_t refresher_domains(refresher *r);
/* Waits until no job is queued or running, or ms pass; 0 when idle. */
int refresher_wait_idle(refresher *r, unsigned ms);

/* domain_use rows used within the window into memory. 0, or -1 with err. */
int refresher_load(refresher *r, struct sqlite3 *db, int64_t now_ms, char *err, size_t errlen);
/* Writes the uses that moved an hour or more (or were never written) and
 * deletes rows older than the window. 0, or -1 with err. */
int refresher_save(refresher *r, struct sqlite3 *db, int64_t now_ms, char *err, size_t errlen);

#endif
