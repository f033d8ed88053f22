/* tlsrouter journal: the newest routing decisions, as a table, JSON or
 * CSV (RFC 4180, every cell quoted, formulas neutralised: csv.h); with
 * --message-id or --sender, every recipient's decision for that message or
 * sender (a trace for support). Rows are read through a journal view a
 * page at a time, so a long trace never sits in memory whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "journal.h"
#include "json.h"

#define JOURNAL_DEFAULT_LIMIT 50
#define JOURNAL_MAX_LIMIT 1000000
#define JOURNAL_PAGE 64
#define JOURNAL_USAGE                                                                    \
    "usage: journal [--limit N] [--message-id ID] [--sender ADDR] [--json|--csv]"

enum { OUT_TEXT, OUT_JSON, OUT_CSV };

typedef struct {
    long limit;                /* 0: not given */
    int format;
    journal_filter filter;     /* message_id and sender only */
} journal_args;

/* One output format: a head, each row, a tail; text also says when
 * nothing matched. */
typedef struct {
    FILE *out;
    int format;
    int tracing;               /* --message-id or --sender given */
    json_writer json;
    char last_message[JOURNAL_MESSAGE_ID_MAX + 1], last_sender[328];
    size_t rows;
} printer;

static void print_head(printer *p)
{
    if (p->format == OUT_JSON) {
        json_init(&p->json, p->out);
        json_array_begin(&p->json);
    } else if (p->format == OUT_CSV) {
        fputs("time,message_id,sender,recipient,domain,route,reason,status,mx,tls_version,"
              "detail,elapsed_ms\r\n", p->out);
    }
}

/* Every cell through csv_write_cell: quoted, and never read as a formula. */
static void print_csv(FILE *out, const journal_row *r)
{
    char at[32], elapsed[32];
    cli_format_utc(r->at_ms, 0, at, sizeof at);
    snprintf(elapsed, sizeof elapsed, "%lld", (long long)r->elapsed_ms);
    const char *f[] = { at, r->message_id, r->sender, r->recipient, r->domain, r->route,
                        r->reason, r->status, r->mx, r->tls_version, r->detail, elapsed };
    size_t cells = sizeof f / sizeof f[0];
    for (size_t k = 0; k < cells; k++)
        csv_write_cell(out, f[k], k + 1 == cells);
}

static void json_field(json_writer *w, const char *key, const char *value)
{
    json_key(w, key);
    json_string(w, value);
}

static void print_json(json_writer *w, const journal_row *r)
{
    char at[32];
    cli_format_utc(r->at_ms, 0, at, sizeof at);
    json_object_begin(w);
    json_field(w, "time", at);
    json_key(w, "at_ms");
    json_int(w, r->at_ms);
    json_field(w, "message_id", r->message_id);
    json_field(w, "sender", r->sender);
    json_field(w, "recipient", r->recipient);
    json_field(w, "domain", r->domain);
    json_field(w, "route", r->route);
    json_field(w, "reason", r->reason);
    json_field(w, "status", r->status);
    json_field(w, "mx", r->mx);
    json_field(w, "tls_version", r->tls_version);
    json_field(w, "detail", r->detail);
    json_key(w, "elapsed_ms");
    json_int(w, r->elapsed_ms);
    json_key(w, "source_instance");   /* null: journalled before it was recorded */
    if (r->source_instance > 0)
        json_int(w, r->source_instance);
    else
        json_null(w);
    json_object_end(w);
}

static void print_text_header(FILE *out)
{
    fprintf(out, "%-20s %-32s %-6s %-20s %-18s %s\n", "TIME (UTC)", "RECIPIENT", "ROUTE",
            "REASON", "STATUS", "MX");
}

/* A trace names each message once, above its recipients: the rows of one
 * message are written together, so they come out together. */
static void print_trace_heading(printer *p, const journal_row *r)
{
    if (p->rows > 0 && strcmp(r->message_id, p->last_message) == 0
        && strcmp(r->sender, p->last_sender) == 0)
        return;
    snprintf(p->last_message, sizeof p->last_message, "%s", r->message_id);
    snprintf(p->last_sender, sizeof p->last_sender, "%s", r->sender);
    fprintf(p->out, "%sMessage-ID %s from %s\n", p->rows ? "\n" : "",
            r->message_id[0] ? r->message_id : "(none)", r->sender[0] ? r->sender : "<>");
    print_text_header(p->out);
}

