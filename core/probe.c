/* probe: the SMTP/STARTTLS probe, written as a state table.
 *
 * One session per MX address: each state sends its command (if any), reads
 * one reply under the reply deadline and its handler picks the next state.
 * The handshake is the one state without a reply.
 *
 * Each address gets an outcome of its own, ranked by how far the host got. A
 * handler that decides it calls finish() and moves on to QUIT (or straight to
 * DONE when the connection is no longer usable). A host that refuses the
 * session (a 4xx/5xx greeting, EHLO refused, the connection closed or reset
 * before the greeting) has not answered: its handler calls refuse(). A host
 * that cannot be reached or does not reply in time gets unreachable(). After
 * either, the probe goes on with the next address and MX host, as IIS does,
 * and better_outcome() is the one rule that chooses which outcome is the
 * result. */
#include "probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "fanout.h"
#include "flight.h"
#include "net.h"
#include "plat.h"
#include "settings.h"
#include "tls.h"

/* Bounds on what a peer can make us read. RFC 5321 4.5.3.1.5 allows 512
 * bytes per reply line; 4 KiB leaves room for odd servers. */
#define LINE_MAX_BYTES 4096
#define REPLY_MAX_BYTES 65536
#define REPLY_MAX_LINES 200

/* IIS's own event-log texts, so the journal reads like the admin's logs. */
#define IIS_NO_TLS "The remote SMTP service does not support TLS."
#define IIS_CERT_EXPIRED "The remote SMTP service rejected the SSL handshake because " \
                         "the certificate has expired."
#define IIS_STARTTLS_ERROR "The remote SMTP server responded with an error during the " \
                           "STARTTLS command."

static const char *const status_names[] = {
    [PROBE_STARTTLS] = "starttls",
    [PROBE_NO_STARTTLS] = "no-starttls",
    [PROBE_STARTTLS_REJECTED] = "starttls-rejected",
    [PROBE_CERT_EXPIRED] = "cert-expired",
    [PROBE_HANDSHAKE_FAILED] = "handshake-failed",
    [PROBE_CONNECT_FAILED] = "connect-failed",
    [PROBE_TIMEOUT] = "timeout",
    [PROBE_DNS_FAILED] = "dns-failed",
    [PROBE_NO_DOMAIN] = "no-domain",
    [PROBE_NULL_MX] = "null-mx",
    [PROBE_PROTOCOL_ERROR] = "protocol-error",
    [PROBE_CERT_NOT_YET_VALID] = "cert-not-yet-valid",
    [PROBE_NOT_PROBED] = "",
    [PROBE_UNKNOWN] = "unknown",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == PROBE_STATUS_COUNT,
               "one name per probe_status");
_Static_assert(PROBE_OUTCOME_COUNT == PROBE_NOT_PROBED, "the outcomes come first");

const char *probe_status_name(probe_status s)
{
    return (unsigned)s < PROBE_STATUS_COUNT ? status_names[s] : status_names[PROBE_UNKNOWN];
}

int probe_status_is_outcome(probe_status s)
{
    return (unsigned)s < PROBE_OUTCOME_COUNT;
}

int probe_status_parse(const char *name, probe_status *out)
{
    int i;
    for (i = 0; i < PROBE_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (probe_status)i;
            return 0;
        }
    }
    return -1;
}

static const char *const trace_kind_names[PROBE_TRACE_KIND_COUNT] = {
    "connect", "state", "command", "reply", "tls", "cert", "outcome", "dns",
};

const char *probe_trace_kind_name(probe_trace_kind k)
{
    return (unsigned)k < PROBE_TRACE_KIND_COUNT ? trace_kind_names[k] : "unknown";
}

static const char *const floor_names[] = { "auto", "tls1.0", "tls1.1", "tls1.2", "tls1.3" };

int probe_floor_parse(const char *name, probe_floor *out)
{
    int i;
    for (i = 0; i < (int)(sizeof floor_names / sizeof floor_names[0]); i++) {
        if (strcmp(name, floor_names[i]) == 0) {
            *out = (probe_floor)i;
            return 0;
        }
    }
    return -1;
}

const char *probe_floor_name(probe_floor f)
{
    return (unsigned)f < sizeof floor_names / sizeof floor_names[0] ? floor_names[f] : "auto";
}

void probe_options_default(probe_options *o)
{
    memset(o, 0, sizeof *o);
    o->port = SETTING_DEFAULT_probe_port;
    o->connect_timeout_ms = SETTING_DEFAULT_connect_timeout_ms;
    o->reply_timeout_ms = SETTING_DEFAULT_reply_timeout_ms;
    o->total_timeout_ms = SETTING_DEFAULT_total_timeout_ms;
    (void)probe_floor_parse(setting_at(SETTING_ID_tls_floor)->default_value, &o->floor);
    o->verify_chain = SETTING_DEFAULT_verify_chain;
    o->verify_name = SETTING_DEFAULT_verify_name;
}

/* ---- one SMTP session ------------------------------------------------- */

typedef enum { ST_GREETING, ST_EHLO, ST_STARTTLS, ST_HANDSHAKE, ST_QUIT, ST_DONE } state;

/* Outcomes of reading, next to NET_TIMEOUT / NET_ERROR. */
enum { READ_OK = 0, READ_CLOSED = -10, READ_TOO_LONG = -11, READ_TOO_BIG = -12,
       READ_BAD = -13 };

typedef struct {
    int code;
    size_t lines;
    size_t len;
    char text[REPLY_MAX_BYTES]; /* the lines without CRLF, joined by '\n' */
} reply;

