/* The Windows build reads IIS's configuration where ADSI cannot answer
 * (Wine has no IIS ADSI provider, like a host without the IIS 6 Metabase
 * Compatibility feature): from %windir%\system32\inetsrv\MetaBase.xml,
 * which this test writes into the Wine prefix in the real file's format
 * (hand-written, virtual server 23 only, so other tests of the prefix are
 * not concerned). The engine reads it in the background after it opens;
 * routing then leaves the server's local and routed domains with IIS. */
#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

#define INSTANCE 23

static const char metabase_xml[] =
    "<?xml version =\"1.0\"?>\r\n"
    "<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">\r\n"
    "<MBProperty>\r\n"
    "<IIsSmtpService\tLocation =\"/LM/SmtpSvc\"\r\n"
    "\t\tFullyQualifiedDomainName=\"relay.iistest.example\"\r\n"
    "\t>\r\n"
    "</IIsSmtpService>\r\n"
    "<IIsSmtpServer\tLocation =\"/LM/SmtpSvc/23\"\r\n"
    "\t\tPickupDirectory=\"C:\\Inetpub\\mailroot\\Pickup\"\r\n"
    "\t\tRemoteSmtpPort=\"2525\"\r\n"
    "\t\tServerBindings=\":25:\"\r\n"
    "\t\tServerComment=\"TLS Server\"\r\n"
    "\t\tServerState=\"2\"\r\n"
    "\t>\r\n"
    "</IIsSmtpServer>\r\n"
    "<IIsSmtpDomain\tLocation =\"/LM/SmtpSvc/23/Domain/corp.iistest.example\"\r\n"
    "\t\tRouteAction=\"16\"\r\n"
    "\t>\r\n"
    "</IIsSmtpDomain>\r\n"
    "<IIsSmtpDomain\tLocation =\"/LM/SmtpSvc/23/Domain/partner.iistest.example\"\r\n"
    "\t\tRouteAction=\"2\"\r\n"
    "\t\tRouteActionString=\"[192.0.2.25]\"\r\n"
    "\t>\r\n"
    "</IIsSmtpDomain>\r\n"
    "</MBProperty>\r\n"
    "</configuration>\r\n";

static struct {
    char metabase[MAX_PATH * 2];
    char dir[PLAT_PATH_MAX];
    char db[PLAT_PATH_MAX];
} fx;