static void print_text(printer *p, const journal_row *r)
{
    char at[32];
    if (p->tracing)
        print_trace_heading(p, r);
    else if (p->rows == 0)
        print_text_header(p->out);
    cli_format_utc(r->at_ms, 0, at, sizeof at);
    fprintf(p->out, "%-20s %-32s %-6s %-20s %-18s %s\n", at, r->recipient, r->route, r->reason,
            r->status[0] ? r->status : "-", r->mx[0] ? r->mx : "-");
    if (r->detail[0])
        fprintf(p->out, "  %s\n", r->detail);
}

static void print_row(printer *p, const journal_row *r)
{
    if (p->format == OUT_JSON)
        print_json(&p->json, r);
    else if (p->format == OUT_CSV)
        print_csv(p->out, r);
    else
        print_text(p, r);
    p->rows++;
}

static void print_tail(printer *p)
{
    if (p->format == OUT_JSON)
        json_array_end(&p->json);
    else if (p->format == OUT_TEXT && p->rows == 0)
        fputs(p->tracing ? "no journal rows for this message or sender\n"
                         : "the journal is empty\n", p->out);
}

static int parse_limit(const char *text, long *limit)
{
    char *end;
    *limit = strtol(text, &end, 10);
    if (end == text || *end || *limit < 1 || *limit > JOURNAL_MAX_LIMIT)
        return cli_error(CLI_USAGE, "--limit: '%s' is not a number from 1 to %d", text,
                         JOURNAL_MAX_LIMIT);
    return CLI_OK;
}

/* An empty ID or address is a script's unset variable, not a trace. */
static int take_trace_value(const char *opt, const char *value, const char **into)
{
    if (!value[0])
        return cli_error(CLI_USAGE, "%s: empty value%s", opt,
                         cli_is(opt, "--sender") ? " (for the null sender: --sender '<>')" : "");
    *into = value;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, journal_args *a)
{
    memset(a, 0, sizeof *a);
    a->format = OUT_TEXT;
    for (int i = 0; i < argc; i++) {
        int rc = CLI_OK;
        if (cli_is(argv[i], "--json") || cli_is(argv[i], "--csv")) {
            int f = cli_is(argv[i], "--json") ? OUT_JSON : OUT_CSV;
            if (a->format != OUT_TEXT && a->format != f)
                return cli_error(CLI_USAGE, "journal: --json and --csv exclude each other");
            a->format = f;
        } else if (i + 1 >= argc) {
            return cli_error(CLI_USAGE, JOURNAL_USAGE);
        } else if (cli_is(argv[i], "--limit")) {
            rc = parse_limit(argv[++i], &a->limit);
        } else if (cli_is(argv[i], "--message-id")) {
            rc = take_trace_value(argv[i], argv[i + 1], &a->filter.message_id);
            i++;
        } else if (cli_is(argv[i], "--sender")) {
            rc = take_trace_value(argv[i], argv[i + 1], &a->filter.sender);
            i++;
        } else {
            return cli_error(CLI_USAGE, JOURNAL_USAGE);
        }
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

/* The first limit rows of the view, a page at a time. */
static int print_view(journal_view *v, size_t limit, printer *p)
{
    journal_row *page = malloc(JOURNAL_PAGE * sizeof *page);
    char err[256];
    size_t total = journal_view_count(v);
    if (limit > total)
        limit = total;
    if (!page)
        return cli_error(CLI_FAIL, "journal: out of memory");
    print_head(p);
    for (size_t pos = 0; pos < limit;) {
        size_t want = limit - pos < JOURNAL_PAGE ? limit - pos : JOURNAL_PAGE;
        long got = journal_view_read(v, pos, want, page, err, sizeof err);
        if (got < 0) {
            free(page);
            return cli_error(CLI_FAIL, "%s", err);
        }
        for (long k = 0; k < got; k++)
            print_row(p, &page[k]);
        pos += want;   /* rows deleted since the view opened are skipped */
    }
    print_tail(p);
    free(page);
    return CLI_OK;
}

int cmd_journal(cli_ctx *ctx, int argc, char **argv)
{
    journal_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc;
    printer p = { .out = ctx->out, .format = a.format,
                  .tracing = a.filter.message_id || a.filter.sender };
    /* A trace lists every recipient unless told otherwise. */
    size_t limit = a.limit ? (size_t)a.limit : p.tracing ? SIZE_MAX : JOURNAL_DEFAULT_LIMIT;
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    journal_view *v;
    char err[256];
    if (journal_view_open(store_db(st), &a.filter, &v, err, sizeof err) != 0)
        return cli_error(CLI_FAIL, "%s", err);
    rc = print_view(v, limit, &p);
    journal_view_close(v);
    return rc;
}
