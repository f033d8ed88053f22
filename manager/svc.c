/* svc: see svc.h. */
#include "svc.h"

#include <stdio.h>

svc_state svc_query(const wchar_t *name)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!scm)
        return SVC_UNKNOWN;
    SC_HANDLE s = OpenServiceW(scm, name, SERVICE_QUERY_STATUS);
    svc_state state = SVC_UNKNOWN;
    if (!s) {
        if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST)
            state = SVC_NOT_INSTALLED;
    } else {
        SERVICE_STATUS st;
        if (QueryServiceStatus(s, &st)) {
            switch (st.dwCurrentState) {
            case SERVICE_RUNNING: state = SVC_RUNNING; break;
            case SERVICE_STOPPED: state = SVC_STOPPED; break;
            case SERVICE_PAUSED: state = SVC_PAUSED; break;
            default: state = SVC_PENDING; break;
            }
        }
        CloseServiceHandle(s);
    }
    CloseServiceHandle(scm);
    return state;
}

const wchar_t *svc_state_text(svc_state s)
{
    switch (s) {
    case SVC_NOT_INSTALLED: return L"Not installed";
    case SVC_STOPPED: return L"Stopped";
    case SVC_RUNNING: return L"Running";
    case SVC_PENDING: return L"Starting or stopping";
    case SVC_PAUSED: return L"Paused";
    default: return L"Unknown (run the manager as an administrator)";
    }
}

static void win_message(DWORD code, wchar_t *buf, size_t len)
{
    if (!FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                        0, buf, (DWORD)len, NULL))
        _snwprintf(buf, len - 1, L"error %lu", (unsigned long)code), buf[len - 1] = 0;
    /* FormatMessage ends with a line break; the sentence continues after it. */
    size_t n = wcslen(buf);
    while (n && (buf[n - 1] == L'\n' || buf[n - 1] == L'\r' || buf[n - 1] == L'.'))
        buf[--n] = 0;
}

int svc_start(const wchar_t *name, DWORD wait_ms, wchar_t *msg, size_t msglen)
{
    wchar_t why[256];
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE s = scm ? OpenServiceW(scm, name, SERVICE_START | SERVICE_QUERY_STATUS) : NULL;
    int rc = -1;
    if (!s) {
        win_message(GetLastError(), why, 256);
        _snwprintf(msg, msglen - 1, L"The service %ls could not be opened (%ls). Run the "
                   L"manager as an administrator.", name, why);
    } else if (!StartServiceW(s, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        win_message(GetLastError(), why, 256);
        _snwprintf(msg, msglen - 1, L"The service %ls did not start (%ls). Open Services in "
                   L"Administrative Tools to see why.", name, why);
    } else {
        SERVICE_STATUS st = { 0 };
        for (DWORD waited = 0; waited < wait_ms; waited += 250) {
            if (!QueryServiceStatus(s, &st) || st.dwCurrentState != SERVICE_START_PENDING)
                break;
            Sleep(250);
        }
        rc = st.dwCurrentState == SERVICE_RUNNING ? 0 : -1;
        _snwprintf(msg, msglen - 1, rc == 0 ? L"The service %ls is running."
                   : L"The service %ls was asked to start but is not running yet. Refresh in "
                     L"a moment, or check the System event log.", name);
    }
    msg[msglen - 1] = 0;
    if (s)
        CloseServiceHandle(s);
    if (scm)
        CloseServiceHandle(scm);
    return rc;
}

static int reg_default(HKEY root, const wchar_t *key, wchar_t *out, size_t len)
{
    DWORD size = (DWORD)(len * sizeof(wchar_t));
    out[0] = 0;
    if (RegGetValueW(root, key, NULL, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ, NULL, out, &size)
        != ERROR_SUCCESS)
        return -1;
    return 0;
}

int svc_sink_registration(const wchar_t *progid, wchar_t *clsid, size_t clsidlen,
                          wchar_t *dll, size_t dlllen, int *dll_exists)
{
    wchar_t key[256];
    *dll_exists = 0;
    dll[0] = 0;
    _snwprintf(key, 255, L"%ls\\CLSID", progid);
    key[255] = 0;
    if (reg_default(HKEY_CLASSES_ROOT, key, clsid, clsidlen) != 0)
        return 0;
    _snwprintf(key, 255, L"CLSID\\%ls\\InprocServer32", clsid);
    if (reg_default(HKEY_CLASSES_ROOT, key, dll, dlllen) == 0)
        *dll_exists = GetFileAttributesW(dll) != INVALID_FILE_ATTRIBUTES;
    return 1;
}
