/* log: one INSERT per message (log volume is small next to the journal);
 * retention trims by id like the journal. */
#include "log.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "errtext.h"
#include "plat.h"

int log_write(sqlite3 *db, log_level threshold, log_level level, const char *source,
              const char *fmt, ...)
{
    if (level > threshold || !db)
        return 0;
    char text[LOG_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO log (at_ms, level, source, message) VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, plat_wall_ms());
    sqlite3_bind_int(st, 2, (int)level);
    sqlite3_bind_text(st, 3, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int log_prune_step(sqlite3 *db, int64_t max_rows, int batch)
{
    if (max_rows <= 0)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM log WHERE id IN (SELECT id FROM log WHERE id <="
                           " (SELECT max(id) FROM log) - ? ORDER BY id LIMIT ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, max_rows);
    sqlite3_bind_int(st, 2, batch);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
    sqlite3_finalize(st);
    return rc;
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", s ? (const char *)s : "");
}

long log_read(sqlite3 *db, log_level most_verbose, int64_t before_id, log_row *rows, size_t n,
              char *err, size_t errlen)
{
    log_filter f = { .most_verbose = most_verbose, .text = NULL };
    return log_read_filtered(db, &f, before_id, rows, n, err, errlen);
}

long log_read_filtered(sqlite3 *db, const log_filter *f, int64_t before_id, log_row *rows,
                       size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    /* Newest first by the primary key: a range scan that stops after n.
     * instr() rather than LIKE: the admin's text is searched as typed,
     * with no wildcard to escape; lower() folds ASCII only, as the
     * journal's search does. */
    if (sqlite3_prepare_v2(db,
                           "SELECT id, at_ms, level, source, message FROM log"
                           " WHERE id < ?1 AND level <= ?2 AND (?4 IS NULL"
                           "  OR instr(lower(source), lower(?4)) > 0"
                           "  OR instr(lower(message), lower(?4)) > 0)"
                           " ORDER BY id DESC LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "log: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int(st, 2, (int)f->most_verbose);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
    if (f->text && f->text[0])
        sqlite3_bind_text(st, 4, f->text, -1, SQLITE_STATIC);
    long got = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        log_row *r = &rows[got++];
        r->id = sqlite3_column_int64(st, 0);
        r->at_ms = sqlite3_column_int64(st, 1);
        r->level = (log_level)sqlite3_column_int(st, 2);
        copy_text(r->source, sizeof r->source, st, 3);
        copy_text(r->message, sizeof r->message, st, 4);
    }
    if (rc != SQLITE_DONE) {
        errtext_set(err, errlen, "log: %s", sqlite3_errmsg(db));
        got = -1;
    }
    sqlite3_finalize(st);
    return got;
}
