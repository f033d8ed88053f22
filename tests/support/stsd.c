/* stsd: HTTPS policy server for the tests (see stsd.h). */
#include "stsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "net.h"
#include "plat.h"

enum { STEP_MS = 5000, HUGE_BYTES = 10 * 1024 * 1024 };

struct stsd {
    stsd_kind kind;
    net_fd listener;
    unsigned port;
    SSL_CTX *tls;
    plat_thread *thread;
    plat_mutex *lock;
    volatile int stop;
    char *body;
    unsigned requests;
    char last_host[256], last_path[256];
};

typedef struct {
    stsd *s;
    net_fd fd;
    SSL *ssl;
} sconn;

/* Drive one SSL call: 1 done, 0 retry, -1 failed or stopped. */
static int sc_retry(sconn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);
    if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || c->s->stop)
        return -1;
    return net_wait(c->fd, e == SSL_ERROR_WANT_WRITE, plat_now_ms() + 100) == NET_ERROR
               ? -1 : 0;
}

static int sc_write(sconn *c, const void *buf, size_t len)
{
    size_t off = 0;
    uint64_t until = plat_now_ms() + STEP_MS;
    while (off < len) {
        size_t n = 0;
        int r = SSL_write_ex(c->ssl, (const char *)buf + off, len - off, &n);
        if (r == 1)
            off += n;
        else if (sc_retry(c, r) != 0 || plat_now_ms() > until)
            return -1;
    }
    return 0;
}

static int sc_accept_tls(sconn *c)
{
    uint64_t until = plat_now_ms() + STEP_MS;
    c->ssl = SSL_new(c->s->tls);
    if (!c->ssl || SSL_set_fd(c->ssl, (int)c->fd) != 1)
        return -1;
    for (;;) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        if (sc_retry(c, r) != 0 || plat_now_ms() > until)
            return -1;
    }
}

/* Read the request head; remember Host and path. */
static int sc_read_request(sconn *c)
{
    char buf[4096], *host, *sp;
    size_t have = 0;
    uint64_t until = plat_now_ms() + STEP_MS;
    while (have < sizeof buf - 1) {
        size_t n = 0;
        int r = SSL_read_ex(c->ssl, buf + have, sizeof buf - 1 - have, &n);
        if (r == 1) {
            have += n;
            buf[have] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        } else if (sc_retry(c, r) != 0 || plat_now_ms() > until) {
            return -1;
        }
    }
    plat_mutex_lock(c->s->lock);
    c->s->requests++;
    sp = strchr(buf, ' ');
    snprintf(c->s->last_path, sizeof c->s->last_path, "%.*s",
             sp ? (int)strcspn(sp + 1, " ") : 0, sp ? sp + 1 : "");
    host = strstr(buf, "\r\nHost: ");
    snprintf(c->s->last_host, sizeof c->s->last_host, "%.*s",
             host ? (int)strcspn(host + 8, "\r") : 0, host ? host + 8 : "");
    plat_mutex_unlock(c->s->lock);
    return 0;
}

static void send_policy(sconn *c, const char *type)
{
    char head[256];
    char *body;
    plat_mutex_lock(c->s->lock);
    body = strdup(c->s->body);
    plat_mutex_unlock(c->s->lock);
    if (!body)
        return;
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
             "Content-Length: %lu\r\nConnection: close\r\n\r\n", type,
             (unsigned long)strlen(body));
    if (sc_write(c, head, strlen(head)) == 0)
        sc_write(c, body, strlen(body));
    free(body);
}

static void send_chunked(sconn *c)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    char *body, line[32];
    size_t len, off = 0;
    plat_mutex_lock(c->s->lock);
    body = strdup(c->s->body);
    plat_mutex_unlock(c->s->lock);
    if (!body || sc_write(c, head, sizeof head - 1) != 0) {
        free(body);
        return;
    }
    len = strlen(body);
    while (off < len) { /* chunks of 7 bytes: many boundaries inside lines */
        size_t n = len - off < 7 ? len - off : 7;
        snprintf(line, sizeof line, "%lx;ext=1\r\n", (unsigned long)n);
        if (sc_write(c, line, strlen(line)) != 0 || sc_write(c, body + off, n) != 0 ||
            sc_write(c, "\r\n", 2) != 0)
            break;
        off += n;
    }
    sc_write(c, "0\r\nX-Trailer: yes\r\n\r\n", 21);
    free(body);
}

