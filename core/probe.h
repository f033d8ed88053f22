/* probe: does a domain's mail server offer STARTTLS, and does TLS work?
 *
 * MX look-up, then for the MX hosts in order until one answers: connect,
 * 220 greeting, EHLO, STARTTLS, TLS handshake with SNI, certificate, QUIT.
 * A host that cannot be reached, or refuses the session (4xx/5xx greeting,
 * EHLO refused), has not answered; when none answers, the last one's
 * outcome is the result (a refusal: protocol-error with the reply text).
 * Every step has a deadline and every reply a size limit, so a probe takes
 * at most total_timeout_ms whatever the peer does. */
#ifndef TR_PROBE_H
#define TR_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

typedef enum {
    PROBE_STARTTLS = 0,        /* STARTTLS offered and TLS works */
    PROBE_NO_STARTTLS,         /* STARTTLS not offered */
    PROBE_STARTTLS_REJECTED,   /* STARTTLS answered 4xx/5xx */
    PROBE_CERT_EXPIRED,        /* handshake done, certificate out of date */
    PROBE_HANDSHAKE_FAILED,    /* TLS could not be set up (or verify failed) */
    PROBE_CONNECT_FAILED,      /* no MX host accepted a connection */
    PROBE_TIMEOUT,             /* a deadline passed (DNS or SMTP) */
    PROBE_DNS_FAILED,          /* SERVFAIL, bad answer, no address */
    PROBE_NO_DOMAIN,           /* NXDOMAIN */
    PROBE_NULL_MX,             /* RFC 7505: the domain accepts no mail */
    PROBE_PROTOCOL_ERROR,      /* the peer does not speak SMTP as it should,
                                  or every MX host refused the session */
    PROBE_CERT_NOT_YET_VALID   /* handshake done, certificate not valid yet */
} probe_status;

#define PROBE_STATUS_COUNT 12

/* The DESIGN.md vocabulary ("starttls", "no-starttls", ...). */
const char *probe_status_name(probe_status s);
/* 0 and *out set when name is one of the vocabulary, else -1. */
int probe_status_parse(const char *name, probe_status *out);

/* Lowest TLS version the probe accepts. AUTO: what the probe's TLS stack
 * allows by itself (Schannel on Windows: the system's defaults and the
 * SCHANNEL registry switches, as for IIS; OpenSSL: TLS 1.2 and up). An
 * explicit floor only ever takes protocols away, on either stack. */
typedef enum {
    PROBE_FLOOR_AUTO = 0,
    PROBE_FLOOR_TLS10,
    PROBE_FLOOR_TLS11,
    PROBE_FLOOR_TLS12,
    PROBE_FLOOR_TLS13
} probe_floor;

/* "auto", "tls1.0", "tls1.1", "tls1.2", "tls1.3". */
int probe_floor_parse(const char *name, probe_floor *out);
const char *probe_floor_name(probe_floor f);

typedef struct {
    unsigned port;               /* 25 */
    const char *dns_servers;     /* "IP[:PORT],..."; NULL or "": the system's */
    unsigned connect_timeout_ms; /* 5000 */
    unsigned reply_timeout_ms;   /* 10000, each reply and the handshake */
    unsigned total_timeout_ms;   /* 20000, the whole probe of one domain */
    const char *ehlo_name;       /* NULL or "": plat_hostname() */
    probe_floor floor;           /* AUTO */
    int verify_chain;            /* IIS default: off */
    int verify_name;             /* IIS default: off */
    const char *ca_file;         /* PEM trust anchors for verify_chain; NULL:
                                    the system's (Windows: its chain engine) */
    tls_stack stack;             /* NONE: the system's (tls_system_stack()),
                                    the one the host's mail delivery uses */
} probe_options;

void probe_options_default(probe_options *o);

#define PROBE_NAME_MAX 256
#define PROBE_ADDR_MAX 46
#define PROBE_TEXT_MAX 256

typedef struct {
    char domain[PROBE_NAME_MAX];
    char mx[PROBE_NAME_MAX];          /* the host that answered (or last tried) */
    char address[PROBE_ADDR_MAX];     /* its address */
    probe_status status;
    tls_stack stack;                  /* the stack that tried the handshake
                                         (NONE when none was tried) */
    char tls_version[16];             /* "TLSv1.2"...; "" without TLS */
    char cipher[64];                  /* the suite's IANA name */
    int has_cert;
    int64_t cert_not_before;          /* Unix seconds */
    int64_t cert_not_after;
    /* A validity time the certificate carries but that cannot be read as a
     * date (its field above is then 0): nothing is judged from it. */
    int cert_not_before_unreadable;
    int cert_not_after_unreadable;
    char subject[PROBE_TEXT_MAX];
    char issuer[PROBE_TEXT_MAX];
    char error[PROBE_TEXT_MAX];       /* IIS's words where they match */
    unsigned elapsed_ms;
    int64_t probed_ms;                /* wall clock when the probe ended, Unix
                                         milliseconds; kept by the probe cache,
                                         so a cached answer keeps its time */
} probe_result;

/* Probe one domain (already normalised: lower case, no trailing dot). Always
 * fills out, within opts->total_timeout_ms plus scheduling slack. */
void probe_domain(const char *domain, const probe_options *opts, probe_result *out);

/* Probe n domains at once: out[i] is the result for domains[i]. Duplicates
 * are probed once. Returns when all are decided, which the per-domain total
 * deadline bounds: a list costs about its slowest probe, not the sum. */
void probe_many(const char *const *domains, size_t n, const probe_options *opts,
                probe_result *out);

/* Frees the calling thread's TLS state (tls_thread_cleanup). Every thread
 * that probed calls it before it ends: the static Windows build gets no
 * thread-detach notice, so without it each thread's state would stay
 * behind. */
void probe_thread_cleanup(void);

#endif
