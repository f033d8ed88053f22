/* hostile: misbehaving SMTP and DNS peers (see hostile.h). */
#include "hostile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "plat.h"

enum { SLICE_MS = 50, SESSION_MS = 30000 };

struct hostile {
    int dns;
    hostile_smtp_kind kind;
    net_fd listener, udp;
    unsigned port;
    char server[32];
    plat_thread *thread;
    plat_mutex *lock;
    volatile int stop;
    size_t sent;
};

static int stopping(hostile *h)
{
    int s;
    plat_mutex_lock(h->lock);
    s = h->stop;
    plat_mutex_unlock(h->lock);
    return s;
}

static void count_sent(hostile *h, size_t n)
{
    plat_mutex_lock(h->lock);
    h->sent += n;
    plat_mutex_unlock(h->lock);
}

static int send_bytes(hostile *h, net_fd fd, const void *buf, size_t len)
{
    if (stopping(h) || net_send_all(fd, buf, len, plat_now_ms() + 5000, NULL, 0) != NET_OK)
        return -1;
    count_sent(h, len);
    return 0;
}

/* Read until a line ends (the client's command); -1 when it left. */
static int read_command(hostile *h, net_fd fd, char *buf, size_t cap)
{
    size_t len = 0;
    uint64_t until = plat_now_ms() + SESSION_MS;
    while (len < cap - 1 && !stopping(h) && plat_now_ms() < until) {
        int n = net_recv(fd, buf + len, 1, plat_now_ms() + SLICE_MS, NULL, 0);
        if (n == NET_TIMEOUT)
            continue;
        if (n <= 0)
            return -1;
        if (buf[len++] == '\n') {
            buf[len] = '\0';
            return 0;
        }
    }
    return -1;
}

static void hold_open(hostile *h, net_fd fd)
{
    char sink[512];
    uint64_t until = plat_now_ms() + SESSION_MS;
    while (!stopping(h) && plat_now_ms() < until) {
        int n = net_recv(fd, sink, sizeof sink, plat_now_ms() + SLICE_MS, NULL, 0);
        if (n == 0 || n == NET_ERROR)
            return;
    }
}

/* ---- SMTP ------------------------------------------------------------- */

static void drip(hostile *h, net_fd fd)
{
    static const char greeting[] = "220 slow.hostile.test ESMTP\r\n";
    for (size_t i = 0; i < sizeof greeting - 1; i++) {
        if (send_bytes(h, fd, greeting + i, 1) != 0)
            return;
        for (int t = 0; t < 1000 / SLICE_MS && !stopping(h); t++)
            plat_sleep_ms(SLICE_MS);
    }
    hold_open(h, fd);
}

static void flood(hostile *h, net_fd fd)
{
    char cmd[512], block[8192];
    size_t line = 64;
    if (send_bytes(h, fd, "220 flood.hostile.test ESMTP\r\n", 30) != 0 ||
        read_command(h, fd, cmd, sizeof cmd) != 0)
        return;
    /* 8 KB of "250-xxxx...\r\n" lines, again and again: 10 MB in all. */
    for (size_t i = 0; i + line <= sizeof block; i += line) {
        memcpy(block + i, "250-", 4);
        memset(block + i + 4, 'x', line - 6);
        memcpy(block + i + line - 2, "\r\n", 2);
    }
    for (size_t sent = 0; sent < HOSTILE_FLOOD_BYTES; sent += sizeof block)
        if (send_bytes(h, fd, block, sizeof block) != 0)
            return; /* the client stopped reading and closed: as it should */
    hold_open(h, fd);
}

static void tls_garbage(hostile *h, net_fd fd)
{
    static const char ehlo[] = "250-garbage.hostile.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
    char cmd[512], junk[4096];
    if (send_bytes(h, fd, "220 garbage.hostile.test ESMTP\r\n", 32) != 0 ||
        read_command(h, fd, cmd, sizeof cmd) != 0 ||
        send_bytes(h, fd, ehlo, sizeof ehlo - 1) != 0 ||
        read_command(h, fd, cmd, sizeof cmd) != 0 ||
        send_bytes(h, fd, "220 2.0.0 go ahead\r\n", 20) != 0)
        return;
    /* Not a TLS record: a TLS client must give up, not wait for more. */
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)("garbage!"[i % 8] ^ (i & 0x7f));
    if (send_bytes(h, fd, junk, sizeof junk) == 0)
        hold_open(h, fd);
}

