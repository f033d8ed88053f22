/* policy: the no-downgrade policies of row 4 (MTA-STS and DANE, looked up
 * by guard.h), remembered per domain for an hour so a busy server does not
 * ask DNS for every message. Only domains about to be routed plain are
 * looked up, so TLS domains never pay for it. */
#ifndef TR_POLICY_H
#define TR_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "guard.h"

/* A memo of looked-up policies, thread-safe. */
typedef struct policy_memo policy_memo;

#define POLICY_MEMO_TTL_MS (3600 * 1000)

policy_memo *policy_memo_new(void);
void policy_memo_free(policy_memo *m);
/* 1 and *out when domain was looked up less than an hour before now_ms
 * with the same guard settings (a bit set of what was switched on). */
int policy_memo_get(policy_memo *m, const char *domain, unsigned settings, int64_t now_ms,
                    guard_result *out);
void policy_memo_put(policy_memo *m, const char *domain, unsigned settings, int64_t now_ms,
                     const guard_result *g);
/* Drops what was remembered of domain: a policy learnt since (stslearn)
 * must not wait out the hour behind a remembered "no policy". */
void policy_memo_forget(policy_memo *m, const char *domain);

#endif
