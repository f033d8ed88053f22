/* iis_standin: a STAND-IN for the IIS ADSI provider ("IIS:"), for testing
 * under Wine, which has no IIS. Registered as the ADSI provider of the
 * IIS: namespace (HKLM\SOFTWARE\Microsoft\ADs\Providers\IIS, the key
 * ADsGetObject reads), it opens IIS://localhost/SmtpSvc/N as an IADs
 * object of class IIsSmtpServer when the test has described virtual server
 * N under HKCU\Software\TLS Router Tests\IIS Stand-in\N; IADs::Get answers
 * that key's string values (PickupDirectory, ServerComment). Nothing else
 * of ADSI is served. */
#define COBJMACROS
#define CONST_VTABLE
#include <windows.h>
#include <ole2.h>
#include <olectl.h>
#include <activeds.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#define ROOT_KEY L"Software\\TLS Router Tests\\IIS Stand-in"
#define PROGID L"TLSRouterTests.IISNamespace"
#define PROVIDERS_KEY L"SOFTWARE\\Microsoft\\ADs\\Providers\\IIS"
#define SMTP_PREFIX L"IIS://localhost/SmtpSvc/"
#define GUID_CHARS 39
/* ADSI's "the directory property cannot be found in the cache". */
#define STANDIN_E_PROPERTY_NOT_FOUND ((HRESULT)0x8000500DL)
/* ADSI's "an invalid directory pathname was passed". */
#define STANDIN_E_BAD_PATHNAME ((HRESULT)0x80005000L)

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);
HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv);
HRESULT WINAPI DllCanUnloadNow(void);
HRESULT WINAPI DllRegisterServer(void);
HRESULT WINAPI DllUnregisterServer(void);

/* {15F32548-5895-4E65-A61E-075093D2335E}: the stand-in namespace object. */
static const CLSID CLSID_IisStandin = { 0x15f32548, 0x5895, 0x4e65,
                                        { 0xa6, 0x1e, 0x07, 0x50, 0x93, 0xd2, 0x33, 0x5e } };

static HMODULE module;
static volatile LONG live_objects;

/* ---- the IDispatch part of both interfaces ------------------------------ */

/* Late binding is not served: ADsGetObject's callers use the vtables. */
#define NO_LATE_BINDING(prefix, type)                                                      \
    static HRESULT WINAPI prefix##_type_info_count(type *p, UINT *n)                       \
    {                                                                                      \
        *n = 0;                                                                            \
        return S_OK;                                                                       \
    }                                                                                      \
    static HRESULT WINAPI prefix##_type_info(type *p, UINT i, LCID l, ITypeInfo **t)       \
    {                                                                                      \
        *t = NULL;                                                                         \
        return DISP_E_BADINDEX;                                                            \
    }                                                                                      \
    static HRESULT WINAPI prefix##_ids(type *p, REFIID r, LPOLESTR *names, UINT n, LCID l, \
                                       DISPID *ids)                                        \
    {                                                                                      \
        return DISP_E_UNKNOWNNAME;                                                         \
    }                                                                                      \
    static HRESULT WINAPI prefix##_invoke(type *p, DISPID id, REFIID r, LCID l, WORD f,    \
                                          DISPPARAMS *d, VARIANT *v, EXCEPINFO *e, UINT *a) \
    {                                                                                      \
        return DISP_E_MEMBERNOTFOUND;                                                      \
    }

NO_LATE_BINDING(server, IADs)
NO_LATE_BINDING(opener, IADsOpenDSObject)

/* ---- one virtual server: IADs ------------------------------------------- */

typedef struct {
    IADs iface;
    LONG refs;
    int instance;
} server;

