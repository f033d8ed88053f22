/* engine: the process-wide routing engine. Created once per process
 * (the sink, the CLI, the tests) and shared by every thread that routes.
 * It holds a snapshot of the configuration (rules with their compiled
 * domain lists, settings), the expired-certificate cache, and the
 * database connections. A maintenance thread polls config_generation once
 * a second, so a change made by the manager or the CLI takes effect within
 * a second, without a restart and without a query per message. */
#ifndef TR_ENGINE_H
#define TR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "domset.h"
#include "expcache.h"
#include "guard.h"
#include "iis_model.h"
#include "journal.h"
#include "log.h"
#include "pcache.h"
#include "plat.h"
#include "probe.h"
#include "probe_settings.h"
#include "refresh.h"
#include "stats.h"

typedef struct engine engine;

/* Opens (and creates or migrates) the database at db_path. */
int engine_open(const char *db_path, engine **out, char *err, size_t errlen);
void engine_close(engine *e);

/* One enabled rule: the first by id for its source virtual server. */
typedef struct {
    int64_t id;
    char name[128];
    int source_instance;
    char pickup_dir[PLAT_PATH_MAX];
    domset *never_redirect;
    domset *force_plain;
    decide_rule rule;           /* points at the two sets above */
} engine_rule;

/* A read-only configuration snapshot, shared by reference count. */
typedef struct engine_config {
    int64_t generation;
    engine_rule *rules;
    size_t n_rules;
    log_level log_level;
    probe_settings probe;       /* opts point into this snapshot */
    pcache_ttls probe_ttls;     /* the probe cache's lifetimes */
    guard_options guard;        /* guard_mta_sts, guard_dane (row 6) */
    int64_t guard_timeout_ms;   /* each domain's guard look-ups */
    int64_t message_timeout_ms; /* everything decided for one message */
    int64_t ttl_expired_ms;
    int64_t ttl_failure_ms;     /* also an unconfirmed expired-cache entry's */
    int journal_max_age_days;
    int64_t journal_max_rows;
    int64_t log_max_rows;
    refresh_limits refresh;     /* refresh_window_days, refresh_concurrency,
                                   refresh_max_per_minute */
    int refs;                   /* guarded by the engine */
} engine_config;

/* The current snapshot; give it back with engine_release_config. The
 * engine's maintenance thread replaces it within a second of a change. */
engine_config *engine_acquire_config(engine *e);
void engine_release_config(engine *e, engine_config *cfg);
/* The enabled rule for a source virtual server, or NULL. */
const engine_rule *engine_rule_for(const engine_config *cfg, int source_instance);

/* Polls now instead of waiting for the next tick (tests, CLI). */
int engine_refresh(engine *e, char *err, size_t errlen);

/* The CLI's --dns and --timeout: used instead of the settings by every
 * probe of this engine. NULL / 0: the settings. Call before routing. */
void engine_set_probe_overrides(engine *e, const char *dns_servers, long total_timeout_ms);

/* Refresh ahead (refresh.h), for a service: domains in use are probed again
 * in the background before their answers run out, within the refresh_*
 * settings; their times of use are kept in domain_use and read back here,
 * so a restart goes on with them. Off by default: a CLI command never
 * probes ahead. The sink turns it on when it opens its engine. */
void engine_set_refresh_ahead(engine *e, int on);

/* The live figures (stats.h). engine_stats is for the routing path's
 * counts; engine_figures reads what this engine counted so far (the
 * maintenance thread writes them to the stats table every
 * ENGINE_FLUSH_EVERY_MS and engine_close writes the rest). */
#define ENGINE_FLUSH_EVERY_MS 2000
struct stats *engine_stats(engine *e);
void engine_figures(engine *e, stats_figures *out);

/* Waits until the engine's background work (learning, re-checks,
 * refreshes) is idle, or ms pass. 0 when idle. */
int engine_background_wait_idle(engine *e, unsigned ms);

