/* dns: MX, A/AAAA, TXT and TLSA look-ups with c-ares, under a deadline.
 *
 * Queries go out with ares_send so that we build them ourselves (with the AD
 * bit set, RFC 6840 5.7, so a validating resolver says whether it validated)
 * and read the raw answer: the AD bit and the response code come from the
 * header, the records from a small RR walker below. c-ares does the sending,
 * retries, server fallback and TCP on truncation; net_poll drives it. */
#include "dns.h"

#include <ares.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "plat.h"
#include "tls.h"

enum { RR_A = 1, RR_MX = 15, RR_TXT = 16, RR_AAAA = 28, RR_TLSA = 52 };
enum { CLASS_IN = 1, EDNS_UDP_SIZE = 1232, HEADER_LEN = 12 };

static plat_once lib_once = PLAT_ONCE_INIT;
static int lib_status = ARES_ENOTINITIALIZED;

static void lib_init(void) { lib_status = ares_library_init(ARES_LIB_INIT_ALL); }

const char *dns_status_name(dns_status s)
{
    switch (s) {
    case DNS_OK: return "ok";
    case DNS_NODATA: return "nodata";
    case DNS_NXDOMAIN: return "nxdomain";
    case DNS_SERVFAIL: return "servfail";
    case DNS_TIMEOUT: return "timeout";
    case DNS_ERROR: break;
    }
    return "error";
}

/* One outstanding query and, once answered, its raw response. */
typedef struct {
    int done;
    dns_status status;
    int ad;
    unsigned char *answer;
    int len;
    char error[DNS_ERR_MAX];
} query;

static dns_status status_from_ares(int code)
{
    switch (code) {
    case ARES_ENODATA: return DNS_NODATA;
    case ARES_ENOTFOUND: return DNS_NXDOMAIN;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_ENOTIMP:
    case ARES_ECONNREFUSED: return DNS_SERVFAIL;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return DNS_TIMEOUT;
    default: return DNS_ERROR;
    }
}

static void set_query_error(query *q, dns_status st, const char *text)
{
    q->status = st;
    snprintf(q->error, sizeof q->error, "%s", text);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
                      int alen)
{
    query *q = arg;
    int rcode;
    q->done = 1;
    if (status != ARES_SUCCESS) {
        set_query_error(q, status_from_ares(status),
                        status == ARES_ECANCELLED ? "no DNS answer before the deadline"
                                                  : ares_strerror(status));
        return;
    }
    if (!abuf || alen < HEADER_LEN) {
        set_query_error(q, DNS_ERROR, "short DNS answer");
        return;
    }
    rcode = abuf[3] & 0x0f;
    q->ad = (abuf[3] & 0x20) != 0;
    if (rcode == 3) {
        set_query_error(q, DNS_NXDOMAIN, "domain does not exist (NXDOMAIN)");
        return;
    }
    if (rcode != 0) {
        char text[64];
        snprintf(text, sizeof text, "DNS server failure (rcode %d)", rcode);
        set_query_error(q, rcode == 1 ? DNS_ERROR : DNS_SERVFAIL, text);
        return;
    }
    q->answer = malloc((size_t)alen);
    if (!q->answer) {
        set_query_error(q, DNS_ERROR, "out of memory");
        return;
    }
    memcpy(q->answer, abuf, (size_t)alen);
    q->len = alen;
    q->status = DNS_OK; /* NODATA is decided by the caller per record type */
}

#define DNS_MAX_SERVERS 8

/* One entry of a server list: an address or a name, and a port. */
typedef struct {
    char host[DNS_NAME_MAX];
    unsigned port; /* 53 unless given */
    int is_name;
} server_entry;

