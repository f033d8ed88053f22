/* mgr_probe: "Test a domain" through the core probe (core/probe.h), with
 * the probe settings of the database, and the result stored in the probe
 * cache (core/pcache.h) like a probe made by the sink. */
#include "mgr_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "pcache.h"
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
    time_t t = (time_t)unix_s;
    struct tm tmv;
    if (unix_s <= 0 || gmtime_s(&tmv, &t) != 0) {
        snprintf(out, len, "unknown");
        return;
    }
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tmv);
}

static char *report(const probe_result *r, int cached)
{
    char from[40], until[40];
    size_t len = 4096;
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
    if (r->tls_version[0] && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "TLS version: %s\nCipher: %s\n",
                      r->tls_version, r->cipher);
    if (r->has_cert && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n,
                      "Certificate subject: %s\nCertificate issuer: %s\nValid from: %s\n"
                      "Valid until: %s\n", r->subject, r->issuer, from, until);
    if (r->error[0] && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, "Detail: %s\n", r->error);
    if (n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "Time: %u ms\n%s", r->elapsed_ms,
                 cached ? "The result is now in the probe cache; the sink uses it for the "
                          "next message to this domain.\n"
                        : "");
    return out;
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
    probe_result r;
    probe_domain(name, &settings.opts, &r);

    pcache_ttls ttls;
    pcache_ttls_default(&ttls);
    pcache_ttls_load(store_db(st), &ttls);
    pcache *cache = pcache_new(store_db(st), &ttls);
    int cached = cache && pcache_put(cache, &r) == 0;
    pcache_free(cache);
    store_close(st);

    *out = report(&r, cached);
    if (!*out) {
        snprintf(err, errlen, "Out of memory.");
        return -1;
    }
    return 0;
}
