/* journal_world: a scratch database opened through the store with the
 * journal's writer on it, for the tests of what reads the journal. */
#ifndef TR_JOURNAL_WORLD_H
#define TR_JOURNAL_WORLD_H

#include <sqlite3.h>

#include "journal.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    trtest_scratch dir;
    store *st;
    sqlite3 *db;               /* store_db(st) */
    journal *j;
} journal_world;

/* A new world in a scratch folder named after name (a cmocka failure when
 * it cannot be made); close with journal_world_close. */
journal_world *journal_world_open(const char *name);
void journal_world_close(journal_world *w);

#endif
