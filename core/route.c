/* route: one message, start to end. The order matters: decide everything,
 * then hand off, then journal what really happened (a failed hand-off is
 * journalled as tls with the reason in detail). */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "domain.h"
#include "errtext.h"
#include "fanout.h"
#include "iis_model.h"
#include "journal.h"
#include "stats.h"

/* What is known about one recipient domain. */
typedef struct {
    const char *domain;      /* points into a decision */
    decide_outcome outcome;
    probe_status status;     /* PROBE_NOT_PROBED until a probe result is taken */
    char mx[256];
    char tls_version[32];
    char detail[256];
    int64_t cert_not_after;
    int64_t probed_ms;       /* when the probe saw it (kept by the probe cache) */
    decide_policy policy;
    int looped;              /* the message carries our hand-off trace */
    decide_iis iis;          /* what IIS does with it on the source server */
    int64_t elapsed_ms;
} domain_plan;

/* snprintf("%s") without the format machinery: this runs per recipient. */
static void copy_text(char *dst, size_t len, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= len)
        n = len - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

int route_domain_of(const char *address, char *buf, size_t len)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    char norm[DOMAIN_BUF];
    const char *why;
    if (!at || domain_normalize(at + 1, norm, &why) != 0 || strlen(norm) >= len)
        return -1;
    memcpy(buf, norm, strlen(norm) + 1);
    return 0;
}

/* ---- grouping ---------------------------------------------------------- */

typedef struct {
    const char *domain;
    size_t index;
} by_domain;

static int cmp_by_domain(const void *a, const void *b)
{
    const by_domain *x = a, *y = b;
    int c = strcmp(x->domain, y->domain);
    /* Ties by input order, so the pickup file lists recipients stably. */
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Sorts the recipients by domain and gives each distinct domain one plan;
 * plan_of[i] is recipient i's plan, (size_t)-1 for a refused address. */
static size_t group_by_domain(route_decision *d, size_t n, by_domain *order, size_t *plan_of,
                              domain_plan *plans)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        order[i].domain = d[i].domain;
        order[i].index = i;
    }
    qsort(order, n, sizeof *order, cmp_by_domain);
    for (size_t i = 0; i < n; i++) {
        size_t idx = order[i].index;
        if (!d[idx].domain[0]) {
            plan_of[idx] = (size_t)-1;
            continue;
        }
        if (k == 0 || strcmp(plans[k - 1].domain, d[idx].domain) != 0) {
            memset(&plans[k], 0, sizeof plans[k]);
            plans[k].domain = d[idx].domain;
            plans[k].cert_not_after = -1;
            k++;
        }
        plan_of[idx] = k - 1;
    }
    return k;
}

/* ---- deciding -----------------------------------------------------------
 *
 * Each domain is settled on its own: the decision table first, a probe
 * when it needs one, then, when it is about to go plain, the guards. Every
 * domain whose answers are all cached is settled at once on the caller's
 * thread; the others are settled at the same time on their own threads,
 * each probe and guard under its own deadline and all inside the
 * message's one deadline, so the message waits for its slowest domain,
 * never for a sum, and never past the deadline. */

/* Threads per message settling domains that need the network. A message
 * with more such domains settles them in turns; past the message's
 * deadline a domain's turn costs nothing (it stays on TLS). */
#define ROUTE_SETTLE_THREADS 32

/* What the message knows of its smart host's answer. */
typedef enum {
    SMART_NOT_ASKED = 0,
    SMART_ANSWERED,        /* from the cache or a probe */
    SMART_CUT_SHORT        /* the message's deadline cut the probe short */
} smart_state;

/* The source virtual server as IIS configures it (iis_model.h); all empty when
 * IIS's configuration is not known. */
typedef struct {
    const iis_server *server;
    const char *smart_host;        /* SmartHostType always: every probe goes there */
    engine_probe_via via;          /* RemoteSmtpPort, FullyQualifiedDomainName */
    plat_mutex *smart_lock;        /* the smart host is probed once per message */
    smart_state smart;             /* guarded by smart_lock, like smart_result */
    probe_result smart_result;
} iis_source;