static void serve_smtp(void *arg)
{
    hostile *h = arg;
    while (!stopping(h)) {
        net_fd fd;
        if (net_accept(h->listener, plat_now_ms() + SLICE_MS, &fd) != NET_OK)
            continue;
        switch (h->kind) {
        case HOSTILE_SMTP_DRIP: drip(h, fd); break;
        case HOSTILE_SMTP_FLOOD: flood(h, fd); break;
        case HOSTILE_SMTP_TLS_GARBAGE: tls_garbage(h, fd); break;
        }
        net_close(fd);
    }
}

/* ---- DNS --------------------------------------------------------------- */

enum { T_A = 1, T_MX = 15, DNS_MAX = 65535 };

/* The end of the question (after QTYPE and QCLASS) and its type; 0 if bad. */
static size_t question_end(const unsigned char *q, size_t len, unsigned *qtype)
{
    size_t pos = 12;
    if (len < 17)
        return 0;
    while (pos < len && q[pos] != 0) {
        if (q[pos] > 63)
            return 0;
        pos += (size_t)q[pos] + 1;
    }
    if (pos + 5 > len)
        return 0;
    *qtype = (unsigned)(q[pos + 1] << 8 | q[pos + 2]);
    return pos + 5;
}

static size_t put_rr_head(unsigned char *out, size_t n, unsigned type, unsigned rdlen)
{
    static const unsigned char ttl[4] = { 0, 0, 0, 60 };
    out[n++] = 0xC0; /* owner: the question's name */
    out[n++] = 12;
    out[n++] = 0;
    out[n++] = (unsigned char)type;
    out[n++] = 0;
    out[n++] = 1;
    memcpy(out + n, ttl, 4);
    n += 4;
    out[n++] = (unsigned char)(rdlen >> 8);
    out[n++] = (unsigned char)rdlen;
    return n;
}

/* The full answer into out (DNS_MAX bytes); its length, 0 to drop. */
static size_t dns_answer(const unsigned char *q, size_t len, unsigned char *out, int truncate)
{
    unsigned qtype = 0, count = 0;
    size_t n = question_end(q, len, &qtype);
    if (n == 0)
        return 0;
    memcpy(out, q, n);
    out[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04 | (truncate ? 0x02 : 0));
    out[3] = 0x80;
    memset(out + 6, 0, 6);
    if (!truncate && qtype == T_MX) {
        for (unsigned i = 0; i < HOSTILE_MX_COUNT; i++) {
            /* pref, then "mxNNNN" and a pointer to the question's name */
            n = put_rr_head(out, n, T_MX, 2 + 7 + 2);
            out[n++] = (unsigned char)(i >> 8);
            out[n++] = (unsigned char)i;
            out[n++] = 6;
            n += (size_t)sprintf((char *)out + n, "mx%04u", i);
            out[n++] = 0xC0;
            out[n++] = 12;
            count++;
        }
    } else if (!truncate && qtype == T_A) {
        n = put_rr_head(out, n, T_A, 4);
        out[n++] = 127;
        out[n++] = 0;
        out[n++] = 0;
        out[n++] = 1;
        count = 1;
    }
    out[6] = (unsigned char)(count >> 8);
    out[7] = (unsigned char)count;
    return n;
}