static int parse_port(const char *p, size_t len, unsigned *port)
{
    unsigned long v = 0;
    size_t i;
    if (len == 0 || len > 5)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

static int only_chars(const char *s, const char *allowed)
{
    for (; *s; s++)
        if (!strchr(allowed, *s))
            return 0;
    return 1;
}

/* "A.B.C.D[:PORT]", "[V6][:PORT]", a bare IPv6 address, or "NAME[:PORT]". */
static int parse_server(const char *p, size_t len, server_entry *e)
{
    const char *host = p, *port = NULL;
    size_t hlen = len, colons = 0, i;
    memset(e, 0, sizeof *e);
    e->port = 53;
    if (len > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', len);
        if (!close)
            return -1;
        host = p + 1;
        hlen = (size_t)(close - host);
        if (close + 1 < p + len) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        for (i = 0; i < len; i++)
            colons += p[i] == ':';
        if (colons == 1) {
            const char *colon = memchr(p, ':', len);
            hlen = (size_t)(colon - p);
            port = colon + 1;
        }
    }
    if (port && parse_port(port, (size_t)(p + len - port), &e->port) != 0)
        return -1;
    if (hlen == 0 || hlen >= sizeof e->host)
        return -1;
    memcpy(e->host, host, hlen);
    e->host[hlen] = '\0';
    if (strchr(e->host, ':'))
        return only_chars(e->host, "0123456789abcdefABCDEF:.") ? 0 : -1;
    if (only_chars(e->host, "0123456789."))
        return 0;
    e->is_name = 1;
    return only_chars(e->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
               ? 0 : -1;
}

static int parse_server_list(const char *servers, server_entry *out, size_t *n)
{
    const char *p = servers;
    *n = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*n == DNS_MAX_SERVERS || parse_server(p, len, &out[*n]) != 0)
            return -1;
        (*n)++;
        p += len;
        if (*p == ',' && *++p == '\0')
            return -1; /* a trailing comma: an empty entry */
    }
    return *n > 0 ? 0 : -1;
}

static int is_localhost(const char *h)
{
    const char *w = "localhost";
    for (; *h && *w; h++, w++)
        if ((*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h) != *w)
            return 0;
    return *h == *w;
}

/* The list as c-ares takes it, "IP:PORT,...": names are resolved through
 * the system's resolvers first (c-ares takes addresses only). */
