/* checkrun: see checkrun.h. */
#include "checkrun.h"

#include <process.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkhost.h"
#include "plat.h"

typedef struct checkrun_job {
    HWND to;
    UINT msg;
    char db_path[PLAT_PATH_MAX];
    checkrun_result *result;
} checkrun_job;

/* The checks ask DNS and connect to a mail server: seconds, off the UI
 * thread. */
static unsigned __stdcall checkrun_worker(void *arg)
{
    checkrun_job *job = arg;
    check_options o = { .db_path = job->db_path, .host = checkhost_windows() };
    job->result->rc = check_run(&o, &job->result->rows, &job->result->n);
    if (!PostMessageW(job->to, job->msg, 0, (LPARAM)job->result))
        checkrun_free(job->result);   /* the window is gone */
    free(job);
    return 0;
}

int checkrun_start(HWND to, UINT msg, const char *db_path)
{
    checkrun_job *job = calloc(1, sizeof *job);
    checkrun_result *result = calloc(1, sizeof *result);
    if (!job || !result) {
        free(job);
        free(result);
        return -1;
    }
    job->to = to;
    job->msg = msg;
    job->result = result;
    snprintf(job->db_path, sizeof job->db_path, "%s", db_path);
    uintptr_t th = _beginthreadex(NULL, 0, checkrun_worker, job, 0, NULL);
    if (!th) {
        free(result);
        free(job);
        return -1;
    }
    CloseHandle((HANDLE)th);
    return 0;
}

void checkrun_free(checkrun_result *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r);
}

check_status checkrun_verdict(const check_row *rows, size_t n)
{
    check_status worst = CHECK_OK;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status == CHECK_FAIL)
            return CHECK_FAIL;
        if (rows[i].status == CHECK_WARN)
            worst = CHECK_WARN;
    }
    return worst;
}
