/* log: one INSERT per message (log volume is small next to the journal);
 * retention trims by id like the journal. */
#include "log.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plat.h"

int log_write(sqlite3 *db, log_level threshold, log_level level, const char *source,
              const char *fmt, ...)
{
    if (level > threshold || !db)
        return 0;
    char text[1024];
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
