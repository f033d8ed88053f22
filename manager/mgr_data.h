/* mgr_data: the manager's one door to the database. Every tab talks to the
 * database through these calls; they go to core/ for every operation and
 * translate core's rows and errors into the console's. Strings are UTF-8. Every call
 * that can fail returns 0 on success and -1 with a sentence in err. */
#ifndef TR_MGR_DATA_H
#define TR_MGR_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "overview.h"
#include "probe.h"

#define MGR_ERR_LEN 512

typedef struct mgr_db mgr_db;

/* Opens (and creates or upgrades) the database at path. */
int mgr_db_open(const char *path, mgr_db **out, char *err, size_t errlen);
void mgr_db_close(mgr_db *db);
const char *mgr_db_path(const mgr_db *db);

/* ---- Rules ---- */
typedef struct mgr_rule {
    int64_t id;                /* 0 for a rule not yet saved */
    char name[128];
    int enabled;
    int source_instance;       /* IIS SMTP virtual server number, 1 = the first */
    char pickup_dir[1024];     /* the destination (Plain TCP server) Pickup folder */
    int expired_cert;          /* "Or if recipient server SSL certificate has expired" */
    char *force_plain;         /* patterns, one per line ('\n'), owned */
    char *never_redirect;      /* patterns, one per line ('\n'), owned */
} mgr_rule;

void mgr_rule_clear(mgr_rule *r);

/* All rules in id order; *count rules in a malloc'd array (free with
 * mgr_rules_free). Lists are filled. */
int mgr_rules_list(mgr_db *db, mgr_rule **rules, size_t *count, char *err, size_t errlen);
void mgr_rules_free(mgr_rule *rules, size_t count);
/* Loads one rule by id. */
int mgr_rule_get(mgr_db *db, int64_t id, mgr_rule *r, char *err, size_t errlen);
/* Finds a rule by name (case-insensitive); 1 found, 0 not found, -1 error. */
int mgr_rule_find(mgr_db *db, const char *name, mgr_rule *r, char *err, size_t errlen);
/* Inserts (id 0) or updates the rule and replaces both domain lists, all in
 * one transaction. The lists must have passed mgr_force_plain_check and
 * mgr_domains_check. */
int mgr_rule_save(mgr_db *db, mgr_rule *r, char *err, size_t errlen);
int mgr_rule_delete(mgr_db *db, int64_t id, char *err, size_t errlen);

/* Removes blanks (spaces and tabs) from both ends of s, in place: a
 * rule name is shown and matched as typed, surrounding blanks are noise. */
void mgr_trim_blanks(char *s);

/* Before a rule is saved: the domains its force-plain list would add
 * (force_plain, one pattern a line, against the rule's stored list; every
 * one for a new rule, id 0) asked for MTA-STS enforce and DANE
 * (core/forceplain.h) within the guard_timeout_ms setting. *question is
 * NULL when nothing needs the admin's word; else a malloc'd text naming
 * each domain whose policy the list would override (and any that could
 * not be asked), ending in "Save the rule anyway?". Opens its own
 * connections: made for a worker thread. 0, or -1 with err. */
int mgr_force_plain_review(const char *db_path, int64_t rule_id, const char *force_plain,
                           char **question, char *err, size_t errlen);

/* Validates a multi-line domain list as typed by the admin. 0 when every
 * line is good (blank lines allowed); otherwise the 1-based number of the
 * first bad line, with the reason in reason. */
int mgr_domains_check(const char *text, char *reason, size_t reasonlen);
/* The same for the force-plain list, which also refuses a pattern that
 * covers a whole top-level domain ("com", "*.com"). */
int mgr_force_plain_check(const char *text, char *reason, size_t reasonlen);

/* ---- Settings ---- */
int mgr_log_level_get(mgr_db *db, char *level, size_t len, char *err, size_t errlen);
/* Writes setting log_level; the running sink sees it through the
 * configuration generation. */
int mgr_log_level_set(mgr_db *db, const char *level, char *err, size_t errlen);

/* Reading and writing one setting of settings.h; a refused value says why. */
int mgr_setting_get(mgr_db *db, const char *key, char *value, size_t len, char *err, size_t errlen);
int mgr_setting_set(mgr_db *db, const char *key, const char *value, char *err, size_t errlen);

/* ---- Journal (read side of the console) ---- */
typedef struct mgr_journal_filter {
    char text[256];            /* substring of recipient, domain, MX or detail; "" = any */
    char route[16];            /* "tls", "plain" or "" */
    char reason[64];           /* exact reason or "" */
} mgr_journal_filter;

typedef struct mgr_journal_row {
    int64_t id;
    int64_t at_ms;
    char recipient[328];       /* sizes as core/journal.h's journal_row */
    char domain[256];
    char route[8];
    char reason[40];
    char mx[256];
    char tls_version[32];
    char detail[512];
} mgr_journal_row;

/* The reasons a decision can have (the decision table's vocabulary), for
 * the filter: index 0, 1, ... until NULL. */
const char *mgr_journal_reason(size_t index);

/* The rows matching a filter, newest first, addressed by position. A view
 * is a snapshot taken at open; position -> id is O(1), so a million rows
 * open at once and any scroll position costs one small indexed query. */
typedef struct mgr_journal_view mgr_journal_view;
int mgr_journal_open(mgr_db *db, const mgr_journal_filter *f,
                     mgr_journal_view **out, char *err, size_t errlen);
void mgr_journal_close(mgr_journal_view *v);
size_t mgr_journal_count(const mgr_journal_view *v);
/* Fills rows[0..n) with positions first..first+n-1; returns how many rows
 * were read (fewer at the end), or -1. */