static HRESULT WINAPI server_query(IADs *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch) ||
        IsEqualIID(riid, &IID_IADs)) {
        *ppv = p;
        IADs_AddRef(p);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI server_add_ref(IADs *p) { return (ULONG)InterlockedIncrement(&((server *)p)->refs); }
static ULONG WINAPI server_release(IADs *p)
{
    LONG n = InterlockedDecrement(&((server *)p)->refs);
    if (n == 0) {
        free(p);
        InterlockedDecrement(&live_objects);
    }
    return (ULONG)n;
}

static HRESULT bstr_out(BSTR *out, const wchar_t *s)
{
    *out = SysAllocString(s);
    return *out ? S_OK : E_OUTOFMEMORY;
}

static HRESULT WINAPI server_name(IADs *p, BSTR *out)
{
    wchar_t n[16];
    swprintf(n, 16, L"%d", ((server *)p)->instance);
    return bstr_out(out, n);
}
static HRESULT WINAPI server_class(IADs *p, BSTR *out) { return bstr_out(out, L"IIsSmtpServer"); }
static HRESULT WINAPI server_not_served(IADs *p, BSTR *out)
{
    *out = NULL;
    return E_NOTIMPL;
}
static HRESULT WINAPI server_info(IADs *p) { return S_OK; }
static HRESULT WINAPI server_set_info(IADs *p) { return E_ACCESSDENIED; }

/* A string value of the server's key, as IIS's metabase would give it. */
static HRESULT WINAPI server_get(IADs *p, BSTR name, VARIANT *out)
{
    wchar_t sub[64], value[MAX_PATH];
    DWORD bytes = sizeof value;
    VariantInit(out);
    swprintf(sub, 64, L"%ls\\%d", ROOT_KEY, ((server *)p)->instance);
    if (!name || RegGetValueW(HKEY_CURRENT_USER, sub, name, RRF_RT_REG_SZ, NULL, value, &bytes) !=
                     ERROR_SUCCESS)
        return STANDIN_E_PROPERTY_NOT_FOUND;
    V_VT(out) = VT_BSTR;
    V_BSTR(out) = SysAllocString(value);
    return V_BSTR(out) ? S_OK : E_OUTOFMEMORY;
}
static HRESULT WINAPI server_put(IADs *p, BSTR name, VARIANT v) { return E_ACCESSDENIED; }
static HRESULT WINAPI server_put_ex(IADs *p, LONG code, BSTR name, VARIANT v) { return E_ACCESSDENIED; }
static HRESULT WINAPI server_get_info_ex(IADs *p, VARIANT props, LONG reserved) { return S_OK; }

static const IADsVtbl server_vtbl = {
    server_query, server_add_ref, server_release,
    server_type_info_count, server_type_info, server_ids, server_invoke,
    server_name, server_class, server_not_served, server_not_served, server_not_served,
    server_not_served, server_info, server_set_info, server_get, server_put, server_get,
    server_put_ex, server_get_info_ex,
};

/* "IIS://localhost/SmtpSvc/N" for a server the test described; else 0. */
static int described_instance(const wchar_t *path)
{
    size_t n = wcslen(SMTP_PREFIX);
    wchar_t sub[64], *end;
    HKEY key;
    if (!path || _wcsnicmp(path, SMTP_PREFIX, n) != 0)
        return 0;
    long instance = wcstol(path + n, &end, 10);
    if (end == path + n || *end || instance < 1 || instance > 100000)
        return 0;
    swprintf(sub, 64, L"%ls\\%ld", ROOT_KEY, instance);
    if (RegOpenKeyExW(HKEY_CURRENT_USER, sub, 0, KEY_READ, &key) != ERROR_SUCCESS)
        return 0;
    RegCloseKey(key);
    return (int)instance;
}

/* ---- the namespace: IADsOpenDSObject ------------------------------------ */

typedef struct {
    IADsOpenDSObject iface;
    LONG refs;
} opener;

static HRESULT WINAPI opener_query(IADsOpenDSObject *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch) ||
        IsEqualIID(riid, &IID_IADsOpenDSObject)) {
        *ppv = p;
        IADsOpenDSObject_AddRef(p);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI opener_add_ref(IADsOpenDSObject *p)
{
    return (ULONG)InterlockedIncrement(&((opener *)p)->refs);
}
static ULONG WINAPI opener_release(IADsOpenDSObject *p)
{
    LONG n = InterlockedDecrement(&((opener *)p)->refs);
    if (n == 0) {
        free(p);
        InterlockedDecrement(&live_objects);
    }
    return (ULONG)n;
}

static HRESULT WINAPI opener_open(IADsOpenDSObject *p, BSTR path, BSTR user, BSTR password,
                                  LONG reserved, IDispatch **out)
{
    int instance = described_instance(path);
    server *s;
    *out = NULL;
    if (!instance)
        return STANDIN_E_BAD_PATHNAME;
    if (!(s = calloc(1, sizeof *s)))
        return E_OUTOFMEMORY;
    s->iface.lpVtbl = &server_vtbl;
    s->refs = 1;
    s->instance = instance;
    InterlockedIncrement(&live_objects);
    *out = (IDispatch *)&s->iface;
    return S_OK;
}

static const IADsOpenDSObjectVtbl opener_vtbl = {
    opener_query, opener_add_ref, opener_release,
    opener_type_info_count, opener_type_info, opener_ids, opener_invoke,
    opener_open,
};

/* ---- class factory and registration ------------------------------------ */

static HRESULT WINAPI factory_query(IClassFactory *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *ppv = p;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI factory_add_ref(IClassFactory *p) { return 2; }
static ULONG WINAPI factory_release(IClassFactory *p) { return 1; }
static HRESULT WINAPI factory_create(IClassFactory *p, IUnknown *outer, REFIID riid, void **ppv)
{
    opener *o;
    HRESULT hr;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    if (!(o = calloc(1, sizeof *o)))
        return E_OUTOFMEMORY;
    o->iface.lpVtbl = &opener_vtbl;
    o->refs = 1;
    InterlockedIncrement(&live_objects);
    hr = IADsOpenDSObject_QueryInterface(&o->iface, riid, ppv);
    IADsOpenDSObject_Release(&o->iface);
    return hr;
}
static HRESULT WINAPI factory_lock(IClassFactory *p, BOOL lock) { return S_OK; }

static const IClassFactoryVtbl factory_vtbl = {
    factory_query, factory_add_ref, factory_release, factory_create, factory_lock,
};
static IClassFactory factory = { &factory_vtbl };

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        module = instance;
    return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv)
{
    if (IsEqualCLSID(rclsid, &CLSID_IisStandin))
        return factory_query(&factory, riid, ppv);
    *ppv = NULL;
    return CLASS_E_CLASSNOTAVAILABLE;
}

HRESULT WINAPI DllCanUnloadNow(void) { return live_objects == 0 ? S_OK : S_FALSE; }

static LSTATUS set_default(HKEY root, const wchar_t *sub, const wchar_t *name, const wchar_t *value)
{
    HKEY key;
    LSTATUS rc = RegCreateKeyExW(root, sub, 0, NULL, 0, KEY_WRITE, NULL, &key, NULL);
    if (rc == ERROR_SUCCESS) {
        rc = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value,
                            (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
        RegCloseKey(key);
    }
    return rc;
}

HRESULT WINAPI DllRegisterServer(void)
{
    wchar_t path[MAX_PATH], clsid[GUID_CHARS + 1], key[128];
    GetModuleFileNameW(module, path, MAX_PATH);
    StringFromGUID2(&CLSID_IisStandin, clsid, GUID_CHARS + 1);
    swprintf(key, 128, L"CLSID\\%ls\\InprocServer32", clsid);
    if (set_default(HKEY_CLASSES_ROOT, key, NULL, path) != ERROR_SUCCESS ||
        set_default(HKEY_CLASSES_ROOT, key, L"ThreadingModel", L"Both") != ERROR_SUCCESS ||
        set_default(HKEY_CLASSES_ROOT, PROGID L"\\CLSID", NULL, clsid) != ERROR_SUCCESS ||
        set_default(HKEY_LOCAL_MACHINE, PROVIDERS_KEY, NULL, PROGID) != ERROR_SUCCESS)
        return SELFREG_E_CLASS;
    return S_OK;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    wchar_t clsid[GUID_CHARS + 1], key[128];
    StringFromGUID2(&CLSID_IisStandin, clsid, GUID_CHARS + 1);
    swprintf(key, 128, L"CLSID\\%ls", clsid);
    RegDeleteTreeW(HKEY_CLASSES_ROOT, key);
    RegDeleteTreeW(HKEY_CLASSES_ROOT, PROGID);
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, PROVIDERS_KEY);
    return S_OK;
}
