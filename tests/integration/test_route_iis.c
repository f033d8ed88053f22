/* Routing that honours IIS's own configuration (DESIGN.md row 3), end to
 * end: the engine reads a MetaBase.xml (tests/fixtures/metabase/
 * route.xml.in, hand-written in the real file's format) through its test
 * hook, and routes against the tests' own DNS server and loopback SMTP
 * peers. A local or alias domain and a remote domain with its own route
 * are neither looked up nor probed; the probe connects to RemoteSmtpPort
 * and says FullyQualifiedDomainName; a virtual server that sends all its
 * mail to a smart host has that host probed, once, for every domain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
    char metabase[PLAT_PATH_MAX];
    store *admin;
    engine *eng;
    dnsd *dns;
    peer *tls_side;      /* what server 1's probes meet: no STARTTLS */
    peer *smart;         /* server 3's smart host: no STARTTLS */
} world;

/* A count from the database the engine writes. */
static int64_t count_rows(world *w, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(store_db(w->admin), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void set(world *w, const char *key, const char *value)
{
    char err[256];
    if (store_setting_set(w->admin, key, value) != STORE_OK)
        fail_msg("%s: %s", key, store_error(w->admin));
    if (engine_refresh(w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* The template with its placeholders replaced, written to w->metabase. */
static void write_metabase(world *w, unsigned tls_port, unsigned smart_port,
                           const char *smart_host)
{
    char path[1024], port1[16], port3[16];
    snprintf(path, sizeof path, "%s/tests/fixtures/metabase/route.xml.in", TR_TEST_SOURCE_DIR);
    snprintf(port1, sizeof port1, "%u", tls_port);
    snprintf(port3, sizeof port3, "%u", smart_port);
    size_t len;
    char *text = trtest_read_file(path, &len);
    assert_non_null(text);
    const struct {
        const char *mark, *value;
    } subst[] = { { "@TLS_PORT@", port1 }, { "@SMART_PORT@", port3 },
                  { "@SMART_HOST@", smart_host } };
    char *out = malloc(len + 512);
    assert_non_null(out);
    size_t n = 0;
    for (const char *p = text; *p;) {
        size_t i;
        for (i = 0; i < sizeof subst / sizeof subst[0]; i++)
            if (strncmp(p, subst[i].mark, strlen(subst[i].mark)) == 0)
                break;
        if (i < sizeof subst / sizeof subst[0]) {
            n += (size_t)sprintf(out + n, "%s", subst[i].value);
            p += strlen(subst[i].mark);
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    assert_int_equal(trtest_write_file(w->metabase, out), 0);
    free(out);
    free(text);
}

static void load_metabase(world *w)
{
    char err[256];
    if (engine_set_iis_metabase(w->eng, w->metabase, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void add_domain(world *w, const char *name)
{
    char mx[128];
    snprintf(mx, sizeof mx, "mx.%s", name);
    dnsd_add_mx(w->dns, name, 10, mx);
    dnsd_add_a(w->dns, mx, 127, 0, 0, 1);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    char err[256];
    assert_non_null(w);
    assert_int_equal(trtest_temp_dir("routeiis", w->root, sizeof w->root), 0);
    assert_int_equal(trtest_join(w->db, sizeof w->db, w->root, "t.db"), 0);
    assert_int_equal(trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup"), 0);
    assert_int_equal(trtest_join(w->metabase, sizeof w->metabase, w->root, "MetaBase.xml"), 0);
    assert_int_equal(plat_mkdir(w->pickup), 0);
    assert_non_null(w->dns = dnsd_start());
    static const char *const names[] = { "corp.example", "relay01.corp.example", "partner.test",
                                         "a.bank.test", "unlisted.test", "far1.test",
                                         "far2.test" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        add_domain(w, names[i]);
    dnsd_add_a(w->dns, "gw.smarthost.test", 127, 0, 0, 1);
    assert_non_null(w->tls_side = peer_start(PEER_NO_STARTTLS, NULL));
    assert_non_null(w->smart = peer_start(PEER_NO_STARTTLS, NULL));
    assert_int_equal(store_open(w->db, &w->admin, err, sizeof err), STORE_OK);
    assert_int_equal(store_rule_add(w->admin, "Plain TCP Server", w->pickup, 1, NULL), STORE_OK);
    assert_int_equal(store_rule_add(w->admin, "Gateway", w->pickup, 3, NULL), STORE_OK);
    if (engine_open(w->db, &w->eng, err, sizeof err) != 0)
        fail_msg("%s", err);
    set(w, "dns_servers", dnsd_server(w->dns));
    set(w, "total_timeout_ms", "8000");
    /* Nothing listens on the probe_port setting: a probe that reaches a
     * peer went to RemoteSmtpPort. */
    char unused[16];
    snprintf(unused, sizeof unused, "%u", peer_unused_port());
    set(w, "probe_port", unused);
    write_metabase(w, peer_port(w->tls_side), peer_port(w->smart), "[127.0.0.1]");
    load_metabase(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    engine_close(w->eng);
    store_close(w->admin);
    peer_stop(w->tls_side);
    peer_stop(w->smart);
    dnsd_stop(w->dns);
    trtest_remove_tree(w->root);
    free(w);
    return 0;
}

static const char body[] = "Subject: iis\r\n\r\nbody\r\n";

static void route(world *w, int source, const char *const *rcpts, size_t n, route_result *r)
{
    route_message m = { "m", "s@corp.example", rcpts, n, source, (const unsigned char *)body,
                        sizeof body - 1 };
    assert_int_equal(route_run(w->eng, &m, r), 0);
    assert_int_equal(r->n, n);
}

/* Reason and status as the journal words them ("" when not probed). */
static void expect(const route_decision *d, int plain, const char *reason, const char *status)
{
    const char *got_reason = decide_reason_name(d->reason);
    const char *got_status = probe_status_name(d->status);
    if (d->plain != plain || strcmp(got_reason, reason) != 0 || strcmp(got_status, status) != 0)
        fail_msg("%s: %s %s (%s), expected %s %s (%s); %s", d->recipient,
                 d->plain ? "plain" : "tls", got_reason, got_status, plain ? "plain" : "tls",
                 reason, status, d->detail);
}

static void local_and_alias_domains_stay_with_iis_unprobed(void **state)
{
    world *w = *state;
    /* Even on the force-plain list: row 3 comes before the admin's lists. */
    const char *force[] = { "corp.example", "*.corp.example" };
    char err[256];
    assert_int_equal(store_domains_add(w->admin, "Plain TCP Server", STORE_LIST_FORCE_PLAIN,
                                       force, 2),
                     STORE_OK);
    assert_int_equal(engine_refresh(w->eng, err, sizeof err), 0);
    const char *rcpts[] = { "a@corp.example", "b@relay01.corp.example", "c@RELAY01.corp.example" };
    route_result r;
    route(w, 1, rcpts, 3, &r);
    for (size_t i = 0; i < 3; i++) {
        expect(&r.decisions[i], 0, "iis-local-domain", "");
        assert_string_equal(r.decisions[i].mx, "");
    }
    assert_non_null(strstr(r.decisions[0].detail, "a local domain of virtual server 1 (alias)"));
    assert_non_null(strstr(r.decisions[1].detail, "(default domain)"));
    assert_int_equal(r.handed_off, 0);
    route_result_free(&r);
    assert_int_equal(count_rows(w, "SELECT count(*) FROM journal WHERE reason = 'iis-local-domain'"
                                   " AND route = 'tls' AND detail LIKE '%IIS delivers it itself%'"),
                     3);
    /* The engine said what it read. */
    assert_int_equal(count_rows(w, "SELECT count(*) FROM log WHERE level = 2 AND message LIKE "
                                   "'IIS configuration: 2 SMTP virtual servers read from %"
                                   "MetaBase.xml'"),
                     1);
    assert_int_equal(dnsd_name_queries(w->dns, "corp.example"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "relay01.corp.example"), 0);
    assert_int_equal(peer_connections(w->tls_side), 0);
}

static void domains_with_their_own_route_stay_with_iis_unprobed(void **state)
{
    world *w = *state;
    const char *rcpts[] = { "a@partner.test", "b@a.bank.test" };
    route_result r;
    route(w, 1, rcpts, 2, &r);
    expect(&r.decisions[0], 0, "iis-domain-route", "");
    assert_non_null(strstr(r.decisions[0].detail, "remote domain partner.test of virtual "
                                                   "server 1 (smart host [192.0.2.25])"));
    expect(&r.decisions[1], 0, "iis-domain-route", "");
    assert_non_null(strstr(r.decisions[1].detail, "*.bank.test"));
    assert_non_null(strstr(r.decisions[1].detail, "TLS required"));
    route_result_free(&r);
    assert_int_equal(dnsd_name_queries(w->dns, "partner.test"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "a.bank.test"), 0);
    assert_int_equal(peer_connections(w->tls_side), 0);
}

static void the_probe_uses_remote_smtp_port_and_the_servers_name(void **state)
{
    world *w = *state;
    const char *rcpts[] = { "a@unlisted.test" };
    route_result r;
    route(w, 1, rcpts, 1, &r);
    /* Reached the peer on RemoteSmtpPort (the probe_port setting is dead). */
    expect(&r.decisions[0], 1, "no-starttls", "no-starttls");
    assert_string_equal(r.decisions[0].mx, "mx.unlisted.test");
    route_result_free(&r);
    char ehlo[256];
    peer_last_ehlo(w->tls_side, ehlo, sizeof ehlo);
    assert_string_equal(ehlo, "relay01.corp.example");
    assert_true(dnsd_name_queries(w->dns, "unlisted.test") > 0);
}

static void the_ehlo_name_setting_outranks_the_servers_name(void **state)
{
    world *w = *state;
    set(w, "ehlo_name", "admin-choice.example");
    const char *rcpts[] = { "a@far1.test" };
    route_result r;
    route(w, 1, rcpts, 1, &r);
    expect(&r.decisions[0], 1, "no-starttls", "no-starttls");
    route_result_free(&r);
    char ehlo[256];
    peer_last_ehlo(w->tls_side, ehlo, sizeof ehlo);
    assert_string_equal(ehlo, "admin-choice.example");
    set(w, "ehlo_name", "");
}

static void a_smart_host_always_is_probed_once_for_every_domain(void **state)
{
    world *w = *state;
    const char *rcpts[] = { "a@far1.test", "b@far2.test", "c@unlisted.test", "d@corp.example" };
    route_result r;
    route(w, 3, rcpts, 4, &r);
    for (size_t i = 0; i < 3; i++) {
        expect(&r.decisions[i], 1, "no-starttls", "no-starttls");
        /* The journal's mx names the smart host. */
        assert_string_equal(r.decisions[i].mx, "[127.0.0.1]");
        assert_non_null(strstr(r.decisions[i].detail,
                               "virtual server 3 sends all mail to its smart host"));
    }
    /* Server 3's own local domain still stays with IIS. */
    expect(&r.decisions[3], 0, "iis-local-domain", "");
    assert_int_equal(r.handed_off, 3);
    route_result_free(&r);
    assert_int_equal(count_rows(w, "SELECT count(*) FROM journal WHERE route = 'plain' AND "
                                   "reason = 'no-starttls' AND mx = '[127.0.0.1]'"),
                     3);
    /* One connection for the message, and the domains' MX hosts never
     * looked up (the guards may ask about the domains themselves). */
    assert_int_equal(peer_connections(w->smart), 1);
    assert_int_equal(dnsd_name_queries(w->dns, "mx.far1.test"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "mx.far2.test"), 0);
    assert_int_equal(dnsd_name_queries(w->dns, "mx.unlisted.test"), 0);
    char ehlo[256];
    peer_last_ehlo(w->smart, ehlo, sizeof ehlo);
    assert_string_equal(ehlo, "out.corp.example");

    /* The next message is answered from the cache: no new connection. */
    const char *again[] = { "e@far2.test" };
    route(w, 3, again, 1, &r);
    expect(&r.decisions[0], 1, "no-starttls", "no-starttls");
    route_result_free(&r);
    assert_int_equal(peer_connections(w->smart), 1);
    /* ...which is the smart host's entry, not a domain's. */
    probe_result cached;
    assert_true(engine_smart_host_cached(w->eng, "[127.0.0.1]", &cached));
    assert_false(engine_probe_cached(w->eng, "far2.test", &cached));
}

static void a_smart_host_by_name_is_resolved_and_its_tls_decides(void **state)
{
    world *w = *state;
    peer *good = peer_start(PEER_STARTTLS, NULL);
    assert_non_null(good);
    write_metabase(w, peer_port(w->tls_side), peer_port(good), "gw.smarthost.test");
    load_metabase(w);
    const char *rcpts[] = { "a@far1.test", "b@far2.test" };
    route_result r;
    route(w, 3, rcpts, 2, &r);
    for (size_t i = 0; i < 2; i++) {
        expect(&r.decisions[i], 0, "tls-ok", "starttls");
        assert_string_equal(r.decisions[i].mx, "gw.smarthost.test");
    }
    route_result_free(&r);
    assert_int_equal(peer_connections(good), 1);
    assert_true(dnsd_name_queries(w->dns, "gw.smarthost.test") > 0);
    peer_stop(good);
}

static void a_silent_smart_host_leaves_every_domain_on_tls_by_the_deadline(void **state)
{
    world *w = *state;
    peer *silent = peer_start(PEER_SILENT, NULL);
    assert_non_null(silent);
    write_metabase(w, peer_port(w->tls_side), peer_port(silent), "[127.0.0.1]");
    load_metabase(w);
    set(w, "message_timeout_ms", "1200");
    const char *rcpts[] = { "a@far1.test", "b@far2.test" };
    route_result r;
    uint64_t start = plat_now_ms();
    route(w, 3, rcpts, 2, &r);
    uint64_t took = plat_now_ms() - start;
    for (size_t i = 0; i < 2; i++) {
        expect(&r.decisions[i], 0, "probe-failed", "timeout");
        assert_non_null(strstr(r.decisions[i].detail, "message's deadline"));
    }
    route_result_free(&r);
    assert_true(took < 4000);
    assert_int_equal(peer_connections(silent), 1);
    /* A probe the message's deadline cut short says nothing: not cached. */
    probe_result cached;
    assert_false(engine_smart_host_cached(w->eng, "[127.0.0.1]", &cached));
    peer_stop(silent);
}

static void without_a_readable_configuration_decisions_are_as_before(void **state)
{
    world *w = *state;
    char err[256], broken[PLAT_PATH_MAX];
    /* A file that breaks off keeps the model read before. */
    assert_int_equal(trtest_join(broken, sizeof broken, w->root, "broken.xml"), 0);
    assert_int_equal(trtest_write_file(broken, "<configuration><IIsSmtpServer Location="), 0);
    assert_int_equal(engine_set_iis_metabase(w->eng, broken, err, sizeof err), -1);
    assert_non_null(strstr(err, "broken.xml"));
    assert_int_equal(count_rows(w, "SELECT count(*) FROM log WHERE level = 1 AND message LIKE "
                                   "'IIS configuration: %broken.xml%the one read before stays "
                                   "in use'"),
                     1);
    const iis_model *m = engine_acquire_iis(w->eng);
    assert_int_equal(m->n_servers, 2);
    engine_release_iis(w->eng, m);
    const char *rcpts[] = { "a@corp.example" };
    route_result r;
    route(w, 1, rcpts, 1, &r);
    expect(&r.decisions[0], 0, "iis-local-domain", "");
    route_result_free(&r);

    /* No configuration at all (as on this system, or a bare Windows): the
     * model is empty, says why, and the local domain is probed as before
     * (on the probe_port setting, pointed at the peer now). */
    char port[16];
    snprintf(port, sizeof port, "%u", peer_port(w->tls_side));
    set(w, "probe_port", port);
    assert_int_equal(engine_set_iis_metabase(w->eng, NULL, err, sizeof err), 0);
    m = engine_acquire_iis(w->eng);
    assert_int_equal(m->n_servers, 0);
    assert_int_equal(m->origin, IIS_FROM_NOWHERE);
    assert_true(m->why[0] != '\0');
    engine_release_iis(w->eng, m);
    route(w, 1, rcpts, 1, &r);
    expect(&r.decisions[0], 1, "no-starttls", "no-starttls");
    route_result_free(&r);
    assert_true(dnsd_name_queries(w->dns, "corp.example") > 0);
}

static void a_changed_file_is_read_again(void **state)
{
    world *w = *state;
    char err[256];
    /* Server 3 loses its smart host: its domains are probed at their MX
     * hosts on its RemoteSmtpPort again. */
    write_metabase(w, peer_port(w->tls_side), peer_port(w->tls_side), "");
    assert_int_equal(engine_refresh_iis(w->eng, err, sizeof err), 0);
    const iis_model *m = engine_acquire_iis(w->eng);
    assert_null(iis_server_smart_host_always(iis_model_server(m, 3)));
    engine_release_iis(w->eng, m);
    const char *rcpts[] = { "a@far2.test" };
    route_result r;
    unsigned before = peer_connections(w->tls_side);
    route(w, 3, rcpts, 1, &r);
    expect(&r.decisions[0], 1, "no-starttls", "no-starttls");
    assert_string_equal(r.decisions[0].mx, "mx.far2.test");
    route_result_free(&r);
    assert_int_equal(peer_connections(w->tls_side), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(local_and_alias_domains_stay_with_iis_unprobed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(domains_with_their_own_route_stay_with_iis_unprobed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_probe_uses_remote_smtp_port_and_the_servers_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_ehlo_name_setting_outranks_the_servers_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_smart_host_always_is_probed_once_for_every_domain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_smart_host_by_name_is_resolved_and_its_tls_decides,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_silent_smart_host_leaves_every_domain_on_tls_by_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(without_a_readable_configuration_decisions_are_as_before,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_changed_file_is_read_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