long mgr_journal_read(mgr_journal_view *v, size_t first, size_t n,
                      mgr_journal_row *rows, char *err, size_t errlen);

/* Writes the rows matching the filter, newest first, as CSV to out: a
 * UTF-8 byte order mark (Excel's cue), a header line, then one record per
 * row, every cell through core/csv.h (quoted, formulas neutralised).
 * format_time writes a row's time cell. *rows gets the records written. */
typedef void (*mgr_time_format)(int64_t at_ms, char *buf, size_t len);
int mgr_journal_export_csv(mgr_db *db, const mgr_journal_filter *f, FILE *out,
                           mgr_time_format format_time, size_t *rows, char *err, size_t errlen);

/* ---- Caches ---- */
typedef struct mgr_expired_row {
    char domain[256];
    char mx[256];
    int64_t cert_not_after;    /* Unix seconds, 0 unknown */
    int64_t first_seen_ms, last_seen_ms, expires_ms;
    int confirmed;             /* a second sighting 10 minutes on confirmed it */
    int64_t next_check_ms;     /* the sink probes the domain again then */
} mgr_expired_row;

typedef struct mgr_probe_row {
    char domain[256];
    char status[32];
    char mx[256];
    char tls_version[24];
    char cipher[64];
    int64_t cert_not_after;
    char error[256];
    int64_t probed_ms, expires_ms;
} mgr_probe_row;

int mgr_expired_list(mgr_db *db, mgr_expired_row **rows, size_t *count, char *err, size_t errlen);
int mgr_probe_list(mgr_db *db, mgr_probe_row **rows, size_t *count, char *err, size_t errlen);
int mgr_expired_clear(mgr_db *db, char *err, size_t errlen);
/* Takes one domain off the expired-certificate list (the running engines
 * reload the table within a second): 1 removed, 0 it was not listed,
 * -1 with err. */
int mgr_expired_remove(mgr_db *db, const char *domain, char *err, size_t errlen);
int mgr_probe_clear(mgr_db *db, char *err, size_t errlen);

/* ---- Probe ---- */
/* Probes one domain the way the sink does (MX, connect, EHLO, STARTTLS,
 * handshake, certificate) and returns the whole result as readable lines
 * in *report (malloc'd). Blocking: call it from a worker thread; it opens
 * its own connection to the database at db_path for the settings. */
int mgr_probe_domain(const char *db_path, const char *domain, char **report,
                     char *err, size_t errlen);

/* The system TLS stack's verdict (sys: Schannel on Windows, what IIS
 * sees) held against OpenSSL's (other) for the same domain: one plain
 * paragraph when they differ in a way that matters (one could negotiate
 * TLS and the other not, or they settled on different protocols), "" when
 * they agree. The report of mgr_probe_domain carries it on Windows. */
void mgr_stack_comparison(const probe_result *sys, const probe_result *other, char *out,
                          size_t len);

/* Size of the database file in bytes, -1 if unknown. */
int64_t mgr_db_file_size(mgr_db *db);

/* ---- The Plain TCP Server ---- */
/* Whether the mail handed off is being picked up: the Status tab's line
 * about the Plain TCP Server, for the first enabled rule's Pickup folder
 * (the folder `tlsrouter check` looks at too). */
typedef enum {
    MGR_PLAIN_NO_RULE = 0,     /* no enabled rule: nothing is handed off */
    MGR_PLAIN_UNREADABLE,      /* the Pickup folder cannot be listed (missing, no access) */
    MGR_PLAIN_DRAINED,         /* nothing waits */
    MGR_PLAIN_PICKING_UP,      /* files wait, none longer than PICKUP_UNDRAINED_MS */
    MGR_PLAIN_NOT_DRAINED      /* a file has waited longer: the server is not picking up */
} mgr_plain_state;

typedef struct mgr_plain_server {
    mgr_plain_state state;
    char rule[128];            /* the rule it was read for ("" for MGR_PLAIN_NO_RULE) */
    char pickup_dir[1024];
    size_t waiting;            /* files in the Pickup folder */
    int64_t oldest_age_ms;     /* how long the oldest has waited; 0 when none */
    /* What IIS says about the server picking up from pickup_dir (started,
     * its port against the source's, outbound TLS required) joins here
     * once the manager reads the IIS model (core/iis_model.h). */
} mgr_plain_server;

/* Reads the rules and lists the folder; now_ms is the wall clock
 * (plat_wall_ms) the files' ages are measured against. 0, or -1 with err
 * when the rules cannot be read. */
int mgr_plain_server_read(mgr_db *db, int64_t now_ms, mgr_plain_server *out, char *err,
                          size_t errlen);

/* ---- Live figures ---- */
/* What the engines counted (core/stats.h, written every few seconds,
 * summed over processes), as two lines for the Status tab: messages,
 * recipients, hand-offs, probes, shared probes, refreshes and cache hits;
 * OnArrival time at p50, p95, p99 and its longest. */
int mgr_figures_text(mgr_db *db, char *out, size_t len, char *err, size_t errlen);

/* ---- Overview ---- */
/* What the Overview tab shows: the last OVERVIEW_DAYS UTC days of the
 * journal by route, the domains sent plain most often in those days and
 * why, the caches, and the live figures as mgr_figures_text words them. */
typedef struct mgr_overview {
    overview_day days[OVERVIEW_DAYS];
    overview_plain_domain top[OVERVIEW_TOP];
    size_t top_count;
    overview_caches caches;
    char figures[600];
} mgr_overview;

/* Reads it all as of now_ms (plat_wall_ms). 0, or -1 with err. */
int mgr_overview_read(mgr_db *db, int64_t now_ms, mgr_overview *out, char *err, size_t errlen);

#endif
