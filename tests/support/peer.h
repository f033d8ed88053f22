/* peer: SMTP servers for the tests, on 127.0.0.1 (a free port), each
 * connection in its own thread, with real OpenSSL. One behaviour per peer.
 * Without a certificate given, a peer serves a fresh self-signed one. */
#ifndef TR_PEER_H
#define TR_PEER_H

#include "certgen.h"

typedef enum {
    PEER_NO_STARTTLS,     /* EHLO without STARTTLS */
    PEER_STARTTLS,        /* STARTTLS with the given (or a fresh valid) cert */
    PEER_EXPIRED,         /* STARTTLS with an expired certificate */
    PEER_TLS10_ONLY,      /* STARTTLS, but TLS 1.0 and nothing else */
    PEER_TLS13_ONLY,      /* STARTTLS, but TLS 1.3 and nothing else */
    PEER_STARTTLS_454,    /* offers STARTTLS, answers it 454 */
    PEER_SILENT,          /* accepts and never speaks */
    PEER_GARBAGE,         /* answers with something that is not SMTP */
    PEER_ENDLESS,         /* a multi-line greeting that never ends */
    PEER_HUGE_LINE,       /* a greeting line of 1 MB */
    PEER_GREETING_421,    /* greets 421 (service not available) and hangs up */
    PEER_GREETING_554,    /* greets 554 (no SMTP service here), then only QUIT */
    PEER_EHLO_421,        /* greets 220, answers EHLO 421 and hangs up */
    PEER_GREETING_CLOSE,  /* accepts and closes at once, without a greeting */
    PEER_GREETING_RESET,  /* accepts, and while the client waits for the
                             greeting resets the connection (RST) */
    PEER_ODD_GREETING     /* PEER_STARTTLS whose first greeting line is
                             1 KB with control characters, a byte above
                             127 and a backslash in it (PEER_ODD_LINE) */
} peer_kind;

/* The start of PEER_ODD_GREETING's first line; 'y' fills it to 1 KB. */
#define PEER_ODD_LINE "220-\x1b[31mred\x1b[0m\ttab\x7f\xff\\ "

typedef struct peer peer;

/* cert may be NULL: a fresh self-signed one for "mx.peer.test" (expired for
 * PEER_EXPIRED). The peer keeps its own references. NULL on failure. */
peer *peer_start(peer_kind kind, const certgen_pair *cert);
/* The same on another loopback address ("::1" for IPv6). */
peer *peer_start_on(const char *ip, peer_kind kind, const certgen_pair *cert);
/* The same on a given port (0: a free one); the demo runs several peers on
 * one port at different loopback addresses, as MX hosts on port 25 are. */
peer *peer_start_at(const char *ip, unsigned port, peer_kind kind, const certgen_pair *cert);
void peer_stop(peer *p);
unsigned peer_port(const peer *p);
/* Connections accepted so far. */
unsigned peer_connections(peer *p);
/* The last EHLO argument and TLS server name (SNI) the peer saw. */
void peer_last_ehlo(peer *p, char *buf, size_t len);
void peer_last_sni(peer *p, char *buf, size_t len);

/* Wait ms before each SMTP reply, standing in for a distant server's round
 * trip (benchmarks). Set before the first connection. */
void peer_set_reply_delay(peer *p, unsigned ms);

/* A loopback port nothing listens on (connections are refused). */
unsigned peer_unused_port(void);

#endif
