/* tlsrouter loglevel [LEVEL]: print or set the log level setting. */
#include "cli.h"

int cmd_loglevel(cli_ctx *ctx, int argc, char **argv)
{
    char level[32];
    if (argc > 1)
        return cli_error(CLI_USAGE, "usage: loglevel [error|warning|info|debug|full-debug]");
    if (argc == 1 && store_log_level_parse(argv[0]) < 0)
        return cli_error(CLI_USAGE,
                         "unknown log level '%s': use error, warning, info, debug or full-debug",
                         argv[0]);
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    store_status r = argc == 1 ? store_setting_set(st, "log_level", argv[0])
                               : store_setting_get(st, "log_level", level, sizeof level);
    if (r != STORE_OK)
        return cli_store_error(ctx, r);
    if (argc == 0)
        fprintf(ctx->out, "%s\n", level);
    return CLI_OK;
}
