/* checkhost: see checkhost.h. Each hook asks Windows and says what it found
 * in the administrator's words. */
#include "checkhost.h"

#define SECURITY_WIN32
#include <windows.h>
#include <objbase.h>
#include <schannel.h>
#include <security.h>
#include <stdio.h>
#include <string.h>

#include "sinkbind.h"
#include "svc.h"

#define SINK_PROGID_TEXT "TLSRouter.Sink"
#define SMTPSVC_KEY L"SYSTEM\\CurrentControlSet\\Services\\SMTPSVC"
#define SCHANNEL_PROTOCOLS L"SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"

static check_status say(check_row *row, check_status st, const char *detail, const char *remedy)
{
    snprintf(row->detail, sizeof row->detail, "%s", detail);
    snprintf(row->remedy, sizeof row->remedy, "%s", remedy);
    return st;
}

/* The key the installer looks for: the SMTP Server feature is installed. */
static check_status smtp_installed(check_row *row)
{
    HKEY key;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, SMTPSVC_KEY, 0, KEY_QUERY_VALUE, &key) == ERROR_SUCCESS) {
        RegCloseKey(key);
        return say(row, CHECK_OK, "the IIS SMTP Server feature is installed", "");
    }
    return say(row, CHECK_FAIL, "the IIS SMTP Server feature is not installed",
               "Add the SMTP Server feature (Server Manager, Add Roles and Features), then run "
               "the TLS Router installer again.");
}

static const char *state_words(svc_state st)
{
    switch (st) {
    case SVC_NOT_INSTALLED: return "not installed";
    case SVC_STOPPED: return "stopped";
    case SVC_RUNNING: return "running";
    case SVC_PENDING: return "starting or stopping";
    case SVC_PAUSED: return "paused";
    default: return "unknown (this account may not ask the Service Control Manager)";
    }
}

static check_status service(const char *name, int installed_only, check_row *row)
{
    wchar_t wname[64];
    char detail[160], remedy[240];
    if (installed_only)
        return smtp_installed(row);
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 64);
    svc_state st = svc_query(wname);
    snprintf(detail, sizeof detail, "the %s service is %s", name, state_words(st));
    if (st == SVC_NOT_INSTALLED)
        snprintf(remedy, sizeof remedy, "Add the SMTP Server feature with IIS 6 Management "
                 "Compatibility (Server Manager), which installs %s.", name);
    else
        snprintf(remedy, sizeof remedy, "Start the %s service (Services, or `net start %s`) and "
                 "set it to start automatically.", name, name);
    switch (st) {
    case SVC_RUNNING: return say(row, CHECK_OK, detail, "");
    case SVC_PENDING:
    case SVC_UNKNOWN: return say(row, CHECK_WARN, detail, remedy);
    default: return say(row, CHECK_FAIL, detail, remedy);
    }
}

static check_status sink_registered(check_row *row)
{
    wchar_t clsid[64], dll[MAX_PATH];
    int exists = 0;
    char detail[CHECK_TEXT_MAX];
    if (!svc_sink_registration(L"" SINK_PROGID_TEXT, clsid, 64, dll, MAX_PATH, &exists))
        return say(row, CHECK_FAIL, "the sink's COM class " SINK_PROGID_TEXT " is not registered",
                   "Run the TLS Router installer again (it registers tlsrouter_sink.dll), or "
                   "`regsvr32 tlsrouter_sink.dll` from its folder.");
    snprintf(detail, sizeof detail, SINK_PROGID_TEXT " is registered: %ls", dll);
    if (!exists)
        return say(row, CHECK_FAIL, detail, "The registered DLL is missing: run the TLS Router "
                                            "installer again.");
    return say(row, CHECK_OK, detail, "");
}

static check_status sink_bound(int instance, check_row *row)
{
    sinkbind_info b;
    char err[300], detail[CHECK_TEXT_MAX], remedy[CHECK_TEXT_MAX];
    HRESULT init = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    int rc = sinkbind_read(SINK_PROGID_TEXT, &b, err, sizeof err);
    if (SUCCEEDED(init))
        CoUninitialize();
    snprintf(remedy, sizeof remedy, "Bind it: `tlsrouter-sinkreg register --instance %d` (the "
             "installer does this for the virtual server it is given), then restart SMTPSVC.",
             instance);
    if (rc != 0) {
        snprintf(detail, sizeof detail, "the IIS event bindings cannot be read: %s", err);
        return say(row, CHECK_FAIL, detail, remedy);
    }
    for (int i = 0; i < b.count; i++) {
        if (b.instance[i] != instance)
            continue;
        snprintf(detail, sizeof detail, "the sink is bound to virtual server %d's OnArrival "
                 "event%s", instance, b.enabled[i] ? "" : ", but the binding is disabled");
        return say(row, b.enabled[i] ? CHECK_OK : CHECK_FAIL, detail,
                   b.enabled[i] ? "" : remedy);
    }
    snprintf(detail, sizeof detail, "the sink is not bound to virtual server %d (the rule's "
             "source): its mail is never looked at", instance);
    return say(row, CHECK_FAIL, detail, remedy);
}

/* ---- Schannel ---------------------------------------------------------- */

