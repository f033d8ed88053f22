/* mgr_probe: "Test a domain" through the core probe (core/probe.h), with
 * the probe settings of the database, and the result stored in the probe
 * cache (core/pcache.h) like a probe made by the sink.
 *
 * The verdict is the system's TLS stack's, the one IIS delivers with
 * (Schannel on Windows). Where that is not OpenSSL, OpenSSL's handshake is
 * asked too, offering every protocol from TLS 1.0, as a second opinion: when
 * the two differ, the report says plainly whether this Windows or the
 * server stands in the way. */
#include "mgr_data.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "guard.h"
#include "pcache.h"
#include "plat.h"
#include "probe.h"
#include "probe_settings.h"
#include "store.h"

/* What the sink would do with this result, in the admin's words. */
static const char *meaning(probe_status s)
{
    switch (s) {
    case PROBE_STARTTLS:
        return "TLS works: mail to this domain stays with the TLS server.";
    case PROBE_NO_STARTTLS:
        return "The server does not offer STARTTLS: a rule sends this mail through the "
               "Plain TCP server.";
    case PROBE_STARTTLS_REJECTED:
        return "The server refused STARTTLS: a rule sends this mail through the Plain TCP server.";
    case PROBE_CERT_EXPIRED:
        return "The certificate has expired: with \"Or if recipient server SSL certificate "
               "has expired\" on, this mail goes through the Plain TCP server; otherwise IIS "
               "keeps retrying with TLS.";
    case PROBE_CERT_NOT_YET_VALID:
        return "The certificate is not valid yet (the server's clock or its certificate is "
               "wrong): treated like a failed TLS setup, so with the expired-certificate option "
               "on this mail goes through the Plain TCP server.";
    case PROBE_HANDSHAKE_FAILED:
        return "TLS could not be set up (old protocol or weak cipher): with the expired-"
               "certificate option on, this mail goes through the Plain TCP server. You can "
               "also enable older TLS versions for Schannel.";
    case PROBE_NULL_MX:
        return "The domain publishes that it accepts no mail (null MX).";
    case PROBE_NO_DOMAIN:
        return "The domain does not exist. Check the spelling.";
    default:
        return "The test could not tell; mail stays with the TLS server and IIS retries as "
               "usual. Check DNS and that outbound port 25 is open.";
    }
}

static void format_time(int64_t unix_s, char *out, size_t len)
{
    struct tm tmv;
    if (unix_s <= 0 || plat_gmtime(unix_s, &tmv) != 0) {
        snprintf(out, len, "unknown");
        return;
    }
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tmv);
}

/* When a no-downgrade guard holds, the probe's "plain" verdict is
 * overruled: say so before anything else. */
static const char *guard_meaning(const guard_result *g)
{
    if (g->policy == DECIDE_POLICY_STS)
        return "The domain publishes an MTA-STS policy in enforce mode: TLS Router never "
               "hands its mail to the Plain TCP server, whatever the test below shows.";
    if (g->policy == DECIDE_POLICY_DANE)
        return "The domain publishes DNSSEC-validated TLSA records (DANE) for its mail "
               "server: TLS Router never hands its mail to the Plain TCP server, whatever "
               "the test below shows.";
    if (g->policy == DECIDE_POLICY_UNKNOWN)
        return "A look-up of the domain's no-downgrade policies (MTA-STS, DANE) got no "
               "answer: TLS Router keeps its mail on TLS until it can tell, and IIS retries.";
    if (g->warn)
        return "The domain's MTA-STS policy is in testing mode or could not be fetched: "
               "mail may still go through the Plain TCP server, and the log says so.";
    return NULL;
}

