/* tlsrouter check: the setup checks through the real command, against the
 * tests' DNS server and an SMTP peer on loopback, a real database and a
 * real Pickup folder. Natively the Windows checks are skipped and say why.
 * The Windows build runs the same test under Wine, where they run for
 * real: a bare Wine prefix has no IIS, so those rows fail there and the
 * command exits 1 even when the portable part of the setup is right. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dnsd.h"
#include "peer.h"
#include "plat.h"
#include "trtest.h"

typedef struct {
    char dir[512], db[600], pickup[600];
    dnsd *dns;
    peer *smtp;
    trtest_result res;
} fixture;

static int run(fixture *f, const char *const *args)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = "--db";
    argv[n++] = f->db;
    argv[n++] = "--dns";
    argv[n++] = dnsd_server(f->dns);
    argv[n++] = "--timeout";
    argv[n++] = "2";
    for (; *args && n < 23; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    trtest_result_free(&f->res);
    assert_int_equal(trtest_run_cli(argv, &f->res), 0);
    return f->res.exit_code;
}

#define RUN(f, ...) run((f), (const char *const[]){ __VA_ARGS__, NULL })

#ifdef _WIN32
#define WORKING_SETUP_EXIT 1 /* no IIS in the Wine prefix */
#else
#define WORKING_SETUP_EXIT 0
#endif

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char port[16];
    if (!f || trtest_temp_dir("check", f->dir, sizeof f->dir) != 0 ||
        trtest_join(f->db, sizeof f->db, f->dir, "t.db") != 0 ||
        trtest_join(f->pickup, sizeof f->pickup, f->dir, "Pickup") != 0 ||
        plat_mkdir(f->pickup) != 0 || !(f->dns = dnsd_start()) ||
        !(f->smtp = peer_start(PEER_STARTTLS, NULL)))
        return -1;
    /* The outbound-25 check connects to gmail.com's first MX host. */
    dnsd_add_mx(f->dns, "gmail.com", 5, "gmail-smtp-in.l.google.com");
    dnsd_add_a(f->dns, "gmail-smtp-in.l.google.com", 127, 0, 0, 1);
    *state = f;
    snprintf(port, sizeof port, "%u", peer_port(f->smtp));
    if (RUN(f, "config", "probe_port", port) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    trtest_result_free(&f->res);
    peer_stop(f->smtp);
    dnsd_stop(f->dns);
    trtest_remove_tree(f->dir);
    free(f);
    return 0;
}

/* The JSON object of one check, as a string to search in. */
static const char *row_of(const fixture *f, const char *check)
{
    char key[64];
    snprintf(key, sizeof key, "{\"check\":\"%s\"", check);
    const char *row = strstr(f->res.out, key);
    if (!row)
        print_error("no row for %s in %s\n", check, f->res.out);
    assert_non_null(row);
    return row;
}

static void assert_status(const fixture *f, const char *check, const char *status)
{
    char want[48];
    const char *row = row_of(f, check);
    snprintf(want, sizeof want, "\"status\":\"%s\"", status);
    const char *end = strchr(row, '}');
    const char *at = strstr(row, want);
    if (!at || at > end)
        print_error("%s: want %s in %.*s\n", check, status, (int)(end - row), row);
    assert_true(at && at < end);
}

static void test_without_a_rule_fails(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "check", "--json"), 1);
    assert_true(f->res.out[0] == '[');
    assert_status(f, "database", "ok");
    assert_status(f, "rule", "fail");
    assert_non_null(strstr(row_of(f, "rule"), "tlsrouter rule add"));
    assert_status(f, "destination-pickup", "skip");
    assert_status(f, "dns", "ok");
    assert_status(f, "outbound-25", "ok");
    static const char *const windows_only[] = { "iis-smtp", "iisadmin", "smtpsvc",
                                                "sink-registered", "sink-bound", "schannel" };
#ifdef _WIN32
    /* Asked for real: a bare Wine prefix has no IIS SMTP; Wine's Schannel
     * allows TLS 1.0 to 1.2 like Server 2019. */
    assert_status(f, "iis-smtp", "fail");
    assert_non_null(strstr(row_of(f, "iis-smtp"), "Add the SMTP Server feature"));
    assert_status(f, "schannel", "ok");
    assert_non_null(strstr(row_of(f, "schannel"), "TLS 1.2"));
    for (size_t i = 0; i < sizeof windows_only / sizeof windows_only[0]; i++)
        assert_null(strstr(row_of(f, windows_only[i]), "not a Windows host"));
#else
    /* Windows facts: skipped here, with the reason. */
    for (size_t i = 0; i < sizeof windows_only / sizeof windows_only[0]; i++) {
        assert_status(f, windows_only[i], "skip");
        assert_non_null(strstr(row_of(f, windows_only[i]), "not a Windows host"));
    }
#endif
}

