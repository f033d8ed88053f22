/* peer: the SMTP test servers (see peer.h). */
#include "peer.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "peer_sys.h"
#include "plat.h"

enum { MAX_CONNS = 128, SLICE_MS = 50, SESSION_MS = 30000, RESET_PAUSE_MS = 300 };

typedef struct {
    plat_thread *thread;
    int done;
} conn_slot;

struct peer {
    peer_kind kind;
    net_fd listener;
    unsigned port;
    SSL_CTX *tls;
    plat_thread *acceptor;
    plat_mutex *lock;
    int stop;
    unsigned connections;
    unsigned reply_delay_ms;
    conn_slot *conns[MAX_CONNS];
    size_t nconns;
    char last_ehlo[256];
    char last_sni[256];
};

typedef struct {
    peer *p;
    conn_slot *slot;
    net_fd fd;
    SSL *ssl;
    char buf[8192];
    size_t len;
} pconn;

static int stopping(peer *p)
{
    int s;
    plat_mutex_lock(p->lock);
    s = p->stop;
    plat_mutex_unlock(p->lock);
    return s;
}

/* Wait in short slices so peer_stop is never kept waiting. */
static int wait_io(pconn *c, int want_write, uint64_t until)
{
    while (!stopping(c->p)) {
        uint64_t slice = plat_now_ms() + SLICE_MS;
        if (slice > until)
            slice = until;
        if (net_wait(c->fd, want_write, slice) == NET_OK)
            return 0;
        if (plat_now_ms() >= until)
            return -1;
    }
    return -1;
}

static int pc_write(pconn *c, const char *data, size_t len)
{
    uint64_t until = plat_now_ms() + SESSION_MS;
    /* Plain writes are small, except the huge line, whose reader goes away:
     * a few seconds bound either. */
    if (!c->ssl)
        return net_send_all(c->fd, data, len, plat_now_ms() + 5000, NULL, 0) == NET_OK ? 0 : -1;
    while (len > 0) {
        size_t put = 0;
        int r = SSL_write_ex(c->ssl, data, len, &put), e;
        if (r == 1) {
            data += put;
            len -= put;
            continue;
        }
        e = SSL_get_error(c->ssl, r);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            || wait_io(c, e == SSL_ERROR_WANT_WRITE, until) != 0)
            return -1;
    }
    return 0;
}

static int pc_puts(pconn *c, const char *s) { return pc_write(c, s, strlen(s)); }

/* A reply, after the configured delay. */
static int pc_reply(pconn *c, const char *s)
{
    if (c->p->reply_delay_ms)
        plat_sleep_ms(c->p->reply_delay_ms);
    return pc_puts(c, s);
}

/* Fill the buffer a little; -1 when the client is gone or we stop. */
static int pc_fill(pconn *c, uint64_t until)
{
    for (;;) {
        int n;
        if (c->ssl) {
            size_t got = 0;
            int r = SSL_read_ex(c->ssl, c->buf + c->len, sizeof c->buf - c->len, &got), e;
            if (r == 1) {
                c->len += got;
                return 0;
            }
            e = SSL_get_error(c->ssl, r);
            if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                || wait_io(c, e == SSL_ERROR_WANT_WRITE, until) != 0)
                return -1;
            continue;
        }
        n = net_recv(c->fd, c->buf + c->len, sizeof c->buf - c->len,
                     plat_now_ms() + SLICE_MS, NULL, 0);
        if (n > 0) {
            c->len += (size_t)n;
            return 0;
        }
        if (n == 0 || n == NET_ERROR || stopping(c->p) || plat_now_ms() >= until)
            return -1;
    }
}

static int pc_read_line(pconn *c, char *line, size_t cap)
{
    uint64_t until = plat_now_ms() + SESSION_MS;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t used = (size_t)(nl - c->buf) + 1, l = used - 1;
            if (l > 0 && c->buf[l - 1] == '\r')
                l--;
            if (l >= cap)
                l = cap - 1;
            memcpy(line, c->buf, l);
            line[l] = '\0';
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 0;
        }
        if (c->len == sizeof c->buf || pc_fill(c, until) != 0)
            return -1;
    }
}

