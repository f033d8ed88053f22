/* tlsrouter route: route one message through the same engine the sink
 * uses, print the decision per recipient, leave the pickup file. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "json.h"
#include "pickup.h"
#include "route.h"

#define ROUTE_MAX_MESSAGE (64u * 1024u * 1024u)

typedef struct {
    const char *from;
    const char **to;
    size_t n_to;
    const char *file;
    int source;
    int as_json;
} route_args;

static int read_all(FILE *f, unsigned char **buf, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *nb = cap < ROUTE_MAX_MESSAGE ? realloc(b, cap * 2) : NULL;
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (!b || ferror(f)) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int read_message(const char *file, unsigned char **buf, size_t *len)
{
    if (strcmp(file, "-") == 0)
        return read_all(stdin, buf, len) == 0
                   ? CLI_OK
                   : cli_error(CLI_FAIL, "cannot read the message from standard input");
    FILE *f = fopen(file, "rb");
    if (!f)
        return cli_error(CLI_USAGE, "cannot open the message file %s", file);
    int rc = read_all(f, buf, len);
    fclose(f);
    return rc == 0 ? CLI_OK
                   : cli_error(CLI_FAIL, "cannot read %s (or it is over %u MB)", file,
                               ROUTE_MAX_MESSAGE >> 20);
}

static int starts_with_ci(const unsigned char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)prefix[i])
            return 0;
    }
    return 1;
}

/* The Message-ID header's value (the journal's message id), if any. */
static void find_message_id(const unsigned char *m, size_t len, char *buf, size_t buflen)
{
    size_t i = 0;
    buf[0] = '\0';
    while (i < len && m[i] != '\r' && m[i] != '\n') {
        size_t end = i;
        while (end < len && m[end] != '\n')
            end++;
        if (starts_with_ci(m + i, end - i, "message-id:")) {
            size_t s = i + 11, e = end;
            while (s < e && (m[s] == ' ' || m[s] == '\t'))
                s++;
            while (e > s && (m[e - 1] == '\r' || m[e - 1] == ' '))
                e--;
            snprintf(buf, buflen, "%.*s", (int)(e - s), (const char *)m + s);
            return;
        }
        i = end + 1;
    }
}

static int parse_args(int argc, char **argv, route_args *a)
{
    memset(a, 0, sizeof *a);
    a->source = 1;
    a->to = calloc((size_t)argc + 1, sizeof *a->to);
    if (!a->to)
        return cli_error(CLI_FAIL, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (cli_is(opt, "--json")) {
            a->as_json = 1;
        } else if (cli_is(opt, "--from") || cli_is(opt, "--to") || cli_is(opt, "--source")) {
            if (i + 1 >= argc)
                return cli_error(CLI_USAGE, "%s needs a value", opt);
            const char *v = argv[++i];
            char *end;
            if (cli_is(opt, "--from"))
                a->from = v;
            else if (cli_is(opt, "--to"))
                a->to[a->n_to++] = v;
            else if ((a->source = (int)strtol(v, &end, 10)) < 1 || *end || end == v)
                return cli_error(CLI_USAGE, "--source: '%s' is not a virtual server number", v);
        } else if (opt[0] == '-' && opt[1] != '\0') {
            return cli_error(CLI_USAGE, "route: unknown option %s", opt);
        } else if (a->file) {
            return cli_error(CLI_USAGE, "route takes one message file (or - for standard input)");
        } else {
            a->file = opt;
        }
    }
    if (!a->from || a->n_to == 0 || !a->file)
        return cli_error(CLI_USAGE,
                         "usage: route --from ADDR --to ADDR [--to ADDR...] FILE|- [--json]");
    char why[160];
    if (pickup_check_address(a->from, 1, why, sizeof why) != 0)
        return cli_error(CLI_USAGE, "--from address refused: %s", why);
    for (size_t i = 0; i < a->n_to; i++)
        if (pickup_check_address(a->to[i], 0, why, sizeof why) != 0)
            return cli_error(CLI_USAGE, "--to address %lu refused: %s", (unsigned long)(i + 1), why);
    return CLI_OK;
}

