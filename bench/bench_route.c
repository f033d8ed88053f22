/* bench_route: the routing figures of issue 4.
 *   1. cached decisions per second, decide() alone, one thread;
 *   2. messages of one recipient routed per second, journal on;
 *   3. recipient rows per second in messages of 100 recipients;
 *   4. for reference, messages per second handed off to Pickup (one
 *      flushed file each).
 * Usage: bench_route [SECONDS_FOR_DECIDE] (default 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "domset.h"
#include "engine.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

static double seconds_since(uint64_t start_ms)
{
    uint64_t d = plat_now_ms() - start_ms;
    return (double)(d ? d : 1) / 1000.0;
}

static void bench_decide(double seconds)
{
    domset *never = domset_new(), *force = domset_new();
    char name[64];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "never%d.example", i);
        domset_add(never, name);
        snprintf(name, sizeof name, "*.force%d.example", i);
        domset_add(force, name);
    }
    decide_rule rule = { .expired_cert = 1, .never_redirect = never, .force_plain = force };
    static const probe_status statuses[] = { PROBE_STARTTLS, PROBE_NO_STARTTLS,
                                             PROBE_CERT_EXPIRED, PROBE_HANDSHAKE_FAILED,
                                             PROBE_TIMEOUT, PROBE_NOT_PROBED };
    char domains[64][64];
    for (int i = 0; i < 64; i++)
        snprintf(domains[i], sizeof domains[i], "mx%d.host%d.example", i, i * 7);
    uint64_t start = plat_now_ms();
    unsigned long long n = 0, plain = 0;
    while (seconds_since(start) < seconds) {
        for (int i = 0; i < 100000; i++, n++) {
            decide_input in = { .rule = &rule, .domain = domains[n & 63],
                                .policy = DECIDE_POLICY_NONE, .expired_cached = (int)(n & 1),
                                .probe_status = statuses[n % 6] };
            decide_outcome o = decide(&in);
            plain += o.route == DECIDE_PLAIN;
        }
    }
    double rate = (double)n / seconds_since(start);
    printf("cached decisions/s (decide alone, one thread): %.0f  (goal >= 1000000; %llu plain)\n",
           rate, plain);
    domset_free(never);
    domset_free(force);
}

typedef struct {
    trtest_scratch dir;
    char pickup[PLAT_PATH_MAX];
    engine *eng;
} bench_world;

static int world_open(bench_world *w)
{
    char err[256];
    if (trtest_scratch_make(&w->dir, "bench") != 0 ||
        trtest_join(w->pickup, sizeof w->pickup, w->dir.path, "Pickup") != 0 ||
        plat_mkdir(w->pickup) != 0)
        return -1;
    if (engine_open(w->dir.db, &w->eng, err, sizeof err) != 0) {
        fprintf(stderr, "bench_route: %s\n", err);
        return -1;
    }
    store *st;
    if (store_open(w->dir.db, &st, err, sizeof err) != STORE_OK)
        return -1;
    const char *never[] = { "*.tls.example" }, *force[] = { "plain.example" };
    int rc = store_rule_add(st, "Plain", w->pickup, 1, NULL) == STORE_OK &&
             store_domains_add(st, "Plain", STORE_LIST_NEVER_REDIRECT, never, 1) == STORE_OK &&
             store_domains_add(st, "Plain", STORE_LIST_FORCE_PLAIN, force, 1) == STORE_OK;
    store_close(st);
    return rc && engine_refresh(w->eng, err, sizeof err) == 0 ? 0 : -1;
}

static void world_close(bench_world *w)
{
    engine_close(w->eng);
    trtest_scratch_remove(&w->dir);
}

static const char message[] = "From: s@corp.example\r\nTo: r@x.example\r\nSubject: bench\r\n"
                              "\r\nHello.\r\n";

/* Process CPU seconds: on a shared machine the wall clock measures the
 * neighbours too, so every routing figure is printed both ways. */
static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

/* Routes n_messages of n_rcpts recipients each; returns elapsed seconds
 * and the process CPU seconds in *cpu. */
/* spread: recipients over ten subdomains of base; else all at base. */
static double route_batch(bench_world *w, int n_messages, int n_rcpts, const char *base,
                          int spread, int *errors, double *cpu)
{
    char (*addr)[64] = malloc((size_t)n_rcpts * sizeof *addr);
    const char **rcpts = malloc((size_t)n_rcpts * sizeof *rcpts);
    char mid[32];
    uint64_t start = plat_now_ms();
    double cpu_start = cpu_now();
    for (int m = 0; m < n_messages; m++) {
        for (int i = 0; i < n_rcpts; i++) {
            if (spread)
                snprintf(addr[i], sizeof addr[i], "u%d@d%d.%s", i, i % 10, base);
            else
                snprintf(addr[i], sizeof addr[i], "u%d@%s", i, base);
            rcpts[i] = addr[i];
        }
        snprintf(mid, sizeof mid, "m%d", m);
        route_message msg = { .message_id = mid, .sender = "s@corp.example",
                              .recipients = rcpts, .n_recipients = (size_t)n_rcpts,
                              .source_instance = 1, .message = (const unsigned char *)message,
                              .message_len = sizeof message - 1 };
        route_result r;
        if (route_run(w->eng, &msg, &r) != 0 || r.error[0])
            (*errors)++;
        route_result_free(&r);
    }
    double s = seconds_since(start);
    *cpu = cpu_now() - cpu_start;
    if (*cpu <= 0)
        *cpu = 1e-3;
    free(addr);
    free(rcpts);
    return s;
}

/* Resident memory in kB where /proc says it (Linux), else -1. */
static long resident_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * 4;
}

int main(int argc, char **argv)
{
    double decide_seconds = argc > 1 ? atof(argv[1]) : 2.0;
    bench_decide(decide_seconds > 0 ? decide_seconds : 2.0);

    bench_world w;
    memset(&w, 0, sizeof w);
    if (world_open(&w) != 0) {
        fprintf(stderr, "bench_route: cannot set up a database in the temp folder\n");
        return 1;
    }
    int errors = 0;
    double cpu;
    int n1 = 40000;
    double s1 = route_batch(&w, n1, 1, "tls.example", 1, &errors, &cpu);
    printf("messages of 1 recipient routed/s, journal on: %.0f wall, %.0f per CPU second"
           "  (goal >= 20000)\n",
           n1 / s1, n1 / cpu);
    /* 1,000,000 recipients in two parts, to see that memory stays flat. */
    int n100 = 10000;
    double cpu_first;
    double s100 = route_batch(&w, n100 / 10, 100, "tls.example", 1, &errors, &cpu_first);
    long rss_first = resident_kb();
    s100 += route_batch(&w, n100 - n100 / 10, 100, "tls.example", 1, &errors, &cpu);
    long rss_last = resident_kb();
    cpu += cpu_first;
    printf("recipient rows/s in messages of 100 recipients: %.0f wall, %.0f per CPU second"
           "  (goal >= 200000; %d recipients)\n",
           (double)n100 * 100 / s100, (double)n100 * 100 / cpu, n100 * 100);
    if (rss_first >= 0)
        printf("resident memory after 100,000 recipients: %ld kB; after 1,000,000: %ld kB\n",
               rss_first, rss_last);
    int np = 500;
    double sp = route_batch(&w, np, 1, "plain.example", 0, &errors, &cpu);
    printf("messages handed off to Pickup/s (one flushed file each): %.0f wall\n", np / sp);
    if (errors)
        printf("errors: %d\n", errors);
    world_close(&w);
    return errors ? 1 : 0;
}