static int servers_csv(const char *servers, uint64_t deadline_ms, char *csv, size_t len,
                       char *err, size_t errlen)
{
    server_entry e[DNS_MAX_SERVERS];
    size_t n, i, used = 0;
    if (parse_server_list(servers, e, &n) != 0) {
        snprintf(err, errlen, "bad DNS server list \"%.60s\" (want HOST[:PORT],...)", servers);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *ip = e[i].host;
        dns_addr_list a;
        int w;
        if (e[i].is_name && is_localhost(e[i].host)) {
            ip = "127.0.0.1";
        } else if (e[i].is_name) {
            if (dns_lookup_addrs(NULL, e[i].host, deadline_ms, &a) != DNS_OK) {
                snprintf(err, errlen, "DNS server %.60s: %.80s", e[i].host, a.error);
                return -1;
            }
            ip = a.addrs[0];
        }
        w = snprintf(csv + used, len - used, strchr(ip, ':') ? "%s[%s]:%u" : "%s%s:%u",
                     i ? "," : "", ip, e[i].port);
        if (w < 0 || (size_t)w >= len - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

/* A channel whose per-try timeout fits the deadline; servers as given. */
static int channel_open(const char *servers, uint64_t deadline_ms, ares_channel *ch,
                        char *err, size_t errlen)
{
    struct ares_options opts;
    int remaining = net_remaining_ms(deadline_ms), rc;
    char csv[DNS_MAX_SERVERS * (DNS_ADDR_MAX + 9)];

    if (servers && *servers && servers_csv(servers, deadline_ms, csv, sizeof csv, err, errlen) != 0)
        return -1;
    net_init();
    plat_once_run(&lib_once, lib_init);
    if (lib_status != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", ares_strerror(lib_status));
        return -1;
    }
    memset(&opts, 0, sizeof opts);
    /* Three tries each a third of the time left (at most 2 s), so a lost UDP
     * packet is retried and the deadline still bounds the whole look-up. */
    opts.timeout = remaining / 3 > 2000 ? 2000 : (remaining / 3 < 100 ? 100 : remaining / 3);
    opts.tries = 3;
    rc = ares_init_options(ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
        return -1;
    }
    if (servers && *servers) {
        rc = ares_set_servers_ports_csv(*ch, csv);
        if (rc != ARES_SUCCESS) {
            snprintf(err, errlen, "bad DNS server list \"%.60s\"", servers);
            ares_destroy(*ch);
            return -1;
        }
    }
    return 0;
}

int dns_check_servers(const char *servers, char *err, size_t errlen)
{
    server_entry e[DNS_MAX_SERVERS];
    size_t n;
    if (!servers || !*servers || parse_server_list(servers, e, &n) == 0)
        return 0;
    snprintf(err, errlen, "bad DNS server list \"%.60s\" (want HOST[:PORT],...)", servers);
    return -1;
}

static void query_start(ares_channel ch, const char *name, int type, query *q)
{
    unsigned char *qbuf = NULL;
    int qlen = 0, rc;
    memset(q, 0, sizeof *q);
    if (!name || !*name || strlen(name) > 253) {
        q->done = 1;
        set_query_error(q, DNS_ERROR, "bad DNS name");
        return;
    }
    rc = ares_create_query(name, CLASS_IN, type, 0, 1, &qbuf, &qlen, EDNS_UDP_SIZE);
    if (rc != ARES_SUCCESS) {
        q->done = 1;
        set_query_error(q, DNS_ERROR, "bad DNS name");
        return;
    }
    qbuf[3] |= 0x20; /* AD: report whether the answer was validated */
    ares_send(ch, qbuf, qlen, on_answer, q);
    ares_free_string(qbuf);
}

static int all_done(const query *qs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!qs[i].done)
            return 0;
    return 1;
}

/* Drive the channel until every query is answered or the deadline passes
 * (then the rest are cancelled and report DNS_TIMEOUT). */
static void channel_run(ares_channel ch, query *qs, size_t nq, uint64_t deadline_ms)
{
    while (!all_done(qs, nq)) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        net_pollfd p[ARES_GETSOCK_MAXNUM];
        struct timeval maxtv, tv, *tvp;
        int remaining = net_remaining_ms(deadline_ms), bits, i, wait_ms;
        size_t n = 0, k;

        if (remaining == 0) {
            ares_cancel(ch);
            return;
        }
        bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
        for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            /* ARES_GETSOCK_WRITABLE shifts a signed 1 into bit 31 for the
             * last socket; test the bits unsigned instead. */
            int rd = ((unsigned)bits >> i) & 1u;
            int wr = ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u;
            if (!rd && !wr)
                continue;
            memset(&p[n], 0, sizeof p[n]);
            p[n].fd = (net_fd)socks[i];
            p[n].want_read = rd;
            p[n].want_write = wr;
            n++;
        }
        maxtv.tv_sec = remaining / 1000;
        maxtv.tv_usec = (remaining % 1000) * 1000;
        tvp = ares_timeout(ch, &maxtv, &tv);
        wait_ms = (int)tvp->tv_sec * 1000 + (int)((tvp->tv_usec + 999) / 1000);
        if (net_poll(p, n, wait_ms) < 0) {
            ares_cancel(ch);
            return;
        }
        for (k = 0; k < n; k++)
            if (p[k].readable || p[k].writable)
                ares_process_fd(ch, p[k].readable ? (ares_socket_t)p[k].fd : ARES_SOCKET_BAD,
                                p[k].writable ? (ares_socket_t)p[k].fd : ARES_SOCKET_BAD);
        ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* retries, timeouts */
    }
}

/* Run nq queries (names[i], types[i]) on one channel. -1 when the channel
 * could not be made (err set); else 0 and each query has its outcome. */
static int run_queries(const char *servers, const char *const *names, const int *types,
                       query *qs, size_t nq, uint64_t deadline_ms, char *err,
                       size_t errlen)
{
    ares_channel ch;
    size_t i;
    if (channel_open(servers, deadline_ms, &ch, err, errlen) != 0)
        return -1;
    for (i = 0; i < nq; i++)
        query_start(ch, names[i], types[i], &qs[i]);
    channel_run(ch, qs, nq, deadline_ms);
    ares_destroy(ch); /* calls back anything still pending */
    return 0;
}

/* The answer section, one resource record at a time. */
typedef struct {
    const unsigned char *msg;
    int len, pos;
    unsigned left;
} rr_iter;

static int skip_name(const unsigned char *msg, int len, int *pos)
{
    int hops = 0;
    while (*pos < len && hops++ < 128) {
        unsigned c = msg[*pos];
        if ((c & 0xC0) == 0xC0) {
            *pos += 2;
            return *pos <= len ? 0 : -1;
        }
        if (c & 0xC0)
            return -1;
        *pos += (int)c + 1;
        if (c == 0)
            return *pos <= len ? 0 : -1;
    }
    return -1;
}

