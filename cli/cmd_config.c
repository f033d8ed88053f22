/* tlsrouter config [KEY [VALUE]] | config --help [KEY]: every setting of
 * settings.h (DNS servers, probe port, deadlines, TLS floor, TTLs,
 * retention, guards) printed, read or set, or explained. Values are checked
 * by the store, so the CLI refuses what the manager refuses. */
#include <string.h>

#include "cli.h"

#define HELP_WIDTH 78
#define HELP_INDENT 2

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

static void print_help(cli_ctx *ctx, const setting_def *d)
{
    char allowed[256], line[512];
    setting_allowed_text(d, allowed, sizeof allowed);
    fprintf(ctx->out, "%s (%s)\n", d->key, d->label);
    cli_print_wrapped(ctx->out, HELP_INDENT, HELP_WIDTH, d->help);
    snprintf(line, sizeof line, "Allowed: %s. Default: %s.", allowed,
             d->default_value[0] ? d->default_value : "empty");
    cli_print_wrapped(ctx->out, HELP_INDENT, HELP_WIDTH, line);
}

static int cmd_config_help(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 1)
        return cli_error(CLI_USAGE, "usage: config --help [KEY]");
    if (argc == 1) {
        const setting_def *d = setting_find(argv[0]);
        if (!d)
            return cli_error(CLI_USAGE, "unknown setting '%s' (tlsrouter config lists them)",
                             argv[0]);
        print_help(ctx, d);
        return CLI_OK;
    }
    for (size_t i = 0; setting_at(i); i++) {
        if (i > 0)
            fputc('\n', ctx->out);
        print_help(ctx, setting_at(i));
    }
    return CLI_OK;
}

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
    const char *why = NULL;
    if (argc >= 1 && cli_is(argv[0], "--help"))
        return cmd_config_help(ctx, argc - 1, argv + 1);
    if (argc > 2)
        return cli_error(CLI_USAGE, "usage: config [KEY [VALUE]] | config --help [KEY]");
    if (argc == 2 && store_setting_check(argv[0], argv[1], &why) != 0)
        return cli_error(CLI_USAGE, "cannot set %s to '%s': %s", argv[0], argv[1], why);
    if (argc == 1 && !setting_find(argv[0]))
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
    for (size_t i = 0; setting_at(i); i++) {
        int rc = print_setting(ctx, st, setting_at(i)->key, 1);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}
