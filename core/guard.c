/* guard: MTA-STS and DANE checks for row 4 (see guard.h). */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "dane.h"
#include "dns.h"
#include "net.h"
#include "plat.h"

void guard_options_default(guard_options *o)
{
    memset(o, 0, sizeof *o);
    o->mta_sts = 1;
    o->dane = 1;
    o->smtp_port = 25;
}

store_status guard_options_load(store *st, guard_options *o)
{
    store_status rc = STORE_OK, r;
    int64_t v;
    if ((r = store_setting_get_int(st, "guard_mta_sts", &v)) == STORE_OK)
        o->mta_sts = v != 0;
    else if (r != STORE_ERR_NOT_FOUND)
        rc = r;
    if ((r = store_setting_get_int(st, "guard_dane", &v)) == STORE_OK)
        o->dane = v != 0;
    else if (r != STORE_ERR_NOT_FOUND && rc == STORE_OK)
        rc = r;
    if (store_setting_get(st, "dns_servers", o->dns_buf, sizeof o->dns_buf) == STORE_OK &&
        o->dns_buf[0])
        o->dns_servers = o->dns_buf;
    return rc;
}

static void check_sts(stscache *cache, store *db, const char *domain, const guard_options *o,
                      uint64_t deadline_ms, guard_result *out)
{
    mtasts_options opt = o->sts;
    stscache_result r;
    stscache *own = cache ? NULL : stscache_new();
    unsigned left = (unsigned)net_remaining_ms(deadline_ms);
    if (!cache && !own)
        return;
    opt.dns_servers = o->dns_servers;
    /* The fetch may not outlast the caller's deadline. */
    if (!opt.timeout_ms || opt.timeout_ms > left)
        opt.timeout_ms = left ? left : 1;
    out->sts_checked = 1;
    out->sts_status = stscache_lookup(cache ? cache : own, db, domain, &opt, plat_wall_ms(), &r);
    stscache_free(own);
    if (out->sts_status != MTASTS_OK) {
        out->transient = out->sts_status == MTASTS_DNS_FAILED ||
                         out->sts_status == MTASTS_FETCH_FAILED;
        /* A record whose policy cannot be had counts as no policy (RFC 8461
         * 5.1), but the admin should hear of it. */
        if (out->sts_status == MTASTS_FETCH_FAILED || out->sts_status == MTASTS_INVALID) {
            out->warn = 1;
            snprintf(out->detail, sizeof out->detail, "MTA-STS record, but no policy: %s",
                     r.error);
        }
        return;
    }
    out->sts_mode = r.policy.mode;
    snprintf(out->sts_id, sizeof out->sts_id, "%s", r.id);
    if (r.policy.mode == MTASTS_MODE_ENFORCE) {
        out->policy = DECIDE_POLICY_STS;
        snprintf(out->detail, sizeof out->detail,
                 "MTA-STS policy (enforce, id %s) requires TLS: not routed plain", r.id);
    } else if (r.policy.mode == MTASTS_MODE_TESTING) {
        out->warn = 1;
        snprintf(out->detail, sizeof out->detail,
                 "MTA-STS policy in testing mode (id %s): routed as usual, TLS would be required "
                 "in enforce mode", r.id);
    }
}

static void check_dane(const char *domain, const guard_options *o, uint64_t deadline_ms,
                       guard_result *out)
{
    dns_mx_list mx;
    dane_result d;
    out->dane_checked = 1;
    if (dns_lookup_mx(o->dns_servers, domain, deadline_ms, &mx) != DNS_OK || mx.null_mx) {
        out->transient |= mx.status != DNS_OK && mx.status != DNS_NXDOMAIN &&
                          mx.status != DNS_NODATA;
        return;
    }
    for (size_t i = 0; i < mx.count && i < GUARD_DANE_MX_MAX; i++) {
        if (!dane_check(o->dns_servers, mx.hosts[i].name, mx.ad, o->smtp_port, deadline_ms,
                        &d)) {
            out->transient |= d.status == DNS_TIMEOUT || d.status == DNS_SERVFAIL;
            /* The TLSA records alone would have kept the domain on TLS:
             * the admin should learn why they do not. */
            if (dane_only_mx_insecure(&d) && !out->detail[0])
                snprintf(out->detail, sizeof out->detail,
                         "DANE does not apply: TLSA at _%u._tcp.%.70s is DNSSEC-validated, "
                         "but the MX records of %.70s are not (RFC 7672 2.2)",
                         o->smtp_port, mx.hosts[i].name, domain);
            continue;
        }
        out->dane = 1;
        out->policy = DECIDE_POLICY_DANE;
        snprintf(out->dane_mx, sizeof out->dane_mx, "%s", mx.hosts[i].name);
        snprintf(out->detail, sizeof out->detail, "DANE: %.100s at _%u._tcp.%.100s: not routed plain",
                 d.detail, o->smtp_port, mx.hosts[i].name);
        return;
    }
}

/* DANE did not apply: the MTA-STS warning comes first, then why DANE did
 * not apply when there is something to say. */
static void keep_warning(guard_result *out, const char *warn_detail)
{
    char dane_detail[GUARD_DETAIL_MAX];
    snprintf(dane_detail, sizeof dane_detail, "%s", out->detail);
    if (dane_detail[0])
        snprintf(out->detail, sizeof out->detail, "%.120s; %.130s", warn_detail, dane_detail);
    else
        snprintf(out->detail, sizeof out->detail, "%s", warn_detail);
}

void guard_check(stscache *cache, store *db, const char *domain, const guard_options *o,
                 uint64_t deadline_ms, guard_result *out)
{
    memset(out, 0, sizeof *out);
    out->policy = DECIDE_POLICY_NONE;
    if (o->mta_sts)
        check_sts(cache, db, domain, o, deadline_ms, out);
    /* An enforce policy decides already; DANE is asked only otherwise. A
     * testing-mode warning is kept unless DANE overrides it. */
    if (o->dane && out->policy == DECIDE_POLICY_NONE) {
        char warn_detail[GUARD_DETAIL_MAX];
        snprintf(warn_detail, sizeof warn_detail, "%s", out->detail);
        out->detail[0] = '\0';
        check_dane(domain, o, deadline_ms, out);
        if (out->dane)
            out->warn = 0;
        else if (warn_detail[0])
            keep_warning(out, warn_detail);
    }
}
