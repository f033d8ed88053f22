/* stats: the engine's live figures. Counted in memory with relaxed atomic
 * adds (a handful per message, no lock on the routing path), written to
 * the stats table every few seconds by the engine's maintenance thread as
 * one set of rows per process, and summed over the processes when read:
 * `tlsrouter stats`, the manager's Status tab.
 *
 * Rows hold what a process counted since its last write (added to its
 * row), so rows of processes long gone can be folded into one ("") without
 * changing any sum. OnArrival times (route_run, start to end) go into a
 * fixed set of buckets, from which the percentiles are read. */
#ifndef TR_STATS_H
#define TR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "probe.h"

struct sqlite3;

/* Upper bounds of the OnArrival buckets, microseconds; one more bucket
 * past the last holds everything longer. */
#define STATS_BUCKETS 41

typedef struct {
    uint64_t messages;
    uint64_t recipients;
    uint64_t reasons[DECIDE_REASON_COUNT];   /* recipients by decision reason */
    uint64_t probes[PROBE_OUTCOME_COUNT];    /* probes made, by status */
    uint64_t cache_hits;                     /* probe results the cache answered */
    uint64_t probe_joins;                    /* decisions that shared another's probe */
    uint64_t policy_joins;                   /* ... another's guard look-up */
    uint64_t mx_shares;                      /* MX host verdicts shared between probes */
    uint64_t refreshes;                      /* probes made ahead of expiry, and
                                                expired-certificate re-checks */
    uint64_t handoffs;                       /* messages with a pickup file */
    uint64_t handoff_failures;               /* hand-offs that failed or were taken back */
    uint64_t onarrival[STATS_BUCKETS + 1];   /* messages by route_run time */
    uint64_t onarrival_max_us;
} stats_figures;

/* The bucket bounds, microseconds (stats_bucket_bound(STATS_BUCKETS) is
 * UINT64_MAX). */
uint64_t stats_bucket_bound(size_t bucket);
size_t stats_bucket_of(uint64_t us);
/* The p-th percentile (0 < p <= 100) of the OnArrival times, in
 * microseconds: the upper bound of the bucket it falls in, never more than
 * the longest seen. 0 when no message was counted. */
uint64_t stats_percentile_us(const stats_figures *f, double p);

typedef struct stats stats;

stats *stats_new(void);
void stats_free(stats *s);

/* The routing path's counts. */
void stats_count_reason(stats *s, decide_reason reason);
/* One message: its recipients, whether a pickup file was written, whether
 * the hand-off failed, how long route_run took. */
void stats_count_message(stats *s, size_t recipients, int handed_off, int handoff_failed,
                         uint64_t elapsed_us);
void stats_count_handoff_failure(stats *s);
void stats_count_probe(stats *s, probe_status status);
void stats_count_cache_hit(stats *s);
void stats_count_refresh(stats *s);

/* What has been counted so far (joins and shares are the engine's: its
 * flight tables count them). */
void stats_snapshot(stats *s, stats_figures *out);

/* Adds now - *flushed to process's rows in one transaction and, on
 * success, sets *flushed = *now. Rows of any process not written for
 * fold_after_ms are folded into process "". 0, or -1 with err. */
int stats_flush(struct sqlite3 *db, const char *process, const stats_figures *now,
                stats_figures *flushed, int64_t now_ms, int64_t fold_after_ms, char *err,
                size_t errlen);

/* Every process's figures, summed. 0, or -1 with err. */
int stats_read(struct sqlite3 *db, stats_figures *out, char *err, size_t errlen);

#endif
