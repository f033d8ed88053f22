/* policy: does a domain publish a no-downgrade policy (row 4 of the
 * decision table)? DANE: DNSSEC-validated TLSA records for its MX hosts
 * (RFC 7672). MTA-STS: a "v=STSv1" TXT record at _mta-sts.<domain>
 * (RFC 8461). The policy's mode sits on an HTTPS server that is not
 * fetched: every announced policy counts as enforce, the side on which
 * mail stays encrypted.
 *
 * Looked up only for domains about to be routed plain, and remembered for
 * an hour per engine, so TLS domains never pay for it. */
#ifndef TR_POLICY_H
#define TR_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"

/* The domain's policy, asking servers ("HOST[:PORT],..."; NULL: the
 * system's) until deadline_ms (plat_now_ms clock). Any look-up that fails
 * counts as no policy: the probe already decided the domain cannot do
 * TLS as IIS needs. */
decide_policy policy_lookup(const char *servers, const char *domain, uint64_t deadline_ms);

/* A memo of looked-up policies, thread-safe. */
typedef struct policy_memo policy_memo;

#define POLICY_MEMO_TTL_MS (3600 * 1000)

policy_memo *policy_memo_new(void);
void policy_memo_free(policy_memo *m);
/* 1 and *out when domain was looked up less than an hour before now_ms. */
int policy_memo_get(policy_memo *m, const char *domain, int64_t now_ms, decide_policy *out);
void policy_memo_put(policy_memo *m, const char *domain, int64_t now_ms, decide_policy p);

#endif
