/* log: the diagnostic log, by level, into the log table of the database.
 * Messages above the configured level cost one comparison. */
#ifndef TR_LOG_H
#define TR_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* The levels of the log table's level column; their names are
 * store_log_level_name() / store_log_level_parse(). */
typedef enum {
    LOG_ERROR = 0,
    LOG_WARNING = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
    LOG_FULL_DEBUG = 4
} log_level;

/* Writes one row when level <= threshold. 0 on success or when filtered. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
int log_write(sqlite3 *db, log_level threshold, log_level level, const char *source,
              const char *fmt, ...);

/* Deletes at most batch of the oldest rows beyond max_rows (0: no limit).
 * Returns the rows deleted or -1. */
int log_prune_step(sqlite3 *db, int64_t max_rows, int batch);

#endif
