/* decide: first match wins, top to bottom, exactly as the table in
 * DESIGN.md reads. Rows 1-8 need no probe; rows 9-13 read its status. */
#include "decide.h"

#include <string.h>

static decide_outcome outcome(decide_route route, decide_reason reason)
{
    decide_outcome o = { route, reason, 0, 0 };
    return o;
}

/* Rows 9-13 from the probe status. Anything the table does not name
 * (connect-failed, timeout, dns-failed, no-domain, null-mx,
 * protocol-error, or a word we do not know) is "could not tell": the
 * message stays with IIS, which keeps its own retry. */
static decide_outcome decide_from_probe(const decide_rule *rule, const char *status)
{
    if (strcmp(status, "no-starttls") == 0)
        return outcome(DECIDE_PLAIN, DECIDE_NO_STARTTLS);
    if (strcmp(status, "starttls-rejected") == 0)
        return outcome(DECIDE_PLAIN, DECIDE_STARTTLS_REJECTED);
    if (strcmp(status, "cert-expired") == 0) {
        if (!rule->expired_cert)
            return outcome(DECIDE_TLS, DECIDE_CERT_EXPIRED);
        decide_outcome o = outcome(DECIDE_PLAIN, DECIDE_CERT_EXPIRED);
        o.add_expired = 1;
        return o;
    }
    /* A certificate not valid yet is a clock or issuance problem of the
     * peer, not proof that its TLS is broken for good: row 11's toggle. */
    if (strcmp(status, "handshake-failed") == 0 || strcmp(status, "cert-not-yet-valid") == 0)
        return outcome(rule->expired_cert ? DECIDE_PLAIN : DECIDE_TLS,
                       DECIDE_HANDSHAKE_FAILED);
    if (strcmp(status, "starttls") == 0)
        return outcome(DECIDE_TLS, DECIDE_TLS_OK);
    return outcome(DECIDE_TLS, DECIDE_PROBE_FAILED);
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
    if (!in->probe_status) {
        decide_outcome o = outcome(DECIDE_TLS, DECIDE_NEEDS_PROBE);
        o.needs_probe = 1;
        return o;
    }
    return decide_from_probe(rule, in->probe_status);
}

const char *decide_reason_name(decide_reason reason)
{
    static const char *const names[] = {
        "no-rule", "never-redirect-list", "force-plain-list", "sts-policy",
        "dane", "expired-cache", "no-starttls", "starttls-rejected",
        "cert-expired", "handshake-failed", "tls-ok", "probe-failed",
        "needs-probe", "loop", "guard-unknown", "iis-local-domain", "iis-domain-route",
    };
    if ((unsigned)reason < sizeof names / sizeof names[0])
        return names[reason];
    return "unknown";
}

const char *decide_route_name(decide_route route)
{
    return route == DECIDE_PLAIN ? "plain" : "tls";
}
