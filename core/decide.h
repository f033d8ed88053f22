/* decide: the decision table of DESIGN.md as one pure function. Given what
 * is known about one recipient domain it says tls or plain, why, whether the
 * domain joins the expired-certificate cache, or that a probe is needed
 * first. No I/O, no allocation, no locks: the caller gathers the inputs. */
#ifndef TR_DECIDE_H
#define TR_DECIDE_H

#include "domset.h"

typedef enum {
    DECIDE_TLS = 0,
    DECIDE_PLAIN = 1
} decide_route;

/* In table order; names in decide_reason_name(). */
typedef enum {
    DECIDE_NO_RULE,            /* row 1 */
    DECIDE_NEVER_REDIRECT,     /* row 2 */
    DECIDE_FORCE_PLAIN,        /* row 3 */
    DECIDE_STS_POLICY,         /* row 4 */
    DECIDE_DANE,               /* row 4 */
    DECIDE_EXPIRED_CACHE,      /* row 5 */
    DECIDE_NO_STARTTLS,        /* row 6 */
    DECIDE_STARTTLS_REJECTED,  /* row 6 */
    DECIDE_CERT_EXPIRED,       /* row 7 */
    DECIDE_HANDSHAKE_FAILED,   /* row 8 */
    DECIDE_TLS_OK,             /* row 9 */
    DECIDE_PROBE_FAILED,       /* row 10 */
    DECIDE_NEEDS_PROBE         /* no row matched without a probe result */
} decide_reason;

/* A domain's published no-downgrade policy, as far as the caller knows. */
typedef enum {
    DECIDE_POLICY_NONE = 0,
    DECIDE_POLICY_STS,   /* MTA-STS in enforce mode */
    DECIDE_POLICY_DANE   /* DANE TLSA records */
} decide_policy;

/* The parts of a rule the table reads. */
typedef struct {
    int expired_cert;               /* the rule's expired toggle (rows 5, 7, 8) */
    const domset *never_redirect;   /* NULL: empty list */
    const domset *force_plain;      /* NULL: empty list */
} decide_rule;

typedef struct {
    const decide_rule *rule;   /* NULL: no enabled rule for the virtual server */
    const char *domain;        /* normalised recipient domain */
    decide_policy policy;
    int expired_cached;        /* domain is in the expired-certificate cache */
    const char *probe_status;  /* DESIGN.md vocabulary; NULL: not probed */
} decide_input;

typedef struct {
    decide_route route;
    decide_reason reason;
    int needs_probe;     /* 1: probe the domain, then decide again */
    int add_expired;     /* 1: put the domain into the expired cache */
} decide_outcome;

decide_outcome decide(const decide_input *in);
/* "no-rule", "tls-ok", ...; "needs-probe" for DECIDE_NEEDS_PROBE. */
const char *decide_reason_name(decide_reason reason);
const char *decide_route_name(decide_route route);

#endif
