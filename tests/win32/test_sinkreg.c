/* tlsrouter-sinkreg under Wine. Wine has no SEO, so the test registers
 * tests/win32/standin/seo_standin.dll, a STAND-IN for Event.Manager,
 * Event.ComCat and Event.Util that keeps bindings in the registry when they
 * are saved and records every call that changes something in a log file.
 * The tool runs as its own process, exactly as an administrator runs it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host.h"
#include "plat.h"
#include "trtest.h"

#define STANDIN_KEY L"Software\\TLS Router Tests\\SEO Stand-in"
#define ONARRIVAL L"{FF3CAA23-00B9-11d2-9DFB-00C04FA322BA}"
#define SINK_CLSID_TEXT L"{06A27498-A1AB-4DCB-9627-375712DCA6C6}"
#define RUN_DEADLINE_MS 60000

static struct {
    wchar_t tool[MAX_PATH], standin[MAX_PATH], sink[MAX_PATH];
    char dir[PLAT_PATH_MAX];
    wchar_t log[MAX_PATH], out[MAX_PATH], err[MAX_PATH];
    char *stdout_text, *stderr_text;
} fx;

/* The stand-in's source id for instance n: its GetIndexedGUID adds n to the
 * first field of the SMTP source base GUID. */
static void source_id(int n, wchar_t *out)
{
    GUID g;
    assert_int_equal(CLSIDFromString(L"{1b3c0666-e470-11d1-aa67-00c04fa345f6}", &g), S_OK);
    g.Data1 += (unsigned long)n;
    StringFromGUID2(&g, out, 40);
}

static char *narrow_path_read(const wchar_t *path)
{
    char p[MAX_PATH * 3];
    WideCharToMultiByte(CP_UTF8, 0, path, -1, p, sizeof p, NULL, NULL);
    return host_read_file(p, NULL);
}

/* Run the tool with args; its exit code, output kept in fx. */
static int sinkreg(const wchar_t *args)
{
    wchar_t cmd[MAX_PATH * 2];
    int rc;
    swprintf(cmd, sizeof cmd / sizeof *cmd, L"\"%ls\" %ls", fx.tool, args);
    rc = host_run_capture(cmd, fx.out, fx.err, RUN_DEADLINE_MS);
    free(fx.stdout_text);
    free(fx.stderr_text);
    fx.stdout_text = narrow_path_read(fx.out);
    fx.stderr_text = narrow_path_read(fx.err);
    assert_non_null(fx.stdout_text);
    assert_non_null(fx.stderr_text);
    return rc;
}

static void assert_contains(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("expected to find \"%s\" in:\n%s", want, text);
}

/* Saved bindings of instance n named name: count, and the key of the last. */
static int saved_bindings(int n, const wchar_t *name, wchar_t *key_out, size_t len)
{
    wchar_t source[40], path[256], sub[64], display[256];
    HKEY key;
    int found = 0;
    source_id(n, source);
    swprintf(path, 256, L"%ls\\Bindings\\%ls\\%ls", STANDIN_KEY, source, ONARRIVAL);
    if (RegOpenKeyExW(HKEY_CURRENT_USER, path, 0, KEY_READ, &key) != ERROR_SUCCESS)
        return 0;
    for (DWORD i = 0;; i++) {
        DWORD sublen = 64, dlen = sizeof display;
        wchar_t full[320];
        if (RegEnumKeyExW(key, i, sub, &sublen, NULL, NULL, NULL, NULL) != ERROR_SUCCESS)
            break;
        swprintf(full, 320, L"%ls\\%ls", path, sub);
        if (RegGetValueW(HKEY_CURRENT_USER, full, L"DisplayName", RRF_RT_REG_SZ, NULL, display,
                         &dlen) == ERROR_SUCCESS &&
            wcscmp(display, name) == 0) {
            found++;
            if (key_out)
                swprintf(key_out, len, L"%ls", full);
        }
    }
    RegCloseKey(key);
    return found;
}

static void assert_reg_string(const wchar_t *key, const wchar_t *name, const wchar_t *want)
{
    wchar_t value[512];
    DWORD len = sizeof value;
    assert_int_equal(RegGetValueW(HKEY_CURRENT_USER, key, name, RRF_RT_REG_SZ, NULL, value, &len),
                     ERROR_SUCCESS);
    if (wcscmp(value, want) != 0)
        fail_msg("registry value %ls differs from what was expected", name);
}

static DWORD reg_dword(const wchar_t *key, const wchar_t *name)
{
    DWORD value = 0, len = sizeof value;
    assert_int_equal(RegGetValueW(HKEY_CURRENT_USER, key, name, RRF_RT_REG_DWORD, NULL, &value, &len),
                     ERROR_SUCCESS);
    return value;
}

