/* tlsrouter probe DOMAIN [--json] [--port N] [--stack openssl|schannel]:
 * probe one domain now, with the settings of the database (--dns and
 * --timeout override theirs), print the result and keep it in the probe
 * cache. The handshake is the system's TLS stack's (Schannel on Windows, as
 * IIS's; OpenSSL elsewhere) unless --stack names another, and the output
 * says which stack decided. The no-downgrade guards (MTA-STS, DANE) are
 * checked too and shown, so an admin sees when a domain would never be
 * routed plain. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dns.h"
#include "domain.h"
#include "guard.h"
#include "json.h"
#include "pcache.h"
#include "plat.h"
#include "probe_settings.h"
#include "tls.h"

#define PROBE_USAGE "usage: probe DOMAIN [--json] [--port N] [--stack openssl|schannel]"

/* The reason row 6 or 7 of the table gives for a policy. */
static decide_reason guard_reason(decide_policy p)
{
    switch (p) {
    case DECIDE_POLICY_STS: return DECIDE_STS_POLICY;
    case DECIDE_POLICY_DANE: return DECIDE_DANE;
    default: return DECIDE_GUARD_UNKNOWN;
    }
}

/* "mta_sts": {"mode", "id"} or null; "dane": true/false (null: not checked). */
static void guard_json(json_writer *w, const guard_result *g)
{
    json_key(w, "mta_sts");
    if (g->sts_checked && g->sts_status == MTASTS_OK) {
        json_object_begin(w);
        json_key(w, "mode");
        json_string(w, mtasts_mode_name(g->sts_mode));
        json_key(w, "id");
        json_string(w, g->sts_id);
        json_object_end(w);
    } else {
        json_null(w);
    }
    json_key(w, "dane");
    if (g->dane_checked)
        json_bool(w, g->dane != 0);
    else
        json_null(w);
    /* The reason routing would give instead of plain, or null. */
    json_key(w, "guard");
    if (g->policy == DECIDE_POLICY_NONE)
        json_null(w);
    else
        json_string(w, decide_reason_name(guard_reason(g->policy)));
    json_key(w, "guard_detail");
    json_string(w, g->detail);
}

static void print_json(FILE *out, const probe_result *r, const guard_result *g)
{
    json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    json_key(&w, "domain");
    json_string(&w, r->domain);
    json_key(&w, "mx");
    json_string(&w, r->mx);
    json_key(&w, "address");
    json_string(&w, r->address);
    json_key(&w, "status");
    json_string(&w, probe_status_name(r->status));
    json_key(&w, "tls_stack"); /* null: no handshake was tried */
    if (r->stack != TLS_STACK_NONE)
        json_string(&w, tls_stack_name(r->stack));
    else
        json_null(&w);
    json_key(&w, "tls_version");
    json_string(&w, r->tls_version);
    json_key(&w, "cipher");
    json_string(&w, r->cipher);
    /* null: no certificate, or a time that cannot be read as a date. */
    json_key(&w, "cert_not_before");
    if (r->has_cert && !r->cert_not_before_unreadable)
        json_int(&w, r->cert_not_before);
    else
        json_null(&w);
    json_key(&w, "cert_not_after");
    if (r->has_cert && !r->cert_not_after_unreadable)
        json_int(&w, r->cert_not_after);
    else
        json_null(&w);
    json_key(&w, "subject");
    json_string(&w, r->subject);
    json_key(&w, "issuer");
    json_string(&w, r->issuer);
    json_key(&w, "error");
    json_string(&w, r->error);
    json_key(&w, "elapsed_ms");
    json_int(&w, r->elapsed_ms);
    guard_json(&w, g);
    json_object_end(&w);
    fputc('\n', out);
}

