/* tlsrouter domains add|remove NAME force-plain|never-redirect PATTERN...
 * [--force]. A force-plain list beats the no-downgrade guards, so before
 * domains go on one they are asked for MTA-STS and DANE (forceplain.h):
 * one that publishes either is added only with --force. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "forceplain.h"

#define DOMAINS_USAGE "usage: domains add|remove NAME force-plain|never-redirect PATTERN... [--force]"

/* The look-ups' deadline: --timeout, else the guards' own setting. */
static unsigned ask_timeout_ms(const cli_ctx *ctx, store *st)
{
    if (ctx->timeout_ms > 0)
        return (unsigned)ctx->timeout_ms;
    return (unsigned)store_setting_int(st, "guard_timeout_ms", 5000);
}

/* Warns on stderr about each finding. 0 when the patterns may be added,
 * else the exit status (nothing added). */
static int ask_before_forcing(cli_ctx *ctx, store *st, const char *const *patterns, size_t n)
{
    forceplain_finding *found = calloc(n, sizeof *found);
    long count = found ? forceplain_ask(ctx->db_path, ctx->dns, patterns, n,
                                        ask_timeout_ms(ctx, st), found)
                       : -1;
    int policies = 0;
    for (long i = 0; i < count; i++) {
        char text[2 * GUARD_DETAIL_MAX];
        forceplain_describe(&found[i], text, sizeof text);
        cli_error(CLI_OK, "%s: %s", found[i].kind == FORCEPLAIN_POLICY ? "warning" : "note", text);
        policies += found[i].kind == FORCEPLAIN_POLICY;
    }
    free(found);
    if (count < 0)
        return cli_error(CLI_FAIL, "out of memory while asking the domains; nothing added");
    if (policies)
        return cli_error(CLI_USAGE, "nothing added; add --force to put %s on the force-plain "
                         "list anyway", policies == 1 ? "it" : "them");
    return 0;
}

int cmd_domains(cli_ctx *ctx, int argc, char **argv)
{
    store_list list;
    int add = argc >= 1 && cli_is(argv[0], "add"), force = 0;
    /* --force may come anywhere after the list; a pattern never starts with '-'. */
    for (int i = 3; i < argc; i++)
        if (cli_is(argv[i], "--force")) {
            force = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof *argv);
            argc--;
            i--;
        }
    if (argc < 4 || (!add && !cli_is(argv[0], "remove")) || (force && !add))
        return cli_error(CLI_USAGE, DOMAINS_USAGE);
    if (store_list_parse(argv[2], &list) != 0)
        return cli_error(CLI_USAGE, "unknown list '%s': use force-plain or never-redirect",
                         argv[2]);
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    const char *const *patterns = (const char *const *)(argv + 3);
    size_t count = (size_t)(argc - 3);
    store_rule rule;
    store_status r = store_rule_get(st, argv[1], &rule);
    if (r == STORE_OK && add)
        r = store_domains_check(st, list, patterns, count);
    if (r != STORE_OK)
        return cli_store_error(ctx, r);
    if (add && list == STORE_LIST_FORCE_PLAIN && !force) {
        int refused = ask_before_forcing(ctx, st, patterns, count);
        if (refused)
            return refused;
    }
    r = add ? store_domains_add(st, argv[1], list, patterns, count)
            : store_domains_remove(st, argv[1], list, patterns, count);
    return r == STORE_OK ? CLI_OK : cli_store_error(ctx, r);
}