static char *read_log(void)
{
    char *text = narrow_path_read(fx.log);
    return text ? text : _strdup("");
}

static int group_setup(void **state)
{
    char log[PLAT_PATH_MAX];
    if (FAILED(CoInitializeEx(NULL, COINIT_APARTMENTTHREADED)))
        return -1;
    host_windows_path(TR_TEST_SINKREG, fx.tool, MAX_PATH);
    host_windows_path(TR_TEST_SEO_STANDIN, fx.standin, MAX_PATH);
    host_windows_path(TR_TEST_SINK_DLL, fx.sink, MAX_PATH);
    if (trtest_temp_dir("sinkreg", fx.dir, sizeof fx.dir) != 0)
        return -1;
    snprintf(log, sizeof log, "%s\\standin-calls.log", fx.dir);
    MultiByteToWideChar(CP_UTF8, 0, log, -1, fx.log, MAX_PATH);
    swprintf(fx.out, MAX_PATH, L"%ls.out", fx.log);
    swprintf(fx.err, MAX_PATH, L"%ls.err", fx.log);
    /* The tool inherits this and so does the stand-in loaded into it. */
    if (!SetEnvironmentVariableW(L"TLSROUTER_SEO_STANDIN_LOG", fx.log))
        return -1;
    /* A clean stand-in database, and the sink class for ComCat to find. */
    host_regsvr32(fx.standin, 1);
    if (host_regsvr32(fx.standin, 0) != 0 || host_regsvr32(fx.sink, 0) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    host_regsvr32(fx.standin, 1);
    free(fx.stdout_text);
    free(fx.stderr_text);
    CoUninitialize();
    return 0;
}

static void test_register_default(void **state)
{
    wchar_t key[320], bag[340], source[40], expect_add[128];
    char *log, add_line[128];
    HKEY k;
    DeleteFileW(fx.log);
    assert_int_equal(sinkreg(L"register"), 0);
    assert_contains(fx.stdout_text, "Registered binding {");
    assert_contains(fx.stdout_text, "\"TLS Router Sink\" on SMTP virtual server #1");

    /* What smtpreg.vbs does, in its order. */
    log = read_log();
    source_id(1, source);
    swprintf(expect_add, 128, L"Bindings.Add %ls %ls", source, ONARRIVAL);
    WideCharToMultiByte(CP_UTF8, 0, expect_add, -1, add_line, sizeof add_line, NULL, NULL);
    assert_contains(log, "ComCat.RegisterClassImplementsCategory TLSRouter.Sink " "{FF3CAA23-00B9-11d2-9DFB-00C04FA322BA}");
    assert_contains(log, "Util.GetIndexedGUID {1b3c0666-e470-11d1-aa67-00c04fa345f6} 1");
    assert_contains(log, add_line);
    assert_contains(log, "Binding.Save");
    assert_true(strstr(log, "RegisterClassImplementsCategory") < strstr(log, "Bindings.Add"));
    assert_true(strstr(log, "Bindings.Add") < strstr(log, "Binding.Save"));
    free(log);

    /* The saved binding. */
    assert_int_equal(saved_bindings(1, L"TLS Router Sink", key, 320), 1);
    assert_reg_string(key, L"SinkClass", L"TLSRouter.Sink");
    assert_int_equal(reg_dword(key, L"Enabled"), 1);
    swprintf(bag, 340, L"%ls\\Source", key);
    assert_reg_string(bag, L"Rule", L"mail from=*");
    assert_int_equal(reg_dword(bag, L"Priority"), 24575);
    swprintf(bag, 340, L"%ls\\Sink", key);
    assert_int_equal(reg_dword(bag, L"Instance"), 1);
    /* The sink class now says it implements the OnArrival category. */
    assert_int_equal(RegOpenKeyExW(HKEY_CLASSES_ROOT,
                                   L"CLSID\\" SINK_CLSID_TEXT L"\\Implemented Categories\\" ONARRIVAL,
                                   0, KEY_READ, &k),
                     ERROR_SUCCESS);
    RegCloseKey(k);
    assert_int_equal(saved_bindings(2, L"TLS Router Sink", NULL, 0), 0);
}

static void test_register_again_replaces(void **state)
{
    char *log;
    DeleteFileW(fx.log);
    assert_int_equal(sinkreg(L"register"), 0);
    assert_int_equal(saved_bindings(1, L"TLS Router Sink", NULL, 0), 1);
    /* The new binding is saved before the old one goes: a failure in
     * between leaves the sink bound. */
    log = read_log();
    assert_contains(log, "Bindings.Remove");
    assert_true(strstr(log, "Binding.Save") < strstr(log, "Bindings.Remove"));
    free(log);
}

static void test_register_instance_and_options(void **state)
{
    wchar_t key[320], bag[340];
    assert_int_equal(sinkreg(L"register --instance 2 --priority 100 --rule \"rcpt to=*\" "
                             L"--name \"Second Sink\""),
                     0);
    assert_contains(fx.stdout_text, "\"Second Sink\" on SMTP virtual server #2");
    assert_int_equal(saved_bindings(2, L"Second Sink", key, 320), 1);
    swprintf(bag, 340, L"%ls\\Source", key);
    assert_reg_string(bag, L"Rule", L"rcpt to=*");
    assert_int_equal(reg_dword(bag, L"Priority"), 100);
    swprintf(bag, 340, L"%ls\\Sink", key);
    assert_int_equal(reg_dword(bag, L"Instance"), 2);
    /* Instance 1 keeps its own. */
    assert_int_equal(saved_bindings(1, L"TLS Router Sink", NULL, 0), 1);
}

static void test_bindings_lists_like_smtpreg_enum(void **state)
{
    assert_int_equal(sinkreg(L"bindings"), 0);
    assert_contains(fx.stdout_text, "Name: SMTP Virtual Server #1");
    assert_contains(fx.stdout_text, "Name: SMTP Virtual Server #2");
    assert_contains(fx.stdout_text, "Name: TLS Router Sink");
    assert_contains(fx.stdout_text, "SinkClass: TLSRouter.Sink");
    assert_contains(fx.stdout_text, "Enabled: True");
    assert_contains(fx.stdout_text, "Rule = mail from=*");
    assert_contains(fx.stdout_text, "Priority = 24575");
    assert_contains(fx.stdout_text, "Name: Second Sink");
    assert_contains(fx.stdout_text, "Priority = 100");
    /* Instance 1's binding is listed under instance 1's source. */
    assert_true(strstr(fx.stdout_text, "SMTP Virtual Server #1") <
                strstr(fx.stdout_text, "TLS Router Sink"));
}

static void test_unregister(void **state)
{
    assert_int_equal(sinkreg(L"unregister"), 0);
    assert_contains(fx.stdout_text, "Removed 1 binding(s) \"TLS Router Sink\" from SMTP virtual server #1");
    assert_int_equal(saved_bindings(1, L"TLS Router Sink", NULL, 0), 0);
    assert_int_equal(saved_bindings(2, L"Second Sink", NULL, 0), 1);
    assert_int_equal(sinkreg(L"unregister --instance 2 --name \"Second Sink\""), 0);
    assert_int_equal(saved_bindings(2, L"Second Sink", NULL, 0), 0);
    /* Nothing left to remove is not an error. */
    assert_int_equal(sinkreg(L"unregister"), 0);
    assert_contains(fx.stdout_text, "Removed 0 binding(s)");
}

static void test_errors(void **state)
{
    assert_int_equal(sinkreg(L"register --instance 3"), 1);
    assert_contains(fx.stderr_text, "SMTP virtual server #3 has no event source");
    assert_int_equal(saved_bindings(3, L"TLS Router Sink", NULL, 0), 0);

    assert_int_equal(sinkreg(L"register --progid No.Such.Sink"), 1);
    assert_contains(fx.stderr_text, "RegisterClassImplementsCategory");
    assert_int_equal(saved_bindings(1, L"TLS Router Sink", NULL, 0), 0);

    assert_int_equal(sinkreg(L"register --priority 40000"), 2);
    assert_contains(fx.stderr_text, "--priority must be 0 to 32767");
    assert_int_equal(sinkreg(L"register --instance 0"), 2);
    assert_int_equal(sinkreg(L"frobnicate"), 2);
    assert_contains(fx.stderr_text, "usage:");
    assert_int_equal(sinkreg(L""), 2);
}

/* Without SEO (no SMTP service installed) the tool says so. */
static void test_without_seo(void **state)
{
    assert_int_equal(host_regsvr32(fx.standin, 1), 0);
    assert_int_equal(sinkreg(L"bindings"), 1);
    assert_contains(fx.stderr_text, "Event.Manager is not registered");
    assert_contains(fx.stderr_text, "is the IIS SMTP service installed?");
    assert_int_equal(host_regsvr32(fx.standin, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_default),
        cmocka_unit_test(test_register_again_replaces),
        cmocka_unit_test(test_register_instance_and_options),
        cmocka_unit_test(test_bindings_lists_like_smtpreg_enum),
        cmocka_unit_test(test_unregister),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_without_seo),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