static int rr_begin(rr_iter *it, const unsigned char *msg, int len)
{
    unsigned qd = (unsigned)msg[4] << 8 | msg[5];
    it->msg = msg;
    it->len = len;
    it->pos = HEADER_LEN;
    it->left = (unsigned)msg[6] << 8 | msg[7];
    while (qd-- > 0) {
        if (skip_name(msg, len, &it->pos) != 0 || it->pos + 4 > len)
            return -1;
        it->pos += 4;
    }
    return 0;
}

/* 1 with the next record, 0 at the end, -1 on a malformed message. */
static int rr_next(rr_iter *it, int *type, const unsigned char **rdata, int *rdlen)
{
    const unsigned char *m = it->msg;
    int p;
    if (it->left == 0)
        return 0;
    if (skip_name(m, it->len, &it->pos) != 0 || it->pos + 10 > it->len)
        return -1;
    p = it->pos;
    *type = m[p] << 8 | m[p + 1];
    *rdlen = m[p + 8] << 8 | m[p + 9];
    if (p + 10 + *rdlen > it->len)
        return -1;
    *rdata = m + p + 10;
    it->pos = p + 10 + *rdlen;
    it->left--;
    /* Records of class IN only; others are walked over. */
    if ((m[p + 2] << 8 | m[p + 3]) != CLASS_IN)
        return rr_next(it, type, rdata, rdlen);
    return 1;
}

typedef struct {
    unsigned pref;
    uint32_t shuffle;
    char name[DNS_NAME_MAX];
} mx_entry;

static int mx_compare(const void *a, const void *b)
{
    const mx_entry *x = a, *y = b;
    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    if (x->shuffle != y->shuffle)
        return x->shuffle < y->shuffle ? -1 : 1;
    return 0;
}

/* Order among equal preferences only needs to differ between look-ups, not
 * to be secret; should RAND_bytes ever fail, the clock's low bits do. */
static uint32_t random_u32(void)
{
    uint32_t r;
    tls_thread_note_use(); /* OpenSSL's random generator is per thread */
    if (RAND_bytes((unsigned char *)&r, sizeof r) == 1)
        return r;
    return (uint32_t)plat_now_ms() * 2654435761u;
}

/* MX records of the answer into entries; returns the count or -1. */
static int parse_mx(const query *q, mx_entry *mx, size_t cap)
{
    rr_iter it;
    int type, rdlen, r, n = 0;
    const unsigned char *rd;
    if (rr_begin(&it, q->answer, q->len) != 0)
        return -1;
    while ((r = rr_next(&it, &type, &rd, &rdlen)) == 1) {
        char *name = NULL;
        long enclen;
        if (type != RR_MX)
            continue;
        if (rdlen < 3 || ares_expand_name(rd + 2, q->answer, q->len, &name, &enclen)
                             != ARES_SUCCESS)
            return -1;
        if ((size_t)n < cap && strlen(name) < DNS_NAME_MAX) {
            mx[n].pref = (unsigned)(rd[0] << 8 | rd[1]);
            mx[n].shuffle = random_u32();
            snprintf(mx[n].name, sizeof mx[n].name, "%s", name);
            n++;
        }
        ares_free_string(name);
    }
    return r < 0 ? -1 : n;
}

static void mx_fill(dns_mx_list *out, mx_entry *mx, int n)
{
    int i, real = 0;
    qsort(mx, (size_t)n, sizeof *mx, mx_compare);
    for (i = 0; i < n; i++) {
        /* "." (an empty exchange) is RFC 7505's null MX; it only means "no
         * mail" when it stands alone, otherwise it is a broken record. */
        if (mx[i].name[0] == '\0' || strcmp(mx[i].name, ".") == 0)
            continue;
        out->hosts[real].pref = mx[i].pref;
        snprintf(out->hosts[real].name, DNS_NAME_MAX, "%s", mx[i].name);
        real++;
    }
    out->count = (size_t)real;
    if (real == 0) {
        out->null_mx = 1;
        snprintf(out->error, sizeof out->error, "domain publishes a null MX (accepts no mail)");
    }
}

