/* mtasts: SMTP MTA Strict Transport Security (RFC 8461).
 *
 * A domain that publishes an MTA-STS policy in "enforce" mode requires its
 * mail to arrive over TLS; routing it plain would be exactly the downgrade
 * the policy forbids. This module parses the `_mta-sts.<domain>` TXT record
 * and the policy file, and fetches the policy from
 * https://mta-sts.<domain>/.well-known/mta-sts.txt (through https.h). The
 * cache that honours max_age and id changes is stscache.h.
 *
 * Parsers never allocate and refuse bad input with a static reason meant for
 * the administrator. */
#ifndef TR_MTASTS_H
#define TR_MTASTS_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"

#define MTASTS_ID_MAX 32           /* RFC 8461 3.1: 1*32(ALPHA / DIGIT) */
#define MTASTS_MAX_AGE_LIMIT 31557600u /* one year, RFC 8461 3.2 */
#define MTASTS_MX_MAX 32           /* mx lines kept; more are refused */
#define MTASTS_BODY_MAX 65536      /* policy size limit, RFC 8461 3.3 */
#define MTASTS_TIMEOUT_MS 60000    /* fetch deadline, RFC 8461 3.3 */
#define MTASTS_ERR_MAX 200

typedef enum {
    MTASTS_MODE_NONE = 0,
    MTASTS_MODE_TESTING,
    MTASTS_MODE_ENFORCE
} mtasts_mode;

const char *mtasts_mode_name(mtasts_mode mode);   /* "none", "testing", "enforce" */
int mtasts_mode_parse(const char *name, mtasts_mode *mode); /* 0 or -1 */

/* The TXT record: what matters is its id, which changes with the policy. */
typedef struct {
    char id[MTASTS_ID_MAX + 1];
} mtasts_txt;

/* Parse one record ("v=STSv1; id=20190429T010101;"), len bytes (the record
 * may hold NULs from the wire; they make it invalid). 0 or -1 with *reason. */
int mtasts_txt_parse(const char *record, size_t len, mtasts_txt *out, const char **reason);

/* Pick the policy record among all TXT records of _mta-sts.<domain>: records
 * not starting with "v=STSv1;" are ignored; exactly one must remain and be
 * valid (RFC 8461 3.1), else -1 with *reason. */
int mtasts_txt_select(char *const *records, size_t count, mtasts_txt *out,
                      const char **reason);

typedef struct {
    mtasts_mode mode;
    uint32_t max_age;  /* seconds, at most MTASTS_MAX_AGE_LIMIT */
    size_t mx_count;
    char mx[MTASTS_MX_MAX][DOMAIN_BUF]; /* normalised; "*.x" = one label of x */
} mtasts_policy;

/* Parse a policy file of len bytes: "key: value" lines ended by LF or CRLF;
 * version STSv1, mode and max_age required, once each; mx required (one or
 * more) unless mode is none; unknown keys ignored. 0 or -1 with *reason;
 * *line (may be NULL) receives the 1-based line at fault, 0 if none. */
int mtasts_policy_parse(const char *text, size_t len, mtasts_policy *out,
                        const char **reason, size_t *line);

/* Does the policy allow this MX host? RFC 8461 4.1: "mx.example.com"
 * matches itself only, "*.example.com" matches exactly one more label. */
int mtasts_mx_allowed(const mtasts_policy *policy, const char *mx_host);

/* The mx patterns as lines ("a\nb"), for the sts_policy table; and back.
 * Join returns -1 when buf is too small. Split returns -1 on a bad pattern. */
int mtasts_mx_join(const mtasts_policy *policy, char *buf, size_t len);
int mtasts_mx_split(const char *text, mtasts_policy *policy);

/* ---- discovery and fetch ---------------------------------------------- */

typedef struct {
    const char *dns_servers;  /* NULL or "": the system's */
    const char *ca_file;      /* PEM bundle; NULL: the system's trust store */
    /* Test hooks: where mta-sts.<domain> is (numeric address; NULL resolves
     * the name) and its port (0: 443). The certificate is still checked
     * against mta-sts.<domain>. */
    const char *connect_ip;
    unsigned port;
    unsigned timeout_ms;      /* whole fetch; 0: MTASTS_TIMEOUT_MS */
} mtasts_options;

typedef enum {
    MTASTS_OK = 0,      /* found (TXT) / fetched and parsed (policy) */
    MTASTS_NONE,        /* no usable TXT record: the domain has no policy */
    MTASTS_DNS_FAILED,  /* TXT look-up failed (SERVFAIL, timeout) */
    MTASTS_FETCH_FAILED,/* HTTPS failed: connect, certificate, status, size, deadline */
    MTASTS_INVALID      /* the policy file was refused */
} mtasts_status;

const char *mtasts_status_name(mtasts_status st);

/* Look up and select the TXT record of _mta-sts.<domain>, by deadline_ms. */
mtasts_status mtasts_discover(const char *domain, const mtasts_options *opt,
                              uint64_t deadline_ms, mtasts_txt *out, char *err,
                              size_t errlen);

/* Fetch and parse the policy of domain, within opt->timeout_ms. */
mtasts_status mtasts_fetch(const char *domain, const mtasts_options *opt,
                           mtasts_policy *out, char *err, size_t errlen);

#endif
