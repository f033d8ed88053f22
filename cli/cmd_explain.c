/* tlsrouter explain REASON | explain --list: the journal's reasons in plain
 * words, from the one table of core/explain.h. */
#include "cli.h"
#include "explain.h"
#include "json.h"

#define EXPLAIN_WIDTH 78
#define EXPLAIN_INDENT 2
#define EXPLAIN_USAGE "usage: explain REASON [--json] | explain --list [--json]"

static void json_text(json_writer *w, const explain_text *t)
{
    json_object_begin(w);
    json_key(w, "reason");
    json_string(w, decide_reason_name(t->reason));
    json_key(w, "route");
    json_string(w, explain_route_name(t->route));
    json_key(w, "title");
    json_string(w, t->title);
    json_key(w, "meaning");
    json_string(w, t->meaning);
    json_key(w, "action");
    json_string(w, t->action);
    json_object_end(w);
}

static void print_one(FILE *out, const explain_text *t)
{
    fprintf(out, "%s: %s\n", decide_reason_name(t->reason), t->title);
    fprintf(out, "Route: %s\n\n", explain_route_name(t->route));
    cli_print_wrapped(out, 0, EXPLAIN_WIDTH, t->meaning);
    fputs("\nWhat to do:\n", out);
    cli_print_wrapped(out, EXPLAIN_INDENT, EXPLAIN_WIDTH, t->action);
}

static void print_list(FILE *out, int json)
{
    json_writer w;
    if (json) {
        json_init(&w, out);
        json_array_begin(&w);
    } else {
        fprintf(out, "%-20s %-8s %s\n", "REASON", "ROUTE", "TITLE");
    }
    for (int i = 0; i < DECIDE_REASON_COUNT; i++) {
        const explain_text *t = explain_reason((decide_reason)i);
        if (json)
            json_text(&w, t);
        else
            fprintf(out, "%-20s %-8s %s\n", decide_reason_name(t->reason),
                    explain_route_name(t->route), t->title);
    }
    if (json)
        json_array_end(&w);
}

int cmd_explain(cli_ctx *ctx, int argc, char **argv)
{
    const char *reason = NULL;
    int list = 0, json = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--list"))
            list = 1;
        else if (cli_is(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !reason)
            reason = argv[i];
        else
            return cli_error(CLI_USAGE, EXPLAIN_USAGE);
    }
    if (list == (reason != NULL))
        return cli_error(CLI_USAGE, EXPLAIN_USAGE);
    if (list) {
        print_list(ctx->out, json);
        return CLI_OK;
    }
    const explain_text *t = explain_lookup(reason);
    if (!t)
        return cli_error(CLI_USAGE, "unknown reason '%s' ('tlsrouter explain --list' shows them)",
                         reason);
    if (json) {
        json_writer w;
        json_init(&w, ctx->out);
        json_text(&w, t);
    } else {
        print_one(ctx->out, t);
    }
    return CLI_OK;
}