dns_status dns_lookup_mx(const char *servers, const char *domain, uint64_t deadline_ms,
                         dns_mx_list *out)
{
    query q;
    const char *names[1] = { domain };
    int types[1] = { RR_MX }, n;
    mx_entry mx[DNS_MAX_MX];

    memset(out, 0, sizeof *out);
    if (run_queries(servers, names, types, &q, 1, deadline_ms, out->error,
                    sizeof out->error) != 0)
        return out->status = DNS_ERROR;
    out->status = q.status;
    out->ad = q.ad;
    if (q.status == DNS_OK) {
        n = parse_mx(&q, mx, DNS_MAX_MX);
        if (n < 0) {
            out->status = DNS_ERROR;
            snprintf(out->error, sizeof out->error, "malformed MX answer");
        } else if (n == 0) {
            out->status = DNS_NODATA;
        } else {
            mx_fill(out, mx, n);
        }
    } else {
        snprintf(out->error, sizeof out->error, "MX %.60s: %.90s", domain, q.error);
    }
    free(q.answer);
    if (out->status == DNS_NODATA) {
        /* RFC 5321 5.1: no MX means the domain itself is the mail host. */
        out->status = DNS_OK;
        out->implicit = 1;
        out->count = 1;
        out->hosts[0].pref = 0;
        snprintf(out->hosts[0].name, DNS_NAME_MAX, "%s", domain);
    }
    return out->status;
}

static void addrs_collect(const query *q, int want, dns_addr_list *out)
{
    rr_iter it;
    int type, rdlen;
    const unsigned char *rd;
    if (q->status != DNS_OK || rr_begin(&it, q->answer, q->len) != 0)
        return;
    while (rr_next(&it, &type, &rd, &rdlen) == 1 && out->count < DNS_MAX_ADDRS) {
        char *dst = out->addrs[out->count];
        if (type != want)
            continue;
        if (type == RR_A && rdlen == 4) {
            snprintf(dst, DNS_ADDR_MAX, "%u.%u.%u.%u", rd[0], rd[1], rd[2], rd[3]);
            out->count++;
        } else if (type == RR_AAAA && rdlen == 16
                   && ares_inet_ntop(AF_INET6, rd, dst, DNS_ADDR_MAX) != NULL) {
            out->count++;
        }
    }
}

/* No address: the most telling of the two outcomes. */
static dns_status addrs_failure(const query *v4, const query *v6)
{
    if (v4->status == DNS_NXDOMAIN && v6->status == DNS_NXDOMAIN)
        return DNS_NXDOMAIN;
    if (v4->status == DNS_TIMEOUT || v6->status == DNS_TIMEOUT)
        return DNS_TIMEOUT;
    if (v4->status == DNS_SERVFAIL || v6->status == DNS_SERVFAIL)
        return DNS_SERVFAIL;
    if (v4->status == DNS_ERROR && v6->status == DNS_ERROR)
        return DNS_ERROR;
    return DNS_NODATA;
}

dns_status dns_lookup_addrs(const char *servers, const char *host, uint64_t deadline_ms,
                            dns_addr_list *out)
{
    query q[2];
    const char *names[2] = { host, host };
    int types[2] = { RR_A, RR_AAAA };

    memset(out, 0, sizeof *out);
    if (run_queries(servers, names, types, q, 2, deadline_ms, out->error,
                    sizeof out->error) != 0)
        return out->status = DNS_ERROR;
    addrs_collect(&q[0], RR_A, out);
    addrs_collect(&q[1], RR_AAAA, out);
    if (out->count > 0) {
        out->status = DNS_OK;
    } else {
        out->status = addrs_failure(&q[0], &q[1]);
        snprintf(out->error, sizeof out->error, "address of %.60s: %.80s", host,
                 out->status == DNS_NODATA ? "no A or AAAA records"
                 : q[0].status != DNS_OK   ? q[0].error
                                           : q[1].error);
    }
    free(q[0].answer);
    free(q[1].answer);
    return out->status;
}

/* Join one TXT record's character-strings. */
static char *txt_join(const unsigned char *rd, int rdlen)
{
    char *s = malloc((size_t)rdlen + 1);
    int i = 0;
    size_t n = 0;
    if (!s)
        return NULL;
    while (i < rdlen) {
        int part = rd[i++];
        if (i + part > rdlen)
            part = rdlen - i;
        memcpy(s + n, rd + i, (size_t)part);
        n += (size_t)part;
        i += part;
    }
    s[n] = '\0';
    return s;
}

