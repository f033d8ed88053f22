/* seo_standin: a STAND-IN for Microsoft's Server Extension Objects (SEO),
 * for testing tlsrouter-sinkreg under Wine, which has no SEO. It registers
 * the ProgIDs Event.Manager, Event.ComCat and Event.Util (with class ids of
 * its own) and serves, through IDispatch only, the part of SEO's object
 * model that smtpreg.vbs uses: source types, sources, binding managers,
 * bindings and their property bags. Bindings persist in the registry (under
 * HKCU\Software\TLS Router Tests\SEO Stand-in) only when Binding.Save is
 * called, and every call that changes something is appended to the file
 * named by %TLSROUTER_SEO_STANDIN_LOG%, so a test can check what the tool
 * did. Two SMTP virtual servers exist, #1 and #2. */
#define COBJMACROS
#define CONST_VTABLE
#include <windows.h>
#include <ole2.h>
#include <olectl.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "seo_standin.h"

#define ROOT_KEY L"Software\\TLS Router Tests\\SEO Stand-in"
#define SMTP_SOURCE_TYPE L"{fb65c4dc-e468-11d1-aa67-00c04fa345f6}"
#define SMTP_SOURCE_BASE L"{1b3c0666-e470-11d1-aa67-00c04fa345f6}"
#define MAX_PROPS 16
#define MAX_ITEMS 64
#define GUID_CHARS 39

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);
HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv);
HRESULT WINAPI DllCanUnloadNow(void);
HRESULT WINAPI DllRegisterServer(void);
HRESULT WINAPI DllUnregisterServer(void);

static HMODULE module;
static volatile LONG live_objects;

/* ---- call log ---------------------------------------------------------- */

static void log_call(const wchar_t *fmt, ...)
{
    wchar_t path[MAX_PATH], line[1024];
    char utf8[2048];
    va_list ap;
    FILE *f;
    if (!GetEnvironmentVariableW(L"TLSROUTER_SEO_STANDIN_LOG", path, MAX_PATH))
        return;
    va_start(ap, fmt);
    vswprintf(line, 1024, fmt, ap);
    va_end(ap);
    WideCharToMultiByte(CP_UTF8, 0, line, -1, utf8, sizeof utf8, NULL, NULL);
    f = _wfopen(path, L"ab");
    if (f) {
        fprintf(f, "%s\n", utf8);
        fclose(f);
    }
}

/* ---- registry store ---------------------------------------------------- */

static LSTATUS key_create(const wchar_t *sub, HKEY *key)
{
    wchar_t path[512];
    swprintf(path, 512, L"%ls%ls%ls", ROOT_KEY, sub[0] ? L"\\" : L"", sub);
    return RegCreateKeyExW(HKEY_CURRENT_USER, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, key, NULL);
}

static LSTATUS key_open(const wchar_t *sub, HKEY *key)
{
    wchar_t path[512];
    swprintf(path, 512, L"%ls%ls%ls", ROOT_KEY, sub[0] ? L"\\" : L"", sub);
    return RegOpenKeyExW(HKEY_CURRENT_USER, path, 0, KEY_ALL_ACCESS, key);
}

static void indexed_guid(const wchar_t *base, LONG index, wchar_t *out)
{
    GUID g;
    if (FAILED(CLSIDFromString(base, &g)))
        memset(&g, 0, sizeof g);
    g.Data1 += (unsigned long)index;
    StringFromGUID2(&g, out, GUID_CHARS + 1);
}

/* ---- a generic IDispatch object ---------------------------------------- */

enum kind { K_MANAGER, K_COMCAT, K_UTIL, K_TYPES, K_TYPE, K_SOURCES, K_SOURCE, K_BMANAGER,
            K_BINDINGS, K_BINDING, K_BAG };

/* Every member name of the model; the DISPID is the index + 1. Item is
 * also the default member (DISPID_VALUE). */
