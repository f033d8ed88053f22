/* journal: prepared statements kept per connection; pruning by id ranges,
 * which SQLite answers from the primary key without a scan. */
#include "journal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "errtext.h"


/* Rows per multi-row INSERT: one statement step for 16 rows cuts the
 * per-row cost of a 100-recipient message by about a third. */
#define JOURNAL_ROWS_PER_INSERT 16
#define JOURNAL_COLUMNS 13

struct journal {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *insert, *insert_many;
    int max_age_days;
    int64_t max_rows;
    int64_t last_first_id;
};

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
        return 0;
    errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(db));
    return -1;
}

#define JOURNAL_INSERT_HEAD                                                          \
    "INSERT INTO journal (at_ms, message_id, sender, recipient, domain,"             \
    " route, reason, status, mx, tls_version, detail, elapsed_ms, source_instance) VALUES "
#define JOURNAL_ROW_PARAMS "(?,?,?,?,?,?,?,?,?,?,?,?,?)"

static char *insert_many_sql(void)
{
    size_t head = strlen(JOURNAL_INSERT_HEAD), row = strlen(JOURNAL_ROW_PARAMS) + 1;
    char *sql = malloc(head + row * JOURNAL_ROWS_PER_INSERT + 1);
    if (!sql)
        return NULL;
    char *p = sql;
    memcpy(p, JOURNAL_INSERT_HEAD, head);
    p += head;
    for (int i = 0; i < JOURNAL_ROWS_PER_INSERT; i++) {
        if (i)
            *p++ = ',';
        memcpy(p, JOURNAL_ROW_PARAMS, row - 1);
        p += row - 1;
    }
    *p = '\0';
    return sql;
}

journal *journal_open(sqlite3 *db, char *err, size_t errlen)
{
    journal *j = calloc(1, sizeof *j);
    if (!j) {
        errtext_set(err, errlen, "journal: out of memory");
        return NULL;
    }
    j->db = db;
    j->max_age_days = SETTING_DEFAULT_journal_max_age_days;
    j->max_rows = SETTING_DEFAULT_journal_max_rows;
    /* IMMEDIATE takes the write lock up front: no deadlock between two
     * writers that both started as readers. */
    if (prepare(db, "BEGIN IMMEDIATE", &j->begin, err, errlen) != 0 ||
        prepare(db, "COMMIT", &j->commit, err, errlen) != 0 ||
        prepare(db, "ROLLBACK", &j->rollback, err, errlen) != 0 ||
        prepare(db, JOURNAL_INSERT_HEAD JOURNAL_ROW_PARAMS, &j->insert, err, errlen) != 0) {
        journal_close(j);
        return NULL;
    }
    char *many = insert_many_sql();
    if (!many || prepare(db, many, &j->insert_many, err, errlen) != 0) {
        if (!many)
            errtext_set(err, errlen, "journal: out of memory");
        free(many);
        journal_close(j);
        return NULL;
    }
    free(many);
    return j;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    sqlite3_finalize(j->begin);
    sqlite3_finalize(j->commit);
    sqlite3_finalize(j->rollback);
    sqlite3_finalize(j->insert);
    sqlite3_finalize(j->insert_many);
    free(j);
}

void journal_set_retention(journal *j, int max_age_days, int64_t max_rows)
{
    j->max_age_days = max_age_days;
    j->max_rows = max_rows;
}

static int step_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* The Message-ID as stored (journal.h): id itself when it fits, else its
 * cut form in buf. The cut never ends inside a UTF-8 sequence: it backs up
 * over continuation bytes to the start of the character it would split. */
