/* pickup_trace: the "Received:" line the pickup writer puts right after
 * the envelope block (an honest hop record: this host, TLS Router, the
 * virtual server the message came from), and the reader that recognises it
 * in a message that came back. Both use the wording below, so they cannot
 * drift apart. */
#include "pickup.h"

#include "plat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TRACE_PRODUCT "TLS Router"
#define TRACE_HAND_OFF "with hand-off from virtual server"
/* RFC 5322 section 2.1.1: lines SHOULD stay within 78 characters (and
 * MUST within 998, which the longest host name cannot reach). */
#define TRACE_FOLD_AT 78
/* The part of a field the reader compares: the longest trace value we can
 * write ("by" + a 255-byte host + product + hand-off) fits with room. */
#define TRACE_SCAN_MAX 512

static int is_host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

/* A name that can stand after "by" without bending the header: letters,
 * digits, '-', '.', '_' (some Windows machine names have one). */
static int trace_host_ok(const char *host)
{
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > PICKUP_TRACE_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_host_char((unsigned char)host[i]))
            return 0;
    return 1;
}

void pickup_trace_host(const char *configured, char *buf, size_t len)
{
    if (len == 0)
        return;
    if (trace_host_ok(configured) && strlen(configured) < len) {
        memcpy(buf, configured, strlen(configured) + 1);
        return;
    }
    if (plat_hostname(buf, len) == 0 && trace_host_ok(buf))
        return;
    snprintf(buf, len, "localhost");
}

/* RFC 5322 date-time in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
static void rfc5322_date(int64_t time_ms, char *buf, size_t len)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    if (plat_gmtime(time_ms / 1000, &tm) != 0 || tm.tm_wday < 0 || tm.tm_wday > 6 ||
        tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_year < 0 || tm.tm_year > 8099) {
        snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 +0000");
        return;
    }
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

typedef struct {
    char *buf;
    size_t len, cap;
    size_t column;     /* characters on the current line */
    int overflow;
} folded;

static void append(folded *f, const char *s, size_t n)
{
    if (f->overflow || f->len + n >= f->cap) {
        f->overflow = 1;
        return;
    }
    memcpy(f->buf + f->len, s, n);
    f->len += n;
    f->buf[f->len] = '\0';
}

/* One unit of the line, after a space, or on a folded line of its own
 * when the space would pass TRACE_FOLD_AT. Units are never split. */
static void put_unit(folded *f, const char *unit)
{
    size_t n = strlen(unit);
    if (f->len > 0 && f->column + 1 + n > TRACE_FOLD_AT) {
        append(f, "\r\n\t", 3);
        f->column = 1;
    } else if (f->len > 0) {
        append(f, " ", 1);
        f->column++;
    }
    append(f, unit, n);
    f->column += n;
}

size_t pickup_trace_line(const char *host, int source_instance, int64_t time_ms, char *buf,
                         size_t len)
{
    char by[32 + PICKUP_TRACE_HOST_MAX], product[64], hand_off[64], date[48];
    folded f = { buf, 0, len, 0, 0 };
    if (!trace_host_ok(host) || source_instance < 1 || len < PICKUP_TRACE_LINE_MAX)
        return 0;
    snprintf(by, sizeof by, "Received: by %s", host);
    snprintf(product, sizeof product, "(" TRACE_PRODUCT " %.40s)", TLSROUTER_VERSION);
    snprintf(hand_off, sizeof hand_off, TRACE_HAND_OFF " %d;", source_instance);
    rfc5322_date(time_ms, date, sizeof date);
    put_unit(&f, by);
    put_unit(&f, product);
    put_unit(&f, hand_off);
    put_unit(&f, date);
    append(&f, "\r\n", 2);
    return f.overflow ? 0 : f.len;
}