/* How far a host got, which is what ranks its outcome (better_outcome). */
typedef enum {
    OUTCOME_OPEN = 0,    /* nothing decided yet */
    OUTCOME_UNREACHABLE, /* no address, no connection, or no reply in time */
    OUTCOME_REFUSED,     /* reached, but it refused or dropped the session */
    OUTCOME_FINAL        /* the host answered, or the domain's own look-up
                            decided: the probe ends here */
} outcome_rank;

/* What one address (or the domain's look-up) came to. The host's part of a
 * probe_result (mx, address, status, error, TLS and certificate fields) is
 * kept whole, so the outcome that wins becomes the result as it is; the
 * domain and the times are the probe's and are set at the end. */
typedef struct {
    outcome_rank rank;
    probe_result r;
} outcome;

typedef struct {
    const probe_options *opts;
    const char *domain;   /* for the trace */
    const char *host;     /* MX name: SNI and name check */
    int host_is_address;  /* a smart host given as an address: no SNI */
    const char *ehlo;
    tls_client *tls;
    tls_session *conn;    /* set once STARTTLS succeeded */
    net_fd fd;
    flight_session round;  /* with opts->host_flights: this probe's session */
    uint64_t total_deadline;
    outcome now;          /* the address being probed */
    outcome best;         /* the best outcome so far: the result */
    char in[LINE_MAX_BYTES]; /* received, not yet consumed */
    size_t inlen;
    reply rep;
} session;

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* ---- the trace (probe_options.trace) ---------------------------------- */

