/* tlsrouter cache list|clear: the expired-certificate cache (and, with the
 * probe, the probe cache). A clear takes effect in a running engine at its
 * next poll, within a second: no restart. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "expcache.h"
#include "json.h"

static void format_time(int64_t at_ms, char *buf, size_t len)
{
    time_t t = (time_t)(at_ms / 1000);
    struct tm *tm = gmtime(&t);
    if (at_ms < 0 || !tm || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", tm) == 0)
        snprintf(buf, len, "-");
}

static void json_time_key(json_writer *w, const char *key, int64_t ms)
{
    char at[32];
    json_key(w, key);
    if (ms < 0) {
        json_null(w);
        return;
    }
    format_time(ms, at, sizeof at);
    json_string(w, at);
}

static void print_expired_json(json_writer *w, const expcache_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_object_begin(w);
        json_key(w, "cache");
        json_string(w, "expired-cert");
        json_key(w, "domain");
        json_string(w, e[i].domain);
        json_key(w, "mx");
        json_string(w, e[i].mx);
        json_time_key(w, "cert_not_after", e[i].cert_not_after < 0 ? -1 : e[i].cert_not_after * 1000);
        json_time_key(w, "first_seen", e[i].first_seen_ms);
        json_time_key(w, "last_seen", e[i].last_seen_ms);
        json_time_key(w, "expires", e[i].expires_ms);
        json_object_end(w);
    }
}

static void print_expired_text(FILE *out, const expcache_entry *e, size_t n)
{
    fprintf(out, "expired-certificate cache: %lu domain%s\n", (unsigned long)n, n == 1 ? "" : "s");
    if (n)
        fprintf(out, "  %-32s %-28s %-20s %s\n", "DOMAIN", "MX", "CERT NOT AFTER", "UNTIL");
    for (size_t i = 0; i < n; i++) {
        char na[32], until[32];
        format_time(e[i].cert_not_after < 0 ? -1 : e[i].cert_not_after * 1000, na, sizeof na);
        format_time(e[i].expires_ms, until, sizeof until);
        fprintf(out, "  %-32s %-28s %-20s %s\n", e[i].domain, e[i].mx[0] ? e[i].mx : "-", na,
                until);
    }
}

static int cache_list(cli_ctx *ctx, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 0; i < argc; i++) {
        if (!cli_is(argv[i], "--json"))
            return cli_error(CLI_USAGE, "usage: cache list [--json]");
        as_json = 1;
    }
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    expcache_entry *e;
    size_t n;
    char err[256];
    if (expcache_list(store_db(st), &e, &n, err, sizeof err) != 0)
        return cli_error(CLI_FAIL, "%s", err);
    if (as_json) {
        json_writer w;
        json_init(&w, ctx->out);
        json_array_begin(&w);
        print_expired_json(&w, e, n);
        json_array_end(&w);
    } else {
        print_expired_text(ctx->out, e, n);
    }
    free(e);
    return CLI_OK;
}

static int cache_clear(cli_ctx *ctx, int argc, char **argv)
{
    int expired = 0, all = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--expired"))
            expired = 1;
        else if (cli_is(argv[i], "--all"))
            all = 1;
        else
            return cli_error(CLI_USAGE, "usage: cache clear [--expired|--all]");
    }
    if (expired && all)
        return cli_error(CLI_USAGE, "cache clear: --expired and --all exclude each other");
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    char err[256];
    int n = expcache_clear(store_db(st), 0, 0, err, sizeof err);
    if (n < 0)
        return cli_error(CLI_FAIL, "%s", err);
    fprintf(ctx->out, "cleared %d expired-certificate cache entr%s\n", n, n == 1 ? "y" : "ies");
    return CLI_OK;
}

int cmd_cache(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 1 && cli_is(argv[0], "list"))
        return cache_list(ctx, argc - 1, argv + 1);
    if (argc >= 1 && cli_is(argv[0], "clear"))
        return cache_clear(ctx, argc - 1, argv + 1);
    return cli_error(CLI_USAGE, "usage: cache list [--json] | cache clear [--expired|--all]");
}