typedef struct {
    engine *e;
    const engine_rule *rule;
    iis_source *iis;
    expcache *expired;
    int64_t now_ms;
    uint64_t deadline_ms;          /* the message's, plat_now_ms clock */
    int64_t message_timeout_ms;
    int64_t guard_timeout_ms;
    domain_plan **pending;         /* domains that need the network */
} settle_ctx;

static decide_outcome decide_plan(const settle_ctx *c, const domain_plan *p, probe_status status)
{
    /* Through a smart host the domain's own MX hosts are never met: what
     * the expired cache knows of them does not apply, and what the smart
     * host shows is no fact about the domain. */
    int via_smart_host = c->iis->smart_host != NULL;
    int cached = !via_smart_host && c->rule && c->rule->rule.expired_cert &&
                 expcache_contains(c->expired, p->domain, c->now_ms);
    decide_input in = { .rule = c->rule ? &c->rule->rule : NULL,
                        .looped = p->looped,
                        .iis = p->iis,
                        .domain = p->domain,
                        .policy = p->policy,
                        .expired_cached = cached,
                        .probe_status = status };
    decide_outcome o = decide(&in);
    if (via_smart_host)
        o.add_expired = 0;
    return o;
}

/* Row 3's input: what the source server's configuration does with the
 * domain. */
static void classify_iis(const iis_source *src, domain_plan *p)
{
    iis_domain_kind kind = iis_server_domain_kind(src->server, p->domain, NULL);
    p->iis = kind == IIS_DOMAIN_LOCAL    ? DECIDE_IIS_LOCAL
             : kind == IIS_DOMAIN_ROUTED ? DECIDE_IIS_ROUTED
                                         : DECIDE_IIS_NONE;
}

/* When row 3 decided: the words the journal shows an administrator. */
static void describe_iis(const iis_source *src, domain_plan *p)
{
    const iis_domain *entry = NULL;
    char route[160];
    decide_reason why = p->outcome.reason;
    if (why != DECIDE_IIS_LOCAL_DOMAIN && why != DECIDE_IIS_DOMAIN_ROUTE)
        return;
    iis_server_domain_kind(src->server, p->domain, &entry);
    if (why == DECIDE_IIS_LOCAL_DOMAIN) {
        errtext_set(p->detail, sizeof p->detail,
                 "a local domain of virtual server %d (%s): IIS delivers it itself, not probed",
                 src->server->instance,
                 entry && (entry->route_action & IIS_ROUTE_ALIAS) ? "alias" : "default domain");
        return;
    }
    iis_domain_route_text(entry, route, sizeof route);
    errtext_set(p->detail, sizeof p->detail,
             "IIS routes it itself: remote domain %.80s of virtual server %d (%.100s), not probed",
             entry ? entry->name : p->domain, src->server->instance, route);
}

static void take_probe_result(domain_plan *p, const probe_result *r)
{
    p->status = r->status;
    copy_text(p->mx, sizeof p->mx, r->mx);
    copy_text(p->tls_version, sizeof p->tls_version, r->tls_version);
    copy_text(p->detail, sizeof p->detail, r->error);
    p->cert_not_after = r->has_cert ? r->cert_not_after : -1;
    p->probed_ms = r->probed_ms;
}

/* The journal's detail says what the guard found, then what the probe
 * said (the reason the domain was about to go plain). */
static void note_guard(domain_plan *p, const char *guard_detail)
{
    char probe_detail[sizeof p->detail];
    copy_text(probe_detail, sizeof probe_detail, p->detail);
    if (probe_detail[0])
        errtext_set(p->detail, sizeof p->detail, "%.150s (probe: %.100s)", guard_detail,
                    probe_detail);
    else
        copy_text(p->detail, sizeof p->detail, guard_detail);
}

