/* mgr_priv: what the files of the manager's data door (mgr_data.c,
 * mgr_journal.c, mgr_log.c, mgr_view.c, mgr_cache.c) share; nothing outside them includes it. */
#ifndef TR_MGR_PRIV_H
#define TR_MGR_PRIV_H

#include <stddef.h>

#include "mgr_data.h"
#include "plat.h"
#include "store.h"

struct mgr_db {
    store *st;
    sqlite3 *sql;              /* store_db(st), for the core modules that take a connection */
    char path[PLAT_PATH_MAX];
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void mgr_set_err(char *err, size_t errlen, const char *fmt, ...);
/* "Could not <what>: <SQLite's reason>." in err; returns -1. */
int mgr_sql_fail(mgr_db *db, char *err, size_t errlen, const char *what);
/* A column's text, "" for NULL. */
void mgr_copy_text(char *dst, size_t len, const unsigned char *src);

#endif
