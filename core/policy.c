/* policy: the memo is a fixed table of 1,024 slots by hash, where a newer
 * domain replaces an older one (a miss costs one look-up, never
 * correctness). The look-ups themselves are guard.c's. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "plat.h"

#define POLICY_MEMO_SLOTS 1024

typedef struct {
    char domain[DNS_NAME_MAX];
    int64_t at_ms;
    unsigned settings;
    guard_result result;
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

int policy_memo_get(policy_memo *m, const char *domain, unsigned settings, int64_t now_ms,
                    guard_result *out)
{
    plat_mutex_lock(m->lock);
    memo_slot *s = slot_for(m, domain);
    int hit = s->domain[0] && strcmp(s->domain, domain) == 0 && s->settings == settings &&
              now_ms - s->at_ms < POLICY_MEMO_TTL_MS && now_ms >= s->at_ms;
    if (hit)
        *out = s->result;
    plat_mutex_unlock(m->lock);
    return hit;
}

void policy_memo_put(policy_memo *m, const char *domain, unsigned settings, int64_t now_ms,
                     const guard_result *g)
{
    plat_mutex_lock(m->lock);
    memo_slot *s = slot_for(m, domain);
    snprintf(s->domain, sizeof s->domain, "%s", domain);
    s->at_ms = now_ms;
    s->settings = settings;
    s->result = *g;
    plat_mutex_unlock(m->lock);
}

void policy_memo_forget(policy_memo *m, const char *domain)
{
    plat_mutex_lock(m->lock);
    memo_slot *s = slot_for(m, domain);
    if (strcmp(s->domain, domain) == 0)
        memset(s, 0, sizeof *s);
    plat_mutex_unlock(m->lock);
}