/* Rows 6-7 are asked only of a domain about to go plain, so domains routed
 * tls never wait for them; a force-plain entry (row 5) is the admin's
 * word and stands. */
static int needs_guard(const domain_plan *p)
{
    return p->outcome.route == DECIDE_PLAIN && p->outcome.reason != DECIDE_FORCE_PLAIN;
}

static void apply_guard(settle_ctx *c, domain_plan *p, const guard_result *g)
{
    if (g->warn)
        engine_log(c->e, LOG_WARNING, "%s: %s", p->domain, g->detail);
    else if (g->policy == DECIDE_POLICY_UNKNOWN)
        engine_log(c->e, LOG_INFO, "%s stays on TLS: %s", p->domain, g->detail);
    if (g->detail[0])
        note_guard(p, g->detail);
    p->policy = g->policy;
    if (p->policy != DECIDE_POLICY_NONE)
        p->outcome = decide_plan(c, p, p->status);
}

static uint64_t earlier(uint64_t a, uint64_t b) { return a < b ? a : b; }

static void note_deadline(const settle_ctx *c, domain_plan *p)
{
    errtext_set(p->detail, sizeof p->detail,
             "not decided within the message's deadline (message_timeout_ms %lld): left on TLS",
             (long long)c->message_timeout_ms);
}

/* The smart host's answer, probed once per message whichever domain asks
 * first (the others wait for it, within its deadline). 0 with *r; 1 when
 * it needs the network and online is 0. */
static int smart_host_answer(settle_ctx *c, int online, probe_result *r, int *cut)
{
    iis_source *src = c->iis;
    int rc = 0;
    *cut = 0;
    plat_mutex_lock(src->smart_lock);
    if (src->smart == SMART_NOT_ASKED &&
        engine_smart_host_cached(c->e, src->smart_host, &src->smart_result))
        src->smart = SMART_ANSWERED;
    if (src->smart == SMART_NOT_ASKED && !online) {
        rc = 1;
    } else if (src->smart == SMART_NOT_ASKED) {
        int cut_short = engine_probe_smart_host(c->e, src->smart_host, &src->via,
                                                c->deadline_ms, &src->smart_result);
        src->smart = cut_short ? SMART_CUT_SHORT : SMART_ANSWERED;
    }
    if (rc == 0) {
        *r = src->smart_result;
        *cut = src->smart == SMART_CUT_SHORT;
    }
    plat_mutex_unlock(src->smart_lock);
    return rc;
}

/* SmartHostType always: the smart host's verdict decides every domain; the
 * journal's mx names it. */
static int settle_by_smart_host(settle_ctx *c, domain_plan *p, int online)
{
    probe_result r;
    int cut;
    if (smart_host_answer(c, online, &r, &cut) != 0)
        return 1;
    take_probe_result(p, &r);
    if (cut)
        note_deadline(c, p);
    char said[sizeof p->detail];
    copy_text(said, sizeof said, p->detail);
    errtext_set(p->detail, sizeof p->detail,
             "virtual server %d sends all mail to its smart host%s%.150s",
             c->iis->server->instance, said[0] ? ": " : "", said);
    p->outcome = decide_plan(c, p, p->status);
    return 0;
}

/* The probe step. 0: done (from the cache, or probed when online); 1: it
 * needs the network and online is 0. */
static int settle_probe(settle_ctx *c, domain_plan *p, int online)
{
    probe_result r;
    if (c->iis->smart_host)
        return settle_by_smart_host(c, p, online);
    engine_note_use(c->e, p->domain, c->iis->server ? c->iis->server->instance : 0);
    if (engine_probe_cached(c->e, p->domain, &r)) {
        take_probe_result(p, &r);
    } else if (!online) {
        return 1;
    } else {
        int cut = engine_probe_one_via(c->e, p->domain, &c->iis->via, c->deadline_ms, &r);
        take_probe_result(p, &r);
        if (cut)
            note_deadline(c, p);
    }
    p->outcome = decide_plan(c, p, p->status);
    return 0;
}

