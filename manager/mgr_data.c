/* mgr_data: see mgr_data.h. Opening, rules, domain lists, settings and
 * list validation, through core/store.h and core/domain.h; no SQL of its
 * own. The journal view is in mgr_journal.c, the caches in mgr_cache.c. */
#include "mgr_data.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "forceplain.h"
#include "stats.h"
#include "mgr_priv.h"
#include "pickup.h"

void mgr_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int mgr_sql_fail(mgr_db *db, char *err, size_t errlen, const char *what)
{
    mgr_set_err(err, errlen, "Could not %s: %s.", what, sqlite3_errmsg(db->sql));
    return -1;
}

/* Store errors are sentence fragments; the console shows full sentences. */
static int store_fail(mgr_db *db, char *err, size_t errlen, const char *what)
{
    mgr_set_err(err, errlen, "Could not %s: %s.", what, store_error(db->st));
    return -1;
}

void mgr_copy_text(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

/* ---- Opening ---- */

int mgr_db_open(const char *path, mgr_db **out, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    mgr_db *db = calloc(1, sizeof *db);
    if (!db) {
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    snprintf(db->path, sizeof db->path, "%s", path);
    store_status rc = store_open(path, &db->st, why, sizeof why);
    if (rc != STORE_OK) {
        mgr_set_err(err, errlen, "Could not open the database %s: %s. %s", path, why,
                rc == STORE_ERR_READ_ONLY || rc == STORE_ERR_NO_FOLDER
                    ? "Run the manager as an administrator, or check the folder."
                    : rc == STORE_ERR_TOO_NEW ? "Install the newer TLS Router Manager."
                    : rc == STORE_ERR_BUSY ? "Try again in a moment."
                    : "Check that the path names a TLS Router database.");
        free(db);
        return -1;
    }
    db->sql = store_db(db->st);
    *out = db;
    return 0;
}

void mgr_db_close(mgr_db *db)
{
    if (!db)
        return;
    store_close(db->st);
    free(db);
}

const char *mgr_db_path(const mgr_db *db) { return db->path; }

int64_t mgr_db_file_size(mgr_db *db)
{
    int64_t size = -1;
    return store_size_bytes(db->st, &size) == STORE_OK ? size : -1;
}

/* ---- Domain lists ---- */

/* The text of line `line` (1-based), trimmed, for the message. */
static void line_text(const char *text, size_t line, char *out, size_t len)
{
    const char *p = text;
    for (size_t i = 1; i < line && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p) {
        out[0] = 0;
        return;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\r\n");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    snprintf(out, len, "%.*s", (int)n, p);
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

void mgr_trim_blanks(char *s)
{
    size_t start = 0, n = strlen(s);
    while (start < n && is_blank(s[start]))
        start++;
    while (n > start && is_blank(s[n - 1]))
        n--;
    memmove(s, s + start, n - start);
    s[n - start] = '\0';
}

typedef long (*list_parser)(const char *text, char ***patterns, domain_list_error *err);

static int check_list(list_parser parse, const char *text, char *reason, size_t reasonlen)
{
    domain_list_error e = { 0 };
    if (parse(text ? text : "", NULL, &e) >= 0)
        return 0;
    if (e.line == 0) {
        mgr_set_err(reason, reasonlen, "the computer ran out of memory while checking the list");
        return 1;
    }
    char bad[300];
    line_text(text, e.line, bad, sizeof bad);
    mgr_set_err(reason, reasonlen, "\"%s\": %s", bad, e.reason ? e.reason : "not a domain");
    return (int)e.line;
}

int mgr_domains_check(const char *text, char *reason, size_t reasonlen)
{
    return check_list(domain_list_parse, text, reason, reasonlen);
}

int mgr_force_plain_check(const char *text, char *reason, size_t reasonlen)
{
    return check_list(domain_force_plain_list_parse, text, reason, reasonlen);
}

/* ---- Rules ---- */

void mgr_rule_clear(mgr_rule *r)
{
    free(r->force_plain);
    free(r->never_redirect);
    memset(r, 0, sizeof *r);
}

void mgr_rules_free(mgr_rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mgr_rule_clear(&rules[i]);
    free(rules);
}

/* A rule's list as one '\n'-joined malloc'd string. */
static char *load_list(mgr_db *db, const char *rule, store_list list)
{
    char **pats = NULL;
    size_t n = 0, len = 1;
    if (store_domains_list(db->st, rule, list, &pats, &n) != STORE_OK)
        n = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(pats[i]) + 1;
    char *out = malloc(len), *o = out;
    if (out) {
        *o = 0;
        for (size_t i = 0; i < n; i++)
            o += sprintf(o, i ? "\n%s" : "%s", pats[i]);
    }
    store_strings_free(pats, n);
    return out;
}

static void rule_from_store(mgr_db *db, const store_rule *s, mgr_rule *r)
{
    memset(r, 0, sizeof *r);
    r->id = s->id;
    snprintf(r->name, sizeof r->name, "%s", s->name);
    r->enabled = s->enabled;
    r->source_instance = s->source_instance;
    snprintf(r->pickup_dir, sizeof r->pickup_dir, "%s", s->pickup_dir);
    r->expired_cert = s->expired_cert;
    r->force_plain = load_list(db, s->name, STORE_LIST_FORCE_PLAIN);
    r->never_redirect = load_list(db, s->name, STORE_LIST_NEVER_REDIRECT);
}

int mgr_rules_list(mgr_db *db, mgr_rule **rules, size_t *count, char *err, size_t errlen)
{
    store_rule *all = NULL;
    size_t n = 0;
    *rules = NULL;
    *count = 0;
    if (store_rule_list(db->st, &all, &n) != STORE_OK)
        return store_fail(db, err, errlen, "read the rules");
    mgr_rule *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        free(all);
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        rule_from_store(db, &all[i], &out[i]);
    free(all);
    *rules = out;
    *count = n;
    return 0;
}

int mgr_rule_get(mgr_db *db, int64_t id, mgr_rule *r, char *err, size_t errlen)
{
    mgr_rule *all;
    size_t n;
    if (mgr_rules_list(db, &all, &n, err, errlen) != 0)
        return -1;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++)
        if (all[i].id == id) {
            *r = all[i];
            memset(&all[i], 0, sizeof all[i]);   /* ownership of the lists moves */
            found = 1;
        }
    mgr_rules_free(all, n);
    if (!found)
        mgr_set_err(err, errlen, "The rule no longer exists; someone may have deleted it. "
                "Refresh the list.");
    return found ? 0 : -1;
}

int mgr_rule_find(mgr_db *db, const char *name, mgr_rule *r, char *err, size_t errlen)
{
    store_rule s;
    store_status rc = store_rule_get(db->st, name, &s);
    if (rc == STORE_ERR_NOT_FOUND)
        return 0;
    if (rc != STORE_OK)
        return store_fail(db, err, errlen, "read the rule");
    rule_from_store(db, &s, r);
    return 1;
}

static int contains(char **list, long n, const char *s)
{
    for (long i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* Makes the stored list equal to text: removes what is gone, adds what is
 * new (the store validates and normalises each pattern). */
static int sync_list(mgr_db *db, const char *rule, store_list list, const char *text,
                     char *err, size_t errlen)
{
    char **want = NULL, **have = NULL;
    size_t nhave = 0;
    domain_list_error e;
    list_parser parse = list == STORE_LIST_FORCE_PLAIN ? domain_force_plain_list_parse
                                                       : domain_list_parse;
    long nwant = parse(text ? text : "", &want, &e);
    if (nwant < 0) {
        mgr_set_err(err, errlen, "Line %lu of the %s list is not valid: %s.", (unsigned long)e.line,
                store_list_name(list), e.reason ? e.reason : "out of memory");
        return -1;
    }
    int rc = 0;
    if (store_domains_list(db->st, rule, list, &have, &nhave) != STORE_OK) {
        rc = store_fail(db, err, errlen, "read the domain list");
    } else {
        const char **gone = calloc(nhave + 1, sizeof *gone), **added = calloc((size_t)nwant + 1, sizeof *added);
        size_t ngone = 0, nadded = 0;
        for (size_t i = 0; gone && i < nhave; i++)
            if (!contains(want, nwant, have[i]))
                gone[ngone++] = have[i];
        for (long i = 0; added && i < nwant; i++)
            if (!contains(have, (long)nhave, want[i]) && !contains((char **)added, (long)nadded, want[i]))
                added[nadded++] = want[i];
        if (!gone || !added)
            rc = -1, mgr_set_err(err, errlen, "Out of memory.");
        else if (ngone && store_domains_remove(db->st, rule, list, gone, ngone) != STORE_OK)
            rc = store_fail(db, err, errlen, "update the domain list");
        else if (nadded && store_domains_add(db->st, rule, list, added, nadded) != STORE_OK)
            rc = store_fail(db, err, errlen, "update the domain list");
        free(gone);
        free(added);
    }
    store_strings_free(have, nhave);
    domain_list_free(want, nwant);
    return rc;
}

static int rename_rule(mgr_db *db, const char *old_name, const char *new_name, char *err,
                       size_t errlen)
{
    store_status rc = store_rule_rename(db->st, old_name, new_name);
    if (rc == STORE_ERR_EXISTS) {
        mgr_set_err(err, errlen, "A rule named \"%s\" already exists. Choose another name.",
                    new_name);
        return -1;
    }
    return rc == STORE_OK ? 0 : store_fail(db, err, errlen, "rename the rule");
}

static int add_rule(mgr_db *db, mgr_rule *r, char *err, size_t errlen)
{
    int64_t id = 0;
    store_status rc = store_rule_add(db->st, r->name, r->pickup_dir, r->source_instance, &id);
    if (rc == STORE_ERR_EXISTS) {
        mgr_set_err(err, errlen, "A rule named \"%s\" already exists. Choose another name.", r->name);
        return -1;
    }
    if (rc != STORE_OK)
        return store_fail(db, err, errlen, "create the rule");
    r->id = id;
    return 0;
}

int mgr_rule_save(mgr_db *db, mgr_rule *r, char *err, size_t errlen)
{
    int is_new = r->id == 0;
    mgr_rule old = { 0 };
    if (!is_new && mgr_rule_get(db, r->id, &old, err, errlen) != 0)
        return -1;
    int rc = is_new ? add_rule(db, r, err, errlen)
           : strcmp(old.name, r->name) != 0 ? rename_rule(db, old.name, r->name, err, errlen) : 0;
    mgr_rule_clear(&old);
    if (rc != 0)
        return -1;
    store_rule_change change;
    store_rule_change_init(&change);
    change.enabled = r->enabled ? 1 : 0;
    change.expired_cert = r->expired_cert ? 1 : 0;
    change.source_instance = r->source_instance;
    change.pickup_dir = r->pickup_dir;
    if (store_rule_update(db->st, r->name, &change) != STORE_OK)
        rc = store_fail(db, err, errlen, "save the rule");
    else if (sync_list(db, r->name, STORE_LIST_FORCE_PLAIN, r->force_plain, err, errlen) != 0
             || sync_list(db, r->name, STORE_LIST_NEVER_REDIRECT, r->never_redirect, err, errlen) != 0)
        rc = -1;
    /* A new rule that could not be completed is not left half made. */
    if (rc != 0 && is_new) {
        store_rule_delete(db->st, r->name);
        r->id = 0;
    }
    return rc;
}

int mgr_rule_delete(mgr_db *db, int64_t id, char *err, size_t errlen)
{
    mgr_rule r = { 0 };
    if (mgr_rule_get(db, id, &r, err, errlen) != 0)
        return -1;
    store_status rc = store_rule_delete(db->st, r.name);
    mgr_rule_clear(&r);
    if (rc != STORE_OK && rc != STORE_ERR_NOT_FOUND)
        return store_fail(db, err, errlen, "delete the rule");
    return 0;
}

/* ---- Settings ---- */

int mgr_log_level_get(mgr_db *db, char *level, size_t len, char *err, size_t errlen)
{
    if (store_setting_get(db->st, "log_level", level, len) != STORE_OK)
        return store_fail(db, err, errlen, "read the log level");
    return 0;
}

int mgr_log_level_set(mgr_db *db, const char *level, char *err, size_t errlen)
{
    if (store_setting_set(db->st, "log_level", level) != STORE_OK)
        return store_fail(db, err, errlen, "change the log level");
    return 0;
}

int mgr_setting_get(mgr_db *db, const char *key, char *value, size_t len, char *err, size_t errlen)
{
    if (store_setting_get(db->st, key, value, len) != STORE_OK)
        return store_fail(db, err, errlen, "read the setting");
    return 0;
}

int mgr_setting_set(mgr_db *db, const char *key, const char *value, char *err, size_t errlen)
{
    const char *why = NULL;
    if (store_setting_check(key, value, &why) != 0) {
        mgr_set_err(err, errlen, "The value \"%s\" for %s was refused: %s.", value, key,
                why ? why : "not valid");
        return -1;
    }
    if (store_setting_set(db->st, key, value) != STORE_OK)
        return store_fail(db, err, errlen, "change the setting");
    return 0;
}

/* ---- Forcing domains plain ---- */

/* The patterns of want that are not on the rule's stored list, as
 * pointers into want. */
static size_t new_patterns(mgr_db *db, int64_t rule_id, char **want, long nwant,
                           const char **added)
{
    char **have = NULL;
    long nhave = 0;
    mgr_rule old = { 0 };
    char err[MGR_ERR_LEN];
    domain_list_error e;
    if (rule_id && mgr_rule_get(db, rule_id, &old, err, sizeof err) == 0)
        nhave = domain_list_parse(old.force_plain ? old.force_plain : "", &have, &e);
    size_t n = 0;
    for (long i = 0; i < nwant; i++)
        if (nhave <= 0 || !contains(have, nhave, want[i]))
            added[n++] = want[i];
    domain_list_free(have, nhave > 0 ? nhave : 0);
    mgr_rule_clear(&old);
    return n;
}

/* The question for the findings in *question, NULL when none needs the
 * admin. 0, or -1 when memory ran out. */
static int review_question(const forceplain_finding *found, long count, char **question)
{
    int policies = 0;
    size_t len = 256;
    for (long i = 0; i < count; i++) {
        policies += found[i].kind == FORCEPLAIN_POLICY;
        len += 2 * GUARD_DETAIL_MAX + 8;
    }
    *question = NULL;
    if (!policies)
        return 0;
    char *q = malloc(len);
    if (!q)
        return -1;
    size_t at = (size_t)snprintf(q, len, "Mail to these domains would go to the Plain TCP "
                                 "server without TLS, against what they publish:\n");
    for (long i = 0; i < count && at < len; i++) {
        char line[2 * GUARD_DETAIL_MAX];
        forceplain_describe(&found[i], line, sizeof line);
        at += (size_t)snprintf(q + at, len - at, "\n%s.", line);
    }
    if (at < len)
        snprintf(q + at, len - at, "\n\nSave the rule anyway?");
    *question = q;
    return 0;
}

int mgr_force_plain_review(const char *db_path, int64_t rule_id, const char *force_plain,
                           char **question, char *err, size_t errlen)
{
    char **want = NULL;
    domain_list_error e;
    mgr_db *db;
    *question = NULL;
    long nwant = domain_list_parse(force_plain ? force_plain : "", &want, &e);
    if (nwant < 0) {
        mgr_set_err(err, errlen, "Line %lu of the force-plain list is not valid: %s.",
                    (unsigned long)e.line, e.reason ? e.reason : "out of memory");
        return -1;
    }
    if (nwant == 0)
        return 0;
    if (mgr_db_open(db_path, &db, err, errlen) != 0) {
        domain_list_free(want, nwant);
        return -1;
    }
    const char **added = calloc((size_t)nwant, sizeof *added);
    forceplain_finding *found = calloc((size_t)nwant, sizeof *found);
    unsigned timeout = (unsigned)store_setting_int(db->st, "guard_timeout_ms", 5000);
    long count = -1;
    if (added && found) {
        size_t n = new_patterns(db, rule_id, want, nwant, added);
        count = forceplain_ask(db_path, NULL, added, n, timeout, found);
    }
    int rc = count < 0 || review_question(found, count, question) != 0 ? -1 : 0;
    if (rc != 0)
        mgr_set_err(err, errlen, "Out of memory.");
    free(added);
    free(found);
    mgr_db_close(db);
    domain_list_free(want, nwant);
    return rc;
}

/* ---- Live figures ---- */

static void ms_text(char *buf, size_t len, uint64_t us)
{
    snprintf(buf, len, "%llu.%03llu ms", (unsigned long long)(us / 1000),
             (unsigned long long)(us % 1000));
}

int mgr_figures_text(mgr_db *db, char *out, size_t len, char *err, size_t errlen)
{
    stats_figures f;
    char why[256], p50[32], p95[32], p99[32], max[32];
    if (stats_read(store_db(db->st), &f, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    uint64_t probes = 0;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        probes += f.probes[i];
    ms_text(p50, sizeof p50, stats_percentile_us(&f, 50));
    ms_text(p95, sizeof p95, stats_percentile_us(&f, 95));
    ms_text(p99, sizeof p99, stats_percentile_us(&f, 99));
    ms_text(max, sizeof max, f.onarrival_max_us);
    snprintf(out, len,
             "%llu messages, %llu recipients, %llu handed off (%llu failed); %llu probes "
             "(%llu shared), %llu refreshed ahead, %llu from the cache\n"
             "OnArrival: p50 %s, p95 %s, p99 %s, longest %s",
             (unsigned long long)f.messages, (unsigned long long)f.recipients,
             (unsigned long long)f.handoffs, (unsigned long long)f.handoff_failures,
             (unsigned long long)probes, (unsigned long long)f.probe_joins,
             (unsigned long long)f.refreshes, (unsigned long long)f.cache_hits, p50, p95, p99,
             max);
    return 0;
}

/* ---- The Plain TCP Server ---- */

static mgr_plain_state backlog_state(const mgr_plain_server *p)
{
    if (p->waiting == 0)
        return MGR_PLAIN_DRAINED;
    return p->oldest_age_ms > PICKUP_UNDRAINED_MS ? MGR_PLAIN_NOT_DRAINED : MGR_PLAIN_PICKING_UP;
}

/* One rule's Plain TCP Server, as its Pickup folder shows it. */
static void read_rule_pickup(const store_rule *r, int64_t now_ms, mgr_plain_server *out)
{
    pickup_backlog backlog;
    memset(out, 0, sizeof *out);
    snprintf(out->rule, sizeof out->rule, "%s", r->name);
    snprintf(out->pickup_dir, sizeof out->pickup_dir, "%s", r->pickup_dir);
    if (pickup_backlog_of(out->pickup_dir, &backlog) != 0) {
        out->state = MGR_PLAIN_UNREADABLE;
        return;
    }
    out->waiting = backlog.count;
    /* A file stamped in the future (a clock set back) has not waited. */
    if (backlog.count && now_ms > backlog.oldest_ms)
        out->oldest_age_ms = now_ms - backlog.oldest_ms;
    out->state = backlog_state(out);
}

/* Which of two states the admin must see first: mail waiting undelivered,
 * then a folder that cannot be read, then mail on its way. */
static int alarm_rank(mgr_plain_state s)
{
    static const int rank[] = { [MGR_PLAIN_NO_RULE] = 0, [MGR_PLAIN_DRAINED] = 1,
                                [MGR_PLAIN_PICKING_UP] = 2, [MGR_PLAIN_UNREADABLE] = 3,
                                [MGR_PLAIN_NOT_DRAINED] = 4 };
    return rank[s];
}

int mgr_plain_server_read(mgr_db *db, int64_t now_ms, mgr_plain_server *out, char *err,
                          size_t errlen)
{
    store_rule *rules = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    out->state = MGR_PLAIN_NO_RULE;
    if (store_rule_list(db->st, &rules, &n) != STORE_OK)
        return store_fail(db, err, errlen, "read the rules");
    /* Every enabled rule has a Plain TCP Server of its own: the one in the
     * worst state is shown. */
    for (size_t i = 0; i < n; i++) {
        mgr_plain_server one;
        if (!rules[i].enabled)
            continue;
        read_rule_pickup(&rules[i], now_ms, &one);
        if (alarm_rank(one.state) > alarm_rank(out->state))
            *out = one;
    }
    free(rules);
    return 0;
}
