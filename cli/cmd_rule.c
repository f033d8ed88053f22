/* tlsrouter rule add|set|list */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "pickup.h"

static int parse_source(const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > STORE_SOURCE_MAX)
        return -1;
    *out = (int)n;
    return 0;
}

/* The source virtual server's own Pickup folder as destination would hand
 * every message straight back to the server it came from. Refused where
 * IIS says where that folder is (Windows); elsewhere nobody knows it and
 * nothing is refused. */
static int check_not_source_pickup(int source, const char *pickup)
{
    char own[PLAT_PATH_MAX], why[PLAT_PATH_MAX + 256];
    if (cli_source_pickup(source, own, sizeof own) != 0)
        return CLI_OK;
    if (pickup_check_destination(pickup, own, source, why, sizeof why) != 0)
        return cli_error(CLI_USAGE, "--pickup: %s", why);
    return CLI_OK;
}

static int rule_add(cli_ctx *ctx, int argc, char **argv)
{
    const char *pickup = NULL;
    int source = 1;
    if (argc < 1 || argv[0][0] == '-')
        return cli_error(CLI_USAGE, "usage: rule add NAME --pickup DIR [--source N]");
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return cli_error(CLI_USAGE, "%s needs a value", argv[i]);
        if (cli_is(argv[i], "--pickup"))
            pickup = argv[i + 1];
        else if (!cli_is(argv[i], "--source"))
            return cli_error(CLI_USAGE, "rule add: unknown option %s", argv[i]);
        else if (parse_source(argv[i + 1], &source) != 0)
            return cli_error(CLI_USAGE, "--source: '%s' is not a virtual server number (1-%d)",
                             argv[i + 1], STORE_SOURCE_MAX);
    }
    if (!pickup)
        return cli_error(CLI_USAGE, "rule add needs --pickup DIR");
    int rc = check_not_source_pickup(source, pickup);
    if (rc != CLI_OK)
        return rc;
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    store_status r = store_rule_add(st, argv[0], pickup, source, NULL);
    return r == STORE_OK ? CLI_OK : cli_store_error(ctx, r);
}

static int onoff_option(const char *opt, const char *v, int *out)
{
    *out = cli_parse_onoff(v);
    if (*out < 0)
        return cli_error(CLI_USAGE, "%s: expected on or off, not '%s'", opt, v);
    return CLI_OK;
}

static int rule_set(cli_ctx *ctx, int argc, char **argv)
{
    store_rule_change change;
    store_rule_change_init(&change);
    if (argc < 2 || argv[0][0] == '-')
        return cli_error(CLI_USAGE, "usage: rule set NAME [--expired-cert on|off] "
                                    "[--enabled on|off] [--pickup DIR]");
    for (int i = 1; i < argc; i += 2) {
        int rc = CLI_OK;
        if (i + 1 >= argc)
            return cli_error(CLI_USAGE, "%s needs a value", argv[i]);
        if (cli_is(argv[i], "--expired-cert"))
            rc = onoff_option(argv[i], argv[i + 1], &change.expired_cert);
        else if (cli_is(argv[i], "--enabled"))
            rc = onoff_option(argv[i], argv[i + 1], &change.enabled);
        else if (cli_is(argv[i], "--pickup"))
            change.pickup_dir = argv[i + 1];
        else
            rc = cli_error(CLI_USAGE, "rule set: unknown option %s", argv[i]);
        if (rc != CLI_OK)
            return rc;
    }
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    store_rule current;
    if (change.pickup_dir && store_rule_get(st, argv[0], &current) == STORE_OK) {
        int rc = check_not_source_pickup(current.source_instance, change.pickup_dir);
        if (rc != CLI_OK)
            return rc;
    }
    store_status r = store_rule_update(st, argv[0], &change);
    return r == STORE_OK ? CLI_OK : cli_store_error(ctx, r);
}

typedef struct {
    char **items;
    size_t count;
} pattern_list;

