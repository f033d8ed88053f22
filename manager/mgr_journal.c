/* mgr_journal: the positional journal view of mgr_data.h. The console's
 * own read query: core/journal.h reads only the newest N rows, and a view
 * that opens a million rows at once needs position -> id in O(1). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "mgr_priv.h"

const char *mgr_journal_reason(size_t index)
{
    return index <= DECIDE_PROBE_FAILED ? decide_reason_name((decide_reason)index) : NULL;
}

struct mgr_journal_view {
    mgr_db *db;
    sqlite3_stmt *read;
    char pattern[600];         /* LIKE pattern for the text filter, "" = none */
    char route[16], reason[64];
    size_t count;
    int dense;                 /* ids are max_id, max_id-1, ... without holes */
    int64_t max_id;
    int64_t *ids;              /* otherwise the ids, newest first */
};

#define JOURNAL_FILTER_SQL \
    " (?1 IS NULL OR recipient LIKE ?1 ESCAPE '\\' OR domain LIKE ?1 ESCAPE '\\'" \
    "  OR mx LIKE ?1 ESCAPE '\\' OR detail LIKE ?1 ESCAPE '\\')" \
    " AND (?2 IS NULL OR route = ?2) AND (?3 IS NULL OR reason = ?3)"

static void bind_filter(const mgr_journal_view *v, sqlite3_stmt *st)
{
    if (v->pattern[0])
        sqlite3_bind_text(st, 1, v->pattern, -1, SQLITE_STATIC);
    if (v->route[0])
        sqlite3_bind_text(st, 2, v->route, -1, SQLITE_STATIC);
    if (v->reason[0])
        sqlite3_bind_text(st, 3, v->reason, -1, SQLITE_STATIC);
}

static void make_like_pattern(const char *text, char *out, size_t len)
{
    size_t o = 0;
    if (!text[0]) {
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
 * when the ids have no holes, position i is simply max_id - i. */
static int journal_try_dense(mgr_journal_view *v)
{
    sqlite3_stmt *st;
    if (v->pattern[0] || v->route[0] || v->reason[0])
        return 0;
    if (sqlite3_prepare_v2(v->db->sql, "SELECT count(*), min(id), max(id) FROM journal",
                           -1, &st, NULL) != SQLITE_OK)
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

static int journal_load_ids(mgr_journal_view *v)
{
    sqlite3_stmt *st;
    size_t cap = 4096;
    if (sqlite3_prepare_v2(v->db->sql,
            "SELECT id FROM journal WHERE" JOURNAL_FILTER_SQL " ORDER BY id DESC",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    bind_filter(v, st);
    v->ids = malloc(cap * sizeof *v->ids);
    while (v->ids && sqlite3_step(st) == SQLITE_ROW) {
        if (v->count == cap) {
            int64_t *grown = realloc(v->ids, 2 * cap * sizeof *v->ids);
            if (!grown)
                break;
            v->ids = grown;
            cap *= 2;
        }
        v->ids[v->count++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v->ids ? 0 : -1;
}

int mgr_journal_open(mgr_db *db, const mgr_journal_filter *f,
                     mgr_journal_view **out, char *err, size_t errlen)
{
    mgr_journal_view *v = calloc(1, sizeof *v);
    if (!v) {
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    v->db = db;
    make_like_pattern(f->text, v->pattern, sizeof v->pattern);
    snprintf(v->route, sizeof v->route, "%s", f->route);
    snprintf(v->reason, sizeof v->reason, "%s", f->reason);
    int dense = journal_try_dense(v);
    if (dense < 0 || (!dense && journal_load_ids(v) != 0)
        || sqlite3_prepare_v2(db->sql,
               "SELECT id, at_ms, recipient, domain, route, reason, mx, tls_version, detail "
               "FROM journal WHERE id BETWEEN ?4 AND ?5 AND" JOURNAL_FILTER_SQL
               " ORDER BY id DESC LIMIT ?6", -1, &v->read, NULL) != SQLITE_OK) {
        mgr_sql_fail(db, err, errlen, "read the journal");
        mgr_journal_close(v);
        return -1;
    }
    *out = v;
    return 0;
}

void mgr_journal_close(mgr_journal_view *v)
{
    if (!v)
        return;
    sqlite3_finalize(v->read);
    free(v->ids);
    free(v);
}

size_t mgr_journal_count(const mgr_journal_view *v) { return v->count; }

static int64_t id_at(const mgr_journal_view *v, size_t pos)
{
    return v->dense ? v->max_id - (int64_t)pos : v->ids[pos];
}

long mgr_journal_read(mgr_journal_view *v, size_t first, size_t n,
                      mgr_journal_row *rows, char *err, size_t errlen)
{
    if (first >= v->count || n == 0)
        return 0;
    if (n > v->count - first)
        n = v->count - first;
    sqlite3_stmt *st = v->read;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    bind_filter(v, st);
    sqlite3_bind_int64(st, 4, id_at(v, first + n - 1));
    sqlite3_bind_int64(st, 5, id_at(v, first));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)n);
    long got = 0;
    int rc;
    while ((size_t)got < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        mgr_journal_row *r = &rows[got++];
        r->id = sqlite3_column_int64(st, 0);
        r->at_ms = sqlite3_column_int64(st, 1);
        mgr_copy_text(r->recipient, sizeof r->recipient, sqlite3_column_text(st, 2));
        mgr_copy_text(r->domain, sizeof r->domain, sqlite3_column_text(st, 3));
        mgr_copy_text(r->route, sizeof r->route, sqlite3_column_text(st, 4));
        mgr_copy_text(r->reason, sizeof r->reason, sqlite3_column_text(st, 5));
        mgr_copy_text(r->mx, sizeof r->mx, sqlite3_column_text(st, 6));
        mgr_copy_text(r->tls_version, sizeof r->tls_version, sqlite3_column_text(st, 7));
        mgr_copy_text(r->detail, sizeof r->detail, sqlite3_column_text(st, 8));
    }
    sqlite3_reset(st);
    if (got == 0 && n > 0 && sqlite3_errcode(v->db->sql) != SQLITE_OK
        && sqlite3_errcode(v->db->sql) != SQLITE_DONE)
        return mgr_sql_fail(v->db, err, errlen, "read the journal");
    return got;
}
