/* forceplain: guard_check for each domain about to be forced plain, in a
 * few threads under one deadline (see forceplain.h). */
#include "forceplain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "store.h"

typedef struct {
    const char *db_path;
    const char *dns_servers;
    char (*domains)[DOMAIN_BUF];
    guard_result *results;
    size_t count;
    size_t next;               /* the next domain to ask, under lock */
    plat_mutex *lock;
    uint64_t deadline_ms;
} asking;

/* The settings of the database, on a connection of this thread's own (a
 * store handle serves one thread); without one, the defaults. */
static void ask_one(const asking *a, size_t k)
{
    store *st = NULL;
    char err[PLAT_PATH_MAX + 128];
    guard_options o;
    guard_options_default(&o);
    if (store_open(a->db_path, &st, err, sizeof err) == STORE_OK)
        guard_options_load(st, &o);
    if (a->dns_servers && *a->dns_servers)
        o.dns_servers = a->dns_servers;
    guard_check(NULL, st, a->domains[k], &o, a->deadline_ms, &a->results[k]);
    store_close(st);
}

static void ask_worker(void *arg)
{
    asking *a = arg;
    for (;;) {
        plat_mutex_lock(a->lock);
        size_t k = a->next++;
        plat_mutex_unlock(a->lock);
        if (k >= a->count)
            return;
        ask_one(a, k);
    }
}

/* The distinct domains named by patterns (wildcards and bad patterns
 * left out) into a->domains; returns how many. */
static size_t collect_domains(const char *const *patterns, size_t n, char (*domains)[DOMAIN_BUF])
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        char norm[DOMAIN_BUF];
        int seen = 0;
        if (domain_pattern_normalize(patterns[i], norm, NULL) != 0 || norm[0] == '*')
            continue;
        for (size_t k = 0; k < count && !seen; k++)
            seen = strcmp(domains[k], norm) == 0;
        if (!seen)
            memcpy(domains[count++], norm, sizeof norm);
    }
    return count;
}

static void run_pool(asking *a)
{
    plat_thread *threads[FORCEPLAIN_THREADS];
    size_t started = 0;
    while (started < a->count && started < FORCEPLAIN_THREADS) {
        threads[started] = plat_thread_start(ask_worker, a);
        if (!threads[started])
            break;
        started++;
    }
    ask_worker(a); /* this thread asks too: a failed start cannot stall */
    for (size_t i = 0; i < started; i++)
        plat_thread_join(threads[i]);
}

/* What a guard result says about forcing the domain plain; 0 when nothing. */
static int finding_of(const char *domain, const guard_result *g, forceplain_finding *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->domain, sizeof f->domain, "%s", domain);
    f->policy = g->policy;
    if (g->policy == DECIDE_POLICY_STS) {
        f->kind = FORCEPLAIN_POLICY;
        snprintf(f->detail, sizeof f->detail, "an MTA-STS policy in enforce mode (id %s)",
                 g->sts_id);
    } else if (g->policy == DECIDE_POLICY_DANE) {
        f->kind = FORCEPLAIN_POLICY;
        snprintf(f->detail, sizeof f->detail,
                 "DANE (DNSSEC-validated TLSA records for its mail server %.180s)", g->dane_mx);
    } else if (g->policy == DECIDE_POLICY_UNKNOWN || g->transient) {
        f->kind = FORCEPLAIN_UNKNOWN;
        snprintf(f->detail, sizeof f->detail, "%s",
                 g->detail[0] ? g->detail : "a look-up got no answer in time");
    } else {
        return 0;
    }
    return 1;
}

long forceplain_ask(const char *db_path, const char *dns_servers,
                      const char *const *patterns, size_t n, unsigned timeout_ms,
                      forceplain_finding *out)
{
    asking a;
    memset(&a, 0, sizeof a);
    a.db_path = db_path;
    a.dns_servers = dns_servers;
    a.domains = malloc((n ? n : 1) * sizeof *a.domains);
    a.results = calloc(n ? n : 1, sizeof *a.results);
    a.lock = plat_mutex_new();
    long found = -1;
    if (a.domains && a.results && a.lock) {
        a.count = collect_domains(patterns, n, a.domains);
        a.deadline_ms = plat_now_ms() + timeout_ms;
        run_pool(&a);
        found = 0;
        for (size_t k = 0; k < a.count; k++)
            found += finding_of(a.domains[k], &a.results[k], &out[found]);
    }
    free(a.domains);
    free(a.results);
    plat_mutex_free(a.lock);
    return found;
}

void forceplain_describe(const forceplain_finding *f, char *buf, size_t len)
{
    if (f->kind == FORCEPLAIN_POLICY)
        snprintf(buf, len,
                 "%s publishes %s, which requires TLS: on the force-plain list its mail goes "
                 "plain against it", f->domain, f->detail);
    else
        snprintf(buf, len,
                 "could not learn whether %s publishes a policy that requires TLS (%s)",
                 f->domain, f->detail);
}
