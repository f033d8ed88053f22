/* dnsd: a table-driven DNS responder for the tests (see dnsd.h). */
#include "dnsd.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "plat.h"

/* Records: room for the benchmarks' thousand domains (an MX and an A each). */
enum { MAX_RECORDS = 4096, MAX_FLAGS = 64, MAX_COUNTED = 256, NAME_LEN = 256, RDATA_MAX = 1024 };
enum { T_A = 1, T_MX = 15, T_TXT = 16, T_AAAA = 28, T_TLSA = 52 };

typedef struct {
    char name[NAME_LEN];
    unsigned type;
    unsigned char rdata[RDATA_MAX];
    size_t rdlen;
} record;

typedef struct {
    char name[NAME_LEN];
    unsigned rcode;
    int silent, ad;
} name_flags;

typedef struct {
    char name[NAME_LEN];
    unsigned queries;
} name_count;

struct dnsd {
    net_fd fd;
    unsigned port;
    char server[32];
    plat_thread *thread;
    plat_mutex *lock;
    int stop; /* under lock */
    unsigned queries;
    record records[MAX_RECORDS];
    size_t nrecords;
    name_flags flags[MAX_FLAGS];
    size_t nflags;
    name_count counted[MAX_COUNTED]; /* queries per name, the first names seen */
    size_t ncounted;
};

static void lower_copy(char *dst, const char *src)
{
    size_t i = 0;
    for (; src[i] && i < NAME_LEN - 1; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    if (i > 0 && dst[i - 1] == '.')
        i--;
    dst[i] = '\0';
}

/* Dotted name to wire labels; returns the length written. */
static size_t encode_name(const char *name, unsigned char *out)
{
    size_t n = 0;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63)
            break;
        out[n++] = (unsigned char)len;
        memcpy(out + n, p, len);
        n += len;
        p += len;
        if (*p == '.')
            p++;
    }
    out[n++] = 0;
    return n;
}

static void add_record(dnsd *d, const char *name, unsigned type, const void *rdata,
                       size_t len)
{
    record *r;
    plat_mutex_lock(d->lock);
    if (d->nrecords < MAX_RECORDS && len <= RDATA_MAX) {
        r = &d->records[d->nrecords++];
        lower_copy(r->name, name);
        r->type = type;
        memcpy(r->rdata, rdata, len);
        r->rdlen = len;
    }
    plat_mutex_unlock(d->lock);
}

void dnsd_add_mx(dnsd *d, const char *name, unsigned pref, const char *host)
{
    unsigned char rd[NAME_LEN + 4];
    rd[0] = (unsigned char)(pref >> 8);
    rd[1] = (unsigned char)pref;
    add_record(d, name, T_MX, rd, 2 + encode_name(host, rd + 2));
}

void dnsd_add_a(dnsd *d, const char *name, unsigned char a, unsigned char b,
                unsigned char c, unsigned char e)
{
    unsigned char rd[4] = { a, b, c, e };
    add_record(d, name, T_A, rd, 4);
}

void dnsd_add_aaaa(dnsd *d, const char *name, const unsigned char addr[16])
{
    add_record(d, name, T_AAAA, addr, 16);
}

void dnsd_add_domain(dnsd *d, const char *domain)
{
    char mx[NAME_LEN + 4];
    snprintf(mx, sizeof mx, "mx.%s", domain);
    dnsd_add_mx(d, domain, 10, mx);
    dnsd_add_a(d, mx, 127, 0, 0, 1);
}

void dnsd_add_txt(dnsd *d, const char *name, const char *text)
{
    unsigned char rd[RDATA_MAX];
    size_t len = strlen(text), n = 0;
    /* Split into 255-byte character-strings as a real zone would. */
    while (len > 0 && n + 256 <= sizeof rd) {
        size_t part = len > 255 ? 255 : len;
        rd[n++] = (unsigned char)part;
        memcpy(rd + n, text, part);
        n += part;
        text += part;
        len -= part;
    }
    add_record(d, name, T_TXT, rd, n);
}