static const char *utc_text(int64_t unix_s, int unreadable, char *buf, size_t len)
{
    if (unreadable) {
        snprintf(buf, len, "(cannot be read as a date)");
        return buf;
    }
    time_t t = (time_t)unix_s;
    struct tm *tm = gmtime(&t);
    if (!tm || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", tm) == 0)
        snprintf(buf, len, "%lld", (long long)unix_s);
    return buf;
}

static void print_text(FILE *out, const probe_result *r, const guard_result *g)
{
    char when[64];
    fprintf(out, "domain:      %s\n", r->domain);
    fprintf(out, "status:      %s\n", probe_status_name(r->status));
    fprintf(out, "mx:          %s\n", r->mx);
    fprintf(out, "address:     %s\n", r->address);
    if (r->stack != TLS_STACK_NONE)
        fprintf(out, "decided by:  %s%s\n", tls_stack_name(r->stack),
                r->stack == tls_system_stack() ? " (the system's TLS stack)" : "");
    if (r->tls_version[0])
        fprintf(out, "tls:         %s, %s\n", r->tls_version, r->cipher);
    if (r->has_cert) {
        fprintf(out, "subject:     %s\n", r->subject);
        fprintf(out, "issuer:      %s\n", r->issuer);
        fprintf(out, "not before:  %s\n",
                utc_text(r->cert_not_before, r->cert_not_before_unreadable, when, sizeof when));
        fprintf(out, "not after:   %s\n",
                utc_text(r->cert_not_after, r->cert_not_after_unreadable, when, sizeof when));
    }
    if (r->error[0])
        fprintf(out, "error:       %s\n", r->error);
    fprintf(out, "elapsed:     %u ms\n", r->elapsed_ms);
    if (g->sts_checked)
        fprintf(out, "mta-sts:     %s%s%s\n",
                g->sts_status == MTASTS_OK ? mtasts_mode_name(g->sts_mode) : "no policy",
                g->sts_status == MTASTS_OK ? ", id " : "",
                g->sts_status == MTASTS_OK ? g->sts_id : "");
    if (g->dane_checked)
        fprintf(out, "dane:        %s\n", g->dane ? "yes" : "no");
    if (g->detail[0])
        fprintf(out, "guard:       %s\n", g->detail);
}

/* The no-downgrade guards as the database's settings say, within the same
 * total deadline as the probe. */
static void check_guards(cli_ctx *ctx, store *st, const char *domain, unsigned timeout_ms,
                         guard_result *g)
{
    guard_options o;
    guard_options_default(&o);
    guard_options_load(st, &o);
    if (ctx->dns)
        o.dns_servers = ctx->dns;
    guard_check(NULL, st, domain, &o, plat_now_ms() + timeout_ms, g);
}

/* --port N: 1..65535. */
static int parse_port(const char *v, unsigned *port)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > 65535)
        return -1;
    *port = (unsigned)n;
    return 0;
}

/* --stack NAME: a stack built here. */
static int parse_stack(const char *v, tls_stack *stack)
{
    return tls_stack_parse(v, stack) == 0 && tls_stack_available(*stack) ? 0 : -1;
}

/* Keep the fresh result, so routing need not probe the domain again. */
static void remember(store *st, const probe_result *r)
{
    pcache_ttls ttls;
    pcache *cache;
    pcache_ttls_default(&ttls);
    pcache_ttls_load(store_db(st), &ttls);
    cache = pcache_new(store_db(st), &ttls);
    if (!cache || pcache_put(cache, r) != 0)
        cli_error(CLI_FAIL, "warning: the result could not be saved in the probe cache");
    pcache_free(cache);
}

int cmd_probe(cli_ctx *ctx, int argc, char **argv)
{
    const char *domain = NULL, *why = NULL;
    char normal[DOMAIN_BUF], err[DNS_ERR_MAX];
    int json = 0, i;
    unsigned port = 0;
    tls_stack stack = TLS_STACK_NONE;
    probe_settings settings;
    probe_result r;
    guard_result g;
    store *st;
    store_status rc;

    for (i = 0; i < argc; i++) {
        if (cli_is(argv[i], "--json")) {
            json = 1;
        } else if (cli_is(argv[i], "--port")) {
            if (i + 1 >= argc || parse_port(argv[++i], &port) != 0)
                return cli_error(CLI_USAGE, "--port needs a port number (1-65535)");
        } else if (cli_is(argv[i], "--stack")) {
            if (i + 1 >= argc || parse_stack(argv[++i], &stack) != 0)
                return cli_error(CLI_USAGE, "--stack needs a TLS stack built here: openssl%s",
                                 tls_stack_available(TLS_STACK_SCHANNEL) ? " or schannel"
                                                                          : "");
        } else if (argv[i][0] == '-' || domain) {
            return cli_error(CLI_USAGE, PROBE_USAGE);
        } else {
            domain = argv[i];
        }
    }
    if (!domain)
        return cli_error(CLI_USAGE, PROBE_USAGE);
    if (domain_normalize(domain, normal, &why) != 0)
        return cli_error(CLI_USAGE, "'%s' is not a domain name: %s", domain, why);
    if (ctx->dns && dns_check_servers(ctx->dns, err, sizeof err) != 0)
        return cli_error(CLI_USAGE, "--dns: %s", err);
    st = cli_store(ctx);
    if (!st)
        return CLI_FAIL;
    rc = probe_settings_load(st, &settings);
    if (rc != STORE_OK)
        return cli_store_error(ctx, rc);
    if (ctx->dns)
        settings.opts.dns_servers = ctx->dns;
    if (ctx->timeout_ms > 0)
        settings.opts.total_timeout_ms = (unsigned)ctx->timeout_ms;
    if (port)
        settings.opts.port = port;
    settings.opts.stack = stack;

    probe_domain(normal, &settings.opts, &r);
    remember(st, &r);
    check_guards(ctx, st, normal, settings.opts.total_timeout_ms, &g);
    if (json)
        print_json(ctx->out, &r, &g);
    else
        print_text(ctx->out, &r, &g);
    return CLI_OK;
}
