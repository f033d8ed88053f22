/* journal_replay: a row's recorded reason says how far down the decision
 * table the router got and so which of decide()'s inputs it knew then;
 * the edited rule is run through decide() with those, and only a decision
 * that needs nothing more counts. */
#include "journal_replay.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domset.h"
#include "errtext.h"

/* ---- the edited rule ---------------------------------------------------- */

static domset *set_of(const char *const *patterns, size_t n)
{
    domset *s = domset_new();
    for (size_t i = 0; s && i < n; i++)
        if (domset_add(s, patterns[i]) != 0) {
            domset_free(s);
            s = NULL;
        }
    return s;
}

int replay_rule_init(replay_rule *r, int expired_cert, const char *const *force_plain,
                     size_t n_force_plain, const char *const *never_redirect,
                     size_t n_never_redirect)
{
    memset(r, 0, sizeof *r);
    r->force_plain = set_of(force_plain, n_force_plain);
    r->never_redirect = set_of(never_redirect, n_never_redirect);
    if (!r->force_plain || !r->never_redirect) {
        replay_rule_free(r);
        return -1;
    }
    r->rule.expired_cert = expired_cert != 0;
    r->rule.force_plain = r->force_plain;
    r->rule.never_redirect = r->never_redirect;
    return 0;
}

void replay_rule_free(replay_rule *r)
{
    domset_free(r->force_plain);
    domset_free(r->never_redirect);
    memset(r, 0, sizeof *r);
}

/* ---- one recorded decision ----------------------------------------------- */

typedef enum { FACT_NO, FACT_YES, FACT_UNRECORDED } fact;

/* decide()'s inputs as one journal row knows them. */
typedef struct {
    decide_input in;
    int policy_recorded;       /* in.policy is what the guard said */
    fact expired_cached;
} recorded_facts;

/* The reasons of rows 9-13: the probe's status decided. */
static int decided_by_probe(decide_reason reason)
{
    return reason == DECIDE_NO_STARTTLS || reason == DECIDE_STARTTLS_REJECTED ||
           reason == DECIDE_CERT_EXPIRED || reason == DECIDE_HANDSHAKE_FAILED ||
           reason == DECIDE_TLS_OK || reason == DECIDE_PROBE_FAILED;
}

/* A row decided by the probe. The guard is asked only of a domain about to
 * go plain (route.c's needs_guard), so its answer, no policy, is known for
 * the reasons that are always plain and for a row that went plain; a
 * domain routed tls was never asked. The expired cache holds only domains
 * whose probe shows an expired certificate and drops them once it no
 * longer does, so another status means the domain was not in it. */
static int probe_facts(decide_reason reason, probe_status status, int went_plain,
                       recorded_facts *f)
{
    if (!probe_status_is_outcome(status))
        return 0;
    f->in.probe_status = status;
    f->policy_recorded = went_plain || reason == DECIDE_NO_STARTTLS ||
                         reason == DECIDE_STARTTLS_REJECTED;
    f->expired_cached = status == PROBE_CERT_EXPIRED ? FACT_UNRECORDED : FACT_NO;
    return 1;
}

/* 1 with *f, or 0 when the row holds too little to replay anything. */
static int facts_of(decide_reason reason, probe_status status, int went_plain,
                    recorded_facts *f)
{
    f->in.policy = DECIDE_POLICY_NONE;
    f->in.probe_status = PROBE_NOT_PROBED;
    f->policy_recorded = 0;
    f->expired_cached = FACT_UNRECORDED;
    switch (reason) {
    case DECIDE_NO_RULE:          /* the server had no rule then: nothing known */
    case DECIDE_ADDRESS_REFUSED:  /* refused before any decision */
        return 0;
    case DECIDE_LOOP:
        f->in.looped = 1;
        return 1;
    case DECIDE_IIS_LOCAL_DOMAIN:
        f->in.iis = DECIDE_IIS_LOCAL;
        return 1;
    case DECIDE_IIS_DOMAIN_ROUTE:
        f->in.iis = DECIDE_IIS_ROUTED;
        return 1;
    case DECIDE_NEVER_REDIRECT:   /* decided by a list: no probe, no guard */
    case DECIDE_FORCE_PLAIN:
    case DECIDE_NEEDS_PROBE:
        return 1;
    case DECIDE_STS_POLICY:
    case DECIDE_DANE:
    case DECIDE_GUARD_UNKNOWN:
        f->in.policy = reason == DECIDE_STS_POLICY ? DECIDE_POLICY_STS
                       : reason == DECIDE_DANE     ? DECIDE_POLICY_DANE
                                                   : DECIDE_POLICY_UNKNOWN;
        f->policy_recorded = 1;
        if (probe_status_is_outcome(status))
            f->in.probe_status = status;
        return 1;
    case DECIDE_EXPIRED_CACHE:
        /* Went plain, so the guard said no policy; the cache entry is the
         * probe's finding of an expired certificate (see probe_facts). */
        f->policy_recorded = 1;
        f->expired_cached = FACT_YES;
        f->in.probe_status = PROBE_CERT_EXPIRED;
        return 1;
    default:
        return decided_by_probe(reason) && probe_facts(reason, status, went_plain, f);
    }
}