/* Tests: the MTA-STS policy fetch trusts ca_file and connects to port
 * instead of 443 (NULL / 0: the system's roots, 443). Call before routing. */
void engine_set_sts_test_hooks(engine *e, const char *ca_file, unsigned port);

/* Probe results for n domains: from the probe cache, the others probed in
 * parallel under one deadline (the slowest probe, not the sum) and cached.
 * from_cache (may be NULL) gets 1 per domain answered by the cache. */
void engine_probe(engine *e, const char *const *domains, size_t n, probe_result *out,
                  int *from_cache);

/* The probe cache's live entry for a domain: 1 and *out, or 0. */
int engine_probe_cached(engine *e, const char *domain, probe_result *out);

/* A message from virtual server source_instance (0: unknown) needs
 * domain's probe answer: that use keeps the domain refreshed (refresh.h),
 * probed as that server's messages would. Cheap: one look-up in memory. */
void engine_note_use(engine *e, const char *domain, int source_instance);

/* Probes one domain now, finishing by deadline_ms (plat_now_ms clock) even
 * when its own total deadline is later; the result goes into the probe
 * cache unless the caller's deadline cut it short (that says nothing about
 * the domain). Returns 1 when it was cut short: out->status is then
 * PROBE_TIMEOUT and out->error says which deadline.
 * Single flight: callers asking for the same domain at the same time share
 * one probe (the first probes, the others wait for its answer, each until
 * its own deadline; one whose deadline passes first is cut short as
 * above). A probe the refresher is making for the domain is joined too:
 * it began earlier under the same bounds, so its answer comes no later
 * than a new probe's would. Probes running at the same time also share
 * their MX hosts' verdicts (probe_options.host_flights). */
int engine_probe_one(engine *e, const char *domain, uint64_t deadline_ms, probe_result *out);

/* How the source virtual server delivers, from its IIS configuration
 * (iis_model.h), so the probe meets what IIS's own delivery will meet. */
typedef struct {
    unsigned port;            /* RemoteSmtpPort; 0: the probe_port setting */
    const char *ehlo_name;    /* FullyQualifiedDomainName, said in EHLO when the
                                 ehlo_name setting is empty; NULL or "": none */
} engine_probe_via;

/* engine_probe_one with the port and EHLO name of via (NULL: the settings'). */
int engine_probe_one_via(engine *e, const char *domain, const engine_probe_via *via,
                         uint64_t deadline_ms, probe_result *out);

/* A virtual server that sends everything to its smart host (SmartHostType
 * "always") meets only that host: it is probed instead of the recipients'
 * MX hosts (probe_smart_host), and cached like a domain under the key
 * "smarthost:" + smart_host, so it never answers for a domain of the same
 * name. The same deadline rule as engine_probe_one. */
int engine_smart_host_cached(engine *e, const char *smart_host, probe_result *out);
int engine_probe_smart_host(engine *e, const char *smart_host, const engine_probe_via *via,
                            uint64_t deadline_ms, probe_result *out);

/* ---- IIS's own configuration (iis_model.h) -------------------------------------
 *
 * Read off the message path: the maintenance thread hands a read to the
 * background pool a second after the engine opens and then every minute
 * (iis_read.h: ADSI, else MetaBase.xml). Until the first read ends the
 * model is empty and decisions are taken as without it. A read that fails
 * where the last one found servers keeps the last one (and logs why). */

/* The model in use, never NULL; give it back with engine_release_iis. */
const iis_model *engine_acquire_iis(engine *e);
void engine_release_iis(engine *e, const iis_model *m);
/* Reads IIS's configuration now, on the calling thread (the CLI, tests).
 * 0 when the model in use is what was read (perhaps empty: no IIS here);
 * -1 with the reason in err when the read failed. */
int engine_refresh_iis(engine *e, char *err, size_t errlen);
/* Tests: this MetaBase.xml instead of the host's IIS, now and at every
 * later refresh (NULL: the host's again). engine_refresh_iis's result. */
