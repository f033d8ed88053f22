/* policy: DNS look-ups through the dns module; the memo is a fixed table
 * of 1,024 slots by hash, where a newer domain replaces an older one (a
 * miss costs one look-up, never correctness). */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "plat.h"

/* Enough for the MX hosts anyone runs; each costs one TLSA query. */
#define POLICY_MAX_MX_CHECKED 4
#define POLICY_MEMO_SLOTS 1024

static int has_sts_record(const char *servers, const char *domain, uint64_t deadline_ms)
{
    char name[DNS_NAME_MAX + 16];
    dns_txt_list txt;
    int found = 0;
    snprintf(name, sizeof name, "_mta-sts.%s", domain);
    if (dns_lookup_txt(servers, name, deadline_ms, &txt) == DNS_OK)
        for (size_t i = 0; i < txt.count && !found; i++)
            found = strncmp(txt.records[i], "v=STSv1", 7) == 0 &&
                    (txt.records[i][7] == ';' || txt.records[i][7] == ' ' ||
                     txt.records[i][7] == '\0');
    dns_txt_free(&txt);
    return found;
}

static int host_has_tlsa(const char *servers, const char *host, uint64_t deadline_ms)
{
    char name[DNS_NAME_MAX + 16];
    dns_tlsa_list tlsa;
    snprintf(name, sizeof name, "_25._tcp.%s", host);
    /* Only a validated answer counts: unsigned TLSA records prove nothing. */
    int found = dns_lookup_tlsa(servers, name, deadline_ms, &tlsa) == DNS_OK && tlsa.ad &&
                tlsa.count > 0;
    dns_tlsa_free(&tlsa);
    return found;
}

static int has_dane(const char *servers, const char *domain, uint64_t deadline_ms)
{
    dns_mx_list mx;
    if (dns_lookup_mx(servers, domain, deadline_ms, &mx) != DNS_OK || mx.null_mx)
        return 0;
    for (size_t i = 0; i < mx.count && i < POLICY_MAX_MX_CHECKED; i++)
        if (host_has_tlsa(servers, mx.hosts[i].name, deadline_ms))
            return 1;
    return 0;
}

decide_policy policy_lookup(const char *servers, const char *domain, uint64_t deadline_ms)
{
    if (has_dane(servers, domain, deadline_ms))
        return DECIDE_POLICY_DANE;
    if (has_sts_record(servers, domain, deadline_ms))
        return DECIDE_POLICY_STS;
    return DECIDE_POLICY_NONE;
}

typedef struct {
    char domain[DNS_NAME_MAX];
    int64_t at_ms;
    decide_policy policy;
} memo_slot;

struct policy_memo {
    plat_mutex *lock;
    memo_slot slots[POLICY_MEMO_SLOTS];
};

policy_memo *policy_memo_new(void)
{
    policy_memo *m = calloc(1, sizeof *m);
    if (m && !(m->lock = plat_mutex_new())) {
        free(m);
        m = NULL;
    }
    return m;
}

void policy_memo_free(policy_memo *m)
{
    if (!m)
        return;
    plat_mutex_free(m->lock);
    free(m);
}

static memo_slot *slot_for(policy_memo *m, const char *domain)
{
    uint32_t h = 2166136261u;
    for (const char *p = domain; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &m->slots[h % POLICY_MEMO_SLOTS];
}

int policy_memo_get(policy_memo *m, const char *domain, int64_t now_ms, decide_policy *out)
{
    plat_mutex_lock(m->lock);
    memo_slot *s = slot_for(m, domain);
    int hit = s->domain[0] && strcmp(s->domain, domain) == 0 &&
              now_ms - s->at_ms < POLICY_MEMO_TTL_MS && now_ms >= s->at_ms;
    if (hit)
        *out = s->policy;
    plat_mutex_unlock(m->lock);
    return hit;
}

void policy_memo_put(policy_memo *m, const char *domain, int64_t now_ms, decide_policy p)
{
    plat_mutex_lock(m->lock);
    memo_slot *s = slot_for(m, domain);
    snprintf(s->domain, sizeof s->domain, "%s", domain);
    s->at_ms = now_ms;
    s->policy = p;
    plat_mutex_unlock(m->lock);
}
