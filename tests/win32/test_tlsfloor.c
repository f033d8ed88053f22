/* The "auto" TLS floor on Windows is what Schannel allows: the probe's
 * handshake is Schannel's, so the SCHANNEL client switches in the registry
 * (the keys the product documentation has admins edit) decide as they do
 * for IIS, with no registry reading of our own. An explicit floor only
 * takes protocols away.
 *
 * Schannel reads the switches once per process (Wine when the first
 * credential is acquired), so every probe after a registry change runs in a
 * child process: this program started again with --child-probe. Runs under
 * Wine, in the test prefix; Wine's Schannel honours the client "Enabled"
 * and "DisabledByDefault" values of the protocols up to TLS 1.2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "dnsd.h"
#include "peer.h"
#include "probe.h"

#define PROTOCOLS L"SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"
#define CHILD_MS 60000

static dnsd *dns;
static peer *old_server; /* TLS 1.0 and nothing else */

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

static probe_options options(unsigned port, const char *dns_server, probe_floor floor)
{
    probe_options o;
    probe_options_default(&o);
    o.port = port;
    o.dns_servers = dns_server;
    o.connect_timeout_ms = 5000;
    o.reply_timeout_ms = 8000;
    o.total_timeout_ms = 15000;
    o.floor = floor;
    return o;
}

/* The probe of old.test in a process of its own: its status. */
static probe_status probe_in_child(probe_floor floor)
{
    wchar_t self[MAX_PATH], cmd[MAX_PATH + 200];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD code = 0xFF;
    assert_true(GetModuleFileNameW(NULL, self, MAX_PATH) > 0);
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" --child-probe %hs %u %hs", self,
             dnsd_server(dns), peer_port(old_server), probe_floor_name(floor));
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    assert_true(CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    assert_int_equal(WaitForSingleObject(pi.hProcess, CHILD_MS), WAIT_OBJECT_0);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    assert_true(code < PROBE_STATUS_COUNT);
    return (probe_status)code;
}

/* --child-probe DNS PORT FLOOR: probe old.test, exit with the status. */
static int child_probe(char **argv)
{
    probe_floor floor = PROBE_FLOOR_AUTO;
    probe_options o;
    probe_result r;
    if (probe_floor_parse(argv[4], &floor) != 0)
        return 0xFE;
    o = options((unsigned)atoi(argv[3]), argv[2], floor);
    probe_domain("old.test", &o, &r);
    printf("child: %s %s %s %s\n", probe_status_name(r.status), tls_stack_name(r.stack),
           r.tls_version, r.error);
    return (int)r.status;
}

static int setup(void **state)
{
    (void)state;
    clear_all(NULL);
    dns = dnsd_start();
    old_server = peer_start(PEER_TLS10_ONLY, NULL);
    if (!dns || !old_server)
        return -1;
    dnsd_add_mx(dns, "old.test", 10, "mx.old.test");
    dnsd_add_a(dns, "mx.old.test", 127, 0, 0, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_all(NULL);
    peer_stop(old_server);
    dnsd_stop(dns);
    return 0;
}

/* No switches: Schannel's own defaults, which in Wine (as on Server 2012
 * to 2019) include TLS 1.0. The old probe assumed TLS 1.0 off and failed
 * here, sending mail plain that IIS could send over TLS. */
static void auto_is_what_schannel_allows(void **state)
{
    probe_options o = options(peer_port(old_server), dnsd_server(dns), PROBE_FLOOR_AUTO);
    probe_result r;
    (void)state;
    probe_domain("old.test", &o, &r);
    assert_int_equal(r.status, PROBE_STARTTLS);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);
    assert_string_equal(r.tls_version, "TLSv1");
}

/* An explicit floor restricts Schannel too, and never switches a protocol
 * on: none at or above TLS 1.3 here, so nothing at all. */
static void explicit_floor_restricts(void **state)
{
    probe_options o = options(peer_port(old_server), dnsd_server(dns), PROBE_FLOOR_TLS12);
    probe_result r;
    (void)state;
    probe_domain("old.test", &o, &r);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_int_equal(r.stack, TLS_STACK_SCHANNEL);

    o.floor = PROBE_FLOOR_TLS13;
    probe_domain("old.test", &o, &r);
    assert_int_equal(r.status, PROBE_HANDSHAKE_FAILED);
    assert_non_null(strstr(r.error, "no protocol at or above TLSv1.3"));
}

/* The switch IIS's own deliveries obey decides the probe: TLS 1.0 off for
 * clients, and the TLS 1.0-only server is out of reach; on again (or the
 * key gone), it works. */
static void registry_switch_decides(void **state)
{
    (void)state;
    set_client(L"TLS 1.0", 0, 0);
    assert_int_equal(probe_in_child(PROBE_FLOOR_AUTO), PROBE_HANDSHAKE_FAILED);
    set_client(L"TLS 1.0", 1, 0);
    assert_int_equal(probe_in_child(PROBE_FLOOR_AUTO), PROBE_STARTTLS);
    clear_all(NULL);
    assert_int_equal(probe_in_child(PROBE_FLOOR_AUTO), PROBE_STARTTLS);
}

/* "Disabled by default": Schannel does not offer it unless a program asks
 * by name; the probe never asks, even with an explicit floor below it. */
static void disabled_by_default_is_not_offered(void **state)
{
    (void)state;
    set_client(L"TLS 1.0", 1, 1);
    assert_int_equal(probe_in_child(PROBE_FLOOR_AUTO), PROBE_HANDSHAKE_FAILED);
    assert_int_equal(probe_in_child(PROBE_FLOOR_TLS10), PROBE_HANDSHAKE_FAILED);
    clear_all(NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auto_is_what_schannel_allows),
        cmocka_unit_test(explicit_floor_restricts),
        cmocka_unit_test_teardown(registry_switch_decides, clear_all),
        cmocka_unit_test_teardown(disabled_by_default_is_not_offered, clear_all),
    };
    if (argc == 5 && strcmp(argv[1], "--child-probe") == 0)
        return child_probe(argv);
    return cmocka_run_group_tests(tests, setup, teardown);
}