/* One byte as the trace writes it, into out; its length. */
static size_t escape_byte(unsigned char c, char out[5])
{
    if (c == '\\') {
        out[0] = out[1] = '\\';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    snprintf(out, 5, "\\x%02X", c);
    return 4;
}

/* text[0..len) as printable ASCII into buf; cut, ending in "...", where
 * the rest would not fit. */
static void escape_text(const char *text, size_t len, char buf[PROBE_TRACE_TEXT_MAX])
{
    static const char cut[] = "...";
    size_t used = 0, i;
    for (i = 0; i < len; i++) {
        char piece[5];
        size_t n = escape_byte((unsigned char)text[i], piece);
        if (used + n + sizeof cut > PROBE_TRACE_TEXT_MAX) {
            memcpy(buf + used, cut, sizeof cut);
            return;
        }
        memcpy(buf + used, piece, n);
        used += n;
    }
    buf[used] = '\0';
}

/* Tell the trace hook, if there is one, of text[0..len). */
static void trace_text(const session *s, probe_trace_kind kind, const char *text, size_t len)
{
    char buf[PROBE_TRACE_TEXT_MAX];
    probe_trace_event ev;
    if (!s->opts->trace)
        return;
    escape_text(text, len, buf);
    ev.kind = kind;
    ev.domain = s->domain;
    ev.text = buf;
    s->opts->trace(s->opts->trace_ctx, &ev);
}

/* trace_text of a formatted text; nothing is formatted without a hook. */
static void trace(const session *s, probe_trace_kind kind, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    if (!s->opts->trace)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    trace_text(s, kind, text, strlen(text));
}

/* The MX answer, most preferred first as the resolver sorted it. */
static void trace_mx(const session *s, const char *domain, const dns_mx_list *mx)
{
    char text[512];
    size_t used;
    if (!s->opts->trace)
        return;
    used = (size_t)snprintf(text, sizeof text, "MX %s:", domain);
    if (mx->status != DNS_OK)
        snprintf(text + used, sizeof text - used, " %s", mx->error);
    else if (mx->null_mx)
        snprintf(text + used, sizeof text - used, " null MX (accepts no mail)");
    else if (mx->implicit)
        snprintf(text + used, sizeof text - used, " none, the domain itself is the host");
    for (size_t i = 0; mx->status == DNS_OK && i < mx->count && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s %u %s", i ? "," : "",
                                 mx->hosts[i].pref, mx->hosts[i].name);
    if (mx->status == DNS_OK && mx->ad && used < sizeof text)
        snprintf(text + used, sizeof text - used, " (DNSSEC validated)");
    trace_text(s, PROBE_TRACE_DNS, text, strnlen(text, sizeof text));
}

static void trace_addrs(const session *s, const char *host, const dns_addr_list *a)
{
    char text[512];
    size_t used;
    if (!s->opts->trace)
        return;
    used = (size_t)snprintf(text, sizeof text, "A/AAAA %s:", host);
    if (a->status != DNS_OK)
        snprintf(text + used, sizeof text - used, " %s", a->error);
    for (size_t i = 0; a->status == DNS_OK && i < a->count && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s %s", i ? "," : "",
                                 a->addrs[i]);
    trace_text(s, PROBE_TRACE_DNS, text, strnlen(text, sizeof text));
}

static uint64_t step_deadline(const session *s, unsigned ms)
{
    return min_u64(plat_now_ms() + ms, s->total_deadline);
}

/* The cross-host rule, in one place: of an earlier outcome and a later one,
 * the one the probe reports.
 *  1. An answer decides (starttls, no-starttls, STARTTLS rejected, a failed
 *     handshake or certificate, a server that breaks the protocol): the
 *     probe stops at the first host that answers, as IIS delivers to it.
 *  2. A refusal (4xx/5xx greeting, EHLO refused, the connection closed or
 *     reset before the greeting) says the host was there but took no
 *     session (RFC 5321 5.1: the client tries the next MX host). It stays
 *     the result unless a later host answers.
 *  3. A host that could not be reached (no address, connect failed, no
 *     reply in time) says least: a refusal or an answer outranks it.
 * Between equals the later stands: when every host refuses, the last
 * host's refusal is reported. */
static const outcome *better_outcome(const outcome *earlier, const outcome *later)
{
    return later->rank >= earlier->rank ? later : earlier;
}

/* A fresh outcome for host and address (either may be s->now's own). */
static void start_outcome(session *s, const char *host, const char *address)
{
    outcome fresh;
    memset(&fresh, 0, sizeof fresh);
    snprintf(fresh.r.mx, sizeof fresh.r.mx, "%s", host);
    snprintf(fresh.r.address, sizeof fresh.r.address, "%s", address);
    s->now = fresh;
}

static const char *const rank_names[] = {
    [OUTCOME_OPEN] = "open",
    [OUTCOME_UNREACHABLE] = "unreachable",
    [OUTCOME_REFUSED] = "refused",
    [OUTCOME_FINAL] = "final",
};

/* s->now is complete: it becomes the result if it outranks the best. */
static void settle(session *s)
{
    const probe_result *r = &s->now.r;
    trace(s, PROBE_TRACE_OUTCOME, "%s %s%s%s", rank_names[s->now.rank],
          probe_status_name(r->status), r->error[0] ? ": " : "", r->error);
    if (better_outcome(&s->best, &s->now) == &s->now)
        s->best = s->now;
}

/* The first decision of an outcome stands: a failing QUIT after an answer
 * changes nothing. */
static void decide_v(session *s, outcome_rank rank, probe_status st, const char *fmt,
                     va_list ap)
{
    if (s->now.rank != OUTCOME_OPEN)
        return;
    s->now.rank = rank;
    s->now.r.status = st;
    vsnprintf(s->now.r.error, sizeof s->now.r.error, fmt, ap);
}

/* The host answered: this outcome ends the probe. */
static void finish(session *s, probe_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    decide_v(s, OUTCOME_FINAL, st, fmt, ap);
    va_end(ap);
}

/* The host refused the session: a protocol-error outcome that does not end
 * the probe. */
static void refuse(session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    decide_v(s, OUTCOME_REFUSED, PROBE_PROTOCOL_ERROR, fmt, ap);
    va_end(ap);
}

/* The host could not be reached, or did not reply in time: the next one is
 * tried. */
static void unreachable(session *s, probe_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    decide_v(s, OUTCOME_UNREACHABLE, st, fmt, ap);
    va_end(ap);
}

/* A decision about the whole domain, before any host: final. */
static void finish_domain(session *s, probe_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    decide_v(s, OUTCOME_FINAL, st, fmt, ap);
    va_end(ap);
    settle(s);
}

/* Some bytes (> 0), READ_CLOSED, NET_TIMEOUT or NET_ERROR. */
static int conn_read(session *s, char *buf, size_t cap, uint64_t deadline)
{
    int n = s->conn ? tls_session_read(s->conn, buf, cap, deadline)
                    : net_recv(s->fd, buf, cap, deadline, NULL, 0);
    return n == 0 ? READ_CLOSED : n;
}

static int conn_write(session *s, const char *buf, size_t len, uint64_t deadline)
{
    if (s->conn)
        return tls_session_write(s->conn, buf, len, deadline);
    return net_send_all(s->fd, buf, len, deadline, NULL, 0);
}

/* One line without its CRLF into line[LINE_MAX_BYTES]. A line that does not
 * end within LINE_MAX_BYTES is refused before more of it is read. */
static int read_line(session *s, char *line, size_t *len, uint64_t deadline)
{
    for (;;) {
        char *nl = memchr(s->in, '\n', s->inlen);
        int n;
        if (nl) {
            size_t used = (size_t)(nl - s->in) + 1, l = used - 1;
            if (l > 0 && s->in[l - 1] == '\r')
                l--;
            memcpy(line, s->in, l);
            line[l] = '\0';
            *len = l;
            memmove(s->in, s->in + used, s->inlen - used);
            s->inlen -= used;
            return READ_OK;
        }
        if (s->inlen == sizeof s->in)
            return READ_TOO_LONG;
        n = conn_read(s, s->in + s->inlen, sizeof s->in - s->inlen, deadline);
        if (n <= 0)
            return n;
        s->inlen += (size_t)n;
    }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* One (multi-line) reply into s->rep, within the size and line bounds. */
static int read_reply(session *s, uint64_t deadline)
{
    reply *r = &s->rep;
    char line[LINE_MAX_BYTES];
    size_t n = 0;
    r->code = 0;
    r->lines = 0;
    r->len = 0;
    r->text[0] = '\0';
    for (;;) {
        int rc = read_line(s, line, &n, deadline), code;
        if (rc != READ_OK)
            return rc;
        if (r->lines == 0)
            trace_text(s, PROBE_TRACE_REPLY, line, n);
        if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])
            || (n > 3 && line[3] != ' ' && line[3] != '-'))
            return READ_BAD;
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (r->lines > 0 && code != r->code)
            return READ_BAD;
        if (r->lines == REPLY_MAX_LINES || r->len + n + 2 > sizeof r->text)
            return READ_TOO_BIG;
        r->code = code;
        if (r->lines > 0)
            r->text[r->len++] = '\n';
        memcpy(r->text + r->len, line, n + 1);
        r->len += n;
        r->lines++;
        if (n == 3 || line[3] == ' ')
            return READ_OK;
    }
}

