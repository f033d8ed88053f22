/* stslearn: background MTA-STS discovery (see stslearn.h). One lock keeps
 * the memo, the settings and the idle connections; it is never held while
 * a job talks to the network or the database. */
#include "stslearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "store.h"

/* Connections kept open for the next job; more jobs at once open more and
 * close the extra ones when they end. */
#define STSLEARN_IDLE_STORES 4

typedef struct {
    int used;
    uint64_t read_ms;          /* when the domain's TXT read was queued */
    char domain[DOMAIN_BUF];
} memo_slot;

struct stslearn {
    bgwork *pool;
    stscache *cache;
    char db_path[PLAT_PATH_MAX];
    plat_mutex *lock;
    /* The latest offer's settings and the fetch options. */
    char dns_servers[512];
    unsigned timeout_ms;
    char ca_file[PLAT_PATH_MAX];
    char connect_ip[64];
    unsigned port;
    stslearn_learnt_fn on_learnt;
    void *on_learnt_ctx;
    store *idle[STSLEARN_IDLE_STORES];
    size_t n_idle;
    memo_slot memo[STSLEARN_MEMO_SETS][STSLEARN_MEMO_WAYS];
};

stslearn *stslearn_new(bgwork *pool, stscache *cache, const char *db_path)
{
    stslearn *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->pool = pool;
    l->cache = cache;
    snprintf(l->db_path, sizeof l->db_path, "%s", db_path);
    l->lock = plat_mutex_new();
    if (!l->lock) {
        free(l);
        return NULL;
    }
    return l;
}

void stslearn_free(stslearn *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_idle; i++)
        store_close(l->idle[i]);
    plat_mutex_free(l->lock);
    free(l);
}

void stslearn_set_fetch(stslearn *l, const mtasts_options *fetch)
{
    plat_mutex_lock(l->lock);
    snprintf(l->ca_file, sizeof l->ca_file, "%s", fetch->ca_file ? fetch->ca_file : "");
    snprintf(l->connect_ip, sizeof l->connect_ip, "%s",
             fetch->connect_ip ? fetch->connect_ip : "");
    l->port = fetch->port;
    plat_mutex_unlock(l->lock);
}

void stslearn_on_learnt(stslearn *l, stslearn_learnt_fn fn, void *ctx)
{
    plat_mutex_lock(l->lock);
    l->on_learnt = fn;
    l->on_learnt_ctx = ctx;
    plat_mutex_unlock(l->lock);
}

/* ---- connections ---------------------------------------------------------- */

/* NULL when the database cannot be opened: the policy is then learnt in
 * memory only, which still serves this engine until it stops. */
static store *take_store(stslearn *l)
{
    store *s = NULL;
    char err[256];
    plat_mutex_lock(l->lock);
    if (l->n_idle > 0)
        s = l->idle[--l->n_idle];
    plat_mutex_unlock(l->lock);
    if (!s && store_open(l->db_path, &s, err, sizeof err) != STORE_OK)
        s = NULL;
    return s;
}

static void give_back_store(stslearn *l, store *s)
{
    if (!s)
        return;
    plat_mutex_lock(l->lock);
    if (l->n_idle < STSLEARN_IDLE_STORES) {
        l->idle[l->n_idle++] = s;
        s = NULL;
    }
    plat_mutex_unlock(l->lock);
    store_close(s);
}

/* ---- the job ------------------------------------------------------------ */

/* The options a job runs with, copied out of the learner. */
typedef struct {
    mtasts_options opt;
    char dns_servers[512];
    char ca_file[PLAT_PATH_MAX];
    char connect_ip[64];
} job_options;

static void copy_options(stslearn *l, job_options *j)
{
    memset(j, 0, sizeof *j);
    plat_mutex_lock(l->lock);
    memcpy(j->dns_servers, l->dns_servers, sizeof j->dns_servers);
    memcpy(j->ca_file, l->ca_file, sizeof j->ca_file);
    memcpy(j->connect_ip, l->connect_ip, sizeof j->connect_ip);
    j->opt.port = l->port;
    j->opt.timeout_ms = l->timeout_ms;
    plat_mutex_unlock(l->lock);
    j->opt.dns_servers = j->dns_servers[0] ? j->dns_servers : NULL;
    j->opt.ca_file = j->ca_file[0] ? j->ca_file : NULL;
    j->opt.connect_ip = j->connect_ip[0] ? j->connect_ip : NULL;
}

static void tell_learnt(stslearn *l, const char *domain)
{
    plat_mutex_lock(l->lock);
    stslearn_learnt_fn fn = l->on_learnt;
    void *ctx = l->on_learnt_ctx;
    plat_mutex_unlock(l->lock);
    if (fn)
        fn(ctx, domain);
}

/* What is learnt is kept by stscache in memory and in sts_policy, where
 * the guard reads it; the engine hears of it to forget a remembered "no
 * policy". A failed look-up leaves a cached policy in force; the domain is
 * asked again in an hour. */
static void learn_job(void *ctx, const char *domain)
{
    stslearn *l = ctx;
    job_options j;
    stscache_result result;
    copy_options(l, &j);
    store *db = take_store(l);
    stscache_lookup(l->cache, db, domain, &j.opt, plat_wall_ms(), &result);
    give_back_store(l, db);
    if (result.status == MTASTS_OK && result.fetched)
        tell_learnt(l, domain);
}

/* ---- the memo ------------------------------------------------------------ */

static size_t memo_set_of(const char *domain)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)domain; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % STSLEARN_MEMO_SETS;
}

/* The domain's slot when its TXT record is due (never read, or read an
 * hour or more before now_ms), marked read at now_ms; *before keeps the
 * slot as it was, to undo. NULL when not due. The lock is held. */
static memo_slot *memo_claim(stslearn *l, const char *domain, uint64_t now_ms,
                             memo_slot *before)
{
    memo_slot *set = l->memo[memo_set_of(domain)];
    memo_slot *slot = NULL;
    for (size_t i = 0; i < STSLEARN_MEMO_WAYS && !slot; i++)
        if (set[i].used && strcmp(set[i].domain, domain) == 0)
            slot = &set[i];
    if (slot && now_ms - slot->read_ms < STSLEARN_TXT_EVERY_MS)
        return NULL;
    if (!slot) {
        /* A free slot, else the one read longest ago. */
        slot = &set[0];
        for (size_t i = 0; i < STSLEARN_MEMO_WAYS && slot->used; i++)
            if (!set[i].used || set[i].read_ms < slot->read_ms)
                slot = &set[i];
    }
    *before = *slot;
    slot->used = 1;
    slot->read_ms = now_ms;
    snprintf(slot->domain, sizeof slot->domain, "%s", domain);
    return slot;
}

size_t stslearn_offer(stslearn *l, const char *const *domains, size_t n,
                      const stslearn_settings *settings, uint64_t now_ms)
{
    size_t queued = 0;
    plat_mutex_lock(l->lock);
    snprintf(l->dns_servers, sizeof l->dns_servers, "%s",
             settings->dns_servers ? settings->dns_servers : "");
    l->timeout_ms = settings->timeout_ms;
    for (size_t i = 0; i < n; i++) {
        memo_slot before;
        memo_slot *slot = memo_claim(l, domains[i], now_ms, &before);
        if (!slot)
            continue;
        bgwork_status st = bgwork_submit(l->pool, learn_job, l, domains[i]);
        if (st == BGWORK_QUEUED)
            queued++;
        else if (st != BGWORK_DUPLICATE)
            *slot = before; /* not queued: the next message offers it again */
    }
    plat_mutex_unlock(l->lock);
    return queued;
}
