/* store_priv: what the store_*.c files share and nobody else sees: the
 * handle, the statement cache and the transaction helpers. */
#ifndef TR_STORE_PRIV_H
#define TR_STORE_PRIV_H

#include <sqlite3.h>

#include "store.h"

/* Cached statements; their SQL is in store.c. */
enum stmt_id {
    Q_GENERATION,
    Q_SETTING_GET,
    Q_SETTING_SET,
    Q_RULE_ADD,
    Q_RULE_GET,
    Q_RULE_FOR_SOURCE,
    Q_RULE_LIST,
    Q_RULE_UPDATE,
    Q_RULE_RENAME,
    Q_RULE_DELETE,
    Q_RULE_ID,
    Q_DOMAIN_ADD,
    Q_DOMAIN_REMOVE,
    Q_DOMAIN_LIST,
    Q_COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmts[Q_COUNT];
    char err[PLAT_PATH_MAX + 256];   /* room for a path and a sentence */
};

/* Record an error sentence (store_error) and return st. */
store_status store_fail(store *s, store_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Record SQLite's current error after what; BUSY/READ_ONLY/IO by its code. */
store_status store_fail_sql(store *s, const char *what);
/* A cached prepared statement ready to bind, or NULL (error recorded). */
sqlite3_stmt *store_stmt(store *s, enum stmt_id id);
/* Reset and unbind a statement for its next use. */
void store_stmt_done(sqlite3_stmt *st);
/* Step a statement that returns no rows, then store_stmt_done it. */
store_status store_step_done(store *s, sqlite3_stmt *st, const char *what);
/* BEGIN IMMEDIATE, waiting up to STORE_BUSY_MS for other writers. */
store_status store_begin_write(store *s);
store_status store_commit(store *s);
/* Undo the transaction and return st (the error already recorded). */
store_status store_rollback(store *s, store_status st);

#endif