/* The first line of the reply, for messages. */
static const char *first_line(const session *s, char *buf, size_t len)
{
    const char *nl = strchr(s->rep.text, '\n');
    size_t n = nl ? (size_t)(nl - s->rep.text) : s->rep.len;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s->rep.text, n);
    buf[n] = '\0';
    return buf;
}

static int keyword_is(const char *p, size_t len, const char *word)
{
    size_t i, wl = strlen(word);
    if (len < wl)
        return 0;
    for (i = 0; i < wl; i++) {
        char c = p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[i])
            return 0;
    }
    return len == wl || p[wl] == ' ' || p[wl] == '\t';
}

/* Is STARTTLS among the EHLO keywords (lines after the first)? */
static int ehlo_offers_starttls(const reply *r)
{
    const char *p = strchr(r->text, '\n');
    while (p) {
        const char *line = p + 1, *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 4 && keyword_is(line + 4, len - 4, "STARTTLS"))
            return 1;
        p = end;
    }
    return 0;
}

static int is_refusal(int code) { return code >= 400 && code < 600; }

/* RFC 5321 3.1: 220 opens the session; 554 ("no SMTP service here") and
 * 421 ("service not available", 3.8) refuse it, the host has not answered.
 * Any other code is a broken server. QUIT is still sent (3.1 asks for it
 * after a 554; after a 421 the server has usually gone, which is fine). */
static state on_greeting(session *s)
{
    char l[160];
    if (s->rep.code == 220)
        return ST_EHLO;
    if (is_refusal(s->rep.code))
        refuse(s, "greeting refused the session: %s", first_line(s, l, sizeof l));
    else
        finish(s, PROBE_PROTOCOL_ERROR, "greeting: %s", first_line(s, l, sizeof l));
    return ST_QUIT;
}

/* 500 and 502 (command unrecognised, command unavailable) are a server
 * that knows only HELO (RFC 5321 4.1.4): it answered, and without EHLO
 * there is no STARTTLS, which is what IIS then reports. Any other 4xx/5xx
 * (421 closing, 501 or 550 refusing us) is a refused session. */
static int ehlo_unknown(int code) { return code == 500 || code == 502; }

static state on_ehlo(session *s)
{
    char l[160];
    if (ehlo_unknown(s->rep.code)) {
        finish(s, PROBE_NO_STARTTLS, "%s EHLO answered: %s", IIS_NO_TLS,
               first_line(s, l, sizeof l));
        return ST_QUIT;
    }
    if (is_refusal(s->rep.code)) {
        refuse(s, "EHLO refused: %s", first_line(s, l, sizeof l));
        return ST_QUIT;
    }
    if (s->rep.code != 250) {
        finish(s, PROBE_PROTOCOL_ERROR, "unexpected EHLO reply: %s", first_line(s, l, sizeof l));
        return ST_QUIT;
    }
    if (ehlo_offers_starttls(&s->rep))
        return ST_STARTTLS;
    finish(s, PROBE_NO_STARTTLS, "%s", IIS_NO_TLS);
    return ST_QUIT;
}

static state on_starttls(session *s)
{
    char l[120];
    if (s->rep.code == 220) {
        /* Anything sent before the handshake is a plaintext injection
         * attempt (CVE-2011-0411 class): drop it. */
        s->inlen = 0;
        return ST_HANDSHAKE;
    }
    if (s->rep.code >= 400 && s->rep.code < 600) {
        finish(s, PROBE_STARTTLS_REJECTED, "%s %s", IIS_STARTTLS_ERROR,
               first_line(s, l, sizeof l));
        return ST_QUIT;
    }
    finish(s, PROBE_PROTOCOL_ERROR, "unexpected STARTTLS reply: %s",
           first_line(s, l, sizeof l));
    return ST_QUIT;
}

static state on_quit(session *s) { return ST_DONE; }

typedef state (*reply_handler)(session *s);

/* The conversation. The handshake has no command and no reply. */
static const struct {
    const char *name;    /* for the trace */
    const char *command; /* NULL: only read (the greeting) */
    const char *label;   /* for messages */
    reply_handler on_reply;
} steps[] = {
    [ST_GREETING] = { "greeting", NULL, "greeting", on_greeting },
    [ST_EHLO] = { "ehlo", "EHLO", "EHLO", on_ehlo },
    [ST_STARTTLS] = { "starttls", "STARTTLS", "STARTTLS", on_starttls },
    [ST_HANDSHAKE] = { "handshake", NULL, "TLS handshake", NULL },
    [ST_QUIT] = { "quit", "QUIT", "QUIT", on_quit },
    [ST_DONE] = { "done", NULL, "done", NULL },
};

/* The handshake's outcome into the address's result, in the result's
 * words. */
static void record_tls(probe_result *r, const tls_info *info)
{
    snprintf(r->tls_version, sizeof r->tls_version, "%s", tls_protocol_name(info->protocol));
    snprintf(r->cipher, sizeof r->cipher, "%s", info->suite);
    r->has_cert = info->has_cert;
    r->cert_not_before = info->not_before;
    r->cert_not_after = info->not_after;
    r->cert_not_before_unreadable = info->not_before_unreadable;
    r->cert_not_after_unreadable = info->not_after_unreadable;
    snprintf(r->subject, sizeof r->subject, "%s", info->subject);
    snprintf(r->issuer, sizeof r->issuer, "%s", info->issuer);
}

