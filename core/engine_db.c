/* engine_db: interim opener until the store module lands on main; it
 * creates the schema on an empty database. */
#include "engine_db.h"

#include <sqlite3.h>
#include <stdio.h>

extern const char tr_schema_sql[];

static int has_schema(sqlite3 *db)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = 'config_generation'", -1,
                           &st, NULL) != SQLITE_OK)
        return 0;
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int engine_db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    *out = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         " PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        (!has_schema(db) &&
         sqlite3_exec(db, tr_schema_sql, NULL, NULL, NULL) != SQLITE_OK)) {
        snprintf(err, errlen, "cannot prepare %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void engine_db_close(sqlite3 *db) { sqlite3_close(db); }