/* Settles one domain; 1 when it needs the network and online is 0 (the
 * caller runs it again online). Offline it touches only memory caches. */
static int settle(settle_ctx *c, domain_plan *p, int online)
{
    uint64_t started = plat_now_ms();
    p->policy = DECIDE_POLICY_NONE;
    p->status = PROBE_NOT_PROBED;
    p->mx[0] = p->tls_version[0] = '\0';
    if (!p->looped)  /* a loop's detail says why; nothing below adds to it */
        p->detail[0] = '\0';
    p->cert_not_after = -1;
    classify_iis(c->iis, p);
    p->outcome = decide_plan(c, p, PROBE_NOT_PROBED);
    describe_iis(c->iis, p);
    if (p->outcome.needs_probe && settle_probe(c, p, online))
        return 1;
    if (needs_guard(p)) {
        guard_result g;
        if (!engine_policy_cached(c->e, p->domain, &g)) {
            if (!online)
                return 1;
            uint64_t until = earlier(plat_now_ms() + (uint64_t)c->guard_timeout_ms,
                                     c->deadline_ms);
            engine_policy(c->e, p->domain, until, &g);
        }
        apply_guard(c, p, &g);
    }
    p->elapsed_ms = online ? (int64_t)(plat_now_ms() - started) : 0;
    return 0;
}

static void settle_online(void *arg, size_t i)
{
    settle_ctx *c = arg;
    settle(c, c->pending[i], 1);
}

static void add_expired(engine *e, const domain_plan *p)
{
    char err[256];
    if (p->outcome.add_expired &&
        engine_add_expired(e, p->domain, p->mx, p->cert_not_after, p->probed_ms, err,
                           sizeof err) != 0)
        engine_log(e, LOG_ERROR, "expired cache: %s", err);
}

static void decide_all(engine *e, const engine_config *cfg, const engine_rule *rule,
                       iis_source *src, domain_plan *plans, size_t k)
{
    settle_ctx c = { .e = e, .rule = rule, .iis = src, .expired = engine_expcache(e),
                     .now_ms = plat_wall_ms(),
                     .deadline_ms = plat_now_ms() + (uint64_t)cfg->message_timeout_ms,
                     .message_timeout_ms = cfg->message_timeout_ms,
                     .guard_timeout_ms = cfg->guard_timeout_ms };
    size_t n_pending = 0;
    for (size_t i = 0; i < k; i++) {
        if (settle(&c, &plans[i], 0) == 0)
            continue;
        if (!c.pending && !(c.pending = malloc(k * sizeof *c.pending))) {
            /* No memory for the list: the domain stays on TLS, as the
             * table's probe-failed row would have it. */
            plans[i].outcome.route = DECIDE_TLS;
            plans[i].outcome.reason = DECIDE_PROBE_FAILED;
            plans[i].outcome.add_expired = 0;
            copy_text(plans[i].detail, sizeof plans[i].detail, "out of memory for the probe");
            continue;
        }
        c.pending[n_pending++] = &plans[i];
    }
    if (n_pending > 0)
        fanout_run(n_pending, ROUTE_SETTLE_THREADS, settle_online, &c);
    free(c.pending);
    for (size_t i = 0; i < k; i++)
        add_expired(e, &plans[i]);
}

static void fill_decision(route_decision *r, const domain_plan *p)
{
    r->plain = p->outcome.route == DECIDE_PLAIN;
    r->reason = p->outcome.reason;
    r->status = p->status;
    copy_text(r->mx, sizeof r->mx, p->mx);
    copy_text(r->tls_version, sizeof r->tls_version, p->tls_version);
    copy_text(r->detail, sizeof r->detail, p->detail);
    r->elapsed_ms = p->elapsed_ms;
}