static const wchar_t *const names[] = {
    L"Item", L"SourceTypes", L"Sources", L"GetBindingManager", L"Bindings", L"Add", L"Remove",
    L"Count", L"ID", L"DisplayName", L"SinkClass", L"Enabled", L"SourceProperties",
    L"SinkProperties", L"Save", L"GetIndexedGUID", L"GetNewGUID", L"RegisterClassImplementsCategory",
    L"GetCategoryDescription",
};
enum { M_ITEM = 1, M_SOURCETYPES, M_SOURCES, M_GETBM, M_BINDINGS, M_ADD, M_REMOVE, M_COUNT, M_ID,
       M_DISPLAYNAME, M_SINKCLASS, M_ENABLED, M_SOURCEPROPS, M_SINKPROPS, M_SAVE, M_INDEXED, M_NEWGUID,
       M_REGCAT, M_CATDESC };

typedef struct {
    wchar_t name[64];
    VARIANT value;
} prop;

typedef struct {
    volatile LONG refs;
    wchar_t id[GUID_CHARS + 1], source[GUID_CHARS + 1], event[GUID_CHARS + 1];
    wchar_t display[256], sink_class[256];
    BOOL enabled;
    prop props[2][MAX_PROPS]; /* 0: source properties, 1: sink properties */
    int nprops[2];
} binding_data;

typedef struct {
    IDispatch iface;
    volatile LONG refs;
    enum kind kind;
    wchar_t source[GUID_CHARS + 1]; /* K_SOURCE, K_BMANAGER, K_BINDINGS */
    wchar_t event[GUID_CHARS + 1];  /* K_BINDINGS */
    binding_data *binding;          /* K_BINDING, K_BAG */
    int bag;                        /* K_BAG: 0 source, 1 sink */
} sobj;

static binding_data *binding_new(const wchar_t *id, const wchar_t *source, const wchar_t *event)
{
    binding_data *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->refs = 1;
    wcsncpy(b->id, id, GUID_CHARS);
    wcsncpy(b->source, source, GUID_CHARS);
    wcsncpy(b->event, event, GUID_CHARS);
    return b;
}

static void binding_release(binding_data *b)
{
    if (b && InterlockedDecrement(&b->refs) == 0) {
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < b->nprops[k]; i++)
                VariantClear(&b->props[k][i].value);
        free(b);
    }
}

static const IDispatchVtbl sobj_vtbl;

static sobj *sobj_new(enum kind kind)
{
    sobj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->iface.lpVtbl = &sobj_vtbl;
    o->refs = 1;
    o->kind = kind;
    InterlockedIncrement(&live_objects);
    return o;
}

