/* tlsrouter check [--json]: the setup checks (core/check.h), one line each
 * or one JSON array of {check, status, detail, remedy}. Exit 0 when
 * nothing failed, 1 when a check failed. */
#include "cli.h"

#include <stdlib.h>

#include "check.h"
#include "json.h"

static void print_text(FILE *out, const check_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%-4s  %-19s %s\n", check_status_name(rows[i].status), rows[i].name,
                rows[i].detail);
        if (rows[i].remedy[0] && (rows[i].status == CHECK_FAIL || rows[i].status == CHECK_WARN))
            fprintf(out, "      %-19s -> %s\n", "", rows[i].remedy);
    }
}

static void print_json(FILE *out, const check_row *rows, size_t n)
{
    json_writer w;
    json_init(&w, out);
    json_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        json_object_begin(&w);
        json_key(&w, "check");
        json_string(&w, rows[i].name);
        json_key(&w, "status");
        json_string(&w, check_status_name(rows[i].status));
        json_key(&w, "detail");
        json_string(&w, rows[i].detail);
        json_key(&w, "remedy");
        json_string(&w, rows[i].remedy);
        json_object_end(&w);
    }
    json_array_end(&w);
    fputc('\n', out);
}

int cmd_check(cli_ctx *ctx, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--json"))
            as_json = 1;
        else
            return cli_error(CLI_USAGE, "usage: check [--json]");
    }
    check_options o = { .db_path = ctx->db_path,
                        .dns_servers = ctx->dns,
                        .timeout_ms = ctx->timeout_ms > 0 ? (unsigned)ctx->timeout_ms : 0,
                        .host = cli_check_host() };
    check_row *rows;
    size_t n;
    if (check_run(&o, &rows, &n) != 0)
        return cli_error(CLI_FAIL, "out of memory");
    if (as_json)
        print_json(ctx->out, rows, n);
    else
        print_text(ctx->out, rows, n);
    int failed = check_any_failed(rows, n);
    free(rows);
    return failed ? CLI_FAIL : CLI_OK;
}
