/* sinkbind: where the Status tab says the sink is bound. The parser reads
 * the listing the sink's seobind_list writes (smtpreg /enum style); the
 * real read goes through SEO, which Wine lacks: without it the reason is
 * given, and with the tests' SEO stand-in (tests/win32/standin) a binding
 * made by the sink's own code is found on its virtual server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <windows.h>
#include <objbase.h>

#include "host.h"
#include "seobind.h"
#include "sinkbind.h"

static const char listing[] =
    "SMTP source type {fb65c4dc-e468-11d1-aa67-00c04fa345f6}\n"
    "OnArrival event  {FF3CAA23-00B9-11d2-9DFB-00C04FA322BA}\n"
    " --------\n| Source |\n --------\n"
    " Name: smtpsvc 1\n"
    "   ID: {1b3c0666-e470-11d1-aa67-00c04fa345f6}\n"
    "              ---------\n             | Binding |\n              ---------\n"
    "                   Event: OnArrival\n"
    "                      ID: {11111111-0000-0000-0000-000000000001}\n"
    "                    Name: TLS Router Sink\n"
    "               SinkClass: TLSRouter.Sink\n"
    "                 Enabled: True\n"
    "              SourceProperties: {\n"
    "                           Rule = mail from=*\n"
    "                           Priority = 24575\n"
    "                         }\n"
    "                SinkProperties: {\n"
    "                           Instance = 1\n"
    "                         }\n"
    "              ---------\n             | Binding |\n              ---------\n"
    "                    Name: Someone else's sink\n"
    "               SinkClass: Other.Sink\n"
    "                 Enabled: True\n"
    "                SinkProperties: {\n"
    "                           Instance = 2\n"
    "                         }\n"
    " --------\n| Source |\n --------\n"
    " Name: smtpsvc 3\n"
    "              ---------\n             | Binding |\n              ---------\n"
    "               SinkClass: tlsrouter.sink\n"
    "                 Enabled: False\n"
    "                SinkProperties: {\n"
    "                           Instance = 3\n"
    "                         }\n";

static void test_parse_finds_our_bindings_only(void **state)
{
    sinkbind_info b;
    sinkbind_parse(listing, "TLSRouter.Sink", &b);
    assert_int_equal(b.count, 2);
    assert_int_equal(b.instance[0], 1);
    assert_int_equal(b.enabled[0], 1);
    assert_int_equal(b.instance[1], 3);     /* ProgIDs compare without case */
    assert_int_equal(b.enabled[1], 0);
}

static void test_parse_without_bindings(void **state)
{
    sinkbind_info b;
    sinkbind_parse("SMTP source type {x}\nOnArrival event  {y}\n", "TLSRouter.Sink", &b);
    assert_int_equal(b.count, 0);
    sinkbind_parse("", "TLSRouter.Sink", &b);
    assert_int_equal(b.count, 0);
}

static wchar_t standin[MAX_PATH], sink[MAX_PATH];

static void test_read_without_seo_explains(void **state)
{
    sinkbind_info b;
    char err[300] = "";
    host_regsvr32(standin, 1);
    assert_int_equal(sinkbind_read("TLSRouter.Sink", &b, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    printf("# without SEO: %s\n", err);
}

static void test_read_finds_a_real_binding(void **state)
{
    sinkbind_info b;
    seobind_options o;
    wchar_t id[64];
    char err[300] = "";
    int removed = 0;
    assert_int_equal(host_regsvr32(standin, 0), 0);
    assert_int_equal(host_regsvr32(sink, 0), 0);
    assert_int_equal(sinkbind_read("TLSRouter.Sink", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 0);

    seobind_defaults(&o);
    o.instance = 2;
    assert_int_equal(seobind_register(&o, id, 64, err, sizeof err), 0);
    assert_int_equal(sinkbind_read("TLSRouter.Sink", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.instance[0], 2);
    assert_int_equal(b.enabled[0], 1);

    assert_int_equal(seobind_unregister(2, o.name, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(sinkbind_read("TLSRouter.Sink", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 0);
    host_regsvr32(standin, 1);
}

static int group_setup(void **state)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_APARTMENTTHREADED)))
        return -1;
    host_windows_path(TR_TEST_SEO_STANDIN, standin, MAX_PATH);
    host_windows_path(TR_TEST_SINK_DLL, sink, MAX_PATH);
    return 0;
}

static int group_teardown(void **state)
{
    CoUninitialize();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_finds_our_bindings_only),
        cmocka_unit_test(test_parse_without_bindings),
        cmocka_unit_test(test_read_without_seo_explains),
        cmocka_unit_test(test_read_finds_a_real_binding),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
