/* tlsrouter journal: the newest routing decisions, as a table, JSON or
 * CSV (RFC 4180, every cell quoted, formulas neutralised: csv.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "csv.h"
#include "journal.h"
#include "json.h"

#define JOURNAL_DEFAULT_LIMIT 50
#define JOURNAL_MAX_LIMIT 1000000

enum { OUT_TEXT, OUT_JSON, OUT_CSV };

static void format_time(int64_t at_ms, char *buf, size_t len)
{
    time_t t = (time_t)(at_ms / 1000);
    struct tm *tm = gmtime(&t);
    if (!tm || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", tm) == 0)
        snprintf(buf, len, "%lld", (long long)at_ms);
}

/* Every cell through csv_write_cell: quoted, and never read as a formula. */
static void print_csv(FILE *out, const journal_row *rows, size_t n)
{
    fputs("time,message_id,sender,recipient,domain,route,reason,status,mx,tls_version,"
          "detail,elapsed_ms\r\n", out);
    for (size_t i = 0; i < n; i++) {
        const journal_row *r = &rows[i];
        char at[32], elapsed[32];
        format_time(r->at_ms, at, sizeof at);
        snprintf(elapsed, sizeof elapsed, "%lld", (long long)r->elapsed_ms);
        const char *f[] = { at, r->message_id, r->sender, r->recipient, r->domain, r->route,
                            r->reason, r->status, r->mx, r->tls_version, r->detail, elapsed };
        size_t cells = sizeof f / sizeof f[0];
        for (size_t k = 0; k < cells; k++)
            csv_write_cell(out, f[k], k + 1 == cells);
    }
}

static void print_json(FILE *out, const journal_row *rows, size_t n)
{
    json_writer w;
    json_init(&w, out);
    json_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const journal_row *r = &rows[i];
        char at[32];
        format_time(r->at_ms, at, sizeof at);
        json_object_begin(&w);
        json_key(&w, "time");
        json_string(&w, at);
        json_key(&w, "at_ms");
        json_int(&w, r->at_ms);
        json_key(&w, "message_id");
        json_string(&w, r->message_id);
        json_key(&w, "sender");
        json_string(&w, r->sender);
        json_key(&w, "recipient");
        json_string(&w, r->recipient);
        json_key(&w, "domain");
        json_string(&w, r->domain);
        json_key(&w, "route");
        json_string(&w, r->route);
        json_key(&w, "reason");
        json_string(&w, r->reason);
        json_key(&w, "status");
        json_string(&w, r->status);
        json_key(&w, "mx");
        json_string(&w, r->mx);
        json_key(&w, "tls_version");
        json_string(&w, r->tls_version);
        json_key(&w, "detail");
        json_string(&w, r->detail);
        json_key(&w, "elapsed_ms");
        json_int(&w, r->elapsed_ms);
        json_object_end(&w);
    }
    json_array_end(&w);
}

static void print_text(FILE *out, const journal_row *rows, size_t n)
{
    if (n == 0) {
        fputs("the journal is empty\n", out);
        return;
    }
    fprintf(out, "%-20s %-32s %-6s %-20s %-18s %s\n", "TIME (UTC)", "RECIPIENT", "ROUTE",
            "REASON", "STATUS", "MX");
    for (size_t i = 0; i < n; i++) {
        const journal_row *r = &rows[i];
        char at[32];
        format_time(r->at_ms, at, sizeof at);
        fprintf(out, "%-20s %-32s %-6s %-20s %-18s %s\n", at, r->recipient, r->route,
                r->reason, r->status[0] ? r->status : "-", r->mx[0] ? r->mx : "-");
        if (r->detail[0])
            fprintf(out, "  %s\n", r->detail);
    }
}

int cmd_journal(cli_ctx *ctx, int argc, char **argv)
{
    long limit = JOURNAL_DEFAULT_LIMIT;
    int format = OUT_TEXT;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--json") || cli_is(argv[i], "--csv")) {
            int f = cli_is(argv[i], "--json") ? OUT_JSON : OUT_CSV;
            if (format != OUT_TEXT && format != f)
                return cli_error(CLI_USAGE, "journal: --json and --csv exclude each other");
            format = f;
        } else if (cli_is(argv[i], "--limit") && i + 1 < argc) {
            char *end;
            limit = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || limit < 1 || limit > JOURNAL_MAX_LIMIT)
                return cli_error(CLI_USAGE, "--limit: '%s' is not a number from 1 to %d",
                                 argv[i], JOURNAL_MAX_LIMIT);
        } else {
            return cli_error(CLI_USAGE, "usage: journal [--limit N] [--json|--csv]");
        }
    }
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    journal_row *rows;
    size_t n;
    char err[256];
    if (journal_read(store_db(st), (size_t)limit, &rows, &n, err, sizeof err) != 0)
        return cli_error(CLI_FAIL, "%s", err);
    if (format == OUT_JSON)
        print_json(ctx->out, rows, n);
    else if (format == OUT_CSV)
        print_csv(ctx->out, rows, n);
    else
        print_text(ctx->out, rows, n);
    free(rows);
    return CLI_OK;
}
