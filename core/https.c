/* https: one bounded HTTPS GET (see https.h). The HTTP parsing is pure and
 * separate from the I/O so the fuzz targets reach it without a network. */
#include "https.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "net.h"
#include "plat.h"
#include "tls.h"

const char *https_status_name(https_status st)
{
    static const char *const names[] = { "ok", "dns-failed", "connect-failed",
                                         "tls-failed", "timeout", "redirect",
                                         "bad-status", "too-big", "bad-type",
                                         "protocol-error", "out-of-memory" };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

void https_request_init(https_request *req)
{
    memset(req, 0, sizeof *req);
    req->port = 443;
    req->body_max = 65536;
}

/* ---- head parsing ------------------------------------------------------ */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static int name_is(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lit[i])
            return 0;
    return 1;
}

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of the head: the offset just past its empty line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static int parse_status_line(const char *s, size_t len, https_head *head)
{
    /* "HTTP/1.x NNN[ reason]" */
    if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' ||
        s[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    if (len > 12 && s[12] != ' ')
        return -1;
    head->code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return head->code >= 100 ? 0 : -1;
}

static int parse_length(const char *v, size_t len, long long *out)
{
    long long n = 0;
    if (len == 0 || len > 15)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    *out = n;
    return 0;
}

static int header_field(const char *name, size_t nlen, const char *v, size_t vlen,
                        https_head *head, const char **reason)
{
    if (name_is(name, nlen, "content-length")) {
        long long n;
        if (parse_length(v, vlen, &n) != 0 ||
            (head->content_length >= 0 && head->content_length != n)) {
            *reason = "the server sent a bad Content-Length";
            return -1;
        }
        head->content_length = n;
    } else if (name_is(name, nlen, "transfer-encoding")) {
        if (!name_is(v, vlen, "chunked")) {
            *reason = "the server used a transfer coding other than chunked";
            return -1;
        }
        head->chunked = 1;
    } else if (name_is(name, nlen, "content-type")) {
        size_t n = 0;
        while (n < vlen && v[n] != ';')
            n++;
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n >= sizeof head->content_type) {
            *reason = "the server sent an overlong Content-Type";
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            head->content_type[i] = lower(v[i]);
        head->content_type[n] = '\0';
    }
    return 0;
}

static int header_line(const char *s, size_t len, https_head *head, const char **reason)
{
    size_t nlen = 0, vs;
    while (nlen < len && is_tchar(s[nlen]))
        nlen++;
    if (nlen == 0 || nlen == len || s[nlen] != ':') {
        /* Includes obsolete line folding (a line starting with a space). */
        *reason = "the server sent a malformed header line";
        return -1;
    }
    vs = nlen + 1;
    while (vs < len && (s[vs] == ' ' || s[vs] == '\t'))
        vs++;
    while (len > vs && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    for (size_t i = vs; i < len; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
            *reason = "the server sent a control character in a header";
            return -1;
        }
    return header_field(s, nlen, s + vs, len - vs, head, reason);
}

long https_parse_head(const char *buf, size_t len, https_head *head, const char **reason)
{
    size_t end, pos = 0;
    int first = 1;
    if (len > HTTPS_HEAD_MAX)
        len = HTTPS_HEAD_MAX;
    end = head_end(buf, len);
    if (end == 0)
        return 0;
    memset(head, 0, sizeof *head);
    head->content_length = -1;
    while (pos < end) {
        const char *nl = memchr(buf + pos, '\n', end - pos);
        size_t stop = (size_t)(nl - buf), line_end = stop;
        if (line_end > pos && buf[line_end - 1] == '\r')
            line_end--;
        if (line_end == pos)
            break; /* the empty line */
        if (first) {
            if (parse_status_line(buf + pos, line_end - pos, head) != 0) {
                *reason = "the server did not answer with an HTTP/1.x status line";
                return -1;
            }
            first = 0;
        } else if (header_line(buf + pos, line_end - pos, head, reason) != 0) {
            return -1;
        }
        pos = stop + 1;
    }
    if (first) {
        *reason = "the server did not answer with an HTTP/1.x status line";
        return -1;
    }
    return (long)end;
}

/* ---- chunked transfer coding ------------------------------------------ */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
       CH_TRAILER_LINE, CH_TRAILER_LF, CH_DONE };
enum { CHUNK_LINE_MAX = 4096 };

void https_chunked_init(https_chunked *c) { memset(c, 0, sizeof *c); }

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = lower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The size line ended: start the chunk, or the trailer after size 0. */
static int chunk_size_done(https_chunked *c, const char **reason)
{
    if (c->digits == 0) {
        *reason = "a chunk size line has no size";
        return HTTPS_CHUNK_ERROR;
    }
    c->state = c->remaining ? CH_DATA : CH_TRAILER;
    c->digits = 0;
    c->line_len = 0;
    return HTTPS_CHUNK_MORE;
}

/* One byte outside chunk data. */
static int chunk_byte(https_chunked *c, char ch, const char **reason)
{
    int h;
    if (++c->line_len > CHUNK_LINE_MAX) {
        *reason = "a chunk size or trailer line is too long";
        return HTTPS_CHUNK_ERROR;
    }
    switch (c->state) {
    case CH_SIZE:
        if ((h = hex_value(ch)) >= 0) {
            if (++c->digits > 15) {
                *reason = "a chunk size is too large";
                return HTTPS_CHUNK_ERROR;
            }
            c->remaining = c->remaining * 16 + (uint64_t)h;
            return HTTPS_CHUNK_MORE;
        }
        if (ch == ';' || ch == ' ' || ch == '\t')
            c->state = CH_EXT;
        else if (ch == '\r')
            c->state = CH_SIZE_LF;
        else if (ch == '\n')
            return chunk_size_done(c, reason);
        else
            break;
        return HTTPS_CHUNK_MORE;
    case CH_EXT:
        if (ch == '\n')
            return chunk_size_done(c, reason);
        return HTTPS_CHUNK_MORE;
    case CH_SIZE_LF:
        if (ch == '\n')
            return chunk_size_done(c, reason);
        break;
    case CH_DATA_CR:
        c->line_len = 0;
        if (ch == '\r') {
            c->state = CH_DATA_LF;
            return HTTPS_CHUNK_MORE;
        }
        if (ch != '\n')
            break;
        c->state = CH_SIZE;
        return HTTPS_CHUNK_MORE;
    case CH_DATA_LF:
        if (ch != '\n')
            break;
        c->state = CH_SIZE;
        c->line_len = 0;
        return HTTPS_CHUNK_MORE;
    case CH_TRAILER:
        c->state = ch == '\r' ? CH_TRAILER_LF : ch == '\n' ? CH_DONE : CH_TRAILER_LINE;
        return c->state == CH_DONE ? HTTPS_CHUNK_DONE : HTTPS_CHUNK_MORE;
    case CH_TRAILER_LINE:
        if (ch == '\n') {
            c->state = CH_TRAILER;
            c->line_len = 0;
        }
        return HTTPS_CHUNK_MORE;
    case CH_TRAILER_LF:
        if (ch != '\n')
            break;
        c->state = CH_DONE;
        return HTTPS_CHUNK_DONE;
    default:
        break;
    }
    *reason = "the chunked body is malformed";
    return HTTPS_CHUNK_ERROR;
}

int https_chunked_feed(https_chunked *c, const char *in, size_t len, size_t *used,
                       char *out, size_t out_cap, size_t *out_len, const char **reason)
{
    size_t i = 0;
    int rc = HTTPS_CHUNK_MORE;
    if (c->state == CH_DONE) {
        *used = 0;
        return HTTPS_CHUNK_DONE;
    }
    while (i < len && rc == HTTPS_CHUNK_MORE) {
        if (c->state == CH_DATA) {
            size_t take = len - i;
            if ((uint64_t)take > c->remaining)
                take = (size_t)c->remaining;
            if (take > out_cap - *out_len) {
                *reason = "the body is larger than allowed";
                rc = HTTPS_CHUNK_TOO_BIG;
                break;
            }
            memcpy(out + *out_len, in + i, take);
            *out_len += take;
            c->remaining -= take;
            i += take;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            continue;
        }
        rc = chunk_byte(c, in[i++], reason);
    }
    *used = i;
    return rc;
}

/* ---- the exchange ------------------------------------------------------ */

typedef struct {
    const https_request *req;
    https_response *resp;
    net_fd fd;
    tls_client *tls;
    tls_session *conn;
} exchange;

static https_status fail(exchange *x, https_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static https_status fail(exchange *x, https_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->resp->error, sizeof x->resp->error, fmt, ap);
    va_end(ap);
    x->resp->status = st;
    return st;
}

static https_status connect_one(exchange *x, const char *ip)
{
    char err[160];
    int rc = net_connect(ip, x->req->port, x->req->deadline_ms, &x->fd, err, sizeof err);
    if (rc == NET_OK)
        return HTTPS_OK;
    if (rc == NET_TIMEOUT)
        return fail(x, HTTPS_ERR_TIMEOUT, "connecting to %s (%s) timed out", x->req->host, ip);
    return fail(x, HTTPS_ERR_CONNECT, "connecting to %s (%s): %s", x->req->host, ip, err);
}

static https_status connect_host(exchange *x)
{
    dns_addr_list addrs;
    https_status st = HTTPS_ERR_CONNECT;
    if (x->req->connect_ip)
        return connect_one(x, x->req->connect_ip);
    if (dns_lookup_addrs(x->req->dns_servers, x->req->host, x->req->deadline_ms, &addrs) !=
            DNS_OK || addrs.count == 0)
        return fail(x, addrs.status == DNS_TIMEOUT ? HTTPS_ERR_TIMEOUT : HTTPS_ERR_DNS,
                    "%s does not resolve: %s", x->req->host,
                    addrs.error[0] ? addrs.error : dns_status_name(addrs.status));
    for (size_t i = 0; i < addrs.count && st != HTTPS_OK && st != HTTPS_ERR_TIMEOUT; i++)
        st = connect_one(x, addrs.addrs[i]);
    return st;
}

/* A failed read or write (NET_TIMEOUT or NET_ERROR), recorded. */
static https_status io_failure(exchange *x, int rc, const char *doing)
{
    if (rc == NET_TIMEOUT)
        return fail(x, HTTPS_ERR_TIMEOUT, "%s: no progress before the deadline", doing);
    return fail(x, HTTPS_ERR_PROTOCOL, "%s: the connection failed", doing);
}

/* OpenSSL on every platform (TLS 1.2 and up), the chain judged after the
 * handshake by the platform's judge: on Windows the chain engine, so its
 * on-demand roots and Disallowed store count. */
static https_status tls_setup(exchange *x)
{
    tls_client_options o;
    char err[TLS_TEXT_MAX];
    memset(&o, 0, sizeof o);
    o.min_protocol = TLS_PROTO_TLS12;
    o.ca_file = x->req->ca_file;
    o.verify_chain = 1;
    x->tls = tls_client_new(TLS_STACK_OPENSSL, &o, err, sizeof err);
    if (!x->tls)
        return fail(x, HTTPS_ERR_TLS, "cannot set up TLS: %s", err);
    x->conn = tls_session_start(x->tls, x->fd, x->req->host, err, sizeof err);
    if (!x->conn)
        return fail(x, HTTPS_ERR_NOMEM, "cannot set up TLS: %s", err);
    return HTTPS_OK;
}

static https_status tls_handshake(exchange *x)
{
    char why[TLS_TEXT_MAX];
    tls_info info;
    int rc = tls_session_handshake(x->conn, x->req->deadline_ms, &info);
    if (rc == NET_TIMEOUT)
        return fail(x, HTTPS_ERR_TIMEOUT, "TLS handshake: no progress before the deadline");
    if (rc != NET_OK)
        return fail(x, HTTPS_ERR_TLS, "TLS handshake: %s", info.error);
    if (tls_session_verify(x->conn, TLS_CHECK_CHAIN | TLS_CHECK_NAME | TLS_CHECK_TIME,
                           x->req->host, x->req->deadline_ms, why, sizeof why)
        != TLS_VERIFY_OK)
        return fail(x, HTTPS_ERR_TLS, "the certificate of %s is not valid: %s", x->req->host,
                    why);
    return HTTPS_OK;
}

static https_status send_request(exchange *x)
{
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsrouter/%s\r\n"
                     "Accept: text/plain\r\nConnection: close\r\n\r\n",
                     x->req->path, x->req->host, TLSROUTER_VERSION);
    int rc;
    if (n < 0 || n >= (int)sizeof req)
        return fail(x, HTTPS_ERR_PROTOCOL, "the request is too long");
    rc = tls_session_write(x->conn, req, (size_t)n, x->req->deadline_ms);
    return rc == NET_OK ? HTTPS_OK : io_failure(x, rc, "sending the request");
}

