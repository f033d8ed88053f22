/* sink_register: what DllRegisterServer writes and DllUnregisterServer
 * removes. The class under HKCR\CLSID (InprocServer32, ThreadingModel Both,
 * ProgID, VersionIndependentProgID), the two ProgIDs, and the Event Log
 * source whose EventMessageFile is this DLL. The OnArrival binding itself is
 * SEO's business and lives in tlsrouter-sinkreg. */
#include "sink.h"

#include <olectl.h>
#include <wchar.h>

#define CLSID_KEY_LEN 64

static LSTATUS set_string(HKEY root, const wchar_t *subkey, const wchar_t *name, DWORD type,
                          const wchar_t *value)
{
    HKEY key;
    LSTATUS rc = RegCreateKeyExW(root, subkey, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE,
                                 NULL, &key, NULL);
    if (rc != ERROR_SUCCESS)
        return rc;
    rc = RegSetValueExW(key, name, 0, type, (const BYTE *)value,
                        (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
    RegCloseKey(key);
    return rc;
}

static LSTATUS set_dword(HKEY root, const wchar_t *subkey, const wchar_t *name, DWORD value)
{
    HKEY key;
    LSTATUS rc = RegCreateKeyExW(root, subkey, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE,
                                 NULL, &key, NULL);
    if (rc != ERROR_SUCCESS)
        return rc;
    rc = RegSetValueExW(key, name, 0, REG_DWORD, (const BYTE *)&value, sizeof value);
    RegCloseKey(key);
    return rc;
}

/* "CLSID\{...}" plus an optional tail such as "\InprocServer32". */
static void clsid_key(wchar_t *buf, size_t len, const wchar_t *tail)
{
    wchar_t guid[40];
    StringFromGUID2(&CLSID_TlsRouterSink, guid, 40);
    swprintf(buf, len, L"CLSID\\%ls%ls", guid, tail ? tail : L"");
}

static LSTATUS register_class(const wchar_t *dll_path)
{
    wchar_t key[CLSID_KEY_LEN + 32], guid[40];
    LSTATUS rc;
    StringFromGUID2(&CLSID_TlsRouterSink, guid, 40);

    clsid_key(key, sizeof key / sizeof *key, NULL);
    if ((rc = set_string(HKEY_CLASSES_ROOT, key, NULL, REG_SZ, SINK_CLASS_NAME)) != ERROR_SUCCESS)
        return rc;
    clsid_key(key, sizeof key / sizeof *key, L"\\InprocServer32");
    if ((rc = set_string(HKEY_CLASSES_ROOT, key, NULL, REG_SZ, dll_path)) != ERROR_SUCCESS ||
        (rc = set_string(HKEY_CLASSES_ROOT, key, L"ThreadingModel", REG_SZ, L"Both")) != ERROR_SUCCESS)
        return rc;
    clsid_key(key, sizeof key / sizeof *key, L"\\ProgID");
    if ((rc = set_string(HKEY_CLASSES_ROOT, key, NULL, REG_SZ, SINK_PROGID_VERSIONED)) != ERROR_SUCCESS)
        return rc;
    clsid_key(key, sizeof key / sizeof *key, L"\\VersionIndependentProgID");
    if ((rc = set_string(HKEY_CLASSES_ROOT, key, NULL, REG_SZ, SINK_PROGID)) != ERROR_SUCCESS)
        return rc;

    if ((rc = set_string(HKEY_CLASSES_ROOT, SINK_PROGID, NULL, REG_SZ, SINK_CLASS_NAME)) != ERROR_SUCCESS ||
        (rc = set_string(HKEY_CLASSES_ROOT, SINK_PROGID L"\\CLSID", NULL, REG_SZ, guid)) != ERROR_SUCCESS ||
        (rc = set_string(HKEY_CLASSES_ROOT, SINK_PROGID L"\\CurVer", NULL, REG_SZ,
                         SINK_PROGID_VERSIONED)) != ERROR_SUCCESS)
        return rc;
    if ((rc = set_string(HKEY_CLASSES_ROOT, SINK_PROGID_VERSIONED, NULL, REG_SZ, SINK_CLASS_NAME)) != ERROR_SUCCESS ||
        (rc = set_string(HKEY_CLASSES_ROOT, SINK_PROGID_VERSIONED L"\\CLSID", NULL, REG_SZ, guid)) != ERROR_SUCCESS)
        return rc;
    return ERROR_SUCCESS;
}

static LSTATUS register_event_source(const wchar_t *dll_path)
{
    LSTATUS rc = set_string(HKEY_LOCAL_MACHINE, SINK_EVENTLOG_KEY, L"EventMessageFile",
                            REG_EXPAND_SZ, dll_path);
    if (rc != ERROR_SUCCESS)
        return rc;
    return set_dword(HKEY_LOCAL_MACHINE, SINK_EVENTLOG_KEY, L"TypesSupported",
                     EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE);
}

static LSTATUS delete_tree(HKEY root, const wchar_t *subkey)
{
    LSTATUS rc = RegDeleteTreeW(root, subkey);
    if (rc == ERROR_SUCCESS)
        rc = RegDeleteKeyW(root, subkey);
    return rc == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : rc;
}

HRESULT sink_unregister_server(void)
{
    wchar_t key[CLSID_KEY_LEN];
    LSTATUS rc, first = ERROR_SUCCESS;
    clsid_key(key, sizeof key / sizeof *key, NULL);
    /* Remove everything we can, report the first failure. */
    const wchar_t *keys[] = { key, SINK_PROGID, SINK_PROGID_VERSIONED };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if ((rc = delete_tree(HKEY_CLASSES_ROOT, keys[i])) != ERROR_SUCCESS && first == ERROR_SUCCESS)
            first = rc;
    if ((rc = delete_tree(HKEY_LOCAL_MACHINE, SINK_EVENTLOG_KEY)) != ERROR_SUCCESS &&
        first == ERROR_SUCCESS)
        first = rc;
    return first == ERROR_SUCCESS ? S_OK : HRESULT_FROM_WIN32((DWORD)first);
}

HRESULT sink_register_server(void)
{
    wchar_t path[MAX_PATH];
    DWORD n = GetModuleFileNameW(sink_module_handle(), path, MAX_PATH);
    LSTATUS rc;
    if (n == 0 || n >= MAX_PATH)
        return SELFREG_E_CLASS;
    rc = register_class(path);
    if (rc == ERROR_SUCCESS)
        rc = register_event_source(path);
    if (rc != ERROR_SUCCESS) {
        sink_unregister_server(); /* no half registration left behind */
        return HRESULT_FROM_WIN32((DWORD)rc);
    }
    return S_OK;
}
