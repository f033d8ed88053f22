/* tlsrouter cache list|clear: the probe cache and the expired-certificate
 * cache, and the MTA-STS policies the guard keeps. `cache clear` empties the
 * probe cache, `--expired` the expired-certificate cache, `--all` all three. A running engine forgets a
 * cleared expired-certificate entry at its next poll, within a second. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "expcache.h"
#include "json.h"
#include "pcache.h"
#include "probe.h"
#include "stscache.h"
#include <sqlite3.h>

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
        json_key(w, "confirmed");
        json_bool(w, e[i].confirmed_ms >= 0);
        json_time_key(w, "confirmed_at", e[i].confirmed_ms);
        json_time_key(w, "expires", e[i].expires_ms);
        json_time_key(w, "next_check", e[i].next_check_ms);
        json_object_end(w);
    }
}

static void print_expired_text(FILE *out, const expcache_entry *e, size_t n)
{
    fprintf(out, "expired-certificate cache: %lu domain%s\n", (unsigned long)n, n == 1 ? "" : "s");
    if (n)
        fprintf(out, "  %-32s %-28s %-20s %-9s %-20s %s\n", "DOMAIN", "MX", "CERT NOT AFTER",
                "CONFIRMED", "UNTIL", "NEXT CHECK");
    for (size_t i = 0; i < n; i++) {
        char na[32], until[32], check[32];
        format_time(e[i].cert_not_after < 0 ? -1 : e[i].cert_not_after * 1000, na, sizeof na);
        format_time(e[i].expires_ms, until, sizeof until);
        format_time(e[i].next_check_ms, check, sizeof check);
        fprintf(out, "  %-32s %-28s %-20s %-9s %-20s %s\n", e[i].domain,
                e[i].mx[0] ? e[i].mx : "-", na, e[i].confirmed_ms >= 0 ? "yes" : "no", until,
                check);
    }
}

static void print_probe_json(json_writer *w, const pcache_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_object_begin(w);
        json_key(w, "cache");
        json_string(w, "probe");
        json_key(w, "domain");
        json_string(w, e[i].domain);
        json_key(w, "status");
        json_string(w, pcache_entry_status(&e[i]));
        json_key(w, "mx");
        json_string(w, e[i].mx);
        json_key(w, "tls_version");
        json_string(w, e[i].tls_version);
        json_time_key(w, "probed", e[i].probed_ms);
        json_time_key(w, "expires", e[i].expires_ms);
        json_object_end(w);
    }
}

static void print_probe_text(FILE *out, const pcache_entry *e, size_t n)
{
    if (n == 0) {
        fputs("probe cache: empty\n", out);
        return;
    }
    fprintf(out, "probe cache:\n  %-32s %-18s %-28s %-8s %s\n", "DOMAIN", "STATUS", "MX", "TLS",
            "UNTIL");
    for (size_t i = 0; i < n; i++) {
        char until[32];
        format_time(e[i].expires_ms, until, sizeof until);
        fprintf(out, "  %-32s %-18s %-28s %-8s %s\n", e[i].domain, pcache_entry_status(&e[i]),
                e[i].mx[0] ? e[i].mx : "-", e[i].tls_version[0] ? e[i].tls_version : "-", until);
    }
}

static void print_sts_json(json_writer *w, const stscache_row *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_object_begin(w);
        json_key(w, "cache");
        json_string(w, "mta-sts");
        json_key(w, "domain");
        json_string(w, p[i].domain);
        json_key(w, "mode");
        json_string(w, p[i].mode);
        json_key(w, "id");
        json_string(w, p[i].id);
        json_time_key(w, "expires", p[i].expires_ms);
        json_object_end(w);
    }
}

static void print_sts_text(FILE *out, const stscache_row *p, size_t n)
{
    if (n == 0) {
        fputs("mta-sts policies: none\n", out);
        return;
    }
    fprintf(out, "mta-sts policies:\n  %-32s %-8s %-32s %s\n", "DOMAIN", "MODE", "ID", "UNTIL");
    for (size_t i = 0; i < n; i++) {
        char until[32];
        format_time(p[i].expires_ms, until, sizeof until);
        fprintf(out, "  %-32s %-8s %-32s %s\n", p[i].domain, p[i].mode, p[i].id, until);
    }
}

/* The three listings, all read before anything is printed, so a failure
 * prints no half table. */
typedef struct {
    pcache_entry *probed;
    size_t nprobed;
    expcache_entry *expired;
    size_t nexpired;
    stscache_row *sts;
    size_t nsts;
} cache_rows;

static void cache_rows_free(cache_rows *r)
{
    free(r->probed);
    free(r->expired);
    free(r->sts);
}

static int cache_rows_read(store *st, cache_rows *r)
{
    char err[256];
    memset(r, 0, sizeof *r);
    if (expcache_list(store_db(st), &r->expired, &r->nexpired, err, sizeof err) != 0)
        return cli_error(CLI_FAIL, "%s", err);
    if (pcache_list(store_db(st), PCACHE_NEWEST_FIRST, &r->probed, &r->nprobed, err, sizeof err)
        != 0) {
        cache_rows_free(r);
        return cli_error(CLI_FAIL, "cannot read the %s", err);
    }
    if (stscache_list(st, &r->sts, &r->nsts, err, sizeof err) != 0) {
        cache_rows_free(r);
        return cli_error(CLI_FAIL, "cannot read the %s", err);
    }
    return CLI_OK;
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
    cache_rows rows;
    int rc = cache_rows_read(st, &rows);
    if (rc != CLI_OK)
        return rc;
    if (as_json) {
        json_writer w;
        json_init(&w, ctx->out);
        json_array_begin(&w);
        print_probe_json(&w, rows.probed, rows.nprobed);
        print_expired_json(&w, rows.expired, rows.nexpired);
        print_sts_json(&w, rows.sts, rows.nsts);
        json_array_end(&w);
    } else {
        print_probe_text(ctx->out, rows.probed, rows.nprobed);
        print_expired_text(ctx->out, rows.expired, rows.nexpired);
        print_sts_text(ctx->out, rows.sts, rows.nsts);
    }
    cache_rows_free(&rows);
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
    if (!expired) {
        pcache *c = pcache_new(store_db(st), NULL);
        int rc = c ? pcache_clear(c, 0) : -1;
        pcache_free(c);
        if (rc != 0)
            return cli_error(CLI_FAIL, "cannot clear the probe cache");
        fputs("cleared the probe cache\n", ctx->out);
    }
    if (expired || all) {
        char err[256];
        int n = expcache_clear(store_db(st), 0, 0, err, sizeof err);
        if (n < 0)
            return cli_error(CLI_FAIL, "%s", err);
        fprintf(ctx->out, "cleared %d expired-certificate cache entr%s\n", n,
                n == 1 ? "y" : "ies");
    }
    if (all) {
        /* A running engine keeps what it holds in memory until max_age. */
        int n = stscache_clear(NULL, st);
        if (n < 0)
            return cli_error(CLI_FAIL, "cannot clear the MTA-STS policies: %s",
                             sqlite3_errmsg(store_db(st)));
        fprintf(ctx->out, "cleared %d MTA-STS polic%s\n", n, n == 1 ? "y" : "ies");
    }
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
