/* mgr_preview: the rule dialog's Preview, over core/journal_replay.h; and
 * the words the dialog shows for it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "journal_replay.h"
#include "mgr_priv.h"

/* One list as typed: parsed and normalised, or -1 with the bad line in err. */
static long parse_list(const char *text, int force_plain, char ***patterns, char *err,
                       size_t errlen)
{
    domain_list_error e;
    long n = force_plain ? domain_force_plain_list_parse(text ? text : "", patterns, &e)
                         : domain_list_parse(text ? text : "", patterns, &e);
    if (n < 0)
        mgr_set_err(err, errlen, "Line %lu of the %s list is not valid: %s.",
                    (unsigned long)e.line, force_plain ? "force-plain" : "never-redirect",
                    e.reason ? e.reason : "out of memory");
    return n;
}

static int copy_report(const replay_report *r, int days, mgr_preview *out)
{
    out->days = days;
    out->looked_at = r->looked_at;
    out->changed = r->changed;
    out->not_replayable = r->not_replayable;
    out->unattributed = r->unattributed;
    out->unattributed_replayed = r->unattributed_replayed;
    if (r->n_domains == 0)
        return 0;
    out->domains = calloc(r->n_domains, sizeof *out->domains);
    if (!out->domains)
        return -1;
    for (size_t i = 0; i < r->n_domains; i++) {
        mgr_preview_domain *d = &out->domains[i];
        snprintf(d->domain, sizeof d->domain, "%s", r->domains[i].domain);
        snprintf(d->old_route, sizeof d->old_route, "%s",
                 decide_route_name(r->domains[i].old_route));
        snprintf(d->new_route, sizeof d->new_route, "%s",
                 decide_route_name(r->domains[i].new_route));
        d->count = r->domains[i].count;
    }
    out->n_domains = r->n_domains;
    return 0;
}

static int replay_lists(const char *db_path, const mgr_rule *edited, char **fp, long n_fp,
                        char **nr, long n_nr, int days, mgr_preview *out, char *err,
                        size_t errlen)
{
    replay_rule rule;
    replay_report report;
    mgr_db *db;
    char why[MGR_ERR_LEN];
    if (mgr_db_open(db_path, &db, err, errlen) != 0)
        return -1;
    replay_scope scope;
    if (replay_scope_of(db->st, edited->id, edited->source_instance, &scope) != 0) {
        mgr_set_err(err, errlen, "Could not read the rules: %s.", store_error(db->st));
        mgr_db_close(db);
        return -1;
    }
    int rc = replay_rule_init(&rule, edited->expired_cert, (const char *const *)fp,
                              (size_t)n_fp, (const char *const *)nr, (size_t)n_nr);
    if (rc != 0) {
        mgr_set_err(err, errlen, "Out of memory.");
    } else {
        rc = journal_replay(db->sql, &rule.rule, &scope, replay_since_ms(plat_wall_ms(), days),
                            &report, why, sizeof why);
        if (rc != 0) {
            mgr_set_err(err, errlen, "Could not read the journal: %s.", why);
        } else {
            if ((rc = copy_report(&report, days, out)) != 0)
                mgr_set_err(err, errlen, "Out of memory.");
            replay_report_free(&report);
        }
        replay_rule_free(&rule);
    }
    mgr_db_close(db);
    return rc;
}

int mgr_rule_preview(const char *db_path, const mgr_rule *edited, int days, mgr_preview *out,
                     char *err, size_t errlen)
{
    char **fp = NULL, **nr = NULL;
    memset(out, 0, sizeof *out);
    if (days < 1 || days > REPLAY_MAX_DAYS) {
        mgr_set_err(err, errlen, "The preview covers 1 to %d days, not %d.", REPLAY_MAX_DAYS,
                    days);
        return -1;
    }
    long n_fp = parse_list(edited->force_plain, 1, &fp, err, errlen);
    long n_nr = n_fp < 0 ? -1 : parse_list(edited->never_redirect, 0, &nr, err, errlen);
    int rc = -1;
    if (n_fp >= 0 && n_nr >= 0)
        rc = replay_lists(db_path, edited, fp, n_fp, nr, n_nr, days, out, err, errlen);
    if (n_fp > 0)
        domain_list_free(fp, n_fp);
    if (n_nr > 0)
        domain_list_free(nr, n_nr);
    if (rc != 0)
        mgr_preview_free(out);
    return rc;
}