/* Both lists of one rule; 0 or a store status. */
static store_status load_lists(store *st, const char *rule, pattern_list lists[2])
{
    store_status r = store_domains_list(st, rule, STORE_LIST_FORCE_PLAIN,
                                        &lists[0].items, &lists[0].count);
    if (r == STORE_OK) {
        r = store_domains_list(st, rule, STORE_LIST_NEVER_REDIRECT, &lists[1].items,
                               &lists[1].count);
        if (r != STORE_OK)
            store_strings_free(lists[0].items, lists[0].count);
    }
    return r;
}

static void print_json_rule(json_writer *w, const store_rule *r, const pattern_list lists[2])
{
    static const char *const keys[2] = { "force_plain", "never_redirect" };
    json_object_begin(w);
    json_key(w, "name");
    json_string(w, r->name);
    json_key(w, "enabled");
    json_bool(w, r->enabled != 0);
    json_key(w, "source");
    json_int(w, r->source_instance);
    json_key(w, "pickup");
    json_string(w, r->pickup_dir);
    json_key(w, "expired_cert");
    json_bool(w, r->expired_cert != 0);
    for (int l = 0; l < 2; l++) {
        json_key(w, keys[l]);
        json_array_begin(w);
        for (size_t i = 0; i < lists[l].count; i++)
            json_string(w, lists[l].items[i]);
        json_array_end(w);
    }
    json_object_end(w);
}

static void print_list_line(FILE *out, const char *label, const pattern_list *l)
{
    fprintf(out, "  %-16s", label);
    if (l->count == 0)
        fputs("(none)", out);
    for (size_t i = 0; i < l->count; i++)
        fprintf(out, "%s%s", i ? ", " : "", l->items[i]);
    fputc('\n', out);
}

static void print_text_rule(FILE *out, const store_rule *r, const pattern_list lists[2])
{
    fprintf(out, "%-20s %-8s %-7d %-13s %s\n", r->name, r->enabled ? "on" : "off",
            r->source_instance, r->expired_cert ? "on" : "off", r->pickup_dir);
    print_list_line(out, "force-plain:", &lists[0]);
    print_list_line(out, "never-redirect:", &lists[1]);
}

static int rule_list(cli_ctx *ctx, int argc, char **argv)
{
    int as_json = 0;
    store_rule *rules = NULL;
    size_t count = 0;
    for (int i = 0; i < argc; i++) {
        if (!cli_is(argv[i], "--json"))
            return cli_error(CLI_USAGE, "usage: rule list [--json]");
        as_json = 1;
    }
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    store_status r = store_rule_list(st, &rules, &count);
    if (r != STORE_OK)
        return cli_store_error(ctx, r);
    json_writer w;
    json_init(&w, ctx->out);
    if (as_json)
        json_array_begin(&w);
    else if (count == 0)
        fputs("no rules\n", ctx->out);
    else
        fprintf(ctx->out, "%-20s %-8s %-7s %-13s %s\n", "NAME", "ENABLED", "SOURCE",
                "EXPIRED-CERT", "PICKUP");
    for (size_t i = 0; r == STORE_OK && i < count; i++) {
        pattern_list lists[2];
        r = load_lists(st, rules[i].name, lists);
        if (r != STORE_OK)
            break;
        if (as_json)
            print_json_rule(&w, &rules[i], lists);
        else
            print_text_rule(ctx->out, &rules[i], lists);
        store_strings_free(lists[0].items, lists[0].count);
        store_strings_free(lists[1].items, lists[1].count);
    }
    free(rules);
    if (r != STORE_OK)
        return cli_store_error(ctx, r);
    if (as_json)
        json_array_end(&w);
    return CLI_OK;
}

int cmd_rule(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 1 && cli_is(argv[0], "add"))
        return rule_add(ctx, argc - 1, argv + 1);
    if (argc >= 1 && cli_is(argv[0], "set"))
        return rule_set(ctx, argc - 1, argv + 1);
    if (argc >= 1 && cli_is(argv[0], "list"))
        return rule_list(ctx, argc - 1, argv + 1);
    return cli_error(CLI_USAGE, "usage: rule add|set|list ... (see tlsrouter --help)");
}