static void utc_text(int64_t unix_s, char *buf, size_t len)
{
    struct tm tm;
    if (plat_gmtime(unix_s, &tm) != 0 || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)unix_s);
}

/* Expiry as IIS judges it, from the times that can be read: a time that
 * cannot be read proves nothing (a broken certificate is not an expired
 * one), so it is left out. 1 when the outcome is decided. */
static int judge_validity(session *s, int64_t now)
{
    const probe_result *r = &s->now.r;
    char when[40];
    if (!r->cert_not_after_unreadable && r->cert_not_after < now) {
        finish(s, PROBE_CERT_EXPIRED, "%s", IIS_CERT_EXPIRED);
        return 1;
    }
    if (!r->cert_not_before_unreadable && r->cert_not_before > now) {
        utc_text(r->cert_not_before, when, sizeof when);
        finish(s, PROBE_CERT_NOT_YET_VALID, "the certificate is not valid before %s", when);
        return 1;
    }
    return 0;
}

/* The journal's note on times that could not be read ("" when none). */
static void unreadable_note(const probe_result *r, char *buf, size_t len)
{
    const char *which = r->cert_not_before_unreadable && r->cert_not_after_unreadable
                            ? "notBefore and notAfter"
                        : r->cert_not_before_unreadable ? "notBefore"
                        : r->cert_not_after_unreadable  ? "notAfter"
                                                        : NULL;
    if (which)
        snprintf(buf, len, "certificate %s could not be read as a date: validity not judged "
                           "from it", which);
    else
        buf[0] = '\0';
}

/* What IIS would check: expiry always; chain and name when asked, by the
 * platform's judge (on Windows the chain engine, as for IIS itself). */
static void judge_certificate(session *s, uint64_t deadline)
{
    char note[120], why[TLS_TEXT_MAX];
    if (!s->now.r.has_cert) {
        finish(s, PROBE_HANDSHAKE_FAILED, "the server sent no certificate");
        return;
    }
    if (judge_validity(s, plat_wall_ms() / 1000))
        return;
    if (s->opts->verify_chain
        && tls_session_verify(s->conn, TLS_CHECK_CHAIN, NULL, deadline, why, sizeof why)
               != TLS_VERIFY_OK) {
        finish(s, PROBE_HANDSHAKE_FAILED, "certificate chain not trusted: %s", why);
        return;
    }
    if (s->opts->verify_name
        && tls_session_verify(s->conn, TLS_CHECK_NAME, s->host, deadline, why, sizeof why)
               != TLS_VERIFY_OK) {
        finish(s, PROBE_HANDSHAKE_FAILED, "certificate name does not match %s", s->host);
        return;
    }
    unreadable_note(&s->now.r, note, sizeof note);
    finish(s, PROBE_STARTTLS, "%s", note);
}

/* The certificate's dates for the trace, as far as they can be read. */
static void trace_certificate(const session *s)
{
    const probe_result *r = &s->now.r;
    char before[40] = "unreadable", after[40] = "unreadable";
    if (!s->opts->trace)
        return;
    if (!r->cert_not_before_unreadable)
        utc_text(r->cert_not_before, before, sizeof before);
    if (!r->cert_not_after_unreadable)
        utc_text(r->cert_not_after, after, sizeof after);
    trace(s, PROBE_TRACE_CERT, "not before %s, not after %s", before, after);
}

static state do_handshake(session *s)
{
    uint64_t deadline = step_deadline(s, s->opts->reply_timeout_ms);
    char err[TLS_TEXT_MAX];
    tls_info info;
    int rc;

    s->now.r.stack = tls_client_stack(s->tls);
    /* RFC 6066: SNI carries names only, never a smart host's address. */
    s->conn = tls_session_start(s->tls, s->fd, s->host_is_address ? NULL : s->host, err,
                                sizeof err);
    if (!s->conn) {
        finish(s, PROBE_HANDSHAKE_FAILED, "TLS setup failed: %s", err);
        return ST_DONE;
    }
    rc = tls_session_handshake(s->conn, deadline, &info);
    if (rc == NET_TIMEOUT) {
        unreachable(s, PROBE_TIMEOUT, "TLS handshake timed out");
        return ST_DONE;
    }
    if (rc != NET_OK) {
        finish(s, PROBE_HANDSHAKE_FAILED, "TLS handshake failed: %s", info.error);
        return ST_DONE;
    }
    record_tls(&s->now.r, &info);
    trace(s, PROBE_TRACE_TLS, "%s %s", s->now.r.tls_version, s->now.r.cipher);
    if (s->now.r.has_cert)
        trace_certificate(s);
    judge_certificate(s, deadline);
    return ST_QUIT;
}

static int send_command(session *s, const char *command, uint64_t deadline)
{
    char line[600];
    int rc, n = strcmp(command, "EHLO") == 0
                    ? snprintf(line, sizeof line, "EHLO %s\r\n", s->ehlo)
                    : snprintf(line, sizeof line, "%s\r\n", command);
    if (n < 0 || (size_t)n >= sizeof line)
        return NET_ERROR;
    rc = conn_write(s, line, (size_t)n, deadline);
    if (rc == NET_OK)
        trace(s, PROBE_TRACE_COMMAND, "%s", command); /* the verb, never its argument */
    return rc;
}

/* The connection ended under us. Before the greeting that is a host that
 * would not take the session, as a 421 greeting says in words (RFC 5321
 * 3.8): the next host is tried. Later it is a broken session with a host
 * that answered. */
