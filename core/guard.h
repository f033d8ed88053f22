/* guard: no silent downgrade. Before a domain is routed plain, does it
 * publish a policy that forbids it (row 4 of the decision table)?
 *
 *  - MTA-STS (RFC 8461, mtasts.h and stscache.h): a policy in "enforce" mode
 *    means never plain (reason sts-policy). "testing" changes no route; the
 *    caller logs a warning (result.warn). "none" or no policy: nothing.
 *  - DANE (RFC 7672, dane.h): a DNSSEC-validated MX RRset and validated,
 *    usable TLSA records at _<port>._tcp.<mx> for one of its hosts mean
 *    never plain (reason dane). Validated TLSA records under an MX RRset
 *    that is not validated do not count (RFC 7672 2.2); detail says so.
 *
 * Each guard has a setting (guard_mta_sts, guard_dane; both on by default).
 * The two run at the same time, under the caller's deadline.
 *
 * Fail closed: a look-up that gets no usable answer (timeout, SERVFAIL,
 * network error; a TLSA failure under a validated MX RRset, RFC 7672 2.2)
 * gives DECIDE_POLICY_UNKNOWN, which keeps the domain on TLS (reason
 * guard-unknown) so IIS retries later. Only where RFC 8461 section 5 says
 * to carry on as though there were no policy (the TXT record is there but
 * the policy cannot be fetched or is refused, and none is cached) does a
 * failure count as no policy, with a warning. An MTA-STS policy cached
 * before stays in force until its max_age runs out, whatever DNS says. */
#ifndef TR_GUARD_H
#define TR_GUARD_H

#include <stdint.h>

#include "decide.h"
#include "mtasts.h"
#include "store.h"
#include "stscache.h"

#define GUARD_DANE_MX_MAX 4   /* MX hosts whose TLSA records are asked */
#define GUARD_DETAIL_MAX 256

typedef struct {
    int mta_sts;              /* the guard_mta_sts setting */
    int dane;                 /* the guard_dane setting */
    const char *dns_servers;  /* NULL or "": the system's */
    unsigned smtp_port;       /* TLSA name _<port>._tcp.<mx>: 25, the port of
                                 mail exchange (RFC 7672 2.2.3), even when
                                 the probe uses another */
    mtasts_options sts;       /* fetch options: CA file and test hooks */
    char dns_buf[512];        /* room for dns_servers read from the store */
} guard_options;

void guard_options_default(guard_options *o);
/* Settings guard_mta_sts, guard_dane and dns_servers on top of the
 * defaults. Returns STORE_OK or the first failure. */
store_status guard_options_load(store *st, guard_options *o);

typedef struct {
    decide_policy policy;     /* what row 6/7 needs: STS (enforce), DANE, UNKNOWN
                                 (a look-up got no usable answer) or NONE */
    int warn;                 /* log detail as a warning: an MTA-STS policy in
                                 testing mode, or one announced but not had */
    int sts_checked;          /* the MTA-STS guard ran */
    mtasts_status sts_status; /* MTASTS_OK when a policy is in force */
    mtasts_mode sts_mode;
    char sts_id[MTASTS_ID_MAX + 1];
    int dane_checked;         /* the DANE guard ran */
    int dane;                 /* DANE applies */
    char dane_mx[DOMAIN_BUF]; /* the MX host whose TLSA records decided it */
    int transient;            /* a look-up failed (timeout, SERVFAIL, fetch):
                                 ask again next time rather than remember */
    int sts_unknown;          /* the MTA-STS TXT look-up got no answer */
    int dane_unknown;         /* an MX or TLSA look-up DANE needs got none */
    char detail[GUARD_DETAIL_MAX]; /* one sentence for the journal */
} guard_result;

/* Check the normalised domain by deadline_ms (plat_now_ms clock). cache
 * keeps MTA-STS policies (NULL: a throw-away cache); db may be NULL. */
void guard_check(stscache *cache, store *db, const char *domain, const guard_options *o,
                 uint64_t deadline_ms, guard_result *out);

#endif
