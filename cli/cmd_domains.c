/* tlsrouter domains add|remove NAME force-plain|never-redirect PATTERN... */
#include <string.h>

#include "cli.h"

int cmd_domains(cli_ctx *ctx, int argc, char **argv)
{
    store_list list;
    int add = argc >= 1 && cli_is(argv[0], "add");
    if (argc < 4 || (!add && !cli_is(argv[0], "remove")))
        return cli_error(CLI_USAGE,
                         "usage: domains add|remove NAME force-plain|never-redirect PATTERN...");
    if (store_list_parse(argv[2], &list) != 0)
        return cli_error(CLI_USAGE, "unknown list '%s': use force-plain or never-redirect",
                         argv[2]);
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    const char *const *patterns = (const char *const *)(argv + 3);
    size_t count = (size_t)(argc - 3);
    store_status r = add ? store_domains_add(st, argv[1], list, patterns, count)
                         : store_domains_remove(st, argv[1], list, patterns, count);
    return r == STORE_OK ? CLI_OK : cli_store_error(ctx, r);
}
