/* engine_db: how the engine gets its SQLite connections. Every
 * connection it opens is ready for concurrent use: WAL, a busy timeout,
 * foreign keys on. */
#ifndef TR_ENGINE_DB_H
#define TR_ENGINE_DB_H

#include <stddef.h>

typedef struct sqlite3 sqlite3;

int engine_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);
void engine_db_close(sqlite3 *db);

#endif