static int append_guard(char *out, size_t len, int n, const guard_result *g)
{
    const char *meant = guard_meaning(g);
    if (n <= 0 || (size_t)n >= len)
        return n;
    if (meant)
        n += snprintf(out + n, len - (size_t)n, "No-downgrade guard: %s\n%s\n", g->detail, meant);
    else if (g->detail[0]) /* e.g. why published TLSA records do not count */
        n += snprintf(out + n, len - (size_t)n, "No-downgrade guard: %s\n", g->detail);
    else if (g->sts_checked || g->dane_checked)
        n += snprintf(out + n, len - (size_t)n,
                      "No-downgrade guard: no MTA-STS enforce policy, no DANE records.\n");
    return n;
}

/* "Schannel", "OpenSSL": the stacks as admins know them. */
static const char *stack_title(tls_stack s)
{
    return s == TLS_STACK_SCHANNEL ? "Schannel" : s == TLS_STACK_OPENSSL ? "OpenSSL" : "";
}

/* Did the handshake itself succeed (whatever the certificate's verdict)? */
static int negotiated(const probe_result *r)
{
    return r->tls_version[0] != '\0';
}

static int append(char *out, size_t len, int n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int append(char *out, size_t len, int n, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (n < 0 || (size_t)n >= len)
        return n;
    va_start(ap, fmt);
    k = vsnprintf(out + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return k < 0 ? -1 : n + k;
}

/* The system stack could not, OpenSSL could: this Windows is in the way. */
static void windows_cannot(const probe_result *sys, const probe_result *other, char *out,
                           size_t len)
{
    int n = snprintf(out, len,
                     "This Windows cannot negotiate TLS with %s: %s failed (%s), while "
                     "OpenSSL negotiated %s with %s.",
                     sys->mx, stack_title(sys->stack), sys->error, other->tls_version,
                     other->cipher);
    if (strcmp(other->tls_version, "TLSv1.3") == 0)
        n = append(out, len, n, " The server settled on TLS 1.3, which this Windows does not "
                                "offer (Windows Server 2022 is the first that can): it seems "
                                "to accept nothing older.");
    else
        n = append(out, len, n, " %s on this Windows offers no protocol version or cipher "
                                "suite the server accepts: see its SCHANNEL protocol switches "
                                "and cipher suite order.",
                   stack_title(sys->stack));
    append(out, len, n, " IIS cannot deliver to it over TLS either: with \"Or if recipient "
                        "server SSL certificate has expired\" on, its mail goes through the "
                        "Plain TCP server.");
}

void mgr_stack_comparison(const probe_result *sys, const probe_result *other, char *out,
                          size_t len)
{
    out[0] = '\0';
    if (sys->stack == TLS_STACK_NONE || other->stack == TLS_STACK_NONE)
        return; /* one of them never reached a handshake: nothing to hold up */
    if (!negotiated(sys) && negotiated(other))
        windows_cannot(sys, other, out, len);
    else if (negotiated(sys) && !negotiated(other))
        snprintf(out, len, "%s on this Windows negotiates TLS with %s; OpenSSL could not (%s). "
                           "%s's verdict is the one that counts: IIS delivers with it.",
                 stack_title(sys->stack), sys->mx, other->error, stack_title(sys->stack));
    else if (negotiated(sys) && strcmp(sys->tls_version, other->tls_version) != 0)
        snprintf(out, len, "%s on this Windows negotiated %s with %s; OpenSSL, offering TLS "
                           "1.3 too, got %s. IIS will use %s.",
                 stack_title(sys->stack), sys->tls_version, sys->mx, other->tls_version,
                 sys->tls_version);
}

/* The second opinion's lines: what OpenSSL found, and what the difference
 * means when there is one. */
static int append_second_opinion(char *out, size_t len, int n, const probe_result *sys,
                                 const probe_result *other)
{
    char sentence[1024];
    n = append(out, len, n, "\nSecond opinion (OpenSSL): %s%s%s%s%s\n",
               probe_status_name(other->status), negotiated(other) ? ", " : "",
               other->tls_version, negotiated(other) ? ", " : "", other->cipher);
    mgr_stack_comparison(sys, other, sentence, sizeof sentence);
    return append(out, len, n, "%s\n", sentence[0] ? sentence : "The two stacks agree.");
}

static char *report(const probe_result *r, const probe_result *second, const guard_result *g,
                    int cached)
{
    char from[40], until[40];
    size_t len = 8192;
    char *out = malloc(len);
    if (!out)
        return NULL;
    format_time(r->cert_not_before, from, sizeof from);
    format_time(r->cert_not_after, until, sizeof until);
    int n = snprintf(out, len,
        "Domain: %s\nResult: %s\n%s\n\nMail server: %s%s%s%s\n",
        r->domain, probe_status_name(r->status), meaning(r->status),
        r->mx[0] ? r->mx : "(none)", r->address[0] ? " (" : "", r->address,
        r->address[0] ? ")" : "");
    n = append_guard(out, len, n, g);
    if (r->stack != TLS_STACK_NONE)
        n = append(out, len, n, "Decided by: %s (the TLS stack IIS delivers with here)\n",
                   stack_title(r->stack));
    if (r->tls_version[0] && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "TLS version: %s\nCipher: %s\n",
                      r->tls_version, r->cipher);
    if (r->has_cert && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n,
                      "Certificate subject: %s\nCertificate issuer: %s\nValid from: %s\n"
                      "Valid until: %s\n", r->subject, r->issuer, from, until);
    if (r->error[0] && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "Detail: %s\n", r->error);
    if (second)
        n = append_second_opinion(out, len, n, r, second);
    if (n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "Time: %u ms\n%s", r->elapsed_ms,
                 cached ? "The result is now in the probe cache; the sink uses it for the "
                          "next message to this domain.\n"
                        : "");
    return out;
}

/* OpenSSL's verdict on the same domain, when the system's stack is another
 * and reached a handshake; 1 when *second was filled. Not cached: the
 * sink decides with the system's stack. */
static int second_opinion(const char *domain, const probe_options *opts,
                          const probe_result *sys, probe_result *second)
{
    probe_options o = *opts;
    if (sys->stack == TLS_STACK_NONE || sys->stack == TLS_STACK_OPENSSL)
        return 0;
    o.stack = TLS_STACK_OPENSSL;
    o.floor = PROBE_FLOOR_TLS10;
    probe_domain(domain, &o, second);
    return 1;
}

int mgr_probe_domain(const char *db_path, const char *domain, char **out,
                     char *err, size_t errlen)
{
    char name[DOMAIN_BUF];
    const char *why = NULL;
    *out = NULL;
    if (domain_normalize(domain, name, &why) != 0) {
        snprintf(err, errlen, "\"%s\" is not a domain name: %s.", domain, why ? why : "invalid");
        return -1;
    }
    store *st;
    char open_err[MGR_ERR_LEN];
    if (store_open(db_path, &st, open_err, sizeof open_err) != STORE_OK) {
        snprintf(err, errlen, "Could not open the database for the test: %s.", open_err);
        return -1;
    }
    /* The settings the sink probes with; a setting that cannot be read
     * keeps its default, which is what the sink would do too. */
    probe_settings settings;
    probe_settings_load(st, &settings);
    probe_result r, second;
    probe_domain(name, &settings.opts, &r);
    int asked = second_opinion(name, &settings.opts, &r, &second);
    guard_options guard_opts;
    guard_result g;
    guard_options_default(&guard_opts);
    guard_options_load(st, &guard_opts);
    guard_check(NULL, st, name, &guard_opts,
                plat_now_ms() + (uint64_t)settings.opts.total_timeout_ms, &g);

    pcache_ttls ttls;
    pcache_ttls_default(&ttls);
    pcache_ttls_load(store_db(st), &ttls);
    pcache *cache = pcache_new(store_db(st), &ttls);
    int cached = cache && pcache_put(cache, &r) == 0;
    pcache_free(cache);
    store_close(st);

    *out = report(&r, asked ? &second : NULL, &g, cached);
    if (!*out) {
        snprintf(err, errlen, "Out of memory.");
        return -1;
    }
    return 0;
}
