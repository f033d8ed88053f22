/* sinkbind and seobind_enum: where the Status tab says the sink is bound.
 * The read goes through SEO, which Wine lacks: without it the reason is
 * given, and with the tests' SEO stand-in (tests/win32/standin, standing in
 * for the SMTP service's event system) a binding made by the sink's own
 * code is found on its virtual server, as data: a display name that looks
 * like the text listing's lines changes nothing. */
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

typedef struct {
    int count;
    seobind_binding last;
} enum_seen;

static int remember(const seobind_binding *b, void *arg)
{
    enum_seen *seen = arg;
    seen->count++;
    seen->last = *b;
    return 0;
}

static void test_enum_reports_bindings_as_data(void **state)
{
    seobind_options o;
    sinkbind_info b;
    enum_seen seen = { 0 };
    wchar_t id[64];
    char err[300] = "";
    int removed = 0;
    assert_int_equal(host_regsvr32(standin, 0), 0);
    assert_int_equal(host_regsvr32(sink, 0), 0);
    seobind_defaults(&o);
    o.instance = 2;
    o.priority = 100;
    /* A name the old text scraper misread as an Instance line and a
     * binding boundary. */
    o.name = L"Relay | Binding | Instance = 7";
    assert_int_equal(seobind_register(&o, id, 64, err, sizeof err), 0);
    assert_int_equal(seobind_enum(remember, &seen, err, sizeof err), 0);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.last.instance, 2);
    assert_int_equal(seen.last.sink_instance, 2);
    assert_int_equal(seen.last.enabled, 1);
    assert_int_equal(seen.last.priority, 100);
    assert_true(wcscmp(seen.last.progid, L"TLSRouter.Sink") == 0);
    assert_true(wcscmp(seen.last.name, o.name) == 0);
    assert_true(_wcsicmp(seen.last.id, id) == 0);
    assert_true(wcscmp(seen.last.rule, L"mail from=*") == 0);
    assert_int_equal(sinkbind_read("TLSRouter.Sink", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.instance[0], 2);
    assert_int_equal(sinkbind_read("Other.Sink", &b, err, sizeof err), 0);
    assert_int_equal(b.count, 0);
    assert_int_equal(seobind_unregister(2, o.name, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
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
        cmocka_unit_test(test_read_without_seo_explains),
        cmocka_unit_test(test_read_finds_a_real_binding),
        cmocka_unit_test(test_enum_reports_bindings_as_data),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