static HRESULT WINAPI sobj_query(IDispatch *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch)) {
        *ppv = p;
        IDispatch_AddRef(p);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sobj_add_ref(IDispatch *p) { return (ULONG)InterlockedIncrement(&((sobj *)p)->refs); }

static ULONG WINAPI sobj_release(IDispatch *p)
{
    sobj *o = (sobj *)p;
    LONG refs = InterlockedDecrement(&o->refs);
    if (refs == 0) {
        binding_release(o->binding);
        free(o);
        InterlockedDecrement(&live_objects);
    }
    return (ULONG)refs;
}

static HRESULT WINAPI sobj_type_info_count(IDispatch *p, UINT *n)
{
    *n = 0;
    return S_OK;
}

static HRESULT WINAPI sobj_type_info(IDispatch *p, UINT i, LCID l, ITypeInfo **t) { return DISP_E_BADINDEX; }

static HRESULT WINAPI sobj_ids(IDispatch *p, REFIID riid, LPOLESTR *in, UINT n, LCID lcid, DISPID *ids)
{
    HRESULT hr = S_OK;
    for (UINT i = 0; i < n; i++) {
        ids[i] = DISPID_UNKNOWN;
        for (size_t k = 0; k < sizeof names / sizeof *names; k++)
            if (_wcsicmp(in[i], names[k]) == 0)
                ids[i] = (DISPID)k + 1;
        if (ids[i] == DISPID_UNKNOWN)
            hr = DISP_E_UNKNOWNNAME;
    }
    return hr;
}

/* ---- results ----------------------------------------------------------- */

static HRESULT ret_object(VARIANT *r, sobj *o)
{
    if (!o)
        return E_OUTOFMEMORY;
    V_VT(r) = VT_DISPATCH;
    V_DISPATCH(r) = &o->iface;
    return S_OK;
}

static HRESULT ret_nothing(VARIANT *r)
{
    V_VT(r) = VT_DISPATCH;
    V_DISPATCH(r) = NULL;
    return S_OK;
}

static HRESULT ret_string(VARIANT *r, const wchar_t *s)
{
    V_VT(r) = VT_BSTR;
    V_BSTR(r) = SysAllocString(s);
    return V_BSTR(r) ? S_OK : E_OUTOFMEMORY;
}

/* The i-th argument in written order, as a string. */
static HRESULT arg_string(DISPPARAMS *d, UINT i, wchar_t *out, size_t len)
{
    VARIANT v;
    HRESULT hr;
    if (!d || i >= d->cArgs)
        return DISP_E_BADPARAMCOUNT;
    VariantInit(&v);
    hr = VariantChangeType(&v, &d->rgvarg[d->cArgs - 1 - i], 0, VT_BSTR);
    if (FAILED(hr))
        return DISP_E_TYPEMISMATCH;
    wcsncpy(out, V_BSTR(&v), len - 1);
    out[len - 1] = L'\0';
    VariantClear(&v);
    return S_OK;
}

static VARIANT *arg_raw(DISPPARAMS *d, UINT i) { return &d->rgvarg[d->cArgs - 1 - i]; }

/* ---- enumerators --------------------------------------------------------- */

typedef struct {
    IEnumVARIANT iface;
    volatile LONG refs;
    VARIANT items[MAX_ITEMS];
    ULONG n, next;
} venum;

static HRESULT WINAPI venum_query(IEnumVARIANT *p, REFIID riid, void **ppv)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IEnumVARIANT)) {
        *ppv = p;
        IEnumVARIANT_AddRef(p);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI venum_add_ref(IEnumVARIANT *p) { return (ULONG)InterlockedIncrement(&((venum *)p)->refs); }
static ULONG WINAPI venum_release(IEnumVARIANT *p)
{
    venum *e = (venum *)p;
    LONG refs = InterlockedDecrement(&e->refs);
    if (refs == 0) {
        for (ULONG i = 0; i < e->n; i++)
            VariantClear(&e->items[i]);
        free(e);
        InterlockedDecrement(&live_objects);
    }
    return (ULONG)refs;
}
static HRESULT WINAPI venum_next(IEnumVARIANT *p, ULONG count, VARIANT *out, ULONG *fetched)
{
    venum *e = (venum *)p;
    ULONG got = 0;
    while (got < count && e->next < e->n) {
        VariantInit(&out[got]);
        VariantCopy(&out[got++], &e->items[e->next++]);
    }
    if (fetched)
        *fetched = got;
    return got == count ? S_OK : S_FALSE;
}
static HRESULT WINAPI venum_skip(IEnumVARIANT *p, ULONG count)
{
    venum *e = (venum *)p;
    e->next = e->next + count > e->n ? e->n : e->next + count;
    return e->next < e->n ? S_OK : S_FALSE;
}
static HRESULT WINAPI venum_reset(IEnumVARIANT *p)
{
    ((venum *)p)->next = 0;
    return S_OK;
}
static HRESULT WINAPI venum_clone(IEnumVARIANT *p, IEnumVARIANT **out) { return E_NOTIMPL; }

static const IEnumVARIANTVtbl venum_vtbl = {
    venum_query, venum_add_ref, venum_release, venum_next, venum_skip, venum_reset, venum_clone,
};

static venum *venum_new(void)
{
    venum *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->iface.lpVtbl = &venum_vtbl;
    e->refs = 1;
    InterlockedIncrement(&live_objects);
    return e;
}

static HRESULT ret_enum(VARIANT *r, venum *e)
{
    if (!e)
        return E_OUTOFMEMORY;
    V_VT(r) = VT_UNKNOWN;
    V_UNKNOWN(r) = (IUnknown *)&e->iface;
    return S_OK;
}

/* Subkey names of a store key, as strings or as objects made by make. */
static venum *enum_subkeys(const wchar_t *sub, sobj *(*make)(const wchar_t *name, void *arg), void *arg)
{
    venum *e = venum_new();
    HKEY key;
    wchar_t name[256];
    if (!e || key_open(sub, &key) != ERROR_SUCCESS)
        return e;
    for (DWORD i = 0; e->n < MAX_ITEMS; i++) {
        DWORD len = 256;
        if (RegEnumKeyExW(key, i, name, &len, NULL, NULL, NULL, NULL) != ERROR_SUCCESS)
            break;
        sobj *o = make(name, arg);
        if (o) {
            V_VT(&e->items[e->n]) = VT_DISPATCH;
            V_DISPATCH(&e->items[e->n++]) = &o->iface;
        }
    }
    RegCloseKey(key);
    return e;
}

/* ---- the model ----------------------------------------------------------- */

static sobj *make_source(const wchar_t *guid, void *arg)
{
    sobj *o = sobj_new(K_SOURCE);
    if (o)
        wcsncpy(o->source, guid, GUID_CHARS);
    return o;
}

static int source_exists(const wchar_t *guid)
{
    HKEY key;
    wchar_t sub[128];
    swprintf(sub, 128, L"Sources\\%ls", guid);
    if (key_open(sub, &key) != ERROR_SUCCESS)
        return 0;
    RegCloseKey(key);
    return 1;
}

static void binding_key(const binding_data *b, wchar_t *sub, size_t len)
{
    swprintf(sub, len, L"Bindings\\%ls\\%ls\\%ls", b->source, b->event, b->id);
}

static void save_prop(HKEY key, const prop *p)
{
    VARIANT v;
    VariantInit(&v);
    if (V_VT(&p->value) == VT_I4 || V_VT(&p->value) == VT_I2) {
        DWORD d = V_VT(&p->value) == VT_I4 ? (DWORD)V_I4(&p->value) : (DWORD)V_I2(&p->value);
        RegSetValueExW(key, p->name, 0, REG_DWORD, (const BYTE *)&d, sizeof d);
    } else if (SUCCEEDED(VariantChangeType(&v, (VARIANT *)&p->value, 0, VT_BSTR))) {
        RegSetValueExW(key, p->name, 0, REG_SZ, (const BYTE *)V_BSTR(&v),
                       (DWORD)((wcslen(V_BSTR(&v)) + 1) * sizeof(wchar_t)));
    }
    VariantClear(&v);
}

static HRESULT binding_save(binding_data *b)
{
    wchar_t sub[256];
    HKEY key, bag;
    DWORD enabled = (DWORD)b->enabled;
    binding_key(b, sub, 256);
    if (key_create(sub, &key) != ERROR_SUCCESS)
        return E_FAIL;
    RegDeleteTreeW(key, L"Source");
    RegDeleteTreeW(key, L"Sink");
    RegSetValueExW(key, L"DisplayName", 0, REG_SZ, (const BYTE *)b->display,
                   (DWORD)((wcslen(b->display) + 1) * sizeof(wchar_t)));
    RegSetValueExW(key, L"SinkClass", 0, REG_SZ, (const BYTE *)b->sink_class,
                   (DWORD)((wcslen(b->sink_class) + 1) * sizeof(wchar_t)));
    RegSetValueExW(key, L"Enabled", 0, REG_DWORD, (const BYTE *)&enabled, sizeof enabled);
    for (int k = 0; k < 2; k++) {
        if (RegCreateKeyExW(key, k ? L"Sink" : L"Source", 0, NULL, 0, KEY_ALL_ACCESS, NULL, &bag,
                            NULL) != ERROR_SUCCESS)
            continue;
        for (int i = 0; i < b->nprops[k]; i++)
            save_prop(bag, &b->props[k][i]);
        RegCloseKey(bag);
    }
    RegCloseKey(key);
    log_call(L"Binding.Save %ls %ls \"%ls\" %ls", b->source, b->id, b->display, b->sink_class);
    return S_OK;
}

static void load_bag(HKEY key, const wchar_t *name, binding_data *b, int k)
{
    HKEY bag;
    if (RegOpenKeyExW(key, name, 0, KEY_READ, &bag) != ERROR_SUCCESS)
        return;
    for (DWORD i = 0; b->nprops[k] < MAX_PROPS; i++) {
        prop *p = &b->props[k][b->nprops[k]];
        BYTE data[1024];
        DWORD nlen = 64, dlen = sizeof data - 2, type;
        if (RegEnumValueW(bag, i, p->name, &nlen, NULL, &type, data, &dlen) != ERROR_SUCCESS)
            break;
        VariantInit(&p->value);
        if (type == REG_DWORD) {
            V_VT(&p->value) = VT_I4;
            V_I4(&p->value) = (LONG) * (DWORD *)data;
        } else {
            data[dlen] = data[dlen + 1] = 0;
            V_VT(&p->value) = VT_BSTR;
            V_BSTR(&p->value) = SysAllocString((wchar_t *)data);
        }
        b->nprops[k]++;
    }
    RegCloseKey(bag);
}

static binding_data *binding_load(const wchar_t *source, const wchar_t *event, const wchar_t *id)
{
    binding_data *b = binding_new(id, source, event);
    wchar_t sub[256];
    HKEY key;
    DWORD len, enabled = 0;
    if (!b)
        return NULL;
    binding_key(b, sub, 256);
    if (key_open(sub, &key) != ERROR_SUCCESS) {
        binding_release(b);
        return NULL;
    }
    len = sizeof b->display;
    RegGetValueW(key, NULL, L"DisplayName", RRF_RT_REG_SZ, NULL, b->display, &len);
    len = sizeof b->sink_class;
    RegGetValueW(key, NULL, L"SinkClass", RRF_RT_REG_SZ, NULL, b->sink_class, &len);
    len = sizeof enabled;
    RegGetValueW(key, NULL, L"Enabled", RRF_RT_REG_DWORD, NULL, &enabled, &len);
    b->enabled = enabled != 0;
    load_bag(key, L"Source", b, 0);
    load_bag(key, L"Sink", b, 1);
    RegCloseKey(key);
    return b;
}

static sobj *binding_object(binding_data *b)
{
    sobj *o = b ? sobj_new(K_BINDING) : NULL;
    if (o)
        o->binding = b;
    else
        binding_release(b);
    return o;
}

typedef struct {
    const wchar_t *source, *event;
} bindings_ref;

static sobj *make_binding(const wchar_t *id, void *arg)
{
    bindings_ref *r = arg;
    return binding_object(binding_load(r->source, r->event, id));
}

static prop *bag_find(binding_data *b, int k, const wchar_t *name)
{
    for (int i = 0; i < b->nprops[k]; i++)
        if (_wcsicmp(b->props[k][i].name, name) == 0)
            return &b->props[k][i];
    return NULL;
}

static HRESULT invoke_bag(sobj *o, DISPID id, DISPPARAMS *d, VARIANT *r)
{
    binding_data *b = o->binding;
    wchar_t name[64];
    prop *p;
    HRESULT hr;
    switch (id) {
    case M_ADD:
        if (FAILED(hr = arg_string(d, 0, name, 64)) || d->cArgs != 2)
            return FAILED(hr) ? hr : DISP_E_BADPARAMCOUNT;
        p = bag_find(b, o->bag, name);
        if (!p) {
            if (b->nprops[o->bag] == MAX_PROPS)
                return E_OUTOFMEMORY;
            p = &b->props[o->bag][b->nprops[o->bag]++];
            wcsncpy(p->name, name, 63);
            VariantInit(&p->value);
        }
        return VariantCopy(&p->value, arg_raw(d, 1));
    case M_ITEM:
    case DISPID_VALUE:
        if (FAILED(hr = arg_string(d, 0, name, 64)))
            return hr;
        p = bag_find(b, o->bag, name);
        if (!p)
            return S_OK; /* Empty, as SEO answers for a missing property */
        return VariantCopy(r, &p->value);
    case M_COUNT:
        V_VT(r) = VT_I4;
        V_I4(r) = b->nprops[o->bag];
        return S_OK;
    case DISPID_NEWENUM: {
        venum *e = venum_new();
        for (int i = 0; e && i < b->nprops[o->bag]; i++) {
            V_VT(&e->items[e->n]) = VT_BSTR;
            V_BSTR(&e->items[e->n++]) = SysAllocString(b->props[o->bag][i].name);
        }
        return ret_enum(r, e);
    }
    default:
        return DISP_E_MEMBERNOTFOUND;
    }
}

static HRESULT put_text(DISPPARAMS *d, wchar_t *field, size_t len) { return arg_string(d, 0, field, len); }

static HRESULT invoke_binding(sobj *o, DISPID id, WORD flags, DISPPARAMS *d, VARIANT *r)
{
    binding_data *b = o->binding;
    VARIANT v;
    sobj *bag;
    int put = (flags & DISPATCH_PROPERTYPUT) != 0;
    switch (id) {
    case M_ID:
        return ret_string(r, b->id);
    case M_DISPLAYNAME:
        return put ? put_text(d, b->display, 256) : ret_string(r, b->display);
    case M_SINKCLASS:
        return put ? put_text(d, b->sink_class, 256) : ret_string(r, b->sink_class);
    case M_ENABLED:
        if (!put) {
            V_VT(r) = VT_BOOL;
            V_BOOL(r) = b->enabled ? VARIANT_TRUE : VARIANT_FALSE;
            return S_OK;
        }
        VariantInit(&v);
        if (FAILED(VariantChangeType(&v, arg_raw(d, 0), 0, VT_BOOL)))
            return DISP_E_TYPEMISMATCH;
        b->enabled = V_BOOL(&v) != VARIANT_FALSE;
        return S_OK;
    case M_SOURCEPROPS:
    case M_SINKPROPS:
        bag = sobj_new(K_BAG);
        if (bag) {
            bag->binding = b;
            InterlockedIncrement(&b->refs);
            bag->bag = id == M_SINKPROPS;
        }
        return ret_object(r, bag);
    case M_SAVE:
        return binding_save(b);
    default:
        return DISP_E_MEMBERNOTFOUND;
    }
}

static HRESULT invoke_bindings(sobj *o, DISPID id, DISPPARAMS *d, VARIANT *r)
{
    wchar_t guid[64], sub[256];
    bindings_ref ref = { o->source, o->event };
    HRESULT hr;
    switch (id) {
    case M_ADD:
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        log_call(L"Bindings.Add %ls %ls %ls", o->source, o->event, guid);
        return ret_object(r, binding_object(binding_new(guid, o->source, o->event)));
    case M_REMOVE:
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        swprintf(sub, 256, L"%ls\\Bindings\\%ls\\%ls\\%ls", ROOT_KEY, o->source, o->event, guid);
        log_call(L"Bindings.Remove %ls %ls %ls", o->source, o->event, guid);
        return RegDeleteTreeW(HKEY_CURRENT_USER, sub) == ERROR_SUCCESS ? S_OK : E_INVALIDARG;
    case M_ITEM:
    case DISPID_VALUE:
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        {
            sobj *b = binding_object(binding_load(o->source, o->event, guid));
            return b ? ret_object(r, b) : ret_nothing(r);
        }
    case DISPID_NEWENUM:
        swprintf(sub, 256, L"Bindings\\%ls\\%ls", o->source, o->event);
        return ret_enum(r, enum_subkeys(sub, make_binding, &ref));
    default:
        return DISP_E_MEMBERNOTFOUND;
    }
}

static HRESULT invoke_util(DISPID id, DISPPARAMS *d, VARIANT *r)
{
    wchar_t base[64], out[GUID_CHARS + 1];
    VARIANT n;
    GUID g;
    HRESULT hr;
    if (id == M_NEWGUID) {
        CoCreateGuid(&g);
        StringFromGUID2(&g, out, GUID_CHARS + 1);
        return ret_string(r, out);
    }
    if (id != M_INDEXED)
        return DISP_E_MEMBERNOTFOUND;
    if (FAILED(hr = arg_string(d, 0, base, 64)) || d->cArgs != 2)
        return FAILED(hr) ? hr : DISP_E_BADPARAMCOUNT;
    VariantInit(&n);
    if (FAILED(VariantChangeType(&n, arg_raw(d, 1), 0, VT_I4)))
        return DISP_E_TYPEMISMATCH;
    indexed_guid(base, V_I4(&n), out);
    log_call(L"Util.GetIndexedGUID %ls %ld", base, (long)V_I4(&n));
    return ret_string(r, out);
}

/* Like SEO's: the sink class must be registered; the category is recorded
 * under the class's Implemented Categories. */
static HRESULT invoke_comcat(DISPID id, DISPPARAMS *d, VARIANT *r)
{
    wchar_t progid[256], catid[64], clsid_text[GUID_CHARS + 1], key[256];
    CLSID clsid;
    HKEY k;
    HRESULT hr;
    if (id == M_CATDESC)
        return ret_string(r, L"SMTP OnTransportSubmission/OnArrival");
    if (id != M_REGCAT)
        return DISP_E_MEMBERNOTFOUND;
    if (FAILED(hr = arg_string(d, 0, progid, 256)) || FAILED(hr = arg_string(d, 1, catid, 64)))
        return hr;
    log_call(L"ComCat.RegisterClassImplementsCategory %ls %ls", progid, catid);
    if (FAILED(hr = CLSIDFromProgID(progid, &clsid)))
        return hr;
    StringFromGUID2(&clsid, clsid_text, GUID_CHARS + 1);
    swprintf(key, 256, L"CLSID\\%ls\\Implemented Categories\\%ls", clsid_text, catid);
    if (RegCreateKeyExW(HKEY_CLASSES_ROOT, key, 0, NULL, 0, KEY_WRITE, NULL, &k, NULL) != ERROR_SUCCESS)
        return E_FAIL;
    RegCloseKey(k);
    return S_OK;
}

static HRESULT WINAPI sobj_invoke(IDispatch *p, DISPID id, REFIID riid, LCID lcid, WORD flags,
                                  DISPPARAMS *d, VARIANT *r, EXCEPINFO *ei, UINT *arg_err)
{
    sobj *o = (sobj *)p, *child;
    wchar_t guid[64];
    VARIANT scratch;
    HRESULT hr;
    if (!r)
        r = &scratch;
    VariantInit(r);
    switch (o->kind) {
    case K_MANAGER:
        return id == M_SOURCETYPES ? ret_object(r, sobj_new(K_TYPES)) : DISP_E_MEMBERNOTFOUND;
    case K_TYPES:
        if (id != M_ITEM && id != DISPID_VALUE)
            return DISP_E_MEMBERNOTFOUND;
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        return _wcsicmp(guid, SMTP_SOURCE_TYPE) == 0 ? ret_object(r, sobj_new(K_TYPE)) : ret_nothing(r);
    case K_TYPE:
        return id == M_SOURCES ? ret_object(r, sobj_new(K_SOURCES)) : DISP_E_MEMBERNOTFOUND;
    case K_SOURCES:
        if (id == DISPID_NEWENUM)
            return ret_enum(r, enum_subkeys(L"Sources", make_source, NULL));
        if (id != M_ITEM && id != DISPID_VALUE)
            return DISP_E_MEMBERNOTFOUND;
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        return source_exists(guid) ? ret_object(r, make_source(guid, NULL)) : ret_nothing(r);
    case K_SOURCE:
        if (id == M_ID)
            return ret_string(r, o->source);
        if (id == M_DISPLAYNAME) {
            wchar_t sub[128], name[128] = L"";
            DWORD len = sizeof name;
            swprintf(sub, 128, L"%ls\\Sources\\%ls", ROOT_KEY, o->source);
            RegGetValueW(HKEY_CURRENT_USER, sub, L"DisplayName", RRF_RT_REG_SZ, NULL, name, &len);
            return ret_string(r, name);
        }
        if (id != M_GETBM)
            return DISP_E_MEMBERNOTFOUND;
        child = sobj_new(K_BMANAGER);
        if (child)
            wcscpy(child->source, o->source);
        return ret_object(r, child);
    case K_BMANAGER:
        if (id != M_BINDINGS)
            return DISP_E_MEMBERNOTFOUND;
        if (FAILED(hr = arg_string(d, 0, guid, 64)))
            return hr;
        child = sobj_new(K_BINDINGS);
        if (child) {
            wcscpy(child->source, o->source);
            wcsncpy(child->event, guid, GUID_CHARS);
        }
        return ret_object(r, child);
    case K_BINDINGS:
        return invoke_bindings(o, id, d, r);
    case K_BINDING:
        return invoke_binding(o, id, flags, d, r);
    case K_BAG:
        return invoke_bag(o, id, d, r);
    case K_UTIL:
        return invoke_util(id, d, r);
    case K_COMCAT:
        return invoke_comcat(id, d, r);
    }
    return DISP_E_MEMBERNOTFOUND;
}

static const IDispatchVtbl sobj_vtbl = {
    sobj_query, sobj_add_ref, sobj_release, sobj_type_info_count, sobj_type_info, sobj_ids, sobj_invoke,
};

/* ---- class factory and registration ------------------------------------ */

typedef struct {
    IClassFactory iface;
    enum kind kind;
} factory;

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
    sobj *o;
    HRESULT hr;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    o = sobj_new(((factory *)p)->kind);
    if (!o)
        return E_OUTOFMEMORY;
    hr = IDispatch_QueryInterface(&o->iface, riid, ppv);
    IDispatch_Release(&o->iface);
    return hr;
}
static HRESULT WINAPI factory_lock(IClassFactory *p, BOOL lock) { return S_OK; }