/* The router's steps for one domain with the facts given: the table, and
 * for a domain about to go plain (not by the force-plain list) the guard's
 * answer and the table again. 1 with *route, 0 when a step needs a fact
 * that was not recorded or has no answer (a probe, the guard). */
static int decide_recorded(const decide_input *in, int policy_recorded, decide_route *route)
{
    decide_input asked = *in;
    asked.policy = DECIDE_POLICY_NONE;
    decide_outcome o = decide(&asked);
    if (o.route == DECIDE_PLAIN && o.reason != DECIDE_FORCE_PLAIN) {
        if (!policy_recorded)
            return 0;
        asked.policy = in->policy;
        o = decide(&asked);
    }
    if (o.needs_probe || o.reason == DECIDE_GUARD_UNKNOWN)
        return 0;
    *route = o.route;
    return 1;
}

int replay_decide(const decide_rule *edited, const char *domain, const char *route,
                  const char *reason, const char *status, decide_route *new_route)
{
    decide_reason why;
    probe_status said;
    recorded_facts f = { .in = { .rule = edited, .domain = domain } };
    if (probe_status_parse(status, &said) != 0)
        said = PROBE_UNKNOWN;  /* a newer version's word: no probe fact */
    if (decide_reason_parse(reason, &why) != 0 ||
        !facts_of(why, said, strcmp(route, "plain") == 0, &f))
        return 0;
    /* An unrecorded cache membership is tried both ways: the decision
     * counts only when both agree. */
    int first = f.expired_cached == FACT_UNRECORDED ? 0 : f.expired_cached == FACT_YES;
    int last = f.expired_cached == FACT_UNRECORDED ? 1 : first;
    decide_route agreed = DECIDE_TLS;
    for (int cached = first; cached <= last; cached++) {
        decide_route r;
        f.in.expired_cached = cached;
        if (!decide_recorded(&f.in, f.policy_recorded, &r) || (cached > first && r != agreed))
            return 0;
        agreed = r;
    }
    *new_route = agreed;
    return 1;
}

/* ---- the window ------------------------------------------------------------ */

int64_t replay_since_ms(int64_t now_ms, int days) { return now_ms - (int64_t)days * 86400000; }

void replay_report_free(replay_report *r)
{
    free(r->domains);
    memset(r, 0, sizeof *r);
}

static int same_change(const replay_change *a, const replay_change *b)
{
    return strcmp(a->domain, b->domain) == 0 && a->old_route == b->old_route &&
           a->new_route == b->new_route;
}

/* The changes of one domain arrive together (the query groups by domain
 * first): a new entry only when the last one differs. */
static int add_change(replay_report *out, size_t *cap, const char *domain, decide_route old_route,
                      decide_route new_route, size_t count)
{
    replay_change c = { .old_route = old_route, .new_route = new_route, .count = count };
    snprintf(c.domain, sizeof c.domain, "%s", domain);
    out->changed += count;
    for (size_t i = out->n_domains; i > 0 && strcmp(out->domains[i - 1].domain, domain) == 0; i--)
        if (same_change(&out->domains[i - 1], &c)) {
            out->domains[i - 1].count += count;
            return 0;
        }
    if (out->n_domains == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        replay_change *grown = realloc(out->domains, ncap * sizeof *grown);
        if (!grown)
            return -1;
        out->domains = grown;
        *cap = ncap;
    }
    out->domains[out->n_domains++] = c;
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const replay_change *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->domain, y->domain);
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

/* One group of identical rows: same domain, route, reason and status, and
 * either the scope's server or none. */
static int replay_group(const decide_rule *edited, const replay_scope *scope, sqlite3_stmt *st,
                        replay_report *out, size_t *cap)
{
    const char *domain = column_text(st, 0), *route = column_text(st, 1);
    size_t count = (size_t)sqlite3_column_int64(st, 5);
    if (sqlite3_column_int(st, 4)) {
        out->unattributed += count;
        if (!scope->unattributed_are_its)
            return 0;
    }
    decide_route old_route = strcmp(route, "plain") == 0 ? DECIDE_PLAIN : DECIDE_TLS, new_route;
    out->looked_at += count;
    if (!replay_decide(edited, domain, route, column_text(st, 2), column_text(st, 3),
                       &new_route)) {
        out->not_replayable += count;
        return 0;
    }
    if (new_route == old_route)
        return 0;
    return add_change(out, cap, domain, old_route, new_route, count);
}