/* Some bytes (> 0), 0 at the end of the stream, -1 on failure (recorded). */
static long read_some(exchange *x, char *buf, size_t cap)
{
    int n = tls_session_read(x->conn, buf, cap, x->req->deadline_ms);
    if (n >= 0)
        return n;
    io_failure(x, n, "reading the answer");
    return -1;
}

static https_status read_head(exchange *x, char *buf, size_t *have, https_head *head,
                              size_t *head_len)
{
    const char *why = NULL;
    for (;;) {
        long n = https_parse_head(buf, *have, head, &why);
        long got;
        if (n > 0) {
            *head_len = (size_t)n;
            return HTTPS_OK;
        }
        if (n < 0)
            return fail(x, HTTPS_ERR_PROTOCOL, "%s", why);
        if (*have >= HTTPS_HEAD_MAX)
            return fail(x, HTTPS_ERR_TOO_BIG, "the response headers exceed %d bytes",
                        HTTPS_HEAD_MAX);
        got = read_some(x, buf + *have, HTTPS_HEAD_MAX - *have);
        if (got < 0)
            return x->resp->status;
        if (got == 0)
            return fail(x, HTTPS_ERR_PROTOCOL, "the server closed before the headers ended");
        *have += (size_t)got;
    }
}

static https_status check_head(exchange *x, const https_head *head)
{
    if (head->code >= 300 && head->code < 400)
        return fail(x, HTTPS_ERR_REDIRECT, "the server redirected (HTTP %d); "
                    "redirects are not followed", head->code);
    if (head->code != 200)
        return fail(x, HTTPS_ERR_STATUS, "the server answered HTTP %d", head->code);
    if (x->req->content_type && strcmp(head->content_type, x->req->content_type) != 0)
        return fail(x, HTTPS_ERR_TYPE, "the Content-Type is \"%s\", not %s",
                    head->content_type, x->req->content_type);
    if (!head->chunked && head->content_length > (long long)x->req->body_max)
        return fail(x, HTTPS_ERR_TOO_BIG, "the body (%lld bytes) exceeds %lu bytes",
                    head->content_length, (unsigned long)x->req->body_max);
    return HTTPS_OK;
}

