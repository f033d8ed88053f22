/* sink_event: the reason -> Event Log message table. Reasons that never
 * route plain (the tls rows, address-refused) still have an entry, so the
 * table has no holes and a new reason cannot be forgotten quietly. */
#include "sink_event.h"

#include "tlsrouter_msg.h"

static const DWORD plain_events[] = {
    [DECIDE_NO_RULE] = MSG_ROUTED_PLAIN,
    [DECIDE_NEVER_REDIRECT] = MSG_ROUTED_PLAIN,
    [DECIDE_FORCE_PLAIN] = MSG_ROUTED_PLAIN,
    [DECIDE_STS_POLICY] = MSG_ROUTED_PLAIN,
    [DECIDE_DANE] = MSG_ROUTED_PLAIN,
    [DECIDE_EXPIRED_CACHE] = MSG_CERT_EXPIRED,
    [DECIDE_NO_STARTTLS] = MSG_NO_TLS,
    [DECIDE_STARTTLS_REJECTED] = MSG_STARTTLS_ERROR,
    [DECIDE_CERT_EXPIRED] = MSG_CERT_EXPIRED,
    [DECIDE_HANDSHAKE_FAILED] = MSG_ROUTED_PLAIN,
    [DECIDE_TLS_OK] = MSG_ROUTED_PLAIN,
    [DECIDE_PROBE_FAILED] = MSG_ROUTED_PLAIN,
    [DECIDE_NEEDS_PROBE] = MSG_ROUTED_PLAIN,
    [DECIDE_LOOP] = MSG_ROUTED_PLAIN,
    [DECIDE_GUARD_UNKNOWN] = MSG_ROUTED_PLAIN,
    [DECIDE_ADDRESS_REFUSED] = MSG_ROUTED_PLAIN,
    [DECIDE_IIS_LOCAL_DOMAIN] = MSG_ROUTED_PLAIN,
    [DECIDE_IIS_DOMAIN_ROUTE] = MSG_ROUTED_PLAIN,
};
_Static_assert(sizeof plain_events / sizeof plain_events[0] == DECIDE_REASON_COUNT,
               "one Event Log message per decide_reason");

DWORD sink_plain_event(decide_reason reason)
{
    return (unsigned)reason < DECIDE_REASON_COUNT ? plain_events[reason] : 0;
}