static void connection_ended(session *s, state st, const char *how)
{
    if (st == ST_GREETING)
        refuse(s, "%s: %s", steps[st].label, how);
    else
        finish(s, PROBE_PROTOCOL_ERROR, "%s: %s", steps[st].label, how);
}

/* A step that could not complete: say why, in the vocabulary. */
static state on_failure(session *s, state st, int rc)
{
    const char *label = steps[st].label;
    if (st == ST_QUIT)
        return ST_DONE; /* the outcome is already decided */
    switch (rc) {
    case NET_TIMEOUT:
        unreachable(s, PROBE_TIMEOUT, "no %s reply in time", label);
        break;
    case READ_TOO_LONG:
        finish(s, PROBE_PROTOCOL_ERROR, "%s: reply line longer than %d bytes", label,
               LINE_MAX_BYTES);
        break;
    case READ_TOO_BIG:
        finish(s, PROBE_PROTOCOL_ERROR, "%s: reply longer than %d lines or %d bytes", label,
               REPLY_MAX_LINES, REPLY_MAX_BYTES);
        break;
    case READ_BAD:
        finish(s, PROBE_PROTOCOL_ERROR, "%s: not an SMTP reply", label);
        break;
    case READ_CLOSED:
        connection_ended(s, st, "connection closed by the server");
        break;
    default:
        connection_ended(s, st, "connection lost");
        break;
    }
    return ST_DONE;
}

/* The step of state st: its command and reply (or the handshake), and the
 * state its handler chooses next. */
static state take_step(session *s, state st)
{
    uint64_t deadline;
    int rc = READ_OK;
    if (st == ST_HANDSHAKE)
        return do_handshake(s);
    deadline = step_deadline(s, s->opts->reply_timeout_ms);
    if (steps[st].command)
        rc = send_command(s, steps[st].command, deadline);
    if (rc == NET_OK)
        rc = read_reply(s, deadline);
    return rc == READ_OK ? steps[st].on_reply(s) : on_failure(s, st, rc);
}

static void run_session(session *s)
{
    state st = ST_GREETING;
    trace(s, PROBE_TRACE_STATE, "%s", steps[st].name);
    while (st != ST_DONE) {
        st = take_step(s, st);
        trace(s, PROBE_TRACE_STATE, "%s", steps[st].name);
    }
}

/* Probe one address of the MX host s->host into s->now. */
static void probe_address(session *s, const char *address)
{
    char err[160];
    uint64_t deadline = step_deadline(s, s->opts->connect_timeout_ms);
    int rc;
    start_outcome(s, s->host, address);
    trace(s, PROBE_TRACE_CONNECT, "%s %s", s->host, address);
    rc = net_connect(address, s->opts->port, deadline, &s->fd, err, sizeof err);
    s->inlen = 0;
    s->conn = NULL;
    if (rc != NET_OK) {
        unreachable(s, rc == NET_TIMEOUT ? PROBE_TIMEOUT : PROBE_CONNECT_FAILED, "%s:%u: %s",
                    address, s->opts->port, err);
        return;
    }
    run_session(s);
    tls_session_close(s->conn);
    s->conn = NULL;
    net_close(s->fd);
    s->fd = NET_BAD_FD;
}

/* ---- one domain ---------------------------------------------------------- */

/* The TLS client the options ask for: the system's stack unless told
 * otherwise, the floor as the minimum (auto: what the stack allows). */
static tls_client *make_client(const probe_options *o, char *err, size_t errlen)
{
    static const tls_protocol minimum[] = { TLS_PROTO_NONE, TLS_PROTO_TLS10, TLS_PROTO_TLS11,
                                            TLS_PROTO_TLS12, TLS_PROTO_TLS13 };
    tls_client_options t;
    memset(&t, 0, sizeof t);
    t.min_protocol = (unsigned)o->floor <= PROBE_FLOOR_TLS13 ? minimum[o->floor]
                                                              : TLS_PROTO_NONE;
    t.verify_chain = o->verify_chain;
    t.ca_file = o->ca_file;
    return tls_client_new(o->stack != TLS_STACK_NONE ? o->stack : tls_system_stack(), &t, err,
                          errlen);
}

/* Characters allowed in our EHLO argument: a name or an address literal.
 * Anything else (a CR, a space) would corrupt the conversation. */
static int ehlo_name_ok(const char *n)
{
    if (!n || !*n || strlen(n) > 255)
        return 0;
    for (; *n; n++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:",
                    *n))
            return 0;
    return 1;
}

static probe_status dns_failure_status(dns_status st)
{
    switch (st) {
    case DNS_NXDOMAIN: return PROBE_NO_DOMAIN;
    case DNS_TIMEOUT: return PROBE_TIMEOUT;
    default: return PROBE_DNS_FAILED;
    }
}

/* Try one MX host's addresses, each outcome settled against the best; 1
 * when the probe is over (a final outcome, or the time is up), 0 to go on
 * with the next host. */
static int probe_host_itself(session *s, const char *host)
{
    dns_addr_list addrs;
    size_t i;
    s->host = host;
    start_outcome(s, host, "");
    dns_lookup_addrs(s->opts->dns_servers, host, s->total_deadline, &addrs);
    trace_addrs(s, host, &addrs);
    if (addrs.status != DNS_OK) {
        unreachable(s, addrs.status == DNS_TIMEOUT ? PROBE_TIMEOUT : PROBE_DNS_FAILED, "%s",
                    addrs.error);
        settle(s);
        return addrs.status == DNS_TIMEOUT;
    }
    for (i = 0; i < addrs.count; i++) {
        probe_address(s, addrs.addrs[i]);
        settle(s);
        if (s->best.rank == OUTCOME_FINAL || net_remaining_ms(s->total_deadline) == 0)
            return 1;
    }
    return 0;
}

