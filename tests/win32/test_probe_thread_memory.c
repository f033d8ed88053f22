/* Threads that probed leave no memory behind: each probe_many call starts
 * its own threads, and each thread that used OpenSSL must release its
 * per-thread state when it ends (plat_thread_start does). The static
 * Windows build gets no other clean-up: without it, every probe (and every
 * connection thread of the peer) kept about 50 kB. Windows only: on Linux
 * OpenSSL's pthread keys clean up anyway, and AddressSanitizer's
 * quarantine would drown the figure. Real probes of the tests' STARTTLS
 * peer on loopback; a memory bound, not a timing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "dnsd.h"
#include "peer.h"
#include "probe.h"
#include "trtest.h"

#define DOMAINS 10
#define WARM_UP_CALLS 10       /* 100 probes: caches, pools and heaps settle */
#define MEASURED_CALLS 30      /* 300 probes on 300 threads */
#define GROWTH_LIMIT_KB 4096   /* the leak was some 15 MB here */

static void probe_calls(const char *const *domains, const probe_options *o, int calls)
{
    probe_result r[DOMAINS];
    for (int c = 0; c < calls; c++) {
        probe_many(domains, DOMAINS, o, r);
        for (int i = 0; i < DOMAINS; i++)
            if (r[i].status != PROBE_STARTTLS)
                fail_msg("%s: %s (%s)", r[i].domain, probe_status_name(r[i].status), r[i].error);
    }
}

static void probe_threads_release_their_tls_state(void **state)
{
    (void)state;
    dnsd *dns = dnsd_start();
    peer *p = peer_start(PEER_STARTTLS, NULL);
    char names[DOMAINS][32];
    const char *domains[DOMAINS];
    probe_options o;
    assert_non_null(dns);
    assert_non_null(p);
    dnsd_add_a(dns, "mx.mem.test", 127, 0, 0, 1);
    for (int i = 0; i < DOMAINS; i++) {
        snprintf(names[i], sizeof names[i], "mem%d.test", i);
        dnsd_add_mx(dns, names[i], 10, "mx.mem.test");
        domains[i] = names[i];
    }
    probe_options_default(&o);
    o.dns_servers = dnsd_server(dns);
    o.port = peer_port(p);
    o.ehlo_name = "test.client.test";

    probe_calls(domains, &o, WARM_UP_CALLS);
    long before = trtest_private_kb();
    assert_true(before >= 0);   /* both platforms say */
    probe_calls(domains, &o, MEASURED_CALLS);
    long after = trtest_private_kb();
    peer_stop(p);
    dnsd_stop(dns);
    print_message("private memory %ld kB before, %ld kB after %d more probes\n", before, after,
                  DOMAINS * MEASURED_CALLS);
    assert_true(after - before < GROWTH_LIMIT_KB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_threads_release_their_tls_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