static void test_a_working_setup_passes(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    assert_int_equal(RUN(f, "check", "--json"), WORKING_SETUP_EXIT);
    assert_status(f, "rule", "ok");
    assert_status(f, "destination-pickup", "ok");
    assert_status(f, "dns", "ok");
    assert_status(f, "outbound-25", "ok");
    /* The text form: one line per check, status first. */
    assert_int_equal(RUN(f, "check"), WORKING_SETUP_EXIT);
    assert_non_null(strstr(f->res.out, "ok    rule "));
    assert_non_null(strstr(f->res.out, "ok    destination-pickup "));
}

/* A file the Plain TCP Server has not picked up for ten minutes: mail
 * waits there, the check fails and says how long. */
static void test_a_pickup_folder_not_drained_fails(void **state)
{
    fixture *f = *state;
    char file[700];
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    assert_int_equal(trtest_join(file, sizeof file, f->pickup, "tlsrouter-waiting.eml"), 0);
    assert_int_equal(trtest_write_file(file, "x-sender: a@b.example\r\n"), 0);
    assert_int_equal(RUN(f, "check", "--json"), WORKING_SETUP_EXIT); /* a fresh file is fine */
    assert_status(f, "destination-pickup", "ok");
    assert_int_equal(trtest_set_mtime(file, (long long)plat_wall_ms() - 10 * 60 * 1000), 0);
    assert_int_equal(RUN(f, "check", "--json"), 1);
    assert_status(f, "destination-pickup", "fail");
    assert_non_null(strstr(row_of(f, "destination-pickup"), "the oldest for 10 minutes"));
}

/* Every enabled rule is checked, not the first alone: a second virtual
 * server's rule whose Pickup folder is missing fails the check, named. */
static void test_every_enabled_rule_is_checked(void **state)
{
    fixture *f = *state;
    char missing[700];
    assert_int_equal(trtest_join(missing, sizeof missing, f->dir, "NoSuchPickup"), 0);
    assert_int_equal(RUN(f, "rule", "add", "First", "--pickup", f->pickup), 0);
    assert_int_equal(RUN(f, "rule", "add", "Second", "--pickup", missing, "--source", "2"), 0);
    assert_int_equal(RUN(f, "check", "--json"), 1);
    assert_status(f, "rule", "ok");
    assert_non_null(strstr(row_of(f, "rule"), "2 rules are enabled"));
    assert_status(f, "destination-pickup", "fail");
    assert_non_null(strstr(row_of(f, "destination-pickup"), "rule \\\"Second\\\" (worst of 2"));
    /* The broken rule off: the check is about the one left. */
    assert_int_equal(RUN(f, "rule", "set", "Second", "--enabled", "off"), 0);
    assert_int_equal(RUN(f, "check", "--json"), WORKING_SETUP_EXIT);
    assert_status(f, "destination-pickup", "ok");
}

/* Resolvers that do not answer: the dns check fails; outbound-25 only
 * warns (it could not be tried). */
static void test_silent_dns_fails(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    dnsd_set_silent(f->dns, "example.com");
    dnsd_set_silent(f->dns, "gmail.com");
    assert_int_equal(RUN(f, "check", "--json"), 1);
    assert_status(f, "dns", "fail");
    assert_status(f, "outbound-25", "warn");
}

/* Outbound port 25 blocked: a warning, never a failure. */
static void test_blocked_outbound_port_warns(void **state)
{
    fixture *f = *state;
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    assert_int_equal(RUN(f, "config", "probe_port", "9"), 0); /* nothing listens */
    assert_int_equal(RUN(f, "check", "--json"), WORKING_SETUP_EXIT);
    assert_status(f, "outbound-25", "warn");
}

/* check_name_at lists the rows check_run makes, in the same order: the
 * Admin Guide's test holds the guide to that list. */
static void test_names_list_the_rows(void **state)
{
    fixture *f = *state;
    check_options o = { .db_path = f->db, .dns_servers = dnsd_server(f->dns), .timeout_ms = 2000 };
    check_row *rows;
    size_t n;
    assert_int_equal(check_run(&o, &rows, &n), 0);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(check_name_at(i));
        assert_string_equal(check_name_at(i), rows[i].name);
    }
    assert_null(check_name_at(n));
    free(rows);
}

/* ---- what IIS says (check_run with a MetaBase.xml the test writes, in
 * the real file's format, standing in for IIS) ------------------------------ */

/* The source server (1) and the Plain TCP Server (2) as IIS would list
 * them; plain_* say how the Plain TCP Server is set up. */
