/* journal_world: see journal_world.h. */
#include "journal_world.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

journal_world *journal_world_open(const char *name)
{
    journal_world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_scratch_make(&w->dir, name), 0);
    if (store_open(w->dir.db, &w->st, err, sizeof err) != STORE_OK)
        fail_msg("%s", err);
    w->db = store_db(w->st);
    w->j = journal_open(w->db, err, sizeof err);
    if (!w->j)
        fail_msg("%s", err);
    return w;
}

void journal_world_close(journal_world *w)
{
    if (!w)
        return;
    journal_close(w->j);
    store_close(w->st);
    trtest_scratch_remove(&w->dir);
    free(w);
}