/* ---- MX hosts shared between probes -------------------------------------
 *
 * Domains often share MX hosts (a provider's). Probes that run at the same
 * time share each host's verdict through probe_options.host_flights, keyed
 * "host:port": the first probe to reach a host tries it, the others wait
 * for its verdict under their own deadline instead of connecting again.
 * A verdict is kept for the probes that had begun before it came and are
 * still running (each probe is a flight session): "one round" is probes
 * that overlap in time, and a probe that begins later (the next message, a
 * refresh) always asks the host itself. A verdict the prober's own
 * deadline cut short is not shared.
 *
 * The verdict is the best of the host's own outcomes, which, settled
 * against the best before it, gives what trying the host would have given
 * (better_outcome keeps the last of the highest rank), and whether the
 * probe ends with this host. */
typedef struct {
    outcome best;
    int stop;
} host_verdict;

struct flight_table *probe_host_flights_new(void)
{
    return flight_new(sizeof(host_verdict), 1);
}

/* "host:port" in lower case into key; 0 when it does not fit. */
static int host_key(const char *host, unsigned port, char key[FLIGHT_KEY_MAX + 1])
{
    int n = snprintf(key, FLIGHT_KEY_MAX + 1, "%s:%u", host, port);
    if (n < 0 || n > FLIGHT_KEY_MAX)
        return 0;
    for (char *p = key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return 1;
}

static int take_shared_verdict(session *s, const char *host, const host_verdict *v)
{
    trace(s, PROBE_TRACE_STATE, "shared %s", host);
    s->now = v->best;
    settle(s);
    return v->stop;
}

static int probe_host(session *s, const char *host)
{
    char key[FLIGHT_KEY_MAX + 1];
    host_verdict v;
    struct flight_table *hosts = s->opts->host_flights;
    if (!hosts || !host_key(host, s->opts->port, key))
        return probe_host_itself(s, host);
    switch (flight_ask(hosts, key, &s->round, s->total_deadline, &v)) {
    case FLIGHT_JOINED:
        return take_shared_verdict(s, host, &v);
    case FLIGHT_TIMED_OUT:
        start_outcome(s, host, "");
        unreachable(s, PROBE_TIMEOUT, "no verdict on %s within the probe deadline", host);
        settle(s);
        return 1;
    case FLIGHT_LEAD:
        break;
    }
    outcome before = s->best;
    memset(&s->best, 0, sizeof s->best);
    v.stop = probe_host_itself(s, host);
    v.best = s->best;
    s->best = *better_outcome(&before, &v.best);
    flight_land(hosts, key, &v,
                v.best.rank == OUTCOME_FINAL || net_remaining_ms(s->total_deadline) > 0);
    return v.stop;
}

static int domain_name_ok(const char *d)
{
    size_t len = strlen(d);
    return len > 0 && len <= 253 && !strpbrk(d, " \t\r\n\\");
}

static void probe_hosts(session *s, const dns_mx_list *mx)
{
    size_t i;
    for (i = 0; i < mx->count; i++) {
        if (net_remaining_ms(s->total_deadline) == 0) {
            /* Told of the host last tried, as the outcome it replaces. */
            start_outcome(s, s->now.r.mx, s->now.r.address);
            unreachable(s, PROBE_TIMEOUT, "no MX host answered within the probe deadline");
            settle(s);
            return;
        }
        if (probe_host(s, mx->hosts[i].name))
            return;
    }
}

/* shared: a TLS client made for these options by the caller (probe_many
 * shares one between its threads); NULL to make one here. */
static void probe_resolved(session *s, const dns_mx_list *mx, tls_client *shared)
{
    char err[TLS_TEXT_MAX];
    s->tls = shared ? shared : make_client(s->opts, err, sizeof err);
    if (!s->tls) {
        finish_domain(s, PROBE_HANDSHAKE_FAILED, "%s", err);
        return;
    }
    probe_hosts(s, mx);
    if (!shared)
        tls_client_free(s->tls);
    s->tls = NULL;
}

/* The best outcome into out, which keeps its domain; nothing decided
 * (no host to try) leaves out as it was set up. */
static void report(const session *s, probe_result *out)
{
    char domain[PROBE_NAME_MAX];
    if (s->best.rank == OUTCOME_OPEN)
        return;
    memcpy(domain, out->domain, sizeof domain);
    *out = s->best.r;
    memcpy(out->domain, domain, sizeof domain);
}

/* "[192.0.2.1]" (IIS's way of giving a smart host as an address; a
 * bare IPv4 or IPv6 address too): 1 and the address in buf. A name: 0. */
static int smart_host_address(const char *host, char *buf, size_t len)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        snprintf(buf, len, "%.*s", (int)(n - 2), host + 1);
        return 1;
    }
    if (strchr(host, ':') || strspn(host, "0123456789.") == n) {
        snprintf(buf, len, "%s", host);
        return 1;
    }
    return 0;
}

/* The smart host instead of a domain's MX hosts: an address is connected
 * to as it is, a name through its A/AAAA records, as IIS does. The
 * result's mx is the smart host as IIS spells it. */
