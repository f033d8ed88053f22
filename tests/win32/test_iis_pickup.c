/* A rule may not hand off into its source virtual server's own Pickup
 * folder, where IIS says where that is: iis_pickup_dir through ADSI, and
 * the Windows tlsrouter's rule add / rule set. Wine has no IIS, so a
 * STAND-IN ADSI provider for the IIS: namespace
 * (tests/win32/standin/iis_standin.c) answers IIS://localhost/SmtpSvc/N
 * from what this test writes into the registry. */
#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host.h"
#include "iis.h"
#include "plat.h"
#include "trtest.h"

#define STANDIN_KEY L"Software\\TLS Router Tests\\IIS Stand-in"
#define TLS_PICKUP "C:\\inetpub\\mailroot\\Pickup"
#define PLAIN_PICKUP "C:\\inetpub\\plain\\Pickup"

static struct {
    wchar_t standin[MAX_PATH];
    char dir[PLAT_PATH_MAX];
    char db[PLAT_PATH_MAX];
    trtest_result last;
} fx;

/* Virtual server n as the stand-in reports it. */
static int describe_server(int n, const wchar_t *comment, const wchar_t *pickup)
{
    wchar_t sub[128];
    swprintf(sub, 128, L"%ls\\%d", STANDIN_KEY, n);
    return RegSetKeyValueW(HKEY_CURRENT_USER, sub, L"ServerComment", REG_SZ, comment,
                           (DWORD)((wcslen(comment) + 1) * sizeof(wchar_t))) == ERROR_SUCCESS &&
                   RegSetKeyValueW(HKEY_CURRENT_USER, sub, L"PickupDirectory", REG_SZ, pickup,
                                   (DWORD)((wcslen(pickup) + 1) * sizeof(wchar_t))) ==
                       ERROR_SUCCESS
               ? 0
               : -1;
}

static int group_setup(void **state)
{
    char standin[MAX_PATH * 2];
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return -1;
    snprintf(standin, sizeof standin, "%s", TR_TEST_IIS_STANDIN);
    host_windows_path(standin, fx.standin, MAX_PATH);
    if (trtest_temp_dir("iis", fx.dir, sizeof fx.dir) != 0)
        return -1;
    snprintf(fx.db, sizeof fx.db, "%s\\tlsrouter.db", fx.dir);
    RegDeleteTreeW(HKEY_CURRENT_USER, STANDIN_KEY);
    if (describe_server(1, L"TLS Server", L"" TLS_PICKUP) != 0 ||
        describe_server(2, L"Plain TCP Server", L"" PLAIN_PICKUP) != 0)
        return -1;
    return host_regsvr32(fx.standin, 0) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    host_regsvr32(fx.standin, 1);
    RegDeleteTreeW(HKEY_CURRENT_USER, STANDIN_KEY);
    trtest_result_free(&fx.last);
    trtest_remove_tree(fx.dir);
    CoUninitialize();
    return 0;
}

/* tlsrouter --db <test db> args...; its exit code (output in fx.last). */
static int run(const char *const *args)
{
    const char *argv[16] = { "--db", fx.db };
    size_t n = 2;
    for (size_t i = 0; args[i] && n + 1 < sizeof argv / sizeof argv[0]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    trtest_result_free(&fx.last);
    assert_int_equal(trtest_run_cli(argv, &fx.last), 0);
    return fx.last.exit_code;
}
#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

static void reads_the_pickup_folder_from_iis(void **state)
{
    char buf[PLAT_PATH_MAX];
    assert_int_equal(iis_pickup_dir(1, buf, sizeof buf), 0);
    assert_string_equal(buf, TLS_PICKUP);
    assert_int_equal(iis_pickup_dir(2, buf, sizeof buf), 0);
    assert_string_equal(buf, PLAIN_PICKUP);
    /* No such virtual server: not known. */
    assert_int_equal(iis_pickup_dir(3, buf, sizeof buf), -1);
    assert_int_equal(iis_pickup_dir(0, buf, sizeof buf), -1);
}

static void cli_refuses_the_source_pickup_folder(void **state)
{
    /* Another spelling of server 1's own folder. */
    assert_int_equal(RUN("rule", "add", "tls", "--pickup", "c:/INETPUB/mailroot/pickup/",
                         "--source", "1"),
                     2);
    assert_non_null(strstr(fx.last.err, "Pickup folder of virtual server 1 itself"));
    assert_int_equal(RUN("rule", "add", "tls", "--pickup", PLAIN_PICKUP, "--source", "1"), 0);
    assert_int_equal(RUN("rule", "set", "tls", "--pickup", "C:\\Inetpub\\Mailroot\\.\\Pickup\\"), 2);
    assert_non_null(strstr(fx.last.err, "virtual server 1"));
    /* Nothing was changed by the refusal. */
    assert_int_equal(RUN("rule", "list", "--json"), 0);
    assert_non_null(strstr(fx.last.out, "plain"));
    assert_null(strstr(fx.last.out, "mailroot"));
    /* Server 1's folder is a fine destination for server 2, not its own. */
    assert_int_equal(RUN("rule", "add", "second", "--pickup", TLS_PICKUP, "--source", "2"), 0);
    assert_int_equal(RUN("rule", "add", "third", "--pickup", PLAIN_PICKUP "\\", "--source", "2"), 2);
    assert_int_equal(RUN("rule", "set", "second", "--pickup", PLAIN_PICKUP), 2);
}

/* Where IIS does not say, nothing is refused. */
static void unknown_source_folder_refuses_nothing(void **state)
{
    assert_int_equal(RUN("rule", "add", "seventh", "--pickup", PLAIN_PICKUP, "--source", "7"), 0);
    assert_int_equal(host_regsvr32(fx.standin, 1), 0);
    char buf[PLAT_PATH_MAX];
    assert_int_equal(iis_pickup_dir(1, buf, sizeof buf), -1);
    assert_int_equal(RUN("rule", "add", "unknown", "--pickup", TLS_PICKUP, "--source", "1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_pickup_folder_from_iis),
        cmocka_unit_test(cli_refuses_the_source_pickup_folder),
        cmocka_unit_test(unknown_source_folder_refuses_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
