/* tlsrouter whatif: what a rule edit would have changed, replaying the
 * journal's recent decisions (core/journal_replay.h) before the edit is
 * made. Nothing is written. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "journal_replay.h"
#include "json.h"
#include "plat.h"

#define WHATIF_USAGE                                                                       \
    "usage: whatif RULE [--force-plain P]... [--never-redirect P]... [--expired-cert on|off] " \
    "[--since DAYS] [--json]"

typedef struct {
    const char *rule;
    const char **force_plain, **never_redirect;   /* room for argc each */
    replay_edit edit;
    int days;
    int json;
} whatif_args;

static int parse_days(const char *text, int *days)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < 1 || n > REPLAY_MAX_DAYS)
        return cli_error(CLI_USAGE, "--since: '%s' is not a number of days from 1 to %d", text,
                         REPLAY_MAX_DAYS);
    *days = (int)n;
    return CLI_OK;
}

/* One option with its value at argv[i + 1]. */
static int parse_option(whatif_args *a, const char *opt, const char *value)
{
    replay_edit *e = &a->edit;
    if (cli_is(opt, "--force-plain")) {
        a->force_plain[e->n_force_plain++] = value;
        e->force_plain_given = 1;
    } else if (cli_is(opt, "--never-redirect")) {
        a->never_redirect[e->n_never_redirect++] = value;
        e->never_redirect_given = 1;
    } else if (cli_is(opt, "--expired-cert")) {
        if ((e->expired_cert = cli_parse_onoff(value)) < 0)
            return cli_error(CLI_USAGE, "--expired-cert: expected on or off, not '%s'", value);
    } else if (cli_is(opt, "--since")) {
        return parse_days(value, &a->days);
    } else {
        return cli_error(CLI_USAGE, "whatif: unknown option %s", opt);
    }
    return CLI_OK;
}

static int parse_args(whatif_args *a, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return cli_error(CLI_USAGE, WHATIF_USAGE);
    a->rule = argv[0];
    for (int i = 1; i < argc; i++) {
        if (cli_is(argv[i], "--json")) {
            a->json = 1;
            continue;
        }
        if (i + 1 >= argc)
            return cli_error(CLI_USAGE, "%s needs a value", argv[i]);
        int rc = parse_option(a, argv[i], argv[i + 1]);
        if (rc != CLI_OK)
            return rc;
        i++;
    }
    a->edit.force_plain = a->force_plain;
    a->edit.never_redirect = a->never_redirect;
    return CLI_OK;
}

static void print_json(FILE *out, const replay_report *r, int days)
{
    json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    json_key(&w, "changed");
    json_int(&w, (int64_t)r->changed);
    json_key(&w, "looked_at");
    json_int(&w, (int64_t)r->looked_at);
    json_key(&w, "not_replayable");
    json_int(&w, (int64_t)r->not_replayable);
    json_key(&w, "since_days");
    json_int(&w, days);
    json_key(&w, "source_instance");
    json_int(&w, r->source_instance);
    json_key(&w, "unattributed");
    json_int(&w, (int64_t)r->unattributed);
    json_key(&w, "unattributed_replayed");
    json_bool(&w, r->unattributed_replayed);
    json_key(&w, "domains");
    json_array_begin(&w);
    for (size_t i = 0; i < r->n_domains; i++) {
        const replay_change *c = &r->domains[i];
        json_object_begin(&w);
        json_key(&w, "domain");
        json_string(&w, c->domain);
        json_key(&w, "old");
        json_string(&w, decide_route_name(c->old_route));
        json_key(&w, "new");
        json_string(&w, decide_route_name(c->new_route));
        json_key(&w, "count");
        json_int(&w, (int64_t)c->count);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);  /* the writer ends the document with a newline */
}

/* Rows older than the upgrade that began recording the virtual server. */
static void print_unattributed(FILE *out, const replay_report *r)
{
    unsigned long n = (unsigned long)r->unattributed;
    const char *they = n == 1 ? "it" : "they";
    if (n == 0)
        return;
    if (!r->unattributed_replayed)
        fprintf(out, "Note: %lu recipient%s journalled before the router recorded the virtual "
                     "server %s left out: another virtual server has a rule, so %s may be "
                     "its.\n", n, n == 1 ? "" : "s", n == 1 ? "is" : "are", they);
    else if (r->unattributed == r->looked_at)
        fprintf(out, "Note: %s journalled before the router recorded the virtual server; no "
                     "other virtual server has a rule, so %s count%s as this rule's.\n",
                n == 1 ? "it was" : "all of them were", they, n == 1 ? "s" : "");
    else
        fprintf(out, "Note: %lu of them %s journalled before the router recorded the virtual "
                     "server; no other virtual server has a rule, so %s count%s as this "
                     "rule's.\n", n, n == 1 ? "was" : "were", they, n == 1 ? "s" : "");
}

static void print_text(FILE *out, const char *rule, const replay_report *r, int days)
{
    unsigned long looked = (unsigned long)r->looked_at;
    fprintf(out, "Rule '%s' (virtual server %d), last %d day%s: %lu recipient%s looked at, "
                 "%lu would change route", rule, r->source_instance, days, days == 1 ? "" : "s",
            looked, looked == 1 ? "" : "s", (unsigned long)r->changed);
    if (r->not_replayable)
        fprintf(out, ", %lu not replayable (the journal lacks a fact their decision would "
                     "need: they keep their route)", (unsigned long)r->not_replayable);
    fputs(".\n", out);
    print_unattributed(out, r);
    if (r->n_domains == 0)
        return;
    fprintf(out, "\n%-40s %-6s %-6s %s\n", "DOMAIN", "OLD", "NEW", "RECIPIENTS");
    for (size_t i = 0; i < r->n_domains; i++)
        fprintf(out, "%-40s %-6s %-6s %lu\n", r->domains[i].domain,
                decide_route_name(r->domains[i].old_route),
                decide_route_name(r->domains[i].new_route), (unsigned long)r->domains[i].count);
}

static int run(cli_ctx *ctx, whatif_args *a)
{
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    replay_report report;
    char err[512];
    store_status r = journal_replay_rule(st, a->rule, &a->edit,
                                         replay_since_ms(plat_wall_ms(), a->days), &report,
                                         err, sizeof err);
    if (r != STORE_OK) {
        int usage = r == STORE_ERR_INVALID || r == STORE_ERR_NOT_FOUND;
        return cli_error(usage ? CLI_USAGE : CLI_FAIL, "%s", err);
    }
    if (a->json)
        print_json(ctx->out, &report, a->days);
    else
        print_text(ctx->out, a->rule, &report, a->days);
    replay_report_free(&report);
    return CLI_OK;
}

int cmd_whatif(cli_ctx *ctx, int argc, char **argv)
{
    whatif_args a = { .days = REPLAY_DEFAULT_DAYS };
    replay_edit_init(&a.edit);
    a.force_plain = calloc((size_t)argc + 1, sizeof *a.force_plain);
    a.never_redirect = calloc((size_t)argc + 1, sizeof *a.never_redirect);
    int rc = !a.force_plain || !a.never_redirect ? cli_error(CLI_FAIL, "out of memory")
                                                 : parse_args(&a, argc, argv);
    if (rc == CLI_OK)
        rc = run(ctx, &a);
    free(a.force_plain);
    free(a.never_redirect);
    return rc;
}