/* ---- hand-off ----------------------------------------------------------- */

static void keep_all_on_tls(route_result *out, const char *why)
{
    for (size_t i = 0; i < out->n; i++) {
        route_decision *r = &out->decisions[i];
        if (!r->plain)
            continue;
        r->plain = 0;
        errtext_set(r->detail, sizeof r->detail, "hand-off failed, left on TLS: %s", why);
    }
    out->handed_off = 0;
}

static int hand_off(const engine_rule *rule, const route_message *msg, route_result *out)
{
    size_t n_plain = 0;
    for (size_t i = 0; i < out->n; i++)
        n_plain += out->decisions[i].plain != 0;
    if (n_plain == 0)
        return 0;
    const char **rcpts = malloc(n_plain * sizeof *rcpts);
    if (!rcpts) {
        errtext_set(out->error, sizeof out->error, "out of memory for the pickup file");
        keep_all_on_tls(out, out->error);
        return -1;
    }
    size_t j = 0;
    for (size_t i = 0; i < out->n; i++)
        if (out->decisions[i].plain)
            rcpts[j++] = out->decisions[i].recipient;
    pickup_job job = { .pickup_dir = rule->pickup_dir,
                       .sender = msg->sender ? msg->sender : "",
                       .recipients = rcpts,
                       .n_recipients = n_plain,
                       .message = msg->message,
                       .message_len = msg->message_len,
                       .trace_host = out->trace_host,
                       .source_instance = msg->source_instance };
    int rc = pickup_write(&job, out->pickup_path, sizeof out->pickup_path, out->error,
                          sizeof out->error);
    free(rcpts);
    if (rc != 0) {
        keep_all_on_tls(out, out->error);
        return -1;
    }
    out->handed_off = (int)n_plain;
    return 0;
}

/* ---- learning ------------------------------------------------------------ */

/* Domains whose route a published policy could change: not those the
 * admin's lists decide (never-redirect, force-plain), nor those of a server
 * without a rule or of a message that came back, nor those IIS routes
 * itself, which never go plain. */
static int policy_can_matter(decide_reason reason)
{
    return reason != DECIDE_NO_RULE && reason != DECIDE_LOOP &&
           reason != DECIDE_NEVER_REDIRECT && reason != DECIDE_FORCE_PLAIN &&
           reason != DECIDE_IIS_LOCAL_DOMAIN && reason != DECIDE_IIS_DOMAIN_ROUTE;
}

/* MTA-STS policies are learnt in the background while the path is clean
 * (engine_learn_policies), so a later stripped path finds one cached. Out
 * of memory only skips it: the next message offers the domains again. */
static void learn_policies(engine *e, const domain_plan *plans, size_t k)
{
    const char **names = k ? malloc(k * sizeof *names) : NULL;
    size_t n = 0;
    if (!names)
        return;
    for (size_t i = 0; i < k; i++)
        if (policy_can_matter(plans[i].outcome.reason))
            names[n++] = plans[i].domain;
    engine_learn_policies(e, names, n);
    free(names);
}

/* ---- journal ------------------------------------------------------------ */

static void journal_message(engine *e, const route_message *msg, route_result *out)
{
    if (out->n == 0)
        return;
    journal_entry *rows = calloc(out->n, sizeof *rows);
    char err[256];
    if (!rows) {
        errtext_set(err, sizeof err, "out of memory");
    } else {
        int64_t now = plat_wall_ms();
        for (size_t i = 0; i < out->n; i++) {
            const route_decision *r = &out->decisions[i];
            rows[i] = (journal_entry){ .at_ms = now,
                                       .message_id = msg->message_id,
                                       .sender = msg->sender,
                                       .recipient = r->recipient,
                                       .domain = r->domain,
                                       .plain = r->plain,
                                       .reason = r->reason,
                                       .status = r->status,
                                       .mx = r->mx,
                                       .tls_version = r->tls_version,
                                       .detail = r->detail,
                                       .elapsed_ms = r->elapsed_ms,
                                       .source_instance = msg->source_instance };
        }
        if (engine_write_journal(e, rows, out->n, &out->journal_id, err, sizeof err) == 0) {
            free(rows);
            return;
        }
        free(rows);
    }
    engine_log(e, LOG_ERROR, "journal of message %s: %s",
               msg->message_id ? msg->message_id : "", err);
    if (!out->error[0])
        copy_text(out->error, sizeof out->error, err);
}

