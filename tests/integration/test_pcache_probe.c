/* pcache_probe_many with real peers: misses are probed together and
 * stored, the next call is served from the cache without a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dnsd.h"
#include "pcache.h"
#include "peer.h"
#include "plat.h"

static void cached_domains_are_not_probed_again(void **state)
{
    dnsd *dns = dnsd_start();
    peer *p = peer_start(PEER_STARTTLS, NULL);
    pcache *c = pcache_new(NULL, NULL);
    const char *domains[3] = { "one.test", "two.test", "gone.test" };
    probe_result r[3];
    int cached[3];
    probe_options o;
    (void)state;
    assert_non_null(dns);
    assert_non_null(p);
    assert_non_null(c);
    dnsd_add_mx(dns, "one.test", 10, "mx.shared.test");
    dnsd_add_mx(dns, "two.test", 10, "mx.shared.test");
    dnsd_add_a(dns, "mx.shared.test", 127, 0, 0, 1);
    probe_options_default(&o);
    o.port = peer_port(p);
    o.dns_servers = dnsd_server(dns);
    o.total_timeout_ms = 8000;

    pcache_probe_many(c, domains, 3, &o, r, cached);
    assert_int_equal(peer_connections(p), 2);
    assert_int_equal(r[0].status, PROBE_STARTTLS);
    assert_int_equal(r[1].status, PROBE_STARTTLS);
    assert_int_equal(r[2].status, PROBE_NO_DOMAIN);
    assert_int_equal(cached[0] + cached[1] + cached[2], 0);

    pcache_probe_many(c, domains, 3, &o, r, cached);
    assert_int_equal(peer_connections(p), 2);
    assert_int_equal(cached[0] + cached[1] + cached[2], 3);
    assert_int_equal(r[0].status, PROBE_STARTTLS);
    assert_string_equal(r[1].mx, "mx.shared.test");
    assert_int_equal(r[2].status, PROBE_NO_DOMAIN);

    pcache_free(c);
    peer_stop(p);
    dnsd_stop(dns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cached_domains_are_not_probed_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