/* ---- reading it back ---------------------------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t n;
} span;

/* The line at *pos without its LF or CRLF; 0 at the end of the input. */
static int next_line(const unsigned char *m, size_t len, size_t *pos, span *line)
{
    if (*pos >= len)
        return 0;
    const unsigned char *start = m + *pos;
    const unsigned char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl != NULL);
    if (nl && n > 0 && start[n - 1] == '\r')
        n--;
    line->p = start;
    line->n = n;
    return 1;
}

static int is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static void lower_string(char *s)
{
    for (; *s; s++)
        *s = (char)lower((unsigned char)*s);
}

/* A field's value as compared: unfolded, lower case, each run of white
 * space one space, none leading; cut at TRACE_SCAN_MAX. */
typedef struct {
    char text[TRACE_SCAN_MAX];
    size_t len;
    int space_due;
} field_value;

static void value_add(field_value *v, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && v->len < sizeof v->text; i++) {
        if (is_wsp(p[i]) || p[i] == '\r' || p[i] == '\n') {
            v->space_due = v->len > 0;
            continue;
        }
        if (v->space_due) {
            v->text[v->len++] = ' ';
            v->space_due = 0;
            if (v->len == sizeof v->text)
                break;
        }
        v->text[v->len++] = (char)lower(p[i]);
    }
}

/* "Received" [WSP] ":" at the start of a field line (RFC 5322 section
 * 4.5.1 allows the space); the value starts at *value_at. */
static int is_received(const span *line, size_t *value_at)
{
    static const char name[] = "received";
    size_t i, n = sizeof name - 1;
    if (line->n <= n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower(line->p[i]) != (unsigned char)name[i])
            return 0;
    while (i < line->n && is_wsp(line->p[i]))
        i++;
    if (i >= line->n || line->p[i] != ':')
        return 0;
    *value_at = i + 1;
    return 1;
}

/* The two fixed parts of our trace's value, in the reader's spelling:
 * "by <host> (tls router" and ") with hand-off from virtual server <N>".
 * Between them any version; after them anything but another digit. */
typedef struct {
    char head[32 + PICKUP_TRACE_HOST_MAX];
    size_t head_len;
    char tail[96];
    size_t tail_len;
} trace_pattern;

static int value_is_trace(const field_value *v, const trace_pattern *t)
{
    const char *at = v->text, *end = v->text + v->len;
    if (v->len < t->head_len || memcmp(at, t->head, t->head_len) != 0)
        return 0;
    at += t->head_len;
    if (at < end && *at != ' ' && *at != ')')
        return 0;
    const char *close = memchr(at, ')', (size_t)(end - at));
    if (!close || (size_t)(end - close) < t->tail_len || memcmp(close, t->tail, t->tail_len) != 0)
        return 0;
    close += t->tail_len;
    return close == end || !(*close >= '0' && *close <= '9');
}

int pickup_has_trace(const unsigned char *msg, size_t len, const char *host,
                     int source_instance)
{
    trace_pattern t;
    field_value v = { { 0 }, 0, 0 };
    int in_received = 0;
    size_t pos = 0, value_at = 0;
    span line;
    if (!msg || !trace_host_ok(host) || source_instance < 1)
        return 0;
    t.head_len = (size_t)snprintf(t.head, sizeof t.head, "by %s (" TRACE_PRODUCT, host);
    t.tail_len = (size_t)snprintf(t.tail, sizeof t.tail, ") " TRACE_HAND_OFF " %d",
                                  source_instance);
    lower_string(t.head);
    lower_string(t.tail);
    /* Field by field until the empty line that ends the header block. */
    while (next_line(msg, len, &pos, &line) && line.n > 0) {
        if (is_wsp(line.p[0])) {
            if (in_received)
                value_add(&v, line.p, line.n);
            continue;
        }
        if (in_received && value_is_trace(&v, &t))
            return 1;
        in_received = is_received(&line, &value_at);
        v.len = 0;
        v.space_due = 0;
        if (in_received)
            value_add(&v, line.p + value_at, line.n - value_at);
    }
    return in_received && value_is_trace(&v, &t);
}