/* ---- live figures --------------------------------------------------------- */

/* A few relaxed atomic adds: the message, its recipients by reason, its
 * hand-off and its time from route_run's start (what OnArrival waits). */
static void count_message(engine *e, const route_result *out, int rc, uint64_t started_us)
{
    struct stats *s = engine_stats(e);
    for (size_t i = 0; i < out->n; i++)
        stats_count_reason(s, out->decisions[i].reason);
    stats_count_message(s, out->n, out->handed_off > 0, rc != 0, plat_now_us() - started_us);
}

/* ---- the whole path ------------------------------------------------------ */

/* Row 2: a message that already carries the trace this virtual server
 * writes into its pickup files went out through the Plain server and came
 * back (a smart host or route pointing here, or a Pickup folder mixed up).
 * Handing it off again would loop it for ever: every domain stays on TLS. */
static void mark_looped(engine *e, const route_message *msg, domain_plan *plans, size_t k,
                        route_result *out)
{
    const char *trace_host = out->trace_host;
    if (!pickup_has_trace(msg->message, msg->message_len, trace_host, msg->source_instance))
        return;
    out->looped = 1;
    for (size_t i = 0; i < k; i++) {
        plans[i].looped = 1;
        errtext_set(plans[i].detail, sizeof plans[i].detail,
                    "the message carries this server's hand-off trace (%.100s, virtual server %d)",
                    trace_host, msg->source_instance);
    }
    engine_log(e, LOG_WARNING,
               "message %s came back: it carries this server's hand-off trace (%s, virtual "
               "server %d); it stays on TLS and is not handed off again",
               msg->message_id ? msg->message_id : "", trace_host, msg->source_instance);
}

/* The source server's facts for one message. -1 when its smart host
 * cannot be used (no memory for the lock): the domains are then probed as
 * if there were none, which IIS's own retry covers. */
static int iis_source_of(const iis_model *m, int instance, iis_source *src)
{
    memset(src, 0, sizeof *src);
    src->server = iis_model_server(m, instance);
    if (!src->server)
        return 0;
    src->via.port = iis_server_remote_port(src->server);
    src->via.ehlo_name = src->server->fqdn;
    src->smart_host = iis_server_smart_host_always(src->server);
    if (src->smart_host && !(src->smart_lock = plat_mutex_new())) {
        src->smart_host = NULL;
        return -1;
    }
    return 0;
}

static void prepare_decisions(const route_message *msg, route_result *out)
{
    char why[160];
    int sender_ok = pickup_check_address(msg->sender ? msg->sender : "", 1, why, sizeof why) == 0;
    for (size_t i = 0; i < out->n; i++) {
        route_decision *r = &out->decisions[i];
        const char *addr = msg->recipients[i] ? msg->recipients[i] : "";
        copy_text(r->recipient, sizeof r->recipient, addr);
        r->reason = DECIDE_ADDRESS_REFUSED;
        r->status = PROBE_NOT_PROBED;
        if (pickup_check_address(addr, 0, why, sizeof why) != 0)
            errtext_set(r->detail, sizeof r->detail, "recipient refused: %s", why);
        else if (route_domain_of(addr, r->domain, sizeof r->domain) != 0)
            errtext_set(r->detail, sizeof r->detail, "recipient has no valid domain");
        else if (!sender_ok)
            errtext_set(r->detail, sizeof r->detail, "sender refused: %s", why);
        else
            continue;
        r->domain[0] = '\0';
    }
}

