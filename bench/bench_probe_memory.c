/* bench_probe_memory: private memory over 10,000 probes in one process,
 * printed (not a test). Every probe_many call starts its own threads, and
 * each thread that used OpenSSL leaves per-thread state behind unless it
 * releases it (plat_thread_start does, with OPENSSL_thread_stop); a static
 * Windows build gets no other clean-up. The peer is the tests' STARTTLS
 * SMTP server on loopback (one thread per connection, the same way), the
 * DNS server the tests' own. Goal: flat, the growth from 1,000 to 10,000
 * probes under GROWTH_GOAL_KB. */
#include <stdio.h>
#include <stdlib.h>

#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "probe.h"
#include "trtest.h"

#define DOMAINS 10           /* per probe_many call: ten threads each time */
#define FIRST_MARK 1000
#define PROBES 10000
#define GROWTH_GOAL_KB 1024

static void probe_batch(const char *const *domains, const probe_options *o)
{
    probe_result r[DOMAINS];
    probe_many(domains, DOMAINS, o, r);
    for (int i = 0; i < DOMAINS; i++)
        if (r[i].status != PROBE_STARTTLS) {
            fprintf(stderr, "bench: %s: %s (%s)\n", r[i].domain, probe_status_name(r[i].status),
                    r[i].error);
            exit(1);
        }
}

int main(void)
{
    dnsd *dns = dnsd_start();
    peer *p = peer_start(PEER_STARTTLS, NULL);
    char names[DOMAINS][32];
    const char *domains[DOMAINS];
    probe_options o;
    if (!dns || !p) {
        fprintf(stderr, "bench: could not start the peers\n");
        return 1;
    }
    dnsd_add_a(dns, "mx.mem.test", 127, 0, 0, 1);
    for (int i = 0; i < DOMAINS; i++) {
        snprintf(names[i], sizeof names[i], "mem%d.test", i);
        dnsd_add_mx(dns, names[i], 10, "mx.mem.test");
        domains[i] = names[i];
    }
    probe_options_default(&o);
    o.dns_servers = dnsd_server(dns);
    o.port = peer_port(p);
    o.ehlo_name = "bench.client.test";

    long at_first = -1, at_end, in_use_first = -1, in_use_end;
    uint64_t start = plat_now_ms();
    for (int done = 0; done < PROBES; done += DOMAINS) {
        probe_batch(domains, &o);
        if (done + DOMAINS == FIRST_MARK) {
            at_first = trtest_private_kb();
            in_use_first = trtest_heap_in_use_kb();
        }
    }
    at_end = trtest_private_kb();
    in_use_end = trtest_heap_in_use_kb();
    double seconds = (double)(plat_now_ms() - start) / 1000.0;
    peer_stop(p);
    dnsd_stop(dns);
    if (at_first < 0 || at_end < 0) {
        printf("private memory: cannot be read on this system\n");
        return 0;
    }
    long growth = at_end - at_first;
    printf("probes of a loopback STARTTLS peer, %d per probe_many call (a thread each): %d in "
           "%.1f s\n", DOMAINS, PROBES, seconds);
    printf("private memory after %d probes: %ld kB; after %d: %ld kB; growth %ld kB "
           "(goal: flat, under %d kB) %s\n", FIRST_MARK, at_first, PROBES, at_end, growth,
           GROWTH_GOAL_KB, growth < GROWTH_GOAL_KB ? "MET" : "MISSED");
    /* What the program holds, without what the allocator keeps for reuse. */
    printf("the allocator's bytes in use after %d probes: %ld kB; after %d: %ld kB; growth %ld "
           "kB\n", FIRST_MARK, in_use_first, PROBES, in_use_end, in_use_end - in_use_first);
    return 0;
}
