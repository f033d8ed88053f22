/* tlsrouter log [--level L] [--limit N] [--json]: the diagnostic log
 * (the log table), newest first, at a level and every more severe one.
 * Read a page at a time through log_read. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "log.h"

#define LOG_DEFAULT_LIMIT 50
#define LOG_MAX_LIMIT 1000000
#define LOG_PAGE 64
#define LOG_USAGE "usage: log [--level error|warning|info|debug|full-debug] [--limit N] [--json]"

typedef struct {
    log_level level;
    long limit;
    int json;
} log_args;

static int parse_args(int argc, char **argv, log_args *a)
{
    a->level = LOG_FULL_DEBUG;
    a->limit = LOG_DEFAULT_LIMIT;
    a->json = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--json")) {
            a->json = 1;
        } else if (cli_is(argv[i], "--level") && i + 1 < argc) {
            int level = store_log_level_parse(argv[++i]);
            if (level < 0)
                return cli_error(CLI_USAGE, "unknown log level '%s': use error, warning, info, "
                                 "debug or full-debug", argv[i]);
            a->level = (log_level)level;
        } else if (cli_is(argv[i], "--limit") && i + 1 < argc) {
            char *end;
            a->limit = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || a->limit < 1 || a->limit > LOG_MAX_LIMIT)
                return cli_error(CLI_USAGE, "--limit: '%s' is not a number from 1 to %d",
                                 argv[i], LOG_MAX_LIMIT);
        } else {
            return cli_error(CLI_USAGE, LOG_USAGE);
        }
    }
    return CLI_OK;
}

static const char *level_name(log_level level)
{
    const char *name = store_log_level_name((int)level);
    return name ? name : "unknown";
}

static void print_json(json_writer *w, const log_row *r)
{
    char at[40];
    cli_format_utc(r->at_ms, 1, at, sizeof at);
    json_object_begin(w);
    json_key(w, "at");
    json_string(w, at);
    json_key(w, "at_ms");
    json_int(w, r->at_ms);
    json_key(w, "level");
    json_string(w, level_name(r->level));
    json_key(w, "source");
    json_string(w, r->source);
    json_key(w, "message");
    json_string(w, r->message);
    json_object_end(w);
}

/* One line a row; a message of several lines goes on under it, indented,
 * so every row still starts with its time. */
static void print_text(FILE *out, const log_row *r)
{
    char at[40];
    cli_format_utc(r->at_ms, 1, at, sizeof at);
    fprintf(out, "%-24s %-10s %-8s ", at, level_name(r->level), r->source[0] ? r->source : "-");
    for (const char *p = r->message; *p;) {
        size_t len = strcspn(p, "\r\n");
        fprintf(out, "%.*s\n", (int)len, p);
        p += len;
        p += strspn(p, "\r\n");
        if (*p)
            fputs("  ", out);
    }
    if (!r->message[0])
        fputc('\n', out);
}

/* The newest limit rows, a page at a time. */
static int print_log(sqlite3 *db, const log_args *a, FILE *out)
{
    log_row *page = malloc(LOG_PAGE * sizeof *page);
    json_writer w;
    char err[256];
    int64_t before = 0;
    long printed = 0;
    if (!page)
        return cli_error(CLI_FAIL, "log: out of memory");
    if (a->json) {
        json_init(&w, out);
        json_array_begin(&w);
    }
    while (printed < a->limit) {
        size_t want = a->limit - printed < LOG_PAGE ? (size_t)(a->limit - printed) : LOG_PAGE;
        long got = log_read(db, a->level, before, page, want, err, sizeof err);
        if (got < 0) {
            free(page);
            return cli_error(CLI_FAIL, "%s", err);
        }
        if (got == 0)
            break;
        if (printed == 0 && !a->json)
            fprintf(out, "%-24s %-10s %-8s %s\n", "TIME (UTC)", "LEVEL", "SOURCE", "MESSAGE");
        for (long k = 0; k < got; k++) {
            if (a->json)
                print_json(&w, &page[k]);
            else
                print_text(out, &page[k]);
        }
        printed += got;
        before = page[got - 1].id;
    }
    if (a->json)
        json_array_end(&w);
    else if (printed == 0 && a->level == LOG_FULL_DEBUG)
        fputs("the log is empty\n", out);
    else if (printed == 0)
        fprintf(out, "no log rows at level %s or more severe\n", level_name(a->level));
    free(page);
    return CLI_OK;
}

int cmd_log(cli_ctx *ctx, int argc, char **argv)
{
    log_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc;
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    return print_log(store_db(st), &a, ctx->out);
}
