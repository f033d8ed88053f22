/* forceplain: the force-plain list beats the no-downgrade guards (row 5
 * of the decision table comes before row 6): a domain on it goes plain
 * even when it publishes an MTA-STS policy in enforce mode or DANE. Before
 * patterns go on the list, the CLI and the manager ask the domains through
 * guard_check, so the admin learns what the list would override and may
 * still insist. */
#ifndef TR_FORCEPLAIN_H
#define TR_FORCEPLAIN_H

#include <stddef.h>

#include "decide.h"
#include "domain.h"
#include "guard.h"

/* Domains asked at once; more wait for a free thread. */
#define FORCEPLAIN_THREADS 16

typedef enum {
    FORCEPLAIN_POLICY,     /* publishes MTA-STS enforce or DANE: warn */
    FORCEPLAIN_UNKNOWN     /* a look-up got no usable answer: say so */
} forceplain_kind;

typedef struct {
    char domain[DOMAIN_BUF];
    forceplain_kind kind;
    decide_policy policy;              /* STS or DANE for FORCEPLAIN_POLICY */
    char detail[GUARD_DETAIL_MAX];     /* guard_check's sentence */
} forceplain_finding;

/* Asks every pattern that names one domain (a wildcard names none: it is
 * not asked) for its no-downgrade policies, all within timeout_ms of now.
 * The guards' settings, DNS servers and MTA-STS policy cache are those of
 * the database at db_path, each look-up on a connection of its own;
 * dns_servers (NULL: the setting) overrides the DNS servers. Patterns are
 * as typed (normalised here); bad ones are skipped, the caller checks
 * them. Fills out (room for n) with what there is to say, domains that
 * publish nothing left out; returns how many, or -1 when memory ran out
 * (nothing could be asked). */
long forceplain_ask(const char *db_path, const char *dns_servers,
                      const char *const *patterns, size_t n, unsigned timeout_ms,
                      forceplain_finding *out);

/* One sentence for the admin about a finding. */
void forceplain_describe(const forceplain_finding *f, char *buf, size_t len);

#endif