static void probe_smart(session *s, const char *smart_host, tls_client *shared)
{
    char err[TLS_TEXT_MAX], addr[PROBE_ADDR_MAX];
    s->tls = shared ? shared : make_client(s->opts, err, sizeof err);
    if (!s->tls) {
        finish_domain(s, PROBE_HANDSHAKE_FAILED, "%s", err);
        return;
    }
    if (smart_host_address(smart_host, addr, sizeof addr)) {
        s->host = addr;
        s->host_is_address = 1;
        probe_address(s, addr);
        settle(s);
    } else {
        probe_host(s, smart_host);
    }
    snprintf(s->best.r.mx, sizeof s->best.r.mx, "%s", smart_host);
    if (!shared)
        tls_client_free(s->tls);
    s->tls = NULL;
}

/* smart_host: probe that host instead of the domain's MX hosts. */
static dns_status look_up_mx(const session *s, const char *domain, dns_mx_list *mx)
{
    dns_status st = dns_lookup_mx(s->opts->dns_servers, domain, s->total_deadline, mx);
    trace_mx(s, domain, mx);
    return st;
}

static void probe_with_ctx(const char *domain, const char *smart_host,
                           const probe_options *opts, tls_client *shared, probe_result *out)
{
    uint64_t start = plat_now_ms();
    char host[256];
    dns_mx_list mx;
    session *s = calloc(1, sizeof *s);

    memset(out, 0, sizeof *out);
    snprintf(out->domain, sizeof out->domain, "%s", domain);
    out->status = PROBE_DNS_FAILED;
    if (!s) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return;
    }
    s->opts = opts;
    s->domain = out->domain;
    s->fd = NET_BAD_FD;
    s->total_deadline = start + opts->total_timeout_ms;
    if (opts->host_flights)
        flight_session_begin(opts->host_flights, &s->round);
    if (ehlo_name_ok(opts->ehlo_name))
        s->ehlo = opts->ehlo_name;
    else if (plat_hostname(host, sizeof host) == 0 && ehlo_name_ok(host))
        s->ehlo = host;
    else
        s->ehlo = "localhost";

    if (!domain_name_ok(domain)) {
        finish_domain(s, PROBE_DNS_FAILED, "not a domain name");
    } else if (smart_host) {
        probe_smart(s, smart_host, shared);
    } else if (look_up_mx(s, domain, &mx) != DNS_OK) {
        finish_domain(s, dns_failure_status(mx.status), "%s", mx.error);
    } else if (mx.null_mx) {
        finish_domain(s, PROBE_NULL_MX, "%s", mx.error);
    } else {
        probe_resolved(s, &mx, shared);
    }
    report(s, out);
    if (opts->host_flights)
        flight_session_end(opts->host_flights, &s->round);
    free(s);
    out->elapsed_ms = (unsigned)(plat_now_ms() - start);
    out->probed_ms = plat_wall_ms();
}

void probe_domain(const char *domain, const probe_options *opts, probe_result *out)
{
    probe_with_ctx(domain, NULL, opts, NULL, out);
}

void probe_smart_host(const char *smart_host, const probe_options *opts, probe_result *out)
{
    probe_with_ctx(smart_host, smart_host, opts, NULL, out);
}

/* ---- many domains at once ---------------------------------------------- */

typedef struct {
    const char *const *domains;
    const size_t *unique;   /* indexes into domains, one per distinct name */
    const probe_options *opts;
    tls_client *tls; /* one for all: making a client costs about 0.3 ms */
    probe_result *out;
} probe_batch;

int probe_thread_cleanup(void) { return tls_thread_cleanup(); }

/* The fanout task: the k-th distinct domain. */
static void probe_unique(void *ctx, size_t k)
{
    probe_batch *b = ctx;
    probe_with_ctx(b->domains[b->unique[k]], NULL, b->opts, b->tls, &b->out[b->unique[k]]);
}

static int same_domain(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* first[i]: the index of the first domain equal to domains[i]. */
static size_t dedupe(const char *const *domains, size_t n, size_t *first, size_t *unique)
{
    size_t i, j, count = 0;
    for (i = 0; i < n; i++) {
        first[i] = i;
        for (j = 0; j < count; j++) {
            if (same_domain(domains[unique[j]], domains[i])) {
                first[i] = unique[j];
                break;
            }
        }
        if (first[i] == i)
            unique[count++] = i;
    }
    return count;
}

/* Probes at once: 32 threads and the caller. */
#define PROBE_MAX_AT_ONCE 33

void probe_many(const char *const *domains, size_t n, const probe_options *opts,
                probe_result *out)
{
    size_t *first = malloc((n ? n : 1) * sizeof *first);
    size_t *unique = malloc((n ? n : 1) * sizeof *unique);
    char err[TLS_TEXT_MAX];
    probe_batch batch = { domains, unique, opts, NULL, out };

    if (!first || !unique) {
        /* No memory to sort out duplicates: one at a time still answers. */
        for (size_t i = 0; i < n; i++)
            probe_domain(domains[i], opts, &out[i]);
    } else {
        size_t nunique = dedupe(domains, n, first, unique);
        batch.tls = make_client(opts, err, sizeof err); /* NULL: each probe tries its own */
        /* A thread per distinct domain (bounded): each spends its time
         * waiting on the network, so they overlap almost perfectly. */
        fanout_run(nunique, PROBE_MAX_AT_ONCE, probe_unique, &batch);
        for (size_t i = 0; i < n; i++)
            if (first[i] != i)
                out[i] = out[first[i]];
        tls_client_free(batch.tls);
    }
    free(first);
    free(unique);
}