static void dns_tcp_client(hostile *h, net_fd fd, unsigned char *buf, unsigned char *out)
{
    size_t have = 0;
    uint64_t until = plat_now_ms() + 5000;
    while (!stopping(h) && plat_now_ms() < until) {
        int n = net_recv(fd, buf + have, 2 + 512 - have, plat_now_ms() + SLICE_MS, NULL, 0);
        size_t qlen, alen;
        if (n == NET_TIMEOUT)
            continue;
        if (n <= 0)
            return;
        have += (size_t)n;
        if (have < 2 || have < 2 + (qlen = (size_t)(buf[0] << 8 | buf[1])))
            continue;
        alen = dns_answer(buf + 2, qlen, out + 2, 0);
        if (alen == 0)
            return;
        out[0] = (unsigned char)(alen >> 8);
        out[1] = (unsigned char)alen;
        if (send_bytes(h, fd, out, alen + 2) != 0)
            return;
        memmove(buf, buf + 2 + qlen, have - 2 - qlen);
        have -= 2 + qlen;
    }
}

static void serve_dns(void *arg)
{
    hostile *h = arg;
    unsigned char *q = malloc(2 + 512 + 8), *out = malloc(2 + DNS_MAX);
    while (q && out && !stopping(h)) {
        net_peer from;
        net_fd fd;
        int n = net_udp_recv(h->udp, q, 512, plat_now_ms() + SLICE_MS, &from);
        if (n > 0) {
            size_t alen = dns_answer(q, (size_t)n, out, 1);
            if (alen)
                net_udp_send(h->udp, out, alen, &from);
        }
        if (net_accept(h->listener, plat_now_ms() + 1, &fd) == NET_OK) {
            dns_tcp_client(h, fd, q, out);
            net_close(fd);
        }
    }
    free(q);
    free(out);
}

/* ---- life cycle -------------------------------------------------------- */

static hostile *hostile_new(void)
{
    hostile *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->listener = NET_BAD_FD;
    h->udp = NET_BAD_FD;
    h->lock = plat_mutex_new();
    if (!h->lock) {
        free(h);
        return NULL;
    }
    return h;
}

hostile *hostile_smtp_start(hostile_smtp_kind kind)
{
    hostile *h = hostile_new();
    char err[128];
    if (!h)
        return NULL;
    h->kind = kind;
    if (net_listen("127.0.0.1", 0, &h->listener, &h->port, err, sizeof err) != NET_OK ||
        !(h->thread = plat_thread_start(serve_smtp, h))) {
        hostile_stop(h);
        return NULL;
    }
    return h;
}

hostile *hostile_dns_start(void)
{
    hostile *h = hostile_new();
    char err[128];
    if (!h)
        return NULL;
    h->dns = 1;
    /* The resolver retries over TCP on the same port: find one free for both. */
    for (int tries = 0; tries < 20 && h->listener == NET_BAD_FD; tries++) {
        if (net_udp_open("127.0.0.1", 0, &h->udp, &h->port, err, sizeof err) != NET_OK)
            break;
        if (net_listen("127.0.0.1", h->port, &h->listener, NULL, err, sizeof err) != NET_OK) {
            net_close(h->udp);
            h->udp = NET_BAD_FD;
            h->listener = NET_BAD_FD;
        }
    }
    snprintf(h->server, sizeof h->server, "127.0.0.1:%u", h->port);
    if (h->listener == NET_BAD_FD || !(h->thread = plat_thread_start(serve_dns, h))) {
        hostile_stop(h);
        return NULL;
    }
    return h;
}

void hostile_stop(hostile *h)
{
    if (!h)
        return;
    plat_mutex_lock(h->lock);
    h->stop = 1;
    plat_mutex_unlock(h->lock);
    if (h->thread)
        plat_thread_join(h->thread);
    if (h->listener != NET_BAD_FD)
        net_close(h->listener);
    if (h->udp != NET_BAD_FD)
        net_close(h->udp);
    plat_mutex_free(h->lock);
    free(h);
}

unsigned hostile_port(const hostile *h) { return h->port; }
const char *hostile_server(const hostile *h) { return h->server; }

size_t hostile_bytes_sent(hostile *h)
{
    size_t n;
    plat_mutex_lock(h->lock);
    n = h->sent;
    plat_mutex_unlock(h->lock);
    return n;
}
