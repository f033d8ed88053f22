/* bench_probe: the probe's performance figures, printed (not a test).
 *   (a) one probe of a local STARTTLS peer next to `openssl s_client
 *       -starttls smtp` against the same peer (goal: ratio <= 1.1);
 *   (b) 20 uncached domains in one probe_many against one domain
 *       (goal: <= 1.5x), with the loopback peer as is (all CPU: both ends of
 *       40 handshakes in this process) and answering after 50 ms per
 *       command like a distant server (what the goal is about);
 *   (c) a black-hole MX (three hosts that accept and never speak) decided
 *       within the total deadline + 10%.
 * The peers are the tests' own (tests/support), started here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "probe.h"

#define RUNS 11

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *us, size_t n)
{
    qsort(us, n, sizeof *us, cmp_u64);
    return (double)us[n / 2] / 1000.0;
}

/* plat_now_ms is all the clock we have; time batches to get sub-ms figures. */
static uint64_t time_probe_us(const char *domain, const probe_options *o, int batch)
{
    uint64_t start = plat_now_ms();
    int i;
    probe_result r;
    for (i = 0; i < batch; i++) {
        probe_domain(domain, o, &r);
        if (r.status != PROBE_STARTTLS) {
            fprintf(stderr, "bench: %s probed %s (%s)\n", domain,
                    probe_status_name(r.status), r.error);
            exit(1);
        }
    }
    return (plat_now_ms() - start) * 1000u / (uint64_t)batch;
}

/* extra: more s_client options ("" for none). */
static int time_s_client_us(unsigned port, const char *extra, int batch, uint64_t *out)
{
    char cmd[300];
    uint64_t start;
    int i;
    snprintf(cmd, sizeof cmd,
             "openssl s_client -starttls smtp -connect 127.0.0.1:%u -servername mx.tls.test%s"
             " </dev/null >/dev/null 2>&1", port, extra);
    start = plat_now_ms();
    for (i = 0; i < batch; i++)
        if (system(cmd) != 0)
            return -1;
    *out = (plat_now_ms() - start) * 1000u / (uint64_t)batch;
    return 0;
}

/* What starting the openssl program alone costs, to read (a) fairly. */
static double spawn_ms(void)
{
    uint64_t us[RUNS];
    int i;
    for (i = 0; i < RUNS; i++) {
        uint64_t start = plat_now_ms();
        int k;
        for (k = 0; k < 5; k++)
            if (system("openssl version >/dev/null 2>&1") != 0)
                return -1.0;
        us[i] = (plat_now_ms() - start) * 1000u / 5u;
    }
    return median_ms(us, RUNS);
}

/* s_client loads the system's trust store (some 140 certificates) before
 * connecting; the probe does not, as it does not verify chains by default.
 * Both are shown: s_client as is, and told to skip the store
 * (-no-CAfile -no-CApath -no-CAstore), which is the same work as the probe. */
static void bench_single(peer *p, probe_options o)
{
    static const char *const variants[2] = { "", " -no-CAfile -no-CApath -no-CAstore" };
    uint64_t probe_us[RUNS], client_us[2][RUNS];
    int i, v, have_client = 1;
    double pm, cm[2];
    o.port = peer_port(p);
    for (i = 0; i < RUNS; i++) {
        probe_us[i] = time_probe_us("tls.test", &o, 10);
        for (v = 0; v < 2 && have_client; v++)
            if (time_s_client_us(o.port, variants[v], 5, &client_us[v][i]) != 0)
                have_client = 0;
    }
    pm = median_ms(probe_us, RUNS);
    printf("(a) probe of a local STARTTLS peer (MX + A look-up, EHLO, STARTTLS, handshake,"
           " QUIT): median %.2f ms\n", pm);
    if (!have_client) {
        printf("    openssl s_client -starttls smtp: not available here\n");
        return;
    }
    cm[0] = median_ms(client_us[0], RUNS);
    cm[1] = median_ms(client_us[1], RUNS);
    printf("    openssl s_client -starttls smtp, same peer: median %.2f ms; ratio %.2f\n", cm[0],
           pm / cm[0]);
    printf("    the same without loading the trust store (-no-CAfile -no-CApath -no-CAstore):"
           " median %.2f ms; ratio %.2f (goal <= 1.1) %s\n", cm[1], pm / cm[1],
           pm / cm[1] <= 1.1 ? "MET" : "MISSED");
    printf("    (starting a process alone, `openssl version`: %.2f ms)\n", spawn_ms());
}

