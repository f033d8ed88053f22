/* sink_event: which Event Log message tells the administrator that a
 * recipient was sent through the Plain TCP server, by the reason it was:
 * IIS's own words where it has them, the generic message otherwise. */
#ifndef TR_SINK_EVENT_H
#define TR_SINK_EVENT_H

#include <windows.h>

#include "decide.h"

/* The message id (tlsrouter_msg.h) for a recipient routed plain for
 * reason. Every reason has one (test_sink checks the table); 0 only for a
 * value outside the enum. */
DWORD sink_plain_event(decide_reason reason);

#endif
