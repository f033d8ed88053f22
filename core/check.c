/* check: the table of setup checks (check.h). Each check reads what it
 * needs itself and never changes anything: no file is written into a
 * Pickup folder (IIS would pick it up) and nothing is sent to a mail
 * server beyond a TCP connect. */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "iis_metabase.h"
#include "iis_model.h"
#include "iis_read.h"
#include "net.h"
#include "pickup.h"
#include "plat.h"
#include "store.h"

#define CHECK_TIMEOUT_MS 5000

typedef struct {
    const check_options *opt;
    store *db;                 /* NULL when the database could not be opened */
    store_rule *rules;
    size_t n_rules;
    char dns[512];             /* resolvers: option, setting, or "" (system) */
    unsigned probe_port;
    iis_model *iis;            /* IIS's configuration; empty (saying why) off IIS */
} check_env;

static void say(char *dst, const char *fmt, va_list ap)
{
    vsnprintf(dst, CHECK_TEXT_MAX, fmt, ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static check_status found(check_row *row, check_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(row->detail, fmt, ap);
    va_end(ap);
    return st;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void remedy(check_row *row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(row->remedy, fmt, ap);
    va_end(ap);
}

static unsigned timeout_of(const check_env *env)
{
    return env->opt->timeout_ms ? env->opt->timeout_ms : CHECK_TIMEOUT_MS;
}

/* ---- portable checks ---------------------------------------------------- */

static check_status check_database(check_env *env, check_row *row)
{
    if (!env->db) {
        /* open_env said why in the detail. */
        remedy(row, "Run the installer again, or check that the SMTP service's account may "
                    "write to the database's folder.");
        return CHECK_FAIL;
    }
    return found(row, CHECK_OK, "the database %s opens and is up to date", env->opt->db_path);
}

static const store_rule *first_enabled(const check_env *env)
{
    for (size_t i = 0; i < env->n_rules; i++)
        if (env->rules[i].enabled)
            return &env->rules[i];
    return NULL;
}

/* A check of one rule's setup; r is NULL when no rule is enabled. */
typedef check_status (*rule_check_fn)(check_env *env, const store_rule *r, check_row *row);

/* How much a status needs the admin's eye: a skip says something could
 * not be looked at, which an OK of another rule must not hide. */
static int severity(check_status st)
{
    static const int rank[] = { [CHECK_OK] = 0, [CHECK_SKIP] = 1, [CHECK_WARN] = 2,
                                [CHECK_FAIL] = 3 };
    return rank[st];
}

/* Each virtual server has its own rule, and each rule its own Plain TCP
 * Server, so every enabled rule is checked; the row is the worst rule's,
 * named when there is more than one. */
static check_status for_every_enabled_rule(check_env *env, check_row *row, rule_check_fn fn)
{
    check_row worst = *row;
    check_status worst_st = CHECK_OK;
    const char *worst_rule = "";
    size_t checked = 0;
    for (size_t i = 0; i < env->n_rules; i++) {
        const store_rule *r = &env->rules[i];
        check_row one = *row;
        if (!r->enabled)
            continue;
        check_status st = fn(env, r, &one);
        if (checked++ == 0 || severity(st) > severity(worst_st)) {
            worst = one;
            worst_st = st;
            worst_rule = r->name;
        }
    }
    if (checked == 0)
        return fn(env, NULL, row);
    if (checked > 1)
        snprintf(row->detail, sizeof row->detail, "rule \"%.60s\" (worst of %lu rules): %.360s",
                 worst_rule, (unsigned long)checked, worst.detail);
    else
        snprintf(row->detail, sizeof row->detail, "%s", worst.detail);
    snprintf(row->remedy, sizeof row->remedy, "%s", worst.remedy);
    return worst_st;
}

static size_t enabled_rules(const check_env *env)
{
    size_t n = 0;
    for (size_t i = 0; i < env->n_rules; i++)
        n += env->rules[i].enabled != 0;
    return n;
}

static check_status check_rule(check_env *env, check_row *row)
{
    const store_rule *r = first_enabled(env);
    size_t n = enabled_rules(env);
    if (!env->db)
        return found(row, CHECK_SKIP, "the database cannot be read");
    remedy(row, "Create the rule in TLS Router Manager (Rules, New Rule) or with `tlsrouter rule "
                "add NAME --pickup DIR`, and enable it.");
    if (n > 1)
        return found(row, CHECK_OK, "%lu rules are enabled, the first \"%.100s\" for virtual "
                     "server %d; the checks below look at each", (unsigned long)n, r->name,
                     r->source_instance);
    if (r)
        return found(row, CHECK_OK, "rule \"%.100s\" sends virtual server %d's mail without TLS "
                                    "to %.200s", r->name, r->source_instance, r->pickup_dir);
    if (env->n_rules > 0)
        return found(row, CHECK_FAIL, "no rule is enabled: every message stays on TLS");
    return found(row, CHECK_FAIL, "there is no rule: every message stays on TLS");
}

static check_status pickup_drained(const store_rule *r, check_row *row)
{
    pickup_backlog scan;
    if (pickup_backlog_of(r->pickup_dir, &scan) != 0) {
        remedy(row, "Give the SMTP service's account read and write access to the folder.");
        return found(row, CHECK_FAIL, "the Pickup folder %.300s cannot be listed", r->pickup_dir);
    }
    int64_t age = scan.count ? plat_wall_ms() - scan.oldest_ms : 0;
    if (age > PICKUP_UNDRAINED_MS) {
        remedy(row, "Start the Plain TCP Server in IIS Manager and check that this is its Pickup "
                    "folder; the files are delivered once it picks them up.");
        return found(row, CHECK_FAIL,
                     "%lu file(s) wait in %.250s, the oldest for %lld minutes: the Plain TCP "
                     "Server is not picking them up", (unsigned long)scan.count, r->pickup_dir,
                     (long long)(age / 60000));
    }
    return found(row, CHECK_OK, "%.300s exists and is drained (%lu file(s) waiting, none older "
                                "than 5 minutes)", r->pickup_dir, (unsigned long)scan.count);
}

static check_status destination_pickup_of(check_env *env, const store_rule *r, check_row *row)
{
    char temp[PLAT_PATH_MAX];
    (void)env;
    if (!r)
        return found(row, CHECK_SKIP, "no enabled rule names a Pickup folder");
    if (!plat_is_dir(r->pickup_dir)) {
        remedy(row, "Create the Plain TCP Server in IIS (its own Pickup folder), then set that "
                    "folder in the rule.");
        return found(row, CHECK_FAIL, "the Pickup folder %.300s does not exist", r->pickup_dir);
    }
    /* Files are written next to the Pickup folder, then moved in. */
    if (pickup_temp_dir_for(r->pickup_dir, temp, sizeof temp) == 0 && !plat_is_dir(temp) &&
        plat_mkdir(temp) != 0) {
        remedy(row, "Give the SMTP service's account write access to the folder above the "
                    "Pickup folder.");
        return found(row, CHECK_FAIL, "the hand-off folder %.300s cannot be created", temp);
    }
    return pickup_drained(r, row);
}

static check_status check_destination_pickup(check_env *env, check_row *row)
{
    return for_every_enabled_rule(env, row, destination_pickup_of);
}

static dns_status resolver_answers(check_env *env, const char *domain, dns_mx_list *mx)
{
    uint64_t deadline = plat_now_ms() + timeout_of(env);
    return dns_lookup_mx(env->dns[0] ? env->dns : NULL, domain, deadline, mx);
}

static int answered(dns_status st)
{
    return st == DNS_OK || st == DNS_NXDOMAIN || st == DNS_NODATA;
}

static check_status check_dns(check_env *env, check_row *row)
{
    const char *domain = env->opt->dns_domain ? env->opt->dns_domain : "example.com";
    dns_mx_list mx;
    dns_status st = resolver_answers(env, domain, &mx);
    if (answered(st))
        return found(row, CHECK_OK, "the resolvers (%.200s) answer MX queries",
                     env->dns[0] ? env->dns : "the system's");
    remedy(row, "Check the DNS servers in Settings (empty: the system's) and that this server "
                "may query them.");
    return found(row, CHECK_FAIL, "the MX query for %.100s got no answer (%s): no domain can "
                                  "be probed, every message stays on TLS",
                 domain, dns_status_name(st));
}

static check_status check_outbound_25(check_env *env, check_row *row)
{
    const char *domain = env->opt->outbound_domain ? env->opt->outbound_domain : "gmail.com";
    dns_mx_list mx;
    dns_addr_list addrs;
    net_fd fd;
    char err[160] = "no MX host";
    uint64_t deadline = plat_now_ms() + timeout_of(env);
    remedy(row, "Ask the network's administrator to allow outbound TCP port %u from this "
                "server; until then IIS cannot deliver either.", env->probe_port);
    if (resolver_answers(env, domain, &mx) != DNS_OK || mx.count == 0)
        return found(row, CHECK_WARN, "the MX hosts of %.100s could not be found, so outbound "
                                      "port %u was not tried", domain, env->probe_port);
    if (dns_lookup_addrs(env->dns[0] ? env->dns : NULL, mx.hosts[0].name, deadline, &addrs) ==
            DNS_OK &&
        addrs.count > 0 &&
        net_connect(addrs.addrs[0], env->probe_port, deadline, &fd, err, sizeof err) == NET_OK) {
        net_close(fd);
        return found(row, CHECK_OK, "port %u of %.150s (an MX host of %.80s) answers",
                     env->probe_port, mx.hosts[0].name, domain);
    }
    return found(row, CHECK_WARN, "port %u of %.150s (an MX host of %.80s) cannot be reached: "
                                  "%.150s", env->probe_port, mx.hosts[0].name, domain, err);
}

/* ---- what IIS says --------------------------------------------------------- */

static const iis_server *source_server(const check_env *env, const store_rule *r)
{
    return env->iis ? iis_model_server(env->iis, r ? r->source_instance : 1) : NULL;
}

static check_status no_iis_model(const check_env *env, check_row *row)
{
    return found(row, CHECK_SKIP, "IIS's configuration cannot be read here: %.300s",
                 env->iis && env->iis->why[0] ? env->iis->why : "no IIS");
}

/* Two servers cannot both listen on one port: the Plain TCP Server needs
 * its own (the brief: 2525). 0 when they share none, else the port. */
static unsigned shared_port(const iis_server *a, const iis_server *b)
{
    for (size_t i = 0; i < a->n_ports; i++)
        if (iis_server_listens_on(b, a->ports[i]))
            return a->ports[i];
    return 0;
}

static check_status judge_destination(const iis_server *src, const iis_server *dst,
                                      check_row *row)
{
    unsigned port = src ? shared_port(src, dst) : 0;
    if (src && dst->instance == src->instance) {
        remedy(row, "Create a second virtual server (the Plain TCP Server) with its own Pickup "
                    "folder and make that folder the rule's destination.");
        return found(row, CHECK_FAIL, "the destination is virtual server %d itself, the rule's "
                                      "source: mail would come straight back", dst->instance);
    }
    if (dst->state != IIS_STATE_STARTED) {
        remedy(row, "Start \"%.100s\" in IIS Manager (IIS 6.0 Manager, SMTP Virtual Server, "
                    "Start).", dst->comment);
        return found(row, CHECK_FAIL, "the Plain TCP Server \"%.100s\" (virtual server %d) is "
                     "%s: mail handed to it waits", dst->comment, dst->instance,
                     iis_state_name(dst->state));
    }
    if (port) {
        remedy(row, "Give the Plain TCP Server its own port (the brief uses 2525) in its "
                    "General, Advanced settings.");
        return found(row, CHECK_FAIL, "the Plain TCP Server listens on port %u, as the source "
                                      "server does", port);
    }
    if (iis_server_requires_tls(dst)) {
        remedy(row, "Untick \"TLS encryption\" in the Plain TCP Server's Delivery, Outbound "
                    "Security.");
        return found(row, CHECK_FAIL, "the Plain TCP Server requires TLS for outbound mail: "
                                      "the hand-off would only move the failure");
    }
    return found(row, CHECK_OK, "the Plain TCP Server \"%.100s\" (virtual server %d) is "
                                "started, on port %u, and sends without TLS", dst->comment,
                 dst->instance, dst->n_ports ? dst->ports[0] : 25);
}

static check_status destination_server_of(check_env *env, const store_rule *r, check_row *row)
{
    if (!r)
        return found(row, CHECK_SKIP, "no enabled rule names a destination");
    if (!env->iis || env->iis->n_servers == 0)
        return no_iis_model(env, row);
    const iis_server *dst = iis_model_server_by_pickup(env->iis, r->pickup_dir);
    if (!dst) {
        remedy(row, "Set the rule's destination to the Pickup folder of the Plain TCP Server "
                    "(IIS Manager shows it in the server's Messages properties).");
        return found(row, CHECK_FAIL, "no IIS SMTP virtual server has %.300s as its Pickup "
                                      "folder: nothing picks the mail up", r->pickup_dir);
    }
    return judge_destination(source_server(env, r), dst, row);
}

static check_status check_destination_server(check_env *env, check_row *row)
{
    return for_every_enabled_rule(env, row, destination_server_of);
}

static int has_spf(const dns_txt_list *txt)
{
    for (size_t i = 0; i < txt->count; i++)
        if (strncmp(txt->records[i], "v=spf1", 6) == 0 &&
            (txt->records[i][6] == ' ' || txt->records[i][6] == '\0'))
            return 1;
    return 0;
}

/* The brief's advice: the name this server says in EHLO resolves (A) and
 * publishes SPF, or receivers may refuse mail sent without TLS. Warnings
 * only: the router works either way. */
static check_status source_fqdn_of(check_env *env, const store_rule *r, check_row *row)
{
    const iis_server *src = source_server(env, r);
    if (!src)
        return no_iis_model(env, row);
    if (!src->fqdn[0])
        return found(row, CHECK_SKIP, "virtual server %d sets no FullyQualifiedDomainName",
                     src->instance);
    uint64_t deadline = plat_now_ms() + timeout_of(env);
    const char *dns = env->dns[0] ? env->dns : NULL;
    dns_addr_list a;
    dns_txt_list txt;
    int has_a = dns_lookup_addrs(dns, src->fqdn, deadline, &a) == DNS_OK && a.count > 0;
    dns_lookup_txt(dns, src->fqdn, deadline, &txt);
    int spf = txt.status == DNS_OK && has_spf(&txt);
    dns_txt_free(&txt);
    if (has_a && spf)
        return found(row, CHECK_OK, "%.200s has an A record and an SPF record", src->fqdn);
    remedy(row, "Publish an A record for %.150s and an SPF record (TXT \"v=spf1 ...\") naming "
                "this server's public address.", src->fqdn);
    return found(row, CHECK_WARN, "%.200s (the name virtual server %d says in EHLO) has %s",
                 src->fqdn, src->instance,
                 !has_a && !spf ? "neither an A record nor an SPF record"
                                : !has_a ? "no A record" : "no SPF record");
}

static check_status check_source_fqdn(check_env *env, check_row *row)
{
    return for_every_enabled_rule(env, row, source_fqdn_of);
}

/* ---- Windows checks, through the host hooks ------------------------------- */

static check_status not_windows(check_env *env, check_row *row)
{
    (void)env;
    return found(row, CHECK_SKIP, "not a Windows host: there is no IIS here to check");
}

static check_status check_iis_smtp(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->service)
        return not_windows(env, row);
    return env->opt->host->service("SMTPSVC", 1, row);
}

static check_status check_iisadmin(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->service)
        return not_windows(env, row);
    return env->opt->host->service("IISADMIN", 0, row);
}

static check_status check_smtpsvc(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->service)
        return not_windows(env, row);
    return env->opt->host->service("SMTPSVC", 0, row);
}

