/* journal: one row per recipient decision, one transaction per message, and
 * retention by age and row count enforced in small batches (the engine's
 * maintenance thread runs them) so routing never waits on a big DELETE. A journal object wraps one SQLite connection and
 * is used by one thread at a time. */
#ifndef TR_JOURNAL_H
#define TR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "probe.h"

typedef struct sqlite3 sqlite3;

/* The longest Message-ID stored: RFC 5322's line limit. The header may be
 * any length; the journal, its exports and the console's columns need not
 * be. A longer one keeps its start, cut between two characters, and ends
 * in JOURNAL_CUT_MARK, the whole within the limit. */
#define JOURNAL_MESSAGE_ID_MAX 998
#define JOURNAL_CUT_MARK "...[cut]"

typedef struct {
    int64_t at_ms;             /* wall clock, ms since the epoch */
    const char *message_id;    /* NULL: unknown */
    const char *sender;
    const char *recipient;
    const char *domain;
    int plain;                 /* 1: plain, 0: tls */
    decide_reason reason;      /* stored as decide_reason_name() */
    probe_status status;       /* stored as probe_status_name(): "" when not probed */
    const char *mx;
    const char *tls_version;
    const char *detail;
    int64_t elapsed_ms;
    int source_instance;       /* the IIS virtual server the message came from,
                                  1..; 0: unknown, stored as NULL */
} journal_entry;

typedef struct journal journal;

journal *journal_open(sqlite3 *db, char *err, size_t errlen);
void journal_close(journal *j);

/* Limits from the settings journal_max_age_days and journal_max_rows;
 * 0 turns a limit off. */
void journal_set_retention(journal *j, int max_age_days, int64_t max_rows);

/* All rows of one message in one transaction. */
int journal_write(journal *j, const journal_entry *rows, size_t n, char *err, size_t errlen);
/* Id of the first row of the last journal_write on this journal; the rows
 * of one write have consecutive ids (one writer holds the database). */
int64_t journal_last_first_id(const journal *j);

/* Rows first_id .. first_id+n-1 that say plain now say tls, with detail:
 * for a hand-off taken back after the journal was written. Returns the
 * rows changed or -1. */
int journal_mark_kept_on_tls(sqlite3 *db, int64_t first_id, size_t n, const char *detail,
                             char *err, size_t errlen);

/* Deletes at most batch rows beyond the limits. Returns the number of rows
 * deleted (0: nothing left to prune) or -1. */
int journal_prune_step(journal *j, int64_t now_ms, int batch);

/* Reading, for the CLI and the manager: the newest rows first. */
typedef struct {
    int64_t id;
    int64_t at_ms;
    char message_id[JOURNAL_MESSAGE_ID_MAX + 1];
    char sender[328];
    char recipient[328];
    char domain[256];
    char route[8];
    char reason[32];
    char status[32];
    char mx[256];
    char tls_version[32];
    char detail[512];
    int64_t elapsed_ms;
    int source_instance;       /* 0: not recorded (a row older than schema
                                  version 7, or a writer that did not know) */
} journal_row;

/* The newest limit rows (newest first) in a fresh array (free()). */
int journal_read(sqlite3 *db, size_t limit, journal_row **rows, size_t *n,
                 char *err, size_t errlen);

/* A positional view for a scrolling console: the rows matching a filter,
 * newest first, addressed by position. The set is a snapshot taken at open
 * (rows written later do not shift positions); position -> id is O(1), so a
 * million rows open at once and any position costs one small indexed query.
 * The view uses db, which must outlive it, from one thread at a time. */
typedef struct {
    const char *text;          /* substring of recipient, domain, MX, detail,
                                  sender or Message-ID, ignoring ASCII case;
                                  NULL or "" = any */
    const char *route;         /* "tls", "plain"; NULL or "" = any */
    const char *reason;        /* exact reason; NULL or "" = any */
    /* Tracing one message or one sender. Blanks around the value and one
     * pair of angle brackets around it are ignored, so "<id@host>" and
     * "id@host" find the same rows. NULL or "" = any. */
    const char *message_id;    /* the exact Message-ID ("<>": messages without) */
    const char *sender;        /* the exact envelope sender, ignoring ASCII case
                                  in all of it; "<>" is the null sender */
} journal_filter;

typedef struct journal_view journal_view;
int journal_view_open(sqlite3 *db, const journal_filter *f, journal_view **out,
                      char *err, size_t errlen);
void journal_view_close(journal_view *v);
size_t journal_view_count(const journal_view *v);
/* Fills rows[0..n) with positions first..first+n-1; returns how many rows
 * were read (fewer at the end; rows deleted since open are skipped), or -1. */
long journal_view_read(journal_view *v, size_t first, size_t n, journal_row *rows,
                       char *err, size_t errlen);

#endif
