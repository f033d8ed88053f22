/* checkrun: the setup checks of `tlsrouter check` (core/check.h) on a
 * worker thread, for any window that shows them: the Status tab lists
 * them, the Overview tab shows their verdict as a colour. */
#ifndef TR_MGR_CHECKRUN_H
#define TR_MGR_CHECKRUN_H

#include <windows.h>

#include "check.h"

typedef struct checkrun_result {
    int rc;                    /* check_run's: 0, or -1 out of memory */
    check_row *rows;
    size_t n;
} checkrun_result;

/* Runs the checks against the database at db_path with the Windows facts
 * (checkhost.h) and posts msg to to with lParam = the checkrun_result
 * (the receiver frees it with checkrun_free). 0 started, -1 when Windows
 * refused a thread. */
int checkrun_start(HWND to, UINT msg, const char *db_path);
void checkrun_free(checkrun_result *r);

/* What the rows add up to: CHECK_FAIL if any failed, else CHECK_WARN if
 * any warned, else CHECK_OK. */
check_status checkrun_verdict(const check_row *rows, size_t n);

#endif