int route_run(engine *e, const route_message *msg, route_result *out)
{
    uint64_t started_us = plat_now_us();
    memset(out, 0, sizeof *out);
    out->n = msg->n_recipients;
    if (out->n == 0)
        return 0;
    out->decisions = calloc(out->n, sizeof *out->decisions);
    by_domain *order = malloc(out->n * sizeof *order);
    size_t *plan_of = malloc(out->n * sizeof *plan_of);
    domain_plan *plans = malloc(out->n * sizeof *plans);
    if (!out->decisions || !order || !plan_of || !plans) {
        free(order);
        free(plan_of);
        free(plans);
        errtext_set(out->error, sizeof out->error, "out of memory routing %lu recipients",
                    (unsigned long)out->n);
        out->n = 0;
        free(out->decisions);
        out->decisions = NULL;
        return -1;
    }
    prepare_decisions(msg, out);
    size_t k = group_by_domain(out->decisions, out->n, order, plan_of, plans);

    engine_config *cfg = engine_acquire_config(e);
    const engine_rule *rule = engine_rule_for(cfg, msg->source_instance);
    pickup_trace_host(cfg->probe.ehlo_name, out->trace_host, sizeof out->trace_host);
    if (rule)
        mark_looped(e, msg, plans, k, out);
    const iis_model *iis = engine_acquire_iis(e);
    iis_source src;
    if (iis_source_of(iis, msg->source_instance, &src) != 0)
        engine_log(e, LOG_WARNING, "out of memory: the smart host of virtual server %d is not "
                   "consulted for message %s", msg->source_instance,
                   msg->message_id ? msg->message_id : "");
    decide_all(e, cfg, rule, &src, plans, k);
    plat_mutex_free(src.smart_lock);
    engine_release_iis(e, iis);
    for (size_t i = 0; i < out->n; i++)
        if (plan_of[i] != (size_t)-1)
            fill_decision(&out->decisions[i], &plans[plan_of[i]]);
    int rc = rule ? hand_off(rule, msg, out) : 0;
    engine_release_config(e, cfg);
    if (rc != 0)
        engine_log(e, LOG_ERROR, "message %s stays on TLS, hand-off failed: %s",
                   msg->message_id ? msg->message_id : "", out->error);
    else
        engine_log(e, LOG_DEBUG, "message %s: %lu recipients, %d handed off to %s",
                   msg->message_id ? msg->message_id : "", (unsigned long)out->n,
                   out->handed_off, out->handed_off ? out->pickup_path : "nobody");

    learn_policies(e, plans, k);
    journal_message(e, msg, out);
    free(order);
    free(plan_of);
    free(plans);
    count_message(e, out, rc, started_us);
    return rc;
}

int route_undo(engine *e, route_result *r, const char *why)
{
    if (r->handed_off == 0)
        return 0;
    if (plat_remove(r->pickup_path) != 0)
        return -1;
    char detail[256], err[256];
    errtext_set(detail, sizeof detail, "hand-off taken back, left on TLS: %s", why ? why : "");
    for (size_t i = 0; i < r->n; i++)
        if (r->decisions[i].plain) {
            r->decisions[i].plain = 0;
            copy_text(r->decisions[i].detail, sizeof r->decisions[i].detail, detail);
        }
    r->handed_off = 0;
    stats_count_handoff_failure(engine_stats(e));
    engine_log(e, LOG_ERROR, "hand-off %s taken back: %s", r->pickup_path, why ? why : "");
    r->pickup_path[0] = '\0';
    if (r->journal_id > 0 &&
        engine_journal_kept_on_tls(e, r->journal_id, r->n, detail, err, sizeof err) < 0)
        engine_log(e, LOG_ERROR, "%s", err);
    return 0;
}

void route_result_free(route_result *r)
{
    if (!r)
        return;
    free(r->decisions);
    r->decisions = NULL;
    r->n = 0;
}
