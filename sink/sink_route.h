/* sink_route: the sink's one door into the core engine. It owns the
 * process-wide engine: opened on first use (the database is
 * $TLSROUTER_DB, else %ProgramData%\TLS Router\tlsrouter.db), shared by all
 * threads, closed by sink_route_shutdown when the DLL is about to unload. */
#ifndef TR_SINK_ROUTE_H
#define TR_SINK_ROUTE_H

#include <stddef.h>

#include "engine.h"
#include "route.h"

/* route_run on the process engine. 0 when route_run ran (its own status is
 * in *status, out is filled and must be freed with route_result_free
 * either way); -1 when there is no engine, with the reason in err. */
int sink_route_run(const route_message *msg, route_result *out, int *status, char *err,
                   size_t errlen);

/* route_undo on the process engine: the pickup file of a routed message is
 * taken back and its recipients (and journal rows) put back on TLS. 0 when
 * the file is gone; -1 when it could not be removed or there is no engine. */
int sink_route_undo(route_result *res, const char *why);

/* Put one line into the database's log table through the engine (source
 * "engine"), if it is open; the Event Log gets the same line from
 * sink_log. Must not be called while sink_route holds its lock. */
void sink_route_log(int level, const char *text);

/* Close the engine; waits for routing calls still running. The next
 * sink_route_run opens it again. */
void sink_route_shutdown(void);

#endif