static const IClassFactoryVtbl factory_vtbl = {
    factory_query, factory_add_ref, factory_release, factory_create, factory_lock,
};

static factory factories[] = {
    { { &factory_vtbl }, K_MANAGER },
    { { &factory_vtbl }, K_COMCAT },
    { { &factory_vtbl }, K_UTIL },
};
static const wchar_t *const progids[] = { L"Event.Manager", L"Event.ComCat", L"Event.Util" };
static const CLSID *const clsids[] = { &CLSID_SeoStandinManager, &CLSID_SeoStandinComCat,
                                        &CLSID_SeoStandinUtil };

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        module = instance;
    return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv)
{
    for (int i = 0; i < 3; i++)
        if (IsEqualCLSID(rclsid, clsids[i]))
            return factory_query(&factories[i].iface, riid, ppv);
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
    wchar_t path[MAX_PATH], clsid[GUID_CHARS + 1], key[128], guid[GUID_CHARS + 1], name[64];
    HKEY k;
    GetModuleFileNameW(module, path, MAX_PATH);
    for (int i = 0; i < 3; i++) {
        StringFromGUID2(clsids[i], clsid, GUID_CHARS + 1);
        swprintf(key, 128, L"CLSID\\%ls\\InprocServer32", clsid);
        swprintf(name, 64, L"%ls\\CLSID", progids[i]);
        if (set_default(HKEY_CLASSES_ROOT, key, NULL, path) != ERROR_SUCCESS ||
            set_default(HKEY_CLASSES_ROOT, key, L"ThreadingModel", L"Both") != ERROR_SUCCESS ||
            set_default(HKEY_CLASSES_ROOT, name, NULL, clsid) != ERROR_SUCCESS)
            return SELFREG_E_CLASS;
    }
    /* Two SMTP virtual servers, as a box with a TLS and a Plain server has. */
    for (LONG n = 1; n <= 2; n++) {
        indexed_guid(SMTP_SOURCE_BASE, n, guid);
        swprintf(key, 128, L"Sources\\%ls", guid);
        swprintf(name, 64, L"SMTP Virtual Server #%ld", (long)n);
        if (key_create(key, &k) != ERROR_SUCCESS)
            return SELFREG_E_CLASS;
        RegSetValueExW(k, L"DisplayName", 0, REG_SZ, (const BYTE *)name,
                       (DWORD)((wcslen(name) + 1) * sizeof(wchar_t)));
        RegCloseKey(k);
    }
    return S_OK;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    wchar_t clsid[GUID_CHARS + 1], key[128];
    for (int i = 0; i < 3; i++) {
        StringFromGUID2(clsids[i], clsid, GUID_CHARS + 1);
        swprintf(key, 128, L"CLSID\\%ls", clsid);
        RegDeleteTreeW(HKEY_CLASSES_ROOT, key);
        RegDeleteTreeW(HKEY_CLASSES_ROOT, progids[i]);
    }
    RegDeleteTreeW(HKEY_CURRENT_USER, ROOT_KEY);
    return S_OK;
}