/* Run one query of type and hand back the query for the caller to walk. */
static dns_status single_query(const char *servers, const char *name, int type,
                               uint64_t deadline_ms, query *q, char *err, size_t errlen)
{
    const char *names[1] = { name };
    if (run_queries(servers, names, &type, q, 1, deadline_ms, err, errlen) != 0) {
        memset(q, 0, sizeof *q);
        return DNS_ERROR;
    }
    if (q->status != DNS_OK)
        snprintf(err, errlen, "%s", q->error);
    return q->status;
}

/* The walk TXT and TLSA look-ups share: one query, every answer record of
 * rrtype handed to add (which appends it to the caller's list and returns
 * -1 on a malformed record or no memory). Fills status, AD bit and error. */
typedef int (*record_add_fn)(void *list, const unsigned char *rd, int rdlen);

static dns_status lookup_records(const char *servers, const char *name, int rrtype,
                                 const char *what, uint64_t deadline_ms, record_add_fn add,
                                 void *list, const size_t *count, int *ad, char *err,
                                 size_t errlen)
{
    query q;
    rr_iter it;
    int type, rdlen, r = 0;
    const unsigned char *rd;
    dns_status status = single_query(servers, name, rrtype, deadline_ms, &q, err, errlen);

    *ad = q.ad;
    if (status == DNS_OK && rr_begin(&it, q.answer, q.len) == 0) {
        while ((r = rr_next(&it, &type, &rd, &rdlen)) == 1)
            if (type == rrtype && add(list, rd, rdlen) != 0) {
                r = -1;
                break;
            }
    }
    if (status == DNS_OK && r < 0) {
        status = DNS_ERROR;
        snprintf(err, errlen, "malformed %s answer", what);
    } else if (status == DNS_OK && *count == 0) {
        status = DNS_NODATA;
    }
    free(q.answer);
    return status;
}

static int txt_add(void *list, const unsigned char *rd, int rdlen)
{
    dns_txt_list *out = list;
    char **grown = realloc(out->records, (out->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    out->records = grown;
    if (!(grown[out->count] = txt_join(rd, rdlen)))
        return -1;
    out->count++;
    return 0;
}

dns_status dns_lookup_txt(const char *servers, const char *name, uint64_t deadline_ms,
                          dns_txt_list *out)
{
    memset(out, 0, sizeof *out);
    out->status = lookup_records(servers, name, RR_TXT, "TXT", deadline_ms, txt_add, out,
                                 &out->count, &out->ad, out->error, sizeof out->error);
    return out->status;
}

void dns_txt_free(dns_txt_list *list)
{
    size_t i;
    for (i = 0; i < list->count; i++)
        free(list->records[i]);
    free(list->records);
    list->records = NULL;
    list->count = 0;
}

static int tlsa_add(void *list, const unsigned char *rd, int rdlen)
{
    dns_tlsa_list *out = list;
    dns_tlsa *grown, *t;
    if (rdlen < 3)
        return -1; /* usage, selector and matching type at least */
    grown = realloc(out->records, (out->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    out->records = grown;
    t = &grown[out->count];
    t->usage = rd[0];
    t->selector = rd[1];
    t->mtype = rd[2];
    t->len = (size_t)rdlen - 3;
    t->data = malloc(t->len ? t->len : 1);
    if (!t->data)
        return -1;
    memcpy(t->data, rd + 3, t->len);
    out->count++;
    return 0;
}

dns_status dns_lookup_tlsa(const char *servers, const char *name, uint64_t deadline_ms,
                           dns_tlsa_list *out)
{
    memset(out, 0, sizeof *out);
    out->status = lookup_records(servers, name, RR_TLSA, "TLSA", deadline_ms, tlsa_add, out,
                                 &out->count, &out->ad, out->error, sizeof out->error);
    return out->status;
}

void dns_tlsa_free(dns_tlsa_list *list)
{
    size_t i;
    for (i = 0; i < list->count; i++)
        free(list->records[i].data);
    free(list->records);
    list->records = NULL;
    list->count = 0;
}
