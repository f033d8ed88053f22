/* The "auto" TLS floor on Windows follows the Schannel client switches in
 * the registry (the keys the product documentation has admins edit), and a
 * probe really uses it: a TLS 1.0-only server works once TLS 1.0 is enabled
 * there and fails once it is not. Runs under Wine, in the test prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <windows.h>

#include "dnsd.h"
#include "peer.h"
#include "probe.h"

#define PROTOCOLS L"SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"

static void set_client(const wchar_t *protocol, DWORD enabled, DWORD disabled_by_default)
{
    wchar_t path[200];
    HKEY key;
    lstrcpyW(path, PROTOCOLS);
    lstrcatW(path, protocol);
    lstrcatW(path, L"\\Client");
    assert_int_equal(RegCreateKeyExW(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_SET_VALUE, NULL,
                                     &key, NULL), ERROR_SUCCESS);
    assert_int_equal(RegSetValueExW(key, L"Enabled", 0, REG_DWORD, (const BYTE *)&enabled,
                                    sizeof enabled), ERROR_SUCCESS);
    assert_int_equal(RegSetValueExW(key, L"DisabledByDefault", 0, REG_DWORD,
                                    (const BYTE *)&disabled_by_default,
                                    sizeof disabled_by_default), ERROR_SUCCESS);
    RegCloseKey(key);
}

static void clear_client(const wchar_t *protocol)
{
    wchar_t path[200];
    lstrcpyW(path, PROTOCOLS);
    lstrcatW(path, protocol);
    lstrcatW(path, L"\\Client");
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, path);
}

static int clear_all(void **state)
{
    (void)state;
    clear_client(L"TLS 1.0");
    clear_client(L"TLS 1.1");
    clear_client(L"TLS 1.2");
    clear_client(L"TLS 1.3");
    return 0;
}

static void floor_follows_the_registry(void **state)
{
    (void)state;
    clear_all(NULL);
    assert_int_equal(probe_system_floor(), PROBE_FLOOR_TLS12); /* Windows' defaults */
    set_client(L"TLS 1.0", 1, 0);
    set_client(L"TLS 1.1", 1, 0);
    assert_int_equal(probe_system_floor(), PROBE_FLOOR_TLS10);
    set_client(L"TLS 1.0", 1, 1); /* enabled, but disabled by default: not used */
    assert_int_equal(probe_system_floor(), PROBE_FLOOR_TLS11);
    set_client(L"TLS 1.1", 0, 0);
    set_client(L"TLS 1.2", 0, 0);
    assert_int_equal(probe_system_floor(), PROBE_FLOOR_TLS13);
    clear_all(NULL);
}

static void auto_floor_drives_the_probe(void **state)
{
    dnsd *dns = dnsd_start();
    peer *p = peer_start(PEER_TLS10_ONLY, NULL);
    probe_options o;
    probe_result r;
    (void)state;
    assert_non_null(dns);
    assert_non_null(p);
    dnsd_add_mx(dns, "old.test", 10, "mx.old.test");
    dnsd_add_a(dns, "mx.old.test", 127, 0, 0, 1);
    probe_options_default(&o);
    o.port = peer_port(p);
    o.dns_servers = dnsd_server(dns);
    o.total_timeout_ms = 8000;
    assert_int_equal(o.floor, PROBE_FLOOR_AUTO);

    set_client(L"TLS 1.0", 1, 0);
    probe_domain("old.test", &o, &r);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_string_equal(r.tls_version, "TLSv1");

    clear_all(NULL);
    probe_domain("old.test", &o, &r);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    peer_stop(p);
    dnsd_stop(dns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(floor_follows_the_registry, clear_all),
        cmocka_unit_test_teardown(auto_floor_drives_the_probe, clear_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