/* Median of one domain and of 20 distinct uncached domains in one call. */
static void bench_many(peer *p, probe_options o, int runs, int batch, const char *label)
{
    const char *domains[20];
    char names[20][32];
    probe_result r[20];
    uint64_t one[RUNS], many[RUNS];
    int i, k;
    double m1, m20;
    o.port = peer_port(p);
    for (i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "many%d.test", i);
        domains[i] = names[i];
    }
    for (k = 0; k < runs; k++) {
        uint64_t start = plat_now_ms();
        for (i = 0; i < batch; i++)
            probe_many(domains, 1, &o, r);
        one[k] = (plat_now_ms() - start) * 1000u / (uint64_t)batch;
        start = plat_now_ms();
        for (i = 0; i < batch; i++)
            probe_many(domains, 20, &o, r);
        many[k] = (plat_now_ms() - start) * 1000u / (uint64_t)batch;
        for (i = 0; i < 20; i++)
            if (r[i].status != PROBE_STARTTLS) {
                fprintf(stderr, "bench: %s: %s\n", domains[i], probe_status_name(r[i].status));
                exit(1);
            }
    }
    m1 = median_ms(one, (size_t)runs);
    m20 = median_ms(many, (size_t)runs);
    printf("(b) %s: one domain %.2f ms; 20 uncached domains in one call %.2f ms;"
           " ratio %.2f (goal <= 1.5) %s\n", label, m1, m20, m20 / m1,
           m20 / m1 <= 1.5 ? "MET" : "MISSED");
}

static void bench_black_hole(probe_options o)
{
    peer *silent = peer_start(PEER_SILENT, NULL);
    probe_result r;
    unsigned limit;
    if (!silent) {
        fprintf(stderr, "bench: no silent peer\n");
        exit(1);
    }
    o.port = peer_port(silent);
    o.connect_timeout_ms = 5000;
    o.reply_timeout_ms = 10000;
    o.total_timeout_ms = 2000;
    limit = o.total_timeout_ms + o.total_timeout_ms / 10;
    probe_domain("blackhole.test", &o, &r);
    peer_stop(silent);
    printf("(c) black-hole MX (3 hosts accept, never speak; reply deadline 10 s, total 2 s):"
           " status %s after %u ms (limit %u ms) %s\n", probe_status_name(r.status),
           r.elapsed_ms, limit, r.elapsed_ms <= limit ? "MET" : "MISSED");
}

int main(void)
{
    dnsd *dns = dnsd_start();
    peer *p = peer_start(PEER_STARTTLS, NULL), *distant;
    probe_options o;
    int i;
    char name[32];
    if (!dns || !p) {
        fprintf(stderr, "bench: could not start the peers\n");
        return 1;
    }
    dnsd_add_mx(dns, "tls.test", 10, "mx.tls.test");
    dnsd_add_a(dns, "mx.tls.test", 127, 0, 0, 1);
    for (i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "many%d.test", i);
        dnsd_add_mx(dns, name, 10, "mx.tls.test");
    }
    dnsd_add_mx(dns, "blackhole.test", 10, "bh1.test");
    dnsd_add_mx(dns, "blackhole.test", 20, "bh2.test");
    dnsd_add_mx(dns, "blackhole.test", 30, "bh3.test");
    dnsd_add_a(dns, "bh1.test", 127, 0, 0, 1);
    dnsd_add_a(dns, "bh2.test", 127, 0, 0, 1);
    dnsd_add_a(dns, "bh3.test", 127, 0, 0, 1);
    probe_options_default(&o);
    o.dns_servers = dnsd_server(dns);
    o.ehlo_name = "bench.client.test";

    bench_single(p, o);
    bench_many(p, o, RUNS, 5, "loopback peer, no network delay (CPU-bound: 2x20 handshakes)");
    distant = peer_start(PEER_STARTTLS, NULL);
    if (!distant) {
        fprintf(stderr, "bench: could not start the peers\n");
        return 1;
    }
    peer_set_reply_delay(distant, 50);
    bench_many(distant, o, 7, 1, "peer answering each command after 50 ms (a distant server)");
    peer_stop(distant);
    bench_black_hole(o);
    peer_stop(p);
    dnsd_stop(dns);
    return 0;
}