void mgr_preview_free(mgr_preview *p)
{
    free(p->domains);
    memset(p, 0, sizeof *p);
}

/* ---- words ---------------------------------------------------------------- */

typedef struct {
    char *out;
    size_t len, used;
} text_buf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void add(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->used + 1 >= b->len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(b->out + b->used, b->len - b->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->used += (size_t)n < b->len - b->used ? (size_t)n : b->len - b->used - 1;
}

static const char *route_word(const char *route)
{
    return strcmp(route, "plain") == 0 ? "Plain" : "TLS";
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* Rows older than the upgrade that began recording the virtual server. */
static void add_unattributed(text_buf *b, const mgr_preview *p)
{
    unsigned long n = (unsigned long)p->unattributed;
    const char *were = n == 1 ? "was" : "were";
    if (!n)
        return;
    if (!p->unattributed_replayed)
        add(b, "\n\n%lu recipient%s journalled before the router recorded the virtual server "
               "%s left out: another virtual server has a rule, so %s be its.", n, plural(n),
            n == 1 ? "is" : "are", n == 1 ? "it may" : "they may");
    else if (p->unattributed == p->looked_at)
        add(b, "\n\n%s%lu recipient%s %s journalled before the router recorded the virtual "
               "server; no other virtual server has a rule, so %s counted as this rule's.",
            n == 1 ? "The " : "All ", n, plural(n), were, n == 1 ? "it is" : "they are");
    else
        add(b, "\n\n%lu of the %lu recipients %s journalled before the router recorded the "
               "virtual server; no other virtual server has a rule, so %s counted as this "
               "rule's.", n, (unsigned long)p->looked_at, were, n == 1 ? "it is" : "they are");
}

static void add_summary(text_buf *b, const mgr_preview *p)
{
    if (p->looked_at == 0) {
        add(b, "The journal holds no recipient of this virtual server in the last %d day%s: "
               "there is nothing to replay.", p->days, plural((size_t)p->days));
        add_unattributed(b, p);
        return;
    }
    add(b, "Over the last %d day%s, %lu of %lu recipient%s would have taken another route "
           "with this rule.", p->days, plural((size_t)p->days), (unsigned long)p->changed,
        (unsigned long)p->looked_at, plural(p->looked_at));
    if (p->not_replayable)
        add(b, "\n\n%lu recipient%s could not be replayed: the journal lacks a fact their "
               "decision would need (a probe or a policy look-up that never ran). They keep "
               "their route.", (unsigned long)p->not_replayable, plural(p->not_replayable));
    add_unattributed(b, p);
}

void mgr_preview_text(const mgr_preview *p, size_t max_domains, char *out, size_t len)
{
    text_buf b = { out, len, 0 };
    if (!len)
        return;
    out[0] = '\0';
    add_summary(&b, p);
    if (p->n_domains)
        add(&b, "\n");
    for (size_t i = 0; i < p->n_domains && i < max_domains; i++)
        add(&b, "\n%s: %s -> %s (%lu)", p->domains[i].domain, route_word(p->domains[i].old_route),
            route_word(p->domains[i].new_route), (unsigned long)p->domains[i].count);
    if (p->n_domains > max_domains)
        add(&b, "\n... and %lu more domain%s.", (unsigned long)(p->n_domains - max_domains),
            plural(p->n_domains - max_domains));
    add(&b, "\n\nNothing has been saved.");
}

size_t mgr_list_entries(const char *text)
{
    size_t n = 0;
    int blank = 1;
    for (const char *c = text ? text : ""; ; c++) {
        if (*c == '\n' || *c == '\0') {
            n += !blank;
            blank = 1;
            if (!*c)
                return n;
        } else if (*c != ' ' && *c != '\t' && *c != '\r') {
            blank = 0;
        }
    }
}