static check_status check_sink_registered(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->sink_registered)
        return not_windows(env, row);
    return env->opt->host->sink_registered(row);
}

static check_status sink_bound_for(check_env *env, const store_rule *r, check_row *row)
{
    return env->opt->host->sink_bound(r ? r->source_instance : 1, row);
}

static check_status check_sink_bound(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->sink_bound)
        return not_windows(env, row);
    return for_every_enabled_rule(env, row, sink_bound_for);
}

static check_status check_schannel(check_env *env, check_row *row)
{
    if (!env->opt->host || !env->opt->host->schannel)
        return not_windows(env, row);
    return env->opt->host->schannel(row);
}

/* ---- the table -------------------------------------------------------------- */

typedef check_status (*check_fn)(check_env *env, check_row *row);

/* In the order of the brief's setup. */
static const struct {
    const char *name;
    check_fn run;
} checks[] = {
    { "database", check_database },
    { "iis-smtp", check_iis_smtp },
    { "iisadmin", check_iisadmin },
    { "smtpsvc", check_smtpsvc },
    { "sink-registered", check_sink_registered },
    { "sink-bound", check_sink_bound },
    { "rule", check_rule },
    { "destination-pickup", check_destination_pickup },
    { "destination-server", check_destination_server },
    { "source-fqdn", check_source_fqdn },
    { "dns", check_dns },
    { "outbound-25", check_outbound_25 },
    { "schannel", check_schannel },
};