void dnsd_add_tlsa(dnsd *d, const char *name, unsigned usage, unsigned selector,
                   unsigned mtype, const unsigned char *data, size_t len)
{
    unsigned char rd[RDATA_MAX];
    if (len > RDATA_MAX - 3)
        return;
    rd[0] = (unsigned char)usage;
    rd[1] = (unsigned char)selector;
    rd[2] = (unsigned char)mtype;
    memcpy(rd + 3, data, len);
    add_record(d, name, T_TLSA, rd, len + 3);
}

static name_flags *find_flags(dnsd *d, const char *key)
{
    size_t i;
    for (i = 0; i < d->nflags; i++)
        if (strcmp(d->flags[i].name, key) == 0)
            return &d->flags[i];
    return NULL;
}

static name_flags *flags_for(dnsd *d, const char *name)
{
    char key[NAME_LEN];
    name_flags *f;
    lower_copy(key, name);
    if ((f = find_flags(d, key)) != NULL)
        return f;
    if (d->nflags == MAX_FLAGS)
        return NULL;
    memset(&d->flags[d->nflags], 0, sizeof d->flags[0]);
    snprintf(d->flags[d->nflags].name, NAME_LEN, "%s", key);
    return &d->flags[d->nflags++];
}

void dnsd_set_rcode(dnsd *d, const char *name, unsigned rcode)
{
    name_flags *f;
    plat_mutex_lock(d->lock);
    if ((f = flags_for(d, name)) != NULL)
        f->rcode = rcode;
    plat_mutex_unlock(d->lock);
}

void dnsd_set_silent(dnsd *d, const char *name)
{
    name_flags *f;
    plat_mutex_lock(d->lock);
    if ((f = flags_for(d, name)) != NULL)
        f->silent = 1;
    plat_mutex_unlock(d->lock);
}

void dnsd_set_ad(dnsd *d, const char *name)
{
    name_flags *f;
    plat_mutex_lock(d->lock);
    if ((f = flags_for(d, name)) != NULL)
        f->ad = 1;
    plat_mutex_unlock(d->lock);
}

/* The question's name (dotted, lower case) and the offset after qtype and
 * qclass; -1 for anything we do not parse (compression in a question). */
static int parse_question(const unsigned char *q, int len, char *name, unsigned *qtype)
{
    int pos = 12;
    size_t n = 0;
    while (pos < len && q[pos] != 0) {
        unsigned lab = q[pos++];
        if (lab > 63 || pos + (int)lab > len || n + lab + 2 > NAME_LEN)
            return -1;
        if (n)
            name[n++] = '.';
        while (lab--)
            name[n++] = (char)tolower(q[pos++]);
    }
    name[n] = '\0';
    if (pos + 5 > len)
        return -1;
    *qtype = (unsigned)(q[pos + 1] << 8 | q[pos + 2]);
    return pos + 5;
}

static size_t put_answer(unsigned char *out, size_t n, size_t cap, const record *r)
{
    if (n + 12 + r->rdlen > cap)
        return n;
    out[n++] = 0xC0; /* the name: a pointer to the question's */
    out[n++] = 12;
    out[n++] = (unsigned char)(r->type >> 8);
    out[n++] = (unsigned char)r->type;
    out[n++] = 0;
    out[n++] = 1; /* IN */
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 60; /* TTL */
    out[n++] = (unsigned char)(r->rdlen >> 8);
    out[n++] = (unsigned char)r->rdlen;
    memcpy(out + n, r->rdata, r->rdlen);
    return n + r->rdlen;
}

static void count_query(dnsd *d, const char *name)
{
    size_t i;
    for (i = 0; i < d->ncounted; i++)
        if (strcmp(d->counted[i].name, name) == 0)
            break;
    if (i == d->ncounted) {
        if (i == MAX_COUNTED)
            return;
        snprintf(d->counted[i].name, NAME_LEN, "%s", name);
        d->counted[i].queries = 0;
        d->ncounted++;
    }
    d->counted[i].queries++;
}