static int starts_with(const char *s, const char *prefix)
{
    size_t i;
    for (i = 0; prefix[i]; i++) {
        char a = s[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (a != prefix[i])
            return 0;
    }
    return 1;
}

static int start_tls(pconn *c)
{
    uint64_t until = plat_now_ms() + SESSION_MS;
    const char *sni;
    c->ssl = SSL_new(c->p->tls);
    if (!c->ssl || SSL_set_fd(c->ssl, (int)c->fd) != 1)
        return -1;
    for (;;) {
        int r = SSL_accept(c->ssl), e;
        if (r == 1)
            break;
        e = SSL_get_error(c->ssl, r);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            || wait_io(c, e == SSL_ERROR_WANT_WRITE, until) != 0)
            return -1;
    }
    sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    plat_mutex_lock(c->p->lock);
    snprintf(c->p->last_sni, sizeof c->p->last_sni, "%s", sni ? sni : "");
    plat_mutex_unlock(c->p->lock);
    return 0;
}

static void reply_ehlo(pconn *c, const char *line)
{
    plat_mutex_lock(c->p->lock);
    snprintf(c->p->last_ehlo, sizeof c->p->last_ehlo, "%.200s", line[4] ? line + 5 : "");
    plat_mutex_unlock(c->p->lock);
    /* One write per reply, as real servers do. The keyword in lower case:
     * clients must match it case-insensitively. */
    pc_reply(c, c->p->kind != PEER_NO_STARTTLS && !c->ssl
                   ? "250-mx.peer.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                     "250-starttls\r\n250 8BITMIME\r\n"
                   : "250-mx.peer.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                     "250 8BITMIME\r\n");
}

/* PEER_ODD_LINE filled to 1 KB, then the greeting's last line. */
static int odd_greeting(pconn *c)
{
    enum { LINE_BYTES = 1024 };
    char text[LINE_BYTES + 16];
    size_t start = strlen(PEER_ODD_LINE);
    memcpy(text, PEER_ODD_LINE, start);
    memset(text + start, 'y', LINE_BYTES - start);
    memcpy(text + LINE_BYTES, "\r\n220 ready\r\n", sizeof "\r\n220 ready\r\n");
    return pc_reply(c, text);
}

/* The ordinary conversation: greeting, then commands until QUIT. */
static void converse(pconn *c)
{
    char line[1024];
    int greeted = c->p->kind == PEER_ODD_GREETING
                      ? odd_greeting(c)
                      : pc_reply(c, "220-mx.peer.test ESMTP test peer\r\n220 ready\r\n");
    if (greeted != 0)
        return;
    while (pc_read_line(c, line, sizeof line) == 0) {
        if (starts_with(line, "EHLO") && c->p->kind == PEER_EHLO_421) {
            pc_reply(c, "421 4.3.2 mx.peer.test shutting down, try later\r\n");
            return;
        } else if (starts_with(line, "EHLO")) {
            reply_ehlo(c, line);
        } else if (starts_with(line, "QUIT")) {
            pc_reply(c, "221 2.0.0 Bye\r\n");
            return;
        } else if (starts_with(line, "STARTTLS") && !c->ssl
                   && c->p->kind != PEER_NO_STARTTLS) {
            if (c->p->kind == PEER_STARTTLS_454) {
                pc_reply(c, "454 4.7.0 TLS not available due to temporary reason\r\n");
                continue;
            }
            if (pc_reply(c, "220 2.0.0 Ready to start TLS\r\n") != 0 || start_tls(c) != 0)
                return;
            c->len = 0;
        } else {
            pc_reply(c, "502 5.5.2 Command not recognized\r\n");
        }
    }
}

/* RFC 5321 3.1: after a 554 greeting the server waits for QUIT and
 * answers anything else 503. */
static void refuse_session(pconn *c)
{
    char line[1024];
    if (pc_reply(c, "554 5.3.2 mx.peer.test no SMTP service here\r\n") != 0)
        return;
    while (pc_read_line(c, line, sizeof line) == 0) {
        if (starts_with(line, "QUIT")) {
            pc_reply(c, "221 2.0.0 Bye\r\n");
            return;
        }
        pc_reply(c, "503 5.5.1 Bad sequence of commands\r\n");
    }
}

/* Hold the connection open, saying nothing, until the client leaves. */
static void stay_silent(pconn *c)
{
    uint64_t until = plat_now_ms() + SESSION_MS;
    while (pc_fill(c, until) == 0)
        c->len = 0;
}

static void endless_greeting(pconn *c)
{
    unsigned i;
    /* Bounded too: a client that never stops reading gets 10^6 lines. */
    for (i = 0; i < 1000000u; i++)
        if (pc_puts(c, "220-still greeting you, more to come\r\n") != 0)
            return;
}

static void huge_line(pconn *c)
{
    size_t size = 1024 * 1024;
    char *big = malloc(size + 6);
    if (!big)
        return;
    memcpy(big, "220 ", 4);
    memset(big + 4, 'x', size);
    memcpy(big + 4 + size, "\r\n", 2);
    pc_write(c, big, size + 6);
    free(big);
    stay_silent(c);
}

/* A reset at once would reach the client while it still checks that its
 * connect succeeded (a connect failure); a moment later it is waiting for
 * the greeting, where this peer means to hit it. */
static void reset_before_greeting(pconn *c)
{
    plat_sleep_ms(RESET_PAUSE_MS);
    peer_sys_close_reset(c->fd);
    c->fd = NET_BAD_FD;
}

static void serve_connection(void *arg)
{
    pconn *c = arg;
    switch (c->p->kind) {
    case PEER_SILENT: stay_silent(c); break;
    case PEER_GARBAGE:
        pc_puts(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        stay_silent(c);
        break;
    case PEER_ENDLESS: endless_greeting(c); break;
    case PEER_HUGE_LINE: huge_line(c); break;
    case PEER_GREETING_421:
        pc_reply(c, "421 4.3.2 mx.peer.test service not available, closing channel\r\n");
        break;
    case PEER_GREETING_554: refuse_session(c); break;
    case PEER_GREETING_CLOSE: break; /* closed below, before a word */
    case PEER_GREETING_RESET: reset_before_greeting(c); break;
    default: converse(c); break;
    }
    SSL_free(c->ssl);
    ERR_clear_error();
    net_close(c->fd);
    if (c->slot) {
        plat_mutex_lock(c->p->lock);
        c->slot->done = 1;
        plat_mutex_unlock(c->p->lock);
    }
    free(c);
}

/* Join the connection threads that have finished, making room for more
 * (a benchmark makes thousands of connections). Called with the lock. */
static void reap_finished(peer *p)
{
    size_t i = 0;
    while (i < p->nconns) {
        conn_slot *slot = p->conns[i];
        if (!slot->done) {
            i++;
            continue;
        }
        plat_thread_join(slot->thread);
        free(slot);
        p->conns[i] = p->conns[--p->nconns];
    }
}

/* Serve c on a thread of its own; 0 when started. */
static int start_connection(peer *p, pconn *c)
{
    conn_slot *slot;
    plat_mutex_lock(p->lock);
    p->connections++;
    reap_finished(p);
    slot = p->nconns < MAX_CONNS ? calloc(1, sizeof *slot) : NULL;
    if (slot) {
        c->slot = slot;
        slot->thread = plat_thread_start(serve_connection, c);
        if (slot->thread) {
            p->conns[p->nconns++] = slot;
        } else {
            c->slot = NULL;
            free(slot);
            slot = NULL;
        }
    }
    plat_mutex_unlock(p->lock);
    return slot ? 0 : -1;
}

static void accept_loop(void *arg)
{
    peer *p = arg;
    while (!stopping(p)) {
        net_fd fd;
        pconn *c;
        if (net_accept(p->listener, plat_now_ms() + SLICE_MS, &fd) != NET_OK)
            continue;
        c = calloc(1, sizeof *c);
        if (!c) {
            net_close(fd);
            continue;
        }
        c->p = p;
        c->fd = fd;
        if (start_connection(p, c) != 0)
            serve_connection(c); /* no thread to be had: serve inline */
    }
}

static SSL_CTX *server_ctx(peer_kind kind, const certgen_pair *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    if (kind == PEER_TLS10_ONLY) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION);
    } else if (kind == PEER_TLS13_ONLY) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    }
    if (SSL_CTX_use_certificate(ctx, cert->cert) != 1
        || SSL_CTX_use_PrivateKey(ctx, cert->key) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

peer *peer_start(peer_kind kind, const certgen_pair *cert)
{
    return peer_start_on("127.0.0.1", kind, cert);
}

peer *peer_start_on(const char *ip, peer_kind kind, const certgen_pair *cert)
{
    return peer_start_at(ip, 0, kind, cert);
}

peer *peer_start_at(const char *ip, unsigned port, peer_kind kind, const certgen_pair *cert)
{
    peer *p = calloc(1, sizeof *p);
    certgen_pair own = { NULL, NULL };
    char err[128];
    if (!p)
        return NULL;
    p->kind = kind;
    p->listener = NET_BAD_FD;
    p->lock = plat_mutex_new();
    if (!cert) {
        long from = kind == PEER_EXPIRED ? -30L * 86400 : -3600;
        long until = kind == PEER_EXPIRED ? -86400 : 30L * 86400;
        if (certgen_make("mx.peer.test", from, until, NULL, &own) != 0)
            goto fail;
        cert = &own;
    }
    p->tls = server_ctx(kind, cert);
    certgen_free(&own);
    if (!p->lock || !p->tls
        || net_listen(ip, port, &p->listener, &p->port, err, sizeof err) != NET_OK)
        goto fail;
    p->acceptor = plat_thread_start(accept_loop, p);
    if (!p->acceptor)
        goto fail;
    return p;
fail:
    peer_stop(p);
    return NULL;
}

void peer_stop(peer *p)
{
    size_t i;
    if (!p)
        return;
    if (p->lock) {
        plat_mutex_lock(p->lock);
        p->stop = 1;
        plat_mutex_unlock(p->lock);
    }
    if (p->acceptor)
        plat_thread_join(p->acceptor);
    for (i = 0; i < p->nconns; i++) {
        plat_thread_join(p->conns[i]->thread);
        free(p->conns[i]);
    }
    net_close(p->listener);
    SSL_CTX_free(p->tls);
    plat_mutex_free(p->lock);
    free(p);
}

unsigned peer_port(const peer *p) { return p->port; }

void peer_set_reply_delay(peer *p, unsigned ms)
{
    plat_mutex_lock(p->lock);
    p->reply_delay_ms = ms;
    plat_mutex_unlock(p->lock);
}

unsigned peer_connections(peer *p)
{
    unsigned n;
    plat_mutex_lock(p->lock);
    n = p->connections;
    plat_mutex_unlock(p->lock);
    return n;
}

void peer_last_ehlo(peer *p, char *buf, size_t len)
{
    plat_mutex_lock(p->lock);
    snprintf(buf, len, "%s", p->last_ehlo);
    plat_mutex_unlock(p->lock);
}

void peer_last_sni(peer *p, char *buf, size_t len)
{
    plat_mutex_lock(p->lock);
    snprintf(buf, len, "%s", p->last_sni);
    plat_mutex_unlock(p->lock);
}

unsigned peer_unused_port(void)
{
    net_fd fd;
    unsigned port = 0;
    char err[128];
    if (net_listen("127.0.0.1", 0, &fd, &port, err, sizeof err) != NET_OK)
        return 0;
    net_close(fd);
    return port;
}