#define N_CHECKS (sizeof checks / sizeof checks[0])

const char *check_status_name(check_status s)
{
    static const char *const names[] = { "ok", "warn", "fail", "skip" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "fail";
}

const char *check_name_at(size_t index)
{
    return index < N_CHECKS ? checks[index].name : NULL;
}

int check_any_failed(const check_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].status == CHECK_FAIL)
            return 1;
    return 0;
}

static void open_env(const check_options *o, check_env *env, check_row *db_row)
{
    char err[256];
    memset(env, 0, sizeof *env);
    env->opt = o;
    env->probe_port = 25;
    if (store_open(o->db_path, &env->db, err, sizeof err) != STORE_OK) {
        env->db = NULL;
        snprintf(db_row->detail, sizeof db_row->detail, "the database %.200s cannot be opened: "
                 "%.200s", o->db_path, err);
        db_row->status = CHECK_FAIL;
    }
    if (env->db && store_rule_list(env->db, &env->rules, &env->n_rules) != STORE_OK) {
        env->rules = NULL;
        env->n_rules = 0;
    }
    int64_t port = env->db ? store_setting_int(env->db, "probe_port", 25) : 25;
    env->probe_port = port > 0 && port < 65536 ? (unsigned)port : 25;
    char why[256];
    if (o->metabase) {
        env->iis = iis_metabase_load(o->metabase, why, sizeof why);
        if (!env->iis)
            env->iis = iis_model_empty("%s", why);
    } else
        iis_read_system(&env->iis);
    if (o->dns_servers)
        snprintf(env->dns, sizeof env->dns, "%s", o->dns_servers);
    else if (env->db)
        store_setting_get(env->db, "dns_servers", env->dns, sizeof env->dns);
}

int check_run(const check_options *o, check_row **rows, size_t *n)
{
    check_env env;
    check_row *out = calloc(N_CHECKS, sizeof *out);
    *rows = NULL;
    *n = 0;
    if (!out)
        return -1;
    open_env(o, &env, &out[0]);
    for (size_t i = 0; i < N_CHECKS; i++) {
        snprintf(out[i].name, sizeof out[i].name, "%s", checks[i].name);
        out[i].status = checks[i].run(&env, &out[i]);
    }
    free(env.rules);
    store_close(env.db);
    iis_model_free(env.iis);
    *rows = out;
    *n = N_CHECKS;
    return 0;
}
