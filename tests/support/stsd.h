/* stsd: an HTTPS server for MTA-STS policy files in the tests, on 127.0.0.1
 * (a free port), real OpenSSL with a certificate made at test time. One
 * connection at a time, in one thread; one behaviour per server. */
#ifndef TR_STSD_H
#define TR_STSD_H

#include "certgen.h"

typedef enum {
    STSD_POLICY,    /* 200, text/plain, Content-Length, the body */
    STSD_CHUNKED,   /* 200, text/plain, the body in small chunks */
    STSD_REDIRECT,  /* 301 to another host */
    STSD_HUGE,      /* 200, text/plain, 10 MB without a length */
    STSD_SILENT,    /* completes TLS, reads the request, never answers */
    STSD_HTML,      /* 200 with Content-Type text/html */
    STSD_DRIP       /* the status line one byte a second */
} stsd_kind;

typedef struct stsd stsd;

/* cert: the server's certificate and key (the peer keeps references).
 * body: the policy text served (copied). NULL on failure. */
stsd *stsd_start(stsd_kind kind, const certgen_pair *cert, const char *body);
void stsd_stop(stsd *s);
unsigned stsd_port(const stsd *s);
/* Replace the policy served from now on. */
void stsd_set_body(stsd *s, const char *body);
/* Requests read so far, and the Host header and path of the last one. */
unsigned stsd_requests(stsd *s);
void stsd_last_request(stsd *s, char *host, size_t hlen, char *path, size_t plen);

#endif
