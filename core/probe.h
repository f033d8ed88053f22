/* probe: does a domain's mail server offer STARTTLS, and does TLS work?
 *
 * MX look-up, then for the MX hosts in order until one answers: connect,
 * 220 greeting, EHLO, STARTTLS, TLS handshake with SNI, certificate, QUIT.
 * A host that cannot be reached, or refuses the session (4xx/5xx greeting,
 * EHLO refused, the connection closed or reset before the greeting), has
 * not answered; when none answers, a refusal (a protocol-error with the
 * reply text) outranks a host that could not be reached, and between
 * equals the last host's outcome is the result.
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
    PROBE_CERT_NOT_YET_VALID,  /* handshake done, certificate not valid yet */
    /* Not outcomes of a probe, but states a status can be in on its way to
     * the journal and back: */
    PROBE_NOT_PROBED,          /* no probe ran; the journal's empty status */
    PROBE_UNKNOWN              /* a word this version does not know (a newer
                                  one wrote it); whoever shows it keeps the word */
} probe_status;

#define PROBE_OUTCOME_COUNT 12 /* PROBE_STARTTLS .. PROBE_CERT_NOT_YET_VALID */
#define PROBE_STATUS_COUNT 14

/* The one name table: the DESIGN.md vocabulary ("starttls", "no-starttls",
 * ...), "" for PROBE_NOT_PROBED (what the journal stores) and "unknown". */
const char *probe_status_name(probe_status s);
/* 0 and *out set when name is one of the names above, else -1. */
int probe_status_parse(const char *name, probe_status *out);
/* 1 for what a probe can find (PROBE_STARTTLS .. PROBE_CERT_NOT_YET_VALID). */
int probe_status_is_outcome(probe_status s);

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

/* "auto", "tls1.0", "tls1.1", "tls1.2", "tls1.3" (the tls_floor setting's
 * words): 0 and *out, or -1 with *out untouched. */
int probe_floor_parse(const char *name, probe_floor *out);
const char *probe_floor_name(probe_floor f);

/* The probe's trace, for full-debug: what it did and what it heard, in
 * order. Never the data of a command, only its verb. */
typedef enum {
    PROBE_TRACE_CONNECT = 0, /* "mx.example.com 192.0.2.1": the address tried */
    PROBE_TRACE_STATE,       /* the state entered: "greeting", "ehlo",
                                "starttls", "handshake", "quit", "done";
                                "shared HOST": HOST's verdict came from a
                                probe of another domain running at the
                                same time (host_flights) */
    PROBE_TRACE_COMMAND,     /* the verb of a command sent: "EHLO", ... */
    PROBE_TRACE_REPLY,       /* the first line of a reply, as received */
    PROBE_TRACE_TLS,         /* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
    PROBE_TRACE_CERT,        /* the certificate's dates: "not before ...,
                                not after ..." */
    PROBE_TRACE_OUTCOME,     /* what the address (or the domain's look-up)
                                came to: "refused protocol-error: ..." */
    PROBE_TRACE_DNS          /* an answer the probe went by: "MX example.com:
                                10 mx.example.com", "A/AAAA mx.example.com:
                                192.0.2.1", or the look-up's failure */
} probe_trace_kind;

#define PROBE_TRACE_KIND_COUNT 8
/* Bytes of an event's text, its NUL included. */
#define PROBE_TRACE_TEXT_MAX 200

typedef struct {
    probe_trace_kind kind;
    const char *domain; /* the domain being probed */
    /* Printable ASCII, shorter than PROBE_TRACE_TEXT_MAX: other bytes are
     * written \xHH, a backslash \\, and a longer text is cut and ends in
     * "...". A peer's words arrive here, so nothing in them is trusted. */
    const char *text;
} probe_trace_event;

/* Called for each event; ev and its text live for the call only. A probe
 * calls it on the thread that probes, so probe_many calls it from several
 * threads at once. */
typedef void (*probe_trace_fn)(void *ctx, const probe_trace_event *ev);

/* "connect", "state", "command", "reply", "tls", "cert", "outcome". */
const char *probe_trace_kind_name(probe_trace_kind k);

struct flight_table;

typedef struct {
    unsigned port;
    const char *dns_servers;     /* "IP[:PORT],..."; NULL or "": the system's */
    unsigned connect_timeout_ms;
    unsigned reply_timeout_ms;   /* each reply and the handshake */
    unsigned total_timeout_ms;   /* the whole probe of one domain */
    const char *ehlo_name;       /* NULL or "": plat_hostname() */
    probe_floor floor;
    int verify_chain;            /* IIS default: off */
    int verify_name;             /* IIS default: off */
    const char *ca_file;         /* PEM trust anchors for verify_chain; NULL:
                                    the system's (Windows: its chain engine) */
    tls_stack stack;             /* NONE: the system's (tls_system_stack()),
                                    the one the host's mail delivery uses */
    probe_trace_fn trace;        /* NULL: no trace */
    void *trace_ctx;             /* given to trace */
    /* Probes running at the same time share each MX host's verdict
     * through this table (probe_host_flights_new); NULL: every probe
     * tries its hosts itself. */
    struct flight_table *host_flights;
} probe_options;

/* A table for probe_options.host_flights, shared by every probe that
 * should share hosts (an engine's); flight_free (flight.h) frees it. NULL
 * when out of memory. */
struct flight_table *probe_host_flights_new(void);

/* The defaults of the settings (settings.h); no dns_servers, ehlo_name,
 * ca_file. */
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

/* Probe a smart host instead of a domain's MX hosts: a virtual server that
 * sends all its mail there meets only that host. smart_host is IIS's
 * spelling: a name (its A/AAAA records) or "[192.0.2.1]" (that address,
 * no DNS). out->domain and out->mx are smart_host as given. */
void probe_smart_host(const char *smart_host, const probe_options *opts, probe_result *out);

/* Probe n domains at once: out[i] is the result for domains[i]. Duplicates
 * are probed once. Returns when all are decided, which the per-domain total
 * deadline bounds: a list costs about its slowest probe, not the sum. */
void probe_many(const char *const *domains, size_t n, const probe_options *opts,
                probe_result *out);

/* Frees the calling thread's TLS state (tls_thread_cleanup: OpenSSL's)
 * if it has any: 1 if it did, 0 when the thread used no OpenSSL since its
 * last cleanup (a message answered from the caches), which costs nothing.
 * Threads started by plat_thread_start do it when they end; a thread the
 * router borrows (IIS's, in OnArrival) calls it when done: the static
 * Windows build gets no thread-detach notice, so the state would otherwise
 * stay behind. */
int probe_thread_cleanup(void);

#endif