static const char *stored_message_id(const char *id, char buf[JOURNAL_MESSAGE_ID_MAX + 1])
{
    static const char mark[] = JOURNAL_CUT_MARK;
    if (!id || strlen(id) <= JOURNAL_MESSAGE_ID_MAX)
        return or_empty(id);
    size_t keep = JOURNAL_MESSAGE_ID_MAX - (sizeof mark - 1);
    while (keep > 0 && ((unsigned char)id[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(buf, id, keep);
    memcpy(buf + keep, mark, sizeof mark);
    return buf;
}

/* Binds one row at parameter offset base (0 for the first row). */
static void bind_row(sqlite3_stmt *st, int base, const journal_entry *e)
{
    char cut[JOURNAL_MESSAGE_ID_MAX + 1];
    const char *message_id = stored_message_id(e->message_id, cut);
    sqlite3_bind_int64(st, base + 1, e->at_ms);
    /* A cut copy lives on this stack frame: SQLite takes its own copy. */
    sqlite3_bind_text(st, base + 2, message_id, -1,
                      message_id == cut ? SQLITE_TRANSIENT : SQLITE_STATIC);
    sqlite3_bind_text(st, base + 3, or_empty(e->sender), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 4, or_empty(e->recipient), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 5, or_empty(e->domain), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 6, e->plain ? "plain" : "tls", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 7, decide_reason_name(e->reason), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 8, probe_status_name(e->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 9, or_empty(e->mx), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 10, or_empty(e->tls_version), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 11, or_empty(e->detail), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 12, e->elapsed_ms);
    if (e->source_instance > 0)
        sqlite3_bind_int(st, base + 13, e->source_instance);
    else
        sqlite3_bind_null(st, base + 13);
}

/* Inserts rows[0..n) with as few statement steps as possible. */
static int insert_rows(journal *j, const journal_entry *rows, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int many = n - i >= JOURNAL_ROWS_PER_INSERT;
        sqlite3_stmt *st = many ? j->insert_many : j->insert;
        size_t k = many ? JOURNAL_ROWS_PER_INSERT : 1;
        for (size_t r = 0; r < k; r++)
            bind_row(st, (int)r * JOURNAL_COLUMNS, &rows[i + r]);
        int rc = step_once(st);
        sqlite3_clear_bindings(st);
        if (rc != 0)
            return -1;
        i += k;
    }
    return 0;
}

int journal_write(journal *j, const journal_entry *rows, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    if (step_once(j->begin) != 0) {
        errtext_set(err, errlen, "journal: cannot begin: %s", sqlite3_errmsg(j->db));
        return -1;
    }
    if (insert_rows(j, rows, n) != 0) {
        errtext_set(err, errlen, "journal: cannot insert: %s", sqlite3_errmsg(j->db));
        step_once(j->rollback);
        return -1;
    }
    /* Read before COMMIT, while this transaction still owns the ids. */
    int64_t last = sqlite3_last_insert_rowid(j->db);
    if (step_once(j->commit) != 0) {
        errtext_set(err, errlen, "journal: cannot commit: %s", sqlite3_errmsg(j->db));
        step_once(j->rollback);
        return -1;
    }
    j->last_first_id = last - (int64_t)n + 1;
    return 0;
}

int64_t journal_last_first_id(const journal *j) { return j->last_first_id; }

int journal_mark_kept_on_tls(sqlite3 *db, int64_t first_id, size_t n, const char *detail,
                             char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE journal SET route = 'tls', detail = ?3"
                           " WHERE id BETWEEN ?1 AND ?2 AND route = 'plain'",
                           -1, &st, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, first_id);
    sqlite3_bind_int64(st, 2, first_id + (int64_t)n - 1);
    sqlite3_bind_text(st, 3, detail ? detail : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_changes(db);
}

static int64_t query_int(sqlite3 *db, const char *sql, int64_t arg, int64_t fallback)
{
    sqlite3_stmt *st;
    int64_t v = fallback;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return fallback;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, arg);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The highest id that may be deleted: all but the newest max_rows ids
 * (ids only grow, so those are the ids above max(id) - max_rows), and the
 * newest row older than the age limit, found through the at_ms index.
 * Both are index lookups, never a scan. */
static int64_t prune_bound(journal *j, int64_t now_ms)
{
    int64_t bound = -1;
    if (j->max_rows > 0) {
        int64_t top = query_int(j->db, "SELECT max(id) FROM journal", 0, 0);
        if (top > j->max_rows)
            bound = top - j->max_rows;
    }
    if (j->max_age_days > 0) {
        int64_t cutoff = now_ms - (int64_t)j->max_age_days * 86400000;
        int64_t old = query_int(j->db,
                                "SELECT id FROM journal WHERE at_ms < ?"
                                " ORDER BY at_ms DESC LIMIT 1",
                                cutoff, -1);
        if (old > bound)
            bound = old;
    }
    return bound;
}

int journal_prune_step(journal *j, int64_t now_ms, int batch)
{
    int64_t bound = prune_bound(j, now_ms);
    if (bound < 0)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "DELETE FROM journal WHERE id IN (SELECT id FROM journal"
                           " WHERE id <= ? ORDER BY id LIMIT ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, bound);
    sqlite3_bind_int(st, 2, batch);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(j->db) : -1;
    sqlite3_finalize(st);
    return rc;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static void read_row(sqlite3_stmt *st, journal_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->at_ms = sqlite3_column_int64(st, 1);
    copy_col(r->message_id, sizeof r->message_id, st, 2);
    copy_col(r->sender, sizeof r->sender, st, 3);
    copy_col(r->recipient, sizeof r->recipient, st, 4);
    copy_col(r->domain, sizeof r->domain, st, 5);
    copy_col(r->route, sizeof r->route, st, 6);
    copy_col(r->reason, sizeof r->reason, st, 7);
    copy_col(r->status, sizeof r->status, st, 8);
    copy_col(r->mx, sizeof r->mx, st, 9);
    copy_col(r->tls_version, sizeof r->tls_version, st, 10);
    copy_col(r->detail, sizeof r->detail, st, 11);
    r->elapsed_ms = sqlite3_column_int64(st, 12);
    r->source_instance = sqlite3_column_type(st, 13) == SQLITE_NULL ? 0
                                                                   : sqlite3_column_int(st, 13);
}

int journal_read(sqlite3 *db, size_t limit, journal_row **rows, size_t *n,
                 char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, at_ms, message_id, sender, recipient, domain, route,"
                           " reason, status, mx, tls_version, detail, elapsed_ms,"
                           " source_instance FROM journal ORDER BY id DESC LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            journal_row *nr = realloc(*rows, ncap * sizeof **rows);
            if (!nr) {
                rc = SQLITE_NOMEM;
                break;
            }
            *rows = nr;
            cap = ncap;
        }
        read_row(st, &(*rows)[(*n)++]);
    }
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "journal: %s",
                    rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        free(*rows);
        *rows = NULL;
        *n = 0;
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- positional view ---------------------------------------------------- */

struct journal_view {
    sqlite3 *db;
    sqlite3_stmt *read;
    char pattern[600];         /* LIKE pattern for the text filter, "" = none */
    char route[16], reason[64];
    char *message_id;          /* trace_key() of the filter's, NULL = any */
    char *sender;
    size_t count;
    int dense;                 /* ids are max_id, max_id-1, ... without holes */
    int64_t max_id;
    int64_t *ids;              /* otherwise the ids, newest first */
    int out_of_memory;         /* why opening failed, when it did */
};

/* ?7 and ?8 are trace keys (trace_key). A Message-ID matches stored with
 * or without its angle brackets. A sender matches ignoring ASCII case in
 * the whole address: domains are case-insensitive and mail systems treat
 * local parts so in practice, so a trace must not miss a message over an
 * address copied in another case. "" is the null sender, which IIS may
 * hand over as "<>". */
#define VIEW_FILTER_SQL \
    " (?1 IS NULL OR recipient LIKE ?1 ESCAPE '\\' OR domain LIKE ?1 ESCAPE '\\'" \
    "  OR mx LIKE ?1 ESCAPE '\\' OR detail LIKE ?1 ESCAPE '\\'" \
    "  OR sender LIKE ?1 ESCAPE '\\' OR message_id LIKE ?1 ESCAPE '\\')" \
    " AND (?2 IS NULL OR route = ?2) AND (?3 IS NULL OR reason = ?3)" \
    " AND (?7 IS NULL OR message_id = ?7 OR message_id = '<' || ?7 || '>')" \
    " AND (?8 IS NULL OR sender = ?8 COLLATE NOCASE" \
    "  OR sender = '<' || ?8 || '>' COLLATE NOCASE OR (?8 = '' AND sender = '<>'))"

static void view_bind_filter(const journal_view *v, sqlite3_stmt *st)
{
    if (v->pattern[0])
        sqlite3_bind_text(st, 1, v->pattern, -1, SQLITE_STATIC);
    if (v->route[0])
        sqlite3_bind_text(st, 2, v->route, -1, SQLITE_STATIC);
    if (v->reason[0])
        sqlite3_bind_text(st, 3, v->reason, -1, SQLITE_STATIC);
    if (v->message_id)
        sqlite3_bind_text(st, 7, v->message_id, -1, SQLITE_STATIC);
    if (v->sender)
        sqlite3_bind_text(st, 8, v->sender, -1, SQLITE_STATIC);
}

/* A Message-ID or sender as typed, made a trace key: blanks around it and
 * one pair of angle brackets around that are not part of it ("<>" is ""
 * then). *key is NULL for NULL or "" (any), else a fresh copy; -1 when out
 * of memory. */
static int trace_key(const char *typed, char **key)
{
    *key = NULL;
    if (!typed || !typed[0])
        return 0;
    size_t start = strspn(typed, " \t"), end = strlen(typed);
    while (end > start && (typed[end - 1] == ' ' || typed[end - 1] == '\t'))
        end--;
    if (end - start >= 2 && typed[start] == '<' && typed[end - 1] == '>') {
        start++;
        end--;
    }
    *key = malloc(end - start + 1);
    if (!*key)
        return -1;
    memcpy(*key, typed + start, end - start);
    (*key)[end - start] = '\0';
    return 0;
}

/* "%text%" with LIKE's own wildcards escaped: the admin types plain text. */
static void view_like_pattern(const char *text, char *out, size_t len)
{
    size_t o = 0;
    if (!text || !text[0]) {
        out[0] = 0;
        return;
    }
    out[o++] = '%';
    for (const char *p = text; *p && o + 3 < len; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '%';
    out[o] = 0;
}

/* Unfiltered: count and id bounds come from the rowid index in a few ms;
 * when the ids have no holes, position i is simply max_id - i. 1 dense,
 * 0 not (or filtered), -1 error. */
static int view_try_dense(journal_view *v)
{
    sqlite3_stmt *st;
    if (v->pattern[0] || v->route[0] || v->reason[0] || v->message_id || v->sender)
        return 0;
    if (sqlite3_prepare_v2(v->db, "SELECT count(*), min(id), max(id) FROM journal", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        int64_t lo = sqlite3_column_int64(st, 1), hi = sqlite3_column_int64(st, 2);
        if (n == 0 || hi - lo + 1 == n) {
            v->dense = 1;
            v->count = (size_t)n;
            v->max_id = hi;
        }
    }
    sqlite3_finalize(st);
    return v->dense;
}

static int view_load_ids(journal_view *v)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    if (sqlite3_prepare_v2(v->db, "SELECT id FROM journal WHERE" VIEW_FILTER_SQL
                                  " ORDER BY id DESC", -1, &st, NULL) != SQLITE_OK)
        return -1;
    view_bind_filter(v, st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            int64_t *grown = realloc(v->ids, ncap * sizeof *grown);
            if (!grown) {
                rc = SQLITE_NOMEM;
                v->out_of_memory = 1;
                break;
            }
            v->ids = grown;
            cap = ncap;
        }
        v->ids[v->count++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int journal_view_open(sqlite3 *db, const journal_filter *f, journal_view **out,
                      char *err, size_t errlen)
{
    journal_view *v = calloc(1, sizeof *v);
    *out = NULL;
    if (!v) {
        errtext_set(err, errlen, "journal: out of memory");
        return -1;
    }
    v->db = db;
    view_like_pattern(f ? f->text : NULL, v->pattern, sizeof v->pattern);
    snprintf(v->route, sizeof v->route, "%s", f && f->route ? f->route : "");
    snprintf(v->reason, sizeof v->reason, "%s", f && f->reason ? f->reason : "");
    if (f && (trace_key(f->message_id, &v->message_id) != 0
              || trace_key(f->sender, &v->sender) != 0)) {
        errtext_set(err, errlen, "journal: out of memory");
        journal_view_close(v);
        return -1;
    }
    int dense = view_try_dense(v);
    if (dense < 0 || (!dense && view_load_ids(v) != 0)
        || sqlite3_prepare_v2(db,
               "SELECT id, at_ms, message_id, sender, recipient, domain, route, reason, status,"
               " mx, tls_version, detail, elapsed_ms, source_instance FROM journal"
               " WHERE id BETWEEN ?4 AND ?5 AND" VIEW_FILTER_SQL " ORDER BY id DESC LIMIT ?6",
               -1, &v->read, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "journal: %s",
                    v->out_of_memory ? "out of memory" : sqlite3_errmsg(db));
        journal_view_close(v);
        return -1;
    }
    *out = v;
    return 0;
}

void journal_view_close(journal_view *v)
{
    if (!v)
        return;
    sqlite3_finalize(v->read);
    free(v->ids);
    free(v->message_id);
    free(v->sender);
    free(v);
}

size_t journal_view_count(const journal_view *v) { return v->count; }

static int64_t view_id_at(const journal_view *v, size_t pos)
{
    return v->dense ? v->max_id - (int64_t)pos : v->ids[pos];
}

long journal_view_read(journal_view *v, size_t first, size_t n, journal_row *rows,
                       char *err, size_t errlen)
{
    if (first >= v->count || n == 0)
        return 0;
    if (n > v->count - first)
        n = v->count - first;
    sqlite3_stmt *st = v->read;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    view_bind_filter(v, st);
    sqlite3_bind_int64(st, 4, view_id_at(v, first + n - 1));
    sqlite3_bind_int64(st, 5, view_id_at(v, first));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)n);
    long got = 0;
    int rc = SQLITE_DONE;
    while ((size_t)got < n && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_row(st, &rows[got++]);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(v->db));
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return got;
}
