/* tls: one TLS client session over a connected non-blocking socket, behind
 * one small interface with a backend per TLS stack (the idea of curl's
 * vtls). Backends: OpenSSL (tls_openssl.c, on every platform) and Schannel
 * through SSPI (tls_schannel_win32.c, Windows only).
 *
 * Who uses which: the probe asks the system's stack, the one the host's own
 * mail delivery uses (IIS SMTP delivers through Schannel, so on Windows the
 * probe sees what IIS will see, registry switches included); the MTA-STS
 * policy fetch always uses OpenSSL, with the server's chain judged by the
 * platform's own judge (tls_trust.h).
 *
 * Every call that waits takes an absolute deadline in plat_now_ms()
 * milliseconds and never waits past it. Results are NET_OK, NET_ERROR and
 * NET_TIMEOUT (net.h), next to byte counts. */
#ifndef TR_TLS_H
#define TR_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

typedef enum {
    TLS_STACK_NONE = 0,  /* no handshake was tried */
    TLS_STACK_OPENSSL,
    TLS_STACK_SCHANNEL
} tls_stack;

/* "openssl", "schannel"; "" for TLS_STACK_NONE. */
const char *tls_stack_name(tls_stack s);
/* 0 and *out set when name is "openssl" or "schannel", else -1. */
int tls_stack_parse(const char *name, tls_stack *out);
/* The stack the host's own mail delivery uses: Schannel on Windows,
 * OpenSSL elsewhere. */
tls_stack tls_system_stack(void);
/* 1 when the stack is built here (Schannel only on Windows). */
int tls_stack_available(tls_stack s);

typedef enum {
    TLS_PROTO_NONE = 0,  /* no protocol negotiated; as a minimum: the stack's own choice */
    TLS_PROTO_TLS10,
    TLS_PROTO_TLS11,
    TLS_PROTO_TLS12,
    TLS_PROTO_TLS13,
    TLS_PROTO_SSL3       /* only ever negotiated, by an old Schannel; never a minimum */
} tls_protocol;

/* OpenSSL's spelling, which the journal and the probe cache keep:
 * "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3"; "" for NONE. */
const char *tls_protocol_name(tls_protocol p);

/* The IANA name of a cipher suite ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
 * from its two-byte code, or NULL when the code is not one we know. */
const char *tls_suite_name(unsigned code);
/* The code of an IANA suite name, or -1 when it is not one we know. */
int tls_suite_code(const char *name);

/* ---- a client: the configuration sessions share ------------------------ */

typedef struct {
    /* Lowest protocol allowed. TLS_PROTO_NONE: what the stack allows by
     * itself (Schannel: the system's defaults and registry switches;
     * OpenSSL: TLS 1.2 and up). An explicit minimum only ever restricts. */
    tls_protocol min_protocol;
    /* Trust anchors for chain checks (tls_session_verify): a PEM file, or
     * NULL for the platform's own (Windows: its chain engine and stores). */
    const char *ca_file;
    /* Load the trust anchors now, so a chain can be checked later. */
    int verify_chain;
} tls_client_options;

typedef struct tls_client tls_client;

/* NULL with err set when the stack is not available or cannot be set up
 * (no credentials, trust anchors that cannot be read). Thread-safe to
 * share between sessions on several threads. */
tls_client *tls_client_new(tls_stack stack, const tls_client_options *o, char *err,
                           size_t errlen);
void tls_client_free(tls_client *c);
tls_stack tls_client_stack(const tls_client *c);

/* ---- a session ---------------------------------------------------------- */

#define TLS_TEXT_MAX 256

/* What a handshake gave: the stack, the protocol, the suite and the server's
 * certificate (times as Unix seconds; a time the certificate carries but
 * that cannot be read as a date is flagged, its field 0). On failure, the
 * stack and error only. */
typedef struct {
    tls_stack stack;
    tls_protocol protocol;
    char suite[64];                 /* IANA name; "" when it cannot be told */
    int has_cert;
    int64_t not_before;
    int64_t not_after;
    int not_before_unreadable;
    int not_after_unreadable;
    char subject[TLS_TEXT_MAX];
    char issuer[TLS_TEXT_MAX];
    char error[TLS_TEXT_MAX];       /* why the handshake failed */
} tls_info;

typedef struct tls_session tls_session;

/* A client session over fd, which stays the caller's to close after
 * tls_session_close. server_name: for SNI (and the name check). NULL with
 * err set on failure. */
tls_session *tls_session_start(tls_client *c, net_fd fd, const char *server_name,
                               char *err, size_t errlen);
/* NET_OK with info filled; NET_TIMEOUT or NET_ERROR with info->error. No
 * certificate judgement here: the caller judges (tls_session_verify). */
int tls_session_handshake(tls_session *s, uint64_t deadline, tls_info *info);
/* After the handshake: some bytes (> 0), 0 when the peer closed the
 * session, NET_TIMEOUT or NET_ERROR. */
int tls_session_read(tls_session *s, void *buf, size_t cap, uint64_t deadline);
/* All of buf: NET_OK, NET_TIMEOUT or NET_ERROR. */
int tls_session_write(tls_session *s, const void *buf, size_t len, uint64_t deadline);
/* Frees the session (no close_notify: the caller ends the conversation and
 * closes the socket). NULL is ignored. */
void tls_session_close(tls_session *s);

/* What to judge of the server's certificate chain, after the handshake. */
enum {
    TLS_CHECK_CHAIN = 1, /* issued by a trusted root (the client's anchors) */
    TLS_CHECK_NAME = 2,  /* valid for the host name (no partial wildcards) */
    TLS_CHECK_TIME = 4   /* every certificate within its validity period */
};

typedef enum {
    TLS_VERIFY_OK = 0,
    TLS_VERIFY_UNTRUSTED,     /* chain not trusted (or out of date with TLS_CHECK_TIME) */
    TLS_VERIFY_NAME_MISMATCH, /* not valid for the host name */
    TLS_VERIFY_ERROR          /* could not be judged (no certificate, no memory) */
} tls_verdict;

/* Judge the chain the server presented. host: required with
 * TLS_CHECK_NAME. why: one phrase when not OK. TLS_CHECK_CHAIN needs a
 * client made with verify_chain. The deadline bounds what the judge may
 * fetch (Windows: roots and intermediates on demand). */
tls_verdict tls_session_verify(tls_session *s, unsigned checks, const char *host,
                               uint64_t deadline, char *why, size_t whylen);

/* Notes that the calling thread used OpenSSL, which may keep state for it
 * until tls_thread_cleanup. This file's functions note it themselves;
 * other callers of OpenSSL (dns.c's random numbers) call it. */
void tls_thread_note_use(void);

/* Frees the calling thread's TLS state (OpenSSL's) if it used OpenSSL
 * since its last cleanup: 1 if so, 0 when there was nothing to free (a
 * borrowed thread that only read caches). Every thread that used a
 * session calls it before it ends: the static Windows build gets no
 * thread-detach notice. */
int tls_thread_cleanup(void);

#endif