static void print_json(FILE *out, const route_result *r)
{
    json_writer w;
    json_init(&w, out);
    json_array_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        const route_decision *d = &r->decisions[i];
        json_object_begin(&w);
        json_key(&w, "recipient");
        json_string(&w, d->recipient);
        json_key(&w, "domain");
        json_string(&w, d->domain);
        json_key(&w, "route");
        json_string(&w, d->plain ? "plain" : "tls");
        json_key(&w, "reason");
        json_string(&w, decide_reason_name(d->reason));
        json_key(&w, "status");
        json_string(&w, probe_status_name(d->status));
        json_key(&w, "mx");
        json_string(&w, d->mx);
        json_key(&w, "tls_version");
        json_string(&w, d->tls_version);
        json_key(&w, "detail");
        json_string(&w, d->detail);
        json_key(&w, "elapsed_ms");
        json_int(&w, d->elapsed_ms);
        json_key(&w, "pickup_file");
        json_string(&w, d->plain ? r->pickup_path : "");
        json_object_end(&w);
    }
    json_array_end(&w);
}

static void print_text(FILE *out, const route_result *r)
{
    fprintf(out, "%-32s %-24s %-6s %-20s %s\n", "RECIPIENT", "DOMAIN", "ROUTE", "REASON",
            "STATUS");
    for (size_t i = 0; i < r->n; i++) {
        const route_decision *d = &r->decisions[i];
        fprintf(out, "%-32s %-24s %-6s %-20s %s\n", d->recipient, d->domain,
                d->plain ? "plain" : "tls", decide_reason_name(d->reason),
                d->status == PROBE_NOT_PROBED ? "-" : probe_status_name(d->status));
        if (d->detail[0])
            fprintf(out, "  %s\n", d->detail);
    }
    if (r->handed_off)
        fprintf(out, "pickup file: %s (%d recipient%s)\n", r->pickup_path, r->handed_off,
                r->handed_off == 1 ? "" : "s");
}

int cmd_route(cli_ctx *ctx, int argc, char **argv)
{
    route_args a;
    int rc = parse_args(argc, argv, &a);
    unsigned char *msg = NULL;
    size_t len = 0;
    if (rc == CLI_OK)
        rc = read_message(a.file, &msg, &len);
    /* cli_store creates the default folder and brings the schema up to
     * date before the engine opens its own connections. */
    if (rc == CLI_OK && !cli_store(ctx))
        rc = CLI_FAIL;
    engine *e = NULL;
    char err[PLAT_PATH_MAX + 256];
    if (rc == CLI_OK && engine_open(ctx->db_path, &e, err, sizeof err) != 0)
        rc = cli_error(CLI_FAIL, "%s", err);
    if (rc == CLI_OK) {
        engine_set_probe_overrides(e, ctx->dns, ctx->timeout_ms);
        /* Decide as the sink does, with IIS's configuration read now (a
         * read that fails only leaves it out; the log says why). */
        engine_refresh_iis(e, NULL, 0);
        /* One byte past the journal's limit, so a longer id reaches the
         * journal as too long and is stored marked as cut. */
        char message_id[JOURNAL_MESSAGE_ID_MAX + 2];
        find_message_id(msg, len, message_id, sizeof message_id);
        route_message m = { .message_id = message_id, .sender = a.from, .recipients = a.to,
                            .n_recipients = a.n_to, .source_instance = a.source,
                            .message = msg, .message_len = len };
        route_result r;
        int routed = route_run(e, &m, &r);
        if (a.as_json)
            print_json(ctx->out, &r);
        else
            print_text(ctx->out, &r);
        if (routed != 0)
            rc = cli_error(CLI_FAIL, "hand-off failed, every recipient stays on TLS: %s", r.error);
        else if (r.error[0])
            rc = cli_error(CLI_FAIL, "%s", r.error);
        route_result_free(&r);
    }
    engine_close(e);
    free(msg);
    free(a.to);
    return rc;
}
