/* tlsrouter config [KEY [VALUE]]: every setting of DESIGN.md (DNS servers,
 * probe port, deadlines, TLS floor, TTLs, retention) printed, read or set.
 * Values are checked by the store, so the CLI refuses what the manager
 * refuses. */
#include <string.h>

#include "cli.h"

static int print_setting(cli_ctx *ctx, store *st, const char *key, int with_key)
{
    char value[512];
    store_status r = store_setting_get(st, key, value, sizeof value);
    if (r != STORE_OK)
        return cli_store_error(ctx, r);
    if (with_key)
        fprintf(ctx->out, "%-22s %s\n", key, value);
    else
        fprintf(ctx->out, "%s\n", value);
    return CLI_OK;
}

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
    const char *why = NULL;
    if (argc > 2)
        return cli_error(CLI_USAGE, "usage: config [KEY [VALUE]]");
    if (argc == 2 && store_setting_check(argv[0], argv[1], &why) != 0)
        return cli_error(CLI_USAGE, "cannot set %s to '%s': %s", argv[0], argv[1], why);
    if (argc == 1 && store_setting_check(argv[0], NULL, &why) != 0 && strcmp(why, "unknown setting") == 0)
        return cli_error(CLI_USAGE, "unknown setting '%s' (tlsrouter config lists them)", argv[0]);
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    if (argc == 2) {
        store_status r = store_setting_set(st, argv[0], argv[1]);
        return r == STORE_OK ? CLI_OK : cli_store_error(ctx, r);
    }
    if (argc == 1)
        return print_setting(ctx, st, argv[0], 0);
    for (size_t i = 0; store_setting_key(i); i++) {
        int rc = print_setting(ctx, st, store_setting_key(i), 1);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}