typedef struct {
    const wchar_t *key;
    const char *name;
    DWORD first_build;   /* from this build on, on by default (Microsoft Learn,
                            "Protocols in TLS/SSL (Schannel SSP)") */
    DWORD last_build;    /* 0: still on by default */
} protocol_default;

/* 2008 R2 (7601): TLS 1.0 only; 2012 (9200) to 2019: 1.0 to 1.2; 2022
 * (20348): 1.0 to 1.3. */
static const protocol_default protocols[] = {
    { L"TLS 1.0", "TLS 1.0", 0, 0 },
    { L"TLS 1.1", "TLS 1.1", 9200, 0 },
    { L"TLS 1.2", "TLS 1.2", 9200, 0 },
    { L"TLS 1.3", "TLS 1.3", 20348, 0 },
};

static DWORD windows_build(void)
{
    typedef LONG(WINAPI * rtl_get_version)(OSVERSIONINFOW *);
    OSVERSIONINFOW v = { .dwOSVersionInfoSize = sizeof v };
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    rtl_get_version get = ntdll ? (rtl_get_version)(void (*)(void))GetProcAddress(ntdll, "RtlGetVersion")
                                : NULL;
    return get && get(&v) == 0 ? v.dwBuildNumber : 0;
}

/* -1: no value; else the DWORD. */
static long client_value(const wchar_t *protocol, const wchar_t *value)
{
    wchar_t path[256];
    HKEY key;
    DWORD data = 0, size = sizeof data, type = 0;
    long out = -1;
    _snwprintf(path, 255, L"%ls%ls\\Client", SCHANNEL_PROTOCOLS, protocol);
    path[255] = 0;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, path, 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS)
        return -1;
    if (RegQueryValueExW(key, value, NULL, &type, (BYTE *)&data, &size) == ERROR_SUCCESS &&
        type == REG_DWORD)
        out = (long)data;
    RegCloseKey(key);
    return out;
}

/* On for an application that leaves the choice to the system (as IIS's
 * delivery does): not Enabled=0, not DisabledByDefault=1, and either
 * switched on or on by default in this build. */
static int protocol_on(const protocol_default *p, DWORD build)
{
    long enabled = client_value(p->key, L"Enabled");
    long by_default_off = client_value(p->key, L"DisabledByDefault");
    if (enabled == 0 || by_default_off == 1)
        return 0;
    if (enabled > 0 && by_default_off == 0)
        return 1;
    return build >= p->first_build && (p->last_build == 0 || build <= p->last_build);
}

/* What Schannel itself says it allows a client that leaves the choice to
 * the system (default credentials, as IIS's delivery and the probe use):
 * 1 and *bits (SP_PROT_*_CLIENT), or 0 when it cannot be asked. */
static int schannel_reports(DWORD *bits)
{
    SCHANNEL_CRED cred = { .dwVersion = SCHANNEL_CRED_VERSION };
    CredHandle handle;
    TimeStamp expiry;
    SecPkgCred_SupportedProtocols supported = { 0 };
    if (AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                  &cred, NULL, NULL, &handle, &expiry) != SEC_E_OK)
        return 0;
    SECURITY_STATUS st = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_PROTOCOLS,
                                                     &supported);
    FreeCredentialsHandle(&handle);
    *bits = supported.grbitProtocol;
    return st == SEC_E_OK;
}

static const struct {
    DWORD bit;
    const char *name;
} client_bits[] = {
    { SP_PROT_TLS1_0_CLIENT, "TLS 1.0" },
    { SP_PROT_TLS1_1_CLIENT, "TLS 1.1" },
    { SP_PROT_TLS1_2_CLIENT, "TLS 1.2" },
    { SP_PROT_TLS1_3_CLIENT, "TLS 1.3" },
};

/* The registry switches over this build's defaults, when Schannel cannot
 * be asked. */
static DWORD protocols_from_registry(DWORD build)
{
    DWORD bits = 0;
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
        if (protocol_on(&protocols[i], build))
            bits |= client_bits[i].bit;
    return bits;
}

static check_status schannel(check_row *row)
{
    DWORD build = windows_build(), bits = 0;
    int asked = schannel_reports(&bits);
    char list[80] = "";
    if (!asked)
        bits = protocols_from_registry(build);
    for (size_t i = 0; i < sizeof client_bits / sizeof client_bits[0]; i++)
        if (bits & client_bits[i].bit)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     list[0] ? ", " : "", client_bits[i].name);
    snprintf(row->detail, sizeof row->detail, "client protocols %s (Windows build %lu): %s; the "
             "probe and IIS's delivery use exactly these",
             asked ? "Schannel allows" : "the registry allows", (unsigned long)build,
             list[0] ? list : "none");
    if (bits & SP_PROT_TLS1_2_CLIENT)
        return CHECK_OK;
    snprintf(row->remedy, sizeof row->remedy, "Enable TLS 1.2 for clients (SCHANNEL\\Protocols\\"
             "TLS 1.2\\Client: Enabled=1, DisabledByDefault=0) and restart: most mail servers "
             "refuse older protocols.");
    return CHECK_WARN;
}

static const check_host windows_host = {
    .service = service,
    .sink_registered = sink_registered,
    .sink_bound = sink_bound,
    .schannel = schannel,
};

const check_host *checkhost_windows(void) { return &windows_host; }
