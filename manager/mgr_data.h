/* mgr_data: the manager's one door to the database. Every tab talks to the
 * database through these calls; they go to core/ for every operation and
 * translate core's rows and errors into the console's. Strings are UTF-8. Every call
 * that can fail returns 0 on success and -1 with a sentence in err. */
#ifndef TR_MGR_DATA_H
#define TR_MGR_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal.h"
#include "log.h"
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
    char text[256];            /* substring of recipient, domain, MX, detail, sender or
                                  Message-ID; "" = any */
    char route[16];            /* "tls", "plain" or "" */
    char reason[64];           /* exact reason or "" */
    /* Tracing a message: journal_filter's, "" = any. */
    char message_id[JOURNAL_MESSAGE_ID_MAX + 1];
    char sender[328];
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
    char sender[328];
    char message_id[JOURNAL_MESSAGE_ID_MAX + 1];
} mgr_journal_row;

/* The reasons a decision can have (the decision table's vocabulary: every
 * reason core/explain.h explains), for the filter: index 0, 1, ... until
 * NULL. */
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

typedef void (*mgr_time_format)(int64_t at_ms, char *buf, size_t len);

/* Writes the rows matching the filter, newest first, as CSV to out: a
 * UTF-8 byte order mark (Excel's cue), a header line, then one record per
 * row, every cell through core/csv.h (quoted, formulas neutralised).
 * format_time writes a row's time cell. *rows gets the records written. */
int mgr_journal_export_csv(mgr_db *db, const mgr_journal_filter *f, FILE *out,
                           mgr_time_format format_time, size_t *rows, char *err, size_t errlen);

/* The selected row for the details pane: every field, then the reason in
 * plain words (core/explain.h: title, what happened, what to do). Lines
 * end in CRLF, as a Windows edit control wants them. */
void mgr_journal_details(const mgr_journal_row *r, mgr_time_format format_time, char *out,
                         size_t len);

/* ---- Log (the diagnostic log table, read side) ---- */
typedef struct mgr_log_filter {
    log_level level;           /* this level and every more severe one */
    char text[256];            /* substring of source or message, any case; "" = any */
} mgr_log_filter;

/* A positional view of the log like the journal's: the ids matching the
 * filter are read at open (the log is kept short by log_max_rows), rows
 * are read a window at a time through core/log.h's log_read_filtered. */
typedef struct mgr_log_view mgr_log_view;
int mgr_log_open(mgr_db *db, const mgr_log_filter *f, mgr_log_view **out, char *err,
                 size_t errlen);
void mgr_log_close(mgr_log_view *v);
size_t mgr_log_count(const mgr_log_view *v);
long mgr_log_read(mgr_log_view *v, size_t first, size_t n, log_row *rows, char *err,
                  size_t errlen);
/* "error", "warning", ...: the words of `tlsrouter log`. */
const char *mgr_log_level_word(log_level level);

/* ---- Positional views: what the journal and the log have in common ----
 * The console's lists, auto-refresh and exports work on either through
 * these operations; the filter and row types are the view's own. */
typedef struct mgr_view_ops {
    size_t row_size;
    const char *csv_header;    /* the header line, CRLF included */
    int (*open)(mgr_db *db, const void *filter, void **view, char *err, size_t errlen);
    void (*close)(void *view);
    size_t (*count)(const void *view);
    long (*read)(void *view, size_t first, size_t n, void *rows, char *err, size_t errlen);
    void (*csv_row)(FILE *out, const void *row, mgr_time_format format_time);
} mgr_view_ops;

extern const mgr_view_ops mgr_journal_ops;   /* mgr_journal_filter, mgr_journal_row */
extern const mgr_view_ops mgr_log_ops;       /* mgr_log_filter, log_row */

/* The export of mgr_journal_export_csv for any view. */
int mgr_view_export_csv(const mgr_view_ops *ops, mgr_db *db, const void *filter, FILE *out,
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

/* ---- What-if (the rule dialog's Preview) ---- */
/* What a rule as edited, not saved, would have done to the journal's
 * recipients of the last days days (core/journal_replay.h): the recorded
 * decisions replayed with the edited lists and expired option. */
typedef struct mgr_preview_domain {
    char domain[256];
    char old_route[8];         /* "tls" or "plain", as recorded */
    char new_route[8];         /* under the edited rule */
    size_t count;
} mgr_preview_domain;

typedef struct mgr_preview {
    int days;
    size_t looked_at;          /* recipients in the window */
    size_t changed;            /* would take the other route */
    size_t not_replayable;     /* keep their route: a fact was never recorded */
    mgr_preview_domain *domains;   /* malloc'd, most recipients first */
    size_t n_domains;
    size_t unattributed;       /* recipients journalled before the router recorded
                                  the virtual server (core/journal_replay.h) */
    int unattributed_replayed; /* 1: replayed as the rule's; 0: left out, since
                                  another virtual server has a rule */
} mgr_preview;

/* Reads the rule's source_instance, expired_cert, force_plain and
 * never_redirect (one pattern a line, as mgr_rule_save takes them; "" for
 * an unchecked list);
 * the rule need not be saved. Opens its own connection: made for a worker
 * thread. 0, or -1 with err (a bad line is named). */
int mgr_rule_preview(const char *db_path, const mgr_rule *edited, int days, mgr_preview *out,
                     char *err, size_t errlen);
void mgr_preview_free(mgr_preview *p);
/* The result in words for a message box: the counts, then up to
 * max_domains "domain: TLS -> Plain (N)" lines. */
void mgr_preview_text(const mgr_preview *p, size_t max_domains, char *out, size_t len);

/* The patterns a list as typed holds: its lines that are not blank. */
size_t mgr_list_entries(const char *text);
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