int journal_replay(sqlite3 *db, const decide_rule *edited, const replay_scope *scope,
                   int64_t since_ms, replay_report *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc, nomem = 0;
    memset(out, 0, sizeof *out);
    /* Identical rows are decided once: a week of a busy server is many
     * rows but few distinct (domain, route, reason, status). The window
     * comes through the at_ms index; the server is a test on its rows. */
    if (sqlite3_prepare_v2(db,
                           "SELECT domain, route, reason, status, source_instance IS NULL,"
                           " count(*) FROM journal WHERE at_ms >= ?1"
                           " AND (source_instance = ?2 OR source_instance IS NULL)"
                           " GROUP BY domain, route, reason, status, source_instance IS NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        errtext_set(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int(st, 2, scope->source_instance);
    out->source_instance = scope->source_instance;
    out->unattributed_replayed = scope->unattributed_are_its != 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (replay_group(edited, scope, st, out, &cap) != 0) {
            nomem = 1;
            break;
        }
    if (nomem || rc != SQLITE_DONE) {
        errtext_set(err, errlen, "journal: %s", nomem ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        replay_report_free(out);
        return -1;
    }
    sqlite3_finalize(st);
    if (out->n_domains > 1)
        qsort(out->domains, out->n_domains, sizeof *out->domains, by_count);
    return 0;
}

/* ---- a stored rule, edited ------------------------------------------------- */

void replay_edit_init(replay_edit *e)
{
    memset(e, 0, sizeof *e);
    e->expired_cert = STORE_UNCHANGED;
}

/* A list for the edited rule: the given patterns, checked and normalised,
 * or the rule's own. *patterns is malloc'd (store_strings_free). */
static store_status edited_list(store *s, const char *rule_name, store_list list,
                                const char *const *given, size_t n, int is_given,
                                char ***patterns, size_t *count)
{
    if (!is_given)
        return store_domains_list(s, rule_name, list, patterns, count);
    /* An empty list is an edit too: the store's check wants patterns. */
    store_status r = n ? store_domains_check(s, list, given, n) : STORE_OK;
    if (r != STORE_OK)
        return r;
    *count = 0;
    *patterns = calloc(n ? n : 1, sizeof **patterns);
    if (!*patterns)
        return STORE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char norm[DOMAIN_BUF];
        const char *why;
        domain_pattern_normalize(given[i], norm, &why);  /* checked above */
        if (!((*patterns)[i] = strdup(norm))) {
            store_strings_free(*patterns, i);
            return STORE_ERR_NOMEM;
        }
        *count = i + 1;
    }
    return STORE_OK;
}

static store_status replay_stored(store *s, const store_rule *rule, const replay_edit *edit,
                                  const replay_scope *scope, int64_t since_ms,
                                  replay_report *out, char *err, size_t errlen)
{
    char **fp = NULL, **nr = NULL;
    size_t n_fp = 0, n_nr = 0;
    store_status r = edited_list(s, rule->name, STORE_LIST_FORCE_PLAIN, edit->force_plain,
                                 edit->n_force_plain, edit->force_plain_given, &fp, &n_fp);
    if (r == STORE_OK)
        r = edited_list(s, rule->name, STORE_LIST_NEVER_REDIRECT, edit->never_redirect,
                        edit->n_never_redirect, edit->never_redirect_given, &nr, &n_nr);
    if (r != STORE_OK) {
        errtext_set(err, errlen, "%s", r == STORE_ERR_NOMEM ? "out of memory" : store_error(s));
    } else {
        int expired = edit->expired_cert == STORE_UNCHANGED ? rule->expired_cert
                                                            : edit->expired_cert;
        replay_rule edited;
        if (replay_rule_init(&edited, expired, (const char *const *)fp, n_fp,
                             (const char *const *)nr, n_nr) != 0) {
            errtext_set(err, errlen, "out of memory");
            r = STORE_ERR_NOMEM;
        } else {
            if (journal_replay(store_db(s), &edited.rule, scope, since_ms, out, err,
                               errlen) != 0)
                r = STORE_ERR_IO;
            replay_rule_free(&edited);
        }
    }
    store_strings_free(fp, n_fp);
    store_strings_free(nr, n_nr);
    return r;
}

int replay_scope_of(store *s, int64_t rule_id, int source_instance, replay_scope *out)
{
    store_rule *rules = NULL;
    size_t n = 0;
    int others = 0;
    out->source_instance = source_instance;
    out->unattributed_are_its = 0;
    if (store_rule_list(s, &rules, &n) != STORE_OK)
        return -1;
    for (size_t i = 0; i < n && !others; i++)
        others = rules[i].enabled && rules[i].id != rule_id &&
                 rules[i].source_instance != source_instance;
    free(rules);
    out->unattributed_are_its = !others;
    return 0;
}

store_status journal_replay_rule(store *s, const char *rule_name, const replay_edit *edit,
                                 int64_t since_ms, replay_report *out, char *err,
                                 size_t errlen)
{
    store_rule rule;
    replay_scope scope;
    memset(out, 0, sizeof *out);
    store_status r = store_rule_get(s, rule_name, &rule);
    if (r != STORE_OK) {
        errtext_set(err, errlen, "%s", store_error(s));
        return r;
    }
    if (replay_scope_of(s, rule.id, rule.source_instance, &scope) != 0) {
        errtext_set(err, errlen, "%s", store_error(s));
        return STORE_ERR_IO;
    }
    return replay_stored(s, &rule, edit, &scope, since_ms, out, err, errlen);
}