int engine_set_iis_metabase(engine *e, const char *path, char *err, size_t errlen);

/* The policies remembered for a domain (no look-up): 1 and *out, or 0. */
int engine_policy_cached(engine *e, const char *domain, guard_result *out);

/* The domain's no-downgrade policies (guard.h: MTA-STS, DANE, each behind
 * its setting), remembered for an hour (policy.h); MTA-STS policies are
 * also kept in the database (stscache.h). Fills *out, returns out->policy.
 * Single flight like engine_probe_one: one look-up per domain at a time,
 * its answer (a failed look-up's too: those who joined stay on TLS with
 * it, and the next message asks again) shared with the callers that
 * joined; one whose deadline passes first gets DECIDE_POLICY_UNKNOWN. */
decide_policy engine_policy(engine *e, const char *domain, uint64_t deadline_ms,
                            guard_result *out);

/* Events an administrator must hear of outside the log table (the sink
 * writes them to the Event Log). The hook runs on the engine's maintenance
 * thread; text is one sentence. */
typedef enum {
    ENGINE_EVENT_PICKUP_NOT_DRAINED   /* files wait in a rule's Pickup folder */
} engine_event;
typedef void (*engine_event_fn)(void *ctx, engine_event kind, const char *text);
void engine_set_event_hook(engine *e, engine_event_fn fn, void *ctx);

/* Looks at every enabled rule's Pickup folder now (the maintenance thread
 * does it once a minute): a file older than PICKUP_UNDRAINED_MS means the
 * Plain TCP Server is not picking up; it is logged as a warning and sent to
 * the event hook at most once an hour per folder. Returns the warnings
 * given. */
int engine_watch_pickups(engine *e);

expcache *engine_expcache(engine *e);
/* The engine's background pool (bgwork.h): work that must never run on a
 * message's time. Stopped first by engine_close, before the stores close,
 * so a job may use the engine until it returns. */
struct bgwork *engine_background(engine *e);
const char *engine_db_path(const engine *e);

/* MTA-STS discovery in the background for the normalised domains of a
 * routed message (stslearn.h: TXT at most once an hour per domain, policy
 * fetched when its id changes, into sts_policy), so a policy is cached
 * while the path is clean. Nothing when guard_mta_sts is off. Uses the
 * probe's resolvers (engine_set_probe_overrides) and guard_timeout_ms per
 * domain. Returns at once. */
void engine_learn_policies(engine *e, const char *const *domains, size_t n);
/* The learner behind it, for its fetch options (stslearn_set_fetch). */
struct stslearn *engine_learner(engine *e);

/* Writes go through one connection under one lock: SQLite runs one
 * writer at a time anyway, and an in-process lock queues threads fairly
 * where SQLite's busy handler would make them sleep and retry. */
int engine_write_journal(engine *e, const journal_entry *rows, size_t n, int64_t *first_id,
                         char *err, size_t errlen);
/* journal_mark_kept_on_tls on the engine's writer. */
int engine_journal_kept_on_tls(engine *e, int64_t first_id, size_t n, const char *detail,
                               char *err, size_t errlen);
/* A probe saw domain's certificate expired at seen_ms (the probe result's
 * probed_ms; 0: now). expcache.h says how long the entry lives. */
int engine_add_expired(engine *e, const char *domain, const char *mx,
                       int64_t cert_not_after, int64_t seen_ms, char *err, size_t errlen);

/* The expired-certificate cache's re-checks: the maintenance thread looks
 * for due ones every scan_every_ms (a minute) and hands them to the
 * background pool. Tests shorten the timing here instead of waiting hours;
 * a field left 0 keeps its default (expcache.h's constants). */
typedef struct {
    int64_t confirm_after_ms;
    int64_t recheck_every_ms;
    int64_t scan_every_ms;
} engine_expired_timing;
void engine_set_expired_timing(engine *e, const engine_expired_timing *t);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void engine_log(engine *e, log_level level, const char *fmt, ...);

#endif
