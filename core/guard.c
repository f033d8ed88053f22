/* guard: MTA-STS and DANE checks for row 4 (see guard.h). */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "dane.h"
#include "dns.h"
#include "net.h"
#include "plat.h"
#include "settings.h"

void guard_options_default(guard_options *o)
{
    memset(o, 0, sizeof *o);
    o->mta_sts = SETTING_DEFAULT_guard_mta_sts;
    o->dane = SETTING_DEFAULT_guard_dane;
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

/* ---- MTA-STS ------------------------------------------------------------ */

static void sts_no_policy_fetched(guard_result *out, const stscache_result *r)
{
    /* RFC 8461 section 5: a TXT record is published but no policy can be
     * had (fetch failed or refused) and none is cached: deliver as though
     * the domain had no MTA-STS policy. The admin should hear of it. */
    out->warn = 1;
    snprintf(out->detail, sizeof out->detail,
             "MTA-STS record, but no policy (RFC 8461 5: routed as without one): %.150s",
             r->error);
}

static void sts_no_answer(guard_result *out, const char *domain, const stscache_result *r)
{
    /* The TXT look-up itself got no answer and no policy is cached: the
     * domain may have one that an attacker is hiding. Fail closed; RFC 8461
     * leaves this case to the sender. */
    out->sts_unknown = 1;
    snprintf(out->detail, sizeof out->detail,
             "MTA-STS: no answer to the TXT look-up of _mta-sts.%.80s (%.120s)", domain,
             r->error[0] ? r->error : "no reason given");
}

static void sts_judge_policy(guard_result *out, const stscache_result *r)
{
    out->sts_mode = r->policy.mode;
    snprintf(out->sts_id, sizeof out->sts_id, "%s", r->id);
    if (r->policy.mode == MTASTS_MODE_ENFORCE) {
        out->policy = DECIDE_POLICY_STS;
        snprintf(out->detail, sizeof out->detail,
                 "MTA-STS policy (enforce, id %s) requires TLS: not routed plain", r->id);
    } else if (r->policy.mode == MTASTS_MODE_TESTING) {
        out->warn = 1;
        snprintf(out->detail, sizeof out->detail,
                 "MTA-STS policy in testing mode (id %s): routed as usual, TLS would be required "
                 "in enforce mode", r->id);
    }
}

static void check_sts(stscache *cache, store *db, const char *domain, const guard_options *o,
                      uint64_t deadline_ms, guard_result *out)
{
    mtasts_options opt = o->sts;
    stscache_result r;
    stscache *own = cache ? NULL : stscache_new();
    unsigned left = (unsigned)net_remaining_ms(deadline_ms);
    out->sts_checked = 1;
    if (!cache && !own) {
        snprintf(r.error, sizeof r.error, "out of memory");
        out->transient = 1;
        sts_no_answer(out, domain, &r);
        return;
    }
    opt.dns_servers = o->dns_servers;
    /* The fetch may not outlast the caller's deadline. */
    if (!opt.timeout_ms || opt.timeout_ms > left)
        opt.timeout_ms = left ? left : 1;
    out->sts_status = stscache_lookup(cache ? cache : own, db, domain, &opt, plat_wall_ms(), &r);
    stscache_free(own);
    switch (out->sts_status) {
    case MTASTS_OK:
        sts_judge_policy(out, &r);
        break;
    case MTASTS_NONE:
        /* No record (NXDOMAIN, no TXT, or none starting v=STSv1): no policy. */
        break;
    case MTASTS_FETCH_FAILED:
    case MTASTS_INVALID:
        out->transient = 1;
        sts_no_policy_fetched(out, &r);
        break;
    case MTASTS_DNS_FAILED:
    default:
        out->transient = 1;
        sts_no_answer(out, domain, &r);
        break;
    }
}

/* ---- DANE ----------------------------------------------------------------- */

static int dns_answered(dns_status st)
{
    return st == DNS_OK || st == DNS_NXDOMAIN || st == DNS_NODATA;
}

static void dane_no_answer(guard_result *out, const char *what, const char *name, dns_status st)
{
    out->dane_unknown = 1;
    out->transient = 1;
    if (!out->detail[0])
        snprintf(out->detail, sizeof out->detail, "DANE: no answer to the %s look-up of %.150s (%s)",
                 what, name, dns_status_name(st));
}

static void check_dane(const char *domain, const guard_options *o, uint64_t deadline_ms,
                       guard_result *out)
{
    dns_mx_list mx;
    dane_result d;
    out->dane_checked = 1;
    if (dns_lookup_mx(o->dns_servers, domain, deadline_ms, &mx) != DNS_OK || mx.null_mx) {
        /* NXDOMAIN, no MX or a null MX is an answer: nothing for DANE. Any
         * other failure hides whether the MX RRset is signed. */
        if (!dns_answered(mx.status))
            dane_no_answer(out, "MX", domain, mx.status);
        return;
    }
    for (size_t i = 0; i < mx.count && i < GUARD_DANE_MX_MAX; i++) {
        if (dane_check(o->dns_servers, mx.hosts[i].name, mx.ad, o->smtp_port, deadline_ms, &d)) {
            out->dane = 1;
            out->dane_unknown = 0;
            out->policy = DECIDE_POLICY_DANE;
            snprintf(out->dane_mx, sizeof out->dane_mx, "%s", mx.hosts[i].name);
            snprintf(out->detail, sizeof out->detail,
                     "DANE: %.100s at _%u._tcp.%.100s: not routed plain", d.detail, o->smtp_port,
                     mx.hosts[i].name);
            return;
        }
        /* RFC 7672 2.2: under a validated MX RRset a TLSA look-up that
         * fails is a temporary failure, never "no TLSA": a validating
         * resolver answers SERVFAIL exactly when the answer was forged. */
        if (mx.ad && !dns_answered(d.status)) {
            char name[DOMAIN_BUF + 16];
            snprintf(name, sizeof name, "_%u._tcp.%s", o->smtp_port, mx.hosts[i].name);
            dane_no_answer(out, "TLSA", name, d.status);
            continue;
        }
        /* The TLSA records alone would have kept the domain on TLS:
         * the admin should learn why they do not. */
        if (dane_only_mx_insecure(&d) && !out->detail[0])
            snprintf(out->detail, sizeof out->detail,
                     "DANE does not apply: TLSA at _%u._tcp.%.70s is DNSSEC-validated, "
                     "but the MX records of %.70s are not (RFC 7672 2.2)",
                     o->smtp_port, mx.hosts[i].name, domain);
    }
}

/* ---- both at once ---------------------------------------------------------- */

typedef struct {
    const char *domain;
    const guard_options *o;
    uint64_t deadline_ms;
    guard_result result;
} dane_job;

static void dane_thread(void *arg)
{
    dane_job *j = arg;
    check_dane(j->domain, j->o, j->deadline_ms, &j->result);
}

/* "a; b" into out->detail, each part cut to fit. */
static void join_details(guard_result *out, const char *first, const char *second)
{
    if (first[0] && second[0])
        snprintf(out->detail, sizeof out->detail, "%.125s; %.125s", first, second);
    else
        snprintf(out->detail, sizeof out->detail, "%s", first[0] ? first : second);
}

/* A published policy wins (either keeps the domain on TLS); then a look-up
 * without an answer (fail closed); else no policy, with what is worth
 * saying (a testing-mode or RFC 8461 5 warning, why DANE did not apply). */
static void combine(guard_result *out, const guard_result *dane)
{
    char sts_detail[GUARD_DETAIL_MAX];
    snprintf(sts_detail, sizeof sts_detail, "%s", out->detail);
    out->dane_checked = dane->dane_checked;
    out->dane = dane->dane;
    out->dane_unknown = dane->dane_unknown;
    out->transient |= dane->transient;
    snprintf(out->dane_mx, sizeof out->dane_mx, "%s", dane->dane_mx);
    if (out->policy == DECIDE_POLICY_STS)
        return;
    if (dane->policy == DECIDE_POLICY_DANE) {
        out->policy = DECIDE_POLICY_DANE;
        out->warn = 0;
        snprintf(out->detail, sizeof out->detail, "%s", dane->detail);
        return;
    }
    if (out->sts_unknown || out->dane_unknown) {
        /* The look-up that failed first; an MTA-STS warning stays. */
        out->policy = DECIDE_POLICY_UNKNOWN;
        if (out->sts_unknown)
            join_details(out, sts_detail, out->dane_unknown ? dane->detail : "");
        else
            join_details(out, dane->detail, sts_detail);
        return;
    }
    join_details(out, sts_detail, dane->detail);
}

void guard_check(stscache *cache, store *db, const char *domain, const guard_options *o,
                 uint64_t deadline_ms, guard_result *out)
{
    dane_job job = { .domain = domain, .o = o, .deadline_ms = deadline_ms };
    plat_thread *t = NULL;
    memset(out, 0, sizeof *out);
    memset(&job.result, 0, sizeof job.result);
    out->policy = DECIDE_POLICY_NONE;
    job.result.policy = DECIDE_POLICY_NONE;
    /* DANE on a second thread while MTA-STS runs here: a silent TXT query
     * must not use up the time the TLSA look-ups need. A failed start
     * runs it here afterwards, under the same deadline. */
    if (o->dane && o->mta_sts)
        t = plat_thread_start(dane_thread, &job);
    if (o->mta_sts)
        check_sts(cache, db, domain, o, deadline_ms, out);
    if (t)
        plat_thread_join(t);
    else if (o->dane)
        dane_thread(&job);
    combine(out, &job.result);
}