static void write_metabase(fixture *f, const char *path, const char *plain_pickup,
                           int plain_state, const char *plain_bindings, const char *plain_ssl)
{
    char text[4096], source_pickup[700];
    assert_int_equal(trtest_join(source_pickup, sizeof source_pickup, f->dir, "SourcePickup"), 0);
    snprintf(text, sizeof text,
             "<?xml version =\"1.0\"?>\n"
             "<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">\n<MBProperty>\n"
             "<IIsSmtpServer\tLocation =\"/LM/SmtpSvc/1\"\n"
             "\t\tFullyQualifiedDomainName=\"relay.check.test\"\n"
             "\t\tPickupDirectory=\"%s\"\n\t\tServerBindings=\":25:\"\n"
             "\t\tServerComment=\"TLS Server\"\n\t\tServerState=\"2\"\n\t>\n"
             "</IIsSmtpServer>\n"
             "<IIsSmtpServer\tLocation =\"/LM/SmtpSvc/2\"\n"
             "\t\tAlwaysUseSsl=\"%s\"\n\t\tPickupDirectory=\"%s\"\n"
             "\t\tServerBindings=\"%s\"\n\t\tServerComment=\"Plain TCP Server\"\n"
             "\t\tServerState=\"%d\"\n\t>\n</IIsSmtpServer>\n"
             "</MBProperty>\n</configuration>\n",
             source_pickup, plain_ssl, plain_pickup, plain_bindings, plain_state);
    assert_int_equal(trtest_write_file(path, text), 0);
}

static check_row run_one(fixture *f, const char *metabase, const char *name)
{
    check_options o = { .db_path = f->db, .dns_servers = dnsd_server(f->dns), .timeout_ms = 2000,
                        .metabase = metabase };
    check_row *rows, found_row;
    size_t n;
    assert_int_equal(check_run(&o, &rows, &n), 0);
    memset(&found_row, 0, sizeof found_row);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0)
            found_row = rows[i];
    free(rows);
    assert_string_equal(found_row.name, name);
    return found_row;
}

static void test_destination_server_as_iis_lists_it(void **state)
{
    fixture *f = *state;
    char mb[700], own[700];
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    assert_int_equal(trtest_join(mb, sizeof mb, f->dir, "MetaBase.xml"), 0);
    /* Natively, without a MetaBase.xml, IIS cannot be read: skipped. */
    check_row r = run_one(f, NULL, "destination-server");
#ifndef _WIN32
    assert_int_equal(r.status, CHECK_SKIP);
    assert_non_null(strstr(r.detail, "cannot be read here"));
#endif
    write_metabase(f, mb, f->pickup, 2, "127.0.0.1:2525:", "FALSE");
    r = run_one(f, mb, "destination-server");
    assert_int_equal(r.status, CHECK_OK);
    assert_non_null(strstr(r.detail, "\"Plain TCP Server\" (virtual server 2) is started, on "
                                     "port 2525"));
    write_metabase(f, mb, f->pickup, 4, "127.0.0.1:2525:", "FALSE");
    r = run_one(f, mb, "destination-server");
    assert_int_equal(r.status, CHECK_FAIL);
    assert_non_null(strstr(r.detail, "is stopped: mail handed to it waits"));
    write_metabase(f, mb, f->pickup, 2, ":25:", "FALSE");
    r = run_one(f, mb, "destination-server");
    assert_int_equal(r.status, CHECK_FAIL);
    assert_non_null(strstr(r.detail, "listens on port 25, as the source server does"));
    write_metabase(f, mb, f->pickup, 2, ":2525:", "TRUE");
    r = run_one(f, mb, "destination-server");
    assert_int_equal(r.status, CHECK_FAIL);
    assert_non_null(strstr(r.detail, "requires TLS for outbound mail"));
    /* A folder no virtual server picks up from. */
    assert_int_equal(trtest_join(own, sizeof own, f->dir, "Elsewhere"), 0);
    write_metabase(f, mb, own, 2, ":2525:", "FALSE");
    r = run_one(f, mb, "destination-server");
    assert_int_equal(r.status, CHECK_FAIL);
    assert_non_null(strstr(r.detail, "nothing picks the mail up"));
}

/* The source's FQDN: an A record and SPF, warnings when missing. */
static void test_source_fqdn_records(void **state)
{
    fixture *f = *state;
    char mb[700];
    assert_int_equal(RUN(f, "rule", "add", "Plain", "--pickup", f->pickup), 0);
    assert_int_equal(trtest_join(mb, sizeof mb, f->dir, "MetaBase.xml"), 0);
    write_metabase(f, mb, f->pickup, 2, ":2525:", "FALSE");
    check_row r = run_one(f, mb, "source-fqdn");
    assert_int_equal(r.status, CHECK_WARN);
    assert_non_null(strstr(r.detail, "neither an A record nor an SPF record"));
    dnsd_add_a(f->dns, "relay.check.test", 192, 0, 2, 25);
    r = run_one(f, mb, "source-fqdn");
    assert_int_equal(r.status, CHECK_WARN);
    assert_non_null(strstr(r.detail, "no SPF record"));
    dnsd_add_txt(f->dns, "relay.check.test", "v=spf1 ip4:192.0.2.25 -all");
    r = run_one(f, mb, "source-fqdn");
    assert_int_equal(r.status, CHECK_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_a_rule_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_working_setup_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_enabled_rule_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_pickup_folder_not_drained_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_dns_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_outbound_port_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_list_the_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destination_server_as_iis_lists_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_fqdn_records, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
