/* https: one bounded HTTPS GET, for MTA-STS policy files.
 *
 * Deliberately narrow: HTTP/1.1, "Connection: close", status 200 only,
 * redirects never followed (a 3xx is a failure), the certificate chain must
 * be valid for the host name, the body is limited and the whole exchange
 * ends by one deadline whatever the server does. Content-Length, chunked
 * transfer coding and read-to-close bodies are understood. */
#ifndef TR_HTTPS_H
#define TR_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#define HTTPS_HEAD_MAX 16384   /* status line and headers */
#define HTTPS_ERR_MAX 200

typedef enum {
    HTTPS_OK = 0,
    HTTPS_ERR_DNS,        /* the host name did not resolve */
    HTTPS_ERR_CONNECT,    /* no address accepted the connection */
    HTTPS_ERR_TLS,        /* handshake or certificate verification failed */
    HTTPS_ERR_TIMEOUT,    /* the deadline passed */
    HTTPS_ERR_REDIRECT,   /* 3xx: redirects are not followed (RFC 8461 3.3) */
    HTTPS_ERR_STATUS,     /* any other status than 200 */
    HTTPS_ERR_TOO_BIG,    /* body (or headers) over the limit */
    HTTPS_ERR_TYPE,       /* Content-Type other than the one required */
    HTTPS_ERR_PROTOCOL,   /* not HTTP, bad headers, bad chunking, early close */
    HTTPS_ERR_NOMEM
} https_status;

const char *https_status_name(https_status st);

typedef struct {
    const char *host;         /* name for DNS, SNI, Host: and the certificate */
    const char *path;         /* "/..." */
    const char *dns_servers;  /* NULL or "": the system's */
    const char *connect_ip;   /* test hook: connect here instead of resolving */
    unsigned port;            /* 443 unless set */
    const char *ca_file;      /* PEM trust anchors; NULL: the system's store */
    uint64_t deadline_ms;     /* plat_now_ms() clock; required */
    size_t body_max;          /* bytes */
    const char *content_type; /* required media type (e.g. "text/plain") or NULL */
} https_request;

void https_request_init(https_request *req);

typedef struct {
    https_status status;
    int code;                 /* HTTP status, 0 if none was read */
    char *body;               /* malloc'd, NUL-terminated; NULL on failure */
    size_t body_len;
    char error[HTTPS_ERR_MAX];/* one sentence when status is not HTTPS_OK */
} https_response;

/* Run the request; the result is also in resp->status. Always free resp with
 * https_response_free. */
https_status https_get(const https_request *req, https_response *resp);
void https_response_free(https_response *resp);

/* ---- the HTTP parsing, public for the fuzz targets and unit tests ------ */

typedef struct {
    int code;                 /* 100..999 */
    long long content_length; /* -1 when absent */
    int chunked;              /* Transfer-Encoding: chunked */
    char content_type[64];    /* media type, lower case, parameters dropped */
} https_head;

/* Parse the status line and headers at the start of buf. Returns the length
 * of the head including its blank line, 0 when more bytes are needed, -1
 * with *reason when it is not acceptable HTTP/1.x. */
long https_parse_head(const char *buf, size_t len, https_head *head, const char **reason);

/* Incremental decoder of the chunked transfer coding. */
typedef struct {
    int state;
    uint64_t remaining;       /* bytes left in the current chunk */
    unsigned digits;
    size_t line_len;          /* bytes of the current size or trailer line */
} https_chunked;

enum { HTTPS_CHUNK_MORE = 0, HTTPS_CHUNK_DONE = 1, HTTPS_CHUNK_ERROR = -1,
       HTTPS_CHUNK_TOO_BIG = -2 };

void https_chunked_init(https_chunked *c);
/* Decode in[0..len) appending data to out (*out_len bytes used of out_cap).
 * *used receives how many input bytes were taken (all unless DONE). Returns
 * HTTPS_CHUNK_MORE, _DONE, _ERROR (with *reason) or _TOO_BIG. */
int https_chunked_feed(https_chunked *c, const char *in, size_t len, size_t *used,
                       char *out, size_t out_cap, size_t *out_len, const char **reason);

#endif
