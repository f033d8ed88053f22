/* tlsrouter stats [--json]: the live figures every engine writes to the
 * database every few seconds (stats.h), summed over the processes that
 * counted them: messages and recipients routed, decisions by reason,
 * probes by status, cache hits, shared probes, refreshes, hand-offs, and
 * the OnArrival time (route_run, start to end) at its percentiles. */
#include <string.h>

#include "cli.h"
#include "json.h"
#include "stats.h"

static uint64_t probes_made(const stats_figures *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        n += f->probes[i];
    return n;
}

typedef struct {
    const char *key;
    uint64_t value;
} counted;

/* The counts both forms print, in order. */
static size_t counts_of(const stats_figures *f, counted *out)
{
    size_t n = 0;
    out[n++] = (counted){ "messages", f->messages };
    out[n++] = (counted){ "recipients", f->recipients };
    out[n++] = (counted){ "probes", probes_made(f) };
    out[n++] = (counted){ "probe_joins", f->probe_joins };
    out[n++] = (counted){ "policy_joins", f->policy_joins };
    out[n++] = (counted){ "mx_shares", f->mx_shares };
    out[n++] = (counted){ "refreshes", f->refreshes };
    out[n++] = (counted){ "cache_hits", f->cache_hits };
    out[n++] = (counted){ "handoffs", f->handoffs };
    out[n++] = (counted){ "handoff_failures", f->handoff_failures };
    return n;
}

#define COUNTS_MAX 10

static const double percentiles[] = { 50, 95, 99 };
static const char *const percentile_keys[] = { "p50", "p95", "p99" };

static void json_times(json_writer *w, const stats_figures *f)
{
    json_object_begin(w);
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++) {
        json_key(w, percentile_keys[i]);
        json_fixed(w, (int64_t)stats_percentile_us(f, percentiles[i]), 3);
    }
    json_key(w, "max");
    json_fixed(w, (int64_t)f->onarrival_max_us, 3);
    json_object_end(w);
}

static void print_json(FILE *out, const stats_figures *f)
{
    counted c[COUNTS_MAX];
    size_t n = counts_of(f, c);
    json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    for (size_t i = 0; i < n; i++) {
        json_key(&w, c[i].key);
        json_int(&w, (int64_t)c[i].value);
    }
    json_key(&w, "onarrival_ms");
    json_times(&w, f);
    json_key(&w, "decisions");
    json_object_begin(&w);
    for (size_t i = 0; i < DECIDE_REASON_COUNT; i++)
        if (f->reasons[i]) {
            json_key(&w, decide_reason_name((decide_reason)i));
            json_int(&w, (int64_t)f->reasons[i]);
        }
    json_object_end(&w);
    json_key(&w, "probes_by_status");
    json_object_begin(&w);
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        if (f->probes[i]) {
            json_key(&w, probe_status_name((probe_status)i));
            json_int(&w, (int64_t)f->probes[i]);
        }
    json_object_end(&w);
    json_object_end(&w);
    fputc('\n', out);
}

static void print_ms(FILE *out, const char *label, uint64_t us)
{
    fprintf(out, " %s %llu.%03llu", label, (unsigned long long)(us / 1000),
            (unsigned long long)(us % 1000));
}

static void print_text(FILE *out, const stats_figures *f)
{
    counted c[COUNTS_MAX];
    size_t n = counts_of(f, c);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-18s %llu\n", c[i].key, (unsigned long long)c[i].value);
    fprintf(out, "%-18s", "onarrival_ms");
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
        print_ms(out, percentile_keys[i], stats_percentile_us(f, percentiles[i]));
    print_ms(out, "max", f->onarrival_max_us);
    fputc('\n', out);
    for (size_t i = 0; i < DECIDE_REASON_COUNT; i++)
        if (f->reasons[i])
            fprintf(out, "decision %-18s %llu\n", decide_reason_name((decide_reason)i),
                    (unsigned long long)f->reasons[i]);
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        if (f->probes[i])
            fprintf(out, "probe %-21s %llu\n", probe_status_name((probe_status)i),
                    (unsigned long long)f->probes[i]);
}

int cmd_stats(cli_ctx *ctx, int argc, char **argv)
{
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--json"))
            json = 1;
        else
            return cli_error(CLI_USAGE, "usage: stats [--json]");
    }
    store *st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    stats_figures f;
    char err[256];
    if (stats_read(store_db(st), &f, err, sizeof err) != 0)
        return cli_error(CLI_FAIL, "%s", err);
    if (json)
        print_json(ctx->out, &f);
    else
        print_text(ctx->out, &f);
    return CLI_OK;
}
