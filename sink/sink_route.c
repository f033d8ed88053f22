/* sink_route: the process-wide engine behind a reader/writer lock.
 *
 * Routing calls hold the lock shared for the whole route_run, so any number
 * of SMTP threads route at once; opening and closing take it exclusively,
 * so the engine is created exactly once however many threads arrive
 * together, and never closed while a call is using it. Unlike a one-shot
 * InitOnce this lets DllCanUnloadNow close the engine and a later message
 * open it again. A failed open is retried by the next message (the
 * database may appear later), reported to the Event Log at most once a
 * minute so a broken install does not flood it. */
#include "sink.h"
#include "sink_route.h"
#include "tlsrouter_msg.h"

#include "plat.h"

#include <stdio.h>
#include <string.h>

#define SINK_OPEN_REPORT_INTERVAL_MS 60000u

static SRWLOCK engine_lock = SRWLOCK_INIT;
static engine *process_engine;
static ULONGLONG last_open_report;
static int open_reported;

/* The engine's warnings the administrator must see in the Event Log. */
static void engine_event_to_log(void *ctx, engine_event kind, const char *text)
{
    (void)ctx;
    if (kind == ENGINE_EVENT_PICKUP_NOT_DRAINED)
        sink_log_event(SINK_LOG_WARNING, MSG_PICKUP_NOT_DRAINED, 1, text);
}

/* With engine_lock held exclusively. 1 when the failure should be
 * reported (after the lock is released: reporting logs through us). */
static int open_engine_locked(char *db_path, size_t pathlen, char *err, size_t errlen)
{
    char why[256] = "";
    ULONGLONG now;
    if (plat_default_db_path(db_path, pathlen) != 0) {
        snprintf(err, errlen, "no database path (TLSROUTER_DB unset and no ProgramData folder)");
        db_path[0] = '\0';
    } else if (engine_open(db_path, &process_engine, why, sizeof why) != 0) {
        process_engine = NULL;
        snprintf(err, errlen, "%s", why[0] ? why : "engine_open failed");
    } else {
        engine_set_event_hook(process_engine, engine_event_to_log, NULL);
        /* The SMTP service is long-lived: its domains are kept warm. */
        engine_set_refresh_ahead(process_engine, 1);
        open_reported = 0;
        return 0;
    }
    now = GetTickCount64();
    if (open_reported && now - last_open_report < SINK_OPEN_REPORT_INTERVAL_MS)
        return 0;
    last_open_report = now;
    open_reported = 1;
    return 1;
}

/* The configured log level also filters the Event Log. */
static void follow_log_level(engine *e)
{
    engine_config *cfg = engine_acquire_config(e);
    if (cfg) {
        sink_log_set_level((int)cfg->log_level);
        engine_release_config(e, cfg);
    }
}

/* With engine_lock held shared on return, and 0; or -1 (not held) with the
 * reason in err when the engine cannot be opened. */
static int acquire_engine(char *err, size_t errlen)
{
    char db_path[PLAT_PATH_MAX];
    AcquireSRWLockShared(&engine_lock);
    while (!process_engine) {
        int report = 0;
        ReleaseSRWLockShared(&engine_lock);
        AcquireSRWLockExclusive(&engine_lock);
        if (!process_engine)
            report = open_engine_locked(db_path, sizeof db_path, err, errlen);
        if (!process_engine) {
            ReleaseSRWLockExclusive(&engine_lock);
            if (report)
                sink_log_event(SINK_LOG_ERROR, MSG_ENGINE_UNAVAILABLE, 2, db_path, err);
            return -1;
        }
        ReleaseSRWLockExclusive(&engine_lock);
        AcquireSRWLockShared(&engine_lock);
    }
    return 0;
}

int sink_route_run(const route_message *msg, route_result *out, int *status, char *err,
                   size_t errlen)
{
    if (acquire_engine(err, errlen) != 0)
        return -1;
    follow_log_level(process_engine);
    *status = route_run(process_engine, msg, out);
    ReleaseSRWLockShared(&engine_lock);
    return 0;
}

int sink_route_undo(route_result *res, const char *why)
{
    int rc = -1;
    AcquireSRWLockShared(&engine_lock);
    if (process_engine)
        rc = route_undo(process_engine, res, why);
    ReleaseSRWLockShared(&engine_lock);
    return rc;
}

void sink_route_log(int level, const char *text)
{
    AcquireSRWLockShared(&engine_lock);
    if (process_engine)
        engine_log(process_engine, (log_level)level, "%s", text);
    ReleaseSRWLockShared(&engine_lock);
}

void sink_route_shutdown(void)
{
    AcquireSRWLockExclusive(&engine_lock);
    if (process_engine) {
        engine_close(process_engine);
        process_engine = NULL;
    }
    ReleaseSRWLockExclusive(&engine_lock);
}
