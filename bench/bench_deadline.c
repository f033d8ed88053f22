/* bench_deadline: one deadline per message (issue 11). A message to 70
 * domains whose mail servers never answer, under message_timeout_ms 3000:
 * the time route_run takes (the work OnArrival does on IIS's thread) must
 * stay near the deadline however many domains there are. Twice:
 *   1. 70 MX hosts that accept and never greet (probes cut by the deadline);
 *   2. 70 domains without STARTTLS whose _mta-sts TXT query is never
 *      answered (guards cut by the deadline; they all stay on TLS).
 * Peers are the tests' own, on loopback. Usage: bench_deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

#define N_DOMAINS 70
#define DEADLINE_MS 3000
#define GOAL_MS 3300

static const char message[] = "From: s@corp.example\r\nSubject: bench\r\n\r\nHello.\r\n";

typedef struct {
    trtest_scratch dir;
    char pickup[PLAT_PATH_MAX];
    dnsd *dns;
    peer *silent, *plain;
} world;

static int configure(world *w, const peer *mx_peer)
{
    char err[256], port[16];
    store *st;
    if (store_open(w->dir.db, &st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "bench_deadline: %s\n", err);
        return -1;
    }
    snprintf(port, sizeof port, "%u", peer_port(mx_peer));
    int ok = store_setting_set(st, "dns_servers", dnsd_server(w->dns)) == STORE_OK &&
             store_setting_set(st, "probe_port", port) == STORE_OK &&
             store_setting_set(st, "total_timeout_ms", "20000") == STORE_OK &&
             store_setting_set(st, "message_timeout_ms", "3000") == STORE_OK &&
             store_setting_set(st, "guard_timeout_ms", "5000") == STORE_OK;
    if (ok && store_rule_add(st, "Plain", w->pickup, 1, NULL) != STORE_OK)
        ok = 0;
    store_close(st);
    return ok ? 0 : -1;
}

/* Routes one message to N_DOMAINS domains named PREFIX<i>.example; prints
 * the time and how the recipients were routed. */
static int run_case(world *w, const char *title, const char *prefix)
{
    char err[256];
    engine *e;
    if (engine_open(w->dir.db, &e, err, sizeof err) != 0) {
        fprintf(stderr, "bench_deadline: %s\n", err);
        return -1;
    }
    static char addr[N_DOMAINS][64];
    const char *rcpts[N_DOMAINS];
    for (int i = 0; i < N_DOMAINS; i++) {
        snprintf(addr[i], sizeof addr[i], "u@%s%d.example", prefix, i);
        rcpts[i] = addr[i];
    }
    route_message m = { .message_id = "bench", .sender = "s@corp.example",
                        .recipients = rcpts, .n_recipients = N_DOMAINS, .source_instance = 1,
                        .message = (const unsigned char *)message,
                        .message_len = sizeof message - 1 };
    route_result r;
    uint64_t start = plat_now_ms();
    int rc = route_run(e, &m, &r);
    uint64_t took = plat_now_ms() - start;
    size_t tls = 0;
    for (size_t i = 0; i < r.n; i++)
        tls += !r.decisions[i].plain;
    printf("%s: route_run (OnArrival's work) %llu ms for %d domains, deadline %d ms"
           "  (goal <= %d ms); %lu of %lu recipients stay on TLS (%s)\n",
           title, (unsigned long long)took, N_DOMAINS, DEADLINE_MS, GOAL_MS, (unsigned long)tls,
           (unsigned long)r.n, r.n ? decide_reason_name(r.decisions[0].reason) : "-");
    route_result_free(&r);
    engine_close(e);
    return rc == 0 && tls == (size_t)N_DOMAINS ? 0 : -1;
}

static int open_world(world *w)
{
    if (trtest_scratch_make(&w->dir, "benchdl") != 0 ||
        trtest_join(w->pickup, sizeof w->pickup, w->dir.path, "Pickup") != 0 ||
        plat_mkdir(w->pickup) != 0 || !(w->dns = dnsd_start()))
        return -1;
    for (int i = 0; i < N_DOMAINS; i++) {
        char name[64], txt[80];
        snprintf(name, sizeof name, "hole%d.example", i);
        dnsd_add_domain(w->dns, name);
        snprintf(name, sizeof name, "plain%d.example", i);
        dnsd_add_domain(w->dns, name);
        snprintf(txt, sizeof txt, "_mta-sts.plain%d.example", i);
        dnsd_set_silent(w->dns, txt);
    }
    return 0;
}

int main(void)
{
    world w;
    int rc = 0;
    memset(&w, 0, sizeof w);
    if (open_world(&w) != 0 || !(w.silent = peer_start(PEER_SILENT, NULL)) ||
        !(w.plain = peer_start(PEER_NO_STARTTLS, NULL))) {
        fprintf(stderr, "bench_deadline: cannot start the loopback peers\n");
        return 1;
    }
    if (configure(&w, w.silent) != 0 || run_case(&w, "silent MX hosts", "hole") != 0)
        rc = 1;
    /* The same database, now pointing the probe at the peer without STARTTLS. */
    char err[256], port[16];
    store *st;
    snprintf(port, sizeof port, "%u", peer_port(w.plain));
    if (store_open(w.dir.db, &st, err, sizeof err) != STORE_OK) {
        rc = 1;
    } else {
        if (store_setting_set(st, "probe_port", port) != STORE_OK)
            rc = 1;
        store_close(st);
    }
    if (rc == 0 && run_case(&w, "silent MTA-STS look-ups", "plain") != 0)
        rc = 1;
    peer_stop(w.silent);
    peer_stop(w.plain);
    dnsd_stop(w.dns);
    trtest_scratch_remove(&w.dir);
    return rc;
}