static int group_setup(void **state)
{
    char windir[MAX_PATH], inetsrv[MAX_PATH * 2];
    UINT n = GetWindowsDirectoryA(windir, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return -1;
    snprintf(inetsrv, sizeof inetsrv, "%s\\system32\\inetsrv", windir);
    CreateDirectoryA(inetsrv, NULL);
    snprintf(fx.metabase, sizeof fx.metabase, "%s\\MetaBase.xml", inetsrv);
    if (GetFileAttributesA(fx.metabase) != INVALID_FILE_ATTRIBUTES) {
        print_error("%s exists: this prefix has an IIS of its own\n", fx.metabase);
        return -1;
    }
    if (trtest_temp_dir("iismb", fx.dir, sizeof fx.dir) != 0)
        return -1;
    snprintf(fx.db, sizeof fx.db, "%s\\tlsrouter.db", fx.dir);
    char err[256];
    store *st;
    if (store_open(fx.db, &st, err, sizeof err) != STORE_OK)
        return -1;
    char pickup[PLAT_PATH_MAX];
    snprintf(pickup, sizeof pickup, "%s\\Pickup", fx.dir);
    int rc = plat_mkdir(pickup) == 0 &&
                     store_rule_add(st, "Plain TCP Server", pickup, INSTANCE, NULL) == STORE_OK
                 ? 0
                 : -1;
    store_close(st);
    return rc;
}

static int group_teardown(void **state)
{
    DeleteFileA(fx.metabase);
    trtest_remove_tree(fx.dir);
    return 0;
}

static engine *open_engine(void)
{
    engine *e = NULL;
    char err[256];
    if (engine_open(fx.db, &e, err, sizeof err) != 0)
        fail_msg("%s", err);
    return e;
}

/* The engine's own background read, within a bounded wait. */
static int wait_for_servers(engine *e, unsigned ms)
{
    uint64_t until = plat_now_ms() + ms;
    for (;;) {
        const iis_model *m = engine_acquire_iis(e);
        size_t n = m->n_servers;
        engine_release_iis(e, m);
        if (n > 0)
            return 1;
        if (plat_now_ms() >= until)
            return 0;
        plat_sleep_ms(50);
    }
}

static void reads_metabase_xml_from_windir_in_the_background(void **state)
{
    assert_int_equal(trtest_write_file(fx.metabase, metabase_xml), 0);
    engine *e = open_engine();
    assert_true(wait_for_servers(e, 15000));
    const iis_model *m = engine_acquire_iis(e);
    assert_int_equal(m->origin, IIS_FROM_METABASE);
    assert_true(_stricmp(m->where, fx.metabase) == 0);
    const iis_server *s = iis_model_server(m, INSTANCE);
    assert_non_null(s);
    assert_string_equal(s->fqdn, "relay.iistest.example");
    assert_int_equal(iis_server_remote_port(s), 2525);
    assert_string_equal(s->pickup_dir, "C:\\Inetpub\\mailroot\\Pickup");
    engine_release_iis(e, m);

    const char *rcpts[] = { "a@corp.iistest.example", "b@partner.iistest.example" };
    static const char body[] = "Subject: iis\r\n\r\nbody\r\n";
    route_message msg = { "<iis@corp>", "s@corp.iistest.example", rcpts, 2, INSTANCE,
                          (const unsigned char *)body, sizeof body - 1 };
    route_result r;
    assert_int_equal(route_run(e, &msg, &r), 0);
    assert_int_equal(r.decisions[0].reason, DECIDE_IIS_LOCAL_DOMAIN);
    assert_int_equal(r.decisions[1].reason, DECIDE_IIS_DOMAIN_ROUTE);
    assert_non_null(strstr(r.decisions[1].detail, "smart host [192.0.2.25]"));
    assert_int_equal(r.handed_off, 0);
    route_result_free(&r);
    engine_close(e);
}

static void no_file_and_no_adsi_leave_the_model_empty_saying_why(void **state)
{
    DeleteFileA(fx.metabase);
    engine *e = open_engine();
    char err[256] = "";
    assert_int_equal(engine_refresh_iis(e, err, sizeof err), 0);
    const iis_model *m = engine_acquire_iis(e);
    assert_int_equal(m->n_servers, 0);
    assert_int_equal(m->origin, IIS_FROM_NOWHERE);
    assert_non_null(strstr(m->why, "ADSI"));
    assert_non_null(strstr(m->why, "MetaBase.xml does not exist"));
    engine_release_iis(e, m);
    engine_close(e);
}

static void a_broken_file_is_an_error_naming_it(void **state)
{
    assert_int_equal(trtest_write_file(fx.metabase, "<configuration><IIsSmtpServer"), 0);
    engine *e = open_engine();
    char err[256] = "";
    assert_int_equal(engine_refresh_iis(e, err, sizeof err), -1);
    assert_non_null(strstr(err, "MetaBase.xml"));
    assert_non_null(strstr(err, "truncated"));
    const iis_model *m = engine_acquire_iis(e);
    assert_int_equal(m->n_servers, 0);
    engine_release_iis(e, m);
    engine_close(e);
    DeleteFileA(fx.metabase);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_metabase_xml_from_windir_in_the_background),
        cmocka_unit_test(no_file_and_no_adsi_leave_the_model_empty_saying_why),
        cmocka_unit_test(a_broken_file_is_an_error_naming_it),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