/* Feed bytes of the body to the right decoder. 1 when the body is complete,
 * 0 for more, -1 on failure (recorded). */
static int body_take(exchange *x, const https_head *head, https_chunked *ch,
                     const char *in, size_t len)
{
    https_response *r = x->resp;
    if (head->chunked) {
        size_t used;
        const char *why = NULL;
        int rc = https_chunked_feed(ch, in, len, &used, r->body, x->req->body_max,
                                    &r->body_len, &why);
        if (rc == HTTPS_CHUNK_TOO_BIG)
            return fail(x, HTTPS_ERR_TOO_BIG, "the body exceeds %lu bytes",
                        (unsigned long)x->req->body_max), -1;
        if (rc == HTTPS_CHUNK_ERROR)
            return fail(x, HTTPS_ERR_PROTOCOL, "%s", why), -1;
        return rc == HTTPS_CHUNK_DONE;
    }
    if (len > x->req->body_max - r->body_len)
        return fail(x, HTTPS_ERR_TOO_BIG, "the body exceeds %lu bytes",
                    (unsigned long)x->req->body_max),
               -1;
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    return head->content_length >= 0 && (long long)r->body_len >= head->content_length;
}

static https_status read_body(exchange *x, const https_head *head, const char *rest,
                              size_t rest_len)
{
    https_chunked ch;
    char buf[16384];
    int done;
    https_chunked_init(&ch);
    x->resp->body = malloc(x->req->body_max + 1);
    if (!x->resp->body)
        return fail(x, HTTPS_ERR_NOMEM, "out of memory for the body");
    if (head->content_length >= 0 && !head->chunked && rest_len > (size_t)head->content_length)
        rest_len = (size_t)head->content_length; /* ignore anything after it */
    done = head->content_length == 0 && !head->chunked;
    if (!done && rest_len)
        done = body_take(x, head, &ch, rest, rest_len);
    while (done == 0) {
        long n = read_some(x, buf, sizeof buf);
        if (n < 0)
            return x->resp->status;
        if (n == 0) {
            if (head->chunked || head->content_length >= 0)
                return fail(x, HTTPS_ERR_PROTOCOL, "the server closed before the body ended");
            break; /* read-to-close body */
        }
        if (head->content_length >= 0 && !head->chunked &&
            (size_t)n > (size_t)head->content_length - x->resp->body_len)
            n = (long)((size_t)head->content_length - x->resp->body_len);
        done = body_take(x, head, &ch, buf, (size_t)n);
    }
    if (done < 0)
        return x->resp->status;
    x->resp->body[x->resp->body_len] = '\0';
    return HTTPS_OK;
}