static void send_huge(sconn *c)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "Connection: close\r\n\r\n";
    char block[16384];
    memset(block, 'x', sizeof block);
    if (sc_write(c, head, sizeof head - 1) != 0)
        return;
    for (size_t sent = 0; sent < HUGE_BYTES && !c->s->stop; sent += sizeof block)
        if (sc_write(c, block, sizeof block) != 0)
            return; /* the client gave up, as it should */
}

static void send_drip(sconn *c)
{
    static const char line[] = "HTTP/1.1 200 OK\r\n";
    for (size_t i = 0; i < sizeof line - 1 && !c->s->stop; i++) {
        if (sc_write(c, line + i, 1) != 0)
            return;
        for (int t = 0; t < 10 && !c->s->stop; t++)
            plat_sleep_ms(100);
    }
}

static void serve_one(stsd *s, net_fd fd)
{
    sconn c = { s, fd, NULL };
    static const char redirect[] = "HTTP/1.1 301 Moved Permanently\r\n"
                                   "Location: https://elsewhere.test/.well-known/mta-sts.txt\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n";
    if (sc_accept_tls(&c) == 0 && sc_read_request(&c) == 0) {
        switch (s->kind) {
        case STSD_POLICY: send_policy(&c, "text/plain"); break;
        case STSD_HTML: send_policy(&c, "text/html"); break;
        case STSD_CHUNKED: send_chunked(&c); break;
        case STSD_REDIRECT: sc_write(&c, redirect, sizeof redirect - 1); break;
        case STSD_HUGE: send_huge(&c); break;
        case STSD_DRIP: send_drip(&c); break;
        case STSD_SILENT:
            while (!s->stop)
                plat_sleep_ms(20);
            break;
        }
        SSL_shutdown(c.ssl);
    }
    SSL_free(c.ssl);
    net_close(fd);
}

static void serve(void *arg)
{
    stsd *s = arg;
    while (!s->stop) {
        net_fd fd;
        if (net_accept(s->listener, plat_now_ms() + 50, &fd) == NET_OK)
            serve_one(s, fd);
    }
}

static int make_tls(stsd *s, const certgen_pair *cert)
{
    s->tls = SSL_CTX_new(TLS_server_method());
    return s->tls && SSL_CTX_use_certificate(s->tls, cert->cert) == 1 &&
                   SSL_CTX_use_PrivateKey(s->tls, cert->key) == 1
               ? 0 : -1;
}

stsd *stsd_start(stsd_kind kind, const certgen_pair *cert, const char *body)
{
    stsd *s = calloc(1, sizeof *s);
    char err[128] = "";
    if (!s)
        return NULL;
    s->kind = kind;
    s->listener = NET_BAD_FD;
    s->lock = plat_mutex_new();
    s->body = strdup(body ? body : "");
    if (!s->lock || !s->body || make_tls(s, cert) != 0 ||
        net_listen("127.0.0.1", 0, &s->listener, &s->port, err, sizeof err) != NET_OK) {
        fprintf(stderr, "stsd: cannot start %s\n", err);
        stsd_stop(s);
        return NULL;
    }
    s->thread = plat_thread_start(serve, s);
    if (!s->thread) {
        stsd_stop(s);
        return NULL;
    }
    return s;
}

void stsd_stop(stsd *s)
{
    if (!s)
        return;
    s->stop = 1;
    if (s->thread)
        plat_thread_join(s->thread);
    if (s->listener != NET_BAD_FD)
        net_close(s->listener);
    SSL_CTX_free(s->tls);
    plat_mutex_free(s->lock);
    free(s->body);
    free(s);
}

unsigned stsd_port(const stsd *s) { return s->port; }

void stsd_set_body(stsd *s, const char *body)
{
    char *copy = strdup(body);
    if (!copy)
        return;
    plat_mutex_lock(s->lock);
    free(s->body);
    s->body = copy;
    plat_mutex_unlock(s->lock);
}

unsigned stsd_requests(stsd *s)
{
    unsigned n;
    plat_mutex_lock(s->lock);
    n = s->requests;
    plat_mutex_unlock(s->lock);
    return n;
}

void stsd_last_request(stsd *s, char *host, size_t hlen, char *path, size_t plen)
{
    plat_mutex_lock(s->lock);
    snprintf(host, hlen, "%s", s->last_host);
    snprintf(path, plen, "%s", s->last_path);
    plat_mutex_unlock(s->lock);
}
