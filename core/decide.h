/* decide: the decision table of DESIGN.md as one pure function. Given what
 * is known about one recipient domain it says tls or plain, why, whether the
 * domain joins the expired-certificate cache, or that a probe is needed
 * first. No I/O, no allocation, no locks: the caller gathers the inputs. */
#ifndef TR_DECIDE_H
#define TR_DECIDE_H

#include "domset.h"
#include "probe.h"

typedef enum {
    DECIDE_TLS = 0,
    DECIDE_PLAIN = 1
} decide_route;

/* In table order (DESIGN.md rows); names in decide_reason_name(). New
 * values go at the end: the numbers are not stored, the names are. */
typedef enum {
    DECIDE_NO_RULE,            /* row 1 */
    DECIDE_NEVER_REDIRECT,     /* row 4 */
    DECIDE_FORCE_PLAIN,        /* row 5 */
    DECIDE_STS_POLICY,         /* row 6 */
    DECIDE_DANE,               /* row 6 */
    DECIDE_EXPIRED_CACHE,      /* row 8 */
    DECIDE_NO_STARTTLS,        /* row 9 */
    DECIDE_STARTTLS_REJECTED,  /* row 9 */
    DECIDE_CERT_EXPIRED,       /* row 10 */
    DECIDE_HANDSHAKE_FAILED,   /* row 11 (also cert-not-yet-valid) */
    DECIDE_TLS_OK,             /* row 12 */
    DECIDE_PROBE_FAILED,       /* row 13 */
    DECIDE_NEEDS_PROBE,        /* no row matched without a probe result */
    DECIDE_LOOP,               /* row 2: the message carries our hand-off trace */
    DECIDE_GUARD_UNKNOWN,      /* row 7: a guard look-up got no usable answer */
    DECIDE_ADDRESS_REFUSED,    /* not a row: the recipient (or the sender) cannot
                                  go into a pickup file, so it stays on TLS */
    DECIDE_IIS_LOCAL_DOMAIN,   /* row 3: a local or alias domain of the source server */
    DECIDE_IIS_DOMAIN_ROUTE    /* row 3: a remote domain IIS routes itself */
} decide_reason;

#define DECIDE_REASON_COUNT 18

/* What IIS itself does with the domain on the source virtual server, as
 * its configuration says (iis_model.h); row 3. */
typedef enum {
    DECIDE_IIS_NONE = 0,       /* nothing of its own (or IIS is not known) */
    DECIDE_IIS_LOCAL,          /* a local domain: default or alias */
    DECIDE_IIS_ROUTED          /* a remote domain entry with its own route:
                                  smart host, TLS required, drop */
} decide_iis;

/* A domain's published no-downgrade policy, as far as the caller knows. */
typedef enum {
    DECIDE_POLICY_NONE = 0,
    DECIDE_POLICY_STS,     /* MTA-STS in enforce mode */
    DECIDE_POLICY_DANE,    /* DANE TLSA records */
    DECIDE_POLICY_UNKNOWN  /* a look-up got no usable answer: fail closed */
} decide_policy;

/* The parts of a rule the table reads. */
typedef struct {
    int expired_cert;               /* the rule's expired toggle (rows 5, 7, 8) */
    const domset *never_redirect;   /* NULL: empty list */
    const domset *force_plain;      /* NULL: empty list */
} decide_rule;

typedef struct {
    const decide_rule *rule;   /* NULL: no enabled rule for the virtual server */
    int looped;                /* the message already carries this server's
                                  hand-off trace: it came back (row 2) */
    decide_iis iis;            /* row 3 */
    const char *domain;        /* normalised recipient domain */
    decide_policy policy;
    int expired_cached;        /* domain is in the expired-certificate cache */
    probe_status probe_status; /* PROBE_NOT_PROBED: no probe result yet */
} decide_input;

typedef struct {
    decide_route route;
    decide_reason reason;
    int needs_probe;     /* 1: probe the domain, then decide again */
    int add_expired;     /* 1: put the domain into the expired cache */
} decide_outcome;

decide_outcome decide(const decide_input *in);
/* The one name table of the reasons: "no-rule", "tls-ok", ..., "needs-probe"
 * for DECIDE_NEEDS_PROBE, "address-refused"; these words are what the
 * journal stores. */
const char *decide_reason_name(decide_reason reason);
/* 0 and *out set when name is one of those words, else -1. */
int decide_reason_parse(const char *name, decide_reason *out);
const char *decide_route_name(decide_route route);

#endif
