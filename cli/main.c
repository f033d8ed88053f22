/* tlsrouter: global options, then one command from the table. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmdline.h"

typedef struct {
    const char *name;
    int (*run)(cli_ctx *ctx, int argc, char **argv);
    const char *usage;
} cli_command;

static const cli_command commands[] = {
#define CLI_COMMAND(name, usage) { #name, cmd_##name, usage },
#include "commands.h"
#undef CLI_COMMAND
};
enum { COMMAND_COUNT = sizeof commands / sizeof commands[0] };

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("tlsrouter: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_parse_onoff(const char *v)
{
    if (v && strcmp(v, "on") == 0)
        return 1;
    if (v && strcmp(v, "off") == 0)
        return 0;
    return -1;
}

int cli_is(const char *arg, const char *opt) { return strcmp(arg, opt) == 0; }

int cli_store_error(cli_ctx *ctx, store_status st)
{
    int code = (st == STORE_ERR_INVALID || st == STORE_ERR_NOT_FOUND || st == STORE_ERR_EXISTS)
                   ? CLI_USAGE
                   : CLI_FAIL;
    return cli_error(code, "%s", ctx->st ? store_error(ctx->st) : "database error");
}

/* Create the default data folder and its missing parents; only ever for the
 * platform default, never for a path the user named. */
static void make_parent_dirs(const char *path)
{
    char dir[PLAT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/' && *p != '\\')
            continue;
        char sep = *p;
        *p = '\0';
        if (!plat_is_dir(dir))
            plat_mkdir(dir);
        *p = sep;
    }
}

store *cli_store(cli_ctx *ctx)
{
    char err[PLAT_PATH_MAX + 256];
    if (ctx->st)
        return ctx->st;
    if (ctx->db_is_default)
        make_parent_dirs(ctx->db_path);
    if (store_open(ctx->db_path, &ctx->st, err, sizeof err) != STORE_OK) {
        cli_error(CLI_FAIL, "%s", err);
        ctx->st = NULL;
    }
    return ctx->st;
}

static void usage(FILE *f)
{
    fputs("usage: tlsrouter [--db PATH] [--dns HOST[:PORT][,...]] [--timeout SECONDS] COMMAND\n", f);
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fputs("  tlsrouter --help | --version\n"
          "exit status: 0 done, 1 operational failure, 2 bad usage or input\n", f);
}

/* --timeout SECONDS: whole or decimal seconds, more than 0, at most an hour. */
static int parse_timeout(const char *v, long *ms)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || !(s > 0.0) || s > 3600.0)
        return -1;
    *ms = (long)(s * 1000.0 + 0.5);
    return *ms > 0 ? 0 : -1;
}

/* Parse the global options. Returns -1 when a command follows at argv[*cmd],
 * else the exit status to end with at once (--help, --version, errors). */
static int parse_globals(cli_ctx *ctx, int argc, char **argv, int *cmd)
{
    const char *db = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *opt = argv[i];
        if (cli_is(opt, "--help") || cli_is(opt, "-h")) {
            usage(stdout);
            return CLI_OK;
        }
        if (cli_is(opt, "--version")) {
            printf("tlsrouter %s\n", TLSROUTER_VERSION);
            return CLI_OK;
        }
        if (!cli_is(opt, "--db") && !cli_is(opt, "--dns") && !cli_is(opt, "--timeout"))
            return cli_error(CLI_USAGE, "unknown option %s (see tlsrouter --help)", opt);
        if (i + 1 >= argc)
            return cli_error(CLI_USAGE, "%s needs a value", opt);
        const char *val = argv[++i];
        if (cli_is(opt, "--db")) {
            db = val;
        } else if (cli_is(opt, "--dns")) {
            const char *why;
            if (!*val || store_setting_check("dns_servers", val, &why) != 0)
                return cli_error(CLI_USAGE, "--dns: '%s' is not HOST[:PORT][,...]", val);
            ctx->dns = val;
        } else if (parse_timeout(val, &ctx->timeout_ms) != 0) {
            return cli_error(CLI_USAGE, "--timeout: '%s' is not a number of seconds (0 < s <= 3600)", val);
        }
    }
    if (db && (!*db || strlen(db) >= sizeof ctx->db_path)) {
        return cli_error(CLI_USAGE, "--db needs a path of 1 to %d characters", PLAT_PATH_MAX - 1);
    } else if (db) {
        snprintf(ctx->db_path, sizeof ctx->db_path, "%s", db);
    } else {
        const char *env = getenv("TLSROUTER_DB");
        if (plat_default_db_path(ctx->db_path, sizeof ctx->db_path) != 0)
            return cli_error(CLI_FAIL, "cannot find the default database path; use --db PATH");
        ctx->db_is_default = !(env && *env);
    }
    if (i >= argc)
        return cli_error(CLI_USAGE, "no command given (see tlsrouter --help)");
    *cmd = i;
    return -1;
}

static int run(int argc, char **argv)
{
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.out = stdout;
    int at = 0;
    int rc = parse_globals(&ctx, argc, argv, &at);
    if (rc >= 0)
        return rc;
    for (int c = 0; c < COMMAND_COUNT; c++)
        if (strcmp(argv[at], commands[c].name) == 0)
            rc = commands[c].run(&ctx, argc - at - 1, argv + at + 1);
    if (rc < 0)
        rc = cli_error(CLI_USAGE, "unknown command '%s' (see tlsrouter --help)", argv[at]);
    store_close(ctx.st);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = cli_error(CLI_FAIL, "cannot write the output");
    return rc;
}

int main(int argc, char **argv)
{
    char **args = NULL;
    int n = cmdline_utf8(argc, argv, &args);
    if (n < 0)
        return cli_error(CLI_FAIL, "cannot read the command line");
    int rc = run(n, args);
    cmdline_free(args);
    return rc;
}