static https_status exchange_run(exchange *x)
{
    char *head_buf = malloc(HTTPS_HEAD_MAX);
    size_t have = 0, head_len = 0;
    https_head head;
    https_status st;
    if (!head_buf)
        return fail(x, HTTPS_ERR_NOMEM, "out of memory");
    if ((st = connect_host(x)) == HTTPS_OK && (st = tls_setup(x)) == HTTPS_OK &&
        (st = tls_handshake(x)) == HTTPS_OK && (st = send_request(x)) == HTTPS_OK &&
        (st = read_head(x, head_buf, &have, &head, &head_len)) == HTTPS_OK &&
        (st = check_head(x, &head)) == HTTPS_OK)
        st = read_body(x, &head, head_buf + head_len, have - head_len);
    free(head_buf);
    x->resp->code = head_len ? head.code : 0;
    return st;
}

https_status https_get(const https_request *req, https_response *resp)
{
    exchange x = { req, resp, NET_BAD_FD, NULL, NULL };
    https_status st;
    memset(resp, 0, sizeof *resp);
    if (!req->host || !req->path || req->path[0] != '/' || req->body_max == 0) {
        snprintf(resp->error, sizeof resp->error, "bad HTTPS request");
        return resp->status = HTTPS_ERR_PROTOCOL;
    }
    net_init();
    st = exchange_run(&x);
    tls_session_close(x.conn);
    tls_client_free(x.tls);
    if (x.fd != NET_BAD_FD)
        net_close(x.fd);
    if (st != HTTPS_OK) {
        free(resp->body);
        resp->body = NULL;
        resp->body_len = 0;
    }
    resp->status = st;
    return st;
}

void https_response_free(https_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}
