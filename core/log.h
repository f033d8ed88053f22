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

/* The longest message stored, its terminating NUL included: a longer one
 * keeps its first LOG_MESSAGE_MAX - 1 bytes. */
#define LOG_MESSAGE_MAX 1024

/* Writes one row when level <= threshold. 0 on success or when filtered. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
int log_write(sqlite3 *db, log_level threshold, log_level level, const char *source,
              const char *fmt, ...);

/* Reading, for the CLI and the manager: one row of the log table. */
typedef struct {
    int64_t id;
    int64_t at_ms;             /* wall clock, ms since the epoch */
    log_level level;
    char source[64];
    char message[LOG_MESSAGE_MAX];
} log_row;

/* Up to n rows at level or more severe (level <= most_verbose), newest
 * first, older than before_id (0: from the newest). Page on by passing the
 * last row's id. Returns the rows read (0: no more) or -1 with err. */
long log_read(sqlite3 *db, log_level most_verbose, int64_t before_id, log_row *rows, size_t n,
              char *err, size_t errlen);

/* What the manager's Log tab searches for: log_read's level, and text
 * found in the source or the message, ignoring ASCII case (NULL or "" =
 * any). */
typedef struct {
    log_level most_verbose;
    const char *text;
} log_filter;

/* log_read with a filter: the same paging by before_id. */
long log_read_filtered(sqlite3 *db, const log_filter *f, int64_t before_id, log_row *rows,
                       size_t n, char *err, size_t errlen);

/* Deletes at most batch of the oldest rows beyond max_rows (0: no limit).
 * Returns the rows deleted or -1. */
int log_prune_step(sqlite3 *db, int64_t max_rows, int batch);

#endif