/* Build the reply into out; 0 when the query is to go unanswered. */
static size_t answer(dnsd *d, const unsigned char *q, int len, unsigned char *out,
                     size_t cap)
{
    char name[NAME_LEN];
    unsigned qtype, ancount = 0, rcode = 0;
    int qend = parse_question(q, len, name, &qtype), known = 0, ad = 0;
    size_t n, i;
    name_flags *f;

    if (qend < 0 || (size_t)qend > cap)
        return 0;
    count_query(d, name);
    f = find_flags(d, name);
    if (f && f->silent)
        return 0;
    memcpy(out, q, (size_t)qend);
    n = (size_t)qend;
    if (f && f->rcode) {
        rcode = f->rcode;
    } else {
        for (i = 0; i < d->nrecords; i++) {
            if (strcmp(d->records[i].name, name) != 0)
                continue;
            known = 1;
            if (d->records[i].type == qtype) {
                size_t before = n;
                n = put_answer(out, n, cap, &d->records[i]);
                ancount += n != before;
            }
        }
        rcode = known ? 0 : 3;
        ad = f && f->ad;
    }
    out[2] = (unsigned char)(0x80 | (q[2] & 0x78) | 0x04 | (q[2] & 0x01));
    out[3] = (unsigned char)(0x80 | (ad ? 0x20 : 0) | rcode);
    out[4] = 0;
    out[5] = 1;
    out[6] = (unsigned char)(ancount >> 8);
    out[7] = (unsigned char)ancount;
    memset(out + 8, 0, 4);
    return n;
}

static int stopping(dnsd *d)
{
    int s;
    plat_mutex_lock(d->lock);
    s = d->stop;
    plat_mutex_unlock(d->lock);
    return s;
}

static void serve(void *arg)
{
    dnsd *d = arg;
    unsigned char q[1500], out[4096];
    while (!stopping(d)) {
        net_peer from;
        int n = net_udp_recv(d->fd, q, sizeof q, plat_now_ms() + 50, &from);
        size_t len;
        if (n < 12)
            continue;
        plat_mutex_lock(d->lock);
        d->queries++;
        len = answer(d, q, n, out, sizeof out);
        plat_mutex_unlock(d->lock);
        if (len > 0)
            net_udp_send(d->fd, out, len, &from);
    }
}

dnsd *dnsd_start(void)
{
    dnsd *d = calloc(1, sizeof *d);
    char err[128];
    if (!d)
        return NULL;
    d->fd = NET_BAD_FD;
    d->lock = plat_mutex_new();
    if (!d->lock || net_udp_open("127.0.0.1", 0, &d->fd, &d->port, err, sizeof err) != NET_OK) {
        fprintf(stderr, "dnsd: %s\n", err);
        dnsd_stop(d);
        return NULL;
    }
    snprintf(d->server, sizeof d->server, "127.0.0.1:%u", d->port);
    d->thread = plat_thread_start(serve, d);
    if (!d->thread) {
        dnsd_stop(d);
        return NULL;
    }
    return d;
}

void dnsd_stop(dnsd *d)
{
    if (!d)
        return;
    if (d->thread) {
        plat_mutex_lock(d->lock);
        d->stop = 1;
        plat_mutex_unlock(d->lock);
    }
    if (d->thread)
        plat_thread_join(d->thread);
    net_close(d->fd);
    plat_mutex_free(d->lock);
    free(d);
}

unsigned dnsd_port(const dnsd *d) { return d->port; }
const char *dnsd_server(const dnsd *d) { return d->server; }

unsigned dnsd_query_count(dnsd *d)
{
    unsigned n;
    plat_mutex_lock(d->lock);
    n = d->queries;
    plat_mutex_unlock(d->lock);
    return n;
}

unsigned dnsd_name_queries(dnsd *d, const char *name)
{
    char key[NAME_LEN];
    unsigned n = 0;
    lower_copy(key, name);
    plat_mutex_lock(d->lock);
    for (size_t i = 0; i < d->ncounted; i++)
        if (strcmp(d->counted[i].name, key) == 0)
            n = d->counted[i].queries;
    plat_mutex_unlock(d->lock);
    return n;
}
