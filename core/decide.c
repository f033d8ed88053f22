/* decide: first match wins, top to bottom, exactly as the table in
 * DESIGN.md reads. Rows 1-8 need no probe; rows 9-13 read its status. */
#include "decide.h"

#include <string.h>

static decide_outcome outcome(decide_route route, decide_reason reason)
{
    decide_outcome o = { .route = route, .reason = reason };
    return o;
}

/* Rows 9-13 from the probe status. Anything the table does not name
 * (connect-failed, timeout, dns-failed, no-domain, null-mx,
 * protocol-error, or PROBE_UNKNOWN: a word we do not know) is "could not
 * tell": the message stays with IIS, which keeps its own retry. */
static decide_outcome decide_from_probe(const decide_rule *rule, probe_status status)
{
    switch (status) {
    case PROBE_NO_STARTTLS:
        return outcome(DECIDE_PLAIN, DECIDE_NO_STARTTLS);
    case PROBE_STARTTLS_REJECTED:
        return outcome(DECIDE_PLAIN, DECIDE_STARTTLS_REJECTED);
    case PROBE_CERT_EXPIRED: {
        if (!rule->expired_cert)
            return outcome(DECIDE_TLS, DECIDE_CERT_EXPIRED);
        decide_outcome o = outcome(DECIDE_PLAIN, DECIDE_CERT_EXPIRED);
        o.add_expired = 1;
        return o;
    }
    /* A certificate not valid yet is a clock or issuance problem of the
     * peer, not proof that its TLS is broken for good: row 11's toggle. */
    case PROBE_HANDSHAKE_FAILED:
    case PROBE_CERT_NOT_YET_VALID:
        return outcome(rule->expired_cert ? DECIDE_PLAIN : DECIDE_TLS,
                       DECIDE_HANDSHAKE_FAILED);
    case PROBE_STARTTLS:
        return outcome(DECIDE_TLS, DECIDE_TLS_OK);
    default:
        return outcome(DECIDE_TLS, DECIDE_PROBE_FAILED);
    }
}

decide_outcome decide(const decide_input *in)
{
    const decide_rule *rule = in->rule;
    if (!rule)
        return outcome(DECIDE_TLS, DECIDE_NO_RULE);
    if (in->looped)
        return outcome(DECIDE_TLS, DECIDE_LOOP);
    /* IIS delivers or routes the domain itself: handing it to the Plain
     * server would take it off IIS's own route. */
    if (in->iis == DECIDE_IIS_LOCAL)
        return outcome(DECIDE_TLS, DECIDE_IIS_LOCAL_DOMAIN);
    if (in->iis == DECIDE_IIS_ROUTED)
        return outcome(DECIDE_TLS, DECIDE_IIS_DOMAIN_ROUTE);
    if (domset_matches(rule->never_redirect, in->domain))
        return outcome(DECIDE_TLS, DECIDE_NEVER_REDIRECT);
    if (domset_matches(rule->force_plain, in->domain))
        return outcome(DECIDE_PLAIN, DECIDE_FORCE_PLAIN);
    if (in->policy == DECIDE_POLICY_STS)
        return outcome(DECIDE_TLS, DECIDE_STS_POLICY);
    if (in->policy == DECIDE_POLICY_DANE)
        return outcome(DECIDE_TLS, DECIDE_DANE);
    if (in->policy == DECIDE_POLICY_UNKNOWN)
        return outcome(DECIDE_TLS, DECIDE_GUARD_UNKNOWN);
    if (in->expired_cached && rule->expired_cert)
        return outcome(DECIDE_PLAIN, DECIDE_EXPIRED_CACHE);
    if (in->probe_status == PROBE_NOT_PROBED) {
        decide_outcome o = outcome(DECIDE_TLS, DECIDE_NEEDS_PROBE);
        o.needs_probe = 1;
        return o;
    }
    return decide_from_probe(rule, in->probe_status);
}

static const char *const reason_names[] = {
    [DECIDE_NO_RULE] = "no-rule",
    [DECIDE_NEVER_REDIRECT] = "never-redirect-list",
    [DECIDE_FORCE_PLAIN] = "force-plain-list",
    [DECIDE_STS_POLICY] = "sts-policy",
    [DECIDE_DANE] = "dane",
    [DECIDE_EXPIRED_CACHE] = "expired-cache",
    [DECIDE_NO_STARTTLS] = "no-starttls",
    [DECIDE_STARTTLS_REJECTED] = "starttls-rejected",
    [DECIDE_CERT_EXPIRED] = "cert-expired",
    [DECIDE_HANDSHAKE_FAILED] = "handshake-failed",
    [DECIDE_TLS_OK] = "tls-ok",
    [DECIDE_PROBE_FAILED] = "probe-failed",
    [DECIDE_NEEDS_PROBE] = "needs-probe",
    [DECIDE_LOOP] = "loop",
    [DECIDE_GUARD_UNKNOWN] = "guard-unknown",
    [DECIDE_ADDRESS_REFUSED] = "address-refused",
    [DECIDE_IIS_LOCAL_DOMAIN] = "iis-local-domain",
    [DECIDE_IIS_DOMAIN_ROUTE] = "iis-domain-route",
};
_Static_assert(sizeof reason_names / sizeof reason_names[0] == DECIDE_REASON_COUNT,
               "one name per decide_reason");

const char *decide_reason_name(decide_reason reason)
{
    if ((unsigned)reason < DECIDE_REASON_COUNT)
        return reason_names[reason];
    return "unknown";
}

int decide_reason_parse(const char *name, decide_reason *out)
{
    for (unsigned i = 0; i < DECIDE_REASON_COUNT; i++)
        if (strcmp(name, reason_names[i]) == 0) {
            *out = (decide_reason)i;
            return 0;
        }
    return -1;
}

const char *decide_route_name(decide_route route)
{
    return route == DECIDE_PLAIN ? "plain" : "tls";
}
